/* SPDX-License-Identifier: MIT */
/*
 * exec.c - the differential executor: one program, run on libvms and on
 * the reference model in lock-step. See op.h.
 *
 * The executor keeps its own view of what it holds in libvms (pointers,
 * handles), built only from libvms's answers, so that whatever the model
 * says, everything taken is given back at the end and the pool can be
 * destroyed. A pool that cannot be destroyed after that is a libvms leak.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <vms/vms.h>

#include "op.h"
#include "reuse.h"
#include "../../model/model.h"

_Static_assert(VMS_SPACE_SHARED_READERS == 0x1u && VMS_SPACE_FLAGS_MASK == 0x1u,
	       "model/model.c restates the space flags");
_Static_assert(VMT_NR_SPACES <= VMT_MODEL_SPACES && VMT_NR_ACCS <= VMT_MODEL_ACCS,
	       "op slots must fit the model");

#define NOFRAME VMT_MODEL_NOFRAME

struct xframe {
	struct vms_frame *f;	/* libvms frame (stale once the model says dead) */
	uint64_t handles;	/* handles we hold according to libvms's answers */
};

struct xacc {
	struct vms_reader *r;
	struct vms_writer *w;
	int space;
};

struct xs {
	const struct vmt_prog *p;
	const struct vmt_exec_opts *o;
	struct vmt_result *r;
	struct vmt_model *m;
	struct vmt_reuse *u;		/* where pool and m come from */

	struct vms_pool *pool;
	struct vms_space *space[VMT_NR_SPACES];
	struct vms_cursor *cur[VMT_NR_SPACES];
	struct xacc acc[VMT_NR_ACCS];
	int fslot[VMT_NR_FRAMES];	/* model frame id, or NOFRAME */
	struct xframe fr[VMT_MAX_OPS];	/* by model frame id */
	int nfr;

	int opi;			/* current op index (p->n: the epilogue) */
	const char *what;		/* current op name, for signatures */
	bool diverged;
	bool have_rc;			/* last_rc is this op's first compared result */
	long last_rc;
	uint8_t *cbuf, *mbuf;		/* VMT_MAX_IO each */
};

/* ---- reporting --------------------------------------------------------- */

static const char *errname(long v, char *buf, size_t n)
{
	static const struct { int e; const char *s; } names[] = {
		{ EINVAL, "EINVAL" }, { ENOMEM, "ENOMEM" }, { EPERM, "EPERM" },
		{ EBUSY, "EBUSY" }, { EACCES, "EACCES" }, { EFAULT, "EFAULT" },
		{ EDEADLK, "EDEADLK" }, { EUCLEAN, "EUCLEAN" }, { ENOENT, "ENOENT" },
	};

	if (v < 0) {
		for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
			if (-v == names[i].e) {
				snprintf(buf, n, "-%s", names[i].s);
				return buf;
			}
		}
	}
	snprintf(buf, n, "%ld", v);
	return buf;
}

