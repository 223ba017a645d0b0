/* SPDX-License-Identifier: MIT */
/*
 * step_model.c - the model half of every op: apply it to the reference
 * model and check what the core step recorded. See step.h.
 *
 * Differences are worded for the titles in tools/campaign/sig.c: a result
 * is "core=X model=Y" (plus "(model refuses: RULE)" when libvms accepted
 * what the model refused, "(model stops: RULE)" when it did more than the
 * rule lets it), a value "what core=0x.. model=0x..", a leaf
 * "core=[..) model=[..) (differs: range frame prop)".
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "fault.h"
#include "step.h"
#include "step_corrupt.h"
#include "../../model/model.h"

_Static_assert(VMT_NR_SPACES <= VMT_MODEL_SPACES && VMT_NR_ACCS <= VMT_MODEL_ACCS,
	       "op slots must fit the model");

#define NOFRAME VMT_MODEL_NOFRAME

const char *vmt_errname(long v, char *buf, size_t n)
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

/*
 * Byte i is pat ^ i ^ (i >> 8) ^ ((i >> 12) * 29), truncated: it varies
 * within and across pages, so a misplaced page or offset shows. Within
 * a 256-byte block all but the low byte of i is fixed, so a block is
 * 0..255 XORed with one constant: written eight bytes at a time (the
 * byte loop was a seventh of a fuzz input's CPU time, for its big
 * writes; under ASan, which checks every store and keeps the loop from
 * being vectorised, still 6 % of the libFuzzer build's).
 */
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
	       "the fill writes words");

void vmt_fill_pattern(uint8_t *buf, size_t n, uint8_t pat)
{
	const uint64_t ones = 0x0101010101010101ULL;
	size_t b, i = 0;

	for (b = 0; i + 256 <= n; b++, i += 256) {
		uint64_t c = ones * (uint8_t)(pat ^ b ^ ((b >> 4) * 29));

		/* Bytes 8w..8w+7 of 0..255, lowest first. */
		for (uint64_t w = 0; w < 32; w++) {
			uint64_t v = (0x0706050403020100ULL + w * 8 * ones) ^ c;

			memcpy(buf + i + 8 * w, &v, sizeof(v));
		}
	}
	for (; i < n; i++)
		buf[i] = (uint8_t)(pat ^ i ^ (i >> 8) ^ ((i >> 12) * 29));
}

/* ---- the model side: gids to model frame ids ----------------------------- */

int vmt_model_side_init(struct vmt_model_side *ms, uint64_t gid_base)
{
	memset(ms, 0, sizeof(*ms));
	ms->m = vmt_model_new();
	ms->gid_base = gid_base;
	return ms->m ? 0 : -ENOMEM;
}

void vmt_model_side_fini(struct vmt_model_side *ms)
{
	vmt_model_free(ms->m);
	free(ms->io);
	free(ms->id);
	free(ms->pa);
	free(ms->gid);
	memset(ms, 0, sizeof(*ms));
}

int vmt_model_side_reset(struct vmt_model_side *ms, uint64_t gid_base)
{
	if (!ms->m)
		ms->m = vmt_model_new();
	else
		vmt_model_reset(ms->m);	/* in place: keeps what it grew */
	ms->gid_base = gid_base;
	for (size_t k = 0; k < ms->cap; k++)
		ms->id[k] = NOFRAME;
	return ms->m ? 0 : -ENOMEM;
}

int vmt_model_side_id(const struct vmt_model_side *ms, uint64_t gid)
{
	return gid >= ms->gid_base && gid - ms->gid_base < ms->cap ?
	       ms->id[gid - ms->gid_base] : NOFRAME;
}

uint64_t vmt_model_side_gid(const struct vmt_model_side *ms, int id)
{
	return id >= 0 && (size_t)id < ms->gcap ? ms->gid[id] : ~0ULL;
}

