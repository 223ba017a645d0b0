/* SPDX-License-Identifier: MIT */
/*
 * vms-bench - micro-benchmarks of libvms.
 *
 * The same source is linked twice: against the fine-grained core
 * (vms-bench) and against the VMS_GLOBAL_LOCK core (vms-bench-global), where
 * every cursor holds one process-wide lock. bench/compare.sh runs both
 * alternately and prints the ratios; this binary only measures one build.
 *
 * Every figure is the median of --reps repetitions; one repetition runs
 * its loop for about --time-ms of wall-clock time (time-boxed rather than
 * count-boxed, so that a slow build cannot blow the `make bench` budget).
 * Setup (pool, space, populating the tree) is outside the timed regions.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE		/* CPU affinity */
#endif
#include <errno.h>
#include <sched.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <vms/vms.h>

#include "timing.h"

#ifdef VMS_GLOBAL_LOCK
#define VMT_BUILD "global-lock"
#else
#define VMT_BUILD "fine-grained"
#endif

#define KIB		(1024ull)
#define MIB		(1024ull * KIB)
#define PAGE		VMS_PAGE_SIZE
/* One top-level (512 GiB) entry: ranges in different ones share no
 * page-table node below the root. */
#define TOP_SPAN	(1ull << 39)

/* Address layout; each group has its own space, distinct bases only make
 * dumps easier to read. */
#define POP_BASE	(1 * TOP_SPAN)		/* populated tree for create-drop */
#define MQU_BASE	(3 * TOP_SPAN)		/* the 2 MiB map/query/unmap run */
#define READ_BASE	(4 * TOP_SPAN)		/* 64 MiB of mapped pages */
#define LOOP_BASE	(5 * TOP_SPAN)		/* thread i loops at LOOP_BASE + i * TOP_SPAN */

#define SMALL_RANGE	(4 * PAGE)		/* the "small range" of cursor loops */
#define MQU_LEN		(2 * MIB)
#define READ_LEN	(64 * MIB)
#define READ_CHUNK	(1 * MIB)
#define POOL_BYTES	(128 * MIB)

static const struct vms_prop rw_prop = {
	.flags = VMS_PROP_R | VMS_PROP_W,
	.cache = VMS_CACHE_WRITEBACK,
	.priv = VMS_PRIV_USER,
};

static const char *prog = "vms-bench";

