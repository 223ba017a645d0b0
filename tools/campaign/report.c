/* SPDX-License-Identifier: MIT */
/*
 * report.c - `vmtorture report FILE`: one Markdown page per bug, for a
 * colleague who has the tree but not the campaign: the title, the
 * minimized program as text, the first place core and model disagree
 * (with the per-op trace up to it), the sanitizer stack if any, how often
 * it reproduces, and the one command that replays it.
 *
 * A multi-thread program (threads or a schedule: the sched engine's
 * findings) gets its own page instead (mt_rows, mt_sections): the
 * minimized program one column per thread in execution order, where the
 * oracle fired and what the model expected, the preemptions the bug
 * needs, and `vmtorture replay` of it, which takes the same decisions
 * every run; the sequential sections (the per-op trace of one thread)
 * do not apply to it.
 *
 * FILE is a finding (bytes or text form), a stress finding record, or a
 * campaign signature directory (triage/<id>/ with signature, count,
 * oracle, first and, once minimized, min and min.txt); for a directory
 * it also writes checks and verdict (see write_verdict). Exit status: 0
 * reproduced, 1 not, 2 could not run.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "campaign.h"
#include "../op/op.h"

bool vmt_is_stress_record(const uint8_t *buf, size_t n);
int vmt_stress_measure(const struct vmt_cenv *e, const char *file, int runs, char *sig,
		       size_t n, char **cmdline, char **out);

static char *slurp_str(const char *dir, const char *name)
{
	char *p = vmt_strf("%s/%s", dir, name);
	size_t n;
	char *s = (char *)vmt_read_file(p, &n);

	free(p);
	if (s)
		while (n && (s[n - 1] == '\n' || s[n - 1] == ' '))
			s[--n] = 0;
	return s;
}

static bool exists(const char *p)
{
	struct stat st;

	return !stat(p, &st);
}

/* Print at most @max lines of @s, fenced. */
static void fenced(FILE *f, const char *lang, const char *s, int max)
{
	int lines = 0;

	fprintf(f, "```%s\n", lang);
	while (*s && lines < max) {
		const char *nl = strchr(s, '\n');
		size_t len = nl ? (size_t)(nl - s) : strlen(s);

		fprintf(f, "%.*s\n", (int)len, s);
		lines++;
		s += len + (nl ? 1 : 0);
	}
	if (*s)
		fprintf(f, "... (cut)\n");
	fprintf(f, "```\n\n");
}

/* The lines of @out that a reader needs for a divergence: from the
 * signature on, without the engine's banners. */
static const char *from_key(const char *out, const char *key)
{
	const char *h = strstr(out, key);

	if (!h)
		return NULL;
	while (h > out && h[-1] != '\n')
		h--;
	return h;
}

/* @buf as a program: the text form if it parses, else the bytes. */
static void prog_of(const uint8_t *buf, size_t n, struct vmt_prog *p)
{
	int line;
	char err[128];

	if (memchr(buf, 0, n) ||
	    vmt_parse((const char *)buf, p, &line, err, sizeof(err)))
		vmt_decode(buf, n, p);
}

/* The sizes of a sequential finding, from the minimizer's OUT.txt. */
static void seq_rows(FILE *f, const char *mintxt, const uint8_t *buf, size_t n)
{
	struct vmt_prog *p = malloc(sizeof(*p));
	char *t = NULL, *b, *a;
	size_t tn;

	if (!p)
		return;
	if (mintxt)
		t = (char *)vmt_read_file(mintxt, &tn);
	if (t && (b = strstr(t, "# before: "))) {
		fprintf(f, "| size before minimization | %.*s |\n",
			(int)strcspn(b + 10, "\n"), b + 10);
		a = strstr(t, "# after bytes");
		if (a && (a = strchr(a, ':')))
			fprintf(f, "| size after minimization | %.*s |\n",
				(int)strcspn(a + 2, "\n"), a + 2);
	} else {
		vmt_decode(buf, n, p);
		fprintf(f, "| size | %u ops, %zu bytes (not minimized) |\n",
			p->n, n);
	}
	free(t);
	free(p);
}

