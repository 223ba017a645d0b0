/* SPDX-License-Identifier: MIT */
/*
 * test_op.c - tests of the op language and the differential executor.
 *
 *   test_op [-v] [-l] [name-substring]   the runner's (tests/runner.c)
 *
 * The random tests take their knobs from the environment (the runner
 * forks each test from one parent, so they all see the same values):
 *   VMT_OP_ITERS=N     random programs for the executor test (10000; the
 *                      dense one runs N/5)
 *   VMT_OP_SEED=SEED   the seed (default: the time; printed by each test)
 *   VMT_OP_KEEP=DIR    also keep diverging random inputs in DIR
 *   VMT_OP_POOL=BYTES  pool size for the random programs (small: -ENOMEM)
 *
 * Round trips (binary and text) on random programs, decoder totality on
 * random bytes (run through the executor: a correct libvms must agree with
 * the model on every one), text-form errors, and executor scenarios whose
 * outcome is known.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <vms/vms.h>
#include "fields.h"
#include "reuse.h"
#include "step_corrupt.h"
#include "../../tests/test.h"

static const char *keep_dir;
static size_t pool_bytes;	/* 0: the executor's default */
static unsigned knob_iters = 10000;
static uint64_t knob_seed;
static uint64_t rng_state;

/* A failed check is recorded and the test goes on (its loops say which
 * input failed); the runner reports the test failed at its end. */
#define T_CHECK(cond, ...)                                                     \
	do {                                                                   \
		if (!(cond)) {                                                 \
			char m_[512];                                          \
			snprintf(m_, sizeof(m_), __VA_ARGS__);                 \
			vmt_fail_soft(__FILE__, __LINE__,                      \
				      "CHECK(%s) failed: %s", #cond, m_);      \
		}                                                              \
	} while (0)

/* The knobs, read once in the parent before the runner forks. */
__attribute__((constructor)) static void read_knobs(void)
{
	const char *v;

	knob_seed = (uint64_t)time(NULL);
	if ((v = getenv("VMT_OP_ITERS")))
		knob_iters = (unsigned)strtoul(v, NULL, 0);
	if ((v = getenv("VMT_OP_SEED")))
		knob_seed = strtoull(v, NULL, 0);
	rng_state = knob_seed;
	keep_dir = getenv("VMT_OP_KEEP");
	if ((v = getenv("VMT_OP_POOL")))
		pool_bytes = strtoull(v, NULL, 0);
}

#define M2_ (2ULL << 20)

static uint64_t rnd(void)
{
	/* splitmix64: reproducible from the printed seed */
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void rnd_bytes(uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)rnd();
}

/* Each op's fields, from the op table. */
static const uint8_t fields_of[VMT_OP__COUNT][VMT_MAXF] = {
#define VMT_OP(code, name, ...) [VMT_OP_##code] = { __VA_ARGS__ },
#include "ops.def"
#undef VMT_OP
};

/* How often each op appears in a dense program (out of 240). */
static const uint8_t dense_weight[VMT_OP__COUNT] = {
	[VMT_OP_CURSOR_NEW] = 30, [VMT_OP_MAP] = 30, [VMT_OP_FRAME_ALLOC] = 24,
	[VMT_OP_FRAME_GET] = 6, [VMT_OP_FRAME_PUT] = 6, [VMT_OP_JUMP] = 12,
	[VMT_OP_UNMAP] = 6, [VMT_OP_FIND_NEXT] = 6, [VMT_OP_PROTECT_NEXT] = 12,
	[VMT_OP_QUERY] = 12, [VMT_OP_DROP] = 12, [VMT_OP_ACC_NEW] = 24,
	[VMT_OP_ACC_ACTIVATE] = 12, [VMT_OP_ACC_READ] = 6, [VMT_OP_ACC_WRITE] = 6,
	[VMT_OP_ACC_RELEASE] = 8, [VMT_OP_CHECK] = 4, [VMT_OP_SPACE_NEW] = 3,
	[VMT_OP_SPACE_SWITCH] = 3, [VMT_OP_SPACE_DESTROY] = 3, [VMT_OP_QUIESCE] = 3,
	[VMT_OP_FAIL] = 12,
};

/* Set field @f of @op anywhere in its domain (wider than what the
 * decoder's biased forms usually produce). Accessor slots, spaces and
 * the 0/1 arguments, which the decoder covers whole, stay as decoded. */
static void widen(struct vmt_op *op, enum fld f)
{
	switch (f) {
	case F_A: case F_JVA: case F_LEN: case F_AVA: case F_BYTES:
		op->a = rnd() >> (rnd() % 64);
		break;
	case F_RANGE_END: case F_ALEN:
		op->b = rnd() >> (rnd() % 64);
		break;
	case F_IO:
		op->a = rnd() % (VMT_MAX_IO + 1);
		break;
	case F_PATTERN: case F_SPFLAGS:
		op->arg = (uint8_t)rnd();
		break;
	case F_LEVEL:
		op->arg = rnd() % 4;
		break;
	case F_NTH:
		op->a = 1 + rnd() % VMT_MAX_NTH;
		break;
	case F_SITE:
		op->arg = rnd() % VMS_FAULT_NR;
		break;
	case F_FSLOT:
		op->slot = rnd() % VMT_NR_FRAMES;
		break;
	case F_PROP:
		op->prop.flags = (uint8_t)rnd();
		op->prop.cache = (uint8_t)rnd();
		op->prop.priv = (uint8_t)rnd();
		break;
	case F_PROTECT:
		op->pset = (uint8_t)rnd();
		op->pclr = (uint8_t)rnd();
		op->pcache = (uint8_t)rnd();
		op->ppriv = (uint8_t)rnd();
		break;
	default:
		break;
	}
}

/* A decoded op (valid shape) of code @code (the first op, whatever its
 * code, if VMT_OP__COUNT), then every field widened. */
static void rnd_op_of(struct vmt_op *op, unsigned code)
{
	uint8_t bytes[64];
	static struct vmt_prog some;
	unsigned k = 0;

	for (;;) {
		rnd_bytes(bytes, sizeof(bytes));
		vmt_decode(bytes, sizeof(bytes), &some);
		for (k = 0; code < VMT_OP__COUNT && k < some.n && some.ops[k].code != code; k++)
			;
		if (k < some.n)
			break;
	}
	*op = some.ops[k];
	op->thread = 0;
	for (int i = 0; i < VMT_MAXF && fields_of[op->code][i]; i++)
		widen(op, fields_of[op->code][i]);
}

static void rnd_op(struct vmt_op *op)
{
	rnd_op_of(op, VMT_OP__COUNT);
}

static void rnd_prog(struct vmt_prog *p, bool wide)
{
	if (!wide) {
		uint8_t buf[2048];
		size_t n = rnd() % sizeof(buf);

		rnd_bytes(buf, n);
		vmt_decode(buf, n, p);
		return;
	}
	p->n = (unsigned)(rnd() % (VMT_MAX_OPS + 1));
	p->nthreads = 1;
	p->nsched = 0;
	p->sched_version = 0;
	p->retire_batch = 0;
	for (unsigned i = 0; i < p->n; i++)
		rnd_op(&p->ops[i]);
}

/* Spread @p's ops over 1..VMT_MAX_THREADS threads and give it a random
 * schedule, in any order: vmt_prog_normalize makes it valid. */
static void rnd_mt(struct vmt_prog *p)
{
	unsigned nt = 1 + (unsigned)(rnd() % VMT_MAX_THREADS);

	p->nthreads = (uint8_t)nt;
	for (unsigned i = 0; i < p->n; i++)
		p->ops[i].thread = (uint8_t)(rnd() % nt);
	p->nsched = (unsigned)(rnd() % 40);
	p->sched_version = (uint8_t)(rnd() % 3);
	p->retire_batch =
		rnd() % 2 ? 0 : (uint16_t)(rnd() % (VMT_MAX_RETIRE_BATCH + 1));
	for (unsigned i = 0; i < p->nsched; i++) {
		uint64_t x = rnd();

		p->sched[i] = (struct vmt_preempt){ (uint32_t)(x >> (32 + x % 32)),
			(uint8_t)(x % VMT_SCHED_THREADS), (uint8_t)((x >> 8) % VMT_SCHED_THREADS) };
	}
	vmt_prog_normalize(p);
}

static char *prog_text(const struct vmt_prog *p)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	vmt_print_prog(f, p, -1, NULL, NULL);
	fclose(f);
	return buf;
}