static void __attribute__((noreturn, format(printf, 1, 2))) die(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

/* Abort the run on a negative errno: a benchmark of a failing call means
 * nothing, and the core is not supposed to fail on any of these. */
static long check(long ret, const char *what)
{
	if (ret < 0)
		die("%s failed: %s (%ld)", what, strerror((int)-ret), ret);
	return ret;
}

static void expect(long got, long want, const char *what)
{
	if (got != want)
		die("%s returned %ld, expected %ld", what, got, want);
}

/* ------------------------------------------------------------------ */
/* Figures and groups */

enum {
	F_CREATE_DROP,
	F_MAP,
	F_QUERY,
	F_UNMAP,
	F_READ,
	F_MEMCPY,
	F_LOOP_1T,
	F_LOOP_1T_CPU,
	F_LOOP_1T_ALL,
	F_LOOP_1T_FLT,
	F_MT_DISJOINT,
	F_MT_DISJOINT_CPU,
	F_MT_DISJOINT_BUSY,
	F_MT_DISJOINT_ALL,
	F_MT_DISJOINT_FLT,
	F_MT_OVERLAP,
	F_MT_OVERLAP_CPU,
	F_MT_OVERLAP_BUSY,
	F_MT_PRIVATE,
	F_MT_PRIVATE_CPU,
	NR_FIGURES
};

struct figure {
	const char *name;
	const char *unit;
	const char *better;	/* "lower", "higher", or "info" (no direction) */
	const char *what;
};

static const struct figure figures[NR_FIGURES] = {
	[F_CREATE_DROP] = { "create_drop", "ns/op", "lower",
		"cursor_new + drop, 16 KiB range in a populated tree" },
	[F_MAP] = { "map", "ns/page", "lower",
		"cursor_map of 4 KiB frames over a 2 MiB run" },
	[F_QUERY] = { "query", "ns/page", "lower",
		"cursor_jump + cursor_query per mapped 4 KiB page" },
	[F_UNMAP] = { "unmap", "ns/page", "lower",
		"cursor_unmap(4 KiB) per page over a 2 MiB run" },
	[F_READ] = { "reader_read", "GB/s", "higher",
		"vms_reader_read, 1 MiB chunks over 64 MiB of 4 KiB pages" },
	[F_MEMCPY] = { "memcpy_ref", "GB/s", "higher",
		"reference: plain memcpy of 4 KiB pieces from a 64 MiB buffer" },
	[F_LOOP_1T] = { "loop_1t", "Mops/s", "higher",
		"1 thread: {mut_new; map; unmap; drop}" },
	[F_LOOP_1T_CPU] = { "loop_1t_cpu", "cpu-ns/op", "lower",
		"thread CPU time per op of loop_1t" },
	[F_LOOP_1T_ALL] = { "loop_1t_all", "cpu-ns/op", "lower",
		"process CPU time per op of loop_1t (the worker, the core's reclaimer, ...)" },
	[F_LOOP_1T_FLT] = { "loop_1t_flt", "flt/kop", "lower",
		"page faults of the process per 1000 ops of loop_1t" },
	[F_MT_DISJOINT] = { "mt_disjoint", "Mops/s", "higher",
		"2 threads, disjoint ranges in different subtrees (total)" },
	[F_MT_DISJOINT_CPU] = { "mt_disj_cpu", "cpu-ns/op", "lower",
		"thread CPU time (both threads) per op of mt_disjoint" },
	[F_MT_DISJOINT_BUSY] = { "mt_disj_busy", "CPUs", "info",
		"worker CPU time / wall time of mt_disjoint (2: both ran all along)" },
	[F_MT_DISJOINT_ALL] = { "mt_disj_all", "cpu-ns/op", "lower",
		"process CPU time per op of mt_disjoint (workers, reclaimer, ...)" },
	[F_MT_DISJOINT_FLT] = { "mt_disj_flt", "flt/kop", "lower",
		"page faults of the process per 1000 ops of mt_disjoint" },
	[F_MT_OVERLAP] = { "mt_overlap", "Mops/s", "higher",
		"2 threads, the same range (total)" },
	[F_MT_OVERLAP_CPU] = { "mt_over_cpu", "cpu-ns/op", "lower",
		"thread CPU time (both threads) per op of mt_overlap" },
	[F_MT_OVERLAP_BUSY] = { "mt_over_busy", "CPUs", "info",
		"worker CPU time / wall time of mt_overlap (spinning counts)" },
	[F_MT_PRIVATE] = { "mt_private", "Mops/s", "higher",
		"control: as mt_disjoint, but each thread has its own pool and space" },
	[F_MT_PRIVATE_CPU] = { "mt_priv_cpu", "cpu-ns/op", "lower",
		"thread CPU time (both threads) per op of mt_private" },
};

struct ctx {
	struct vms_pool *pool;
	struct vms_space *space;
	struct vms_frame **frames;	/* frames we hold one handle on */
	size_t nr_frames;
};

struct group {
	const char *name;
	int first, nr;			/* figures [first, first + nr) */
	void (*setup)(struct ctx *);
	/* One repetition; writes nr figures to out[], which has room for 5. */
	void (*rep)(struct ctx *, uint64_t time_ns, double *out);
};

static long opt_retire_batch;	/* 0: the core's default */

/* A pool with the --retire-batch setting. */
static long pool_new(struct vms_pool **out)
{
	long r = vms_pool_new(POOL_BYTES, out);

	if (!r && opt_retire_batch && (r = vms_pool_set_retire_batch(*out, opt_retire_batch)))
		vms_pool_destroy(*out);
	return r;
}

static void ctx_open(struct ctx *x, size_t nr_frames)
{
	memset(x, 0, sizeof(*x));
	check(pool_new(&x->pool), "vms_pool_new");
	check(vms_space_new(x->pool, 0, &x->space), "vms_space_new");
	if (nr_frames) {
		x->frames = calloc(nr_frames, sizeof(*x->frames));
		if (!x->frames)
			die("out of memory");
		for (size_t i = 0; i < nr_frames; i++)
			check(vms_frame_alloc(x->pool, 1, &x->frames[i]), "vms_frame_alloc");
		x->nr_frames = nr_frames;
	}
}

/* Tear down and insist that the core gives everything back: a leak found
 * here is a core bug worth a failing exit. */
static void ctx_close(struct ctx *x)
{
	if (vms_space_current() == x->space)
		check(vms_space_deactivate(x->space), "vms_space_deactivate");
	for (size_t i = 0; i < x->nr_frames; i++)
		check(vms_frame_put(x->frames[i]), "vms_frame_put");
	free(x->frames);
	check(vms_space_destroy(x->space), "vms_space_destroy");
	check(vms_pool_quiesce(x->pool), "vms_pool_quiesce");
	check(vms_pool_destroy(x->pool), "vms_pool_destroy");
	memset(x, 0, sizeof(*x));
}

/* Map @n freshly allocated 4 KiB frames from @va on, handing our handle to
 * the page table. */
static void populate(struct ctx *x, vms_vaddr_t va, uint64_t n)
{
	struct vms_cursor *c;

	check(vms_cursor_mut_new(x->space, va, va + n * PAGE, &c), "vms_cursor_mut_new");
	for (uint64_t i = 0; i < n; i++) {
		struct vms_frame *f;

		check(vms_frame_alloc(x->pool, 1, &f), "vms_frame_alloc");
		expect(check(vms_cursor_map(c, f, rw_prop), "vms_cursor_map"), 0,
		       "vms_cursor_map (populate)");
	}
	vms_cursor_drop(c);
}

/* ------------------------------------------------------------------ */
/* create-drop */

static void setup_create_drop(struct ctx *x)
{
	ctx_open(x, 0);
	/* A tree with some width: 4 x 1 GiB regions, each with 4 x 2 MiB
	 * regions of 16 pages, so the walk crosses real nodes at every level.
	 * The measured range is the first 4 pages. */
	for (int g = 0; g < 4; g++)
		for (int m = 0; m < 4; m++)
			populate(x, POP_BASE + g * (1ull << 30) + m * 2 * MIB, 16);
}

static void rep_create_drop(struct ctx *x, uint64_t time_ns, double *out)
{
	uint64_t iters = 0, t0 = vmt_now_ns(), t;

	do {
		for (int i = 0; i < 256; i++) {
			struct vms_cursor *c;

			check(vms_cursor_new(x->space, POP_BASE, POP_BASE + SMALL_RANGE, &c),
			      "vms_cursor_new");
			vms_cursor_drop(c);
		}
		iters += 256;
		t = vmt_now_ns();
	} while (t - t0 < time_ns);
	out[0] = (double)(t - t0) / (double)iters;
}

/* ------------------------------------------------------------------ */
/* map-query-unmap */

#define MQU_PAGES	(MQU_LEN / PAGE)

static void setup_mqu(struct ctx *x)
{
	ctx_open(x, MQU_PAGES);
}

static void rep_mqu(struct ctx *x, uint64_t time_ns, double *out)
{
	uint64_t t_map = 0, t_query = 0, t_unmap = 0, rounds = 0;
	uint64_t start = vmt_now_ns();

	do {
		struct vms_cursor *c;
		uint64_t t0, t1, t2, t3;

		/* map consumes a handle: give it one, keep ours. */
		for (uint64_t i = 0; i < MQU_PAGES; i++)
			check(vms_frame_get(x->frames[i]), "vms_frame_get");
		check(vms_cursor_mut_new(x->space, MQU_BASE, MQU_BASE + MQU_LEN, &c),
		      "vms_cursor_mut_new");

		t0 = vmt_now_ns();
		for (uint64_t i = 0; i < MQU_PAGES; i++) {
			int r = vms_cursor_map(c, x->frames[i], rw_prop);

			if (r != 0)
				expect(check(r, "vms_cursor_map"), 0, "vms_cursor_map");
		}
		t1 = vmt_now_ns();
		for (uint64_t i = 0; i < MQU_PAGES; i++) {
			struct vms_mapping m;

			check(vms_cursor_jump(c, MQU_BASE + i * PAGE), "vms_cursor_jump");
			check(vms_cursor_query(c, &m), "vms_cursor_query");
			if (m.frame != x->frames[i] || m.level != 1)
				die("vms_cursor_query at %#" PRIx64 " does not show the frame just mapped",
				    (uint64_t)(MQU_BASE + i * PAGE));
		}
		t2 = vmt_now_ns();
		check(vms_cursor_jump(c, MQU_BASE), "vms_cursor_jump");
		for (uint64_t i = 0; i < MQU_PAGES; i++) {
			long r = vms_cursor_unmap(c, PAGE);

			if (r != 1)
				expect(check(r, "vms_cursor_unmap"), 1, "vms_cursor_unmap");
		}
		t3 = vmt_now_ns();
		vms_cursor_drop(c);
		/* Keep the deferred-release backlog from growing across
		 * rounds; untimed. */
		check(vms_pool_quiesce(x->pool), "vms_pool_quiesce");

		t_map += t1 - t0;
		t_query += t2 - t1;
		t_unmap += t3 - t2;
		rounds++;
	} while (vmt_now_ns() - start < time_ns || rounds < 3);

	out[0] = (double)t_map / (double)(rounds * MQU_PAGES);
	out[1] = (double)t_query / (double)(rounds * MQU_PAGES);
	out[2] = (double)t_unmap / (double)(rounds * MQU_PAGES);
}

/* ------------------------------------------------------------------ */
/* reader */

static char *read_buf, *memcpy_src;

static void setup_reader(struct ctx *x)
{
	ctx_open(x, 0);
	for (uint64_t off = 0; off < READ_LEN; off += MQU_LEN)
		populate(x, READ_BASE + off, MQU_LEN / PAGE);
	check(vms_space_activate(x->space), "vms_space_activate");
	/* Page-aligned buffers: with a 16-byte offset (what malloc gives a
	 * large block) between source and destination, the copy loses a lot to
	 * 4K aliasing, and the reader and the reference would differ by that
	 * accident rather than by the translation cost. */
	read_buf = aligned_alloc(PAGE, READ_CHUNK);
	if (!read_buf)
		die("out of memory");
	memset(read_buf, 1, READ_CHUNK);
	memcpy_src = aligned_alloc(PAGE, READ_LEN);
	if (!memcpy_src)
		die("out of memory");
	memset(memcpy_src, 2, READ_LEN);
}

static void rep_reader(struct ctx *x, uint64_t time_ns, double *out)
{
	uint64_t bytes = 0, ns = 0, passes = 0, start = vmt_now_ns();

	do {
		struct vms_reader *r;
		uint64_t t0, t1;

		check(vms_space_create_reader(x->space, READ_BASE, READ_LEN, &r),
		      "vms_space_create_reader");
		check(vms_space_activate_reader(x->space, r), "vms_space_activate_reader");
		t0 = vmt_now_ns();
		for (uint64_t done = 0; done < READ_LEN; done += READ_CHUNK) {
			long n = vms_reader_read(r, read_buf, READ_CHUNK);

			if (n != (long)READ_CHUNK)
				expect(check(n, "vms_reader_read"), READ_CHUNK, "vms_reader_read");
		}
		t1 = vmt_now_ns();
		if (vms_reader_remain(r) != 0)
			die("vms_reader_remain is %" PRIu64 " after reading the whole range",
			    vms_reader_remain(r));
		check(vms_reader_release(r), "vms_reader_release");
		bytes += READ_LEN;
		ns += t1 - t0;
		passes++;
	} while (vmt_now_ns() - start < time_ns / 2 || passes < 2);
	out[0] = (double)bytes / (double)ns;	/* bytes per ns == GB/s */

	/* What the same copy costs without translation, to tell a
	 * memory-bound reader from a walk-bound one. */
	bytes = ns = passes = 0;
	start = vmt_now_ns();
	do {
		uint64_t t0 = vmt_now_ns();

		/* Page-sized pieces, like the reader's per-page copies: large
		 * memcpys take a different (streaming) path in glibc. */
		for (uint64_t done = 0; done < READ_LEN; done += PAGE) {
			memcpy(read_buf + done % READ_CHUNK, memcpy_src + done, PAGE);
			/* Keep the copy from being optimised away. */
			__asm__ volatile("" : : "r"(read_buf) : "memory");
		}
		ns += vmt_now_ns() - t0;
		bytes += READ_LEN;
		passes++;
	} while (vmt_now_ns() - start < time_ns / 2 || passes < 2);
	out[1] = (double)bytes / (double)ns;
}

/* ------------------------------------------------------------------ */
/* cursor loops: 1 thread; 2 threads disjoint, overlapping, or private */

/* Cache-line aligned: the two workers' counters must not share a line. */
struct loop_arg {
	struct vms_space *space;
	struct vms_frame *frame;
	vms_vaddr_t va;
	int cpu;			/* pin to this CPU, -1: don't */
	bool private_pool;		/* make and destroy its own pool and space */
	pthread_barrier_t *go;
	atomic_bool *stop;
	uint64_t ops, t_end, cpu_ns;
	char err[160];
} __attribute__((aligned(64)));

static int loop_fail(struct loop_arg *a, const char *what, long ret)
{
	snprintf(a->err, sizeof(a->err), "%s returned %ld (%s)", what, ret,
		 ret < 0 ? strerror((int)-ret) : "unexpected value");
	atomic_store(a->stop, true);
	return -1;
}

/* One transaction: lock the range, map one page, unmap it, unlock. The
 * frame handle is taken before the cursor so that it does not lengthen the
 * critical section. */
static int loop_once(struct loop_arg *a)
{
	struct vms_cursor *c;
	long r;

	r = vms_frame_get(a->frame);
	if (r)
		return loop_fail(a, "vms_frame_get", r);
	r = vms_cursor_mut_new(a->space, a->va, a->va + SMALL_RANGE, &c);
	if (r) {
		vms_frame_put(a->frame);
		return loop_fail(a, "vms_cursor_mut_new", r);
	}
	r = vms_cursor_map(c, a->frame, rw_prop);
	if (r != 0) {
		if (r < 0)
			vms_frame_put(a->frame);
		vms_cursor_drop(c);
		/* 1 would mean the other thread's page was still there:
		 * the two transactions were not serialized. */
		return loop_fail(a, "vms_cursor_map", r);
	}
	r = vms_cursor_jump(c, a->va);
	if (r == 0)
		r = vms_cursor_unmap(c, PAGE);
	vms_cursor_drop(c);
	if (r != 1)
		return loop_fail(a, "vms_cursor_unmap", r);
	return 0;
}

/*
 * Each worker allocates its own frame, and its first (untimed) transaction
 * builds the path to its range if the space lacks it: the pool serves a
 * thread from its own shard, so the frames and nodes that two workers
 * write sit in different chunks, as they would for two independent
 * threads of a real program. Allocating both from the main thread would
 * place their metadata side by side and measure that adjacency instead.
 */
static void *loop_thread(void *p)
{
	struct loop_arg *a = p;
	uint64_t cpu0;
	long r;

	/* bench/profile.sh tells the workers' samples apart by this name. */
	pthread_setname_np(pthread_self(), "vms-worker");
	if (a->cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(a->cpu, &set);
		/* Best effort: unpinned is still a valid measurement. */
		pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	}
	a->frame = NULL;
	if (a->private_pool) {
		struct vms_pool *pool;

		r = pool_new(&pool);
		if (r)
			loop_fail(a, "vms_pool_new", r);
		else if ((r = vms_space_new(pool, 0, &a->space))) {
			loop_fail(a, "vms_space_new", r);
			vms_pool_destroy(pool);
		}
		if (r) {
			a->private_pool = false;
			pthread_barrier_wait(a->go);
			return NULL;
		}
	}
	r = vms_frame_alloc(vms_space_pool(a->space), 1, &a->frame);
	if (r) {
		loop_fail(a, "vms_frame_alloc", r);
		a->frame = NULL;
	} else {
		loop_once(a);
	}
	pthread_barrier_wait(a->go);
	cpu0 = vmt_thread_cpu_ns();
	while (!atomic_load_explicit(a->stop, memory_order_relaxed)) {
		if (loop_once(a))
			break;
		a->ops++;
	}
	a->t_end = vmt_now_ns();
	a->cpu_ns = vmt_thread_cpu_ns() - cpu0;
	if (a->frame)
		vms_frame_put(a->frame);
	if (a->private_pool) {
		struct vms_pool *pool = vms_space_pool(a->space);

		if ((r = vms_space_destroy(a->space)) ||
		    (r = vms_pool_quiesce(pool)) || (r = vms_pool_destroy(pool)))
			if (!a->err[0])
				loop_fail(a, "tearing down the private pool", r);
	}
	return NULL;
}

static bool opt_pin = true;

/*
 * With two workers, pin them to two different CPUs of our affinity mask:
 * a new thread starts on its creator's CPU, and in a repetition of a few
 * hundred ms the load balancer's delay in spreading them would be part of
 * the figure. One worker (or fewer CPUs than workers) stays unpinned.
 */
static void pick_cpus(int nthreads, int *cpus)
{
	cpu_set_t set;
	int n = 0;

	if (!opt_pin || nthreads < 2 || sched_getaffinity(0, sizeof(set), &set))
		return;
	if (CPU_COUNT(&set) < nthreads)
		return;
	for (int c = 0; c < CPU_SETSIZE && n < nthreads; c++)
		if (CPU_ISSET(c, &set))
			cpus[n++] = c;
}

/* Thread i loops on LOOP_BASE + i * TOP_SPAN (all on LOOP_BASE for
 * LOOP_OVERLAP; in a pool and space of its own for LOOP_PRIVATE) for
 * @time_ns. out[0]: the total, in millions of ops per
 * second; out[1]: CPU time the workers spent per op; out[2]: how many CPUs
 * the workers kept busy on average. On this shared 2-core machine other
 * load often keeps the two workers from running at the same time: out[2]
 * near 1 says so, and then out[0] says nothing about parallelism while
 * out[1] still shows the per-op cost. out[3]: CPU time the whole process
 * spent per op meanwhile (the workers, the core's reclaimer thread, the
 * sleeping main thread): work moved off the workers still counts there.
 * out[4]: the process's page faults per 1000 ops meanwhile (memory the
 * session path takes fresh from the kernel, each fault a few µs here). */
enum loop_mode { LOOP_DISJOINT, LOOP_OVERLAP, LOOP_PRIVATE };

/* Page faults (minor and major) of the whole process so far. */
static uint64_t process_faults(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru))
		return 0;
	return (uint64_t)ru.ru_minflt + (uint64_t)ru.ru_majflt;
}

