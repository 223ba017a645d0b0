/* SPDX-License-Identifier: MIT */
/*
 * oracle_serial.c - the serializability oracle, on the coordinator at a
 * round barrier: every worker's session records of the round, merged in
 * ticket order, go through the model's step (the op semantics the
 * executor uses), each outcome checked against what the core returned.
 * A divergence is saved as the session with the op marked. And the reset
 * that gives the next rounds a fresh witness: handles put, hot region
 * unmapped, a new model.
 */
#include <errno.h>
#include <stdlib.h>

#include "worker.h"

static int cmp_rec(const void *a, const void *b)
{
	const struct srec *x = *(const struct srec *const *)a,
			  *y = *(const struct srec *const *)b;

	return x->ticket < y->ticket ? -1 : x->ticket > y->ticket;
}

int vmts_replay_round(struct stress *S)
{
	size_t total = 0, k = 0;
	struct srec **all;
	int bad = 0;

	for (unsigned i = 0; i < S->nworkers; i++)
		total += S->w[i]->nrec;
	all = malloc((total + 1) * sizeof(*all));
	if (!all)
		return -ENOMEM;
	for (unsigned i = 0; i < S->nworkers; i++)
		for (size_t j = 0; j < S->w[i]->nrec; j++)
			all[k++] = &S->w[i]->recs[j];
	qsort(all, total, sizeof(*all), cmp_rec);
	for (k = 0; k < total && !bad; k++) {
		struct srec *r = all[k];
		struct worker *w = S->w[r->thread];
		char why[400];

		for (uint32_t j = 0; j < r->n; j++) {
			const struct vmt_outcome *e = &w->log[r->first + j];

			if (vmt_step_model(&S->ms, e, why, sizeof(why)))
				continue;
			if (S->o.oracles & (1u << ORA_SERIAL)) {
				char msg[600];

				snprintf(msg, sizeof(msg),
					 "round %lu, ticket %lu, thread %u, "
					 "session op %u: %s: %s",
					 S->round, r->ticket, r->thread, j,
					 vmt_op_name(e->op.code), why);
				vmts_violation(S, ORA_SERIAL, "%s", msg);
				vmts_save_session(S, w, r, (int)j,
						  "diverges here", msg);
			}
			bad = 1;
			break;
		}
		atomic_fetch_add_explicit(&S->ts[MAX_THREADS].progress, 1,
					  memory_order_relaxed);
	}
	atomic_fetch_add(&S->checks, total);
	free(all);
	for (unsigned i = 0; i < S->nworkers; i++)
		S->w[i]->nlog = S->w[i]->nrec = S->w[i]->pending = 0;
	return bad;
}

int vmts_reset(struct stress *S)
{
	struct vms_cursor *c;
	int ret;

	for (unsigned i = 0; i < S->nworkers; i++) {
		struct worker *w = S->w[i];

		vmt_thread_put_frames(&w->t);
		w->nlog = w->nrec = w->pending = 0;
	}
	ret = vms_cursor_mut_new(S->space, S->hot_base, S->hot_end, &c);
	if (ret)
		return ret;
	vms_cursor_unmap(c, S->hot_end - S->hot_base);
	vms_cursor_drop(c);
	vms_pool_quiesce(S->pool);
	if (vmt_model_side_reset(&S->ms, atomic_load(&S->sh.next_gid)) ||
	    vmt_model_space_new(S->ms.m, 0, vms_space_flags(S->space)))
		return -ENOMEM;
	S->resets++;
	return 0;
}
