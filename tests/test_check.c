/* SPDX-License-Identifier: MIT */
/*
 * test_check.c - the checker passes clean trees and catches corrupted
 * ones. Every corruption is undone afterwards and the tree re-checked, so
 * each test also proves it was that corruption the checker saw.
 */
#include "test.h"

/* x86-64 layout (core/src/pte.h): the frame address in bits 12..51. */
#define T_PTE_ADDR 0x000ffffffffff000ULL

TEST(check_clean_tree_report)
{
	struct vmt_env e;
	struct vms_check_report rep;
	struct vms_pool_stats st;

	vmt_env_init(&e, 16 * MiB, 0);
	memset(&rep, 0xff, sizeof(rep));
	CHECK_OK(vms_space_check(e.space, &rep));
	CHECK_EQ(rep.errors, 0);
	CHECK_EQ(rep.leaves, 0);
	CHECK_EQ(rep.mapped_bytes, 0);
	CHECK_EQ(rep.nodes, 1);		/* the root */

	for (int i = 0; i < 3; i++)
		vmt_map_new(e.space, 0x10000 + i * K4, 1, PROP_RW, false);
	vmt_map_new(e.space, G1 + M2, 2, PROP_R, false);
	CHECK_OK(vms_space_check(e.space, &rep));
	CHECK_EQ(rep.errors, 0);
	CHECK_EQ(rep.leaves, 4);
	CHECK_EQ(rep.mapped_bytes, 3 * K4 + M2);
	st = vmt_stats(e.pool);
	CHECK_EQ(rep.nodes, st.pt_frames);
	/* root, L3 [0,512G), L2 [0,1G), L1 [0,2M), L2 [1G,2G) */
	CHECK_EQ(rep.nodes, 5);
	CHECK_EQ(vms_space_check(NULL, &rep), -EINVAL);
	CHECK_EQ(vms_space_check(e.space, NULL), -EINVAL);
	vmt_env_fini(&e);
}

/* Each corruption of debug.h, on a tree with a 4 KiB and a 2 MiB leaf
 * and an active writer and reader: the checker reports the check it
 * breaks (the run-time invariants' kinds: their call completes; the
 * leak's reset is refused), and passes once it is undone. */
TEST(check_catches_each_corruption)
{
	struct vmt_env e;
	struct vms_debug_undo u;
	struct vms_reader *r;
	struct vms_writer *w;

	vmt_env_init(&e, 16 * MiB, 0);
	vmt_map_new(e.space, 0x5000, 1, PROP_RW, false);
	vmt_map_new(e.space, G1 + M2, 2, PROP_RW, false);
	CHECK_OK(vms_space_activate(e.space));
	CHECK_OK(vms_space_create_writer(e.space, 0x5000, 8, &w));
	CHECK_OK(vms_space_create_reader(e.space, G1 + M2, 8, &r));
	CHECK_OK(vms_space_activate_writer(e.space, w));
	CHECK_OK(vms_space_activate_reader(e.space, r));
	CHECK_CLEAN(e.space);
	for (int i = 0; i < VMS_CORRUPT__COUNT; i++) {
		enum vms_corruption k = (enum vms_corruption)i;

		enum vms_check want = vms__debug_corruption_check(k);

		CHECK_OK(vms__debug_corrupt(e.space, k, &u));
		if (vms_check_class(want) == VMS_CLASS_CHECKER)
			vmt_check_dirty_at(e.space, want, -1, __FILE__,
					   __LINE__);
		else if (vms_check_class(want) == VMS_CLASS_ORACLE)
			CHECK_EQ(vms__debug_trip(e.space, &u), -EBUSY);
		else /* this build has no run-time checks: the call is sound */
			CHECK_OK(vms__debug_trip(e.space, &u));
		CHECK_OK(vms__debug_restore(e.space, &u));
		CHECK_CLEAN(e.space);
	}
	CHECK_OK(vms_reader_release(r));
	CHECK_OK(vms_writer_release(w));
	CHECK_OK(vms_space_deactivate(e.space));
	CHECK_EQ(vmt_unmap(e.space, 0, 2 * G1), 2);
	vmt_env_fini(&e);
}

