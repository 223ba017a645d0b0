/* SPDX-License-Identifier: MIT */
/*
 * fuzz/target.c - the differential fuzz target: one input is one op
 * program (the binary form of tools/op), run on libvms and on the model in
 * lock-step by vmt_run_bytes(). Any disagreement is a finding.
 *
 * The same file is linked four ways (see fuzz/fuzz.mk): libFuzzer, AFL++
 * persistent mode through fuzz/afl_main.c, a plain replayer and a
 * coverage build, both through fuzz/replay_main.c. The engines only see
 * LLVMFuzzerTestOneInput(); the drivers call vmt_fuzz_one() directly so
 * that a replay of many files does not stop at the first divergence.
 *
 * VMT_FUZZ_IGNORE="pattern;pattern..." (environment) names divergences
 * that are known and reported but not fixed yet: a finding whose
 * signature contains one of the patterns counts as agreement, so a
 * campaign can look past it. Nothing is ignored by default.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "op.h"
#include "target.h"

#define MAX_IGNORE	16
static char *ignore_buf;
static const char *ignore[MAX_IGNORE];
static int nr_ignore;

static void parse_ignore(void)
{
	const char *env = getenv("VMT_FUZZ_IGNORE");
	char *save = NULL, *tok;

	if (!env || !*env || !(ignore_buf = strdup(env)))
		return;
	for (tok = strtok_r(ignore_buf, ";", &save); tok && nr_ignore < MAX_IGNORE;
	     tok = strtok_r(NULL, ";", &save))
		if (*tok)
			ignore[nr_ignore++] = tok;
}

static bool ignored(const char *sig)
{
	for (int i = 0; i < nr_ignore; i++)
		if (strstr(sig, ignore[i]))
			return true;
	return false;
}

/* Too big for the stack of every engine's callers; one input at a time. */
static struct vmt_prog report_prog;

/* On a finding, a human needs two things in the log: the signature (for
 * dedup) and the program as text (for a reproducer that survives changes
 * of the binary encoding). The engines save the raw input themselves. */
static void report(FILE *f, const uint8_t *data, size_t size,
		   const struct vmt_result *r, const char *what)
{
	fprintf(f, "%s\n", r->sig[0] ? r->sig : what);
	vmt_decode(data, size, &report_prog);
	fprintf(f, "---- program (%u ops, %zu bytes, text form) ----\n",
		report_prog.n, size);
	vmt_print_prog(f, &report_prog, r->op >= 0 && (unsigned)r->op < report_prog.n ?
		       r->op : -1, "diverges here", NULL);
	fprintf(f, "---- end of program ----\n");
	fflush(f);
}

int vmt_fuzz_one(const uint8_t *data, size_t size, FILE *log)
{
	struct vmt_result r;
	int rc;

	memset(&r, 0, sizeof(r));
	rc = vmt_run_bytes(data, size, &r);
	if (rc == 0)
		return VMT_FUZZ_AGREE;
	if (rc == 1 && ignored(r.sig))
		return VMT_FUZZ_IGNORED;
	if (log) {
		char what[64];

		if (rc == 1)
			snprintf(what, sizeof(what), "DIVERGENCE (no signature)");
		else
			snprintf(what, sizeof(what), "SETUP FAILED: vmt_run_bytes=%d (%s)",
				 rc, strerror(rc < 0 ? -rc : rc));
		report(log, data, size, &r, what);
	}
	return rc == 1 ? VMT_FUZZ_DIVERGE : VMT_FUZZ_ERROR;
}

int vmt_fuzz_localize(const uint8_t *data, size_t size, FILE *log)
{
	struct vmt_result r = { .status = 1 };
	struct vmt_exec_opts o = { .isolate = true };

	vmt_decode(data, size, &report_prog);
	r.op = (int)report_prog.n;
	if (vmt_localize(&report_prog, &o, &r) != 1)
		return VMT_FUZZ_AGREE;
	if (log)
		report(log, data, size, &r, "");
	return VMT_FUZZ_DIVERGE;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct vmt_result r;

	/* The log of a finding must not be interleaved with half lines. */
	setvbuf(stderr, NULL, _IOLBF, 0);
	parse_ignore();
	if (nr_ignore)
		fprintf(stderr, "vmt-fuzz: ignoring %d known divergence pattern(s) from VMT_FUZZ_IGNORE\n",
			nr_ignore);
	/* One empty program: registers this thread with RCU and builds any
	 * lazily initialised state before the first measured input, so a
	 * libFuzzer leak check never blames per-process setup on input #1. */
	memset(&r, 0, sizeof(r));
	if (vmt_run_bytes((const uint8_t *)"", 0, &r) != 0) {
		fprintf(stderr, "vmt-fuzz: the empty program fails: %s\n",
			r.sig[0] ? r.sig : "(no signature)");
		abort();
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int rc = vmt_fuzz_one(data, size, stderr);

	if (rc != VMT_FUZZ_AGREE && rc != VMT_FUZZ_IGNORED)
		abort();
	return 0;
}
