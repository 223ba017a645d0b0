/* SPDX-License-Identifier: MIT */
/*
 * sync.h - every synchronisation primitive libvms uses, in one place.
 *
 * The algorithms (lock.c, cursor.c, access.c) never touch liburcu, C11
 * atomics or TSan directly; they call the wrappers below. That keeps the
 * memory-ordering argument in one file, lets a controlled scheduler take
 * over at every scheduling point (below; the VMS_SCHED build, sched.c),
 * and lets planted bugs or instrumented builds change a primitive
 * without touching the algorithms.
 *
 * RCU flavour: liburcu "memb" (sys_membarrier). Readers are cheap (no
 * fences on x86 with membarrier), any thread may be a reader once it is
 * registered (done lazily here), and synchronize_rcu() is a real blocking
 * grace period - which is what our deferred releases need. qsbr would be
 * faster for readers but requires every thread to announce quiescent
 * states, which harness threads that block on node locks cannot do.
 * The VMS_SCHED build does not use liburcu at all: it simulates grace
 * periods (sched.c).
 */
#ifndef VMS_SYNC_H
#define VMS_SYNC_H

#include <stdatomic.h>
#include <stdint.h>
#include <stdbool.h>
#include <errno.h>
#include <sched.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <vms/types.h>

#include "fault.h"

#ifdef VMS_TSAN
#include <sanitizer/tsan_interface.h>
#endif

/* The checking builds: the stress driver's and the controlled
 * scheduler's copies of the core (-DVMS_POISON) and the fuzz builds
 * (-DVMS_INVARIANTS) make the run-time checks of internal.h. */
#if defined(VMS_POISON) || defined(VMS_INVARIANTS)
#define VMS_CHECKS 1
#endif

/* ---- scheduling points --------------------------------------------- */

/*
 * Every wrapper below that orders threads is a scheduling point: a lock
 * attempt or release, a shared PTE load or store, a read-side enter or
 * exit, a grace period, a deferred push or release, a reference count
 * change, a copy of frame contents. The site of a point is its caller's
 * function and line plus what happens there: each wrapper is a macro
 * that passes a static struct vms_site, so site identities are stable
 * across runs and builds (no code addresses).
 *
 * What a point does depends on the build:
 * - VMS_SCHED (the controlled build, sched.c): hand control to the
 *   scheduler, which decides who runs next;
 * - VMS_SCHED_HOOK (the stress driver's core): call vms_sched_hook with
 *   the site's function, if one is installed;
 * - otherwise nothing: sites are not even compiled in.
 */
enum vms_sched_kind {
	VMS_SP_NODE_LOCK, VMS_SP_NODE_UNLOCK,
	VMS_SP_MUTEX_LOCK, VMS_SP_MUTEX_UNLOCK,
	VMS_SP_PTE_LOAD, VMS_SP_PTE_STORE,
	VMS_SP_RCU_ENTER, VMS_SP_RCU_EXIT,
	VMS_SP_GRACE,		/* a grace period begins */
	VMS_SP_DEFER,		/* a batch is pushed for deferred release */
	VMS_SP_RECLAIM,		/* a batch is released after its grace period */
	VMS_SP_REF,		/* a reference count changes */
	VMS_SP_COPY,		/* a page of an accessor copy */
	VMS_SP_THREAD,		/* thread start, end, join (sched.c) */
	VMS_SP_USER,		/* the harness's own points */
	VMS_SP_NR
};

struct vms_site {
	enum vms_sched_kind kind;
	int line;
	const char *func;
};

#if defined(VMS_SCHED) || defined(VMS_SCHED_HOOK)
#define VMS_SITES 1
#define VMS_SITE(k)							\
	({ static const struct vms_site vms_site_ = { (k), __LINE__, __func__ }; &vms_site_; })
/* The extra parameter of a wrapper's _at function, and its argument
 * (ONLY: for a function without other parameters). */
#define VMS_SITE_PARAM , const struct vms_site *site
#define VMS_SITE_ARG(k) , VMS_SITE(k)
#define VMS_SITE_PARAM_ONLY const struct vms_site *site
#define VMS_SITE_ARG_ONLY(k) VMS_SITE(k)
#else
#define VMS_SITE_PARAM
#define VMS_SITE_ARG(k)
#define VMS_SITE_PARAM_ONLY void
#define VMS_SITE_ARG_ONLY(k)
#endif

