/* SPDX-License-Identifier: MIT */
/*
 * sync.h - every synchronisation primitive libvms uses, in one place.
 *
 * The algorithms (lock.c, cursor.c, access.c) never touch liburcu, C11
 * atomics or TSan directly; they call the wrappers below. That keeps the
 * memory-ordering argument in one file, lets a controlled scheduler hook
 * in at VMS_SCHED_POINT(), and lets planted bugs or instrumented builds
 * change a primitive without touching the algorithms.
 *
 * RCU flavour: liburcu "memb" (sys_membarrier). Readers are cheap (no
 * fences on x86 with membarrier), any thread may be a reader once it is
 * registered (done lazily here), and synchronize_rcu() is a real blocking
 * grace period - which is what our deferred releases need. qsbr would be
 * faster for readers but requires every thread to announce quiescent
 * states, which harness threads that block on node locks cannot do.
 */
#ifndef VMS_SYNC_H
#define VMS_SYNC_H

#include <stdatomic.h>
#include <stdint.h>
#include <stdbool.h>
#include <errno.h>
#include <sched.h>
#include <pthread.h>

#ifdef VMS_TSAN
#include <sanitizer/tsan_interface.h>
#endif

/* ---- scheduler hook ------------------------------------------------- */

/* A controlled scheduler or a fault injector can install a hook that runs
 * at every interesting step. Compiled out unless VMS_SCHED_HOOK is set. */
#ifdef VMS_SCHED_HOOK
extern void (*vms_sched_hook)(const char *where);
#define VMS_SCHED_POINT()						\
	do {								\
		if (vms_sched_hook)					\
			vms_sched_hook(__func__);			\
	} while (0)
#else
#define VMS_SCHED_POINT() do { } while (0)
#endif

/* ---- threads ---------------------------------------------------------- */

struct vms_defer_stack;
struct vms_defer_batch;
struct vms_cursor;

/* A thread's retired items for one stack (see "deferred release"). lock
 * is taken by the owner when it adds items and by a quiescer taking the
 * batch; batch is NULL or holds items of stack only. */
struct vms_defer_local {
	_Atomic uint32_t lock;		/* a vms_lock_t (node locks, below) */
	struct vms_defer_stack *stack;
	struct vms_defer_batch *batch;
};

/* Per-thread state. id is the value a node lock holds while this thread
 * owns it (never 0). rcu_nesting counts open read-side sections so that
 * code which must block for a grace period can refuse to (blocking inside
 * a read-side section would deadlock). cursor_cache holds up to
 * nr_cached dropped cursors for reuse (cursor.c; only this thread touches
 * it). next links the registry of live threads (sync.c, under its lock),
 * which a quiescer walks to reach every thread's defer. */
struct vms_thread {
	uint32_t id;
	int rcu_nesting;
	bool registered;
	unsigned nr_cached;
	struct vms_cursor *cursor_cache;
	struct vms_defer_local defer;
	struct vms_thread *next;
};
extern __thread struct vms_thread vms_self;

void vms_thread_register_slow(void);

static inline struct vms_thread *vms_thread(void)
{
	if (__builtin_expect(!vms_self.registered, 0))
		vms_thread_register_slow();
	return &vms_self;
}

/* ---- RCU -------------------------------------------------------------- */

/* TSan cannot see liburcu's grace periods (membarrier, futexes, inline
 * asm). One token address stands for "a grace period": every read-side
 * section releases it on exit and every synchronize acquires it, which
 * is exactly the ordering RCU guarantees (see sanitizers/README.md). */
#ifdef VMS_TSAN
extern char vms_gp_token;
#define VMS_TSAN_RELEASE(a) __tsan_release((void *)(a))
#define VMS_TSAN_ACQUIRE(a) __tsan_acquire((void *)(a))
#else
#define VMS_TSAN_RELEASE(a) do { } while (0)
#define VMS_TSAN_ACQUIRE(a) do { } while (0)
#endif

void vms_rcu_read_lock(void);
void vms_rcu_read_unlock(void);
/* Wait for a grace period. Returns -EDEADLK instead of hanging if the
 * caller is inside a read-side section. */
