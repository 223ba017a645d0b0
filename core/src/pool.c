/* SPDX-License-Identifier: MIT */
/*
 * pool.c - the frame pool: simulated physical memory.
 *
 * 4 KiB frames come from per-shard free lists (a thread uses the shard of
 * its id, so threads rarely share a lock); a shard that runs dry carves a
 * fresh 2 MiB chunk, then steals from the other shards. 2 MiB frames take
 * a whole chunk. Chunks that were carved into 4 KiB frames never go back
 * to the chunk list (no coalescing): a pool that has been fragmented that
 * way can still hand out 4 KiB frames but may fail 2 MiB ones, until
 * vms_pool_reset takes it back to its initial state.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <pthread.h>
#include <string.h>
#include <sys/mman.h>

#include "internal.h"

static void pool_kick(struct vms_defer_stack *s);

/*
 * Dirty bits: frame @idx may hold non-zero bytes written since the pool
 * was made or last reset. Set when a 4K frame is handed out, when an
 * accessor writes (vms_pool_dirty) and when a caller takes a writable
 * pointer (vms_frame_data); a reset moves them to the stale bits, and
 * zeroing clears both. Freed memory is never given back to the kernel
 * while the pool lives: a 2 MiB frame zeroes only the pages either bit
 * marks, so reuse costs what was touched. Every 4K frame handed out
 * since the last reset has its dirty bit set (only a whole free chunk is
 * zeroed), so the checker scans those bits, not every frame (check.c).
 *
 * Setting takes no branch on the bits' old value: in a pool kept between
 * fuzz inputs that value depends on the inputs before, and a fuzzer
 * would see the branch as unstable coverage. chunk_zero, whose loop does
 * depend on it, is left out of coverage (fuzz/nocov.txt).
 */
static void dirty_range(struct vms_pool *p, uint64_t first, uint64_t end)
{
	for (uint64_t w = first / 64; w * 64 < end; w++) {
		uint64_t lo = first > w * 64 ? first - w * 64 : 0;
		uint64_t hi = end < (w + 1) * 64 ? end - w * 64 : 64;
		uint64_t mask = (hi == 64 ? ~0ULL : (1ULL << hi) - 1) & ~((1ULL << lo) - 1);

		atomic_fetch_or_explicit(&p->dirty[w], mask, memory_order_relaxed);
	}
}

void vms_pool_dirty(struct vms_pool *p, const void *at, size_t n)
{
	uint64_t off = (uint64_t)((const unsigned char *)at - p->base);

	if (n)
		dirty_range(p, off >> VMS_PAGE_SHIFT, ((off + n - 1) >> VMS_PAGE_SHIFT) + 1);
}

/* Zero the dirty and stale pages of chunk @c (a whole one, owned by the
 * caller). */
__attribute__((noinline)) static void chunk_zero(struct vms_pool *p, uint64_t c)
{
	for (uint64_t w = c * VMS_CHUNK_FRAMES / 64; w < (c + 1) * VMS_CHUNK_FRAMES / 64; w++) {
		uint64_t bits = atomic_exchange_explicit(&p->dirty[w], 0,
							 memory_order_relaxed) |
				atomic_exchange_explicit(&p->stale[w], 0,
							 memory_order_relaxed);

		for (; bits; bits &= bits - 1)
			memset(p->base + ((w * 64 + (uint64_t)__builtin_ctzll(bits)) << VMS_PAGE_SHIFT),
			       0, VMS_PAGE_SIZE);
	}
}

static struct vms_shard *my_shard(struct vms_pool *p)
{
	return &p->shard[vms_thread()->id % VMS_NR_SHARDS];
}

static uint64_t shard_pop(struct vms_pool *p, struct vms_shard *s)
{
	uint64_t idx;

	vms_node_lock(&s->lock);
	idx = s->head;
	if (idx) {
		s->head = p->meta[idx].next_free;
		s->count--;
	}
	vms_node_unlock(&s->lock);
	return idx;
}

static void shard_push(struct vms_pool *p, struct vms_shard *s, uint64_t idx)
{
	vms_node_lock(&s->lock);
	p->meta[idx].next_free = s->head;
	s->head = (uint32_t)idx;
	s->count++;
	vms_node_unlock(&s->lock);
}

/* A never-used or returned 2 MiB chunk, or -1. */
static int64_t chunk_take(struct vms_pool *p)
{
	int64_t c = -1;
	uint64_t n;

	vms_node_lock(&p->chunk_lock);
	if (p->nr_free_chunks)
		c = p->free_chunks[--p->nr_free_chunks];
	vms_node_unlock(&p->chunk_lock);
	if (c >= 0)
		return c;
	n = atomic_load_explicit(&p->next_chunk, memory_order_relaxed);
	while (n < p->nr_chunks) {
		if (atomic_compare_exchange_weak_explicit(&p->next_chunk, &n, n + 1,
				memory_order_relaxed, memory_order_relaxed))
			return (int64_t)n;
	}
	return -1;
}

