/* SPDX-License-Identifier: MIT */
/* sync.c - thread registration, RCU wrappers, deferred release, workers. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE	/* pthread_setname_np, gettid */
#endif
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "sync.h"
#include "internal.h"
#ifdef VMS_SCHED
#include "scheduler.h"
#else
#include <urcu.h>
#endif

__thread struct vms_thread vms_self;
static _Atomic uint32_t next_thread_id;

#ifdef VMS_TSAN
char vms_gp_token;

/* Defaults under whatever TSAN_OPTIONS adds: the node locks are mutexes
 * to TSan, and a range lock holds more of them than its deadlock
 * detector can (sync.h, "node locks"). */
const char *__tsan_default_options(void);
const char *__tsan_default_options(void)
{
	return "detect_deadlocks=0";
}
#endif
#ifdef VMS_SCHED_HOOK
void (*vms_sched_hook)(bool copy, const char *where);
#endif

/* Live threads, for vms_defer_collect: OS threads once registered, and
 * the controlled threads of the VMS_SCHED build (sched.c). Never held
 * across a scheduling point. */
static pthread_mutex_t threads_lock = PTHREAD_MUTEX_INITIALIZER;
static struct vms_thread *threads;

#ifdef VMS_SCHED
__thread struct vms_thread *vms_sched_cur;

/* An OS thread outside controlled runs (the harness's own, which sets up
 * and checks pools): an id above every controlled thread's, no liburcu. */
void vms_thread_register_slow(void)
{
	vms_self.id = VMS_SCHED_MAX_THREADS + 1 + atomic_fetch_add(&next_thread_id, 1);
	vms_self.registered = true;
	vms_sched_cur = &vms_self;
	vms_thread_enter(&vms_self);
}

void vms_rcu_read_lock_at(VMS_SITE_PARAM_ONLY)
{
	struct vms_thread *t = vms_thread();

	VMS_SCHED_AT(site);
	if (!t->rcu_nesting++)
		t->rcu_sections++;
}

void vms_rcu_read_unlock_at(VMS_SITE_PARAM_ONLY)
{
	struct vms_thread *t = vms_thread();

	VMS_SCHED_AT(site);
	t->rcu_nesting--;
}

int vms_rcu_synchronize_at(VMS_SITE_PARAM_ONLY)
{
	if (vms_rcu_in_read_section())
		/* cov: unreachable: one caller, vms_defer_reclaim, refuses that first */
		return -EDEADLK;
	VMS_SCHED_AT(site);
	vms_sched_grace(site);
	return 0;
}
#else
static pthread_key_t exit_key;
static pthread_once_t exit_key_once = PTHREAD_ONCE_INIT;

/* At thread exit: drop the thread's activation, hand over its retired
 * items, free its cached cursors and leave RCU, so a grace period never
 * waits for a thread that is gone. */
static void thread_exit(void *unused)
{
	vms_space_thread_exit();
	if (vms_self.registered) {
		vms_thread_leave(&vms_self);
		rcu_unregister_thread();
		vms_self.registered = false;
	}
}

static void make_exit_key(void)
{
	pthread_key_create(&exit_key, thread_exit);
}

void vms_thread_register_slow(void)
{
	pthread_once(&exit_key_once, make_exit_key);
	rcu_register_thread();
	vms_self.id = atomic_fetch_add(&next_thread_id, 1) + 1;
	vms_self.rcu_nesting = 0;
	vms_self.registered = true;
	vms_thread_enter(&vms_self);
	/* Any non-NULL value makes the destructor run. */
	pthread_setspecific(exit_key, &vms_self);
}

void vms_rcu_read_lock_at(VMS_SITE_PARAM_ONLY)
{
	struct vms_thread *t = vms_thread();

	VMS_SCHED_AT(site);
	rcu_read_lock();
	t->rcu_nesting++;
}

void vms_rcu_read_unlock_at(VMS_SITE_PARAM_ONLY)
{
	VMS_SCHED_AT(site);
	vms_self.rcu_nesting--;
	VMS_TSAN_RELEASE(&vms_gp_token);
	rcu_read_unlock();
}

