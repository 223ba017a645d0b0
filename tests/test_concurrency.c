/* SPDX-License-Identifier: MIT */
/*
 * test_concurrency.c - cursors across threads: exclusion, parallelism of
 * disjoint subtrees, self-deadlock detection, and a short stress run.
 * Nothing here asserts speed: orderings are observed through flags, and
 * the only deadlines catch hangs.
 */
#include <time.h>

#include "test.h"

/* ---- overlapping cursors exclude each other ---------------------------- */

struct excl_arg {
	struct vms_space *space;
	struct vms_frame *expect;
	atomic_int started, acquired, dropped;
	bool saw_drop_first;
	bool saw_mapping;
};

static void *excl_second(void *p)
{
	struct excl_arg *a = p;
	struct vms_cursor *c;
	struct vms_mapping m;

	atomic_store(&a->started, 1);
	CHECK_OK(vms_cursor_mut_new(a->space, 0x4000, 0xc000, &c));
	atomic_store(&a->acquired, 1);
	a->saw_drop_first = atomic_load(&a->dropped) == 1;
	/* Serializability: the first session's map is visible. */
	CHECK_OK(vms_cursor_jump(c, 0x5000));
	CHECK_OK(vms_cursor_query(c, &m));
	a->saw_mapping = m.frame == a->expect;
	vms_cursor_drop(c);
	return NULL;
}

TEST(conc_overlapping_cursors_block)
{
	struct vmt_env e;
	struct excl_arg a = { 0 };
	struct vms_cursor *c;
	struct vms_frame *f;
	pthread_t t;

	vmt_env_init(&e, 4 * MiB, 0);
	a.space = e.space;
	f = vmt_alloc(e.pool, 1);
	a.expect = f;
	CHECK_OK(vms_cursor_mut_new(e.space, 0, 0x6000, &c));
	t = vmt_thread(excl_second, &a);
	WAIT_FLAG(&a.started, 1);
	/* Give the second thread every chance to (wrongly) get in. */
	for (int i = 0; i < 20; i++) {
		vmt_nap_ms(5);
		CHECK_EQ(atomic_load(&a.acquired), 0);
	}
	CHECK_OK(vms_cursor_jump(c, 0x5000));
	CHECK_EQ(vms_cursor_map(c, f, PROP_RW), 0);
	atomic_store(&a.dropped, 1);
	vms_cursor_drop(c);
	vmt_join(t);
	CHECK(atomic_load(&a.acquired) == 1);
	CHECK(a.saw_drop_first);
	CHECK(a.saw_mapping);
	CHECK_CLEAN(e.space);
	CHECK_EQ(vmt_unmap(e.space, 0x5000, K4), 1);
	vmt_env_fini(&e);
}

/* ---- disjoint subtrees run in parallel --------------------------------- */

struct par_arg {
	struct vms_space *space;
	vms_vaddr_t start, end;
	atomic_int *holding;
	int nthreads;
	long owner_seen;
};

static void *par_hold(void *p)
{
	struct par_arg *a = p;
	struct vms_cursor *c;
	struct vms_frame *f = vmt_alloc(vms_space_pool(a->space), 1);

	CHECK_OK(vms_cursor_mut_new(a->space, a->start, a->end, &c));
	CHECK_EQ(vms_cursor_map(c, f, PROP_RW), 0);
	a->owner_seen = vms__debug_node_owner(a->space, a->start, 1);
	CHECK_EQ(a->owner_seen, (long)vms__debug_thread_id());
	atomic_fetch_add(a->holding, 1);
	/* Both threads hold their cursor at the same time, or this hangs
	 * (and fails after the deadline). */
	WAIT_FLAG(a->holding, a->nthreads);
	vms_cursor_drop(c);
	return NULL;
}

TEST(conc_disjoint_subtrees_parallel)
{
	struct vmt_env e;
	atomic_int holding = 0;
	struct par_arg a[2] = {
		{ .start = 0, .end = M2 },
		{ .start = G1, .end = G1 + M2 },
	};
	pthread_t t[2];

	vmt_env_init(&e, 8 * MiB, 0);
	for (int i = 0; i < 2; i++) {
		a[i].space = e.space;
		a[i].holding = &holding;
		a[i].nthreads = 2;
		t[i] = vmt_thread(par_hold, &a[i]);
	}
	for (int i = 0; i < 2; i++)
		vmt_join(t[i]);
	CHECK(!vmt_has_failed());
	CHECK(a[0].owner_seen != a[1].owner_seen);
	/* Released: nobody owns the nodes any more. */
	CHECK_EQ(vms__debug_node_owner(e.space, 0, 1), 0);
	CHECK_EQ(vms__debug_node_owner(e.space, G1, 1), 0);
	CHECK_CLEAN(e.space);
	CHECK_EQ(vmt_unmap(e.space, 0, 2 * G1), 2);
	vmt_env_fini(&e);
}

/* ---- self-deadlock ------------------------------------------------------ */

