/* SPDX-License-Identifier: MIT */
/*
 * sched_cli.c - vmtorture-sched, the controlled executor's command line
 * (the VMS_SCHED build of the core cannot share a binary with the plain
 * one; `vmtorture sched` and `vmtorture replay` of a multi-thread program
 * run this binary, found next to their own).
 *
 *   vmtorture-sched sched FILE [--mode random|pct] [--depth D] [--runs N]
 *                   [--seed S] [--out DIR] [--max-steps N] [-q]
 *   vmtorture-sched replay [-q] [-v] [--repeat N] FILE...
 *   vmtorture-sched minimize [-o OUT] [--max-seconds S] [--search-runs N] FILE
 *   vmtorture-sched report [--no-replay] FILE
 *
 * sched explores schedules of one program (text or binary) until the
 * first finding. The finding's run is repeated with a trace (the same
 * seed must give the same title: else uncontrolled nondeterminism), its
 * trace becomes the preemption list that replays it, the list is shrunk
 * while the title stays, and the program is saved with that schedule
 * (never over an existing file). replay runs each program twice (or
 * --repeat times) and compares the decision traces and the titles.
 *
 * minimize and report (mt_min.h): the joint minimizer and the report one
 * column per thread.
 *
 * Exit status: 0 no finding, 1 a finding, 2 bad usage or input, 3
 * uncontrolled nondeterminism (a harness error).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "mt_min.h"

#define EXIT_FOUND	1
#define EXIT_USAGE	2
#define EXIT_NONDET	3
#define MAX_FILE	(1u << 20)
#define SHRINK_RUNS	4000

static struct vms_sched_step *trace_a, *trace_b;
static size_t trace_cap;

static bool traces(uint64_t steps)
{
	size_t cap = steps ? steps : VMT_MT_STEPS_DEFAULT;

	if (trace_cap >= cap)
		return true;
	free(trace_a);
	free(trace_b);
	trace_a = malloc(cap * sizeof(*trace_a));
	trace_b = malloc(cap * sizeof(*trace_b));
	trace_cap = trace_a && trace_b ? cap : 0;
	if (!trace_cap)
		fprintf(stderr, "vmtorture sched: out of memory for traces\n");
	return trace_cap != 0;
}

/* ---- programs ------------------------------------------------------------ */

/* Text if it has no NUL and parses, else the binary form. */
static int load(const char *path, struct vmt_prog *p)
{
	FILE *f = fopen(path, "rb");
	char *buf, err[160];
	size_t n;
	int line;

	if (!f) {
		fprintf(stderr, "vmtorture: %s: %s\n", path, strerror(errno));
		return -1;
	}
	buf = malloc(MAX_FILE + 1);
	n = buf ? fread(buf, 1, MAX_FILE + 1, f) : 0;
	fclose(f);
	if (!buf || n > MAX_FILE) {
		fprintf(stderr, "vmtorture: %s: %s\n", path, buf ? "larger than 1 MiB" : "out of memory");
		free(buf);
		return -1;
	}
	buf[n] = 0;
	if (memchr(buf, 0, n) || vmt_parse(buf, p, &line, err, sizeof(err)))
		vmt_decode((const uint8_t *)buf, n, p);
	free(buf);
	if (p->sched_version && p->sched_version != VMT_SCHED_VERSION)
		fprintf(stderr, "vmtorture: %s: warning: the schedule was recorded for version %u "
			"of the scheduling points, this build has %u: it may not reproduce\n",
			path, p->sched_version, VMT_SCHED_VERSION);
	return 0;
}

/* A new file DIR/NAME-K.txt (K from 0); never replaces one. */
static FILE *create_new(const char *dir, const char *name, char *path, size_t n)
{
	char d[512];

	snprintf(d, sizeof(d), "%s", dir);
	for (char *s = d + 1; *s; s++) {
		if (*s == '/') {
			*s = 0;
			mkdir(d, 0777);
			*s = '/';
		}
	}
	mkdir(d, 0777);
	for (int k = 0; k < 100000; k++) {
		int fd;

		snprintf(path, n, "%s/%s-%d.txt", dir, name, k);
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0666);
		if (fd >= 0)
			return fdopen(fd, "w");
		if (errno != EEXIST)
			break;
	}
	fprintf(stderr, "vmtorture sched: cannot create a file in %s: %s\n", dir, strerror(errno));
	return NULL;
}

/* ---- runs ------------------------------------------------------------------ */

static int run(const struct vmt_prog *p, vms_sched_policy_fn pol, void *arg,
	       struct vms_sched_step *trace, uint64_t max_steps, struct vmt_mt_result *r)
{
	struct vmt_mt_opts o = {
		.policy = pol, .policy_arg = arg, .trace = trace,
		.trace_cap = trace ? trace_cap : 0, .max_steps = max_steps,
	};

