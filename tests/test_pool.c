/* SPDX-License-Identifier: MIT */
/* test_pool.c - the frame pool: sizes, allocation, handles, accounting. */
#include <sys/mman.h>

#include "test.h"

TEST(pool_new_bad_args)
{
	struct vms_pool *p = (struct vms_pool *)0x1;

	CHECK_EQ(vms_pool_new(0, &p), -EINVAL);
	CHECK_EQ(vms_pool_new(4 * MiB, NULL), -EINVAL);
	CHECK_EQ(vms_pool_new((64ULL << 30) + 1, &p), -EINVAL);
	CHECK_EQ(vms_pool_new(SIZE_MAX, &p), -EINVAL);
	/* A failed call leaves *out alone or NULL, never a live pool. */
	CHECK(p == (struct vms_pool *)0x1 || p == NULL);
	CHECK_EQ(vms_pool_destroy(NULL), -EINVAL);
	CHECK_EQ(vms_pool_quiesce(NULL), -EINVAL);
}

TEST(pool_new_sizes)
{
	struct vms_pool_stats st;
	struct vms_pool *p;

	/* 4 MiB: 1024 frames, frame 0 (physical address 0) never handed out. */
	p = vmt_pool(4 * MiB);
	st = vmt_stats(p);
	CHECK(st.total_frames <= 1024 && st.total_frames >= 1023);
	CHECK_EQ(st.free_frames, st.total_frames);
	CHECK_EQ(st.data_frames, 0);
	CHECK_EQ(st.pt_frames, 0);
	CHECK_EQ(st.deferred, 0);
	CHECK_EQ(st.spaces, 0);
	CHECK_OK(vms_pool_destroy(p));

	/* Rounded up to 2 MiB. */
	p = vmt_pool(6 * MiB + 1);
	st = vmt_stats(p);
	CHECK(st.total_frames >= 2047 && st.total_frames <= 2048);
	CHECK_OK(vms_pool_destroy(p));

	/* The maximum is accepted (lazily committed, so it costs nothing). */
	p = vmt_pool(64ULL << 30);
	st = vmt_stats(p);
	CHECK(st.total_frames >= (16ULL << 20) - 1);
	CHECK_EQ(st.free_frames, st.total_frames);
	CHECK_OK(vms_pool_destroy(p));

	CHECK_EQ(vms_pool_stats(NULL, &st), -EINVAL);
}

TEST(pool_alloc_levels)
{
	struct vms_pool *p = vmt_pool(8 * MiB);
	struct vms_frame *f = (struct vms_frame *)0x1, *a, *b;
	struct vms_pool_stats st;

	CHECK_EQ(vms_frame_alloc(p, 0, &f), -EINVAL);
	CHECK_EQ(vms_frame_alloc(p, 3, &f), -EINVAL);
	CHECK_EQ(vms_frame_alloc(p, -1, &f), -EINVAL);
	CHECK_EQ(vms_frame_alloc(p, 1, NULL), -EINVAL);
	CHECK_EQ(vms_frame_alloc(NULL, 1, &f), -EINVAL);
	CHECK(f == (struct vms_frame *)0x1 || f == NULL);

	b = vmt_alloc(p, 2);
	a = vmt_alloc(p, 1);
	CHECK_EQ(vms_frame_level(a), 1);
	CHECK_EQ(vms_frame_level(b), 2);
	CHECK(vms_frame_paddr(a) != 0);
	CHECK(vms_frame_paddr(b) != 0);
	CHECK_EQ(vms_frame_paddr(a) % K4, 0);
	CHECK_EQ(vms_frame_paddr(b) % M2, 0);
	CHECK_EQ(vms_frame_refcount(a), 1);
	CHECK_EQ(vms_frame_handles(a), 1);
	CHECK_EQ(vms_frame_refcount(b), 1);
	CHECK_EQ(vms_frame_handles(b), 1);

	st = vmt_stats(p);
	CHECK_EQ(st.data_frames, 1 + 512);
	CHECK_CONSERVED(p);

	/* paddr -> frame, for any address inside the frame. */
	CHECK(vms_frame_from_paddr(p, vms_frame_paddr(a)) == a);
	CHECK(vms_frame_from_paddr(p, vms_frame_paddr(a) + 123) == a);
	CHECK(vms_frame_from_paddr(p, vms_frame_paddr(b)) == b);
	CHECK(vms_frame_from_paddr(p, vms_frame_paddr(b) + M2 - 1) == b);
	CHECK(vms_frame_from_paddr(p, vms_frame_paddr(b) + 300 * K4) == b);
	CHECK(vms_frame_from_paddr(p, 0) == NULL);
	CHECK(vms_frame_from_paddr(p, 1ULL << 40) == NULL);
	CHECK(vms_frame_from_paddr(NULL, vms_frame_paddr(a)) == NULL);
	CHECK(vms_frame_data(a) != NULL);
	CHECK(vms_frame_data(b) != NULL);

	CHECK_OK(vms_frame_put(a));
	CHECK_OK(vms_frame_put(b));
	/* Freed: no longer a live data frame. */
	CHECK(vms_frame_from_paddr(p, vms_frame_paddr(b)) == NULL);
	st = vmt_stats(p);
	CHECK_EQ(st.data_frames, 0);
	CHECK_EQ(st.free_frames, st.total_frames);
	CHECK_OK(vms_pool_destroy(p));
}

