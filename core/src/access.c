/* SPDX-License-Identifier: MIT */
/*
 * access.c - reader/writer accessors and the simulated MMU.
 *
 * The registry enforces at run time what the seed's VmSpaceOwner proves:
 * no reader overlaps a writer, writers are pairwise disjoint, readers are
 * pairwise disjoint unless the space allows shared readers. Ranges are
 * closed intervals, as in the seed's `disjoint`, so touching ranges
 * conflict.
 *
 * Copies go page by page through a lock-free walk of the page table, each
 * page inside its own short read-side section (long sections would hold
 * back every grace period). A frame unmapped concurrently is released only
 * after a grace period, so the bytes being copied stay valid; the copy
 * simply sees the old or the new translation.
 */
#include <stdlib.h>
#include "internal.h"

static bool overlap(const struct vms_acc *a, vms_vaddr_t start, vms_vaddr_t end)
{
#ifdef VMS_BUG_touching_ok
	return a->start < end && start < a->end;
#else
	return a->start <= end && start <= a->end;
#endif
}

static bool any_overlap(const struct vms_acc *list, vms_vaddr_t start, vms_vaddr_t end,
			const struct vms_acc *self)
{
	for (; list; list = list->next)
		if (list != self && overlap(list, start, end))
			return true;
	return false;
}

/* Would an accessor on [start, end) conflict with the registry? Checked
 * at creation and again when it joins the registry. */
static bool conflicts(struct vms_space *s, bool writer, vms_vaddr_t start,
		      vms_vaddr_t end, const struct vms_acc *self)
{
	if (any_overlap(s->writers, start, end, self))
		return true;
	if (writer || !(s->flags & VMS_SPACE_SHARED_READERS))
		return any_overlap(s->readers, start, end, self);
	return false;
}

static int create(struct vms_space *s, vms_vaddr_t va, uint64_t len, bool writer,
		  struct vms_acc **out)
{
	struct vms_acc *a;
	int ret = 0;

	if (!s || !out)
		return -EINVAL;
	if (!vms_space_is_current(s))
		return -EACCES;
	if (!va || !len || len > VMS_MAX_USERSPACE_VADDR || va > VMS_MAX_USERSPACE_VADDR - len)
		return -EINVAL;
	a = vms_zalloc(sizeof(*a), VMS_FAULT_ACC);
	if (!a)
		return -ENOMEM;
	a->space = s;
	a->start = a->pos = va;
	a->end = va + len;
	a->writer = writer;
	vms_mutex_lock(&s->acc_lock);
	if (conflicts(s, writer, a->start, a->end, NULL))
		ret = -EBUSY;
	else
		s->accessors++;
	vms_mutex_unlock(&s->acc_lock);
	if (ret) {
		free(a);
		return ret;
	}
	*out = a;
	return 0;
}

int vms_space_create_reader(struct vms_space *s, vms_vaddr_t va, uint64_t len,
			    struct vms_reader **out)
{
	return create(s, va, len, false, (struct vms_acc **)out);
}

int vms_space_create_writer(struct vms_space *s, vms_vaddr_t va, uint64_t len,
			    struct vms_writer **out)
{
	return create(s, va, len, true, (struct vms_acc **)out);
}

/* The simulated MMU's walk, inside a read-side section: the entry where
 * the walk for @va stops (a leaf, or 0 if nothing maps it) and the size
 * of its slot. */
static uint64_t mmu_walk(struct vms_space *s, vms_vaddr_t va, uint64_t *size)
{
	struct vms_frame *node = s->root;

	for (;;) {
		uint64_t v = vms_pte_load(&vms_node_ptes(node)[vms_pte_index(va, node->level)]);

		*size = vms_page_size(node->level);
		if (!vms_pte_is_table(v) || node->level == 1)
			return vms_pte_is_leaf(v) ? v : 0;
		node = vms_pte_child(s->pool, v);
		VMS_NODE_LIVE(node);
	}
}

/* Translate @va for reading (or writing): the linear-map pointer and the
 * bytes left in its leaf, or NULL on a fault. */
static void *mmu_translate(struct vms_space *s, vms_vaddr_t va, bool write, uint64_t *avail)
{
	uint64_t size, v = mmu_walk(s, va, &size);

	if (!(v & PTE_P) || (write && !(v & PTE_W)))
		return NULL;
#ifdef VMS_BUG_copy_ignores_offset
	/* Planted: the bytes left in the leaf, forgetting where in it @va is. */
	*avail = size;
#else
	*avail = size - (va & (size - 1));
#endif
	VMS_COPY_SPAN(s->pool, vms_pte_paddr(v) + (va & (size - 1)), *avail);
	return s->pool->base + vms_pte_paddr(v) + (va & (size - 1));
}

