/* SPDX-License-Identifier: MIT */
/*
 * test_regress.c - regressions for the upstream bugs and tricky cases in
 * the design notes (asterinas-cursor-notes.md, section 6).
 */
#include "test.h"

/* #2709: jump after map/unmap left va at the range end. */
TEST(regress_2709_jump_from_range_end)
{
	struct vmt_env e;
	struct vms_cursor *c;
	struct vms_mapping m;
	struct vms_frame *f;
	vms_vaddr_t found;

	vmt_env_init(&e, 8 * MiB, 0);
	/* [2M-8K, 2M): the guard is the level-1 node of [0, 2M); its end
	 * lies in the next node. */
	for (int pass = 0; pass < 3; pass++) {
		f = vmt_alloc(e.pool, 1);
		CHECK_OK(vms_cursor_mut_new(e.space, M2 - 2 * K4, M2, &c));
		CHECK_OK(vms_cursor_jump(c, M2 - K4));
		CHECK_EQ(vms_cursor_map(c, f, PROP_RW), pass == 0 ? 0 : 1);
		CHECK_EQ(vms_cursor_va(c), M2);
		if (pass == 1) {
			/* find_next over the rest also ends at the range end */
			CHECK_EQ(vms_cursor_find_next(c, K4, &found), -EINVAL);
		}
		CHECK_OK(vms_cursor_jump(c, M2 - 2 * K4));
		CHECK_OK(vms_cursor_query(c, &m));
		CHECK(m.frame == NULL);
		CHECK_EQ(vms_cursor_find_next(c, 2 * K4, &found), 1);
		CHECK_EQ(found, M2 - K4);
		CHECK_OK(vms_cursor_query(c, &m));
		CHECK(m.frame == f);
		vms_cursor_drop(c);
		CHECK_CLEAN(e.space);
	}
	/* After an unmap that ends at the range end. */
	CHECK_OK(vms_cursor_mut_new(e.space, M2 - 2 * K4, M2, &c));
	CHECK_EQ(vms_cursor_unmap(c, 2 * K4), 1);
	CHECK_EQ(vms_cursor_va(c), M2);
	CHECK_OK(vms_cursor_jump(c, M2 - K4));
	CHECK_OK(vms_cursor_query(c, &m));
	CHECK(m.frame == NULL);
	vms_cursor_drop(c);
	/* After protect_next / find_next that end at the range end. */
	vmt_map_new(e.space, M2 - K4, 1, PROP_RW, false);
	CHECK_OK(vms_cursor_mut_new(e.space, M2 - 2 * K4, M2, &c));
	CHECK_EQ(vms_cursor_find_next(c, 2 * K4, &found), 1);
	CHECK_EQ(vms_cursor_find_next(c, K4, &found), 1);
	CHECK_OK(vms_cursor_jump(c, M2 - K4));
	CHECK_EQ(vms_cursor_unmap(c, K4), 1);
	CHECK_EQ(vms_cursor_find_next(c, 0, &found), -EINVAL);
	CHECK_OK(vms_cursor_jump(c, M2 - 2 * K4));
	CHECK_EQ(vms_cursor_find_next(c, 2 * K4, &found), 0);
	CHECK_EQ(vms_cursor_va(c), M2);
	CHECK_OK(vms_cursor_jump(c, M2 - 2 * K4));
	CHECK_OK(vms_cursor_query(c, &m));
	CHECK(m.frame == NULL);
	vms_cursor_drop(c);
	CHECK_CLEAN(e.space);
	vmt_env_fini(&e);
}

static void noop_prop(struct vms_prop *p, void *arg)
{
	(void)p;
	(void)arg;
}