TEST(pool_alloc_zeroed)
{
	struct vms_pool *p = vmt_pool(4 * MiB);
	static struct vms_frame *f[1024];
	unsigned n = 0, i;
	struct vms_frame *big;
	unsigned char *d;

	/* Dirty every 4K frame, free them all, and get them back: each must
	 * come back zeroed. */
	while (n < 1024 && vms_frame_alloc(p, 1, &f[n]) == 0) {
		memset(vms_frame_data(f[n]), 0xa5, K4);
		n++;
	}
	CHECK(n > 500);
	for (i = 0; i < n; i++)
		CHECK_OK(vms_frame_put(f[i]));
	for (i = 0; i < n; i++) {
		CHECK_OK(vms_frame_alloc(p, 1, &f[i]));
		d = vms_frame_data(f[i]);
		for (unsigned j = 0; j < K4; j++)
			if (d[j])
				CHECK(!"a reused 4K frame is not zeroed");
	}
	for (i = 0; i < n; i++)
		CHECK_OK(vms_frame_put(f[i]));
	CHECK_OK(vms_pool_destroy(p));

	/* Same for a 2 MiB frame. */
	p = vmt_pool(4 * MiB);
	big = vmt_alloc(p, 2);
	memset(vms_frame_data(big), 0x5a, M2);
	CHECK_OK(vms_frame_put(big));
	big = vmt_alloc(p, 2);
	d = vms_frame_data(big);
	for (i = 0; i < M2; i++)
		if (d[i])
			CHECK(!"a reused 2M frame is not zeroed");
	CHECK_OK(vms_frame_put(big));
	CHECK_OK(vms_pool_destroy(p));
}

TEST(pool_get_put_refcounts)
{
	struct vms_pool *p = vmt_pool(4 * MiB);
	struct vms_frame *f = vmt_alloc(p, 1);
	struct vms_pool_stats st;

	CHECK_OK(vms_frame_get(f));
	CHECK_EQ(vms_frame_refcount(f), 2);
	CHECK_EQ(vms_frame_handles(f), 2);
	CHECK_OK(vms_frame_get(f));
	CHECK_EQ(vms_frame_refcount(f), 3);
	CHECK_EQ(vms_frame_handles(f), 3);
	CHECK_OK(vms_frame_put(f));
	CHECK_OK(vms_frame_put(f));
	CHECK_EQ(vms_frame_refcount(f), 1);
	CHECK_EQ(vms_frame_handles(f), 1);
	st = vmt_stats(p);
	CHECK_EQ(st.data_frames, 1);
	CHECK_OK(vms_frame_put(f));
	st = vmt_stats(p);
	CHECK_EQ(st.data_frames, 0);
	CHECK_EQ(st.free_frames, st.total_frames);

	/* Double put and get on a freed frame are refused. */
	CHECK_EQ(vms_frame_put(f), -EINVAL);
	CHECK_EQ(vms_frame_get(f), -EINVAL);
	st = vmt_stats(p);
	CHECK_EQ(st.free_frames, st.total_frames);

	CHECK_EQ(vms_frame_get(NULL), -EINVAL);
	CHECK_EQ(vms_frame_put(NULL), -EINVAL);
	CHECK_EQ(vms_frame_refcount(NULL), 0);
	CHECK_EQ(vms_frame_handles(NULL), 0);
	CHECK_EQ(vms_frame_paddr(NULL), 0);
	CHECK_EQ(vms_frame_level(NULL), 0);
	CHECK(vms_frame_data(NULL) == NULL);
	CHECK_OK(vms_pool_destroy(p));
}

