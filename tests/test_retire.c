/* SPDX-License-Identifier: MIT */
/*
 * test_retire.c - deferred releases batched per thread (pool.h): what a
 * thread's batch holds is released only once the batch is handed over
 * (full, thread exit, another pool) or a quiesce takes it, whichever
 * thread calls quiesce; the retire batch knob and what it counts; and
 * that a session takes nothing from the heap once its thread is warm.
 * Releases by the reclaimer thread are awaited with a deadline that only
 * catches a hang, never a slowness.
 */
#include <malloc.h>

#include "test.h"

#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || \
	__has_feature(memory_sanitizer)
#define VMT_SANITIZED 1
#include <sanitizer/allocator_interface.h>
#endif
#endif

/* One session that maps @f (taking a handle for it) at @va and unmaps it
 * again: one deferred release of @f. */
static void retire_one(struct vms_space *s, vms_vaddr_t va, struct vms_frame *f)
{
	uint64_t size = vms_page_size(vms_frame_level(f));
	struct vms_cursor *c;

	CHECK_OK(vms_frame_get(f));
	CHECK_OK(vms_cursor_mut_new(s, va, va + size, &c));
	CHECK_EQ(vms_cursor_map(c, f, PROP_RW), 0);
	CHECK_OK(vms_cursor_jump(c, va));
	CHECK_EQ(vms_cursor_unmap(c, size), 1);
	vms_cursor_drop(c);
}

/* Wait for the reclaimer to bring @f's refcount down to @want. */
static void wait_refcount_at(struct vms_frame *f, uint64_t want, const char *file, int line)
{
	unsigned ms = vmt_timeout_s * 500;

	for (unsigned i = 0; i < ms; i++) {
		if (vms_frame_refcount(f) == want)
			return;
		vmt_nap_ms(1);
	}
	vmt_fail(file, line, "waited %u s for refcount %" PRIu64 " (it is %" PRIu64 "): "
		 "a handed-over batch was never released", ms / 1000, want, vms_frame_refcount(f));
}
#define WAIT_REFCOUNT(f, v) wait_refcount_at((f), (v), __FILE__, __LINE__)
/* Wait until only our handle is left on @f, then put it. */
#define WAIT_RELEASED_PUT(f)						\
	do {								\
		WAIT_REFCOUNT((f), 1);					\
		CHECK_OK(vms_frame_put(f));				\
	} while (0)

/* A 4 MiB pool with retire batch @batch (0: the default), its space, and
 * a 4 KiB frame we hold a handle on. */
static struct vms_frame *env_with_batch(struct vmt_env *e, unsigned batch)
{
	vmt_env_init(e, 4 * MiB, 0);
	if (batch)
		CHECK_OK(vms_pool_set_retire_batch(e->pool, batch));
	return vmt_alloc(e->pool, 1);
}

TEST(retire_batch_bad_args)
{
	struct vms_pool *p = vmt_pool(4 * MiB);

	CHECK_EQ(vms_pool_set_retire_batch(NULL, 1), -EINVAL);
	CHECK_EQ(vms_pool_set_retire_batch(p, 0), -EINVAL);
	CHECK_EQ(vms_pool_set_retire_batch(p, VMS_RETIRE_BATCH_MAX + 1), -EINVAL);
	CHECK_OK(vms_pool_set_retire_batch(p, VMS_RETIRE_BATCH_MAX));
	CHECK_OK(vms_pool_set_retire_batch(p, 1));
	CHECK_OK(vms_pool_destroy(p));
}

/* Below the retire batch nothing reaches the reclaimer: the releases stay
 * pending (and counted) until the batch fills, then go without a quiesce. */
TEST(retire_held_until_batch_full)
{
	struct vms_frame *f[4];
	struct vmt_env e;

	f[0] = env_with_batch(&e, 4);
	for (int i = 1; i < 4; i++)
		f[i] = vmt_alloc(e.pool, 1);
	for (int i = 0; i < 3; i++)
		retire_one(e.space, 0x10000, f[i]);
	vmt_nap_ms(20);		/* a wrongly kicked reclaimer would run now */
	for (int i = 0; i < 3; i++)
		CHECK_EQ(vms_frame_refcount(f[i]), 2);
	CHECK_EQ(vmt_stats(e.pool).deferred, 3);
	retire_one(e.space, 0x10000, f[3]);
	for (int i = 0; i < 4; i++)
		WAIT_RELEASED_PUT(f[i]);
	CHECK_EQ(vmt_stats(e.pool).deferred, 0);
	vmt_env_fini(&e);
}

