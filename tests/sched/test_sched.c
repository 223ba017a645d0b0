/* SPDX-License-Identifier: MIT */
/*
 * test_sched.c - the controlled scheduler (VMS_SCHED build) on libvms:
 * blocking, deadlock reports, simulated grace periods, determinism,
 * replay from a preemption list, PCT, and explorations of scenarios in
 * which libvms promises that nothing goes wrong (they are what a planted
 * bug breaks: tests/sched/bugcheck.sh).
 */
#include "scenarios.h"
#include "internal.h"	/* the sync layer: the deferred-release census */

#define TRACE_CAP 20000
static struct vms_sched_step trace_a[TRACE_CAP], trace_b[TRACE_CAP];
static struct outcome out_a, out_b;

static void show(const struct outcome *o)
{
	char buf[1024];

	outcome_format(o, buf, sizeof(buf));
	fprintf(stderr, "    %s\n", buf);
}

#define CHECK_GOOD(o)							\
	do {								\
		if (outcome_bad(o))					\
			show(o);					\
		CHECK(!outcome_bad(o));					\
	} while (0)

/* Index of @thread's first step at or after @from with @event and a site
 * of @kind, or -1. */
static long find_step(const struct vms_sched_step *t, size_t n, size_t from, int thread,
		      enum vms_sched_event event, enum vms_sched_kind kind)
{
	for (size_t i = from; i < n; i++)
		if (t[i].thread == thread && t[i].event == event && t[i].site->kind == kind)
			return (long)i;
	return -1;
}

/* The writer takes the range first; the read-only cursor blocks on a node
 * lock, runs again only once the writer let go, and sees no change. */
TEST(sched_overlapping_cursor_blocks)
{
	struct switch_at sw = { .from = 0, .to = 1, .kind = VMS_SP_USER, .nth = 1 };
	long blk, rel;

	run_scenario(&sc_overlap, switch_at_choose, &sw, trace_a, TRACE_CAP, &out_a);
	CHECK_GOOD(&out_a);
	CHECK_EQ(sw.seen, 1);
	blk = find_step(trace_a, out_a.r.trace_len, 0, 1, VMS_EV_BLOCK, VMS_SP_NODE_LOCK);
	CHECK(blk >= 0);
	CHECK_EQ(trace_a[blk].chosen, 0);	/* the only one who can run */
	/* It is chosen again only after thread 0's unlocks. */
	rel = find_step(trace_a, out_a.r.trace_len, (size_t)blk, 0, VMS_EV_POINT,
			VMS_SP_NODE_UNLOCK);
	CHECK(rel > blk);
	for (long i = blk + 1; i <= rel; i++)
		CHECK(!(trace_a[i].runnable & 2));
}

/* cursor.h: two cursors per thread in opposite orders may deadlock. The
 * scheduler reports it with the wait-for cycle, each lock held by the
 * other thread. */
TEST(sched_documented_deadlock_has_its_cycle)
{
	struct switch_at sw = { .from = 0, .to = 1, .kind = VMS_SP_USER, .nth = 1 };
	char buf[1024];

	run_scenario(&sc_two_cursors, switch_at_choose, &sw, NULL, 0, &out_a);
	vms_sched_format(&out_a.r, buf, sizeof(buf));
	fprintf(stderr, "    %s\n", buf);
	CHECK_EQ(out_a.r.verdict, VMS_SCHED_DEADLOCK);
	CHECK(out_a.r.cycle);
	CHECK_EQ(out_a.r.nr_waits, 2);
	for (int i = 0; i < 2; i++) {
		const struct vms_sched_wait *w = &out_a.r.waits[i];

		CHECK_EQ(w->kind, VMS_WAIT_NODE_LOCK);
		CHECK_EQ(w->holder, 1 - w->thread);
		CHECK_EQ(w->site->kind, VMS_SP_NODE_LOCK);
		CHECK(strcmp(w->site->func, "lock_node") == 0);
	}
	CHECK(strstr(buf, "wait-for cycle") != NULL);
	/* Without the preemption, thread 0 finishes first: no deadlock. */
	run_scenario(&sc_two_cursors, NULL, NULL, NULL, 0, &out_b);
	CHECK_GOOD(&out_b);
}