#if defined(VMS_SCHED)
#ifdef VMS_TSAN
#error "the controlled build (VMS_SCHED) does not support TSan"
#endif
extern bool vms_sched_active;	/* a controlled thread is running */
void vms_sched_point(const struct vms_site *site);
#define VMS_SCHED_AT(site)						\
	do {								\
		if (vms_sched_active)					\
			vms_sched_point(site);				\
	} while (0)
#elif defined(VMS_SCHED_HOOK)
/* The stress driver's noise goes where it always went: node locks and
 * unlocks, shared PTE loads and stores; and it lingers before a copy of
 * frame contents (inside the reader's read-side section), so grace
 * periods end during reads. @copy tells the two apart. */
extern void (*vms_sched_hook)(bool copy, const char *where);
#define VMS_HOOKED(k)							\
	((k) == VMS_SP_NODE_LOCK || (k) == VMS_SP_NODE_UNLOCK ||	\
	 (k) == VMS_SP_PTE_LOAD || (k) == VMS_SP_PTE_STORE ||		\
	 (k) == VMS_SP_COPY)
#define VMS_SCHED_AT(site)						\
	do {								\
		if (vms_sched_hook && VMS_HOOKED((site)->kind))		\
			vms_sched_hook((site)->kind == VMS_SP_COPY,	\
				       (site)->func);			\
	} while (0)
#else
#define VMS_SCHED_AT(site) do { } while (0)
#endif
/* A point of kind @k right here (in the sync layer or a harness). */
#define VMS_SCHED_POINT(k) VMS_SCHED_AT(VMS_SITE(k))

/* ---- threads ---------------------------------------------------------- */

struct vms_defer_stack;
struct vms_defer_batch;
struct vms_cursor;
struct vms_space;

/* A thread's retired items for one stack (see "deferred release"). lock
 * is taken by the owner when it adds items and by a quiescer taking the
 * batch, never across a scheduling point; batch is NULL or holds items
 * of stack only. */
struct vms_defer_local {
	_Atomic uint32_t lock;
	struct vms_defer_stack *stack;
	struct vms_defer_batch *batch;
};

/* lock.c, checks builds: the node a range lock or unlock handled last,
 * whose place in the global pre-order the next one's is checked against
 * (set: there is one; on: a range unlock is under way). */
struct vms_order_mark {
	vms_vaddr_t base;
	int level;
	bool set, on;
};

/*
 * Every piece of the core's per-thread state, reached only through
 * vms_thread(): a controlled scheduler gives each of its threads its own.
 *
 * id is the value a node lock holds while this thread owns it (never 0).
 * rcu_nesting counts open read-side sections so that code which must
 * block for a grace period can refuse to (blocking inside a read-side
 * section would deadlock). after_grace is non-zero while the thread
 * releases items whose grace period is over (poison builds check that
 * what RCU readers may reach is freed only then). cursor_cache holds up
 * to nr_cached dropped cursors for reuse (cursor.c; only this thread
 * touches it). next links the registry of live threads (sync.c, under
 * its lock), which a quiescer walks to reach every thread's defer;
 * listed says the thread is in it.
 */
struct vms_thread {
	uint32_t id;
	int rcu_nesting;
	uint32_t rcu_sections;		/* read sections entered (VMS_SCHED) */
	bool registered;
	bool listed;
	int after_grace;
	unsigned nr_cached;
	struct vms_cursor *cursor_cache;
	struct vms_defer_local defer;
	struct vms_thread *next;
	struct vms_space *current;	/* space.c: the active page table */
	struct vms_fault_state fault;	/* fault.h: injected allocation failures */
	/* lock.c, checks builds: the last node locked in this range lock,
	 * and the last node released in this range unlock */
	struct vms_order_mark last_lock, last_unlock;
};
extern __thread struct vms_thread vms_self;

void vms_thread_register_slow(void);
/* Enter @t in the registry of live threads, so that vms_defer_collect
 * reaches its batches (once; registration does it for OS threads, sched.c
 * for its controlled ones). */
void vms_thread_enter(struct vms_thread *t);
/* @t ends: its batches go to their reclaimers, its cached cursors are
 * freed, it leaves the registry. */
void vms_thread_leave(struct vms_thread *t);

#ifdef VMS_SCHED
/* The state of the controlled thread running now, or this OS thread's
 * own (vms_self) outside a controlled run: sched.c swaps the pointer. */
