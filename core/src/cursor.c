/* SPDX-License-Identifier: MIT */
/*
 * cursor.c - cursor operations: query, find_next, jump, map, unmap,
 * protect_next.
 *
 * A cursor holds every node below its guard that meets its range, so the
 * operations below read PTEs with plain (relaxed) loads and walk down from
 * the guard afresh each time: at most four steps, no path cache to keep
 * coherent. Every store is a release so that lock-free walkers (the
 * simulated MMU, other cursors' phase 1) see fully built nodes.
 *
 * Nodes an operation needs are allocated before it changes anything, so
 * -ENOMEM always leaves the mappings as they were.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE	/* PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP */
#endif
#include <stdlib.h>
#include "internal.h"

#ifdef VMS_GLOBAL_LOCK
/* Baseline for the benchmarks: one lock around every cursor session.
 * Recursive so a thread may hold several cursors, as in the real core. */
static vms_mutex_t global_lock = VMS_MUTEX_RECURSIVE_INIT;
#endif

static bool range_ok(vms_vaddr_t start, vms_vaddr_t end)
{
	return !(start & (VMS_PAGE_SIZE - 1)) && !(end & (VMS_PAGE_SIZE - 1)) &&
	       start < end && end <= VMS_USER_END;
}

/* ---- the per-thread cursor cache ---- */

/* Dropped cursors a thread keeps for reuse: the harnesses hold one cursor
 * per thread, so one would do; a few cover nested sessions. */
#define CURSOR_CACHE		4

/* Items a new defer batch has room for: this many times the retire batch
 * (a weight), as a frame retired again right after itself weighs nothing
 * (defer_frame), so such items fill a batch by count, not weight. */
#define DEFER_ITEMS_PER_WEIGHT	4
/* At most this many (32 KiB): a larger retire batch fills a thread's
 * batch by count. Sized to the batch, a pool at VMS_RETIRE_BATCH_MAX (the
 * fuzz executor's) made every fresh cursor malloc 2 MiB, which glibc took
 * from brk and gave back: a tenth of vmt-replay's time. */
#define DEFER_ITEMS_MAX		(DEFER_ITEMS_PER_WEIGHT * VMS_RETIRE_BATCH)

static uint64_t defer_batch_items(const struct vms_cursor *c)
{
	uint64_t n = DEFER_ITEMS_PER_WEIGHT *
		     (uint64_t)atomic_load_explicit(&c->pool->deferred.batch, memory_order_relaxed);

	return n < DEFER_ITEMS_MAX ? n : DEFER_ITEMS_MAX;
}

static struct vms_cursor *cursor_get(void)
{
	struct vms_thread *t = vms_thread();
	struct vms_cursor *c = t->cursor_cache;

	/* Asked before the cache is: whether a program's nth allocation
	 * fails must not depend on what earlier programs left cached. */
	if (VMS_FAULT(VMS_FAULT_CURSOR))
		return NULL;
	if (!c)
		return calloc(1, sizeof(*c));	/* last_frame 0: no frame */
	t->cursor_cache = c->next;
	t->nr_cached--;
	return c;
}

static void cursor_put(struct vms_cursor *c)
{
	struct vms_thread *t = vms_thread();

	/* A cached cursor keeps its defer batch, unless a big unmap grew it
	 * past the size defer_reserve starts with. */
	if (c->defer && c->defer->cap > defer_batch_items(c)) {
		free(c->defer);
		c->defer = NULL;
	}
	if (t->nr_cached >= CURSOR_CACHE) {
		/* cov: unreachable: cache full: <= 3 cursors a thread (cursor_try's too) */
		free(c->defer);
		free(c);
		return;
	}
	c->next = t->cursor_cache;
	t->cursor_cache = c;
	t->nr_cached++;
}

void vms_cursor_cache_free(struct vms_thread *t)
{
	while (t->cursor_cache) {
		struct vms_cursor *c = t->cursor_cache;

		t->cursor_cache = c->next;
		free(c->defer);
		free(c);
	}
	t->nr_cached = 0;
}