/* A frame retired again right after itself holds nothing more back: it
 * weighs nothing, and the batch fills by other frames. */
TEST(retire_repeats_weigh_once)
{
	struct vms_frame *f, *g[3];
	struct vmt_env e;

	f = env_with_batch(&e, 4);
	for (int i = 0; i < 3; i++)
		g[i] = vmt_alloc(e.pool, 1);
	for (int i = 0; i < 10; i++)
		retire_one(e.space, 0x10000, f);
	vmt_nap_ms(20);
	CHECK_EQ(vms_frame_refcount(f), 1 + 10);
	for (int i = 0; i < 3; i++)
		retire_one(e.space, 0x10000, g[i]);
	WAIT_REFCOUNT(f, 1);
	for (int i = 0; i < 3; i++)
		WAIT_RELEASED_PUT(g[i]);
	CHECK_OK(vms_frame_put(f));
	vmt_env_fini(&e);
}

/* Retire batch 1: every drop that removed something wakes the reclaimer. */
TEST(retire_batch_one_releases_every_drop)
{
	struct vmt_env e;
	struct vms_frame *f;

	f = env_with_batch(&e, 1);
	for (int i = 0; i < 3; i++) {
		retire_one(e.space, 0x10000, f);
		WAIT_REFCOUNT(f, 1);
	}
	CHECK_OK(vms_frame_put(f));
	vmt_env_fini(&e);
}

/* The retire batch counts what is held back: a 2 MiB frame weighs 512
 * 4 KiB ones, so it fills a batch that a 4 KiB frame does not. */
TEST(retire_batch_weighs_2m_frames)
{
	struct vms_frame *small, *big;
	struct vmt_env e;

	vmt_env_init(&e, 8 * MiB, 0);
	CHECK_OK(vms_pool_set_retire_batch(e.pool, 512));
	small = vmt_alloc(e.pool, 1);
	big = vmt_alloc(e.pool, 2);
	retire_one(e.space, 0x10000, small);
	vmt_nap_ms(20);		/* a wrongly kicked reclaimer would run now */
	CHECK_EQ(vms_frame_refcount(small), 2);
	retire_one(e.space, 2 * M2, big);
	WAIT_RELEASED_PUT(big);
	WAIT_RELEASED_PUT(small);
	vmt_env_fini(&e);
}

/* With the pool used up and page-table nodes waiting in this thread's
 * batch, a cursor that needs a new node gets them back itself. */
TEST(retire_cursor_new_reclaims_when_pool_empty)
{
	static struct vms_frame *all[1024];
	struct vms_cursor *c;
	struct vmt_env e;
	unsigned n = 0;

	vmt_env_init(&e, 4 * MiB, 0);
	CHECK_OK(vms_pool_set_retire_batch(e.pool, VMS_RETIRE_BATCH_MAX));
	vmt_map_new(e.space, G1 + 0x5000, 1, PROP_RW, false);
	while (n < 1024 && !vms_frame_alloc(e.pool, 1, &all[n]))
		n++;
	CHECK(n < 1024);
	/* The 1 GiB slot's table goes whole (one item), with its leaf table
	 * and frame, and waits. */
	CHECK_EQ(vmt_unmap(e.space, G1, G1), 1);
	CHECK_EQ(vmt_stats(e.pool).deferred, 1);
	CHECK_EQ(vmt_stats(e.pool).free_frames, 0);
	/* A range in another 1 GiB slot needs two new nodes. */
	CHECK_OK(vms_cursor_mut_new(e.space, 3 * G1, 3 * G1 + K4, &c));
	CHECK_EQ(vms__debug_cursor_guard_level(c), 1);
	vms_cursor_drop(c);
	while (n)
		CHECK_OK(vms_frame_put(all[--n]));
	vmt_env_fini(&e);
}

/* With less than an eighth of the pool free, the thread that hands a
 * batch over reclaims it itself, before its drop returns. */
