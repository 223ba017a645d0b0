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

/* Live registered threads, for vms_defer_collect. */
static pthread_mutex_t threads_lock = PTHREAD_MUTEX_INITIALIZER;
static struct vms_thread *threads;

static void defer_thread_exit(void);

/* At thread exit: drop the thread's activation, hand over its retired
 * items, free its cached cursors and leave RCU, so a grace period never
 * waits for a thread that is gone. */
static void thread_exit(void *unused)
{
	vms_space_thread_exit();
	if (vms_self.registered) {
		defer_thread_exit();
		vms_cursor_cache_free();
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
	pthread_mutex_lock(&threads_lock);
	vms_self.next = threads;
	threads = &vms_self;
	pthread_mutex_unlock(&threads_lock);
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

/* Hand @b over to @s: the reclaimer's list. */
static void defer_push(struct vms_defer_stack *s, struct vms_defer_batch *b)
{
	struct vms_defer_batch *old = atomic_load_explicit(&s->head, memory_order_relaxed);

	atomic_fetch_add_explicit(&s->items, b->n, memory_order_relaxed);
	do {
		b->next = old;
	} while (!atomic_compare_exchange_weak_explicit(&s->head, &old, b,
			memory_order_release, memory_order_relaxed));
}

bool vms_defer_retire(struct vms_defer_stack *s, struct vms_defer_batch **bp)
{
	struct vms_defer_local *l = &vms_thread()->defer;
	struct vms_defer_batch *b = *bp, *cur;
	struct vms_defer_stack *other = NULL;
	bool kick = false;

	if (!b || !b->n)
		return false;
	vms_node_lock(&l->lock);
	cur = l->batch;
	if (cur && l->stack != s) {
		other = l->stack;
		defer_push(other, cur);
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
			defer_push(s, cur);
			kick = true;
		}
		cur = b;
		*bp = NULL;
	}
	if (cur->weight >= atomic_load_explicit(&s->batch, memory_order_relaxed)) {
		defer_push(s, cur);
		cur = NULL;
		kick = true;
	}
	l->batch = cur;
	l->stack = s;
	vms_node_unlock(&l->lock);
	/* Outside the lock: a kick may take mutexes or even reclaim. */
	if (other)
		other->kick(other);
	if (kick)
		s->kick(s);
	return kick;
}

/* Hand over @t's batch if it belongs to @s (any stack if @s is NULL);
 * returns the stack it went to. */
static struct vms_defer_stack *defer_take(struct vms_thread *t, struct vms_defer_stack *s)
{
	struct vms_defer_local *l = &t->defer;
	struct vms_defer_stack *to = NULL;

	vms_node_lock(&l->lock);
	if (l->batch && (!s || l->stack == s)) {
		to = l->stack;
		defer_push(to, l->batch);
		l->batch = NULL;
	}
	vms_node_unlock(&l->lock);
	return to;
}

void vms_defer_collect(struct vms_defer_stack *s)
{
	pthread_mutex_lock(&threads_lock);
	for (struct vms_thread *t = threads; t; t = t->next)
		defer_take(t, s);
	pthread_mutex_unlock(&threads_lock);
}

uint64_t vms_defer_pending(struct vms_defer_stack *s)
{
	uint64_t n = atomic_load(&s->items);

	pthread_mutex_lock(&threads_lock);
	for (struct vms_thread *t = threads; t; t = t->next) {
		vms_node_lock(&t->defer.lock);
		if (t->defer.batch && t->defer.stack == s)
			n += t->defer.batch->n;
		vms_node_unlock(&t->defer.lock);
	}
	pthread_mutex_unlock(&threads_lock);
	return n;
}

/* The exiting thread's batch goes to its stack's reclaimer; the thread
 * leaves the registry. */
static void defer_thread_exit(void)
{
	struct vms_defer_stack *s = defer_take(&vms_self, NULL);
	struct vms_thread **pp;

	pthread_mutex_lock(&threads_lock);
	for (pp = &threads; *pp != &vms_self; pp = &(*pp)->next)
		;
	*pp = vms_self.next;
	pthread_mutex_unlock(&threads_lock);
	if (s)
		s->kick(s);
}

int vms_defer_reclaim(struct vms_defer_stack *s, bool wait,
		      void (*release)(void *arg, uint64_t item, uint32_t n), void *arg)
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
		for (uint32_t i = 0, j; i < b->n; i = j) {
			for (j = i + 1; j < b->n && b->item[j] == b->item[i]; j++)
				;
			release(arg, b->item[i], j - i);
		}
		vms_after_grace--;
		atomic_fetch_sub_explicit(&s->items, b->n, memory_order_relaxed);
		free(b);
	}
	pthread_mutex_unlock(&s->reclaim_lock);
	return 0;
}

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

void vms_copy_from_frame(void *dst, const void *src, size_t n)
{
	copy_relaxed(dst, src, n);
}

void vms_copy_to_frame(void *dst, const void *src, size_t n)
{
	copy_relaxed(dst, src, n);
}
#else
void vms_copy_from_frame(void *dst, const void *src, size_t n)
{
	memcpy(dst, src, n);
}

void vms_copy_to_frame(void *dst, const void *src, size_t n)
{
	memcpy(dst, src, n);
}
#endif
