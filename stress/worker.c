/* SPDX-License-Identifier: MIT */
/*
 * worker.c - stress workers: decode random bytes into an op-language
 * program, shape its cursor sessions and frame ops for the shared space
 * (addresses folded into the hot region, ops kept by the --mix weights),
 * run each through its core step and log the outcome, closing a session
 * record (ticket, log entries) at each drop. The loop only: the oracles
 * that read the logs are oracle_*.c, saving is record.c.
 *
 * Frame slots are per thread (struct vmt_thread, not exclusive) and a
 * thread only uses a slot while it holds a handle on the frame: another
 * thread may unmap the last mapping of a frame at any time, so a slot
 * without a handle could name a dead or reused frame. That keeps every
 * frame op's result a function of the thread's own history, so replaying
 * a thread's frame ops just before its next session (in ticket order) is
 * a faithful serialization.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "worker.h"
#include "fault.h"

#define PAGE	((uint64_t)VMS_PAGE_SIZE)
#define SPAN	(4ULL << 20)	/* usual upper bound of a session's range */

/* Recently mapped addresses, so accessors find mapped pages in a big
 * hot region. */
_Atomic uint64_t vmts_recent_va[256];
static _Atomic unsigned recent_pos;

static void note_mapped(uint64_t va)
{
	unsigned i = atomic_fetch_add_explicit(&recent_pos, 1, memory_order_relaxed);

	atomic_store_explicit(&vmts_recent_va[i % 256], va, memory_order_relaxed);
}

struct worker *vmts_worker_new(struct stress *S, unsigned idx)
{
	struct worker *w = calloc(1, sizeof(*w));

	if (!w)
		return NULL;
	w->S = S;
	w->idx = idx;
	w->rng = S->o.seed ^ (0x9e3779b97f4a7c15ULL * (idx + 1));
	vmts_rand(&w->rng);
	if (vmt_thread_init(&w->t, &S->sh, (uint16_t)idx, false)) {
		free(w);
		return NULL;
	}
	return w;
}

void vmts_worker_free(struct worker *w)
{
	if (!w)
		return;
	vmt_thread_fini(&w->t);
	free(w->log);
	free(w->recs);
	free(w);
}

/* Run @op's core step and log its outcome; NULL if it was skipped. */
static struct vmt_outcome *run_op(struct worker *w, const struct vmt_op *op)
{
	if (w->nlog == w->caplog) {
		size_t cap = w->caplog ? 2 * w->caplog : 4096;
		struct vmt_outcome *n = realloc(w->log, cap * sizeof(*n));

		if (!n) {
			fprintf(stderr, "vmtorture stress: out of memory\n");
			exit(2);
		}
		w->log = n;
		w->caplog = cap;
	}
	if (!vmt_step_core(&w->t, op, &w->log[w->nlog]))
		return NULL;
	if (w->log[w->nlog].fault)
		atomic_fetch_add_explicit(&w->S->faults, 1, memory_order_relaxed);
	return &w->log[w->nlog++];
}

/* Close a record over the log entries since the last one. */
static void rec_close(struct worker *w, uint64_t ticket)
{
	struct srec *r;

	if (w->nlog == w->pending)
		return;
	if (w->nrec == w->caprec) {
		size_t cap = w->caprec ? 2 * w->caprec : 1024;
		struct srec *n = realloc(w->recs, cap * sizeof(*n));

		if (!n) {
			fprintf(stderr, "vmtorture stress: out of memory\n");
			exit(2);
		}
		w->recs = n;
		w->caprec = cap;
	}
	r = &w->recs[w->nrec++];
	r->ticket = ticket;
	r->first = (uint32_t)w->pending;
	r->n = (uint32_t)(w->nlog - w->pending);
	r->thread = (uint16_t)w->idx;
	r->prog_no = w->prog_no;
	w->pending = w->nlog;
}

static uint64_t take_ticket(struct stress *S)
{
	return atomic_fetch_add(&S->ticket, 1);
}

/* ---- normalisation ---------------------------------------------------- */

static bool keep(struct worker *w, int cls)
{
	unsigned max = 0, wt = w->S->o.mix[cls];

	for (int i = 0; i < MIX_RO; i++)
		if (w->S->o.mix[i] > max)
			max = w->S->o.mix[i];
	if (!wt)
		return false;
	return vmts_rand(&w->rng) % max < wt;
}

static uint64_t fit_len(uint64_t a, uint64_t rem)
{
	uint64_t len;

	if (!rem)
		return a;	/* cursor at its end: anything is -EINVAL */
	if (a && !(a % PAGE) && a <= rem)
		return a;
	len = ((a % rem) + PAGE - 1) & ~(PAGE - 1);
	return len ? len : PAGE;
}

