/* SPDX-License-Identifier: MIT */
/*
 * pool.c - the frame pool: simulated physical memory.
 *
 * 4 KiB frames come from per-shard free lists (a thread uses the shard of
 * its id, so threads rarely share a lock); a shard that runs dry carves a
 * fresh 2 MiB chunk, then steals from the other shards. 2 MiB frames take
 * a whole chunk. Chunks that were carved into 4 KiB frames never go back
 * to the chunk list (no coalescing): a pool that has been fragmented that
 * way can still hand out 4 KiB frames but may fail 2 MiB ones.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE	/* pthread_setname_np */
#endif
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include "internal.h"

static void pool_kick(struct vms_defer_stack *s);

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

/* Carve chunk @c into 4K frames: keep the first, give the rest to @s. */
static uint64_t carve(struct vms_pool *p, struct vms_shard *s, uint64_t c)
{
	uint64_t first = c * VMS_CHUNK_FRAMES;

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

	vms_node_lock(&from->lock);
	first = last = from->head;
	if (first) {
		for (n = 1; n < 64 && p->meta[last].next_free; n++)
			last = p->meta[last].next_free;
		from->head = p->meta[last].next_free;
		from->count -= n;
	}
	vms_node_unlock(&from->lock);
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
	head = &p->meta[c * VMS_CHUNK_FRAMES];
	head->pool = p;
	for (int i = 1; i < VMS_CHUNK_FRAMES; i++) {
		head[i].pool = p;
		head[i].kind = VMS_FRAME_TAIL;
	}
	vms_count_add(&p->used_frames, VMS_CHUNK_FRAMES);
	return head;	/* untouched or MADV_DONTNEED'ed: already zero */
}

static void free_2m(struct vms_frame *head)
{
	struct vms_pool *p = head->pool;
	uint64_t first = (uint64_t)(head - p->meta);

	madvise(p->base + vms_meta_paddr(head), VMS_CHUNK_SIZE, MADV_DONTNEED);
	for (int i = 0; i < VMS_CHUNK_FRAMES; i++)
		head[i].kind = VMS_FRAME_FREE;
	head->gen++;
	chunk_give(p, first / VMS_CHUNK_FRAMES);
	vms_count_add(&p->used_frames, -VMS_CHUNK_FRAMES);
}

