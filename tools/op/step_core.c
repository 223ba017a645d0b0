/* SPDX-License-Identifier: MIT */
/*
 * step_core.c - the core half of every op: run it on libvms for one
 * thread and record what libvms answered. See step.h.
 *
 * A thread's view of what it holds (cursors, accessors, frame handles)
 * is built only from libvms's answers, so that everything taken can be
 * given back whatever the model says.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "step.h"
#include "fault.h"

/* ---- shared state and threads ------------------------------------------ */

int vmt_shared_init(struct vmt_shared *sh, struct vms_pool *pool)
{
	struct vms_pool_stats st;

	memset(sh, 0, sizeof(*sh));
	if (vms_pool_stats(pool, &st))
		return -EINVAL;
	sh->pool = pool;
	sh->nr_frames = st.total_frames + 1;	/* paddr 0 is never a frame */
	sh->gid_pages = calloc(sh->nr_frames / VMT_GIDS_PER_PAGE + 1, sizeof(*sh->gid_pages));
	atomic_store(&sh->next_gid, 1);
	return sh->gid_pages ? 0 : -ENOMEM;
}

void vmt_shared_fini(struct vmt_shared *sh)
{
	for (size_t p = 0; sh->gid_pages && p <= sh->nr_frames / VMT_GIDS_PER_PAGE; p++)
		free((void *)sh->gid_pages[p]);
	free(sh->gid_pages);
	sh->gid_pages = NULL;
}

uint64_t vmt_frame_gid(const struct vmt_shared *sh, const struct vms_frame *f)
{
	uint64_t i = vms_frame_paddr(f) / VMS_PAGE_SIZE;
	_Atomic uint64_t *page;

	if (!f || i >= sh->nr_frames)
		return 0;
	page = atomic_load_explicit(&sh->gid_pages[i / VMT_GIDS_PER_PAGE], memory_order_acquire);
	return page ? atomic_load_explicit(&page[i % VMT_GIDS_PER_PAGE], memory_order_acquire) : 0;
}

/*
 * The page of gid entries of 4 KiB frame @i, made on first use; NULL if
 * out of memory. Left out of coverage (fuzz/nocov.txt): the numbering is
 * kept with the pool between runs, so whether the page exists depends on
 * the runs before this one.
 */
__attribute__((noinline)) static _Atomic uint64_t *gid_page(struct vmt_shared *sh, uint64_t i)
{
	_Atomic(_Atomic uint64_t *) *slot = &sh->gid_pages[i / VMT_GIDS_PER_PAGE];
	_Atomic uint64_t *page = atomic_load_explicit(slot, memory_order_acquire), *none = NULL;

	if (!page) {
		page = calloc(VMT_GIDS_PER_PAGE, sizeof(*page));
		if (!page)
			return NULL;
		/* Another thread may have made it first. */
		if (!atomic_compare_exchange_strong_explicit(slot, &none, page, memory_order_acq_rel,
							     memory_order_acquire)) {
			free((void *)page);
			page = none;
		}
	}
	return page;
}

/* Number the frame at @paddr @gid; false if out of memory. */
static bool set_gid(struct vmt_shared *sh, uint64_t paddr, uint64_t gid)
{
	uint64_t i = paddr / VMS_PAGE_SIZE;
	_Atomic uint64_t *page = gid_page(sh, i);

	if (!page)
		return false;
	atomic_store_explicit(&page[i % VMT_GIDS_PER_PAGE], gid, memory_order_release);
	return true;
}

int vmt_thread_init(struct vmt_thread *t, struct vmt_shared *sh, uint16_t id, bool exclusive)
{
	memset(t, 0, sizeof(*t));
	t->sh = sh;
	t->id = id;
	t->exclusive = exclusive;
	for (int s = 0; s < VMT_NR_FRAMES; s++)
		t->fslot[s] = -1;
	return 0;
}