static void chunk_give(struct vms_pool *p, uint64_t c)
{
	vms_node_lock(&p->chunk_lock);
	p->free_chunks[p->nr_free_chunks++] = (uint32_t)c;
	vms_node_unlock(&p->chunk_lock);
}

/* The chunks carved since the pool was made or reset, each once (a
 * carved chunk never goes back to the chunk list): past free_chunks, in
 * the same allocation. Only their metadata has slots other than a
 * chunk's head written, so a reset clears 32 KiB for each of them and
 * 64 bytes for the other chunks handed out (meta_clear). */
static uint32_t *carved(struct vms_pool *p)
{
	return p->free_chunks + p->nr_chunks;
}

/* Carve chunk @c into 4K frames: keep the first, give the rest to @s. */
static uint64_t carve(struct vms_pool *p, struct vms_shard *s, uint64_t c)
{
	uint64_t first = c * VMS_CHUNK_FRAMES;

	carved(p)[atomic_fetch_add(&p->nr_carved, 1)] = (uint32_t)c;

	for (uint64_t i = first; i < first + VMS_CHUNK_FRAMES; i++)
		p->meta[i].pool = p;
	vms_node_lock(&s->lock);
	for (uint64_t i = first + VMS_CHUNK_FRAMES - 1; i > first; i--) {
		p->meta[i].next_free = s->head;
		s->head = (uint32_t)i;
	}
	s->count += VMS_CHUNK_FRAMES - 1;
	vms_node_unlock(&s->lock);
	return first;
}

/* Move up to a batch of free frames from @from to @to; returns one of
 * them for the caller, or 0 if @from was empty. Frames released by the
 * reclaimer land in its shard: allocators take them back in batches
 * rather than carving new chunks (which would grow the pool's RSS). */
static uint64_t steal(struct vms_pool *p, struct vms_shard *from, struct vms_shard *to)
{
	uint64_t first, last, n = 0;

#ifdef VMS_BUG_steal_unlocked
	/* Planted: the batch is walked before the lock is taken, to keep
	 * the critical section short. */
	first = last = from->head;
	if (first) {
		for (n = 1; n < 64 && p->meta[last].next_free; n++)
			last = p->meta[last].next_free;
		vms_node_lock(&from->lock);
		from->head = p->meta[last].next_free;
		from->count -= n;
		vms_node_unlock(&from->lock);
	}
#else
	vms_node_lock(&from->lock);
	first = last = from->head;
	if (first) {
		for (n = 1; n < 64 && p->meta[last].next_free; n++)
			last = p->meta[last].next_free;
		from->head = p->meta[last].next_free;
		from->count -= n;
	}
	vms_node_unlock(&from->lock);
#endif
	if (n > 1) {
		vms_node_lock(&to->lock);
		p->meta[last].next_free = to->head;
		to->head = p->meta[first].next_free;
		to->count += n - 1;
		vms_node_unlock(&to->lock);
	}
	return first;
}

/* One zeroed 4K frame (metadata fields other than pool and gen unset). */
static struct vms_frame *alloc_4k(struct vms_pool *p)
{
	struct vms_shard *s = my_shard(p);
	uint64_t idx = shard_pop(p, s);
	int64_t c;

	for (int i = 0; !idx && i < VMS_NR_SHARDS; i++)
		if (&p->shard[i] != s)
			idx = steal(p, &p->shard[i], s);
	if (!idx && (c = chunk_take(p)) >= 0)
		idx = carve(p, s, (uint64_t)c);
	if (!idx)
		return NULL;
	vms_count_add(&p->used_frames, 1);
	memset(p->base + (idx << VMS_PAGE_SHIFT), 0, VMS_PAGE_SIZE);
	dirty_range(p, idx, idx + 1);	/* it goes out: anything may be written */
	return &p->meta[idx];
}

static void free_4k(struct vms_frame *f)
{
	struct vms_pool *p = f->pool;

#ifdef VMS_POISON
	memset(p->base + vms_meta_paddr(f), 0x6b, VMS_PAGE_SIZE);
#endif
	f->kind = VMS_FRAME_FREE;
	f->gen++;
	shard_push(p, my_shard(p), (uint64_t)(f - p->meta));
	vms_count_add(&p->used_frames, -1);
}

static struct vms_frame *alloc_2m(struct vms_pool *p)
{
	int64_t c = chunk_take(p);
	struct vms_frame *head;

	if (c < 0)
		return NULL;
	/* Only the head's metadata: a page inside the frame finds it by
	 * its chunk (frame_head), so the other 511 slots stay untouched. */
	head = &p->meta[c * VMS_CHUNK_FRAMES];
	head->pool = p;
	vms_count_add(&p->used_frames, VMS_CHUNK_FRAMES);
	chunk_zero(p, (uint64_t)c);
	return head;
}

