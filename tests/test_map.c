/* SPDX-License-Identifier: MIT */
/* test_map.c - map, unmap, protect_next, huge-page splits, detaching. */
#include "test.h"

static void set_r_only(struct vms_prop *p, void *arg)
{
	(void)arg;
	p->flags = VMS_PROP_R;
}

/* ---- map ---------------------------------------------------------------- */

TEST(map_new_and_replace)
{
	struct vmt_env e;
	struct vms_cursor *c;
	struct vms_frame *a, *b;
	struct vms_mapping m;

	vmt_env_init(&e, 4 * MiB, 0);
	a = vmt_alloc(e.pool, 1);
	b = vmt_alloc(e.pool, 1);
	CHECK_OK(vms_frame_get(a));	/* keep a handle to watch a's refcount */

	CHECK_OK(vms_cursor_mut_new(e.space, 0x10000, 0x20000, &c));
	CHECK_EQ(vms_cursor_map(c, a, PROP_RW), 0);
	CHECK_EQ(vms_cursor_va(c), 0x11000);
	CHECK_EQ(vms_frame_handles(a), 1);	/* one handle consumed */
	CHECK_EQ(vms_frame_refcount(a), 2);	/* handle + PTE */
	CHECK_OK(vms_cursor_jump(c, 0x10000));
	CHECK_EQ(vms_cursor_map(c, b, PROP_R), 1);	/* replaced */
	CHECK_EQ(vms_cursor_va(c), 0x11000);
	CHECK_EQ(vms_frame_handles(b), 0);
	CHECK_EQ(vms_frame_refcount(b), 1);
	CHECK_OK(vms_cursor_jump(c, 0x10000));
	CHECK_OK(vms_cursor_query(c, &m));
	CHECK(m.frame == b);
	CHECK(vms_prop_equal(m.prop, PROP_R));
	/* a's PTE reference is released only after a grace period. */
	CHECK_EQ(vms_frame_refcount(a), 2);
	CHECK_EQ(vms_pool_quiesce(e.pool), -EDEADLK);	/* holding a cursor */
	vms_cursor_drop(c);
	CHECK(vmt_stats(e.pool).deferred >= 1);
	CHECK_EQ(vms_frame_refcount(a), 2);
	CHECK_OK(vms_pool_quiesce(e.pool));
	CHECK_EQ(vms_frame_refcount(a), 1);
	CHECK_EQ(vms_frame_handles(a), 1);
	CHECK_EQ(vmt_stats(e.pool).deferred, 0);
	CHECK_OK(vms_frame_put(a));
	CHECK_EQ(vms_frame_refcount(a), 0);
	CHECK_CLEAN(e.space);
	CHECK_EQ(vmt_unmap(e.space, 0x10000, K4), 1);
	vmt_env_fini(&e);
}

TEST(map_readonly_cursor_eperm)
{
	struct vmt_env e;
	struct vms_cursor *c;
	struct vms_frame *f;
	vms_vaddr_t s, en;

	vmt_env_init(&e, 4 * MiB, 0);
	vmt_map_new(e.space, 0x1000, 1, PROP_RW, false);
	f = vmt_alloc(e.pool, 1);
	CHECK_OK(vms_cursor_new(e.space, 0x1000, 0x3000, &c));
	CHECK_EQ(vms_cursor_map(c, f, PROP_RW), -EPERM);
	CHECK_EQ(vms_cursor_unmap(c, K4), -EPERM);
	CHECK_EQ(vms_cursor_protect_next(c, K4, set_r_only, NULL, &s, &en), -EPERM);
	CHECK_EQ(vms_cursor_va(c), 0x1000);
	vms_cursor_drop(c);
	CHECK_EQ(vms_frame_handles(f), 1);	/* not consumed on failure */
	CHECK_EQ(vms_frame_refcount(f), 1);
	CHECK_OK(vms_frame_put(f));
	CHECK_EQ(vmt_unmap(e.space, 0x1000, K4), 1);
	vmt_env_fini(&e);
}

TEST(map_einval)
{
	struct vmt_env e;
	struct vms_cursor *c;
	struct vms_frame *small, *big, *mapped;
	struct vms_prop bad;
	struct vms_mapping m;

	vmt_env_init(&e, 8 * MiB, 0);
	small = vmt_alloc(e.pool, 1);
	big = vmt_alloc(e.pool, 2);
	mapped = vmt_map_new(e.space, 0x9000, 1, PROP_RW, false);

	CHECK_OK(vms_cursor_mut_new(e.space, 0x1000, M2 + 0x3000, &c));
	/* 2M frame at a 4K-aligned va, and past the end. */
	CHECK_EQ(vms_cursor_map(c, big, PROP_RW), -EINVAL);
	CHECK_OK(vms_cursor_jump(c, M2));
	CHECK_EQ(vms_cursor_map(c, big, PROP_RW), -EINVAL);
	/* Invalid props. */
	bad = PROP_RW;
	bad.flags |= 0x20;
	CHECK_EQ(vms_cursor_map(c, small, bad), -EINVAL);
	bad = PROP_RW;
	bad.flags = 0x80;
	CHECK_EQ(vms_cursor_map(c, small, bad), -EINVAL);
	bad = PROP_RW;
	bad.priv |= 0x04;
	CHECK_EQ(vms_cursor_map(c, small, bad), -EINVAL);
	bad = PROP_RW;
	bad.cache = VMS_CACHE_WRITEPROTECTED;
	CHECK_EQ(vms_cursor_map(c, small, bad), -EINVAL);
	bad.cache = 200;
	CHECK_EQ(vms_cursor_map(c, small, bad), -EINVAL);
	/* A frame the caller holds no handle on, and no frame at all. */
	CHECK_EQ(vms_cursor_map(c, mapped, PROP_RW), -EINVAL);
	CHECK_EQ(vms_cursor_map(c, NULL, PROP_RW), -EINVAL);
	CHECK_EQ(vms_cursor_va(c), M2);
	CHECK_OK(vms_cursor_query(c, &m));
	CHECK(m.frame == NULL);
	/* At the end of the range. */
	CHECK_OK(vms_cursor_jump(c, M2 + 0x2000));
	CHECK_EQ(vms_cursor_map(c, small, PROP_RW), 0);
	CHECK_EQ(vms_cursor_va(c), M2 + 0x3000);
	CHECK_OK(vms_frame_get(small));
	CHECK_EQ(vms_cursor_map(c, small, PROP_RW), -EINVAL);
	CHECK_OK(vms_frame_put(small));
	vms_cursor_drop(c);

	CHECK_EQ(vms_frame_handles(big), 1);
	CHECK_EQ(vms_frame_refcount(big), 1);
	CHECK_EQ(vms_frame_refcount(mapped), 1);
	CHECK_EQ(vms_frame_handles(mapped), 0);
	CHECK_OK(vms_frame_put(big));
	CHECK_CLEAN(e.space);
	CHECK_EQ(vmt_unmap(e.space, 0, 4 * MiB), 2);
	vmt_env_fini(&e);
}