/* ---- round trips ------------------------------------------------------- */

static void test_roundtrip(unsigned iters)
{
	static struct vmt_prog p, q;
	static uint8_t bin[VMT_MAX_ENCODED];

	for (unsigned it = 0; it < iters; it++) {
		char err[160], *t1, *t2;
		int line = 0;
		long n;

		rnd_prog(&p, it & 1);
		if (it % 3 == 2)
			rnd_mt(&p);
		T_CHECK(vmt_prog_valid(&p, NULL), "random program %u invalid", it);
		n = vmt_encode(&p, bin, sizeof(bin));
		T_CHECK(n >= 0 && (size_t)n <= sizeof(bin), "encode gave %ld", n);
		if (n < 0 || (size_t)n > sizeof(bin))
			return;
		vmt_decode(bin, (size_t)n, &q);
		if (!vmt_prog_equal(&p, &q)) {
			unsigned k = 0;
			char a[200], b[200];

			while (k < p.n && k < q.n && vmt_op_equal(&p.ops[k], &q.ops[k]))
				k++;
			a[0] = b[0] = 0;
			if (k < p.n)
				vmt_format_op(&p.ops[k], a, sizeof(a));
			if (k < q.n)
				vmt_format_op(&q.ops[k], b, sizeof(b));
			T_CHECK(0, "decode(encode(p)) != p at op %u: '%s' vs '%s' (n %u/%u)",
				k, a, b, p.n, q.n);
			return;
		}
		t1 = prog_text(&p);
		T_CHECK(vmt_parse(t1, &q, &line, err, sizeof(err)) == 0,
			"parse(print(p)) failed line %d: %s", line, err);
		T_CHECK(vmt_prog_equal(&p, &q), "parse(print(p)) != p");
		t2 = prog_text(&q);
		T_CHECK(!strcmp(t1, t2), "print(parse(print(p))) not canonical");
		free(t1);
		free(t2);
		if (vmt_has_failed())
			return;
	}
}

/*
 * Every row of the op table: its name is its text word, and ops of that
 * row with every field widened survive the binary and the text form.
 */
TEST(test_every_op)
{
	static struct vmt_prog p, q;
	static uint8_t bin[VMT_MAX_ENCODED];
	unsigned weight = 0;

	for (unsigned c = 0; c < VMT_OP__COUNT; c++) {
		char line[200], err[160];
		struct vmt_op op;
		long n;

		weight += dense_weight[c];
		T_CHECK(strcmp(vmt_op_name(c), "?"), "op %u has no name", c);
		p.n = 0;
		for (int k = 0; k < 50; k++)
			rnd_op_of(&p.ops[p.n++], c);
		n = vmt_encode(&p, bin, sizeof(bin));
		T_CHECK(n > 0, "%s: encode gave %ld", vmt_op_name(c), n);
		if (n <= 0)
			continue;
		vmt_decode(bin, (size_t)n, &q);
		T_CHECK(vmt_prog_equal(&p, &q), "%s: decode(encode(p)) != p", vmt_op_name(c));
		for (unsigned k = 0; k < p.n; k++) {
			vmt_format_op(&p.ops[k], line, sizeof(line));
			T_CHECK(!strncmp(line, vmt_op_name(c), strlen(vmt_op_name(c))) ||
				c == VMT_OP_ACC_NEW, "'%s' does not start with %s", line,
				vmt_op_name(c));
			T_CHECK(vmt_parse_op(line, &op, err, sizeof(err)) == 1 &&
				vmt_op_equal(&op, &p.ops[k]), "'%s': %s", line, err);
		}
	}
	T_CHECK(weight == 240, "dense weights sum to %u", weight);
}

/* Non-canonical text prints canonically and means the same. */
TEST(test_text_forms)
{
	static struct vmt_prog p;
	char err[160], *t;
	int line;
	const char *in =
		"  # comment line\n"
		"\n"
		"cursor_new start=4096 end=0x3000 mut\n"
		"map frame=3 prop=R-X-D,uc,global   # trailing comment\n"
		"protect_next len=0x1000 set=WR clear=0x20 cache=7 priv^=user+global\n"
		"protect_next len=4096\n"
		"activate acc=2 space=0\n"
		"activate acc=2\n"
		"reader_new space=1 acc=3 va=1 len=2\n"
		"space_new space=1 flags=1\n"
		"write acc=1 n=0 pattern=0\n"
		"frame_alloc level=2 frame=7\n";
	const char *want =
		"cursor_new mut start=0x1000 end=0x3000\n"
		"map frame=3 prop=R-XD,uc,global\n"
		"protect_next len=0x1000 set=RW clear=0x20 cache=7 priv^=user+global\n"
		"protect_next len=0x1000\n"
		"activate acc=2 space=0\n"
		"activate acc=2\n"
		"reader_new acc=3 space=1 va=0x1 len=0x2\n"
		"space_new space=1 flags=0x1\n"
		"write acc=1 n=0\n"
		"frame_alloc frame=7 level=2\n";

	T_CHECK(vmt_parse(in, &p, &line, err, sizeof(err)) == 0, "line %d: %s", line, err);
	T_CHECK(p.n == 10, "%u ops", p.n);
	T_CHECK(p.ops[1].prop.flags == (VMS_PROP_R | VMS_PROP_X | VMS_PROP_DIRTY) &&
		p.ops[1].prop.cache == VMS_CACHE_UNCACHEABLE &&
		p.ops[1].prop.priv == VMS_PRIV_GLOBAL, "map prop");
	T_CHECK(p.ops[3].pcache == VMT_CACHE_KEEP, "cache default is keep");
	T_CHECK(p.ops[4].arg == 1 && p.ops[5].arg == 0, "activate space= sets arg");
	t = prog_text(&p);
	T_CHECK(!strcmp(t, want), "canonical form:\n%s", t);
	free(t);
}

