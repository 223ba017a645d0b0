/* SPDX-License-Identifier: MIT */
/*
 * fuzz/target_mt.c - the multi-thread fuzz target: one input is one
 * multi-thread op program (threads and a schedule, docs/sched.md), run
 * by the controlled executor (tools/sched/exec_mt.c) on the controlled
 * build of the core, where the same bytes take the same decisions every
 * time: a finding is exact, and `vmtorture replay FILE` shows it again.
 *
 * The sequential target (fuzz/target.c) stays on its own core: the
 * controlled core (-DVMS_SCHED -DVMS_POISON) cannot share a binary with
 * the plain one, and sequential programs run slower on it (fuzz/README.md
 * has the figures). An input that decodes to a one-thread program without
 * a schedule is that target's: this one passes over it, so that every
 * input it reports runs the same way under `vmtorture replay`.
 *
 * Interleaving feedback. Edge coverage does not tell an interleaving it
 * has not seen from one it has: the same ops run the same edges in any
 * order. So each run's decision trace (the scheduler's record of every
 * decision, the shim's, not the code under test's) is hashed into extra
 * coverage: at every context switch the pair (where the thread that stops
 * stands, where the thread that goes on stands), and whether the switch
 * was a preemption or a hand-off (the thread stopping blocked or ended).
 * A site is its kind, function and line (static in sync.h: the same in
 * every process and build), never an address. libFuzzer counts the pairs
 * as extra 8-bit counters; AFL++ (4.04c, whose runtime has no 8-bit
 * counter module) as pc-guard edges registered with its runtime at start.
 * VMT_SCHED_FEEDBACK=0 (environment) turns it off, to measure what it
 * is worth. The replay and coverage builds have none.
 *
 * Exactness (VMT_MT_EXACT: the coverage build, make coverage). Each
 * program runs twice recording its decisions, as `vmtorture replay`
 * does, and both runs must take the same decisions and end the same
 * way: otherwise what the report counts is not the program's, and the
 * run is a finding ("uncontrolled nondeterminism", which fuzz/coverage.sh
 * fails on). The replay build, which make bench-fuzz times, runs once.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "op.h"
#include "exec_mt.h"
#include "target.h"
#include "hints.h"

#define FB_SLOTS	4096		/* interleaving features: a power of two */
#define TRACE_CAP	(1u << 16)	/* decisions kept per run */

static bool fb_on = true;

#if defined(VMT_FEEDBACK_LIBFUZZER)
/* libFuzzer reads (and clears before each input) every counter in this
 * section, beside the edge counters. */
__attribute__((used, section("__libfuzzer_extra_counters")))
static uint8_t fb_counters[FB_SLOTS];

static void fb_hit(uint32_t slot)
{
	if (fb_counters[slot] != 0xff)
		fb_counters[slot]++;
}
#elif defined(VMT_FEEDBACK_AFL)
/* Guards of the pc-guard instrumentation, registered like a module's:
 * AFL++'s runtime gives each its own index in the shared map (and counts
 * them in the map size it announces when __AFL_INIT starts the fork
 * server); a hit counts where an edge would. */
void __sanitizer_cov_trace_pc_guard_init(uint32_t *start, uint32_t *stop);
void __sanitizer_cov_trace_pc_guard(uint32_t *guard);
static uint32_t fb_guards[FB_SLOTS];

__attribute__((constructor)) static void fb_register(void)
{
	__sanitizer_cov_trace_pc_guard_init(fb_guards, fb_guards + FB_SLOTS);
}

static void fb_hit(uint32_t slot)
{
	__sanitizer_cov_trace_pc_guard(&fb_guards[slot]);
}
#else
#define FB_NONE 1
static void fb_hit(uint32_t slot)
{
	(void)slot;
}
#endif