/* The value of KEY= in @kv (key=value lines), or "?". */
static const char *kv_get(const char *kv, const char *key, char *val, size_t n)
{
	size_t kl = strlen(key);

	for (const char *l = kv; l && *l;
	     l = strchr(l, '\n'), l = l ? l + 1 : NULL) {
		if (!strncmp(l, key, kl) && l[kl] == '=') {
			snprintf(val, n, "%.*s", (int)strcspn(l + kl + 1, "\n"),
				 l + kl + 1);
			return val;
		}
	}
	snprintf(val, n, "?");
	return val;
}

/* The start of a size row of the minimized page: threads, ops, @what(s)
 * and bytes, from the verdict's keys under @pfx. */
static void size_row(FILE *f, const char *v, const char *when, const char *pfx,
		     const char *what)
{
	char key[4][40], val[4][64];
	const char *name[4] = { "threads", "ops", what, "bytes" };

	for (int i = 0; i < 4; i++) {
		snprintf(key[i], sizeof(key[i]), "%s%s%s", pfx, name[i],
			 i == 2 ? "s" : "");
		kv_get(v, key[i], val[i], sizeof(val[i]));
	}
	fprintf(f,
		"| size %s minimization | %s thread(s), %s op(s), %s %s(s), %s bytes",
		when, val[0], val[1], val[2], what, val[3]);
}

/*
 * The rows of a multi-thread finding: threads, preemptions, sizes; from
 * the joint minimizer's OUT.verdict (@verdict) if it ran, else from the
 * program @p as found. The program's threads are its columns; the core's
 * workers (the reclaimer) run beside them and may take a preemption.
 */
static void mt_rows(FILE *f, const char *verdict, const struct vmt_prog *p,
		    size_t bytes)
{
	size_t vn;
	char *v = verdict ? (char *)vmt_read_file(verdict, &vn) : NULL;
	char a[64], b[64];

	if (!v) {
		fprintf(f,
			"| threads | %u program thread(s), the core's workers beside them |\n",
			vmt_prog_threads(p));
		fprintf(f,
			"| preemptions | %u in its schedule (not minimized: the bug may need "
			"fewer) |\n",
			p->nsched);
		fprintf(f, "| size | %u ops, %zu bytes (not minimized) |\n",
			p->n, bytes);
		return;
	}
	fprintf(f,
		"| threads | %s program thread(s); %s threads run, with the core's workers |\n",
		kv_get(v, "threads", a, sizeof(a)),
		kv_get(v, "threads_run", b, sizeof(b)));
	fprintf(f, "| preemptions | the bug needs %s%s |\n",
		kv_get(v, "preemptions", a, sizeof(a)),
		!strcmp(kv_get(v, "minimal", b, sizeof(b)), "1") ?
			" (1-minimal: none of them, no "
			"thread, op or fault can go)" :
			" (the minimization budget ran out before 1-minimal)");
	size_row(f, v, "before", "before_", "preemption");
	fprintf(f, " |\n");
	size_row(f, v, "after", "", "fault");
	fprintf(f, " (%s CPU s) |\n", kv_get(v, "cpu_seconds", a, sizeof(a)));
	free(v);
}

/*
 * The body of a multi-thread finding's page: the one command that
 * replays @prog (the minimized text form if there is one) with the same
 * decisions, the interleaving one column per thread (`vmtorture-sched
 * report`, the controlled build beside this binary), and a sanitizer's
 * stack if its oracle was the ASan build.
 */
static void mt_sections(FILE *f, const struct vmt_cenv *e, const char *prog,
			const char *file, enum vmt_obuild oracle,
			const char *out_one)
{
	char *sched = vmt_beside_self("vmtorture-sched"), *cmd, *san;
	struct vmt_run r;

	/* vmtorture-sched, not `vmtorture replay`: a minimum of one thread
	 * without a schedule would go to the sequential build there. */
	cmd = vmt_strf("%s replay %s", sched ? sched : "vmtorture-sched", prog);
	fprintf(f,
		"\n## Replay\n\nThe same decisions every run, on the controlled build "
		"(`vmtorture replay` of a multi-thread program runs it; this replays twice "
		"and compares, `--repeat N`: N times):\n\n");
	fenced(f, "sh", cmd, 4);
	free(cmd);
	if (oracle == VMT_ORACLE_ASAN)
		fprintf(f,
			"The sanitizer build that titled it: `%s/vmt-mt-libfuzzer %s`.\n\n",
			e->fz, file);
	if (sched && !access(sched, X_OK)) {
		char *av[] = { sched, (char *)"report", (char *)"--no-replay",
			       (char *)prog, NULL };

		if (!vmt_run_capture(av, e->timeout, &r) && !r.timed_out &&
		    strstr(r.out, "| decisions |"))
			fprintf(f, "%s\n", r.out);
		else
			fprintf(f,
				"## The interleaving\n\n`%s report %s` failed:\n\n```\n%.2000s\n```\n\n",
				sched, prog, r.out ? r.out : "");
		vmt_run_free(&r);
	} else {
		fprintf(f,
			"## The interleaving\n\nNot shown: %s is not built (make).\n\n",
			sched ? sched : "vmtorture-sched");
	}
	free(sched);
	san = out_one ? vmt_sanitizer_stack(out_one) : NULL;
	if (san) {
		fprintf(f, "## Sanitizer report\n\n");
		fenced(f, "", san, 80);
		free(san);
	}
}