TEST(check_catches_pte_to_free_frame)
{
	struct vmt_env e;
	struct vms_frame *f, *gone;
	_Atomic uint64_t *pte;
	uint64_t good;
	vms_paddr_t free_pa;

	vmt_env_init(&e, 4 * MiB, 0);
	f = vmt_map_new(e.space, 0x5000, 1, PROP_RW, false);
	gone = vmt_alloc(e.pool, 1);
	free_pa = vms_frame_paddr(gone);
	CHECK_OK(vms_frame_put(gone));
	CHECK(vms_frame_from_paddr(e.pool, free_pa) == NULL);

	pte = vms__debug_pte(e.space, 0x5000, 1);
	CHECK(pte != NULL);
	good = *pte;
	CHECK_EQ(good & T_PTE_ADDR, vms_frame_paddr(f));
	*pte = (good & ~T_PTE_ADDR) | free_pa;
	CHECK_FOUND(e.space, LEAF_NO_FRAME, 1);
	/* Past the end of the pool. */
	*pte = (good & ~T_PTE_ADDR) | (1ULL << 40);
	CHECK_DIRTY(e.space);
	*pte = good;
	CHECK_CLEAN(e.space);
	CHECK_EQ(vmt_unmap(e.space, 0x5000, K4), 1);
	vmt_env_fini(&e);
}

TEST(check_catches_misaligned_huge_leaf)
{
	struct vmt_env e;
	_Atomic uint64_t *pte;
	uint64_t good;

	vmt_env_init(&e, 8 * MiB, 0);
	vmt_map_new(e.space, M2, 2, PROP_RW, false);
	pte = vms__debug_pte(e.space, M2, 2);
	CHECK(pte != NULL);
	good = *pte;
	*pte = good + K4;	/* paddr no longer 2M-aligned */
	CHECK_FOUND(e.space, BAD_LEAF, 2);
	*pte = good;
	CHECK_CLEAN(e.space);
	CHECK_EQ(vmt_unmap(e.space, M2, M2), 1);
	vmt_env_fini(&e);
}

TEST(check_catches_refcount)
{
	struct vmt_env e;
	struct vms_frame *a, *b, *big;

	vmt_env_init(&e, 8 * MiB, 0);
	a = vmt_map_new(e.space, 0x5000, 1, PROP_RW, false);
	b = vmt_map_new(e.space, 0x6000, 1, PROP_RW, true);	/* a handle too */
	big = vmt_map_new(e.space, M2, 2, PROP_RW, false);
	struct vms_frame *all[] = { a, b, big };
	for (int i = 0; i < 3; i++) {
		for (int d = -1; d <= 1; d += 2) {
			vms__debug_adjust_refcount(all[i], d);
			CHECK_FOUND(e.space, REFCOUNT, 0);	/* either size */
			vms__debug_adjust_refcount(all[i], -d);
			CHECK_CLEAN(e.space);
		}
	}
	/* A free-standing frame with handles only. */
	vms__debug_adjust_refcount(b, 1);
	CHECK_OK(vms_frame_put(b));	/* handles 0, refcount 2 for one PTE */
	CHECK_DIRTY(e.space);
	vms__debug_adjust_refcount(b, -1);
	CHECK_CLEAN(e.space);
	CHECK_EQ(vmt_unmap(e.space, 0, 4 * MiB), 3);
	vmt_env_fini(&e);
}

TEST(check_frames_in_two_spaces)
{
	struct vmt_env e;
	struct vms_space *s2;
	struct vms_frame *f, *big;
	struct vms_check_report rep;

	vmt_env_init(&e, 8 * MiB, 0);
	CHECK_OK(vms_space_new(e.pool, 0, &s2));
	f = vmt_alloc(e.pool, 1);
	big = vmt_alloc(e.pool, 2);
	CHECK_OK(vms_frame_get(f));
	CHECK_OK(vms_frame_get(big));
	CHECK_EQ(vmt_map(e.space, 0x3000, f, PROP_RW), 0);
	CHECK_EQ(vmt_map(s2, 0x9000, f, PROP_R), 0);
	CHECK_EQ(vmt_map(e.space, M2, big, PROP_RW), 0);
	CHECK_EQ(vmt_map(s2, 3 * M2, big, PROP_RW), 0);
	CHECK_EQ(vms_frame_refcount(f), 2);
	CHECK_EQ(vms_frame_handles(f), 0);
	CHECK_OK(vms_space_check(e.space, &rep));
	CHECK_EQ(rep.leaves, 2);
	CHECK_OK(vms_space_check(s2, &rep));
	CHECK_EQ(rep.leaves, 2);
	/* An extra reference is seen from either space. */
	vms__debug_adjust_refcount(f, 1);
	CHECK_DIRTY(e.space);
	CHECK_DIRTY(s2);
	vms__debug_adjust_refcount(f, -1);

	CHECK_EQ(vmt_unmap(e.space, 0x3000, K4), 1);
	CHECK_EQ(vmt_unmap(s2, 3 * M2 + 8 * K4, K4), 1);	/* splits big in s2 */
	CHECK_CLEAN(e.space);
	CHECK_CLEAN(s2);
	CHECK_EQ(vms_frame_refcount(f), 1);
	CHECK_EQ(vms_frame_refcount(big), 1 + 511);
	CHECK_OK(vms_space_destroy(s2));
	CHECK_OK(vms_pool_quiesce(e.pool));
	CHECK_EQ(vms_frame_refcount(f), 0);
	CHECK_EQ(vms_frame_refcount(big), 1);
	CHECK_CLEAN(e.space);
	CHECK_EQ(vmt_unmap(e.space, M2, M2), 1);
	vmt_env_fini(&e);
}

