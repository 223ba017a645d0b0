/* SPDX-License-Identifier: MIT */
/*
 * mt_table.c - a multi-thread finding for people: one column per program
 * thread, one row per op in the order the ops started, the decisions
 * between which each ran, the schedule's preemptions where they took
 * effect, and the op where the oracle fired with what it saw against what
 * the model expected (mt_min.h). Markdown, for reading only: verdicts
 * stay in vmt_mt_result and in the minimizer's key=value file.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "mt_min.h"
#include "../op/step.h"

#define MAX_STEPS	4096

static const char *kind_name(enum vmt_mt_kind k)
{
	switch (k) {
	case VMT_MT_INVARIANT: return "the core's run-time checks (poison build)";
	case VMT_MT_MUTEX: return "mutual exclusion of open cursors";
	case VMT_MT_DEADLOCK: return "the scheduler: a wait-for cycle";
	case VMT_MT_BUDGET: return "the scheduler: step budget";
	case VMT_MT_DIVERGE: return "the model (ops in ticket order, copies, end state)";
	default: return "none";
	}
}

/* @s with '|' escaped, for a table cell. */
static void cell(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '|')
			fputc('\\', f);
		fputc(*s, f);
	}
}

struct row {
	uint64_t key;		/* decision it starts after */
	size_t seq;		/* start order among equal keys */
	int step;		/* index in steps, or -1: a preemption */
	const struct vmt_preempt *e;
};