	return vmt_exec_mt(p, &o, r);
}

/* Replay @p under the preemptions @e[0..n): the run's title. */
static int replay_list(const struct vmt_prog *p, const struct vmt_preempt *e, size_t n,
		       struct vms_sched_step *trace, uint64_t max_steps, struct vmt_mt_result *r)
{
	return vmt_mt_replay_list(p, e, n, trace, trace ? trace_cap : 0, max_steps, r);
}

static void print_result(FILE *f, const char *what, const struct vmt_mt_result *r)
{
	if (r->status == 0 && r->program_deadlock) {
		fprintf(f, "%s: no finding, but %s, after %" PRIu64 " decisions\n", what, r->title,
			r->sched.steps);
		fprintf(f, "  %s\n", r->detail); /* the wait-for cycle */
	} else if (r->status == 0)
		fprintf(f, "%s: no finding (%" PRIu64 " decisions, %d threads, %u outcomes, "
			"%u pages checked)\n", what, r->sched.steps, r->sched.nr_threads,
			r->records, r->pages);
	else if (r->status == 1)
		fprintf(f, "%s: %s\n  %s\n", what, r->title, r->detail);
	else
		fprintf(f, "%s: harness error: %s\n", what, r->title);
}

/* ---- sched ----------------------------------------------------------------- */

struct explore {
	const char *path, *out;
	bool pct, quiet;
	int depth;
	unsigned runs;
	uint64_t seed, max_steps;
};

