# tools/sched/sched.mk - the controlled build of the core and its scheduler.
#
#   $(B)/libvms-sched.a    the core compiled with -DVMS_SCHED (sched.c takes
#                          over every scheduling point of sync.h) and
#                          -DVMS_POISON (freed frames poisoned, the run-time
#                          invariant checks on) and -DVMS_FAULTS (allocations
#                          fail on demand, per virtual thread), from
#                          $(B)/obj-sched/ (the sched row of core/core.mk;
#                          a BUG= build compiles only the bug's file)
#   $(B)/libvmt-sched.a    the policies (replay, random, PCT) and traces
#   $(B)/vmtorture-sched   the controlled executor of multi-thread programs
#                          (tools/sched/exec_mt.c) and its command line
#   make sched-tests       tests/sched/ against the controlled core, in this
#                          build (SAN= or SAN=asan; not tsan)
#   make sched-tests-all   the plain and the asan build (part of `make test`)
#   make sched-bugcheck    planted bugs the sched tests must report (in
#                          `make test`, about 30 s)
#   make bench-sched       controlled executions/s, plain and asan builds
#                          (bench/sched_bench.c; SCHED_BENCH_ARGS=...)
#   make mt-check          multi-thread programs: the scenarios of corpora/mt
#                          replay exactly, explorations find nothing, every
#                          planted sched bug is found (in `make test`)
#   make min-check         joint minimization and the thread-column report
#                          of two planted sched bugs' findings (in `make
#                          test`); make min-check-all: every sched bug,
#                          replayed 1000 times (the figures of docs/sched.md)
#   make bugcheck-sched    runs to the first finding of every sched bug
#   make bench-sched-mt    executions/s of the scenarios, and the time split
#   make sched-soak        SOAK_SECONDS of exploration on the correct core
#
# The controlled build runs its threads as user-level contexts on one OS
# thread (x86-64); it needs no liburcu (grace periods are simulated) and
# supports neither TSan nor MSan.

SCHED_POLICY_SRCS := tools/sched/policy.c
SCHED_POLICY_LIB := $(B)/libvmt-sched.a

$(SCHED_POLICY_LIB): $(SCHED_POLICY_SRCS:%.c=$(B)/obj-sched/%.o)
	@mkdir -p $(dir $@)
	rm -f $@
	$(AR) rcs $@ $^

# The controlled executor and its command line (vmtorture-sched, which
# `vmtorture sched` and `vmtorture replay` of multi-thread programs run):
# the op module and the model compiled again for this build.
# None of it changes with a planted bug: a BUG= build links the library
# of its sanitizer build (build/ or build/asan/) with its own core.
SCHED_EXEC_SRCS := tools/sched/sched_cli.c tools/sched/exec_mt.c tools/sched/mt_min.c tools/sched/mt_table.c $(OP_SRCS) $(MODEL_SRCS)
SCHED_EXEC_LIB := build$(if $(SAN),/$(SAN))/libvmt-exec-sched.a
SCHED_CLI_BIN := $(B)/vmtorture-sched

ifeq ($(BUG),)
$(SCHED_EXEC_LIB): $(SCHED_EXEC_SRCS:%.c=$(B)/obj-sched/%.o)
	@mkdir -p $(dir $@)
	rm -f $@
	$(AR) rcs $@ $^
else
.PHONY: $(SCHED_EXEC_LIB)
$(SCHED_EXEC_LIB):
	@$(MAKE) --no-print-directory BUG= $@
endif

$(SCHED_CLI_BIN): $(SCHED_EXEC_LIB) $(SCHED_POLICY_LIB) $(CORE_LIB_sched)
	@mkdir -p $(dir $@)
	$(CC) $(BASE_LDFLAGS) $(LDFLAGS) $^ $(LDLIBS) -o $@

