/* SPDX-License-Identifier: MIT */
/*
 * campaign.h - triage, minimization and reports for vmtorture campaigns.
 *
 * Everything here judges a finding by running it on a separate build (the
 * "oracle") and reading what that build printed, never in-process: the
 * finding may crash, hang or corrupt memory, and the build that found it
 * may carry a planted bug the tool itself was not compiled with.
 *
 * Oracles (binaries taken from the fuzz build directory, --fz DIR):
 *   replay   vmt-replay FILE        plain -O2 build, divergences
 *   asan     vmt-libfuzzer FILE     ASan+UBSan, memory errors and divergences
 *   stress   a recorded `vmtorture stress ...` command line (see stress.c)
 */
#ifndef VMT_CAMPAIGN_H
#define VMT_CAMPAIGN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define VMT_SIG_MAX	256

/* Where the oracles live and how long one run may take. */
struct vmt_cenv {
	const char *fz;		/* directory with vmt-replay, vmt-libfuzzer, vmt-afl */
	const char *cli;	/* the vmtorture binary (stress oracle) */
	int timeout;		/* seconds per oracle run */
	int verbose;
};

void vmt_cenv_init(struct vmt_cenv *e);

/* ---- signatures (sig.c) ------------------------------------------------ */

/*
 * Build a deduplication title from what a run printed: oracle kind, the op
 * involved and the first frame in core/ (not the shared abort path), e.g.
 *   DIVERGENCE find_next: core=0 model=1
 *   ASAN heap-use-after-free in vms_cursor_query (cursor.c) via op map
 *   TSAN data race in vms_node_unlock (lock.c) | vms_node_lock (lock.c)
 *   STRESS mutual-exclusion: ...
 * Addresses and other large numbers are blanked so the same bug found
 * with different operands gets one title. Returns true if @out held a
 * finding (then @sig is set), false if it looks like a clean run.
 */
bool vmt_sig_from_output(const char *out, char *sig, size_t n);

/* The title of the finding in @out nearest the cause: the first one,
 * but a stress run's grace or mutex violation over the rest (unlike
 * vmt_sig_from_output, a race before an oracle's verdict stays first). */
bool vmt_sig_cause(const char *out, char *sig, size_t n);

/* The title of every finding in @out, in the order they were printed
 * (no finding preferred over another): @fn once each. Returns how many. */
int vmt_sig_each(const char *out, void (*fn)(void *arg, const char *sig), void *arg);

/* The title of check @c of vms/checks.def (@level: a checker's, or 0). */
enum vms_check;
void vmt_check_title(enum vms_check c, int level, char *sig, size_t n);

/* 16 hex digits naming a signature's directory. */
void vmt_sig_id(const char *sig, char id[17]);

/* The sanitizer report in @out (from its ==ERROR/WARNING line to the end
 * of its first stack), or NULL. Caller frees. */
char *vmt_sanitizer_stack(const char *out);

/* ---- running oracles (run.c) ------------------------------------------- */

struct vmt_run {
	char *out;		/* stdout+stderr, NUL-terminated, capped */
	size_t len;
	int status;		/* wait status */
	bool timed_out;
	double secs;
};

/* Run argv[0] with argv, capture both streams, kill after @timeout s. */
int vmt_run_capture(char *const argv[], int timeout, struct vmt_run *r);
void vmt_run_free(struct vmt_run *r);

enum vmt_obuild { VMT_ORACLE_NONE, VMT_ORACLE_REPLAY, VMT_ORACLE_ASAN };
const char *vmt_oracle_name(enum vmt_obuild o);
enum vmt_obuild vmt_oracle_parse(const char *s);

/* Run @file on oracle @o; @sig gets the signature or "" if it agreed.
 * @r (optional) keeps the output. Returns 1 finding, 0 clean, <0 error. */
int vmt_oracle_run(const struct vmt_cenv *e, enum vmt_obuild o, const char *file,
		   char *sig, size_t n, struct vmt_run *r);

/* Replay on the plain build first, then on the ASan build if the plain
 * one saw nothing or crashed without a title. Sets *@o to the oracle that
 * gave the signature. Returns 1 finding, 0 clean on both, <0 error. */
int vmt_classify(const struct vmt_cenv *e, const char *file, char *sig, size_t n,
		 enum vmt_obuild *o);

/* ---- helpers (util.c) --------------------------------------------------- */

/* @name in the running binary's directory (NULL: the binary itself),
 * malloc'ed, whether it exists or not; NULL if /proc/self/exe cannot be
 * read. The one lookup of companion binaries (run.c). */
char *vmt_beside_self(const char *name);
/* Whole file into a malloc'ed buffer (NUL-terminated); NULL on error. */
uint8_t *vmt_read_file(const char *path, size_t *n);
int vmt_write_file(const char *path, const void *buf, size_t n);
/* printf into a new string (abort on OOM: only tools call this). */
char *vmt_strf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- commands (one per vmtorture subcommand) --------------------------- */

int vmt_cmd_classify(int argc, char **argv);
int vmt_cmd_minimize(int argc, char **argv);
int vmt_cmd_report(int argc, char **argv);
int vmt_cmd_campaign(int argc, char **argv);
int vmt_cmd_verdict(int argc, char **argv);

#endif /* VMT_CAMPAIGN_H */
