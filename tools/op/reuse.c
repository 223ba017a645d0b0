/* SPDX-License-Identifier: MIT */
/*
 * reuse.c - what vmt_exec keeps from one program to the next, per thread:
 * a pool with its frame numbering and a model side, returned to their
 * initial state after each run (vms_pool_reset, vmt_model_side_reset).
 *
 * A fresh pool per program cost an mmap, a page fault on every page the
 * program touched and a munmap with its TLB flush: more than half of a
 * short program's CPU time went to the kernel. A reset pool hands out
 * the same physical addresses and zeroed frames as a fresh one, so a
 * program's result does not depend on what ran before it on the thread
 * (tools/op/test_reuse.sh checks that on corpus pairs).
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include <vms/vms.h>

#include "reuse.h"

static __thread struct vmt_reuse *mine;
static pthread_key_t exit_key;
static pthread_once_t key_once = PTHREAD_ONCE_INIT;

static void reuse_free(struct vmt_reuse *u)
{
	/* An idle pool (reset after the last run) destroys; one that failed
	 * its reset was dropped already. */
	vmt_shared_fini(&u->sh);
	if (u->pool)
		vms_pool_destroy(u->pool);
	vmt_model_side_fini(&u->ms);
	free(u->io);
	free(u);
}

static void thread_exit(void *arg)
{
	mine = NULL;
	reuse_free(arg);
}

static void make_key(void)
{
	pthread_key_create(&exit_key, thread_exit);
}

static struct vmt_reuse *reuse_new(void)
{
	struct vmt_reuse *u = calloc(1, sizeof(*u));

	if (!u)
		return NULL;
	pthread_once(&key_once, make_key);
	if (vmt_model_side_init(&u->ms, 1) || pthread_setspecific(exit_key, u)) {
		reuse_free(u);
		return NULL;
	}
	return u;
}

struct vmt_reuse *vmt_reuse_get(size_t pool_bytes, int *err)
{
	struct vmt_reuse *u = mine;

	*err = -ENOMEM;
	if (!u && !(u = mine = reuse_new()))
		return NULL;
	/* Another size (a run with its own pool_bytes): a new pool. */
	if (u->pool && u->pool_bytes != pool_bytes) {
		vmt_shared_fini(&u->sh);
		vms_pool_destroy(u->pool);
		u->pool = NULL;
	}
	if (!u->pool) {
		vmt_shared_fini(&u->sh);
		*err = vms_pool_new(pool_bytes, &u->pool);
		if (*err) {
			u->pool = NULL;
			return NULL;
		}
		u->pool_bytes = pool_bytes;
		*err = vmt_shared_init(&u->sh, u->pool);
		if (*err)
			return NULL;
	}
	/* No reclaimer thread: a batch handed over (a cursor's items that
	 * do not fit in what is left of the thread's) is reclaimed on this
	 * thread, or at the next quiesce point, so which frames are free,
	 * and the paths the core takes, depend on the program only, never
	 * on when a thread ran. Releases wait in this thread's batch until
	 * then (short of frames, the core reclaims on this thread). A run
	 * that wants reclaims during the program (the controlled executor)
	 * sets its own after this. */
	vms_pool_set_retire_batch(u->pool, VMS_RETIRE_BATCH_MAX);
	vms_pool_set_reclaim_inline(u->pool, true);
	/* Stale gid entries of the last run are harmless: every frame's
	 * entry is written again when it is allocated. */
	atomic_store(&u->sh.next_gid, 1);
	for (int sp = 0; sp < VMT_NR_SPACES; sp++)
		u->sh.space[sp] = NULL;
	*err = 0;
	return u;
}

/* A pool that cannot be reset or destroyed stays reachable: a leak on
 * purpose, which LeakSanitizer need not report. */
static void keep_pool(struct vms_pool *pool)
{
	static struct vms_pool **kept;
	static size_t n, cap;

	if (n == cap) {
		struct vms_pool **a = realloc(kept, (cap ? 2 * cap : 16) * sizeof(*a));

		if (!a)
			return;
		kept = a;
		cap = cap ? 2 * cap : 16;
	}
	kept[n++] = pool;
}

int vmt_reuse_put(struct vmt_reuse *u)
{
	int c = vms_pool_reset(u->pool);

	/* Still referenced: leaked on purpose (releasing it under live
	 * references would be worse); the next run makes a new one. */
	if (c) {
		keep_pool(u->pool);
		vmt_shared_fini(&u->sh);
		u->pool = NULL;
	}
	if (vmt_model_side_reset(&u->ms, 1) && !c)
		c = -ENOMEM;
	return c;
}

void vmt_reuse_abandon(struct vmt_reuse *u)
{
	keep_pool(u->pool);
	vms_pool_discard(u->pool);
	vmt_shared_fini(&u->sh);
	u->pool = NULL;
	vmt_model_side_reset(&u->ms, 1);
}
