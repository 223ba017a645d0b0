/* SPDX-License-Identifier: MIT */
/*
 * scheduler.h - the controlled scheduler of the VMS_SCHED build (sched.c).
 *
 * A run starts 1..VMS_SCHED_MAX_PROGRAM program threads on the calling OS
 * thread, as user-level contexts: exactly one of them runs at a time, and
 * it runs until it reaches a scheduling point of the sync layer (sync.h:
 * lock attempts and releases, shared PTE loads and stores, read-side
 * enter and exit, grace periods, deferred pushes and releases, reference
 * counts, accessor copies). Each point is a decision: the scheduler works
 * out which threads are runnable and, if there is more than one, asks the
 * run's policy which one goes on. The core's own reclaimer is a thread of
 * the run too (a vms_worker, started by a kick), so a reclaim can
 * interleave with a lock-free reader.
 *
 * A thread waiting for a node lock, a mutex, a grace period or another
 * thread's end is blocked: never chosen until what it waits for is free.
 * Grace periods are simulated: one that begins at decision i ends once
 * every thread inside a read-side section at i has left that section.
 * Nothing depends on the wall clock, the host's scheduler or addresses,
 * so the same program and the same policy give the same decisions: the
 * run's trace lets a harness check that ("uncontrolled nondeterminism").
 *
 * A run ends when every thread has ended (VMS_SCHED_DONE), when every
 * thread left is blocked (VMS_SCHED_DEADLOCK, with the wait-for chain),
 * when it has taken max_steps decisions (VMS_SCHED_BUDGET: a livelock or
 * a spin loop, not a hang), or when the policy returns a thread that is
 * not runnable (VMS_SCHED_BAD_CHOICE). After anything but DONE, threads
 * are abandoned where they stand, holding what they hold: the pool they
 * used cannot be destroyed; a harness leaks it.
 *
 * Decisions are keyed per thread: thread t's n-th decision is the n-th
 * time t reached a point (or blocked, or ended). The run's first decision
 * (which thread starts) counts as thread 0's 0th. Keys of one thread do
 * not move when another thread's program changes, which is what a stored
 * preemption list ("after thread 0's 3rd decision, run thread 1") needs.
 *
 * One run at a time per process, not nested; the core must not be used
 * from other OS threads during a run.
 */
#ifndef VMS_SCHEDULER_H
#define VMS_SCHEDULER_H

#include "sync.h"

#define VMS_SCHED_MAX_PROGRAM	4	/* program threads of a run */
#define VMS_SCHED_MAX_THREADS	8	/* with the workers it starts */
#define VMS_SCHED_DEFAULT_STEPS	100000

/* Why the thread at a decision stopped there. */
enum vms_sched_event {
	VMS_EV_START,		/* the run's first decision (thread 0, nth 0) */
	VMS_EV_POINT,		/* a scheduling point: it can go on */
	VMS_EV_BLOCK,		/* it waits (blocked) */
	VMS_EV_EXIT,		/* it ended */
};

/* What a policy sees at a decision with two or more runnable threads. */
struct vms_sched_view {
	uint64_t step;			/* decisions so far in this run */
	int thread;			/* the thread at the point */
	uint32_t nth;			/* its decision count (the key) */
	uint32_t runnable;		/* bit i: thread i may run (>= 2 bits) */
	int nr_threads;			/* threads started so far */
	enum vms_sched_event event;
	const struct vms_site *site;	/* where @thread stands */
};

/* Returns the thread to run, which must be in v->runnable. */
typedef int (*vms_sched_policy_fn)(void *arg, const struct vms_sched_view *v);

/* One decision of a run (every decision is recorded, choice or not). */
struct vms_sched_step {
	const struct vms_site *site;
	uint32_t runnable;
	uint32_t nth;
	uint8_t thread, chosen, event;
};

struct vms_sched_opts {
	int nr_threads;				/* program threads, 1..MAX_PROGRAM */
	struct {
		void (*fn)(void *arg);
		void *arg;
	} thread[VMS_SCHED_MAX_PROGRAM];
	/* NULL: the default, vms_sched_default_choice (keep running the
	 * current thread until it blocks or ends, then the lowest runnable) */
	vms_sched_policy_fn policy;
	void *policy_arg;
	uint64_t max_steps;			/* 0: VMS_SCHED_DEFAULT_STEPS */
	struct vms_sched_step *trace;		/* NULL: no trace */
	size_t trace_cap;
};

