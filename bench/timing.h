/* SPDX-License-Identifier: MIT */
/*
 * timing.h - monotonic clock and sample statistics for the benchmarks.
 *
 * CLOCK_MONOTONIC and not the raw TSC: this VM has no usable PMU and no
 * guarantee of an invariant TSC across its two vCPUs, and every timed region
 * is long enough (>= tens of microseconds) for the vDSO call (~20 ns) not to
 * matter.
 */
#ifndef VMT_BENCH_TIMING_H
#define VMT_BENCH_TIMING_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static inline uint64_t vmt_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* CPU time consumed by the calling thread. */
static inline uint64_t vmt_thread_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* CPU time consumed by all threads of the process. */
static inline uint64_t vmt_process_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int vmt_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

struct vmt_stats {
	double median, min, max;
};

/* Median (mean of the middle two for an even count), min and max of @n
 * samples; @v is left untouched. @n must be at least 1. */
static inline struct vmt_stats vmt_stats_of(const double *v, size_t n)
{
	struct vmt_stats s = { 0, 0, 0 };
	double *tmp = malloc(n * sizeof(*tmp));

	if (!tmp || !n) {
		free(tmp);
		return s;
	}
	memcpy(tmp, v, n * sizeof(*tmp));
	qsort(tmp, n, sizeof(*tmp), vmt_cmp_double);
	s.min = tmp[0];
	s.max = tmp[n - 1];
	s.median = (n & 1) ? tmp[n / 2] : (tmp[n / 2 - 1] + tmp[n / 2]) / 2;
	free(tmp);
	return s;
}

#endif /* VMT_BENCH_TIMING_H */
