# fuzz/mutator.mk - the structure-aware mutator (fuzz/mutator.c).
#
#   $(FZ)/vmt-mutator.so   the AFL++ custom mutator library:
#                          AFL_CUSTOM_MUTATOR_LIBRARY=build/fuzz/vmt-mutator.so
#                          with AFL_CUSTOM_MUTATOR_ONLY=1 (it edits bytes
#                          too, and orders the queue: fuzz/mutator.c)
#   FUZZ_MUTATOR_SRCS      what a libFuzzer target adds to its sources to get
#                          LLVMFuzzerCustomMutator
#   make mutator-tests     its unit tests, plain and ASan+UBSan (in make test)
FUZZ_MUTATOR_SRCS := fuzz/mutator.c fuzz/hints.c
MUTATOR_SO := build/fuzz/vmt-mutator.so
# The op module's pure part: decode, encode, validity, text, simpler ops.
MUTATOR_OP_SRCS := tools/op/op.c tools/op/op_bin.c tools/op/op_text.c tools/op/simplify.c

$(MUTATOR_SO): $(FUZZ_MUTATOR_SRCS) $(MUTATOR_OP_SRCS) $(wildcard tools/op/*.h fuzz/mutator.h fuzz/hints.h)
	@mkdir -p $(dir $@)
	clang -std=gnu11 -O2 -g -fPIC -shared -Icore/include -Icore/src -Itools/op $(WARN) \
		$(FUZZ_MUTATOR_SRCS) $(MUTATOR_OP_SRCS) -o $@

MUTATOR_TEST_BIN := $(B)/tests/test_mutator
MUTATOR_TEST_OBJS := $(B)/obj/tests/mutator/test_mutator.o $(B)/obj/fuzz/mutator.o $(B)/obj/fuzz/hints.o \
	$(B)/obj/tests/runner.o $(B)/obj/tests/helpers.o $(B)/obj/tests/peek.o

$(B)/obj/tests/mutator/%.o: tests/mutator/%.c
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) -Itests $(CFLAGS) $(EXTRA_CFLAGS) -c $< -o $@

$(MUTATOR_TEST_BIN): $(MUTATOR_TEST_OBJS) $(VMT_LIB) $(MODEL_LIB) $(B)/libvms.a
	@mkdir -p $(dir $@)
	$(CC) $(BASE_LDFLAGS) $(LDFLAGS) $(MUTATOR_TEST_OBJS) $(VMT_LINK) $(LDLIBS) -o $@

ifeq ($(filter tsan msan,$(SAN)),)
all: $(MUTATOR_TEST_BIN)
endif

.PHONY: mutator-tests mutator-tests-here
mutator-tests-here: $(MUTATOR_TEST_BIN) $(MUTATOR_SO)
	$(SAN_ENV) $(MUTATOR_TEST_BIN)

mutator-tests:
	$(call each_san,mutator-tests-here,plain asan)

test-suites: mutator-tests
