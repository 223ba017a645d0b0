/* SPDX-License-Identifier: MIT */
/*
 * mt_min.c - joint minimization of a multi-thread finding: threads, ops
 * (faults among them), preemptions and operands, while the controlled
 * executor gives the same title (mt_min.h).
 *
 * Rounds of four passes until one changes nothing:
 *   1. threads: each alone, its ops and the preemptions naming it go, the
 *      threads above it (and the core's workers, numbered after the
 *      program's) move down one;
 *   2. preemptions: ddmin (chunks of halving size down to single ones)
 *      under replay;
 *   3. ops: ddmin the same way;
 *   4. operands: vmt_op_simpler's candidates, op by op.
 * A thread or a single op (ddmin's last step) whose removal leaves a
 * schedule that no longer shows the title gets a search: seeded PCT
 * (depth 2 and 3) and random schedules, at most search_runs, the first
 * run with the title turned into its preemptions and shrunk. So
 * "1-minimal" means: no single thread, op or preemption can go and no
 * operand gets simpler, each judged by replay and, for threads and ops,
 * by that bounded search too.
 *
 * Candidates run in a child process (a worker judging one after another)
 * unless in_process: a smaller program may crash the core where the
 * finding did not, which must not end the minimization; a crash counts
 * as no finding and the next candidate gets a new worker. The budget
 * counts the workers' CPU time too (cpu_now).
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mt_min.h"

#define SHRINK_RUNS	2000	/* per found schedule */

static struct vms_sched_step *trace;
static size_t trace_cap;

/* The live worker's CPU time (it ends before its time counts as a
 * child's): from its last verdict. */
static double worker_cpu;

/* CPU seconds of this process, its ended children and its live worker. */
static double cpu_now(void)
{
	struct rusage s, c;

	getrusage(RUSAGE_SELF, &s);
	getrusage(RUSAGE_CHILDREN, &c);
	return (double)(s.ru_utime.tv_sec + s.ru_stime.tv_sec + c.ru_utime.tv_sec +
			c.ru_stime.tv_sec) +
	       (double)(s.ru_utime.tv_usec + s.ru_stime.tv_usec + c.ru_utime.tv_usec +
			c.ru_stime.tv_usec) / 1e6 + worker_cpu;
}

static double cpu_self(void)
{
	struct rusage s;

	getrusage(RUSAGE_SELF, &s);
	return (double)(s.ru_utime.tv_sec + s.ru_stime.tv_sec) +
	       (double)(s.ru_utime.tv_usec + s.ru_stime.tv_usec) / 1e6;
}

int vmt_mt_replay_list(const struct vmt_prog *p, const struct vmt_preempt *e, size_t n,
		       struct vms_sched_step *tr, size_t cap, uint64_t max_steps,
		       struct vmt_mt_result *r)
{
	struct vmt_replay rep;
	struct vmt_mt_opts o = { .policy = vmt_replay_choose, .policy_arg = &rep, .trace = tr,
				 .trace_cap = tr ? cap : 0, .max_steps = max_steps };

	if (vmt_replay_init(&rep, e, n))
		return -EINVAL;
	return vmt_exec_mt(p, &o, r);
}

size_t vmt_mt_shrink_sched(const struct vmt_prog *p, struct vmt_preempt *e, size_t n,
			   const char *title, uint64_t max_steps, unsigned *runs,
			   unsigned max_runs)
{
	struct vmt_preempt *c = malloc((n + 1) * sizeof(*c));
	struct vmt_mt_result r;

	if (!c)
		return n;
	for (size_t chunk = n / 2 ? n / 2 : 1; n && *runs < max_runs; ) {
		bool any = false;

		for (size_t at = 0; at < n && *runs < max_runs; ) {
			size_t len = chunk < n - at ? chunk : n - at, m = 0;

			for (size_t i = 0; i < n; i++)
				if (i < at || i >= at + len)
					c[m++] = e[i];
			(*runs)++;
			if (vmt_mt_replay_list(p, c, m, NULL, 0, max_steps, &r) == 1 &&
			    !strcmp(r.title, title)) {
				memcpy(e, c, m * sizeof(*e));
				n = m;
				any = true;
			} else {
				at += len;
			}
		}
		if (chunk == 1 && !any)
			break;
		if (!any || chunk > 1)
			chunk = chunk / 2 ? chunk / 2 : 1;
	}
	free(c);
	return n;
}

/* ---- one candidate ----------------------------------------------------------- */

