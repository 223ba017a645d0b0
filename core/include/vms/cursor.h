/* SPDX-License-Identifier: MIT */
/*
 * vms/cursor.h - range-locking cursors over a space's page table.
 *
 * A cursor locks the virtual range [start, end) when it is created and
 * keeps it until vms_cursor_drop(): cursors whose ranges overlap exclude
 * each other (the later one blocks), so every cursor session is one
 * transaction. Cursors on disjoint ranges in different subtrees run in
 * parallel; disjoint ranges that share a page-table node serialize.
 *
 * Every cursor has a current address va, starting at @start. Operations
 * act at va and move it forward; all bounds are checked against the
 * cursor's own range, overflow-safe. Read-only cursors lock exactly like
 * mutable ones (there are no shared locks) but cannot change mappings.
 *
 * Threads: a cursor belongs to the thread that created it. A thread that
 * asks for a cursor that needs a page-table node it already holds through
 * another cursor gets -EDEADLK instead of spinning forever. Holding two
 * cursors at once on one thread may still deadlock against other threads
 * that do the same; the harnesses hold one cursor per thread.
 */
#ifndef VMS_CURSOR_H
#define VMS_CURSOR_H

#include <vms/space.h>

struct vms_cursor;

/* What vms_cursor_query found at the cursor's address. */
struct vms_mapping {
	vms_vaddr_t start, end;	 /* the slot: a leaf, or the absent slot */
	vms_paddr_t paddr;	 /* physical address mapped at @start (0 if absent) */
	struct vms_frame *frame; /* owning frame (borrowed), NULL if absent */
	struct vms_prop prop;	 /* zero if absent */
	int level;		 /* level of the slot (1: 4 KiB, 2: 2 MiB, ...) */
};

/* Open a read-only / mutable cursor on [start, end). Both must be page
 * aligned, start < end <= VMS_USER_END. Blocks while an overlapping cursor
 * exists. Returns 0, -EINVAL, -ENOMEM (no memory for the cursor, or an
 * intermediate node could not be allocated, even after waiting for
 * deferred releases when the calling thread holds no other cursor: nodes
 * created on the way down stay, empty, so the mappings are unchanged), or
 * -EDEADLK (see above). */
int vms_cursor_new(struct vms_space *space, vms_vaddr_t start, vms_vaddr_t end,
		   struct vms_cursor **out);
int vms_cursor_mut_new(struct vms_space *space, vms_vaddr_t start,
		       vms_vaddr_t end, struct vms_cursor **out);

/* Unlock the range and free the cursor. Releases it removed are handed to
 * the grace-period machinery. NULL is ignored. */
void vms_cursor_drop(struct vms_cursor *c);

/* Current address. */
vms_vaddr_t vms_cursor_va(const struct vms_cursor *c);

/* Describe the slot containing va. For a mapped leaf the whole leaf range
 * (even when va is inside a 2 MiB page); for an absent address the absent
 * slot of the deepest existing node, which contains va but may extend
 * outside the cursor's range. Does not move va. -EINVAL if va >= end. */
int vms_cursor_query(struct vms_cursor *c, struct vms_mapping *m);

/* Find the first mapped address in [va, va + len). On success returns 1,
 * moves va there and stores it in *@found (if va already lies inside a
 * 2 MiB leaf, va itself). Returns 0 with va = va + len if nothing is
 * mapped. -EINVAL if len is 0, unaligned, or exceeds end - va. */
int vms_cursor_find_next(struct vms_cursor *c, uint64_t len, vms_vaddr_t *found);

/* Move va to @va (may go backwards). -EINVAL unless aligned and inside
 * [start, end). */
int vms_cursor_jump(struct vms_cursor *c, vms_vaddr_t va);

/* Map @frame at va with @prop, as a leaf of the frame's level, then move
 * va past it. Whatever was in that slot is replaced: an old leaf is
 * released, a 2 MiB leaf over a 4 KiB slot is split first, and a child
 * table under a 2 MiB slot is detached whole. Consumes one handle on
 * @frame on success only. Returns 1 if an existing mapping was replaced,
 * 0 if the slot was empty, -EINVAL for a NULL @c, -EPERM on a read-only
 * cursor, -EINVAL (bad frame or one the caller holds no handle on, prop,
 * va not aligned to the frame size, or frame past end), -ENOMEM (tree
 * unchanged). A child table under the slot counts as replaced only if it
 * held at least one leaf. */
int vms_cursor_map(struct vms_cursor *c, struct vms_frame *frame,
		   struct vms_prop prop);

/* Remove every mapping in [va, va + len), splitting 2 MiB leaves that
 * straddle the boundaries, detaching child tables that lie wholly inside
 * the range as one step; va ends at va + len. Returns the number of leaves
 * removed (each 4 KiB piece of a split leaf counts one, a removed 2 MiB
 * leaf one, a detached table all the leaves it held), -EINVAL (NULL @c),
 * -EPERM, -EINVAL (len 0, unaligned, or past end), -ENOMEM (tree
 * unchanged). */
long vms_cursor_unmap(struct vms_cursor *c, uint64_t len);

/* Callback for protect_next: edit flags and cache in place. Changes to
 * priv are ignored. */
typedef void (*vms_protect_fn)(struct vms_prop *prop, void *arg);

/* Find the next leaf in [va, va + len), splitting a 2 MiB leaf that is
 * entered mid-way or sticks out of the range, apply @fn to its property
 * and store the leaf range in *@start and *@end; va moves to its end. Returns
 * 1 (even if @fn changed nothing), 0 if nothing is mapped (va = va + len),
 * -EINVAL (NULL @c), -EPERM, -EINVAL (len as for find_next, or @fn
 * produced an invalid prop: then the mapping and its property are
 * unchanged and va does not move, though a 2 MiB leaf split to reach the
 * page stays split), -ENOMEM (the node for a split: tree unchanged, va
 * does not move). */
int vms_cursor_protect_next(struct vms_cursor *c, uint64_t len,
			    vms_protect_fn fn, void *arg,
			    vms_vaddr_t *start, vms_vaddr_t *end);

#endif /* VMS_CURSOR_H */