extern __thread struct vms_thread *vms_sched_cur;

static inline struct vms_thread *vms_thread(void)
{
	if (__builtin_expect(!vms_sched_cur, 0))
		vms_thread_register_slow();
	return vms_sched_cur;
}
#else
static inline struct vms_thread *vms_thread(void)
{
	if (__builtin_expect(!vms_self.registered, 0))
		vms_thread_register_slow();
	return &vms_self;
}
#endif

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

/* In the VMS_SCHED build, RCU is simulated in sched.c, deterministically:
 * a grace period that begins at decision i ends once every thread that
 * was inside a read-side section at i has left that section. */
void vms_rcu_read_lock_at(VMS_SITE_PARAM_ONLY);
void vms_rcu_read_unlock_at(VMS_SITE_PARAM_ONLY);
#define vms_rcu_read_lock() vms_rcu_read_lock_at(VMS_SITE_ARG_ONLY(VMS_SP_RCU_ENTER))
#define vms_rcu_read_unlock() vms_rcu_read_unlock_at(VMS_SITE_ARG_ONLY(VMS_SP_RCU_EXIT))
/* Wait for a grace period. Returns -EDEADLK instead of hanging if the
 * caller is inside a read-side section. */
int vms_rcu_synchronize_at(VMS_SITE_PARAM_ONLY);
#define vms_rcu_synchronize() vms_rcu_synchronize_at(VMS_SITE_ARG_ONLY(VMS_SP_GRACE))

static inline bool vms_rcu_in_read_section(void)
{
	return vms_thread()->rcu_nesting > 0;
}

/* ---- PTEs --------------------------------------------------------------- */

typedef _Atomic uint64_t vms_pte_t;

/* Lock-free walkers (cursor phase 1, the simulated MMU) load with acquire:
 * it pairs with the release store that published a new child node, so
 * the child's initialised entries are visible. */
static inline uint64_t vms_pte_load_at(vms_pte_t *p VMS_SITE_PARAM)
{
	VMS_SCHED_AT(site);
	return atomic_load_explicit(p, memory_order_acquire);
}
#define vms_pte_load(p) vms_pte_load_at((p) VMS_SITE_ARG(VMS_SP_PTE_LOAD))

/* Under the node's lock the entry cannot change: relaxed is enough. */
static inline uint64_t vms_pte_load_locked(vms_pte_t *p)
{
	return atomic_load_explicit(p, memory_order_relaxed);
}

/* Every store is a release: it may publish a node or a frame whose
 * contents were written just before. */
static inline void vms_pte_store_at(vms_pte_t *p, uint64_t v VMS_SITE_PARAM)
{
	VMS_SCHED_AT(site);
	atomic_store_explicit(p, v, memory_order_release);
}
#define vms_pte_store(p, v) vms_pte_store_at((p), (v) VMS_SITE_ARG(VMS_SP_PTE_STORE))

/* Initialise an entry of a node nobody else can see yet. */
static inline void vms_pte_init(vms_pte_t *p, uint64_t v)
{
	atomic_store_explicit(p, v, memory_order_relaxed);
}

/*
 * Scans of a node's entries: the index of the first (next) or last
 * (prev) entry in a range that is not zero, its value in *@v. Fuzzed
 * trees are sparse, and walks that tested 512 entries one by one spent
 * most of their time on empty ones: these load VMS_PTE_SCAN entries, OR
 * them and test once a step (8 ran faster than 4 or 16). Every entry is
 * still loaded, with the ordering of the one-entry load of the same
 * name, so a scan sees every non-zero entry (a freed node's poison too)
 * and TSan sees the same atomics. Within the step that found something
 * the entries are loaded again one by one, and the value returned is
 * that load's. vms_pte_next, like vms_pte_load, is a scheduling point
 * per entry: in the builds that have points (VMS_SITES) it loads one
 * entry at a time, so that they stay what a loop of vms_pte_load made.
 */
#define VMS_PTE_SCAN 8

/* Always inlined: @mo is a constant then, not a switch at every load.
 * A step's entries are addressed from its first: UBSan's pointer
 * overflow check then costs less per load (4 % of the libFuzzer build's
 * CPU over a queue). */
