/* SPDX-License-Identifier: MIT */
/* test_cursor.c - cursor creation, query, find_next and jump. */
#include "test.h"

TEST(cursor_new_errors)
{
	struct vmt_env e;
	struct vms_cursor *c = NULL;

	vmt_env_init(&e, 4 * MiB, 0);
	for (int mut = 0; mut < 2; mut++) {
		int (*mk)(struct vms_space *, vms_vaddr_t, vms_vaddr_t, struct vms_cursor **) =
			mut ? vms_cursor_mut_new : vms_cursor_new;

		CHECK_EQ(mk(e.space, 0x1001, 0x3000, &c), -EINVAL);	/* unaligned start */
		CHECK_EQ(mk(e.space, 0x1000, 0x2fff, &c), -EINVAL);	/* unaligned end */
		CHECK_EQ(mk(e.space, 0x1000, 0x1000, &c), -EINVAL);	/* empty */
		CHECK_EQ(mk(e.space, 0x3000, 0x1000, &c), -EINVAL);	/* reversed */
		CHECK_EQ(mk(e.space, 0, VMS_USER_END + K4, &c), -EINVAL);
		CHECK_EQ(mk(e.space, VMS_USER_END, VMS_USER_END + K4, &c), -EINVAL);
		CHECK_EQ(mk(e.space, 0, (vms_vaddr_t)0 - K4, &c), -EINVAL);
		CHECK_EQ(mk(e.space, (vms_vaddr_t)0 - K4, 0, &c), -EINVAL);
		CHECK_EQ(mk(NULL, 0, K4, &c), -EINVAL);
		CHECK_EQ(mk(e.space, 0, K4, NULL), -EINVAL);
		CHECK(c == NULL);
	}
	/* Nothing was left locked: a cursor over everything opens. */
	CHECK_OK(vms_cursor_mut_new(e.space, 0, VMS_USER_END, &c));
	vms_cursor_drop(c);
	vms_cursor_drop(NULL);
	CHECK_CLEAN(e.space);
	vmt_env_fini(&e);
}

TEST(cursor_range_ends_at_user_end)
{
	struct vmt_env e;
	struct vms_cursor *c = NULL;
	struct vms_frame *f;
	struct vms_mapping m;

	vmt_env_init(&e, 8 * MiB, 0);
	CHECK_OK(vms_cursor_new(e.space, VMS_USER_END - K4, VMS_USER_END, &c));
	CHECK_EQ(vms_cursor_va(c), VMS_USER_END - K4);
	vms_cursor_drop(c);

	/* The top page can be mapped by a cursor (not by accessors). */
	f = vmt_alloc(e.pool, 1);
	CHECK_OK(vms_cursor_mut_new(e.space, VMS_USER_END - 2 * M2, VMS_USER_END, &c));
	CHECK_OK(vms_cursor_jump(c, VMS_USER_END - K4));
	CHECK_EQ(vms_cursor_map(c, f, PROP_RW), 0);
	CHECK_EQ(vms_cursor_va(c), VMS_USER_END);
	CHECK_EQ(vms_cursor_query(c, &m), -EINVAL);
	CHECK_OK(vms_cursor_jump(c, VMS_USER_END - K4));
	CHECK_OK(vms_cursor_query(c, &m));
	CHECK(m.frame == f);
	CHECK_EQ(m.start, VMS_USER_END - K4);
	CHECK_EQ(m.end, VMS_USER_END);
	vms_cursor_drop(c);
	CHECK_CLEAN(e.space);
	CHECK_EQ(vmt_unmap(e.space, VMS_USER_END - K4, K4), 1);
	vmt_env_fini(&e);
}

