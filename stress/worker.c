/* SPDX-License-Identifier: MIT */
/*
 * worker.c - stress workers: decode random bytes into an op-language
 * program, shape its cursor sessions and frame ops for the shared space
 * (addresses folded into the hot region, ops kept by the --mix weights),
 * run each through its core step and log the outcome; and the coordinator
 * side: the model steps in ticket order, the quiescent tree, reset.
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
#include <fcntl.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "stress.h"
#include "fault.h"

#define PAGE	((uint64_t)VMS_PAGE_SIZE)
#define SPAN	(4ULL << 20)	/* usual upper bound of a session's range */

struct worker {
	struct stress *S;
	unsigned idx;
	uint64_t rng;
	struct vmt_thread t;	/* its cursor and frame slots */
	uint64_t cs, ce;	/* the open session's range */
	/* op log and records of the current round */
	struct vmt_outcome *log;
	size_t nlog, caplog;
	struct srec *recs;
	size_t nrec, caprec;
	size_t pending;		/* first log entry not yet in a record */
	/* the program being run, for saving */
	uint8_t bytes[4096];
	size_t nbytes;
	struct vmt_prog prog;
	uint64_t prog_no;
	uint64_t cur_ticket;	/* ticket of the open session */
};

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

/* ---- mutual exclusion shadow ------------------------------------------ */

/* One word per thread so a reader never sees half an update: start page
 * number in the high bits, length in pages in the low 29. */
static uint64_t pack_range(uint64_t start, uint64_t end)
{
	uint64_t pages = (end - start) / PAGE;

	if (pages >= (1ULL << 29))
		pages = (1ULL << 29) - 1;
	return (start / PAGE) << 29 | pages;
}

static void unpack_range(uint64_t v, uint64_t *s, uint64_t *e)
{
	*s = (v >> 29) * PAGE;
	*e = *s + (v & ((1ULL << 29) - 1)) * PAGE;
}

/* Published after the cursor is open and withdrawn before it is dropped,
 * so a published range is always one the core claims to hold. Seq-cst
 * store then loads: of two overlapping holders at least one sees the
 * other. */
static void shadow_enter(struct worker *w, uint64_t start, uint64_t end, bool mut)
{
	struct stress *S = w->S;

	atomic_store(&S->shadow_start[w->idx], pack_range(start, end));
	if (!(S->o.oracles & (1u << ORA_MUTEX)))
		return;
	for (unsigned j = 0; j < S->nworkers; j++) {
		uint64_t v, s, e;

		if (j == w->idx)
			continue;
		v = atomic_load(&S->shadow_start[j]);
		if (!v)
			continue;
		unpack_range(v, &s, &e);
		if (s < end && start < e)
			vmts_violation(S, ORA_MUTEX,
				      "%s: thread %u holds [%#lx,%#lx) (%s) while "
				      "thread %u holds [%#lx,%#lx)", vms_check_name(VMS_CHECK_OVERLAP),
				      w->idx, start, end, mut ? "mut" : "ro", j, s, e);
	}
}

static void shadow_leave(struct worker *w)
{
	atomic_store(&w->S->shadow_start[w->idx], 0);
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

	shadow_leave(w);
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
	shadow_enter(w, w->cs, w->ce, op->arg);
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

/* ---- saving ---------------------------------------------------------------- */

/* Open a new file in the output directory; never overwrites. */
static FILE *open_new(struct stress *S, const char *kind, char *path, size_t n)
{
	char cmd[600];

	snprintf(cmd, sizeof(cmd), "%s", S->o.outdir);
	for (char *p = cmd + 1; *p; p++)
		if (*p == '/') {
			*p = 0;
			mkdir(cmd, 0777);
			*p = '/';
		}
	mkdir(cmd, 0777);
	for (int k = 0; k < 100000; k++) {
		int fd;

		snprintf(path, n, "%s/%s-%#lx-%d.vmt", S->o.outdir, kind, S->o.seed, k);
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0666);
		if (fd >= 0)
			return fdopen(fd, "w");
		if (errno != EEXIST)
			break;
	}
	fprintf(stderr, "vmtorture stress: cannot create a file in %s: %s\n",
		S->o.outdir, strerror(errno));
	return NULL;
}

