/* SPDX-License-Identifier: MIT */
/* test_space.c - spaces, activation, accessors and their owner rules. */
#include "test.h"

TEST(space_new_errors)
{
	struct vms_pool *p = vmt_pool(4 * MiB);
	struct vms_space *s = NULL;

	CHECK_EQ(vms_space_new(NULL, 0, &s), -EINVAL);
	CHECK_EQ(vms_space_new(p, 0, NULL), -EINVAL);
	CHECK_EQ(vms_space_new(p, 0x2, &s), -EINVAL);
	CHECK_EQ(vms_space_new(p, ~0u, &s), -EINVAL);
	CHECK(s == NULL);
	CHECK_EQ(vmt_stats(p).spaces, 0);
	CHECK_OK(vms_space_new(p, VMS_SPACE_SHARED_READERS, &s));
	CHECK_EQ(vms_space_flags(s), VMS_SPACE_SHARED_READERS);
	CHECK(vms_space_pool(s) == p);
	CHECK_EQ(vmt_stats(p).spaces, 1);
	CHECK_EQ(vms_space_destroy(NULL), -EINVAL);
	CHECK_EQ(vms_space_activate(NULL), -EINVAL);
	CHECK_EQ(vms_space_deactivate(NULL), -EINVAL);
	CHECK_OK(vms_space_destroy(s));
	CHECK_EQ(vmt_stats(p).spaces, 0);
	CHECK_OK(vms_pool_destroy(p));
}

struct act_arg {
	struct vms_space *mine, *other;
	atomic_int step;
	struct vms_space *seen;
};

static void *act_thread(void *arg)
{
	struct act_arg *a = arg;

	CHECK(vms_space_current() == NULL);	/* fresh thread: nothing active */
	CHECK_OK(vms_space_activate(a->mine));
	CHECK(vms_space_current() == a->mine);
	/* Not this thread's current space. */
	CHECK_EQ(vms_space_deactivate(a->other), -EINVAL);
	atomic_store(&a->step, 1);
	WAIT_FLAG(&a->step, 2);
	a->seen = vms_space_current();
	return NULL;	/* exits with a->mine still active */
}

TEST(space_activation_per_thread)
{
	struct vms_pool *p = vmt_pool(4 * MiB);
	struct vms_space *a, *b;
	struct act_arg arg = { 0 };
	pthread_t t;

	CHECK_OK(vms_space_new(p, 0, &a));
	CHECK_OK(vms_space_new(p, 0, &b));
	CHECK(vms_space_current() == NULL);
	CHECK_OK(vms_space_activate(a));
	CHECK_OK(vms_space_activate(a));	/* no-op */
	arg.mine = b;
	arg.other = a;
	t = vmt_thread(act_thread, &arg);
	WAIT_FLAG(&arg.step, 1);
	CHECK(vms_space_current() == a);	/* b's activation did not leak here */
	CHECK_EQ(vms_space_destroy(b), -EBUSY);	/* active on the thread */
	CHECK_EQ(vms_space_destroy(a), -EBUSY);	/* active here */
	atomic_store(&arg.step, 2);
	vmt_join(t);
	CHECK(arg.seen == b);
	/* The thread's exit deactivated b. */
	CHECK_OK(vms_space_destroy(b));

	/* Switching deactivates the old one. */
	CHECK_OK(vms_space_new(p, 0, &b));
	CHECK_OK(vms_space_activate(b));
	CHECK(vms_space_current() == b);
	CHECK_EQ(vms_space_deactivate(a), -EINVAL);
	CHECK_OK(vms_space_destroy(a));
	CHECK_OK(vms_space_deactivate(b));
	CHECK(vms_space_current() == NULL);
	CHECK_EQ(vms_space_deactivate(b), -EINVAL);
	CHECK_OK(vms_space_destroy(b));
	CHECK_OK(vms_pool_destroy(p));
}