int vms_rcu_synchronize_at(VMS_SITE_PARAM_ONLY)
{
	if (vms_rcu_in_read_section())
		/* cov: unreachable: one caller, vms_defer_reclaim, refuses that first */
		return -EDEADLK;
	VMS_SCHED_AT(site);
	synchronize_rcu();
	VMS_TSAN_ACQUIRE(&vms_gp_token);
	return 0;
}
#endif

#ifdef VMS_FAULTS
bool vms_fault(enum vms_fault_kind k)
{
	struct vms_fault_state *f = &vms_thread()->fault;
	bool fail = false;

	f->sites++;
	if (f->nth && (f->kind == VMS_FAULT_ANY || f->kind == k))
		fail = !--f->nth;
	if (!fail && f->rate) {
		/* cov: threads: a fault rate: only stress --faults */
		/* xorshift64: cheap, and the same sequence for the same seed */
		f->rng ^= f->rng << 13;
		f->rng ^= f->rng >> 7;
		f->rng ^= f->rng << 17;
		fail = (uint32_t)(f->rng >> 32) < f->rate;
	}
	if (fail && !f->injected) {
		f->injected = (uint8_t)k;
		f->injected_nth = f->sites;
	}
	return fail;
}

void vms_fault_arm(uint32_t nth, enum vms_fault_kind k)
{
	struct vms_fault_state *f = &vms_thread()->fault;

	f->nth = nth;
	f->kind = (uint8_t)(k < VMS_FAULT_NR ? k : VMS_FAULT_ANY);
}

void vms_fault_random(uint32_t rate, uint64_t seed)
{
	struct vms_fault_state *f = &vms_thread()->fault;

	f->rate = rate;
	f->rng = seed | 1;	/* xorshift never leaves 0 */
}

enum vms_fault_kind vms_fault_take(uint32_t *nth)
{
	struct vms_fault_state *f = &vms_thread()->fault;
	enum vms_fault_kind k = f->injected;

	*nth = k ? f->injected_nth : 0;
	f->injected = 0;
	f->sites = 0;
	f->nth = 0;
	return k;
}
#endif

/* ---- deferred release ------------------------------------------------ */

/* Hand @b over to @s: the reclaimer's list. */
static void defer_push(struct vms_defer_stack *s, struct vms_defer_batch *b)
{
	struct vms_defer_batch *old;

#ifdef VMS_CHECKS
	atomic_fetch_add(&s->pushing, 1);	/* before the head is read */
#endif
	old = atomic_load_explicit(&s->head, memory_order_relaxed);
	atomic_fetch_add_explicit(&s->items, b->n, memory_order_relaxed);
	/* The point sits between the read of the head and its write: another
	 * push may come in between (the compare-and-swap then fails and
	 * retries with the new head), and the controlled scheduler can put
	 * one there. */
	VMS_SCHED_POINT(VMS_SP_DEFER);
#ifdef VMS_BUG_defer_push_racy
	/* Planted: a load and a store where a compare-and-swap belongs. */
	b->next = old;
	atomic_store_explicit(&s->head, b, memory_order_release);
#else
	do {
		b->next = old;
	} while (!atomic_compare_exchange_weak_explicit(&s->head, &old, b,
			memory_order_release, memory_order_relaxed));
#endif
#ifdef VMS_CHECKS
	atomic_fetch_add(&s->pushed, 1);	/* after the head is written */
	atomic_fetch_sub(&s->pushing, 1);
#endif
}

/*
 * A thread's defer lock: the owner and a quiescer hold it for a few
 * loads and stores, never across a scheduling point (the hand-overs it
 * decides on happen after the unlock). So the controlled build, where a
 * thread stops only at scheduling points, never finds it taken.
 */