static void free_2m(struct vms_frame *head)
{
	struct vms_pool *p = head->pool;
	uint64_t first = (uint64_t)(head - p->meta);

	head->kind = VMS_FRAME_FREE;
	head->gen++;
	chunk_give(p, first / VMS_CHUNK_FRAMES);
	vms_count_add(&p->used_frames, -VMS_CHUNK_FRAMES);
}

static void reclaimer_run(void *arg);

/* The state of a pool nothing was taken from: frame 0 is reserved so that
 * physical address 0 never appears in a PTE; the rest of chunk 0 goes to
 * shard 0; every other chunk is untaken. Metadata is committed lazily: a
 * chunk's slots get their pool pointer when it is handed out (carve,
 * alloc_2m). */
static void pool_start(struct vms_pool *p)
{
	p->meta[0].kind = VMS_FRAME_RESERVED;
	p->meta[0].pool = p;
	vms_count_set(&p->used_frames, 1);
	vms_count_set(&p->data_frames, 0);
	vms_count_set(&p->pt_frames, 0);
	p->next_chunk = 1;
	p->nr_carved = 0;
	carve(p, &p->shard[0], 0);	/* keeps frame 0 out of the list */
}

/*
 * The metadata array of a small pool comes from the heap, a large one's
 * is a lazily committed mapping. A fuzz program's pool_new op makes and
 * destroys a small pool each time: mapped, its metadata cost a page fault
 * per page pool_start touches and a TLB flush at the munmap, a sixth of
 * the fuzz target's CPU time. MAP_FAILED if out of memory, or @fail (an
 * injected fault: fail site=pool nth=3).
 */
#define META_HEAP_MAX	(64u << 10)

static void *meta_map(size_t n, bool fail)
{
	void *m;

	if (n > META_HEAP_MAX)
		return fail ? MAP_FAILED :
			      mmap(NULL, n, PROT_READ | PROT_WRITE,
				   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
				   -1, 0);
	m = fail ? NULL : aligned_alloc(_Alignof(struct vms_frame), n);
	if (!m)
		return MAP_FAILED;
	return memset(m, 0, n);
}

/* Left out of coverage (fuzz/nocov.txt): kept memory may be larger
 * than its pool, and which way it goes depends on the pools before. */
__attribute__((noinline)) static void meta_unmap(void *m, size_t n)
{
	if (n > META_HEAP_MAX)
		munmap(m, n);
	else
		free(m);
}

/*
 * The memory of pools destroyed idle, kept for the next vms_pool_new of
 * the same size or smaller: a pool_new op made a 4 MiB to 64 GiB pool
 * per input, and its mmap, its page faults on what pool_start touches
 * and its munmap (a TLB shootdown: the process has other threads) were
 * most of the fuzz target's kernel time. Kept memory is in the state a
 * reset leaves (metadata zeroed below next_chunk, written pages marked
 * stale), so a pool made from it is a fresh one: a smaller pool uses its
 * first frames and its first free-chunk slots, and keeps the stale bits
 * where they were (stale = dirty + the memory's words), so the pages of
 * every size it served are zeroed when they are handed out again.
 *
 * Only pools that handed out at most PARK_CHUNKS chunks are kept (what a
 * process keeps committed stays small: about 100 KiB each), the last
 * PARK_MAX of them (a program may hold that many pools at once: a
 * pool_new under a cursor cannot be destroyed) and at most PARK_FRAMES
 * frames of address space (eight pools of the largest size, what a
 * ThreadSanitizer build's mmap range holds easily); the oldest go back
 * first.
 */
#define PARK_MAX 256
#define PARK_CHUNKS 8
#define PARK_FRAMES (8 * (VMS_POOL_MAX >> VMS_PAGE_SHIFT))

struct pool_mem {
	uint64_t nr_frames; /* what it was made for: the pool's mem_frames */
	unsigned char *base;
	struct vms_frame *meta;
	uint32_t *free_chunks;
	_Atomic uint64_t *dirty;
	uint32_t *check_refs;
	uint64_t check_cap;
};

static struct {
	pthread_mutex_t lock;
	unsigned n;
	struct pool_mem mem[PARK_MAX];
} parked = { .lock = PTHREAD_MUTEX_INITIALIZER };

/* The kept memory that fits @nr_frames best (the smallest large enough),
 * taken out of the list into @m; false if none fits. Left out of
 * coverage (fuzz/nocov.txt), as pool_mem_get. */
__attribute__((noinline)) static bool park_take(uint64_t nr_frames,
						struct pool_mem *m)
{
	unsigned best = PARK_MAX;