static int row_cmp(const void *a, const void *b)
{
	const struct row *x = a, *y = b;

	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	/* A preemption at decision D comes before what starts after it. */
	if ((x->step < 0) != (y->step < 0))
		return x->step < 0 ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* The global decision index of each preemption in @tr (UINT64_MAX: not
 * taken, e.g. the thread ended before it). */
static uint64_t where(const struct vms_sched_step *tr, size_t n, const struct vmt_preempt *e)
{
	for (size_t i = 0; i < n; i++)
		if (tr[i].thread == e->thread && tr[i].nth == e->nth)
			return i;
	return UINT64_MAX;
}

/* Run @p under its own schedule, recording the trace @tr and the ops'
 * steps. Returns vmt_exec_mt's result, or -EINVAL for a bad schedule. */
static int run_recorded(const struct vmt_prog *p, struct vms_sched_step *tr,
			struct vmt_mt_step *steps, struct vmt_mt_result *r)
{
	struct vmt_replay rep;
	struct vmt_mt_opts o = { .policy = vmt_replay_choose,
				 .policy_arg = &rep,
				 .trace = tr,
				 .trace_cap = VMT_MT_STEPS_DEFAULT,
				 .steps = steps,
				 .steps_cap = MAX_STEPS };

	if (vmt_replay_init(&rep, p->sched, p->nsched))
		return -EINVAL;
	return vmt_exec_mt(p, &o, r);
}

/* The table's rows: @n ops and the preemptions taken, in decision order.
 * Returns their number. */
static size_t sort_rows(struct row *rows, const struct vmt_mt_step *steps,
			size_t n, const struct vmt_prog *p,
			const struct vms_sched_step *tr, size_t trace_len)
{
	size_t nrows = 0;

	for (size_t i = 0; i < n; i++)
		rows[nrows++] = (struct row){ steps[i].d0, i, (int)i, NULL };
	for (unsigned i = 0; i < p->nsched; i++) {
		uint64_t d = where(tr, trace_len, &p->sched[i]);

		if (d != UINT64_MAX)
			rows[nrows++] = (struct row){ d + 1, 0, -1, &p->sched[i] };
	}
	qsort(rows, nrows, sizeof(*rows), row_cmp);
	return nrows;
}

/* The columns: the program's @nt threads, and each core worker a
 * preemption names (no ops of its own). */
static unsigned columns(const struct vmt_prog *p, unsigned nt)
{
	unsigned nc = nt;

	for (unsigned i = 0; i < p->nsched; i++) {
		if (p->sched[i].next + 1u > nc)
			nc = p->sched[i].next + 1u;
		if (p->sched[i].thread + 1u > nc)
			nc = p->sched[i].thread + 1u;
	}
	return nc;
}

/* The heading, the paragraph on how to read the table, its header row. */
static void print_intro(FILE *f, const struct vmt_prog *p,
			const struct vmt_mt_result *r, unsigned nt, unsigned nc)
{
	fprintf(f, "## The interleaving, one column per thread\n\n");
	if (r->status != 1)
		fprintf(f, "No finding under this schedule.\n\n");
	fprintf(f,
		"%u program thread(s), %u op(s), %u preemption(s); %" PRIu64
		" decisions; %d "
		"threads run, with the core's workers. Rows are ops in the order they started; "
		"*decisions* are the scheduling decisions taken before the op started and before it ended "
		"(an op runs alone between two). _(own)_ ops are the thread's own start and end "
		"(activate space 0; drop, release, put, deactivate).\n\n",
		nt, p->n, p->nsched, r->sched.steps, r->sched.nr_threads);
	if (p->retire_batch > VMT_MAX_RETIRE_BATCH)
		fprintf(f,
			"Retire batch %u: out of range; the core refuses it (-EINVAL) and the run "
			"has the default, 1: every drop that retired something hands over.\n\n",
			p->retire_batch);
	else if (p->retire_batch)
		fprintf(f,
			"Retire batch %u: a thread hands its deferred releases to the reclaimer "
			"once they weigh that many pages, at a quiesce, or at its end.\n\n",
			p->retire_batch);
	fprintf(f, "| decisions |");
	for (unsigned t = 0; t < nc; t++)
		fprintf(f, " thread %u%s |", t, t < nt ? "" : " (core worker)");
	fprintf(f, "\n|---|");
	for (unsigned t = 0; t < nc; t++)
		fprintf(f, "---|");
	fprintf(f, "\n");
}

/* A preemption's row: the thread it stops and the one it runs. */
static void print_preempt(FILE *f, const struct row *w, unsigned nc)
{
	fprintf(f, "| **%" PRIu64 "** |", w->key);
	for (unsigned t = 0; t < nc; t++) {
		if (t == w->e->next)
			fprintf(f,
				" **▶ preemption**: thread %u's decision %u runs "
				"thread %u |",
				w->e->thread, w->e->nth, w->e->next);
		else if (t == w->e->thread)
			fprintf(f, " ⏸ |");
		else
			fprintf(f, " |");
	}
	fprintf(f, "\n");
}

/* An op's row: its decisions, the op and its result in its thread's
 * column, in bold with a mark where the oracle fired (@here). */
static void print_step(FILE *f, const struct vmt_mt_step *s, bool here,
		       unsigned nc)
{
	char buf[200], e[32];

	if (s->d1 != s->d0)
		fprintf(f, "| %" PRIu64 "–%" PRIu64 " |", s->d0, s->d1);
	else
		fprintf(f, "| %" PRIu64 " |", s->d0);
	for (unsigned t = 0; t < nc; t++) {
		if (t != s->thread) {
			fprintf(f, " |");
			continue;
		}
		vmt_format_op(&s->op, buf, sizeof(buf));
		fprintf(f, " %s%s`%s`", here ? "**" : "",
			s->index < 0 ? "_(own)_ " : "", buf);
		if (s->skipped)
			fprintf(f, " skipped");
		else if (s->unfinished)
			fprintf(f, " … (the run stopped here)");
		else
			fprintf(f, " → %s", vmt_errname(s->ret, e, sizeof(e)));
		if (here)
			fprintf(f, " ⚠ the oracle fired here**");
		fprintf(f, " |");
	}
	fprintf(f, "\n");
}

/* Below the table: what the oracle saw, how to reproduce, the program. */
static void print_outro(FILE *f, const struct vmt_prog *p, const char *replay,
			const struct vmt_mt_result *r)
{
	if (r->status == 1) {
		fprintf(f, "* **Oracle**: %s\n* **Title**: ", kind_name(r->kind));
		cell(f, r->title);
		fprintf(f, "\n* **What it saw** (core = libvms, model = what the reference model "
			"expected): ");
		cell(f, r->detail);
		fprintf(f, "\n");
	}
	if (replay)
		fprintf(f, "* **Reproduce** (the same decisions every run): `%s`\n", replay);
	fprintf(f, "\n```\n");
	vmt_print_prog(f, p, -1, NULL, NULL);
	fprintf(f, "```\n");
}

int vmt_mt_table(FILE *f, const struct vmt_prog *p, const char *replay,
		 struct vmt_mt_result *r)
{
	static struct vmt_mt_step steps[MAX_STEPS];
	struct vms_sched_step *tr = malloc(VMT_MT_STEPS_DEFAULT * sizeof(*tr));
	struct row *rows;
	unsigned nt = vmt_prog_threads(p), nc, marked = 0;
	size_t n, nrows;
	int rc;

	rows = malloc((MAX_STEPS + VMT_MAX_PREEMPTS) * sizeof(*rows));
	if (!tr || !rows) {
		free(tr);
		free(rows);
		return -ENOMEM;
	}
	rc = run_recorded(p, tr, steps, r);
	if (rc < 0)
		goto out;
	n = r->nsteps < MAX_STEPS ? r->nsteps : MAX_STEPS;
	nrows = sort_rows(rows, steps, n, p, tr, r->sched.trace_len);
	nc = columns(p, nt);

	print_intro(f, p, r, nt, nc);
	for (size_t i = 0; i < nrows; i++) {
		const struct row *w = &rows[i];
		bool here =
			w->step >= 0 && r->status == 1 && w->step == r->step;

		if (w->step < 0) {
			print_preempt(f, w, nc);
			continue;
		}
		marked += here;
		print_step(f, &steps[w->step], here, nc);
	}
	if (r->status == 1 && !marked) {
		fprintf(f, "| end |");
		for (unsigned t = 0; t < nc; t++)
			fprintf(f, "%s",
				t ? " |" :
				    " **⚠ the oracle fired after the ops above: in a "
				    "core worker or the end-of-run check** |");
		fprintf(f, "\n");
	}
	if (n < r->nsteps)
		fprintf(f, "\n(%zu more ops not shown)\n", r->nsteps - n);
	fprintf(f, "\n");
	print_outro(f, p, replay, r);
out:
	free(tr);
	free(rows);
	return rc;
}