int vms_rcu_synchronize(void);

static inline bool vms_rcu_in_read_section(void)
{
	return vms_thread()->rcu_nesting > 0;
}

/* ---- PTEs --------------------------------------------------------------- */

typedef _Atomic uint64_t vms_pte_t;

/* Lock-free walkers (cursor phase 1, the simulated MMU) load with acquire:
 * it pairs with the release store that published a new child node, so
 * the child's initialised entries are visible. */
static inline uint64_t vms_pte_load(vms_pte_t *p)
{
	VMS_SCHED_POINT();
	return atomic_load_explicit(p, memory_order_acquire);
}

/* Under the node's lock the entry cannot change: relaxed is enough. */
static inline uint64_t vms_pte_load_locked(vms_pte_t *p)
{
	return atomic_load_explicit(p, memory_order_relaxed);
}

/* Every store is a release: it may publish a node or a frame whose
 * contents were written just before. */
static inline void vms_pte_store(vms_pte_t *p, uint64_t v)
{
	VMS_SCHED_POINT();
	atomic_store_explicit(p, v, memory_order_release);
}

/* Initialise an entry of a node nobody else can see yet. */
static inline void vms_pte_init(vms_pte_t *p, uint64_t v)
{
	atomic_store_explicit(p, v, memory_order_relaxed);
}

/* ---- node locks ------------------------------------------------------- */

/* A node lock is a test-and-set spinlock that records its owner's thread
 * id: a thread that finds a lock it already owns gets -EDEADLK instead of
 * spinning forever (the lock is not re-entrant). Spinning yields the CPU
 * after a while because harness runs have more threads than cores. */
typedef _Atomic uint32_t vms_lock_t;

static inline int vms_node_lock(vms_lock_t *l)
{
	uint32_t me = vms_thread()->id;
	unsigned spins = 0;

	VMS_SCHED_POINT();
	for (;;) {
		uint32_t cur = 0;

		if (atomic_compare_exchange_weak_explicit(l, &cur, me,
				memory_order_acquire, memory_order_relaxed))
			return 0;
		if (cur == me)
			return -EDEADLK;
		do {
			if (++spins > 64) {
				sched_yield();
				spins = 0;
			} else {
				__builtin_ia32_pause();
			}
			cur = atomic_load_explicit(l, memory_order_relaxed);
		} while (cur != 0 && cur != me);
	}
}

/* Take the lock of a node nobody else can reach yet (fresh allocation). */
static inline void vms_node_lock_fresh(vms_lock_t *l)
{
	atomic_store_explicit(l, vms_thread()->id, memory_order_relaxed);
}

static inline void vms_node_unlock(vms_lock_t *l)
{
	VMS_SCHED_POINT();
	atomic_store_explicit(l, 0, memory_order_release);
}

static inline uint32_t vms_node_owner(vms_lock_t *l)
{
	return atomic_load_explicit(l, memory_order_relaxed);
}

/* ---- sharded counters ------------------------------------------------- */

/* A count many threads update (the pool's frame counters): one cache
 * line per shard, so threads on disjoint ranges do not bounce a shared
 * line. Only the sum means anything; a frame may be freed on another
 * shard than it was allocated on. */
#define VMS_NR_COUNT_SHARDS 8
struct vms_count {
	struct {
		_Atomic long v;
	} __attribute__((aligned(64))) shard[VMS_NR_COUNT_SHARDS];
};

static inline void vms_count_add(struct vms_count *c, long d)
{
	atomic_fetch_add_explicit(&c->shard[vms_thread()->id % VMS_NR_COUNT_SHARDS].v, d,
				  memory_order_relaxed);
}

static inline long vms_count_sum(struct vms_count *c)
{
	long sum = 0;

	for (int i = 0; i < VMS_NR_COUNT_SHARDS; i++)
		sum += atomic_load(&c->shard[i].v);
	return sum;
}

/* ---- deferred release ------------------------------------------------ */