	pthread_mutex_lock(&parked.lock);
	for (unsigned i = 0; i < parked.n; i++)
		if (parked.mem[i].nr_frames >= nr_frames &&
		    (best == PARK_MAX ||
		     parked.mem[i].nr_frames < parked.mem[best].nr_frames))
			best = i;
	if (best < PARK_MAX) {
		*m = parked.mem[best];
		memmove(&parked.mem[best], &parked.mem[best + 1],
			(--parked.n - best) * sizeof(*m));
	}
	pthread_mutex_unlock(&parked.lock);
	return best < PARK_MAX;
}

/*
 * The memory of a pool of p->nr_frames frames: kept memory large enough
 * if there is some, else new. @fail: which of base, meta, free_chunks
 * and dirty an injected fault refuses (bits 0 to 3), as an exhaustion
 * would. Left out of coverage (fuzz/nocov.txt): whether memory is kept
 * depends on the pools before. -ENOMEM with nothing allocated.
 */
__attribute__((noinline)) static int pool_mem_get(struct vms_pool *p,
						  unsigned fail)
{
	size_t size = p->nr_frames << VMS_PAGE_SHIFT, words = p->nr_frames / 64;
	size_t meta_bytes = p->nr_frames * sizeof(struct vms_frame);
	struct pool_mem m;

	if (!fail && park_take(p->nr_frames, &m)) {
		p->mem_frames = m.nr_frames;
		p->base = m.base;
		p->meta = m.meta;
		p->free_chunks = m.free_chunks;
		p->dirty = m.dirty;
		p->stale = p->dirty + m.nr_frames / 64;
		p->check_refs = m.check_refs;
		p->check_cap = m.check_cap;
		return 0;
	}
	p->mem_frames = p->nr_frames;
	p->base = fail & 1 ? MAP_FAILED :
			     mmap(NULL, size, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
				  -1, 0);
	p->meta = meta_map(meta_bytes, fail & 2);
	/* The free chunks and the carved list, one allocation. */
	p->free_chunks =
		fail & 4 ? NULL : calloc(p->nr_chunks * 2, sizeof(uint32_t));
	/* The dirty and the stale bits, one allocation. */
	p->dirty = fail & 8 ? NULL : calloc(words * 2, sizeof(*p->dirty));
	if (p->base == MAP_FAILED || p->meta == MAP_FAILED || !p->free_chunks ||
	    !p->dirty) {
		if (p->base != MAP_FAILED)
			munmap(p->base, size);
		if (p->meta != MAP_FAILED)
			meta_unmap(p->meta, meta_bytes);
		free(p->free_chunks);
		free(p->dirty);
		return -ENOMEM;
	}
	p->stale = p->dirty + words;
	return 0;
}

static void stale_dirty(struct vms_pool *p);

/* The metadata of the chunks handed out back to zeros (as a new pool's):
 * a carved chunk's every slot, the others' head (2 MiB frames write
 * nothing else). */
static void meta_clear(struct vms_pool *p)
{
	uint64_t n = atomic_load(&p->nr_carved);
	uint64_t end = atomic_load(&p->next_chunk);

	for (uint64_t i = 0; i < n; i++)
		memset(&p->meta[(uint64_t)carved(p)[i] * VMS_CHUNK_FRAMES], 0,
		       VMS_CHUNK_FRAMES * sizeof(*p->meta));
	for (uint64_t c = 0; c < end; c++)
		memset(&p->meta[c * VMS_CHUNK_FRAMES], 0, sizeof(*p->meta));
}

/* Kept memory given back to the kernel. Left out of coverage
 * (fuzz/nocov.txt), as pool_mem_put. */
__attribute__((noinline)) static void mem_free(const struct pool_mem *m)
{
	munmap(m->base, m->nr_frames << VMS_PAGE_SHIFT);
	meta_unmap(m->meta, m->nr_frames * sizeof(struct vms_frame));
	free(m->free_chunks);
	free((void *)m->dirty);
	free(m->check_refs);
}

/* An idle pool's memory: kept, in the state of a reset, or given back.
 * Left out of coverage (fuzz/nocov.txt), as pool_mem_get. */
