/* SPDX-License-Identifier: MIT */
/*
 * vms/pool.h - simulated physical memory: a frame pool and frame handles.
 *
 * A pool is one reserved, lazily committed region (so a pool of several
 * GiB costs nothing until touched; what was touched stays committed until
 * the pool is destroyed) carved into 2 MiB chunks. A chunk is
 * either one level-2 (2 MiB) frame or 512 level-1 (4 KiB) frames; page-
 * table nodes are level-1 frames of the same pool. Physical address 0 is
 * never handed out, so an all-zero PTE always means "absent".
 *
 * Reference counting: a frame's count is the number of references to it:
 * handles held by callers (from vms_frame_alloc / vms_frame_get) plus PTEs
 * that map it plus releases still waiting for an RCU grace period. The
 * frame returns to the pool when the count drops to zero. Frames removed
 * from a page table are released only after a grace period, so lock-free
 * accessors never read a reused frame.
 */
#ifndef VMS_POOL_H
#define VMS_POOL_H

#include <vms/types.h>

struct vms_pool;
struct vms_frame;

struct vms_pool_stats {
	uint64_t total_frames;	/* 4 KiB frames the pool can hand out */
	uint64_t free_frames;	/* 4 KiB frames not in use (incl. never touched) */
	uint64_t data_frames;	/* 4 KiB units held by data frames (a 2 MiB frame counts 512) */
	uint64_t pt_frames;	/* page-table nodes */
	uint64_t deferred;	/* releases waiting for a grace period */
	uint64_t spaces;	/* live VM spaces */
};

/* Create a pool of @bytes (rounded up to 2 MiB; at least 4 MiB, at most
 * 64 GiB). Returns 0, -EINVAL for a bad size or NULL @out, -ENOMEM. */
int vms_pool_new(size_t bytes, struct vms_pool **out);

/*
 * Return @pool to the state vms_pool_new() left it in, keeping its memory
 * mapped: the same program then gets the same physical addresses and
 * zeroed frames as in a fresh pool. Costs what was used since the pool was
 * made or last reset (a fuzz executor resets one pool between inputs).
 * The caller guarantees that no other thread uses the pool during the
 * call and keeps no frame pointer from before it. Checked, in order:
 * -EINVAL for a NULL @pool; -EDEADLK if the calling thread holds a cursor;
 * then deferred releases are run (every thread's retire batch for the
 * pool included, see below) and -EBUSY (the pool is kept as it is) if a
 * space exists or any frame is still referenced, as for a destroy. After
 * it no thread holds anything of the pool back, what threads' cached
 * cursors remember of it is void, and the calling thread has none cached
 * (it starts again as a fresh thread would).
 */
int vms_pool_reset(struct vms_pool *pool);

/* Destroy @pool after waiting for deferred releases. Returns -EINVAL for
 * a NULL @pool; -EDEADLK if the calling thread holds a cursor (it cannot
 * wait for a grace period then); -EBUSY (and keeps the pool) while a
 * space exists or any frame is still referenced, so a leak is reported
 * rather than hidden. */
int vms_pool_destroy(struct vms_pool *pool);

/*
 * Give back the memory of @pool's frames and their metadata, whatever state
 * the pool is in, for a pool that no thread will touch again: a controlled
 * run (VMS_SCHED) whose threads were abandoned mid-op, holding node locks
 * and references (a program's own deadlock), leaves a pool that can be
 * neither reset nor destroyed, and keeping each such pool whole cost a
 * fuzzer about 2 MiB of resident memory a time. The memory goes to the
 * next vms_pool_new() as a destroyed pool's does (zeroed as it is handed
 * out). The pool struct, its spaces and the cursors the abandoned threads
 * hold stay allocated, as they may point at each other; any later use of
 * them is a bug, which faults. Returns 0, or -EINVAL for a NULL @pool.
 */
int vms_pool_discard(struct vms_pool *pool);

/* Snapshot of the counters (racy under concurrency, exact at quiescence).
 * Returns 0, or -EINVAL for a NULL @pool or @st. */
int vms_pool_stats(struct vms_pool *pool, struct vms_pool_stats *st);

/* Wait for one grace period and run every deferred release, including
 * those other threads still hold in their batches (see below). Must not
 * be called while this thread holds a cursor. Returns 0, -EINVAL for a
 * NULL @pool, -EDEADLK (the calling thread holds a cursor). */
int vms_pool_quiesce(struct vms_pool *pool);