/* pool_new's pools kept for later; those that still cannot go stay. */
static void priv_pools_destroy(struct vmt_thread *t)
{
	unsigned k = 0;

	for (unsigned i = 0; i < t->npriv; i++)
		if (vms_pool_destroy(t->priv_pools[i]))
			t->priv_pools[k++] = t->priv_pools[i];
	t->npriv = k;
}

void vmt_thread_fini(struct vmt_thread *t)
{
	priv_pools_destroy(t);
	free(t->priv_pools);
	t->priv_pools = NULL;
	t->npriv = t->privcap = 0;
	free(t->io);
	t->io = NULL;
	t->iocap = 0;
}

/* Left out of coverage (fuzz/nocov.txt): whether it grows depends on
 * what the runs before this one on the thread needed. */
__attribute__((noinline)) uint8_t *vmt_io(uint8_t **buf, size_t *cap, size_t n)
{
	size_t c = *cap ? *cap : 4096;
	uint8_t *b;

	if (*buf && n <= *cap)
		return *buf;
	while (c < n)
		c *= 2;
	b = realloc(*buf, c);
	if (b) {
		*buf = b;
		*cap = c;
	}
	return b;
}

struct vms_frame *vmt_thread_frame(const struct vmt_thread *t, int slot, uint64_t *gid)
{
	int h = t->fslot[slot];

	*gid = h < 0 ? 0 : t->held[h].gid;
	return h < 0 ? NULL : t->held[h].f;
}

void vmt_thread_forget(struct vmt_thread *t, uint64_t gid)
{
	for (int s = 0; s < VMT_NR_FRAMES; s++)
		if (t->fslot[s] >= 0 && t->held[t->fslot[s]].gid == gid)
			t->fslot[s] = -1;
}

void vmt_thread_put_frames(struct vmt_thread *t)
{
	for (unsigned i = 0; i < t->nheld; i++) {
		while (t->held[i].handles) {
			t->held[i].handles--;
			if (vms_frame_put(t->held[i].f))
				break;
		}
	}
	t->nheld = 0;
	for (int s = 0; s < VMT_NR_FRAMES; s++)
		t->fslot[s] = -1;
}

/* A full ledger drops the frames it holds no handle on and no slot
 * names, keeping the order (only long stress runs get here). */
static void held_compact(struct vmt_thread *t)
{
	int map[VMT_MAX_OPS];
	unsigned k = 0;

	for (unsigned i = 0; i < t->nheld; i++) {
		bool named = false;

		for (int s = 0; s < VMT_NR_FRAMES; s++)
			named |= t->fslot[s] == (int)i;
		map[i] = -1;
		if (t->held[i].handles || named) {
			map[i] = (int)k;
			t->held[k++] = t->held[i];
		}
	}
	t->nheld = k;
	for (int s = 0; s < VMT_NR_FRAMES; s++)
		if (t->fslot[s] >= 0)
			t->fslot[s] = map[t->fslot[s]];
}

/* After an op on the frame of @slot (ledger entry @h): the slot's rule
 * (step.h), then the counts an exclusive thread may look at. */
static void after_frame_op(struct vmt_thread *t, int slot, int h, struct vmt_outcome *o)
{
	if (h < 0)
		return;
	if (!t->exclusive && !t->held[h].handles)
		t->fslot[slot] = -1;
	if (t->exclusive) {
		o->handles = vms_frame_handles(t->held[h].f);
		o->seen |= VMT_SEEN_COUNTS;
	}
}

/* libvms ran out of memory: an exclusive thread with no cursor open
 * relieves the pool, and the model step decides whether it was real. */
static void after_enomem(struct vmt_thread *t, struct vmt_outcome *o)
{
	if (o->ret != -ENOMEM || !t->exclusive || vmt_thread_has_cursor(t))
		return;
	o->quiesce = vms_pool_quiesce(t->sh->pool);
	o->seen |= VMT_SEEN_QUIESCE;
}