/* Random exploration finds the documented deadlock; its preemption list
 * replays it: same verdict, same trace. */
TEST(sched_random_finds_deadlock_and_replays_it)
{
	struct vmt_preempt pre[256];
	struct vmt_replay rep;
	struct vmt_random rnd;
	unsigned seed;
	size_t n;

	for (seed = 0; seed < 200; seed++) {
		vmt_random_init(&rnd, seed);
		run_scenario(&sc_two_cursors, vmt_random_choose, &rnd, trace_a, TRACE_CAP, &out_a);
		if (out_a.r.verdict == VMS_SCHED_DEADLOCK)
			break;
	}
	CHECK(seed < 200);
	n = vmt_trace_preempts(trace_a, out_a.r.trace_len, pre, 256);
	CHECK(n > 0 && n <= 256);
	CHECK_OK(vmt_replay_init(&rep, pre, n));
	run_scenario(&sc_two_cursors, vmt_replay_choose, &rep, trace_b, TRACE_CAP, &out_b);
	CHECK_EQ(out_b.r.verdict, VMS_SCHED_DEADLOCK);
	CHECK_EQ(out_b.r.nr_waits, out_a.r.nr_waits);
	CHECK_EQ(vmt_trace_diff(trace_a, out_a.r.trace_len, trace_b, out_b.r.trace_len), -1);
	CHECK_EQ(rep.missed, 0);
	CHECK_EQ(rep.used, n);
}

/*
 * The reader is preempted inside its read-side section, between the
 * translation and the copy. The writer unmaps the page, maps another and
 * waits for a grace period (its reclaimer may start one too): that grace
 * period ends only after the reader has left its section, and the reader
 * copies the old page, not freed memory.
 */
TEST(sched_grace_period_waits_for_reader)
{
	struct switch_at sw = { .from = 0, .to = 1, .kind = VMS_SP_COPY, .nth = 1 };
	long gp = -1, exit0, resume;
	int worker;

	run_scenario(&sc_remap, switch_at_choose, &sw, trace_a, TRACE_CAP, &out_a);
	CHECK_GOOD(&out_a);
	CHECK_EQ(sw.seen, 1);
	CHECK(out_a.r.workers != 0);	/* the reclaimer ran as a thread of the run */
	worker = __builtin_ctz(out_a.r.workers);
	/* Someone (the writer or the reclaimer) blocked on that grace period. */
	for (int t = 1; t < out_a.r.nr_threads && gp < 0; t++) {
		gp = find_step(trace_a, out_a.r.trace_len, 0, t, VMS_EV_BLOCK, VMS_SP_GRACE);
		if (gp >= 0)
			CHECK(t == 1 || t == worker);
	}
	CHECK(gp >= 0);
	exit0 = find_step(trace_a, out_a.r.trace_len, (size_t)gp, 0, VMS_EV_POINT,
			  VMS_SP_RCU_EXIT);
	CHECK(exit0 > gp);
	/* The blocked thread runs again only after the reader's exit. */
	resume = -1;
	for (size_t i = (size_t)gp + 1; i < out_a.r.trace_len && resume < 0; i++)
		if (trace_a[i].chosen == trace_a[gp].thread)
			resume = (long)i;
	CHECK(resume > exit0);
}

/* Every schedule of the reader against the remap and against the detach
 * of its leaf node: the old page, the new page or a fault, never poison
 * or a mix; the same for PCT. */
TEST(sched_reader_sees_old_or_new)
{
	static struct explore_stats st;
	const struct scenario *sc[] = { &sc_remap, &sc_detach };

	unsigned bad = 0;

	for (int i = 0; i < 2; i++) {
		for (int pct = 0; pct < 2; pct++) {
			if (!explore(sc[i], pct ? EXPLORE_PCT : EXPLORE_RANDOM, 3, 300, &st))
				continue;
			explore_report(sc[i]->name, &st, 300);
			bad += st.bad;
		}
	}
	CHECK_EQ(bad, 0);
}