static uint32_t site_hash(const struct vms_site *s)
{
	uint32_t h = 2166136261u;	/* FNV-1a over kind, line, function */

	if (!s)
		return 0x9e3779b9u;	/* a thread that has not run yet */
	h = (h ^ (uint32_t)s->kind) * 16777619u;
	h = (h ^ (uint32_t)s->line) * 16777619u;
	for (const char *c = s->func; c && *c; c++)
		h = (h ^ (uint8_t)*c) * 16777619u;
	return h;
}

/* Every context switch of the run: (the site the thread stopped at, the
 * site the next one resumes at, preemption or hand-off). Each pair counts
 * once per run: how often a pair recurs grows with the program's length,
 * and as hit counts it would flood the corpus with longer programs that
 * show no new interleaving. */
static void fb_trace(const struct vms_sched_step *st, size_t n)
{
	const struct vms_site *at[VMS_SCHED_MAX_THREADS] = { 0 };
	uint64_t seen[FB_SLOTS / 64] = { 0 };

	for (size_t i = 0; i < n; i++) {
		const struct vms_sched_step *s = &st[i];
		uint32_t h;

		if (s->thread < VMS_SCHED_MAX_THREADS)
			at[s->thread] = s->site;
		if (s->chosen == s->thread || s->chosen >= VMS_SCHED_MAX_THREADS)
			continue;
		h = site_hash(s->site) * 31u + site_hash(at[s->chosen]);
		h = (h ^ (h >> 15)) * 0x2c1b3c6du;
		h ^= h >> 12;
		h = (h * 2u + (s->event != VMS_EV_POINT)) & (FB_SLOTS - 1);
		if (seen[h / 64] & (1ULL << (h % 64)))
			continue;
		seen[h / 64] |= 1ULL << (h % 64);
		fb_hit(h);
	}
}

/* Decisions per thread of the inputs run, for the mutator (fuzz/hints.h):
 * libFuzzer mutates in this process; AFL++ in afl-fuzz, which reads them
 * when VMT_MT_HINTS names a file both map. */
static bool hints_on;

static void hint_save(const struct vmt_prog *p, const struct vms_sched_step *st, size_t len)
{
	uint32_t dec[VMT_MAX_THREADS + 1] = { 0 };

	for (size_t i = 0; i < len; i++)
		if (st[i].thread <= VMT_MAX_THREADS && st[i].nth + 1 > dec[st[i].thread])
			dec[st[i].thread] = st[i].nth + 1;
	vmt_hint_save(p, dec);
}

bool vmt_fuzz_mt_decisions(const uint8_t *data, size_t size, uint32_t *dec, unsigned n);
bool vmt_fuzz_mt_decisions(const uint8_t *data, size_t size, uint32_t *dec, unsigned n)
{
	static struct vmt_prog p;

	vmt_decode(data, size, &p);
	return vmt_hint_get(&p, dec, n);
}

/* One input at a time; too big for the stack of the engines' callers. */
static struct vmt_prog prog;
static struct vms_sched_step *trace;

#ifdef VMT_MT_EXACT
static struct vms_sched_step *trace2;

/* Run the program again: true if it took the decisions of @r's run
 * (those recorded, and as many) and ended the same; else @r says how
 * they differ, as a finding. */
static bool same_again(struct vmt_mt_opts *o, struct vmt_mt_result *r)
{
	static struct vmt_mt_result r2;
	long d;

	o->trace = trace2;
	vmt_exec_mt(&prog, o, &r2);
	d = vmt_trace_diff(trace, r->sched.trace_len, trace2,
			   r2.sched.trace_len);
	if (d < 0 && r2.sched.steps == r->sched.steps &&
	    r2.status == r->status && !strcmp(r2.title, r->title))
		return true;
	snprintf(r->detail, sizeof(r->detail),
		 "run 1: %s after %" PRIu64
		 " decisions; run 2: %s after %" PRIu64
		 " decisions; traces differ at decision %ld",
		 r->status ? r->title : "no finding", r->sched.steps,
		 r2.status ? r2.title : "no finding", r2.sched.steps, d);
	snprintf(r->title, sizeof(r->title), "uncontrolled nondeterminism");
	r->status = 1;
	r->op = -1;
	return false;
}
#endif