# The shipped multi-thread scenarios, encoded like corpora/seq.
MT_DIR := corpora/mt
MT_OUT := build/corpora/mt
MT_SEEDS := $(patsubst $(MT_DIR)/%.txt,$(MT_OUT)/%,$(wildcard $(MT_DIR)/*.txt))

$(MT_OUT)/%: $(MT_DIR)/%.txt $(VMT_CLI_BIN)
	@mkdir -p $(dir $@)
	@$(VMT_CLI_BIN) encode $< -o $@.tmp -f && mv -f $@.tmp $@ || { rm -f $@.tmp; exit 1; }

# The unit-test runner and helpers, compiled against the controlled core.
SCHED_TEST_SRCS := $(wildcard tests/sched/*.c) tests/runner.c tests/helpers.c tests/peek.c
SCHED_TEST_BIN := $(B)/tests/run_sched_tests

$(SCHED_TEST_BIN): $(SCHED_TEST_SRCS:%.c=$(B)/obj-sched/%.o) $(SCHED_POLICY_LIB) $(CORE_LIB_sched)
	@mkdir -p $(dir $@)
	$(CC) $(BASE_LDFLAGS) $(LDFLAGS) $^ $(LDLIBS) -o $@

SCHED_BENCH_BIN := $(B)/bench/vms-sched-bench
SCHED_BENCH_ARGS ?=

$(SCHED_BENCH_BIN): $(B)/obj-sched/bench/sched_bench.o $(SCHED_POLICY_LIB) $(CORE_LIB_sched)
	@mkdir -p $(dir $@)
	$(CC) $(BASE_LDFLAGS) $(LDFLAGS) $^ $(LDLIBS) -o $@

ifeq ($(filter tsan msan,$(SAN)),)
all: $(CORE_LIB_sched) $(SCHED_POLICY_LIB) $(SCHED_TEST_BIN) $(SCHED_BENCH_BIN) $(SCHED_CLI_BIN)
endif

.PHONY: sched-tests sched-tests-all sched-bugcheck mt-seeds mt-check bugcheck-sched
mt-seeds: $(MT_SEEDS)

# The controlled executor: replays, a short exploration, the planted-bug
# smoke (tools/sched/mt-check.sh; in `make test`).
mt-check: $(MT_SEEDS) $(VMT_CLI_BIN) $(SCHED_CLI_BIN)
	+bash tools/sched/mt-check.sh

# SOAK_SECONDS (1800) of vmtorture sched over the scenarios on the correct
# core (tools/sched/soak.sh; not in `make test`).
SOAK_SECONDS ?= 1800
.PHONY: sched-soak
sched-soak: $(MT_SEEDS) $(VMT_CLI_BIN) $(SCHED_CLI_BIN)
	bash tools/sched/soak.sh $(SOAK_SECONDS)

# Runs to the first finding of every planted concurrency bug, random and
# PCT, 5 seeds (tools/sched/bugcheck.sh; not in `make test`).
bugcheck-sched: $(MT_SEEDS) $(VMT_CLI_BIN) $(SCHED_CLI_BIN)
	+bash tools/sched/bugcheck.sh

sched-tests: $(SCHED_TEST_BIN)
	$(SAN_ENV) $(SCHED_TEST_BIN) $(TESTS_FILTER)

sched-tests-all:
	$(call each_san,sched-tests,plain asan)

sched-bugcheck:
	+bash tests/sched/bugcheck.sh

# Not part of `make test`: controlled executions/s of the shipped
# scenarios and where their time goes, plain then ASan+UBSan.
.PHONY: bench-sched-mt bench-sched-mt-here
bench-sched-mt-here: $(SCHED_CLI_BIN)
	$(SAN_ENV) $(SCHED_CLI_BIN) bench --runs 3000 --reps 5 $(wildcard $(MT_DIR)/*.txt)
	$(SAN_ENV) bash tools/sched/profile.sh $(SCHED_CLI_BIN)

bench-sched-mt:
	$(call each_san,bench-sched-mt-here,plain asan)

# Not part of `make test`: timings. Plain then ASan+UBSan, one after the other.
.PHONY: bench-sched bench-sched-here
bench-sched-here: $(SCHED_BENCH_BIN)
	$(SAN_ENV) $(SCHED_BENCH_BIN) $(SCHED_BENCH_ARGS)

bench-sched:
	$(call each_san,bench-sched-here,plain asan)

# Findings of planted bugs minimized, checked 1-minimal, replayed, and
# reported one column per thread (tools/sched/min-check.sh).
.PHONY: min-check min-check-all
min-check: $(VMT_CLI_BIN) $(SCHED_CLI_BIN)
	+bash tools/sched/min-check.sh 100

min-check-all: $(VMT_CLI_BIN) $(SCHED_CLI_BIN)
	+bash tools/sched/min-check.sh 1000 $$(scripts/bugs.sh list sched)

test-suites: sched-tests-all sched-bugcheck mt-check min-check