struct verdict {
	int ok;			/* the title, with the schedule below */
	int searched;		/* a search ran */
	double cpu;		/* the worker's CPU seconds so far */
	unsigned nsched;
	struct vmt_preempt sched[VMT_MAX_PREEMPTS];
};

struct mctx {
	const char *title;
	const struct vmt_min_opts *o;
	struct vmt_min_result *r;
	double cpu0;
	bool spent;
};

static bool same(const struct vmt_mt_result *r, const char *title)
{
	return r->status == 1 && !strcmp(r->title, title);
}

/* Seeded schedules of @q until one gives @title: its preemptions, shrunk. */
static bool search(struct mctx *m, const struct vmt_prog *q, struct verdict *v)
{
	uint64_t k = 50, steps = m->o->max_steps;
	unsigned runs = m->o->search_runs;
	static struct vmt_preempt e[VMT_MAX_PREEMPTS];

	v->searched = 1;
	for (unsigned i = 0; i < runs; i++) {
		struct vmt_mt_opts o = { .trace = trace, .trace_cap = trace_cap, .max_steps = steps };
		struct vmt_mt_result r;
		struct vmt_random rnd;
		struct vmt_pct pct;
		unsigned shrink_runs = 0;
		size_t full, n;

		if (i % 3 == 2) {
			vmt_random_init(&rnd, i + 1);
			o.policy = vmt_random_choose;
			o.policy_arg = &rnd;
		} else {
			vmt_pct_init(&pct, i + 1, 2 + (int)(i % 3), k);
			o.policy = vmt_pct_choose;
			o.policy_arg = &pct;
		}
		vmt_exec_mt(q, &o, &r);
		if (o.policy == vmt_pct_choose && pct.decisions > k)
			k = pct.decisions;
		if (!same(&r, m->title) || r.sched.trace_truncated)
			continue;
		full = vmt_trace_preempts(trace, r.sched.trace_len, NULL, 0);
		if (full > VMT_MAX_PREEMPTS)
			continue;
		vmt_trace_preempts(trace, r.sched.trace_len, e, full);
		n = vmt_mt_shrink_sched(q, e, full, m->title, steps, &shrink_runs, SHRINK_RUNS);
		if (vmt_mt_replay_list(q, e, n, NULL, 0, steps, &r) != 1 || !same(&r, m->title))
			continue;
		v->nsched = (unsigned)n;
		memcpy(v->sched, e, n * sizeof(*e));
		v->ok = 1;
		return true;
	}
	return false;
}

static void judge(struct mctx *m, const struct vmt_prog *q, bool may_search, struct verdict *v)
{
	struct vmt_mt_result r;

	memset(v, 0, sizeof(*v) - sizeof(v->sched));
	if (vmt_mt_replay_list(q, q->sched, q->nsched, NULL, 0, m->o->max_steps, &r) == 1 &&
	    same(&r, m->title)) {
		v->ok = 1;
		v->nsched = q->nsched;
		memcpy(v->sched, q->sched, q->nsched * sizeof(q->sched[0]));
		return;
	}
	if (may_search)
		search(m, q, v);
}

/* ---- the worker: a child process judging candidates one after another ---- */

static struct {
	pid_t pid;
	int to, from;		/* pipes: candidates in, verdicts out */
} W = { .pid = -1 };

struct request {
	int may_search;
	struct vmt_prog q;
};

static bool xfer(int fd, void *buf, size_t n, bool wr)
{
	char *s = buf;

	while (n) {
		ssize_t k = wr ? write(fd, s, n) : read(fd, s, n);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return false;
		s += k;
		n -= (size_t)k;
	}
	return true;
}


static void worker_stop(void)
{
	int status;

	if (W.pid < 0)
		return;
	close(W.to);
	close(W.from);
	while (waitpid(W.pid, &status, 0) < 0 && errno == EINTR)
		;
	W.pid = -1;
	worker_cpu = 0;		/* a child's now */
}

static void worker_loop(struct mctx *m, int in, int out)
{
	static struct request rq;
	static struct verdict v;

	while (xfer(in, &rq, sizeof(rq), false)) {
		judge(m, &rq.q, rq.may_search, &v);
		v.cpu = cpu_self();
		if (!xfer(out, &v, sizeof(v) - sizeof(v.sched), true) ||
		    !xfer(out, v.sched, v.nsched * sizeof(v.sched[0]), true))
			_exit(1);
	}
	_exit(0);
}

