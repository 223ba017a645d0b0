# stress/stress.mk - `vmtorture stress`, the concurrency bug finder.
#
#   $(B)/vmtorture stress      the stress driver, a subcommand of the CLI
#   make stress                60 s, all oracles (STRESS_SECONDS, STRESS_ARGS)
#   make tsan-stress           the same under TSan (build/tsan/)
#   make stress-short          a few seconds of each, part of `make test`
#   make stress-oracle-check   planted bugs each oracle must catch (in `make test`)
#   make bugcheck-stress       every planted concurrency bug x 5 seeds: which
#                              oracle caught it and the median time to detect
#
# One program: the CLI links a copy of the core built with -DVMS_POISON
# (freed 4 KiB frames are filled with 0x6b, so the grace-period oracle sees
# poison; the run-time invariant checks of internal.h are on) and
# -DVMS_SCHED_HOOK, so --noise can widen race windows with random yields
# and spins at the core's scheduling points (PTE stores, lock and unlock,
# frame copies). The algorithms are the ordinary core of this variant; the
# hooks cost a predicted branch when nothing is installed, and replay gets
# the same invariant checks as the fuzz builds (-DVMS_INVARIANTS). With
# -DVMS_FAULTS any allocation can be made to fail (core/src/fault.h): the
# fail op of replayed programs, and --faults RATE.

STRESS_SRCS := stress/stress.c stress/opts.c stress/worker.c stress/record.c stress/oracle_mutex.c \
	stress/oracle_serial.c stress/oracle_quiesce.c stress/access.c stress/spaces.c
STRESS_OBJS := $(STRESS_SRCS:%.c=$(B)/obj/%.o)
STRESS_SECONDS ?= 60
STRESS_SHORT_SECONDS ?= 3
STRESS_ARGS ?=
STRESS_OUT ?= build/stress-out

# The driver calls the sync layer too (access.c's outer read-side
# sections): compiled with the -DVMS_SCHED_HOOK of the core it links (the
# poison row, core/core.mk), or vms_rcu_read_lock_at() would be called
# without the site argument the core reads (garbage, dereferenced when a
# hook is installed).
$(STRESS_OBJS): EXTRA_CFLAGS += $(filter -DVMS_SCHED_HOOK%,$(CORE_CFLAGS_poison))

# `vmtorture stress`: the sources go in through VMT_CLI_SRCS (tools/tools.mk),
# the subcommand has its line in the dispatch table of tools/vmtorture.c.
VMT_CLI_SRCS += $(STRESS_SRCS)
VMT_CLI_CORE = $(CORE_LIB_poison)
VMT_CLI_PEEK = $(B)/obj-poison/tests/peek.o

.PHONY: stress stress-here tsan-stress stress-short bugcheck-stress stress-oracle-check
# The run in this build variant.
stress-here: $(VMT_CLI_BIN)
	$(SAN_ENV) $(VMT_CLI_BIN) stress --seconds $(STRESS_SECONDS) --out $(STRESS_OUT) $(STRESS_ARGS)

stress:
	$(MAKE) --no-print-directory SAN= stress-here

tsan-stress:
	$(MAKE) --no-print-directory SAN=tsan stress-here

# Short runs for `make test`: overlapping and mostly disjoint ranges (the
# latter with allocations failing at random), then TSan.
stress-short:
	@rc=0; \
	$(MAKE) --no-print-directory SAN= STRESS_SECONDS=$(STRESS_SHORT_SECONDS) \
		STRESS_ARGS="--hot 1m --quiet $(STRESS_ARGS)" stress-here || rc=1; \
	$(MAKE) --no-print-directory SAN= STRESS_SECONDS=$(STRESS_SHORT_SECONDS) \
		STRESS_ARGS="--hot 4g --faults 0.01 --quiet $(STRESS_ARGS)" stress-here || rc=1; \
	$(MAKE) --no-print-directory SAN=tsan STRESS_SECONDS=$(STRESS_SHORT_SECONDS) \
		STRESS_ARGS="--hot 2m --threads 3 --quiet $(STRESS_ARGS)" stress-here || rc=1; \
	exit $$rc

# Planted bugs that each oracle must catch (one seed each, a few seconds).
stress-oracle-check:
	+bash stress/oracle-check.sh $(STRESS_ORACLE_SECONDS)
STRESS_ORACLE_SECONDS ?= 30

test-suites: stress-short stress-oracle-check

BUGCHECK_SEEDS ?= 5
BUGCHECK_SECONDS ?= 60
bugcheck-stress:
	+bash stress/bugcheck.sh $(BUGCHECK_SEEDS) $(BUGCHECK_SECONDS)

# Cursor throughput for 1, 2, 4 workers, overlapping and disjoint ranges.
.PHONY: stress-throughput
stress-throughput: $(VMT_CLI_BIN)
	bash stress/throughput.sh $(VMT_CLI_BIN) $(STRESS_THROUGHPUT_SECONDS)
STRESS_THROUGHPUT_SECONDS ?= 10

# The coverage build of the driver (build/fuzz/vmt-stress-cov): the fuzz
# coverage kind's compiler and instrumentation (fuzz/fuzz.mk) over the
# core with the poison row's flags, the model, the op module and the
# driver, with a main of its own (stress/cov_main.c). fuzz/coverage.sh and
# the campaign's coverage snapshots (tools/campaign/stats.sh) run it for
# a few seconds and merge its profile into the one report: the lines only
# free-running threads run (the plain reclaimer thread, contention, fault
# rates, the accessors). Its counters are updated atomically: racing
# increments lose counts, and llvm-cov's line counts, differences of
# region counts, then wrap below zero (2^64 - 63 for pool.c's
# vms_frame_alloc retry), which could sum to "never ran" in the report.
STRESS_COV_BIN := $(FZ)/vmt-stress-cov
$(eval $(call fuzz_variant,stress-cov,$(FZK_cov_CC),$(FZK_cov_CFLAGS) -fprofile-update=atomic $(CORE_CFLAGS_poison),$(FZK_cov_LDFLAGS), \
	stress/cov_main.c,$(STRESS_COV_BIN),$(CORE_SRCS) $(FUZZ_MODEL_SRCS) $(FUZZ_OP_SRCS) $(STRESS_SRCS)))