/* #4 and #5: overflow near the top of the address space. */
TEST(regress_top_of_space_overflow)
{
	struct vmt_env e;
	struct vms_cursor *c;
	struct vms_mapping m;
	struct vms_frame *f;
	vms_vaddr_t found, s, en;
	const vms_vaddr_t start = VMS_USER_END - 2 * M2;

	vmt_env_init(&e, 8 * MiB, 0);
	f = vmt_alloc(e.pool, 2);
	CHECK_OK(vms_cursor_mut_new(e.space, start, VMS_USER_END, &c));
	CHECK_OK(vms_cursor_jump(c, VMS_USER_END - M2));
	CHECK_EQ(vms_cursor_map(c, f, PROP_RW), 0);
	CHECK_EQ(vms_cursor_va(c), VMS_USER_END);
	CHECK_OK(vms_cursor_jump(c, VMS_USER_END - K4));
	CHECK_OK(vms_cursor_query(c, &m));
	CHECK(m.frame == f);
	CHECK_EQ(m.end, VMS_USER_END);
	CHECK_OK(vms_cursor_jump(c, start));
	/* Aligned lengths that wrap va + len past 2^64. */
	for (uint64_t extra = 0; extra <= 2 * M2; extra += M2) {
		uint64_t len = (0 - start) + extra;

		CHECK_EQ(vms_cursor_find_next(c, len, &found), -EINVAL);
		CHECK_EQ(vms_cursor_unmap(c, len), -EINVAL);
		CHECK_EQ(vms_cursor_protect_next(c, len, noop_prop, NULL, &s, &en), -EINVAL);
		CHECK_EQ(vms_cursor_va(c), start);
	}
	CHECK_EQ(vms_cursor_find_next(c, 2 * M2, &found), 1);
	CHECK_EQ(found, VMS_USER_END - M2);
	CHECK_EQ(vms_cursor_unmap(c, M2), 1);
	CHECK_EQ(vms_cursor_va(c), VMS_USER_END);
	CHECK_EQ(vms_cursor_jump(c, VMS_USER_END), -EINVAL);
	CHECK_OK(vms_cursor_jump(c, start));
	CHECK_EQ(vms_cursor_find_next(c, 2 * M2, &found), 0);
	CHECK_EQ(vms_cursor_va(c), VMS_USER_END);
	vms_cursor_drop(c);
	CHECK_CLEAN(e.space);
	vmt_env_fini(&e);
}

/* #3731: ranges that are exactly one entry, at 2M and 1G. */
TEST(regress_3731_exact_entry_ranges)
{
	struct vmt_env e;
	struct vms_cursor *c;
	struct vms_mapping m;
	struct vms_frame *f;
	struct vms_check_report rep;
	long n = 0;

	vmt_env_init(&e, 32 * MiB, 0);
	/* 2M over exactly [2M, 4M), from a cursor over exactly that. */
	f = vmt_alloc(e.pool, 2);
	CHECK_OK(vms_cursor_mut_new(e.space, M2, 2 * M2, &c));
	CHECK_EQ(vms_cursor_map(c, f, PROP_RW), 0);
	vms_cursor_drop(c);
	CHECK_OK(vmt_query(e.space, M2 + K4, &m));
	CHECK(m.frame == f);
	CHECK_EQ(m.level, 2);

	/* Fill [1G, 2G) with 4K pages in several level-1 nodes and 2M pages,
	 * then empty it from a cursor over exactly [1G, 2G). */
	for (int t = 0; t < 4; t++)
		for (int i = 0; i < 3; i++, n++)
			vmt_map_new(e.space, G1 + (t * 100 + 1) * M2 + i * 9 * K4, 1, PROP_RW, false);
	for (int t = 0; t < 3; t++, n++)
		vmt_map_new(e.space, G1 + (t * 100 + 50) * M2, 2, PROP_RW, false);
	CHECK_CLEAN(e.space);
	CHECK_OK(vms_cursor_mut_new(e.space, G1, 2 * G1, &c));
	CHECK_OK(vms_cursor_jump(c, G1 + 50 * M2 + 3 * K4));
	CHECK_OK(vms_cursor_query(c, &m));
	CHECK_EQ(m.level, 2);
	CHECK_OK(vms_cursor_jump(c, G1));
	CHECK_EQ(vms_cursor_unmap(c, G1), n);
	CHECK_EQ(vms_cursor_va(c), 2 * G1);
	CHECK_OK(vms_cursor_jump(c, G1));
	CHECK_EQ(vms_cursor_find_next(c, G1, &(vms_vaddr_t){ 0 }), 0);
	vms_cursor_drop(c);
	memset(&rep, 0, sizeof(rep));
	CHECK_OK(vms_space_check(e.space, &rep));
	CHECK_EQ(rep.leaves, 1);	/* the 2M page at [2M, 4M) */
	/* And the 1G range can be refilled from an exact cursor. */
	f = vmt_alloc(e.pool, 2);
	CHECK_OK(vms_cursor_mut_new(e.space, G1, 2 * G1, &c));
	CHECK_OK(vms_cursor_jump(c, 2 * G1 - M2));
	CHECK_EQ(vms_cursor_map(c, f, PROP_RW), 0);
	vms_cursor_drop(c);
	CHECK_CLEAN(e.space);
	CHECK_EQ(vmt_unmap(e.space, 0, 2 * G1), 2);
	vmt_env_fini(&e);
}

/* #3: unmapping a whole subtree must mark every node of it stray and
 * unlock it, or a thread that walked to a node of it before the detach
 * hangs on its lock, or works on the dead subtree and its update is lost. */
