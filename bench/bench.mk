# bench/bench.mk - libvms benchmarks, fine-grained core vs a global-lock core.
#
#   make bench                 build both binaries, run them interleaved, print
#                              medians and ratios, then where a session's CPU
#                              time goes (perf profile; about a minute)
#   make bench BENCH_REPS=15 BENCH_TIME_MS=500   more, longer repetitions
#   make bench BENCH_BOOST=0   do not raise the benchmarks' priority
#   make bench-build           only build $(B)/bench/vms-bench{,-global}
# See bench/README.md for the figures.
#
# vms-bench-global links a second copy of the core compiled with
# -DVMS_GLOBAL_LOCK (every cursor holds one process-wide lock), from its own
# object directory so that the two builds never share an object file.
# Not part of `make test` or `all`: timings are only meaningful in the
# default (unsanitized) build on a quiet machine.

BENCH_REPS ?= 9
BENCH_TIME_MS ?= 300
BENCH_BOOST ?= 1

BENCH_SRCS := bench/bench.c
BENCH_BIN := $(B)/bench/vms-bench
BENCH_GLOBAL_BIN := $(B)/bench/vms-bench-global

# bench.c is compiled in both object trees, so that each binary can name
# the build it measures (the global row of core/core.mk).
BENCH_OBJS := $(BENCH_SRCS:%.c=$(B)/obj/%.o)
BENCH_GLOBAL_OBJS := $(BENCH_SRCS:%.c=$(B)/obj-global/%.o)

$(BENCH_BIN): $(BENCH_OBJS) $(B)/libvms.a
	@mkdir -p $(dir $@)
	$(CC) $(BASE_LDFLAGS) $(LDFLAGS) $(BENCH_OBJS) $(B)/libvms.a $(URCU_LIBS) $(LDLIBS) -o $@

$(BENCH_GLOBAL_BIN): $(BENCH_GLOBAL_OBJS) $(CORE_LIB_global)
	@mkdir -p $(dir $@)
	$(CC) $(BASE_LDFLAGS) $(LDFLAGS) $(BENCH_GLOBAL_OBJS) $(CORE_LIB_global) $(URCU_LIBS) $(LDLIBS) -o $@

.PHONY: bench bench-build
bench-build: $(BENCH_BIN) $(BENCH_GLOBAL_BIN)

bench: bench-build
	@if [ -n "$(SAN)$(BUG)" ]; then \
		echo "bench: warning: SAN=$(SAN) BUG=$(BUG) build, timings are not representative" >&2; fi
	bash bench/compare.sh --reps $(BENCH_REPS) --time-ms $(BENCH_TIME_MS) \
		$(if $(filter 0,$(BENCH_BOOST)),--no-boost) \
		--raw $(B)/bench/last-run.txt $(BENCH_BIN) $(BENCH_GLOBAL_BIN)
	bash bench/profile.sh --time-ms $(BENCH_TIME_MS) $(if $(filter 0,$(BENCH_BOOST)),--no-boost) \
		fine-grained=$(BENCH_BIN)=$(B)/libvms.a global-lock=$(BENCH_GLOBAL_BIN)=$(CORE_LIB_global)
