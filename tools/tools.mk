# tools/tools.mk - the op language, the differential executor and the CLI.
#
#   $(B)/libvmt.a        tools/op: the op table and validity (op.c, ops.def), binary
#                        form (op_bin.c), text form (op_text.c), the two steps of
#                        each op (step_core.c, step_model.c), the executor (exec.c)
#   $(B)/vmtorture       the CLI (tools/vmtorture.c): replay, decode, encode, ...
#   make op-tests        model and op-language tests, default and asan builds
#                        (test_op's random tests: VMT_OP_ITERS, VMT_OP_SEED,
#                        VMT_OP_KEEP, VMT_OP_POOL; see tools/op/test_op.c)
#   make op-tests-here   the same tests in this build variant only
#
# Other tools add their sources to VMT_CLI_SRCS (linked into the CLI) and
# their subcommands to the dispatch table in tools/vmtorture.c.

OP_SRCS := tools/op/op.c tools/op/op_bin.c tools/op/op_text.c tools/op/step_core.c tools/op/step_model.c tools/op/step_corrupt.c tools/op/step_badarg.c tools/op/exec.c \
	tools/op/exec_check.c tools/op/localize.c tools/op/reuse.c tools/op/simplify.c
OP_OBJS := $(OP_SRCS:%.c=$(B)/obj/%.o)
VMT_LIB := $(B)/libvmt.a

VMT_CLI_SRCS += tools/vmtorture.c tools/cli_prog.c
VMT_CLI_OBJS = $(VMT_CLI_SRCS:%.c=$(B)/obj/%.o)
VMT_CLI_BIN := $(B)/vmtorture

# Everything a program linking the executor needs, in link order.
VMT_LINK = $(VMT_LIB) $(MODEL_LIB) $(B)/libvms.a $(URCU_LIBS)
# The core the CLI links; stress/stress.mk sets its checking variant.
# The op tests read its internals through tests/peek.c, compiled in the
# same variant's tree: the structs it reads have that build's layout.
VMT_CLI_CORE = $(B)/libvms.a
VMT_CLI_PEEK = $(B)/obj/tests/peek.o

$(VMT_LIB): $(OP_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@
	$(AR) rcs $@ $^

# Second expansion: fragments included after this one may still add sources.
.SECONDEXPANSION:
$(VMT_CLI_BIN): $$(VMT_CLI_OBJS) $(VMT_LIB) $(MODEL_LIB) $$(VMT_CLI_CORE)
	@mkdir -p $(dir $@)
	$(CC) $(BASE_LDFLAGS) $(LDFLAGS) $(VMT_CLI_OBJS) $(VMT_LIB) $(MODEL_LIB) $(VMT_CLI_CORE) \
		$(URCU_LIBS) $(LDLIBS) -o $@

OP_TEST_BIN := $(B)/tests/test_op

# The op tests link the CLI's core: with fault injection compiled in, the
# fail op really fails allocations there (and the invariant checks are on).
$(OP_TEST_BIN): $(B)/obj/tools/op/test_op.o $(B)/obj/tests/runner.o $$(VMT_CLI_PEEK) $(VMT_LIB) $(MODEL_LIB) $$(VMT_CLI_CORE)
	@mkdir -p $(dir $@)
	$(CC) $(BASE_LDFLAGS) $(LDFLAGS) $(B)/obj/tools/op/test_op.o $(B)/obj/tests/runner.o $(VMT_CLI_PEEK) $(VMT_LIB) $(MODEL_LIB) \
		$(VMT_CLI_CORE) $(URCU_LIBS) $(LDLIBS) -o $@

all: $(VMT_LIB) $(VMT_CLI_BIN) $(OP_TEST_BIN)

.PHONY: op-tests op-tests-here
op-tests-here: $(MODEL_TEST_BIN) $(OP_TEST_BIN) $(VMT_CLI_BIN)
	@rc=0; \
	$(SAN_ENV) $(MODEL_TEST_BIN) || rc=1; \
	$(SAN_ENV) $(OP_TEST_BIN) || rc=1; \
	$(SAN_ENV) bash tools/op/test_cli.sh $(VMT_CLI_BIN) || rc=1; \
	exit $$rc

# Every variant runs even if an earlier one failed; the target fails if any did.
op-tests:
	$(call each_san,op-tests-here,plain asan)

test-suites: op-tests

# make fault-check: each planted bug on an -ENOMEM path is caught by its
# repro (tests/faults/NAME.txt) and, where stress must find it, by
# stress --faults; the repros agree on the correct core.
.PHONY: fault-check
fault-check: $(VMT_CLI_BIN)
	+bash tests/faults/check.sh $(VMT_CLI_BIN)

test-suites: fault-check
