# tools/sched/sched.mk - the controlled build of the core and its scheduler.
#
#   $(B)/libvms-sched.a    the core compiled with -DVMS_SCHED (sched.c takes
#                          over every scheduling point of sync.h) and
#                          -DVMS_POISON (freed frames poisoned, the run-time
#                          invariant checks on) and -DVMS_FAULTS (allocations
#                          fail on demand, per virtual thread), from
#                          $(B)/obj-sched/
#   $(B)/libvmt-sched.a    the policies (replay, random, PCT) and traces
#   make sched-tests       tests/sched/ against the controlled core, in this
#                          build (SAN= or SAN=asan; not tsan)
#   make sched-tests-all   the plain and the asan build (part of `make test`)
#   make sched-bugcheck    planted bugs the sched tests must report (in
#                          `make test`, about 30 s)
#   make bench-sched       controlled executions/s, plain and asan builds
#                          (bench/sched_bench.c; SCHED_BENCH_ARGS=...)
#
# The controlled build runs its threads as user-level contexts on one OS
# thread (x86-64); it needs no liburcu (grace periods are simulated) and
# supports neither TSan nor MSan.

SCHED_CFLAGS := -DVMS_SCHED=1 -DVMS_POISON=1 -DVMS_FAULTS=1
SCHED_CORE_OBJS := $(CORE_SRCS:%.c=$(B)/obj-sched/%.o)
SCHED_CORE_LIB := $(B)/libvms-sched.a

$(B)/obj-sched/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) -Itools/sched -Itests -Ibench $(CFLAGS) $(EXTRA_CFLAGS) $(SCHED_CFLAGS) -c $< -o $@

$(SCHED_CORE_LIB): $(SCHED_CORE_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@
	$(AR) rcs $@ $^

SCHED_POLICY_SRCS := tools/sched/policy.c
SCHED_POLICY_LIB := $(B)/libvmt-sched.a

$(SCHED_POLICY_LIB): $(SCHED_POLICY_SRCS:%.c=$(B)/obj-sched/%.o)
	@mkdir -p $(dir $@)
	rm -f $@
	$(AR) rcs $@ $^

# The unit-test runner and helpers, compiled against the controlled core.
SCHED_TEST_SRCS := $(wildcard tests/sched/*.c) tests/runner.c tests/helpers.c
SCHED_TEST_BIN := $(B)/tests/run_sched_tests

$(SCHED_TEST_BIN): $(SCHED_TEST_SRCS:%.c=$(B)/obj-sched/%.o) $(SCHED_POLICY_LIB) $(SCHED_CORE_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(BASE_LDFLAGS) $(LDFLAGS) $^ $(LDLIBS) -o $@

SCHED_BENCH_BIN := $(B)/bench/vms-sched-bench
SCHED_BENCH_ARGS ?=

$(SCHED_BENCH_BIN): $(B)/obj-sched/bench/sched_bench.o $(SCHED_POLICY_LIB) $(SCHED_CORE_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(BASE_LDFLAGS) $(LDFLAGS) $^ $(LDLIBS) -o $@

ifeq ($(filter tsan msan,$(SAN)),)
all: $(SCHED_CORE_LIB) $(SCHED_POLICY_LIB) $(SCHED_TEST_BIN) $(SCHED_BENCH_BIN)
endif

.PHONY: sched-tests sched-tests-all sched-bugcheck
sched-tests: $(SCHED_TEST_BIN)
	$(SAN_ENV) $(SCHED_TEST_BIN) $(TESTS_FILTER)

sched-tests-all:
	@rc=0; \
	$(MAKE) --no-print-directory SAN= sched-tests || rc=1; \
	$(MAKE) --no-print-directory SAN=asan sched-tests || rc=1; \
	exit $$rc

sched-bugcheck:
	bash tests/sched/bugcheck.sh

# Not part of `make test`: timings. Plain then ASan+UBSan, one after the other.
.PHONY: bench-sched bench-sched-here
bench-sched-here: $(SCHED_BENCH_BIN)
	$(SAN_ENV) $(SCHED_BENCH_BIN) $(SCHED_BENCH_ARGS)

bench-sched:
	$(MAKE) --no-print-directory SAN= bench-sched-here
	$(MAKE) --no-print-directory SAN=asan bench-sched-here

test-suites: sched-tests-all sched-bugcheck