/* The --mix class of each op stress runs inside a session or between
 * them (cursor_new and drop open and close sessions); -1: not in stress
 * (spaces, accessors and checks belong to other oracles). */
static const int8_t mix_of[VMT_OP__COUNT] = {
	[VMT_OP_CURSOR_NEW] = -1, [VMT_OP_QUERY] = MIX_QUERY, [VMT_OP_FIND_NEXT] = MIX_FIND,
	[VMT_OP_JUMP] = MIX_JUMP, [VMT_OP_MAP] = MIX_MAP, [VMT_OP_UNMAP] = MIX_UNMAP,
	[VMT_OP_PROTECT_NEXT] = MIX_PROTECT, [VMT_OP_DROP] = -1,
	[VMT_OP_FRAME_ALLOC] = MIX_ALLOC, [VMT_OP_FRAME_GET] = MIX_GET,
	[VMT_OP_FRAME_PUT] = MIX_PUT,
	[VMT_OP_SPACE_NEW ... VMT_OP__COUNT - 1] = -1,
};

/*
 * Shape a decoded op (other than cursor_new and drop) for the session: an
 * op on the cursor needs one open, an op on a frame slot a frame in it;
 * then it is kept by its --mix weight, and its address folded into the
 * session's range. False: leave it out.
 */
static bool shape(struct worker *w, struct vmt_op *op)
{
	struct vms_cursor *c = w->t.cur[0];
	bool on_slot = op->code == VMT_OP_MAP || op->code == VMT_OP_FRAME_GET ||
		       op->code == VMT_OP_FRAME_PUT;
	uint64_t gid;

	if ((vmt_op_on_cursor(op->code) && !c) ||
	    (on_slot && !vmt_thread_frame(&w->t, op->slot, &gid)) || !keep(w, mix_of[op->code]))
		return false;
	if (op->code == VMT_OP_JUMP)
		op->a = w->cs + ((op->a % (w->ce - w->cs)) & ~(PAGE - 1));
	else if (op->code == VMT_OP_FIND_NEXT || op->code == VMT_OP_UNMAP ||
		 op->code == VMT_OP_PROTECT_NEXT)
		op->a = fit_len(op->a, w->ce - vms_cursor_va(c));
	return true;
}

/* ---- frame ops ---------------------------------------------------------- */

static void frame_put_one(struct worker *w, int slot)
{
	struct vmt_op op = { .code = VMT_OP_FRAME_PUT, .slot = (uint8_t)slot };

	run_op(w, &op);
}

static void frame_alloc_op(struct worker *w, struct vmt_op *op)
{
	struct stress *S = w->S;
	struct vmt_outcome *o;
	uint64_t gid;

	while (vmt_thread_frame(&w->t, op->slot, &gid))
		frame_put_one(w, op->slot);
	/* 2 MiB frames cost 512 page faults to stamp and a madvise to free:
	 * keep only some (--mix huge=N out of 8). */
	if (op->arg == 2 && vmts_rand(&w->rng) % 8 >= S->o.mix[MIX_HUGE])
		op->arg = 1;
	o = run_op(w, op);
	if (o && o->ret == -ENOMEM && !o->fault)
		w->nlog--;	/* a fragmented pool: not an observable of the model */
	else if (o && !o->ret)
		vmts_stamp_frame(S, vmt_thread_frame(&w->t, op->slot, &gid));
}

/* ---- one program ---------------------------------------------------------- */

static void set_state(struct worker *w, const char *what)
{
	atomic_store_explicit(&w->S->ts[w->idx].what, what, memory_order_relaxed);
}

static void end_session(struct worker *w)
{
	struct vmt_op d = { .code = VMT_OP_DROP };

	vmts_shadow_leave(w);
	set_state(w, "cursor_drop");
	run_op(w, &d);
	rec_close(w, w->cur_ticket);
	set_state(w, "idle");
	atomic_fetch_add_explicit(&w->S->sessions, 1, memory_order_relaxed);
}

/* Open a session on the hot region for @op (a cursor_new); false if the
 * coordinator asks to stop or pause. */