TEST(map_advances_by_page_size)
{
	struct vmt_env e;
	struct vms_cursor *c;
	struct vms_frame *f[3];
	struct vms_mapping m;

	vmt_env_init(&e, 16 * MiB, 0);
	f[0] = vmt_alloc(e.pool, 2);
	f[1] = vmt_alloc(e.pool, 1);
	f[2] = vmt_alloc(e.pool, 2);
	CHECK_OK(vms_cursor_mut_new(e.space, M2, 4 * M2, &c));
	CHECK_EQ(vms_cursor_map(c, f[0], PROP_RW), 0);
	CHECK_EQ(vms_cursor_va(c), 2 * M2);
	CHECK_EQ(vms_cursor_map(c, f[1], PROP_RW), 0);
	CHECK_EQ(vms_cursor_va(c), 2 * M2 + K4);
	CHECK_OK(vms_cursor_jump(c, 3 * M2));
	CHECK_EQ(vms_cursor_map(c, f[2], PROP_RW), 0);
	CHECK_EQ(vms_cursor_va(c), 4 * M2);
	CHECK_OK(vms_cursor_jump(c, M2 + 5 * K4));
	CHECK_OK(vms_cursor_query(c, &m));
	CHECK(m.frame == f[0]);
	CHECK_EQ(m.level, 2);
	vms_cursor_drop(c);
	CHECK_CLEAN(e.space);
	CHECK_EQ(vmt_unmap(e.space, M2, 3 * M2), 3);
	vmt_env_fini(&e);
}

/* ---- huge pages ---------------------------------------------------------- */

TEST(map_2m_exact_range)
{
	struct vmt_env e;
	struct vms_cursor *c;
	struct vms_frame *f;
	struct vms_mapping m;

	/* Asterinas #3731: a cursor over exactly one 2M entry must be able
	 * to map a 2M leaf there. */
	vmt_env_init(&e, 8 * MiB, 0);
	f = vmt_alloc(e.pool, 2);
	CHECK_OK(vms_cursor_mut_new(e.space, M2, 2 * M2, &c));
	CHECK_EQ(vms_cursor_map(c, f, PROP_RW), 0);
	CHECK_EQ(vms_cursor_va(c), 2 * M2);
	CHECK_OK(vms_cursor_jump(c, M2));
	CHECK_OK(vms_cursor_query(c, &m));
	CHECK(m.frame == f);
	CHECK_EQ(m.level, 2);
	vms_cursor_drop(c);
	CHECK_CLEAN(e.space);
	/* And an exact-range cursor can remove it again. */
	CHECK_OK(vms_cursor_mut_new(e.space, M2, 2 * M2, &c));
	CHECK_EQ(vms_cursor_unmap(c, M2), 1);
	vms_cursor_drop(c);
	CHECK_OK(vmt_query(e.space, M2, &m));
	CHECK(m.frame == NULL);
	vmt_env_fini(&e);
}

TEST(map_4k_splits_2m)
{
	struct vmt_env e;
	struct vms_frame *big, *small;
	struct vms_mapping m;
	struct vms_prop p = { VMS_PROP_R | VMS_PROP_X, VMS_CACHE_WRITECOMBINING, VMS_PRIV_USER };
	vms_vaddr_t base = 2 * M2;

	vmt_env_init(&e, 16 * MiB, 0);
	big = vmt_map_new(e.space, base, 2, p, false);
	CHECK_EQ(vms_frame_refcount(big), 1);
	small = vmt_alloc(e.pool, 1);
	CHECK_EQ(vmt_map(e.space, base + 5 * K4, small, PROP_RW), 1);

	/* 511 PTE references plus the replaced piece waiting for a grace period. */
	CHECK_EQ(vms_frame_refcount(big), 512);
	CHECK_EQ(vms_frame_handles(big), 0);
	CHECK_OK(vms_pool_quiesce(e.pool));
	CHECK_EQ(vms_frame_refcount(big), 511);

	CHECK_OK(vmt_query(e.space, base + 5 * K4, &m));
	CHECK(m.frame == small);
	CHECK_EQ(m.level, 1);
	for (unsigned i = 0; i < 512; i++) {
		if (i == 5)
			continue;
		if (i == 21)
			i = 505;	/* the middle is like the ends */
		CHECK_OK(vmt_query(e.space, base + i * K4, &m));
		CHECK(m.frame == big);
		CHECK_EQ(m.level, 1);
		CHECK_EQ(m.start, base + i * K4);
		CHECK_EQ(m.end, base + (i + 1) * K4);
		CHECK_EQ(m.paddr, vms_frame_paddr(big) + i * K4);
		CHECK(vms_prop_equal(m.prop, p));
	}
	CHECK_CLEAN(e.space);
	CHECK_EQ(vmt_unmap(e.space, base, M2), 512);
	CHECK_OK(vms_pool_quiesce(e.pool));
	CHECK_EQ(vms_frame_refcount(big), 0);
	vmt_env_fini(&e);
}

TEST(unmap_part_of_2m)
{
	struct vmt_env e;
	struct vms_frame *big;
	struct vms_cursor *c;
	struct vms_mapping m;
	vms_vaddr_t base = 2 * M2;

	vmt_env_init(&e, 16 * MiB, 0);
	big = vmt_map_new(e.space, base, 2, PROP_RW, false);
	CHECK_OK(vms_cursor_mut_new(e.space, 0, 8 * M2, &c));
	CHECK_OK(vms_cursor_jump(c, base + 2 * K4));
	CHECK_EQ(vms_cursor_unmap(c, 3 * K4), 3);
	CHECK_EQ(vms_cursor_va(c), base + 5 * K4);
	vms_cursor_drop(c);
	CHECK_OK(vms_pool_quiesce(e.pool));
	CHECK_EQ(vms_frame_refcount(big), 509);

	CHECK_OK(vmt_query(e.space, base + K4, &m));
	CHECK(m.frame == big);
	CHECK_EQ(m.level, 1);
	CHECK_EQ(m.paddr, vms_frame_paddr(big) + K4);
	for (int i = 2; i < 5; i++) {
		CHECK_OK(vmt_query(e.space, base + i * K4, &m));
		CHECK(m.frame == NULL);
	}
	CHECK_OK(vmt_query(e.space, base + 5 * K4, &m));
	CHECK(m.frame == big);
	CHECK_EQ(m.paddr, vms_frame_paddr(big) + 5 * K4);
	CHECK_CLEAN(e.space);

	/* A range that sticks out of the leaf on both sides of a boundary. */
	CHECK_EQ(vmt_unmap(e.space, base - M2, M2 + 2 * K4), 2);
	CHECK_EQ(vmt_unmap(e.space, base, 8 * K4), 3);	/* pages 5, 6, 7 */
	CHECK_EQ(vmt_unmap(e.space, base, 5 * K4), 0);
	CHECK_EQ(vmt_unmap(e.space, base + M2 - K4, M2), 1);
	CHECK_OK(vms_pool_quiesce(e.pool));
	CHECK_EQ(vms_frame_refcount(big), 503);
	CHECK_CLEAN(e.space);
	CHECK_EQ(vmt_unmap(e.space, 0, 8 * M2), 503);
	vmt_env_fini(&e);
}

