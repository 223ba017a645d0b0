/* SPDX-License-Identifier: MIT */
/*
 * fault.h - fault injection, part of the sync layer (sync.h includes it).
 *
 * Every allocation of the core asks vms_fault() first, naming its kind;
 * a site told to fail returns what a real exhaustion would (NULL, then
 * -ENOMEM from the call). The decision is per thread (struct vms_thread,
 * so a controlled scheduler's virtual threads each have their own),
 * like Linux's /proc/<tid>/fail-nth:
 *   - armed: the Nth allocation site of a kind (or of any kind) reached
 *     by this thread after vms_fault_arm() fails, once;
 *   - random: each site fails with a probability (the stress driver's
 *     --faults), from a per-thread generator seeded by the caller.
 * vms_fault_take() reads back and clears what was injected since the
 * last take, so a harness can tell which calls failed on purpose, and
 * which site (the Nth of any kind: "fail nth=N" replays it).
 *
 * Compiled in only with -DVMS_FAULTS (the fuzz builds, the stress/CLI
 * core, the controlled build); elsewhere VMS_FAULT() is false and the
 * control functions do not exist (harnesses reference them weakly).
 * Allocation sites use the wrappers at the end of sync.h, never this
 * directly, except the pool's own allocators.
 */
#ifndef VMS_FAULT_H
#define VMS_FAULT_H

#include <stdbool.h>
#include <stdint.h>

/* The kinds of allocation site; "any" matches every kind. The names
 * are the op language's spelling (fail site=node). */
#define VMS_FAULT_KINDS(X)                                                     \
	X(ANY, any)	     /* (a filter only) */                             \
	X(NODE, node)	     /* a page-table node (pool.c) */                  \
	X(FRAME_4K, frame4k) /* a 4 KiB data frame (pool.c) */                 \
	X(FRAME_2M, frame2m) /* a 2 MiB data frame (pool.c) */                 \
	X(CURSOR, cursor)    /* a cursor (cursor.c) */                         \
	X(SPACE, space)	     /* a space (space.c) */                           \
	X(ACC, acc)	     /* a reader or writer (access.c) */               \
	X(BATCH, batch)	     /* a deferred-release batch (cursor.c) */         \
	X(CHECK, check)	     /* the checker's scratch (check.c) */             \
	X(POOL, pool)	     /* a pool's own memory (pool.c: vms_pool_new) */  \
	X(THREAD, thread)    /* a stack (sched.c), a pthread (sync.c) */

enum vms_fault_kind {
#define VMS_FAULT_ENUM_(k, name) VMS_FAULT_##k,
	VMS_FAULT_KINDS(VMS_FAULT_ENUM_)
#undef VMS_FAULT_ENUM_
	VMS_FAULT_NR
};

/* A thread's fault state (in struct vms_thread). */
struct vms_fault_state {
	uint32_t nth;		/* armed: matching sites left to pass, then fail (0: none) */
	uint8_t kind;		/* the armed kind (VMS_FAULT_ANY: every kind) */
	uint8_t injected;	/* kind of the first site failed since the last take (0: none) */
	uint32_t sites;		/* sites reached since the last take */
	uint32_t injected_nth;	/* which of them failed first (1-based) */
	uint32_t rate;		/* random: failures per 2^32 sites (0: off) */
	uint64_t rng;		/* random: xorshift state */
};

#ifdef VMS_FAULTS
/* True if this allocation site of kind @k must fail now. */
bool vms_fault(enum vms_fault_kind k);
#define VMS_FAULT(k) __builtin_expect(vms_fault(k), 0)
#else
#define VMS_FAULT(k) false
#endif

/* Control, on the calling thread (VMS_FAULTS builds only). */
/* Fail the @nth (>= 1) site of kind @k reached from now on; 0 disarms. */
void vms_fault_arm(uint32_t nth, enum vms_fault_kind k);
/* Fail each site with probability @rate / 2^32, from @seed (0: off). */
void vms_fault_random(uint32_t rate, uint64_t seed);
/* The kind of the first site failed since the last take (0: none), and in
 * *@nth which site that was among all those reached since (1-based);
 * clears both and disarms an armed fault that did not fire. */
enum vms_fault_kind vms_fault_take(uint32_t *nth);

#endif /* VMS_FAULT_H */
