# tools/campaign/campaign.mk - overnight campaigns: all engines side by
# side, triage, minimization, reports, corpus upkeep, OSS-Fuzz layout.
#
#   make campaign-run        the README's main job (make run): a 60 s campaign
#                            with every engine on the shipped corpora, ending in
#                            build/campaign/latest/summary.md and its reports
#   make campaign CAMPAIGN_ARGS="--duration 8h"    any campaign
#   make campaign CAMPAIGN_ARGS="--engines sched --duration 30m"
#                            the sched engine alone (libFuzzer and AFL++ on
#                            the multi-thread target) for 30 minutes;
#                            --engines afl,libfuzzer,sched for it with others
#   make campaign-test       20 s, all engines, correct core: logs, summary.md,
#                            no findings (part of test-suites)
#   make campaign-bugcheck   BUG=name: a campaign on the planted-bug build,
#                            must end with exactly one signature
#   make oss-fuzz-test       oss-fuzz/build.sh for libFuzzer and AFL++ here
#   $(B)/vmt-campaign        the campaign commands as a standalone binary
#
# With BUG=name everything runs on build/bug-name/ (core built with the
# planted bug), including the fuzz binaries under build/bug-name/fuzz/.

CAMPAIGN_SRCS := tools/campaign/sig.c tools/campaign/sig_harness.c tools/campaign/sig_san.c \
		 tools/campaign/run.c tools/campaign/minimize.c \
		 tools/campaign/stress.c tools/campaign/report.c tools/campaign/cmd.c \
		 tools/campaign/verdict.c
CAMPAIGN_OBJS := $(CAMPAIGN_SRCS:%.c=$(B)/obj/%.o)
CAMPAIGN_BIN := $(B)/vmt-campaign

# The subcommands are also linked into the CLI (see tools/tools.mk).
VMT_CLI_SRCS += $(CAMPAIGN_SRCS)

$(CAMPAIGN_BIN): $(B)/obj/tools/campaign/main.o $(CAMPAIGN_OBJS) $(VMT_LIB) $(MODEL_LIB) $(B)/libvms.a
	@mkdir -p $(dir $@)
	$(CC) $(BASE_LDFLAGS) $(LDFLAGS) $(B)/obj/tools/campaign/main.o $(CAMPAIGN_OBJS) $(VMT_LINK) $(LDLIBS) -o $@

all: $(CAMPAIGN_BIN)

# ---- fuzz binaries of a planted-bug build ------------------------------------
# fuzz/fuzz.mk builds build/fuzz/ from the correct core only; for BUG=name
# the same variants are built here, with -DVMS_BUG_name, into
# build/bug-name/fuzz/ (objects under build/fuzz/bug-name/).
ifneq ($(BUG),)
CAMPAIGN_FZ := build/bug-$(BUG)/fuzz
CBUG := -DVMS_BUG_$(BUG)=1
ifdef fuzz_targets
$(call fuzz_targets,bug-$(BUG)/,$(CBUG),$(CAMPAIGN_FZ),libfuzzer afl afl-asan afl-cmplog replay,libfuzzer afl afl-cmplog replay)
endif
else
CAMPAIGN_FZ := build/fuzz
endif
CAMPAIGN_FUZZ_BINS := $(addprefix $(CAMPAIGN_FZ)/,vmt-libfuzzer vmt-afl vmt-afl-asan vmt-afl-cmplog vmt-replay \
	vmt-mt-libfuzzer vmt-mt-afl vmt-mt-afl-cmplog vmt-mt-replay)

# The TSan CLI of the same variant (stress rounds under TSan).
CAMPAIGN_TSAN_DIR := build$(if $(BUG),/bug-$(BUG))/tsan
CAMPAIGN_TSAN_CLI := $(CAMPAIGN_TSAN_DIR)/vmtorture

.PHONY: campaign-deps campaign-tsan-cli campaign campaign-run campaign-test \
	campaign-bugcheck oss-fuzz-test campaign-sig-test campaign-cli-test
campaign-tsan-cli:
	@$(MAKE) --no-print-directory SAN=tsan BUG=$(BUG) $(CAMPAIGN_TSAN_CLI)

# Everything a campaign runs; the coverage build measures core/ over time.
campaign-deps: $(VMT_CLI_BIN) $(SCHED_CLI_BIN) $(CAMPAIGN_BIN) $(CAMPAIGN_FUZZ_BINS) build/fuzz/vmt-cov build/fuzz/vmt-mt-cov build/fuzz/vmt-stress-cov $(MUTATOR_SO) seeds mt-seeds \
	campaign-tsan-cli

CAMPAIGN_ENV = VMT_FZ=$(CAMPAIGN_FZ) VMT_CLI=$(VMT_CLI_BIN) VMT_TSAN_CLI=$(CAMPAIGN_TSAN_CLI) \
	VMT_CAMPAIGN_BIN=$(CAMPAIGN_BIN) VMT_SEEDS=$(SEQ_OUT) VMT_MT_SEEDS=$(MT_OUT) VMT_COV_BIN=build/fuzz/vmt-cov \
	VMT_COV_MT_BIN=build/fuzz/vmt-mt-cov
CAMPAIGN_ARGS ?=

campaign: campaign-deps
	$(CAMPAIGN_ENV) bash tools/campaign/campaign.sh $(CAMPAIGN_ARGS)

# make run: one minute, every engine, a fresh output directory each time
# (build/campaign/latest points at the newest). It fails when an engine
# did not run through, not when the campaign found something.
campaign-run: campaign-deps
	@$(CAMPAIGN_ENV) bash tools/campaign/make-run.sh $(CAMPAIGN_ARGS)

campaign-test: campaign-deps
	$(CAMPAIGN_ENV) bash tools/campaign/test-campaign.sh

# classify and report work from any directory (oracles found beside the CLI).
campaign-cli-test: campaign-deps
	bash tools/campaign/test-anywhere.sh $(VMT_CLI_BIN) corpora/seq/accessor-errors.txt

# Dedup titles: one root cause seen by different ops and engines, one title.
campaign-sig-test: $(CAMPAIGN_BIN)
	VMT_CAMPAIGN_BIN=$(CAMPAIGN_BIN) bash tools/campaign/test-sig.sh

campaign-bugcheck: campaign-deps
	@[ -n "$(BUG)" ] || { echo "campaign-bugcheck: set BUG=name (see docs/bugs.md)"; exit 2; }
	$(CAMPAIGN_ENV) bash tools/campaign/bugcheck.sh $(BUG) $(or $(BUG_SECONDS),300)

oss-fuzz-test: seeds
	bash oss-fuzz/test-local.sh

test-suites: campaign-sig-test campaign-cli-test campaign-test oss-fuzz-test
