/* SPDX-License-Identifier: MIT */
/*
 * lock.c - the range lock protocol (Asterinas OSTD / CortenMM, RCU variant).
 *
 * Locking [start, end) happens in two phases, inside the cursor's RCU
 * read-side section:
 *
 * 1. Find the guard: walk down from the root without locks, to the lowest
 *    node that covers the whole range, i.e. stop at a node where the range
 *    spans two or more entries, exactly fills one entry (so an item of that
 *    entry's size can still be mapped: Asterinas issue #3731), or meets a
 *    leaf; level 1 always stops. Missing intermediate nodes are created
 *    under their parent's lock. Lock the guard, and if it was detached
 *    meanwhile (stray), unlock and start over from the root.
 *
 * 2. Lock every existing node below the guard that intersects the range,
 *    parent before child, siblings in address order (a global pre-order).
 *
 * Phase 1 blocks on a lock only while holding no other lock, and phase 2
 * follows the global order, so cursors cannot deadlock with each other. A
 * node is detached only by a cursor holding it and its parent, so once the
 * guard is locked and not stray, nothing under it can disappear. Release
 * is the exact reverse of phase 2.
 */
#include "internal.h"

static bool guard_here(int level, vms_vaddr_t start, vms_vaddr_t end)
{
	uint64_t size = vms_page_size(level);

	if (level == 1 || vms_pte_index(start, level) != vms_pte_index(end - 1, level))
		return true;
#ifndef VMS_BUG_exact_entry
	/* The range is exactly one entry: stop here, so the entry itself
	 * (an item of this level) stays within the cursor's reach. */
	if (!(start & (size - 1)) && end - start == size)
		return true;
#endif
	return false;
}

/* Span [*lo, *hi) of entry @i of a level-@level node whose span starts at
 * @base, clipped to [start, end). Returns false if they do not meet. */
static bool entry_clip(vms_vaddr_t base, int level, int i, vms_vaddr_t start,
		       vms_vaddr_t end, vms_vaddr_t *lo, vms_vaddr_t *hi)
{
	uint64_t size = vms_page_size(level);
	vms_vaddr_t s = base + (uint64_t)i * size, e = s + size;

	*lo = s > start ? s : start;
	*hi = e < end ? e : end;
	return *lo < *hi;
}

#ifdef VMS_CHECKS
/*
 * Poison builds check the global lock order the way lockdep does, per
 * acquisition instead of per deadlock: within one vms_lock_range, every
 * blocking lock is taken on a node later in the pre-order (parent before
 * child, left before right) than the one before it. Fresh nodes (locked
 * before publication) cannot be waited for and are not counted.
 */
static void order_reset(void)
{
	vms_thread()->last_lock.set = false;
}

/* Node (@base, @level) comes before node (@base2, @level2) in the
 * global pre-order. */
static bool preorder_before(vms_vaddr_t base, int level, vms_vaddr_t base2,
			    int level2)
{
	return base < base2 || (base == base2 && level > level2);
}

/* @n (span start @base) is the node handled last. */
static void order_mark(struct vms_order_mark *last, const struct vms_frame *n,
		       vms_vaddr_t base)
{
	last->base = base;
	last->level = n->level;
	last->set = true;
}

static void order_check(const struct vms_frame *n, vms_vaddr_t base)
{
	struct vms_order_mark *last = &vms_thread()->last_lock;

	if (last->set &&
	    !preorder_before(last->base, last->level, base, n->level))
		/* cov: unreachable: an invariant check fired: only on a broken core */
		vms_invariant_broken(VMS_CHECK_LOCK_ORDER, __func__);
	order_mark(last, n, base);
}

/*
 * And a range unlock releases in phase 2's order reversed: each node
 * released comes before the one released last in the pre-order (children
 * before their parent, siblings in decreasing address order, the guard
 * last), so a waiter granted a node finds nothing below it still held.
 * Only vms_unlock_range's releases count (a detach releases its subtree
 * in its own order).
 */
static void unorder_reset(bool on)
{
	vms_thread()->last_unlock.set = false;
	vms_thread()->last_unlock.on = on;
}

static void unorder_check(const struct vms_frame *n, vms_vaddr_t base)
{
	struct vms_order_mark *last = &vms_thread()->last_unlock;

	if (!last->on)
		return;
	if (last->set &&
	    !preorder_before(base, n->level, last->base, last->level))
		/* cov: unreachable: an invariant check fired: only on a broken core */
		vms_invariant_broken(VMS_CHECK_UNLOCK_ORDER, __func__);
	order_mark(last, n, base);
}
#else
static void order_reset(void) { }
static void order_check(const struct vms_frame *n, vms_vaddr_t base) { }
static void unorder_reset(bool on)
{
}
static void unorder_check(const struct vms_frame *n, vms_vaddr_t base)
{
}
#endif