TEST(conc_same_thread_overlap_edeadlk)
{
	struct vmt_env e;
	struct vms_cursor *c1, *c2 = NULL;
	struct vms_check_report rep;

	vmt_env_init(&e, 8 * MiB, 0);
	vmt_map_new(e.space, 0x1000, 1, PROP_RW, false);
	CHECK_OK(vms_cursor_mut_new(e.space, 0, 0x2000, &c1));
	CHECK_EQ(vms__debug_cursor_guard_level(c1), 1);
	CHECK_EQ(vms__debug_node_owner(e.space, 0, 1), (long)vms__debug_thread_id());
	CHECK_EQ(vms_cursor_mut_new(e.space, 0x1000, 0x3000, &c2), -EDEADLK);
	CHECK_EQ(vms_cursor_new(e.space, 0, 0x2000, &c2), -EDEADLK);
	/* Disjoint but in the same level-1 node: also needs a held node. */
	CHECK_EQ(vms_cursor_new(e.space, 0x3000, 0x4000, &c2), -EDEADLK);
	/* A coarser range containing it. */
	CHECK_EQ(vms_cursor_new(e.space, 0, 4 * M2, &c2), -EDEADLK);
	CHECK(c2 == NULL);
	CHECK_EQ(vms_pool_quiesce(e.pool), -EDEADLK);
	CHECK_EQ(vms_space_check(e.space, &rep), -EDEADLK);
	/* Another subtree is fine. */
	CHECK_OK(vms_cursor_new(e.space, G1, G1 + K4, &c2));
	vms_cursor_drop(c2);
	/* The failed attempts left nothing locked behind. */
	vms_cursor_drop(c1);
	CHECK_EQ(vms__debug_node_owner(e.space, 0, 1), 0);
	CHECK_OK(vms_cursor_new(e.space, 0, 4 * M2, &c2));
	vms_cursor_drop(c2);
	CHECK_CLEAN(e.space);
	CHECK_EQ(vmt_unmap(e.space, 0x1000, K4), 1);
	vmt_env_fini(&e);
}

TEST(conc_edeadlk_after_phase2_partial)
{
	struct vmt_env e;
	struct vms_cursor *c1, *c2 = NULL;

	/* The held node is the second of three children a wider cursor must
	 * lock: the failed attempt must release the first one. */
	vmt_env_init(&e, 8 * MiB, 0);
	vmt_map_new(e.space, 0x1000, 1, PROP_RW, false);
	vmt_map_new(e.space, M2 + 0x1000, 1, PROP_RW, false);
	vmt_map_new(e.space, 2 * M2 + 0x1000, 1, PROP_RW, false);
	CHECK_OK(vms_cursor_mut_new(e.space, M2, M2 + K4 * 4, &c1));
	CHECK_EQ(vms_cursor_mut_new(e.space, 0, 3 * M2, &c2), -EDEADLK);
	CHECK(c2 == NULL);
	CHECK_EQ(vms__debug_node_owner(e.space, 0, 1), 0);
	CHECK_EQ(vms__debug_node_owner(e.space, 2 * M2, 1), 0);
	CHECK_EQ(vms__debug_node_owner(e.space, 0, 2), 0);
	CHECK_EQ(vms__debug_node_owner(e.space, M2, 1), (long)vms__debug_thread_id());
	vms_cursor_drop(c1);
	CHECK_EQ(vms__debug_node_owner(e.space, M2, 1), 0);
	CHECK_CLEAN(e.space);
	CHECK_EQ(vmt_unmap(e.space, 0, 3 * M2), 3);
	vmt_env_fini(&e);
}

/* ---- stress ---------------------------------------------------------------- */

#define STRESS_THREADS	4
#define STRESS_ITERS	300

struct stress_arg {
	struct vms_space *space;
	int id;
	unsigned seed;
	long mapped, unmapped;
	atomic_int *done;
};

static unsigned rnd(unsigned *s)
{
	*s = *s * 1103515245u + 12345u;
	return *s >> 8;
}

static void keep_prop(struct vms_prop *p, void *arg)
{
	(void)p;
	(void)arg;
}

static void *stress_thread(void *p)
{
	struct stress_arg *a = p;
	struct vms_pool *pool = vms_space_pool(a->space);

	for (int it = 0; it < STRESS_ITERS; it++) {
		unsigned r = rnd(&a->seed);
		vms_vaddr_t base, start, end;
		struct vms_cursor *c;
		struct vms_frame *f;
		uint64_t len;
		int ret;

		/* Half the time a private 4M region, half the time a shared one
		 * around the 1G boundary at 64G that everybody fights over, so
		 * guards at levels 1, 2 and 3 nest (different sizes and
		 * alignments). */
		if (r & 1)
			base = (vms_vaddr_t)(a->id + 1) * G1;
		else
			base = 64 * G1 - 2 * M2;
		start = base + (rnd(&a->seed) % 1024) * K4;
		len = ((rnd(&a->seed) % 4 == 0) ? M2 * 2 : (1 + rnd(&a->seed) % 64) * K4);
		end = start + len;
		CHECK_OK(vms_cursor_mut_new(a->space, start, end, &c));
		switch (rnd(&a->seed) % 4) {
		case 0:
		case 1:	/* map 4K pages, or a 2M page where aligned */
			for (vms_vaddr_t va = start; va < end; ) {
				int level = (!(va & (M2 - 1)) && end - va >= M2 &&
					     rnd(&a->seed) % 2) ? 2 : 1;

				if (vms_frame_alloc(pool, level, &f))
					break;	/* pool full: fine */
				CHECK_OK(vms_cursor_jump(c, va));
				ret = vms_cursor_map(c, f, PROP_RW);
				CHECK(ret == 0 || ret == 1);
				a->mapped++;
				va += vms_page_size(level);
				if (rnd(&a->seed) % 3 == 0)
					va += K4;
			}
			break;
		case 2: {
			long n = vms_cursor_unmap(c, len);

			CHECK(n >= 0);
			a->unmapped += n;
			break;
		}
		default: {
			vms_vaddr_t s, e2;

			while ((ret = vms_cursor_protect_next(c, end - vms_cursor_va(c),
							      keep_prop, NULL, &s, &e2)) == 1)
				if (vms_cursor_va(c) >= end)
					break;
			CHECK(ret >= 0);
			break;
		}
		}
		vms_cursor_drop(c);
	}
	atomic_fetch_add(a->done, 1);
	return NULL;
}