struct hold_arg {
	struct vms_space *space;
	atomic_int step;
};

static void *hold_cursor(void *p)
{
	struct hold_arg *a = p;
	struct vms_cursor *c;

	CHECK_OK(vms_cursor_new(a->space, 0x1000, 0x2000, &c));
	atomic_store(&a->step, 1);
	WAIT_FLAG(&a->step, 2);
	vms_cursor_drop(c);
	return NULL;
}

TEST(check_refuses_with_open_cursor)
{
	struct vmt_env e;
	struct vms_check_report rep;
	struct hold_arg a = { 0 };
	struct vms_cursor *c;
	pthread_t t;

	vmt_env_init(&e, 4 * MiB, 0);
	CHECK_OK(vms_cursor_new(e.space, 0x1000, 0x2000, &c));
	CHECK_EQ(vms_space_check(e.space, &rep), -EDEADLK);
	vms_cursor_drop(c);

	a.space = e.space;
	t = vmt_thread(hold_cursor, &a);
	WAIT_FLAG(&a.step, 1);
	CHECK_EQ(vms_space_check(e.space, &rep), -EBUSY);
	atomic_store(&a.step, 2);
	vmt_join(t);
	CHECK_CLEAN(e.space);
	vmt_env_fini(&e);
}

/* vms_pool_check: the same conservation with no space at all. */
TEST(check_pool_without_spaces)
{
	struct vms_check_report rep;
	struct vms_pool *p;
	struct vms_frame *f;

	CHECK_OK(vms_pool_new(4 * MiB, &p));
	CHECK_OK(vms_pool_check(p, &rep));
	f = vmt_alloc(p, 1);
	CHECK_OK(vms_pool_check(p, &rep));
	vms__debug_adjust_refcount(f, 1);
	CHECK_EQ(vms_pool_check(p, &rep), -EUCLEAN);
	CHECK_EQ(rep.kind, VMS_CHECK_REFCOUNT);
	CHECK_EQ(rep.level, 0);
	vms__debug_adjust_refcount(f, -1);
	CHECK_OK(vms_pool_check(p, &rep));
	CHECK_EQ(vms_pool_check(NULL, &rep), -EINVAL);
	CHECK_EQ(vms_pool_check(p, NULL), -EINVAL);
	CHECK_OK(vms_frame_put(f));
	CHECK_OK(vms_pool_destroy(p));
}

/* The conservation check reads the frames handed out since the pool was
 * made or reset (their dirty bits, pool.c), not the frames written
 * before the reset; and a check leaves nothing behind for the next. */
TEST(check_pool_after_reset)
{
	struct vms_check_report rep;
	struct vms_frame *f, *big;
	struct vms_pool *p;

	CHECK_OK(vms_pool_new(8 * MiB, &p));
	big = vmt_alloc(p, 2);
	memset(vms_frame_data(big), 1, 2 * MiB);
	CHECK_OK(vms_frame_put(big));
	CHECK_OK(vms_pool_reset(p));
	CHECK_OK(vms_pool_check(p, &rep));
	f = vmt_alloc(p, 1);
	big = vmt_alloc(p, 2);
	struct vms_frame *all[] = { f, big };
	for (int i = 0; i < 2; i++) {
		vms__debug_adjust_refcount(all[i], 1);
		CHECK_EQ(vms_pool_check(p, &rep), -EUCLEAN);
		CHECK_EQ(rep.kind, VMS_CHECK_REFCOUNT);
		vms__debug_adjust_refcount(all[i], -1);
		CHECK_OK(vms_pool_check(p, &rep));
	}
	CHECK_OK(vms_frame_put(f));
	CHECK_OK(vms_frame_put(big));
	CHECK_OK(vms_pool_destroy(p));
}
