/* SPDX-License-Identifier: MIT */
/*
 * exec.c - the differential executor: one program, one thread, each op's
 * core step then its model step (step.h), plus what only a lock-step run
 * can do: the full sweeps at check ops and at the end, and a model-checked
 * teardown. See op.h.
 *
 * The thread's view of what it holds in libvms is built only from
 * libvms's answers, so that whatever the model says, everything taken is
 * given back at the end and the pool can be destroyed. A pool that cannot
 * be destroyed after that is a libvms leak.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <vms/vms.h>

#include "step.h"
#include "reuse.h"
#include "../../model/model.h"

_Static_assert(VMS_SPACE_SHARED_READERS == 0x1u && VMS_SPACE_FLAGS_MASK == 0x1u,
	       "model/model.c restates the space flags");

struct lockstep {
	const struct vmt_prog *p;
	const struct vmt_exec_opts *o;
	struct vmt_result *r;
	struct vmt_reuse *u;		/* the thread's pool and model, reset after the run */
	struct vmt_shared *sh;		/* u->sh */
	struct vmt_thread t;
	struct vmt_model_side *ms;	/* u->ms */
	struct vmt_model *m;		/* ms->m */

	int opi;			/* current op index (p->n: the epilogue) */
	const char *what;		/* current op name, for signatures */
	const char *check;		/* the table's check a difference breaks, if any */
	bool diverged;
	bool have_rc;			/* last_rc is this op's first compared result */
	long last_rc;
	uint64_t new_paddr;		/* a frame_alloc that succeeded: the frame's paddr */
	uint64_t crange[VMT_NR_SPACES][2];	/* each space's open cursor: [start, end) */
};

/* ---- reporting --------------------------------------------------------- */

static void diverge(struct lockstep *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void diverge(struct lockstep *x, const char *fmt, ...)
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
		snprintf(x->r->sig, sizeof(x->r->sig), "DIVERGENCE op#%d %s: %s%s%s",
			 x->opi, x->what, x->check ? x->check : "", x->check ? ": " : "", detail);
	else
		snprintf(x->r->sig, sizeof(x->r->sig), "DIVERGENCE end %s: %s%s%s",
			 x->what, x->check ? x->check : "", x->check ? ": " : "", detail);
}

/*
 * The core's invariant checks (fuzz builds: -DVMS_INVARIANTS) call this
 * hook inside a libvms call; the op that made it call is the divergence.
 */
extern void (*vms_poison_hook)(enum vms_check check, const char *where) __attribute__((weak));
static __thread struct lockstep *hook_x;

static void invariant_broken(enum vms_check check, const char *where)
{
	if (hook_x)
		diverge(hook_x, "invariant broken: %s (in %s)", vms_check_name(check), where);
}

/* A count compared by check @c of vms/checks.def; @what: which one. */
static bool same_u64(struct lockstep *x, enum vms_check c, const char *what, uint64_t core,
		     uint64_t model)
{
	if (core == model)
		return true;
	diverge(x, "%s: %s core=0x%" PRIx64 " model=0x%" PRIx64, vms_check_name(c), what,
		core, model);
	return false;
}

/* The model step of @o; a difference is the divergence. */
static void check_outcome(struct lockstep *x, const struct vmt_outcome *o)
{
	char why[256];

	if (!vmt_step_model(x->ms, o, why, sizeof(why)))
		diverge(x, "%s", why);
	x->have_rc = x->ms->have_rc;
	x->last_rc = x->ms->rc;
}

/* ---- the sweep: compare the whole state at a quiesce point ------------- */

/* The leaves of space @sp that meet [lo, hi), through cursor @c (which
 * covers that range; it ends anywhere in it): libvms's against the model's. */
