# tests/tests.mk - the libvms unit-test suite.
#
#   make unit-tests        build and run it in this build variant ($(B))
#   make unit-tests-all    run it in the default, asan and tsan builds
#   make unit-tests TESTS_FILTER=map    only tests whose name contains "map"

TESTS_SRCS := $(wildcard tests/*.c)
TESTS_OBJS := $(patsubst %.c,$(B)/obj/%.o,$(TESTS_SRCS))
TESTS_BIN := $(B)/tests/run_tests
TESTS_FILTER ?=

all: $(TESTS_BIN)

$(TESTS_BIN): $(TESTS_OBJS) $(B)/libvms.a
	@mkdir -p $(dir $@)
	$(CC) $(BASE_LDFLAGS) $(LDFLAGS) $(TESTS_OBJS) $(B)/libvms.a $(URCU_LIBS) $(LDLIBS) -o $@

.PHONY: unit-tests unit-tests-all test-suites
unit-tests: $(TESTS_BIN)
	$(SAN_ENV) $(TESTS_BIN) $(TESTS_FILTER)

# Every variant runs even if an earlier one failed; the target fails if any did.
# ubsan beside asan (which has UBSan too): ASan's allocator returned the
# core's cache-line aligned structs aligned, glibc's did not, and only
# UBSan over glibc's allocator reported it.
unit-tests-all:
	$(call each_san,unit-tests,plain asan tsan ubsan)

test-suites: unit-tests-all
