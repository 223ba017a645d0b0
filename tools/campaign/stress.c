/* SPDX-License-Identifier: MIT */
/*
 * stress.c - stress findings: a record of the command line that showed a
 * violation, how often it reproduces, and shrinking of that command.
 *
 * A stress violation is not a byte string: it is a run of
 * `vmtorture stress ...` with a seed, a thread count and a duration, and
 * it may reproduce only some of the time. The record keeps the command
 * (one argument per line, so no quoting is needed); minimization lowers
 * the numeric options (threads, ops, seconds, ...) one at a time while
 * the violation still reproduces at no less than half the measured rate
 * of the original (and at least once), the stress analogue of
 * syzkaller's option simplification.
 *
 * Record format (text):
 *   # vmtorture stress finding
 *   signature: ORACLE ...
 *   rate: 3/5
 *   arg: build/vmtorture
 *   arg: stress
 *   arg: --seed
 *   arg: 12345
 *   ...
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "campaign.h"

#define STRESS_MAGIC	"# vmtorture stress finding"
#define MAX_ARGS	64

bool vmt_is_stress_record(const uint8_t *buf, size_t n)
{
	return n >= strlen(STRESS_MAGIC) && !memcmp(buf, STRESS_MAGIC, strlen(STRESS_MAGIC));
}

struct srec {
	char sig[VMT_SIG_MAX];
	char *argv[MAX_ARGS + 1];
	int argc;
};

static void srec_free(struct srec *s)
{
	for (int i = 0; i < s->argc; i++)
		free(s->argv[i]);
	s->argc = 0;
}

/* Records written before the stress driver became `vmtorture stress`
 * name DIR/vmtorture-stress: they run as DIR/vmtorture stress. */
static void old_driver(struct srec *s)
{
	static const char old[] = "vmtorture-stress";
	size_t n = s->argc ? strlen(s->argv[0]) : 0;
	char *cli;

	if (n < strlen(old) || strcmp(s->argv[0] + n - strlen(old), old) ||
	    s->argc >= MAX_ARGS || !(cli = strdup(s->argv[0])))
		return;
	cli[n - strlen("-stress")] = 0;
	free(s->argv[0]);
	memmove(s->argv + 2, s->argv + 1, (size_t)(s->argc - 1) * sizeof(*s->argv));
	s->argv[0] = cli;
	s->argv[1] = strdup("stress");
	s->argc++;
	if (!s->argv[1])
		srec_free(s);
}

int vmt_stress_load(const char *path, struct srec *s)
{
	size_t n;
	char *buf = (char *)vmt_read_file(path, &n), *line, *save = NULL;

	memset(s, 0, sizeof(*s));
	if (!buf)
		return -errno;
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (!strncmp(line, "signature: ", 11))
			snprintf(s->sig, sizeof(s->sig), "%s", line + 11);
		else if (!strncmp(line, "arg: ", 5) && s->argc < MAX_ARGS)
			s->argv[s->argc++] = strdup(line + 5);
	}
	free(buf);
	old_driver(s);
	s->argv[s->argc] = NULL;
	return s->argc ? 0 : -EINVAL;
}

static int srec_write(const char *path, const struct srec *s, int hit, int runs)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return -errno;
	fprintf(f, "%s\nsignature: %s\nrate: %d/%d\n", STRESS_MAGIC, s->sig, hit, runs);
	for (int i = 0; i < s->argc; i++)
		fprintf(f, "arg: %s\n", s->argv[i]);
	return fclose(f) ? -EIO : 0;
}

/* How many of @runs runs show @sig. @keep gets the output of one that did. */
static int measure(const struct vmt_cenv *e, struct srec *s, int runs, char **keep)
{
	int hit = 0, timeout = e->timeout;

	/* A round may take its --seconds and then some (watchdog, checks). */
	for (int i = 0; i + 1 < s->argc; i++)
		if (!strcmp(s->argv[i], "--seconds") && atoi(s->argv[i + 1]) * 2 + 30 > timeout)
			timeout = atoi(s->argv[i + 1]) * 2 + 30;
	for (int i = 0; i < runs; i++) {
		struct vmt_run r;
		char sig[VMT_SIG_MAX];

		if (vmt_run_capture(s->argv, timeout, &r))
			continue;
		if (r.timed_out)
			snprintf(sig, sizeof(sig), "TIMEOUT");
		else if (!vmt_sig_from_output(r.out, sig, sizeof(sig)))
			sig[0] = 0;
		if (sig[0] && !strcmp(sig, s->sig)) {
			hit++;
			if (keep && !*keep) {
				*keep = r.out;
				r.out = NULL;
			}
		}
		vmt_run_free(&r);
	}
	return hit;
}

