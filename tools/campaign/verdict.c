/* SPDX-License-Identifier: MIT */
/*
 * verdict.c - `vmtorture verdict DIR`: cause over consequence across the
 * findings of one campaign.
 *
 * One bug often shows as several titles: a freed frame read by a reader,
 * then a crash where the damage lands, then a tree unlike the model. The
 * report of each finding replays it and keeps, in triage/<id>/checks,
 * every check that replay failed, in the order it failed them (the
 * localized first differing state of a program comes first, see
 * vmt_localize); a blank line starts another replay (the campaign adds a
 * TSan replay of a stress crash). Two findings are one when
 *   - one's replay fails the other's check before its own, or without
 *     its own (the earlier check is nearer the cause), or
 *   - a replay of each fails the same check first, which is neither's
 *     title (the same first differing state, the same race);
 * the later one is then a symptom, listed under the earlier cause. The
 * decision goes into triage/<id>/verdict as key=value lines, "role=cause"
 * or "role=symptom", "cause=<id>" and "why=<why>", below what `vmtorture
 * report` wrote there (title=, hits=, runs=; kept as they are). The
 * campaign, the summary and the bugcheck read this file, never the
 * Markdown report.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "campaign.h"

#define MAX_FINDINGS	256
#define MAX_CHECKS	16

struct finding {
	char id[32];
	char sig[VMT_SIG_MAX];
	long count;
	int nchecks;
	char checks[MAX_CHECKS][VMT_SIG_MAX];
	int run[MAX_CHECKS];	/* the replay each check is from */
	int cause;		/* index of the finding it is a symptom of, or -1 */
	char why[VMT_SIG_MAX + 64];
};

static char *slurp(const char *dir, const char *id, const char *name)
{
	char *p = vmt_strf("%s/%s/%s", dir, id, name);
	size_t n;
	char *s = (char *)vmt_read_file(p, &n);

	free(p);
	return s;
}

/* Did its report reproduce finding @id in none of its replays: "hits=0"
 * in its verdict (a report that failed left no verdict: not that). */
static bool unconfirmed(const char *dir, const char *id)
{
	char *s = slurp(dir, id, "verdict");
	bool none = false;

	for (char *rest = s, *line; rest && !none;) {
		line = strsep(&rest, "\n");
		none = !strcmp(line, "hits=0");
	}
	free(s);
	return none;
}

static int load(const char *tdir, struct finding *f, int max)
{
	DIR *d = opendir(tdir);
	struct dirent *e;
	int n = 0;

	if (!d)
		return -errno;
	while ((e = readdir(d)) && n < max) {
		struct finding *x = &f[n];
		char *s, *c, *line;
		int r = 0;

		if (e->d_name[0] == '.' || !strcmp(e->d_name, "unreproduced") ||
		    strlen(e->d_name) >= sizeof(x->id))
			continue;
		s = slurp(tdir, e->d_name, "signature");
		if (!s)
			continue;
		/* Not reported (reproduced by none of its replays): no cause
		 * of anything either. */
		if (unconfirmed(tdir, e->d_name)) {
			free(s);
			continue;
		}
		memset(x, 0, sizeof(*x));
		snprintf(x->id, sizeof(x->id), "%s", e->d_name);
		s[strcspn(s, "\n")] = 0;
		snprintf(x->sig, sizeof(x->sig), "%s", s);
		free(s);
		c = slurp(tdir, e->d_name, "count");
		x->count = c ? atol(c) : 0;
		free(c);
		c = slurp(tdir, e->d_name, "checks");
		/* Lines, a blank one between two replays (strsep keeps it). */
		for (char *rest = c; rest && x->nchecks < MAX_CHECKS;) {
			line = strsep(&rest, "\n");
			if (!*line) {
				r += x->nchecks && x->run[x->nchecks - 1] == r;
				continue;
			}
			x->run[x->nchecks] = r;
			snprintf(x->checks[x->nchecks++], VMT_SIG_MAX, "%s", line);
		}
		free(c);
		x->cause = -1;
		n++;
	}
	closedir(d);
	return n;
}