static inline __attribute__((always_inline)) int
vms_pte_next_mo(vms_pte_t *pte, int i, int end, uint64_t *v, memory_order mo)
{
	for (; i + VMS_PTE_SCAN <= end; i += VMS_PTE_SCAN) {
		vms_pte_t *step = pte + i;
		uint64_t any = 0;

		for (int k = 0; k < VMS_PTE_SCAN; k++)
			any |= atomic_load_explicit(step + k, mo);
		if (any)
			break;
	}
	for (; i < end; i++)
		if ((*v = atomic_load_explicit(&pte[i], mo)))
			return i;
	return end;
}

/* The first entry in [i, end) that is not zero, or end; under the
 * node's lock (vms_pte_load_locked). */
static inline int vms_pte_next_locked(vms_pte_t *pte, int i, int end,
				      uint64_t *v)
{
	return vms_pte_next_mo(pte, i, end, v, memory_order_relaxed);
}

/* The last entry in [first, i] that is not zero, or first - 1; under
 * the node's lock. */
static inline int vms_pte_prev_locked(vms_pte_t *pte, int i, int first,
				      uint64_t *v)
{
	for (; i - VMS_PTE_SCAN + 1 >= first; i -= VMS_PTE_SCAN) {
		vms_pte_t *step = pte + i - (VMS_PTE_SCAN - 1);
		uint64_t any = 0;

		for (int k = 0; k < VMS_PTE_SCAN; k++)
			any |= atomic_load_explicit(step + k,
						    memory_order_relaxed);
		if (any)
			break;
	}
	for (; i >= first; i--)
		if ((*v = atomic_load_explicit(&pte[i], memory_order_relaxed)))
			return i;
	return first - 1;
}

/* The first entry in [i, end) that is not zero, or end; without the
 * node's lock (vms_pte_load). */
static inline int vms_pte_next_at(vms_pte_t *pte, int i, int end,
				  uint64_t *v VMS_SITE_PARAM)
{
#ifdef VMS_SITES
	for (; i < end; i++) {
		VMS_SCHED_AT(site);
		if ((*v = atomic_load_explicit(&pte[i], memory_order_acquire)))
			return i;
	}
	return end;
#else
	return vms_pte_next_mo(pte, i, end, v, memory_order_acquire);
#endif
}
#define vms_pte_next(pte, i, end, v)                                           \
	vms_pte_next_at(pte, i, end, v VMS_SITE_ARG(VMS_SP_PTE_LOAD))

/* ---- node locks ------------------------------------------------------- */

/* A node lock is a test-and-set spinlock that records its owner's thread
 * id: a thread that finds a lock it already owns gets -EDEADLK instead of
 * spinning forever (the lock is not re-entrant). Spinning yields the CPU
 * after a while because harness runs have more threads than cores. In
 * the VMS_SCHED build a waiter is blocked instead: not runnable until the
 * lock is free. */
typedef _Atomic uint32_t vms_lock_t;

#ifdef VMS_SCHED
/* Block the running controlled thread until @obj is free (sched.c). */
enum vms_sched_wait_kind {
	VMS_WAIT_NONE, VMS_WAIT_NODE_LOCK, VMS_WAIT_MUTEX, VMS_WAIT_GRACE, VMS_WAIT_JOIN,
};
void vms_sched_block(enum vms_sched_wait_kind kind, const void *obj,
		     const struct vms_site *site);
#endif

/*
 * Under TSan a node lock is announced as a mutex (VMS_TSAN_MUTEX_*): its
 * reports then name the node locks each access held ("(mutexes: ...)"),
 * which the triage uses to blame the lockless side of a race, and a
 * lock taken twice or released unheld is reported as such. The
 * compare-and-swap and the release store inside stay atomics TSan
 * ignores between the pre and post annotations. A range lock holds
 * every node below its guard, hundreds at once, more than TSan's
 * deadlock detector can track (64 per thread, then a CHECK failure), so
 * the TSan build turns that detector off (sync.c, __tsan_default_options):
 * the lock order has its own run-time check (VMS_CHECK_LOCK_ORDER) and
 * the stress watchdog. A fresh node's lock is taken as a lock too, so
 * its unlock balances.
 */
#ifdef VMS_TSAN
#define VMS_TSAN_MUTEX_PRE_LOCK(l) __tsan_mutex_pre_lock((void *)(l), 0)
#define VMS_TSAN_MUTEX_POST_LOCK(l) __tsan_mutex_post_lock((void *)(l), 0, 0)
/* The lock was the caller's already: nothing was taken. */
#define VMS_TSAN_MUTEX_LOCK_FAILED(l)					\
	__tsan_mutex_post_lock((void *)(l), __tsan_mutex_try_lock_failed, 0)
