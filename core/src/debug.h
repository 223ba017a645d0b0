/* SPDX-License-Identifier: MIT */
/*
 * debug.h - test-only hooks into libvms internals. Not part of the public
 * API: tests use them to corrupt a tree on purpose (to prove the checker
 * fires) and to observe lock state and grace-period behaviour.
 */
#ifndef VMS_DEBUG_H
#define VMS_DEBUG_H

#include <vms/vms.h>

/* Pointer to the raw PTE for @va in the level-@level node of @space's
 * tree, or NULL if that node does not exist. Writing through it bypasses
 * every lock: only for corrupting a quiescent tree. */
_Atomic uint64_t *vms__debug_pte(struct vms_space *space, vms_vaddr_t va, int level);

/* Add @delta to the nr_children of the level-@level node covering @va.
 * Returns 0, or -ENOENT if the node does not exist. */
int vms__debug_adjust_children(struct vms_space *space, vms_vaddr_t va, int level, int delta);

/* Add @delta to a frame's refcount without touching handles. */
void vms__debug_adjust_refcount(struct vms_frame *f, int delta);

/* Thread id the node covering @va at @level is locked by (0: unlocked),
 * or -ENOENT. Lets tests observe which nodes a cursor holds. */
long vms__debug_node_owner(struct vms_space *space, vms_vaddr_t va, int level);

/* Level of the node a cursor locked as its subtree root (guard). */
int vms__debug_cursor_guard_level(const struct vms_cursor *c);

/* Reclaimer threads @pool started since vms_pool_new (a reset keeps
 * the count): a test of vms_pool_set_reclaim_inline sees none start. */
uint64_t vms__debug_reclaimer_starts(struct vms_pool *pool);

/* This thread's lock-owner id (as stored in node locks). */
uint32_t vms__debug_thread_id(void);

/* Order in which this thread last released node locks: the cursor drop
 * records each unlocked node's (level, start va) here when recording is
 * on. Returns the number of entries written (at most @max). */
void vms__debug_record_unlocks(bool on);
size_t vms__debug_unlock_log(int *levels, vms_vaddr_t *vas, size_t max);

#endif /* VMS_DEBUG_H */
