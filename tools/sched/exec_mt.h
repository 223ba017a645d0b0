/* SPDX-License-Identifier: MIT */
/*
 * exec_mt.h - the controlled executor: a multi-thread op program (op.h)
 * run on the VMS_SCHED build of libvms under the controlled scheduler,
 * checked against the model through the one op semantics (step.h).
 *
 * Each program thread is a thread of vms_sched_run. It activates space 0
 * (every thread starts as vmt_exec's one does), runs its ops through
 * vmt_step_core, then drops its cursors, releases its accessors, puts its
 * handles and deactivates its space, all as recorded ops. Every outcome
 * gets a ticket at its linearization point, and after the run the model
 * steps are applied in ticket order, as the stress driver does:
 *
 *   - ops under a cursor's locks (the cursor ops, cursor_new, drop): the
 *     return, while the locks are still held;
 *   - accessor registry ops (reader/writer_new, activate, release): the
 *     unlock point of the space's accessor mutex, where the thread still
 *     held it (vms_sched_last_release): another thread can run between
 *     that unlock and the return;
 *   - everything else: the return (its result depends on the thread's
 *     own state only).
 *
 * What lock-free readers see is judged against states, not one state: a
 * copy's page (the core's copy hook gives each page's frame and the
 * moment its bytes moved) must be mapped there with the permission in
 * some model state between the copy's start and its end, widened to the
 * end of every map, unmap or protect on the space that was under way by
 * then (their PTE stores fall anywhere inside them); its bytes must be
 * the frame's bytes at that moment (a write's pages are applied to the
 * model frame at the moment they moved). A page that faulted must be
 * unmapped or forbidden in one of those states. An activation's "every
 * page mapped" is judged the same way.
 *
 * Where a thread cannot work as in vmt_exec: an op on a space slot
 * another thread has not filled yet is recorded as skipped (the model
 * must have no space there at that ticket); space_new claims its slot;
 * space_destroy and check are skipped (destroying a space another thread
 * may be entering is a use-after-free by contract; check needs a
 * quiescent pool, and so does corrupt, the checker's self-test; pool_new's
 * destroy waits for a grace period, which
 * a virtual thread cannot while others hold cursors): the run ends with
 * the full check instead.
 *
 * A deadlock of threads opening cursors, one of which holds a cursor on
 * the other space, is the program's (cursor.h: two cursors of a thread
 * in opposite orders may deadlock; within one space the lock order is
 * global): no finding, but program_deadlock is set.
 *
 * Oracles, first in time wins: the core's run-time checks (poison build:
 * lock protocol, grace periods, node and frame liveness) through
 * vms_poison_hook; mutual exclusion (a range shadow of the open cursors:
 * two threads holding overlapping cursors); the scheduler's verdict
 * (deadlock with its wait-for cycle, step budget); the model steps in
 * ticket order and the copies; the end: vmt_exec_finish (quiescent full
 * state, frame conservation, teardown), and a pool that does not reset.
 */
#ifndef VMT_EXEC_MT_H
#define VMT_EXEC_MT_H

#include <stdio.h>

#include "policy.h"
#include "../op/op.h"

#define VMT_MT_POOL_DEFAULT	(32ULL << 20)
#define VMT_MT_STEPS_DEFAULT	1000000

struct vmt_mt_opts {
	/* NULL: replay the program's schedule (the default choice where it
	 * says nothing) */
	vms_sched_policy_fn policy;
	void *policy_arg;
	struct vms_sched_step *trace;	/* NULL: none */
	size_t trace_cap;
	uint64_t max_steps;		/* 0: VMT_MT_STEPS_DEFAULT */
	size_t pool_bytes;		/* 0: VMT_MT_POOL_DEFAULT */
	FILE *log;			/* each outcome in ticket order, if set */
	/* If set, the run's ops as they ran (at most steps_cap, in the order
	 * they started): what a report shows thread by thread. */
	struct vmt_mt_step *steps;
	size_t steps_cap;
};

/* One op as it ran: its thread, where it started and ended in decisions
 * (the decisions taken before it; an op runs alone between two), its
 * result. Ops the thread runs on its own (the start's activate, the
 * end's drops and puts) have op -1. */
struct vmt_mt_step {
	struct vmt_op op;
	int index;			/* in the program; -1: the thread's own */
	uint8_t thread;
	bool skipped;			/* on a space slot not filled yet */
	bool unfinished;		/* the run stopped while it ran */
	uint64_t d0, d1;		/* decisions before its start and its end */
	long ret;
};

enum vmt_mt_kind {
	VMT_MT_OK,
	VMT_MT_INVARIANT,	/* the core's run-time checks */
	VMT_MT_MUTEX,		/* overlapping cursors */
	VMT_MT_DEADLOCK,
	VMT_MT_BUDGET,		/* or a bad choice of the policy */
	VMT_MT_DIVERGE,		/* an outcome, a copy or the end state */
};

struct vmt_mt_result {
	int status;		/* 0 no finding, 1 a finding, -EINVAL bad program, -ENOMEM */
	enum vmt_mt_kind kind;
	/* One line that names the finding the same way whatever the
	 * schedule that shows it: no tickets or decision counts. */
	char title[256];
	char detail[512];	/* the same with the particulars */
	int thread, op;		/* where (op: index in the program; -1 none) */
	long step;		/* the op under way there, in vmt_mt_opts.steps; -1 */
	struct vms_sched_result sched;
	unsigned records, pages;	/* outcomes and copied pages checked */
	/* No finding, but the run could not end: the program took cursors
	 * on two spaces in opposite orders, which cursor.h says may
	 * deadlock. The program's doing, not the core's; detail holds the
	 * wait-for cycle (vms_sched_format). */
	bool program_deadlock;
	size_t nsteps;		/* filled in o->steps (all of them if <= cap) */
};

/* Run @p (any program: one thread and no schedule works too) once.
 * Returns r->status. */
int vmt_exec_mt(const struct vmt_prog *p, const struct vmt_mt_opts *o,
		struct vmt_mt_result *r);

#endif /* VMT_EXEC_MT_H */