TEST(space_destroy_busy)
{
	struct vmt_env e;
	struct vms_cursor *c;
	struct vms_reader *r;

	vmt_env_init(&e, 4 * MiB, 0);
	vmt_map_new(e.space, 0x1000, 1, PROP_RW, false);
	CHECK_OK(vms_cursor_new(e.space, 0x1000, 0x2000, &c));
	CHECK_EQ(vms_space_destroy(e.space), -EBUSY);
	vms_cursor_drop(c);

	CHECK_OK(vms_space_activate(e.space));
	CHECK_OK(vms_space_create_reader(e.space, 0x1000, 0x10, &r));
	CHECK_OK(vms_space_deactivate(e.space));
	/* A created (not even activated) accessor keeps the space. */
	CHECK_EQ(vms_space_destroy(e.space), -EBUSY);
	CHECK_OK(vms_reader_release(r));
	CHECK_EQ(vmt_stats(e.pool).spaces, 1);
	/* The space is intact after the refusals. */
	CHECK_CLEAN(e.space);
	vmt_env_fini(&e);	/* destroys a space that still has a mapping */
}

TEST(access_requires_active_space)
{
	struct vmt_env e;
	struct vms_space *other;
	struct vms_reader *r = NULL;
	struct vms_writer *w = NULL;
	char buf[8];

	vmt_env_init(&e, 4 * MiB, 0);
	CHECK_OK(vms_space_new(e.pool, 0, &other));
	vmt_map_new(e.space, 0x1000, 1, PROP_RW, false);
	CHECK_EQ(vms_space_create_reader(e.space, 0x1000, 8, &r), -EACCES);
	CHECK_EQ(vms_space_create_writer(e.space, 0x1000, 8, &w), -EACCES);
	CHECK_OK(vms_space_activate(other));
	CHECK_EQ(vms_space_create_reader(e.space, 0x1000, 8, &r), -EACCES);
	CHECK_OK(vms_space_activate(e.space));
	CHECK_OK(vms_space_create_reader(e.space, 0x1000, 8, &r));
	CHECK_OK(vms_space_create_writer(e.space, 0x1800, 8, &w));
	/* Not active yet: copies refused. */
	CHECK_EQ(vms_reader_read(r, buf, 8), -EINVAL);
	CHECK_EQ(vms_writer_write(w, buf, 8), -EINVAL);
	CHECK_OK(vms_space_activate(other));
	CHECK_EQ(vms_space_activate_reader(e.space, r), -EACCES);
	CHECK_OK(vms_space_activate(e.space));
	/* From the wrong space, or twice. */
	CHECK_EQ(vms_space_activate_reader(other, r), -EINVAL);
	CHECK_OK(vms_space_activate_reader(e.space, r));
	CHECK_EQ(vms_space_activate_reader(e.space, r), -EINVAL);
	CHECK_OK(vms_space_activate_writer(e.space, w));
	CHECK_OK(vms_space_deactivate(e.space));
	CHECK_EQ(vms_reader_read(r, buf, 8), -EACCES);
	CHECK_EQ(vms_writer_write(w, buf, 8), -EACCES);
	CHECK_OK(vms_space_activate(e.space));
	CHECK_EQ(vms_reader_read(r, buf, 8), 8);
	CHECK_OK(vms_reader_release(r));
	CHECK_OK(vms_writer_release(w));
	CHECK_OK(vms_reader_release(NULL));
	CHECK_OK(vms_writer_release(NULL));
	CHECK_OK(vms_space_deactivate(e.space));
	CHECK_OK(vms_space_destroy(other));
	vmt_env_fini(&e);
}