static void save_header(struct stress *S, FILE *f, const char *why)
{
	fprintf(f, "# vmtorture stress failure: %s\n", why);
	fprintf(f, "# reproduce the run (timing decides whether it fails again): "
		"vmtorture stress --seed %#lx --threads %u --accessors %u --hot %#lx "
		"--seconds %g --round-ms %g --noise %u --prog-bytes %u --faults %g --spaces %u --mix ",
		S->o.seed, S->o.threads, S->o.accessors, S->hot, S->o.seconds, S->o.round_ms,
		S->o.noise, S->o.max_prog_bytes, S->o.faults, S->o.spaces_us);
	for (int i = 0; i < MIX__COUNT; i++)
		fprintf(f, "%s%s=%u", i ? "," : "", vmts_mix_name(i), S->o.mix[i]);
	fprintf(f, "\n");
	fprintf(f, "# addresses are in the hot region [%#lx,%#lx); frame slots are the "
		"thread's own, so a frame allocated before this excerpt shows as an empty "
		"slot when replayed alone (vmtorture run FILE)\n", S->hot_base, S->hot_end);
}

/* Write the session record @r of worker @w as a program, op @mark marked. */
static void save_session(struct stress *S, struct worker *w, const struct srec *r,
			 int mark, const char *note, const char *why)
{
	struct vmt_prog *p = malloc(sizeof(*p));
	char path[700];
	FILE *f;

	if (!p)
		return;
	p->n = 0;
	for (uint32_t k = 0; k < r->n && p->n < VMT_MAX_OPS; k++) {
		const struct vmt_outcome *e = &w->log[r->first + k];

		/* A fault --faults injected replays as a fail op before it. */
		if (e->fault && e->fault_nth && e->fault_nth <= VMT_MAX_NTH && p->n + 1 < VMT_MAX_OPS) {
			p->ops[p->n++] = (struct vmt_op){ .code = VMT_OP_FAIL, .a = e->fault_nth };
			if ((int)k <= mark)
				mark++;
		}
		p->ops[p->n++] = e->op;
	}
	f = open_new(S, "session", path, sizeof(path));
	if (f) {
		save_header(S, f, why);
		fprintf(f, "# thread %u, ticket %lu, program #%lu of that thread\n",
			w->idx, r->ticket, r->prog_no);
		vmt_print_prog(f, p, mark, note, NULL);
		fclose(f);
		fprintf(stderr, "vmtorture stress: saved %s\n", path);
	}
	free(p);
}

void vmts_save_worker(struct stress *S, unsigned idx, const char *why)
{
	struct worker *w = S->w[idx];
	char path[700];
	FILE *f;

	if (!w || !w->prog.n)
		return;
	if (w->nlog > w->pending) {
		/* the session (and frame ops) in progress, as executed */
		struct srec r = { .ticket = w->cur_ticket, .first = (uint32_t)w->pending,
				  .n = (uint32_t)(w->nlog - w->pending), .thread = (uint16_t)idx,
				  .prog_no = w->prog_no };

		save_session(S, w, &r, (int)r.n - 1, "last op before the violation", why);
	}
	f = open_new(S, "program", path, sizeof(path));
	if (!f)
		return;
	save_header(S, f, why);
	fprintf(f, "# thread %u, program #%lu as decoded from %zu random bytes "
		"(before folding into the hot region)\n", idx, w->prog_no, w->nbytes);
	vmt_print_prog(f, &w->prog, -1, NULL, NULL);
	fclose(f);
	fprintf(stderr, "vmtorture stress: saved %s\n", path);
}

/* ---- coordinator: the model ------------------------------------------------ */

static uint64_t model_gid(struct stress *S, int id)
{
	return vmt_model_side_gid(&S->ms, id);
}

static uint64_t frame_gid(struct stress *S, const struct vms_frame *f)
{
	return vmt_frame_gid(&S->sh, f);
}

static int cmp_rec(const void *a, const void *b)
{
	const struct srec *x = *(const struct srec * const *)a, *y = *(const struct srec * const *)b;

	return x->ticket < y->ticket ? -1 : x->ticket > y->ticket;
}