uint64_t vmt_model_side_paddr(const struct vmt_model_side *ms, uint64_t gid)
{
	return gid >= ms->gid_base && gid - ms->gid_base < ms->cap ?
	       ms->pa[gid - ms->gid_base] : 0;
}

static void *grow(void *p, size_t *cap, size_t need, size_t size)
{
	size_t c = *cap ? *cap : 256;
	void *n;

	while (c <= need)
		c *= 2;
	n = realloc(p, c * size);
	if (n)
		*cap = c;
	return n;
}

/* Room for gid index @i and model frame @id; false if out of memory.
 * Left out of coverage (fuzz/nocov.txt): the maps are kept between runs,
 * so whether they grow depends on the runs before this one. */
__attribute__((noinline)) static bool side_reserve(struct vmt_model_side *ms, uint64_t i, int id)
{
	if (i >= ms->cap) {
		size_t old = ms->cap, cap = ms->cap;
		int *nid = grow(ms->id, &cap, i, sizeof(*nid));
		uint64_t *npa;

		if (!nid)
			return false;
		ms->id = nid;
		npa = realloc(ms->pa, cap * sizeof(*npa));
		if (!npa)
			return false;
		ms->pa = npa;
		for (size_t k = old; k < cap; k++)
			ms->id[k] = NOFRAME;
		ms->cap = cap;
	}
	if ((size_t)id >= ms->gcap) {
		size_t cap = ms->gcap;
		uint64_t *ng = grow(ms->gid, &cap, (size_t)id, sizeof(*ng));

		if (!ng)
			return false;
		ms->gid = ng;
		ms->gcap = cap;
	}
	return true;
}

/* Model frame @id is the frame libvms numbered @gid, at @pa. */
static bool note_frame(struct vmt_model_side *ms, uint64_t gid, int id, uint64_t pa)
{
	uint64_t i = gid - ms->gid_base;

	if (gid < ms->gid_base || !side_reserve(ms, i, id))
		return false;
	ms->id[i] = id;
	ms->pa[i] = pa;
	ms->gid[id] = gid;
	return true;
}

/* ---- comparing --------------------------------------------------------------- */

struct mstep {
	struct vmt_model_side *ms;
	struct vmt_model *m;
	const struct vmt_outcome *o;
	const struct vmt_op *op;
	char *why;
	size_t n;
};

static bool differ(struct mstep *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static bool differ(struct mstep *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s->why, s->n, fmt, ap);
	va_end(ap);
	return false;
}

/* Two results; the model's rule if libvms accepted what it refused, or
 * did more than the model's rule let it (a copy past where it stops). */
static bool same(struct mstep *s, long core, long model)
{
	char a[32], b[32];
	const char *why;

	if (!s->ms->have_rc) {
		s->ms->have_rc = true;
		s->ms->rc = core;
	}
	if (core == model)
		return true;
	why = vmt_model_why(s->m);
	if (core >= 0 && why && (model < 0 || core > model))
		return differ(s, "core=%s model=%s (model %s: %s)", vmt_errname(core, a, sizeof(a)),
			      vmt_errname(model, b, sizeof(b)), model < 0 ? "refuses" : "stops", why);
	return differ(s, "core=%s model=%s", vmt_errname(core, a, sizeof(a)),
		      vmt_errname(model, b, sizeof(b)));
}

static bool same_u64(struct mstep *s, const char *what, uint64_t core, uint64_t model)
{
	if (core == model)
		return true;
	return differ(s, "%s core=0x%" PRIx64 " model=0x%" PRIx64, what, core, model);
}

static const char *fmt_leaf(char *buf, size_t n, uint64_t va, uint64_t end, int level,
			    uint64_t pa, struct vms_prop p)
{
	snprintf(buf, n, "[0x%" PRIx64 ",0x%" PRIx64 ") L%d pa=0x%" PRIx64 " prop=%x/%u/%x",
		 va, end, level, pa, p.flags, p.cache, p.priv);
	return buf;
}

