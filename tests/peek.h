/* SPDX-License-Identifier: MIT */
/*
 * peek.h - what only tests read of libvms internals: a PTE by address,
 * which thread holds a node, the reclaimer's start count. Test code, so
 * it lives here and not in core/src: no fuzzed program needs it (the
 * executors read the tree through cursors and the checker).
 */
#ifndef VMT_PEEK_H
#define VMT_PEEK_H

#include <vms/vms.h>

/* Pointer to the raw PTE for @va in the level-@level node of @space's
 * tree, or NULL if that node does not exist. Writing through it bypasses
 * every lock: only for corrupting a quiescent tree. */
_Atomic uint64_t *vms__debug_pte(struct vms_space *space, vms_vaddr_t va,
				 int level);

/* Thread id the node covering @va at @level is locked by (0: unlocked),
 * or -ENOENT. Lets tests observe which nodes a cursor holds. */
long vms__debug_node_owner(struct vms_space *space, vms_vaddr_t va, int level);

/* Reclaimer threads @pool started since vms_pool_new (a reset keeps
 * the count): a test of vms_pool_set_reclaim_inline sees none start. */
uint64_t vms__debug_reclaimer_starts(struct vms_pool *pool);

/* This thread's lock-owner id (as stored in node locks). */
uint32_t vms__debug_thread_id(void);

#endif