/* ---- cursors ------------------------------------------------------------- */

static bool core_cursor_new(struct vmt_thread *t, const struct vmt_op *op, struct vmt_outcome *o)
{
	struct vms_space *s = t->sh->space[op->space];
	struct vms_cursor *c = NULL;

	if (!s)
		return false;
	if (t->cur[op->space]) {
		vms_cursor_drop(t->cur[op->space]);
		t->cur[op->space] = NULL;
	}
	o->ret = op->arg ? vms_cursor_mut_new(s, op->a, op->b, &c)
			 : vms_cursor_new(s, op->a, op->b, &c);
	if (o->ret == 0)
		t->cur[op->space] = c;
	after_enomem(t, o);
	return true;
}

static bool core_query(struct vmt_thread *t, const struct vmt_op *op, struct vmt_outcome *o)
{
	struct vms_mapping mm;

	memset(&mm, 0x5a, sizeof(mm));
	o->ret = vms_cursor_query(t->cur[op->space], &mm);
	if (o->ret)
		return true;
	o->start = mm.start;
	o->end = mm.end;
	o->level = mm.level;
	o->paddr = mm.paddr;
	o->prop = mm.prop;
	o->frame = mm.frame ? vmt_frame_gid(t->sh, mm.frame) : 0;
	/* A frame nobody numbered still must not look absent. */
	if (mm.frame && !o->frame)
		o->frame = ~0ULL;
	return true;
}

static bool core_find_next(struct vmt_thread *t, const struct vmt_op *op, struct vmt_outcome *o)
{
	vms_vaddr_t found = 0;

	o->ret = vms_cursor_find_next(t->cur[op->space], op->a, &found);
	o->start = found;
	return true;
}

static bool core_jump(struct vmt_thread *t, const struct vmt_op *op, struct vmt_outcome *o)
{
	o->ret = vms_cursor_jump(t->cur[op->space], op->a);
	return true;
}

static bool core_map(struct vmt_thread *t, const struct vmt_op *op, struct vmt_outcome *o)
{
	int h = t->fslot[op->slot];
	struct vms_frame *f = vmt_thread_frame(t, op->slot, &o->frame);

	o->ret = vms_cursor_map(t->cur[op->space], f, op->prop);
	if (o->ret >= 0 && h >= 0)
		t->held[h].handles--;
	after_enomem(t, o);
	after_frame_op(t, op->slot, h, o);
	return true;
}

static bool core_unmap(struct vmt_thread *t, const struct vmt_op *op, struct vmt_outcome *o)
{
	o->ret = vms_cursor_unmap(t->cur[op->space], op->a);
	after_enomem(t, o);
	return true;
}

static bool core_protect_next(struct vmt_thread *t, const struct vmt_op *op,
			      struct vmt_outcome *o)
{
	struct vmt_protect_edit pa = VMT_PROTECT_EDIT(op);
	vms_vaddr_t s = 0, e = 0;

	o->ret = vms_cursor_protect_next(t->cur[op->space], op->a, vmt_protect_apply, &pa, &s, &e);
	o->start = s;
	o->end = e;
	after_enomem(t, o);
	return true;
}

static bool core_drop(struct vmt_thread *t, const struct vmt_op *op, struct vmt_outcome *o)
{
	vms_cursor_drop(t->cur[op->space]);
	t->cur[op->space] = NULL;
	return true;
}

/*
 * A second cursor on a space the thread holds a cursor on: the lock
 * protocol's relock paths (lock.c: a node the thread holds already is
 * -EDEADLK, and what the walk took is given back). It opens, or fails,
 * and is dropped at once. Only an exclusive thread runs it: its driver
 * (exec.c) predicts the result from both cursors' lock sets; among
 * threads the other cursors' locks would make it wait, or deadlock.
 */