/* Threads and a schedule: per-thread blocks, the schedule last; ops are
 * regrouped by thread, preemptions sorted, and both forms agree. */
TEST(test_mt_forms)
{
	static struct vmt_prog p, q;
	static uint8_t bin[VMT_MAX_ENCODED];
	char err[160], *t;
	int line;
	long n;
	const char *in =
		"frame_alloc frame=0 level=1\n"
		"thread 2:\n"
		"query\n"
		"thread 1:\n"
		"cursor_new ro start=0x1000 end=0x2000\n"
		"thread 2:  # again\n"
		"drop\n"
		"schedule:\n"
		"after thread 1 decision 7 run thread 4\n"
		"after thread 0 decision 0 run thread 2\n"
		"after thread 1 decision 7 run thread 0\n";
	const char *want =
		"thread 0:\n"
		"frame_alloc frame=0 level=1\n"
		"thread 1:\n"
		"cursor_new ro start=0x1000 end=0x2000\n"
		"thread 2:\n"
		"query\n"
		"drop\n"
		"schedule v1:\n"
		"after thread 0 decision 0 run thread 2\n"
		"after thread 1 decision 7 run thread 4\n";

	T_CHECK(vmt_parse(in, &p, &line, err, sizeof(err)) == 0, "line %d: %s", line, err);
	T_CHECK(p.n == 4 && p.nthreads == 3 && p.nsched == 2 && vmt_prog_is_mt(&p),
		"%u ops, %u threads, %u preemptions", p.n, p.nthreads, p.nsched);
	T_CHECK(vmt_prog_valid(&p, NULL), "parsed program invalid");
	t = prog_text(&p);
	T_CHECK(!strcmp(t, want), "canonical form:\n%s", t);
	free(t);
	n = vmt_encode(&p, bin, sizeof(bin));
	T_CHECK(n > 0, "encode: %ld", n);
	vmt_decode(bin, (size_t)n, &q);
	T_CHECK(vmt_prog_equal(&p, &q), "decode(encode(p)) != p");
	/* A one-thread program with a schedule is multi-thread too. */
	T_CHECK(vmt_parse("check\nschedule v2:\nafter thread 0 decision 3 run thread 1\n",
			  &p, &line, err, sizeof(err)) == 0 && p.nthreads == 1 &&
		p.sched_version == 2 && vmt_prog_is_mt(&p), "one thread and a schedule");
	t = prog_text(&p);
	T_CHECK(!strcmp(t, "check\nschedule v2:\nafter thread 0 decision 3 run thread 1\n"),
		"one thread: no thread lines:\n%s", t);
	free(t);
	/* So is one with a retire batch; it prints first, and survives the
	 * binary form. */
	T_CHECK(vmt_parse("check\n  retire batch 512  # production-like\n", &p,
			  &line, err, sizeof(err)) == 0 &&
			p.retire_batch == 512 && vmt_prog_is_mt(&p) &&
			vmt_prog_valid(&p, NULL),
		"retire batch: line %d: %s", line, err);
	t = prog_text(&p);
	T_CHECK(!strcmp(t, "retire batch 512\ncheck\n"),
		"retire batch first:\n%s", t);
	free(t);
	n = vmt_encode(&p, bin, sizeof(bin));
	T_CHECK(n > 0, "encode: %ld", n);
	vmt_decode(bin, (size_t)n, &q);
	T_CHECK(vmt_prog_equal(&p, &q) && q.retire_batch == 512,
		"retire batch: decode(encode(p)) != p");
	q.retire_batch = 0;
	T_CHECK(!vmt_prog_equal(&p, &q),
		"programs that differ in the retire batch compare equal");
	/* One past the largest is a program's bad batch, kept by both
	 * forms (the executor passes it to the core, which must refuse it);
	 * past that, invalid. */
	p.retire_batch = VMT_BAD_RETIRE_BATCH;
	n = vmt_encode(&p, bin, sizeof(bin));
	T_CHECK(vmt_prog_valid(&p, NULL) && n > 0,
		"the bad retire batch: encode %ld", n);
	vmt_decode(bin, (size_t)(n > 0 ? n : 0), &q);
	T_CHECK(vmt_prog_equal(&p, &q),
		"the bad retire batch: decode(encode(p)) != p");
	t = prog_text(&p);
	T_CHECK(vmt_parse(t, &q, &line, err, sizeof(err)) == 0 &&
			vmt_prog_equal(&p, &q),
		"the bad retire batch: parse(text(p)) != p: line %d: %s", line,
		err);
	free(t);
	p.retire_batch = VMT_MAX_RETIRE_BATCH + 1;
	T_CHECK(!vmt_prog_valid(&p, NULL) &&
			vmt_encode(&p, bin, sizeof(bin)) == -EINVAL,
		"a retire batch out of range is valid");
	{
		/* 0xff 0xf6 and a LEB128 number, modulo VMT_MAX_RETIRE_BATCH + 2,
		 * the last value the bad batch. */
		const uint8_t b[] = { 0xff, 0xf6, 0x83, 0x01,
				      0xff, 0xf6, 0x81, 0x08 };

		vmt_decode(b, 4, &p);
		T_CHECK(p.n == 0 && p.retire_batch == 131 && vmt_prog_is_mt(&p),
			"0xff 0xf6: %u", p.retire_batch);
		vmt_decode(b, sizeof(b), &p);
		T_CHECK(p.retire_batch == VMT_BAD_RETIRE_BATCH,
			"0xff 0xf6 1025: %u", p.retire_batch);
	}
	/* Pseudo-ops in bytes: 0xff 0xf1 (thread 1), a preemption with a
	 * two-byte number; 0xff 0xee is an ordinary op, the one those two
	 * bytes are alone (which op depends on the op table). */
	{
		static struct vmt_prog alone;
		const uint8_t b[] = { 0xff, 0xf1, 1, 0, 0, 0, 0, 0xff, 0xf5, 1, 0x83, 0x01, 0,
				      0xff, 0xee };

		vmt_decode(b + 13, 2, &alone);
		vmt_decode(b, sizeof(b), &p);
		T_CHECK(alone.n == 1 && !vmt_prog_is_mt(&alone),
			"0xff 0xee alone: one op");
		T_CHECK(p.n == 2 && p.nthreads == 2 && p.ops[0].thread == 1 &&
				p.ops[0].code == VMT_OP_CURSOR_NEW &&
				p.ops[1].code == alone.ops[0].code &&
				p.nsched == 1 && p.sched[0].nth == 131 &&
				p.sched[0].thread == 1 &&
				p.sched_version == VMT_SCHED_VERSION,
			"pseudo-ops decode");
	}
}