/* The scenarios libvms promises are safe, under random and PCT
 * exploration: no oracle, invariant, deadlock or budget finding. On a
 * core with a planted bug, this is the test that reports it. */
TEST(sched_explore_clean)
{
	static const struct { enum explore_mode mode; int depth; const char *name; } how[] = {
		{ EXPLORE_RANDOM, 0, "random" }, { EXPLORE_PCT, 2, "pct d=2" },
		{ EXPLORE_PCT, 3, "pct d=3" },
	};
	static struct explore_stats st;
	unsigned bad = 0, seeds = 300;

	for (size_t i = 0; i < nr_clean_scenarios; i++) {
		for (size_t h = 0; h < sizeof(how) / sizeof(how[0]); h++) {
			char what[64];

			if (!explore(clean_scenarios[i], how[h].mode, how[h].depth, seeds, &st))
				continue;
			snprintf(what, sizeof(what), "%s, %s", clean_scenarios[i]->name,
				 how[h].name);
			explore_report(what, &st, seeds);
			bad += st.bad;
		}
	}
	CHECK_EQ(bad, 0);
}

/* Same policy and seed, same trace: over many seeds, random and PCT. */
TEST(sched_deterministic)
{
	for (size_t i = 0; i < nr_clean_scenarios; i++) {
		for (uint64_t seed = 0; seed < 100; seed++) {
			struct vmt_random r1, r2;
			struct vmt_pct p1, p2;

			vmt_random_init(&r1, seed);
			vmt_random_init(&r2, seed);
			run_scenario(clean_scenarios[i], vmt_random_choose, &r1, trace_a,
				     TRACE_CAP, &out_a);
			run_scenario(clean_scenarios[i], vmt_random_choose, &r2, trace_b,
				     TRACE_CAP, &out_b);
			CHECK(!out_a.r.trace_truncated);
			CHECK_EQ(vmt_trace_diff(trace_a, out_a.r.trace_len, trace_b,
						out_b.r.trace_len), -1);
			CHECK_OK(vmt_pct_init(&p1, seed, 3, 100));
			CHECK_OK(vmt_pct_init(&p2, seed, 3, 100));
			run_scenario(clean_scenarios[i], vmt_pct_choose, &p1, trace_a,
				     TRACE_CAP, &out_a);
			run_scenario(clean_scenarios[i], vmt_pct_choose, &p2, trace_b,
				     TRACE_CAP, &out_b);
			CHECK_EQ(vmt_trace_diff(trace_a, out_a.r.trace_len, trace_b,
						out_b.r.trace_len), -1);
		}
	}
}

/* Controlled threads batch their releases like OS threads do: a quiesce
 * reaches a live controlled thread's batch (the registry holds it), and a
 * controlled thread that ends hands its batch over (here with a retire
 * batch the one release never fills). */
static struct {
	struct vms_pool *pool;
	struct vms_space *space;
	struct vms_frame *f;
	int quiesce;
	uint64_t refs_after;
} R;

static void retire_thread(void *arg)
{
	struct vms_cursor *c;

	if (vms_cursor_mut_new(R.space, 0x10000, 0x11000, &c))
		return;
	if (vms_cursor_map(c, R.f, (struct vms_prop){ .flags = VMS_PROP_R }) == 0 &&
	    !vms_cursor_jump(c, 0x10000))
		vms_cursor_unmap(c, 0x1000);
	vms_cursor_drop(c);
	if (arg) {
		R.quiesce = vms_pool_quiesce(R.pool);
		R.refs_after = vms_frame_refcount(R.f);
	}
}