/* Is every function of race title @a (after "TSAN data race in ", split
 * at " | ", up to " via ") one of race title @b's? */
static bool race_within(const char *a, const char *b)
{
	static const char head[] = "TSAN data race in ";
	char fa[VMT_SIG_MAX], fb[VMT_SIG_MAX], *sa, *sb, *v;

	if (strncmp(a, head, sizeof(head) - 1) || strncmp(b, head, sizeof(head) - 1))
		return false;
	snprintf(fa, sizeof(fa), "%s", a + sizeof(head) - 1);
	snprintf(fb, sizeof(fb), "%s", b + sizeof(head) - 1);
	if ((v = strstr(fa, " via ")))
		*v = 0;
	if ((v = strstr(fb, " via ")))
		*v = 0;
	for (char *ra = fa; (sa = strsep(&ra, "|"));) {
		bool found = false;

		while (*sa == ' ')
			sa++;
		sa[strcspn(sa, " ")] = 0;	/* the function, then " (file) " */
		for (char *p = fb; !found && (sb = strstr(p, sa)); p = sb + 1)
			found = (sb == fb || sb[-1] == ' ') && sb[strlen(sa)] == ' ';
		if (!found)
			return false;
	}
	return true;
}

/*
 * Two checks are one if their titles are, or if both are races and one's
 * functions are all the other's: TSan names the locks an access held only
 * for mutexes it knows (the node locks are atomics), so a function that
 * peeks without its lock races with itself in one replay ("steal") and
 * with the locked side in another ("shard_push | steal"): the function
 * common to both is the one that does not synchronize.
 */
static bool same_check(const char *a, const char *b)
{
	return !strcmp(a, b) || race_within(a, b) || race_within(b, a);
}

/* Where @sig comes in replay @r of @x, or MAX_CHECKS if it does not. */
static int pos_in(const struct finding *x, int r, const char *sig)
{
	for (int i = 0, k = 0; i < x->nchecks; i++) {
		if (x->run[i] != r)
			continue;
		if (same_check(x->checks[i], sig))
			return k;
		k++;
	}
	return MAX_CHECKS;
}

/* A check that a replay of @x and one of @y fail first, the title of
 * neither, or NULL. */
static const char *same_first(const struct finding *x, const struct finding *y)
{
	for (int a = 0; a < x->nchecks; a++) {
		if (a && x->run[a - 1] == x->run[a])
			continue;	/* not the first of its replay */
		if (same_check(x->checks[a], x->sig) || same_check(x->checks[a], y->sig))
			continue;
		for (int b = 0; b < y->nchecks; b++)
			if ((!b || y->run[b - 1] != y->run[b]) && same_check(x->checks[a], y->checks[b]))
				return x->checks[a];
	}
	return NULL;
}

/* Of two findings that are one, the one listed: the more frequent, then
 * the smaller id (a stable choice). */
static bool before(const struct finding *a, const struct finding *b)
{
	return a->count != b->count ? a->count > b->count : strcmp(a->id, b->id) < 0;
}