static void expect_parse_error(const char *text, int want_line, const char *want_msg)
{
	static struct vmt_prog p;
	char err[160] = "";
	int line = -1, rc = vmt_parse(text, &p, &line, err, sizeof(err));

	T_CHECK(rc == -EINVAL, "'%s' parsed", text);
	T_CHECK(line == want_line, "'%s': line %d, want %d", text, line, want_line);
	T_CHECK(strstr(err, want_msg) != NULL, "'%s': message '%s' lacks '%s'",
		text, err, want_msg);
	T_CHECK(!strchr(err, '\n'), "message is one line");
}

TEST(test_parse_errors)
{
	expect_parse_error("check\nfrobnicate\n", 2, "unknown op");
	expect_parse_error("map frame=8 prop=RW-,wb,user", 1, "bad value");
	expect_parse_error("map frame=1", 1, "missing field 'prop'");
	expect_parse_error("\n\ncursor_new start=0 end=0x1000", 3, "mut");
	expect_parse_error("query len=0x1000", 1, "unexpected field");
	expect_parse_error("unmap len=0x1000 len=0x2000", 1, "twice");
	expect_parse_error("read acc=0 n=65537", 1, "bad value");
	expect_parse_error("jump va=-1", 1, "bad value");
	expect_parse_error("jump va=0x1000x", 1, "bad value");
	expect_parse_error("frame_alloc frame=0 level=4", 1, "bad value");
	expect_parse_error("map frame=0 prop=RW-,wb", 1, "bad value");
	expect_parse_error("map frame=0 prop=RQ-,wb,user", 1, "bad value");
	expect_parse_error("check extra", 1, "expected key=value");
	expect_parse_error("space_switch space=1", 1, "unexpected field");
	expect_parse_error("check\nthread 4:\n", 2, "at most 4 threads");
	expect_parse_error("schedule:\nafter thread 8 decision 1 run thread 0", 2, "threads 0..7");
	expect_parse_error("schedule:\ncheck\n", 2, "expected 'after thread");
	expect_parse_error("schedule:\nthread 1:\n", 2, "after the schedule");
	expect_parse_error("thread 1: query\n", 1, "unexpected");
	expect_parse_error("retire batch 0\n", 1, "retire batch 0: 1..1024");
	expect_parse_error("retire batch 1025\n", 1,
			   "1..1024 (65537: out of range)");
	expect_parse_error("retire batch 2\ncheck\nretire batch 2\n", 3,
			   "a second retire batch");
	expect_parse_error("schedule:\nretire batch 2\n", 2,
			   "after the schedule");
	expect_parse_error("retire batch 2 check\n", 1, "unexpected");
	expect_parse_error("fail nth=0", 1, "bad value");
	expect_parse_error("fail nth=65", 1, "bad value");
	expect_parse_error("fail site=node", 1, "missing field 'nth'");
	expect_parse_error("fail nth=1 site=disk", 1, "bad value");
	/* The first number past the kinds (fault.h). */
	char past[32];

	snprintf(past, sizeof(past), "fail nth=1 site=%d", VMS_FAULT_NR);
	expect_parse_error(past, 1, "bad value");
}

/*
 * The fail op: its text form, and (this test links the CLI's core, built
 * with -DVMS_FAULTS) a fault really fails the next op's allocation of
 * that kind, once, and the model agrees that nothing changed.
 */
TEST(test_faults)
{
	static struct vmt_prog p;
	struct vmt_exec_opts o = { 0 };
	struct vmt_result r;
	char err[160], *t, *trace = NULL;
	size_t len = 0;
	int line;
	const char *in =
		"fail nth=3 site=batch\n"
		"fail site=0 nth=0x40\n"
		"fail nth=1 site=2\n";
	const char *want =
		"fail nth=3 site=batch\n"
		"fail nth=64\n"
		"fail nth=1 site=frame4k\n";
	const char *run =
		"frame_alloc frame=0 level=1\n"
		"fail nth=1 site=frame4k\n"
		"frame_alloc frame=1 level=1\n"		/* -ENOMEM */
		"cursor_new mut start=0x200000 end=0x400000\n"
		"fail nth=2 site=node\n"
		"map frame=0 prop=RW-,wb,user\n"		/* one node is enough: no fault */
		"jump va=0x200000\n"
		"fail nth=1\n"
		"unmap len=0x20000\n"				/* the batch must grow: -ENOMEM */
		"unmap len=0x20000\n";				/* 1 */

	T_CHECK(vmt_parse(in, &p, &line, err, sizeof(err)) == 0, "line %d: %s", line, err);
	t = prog_text(&p);
	T_CHECK(!strcmp(t, want), "canonical form:\n%s", t);
	free(t);
	T_CHECK(vmt_parse(run, &p, &line, err, sizeof(err)) == 0, "line %d: %s", line, err);
	o.trace = open_memstream(&trace, &len);
	T_CHECK(vmt_exec(&p, &o, &r) == 0, "fault scenario: %s", r.sig);
	fclose(o.trace);
	T_CHECK(strstr(trace, "   2 frame_alloc frame=1 level=1   = -ENOMEM\n") &&
		strstr(trace, "   5 map frame=0 prop=RW-,wb,user   = 0\n") &&
		strstr(trace, "   8 unmap len=0x20000   = -ENOMEM\n") &&
		strstr(trace, "   9 unmap len=0x20000   = 1\n"), "trace:\n%s", trace);
	free(trace);
}

/* Truncated and empty inputs decode; long ones stop at VMT_MAX_OPS. */
TEST(test_decode_edges)
{
	static struct vmt_prog p;
	static uint8_t big[1 << 16];

	T_CHECK(vmt_decode(NULL, 0, &p) == 0 && p.n == 0, "empty");
	T_CHECK(vmt_decode((const uint8_t *)"\xff", 1, &p) == 1, "one byte");
	T_CHECK(vmt_prog_valid(&p, NULL), "one byte: valid");
	memset(big, 0x55, sizeof(big));
	T_CHECK(vmt_decode(big, sizeof(big), &p) == VMT_MAX_OPS, "long input: %u", p.n);
	T_CHECK(vmt_prog_valid(&p, NULL), "long input valid");
	for (int i = 0; i < 2000; i++) {
		size_t n = rnd() % 64;

		rnd_bytes(big, n);
		vmt_decode(big, n, &p);
		T_CHECK(vmt_prog_valid(&p, NULL), "random short input invalid");
	}
	/* The encoder refuses what the decoder can never produce. */
	p.n = 1;
	memset(&p.ops[0], 0, sizeof(p.ops[0]));
	p.ops[0].code = VMT_OP_QUERY;
	p.ops[0].a = 5;
	T_CHECK(vmt_encode(&p, big, sizeof(big)) == -EINVAL, "stray field accepted");
	p.ops[0].a = 0;
	p.ops[0].code = VMT_OP__COUNT;
	T_CHECK(vmt_encode(&p, big, sizeof(big)) == -EINVAL, "bad opcode accepted");
}

