/* SPDX-License-Identifier: MIT */
/* policy.c - replay, random and PCT policies; traces to preemptions. */
#include <stdio.h>
#include <stdlib.h>

#include "policy.h"

uint64_t vmt_sched_rand(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* ---- replay ---- */

static int preempt_cmp(const void *a, const void *b)
{
	const struct vmt_preempt *x = a, *y = b;

	if (x->thread != y->thread)
		return x->thread < y->thread ? -1 : 1;
	return x->nth < y->nth ? -1 : x->nth > y->nth;
}

void vmt_preempts_sort(struct vmt_preempt *p, size_t n)
{
	qsort(p, n, sizeof(*p), preempt_cmp);
}

int vmt_replay_init(struct vmt_replay *r, const struct vmt_preempt *p, size_t n)
{
	*r = (struct vmt_replay){ .p = p, .n = n };
	for (size_t i = 0; i < n; i++)
		if (p[i].thread >= VMS_SCHED_MAX_THREADS ||
		    (i && preempt_cmp(&p[i - 1], &p[i]) >= 0))
			return -EINVAL;
	/* pos[t]: the first entry of thread t (or of a later thread). */
	for (int t = 0, i = 0; t < VMS_SCHED_MAX_THREADS; t++) {
		while ((size_t)i < n && p[i].thread < t)
			i++;
		r->pos[t] = (size_t)i;
	}
	return 0;
}

int vmt_replay_choose(void *replay, const struct vms_sched_view *v)
{
	struct vmt_replay *r = replay;
	size_t *pos = &r->pos[v->thread];

	/* Entries of this thread for decisions that had a single choice
	 * (never taken) are passed over. */
	while (*pos < r->n && r->p[*pos].thread == v->thread && r->p[*pos].nth < v->nth)
		(*pos)++;
	if (*pos < r->n && r->p[*pos].thread == v->thread && r->p[*pos].nth == v->nth) {
		const struct vmt_preempt *e = &r->p[(*pos)++];

		if (e->next < 32 && (v->runnable & (1u << e->next))) {
			r->used++;
			return e->next;
		}
		r->missed++;
	}
	return vms_sched_default_choice(v);
}

size_t vmt_trace_preempts(const struct vms_sched_step *trace, size_t n,
			  struct vmt_preempt *out, size_t cap)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		const struct vms_sched_step *s = &trace[i];
		struct vms_sched_view v = { .thread = s->thread, .runnable = s->runnable };

		if (s->chosen == vms_sched_default_choice(&v))
			continue;
		if (k < cap)
			out[k] = (struct vmt_preempt){ s->nth, s->thread, s->chosen };
		k++;
	}
	if (k <= cap)
		vmt_preempts_sort(out, k);
	return k;
}

static const char *ordinal(uint32_t n)
{
	if (n % 100 >= 11 && n % 100 <= 13)
		return "th";
	return n % 10 == 1 ? "st" : n % 10 == 2 ? "nd" : n % 10 == 3 ? "rd" : "th";
}

int vmt_preempt_format(const struct vmt_preempt *p, char *buf, size_t n)
{
	if (!p->nth)
		return snprintf(buf, n, "start with thread %u", p->next);
	return snprintf(buf, n, "after thread %u's %u%s decision, run thread %u",
			p->thread, p->nth, ordinal(p->nth), p->next);
}

long vmt_trace_diff(const struct vms_sched_step *a, size_t na,
		    const struct vms_sched_step *b, size_t nb)
{
	size_t n = na < nb ? na : nb;

	for (size_t i = 0; i < n; i++)
		if (a[i].thread != b[i].thread || a[i].chosen != b[i].chosen ||
		    a[i].runnable != b[i].runnable || a[i].nth != b[i].nth ||
		    a[i].event != b[i].event || !vms_sched_site_equal(a[i].site, b[i].site))
			return (long)i;
	return na == nb ? -1 : (long)n;
}

/* ---- random ---- */

void vmt_random_init(struct vmt_random *r, uint64_t seed)
{
	r->state = seed;
}

/* The @k-th (from 0) set bit of @mask. */
static int nth_bit(uint32_t mask, unsigned k)
{
	while (k--)
		mask &= mask - 1;
	return __builtin_ctz(mask);
}

int vmt_random_choose(void *random, const struct vms_sched_view *v)
{
	struct vmt_random *r = random;

	uint64_t n = (uint64_t)__builtin_popcount(v->runnable);

	/* (32 random bits * n) >> 32: uniform enough, and no division. */
	return nth_bit(v->runnable, (unsigned)(((vmt_sched_rand(&r->state) >> 32) * n) >> 32));
}

/* ---- PCT ---- */

/* Initial priorities are above 2^32 (drawn at random: a random order of
 * the threads), change-point priorities are 1..d-1, below all of them. */
#define PCT_BASE (1ULL << 32)

int vmt_pct_init(struct vmt_pct *p, uint64_t seed, int depth, uint64_t k)
{
	if (depth < 1 || depth > VMT_PCT_MAX_DEPTH || !k)
		return -EINVAL;
	*p = (struct vmt_pct){ .rng = seed, .depth = depth };
	/* d-1 distinct change points in [1, k] (fewer if k < d-1). */
	while (p->nr_change < depth - 1 && (uint64_t)p->nr_change < k) {
		uint64_t c = 1 + vmt_sched_rand(&p->rng) % k;
		int i = p->nr_change;

		for (int j = 0; j < p->nr_change; j++)
			if (p->change[j] == c)
				i = -1;
		if (i < 0)
			continue;
		/* insertion, keeping the points ascending */
		while (i > 0 && p->change[i - 1] > c) {
			p->change[i] = p->change[i - 1];
			i--;
		}
		p->change[i] = c;
		p->nr_change++;
	}
	return 0;
}

int vmt_pct_choose(void *pct, const struct vms_sched_view *v)
{
	struct vmt_pct *p = pct;
	int best = -1;

	/* A thread gets its priority when first seen (the reclaimer starts
	 * late): a random rank among the initial priorities. */
	for (int i = 0; i < v->nr_threads; i++) {
		if (!(p->has_prio & (1u << i))) {
			p->prio[i] = PCT_BASE + (vmt_sched_rand(&p->rng) >> 32);
			p->has_prio |= 1u << i;
		}
	}
	p->decisions++;
	if (p->next_change < p->nr_change && p->decisions == p->change[p->next_change]) {
		p->next_change++;
		p->prio[v->thread] = (uint64_t)p->next_change;
	}
	for (int i = 0; i < v->nr_threads; i++)
		if ((v->runnable & (1u << i)) && (best < 0 || p->prio[i] > p->prio[best]))
			best = i;
	return best;
}