TEST(conc_stress_map_unmap)
{
	struct vmt_env e;
	struct stress_arg a[STRESS_THREADS];
	pthread_t t[STRESS_THREADS];
	struct vms_pool_stats st;
	struct vms_cursor *c;
	atomic_int done = 0;

	vmt_env_init(&e, 256 * MiB, 0);
	for (int i = 0; i < STRESS_THREADS; i++) {
		memset(&a[i], 0, sizeof(a[i]));
		a[i].space = e.space;
		a[i].id = i;
		a[i].seed = 0x9e3779b9u * (unsigned)(i + 1);
		a[i].done = &done;
		t[i] = vmt_thread(stress_thread, &a[i]);
	}
	/* A deadlock fails here after the deadline instead of hanging. */
	WAIT_FLAG(&done, STRESS_THREADS);
	for (int i = 0; i < STRESS_THREADS; i++)
		vmt_join(t[i]);
	CHECK(!vmt_has_failed());
	CHECK_CLEAN(e.space);
	CHECK_CONSERVED(e.pool);

	/* Everything still mapped goes in one sweep. */
	CHECK_OK(vms_cursor_mut_new(e.space, 0, 128 * G1, &c));
	CHECK(vms_cursor_unmap(c, 128 * G1) >= 0);
	vms_cursor_drop(c);
	CHECK_OK(vms_pool_quiesce(e.pool));
	st = vmt_stats(e.pool);
	CHECK_EQ(st.data_frames, 0);
	CHECK_CLEAN(e.space);
	CHECK_CONSERVED(e.pool);
	vmt_env_fini(&e);
}

/* ---- copies racing with unmap/remap ---------------------------------------- */

#define PATTERN 0xab

struct copy_arg {
	struct vms_space *space;
	atomic_int stop;
	atomic_long reads;
	long faults, bad;
};

/* Copy [va, va + len) through a fresh reader until told to stop,
 * counting faults and bytes that are not PATTERN. */
static void copy_loop(struct copy_arg *a, vms_vaddr_t va, unsigned char *buf, size_t len)
{
	CHECK_OK(vms_space_activate(a->space));
	while (!atomic_load(&a->stop)) {
		struct vms_reader *r;
		long n;

		CHECK_OK(vms_space_create_reader(a->space, va, len, &r));
		if (vms_space_activate_reader(a->space, r) == 0) {
			n = vms_reader_read(r, buf, len);
			if (n == -EFAULT) {
				a->faults++;
			} else {
				CHECK(n > 0);
				atomic_fetch_add(&a->reads, 1);
				for (long i = 0; i < n; i++)
					if (buf[i] != PATTERN) {
						a->bad++;
						break;
					}
			}
		}
		CHECK_OK(vms_reader_release(r));
	}
	CHECK_OK(vms_space_deactivate(a->space));
}

static void *copy_reader(void *p)
{
	static unsigned char buf[4096];

	copy_loop(p, 0x10000, buf, sizeof(buf));
	return NULL;
}

TEST(conc_copy_vs_remap_sees_no_reused_frame)
{
	struct vmt_env e;
	struct copy_arg a = { 0 };
	pthread_t t;

	/* Every frame ever mapped at 0x10000 holds PATTERN; frames come back
	 * zeroed from the pool. A copy that sees anything else read a frame
	 * that was reused before its grace period ended. */
	vmt_env_init(&e, 8 * MiB, 0);
	a.space = e.space;
	t = vmt_thread(copy_reader, &a);
	/* At least 3000 remaps and 200 successful reads (bounded). */
	for (int i = 0; i < 3000 || (atomic_load(&a.reads) < 200 && i < 300000); i++) {
		struct vms_frame *f = vmt_alloc(e.pool, 1);

		memset(vms_frame_data(f), PATTERN, K4);
		if (i % 3 == 2)
			CHECK(vmt_unmap(e.space, 0x10000, K4) >= 0);
		CHECK(vmt_map(e.space, 0x10000, f, PROP_RW) >= 0);
		if (i % 64 == 0)
			CHECK_OK(vms_pool_quiesce(e.pool));
	}
	atomic_store(&a.stop, 1);
	vmt_join(t);
	CHECK_EQ(a.bad, 0);
	CHECK(atomic_load(&a.reads) > 0);
	CHECK_CLEAN(e.space);
	CHECK_EQ(vmt_unmap(e.space, 0x10000, K4), 1);
	vmt_env_fini(&e);
}

/* One frame mapped twice: a writer fills the page at 0x20000 with words
 * of all zeros or all ones, a reader copies it at 0x10000. Each aligned
 * word must come out whole, as from memory on the hardware (the stress
 * driver's grace oracle relies on it); the sanitizer builds' relaxed
 * copies must not tear it either. */
struct alias_arg {
	struct vms_space *space;
	atomic_int stop;
};

