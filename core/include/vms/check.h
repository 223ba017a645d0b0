/* SPDX-License-Identifier: MIT */
/*
 * vms/check.h - structural checker, run at quiescence.
 *
 * What the seed proves with ghost state, checked by walking the tree:
 * node levels, nr_children equal to the non-absent PTEs, no stray or
 * locked node reachable, PTE encodings, leaves aligned to their size and
 * pointing into live data frames, and frame conservation over the whole
 * pool: every data frame's refcount equals its PTE references (in all
 * spaces of the pool) plus the handles callers hold, and free + used =
 * total. It also re-checks the accessor registry against the owner
 * invariant. Deferred releases are completed first.
 */
#ifndef VMS_CHECK_H
#define VMS_CHECK_H

#include <vms/space.h>

/* Every check of the project by name (vms/checks.def): VMS_CHECK_<id>. */
enum vms_check {
	VMS_CHECK_NONE,
#define VMS_INVARIANT(id, oracle, name) VMS_CHECK_##id,
#define VMS_CHECKER(id, name) VMS_CHECK_##id,
#define VMT_ORACLE(id, oracle, name) VMS_CHECK_##id,
#define VMT_RULE(id, name) VMS_CHECK_##id,
#include <vms/checks.def>
#undef VMS_INVARIANT
#undef VMS_CHECKER
#undef VMT_ORACLE
#undef VMT_RULE
	VMS_CHECK__COUNT
};

enum vms_check_class {
	VMS_CLASS_NONE,
	VMS_CLASS_INVARIANT,	/* a run-time check inside libvms */
	VMS_CLASS_CHECKER,	/* found by vms_space_check */
	VMS_CLASS_ORACLE,	/* a harness oracle */
	VMS_CLASS_RULE,		/* a rule of the model */
};

/* The check's name, class and owning oracle ("mutex", "grace", "state",
 * ...; NULL for checker and rule rows) from the table; "?"/NONE/NULL
 * for anything else. */
const char *vms_check_name(enum vms_check c);
enum vms_check_class vms_check_class(enum vms_check c);
const char *vms_check_oracle(enum vms_check c);

/*
 * What a check found, for a machine: kind names the invariant that broke
 * (which count or field disagrees), level the page-table level it broke
 * at (a node's, a leaf's or a data frame's; 0 if none). Titles are made
 * from these, never from the sentence in first.
 */
struct vms_check_report {
	unsigned errors;	 /* number of violations found */
	uint64_t nodes;		 /* page-table nodes reachable in this space */
	uint64_t leaves;	 /* leaves in this space */
	uint64_t mapped_bytes;	 /* bytes mapped in this space */
	enum vms_check kind;	 /* the first violation's check (VMS_CLASS_CHECKER) */
	int level;		 /* its level, 0 if it has none */
	char first[256];	 /* the first violation, one line */
};

/* 0 if the space (and the pool's frame accounting) is consistent, -EUCLEAN
 * if not (details in @rep), -EBUSY if a cursor is open in the pool, -EDEADLK
 * if the calling thread holds a cursor, -EINVAL for NULL args. */
int vms_space_check(struct vms_space *space, struct vms_check_report *rep);

/* The same over the whole pool, which may have no space left: every
 * tree, frame conservation and the counters (no accessor registry; the
 * report's counts stay 0). Results as vms_space_check's. */
int vms_pool_check(struct vms_pool *pool, struct vms_check_report *rep);

/* The first violation of @rep as engines print it, "NAME[ at level N]:
 * FIRST" (the triage finds NAME and the level in it). */
void vms_check_report_line(const struct vms_check_report *rep, char *buf, size_t n);

#endif /* VMS_CHECK_H */