TEST(pool_put_without_handle)
{
	struct vmt_env e;
	struct vms_frame *f;

	/* A mapped frame whose only handle went into the PTE: the caller
	 * holds nothing, so a put must be refused and change nothing. */
	vmt_env_init(&e, 4 * MiB, 0);
	f = vmt_map_new(e.space, 0x10000, 1, PROP_RW, false);
	CHECK_EQ(vms_frame_handles(f), 0);
	CHECK_EQ(vms_frame_refcount(f), 1);
	CHECK_EQ(vms_frame_put(f), -EINVAL);
	CHECK_EQ(vms_frame_refcount(f), 1);
	CHECK_EQ(vms_frame_handles(f), 0);
	CHECK_CLEAN(e.space);
	vmt_env_fini(&e);
}

TEST(pool_exhaustion)
{
	struct vms_pool *p = vmt_pool(4 * MiB);
	static struct vms_frame *f[1024];
	struct vms_frame *big, *x;
	struct vms_pool_stats st;
	unsigned n = 0, i;
	int r;

	/* Two chunks: frame 0 lives in the first, so only one 2M frame. */
	big = vmt_alloc(p, 2);
	CHECK_EQ(vms_frame_alloc(p, 2, &x), -ENOMEM);
	st = vmt_stats(p);
	CHECK_CONSERVED(p);
	while ((r = vms_frame_alloc(p, 1, &f[n])) == 0) {
		n++;
		CHECK(n < 1024);
	}
	CHECK_EQ(r, -ENOMEM);
	CHECK_EQ(n, st.free_frames);
	st = vmt_stats(p);
	CHECK_EQ(st.free_frames, 0);
	CHECK_CONSERVED(p);

	/* One free frame makes one allocation possible again. */
	CHECK_OK(vms_frame_put(f[n - 1]));
	CHECK_OK(vms_frame_alloc(p, 1, &f[n - 1]));
	CHECK_EQ(vms_frame_alloc(p, 1, &x), -ENOMEM);

	/* Freeing the 2M frame gives its chunk back for another 2M frame. */
	CHECK_OK(vms_frame_put(big));
	big = vmt_alloc(p, 2);
	CHECK_OK(vms_frame_put(big));

	for (i = 0; i < n; i++)
		CHECK_OK(vms_frame_put(f[i]));
	st = vmt_stats(p);
	CHECK_EQ(st.free_frames, st.total_frames);
	CHECK_EQ(st.data_frames, 0);
	CHECK_OK(vms_pool_destroy(p));
}

TEST(pool_stats_conservation)
{
	struct vmt_env e;
	struct vms_frame *a, *b;
	struct vms_pool_stats st;

	vmt_env_init(&e, 16 * MiB, 0);
	CHECK_CONSERVED(e.pool);
	st = vmt_stats(e.pool);
	CHECK_EQ(st.spaces, 1);
	CHECK(st.pt_frames >= 1);	/* the root */
	a = vmt_map_new(e.space, 0x400000, 2, PROP_RW, false);
	b = vmt_map_new(e.space, 0x1000, 1, PROP_RW, true);
	CHECK_CONSERVED(e.pool);
	st = vmt_stats(e.pool);
	CHECK_EQ(st.data_frames, 513);
	CHECK(st.pt_frames >= 3);
	CHECK_EQ(vms_frame_refcount(a), 1);
	CHECK_EQ(vms_frame_refcount(b), 2);
	CHECK_EQ(vmt_unmap(e.space, 0, 8 * MiB), 2);
	CHECK_CONSERVED(e.pool);
	CHECK_OK(vms_pool_quiesce(e.pool));
	CHECK_CONSERVED(e.pool);
	st = vmt_stats(e.pool);
	CHECK_EQ(st.data_frames, 1);
	CHECK_EQ(st.deferred, 0);
	CHECK_EQ(vms_frame_refcount(b), 1);
	CHECK_OK(vms_frame_put(b));
	CHECK_CLEAN(e.space);
	vmt_env_fini(&e);
}