static bool core_cursor_try(struct vmt_thread *t, const struct vmt_op *op,
			    struct vmt_outcome *o)
{
	struct vms_space *s = t->sh->space[op->space];
	struct vms_cursor *c = NULL;

	if (!t->exclusive || !s || !t->cur[op->space])
		return false;
	o->ret = op->arg ? vms_cursor_mut_new(s, op->a, op->b, &c) :
			   vms_cursor_new(s, op->a, op->b, &c);
	if (o->ret == 0)
		vms_cursor_drop(c);
	return true;
}

/* ---- frames --------------------------------------------------------------- */

static bool core_frame_alloc(struct vmt_thread *t, const struct vmt_op *op,
			     struct vmt_outcome *o)
{
	struct vms_frame *f = NULL;
	struct vmt_held *h;

	/* The slot's old frame (if any) stays in the ledger: its handles are
	 * still held, and given back at the end. */
	t->fslot[op->slot] = -1;
	if (t->nheld == VMT_MAX_OPS)
		held_compact(t);
	if (t->nheld == VMT_MAX_OPS)
		return false;
	o->ret = vms_frame_alloc(t->sh->pool, op->arg, &f);
	after_enomem(t, o);
	if (o->ret)
		return true;
	o->frame = atomic_fetch_add(&t->sh->next_gid, 1);
	o->paddr = vms_frame_paddr(f);
	if (!set_gid(t->sh, o->paddr, o->frame))
		o->frame = ~0ULL;	/* no model frame will match: a divergence, not a crash */
	/* Keep the frame whatever the model says: it must be put. */
	h = &t->held[t->nheld];
	h->f = f;
	h->gid = o->frame;
	h->handles = 1;
	t->fslot[op->slot] = (int)t->nheld++;
	if (t->exclusive) {
		const uint8_t *d = vms_frame_peek(f);
		uint64_t size = vms_page_size(op->arg);

		o->seen |= VMT_SEEN_COUNTS;
		o->level = vms_frame_level(f);
		o->refcount = vms_frame_refcount(f);
		o->handles = vms_frame_handles(f);
		/* Zeroed: look at the first and the last page only (a 2 MiB
		 * scan per allocation would dominate the run). */
		for (uint64_t i = 0; i < VMS_PAGE_SIZE && !o->dirty; i += 8)
			o->dirty = *(const uint64_t *)(d + i) ||
				   *(const uint64_t *)(d + size - VMS_PAGE_SIZE + i);
	}
	return true;
}

static bool core_frame_get(struct vmt_thread *t, const struct vmt_op *op, struct vmt_outcome *o)
{
	int h = t->fslot[op->slot];

	o->ret = vms_frame_get(vmt_thread_frame(t, op->slot, &o->frame));
	if (o->ret == 0 && h >= 0)
		t->held[h].handles++;
	after_frame_op(t, op->slot, h, o);
	return true;
}

static bool core_frame_put(struct vmt_thread *t, const struct vmt_op *op, struct vmt_outcome *o)
{
	int h = t->fslot[op->slot];

	o->ret = vms_frame_put(vmt_thread_frame(t, op->slot, &o->frame));
	if (o->ret == 0 && h >= 0)
		t->held[h].handles--;
	after_frame_op(t, op->slot, h, o);
	return true;
}

/* ---- spaces ------------------------------------------------------------------ */

static int current_slot(const struct vmt_thread *t)
{
	struct vms_space *cur = vms_space_current();

	if (!cur)
		return -1;
	for (int s = 0; s < VMT_NR_SPACES; s++)
		if (t->sh->space[s] == cur)
			return s;
	return -2;
}

static bool core_space_new(struct vmt_thread *t, const struct vmt_op *op, struct vmt_outcome *o)
{
	struct vms_space *s = NULL;

	if (t->sh->space[op->space])
		return false;
	o->ret = vms_space_new(t->sh->pool, op->arg, &s);
	after_enomem(t, o);
	if (o->ret == 0) {
		t->sh->space[op->space] = s;
		o->flags = vms_space_flags(s);
		o->pool_other = vms_space_pool(s) != t->sh->pool;
	}
	return true;
}

