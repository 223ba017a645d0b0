# model/model.mk - the sequential reference model of libvms.
#
#   $(B)/libvmtmodel.a    the model (linked by tools/ and the fuzzers)
#   make model-tests      build and run model/test_model.c in this build
#                         (with the unit tests' runner, tests/runner.c)

MODEL_SRCS := model/model.c
MODEL_OBJS := $(MODEL_SRCS:%.c=$(B)/obj/%.o)
MODEL_LIB := $(B)/libvmtmodel.a

$(MODEL_LIB): $(MODEL_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@
	$(AR) rcs $@ $^

MODEL_TEST_BIN := $(B)/tests/test_model

$(MODEL_TEST_BIN): $(B)/obj/model/test_model.o $(B)/obj/tests/runner.o $(MODEL_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(BASE_LDFLAGS) $(LDFLAGS) $^ $(LDLIBS) -o $@

all: $(MODEL_LIB) $(MODEL_TEST_BIN)

.PHONY: model-tests
model-tests: $(MODEL_TEST_BIN)
	$(SAN_ENV) $(MODEL_TEST_BIN)
