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

struct vms_check_report {
	unsigned errors;	 /* number of violations found */
	uint64_t nodes;		 /* page-table nodes reachable in this space */
	uint64_t leaves;	 /* leaves in this space */
	uint64_t mapped_bytes;	 /* bytes mapped in this space */
	char first[256];	 /* the first violation, one line */
};

/* 0 if the space (and the pool's frame accounting) is consistent, -EUCLEAN
 * if not (details in @rep), -EBUSY if a cursor is open in the pool, -EDEADLK
 * if the calling thread holds a cursor, -EINVAL for NULL args, -ENOMEM if
 * there was no memory for the walk's scratch (after deferred releases
 * were run: the pool is quiesced, nothing else changed). */
int vms_space_check(struct vms_space *space, struct vms_check_report *rep);

#endif /* VMS_CHECK_H */