TEST(pool_destroy_busy)
{
	struct vms_pool *p = vmt_pool(4 * MiB);
	struct vms_frame *f = vmt_alloc(p, 1);
	struct vms_space *s;

	CHECK_EQ(vms_pool_destroy(p), -EBUSY);
	/* The pool survived: it still works. */
	CHECK_EQ(vms_frame_refcount(f), 1);
	CHECK_OK(vms_frame_put(f));

	CHECK_OK(vms_space_new(p, 0, &s));
	CHECK_EQ(vms_pool_destroy(p), -EBUSY);
	CHECK_EQ(vmt_stats(p).spaces, 1);
	CHECK_OK(vms_space_destroy(s));
	CHECK_OK(vms_pool_destroy(p));
}

TEST(pool_destroy_mapped_frame_busy)
{
	struct vmt_env e;
	struct vms_frame *f;

	vmt_env_init(&e, 4 * MiB, 0);
	f = vmt_map_new(e.space, 0x2000, 1, PROP_RW, true);
	/* A handle outlives the space that mapped the frame. */
	CHECK_OK(vms_space_destroy(e.space));
	CHECK_OK(vms_pool_quiesce(e.pool));
	CHECK_EQ(vms_frame_refcount(f), 1);
	CHECK_EQ(vms_pool_destroy(e.pool), -EBUSY);
	CHECK_OK(vms_frame_put(f));
	CHECK_OK(vms_pool_destroy(e.pool));
}

/* ---- vms_pool_reset ----------------------------------------------------- */

static bool all_zero(const struct vms_frame *f)
{
	static const unsigned char zero[K4];
	const unsigned char *d = vms_frame_peek(f);
	uint64_t size = vms_page_size(vms_frame_level(f));

	for (uint64_t o = 0; o < size; o += K4)
		if (memcmp(d + o, zero, K4))
			return false;
	return true;
}

/* Write @byte over [va, va + len) of @s (active) through a writer. */
static void write_through(struct vms_space *s, vms_vaddr_t va, uint64_t len, int byte)
{
	static unsigned char buf[64 << 10];
	struct vms_writer *w = NULL;

	memset(buf, byte, sizeof(buf));
	CHECK_OK(vms_space_create_writer(s, va, len, &w));
	CHECK_OK(vms_space_activate_writer(s, w));
	for (uint64_t done = 0, k; done < len; done += k) {
		k = len - done < sizeof(buf) ? len - done : sizeof(buf);
		CHECK_EQ(vms_writer_write(w, buf, k), (long)k);
	}
	CHECK_OK(vms_writer_release(w));
}

/*
 * One program: frames of both sizes, a tree, writes through an accessor,
 * everything given back. Logs the physical address of every frame and of
 * every page-table node it reaches (through the PTEs above them); every
 * new frame must be all zero.
 */
static size_t reset_script(struct vms_pool *p, uint64_t *log)
{
	struct vms_frame *f[10];
	struct vms_space *s;
	size_t n = 0;

	CHECK_OK(vms_space_new(p, 0, &s));
	CHECK_OK(vms_space_activate(s));
	for (int i = 0; i < 10; i++) {
		f[i] = vmt_alloc(p, i == 0 || i == 9 ? 2 : 1);
		CHECK(all_zero(f[i]));
		log[n++] = vms_frame_paddr(f[i]);
	}
	CHECK_OK(vmt_map(s, 2 * MiB, f[0], PROP_RW));
	for (int i = 1; i < 9; i++)
		CHECK_OK(vmt_map(s, 4 * MiB + (i - 1) * K4, f[i], PROP_RW));
	CHECK_OK(vmt_map(s, 6 * MiB, f[9], PROP_RW));
	for (int level = 4; level >= 2; level--)
		log[n++] = *vms__debug_pte(s, 4 * MiB, level);
	write_through(s, 2 * MiB, 2 * MiB, 0x11);
	write_through(s, 4 * MiB, 8 * K4, 0x22);
	write_through(s, 6 * MiB, 2 * MiB, 0x33);
	CHECK_EQ(vmt_unmap(s, 2 * MiB, 6 * MiB), 10);
	CHECK_OK(vms_space_deactivate(s));
	CHECK_OK(vms_space_destroy(s));
	return n;
}

/* Dirty the chunks reset_script gets as 2 MiB frames: chunk 1 as 4K
 * frames written through vms_frame_data, chunk 2 as a 2 MiB frame written
 * through an accessor only; then give everything back. */
