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
 *
 * This file holds the table of checks, the registry of report keys and
 * the choice of the finding to title; sig_harness.c and sig_san.c parse
 * the reports (sig.h).
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <vms/check.h>

#include "sig.h"

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
bool sig_check_in_line(const char *l, size_t len, char *sig, size_t n)
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
void sig_grace_title(enum vms_check c, char *sig, size_t n)
{
	vmt_check_title(c, 0, sig, n);
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

/* Which finding among several in one output gets the title. */
enum {
	PRIO_ORACLE = 1,	/* a stress oracle over a TSan race before it */
	PRIO_CAUSE = 2,		/* a grace, then a mutex violation over the rest */
};

/* @h (found by key @k) is the first finding in @out: the one to title
 * instead by @prio (PRIO_*), if another is preferred. */
static const char *prefer(const char *out, const char *h, size_t *k, int prio)
{
	/*
	 * A stress run under TSan goes on after a race; if an oracle then
	 * fails, its verdict says what the race broke (the same bug reported
	 * by the plain stress engine), while the two stacks of a race vary
	 * with the schedule. So in one run an oracle beats a race report.
	 */
	if (*k == K_TSAN && (prio & PRIO_ORACLE)) {
		size_t k2 = 0;
		const char *v = first_of(out, keys + K_STRESS, 2, &k2);

		if (v) {
			h = v;
			*k = K_STRESS + k2;
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
	if (*k == K_STRESS && (prio & PRIO_CAUSE)) {
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
	return h;
}

/* The title of the finding at @h in @out, found by key @k. */
static bool title_at(const char *out, const char *h, size_t k, char *sig,
		     size_t n)
{
	char head[VMT_SIG_MAX];

	switch (k) {
	case K_INV:
	case K_SCHED:
		if (!sig_root_cause(h, sig, n))
			sig_normalize(h, sig, n);
		return true;
	case K_DIV:
		sig_divergence_title(h, sig, n);
		return true;
	case K_ASAN:
	case K_TSAN:
	case K_LEAK:
		sig_sanitizer_title(h + strlen(keys[k]),
				    k == K_ASAN ? "ASAN" :
				    k == K_TSAN ? "TSAN" :
						  "LEAK",
				    k == K_TSAN, sig, n);
		return true;
	case K_UBSAN:
		sig_ubsan_title(line_start(out, h), h, strlen(keys[k]), sig, n);
		return true;
	case K_STRESS:
	case K_STRESS2:
		sig_stress_title(h, sig, n);
		return true;
	case K_ASSERT:
		sig_normalize(h, head, sizeof(head));
		sig_stack_title(h, head, sig, n);
		return true;
	case K_SETUP:
		sig_normalize(h, sig, n);
		return true;
	case K_MT:
		sig_mt_title(h + strlen(keys[k]), sig, n);
		return true;
	case K_TIMEOUT:
		snprintf(sig, n, "TIMEOUT");
		return true;
	case K_OOM:
		snprintf(sig, n, "OOM");
		return true;
	case K_DEADLY:
		sig_stack_title(h, "CRASH deadly signal", sig, n);
		return true;
	}
	return false;
}

/* The title of the first finding in @out, or by @prio (PRIO_*) of the
 * one preferred among several. */
static bool sig_from(const char *out, char *sig, size_t n, int prio)
{
	size_t k = 0;
	const char *h = first_of(out, keys, K_NR, &k);

	if (!h)
		return false;
	if (prio)
		h = prefer(out, h, &k, prio);
	return title_at(out, h, k, sig, n);
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