bool vmt_leaf_same(const struct vmt_model_side *ms, const struct vmt_leaf_seen *c,
		   const struct vmt_mleaf *l, char *why, size_t n)
{
	uint64_t size = vms_page_size(l->level), gid = vmt_model_side_gid(ms, l->frame);
	uint64_t pa = vmt_model_side_paddr(ms, gid) + l->off;
	char a[128], b[128];

	if (c->start == l->va && c->end == l->va + size && c->level == l->level &&
	    c->paddr == pa && c->frame == gid && vms_prop_equal(c->prop, l->prop))
		return true;
	snprintf(why, n, "core=%s model=%s (differs:%s%s%s)",
		 fmt_leaf(a, sizeof(a), c->start, c->end, c->level, c->paddr, c->prop),
		 fmt_leaf(b, sizeof(b), l->va, l->va + size, l->level, pa, l->prop),
		 c->start != l->va || c->level != l->level ? " range" : "",
		 c->frame != gid || c->paddr != pa ? " frame" : "",
		 vms_prop_equal(c->prop, l->prop) ? "" : " prop");
	return false;
}

static int mid(struct mstep *s, uint64_t gid)
{
	return gid ? vmt_model_side_id(s->ms, gid) : NOFRAME;
}

/* The model's accessor slot of the outcome's thread and slot. */
static int macc(struct mstep *s)
{
	return s->o->thread * VMT_NR_ACCS + s->op->slot;
}

/* libvms failed an allocation of the op on purpose: the model's next
 * call fails with -ENOMEM after its argument checks and changes nothing.
 * Unless the core recovered: cursor_open retries a node allocation after
 * a quiesce, so one injected failure there can end in success, which the
 * ordinary oracles then check like any other. */
static void injected(struct mstep *s, int ret)
{
	if (s->o->fault && ret == -ENOMEM)
		vmt_model_fail_next_call(s->m);
}

/* libvms said -ENOMEM: accept it where a fault was injected, or where the
 * model says the pool may run out (after the core relieved it, if it did). */
static bool enomem(struct mstep *s, bool chunk)
{
	if (s->o->fault) {
		injected(s, s->o->ret);
		return true;
	}
	if (s->o->ret != -ENOMEM || !vmt_model_may_enomem(s->m, chunk))
		return true;
	if ((s->o->seen & VMT_SEEN_QUIESCE) && !same(s, s->o->quiesce, vmt_model_quiesce(s->m)))
		return false;
	if (vmt_model_may_enomem(s->m, chunk))
		vmt_model_fail_next_alloc(s->m);
	return true;
}

/* Handles of a frame the model still has, when the core looked. */
static bool same_handles(struct mstep *s, int id)
{
	if (!(s->o->seen & VMT_SEEN_COUNTS) || id == NOFRAME || !vmt_model_frame_live(s->m, id))
		return true;
	return same_u64(s, "handles", s->o->handles, vmt_model_frame_handles(s->m, id));
}

/* ---- cursors ------------------------------------------------------------------ */

static bool model_cursor_new(struct mstep *s)
{
	int sp = s->op->space;

	if (vmt_model_cursor_open(s->m, sp))
		vmt_model_cursor_drop(s->m, sp);
	if (!enomem(s, false))
		return false;
	return same(s, s->o->ret, vmt_model_cursor_new(s->m, sp, s->op->arg, s->op->a, s->op->b));
}