__attribute__((noinline)) static void pool_mem_put(struct vms_pool *p)
{
	struct pool_mem m = {
		.nr_frames = p->mem_frames,
		.base = p->base,
		.meta = p->meta,
		.free_chunks = p->free_chunks,
		.dirty = p->dirty,
		.check_refs = p->check_refs,
		.check_cap = p->check_cap,
	};

	if (atomic_load(&p->next_chunk) > PARK_CHUNKS) {
		mem_free(&m);
		return;
	}
	meta_clear(p);
	stale_dirty(p);
	/* Kept, the oldest given back while there are too many: one at a
	 * time, freed after the unlock (munmap flushes TLBs on every CPU,
	 * and every pool_new and destroy waits for this lock). */
	for (;;) {
		struct pool_mem oldest;
		uint64_t frames = m.nr_frames; /* kept, with this one */

		pthread_mutex_lock(&parked.lock);
		for (unsigned i = 0; i < parked.n; i++)
			frames += parked.mem[i].nr_frames;
		if (!parked.n ||
		    (parked.n < PARK_MAX && frames <= PARK_FRAMES)) {
			parked.mem[parked.n++] = m;
			pthread_mutex_unlock(&parked.lock);
			return;
		}
		oldest = parked.mem[0];
		memmove(parked.mem, parked.mem + 1,
			--parked.n * sizeof(parked.mem[0]));
		pthread_mutex_unlock(&parked.lock);
		mem_free(&oldest);
	}
}

int vms_pool_new(size_t bytes, struct vms_pool **out)
{
	struct vms_pool *p;
	uint64_t size;
	unsigned fail = 0;

	if (!out || bytes == 0 || bytes > VMS_POOL_MAX)
		return -EINVAL;
	size = (bytes + VMS_CHUNK_SIZE - 1) & ~(VMS_CHUNK_SIZE - 1);
	if (size < VMS_POOL_MIN)
		size = VMS_POOL_MIN;
	/* Five allocations, each a fault site (fail site=pool nth=1..5):
	 * every partial state of the unwind in pool_mem_get is reachable. */
	p = vms_zalloc(sizeof(*p), VMS_FAULT_POOL);
	if (!p)
		return -ENOMEM;
	p->nr_frames = size >> VMS_PAGE_SHIFT;
	p->nr_chunks = size / VMS_CHUNK_SIZE;
	for (unsigned i = 0; i < 4; i++)
		fail |= (unsigned)VMS_FAULT(VMS_FAULT_POOL) << i;
	if (pool_mem_get(p, fail)) {
		free(p);
		return -ENOMEM;
	}
	vms_mutex_init(&p->spaces_lock);
	vms_mutex_init(&p->deferred.reclaim_lock);
	p->deferred.batch = VMS_RETIRE_BATCH_DEFAULT;
	p->deferred.kick = pool_kick;
	vms_worker_init(&p->reclaimer, "vms-reclaim", reclaimer_run, p);
	pool_start(p);
	*out = p;
	return 0;
}

static void release_item(void *arg, uint64_t item, uint32_t n)
{
	struct vms_pool *p = arg;
	struct vms_frame *f = vms_meta(p, item & ~VMS_DEFER_SUBTREE);

	if (!(item & VMS_DEFER_SUBTREE))
		vms_frame_ref_put(f, n);
	else	/* retired once each: n > 1 would be a core bug, kept as such */
		while (n--)
			vms_subtree_free(f);
}

int vms_pool_quiesce(struct vms_pool *p)
{
	if (!p)
		return -EINVAL;
	if (vms_rcu_in_read_section())
		return -EDEADLK;
	vms_defer_collect(&p->deferred);
	return vms_defer_reclaim(&p->deferred, true, release_item, p);
}

int vms_pool_set_retire_batch(struct vms_pool *p, unsigned n)
{
	if (!p || n < 1 || n > VMS_RETIRE_BATCH_MAX)
		return -EINVAL;
	atomic_store_explicit(&p->deferred.batch, n, memory_order_relaxed);
	return 0;
}

int vms_pool_set_reclaim_inline(struct vms_pool *p, bool on)
{
	if (!p)
		return -EINVAL;
	atomic_store_explicit(&p->reclaim_inline, on, memory_order_relaxed);
	return 0;
}

/* The reclaimer's work: release everything deferred. */
static void reclaimer_run(void *arg)
{
	struct vms_pool *p = arg;

	vms_defer_reclaim(&p->deferred, true, release_item, p);
}

/* Less than an eighth of the pool free? */
static bool pool_low(struct vms_pool *p)
{
	return p->nr_frames - (uint64_t)vms_count_sum(&p->used_frames) < p->nr_frames / 8;
}

/* A thread handed a batch over (the deferred stack's kick): wake the
 * reclaimer, starting it on first need; with memory short, or without a
 * reclaimer thread, reclaim here if we may. */
static void pool_kick(struct vms_defer_stack *s)
{
	struct vms_pool *p = (struct vms_pool *)((char *)s - offsetof(struct vms_pool, deferred));
	bool here;

	if ((pool_low(p) || vms_defer_backlogged(s)) && !vms_rcu_in_read_section()) {
		/* Direct reclaim: the reclaimer may lag (it runs at nice 19),
		 * and with memory short an allocation inside a cursor, which
		 * cannot wait for a grace period, would fail; the batches it
		 * has not reached hold memory too (VMS_RETIRE_BACKLOG). */
		vms_pool_quiesce(p);
		return;
	}
	here = atomic_load_explicit(&p->reclaim_inline, memory_order_relaxed);
	/* No reclaimer thread, by the pool's setting (which waits for the
	 * reclaim lock: vms_pool_set_reclaim_inline) or because it could not
	 * start: do it here if we may, else the next reclaim will. */
	if ((here || !vms_worker_kick(&p->reclaimer)) &&
	    !vms_rcu_in_read_section())
		vms_defer_reclaim(&p->deferred, here, release_item, p);
}