static int save(const struct explore *x, struct vmt_prog *q, const struct vmt_mt_result *r,
		unsigned run_no, uint64_t seed, size_t full, char *path, size_t n)
{
	FILE *f = create_new(x->out, "sched", path, n);

	if (!f)
		return -1;
	fprintf(f, "# vmtorture sched finding: %s\n", r->title);
	fprintf(f, "# %s\n", r->detail);
	fprintf(f, "# found by: vmtorture sched %s --mode %s", x->path, x->pct ? "pct" : "random");
	if (x->pct)
		fprintf(f, " --depth %d", x->depth);
	fprintf(f, " --seed %" PRIu64 " (run %u, seed %" PRIu64 ")\n", x->seed, run_no, seed);
	fprintf(f, "# the schedule: %u preemption(s), shrunk from %zu; replay: vmtorture replay FILE\n",
		q->nsched, full);
	vmt_print_prog(f, q, -1, NULL, NULL);
	if (fclose(f)) {
		fprintf(stderr, "vmtorture sched: %s: %s\n", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* The run @seed found something: make it a program that replays it. */
static int keep_finding(const struct explore *x, const struct vmt_prog *p, unsigned run_no,
			uint64_t seed, uint64_t k, const struct vmt_mt_result *found)
{
	static struct vmt_prog q;
	struct vmt_mt_result r, r2;
	struct vmt_preempt *e;
	struct vmt_random rnd;
	struct vmt_pct pct;
	unsigned shrink_runs = 0;
	size_t n, full;
	char path[600];
	long d;

	if (!traces(x->max_steps))
		return EXIT_USAGE;
	/* The same seed again, with a trace: it must be the same run. */
	if (x->pct) {
		vmt_pct_init(&pct, seed, x->depth, k);
		run(p, vmt_pct_choose, &pct, trace_a, x->max_steps, &r);
	} else {
		vmt_random_init(&rnd, seed);
		run(p, vmt_random_choose, &rnd, trace_a, x->max_steps, &r);
	}
	if (r.status != 1 || strcmp(r.title, found->title) || r.sched.trace_truncated) {
		fprintf(stderr, "vmtorture sched: uncontrolled nondeterminism: seed %" PRIu64
			" gave '%s', then '%s'%s\n", seed, found->title, r.title,
			r.sched.trace_truncated ? " (trace truncated)" : "");
		return EXIT_NONDET;
	}
	full = vmt_trace_preempts(trace_a, r.sched.trace_len, NULL, 0);
	e = malloc((full + 1) * sizeof(*e));
	if (!e)
		return EXIT_USAGE;
	vmt_trace_preempts(trace_a, r.sched.trace_len, e, full);
	/* The whole list must replay the very same run. */
	replay_list(p, e, full, trace_b, x->max_steps, &r2);
	d = vmt_trace_diff(trace_a, r.sched.trace_len, trace_b, r2.sched.trace_len);
	if (r2.status != 1 || strcmp(r2.title, r.title) || d >= 0) {
		fprintf(stderr, "vmtorture sched: uncontrolled nondeterminism: the trace's "
			"preemptions replay '%s' (trace differs at decision %ld), not '%s'\n",
			r2.title, d, r.title);
		free(e);
		return EXIT_NONDET;
	}
	n = vmt_mt_shrink_sched(p, e, full, r.title, x->max_steps, &shrink_runs, SHRINK_RUNS);
	if (n > VMT_MAX_PREEMPTS) {
		fprintf(stderr, "vmtorture sched: %zu preemptions after shrinking, more than a "
			"program holds (%d): not saved\n", n, VMT_MAX_PREEMPTS);
		free(e);
		return EXIT_FOUND;
	}
	q = *p;
	q.nsched = (unsigned)n;
	q.sched_version = n ? VMT_SCHED_VERSION : 0;
	memcpy(q.sched, e, n * sizeof(*e));
	free(e);
	/* What is saved must replay the same way twice. */
	run(&q, NULL, NULL, trace_a, x->max_steps, &r);
	run(&q, NULL, NULL, trace_b, x->max_steps, &r2);
	d = vmt_trace_diff(trace_a, r.sched.trace_len, trace_b, r2.sched.trace_len);
	if (r.status != 1 || strcmp(r.title, found->title) || strcmp(r2.title, r.title) || d >= 0) {
		fprintf(stderr, "vmtorture sched: uncontrolled nondeterminism: the shrunk schedule "
			"gave '%s' then '%s'\n", r.title, r2.title);
		return EXIT_NONDET;
	}
	if (save(x, &q, &r, run_no, seed, full, path, sizeof(path)))
		return EXIT_USAGE;
	printf("finding after %u run(s) (seed %" PRIu64 "): %s\n  %s\n  schedule: %u preemption(s) "
	       "(from %zu, %u shrink runs)\n  saved %s\n  replay: vmtorture replay %s\n", run_no, seed,
	       r.title, r.detail, q.nsched, full, shrink_runs, path, path);
	/* For scorecards: threads of the run (with the core's workers) and
	 * the PCT estimate of decisions with a choice. */
	printf("  stats: runs=%u threads=%d k=%" PRIu64 "\n", run_no, r.sched.nr_threads, k);
	return EXIT_FOUND;
}

static int explore(const struct explore *x)
{
	static struct vmt_prog p;
	uint64_t k = 50, decisions = 0, seen = 0, deadlocks = 0;
	struct vmt_mt_result r;

	if (load(x->path, &p))
		return EXIT_USAGE;
	for (unsigned i = 0; i < x->runs; i++) {
		uint64_t seed = x->seed + i;
		uint64_t kk = k;
		struct vmt_random rnd;
		struct vmt_pct pct;

		if (x->pct) {
			vmt_pct_init(&pct, seed, x->depth, kk);
			run(&p, vmt_pct_choose, &pct, NULL, x->max_steps, &r);
			if (pct.decisions > k)
				k = pct.decisions;
			if (pct.decisions > seen)
				seen = pct.decisions;
		} else {
			vmt_random_init(&rnd, seed);
			run(&p, vmt_random_choose, &rnd, NULL, x->max_steps, &r);
		}
		decisions += r.sched.steps;
		deadlocks += r.program_deadlock;
		if (r.status < 0) {
			print_result(stderr, x->path, &r);
			return EXIT_USAGE;
		}
		if (r.status == 1)
			return keep_finding(x, &p, i + 1, seed, kk, &r);
	}
	if (!x->quiet)
		printf("%s: no finding in %u runs (%s, seeds %" PRIu64 "..%" PRIu64 ", %" PRIu64
		       " decisions)\n", x->path, x->runs, x->pct ? "pct" : "random", x->seed,
		       x->seed + x->runs - 1, decisions);
	if (!x->quiet && x->pct)
		printf("  pct depth %d, k %" PRIu64 " (decisions with a choice, largest run; the "
		       "estimate starts at 50)\n", x->depth, seen);
	if (deadlocks)
		printf("  %" PRIu64 " run(s) ended in the program's own deadlock: cursors on two "
		       "spaces taken in opposite orders (cursor.h)\n", deadlocks);
	return 0;
}

static bool num(const char *s, uint64_t *v)
{
	char *end;

	if (!s || !*s || *s == '-')
		return false;
	errno = 0;
	*v = strtoull(s, &end, 0);
	return !errno && !*end;
}

static const char sched_usage[] =
	"usage: vmtorture sched FILE [--mode random|pct] [--depth D] [--runs N] [--seed S]\n"
	"                       [--out DIR] [--max-steps N] [-q]\n"
	"  Explore schedules of a program (text or binary; any number of threads) on the\n"
	"  controlled build of libvms until the first finding; save it as a program whose\n"
	"  schedule replays it (in DIR, default sched-findings; never over a file).\n"
	"  --mode   random (default) or pct (Burckhardt et al.; --depth D, default 2)\n"
	"  --runs   schedules to try (default 1000); --seed  the first seed (default 1)\n"
	"  Exit: 0 no finding, 1 a finding, 2 bad usage, 3 uncontrolled nondeterminism.\n";

static int cmd_sched(int argc, char **argv)
{
	struct explore x = { .out = "sched-findings", .depth = 2, .runs = 1000, .seed = 1,
			     .max_steps = VMT_MT_STEPS_DEFAULT };
	uint64_t v;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			fputs(sched_usage, stdout);
			return 0;
		} else if (!strcmp(a, "-q")) {
			x.quiet = true;
		} else if (!strcmp(a, "--mode") && val && (!strcmp(val, "random") || !strcmp(val, "pct"))) {
			x.pct = !strcmp(argv[++i], "pct");
		} else if (!strcmp(a, "--depth") && num(val, &v) && v >= 1 && v <= VMT_PCT_MAX_DEPTH) {
			x.depth = (int)v;
			i++;
		} else if (!strcmp(a, "--runs") && num(val, &v) && v >= 1 && v <= 1000000000) {
			x.runs = (unsigned)v;
			i++;
		} else if (!strcmp(a, "--seed") && num(val, &v)) {
			x.seed = v;
			i++;
		} else if (!strcmp(a, "--max-steps") && num(val, &v) && v >= 100 && v <= 100000000) {
			x.max_steps = v;
			i++;
		} else if (!strcmp(a, "--out") && val) {
			x.out = argv[++i];
		} else if (a[0] == '-' && a[1]) {
			fprintf(stderr, "vmtorture sched: bad option or value: %s%s%s\n", a,
				val ? " " : "", val ? val : "");
			fputs(sched_usage, stderr);
			return EXIT_USAGE;
		} else if (x.path) {
			fprintf(stderr, "vmtorture sched: one program at a time\n");
			return EXIT_USAGE;
		} else {
			x.path = a;
		}
	}
	if (!x.path) {
		fprintf(stderr, "vmtorture sched: no program\n");
		fputs(sched_usage, stderr);
		return EXIT_USAGE;
	}
	return explore(&x);
}

/* ---- replay ------------------------------------------------------------------ */

static const char replay_usage[] =
	"usage: vmtorture replay [-q] [-v] [--trace] [--repeat N] FILE...   (multi-thread programs)\n"
	"  Run each program under its schedule on the controlled build, N times (default\n"
	"  2), and check that every run takes the same decisions and ends the same way.\n"
	"  -q  nothing for programs without a finding   -v  each outcome in ticket order\n"
	"  --trace  every decision of the first run (thread, key, site, who runs next)\n"
	"  Exit: 0 no finding, 1 a finding, 2 bad input, 3 uncontrolled nondeterminism.\n";

/* Every decision: "step thread/nth site runnable -> chosen". */
static void print_trace(const struct vms_sched_step *t, size_t n)
{
	char site[160];

	for (size_t i = 0; i < n; i++) {
		vms_sched_site_format(t[i].site, site, sizeof(site));
		printf("  %5zu  thread %u decision %-5u %-36s runnable %#x -> %u%s\n", i,
		       t[i].thread, t[i].nth, site, t[i].runnable, t[i].chosen,
		       t[i].chosen != t[i].thread ? "  (switch)" : "");
	}
}

static int replay_one(const char *path, unsigned repeat, bool quiet, bool verbose, bool trace)
{
	static struct vmt_prog p;
	struct vmt_mt_opts o = { 0 };
	struct vmt_mt_result r, r2;
	long d;

	if (load(path, &p) || !traces(0))
		return EXIT_USAGE;
	o.trace = trace_a;
	o.trace_cap = trace_cap;
	o.log = verbose ? stdout : NULL;
	vmt_exec_mt(&p, &o, &r);
	if (r.status < 0) {
		print_result(stderr, path, &r);
		return EXIT_USAGE;
	}
	o.trace = trace_b;
	o.log = NULL;
	for (unsigned i = 1; i < repeat; i++) {
		vmt_exec_mt(&p, &o, &r2);
		d = vmt_trace_diff(trace_a, r.sched.trace_len, trace_b, r2.sched.trace_len);
		if (r2.status != r.status || strcmp(r2.title, r.title) || d >= 0 ||
		    r.sched.trace_truncated) {
			printf("%s: uncontrolled nondeterminism: run 1 '%s', run %u '%s', traces "
			       "differ at decision %ld%s\n", path, r.status ? r.title : "no finding",
			       i + 1, r2.status ? r2.title : "no finding", d,
			       r.sched.trace_truncated ? " (trace truncated)" : "");
			return EXIT_NONDET;
		}
	}
	if (trace)
		print_trace(trace_a, r.sched.trace_len);
	if (r.status || !quiet)
		print_result(stdout, path, &r);
	if (r.status == 1) {
		printf("---- program (%u ops, %u threads; the op is marked) ----\n", p.n,
		       vmt_prog_threads(&p));
		vmt_print_prog(stdout, &p, r.op, "here", NULL);
		printf("---- end ----\n");
	}
	if (repeat > 1 && !quiet)
		printf("  %u runs, the same %" PRIu64 " decisions each\n", repeat, r.sched.steps);
	return r.status == 1 ? EXIT_FOUND : 0;
}

static int cmd_replay(int argc, char **argv)
{
	bool quiet = false, verbose = false, trace = false;
	unsigned repeat = 2;
	int rc = 0, files = 0;
	uint64_t v;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			fputs(replay_usage, stdout);
			return 0;
		} else if (!strcmp(a, "-q")) {
			quiet = true;
		} else if (!strcmp(a, "-v")) {
			verbose = true;
		} else if (!strcmp(a, "--trace")) {
			trace = true;
		} else if (!strcmp(a, "--repeat") && num(i + 1 < argc ? argv[i + 1] : NULL, &v) &&
			   v >= 1 && v <= 1000000) {
			repeat = (unsigned)v;
			i++;
		} else if (a[0] == '-' && a[1]) {
			fprintf(stderr, "vmtorture replay: bad option: %s\n", a);
			fputs(replay_usage, stderr);
			return EXIT_USAGE;
		} else {
			int c = replay_one(a, repeat, quiet, verbose, trace);

			files++;
			if (c == EXIT_NONDET || (c && rc != EXIT_NONDET && (c == EXIT_FOUND || !rc)))
				rc = c;
		}
	}
	if (!files) {
		fprintf(stderr, "vmtorture replay: no input files\n");
		return EXIT_USAGE;
	}
	fflush(stdout);
	return rc;
}