int vmts_replay_round(struct stress *S)
{
	size_t total = 0, k = 0;
	struct srec **all;
	int bad = 0;

	for (unsigned i = 0; i < S->nworkers; i++)
		total += S->w[i]->nrec;
	all = malloc((total + 1) * sizeof(*all));
	if (!all)
		return -ENOMEM;
	for (unsigned i = 0; i < S->nworkers; i++)
		for (size_t j = 0; j < S->w[i]->nrec; j++)
			all[k++] = &S->w[i]->recs[j];
	qsort(all, total, sizeof(*all), cmp_rec);
	for (k = 0; k < total && !bad; k++) {
		struct srec *r = all[k];
		struct worker *w = S->w[r->thread];
		char why[400];

		for (uint32_t j = 0; j < r->n; j++) {
			const struct vmt_outcome *e = &w->log[r->first + j];

			if (vmt_step_model(&S->ms, e, why, sizeof(why)))
				continue;
			if (S->o.oracles & (1u << ORA_SERIAL)) {
				char msg[600];

				snprintf(msg, sizeof(msg), "round %lu, ticket %lu, thread %u, "
					 "session op %u: %s: %s", S->round, r->ticket, r->thread, j,
					 vmt_op_name(e->op.code), why);
				vmts_violation(S, ORA_SERIAL, "%s", msg);
				save_session(S, w, r, (int)j, "diverges here", msg);
			}
			bad = 1;
			break;
		}
		atomic_fetch_add_explicit(&S->ts[MAX_THREADS].progress, 1, memory_order_relaxed);
	}
	atomic_fetch_add(&S->checks, total);
	free(all);
	for (unsigned i = 0; i < S->nworkers; i++)
		S->w[i]->nlog = S->w[i]->nrec = S->w[i]->pending = 0;
	return bad;
}

/* ---- coordinator: quiescent state ------------------------------------------- */