static int cursor_open(struct vms_space *s, vms_vaddr_t start, vms_vaddr_t end,
		       bool mut, struct vms_cursor **out)
{
	struct vms_cursor *c;
	int ret;

	if (!s || !out || !range_ok(start, end))
		return -EINVAL;
	c = cursor_get();
	if (!c)
		return -ENOMEM;
	if (c->pool != s->pool || c->resets != s->pool->resets) {
		/* An address in another pool, or in this one before a reset
		 * made it new: no longer a frame this thread holds back. */
		c->last_frame = 0;
		c->resets = s->pool->resets;
	}
	c->space = s;
	c->pool = s->pool;
	c->start = c->va = start;
	c->end = end;
	c->mut = mut;
	c->next = NULL;
#ifdef VMS_GLOBAL_LOCK
	vms_mutex_lock(&global_lock);
#endif
	vms_rcu_read_lock();
	ret = vms_lock_range(s, start, end, &c->guard);
	if (ret == -ENOMEM && vms_thread()->rcu_nesting == 1) {
		/* Nodes may be waiting for a grace period (the reclaimer
		 * lags under load): get them back, outside our read-side
		 * section, and try once more. */
		vms_rcu_read_unlock();
		vms_pool_quiesce(s->pool);
		vms_rcu_read_lock();
		ret = vms_lock_range(s, start, end, &c->guard);
	}
	if (ret) {
		vms_rcu_read_unlock();
#ifdef VMS_GLOBAL_LOCK
		vms_mutex_unlock(&global_lock);
#endif
		cursor_put(c);
		return ret;
	}
	c->guard_level = c->guard->level;
#ifdef VMS_BUG_ro_no_excl
	/* Planted: a read-only cursor lets go of its locks at once, so it
	 * no longer excludes writers on its range. */
	if (!mut)
		vms_unlock_range(c->guard, start, end);
#endif
	*out = c;
	return 0;
}

int vms_cursor_new(struct vms_space *s, vms_vaddr_t start, vms_vaddr_t end,
		   struct vms_cursor **out)
{
	return cursor_open(s, start, end, false, out);
}

int vms_cursor_mut_new(struct vms_space *s, vms_vaddr_t start, vms_vaddr_t end,
		       struct vms_cursor **out)
{
	return cursor_open(s, start, end, true, out);
}

void vms_cursor_drop(struct vms_cursor *c)
{
	struct vms_pool *p;

	if (!c)
		return;
	p = c->pool;
#ifdef VMS_BUG_ro_no_excl
	if (c->mut)
#endif
	vms_unlock_range(c->guard, c->start, c->end);
	vms_rcu_read_unlock();
#ifdef VMS_GLOBAL_LOCK
	vms_mutex_unlock(&global_lock);
#endif
	if (vms_defer_retire(&p->deferred, &c->defer))
		c->last_frame = 0;	/* no longer held back by this thread */
	cursor_put(c);
}

vms_vaddr_t vms_cursor_va(const struct vms_cursor *c)
{
	return c ? c->va : 0;
}

/* ---- helpers ---- */

/* Make room for @extra more deferred items. A new batch is sized for the
 * pool's retire batch: once handed to the thread (at drop) it fills up
 * to that weight, or to its room in items. */
static int defer_reserve(struct vms_cursor *c, uint64_t extra)
{
	struct vms_defer_batch *b = c->defer;
	uint64_t n, need, cap;

	/* A batch a reclaim emptied, before the heap's (sync.h, spares). */
	if (!b && (b = vms_defer_spare_take(&c->pool->deferred)))
		c->defer = b;
	n = b ? b->n : 0;
	need = n + extra;
	/* A batch kept in a cached cursor may have room already; the site
	 * asks for a fault either way, so that the nth fault of a program
	 * does not depend on what earlier sessions left behind. */
	if (b && b->cap >= need)
		return VMS_FAULT(VMS_FAULT_BATCH) ? -ENOMEM : 0;
	cap = n ? b->cap * 2 : defer_batch_items(c);
	if (cap < need)
		cap = need;
#ifdef VMS_BUG_defer_realloc_lost
	/* Planted: the textbook realloc mistake, assigning over the only
	 * pointer to the batch: on failure the releases it held are lost. */
	c->defer = vms_realloc(c->defer, sizeof(*b) + cap * sizeof(b->item[0]), VMS_FAULT_BATCH);
	if (!c->defer)
		return -ENOMEM;
	if (!b) {
		c->defer->n = 0;
		/* As the correct path: a replay must not read garbage. */
		c->defer->weight = 0;
	}
	c->defer->cap = (uint32_t)cap;
	return 0;
#endif
	b = vms_realloc(b, sizeof(*b) + cap * sizeof(b->item[0]), VMS_FAULT_BATCH);
	if (!b)
		return -ENOMEM;
	if (!c->defer)
		b->weight = 0;
	b->n = (uint32_t)n;
	b->cap = (uint32_t)cap;
	c->defer = b;
	return 0;
}