TEST(protect_part_of_2m)
{
	struct vmt_env e;
	struct vms_frame *big;
	struct vms_cursor *c;
	struct vms_mapping m;
	vms_vaddr_t s = 0, en = 0, base = 2 * M2;

	vmt_env_init(&e, 16 * MiB, 0);
	big = vmt_map_new(e.space, base, 2, PROP_RW, false);
	CHECK_OK(vms_cursor_mut_new(e.space, base, base + M2, &c));
	CHECK_OK(vms_cursor_jump(c, base + K4));
	CHECK_EQ(vms_cursor_protect_next(c, K4, set_r_only, NULL, &s, &en), 1);
	CHECK_EQ(s, base + K4);
	CHECK_EQ(en, base + 2 * K4);
	CHECK_EQ(vms_cursor_va(c), base + 2 * K4);
	vms_cursor_drop(c);
	CHECK_EQ(vms_frame_refcount(big), 512);

	CHECK_OK(vmt_query(e.space, base, &m));
	CHECK(m.frame == big);
	CHECK_EQ(m.level, 1);
	CHECK(vms_prop_equal(m.prop, PROP_RW));
	CHECK_OK(vmt_query(e.space, base + K4, &m));
	CHECK(vms_prop_equal(m.prop, PROP_R));
	CHECK_EQ(m.paddr, vms_frame_paddr(big) + K4);
	CHECK_OK(vmt_query(e.space, base + 2 * K4, &m));
	CHECK(vms_prop_equal(m.prop, PROP_RW));
	CHECK_OK(vmt_query(e.space, base + M2 - K4, &m));
	CHECK(vms_prop_equal(m.prop, PROP_RW));
	CHECK_CLEAN(e.space);
	CHECK_EQ(vmt_unmap(e.space, base, M2), 512);
	vmt_env_fini(&e);
}

TEST(protect_whole_2m_keeps_it_huge)
{
	struct vmt_env e;
	struct vms_cursor *c;
	struct vms_mapping m;
	vms_vaddr_t s = 0, en = 0;

	vmt_env_init(&e, 16 * MiB, 0);
	vmt_map_new(e.space, M2, 2, PROP_RW, false);
	CHECK_OK(vms_cursor_mut_new(e.space, 0, 4 * M2, &c));
	CHECK_EQ(vms_cursor_protect_next(c, 4 * M2, set_r_only, NULL, &s, &en), 1);
	CHECK_EQ(s, M2);
	CHECK_EQ(en, 2 * M2);
	CHECK_EQ(vms_cursor_va(c), 2 * M2);
	CHECK_EQ(vms_cursor_protect_next(c, 2 * M2, set_r_only, NULL, &s, &en), 0);
	CHECK_EQ(vms_cursor_va(c), 4 * M2);
	vms_cursor_drop(c);
	CHECK_OK(vmt_query(e.space, M2 + 7 * K4, &m));
	CHECK_EQ(m.level, 2);
	CHECK(vms_prop_equal(m.prop, PROP_R));
	CHECK_EQ(vmt_unmap(e.space, M2, M2), 1);
	vmt_env_fini(&e);
}

TEST(map_2m_over_4k_detaches_table)
{
	struct vmt_env e;
	struct vms_frame *small[3], *big;
	struct vms_pool_stats st0, st1;
	struct vms_mapping m;
	vms_vaddr_t base = 2 * M2;
	vms_vaddr_t at[3] = { base, base + K4, base + M2 - K4 };

	vmt_env_init(&e, 16 * MiB, 0);
	for (int i = 0; i < 3; i++)
		small[i] = vmt_map_new(e.space, at[i], 1, PROP_RW, true);
	st0 = vmt_stats(e.pool);
	big = vmt_alloc(e.pool, 2);
	CHECK_EQ(vmt_map(e.space, base, big, PROP_RW), 1);
	CHECK_OK(vmt_query(e.space, base + K4, &m));
	CHECK(m.frame == big);
	CHECK_EQ(m.level, 2);
	CHECK_EQ(m.start, base);
	/* Not released before a grace period. */
	for (int i = 0; i < 3; i++)
		CHECK_EQ(vms_frame_refcount(small[i]), 2);
	CHECK_OK(vms_pool_quiesce(e.pool));
	st1 = vmt_stats(e.pool);
	CHECK_EQ(st1.pt_frames, st0.pt_frames - 1);	/* the level-1 node */
	for (int i = 0; i < 3; i++) {
		CHECK_EQ(vms_frame_refcount(small[i]), 1);
		CHECK_OK(vms_frame_put(small[i]));
	}
	CHECK_CONSERVED(e.pool);
	CHECK_CLEAN(e.space);
	CHECK_EQ(vmt_unmap(e.space, base, M2), 1);
	vmt_env_fini(&e);
}

TEST(map_2m_over_empty_table)
{
	struct vmt_env e;
	struct vms_frame *big;
	struct vms_pool_stats st0, st1;
	int r;

	/* An empty level-1 node left by page-wise unmaps is replaced too. */
	vmt_env_init(&e, 16 * MiB, 0);
	vmt_map_new(e.space, M2 + K4, 1, PROP_RW, false);
	CHECK_EQ(vmt_unmap(e.space, M2 + K4, K4), 1);
	CHECK_OK(vms_pool_quiesce(e.pool));
	st0 = vmt_stats(e.pool);
	big = vmt_alloc(e.pool, 2);
	/* Whether an empty table counts as "replaced" is not specified. */
	r = vmt_map(e.space, M2, big, PROP_RW);
	CHECK(r == 0 || r == 1);
	CHECK_OK(vms_pool_quiesce(e.pool));
	st1 = vmt_stats(e.pool);
	CHECK_EQ(st1.pt_frames, st0.pt_frames - 1);
	CHECK_CLEAN(e.space);
	CHECK_EQ(vmt_unmap(e.space, M2, M2), 1);
	vmt_env_fini(&e);
}

