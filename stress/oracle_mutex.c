/* SPDX-License-Identifier: MIT */
/*
 * oracle_mutex.c - the mutual-exclusion oracle: a shadow registry of the
 * ranges of live cursors, one word per worker. A worker publishes its
 * session's range once the cursor is open and checks it against every
 * other published range; an overlap is a violation (two cursors hold
 * overlapping ranges at once).
 */
#include "worker.h"

#define PAGE ((uint64_t)VMS_PAGE_SIZE)

/* One word per thread so a reader never sees half an update: start page
 * number in the high bits, length in pages in the low 29. */
static uint64_t pack_range(uint64_t start, uint64_t end)
{
	uint64_t pages = (end - start) / PAGE;

	if (pages >= (1ULL << 29))
		pages = (1ULL << 29) - 1;
	return (start / PAGE) << 29 | pages;
}

static void unpack_range(uint64_t v, uint64_t *s, uint64_t *e)
{
	*s = (v >> 29) * PAGE;
	*e = *s + (v & ((1ULL << 29) - 1)) * PAGE;
}

/* Published after the cursor is open and withdrawn before it is dropped,
 * so a published range is always one the core claims to hold. Seq-cst
 * store then loads: of two overlapping holders at least one sees the
 * other. */
void vmts_shadow_enter(struct worker *w, uint64_t start, uint64_t end, bool mut)
{
	struct stress *S = w->S;

	atomic_store(&S->shadow_start[w->idx], pack_range(start, end));
	if (!(S->o.oracles & (1u << ORA_MUTEX)))
		return;
	for (unsigned j = 0; j < S->nworkers; j++) {
		uint64_t v, s, e;

		if (j == w->idx)
			continue;
		v = atomic_load(&S->shadow_start[j]);
		if (!v)
			continue;
		unpack_range(v, &s, &e);
		if (s < end && start < e)
			vmts_violation(
				S, ORA_MUTEX,
				"%s: thread %u holds [%#lx,%#lx) (%s) while "
				"thread %u holds [%#lx,%#lx)",
				vms_check_name(VMS_CHECK_OVERLAP), w->idx,
				start, end, mut ? "mut" : "ro", j, s, e);
	}
}

void vmts_shadow_leave(struct worker *w)
{
	atomic_store(&w->S->shadow_start[w->idx], 0);
}