static void *alias_writer(void *p)
{
	static uint64_t buf[K4 / 8];
	struct alias_arg *a = p;

	CHECK_OK(vms_space_activate(a->space));
	for (uint64_t k = 0; !atomic_load(&a->stop); k++) {
		struct vms_writer *w;

		memset(buf, k & 1 ? 0xff : 0, sizeof(buf));
		CHECK_OK(vms_space_create_writer(a->space, 0x20000, K4, &w));
		CHECK_OK(vms_space_activate_writer(a->space, w));
		CHECK_EQ(vms_writer_write(w, buf, sizeof(buf)), K4);
		CHECK_OK(vms_writer_release(w));
	}
	CHECK_OK(vms_space_deactivate(a->space));
	return NULL;
}

TEST(conc_aliased_copy_keeps_words_whole)
{
	static uint64_t buf[K4 / 8];
	struct alias_arg a = { 0 };
	struct vms_frame *f;
	struct vmt_env e;
	long torn = 0;
	pthread_t t;

	vmt_env_init(&e, 8 * MiB, 0);
	f = vmt_alloc(e.pool, 1);
	CHECK_OK(vms_frame_get(f));
	CHECK_EQ(vmt_map(e.space, 0x10000, f, PROP_RW), 0);
	CHECK_EQ(vmt_map(e.space, 0x20000, f, PROP_RW), 0);
	a.space = e.space;
	t = vmt_thread(alias_writer, &a);
	CHECK_OK(vms_space_activate(e.space));
	for (int i = 0; i < 2000; i++) {
		struct vms_reader *r;

		CHECK_OK(vms_space_create_reader(e.space, 0x10000, K4, &r));
		CHECK_OK(vms_space_activate_reader(e.space, r));
		CHECK_EQ(vms_reader_read(r, buf, sizeof(buf)), K4);
		CHECK_OK(vms_reader_release(r));
		for (unsigned j = 0; j < K4 / 8; j++)
			torn += buf[j] != 0 && buf[j] != ~0ULL;
	}
	CHECK_OK(vms_space_deactivate(e.space));
	atomic_store(&a.stop, 1);
	vmt_join(t);
	CHECK_EQ(torn, 0);
	CHECK_EQ(vmt_unmap(e.space, 0x10000, 0x20000), 2);
	vmt_env_fini(&e);
}

TEST(conc_edeadlk_releases_intermediate_nodes)
{
	struct vmt_env e;
	struct vms_cursor *c1, *c2 = NULL;
	const long me = (long)vms__debug_thread_id();

	/* The held node is the first child of a level-2 node that phase 2
	 * of a wider cursor locks before failing on it: that level-2 node
	 * must be released too. */
	vmt_env_init(&e, 8 * MiB, 0);
	vmt_map_new(e.space, 0x1000, 1, PROP_RW, false);
	vmt_map_new(e.space, G1 + 0x1000, 1, PROP_RW, false);
	vmt_map_new(e.space, 2 * G1 + 0x1000, 1, PROP_RW, false);
	CHECK_OK(vms_cursor_mut_new(e.space, G1, G1 + 4 * K4, &c1));
	CHECK_EQ(vms__debug_cursor_guard_level(c1), 1);
	CHECK_EQ(vms_cursor_mut_new(e.space, 0, 3 * G1, &c2), -EDEADLK);
	CHECK(c2 == NULL);
	CHECK_EQ(vms__debug_node_owner(e.space, G1, 1), me);	/* c1's own */
	CHECK_EQ(vms__debug_node_owner(e.space, 0, 3), 0);
	CHECK_EQ(vms__debug_node_owner(e.space, 0, 2), 0);
	CHECK_EQ(vms__debug_node_owner(e.space, 0, 1), 0);
	CHECK_EQ(vms__debug_node_owner(e.space, G1, 2), 0);
	CHECK_EQ(vms__debug_node_owner(e.space, 2 * G1, 2), 0);
	CHECK_EQ(vms__debug_node_owner(e.space, 2 * G1, 1), 0);
	vms_cursor_drop(c1);
	CHECK_EQ(vms__debug_node_owner(e.space, G1, 1), 0);
	/* Starting inside the held node's span (failure at the range start). */
	CHECK_OK(vms_cursor_mut_new(e.space, G1 + 0x1000, G1 + 0x2000, &c1));
	CHECK_EQ(vms_cursor_mut_new(e.space, G1 + 0x1000, 2 * G1 + M2, &c2), -EDEADLK);
	CHECK_EQ(vms__debug_node_owner(e.space, G1, 2), 0);
	CHECK_EQ(vms__debug_node_owner(e.space, 0, 3), 0);
	vms_cursor_drop(c1);
	CHECK_CLEAN(e.space);
	CHECK_EQ(vmt_unmap(e.space, 0, 3 * G1), 3);
	vmt_env_fini(&e);
}

/* Read-only cursors lock exactly like mutable ones: each kind excludes
 * the other, and two read-only cursors exclude each other too. */
struct ro_arg {
	struct vms_space *space;
	bool mut;
	atomic_int started, acquired, dropped;
	bool order_ok;
};

static void *ro_second(void *p)
{
	struct ro_arg *a = p;
	struct vms_cursor *c;

	atomic_store(&a->started, 1);
	if (a->mut)
		CHECK_OK(vms_cursor_mut_new(a->space, 0x2000, 0x3000, &c));
	else
		CHECK_OK(vms_cursor_new(a->space, 0x2000, 0x3000, &c));
	a->order_ok = atomic_load(&a->dropped) == 1;
	atomic_store(&a->acquired, 1);
	vms_cursor_drop(c);
	return NULL;
}

