/* SPDX-License-Identifier: MIT */
/*
 * test.h - a tiny unit-test framework for libvms, plus helpers shared by
 * the test files.
 *
 * TEST(name) { ... } defines and registers a test. CHECK(expr) fails the
 * current test (printing file:line and the expression) and ends it; a
 * CHECK in a helper thread ends only that thread, and the test is still
 * reported as failed. The runner (runner.c) runs every test in its own
 * child process by default, so a crash, a hang (per-test timeout) or a
 * lock left held by a failed test cannot take the other tests with it.
 */
#ifndef VMT_TEST_H
#define VMT_TEST_H

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vms/vms.h>
#include "debug.h"
#include "peek.h"

struct vmt_test {
	const char *name;
	void (*fn)(void);
	const char *file;
	int line;
	struct vmt_test *next;
};

void vmt_register(struct vmt_test *t);
/* Record a failure; ends the test (main test thread) or the thread. */
void vmt_fail(const char *file, int line, const char *fmt, ...)
	__attribute__((noreturn, format(printf, 3, 4)));
/* True once any CHECK of the current test failed (in any thread). */
bool vmt_has_failed(void);
/* Record a failure without ending anything (for cleanup paths). */
void vmt_fail_soft(const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define TEST(tname)							\
	static void tname(void);					\
	static struct vmt_test vmt_t_##tname = {			\
		#tname, tname, __FILE__, __LINE__, NULL };		\
	__attribute__((constructor)) static void vmt_reg_##tname(void)	\
	{								\
		vmt_register(&vmt_t_##tname);				\
	}								\
	static void tname(void)

#define CHECK(expr)							\
	do {								\
		if (!(expr))						\
			vmt_fail(__FILE__, __LINE__, "CHECK(%s)", #expr); \
	} while (0)

/* Compare two integers and show both values on failure. */
#define CHECK_EQ(a, b)							\
	do {								\
		long long vmt_a_ = (long long)(a);			\
		long long vmt_b_ = (long long)(b);			\
		if (vmt_a_ != vmt_b_)					\
			vmt_fail(__FILE__, __LINE__,			\
				 "CHECK_EQ(%s, %s): %lld (0x%llx) != %lld (0x%llx)", \
				 #a, #b, vmt_a_, (unsigned long long)vmt_a_, \
				 vmt_b_, (unsigned long long)vmt_b_);	\
	} while (0)

/* A call that must return 0. */
#define CHECK_OK(call) CHECK_EQ((call), 0)

/* ---- sizes and properties ---------------------------------------------- */

#define K4	VMS_PAGE_SIZE
#define M2	(2ULL << 20)
#define G1	(1ULL << 30)
#define MiB	(1ULL << 20)

static inline struct vms_prop vmt_prop(uint8_t flags)
{
	struct vms_prop p = { flags, VMS_CACHE_WRITEBACK, VMS_PRIV_USER };
	return p;
}
#define PROP_RW	vmt_prop(VMS_PROP_R | VMS_PROP_W)
#define PROP_R	vmt_prop(VMS_PROP_R)

/* ---- helpers (helpers.c) ----------------------------------------------- */

/* A pool of @bytes and one space in it. */
struct vmt_env {
	struct vms_pool *pool;
	struct vms_space *space;
};

struct vms_pool *vmt_pool(size_t bytes);
void vmt_env_init(struct vmt_env *e, size_t pool_bytes, unsigned flags);
/* Destroy the space and the pool, checking both succeed and that no frame
 * is left (the test must have put every handle it holds). */
void vmt_env_fini(struct vmt_env *e);

struct vms_frame *vmt_alloc(struct vms_pool *p, int level);
/* Allocate a frame of @level and map it at @va with @prop (one cursor
 * session covering exactly the frame); returns the frame (no handle kept
 * unless @keep_handle). */
struct vms_frame *vmt_map_new(struct vms_space *s, vms_vaddr_t va, int level,
			      struct vms_prop prop, bool keep_handle);
/* Map an existing frame (consumes one of the caller's handles). */
int vmt_map(struct vms_space *s, vms_vaddr_t va, struct vms_frame *f,
	    struct vms_prop prop);
/* Unmap [va, va + len) in one cursor session; returns unmap's result. */
long vmt_unmap(struct vms_space *s, vms_vaddr_t va, uint64_t len);
/* Query @va in a one-page cursor session. */
int vmt_query(struct vms_space *s, vms_vaddr_t va, struct vms_mapping *m);
struct vms_pool_stats vmt_stats(struct vms_pool *p);
/* vms_space_check must pass. */
void vmt_check_clean_at(struct vms_space *s, const char *file, int line);
#define CHECK_CLEAN(s) vmt_check_clean_at((s), __FILE__, __LINE__)
/* vms_space_check must report a violation; CHECK_FOUND: of check @kind
 * (vms/checks.def) at page-table level @level (0: none). */
void vmt_check_dirty_at(struct vms_space *s, enum vms_check kind, int level, const char *file,
			int line);
#define CHECK_DIRTY(s) vmt_check_dirty_at((s), VMS_CHECK_NONE, -1, __FILE__, __LINE__)
#define CHECK_FOUND(s, kind, level) \
	vmt_check_dirty_at((s), VMS_CHECK_##kind, (level), __FILE__, __LINE__)
/* free + data + pt == total. */
void vmt_check_conservation_at(struct vms_pool *p, const char *file, int line);
#define CHECK_CONSERVED(p) vmt_check_conservation_at((p), __FILE__, __LINE__)

/* Threads: start, join (a failed CHECK inside the thread fails the test). */
pthread_t vmt_thread(void *(*fn)(void *), void *arg);
void vmt_join(pthread_t t);

/* Per-test time limit in seconds (VMT_TIMEOUT); WAIT_FLAG gives up at half. */
extern unsigned vmt_timeout_s;

/* Sleep a little, to give another thread the chance to run. Never used to
 * assert speed: only to make an ordering bug more likely to show. */
void vmt_nap_ms(unsigned ms);
/* Wait until *@flag >= @want, failing the test after a generous deadline
 * (vmt_timeout_s / 2: a hang, not a slowness, is what that catches). */
void vmt_wait_flag_at(atomic_int *flag, int want, const char *file, int line);
#define WAIT_FLAG(f, v) vmt_wait_flag_at((f), (v), __FILE__, __LINE__)

#endif /* VMT_TEST_H */

/* ---- the shadow: the tests' own map of one region (helpers.c) ---------- */
/* Not the reference model of model/: a per-page table the unit tests keep
 * beside the space they drive, so a session can check every result. */

/* One 4K page of the region: the leaf covering it (start, level), the
 * frame and property of that leaf, and the page's own physical address. */
struct vmt_page {
	bool present;
	int level;
	vms_vaddr_t lstart;
	struct vms_frame *frame;
	vms_paddr_t pa;
	struct vms_prop prop;
};

struct vmt_shadow {
	struct vms_space *space;
	vms_vaddr_t base;		/* 2M aligned */
	size_t npages;
	struct vmt_page *pg;
	unsigned seed;		/* used when a session gets no seed */
	atomic_long ops;
};

void vmt_shadow_init(struct vmt_shadow *m, struct vms_space *s, vms_vaddr_t base,
		    size_t bytes, unsigned seed);
void vmt_shadow_fini(struct vmt_shadow *m);
/* One cursor session of random operations on a random part of the region,
 * each result checked against the shadow. The shadow is read and written
 * only for pages the session's cursor covers (or a 2M leaf it is inside,
 * which its locks cover too), so threads may share one shadow: a race on
 * it (TSan) or a wrong result is a broken cursor exclusion. @seed is the
 * caller's random state (NULL: the shadow's own). */
void vmt_shadow_session(struct vmt_shadow *m, unsigned *seed);
/* Every page of the region queried and compared. (VMT_SHADOW_TRACE=1 in
 * the environment traces every operation and re-compares before it.) */
void vmt_shadow_compare(struct vmt_shadow *m);
