/* SPDX-License-Identifier: MIT */
/* peek.c - tests' reads of libvms internals (see peek.h). */
#include "internal.h"
#include "peek.h"

/* The level-@level node covering @va, or NULL. */
static struct vms_frame *node_at(struct vms_space *s, vms_vaddr_t va, int level)
{
	struct vms_frame *node = s->root;

	if (level < 1 || level > VMS_NR_LEVELS || va >= VMS_USER_END)
		return NULL;
	while (node->level > level) {
		uint64_t v = vms_pte_load(
			&vms_node_ptes(node)[vms_pte_index(va, node->level)]);

		if (!vms_pte_is_table(v))
			return NULL;
		node = vms_pte_child(s->pool, v);
	}
	return node;
}

_Atomic uint64_t *vms__debug_pte(struct vms_space *s, vms_vaddr_t va, int level)
{
	struct vms_frame *node = node_at(s, va, level);

	return node ? &vms_node_ptes(node)[vms_pte_index(va, level)] : NULL;
}

long vms__debug_node_owner(struct vms_space *s, vms_vaddr_t va, int level)
{
	struct vms_frame *node = node_at(s, va, level);

	return node ? (long)vms_node_owner(&node->lock) : -ENOENT;
}

uint32_t vms__debug_thread_id(void)
{
	return vms_thread()->id;
}

uint64_t vms__debug_reclaimer_starts(struct vms_pool *pool)
{
	return atomic_load(&pool->reclaimer.starts);
}