/* The oracle row of the page. */
static const char *oracle_name(bool stress, bool mt, enum vmt_obuild o)
{
	if (stress)
		return "stress (vmtorture stress)";
	if (o == VMT_ORACLE_REPLAY)
		return mt ? "the multi-thread target's replay build (`vmt-mt-replay`: the "
			    "controlled scheduler, core vs model)" :
			    "replay build (`vmt-replay`, core vs model)";
	if (o == VMT_ORACLE_ASAN)
		return mt ? "the multi-thread target's ASan+UBSan build (`vmt-mt-libfuzzer`)" :
			    "ASan+UBSan build (`vmt-libfuzzer`)";
	return "none reproduced it";
}

static void usage(void)
{
	fprintf(stderr,
		"usage: vmtorture report [--fz DIR] [--runs N] [--oracle replay|asan] [-o OUT.md] FILE|DIR\n"
		"  Markdown report of one finding (stdout without -o). DIR is a campaign\n"
		"  signature directory (OUT/triage/<id>/).\n");
}

struct checks {
	FILE *f;
	char first[VMT_SIG_MAX];
};

static void add_check(void *arg, const char *sig)
{
	struct checks *c = arg;

	if (strcmp(sig, c->first))
		fprintf(c->f, "%s\n", sig);
}

/*
 * DIR/checks: the title of every check the reproducing run @out failed
 * (verdict.c reads it), the one nearest the cause first (vmt_sig_cause:
 * a stress run's grace violation before its crash, however they were
 * printed; a race before the oracle that failed after it), then the
 * others in the order they were printed; empty if no run reproduced the
 * finding.
 */
static void write_checks(const char *dir, const char *out)
{
	char *p = vmt_strf("%s/checks", dir), *buf = NULL;
	size_t n = 0;
	struct checks c = { open_memstream(&buf, &n), "" };

	if (c.f) {
		if (out && vmt_sig_cause(out, c.first, sizeof(c.first))) {
			fprintf(c.f, "%s\n", c.first);
			vmt_sig_each(out, add_check, &c);
		}
		fclose(c.f);
		if (vmt_write_file(p, buf, n))
			fprintf(stderr, "report: cannot write %s\n", p);
	}
	free(buf);
	free(p);
}

/*
 * DIR/verdict, what the campaign decides on (the Markdown is for
 * people), in the key=value lines of the minimizer's OUT.verdict:
 * title=, hits= (the runs that reproduced the title) and runs=.
 * `vmtorture verdict` adds role=, cause= and why= later; a new report
 * starts the file afresh, since those follow from its replays.
 */
static int write_verdict(const char *dir, const char *sig, int hits, int runs)
{
	char *p = vmt_strf("%s/verdict", dir);
	char *v = vmt_strf("title=%s\nhits=%d\nruns=%d\n", sig, hits, runs);
	int rc = vmt_write_file(p, v, strlen(v));

	if (rc)
		fprintf(stderr, "report: cannot write %s\n", p);
	free(v);
	free(p);
	return rc;
}

/* What the report knows about one finding: where it came from (the
 * triage directory's files), the program, and what its replays gave. */