TEST(access_create_arg_rules)
{
	struct vmt_env e;
	struct vms_reader *r = NULL;
	struct vms_writer *w = NULL;
	const uint64_t max = VMS_MAX_USERSPACE_VADDR;

	vmt_env_init(&e, 4 * MiB, 0);
	CHECK_OK(vms_space_activate(e.space));
	CHECK_EQ(vms_space_create_reader(e.space, 0, K4, &r), -EINVAL);
	CHECK_EQ(vms_space_create_writer(e.space, 0, K4, &w), -EINVAL);
	CHECK_EQ(vms_space_create_reader(e.space, K4, 0, &r), -EINVAL);
	CHECK_EQ(vms_space_create_writer(e.space, K4, 0, &w), -EINVAL);
	CHECK_EQ(vms_space_create_reader(e.space, K4, ~0ULL, &r), -EINVAL);
	CHECK_EQ(vms_space_create_writer(e.space, 0x1000, 0ULL - 0x800, &w), -EINVAL);
	CHECK_EQ(vms_space_create_reader(e.space, max - K4, K4 + 1, &r), -EINVAL);
	CHECK_EQ(vms_space_create_writer(e.space, max, K4, &w), -EINVAL);
	CHECK_EQ(vms_space_create_reader(e.space, VMS_USER_END, K4, &r), -EINVAL);
	CHECK_EQ(vms_space_create_reader(NULL, K4, K4, &r), -EINVAL);
	CHECK_EQ(vms_space_create_reader(e.space, K4, K4, NULL), -EINVAL);
	CHECK(r == NULL && w == NULL);
	/* Up to MAX_USERSPACE_VADDR exactly, and unaligned is fine. */
	CHECK_OK(vms_space_create_reader(e.space, max - K4, K4, &r));
	CHECK_OK(vms_space_create_writer(e.space, 0x1003, 5, &w));
	CHECK_EQ(vms_reader_remain(r), K4);
	CHECK_EQ(vms_writer_remain(w), 5);
	CHECK_OK(vms_reader_release(r));
	CHECK_OK(vms_writer_release(w));
	vmt_env_fini(&e);
}

/* Map [va, va + len) with 4K pages of @prop. */
static void map_range(struct vms_space *s, vms_vaddr_t va, uint64_t len, struct vms_prop prop)
{
	for (uint64_t off = 0; off < len; off += K4)
		vmt_map_new(s, va + off, 1, prop, false);
}

TEST(access_conflict_rules)
{
	struct vmt_env e;
	struct vms_writer *w1, *w2;
	struct vms_reader *r1, *r2;
	int ret;

	vmt_env_init(&e, 4 * MiB, 0);
	map_range(e.space, 0x10000, 0x10000, PROP_RW);
	CHECK_OK(vms_space_activate(e.space));

	CHECK_OK(vms_space_create_writer(e.space, 0x11000, 0x2000, &w1));
	/* Not registered yet: nothing conflicts with it. */
	CHECK_OK(vms_space_create_writer(e.space, 0x11000, 0x2000, &w2));
	CHECK_OK(vms_space_activate_writer(e.space, w1));
	/* Now registered: an overlapping activation fails. */
	CHECK_EQ(vms_space_activate_writer(e.space, w2), -EBUSY);
	CHECK_OK(vms_writer_release(w2));

	/* Overlapping and touching ranges conflict with a writer. */
	CHECK_EQ(vms_space_create_writer(e.space, 0x12000, 0x2000, &w2), -EBUSY);
	CHECK_EQ(vms_space_create_writer(e.space, 0x13000, 0x1000, &w2), -EBUSY);
	CHECK_EQ(vms_space_create_writer(e.space, 0x10000, 0x1000, &w2), -EBUSY);
	CHECK_EQ(vms_space_create_reader(e.space, 0x13000, 0x1000, &r1), -EBUSY);
	CHECK_EQ(vms_space_create_reader(e.space, 0x10000, 0x1000, &r1), -EBUSY);
	CHECK_EQ(vms_space_create_reader(e.space, 0x11800, 0x10, &r1), -EBUSY);
	/* A one-byte gap is enough. */
	CHECK_OK(vms_space_create_writer(e.space, 0x13001, 0x1000, &w2));
	CHECK_OK(vms_space_activate_writer(e.space, w2));
	CHECK_OK(vms_space_create_reader(e.space, 0x10000, 0xfff, &r1));
	CHECK_OK(vms_space_activate_reader(e.space, r1));

	/* Readers vs readers on a space without SHARED_READERS. */
	/* Refused at creation or at activation (the seed checks readers
	 * against readers only when they join the registry). */
	ret = vms_space_create_reader(e.space, 0x10000, 0x800, &r2);
	if (ret == 0) {
		CHECK_EQ(vms_space_activate_reader(e.space, r2), -EBUSY);
		CHECK_OK(vms_reader_release(r2));
	} else {
		CHECK_EQ(ret, -EBUSY);
	}
	ret = vms_space_create_reader(e.space, 0x10fff, 0x10, &r2);	/* touching */
	if (ret == 0) {
		CHECK_EQ(vms_space_activate_reader(e.space, r2), -EBUSY);
		CHECK_OK(vms_reader_release(r2));
	} else {
		CHECK_EQ(ret, -EBUSY);
	}
	CHECK_OK(vms_space_create_reader(e.space, 0x18000, 0x1000, &r2));
	CHECK_OK(vms_space_activate_reader(e.space, r2));
	CHECK_OK(vms_reader_release(r2));

	/* Releasing makes room. */
	CHECK_OK(vms_writer_release(w1));
	CHECK_OK(vms_space_create_writer(e.space, 0x11000, 0x2000, &w1));
	CHECK_OK(vms_space_activate_writer(e.space, w1));
	CHECK_OK(vms_writer_release(w1));
	CHECK_OK(vms_space_create_reader(e.space, 0x11000, 0x1000, &r2));
	CHECK_OK(vms_space_activate_reader(e.space, r2));
	CHECK_OK(vms_reader_release(r2));

	CHECK_OK(vms_writer_release(w2));
	CHECK_OK(vms_reader_release(r1));
	CHECK_CLEAN(e.space);
	vmt_env_fini(&e);
}