static bool model_query(struct mstep *s)
{
	const struct vmt_outcome *o = s->o;
	struct vms_prop zero = { 0, 0, 0 };
	struct vmt_mleaf leaf;
	bool mapped = false;
	uint64_t va;
	char a[128];

	if (!same(s, o->ret, vmt_model_query(s->m, o->space, &mapped, &leaf)))
		return false;
	if (o->ret)
		return true;
	if (mapped) {
		struct vmt_leaf_seen c = { o->start, o->end, o->level, o->paddr, o->frame, o->prop };

		return vmt_leaf_same(s->ms, &c, &leaf, s->why, s->n);
	}
	va = vmt_model_cursor_va(s->m, o->space);
	if (!o->frame && !o->paddr && vms_prop_equal(o->prop, zero) &&
	    vmt_model_absent_ok(s->m, o->space, va, o->start, o->end, o->level))
		return true;
	return differ(s, "core=%s%s model=absent at 0x%" PRIx64,
		      fmt_leaf(a, sizeof(a), o->start, o->end, o->level, o->paddr, o->prop),
		      o->frame ? " (frame)" : "", va);
}

static bool model_find_next(struct mstep *s)
{
	uint64_t found = 0;
	bool ok = same(s, s->o->ret, vmt_model_find_next(s->m, s->op->space, s->op->a, &found));

	return ok && s->o->ret == 1 ? same_u64(s, "found", s->o->start, found) : ok;
}

static bool model_jump(struct mstep *s)
{
	return same(s, s->o->ret, vmt_model_jump(s->m, s->op->space, s->op->a));
}

static bool model_map(struct mstep *s)
{
	int id = mid(s, s->o->frame);

	if (!enomem(s, false))
		return false;
	return same(s, s->o->ret, vmt_model_map(s->m, s->op->space, id, s->op->prop)) &&
	       same_handles(s, id);
}

static bool model_unmap(struct mstep *s)
{
	if (!enomem(s, false))
		return false;
	return same(s, s->o->ret, vmt_model_unmap(s->m, s->op->space, s->op->a));
}

static bool model_protect_next(struct mstep *s)
{
	struct vmt_protect_edit pa = VMT_PROTECT_EDIT(s->op);
	uint64_t ps = 0, pe = 0;
	int mrc;

	if (!enomem(s, false))
		return false;
	mrc = vmt_model_protect_next(s->m, s->op->space, s->op->a, vmt_protect_apply, &pa, &ps, &pe);
	if (!same(s, s->o->ret, mrc))
		return false;
	return s->o->ret != 1 || (same_u64(s, "protected start", s->o->start, ps) &&
				  same_u64(s, "protected end", s->o->end, pe));
}

static bool model_drop(struct mstep *s)
{
	vmt_model_cursor_drop(s->m, s->op->space);
	return true;
}

/*
 * A second cursor on the space (step_core.c core_cursor_try): the
 * model's own cursor_new decides its argument checks and -ENOMEM, on a
 * thread of the model nobody else uses (the exclusive driver that runs
 * it has one thread; the model keeps one cursor a thread and space), and
 * the driver's judgement whether its locks meet the open cursor's
 * decides -EDEADLK. In conflict the walk stops at the first held node,
 * before it allocates anything: the model's call then only checks the
 * arguments (armed to fail any allocation, it stops right after them and
 * changes nothing), so -ENOMEM there means the range passed.
 */
static bool model_cursor_try(struct mstep *s)
{
	const int spare = VMT_MODEL_THREADS - 1;
	int sp = s->op->space;
	long want;

	if (!s->o->conflict && !enomem(s, false))
		return false;
	if (s->o->conflict) {
		injected(s, s->o->ret);
		if (!s->o->fault)
			vmt_model_fail_next_alloc(s->m);
	}
	vmt_model_set_thread(s->m, spare);
	want = vmt_model_cursor_new(s->m, sp, s->op->arg, s->op->a, s->op->b);
	if (want == 0)
		vmt_model_cursor_drop(s->m, sp);
	vmt_model_set_thread(s->m, s->ms->per_thread ? s->o->thread : 0);
	if (s->o->conflict && !s->o->fault && want == -ENOMEM)
		want = -EDEADLK;
	return same(s, s->o->ret, want);
}

/* ---- frames -------------------------------------------------------------------- */