/* ---- executor ---------------------------------------------------------- */

static int run_text(const char *text, struct vmt_result *r)
{
	static struct vmt_prog p;
	char err[160];
	int line;

	if (vmt_parse(text, &p, &line, err, sizeof(err))) {
		fprintf(stderr, "scenario parse error line %d: %s\n", line, err);
		return -1;
	}
	return vmt_exec(&p, NULL, r);
}

static void expect_agree(const char *name, const char *text)
{
	struct vmt_result r;
	int rc = run_text(text, &r);

	T_CHECK(rc == 0, "scenario %s: %s", name, r.sig);
}

/* A 4K frame inside a 2M leaf: split, aliases share bytes. */
TEST(test_scenario_split_alias)
{
	expect_agree("split-alias",
		"frame_alloc frame=0 level=2\n"
		"frame_get frame=0\n"
		"cursor_new mut start=0x200000 end=0x400000\n"
		"map frame=0 prop=RW-,wb,user\n"
		"drop\n"
		"writer_new acc=0 va=0x200ff0 len=0x20\n"
		"activate acc=0\n"
		"write acc=0 n=32 pattern=0x11\n"
		"release acc=0\n"
		"cursor_new mut start=0x600000 end=0x800000\n"
		"map frame=0 prop=R--,wb,user\n"
		"drop\n"
		"frame_alloc frame=1 level=1\n"
		"cursor_new mut start=0x200000 end=0x400000\n"
		"jump va=0x300000\n"
		"map frame=1 prop=RW-,wt,user\n"
		"query\n"
		"jump va=0x200000\n"
		"query\n"
		"drop\n"
		"reader_new acc=1 va=0x600ff8 len=0x10\n"
		"activate acc=1\n"
		"read acc=1 n=16\n"
		"check\n");
}

/* Closed-interval conflicts: touching ranges conflict. */
TEST(test_scenario_touching)
{
	expect_agree("touching",
		"frame_alloc frame=0 level=2\n"
		"cursor_new mut start=0x200000 end=0x400000\n"
		"map frame=0 prop=RW-,wb,user\n"
		"drop\n"
		"writer_new acc=0 va=0x200000 len=0x1000\n"
		"activate acc=0\n"
		"reader_new acc=1 va=0x201000 len=0x1000\n"
		"reader_new acc=1 va=0x202000 len=0x1000\n"
		"activate acc=1\n"
		"reader_new acc=2 va=0x202000 len=0x1000\n"
		"activate acc=2\n"
		"check\n");
}

/* Errors in documented order, top of user space. */
TEST(test_scenario_bounds)
{
	expect_agree("bounds",
		"cursor_new mut start=0x7ffffffff000 end=0x800000000000\n"
		"find_next len=0x2000\n"
		"find_next len=0x1000\n"
		"query\n"
		"jump va=0x800000000000\n"
		"cursor_new ro start=0x1000 end=0x1000\n"
		"cursor_new ro start=0x1000 end=0x800000001000\n"
		"cursor_new ro start=0x1001 end=0x2000\n"
		"frame_alloc frame=0 level=1\n"
		"cursor_new ro start=0x0 end=0x800000000000\n"
		"map frame=0 prop=RW-,wb,user\n"
		"unmap len=0x1000\n"
		"cursor_new mut start=0x7fffffe00000 end=0x800000000000\n"
		"map frame=0 prop=0x20,wb,user\n"
		"map frame=0 prop=RW-,wp,user\n"
		"map frame=0 prop=RW-,wb,0x4\n"
		"jump va=0x7ffffffff000\n"
		"map frame=0 prop=RW-,wb,user\n"
		"find_next len=0x1000\n"
		"writer_new acc=0 va=0x7ffffffff000 len=0x1\n"
		"writer_new acc=0 va=0x7fffffffe000 len=0x1000\n"
		"writer_new acc=0 va=0 len=0x1000\n"
		"check\n");
}

/* A detached table counts every leaf it held, 2 MiB ones included;
 * the top page of user space is mappable by a cursor. */
TEST(test_scenario_detach_count)
{
	expect_agree("detach-count",
		"frame_alloc frame=0 level=2\n"
		"frame_alloc frame=1 level=1\n"
		"frame_alloc frame=2 level=1\n"
		"cursor_new mut start=0x0 end=0x80000000\n"
		"map frame=0 prop=RW-,wb,user\n"
		"jump va=0x201000\n"
		"map frame=1 prop=RW-,wb,user\n"
		"map frame=2 prop=RW-,wb,user\n"
		"jump va=0x40000000\n"
		"frame_alloc frame=3 level=2\n"
		"map frame=3 prop=RW-,wb,user\n"
		"jump va=0x0\n"
		"unmap len=0x80000000\n"
		"cursor_new mut start=0x0 end=0x800000000000\n"
		"frame_alloc frame=4 level=1\n"
		"jump va=0x7ffffffff000\n"
		"map frame=4 prop=RW-,wb,user\n"
		"jump va=0x0\n"
		"find_next len=0x800000000000\n"
		"query\n"
		"drop\n"
		"check\n");
}

/* The same frame mapped in two spaces; destroy with leftovers. */
TEST(test_scenario_two_spaces)
{
	expect_agree("two-spaces",
		"space_new space=1 flags=0x1\n"
		"frame_alloc frame=2 level=1\n"
		"frame_get frame=2\n"
		"cursor_new mut start=0x1000 end=0x2000\n"
		"map frame=2 prop=RW-,wb,user\n"
		"cursor_new mut space=1 start=0x5000 end=0x6000\n"
		"map space=1 frame=2 prop=RW-,wb,user\n"
		"space_destroy space=1\n"
		"drop space=1\n"
		"space_switch\n"
		"reader_new acc=0 space=1 va=0x5000 len=0x1000\n"
		"reader_new acc=1 space=1 va=0x5000 len=0x1000\n"
		"activate acc=0\n"
		"activate acc=1\n"
		"read acc=1 n=100\n"
		"check\n"
		"release acc=0\n"
		"release acc=1\n"
		"space_deactivate space=1\n"
		"space_destroy space=1\n"
		"check\n");
}

/*
 * A sequential run never starts a reclaimer thread (reuse.c sets the
 * pool's inline reclaim), so its result cannot depend on when one ran.
 * The program leaves more than the retire batch (VMS_RETIRE_BATCH_MAX)
 * in the thread's batch before one more cursor's items: that drop hands
 * the batch over and kicks; with a thread, its reclaim raced with the
 * frame_allocs after it (their addresses are in the trace).
 */