TEST(conc_readonly_cursor_excludes)
{
	struct vmt_env e;

	vmt_env_init(&e, 4 * MiB, 0);
	for (int k = 0; k < 3; k++) {
		/* k=0: ro then mut; k=1: mut then ro; k=2: ro then ro */
		struct ro_arg a = { .space = e.space, .mut = k == 0 };
		struct vms_cursor *c;
		pthread_t t;

		if (k == 1)
			CHECK_OK(vms_cursor_mut_new(e.space, 0, 0x4000, &c));
		else
			CHECK_OK(vms_cursor_new(e.space, 0, 0x4000, &c));
		t = vmt_thread(ro_second, &a);
		WAIT_FLAG(&a.started, 1);
		for (int i = 0; i < 10; i++) {
			vmt_nap_ms(3);
			CHECK_EQ(atomic_load(&a.acquired), 0);
		}
		atomic_store(&a.dropped, 1);
		vms_cursor_drop(c);
		WAIT_FLAG(&a.acquired, 1);
		vmt_join(t);
		CHECK(a.order_ok);
	}
	CHECK_CLEAN(e.space);
	vmt_env_fini(&e);
}

/* ---- per-thread shadows in one shared tree --------------------------------- */

#define MODEL_THREADS	4

struct model_arg {
	struct vmt_shadow m;
	atomic_int *done;
};

static void *model_thread(void *p)
{
	struct model_arg *a = p;

	for (int i = 0; i < 400; i++) {
		vmt_shadow_session(&a->m, NULL);
		if (i % 100 == 99)
			vmt_shadow_compare(&a->m);
	}
	vmt_shadow_compare(&a->m);
	atomic_fetch_add(a->done, 1);
	return NULL;
}

TEST(conc_models_in_shared_nodes)
{
	struct vmt_env e;
	static struct model_arg a[MODEL_THREADS];
	pthread_t t[MODEL_THREADS];
	atomic_int done = 0;

	/* Adjacent 4M regions from 64G - 8M: each thread owns its pages (so
	 * its model is exact), but level-1/2/3 nodes are shared and the middle
	 * region pair straddles a 1G boundary. */
	vmt_env_init(&e, 512 * MiB, 0);
	for (int i = 0; i < MODEL_THREADS; i++) {
		vmt_shadow_init(&a[i].m, e.space, 64 * G1 - 8 * MiB + i * 4 * MiB, 4 * MiB,
			       777u * (unsigned)(i + 1));
		a[i].done = &done;
		t[i] = vmt_thread(model_thread, &a[i]);
	}
	WAIT_FLAG(&done, MODEL_THREADS);
	for (int i = 0; i < MODEL_THREADS; i++)
		vmt_join(t[i]);
	CHECK(!vmt_has_failed());
	CHECK_CLEAN(e.space);
	for (int i = 0; i < MODEL_THREADS; i++) {
		vmt_shadow_compare(&a[i].m);
		vmt_shadow_fini(&a[i].m);
	}
	CHECK_CONSERVED(e.pool);
	vmt_env_fini(&e);
}

/* ---- memory pressure: -ENOMEM and reclaim racing with cursors ------------- */

struct press_arg {
	struct vms_space *space;
	unsigned seed;
	atomic_int *done;
	long enomem;
};

static void *press_thread(void *p)
{
	struct press_arg *a = p;
	struct vms_pool *pool = vms_space_pool(a->space);
	vms_vaddr_t mine = (vms_vaddr_t)(a->seed % 8) * G1;

	for (int it = 0; it < 300; it++) {
		vms_vaddr_t va = mine + (rnd(&a->seed) % 2048) * K4;
		struct vms_cursor *c;
		struct vms_frame *f;
		int r;

		if (rnd(&a->seed) % 4 == 0) {
			CHECK_OK(vms_pool_quiesce(pool));
			continue;
		}
		r = vms_cursor_mut_new(a->space, va, va + 16 * K4, &c);
		if (r == -ENOMEM) {
			a->enomem++;
			continue;
		}
		CHECK_OK(r);
		if (rnd(&a->seed) % 3 == 0) {
			CHECK(vms_cursor_unmap(c, 16 * K4) >= 0);
		} else {
			for (int i = 0; i < 16; i++) {
				if (vms_frame_alloc(pool, 1, &f)) {
					a->enomem++;
					break;
				}
				r = vms_cursor_map(c, f, PROP_RW);
				if (r == -ENOMEM) {
					a->enomem++;
					CHECK_OK(vms_frame_put(f));
					break;
				}
				CHECK(r == 0 || r == 1);
			}
		}
		vms_cursor_drop(c);
	}
	atomic_fetch_add(a->done, 1);
	return NULL;
}

TEST(conc_memory_pressure)
{
	enum { N = 4 };
	struct vmt_env e;
	struct press_arg a[N];
	pthread_t t[N];
	atomic_int done = 0;
	long enomem = 0;

	/* 8 MiB: about 2000 frames for up to 4 x 2048 pages, plus nodes. */
	vmt_env_init(&e, 8 * MiB, 0);
	for (int i = 0; i < N; i++) {
		a[i] = (struct press_arg){ .space = e.space, .seed = 11u + 3u * (unsigned)i,
					   .done = &done };
		t[i] = vmt_thread(press_thread, &a[i]);
	}
	WAIT_FLAG(&done, N);
	for (int i = 0; i < N; i++) {
		vmt_join(t[i]);
		enomem += a[i].enomem;
	}
	CHECK(!vmt_has_failed());
	CHECK(enomem > 0);	/* the pressure was real */
	CHECK_CLEAN(e.space);
	CHECK_CONSERVED(e.pool);
	CHECK(vmt_unmap(e.space, 0, 8 * G1) > 0);
	CHECK_OK(vms_pool_quiesce(e.pool));
	CHECK_EQ(vmt_stats(e.pool).data_frames, 0);
	vmt_env_fini(&e);
}