static bool open_session(struct worker *w, struct vmt_op *op)
{
	struct stress *S = w->S;
	uint64_t hot = S->hot, s, e, len, ticket;
	unsigned ro = S->o.mix[MIX_RO], mu = S->o.mix[MIX_MUT];
	struct vmt_outcome *o;

	if (w->t.cur[0])
		end_session(w);
	if (atomic_load_explicit(&S->pause, memory_order_relaxed) ||
	    atomic_load_explicit(&S->stop, memory_order_relaxed)) {
		rec_close(w, take_ticket(S));
		return false;
	}
	/* The start anywhere in the hot region; the length from the decoded
	 * one, usually at most 4 MiB (so a big hot region means mostly
	 * disjoint sessions), one time in eight up to the whole region
	 * (whole 1 GiB slots get detached only by such sessions). */
	len = op->b > op->a ? op->b - op->a : op->a - op->b;
	len %= vmts_rand(&w->rng) % 8 ? (hot < SPAN ? hot : SPAN) : hot;
	s = (op->a % hot) & ~(PAGE - 1);
	e = (s + len + PAGE - 1) & ~(PAGE - 1);
	if (e <= s)
		e = s + PAGE;
	if (e > hot)
		e = hot;
	op->a = S->hot_base + s;
	op->b = S->hot_base + e;
	if (ro + mu)
		op->arg = vmts_rand(&w->rng) % (ro + mu) >= ro;
	set_state(w, op->arg ? "cursor_mut_new (locking)" : "cursor_new (locking)");
	atomic_store_explicit(&S->ts[w->idx].start, op->a, memory_order_relaxed);
	atomic_store_explicit(&S->ts[w->idx].end, op->b, memory_order_relaxed);
	o = run_op(w, op);
	ticket = take_ticket(S);
	if (!o || o->ret) {
		rec_close(w, ticket);
		set_state(w, "idle");
		return true;
	}
	w->cs = op->a;
	w->ce = op->b;
	/* the record is closed at drop, with this ticket */
	w->cur_ticket = ticket;
	vmts_shadow_enter(w, w->cs, w->ce, op->arg);
	set_state(w, "in session");
	return true;
}

static void run_prog(struct worker *w)
{
	struct stress *S = w->S;

	w->nbytes = 8 + vmts_rand(&w->rng) % S->o.max_prog_bytes;
	for (size_t i = 0; i < w->nbytes; i += 8) {
		uint64_t x = vmts_rand(&w->rng);

		memcpy(w->bytes + i, &x, w->nbytes - i < 8 ? w->nbytes - i : 8);
	}
	vmt_decode(w->bytes, w->nbytes, &w->prog);
	w->prog_no++;

	for (unsigned k = 0; k < w->prog.n; k++) {
		struct vmt_op op = w->prog.ops[k];

		op.space = 0;
		atomic_fetch_add_explicit(&S->ts[w->idx].progress, 1, memory_order_relaxed);
		if (op.code == VMT_OP_CURSOR_NEW) {
			if (!open_session(w, &op))
				return;
		} else if (op.code == VMT_OP_DROP) {
			if (w->t.cur[0])
				end_session(w);
		} else if (mix_of[op.code] < 0) {
			continue;	/* spaces, accessors, checks, fail (--faults): not here */
		} else if (!shape(w, &op)) {
			/* left out */
		} else if (op.code == VMT_OP_FRAME_ALLOC) {
			frame_alloc_op(w, &op);
		} else {
			uint64_t va = op.code == VMT_OP_MAP ? vms_cursor_va(w->t.cur[0]) : 0;
			struct vmt_outcome *o = run_op(w, &op);

			if (op.code == VMT_OP_MAP && o && o->ret >= 0)
				note_mapped(va);
		}
		atomic_fetch_add_explicit(&S->ops, 1, memory_order_relaxed);
	}
	if (w->t.cur[0])
		end_session(w);
}

void *vmts_worker_main(void *arg)
{
	struct worker *w = arg;
	struct stress *S = w->S;

	/* --faults: this thread's allocations fail at random (fault.h). */
	if (S->o.fault_rate)
		vms_fault_random(S->o.fault_rate, S->o.seed ^ (0xd1b54a32d192ed03ULL * (w->idx + 1)));
	set_state(w, "idle");
	for (;;) {
		/* Frame ops since the last session go into a record now, not
		 * only when a pause is seen: the coordinator may raise the pause
		 * between that test and the barrier, and a record left open at
		 * the barrier is missing from the model at the quiescent check
		 * (a frame put there looked "live in the model but not in
		 * libvms"). Any ticket after the ops and before the thread's
		 * next session is a faithful place for them; see the top. */
		if (w->nlog != w->pending)
			rec_close(w, take_ticket(S));
		if (!vmts_checkpoint(S, w->idx))
			break;
		run_prog(w);
	}
	rec_close(w, take_ticket(S));
	set_state(w, "exited");
	return NULL;
}