static void run_loops(struct ctx *x, int nthreads, enum loop_mode mode, uint64_t time_ns,
		      double *out)
{
	struct loop_arg a[2];
	pthread_t th[2];
	pthread_barrier_t go;
	atomic_bool stop = false;
	uint64_t t0, t_end = 0, ops = 0, cpu_ns = 0, proc0, flt0;
	struct timespec ts;

	int cpus[2] = { -1, -1 };

	if (pthread_barrier_init(&go, NULL, (unsigned)nthreads + 1))
		die("pthread_barrier_init failed");
	pick_cpus(nthreads, cpus);
	for (int i = 0; i < nthreads; i++) {
		a[i] = (struct loop_arg){
			.space = x->space,
			.va = LOOP_BASE + (mode == LOOP_OVERLAP ? 0 : (uint64_t)i * TOP_SPAN),
			.private_pool = mode == LOOP_PRIVATE,
			.cpu = cpus[i],
			.go = &go,
			.stop = &stop,
		};
		if (pthread_create(&th[i], NULL, loop_thread, &a[i]))
			die("pthread_create failed");
	}
	pthread_barrier_wait(&go);
	t0 = vmt_now_ns();
	proc0 = vmt_process_cpu_ns();
	flt0 = process_faults();
	/* Sleep rather than spin: the main thread must not take one of the
	 * two cores away from the workers. */
	ts.tv_sec = (time_t)(time_ns / 1000000000ull);
	ts.tv_nsec = (long)(time_ns % 1000000000ull);
	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
	atomic_store(&stop, true);
	for (int i = 0; i < nthreads; i++) {
		pthread_join(th[i], NULL);
		if (a[i].err[0])
			die("thread %d: %s", i, a[i].err);
		ops += a[i].ops;
		cpu_ns += a[i].cpu_ns;
		if (a[i].t_end > t_end)
			t_end = a[i].t_end;
	}
	pthread_barrier_destroy(&go);
	out[3] = (double)(vmt_process_cpu_ns() - proc0);
	out[4] = (double)(process_faults() - flt0);
	/* Deferred releases of this repetition are not charged to the next. */
	check(vms_pool_quiesce(x->pool), "vms_pool_quiesce");
	if (!ops)
		die("no cursor transaction completed in %" PRIu64 " ms", time_ns / 1000000);
	out[0] = (double)ops * 1e3 / (double)(t_end - t0);
	out[1] = (double)cpu_ns / (double)ops;
	out[2] = (double)cpu_ns / (double)(t_end - t0);
	out[3] /= (double)ops;
	out[4] *= 1000.0 / (double)ops;
}