TEST(cursor_query_absent)
{
	struct vmt_env e;
	struct vms_cursor *c;
	struct vms_mapping m;

	vmt_env_init(&e, 4 * MiB, 0);
	vmt_map_new(e.space, 0x200000, 1, PROP_RW, false);
	CHECK_OK(vms_cursor_new(e.space, 0x5000, 0x9000, &c));
	memset(&m, 0x5a, sizeof(m));
	CHECK_OK(vms_cursor_query(c, &m));
	CHECK(m.frame == NULL);
	CHECK(m.start <= 0x5000 && 0x5000 < m.end);
	CHECK_EQ(m.paddr, 0);
	CHECK_EQ(m.prop.flags, 0);
	CHECK_EQ(m.prop.cache, 0);
	CHECK_EQ(m.prop.priv, 0);
	CHECK(m.level >= 1 && m.level <= VMS_NR_LEVELS);
	CHECK_EQ(m.end - m.start, vms_page_size(m.level));
	/* query does not move va */
	CHECK_EQ(vms_cursor_va(c), 0x5000);
	vms_cursor_drop(c);

	/* Next to a mapped page, inside the same level-1 node: a 4K slot. */
	CHECK_OK(vmt_query(e.space, 0x201000, &m));
	CHECK(m.frame == NULL);
	CHECK_EQ(m.start, 0x201000);
	CHECK_EQ(m.end, 0x202000);
	CHECK_EQ(m.level, 1);
	vmt_unmap(e.space, 0x200000, K4);
	vmt_env_fini(&e);
}

TEST(cursor_query_mapped_4k)
{
	struct vmt_env e;
	struct vms_mapping m;
	struct vms_frame *f;
	struct vms_prop p = { VMS_PROP_R | VMS_PROP_X | VMS_PROP_DIRTY,
			      VMS_CACHE_WRITETHROUGH, VMS_PRIV_USER | VMS_PRIV_GLOBAL };

	vmt_env_init(&e, 4 * MiB, 0);
	f = vmt_map_new(e.space, 0x7000, 1, p, false);
	CHECK_OK(vmt_query(e.space, 0x7000, &m));
	CHECK(m.frame == f);
	CHECK_EQ(m.start, 0x7000);
	CHECK_EQ(m.end, 0x8000);
	CHECK_EQ(m.paddr, vms_frame_paddr(f));
	CHECK_EQ(m.level, 1);
	CHECK(vms_prop_equal(m.prop, p));
	/* Query borrows: no reference taken. */
	CHECK_EQ(vms_frame_refcount(f), 1);
	CHECK_EQ(vmt_unmap(e.space, 0x7000, K4), 1);
	vmt_env_fini(&e);
}

TEST(cursor_query_mapped_2m)
{
	struct vmt_env e;
	struct vms_cursor *c;
	struct vms_mapping m;
	struct vms_frame *f;

	vmt_env_init(&e, 8 * MiB, 0);
	f = vmt_map_new(e.space, 2 * M2, 2, PROP_RW, false);
	/* From the middle of the huge page: the whole leaf. */
	CHECK_OK(vmt_query(e.space, 2 * M2 + 0x13000, &m));
	CHECK(m.frame == f);
	CHECK_EQ(m.start, 2 * M2);
	CHECK_EQ(m.end, 3 * M2);
	CHECK_EQ(m.paddr, vms_frame_paddr(f));
	CHECK_EQ(m.level, 2);
	CHECK(vms_prop_equal(m.prop, PROP_RW));

	/* Jump into the middle of it in a wider cursor. */
	CHECK_OK(vms_cursor_new(e.space, 0, 8 * MiB, &c));
	CHECK_OK(vms_cursor_query(c, &m));
	CHECK(m.frame == NULL);
	CHECK_OK(vms_cursor_jump(c, 2 * M2 + 511 * K4));
	CHECK_OK(vms_cursor_query(c, &m));
	CHECK(m.frame == f);
	CHECK_EQ(m.start, 2 * M2);
	CHECK_EQ(m.end, 3 * M2);
	CHECK_EQ(vms_cursor_va(c), 2 * M2 + 511 * K4);
	vms_cursor_drop(c);
	CHECK_CLEAN(e.space);
	CHECK_EQ(vmt_unmap(e.space, 2 * M2, M2), 1);
	vmt_env_fini(&e);
}