static void short_lock(_Atomic uint32_t *lock)
{
	VMS_TSAN_MUTEX_PRE_LOCK(lock);
	while (atomic_exchange_explicit(lock, 1, memory_order_acquire)) {
/* cov: threads: contended: stress threads; no fuzz build preempts inside */
#ifdef VMS_SCHED
		abort();	/* held across a scheduling point: a core bug */
#else
		sched_yield();
#endif
	}
	VMS_TSAN_MUTEX_POST_LOCK(lock);
}

static void short_unlock(_Atomic uint32_t *lock)
{
	VMS_TSAN_MUTEX_PRE_UNLOCK(lock);
	atomic_store_explicit(lock, 0, memory_order_release);
	VMS_TSAN_MUTEX_POST_UNLOCK(lock);
}

static void local_lock(struct vms_defer_local *l)
{
	short_lock(&l->lock);
}

static void local_unlock(struct vms_defer_local *l)
{
	short_unlock(&l->lock);
}

/* Keep @b (released, n and weight reset) for a later batch, or free it
 * if the spares have room for VMS_RETIRE_BACKLOG items already. */
static void spare_put(struct vms_defer_stack *s, struct vms_defer_batch *b)
{
	b->n = 0;
	b->weight = 0;
	short_lock(&s->spare_lock);
	if (s->spare_room + b->cap <= VMS_RETIRE_BACKLOG) {
		b->next = s->spare;
		s->spare = b;
		s->spare_room += b->cap;
		b = NULL;
	}
	short_unlock(&s->spare_lock);
	free(b);
}

struct vms_defer_batch *vms_defer_spare_take(struct vms_defer_stack *s)
{
	struct vms_defer_batch *b;

	short_lock(&s->spare_lock);
	b = s->spare;
	if (b) {
		s->spare = b->next;
		s->spare_room -= b->cap;
	}
	short_unlock(&s->spare_lock);
	return b;
}

void vms_defer_spare_free(struct vms_defer_stack *s)
{
	struct vms_defer_batch *b;

	while ((b = vms_defer_spare_take(s)))
		free(b);
}

bool vms_defer_backlogged(struct vms_defer_stack *s)
{
	return atomic_load_explicit(&s->items, memory_order_relaxed) > VMS_RETIRE_BACKLOG;
}

/* Batches a retire decided to hand over, pushed after the unlock. */
struct handover {
	int n;
	struct { struct vms_defer_stack *to; struct vms_defer_batch *b; } h[3];
};

static void handover_add(struct handover *ho, struct vms_defer_stack *to,
			 struct vms_defer_batch *b)
{
	ho->h[ho->n].to = to;
	ho->h[ho->n++].b = b;
}

bool vms_defer_retire(struct vms_defer_stack *s, struct vms_defer_batch **bp)
{
	struct vms_defer_local *l = &vms_thread()->defer;
	struct vms_defer_batch *b = *bp, *cur;
	struct vms_defer_stack *other = NULL;
	struct handover ho = { 0 };
	uint32_t batch;
	bool kick = false;

	if (!b || !b->n)
		return false;
	batch = atomic_load_explicit(&s->batch, memory_order_relaxed);
	local_lock(l);
	cur = l->batch;
	if (cur && l->stack != s) {
		other = l->stack;
		handover_add(&ho, other, cur);
		cur = NULL;
	}
	if (cur && cur->cap - cur->n >= b->n) {
		/* The common case: a few items join the thread's batch, the
		 * cursor keeps its (now empty) batch for its next session. */
		memcpy(&cur->item[cur->n], b->item, b->n * sizeof(b->item[0]));
		cur->n += b->n;
		cur->weight += b->weight;
		b->n = 0;
		b->weight = 0;
	} else {
		if (cur) {
			handover_add(&ho, s, cur);
			kick = true;
		}
		cur = b;
		*bp = NULL;
	}
	/* Batch 1: whatever the items weigh (a frame retired again weighs
	 * nothing, cursor.c), every drop that retired something hands over. */
	if (batch <= 1 || cur->weight >= batch) {
		handover_add(&ho, s, cur);
		cur = NULL;
		kick = true;
	}
	l->batch = cur;
	l->stack = s;
	local_unlock(l);
	/* Outside the lock: a push is a scheduling point, and a kick may
	 * take mutexes or even reclaim. */
	for (int i = 0; i < ho.n; i++)
		defer_push(ho.h[i].to, ho.h[i].b);
	if (other)
		other->kick(other);
	if (kick)
		s->kick(s);
	return kick;
}