static void *copy_reader_2m(void *p)
{
	static unsigned char buf[3 * 4096];

	copy_loop(p, M2 + 100 * K4 + 5, buf, sizeof(buf));
	return NULL;
}

static void set_r(struct vms_prop *p, void *arg)
{
	(void)arg;
	p->flags = VMS_PROP_R;
}

TEST(conc_copy_vs_split_and_replace_2m)
{
	struct vmt_env e;
	struct copy_arg a = { 0 };
	pthread_t t;
	struct vms_frame *big = NULL;

	/* The reader copies across pages of a 2M mapping while it is split
	 * (protect_next, 4K unmap) and replaced whole. */
	vmt_env_init(&e, 64 * MiB, 0);
	big = vmt_alloc(e.pool, 2);
	memset(vms_frame_data(big), PATTERN, M2);
	CHECK_EQ(vmt_map(e.space, M2, big, PROP_RW), 0);
	a.space = e.space;
	t = vmt_thread(copy_reader_2m, &a);
	for (int i = 0; i < 600 || (atomic_load(&a.reads) < 100 && i < 100000); i++) {
		struct vms_cursor *c;
		vms_vaddr_t s, en;

		CHECK_OK(vms_cursor_mut_new(e.space, M2, 2 * M2, &c));
		switch (i % 3) {
		case 0:
			CHECK_OK(vms_cursor_jump(c, M2 + 101 * K4));
			CHECK_EQ(vms_cursor_protect_next(c, K4, set_r, NULL, &s, &en), 1);
			break;
		case 1:
			CHECK_OK(vms_cursor_jump(c, M2 + 300 * K4));
			CHECK(vms_cursor_unmap(c, K4) >= 0);
			break;
		default:
			big = vmt_alloc(e.pool, 2);
			memset(vms_frame_data(big), PATTERN, M2);
			CHECK_EQ(vms_cursor_map(c, big, PROP_RW), 1);
			break;
		}
		vms_cursor_drop(c);
		if (i % 50 == 0)
			CHECK_OK(vms_pool_quiesce(e.pool));
	}
	atomic_store(&a.stop, 1);
	vmt_join(t);
	CHECK_EQ(a.bad, 0);
	CHECK(atomic_load(&a.reads) > 0);
	CHECK_CLEAN(e.space);
	CHECK(vmt_unmap(e.space, M2, M2) > 0);
	vmt_env_fini(&e);
}

/* ---- one shadow shared by all threads: serializability ------------------------ */

struct shared_arg {
	struct vmt_shadow *m;
	unsigned seed;
	atomic_int *done;
};

static void *shared_model_thread(void *p)
{
	struct shared_arg *a = p;

	for (int i = 0; i < 300; i++)
		vmt_shadow_session(a->m, &a->seed);
	atomic_fetch_add(a->done, 1);
	return NULL;
}

TEST(conc_shared_model_serializable)
{
	enum { N = 4 };
	struct vmt_env e;
	struct vmt_shadow m;
	struct shared_arg a[N];
	pthread_t t[N];
	atomic_int done = 0;

	/* All threads work on the same 8M (across a 1G boundary) with random,
	 * overlapping cursors, each checking every result against one shared
	 * model that it updates while holding its cursor. Overlapping
	 * sessions must exclude each other for that to hold. */
	vmt_env_init(&e, 512 * MiB, 0);
	vmt_shadow_init(&m, e.space, 3 * G1 - 4 * MiB, 8 * MiB, 1);
	for (int i = 0; i < N; i++) {
		a[i] = (struct shared_arg){ .m = &m, .seed = 4242u + 17u * (unsigned)i,
					    .done = &done };
		t[i] = vmt_thread(shared_model_thread, &a[i]);
	}
	WAIT_FLAG(&done, N);
	for (int i = 0; i < N; i++)
		vmt_join(t[i]);
	CHECK(!vmt_has_failed());
	CHECK(atomic_load(&m.ops) > 1000);
	vmt_shadow_compare(&m);
	CHECK_CLEAN(e.space);
	CHECK_CONSERVED(e.pool);
	vmt_shadow_fini(&m);
	vmt_env_fini(&e);
}

/* ---- frames shared between two spaces, changed from several threads -------- */

struct share_arg {
	struct vms_space *s[2];
	struct vms_frame **frames;
	int nframes;
	unsigned seed;
	atomic_int *done;
};

static void *share_thread(void *p)
{
	struct share_arg *a = p;

	for (int it = 0; it < 400; it++) {
		struct vms_space *s = a->s[rnd(&a->seed) % 2];
		vms_vaddr_t va = (rnd(&a->seed) % 64) * K4;
		struct vms_cursor *c;

		CHECK_OK(vms_cursor_mut_new(s, va, va + 4 * K4, &c));
		if (rnd(&a->seed) % 2) {
			struct vms_frame *f = a->frames[rnd(&a->seed) % a->nframes];

			/* Our own handle for the PTE; the array's handle keeps f alive. */
			CHECK_OK(vms_frame_get(f));
			if (vms_cursor_map(c, f, PROP_RW) < 0)
				CHECK_OK(vms_frame_put(f));
		} else {
			CHECK(vms_cursor_unmap(c, 4 * K4) >= 0);
		}
		vms_cursor_drop(c);
	}
	atomic_fetch_add(a->done, 1);
	return NULL;
}