static void diverge(struct xs *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void diverge(struct xs *x, const char *fmt, ...)
{
	char detail[200];
	va_list ap;

	if (x->diverged)
		return;
	x->diverged = true;
	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	x->r->status = 1;
	x->r->op = x->opi;
	if (x->opi < (int)x->p->n)
		snprintf(x->r->sig, sizeof(x->r->sig), "DIVERGENCE op#%d %s: %s",
			 x->opi, x->what, detail);
	else
		snprintf(x->r->sig, sizeof(x->r->sig), "DIVERGENCE end %s: %s",
			 x->what, detail);
}

/*
 * The core's invariant checks (fuzz builds: -DVMS_INVARIANTS) call this
 * hook inside a libvms call; the op that made it call is the divergence.
 */
extern void (*vms_poison_hook)(const char *what, const char *where) __attribute__((weak));
static __thread struct xs *hook_xs;

static void invariant_broken(const char *what, const char *where)
{
	if (hook_xs)
		diverge(hook_xs, "invariant broken: %s (in %s)", what, where);
}

/* Compare two results; true if they agree. */
static bool same(struct xs *x, long core, long model)
{
	char a[32], b[32];
	const char *why;

	if (!x->have_rc) {
		x->have_rc = true;
		x->last_rc = core;
	}
	if (core == model)
		return true;
	why = vmt_model_why(x->m);
	if (core >= 0 && model < 0 && why)
		diverge(x, "core=%s model=%s (model refuses: %s)", errname(core, a, sizeof(a)),
			errname(model, b, sizeof(b)), why);
	else
		diverge(x, "core=%s model=%s", errname(core, a, sizeof(a)),
			errname(model, b, sizeof(b)));
	return false;
}

static bool same_u64(struct xs *x, const char *what, uint64_t core, uint64_t model)
{
	if (core == model)
		return true;
	diverge(x, "%s core=0x%" PRIx64 " model=0x%" PRIx64, what, core, model);
	return false;
}

/* ---- frames ------------------------------------------------------------ */

static struct vms_frame *slot_frame(struct xs *x, int slot, int *id)
{
	*id = x->fslot[slot];
	return *id == NOFRAME ? NULL : x->fr[*id].f;
}

/* Frames die in the model when their last handle and mapping go; their
 * libvms pointer is not to be used after that. */
static void reap_slots(struct xs *x)
{
	for (int s = 0; s < VMT_NR_FRAMES; s++)
		if (x->fslot[s] != NOFRAME && !vmt_model_frame_live(x->m, x->fslot[s]))
			x->fslot[s] = NOFRAME;
}

static void check_handles(struct xs *x, int id)
{
	if (id == NOFRAME || !vmt_model_frame_live(x->m, id))
		return;
	same_u64(x, "handles", vms_frame_handles(x->fr[id].f),
		 vmt_model_frame_handles(x->m, id));
}

/* Before an allocation: say whether -ENOMEM is acceptable, relieving the
 * pool first if it looks tight. */
static bool enomem_ok(struct xs *x, bool chunk)
{
	bool cursors = false;

	if (!vmt_model_may_enomem(x->m, chunk))
		return false;
	for (int s = 0; s < VMT_NR_SPACES; s++)
		cursors |= x->cur[s] != NULL;
	if (!cursors) {
		int c = vms_pool_quiesce(x->pool);

		if (!same(x, c, vmt_model_quiesce(x->m)))
			return false;
	}
	return vmt_model_may_enomem(x->m, chunk);
}

/* ---- the sweep: compare the whole state at a quiesce point ------------- */

static const char *fmt_leaf(char *buf, size_t n, uint64_t va, uint64_t end, int level,
			    uint64_t pa, struct vms_prop p)
{
	snprintf(buf, n, "[0x%" PRIx64 ",0x%" PRIx64 ") L%d pa=0x%" PRIx64 " prop=%x/%u/%x",
		 va, end, level, pa, p.flags, p.cache, p.priv);
	return buf;
}

/* A libvms mapping against a model leaf. */
static bool same_leaf(struct xs *x, const struct vms_mapping *mm, const struct vmt_mleaf *l)
{
	uint64_t size = vms_page_size(l->level);
	vms_paddr_t pa = vms_frame_paddr(x->fr[l->frame].f) + l->off;
	char a[128], b[128];

	if (mm->start == l->va && mm->end == l->va + size && mm->level == l->level &&
	    mm->paddr == pa && mm->frame == x->fr[l->frame].f &&
	    vms_prop_equal(mm->prop, l->prop))
		return true;
	diverge(x, "core=%s model=%s (differs:%s%s%s)",
		fmt_leaf(a, sizeof(a), mm->start, mm->end, mm->level, mm->paddr, mm->prop),
		fmt_leaf(b, sizeof(b), l->va, l->va + size, l->level, pa, l->prop),
		mm->start != l->va || mm->level != l->level ? " range" : "",
		mm->frame != x->fr[l->frame].f || mm->paddr != pa ? " frame" : "",
		vms_prop_equal(mm->prop, l->prop) ? "" : " prop");
	return false;
}

static bool sweep_space(struct xs *x, int sp)
{
	struct vms_cursor *c;
	size_t i = 0, n = vmt_model_nr_leaves(x->m, sp);
	uint64_t va = 0;
	int rc;

	rc = vms_cursor_new(x->space[sp], 0, VMS_USER_END, &c);
	if (rc) {
		diverge(x, "sweep cursor on space %d: %d", sp, rc);
		return false;
	}
	while (va < VMS_USER_END && !x->diverged) {
		struct vms_mapping mm;
		vms_vaddr_t found = 0;

		rc = vms_cursor_find_next(c, VMS_USER_END - va, &found);
		if (rc < 0) {
			diverge(x, "sweep find_next(0x%" PRIx64 ") on space %d: %d", va, sp, rc);
			break;
		}
		if (rc == 0) {
			if (i < n)
				diverge(x, "sweep space %d: core has no leaf, model has 0x%" PRIx64,
					sp, vmt_model_leaf(x->m, sp, i)->va);
			break;
		}
		rc = vms_cursor_query(c, &mm);
		if (rc) {
			diverge(x, "sweep query at 0x%" PRIx64 " on space %d: %d", found, sp, rc);
			break;
		}
		if (i >= n) {
			diverge(x, "sweep space %d: core has a leaf at 0x%" PRIx64 ", model none",
				sp, mm.start);
			break;
		}
		if (!same_leaf(x, &mm, vmt_model_leaf(x->m, sp, i)))
			break;
		i++;
		va = mm.end;
		if (va >= VMS_USER_END)
			break;
		rc = vms_cursor_jump(c, va);
		if (rc) {
			diverge(x, "sweep jump(0x%" PRIx64 ") on space %d: %d", va, sp, rc);
			break;
		}
	}
	if (!x->diverged && i < n)
		diverge(x, "sweep space %d: core ends before model leaf 0x%" PRIx64,
			sp, vmt_model_leaf(x->m, sp, i)->va);
	vms_cursor_drop(c);
	return !x->diverged;
}

/* Frame refcounts, handles and contents, and pool counters. Valid only
 * right after a successful vms_space_check (no release pending). */
static void sweep_frames(struct xs *x)
{
	struct vms_pool_stats st;

	for (int id = 0; id < x->nfr && !x->diverged; id++) {
		struct vms_frame *f = x->fr[id].f;
		uint64_t pages;

		if (!vmt_model_frame_live(x->m, id))
			continue;
		if (!same_u64(x, "refcount", vms_frame_refcount(f), vmt_model_frame_refcount(x->m, id)) ||
		    !same_u64(x, "handles", vms_frame_handles(f), vmt_model_frame_handles(x->m, id)))
			return;
		pages = vms_page_size(vmt_model_frame_level(x->m, id)) / VMS_PAGE_SIZE;
		for (uint64_t pg = 0; pg < pages; pg++) {
			const uint8_t *core = (const uint8_t *)vms_frame_peek(f) + pg * VMS_PAGE_SIZE;

			/* Untouched pages must still be zero: checked whole for 4
			 * KiB frames (a stray write shows), skipped in 2 MiB ones. */
			if (pages > 1 && !vmt_model_frame_page_touched(x->m, id, pg))
				continue;
			vmt_model_frame_read(x->m, id, pg * VMS_PAGE_SIZE, x->mbuf, VMS_PAGE_SIZE);
			if (memcmp(core, x->mbuf, VMS_PAGE_SIZE)) {
				diverge(x, "contents of frame id %d page %" PRIu64 " differ", id, pg);
				return;
			}
		}
	}
	if (x->diverged)
		return;
	if (vms_pool_stats(x->pool, &st)) {
		diverge(x, "vms_pool_stats failed");
		return;
	}
	if (!same_u64(x, "deferred", st.deferred, 0) ||
	    !same_u64(x, "data_frames", st.data_frames, vmt_model_data_frames(x->m)) ||
	    !same_u64(x, "spaces", st.spaces, (uint64_t)vmt_model_nr_spaces(x->m)))
		return;
	if (st.free_frames + st.data_frames + st.pt_frames > st.total_frames)
		diverge(x, "pool counters: free %" PRIu64 " + data %" PRIu64 " + pt %" PRIu64
			" > total %" PRIu64, st.free_frames, st.data_frames, st.pt_frames,
			st.total_frames);
}

/* vms_space_check on every space, then (if all passed and no cursor is
 * open) the full comparison. */
static void do_check(struct xs *x)
{
	bool all_ok = true, any = false;
	char why[200];

	for (int sp = 0; sp < VMT_NR_SPACES && !x->diverged; sp++) {
		struct vms_check_report rep;
		int c, mrc;

		if (!x->space[sp])
			continue;
		any = true;
		memset(&rep, 0, sizeof(rep));
		c = vms_space_check(x->space[sp], &rep);
		mrc = vmt_model_check(x->m, sp);
		if (c == -EUCLEAN) {
			diverge(x, "vms_space_check(space %d): %s", sp, rep.first);
			return;
		}
		if (!same(x, c, mrc))
			return;
		if (c) {
			all_ok = false;
			continue;
		}
		if (!same_u64(x, "check leaves", rep.leaves, vmt_model_nr_leaves(x->m, sp)) ||
		    !same_u64(x, "check mapped_bytes", rep.mapped_bytes,
			      vmt_model_mapped_bytes(x->m, sp)))
			return;
	}
	/* No space to check: the pool still has to reach a quiesce point
	 * before its counters mean anything. */
	if (!any && !x->diverged) {
		int mq = vmt_model_quiesce(x->m);

		if (!same(x, vms_pool_quiesce(x->pool), mq))
			return;
		all_ok = mq == 0;
	}
	if (x->diverged)
		return;
	if (vmt_model_selfcheck(x->m, true, why, sizeof(why))) {
		diverge(x, "MODEL SELF-CHECK: %s", why);
		return;
	}
	if (!all_ok || (x->o && x->o->no_sweep))
		return;
	for (int sp = 0; sp < VMT_NR_SPACES && !x->diverged; sp++)
		if (x->space[sp])
			sweep_space(x, sp);
	if (!x->diverged)
		sweep_frames(x);
}

/* ---- ops --------------------------------------------------------------- */


static void fill_pattern(uint8_t *buf, size_t n, uint8_t pat)
{
	/* Varies within and across pages, so a misplaced page or offset shows. */
	for (size_t i = 0; i < n; i++)
		buf[i] = (uint8_t)(pat ^ i ^ (i >> 8) ^ ((i >> 12) * 29));
}

static void cmp_cursor_va(struct xs *x, int sp)
{
	if (x->cur[sp] && !x->diverged)
		same_u64(x, "cursor va", vms_cursor_va(x->cur[sp]),
			 vmt_model_cursor_va(x->m, sp));
}

static void drop_cursor(struct xs *x, int sp)
{
	vms_cursor_drop(x->cur[sp]);
	x->cur[sp] = NULL;
	vmt_model_cursor_drop(x->m, sp);
}

static void release_acc(struct xs *x, int a)
{
	int c = 0;

	if (x->acc[a].r)
		c = vms_reader_release(x->acc[a].r);
	else if (x->acc[a].w)
		c = vms_writer_release(x->acc[a].w);
	x->acc[a].r = NULL;
	x->acc[a].w = NULL;
	same(x, c, vmt_model_acc_release(x->m, a));
}

static struct vms_space *current_expected(struct xs *x)
{
	int cur = vmt_model_current(x->m);

	return cur < 0 ? NULL : x->space[cur];
}

/* Returns false if the op was skipped. */
static bool exec_op(struct xs *x, const struct vmt_op *op)
{
	int sp = op->space, id, c, mrc;
	struct vms_cursor *cur = x->cur[sp];
	struct vms_frame *f;

	vmt_model_why(x->m);	/* forget a refusal of an earlier op */
	switch (op->code) {
	case VMT_OP_CURSOR_NEW: {
		struct vms_cursor *nc = NULL;

		if (!x->space[sp])
			return false;
		if (cur)
			drop_cursor(x, sp);
		if (op->arg)
			c = vms_cursor_mut_new(x->space[sp], op->a, op->b, &nc);
		else
			c = vms_cursor_new(x->space[sp], op->a, op->b, &nc);
		if (c == -ENOMEM && enomem_ok(x, false))
			vmt_model_fail_next_alloc(x->m);
		mrc = vmt_model_cursor_new(x->m, sp, op->arg, op->a, op->b);
		if (c == 0)
			x->cur[sp] = nc;
		same(x, c, mrc);
		cmp_cursor_va(x, sp);
		return true;
	}
	case VMT_OP_QUERY: {
		struct vms_mapping mm;
		struct vmt_mleaf leaf;
		bool mapped = false;

		if (!cur)
			return false;
		memset(&mm, 0x5a, sizeof(mm));
		c = vms_cursor_query(cur, &mm);
		mrc = vmt_model_query(x->m, sp, &mapped, &leaf);
		if (!same(x, c, mrc) || c)
			break;
		if (mapped) {
			same_leaf(x, &mm, &leaf);
		} else {
			struct vms_prop zero = { 0, 0, 0 };
			uint64_t va = vmt_model_cursor_va(x->m, sp);
			char a[128];

			if (mm.frame || mm.paddr || !vms_prop_equal(mm.prop, zero) ||
			    !vmt_model_absent_ok(x->m, sp, va, mm.start, mm.end, mm.level))
				diverge(x, "core=%s%s model=absent at 0x%" PRIx64,
					fmt_leaf(a, sizeof(a), mm.start, mm.end, mm.level,
						 mm.paddr, mm.prop),
					mm.frame ? " (frame)" : "", va);
		}
		break;
	}
	case VMT_OP_FIND_NEXT: {
		vms_vaddr_t cf = 0;
		uint64_t mf = 0;

		if (!cur)
			return false;
		c = vms_cursor_find_next(cur, op->a, &cf);
		mrc = vmt_model_find_next(x->m, sp, op->a, &mf);
		if (same(x, c, mrc) && c == 1)
			same_u64(x, "found", cf, mf);
		break;
	}
	case VMT_OP_JUMP:
		if (!cur)
			return false;
		same(x, vms_cursor_jump(cur, op->a), vmt_model_jump(x->m, sp, op->a));
		break;
	case VMT_OP_MAP:
		if (!cur)
			return false;
		f = slot_frame(x, op->slot, &id);
		c = vms_cursor_map(cur, f, op->prop);
		if (c == -ENOMEM && enomem_ok(x, false))
			vmt_model_fail_next_alloc(x->m);
		mrc = vmt_model_map(x->m, sp, id, op->prop);
		if (c >= 0 && id != NOFRAME)
			x->fr[id].handles--;
		if (same(x, c, mrc))
			check_handles(x, id);
		break;
	case VMT_OP_UNMAP: {
		long n, mn;

		if (!cur)
			return false;
		n = vms_cursor_unmap(cur, op->a);
		if (n == -ENOMEM && enomem_ok(x, false))
			vmt_model_fail_next_alloc(x->m);
		mn = vmt_model_unmap(x->m, sp, op->a);
		same(x, n, mn);
		break;
	}
	case VMT_OP_PROTECT_NEXT: {
		struct vmt_protect_edit pa = VMT_PROTECT_EDIT(op);
		vms_vaddr_t cs = 0, ce = 0;
		uint64_t ms = 0, me = 0;

		if (!cur)
			return false;
		c = vms_cursor_protect_next(cur, op->a, vmt_protect_apply, &pa, &cs, &ce);
		if (c == -ENOMEM && enomem_ok(x, false))
			vmt_model_fail_next_alloc(x->m);
		mrc = vmt_model_protect_next(x->m, sp, op->a, vmt_protect_apply, &pa, &ms, &me);
		if (same(x, c, mrc) && c == 1 && same_u64(x, "protected start", cs, ms))
			same_u64(x, "protected end", ce, me);
		break;
	}
	case VMT_OP_DROP:
		if (!cur)
			return false;
		drop_cursor(x, sp);
		return true;
	case VMT_OP_FRAME_ALLOC: {
		struct vms_frame *nf = NULL;
		int level = op->arg;

		/* The slot's old frame (if any) lives on in x->fr until the end. */
		x->fslot[op->slot] = NOFRAME;
		if (x->nfr >= VMT_MAX_OPS)
			return false;
		c = vms_frame_alloc(x->pool, level, &nf);
		if (c == -ENOMEM && enomem_ok(x, level == 2))
			vmt_model_fail_next_alloc(x->m);
		mrc = vmt_model_frame_alloc(x->m, level, &id);
		if (c == 0) {
			/* Keep the libvms frame even on a divergence: it must be put. */
			x->fr[x->nfr].f = nf;
			x->fr[x->nfr].handles = 1;
			x->nfr++;
		}
		if (!same(x, c, mrc) || c)
			break;
		if (id != x->nfr - 1) {
			diverge(x, "model frame id %d, executor %d", id, x->nfr - 1);
			break;
		}
		x->fslot[op->slot] = id;
		if (same_u64(x, "level", (uint64_t)vms_frame_level(nf), (uint64_t)level) &&
		    same_u64(x, "refcount", vms_frame_refcount(nf), 1) &&
		    same_u64(x, "handles", vms_frame_handles(nf), 1)) {
			const uint8_t *d = vms_frame_peek(nf);
			uint64_t size = vms_page_size(level);

			/* Zeroed: look at the first and the last page only (a 2
			 * MiB scan per allocation would dominate the run). */
			for (uint64_t o = 0; o < VMS_PAGE_SIZE; o += 8) {
				if (*(const uint64_t *)(d + o) ||
				    *(const uint64_t *)(d + size - VMS_PAGE_SIZE + o)) {
					diverge(x, "new frame not zeroed");
					break;
				}
			}
		}
		break;
	}
	case VMT_OP_FRAME_GET:
		f = slot_frame(x, op->slot, &id);
		c = vms_frame_get(f);
		if (c == 0 && id != NOFRAME)
			x->fr[id].handles++;
		if (same(x, c, vmt_model_frame_get(x->m, id)))
			check_handles(x, id);
		break;
	case VMT_OP_FRAME_PUT:
		f = slot_frame(x, op->slot, &id);
		c = vms_frame_put(f);
		if (c == 0 && id != NOFRAME)
			x->fr[id].handles--;
		if (same(x, c, vmt_model_frame_put(x->m, id)))
			check_handles(x, id);
		break;
	case VMT_OP_SPACE_NEW: {
		struct vms_space *ns = NULL;

		if (x->space[sp])
			return false;
		c = vms_space_new(x->pool, op->arg, &ns);
		if (c == -ENOMEM && enomem_ok(x, false))
			vmt_model_fail_next_alloc(x->m);
		mrc = vmt_model_space_new(x->m, sp, op->arg);
		if (c == 0)
			x->space[sp] = ns;
		if (same(x, c, mrc) && c == 0)
			same_u64(x, "space flags", vms_space_flags(ns), op->arg);
		break;
	}
	case VMT_OP_SPACE_DESTROY:
		if (!x->space[sp])
			return false;
		c = vms_space_destroy(x->space[sp]);
		if (c == 0) {
			x->space[sp] = NULL;
			x->cur[sp] = NULL;
		}
		same(x, c, vmt_model_space_destroy(x->m, sp));
		break;
	case VMT_OP_SPACE_ACTIVATE:
	case VMT_OP_SPACE_DEACTIVATE:
	case VMT_OP_SPACE_SWITCH:
		if (op->code == VMT_OP_SPACE_SWITCH)
			sp = vmt_model_current(x->m) == 0 ? 1 : 0;
		if (!x->space[sp])
			return false;
		if (op->code == VMT_OP_SPACE_DEACTIVATE) {
			c = vms_space_deactivate(x->space[sp]);
			mrc = vmt_model_space_deactivate(x->m, sp);
		} else {
			c = vms_space_activate(x->space[sp]);
			mrc = vmt_model_space_activate(x->m, sp);
		}
		if (same(x, c, mrc) && vms_space_current() != current_expected(x))
			diverge(x, "vms_space_current() is not the model's current space %d",
				vmt_model_current(x->m));
		break;
	case VMT_OP_ACC_NEW: {
		int a = op->slot;

		if (!x->space[sp])
			return false;
		if (x->acc[a].r || x->acc[a].w)
			release_acc(x, a);
		if (op->arg)
			c = vms_space_create_writer(x->space[sp], op->a, op->b, &x->acc[a].w);
		else
			c = vms_space_create_reader(x->space[sp], op->a, op->b, &x->acc[a].r);
		if (c) {
			x->acc[a].r = NULL;
			x->acc[a].w = NULL;
		}
		x->acc[a].space = sp;
		mrc = vmt_model_acc_new(x->m, a, sp, op->arg, op->a, op->b);
		if (same(x, c, mrc) && c == 0)
			same_u64(x, "remain", op->arg ? vms_writer_remain(x->acc[a].w) :
				 vms_reader_remain(x->acc[a].r), vmt_model_acc_remain(x->m, a));
		break;
	}
	case VMT_OP_ACC_ACTIVATE: {
		struct xacc *a = &x->acc[op->slot];
		int target = op->arg ? op->space : a->space;

		if ((!a->r && !a->w) || !x->space[target])
			return false;
		if (a->w)
			c = vms_space_activate_writer(x->space[target], a->w);
		else
			c = vms_space_activate_reader(x->space[target], a->r);
		same(x, c, vmt_model_acc_activate(x->m, op->slot, target));
		break;
	}
	case VMT_OP_ACC_READ:
	case VMT_OP_ACC_WRITE: {
		struct xacc *a = &x->acc[op->slot];
		bool wr = op->code == VMT_OP_ACC_WRITE;
		long n, mn;

		if (wr ? !a->w : !a->r)
			return false;
		if (wr) {
			fill_pattern(x->cbuf, op->a, op->arg);
			n = vms_writer_write(a->w, x->cbuf, op->a);
			mn = vmt_model_acc_write(x->m, op->slot, x->cbuf, op->a);
		} else {
			memset(x->cbuf, 0xa5, op->a);
			memset(x->mbuf, 0x5a, op->a);
			n = vms_reader_read(a->r, x->cbuf, op->a);
			mn = vmt_model_acc_read(x->m, op->slot, x->mbuf, op->a);
		}
		if (!same(x, n, mn))
			break;
		if (!wr && n > 0 && memcmp(x->cbuf, x->mbuf, (size_t)n)) {
			size_t k = 0;

			while (x->cbuf[k] == x->mbuf[k])
				k++;
			diverge(x, "read bytes differ at offset %zu: core=0x%02x model=0x%02x",
				k, x->cbuf[k], x->mbuf[k]);
			break;
		}
		same_u64(x, "remain", wr ? vms_writer_remain(a->w) : vms_reader_remain(a->r),
			 vmt_model_acc_remain(x->m, op->slot));
		break;
	}
	case VMT_OP_ACC_RELEASE:
		if (!x->acc[op->slot].r && !x->acc[op->slot].w)
			return false;
		release_acc(x, op->slot);
		break;
	case VMT_OP_CHECK:
		do_check(x);
		break;
	case VMT_OP_QUIESCE:
		same(x, vms_pool_quiesce(x->pool), vmt_model_quiesce(x->m));
		break;
	default:
		return false;
	}
	reap_slots(x);
	if (op->code <= VMT_OP_DROP)
		cmp_cursor_va(x, sp);
	return true;
}

/* ---- run --------------------------------------------------------------- */

static void trace_op(struct xs *x, const struct vmt_op *op, bool ran)
{
	char line[256];

	if (!x->o || !x->o->trace)
		return;
	char rc[80] = "", e[32];

	vmt_format_op(op, line, sizeof(line));
	/* A new frame's address: a reused pool must give the fresh one's. */
	if (ran && x->have_rc && op->code == VMT_OP_FRAME_ALLOC && !x->last_rc)
		snprintf(rc, sizeof(rc), "   = 0 (pa 0x%" PRIx64 ")",
			 (uint64_t)vms_frame_paddr(x->fr[x->nfr - 1].f));
	else if (ran && x->have_rc)
		snprintf(rc, sizeof(rc), "   = %s", errname(x->last_rc, e, sizeof(e)));
	fprintf(x->o->trace, "%4d %s%s%s%s\n", x->opi, line, ran ? "" : "   (skipped)", rc,
		x->diverged ? "   <-- DIVERGENCE" : "");
}

/* Give everything back, whatever the model thinks. */
static void teardown(struct xs *x)
{
	for (int sp = 0; sp < VMT_NR_SPACES; sp++) {
		vms_cursor_drop(x->cur[sp]);
		x->cur[sp] = NULL;
	}
	for (int a = 0; a < VMT_NR_ACCS; a++) {
		if (x->acc[a].r)
			vms_reader_release(x->acc[a].r);
		if (x->acc[a].w)
			vms_writer_release(x->acc[a].w);
		x->acc[a].r = NULL;
		x->acc[a].w = NULL;
	}
	for (int id = 0; id < x->nfr; id++) {
		while (x->fr[id].handles) {
			x->fr[id].handles--;
			if (vms_frame_put(x->fr[id].f))
				break;
		}
	}
	if (vms_space_current())
		vms_space_deactivate(vms_space_current());
	for (int sp = 0; sp < VMT_NR_SPACES; sp++) {
		if (x->space[sp]) {
			int c = vms_space_destroy(x->space[sp]);

			if (c && !x->diverged)
				diverge(x, "vms_space_destroy(space %d) at teardown: %d", sp, c);
			if (!c)
				x->space[sp] = NULL;
		}
	}
}

int vmt_exec(const struct vmt_prog *p, const struct vmt_exec_opts *o,
	     struct vmt_result *r)
{
	struct xs *x;
	struct vms_pool_stats st;
	size_t pool_bytes = o && o->pool_bytes ? o->pool_bytes : VMT_EXEC_POOL_DEFAULT;
	unsigned bad;
	char why[200];
	int c;

	memset(r, 0, sizeof(*r));
	if (!vmt_prog_valid(p, &bad)) {
		r->status = -EINVAL;
		r->op = (int)bad;
		snprintf(r->sig, sizeof(r->sig), "invalid program (op#%u)", bad);
		return r->status;
	}
	if (vms_space_current()) {
		r->status = -EINVAL;
		snprintf(r->sig, sizeof(r->sig), "calling thread already has an active space");
		return r->status;
	}
	x = calloc(1, sizeof(*x));
	if (!x || !(x->u = vmt_reuse_get(pool_bytes, &c))) {
		r->status = -ENOMEM;
		if (x && c != -ENOMEM)
			snprintf(r->sig, sizeof(r->sig), "vms_pool_new(%zu): %d", pool_bytes, c);
		else
			snprintf(r->sig, sizeof(r->sig), "out of memory");
		free(x);
		return r->status;
	}
	x->m = x->u->m;
	x->pool = x->u->pool;
	x->cbuf = x->u->cbuf;
	x->mbuf = x->u->mbuf;
	x->p = p;
	x->o = o;
	x->r = r;
	x->what = "setup";
	if (&vms_poison_hook) {
		vms_poison_hook = invariant_broken;
		hook_xs = x;
	}
	for (int s = 0; s < VMT_NR_FRAMES; s++)
		x->fslot[s] = NOFRAME;

	if (vms_pool_stats(x->pool, &st) == 0)
		vmt_model_set_pool(x->m, st.total_frames,
				   ((uint64_t)pool_bytes + (2ULL << 20) - 1) >> 21);

	/* The prologue every program starts from: space 0, active. */
	x->opi = -1;
	c = vms_space_new(x->pool, 0, &x->space[0]);
	if (!same(x, c, vmt_model_space_new(x->m, 0, 0)) || c)
		goto out_pool;
	if (!same(x, vms_space_activate(x->space[0]), vmt_model_space_activate(x->m, 0)))
		goto out_teardown;

	for (x->opi = 0; x->opi < (int)p->n && !x->diverged; x->opi++) {
		const struct vmt_op *op = &p->ops[x->opi];
		bool ran;

		x->what = vmt_op_name(op->code);
		x->have_rc = false;
		ran = exec_op(x, op);
		if (ran)
			r->executed++;
		else
			r->skipped++;
		/* The quick self-check covers the accessor registry, which
		 * only these ops change (check ops run the full one). */
		if (!x->diverged && (op->code == VMT_OP_ACC_NEW || op->code == VMT_OP_ACC_ACTIVATE) &&
		    vmt_model_selfcheck(x->m, false, why, sizeof(why)))
			diverge(x, "MODEL SELF-CHECK: %s", why);
		trace_op(x, op, ran);
	}
	if (x->diverged)
		goto out_teardown;

	/* Epilogue: drop the cursors, then the full comparison. */
	x->opi = (int)p->n;
	x->what = "check";
	for (int sp = 0; sp < VMT_NR_SPACES; sp++)
		if (x->cur[sp])
			drop_cursor(x, sp);
	do_check(x);
	if (x->diverged)
		goto out_teardown;
	/* Everything the model still holds must go, and so must the spaces. */
	x->what = "teardown";
	for (int a = 0; a < VMT_NR_ACCS && !x->diverged; a++)
		if (x->acc[a].r || x->acc[a].w)
			release_acc(x, a);
	for (int id = 0; id < x->nfr && !x->diverged; id++) {
		while (x->fr[id].handles && !x->diverged) {
			c = vms_frame_put(x->fr[id].f);
			x->fr[id].handles--;
			same(x, c, vmt_model_frame_put(x->m, id));
		}
	}
	if (!x->diverged && vmt_model_current(x->m) >= 0) {
		int cur = vmt_model_current(x->m);

		same(x, vms_space_deactivate(x->space[cur]),
		     vmt_model_space_deactivate(x->m, cur));
	}
	for (int sp = 0; sp < VMT_NR_SPACES && !x->diverged; sp++) {
		if (!x->space[sp])
			continue;
		c = vms_space_destroy(x->space[sp]);
		if (c == 0)
			x->space[sp] = NULL;
		same(x, c, vmt_model_space_destroy(x->m, sp));
	}
	for (int id = 0; id < x->nfr && !x->diverged; id++)
		if (vmt_model_frame_live(x->m, id))
			diverge(x, "model frame %d still live after teardown", id);

out_teardown:
	teardown(x);
out_pool:
	/* Pool and model back to their initial state for the next run. */
	c = vmt_reuse_put(x->u);
	if (c) {
		/* libvms kept something: report it (vmt_reuse_put dropped the pool). */
		x->what = "pool_reset";
		if (!x->diverged) {
			x->opi = (int)p->n;
			diverge(x, "vms_pool_reset: %d (leak)", c);
		}
	}
	hook_xs = NULL;
	free(x);
	return r->status;
}

/*
 * An answer may differ long after the op that went wrong: a split that
 * lost a property shows at the next query, write or final sweep. So for
 * each k before the diverging op, ops 0..k are run alone (vmt_exec ends
 * every run by dropping the cursors and comparing the whole state); the
 * first k whose end-of-run comparison differs is the op after which the
 * states first differ, and the result is rewritten to name it. Prefixes
 * of a deterministic run agree up to k, so only their end can differ.
 */
int vmt_localize(const struct vmt_prog *p, const struct vmt_exec_opts *o,
		 struct vmt_result *r)
{
	struct vmt_prog *q;
	struct vmt_result t;
	int first = r->op;

	if (r->status != 1 || first <= 0)
		return 0;
	if (first > (int)p->n)
		first = (int)p->n;
	q = malloc(sizeof(*q));
	if (!q)
		return -ENOMEM;
	for (int k = 0; k < first; k++) {
		const char *d;

		q->n = (unsigned)k + 1;
		memcpy(q->ops, p->ops, q->n * sizeof(q->ops[0]));
		if (vmt_exec(q, o, &t) != 1 || t.op <= k)
			continue;
		/* "DIVERGENCE end check: core=[...] ..." -> what differed */
		d = strchr(t.sig, ':');
		d = d ? d + 2 : t.sig;
		snprintf(r->sig, sizeof(r->sig), "DIVERGENCE op#%d %s: state after the op: %.200s",
			 k, vmt_op_name(p->ops[k].code), d);
		r->op = k;
		free(q);
		return 1;
	}
	free(q);
	return 0;
}

int vmt_run_bytes(const uint8_t *buf, size_t n, struct vmt_result *r)
{
	struct vmt_prog *p = malloc(sizeof(*p));
	int rc;

	if (!p) {
		memset(r, 0, sizeof(*r));
		r->status = -ENOMEM;
		return r->status;
	}
	vmt_decode(buf, n, p);
	rc = vmt_exec(p, NULL, r);
	if (rc == 1)
		vmt_localize(p, NULL, r);
	free(p);
	return rc;
}