TEST(access_shared_readers)
{
	struct vmt_env e;
	struct vms_reader *r1, *r2, *r3;
	struct vms_writer *w;

	vmt_env_init(&e, 4 * MiB, VMS_SPACE_SHARED_READERS);
	map_range(e.space, 0x10000, 0x4000, PROP_RW);
	CHECK_OK(vms_space_activate(e.space));
	CHECK_OK(vms_space_create_reader(e.space, 0x10000, 0x2000, &r1));
	CHECK_OK(vms_space_activate_reader(e.space, r1));
	CHECK_OK(vms_space_create_reader(e.space, 0x11000, 0x2000, &r2));
	CHECK_OK(vms_space_activate_reader(e.space, r2));
	CHECK_OK(vms_space_create_reader(e.space, 0x10000, 0x2000, &r3));
	CHECK_OK(vms_space_activate_reader(e.space, r3));
	/* Writers still may not overlap (or touch) any reader. */
	CHECK_EQ(vms_space_create_writer(e.space, 0x12000, 0x1000, &w), -EBUSY);
	CHECK_EQ(vms_space_create_writer(e.space, 0x13000, 0x1000, &w), -EBUSY);
	CHECK_OK(vms_space_create_writer(e.space, 0x13001, 0x100, &w));
	CHECK_OK(vms_space_activate_writer(e.space, w));
	CHECK_OK(vms_reader_release(r1));
	CHECK_OK(vms_reader_release(r2));
	CHECK_OK(vms_reader_release(r3));
	CHECK_OK(vms_writer_release(w));
	CHECK_CLEAN(e.space);
	vmt_env_fini(&e);
}

TEST(access_activation_requires_mapped)
{
	struct vmt_env e;
	struct vms_reader *r;
	struct vms_writer *w;

	vmt_env_init(&e, 4 * MiB, 0);
	map_range(e.space, 0x10000, 0x2000, PROP_RW);
	map_range(e.space, 0x13000, 0x1000, PROP_RW);
	CHECK_OK(vms_space_activate(e.space));
	CHECK_OK(vms_space_create_reader(e.space, 0x10000, 0x3001, &r));
	CHECK_EQ(vms_space_activate_reader(e.space, r), -EFAULT);
	CHECK_OK(vms_reader_release(r));
	CHECK_OK(vms_space_create_writer(e.space, 0x10fff, 2, &w));
	CHECK_OK(vms_space_activate_writer(e.space, w));
	CHECK_OK(vms_writer_release(w));
	CHECK_OK(vms_space_create_writer(e.space, 0x12fff, 2, &w));
	CHECK_EQ(vms_space_activate_writer(e.space, w), -EFAULT);
	/* The failed activation did not register it: a reader may touch it. */
	CHECK_OK(vms_space_create_reader(e.space, 0x13000, 0x10, &r));
	CHECK_OK(vms_space_activate_reader(e.space, r));
	CHECK_OK(vms_reader_release(r));
	CHECK_OK(vms_writer_release(w));
	vmt_env_fini(&e);
}

