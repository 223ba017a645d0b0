/* SPDX-License-Identifier: MIT */
/* debug.c - the harness's hooks into libvms internals (see debug.h). */
#include "internal.h"
#include <stdlib.h>
#include <string.h>
#include "debug.h"

void vms__debug_adjust_refcount(struct vms_frame *f, int delta)
{
	vms_ref_add(&f->refcount, (uint64_t)(int64_t)delta);
}

int vms__debug_cursor_guard_level(const struct vms_cursor *c)
{
	return c ? c->guard_level : -EINVAL;
}

/* ---- corruptions (debug.h) ---- */

static const struct {
	const char *name;
	enum vms_check check;
} corruptions[VMS_CORRUPT__COUNT] = {
#define CORRUPTION_ROW_(id, nm, chk)                                           \
	[VMS_CORRUPT_##id] = { #nm, VMS_CHECK_##chk },
	VMS_CORRUPTIONS(CORRUPTION_ROW_)
#undef CORRUPTION_ROW_
};

enum vms_check vms__debug_corruption_check(enum vms_corruption k)
{
	return (unsigned)k < VMS_CORRUPT__COUNT ? corruptions[k].check :
						  VMS_CHECK_NONE;
}

const char *vms__debug_corruption_name(enum vms_corruption k)
{
	return (unsigned)k < VMS_CORRUPT__COUNT ? corruptions[k].name : NULL;
}

/* The first leaf of @node's subtree in address order (NULL: none); its
 * level in *@level. */
static _Atomic uint64_t *first_leaf(struct vms_pool *p, struct vms_frame *node,
				    int *level)
{
	for (int i = 0; i < VMS_NR_ENTRIES; i++) {
		_Atomic uint64_t *pte = &vms_node_ptes(node)[i];
		uint64_t v = vms_pte_load(pte);

		if (vms_pte_is_leaf(v)) {
			*level = node->level;
			return pte;
		}
		if (vms_pte_is_table(v) && node->level > 1) {
			_Atomic uint64_t *l =
				first_leaf(p, vms_pte_child(p, v), level);

			if (l)
				return l;
		}
	}
	return NULL;
}

/* The first root entry that is a table (@table) or empty (!@table), in
 * the user half; -1 if none. */
static int root_entry(struct vms_frame *root, bool table)
{
	for (int i = 0; i < VMS_NR_ENTRIES / 2; i++) {
		uint64_t v = vms_pte_load(&vms_node_ptes(root)[i]);

		if (table ? vms_pte_is_table(v) : !v)
			return i;
	}
	return -1;
}

/* A copy of @a pushed on @list (u->accs keeps the copies, two at most). */
static void acc_push(struct vms_debug_undo *u, struct vms_acc **list,
		     const struct vms_acc *a, int n)
{
	struct vms_acc *c = (struct vms_acc *)u->accs + n;

	*c = *a;
	c->next = *list;
	*list = c;
}

static int set_pte(struct vms_debug_undo *u, _Atomic uint64_t *pte, uint64_t v)
{
	u->pte = pte;
	u->old = vms_pte_load(pte);
	atomic_store(pte, v);
	return 0;
}

static int corrupt_accs(struct vms_space *s, struct vms_debug_undo *u)
{
	struct vms_acc *any = s->writers ? s->writers : s->readers;
	int ret = 0;

	if (!any)
		return -ENOENT;
	u->accs = vms_zalloc(2 * sizeof(struct vms_acc), VMS_FAULT_CHECK);
	if (!u->accs)
		return -ENOMEM;
	switch (u->kind) {
	case VMS_CORRUPT_WRITERS:
		acc_push(u, &s->writers, any, 0);
		acc_push(u, &s->writers, any, 1);
		break;
	case VMS_CORRUPT_WRITER_READER:
		if (s->writers)
			acc_push(u, &s->readers, s->writers, 0);
		else
			acc_push(u, &s->writers, s->readers, 0);
		break;
	default: /* READERS */
		if (!s->readers || (s->flags & VMS_SPACE_SHARED_READERS))
			ret = -ENOENT;
		else
			acc_push(u, &s->readers, s->readers, 0);
		break;
	}
	if (ret) {
		free(u->accs);
		u->accs = NULL;
	}
	return ret;
}

int vms__debug_corrupt(struct vms_space *s, enum vms_corruption k,
		       struct vms_debug_undo *u)
{
	struct vms_pool *p;
	struct vms_frame *root;
	_Atomic uint64_t *pte;
	int level, i, j, ret;

	if ((unsigned)k >= VMS_CORRUPT__COUNT)
		/* cov: unreachable: the op's operand is a kind (op.c vmt_op_valid) */
		return -EINVAL;
	memset(u, 0, sizeof(*u));
	u->kind = k;
	p = s->pool;
	root = s->root;
	switch ((unsigned)k) {
	case VMS_CORRUPT_CHILDREN:
		root->nr_children++;
		return 0;
	case VMS_CORRUPT_KERNEL:
		return set_pte(u, &vms_node_ptes(root)[VMS_NR_ENTRIES / 2],
			       PTE_P);
	case VMS_CORRUPT_STRAY:
		root->stray = 1;
		return 0;
	case VMS_CORRUPT_KIND:
		root->level--;
		return 0;
	case VMS_CORRUPT_LEAF_BITS:
	case VMS_CORRUPT_LEAF_FRAME:
	case VMS_CORRUPT_REFCOUNT:
		pte = first_leaf(p, root, &level);
		if (!pte)
			return -ENOENT;
		if (k == VMS_CORRUPT_LEAF_BITS)
			return set_pte(u, pte, vms_pte_load(pte) | 1ULL << 52);
		if (k == VMS_CORRUPT_LEAF_FRAME)
			return set_pte(u, pte, vms_pte_load(pte) & ~PTE_ADDR);
		u->node = vms_frame_owner(p, vms_pte_paddr(vms_pte_load(pte)));
		if (!u->node)
			/* cov: unreachable: a leaf without a data frame: only on a broken core */
			return -ENOENT;
		vms__debug_adjust_refcount(u->node, 1);
		return 0;
	case VMS_CORRUPT_TABLE_BITS:
	case VMS_CORRUPT_TWICE:
	case VMS_CORRUPT_LOCKED:
		i = root_entry(root, true);
		j = root_entry(root, false);
		if (i < 0 || (k == VMS_CORRUPT_TWICE && j < 0))
			return -ENOENT;
		pte = &vms_node_ptes(root)[i];
		if (k == VMS_CORRUPT_TABLE_BITS)
			return set_pte(u, pte, vms_pte_load(pte) | PTE_PWT);
		if (k == VMS_CORRUPT_TWICE)
			return set_pte(u, &vms_node_ptes(root)[j],
				       vms_pte_load(pte));
		/* A lock the cursor check cannot see: vms_tree_locked stops at
		 * the root's count of entries in use. */
		u->node = vms_pte_child(p, vms_pte_load(pte));
		u->root = root;
		u->root_children = root->nr_children;
		root->nr_children = 0;
		atomic_store(&u->node->lock, 0xdeadu);
		return 0;
	case VMS_CORRUPT_UNCARVED:
		j = root_entry(root, false);
		if (j < 0 || atomic_load(&p->next_chunk) >= p->nr_chunks)
			return -ENOENT; /* every chunk handed out (enomem-2m.txt) */
		u->node = &p->meta[atomic_load(&p->next_chunk) *
				   VMS_CHUNK_FRAMES];
		u->node_old = (uint64_t)u->node->kind | (uint64_t)u->node->level
								<< 8;
		u->node_pool = u->node->pool;
		u->node->kind = VMS_FRAME_PT;
		u->node->level = VMS_NR_LEVELS - 1;
		u->node->pool = p;
		return set_pte(u, &vms_node_ptes(root)[j],
			       vms_pte_table(vms_meta_paddr(u->node)));
	case VMS_CORRUPT_COUNT_DATA:
		vms_count_add(&p->data_frames, 1);
		return 0;
	case VMS_CORRUPT_COUNT_PT:
		vms_count_add(&p->pt_frames, 1);
		return 0;
	case VMS_CORRUPT_COUNT_USED:
		vms_count_add(&p->used_frames, 1);
		return 0;
	case VMS_CORRUPT_FREED:
		/* The node is sound: only the kind the walk checks says freed. */
		i = root_entry(root, true);
		if (i < 0)
			return -ENOENT;
		u->node =
			vms_pte_child(p, vms_pte_load(&vms_node_ptes(root)[i]));
		u->node_old = u->node->kind;
		u->node->kind = VMS_FRAME_FREE;
		return 0;
	case VMS_CORRUPT_FOREIGN:
		/* Our own cursor, its guard's lock word another thread's id. */
		ret = vms_cursor_new(s, 0, vms_page_size(1), &u->cur);
		if (ret)
			return ret;
		u->node = u->cur->guard;
		atomic_store(&u->node->lock, vms_thread()->id + 1);
		return 0;
	case VMS_CORRUPT_DEFER:
		/* A hand-over counted whose batch never came: a lost push. */
		atomic_fetch_add(&p->deferred.pushed, 1);
		return 0;
	case VMS_CORRUPT_LEAK:
		/* Not the space's pool: its reset is refused for the space. */
		ret = vms_pool_new(1, &u->pool); /* the smallest */
		if (!ret) {
			ret = vms_frame_alloc(u->pool, 1, &u->node);
			if (ret)
				vms_pool_destroy(u->pool);
		}
		return ret;
	default: /* the accessor kinds */
		break;
	}
	vms_mutex_lock(&s->acc_lock);
	ret = corrupt_accs(s, u);
	vms_mutex_unlock(&s->acc_lock);
	return ret;
}

/* Unlink the copies in u->accs from @list. */
static void acc_unlink(struct vms_acc **list, struct vms_debug_undo *u)
{
	struct vms_acc *c = u->accs;

	while (*list) {
		if (*list == &c[0] || *list == &c[1])
			*list = (*list)->next;
		else
			list = &(*list)->next;
	}
}

int vms__debug_restore(struct vms_space *s, struct vms_debug_undo *u)
{
	struct vms_pool *p = s->pool;

	switch (u->kind) {
	case VMS_CORRUPT_CHILDREN:
		s->root->nr_children--;
		break;
	case VMS_CORRUPT_STRAY:
		s->root->stray = 0;
		break;
	case VMS_CORRUPT_KIND:
		s->root->level++;
		break;
	case VMS_CORRUPT_REFCOUNT:
		vms__debug_adjust_refcount(u->node, -1);
		break;
	case VMS_CORRUPT_COUNT_DATA:
		vms_count_add(&p->data_frames, -1);
		break;
	case VMS_CORRUPT_COUNT_PT:
		vms_count_add(&p->pt_frames, -1);
		break;
	case VMS_CORRUPT_COUNT_USED:
		vms_count_add(&p->used_frames, -1);
		break;
	case VMS_CORRUPT_LOCKED:
		atomic_store(&u->node->lock, 0);
		u->root->nr_children = u->root_children;
		break;
	case VMS_CORRUPT_UNCARVED:
		u->node->kind = (uint8_t)u->node_old;
		u->node->level = (uint8_t)(u->node_old >> 8);
		u->node->pool = u->node_pool;
		break;
	case VMS_CORRUPT_FREED:
		u->node->kind = (uint8_t)u->node_old;
		break;
	case VMS_CORRUPT_FOREIGN:
		break; /* the trip's drop let go of the lock: 0, as before */
	case VMS_CORRUPT_DEFER:
		/* The trip's quiesce took every batch handed over (a reclaim
		 * that reported the loss set the count to what we said, one
		 * that missed it counted the batches; releases push nothing):
		 * the count is the pushes, ours taken back. */
		atomic_fetch_sub(&p->deferred.pushed, 1);
		p->deferred.taken = atomic_load(&p->deferred.pushed);
		break;
	case VMS_CORRUPT_LEAK:
		vms_frame_put(u->node);
		return vms_pool_destroy(u->pool);
	case VMS_CORRUPT_WRITERS:
	case VMS_CORRUPT_WRITER_READER:
	case VMS_CORRUPT_READERS:
		vms_mutex_lock(&s->acc_lock);
		acc_unlink(&s->writers, u);
		acc_unlink(&s->readers, u);
		vms_mutex_unlock(&s->acc_lock);
		free(u->accs);
		u->accs = NULL;
		break;
	default:
		break;
	}
	if (u->pte)
		atomic_store(u->pte, u->old);
	return 0;
}

int vms__debug_trip(struct vms_space *s, struct vms_debug_undo *u)
{
	struct vms_cursor *c;
	vms_vaddr_t va;
	int ret;

	switch (u->kind) {
	case VMS_CORRUPT_FREED:
		/* The walk enters the node (and locks and unlocks it, if it
		 * is the guard): NODE_FREED at each. */
		va = (vms_vaddr_t)root_entry(s->root, true) *
		     vms_page_size(VMS_NR_LEVELS);
		ret = vms_cursor_new(s, va, va + vms_page_size(1), &c);
		if (!ret)
			vms_cursor_drop(c);
		return ret;
	case VMS_CORRUPT_FOREIGN:
		/* The drop releases the guard: FOREIGN_UNLOCK, then the lock
		 * word is 0, as before the cursor. */
		vms_cursor_drop(u->cur);
		u->cur = NULL;
		return 0;
	case VMS_CORRUPT_DEFER:
		/* The census after the walk: DEFER_LIST, once. */
		return vms_pool_quiesce(s->pool);
	default: /* VMS_CORRUPT_LEAK */
		/* The frame still referenced: the leak oracle, -EBUSY. */
		return vms_pool_reset(u->pool);
	}
}
