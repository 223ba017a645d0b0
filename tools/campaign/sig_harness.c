/* SPDX-License-Identifier: MIT */
/*
 * sig_harness.c - titles from the harness's own reports: the executor's
 * "DIVERGENCE ..." lines, the stress oracles' "VIOLATION [oracle] ...",
 * the controlled executor's "MT FINDING: ...", and the core's "invariant
 * broken: ..." (sig.c picks the finding; sig_san.c reads sanitizers).
 * A finding gets the same title whichever engine saw it first.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "sig.h"

/* Copy @s into @out, blanking hex numbers, decimal numbers of 5+ digits
 * and "#N"/"TN" style indexes: they differ between reproductions. */
void sig_normalize(const char *s, char *out, size_t n)
{
	size_t o = 0;

	while (*s && *s != '\n' && o + 4 < n) {
		if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X') &&
		    isxdigit((unsigned char)s[2])) {
			s += 2;
			while (isxdigit((unsigned char)*s))
				s++;
			memcpy(out + o, "0x?", 3);
			o += 3;
			continue;
		}
		if (isdigit((unsigned char)*s) &&
		    (o == 0 || !isalnum((unsigned char)out[o - 1]))) {
			const char *e = s;

			while (isdigit((unsigned char)*e))
				e++;
			if (e - s >= 5 || (o && (out[o - 1] == '#'))) {
				out[o++] = '?';
				s = e;
				continue;
			}
		}
		out[o++] = *s++;
	}
	while (o && isspace((unsigned char)out[o - 1]))
		o--;
	out[o] = 0;
}

/*
 * Titles by root cause rather than by the op that showed it, shared by
 * the sequential executor and the stress oracles:
 *  - libvms accepted what the model refuses, or copied past where the
 *    model stops: the model names the rule it applied ("(model refuses:
 *    RULE)", "(model stops: RULE)"), and a missing check is one finding
 *    whichever op ran into it: "DIVERGENCE rule: RULE";
 *  - a leaf that differs, seen by the sweep, by a query or by the
 *    localized end-of-prefix comparison ("(differs: prop)"): "DIVERGENCE
 *    state: leaf prop differs", whichever op made or showed the difference.
 * The stress accessor oracle checks the model's accessor rule itself and
 * says so by quoting it.
 */
bool sig_root_cause(const char *l, char *sig, size_t n)
{
	size_t len = strcspn(l, "\n");
	const char *p = memmem(l, len, "(model refuses: ", 16), *e;

	/* The checker's self-test (the corrupt op) saw a check not fire, or
	 * a run-time invariant's or the leak oracle's (its kinds for them):
	 * the check it names, as its own finding, not as the check firing. */
	e = memmem(l, len, "CHECK MISSED ", 13);
	if (e) {
		e += 13;
		for (int c = VMS_CHECK_NONE + 1; c < VMS_CHECK__COUNT; c++) {
			const char *name = vms_check_name(c);

			if (vms_check_class(c) != VMS_CLASS_RULE &&
			    !strncmp(e, name, strlen(name))) {
				snprintf(sig, n, "CHECK MISSED %s", name);
				return true;
			}
		}
	}
	if (!p)
		p = memmem(l, len, "(model stops: ", 14);
	if (p) {
		p = strchr(p, ':') + 2;
		e = memrchr(p, ')', len - (size_t)(p - l));
		if (e && e > p) {
			snprintf(sig, n, "DIVERGENCE rule: %.*s", (int)(e - p),
				 p);
			return true;
		}
	}
	p = vms_check_name(VMS_CHECK_ACC_CONFLICT);
	if (memmem(l, len, p, strlen(p))) {
		vmt_check_title(VMS_CHECK_ACC_CONFLICT, 0, sig, n);
		return true;
	}
	/* The core's own invariant checks, by the table's name. */
	p = memmem(l, len, "invariant broken: ", 18);
	if (p) {
		p += 18;
		if (sig_check_in_line(p, len - (size_t)(p - l), sig, n))
			return true;
		snprintf(sig, n, "INVARIANT %.*s", (int)strcspn(p, "(\n"), p);
		len = strlen(sig);
		while (len && sig[len - 1] == ' ')
			sig[--len] = 0;
		return true;
	}
	p = memmem(l, len, "(differs:", 9);
	if (p && (e = memchr(p, ')', len - (size_t)(p - l)))) {
		p += 9;
		while (*p == ' ')
			p++;
		snprintf(sig, n, "DIVERGENCE state: leaf %.*s differ%s",
			 (int)(e - p), p,
			 memchr(p, ' ', (size_t)(e - p)) ? "" : "s");
		return true;
	}
	/* Any other check of the table: the checker's findings, the
	 * comparisons of frames and pool counters with the model, the
	 * concurrency oracles. */
	return sig_check_in_line(l, len, sig, n);
}