/* What a destroy or a reset needs: nothing deferred (released here, with
 * the reclaimer stopped), no space, no frame in use but frame 0. */
static int pool_idle(struct vms_pool *p)
{
	int ret;

	if (!p)
		return -EINVAL;
	if (vms_rcu_in_read_section())
		return -EDEADLK;
	vms_worker_stop(&p->reclaimer);
	ret = vms_pool_quiesce(p);
	if (ret)
		/* cov: unreachable: quiesce fails only in a read section, refused above */
		return ret;
	/* A reset pool starts without them, as a fresh one does. */
	vms_defer_spare_free(&p->deferred);
	vms_mutex_lock(&p->spaces_lock);
	ret = p->nr_spaces ? -EBUSY : 0;
	vms_mutex_unlock(&p->spaces_lock);
	/* The counters too: a reset keeps them, and a pool reused with a
	 * wrong one would fail every later run for what one run did. */
	if (ret || vms_count_sum(&p->used_frames) != 1 || vms_count_sum(&p->data_frames) ||
	    vms_count_sum(&p->pt_frames))
		return -EBUSY;
	return 0;
}

/* The dirty bits of the chunks handed out become stale bits: the pages
 * keep what was written, and the dirty bits start empty, as in a new
 * pool (no branch on the bits: see dirty_range). */
static void stale_dirty(struct vms_pool *p)
{
	uint64_t end = atomic_load(&p->next_chunk) * VMS_CHUNK_FRAMES / 64;

	for (uint64_t w = 0; w < end; w++)
		atomic_fetch_or_explicit(
			&p->stale[w],
			atomic_exchange_explicit(&p->dirty[w], 0,
						 memory_order_relaxed),
			memory_order_relaxed);
}

int vms_pool_reset(struct vms_pool *p)
{
	int ret = pool_idle(p);

	if (ret)
		return ret;
	/* Only chunks below next_chunk were ever handed out. Their contents
	 * stay: the stale bits say which pages to zero on reuse. */
	meta_clear(p);
	stale_dirty(p);
	for (int i = 0; i < VMS_NR_SHARDS; i++) {
		p->shard[i].head = 0;
		p->shard[i].count = 0;
	}
	p->nr_free_chunks = 0;
	/* The threads' batches went with the quiesce (pool_idle); what their
	 * cached cursors remember of this pool is void from now on. The
	 * calling thread's go altogether, so that its sessions after the
	 * reset take the same paths as in a fresh pool (a fuzz executor's
	 * coverage must not depend on the inputs before). */
	p->resets++;
	vms_cursor_cache_free(vms_thread());
	pool_start(p);
	return 0;
}

int vms_pool_destroy(struct vms_pool *p)
{
	int ret = pool_idle(p);

	if (ret)
		return ret;
	pool_mem_put(p);
	vms_mutex_destroy(&p->spaces_lock);
	vms_mutex_destroy(&p->deferred.reclaim_lock);
	vms_worker_destroy(&p->reclaimer);
	free(p);
	return 0;
}

int vms_pool_discard(struct vms_pool *p)
{
	if (!p)
		return -EINVAL;
	/* Every page written since the last reset has its dirty or stale
	 * bit (Dirty bits, above), which a reset relies on as well: the
	 * pages still in use come back zeroed like the others. */
	pool_mem_put(p);
	p->base = NULL;
	p->meta = NULL;
	p->free_chunks = NULL;
	p->dirty = p->stale = NULL;
	p->check_refs = NULL;
	p->check_cap = 0;
	return 0;
}

int vms_pool_stats(struct vms_pool *p, struct vms_pool_stats *st)
{
	if (!p || !st)
		return -EINVAL;
	st->total_frames = p->nr_frames - 1;
	st->free_frames = p->nr_frames - (uint64_t)vms_count_sum(&p->used_frames);
	st->data_frames = (uint64_t)vms_count_sum(&p->data_frames);
	st->pt_frames = (uint64_t)vms_count_sum(&p->pt_frames);
	st->deferred = vms_defer_pending(&p->deferred);
	vms_mutex_lock(&p->spaces_lock);
	st->spaces = p->nr_spaces;
	vms_mutex_unlock(&p->spaces_lock);
	return 0;
}

bool vms_frame_is_data(const struct vms_frame *f)
{
	return f && f->pool && f->kind == VMS_FRAME_DATA && vms_ref_read(&f->refcount) > 0;
}