TEST(conc_frames_shared_between_spaces)
{
	enum { N = 4, F = 8 };
	struct vmt_env e;
	struct vms_space *s2;
	struct vms_frame *frames[F];
	struct share_arg a[N];
	pthread_t t[N];
	atomic_int done = 0;

	vmt_env_init(&e, 8 * MiB, 0);
	CHECK_OK(vms_space_new(e.pool, 0, &s2));
	for (int i = 0; i < F; i++)
		frames[i] = vmt_alloc(e.pool, 1);
	for (int i = 0; i < N; i++) {
		a[i] = (struct share_arg){ .s = { e.space, s2 }, .frames = frames, .nframes = F,
					   .seed = 99u + (unsigned)i, .done = &done };
		t[i] = vmt_thread(share_thread, &a[i]);
	}
	WAIT_FLAG(&done, N);
	for (int i = 0; i < N; i++)
		vmt_join(t[i]);
	CHECK(!vmt_has_failed());
	CHECK_CLEAN(e.space);
	CHECK_CLEAN(s2);
	for (int i = 0; i < F; i++) {
		CHECK_EQ(vms_frame_handles(frames[i]), 1);
		CHECK_OK(vms_frame_put(frames[i]));
	}
	CHECK_OK(vms_space_destroy(s2));
	CHECK_CLEAN(e.space);
	vmt_unmap(e.space, 0, M2);
	vmt_env_fini(&e);
}

/* ---- nested guards hammering each other ------------------------------------ */

struct nest_arg {
	struct vms_space *space;
	vms_vaddr_t start, end;
	int iters;
	atomic_int *done;
};

static void *nest_thread(void *p)
{
	struct nest_arg *a = p;

	struct timespec t0, t1;

	/* At least @iters rounds, and at least 0.5 s of them: a lock-order
	 * deadlock needs the two kinds of cursor to meet in a short window. */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < 1000000; i++) {
		struct vms_cursor *c;

		CHECK_OK(vms_cursor_new(a->space, a->start, a->end, &c));
		vms_cursor_drop(c);
		if (i >= a->iters && i % 256 == 0) {
			clock_gettime(CLOCK_MONOTONIC, &t1);
			if ((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000 >= 500)
				break;
		}
	}
	atomic_fetch_add(a->done, 1);
	return NULL;
}

TEST(conc_nested_guards_no_deadlock)
{
	enum { SLOTS = 48 };
	struct vmt_env e;
	atomic_int done = 0;
	/* Two cursors are rooted at the level-2 node of [1G, 2G) and hold its
	 * level-1 children; two others are rooted one level up and need that
	 * node and the same children. Taking them in any order but parent
	 * before child deadlocks quickly; many children widen the window. */
	struct nest_arg a[4] = {
		{ .start = G1, .end = G1 + SLOTS * M2, .iters = 2000 },
		{ .start = G1 - K4, .end = G1 + SLOTS * M2, .iters = 2000 },
		{ .start = G1 + K4, .end = G1 + SLOTS * M2 - K4, .iters = 2000 },
		{ .start = G1 - M2, .end = G1 + SLOTS * M2 + K4, .iters = 2000 },
	};
	pthread_t t[4];

	vmt_env_init(&e, 8 * MiB, 0);
	for (int i = 0; i < SLOTS; i++)
		vmt_map_new(e.space, G1 + i * M2 + K4, 1, PROP_RW, false);
	vmt_map_new(e.space, G1 - K4, 1, PROP_RW, false);
	for (int i = 0; i < 4; i++) {
		a[i].space = e.space;
		a[i].done = &done;
		t[i] = vmt_thread(nest_thread, &a[i]);
	}
	WAIT_FLAG(&done, 4);
	for (int i = 0; i < 4; i++)
		vmt_join(t[i]);
	CHECK_CLEAN(e.space);
	CHECK_EQ(vmt_unmap(e.space, 0, 2 * G1), SLOTS + 1);
	vmt_env_fini(&e);
}

/* ---- the accessor owner rules under concurrency ------------------------------ */

#define ACC_BASE	0x100000ULL
#define ACC_PAGES	16

struct acc_arg {
	struct vms_space *space;
	struct vms_frame **frames;
	unsigned seed, id;
	atomic_int *done;
	long writes, reads, broken;
};

static unsigned char *acc_byte(struct acc_arg *a, vms_vaddr_t va)
{
	uint64_t off = va - ACC_BASE;

	return (unsigned char *)vms_frame_data(a->frames[off / K4]) + off % K4;
}