static bool model_frame_alloc(struct mstep *s)
{
	const struct vmt_outcome *o = s->o;
	int level = s->op->arg, id;

	if (!enomem(s, level == 2))
		return false;
	if (!same(s, o->ret, vmt_model_frame_alloc(s->m, level, &id)))
		return false;
	if (o->ret)
		return true;
	if (!note_frame(s->ms, o->frame, id, o->paddr))
		return differ(s, "model side: out of memory (gid %" PRIu64 ")", o->frame);
	if (!(o->seen & VMT_SEEN_COUNTS))
		return true;
	if (!same_u64(s, "level", (uint64_t)o->level, (uint64_t)level) ||
	    !same_u64(s, "refcount", o->refcount, 1) || !same_u64(s, "handles", o->handles, 1))
		return false;
	return !o->dirty || differ(s, "new frame not zeroed");
}

static bool model_frame_get(struct mstep *s)
{
	int id = mid(s, s->o->frame);

	return same(s, s->o->ret, vmt_model_frame_get(s->m, id)) && same_handles(s, id);
}

static bool model_frame_put(struct mstep *s)
{
	int id = mid(s, s->o->frame);

	return same(s, s->o->ret, vmt_model_frame_put(s->m, id)) && same_handles(s, id);
}

/* ---- spaces ---------------------------------------------------------------------- */

static bool model_space_new(struct mstep *s)
{
	if (!enomem(s, false))
		return false;
	if (!same(s, s->o->ret, vmt_model_space_new(s->m, s->op->space, s->op->arg)))
		return false;
	return s->o->ret ||
	       (same_u64(s, "space flags", s->o->flags, s->op->arg) &&
		same_u64(s, "space in another pool", s->o->pool_other, false));
}

static bool model_space_destroy(struct mstep *s)
{
	injected(s, s->o->ret);
	return same(s, s->o->ret, vmt_model_space_destroy(s->m, s->op->space));
}

static bool space_activation(struct mstep *s, bool on)
{
	int sp = s->o->space;
	int mrc = on ? vmt_model_space_activate(s->m, sp) : vmt_model_space_deactivate(s->m, sp);

	if (!same(s, s->o->ret, mrc))
		return false;
	if (s->o->current == vmt_model_current(s->m))
		return true;
	return differ(s, "vms_space_current() is not the model's current space %d",
		      vmt_model_current(s->m));
}

static bool model_space_activate(struct mstep *s)
{
	return space_activation(s, true);
}

static bool model_space_deactivate(struct mstep *s)
{
	return space_activation(s, false);
}

static bool model_space_switch(struct mstep *s)
{
	return space_activation(s, true);
}

/* ---- accessors --------------------------------------------------------------------- */

static bool model_acc_new(struct mstep *s)
{
	const struct vmt_op *op = s->op;
	int a = macc(s);

	if (s->o->released && !same(s, s->o->release_ret, vmt_model_acc_release(s->m, a)))
		return false;
	injected(s, s->o->ret);
	if (!same(s, s->o->ret, vmt_model_acc_new(s->m, a, op->space, op->arg, op->a, op->b)))
		return false;
	return s->o->ret || same_u64(s, "remain", s->o->remain, vmt_model_acc_remain(s->m, a));
}

static bool model_activate(struct mstep *s)
{
	if (s->o->seen & VMT_SEEN_RACY)
		return same(s, s->o->ret, vmt_model_acc_activate_seen(s->m, macc(s), s->o->space,
								      s->o->mapped));
	return same(s, s->o->ret, vmt_model_acc_activate(s->m, macc(s), s->o->space));
}

/* A copy whose pages the driver judged: the accessor's side of it. */
static bool racy_copy(struct mstep *s, bool write)
{
	int a = macc(s);

	if (!same(s, s->o->ret, vmt_model_acc_copy_seen(s->m, a, write, s->op->a, s->o->ret)))
		return false;
	return same_u64(s, "remain", s->o->remain, vmt_model_acc_remain(s->m, a));
}