/*
 * A divergence has no stack: the libvms call whose answer differed plays
 * the part of the first core frame. So the title is the op, not the
 * values ("DIVERGENCE op#17 map: core=-EINVAL model=0" -> "DIVERGENCE
 * map"): the same bug reached with other operands returns other values.
 * The full-tree sweep of a check op and of the end of a run walks with
 * find_next, query and jump; what it saw is charged to that call, so a
 * find_next bug is one title whether an op or the sweep tripped over it.
 * Other check-time findings (vms_space_check, pool counters, frame
 * contents, leaks) keep their wording up to the first number.
 */
void sig_divergence_title(const char *l, char *sig, size_t n)
{
	char op[48], detail[VMT_SIG_MAX], *d;
	const char *p = l + strlen("DIVERGENCE");
	size_t k = 0;

	while (*p == ' ')
		p++;
	if (!strncmp(p, "op#", 3)) {
		p += 3;
		while (isdigit((unsigned char)*p))
			p++;
	} else if (!strncmp(p, "end ", 4)) {
		p += 4;
	}
	while (*p == ' ')
		p++;
	while (*p && *p != ':' && *p != '\n' && k < sizeof(op) - 1)
		op[k++] = *p++;
	op[k] = 0;
	if (*p == ':')
		p++;
	while (*p == ' ')
		p++;
	if (sig_root_cause(p, sig, n))
		return;
	/* Localized (vmt_localize): the states differ after this op; what
	 * differs is worded as by a check. */
	if (!strncmp(p, "state after the op: ", 20)) {
		p += 20;
		snprintf(op, sizeof(op), "check");
	}
	sig_normalize(p, detail, sizeof(detail));
	if (!strncmp(detail, "MODEL SELF-CHECK", 16)) {
		snprintf(sig, n, "MODEL SELF-CHECK in %s", op);
		return;
	}
	/* The sweep of a check compares each leaf as query reports it. */
	if (!strcmp(op, "check") && !strncmp(detail, "core=[", 6)) {
		snprintf(sig, n, "DIVERGENCE query");
		return;
	}
	if ((d = strstr(detail, "sweep"))) {
		const char *call = strstr(d, "sweep query")  ? "query" :
				   strstr(d, "sweep jump")   ? "jump" :
				   strstr(d, "sweep cursor") ? "cursor_new" :
							       "find_next";

		snprintf(sig, n, "DIVERGENCE %s", call);
		return;
	}
	if (!strcmp(op, "check") || !strcmp(op, "teardown") ||
	    !strcmp(op, "quiesce") || !strstr(detail, "core=")) {
		/* The wording up to the first number, '(' or ':'. */
		detail[strcspn(detail, "0123456789?(:")] = 0;
		k = strlen(detail);
		while (k && (detail[k - 1] == ' ' || detail[k - 1] == '#'))
			detail[--k] = 0;
		snprintf(sig, n, "DIVERGENCE %s%s%s", op, k ? ": " : "",
			 detail);
		return;
	}
	snprintf(sig, n, "DIVERGENCE %s", op);
}

/*
 * A stress violation the table does not name, "VIOLATION [access] 0.012s:
 * writer on stable [0x..) wrote 5 bytes" -> "ORACLE access: writer on stable
 * wrote bytes". The oracle and at most six words of the message, without
 * the tokens that carry numbers, ranges or cursor kinds: which threads,
 * ranges and times vary from run to run.
 */

/* "VIOLATION [oracle] ...": the oracle's name into @oracle (@on bytes);
 * returns where the message starts. */
static const char *oracle_of(const char *h, char *oracle, size_t on)
{
	const char *p = strchr(h, '['), *e;

	if (p && p < h + 32 && (e = strchr(p, ']')) && e - p < (long)on) {
		memcpy(oracle, p + 1, (size_t)(e - p - 1));
		oracle[e - p - 1] = 0;
		return e + 1;
	}
	return h + strcspn(h, " ");
}

