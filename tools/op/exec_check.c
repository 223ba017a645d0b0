/* SPDX-License-Identifier: MIT */
/*
 * exec_check.c - the executor's checks between ops (exec.c drives them):
 * each op's model step against its core outcome, the run-time invariant
 * hook, and at a check op (or an agreed injected fault) the sweeps that
 * compare the whole state: every leaf of every space, every live frame's
 * counts and contents, the pool's counters. A difference becomes the
 * run's divergence, titled by the check it breaks (vms/checks.def).
 */
#include <inttypes.h>
#include <stdarg.h>
#include <string.h>

#include "exec.h"
#include "debug.h"

/* ---- reporting --------------------------------------------------------- */

void lockstep_diverge(struct lockstep *x, const char *fmt, ...)
{
	char detail[200];
	va_list ap;

	if (x->diverged)
		return;
	x->diverged = true;
	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	x->r->status = 1;
	x->r->op = x->opi;
	if (x->opi < (int)x->p->n)
		snprintf(x->r->sig, sizeof(x->r->sig),
			 "DIVERGENCE op#%d %s: %s%s%s", x->opi, x->what,
			 x->check ? x->check : "", x->check ? ": " : "",
			 detail);
	else
		snprintf(x->r->sig, sizeof(x->r->sig),
			 "DIVERGENCE end %s: %s%s%s", x->what,
			 x->check ? x->check : "", x->check ? ": " : "",
			 detail);
}

/*
 * The core's invariant checks (fuzz builds: -DVMS_INVARIANTS) call this
 * hook inside a libvms call; the op that made it call is the divergence.
 */
extern void (*vms_poison_hook)(enum vms_check check, const char *where)
	__attribute__((weak));
static __thread struct lockstep *hook_x;

static void invariant_broken(enum vms_check check, const char *where)
{
	if (hook_x)
		lockstep_diverge(hook_x, "invariant broken: %s (in %s)",
				 vms_check_name(check), where);
}

void lockstep_hook(struct lockstep *x)
{
	if (&vms_poison_hook) {
		vms_poison_hook = invariant_broken;
		hook_x = x;
	}
}

void lockstep_unhook(void)
{
	hook_x = NULL;
}

/* A count compared by check @c of vms/checks.def; @what: which one. */
static bool same_u64(struct lockstep *x, enum vms_check c, const char *what,
		     uint64_t core, uint64_t model)
{
	if (core == model)
		return true;
	lockstep_diverge(x, "%s: %s core=0x%" PRIx64 " model=0x%" PRIx64,
			 vms_check_name(c), what, core, model);
	return false;
}

/* The model step of @o; a difference is the divergence. */
void lockstep_check_outcome(struct lockstep *x, const struct vmt_outcome *o)
{
	char why[256];

	if (!vmt_step_model(x->ms, o, why, sizeof(why)))
		lockstep_diverge(x, "%s", why);
	x->have_rc = x->ms->have_rc;
	x->last_rc = x->ms->rc;
}

/* ---- the sweep: compare the whole state at a quiesce point ------------- */

/* The model's leaves of space @sp that meet [lo, hi): [*first, *end). */
static void model_leaves_in(struct lockstep *x, int sp, uint64_t lo,
			    uint64_t hi, size_t *first, size_t *end)
{
	size_t i = 0, n = vmt_model_nr_leaves(x->m, sp);

	while (i < n &&
	       vmt_model_leaf(x->m, sp, i)->va +
			       vms_page_size(
				       vmt_model_leaf(x->m, sp, i)->level) <=
		       lo)
		i++;
	while (n > i && vmt_model_leaf(x->m, sp, n - 1)->va >= hi)
		n--;
	*first = i;
	*end = n;
}

/*
 * The range lock's guard (the subtree root a cursor on [lo, hi) locks)
 * is the node the design names (asterinas-cursor-notes.md 2.3, with the
 * exact-entry stop of #3731; lock.c find_guard): going down from the
 * root, the first node where lo and hi - 1 fall in different entries,
 * or the range is exactly one entry, or the entry holding lo is a leaf
 * (a huge leaf covers the range). Its level, from the model's leaves.
 */