TEST(sched_thread_batches_reach_reclaim)
{
	struct vms_sched_opts o = { .nr_threads = 1 };
	struct vms_sched_result r;

	R.pool = vmt_pool(4 * MiB);
	CHECK_OK(vms_pool_set_retire_batch(R.pool, 64));
	CHECK_OK(vms_space_new(R.pool, 0, &R.space));
	R.f = vmt_alloc(R.pool, 1);
	o.thread[0].fn = retire_thread;
	for (long quiesce = 1; quiesce >= 0; quiesce--) {
		CHECK_OK(vms_frame_get(R.f));
		o.thread[0].arg = (void *)quiesce;
		R.refs_after = 0;
		CHECK_OK(vms_sched_run(&o, &r));
		CHECK_EQ(r.verdict, VMS_SCHED_DONE);
		if (quiesce) {	/* its own batch, through the registry */
			CHECK_EQ(R.quiesce, 0);
			CHECK_EQ(R.refs_after, 1);
		} else {	/* handed over at its end, the reclaimer ran */
			CHECK(r.workers != 0);
			CHECK_EQ(vms_frame_refcount(R.f), 1);
		}
	}
	CHECK_OK(vms_frame_put(R.f));
	CHECK_OK(vms_space_destroy(R.space));
	CHECK_OK(vms_pool_destroy(R.pool));
}

/* The comparison fires: a thread whose path depends on state outside
 * the run (a counter that survives from one run to the next) gives two
 * different traces. */
static int uncontrolled;

static void nondet_thread(void *arg)
{
	if (!uncontrolled++)
		VMS_SCHED_POINT(VMS_SP_USER);
	VMS_SCHED_POINT(VMS_SP_USER);
}

TEST(sched_nondeterminism_is_detected)
{
	struct vms_sched_opts o = { .nr_threads = 2, .trace_cap = TRACE_CAP };
	struct vms_sched_result r1, r2;
	struct vmt_random rnd;

	o.thread[0].fn = o.thread[1].fn = nondet_thread;
	o.policy = vmt_random_choose;
	o.policy_arg = &rnd;
	vmt_random_init(&rnd, 7);
	o.trace = trace_a;
	CHECK_OK(vms_sched_run(&o, &r1));
	vmt_random_init(&rnd, 7);
	o.trace = trace_b;
	CHECK_OK(vms_sched_run(&o, &r2));
	CHECK(vmt_trace_diff(trace_a, r1.trace_len, trace_b, r2.trace_len) >= 0);
}

/* A random run's trace, turned into its preemption list, replays exactly:
 * every preemption used, the same trace step for step. */
TEST(sched_replay_reproduces_random_runs)
{
	static struct vmt_preempt pre[4096];

	for (size_t i = 0; i < nr_clean_scenarios; i++) {
		for (uint64_t seed = 0; seed < 100; seed++) {
			struct vmt_random rnd;
			struct vmt_replay rep;
			size_t n;

			vmt_random_init(&rnd, seed);
			run_scenario(clean_scenarios[i], vmt_random_choose, &rnd, trace_a,
				     TRACE_CAP, &out_a);
			n = vmt_trace_preempts(trace_a, out_a.r.trace_len, pre, 4096);
			CHECK(n <= 4096);
			CHECK_OK(vmt_replay_init(&rep, pre, n));
			run_scenario(clean_scenarios[i], vmt_replay_choose, &rep, trace_b,
				     TRACE_CAP, &out_b);
			CHECK_EQ(vmt_trace_diff(trace_a, out_a.r.trace_len, trace_b,
						out_b.r.trace_len), -1);
			CHECK_EQ(rep.used, n);
			CHECK_EQ(rep.missed, 0);
		}
	}
}

/* Thread 0 makes 6 points, thread 1 @w1_points: a preemption keyed on
 * thread 0's 4th decision lands at the same place of thread 0 whatever
 * thread 1 does (dropping another thread's ops moves no key). */
static int w1_points, order[32], nr_order;

static void keyed_thread(void *arg)
{
	int t = (int)(long)arg, n = t ? w1_points : 6;

	for (int i = 0; i < n; i++) {
		if (nr_order < 32)
			order[nr_order++] = t * 100 + i;
		VMS_SCHED_POINT(VMS_SP_USER);
	}
}