int vms_frame_alloc(struct vms_pool *p, int level, struct vms_frame **out)
{
	struct vms_frame *f;

	if (!p || !out || level < 1 || level > VMS_HIGHEST_TRANSLATION_LEVEL)
		return -EINVAL;
	if (VMS_FAULT(level == 1 ? VMS_FAULT_FRAME_4K : VMS_FAULT_FRAME_2M))
		return -ENOMEM;
	for (int attempt = 0; ; attempt++) {
		f = level == 1 ? alloc_4k(p) : alloc_2m(p);
		if (f || attempt || vms_rcu_in_read_section())
			break;
		/* Frames may be waiting for a grace period: get them back. */
		vms_pool_quiesce(p);
	}
	if (!f)
		return -ENOMEM;
	f->kind = VMS_FRAME_DATA;
	f->level = (uint8_t)level;
	f->nr_children = 0;
	f->stray = 0;
	vms_ref_init(&f->handles, 1, false);
	vms_ref_init(&f->refcount, 1, true);
	vms_count_add(&p->data_frames, level == 1 ? 1 : VMS_CHUNK_FRAMES);
	*out = f;
	return 0;
}

void vms_frame_ref_add(struct vms_frame *f, uint64_t n)
{
	vms_ref_add(&f->refcount, n);
}

static void frame_ref_put(struct vms_frame *f, uint64_t n);

/* Drop @n references mappings held (only after a grace period: a reader
 * may still copy through the PTE that held one); the last one returns the
 * frame to the pool. */
void vms_frame_ref_put(struct vms_frame *f, uint64_t n)
{
	VMS_AFTER_GRACE(EARLY_FRAME);
	frame_ref_put(f, n);
}

static void frame_ref_put(struct vms_frame *f, uint64_t n)
{
	struct vms_pool *p = f->pool;

#ifdef VMS_BUG_put_last_check
	/* Planted: "are we the last holder?" read before the decrement; two
	 * putters can both read @n, and nobody frees the frame. */
	bool last = vms_ref_read(&f->refcount) == n;

	vms_ref_sub(&f->refcount, n);
	if (!last)
		return;
#else
	if (!vms_ref_sub(&f->refcount, n))
		return;
#endif
#ifdef VMS_BUG_huge_put_count
	/* Planted: the counter is decremented per frame, not per 4K unit. */
	vms_count_add(&p->data_frames, -1);
#else
	vms_count_add(&p->data_frames, -(f->level == 1 ? 1 : VMS_CHUNK_FRAMES));
#endif
	if (f->level == 1)
		free_4k(f);
	else
		free_2m(f);
}

int vms_frame_get(struct vms_frame *f)
{
	if (!vms_frame_is_data(f))
		return -EINVAL;
	vms_ref_add(&f->handles, 1);
	vms_frame_ref_add(f, 1);
	return 0;
}

int vms_frame_put(struct vms_frame *f)
{
	if (!vms_frame_is_data(f))
		return -EINVAL;
	if (!vms_ref_dec_not_zero(&f->handles))
		return -EINVAL;	/* a put without a handle: refuse */
	frame_ref_put(f, 1);	/* a handle: no reader reaches the frame through it */
	return 0;
}

vms_paddr_t vms_frame_paddr(const struct vms_frame *f)
{
	return f && f->pool ? vms_meta_paddr(f) : 0;
}

int vms_frame_level(const struct vms_frame *f)
{
	return f ? f->level : 0;
}

uint64_t vms_frame_refcount(const struct vms_frame *f)
{
	return f ? vms_ref_read(&f->refcount) : 0;
}

uint64_t vms_frame_handles(const struct vms_frame *f)
{
	return f ? vms_ref_read(&f->handles) : 0;
}

void *vms_frame_data(const struct vms_frame *f)
{
	uint64_t first;

	if (!f || !f->pool)
		return NULL;
	/* The caller may write through it. */
	/* cov: threads: the stress accessors (stress/access.c); the executor reads frames by vms_frame_peek */
	first = (uint64_t)(f - f->pool->meta);
	/* cov: threads: the stress accessors (stress/access.c) */
	dirty_range(f->pool, first, first + (f->kind == VMS_FRAME_DATA && f->level == 2 ?
					     VMS_CHUNK_FRAMES : 1));
	/* cov: threads: the stress accessors (stress/access.c) */
	return f->pool->base + vms_meta_paddr(f);
}

const void *vms_frame_peek(const struct vms_frame *f)
{
	return f && f->pool ? f->pool->base + vms_meta_paddr(f) : NULL;
}

/* The frame a page belongs to: its own metadata if that is a data
 * frame's, else its chunk's head if that is a 2 MiB data frame, else its
 * own. The 511 other slots of a 2 MiB frame are never written (alloc_2m)
 * and stay zero, so a 4K frame costs one look, as before. Atomic: under a
 * bug the chunk may be changing hands. */