static void setup_loops(struct ctx *x)
{
	ctx_open(x, 0);
}

static void rep_loop_1t(struct ctx *x, uint64_t time_ns, double *out)
{
	double o[5];

	run_loops(x, 1, LOOP_DISJOINT, time_ns, o);
	out[0] = o[0];
	out[1] = o[1];
	out[2] = o[3];
	out[3] = o[4];
}

static void rep_mt_disjoint(struct ctx *x, uint64_t time_ns, double *out)
{
	run_loops(x, 2, LOOP_DISJOINT, time_ns, out);
}

static void rep_mt_overlap(struct ctx *x, uint64_t time_ns, double *out)
{
	double o[5];

	run_loops(x, 2, LOOP_OVERLAP, time_ns, o);
	memcpy(out, o, 3 * sizeof(o[0]));
}

/* The same loop with nothing shared inside libvms but the process-wide
 * RCU: separates the cost of the pool's shared state from the rest. */
static void rep_mt_private(struct ctx *x, uint64_t time_ns, double *out)
{
	double o[5];

	run_loops(x, 2, LOOP_PRIVATE, time_ns, o);
	memcpy(out, o, 2 * sizeof(o[0]));
}

/* ------------------------------------------------------------------ */

static const struct group groups[] = {
	{ "create-drop", F_CREATE_DROP, 1, setup_create_drop, rep_create_drop },
	{ "map-query-unmap", F_MAP, 3, setup_mqu, rep_mqu },
	{ "reader", F_READ, 2, setup_reader, rep_reader },
	{ "loop-1t", F_LOOP_1T, 4, setup_loops, rep_loop_1t },
	{ "mt-disjoint", F_MT_DISJOINT, 5, setup_loops, rep_mt_disjoint },
	{ "mt-overlap", F_MT_OVERLAP, 3, setup_loops, rep_mt_overlap },
	{ "mt-private", F_MT_PRIVATE, 2, setup_loops, rep_mt_private },
};
#define NR_GROUPS (sizeof(groups) / sizeof(groups[0]))