/* A blocking lock of node @n (span start @base), in the global order. */
static int lock_node(struct vms_frame *n, vms_vaddr_t base)
{
	int ret = vms_node_lock(&n->lock);

	if (!ret)
		order_check(n, base);
	return ret;
}

static void note_unlock(struct vms_frame *n, vms_vaddr_t base)
{
	unorder_check(n, base);
	VMS_NODE_LIVE(n);
	VMS_NODE_MINE(n);
	vms_node_unlock(&n->lock);
}

/*
 * Where a failed phase 2 stopped: the clipped span start and level of the
 * node it could not lock. Phase 2 is a pre-order walk, so a node [lo, hi)
 * was locked before that point iff it lies wholly to the left of it or is
 * one of its ancestors. A full release uses stop = { ~0, 0 }.
 */
struct stop { vms_vaddr_t va; int level; };

static bool locked_before(struct stop st, vms_vaddr_t lo, vms_vaddr_t hi, int level)
{
	return hi <= st.va || (lo <= st.va && st.va < hi && level > st.level);
}

/* Reverse of phase 2 below @node: children in decreasing address order,
 * each child's subtree before the child itself. */
static void dfs_unlock(struct vms_frame *node, vms_vaddr_t base,
		       vms_vaddr_t start, vms_vaddr_t end, struct stop st)
{
	int level = node->level, first = vms_pte_index(start, level);
	vms_pte_t *pte = vms_node_ptes(node);
	uint64_t v;

	if (level == 1)
		return;
	for (int i = vms_pte_index(end - 1, level);
	     (i = vms_pte_prev_locked(pte, i, first, &v)) >= first; i--) {
		vms_vaddr_t lo, hi,
			cbase = base + (uint64_t)i * vms_page_size(level);
		struct vms_frame *child;

		if (!vms_pte_is_table(v) || !entry_clip(base, level, i, start, end, &lo, &hi))
			continue;
		child = vms_pte_child(node->pool, v);
		if (!locked_before(st, lo, hi, child->level))
			continue;
		dfs_unlock(child, cbase, lo, hi, st);
#ifdef VMS_BUG_skip_child_lock
		/* Only nodes this cursor created are locked under the bug. */
		if (vms_node_owner(&child->lock) != vms_thread()->id)
			continue;
#endif
		note_unlock(child, cbase);
	}
}

#ifdef VMS_CHECKS
/* Does this thread hold @node and every node below it meeting the range? */
static bool all_held(struct vms_frame *node, vms_vaddr_t base, vms_vaddr_t start,
		     vms_vaddr_t end)
{
	int level = node->level, last = vms_pte_index(end - 1, level);
	vms_pte_t *pte = vms_node_ptes(node);
	uint64_t v;

	if (vms_node_owner(&node->lock) != vms_thread()->id)
		/* cov: unreachable: a node not held: a broken core */
		return false;
	if (level == 1)
		return true;
	for (int i = vms_pte_index(start, level);
	     (i = vms_pte_next_locked(pte, i, last + 1, &v)) <= last; i++) {
		vms_vaddr_t lo, hi,
			cbase = base + (uint64_t)i * vms_page_size(level);

		if (!vms_pte_is_table(v) || !entry_clip(base, level, i, start, end, &lo, &hi))
			continue;
		if (!all_held(vms_pte_child(node->pool, v), cbase, lo, hi))
			/* cov: unreachable: a node not held: a broken core */
			return false;
	}
	return true;
}
#endif

/* Phase 2: lock every node below @node that meets [start, end). */
static int dfs_lock(struct vms_frame *node, vms_vaddr_t base,
		    vms_vaddr_t start, vms_vaddr_t end, struct stop *failed)
{
	int level = node->level, last = vms_pte_index(end - 1, level);
	vms_pte_t *pte = vms_node_ptes(node);
	uint64_t v;

	if (level == 1)
		return 0;
	for (int i = vms_pte_index(start, level);
	     (i = vms_pte_next_locked(pte, i, last + 1, &v)) <= last; i++) {
		vms_vaddr_t lo, hi,
			cbase = base + (uint64_t)i * vms_page_size(level);
		struct vms_frame *child;
		int ret;

		if (!vms_pte_is_table(v) || !entry_clip(base, level, i, start, end, &lo, &hi))
			continue;	/* leaves are covered by this node's lock */
		child = vms_pte_child(node->pool, v);
#ifndef VMS_BUG_skip_child_lock
		ret = lock_node(child, cbase);
		if (ret) {
			failed->va = lo;
			failed->level = child->level;
			return ret;
		}
#endif
		VMS_NODE_LIVE(child);
		ret = dfs_lock(child, cbase, lo, hi, failed);
		if (ret)
			return ret;
	}
	return 0;
}