/* Options worth lowering, in this order (a shorter run makes every later
 * measurement cheaper), and the smallest value that makes sense. */
static const struct {
	const char *opt;
	long min;
} shrinkable[] = {
	{ "--seconds", 1 }, { "--threads", 1 }, { "--accessors", 0 }, { "--prog-bytes", 8 },
	{ "--ops", 1 }, { "--iters", 1 }, { "--noise", 0 },
};

int vmt_stress_minimize(const struct vmt_cenv *e, const char *file, const char *out,
			int runs, double max_secs)
{
	time_t deadline = time(NULL) + (time_t)max_secs;
	struct srec s;
	int hit0, hit, ret;
	char *def_out = NULL;

	if (vmt_stress_load(file, &s) || !s.sig[0]) {
		fprintf(stderr, "minimize: %s: not a valid stress finding record\n", file);
		srec_free(&s);
		return 2;
	}
	hit0 = measure(e, &s, runs, NULL);
	fprintf(stderr, "minimize: %s: %s reproduces %d/%d\n", file, s.sig, hit0, runs);
	if (!hit0) {
		srec_free(&s);
		return 1;
	}
	for (size_t k = 0; k < sizeof(shrinkable) / sizeof(shrinkable[0]); k++) {
		for (int i = 0; i + 1 < s.argc; i++) {
			char *old, *end;
			long v;

			if (strcmp(s.argv[i], shrinkable[k].opt))
				continue;
			v = strtol(s.argv[i + 1], &end, 10);
			if (*end || v <= shrinkable[k].min)
				continue;
			/* Halve while it holds, then step down by one. */
			while (v > shrinkable[k].min && time(NULL) < deadline) {
				long nv = v / 2 >= shrinkable[k].min ? v / 2 : shrinkable[k].min;

				old = s.argv[i + 1];
				s.argv[i + 1] = vmt_strf("%ld", nv);
				hit = measure(e, &s, runs, NULL);
				if (hit && 2 * hit >= hit0) {
					fprintf(stderr, "minimize: %s %ld: %d/%d\n", shrinkable[k].opt, nv,
						hit, runs);
					free(old);
					v = nv;
					continue;
				}
				free(s.argv[i + 1]);
				s.argv[i + 1] = old;
				if (v - 1 >= shrinkable[k].min && nv != v - 1) {
					old = s.argv[i + 1];
					s.argv[i + 1] = vmt_strf("%ld", v - 1);
					hit = measure(e, &s, runs, NULL);
					if (hit && 2 * hit >= hit0) {
						free(old);
						v--;
						continue;
					}
					free(s.argv[i + 1]);
					s.argv[i + 1] = old;
				}
				break;
			}
		}
	}
	hit = measure(e, &s, runs, NULL);
	if (!out)
		out = def_out = vmt_strf("%s.min", file);
	ret = srec_write(out, &s, hit, runs);
	if (ret) {
		fprintf(stderr, "minimize: cannot write %s: %s\n", out, strerror(-ret));
	} else {
		printf("minimize: %s: rate %d/%d -> %d/%d with:", s.sig, hit0, runs, hit, runs);
		for (int i = 1; i < s.argc; i++)
			printf(" %s", s.argv[i]);
		printf("; wrote %s\n", out);
	}
	free(def_out);
	srec_free(&s);
	return ret ? 2 : 0;
}

/* For report.c: measured rate and one output of a stress record. */
int vmt_stress_measure(const struct vmt_cenv *e, const char *file, int runs, char *sig,
		       size_t n, char **cmdline, char **out)
{
	struct srec s;
	int hit;
	size_t len = 0;

	if (vmt_stress_load(file, &s))
		return -EINVAL;
	snprintf(sig, n, "%s", s.sig);
	*out = NULL;
	hit = measure(e, &s, runs, out);
	for (int i = 0; i < s.argc; i++)
		len += strlen(s.argv[i]) + 1;
	*cmdline = calloc(1, len + 1);
	for (int i = 0; i < s.argc && *cmdline; i++) {
		strcat(*cmdline, s.argv[i]);
		if (i + 1 < s.argc)
			strcat(*cmdline, " ");
	}
	srec_free(&s);
	return hit;
}
