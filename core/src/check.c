/* SPDX-License-Identifier: MIT */
/*
 * check.c - the structural checker: the seed's ghost invariants, checked
 * by walking every tree of the pool at quiescence.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"

struct walk {
	struct vms_pool *pool;
	struct vms_check_report *rep;	/* counts go here for the checked space */
	bool counting;
	uint32_t *refs;			/* per frame: PTEs (data) or parents (nodes) */
	uint64_t nrefs;			/* frames in the chunks handed out */
	unsigned errors;
	char first[256];
};

/* A violation of check @kind (at page-table @level, 0: none); the first
 * one goes into the report. */
static void fail(struct walk *w, enum vms_check kind, int level, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void fail(struct walk *w, enum vms_check kind, int level, const char *fmt, ...)
{
	va_list ap;

	if (!w->errors++) {
		w->rep->kind = kind;
		w->rep->level = level;
		va_start(ap, fmt);
		vsnprintf(w->first, sizeof(w->first), fmt, ap);
		va_end(ap);
	}
}

static void walk_node(struct walk *w, struct vms_frame *node, int level, vms_vaddr_t base)
{
	vms_pte_t *pte = vms_node_ptes(node);
	uint64_t v;
	int nonzero = 0, last = level == VMS_NR_LEVELS ? VMS_NR_ENTRIES / 2 : VMS_NR_ENTRIES;

	if (node->kind != VMS_FRAME_PT || node->level != level) {
		fail(w, VMS_CHECK_NODE_KIND, level, "node %#lx at va %#lx: kind %d level %d, expected a level-%d table",
		     vms_meta_paddr(node), base, node->kind, node->level, level);
		return;
	}
	if ((uint64_t)(node - w->pool->meta) >= w->nrefs) {
		fail(w, VMS_CHECK_NODE_UNCARVED, level, "node %#lx at va %#lx lies in a chunk never handed out",
		     vms_meta_paddr(node), base);
		return;
	}
	if (w->refs[node - w->pool->meta]++) {
		fail(w, VMS_CHECK_NODE_TWICE, level, "node %#lx reachable twice", vms_meta_paddr(node));
		return;
	}
	if (w->counting)
		w->rep->nodes++;
	if (node->stray)
		fail(w, VMS_CHECK_NODE_STRAY, level, "stray node %#lx reachable at va %#lx", vms_meta_paddr(node), base);
	if (vms_node_owner(&node->lock))
		fail(w, VMS_CHECK_NODE_LOCKED, level, "node %#lx at va %#lx still locked by thread %u", vms_meta_paddr(node),
		     base, vms_node_owner(&node->lock));
	/* Every entry, not just the nr_children the node counts: the check
	 * compares the two. */
	for (int i = 0;
	     (i = vms_pte_next(pte, i, VMS_NR_ENTRIES, &v)) < VMS_NR_ENTRIES;
	     i++) {
		uint64_t size = vms_page_size(level);
		vms_vaddr_t va = base + (uint64_t)i * size;
		vms_paddr_t pa = vms_pte_paddr(v);

		nonzero++;
		if (i >= last) {
			fail(w, VMS_CHECK_KERNEL_HALF, level, "root entry %d (kernel half) is not empty", i);
			continue;
		}
		if (vms_pte_is_leaf(v)) {
			struct vms_frame *f = vms_frame_owner(w->pool, pa);

			if ((v & ~PTE_ADDR & ~PTE_LEAF_BITS) || level > VMS_HIGHEST_TRANSLATION_LEVEL ||
			    (pa & (size - 1))) {
				fail(w, VMS_CHECK_BAD_LEAF, level, "bad leaf pte %#lx at va %#lx level %d", v, va, level);
			} else if (!f || vms_page_size(f->level) < size ||
				   (uint64_t)(f - w->pool->meta) >= w->nrefs) {
				fail(w, VMS_CHECK_LEAF_NO_FRAME, level, "leaf at va %#lx maps %#lx, not inside a live data frame of "
				     "at least its size", va, pa);
			} else {
				w->refs[f - w->pool->meta]++;
				if (w->counting) {
					w->rep->leaves++;
					w->rep->mapped_bytes += size;
				}
			}
		} else if ((v & ~PTE_ADDR) != PTE_TABLE_BITS || level == 1 ||
			   !vms_pa_in_pool(w->pool, pa)) {
			fail(w, VMS_CHECK_BAD_TABLE, level, "bad table pte %#lx at va %#lx level %d", v, va, level);
		} else {
			walk_node(w, vms_meta(w->pool, pa), level - 1, va);
		}
	}
	if (nonzero != node->nr_children)
		fail(w, VMS_CHECK_NR_CHILDREN, level, "node %#lx at va %#lx: nr_children %u but %d entries in use",
		     vms_meta_paddr(node), base, node->nr_children, nonzero);
}

/* Frame @i's part of check_frames. Its count goes back to 0: every
 * count the walk raised is a frame check_frames visits, so the counts are
 * all zero again when the check ends (refs_take). */
static void check_frame(struct walk *w, uint64_t i, uint64_t *data,
			uint64_t *pt)
{
	struct vms_frame *f = &w->pool->meta[i];
	uint32_t refs = w->refs[i];
	uint64_t rc, h;

	w->refs[i] = 0;
	switch (f->kind) {
	case VMS_FRAME_DATA:
		rc = vms_ref_read(&f->refcount);
		h = vms_ref_read(&f->handles);
		*data += f->level == 1 ? 1 : VMS_CHUNK_FRAMES;
		if (rc != refs + h)
			fail(w, VMS_CHECK_REFCOUNT, 0,
			     "L%d frame %#lx: refcount %lu != %u PTEs + %lu handles",
			     f->level, i << VMS_PAGE_SHIFT, rc, refs, h);
		break;
	case VMS_FRAME_PT:
		++*pt;
		if (refs != 1)
			fail(w, VMS_CHECK_NODE_LEAKED, f->level,
			     "node %#lx is not reachable from any space (leaked)",
			     i << VMS_PAGE_SHIFT);
		break;
	default:
		break;
	}
}

/*
 * Every data frame's refcount = PTE references + handles; every node is
 * reachable exactly once; the counters add up. Frames in use are a chunk
 * that is one 2 MiB frame, or 4K frames handed out since the pool was
 * made or reset, each with its dirty bit set (pool.c): only those are
 * read, in address order, so a check costs what the run allocated, not
 * the chunks it carved.
 */
static void check_frames(struct walk *w)
{
	struct vms_pool *p = w->pool;
	uint64_t data = 0, pt = 0, c_data, c_pt, c_used;

	for (uint64_t c = 0; c * VMS_CHUNK_FRAMES < w->nrefs; c++) {
		struct vms_frame *head = &p->meta[c * VMS_CHUNK_FRAMES];

		if (head->kind == VMS_FRAME_DATA && head->level == 2) {
			check_frame(w, c * VMS_CHUNK_FRAMES, &data, &pt);
			continue;
		}
		for (uint64_t wd = c * VMS_CHUNK_FRAMES / 64;
		     wd < (c + 1) * VMS_CHUNK_FRAMES / 64; wd++)
			for (uint64_t bits = atomic_load_explicit(
				     &p->dirty[wd], memory_order_relaxed);
			     bits; bits &= bits - 1) {
				uint64_t i = wd * 64 +
					     (uint64_t)__builtin_ctzll(bits);

				if (i) /* frame 0: reserved */
					check_frame(w, i, &data, &pt);
			}
	}
	c_data = (uint64_t)vms_count_sum(&p->data_frames);
	c_pt = (uint64_t)vms_count_sum(&p->pt_frames);
	c_used = (uint64_t)vms_count_sum(&p->used_frames);
	if (data != c_data || pt != c_pt || 1 + data + pt != c_used)
		fail(w,
		     data != c_data ? VMS_CHECK_COUNT_DATA :
		     pt != c_pt	    ? VMS_CHECK_COUNT_PT :
				      VMS_CHECK_COUNT_USED,
		     0,
		     "frame accounting: data %lu/%lu, nodes %lu/%lu, used %lu/%lu",
		     data, c_data, pt, c_pt, 1 + data + pt, c_used);
}

static bool acc_overlap(const struct vms_acc *a, const struct vms_acc *b)
{
	return a->start <= b->end && b->start <= a->end;
}

/* The owner invariant over the registered accessors. */
static void check_registry(struct walk *w, struct vms_space *s)
{
	vms_mutex_lock(&s->acc_lock);
	for (struct vms_acc *a = s->writers; a; a = a->next) {
		for (struct vms_acc *b = a->next; b; b = b->next)
			if (acc_overlap(a, b))
				fail(w, VMS_CHECK_ACC_WRITERS, 0, "writers [%#lx,%#lx) and [%#lx,%#lx) overlap",
				     a->start, a->end, b->start, b->end);
		for (struct vms_acc *b = s->readers; b; b = b->next)
			if (acc_overlap(a, b))
				fail(w, VMS_CHECK_ACC_WRITER_READER, 0, "writer [%#lx,%#lx) overlaps reader [%#lx,%#lx)",
				     a->start, a->end, b->start, b->end);
	}
	if (!(s->flags & VMS_SPACE_SHARED_READERS))
		for (struct vms_acc *a = s->readers; a; a = a->next)
			for (struct vms_acc *b = a->next; b; b = b->next)
				if (acc_overlap(a, b))
					fail(w, VMS_CHECK_ACC_READERS, 0, "readers [%#lx,%#lx) and [%#lx,%#lx) overlap "
					     "without shared readers", a->start, a->end,
					     b->start, b->end);
	vms_mutex_unlock(&s->acc_lock);
}

/* Is a cursor open in any space of @p? */
static bool cursors_open(struct vms_pool *p)
{
	bool open = false;

	vms_rcu_read_lock();
	vms_mutex_lock(&p->spaces_lock);
	for (struct vms_space *sp = p->spaces; sp && !open; sp = sp->next)
		open = vms_tree_locked(sp->root);
	vms_mutex_unlock(&p->spaces_lock);
	vms_rcu_read_unlock();
	return open;
}

/*
 * Zeroed counts for the frames below @n: the pool's, kept from the last
 * check, which left them zero (a calloc per check was a page fault and
 * an munmap per check op of a large pool, and zeroing them all cost a
 * write per frame of the chunks handed out), or, while another check uses those, a calloc of its
 * own. Left out of coverage (fuzz/nocov.txt): whether they grow depends
 * on the checks before.
 */
__attribute__((noinline)) static uint32_t *refs_take(struct vms_pool *p,
						     uint64_t n)
{
	/* A check's one fault site, reached whether it allocates or not
	 * (that depends on the checks before; fail nth=N must not): a
	 * failure is the exhaustion of the allocation a first check makes. */
	bool exhausted = VMS_FAULT(VMS_FAULT_CHECK);
	uint32_t *r;

	if (atomic_exchange(&p->check_busy, true))
		/* cov: unreachable: two checks at once: exec_mt.c before_op leaves check out */
		return exhausted ? NULL : calloc(n ? n : 1, sizeof(*r));
	if (exhausted || n > p->check_cap) {
		r = exhausted ? NULL : realloc(p->check_refs, n * sizeof(*r));
		if (!r) {
			atomic_store(&p->check_busy, false);
			return NULL;
		}
		memset(r + p->check_cap, 0, (n - p->check_cap) * sizeof(*r));
		p->check_refs = r;
		p->check_cap = n;
	}
	return p->check_refs;
}

static void refs_give(struct vms_pool *p, uint32_t *r)
{
	if (r != p->check_refs)
		/* cov: unreachable: two checks at once: exec_mt.c before_op leaves check out */
		free(r);
	else
		atomic_store(&p->check_busy, false);
}

/* Every tree of @p (counting @s's, if any), the frames, then @s's
 * accessor registry. */
static int check_pool(struct vms_pool *p, struct vms_space *s, struct vms_check_report *rep)
{
	struct walk w = { 0 };
	int ret;

	memset(rep, 0, sizeof(*rep));
	if (vms_rcu_in_read_section())
		return -EDEADLK;
	if (cursors_open(p))
		/* cov: unreachable: another thread's cursor: no check in mt; ours: -EDEADLK */
		return -EBUSY;
	ret = vms_pool_quiesce(p);
	if (ret)
		/* cov: unreachable: quiesce fails only in a read section, refused above */
		return ret;
	w.pool = p;
	w.rep = rep;
	/* Frames above the chunks handed out are free: no count for them
	 * (a calloc of the whole pool per check cost more than the walk). */
	w.nrefs = atomic_load(&p->next_chunk) * VMS_CHUNK_FRAMES;
	if (w.nrefs > p->nr_frames)
		/* cov: unreachable: next_chunk <= nr_chunks (pool.c chunk_take): they fit */
		w.nrefs = p->nr_frames;
	w.refs = refs_take(p, w.nrefs);
	if (!w.refs)
		return -ENOMEM;
	vms_rcu_read_lock();
	vms_mutex_lock(&p->spaces_lock);
	for (struct vms_space *sp = p->spaces; sp; sp = sp->next) {
		w.counting = sp == s;
		walk_node(&w, sp->root, VMS_NR_LEVELS, 0);
	}
	check_frames(&w);
	vms_mutex_unlock(&p->spaces_lock);
	vms_rcu_read_unlock();
	if (s)
		check_registry(&w, s);
	refs_give(p, w.refs);
	rep->errors = w.errors;
	memcpy(rep->first, w.first, sizeof(rep->first));
	return w.errors ? -EUCLEAN : 0;
}

int vms_space_check(struct vms_space *s, struct vms_check_report *rep)
{
	if (!s || !rep)
		return -EINVAL;
	return check_pool(s->pool, s, rep);
}

int vms_pool_check(struct vms_pool *p, struct vms_check_report *rep)
{
	if (!p || !rep)
		return -EINVAL;
	return check_pool(p, NULL, rep);
}

void vms_check_report_line(const struct vms_check_report *rep, char *buf, size_t n)
{
	char lv[16] = "";

	if (rep->level)
		snprintf(lv, sizeof(lv), " at level %d", rep->level);
	snprintf(buf, n, "%s%s: %s", vms_check_name(rep->kind), lv, rep->first);
}

/* ---- the table of checks (vms/checks.def) ---- */

static const struct {
	const char *name, *oracle;
	enum vms_check_class cls;
} checks[VMS_CHECK__COUNT] = {
#define VMS_INVARIANT(id, o, nm) [VMS_CHECK_##id] = { nm, #o, VMS_CLASS_INVARIANT },
#define VMS_CHECKER(id, nm) [VMS_CHECK_##id] = { nm, NULL, VMS_CLASS_CHECKER },
#define VMT_ORACLE(id, o, nm) [VMS_CHECK_##id] = { nm, #o, VMS_CLASS_ORACLE },
#define VMT_RULE(id, nm) [VMS_CHECK_##id] = { nm, NULL, VMS_CLASS_RULE },
#include <vms/checks.def>
#undef VMS_INVARIANT
#undef VMS_CHECKER
#undef VMT_ORACLE
#undef VMT_RULE
};

const char *vms_check_name(enum vms_check c)
{
	return c > VMS_CHECK_NONE && c < VMS_CHECK__COUNT ? checks[c].name : "?";
}

enum vms_check_class vms_check_class(enum vms_check c)
{
	return c > VMS_CHECK_NONE && c < VMS_CHECK__COUNT ? checks[c].cls : VMS_CLASS_NONE;
}

const char *vms_check_oracle(enum vms_check c)
{
	return c > VMS_CHECK_NONE && c < VMS_CHECK__COUNT ? checks[c].oracle : NULL;
}