/* ---- minimize and report ------------------------------------------------------- */

static unsigned count_faults(const struct vmt_prog *p)
{
	unsigned n = 0;

	for (unsigned i = 0; i < p->n; i++)
		n += p->ops[i].code == VMT_OP_FAIL;
	return n;
}

static long enc_len(const struct vmt_prog *p)
{
	static uint8_t buf[VMT_MAX_ENCODED];

	return vmt_encode(p, buf, sizeof(buf));
}

/* A new file @path (never over one): NULL and one line if it exists. */
static FILE *create_excl(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0666);

	if (fd < 0) {
		fprintf(stderr, "vmtorture minimize: %s: %s\n", path, strerror(errno));
		return NULL;
	}
	return fdopen(fd, "w");
}

static const char minimize_usage[] =
	"usage: vmtorture minimize [-o OUT] [--max-seconds S] [--search-runs N] [--sig TITLE]\n"
	"                          [-v] FILE   (multi-thread programs)\n"
	"  Shrink a multi-thread finding while the controlled executor gives its title:\n"
	"  threads, ops and faults, preemptions, operands, to a 1-minimal program, within\n"
	"  S CPU seconds (default 60). A candidate whose schedule no longer shows the\n"
	"  title gets a seeded search of N schedules (default 300).\n"
	"  Writes OUT (bytes), OUT.txt (the program: replay it), OUT.md (the report, one\n"
	"  column per thread) and OUT.verdict (key=value); OUT defaults to FILE.min and\n"
	"  none of them may exist. Exit: 0 minimized, 1 FILE gives no finding (or not\n"
	"  TITLE), 2 bad usage or input, 3 uncontrolled nondeterminism.\n";