/* The leaf @leaf_pte of a level-@level slot: it weighs what it mapped,
 * unless this cursor (in this session or an earlier one, since its
 * thread last handed a batch over) retired the same frame last: that
 * release holds the frame back already. (If that one went meanwhile, by
 * a quiesce or another cursor's hand-over, one item goes uncounted.) */
static void defer_frame(struct vms_cursor *c, uint64_t leaf_pte, int level)
{
	struct vms_frame *f = vms_frame_owner(c->pool, vms_pte_paddr(leaf_pte));
	uint64_t item = vms_meta_paddr(f);

#ifdef VMS_BUG_put_no_grace
	/* Planted: release at once, as if no lock-free reader could still
	 * be copying from the frame. */
	vms_frame_ref_put(f, 1);
	return;
#endif
	c->defer->item[c->defer->n++] = item;
	if (item != c->last_frame)
		c->defer->weight += vms_page_size(level) >> VMS_PAGE_SHIFT;
	c->last_frame = item;
}

/* @leaves: what the subtree maps (its weight, with the node, roughly). */
static void defer_subtree(struct vms_cursor *c, struct vms_frame *node, uint64_t leaves)
{
#ifdef VMS_BUG_free_node_no_grace
	vms_subtree_free(node);
	return;
#endif
	c->defer->item[c->defer->n++] = vms_meta_paddr(node) | VMS_DEFER_SUBTREE;
	c->defer->weight += 1 + leaves;
}

static int check_len(const struct vms_cursor *c, uint64_t len)
{
#ifdef VMS_BUG_len_overflow
	/* Planted (asterinas #3159 / 88975690e): va + len computed before
	 * the bound check, so a huge len wraps around and passes. */
	if (!len || (len & (VMS_PAGE_SIZE - 1)) || c->va + len > c->end)
		return -EINVAL;
	return 0;
#endif
	if (!len || (len & (VMS_PAGE_SIZE - 1)) || len > c->end - c->va)
		return -EINVAL;
	return 0;
}

static vms_pte_t *slot_of(struct vms_frame *node, vms_vaddr_t va)
{
	return &vms_node_ptes(node)[vms_pte_index(va, node->level)];
}

/* Walk down from the guard toward @va through child tables, stopping at
 * the first entry that is not a table or at a node of level @stop. Returns
 * that entry, its node in *@nodep; the cursor holds every node on the way. */
static uint64_t walk(struct vms_cursor *c, vms_vaddr_t va, int stop,
		     struct vms_frame **nodep)
{
	struct vms_frame *node = c->guard;
	uint64_t v;

	for (;;) {
		v = vms_pte_load_locked(slot_of(node, va));
		if (!vms_pte_is_table(v) || node->level <= stop)
			break;
		node = vms_pte_child(c->pool, v);
	}
	*nodep = node;
	return v;
}

/*
 * Replace the leaf in *@slot (level @level >= 2) by a child table of 512
 * leaves one level down, same frame and property: the mapping set does not
 * change. @child is a fresh node. Each new PTE holds its own reference on
 * the (2 MiB) frame.
 */
static void split_leaf(struct vms_cursor *c, vms_pte_t *slot, uint64_t v,
		       struct vms_frame *child)
{
	vms_pte_t *cpte = vms_node_ptes(child);
	uint64_t sub = vms_page_size(child->level);
	uint64_t bits = v & ~PTE_ADDR;
	vms_paddr_t pa = vms_pte_paddr(v);

#ifdef VMS_BUG_split_loses_prop
	bits = PTE_PS | PTE_P | PTE_W | PTE_NX;
#endif
	vms_node_lock_fresh(&child->lock);
#ifdef VMS_BUG_split_publish_early
	/* Planted: the table goes into its parent before its entries are
	 * written; a lock-free walker in between finds it empty. */
	vms_pte_store(slot, vms_pte_table(vms_meta_paddr(child)));
	vms_frame_ref_add(vms_frame_owner(c->pool, pa), VMS_NR_ENTRIES - 1);
	for (int i = 0; i < VMS_NR_ENTRIES; i++)
		vms_pte_init(&cpte[i], (pa + (uint64_t)i * sub) | bits);
	child->nr_children = VMS_NR_ENTRIES;
	return;
#endif
	for (int i = 0; i < VMS_NR_ENTRIES; i++)
		vms_pte_init(&cpte[i], (pa + (uint64_t)i * sub) | bits);
	child->nr_children = VMS_NR_ENTRIES;
	vms_frame_ref_add(vms_frame_owner(c->pool, pa), VMS_NR_ENTRIES - 1);
	vms_pte_store(slot, vms_pte_table(vms_meta_paddr(child)));
}

