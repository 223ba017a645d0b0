/* SPDX-License-Identifier: MIT */
/*
 * exec.h - the lock-step run's state, shared by the executor's parts
 * (private to tools/op/): exec.c runs the ops, exec_check.c compares
 * after each and sweeps the whole state, localize.c finds the op after
 * which the states first differ.
 */
#ifndef VMT_EXEC_H
#define VMT_EXEC_H

#include <vms/vms.h>

#include "step.h"
#include "reuse.h"
#include "../../model/model.h"

struct lockstep {
	const struct vmt_prog *p;
	const struct vmt_exec_opts *o;
	struct vmt_result *r;
	struct vmt_reuse
		*u; /* the thread's pool and model, reset after the run */
	struct vmt_shared *sh; /* u->sh */
	struct vmt_thread t;
	struct vmt_model_side *ms; /* u->ms */
	struct vmt_model *m;	   /* ms->m */

	int opi;	   /* current op index (p->n: the epilogue) */
	const char *what;  /* current op name, for signatures */
	const char *check; /* the table's check a difference breaks, if any */
	bool diverged;
	bool have_rc; /* last_rc is this op's first compared result */
	bool swept;   /* the last check op's sweeps saw this state: no op
		       * ran after them (exec_op) */
	long last_rc;
	uint64_t
		new_paddr; /* a frame_alloc that succeeded: the frame's paddr */
	uint64_t crange[VMT_NR_SPACES]
		       [2]; /* each space's open cursor: [start, end) */
	/* and the level of its guard, as the design put it at its creation */
	int cguard[VMT_NR_SPACES];
};

/* Record the run's divergence (the first only): status 1, the op, and a
 * title "DIVERGENCE op#N name: [check: ]detail". */
void lockstep_diverge(struct lockstep *x, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* The model step of @o; a difference is the divergence. */
void lockstep_check_outcome(struct lockstep *x, const struct vmt_outcome *o);
/* After a cursor_new of space @sp succeeded: its guard's level. */
void lockstep_check_guard(struct lockstep *x, int sp);
/* Before a cursor_try: false where its result depends on more than the
 * model knows (the op is skipped); else *@conflict: -EDEADLK is due. */
bool lockstep_judge_try(struct lockstep *x, const struct vmt_op *op,
			bool *conflict);
/* After a check op agreed: model self-check, then the full sweeps. */
void lockstep_check_phase(struct lockstep *x, const struct vmt_outcome *o);
/* Compare the leaves of space @sp in [lo, hi) through cursor @c. */
bool lockstep_sweep_range(struct lockstep *x, int sp, struct vms_cursor *c,
			  uint64_t lo, uint64_t hi);
/* The core's run-time checks (-DVMS_INVARIANTS) diverge run @x until
 * lockstep_unhook(). */
void lockstep_hook(struct lockstep *x);
void lockstep_unhook(void);

#endif /* VMT_EXEC_H */