int vmts_quiescent_check(struct stress *S, bool model_ok)
{
	struct vms_check_report rep;
	struct vms_pool_stats st;
	struct vms_cursor *c;
	struct vmt_model *m = S->ms.m;
	size_t nl = vmt_model_nr_leaves(m, 0), li = 0;
	uint64_t va = S->hot_base;
	char why[256];
	int ret, bad = 0;

	if (!(S->o.oracles & (1u << ORA_QUIESCE)))
		return 0;
	atomic_fetch_add(&S->checks, 1);
	ret = vms_space_check(S->space, &rep);
	if (ret) {
		vms_check_report_line(&rep, why, sizeof(why));
		vmts_violation(S, ORA_QUIESCE, "round %lu: vms_space_check = %d: %s", S->round,
			      ret, why);
		return 1;
	}
	if (!model_ok)
		return 0;	/* the replay diverged: the model is no witness now */
	if (vmt_model_selfcheck(m, true, why, sizeof(why))) {
		vmts_violation(S, ORA_QUIESCE, "round %lu: model self-check: %s", S->round, why);
		return 1;
	}
	/* Sweep the hot region through a read-only cursor, leaf by leaf. */
	ret = vms_cursor_new(S->space, S->hot_base, S->hot_end, &c);
	if (ret) {
		vmts_violation(S, ORA_QUIESCE, "round %lu: sweep cursor: %d", S->round, ret);
		return 1;
	}
	while (va < S->hot_end && !bad) {
		vms_vaddr_t found;
		struct vms_mapping mp;
		const struct vmt_mleaf *l;

		ret = vms_cursor_find_next(c, S->hot_end - va, &found);
		if (ret != 1)
			break;
		vms_cursor_query(c, &mp);
		l = li < nl ? vmt_model_leaf(m, 0, li) : NULL;
		li++;
		if (!l || !mp.frame || l->va != mp.start || l->level != mp.level ||
		    model_gid(S, l->frame) != frame_gid(S, mp.frame) ||
		    l->off != mp.paddr - vms_frame_paddr(mp.frame) ||
		    !vms_prop_equal(l->prop, mp.prop)) {
			if (l)
				vmts_violation(S, ORA_QUIESCE, "round %lu: tree has leaf [%#lx,+L%d) "
					      "g%lu+%#lx prop %x/%x/%x, model has [%#lx,+L%d) "
					      "g%lu+%#lx prop %x/%x/%x (differs:%s%s%s)", S->round,
					      mp.start, mp.level, mp.frame ? frame_gid(S, mp.frame) : 0,
					      mp.frame ? mp.paddr - vms_frame_paddr(mp.frame) : 0,
					      mp.prop.flags, mp.prop.cache, mp.prop.priv,
					      l->va, l->level, model_gid(S, l->frame), l->off,
					      l->prop.flags, l->prop.cache, l->prop.priv,
					      l->va != mp.start || l->level != mp.level ? " range" : "",
					      !mp.frame || model_gid(S, l->frame) != frame_gid(S, mp.frame) ||
					      l->off != mp.paddr - vms_frame_paddr(mp.frame) ? " frame" : "",
					      vms_prop_equal(l->prop, mp.prop) ? "" : " prop");
			else
				vmts_violation(S, ORA_QUIESCE, "round %lu: tree has leaf [%#lx,+L%d) "
					      "the model does not", S->round, mp.start, mp.level);
			bad = 1;
			break;
		}
		va = mp.end;
		if (va < S->hot_end)
			vms_cursor_jump(c, va);
	}
	vms_cursor_drop(c);
	if (!bad && li < nl) {
		const struct vmt_mleaf *l = vmt_model_leaf(m, 0, li);

		vmts_violation(S, ORA_QUIESCE, "round %lu: model has leaf [%#lx,+L%d) g%lu, the "
			      "tree does not", S->round, l->va, l->level, model_gid(S, l->frame));
		bad = 1;
	}
	/* Every live model frame: same refcount and handles in libvms. */
	for (int id = 0; id < vmt_model_nr_frames(m) && !bad; id++) {
		uint64_t gid, pa;
		struct vms_frame *f;

		if (!vmt_model_frame_live(m, id))
			continue;
		gid = model_gid(S, id);
		pa = vmt_model_side_paddr(&S->ms, gid);
		f = vms_frame_from_paddr(S->pool, pa);
		if (!f || frame_gid(S, f) != gid) {
			vmts_violation(S, ORA_QUIESCE, "round %lu: %s: g%lu (pa %#lx)", S->round,
				      vms_check_name(VMS_CHECK_FRAME_LOST), gid, pa);
			bad = 1;
		} else if (vms_frame_refcount(f) != vmt_model_frame_refcount(m, id) ||
			   vms_frame_handles(f) != vmt_model_frame_handles(m, id)) {
			vmts_violation(S, ORA_QUIESCE, "round %lu: %s: g%lu: libvms refcount %lu "
				      "handles %lu, model %lu/%lu", S->round,
				      vms_check_name(VMS_CHECK_FRAME_COUNTS), gid,
				      vms_frame_refcount(f), vms_frame_handles(f),
				      vmt_model_frame_refcount(m, id), vmt_model_frame_handles(m, id));
			bad = 1;
		}
	}
	vms_pool_stats(S->pool, &st);
	if (!bad && st.data_frames != vmt_model_data_frames(m) + S->stable_pages) {
		vmts_violation(S, ORA_QUIESCE, "round %lu: %s: %lu in the pool, model "
			      "%lu + %lu stable", S->round, vms_check_name(VMS_CHECK_POOL_DATA),
			      st.data_frames,
			      vmt_model_data_frames(m), S->stable_pages);
		bad = 1;
	}
	return bad;
}

int vmts_reset(struct stress *S)
{
	struct vms_cursor *c;
	int ret;

	for (unsigned i = 0; i < S->nworkers; i++) {
		struct worker *w = S->w[i];

		vmt_thread_put_frames(&w->t);
		w->nlog = w->nrec = w->pending = 0;
	}
	ret = vms_cursor_mut_new(S->space, S->hot_base, S->hot_end, &c);
	if (ret)
		return ret;
	vms_cursor_unmap(c, S->hot_end - S->hot_base);
	vms_cursor_drop(c);
	vms_pool_quiesce(S->pool);
	if (vmt_model_side_reset(&S->ms, atomic_load(&S->sh.next_gid)) ||
	    vmt_model_space_new(S->ms.m, 0, vms_space_flags(S->space)))
		return -ENOMEM;
	S->resets++;
	return 0;
}