TEST(access_write_read_back)
{
	struct vmt_env e;
	struct vms_reader *r;
	struct vms_writer *w;
	struct vms_frame *f0, *f1;
	unsigned char in[6000], out[6000];
	const vms_vaddr_t va = 0x20000 + 3000;

	vmt_env_init(&e, 4 * MiB, 0);
	f0 = vmt_map_new(e.space, 0x20000, 1, PROP_RW, false);
	f1 = vmt_map_new(e.space, 0x21000, 1, PROP_RW, false);
	vmt_map_new(e.space, 0x22000, 1, PROP_RW, false);
	for (unsigned i = 0; i < sizeof(in); i++)
		in[i] = (unsigned char)(i * 7 + 1);
	CHECK_OK(vms_space_activate(e.space));
	CHECK_OK(vms_space_create_writer(e.space, va, sizeof(in), &w));
	CHECK_OK(vms_space_activate_writer(e.space, w));
	CHECK_EQ(vms_writer_write(w, in, 100), 100);
	CHECK_EQ(vms_writer_remain(w), sizeof(in) - 100);
	CHECK_EQ(vms_writer_write(w, in + 100, sizeof(in)), sizeof(in) - 100);
	CHECK_EQ(vms_writer_remain(w), 0);
	CHECK_EQ(vms_writer_write(w, in, 1), 0);	/* exhausted */
	CHECK_EQ(vms_writer_write(w, in, 0), 0);
	CHECK_OK(vms_writer_release(w));

	/* The bytes landed in the frames at the right offsets. */
	CHECK(memcmp((char *)vms_frame_data(f0) + 3000, in, K4 - 3000) == 0);
	CHECK(memcmp(vms_frame_data(f1), in + (K4 - 3000), K4) == 0);

	CHECK_OK(vms_space_create_reader(e.space, va, sizeof(out), &r));
	CHECK_OK(vms_space_activate_reader(e.space, r));
	memset(out, 0, sizeof(out));
	CHECK_EQ(vms_reader_read(r, out, 0), 0);
	CHECK_EQ(vms_reader_read(r, out, 5000), 5000);
	CHECK_EQ(vms_reader_read(r, out + 5000, 5000), 1000);
	CHECK_EQ(vms_reader_read(r, out, 10), 0);
	CHECK(memcmp(in, out, sizeof(in)) == 0);
	CHECK_OK(vms_reader_release(r));
	vmt_env_fini(&e);
}

TEST(access_partial_copies)
{
	struct vmt_env e;
	struct vms_reader *r;
	struct vms_writer *w;
	static unsigned char buf[4 * 4096];

	vmt_env_init(&e, 4 * MiB, 0);
	/* Pages: 0x10000 RW, 0x11000 RW, 0x12000 R, 0x13000 W only, 0x14000 none. */
	map_range(e.space, 0x10000, 0x2000, PROP_RW);
	map_range(e.space, 0x12000, 0x1000, PROP_R);
	map_range(e.space, 0x13000, 0x1000, vmt_prop(VMS_PROP_W));
	map_range(e.space, 0x14000, 0x1000, vmt_prop(0));
	CHECK_OK(vms_space_activate(e.space));

	/* Reading needs R: stops at the W-only page. */
	CHECK_OK(vms_space_create_reader(e.space, 0x10800, 0x3000, &r));
	CHECK_OK(vms_space_activate_reader(e.space, r));
	CHECK_EQ(vms_reader_read(r, buf, sizeof(buf)), 0x2800);
	CHECK_EQ(vms_reader_remain(r), 0x800);
	CHECK_EQ(vms_reader_read(r, buf, sizeof(buf)), -EFAULT);
	CHECK_EQ(vms_reader_remain(r), 0x800);
	CHECK_OK(vms_reader_release(r));

	/* Writing needs R and W: stops at the read-only page. */
	CHECK_OK(vms_space_create_writer(e.space, 0x11000, 0x3000, &w));
	CHECK_OK(vms_space_activate_writer(e.space, w));
	CHECK_EQ(vms_writer_write(w, buf, sizeof(buf)), 0x1000);
	CHECK_EQ(vms_writer_write(w, buf, sizeof(buf)), -EFAULT);
	CHECK_OK(vms_writer_release(w));
	/* A W-only page is not writable either (no R = not present). */
	CHECK_OK(vms_space_create_writer(e.space, 0x13000, 0x1000, &w));
	CHECK_OK(vms_space_activate_writer(e.space, w));
	CHECK_EQ(vms_writer_write(w, buf, 10), -EFAULT);
	CHECK_OK(vms_writer_release(w));
	/* A page with no permission is mapped but faults. */
	CHECK_OK(vms_space_create_reader(e.space, 0x14000, 0x1000, &r));
	CHECK_OK(vms_space_activate_reader(e.space, r));
	CHECK_EQ(vms_reader_read(r, buf, 10), -EFAULT);
	CHECK_OK(vms_reader_release(r));
	vmt_env_fini(&e);
}