TEST(retire_direct_reclaim_when_pool_low)
{
	static struct vms_frame *all[1024];
	struct vmt_env e;
	struct vms_frame *f;
	unsigned n = 0;

	f = env_with_batch(&e, 1);
	retire_one(e.space, 0x10000, f);	/* the tree's nodes, then plenty free */
	WAIT_REFCOUNT(f, 1);
	while (vmt_stats(e.pool).free_frames > 16)
		CHECK_OK(vms_frame_alloc(e.pool, 1, &all[n++]));
	for (int i = 0; i < 3; i++) {
		retire_one(e.space, 0x10000, f);
		CHECK_EQ(vms_frame_refcount(f), 1);
	}
	while (n)
		CHECK_OK(vms_frame_put(all[--n]));
	CHECK_OK(vms_frame_put(f));
	vmt_env_fini(&e);
}

/* Inline reclaim (vms_pool_set_reclaim_inline): a hand-over releases on
 * the calling thread before its drop returns, and no reclaimer thread
 * ever starts; inside a read-side section (another cursor held) the batch
 * waits for the next reclaim. Without the setting the thread starts. */
TEST(retire_inline_reclaim_no_thread)
{
	struct vms_space *other;
	struct vms_cursor *held;
	struct vms_frame *f;
	struct vmt_env e;

	f = env_with_batch(&e, 1);
	CHECK_EQ(vms_pool_set_reclaim_inline(NULL, true), -EINVAL);
	CHECK_OK(vms_pool_set_reclaim_inline(e.pool, true));
	for (int i = 0; i < 3; i++) {
		retire_one(e.space, 0x10000, f);
		CHECK_EQ(vms_frame_refcount(f), 1);
		CHECK_EQ(vmt_stats(e.pool).deferred, 0);
	}
	CHECK_OK(vms_space_new(e.pool, 0, &other));
	CHECK_OK(vms_cursor_new(other, 0, K4, &held));
	retire_one(e.space, 0x10000, f); /* handed over inside a read section */
	vmt_nap_ms(20); /* a wrongly kicked reclaimer would run now */
	CHECK_EQ(vms_frame_refcount(f), 2);
	CHECK_EQ(vmt_stats(e.pool).deferred, 1);
	vms_cursor_drop(held);
	retire_one(e.space, 0x10000, f); /* the next hand-over takes both */
	CHECK_EQ(vms_frame_refcount(f), 1);
	CHECK_EQ(vms__debug_reclaimer_starts(e.pool), 0);
	CHECK_OK(vms_pool_set_reclaim_inline(e.pool, false));
	retire_one(e.space, 0x10000, f);
	WAIT_REFCOUNT(f, 1);
	CHECK_EQ(vms__debug_reclaimer_starts(e.pool), 1);
	CHECK_OK(vms_frame_put(f));
	CHECK_OK(vms_space_destroy(other));
	vmt_env_fini(&e);
}

struct holder {
	struct vms_space *space;
	struct vms_frame *frame;
	atomic_int retired, release;
};

/* Retire one release into this thread's batch, then stay alive with it. */
static void *hold_batch(void *p)
{
	struct holder *h = p;

	retire_one(h->space, 0x20000, h->frame);
	atomic_store(&h->retired, 1);
	WAIT_FLAG(&h->release, 1);
	return NULL;
}

/* vms_pool_quiesce releases what another, still running, thread holds in
 * its batch. */
TEST(retire_quiesce_takes_other_threads_batch)
{
	struct holder h = { 0 };
	struct vmt_env e;
	pthread_t t;

	h.frame = env_with_batch(&e, 0);
	h.space = e.space;
	t = vmt_thread(hold_batch, &h);
	WAIT_FLAG(&h.retired, 1);
	CHECK_EQ(vms_frame_refcount(h.frame), 2);
	CHECK_EQ(vmt_stats(e.pool).deferred, 1);
	CHECK_OK(vms_pool_quiesce(e.pool));
	CHECK_EQ(vms_frame_refcount(h.frame), 1);
	CHECK_EQ(vmt_stats(e.pool).deferred, 0);
	atomic_store(&h.release, 1);
	vmt_join(t);
	CHECK_OK(vms_frame_put(h.frame));
	vmt_env_fini(&e);
}

/* A thread that exits hands its batch to the reclaimer: released without
 * a quiesce, and nothing is left behind in a dead thread. */