static void usage(FILE *f)
{
	fprintf(f,
		"usage: %s [--json] [--reps N] [--time-ms MS] [--only GROUP[,GROUP...]] [--list]\n"
		"       [--no-pin] [--retire-batch N]\n"
		"  --reps N      repetitions per figure, median reported (default 5, 1..1000)\n"
		"  --time-ms MS  wall-clock length of one repetition (default 300, 1..60000)\n"
		"  --only LIST   run only these groups (see --list)\n"
		"  --json        machine-readable output, one figure per line\n"
		"  --no-pin      do not pin the two workers of mt-* to two CPUs\n"
		"  --retire-batch N  vms_pool_set_retire_batch(N) on every pool (default: the core's)\n"
		"  --list        list the groups and their figures\n", prog);
}

static long parse_num(const char *opt, const char *s, long lo, long hi)
{
	char *end;
	long v;

	if (!s)
		die("%s needs a value", opt);
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi)
		die("%s: '%s' is not a number in [%ld, %ld]", opt, s, lo, hi);
	return v;
}

/* Mark the groups named in the comma-separated @list. */
static void parse_only(const char *list, bool *sel)
{
	char *dup, *tok, *save = NULL;

	if (!list)
		die("--only needs a value");
	dup = strdup(list);
	if (!dup)
		die("out of memory");
	for (tok = strtok_r(dup, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		size_t g;

		for (g = 0; g < NR_GROUPS; g++)
			if (!strcmp(tok, groups[g].name))
				break;
		if (g == NR_GROUPS)
			die("--only: unknown group '%s' (try --list)", tok);
		sel[g] = true;
	}
	free(dup);
}

/* The command line: what to run and how to print it. */
struct bench_opts {
	bool json, sel[NR_GROUPS];
	long reps, time_ms;
};

static void list_figures(void)
{
	for (size_t g = 0; g < NR_GROUPS; g++)
		for (int f = groups[g].first;
		     f < groups[g].first + groups[g].nr; f++)
			printf("%-16s %-12s %-9s %s\n", groups[g].name,
			       figures[f].name, figures[f].unit,
			       figures[f].what);
}

/* Fills @o; exits for --list, --help and bad options. */
static void parse_args(int argc, char **argv, struct bench_opts *o)
{
	bool any_only = false;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "--json")) {
			o->json = true;
		} else if (!strcmp(a, "--no-pin")) {
			opt_pin = false;
		} else if (!strcmp(a, "--retire-batch")) {
			opt_retire_batch =
				parse_num(a, i + 1 < argc ? argv[++i] : NULL, 1,
					  VMS_RETIRE_BATCH_MAX);
		} else if (!strcmp(a, "--reps")) {
			o->reps = parse_num(a, i + 1 < argc ? argv[++i] : NULL,
					    1, 1000);
		} else if (!strcmp(a, "--time-ms")) {
			o->time_ms = parse_num(
				a, i + 1 < argc ? argv[++i] : NULL, 1, 60000);
		} else if (!strcmp(a, "--only")) {
			parse_only(i + 1 < argc ? argv[++i] : NULL, o->sel);
			any_only = true;
		} else if (!strcmp(a, "--list")) {
			list_figures();
			exit(0);
		} else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage(stdout);
			exit(0);
		} else {
			die("unknown option '%s' (try --help)", a);
		}
	}
	if (!any_only)
		for (size_t g = 0; g < NR_GROUPS; g++)
			o->sel[g] = true;
}