/* Take @t's batch if it belongs to @s (any stack if @s is NULL), with
 * the stack it belongs to in *@to. */
static struct vms_defer_batch *defer_take(struct vms_thread *t,
					  const struct vms_defer_stack *s,
					  struct vms_defer_stack **to)
{
	struct vms_defer_local *l = &t->defer;
	struct vms_defer_batch *b = NULL;

	local_lock(l);
	if (l->batch && (!s || l->stack == s)) {
		b = l->batch;
		*to = l->stack;
		l->batch = NULL;
	}
	local_unlock(l);
	return b;
}

void vms_defer_collect(struct vms_defer_stack *s)
{
	struct vms_defer_batch *taken = NULL, *b, *next;
	struct vms_defer_stack *to;

	pthread_mutex_lock(&threads_lock);
	for (struct vms_thread *t = threads; t; t = t->next) {
		if ((b = defer_take(t, s, &to))) {
			b->next = taken;
			taken = b;
		}
	}
	pthread_mutex_unlock(&threads_lock);
	for (b = taken; b; b = next) {
		next = b->next;
		defer_push(s, b);
	}
}

uint64_t vms_defer_pending(struct vms_defer_stack *s)
{
	uint64_t n = atomic_load(&s->items);

	pthread_mutex_lock(&threads_lock);
	for (struct vms_thread *t = threads; t; t = t->next) {
		local_lock(&t->defer);
		if (t->defer.batch && t->defer.stack == s)
			n += t->defer.batch->n;
		local_unlock(&t->defer);
	}
	pthread_mutex_unlock(&threads_lock);
	return n;
}

void vms_thread_enter(struct vms_thread *t)
{
	pthread_mutex_lock(&threads_lock);
	if (!t->listed) {
		t->next = threads;
		threads = t;
		t->listed = true;
	}
	pthread_mutex_unlock(&threads_lock);
}

void vms_thread_leave(struct vms_thread *t)
{
	struct vms_defer_stack *to = NULL;
	struct vms_defer_batch *b = defer_take(t, NULL, &to);
	struct vms_thread **pp;

	pthread_mutex_lock(&threads_lock);
	for (pp = &threads; *pp && *pp != t; pp = &(*pp)->next)
		;
	if (*pp)
		*pp = t->next;
	t->listed = false;
	pthread_mutex_unlock(&threads_lock);
	vms_cursor_cache_free(t);
	if (b) {
		defer_push(to, b);
		to->kick(to);
	}
}