TEST(sched_preemption_keys_are_per_thread)
{
	struct vmt_preempt p = { 4, 0, 1 };
	struct vms_sched_opts o = { .nr_threads = 2 };
	struct vms_sched_result r;
	struct vmt_replay rep;

	for (int i = 0; i < 2; i++) {
		o.thread[i].fn = keyed_thread;
		o.thread[i].arg = (void *)(long)i;
	}
	o.policy = vmt_replay_choose;
	o.policy_arg = &rep;
	for (w1_points = 1; w1_points <= 8; w1_points += 7) {
		nr_order = 0;
		CHECK_OK(vmt_replay_init(&rep, &p, 1));
		CHECK_OK(vms_sched_run(&o, &r));
		CHECK_EQ(r.verdict, VMS_SCHED_DONE);
		CHECK_EQ(rep.used, 1);
		/* Thread 0's ops 0..3, then all of thread 1, then the rest. */
		CHECK_EQ(order[3], 3);
		CHECK_EQ(order[4], 100);
		CHECK_EQ(order[4 + w1_points], 4);
	}
}

/* Preemption keys are per thread, and their text reads as such. */
TEST(sched_preemption_text)
{
	struct vmt_preempt p[3] = { { 3, 1, 0 }, { 3, 0, 1 }, { 0, 0, 1 } };
	struct vmt_replay rep;
	char buf[128];

	CHECK_EQ(vmt_replay_init(&rep, p, 3), -EINVAL);	/* unsorted */
	vmt_preempts_sort(p, 3);
	CHECK_OK(vmt_replay_init(&rep, p, 3));
	vmt_preempt_format(&p[1], buf, sizeof(buf));
	CHECK(strcmp(buf, "after thread 0's 3rd decision, run thread 1") == 0);
	vmt_preempt_format(&p[0], buf, sizeof(buf));
	CHECK(strcmp(buf, "start with thread 1") == 0);
}

/*
 * The lost update needs the increment between the read and the write of
 * the other thread: depth 2. PCT with d = 1 never interleaves them; with
 * d = 2 it finds it at least as often as its bound 1/(n k) promises.
 */
TEST(sched_pct_finds_depth_2_bug)
{
	unsigned found[3] = { 0 }, runs = 1000;
	uint64_t k = 0;

	/* k: the decisions a run takes (one run with the default). */
	for (int d = 1; d <= 2; d++) {
		for (unsigned seed = 0; seed < runs; seed++) {
			struct vmt_pct pct;

			CHECK_OK(vmt_pct_init(&pct, seed, d, k ? k : 40));
			run_scenario(&sc_lost_update, vmt_pct_choose, &pct, NULL, 0, &out_a);
			CHECK_EQ(out_a.r.verdict, VMS_SCHED_DONE);
			if (pct.decisions > k)
				k = pct.decisions;
			found[d] += out_a.violation[0] != 0;
		}
	}
	fprintf(stderr, "    lost update: d=1 %u/%u, d=2 %u/%u runs (bound 1/(2*%lu))\n",
		found[1], runs, found[2], runs, (unsigned long)k);
	CHECK_EQ(found[1], 0);
	CHECK(found[2] * 2 * k >= runs);
}

/* A spin that never lets the other thread run ends as a finding, not a
 * hang. */
TEST(sched_step_budget)
{
	run_scenario(&sc_spin, NULL, NULL, NULL, 0, &out_a);
	CHECK_EQ(out_a.r.verdict, VMS_SCHED_BUDGET);
	CHECK_EQ(out_a.r.steps, 20000);
	CHECK(out_a.r.where[0] != NULL && out_a.r.where[0]->kind == VMS_SP_USER);
}

static int bad_policy(void *arg, const struct vms_sched_view *v)
{
	return 5;
}

