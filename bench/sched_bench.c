/* SPDX-License-Identifier: MIT */
/*
 * sched_bench.c - controlled executions per second (the VMS_SCHED build).
 *
 *   vms-sched-bench [--runs N] [--reps R] [--policy random|pct|default]
 *                   [--reuse-pool] [--json]
 *
 * One execution: a fresh pool and space (unless --reuse-pool: a fresh
 * space in one pool), two program threads of 10 libvms calls each on
 * overlapping ranges (map, query and unmap sessions, 21 calls with the
 * setup's frame allocation), the reclaimer kicked at every retirement,
 * every decision taken by the policy (seed = execution number), then the
 * teardown. A repetition times N executions; the figures are medians
 * over R repetitions, with min and max. execs_per_cpu_s uses the
 * process's CPU time: what one core does, whatever else the machine runs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vms/vms.h>
#include "debug.h"
#include "policy.h"
#include "timing.h"

static struct {
	struct vms_pool *pool;
	struct vms_space *space;
	struct vms_frame *frame[2];
} W;

static const struct vms_prop rw = { VMS_PROP_R | VMS_PROP_W, VMS_CACHE_WRITEBACK, VMS_PRIV_USER };

#define BASE (2ULL << 20)

/* 10 libvms calls; both threads work in [BASE, BASE + 16K). */
static void worker(void *arg)
{
	int i = (int)(long)arg;
	vms_vaddr_t va = BASE + (vms_vaddr_t)i * 4096;
	struct vms_mapping m;
	struct vms_cursor *c;

	if (vms_cursor_mut_new(W.space, BASE, BASE + 16384, &c))
		abort();
	vms_cursor_jump(c, va);
	vms_cursor_map(c, W.frame[i], rw);
	vms_cursor_drop(c);
	if (vms_cursor_new(W.space, va, va + 4096, &c))
		abort();
	vms_cursor_query(c, &m);
	vms_cursor_drop(c);
	if (vms_cursor_mut_new(W.space, BASE, BASE + 16384, &c))
		abort();
	vms_cursor_jump(c, va);
	vms_cursor_unmap(c, 4096);
	vms_cursor_drop(c);
}

struct totals {
	uint64_t steps, switches;
};

static void execution(uint64_t seed, const char *policy, bool reuse, struct totals *t)
{
	struct vms_sched_opts o = { .nr_threads = 2 };
	struct vms_sched_result r;
	struct vmt_random rnd;
	struct vmt_pct pct;

	if (!reuse || !W.pool) {
		if (vms_pool_new(4 << 20, &W.pool))
			abort();
		if (vms_pool_set_retire_batch(W.pool, 1))
			abort();
	}
	if (vms_space_new(W.pool, 0, &W.space))
		abort();
	for (int i = 0; i < 2; i++) {
		if (vms_frame_alloc(W.pool, 1, &W.frame[i]))
			abort();
		o.thread[i].fn = worker;
		o.thread[i].arg = (void *)(long)i;
	}
	if (!strcmp(policy, "random")) {
		vmt_random_init(&rnd, seed);
		o.policy = vmt_random_choose;
		o.policy_arg = &rnd;
	} else if (!strcmp(policy, "pct")) {
		vmt_pct_init(&pct, seed, 3, 60);
		o.policy = vmt_pct_choose;
		o.policy_arg = &pct;
	}
	if (vms_sched_run(&o, &r) || r.verdict != VMS_SCHED_DONE) {
		fprintf(stderr, "vms-sched-bench: execution %lu did not complete\n",
			(unsigned long)seed);
		exit(1);
	}
	t->steps += r.steps;
	t->switches += r.switches;
	if (vms_space_destroy(W.space))
		abort();
	if (!reuse) {
		if (vms_pool_destroy(W.pool))
			abort();
		W.pool = NULL;
	}
}

static uint64_t cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int main(int argc, char **argv)
{
	unsigned runs = 20000, reps = 5;
	const char *policy = "random";
	bool reuse = false, json = false;
	double wall[64], cpu[64];
	struct totals t = { 0, 0 };
	struct vmt_stats sw, sc;
	uint64_t seed = 0;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--runs") && i + 1 < argc)
			runs = (unsigned)strtoul(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--reps") && i + 1 < argc)
			reps = (unsigned)strtoul(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--policy") && i + 1 < argc)
			policy = argv[++i];
		else if (!strcmp(argv[i], "--reuse-pool"))
			reuse = true;
		else if (!strcmp(argv[i], "--json"))
			json = true;
		else {
			fprintf(stderr, "usage: vms-sched-bench [--runs N] [--reps R] "
				"[--policy random|pct|default] [--reuse-pool] [--json]\n");
			return 2;
		}
	}
	if (!runs || !reps || reps > 64 || (strcmp(policy, "random") && strcmp(policy, "pct") &&
					     strcmp(policy, "default"))) {
		fprintf(stderr, "vms-sched-bench: --runs >= 1, --reps 1..64, --policy "
			"random|pct|default\n");
		return 2;
	}
	for (unsigned r = 0; r < reps; r++) {
		uint64_t w0 = vmt_now_ns(), c0 = cpu_ns();

		for (unsigned i = 0; i < runs; i++)
			execution(seed++, policy, reuse, &t);
		wall[r] = runs / ((vmt_now_ns() - w0) / 1e9);
		cpu[r] = runs / ((cpu_ns() - c0) / 1e9);
	}
	sw = vmt_stats_of(wall, reps);
	sc = vmt_stats_of(cpu, reps);
	if (json) {
		printf("{\"policy\": \"%s\", \"reuse_pool\": %s, \"runs\": %u, \"reps\": %u, "
		       "\"execs_per_s\": %.0f, \"execs_per_cpu_s\": %.0f, "
		       "\"decisions_per_exec\": %.1f, \"switches_per_exec\": %.1f}\n",
		       policy, reuse ? "true" : "false", runs, reps, sw.median, sc.median,
		       (double)t.steps / seed, (double)t.switches / seed);
	} else {
		printf("policy %s%s: %u executions x %u reps; %.1f decisions, %.1f switches "
		       "per execution\n", policy, reuse ? ", pool reused" : "", runs, reps,
		       (double)t.steps / seed, (double)t.switches / seed);
		printf("  execs/s (wall)   median %8.0f  min %8.0f  max %8.0f\n",
		       sw.median, sw.min, sw.max);
		printf("  execs/s (cpu)    median %8.0f  min %8.0f  max %8.0f  (%.1f us/exec)\n",
		       sc.median, sc.min, sc.max, 1e6 / sc.median);
	}
	return 0;
}