/*
 * Things removed from a page table (frame references, detached subtrees)
 * are released only after a grace period, the way a TLB flush would
 * precede reuse. Retirement goes through three hands, so that a cursor
 * session neither allocates, nor waits for a grace period, nor writes a
 * cache line another thread writes:
 *
 * 1. A cursor collects its removals in a batch of its own, reserved
 *    before an operation changes anything (so nothing fails later).
 * 2. At drop, vms_defer_retire moves them into the thread's batch for
 *    that stack (struct vms_defer_local): a copy under a lock that only
 *    the owner and a quiescer ever take.
 * 3. Once the thread's batch weighs the stack's `batch` (the retire batch,
 *    a knob: 1 hands over at every drop that retired anything; each item
 *    weighs what it holds back, in the caller's unit), it is handed over:
 *    pushed on the stack's lock-free list, after which the stack's kick
 *    callback wakes a reclaimer. A reclaimer takes the whole list, waits
 *    for one grace period, then releases: every reader that could have
 *    seen a removed entry started before the hand-over, hence before the
 *    grace period began.
 *
 * So one grace period covers many sessions of many threads. What waits is
 * bounded: `batch` weight per thread (plus what its open cursors hold)
 * and the list the reclaimer has not reached yet. vms_defer_collect hands
 * over every thread's batch for a stack, so that a reclaim after it
 * covers everything retired before the call, whichever thread retired it.
 * A thread's batch is also handed over when it exits, or when it retires
 * into another stack.
 */
struct vms_defer_batch {
	struct vms_defer_batch *next;
	uint32_t n, cap;
	uint64_t weight;	/* of the items, as the caller weighs them */
	uint64_t item[];	/* opaque to this layer */
};

struct vms_defer_stack {
	_Atomic uint32_t batch;		/* the retire batch, a weight (>= 1) */
	void (*kick)(struct vms_defer_stack *s);	/* called after a hand-over */
	/* Written at hand-overs and reclaims only: not on the line of the
	 * fields above, which every session reads. */
	_Atomic(struct vms_defer_batch *) head __attribute__((aligned(64)));
	_Atomic uint64_t items;		/* items handed over, not yet released */
	pthread_mutex_t reclaim_lock;	/* held by the thread releasing a set */
};

/* Move the items of *@bp (a cursor's batch, removed from the tree by this
 * thread) into the thread's batch for @s; may take *@bp over instead (then
 * sets it NULL), hand batches over and call kick. Never allocates or waits
 * for a grace period. True if the thread's batch for @s went to the
 * reclaimer (what the thread holds back starts afresh). */
bool vms_defer_retire(struct vms_defer_stack *s, struct vms_defer_batch **bp);
/* Hand over every thread's batch for @s. */
void vms_defer_collect(struct vms_defer_stack *s);
/* Items retired into @s and not yet released (racy under concurrency,
 * exact at quiescence). */
uint64_t vms_defer_pending(struct vms_defer_stack *s);
/* Non-zero while this thread releases items whose grace period is over:
 * poison builds check that what RCU readers may reach is freed only then. */
extern __thread int vms_after_grace;

/* Wait for a grace period and call @release on every item handed over
 * before the call; frees the batches. Equal neighbours in a batch (a
 * frame unmapped again and again, the PTEs of a split 2 MiB frame) go in
 * one call, with their number in @n. With @wait, also waits for a
 * reclaim already under way on another thread (so everything handed over
 * before the call is released on return); without, returns at once if
 * one is. -EDEADLK inside a read-side section. */
int vms_defer_reclaim(struct vms_defer_stack *s, bool wait,
		      void (*release)(void *arg, uint64_t item, uint32_t n), void *arg);

/* ---- frame contents --------------------------------------------------- */

/* Copies between user buffers and simulated physical memory. Two user
 * threads writing the same page race by design (as in a real process);
 * under TSan the copy uses relaxed atomic accesses so that such races
 * in the *simulated* memory are not reported as races in libvms. */
void vms_copy_from_frame(void *dst, const void *src, size_t n);
void vms_copy_to_frame(void *dst, const void *src, size_t n);

#endif /* VMS_SYNC_H */
