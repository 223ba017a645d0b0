/* SPDX-License-Identifier: MIT */
/*
 * hints.h - how many scheduling decisions each thread of a program took
 * when it last ran (fuzz/hints.c), for the mutator: a new preemption
 * lands on a decision the thread really takes (fuzz/mutator.c).
 *
 * Keyed by the program's ops, not its bytes or its schedule: the edits
 * tried most only move preemptions, and a thread takes about as many
 * decisions under any schedule, so a mutant finds its parent's record
 * (and AFL++, which mutates an entry of its queue long after running it,
 * finds the record its schedule mutants keep fresh). Direct-mapped: a
 * collision only costs the mutator a hint.
 *
 * libFuzzer runs and mutates in one process: the table is in memory.
 * AFL++ mutates in afl-fuzz (the mutator library) and runs in the
 * target: with VMT_MT_HINTS=FILE in the environment of both, the table
 * is that file, mapped shared.
 */
#ifndef VMT_FUZZ_HINTS_H
#define VMT_FUZZ_HINTS_H

#include <stdbool.h>
#include <stdint.h>

#include "../tools/op/op.h"

#define VMT_HINT_SLOTS	4096

struct vmt_hint {
	uint64_t key;				/* 0: empty */
	uint32_t dec[VMT_MAX_THREADS + 1];	/* program threads, then the reclaimer */
};

/* The key of @p: its ops (thread, code, operands), not its schedule. */
uint64_t vmt_hint_key(const struct vmt_prog *p);

/* The table: in memory, or the file VMT_MT_HINTS names if set (created
 * at its size if need be). NULL only if that file cannot be mapped. */
struct vmt_hint *vmt_hints(void);

/* Record the decisions of one run of @p (dec[t]: the number thread t
 * took). Lookup: false if none recorded for a program with @p's ops. */
void vmt_hint_save(const struct vmt_prog *p, const uint32_t *dec);
bool vmt_hint_get(const struct vmt_prog *p, uint32_t *dec, unsigned n);

#endif /* VMT_FUZZ_HINTS_H */