static bool model_read(struct mstep *s)
{
	const uint8_t *core = s->o->data;
	uint8_t *model = vmt_io(&s->ms->io, &s->ms->iocap, s->op->a);
	long n = s->o->ret;
	int a = macc(s);
	size_t k = 0;

	if (s->o->seen & VMT_SEEN_RACY)
		return racy_copy(s, false);
	if (!model)
		return differ(s, "model side: out of memory");
	memset(model, 0x5a, s->op->a);
	if (!same(s, n, vmt_model_acc_read(s->m, a, model, s->op->a)))
		return false;
	if (n > 0 && memcmp(core, model, (size_t)n)) {
		while (core[k] == model[k])
			k++;
		return differ(s, "read bytes differ at offset %zu: core=0x%02x model=0x%02x",
			      k, core[k], model[k]);
	}
	return same_u64(s, "remain", s->o->remain, vmt_model_acc_remain(s->m, a));
}

static bool model_write(struct mstep *s)
{
	const uint8_t *bytes = s->o->data;
	int a = macc(s);

	if (s->o->seen & VMT_SEEN_RACY)
		return racy_copy(s, true);
	if (!bytes) {
		uint8_t *io = vmt_io(&s->ms->io, &s->ms->iocap, s->op->a);

		if (!io)
			return differ(s, "model side: out of memory");
		vmt_fill_pattern(io, s->op->a, s->op->arg);
		bytes = io;
	}
	if (!same(s, s->o->ret, vmt_model_acc_write(s->m, a, bytes, s->op->a)))
		return false;
	return same_u64(s, "remain", s->o->remain, vmt_model_acc_remain(s->m, a));
}

static bool model_release(struct mstep *s)
{
	return same(s, s->o->ret, vmt_model_acc_release(s->m, macc(s)));
}

/* ---- whole pool ---------------------------------------------------------------------- */

static bool model_check(struct mstep *s)
{
	const struct vmt_check_seen *c = s->o->data;
	bool any = false, failed = false;

	for (int sp = 0; sp < VMT_NR_SPACES; sp++) {
		int mrc;

		if (!c[sp].checked)
			continue;
		any = true;
		/* An injected fault fails one space's check: its scratch. */
		if (c[sp].ret == -ENOMEM && !failed && s->o->fault) {
			injected(s, c[sp].ret);
			failed = true;
		}
		mrc = vmt_model_check(s->m, sp);
		if (c[sp].ret == -EUCLEAN) {
			char line[320];

			vms_check_report_line(&c[sp].rep, line, sizeof(line));
			return differ(s, "vms_space_check(space %d): %s", sp, line);
		}
		if (!same(s, c[sp].ret, mrc))
			return false;
		if (c[sp].ret)
			continue;
		if (!same_u64(s, "check leaves", c[sp].rep.leaves, vmt_model_nr_leaves(s->m, sp)) ||
		    !same_u64(s, "check mapped_bytes", c[sp].rep.mapped_bytes,
			      vmt_model_mapped_bytes(s->m, sp)))
			return false;
	}
	if (s->o->fault && !failed)
		return differ(s, "fault injected (site %u) but no check failed", s->o->fault);
	/* No space: the pool still reached a quiesce point. */
	return any || same(s, s->o->ret, vmt_model_quiesce(s->m));
}

static bool model_quiesce(struct mstep *s)
{
	return same(s, s->o->ret, vmt_model_quiesce(s->m));
}

/* A private pool: vms_pool_new's size rules as pool.h states them
 * (rounded up to 2 MiB, at least 4 MiB, at most 64 GiB; -EINVAL before
 * anything is allocated), -ENOMEM exactly when one of its allocations
 * failed on purpose, and a new pool that is empty and idle: every frame
 * but the reserved frame 0 free, no space, nothing deferred, so that
 * vms_pool_destroy takes it at once (unless the thread holds a cursor:
 * it cannot wait for a grace period then). The main pool and the model
 * do not change. */