/*
 * Phase 1. Returns the locked guard, NULL to retry (it went stray), or an
 * ERR value through *err.
 */
static struct vms_frame *find_guard(struct vms_space *s, vms_vaddr_t start,
				    vms_vaddr_t end, int *err)
{
	struct vms_frame *node = s->root;
	bool held = false;	/* do we hold node's lock already? */
#ifdef VMS_BUG_guard_enomem_unlock
	bool fresh = false;	/* node is a child created here */
#endif

	*err = 0;
	for (;;) {
		int level = node->level;
		vms_pte_t *slot;
		uint64_t v;

		if (guard_here(level, start, end))
			break;
		slot = &vms_node_ptes(node)[vms_pte_index(start, level)];
		v = vms_pte_load(slot);
		if (vms_pte_is_leaf(v))
			break;	/* a huge leaf covers the whole range */
		if (!v) {
			/* Absent: create the child under this node's lock. */
			if (!held) {
				*err = lock_node(node,
						 vms_node_base(start, level));
				if (*err)
					return NULL;
				held = true;
#ifndef VMS_BUG_skip_stray_check
				if (node->stray) {
					vms_node_unlock(&node->lock);
					return NULL;
				}
#endif
				v = vms_pte_load_locked(slot);
			}
			if (vms_pte_is_leaf(v))
				break;
			if (!v) {
				struct vms_frame *child = vms_node_alloc(s->pool, level - 1);

				if (!child) {
#ifdef VMS_BUG_guard_enomem_unlock
					/* Planted: the error path lets go only of a
					 * node it locked itself, not of a fresh child
					 * it created and still holds. */
					if (!fresh)
#endif
					vms_node_unlock(&node->lock);
					*err = -ENOMEM;
					return NULL;
				}
				/* Locked before it is published: nobody can take it
				 * between publication and our use of it. */
				vms_node_lock_fresh(&child->lock);
				vms_pte_store(slot, vms_pte_table(vms_meta_paddr(child)));
				node->nr_children++;
				vms_node_unlock(&node->lock);
				node = child;
#ifdef VMS_BUG_guard_enomem_unlock
				fresh = true;
#endif
				continue;	/* still held: we own the fresh child */
			}
		}
		/* A child table: follow it without a lock. */
		if (held) {
			vms_node_unlock(&node->lock);
			held = false;
		}
		node = vms_pte_child(s->pool, v);
		VMS_NODE_LIVE(node);
	}
	if (!held) {
#ifdef VMS_BUG_stray_check_early
		/* Planted: the node is checked before its lock is taken, so
		 * a detach while this thread waits for the lock goes unseen. */
		if (node->stray)
			return NULL;
#endif
		*err = lock_node(node, vms_node_base(start, node->level));
		if (*err)
			return NULL;
	}
	VMS_NODE_LIVE(node);
#if !defined(VMS_BUG_skip_stray_check) && !defined(VMS_BUG_stray_check_early)
	/* Detached while we walked to it or waited for its lock: the walk
	 * read a stale parent entry. The memory is still valid (RCU). */
	if (node->stray) {
		vms_node_unlock(&node->lock);
		return NULL;
	}
#endif
	return node;
}

int vms_lock_range(struct vms_space *s, vms_vaddr_t start, vms_vaddr_t end,
		   struct vms_frame **guard)
{
	struct vms_frame *g;
	struct stop failed;
	int ret;

