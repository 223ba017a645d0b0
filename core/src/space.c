/* SPDX-License-Identifier: MIT */
/* space.c - VM spaces and per-thread activation. */
#include <stdlib.h>
#include "internal.h"

int vms_space_new(struct vms_pool *p, unsigned flags, struct vms_space **out)
{
	struct vms_space *s;

	if (!p || !out || (flags & ~VMS_SPACE_FLAGS_MASK))
		return -EINVAL;
	s = vms_zalloc(sizeof(*s), VMS_FAULT_SPACE);
	if (!s)
		return -ENOMEM;
	s->root = vms_node_alloc(p, VMS_NR_LEVELS);
	if (!s->root) {
		free(s);
		return -ENOMEM;
	}
	s->pool = p;
	s->flags = flags;
	vms_mutex_init(&s->acc_lock);
	vms_mutex_lock(&p->spaces_lock);
	s->next = p->spaces;
	p->spaces = s;
	p->nr_spaces++;
	vms_mutex_unlock(&p->spaces_lock);
	*out = s;
	return 0;
}

/* Take @s off its pool's list of spaces. */
static void space_unlink(struct vms_pool *p, struct vms_space *s)
{
	struct vms_space **pp;

	vms_mutex_lock(&p->spaces_lock);
	for (pp = &p->spaces; *pp != s; pp = &(*pp)->next)
		;
	*pp = s->next;
#ifndef VMS_BUG_destroy_enomem_uncounted
	p->nr_spaces--;
#endif
	vms_mutex_unlock(&p->spaces_lock);
}

int vms_space_destroy(struct vms_space *s)
{
	struct vms_cursor *c;
	struct vms_pool *p;
	int ret;

	if (!s)
		return -EINVAL;
	p = s->pool;
	vms_rcu_read_lock();
	vms_mutex_lock(&s->acc_lock);
	ret = s->accessors || vms_tree_locked(s->root) || vms_ref_read(&s->active) ? -EBUSY : 0;
	vms_mutex_unlock(&s->acc_lock);
	vms_rcu_read_unlock();
	if (ret)
		return ret;
#ifdef VMS_BUG_destroy_enomem_uncounted
	/* Planted: the space stops counting in the pool before the
	 * teardown that can still fail, and the -ENOMEM paths below do not
	 * count it again. */
	vms_mutex_lock(&p->spaces_lock);
	p->nr_spaces--;
	vms_mutex_unlock(&p->spaces_lock);
#endif
	/* Unmap everything through an ordinary cursor: the whole user half
	 * goes as detached subtrees, released after a grace period. */
	ret = vms_cursor_mut_new(s, 0, VMS_USER_END, &c);
	if (ret)
		return ret;
	ret = (int)vms_cursor_unmap(c, VMS_USER_END);
	if (ret < 0) {
		vms_cursor_drop(c);
		return ret;
	}
	/* The root goes the same way, in the cursor's batch: anyone who
	 * still walks it (nobody should) is covered by the grace period.
	 * unmap reserved room for 512 * 7 items and the root holds at most
	 * 256 entries, so there is room for one more. */
	c->defer->item[c->defer->n++] = vms_meta_paddr(s->root) | VMS_DEFER_SUBTREE;
	c->defer->weight++;
	vms_cursor_drop(c);
	space_unlink(p, s);
	vms_mutex_destroy(&s->acc_lock);
	free(s);
	return 0;
}

/* The calling thread's current page table is vms_thread()->current;
 * vms_thread() also registers the exit hook that deactivates it. */
int vms_space_activate(struct vms_space *s)
{
	struct vms_thread *t;

	if (!s)
		return -EINVAL;
	t = vms_thread();
	if (t->current == s)
		return 0;
#ifndef VMS_BUG_switch_keeps_active
	/* The space we leave loses this thread's activation. */
	if (t->current)
		vms_ref_sub(&t->current->active, 1);
#endif
	vms_ref_add(&s->active, 1);
	t->current = s;
	return 0;
}

int vms_space_deactivate(struct vms_space *s)
{
	struct vms_thread *t = vms_thread();

	if (!s || t->current != s)
		return -EINVAL;
	vms_ref_sub(&s->active, 1);
	t->current = NULL;
	return 0;
}

struct vms_space *vms_space_current(void)
{
	return vms_thread()->current;
}

bool vms_space_is_current(const struct vms_space *s)
{
	return s && vms_thread()->current == s;
}

void vms_space_thread_exit(void)
{
	struct vms_thread *t = vms_thread();

	if (t->current)
		vms_space_deactivate(t->current);
}

struct vms_pool *vms_space_pool(const struct vms_space *s)
{
	return s ? s->pool : NULL;
}

unsigned vms_space_flags(const struct vms_space *s)
{
	return s ? s->flags : 0;
}
