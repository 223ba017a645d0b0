# fuzz/fuzz.mk - coverage-guided differential fuzzing of libvms against the
# model (one target, fuzz/target.c, built several ways) and the text seed
# corpus under corpora/seq/.
#
#   make fuzz               build every fuzz binary and the seeds
#   make seeds              encode corpora/seq/*.txt into build/corpora/seq/
#   make seeds-check        replay the seeds: they must all agree
#   make fuzz-libfuzzer     fuzz with libFuzzer until ^C (SECONDS=N to stop)
#   make fuzz-afl           fuzz with AFL++ until ^C (SECONDS=N to stop;
#                           FUZZ_JOBS=N instances, default 2)
#   make fuzz-smoke         ~20 s of each engine from the seeds; fails on any
#                           finding or if an engine does not start
#   make coverage           llvm-cov line coverage of core/src from the seeds,
#                           the multi-thread scenarios and a few seconds of
#                           stress (build/fuzz/vmt-stress-cov), one report
#                           (COV_INPUTS / COV_MT_INPUTS="dirs/files" for
#                           other corpora, COV_HTML=1 for an HTML report),
#                           then every line no input ran, by function;
#                           COV_CAMPAIGN=build/campaign/X: the seeds plus
#                           what that campaign's engines kept
#   make fuzz-dict          regenerate fuzz/vmt.dict from the op encoder
#   make bench-fuzz         exec/s per engine beside an empty target, and
#                           where the target's time goes (fuzz/bench.sh)
#   make bugcheck-fuzz-mt   libFuzzer on the multi-thread target against the
#                           planted concurrency bugs (fuzz/bugcheck-mt.sh)
#
# Known divergences that are reported but not fixed yet can be skipped by a
# campaign: VMT_FUZZ_IGNORE='sig substring;...' (see fuzz/target.c).
# Findings: build/fuzz-out/libfuzzer/<date>/crash-*, build/fuzz-out/afl/
# <date>/*/crashes/; reproduce with build/fuzz/vmt-replay FILE (prints the
# signature and the program in text form).
#
# Everything goes to build/fuzz/ and build/fuzz-out/ whatever SAN is: the
# fuzz builds carry their own instrumentation. Each build compiles the
# core, the model and the op module again with that instrumentation
# (linking the plain libvms.a would leave core/ invisible to the engine).

FZ := build/fuzz
FZ_OUT := build/fuzz-out
SEQ_DIR := corpora/seq
SEQ_OUT := build/corpora/seq
VMT_CLI ?= $(if $(VMT_CLI_BIN),$(VMT_CLI_BIN),build/vmtorture)

