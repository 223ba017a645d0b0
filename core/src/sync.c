/* SPDX-License-Identifier: MIT */
/* sync.c - thread registration, RCU wrappers and deferred release. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <urcu.h>

#include "sync.h"
#include "internal.h"

__thread struct vms_thread vms_self;
static _Atomic uint32_t next_thread_id;
static pthread_key_t exit_key;
static pthread_once_t exit_key_once = PTHREAD_ONCE_INIT;

#ifdef VMS_TSAN
char vms_gp_token;
#endif
#ifdef VMS_SCHED_HOOK
void (*vms_sched_hook)(const char *where);
#endif

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

void vms_rcu_read_lock(void)
{
	struct vms_thread *t = vms_thread();

	rcu_read_lock();
	t->rcu_nesting++;
}

void vms_rcu_read_unlock(void)
{
	vms_self.rcu_nesting--;
	VMS_TSAN_RELEASE(&vms_gp_token);
	rcu_read_unlock();
}

int vms_rcu_synchronize(void)
{
	if (vms_rcu_in_read_section())
		return -EDEADLK;
	synchronize_rcu();
	VMS_TSAN_ACQUIRE(&vms_gp_token);
	return 0;
}

__thread int vms_after_grace;

void vms_defer_push(struct vms_defer_stack *s, struct vms_defer_batch *b)
{
	struct vms_defer_batch *old = atomic_load_explicit(&s->head, memory_order_relaxed);

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
		pthread_mutex_lock(&s->reclaim_lock);
	else if (pthread_mutex_trylock(&s->reclaim_lock))
		return 0;
	b = atomic_exchange_explicit(&s->head, NULL, memory_order_acquire);
	if (b)
		vms_rcu_synchronize();
	for (; b; b = next) {
		next = b->next;
		vms_after_grace++;
		for (uint32_t i = 0; i < b->n; i++)
			release(arg, b->item[i]);
		vms_after_grace--;
		atomic_fetch_sub_explicit(&s->items, b->n, memory_order_relaxed);
		free(b);
	}
	pthread_mutex_unlock(&s->reclaim_lock);
	return 0;
}

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

void vms_copy_from_frame(void *dst, const void *src, size_t n)
{
	VMS_SCHED_POINT();
	copy_relaxed(dst, src, n);
}

void vms_copy_to_frame(void *dst, const void *src, size_t n)
{
	VMS_SCHED_POINT();
	copy_relaxed(dst, src, n);
}
#else
void vms_copy_from_frame(void *dst, const void *src, size_t n)
{
	VMS_SCHED_POINT();
	memcpy(dst, src, n);
}

void vms_copy_to_frame(void *dst, const void *src, size_t n)
{
	VMS_SCHED_POINT();
	memcpy(dst, src, n);
}
#endif
