/* SPDX-License-Identifier: MIT */
/*
 * test_mutator.c - the structure-aware mutator (fuzz/mutator.c): every
 * output decodes, canonically, to a valid program; each edit kind is
 * produced and does what its name says; the engines' entry points keep
 * byte-level mutation and never write past the size they are given.
 */
#include "test.h"
#include "../../fuzz/mutator.h"
#include "../../tools/op/op.h"

/* Two threads, a schedule, a fault: every edit kind applies to it. */
static const char seed_text[] =
	"thread 0:\n"
	"frame_alloc frame=0 level=1\n"
	"fail nth=1\n"
	"cursor_new mut start=0x200000 end=0x400000\n"
	"map frame=0 prop=RW-,wb,user\n"
	"drop\n"
	"thread 1:\n"
	"reader_new acc=0 va=0x200000 len=0x1000\n"
	"activate acc=0\n"
	"read acc=0 n=4096\n"
	"schedule v1:\n"
	"after thread 0 decision 9 run thread 1\n";

static struct vmt_prog a, b;
static uint8_t buf[VMT_MAX_ENCODED], again[VMT_MAX_ENCODED];

static size_t seed_bytes(uint8_t *out)
{
	int line;
	char err[160];
	long n;

	CHECK_EQ(vmt_parse(seed_text, &a, &line, err, sizeof(err)), 0);
	n = vmt_encode(&a, out, VMT_MAX_ENCODED);
	CHECK(n > 0);
	return (size_t)n;
}

static unsigned faults(const struct vmt_prog *p)
{
	unsigned n = 0;

	for (unsigned i = 0; i < p->n; i++)
		n += p->ops[i].code == VMT_OP_FAIL;
	return n;
}

/* Ops that differ at the same index (programs of the same length). */
static unsigned ops_differing(const struct vmt_prog *x, const struct vmt_prog *y)
{
	unsigned d = 0;

	for (unsigned i = 0; i < x->n; i++)
		d += !vmt_op_equal(&x->ops[i], &y->ops[i]);
	return d;
}

/* What an edit of kind @k must have done from @x to @y. */
static void check_edit(enum vmt_mut_kind k, const struct vmt_prog *x, const struct vmt_prog *y)
{
	if (k != VMT_MUT_RETIRE_BATCH)
		CHECK_EQ(y->retire_batch, x->retire_batch);
	switch (k) {
	case VMT_MUT_PREEMPT_INSERT:
		CHECK_EQ(y->nsched, x->nsched + 1);
		CHECK_EQ(y->n, x->n);
		break;
	case VMT_MUT_PREEMPT_DELETE:
		CHECK_EQ(y->nsched + 1, x->nsched);
		CHECK_EQ(y->n, x->n);
		break;
	case VMT_MUT_PREEMPT_MOVE:
		CHECK_EQ(y->nsched, x->nsched);
		CHECK(memcmp(x->sched, y->sched, x->nsched * sizeof(x->sched[0])));
		CHECK_EQ(y->n, x->n);
		break;
	case VMT_MUT_OP_THREAD: {
		unsigned moved = 0;

		CHECK_EQ(y->n, x->n);
		CHECK_EQ(y->nsched, x->nsched);
		/* The same ops, regrouped: one of them changed thread. */
		for (unsigned t = 0; t < VMT_MAX_THREADS; t++) {
			unsigned cx = 0, cy = 0;

			for (unsigned i = 0; i < x->n; i++) {
				cx += x->ops[i].thread == t;
				cy += y->ops[i].thread == t;
			}
			moved += cx > cy ? cx - cy : 0;
		}
		CHECK_EQ(moved, 1);
		break;
	}
	case VMT_MUT_OPERAND:
		CHECK_EQ(y->n, x->n);
		CHECK_EQ(y->nsched, x->nsched);
		CHECK_EQ(ops_differing(x, y), 1);
		break;
	case VMT_MUT_FAULT_ADD:
		CHECK_EQ(y->n, x->n + 1);
		CHECK_EQ(faults(y), faults(x) + 1);
		break;
	case VMT_MUT_FAULT_DELETE:
		CHECK_EQ(y->n + 1, x->n);
		CHECK_EQ(faults(y) + 1, faults(x));
		break;
	case VMT_MUT_RETIRE_BATCH:
		CHECK_EQ(y->n, x->n);
		CHECK_EQ(y->nsched, x->nsched);
		CHECK_EQ(ops_differing(x, y), 0);
		CHECK(y->retire_batch != x->retire_batch);
		break;
	default:
		CHECK(!"an edit of no kind");
	}
}