enum vms_sched_verdict {
	VMS_SCHED_DONE,
	VMS_SCHED_DEADLOCK,
	VMS_SCHED_BUDGET,
	VMS_SCHED_BAD_CHOICE,
};

/* One link of a wait-for chain: @thread waits (at @site) for @kind held
 * by @holder (-1: by no thread of the run, its id in holder_id). */
struct vms_sched_wait {
	int thread;
	enum vms_sched_wait_kind kind;
	const struct vms_site *site;
	int holder;
	uint32_t holder_id;
};

struct vms_sched_result {
	enum vms_sched_verdict verdict;
	uint64_t steps;			/* decisions taken */
	uint64_t switches;		/* context switches */
	int nr_threads;			/* program threads and workers */
	uint32_t workers;		/* bit i: thread i is a worker (reclaimer) */
	size_t trace_len;		/* steps recorded */
	bool trace_truncated;		/* the trace buffer was too small */
	/* Where each thread stands at the end (NULL: it ended). */
	const struct vms_site *where[VMS_SCHED_MAX_THREADS];
	/* DEADLOCK: the wait-for chain; cycle: its last link waits for the
	 * first link's thread. */
	int nr_waits;
	bool cycle;
	struct vms_sched_wait waits[VMS_SCHED_MAX_THREADS];
};

/* Run the threads of @o to the end under its policy. Returns 0 (the
 * verdict is in @r), -EINVAL (bad options), -EBUSY (a run is under way),
 * -ENOMEM (no stack for a thread, or the calling thread's fault site of
 * kind thread failed one: fault.h): then nothing ran. */
int vms_sched_run(const struct vms_sched_opts *o, struct vms_sched_result *r);

/* The default choice: @v->thread if it may go on, else the lowest
 * runnable thread. Replay policies fall back on it. */
int vms_sched_default_choice(const struct vms_sched_view *v);

/* The running controlled thread's index, or -1 outside a run. */
int vms_sched_self(void);

/*
 * Where a harness is in the run, to order what its threads did (the
 * controlled executor's tickets). vms_sched_now: the decisions taken so
 * far; whatever runs between two decisions runs alone. The running
 * thread's last lock release (a node or mutex unlock point): the
 * decision taken there, -1 if it has released nothing this run. At that
 * point the thread still held the lock, so what it did under the lock
 * comes before decision vms_sched_last_release() and after everything
 * any other thread did under that lock before.
 */
uint64_t vms_sched_now(void);
int64_t vms_sched_last_release(void);

/* Called (if set) for each page an accessor copies in this build, after
 * the copy's scheduling point and right before the bytes move: @frame is
 * where they come from or go to, in the pool's memory. */
extern void (*vms_copy_hook)(const void *frame, size_t n, bool write);

/* One line: the verdict, and for a deadlock the wait-for chain with the
 * sites. Returns what snprintf returns. */
int vms_sched_format(const struct vms_sched_result *r, char *buf, size_t n);
/* "node lock", "pte load", ... and "func:line". */
const char *vms_sched_kind_name(enum vms_sched_kind k);
const char *vms_sched_wait_name(enum vms_sched_wait_kind k);
int vms_sched_site_format(const struct vms_site *s, char *buf, size_t n);
/* Same kind, function and line (sites of two processes compare too). */
bool vms_sched_site_equal(const struct vms_site *a, const struct vms_site *b);

/* ---- for the sync layer (sync.c) ---- */

/* Start @fn as a worker thread of the run under way, in the slot of
 * *@handle if that thread has ended, else in a new one. -ESRCH outside a
 * run, -EAGAIN if all slots are taken, -ENOMEM if no stack (the calling
 * thread's fault site of kind thread): the caller works inline. */
int vms_sched_spawn(void (*fn)(void *arg), void *arg, uint64_t *handle);
/* Is the thread of @handle started in this run and not ended? */
bool vms_sched_alive(uint64_t handle);
/* Block until the thread of @handle has ended (no-op if it has). */
void vms_sched_join(uint64_t handle, const struct vms_site *site);
/* Block until every thread inside a read-side section now has left it. */
void vms_sched_grace(const struct vms_site *site);

#endif /* VMS_SCHEDULER_H */
