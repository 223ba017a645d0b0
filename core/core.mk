# libvms: the system under test.
CORE_SRCS := core/src/sync.c core/src/pool.c core/src/lock.c core/src/cursor.c \
	     core/src/space.c core/src/access.c core/src/check.c core/src/debug.c \
	     core/src/sched.c

# ---- build variants: the core compiled one way per row ----------------------
# Each row is an object tree, $(B)/<objdir>/, and an archive of the core's
# objects in it. The tree's pattern rule compiles any C file: obj/ holds
# every module's plain objects, and a fragment can build its own sources
# with a variant's flags (the controlled executor and its tests in
# obj-sched/, the benchmark in obj-global/). A row defines CORE_LIB_<name>
# (the archive) and CORE_CFLAGS_<name> (its flags) for the other
# fragments.
#
# $(call core_variant,name,objdir,archive,-I's,cflags,bugfile)
# bugfile: with BUG=name, only the bug's file (scripts/bugs.sh get name
# file) is compiled with -DVMS_BUG_name; the other objects are the row's
# tree of the sanitizer build (build/ or build/<san>/), compiled without
# it. A row option, not every row's rule: the plain and poison builds of
# a planted bug keep a tree of their own, as before.
define core_variant
CORE_LIB_$(1) := $(3)
CORE_CFLAGS_$(1) := $(5)
CORE_OBJS_$(1) := $$(CORE_SRCS:%.c=$$(B)/$(2)/%.o)
$$(B)/$(2)/%.o: %.c
	@mkdir -p $$(dir $$@)
	$$(CC) $$(BASE_CFLAGS) $(4) $$(CFLAGS) $$(EXTRA_CFLAGS) $(5) -c $$< -o $$@
ifneq ($(6),)
ifneq ($$(BUG),)
CORE_OBJS_$(1) := $$(filter-out %/$$(BUG_FILE:.c=.o),$$(CORE_SRCS:%.c=$$(CORE_BUG_BASE)/$(2)/%.o)) \
	$$(B)/$(2)/core/src/$$(BUG_FILE:.c=.o)
$$(CORE_BUG_BASE)/$(2)/%.o: %.c
	@mkdir -p $$(dir $$@)
	$$(CC) $$(BASE_CFLAGS) $(4) $$(CFLAGS) $$(filter-out -DVMS_BUG_%,$$(EXTRA_CFLAGS)) $(5) -c $$< -o $$@
endif
endif
$(3): $$(CORE_OBJS_$(1))
	@mkdir -p $$(dir $$@)
	rm -f $$@
	$$(AR) rcs $$@ $$^
endef
core_row = $(eval $(call core_variant,$(strip $(1)),$(strip $(2)),$(strip $(3)),$(strip $(4)),$(strip $(5)),$(strip $(6))))
CORE_BUG_BASE := build$(if $(SAN),/$(SAN))

# plain: what the library ships; the unit tests, the CLI's op module and
#   model, the campaign tools.
# poison: `vmtorture stress` (stress/stress.mk): freed 4 KiB frames filled
#   with 0x6b and the run-time invariant checks on, the scheduling-point
#   hook for --noise, allocations that fail on demand.
# sched: the controlled core (tools/sched/sched.mk): sched.c takes over every
#   scheduling point of sync.h, plus poison and faults; fuzz/fuzz.mk builds
#   the multi-thread target with the same flags.
# global: every cursor holds one process-wide lock, the baseline of
#   bench/bench.mk. _GNU_SOURCE: the lock is initialised with
#   PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP, which glibc declares only under
#   it (gnu11 alone does not define it).
#               name,    objdir,      archive,                     -I's,                           cflags,                                            option
$(call core_row, plain,   obj,         $(B)/libvms.a,               ,                               ,)
$(call core_row, poison,  obj-poison,  $(B)/libvms-poison.a,        ,                               -DVMS_POISON=1 -DVMS_SCHED_HOOK=1 -DVMS_FAULTS=1,)
$(call core_row, sched,   obj-sched,   $(B)/libvms-sched.a,         -Itools/sched -Itests -Ibench,  -DVMS_SCHED=1 -DVMS_POISON=1 -DVMS_FAULTS=1,       bugfile)
$(call core_row, global,  obj-global,  $(B)/bench/libvms-global.a,  ,                               -DVMS_GLOBAL_LOCK -D_GNU_SOURCE,)

all: $(CORE_LIB_plain)
