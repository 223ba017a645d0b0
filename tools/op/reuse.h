/* SPDX-License-Identifier: MIT */
/* reuse.h - the pool and model vmt_exec keeps per thread (see reuse.c). */
#ifndef VMT_REUSE_H
#define VMT_REUSE_H

#include <stddef.h>
#include <stdint.h>

#include "step.h"

struct vmt_reuse {
	struct vms_pool *pool;		/* NULL until made, or after a failed reset */
	size_t pool_bytes;
	struct vmt_shared sh;		/* frame numbering of pool (sh.pool == pool) */
	struct vmt_model_side ms;	/* the model and its frame maps */
	/* The run's thread's read/write buffer (struct vmt_thread io),
	 * lent to each run: a big copy's buffer freed per run was an munmap
	 * and page faults per input. */
	uint8_t *io;
	size_t iocap;
};

/* This thread's pool of @pool_bytes and model side, both in their
 * initial state, with frame numbering from 1 and no space. NULL with *@err = -ENOMEM, or vms_pool_new's error. */
struct vmt_reuse *vmt_reuse_get(size_t pool_bytes, int *err);

/* After a run that gave everything back: reset the pool and the model
 * side.
 * Returns vms_pool_reset's result; on an error the pool still holds
 * references, is dropped (leaked) and the next get makes a new one. */
int vmt_reuse_put(struct vmt_reuse *u);

/* After a run that could not give everything back (a controlled run
 * that ended in a deadlock abandons threads holding locks): forget the
 * pool, keep the model side. Its memory goes back (vms_pool_discard:
 * a program's own deadlock is no finding, and a fuzzer runs thousands);
 * the struct stays reachable (a leak on purpose, not one LeakSanitizer
 * reports). */
void vmt_reuse_abandon(struct vmt_reuse *u);

#endif /* VMT_REUSE_H */
