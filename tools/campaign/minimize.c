/* SPDX-License-Identifier: MIT */
/*
 * minimize.c - `vmtorture minimize FILE`: shrink a finding while its
 * signature stays the same.
 *
 *   1. over ops: delta debugging (drop chunks of ops, halving the chunk
 *      size down to single ops, until no single op can go);
 *   2. over operands: every field of every op toward a simpler value (0,
 *      aligned, halved, the printer's default), accepted only if the op's
 *      text gets shorter or the value smaller, so the loop ends;
 *   3. steps 1-2 again until nothing changes;
 *   4. over bytes: afl-tmin (divergences, on the AFL++ build) or libFuzzer
 *      -minimize_crash (sanitizer findings, on the ASan build), kept only
 *      if the result still has the same signature and is no larger.
 * Every candidate is judged by the oracle that first reproduced the
 * finding, in a child process (see run.c).
 *
 * A stress finding (a file starting "# vmtorture stress finding") goes to
 * stress.c instead.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "campaign.h"
#include "../op/op.h"

int vmt_stress_minimize(const struct vmt_cenv *e, const char *file, const char *out,
			int runs, double max_secs);
bool vmt_is_stress_record(const uint8_t *buf, size_t n);

struct mctx {
	const struct vmt_cenv *e;
	enum vmt_obuild oracle;
	char sig[VMT_SIG_MAX];
	char tmp[64];
	unsigned trials, max_trials;
	double deadline;
	int verbose;
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static uint8_t encbuf[VMT_MAX_ENCODED];

/* Does @p still give the finding's signature? */
static bool still_fails(struct mctx *m, const struct vmt_prog *p)
{
	char sig[VMT_SIG_MAX];
	long n;

	if (m->trials >= m->max_trials || now() > m->deadline)
		return false;
	if (!vmt_prog_valid(p, NULL))
		return false;
	n = vmt_encode(p, encbuf, sizeof(encbuf));
	if (n < 0 || (size_t)n > sizeof(encbuf))
		return false;
	if (vmt_write_file(m->tmp, encbuf, (size_t)n))
		return false;
	m->trials++;
	if (vmt_oracle_run(m->e, m->oracle, m->tmp, sig, sizeof(sig), NULL) != 1)
		return false;
	return !strcmp(sig, m->sig);
}

static struct vmt_prog cand;

/* Step 1: drop chunks of ops, largest chunks first. */
static bool shrink_ops(struct mctx *m, struct vmt_prog *p)
{
	bool changed = false;
	unsigned chunk = p->n / 2 ? p->n / 2 : 1;

	while (p->n > 1 || chunk == 1) {
		bool dropped = false;

		for (unsigned start = 0; start < p->n && p->n > 1;) {
			unsigned k = chunk < p->n - start ? chunk : p->n - start;

			if (k == p->n) {	/* the empty program never fails */
				start += k;
				continue;
			}
			cand.n = 0;
			for (unsigned i = 0; i < p->n; i++)
				if (i < start || i >= start + k)
					cand.ops[cand.n++] = p->ops[i];
			if (still_fails(m, &cand)) {
				*p = cand;
				changed = dropped = true;
				if (m->verbose)
					fprintf(stderr, "minimize: %u ops\n", p->n);
			} else {
				start += k;
			}
		}
		if (chunk == 1 && !dropped)
			break;
		if (!dropped)
			chunk = chunk / 2 ? chunk / 2 : 1;
		if (m->trials >= m->max_trials || now() > m->deadline)
			break;
	}
	return changed;
}

/* Step 2: operands toward simpler values (vmt_op_simpler). */
static bool shrink_operands(struct mctx *m, struct vmt_prog *p)
{
	static struct vmt_op simpler[VMT_MAX_SIMPLER];
	bool changed = false;

	for (unsigned i = 0; i < p->n; i++) {
		unsigned nc = vmt_op_simpler(&p->ops[i], simpler, VMT_MAX_SIMPLER);

		for (unsigned k = 0; k < nc; k++) {
			cand = *p;
			cand.ops[i] = simpler[k];
			if (still_fails(m, &cand)) {
				*p = cand;
				changed = true;
				/* Simpler still, from the new op. */
				nc = vmt_op_simpler(&p->ops[i], simpler, VMT_MAX_SIMPLER);
				k = (unsigned)-1;
			}
		}
	}
	return changed;
}

