/* SPDX-License-Identifier: MIT */
/*
 * op.h - the vmtorture op language: programs of libvms calls over small
 * slot tables, a total binary decoder and its exact encoder, a text form,
 * and the differential executor that runs a program on libvms and on the
 * reference model (model/model.h) in lock-step.
 *
 * The ops are rows of one table, ops.def: name, operand fields (which
 * give the binary layout and the text keys) and two steps, one running
 * the op on libvms and one checking its outcome on the model (step.h).
 * Files: op.c (table, validity), op_bin.c (binary form), op_text.c (text
 * form), step_core.c and step_model.c (the steps), exec.c (executor).
 *
 * Slots. A program never names a pointer; it names slots:
 *   space slot   0..VMT_NR_SPACES-1  (each with at most one open cursor)
 *   frame slot   0..VMT_NR_FRAMES-1  (a frame allocated by frame_alloc)
 *   accessor     0..VMT_NR_ACCS-1    (a reader or a writer)
 * Every run starts with space 0 created (flags 0) and active on the
 * calling thread; everything else is empty.
 *
 * What an op does with an empty slot (identical on both sides, never a
 * divergence):
 *   - cursor ops other than cursor_new, and space ops other than
 *     space_new, on a space slot with no space (or no open cursor): skipped;
 *   - accessor ops on an empty accessor slot: skipped;
 *   - frame ops on an empty frame slot pass NULL (libvms must say -EINVAL);
 *   - cursor_new on a space that already has a cursor drops it first;
 *     cursor_try opens a second cursor beside it (and drops that at
 *     once): only vmt_exec runs it, which predicts -EDEADLK from the two
 *     cursors' lock sets, and skips it where the answer depends on which
 *     empty tables the tree keeps (exec_check.c lockstep_judge_try);
 *     other drivers, and a space slot with no open cursor, skip it;
 *     reader_new/writer_new into a used accessor slot releases it first;
 *     frame_alloc into a used frame slot just forgets the slot's frame
 *     (its handles stay held; the executor puts them at the end);
 *     space_new on a used space slot is skipped.
 * A frame slot empties when its frame dies (no handle and no mapping left).
 *
 * Text form: one op per line, '#' starts a comment, blank lines ignored.
 * Numbers are decimal or 0x-hex. The operands an op is about (frame,
 * acc, level, start, end, va, len, n, prop, mut/ro) are required; the
 * others (space, flags, pattern, set, clear, cache, priv^) default to 0
 * (cache: keep) and the printer omits them then. Examples:
 *   cursor_new mut start=0x200000 end=0x400000
 *   cursor_new ro space=1 start=0 end=0x800000000000
 *   cursor_try mut va=0x0 end=0x400000
 *   map frame=2 prop=RW-,wb,user
 *   protect_next len=0x1000 set=W clear=X cache=uc
 *   writer_new acc=1 va=0x201000 len=0x2000
 *   write acc=1 n=4096 pattern=0x5a
 * The complete grammar is what vmt_format_op() prints (see op_text.c); the
 * keys are space, frame, acc, level, flags, start, end, va, len, n,
 * pattern, prop (FLAGS,CACHE,PRIV), set, clear, cache, priv^, nth, site,
 * bytes, kind (corrupt: core/src/debug.h's names), call (badarg:
 * badarg.h's names) and the bare words mut/ro (cursor_new). FLAGS: letters RWXAD ('-' ignored) or a
 * number; CACHE: wb wt wc uc wp or a number; PRIV: none user global
 * user+global or a number.
 *
 * Multi-thread programs (threads, a schedule: struct vmt_prog) run on the
 * controlled executor (tools/sched/exec_mt.h): every thread starts with
 * space 0 active, owns its cursor, accessor and frame slots, and shares
 * the space slots; an op on a space slot another thread has not filled
 * yet is skipped (and checked as such); check and space_destroy are
 * skipped there (a quiescent pool and a space nobody else may be
 * entering cannot be had mid-run): the run ends with the full check.
 * A thread's slot keeps a frame only while the thread holds a handle.
 * Faults: "fail nth=N [site=KIND]" makes the Nth allocation (of that
 * kind: node frame4k frame2m cursor space acc batch check, see
 * core/src/fault.h) of the thread's next op fail, as an exhaustion would
 * (cores built with -DVMS_FAULTS; elsewhere it does nothing). The
 * outcome says whether a fault was injected; the model then expects
 * -ENOMEM after the argument checks and no change at all.
 *
 * Threads: vmt_decode/encode/parse/print are pure. vmt_exec keeps its
 * state in the call (slot tables) and in a pool and a model of the calling
 * thread, reset after every run (tools/op/reuse.c), so different threads
 * may run programs at the same time, and a program's result does not
 * depend on what the thread ran before.
 */