struct stray_arg {
	struct vms_space *space;
	vms_vaddr_t va;
	struct vms_frame *f;
	atomic_int started, done;
	bool empty;
};

static void *stray_opener(void *p)
{
	struct stray_arg *a = p;
	struct vms_cursor *c;
	struct vms_mapping m;
	vms_vaddr_t found;

	atomic_store(&a->started, 1);
	CHECK_OK(vms_cursor_mut_new(a->space, a->va, a->va + 4 * K4, &c));
	CHECK_OK(vms_cursor_query(c, &m));
	a->empty = m.frame == NULL &&
		   vms_cursor_find_next(c, 4 * K4, &found) == 0;
	/* An update that must survive: it has to land in the live tree. */
	CHECK_OK(vms_cursor_jump(c, a->va));
	CHECK_EQ(vms_cursor_map(c, a->f, PROP_RW), 0);
	vms_cursor_drop(c);
	atomic_store(&a->done, 1);
	return NULL;
}

TEST(regress_stray_marking_whole_subtree)
{
	enum { N = 5 };
	struct vmt_env e;
	struct stray_arg a[N];
	pthread_t t[N];
	struct vms_cursor *c;
	struct vms_mapping m;

	vmt_env_init(&e, 32 * MiB, 0);
	for (int i = 0; i < N; i++) {
		memset(&a[i], 0, sizeof(a[i]));
		a[i].space = e.space;
		a[i].va = G1 + (i * 37 + 3) * M2;
		a[i].f = vmt_alloc(e.pool, 1);
		/* Threads 0-2 wait on existing level-1 nodes; 3-4 need a new
		 * level-1 node under the level-2 node being detached. */
		if (i < 3)
			for (int j = 0; j < 4; j++)
				vmt_map_new(e.space, a[i].va + j * K4, 1, PROP_RW, false);
	}
	/* A cursor above the level-2 node of [1G, 2G). */
	CHECK_OK(vms_cursor_mut_new(e.space, 0, 4 * G1, &c));
	for (int i = 0; i < N; i++)
		t[i] = vmt_thread(stray_opener, &a[i]);
	for (int i = 0; i < N; i++)
		WAIT_FLAG(&a[i].started, 1);
	vmt_nap_ms(30);	/* let them reach the locks */
	for (int i = 0; i < N; i++)
		CHECK_EQ(atomic_load(&a[i].done), 0);
	CHECK_OK(vms_cursor_jump(c, G1));
	CHECK_EQ(vms_cursor_unmap(c, G1), 4 * 3);
	vms_cursor_drop(c);
	for (int i = 0; i < N; i++)
		WAIT_FLAG(&a[i].done, 1);	/* a hang fails here, not at join */
	for (int i = 0; i < N; i++) {
		vmt_join(t[i]);
		CHECK(a[i].empty);
	}
	CHECK_OK(vms_pool_quiesce(e.pool));
	for (int i = 0; i < N; i++) {
		CHECK_OK(vmt_query(e.space, a[i].va, &m));
		CHECK(m.frame == a[i].f);
		CHECK_EQ(vms_frame_refcount(a[i].f), 1);
	}
	CHECK_CLEAN(e.space);
	CHECK_EQ(vmt_unmap(e.space, 0, 4 * G1), N);
	vmt_env_fini(&e);
}

/* Empty nodes linger after page-wise unmaps and are reclaimed by a
 * covering unmap (notes 2.6 / 6.12). */
TEST(regress_empty_nodes_reclaimed_by_cover)
{
	struct vmt_env e;
	struct vms_pool_stats st0, st1;

	vmt_env_init(&e, 8 * MiB, 0);
	st0 = vmt_stats(e.pool);
	vmt_map_new(e.space, 5 * G1 + 3 * M2, 1, PROP_RW, false);
	CHECK_EQ(vmt_unmap(e.space, 5 * G1 + 3 * M2, K4), 1);
	CHECK_OK(vms_pool_quiesce(e.pool));
	st1 = vmt_stats(e.pool);
	CHECK_EQ(st1.pt_frames, st0.pt_frames + 3);	/* L3, L2, L1 linger */
	CHECK_CLEAN(e.space);
	/* Count is 0 for empty tables. */
	CHECK_EQ(vmt_unmap(e.space, 0, 512 * G1), 0);
	CHECK_OK(vms_pool_quiesce(e.pool));
	st1 = vmt_stats(e.pool);
	CHECK_EQ(st1.pt_frames, st0.pt_frames);
	CHECK_CLEAN(e.space);
	vmt_env_fini(&e);
}
