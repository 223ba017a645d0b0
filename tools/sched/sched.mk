# tools/sched/sched.mk - the controlled build of the core and its scheduler.
#
#   $(B)/libvms-sched.a    the core compiled with -DVMS_SCHED (sched.c takes
#                          over every scheduling point of sync.h) and
#                          -DVMS_POISON (freed frames poisoned, the run-time
#                          invariant checks on), from $(B)/obj-sched/
#   $(B)/libvmt-sched.a    the policies (replay, random, PCT) and traces
#
# The controlled build runs its threads as user-level contexts on one OS
# thread; it needs no liburcu (grace periods are simulated) and does not
# support TSan.

SCHED_CFLAGS := -DVMS_SCHED=1 -DVMS_POISON=1
SCHED_CORE_OBJS := $(CORE_SRCS:%.c=$(B)/obj-sched/%.o)
SCHED_CORE_LIB := $(B)/libvms-sched.a

$(B)/obj-sched/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) $(CFLAGS) $(EXTRA_CFLAGS) $(SCHED_CFLAGS) -c $< -o $@

$(SCHED_CORE_LIB): $(SCHED_CORE_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@
	$(AR) rcs $@ $^

SCHED_POLICY_SRCS := tools/sched/policy.c
SCHED_POLICY_LIB := $(B)/libvmt-sched.a

$(SCHED_POLICY_LIB): $(SCHED_POLICY_SRCS:%.c=$(B)/obj-sched/%.o)
	@mkdir -p $(dir $@)
	rm -f $@
	$(AR) rcs $@ $^

ifneq ($(SAN),tsan)
all: $(SCHED_CORE_LIB) $(SCHED_POLICY_LIB)
endif