TEST(retire_thread_exit_hands_over)
{
	struct holder h = { 0 };
	struct vmt_env e;

	h.frame = env_with_batch(&e, 0);
	h.space = e.space;
	atomic_store(&h.release, 1);
	vmt_join(vmt_thread(hold_batch, &h));
	WAIT_REFCOUNT(h.frame, 1);
	CHECK_EQ(vmt_stats(e.pool).deferred, 0);
	CHECK_OK(vms_frame_put(h.frame));
	vmt_env_fini(&e);
}

/* A thread's batch holds one pool's items: retiring into another pool
 * hands the first pool's batch to its reclaimer. */
TEST(retire_other_pool_hands_over)
{
	struct vmt_env a, b;
	struct vms_frame *fa, *fb;

	vmt_env_init(&a, 4 * MiB, 0);
	vmt_env_init(&b, 4 * MiB, 0);
	fa = vmt_alloc(a.pool, 1);
	fb = vmt_alloc(b.pool, 1);
	retire_one(a.space, 0x10000, fa);
	CHECK_EQ(vms_frame_refcount(fa), 2);
	retire_one(b.space, 0x10000, fb);
	WAIT_REFCOUNT(fa, 1);
	CHECK_EQ(vms_frame_refcount(fb), 2);
	CHECK_EQ(vmt_stats(b.pool).deferred, 1);
	CHECK_OK(vms_frame_put(fa));
	CHECK_OK(vms_frame_put(fb));
	vmt_env_fini(&a);
	vmt_env_fini(&b);
}

/* Bytes the heap has handed out and not taken back. */
static size_t heap_in_use(void)
{
#if VMT_SANITIZED
	return __sanitizer_get_current_allocated_bytes();
#else
	return mallinfo2().uordblks;
#endif
}

/* Once a thread has had a session, the next ones take nothing from the
 * heap: the cursor comes from the thread's cursor cache with its defer
 * batch, and the removals join the thread's batch (a new batch is needed
 * only once per retire batch of items), with the default retire batch
 * or a big one alike. */
static void no_heap(unsigned batch)
{
	struct vms_cursor *c;
	struct vmt_env e;
	struct vms_frame *f;
	size_t used;

	f = env_with_batch(&e, batch);
	for (int i = 0; i < 2; i++)	/* the thread's batch, then the cursor's */
		retire_one(e.space, 0x10000, f);
	used = heap_in_use();
	for (int i = 0; i < 100; i++) {
		CHECK_OK(vms_frame_get(f));
		CHECK_OK(vms_cursor_mut_new(e.space, 0x10000, 0x20000, &c));
		CHECK_EQ(heap_in_use(), used);
		CHECK_EQ(vms_cursor_map(c, f, PROP_RW), 0);
		CHECK_OK(vms_cursor_jump(c, 0x10000));
		CHECK_EQ(vms_cursor_unmap(c, K4), 1);
		CHECK_EQ(heap_in_use(), used);
		vms_cursor_drop(c);
		CHECK_EQ(heap_in_use(), used);
	}
	CHECK_OK(vms_pool_quiesce(e.pool));
	CHECK_OK(vms_frame_put(f));
	vmt_env_fini(&e);
}

/* A pool reset makes the pool new: a cached cursor that retired a frame
 * before the reset must not take the frame at the same address afterwards
 * for one it still holds back (it would weigh nothing, and the batch
 * would not fill). Two nested cursors, so that the one that retired the
 * frame is not the one that destroys the space (which hands over). */
TEST(retire_reset_forgets_held_frames)
{
	struct vms_cursor *outer;
	struct vms_frame *f, *g;
	struct vmt_env e;
	vms_paddr_t pa;

	f = env_with_batch(&e, 2);
	pa = vms_frame_paddr(f);
	CHECK_OK(vms_cursor_new(e.space, 4 * MiB, 4 * MiB + K4, &outer));
	retire_one(e.space, 0x10000, f);	/* weighs 1 of 2: held */
	vms_cursor_drop(outer);
	CHECK_OK(vms_frame_put(f));
	CHECK_OK(vms_space_destroy(e.space));
	CHECK_OK(vms_pool_reset(e.pool));
	CHECK_EQ(vmt_stats(e.pool).deferred, 0);

	CHECK_OK(vms_space_new(e.pool, 0, &e.space));
	f = vmt_alloc(e.pool, 1);
	g = vmt_alloc(e.pool, 1);
	CHECK_EQ(vms_frame_paddr(f), pa);	/* a new frame at the old address */
	CHECK_OK(vms_cursor_new(e.space, 4 * MiB, 4 * MiB + K4, &outer));
	retire_one(e.space, 0x10000, f);	/* the cursor that retired pa */
	vms_cursor_drop(outer);
	retire_one(e.space, 0x10000, g);	/* 1 + 1: the batch goes */
	WAIT_RELEASED_PUT(f);
	WAIT_RELEASED_PUT(g);
	vmt_env_fini(&e);
}