static bool model_pool_new(struct mstep *s)
{
	const uint64_t mib2 = 2ULL << 20, bytes = s->op->a;
	const struct vms_pool_stats *st = s->o->data;
	uint64_t size = (bytes + mib2 - 1) / mib2 * mib2, frames;
	/* Only the pool's own sites fail the op; a fault past them lands in
	 * the session in the new pool (step_core.c pool_session). */
	long want = bytes == 0 || bytes > (64ULL << 30) ? -EINVAL :
		    s->o->fault == VMS_FAULT_POOL	? -ENOMEM :
							  0;
	long destroy = 0;

	if (!same(s, s->o->ret, want))
		return false;
	if (want)
		return true;
	frames = (size < 2 * mib2 ? 2 * mib2 : size) >> 12;
	for (int sp = 0; sp < VMT_NR_SPACES; sp++)
		if (vmt_model_cursor_open(s->m, sp))
			destroy = -EDEADLK;
	return same_u64(s, "new pool total_frames", st->total_frames, frames - 1) &&
	       same_u64(s, "new pool free_frames", st->free_frames, frames - 1) &&
	       same_u64(s, "new pool data_frames", st->data_frames, 0) &&
	       same_u64(s, "new pool pt_frames", st->pt_frames, 0) &&
	       same_u64(s, "new pool deferred", st->deferred, 0) &&
	       same_u64(s, "new pool spaces", st->spaces, 0) &&
	       same(s, s->o->release_ret, destroy);
}

/* Nothing to apply: the outcome of the next op says what was injected. */
static bool model_fail(struct mstep *s)
{
	return true;
}

/* The checker's self-test (step_corrupt.c): the model does not change. */
static bool model_corrupt(struct mstep *s)
{
	s->ms->have_rc = true; /* the trace shows the first check's result */
	s->ms->rc = s->o->ret;
	return vmt_corrupt_judge(s->o, s->why, s->n);
}

/* A NULL argument: the result its header documents; no change. */
static bool model_badarg(struct mstep *s)
{
	return same(s, s->o->ret,
		    vmt_badarg_expect((enum vmt_badarg)s->op->arg));
}

/* ---- dispatch ------------------------------------------------------------------------- */

typedef bool model_step_fn(struct mstep *);

static model_step_fn *const model_steps[VMT_OP__COUNT] = {
#define VMT_OP(code, name, ...) [VMT_OP_##code] = model_##name,
#include "ops.def"
#undef VMT_OP
};

bool vmt_step_model(struct vmt_model_side *ms, const struct vmt_outcome *o,
		    char *why, size_t n)
{
	struct mstep s = { ms, ms->m, o, &o->op, why, n };

	why[0] = 0;
	ms->have_rc = false;
	vmt_model_why(ms->m);	/* forget a refusal of an earlier op */
	vmt_model_set_thread(ms->m, ms->per_thread ? o->thread : 0);
	if (o->op.code >= VMT_OP__COUNT)
		return differ(&s, "no such op %u", o->op.code);
	if (o->seen & VMT_SEEN_SKIP)
		return !vmt_model_space_live(ms->m, o->space) ||
		       differ(&s, "skipped: space slot %u was empty, the model has a space there",
			      o->space);
	if (o->op.code >= VMT_OP_ACC_NEW && o->op.code <= VMT_OP_ACC_RELEASE &&
	    macc(&s) >= VMT_MODEL_ACCS)
		return differ(&s, "thread %u: accessor slots beyond the model's", o->thread);
	if (!model_steps[o->op.code](&s))
		return false;
	/* Cursor position after every op on a cursor. */
	if (o->seen & VMT_SEEN_VA)
		return same_u64(&s, "cursor va", o->va, vmt_model_cursor_va(ms->m, o->space));
	return true;
}