int vms_defer_reclaim(struct vms_defer_stack *s, bool wait,
		      void (*release)(void *arg, uint64_t item, uint32_t n), void *arg)
{
	struct vms_defer_batch *b, *next;

	if (vms_rcu_in_read_section())
		/* cov: unreachable: callers refuse a read section, or are the reclaimer */
		return -EDEADLK;
	if (wait)
		vms_mutex_lock(&s->reclaim_lock);
	else if (!vms_mutex_trylock(&s->reclaim_lock))
		return 0;
#ifdef VMS_CHECKS
	/*
	 * The census (DEFER_LIST): pushes count themselves as under way
	 * before they read the head and as done after they wrote it, all
	 * sequentially consistent. Every batch on the list taken here was
	 * written by a push done by the second read of `pushed`, or under
	 * way at the second read of `pushing`: past that many in all, the
	 * walk has reached a batch taken before (its memory released; the
	 * walk stops there rather than follow it). With no push under way
	 * around the exchange and none done meanwhile, the list holds
	 * exactly the batches done and not taken yet: fewer, and a
	 * hand-over was lost.
	 */
	uint64_t done1 = atomic_load(&s->pushed), busy1 = atomic_load(&s->pushing);
#endif
	b = atomic_exchange_explicit(&s->head, NULL, memory_order_acquire);
#ifdef VMS_CHECKS
	uint64_t busy2 = atomic_load(&s->pushing), done2 = atomic_load(&s->pushed);
	bool quiet = !busy1 && !busy2 && done1 == done2;
#endif
	if (b)
		vms_rcu_synchronize();
	for (; b; b = next) {
		VMS_SCHED_POINT(VMS_SP_RECLAIM);
#ifdef VMS_CHECKS
		if (s->taken >= done2 + busy2) {
			/* cov: unreachable: an invariant check fired: only on a broken core */
			vms_invariant_broken(VMS_CHECK_DEFER_LIST, __func__);
			break;
		}
		s->taken++;
#endif
		next = b->next;
		vms_thread()->after_grace++;
		for (uint32_t i = 0, j; i < b->n; i = j) {
			for (j = i + 1; j < b->n && b->item[j] == b->item[i]; j++)
				;
			release(arg, b->item[i], j - i);
		}
		vms_thread()->after_grace--;
		atomic_fetch_sub_explicit(&s->items, b->n, memory_order_relaxed);
		spare_put(s, b);
	}
#ifdef VMS_CHECKS
	if (quiet && s->taken != done2) {
		vms_invariant_broken(VMS_CHECK_DEFER_LIST, __func__);
		s->taken = done2;	/* one report per loss */
	}
#endif
	vms_mutex_unlock(&s->reclaim_lock);
	return 0;
}

#ifdef VMS_SCHED
void vms_worker_init(struct vms_worker *w, const char *name, void (*fn)(void *arg), void *arg)
{
	w->fn = fn;
	w->arg = arg;
	w->name = name;
	atomic_init(&w->starts, 0);
	w->thread = 0;
	w->wake = w->stop = false;
}

/* A controlled thread: runs while kicked, then ends. */
static void worker_main(void *arg)
{
	struct vms_worker *w = arg;

	while (w->wake) {
		w->wake = false;
		w->fn(w->arg);
	}
}

bool vms_worker_kick(struct vms_worker *w)
{
	if (w->stop)
		/* cov: unreachable: no scheduling point while a stop is under way */
		return false;
	w->wake = true;
	if (vms_sched_alive(w->thread))
		return true;
	if (vms_sched_spawn(worker_main, w, &w->thread))
		return false;
	atomic_fetch_add_explicit(&w->starts, 1, memory_order_relaxed);
	return true;
}

void vms_worker_stop(struct vms_worker *w)
{
	w->stop = true;
	vms_sched_join(w->thread, VMS_SITE(VMS_SP_THREAD));
	w->stop = false;
}

void vms_worker_destroy(struct vms_worker *w)
{
}
#else
void vms_worker_init(struct vms_worker *w, const char *name, void (*fn)(void *arg), void *arg)
{
	w->fn = fn;
	w->arg = arg;
	w->name = name;
	atomic_init(&w->starts, 0);
	atomic_init(&w->kicked, false);
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->cond, NULL);
	w->running = w->wake = w->stop = false;
}