static bool is_text(const uint8_t *buf, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (buf[i] != '\n' && buf[i] != '\t' && buf[i] != '\r' && (buf[i] < 32 || buf[i] > 126))
			return false;
	return n > 0;
}

/* Load a finding: the text form if it parses as one, else the bytes. */
static int load_prog(const char *path, struct vmt_prog *p, uint8_t **raw, size_t *rawn)
{
	size_t n;
	uint8_t *buf = vmt_read_file(path, &n);

	if (!buf) {
		fprintf(stderr, "minimize: %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (is_text(buf, n)) {
		int line;
		char err[160];

		if (!vmt_parse((const char *)buf, p, &line, err, sizeof(err))) {
			free(buf);
			*raw = NULL;
			*rawn = 0;
			return 0;
		}
	}
	vmt_decode(buf, n, p);
	*raw = buf;
	*rawn = n;
	return 0;
}

static long encode_len(const struct vmt_prog *p)
{
	return vmt_encode(p, encbuf, sizeof(encbuf));
}

/* Step 4: the engines' own byte-level minimizers. */
static void shrink_bytes(struct mctx *m, struct vmt_prog *p, const char *workdir)
{
	char *in = vmt_strf("%s/bytes.in", workdir), *out = vmt_strf("%s/bytes.out", workdir);
	char *bin, *a1 = NULL;
	struct vmt_run r;
	long n = encode_len(p);
	char sig[VMT_SIG_MAX];
	size_t outn;
	uint8_t *ob;

	if (n <= 1 || vmt_write_file(in, encbuf, (size_t)n))
		goto done;
	if (m->oracle == VMT_ORACLE_REPLAY) {
		bin = vmt_strf("%s/vmt-afl", m->e->fz);
		char *argv[] = { (char *)"afl-tmin", (char *)"-i", in, (char *)"-o", out,
				 (char *)"-t", (char *)"10000", (char *)"--", bin, NULL };
		if (access(bin, X_OK)) {
			free(bin);
			goto done;
		}
		setenv("AFL_NO_UI", "1", 1);
		setenv("AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES", "1", 1);
		vmt_run_capture(argv, 120, &r);
		free(bin);
	} else {
		bin = vmt_strf("%s/vmt-libfuzzer", m->e->fz);
		a1 = vmt_strf("-exact_artifact_path=%s", out);
		char *argv[] = { bin, (char *)"-minimize_crash=1", (char *)"-runs=3000",
				 (char *)"-max_total_time=60", a1, in, NULL };
		vmt_run_capture(argv, 120, &r);
		free(bin);
	}
	if (m->verbose)
		fprintf(stderr, "%s\n", r.out);
	vmt_run_free(&r);
	ob = vmt_read_file(out, &outn);
	if (!ob)
		goto done;
	if (outn <= (size_t)n) {
		m->trials++;
		if (vmt_oracle_run(m->e, m->oracle, out, sig, sizeof(sig), NULL) == 1 &&
		    !strcmp(sig, m->sig)) {
			vmt_decode(ob, outn, &cand);
			/* Keep the engine's result only if its canonical form
			 * is no larger: the text form is what people read. */
			if (cand.n <= p->n && encode_len(&cand) <= n)
				*p = cand;
		}
	}
	free(ob);
done:
	unlink(in);
	unlink(out);
	free(in);
	free(out);
	free(a1);
}

static void usage(void)
{
	fprintf(stderr,
		"usage: vmtorture minimize [--fz DIR] [--oracle replay|asan] [--sig TITLE]\n"
		"                          [-o OUT] [--max-trials N] [--max-seconds S]\n"
		"                          [--no-bytes] [--runs N] [-v] FILE\n"
		"  FILE: a finding (bytes or text form) or a stress finding record.\n"
		"  Writes OUT (bytes) and OUT.txt (text form); OUT defaults to FILE.min.\n");
}

/* What minimize did: the program's size before, after the ops and
 * operands steps, and after the bytes step (the program's own n). */
struct min_sizes {
	unsigned n0, n1;
	long b0, b1, b2;
	bool bytes_step;
};

/* What are we keeping? The signature given, or the one the oracle (or
 * classify, without one) gives the program; the canonical encoding must
 * show it too. */
static bool keep_sig(struct mctx *m, const struct vmt_prog *p,
		     const char *given_sig)
{
	if (given_sig) {
		snprintf(m->sig, sizeof(m->sig), "%s", given_sig);
		if (m->oracle == VMT_ORACLE_NONE)
			m->oracle = VMT_ORACLE_REPLAY;
	} else if (m->oracle != VMT_ORACLE_NONE) {
		long n = encode_len(p);

		vmt_write_file(m->tmp, encbuf, (size_t)n);
		if (vmt_oracle_run(m->e, m->oracle, m->tmp, m->sig,
				   sizeof(m->sig), NULL) != 1)
			m->sig[0] = 0;
	} else {
		long n = encode_len(p);

		vmt_write_file(m->tmp, encbuf, (size_t)n);
		if (vmt_classify(m->e, m->tmp, m->sig, sizeof(m->sig),
				 &m->oracle) != 1)
			m->sig[0] = 0;
	}
	return m->sig[0] && still_fails(m, p);
}

/* Steps 1-4 on @p, recording the sizes after each. */
static void shrink(struct mctx *m, struct vmt_prog *p, const char *workdir,
		   struct min_sizes *z)
{
	for (int round = 0; round < 4; round++) {
		bool ch = shrink_ops(m, p);

		ch |= shrink_operands(m, p);
		if (!ch)
			break;
	}
	z->n1 = p->n;
	z->b1 = encode_len(p);

	if (z->bytes_step) {
		static struct vmt_prog before;

		before = *p;
		shrink_bytes(m, p, workdir);
		/* The engine's result is a new program: tidy it the same way. */
		if (!vmt_prog_equal(&before, p)) {
			shrink_ops(m, p);
			shrink_operands(m, p);
		}
	}
	z->b2 = encode_len(p);
}

/* OUT (bytes) and OUT.txt (the text form under a header of what was
 * kept and the sizes). Returns 0, or 2 after saying why not. */
static int write_min(const struct mctx *m, const struct vmt_prog *p,
		     const struct min_sizes *z, const char *out,
		     const char *outtxt, double secs)
{
	FILE *f;

	if (vmt_write_file(out, encbuf, (size_t)z->b2)) {
		fprintf(stderr, "minimize: cannot write %s\n", out);
		return 2;
	}
	f = fopen(outtxt, "w");
	if (!f) {
		fprintf(stderr, "minimize: cannot write %s\n", outtxt);
		return 2;
	}
	fprintf(f, "# signature: %s\n", m->sig);
	fprintf(f, "# oracle: %s\n", vmt_oracle_name(m->oracle));
	fprintf(f, "# before: %u ops, %ld bytes\n", z->n0, z->b0);
	fprintf(f, "# after ops+operands: %u ops, %ld bytes\n", z->n1, z->b1);
	fprintf(f, "# after bytes (%s): %u ops, %ld bytes\n",
		!z->bytes_step		       ? "skipped" :
		m->oracle == VMT_ORACLE_REPLAY ? "afl-tmin" :
						 "libFuzzer -minimize_crash",
		p->n, z->b2);
	fprintf(f, "# trials: %u in %.1f s\n", m->trials, secs);
	vmt_print_prog(f, p, -1, NULL, NULL);
	fclose(f);
	return 0;
}

/* A stress finding record goes to stress.c: its exit status, or -1
 * for a program (2 if @file cannot be read). */
static int minimize_if_stress(const struct vmt_cenv *e, const char *file,
			      const char *out, int runs, double max_secs)
{
	size_t n;
	uint8_t *buf = vmt_read_file(file, &n);

	if (!buf) {
		fprintf(stderr, "minimize: %s: %s\n", file, strerror(errno));
		return 2;
	}
	if (vmt_is_stress_record(buf, n)) {
		free(buf);
		return vmt_stress_minimize(e, file, out, runs, max_secs);
	}
	free(buf);
	return -1;
}

/* Minimize the program in @file (started at @t0) and write OUT and
 * OUT.txt. Returns the command's exit status. */
static int minimize_prog(struct mctx *m, struct min_sizes *z, const char *file,
			 const char *given_sig, const char *out, double t0)
{
	static struct vmt_prog p;
	uint8_t *raw;
	size_t rawn;
	char workdir[] = "/tmp/vmt-minimize.XXXXXX", *outtxt, *def_out = NULL;

	if (load_prog(file, &p, &raw, &rawn))
		return 2;
	if (!mkdtemp(workdir)) {
		fprintf(stderr,
			"minimize: cannot create a work directory: %s\n",
			strerror(errno));
		free(raw);
		return 2;
	}
	snprintf(m->tmp, sizeof(m->tmp), "%s/cand", workdir);

	z->n0 = p.n;
	z->b0 = raw ? (long)rawn : encode_len(&p);
	if (!keep_sig(m, &p, given_sig)) {
		fprintf(stderr, "minimize: %s does not reproduce%s%s\n", file,
			given_sig ? " the signature " : "",
			given_sig ? given_sig : "");
		unlink(m->tmp);
		rmdir(workdir);
		free(raw);
		return 1;
	}
	fprintf(stderr, "minimize: %s: %s (oracle %s), %u ops, %ld bytes\n",
		file, m->sig, vmt_oracle_name(m->oracle), z->n0, z->b0);

	shrink(m, &p, workdir, z);
	if (!out)
		out = def_out = vmt_strf("%s.min", file);
	outtxt = vmt_strf("%s.txt", out);
	if (write_min(m, &p, z, out, outtxt, now() - t0))
		return 2;
	printf("minimize: %s: %u ops/%ld bytes -> %u ops/%ld bytes (%u trials, %.1f s); wrote %s and %s\n",
	       m->sig, z->n0, z->b0, p.n, z->b2, m->trials, now() - t0, out,
	       outtxt);
	unlink(m->tmp);
	rmdir(workdir);
	free(outtxt);
	free(def_out);
	free(raw);
	return 0;
}

int vmt_cmd_minimize(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "fz", required_argument, 0, 'f' },
		{ "oracle", required_argument, 0, 'O' },
		{ "sig", required_argument, 0, 's' },
		{ "max-trials", required_argument, 0, 'T' },
		{ "max-seconds", required_argument, 0, 'S' },
		{ "no-bytes", no_argument, 0, 'B' },
		{ "runs", required_argument, 0, 'r' },
		{ "help", no_argument, 0, 'h' },
		{ 0, 0, 0, 0 },
	};
	struct vmt_cenv e;
	struct mctx m = { 0 };
	struct min_sizes z = { .bytes_step = true };
	const char *out = NULL, *given_sig = NULL;
	int c, rc, runs = 5;
	double t0 = now(), max_secs = 300;

	vmt_cenv_init(&e);
	m.e = &e;
	m.max_trials = 20000;
	optind = 1;
	while ((c = getopt_long(argc, argv, "o:vh", lo, NULL)) != -1) {
		switch (c) {
		case 'f': e.fz = optarg; break;
		case 'O':
			m.oracle = vmt_oracle_parse(optarg);
			if (m.oracle == VMT_ORACLE_NONE) {
				fprintf(stderr, "minimize: unknown oracle '%s' (replay or asan)\n", optarg);
				return 2;
			}
			break;
		case 's': given_sig = optarg; break;
		case 'T': m.max_trials = (unsigned)strtoul(optarg, NULL, 0); break;
		case 'S': max_secs = atof(optarg); break;
		case 'B':
			z.bytes_step = false;
			break;
		case 'r': runs = atoi(optarg); break;
		case 'o': out = optarg; break;
		case 'v': m.verbose = e.verbose = 1; break;
		case 'h': usage(); return 0;
		default: usage(); return 2;
		}
	}
	if (optind != argc - 1) {
		usage();
		return 2;
	}
	if (runs < 1 || max_secs <= 0 || !m.max_trials) {
		fprintf(stderr, "minimize: --runs, --max-seconds and --max-trials must be positive\n");
		return 2;
	}
	m.deadline = t0 + max_secs;
	rc = minimize_if_stress(&e, argv[optind], out, runs, max_secs);
	if (rc >= 0)
		return rc;
	return minimize_prog(&m, &z, argv[optind], given_sig, out, t0);
}
