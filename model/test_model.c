/* SPDX-License-Identifier: MIT */
/*
 * test_model.c - hand-written scenarios for the reference model, with the
 * results access.h / cursor.h / pool.h / space.h / check.h promise. No
 * libvms here: the model has to stand on its own.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "../tests/test.h"	/* the runner only: no libvms is linked */

/* A failed EQ is reported and the test goes on, so one run shows every
 * result of a scenario that differs from its contract. */
#define EQ(a, b)							\
	do {								\
		long long a_ = (long long)(a), b_ = (long long)(b);	\
		if (a_ != b_)						\
			vmt_fail_soft(__FILE__, __LINE__, "%s == %lld, want %s == %lld", \
				      #a, a_, #b, b_);			\
	} while (0)
#define OK(cond) EQ(!!(cond), 1)

static const struct vms_prop RW = { VMS_PROP_R | VMS_PROP_W, VMS_CACHE_WRITEBACK, VMS_PRIV_USER };
static const struct vms_prop RO = { VMS_PROP_R, VMS_CACHE_WRITEBACK, VMS_PRIV_USER };

static struct vmt_model *fresh(void)
{
	struct vmt_model *m = vmt_model_new();

	EQ(vmt_model_space_new(m, 0, 0), 0);
	EQ(vmt_model_space_activate(m, 0), 0);
	return m;
}

static void selfcheck(struct vmt_model *m)
{
	char why[200];

	if (vmt_model_selfcheck(m, true, why, sizeof(why)))
		vmt_fail_soft(__FILE__, __LINE__, "selfcheck: %s", why);
}

/* Map a new frame of @level at @va with @prop in a one-shot cursor. */
static int map_new(struct vmt_model *m, uint64_t va, int level, struct vms_prop prop)
{
	int id;

	EQ(vmt_model_frame_alloc(m, level, &id), 0);
	EQ(vmt_model_cursor_new(m, 0, true, va, va + vms_page_size(level)), 0);
	EQ(vmt_model_map(m, 0, id, prop), 0);
	vmt_model_cursor_drop(m, 0);
	return id;
}

TEST(test_frames)
{
	struct vmt_model *m = fresh();
	int id, id2;

	EQ(vmt_model_frame_alloc(m, 0, &id), -EINVAL);
	EQ(vmt_model_frame_alloc(m, 3, &id), -EINVAL);
	EQ(vmt_model_frame_alloc(m, 1, &id), 0);
	EQ(vmt_model_frame_refcount(m, id), 1);
	EQ(vmt_model_frame_get(m, id), 0);
	EQ(vmt_model_frame_handles(m, id), 2);
	EQ(vmt_model_frame_get(m, VMT_MODEL_NOFRAME), -EINVAL);
	EQ(vmt_model_frame_put(m, VMT_MODEL_NOFRAME), -EINVAL);
	EQ(vmt_model_frame_put(m, id), 0);
	EQ(vmt_model_frame_put(m, id), 0);
	OK(!vmt_model_frame_live(m, id));
	/* A dead frame is not a live data frame: both refuse. */
	EQ(vmt_model_frame_put(m, id), -EINVAL);
	EQ(vmt_model_frame_get(m, id), -EINVAL);
	/* Mapped without a handle: put refuses, get works. */
	id2 = map_new(m, M2, 1, RW);
	EQ(vmt_model_frame_handles(m, id2), 0);
	EQ(vmt_model_frame_refcount(m, id2), 1);
	EQ(vmt_model_frame_put(m, id2), -EINVAL);
	EQ(vmt_model_frame_get(m, id2), 0);
	EQ(vmt_model_data_frames(m), 1);
	selfcheck(m);
	vmt_model_free(m);
}

TEST(test_cursor_bounds)
{
	struct vmt_model *m = fresh();
	uint64_t found = 0;
	bool mapped;
	struct vmt_mleaf leaf;

	EQ(vmt_model_cursor_new(m, 0, false, K4, K4), -EINVAL);
	EQ(vmt_model_cursor_new(m, 0, false, 2 * K4, K4), -EINVAL);
	EQ(vmt_model_cursor_new(m, 0, false, 1, K4), -EINVAL);
	EQ(vmt_model_cursor_new(m, 0, false, 0, VMS_USER_END + K4), -EINVAL);
	EQ(vmt_model_cursor_new(m, 0, false, VMS_USER_END - K4, VMS_USER_END), 0);
	EQ(vmt_model_find_next(m, 0, 0, &found), -EINVAL);
	EQ(vmt_model_find_next(m, 0, 2 * K4, &found), -EINVAL);
	EQ(vmt_model_find_next(m, 0, K4 + 1, &found), -EINVAL);
	/* A refusal names its rule once; divergence titles depend on it. */
	{
		const char *why = vmt_model_why(m);

		OK(why && strstr(why, "past the cursor's end"));
		OK(vmt_model_why(m) == NULL);
	}
	EQ(vmt_model_find_next(m, 0, K4, &found), 0);
	EQ(vmt_model_cursor_va(m, 0), VMS_USER_END);
	/* va == end: query fails, jump back works, jump to end does not. */
	EQ(vmt_model_query(m, 0, &mapped, &leaf), -EINVAL);
	EQ(vmt_model_jump(m, 0, VMS_USER_END), -EINVAL);
	EQ(vmt_model_jump(m, 0, VMS_USER_END - K4 + 8), -EINVAL);
	EQ(vmt_model_jump(m, 0, VMS_USER_END - K4), 0);
	EQ(vmt_model_query(m, 0, &mapped, &leaf), 0);
	OK(!mapped);
	/* Read-only: mutations are -EPERM before any argument check. */
	EQ(vmt_model_unmap(m, 0, 0), -EPERM);
	EQ(vmt_model_map(m, 0, VMT_MODEL_NOFRAME, RW), -EPERM);
	/* check/quiesce refuse while the caller holds a cursor. */
	EQ(vmt_model_check(m, 0), -EDEADLK);
	EQ(vmt_model_quiesce(m), -EDEADLK);
	EQ(vmt_model_space_destroy(m, 0), -EBUSY);
	vmt_model_cursor_drop(m, 0);
	EQ(vmt_model_check(m, 0), 0);
	vmt_model_free(m);
}

TEST(test_map_split)
{
	struct vmt_model *m = fresh();
	int big, small, id;
	bool mapped;
	struct vmt_mleaf leaf;
	uint64_t found;

	big = map_new(m, M2, 2, RW);
	EQ(vmt_model_nr_leaves(m, 0), 1);
	/* 2M map: alignment and bounds. */
	EQ(vmt_model_frame_alloc(m, 2, &id), 0);
	EQ(vmt_model_cursor_new(m, 0, true, M2 + K4, 4 * M2), 0);
	EQ(vmt_model_map(m, 0, id, RW), -EINVAL);		/* va not 2M aligned */
	EQ(vmt_model_jump(m, 0, 2 * M2), 0);
	EQ(vmt_model_map(m, 0, id, (struct vms_prop){ 0x20, 0, 1 }), -EINVAL);
	EQ(vmt_model_map(m, 0, id, (struct vms_prop){ 1, VMS_CACHE_WRITEPROTECTED, 1 }), -EINVAL);
	EQ(vmt_model_map(m, 0, id, (struct vms_prop){ 1, 0, 4 }), -EINVAL);
	EQ(vmt_model_map(m, 0, id, RW), 0);			/* [4M, 6M): empty slot */
	EQ(vmt_model_cursor_va(m, 0), 3 * M2);
	EQ(vmt_model_frame_handles(m, id), 0);
	EQ(vmt_model_map(m, 0, id, RW), -EINVAL);		/* no handle left */
	vmt_model_cursor_drop(m, 0);
	EQ(vmt_model_cursor_new(m, 0, true, 3 * M2, 4 * M2 - K4), 0);
	EQ(vmt_model_frame_get(m, id), 0);
	EQ(vmt_model_map(m, 0, id, RW), -EINVAL);		/* past end */
	vmt_model_cursor_drop(m, 0);

	/* A 4K frame at the first page of a 2M leaf splits it. */
	EQ(vmt_model_frame_alloc(m, 1, &small), 0);
	EQ(vmt_model_cursor_new(m, 0, true, 0, G1), 0);
	EQ(vmt_model_find_next(m, 0, G1, &found), 1);
	EQ(found, M2);
	EQ(vmt_model_map(m, 0, small, RO), 1);
	EQ(vmt_model_nr_leaves(m, 0), 512 + 1);		/* 511 pieces + [4M,6M) + new */
	EQ(vmt_model_frame_refcount(m, big), 511);
	EQ(vmt_model_jump(m, 0, M2 + 5 * K4), 0);
	EQ(vmt_model_query(m, 0, &mapped, &leaf), 0);
	OK(mapped);
	EQ(leaf.va, M2 + 5 * K4);
	EQ(leaf.level, 1);
	EQ(leaf.frame, big);
	EQ(leaf.off, 5 * K4);
	/* find_next inside the 2M leaf [4M, 6M) returns va itself. */
	EQ(vmt_model_jump(m, 0, 2 * M2 + 3 * K4), 0);
	EQ(vmt_model_find_next(m, 0, K4, &found), 1);
	EQ(found, 2 * M2 + 3 * K4);
	/* protect entered mid-way: split, the piece at va changes. */
	{
		struct vmt_mleaf before = *vmt_model_lookup(m, 0, 2 * M2);

		EQ(before.level, 2);
	}
	vmt_model_cursor_drop(m, 0);
	selfcheck(m);
	vmt_model_free(m);
}

static void clear_w(struct vms_prop *p, void *arg)
{
	(void)arg;
	p->flags &= ~VMS_PROP_W;
	p->priv ^= 0x80;	/* ignored */
}

static void make_invalid(struct vms_prop *p, void *arg)
{
	(void)arg;
	p->cache = VMS_CACHE_WRITEPROTECTED;
}

TEST(test_unmap_protect)
{
	struct vmt_model *m = fresh();
	int big;
	uint64_t s = 0, e = 0;
	const struct vmt_mleaf *l;

	big = map_new(m, M2, 2, RW);
	EQ(vmt_model_cursor_new(m, 0, true, 0, G1), 0);
	/* Unmap two pages in the middle: the leaf splits, two pieces go. */
	EQ(vmt_model_jump(m, 0, M2 + K4), 0);
	EQ(vmt_model_unmap(m, 0, 2 * K4), 2);
	EQ(vmt_model_cursor_va(m, 0), M2 + 3 * K4);
	EQ(vmt_model_nr_leaves(m, 0), 510);
	EQ(vmt_model_frame_refcount(m, big), 511 - 1 + 1 - 1);	/* 510 pieces, one handle gone at map */
	/* Unmapping nothing is fine. */
	EQ(vmt_model_jump(m, 0, 8 * M2), 0);
	EQ(vmt_model_unmap(m, 0, M2), 0);
	EQ(vmt_model_unmap(m, 0, G1), -EINVAL);		/* past end */
	/* The rest of the pieces: one each. */
	EQ(vmt_model_jump(m, 0, 0), 0);
	EQ(vmt_model_unmap(m, 0, 4 * M2), 510);
	OK(!vmt_model_frame_live(m, big));
	vmt_model_cursor_drop(m, 0);

	/* A whole 2M leaf counts one. */
	map_new(m, 2 * M2, 2, RW);
	EQ(vmt_model_cursor_new(m, 0, true, 0, G1), 0);
	EQ(vmt_model_unmap(m, 0, G1), 1);
	vmt_model_cursor_drop(m, 0);

	/* protect_next: a 2M leaf entered mid-way splits; only one page changes. */
	map_new(m, 2 * M2, 2, RW);
	EQ(vmt_model_cursor_new(m, 0, true, 2 * M2 + 4 * K4, 3 * M2), 0);
	EQ(vmt_model_protect_next(m, 0, K4, clear_w, NULL, &s, &e), 1);
	EQ(s, 2 * M2 + 4 * K4);
	EQ(e, 2 * M2 + 5 * K4);
	EQ(vmt_model_cursor_va(m, 0), e);
	l = vmt_model_lookup(m, 0, s);
	EQ(l->prop.flags, VMS_PROP_R);
	EQ(l->prop.priv, VMS_PRIV_USER);
	EQ(vmt_model_lookup(m, 0, e)->prop.flags, VMS_PROP_R | VMS_PROP_W);
	/* An invalid result: -EINVAL, PTE and va unchanged. */
	EQ(vmt_model_protect_next(m, 0, K4, make_invalid, NULL, &s, &e), -EINVAL);
	EQ(vmt_model_cursor_va(m, 0), 2 * M2 + 5 * K4);
	EQ(vmt_model_lookup(m, 0, 2 * M2 + 5 * K4)->prop.cache, VMS_CACHE_WRITEBACK);
	/* Nothing mapped in range: 0, va at va + len. */
	EQ(vmt_model_jump(m, 0, 3 * M2 - K4), 0);
	vmt_model_cursor_drop(m, 0);
	EQ(vmt_model_cursor_new(m, 0, true, 8 * M2, 9 * M2), 0);
	EQ(vmt_model_protect_next(m, 0, M2, clear_w, NULL, &s, &e), 0);
	EQ(vmt_model_cursor_va(m, 0), 9 * M2);
	vmt_model_cursor_drop(m, 0);
	/* A whole 2M leaf inside the range is not split. */
	EQ(vmt_model_cursor_new(m, 0, true, 0, G1), 0);
	EQ(vmt_model_unmap(m, 0, G1), 512);
	vmt_model_cursor_drop(m, 0);
	map_new(m, 4 * M2, 2, RW);
	EQ(vmt_model_cursor_new(m, 0, true, 0, G1), 0);
	EQ(vmt_model_protect_next(m, 0, G1, clear_w, NULL, &s, &e), 1);
	EQ(s, 4 * M2);
	EQ(e, 5 * M2);
	EQ(vmt_model_nr_leaves(m, 0), 1);
	vmt_model_cursor_drop(m, 0);
	selfcheck(m);
	vmt_model_free(m);
}

TEST(test_map_replace)
{
	struct vmt_model *m = fresh();
	int a, b, big;

	a = map_new(m, M2, 1, RW);
	b = map_new(m, M2 + K4, 1, RW);
	/* 2M over a slot holding 4K leaves: both go, result 1. */
	EQ(vmt_model_frame_alloc(m, 2, &big), 0);
	EQ(vmt_model_cursor_new(m, 0, true, M2, 2 * M2), 0);
	EQ(vmt_model_map(m, 0, big, RW), 1);
	OK(!vmt_model_frame_live(m, a) && !vmt_model_frame_live(m, b));
	EQ(vmt_model_nr_leaves(m, 0), 1);
	vmt_model_cursor_drop(m, 0);
	/* The same frame over itself: replaced, still alive. */
	EQ(vmt_model_frame_get(m, big), 0);
	EQ(vmt_model_cursor_new(m, 0, true, M2, 2 * M2), 0);
	EQ(vmt_model_map(m, 0, big, RO), 1);
	EQ(vmt_model_frame_refcount(m, big), 1);
	vmt_model_cursor_drop(m, 0);
	selfcheck(m);
	vmt_model_free(m);
}

TEST(test_absent)
{
	struct vmt_model *m = fresh();

	map_new(m, M2 + K4, 1, RW);
	/* Must contain va, be one aligned slot, and hold no leaf. */
	OK(vmt_model_absent_ok(m, 0, 0, 0, M2, 2));
	OK(vmt_model_absent_ok(m, 0, K4, K4, 2 * K4, 1));
	OK(vmt_model_absent_ok(m, 0, M2, M2, M2 + K4, 1));
	OK(!vmt_model_absent_ok(m, 0, M2, M2, 2 * M2, 2));		/* holds the leaf */
	OK(!vmt_model_absent_ok(m, 0, 0, 0, G1, 3));			/* holds the leaf */
	OK(vmt_model_absent_ok(m, 0, 2 * G1, G1 * 2, G1 * 3, 3));
	OK(!vmt_model_absent_ok(m, 0, 2 * G1, G1, G1 * 3, 3));		/* not one slot */
	OK(!vmt_model_absent_ok(m, 0, 0, K4, 2 * K4, 1));		/* misses va */
	OK(!vmt_model_absent_ok(m, 0, 0, 0, K4, 0));			/* bad level */
	OK(vmt_model_absent_ok(m, 0, VMS_USER_END - K4, VMS_USER_END - (1ULL << 39),
			       VMS_USER_END, 4));
	vmt_model_free(m);
}

/* Accessor creation: the range (while active), activity first, then
 * conflicts; activation of an unmapped range. */
static void acc_creation(struct vmt_model *m)
{
	uint8_t buf[64];

	EQ(vmt_model_acc_new(m, 0, 0, true, 0, K4), -EINVAL);
	EQ(vmt_model_acc_new(m, 0, 0, true, K4, 0), -EINVAL);
	EQ(vmt_model_acc_new(m, 0, 0, true, VMS_MAX_USERSPACE_VADDR, 1), -EINVAL);
	EQ(vmt_model_acc_new(m, 0, 0, true, VMS_MAX_USERSPACE_VADDR - 1, 1), 0);
	EQ(vmt_model_acc_release(m, 0), 0);
	EQ(vmt_model_acc_new(m, 0, 0, true, UINT64_MAX - 10, 20), -EINVAL);
	EQ(vmt_model_space_deactivate(m, 0), 0);
	EQ(vmt_model_acc_new(m, 0, 0, true, M2, K4), -EACCES);
	EQ(vmt_model_acc_new(m, 0, 0, true, 0, K4), -EACCES);		/* before the range */
	EQ(vmt_model_space_activate(m, 0), 0);

	EQ(vmt_model_acc_new(m, 0, 0, true, M2, K4), 0);
	EQ(vmt_model_acc_read(m, 0, buf, 1), -EINVAL);			/* a writer */
	EQ(vmt_model_acc_write(m, 0, buf, 1), -EINVAL);			/* not active */
	EQ(vmt_model_acc_activate(m, 0, 0), 0);
	EQ(vmt_model_acc_activate(m, 0, 0), -EINVAL);			/* already */
	/* Touching a registered writer conflicts (closed intervals). */
	EQ(vmt_model_acc_new(m, 1, 0, false, M2 + K4, K4), -EBUSY);
	EQ(vmt_model_acc_new(m, 1, 0, false, M2 - K4, K4), -EBUSY);
	EQ(vmt_model_acc_new(m, 1, 0, false, M2 + K4 + 1, K4), 0);
	/* Readers on a non-shared space: a registered reader blocks another. */
	EQ(vmt_model_acc_activate(m, 1, 0), 0);
	EQ(vmt_model_acc_new(m, 2, 0, false, M2 + 2 * K4 + 1, 8), -EBUSY);
	/* Unmapped range: -EFAULT at activation. */
	EQ(vmt_model_acc_new(m, 2, 0, false, 2 * M2 - 8, 16), 0);
	EQ(vmt_model_acc_activate(m, 2, 0), -EFAULT);
}

/* Bytes: write through the writer, read through an alias of @big. */
static void acc_bytes(struct vmt_model *m, int big, uint8_t *buf)
{
	uint8_t out[64];

	for (int i = 0; i < 64; i++)
		buf[i] = (uint8_t)(i * 7 + 1);
	vmt_model_why(m);
	EQ(vmt_model_acc_write(m, 0, buf, 64), 64);
	OK(vmt_model_why(m) == NULL);			/* a whole copy: no rule */
	EQ(vmt_model_acc_remain(m, 0), K4 - 64);
	EQ(vmt_model_acc_write(m, 0, buf, 0), 0);
	EQ(vmt_model_acc_release(m, 0), 0);
	EQ(vmt_model_frame_get(m, big), 0);
	EQ(vmt_model_cursor_new(m, 0, true, G1, G1 + M2), 0);
	EQ(vmt_model_map(m, 0, big, RO), 0);
	vmt_model_cursor_drop(m, 0);
	EQ(vmt_model_acc_new(m, 0, 0, false, G1 + 32, 64), 0);
	EQ(vmt_model_acc_activate(m, 0, 0), 0);
	EQ(vmt_model_acc_read(m, 0, out, 64), 64);
	EQ(memcmp(out, buf + 32, 32), 0);
	for (int i = 32; i < 64; i++)
		EQ(out[i], 0);
	EQ(vmt_model_acc_read(m, 0, out, 64), 0);			/* exhausted */
}

/* A fault part-way: copies stop at the page; at the first page: -EFAULT. */
static void acc_faults(struct vmt_model *m, const uint8_t *buf)
{
	int small = map_new(m, 4 * M2, 1, RW);

	EQ(vmt_model_acc_release(m, 0), 0);
	EQ(vmt_model_acc_new(m, 0, 0, true, 4 * M2 + K4 - 10, 20), 0);
	EQ(vmt_model_acc_activate(m, 0, 0), -EFAULT);
	EQ(vmt_model_acc_release(m, 0), 0);
	EQ(vmt_model_acc_new(m, 0, 0, true, 4 * M2 + K4 - 10, 10), 0);
	EQ(vmt_model_acc_activate(m, 0, 0), 0);
	{
		/* Unmap the page under the registered writer, then write. */
		EQ(vmt_model_cursor_new(m, 0, true, 4 * M2, 4 * M2 + K4), 0);
		EQ(vmt_model_unmap(m, 0, K4), 1);
		vmt_model_cursor_drop(m, 0);
		vmt_model_why(m);
		EQ(vmt_model_acc_write(m, 0, buf, 10), -EFAULT);
		{
			/* A copy that stops short names where it stopped. */
			const char *why = vmt_model_why(m);

			OK(why && strstr(why, "accessor copy stops"));
		}
		OK(!vmt_model_frame_live(m, small));
	}
	/* Writes need W: a read-only alias faults for a writer. */
	EQ(vmt_model_acc_release(m, 0), 0);
	EQ(vmt_model_acc_release(m, 1), 0);
	EQ(vmt_model_acc_new(m, 0, 0, true, G1, 8), 0);
	EQ(vmt_model_acc_activate(m, 0, 0), 0);
	EQ(vmt_model_acc_write(m, 0, buf, 8), -EFAULT);
	/* Not the active space: -EACCES for copies. */
	EQ(vmt_model_space_deactivate(m, 0), 0);
	EQ(vmt_model_acc_write(m, 0, buf, 8), -EACCES);
	EQ(vmt_model_space_destroy(m, 0), -EBUSY);			/* accessor exists */
}

TEST(test_accessors)
{
	struct vmt_model *m = fresh();
	uint8_t buf[64];
	int big;

	big = map_new(m, M2, 2, RW);
	acc_creation(m);
	acc_bytes(m, big, buf);
	acc_faults(m, buf);
	selfcheck(m);
	vmt_model_free(m);
}

TEST(test_shared_readers)
{
	struct vmt_model *m = vmt_model_new();

	EQ(vmt_model_space_new(m, 1, 2), -EINVAL);
	EQ(vmt_model_space_new(m, 1, 1), 0);
	EQ(vmt_model_space_activate(m, 1), 0);
	EQ(vmt_model_frame_alloc(m, 2, &(int){ 0 }), 0);
	EQ(vmt_model_cursor_new(m, 1, true, 0, M2), 0);
	EQ(vmt_model_map(m, 1, 0, RW), 0);
	vmt_model_cursor_drop(m, 1);
	EQ(vmt_model_acc_new(m, 0, 1, false, K4, K4), 0);
	EQ(vmt_model_acc_activate(m, 0, 1), 0);
	EQ(vmt_model_acc_new(m, 1, 1, false, K4, K4), 0);
	EQ(vmt_model_acc_activate(m, 1, 1), 0);
	EQ(vmt_model_acc_new(m, 2, 1, true, 2 * K4, K4), -EBUSY);	/* touches readers */
	EQ(vmt_model_acc_new(m, 2, 1, true, 2 * K4 + 1, K4), 0);
	selfcheck(m);
	vmt_model_free(m);
}

TEST(test_enomem)
{
	struct vmt_model *m = fresh();
	int id, id2;

	vmt_model_set_pool(m, 3 * 512, 3);	/* frame 0 and the root pin two */
	OK(!vmt_model_may_enomem(m, true));
	EQ(vmt_model_frame_alloc(m, 2, &id), 0);
	OK(vmt_model_may_enomem(m, true));
	/* Armed failure after the argument checks, nothing changes. */
	vmt_model_fail_next_alloc(m);
	EQ(vmt_model_frame_alloc(m, 5, &id2), -EINVAL);
	vmt_model_fail_next_alloc(m);
	EQ(vmt_model_frame_alloc(m, 1, &id2), -ENOMEM);
	EQ(vmt_model_nr_frames(m), 1);
	/* A map into a slot that already holds a leaf of its size cannot
	 * allocate: the armed failure does not apply. */
	EQ(vmt_model_frame_get(m, id), 0);
	EQ(vmt_model_cursor_new(m, 0, true, 0, M2), 0);
	EQ(vmt_model_map(m, 0, id, RW), 0);
	EQ(vmt_model_jump(m, 0, 0), 0);
	vmt_model_fail_next_alloc(m);
	EQ(vmt_model_map(m, 0, id, RW), 1);
	vmt_model_cursor_drop(m, 0);
	vmt_model_free(m);
}

/* A program touching every part of the model's state; logs its answers. */
static int reset_scenario(struct vmt_model *m, long *log)
{
	static const uint8_t pat[3 * K4] = { 1, 2, 3 };
	uint8_t byte;
	int n = 0, a, b;

	vmt_model_set_pool(m, 8 * 512, 8);
	log[n++] = vmt_model_may_enomem(m, false);
	log[n++] = vmt_model_space_new(m, 0, 0);
	log[n++] = vmt_model_space_activate(m, 0);
	log[n++] = vmt_model_frame_alloc(m, 2, &a);
	log[n++] = vmt_model_frame_alloc(m, 1, &b);
	log[n++] = a * 10 + b;
	log[n++] = vmt_model_cursor_new(m, 0, true, 0, 2 * M2);
	log[n++] = vmt_model_map(m, 0, a, RW);
	log[n++] = vmt_model_map(m, 0, b, RW);
	log[n++] = vmt_model_jump(m, 0, K4);
	log[n++] = vmt_model_unmap(m, 0, K4);
	log[n++] = (long)vmt_model_nr_leaves(m, 0);
	vmt_model_cursor_drop(m, 0);
	log[n++] = vmt_model_acc_new(m, 0, 0, true, 2 * K4, sizeof(pat));
	log[n++] = vmt_model_acc_activate(m, 0, 0);
	log[n++] = vmt_model_acc_write(m, 0, pat, sizeof(pat));
	vmt_model_frame_read(m, a, 2 * K4, &byte, 1);
	log[n++] = byte;
	log[n++] = vmt_model_may_enomem(m, true);
	log[n++] = (long)vmt_model_data_frames(m);
	log[n++] = vmt_model_nr_frames(m);
	return n;
}

TEST(test_reset)
{
	struct vmt_model *m = vmt_model_new();
	long fresh_log[32], log[32];
	int n = reset_scenario(m, fresh_log), k;

	vmt_model_free(m);
	/* Dirty a model well beyond the scenario, then reset it: the
	 * scenario must answer as on a fresh model, twice. */
	m = fresh();
	EQ(vmt_model_space_new(m, 1, 1), 0);
	for (int i = 0; i < 20; i++)
		EQ(map_new(m, (uint64_t)i * M2, 2, RW), i);
	EQ(vmt_model_acc_new(m, 3, 0, false, K4, K4), 0);
	for (int round = 0; round < 2; round++) {
		vmt_model_reset(m);
		EQ(vmt_model_nr_frames(m), 0);
		EQ(vmt_model_nr_spaces(m), 0);
		EQ(vmt_model_current(m), -1);
		OK(!vmt_model_acc_used(m, 3));
		k = reset_scenario(m, log);
		EQ(k, n);
		for (int i = 0; i < n && i < k; i++)
			EQ(log[i], fresh_log[i]);
		selfcheck(m);
	}
	vmt_model_free(m);
}