/* A minimized multi-thread finding: the program before (p0) and after
 * (p), its title, what the minimizer did, and the two replays of the
 * result (r, r2), which must agree. */
struct mt_min {
	const char *path;
	char base[600], title[256];
	struct vmt_prog p, p0;
	struct vmt_min_result mr;
	struct vmt_mt_result r, r2;
};

/* OUT, OUT.txt, OUT.md and OUT.verdict, none of which may exist yet. */
static bool outputs_free(const char *base)
{
	char name[640];

	for (int k = 0; k < 4; k++) {
		static const char *const ext[] = { "", ".txt", ".md",
						   ".verdict" };

		snprintf(name, sizeof(name), "%s%s", base, ext[k]);
		if (!access(name, F_OK)) {
			fprintf(stderr,
				"vmtorture minimize: %s exists: not replaced (-o OUT)\n",
				name);
			return false;
		}
	}
	return true;
}

/* Run m->p under its schedule, expecting the finding @sig (any if NULL),
 * minimize it, and replay the result twice. Returns 0 or the exit code. */
static int mt_minimize(struct mt_min *m, const char *sig,
		       const struct vmt_min_opts *mo)
{
	struct vmt_mt_result *r = &m->r, *r2 = &m->r2;
	long d;

	vmt_exec_mt(&m->p, NULL, r);
	if (r->status < 0) {
		print_result(stderr, m->path, r);
		return EXIT_USAGE;
	}
	if (r->status != 1 || (sig && strcmp(sig, r->title))) {
		fprintf(stderr, "vmtorture minimize: %s: %s%s%s\n", m->path,
			r->status == 1 ? "gives another finding: " :
					 "no finding under its schedule",
			r->status == 1 ? r->title : "", "");
		return EXIT_FOUND;
	}
	snprintf(m->title, sizeof(m->title), "%s", r->title);
	m->p0 = m->p;
	if (vmt_mt_minimize(&m->p, m->title, mo, &m->mr)) {
		fprintf(stderr,
			"vmtorture minimize: %s: %s does not reproduce in a child process\n",
			m->path, m->title);
		return EXIT_NONDET;
	}
	/* What is saved must replay the same way twice. */
	run(&m->p, NULL, NULL, trace_a, 0, r);
	run(&m->p, NULL, NULL, trace_b, 0, r2);
	d = vmt_trace_diff(trace_a, r->sched.trace_len, trace_b,
			   r2->sched.trace_len);
	if (r->status != 1 || strcmp(r->title, m->title) ||
	    strcmp(r2->title, m->title) || d >= 0) {
		fprintf(stderr,
			"vmtorture minimize: uncontrolled nondeterminism: the minimized "
			"program gave '%s' then '%s'\n",
			r->title, r2->title);
		return EXIT_NONDET;
	}
	return 0;
}