TEST(sched_bad_choice_and_bad_options)
{
	struct vms_sched_opts o = { .nr_threads = 2 };
	struct vms_sched_result r;

	CHECK_EQ(vms_sched_run(&o, &r), -EINVAL);	/* no entry functions */
	o.thread[0].fn = o.thread[1].fn = nondet_thread;
	o.nr_threads = VMS_SCHED_MAX_PROGRAM + 1;
	CHECK_EQ(vms_sched_run(&o, &r), -EINVAL);
	o.nr_threads = 2;
	o.policy = bad_policy;
	CHECK_OK(vms_sched_run(&o, &r));
	CHECK_EQ(r.verdict, VMS_SCHED_BAD_CHOICE);
}

static int started;

static void count_thread(void *arg)
{
	started++;
	VMS_SCHED_POINT(VMS_SP_USER);
}

/* A run whose third thread gets no stack (the host's fault site of kind
 * thread) fails with -ENOMEM before anything runs, and leaves the
 * scheduler as it was: the next run, and one that starts fewer threads
 * than the failed one had started, run to the end. */
TEST(sched_start_without_a_stack)
{
	struct vms_sched_opts o = { .nr_threads = 3 };
	struct vms_sched_result r;
	uint32_t nth = 0;

	for (int i = 0; i < 3; i++)
		o.thread[i].fn = count_thread;
	started = 0;
	vms_fault_arm(3, VMS_FAULT_THREAD);
	CHECK_EQ(vms_sched_run(&o, &r), -ENOMEM);
	CHECK_EQ(vms_fault_take(&nth), VMS_FAULT_THREAD);
	CHECK_EQ(nth, 3);
	CHECK_EQ(started, 0);
	o.nr_threads = 1;
	CHECK_OK(vms_sched_run(&o, &r));
	CHECK_EQ(r.verdict, VMS_SCHED_DONE);
	CHECK_EQ(r.nr_threads, 1);
	o.nr_threads = 3;
	CHECK_OK(vms_sched_run(&o, &r));
	CHECK_EQ(r.verdict, VMS_SCHED_DONE);
	CHECK_EQ(started, 4);
}

/*
 * The deferred-release census (DEFER_LIST, vms_defer_reclaim) on a stack
 * of its own, outside a run: silent on hand-overs as the sync layer makes
 * them; it fires on what a push done as a load and a store (the planted
 * defer_push_racy) leaves behind, built here by hand: a batch whose push
 * another overwrote, and a list that leads on to a batch never handed
 * over (as a stale `next` leads to one released before).
 */
static int census_broken;
static uint64_t census_released;

static void census_hook(enum vms_check c, const char *where)
{
	census_broken += c == VMS_CHECK_DEFER_LIST;
}

static void census_kick(struct vms_defer_stack *s)
{
}

static void census_release(void *arg, uint64_t item, uint32_t n)
{
	census_released += n;
}

static struct vms_defer_batch *census_batch(uint64_t item)
{
	struct vms_defer_batch *b = calloc(1, sizeof(*b) + sizeof(b->item[0]));

	CHECK(b != NULL);
	b->cap = b->n = 1;
	b->weight = 1;
	b->item[0] = item;
	return b;
}

/* Hand @b over to @s (retire batch 1: at once). */
static void census_push(struct vms_defer_stack *s, struct vms_defer_batch *b)
{
	CHECK(vms_defer_retire(s, &b));
	CHECK(b == NULL);
}

