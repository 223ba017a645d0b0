/* SPDX-License-Identifier: MIT */
/*
 * mutator.h - the structure-aware mutator of op programs (fuzz/mutator.c):
 * decode, edit one part, encode. libFuzzer takes it as
 * LLVMFuzzerCustomMutator (linked into a target), AFL++ as a custom
 * mutator library (AFL_CUSTOM_MUTATOR_LIBRARY=build/fuzz/vmt-mutator.so
 * with AFL_CUSTOM_MUTATOR_ONLY=1: the library does byte edits itself, and
 * gives each seed scenario its turn in the queue). Both share vmt_mutate().
 */
#ifndef VMT_FUZZ_MUTATOR_H
#define VMT_FUZZ_MUTATOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The edits, one part of the program each. */
enum vmt_mut_kind {
	VMT_MUT_NONE, /* nothing (no edit applied: byte-level instead) */
	VMT_MUT_PREEMPT_INSERT, /* a new preemption */
	VMT_MUT_PREEMPT_DELETE,
	VMT_MUT_PREEMPT_MOVE, /* another decision, or another thread to run */
	VMT_MUT_OP_THREAD, /* an op moves to another thread (maybe a new one) */
	VMT_MUT_OPERAND,   /* one operand of one op */
	VMT_MUT_FAULT_ADD, /* fail nth=N [site=K] before an op */
	VMT_MUT_FAULT_DELETE,
	VMT_MUT_RETIRE_BATCH, /* another retire batch (op.h) */
	VMT_MUT__COUNT
};

const char *vmt_mut_name(enum vmt_mut_kind k);

/*
 * Decode @data[0..size), apply one edit (chosen from @*rng; a kind that
 * does not apply, e.g. deleting from an empty schedule, makes way for
 * another), encode into @data (at most @max bytes). Returns the new size
 * and sets *@kind, or returns 0 with *@kind VMT_MUT_NONE if no edit fit
 * (then @data is unchanged). The output always decodes to the edited
 * program, canonically: encode(decode(out)) == out.
 */
size_t vmt_mutate(uint8_t *data, size_t size, size_t max, uint64_t *rng,
		  enum vmt_mut_kind *kind);

/*
 * How many scheduling decisions each thread of @data took when it last
 * ran (dec[t], t < @n: the program threads, then the reclaimer), or false
 * if the input has not run in this process. Defined by a target that
 * runs the inputs it mutates (fuzz/target_mt.c); weak here, absent from
 * the AFL++ library and the unit test. A preemption lands at a decision
 * the thread takes: knowing how many it takes, a key anywhere in its run
 * is as likely as any other, instead of a guess at the range.
 */
bool vmt_fuzz_mt_decisions(const uint8_t *data, size_t size, uint32_t *dec, unsigned n)
	__attribute__((weak));

/* One in VMT_MUT_BYTES_SHARE calls of LLVMFuzzerCustomMutator goes to
 * libFuzzer's own byte-level LLVMFuzzerMutate; as many of afl_custom_fuzz
 * edit bytes. */
#define VMT_MUT_BYTES_SHARE	3

#endif /* VMT_FUZZ_MUTATOR_H */