/* OUT: the minimized program's bytes. */
static int write_mt_bytes(const struct mt_min *m)
{
	static uint8_t buf[VMT_MAX_ENCODED];
	long n = vmt_encode(&m->p, buf, sizeof(buf));
	FILE *f;

	if (n < 0 || !(f = create_excl(m->base)) ||
	    fwrite(buf, 1, (size_t)n, f) != (size_t)n || fclose(f)) {
		fprintf(stderr, "vmtorture minimize: cannot write %s\n",
			m->base);
		return EXIT_USAGE;
	}
	return 0;
}

/* OUT.txt: the program in text form under a header of what it came from. */
static int write_mt_txt(const struct mt_min *m)
{
	const struct vmt_prog *p = &m->p, *p0 = &m->p0;
	char name[640];
	FILE *f;

	snprintf(name, sizeof(name), "%s.txt", m->base);
	if (!(f = create_excl(name)))
		return EXIT_USAGE;
	fprintf(f, "# vmtorture sched finding: %s\n# %s\n", m->title,
		m->r.detail);
	fprintf(f,
		"# minimized from %s: %u thread(s), %u op(s), %u preemption(s), %ld bytes\n",
		m->path, vmt_prog_threads(p0), p0->n, p0->nsched, enc_len(p0));
	fprintf(f,
		"# the bug needs %u preemption(s); %u thread(s) (%d run, with the core's "
		"workers), %u op(s), %u fault(s), %ld bytes%s\n",
		p->nsched, vmt_prog_threads(p), m->r.sched.nr_threads, p->n,
		count_faults(p), enc_len(p),
		m->mr.minimal ? "; 1-minimal" :
				"; the budget ran out before 1-minimal");
	fprintf(f, "# replay: vmtorture replay %s.txt\n", m->base);
	vmt_print_prog(f, p, -1, NULL, NULL);
	return fclose(f) ? EXIT_USAGE : 0;
}

/* OUT.md: the report, one column per thread (its run fills m->r2). */
static int write_mt_md(struct mt_min *m)
{
	const struct vmt_prog *p = &m->p, *p0 = &m->p0;
	char name[640], cmd[700];
	FILE *f;

	snprintf(name, sizeof(name), "%s.md", m->base);
	if (!(f = create_excl(name)))
		return EXIT_USAGE;
	snprintf(cmd, sizeof(cmd), "vmtorture replay %s.txt", m->base);
	fprintf(f,
		"# Minimized finding: %s\n\nFrom `%s` (%u threads, %u ops, %u preemptions, "
		"%ld bytes) to %u thread(s) (%d run, with the core's workers), %u op(s), %u "
		"fault(s), %ld bytes; **the bug needs %u preemption(s)**%s.\n\n",
		m->title, m->path, vmt_prog_threads(p0), p0->n, p0->nsched,
		enc_len(p0), vmt_prog_threads(p), m->r.sched.nr_threads, p->n,
		count_faults(p), enc_len(p), p->nsched,
		m->mr.minimal ? " (1-minimal)" : "");
	vmt_mt_table(f, p, cmd, &m->r2);
	return fclose(f) ? EXIT_USAGE : 0;
}

