/* SPDX-License-Identifier: MIT */
/*
 * fuzz/afl_main.c - AFL++ persistent-mode driver for fuzz/target.c.
 *
 * Test cases arrive through shared memory (no read() per input) and one
 * process runs up to 10000 of them before the fork server restarts it:
 * about 20 times faster than a fork per input. Only built by afl-clang-fast,
 * which defines the __AFL_* macros.
 *
 * Outside afl-fuzz the binary runs each file named on the command line
 * (or stdin once), so a saved crash reproduces with
 *   build/fuzz/vmt-afl build/fuzz-out/afl/<run>/main/crashes/id:000000,...
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "target.h"

#ifndef __AFL_FUZZ_TESTCASE_LEN
#error "fuzz/afl_main.c must be compiled with afl-clang-fast"
#endif

__AFL_FUZZ_INIT();

/* Inputs longer than this are cut: the decoder reads at most
 * VMT_MAX_OPS ops, so the tail could never matter. */
#define AFL_MAX_INPUT	(1u << 20)

static int run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	size_t n;

	if (!f) {
		fprintf(stderr, "vmt-afl: %s: cannot open\n", path);
		return 2;
	}
	buf = malloc(AFL_MAX_INPUT);
	if (!buf) {
		fclose(f);
		fprintf(stderr, "vmt-afl: out of memory\n");
		return 2;
	}
	n = fread(buf, 1, AFL_MAX_INPUT, f);
	fclose(f);
	/* Aborts on a finding, like the fuzzing loop. */
	LLVMFuzzerTestOneInput(buf, n);
	free(buf);
	return 0;
}

int main(int argc, char **argv)
{
	unsigned char *buf;
	int rc = 0;

	LLVMFuzzerInitialize(&argc, &argv);
	if (argc > 1 && !getenv("__AFL_SHM_ID")) {
		for (int i = 1; i < argc; i++)
			rc |= run_file(argv[i]);
		return rc;
	}

#ifdef __AFL_HAVE_MANUAL_CONTROL
	/* Fork here, after the one-time setup above. */
	__AFL_INIT();
#endif
	buf = __AFL_FUZZ_TESTCASE_BUF;	/* only valid after __AFL_INIT */
	while (__AFL_LOOP(10000)) {
		size_t len = __AFL_FUZZ_TESTCASE_LEN;
		/* The shared buffer is larger than the test case: copy it so
		 * that ASan sees an over-read past the input's end. */
		uint8_t *copy = malloc(len ? len : 1);

		if (!copy)
			abort();
		memcpy(copy, buf, len);
		LLVMFuzzerTestOneInput(copy, len);
		free(copy);
	}
	return 0;
}
