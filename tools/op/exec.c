/* SPDX-License-Identifier: MIT */
/*
 * exec.c - the differential executor: one program, one thread, each op's
 * core step then its model step (step.h), plus what only a lock-step run
 * can do: the full sweeps at check ops and at the end (exec_check.c), and
 * a model-checked teardown. This file is the driver; vmt_localize is in
 * localize.c. See op.h.
 *
 * The thread's view of what it holds in libvms is built only from
 * libvms's answers, so that whatever the model says, everything taken is
 * given back at the end and the pool can be destroyed. A pool that cannot
 * be destroyed after that is a libvms leak.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "exec.h"

_Static_assert(VMS_SPACE_SHARED_READERS == 0x1u && VMS_SPACE_FLAGS_MASK == 0x1u,
	       "model/model.c restates the space flags");

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
		if (lockstep_sweep_range(x, sp, c, x->crange[sp][0],
					 x->crange[sp][1]) &&
		    vms_cursor_jump(c, va))
			lockstep_diverge(x,
					 "jump back to 0x%" PRIx64
					 " on space %d failed",
					 va, sp);
	}
	if (!open && !x->diverged)
		exec_op(x, &(struct vmt_op){ .code = VMT_OP_CHECK });
}

/* Core step, model step, and at a check op the sweeps. Returns false if
 * the op was skipped. */
