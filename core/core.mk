# libvms: the system under test.
CORE_SRCS := core/src/sync.c core/src/pool.c core/src/lock.c core/src/cursor.c \
	     core/src/space.c core/src/access.c core/src/check.c core/src/debug.c \
	     core/src/sched.c

CORE_OBJS := $(CORE_SRCS:%.c=$(B)/obj/%.o)

$(B)/libvms.a: $(CORE_OBJS)
	@mkdir -p $(dir $@)
	$(AR) rcs $@ $^

all: $(B)/libvms.a