#ifndef VMT_OP_H
#define VMT_OP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <vms/types.h>

#include "preempt.h"

#define VMT_MAX_OPS	256	/* ops per program, over all its threads */
#define VMT_NR_SPACES	2
#define VMT_NR_FRAMES	8
#define VMT_NR_ACCS	4
#define VMT_MAX_IO	65536	/* largest read/write byte count */
#define VMT_MAX_THREADS	4	/* program threads */
/* Threads a schedule may name: the program's and the core's workers
 * (the reclaimer), as the controlled scheduler numbers them. */
#define VMT_SCHED_THREADS	8
#define VMT_MAX_PREEMPTS	1024	/* schedule entries */
/* What a schedule's decision keys mean: the scheduling points of the
 * core and of the controlled executor. A change of either that moves
 * points changes every stored schedule; bump this with it. */
#define VMT_SCHED_VERSION 1u
#define VMT_MAX_NTH	64	/* fail nth=N: largest N */
/* Upper bound on vmt_encode()'s output for any valid program. */
#define VMT_MAX_ENCODED	(VMT_MAX_OPS * 40 + VMT_MAX_PREEMPTS * 10 + 64)

/* The ops, their operands and their steps: ops.def, one row each. */
enum vmt_opcode {
#define VMT_OP(code, name, ...) VMT_OP_##code,
#include "ops.def"
#undef VMT_OP
	VMT_OP__COUNT
};

/* pcache value meaning "leave the cache policy alone". */
#define VMT_CACHE_KEEP	0xff

/*
 * One op. Fields an op does not use (see ops.def) are zero: the decoder
 * and the parser guarantee it, vmt_prog_valid() checks it.
 */
struct vmt_op {
	uint8_t code;		/* enum vmt_opcode */
	uint8_t space;		/* space slot */
	uint8_t slot;		/* frame slot or accessor slot */
	uint8_t arg;		/* small per-op argument (see the enum) */
	uint64_t a, b;		/* addresses and lengths */
	struct vms_prop prop;	/* map: the property (any bytes: invalid ones test -EINVAL) */
	uint8_t pset, pclr;	/* protect_next: flags |= pset; flags &= ~pclr */
	uint8_t pcache;		/* protect_next: new cache, or VMT_CACHE_KEEP */
	uint8_t ppriv;		/* protect_next: XORed into priv (libvms must ignore it) */
	uint8_t thread;		/* the program thread that runs it */
};

/*
 * A program: its ops, grouped by thread in thread order (thread 0's ops
 * first), and its schedule. A program with one thread and no schedule
 * is what vmt_exec runs; any other is a multi-thread program, for the
 * controlled executor of the VMS_SCHED build (tools/sched/exec_mt.c).
 * Zero in nthreads means one thread, so a zeroed header is the classic
 * program.
 *
 * Threads. Each thread has its own slots (cursors, accessors, frames)
 * and its own active space, as real threads do; the space slots, the
 * spaces and the pool are shared. Thread membership is a field of every
 * op, whatever its row in ops.def.
 *
 * Schedule. Preemptions sorted by (thread, nth), at most one per key:
 * the replay policy of the controlled scheduler takes them, and where
 * none applies (and once they run out) the default choice: keep running
 * the current thread until it blocks or ends, then the lowest runnable.
 * sched_version is VMT_SCHED_VERSION when the schedule was recorded (0
 * if there is none).
 *
 * Retire batch. The weight (4 KiB pages) of releases a thread gathers
 * before it hands them to the pool's reclaimer (vms_pool_set_retire_batch):
 * 0 is the controlled executor's default, 1, every drop that retired
 * something hands over; a larger one leaves partly filled batches with
 * the threads (handed over when one fills, at a quiesce, or when the
 * thread ends), as production pools do (VMS_RETIRE_BATCH). It changes
 * when frames are released, never what a call returns. One past the
 * largest (VMT_BAD_RETIRE_BATCH) asks for a batch out of range: the core
 * must refuse it (-EINVAL, a finding otherwise) and the run has 1.
 */
struct vmt_prog {
	unsigned n;		/* number of ops, <= VMT_MAX_OPS */
	uint8_t nthreads;	/* 1..VMT_MAX_THREADS (0: 1) */
	uint8_t sched_version;
	unsigned nsched;	/* <= VMT_MAX_PREEMPTS */
	uint32_t
		retire_batch; /* 0 (the default: 1) .. VMT_MAX_RETIRE_BATCH, VMT_BAD_RETIRE_BATCH */
	struct vmt_op ops[VMT_MAX_OPS];
	struct vmt_preempt sched[VMT_MAX_PREEMPTS];
};

static inline unsigned vmt_prog_threads(const struct vmt_prog *p)
{
	return p->nthreads ? p->nthreads : 1;
}

