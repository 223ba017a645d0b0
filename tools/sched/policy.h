/* SPDX-License-Identifier: MIT */
/*
 * policy.h - scheduling policies for the controlled build of the core
 * (core/src/scheduler.h), and the link between a run's decision trace
 * and the preemption list that replays it.
 *
 * Every policy is a vms_sched_policy_fn with its state as the argument;
 * the scheduler calls it only at decisions with two or more runnable
 * threads, so "a decision" below means one of those.
 *
 * - replay: a list of preemptions, each "at thread t's n-th decision, run
 *   thread u" (keys as in scheduler.h: per thread, so dropping ops of
 *   another thread does not move them). Elsewhere the default choice:
 *   keep running the current thread until it blocks or ends, then the
 *   lowest runnable one. A run's trace converts to the shortest list that
 *   replays it (vmt_trace_preempts).
 * - random: a uniform choice among the runnable threads, from a seed.
 * - pct: probabilistic concurrency testing (Burckhardt, Kothari,
 *   Musuvathi, Nagarakatte, ASPLOS'10): distinct random priorities, the
 *   highest-priority runnable thread runs; d-1 change points, drawn among
 *   the first k decisions, each drop the running thread's priority below
 *   every initial one (the i-th to i). A bug of depth d shows with
 *   probability at least 1/(n k^(d-1)) per run (n threads).
 */
#ifndef VMT_SCHED_POLICY_H
#define VMT_SCHED_POLICY_H

#include "scheduler.h"
#include "../op/preempt.h"

/* ---- replay ---- */

struct vmt_replay {
	const struct vmt_preempt *p;
	size_t n;
	size_t pos[VMS_SCHED_MAX_THREADS];	/* next entry of each thread */
	size_t used, missed;	/* missed: the thread named could not run */
};

/* @p sorted by (thread, nth) without duplicates (vmt_preempts_sort), and
 * kept by the caller. -EINVAL if not. */
int vmt_replay_init(struct vmt_replay *r, const struct vmt_preempt *p, size_t n);
int vmt_replay_choose(void *replay, const struct vms_sched_view *v);
void vmt_preempts_sort(struct vmt_preempt *p, size_t n);

/* The preemptions that make the default choice reproduce @trace: one per
 * decision where the trace did not take it. Writes at most @cap, returns
 * how many there are. */
size_t vmt_trace_preempts(const struct vms_sched_step *trace, size_t n,
			  struct vmt_preempt *out, size_t cap);

/* "after thread 0's 3rd decision, run thread 1" */
int vmt_preempt_format(const struct vmt_preempt *p, char *buf, size_t n);

/* Index of the first step where the traces differ (thread, choice,
 * runnable set, key, event or site), or -1 if they are the same. */
long vmt_trace_diff(const struct vms_sched_step *a, size_t na,
		    const struct vms_sched_step *b, size_t nb);

/* ---- random ---- */

struct vmt_random {
	uint64_t state;
};

void vmt_random_init(struct vmt_random *r, uint64_t seed);
int vmt_random_choose(void *random, const struct vms_sched_view *v);

/* ---- PCT ---- */

#define VMT_PCT_MAX_DEPTH 8

struct vmt_pct {
	uint64_t rng;
	int depth;
	uint64_t change[VMT_PCT_MAX_DEPTH];	/* decision numbers, ascending */
	int nr_change, next_change;
	uint64_t decisions;			/* seen so far: k for the next run */
	uint64_t prio[VMS_SCHED_MAX_THREADS];
	uint32_t has_prio;
};

/* @depth 1..VMT_PCT_MAX_DEPTH; @k: decisions a run takes (an estimate,
 * e.g. the largest ->decisions of earlier runs; at least 1). */
int vmt_pct_init(struct vmt_pct *p, uint64_t seed, int depth, uint64_t k);
int vmt_pct_choose(void *pct, const struct vms_sched_view *v);

/* splitmix64: the policies' random numbers, also for harnesses */
uint64_t vmt_sched_rand(uint64_t *state);

#endif /* VMT_SCHED_POLICY_H */
