/* SPDX-License-Identifier: MIT */
/* debug.c - test-only hooks (see debug.h). */
#include "internal.h"
#include "debug.h"

bool vms__debug_recording;

void vms__debug_note_unlock(struct vms_frame *node, vms_vaddr_t base)
{
	typeof(vms_thread()->unlock_log) *log = &vms_thread()->unlock_log;

	if (log->n < VMS_UNLOCK_LOG_MAX) {
		log->level[log->n] = node->level;
		log->va[log->n] = base;
		log->n++;
	}
}

void vms__debug_record_unlocks(bool on)
{
	vms_thread()->unlock_log.n = 0;
	vms__debug_recording = on;
}

size_t vms__debug_unlock_log(int *levels, vms_vaddr_t *vas, size_t max)
{
	typeof(vms_thread()->unlock_log) *log = &vms_thread()->unlock_log;
	size_t n = log->n < max ? log->n : max;

	for (size_t i = 0; i < n; i++) {
		levels[i] = log->level[i];
		vas[i] = log->va[i];
	}
	return n;
}

/* The level-@level node covering @va, or NULL. */
static struct vms_frame *node_at(struct vms_space *s, vms_vaddr_t va, int level)
{
	struct vms_frame *node = s->root;

	if (level < 1 || level > VMS_NR_LEVELS || va >= VMS_USER_END)
		return NULL;
	while (node->level > level) {
		uint64_t v = vms_pte_load(&vms_node_ptes(node)[vms_pte_index(va, node->level)]);

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

int vms__debug_adjust_children(struct vms_space *s, vms_vaddr_t va, int level, int delta)
{
	struct vms_frame *node = node_at(s, va, level);

	if (!node)
		return -ENOENT;
	node->nr_children = (uint16_t)(node->nr_children + delta);
	return 0;
}

void vms__debug_adjust_refcount(struct vms_frame *f, int delta)
{
	vms_ref_add(&f->refcount, (uint64_t)(int64_t)delta);
}

long vms__debug_node_owner(struct vms_space *s, vms_vaddr_t va, int level)
{
	struct vms_frame *node = node_at(s, va, level);

	return node ? (long)vms_node_owner(&node->lock) : -ENOENT;
}

int vms__debug_cursor_guard_level(const struct vms_cursor *c)
{
	return c ? c->guard_level : -EINVAL;
}

uint32_t vms__debug_thread_id(void)
{
	return vms_thread()->id;
}

uint64_t vms__debug_reclaimer_starts(struct vms_pool *pool)
{
	return atomic_load(&pool->reclaimer.starts);
}