/* ---- unmap --------------------------------------------------------------- */

TEST(unmap_counts_and_va)
{
	struct vmt_env e;
	struct vms_cursor *c;

	vmt_env_init(&e, 8 * MiB, 0);
	for (int i = 0; i < 6; i++)
		vmt_map_new(e.space, 0x10000 + 2 * i * K4, 1, PROP_RW, false);
	CHECK_OK(vms_cursor_mut_new(e.space, 0x10000, 0x20000, &c));
	CHECK_EQ(vms_cursor_unmap(c, 0x3000), 2);	/* pages 0 and 2 */
	CHECK_EQ(vms_cursor_va(c), 0x13000);
	CHECK_EQ(vms_cursor_unmap(c, 0xd000), 4);
	CHECK_EQ(vms_cursor_va(c), 0x20000);
	CHECK_OK(vms_cursor_jump(c, 0x10000));
	CHECK_EQ(vms_cursor_unmap(c, 0x10000), 0);	/* nothing left */
	vms_cursor_drop(c);
	CHECK_CLEAN(e.space);
	vmt_env_fini(&e);
}

TEST(unmap_errors)
{
	struct vmt_env e;
	struct vms_cursor *c;
	struct vms_mapping m;

	vmt_env_init(&e, 4 * MiB, 0);
	vmt_map_new(e.space, 0x2000, 1, PROP_RW, false);
	CHECK_OK(vms_cursor_mut_new(e.space, 0x1000, 0x4000, &c));
	CHECK_EQ(vms_cursor_unmap(c, 0), -EINVAL);
	CHECK_EQ(vms_cursor_unmap(c, 0x1800), -EINVAL);
	CHECK_EQ(vms_cursor_unmap(c, 0x4000), -EINVAL);
	CHECK_EQ(vms_cursor_unmap(c, 0ULL - 0x1000), -EINVAL);	/* va + len wraps */
	CHECK_EQ(vms_cursor_va(c), 0x1000);
	CHECK_OK(vms_cursor_jump(c, 0x2000));
	CHECK_OK(vms_cursor_query(c, &m));
	CHECK(m.frame != NULL);
	vms_cursor_drop(c);
	CHECK_EQ(vmt_unmap(e.space, 0x2000, K4), 1);
	vmt_env_fini(&e);
}

TEST(unmap_overflow_top)
{
	struct vmt_env e;
	struct vms_cursor *c;
	vms_vaddr_t va = VMS_USER_END - 2 * K4;

	vmt_env_init(&e, 4 * MiB, 0);
	vmt_map_new(e.space, VMS_USER_END - K4, 1, PROP_RW, false);
	CHECK_OK(vms_cursor_mut_new(e.space, va, VMS_USER_END, &c));
	CHECK_EQ(vms_cursor_unmap(c, (0 - va) + K4), -EINVAL);
	CHECK_EQ(vms_cursor_unmap(c, 0 - va), -EINVAL);
	CHECK_EQ(vms_cursor_va(c), va);
	CHECK_EQ(vms_cursor_unmap(c, 2 * K4), 1);
	CHECK_EQ(vms_cursor_va(c), VMS_USER_END);
	vms_cursor_drop(c);
	CHECK_CLEAN(e.space);
	vmt_env_fini(&e);
}

TEST(unmap_detaches_2m_table)
{
	struct vmt_env e;
	struct vms_pool_stats st0, st1;
	struct vms_frame *f[10];
	struct vms_mapping m;

	vmt_env_init(&e, 16 * MiB, 0);
	for (int i = 0; i < 10; i++)
		f[i] = vmt_map_new(e.space, 2 * M2 + i * 37 * K4, 1, PROP_RW, true);
	st0 = vmt_stats(e.pool);
	CHECK_EQ(vmt_unmap(e.space, 0, 4 * M2), 10);
	for (int i = 0; i < 10; i++)
		CHECK_EQ(vms_frame_refcount(f[i]), 2);
	CHECK_OK(vms_pool_quiesce(e.pool));
	st1 = vmt_stats(e.pool);
	CHECK_EQ(st1.pt_frames, st0.pt_frames - 1);
	for (int i = 0; i < 10; i++) {
		CHECK_EQ(vms_frame_refcount(f[i]), 1);
		CHECK_OK(vms_frame_put(f[i]));
	}
	CHECK_OK(vmt_query(e.space, 2 * M2, &m));
	CHECK(m.frame == NULL);
	CHECK_CONSERVED(e.pool);
	CHECK_CLEAN(e.space);
	vmt_env_fini(&e);
}

TEST(unmap_detaches_1g_table)
{
	struct vmt_env e;
	struct vms_pool_stats st0, st1;
	struct vms_check_report rep;
	struct vms_cursor *c;
	long n = 0;

	/* 4K pages in three level-1 nodes plus two 2M leaves, all under the
	 * level-2 node of [1G, 2G). */
	vmt_env_init(&e, 32 * MiB, 0);
	for (int t = 0; t < 3; t++)
		for (int i = 0; i < 4; i++, n++)
			vmt_map_new(e.space, G1 + (5 + 7 * t) * M2 + i * K4, 1, PROP_RW, false);
	vmt_map_new(e.space, G1, 2, PROP_RW, false);
	vmt_map_new(e.space, 2 * G1 - M2, 2, PROP_RW, false);
	n += 2;
	memset(&rep, 0, sizeof(rep));
	CHECK_OK(vms_space_check(e.space, &rep));
	CHECK_EQ(rep.leaves, n);
	CHECK_EQ(rep.mapped_bytes, 12 * K4 + 2 * M2);
	st0 = vmt_stats(e.pool);

	CHECK_OK(vms_cursor_mut_new(e.space, 0, 4 * G1, &c));
	CHECK_OK(vms_cursor_jump(c, G1));
	CHECK_EQ(vms_cursor_unmap(c, G1), n);
	CHECK_EQ(vms_cursor_va(c), 2 * G1);
	vms_cursor_drop(c);
	CHECK_OK(vms_pool_quiesce(e.pool));
	st1 = vmt_stats(e.pool);
	CHECK_EQ(st1.pt_frames, st0.pt_frames - 4);
	CHECK_EQ(st1.data_frames, 0);
	CHECK_CONSERVED(e.pool);
	memset(&rep, 0, sizeof(rep));
	CHECK_OK(vms_space_check(e.space, &rep));
	CHECK_EQ(rep.leaves, 0);
	CHECK_EQ(rep.mapped_bytes, 0);
	vmt_env_fini(&e);
}