static bool exec_op(struct lockstep *x, const struct vmt_op *op)
{
	struct vmt_outcome o;
	/* Ops that leave the state as it was: a check (whose quiesce the
	 * check before it already did) and a drop of no cursor. */
	bool idle = op->code == VMT_OP_CHECK ||
		    (op->code == VMT_OP_DROP && !x->t.cur[op->space]);
	bool conflict = false;

	x->have_rc = false;
	/* Where the model cannot know a second cursor's result: skipped. */
	if (op->code == VMT_OP_CURSOR_TRY &&
	    !lockstep_judge_try(x, op, &conflict))
		return false;
	if (!vmt_step_core(&x->t, op, &o))
		return false;
	o.conflict = conflict;
	if (!idle)
		x->swept = false;
	x->new_paddr = op->code == VMT_OP_FRAME_ALLOC && o.ret == 0 ? o.paddr : 0;
	if (op->code == VMT_OP_CURSOR_NEW && o.ret == 0) {
		x->crange[op->space][0] = op->a;
		x->crange[op->space][1] = op->b;
	}
	lockstep_check_outcome(x, &o);
	if (!x->diverged && op->code == VMT_OP_CURSOR_NEW && o.ret == 0)
		lockstep_check_guard(x, op->space);
	if (!x->diverged && op->code == VMT_OP_CHECK)
		lockstep_check_phase(x, &o);
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
				lockstep_diverge(
					x, "%s: space %d: %d",
					vms_check_name(VMS_CHECK_TEARDOWN), sp,
					c);
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
			lockstep_check_outcome(x, &o);
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
			lockstep_diverge(
				x, "model frame %d still live after teardown",
				id);
	/* No space left to check: the pool's conservation on its own, so a
	 * wrong counter is titled by the invariant it breaks rather than by
	 * the pool reset it then fails. */
	if (!x->diverged) {
		struct vms_check_report rep;
		char line[320];

		if (vms_pool_check(x->sh->pool, &rep) == -EUCLEAN) {
			vms_check_report_line(&rep, line, sizeof(line));
			lockstep_diverge(x, "vms_pool_check: %s", line);
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

/* Programs this executor does not run: invalid, multi-thread (the
 * controlled executor's), or a caller that already has an active space.
 * True (with @r filled in) if @p is refused. */
static bool refuse(const struct vmt_prog *p, struct vmt_result *r)
{
	unsigned bad;

	if (!vmt_prog_valid(p, &bad)) {
		r->status = -EINVAL;
		r->op = (int)bad;
		snprintf(r->sig, sizeof(r->sig), "invalid program (op#%u)", bad);
		return true;
	}
	if (vmt_prog_is_mt(p)) {
		r->status = -EINVAL;
		r->op = (int)p->n;
		snprintf(r->sig, sizeof(r->sig), "a multi-thread program: the controlled executor "
			 "runs it (vmtorture sched, vmtorture replay)");
		return true;
	}
	if (vms_space_current()) {
		r->status = -EINVAL;
		snprintf(r->sig, sizeof(r->sig), "calling thread already has an active space");
		return true;
	}
	return false;
}

/* The run's state on a reused pool and model of @pool_bytes; NULL (with
 * @r filled in) if there is no memory for them. */
static struct lockstep *lockstep_start(const struct vmt_prog *p,
				       const struct vmt_exec_opts *o,
				       struct vmt_result *r, size_t pool_bytes)
{
	struct lockstep *x;
	struct vms_pool_stats st;
	int c;

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
		return NULL;
	}
	x->sh = &x->u->sh;
	x->ms = &x->u->ms;
	x->m = x->ms->m;
	x->p = p;
	x->o = o;
	x->r = r;
	x->what = "setup";
	lockstep_hook(x);
	vmt_thread_init(&x->t, x->sh, 0, true);
	x->t.io = x->u->io;
	x->t.iocap = x->u->iocap;
	if (vms_pool_stats(x->sh->pool, &st) == 0)
		vmt_model_set_pool(x->m, st.total_frames,
				   ((uint64_t)pool_bytes + (2ULL << 20) - 1) >> 21);
	return x;
}

/* The program's ops, then the epilogue: drop the cursors, the full
 * comparison, and a model-checked teardown; stops at a divergence. */
static void run_program(struct lockstep *x)
{
	const struct vmt_prog *p = x->p;
	char why[200];

	for (x->opi = 0; x->opi < (int)p->n && !x->diverged; x->opi++) {
		const struct vmt_op *op = &p->ops[x->opi];
		bool ran;

		x->what = vmt_op_name(op->code);
		ran = exec_op(x, op);
		if (ran)
			x->r->executed++;
		else
			x->r->skipped++;
		/* The quick self-check covers the accessor registry, which
		 * only these ops change (check ops run the full one). */
		if (!x->diverged && (op->code == VMT_OP_ACC_NEW || op->code == VMT_OP_ACC_ACTIVATE) &&
		    vmt_model_selfcheck(x->m, false, why, sizeof(why)))
			lockstep_diverge(x, "MODEL SELF-CHECK: %s", why);
		trace_op(x, op, ran);
	}
	if (x->diverged)
		return;

	/* Epilogue: drop the cursors, then the full comparison. */
	x->opi = (int)p->n;
	x->what = "check";
	for (int sp = 0; sp < VMT_NR_SPACES; sp++)
		exec_op(x, &(struct vmt_op){ .code = VMT_OP_DROP, .space = (uint8_t)sp });
	exec_op(x, &(struct vmt_op){ .code = VMT_OP_CHECK });
	if (x->diverged)
		return;
	x->what = "teardown";
	checked_teardown(x);
}

/* Pool and model back to their initial state for the next run; a pool
 * libvms kept something of is a leak. */
static void give_back(struct lockstep *x)
{
	int c;

	x->u->io = x->t.io;	/* kept for the next run */
	x->u->iocap = x->t.iocap;
	x->t.io = NULL;
	vmt_thread_fini(&x->t);
	c = vmt_reuse_put(x->u);
	if (c) {
		/* libvms kept something: report it (vmt_reuse_put dropped the
		 * pool: freeing it under live references would be worse). */
		x->what = "pool_reset";
		if (!x->diverged) {
			x->opi = (int)x->p->n;
			lockstep_diverge(x, "%s: vms_pool_reset: %d",
					 vms_check_name(VMS_CHECK_LEAK), c);
		}
	}
}

int vmt_exec(const struct vmt_prog *p, const struct vmt_exec_opts *o,
	     struct vmt_result *r)
{
	size_t pool_bytes =
		o && o->pool_bytes ? o->pool_bytes : VMT_EXEC_POOL_DEFAULT;
	struct lockstep *x;

	memset(r, 0, sizeof(*r));
	if (refuse(p, r))
		return r->status;
	x = lockstep_start(p, o, r, pool_bytes);
	if (!x)
		return r->status;

	/* The prologue every program starts from: space 0, active. */
	x->opi = -1;
	exec_op(x, &(struct vmt_op){ .code = VMT_OP_SPACE_NEW });
	if (!x->diverged && x->sh->space[0]) {
		exec_op(x, &(struct vmt_op){ .code = VMT_OP_SPACE_ACTIVATE });
		if (!x->diverged)
			run_program(x);
		/* A prefix run alone for vmt_localize ends with its process.
		 * After a divergence the core's state is suspect (a run-time
		 * check broke: a copy ran past its frame, a node was used after
		 * its free), and tearing it down may crash on it, which would
		 * hide the divergence this prefix found: the process gives the
		 * pool back instead. */
		if (x->diverged && o && o->isolate) {
			lockstep_unhook();
			return r->status;
		}
		teardown(x);
	}
	give_back(x);
	lockstep_unhook();
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
	lockstep_hook(x);
	vmt_thread_init(&x->t, sh, 0, true);
	exec_op(x, &(struct vmt_op){ .code = VMT_OP_CHECK });
	if (!x->diverged) {
		x->what = "teardown";
		checked_teardown(x);
	}
	teardown(x);
	vmt_thread_fini(&x->t);
	lockstep_unhook();
	free(x);
	return r->status;
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