static struct vms_frame *frame_head(struct vms_pool *p, vms_paddr_t pa)
{
	struct vms_frame *f = vms_meta(p, pa), *h;

	if (__atomic_load_n(&f->kind, __ATOMIC_RELAXED) == VMS_FRAME_DATA)
		return f;
	h = vms_meta(p, vms_align_down(pa, VMS_CHUNK_SIZE));
	if (__atomic_load_n(&h->kind, __ATOMIC_RELAXED) == VMS_FRAME_DATA &&
	    __atomic_load_n(&h->level, __ATOMIC_RELAXED) == 2)
		return h;
	return f;
}

struct vms_frame *vms_frame_owner(struct vms_pool *p, vms_paddr_t pa)
{
	struct vms_frame *f;

	if (!vms_pa_in_pool(p, pa))
		return NULL;
	f = frame_head(p, pa);
	return f->kind == VMS_FRAME_DATA ? f : NULL;
}

vms_paddr_t vms_pool_paddr(const struct vms_pool *p, const void *at)
{
	const unsigned char *b = at;

	if (!p || b < p->base || b >= p->base + p->nr_frames * VMS_PAGE_SIZE)
		return 0;
	return (vms_paddr_t)(b - p->base);
}

struct vms_frame *vms_frame_from_paddr(struct vms_pool *p, vms_paddr_t pa)
{
	return p ? vms_frame_owner(p, pa) : NULL;
}

#ifdef VMS_CHECKS
void (*vms_poison_hook)(enum vms_check check, const char *where);

void vms_invariant_broken(enum vms_check check, const char *where)
{
	if (!vms_poison_hook) {
		/* cov: unreachable: every executor sets a hook (exec_check.c, exec_mt.c) */
		fprintf(stderr, "libvms: invariant broken: %s (in %s)\n",
			vms_check_name(check), where);
		abort();
	}
	vms_poison_hook(check, where);
}

void vms_node_check_live(const struct vms_frame *n, const char *where)
{
	/* Atomic: under the bug this read races with the frame's reuse. */
	if (__atomic_load_n(&n->kind, __ATOMIC_RELAXED) != VMS_FRAME_PT)
		vms_invariant_broken(VMS_CHECK_NODE_FREED, where);
}

void vms_copy_check_span(struct vms_pool *p, vms_paddr_t pa, uint64_t n, const char *where)
{
	if (!n)
		/* cov: unreachable: access.c mmu_translate's avail is never 0 */
		return;
	if (!vms_pa_in_pool(p, pa + n - 1) ||
	    frame_head(p, pa) != frame_head(p, pa + n - 1))
		/* cov: unreachable: an invariant check fired: only on a broken core */
		vms_invariant_broken(VMS_CHECK_COPY_SPAN, where);
}

void vms_node_check_mine(struct vms_frame *n, const char *where)
{
	if (vms_node_owner(&n->lock) != vms_thread()->id)
		vms_invariant_broken(VMS_CHECK_FOREIGN_UNLOCK, where);
}
#endif

struct vms_frame *vms_node_alloc(struct vms_pool *p, int level)
{
	struct vms_frame *n = VMS_FAULT(VMS_FAULT_NODE) ? NULL : alloc_4k(p);

	if (!n)
		return NULL;
	n->kind = VMS_FRAME_PT;
	n->level = (uint8_t)level;
	n->nr_children = 0;
	n->stray = 0;
	vms_node_lock_init(&n->lock);
	vms_ref_init(&n->refcount, 1, false);
	vms_ref_init(&n->handles, 0, false);
	vms_count_add(&p->pt_frames, 1);
	return n;
}

void vms_node_free(struct vms_frame *n)
{
	vms_count_add(&n->pool->pt_frames, -1);
	vms_ref_init(&n->refcount, 0, false);
	free_4k(n);
}

void vms_subtree_free(struct vms_frame *node)
{
	vms_pte_t *pte = vms_node_ptes(node);
	unsigned left = node->nr_children;
	uint64_t v;

	VMS_AFTER_GRACE(EARLY_SUBTREE);
	/* Detached, a subtree changes no more: its entry counts are the
	 * exact ones of the detach, so stop at the last entry in use. */
	for (int i = 0; left && (i = vms_pte_next_locked(pte, i, VMS_NR_ENTRIES,
							 &v)) < VMS_NR_ENTRIES;
	     i++) {
		left--;
		if (vms_pte_is_leaf(v))
			vms_frame_ref_put(vms_frame_owner(node->pool, vms_pte_paddr(v)), 1);
		else
			vms_subtree_free(vms_pte_child(node->pool, v));
	}
	vms_node_free(node);
}