int vmt_fuzz_one(const uint8_t *data, size_t size, FILE *log)
{
	struct vmt_mt_opts o = { 0 };
	struct vmt_mt_result r;

	vmt_decode(data, size, &prog);
	if (!vmt_prog_is_mt(&prog))
		return VMT_FUZZ_AGREE;	/* the sequential target's */
	if (trace) {
		o.trace = trace;
		o.trace_cap = TRACE_CAP;
	}
	vmt_exec_mt(&prog, &o, &r);
	if (trace) {
		if (hints_on)
			hint_save(&prog, trace, r.sched.trace_len);
		if (fb_on)
			fb_trace(trace, r.sched.trace_len);
	}
#ifdef VMT_MT_EXACT
	if (r.status != -EINVAL)
		same_again(&o, &r);
#endif
	if (r.status == 0 || r.status == -EINVAL)
		return VMT_FUZZ_AGREE;	/* -EINVAL: no program the decoder makes */
	if (log) {
		/* The title on a line of its own, as `vmtorture replay` gives
		 * it: the campaign's triage reads it (tools/campaign/sig.c). */
		if (r.status == 1)
			fprintf(log, "MT FINDING: %s\n  %s\n", r.title, r.detail);
		else
			fprintf(log, "SETUP FAILED: the controlled executor: %s (%d)\n", r.title,
				r.status);
		fprintf(log, "---- program (%u ops, %u threads, %zu bytes, text form) ----\n",
			prog.n, vmt_prog_threads(&prog), size);
		vmt_print_prog(log, &prog, r.op >= 0 && (unsigned)r.op < prog.n ? r.op : -1,
			       "the finding's op", NULL);
		fprintf(log, "---- end of program; replay: vmtorture replay FILE ----\n");
		fflush(log);
	}
	return r.status == 1 ? VMT_FUZZ_DIVERGE : VMT_FUZZ_ERROR;
}

int vmt_fuzz_localize(const uint8_t *data, size_t size, FILE *log)
{
	/* A multi-thread finding is titled by the executor itself, in
	 * order of time (exec_mt.h): nothing to localize. */
	(void)data, (void)size, (void)log;
	return VMT_FUZZ_AGREE;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *fb = getenv("VMT_SCHED_FEEDBACK");

	(void)argc, (void)argv;
	setvbuf(stderr, NULL, _IOLBF, 0);
	fb_on = !(fb && !strcmp(fb, "0"));
#ifdef FB_NONE
	fb_on = false;
#endif
	/* The trace feeds the mutator's hints too, feedback or not: in
	 * libFuzzer (it mutates in this process), and in AFL++ when
	 * VMT_MT_HINTS names the file afl-fuzz's mutator reads them from. */
#ifdef VMT_FEEDBACK_LIBFUZZER
	hints_on = true;
#elif !defined(FB_NONE)
	hints_on = getenv("VMT_MT_HINTS") && *getenv("VMT_MT_HINTS");
#endif
	if (hints_on && !vmt_hints()) {
		fprintf(stderr, "vmt-fuzz-mt: the hint file VMT_MT_HINTS cannot be mapped\n");
		abort();
	}
	/* The coverage build compares each run's trace with a second's. */
#ifdef VMT_MT_EXACT
	bool want = true;

	if (!(trace2 = malloc(TRACE_CAP * sizeof(*trace2)))) {
		fprintf(stderr,
			"vmt-fuzz-mt: out of memory for the decision trace\n");
		abort();
	}
#else
	bool want = fb_on || hints_on;
#endif
	if (want && !(trace = malloc(TRACE_CAP * sizeof(*trace)))) {
		fprintf(stderr, "vmt-fuzz-mt: out of memory for the decision trace\n");
		abort();
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int rc = vmt_fuzz_one(data, size, stderr);

	if (rc != VMT_FUZZ_AGREE)
		abort();
	return 0;
}