static void *acc_thread(void *p)
{
	struct acc_arg *a = p;
	static __thread unsigned char buf[3 * 4096], buf2[3 * 4096];

	CHECK_OK(vms_space_activate(a->space));
	for (int it = 0; it < 1500; it++) {
		uint64_t len = 1 + rnd(&a->seed) % (2 * K4);
		vms_vaddr_t va = ACC_BASE + rnd(&a->seed) % (ACC_PAGES * K4 - len);
		unsigned char pat = (unsigned char)(a->id * 16 + it % 16 + 1);
		int r;

		if (rnd(&a->seed) % 2) {
			struct vms_writer *w;

			r = vms_space_create_writer(a->space, va, len, &w);
			if (r == -EBUSY)
				continue;
			CHECK_OK(r);
			if (vms_space_activate_writer(a->space, w) == 0) {
				memset(buf, pat, len);
				CHECK_EQ(vms_writer_write(w, buf, len), (long)len);
				a->writes++;
				sched_yield();
				/* Registered: nobody else may have written here. */
				for (uint64_t i = 0; i < len; i++)
					if (__atomic_load_n(acc_byte(a, va + i), __ATOMIC_RELAXED) != pat) {
						a->broken++;
						break;
					}
			}
			CHECK_OK(vms_writer_release(w));
		} else {
			struct vms_reader *rd, *rd2;

			r = vms_space_create_reader(a->space, va, len, &rd);
			if (r == -EBUSY)
				continue;
			CHECK_OK(r);
			/* A second reader of the same range: shared readers are
			 * allowed, but a writer may have registered meanwhile. */
			r = vms_space_create_reader(a->space, va, len, &rd2);
			if (r == -EBUSY) {
				CHECK_OK(vms_reader_release(rd));
				continue;
			}
			CHECK_OK(r);
			if (vms_space_activate_reader(a->space, rd) == 0) {
				CHECK_EQ(vms_reader_read(rd, buf, len), (long)len);
				sched_yield();
				if (vms_space_activate_reader(a->space, rd2) == 0) {
					CHECK_EQ(vms_reader_read(rd2, buf2, len), (long)len);
					/* No writer could overlap either reader. */
					if (memcmp(buf, buf2, len))
						a->broken++;
				}
				a->reads++;
			}
			CHECK_OK(vms_reader_release(rd));
			CHECK_OK(vms_reader_release(rd2));
		}
	}
	CHECK_OK(vms_space_deactivate(a->space));
	atomic_fetch_add(a->done, 1);
	return NULL;
}

TEST(conc_accessor_exclusion)
{
	enum { N = 4 };
	struct vmt_env e;
	struct vms_frame *frames[ACC_PAGES];
	struct acc_arg a[N];
	pthread_t t[N];
	atomic_int done = 0;
	long writes = 0, reads = 0;

	vmt_env_init(&e, 8 * MiB, VMS_SPACE_SHARED_READERS);
	for (int i = 0; i < ACC_PAGES; i++)
		frames[i] = vmt_map_new(e.space, ACC_BASE + i * K4, 1, PROP_RW, false);
	for (int i = 0; i < N; i++) {
		a[i] = (struct acc_arg){ .space = e.space, .frames = frames,
					 .seed = 5u + 7u * (unsigned)i, .id = (unsigned)i,
					 .done = &done };
		t[i] = vmt_thread(acc_thread, &a[i]);
	}
	WAIT_FLAG(&done, N);
	for (int i = 0; i < N; i++) {
		vmt_join(t[i]);
		CHECK_EQ(a[i].broken, 0);
		writes += a[i].writes;
		reads += a[i].reads;
	}
	CHECK(writes > 0 && reads > 0);
	CHECK_CLEAN(e.space);
	CHECK_EQ(vmt_unmap(e.space, ACC_BASE, ACC_PAGES * K4), ACC_PAGES);
	vmt_env_fini(&e);
}

/* ---- the frame pool from several threads ----------------------------------- */

struct pool_arg {
	struct vms_pool *pool;
	struct vms_frame **slots;	/* shared: frames change hands between threads */
	int nslots;
	unsigned seed;
	atomic_int *done;
	long allocs;
};

static void *pool_thread(void *p)
{
	struct pool_arg *a = p;

	for (int it = 0; it < 4000; it++) {
		int i = (int)(rnd(&a->seed) % (unsigned)a->nslots);
		struct vms_frame *f = __atomic_exchange_n(&a->slots[i], NULL, __ATOMIC_ACQ_REL);

		if (f) {
			/* Whoever allocated it, its bytes are still ours to check. */
			unsigned char *d = vms_frame_data(f);

			CHECK(d[0] == (unsigned char)i && d[K4 - 1] == (unsigned char)i);
			CHECK_OK(vms_frame_put(f));
			continue;
		}
		if (vms_frame_alloc(a->pool, rnd(&a->seed) % 8 ? 1 : 2, &f))
			continue;	/* exhausted for now */
		a->allocs++;
		memset(vms_frame_data(f), i, K4);
		f = __atomic_exchange_n(&a->slots[i], f, __ATOMIC_ACQ_REL);
		if (f)
			CHECK_OK(vms_frame_put(f));	/* raced: drop the other one */
	}
	atomic_fetch_add(a->done, 1);
	return NULL;
}

TEST(conc_pool_alloc_free)
{
	enum { N = 4, SLOTS = 64 };
	struct vms_pool *p = vmt_pool(16 * MiB);
	static struct vms_frame *slots[SLOTS];
	struct pool_arg a[N];
	pthread_t t[N];
	atomic_int done = 0;
	struct vms_pool_stats st;

	memset(slots, 0, sizeof(slots));
	for (int i = 0; i < N; i++) {
		a[i] = (struct pool_arg){ .pool = p, .slots = slots, .nslots = SLOTS,
					  .seed = 31u * (unsigned)i + 1u, .done = &done };
		t[i] = vmt_thread(pool_thread, &a[i]);
	}
	WAIT_FLAG(&done, N);
	for (int i = 0; i < N; i++) {
		vmt_join(t[i]);
		CHECK(a[i].allocs > 0);
	}
	CHECK(!vmt_has_failed());
	CHECK_CONSERVED(p);
	for (int i = 0; i < SLOTS; i++)
		if (slots[i])
			CHECK_OK(vms_frame_put(slots[i]));
	st = vmt_stats(p);
	CHECK_EQ(st.data_frames, 0);
	CHECK_EQ(st.free_frames, st.total_frames);
	CHECK_OK(vms_pool_destroy(p));
}
