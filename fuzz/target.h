/* SPDX-License-Identifier: MIT */
/* fuzz/target.h - what the fuzz drivers share with fuzz/target.c. */
#ifndef VMT_FUZZ_TARGET_H
#define VMT_FUZZ_TARGET_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum {
	VMT_FUZZ_AGREE = 0,	/* libvms and the model agree */
	VMT_FUZZ_DIVERGE = 1,	/* they disagree: a core or model bug */
	VMT_FUZZ_ERROR = 2,	/* the run could not be set up */
	VMT_FUZZ_IGNORED = 3,	/* a divergence listed in VMT_FUZZ_IGNORE */
};

/* Run one input; on a finding write its signature and the decoded
 * program to @log (if non-NULL). Never aborts. */
int vmt_fuzz_one(const uint8_t *data, size_t size, FILE *log);

/* For an input that crashes libvms: run each prefix of its program in a
 * child process; if one ends with libvms and the model differing, write
 * the first as a divergence to @log and return VMT_FUZZ_DIVERGE, else
 * VMT_FUZZ_AGREE (vmt_localize). */
int vmt_fuzz_localize(const uint8_t *data, size_t size, FILE *log);

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif /* VMT_FUZZ_TARGET_H */