struct report {
	const char *arg; /* FILE or DIR as given */
	bool is_dir, stress, mt;
	char *dir_sig, *count, *first; /* the triage directory's files */
	char *file, *mintxt;	       /* the finding and its text form */
	char absfile[PATH_MAX];
	uint8_t *buf;
	size_t n;
	struct vmt_prog *prog;
	enum vmt_obuild oracle;
	int runs, hits;
	char sig[VMT_SIG_MAX], id[17];
	char *out_one, *cmdline, *trace; /* one failing run's output */
};

static void report_free(struct report *r)
{
	free(r->prog);
	free(r->buf);
	free(r->dir_sig);
	free(r->count);
	free(r->first);
	free(r->file);
	free(r->mintxt);
	free(r->out_one);
	free(r->cmdline);
	free(r->trace);
}

/* The finding to report on: FILE itself, or the smallest finding in a
 * triage directory (the stress record, else the minimized program,
 * else the first input). Returns 0, or 2 after saying why not. */
static int report_locate(struct report *r)
{
	const char *arg = r->arg;
	struct stat st;

	if (stat(arg, &st)) {
		fprintf(stderr, "report: %s: %s\n", arg, strerror(errno));
		return 2;
	}
	r->is_dir = S_ISDIR(st.st_mode);
	if (r->is_dir) {
		char *p;

		r->dir_sig = slurp_str(arg, "signature");
		r->count = slurp_str(arg, "count");
		r->first = slurp_str(arg, "first-seen");
		char *o = slurp_str(arg, "oracle");
		bool srec = o && !strcmp(o, "stress");

		if (!r->oracle)
			r->oracle = vmt_oracle_parse(o);
		free(o);
		p = vmt_strf("%s/min", arg);
		if (srec) {
			free(p);
			r->file = vmt_strf("%s/stress.rec", arg);
		} else if (exists(p)) {
			r->file = p;
			r->mintxt = vmt_strf("%s/min.txt", arg);
		} else {
			free(p);
			r->file = vmt_strf("%s/first", arg);
		}
		if (!exists(r->file)) {
			fprintf(stderr, "report: %s: no finding in this directory\n", arg);
			return 2;
		}
	} else {
		r->file = strdup(arg);
		char *p = vmt_strf("%s.txt", arg);

		if (exists(p))
			r->mintxt = p;
		else
			free(p);
	}
	return 0;
}

/* Read the finding and tell its kind: a stress record, a multi-thread
 * program, or a sequential one. Returns 0, or 2 after saying why not. */
static int report_load(struct report *r)
{
	if (!realpath(r->file, r->absfile))
		snprintf(r->absfile, sizeof(r->absfile), "%s", r->file);

	r->buf = vmt_read_file(r->file, &r->n);
	if (!r->buf) {
		fprintf(stderr, "report: %s: %s\n", r->file, strerror(errno));
		return 2;
	}
	r->stress = vmt_is_stress_record(r->buf, r->n);
	if (!r->stress && (r->prog = malloc(sizeof(*r->prog)))) {
		prog_of(r->buf, r->n, r->prog);
		r->mt = vmt_prog_is_mt(r->prog);
	}
	/* The joint minimizer may shrink a multi-thread finding to one
	 * thread without a schedule (a bug one thread reaches on the
	 * controlled build): it stays a finding of that build. */
	if (!r->stress && !r->mt && r->mintxt) {
		char *v = vmt_strf("%s.verdict", r->file);

		r->mt = exists(v);
		free(v);
	}
	return 0;
}

/* Replay a program finding r->runs times on its oracle: the title, the
 * hits, one failing run's output, and the per-op trace. */
static int report_replay(const struct vmt_cenv *e, struct report *r)
{
	const char *file = r->file;

	if (!r->oracle) {
		if (vmt_classify(e, file, r->sig, sizeof(r->sig), &r->oracle) <
		    0) {
			fprintf(stderr,
				"report: %s: cannot run the oracles (built?)\n",
				file);
			return 2;
		}
	}
	for (int i = 0; i < r->runs && r->oracle; i++) {
		struct vmt_run run;
		char s[VMT_SIG_MAX];

		if (vmt_oracle_run(e, r->oracle, file, s, sizeof(s), &run) < 0)
			break;
		if (s[0] && (!r->sig[0] || !strcmp(s, r->sig))) {
			if (!r->sig[0])
				snprintf(r->sig, sizeof(r->sig), "%s", s);
			r->hits++;
			if (!r->out_one) {
				r->out_one = run.out;
				run.out = NULL;
			}
		}
		vmt_run_free(&run);
	}
	/* The per-op trace (core and model side by side) from the CLI;
	 * a multi-thread finding has its thread columns instead. */
	if (!r->mt && access(e->cli, X_OK) == 0) {
		char *av[] = { (char *)e->cli, (char *)"replay", (char *)"-v",
			       (char *)file, NULL };
		struct vmt_run run;

		if (!vmt_run_capture(av, e->timeout, &run)) {
			r->trace = run.out;
			run.out = NULL;
		}
	}
	return 0;
}