/* Pre-allocated nodes for one operation. */
struct prealloc { struct vms_frame *node[VMS_NR_LEVELS]; int n, used; };

static int prealloc_fill(struct vms_pool *p, struct prealloc *pa, int n)
{
	pa->n = pa->used = 0;
	while (pa->n < n) {
		pa->node[pa->n] = vms_node_alloc(p, 1);
		if (!pa->node[pa->n])
			return -ENOMEM;
		pa->n++;
	}
	return 0;
}

static struct vms_frame *prealloc_take(struct prealloc *pa, int level)
{
	struct vms_frame *n = pa->node[pa->used++];

	n->level = (uint8_t)level;
	return n;
}

static void prealloc_release(struct prealloc *pa)
{
	while (pa->n > pa->used)
		vms_node_free(pa->node[--pa->n]);
}

/* ---- read-only operations ---- */

int vms_cursor_query(struct vms_cursor *c, struct vms_mapping *m)
{
	struct vms_frame *node;
	uint64_t v, size;

	if (!c || !m || c->va >= c->end)
		return -EINVAL;
	v = walk(c, c->va, 1, &node);
	size = vms_page_size(node->level);
	m->start = vms_align_down(c->va, size);
	m->end = m->start + size;
	m->level = node->level;
	if (vms_pte_is_leaf(v)) {
		m->paddr = vms_pte_paddr(v);
		m->frame = vms_frame_owner(c->pool, m->paddr);
		m->prop = vms_pte_prop(v);
	} else {
		m->paddr = 0;
		m->frame = NULL;
		m->prop = (struct vms_prop){ 0, 0, 0 };
	}
	return 0;
}

/* How many entries of that node (span start @base) begin below @lim. */
static int entries_before(vms_vaddr_t base, uint64_t size, vms_vaddr_t lim)
{
	if (lim - base >= size * VMS_NR_ENTRIES)
		return VMS_NR_ENTRIES;
	return (int)((lim - base + size - 1) / size);
}

/*
 * Scan [cur, lim) for the first leaf. Absent slots and empty child tables
 * are skipped whole; the scan runs along a node's slots and walks down
 * from the guard again only when it leaves the node. Returns the leaf's
 * slot (and its node) or NULL; *cur ends at the leaf address or at/after
 * lim.
 */
static vms_pte_t *scan_leaf(struct vms_cursor *c, vms_vaddr_t *cur, vms_vaddr_t lim,
			    struct vms_frame **nodep)
{
	struct vms_frame *node = c->guard;

	while (*cur < lim) {
		vms_pte_t *pte = vms_node_ptes(node);
		uint64_t size = vms_page_size(node->level), v;
		vms_vaddr_t base = vms_node_base(*cur, node->level);
		int i = vms_pte_index(*cur, node->level), j,
		    end = entries_before(base, size, lim);
		struct vms_frame *child = NULL;

		for (; (j = vms_pte_next_locked(pte, i, end, &v)) < end;
		     i = j + 1) {
			/* *cur stays where it is inside its own entry */
			if (j != i)
				*cur = base + (uint64_t)j * size;
			if (vms_pte_is_leaf(v)) {
				*nodep = node;
				return &pte[j];
			}
			if ((child = vms_pte_child(c->pool, v))->nr_children)
				break;
			child = NULL;
			*cur = base + (uint64_t)(j + 1) * size;
		}
		if (!child)
			*cur = base + (uint64_t)end * size;
		/* Down into a table, or past the node's last slot: the next
		 * slot hangs elsewhere, found from the guard. */
		node = child ? child : c->guard;
	}
	return NULL;
}

