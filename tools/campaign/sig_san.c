/* SPDX-License-Identifier: MIT */
/*
 * sig_san.c - titles from the sanitizers' and libFuzzer's reports: the
 * stack frames (ASan/UBSan and TSan forms), the first frame in core/ and
 * the harness function that reached it, a race's two sides put in one
 * order, and a race on freed memory titled as the grace oracle titles it.
 * Line numbers and addresses stay out: they move with every edit.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "sig.h"

/* Frames that are the reporting machinery, never the bug. */
static const char *const abort_path[] = {
	"abort",
	"raise",
	"__assert",
	"__GI_",
	"__libc_",
	"__sanitizer",
	"__asan",
	"__tsan",
	"__ubsan",
	"__interceptor",
	"__interception",
	"fuzzer::",
	"LLVMFuzzerTestOneInput",
	"vmt_fuzz_one",
	"report",
	"oracle_fail",
	"vmt_fail",
	"vmt_oracle",
	"die",
	"pthread_",
	"start_thread",
	"clone",
	"main",
	"_start",
	"run_file",
	"run_one",
	"malloc",
	"free",
	"calloc",
	"realloc",
	"operator",
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
			return false; /* unsymbolized: "(binary+0x...)" */
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
	bool locked[2]; /* TSan: the access held a lock ("(mutexes: ...)") */
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
			if (!core_found && strstr(f.file, "core/src/") &&
			    si->ncore < 2) {
				si->locked[si->ncore] = locked;
				si->core[si->ncore++] = f;
				core_found = true;
			} else if (!si->op[0] &&
				   !strstr(f.file, "tools/op/step_") &&
				   (strstr(f.file, "tools/op/") ||
				    strstr(f.file, "stress/"))) {
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
		"vms_frame_ref_put", "free_4k",		 "free_2m",
		"alloc_4k",	     "alloc_2m",	 "vms_node_free",
		"vms_node_alloc",    "vms_subtree_free", NULL,
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
			sig_grace_title(VMS_CHECK_FREED_READ, sig, n);
			return true;
		}
		if (in_list(r, node_readers)) {
			sig_grace_title(VMS_CHECK_NODE_FREED, sig, n);
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

static void with_frames(char *sig, size_t n, const char *head,
			const struct stackinfo *si)
{
	size_t o = (size_t)snprintf(sig, n, "%s", head);
	char f0[64], f1[64];

	if (o >= n)
		return;
	if (si->ncore) {
		file_only(si->core[0].file, f0, sizeof(f0));
		o += (size_t)snprintf(sig + o, n - o, " in %s (%s)",
				      si->core[0].fn, f0);
	}
	if (o < n && si->ncore > 1) {
		file_only(si->core[1].file, f1, sizeof(f1));
		o += (size_t)snprintf(sig + o, n - o, " | %s (%s)",
				      si->core[1].fn, f1);
	}
	if (o < n && si->op[0])
		snprintf(sig + o, n - o, " via %s", si->op);
}

/*
 * An ASan, TSan or LSan report (@p: after its "ERROR: ...Sanitizer: "):
 * @kind (ASAN, TSAN, LEAK), the report's kind of error, and the frames
 * of the first stack (of both, for a race) in the core and the harness.
 */
void sig_sanitizer_title(const char *p, const char *kind, bool race, char *sig,
			 size_t n)
{
	char word[96], head[VMT_SIG_MAX];
	struct stackinfo si;
	size_t w = 0;

	/* The kind: up to " on", " (" or the end of the line. */
	while (*p && *p != '\n' && w < sizeof(word) - 1 &&
	       strncmp(p, " on ", 4) && strncmp(p, " (", 2) &&
	       strncmp(p, " at ", 4))
		word[w++] = *p++;
	word[w] = 0;
	snprintf(head, sizeof(head), "%s %s", kind, word);
	scan_stacks(strchr(p, '\n') ? strchr(p, '\n') + 1 : "", race ? 2 : 1,
		    &si);
	/* A race has two core frames already; which harness function
	 * reached them depends on the schedule. */
	if (race && grace_race(&si, sig, n))
		return;
	if (race) {
		si.op[0] = 0;
		race_blame(&si);
	}
	with_frames(sig, n, head, &si);
}

/*
 * A UBSan report at @h (after the file:line that starts its line @l):
 * "core/src/cursor.c:164:20: runtime error: unsigned integer overflow:
 * 1 + 2 cannot be represented in type ..."
 */
void sig_ubsan_title(const char *l, const char *h, size_t keylen, char *sig,
		     size_t n)
{
	char msg[128], where[64], word[96], head[VMT_SIG_MAX];
	struct stackinfo si;
	size_t w;

	sig_normalize(h + keylen, msg, sizeof(msg));
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
}

/* @head, then the frames of the stack after the line at @h (a failed
 * assert, libFuzzer's deadly signal). */
void sig_stack_title(const char *h, const char *head, char *sig, size_t n)
{
	struct stackinfo si;

	scan_stacks(strchr(h, '\n') ? strchr(h, '\n') + 1 : "", 1, &si);
	with_frames(sig, n, head, &si);
}