static size_t handover_prog(char *buf, size_t cap)
{
	size_t n = 0;

#define ADD(...)                                                               \
	(n += (size_t)snprintf(buf + n, n < cap ? cap - n : 0, __VA_ARGS__))
	ADD("frame_alloc frame=0 level=2\n"
	    "cursor_new mut start=0x0 end=0x40000000\n"
	    "jump va=0x200000\nmap frame=0 prop=RW-,wb,user\n"
	    "jump va=0x201000\nunmap len=0x1fe000\ndrop\n"
	    "cursor_new mut start=0x0 end=0x40000000\n");
	/* Eight 2 MiB leaves, each split by an unmap of all but its first
	 * and last 4 KiB: 510 releases each. */
	for (int i = 0; i < 8; i++)
		ADD("frame_alloc frame=%d level=2\njump va=0x%x\nmap frame=%d prop=RW-,wb,user\n"
		    "jump va=0x%x\nunmap len=0x1fe000\n",
		    i, 0x400000 + i * 0x200000, i, 0x401000 + i * 0x200000);
	ADD("drop\n"
	    "frame_alloc frame=0 level=2\nframe_alloc frame=1 level=2\n"
	    "cursor_new mut start=0x0 end=0x40000000\njump va=0x200000\n"
	    "map frame=0 prop=RW-,wb,user\nmap frame=1 prop=RW-,wb,user\n"
	    "query\ndrop\ncheck\nquiesce\ncheck\n");
#undef ADD
	return n;
}

TEST(test_seq_no_reclaimer_thread)
{
	static struct vmt_prog p;
	static char text[8192], first[65536];
	char err[160];
	int line, rc;
	struct vmt_reuse *u;
	uint64_t starts;

	if (handover_prog(text, sizeof(text)) >= sizeof(text)) {
		T_CHECK(0, "handover program: more than %zu bytes",
			sizeof(text));
		return;
	}
	if (vmt_parse(text, &p, &line, err, sizeof(err))) {
		T_CHECK(0, "handover program, line %d: %s", line, err);
		return;
	}
	for (int run = 0; run < 50; run++) {
		struct vmt_exec_opts o = { .trace = NULL };
		struct vmt_result r;
		char *tr = NULL;
		size_t len = 0;

		o.trace = open_memstream(&tr, &len);
		if (!o.trace) {
			T_CHECK(0, "open_memstream");
			return;
		}
		rc = vmt_exec(&p, &o, &r);
		fclose(o.trace);
		T_CHECK(rc == 0 && r.status == 0, "run %d: %s", run, r.sig);
		T_CHECK(r.executed == p.n, "run %d: %u of %u ops ran", run,
			r.executed, p.n);
		if (run == 0)
			snprintf(first, sizeof(first), "%s", tr);
		else
			T_CHECK(!strcmp(first, tr),
				"run %d's trace differs from run 0's:\n%s\n--\n%s",
				run, first, tr);
		free(tr);
	}
	/* The executor's pool, as the runs left it (the same one: same size). */
	u = vmt_reuse_get(VMT_EXEC_POOL_DEFAULT, &rc);
	if (!u) {
		T_CHECK(0, "vmt_reuse_get: %d", rc);
		return;
	}
	starts = vms__debug_reclaimer_starts(u->pool);
	T_CHECK(starts == 0,
		"a sequential run started %" PRIu64 " reclaimer threads",
		starts);
	T_CHECK(vmt_reuse_put(u) == 0, "reuse_put");
}

/* The NULL and out-of-range arguments the op language cannot express
 * (it never passes NULL spaces, cursors or out pointers). */
TEST(test_null_args)
{
	struct vms_pool *pool = NULL;
	struct vms_space *s = NULL;
	struct vms_cursor *c = NULL;
	struct vms_reader *r = NULL;
	struct vms_check_report rep;
	struct vms_frame *f = NULL;

	T_CHECK(vms_pool_new(64 << 20, NULL) == -EINVAL, "pool_new NULL out");
	T_CHECK(vms_pool_new(65ULL << 30, &pool) == -EINVAL, "pool_new > 64 GiB");
	T_CHECK(vms_pool_new(0, &pool) == -EINVAL, "pool_new 0 bytes");
	if (vms_pool_new(4 << 20, &pool)) {
		T_CHECK(0, "pool_new 4 MiB failed");
		return;
	}
	T_CHECK(vms_space_new(pool, 0, NULL) == -EINVAL, "space_new NULL out");
	T_CHECK(vms_space_new(NULL, 0, &s) == -EINVAL, "space_new NULL pool");
	T_CHECK(vms_space_new(pool, 2, &s) == -EINVAL, "space_new bad flags");
	T_CHECK(vms_space_new(pool, VMS_SPACE_SHARED_READERS, &s) == 0, "space_new");
	T_CHECK(vms_space_flags(s) == VMS_SPACE_SHARED_READERS, "space flags");
	T_CHECK(vms_space_pool(s) == pool, "space pool");
	T_CHECK(vms_cursor_new(NULL, 0, 4096, &c) == -EINVAL, "cursor_new NULL space");
	T_CHECK(vms_cursor_new(s, 0, 4096, NULL) == -EINVAL, "cursor_new NULL out");
	T_CHECK(vms_cursor_mut_new(s, 0, 4096, NULL) == -EINVAL, "cursor_mut_new NULL out");
	vms_cursor_drop(NULL);
	T_CHECK(vms_space_check(NULL, &rep) == -EINVAL, "check NULL space");
	T_CHECK(vms_space_check(s, NULL) == -EINVAL, "check NULL report");
	T_CHECK(vms_space_deactivate(s) == -EINVAL, "deactivate a space not current");
	T_CHECK(vms_space_activate(s) == 0, "activate");
	T_CHECK(vms_space_current() == s, "current");
	T_CHECK(vms_space_create_reader(s, 4096, 4096, NULL) == -EINVAL, "reader NULL out");
	T_CHECK(vms_space_create_reader(NULL, 4096, 4096, &r) == -EINVAL, "reader NULL space");
	T_CHECK(vms_reader_release(NULL) == 0, "release NULL");
	T_CHECK(vms_writer_release(NULL) == 0, "release NULL writer");
	T_CHECK(vms_frame_alloc(pool, 1, NULL) == -EINVAL, "frame_alloc NULL out");
	T_CHECK(vms_frame_paddr(NULL) == 0 && vms_frame_level(NULL) == 0 &&
		vms_frame_refcount(NULL) == 0 && vms_frame_handles(NULL) == 0, "NULL frame getters");
	T_CHECK(vms_frame_from_paddr(pool, 0) == NULL, "paddr 0 is never a frame");
	T_CHECK(vms_frame_alloc(pool, 1, &f) == 0, "frame_alloc");
	T_CHECK(vms_frame_from_paddr(pool, vms_frame_paddr(f)) == f, "from_paddr");
	T_CHECK(vms_frame_put(f) == 0, "put");
	T_CHECK(vms_space_deactivate(s) == 0, "deactivate");
	T_CHECK(vms_space_destroy(s) == 0, "destroy");
	T_CHECK(vms_pool_destroy(pool) == 0, "pool_destroy");
}

extern void (*vms_poison_hook)(enum vms_check check, const char *where)
	__attribute__((weak));