int vms_pool_new(size_t bytes, struct vms_pool **out)
{
	struct vms_pool *p;
	uint64_t size;

	if (!out || bytes == 0 || bytes > VMS_POOL_MAX)
		return -EINVAL;
	size = (bytes + VMS_CHUNK_SIZE - 1) & ~(VMS_CHUNK_SIZE - 1);
	if (size < VMS_POOL_MIN)
		size = VMS_POOL_MIN;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->nr_frames = size >> VMS_PAGE_SHIFT;
	p->nr_chunks = size / VMS_CHUNK_SIZE;
	p->meta_bytes = p->nr_frames * sizeof(struct vms_frame);
	p->base = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	p->meta = mmap(NULL, p->meta_bytes, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	p->free_chunks = calloc(p->nr_chunks, sizeof(*p->free_chunks));
	if (p->base == MAP_FAILED || p->meta == MAP_FAILED || !p->free_chunks) {
		if (p->base != MAP_FAILED)
			munmap(p->base, size);
		if (p->meta != MAP_FAILED)
			munmap(p->meta, p->meta_bytes);
		free(p->free_chunks);
		free(p);
		return -ENOMEM;
	}
	/* Metadata is committed lazily too: a chunk's slots get their pool
	 * pointer when the chunk is first handed out (carve, alloc_2m). */
	pthread_mutex_init(&p->spaces_lock, NULL);
	pthread_mutex_init(&p->deferred.reclaim_lock, NULL);
	p->deferred.batch = VMS_RETIRE_BATCH;
	p->deferred.kick = pool_kick;
	pthread_mutex_init(&p->reclaimer_lock, NULL);
	pthread_cond_init(&p->reclaimer_cond, NULL);
	/* Frame 0 is reserved so that physical address 0 never appears in
	 * a PTE; the rest of chunk 0 goes to shard 0. */
	p->meta[0].kind = VMS_FRAME_RESERVED;
	p->meta[0].pool = p;
	vms_count_add(&p->used_frames, 1);
	p->next_chunk = 1;
	carve(p, &p->shard[0], 0);	/* keeps frame 0 out of the list */
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

/* The reclaimer: waits for kicks, then releases everything deferred. */
static void *reclaimer_main(void *arg)
{
	struct vms_pool *p = arg;

	/* A name profiles can tell apart from the threads it serves. */
	pthread_setname_np(pthread_self(), "vms-reclaim");
	/*
	 * Background work: nice 19 (best effort). Wherever the reclaimer
	 * runs it preempts a cursor thread, most likely inside its read-side
	 * section, and then waits for that very section: liburcu's waiter
	 * spins, sleeps, and is woken at once by the readers still running
	 * elsewhere, round after round, until the scheduler gives the
	 * preempted reader its CPU back. At nice 0, on two CPUs busy with
	 * cursor threads (mt_disjoint), a grace period took about 50
	 * membarrier calls and half a millisecond; at nice 19 the reader
	 * gets its CPU back at once. The price is that reclaim may lag under
	 * load: with memory short, threads reclaim themselves (pool_kick,
	 * vms_frame_alloc, the cursor constructors).
	 */
	setpriority(PRIO_PROCESS, (id_t)gettid(), 19);
	pthread_mutex_lock(&p->reclaimer_lock);
	for (;;) {
		while (!p->reclaimer_wake && !p->reclaimer_stop)
			pthread_cond_wait(&p->reclaimer_cond, &p->reclaimer_lock);
		if (p->reclaimer_stop)
			break;
		p->reclaimer_wake = false;
		pthread_mutex_unlock(&p->reclaimer_lock);
		atomic_store(&p->kicked, false);
		vms_defer_reclaim(&p->deferred, true, release_item, p);
		pthread_mutex_lock(&p->reclaimer_lock);
	}
	pthread_mutex_unlock(&p->reclaimer_lock);
	return NULL;
}

/* Less than an eighth of the pool free? */
static bool pool_low(struct vms_pool *p)
{
	return p->nr_frames - (uint64_t)vms_count_sum(&p->used_frames) < p->nr_frames / 8;
}

/* A thread handed a batch over (the deferred stack's kick): wake the
 * reclaimer, starting it on first need; with memory short, reclaim here. */
static void pool_kick(struct vms_defer_stack *s)
{
	struct vms_pool *p = (struct vms_pool *)((char *)s - offsetof(struct vms_pool, deferred));
	bool inline_reclaim = false;

	if (pool_low(p) && !vms_rcu_in_read_section()) {
		/* Direct reclaim: the reclaimer may lag (it runs at nice 19),
		 * and with memory short an allocation inside a cursor, which
		 * cannot wait for a grace period, would fail. */
		vms_pool_quiesce(p);
		return;
	}
	if (atomic_exchange(&p->kicked, true))
		return;
	pthread_mutex_lock(&p->reclaimer_lock);
	if (!p->reclaimer_running && !p->reclaimer_stop)
		p->reclaimer_running = !pthread_create(&p->reclaimer, NULL, reclaimer_main, p);
	if (p->reclaimer_running) {
		p->reclaimer_wake = true;
		pthread_cond_signal(&p->reclaimer_cond);
	} else {
		inline_reclaim = true;	/* no thread: do it here if we may */
	}
	pthread_mutex_unlock(&p->reclaimer_lock);
	if (inline_reclaim) {
		atomic_store(&p->kicked, false);
		if (!vms_rcu_in_read_section())
			vms_defer_reclaim(&p->deferred, false, release_item, p);
	}
}

static void reclaimer_stop(struct vms_pool *p)
{
	bool join;

	pthread_mutex_lock(&p->reclaimer_lock);
	join = p->reclaimer_running;
	p->reclaimer_stop = true;
	pthread_cond_signal(&p->reclaimer_cond);
	pthread_mutex_unlock(&p->reclaimer_lock);
	if (join)
		pthread_join(p->reclaimer, NULL);
	pthread_mutex_lock(&p->reclaimer_lock);
	p->reclaimer_running = false;
	p->reclaimer_stop = false;	/* a refused destroy leaves a usable pool */
	pthread_mutex_unlock(&p->reclaimer_lock);
}

int vms_pool_destroy(struct vms_pool *p)
{
	int ret;

	if (!p)
		return -EINVAL;
	if (vms_rcu_in_read_section())
		return -EDEADLK;
	reclaimer_stop(p);
	ret = vms_pool_quiesce(p);
	if (ret)
		return ret;
	pthread_mutex_lock(&p->spaces_lock);
	ret = p->nr_spaces ? -EBUSY : 0;
	pthread_mutex_unlock(&p->spaces_lock);
	if (ret || (uint64_t)vms_count_sum(&p->used_frames) != 1)
		return -EBUSY;
	munmap(p->base, p->nr_frames << VMS_PAGE_SHIFT);
	munmap(p->meta, p->meta_bytes);
	pthread_mutex_destroy(&p->spaces_lock);
	pthread_mutex_destroy(&p->deferred.reclaim_lock);
	pthread_mutex_destroy(&p->reclaimer_lock);
	pthread_cond_destroy(&p->reclaimer_cond);
	free(p->free_chunks);
	free(p);
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
	pthread_mutex_lock(&p->spaces_lock);
	st->spaces = p->nr_spaces;
	pthread_mutex_unlock(&p->spaces_lock);
	return 0;
}

bool vms_frame_is_data(const struct vms_frame *f)
{
	return f && f->pool && f->kind == VMS_FRAME_DATA &&
	       atomic_load_explicit(&f->refcount, memory_order_relaxed) > 0;
}

int vms_frame_alloc(struct vms_pool *p, int level, struct vms_frame **out)
{
	struct vms_frame *f;

	if (!p || !out || level < 1 || level > VMS_HIGHEST_TRANSLATION_LEVEL)
		return -EINVAL;
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
	atomic_store_explicit(&f->handles, 1, memory_order_relaxed);
	atomic_store_explicit(&f->refcount, 1, memory_order_release);
	vms_count_add(&p->data_frames, level == 1 ? 1 : VMS_CHUNK_FRAMES);
	*out = f;
	return 0;
}

void vms_frame_ref_add(struct vms_frame *f, uint64_t n)
{
	atomic_fetch_add_explicit(&f->refcount, n, memory_order_relaxed);
}

static void frame_ref_put(struct vms_frame *f, uint64_t n);

/* Drop @n references mappings held (only after a grace period: a reader
 * may still copy through the PTE that held one); the last one returns the
 * frame to the pool. */
void vms_frame_ref_put(struct vms_frame *f, uint64_t n)
{
	VMS_AFTER_GRACE("frame reference");
	frame_ref_put(f, n);
}

static void frame_ref_put(struct vms_frame *f, uint64_t n)
{
	struct vms_pool *p = f->pool;

	if (atomic_fetch_sub_explicit(&f->refcount, n, memory_order_acq_rel) != n)
		return;
	vms_count_add(&p->data_frames, -(f->level == 1 ? 1 : VMS_CHUNK_FRAMES));
	if (f->level == 1)
		free_4k(f);
	else
		free_2m(f);
}

int vms_frame_get(struct vms_frame *f)
{
	if (!vms_frame_is_data(f))
		return -EINVAL;
	atomic_fetch_add_explicit(&f->handles, 1, memory_order_relaxed);
	vms_frame_ref_add(f, 1);
	return 0;
}

int vms_frame_put(struct vms_frame *f)
{
	uint64_t h;

	if (!vms_frame_is_data(f))
		return -EINVAL;
	h = atomic_load_explicit(&f->handles, memory_order_relaxed);
	do {
		if (h == 0)
			return -EINVAL;	/* a put without a handle: refuse */
	} while (!atomic_compare_exchange_weak_explicit(&f->handles, &h, h - 1,
			memory_order_relaxed, memory_order_relaxed));
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
	return f ? atomic_load(&f->refcount) : 0;
}

uint64_t vms_frame_handles(const struct vms_frame *f)
{
	return f ? atomic_load(&f->handles) : 0;
}

void *vms_frame_data(const struct vms_frame *f)
{
	return f && f->pool ? f->pool->base + vms_meta_paddr(f) : NULL;
}

struct vms_frame *vms_frame_owner(struct vms_pool *p, vms_paddr_t pa)
{
	struct vms_frame *f;

	if (!vms_pa_in_pool(p, pa))
		return NULL;
	f = vms_meta(p, pa);
	if (f->kind == VMS_FRAME_TAIL)
		f = vms_meta(p, vms_align_down(pa, VMS_CHUNK_SIZE));
	return f->kind == VMS_FRAME_DATA ? f : NULL;
}

struct vms_frame *vms_frame_from_paddr(struct vms_pool *p, vms_paddr_t pa)
{
	return p ? vms_frame_owner(p, pa) : NULL;
}

#ifdef VMS_CHECKS
void (*vms_poison_hook)(const char *what, const char *where);

void vms_invariant_broken(const char *what, const char *where)
{
	if (vms_poison_hook) {
		vms_poison_hook(what, where);
		return;
	}
	fprintf(stderr, "libvms: invariant broken in %s: %s\n", where, what);
	abort();
}

void vms_node_check_live(const struct vms_frame *n, const char *what, const char *where)
{
	/* Atomic: under the bug this read races with the frame's reuse. */
	if (__atomic_load_n(&n->kind, __ATOMIC_RELAXED) != VMS_FRAME_PT)
		vms_invariant_broken(what, where);
}

void vms_node_check_mine(struct vms_frame *n, const char *where)
{
	if (vms_node_owner(&n->lock) != vms_thread()->id)
		vms_invariant_broken("foreign unlock", where);
}
#endif

struct vms_frame *vms_node_alloc(struct vms_pool *p, int level)
{
	struct vms_frame *n = alloc_4k(p);

	if (!n)
		return NULL;
	n->kind = VMS_FRAME_PT;
	n->level = (uint8_t)level;
	n->nr_children = 0;
	n->stray = 0;
	atomic_store_explicit(&n->lock, 0, memory_order_relaxed);
	atomic_store_explicit(&n->refcount, 1, memory_order_relaxed);
	atomic_store_explicit(&n->handles, 0, memory_order_relaxed);
	vms_count_add(&p->pt_frames, 1);
	return n;
}

void vms_node_free(struct vms_frame *n)
{
	vms_count_add(&n->pool->pt_frames, -1);
	atomic_store_explicit(&n->refcount, 0, memory_order_relaxed);
	free_4k(n);
}

void vms_subtree_free(struct vms_frame *node)
{
	vms_pte_t *pte = vms_node_ptes(node);

	VMS_AFTER_GRACE("page-table subtree");
	for (int i = 0; i < VMS_NR_ENTRIES; i++) {
		uint64_t v = vms_pte_load_locked(&pte[i]);

		if (vms_pte_is_leaf(v))
			vms_frame_ref_put(vms_frame_owner(node->pool, vms_pte_paddr(v)), 1);
		else if (v)
			vms_subtree_free(vms_pte_child(node->pool, v));
	}
	vms_node_free(node);
}