/* From the seed, chains of edits: every output decodes to a valid
 * program whose encoding is the output itself, each edit does what its
 * kind says, and every kind shows up. */
TEST(mutator_outputs_decode_and_every_kind_shows)
{
	unsigned seen[VMT_MUT__COUNT] = { 0 };
	uint64_t rng = 1;
	size_t n = 0;

	for (int i = 0; i < 20000; i++) {
		enum vmt_mut_kind k;
		size_t m;

		if (i % 50 == 0)
			n = seed_bytes(buf);	/* restart: chains stay near the seed */
		vmt_decode(buf, n, &a);
		m = vmt_mutate(buf, n, sizeof(buf), &rng, &k);
		if (!m) {
			CHECK_EQ(k, VMT_MUT_NONE);
			continue;
		}
		CHECK(k > VMT_MUT_NONE && k < VMT_MUT__COUNT);
		seen[k]++;
		vmt_decode(buf, m, &b);
		CHECK(vmt_prog_valid(&b, NULL));
		CHECK_EQ(vmt_encode(&b, again, sizeof(again)), (long)m);
		CHECK(!memcmp(again, buf, m));
		check_edit(k, &a, &b);
		n = m;
	}
	for (int k = VMT_MUT_NONE + 1; k < VMT_MUT__COUNT; k++) {
		if (!seen[k])
			vmt_fail(__FILE__, __LINE__, "edit %s never produced", vmt_mut_name(k));
	}
}

/* Any bytes in (the fuzzers' inputs are anything), never more than max
 * out: the output decodes and fits. */
TEST(mutator_any_input_bounded_output)
{
	uint64_t rng = 7, fill = 3;
	static uint8_t in[512];

	for (int i = 0; i < 5000; i++) {
		size_t n = (size_t)(fill % sizeof(in)), max = 1 + (size_t)(rng % 300), m;
		enum vmt_mut_kind k;

		for (size_t j = 0; j < n; j++) {
			fill = fill * 6364136223846793005ULL + 1442695040888963407ULL;
			in[j] = (uint8_t)(fill >> 56);
		}
		memset(buf, 0xaa, sizeof(buf));
		memcpy(buf, in, n);
		m = vmt_mutate(buf, n, max, &rng, &k);
		CHECK(m <= max);
		if (!m) {
			CHECK(!memcmp(buf, in, n));	/* untouched */
			continue;
		}
		CHECK_EQ(buf[max], max < n ? in[max] : 0xaa);	/* nothing past max */
		vmt_decode(buf, m, &b);
		CHECK(vmt_prog_valid(&b, NULL));
	}
}

/* The target's record of decisions per thread (fuzz/target_mt.c), here
 * a fixed answer when the test says so. */
static bool hint_on;
static const uint32_t hint_dec[] = { 3, 4, 2 };	/* threads 0, 1, reclaimer */

bool vmt_fuzz_mt_decisions(const uint8_t *data, size_t size, uint32_t *dec, unsigned n)
{
	(void)data, (void)size;
	for (unsigned t = 0; t < n; t++)
		dec[t] = t < sizeof(hint_dec) / sizeof(hint_dec[0]) ? hint_dec[t] : 0;
	return hint_on;
}

/* Inserted preemptions (into a program with no schedule) that fall among
 * the decisions the hint says each thread takes, out of 1000. */
