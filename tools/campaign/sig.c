/* SPDX-License-Identifier: MIT */
/*
 * sig.c - deduplication titles for findings.
 *
 * Every finding of this harness ends in the same few places (the fuzz
 * target's abort(), a stress oracle's report), so the top frames of a
 * stack say nothing about which bug it is. The title is built instead
 * from the oracle kind, the op that was running and the first frame that
 * lies in core/, and numbers that vary between reproductions (addresses,
 * op indexes, thread ids) are blanked.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <vms/check.h>

#include "campaign.h"

/* ---- the table of checks ------------------------------------------------ */

/*
 * Every check of vms/checks.def has one title, whichever engine failed it:
 *   INVARIANT name                 the core's run-time checks
 *   CHECK name[ at level N]        what vms_space_check found
 *   ORACLE oracle: name            the harness's oracles
 *   DIVERGENCE rule: name          the model's rules (root_cause_title)
 */
void vmt_check_title(enum vms_check c, int level, char *sig, size_t n)
{
	switch (vms_check_class(c)) {
	case VMS_CLASS_INVARIANT:
		snprintf(sig, n, "INVARIANT %s", vms_check_name(c));
		break;
	case VMS_CLASS_CHECKER:
		if (level)
			snprintf(sig, n, "CHECK %s at level %d", vms_check_name(c), level);
		else
			snprintf(sig, n, "CHECK %s", vms_check_name(c));
		break;
	case VMS_CLASS_ORACLE:
		snprintf(sig, n, "ORACLE %s: %s", vms_check_oracle(c), vms_check_name(c));
		break;
	case VMS_CLASS_RULE:
		snprintf(sig, n, "DIVERGENCE rule: %s", vms_check_name(c));
		break;
	default:
		snprintf(sig, n, "?");
	}
}

/*
 * The check an engine names in the line at @l (up to @len): the table's
 * name that comes first in it (the longest one where two start at the
 * same place), rules apart (they are quoted, root_cause_title). A
 * checker's " at level N" right after its name is its level.
 */
static bool check_in_line(const char *l, size_t len, char *sig, size_t n)
{
	const char *best = NULL;
	enum vms_check bc = VMS_CHECK_NONE;
	int level = 0;

	for (int c = VMS_CHECK_NONE + 1; c < VMS_CHECK__COUNT; c++) {
		const char *name = vms_check_name(c), *h;

		if (vms_check_class(c) == VMS_CLASS_RULE)
			continue;
		h = memmem(l, len, name, strlen(name));
		if (h && (!best || h < best ||
			  (h == best && strlen(name) > strlen(vms_check_name(bc))))) {
			best = h;
			bc = c;
		}
	}
	if (!best)
		return false;
	best += strlen(vms_check_name(bc));
	if (vms_check_class(bc) == VMS_CLASS_CHECKER && !strncmp(best, " at level ", 10))
		level = atoi(best + 10);
	vmt_check_title(bc, level, sig, n);
	return true;
}

/* The grace oracle's two titles (see stress_title and grace_race). */
static void grace_title(enum vms_check c, char *sig, size_t n)
{
	vmt_check_title(c, 0, sig, n);
}

/* Frames that are the reporting machinery, never the bug. */
static const char *const abort_path[] = {
	"abort", "raise", "__assert", "__GI_", "__libc_", "__sanitizer", "__asan",
	"__tsan", "__ubsan", "__interceptor", "__interception", "fuzzer::",
	"LLVMFuzzerTestOneInput", "vmt_fuzz_one", "report", "oracle_fail",
	"vmt_fail", "vmt_oracle", "die", "pthread_", "start_thread", "clone",
	"main", "_start", "run_file", "run_one", "malloc", "free", "calloc",
	"realloc", "operator",
};

static bool in_abort_path(const char *fn)
{
	for (size_t i = 0; i < sizeof(abort_path) / sizeof(abort_path[0]); i++)
		if (!strncmp(fn, abort_path[i], strlen(abort_path[i])))
			return true;
	return false;
}

struct frame {
	char fn[96];
	char file[160];
};