TEST(unmap_unmapped_range)
{
	struct vmt_env e;

	vmt_env_init(&e, 4 * MiB, 0);
	CHECK_EQ(vmt_unmap(e.space, 0, 4 * G1), 0);
	CHECK_EQ(vmt_unmap(e.space, 0x5000, K4), 0);
	CHECK_CLEAN(e.space);
	vmt_env_fini(&e);
}

/* ---- protect_next -------------------------------------------------------- */

struct protect_arg {
	int calls;
	struct vms_prop seen;
	struct vms_prop set;
	bool touch;
};

static void protect_cb(struct vms_prop *p, void *arg)
{
	struct protect_arg *a = arg;

	a->calls++;
	a->seen = *p;
	if (a->touch)
		*p = a->set;
}

TEST(protect_next_changes_flags_and_cache)
{
	struct vmt_env e;
	struct vms_cursor *c;
	struct vms_mapping m;
	struct protect_arg a = { 0 };
	vms_vaddr_t s, en;

	vmt_env_init(&e, 4 * MiB, 0);
	vmt_map_new(e.space, 0x3000, 1, PROP_RW, false);
	vmt_map_new(e.space, 0x5000, 1, PROP_RW, false);
	CHECK_OK(vms_cursor_mut_new(e.space, 0x1000, 0x8000, &c));
	a.touch = true;
	a.set = PROP_R;
	a.set.cache = VMS_CACHE_UNCACHEABLE;
	a.set.flags |= VMS_PROP_X | VMS_PROP_ACCESSED;
	CHECK_EQ(vms_cursor_protect_next(c, 0x7000, protect_cb, &a, &s, &en), 1);
	CHECK_EQ(a.calls, 1);
	CHECK(vms_prop_equal(a.seen, PROP_RW));
	CHECK_EQ(s, 0x3000);
	CHECK_EQ(en, 0x4000);
	CHECK_EQ(vms_cursor_va(c), 0x4000);
	CHECK_OK(vms_cursor_jump(c, 0x3000));
	CHECK_OK(vms_cursor_query(c, &m));
	CHECK(vms_prop_equal(m.prop, a.set));
	/* The next one is untouched. */
	CHECK_OK(vms_cursor_jump(c, 0x5000));
	CHECK_OK(vms_cursor_query(c, &m));
	CHECK(vms_prop_equal(m.prop, PROP_RW));
	vms_cursor_drop(c);
	CHECK_CLEAN(e.space);
	CHECK_EQ(vmt_unmap(e.space, 0, 4 * MiB), 2);
	vmt_env_fini(&e);
}

TEST(protect_next_unchanged_still_returns_range)
{
	struct vmt_env e;
	struct vms_cursor *c;
	struct protect_arg a = { 0 };
	vms_vaddr_t s, en;

	vmt_env_init(&e, 4 * MiB, 0);
	vmt_map_new(e.space, 0x3000, 1, PROP_RW, false);
	vmt_map_new(e.space, 0x6000, 1, PROP_R, false);
	CHECK_OK(vms_cursor_mut_new(e.space, 0x1000, 0x8000, &c));
	CHECK_EQ(vms_cursor_protect_next(c, 0x7000, protect_cb, &a, &s, &en), 1);
	CHECK_EQ(s, 0x3000);
	CHECK_EQ(en, 0x4000);
	CHECK_EQ(vms_cursor_protect_next(c, 0x4000, protect_cb, &a, &s, &en), 1);
	CHECK_EQ(s, 0x6000);
	CHECK_EQ(en, 0x7000);
	CHECK(vms_prop_equal(a.seen, PROP_R));
	CHECK_EQ(a.calls, 2);
	/* Nothing more: 0, va = va + len, callback not called. */
	CHECK_EQ(vms_cursor_protect_next(c, 0x1000, protect_cb, &a, &s, &en), 0);
	CHECK_EQ(vms_cursor_va(c), 0x8000);
	CHECK_EQ(a.calls, 2);
	vms_cursor_drop(c);
	CHECK_EQ(vmt_unmap(e.space, 0, 4 * MiB), 2);
	vmt_env_fini(&e);
}

TEST(protect_next_priv_ignored)
{
	struct vmt_env e;
	struct vms_cursor *c;
	struct vms_mapping m;
	struct protect_arg a = { 0 };
	vms_vaddr_t s, en;

	vmt_env_init(&e, 4 * MiB, 0);
	vmt_map_new(e.space, 0x3000, 1, PROP_RW, false);
	CHECK_OK(vms_cursor_mut_new(e.space, 0x3000, 0x4000, &c));
	a.touch = true;
	a.set = PROP_R;
	a.set.priv = VMS_PRIV_GLOBAL;	/* drops USER, adds GLOBAL */
	CHECK_EQ(vms_cursor_protect_next(c, K4, protect_cb, &a, &s, &en), 1);
	CHECK_OK(vms_cursor_jump(c, 0x3000));
	CHECK_OK(vms_cursor_query(c, &m));
	CHECK_EQ(m.prop.flags, VMS_PROP_R);
	CHECK_EQ(m.prop.priv, VMS_PRIV_USER);
	vms_cursor_drop(c);
	CHECK_EQ(vmt_unmap(e.space, 0x3000, K4), 1);
	vmt_env_fini(&e);
}

TEST(protect_next_invalid_result)
{
	struct vmt_env e;
	struct vms_cursor *c;
	struct vms_mapping m;
	struct protect_arg a = { 0 };
	vms_vaddr_t s = 0x77, en = 0x77;
	uint64_t before;
	_Atomic uint64_t *pte;

	vmt_env_init(&e, 4 * MiB, 0);
	vmt_map_new(e.space, 0x3000, 1, PROP_RW, false);
	pte = vms__debug_pte(e.space, 0x3000, 1);
	CHECK(pte != NULL);
	before = *pte;
	CHECK_OK(vms_cursor_mut_new(e.space, 0x1000, 0x5000, &c));
	a.touch = true;
	a.set = PROP_RW;
	a.set.cache = VMS_CACHE_WRITEPROTECTED;
	CHECK_EQ(vms_cursor_protect_next(c, 0x4000, protect_cb, &a, &s, &en), -EINVAL);
	CHECK_EQ(*pte, before);
	CHECK_EQ(vms_cursor_va(c), 0x1000);
	a.set = PROP_RW;
	a.set.flags = 0x40;
	CHECK_EQ(vms_cursor_protect_next(c, 0x4000, protect_cb, &a, &s, &en), -EINVAL);
	CHECK_EQ(*pte, before);
	CHECK_OK(vms_cursor_jump(c, 0x3000));
	CHECK_OK(vms_cursor_query(c, &m));
	CHECK(vms_prop_equal(m.prop, PROP_RW));
	/* len errors, as for find_next. */
	CHECK_EQ(vms_cursor_protect_next(c, 0, protect_cb, &a, &s, &en), -EINVAL);
	CHECK_EQ(vms_cursor_protect_next(c, 0x800, protect_cb, &a, &s, &en), -EINVAL);
	CHECK_EQ(vms_cursor_protect_next(c, 0x3000, protect_cb, &a, &s, &en), -EINVAL);
	CHECK_EQ(vms_cursor_protect_next(c, 0ULL - 0x3000, protect_cb, &a, &s, &en), -EINVAL);
	CHECK_EQ(vms_cursor_va(c), 0x3000);
	vms_cursor_drop(c);
	CHECK_CLEAN(e.space);
	CHECK_EQ(vmt_unmap(e.space, 0x3000, K4), 1);
	vmt_env_fini(&e);
}