static unsigned inserts_within_hint(void)
{
	uint64_t rng = 11;
	unsigned inserted = 0, within = 0;
	size_t n;
	long e;

	seed_bytes(buf);
	a.nsched = 0;
	a.sched_version = 0;	/* no schedule at all */
	e = vmt_encode(&a, again, sizeof(again));
	CHECK(e > 0);
	n = (size_t)e;
	while (inserted < 1000) {
		enum vmt_mut_kind k;
		size_t m;

		memcpy(buf, again, n);
		m = vmt_mutate(buf, n, sizeof(buf), &rng, &k);
		if (k != VMT_MUT_PREEMPT_INSERT)
			continue;
		vmt_decode(buf, m, &b);
		CHECK_EQ(b.nsched, 1u);
		inserted++;
		within += b.sched[0].thread < 3 && b.sched[0].nth < hint_dec[b.sched[0].thread];
	}
	return within;
}

/* With the target's hint, most new preemptions land on decisions the
 * thread takes; without it (the AFL++ library), guesses mostly miss
 * such short threads: the hint is what puts them there. */
TEST(mutator_preemptions_follow_the_decision_hint)
{
	unsigned with, without;

	hint_on = true;
	with = inserts_within_hint();
	hint_on = false;
	without = inserts_within_hint();
	CHECK(with > 600);
	CHECK(without < 300);
}

/* libFuzzer's byte-level mutation keeps a share of the calls. */
static unsigned byte_calls;

size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max)
{
	byte_calls++;
	if (size < max)
		data[size++] = 0x42;
	return size;
}

size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max, unsigned int seed);

TEST(mutator_libfuzzer_keeps_byte_mutation)
{
	unsigned calls = 3000;
	size_t n = seed_bytes(buf);

	byte_calls = 0;
	for (unsigned i = 0; i < calls; i++) {
		size_t m = LLVMFuzzerCustomMutator(buf, n, sizeof(buf), i);

		CHECK(m > 0 && m <= sizeof(buf));
		if (i % 20 == 19)
			m = seed_bytes(buf);
		n = m;
	}
	/* One in VMT_MUT_BYTES_SHARE, give or take (and the rare fallback). */
	CHECK(byte_calls > calls / VMT_MUT_BYTES_SHARE / 2);
	CHECK(byte_calls < calls / VMT_MUT_BYTES_SHARE * 2);
}

void *afl_custom_init(void *afl, unsigned int seed);
size_t afl_custom_fuzz(void *data, uint8_t *buf, size_t buf_size, uint8_t **out_buf,
		       uint8_t *add_buf, size_t add_buf_size, size_t max_size);
const char *afl_custom_describe(void *data, size_t max_len);
void afl_custom_deinit(void *data);

TEST(mutator_afl_api)
{
	void *m = afl_custom_init(NULL, 5);
	size_t n = seed_bytes(buf);
	unsigned edited = 0, bytes = 0;

	CHECK(m != NULL);
	for (int i = 0; i < 500; i++) {
		uint8_t *out = NULL;
		size_t k = afl_custom_fuzz(m, buf, n, &out, NULL, 0, 4096);

		CHECK(out != NULL && k > 0 && k <= 4096);
		vmt_decode(out, k, &b);
		CHECK(vmt_prog_valid(&b, NULL));
		edited += strcmp(afl_custom_describe(m, 64), "none") != 0;
		if (!strcmp(afl_custom_describe(m, 64), "bytes")) {
			bytes++;
			CHECK_EQ(k, n); /* same length, other bytes */
		}
	}
	/* Byte-level edits: one in VMT_MUT_BYTES_SHARE, give or take (AFL's
	 * havoc is off for the sched engine, AFL_CUSTOM_MUTATOR_ONLY). */
	CHECK(bytes > 500 / VMT_MUT_BYTES_SHARE / 2 &&
	      bytes < 500 / VMT_MUT_BYTES_SHARE * 2);
	CHECK(edited > 400);
	/* A buffer too small for any edit: the input back, unchanged. */
	{
		uint8_t *out = NULL;
		size_t k = afl_custom_fuzz(m, buf, n, &out, NULL, 0, 1);

		CHECK_EQ(k, n);
		CHECK(!memcmp(out, buf, n));
	}
	afl_custom_deinit(m);
}