/* OUT.verdict: the same facts as key=value lines, for the campaign. */
static int write_mt_verdict(const struct mt_min *m)
{
	const struct vmt_prog *p = &m->p, *p0 = &m->p0;
	const struct vmt_min_result *mr = &m->mr;
	char name[640];
	FILE *f;

	snprintf(name, sizeof(name), "%s.verdict", m->base);
	if (!(f = create_excl(name)))
		return EXIT_USAGE;
	/* threads: the program's (one column each); threads_run: with the
	 * core's workers, which run beside them (the reclaimer). */
	fprintf(f,
		"title=%s\nthreads=%u\nthreads_run=%d\nops=%u\npreemptions=%u\nfaults=%u\n"
		"bytes=%ld\n"
		"before_threads=%u\nbefore_ops=%u\nbefore_preemptions=%u\nbefore_bytes=%ld\n"
		"minimal=%d\ntrials=%u\nsearched=%u\nrescheduled=%u\nrounds=%u\ncpu_seconds=%.2f\n"
		"decisions=%" PRIu64 "\nprogram=%s.txt\n",
		m->title, vmt_prog_threads(p), m->r.sched.nr_threads, p->n,
		p->nsched, count_faults(p), enc_len(p), vmt_prog_threads(p0),
		p0->n, p0->nsched, enc_len(p0), mr->minimal, mr->trials,
		mr->searched, mr->rescheduled, mr->rounds, mr->cpu,
		m->r.sched.steps, m->base);
	return fclose(f) ? EXIT_USAGE : 0;
}

/* The summary on stdout. */
static void print_mt_min(const struct mt_min *m)
{
	const struct vmt_prog *p = &m->p, *p0 = &m->p0;
	const struct vmt_min_result *mr = &m->mr;
	const char *base = m->base;

	printf("minimize: %s\n  %u thread(s)/%u op(s)/%u preemption(s)/%ld bytes -> %u thread(s) "
	       "(%d run, with the core's workers)/%u op(s)/%u fault(s)/%ld bytes; the bug needs %u "
	       "preemption(s)%s\n  %u trials "
	       "(%u searched, %u with a new schedule), %u rounds, %.1f CPU s\n  wrote %s, "
	       "%s.txt, %s.md, %s.verdict\n  replay: vmtorture replay %s.txt\n",
	       m->title, vmt_prog_threads(p0), p0->n, p0->nsched, enc_len(p0),
	       vmt_prog_threads(p), m->r.sched.nr_threads, p->n,
	       count_faults(p), enc_len(p), p->nsched,
	       mr->minimal ? " (1-minimal)" :
			     " (budget spent: not shown 1-minimal)",
	       mr->trials, mr->searched, mr->rescheduled, mr->rounds, mr->cpu,
	       base, base, base, base, base);
}

static int cmd_minimize(int argc, char **argv)
{
	static struct mt_min m;
	struct vmt_min_opts mo = { .max_cpu = 60 };
	const char *out = NULL, *sig = NULL;
	int rc;
	uint64_t v;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			fputs(minimize_usage, stdout);
			return 0;
		} else if (!strcmp(a, "-v")) {
			mo.log = stderr;
		} else if (!strcmp(a, "-o") && val) {
			out = argv[++i];
		} else if (!strcmp(a, "--sig") && val) {
			sig = argv[++i];
		} else if (!strcmp(a, "--max-seconds") && num(val, &v) && v >= 1 && v <= 86400) {
			mo.max_cpu = (double)v;
			i++;
		} else if (!strcmp(a, "--search-runs") && num(val, &v) && v >= 1 && v <= 1000000) {
			mo.search_runs = (unsigned)v;
			i++;
		} else if (a[0] == '-' && a[1]) {
			fprintf(stderr, "vmtorture minimize: bad option or value: %s%s%s\n", a,
				val ? " " : "", val ? val : "");
			fputs(minimize_usage, stderr);
			return EXIT_USAGE;
		} else if (m.path) {
			fprintf(stderr, "vmtorture minimize: one program at a time\n");
			return EXIT_USAGE;
		} else {
			m.path = a;
		}
	}
	if (!m.path) {
		fprintf(stderr, "vmtorture minimize: no program\n");
		fputs(minimize_usage, stderr);
		return EXIT_USAGE;
	}
	if (load(m.path, &m.p) || !traces(0))
		return EXIT_USAGE;
	snprintf(m.base, sizeof(m.base), "%s", out ? out : m.path);
	if (!out)
		strncat(m.base, ".min", sizeof(m.base) - strlen(m.base) - 1);
	if (!outputs_free(m.base))
		return EXIT_USAGE;
	if ((rc = mt_minimize(&m, sig, &mo)) || (rc = write_mt_bytes(&m)) ||
	    (rc = write_mt_txt(&m)) || (rc = write_mt_md(&m)) ||
	    (rc = write_mt_verdict(&m)))
		return rc;
	print_mt_min(&m);
	return 0;
}

