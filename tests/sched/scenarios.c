/* SPDX-License-Identifier: MIT */
/* scenarios.c - the scenarios of scenarios.h and the runs around them. */
#include <stdarg.h>

#include "scenarios.h"
#include "internal.h"

/* The world the threads of a run share (reset by run_scenario). */
static struct {
	struct vms_pool *pool;
	struct vms_space *space;
	struct vms_frame *fa, *fb;
	uint32_t in_range;		/* threads holding a cursor on the contested range */
	int x, flag;			/* synthetic scenarios */
	struct outcome *out;
} W;

#define VA_A	(2 * M2 + K4)		/* the remap scenario's page */
#define PAT_A	0x41
#define PAT_B	0x42

static void violation(const char *fmt, ...)
{
	va_list ap;

	if (W.out->violation[0])
		return;
	va_start(ap, fmt);
	vsnprintf(W.out->violation, sizeof(W.out->violation), fmt, ap);
	va_end(ap);
}

static void invariant_hook(enum vms_check check, const char *where)
{
	if (!W.out->invariant[0])
		snprintf(W.out->invariant, sizeof(W.out->invariant), "%s (in %s)",
			 vms_check_name(check), where);
}

/* A harness scheduling point: lets a policy switch right here. */
static void point(void)
{
	VMS_SCHED_POINT(VMS_SP_USER);
}

/* The mutual-exclusion oracle: no two cursors on the contested range. */
static void enter(int t)
{
	if (W.in_range)
		violation("%s: thread %d opened a cursor on a range thread %d holds",
			  vms_check_name(VMS_CHECK_OVERLAP), t, __builtin_ctz(W.in_range));
	W.in_range |= 1u << t;
}

static void leave(int t)
{
	W.in_range &= ~(1u << t);
}

static struct vms_cursor *open_cursor(vms_vaddr_t start, vms_vaddr_t end, bool mut)
{
	struct vms_cursor *c = NULL;
	int ret = mut ? vms_cursor_mut_new(W.space, start, end, &c)
		      : vms_cursor_new(W.space, start, end, &c);

	if (ret) {
		violation("cursor on [%#lx, %#lx) refused: %d", start, end, ret);
		return NULL;
	}
	return c;
}

static void map_filled(vms_vaddr_t va, int pattern)
{
	struct vms_frame *f = vmt_map_new(W.space, va, 1, PROP_RW, false);

	memset(vms_frame_data(f), pattern, K4);
}

/* ---- overlap: a writer and a read-only cursor on one range ---- */

static void overlap_setup(void)
{
	W.fa = vmt_alloc(W.pool, 1);
}

static void overlap_writer(void *arg)
{
	struct vms_cursor *c;

	if (!(c = open_cursor(M2, 2 * M2, true)))
		return;
	enter(0);
	vms_cursor_jump(c, M2 + K4);
	vms_frame_get(W.fa);
	if (vms_cursor_map(c, W.fa, PROP_RW))
		violation("map over an empty slot replaced something");
	point();
	leave(0);
	vms_cursor_drop(c);
	if (!(c = open_cursor(M2, 2 * M2, true)))
		return;
	enter(0);
	vms_cursor_jump(c, M2 + K4);
	if (vms_cursor_unmap(c, K4) != 1)
		violation("unmap of the mapped page did not remove one leaf");
	leave(0);
	vms_cursor_drop(c);
}

static void overlap_reader(void *arg)
{
	struct vms_mapping m1, m2;
	struct vms_cursor *c;

	if (!(c = open_cursor(M2, 2 * M2, false)))
		return;
	enter(1);
	vms_cursor_jump(c, M2 + K4);
	vms_cursor_query(c, &m1);
	point();
	vms_cursor_query(c, &m2);
	if (m1.frame != m2.frame)
		violation("a read-only cursor saw its range change under it");
	leave(1);
	vms_cursor_drop(c);
}

static const char *overlap_check(void)
{
	struct vms_mapping m;

	vmt_query(W.space, M2 + K4, &m);
	return m.frame ? "the page is still mapped at the end" : NULL;
}

const struct scenario sc_overlap = {
	"overlap", 2, overlap_setup, { overlap_writer, overlap_reader }, overlap_check,
};

/* ---- nested: a range and a sub-range of it, two guard levels ---- */

static void nested_setup(void)
{
	map_filled(K4, PAT_A);
	map_filled(M2 + K4, PAT_A);
}

static void nested_thread(vms_vaddr_t end, int t)
{
	struct vms_cursor *c;

	if (!(c = open_cursor(0, end, true)))
		return;
	enter(t);
	point();
	leave(t);
	vms_cursor_drop(c);
}

static void nested_big(void *arg)
{
	nested_thread(2 * G1, 0);
}

static void nested_small(void *arg)
{
	nested_thread(2 * M2, 1);
}

const struct scenario sc_nested = {
	"nested", 2, nested_setup, { nested_big, nested_small }, NULL,
};

/* ---- remap: a reader against an unmap and a map of another frame ---- */