int vms_cursor_find_next(struct vms_cursor *c, uint64_t len, vms_vaddr_t *found)
{
	struct vms_frame *node;
	vms_vaddr_t cur, lim;

	if (!c || check_len(c, len))
		return -EINVAL;
	cur = c->va;
	lim = c->va + len;
#ifdef VMS_BUG_find_next_end
	lim -= VMS_PAGE_SIZE;	/* planted: the last page of the window is never searched */
#endif
	if (scan_leaf(c, &cur, lim, &node)) {
		c->va = cur;
		if (found)
			*found = cur;
		return 1;
	}
	c->va = c->va + len;
	return 0;
}

int vms_cursor_jump(struct vms_cursor *c, vms_vaddr_t va)
{
	if (!c || (va & (VMS_PAGE_SIZE - 1)) || va < c->start || va >= c->end)
		return -EINVAL;
	c->va = va;
	return 0;
}

/* ---- mutating operations ---- */

int vms_cursor_map(struct vms_cursor *c, struct vms_frame *frame, struct vms_prop prop)
{
	struct vms_frame *node;
	struct prealloc pa;
	vms_pte_t *slot;
	uint64_t v, size;
	int level, need = 0, replaced = 0;

	if (!c)
		return -EINVAL;
	if (!c->mut)
		return -EPERM;
	/* A frame without a handle is refused before anything is allocated,
	 * so -EINVAL comes before -ENOMEM as cursor.h says; the decrement
	 * below stays the real test (another thread may put the last handle
	 * in between). */
	if (!vms_frame_is_data(frame) || frame->pool != c->pool || !vms_prop_valid(prop) ||
	    !vms_ref_read(&frame->handles))
		return -EINVAL;
	level = frame->level;
	size = vms_page_size(level);
	if (c->va >= c->end || (c->va & (size - 1)) || size > c->end - c->va ||
	    level > c->guard_level)
		return -EINVAL;

	/* Plan: nodes needed between the guard and the item's level. */
	walk(c, c->va, level, &node);
	need = node->level - level;
	if (prealloc_fill(c->pool, &pa, need) || defer_reserve(c, 1)) {
		prealloc_release(&pa);
		return -ENOMEM;
	}
	/* One of the caller's handles on the frame moves into the PTE. */
	if (!vms_ref_dec_not_zero(&frame->handles)) {
		/* cov: unreachable: handles read above; only their owner thread puts them */
		prealloc_release(&pa);
		return -EINVAL;
	}

	for (node = c->guard; node->level > level; ) {
		slot = slot_of(node, c->va);
		v = vms_pte_load_locked(slot);
		if (vms_pte_is_table(v)) {
			node = vms_pte_child(c->pool, v);
			continue;
		}
		struct vms_frame *child = prealloc_take(&pa, node->level - 1);

		if (v) {
			split_leaf(c, slot, v, child);
		} else {
			vms_node_lock_fresh(&child->lock);
			vms_pte_store(slot, vms_pte_table(vms_meta_paddr(child)));
			node->nr_children++;
		}
		node = child;
	}

	slot = slot_of(node, c->va);
	v = vms_pte_load_locked(slot);
	vms_pte_store(slot, vms_pte_leaf(vms_meta_paddr(frame), prop));
	if (!v) {
		node->nr_children++;
	} else if (vms_pte_is_leaf(v)) {
#ifndef VMS_BUG_remap_leak
		defer_frame(c, v, level);
#endif
		replaced = 1;
	} else {
		/* A 2 MiB item over a child table: the table goes, whole. */
		struct vms_frame *child = vms_pte_child(c->pool, v);
		uint64_t leaves = vms_detach_subtree(child, c->va);

		replaced = leaves > 0;
		vms_check_detached(child);
		defer_subtree(c, child, leaves);
	}
	c->va += size;
	return replaced;
}