#define VMS_TSAN_MUTEX_PRE_UNLOCK(l) __tsan_mutex_pre_unlock((void *)(l), 0)
#define VMS_TSAN_MUTEX_POST_UNLOCK(l) __tsan_mutex_post_unlock((void *)(l), 0)
#else
#define VMS_TSAN_MUTEX_PRE_LOCK(l) do { } while (0)
#define VMS_TSAN_MUTEX_POST_LOCK(l) do { } while (0)
#define VMS_TSAN_MUTEX_LOCK_FAILED(l) do { } while (0)
#define VMS_TSAN_MUTEX_PRE_UNLOCK(l) do { } while (0)
#define VMS_TSAN_MUTEX_POST_UNLOCK(l) do { } while (0)
#endif

#ifdef VMS_SCHED
/* A controlled thread waits as for any lock: blocked until the holder
 * lets it go (sched.c). */
#define vms_node_lock_wait(l, me, spins, site)                                 \
	((void)(me), (void)(spins),                                            \
	 vms_sched_block(VMS_WAIT_NODE_LOCK, (l), (site)))
#else
/* Spin until @l is free or ours, yielding the CPU after every 64 spins
 * (counted in *@spins over the waits of one vms_node_lock). */
static inline void vms_node_lock_spin(vms_lock_t *l, uint32_t me,
				      unsigned *spins)
{
	uint32_t cur;

	do {
		if (++*spins > 64) {
			sched_yield();
			*spins = 0;
		} else {
			__builtin_ia32_pause();
		}
		cur = atomic_load_explicit(l, memory_order_relaxed);
	} while (cur != 0 && cur != me);
}
#define vms_node_lock_wait(l, me, spins, site)                                 \
	vms_node_lock_spin((l), (me), (spins))
#endif

static inline int vms_node_lock_at(vms_lock_t *l VMS_SITE_PARAM)
{
	uint32_t me = vms_thread()->id;
	unsigned spins = 0;

	VMS_SCHED_AT(site);
	VMS_TSAN_MUTEX_PRE_LOCK(l);
	for (;;) {
		uint32_t cur = 0;

		if (atomic_compare_exchange_weak_explicit(l, &cur, me,
				memory_order_acquire, memory_order_relaxed)) {
			VMS_TSAN_MUTEX_POST_LOCK(l);
			return 0;
		}
		if (cur == me) {
			VMS_TSAN_MUTEX_LOCK_FAILED(l);
			return -EDEADLK;
		}
		vms_node_lock_wait(l, me, &spins, site);
	}
}
#define vms_node_lock(l) vms_node_lock_at((l) VMS_SITE_ARG(VMS_SP_NODE_LOCK))

static inline void vms_node_lock_init(vms_lock_t *l)
{
	atomic_store_explicit(l, 0, memory_order_relaxed);
}

/* Take the lock of a node nobody else can reach yet (fresh allocation). */
static inline void vms_node_lock_fresh(vms_lock_t *l)
{
	VMS_TSAN_MUTEX_PRE_LOCK(l);
	atomic_store_explicit(l, vms_thread()->id, memory_order_relaxed);
	VMS_TSAN_MUTEX_POST_LOCK(l);
}

static inline void vms_node_unlock_at(vms_lock_t *l VMS_SITE_PARAM)
{
	VMS_SCHED_AT(site);
	VMS_TSAN_MUTEX_PRE_UNLOCK(l);
	atomic_store_explicit(l, 0, memory_order_release);
	VMS_TSAN_MUTEX_POST_UNLOCK(l);
}
#define vms_node_unlock(l) vms_node_unlock_at((l) VMS_SITE_ARG(VMS_SP_NODE_UNLOCK))

static inline uint32_t vms_node_owner(vms_lock_t *l)
{
	return atomic_load_explicit(l, memory_order_relaxed);
}

/* The owner, for a reader that does not take the lock: 0 (free) with
 * acquire, so what the last holder wrote under the lock is visible. */
