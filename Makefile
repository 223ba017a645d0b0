# vmtorture - top-level build. Every module contributes a fragment
# (core/core.mk, tests/tests.mk, ...) that appends to the variables below.
#
#   make                 build the library, the CLI and the tests
#   make test            install missing packages, then run every test
#   make run             the main job: a short default campaign
#   make bench           benchmarks (medians, ratios against a baseline)
#   make lint            shellcheck, cppcheck, clang-format (part of make test)
#   make format          clang-format the C lines changed since FORMAT_BASE
#   make SAN=asan|tsan|ubsan ...   sanitizer builds, into build/<san>/
#   make clean

ifeq ($(origin CC),default)
CC := clang
endif
SAN ?=
# Planted bugs: BUG=name builds with -DVMS_BUG_name, never into the
# default build directories.
BUG ?=
# Where this variant's objects and binaries go.
B := build$(if $(BUG),/bug-$(BUG))$(if $(SAN),/$(SAN))
EXTRA_CFLAGS += $(if $(BUG),-DVMS_BUG_$(BUG)=1)
# The core file the bug lives in (core/core.mk's one-file sched build).
BUG_FILE := $(if $(BUG),$(shell bash scripts/bugs.sh get $(BUG) file 2>/dev/null))
ifneq ($(BUG),)
ifeq ($(BUG_FILE),)
$(error BUG=$(BUG) is not a planted bug; see core/bugs.tsv or docs/bugs.md)
endif
endif

include sanitizers/sanitizers.mk

CFLAGS ?= -O2 -g
WARN := -Wall -Wextra -Wno-unused-parameter -Wshadow -Wstrict-prototypes
# Flags every object needs; user CFLAGS stay overridable on top.
BASE_CFLAGS := -std=gnu11 -pthread -Icore/include -Icore/src -MMD -MP $(WARN) $(SAN_CFLAGS)
BASE_LDFLAGS := -pthread $(SAN_LDFLAGS)
URCU_LIBS := -lurcu-memb -lurcu-common
LDLIBS ?=

.PHONY: all test run bench clean deps lint format
all:

deps:
	@bash scripts/deps.sh

# The compile rules: one object tree per build variant of the core
# (core/core.mk), $(B)/obj/ the plain one, for every C file of every module.
include core/core.mk
-include model/model.mk
-include tools/tools.mk
-include tools/sched/sched.mk
-include tests/tests.mk
-include bench/bench.mk
-include fuzz/fuzz.mk
-include fuzz/mutator.mk
-include stress/stress.mk
-include tools/campaign/campaign.mk

# test: install what is missing, then every suite in its builds.
test: deps
	$(MAKE) --no-print-directory test-suites

# run: the main job, a short default campaign ending in a report.
run: deps
	$(MAKE) --no-print-directory campaign-run

# The planted-bug registry, the core's #ifdefs and docs/bugs.md agree.
.PHONY: bugs-check
bugs-check:
	@bash scripts/bugs.sh check
test-suites: bugs-check

# Lint (scripts/lint.sh says what each tool checks). clang-format holds
# only the C lines changed since FORMAT_BASE to .clang-format: main when
# the file came, whose code was written by hand in the same style but
# would be rewritten in about 9% of its lines.
FORMAT_BASE ?= b056bd1103823b96dbf1638e3b656f7e2ce0f955
FORMAT_DIRS := core model tools fuzz stress tests bench
lint:
	@FORMAT_DIRS="$(FORMAT_DIRS)" bash scripts/lint.sh $(FORMAT_BASE)
test-suites: lint

format:
	git clang-format-14 --binary clang-format-14 --extensions c,h -f $(FORMAT_BASE) -- $(FORMAT_DIRS)

clean:
	rm -rf build

-include $(shell find build -name '*.d' 2>/dev/null)