long vms_cursor_unmap(struct vms_cursor *c, uint64_t len)
{
	vms_vaddr_t cur, lim, edge[2];
	uint64_t bound, prev_leaf = ~0ULL;
	struct prealloc pa;
	long count = 0;
	int splits = 0;

	if (!c)
		return -EINVAL;
	if (!c->mut)
		return -EPERM;
	if (check_len(c, len))
		return -EINVAL;
	lim = c->va + len;

	/* Only the leaves containing the first and last page can straddle
	 * the range: they are the only ones that may need a split. */
	edge[0] = c->va;
	edge[1] = lim - VMS_PAGE_SIZE;
	for (int k = 0; k < 2; k++) {
		struct vms_frame *node;
		uint64_t v = walk(c, edge[k], 1, &node);

		if (vms_pte_is_leaf(v) && node->level > 1) {
			uint64_t size = vms_page_size(node->level);
			vms_vaddr_t s0 = vms_align_down(edge[k], size);

			if ((s0 < c->va || s0 + size > lim) && s0 != prev_leaf) {
				splits++;
				prev_leaf = s0;
			}
		}
	}
	/* Each removal empties a PTE of a page inside the range; at most the
	 * guard and two partly covered nodes per level lose entries. */
	bound = len / VMS_PAGE_SIZE;
	if (bound > (uint64_t)VMS_NR_ENTRIES * (2 * c->guard_level - 1))
		bound = (uint64_t)VMS_NR_ENTRIES * (2 * c->guard_level - 1);
	if (prealloc_fill(c->pool, &pa, splits) || defer_reserve(c, bound)) {
		prealloc_release(&pa);
		return -ENOMEM;
	}

	for (cur = c->va; cur < lim; ) {
		struct vms_frame *node = c->guard;

		for (;;) {
			vms_pte_t *slot = slot_of(node, cur);
			uint64_t v = vms_pte_load_locked(slot);
			uint64_t size = vms_page_size(node->level);
			vms_vaddr_t s0 = vms_align_down(cur, size);
			bool inside = s0 >= cur && s0 + size <= lim;

			if (!v) {
				/* Absent: on to the node's next entry in use. */
				vms_vaddr_t base =
					vms_node_base(cur, node->level);
				int i = vms_pte_index(cur, node->level) + 1;

				i = vms_pte_next_locked(
					vms_node_ptes(node), i,
					entries_before(base, size, lim), &v);
				cur = base + (uint64_t)i * size;
				break;
			}
			if (vms_pte_is_table(v) && !inside) {
				node = vms_pte_child(c->pool, v);
				continue;
			}
			if (vms_pte_is_leaf(v) && !inside) {
				split_leaf(c, slot, v, prealloc_take(&pa, node->level - 1));
				continue;
			}
			/* Wholly inside: the parent entry goes first, then the
			 * detached subtree is marked stray and unlocked. */
			vms_pte_store(slot, 0);
			node->nr_children--;
			if (vms_pte_is_leaf(v)) {
				defer_frame(c, v, node->level);
				count++;
			} else {
				struct vms_frame *child = vms_pte_child(c->pool, v);
				uint64_t leaves = vms_detach_subtree(child, s0);

				count += (long)leaves;
				vms_check_detached(child);
				defer_subtree(c, child, leaves);
			}
			cur = s0 + size;
			break;
		}
	}
	prealloc_release(&pa);
	c->va = lim;
	return count;
}

int vms_cursor_protect_next(struct vms_cursor *c, uint64_t len, vms_protect_fn fn,
			    void *arg, vms_vaddr_t *start, vms_vaddr_t *end)
{
	struct vms_frame *node;
	struct vms_prop old, new;
	vms_vaddr_t cur, lim, s0;
	vms_pte_t *slot;
	uint64_t v, size;

	if (!c)
		return -EINVAL;
	if (!c->mut)
		return -EPERM;
	if (!fn || check_len(c, len))
		return -EINVAL;
	cur = c->va;
	lim = c->va + len;
	for (;;) {
		slot = scan_leaf(c, &cur, lim, &node);
		if (!slot) {
			c->va = lim;
			return 0;
		}
		v = vms_pte_load_locked(slot);
		size = vms_page_size(node->level);
		s0 = vms_align_down(cur, size);
		if (node->level == 1 || (s0 >= cur && s0 + size <= lim))
			break;
		/* Entered mid-way or sticking out: split, then look again. */
		struct vms_frame *child = vms_node_alloc(c->pool, node->level - 1);

		if (!child)
			return -ENOMEM;
		split_leaf(c, slot, v, child);
	}
	old = new = vms_pte_prop(v);
	fn(&new, arg);
	new.priv = old.priv;	/* privileged flags are not the caller's */
	if (!vms_prop_valid(new))
		return -EINVAL;
	if (!vms_prop_equal(old, new))
		vms_pte_store(slot, vms_pte_leaf(vms_pte_paddr(v), new));
	if (start)
		*start = s0;
	if (end)
		*end = s0 + size;
	c->va = s0 + size;
	return 1;
}