static const char report_usage[] =
	"usage: vmtorture report [--no-replay] FILE   (a multi-thread program)\n"
	"  The run under its schedule as Markdown, one column per thread.\n"
	"  --no-replay  without the replay command (a page that gives its own)\n";

static int cmd_report(int argc, char **argv)
{
	static struct vmt_prog p;
	struct vmt_mt_result r;
	bool with_cmd = argc == 2;
	const char *path = argv[argc - 1];
	char cmd[700];

	if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		fputs(report_usage, stdout);
		return 0;
	}
	if (!(argc == 2 || (argc == 3 && !strcmp(argv[1], "--no-replay"))) ||
	    path[0] == '-') {
		fputs(report_usage, stderr);
		return EXIT_USAGE;
	}
	if (load(path, &p))
		return EXIT_USAGE;
	snprintf(cmd, sizeof(cmd), "vmtorture replay %s", path);
	if (vmt_mt_table(stdout, &p, with_cmd ? cmd : NULL, &r) < 0) {
		print_result(stderr, path, &r);
		return EXIT_USAGE;
	}
	return r.status == 1 ? EXIT_FOUND : 0;
}

/* ---- bench ------------------------------------------------------------------- */

static double cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int dbl_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static const char bench_usage[] =
	"usage: vmtorture-sched bench [--runs N] [--reps R] [--mode random|pct] FILE...\n"
	"  Controlled executions per CPU second of each program (random or PCT\n"
	"  schedules, seeds 1..N): R repetitions of N runs, median [min, max].\n";

static int cmd_bench(int argc, char **argv)
{
	static struct vmt_prog p;
	uint64_t runs = 2000, reps = 5, v;
	double all_runs = 0, all_cpu = 0;
	bool pct = false;
	int files = 0;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			fputs(bench_usage, stdout);
			return 0;
		} else if (!strcmp(a, "--runs") && num(val, &v) && v) {
			runs = v;
			i++;
		} else if (!strcmp(a, "--reps") && num(val, &v) && v && v <= 100) {
			reps = v;
			i++;
		} else if (!strcmp(a, "--mode") && val && (!strcmp(val, "random") || !strcmp(val, "pct"))) {
			pct = !strcmp(argv[++i], "pct");
		} else if (a[0] == '-') {
			fputs(bench_usage, stderr);
			return EXIT_USAGE;
		} else {
			double rate[100];
			uint64_t steps = 0;

			if (load(a, &p))
				return EXIT_USAGE;
			for (uint64_t r = 0; r < reps; r++) {
				double t0 = cpu_s();

				steps = 0;
				for (uint64_t k = 1; k <= runs; k++) {
					struct vmt_mt_result res;
					struct vmt_random rnd;
					struct vmt_pct pp;

					if (pct) {
						vmt_pct_init(&pp, k, 2, 60);
						run(&p, vmt_pct_choose, &pp, NULL, 0, &res);
					} else {
						vmt_random_init(&rnd, k);
						run(&p, vmt_random_choose, &rnd, NULL, 0, &res);
					}
					if (res.status) {
						fprintf(stderr, "bench: %s seed %" PRIu64 ": %s\n", a, k, res.title);
						return EXIT_FOUND;
					}
					steps += res.sched.steps;
				}
				rate[r] = (double)runs / (cpu_s() - t0);
				all_runs += (double)runs;
				all_cpu += (double)runs / rate[r];
			}
			qsort(rate, reps, sizeof(rate[0]), dbl_cmp);
			printf("%-36s %8.0f execs/s per core [%.0f, %.0f], %.0f decisions/exec\n", a,
			       rate[reps / 2], rate[0], rate[reps - 1], (double)steps / (double)runs);
			files++;
		}
	}
	if (files > 1)
		printf("%-36s %8.0f execs/s per core (all runs / all CPU time)\n", "all",
		       all_runs / all_cpu);
	return files ? 0 : EXIT_USAGE;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc >= 2 && !strcmp(argv[1], "sched"))
		return cmd_sched(argc - 1, argv + 1);
	if (argc >= 2 && (!strcmp(argv[1], "replay") || !strcmp(argv[1], "run")))
		return cmd_replay(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "minimize"))
		return cmd_minimize(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "report"))
		return cmd_report(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "bench"))
		return cmd_bench(argc - 1, argv + 1);
	fprintf(stderr, "usage: vmtorture-sched sched|replay|minimize|report|bench ...  (vmtorture sched --help)\n");
	return EXIT_USAGE;
}