static bool core_space_destroy(struct vmt_thread *t, const struct vmt_op *op,
			       struct vmt_outcome *o)
{
	if (!t->sh->space[op->space])
		return false;
	o->ret = vms_space_destroy(t->sh->space[op->space]);
	if (o->ret == 0) {
		t->sh->space[op->space] = NULL;
		t->cur[op->space] = NULL;
	}
	return true;
}

static bool space_activation(struct vmt_thread *t, int sp, bool on, struct vmt_outcome *o)
{
	struct vms_space *s = t->sh->space[sp];

	if (!s)
		return false;
	o->space = (uint8_t)sp;
	o->ret = on ? vms_space_activate(s) : vms_space_deactivate(s);
	o->current = current_slot(t);
	return true;
}

static bool core_space_activate(struct vmt_thread *t, const struct vmt_op *op,
				struct vmt_outcome *o)
{
	return space_activation(t, op->space, true, o);
}

static bool core_space_deactivate(struct vmt_thread *t, const struct vmt_op *op,
				  struct vmt_outcome *o)
{
	return space_activation(t, op->space, false, o);
}

static bool core_space_switch(struct vmt_thread *t, const struct vmt_op *op,
			      struct vmt_outcome *o)
{
	return space_activation(t, current_slot(t) == 0 ? 1 : 0, true, o);
}

/* ---- accessors ------------------------------------------------------------------ */

static long acc_release(struct vmt_thread *t, int a)
{
	long c = 0;

	if (t->acc[a].r)
		c = vms_reader_release(t->acc[a].r);
	else if (t->acc[a].w)
		c = vms_writer_release(t->acc[a].w);
	t->acc[a].r = NULL;
	t->acc[a].w = NULL;
	return c;
}

static uint64_t acc_remain(const struct vmt_thread *t, int a)
{
	return t->acc[a].w ? vms_writer_remain(t->acc[a].w) : vms_reader_remain(t->acc[a].r);
}

/* A used slot is released first. */
static bool core_acc_new(struct vmt_thread *t, const struct vmt_op *op, struct vmt_outcome *o)
{
	struct vms_space *s = t->sh->space[op->space];
	int a = op->slot;

	if (!s)
		return false;
	o->released = t->acc[a].r || t->acc[a].w;
	if (o->released)
		o->release_ret = acc_release(t, a);
	if (op->arg)
		o->ret = vms_space_create_writer(s, op->a, op->b, &t->acc[a].w);
	else
		o->ret = vms_space_create_reader(s, op->a, op->b, &t->acc[a].r);
	if (o->ret) {
		t->acc[a].r = NULL;
		t->acc[a].w = NULL;
	}
	t->acc[a].space = op->space;
	if (o->ret == 0)
		o->remain = acc_remain(t, a);
	return true;
}

static bool core_activate(struct vmt_thread *t, const struct vmt_op *op, struct vmt_outcome *o)
{
	int a = op->slot, sp = op->arg ? op->space : t->acc[a].space;
	struct vms_space *s = t->sh->space[sp];

	if ((!t->acc[a].r && !t->acc[a].w) || !s)
		return false;
	o->space = (uint8_t)sp;
	o->ret = t->acc[a].w ? vms_space_activate_writer(s, t->acc[a].w)
			     : vms_space_activate_reader(s, t->acc[a].r);
	return true;
}

static bool core_read(struct vmt_thread *t, const struct vmt_op *op, struct vmt_outcome *o)
{
	uint8_t *io = vmt_io(&t->io, &t->iocap, op->a);

	if (!t->acc[op->slot].r || !io)
		return false;
	memset(io, 0xa5, op->a);
	o->ret = vms_reader_read(t->acc[op->slot].r, io, op->a);
	o->data = io;
	o->remain = acc_remain(t, op->slot);
	return true;
}