static bool worker_start(struct mctx *m)
{
	int a[2], b[2];

	/* A worker that died must not take the parent with it. */
	signal(SIGPIPE, SIG_IGN);
	if (pipe(a))
		return false;
	if (pipe(b)) {
		close(a[0]);
		close(a[1]);
		return false;
	}
	W.pid = fork();
	if (W.pid < 0) {
		close(a[0]); close(a[1]); close(b[0]); close(b[1]);
		return false;
	}
	if (!W.pid) {
		close(a[1]);
		close(b[0]);
		worker_loop(m, a[0], b[1]);
	}
	close(a[0]);
	close(b[1]);
	W.to = a[1];
	W.from = b[0];
	return true;
}

/* Judge @q in the worker; a crash (or a worker that cannot start) is no
 * finding, and the next candidate gets a new worker. */
static void judge_apart(struct mctx *m, const struct vmt_prog *q, bool may_search,
			struct verdict *v)
{
	static struct request rq;

	rq.may_search = may_search;
	rq.q = *q;
	v->ok = 0;
	if (W.pid < 0 && !worker_start(m))
		return;
	if (!xfer(W.to, &rq, sizeof(rq), true) ||
	    !xfer(W.from, v, sizeof(*v) - sizeof(v->sched), false) ||
	    v->nsched > VMT_MAX_PREEMPTS ||
	    !xfer(W.from, v->sched, v->nsched * sizeof(v->sched[0]), false)) {
		v->ok = 0;
		v->nsched = 0;
		worker_stop();
		return;
	}
	worker_cpu = v->cpu;
}

/* Does @q still give the title? If a search found it a new schedule, @q
 * takes it. */
static bool still(struct mctx *m, struct vmt_prog *q, bool may_search)
{
	static struct verdict v;

	if (m->spent || cpu_now() - m->cpu0 > m->o->max_cpu) {
		m->spent = true;
		return false;
	}
	if (!vmt_prog_valid(q, NULL))
		return false;
	m->r->trials++;
	memset(&v, 0, sizeof(v) - sizeof(v.sched));
	if (m->o->in_process)
		judge(m, q, may_search, &v);
	else
		judge_apart(m, q, may_search, &v);
	m->r->searched += v.searched;
	if (!v.ok)
		return false;
	if (v.nsched != q->nsched || memcmp(v.sched, q->sched, v.nsched * sizeof(v.sched[0]))) {
		m->r->rescheduled++;
		q->nsched = v.nsched;
		memcpy(q->sched, v.sched, v.nsched * sizeof(v.sched[0]));
		q->sched_version = 0;
		vmt_prog_normalize(q);
	}
	return true;
}

/* ---- the passes ---------------------------------------------------------------- */

static struct vmt_prog cand;

static void note(struct mctx *m, const char *what, const struct vmt_prog *p)
{
	if (m->o->log)
		fprintf(m->o->log, "minimize: %s: %u thread(s), %u op(s), %u preemption(s)\n", what,
			vmt_prog_threads(p), p->n, p->nsched);
}

/* @p without thread @t: the threads above it (and the workers) move down. */
static void drop_thread(const struct vmt_prog *p, unsigned t, struct vmt_prog *q)
{
	unsigned nt = vmt_prog_threads(p);

	*q = *p;
	q->n = 0;
	for (unsigned i = 0; i < p->n; i++) {
		struct vmt_op op = p->ops[i];

		if (op.thread == t)
			continue;
		op.thread -= op.thread > t;
		q->ops[q->n++] = op;
	}
	q->nthreads = (uint8_t)(nt - 1);
	q->nsched = 0;
	for (unsigned i = 0; i < p->nsched; i++) {
		struct vmt_preempt e = p->sched[i];

		if (e.thread == t || e.next == t)
			continue;
		e.thread -= e.thread > t;
		e.next -= e.next > t;
		q->sched[q->nsched++] = e;
	}
	vmt_prog_normalize(q);
}

static bool pass_threads(struct mctx *m, struct vmt_prog *p)
{
	bool changed = false;

	for (unsigned t = vmt_prog_threads(p); t-- > 0 && vmt_prog_threads(p) > 1; ) {
		drop_thread(p, t, &cand);
		if (still(m, &cand, true)) {
			*p = cand;
			changed = true;
			note(m, "a thread less", p);
		}
	}
	return changed;
}

/* The default retire batch (1) instead of the program's, if the title
 * stays (with a search: the decisions move) with no more preemptions:
 * a race at a thread's end with a large batch may need fewer than at
 * the drops with batch 1 (defer_push_racy: one against two). */