static inline uint32_t vms_node_owner_acquire(vms_lock_t *l)
{
	uint32_t owner = atomic_load_explicit(l, memory_order_acquire);

	/* TSan ignored the unlock's store; the mutex's release pairs here. */
	if (!owner)
		VMS_TSAN_ACQUIRE(l);
	return owner;
}

/* ---- mutexes ------------------------------------------------------- */

/* For the registries and the reclaim serialisation: short sections that
 * may block, off the cursors' hot path. In the checking builds
 * (VMS_CHECKS) a mutex knows its holder, so that code editing what a
 * mutex protects can assert that its thread holds it (vms_mutex_held,
 * internal.h's VMS_HELD; Linux's lockdep_assert_held). */
#ifdef VMS_SCHED
/* Controlled build: an owner id (0: free) and a depth for the recursive
 * kind; a waiter is blocked until the owner lets go. */
typedef struct {
	uint32_t owner, depth;
	bool recursive;
} vms_mutex_t;

#define VMS_MUTEX_INIT { 0, 0, false }
#define VMS_MUTEX_RECURSIVE_INIT { 0, 0, true }

static inline void vms_mutex_init(vms_mutex_t *m)
{
	*m = (vms_mutex_t)VMS_MUTEX_INIT;
}

static inline void vms_mutex_destroy(vms_mutex_t *m) { }

static inline bool vms_mutex_take(vms_mutex_t *m, uint32_t me)
{
	if (m->owner && (m->owner != me || !m->recursive))
		return false;
	m->owner = me;
	m->depth++;
	return true;
}

static inline void vms_mutex_lock_at(vms_mutex_t *m VMS_SITE_PARAM)
{
	uint32_t me = vms_thread()->id;

	VMS_SCHED_AT(site);
	while (!vms_mutex_take(m, me))
		vms_sched_block(VMS_WAIT_MUTEX, m, site);
}

static inline bool vms_mutex_trylock_at(vms_mutex_t *m VMS_SITE_PARAM)
{
	VMS_SCHED_AT(site);
	return vms_mutex_take(m, vms_thread()->id);
}

static inline void vms_mutex_unlock_at(vms_mutex_t *m VMS_SITE_PARAM)
{
	VMS_SCHED_AT(site);
	if (!--m->depth)
		m->owner = 0;
}

static inline bool vms_mutex_held(const vms_mutex_t *m)
{
	return m->owner == vms_thread()->id;
}
#else
typedef struct {
	pthread_mutex_t m;
#ifdef VMS_CHECKS
	/* The holder's thread id (0: none), read by any thread: only the
	 * holder ever finds its own id there. depth: the holder's. */
	_Atomic uint32_t holder;
	uint32_t depth;
#endif
} vms_mutex_t;

#define VMS_MUTEX_INIT { PTHREAD_MUTEX_INITIALIZER }
/* Needs _GNU_SOURCE in the including file (glibc's initializer). */
#define VMS_MUTEX_RECURSIVE_INIT { PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP }

#ifdef VMS_CHECKS
static inline void vms_mutex_took(vms_mutex_t *m)
{
	atomic_store_explicit(&m->holder, vms_thread()->id,
			      memory_order_relaxed);
	m->depth++;
}

static inline void vms_mutex_letting_go(vms_mutex_t *m)
{
	if (!--m->depth)
		atomic_store_explicit(&m->holder, 0, memory_order_relaxed);
}

static inline bool vms_mutex_held(const vms_mutex_t *m)
{
	return atomic_load_explicit(&m->holder, memory_order_relaxed) ==
	       vms_thread()->id;
}
#else
static inline void vms_mutex_took(vms_mutex_t *m)
{
}
static inline void vms_mutex_letting_go(vms_mutex_t *m)
{
}
#endif

static inline void vms_mutex_init(vms_mutex_t *m)
{
	pthread_mutex_init(&m->m, NULL);
#ifdef VMS_CHECKS
	atomic_init(&m->holder, 0);
	m->depth = 0;
#endif
}

static inline void vms_mutex_destroy(vms_mutex_t *m)
{
	pthread_mutex_destroy(&m->m);
}

static inline void vms_mutex_lock_at(vms_mutex_t *m VMS_SITE_PARAM)
{
	VMS_SCHED_AT(site);
	pthread_mutex_lock(&m->m);
	vms_mutex_took(m);
}

