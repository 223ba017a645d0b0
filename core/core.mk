# libvms: the system under test.
CORE_SRCS := core/src/sync.c core/src/pool.c core/src/lock.c core/src/cursor.c \
	     core/src/space.c core/src/access.c core/src/check.c core/src/debug.c \
	     core/src/sched.c

# ---- build variants: the core compiled one way per row ----------------------
# Each row is an object tree, $(B)/<objdir>/, and an archive of the core's
# objects in it. The tree's pattern rule compiles any C file: obj/ holds
# every module's plain objects. A row defines CORE_LIB_<name> (the
# archive) and CORE_CFLAGS_<name> (its flags) for the other fragments.
#
# $(call core_variant,name,objdir,archive,-I's,cflags)
define core_variant
CORE_LIB_$(1) := $(3)
CORE_CFLAGS_$(1) := $(5)
CORE_OBJS_$(1) := $$(CORE_SRCS:%.c=$$(B)/$(2)/%.o)
$$(B)/$(2)/%.o: %.c
	@mkdir -p $$(dir $$@)
	$$(CC) $$(BASE_CFLAGS) $(4) $$(CFLAGS) $$(EXTRA_CFLAGS) $(5) -c $$< -o $$@
$(3): $$(CORE_OBJS_$(1))
	@mkdir -p $$(dir $$@)
	rm -f $$@
	$$(AR) rcs $$@ $$^
endef
core_row = $(eval $(call core_variant,$(strip $(1)),$(strip $(2)),$(strip $(3)),$(strip $(4)),$(strip $(5))))

# plain: what the library ships; the unit tests, the CLI's op module and
#   model, the campaign tools.
# poison: `vmtorture stress` (stress/stress.mk): freed 4 KiB frames filled
#   with 0x6b and the run-time invariant checks on, the scheduling-point
#   hook for --noise, allocations that fail on demand.
#            name,   objdir,     archive,                   -I's,                          cflags
$(call core_row, plain,  obj,        $(B)/libvms.a,             ,                              ,                                                   )
$(call core_row, poison, obj-poison, $(B)/libvms-poison.a,      ,                              -DVMS_POISON=1 -DVMS_SCHED_HOOK=1 -DVMS_FAULTS=1,   )

all: $(CORE_LIB_plain)