static void remap_setup(void)
{
	map_filled(VA_A, PAT_A);
	W.fb = vmt_alloc(W.pool, 1);
	memset(vms_frame_data(W.fb), PAT_B, K4);
}

static void remap_reader(void *arg)
{
	static unsigned char buf[K4];
	struct vms_reader *r;
	long n;

	vms_space_activate(W.space);
	if (vms_space_create_reader(W.space, VA_A, K4, &r))
		return;
	if (vms_space_activate_reader(W.space, r) == 0) {
		n = vms_reader_read(r, buf, K4);
		if (n == (long)K4) {
			for (size_t i = 0; i < K4; i++)
				if (buf[i] != buf[0] || (buf[0] != PAT_A && buf[0] != PAT_B)) {
					violation("reader saw byte %#x at offset %zu: neither the "
						  "old nor the new page", buf[i], i);
					break;
				}
		} else if (n != -EFAULT) {
			violation("read returned %ld", n);
		}
	}
	vms_reader_release(r);
}

static void remap_writer(void *arg)
{
	struct vms_cursor *c;

	if (!(c = open_cursor(2 * M2, 3 * M2, true)))
		return;
	vms_cursor_jump(c, VA_A);
	if (vms_cursor_unmap(c, K4) != 1)
		violation("unmap did not remove the one page");
	vms_cursor_jump(c, VA_A);
	vms_frame_get(W.fb);
	vms_cursor_map(c, W.fb, PROP_RW);
	vms_cursor_drop(c);
	/* A synchronous grace period, racing with the reclaimer's. */
	if (vms_pool_quiesce(W.pool))
		violation("quiesce failed outside any read-side section");
}

static const char *remap_check(void)
{
	struct vms_mapping m;

	vmt_query(W.space, VA_A, &m);
	return m.frame == W.fb ? NULL : "the new frame is not mapped at the end";
}

const struct scenario sc_remap = {
	"remap", 2, remap_setup, { remap_reader, remap_writer }, remap_check,
};

/* ---- detach: the same reader against the unmap of its whole leaf node ---- */

static void detach_writer(void *arg)
{
	struct vms_cursor *c;

	/* The leaf node goes, as a detached subtree. */
	if (!(c = open_cursor(2 * M2, 3 * M2, true)))
		return;
	if (vms_cursor_unmap(c, M2) != 1)
		violation("unmap did not remove the one page");
	vms_cursor_drop(c);
	if (vms_pool_quiesce(W.pool))
		violation("quiesce failed outside any read-side section");
}

static const char *detach_check(void)
{
	struct vms_mapping m;

	vmt_query(W.space, VA_A, &m);
	return m.frame ? "the page is still mapped at the end" : NULL;
}

const struct scenario sc_detach = {
	"detach", 2, remap_setup, { remap_reader, detach_writer }, detach_check,
};

/* ---- two cursors per thread, in opposite orders (cursor.h: may deadlock) ---- */

static void two_setup(void)
{
	map_filled(M2 + K4, PAT_A);
	map_filled(G1 + M2 + K4, PAT_A);
}

static void two_cursors(vms_vaddr_t first, vms_vaddr_t second)
{
	struct vms_cursor *a, *b;

	if (!(a = open_cursor(first, first + M2, true)))
		return;
	point();
	if (!(b = open_cursor(second, second + M2, true))) {
		vms_cursor_drop(a);
		return;
	}
	vms_cursor_drop(b);
	vms_cursor_drop(a);
}

static void two_ab(void *arg)
{
	two_cursors(M2, G1 + M2);
}

static void two_ba(void *arg)
{
	two_cursors(G1 + M2, M2);
}

const struct scenario sc_two_cursors = {
	"two-cursors", 2, two_setup, { two_ab, two_ba }, NULL,
};

/* ---- synthetic: a lost update (a bug of depth 2), and a spin ---- */

static void lost_update_rmw(void *arg)
{
	int v;

	for (int i = 0; i < 5; i++)
		point();
	v = W.x;
	point();
	W.x = v + 1;
	for (int i = 0; i < 5; i++)
		point();
}

static void lost_update_inc(void *arg)
{
	for (int i = 0; i < 10; i++) {
		point();
		if (i == 5)
			W.x++;
	}
}

static const char *lost_update_check(void)
{
	return W.x == 2 ? NULL : "lost update";
}

const struct scenario sc_lost_update = {
	"lost-update", 2, NULL, { lost_update_rmw, lost_update_inc }, lost_update_check,
};

static void spin_wait(void *arg)
{
	while (!W.flag)
		point();
}

static void spin_set(void *arg)
{
	W.flag = 1;
}

const struct scenario sc_spin = {
	"spin", 2, NULL, { spin_wait, spin_set }, NULL,
};

const struct scenario *const clean_scenarios[] = {
	&sc_overlap, &sc_nested, &sc_remap, &sc_detach,
};
const size_t nr_clean_scenarios = sizeof(clean_scenarios) / sizeof(clean_scenarios[0]);