static void dirty_chunks(struct vms_pool *p)
{
	struct vms_frame *small[600], *big;
	struct vms_space *s;

	for (int i = 0; i < 600; i++) {
		small[i] = vmt_alloc(p, 1);
		memset(vms_frame_data(small[i]), 0xa5, K4);
	}
	CHECK_OK(vms_space_new(p, 0, &s));
	CHECK_OK(vms_space_activate(s));
	big = vmt_map_new(s, 8 * MiB, 2, PROP_RW, false);
	write_through(s, 8 * MiB, 2 * MiB, 0x5a);
	CHECK_EQ(*(const unsigned char *)vms_frame_peek(big), 0x5a);
	for (int i = 0; i < 600; i++)
		CHECK_OK(vms_frame_put(small[i]));
	CHECK_EQ(vmt_unmap(s, 8 * MiB, 2 * MiB), 1);
	CHECK_OK(vms_space_deactivate(s));
	CHECK_OK(vms_space_destroy(s));
}

/* What a new pool looks like: its stats, and what reset_script logs on it. */
struct like_new {
	struct vms_pool_stats st0;
	uint64_t log[16];
	size_t n;
};

/* Record a new pool of @bytes in @ln, destroy it, and return another pool
 * of that size with its chunks dirtied. */
static struct vms_pool *dirty_after_new(struct like_new *ln, size_t bytes)
{
	struct vms_pool *p = vmt_pool(bytes);

	ln->st0 = vmt_stats(p);
	ln->n = reset_script(p, ln->log);
	CHECK_OK(vms_pool_destroy(p));
	p = vmt_pool(bytes);
	dirty_chunks(p);
	return p;
}

/* @p has the stats of the pool in @ln, and the same program gets the same
 * frames and nodes from it, zeroed (reset_script checks each). */
static void check_like_new(const struct like_new *ln, struct vms_pool *p)
{
	struct vms_pool_stats st = vmt_stats(p);
	uint64_t again[16];

	CHECK(!memcmp(&st, &ln->st0, sizeof(st)));
	CHECK_EQ(reset_script(p, again), ln->n);
	for (size_t i = 0; i < ln->n; i++)
		CHECK_EQ(again[i], ln->log[i]);
}

TEST(pool_reset_like_new)
{
	struct like_new ln;
	struct vms_pool *p = dirty_after_new(&ln, 64 * MiB);

	for (int round = 0; round < 2; round++) {
		CHECK_OK(vms_pool_reset(p));
		check_like_new(&ln, p);
	}
	CHECK_OK(vms_pool_destroy(p));
}

/* The base of the linear map @f's pool hands out frames from. */
static const char *map_base(struct vms_frame *f)
{
	return (const char *)vms_frame_peek(f) - vms_frame_paddr(f);
}

/* A pool destroyed idle leaves its memory to the next pool of its size
 * (pool.c): that pool is a new one all the same, same addresses, zeroed
 * frames, the stats of a new pool. */
TEST(pool_new_after_destroy_like_new)
{
	struct like_new ln;
	struct vms_pool *p = dirty_after_new(&ln, 46 * MiB);
	struct vms_frame *f;
	const void *at;

	f = vmt_alloc(p, 1);
	/* The linear map's base. */
	at = map_base(f);
	CHECK_OK(vms_frame_put(f));
	CHECK_OK(vms_pool_destroy(p));

	p = vmt_pool(46 * MiB);
	check_like_new(&ln, p);
	f = vmt_alloc(p, 1);
	/* The memory was kept. */
	CHECK(map_base(f) == at);
	CHECK_OK(vms_frame_put(f));
	CHECK_OK(vms_pool_destroy(p));
}

/* A smaller pool gets the memory a larger one left (no kept memory fits
 * it better: no other test makes a pool of 52 or 54 MiB) and is a new
 * pool all the same: the dirtied pages it hands out come back zeroed. */
TEST(pool_new_in_larger_kept_memory)
{
	struct like_new ln;
	struct vms_pool *big = vmt_pool(54 * MiB), *p;
	struct vms_frame *f;
	const void *at;

	dirty_chunks(big);
	f = vmt_alloc(big, 1);
	at = map_base(f);
	CHECK_OK(vms_frame_put(f));
	/* What a new pool of 52 MiB looks like, made while the larger
	 * pool's memory is still in use. */
	p = vmt_pool(52 * MiB);
	ln.st0 = vmt_stats(p);
	ln.n = reset_script(p, ln.log);
	CHECK_OK(vms_pool_destroy(big));

	big = vmt_pool(52 * MiB);
	f = vmt_alloc(big, 1);
	CHECK(map_base(f) == at);
	CHECK_OK(vms_frame_put(f));
	CHECK_OK(vms_pool_reset(big));
	check_like_new(&ln, big);
	CHECK_OK(vms_pool_destroy(big));
	CHECK_OK(vms_pool_destroy(p));
}