	do {
		order_reset();
		g = find_guard(s, start, end, &ret);
		if (ret)
			return ret;
	} while (!g);
#ifdef VMS_BUG_lock_order
	/* Planted: children first, guard last - against the global order,
	 * so two cursors under one guard can each hold what the other needs. */
	vms_node_unlock(&g->lock);
	ret = dfs_lock(g, vms_node_base(start, g->level), start, end, &failed);
	if (!ret)
		ret = lock_node(g, vms_node_base(start, g->level));
	if (!ret && g->stray)
		ret = -EAGAIN;	/* a buggy protocol, kept simple: report it */
#else
	ret = dfs_lock(g, vms_node_base(start, g->level), start, end, &failed);
#endif
	if (ret) {
		/* -EDEADLK: this thread holds a node we need through another
		 * cursor. Give back what we took, in reverse. */
		dfs_unlock(g, vms_node_base(start, g->level), start, end,
			   failed);
		note_unlock(g, vms_node_base(start, g->level));
		return ret;
	}
#ifdef VMS_CHECKS
	/* The protocol's postconditions: the guard is in the tree (a node is
	 * detached only by a cursor holding it, so it stays there), and this
	 * thread holds it and every node below it that meets the range. */
	if (__atomic_load_n(&g->stray, __ATOMIC_RELAXED))
		/* cov: unreachable: an invariant check fired: only on a broken core */
		vms_invariant_broken(VMS_CHECK_STRAY_GUARD, __func__);
	else if (!all_held(g, vms_node_base(start, g->level), start, end))
		/* cov: unreachable: an invariant check fired: only on a broken core */
		vms_invariant_broken(VMS_CHECK_UNLOCKED_DESC, __func__);
#endif
	*guard = g;
	return 0;
}

void vms_unlock_range(struct vms_frame *guard, vms_vaddr_t start, vms_vaddr_t end)
{
	struct stop all = { (vms_vaddr_t)-1, 0 };

	vms_vaddr_t base = vms_node_base(start, guard->level);

	unorder_reset(true);
#ifdef VMS_BUG_unlock_order
	/* Planted: release the guard first, then the children. */
	note_unlock(guard, base);
	dfs_unlock(guard, base, start, end, all);
#else
	dfs_unlock(guard, base, start, end, all);
	note_unlock(guard, base);
#endif
	unorder_reset(false);
}

#ifdef VMS_CHECKS
/* A detached subtree is dead all through: every node stray (a walker
 * that reaches one through a stale entry must see it is dead) and no
 * longer locked by the detaching thread. Another thread may hold one for
 * a moment: a walker that waited on its lock takes it, sees stray and
 * lets go. */
void vms_check_detached(struct vms_frame *node)
{
	vms_pte_t *pte = vms_node_ptes(node);
	uint64_t v;

	if (!__atomic_load_n(&node->stray, __ATOMIC_RELAXED) ||
	    vms_node_owner(&node->lock) == vms_thread()->id) {
		/* cov: unreachable: an invariant check fired: only on a broken core */
		vms_invariant_broken(VMS_CHECK_DETACHED, __func__);
		return;
	}
	if (node->level == 1)
		return;
	for (int i = 0; (i = vms_pte_next_locked(pte, i, VMS_NR_ENTRIES, &v)) <
			VMS_NR_ENTRIES;
	     i++) {
		if (vms_pte_is_table(v))
			vms_check_detached(vms_pte_child(node->pool, v));
	}
}
#endif

bool vms_tree_locked(struct vms_frame *node)
{
	vms_pte_t *pte = vms_node_ptes(node);
	unsigned left;
	uint64_t v;

	if (vms_node_owner_acquire(&node->lock))
		return true;
	/* Free: its entry count, written under the lock, is current. Stop
	 * at the last entry in use (a walk of all 512 slots of every node
	 * cost a controlled execution a tenth of its time). */
	left = node->level > 1 ? node->nr_children : 0;
	for (int i = 0; left && (i = vms_pte_next(pte, i, VMS_NR_ENTRIES, &v)) <
					VMS_NR_ENTRIES;
	     i++) {
		left--;
		if (vms_pte_is_table(v) && vms_tree_locked(vms_pte_child(node->pool, v)))
			return true;
	}
	return false;
}

uint64_t vms_detach_subtree(struct vms_frame *node, vms_vaddr_t base)
{
	vms_pte_t *pte = vms_node_ptes(node);
	uint64_t leaves = 0, v;
	unsigned left = node->nr_children;

	/* Under the node's lock its entry count is exact: stop at the last
	 * entry in use (vms_check_detached, next, looks at all of them). */
	for (int i = 0; left && (i = vms_pte_next_locked(pte, i, VMS_NR_ENTRIES,
							 &v)) < VMS_NR_ENTRIES;
	     i++) {
		left--;
		if (vms_pte_is_leaf(v))
			leaves++;
#ifndef VMS_BUG_stray_root_only
		else
			leaves += vms_detach_subtree(vms_pte_child(node->pool, v),
					base + (uint64_t)i * vms_page_size(node->level));
#else
		else
			leaves += vms_pte_child(node->pool, v)->nr_children;
#endif
	}
	/* Stray before unlock: a walker that waited on this lock must see
	 * that the node is dead once it gets it. */
	node->stray = 1;
	note_unlock(node, base);
	return leaves;
}