TEST(access_stops_at_unmapped_page)
{
	struct vmt_env e;
	struct vms_reader *r;
	struct vms_writer *w;
	static unsigned char buf[3 * 4096];

	vmt_env_init(&e, 4 * MiB, 0);
	map_range(e.space, 0x10000, 0x3000, PROP_RW);
	CHECK_OK(vms_space_activate(e.space));
	CHECK_OK(vms_space_create_reader(e.space, 0x10000, 0x3000, &r));
	CHECK_OK(vms_space_activate_reader(e.space, r));
	/* Unmapped after activation (accessors do not lock the range). */
	CHECK_EQ(vmt_unmap(e.space, 0x12000, K4), 1);
	CHECK_EQ(vms_reader_read(r, buf, sizeof(buf)), 0x2000);
	CHECK_EQ(vms_reader_read(r, buf, sizeof(buf)), -EFAULT);
	CHECK_OK(vms_reader_release(r));
	CHECK_EQ(vmt_unmap(e.space, 0x10000, K4), 1);
	CHECK_OK(vms_space_create_writer(e.space, 0x11000, 0x1000, &w));
	CHECK_OK(vms_space_activate_writer(e.space, w));
	CHECK_EQ(vmt_unmap(e.space, 0x11000, K4), 1);
	CHECK_EQ(vms_writer_write(w, buf, 1), -EFAULT);
	CHECK_OK(vms_writer_release(w));
	CHECK_CLEAN(e.space);
	vmt_env_fini(&e);
}

TEST(access_through_2m_page)
{
	struct vmt_env e;
	struct vms_reader *r;
	struct vms_writer *w;
	struct vms_frame *big;
	static unsigned char in[3 * 4096], out[3 * 4096];

	vmt_env_init(&e, 8 * MiB, 0);
	big = vmt_map_new(e.space, M2, 2, PROP_RW, false);
	for (unsigned i = 0; i < sizeof(in); i++)
		in[i] = (unsigned char)(i ^ (i >> 8));
	CHECK_OK(vms_space_activate(e.space));
	CHECK_OK(vms_space_create_writer(e.space, M2 + 5 * K4 + 17, sizeof(in), &w));
	CHECK_OK(vms_space_activate_writer(e.space, w));
	CHECK_EQ(vms_writer_write(w, in, sizeof(in)), sizeof(in));
	CHECK_OK(vms_writer_release(w));
	CHECK(memcmp((char *)vms_frame_data(big) + 5 * K4 + 17, in, sizeof(in)) == 0);
	CHECK_OK(vms_space_create_reader(e.space, M2 + 5 * K4 + 17, sizeof(out), &r));
	CHECK_OK(vms_space_activate_reader(e.space, r));
	CHECK_EQ(vms_reader_read(r, out, sizeof(out)), sizeof(out));
	CHECK(memcmp(in, out, sizeof(in)) == 0);
	CHECK_OK(vms_reader_release(r));
	vmt_env_fini(&e);
}

struct two_act {
	struct vms_space *s;
	atomic_int step;
};