/* Is every page of [start, end) mapped (any permission)? */
static bool all_mapped(struct vms_space *s, vms_vaddr_t start, vms_vaddr_t end)
{
	vms_vaddr_t va = start & ~(VMS_PAGE_SIZE - 1);
	uint64_t size;
	bool ok = true;

	vms_rcu_read_lock();
	for (; ok && va < end; va = vms_align_down(va, size) + size)
		ok = mmu_walk(s, va, &size) != 0;
	vms_rcu_read_unlock();
	return ok;
}

static int activate(struct vms_space *s, struct vms_acc *a, bool writer)
{
	int ret = 0;

	if (!s || !a || a->space != s || a->writer != writer || a->active)
		return -EINVAL;
	if (!vms_space_is_current(s))
		return -EACCES;
#ifdef VMS_BUG_activate_unlocked
	/* Planted: a writer's conflict check runs before the mutex is
	 * taken; another writer can join the registry in between. */
	if (writer && conflicts(s, writer, a->start, a->end, a))
		return -EBUSY;
	vms_mutex_lock(&s->acc_lock);
	if (!writer && conflicts(s, writer, a->start, a->end, a))
		ret = -EBUSY;
#else
	vms_mutex_lock(&s->acc_lock);
	if (conflicts(s, writer, a->start, a->end, a))
		ret = -EBUSY;
#endif
	else if (!all_mapped(s, a->start, a->end))
		ret = -EFAULT;
	if (!ret) {
		struct vms_acc **list = writer ? &s->writers : &s->readers;

		VMS_HELD(&s->acc_lock, ACC_UNLOCKED);
		a->next = *list;
		*list = a;
		a->active = true;
	}
	vms_mutex_unlock(&s->acc_lock);
	return ret;
}

int vms_space_activate_reader(struct vms_space *s, struct vms_reader *r)
{
	return activate(s, (struct vms_acc *)r, false);
}

int vms_space_activate_writer(struct vms_space *s, struct vms_writer *w)
{
	return activate(s, (struct vms_acc *)w, true);
}

static long copy(struct vms_acc *a, void *buf, size_t n, bool write)
{
	unsigned char *p = buf;
	size_t done = 0;

	if (!a || (!buf && n))
		return -EINVAL;
	if (!a->active)
		return -EINVAL;
	if (!vms_space_is_current(a->space))
		return -EACCES;
	if (n > a->end - a->pos)
		n = a->end - a->pos;
	while (done < n) {
		uint64_t avail;
		void *frame;

		vms_rcu_read_lock();
		frame = mmu_translate(a->space, a->pos, write, &avail);
		if (!frame) {
			vms_rcu_read_unlock();
			break;
		}
#ifdef VMS_BUG_copy_outside_rcu
		vms_rcu_read_unlock();	/* "the translation is done" */
#endif
		if (avail > n - done)
			avail = n - done;
		if (write) {
			vms_pool_dirty(a->space->pool, frame, avail);
			vms_copy_to_frame(frame, p + done, avail);
		} else {
			vms_copy_from_frame(p + done, frame, avail);
		}
#ifndef VMS_BUG_copy_outside_rcu
		vms_rcu_read_unlock();
#endif
		done += avail;
		a->pos += avail;
	}
	if (!done && n)
		return -EFAULT;
	return (long)done;
}

long vms_reader_read(struct vms_reader *r, void *buf, size_t n)
{
	return copy((struct vms_acc *)r, buf, n, false);
}

long vms_writer_write(struct vms_writer *w, const void *buf, size_t n)
{
	return copy((struct vms_acc *)w, (void *)buf, n, true);
}

uint64_t vms_reader_remain(const struct vms_reader *r)
{
	return r ? r->a.end - r->a.pos : 0;
}

uint64_t vms_writer_remain(const struct vms_writer *w)
{
	return w ? w->a.end - w->a.pos : 0;
}

static int release(struct vms_acc *a, bool writer)
{
	struct vms_space *s;

	if (!a)
		return 0;
	if (a->writer != writer)
		/* cov: unreachable: executors release each accessor by its kind */
		return -EINVAL;
	s = a->space;
#ifdef VMS_BUG_release_unlocked
	/* Planted: the unlink is done before taking the registry lock. */
	if (a->active) {
		struct vms_acc **pp = writer ? &s->writers : &s->readers;

		VMS_HELD(&s->acc_lock, ACC_UNLOCKED);
		while (*pp != a)
			pp = &(*pp)->next;
		*pp = a->next;
	}
	vms_mutex_lock(&s->acc_lock);
#else
	vms_mutex_lock(&s->acc_lock);
	if (a->active) {
		struct vms_acc **pp = writer ? &s->writers : &s->readers;

		VMS_HELD(&s->acc_lock, ACC_UNLOCKED);
		while (*pp != a)
			pp = &(*pp)->next;
		*pp = a->next;
	}
#endif
	s->accessors--;
	vms_mutex_unlock(&s->acc_lock);
	free(a);
	return 0;
}

int vms_reader_release(struct vms_reader *r)
{
	return release((struct vms_acc *)r, false);
}

int vms_writer_release(struct vms_writer *w)
{
	return release((struct vms_acc *)w, true);
}