TEST(retire_cursor_path_no_heap)
{
	no_heap(0);
	/* Twice the default (kept below malloc's mmap threshold, as
	 * mallinfo2 counts only the heap). */
	no_heap(2 * VMS_RETIRE_BATCH);
}

/* A batch the reclaimer emptied is kept for the next one a cursor needs:
 * with retire batch 1 (every drop hands its batch over, and the cursor
 * needs a new one at its next session) sessions take nothing from the
 * heap once a hand-over came back, even before that batch is released. */
TEST(retire_handover_reuses_batches)
{
	struct vmt_env e;
	struct vms_frame *f;
	size_t used;

	f = env_with_batch(&e, 1);
	/* The tree's nodes, a spare batch, and the reclaimer thread's own
	 * first-run allocations (the sanitizers count every thread's). */
	for (int i = 0; i < 2; i++) {
		retire_one(e.space, 0x10000, f);
		WAIT_REFCOUNT(f, 1);
	}
	CHECK_OK(vms_pool_quiesce(e.pool));
	used = heap_in_use();
	for (int i = 0; i < 100; i++) {
		retire_one(e.space, 0x10000, f);	/* takes the spare */
		CHECK_EQ(heap_in_use(), used);
		CHECK_OK(vms_pool_quiesce(e.pool));	/* gives it back */
		CHECK_EQ(heap_in_use(), used);
	}
	CHECK_OK(vms_frame_put(f));
	vmt_env_fini(&e);
}

struct backlog {
	struct vms_space *space;
	struct vms_frame *frame;
	atomic_int held, done;
	_Atomic uint64_t progress, most;
};

/* Hold a cursor (so no grace period ends) until the retirer is done or
 * has made no progress for 50 ms: blocked, as it should be. */
static void *hold_grace(void *p)
{
	struct backlog *b = p;
	struct vms_cursor *c;
	uint64_t seen = 0, now;

	CHECK_OK(vms_cursor_new(b->space, 64 * MiB, 64 * MiB + K4, &c));
	atomic_store(&b->held, 1);
	while (!atomic_load(&b->done) && ((now = atomic_load(&b->progress)) == 0 || now != seen)) {
		seen = now;
		vmt_nap_ms(50);
	}
	vms_cursor_drop(c);
	return NULL;
}

/* Retire past the backlog bound, noting the most items deferred. */
static void *retire_many(void *p)
{
	struct backlog *b = p;

	for (uint64_t i = 0; i < VMS_RETIRE_BACKLOG + 2000; i++) {
		uint64_t d;

		retire_one(b->space, 0x10000, b->frame);
		d = vmt_stats(vms_space_pool(b->space)).deferred;
		if (d > atomic_load(&b->most))
			atomic_store(&b->most, d);
		atomic_store(&b->progress, i + 1);
	}
	atomic_store(&b->done, 1);
	return NULL;
}

/* While a reader keeps grace periods from ending, the reclaimer cannot
 * release anything: a thread handing batches over stops at
 * VMS_RETIRE_BACKLOG items deferred and reclaims itself (waiting for
 * the reader) instead of piling up batches without bound. */
TEST(retire_backlog_bounded)
{
	struct backlog b = { 0 };
	struct vmt_env e;
	pthread_t r, w;

	b.frame = env_with_batch(&e, 1);
	b.space = e.space;
	retire_one(e.space, 0x10000, b.frame);	/* the tree's nodes */
	CHECK_OK(vms_pool_quiesce(e.pool));
	r = vmt_thread(hold_grace, &b);
	WAIT_FLAG(&b.held, 1);
	w = vmt_thread(retire_many, &b);
	vmt_join(w);
	vmt_join(r);
	CHECK(atomic_load(&b.most) <= VMS_RETIRE_BACKLOG + 1);
	CHECK_OK(vms_pool_quiesce(e.pool));
	CHECK_EQ(vms_frame_refcount(b.frame), 1);
	CHECK_OK(vms_frame_put(b.frame));
	vmt_env_fini(&e);
}