static int design_guard(struct lockstep *x, int sp, uint64_t lo, uint64_t hi)
{
	int want = VMS_NR_LEVELS;
	size_t first, end;

	for (; want > 1; want--) {
		uint64_t size = vms_page_size(want);

		if (lo / size != (hi - 1) / size ||
		    (lo % size == 0 && hi - lo == size))
			break;
		model_leaves_in(x, sp, lo, lo + 1, &first, &end);
		if (first < end &&
		    vmt_model_leaf(x->m, sp, first)->level == want)
			break;
	}
	return want;
}

/*
 * A new cursor's guard is where the design puts it. The planted
 * exact_entry goes one level too far, and a 2 MiB map there fails; this
 * sees it at the cursor, from the seeds. The level is kept for
 * lockstep_judge_try (the design's answer would move with the leaves).
 */
void lockstep_check_guard(struct lockstep *x, int sp)
{
	int got = vms__debug_cursor_guard_level(x->t.cur[sp]);
	int want = design_guard(x, sp, x->crange[sp][0], x->crange[sp][1]);

	x->cguard[sp] = want;
	if (got != want)
		lockstep_diverge(x, "%s: level %d, the design's %d",
				 vms_check_name(VMS_CHECK_GUARD_LEVEL), got,
				 want);
}

/* The span [*lo, *hi) of the level-@level node over @va. */
static void node_span(uint64_t va, int level, uint64_t *lo, uint64_t *hi)
{
	uint64_t size = vms_page_size(level) * VMS_NR_ENTRIES;

	*lo = va & ~(size - 1);
	*hi = *lo + size;
}

static bool meet(uint64_t lo, uint64_t hi, uint64_t lo2, uint64_t hi2)
{
	return lo < hi2 && lo2 < hi;
}

/*
 * A second cursor B on the space of the open cursor A: B fails with
 * -EDEADLK iff it asks for a node A holds. A holds its guard and every
 * existing node below it whose span meets A's range, the nodes it made
 * by mapping included (they lie in its range); B's walk (lock.c)
 * locks only its guard, the nodes below it meeting its range, and on
 * the way down a node whose entry toward it is absent (to make the
 * child). Guards are aligned nodes, so their spans nest or are apart:
 *   - B's guard not below A's (a level as high or higher): B locks
 *     nothing above A's guard that A holds; it reaches A's nodes iff
 *     A's guard's span meets B's range (then B's pre-order walk meets
 *     A's guard, or the same guard, first);
 *   - B's guard below A's and its span meets A's range: every node on
 *     B's way from A's guard down is A's, and B locks the first of them
 *     it stops at: -EDEADLK;
 *   - B's guard apart from A's: disjoint sets;
 *   - B's guard below A's, its span off A's range: B locks only its own
 *     nodes if its guard exists, but where it does not, B locks the last
 *     node on its way, which A may hold: that depends on which empty
 *     nodes exist, which the model does not know. Exact only if a leaf
 *     of B's guard's level or below lies in that span (its node, and so
 *     every node above it, exists); else the op is skipped.
 * A range the core refuses first (-EINVAL) locks nothing.
 */
bool lockstep_judge_try(struct lockstep *x, const struct vmt_op *op,
			bool *conflict)
{
	int sp = op->space, la = x->cguard[sp], lb;
	uint64_t a0 = x->crange[sp][0], a1 = x->crange[sp][1];
	uint64_t b0 = op->a, b1 = op->b, sa0, sa1, sb0, sb1;
	size_t first, end;

	*conflict = false;
	if (!x->t.cur[sp] || b0 >= b1 || (b0 | b1) % VMS_PAGE_SIZE ||
	    b1 > VMS_USER_END)
		return true;
	lb = design_guard(x, sp, b0, b1);
	node_span(a0, la, &sa0, &sa1);
	node_span(b0, lb, &sb0, &sb1);
	if (lb >= la) {
		*conflict = meet(sa0, sa1, b0, b1);
		return true;
	}
	*conflict = meet(sb0, sb1, a0, a1);
	if (*conflict || sb1 <= sa0 || sa1 <= sb0)
		return true;
	model_leaves_in(x, sp, sb0, sb1, &first, &end);
	for (; first < end; first++)
		if (vmt_model_leaf(x->m, sp, first)->level <= lb)
			return true;
	return false;
}

/* The core's next leaf in [va, hi) through @c, into @mm: 1, 0 if there
 * is none, -1 if a call failed (the divergence). */
