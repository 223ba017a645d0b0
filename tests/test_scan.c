/* SPDX-License-Identifier: MIT */
/*
 * test_scan.c - the sync layer's PTE scans (sync.h vms_pte_next*,
 * vms_pte_prev_locked) against a one-entry-at-a-time scan: every
 * non-zero entry is found, whatever its bits and wherever it sits
 * against the scan's steps.
 */
#include "test.h"
#include "sync.h"

#define N VMS_NR_ENTRIES

/* The first non-zero entry of @t in [i, end), or end. */
static int ref_next(const uint64_t *t, int i, int end)
{
	while (i < end && !t[i])
		i++;
	return i;
}

/* The last non-zero entry of @t in [first, i], or first - 1. */
static int ref_prev(const uint64_t *t, int i, int first)
{
	while (i >= first && !t[i])
		i--;
	return i;
}

static void load(vms_pte_t *pte, const uint64_t *t)
{
	for (int i = 0; i < N; i++)
		vms_pte_init(&pte[i], t[i]);
}

/* All three scans over [i, end) of @t agree with the reference. */
static void check_range(vms_pte_t *pte, const uint64_t *t, int i, int end)
{
	uint64_t v = 0;
	int want = ref_next(t, i, end), got;

	got = vms_pte_next_locked(pte, i, end, &v);
	CHECK_EQ(got, want);
	if (got < end)
		CHECK_EQ(v, t[got]);
	v = 0;
	got = vms_pte_next(pte, i, end, &v);
	CHECK_EQ(got, want);
	if (got < end)
		CHECK_EQ(v, t[got]);
	if (end > i) {
		want = ref_prev(t, end - 1, i);
		v = 0;
		got = vms_pte_prev_locked(pte, end - 1, i, &v);
		CHECK_EQ(got, want);
		if (got >= i)
			CHECK_EQ(v, t[got]);
	}
}

TEST(pte_scan_one_entry)
{
	static vms_pte_t pte[N];
	uint64_t t[N] = { 0 };

	/* Empty: nothing found, from anywhere. */
	load(pte, t);
	for (int i = 0; i <= N; i++)
		check_range(pte, t, i, N);
	/* One entry in use, each place and each bit (a high bit alone
	 * must not vanish in the OR of a step). */
	for (int k = 0; k < N; k++) {
		t[k] = 1ULL << (k % 64);
		load(pte, t);
		for (int i = 0; i <= k + 1 && i <= N; i++) {
			check_range(pte, t, i, N);
			check_range(pte, t, i, k + 1);
			if (i <= k)
				check_range(pte, t, i, k);
		}
		check_range(pte, t, k, N);
		t[k] = 0;
	}
}

TEST(pte_scan_random)
{
	static vms_pte_t pte[N];
	uint64_t t[N];
	unsigned seed = 12345;

	for (int round = 0; round < 400; round++) {
		int used;

		memset(t, 0, sizeof(t));
		seed = seed * 1103515245u + 12345u;
		used = (int)(seed >> 8) % 12;
		for (int n = 0; n < used; n++) {
			seed = seed * 1103515245u + 12345u;
			/* clustered in a third of the rounds: neighbours in one step */
			t[round % 3 ? (seed >> 8) % N : 40 + (seed >> 8) % 20] =
				(uint64_t)seed << ((seed >> 4) % 40) |
				1ULL << 63 >> (seed % 64);
		}
		load(pte, t);
		for (int q = 0; q < 64; q++) {
			int i, end;

			seed = seed * 1103515245u + 12345u;
			i = (int)(seed >> 8) % (N + 1);
			seed = seed * 1103515245u + 12345u;
			end = i + (int)(seed >> 8) % (N + 1 - i);
			check_range(pte, t, i, end);
		}
		/* And a whole walk, as the callers make it: every entry found once. */
		int seen = 0, expect = 0;
		uint64_t v;

		for (int i = 0; i < N; i++)
			expect += t[i] != 0;
		for (int i = 0; (i = vms_pte_next_locked(pte, i, N, &v)) < N;
		     i++) {
			CHECK(v && v == t[i]);
			seen++;
		}
		CHECK_EQ(seen, expect);
		seen = 0;
		for (int i = N - 1;
		     (i = vms_pte_prev_locked(pte, i, 0, &v)) >= 0; i--) {
			CHECK(v && v == t[i]);
			seen++;
		}
		CHECK_EQ(seen, expect);
	}
}