static bool core_write(struct vmt_thread *t, const struct vmt_op *op, struct vmt_outcome *o)
{
	uint8_t *io = vmt_io(&t->io, &t->iocap, op->a);

	if (!t->acc[op->slot].w || !io)
		return false;
	vmt_fill_pattern(io, op->a, op->arg);
	o->ret = vms_writer_write(t->acc[op->slot].w, io, op->a);
	o->data = io;
	o->remain = acc_remain(t, op->slot);
	return true;
}

static bool core_release(struct vmt_thread *t, const struct vmt_op *op, struct vmt_outcome *o)
{
	if (!t->acc[op->slot].r && !t->acc[op->slot].w)
		return false;
	o->ret = acc_release(t, op->slot);
	return true;
}

/* ---- whole pool ------------------------------------------------------------------- */

/* vms_space_check on every space, up to the first that finds a broken
 * invariant; with no space at all, a quiesce point (in ret). */
static bool core_check(struct vmt_thread *t, const struct vmt_op *op, struct vmt_outcome *o)
{
	bool any = false;

	memset(t->chk, 0, sizeof(t->chk));
	o->data = t->chk;
	for (int sp = 0; sp < VMT_NR_SPACES; sp++) {
		struct vmt_check_seen *c = &t->chk[sp];

		if (!t->sh->space[sp])
			continue;
		any = true;
		c->checked = true;
		c->ret = vms_space_check(t->sh->space[sp], &c->rep);
		if (c->ret == -EUCLEAN)
			break;
	}
	if (!any)
		o->ret = vms_pool_quiesce(t->sh->pool);
	return true;
}

static bool core_quiesce(struct vmt_thread *t, const struct vmt_op *op, struct vmt_outcome *o)
{
	o->ret = vms_pool_quiesce(t->sh->pool);
	return true;
}

/*
 * A session in a second pool, as a thread working in two pools makes:
 * one 4 KiB page mapped, unmapped, the cursor dropped. The drop retires
 * into the new pool while this thread's batch may hold the executor
 * pool's releases (batch VMS_RETIRE_BATCH_MAX, reuse.c), which the core
 * must hand to their own pool first (sync.c vms_defer_retire). Judged by
 * the destroy that follows (0: every release went home) and by the
 * executor pool's state at the next check. A fault armed past the new
 * pool's own sites fails one of these calls, which give up quietly: only
 * a pool-kind fault is the op's -ENOMEM (step_model.c model_pool_new).
 */
static void pool_session(struct vmt_thread *t, struct vms_pool *p)
{
	struct vms_space *s = NULL;
	struct vms_cursor *c = NULL;
	struct vms_frame *f = NULL;

	/* A cursor held here: the destroy is -EDEADLK (no grace period in a
	 * read section), and so could the space's be: nothing to learn. */
	if (vmt_thread_has_cursor(t))
		return;
	vms_pool_set_reclaim_inline(p, true);
	vms_pool_set_retire_batch(p, VMS_RETIRE_BATCH_MAX);
	if (vms_space_new(p, 0, &s))
		return;
	if (!vms_frame_alloc(p, 1, &f)) {
		/* The map takes the allocation's handle into the PTE. */
		if (vms_cursor_mut_new(s, 0, VMS_PAGE_SIZE, &c) ||
		    vms_cursor_map(c, f,
				   (struct vms_prop){ .flags = VMS_PROP_R }))
			vms_frame_put(f);
		else
			vms_cursor_unmap(c, VMS_PAGE_SIZE);
		if (c)
			vms_cursor_drop(c);
	}
	/* The destroy's own cursor or batch may be the site an armed fault
	 * fails (once): then the space is whole and the second try frees it. */
	if (vms_space_destroy(s) == -ENOMEM)
		vms_space_destroy(s);
}