# What the target links, besides the driver: the core, the model and the
# op module without the CLI's main.
FUZZ_MODEL_SRCS := $(if $(MODEL_SRCS),$(MODEL_SRCS),$(wildcard model/*.c))
FUZZ_OP_SRCS := $(if $(OP_SRCS),$(OP_SRCS),$(filter-out tools/op/main.c tools/op/cli.c,$(wildcard tools/op/*.c)))
FUZZ_LIB_SRCS := $(CORE_SRCS) $(FUZZ_MODEL_SRCS) $(FUZZ_OP_SRCS) fuzz/target.c

# -DVMS_INVARIANTS: the core's run-time invariant checks (internal.h),
# reported by the executor as divergences. FUZZ_FAULTS: allocations fail
# where a program's fail op says (core/src/fault.h); FUZZ_FAULTS= builds
# targets whose fail ops do nothing (bugcheck's "without faults" runs).
FUZZ_FAULTS ?= -DVMS_FAULTS=1
FUZZ_CFLAGS := -std=gnu11 -pthread -D_LGPL_SOURCE -DVMS_INVARIANTS=1 $(FUZZ_FAULTS) -I. -Icore/include -Icore/src \
	-Imodel -Itools/op -Ifuzz -MMD -MP $(WARN) -g -fno-omit-frame-pointer
FUZZ_SAN := -fno-sanitize-recover=all
comma := ,

# A build's objects depend on a file holding its flags, rewritten (at parse
# time) only when they change: a flag change rebuilds that build alone.
fuzz_stamp = $(shell mkdir -p $(FZ)/$(1) && f=$(FZ)/$(1)/.flags && \
	[ "$$(cat $$f 2>/dev/null)" = '$(FZ_FLAGS_$(1))' ] || printf '%s' '$(FZ_FLAGS_$(1))' > $$f)

# $(call fuzz_variant,name,compiler-with-env,cflags,ldflags,driver.c,binary[,target sources])
# (default target sources: FUZZ_LIB_SRCS)
define fuzz_variant
FZ_FLAGS_$(1) := $(2) $(3) $(4) $$(FUZZ_CFLAGS) $$(LF_CORE_NOCMP) $$(LF_NOCMP_SRCS)
$$(call fuzz_stamp,$(1))
$(if $(findstring libfuzzer,$(1)),$$(patsubst %.c,$(FZ)/$(1)/obj/%.o,$$(LF_NOCMP_SRCS)): FUZZ_OBJ_CFLAGS = $$(LF_CORE_NOCMP))
$(FZ)/$(1)/obj/%.o: %.c $(FZ)/$(1)/.flags $(FUZZ_NOCOV)
	@mkdir -p $$(dir $$@)
	$(2) $$(FUZZ_CFLAGS) $(3) $$(FUZZ_OBJ_CFLAGS) -c $$< -o $$@

$(6): $$(patsubst %.c,$(FZ)/$(1)/obj/%.o,$(if $(7),$(7),$$(FUZZ_LIB_SRCS)) $(5))
	@mkdir -p $$(dir $$@)
	$(2) -pthread $(4) $$^ $$(URCU_LIBS) -o $$@
endef

# $(call fuzz_kind,kind,compiler,cflags,ldflags,driver): how an engine's
# builds are compiled and linked (FZK_<kind>_CC, _CFLAGS, _LDFLAGS, _DRIVER).
fuzz_kind = $(eval FZK_$(strip $(1))_CC := $(strip $(2)))$(eval FZK_$(strip $(1))_CFLAGS := $(strip $(3)))$(eval \
	FZK_$(strip $(1))_LDFLAGS := $(strip $(4)))$(eval FZK_$(strip $(1))_DRIVER := $(strip $(5)))
# $(call fuzz_build,name,kind,added cflags,binary[,target sources]): one
# build of a kind, its objects under build/fuzz/<name>/.
fuzz_build = $(eval $(call fuzz_variant,$(strip $(1)),$(FZK_$(strip $(2))_CC),$(strip $(FZK_$(strip $(2))_CFLAGS) \
	$(3)),$(FZK_$(strip $(2))_LDFLAGS),$(FZK_$(strip $(2))_DRIVER),$(strip $(4)),$(strip $(5))))
# $(call fuzz_targets,name prefix,added cflags,binary dir,kinds,mt kinds):
# each kind's build of the sequential target (<dir>/vmt-<kind>) and of
# the multi-thread one (<dir>/vmt-mt-<kind>, with its engine's feedback).
fuzz_targets = $(foreach k,$(4),$(call fuzz_build,$(1)$(k),$(k),$(2),$(3)/vmt-$(k))) \
	$(foreach k,$(5),$(call fuzz_build,$(1)$(k)-mt,$(k),$(2) $(FUZZ_MT) $(FUZZ_MT_$(firstword $(subst -, ,$(k)))),$(3)/vmt-mt-$(k),$(if \
		$(filter libfuzzer,$(k)),$$(FUZZ_LF_MT_SRCS),$$(FUZZ_MT_SRCS))))

# Functions whose edges depend on earlier inputs, not on this one (the
# pool and model kept between inputs): left out of the coverage map.
FUZZ_NOCOV := fuzz/nocov.txt
AFL_CC := AFL_QUIET=1 AFL_LLVM_DENYLIST=$(CURDIR)/$(FUZZ_NOCOV) afl-clang-fast
LF_NOCOV := -fsanitize-coverage-ignorelist=$(FUZZ_NOCOV)
LF_SAN := -fsanitize=fuzzer-no-link$(comma)address$(comma)undefined
LF_LINK := -fsanitize=fuzzer$(comma)address$(comma)undefined

# libFuzzer's comparison tracing (trace-cmp) costs 2.4x CPU per input
# here: the core's and the model's 512-entry table scans compare on every
# entry, on values derived from the tree rather than from input bytes.
# The executor's byte loops (write patterns, zero checks, frame sweeps:
# a quarter of the CPU after the pool reset) compare results of the core
# and the model, not input bytes, and go without it too, and so do the op
# steps (step_*.c): they hand the decoded op to the core and the model and
# compare what comes back (the pattern fill and the new frame's zero check
# alone were 13 % of the CPU, gid and leaf lookups 6 %). So does the
# validity check of a decoded program (op.c: the decoder only makes valid
# ones; its compares on every field of every op were 4 % of the CPU).
# The decoder, which reads the input bytes, keeps it.
# LF_CORE_NOCMP= restores full tracing everywhere.
LF_CORE_NOCMP ?= -fno-sanitize-coverage=trace-cmp
LF_NOCMP_SRCS = $(CORE_SRCS) $(FUZZ_MODEL_SRCS) tools/op/op.c tools/op/exec.c tools/op/exec_check.c \
	tools/op/localize.c tools/op/reuse.c tools/op/step_core.c tools/op/step_model.c tools/op/step_corrupt.c \
	tools/op/step_badarg.c

# The engines: how a build of each kind is compiled and linked, and its
# driver (none: libFuzzer's own main). libFuzzer's build is -O2 like the
# plain ones: ASan and UBSan check every access the optimised code still
# makes (fuzz/bugcheck.sh finds each planted bug as at -O1), and -O1 cost
# a tenth more CPU per input.
#                kind        compiler                                  cflags                                           ldflags                   driver
$(call fuzz_kind,libfuzzer,  clang,                                    -O2 $(LF_SAN) $(FUZZ_SAN) $(LF_NOCOV),           $(LF_LINK),               )
$(call fuzz_kind,afl,        $(AFL_CC),                                -O2,                                             ,                         fuzz/afl_main.c)
$(call fuzz_kind,afl-asan,   AFL_USE_ASAN=1 AFL_USE_UBSAN=1 $(AFL_CC), -O1 $(FUZZ_SAN),                                 ,                         fuzz/afl_main.c)
$(call fuzz_kind,afl-cmplog, AFL_LLVM_CMPLOG=1 $(AFL_CC),              -O2,                                             ,                         fuzz/afl_main.c)
$(call fuzz_kind,replay,     clang,                                    -O2,                                             ,                         fuzz/replay_main.c)
$(call fuzz_kind,cov,        clang,                                    -O0 -fprofile-instr-generate -fcoverage-mapping, -fprofile-instr-generate, fuzz/replay_main.c)

# The multi-thread target (fuzz/target_mt.c): the same drivers and
# instrumentation over the controlled executor, on the controlled core
# (CORE_CFLAGS_sched: the flags of build/vmtorture-sched, so a finding replays
# there to the same title). Its own binaries: the sequential target keeps
# the plain core, which runs sequential programs faster (fuzz/README.md).
# The engine builds hash the interleavings into extra coverage
# (VMT_FEEDBACK_*: libFuzzer extra counters, AFL++ pc guards).
# The libFuzzer build links the structure-aware mutator (fuzz/mutator.c:
# LLVMFuzzerCustomMutator, a third of its calls still byte-level), here
# and in the BUG= builds (tools/campaign/campaign.mk); AFL++ loads it at
# run time (AFL_CUSTOM_MUTATOR_LIBRARY=build/fuzz/vmt-mutator.so). The
# sequential target goes without: its programs have no schedule to edit.
FUZZ_MT_SRCS = $(CORE_SRCS) $(FUZZ_MODEL_SRCS) $(OP_SRCS) tools/sched/exec_mt.c fuzz/hints.c \
	tools/sched/policy.c fuzz/target_mt.c
FUZZ_MT := $(CORE_CFLAGS_sched) -Itools/sched
FUZZ_MT_libfuzzer := -DVMT_FEEDBACK_LIBFUZZER
FUZZ_MT_afl := -DVMT_FEEDBACK_AFL
# The coverage build runs each program twice and compares (target_mt.c).
FUZZ_MT_cov := -DVMT_MT_EXACT
FUZZ_LF_MT_SRCS = $(FUZZ_MT_SRCS) fuzz/mutator.c
# Both targets, built by every kind (campaign.mk: the same with BUG=name).
FUZZ_KINDS := libfuzzer afl afl-asan afl-cmplog replay cov
$(call fuzz_targets,,,$(FZ),$(FUZZ_KINDS),$(FUZZ_KINDS))
# The sequential target on the controlled core: what one target for both
# kinds of program would cost the sequential programs (make bench-fuzz).
$(call fuzz_build, replay-seq-sched,   replay,     $(FUZZ_MT),                             $(FZ)/seq-sched-replay)
$(call fuzz_build, libfuzzer-seq-sched, libfuzzer, $(FUZZ_MT),                             $(FZ)/seq-sched-libfuzzer)
FUZZ_MT_BINS := $(FZ)/vmt-mt-libfuzzer $(FZ)/vmt-mt-afl $(FZ)/vmt-mt-afl-asan $(FZ)/vmt-mt-afl-cmplog \
	$(FZ)/vmt-mt-replay

# The same builds of an empty target (fuzz/empty_target.c): what each
# engine costs per input by itself, the baseline of make bench-fuzz.
$(call fuzz_build, libfuzzer-empty,    libfuzzer,  ,                                       $(FZ)/empty-libfuzzer,      fuzz/empty_target.c)
$(call fuzz_build, afl-empty,          afl,        ,                                       $(FZ)/empty-afl,            fuzz/empty_target.c)
$(call fuzz_build, replay-empty,       replay,     ,                                       $(FZ)/empty-replay,         fuzz/empty_target.c)

FUZZ_BINS := $(FZ)/vmt-libfuzzer $(FZ)/vmt-afl $(FZ)/vmt-afl-asan $(FZ)/vmt-afl-cmplog $(FZ)/vmt-replay

# ---- seed corpus: text scenarios compiled with the CLI's encoder ------------

SEQ_TXT := $(sort $(wildcard $(SEQ_DIR)/*.txt))
SEQ_SEEDS := $(SEQ_TXT:$(SEQ_DIR)/%.txt=$(SEQ_OUT)/%)

# Written to a temporary name first: a failed encode leaves no seed behind.
$(SEQ_OUT)/%: $(SEQ_DIR)/%.txt $(VMT_CLI)
	@mkdir -p $(dir $@)
	@$(VMT_CLI) encode $< -o $@.tmp -f && mv -f $@.tmp $@ || { rm -f $@.tmp; exit 1; }

.PHONY: fuzz seeds seeds-check fuzz-libfuzzer fuzz-afl fuzz-smoke coverage coverage-test
# A seed whose scenario was deleted must not linger in the corpus.
seeds: $(SEQ_SEEDS)
	@for f in $(SEQ_OUT)/*; do [ -e "$$f" ] || continue; \
		[ -e "$(SEQ_DIR)/$${f##*/}.txt" ] || { echo "seeds: removing stale $$f"; rm -f "$$f"; }; done

fuzz: $(FUZZ_BINS) $(FUZZ_MT_BINS) seeds

seeds-check: seeds $(FZ)/vmt-replay $(VMT_CLI)
	$(VMT_CLI) replay $(SEQ_SEEDS)
	$(FZ)/vmt-replay -q $(SEQ_SEEDS)

SECONDS ?=
FUZZ_JOBS ?= 2
FUZZ_ENV = FZ=$(FZ) FZ_OUT=$(FZ_OUT) SEQ_OUT=$(SEQ_OUT)

fuzz-libfuzzer: $(FZ)/vmt-libfuzzer seeds
	@$(FUZZ_ENV) SECONDS_LIMIT='$(SECONDS)' bash fuzz/run-libfuzzer.sh

fuzz-afl: $(FZ)/vmt-afl $(FZ)/vmt-afl-cmplog $(FZ)/vmt-afl-asan seeds
	@$(FUZZ_ENV) SECONDS_LIMIT='$(SECONDS)' FUZZ_JOBS='$(FUZZ_JOBS)' bash fuzz/run-afl.sh

fuzz-smoke: $(FZ)/vmt-libfuzzer $(FZ)/vmt-afl $(FZ)/vmt-replay $(FZ)/vmt-mt-replay $(FZ)/vmt-mt-afl \
		$(FZ)/vmt-mutator.so seeds mt-seeds $(VMT_CLI)
	@$(FUZZ_ENV) MT_OUT=$(MT_OUT) VMT_CLI=$(VMT_CLI) bash fuzz/smoke.sh

coverage: $(FZ)/vmt-cov $(FZ)/vmt-mt-cov $(FZ)/vmt-stress-cov seeds mt-seeds
	@$(FUZZ_ENV) MT_OUT=$(MT_OUT) bash fuzz/coverage.sh

# The unreachable-line reasons are right on the seeds, and a wrong one fails.
coverage-test: $(FZ)/vmt-cov $(FZ)/vmt-mt-cov $(FZ)/vmt-stress-cov seeds mt-seeds
	@$(FUZZ_ENV) MT_OUT=$(MT_OUT) bash fuzz/coverage-test.sh

test-suites: fuzz-smoke coverage-test

# The dictionary is produced by the op module's own encoder.
.PHONY: fuzz-dict
$(FZ)/gen-dict: $(FZ)/replay/obj/fuzz/gen_dict.o $(FZ)/replay/obj/tools/op/op.o \
		$(FZ)/replay/obj/tools/op/op_bin.o $(FZ)/replay/obj/tools/op/op_text.o
	clang -pthread $^ -o $@
fuzz-dict: $(FZ)/gen-dict
	$(FZ)/gen-dict > fuzz/vmt.dict.tmp && mv -f fuzz/vmt.dict.tmp fuzz/vmt.dict

# make bench-fuzz: exec/s of the target beside the empty target in each
# engine build, the multi-thread target beside the sequential one
# (BENCH_FUZZ_MT=0: not), and the profile split (BENCH_FUZZ_SECONDS,
# BENCH_FUZZ_RUNS).
.PHONY: bench-fuzz
bench-fuzz: $(FZ)/vmt-afl $(FZ)/empty-afl $(FZ)/vmt-libfuzzer $(FZ)/empty-libfuzzer \
		$(FZ)/vmt-replay $(FZ)/empty-replay $(FZ)/vmt-mt-afl $(FZ)/vmt-mt-libfuzzer \
		$(FZ)/vmt-mt-replay $(FZ)/vmt-mutator.so seeds mt-seeds
	@$(FUZZ_ENV) MT_OUT=$(MT_OUT) bash fuzz/bench.sh

# make bugcheck: the fuzzer must find every planted sequential bug from the
# shipped seeds (BUGCHECK_FUZZ_SEEDS runs each, capped at BUGCHECK_FUZZ_CAP s).
BUGCHECK_FUZZ_SEEDS ?= 3
BUGCHECK_FUZZ_CAP ?= 120
.PHONY: bugcheck
bugcheck: seeds
	+bash fuzz/bugcheck.sh $(BUGCHECK_FUZZ_SEEDS) $(BUGCHECK_FUZZ_CAP)

# make bugcheck-fuzz-mt: libFuzzer alone on the multi-thread target, time to
# each planted concurrency bug from the shipped seeds, with the
# interleaving feedback on and off (BUGCHECK_MT_BUGS, BUGCHECK_MT_FEEDBACK).
BUGCHECK_MT_SEEDS ?= 3
BUGCHECK_MT_CAP ?= 120
.PHONY: bugcheck-fuzz-mt
bugcheck-fuzz-mt: seeds mt-seeds
	+bash fuzz/bugcheck-mt.sh $(BUGCHECK_MT_SEEDS) $(BUGCHECK_MT_CAP)