/* The largest retire batch a program sets: libvms's production batch
 * (VMS_RETIRE_BATCH, vms/pool.h; exec_mt.c checks that they agree). */
#define VMT_MAX_RETIRE_BATCH 1024
/* A program's out-of-range batch (see struct vmt_prog): one past the
 * largest libvms takes (VMS_RETIRE_BATCH_MAX; exec_mt.c checks it). */
#define VMT_BAD_RETIRE_BATCH 65537

/* A batch a program may carry: 0 (the default), 1..the largest, or the
 * out-of-range one. */
static inline bool vmt_retire_batch_valid(uint32_t b)
{
	return b <= VMT_MAX_RETIRE_BATCH || b == VMT_BAD_RETIRE_BATCH;
}

/* Needs the controlled executor: more than one thread, a schedule, or a
 * retire batch (only that executor's pool hands batches to a reclaimer). */
static inline bool vmt_prog_is_mt(const struct vmt_prog *p)
{
	return vmt_prog_threads(p) > 1 || p->nsched || p->retire_batch;
}

/* ---- binary form ------------------------------------------------------ */

/*
 * Decode @n bytes into @p. Total: every byte string gives a valid program
 * (at most VMT_MAX_OPS ops; a truncated last op reads zeros). Operands are
 * biased toward page, 2 MiB, 1 GiB and 512 GiB boundaries, the top of user
 * space, zero, unaligned and overflowing values, earlier addresses with
 * small perturbations, cursor ends a short span after their start, jump
 * targets and lengths relative to the space's last cursor range, and
 * accessor ranges touching the previous accessor. Returns the number of
 * ops. The format is not stable across versions of this file: keep
 * reproducers in the text form.
 *
 * Threads and schedules are pseudo-ops: the opcode byte 0xff followed by
 * 0xf0..0xf3 ("the ops that follow are thread N's"), 0xf4 V (the
 * schedule's version), 0xf5 T NTH U (a preemption; NTH a LEB128
 * number) or 0xf6 B (the retire batch: LEB128, modulo
 * VMT_MAX_RETIRE_BATCH + 2, the last value VMT_BAD_RETIRE_BATCH). 0xff followed by any other byte is an op as before, so a
 * byte string without these pairs decodes exactly as it did before
 * threads existed. Ops are regrouped by thread (stable), preemptions
 * sorted, a repeated key keeps its first entry.
 */
int vmt_decode(const uint8_t *buf, size_t n, struct vmt_prog *p);

/*
 * Encode @p into @buf (at most @cap bytes). Returns the encoded length
 * (which may exceed @cap: then nothing useful was written), or -EINVAL if
 * @p is not valid. vmt_decode(vmt_encode(p)) == p for every valid p.
 */
long vmt_encode(const struct vmt_prog *p, uint8_t *buf, size_t cap);

/* ---- validity and comparison ------------------------------------------ */

/* True if every op is in its field domains (what decode/parse produce).
 * On false, *@bad_op (if non-NULL) is the index of the first bad op. */
bool vmt_prog_valid(const struct vmt_prog *p, unsigned *bad_op);
bool vmt_op_equal(const struct vmt_op *x, const struct vmt_op *y);
bool vmt_prog_equal(const struct vmt_prog *x, const struct vmt_prog *y);
/* Make a program with ops and preemptions in any order valid, as the
 * decoder and the parser do: nthreads covers every op's thread, ops are
 * regrouped by thread (stable), preemptions sorted, the first entry of a
 * key kept, the schedule version set (current) or cleared (no entry). */
void vmt_prog_normalize(struct vmt_prog *p);
const char *vmt_op_name(unsigned code);
/* Simpler versions of @op, one operand changed each (shorter text, or as
 * long and a smaller value; valid), simplest first: at most @cap written,
 * returns how many (simplify.c). */
#define VMT_MAX_SIMPLER	160
unsigned vmt_op_simpler(const struct vmt_op *op, struct vmt_op *out, unsigned cap);
/* The ops on a space's cursor (cursor_new up to drop in ops.def). */
static inline bool vmt_op_on_cursor(unsigned code)
{
	return code <= VMT_OP_DROP;
}

/* ---- text form -------------------------------------------------------- */

/* Print one op (no newline) into @buf; returns the length it needs, like
 * snprintf. 160 bytes always suffice. */
int vmt_format_op(const struct vmt_op *op, char *buf, size_t size);
/* Print the program, one op per line. If @mark >= 0, op #@mark gets a
 * "  # <-- <note>" suffix (@note may be NULL). Every line is prefixed
 * with @prefix (may be NULL). A multi-thread program prints a
 * "thread N:" line before each thread's ops, and its schedule after
 * them: "schedule v1:" then one "after thread T decision N run thread U"
 * per preemption. A retire batch comes first: "retire batch N". */
