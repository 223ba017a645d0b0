/* SPDX-License-Identifier: MIT */
/* sync.c - thread registration, RCU wrappers, deferred release, workers. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

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
#endif
#ifdef VMS_SCHED_HOOK
void (*vms_sched_hook)(bool copy, const char *where);
#endif

#ifdef VMS_SCHED
__thread struct vms_thread *vms_sched_cur;

/* An OS thread outside controlled runs (the harness's own, which sets up
 * and checks pools): an id above every controlled thread's, no liburcu. */
void vms_thread_register_slow(void)
{
	vms_self.id = VMS_SCHED_MAX_THREADS + 1 + atomic_fetch_add(&next_thread_id, 1);
	vms_self.registered = true;
	vms_sched_cur = &vms_self;
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
		return -EDEADLK;
	VMS_SCHED_AT(site);
	vms_sched_grace(site);
	return 0;
}
#else
static pthread_key_t exit_key;
static pthread_once_t exit_key_once = PTHREAD_ONCE_INIT;

/* At thread exit: drop the thread's activation and leave RCU, so a
 * grace period never waits for a thread that is gone. */
static void thread_exit(void *unused)
{
	vms_space_thread_exit();
	if (vms_self.registered) {
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

void vms_defer_push_at(struct vms_defer_stack *s, struct vms_defer_batch *b VMS_SITE_PARAM)
{
	struct vms_defer_batch *old;

	VMS_SCHED_AT(site);
	old = atomic_load_explicit(&s->head, memory_order_relaxed);
	atomic_fetch_add_explicit(&s->items, b->n, memory_order_relaxed);
	do {
		b->next = old;
	} while (!atomic_compare_exchange_weak_explicit(&s->head, &old, b,
			memory_order_release, memory_order_relaxed));
}

int vms_defer_reclaim(struct vms_defer_stack *s, bool wait,
		      void (*release)(void *arg, uint64_t item), void *arg)
{
	struct vms_defer_batch *b, *next;

	if (vms_rcu_in_read_section())
		return -EDEADLK;
	if (wait)
		vms_mutex_lock(&s->reclaim_lock);
	else if (!vms_mutex_trylock(&s->reclaim_lock))
		return 0;
	b = atomic_exchange_explicit(&s->head, NULL, memory_order_acquire);
	if (b)
		vms_rcu_synchronize();
	for (; b; b = next) {
		VMS_SCHED_POINT(VMS_SP_RECLAIM);
		next = b->next;
		vms_thread()->after_grace++;
		for (uint32_t i = 0; i < b->n; i++)
			release(arg, b->item[i]);
		vms_thread()->after_grace--;
		atomic_fetch_sub_explicit(&s->items, b->n, memory_order_relaxed);
		free(b);
	}
	vms_mutex_unlock(&s->reclaim_lock);
	return 0;
}

#ifdef VMS_SCHED
void vms_worker_init(struct vms_worker *w, void (*fn)(void *arg), void *arg)
{
	w->fn = fn;
	w->arg = arg;
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
		return false;
	w->wake = true;
	if (vms_sched_alive(w->thread))
		return true;
	return !vms_sched_spawn(worker_main, w, &w->thread);
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
void vms_worker_init(struct vms_worker *w, void (*fn)(void *arg), void *arg)
{
	w->fn = fn;
	w->arg = arg;
	atomic_init(&w->kicked, false);
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->cond, NULL);
	w->running = w->wake = w->stop = false;
}

static void *worker_main(void *arg)
{
	struct vms_worker *w = arg;

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
	if (!w->running && !w->stop)
		w->running = !pthread_create(&w->thread, NULL, worker_main, w);
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
/* Relaxed atomics: racy by design in simulated memory, not in libvms. */
static void copy_relaxed(void *dst, const void *src, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;

	for (size_t i = 0; i < n; i++)
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
void vms_copy_from_frame_at(void *dst, const void *src, size_t n VMS_SITE_PARAM)
{
	VMS_SCHED_AT(site);
	memcpy(dst, src, n);
}

void vms_copy_to_frame_at(void *dst, const void *src, size_t n VMS_SITE_PARAM)
{
	VMS_SCHED_AT(site);
	memcpy(dst, src, n);
}
#endif