/* vmt_corrupt_judge on a twice corruption whose first check said @ret0
 * with @kind and whose check after the undo said @ret1; its difference
 * in @why. */
static bool judge_twice(int ret0, enum vms_check kind, int ret1, char *why,
			size_t n)
{
	const struct vmt_check_seen seen[VMT_NR_SPACES] = {
		{ .checked = true, .ret = ret0, .rep = { .kind = kind } },
		{ .checked = true, .ret = ret1 },
	};
	struct vmt_outcome o = { .op = { .code = VMT_OP_CORRUPT,
					 .arg = VMS_CORRUPT_TWICE },
				 .data = seen,
				 .ret = ret0,
				 .release_ret = ret1 };

	return vmt_corrupt_judge(&o, why, n);
}

/* The checker's self-test: on a space with a 4 KiB and a 2 MiB leaf, a
 * writer and a reader, every corruption runs (none skipped: the run-time
 * invariants' kinds but in a build without their checks), its check fires with its kind and passes after the undo; and
 * a check that did not fire, or fired with another kind, is a "CHECK
 * MISSED" difference. */
TEST(test_corrupt_kinds)
{
	static const char setup[] = "frame_alloc frame=0 level=1\n"
				    "frame_alloc frame=1 level=2\n"
				    "cursor_new mut start=0x1000 end=0x400000\n"
				    "map frame=0 prop=RW-,wb,user\n"
				    "jump va=0x200000\n"
				    "map frame=1 prop=RW-,wb,user\n"
				    "drop\n"
				    "writer_new acc=0 va=0x200000 len=0x1000\n"
				    "activate acc=0\n"
				    "reader_new acc=1 va=0x202000 len=0x1000\n"
				    "activate acc=1\n";
	char text[1024], why[400];

	for (int k = 0; k < VMS_CORRUPT__COUNT; k++) {
		struct vmt_result r;
		int rc;

		snprintf(text, sizeof(text), "%scorrupt kind=%s\ncheck\n",
			 setup, vms__debug_corruption_name(k));
		rc = run_text(text, &r);
		/* A run-time invariant's kinds need the checking build's
		 * hook (step_corrupt.c): without it they are skipped. */
		T_CHECK(rc == 0 && r.skipped ==
					   (vms_check_class(
						    vms__debug_corruption_check(
							    k)) ==
						    VMS_CLASS_INVARIANT &&
					    !&vms_poison_hook),
			"corrupt kind=%s: rc %d, %u skipped: %s",
			vms__debug_corruption_name(k), rc, r.skipped, r.sig);
	}
	T_CHECK(!judge_twice(0, VMS_CHECK_NONE, 0, why, sizeof(why)) &&
			!strncmp(why, "CHECK MISSED node reachable twice", 33),
		"a silent check: '%s'", why);
	T_CHECK(!judge_twice(-EUCLEAN, VMS_CHECK_NR_CHILDREN, 0, why,
			     sizeof(why)) &&
			strstr(why, "reported instead: nr_children"),
		"the wrong check: '%s'", why);
	{
		/* A run-time invariant's kind: the one invariant reported. */
		const struct vmt_check_seen seen[VMT_NR_SPACES] = {
			{ .checked = true,
			  .ret = -EUCLEAN,
			  .rep = { .kind = VMS_CHECK_FOREIGN_UNLOCK } },
			{ .checked = true },
		};
		struct vmt_outcome o = { .op = { .code = VMT_OP_CORRUPT,
						 .arg = VMS_CORRUPT_FREED },
					 .data = seen };

		T_CHECK(!vmt_corrupt_judge(&o, why, sizeof(why)) &&
				strstr(why,
				       "CHECK MISSED page-table node used") &&
				strstr(why,
				       "reported instead: INVARIANT foreign unlock"),
			"another invariant: '%s'", why);
	}
	T_CHECK(judge_twice(-EUCLEAN, VMS_CHECK_NODE_TWICE, 0, why,
			    sizeof(why)),
		"the right check: '%s'", why);
	T_CHECK(!judge_twice(-EUCLEAN, VMS_CHECK_NODE_TWICE, -EUCLEAN, why,
			     sizeof(why)) &&
			strstr(why, "not undone"),
		"not undone: '%s'", why);
	T_CHECK(vmt_badarg_expect(VMT_BADARG_READER_RELEASE) == 0 &&
			vmt_badarg_expect(VMT_BADARG_SPACE_ACTIVATE) == -EINVAL,
		"badarg's expectations");
}

/* Random byte strings through the whole executor: on a correct libvms
 * every one must agree. */
static void test_random_exec(unsigned iters, uint64_t seed)
{
	static uint8_t buf[4096];
	unsigned diverged = 0, skipped = 0, executed = 0;

	for (unsigned it = 0; it < iters; it++) {
		struct vmt_result r;
		size_t n = 1 + rnd() % (it % 4 == 0 ? sizeof(buf) : 600);
		int rc;

		rnd_bytes(buf, n);
		if (pool_bytes) {
			static struct vmt_prog p;
			struct vmt_exec_opts o = { .pool_bytes = pool_bytes };

			vmt_decode(buf, n, &p);
			if (vmt_prog_is_mt(&p))
				continue;	/* the controlled executor's (tools/sched) */
			rc = vmt_exec(&p, &o, &r);
		} else {
			rc = vmt_run_bytes(buf, n, &r);
		}
		executed += r.executed;
		skipped += r.skipped;
		if (rc != 0) {
			if (diverged++ < 5) {
				static struct vmt_prog p;

				fprintf(stderr, "random input %u (seed 0x%" PRIx64 "): %s\n",
					it, seed, r.sig);
				vmt_decode(buf, n, &p);
				vmt_print_prog(stderr, &p, r.op, "here", "    ");
			}
			if (keep_dir) {
				char path[512];
				FILE *f;

				snprintf(path, sizeof(path), "%s/div-%" PRIx64 "-%u", keep_dir, seed, it);
				f = fopen(path, "wb");
				if (f) {
					fwrite(buf, 1, n, f);
					fclose(f);
				}
			}
		}
	}
	T_CHECK(diverged == 0, "%u of %u random programs diverged", diverged, iters);
	printf("random exec: %u programs, %u ops executed, %u skipped, %u diverged\n",
	       iters, executed, skipped, diverged);
}

/*
 * Dense programs: every address inside [0, 8 MiB) (four 2 MiB slots), so
 * splits, partial unmaps, aliases, touching accessors and protects meet
 * far more often than in random bytes.
 */
static uint64_t dense_addr(void)
{
	switch (rnd() % 4) {
	case 0: return (rnd() % 5) * M2_;
	case 1: return (rnd() % 4) * M2_ + (rnd() % 4) * 4096;
	case 2: return (rnd() % 4) * M2_ + M2_ - (rnd() % 3) * 4096;
	default: return (rnd() % 2048) * 4096;
	}
}

static uint64_t dense_len(void)
{
	return (1 + rnd() % 3) * 4096 * (rnd() % 3 ? 1 : 512);
}