/* ---- grace periods ---------------------------------------------------------- */

TEST(grace_unmapped_frame_not_reused_before_quiesce)
{
	struct vmt_env e;
	static struct vms_frame *all[1024];
	struct vms_pool_stats st;
	struct vms_frame *f;
	vms_paddr_t pa;
	unsigned n, i;
	bool seen;

	vmt_env_init(&e, 4 * MiB, 0);
	f = vmt_map_new(e.space, 0x5000, 1, PROP_RW, false);
	pa = vms_frame_paddr(f);
	CHECK_EQ(vmt_unmap(e.space, 0x5000, K4), 1);
	/* The PTE's reference became a deferred one. */
	CHECK_EQ(vms_frame_refcount(f), 1);
	CHECK_EQ(vms_frame_handles(f), 0);
	CHECK(vms_frame_from_paddr(e.pool, pa) == f);
	st = vmt_stats(e.pool);
	CHECK(st.deferred >= 1);
	CHECK_CONSERVED(e.pool);

	/* Every free frame can be handed out, but not that one. */
	n = (unsigned)st.free_frames;
	CHECK(n < 1024);
	for (i = 0; i < n; i++) {
		CHECK_OK(vms_frame_alloc(e.pool, 1, &all[i]));
		CHECK(vms_frame_paddr(all[i]) != pa);
	}
	CHECK_EQ(vms_frame_refcount(f), 1);
	for (i = 0; i < n; i++)
		CHECK_OK(vms_frame_put(all[i]));

	CHECK_OK(vms_pool_quiesce(e.pool));
	CHECK_EQ(vms_frame_refcount(f), 0);
	CHECK(vms_frame_from_paddr(e.pool, pa) == NULL);
	st = vmt_stats(e.pool);
	CHECK_EQ(st.deferred, 0);
	CHECK_EQ(st.free_frames, n + 1);
	/* Now it is allocatable again. */
	seen = false;
	for (i = 0; i < n + 1; i++) {
		CHECK_OK(vms_frame_alloc(e.pool, 1, &all[i]));
		seen |= vms_frame_paddr(all[i]) == pa;
	}
	CHECK(seen);
	for (i = 0; i < n + 1; i++)
		CHECK_OK(vms_frame_put(all[i]));
	vmt_env_fini(&e);
}

TEST(grace_detached_table_freed_after_quiesce)
{
	struct vmt_env e;
	struct vms_pool_stats st0, st1;
	struct vms_frame *f;

	vmt_env_init(&e, 8 * MiB, 0);
	f = vmt_map_new(e.space, M2 + 3 * K4, 1, PROP_RW, false);
	vmt_map_new(e.space, M2 + 7 * K4, 1, PROP_RW, false);
	st0 = vmt_stats(e.pool);
	CHECK_EQ(vmt_unmap(e.space, 0, 4 * M2), 2);
	st1 = vmt_stats(e.pool);
	/* The node and its frames wait for a grace period. */
	CHECK_EQ(st1.pt_frames, st0.pt_frames);
	CHECK_EQ(st1.data_frames, 2);
	CHECK_EQ(vms_frame_refcount(f), 1);
	CHECK_OK(vms_pool_quiesce(e.pool));
	st1 = vmt_stats(e.pool);
	CHECK_EQ(st1.pt_frames, st0.pt_frames - 1);
	CHECK_EQ(st1.data_frames, 0);
	CHECK_EQ(vms_frame_refcount(f), 0);
	CHECK_CLEAN(e.space);
	vmt_env_fini(&e);
}

/* ---- -ENOMEM leaves the tree as it was -------------------------------------- */

struct hog {
	struct vms_frame *f[4096];
	unsigned n;
};

/* Take every free 4K frame of the pool. */
static void hog_all(struct vms_pool *p, struct hog *h)
{
	h->n = 0;
	while (h->n < 4096 && vms_frame_alloc(p, 1, &h->f[h->n]) == 0)
		h->n++;
	CHECK(h->n < 4096);
	CHECK_EQ(vmt_stats(p).free_frames, 0);
}

static void hog_release(struct hog *h, unsigned keep)
{
	while (h->n > keep)
		CHECK_OK(vms_frame_put(h->f[--h->n]));
}

TEST(enomem_cursor_new)
{
	struct vmt_env e;
	static struct hog h;
	struct vms_cursor *c = NULL;

	vmt_env_init(&e, 4 * MiB, 0);
	hog_all(e.pool, &h);
	CHECK_EQ(vms_cursor_new(e.space, 5 * G1, 5 * G1 + K4, &c), -ENOMEM);
	CHECK_EQ(vms_cursor_mut_new(e.space, 5 * G1, 5 * G1 + K4, &c), -ENOMEM);
	CHECK(c == NULL);
	/* Nothing left locked or half-built. */
	CHECK_CLEAN(e.space);
	hog_release(&h, 0);
	CHECK_OK(vms_cursor_mut_new(e.space, 5 * G1, 5 * G1 + K4, &c));
	vms_cursor_drop(c);
	CHECK_CLEAN(e.space);
	vmt_env_fini(&e);
}

TEST(enomem_map_needs_nodes)
{
	struct vmt_env e;
	static struct hog h;
	struct vms_cursor *c;
	struct vms_frame *f;
	struct vms_mapping m;

	vmt_env_init(&e, 4 * MiB, 0);
	CHECK_OK(vms_cursor_mut_new(e.space, 0, 4 * G1, &c));	/* guard: level 3 */
	f = vmt_alloc(e.pool, 1);
	hog_all(e.pool, &h);
	CHECK_OK(vms_cursor_jump(c, G1 + 0x5000));
	CHECK_EQ(vms_cursor_map(c, f, PROP_RW), -ENOMEM);
	CHECK_EQ(vms_cursor_va(c), G1 + 0x5000);
	CHECK_EQ(vms_frame_handles(f), 1);
	CHECK_EQ(vms_frame_refcount(f), 1);
	CHECK_OK(vms_cursor_query(c, &m));
	CHECK(m.frame == NULL);
	/* With exactly enough (two nodes) it works. */
	hog_release(&h, h.n - 2);
	CHECK_EQ(vms_cursor_map(c, f, PROP_RW), 0);
	vms_cursor_drop(c);
	CHECK_CLEAN(e.space);
	hog_release(&h, 0);
	CHECK_EQ(vmt_unmap(e.space, G1, G1), 1);
	vmt_env_fini(&e);
}