static int core_next_leaf(struct lockstep *x, int sp, struct vms_cursor *c,
			  uint64_t va, uint64_t hi, struct vms_mapping *mm)
{
	vms_vaddr_t found = 0;
	int rc = vms_cursor_find_next(c, hi - va, &found);

	if (rc < 0) {
		lockstep_diverge(
			x, "sweep find_next(0x%" PRIx64 ") on space %d: %d", va,
			sp, rc);
		return -1;
	}
	if (rc == 0)
		return 0;
	rc = vms_cursor_query(c, mm);
	if (rc) {
		lockstep_diverge(x,
				 "sweep query at 0x%" PRIx64 " on space %d: %d",
				 found, sp, rc);
		return -1;
	}
	return 1;
}

/* The core's leaf @mm against the model's leaf @i (of @n) of space @sp. */
static bool same_leaf(struct lockstep *x, int sp, const struct vms_mapping *mm,
		      size_t i, size_t n)
{
	struct vmt_leaf_seen seen;
	char why[256];

	if (i >= n) {
		lockstep_diverge(x,
				 "sweep space %d: core has a leaf at 0x%" PRIx64
				 ", model none",
				 sp, mm->start);
		return false;
	}
	seen = (struct vmt_leaf_seen){ mm->start,
				       mm->end,
				       mm->level,
				       mm->paddr,
				       vmt_frame_gid(x->sh, mm->frame),
				       mm->prop };
	if (!vmt_leaf_same(x->ms, &seen, vmt_model_leaf(x->m, sp, i), why,
			   sizeof(why))) {
		lockstep_diverge(x, "%s", why);
		return false;
	}
	return true;
}

/* The leaves of space @sp that meet [lo, hi), through cursor @c (which
 * covers that range; it ends anywhere in it): libvms's against the model's. */
bool lockstep_sweep_range(struct lockstep *x, int sp, struct vms_cursor *c,
			  uint64_t lo, uint64_t hi)
{
	size_t i, n;
	uint64_t va = lo;
	int rc;

	model_leaves_in(x, sp, lo, hi, &i, &n);
	rc = vms_cursor_jump(c, lo);
	if (rc) {
		lockstep_diverge(x, "sweep jump(0x%" PRIx64 ") on space %d: %d",
				 lo, sp, rc);
		return false;
	}
	while (va < hi && !x->diverged) {
		struct vms_mapping mm;

		rc = core_next_leaf(x, sp, c, va, hi, &mm);
		if (rc == 0 && i < n)
			lockstep_diverge(
				x,
				"sweep space %d: core has no leaf, model has 0x%" PRIx64,
				sp, vmt_model_leaf(x->m, sp, i)->va);
		if (rc <= 0 || !same_leaf(x, sp, &mm, i, n))
			break;
		i++;
		va = mm.end;
		if (va >= hi)
			break;
		rc = vms_cursor_jump(c, va);
		if (rc) {
			lockstep_diverge(
				x, "sweep jump(0x%" PRIx64 ") on space %d: %d",
				va, sp, rc);
			break;
		}
	}
	if (!x->diverged && i < n)
		lockstep_diverge(
			x,
			"sweep space %d: core ends before model leaf 0x%" PRIx64,
			sp, vmt_model_leaf(x->m, sp, i)->va);
	return !x->diverged;
}

static bool sweep_space(struct lockstep *x, int sp)
{
	struct vms_cursor *c;
	int rc = vms_cursor_new(x->sh->space[sp], 0, VMS_USER_END, &c);

	if (rc) {
		lockstep_diverge(x, "sweep cursor on space %d: %d", sp, rc);
		return false;
	}
	lockstep_sweep_range(x, sp, c, 0, VMS_USER_END);
	vms_cursor_drop(c);
	return !x->diverged;
}

/* Frame refcounts, handles and contents, and pool counters. Valid only
 * right after a successful vms_space_check (no release pending). */