/* The previous accessor, which the next one often touches. */
static uint64_t last_va, last_len;

/* A dense value for field @f of @op (fields come in binary order, so a
 * range's start is set before its end, an accessor's length before its
 * start). */
static void dense_field(struct vmt_op *op, enum fld f)
{
	switch (f) {
	case F_SPACE: op->space = rnd() % 8 == 0; break;
	case F_SPACE1: op->space = 1; break;
	case F_MUT: op->arg = rnd() % 6 != 0; break;
	case F_A: case F_JVA: op->a = dense_addr(); break;
	case F_RANGE_END:
		op->b = op->a + (rnd() % 2 ? M2_ : (1 + rnd() % 4) * 4096 * (rnd() % 2 ? 1 : 512));
		break;
	case F_LEN: op->a = dense_len(); break;
	case F_FSLOT: op->slot = rnd() % VMT_NR_FRAMES; break;
	case F_LEVEL: op->arg = 1 + rnd() % 2; break;
	case F_PROP:
		op->prop.flags = (uint8_t)(VMS_PROP_R | (rnd() % 2 ? VMS_PROP_W : 0));
		op->prop.priv = VMS_PRIV_USER;
		break;
	case F_PROTECT:
		op->pset = rnd() % 2 ? VMS_PROP_W : 0;
		op->pclr = rnd() % 2 ? VMS_PROP_W : (rnd() % 4 ? 0 : VMS_PROP_R);
		op->pcache = rnd() % 4 ? VMT_CACHE_KEEP : (uint8_t)(rnd() % 5);
		break;
	case F_ASLOT: case F_RSLOT: case F_WSLOT: case F_LSLOT:
		op->slot = rnd() % VMT_NR_ACCS;
		break;
	case F_WRITER: op->arg = rnd() % 2; break;
	case F_ALEN: op->b = 1 + rnd() % (3 * 4096); break;
	case F_AVA:
		switch (rnd() % 4) {
		case 0:	/* touches the previous accessor's end */
			op->a = last_va + last_len;
			break;
		case 1:	/* ends where the previous one starts */
			op->a = last_va - op->b;
			break;
		default:
			op->a = dense_addr() + (rnd() % 3 ? 0 : rnd() % 4096);
			break;
		}
		if (!op->a || op->a >= 5 * M2_)
			op->a = 4096;
		last_va = op->a;
		last_len = op->b;
		break;
	case F_IO: op->a = rnd() % (3 * 4096); break;
	case F_PATTERN: op->arg = (uint8_t)rnd(); break;
	case F_SPFLAGS: op->arg = rnd() % 2; break;
	/* One of the next op's first allocations (it has at most a few). */
	case F_NTH: op->a = 1 + rnd() % 3; break;
	case F_SITE: op->arg = rnd() % 2 ? 0 : (uint8_t)(rnd() % VMS_FAULT_NR); break;
	default: break;	/* F_ACTSPACE: on the accessor's own space */
	}
}

static void gen_dense(struct vmt_prog *p)
{
	last_va = M2_;
	last_len = 4096;
	p->n = 20 + (unsigned)(rnd() % 100);
	for (unsigned i = 0; i < p->n; i++) {
		struct vmt_op *op = &p->ops[i];
		unsigned w = rnd() % 240, code = 0;

		while (w >= dense_weight[code])
			w -= dense_weight[code++];
		memset(op, 0, sizeof(*op));
		op->code = (uint8_t)code;
		for (int k = 0; k < VMT_MAXF && fields_of[code][k]; k++)
			dense_field(op, fields_of[code][k]);
	}
}

static void test_dense_exec(unsigned iters, uint64_t seed)
{
	static struct vmt_prog p;
	static uint8_t bin[VMT_MAX_ENCODED];
	unsigned diverged = 0, executed = 0;

	for (unsigned it = 0; it < iters; it++) {
		struct vmt_result r;
		int rc;

		gen_dense(&p);
		if (!vmt_prog_valid(&p, NULL)) {
			T_CHECK(0, "dense program invalid");
			return;
		}
		rc = vmt_exec(&p, NULL, &r);
		executed += r.executed;
		if (rc == 0)
			continue;
		if (diverged++ < 3) {
			fprintf(stderr, "dense program %u (seed 0x%" PRIx64 "): %s\n", it, seed, r.sig);
			vmt_print_prog(stderr, &p, r.op, "here", "    ");
		}
		if (keep_dir) {
			char path[512];
			long n = vmt_encode(&p, bin, sizeof(bin));
			FILE *f;

			snprintf(path, sizeof(path), "%s/dense-%" PRIx64 "-%u", keep_dir, seed, it);
			f = n > 0 ? fopen(path, "wb") : NULL;
			if (f) {
				fwrite(bin, 1, (size_t)n, f);
				fclose(f);
			}
		}
	}
	T_CHECK(diverged == 0, "%u of %u dense programs diverged", diverged, iters);
	printf("dense exec: %u programs, %u ops executed, %u diverged\n", iters, executed, diverged);
}

/* The tests that take arguments, in main's former order after the rest. */
static void seeded(const char *name)
{
	printf("%s: seed 0x%" PRIx64 " (VMT_OP_SEED to repeat)\n", name,
	       knob_seed);
	rng_state = knob_seed;
}

/* A write's bytes are the formula vmt_fill_pattern states, byte for byte,
 * whatever the length (whole blocks and a tail) and the pattern, and
 * nothing past the length is written. */
TEST(test_fill_pattern)
{
	static uint8_t buf[VMT_MAX_IO + 1];
	static const size_t lens[] = { 0,   1,	  255,	256,   257,
				       511, 4096, 4097, 12345, VMT_MAX_IO };
	static const uint8_t pats[] = { 0, 1, 0x5a, 0xff };

	for (size_t l = 0; l < sizeof(lens) / sizeof(lens[0]); l++)
		for (size_t k = 0; k < sizeof(pats); k++) {
			size_t n = lens[l], bad = n;

			memset(buf, 0xee, sizeof(buf));
			vmt_fill_pattern(buf, n, pats[k]);
			for (size_t i = 0; i < n && bad == n; i++)
				if (buf[i] != (uint8_t)(pats[k] ^ i ^ (i >> 8) ^
							((i >> 12) * 29)))
					bad = i;
			T_CHECK(bad == n,
				"fill of %zu bytes, pattern %u: byte %zu", n,
				pats[k], bad);
			T_CHECK(buf[n] == 0xee,
				"fill of %zu bytes wrote past its end", n);
		}
}

TEST(test_roundtrip_2000)
{
	seeded("test_roundtrip");
	test_roundtrip(2000);
}

TEST(test_random_exec_all)
{
	seeded("test_random_exec");
	test_random_exec(knob_iters, knob_seed);
}

TEST(test_dense_exec_all)
{
	seeded("test_dense_exec");
	test_dense_exec(knob_iters / 5, knob_seed);
}