TEST(cursor_query_at_end_einval)
{
	struct vmt_env e;
	struct vms_cursor *c;
	struct vms_mapping m;

	vmt_env_init(&e, 4 * MiB, 0);
	CHECK_OK(vms_cursor_new(e.space, 0x1000, 0x3000, &c));
	vms_vaddr_t found;

	CHECK_EQ(vms_cursor_find_next(c, 0x2000, &found), 0);
	CHECK_EQ(vms_cursor_va(c), 0x3000);
	CHECK_EQ(vms_cursor_query(c, &m), -EINVAL);
	vms_cursor_drop(c);
	vmt_env_fini(&e);
}

TEST(cursor_find_next)
{
	struct vmt_env e;
	struct vms_cursor *c;
	vms_vaddr_t found = 0;

	vmt_env_init(&e, 8 * MiB, 0);
	vmt_map_new(e.space, 0x5000, 1, PROP_RW, false);
	vmt_map_new(e.space, 2 * M2, 2, PROP_R, false);

	CHECK_OK(vms_cursor_new(e.space, 0, 8 * MiB, &c));
	CHECK_EQ(vms_cursor_find_next(c, 8 * MiB, &found), 1);
	CHECK_EQ(found, 0x5000);
	CHECK_EQ(vms_cursor_va(c), 0x5000);
	/* Already on a mapped page: stays. */
	CHECK_EQ(vms_cursor_find_next(c, K4, &found), 1);
	CHECK_EQ(found, 0x5000);
	CHECK_OK(vms_cursor_jump(c, 0x6000));
	/* Nothing in [0x6000, 0x6000 + 1M): va = va + len. */
	CHECK_EQ(vms_cursor_find_next(c, MiB, &found), 0);
	CHECK_EQ(vms_cursor_va(c), 0x6000 + MiB);
	CHECK_EQ(vms_cursor_find_next(c, 8 * MiB - 0x6000 - MiB, &found), 1);
	CHECK_EQ(found, 2 * M2);
	/* Inside a 2M leaf: the current va, not the leaf start. */
	CHECK_OK(vms_cursor_jump(c, 2 * M2 + 0x33000));
	CHECK_EQ(vms_cursor_find_next(c, K4, &found), 1);
	CHECK_EQ(found, 2 * M2 + 0x33000);
	CHECK_EQ(vms_cursor_va(c), 2 * M2 + 0x33000);
	/* Past everything. */
	CHECK_OK(vms_cursor_jump(c, 3 * M2));
	CHECK_EQ(vms_cursor_find_next(c, M2, &found), 0);
	CHECK_EQ(vms_cursor_va(c), 8 * MiB);
	vms_cursor_drop(c);

	CHECK_EQ(vmt_unmap(e.space, 0, 8 * MiB), 2);
	vmt_env_fini(&e);
}

TEST(cursor_find_next_len_errors)
{
	struct vmt_env e;
	struct vms_cursor *c;
	vms_vaddr_t found = 0x77;

	vmt_env_init(&e, 4 * MiB, 0);
	vmt_map_new(e.space, 0x3000, 1, PROP_RW, false);
	CHECK_OK(vms_cursor_new(e.space, 0x1000, 0x5000, &c));
	CHECK_EQ(vms_cursor_find_next(c, 0, &found), -EINVAL);
	CHECK_EQ(vms_cursor_find_next(c, 0x800, &found), -EINVAL);
	CHECK_EQ(vms_cursor_find_next(c, 0x5000, &found), -EINVAL);
	CHECK_EQ(vms_cursor_find_next(c, ~0xfffULL, &found), -EINVAL);
	/* An aligned len for which va + len wraps around to 0. */
	CHECK_EQ(vms_cursor_find_next(c, 0 - 0x1000ULL, &found), -EINVAL);
	CHECK_EQ(found, 0x77);
	CHECK_EQ(vms_cursor_va(c), 0x1000);
	/* Exactly the rest of the range is fine. */
	CHECK_EQ(vms_cursor_find_next(c, 0x4000, &found), 1);
	CHECK_EQ(found, 0x3000);
	vms_cursor_drop(c);
	CHECK_EQ(vmt_unmap(e.space, 0x3000, K4), 1);
	vmt_env_fini(&e);
}