void vmt_print_prog(FILE *f, const struct vmt_prog *p, int mark,
		    const char *note, const char *prefix);

/* "after thread T decision N run thread U" (the schedule block's lines). */
int vmt_format_preempt(const struct vmt_preempt *e, char *buf, size_t size);

/*
 * Parse the text form. Returns 0, or -EINVAL with *@err_line (1-based)
 * and a one-line message in @err. print(parse(t)) is canonical and
 * parse(print(p)) == p.
 */
int vmt_parse(const char *text, struct vmt_prog *p, int *err_line,
	      char *err, size_t errlen);
/* Parse one line into @op: 1 if it held an op, 0 if blank/comment, -EINVAL. */
int vmt_parse_op(const char *line, struct vmt_op *op, char *err, size_t errlen);

/* ---- differential executor -------------------------------------------- */

struct vmt_exec_opts {
	size_t pool_bytes;	/* 0: VMT_EXEC_POOL_DEFAULT (small pools: -ENOMEM paths) */
	FILE *trace;		/* if non-NULL, one line per op: "  17 map frame=2 ...   = 1" */
	bool no_sweep;		/* skip the full sweeps (check ops still call vms_space_check) */
	/* vmt_localize: run each prefix in a child process (the program
	 * crashes libvms: a prefix may too, and counts as no difference) */
	bool isolate;
};

#define VMT_EXEC_POOL_DEFAULT	(256ULL << 20)

struct vmt_result {
	int status;		/* 0 agree, 1 divergence, -EINVAL bad program, -ENOMEM setup failed */
	int op;			/* index of the diverging op; n for the final sweep/teardown */
	unsigned executed;	/* ops executed (not skipped) */
	unsigned skipped;	/* ops skipped on both sides */
	char sig[256];		/* one line, e.g. "DIVERGENCE op#17 map: core=-EINVAL model=0" */
};

/* The property edit of a protect_next op, as a vms_protect_fn: set and
 * clear flag bits, replace the cache unless VMT_CACHE_KEEP, and flip priv
 * bits (which libvms must ignore). The executor and the stress driver
 * share it so a saved session replays identically. */
struct vmt_protect_edit {
	uint8_t set, clr, cache, priv;
};
#define VMT_PROTECT_EDIT(op) \
	((struct vmt_protect_edit){ (op)->pset, (op)->pclr, (op)->pcache, (op)->ppriv })
void vmt_protect_apply(struct vms_prop *p, void *edit);

/*
 * Run @p on libvms (a fresh pool, destroyed at the end) and on the model
 * in lock-step; stop at the first difference. Compared after every op:
 * return values, query results (an absent slot against the model's
 * constraint), found addresses, protected ranges, cursor va, handles,
 * copied byte counts and bytes, accessor remain, the current space. At
 * each check op and at the end (after dropping the cursors):
 * vms_space_check of every space (leaves and mapped bytes too) and, if
 * no cursor is open, a sweep of both spaces with a read-only cursor over
 * [0, VMS_USER_END) against the model's leaves, frame refcounts, handles
 * and contents, and the pool counters. Then everything still held is
 * released through the model-checked calls; vms_pool_destroy must return
 * 0 (otherwise: a leak divergence, and the pool is not freed).
 * -ENOMEM from libvms is accepted only where the model says the pool may
 * be exhausted (never with the default pool and <= 256 ops in practice).
 * Returns r->status. @o may be NULL. Must be called on a thread that holds
 * no cursor and has no active space. A multi-thread program (one with
 * threads or a schedule) is -EINVAL here: tools/sched/exec_mt.c runs it.
 */
int vmt_exec(const struct vmt_prog *p, const struct vmt_exec_opts *o,
	     struct vmt_result *r);

/*
 * After a divergence in @r: find the first op after which the whole state
 * of libvms and the model differ (the end-of-run comparison of each
 * shorter prefix), if that comes before r->op. Then r->op is that op and
 * r->sig reads "DIVERGENCE op#K <op>: state after the op: <difference>".
 * Returns 1 if it moved the divergence, 0 if not, -ENOMEM. For a program
 * that crashed, call it with r->status = 1, r->op = the number of ops and
 * o->isolate: the title then names the state the crash followed from, or
 * the first divergence inside a prefix (a run-time check that broke
 * before the crash, which the crash kept the whole run from printing).
 */
int vmt_localize(const struct vmt_prog *p, const struct vmt_exec_opts *o,
		 struct vmt_result *r);

/* vmt_decode + vmt_exec (+ vmt_localize on a divergence) with default
 * options: 0 agree, 1 divergence. Bytes that decode to a multi-thread
 * program agree with nothing run (r->executed 0): not this executor's. */
int vmt_run_bytes(const uint8_t *buf, size_t n, struct vmt_result *r);

#endif /* VMT_OP_H */