uint32_t afl_custom_fuzz_count(void *data, const uint8_t *buf, size_t buf_size);
uint8_t afl_custom_queue_new_entry(void *data,
				   const uint8_t *filename_new_queue,
				   const uint8_t *filename_orig_queue);
uint8_t afl_custom_queue_get(void *data, const uint8_t *filename);

/* Queue file names as afl-fuzz 4.04c writes them. */
static char qname[200][96];

static const uint8_t *qn(unsigned id)
{
	return (const uint8_t *)qname[id];
}

/* afl-fuzz's loop: pick entries (here uniformly, so a group with more
 * entries is picked more often), skip those queue_get refuses, fuzz the
 * rest (fuzz_count); how often each of @ngroups groups was fuzzed. */
static void afl_picks(void *m, unsigned nq, const unsigned *group,
		      unsigned *fuzzed, unsigned ngroups)
{
	uint64_t s = 7;

	memset(fuzzed, 0, ngroups * sizeof(*fuzzed));
	for (int picks = 0; picks < 600;) {
		unsigned id = (unsigned)((s = s * 6364136223846793005ULL +
					      1442695040888963407ULL) >>
					 33) %
			      nq;

		if (!afl_custom_queue_get(m, qn(id)))
			continue;
		CHECK(afl_custom_fuzz_count(m, buf, 1) > 0);
		fuzzed[group[id]]++;
		picks++;
	}
}

/* Every seed scenario gets its turn, however many children another
 * seed has (afl_custom_queue_get); imports from other fuzzers make one
 * more group; on resume an entry's src: names its parent. */
TEST(mutator_afl_queue_turns)
{
	void *m = afl_custom_init(NULL, 5);
	unsigned group[200], fuzzed[4], nq = 0;

	/* Three seeds; 97 children and grandchildren of the first. */
	for (unsigned i = 0; i < 3; i++, nq++) {
		snprintf(qname[nq], sizeof(qname[0]),
			 "out/default/queue/id:%06u,time:0,execs:0,orig:s%u",
			 nq, i);
		group[nq] = i;
		CHECK_EQ(afl_custom_queue_new_entry(m, qn(nq), NULL), 0);
	}
	for (; nq < 100; nq++) {
		unsigned parent = nq < 10 ? 0 : nq - 7;

		snprintf(
			qname[nq], sizeof(qname[0]),
			"out/default/queue/id:%06u,src:%06u,time:9,execs:99,op:preempt-move",
			nq, parent);
		group[nq] = 0;
		CHECK_EQ(afl_custom_queue_new_entry(m, qn(nq), qn(parent)), 0);
	}
	/* A child of the third seed. */
	snprintf(qname[nq], sizeof(qname[0]),
		 "out/default/queue/id:%06u,src:%06u,op:operand", nq, 2u);
	group[nq] = 2;
	afl_custom_queue_new_entry(m, qn(nq), qn(2));
	nq++;
	afl_picks(m, nq, group, fuzzed, 3);
	for (unsigned g = 0; g < 3; g++)
		CHECK(fuzzed[g] == 200);
	/* An import (no hook is called for it): a fourth group. */
	snprintf(qname[nq], sizeof(qname[0]),
		 "out/default/queue/id:%06u,sync:libfuzzer,src:000042", nq);
	group[nq] = 3;
	nq++;
	afl_picks(m, nq, group, fuzzed, 4);
	for (unsigned g = 0; g < 4; g++)
		CHECK(fuzzed[g] == 150);
	afl_custom_deinit(m);

	/* Resumed: afl-fuzz reads the queue back, no parent given. */
	m = afl_custom_init(NULL, 5);
	for (unsigned i = 0; i < nq - 1; i++)
		afl_custom_queue_new_entry(m, qn(i), NULL);
	afl_picks(m, nq - 1, group, fuzzed, 3);
	for (unsigned g = 0; g < 3; g++)
		CHECK(fuzzed[g] == 200);
	afl_custom_deinit(m);
}