/* ---- runs ---- */

bool outcome_bad(const struct outcome *o)
{
	return o->r.verdict != VMS_SCHED_DONE || o->violation[0] || o->invariant[0] ||
	       o->teardown_failed;
}

void outcome_format(const struct outcome *o, char *buf, size_t n)
{
	size_t len = (size_t)vms_sched_format(&o->r, buf, n);

	if (o->violation[0] && len < n)
		len += (size_t)snprintf(buf + len, n - len, "; violation: %s", o->violation);
	if (o->invariant[0] && len < n)
		len += (size_t)snprintf(buf + len, n - len, "; invariant broken: %s", o->invariant);
	if (o->teardown_failed && len < n)
		snprintf(buf + len, n - len, "; the end state does not check clean");
}

void run_scenario(const struct scenario *sc, vms_sched_policy_fn policy, void *arg,
		  struct vms_sched_step *trace, size_t cap, struct outcome *out)
{
	struct vms_sched_opts o = {
		.nr_threads = sc->nr_threads, .policy = policy, .policy_arg = arg,
		.trace = trace, .trace_cap = cap, .max_steps = 20000,
	};
	struct vms_check_report rep;
	const char *bad;

	memset(out, 0, sizeof(*out));
	memset(&W, 0, sizeof(W));
	W.out = out;
	vms_poison_hook = invariant_hook;
	W.pool = vmt_pool(VMS_POOL_MIN);
	CHECK_OK(vms_pool_set_retire_batch(W.pool, 1));
	CHECK_OK(vms_space_new(W.pool, 0, &W.space));
	if (sc->setup)
		sc->setup();
	for (int i = 0; i < sc->nr_threads; i++)
		o.thread[i].fn = sc->thread[i];
	CHECK_OK(vms_sched_run(&o, &out->r));
	if (out->r.verdict != VMS_SCHED_DONE)
		return;	/* threads hold what they hold: leak the pool */
	if (sc->check && (bad = sc->check()))
		violation("%s", bad);
	if (vms_space_check(W.space, &rep))
		out->teardown_failed = true;
	if (W.fa)
		vms_frame_put(W.fa);
	if (W.fb)
		vms_frame_put(W.fb);
	if (vms_space_destroy(W.space) || vms_pool_destroy(W.pool))
		out->teardown_failed = true;
}

static int outcome_class(const struct outcome *o)
{
	if (o->r.verdict == VMS_SCHED_DEADLOCK)
		return FIND_DEADLOCK;
	if (o->r.verdict != VMS_SCHED_DONE)
		return FIND_BUDGET;
	if (o->violation[0])
		return FIND_VIOLATION;
	if (o->invariant[0])
		return FIND_INVARIANT;
	return o->teardown_failed ? FIND_TEARDOWN : -1;
}

const char *const find_names[FIND_NR] = {
	[FIND_DEADLOCK] = "deadlock", [FIND_BUDGET] = "budget or bad choice",
	[FIND_VIOLATION] = "scenario oracle", [FIND_INVARIANT] = "invariant check",
	[FIND_TEARDOWN] = "end-state check",
};

unsigned explore(const struct scenario *sc, enum explore_mode mode, int depth,
		 unsigned seeds, struct explore_stats *st)
{
	static struct outcome o;
	uint64_t k = 50;

	memset(st, 0, sizeof(*st));
	for (unsigned seed = 0; seed < seeds; seed++) {
		struct vmt_random rnd;
		struct vmt_pct pct;
		int cls;

		if (mode == EXPLORE_RANDOM) {
			vmt_random_init(&rnd, seed);
			run_scenario(sc, vmt_random_choose, &rnd, NULL, 0, &o);
		} else {
			CHECK_OK(vmt_pct_init(&pct, seed, depth, k));
			run_scenario(sc, vmt_pct_choose, &pct, NULL, 0, &o);
			if (pct.decisions > k)
				k = pct.decisions;
		}
		cls = outcome_class(&o);
		if (cls < 0)
			continue;
		st->bad++;
		if (!st->count[cls]++) {
			st->first_seed[cls] = seed;
			st->first[cls] = o;
		}
	}
	return st->bad;
}

void explore_report(const char *what, const struct explore_stats *st, unsigned seeds)
{
	char buf[1024];

	for (int c = 0; c < FIND_NR; c++) {
		if (!st->count[c])
			continue;
		outcome_format(&st->first[c], buf, sizeof(buf));
		fprintf(stderr, "    %s: %s in %u of %u runs, first seed %u: %s\n", what,
			find_names[c], st->count[c], seeds, st->first_seed[c], buf);
	}
}

int switch_at_choose(void *arg, const struct vms_sched_view *v)
{
	struct switch_at *s = arg;

	if (v->thread == s->from && v->event == VMS_EV_POINT && v->site->kind == s->kind &&
	    ++s->seen == s->nth && (v->runnable & (1u << s->to)))
		return s->to;
	return vms_sched_default_choice(v);
}