TEST(cursor_find_next_overflow_top)
{
	struct vmt_env e;
	struct vms_cursor *c;
	vms_vaddr_t found = 0;
	vms_vaddr_t va = VMS_USER_END - 2 * K4;

	vmt_env_init(&e, 4 * MiB, 0);
	CHECK_OK(vms_cursor_new(e.space, va, VMS_USER_END, &c));
	/* va + len wraps to 4K: a naive "va + len > end" check passes. */
	CHECK_EQ(vms_cursor_find_next(c, (0 - va) + K4, &found), -EINVAL);
	CHECK_EQ(vms_cursor_find_next(c, 0 - va, &found), -EINVAL);
	CHECK_EQ(vms_cursor_va(c), va);
	CHECK_EQ(vms_cursor_find_next(c, 2 * K4, &found), 0);
	CHECK_EQ(vms_cursor_va(c), VMS_USER_END);
	vms_cursor_drop(c);
	CHECK_CLEAN(e.space);
	vmt_env_fini(&e);
}

TEST(cursor_jump)
{
	struct vmt_env e;
	struct vms_cursor *c;
	struct vms_mapping m;
	struct vms_frame *f;

	vmt_env_init(&e, 4 * MiB, 0);
	f = vmt_map_new(e.space, 0x3000, 1, PROP_RW, false);
	CHECK_OK(vms_cursor_new(e.space, 0x1000, 0x401000, &c));
	CHECK_OK(vms_cursor_jump(c, 0x400000));
	CHECK_EQ(vms_cursor_va(c), 0x400000);
	CHECK_OK(vms_cursor_jump(c, 0x3000));	/* backwards */
	CHECK_EQ(vms_cursor_va(c), 0x3000);
	CHECK_OK(vms_cursor_query(c, &m));
	CHECK(m.frame == f);
	CHECK_OK(vms_cursor_jump(c, 0x1000));
	CHECK_EQ(vms_cursor_jump(c, 0x0), -EINVAL);		/* before start */
	CHECK_EQ(vms_cursor_jump(c, 0x401000), -EINVAL);	/* end itself */
	CHECK_EQ(vms_cursor_jump(c, 0x800000), -EINVAL);
	CHECK_EQ(vms_cursor_jump(c, 0x2001), -EINVAL);		/* unaligned */
	CHECK_EQ(vms_cursor_jump(c, ~0ULL), -EINVAL);
	CHECK_EQ(vms_cursor_va(c), 0x1000);
	vms_cursor_drop(c);
	CHECK_EQ(vmt_unmap(e.space, 0x3000, K4), 1);
	vmt_env_fini(&e);
}

TEST(cursor_jump_from_end_after_map)
{
	struct vmt_env e;
	struct vms_cursor *c;
	struct vms_mapping m;
	struct vms_frame *f;

	/* Upstream #2709: map the last page of a range whose end lies outside
	 * the guard node, then jump back and query. */
	vmt_env_init(&e, 8 * MiB, 0);
	f = vmt_alloc(e.pool, 1);
	CHECK_OK(vms_cursor_mut_new(e.space, 2 * M2 - 2 * K4, 2 * M2, &c));
	CHECK_OK(vms_cursor_jump(c, 2 * M2 - K4));
	CHECK_EQ(vms_cursor_map(c, f, PROP_RW), 0);
	CHECK_EQ(vms_cursor_va(c), 2 * M2);
	CHECK_OK(vms_cursor_jump(c, 2 * M2 - 2 * K4));
	CHECK_OK(vms_cursor_query(c, &m));
	CHECK(m.frame == NULL);
	CHECK_OK(vms_cursor_jump(c, 2 * M2 - K4));
	CHECK_OK(vms_cursor_query(c, &m));
	CHECK(m.frame == f);
	CHECK_EQ(m.start, 2 * M2 - K4);
	/* Same after an unmap that ends at the range end. */
	CHECK_EQ(vms_cursor_unmap(c, K4), 1);
	CHECK_EQ(vms_cursor_va(c), 2 * M2);
	CHECK_OK(vms_cursor_jump(c, 2 * M2 - K4));
	CHECK_OK(vms_cursor_query(c, &m));
	CHECK(m.frame == NULL);
	vms_cursor_drop(c);

	/* Huge: map 2M filling the range, then jump into its middle. */
	f = vmt_alloc(e.pool, 2);
	CHECK_OK(vms_cursor_mut_new(e.space, 2 * M2, 3 * M2, &c));
	CHECK_EQ(vms_cursor_map(c, f, PROP_RW), 0);
	CHECK_EQ(vms_cursor_va(c), 3 * M2);
	CHECK_OK(vms_cursor_jump(c, 2 * M2 + 100 * K4));
	CHECK_OK(vms_cursor_query(c, &m));
	CHECK(m.frame == f);
	CHECK_EQ(m.start, 2 * M2);
	CHECK_EQ(m.end, 3 * M2);
	CHECK_EQ(m.level, 2);
	vms_cursor_drop(c);
	CHECK_CLEAN(e.space);
	CHECK_EQ(vmt_unmap(e.space, 2 * M2, M2), 1);
	vmt_env_fini(&e);
}

