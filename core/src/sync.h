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
#include <vms/types.h>

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

/*
 * Every piece of the core's per-thread state, reached only through
 * vms_thread(): a controlled scheduler gives each of its threads its own.
 *
 * id is the value a node lock holds while this thread owns it (never 0).
 * rcu_nesting counts open read-side sections so that code which must
 * block for a grace period can refuse to (blocking inside a read-side
 * section would deadlock). after_grace is non-zero while the thread
 * releases items whose grace period is over (poison builds check that
 * what RCU readers may reach is freed only then).
 */
#define VMS_UNLOCK_LOG_MAX 1024
struct vms_space;
struct vms_thread {
	uint32_t id;
	int rcu_nesting;
	bool registered;
	int after_grace;
	struct vms_space *current;	/* space.c: the active page table */
	/* lock.c, checks builds: the last node locked in this range lock */
	struct { vms_vaddr_t base; int level; bool set; } last_lock;
	/* debug.c: the node unlocks of this thread, when recording */
	struct {
		size_t n;
		int level[VMS_UNLOCK_LOG_MAX];
		vms_vaddr_t va[VMS_UNLOCK_LOG_MAX];
	} unlock_log;
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

static inline void vms_node_lock_init(vms_lock_t *l)
{
	atomic_store_explicit(l, 0, memory_order_relaxed);
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

/* ---- mutexes ------------------------------------------------------- */

/* For the registries and the reclaim serialisation: short sections that
 * may block, off the cursors' hot path. */
typedef struct {
	pthread_mutex_t m;
} vms_mutex_t;

#define VMS_MUTEX_INIT { PTHREAD_MUTEX_INITIALIZER }
/* Needs _GNU_SOURCE in the including file (glibc's initializer). */
#define VMS_MUTEX_RECURSIVE_INIT { PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP }

static inline void vms_mutex_init(vms_mutex_t *m)
{
	pthread_mutex_init(&m->m, NULL);
}

static inline void vms_mutex_destroy(vms_mutex_t *m)
{
	pthread_mutex_destroy(&m->m);
}

static inline void vms_mutex_lock(vms_mutex_t *m)
{
	pthread_mutex_lock(&m->m);
}

/* True if the mutex was free and is now held. */
static inline bool vms_mutex_trylock(vms_mutex_t *m)
{
	return pthread_mutex_trylock(&m->m) == 0;
}

static inline void vms_mutex_unlock(vms_mutex_t *m)
{
	pthread_mutex_unlock(&m->m);
}

/* ---- reference counts ------------------------------------------------ */

/* Frame references and handles, space activations. Taking a reference
 * orders nothing (the taker already reaches the object); dropping one is
 * acq_rel so that whoever drops the last sees every earlier holder's
 * writes before the object is freed. */
typedef _Atomic uint64_t vms_ref_t;

/* Set the count of an object nobody else can see yet; @publish makes it
 * a release (the object's other fields are visible with it). */
static inline void vms_ref_init(vms_ref_t *r, uint64_t v, bool publish)
{
	atomic_store_explicit(r, v, publish ? memory_order_release : memory_order_relaxed);
}

static inline uint64_t vms_ref_read(const vms_ref_t *r)
{
	return atomic_load_explicit(r, memory_order_relaxed);
}

static inline void vms_ref_add(vms_ref_t *r, uint64_t n)
{
	atomic_fetch_add_explicit(r, n, memory_order_relaxed);
}

/* Drop @n references; true if that was the last of them. */
static inline bool vms_ref_sub(vms_ref_t *r, uint64_t n)
{
	return atomic_fetch_sub_explicit(r, n, memory_order_acq_rel) == n;
}

/* Drop one reference unless there is none: false (and no change) at 0. */
static inline bool vms_ref_dec_not_zero(vms_ref_t *r)
{
	uint64_t v = atomic_load_explicit(r, memory_order_relaxed);

	do {
		if (!v)
			return false;
	} while (!atomic_compare_exchange_weak_explicit(r, &v, v - 1,
			memory_order_relaxed, memory_order_relaxed));
	return true;
}

/* ---- sharded counters ------------------------------------------------- */

/* A count every cursor open/close updates (open cursors per space and per
 * pool): one cache line per shard, so threads on disjoint ranges do not
 * bounce a shared line. Only the sum means anything; a cursor may be
 * closed on another shard than it was opened on. */
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

/* Things removed from a page table (frame references, detached subtrees)
 * are released only after a grace period, the way a TLB flush would
 * precede reuse. Removers collect them in batches; a batch is pushed on a
 * lock-free stack once its remover is done with the tree. A reclaimer
 * takes the whole stack, waits for one grace period, then releases: every
 * reader that could have seen a removed entry started before the push,
 * hence before the grace period began. */
struct vms_defer_batch {
	struct vms_defer_batch *next;
	uint32_t n, cap;
	uint64_t item[];	/* opaque to this layer */
};

struct vms_defer_stack {
	_Atomic(struct vms_defer_batch *) head;
	_Atomic uint64_t items;		/* items waiting, for stats/thresholds */
	vms_mutex_t reclaim_lock;	/* held by the thread releasing a set */
};

void vms_defer_push(struct vms_defer_stack *s, struct vms_defer_batch *b);

/* Items pushed and not yet released (a hint: it may change at once). */
static inline uint64_t vms_defer_pending(struct vms_defer_stack *s)
{
	return atomic_load_explicit(&s->items, memory_order_relaxed);
}

/* Wait for a grace period and call @release on every item pushed before
 * the call; frees the batches. With @wait, also waits for a reclaim
 * already under way on another thread (so everything pushed before the
 * call is released on return); without, returns at once if one is.
 * -EDEADLK inside a read-side section. */
int vms_defer_reclaim(struct vms_defer_stack *s, bool wait,
		      void (*release)(void *arg, uint64_t item), void *arg);

/* ---- background worker ---------------------------------------------- */

/* A thread that runs @fn whenever it is kicked (the pool's reclaimer).
 * It is started on the first kick; kicks while one is pending collapse
 * into one run. */
struct vms_worker {
	void (*fn)(void *arg);
	void *arg;
	_Atomic bool kicked;		/* a kick is pending: kickers skip the mutex */
	pthread_mutex_t lock;		/* protects the five fields below */
	pthread_cond_t cond;
	pthread_t thread;
	bool running, wake, stop;
};

void vms_worker_init(struct vms_worker *w, void (*fn)(void *arg), void *arg);
/* Have the worker run @fn soon. Returns false if there is no worker
 * thread (it could not be started, or it is being stopped): then the
 * caller does the work itself. */
bool vms_worker_kick(struct vms_worker *w);
/* Stop and join the worker; a later kick starts it again. */
void vms_worker_stop(struct vms_worker *w);
void vms_worker_destroy(struct vms_worker *w);

/* ---- frame contents --------------------------------------------------- */

/* Copies between user buffers and simulated physical memory. Two user
 * threads writing the same page race by design (as in a real process);
 * under TSan the copy uses relaxed atomic accesses so that such races
 * in the *simulated* memory are not reported as races in libvms. */
void vms_copy_from_frame(void *dst, const void *src, size_t n);
void vms_copy_to_frame(void *dst, const void *src, size_t n);

#endif /* VMS_SYNC_H */