/* Reproduce: the title, the rate, and the output of one failing run;
 * then the id the report goes by. Returns 0, or 2 after saying why not. */
static int report_reproduce(const struct vmt_cenv *e, struct report *r)
{
	if (r->stress) {
		r->hits = vmt_stress_measure(e, r->file, r->runs, r->sig,
					     sizeof(r->sig), &r->cmdline,
					     &r->out_one);
		if (r->hits < 0) {
			fprintf(stderr, "report: %s: bad stress record\n",
				r->file);
			return 2;
		}
	} else if (report_replay(e, r)) {
		return 2;
	}
	if (!r->sig[0] && r->dir_sig)
		snprintf(r->sig, sizeof(r->sig), "%s", r->dir_sig);
	if (!r->sig[0])
		r->hits = 0;
	vmt_sig_id(r->dir_sig ? r->dir_sig : r->sig, r->id);
	if (r->is_dir) {
		/* The directory's name is the id the campaign filed it under. */
		char tmp[PATH_MAX], *b;

		snprintf(tmp, sizeof(tmp), "%s", r->arg);
		while (strlen(tmp) > 1 && tmp[strlen(tmp) - 1] == '/')
			tmp[strlen(tmp) - 1] = 0;
		b = strrchr(tmp, '/');
		snprintf(r->id, sizeof(r->id), "%.16s", b ? b + 1 : tmp);
	}
	return 0;
}

/* The page's head: the title and the table of facts. */
static void print_head(FILE *f, const struct report *r)
{
	fprintf(f, "# %s\n\n", r->sig[0] ? r->sig : "(does not reproduce)");
	fprintf(f, "| | |\n|---|---|\n");
	fprintf(f, "| signature id | `%s` |\n", r->id);
	if (r->dir_sig && strcmp(r->dir_sig, r->sig))
		fprintf(f, "| signature at triage | %s |\n", r->dir_sig);
	fprintf(f, "| oracle | %s |\n",
		oracle_name(r->stress, r->mt, r->oracle));
	if (r->count)
		fprintf(f, "| seen | %s time(s) in the campaign |\n", r->count);
	if (r->first)
		fprintf(f, "| first seen | %s |\n", r->first);
	fprintf(f, "| reproduces | %d/%d runs |\n", r->hits, r->runs);
}

/* The rest of a multi-thread finding's page. */
static void print_mt(FILE *f, const struct vmt_cenv *e, const struct report *r)
{
	char *v = r->mintxt ? vmt_strf("%s.verdict", r->file) : NULL;
	char prog_abs[PATH_MAX];

	mt_rows(f, v, r->prog, r->n);
	free(v);
	if (!r->mintxt || !realpath(r->mintxt, prog_abs))
		snprintf(prog_abs, sizeof(prog_abs), "%s", r->absfile);
	mt_sections(f, e, prog_abs, r->absfile, r->oracle, r->out_one);
}

/* How to replay it, and the program in its text form. */
static void print_replay(FILE *f, const struct vmt_cenv *e,
			 const struct report *r)
{
	if (!r->stress)
		seq_rows(f, r->mintxt, r->buf, r->n);
	fprintf(f, "\n## Replay\n\n");
	if (r->stress) {
		fenced(f, "sh", r->cmdline ? r->cmdline : "", 4);
		return;
	}
	char *cmd = vmt_strf("%s/%s %s", e->fz,
			     r->oracle == VMT_ORACLE_ASAN ? "vmt-libfuzzer" :
							    "vmt-replay",
			     r->absfile);
	fenced(f, "sh", cmd, 4);
	free(cmd);
	fprintf(f,
		"The same program with the per-op trace: `%s replay -v %s`.\n\n",
		e->cli, r->absfile);

	char *txt;
	size_t tl;
	FILE *m = r->prog ? open_memstream(&txt, &tl) : NULL;

	if (m) {
		vmt_print_prog(m, r->prog, -1, NULL, NULL);
		fclose(m);
		fprintf(f, "## Program (text form, %u ops)\n\n", r->prog->n);
		fenced(f, "", txt, 300);
		free(txt);
	}
}