TEST(cursor_readonly_allocates_nothing_visible)
{
	struct vmt_env e;
	struct vms_cursor *c;
	struct vms_mapping m;

	/* A read-only cursor may create empty nodes but never mappings. */
	vmt_env_init(&e, 4 * MiB, 0);
	CHECK_OK(vms_cursor_new(e.space, 5 * G1 + 0x3000, 5 * G1 + 0x5000, &c));
	CHECK_OK(vms_cursor_query(c, &m));
	CHECK(m.frame == NULL);
	vms_vaddr_t found;

	CHECK_EQ(vms_cursor_find_next(c, 0x2000, &found), 0);
	CHECK_EQ(vms_cursor_va(c), 5 * G1 + 0x5000);
	vms_cursor_drop(c);
	CHECK_CLEAN(e.space);
	vmt_env_fini(&e);
}

TEST(cursor_query_absent_slot_of_deepest_node)
{
	struct vmt_env e;
	struct vms_cursor *c;
	struct vms_mapping m;

	/* An empty space and a cursor over everything: nothing below the
	 * root exists, so the absent slot is a whole 512G root entry. */
	vmt_env_init(&e, 4 * MiB, 0);
	CHECK_OK(vms_cursor_new(e.space, 0, VMS_USER_END, &c));
	CHECK_OK(vms_cursor_jump(c, 5 * G1 + 0x3000));
	CHECK_OK(vms_cursor_query(c, &m));
	CHECK(m.frame == NULL);
	CHECK_EQ(m.level, 4);
	CHECK_EQ(m.start, 0);
	CHECK_EQ(m.end, 512 * G1);
	CHECK_OK(vms_cursor_jump(c, VMS_USER_END - K4));
	CHECK_OK(vms_cursor_query(c, &m));
	CHECK_EQ(m.level, 4);
	CHECK_EQ(m.end, VMS_USER_END);
	vms_cursor_drop(c);
	/* With a level-1 node present, the slot is 4K; next to it, in the
	 * level-2 node, a 2M slot that extends outside a small cursor. */
	vmt_map_new(e.space, 0x1000, 1, PROP_RW, false);
	CHECK_OK(vms_cursor_new(e.space, 0, 4 * M2, &c));
	CHECK_OK(vms_cursor_query(c, &m));
	CHECK_EQ(m.level, 1);
	CHECK_EQ(m.start, 0);
	CHECK_EQ(m.end, K4);
	CHECK_OK(vms_cursor_jump(c, M2 + 5 * K4));
	CHECK_OK(vms_cursor_query(c, &m));
	CHECK(m.frame == NULL);
	CHECK_EQ(m.level, 2);
	CHECK_EQ(m.start, M2);
	CHECK_EQ(m.end, 2 * M2);
	vms_cursor_drop(c);
	CHECK_EQ(vmt_unmap(e.space, 0x1000, K4), 1);
	vmt_env_fini(&e);
}