/* A pool of the op's size, its stats as created, a session in it, then
 * destroyed: the size rules and -ENOMEM of vms_pool_new (whose five
 * allocations are fault sites of kind pool), that a new pool is empty
 * and idle, and that a second pool's releases go home. */
static bool core_pool_new(struct vmt_thread *t, const struct vmt_op *op, struct vmt_outcome *o)
{
	struct vms_pool *p = NULL;

	priv_pools_destroy(t);
	if (t->npriv == t->privcap) {
		unsigned cap = t->privcap ? 2 * t->privcap : 4;
		struct vms_pool **a = realloc(t->priv_pools, cap * sizeof(*a));

		if (!a)
			return false;
		t->priv_pools = a;
		t->privcap = cap;
	}
	o->ret = vms_pool_new((size_t)op->a, &p);
	if (o->ret)
		return true;
	vms_pool_stats(p, &t->priv_stats);
	o->data = &t->priv_stats;
	pool_session(t, p);
	o->release_ret = vms_pool_destroy(p);
	if (o->release_ret)
		t->priv_pools[t->npriv++] = p;	/* refused: kept for later, not leaked */
	return true;
}

/* ---- faults ------------------------------------------------------------------------ */

/* The core's fault control (fault.h) exists only in cores built with
 * -DVMS_FAULTS; against any other core a fail op does nothing. */
extern void vms_fault_arm(uint32_t nth, enum vms_fault_kind k) __attribute__((weak));
extern enum vms_fault_kind vms_fault_take(uint32_t *nth) __attribute__((weak));

/* Armed now, injected in the next op (vmt_step_core). */
static bool core_fail(struct vmt_thread *t, const struct vmt_op *op, struct vmt_outcome *o)
{
	t->fail_nth = (uint32_t)op->a;
	t->fail_site = op->arg;
	return true;
}

/* ---- dispatch ---------------------------------------------------------------------- */

#include "step_corrupt.h" /* core_corrupt */

typedef bool core_step_fn(struct vmt_thread *, const struct vmt_op *, struct vmt_outcome *);

static core_step_fn *const core_steps[VMT_OP__COUNT] = {
#define VMT_OP(code, name, ...) [VMT_OP_##code] = core_##name,
#include "ops.def"
#undef VMT_OP
};

static bool step_core(struct vmt_thread *t, const struct vmt_op *op, struct vmt_outcome *o)
{
	if (op->code >= VMT_OP__COUNT)
		return false;
	/* Ops on a cursor: skipped without one, and its va recorded after. */
	if (vmt_op_on_cursor(op->code) && op->code != VMT_OP_CURSOR_NEW && !t->cur[op->space])
		return false;
	if (!core_steps[op->code](t, op, o))
		return false;
	if (vmt_op_on_cursor(op->code) && t->cur[op->space]) {
		o->va = vms_cursor_va(t->cur[op->space]);
		o->seen |= VMT_SEEN_VA;
	}
	return true;
}

bool vmt_step_core(struct vmt_thread *t, const struct vmt_op *op, struct vmt_outcome *o)
{
	bool ran;

	memset(o, 0, sizeof(*o));
	o->op = *op;
	o->thread = t->id;
	o->space = op->space;
	/* A fail op's fault is for this op only, whether it runs or not. */
	if (t->fail_nth && op->code != VMT_OP_FAIL) {
		if (vms_fault_arm)
			vms_fault_arm(t->fail_nth, t->fail_site);
		t->fail_nth = 0;
	}
	ran = step_core(t, op, o);
	/* What was injected (armed, or at random: stress --faults). */
	if (vms_fault_take) {
		uint32_t nth;

		o->fault = (uint8_t)vms_fault_take(&nth);
		o->fault_nth = nth <= 255 ? (uint8_t)nth : 0;
	}
	return ran;
}