/* What one failing run printed: the divergence, the trace's tail, the
 * sanitizer stack, the stress output. */
static void print_output(FILE *f, const struct report *r)
{
	const char *out_one = r->out_one;

	if (!out_one) {
		fprintf(f,
			"## Output\n\nNo run reproduced the finding (%d tried). "
			"It may depend on timing; see the campaign logs.\n\n",
			r->runs);
		return;
	}
	const char *d = from_key(out_one, "DIVERGENCE");
	char *san = vmt_sanitizer_stack(out_one);

	if (d && !r->stress) {
		fprintf(f, "## First divergence (core vs model)\n\n");
		fenced(f, "", d, 60);
	}
	if (r->trace && !r->stress) {
		const char *t = r->trace;
		int lines = 0;

		for (const char *q = r->trace; *q; q++)
			lines += *q == '\n';
		/* The tail: the ops leading up to the divergence. */
		for (int skip = lines > 40 ? lines - 40 : 0; skip > 0 && *t;
		     t++)
			if (*t == '\n')
				skip--;
		fprintf(f, "## Trace (`vmtorture replay -v`, last lines)\n\n");
		fenced(f, "", t, 40);
	}
	if (san) {
		fprintf(f, "## Sanitizer report\n\n");
		fenced(f, "", san, 80);
		free(san);
	}
	if (r->stress) {
		const char *v = from_key(out_one, "VIOLATION");

		fprintf(f, "## Stress output\n\n");
		fenced(f, "", v ? v : out_one, 60);
	}
}

/* The Markdown page, for people; the campaign reads DIR/verdict. */
static void print_report(FILE *f, const struct vmt_cenv *e,
			 const struct report *r)
{
	print_head(f, r);
	if (r->mt) {
		print_mt(f, e, r);
		return;
	}
	print_replay(f, e, r);
	print_output(f, r);
}

int vmt_cmd_report(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "fz", required_argument, 0, 'f' },
		{ "runs", required_argument, 0, 'r' },
		{ "oracle", required_argument, 0, 'O' },
		{ "help", no_argument, 0, 'h' },
		{ 0, 0, 0, 0 },
	};
	struct vmt_cenv e;
	struct report r = { .runs = 10, .oracle = VMT_ORACLE_NONE };
	const char *outpath = NULL;
	int c, vrc = 0;
	FILE *f;

	vmt_cenv_init(&e);
	optind = 1;
	while ((c = getopt_long(argc, argv, "o:h", lo, NULL)) != -1) {
		switch (c) {
		case 'f':
			e.fz = optarg;
			break;
		case 'r':
			r.runs = atoi(optarg);
			break;
		case 'O':
			r.oracle = vmt_oracle_parse(optarg);
			if (r.oracle == VMT_ORACLE_NONE) {
				fprintf(stderr, "report: unknown oracle '%s'\n",
					optarg);
				return 2;
			}
			break;
		case 'o':
			outpath = optarg;
			break;
		case 'h':
			usage();
			return 0;
		default:
			usage();
			return 2;
		}
	}
	if (optind != argc - 1 || r.runs < 1 || r.runs > 10000) {
		usage();
		return 2;
	}
	r.arg = argv[optind];
	if (report_locate(&r) || report_load(&r) || report_reproduce(&e, &r)) {
		report_free(&r);
		return 2;
	}
	if (r.is_dir) {
		write_checks(r.arg, r.out_one);
		vrc = write_verdict(r.arg, r.sig, r.hits, r.runs);
	}
	f = outpath ? fopen(outpath, "w") : stdout;
	if (!f) {
		fprintf(stderr, "report: cannot write %s: %s\n", outpath,
			strerror(errno));
		report_free(&r);
		return 2;
	}
	print_report(f, &e, &r);
	if (f != stdout)
		fclose(f);
	report_free(&r);
	return vrc ? 2 : r.hits ? 0 : 1;
}
