/* SPDX-License-Identifier: MIT */
/*
 * fuzz/replay_main.c - run fuzz inputs without a fuzzing engine.
 *
 *   vmt-replay [-q] [-r N] [-l] FILE|DIR...
 *
 * Every file (directories: every regular file in them, sorted) is run
 * once (-r: N times in a row, reading it once: make bench-fuzz profiles
 * the execution without the file I/O) through the same target as the
 * fuzzers. Unlike the engines it
 * does not stop at the first finding: it reports each one and exits 1 if
 * there was any, 2 on a usage or I/O error, 0 if everything agreed.
 * Linked plain (vmt-replay) and with coverage instrumentation
 * (make coverage).
 *
 * -l (localize) is for inputs that crash libvms: instead of the whole
 * program, each prefix of it runs alone in a child process, and the first
 * whose end-of-run comparison differs is printed as the divergence
 * ("DIVERGENCE op#K op: state after the op: ..."): the state the crash
 * followed from, which the triage titles it by (vmt_localize).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "target.h"

/* Longer inputs are cut: the decoder never reads that far. */
#define REPLAY_MAX_INPUT	(1u << 20)

static int quiet, localize;
static unsigned repeat = 1;
static unsigned nr_files, nr_diverge, nr_error, nr_ignored;
static uint8_t *inbuf;

static void run_one(const char *path)
{
	FILE *f = fopen(path, "rb");
	size_t n;
	int rc;

	if (!f) {
		fprintf(stderr, "vmt-replay: %s: %s\n", path, strerror(errno));
		nr_error++;
		return;
	}
	n = fread(inbuf, 1, REPLAY_MAX_INPUT, f);
	if (ferror(f)) {
		fprintf(stderr, "vmt-replay: %s: read error\n", path);
		fclose(f);
		nr_error++;
		return;
	}
	fclose(f);
	nr_files++;
	if (!quiet)
		fprintf(stderr, "== %s (%zu bytes)\n", path, n);
	if (localize) {
		if (vmt_fuzz_localize(inbuf, n, stderr) == VMT_FUZZ_DIVERGE)
			nr_diverge++;
		return;
	}
	for (unsigned i = 1; i < repeat; i++)
		vmt_fuzz_one(inbuf, n, NULL);
	rc = vmt_fuzz_one(inbuf, n, stderr);
	if (rc == VMT_FUZZ_DIVERGE) {
		fprintf(stderr, "vmt-replay: %s: DIVERGENCE\n", path);
		nr_diverge++;
	} else if (rc == VMT_FUZZ_IGNORED) {
		if (!quiet)
			fprintf(stderr, "vmt-replay: %s: known divergence (VMT_FUZZ_IGNORE)\n", path);
		nr_ignored++;
	} else if (rc != VMT_FUZZ_AGREE) {
		fprintf(stderr, "vmt-replay: %s: could not run\n", path);
		nr_error++;
	}
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void run_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **names = NULL;
	size_t n = 0, cap = 0;

	if (!d) {
		fprintf(stderr, "vmt-replay: %s: %s\n", dir, strerror(errno));
		nr_error++;
		return;
	}
	while ((e = readdir(d))) {
		char *p;
		struct stat st;

		if (e->d_name[0] == '.')
			continue;
		if (asprintf(&p, "%s/%s", dir, e->d_name) < 0)
			break;
		if (stat(p, &st) || !S_ISREG(st.st_mode)) {
			free(p);
			continue;
		}
		if (n == cap) {
			char **nn = realloc(names, (cap = cap ? 2 * cap : 64) * sizeof(*names));

			if (!nn) {
				free(p);
				break;
			}
			names = nn;
		}
		names[n++] = p;
	}
	closedir(d);
	qsort(names, n, sizeof(*names), cmp_str);
	for (size_t i = 0; i < n; i++) {
		run_one(names[i]);
		free(names[i]);
	}
	free(names);
}

int main(int argc, char **argv)
{
	int first = 1;

	for (; first < argc && argv[first][0] == '-' && argv[first][1]; first++) {
		char *end;

		if (!strcmp(argv[first], "-q")) {
			quiet = 1;
		} else if (!strcmp(argv[first], "-l")) {
			localize = 1;
		} else if (!strcmp(argv[first], "-r") && first + 1 < argc &&
			   (repeat = (unsigned)strtoul(argv[first + 1], &end, 10)) > 0 && !*end) {
			first++;
		} else {
			first = argc;	/* -h, --help, or not an option we know */
		}
	}
	if (first >= argc) {
		fprintf(stderr, "usage: %s [-q] [-r N] [-l] FILE|DIR...\n", argv[0]);
		return 2;
	}
	inbuf = malloc(REPLAY_MAX_INPUT);
	if (!inbuf) {
		fprintf(stderr, "vmt-replay: out of memory\n");
		return 2;
	}
	LLVMFuzzerInitialize(&argc, &argv);
	for (int i = first; i < argc; i++) {
		struct stat st;

		if (stat(argv[i], &st)) {
			fprintf(stderr, "vmt-replay: %s: %s\n", argv[i], strerror(errno));
			nr_error++;
		} else if (S_ISDIR(st.st_mode)) {
			run_dir(argv[i]);
		} else {
			run_one(argv[i]);
		}
	}
	free(inbuf);
	fprintf(stderr, "vmt-replay: %u files, %u divergences, %u errors", nr_files,
		nr_diverge, nr_error);
	if (nr_ignored)
		fprintf(stderr, ", %u ignored (VMT_FUZZ_IGNORE)", nr_ignored);
	fputc('\n', stderr);
	return nr_error ? 2 : nr_diverge ? 1 : 0;
}