/* Kept memory is capped (pool.c): once 256 newer pools' memories are
 * kept (PARK_MAX), the oldest has gone back to the kernel, its linear
 * map unmapped (mincore: ENOMEM). The newer ones are 6 MiB, so none of
 * them takes the 4 MiB pool's memory. */
TEST(pool_kept_memory_oldest_given_back)
{
	enum { NEWER = 256 };
	static struct vms_pool *p[NEWER];
	struct vms_pool *old = vmt_pool(4 * MiB);
	struct vms_frame *f = vmt_alloc(old, 1);
	void *at = (void *)map_base(f);
	unsigned char vec;

	CHECK_OK(vms_frame_put(f));
	CHECK_OK(vms_pool_destroy(old));
	CHECK_OK(mincore(at, 4096, &vec)); /* kept */
	for (int i = 0; i < NEWER; i++)
		p[i] = vmt_pool(6 * MiB);
	for (int i = 0; i < NEWER; i++)
		CHECK_OK(vms_pool_destroy(p[i]));
	CHECK_EQ(mincore(at, 4096, &vec), -1);
	CHECK_EQ(errno, ENOMEM);
}

/* A pool that can be neither reset nor destroyed (a space with a mapped,
 * written 2 MiB frame and 4K frames held: what a controlled run leaves
 * when it abandons its threads) gives its memory back all the same when
 * discarded: the next pool of its size gets it, as a new pool, zeroed. */
TEST(pool_discard_busy_like_new)
{
	/* The discarded pool's struct and space stay allocated (pool.h):
	 * reachable from here, as the executor keeps them. */
	static struct vms_pool *kept;
	struct like_new ln;
	struct vms_pool *p = dirty_after_new(&ln, 38 * MiB);
	struct vms_frame *f, *big;
	struct vms_space *s;
	const void *at;

	f = vmt_alloc(p, 1);
	memset(vms_frame_data(f), 0xc3, K4);
	at = map_base(f);
	CHECK_OK(vms_space_new(p, 0, &s));
	CHECK_OK(vms_space_activate(s));
	big = vmt_map_new(s, 8 * MiB, 2, PROP_RW, false);
	write_through(s, 8 * MiB, 2 * MiB, 0x77);
	CHECK_EQ(*(const unsigned char *)vms_frame_peek(big), 0x77);
	CHECK_OK(vms_space_deactivate(s));
	CHECK_EQ(vms_pool_reset(p), -EBUSY);
	CHECK_EQ(vms_pool_destroy(p), -EBUSY);
	CHECK_EQ(vms_pool_discard(NULL), -EINVAL);
	CHECK_OK(vms_pool_discard(p));
	kept = p;

	p = vmt_pool(38 * MiB);
	check_like_new(&ln, p);
	f = vmt_alloc(p, 1);
	/* The memory came back. */
	CHECK(map_base(f) == at);
	CHECK_OK(vms_frame_put(f));
	CHECK_OK(vms_pool_destroy(p));
	CHECK(kept != NULL);
}

TEST(pool_reset_refuses)
{
	struct vms_pool *p = vmt_pool(4 * MiB);
	struct vms_cursor *c = NULL;
	struct vms_space *s;
	struct vms_frame *f;

	CHECK_EQ(vms_pool_reset(NULL), -EINVAL);
	/* A referenced frame: refused, and the frame stays usable. */
	f = vmt_alloc(p, 1);
	CHECK_EQ(vms_pool_reset(p), -EBUSY);
	CHECK_EQ(vms_frame_refcount(f), 1);
	CHECK(vms_frame_paddr(f) != 0);
	CHECK_OK(vms_frame_put(f));
	CHECK_OK(vms_pool_reset(p));
	/* A space, and a cursor held by the caller. */
	CHECK_OK(vms_space_new(p, 0, &s));
	CHECK_EQ(vms_pool_reset(p), -EBUSY);
	CHECK_OK(vms_cursor_new(s, 0, 2 * MiB, &c));
	CHECK_EQ(vms_pool_reset(p), -EDEADLK);
	vms_cursor_drop(c);
	CHECK_OK(vms_space_destroy(s));
	CHECK_OK(vms_pool_reset(p));
	CHECK_OK(vms_pool_destroy(p));
}