/* Run the selected groups: samples[f] gets the figure's o->reps
 * samples, have[f] says it ran. */
static void run_groups(const struct bench_opts *o, double **samples, bool *have)
{
	for (size_t g = 0; g < NR_GROUPS; g++) {
		const struct group *gr = &groups[g];
		struct ctx x;
		double out[5];	/* the most figures a group has */

		if (!o->sel[g])
			continue;
		if (gr->nr > (int)(sizeof(out) / sizeof(out[0])))
			die("group %s has too many figures", gr->name);
		for (int f = gr->first; f < gr->first + gr->nr; f++) {
			samples[f] = calloc((size_t)o->reps, sizeof(double));
			if (!samples[f])
				die("out of memory");
			have[f] = true;
		}
		gr->setup(&x);
		for (long r = 0; r < o->reps; r++) {
			gr->rep(&x, (uint64_t)o->time_ms * 1000000ull, out);
			for (int k = 0; k < gr->nr; k++)
				samples[gr->first + k][r] = out[k];
		}
		ctx_close(&x);
		free(read_buf);
		free(memcpy_src);
		read_buf = memcpy_src = NULL;
	}
}

/* One figure per line, with every sample. */
static void print_json(const struct bench_opts *o, double *const *samples,
		       const bool *have)
{
	bool first = true;
	long reps = o->reps;

	printf("{\"build\": \"%s\", \"reps\": %ld, \"time_ms\": %ld, \"figures\": [\n",
	       VMT_BUILD, reps, o->time_ms);
	for (int f = 0; f < NR_FIGURES; f++) {
		struct vmt_stats s;

		if (!have[f])
			continue;
		s = vmt_stats_of(samples[f], (size_t)reps);
		printf("%s  {\"name\": \"%s\", \"unit\": \"%s\", \"better\": \"%s\", "
		       "\"median\": %.6g, \"min\": %.6g, \"max\": %.6g, \"samples\": [",
		       first ? "" : ",\n", figures[f].name, figures[f].unit,
		       figures[f].better, s.median, s.min, s.max);
		for (long r = 0; r < reps; r++)
			printf("%s%.6g", r ? ", " : "", samples[f][r]);
		printf("]}");
		first = false;
	}
	printf("\n]}\n");
}