/* True if the mutex was free and is now held. */
static inline bool vms_mutex_trylock_at(vms_mutex_t *m VMS_SITE_PARAM)
{
	VMS_SCHED_AT(site);
	if (pthread_mutex_trylock(&m->m))
		/* cov: threads: busy: another thread reclaims just then (timing); the rest runs in every stress --faults run (stress.c first_kick_fails) */
		return false;
	vms_mutex_took(m);
	return true;
}

static inline void vms_mutex_unlock_at(vms_mutex_t *m VMS_SITE_PARAM)
{
	VMS_SCHED_AT(site);
	vms_mutex_letting_go(m);
	pthread_mutex_unlock(&m->m);
}
#endif
#define vms_mutex_lock(m) vms_mutex_lock_at((m) VMS_SITE_ARG(VMS_SP_MUTEX_LOCK))
#define vms_mutex_trylock(m) vms_mutex_trylock_at((m) VMS_SITE_ARG(VMS_SP_MUTEX_LOCK))
#define vms_mutex_unlock(m) vms_mutex_unlock_at((m) VMS_SITE_ARG(VMS_SP_MUTEX_UNLOCK))

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

static inline void vms_ref_add_at(vms_ref_t *r, uint64_t n VMS_SITE_PARAM)
{
	VMS_SCHED_AT(site);
	atomic_fetch_add_explicit(r, n, memory_order_relaxed);
}
#define vms_ref_add(r, n) vms_ref_add_at((r), (n) VMS_SITE_ARG(VMS_SP_REF))

/* Drop @n references; true if that was the last of them. */
static inline bool vms_ref_sub_at(vms_ref_t *r, uint64_t n VMS_SITE_PARAM)
{
	VMS_SCHED_AT(site);
	return atomic_fetch_sub_explicit(r, n, memory_order_acq_rel) == n;
}
#define vms_ref_sub(r, n) vms_ref_sub_at((r), (n) VMS_SITE_ARG(VMS_SP_REF))

/* Drop one reference unless there is none: false (and no change) at 0. */
static inline bool vms_ref_dec_not_zero_at(vms_ref_t *r VMS_SITE_PARAM)
{
	uint64_t v;

	VMS_SCHED_AT(site);
	v = atomic_load_explicit(r, memory_order_relaxed);

	do {
		if (!v)
			return false;
	} while (!atomic_compare_exchange_weak_explicit(r, &v, v - 1,
			memory_order_relaxed, memory_order_relaxed));
	return true;
}
#define vms_ref_dec_not_zero(r) vms_ref_dec_not_zero_at((r) VMS_SITE_ARG(VMS_SP_REF))

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

/* Make the sum @v; only while nobody else updates @c (a pool reset). */
static inline void vms_count_set(struct vms_count *c, long v)
{
	for (int i = 0; i < VMS_NR_COUNT_SHARDS; i++)
		atomic_store_explicit(&c->shard[i].v, i ? 0 : v, memory_order_relaxed);
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
	vms_mutex_t reclaim_lock;	/* held by the thread releasing a set */
	/* Emptied batches a reclaim keeps for the next cursor that needs one
	 * (vms_defer_spare_take), up to VMS_RETIRE_BACKLOG items of room:
	 * freed, they went back to the heap of the thread that allocated
	 * them, which a busy heap gave back to the kernel, so that every
	 * hand-over cost that thread page faults on fresh memory. Under
	 * spare_lock (taken like a thread's defer lock, never across a
	 * scheduling point); written at reclaims and batch takes only. */
	_Atomic uint32_t spare_lock __attribute__((aligned(64)));
	uint64_t spare_room;		/* sum of the spares' cap */
	struct vms_defer_batch *spare;
	/* The census of hand-overs that builds with run-time checks keep
	 * (VMS_CHECKS, vms_defer_reclaim); present in every build so that
	 * the struct is one whatever a file was compiled with. */
	_Atomic uint64_t pushing;	/* pushes under way */
	_Atomic uint64_t pushed;	/* batches whose push completed */
	uint64_t taken;			/* batches reclaimers took (reclaim_lock) */
};

/* Move the items of *@bp (a cursor's batch, removed from the tree by this
 * thread) into the thread's batch for @s; may take *@bp over instead (then
 * sets it NULL), hand batches over and call kick. Never allocates or waits
 * for a grace period. True if the thread's batch for @s went to the
 * reclaimer (what the thread holds back starts afresh). A hand-over is a
 * scheduling point (VMS_SP_DEFER), the rest is not. */