TEST(enomem_split_leaves_2m_intact)
{
	struct vmt_env e;
	static struct hog h;
	struct vms_cursor *c;
	struct vms_frame *big, *f, *small[3];
	struct vms_mapping m;
	vms_vaddr_t s, en;
	struct protect_arg a = { 0 };

	vmt_env_init(&e, 8 * MiB, 0);
	big = vmt_map_new(e.space, 2 * M2, 2, PROP_RW, false);
	/* 4K pages in the 2M slot just below it. */
	for (int i = 0; i < 3; i++)
		small[i] = vmt_map_new(e.space, M2 + i * K4, 1, PROP_RW, false);
	f = vmt_alloc(e.pool, 1);
	CHECK_OK(vms_cursor_mut_new(e.space, 0, 4 * M2, &c));
	hog_all(e.pool, &h);

	/* map 4K into the 2M leaf needs a node for the split. */
	CHECK_OK(vms_cursor_jump(c, 2 * M2 + 3 * K4));
	CHECK_EQ(vms_cursor_map(c, f, PROP_RW), -ENOMEM);
	CHECK_EQ(vms_frame_handles(f), 1);
	/* unmap that removes the 4K pages and then needs to split the 2M leaf:
	 * nothing may be removed. */
	CHECK_OK(vms_cursor_jump(c, M2));
	CHECK_EQ(vms_cursor_unmap(c, M2 + K4), -ENOMEM);
	CHECK_EQ(vms_cursor_va(c), M2);
	/* protect_next on part of the 2M leaf. */
	a.touch = true;
	a.set = PROP_R;
	CHECK_OK(vms_cursor_jump(c, 2 * M2 + K4));
	CHECK_EQ(vms_cursor_protect_next(c, K4, protect_cb, &a, &s, &en), -ENOMEM);
	CHECK_EQ(a.calls, 0);

	for (int i = 0; i < 3; i++) {
		CHECK_OK(vms_cursor_jump(c, M2 + i * K4));
		CHECK_OK(vms_cursor_query(c, &m));
		CHECK(m.frame == small[i]);
	}
	CHECK_OK(vms_cursor_jump(c, 2 * M2 + 3 * K4));
	CHECK_OK(vms_cursor_query(c, &m));
	CHECK(m.frame == big);
	CHECK_EQ(m.level, 2);
	CHECK(vms_prop_equal(m.prop, PROP_RW));
	CHECK_EQ(vms_frame_refcount(big), 1);
	vms_cursor_drop(c);
	CHECK_CLEAN(e.space);
	hog_release(&h, 0);
	CHECK_OK(vms_frame_put(f));
	CHECK_EQ(vmt_unmap(e.space, 0, 4 * M2), 4);
	vmt_env_fini(&e);
}

/* ---- more huge-page shapes -------------------------------------------------- */

TEST(unmap_straddles_two_2m_leaves)
{
	struct vmt_env e;
	struct vms_frame *a, *b;
	struct vms_mapping m;

	vmt_env_init(&e, 16 * MiB, 0);
	a = vmt_map_new(e.space, M2, 2, PROP_RW, false);
	b = vmt_map_new(e.space, 2 * M2, 2, PROP_RW, false);
	/* [2M+4K, 4M+4K): 511 pieces of a, 1 of b. */
	CHECK_EQ(vmt_unmap(e.space, M2 + K4, M2), 512);
	CHECK_OK(vms_pool_quiesce(e.pool));
	CHECK_EQ(vms_frame_refcount(a), 1);
	CHECK_EQ(vms_frame_refcount(b), 511);
	CHECK_OK(vmt_query(e.space, M2, &m));
	CHECK(m.frame == a);
	CHECK_EQ(m.level, 1);
	CHECK_OK(vmt_query(e.space, 2 * M2 + K4, &m));
	CHECK(m.frame == b);
	CHECK_EQ(m.paddr, vms_frame_paddr(b) + K4);
	CHECK_OK(vmt_query(e.space, 2 * M2, &m));
	CHECK(m.frame == NULL);
	CHECK_CLEAN(e.space);
	CHECK_EQ(vmt_unmap(e.space, 0, 8 * M2), 512);
	vmt_env_fini(&e);
}

TEST(protect_2m_sticking_out_of_range)
{
	struct vmt_env e;
	struct vms_frame *big;
	struct vms_cursor *c;
	struct vms_mapping m;
	vms_vaddr_t s, en;
	int n = 0;

	vmt_env_init(&e, 16 * MiB, 0);
	big = vmt_map_new(e.space, 2 * M2, 2, PROP_RW, false);
	/* The range ends in the middle of the leaf: only [4M, 5M) changes. */
	CHECK_OK(vms_cursor_mut_new(e.space, 0, 2 * M2 + MiB, &c));
	while (vms_cursor_va(c) < 2 * M2 + MiB &&
	       vms_cursor_protect_next(c, 2 * M2 + MiB - vms_cursor_va(c),
				       set_r_only, NULL, &s, &en) == 1) {
		CHECK_EQ(en - s, K4);
		CHECK(s >= 2 * M2 && en <= 2 * M2 + MiB);
		n++;
	}
	CHECK_EQ(n, 256);
	vms_cursor_drop(c);
	CHECK_OK(vmt_query(e.space, 2 * M2 + MiB - K4, &m));
	CHECK(vms_prop_equal(m.prop, PROP_R));
	CHECK_OK(vmt_query(e.space, 2 * M2 + MiB, &m));
	CHECK(vms_prop_equal(m.prop, PROP_RW));
	CHECK(m.frame == big);
	CHECK_EQ(vms_frame_refcount(big), 512);
	CHECK_CLEAN(e.space);
	CHECK_EQ(vmt_unmap(e.space, 0, 8 * M2), 512);
	vmt_env_fini(&e);
}