static void sweep_frames(struct lockstep *x)
{
	struct vms_pool_stats st;
	uint8_t *mbuf = vmt_io(&x->ms->io, &x->ms->iocap, VMS_PAGE_SIZE);

	if (!mbuf) {
		lockstep_diverge(x, "out of memory");
		return;
	}
	for (int id = 0; id < vmt_model_nr_frames(x->m) && !x->diverged; id++) {
		uint64_t gid = vmt_model_side_gid(x->ms, id), pages;
		const uint8_t *base;
		struct vms_frame *f;

		if (!vmt_model_frame_live(x->m, id))
			continue;
		f = vms_frame_from_paddr(x->sh->pool,
					 vmt_model_side_paddr(x->ms, gid));
		if (!same_u64(x, VMS_CHECK_FRAME_COUNTS, "refcount",
			      vms_frame_refcount(f),
			      vmt_model_frame_refcount(x->m, id)) ||
		    !same_u64(x, VMS_CHECK_FRAME_COUNTS, "handles",
			      vms_frame_handles(f),
			      vmt_model_frame_handles(x->m, id)))
			return;
		pages = vms_page_size(vmt_model_frame_level(x->m, id)) /
			VMS_PAGE_SIZE;
		base = f ? vms_frame_peek(f) : NULL;
		for (uint64_t pg = 0; base && pg < pages; pg++) {
			/* Untouched pages must still be zero: checked whole for 4
			 * KiB frames (a stray write shows), skipped in 2 MiB ones
			 * (the model names the touched ones in one call: a call
			 * per page cost a tenth of the run). */
			if (pages > 1 && (pg = vmt_model_frame_next_touched(
						  x->m, id, pg)) >= pages)
				break;
			vmt_model_frame_read(x->m, id, pg * VMS_PAGE_SIZE, mbuf,
					     VMS_PAGE_SIZE);
			if (memcmp(base + pg * VMS_PAGE_SIZE, mbuf,
				   VMS_PAGE_SIZE)) {
				lockstep_diverge(
					x, "%s: frame id %d page %" PRIu64,
					vms_check_name(
						VMS_CHECK_FRAME_CONTENTS),
					id, pg);
				return;
			}
		}
	}
	if (x->diverged)
		return;
	if (vms_pool_stats(x->sh->pool, &st)) {
		lockstep_diverge(x, "vms_pool_stats failed");
		return;
	}
	if (!same_u64(x, VMS_CHECK_POOL_DEFERRED, "deferred", st.deferred, 0) ||
	    !same_u64(x, VMS_CHECK_POOL_DATA, "data_frames", st.data_frames,
		      vmt_model_data_frames(x->m)) ||
	    !same_u64(x, VMS_CHECK_POOL_SPACES, "spaces", st.spaces,
		      (uint64_t)vmt_model_nr_spaces(x->m)))
		return;
	if (st.free_frames + st.data_frames + st.pt_frames > st.total_frames)
		lockstep_diverge(x,
				 "%s: free %" PRIu64 " + data %" PRIu64
				 " + pt %" PRIu64 " > total %" PRIu64,
				 vms_check_name(VMS_CHECK_POOL_TOTAL),
				 st.free_frames, st.data_frames, st.pt_frames,
				 st.total_frames);
}

/* After a check op agreed: the model's own invariants, then (if every
 * space passed vms_space_check, so no cursor is open) the full comparison. */
void lockstep_check_phase(struct lockstep *x, const struct vmt_outcome *o)
{
	const struct vmt_check_seen *c = o->data;
	bool all_ok = true, any = false;
	char why[200];

	for (int sp = 0; sp < VMT_NR_SPACES; sp++) {
		any |= c[sp].checked;
		all_ok &= !c[sp].checked || !c[sp].ret;
	}
	if (!any)
		all_ok = o->ret == 0;
	/* The self-check and the sweeps look at what only the ops change:
	 * after a check whose sweeps passed and no op since (a run of check
	 * ops, the epilogue after a final check), they would look at the same
	 * state again (the model's check step changes nothing the second
	 * time: no fail armed, no dead frame left). */
	if (x->swept)
		return;
	if (vmt_model_selfcheck(x->m, true, why, sizeof(why))) {
		lockstep_diverge(x, "MODEL SELF-CHECK: %s", why);
		return;
	}
	if (!all_ok || (x->o && x->o->no_sweep))
		return;
	for (int sp = 0; sp < VMT_NR_SPACES && !x->diverged; sp++)
		if (x->sh->space[sp])
			sweep_space(x, sp);
	if (!x->diverged)
		sweep_frames(x);
	x->swept = !x->diverged;
}