static void *act_and_exit(void *p)
{
	struct two_act *a = p;

	CHECK_OK(vms_space_activate(a->s));
	atomic_store(&a->step, 1);
	return NULL;	/* exits with it active */
}

TEST(space_active_on_two_threads)
{
	struct vms_pool *p = vmt_pool(4 * MiB);
	struct vms_space *s;
	struct two_act a = { 0 };
	pthread_t t;

	CHECK_OK(vms_space_new(p, 0, &s));
	a.s = s;
	CHECK_OK(vms_space_activate(s));
	t = vmt_thread(act_and_exit, &a);
	vmt_join(t);
	CHECK_EQ(atomic_load(&a.step), 1);
	/* The other thread's exit deactivated its activation only. */
	CHECK_EQ(vms_space_destroy(s), -EBUSY);
	CHECK(vms_space_current() == s);
	CHECK_OK(vms_space_deactivate(s));
	CHECK_OK(vms_space_destroy(s));
	CHECK_OK(vms_pool_destroy(p));
}

TEST(access_check_order)
{
	struct vmt_env e;
	struct vms_space *other;
	struct vms_reader *r = NULL;
	struct vms_writer *w = NULL;
	char buf[4];

	/* access.h fixes the order of the checks; each line below fails two
	 * of them and must report the earlier one. */
	vmt_env_init(&e, 4 * MiB, 0);
	CHECK_OK(vms_space_new(e.pool, 0, &other));
	vmt_map_new(e.space, 0x1000, 1, PROP_RW, false);
	/* not active: NULL @out still wins; bad range loses to -EACCES */
	CHECK_EQ(vms_space_create_reader(e.space, 0x1000, 8, NULL), -EINVAL);
	CHECK_EQ(vms_space_create_writer(NULL, 0, 0, &w), -EINVAL);
	CHECK_EQ(vms_space_create_reader(e.space, 0, 0, &r), -EACCES);
	CHECK_EQ(vms_space_create_writer(e.space, VMS_USER_END, K4, &w), -EACCES);
	CHECK_OK(vms_space_activate(e.space));
	CHECK_OK(vms_space_create_writer(e.space, 0x1000, 8, &w));
	CHECK_OK(vms_space_activate_writer(e.space, w));
	/* active space, conflicting AND bad range: -EINVAL before -EBUSY */
	CHECK_EQ(vms_space_create_reader(e.space, 0x1000, 0, &r), -EINVAL);
	CHECK_EQ(vms_space_create_reader(e.space, 0x1004, 8, &r), -EBUSY);
	CHECK_OK(vms_writer_release(w));
	CHECK_OK(vms_space_create_reader(e.space, 0x1000, 8, &r));
	/* activate: wrong space (and not active there) -> -EINVAL first;
	 * not active here and unmapped -> -EACCES first. */
	CHECK_OK(vms_space_activate(other));
	CHECK_EQ(vms_space_activate_reader(other, r), -EINVAL);
	CHECK_EQ(vms_space_activate_reader(e.space, r), -EACCES);
	/* copy: inactive accessor and inactive space -> -EINVAL first */
	CHECK_EQ(vms_reader_read(r, buf, sizeof(buf)), -EINVAL);
	CHECK_EQ(vms_reader_read(r, NULL, 4), -EINVAL);
	CHECK_EQ(vms_reader_read(NULL, buf, 4), -EINVAL);
	CHECK_OK(vms_space_activate(e.space));
	CHECK_OK(vms_space_activate_reader(e.space, r));
	CHECK_EQ(vms_reader_read(r, NULL, 4), -EINVAL);
	CHECK_EQ(vms_reader_read(r, NULL, 0), 0);
	CHECK_OK(vms_space_activate(other));
	CHECK_EQ(vms_reader_read(r, NULL, 4), -EINVAL);	/* before -EACCES */
	CHECK_EQ(vms_reader_read(r, buf, 4), -EACCES);
	CHECK_OK(vms_reader_release(r));
	CHECK_OK(vms_space_deactivate(other));
	CHECK_OK(vms_space_destroy(other));
	vmt_env_fini(&e);
}