/*
 * One stack line, either the ASan/UBSan form
 *   "    #3 0x55d1c2 in vms_cursor_map /w/core/src/cursor.c:412:5"
 * or the TSan form
 *   "    #0 vms_node_lock /w/core/src/lock.c:55:3 (vmtorture+0x1234)".
 */
static bool parse_frame(const char *l, struct frame *f)
{
	const char *p = l;
	int k = 0;

	while (*p == ' ' || *p == '\t')
		p++;
	if (*p != '#' || !isdigit((unsigned char)p[1]))
		return false;
	p++;
	while (isdigit((unsigned char)*p))
		p++;
	while (*p == ' ')
		p++;
	if (!strncmp(p, "0x", 2)) {
		while (*p && *p != ' ')
			p++;
		while (*p == ' ')
			p++;
		if (strncmp(p, "in ", 3))
			return false;	/* unsymbolized: "(binary+0x...)" */
		p += 3;
	}
	while (*p && *p != ' ' && *p != '\n' && k < (int)sizeof(f->fn) - 1)
		f->fn[k++] = *p++;
	f->fn[k] = 0;
	/* Parameter lists of C++ frames (libFuzzer's) stay out of the way. */
	while (*p && *p != ' ' && *p != '\n')
		p++;
	while (*p == ' ')
		p++;
	k = 0;
	while (*p && *p != ' ' && *p != '\n' && k < (int)sizeof(f->file) - 1)
		f->file[k++] = *p++;
	f->file[k] = 0;
	return f->fn[0] != 0;
}

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

/* "cursor.c:412:5" -> "cursor.c": line numbers move with every edit. */
static void file_only(const char *path, char *out, size_t n)
{
	const char *b = base_name(path);
	size_t k = strcspn(b, ":");

	if (k >= n)
		k = n - 1;
	memcpy(out, b, k);
	out[k] = 0;
}

/*
 * From the line after a report header, the first core frame and the
 * first harness frame (tools/op, stress/) of the next @stacks stacks.
 */
struct stackinfo {
	struct frame core[2];
	bool locked[2];		/* TSan: the access held a lock ("(mutexes: ...)") */
	int ncore;
	char op[96];
};

static void scan_stacks(const char *p, int stacks, struct stackinfo *si)
{
	bool in_stack = false, core_found = false, locked = false;

	memset(si, 0, sizeof(*si));
	while (*p && stacks > 0) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		char line[512];
		struct frame f;

		if (len >= sizeof(line))
			len = sizeof(line) - 1;
		memcpy(line, p, len);
		line[len] = 0;
		p = nl ? nl + 1 : p + len;
		if (parse_frame(line, &f)) {
			in_stack = true;
			if (in_abort_path(f.fn))
				continue;
			if (!core_found && strstr(f.file, "core/src/") && si->ncore < 2) {
				si->locked[si->ncore] = locked;
				si->core[si->ncore++] = f;
				core_found = true;
			} else if (!si->op[0] && !strstr(f.file, "tools/op/step_") &&
				   (strstr(f.file, "tools/op/") || strstr(f.file, "stress/"))) {
				/* The driver (exec_op, stress's run_op), not the
				 * op's step, which every driver shares. */
				snprintf(si->op, sizeof(si->op), "%s", f.fn);
			}
		} else if (in_stack) {
			/* A stack ends at the first line that is not a frame. */
			in_stack = false;
			core_found = false;
			stacks--;
		}
		/* The line heading a TSan stack says which locks it held. */
		if (!in_stack && strstr(line, " by "))
			locked = strstr(line, "(mutexes:") != NULL;
	}
}

/* Copy @s into @out, blanking hex numbers, decimal numbers of 5+ digits
 * and "#N"/"TN" style indexes: they differ between reproductions. */