/* The title the other engines give the same finding, if there is one. */
static bool same_as_elsewhere(const char *oracle, const char *p, char *sig,
			      size_t n)
{
	/*
	 * The serializability oracle replays each cursor session on the model
	 * in ticket order and compares every answer, "... session op 10:
	 * find_next: core returned 0, model 1": the same check as the
	 * sequential differential oracle, under concurrency. It gets the
	 * same title, so one wrong answer is one report whichever engine
	 * saw it first.
	 */
	if (sig_root_cause(p, sig, n))
		return true;
	if (!strcmp(oracle, "serial")) {
		const char *c = strstr(p, "session op ");

		if (c && (c = strstr(c, ": "))) {
			size_t w;

			c += 2;
			w = strspn(c, "abcdefghijklmnopqrstuvwxyz_");
			if (w && w < 32) {
				snprintf(sig, n, "DIVERGENCE %.*s", (int)w, c);
				return true;
			}
		}
	}
	/*
	 * The quiescent check compares the tree with the model by sweeping
	 * it with find_next, like the sequential executor's sweep, and runs
	 * the same structural checker: same titles as there.
	 */
	if (!strcmp(oracle, "quiesce")) {
		if (strstr(p, "model has leaf") &&
		    strstr(p, "the tree does not")) {
			snprintf(sig, n, "DIVERGENCE find_next");
			return true;
		}
		/* A leaf whose contents differ: what query reports. */
		if (strstr(p, "tree has leaf") && strstr(p, "model has")) {
			snprintf(sig, n, "DIVERGENCE query");
			return true;
		}
	}
	/* The grace oracle sees a frame freed under a reader as a changed
	 * generation, poison, or foreign words, depending on how far the
	 * free and the reuse got: one event, one title. */
	if (!strcmp(oracle, "grace")) {
		sig_grace_title(VMS_CHECK_FREED_READ, sig, n);
		return true;
	}
	return false;
}

/* The message's words into @msg (@mn bytes), at most six, without those
 * that vary from run to run, nor a dangling word at the cut. */
static void message_words(const char *p, char *msg, size_t mn)
{
	size_t o = 0;
	int words = 0;

	/* Skip a time stamp such as "0.012s:". */
	while (*p == ' ')
		p++;
	if (isdigit((unsigned char)*p)) {
		p += strcspn(p, " ");
		while (*p == ' ')
			p++;
	}
	while (*p && *p != '\n' && o < mn - 1) {
		size_t w = strcspn(p, " \n");
		bool num = false;

		/* A parenthesized aside goes as a whole, "(signal 11)" as
		 * much as "(ro)": half of one would leave a lone ")". */
		if (*p == '(') {
			const char *close = memchr(p, ')', strcspn(p, "\n"));

			if (close)
				w = (size_t)(close - p) + 1 +
				    strcspn(close + 1, " \n");
		}
		for (size_t i = 0; i < w; i++)
			num |= isdigit((unsigned char)p[i]) || p[i] == '[' ||
			       p[i] == '(';
		/* Which of the two parties is the reader or the writer (or a
		 * read-only cursor) varies with the interleaving. */
		if (num || (!o && w == 5 && !strncmp(p, "round", 5)) ||
		    (w == 6 &&
		     (!strncmp(p, "reader", 6) || !strncmp(p, "writer", 6)))) {
			p += w;
			while (*p == ' ')
				p++;
			continue;
		}
		if (o + w + 1 >= mn || ++words > 6)
			break;
		if (o)
			msg[o++] = ' ';
		memcpy(msg + o, p, w);
		o += w;
		p += w;
		while (*p == ' ')
			p++;
	}
	/* A dangling "thread" or "at" before the cut says nothing. */
	while (o && strchr(":,= ", msg[o - 1]))
		o--;
	msg[o] = 0;
	for (;;) {
		char *last = strrchr(msg, ' ');

		if (!last ||
		    !(!strcmp(last, " thread") || !strcmp(last, " at") ||
		      !strcmp(last, " of") || !strcmp(last, " frame") ||
		      !strcmp(last, " while") || !strcmp(last, " and")))
			break;
		*last = 0;
	}
	{
		o = strlen(msg);
		while (o && strchr(":,= ", msg[o - 1]))
			msg[--o] = 0;
	}
}

void sig_stress_title(const char *h, char *sig, size_t n)
{
	char oracle[32] = "?", msg[160];
	const char *p = oracle_of(h, oracle, sizeof(oracle));

	if (same_as_elsewhere(oracle, p, sig, n))
		return;
	message_words(p, msg, sizeof(msg));
	snprintf(sig, n, "ORACLE %s: %s", oracle, msg);
}

/*
 * The multi-thread target's finding, at @h (after "MT FINDING: "):
 * verbatim, the title `vmtorture replay` gives the same program; but a
 * check of the table (an invariant, an oracle) by its one title, as every
 * engine names it (older builds called the overlap oracle "MUTEX cursors
 * overlap"), and a divergence as the sequential executor's is titled: the
 * controlled executor's "DIVERGENCE end check: invariant broken: X (in f)"
 * is the fuzzers' and stress's "INVARIANT X", its counts and addresses
 * dropped.
 */
void sig_mt_title(const char *h, char *sig, size_t n)
{
	if (!strncmp(h, "DIVERGENCE ", 11)) {
		sig_divergence_title(h, sig, n);
		return;
	}
	if (strncmp(h, "DEADLOCK", 8) &&
	    sig_check_in_line(h, strcspn(h, "\n"), sig, n))
		return;
	snprintf(sig, n, "%.*s", (int)strcspn(h, "\n"), h);
}