bool vms_defer_retire(struct vms_defer_stack *s, struct vms_defer_batch **bp);
/* Hand over every thread's batch for @s. */
void vms_defer_collect(struct vms_defer_stack *s);
/* Items retired into @s and not yet released (racy under concurrency,
 * exact at quiescence). */
uint64_t vms_defer_pending(struct vms_defer_stack *s);
/* More than VMS_RETIRE_BACKLOG items handed over and not yet released:
 * the reclaimer lags (it runs at nice 19 and two busy threads starve it),
 * so the thread handing over should reclaim itself (pool.c). */
bool vms_defer_backlogged(struct vms_defer_stack *s);
/* An empty batch a reclaim kept (any cap; n and weight 0), or NULL. */
struct vms_defer_batch *vms_defer_spare_take(struct vms_defer_stack *s);
/* Free the kept batches (a pool that goes idle: destroy, reset). */
void vms_defer_spare_free(struct vms_defer_stack *s);

/* Wait for a grace period and call @release on every item handed over
 * before the call; frees the batches. Equal neighbours in a batch (a
 * frame unmapped again and again, the PTEs of a split 2 MiB frame) go in
 * one call, with their number in @n. With @wait, also waits for a
 * reclaim already under way on another thread (so everything handed over
 * before the call is released on return); without, returns at once if
 * one is. -EDEADLK inside a read-side section. */
int vms_defer_reclaim(struct vms_defer_stack *s, bool wait,
		      void (*release)(void *arg, uint64_t item, uint32_t n), void *arg);

/* ---- background worker ---------------------------------------------- */

/* A thread that runs @fn whenever it is kicked (the pool's reclaimer).
 * It is started on the first kick; kicks while one is pending collapse
 * into one run. It is background work: it runs at nice 19 under @name
 * (sync.c says why). In the VMS_SCHED build it is a controlled thread
 * that runs @fn until no kick is pending, then ends (a later kick starts
 * it again in the same slot): runnable exactly when kicked. */
struct vms_worker {
	void (*fn)(void *arg);
	void *arg;
	const char *name;		/* the thread's name, for profiles */
	/* Threads started (tests read it: tests/peek.h). */
	_Atomic uint64_t starts;
#ifdef VMS_SCHED
	uint64_t thread;		/* sched.c handle; 0: never started */
	bool wake, stop;
#else
	_Atomic bool kicked;		/* a kick is pending: kickers skip the mutex */
	pthread_mutex_t lock;		/* protects the five fields below */
	pthread_cond_t cond;
	pthread_t thread;
	bool running, wake, stop;
#endif
};

void vms_worker_init(struct vms_worker *w, const char *name, void (*fn)(void *arg), void *arg);
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
void vms_copy_from_frame_at(void *dst, const void *src, size_t n VMS_SITE_PARAM);
void vms_copy_to_frame_at(void *dst, const void *src, size_t n VMS_SITE_PARAM);
#define vms_copy_from_frame(d, s, n) vms_copy_from_frame_at((d), (s), (n) VMS_SITE_ARG(VMS_SP_COPY))
#define vms_copy_to_frame(d, s, n) vms_copy_to_frame_at((d), (s), (n) VMS_SITE_ARG(VMS_SP_COPY))

/* ---- allocations ---------------------------------------------------- */

/* Memory for the core's own objects (cursors, spaces, accessors, batches,
 * the checker's scratch) comes through here, so that fault injection
 * (fault.h) can fail any of them as an exhaustion would: NULL. Frames
 * and page-table nodes ask in the pool's allocators. Aligned to a cache
 * line: pools and spaces keep their hot counters on lines of their
 * own (aligned(64)), which calloc's 16 bytes do not give. */
#define VMS_ZALLOC_ALIGN 64
static inline void *vms_zalloc(size_t n, enum vms_fault_kind k)
{
	size_t size =
		(n + VMS_ZALLOC_ALIGN - 1) & ~(size_t)(VMS_ZALLOC_ALIGN - 1);
	void *p = VMS_FAULT(k) ? NULL : aligned_alloc(VMS_ZALLOC_ALIGN, size);

	return p ? memset(p, 0, size) : NULL;
}

static inline void *vms_realloc(void *p, size_t n, enum vms_fault_kind k)
{
	return VMS_FAULT(k) ? NULL : realloc(p, n);
}

#endif /* VMS_SYNC_H */