static bool sweep_range(struct lockstep *x, int sp, struct vms_cursor *c, uint64_t lo, uint64_t hi)
{
	size_t i = 0, n = vmt_model_nr_leaves(x->m, sp);
	uint64_t va = lo;
	char why[256];
	int rc;

	while (i < n && vmt_model_leaf(x->m, sp, i)->va +
	       vms_page_size(vmt_model_leaf(x->m, sp, i)->level) <= lo)
		i++;
	while (n > i && vmt_model_leaf(x->m, sp, n - 1)->va >= hi)
		n--;
	rc = vms_cursor_jump(c, lo);
	if (rc) {
		diverge(x, "sweep jump(0x%" PRIx64 ") on space %d: %d", lo, sp, rc);
		return false;
	}
	while (va < hi && !x->diverged) {
		struct vms_mapping mm;
		struct vmt_leaf_seen seen;
		vms_vaddr_t found = 0;

		rc = vms_cursor_find_next(c, hi - va, &found);
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
		seen = (struct vmt_leaf_seen){ mm.start, mm.end, mm.level, mm.paddr,
					       vmt_frame_gid(x->sh, mm.frame), mm.prop };
		if (!vmt_leaf_same(x->ms, &seen, vmt_model_leaf(x->m, sp, i), why, sizeof(why))) {
			diverge(x, "%s", why);
			break;
		}
		i++;
		va = mm.end;
		if (va >= hi)
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
	return !x->diverged;
}

static bool sweep_space(struct lockstep *x, int sp)
{
	struct vms_cursor *c;
	int rc = vms_cursor_new(x->sh->space[sp], 0, VMS_USER_END, &c);

	if (rc) {
		diverge(x, "sweep cursor on space %d: %d", sp, rc);
		return false;
	}
	sweep_range(x, sp, c, 0, VMS_USER_END);
	vms_cursor_drop(c);
	return !x->diverged;
}

/* Frame refcounts, handles and contents, and pool counters. Valid only
 * right after a successful vms_space_check (no release pending). */
static void sweep_frames(struct lockstep *x)
{
	struct vms_pool_stats st;
	uint8_t *mbuf = vmt_io(&x->ms->io, &x->ms->iocap, VMS_PAGE_SIZE);

	if (!mbuf) {
		diverge(x, "out of memory");
		return;
	}
	for (int id = 0; id < vmt_model_nr_frames(x->m) && !x->diverged; id++) {
		uint64_t gid = vmt_model_side_gid(x->ms, id), pages;
		const uint8_t *base;
		struct vms_frame *f;

		if (!vmt_model_frame_live(x->m, id))
			continue;
		f = vms_frame_from_paddr(x->sh->pool, vmt_model_side_paddr(x->ms, gid));
		if (!same_u64(x, VMS_CHECK_FRAME_COUNTS, "refcount", vms_frame_refcount(f),
			      vmt_model_frame_refcount(x->m, id)) ||
		    !same_u64(x, VMS_CHECK_FRAME_COUNTS, "handles", vms_frame_handles(f),
			      vmt_model_frame_handles(x->m, id)))
			return;
		pages = vms_page_size(vmt_model_frame_level(x->m, id)) / VMS_PAGE_SIZE;
		base = f ? vms_frame_peek(f) : NULL;
		for (uint64_t pg = 0; base && pg < pages; pg++) {
			/* Untouched pages must still be zero: checked whole for 4
			 * KiB frames (a stray write shows), skipped in 2 MiB ones
			 * (the model names the touched ones in one call: a call
			 * per page cost a tenth of the run). */
			if (pages > 1 && (pg = vmt_model_frame_next_touched(x->m, id, pg)) >= pages)
				break;
			vmt_model_frame_read(x->m, id, pg * VMS_PAGE_SIZE, mbuf, VMS_PAGE_SIZE);
			if (memcmp(base + pg * VMS_PAGE_SIZE, mbuf, VMS_PAGE_SIZE)) {
				diverge(x, "%s: frame id %d page %" PRIu64,
					vms_check_name(VMS_CHECK_FRAME_CONTENTS), id, pg);
				return;
			}
		}
	}
	if (x->diverged)
		return;
	if (vms_pool_stats(x->sh->pool, &st)) {
		diverge(x, "vms_pool_stats failed");
		return;
	}
	if (!same_u64(x, VMS_CHECK_POOL_DEFERRED, "deferred", st.deferred, 0) ||
	    !same_u64(x, VMS_CHECK_POOL_DATA, "data_frames", st.data_frames,
		      vmt_model_data_frames(x->m)) ||
	    !same_u64(x, VMS_CHECK_POOL_SPACES, "spaces", st.spaces,
		      (uint64_t)vmt_model_nr_spaces(x->m)))
		return;
	if (st.free_frames + st.data_frames + st.pt_frames > st.total_frames)
		diverge(x, "%s: free %" PRIu64 " + data %" PRIu64 " + pt %" PRIu64
			" > total %" PRIu64, vms_check_name(VMS_CHECK_POOL_TOTAL), st.free_frames,
			st.data_frames, st.pt_frames, st.total_frames);
}

/* After a check op agreed: the model's own invariants, then (if every
 * space passed vms_space_check, so no cursor is open) the full comparison. */
static void check_phase(struct lockstep *x, const struct vmt_outcome *o)
{
	const struct vmt_check_seen *c = o->data;
	bool all_ok = true, any = false;
	char why[200];

	for (int sp = 0; sp < VMT_NR_SPACES; sp++) {
		any |= c[sp].checked;
		all_ok &= !c[sp].checked || !c[sp].ret;
	}
	if (!any)
		all_ok = o->ret == 0;
	if (vmt_model_selfcheck(x->m, true, why, sizeof(why))) {
		diverge(x, "MODEL SELF-CHECK: %s", why);
		return;
	}
	if (!all_ok || (x->o && x->o->no_sweep))
		return;
	for (int sp = 0; sp < VMT_NR_SPACES && !x->diverged; sp++)
		if (x->sh->space[sp])
			sweep_space(x, sp);
	if (!x->diverged)
		sweep_frames(x);
}

/* ---- ops --------------------------------------------------------------- */

/* Frames die in the model when their last handle and mapping go; a slot
 * naming one empties (op.h), its libvms pointer not to be used again. */
static void reap_slots(struct lockstep *x)
{
	for (int s = 0; s < VMT_NR_FRAMES; s++) {
		uint64_t gid;

		if (vmt_thread_frame(&x->t, s, &gid) &&
		    !vmt_model_frame_live(x->m, vmt_model_side_id(x->ms, gid)))
			vmt_thread_forget(&x->t, gid);
	}
}

static bool exec_op(struct lockstep *x, const struct vmt_op *op);

/*
 * An op had an allocation fail on purpose and agreed on its result: the
 * whole state must be what it was before (what the model still has).
 * With no cursor open, a check op compares everything (vms_space_check,
 * leaves, frames, pool counters); otherwise each open cursor's range is
 * compared through the cursor, whose va is put back (a cursor at its end
 * cannot be: its range waits for the next check).
 */
static void after_fault(struct lockstep *x)
{
	bool open = false;

	for (int sp = 0; sp < VMT_NR_SPACES && !x->diverged; sp++) {
		struct vms_cursor *c = x->t.cur[sp];
		uint64_t va;

		if (!c)
			continue;
		open = true;
		va = vms_cursor_va(c);
		if (va >= x->crange[sp][1])
			continue;
		if (sweep_range(x, sp, c, x->crange[sp][0], x->crange[sp][1]) &&
		    vms_cursor_jump(c, va))
			diverge(x, "jump back to 0x%" PRIx64 " on space %d failed", va, sp);
	}
	if (!open && !x->diverged)
		exec_op(x, &(struct vmt_op){ .code = VMT_OP_CHECK });
}

/* Core step, model step, and at a check op the sweeps. Returns false if
 * the op was skipped. */
static bool exec_op(struct lockstep *x, const struct vmt_op *op)
{
	struct vmt_outcome o;

	x->have_rc = false;
	if (!vmt_step_core(&x->t, op, &o))
		return false;
	x->new_paddr = op->code == VMT_OP_FRAME_ALLOC && o.ret == 0 ? o.paddr : 0;
	if (op->code == VMT_OP_CURSOR_NEW && o.ret == 0) {
		x->crange[op->space][0] = op->a;
		x->crange[op->space][1] = op->b;
	}
	check_outcome(x, &o);
	if (!x->diverged && op->code == VMT_OP_CHECK)
		check_phase(x, &o);
	reap_slots(x);
	if (!x->diverged && o.fault && op->code != VMT_OP_CHECK) {
		bool have_rc = x->have_rc;
		long rc = x->last_rc;

		after_fault(x);
		x->have_rc = have_rc;	/* the trace shows the op's own result */
		x->last_rc = rc;
	}
	return true;
}

/* ---- run --------------------------------------------------------------- */

static void trace_op(struct lockstep *x, const struct vmt_op *op, bool ran)
{
	char line[256];

	if (!x->o || !x->o->trace)
		return;
	char rc[80] = "", e[32];

	vmt_format_op(op, line, sizeof(line));
	/* A new frame's address: a reused pool must give the fresh one's. */
	if (ran && x->have_rc && x->new_paddr)
		snprintf(rc, sizeof(rc), "   = 0 (pa 0x%" PRIx64 ")", x->new_paddr);
	else if (ran && x->have_rc)
		snprintf(rc, sizeof(rc), "   = %s", vmt_errname(x->last_rc, e, sizeof(e)));
	fprintf(x->o->trace, "%4d %s%s%s%s\n", x->opi, line, ran ? "" : "   (skipped)", rc,
		x->diverged ? "   <-- DIVERGENCE" : "");
}

/* Give everything back, whatever the model thinks. */
static void teardown(struct lockstep *x)
{
	struct vmt_thread *t = &x->t;

	for (int sp = 0; sp < VMT_NR_SPACES; sp++) {
		vms_cursor_drop(t->cur[sp]);
		t->cur[sp] = NULL;
	}
	for (int a = 0; a < VMT_NR_ACCS; a++) {
		if (t->acc[a].r)
			vms_reader_release(t->acc[a].r);
		if (t->acc[a].w)
			vms_writer_release(t->acc[a].w);
		t->acc[a].r = NULL;
		t->acc[a].w = NULL;
	}
	vmt_thread_put_frames(t);
	if (vms_space_current())
		vms_space_deactivate(vms_space_current());
	for (int sp = 0; sp < VMT_NR_SPACES; sp++) {
		if (x->sh->space[sp]) {
			int c = vms_space_destroy(x->sh->space[sp]);

			if (c && !x->diverged)
				diverge(x, "%s: space %d: %d", vms_check_name(VMS_CHECK_TEARDOWN), sp, c);
			if (!c)
				x->sh->space[sp] = NULL;
		}
	}
}

/* Everything the model still holds must go, and so must the spaces. */
static void checked_teardown(struct lockstep *x)
{
	struct vmt_thread *t = &x->t;

	for (int a = 0; a < VMT_NR_ACCS && !x->diverged; a++)
		exec_op(x, &(struct vmt_op){ .code = VMT_OP_ACC_RELEASE, .slot = (uint8_t)a });
	for (unsigned i = 0; i < t->nheld && !x->diverged; i++) {
		while (t->held[i].handles && !x->diverged) {
			struct vmt_outcome o = { .op.code = VMT_OP_FRAME_PUT,
						 .frame = t->held[i].gid };

			o.ret = vms_frame_put(t->held[i].f);
			t->held[i].handles--;
			check_outcome(x, &o);
		}
	}
	if (!x->diverged && vmt_model_current(x->m) >= 0)
		exec_op(x, &(struct vmt_op){ .code = VMT_OP_SPACE_DEACTIVATE,
					    .space = (uint8_t)vmt_model_current(x->m) });
	/* A space the model lets go but libvms refuses to destroy (an
	 * activation or accessor it still counts) is titled by that check,
	 * not by the values the destroy returned. */
	x->check = vms_check_name(VMS_CHECK_TEARDOWN);
	for (int sp = 0; sp < VMT_NR_SPACES && !x->diverged; sp++)
		exec_op(x, &(struct vmt_op){ .code = VMT_OP_SPACE_DESTROY, .space = (uint8_t)sp });
	x->check = NULL;
	for (int id = 0; id < vmt_model_nr_frames(x->m) && !x->diverged; id++)
		if (vmt_model_frame_live(x->m, id))
			diverge(x, "model frame %d still live after teardown", id);
	/* No space left to check: the pool's conservation on its own, so a
	 * wrong counter is titled by the invariant it breaks rather than by
	 * the pool reset it then fails. */
	if (!x->diverged) {
		struct vms_check_report rep;
		char line[320];

		if (vms_pool_check(x->sh->pool, &rep) == -EUCLEAN) {
			vms_check_report_line(&rep, line, sizeof(line));
			diverge(x, "vms_pool_check: %s", line);
		}
	}
}

/*
 * The run's state and the decoded program, kept per thread between runs
 * (LeakSanitizer sees them through TLS): under ASan a fresh 7 KiB and
 * 16 KiB per input came from memory the quarantine had not recycled yet,
 * a page fault per page.
 */
static __thread struct lockstep *my_lockstep;
static __thread struct vmt_prog *my_prog;

int vmt_exec(const struct vmt_prog *p, const struct vmt_exec_opts *o,
	     struct vmt_result *r)
{
	struct lockstep *x;
	struct vms_pool *pool;
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
	if (vmt_prog_is_mt(p)) {
		r->status = -EINVAL;
		r->op = (int)p->n;
		snprintf(r->sig, sizeof(r->sig), "a multi-thread program: the controlled executor "
			 "runs it (vmtorture sched, vmtorture replay)");
		return r->status;
	}
	if (vms_space_current()) {
		r->status = -EINVAL;
		snprintf(r->sig, sizeof(r->sig), "calling thread already has an active space");
		return r->status;
	}
	if (!my_lockstep)
		my_lockstep = malloc(sizeof(*my_lockstep));
	x = my_lockstep;
	if (x)
		memset(x, 0, sizeof(*x));
	if (!x || !(x->u = vmt_reuse_get(pool_bytes, &c))) {
		r->status = -ENOMEM;
		if (x && c != -ENOMEM)
			snprintf(r->sig, sizeof(r->sig), "vms_pool_new(%zu): %d", pool_bytes, c);
		else
			snprintf(r->sig, sizeof(r->sig), "out of memory");
		return r->status;
	}
	x->sh = &x->u->sh;
	x->ms = &x->u->ms;
	x->m = x->ms->m;
	pool = x->sh->pool;
	x->p = p;
	x->o = o;
	x->r = r;
	x->what = "setup";
	if (&vms_poison_hook) {
		vms_poison_hook = invariant_broken;
		hook_x = x;
	}
	vmt_thread_init(&x->t, x->sh, 0, true);
	x->t.io = x->u->io;
	x->t.iocap = x->u->iocap;
	if (vms_pool_stats(pool, &st) == 0)
		vmt_model_set_pool(x->m, st.total_frames,
				   ((uint64_t)pool_bytes + (2ULL << 20) - 1) >> 21);

	/* The prologue every program starts from: space 0, active. */
	x->opi = -1;
	exec_op(x, &(struct vmt_op){ .code = VMT_OP_SPACE_NEW });
	if (x->diverged || !x->sh->space[0])
		goto out_pool;
	exec_op(x, &(struct vmt_op){ .code = VMT_OP_SPACE_ACTIVATE });
	if (x->diverged)
		goto out_teardown;

	for (x->opi = 0; x->opi < (int)p->n && !x->diverged; x->opi++) {
		const struct vmt_op *op = &p->ops[x->opi];
		bool ran;

		x->what = vmt_op_name(op->code);
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
		exec_op(x, &(struct vmt_op){ .code = VMT_OP_DROP, .space = (uint8_t)sp });
	exec_op(x, &(struct vmt_op){ .code = VMT_OP_CHECK });
	if (x->diverged)
		goto out_teardown;
	x->what = "teardown";
	checked_teardown(x);

out_teardown:
	/* A prefix run alone for vmt_localize ends with its process. After
	 * a divergence the core's state is suspect (a run-time check broke:
	 * a copy ran past its frame, a node was used after its free), and
	 * tearing it down may crash on it, which would hide the divergence
	 * this prefix found: the process gives the pool back instead. */
	if (x->diverged && o && o->isolate)
		goto out;
	teardown(x);
out_pool:
	x->u->io = x->t.io;	/* kept for the next run */
	x->u->iocap = x->t.iocap;
	x->t.io = NULL;
	vmt_thread_fini(&x->t);
	/* Pool and model back to their initial state for the next run. */
	c = vmt_reuse_put(x->u);
	if (c) {
		/* libvms kept something: report it (vmt_reuse_put dropped the
		 * pool: freeing it under live references would be worse). */
		x->what = "pool_reset";
		if (!x->diverged) {
			x->opi = (int)p->n;
			diverge(x, "%s: vms_pool_reset: %d", vms_check_name(VMS_CHECK_LEAK), c);
		}
	}
out:
	hook_x = NULL;
	return r->status;
}

int vmt_exec_finish(struct vmt_shared *sh, struct vmt_model_side *ms,
		    const struct vmt_exec_opts *o, struct vmt_result *r)
{
	static const struct vmt_prog none;
	struct lockstep *x = calloc(1, sizeof(*x));

	memset(r, 0, sizeof(*r));
	if (!x) {
		r->status = -ENOMEM;
		snprintf(r->sig, sizeof(r->sig), "out of memory");
		return r->status;
	}
	x->sh = sh;
	x->ms = ms;
	x->m = ms->m;
	x->p = &none;
	x->o = o;
	x->r = r;
	x->what = "check";
	if (&vms_poison_hook) {
		vms_poison_hook = invariant_broken;
		hook_x = x;
	}
	vmt_thread_init(&x->t, sh, 0, true);
	exec_op(x, &(struct vmt_op){ .code = VMT_OP_CHECK });
	if (!x->diverged) {
		x->what = "teardown";
		checked_teardown(x);
	}
	teardown(x);
	vmt_thread_fini(&x->t);
	hook_x = NULL;
	free(x);
	return r->status;
}

/*
 * One prefix, in a child process if @o->isolate: a prefix of a program
 * that crashes libvms may crash too (or hang: 10 s), and then says
 * nothing about where the states first differ.
 */
static int prefix_exec(const struct vmt_prog *q, const struct vmt_exec_opts *o,
		       struct vmt_result *t)
{
	int pfd[2], st;
	size_t got = 0;
	pid_t pid;

	if (!o || !o->isolate)
		return vmt_exec(q, o, t);
	memset(t, 0, sizeof(*t));
	t->status = -EIO;
	if (pipe(pfd))
		return t->status;
	pid = fork();
	if (!pid) {
		close(pfd[0]);
		alarm(10);
		vmt_exec(q, o, t);
		_exit(write(pfd[1], t, sizeof(*t)) == sizeof(*t) ? 0 : 1);
	}
	close(pfd[1]);
	while (pid > 0 && got < sizeof(*t)) {
		ssize_t k = read(pfd[0], (char *)t + got, sizeof(*t) - got);

		if (k <= 0 && !(k < 0 && errno == EINTR))
			break;
		got += k > 0 ? (size_t)k : 0;
	}
	close(pfd[0]);
	if (pid > 0)
		waitpid(pid, &st, 0);
	if (got != sizeof(*t))
		t->status = -EIO;
	return t->status;
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
	q = calloc(1, sizeof(*q));
	if (!q)
		return -ENOMEM;
	for (int k = 0; k < first; k++) {
		const char *d;

		q->n = (unsigned)k + 1;
		memcpy(q->ops, p->ops, q->n * sizeof(q->ops[0]));
		if (prefix_exec(q, o, &t) != 1 || (t.op <= k && !(o && o->isolate)))
			continue;
		/* A divergence inside the prefix: the whole program diverged
		 * there too (prefixes run alike), but crashed before it could
		 * say so (a check broke, then the crash followed from it).
		 * That divergence is the title; the crash goes in the body. */
		if (t.op <= k) {
			snprintf(r->sig, sizeof(r->sig), "%s", t.sig);
			r->op = t.op;
			free(q);
			return 1;
		}
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
	struct vmt_prog *p = my_prog ? my_prog : (my_prog = malloc(sizeof(*p)));
	int rc;

	if (!p) {
		memset(r, 0, sizeof(*r));
		r->status = -ENOMEM;
		return r->status;
	}
	vmt_decode(buf, n, p);
	if (vmt_prog_is_mt(p)) {
		/* Not this executor's (op.h): nothing to compare here. */
		memset(r, 0, sizeof(*r));
		r->skipped = p->n;
		return 0;
	}
	rc = vmt_exec(p, NULL, r);
	if (rc == 1)
		vmt_localize(p, NULL, r);
	return rc;
}
