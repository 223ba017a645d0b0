/* SPDX-License-Identifier: MIT */
/*
 * fuzz/empty_target.c - the fuzz target's entry points doing nothing: the
 * baseline of make bench-fuzz. Linked with the same drivers and built
 * with the same flags as fuzz/target.c, it measures what an engine costs
 * per input on its own (fork server, shared memory, mutation, coverage
 * bookkeeping), so the target's exec/s can be read as a ratio to it.
 */
#include "target.h"

int vmt_fuzz_one(const uint8_t *data, size_t size, FILE *log)
{
	return VMT_FUZZ_AGREE;
}

int vmt_fuzz_localize(const uint8_t *data, size_t size, FILE *log)
{
	return VMT_FUZZ_AGREE;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return 0;
}