static bool pass_batch(struct mctx *m, struct vmt_prog *p)
{
	if (!p->retire_batch)
		return false;
	cand = *p;
	cand.retire_batch = 0;
	if (!still(m, &cand, true) || cand.nsched > p->nsched)
		return false;
	*p = cand;
	note(m, "the default retire batch", p);
	return true;
}

/* ddmin over the ops (@sched false) or the preemptions (@sched true). */
static bool pass_ddmin(struct mctx *m, struct vmt_prog *p, bool sched)
{
	bool changed = false;
	unsigned n = sched ? p->nsched : p->n;
	unsigned chunk = n / 2 ? n / 2 : 1;

	while (n && !m->spent) {
		bool dropped = false;

		for (unsigned at = 0; at < n; ) {
			unsigned k = chunk < n - at ? chunk : n - at, c = 0;

			if (!sched && k == n) {	/* no ops: no finding */
				at += k;
				continue;
			}
			cand = *p;
			for (unsigned i = 0; i < n; i++) {
				if (i >= at && i < at + k)
					continue;
				if (sched)
					cand.sched[c++] = p->sched[i];
				else
					cand.ops[c++] = p->ops[i];
			}
			if (sched) {
				cand.nsched = c;
				cand.sched_version = c ? VMT_SCHED_VERSION : 0;
			} else {
				cand.n = c;
			}
			/* A search per candidate costs hundreds of runs: only
			 * for single ops, where ddmin ends. */
			if (still(m, &cand, !sched && chunk == 1)) {
				*p = cand;
				n = sched ? p->nsched : p->n;
				changed = dropped = true;
				note(m, sched ? "preemptions" : "ops", p);
			} else {
				at += k;
			}
			if (m->spent)
				break;
		}
		if (chunk == 1 && !dropped)
			break;
		if (!dropped || chunk > n)
			chunk = chunk / 2 ? chunk / 2 : 1;
	}
	return changed;
}

static bool pass_operands(struct mctx *m, struct vmt_prog *p)
{
	static struct vmt_op simpler[VMT_MAX_SIMPLER];
	bool changed = false;

	for (unsigned i = 0; i < p->n && !m->spent; i++) {
		unsigned nc = vmt_op_simpler(&p->ops[i], simpler, VMT_MAX_SIMPLER);

		for (unsigned k = 0; k < nc && !m->spent; k++) {
			cand = *p;
			cand.ops[i] = simpler[k];
			/* Replay only: an op has dozens of simpler versions. */
			if (still(m, &cand, false)) {
				*p = cand;
				changed = true;
				nc = vmt_op_simpler(&p->ops[i], simpler, VMT_MAX_SIMPLER);
				k = (unsigned)-1;
			}
		}
	}
	if (changed)
		note(m, "operands", p);
	return changed;
}

int vmt_mt_minimize(struct vmt_prog *p, const char *title, const struct vmt_min_opts *o0,
		    struct vmt_min_result *r)
{
	struct vmt_min_opts o = *o0;
	struct mctx m = { .title = title, .o = &o, .r = r };
	size_t cap = o.max_steps ? o.max_steps : VMT_MT_STEPS_DEFAULT;

	memset(r, 0, sizeof(*r));
	if (!o.max_cpu)
		o.max_cpu = 60;
	if (!o.search_runs)
		o.search_runs = 300;
	if (!o.max_steps)
		o.max_steps = VMT_MT_STEPS_DEFAULT;
	if (trace_cap < cap) {
		free(trace);
		trace = malloc(cap * sizeof(*trace));
		trace_cap = trace ? cap : 0;
		if (!trace)
			return -ENOMEM;
	}
	m.cpu0 = cpu_now();
	cand = *p;
	if (!still(&m, &cand, false)) {
		worker_stop();
		r->cpu = cpu_now() - m.cpu0;
		return -EINVAL;
	}
	note(&m, "start", p);
	for (;;) {
		bool changed;

		r->rounds++;
		changed = pass_batch(&m, p);
		changed |= pass_threads(&m, p);
		changed |= pass_ddmin(&m, p, true);
		changed |= pass_ddmin(&m, p, false);
		changed |= pass_operands(&m, p);
		if (m.spent || !changed) {
			r->minimal = !m.spent;
			break;
		}
	}
	worker_stop();
	r->cpu = cpu_now() - m.cpu0;
	return 0;
}