static void decide(struct finding *f, int n)
{
	for (int i = 0; i < n; i++) {
		struct finding *x = &f[i];
		int runs = x->nchecks ? x->run[x->nchecks - 1] + 1 : 0;

		/* Another finding's check fails first in one of its replays. */
		for (int r = 0; r < runs && x->cause < 0; r++) {
			int own = pos_in(x, r, x->sig), best = MAX_CHECKS;

			for (int j = 0; j < n; j++) {
				int p = pos_in(x, r, f[j].sig);

				if (j != i && p < own && p < best) {
					best = p;
					x->cause = j;
					snprintf(x->why, sizeof(x->why), "its %sreplay fails %s first",
						 r ? "second " : "", f[j].sig);
				}
			}
		}
		if (x->cause >= 0)
			continue;
		/* The same first failed check, the title of neither. */
		for (int j = 0; j < n; j++) {
			const char *c;

			if (j == i || !before(&f[j], x) || !(c = same_first(x, &f[j])))
				continue;
			if (x->cause < 0 || before(&f[j], &f[x->cause])) {
				x->cause = j;
				snprintf(x->why, sizeof(x->why), "replays of both fail %s first", c);
			}
		}
	}
	/* Follow chains to their root; a cycle keeps its most frequent
	 * member as the cause. */
	for (int i = 0; i < n; i++) {
		int c = f[i].cause, steps = 0;

		while (c >= 0 && c != i && steps++ < n)
			c = f[c].cause;
		if (c == i) {
			/* i is on a cycle: the most frequent member leads it. */
			int lead = i;

			for (int k = f[i].cause; k != i; k = f[k].cause)
				if (before(&f[k], &f[lead]))
					lead = k;
			f[lead].cause = -1;
		}
	}
	for (int i = 0; i < n; i++) {
		int c = f[i].cause, steps = 0;

		while (c >= 0 && f[c].cause >= 0 && steps++ < n)
			c = f[c].cause;
		f[i].cause = c;
	}
}

/* The lines of verdict file @p that this command does not write (the
 * report's), or "". */
static char *report_lines(const char *p)
{
	static const char *const ours[] = { "role=", "cause=", "why=" };
	size_t n;
	char *s = (char *)vmt_read_file(p, &n), *keep = vmt_strf("%s", ""), *l;

	for (char *rest = s; rest;) {
		bool mine = false;
		char *k;

		l = strsep(&rest, "\n");
		for (size_t i = 0; i < sizeof(ours) / sizeof(ours[0]); i++)
			mine |= !strncmp(l, ours[i], strlen(ours[i]));
		if (!*l || mine)
			continue;
		k = vmt_strf("%s%s\n", keep, l);
		free(keep);
		keep = k;
	}
	free(s);
	return keep;
}

int vmt_cmd_verdict(int argc, char **argv)
{
	struct finding *f;
	char *tdir;
	int n, rc = 0;

	if (argc != 2 || argv[1][0] == '-') {
		fprintf(argc == 2 && !strcmp(argv[1], "--help") ? stdout :
								  stderr,
			"usage: vmtorture verdict DIR\n"
			"  Cause over consequence across the findings of campaign DIR:\n"
			"  add to DIR/triage/<id>/verdict role=cause, or role=symptom with\n"
			"  cause=<id> and why=, from the checks each finding's replay failed\n"
			"  (triage/<id>/checks).\n");
		return argc == 2 && !strcmp(argv[1], "--help") ? 0 : 2;
	}
	f = calloc(MAX_FINDINGS, sizeof(*f));
	if (!f)
		return 2;
	tdir = vmt_strf("%s/triage", argv[1]);
	n = load(tdir, f, MAX_FINDINGS);
	if (n < 0) {
		fprintf(stderr, "verdict: %s: %s\n", tdir, strerror(-n));
		free(tdir);
		free(f);
		return 2;
	}
	decide(f, n);
	for (int i = 0; i < n; i++) {
		char *p = vmt_strf("%s/%s/verdict", tdir, f[i].id);
		char *keep = report_lines(p);
		char *v = f[i].cause < 0 ?
				  vmt_strf("%srole=cause\n", keep) :
				  vmt_strf("%srole=symptom\ncause=%s\nwhy=%s\n",
					   keep, f[f[i].cause].id, f[i].why);

		free(keep);
		if (vmt_write_file(p, v, strlen(v))) {
			fprintf(stderr, "verdict: cannot write %s\n", p);
			rc = 2;
		} else if (f[i].cause >= 0) {
			printf("verdict: %s (%s) is a symptom of %s (%s): %s\n", f[i].id, f[i].sig,
			       f[f[i].cause].id, f[f[i].cause].sig, f[i].why);
		}
		free(p);
		free(v);
	}
	free(tdir);
	free(f);
	return rc;
}