/* A table for people: median, min and max of each figure. */
static void print_table(const struct bench_opts *o, double *const *samples,
			const bool *have)
{
	printf("vms-bench, %s core: median of %ld reps of %ld ms each\n\n",
	       VMT_BUILD, o->reps, o->time_ms);
	printf("%-12s %-9s %12s %12s %12s  %s\n", "figure", "unit", "median",
	       "min", "max", "what");
	for (int f = 0; f < NR_FIGURES; f++) {
		struct vmt_stats s;

		if (!have[f])
			continue;
		s = vmt_stats_of(samples[f], (size_t)o->reps);
		printf("%-12s %-9s %12.4g %12.4g %12.4g  %s\n", figures[f].name,
		       figures[f].unit, s.median, s.min, s.max,
		       figures[f].what);
	}
}

int main(int argc, char **argv)
{
	struct bench_opts o = { .reps = 5, .time_ms = 300 };
	double *samples[NR_FIGURES] = { NULL };
	bool have[NR_FIGURES] = { false };

	if (argc > 0 && argv[0][0]) {
		const char *slash = strrchr(argv[0], '/');

		prog = slash ? slash + 1 : argv[0];
	}
	parse_args(argc, argv, &o);
	run_groups(&o, samples, have);
	if (o.json)
		print_json(&o, samples, have);
	else
		print_table(&o, samples, have);
	for (int f = 0; f < NR_FIGURES; f++)
		free(samples[f]);
	return 0;
}
