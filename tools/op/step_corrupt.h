/* SPDX-License-Identifier: MIT */
/*
 * step_corrupt.h - the steps of the corrupt and badarg ops
 * (step_corrupt.c, step_badarg.c), for the step tables of step_core.c
 * and step_model.c.
 */
#ifndef VMT_STEP_CORRUPT_H
#define VMT_STEP_CORRUPT_H

#include "step.h"
#include "badarg.h"

/* Core step: corrupt, check, undo, check again (outcome: ret and chk[0]
 * the first check, release_ret and chk[1] the second). False (skipped)
 * while the thread has a cursor open, on an empty space slot, or when
 * the space has nothing to corrupt that way. */
bool core_corrupt(struct vmt_thread *t, const struct vmt_op *op,
		  struct vmt_outcome *o);
/* Model step: the check must have fired with the corruption's kind, and
 * passed after the undo; else a difference ("CHECK MISSED name ...") in
 * @why. The model does not change. */
bool vmt_corrupt_judge(const struct vmt_outcome *o, char *why, size_t n);

/* badarg's core step: the call of badarg.h named by the op, ret its
 * result. */
bool core_badarg(struct vmt_thread *t, const struct vmt_op *op,
		 struct vmt_outcome *o);
/* What the call must return by its header (-EINVAL, or 0 for a release). */
long vmt_badarg_expect(enum vmt_badarg c);

#endif /* VMT_STEP_CORRUPT_H */