/*
 * Deferred releases are batched per thread: what a cursor removed joins
 * its thread's batch when it is dropped, and a batch goes to the pool's
 * reclaimer thread (which waits for one grace period per set of batches
 * it takes) only once it holds back the retire batch, counted in 4 KiB
 * frames (a 2 MiB frame counts 512, a detached table 1 plus its leaves; a
 * frame a cursor releases again right after itself counts once).
 * So a cursor session never waits for a grace period, and one grace
 * period covers many sessions. Memory held back is bounded by the retire
 * batch per thread that dropped a cursor in this pool, plus the batches
 * the reclaimer has not released yet (it runs at a low priority: when
 * memory runs out, vms_frame_alloc and the cursor constructors reclaim
 * themselves, and so does a thread that hands a batch over while more
 * than VMS_RETIRE_BACKLOG items wait for the reclaimer). Emptied batches
 * are kept for reuse, up to room for VMS_RETIRE_BACKLOG items, so that
 * sessions do not take them from the heap. A thread's batch also goes to
 * the reclaimer when the thread exits; vms_pool_quiesce takes every
 * thread's.
 *
 * vms_pool_set_retire_batch sets the retire batch (default
 * VMS_RETIRE_BATCH; 1 in the checking builds of the stress driver and the
 * controlled scheduler, -DVMS_POISON) for batches filled from now on; 1
 * makes every drop of a cursor that removed something wake the reclaimer.
 * A pool reset keeps it. Returns 0, -EINVAL (NULL @pool, @n == 0 or
 * @n > VMS_RETIRE_BATCH_MAX).
 */
#define VMS_RETIRE_BATCH	1024
#define VMS_RETIRE_BATCH_MAX	65536
/* Items (8 bytes each) waiting for the reclaimer above which the thread
 * handing a batch over reclaims itself; also the room kept in spare
 * batches. A compile-time knob: per pool, at most twice this many items'
 * worth of batch memory besides the threads' own batches. */
#define VMS_RETIRE_BACKLOG	65536
int vms_pool_set_retire_batch(struct vms_pool *pool, unsigned n);

/*
 * vms_pool_set_reclaim_inline(pool, true): no reclaimer thread. A thread
 * that hands a batch over then reclaims the batches handed over itself
 * (one grace period, on the calling thread) if it is outside a read-side
 * section, and otherwise leaves them for the next reclaim: a later hand-
 * over outside one, a quiesce, a reset or a destroy (and, with memory
 * short, the direct reclaims above, as always). So which frames are free
 * when depends only on what the threads do, never on when another thread
 * ran: a sequential program's run is deterministic (the fuzz executor).
 * false (the default) gives the thread back; one already started stays
 * until the next reset or destroy but is no longer kicked. A pool reset
 * keeps the setting. Returns 0, -EINVAL (NULL @pool).
 */
int vms_pool_set_reclaim_inline(struct vms_pool *pool, bool on);

/* Allocate a zeroed data frame of @level (1: 4 KiB, 2: 2 MiB) with one
 * handle (refcount 1). -EINVAL for a bad level, -ENOMEM when exhausted. */
int vms_frame_alloc(struct vms_pool *pool, int level, struct vms_frame **out);

/* Take one more handle on a live data frame. -EINVAL if @f is not one. */
int vms_frame_get(struct vms_frame *f);

/* Drop one handle. -EINVAL if @f is not a live data frame or the caller
 * holds no handle on it (a double put is reported, not performed). */
int vms_frame_put(struct vms_frame *f);

/* Physical address, level and reference count of a frame (0 for NULL). */
vms_paddr_t vms_frame_paddr(const struct vms_frame *f);
int vms_frame_level(const struct vms_frame *f);
uint64_t vms_frame_refcount(const struct vms_frame *f);
/* Handles held by callers (the refcount minus PTE and deferred references). */
uint64_t vms_frame_handles(const struct vms_frame *f);

/* The frame's bytes through the pool's linear map (tests and oracles),
 * or NULL for a NULL @f. The caller may write through it: the frame is
 * zeroed again before any later reuse. */
void *vms_frame_data(const struct vms_frame *f);
/* The same bytes, read only (oracles that compare contents). */
const void *vms_frame_peek(const struct vms_frame *f);

/* The physical address of byte @at of @pool's memory (the inverse of the
 * linear map vms_frame_data uses), or 0 if @at is not in the pool. */
vms_paddr_t vms_pool_paddr(const struct vms_pool *pool, const void *at);

/* The frame that owns physical address @pa (a 2 MiB frame for any address
 * inside it), or NULL if @pa is not inside a live data frame. */
struct vms_frame *vms_frame_from_paddr(struct vms_pool *pool, vms_paddr_t pa);

#endif /* VMS_POOL_H */