static void *worker_main(void *arg)
{
	struct vms_worker *w = arg;

	/* A name profiles can tell apart from the threads it serves. */
	pthread_setname_np(pthread_self(), w->name);
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
	 * load: with memory short, threads reclaim themselves (pool.c).
	 */
	setpriority(PRIO_PROCESS, (id_t)gettid(), 19);
	pthread_mutex_lock(&w->lock);
	for (;;) {
		while (!w->wake && !w->stop)
			pthread_cond_wait(&w->cond, &w->lock);
		if (w->stop)
			break;
		w->wake = false;
		pthread_mutex_unlock(&w->lock);
		atomic_store(&w->kicked, false);
		w->fn(w->arg);
		pthread_mutex_lock(&w->lock);
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

bool vms_worker_kick(struct vms_worker *w)
{
	bool running;

	if (atomic_exchange(&w->kicked, true))
		return true;	/* the pending kick covers this one */
	pthread_mutex_lock(&w->lock);
	if (!w->running && !w->stop) {
		w->running = !VMS_FAULT(VMS_FAULT_THREAD) &&
			     !pthread_create(&w->thread, NULL, worker_main, w);
		if (w->running)
			atomic_fetch_add_explicit(&w->starts, 1,
						  memory_order_relaxed);
	}
	running = w->running;
	if (running) {
		w->wake = true;
		pthread_cond_signal(&w->cond);
	}
	pthread_mutex_unlock(&w->lock);
	if (!running)
		atomic_store(&w->kicked, false);
	return running;
}

void vms_worker_stop(struct vms_worker *w)
{
	bool join;

	pthread_mutex_lock(&w->lock);
	join = w->running;
	w->stop = true;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
	if (join)
		/* cov: threads: the plain reclaimer thread: only stress starts it */
		pthread_join(w->thread, NULL);
	pthread_mutex_lock(&w->lock);
	w->running = false;
	w->stop = false;	/* a refused destroy leaves a usable pool */
	pthread_mutex_unlock(&w->lock);
	/* A kick that came in while it stopped is void: the next one must
	 * start the thread again (a pool reset reuses the worker). */
	atomic_store(&w->kicked, false);
}

void vms_worker_destroy(struct vms_worker *w)
{
	pthread_mutex_destroy(&w->lock);
	pthread_cond_destroy(&w->cond);
}
#endif

/* Every copy starts with a scheduling point: an accessor copies inside
 * its read-side section, so a hook that lingers here keeps the reader in
 * its section longer (the stress driver's --read-hold), and a grace
 * period may end in the middle of a read. */
#ifdef VMS_TSAN
/*
 * Relaxed atomics: racy by design in simulated memory, not in libvms.
 * Aligned 8-byte words go whole, as an aligned word does on the hardware
 * (and in memcpy): byte by byte, a reader racing with a writer through
 * another mapping of the same frame could see half of a word, which the
 * stress driver's grace oracle rightly calls "neither zero nor a
 * writer's word" (a 30-minute TSan soak hit it once).
 */
static void copy_relaxed(void *dst, const void *src, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;
	size_t i = 0;

	if (!(((uintptr_t)d | (uintptr_t)s) & 7))
		for (; i + 8 <= n; i += 8)
			__atomic_store_n((uint64_t *)(d + i),
					 __atomic_load_n((const uint64_t *)(s + i), __ATOMIC_RELAXED),
					 __ATOMIC_RELAXED);
	for (; i < n; i++)
		__atomic_store_n(&d[i], __atomic_load_n(&s[i], __ATOMIC_RELAXED),
				 __ATOMIC_RELAXED);
}

void vms_copy_from_frame_at(void *dst, const void *src, size_t n VMS_SITE_PARAM)
{
	VMS_SCHED_AT(site);
	copy_relaxed(dst, src, n);
}

void vms_copy_to_frame_at(void *dst, const void *src, size_t n VMS_SITE_PARAM)
{
	VMS_SCHED_AT(site);
	copy_relaxed(dst, src, n);
}
#else
#ifdef VMS_SCHED
void (*vms_copy_hook)(const void *frame, size_t n, bool write);
#define COPY_HOOK(frame, n, write)					\
	do {								\
		if (vms_copy_hook)					\
			vms_copy_hook((frame), (n), (write));		\
	} while (0)
#else
#define COPY_HOOK(frame, n, write) do { } while (0)
#endif

void vms_copy_from_frame_at(void *dst, const void *src, size_t n VMS_SITE_PARAM)
{
	VMS_SCHED_AT(site);
	COPY_HOOK(src, n, false);
	memcpy(dst, src, n);
}

void vms_copy_to_frame_at(void *dst, const void *src, size_t n VMS_SITE_PARAM)
{
	VMS_SCHED_AT(site);
	COPY_HOOK(dst, n, true);
	memcpy(dst, src, n);
}
#endif