static void normalize(const char *s, char *out, size_t n)
{
	size_t o = 0;

	while (*s && *s != '\n' && o + 4 < n) {
		if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X') && isxdigit((unsigned char)s[2])) {
			s += 2;
			while (isxdigit((unsigned char)*s))
				s++;
			memcpy(out + o, "0x?", 3);
			o += 3;
			continue;
		}
		if (isdigit((unsigned char)*s) && (o == 0 || !isalnum((unsigned char)out[o - 1]))) {
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
static bool root_cause_title(const char *l, char *sig, size_t n)
{
	size_t len = strcspn(l, "\n");
	const char *p = memmem(l, len, "(model refuses: ", 16), *e;

	if (!p)
		p = memmem(l, len, "(model stops: ", 14);
	if (p) {
		p = strchr(p, ':') + 2;
		e = memrchr(p, ')', len - (size_t)(p - l));
		if (e && e > p) {
			snprintf(sig, n, "DIVERGENCE rule: %.*s", (int)(e - p), p);
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
		if (check_in_line(p, len - (size_t)(p - l), sig, n))
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
		snprintf(sig, n, "DIVERGENCE state: leaf %.*s differ%s", (int)(e - p), p,
			 memchr(p, ' ', (size_t)(e - p)) ? "" : "s");
		return true;
	}
	/* Any other check of the table: the checker's findings, the
	 * comparisons of frames and pool counters with the model, the
	 * concurrency oracles. */
	return check_in_line(l, len, sig, n);
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
static void divergence_title(const char *l, char *sig, size_t n)
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
	if (root_cause_title(p, sig, n))
		return;
	/* Localized (vmt_localize): the states differ after this op; what
	 * differs is worded as by a check. */
	if (!strncmp(p, "state after the op: ", 20)) {
		p += 20;
		snprintf(op, sizeof(op), "check");
	}
	normalize(p, detail, sizeof(detail));
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
		const char *call = strstr(d, "sweep query") ? "query" :
				   strstr(d, "sweep jump") ? "jump" :
				   strstr(d, "sweep cursor") ? "cursor_new" : "find_next";

		snprintf(sig, n, "DIVERGENCE %s", call);
		return;
	}
	if (!strcmp(op, "check") || !strcmp(op, "teardown") || !strcmp(op, "quiesce") ||
	    !strstr(detail, "core=")) {
		/* The wording up to the first number, '(' or ':'. */
		detail[strcspn(detail, "0123456789?(:")] = 0;
		k = strlen(detail);
		while (k && (detail[k - 1] == ' ' || detail[k - 1] == '#'))
			detail[--k] = 0;
		snprintf(sig, n, "DIVERGENCE %s%s%s", op, k ? ": " : "", detail);
		return;
	}
	snprintf(sig, n, "DIVERGENCE %s", op);
}

/* Does the line starting at @l contain @what? */
static bool strstr_line(const char *l, const char *what)
{
	const char *e = strchr(l, '\n'), *h = strstr(l, what);

	return h && (!e || h < e);
}

/* Start of the line holding @at. */
static const char *line_start(const char *buf, const char *at)
{
	while (at > buf && at[-1] != '\n')
		at--;
	return at;
}

static const char *first_of(const char *out, const char *const *keys, size_t nkeys,
			    size_t *which)
{
	const char *best = NULL;

	for (size_t i = 0; i < nkeys; i++) {
		const char *h = strstr(out, keys[i]);

		/* Harness titles count only at the start of a line. */
		while (h && (!strcmp(keys[i], "DIVERGENCE ") || !strcmp(keys[i], "VIOLATION ")) &&
		       h > out && h[-1] != '\n')
			h = strstr(h + 1, keys[i]);

		if (h && (!best || h < best)) {
			best = h;
			*which = i;
		}
	}
	return best;
}

enum {
	K_ASAN, K_TSAN, K_UBSAN, K_LEAK, K_DIV, K_STRESS, K_STRESS2, K_TIMEOUT,
	K_OOM, K_ASSERT, K_SETUP, K_DEADLY, K_INV, K_SCHED, K_MT, K_NR
};

static const char *const keys[K_NR] = {
	[K_ASAN] = "ERROR: AddressSanitizer: ",
	[K_TSAN] = "WARNING: ThreadSanitizer: ",
	[K_UBSAN] = ": runtime error: ",
	[K_LEAK] = "ERROR: LeakSanitizer: ",
	[K_DIV] = "DIVERGENCE ",
	[K_STRESS] = "VIOLATION ",
	[K_STRESS2] = "ORACLE FAILED",
	[K_TIMEOUT] = "ERROR: libFuzzer: timeout",
	[K_OOM] = "ERROR: libFuzzer: out-of-memory",
	[K_ASSERT] = "Assertion `",
	[K_SETUP] = "SETUP FAILED",
	[K_DEADLY] = "ERROR: libFuzzer: deadly signal",
	/* The core's own report when no engine hooks its checks, and the
	 * controlled scheduler's outcome line. */
	[K_INV] = "invariant broken: ",
	[K_SCHED] = "; violation: ",
	/* The multi-thread target's finding: the controlled executor's
	 * title (already free of tickets and counts), as `vmtorture
	 * replay` prints it. */
	[K_MT] = "MT FINDING: ",
};

/*
 * A stress violation the table does not name, "VIOLATION [access] 0.012s:
 * writer on stable [0x..) wrote 5 bytes" -> "ORACLE access: writer on stable
 * wrote bytes". The oracle and at most six words of the message, without
 * the tokens that carry numbers, ranges or cursor kinds: which threads,
 * ranges and times vary from run to run.
 */
static void stress_title(const char *h, char *sig, size_t n)
{
	char oracle[32] = "?", msg[160];
	const char *p = strchr(h, '['), *e;
	size_t o = 0;
	int words = 0;

	if (p && p < h + 32 && (e = strchr(p, ']')) && e - p < (long)sizeof(oracle)) {
		memcpy(oracle, p + 1, (size_t)(e - p - 1));
		oracle[e - p - 1] = 0;
		p = e + 1;
	} else {
		p = h + strcspn(h, " ");
	}
	/*
	 * The serializability oracle replays each cursor session on the model
	 * in ticket order and compares every answer, "... session op 10:
	 * find_next: core returned 0, model 1": the same check as the
	 * sequential differential oracle, under concurrency. It gets the
	 * same title, so one wrong answer is one report whichever engine
	 * saw it first.
	 */
	if (root_cause_title(p, sig, n))
		return;
	if (!strcmp(oracle, "serial")) {
		const char *c = strstr(p, "session op ");

		if (c && (c = strstr(c, ": "))) {
			size_t w;

			c += 2;
			w = strspn(c, "abcdefghijklmnopqrstuvwxyz_");
			if (w && w < 32) {
				snprintf(sig, n, "DIVERGENCE %.*s", (int)w, c);
				return;
			}
		}
	}
	/*
	 * The quiescent check compares the tree with the model by sweeping
	 * it with find_next, like the sequential executor's sweep, and runs
	 * the same structural checker: same titles as there.
	 */
	if (!strcmp(oracle, "quiesce")) {
		if (strstr(p, "model has leaf") && strstr(p, "the tree does not")) {
			snprintf(sig, n, "DIVERGENCE find_next");
			return;
		}
		/* A leaf whose contents differ: what query reports. */
		if (strstr(p, "tree has leaf") && strstr(p, "model has")) {
			snprintf(sig, n, "DIVERGENCE query");
			return;
		}
	}
	/* The grace oracle sees a frame freed under a reader as a changed
	 * generation, poison, or foreign words, depending on how far the
	 * free and the reuse got: one event, one title. */
	if (!strcmp(oracle, "grace")) {
		grace_title(VMS_CHECK_FREED_READ, sig, n);
		return;
	}
	/* Skip a time stamp such as "0.012s:". */
	while (*p == ' ')
		p++;
	if (isdigit((unsigned char)*p)) {
		p += strcspn(p, " ");
		while (*p == ' ')
			p++;
	}
	while (*p && *p != '\n' && o < sizeof(msg) - 1) {
		size_t w = strcspn(p, " \n");
		bool num = false;

		/* A parenthesized aside goes as a whole, "(signal 11)" as
		 * much as "(ro)": half of one would leave a lone ")". */
		if (*p == '(') {
			const char *close = memchr(p, ')', strcspn(p, "\n"));

			if (close)
				w = (size_t)(close - p) + 1 + strcspn(close + 1, " \n");
		}
		for (size_t i = 0; i < w; i++)
			num |= isdigit((unsigned char)p[i]) || p[i] == '[' || p[i] == '(';
		/* Which of the two parties is the reader or the writer (or a
		 * read-only cursor) varies with the interleaving. */
		if (num || (!o && w == 5 && !strncmp(p, "round", 5)) ||
		    (w == 6 && (!strncmp(p, "reader", 6) || !strncmp(p, "writer", 6)))) {
			p += w;
			while (*p == ' ')
				p++;
			continue;
		}
		if (o + w + 1 >= sizeof(msg) || ++words > 6)
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

		if (!last || !(!strcmp(last, " thread") || !strcmp(last, " at") ||
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
	snprintf(sig, n, "ORACLE %s: %s", oracle, msg);
}

/*
 * TSan sees liburcu's grace periods through the annotations in sync.h, so
 * a race between the pool freeing or reusing memory and a lock-free
 * reader of it can only be memory freed before a grace period: the same
 * finding as the grace oracle's, and titled like it.
 */

static bool in_list(const char *fn, const char *const *list)
{
	for (; *list; list++)
		if (!strcmp(fn, *list))
			return true;
	return false;
}

static bool grace_race(const struct stackinfo *si, char *sig, size_t n)
{
	static const char *const frees[] = {
		"vms_frame_ref_put", "free_4k", "free_2m", "alloc_4k", "alloc_2m",
		"vms_node_free", "vms_node_alloc", "vms_subtree_free", NULL,
	};
	static const char *const frame_readers[] = { "copy_relaxed", NULL };
	static const char *const node_readers[] = {
		"vms_pte_load", "mmu_walk", "mmu_translate", "find_guard", NULL,
	};

	if (si->ncore < 2)
		return false;
	for (int i = 0; i < 2; i++) {
		const char *f = si->core[i].fn, *r = si->core[1 - i].fn;

		if (!in_list(f, frees))
			continue;
		if (in_list(r, frame_readers)) {
			grace_title(VMS_CHECK_FREED_READ, sig, n);
			return true;
		}
		if (in_list(r, node_readers)) {
			grace_title(VMS_CHECK_NODE_FREED, sig, n);
			return true;
		}
	}
	return false;
}

/*
 * The frames a race is titled by. Which access TSan caught second (its
 * first stack) depends on the schedule, so the pair is sorted. Where one
 * access held a lock and the other none, the lockless one is the bug
 * (the locked side is whatever it happened to meet: one title, not one
 * per partner); where both sides are one function, that function.
 */
static void race_blame(struct stackinfo *si)
{
	if (si->ncore != 2)
		return;
	if (si->locked[0] != si->locked[1]) {
		if (si->locked[0])
			si->core[0] = si->core[1];
		si->ncore = 1;
		return;
	}
	if (!strcmp(si->core[0].fn, si->core[1].fn)) {
		si->ncore = 1;
		return;
	}
	if (strcmp(si->core[0].fn, si->core[1].fn) > 0) {
		struct frame t = si->core[0];

		si->core[0] = si->core[1];
		si->core[1] = t;
	}
}

static void with_frames(char *sig, size_t n, const char *head, const struct stackinfo *si)
{
	size_t o = (size_t)snprintf(sig, n, "%s", head);
	char f0[64], f1[64];

	if (o >= n)
		return;
	if (si->ncore) {
		file_only(si->core[0].file, f0, sizeof(f0));
		o += (size_t)snprintf(sig + o, n - o, " in %s (%s)", si->core[0].fn, f0);
	}
	if (o < n && si->ncore > 1) {
		file_only(si->core[1].file, f1, sizeof(f1));
		o += (size_t)snprintf(sig + o, n - o, " | %s (%s)", si->core[1].fn, f1);
	}
	if (o < n && si->op[0])
		snprintf(sig + o, n - o, " via %s", si->op);
}

/* Which finding among several in one output gets the title. */
enum {
	PRIO_ORACLE = 1,	/* a stress oracle over a TSan race before it */
	PRIO_CAUSE = 2,		/* a grace, then a mutex violation over the rest */
};

/* The title of the first finding in @out, or by @prio (PRIO_*) of the
 * one preferred among several. */
static bool sig_from(const char *out, char *sig, size_t n, int prio)
{
	size_t k = 0;
	const char *h = first_of(out, keys, K_NR, &k);
	const char *l, *p;
	char word[96], head[VMT_SIG_MAX];
	struct stackinfo si;
	size_t w = 0;

	if (!h)
		return false;
	if (!prio)
		goto title;
	/*
	 * A stress run under TSan goes on after a race; if an oracle then
	 * fails, its verdict says what the race broke (the same bug reported
	 * by the plain stress engine), while the two stacks of a race vary
	 * with the schedule. So in one run an oracle beats a race report.
	 */
	if (k == K_TSAN && (prio & PRIO_ORACLE)) {
		size_t k2 = 0;
		const char *v = first_of(out, keys + K_STRESS, 2, &k2);

		if (v) {
			h = v;
			k = K_STRESS + k2;
		}
	}
	/*
	 * Among a stress run's violations, a broken guarantee of RCU (memory
	 * used after its grace period: a reader saw a freed frame, a walk or
	 * a lock met a freed node) or of the lock protocol (two cursors
	 * holding overlapping ranges) is nearer the cause than what follows
	 * from it: wrong answers in the replay, a tree unlike the model, a
	 * crash, a hang. A freed node whose lock is still taken lets two
	 * cursors overlap, not the other way round: grace first. Campaign rounds go on for a few violations
	 * (--stop-after) so that the cause gets its chance to show.
	 */
	if (k == K_STRESS && (prio & PRIO_CAUSE)) {
		/* The free itself first, then a freed node (it takes its
		 * frames with it), then any grace or mutex violation. */
		static const char *const causes[] = {
			"VIOLATION [grace]", "VIOLATION [grace]", "VIOLATION [grace]",
			"VIOLATION [mutex]",
		};
		static const char *const needs[] = {
			"freed before a grace period", "page-table node used after", NULL, NULL,
		};

		for (size_t i = 0; i < 4; i++) {
			const char *c = strstr(out, causes[i]);

			while (c && ((c > out && c[-1] != '\n') ||
				     (needs[i] && !strstr_line(c, needs[i]))))
				c = strstr(c + 1, causes[i]);
			if (c) {
				h = c;
				break;
			}
		}
	}
title:
	l = line_start(out, h);
	switch (k) {
	case K_INV:
	case K_SCHED:
		if (!root_cause_title(h, sig, n))
			normalize(h, sig, n);
		return true;
	case K_DIV:
		divergence_title(h, sig, n);
		return true;
	case K_ASAN:
	case K_TSAN:
	case K_LEAK:
		p = h + strlen(keys[k]);
		/* The kind: up to " on", " (" or the end of the line. */
		while (*p && *p != '\n' && w < sizeof(word) - 1 &&
		       strncmp(p, " on ", 4) && strncmp(p, " (", 2) && strncmp(p, " at ", 4))
			word[w++] = *p++;
		word[w] = 0;
		snprintf(head, sizeof(head), "%s %s",
			 k == K_ASAN ? "ASAN" : k == K_TSAN ? "TSAN" : "LEAK", word);
		scan_stacks(strchr(h, '\n') ? strchr(h, '\n') + 1 : "", k == K_TSAN ? 2 : 1, &si);
		/* A race has two core frames already; which harness function
		 * reached them depends on the schedule. */
		if (k == K_TSAN && grace_race(&si, sig, n))
			return true;
		if (k == K_TSAN) {
			si.op[0] = 0;
			race_blame(&si);
		}
		with_frames(sig, n, head, &si);
		return true;
	case K_UBSAN: {
		char msg[128], where[64];

		/* "core/src/cursor.c:164:20: runtime error: unsigned integer
		 * overflow: 1 + 2 cannot be represented in type ..." */
		normalize(h + strlen(keys[k]), msg, sizeof(msg));
		msg[strcspn(msg, ":")] = 0;
		w = (size_t)(h - l);
		if (w >= sizeof(word))
			w = sizeof(word) - 1;
		memcpy(word, l, w);
		word[w] = 0;
		file_only(word, where, sizeof(where));
		scan_stacks(strchr(h, '\n') ? strchr(h, '\n') + 1 : "", 1, &si);
		snprintf(head, sizeof(head), "UBSAN %s at %s", msg, where);
		with_frames(sig, n, head, &si);
		return true;
	}
	case K_STRESS:
	case K_STRESS2:
		stress_title(h, sig, n);
		return true;
	case K_ASSERT:
		normalize(h, head, sizeof(head));
		scan_stacks(strchr(h, '\n') ? strchr(h, '\n') + 1 : "", 1, &si);
		with_frames(sig, n, head, &si);
		return true;
	case K_SETUP:
		normalize(h, sig, n);
		return true;
	case K_MT:
		/* Verbatim: the title `vmtorture replay` gives the same
		 * program; but a check of the table (an invariant, an oracle)
		 * by its one title, as every engine names it (older builds
		 * called the overlap oracle "MUTEX cursors overlap"), and a
		 * divergence as the sequential executor's is titled: the
		 * controlled executor's "DIVERGENCE end check: invariant
		 * broken: X (in f)" is the fuzzers' and stress's
		 * "INVARIANT X", its counts and addresses dropped. */
		h += strlen(keys[k]);
		if (!strncmp(h, "DIVERGENCE ", 11)) {
			divergence_title(h, sig, n);
			return true;
		}
		if (strncmp(h, "DEADLOCK", 8) && check_in_line(h, strcspn(h, "\n"), sig, n))
			return true;
		snprintf(sig, n, "%.*s", (int)strcspn(h, "\n"), h);
		return true;
	case K_TIMEOUT:
		snprintf(sig, n, "TIMEOUT");
		return true;
	case K_OOM:
		snprintf(sig, n, "OOM");
		return true;
	case K_DEADLY:
		scan_stacks(strchr(h, '\n') ? strchr(h, '\n') + 1 : "", 1, &si);
		with_frames(sig, n, "CRASH deadly signal", &si);
		return true;
	}
	return false;
}

bool vmt_sig_from_output(const char *out, char *sig, size_t n)
{
	return sig_from(out, sig, n, PRIO_ORACLE | PRIO_CAUSE);
}

bool vmt_sig_cause(const char *out, char *sig, size_t n)
{
	return sig_from(out, sig, n, PRIO_CAUSE);
}

int vmt_sig_each(const char *out, void (*fn)(void *arg, const char *sig), void *arg)
{
	int nr = 0;

	for (const char *l = out; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		size_t k, len = strcspn(l, "\n");
		char sig[VMT_SIG_MAX];
		bool head = false;

		/* A finding starts at a line holding one of the keys; a
		 * DIVERGENCE or VIOLATION only at the start of its line. */
		for (k = 0; k < K_NR && !head; k++) {
			const char *h = memmem(l, len, keys[k], strlen(keys[k]));

			head = h && ((k != K_DIV && k != K_STRESS) || h == l);
		}
		if (head && sig_from(l, sig, sizeof(sig), 0)) {
			fn(arg, sig);
			nr++;
		}
	}
	return nr;
}

void vmt_sig_id(const char *sig, char id[17])
{
	uint64_t h = 1469598103934665603ULL;	/* FNV-1a */

	for (const unsigned char *p = (const unsigned char *)sig; *p; p++) {
		h ^= *p;
		h *= 1099511628211ULL;
	}
	snprintf(id, 17, "%016llx", (unsigned long long)h);
}

char *vmt_sanitizer_stack(const char *out)
{
	static const char *const heads[] = {
		"ERROR: AddressSanitizer", "WARNING: ThreadSanitizer", ": runtime error: ",
		"ERROR: LeakSanitizer",
	};
	size_t k = 0;
	const char *h = first_of(out, heads, 4, &k), *e;

	if (!h)
		return NULL;
	h = line_start(out, h);
	/* To "SUMMARY:" (all sanitizers print one), or 6 KiB at most. */
	e = strstr(h, "SUMMARY: ");
	if (e) {
		e = strchr(e, '\n');
		if (!e)
			e = h + strlen(h);
	} else {
		e = h + strlen(h);
	}
	if (e - h > 6144)
		e = h + 6144;
	return strndup(h, (size_t)(e - h));
}