TEST(map_2m_replaces_2m)
{
	struct vmt_env e;
	struct vms_frame *a, *b;
	struct vms_mapping m;

	vmt_env_init(&e, 16 * MiB, 0);
	a = vmt_map_new(e.space, M2, 2, PROP_RW, true);
	b = vmt_alloc(e.pool, 2);
	CHECK_EQ(vmt_map(e.space, M2, b, PROP_R), 1);
	CHECK_OK(vms_pool_quiesce(e.pool));
	CHECK_EQ(vms_frame_refcount(a), 1);
	CHECK_OK(vms_frame_put(a));
	CHECK_OK(vmt_query(e.space, M2 + 9 * K4, &m));
	CHECK(m.frame == b);
	CHECK_EQ(m.level, 2);
	/* Remapping a frame over itself keeps the counts straight. */
	CHECK_OK(vms_frame_get(b));
	CHECK_EQ(vmt_map(e.space, M2, b, PROP_RW), 1);
	CHECK_OK(vms_pool_quiesce(e.pool));
	CHECK_EQ(vms_frame_refcount(b), 1);
	CHECK_EQ(vms_frame_handles(b), 0);
	CHECK_CLEAN(e.space);
	/* ... also over its own split pieces (a table of 511 of them). */
	CHECK_EQ(vmt_unmap(e.space, M2 + 7 * K4, K4), 1);
	CHECK_OK(vms_frame_get(b));
	CHECK_EQ(vmt_map(e.space, M2, b, PROP_R), 1);
	CHECK_EQ(vms_frame_refcount(b), 1 + 512);	/* new leaf + deferred */
	CHECK_OK(vms_pool_quiesce(e.pool));
	CHECK_EQ(vms_frame_refcount(b), 1);
	CHECK_OK(vmt_query(e.space, M2 + 7 * K4, &m));
	CHECK(m.frame == b);
	CHECK_EQ(m.level, 2);
	CHECK_CLEAN(e.space);
	CHECK_EQ(vmt_unmap(e.space, M2, M2), 1);
	vmt_env_fini(&e);
}

TEST(frame_from_paddr_ignores_nodes)
{
	struct vmt_env e;
	_Atomic uint64_t *pte;

	vmt_env_init(&e, 4 * MiB, 0);
	vmt_map_new(e.space, 0x3000, 1, PROP_RW, false);
	pte = vms__debug_pte(e.space, 0x3000, 2);	/* points at the level-1 node */
	CHECK(pte != NULL && *pte != 0);
	CHECK(vms_frame_from_paddr(e.pool, *pte & 0x000ffffffffff000ULL) == NULL);
	CHECK(vms__debug_pte(e.space, 7 * G1, 1) == NULL);
	CHECK_EQ(vmt_unmap(e.space, 0x3000, K4), 1);
	vmt_env_fini(&e);
}

/* ---- differential test against the shadow (test.h) ---------------------- */

TEST(model_random_sessions)
{
	/* 8M around the 1G boundary (four 2M slots, two level-2 nodes), at
	 * the bottom of the space, and at the very top of user space. */
	const vms_vaddr_t bases[] = { G1 - 4 * MiB, 0, VMS_USER_END - 8 * MiB };

	for (unsigned r = 0; r < 3; r++) {
		struct vmt_env e;
		struct vmt_shadow m;

		vmt_env_init(&e, 256 * MiB, 0);
		vmt_shadow_init(&m, e.space, bases[r], 8 * MiB, 12345u + 1000u * r);
		for (int i = 0; i < 1500; i++) {
			vmt_shadow_session(&m, NULL);
			if (i % 100 == 99) {
				vmt_shadow_compare(&m);
				CHECK_CLEAN(e.space);
			}
		}
		CHECK(atomic_load(&m.ops) > 3000);
		vmt_shadow_compare(&m);
		CHECK_CLEAN(e.space);
		vmt_shadow_fini(&m);
		vmt_env_fini(&e);
	}
}

TEST(protect_next_invalid_result_on_2m_part)
{
	struct vmt_env e;
	struct vms_cursor *c;
	struct vms_mapping m;
	struct vms_frame *big;
	struct protect_arg a = { 0 };
	vms_vaddr_t s = 0x77, en = 0x77;

	/* A split may happen before the callback runs; the mapping (frame,
	 * property) must still be exactly as before, va unmoved. */
	vmt_env_init(&e, 8 * MiB, 0);
	big = vmt_map_new(e.space, M2, 2, PROP_RW, false);
	CHECK_OK(vms_cursor_mut_new(e.space, M2, 2 * M2, &c));
	CHECK_OK(vms_cursor_jump(c, M2 + 8 * K4));
	a.touch = true;
	a.set = PROP_RW;
	a.set.cache = VMS_CACHE_WRITEPROTECTED;
	CHECK_EQ(vms_cursor_protect_next(c, K4, protect_cb, &a, &s, &en), -EINVAL);
	CHECK_EQ(vms_cursor_va(c), M2 + 8 * K4);
	CHECK_EQ(s, 0x77);
	CHECK_EQ(en, 0x77);
	for (vms_vaddr_t va = M2; va < 2 * M2; va += 64 * K4) {
		CHECK_OK(vms_cursor_jump(c, va + 8 * K4));
		CHECK_OK(vms_cursor_query(c, &m));
		CHECK(m.frame == big);
		CHECK(vms_prop_equal(m.prop, PROP_RW));
		CHECK_EQ(m.paddr + (va + 8 * K4 - m.start), vms_frame_paddr(big) + (va + 8 * K4 - M2));
	}
	vms_cursor_drop(c);
	CHECK_CLEAN(e.space);
	CHECK(vmt_unmap(e.space, M2, M2) >= 1);
	vmt_env_fini(&e);
}

TEST(map_frame_from_other_pool_einval)
{
	struct vmt_env e;
	struct vms_pool *other = vmt_pool(4 * MiB);
	struct vms_frame *f = vmt_alloc(other, 1);

	vmt_env_init(&e, 4 * MiB, 0);
	CHECK_EQ(vmt_map(e.space, 0x1000, f, PROP_RW), -EINVAL);
	CHECK_EQ(vms_frame_handles(f), 1);
	CHECK_EQ(vms_frame_refcount(f), 1);
	CHECK_CLEAN(e.space);
	CHECK_OK(vms_frame_put(f));
	CHECK_OK(vms_pool_destroy(other));
	vmt_env_fini(&e);
}

TEST(enomem_space_new)
{
	struct vms_pool *p = vmt_pool(4 * MiB);
	static struct hog h;
	struct vms_space *s = NULL;

	hog_all(p, &h);
	CHECK_EQ(vms_space_new(p, 0, &s), -ENOMEM);
	CHECK(s == NULL);
	CHECK_EQ(vmt_stats(p).spaces, 0);
	CHECK_EQ(vmt_stats(p).pt_frames, 0);
	hog_release(&h, 0);
	CHECK_OK(vms_space_new(p, 0, &s));
	CHECK_OK(vms_space_destroy(s));
	CHECK_OK(vms_pool_destroy(p));
}