TEST(sched_defer_census_lost_and_repeated)
{
	struct vms_defer_stack s = { .kick = census_kick };
	void (*saved)(enum vms_check, const char *) = vms_poison_hook;
	struct vms_defer_batch *a, *b, *c, *stray;

	atomic_store(&s.batch, 1);
	vms_mutex_init(&s.reclaim_lock);
	vms_poison_hook = census_hook;
	census_broken = 0;
	census_released = 0;

	/* As the sync layer does it: silent. */
	census_push(&s, census_batch(1));
	census_push(&s, census_batch(2));
	CHECK_OK(vms_defer_reclaim(&s, true, census_release, NULL));
	CHECK_EQ(census_broken, 0);
	CHECK_EQ(census_released, 2);

	/* b and c both read a as the head; c's store overwrote b's. */
	census_push(&s, a = census_batch(3));
	census_push(&s, b = census_batch(4));
	census_push(&s, c = census_batch(5));
	c->next = a;
	CHECK_OK(vms_defer_reclaim(&s, true, census_release, NULL));
	CHECK_EQ(census_broken, 1);
	CHECK_EQ(census_released, 4);
	free(b);	/* lost: nobody else will */

	/* One report per loss: the next reclaims are silent again. */
	census_push(&s, census_batch(6));
	CHECK_OK(vms_defer_reclaim(&s, true, census_release, NULL));
	CHECK_EQ(census_broken, 1);
	CHECK_EQ(census_released, 5);

	/* A list that goes on past every batch handed over: the walk stops
	 * before it follows the pointer (never released twice). */
	stray = census_batch(7);
	census_push(&s, a = census_batch(8));
	a->next = stray;
	CHECK_OK(vms_defer_reclaim(&s, true, census_release, NULL));
	CHECK_EQ(census_broken, 2);
	CHECK_EQ(census_released, 6);
	free(stray);

	CHECK_EQ(atomic_load(&s.head), NULL);
	vms_poison_hook = saved;
	vms_defer_spare_free(&s);	/* reclaims keep emptied batches */
	vms_mutex_destroy(&s.reclaim_lock);
}

static unsigned held_broken, held_other;

static void held_hook(enum vms_check c, const char *where)
{
	if (c == VMS_CHECK_ACC_UNLOCKED)
		held_broken++;
	else
		held_other++;
}

/* The registry-lock assertion (VMS_HELD, access.c's edits): silent for a
 * thread holding the mutex, even recursively, or for an accessor made,
 * activated, used and released as access.c does it; it fires for an edit
 * with the mutex free or held by another thread. */
TEST(sched_registry_edit_needs_its_lock)
{
	void (*saved)(enum vms_check, const char *) = vms_poison_hook;
	vms_mutex_t m = VMS_MUTEX_INIT, r = VMS_MUTEX_RECURSIVE_INIT;
	uint32_t me = vms_thread()->id;
	struct vms_reader *rd;
	struct vmt_env e;
	char buf[16];

	vms_poison_hook = held_hook;
	held_broken = held_other = 0;

	vms_mutex_lock(&m);
	VMS_HELD(&m, ACC_UNLOCKED);
	vms_mutex_unlock(&m);
	vms_mutex_lock(&r);
	vms_mutex_lock(&r);
	vms_mutex_unlock(&r);
	VMS_HELD(&r, ACC_UNLOCKED); /* still held once */
	vms_mutex_unlock(&r);
	CHECK_EQ(held_broken, 0);

	VMS_HELD(&m, ACC_UNLOCKED); /* free */
	CHECK_EQ(held_broken, 1);
	VMS_HELD(&r, ACC_UNLOCKED); /* free after the outer unlock */
	CHECK_EQ(held_broken, 2);
	m.owner = me + 1; /* held by another thread */
	m.depth = 1;
	VMS_HELD(&m, ACC_UNLOCKED);
	CHECK_EQ(held_broken, 3);

	/* The registry as access.c edits it: silent. */
	vmt_env_init(&e, 16 << 20, 0);
	vmt_map_new(e.space, 0x400000, 1, vmt_prop(VMS_PROP_R | VMS_PROP_W),
		    false);
	CHECK_OK(vms_space_activate(e.space));
	CHECK_OK(vms_space_create_reader(e.space, 0x400000, K4, &rd));
	CHECK_OK(vms_space_activate_reader(e.space, rd));
	CHECK_EQ(vms_reader_read(rd, buf, sizeof(buf)), (long)sizeof(buf));
	CHECK_OK(vms_reader_release(rd));
	CHECK_EQ(held_broken, 3);
	CHECK_EQ(held_other, 0);
	vmt_env_fini(&e);
	vms_poison_hook = saved;
}
