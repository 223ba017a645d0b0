/* SPDX-License-Identifier: MIT */
/*
 * debug.h - hooks into libvms internals for the harness. Not part of the
 * public API: the op language's corrupt op and the tests use them to
 * break a tree on purpose (to prove the checker fires), and the
 * sequential executor reads a cursor's guard level. What only tests
 * read (a PTE by address, a node's owner) is tests/peek.h's.
 */
#ifndef VMS_DEBUG_H
#define VMS_DEBUG_H

#include <vms/vms.h>

/* Add @delta to a frame's refcount without touching handles (the
 * refcount corruption's, and tests' for frames no space maps). */
void vms__debug_adjust_refcount(struct vms_frame *f, int delta);

/* Level of the node a cursor locked as its subtree root (guard). */
int vms__debug_cursor_guard_level(const struct vms_cursor *c);

/*
 * Corruptions of a quiescent tree, one per check of vms_space_check
 * (the op language's corrupt op, tools/op/step_corrupt.c): each breaks
 * exactly the invariant its check states, so the check must report that
 * kind first, and each is undone exactly. Append only: the number is the
 * op's operand. X(ID, name, the check that must fire)
 *
 * The last ones break a run-time invariant (VMS_CLASS_INVARIANT: the
 * checking builds' vms_invariant_broken) instead: vms__debug_trip makes
 * the one core call that must report it, on a structure that is in fact
 * sound, so the call completes. leak tests the leak oracle (LEAK, the
 * executors' verdict on a pool reset's -EBUSY) the same way, on a pool
 * of its own. Left out: LOCK_ORDER, UNLOCK_ORDER
 * (per-call thread state, reset at the call's start), STRAY_GUARD (the
 * walk retries a stray guard until it finds a live one), UNLOCKED_DESC
 * (the lock and the check walk the same entries), DETACHED (set by the
 * detach itself), COPY_SPAN (the translation is the frame's own).
 */
#define VMS_CORRUPTIONS(X)                                                                 \
	X(CHILDREN, children, NR_CHILDREN)	/* root nr_children + 1 */                 \
	X(KERNEL, kernel, KERNEL_HALF)		/* a kernel-half root entry */             \
	X(STRAY, stray, NODE_STRAY)		/* the root marked stray */                \
	X(KIND, kind, NODE_KIND)		/* the root's level wrong */               \
	X(LEAF_BITS, leafbits, BAD_LEAF)	/* a reserved bit in a leaf */             \
	X(LEAF_FRAME, leafframe, LEAF_NO_FRAME) /* a leaf maps frame 0 */                  \
	X(TABLE_BITS, tablebits, BAD_TABLE) /* a root table entry's bits */                \
	X(TWICE, twice, NODE_TWICE)	    /* a root table entry copied */                \
	X(REFCOUNT, refcount, REFCOUNT)	 /* a mapped frame's refcount + 1 */               \
	X(COUNT_DATA, ndata, COUNT_DATA) /* the data frame counter + 1 */                  \
	X(COUNT_PT, npt, COUNT_PT)	 /* the node counter + 1 */                        \
	X(COUNT_USED, nused, COUNT_USED) /* the used frame counter + 1 */                  \
	X(WRITERS, writers,                                                                \
	  ACC_WRITERS) /* two copies of an accessor as writers */                          \
	X(WRITER_READER, wreader,                                                          \
	  ACC_WRITER_READER) /* a writer's copy as a reader (or a reader's as a writer) */ \
	X(READERS, readers, ACC_READERS) /* a reader's copy as a reader */                 \
	X(LOCKED, locked,                                                                  \
	  NODE_LOCKED) /* a node below the root locked, out of the root's count */         \
	X(UNCARVED, uncarved,                                                              \
	  NODE_UNCARVED) /* a root entry to a node beyond the chunks handed out */         \
	X(FREED, freed,                                                                    \
	  NODE_FREED) /* a root entry's node marked free; a cursor below it */             \
	X(FOREIGN, foreign,                                                                \
	  FOREIGN_UNLOCK) /* a cursor's guard held by another id; the drop */              \
	X(DEFER, defer,                                                                    \
	  DEFER_LIST) /* a hand-over counted that never came; a quiesce */                 \
	X(LEAK, leak, LEAK) /* a frame held in a private pool; its reset */

enum vms_corruption {
#define VMS_CORRUPTION_ENUM_(id, name, check) VMS_CORRUPT_##id,
	VMS_CORRUPTIONS(VMS_CORRUPTION_ENUM_)
#undef VMS_CORRUPTION_ENUM_
		VMS_CORRUPT__COUNT
};

/* What vms__debug_corrupt changed, for vms__debug_restore. */
struct vms_debug_undo {
	enum vms_corruption kind;
	_Atomic uint64_t *pte; /* a PTE changed, and its old value */
	uint64_t old;
	struct vms_frame *node; /* a node's or frame's fields changed */
	uint64_t node_old;	/* their old values, packed */
	struct vms_pool *node_pool;
	struct vms_frame *root;
	uint16_t root_children;
	void *accs;		/* accessor copies pushed on a list */
	struct vms_cursor *cur; /* a cursor the corruption opened (foreign) */
	struct vms_pool *pool;	/* a pool it made (leak) */
};

/* The check that corruption @k must make vms_space_check report. */
enum vms_check vms__debug_corruption_check(enum vms_corruption k);
/* Its name in the op language (corrupt kind=NAME), NULL if none. */
const char *vms__debug_corruption_name(enum vms_corruption k);

/* Apply corruption @k to @space (a quiescent pool: no cursor open, no
 * other thread); fills @u. 0, -EINVAL (no such kind), -ENOMEM or -ENOENT
 * if the space has nothing to corrupt that way (no leaf, no accessor, no
 * free root entry, ...): then nothing changed. */
int vms__debug_corrupt(struct vms_space *space, enum vms_corruption k,
		       struct vms_debug_undo *u);
/* Undo what vms__debug_corrupt did to @u's space: 0, or for leak the
 * destroy of its pool, which must be 0 once the frame is put. */
int vms__debug_restore(struct vms_space *space, struct vms_debug_undo *u);
/* For a run-time invariant's corruption (its check's class is
 * VMS_CLASS_INVARIANT; only for those, and leak), the one core call that
 * must report it through vms_invariant_broken (leak: return -EBUSY);
 * that call's return. Part of
 * such a corruption's life: vms__debug_restore undoes what is left of it
 * after the trip. */
int vms__debug_trip(struct vms_space *space, struct vms_debug_undo *u);

#endif /* VMS_DEBUG_H */
