/* SPDX-License-Identifier: MIT */
/*
 * mutator.c - edits that know the structure of an op program (mutator.h):
 * preemptions inserted, deleted or moved, an op moved to another thread,
 * one operand changed, a fault added or removed, another retire batch.
 * Byte-level mutation
 * finds the escape pairs of threads and schedules only by luck, and
 * breaks the schedule's keys as often as it changes them; these edits
 * keep everything else of the program as it was.
 *
 * The engines' entry points are thin: LLVMFuzzerCustomMutator (a share of
 * the calls goes to libFuzzer's byte-level LLVMFuzzerMutate) and the
 * AFL++ custom mutator API (afl_custom_init/fuzz/describe/deinit; AFL's
 * havoc keeps its byte-level stages unless AFL_CUSTOM_MUTATOR_ONLY), whose
 * queue hooks also give each seed scenario its turn (afl_custom_queue_*).
 */
#include <stdlib.h>
#include <string.h>

#include "mutator.h"
#include "hints.h"
#include "../tools/op/op.h"
#include "fault.h" /* core/src: the allocation site kinds */

static const char *const names[VMT_MUT__COUNT] = {
	[VMT_MUT_NONE] = "none",
	[VMT_MUT_PREEMPT_INSERT] = "preempt-insert",
	[VMT_MUT_PREEMPT_DELETE] = "preempt-delete",
	[VMT_MUT_PREEMPT_MOVE] = "preempt-move",
	[VMT_MUT_OP_THREAD] = "op-thread",
	[VMT_MUT_OPERAND] = "operand",
	[VMT_MUT_FAULT_ADD] = "fault-add",
	[VMT_MUT_FAULT_DELETE] = "fault-delete",
	[VMT_MUT_RETIRE_BATCH] = "retire-batch",
};

const char *vmt_mut_name(enum vmt_mut_kind k)
{
	return k < VMT_MUT__COUNT ? names[k] : "?";
}

static uint64_t rnd(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static unsigned below(uint64_t *s, unsigned n)
{
	return n ? (unsigned)(rnd(s) % n) : 0;
}

/* Threads a schedule may name here: the program's and the first core
 * worker after them (the reclaimer, when it runs). */
static unsigned sched_threads(const struct vmt_prog *p)
{
	return vmt_prog_threads(p) + 1;
}

/* Decisions each thread took when the input being edited last ran
 * (vmt_fuzz_mt_decisions, or the file of hints.h), 0 where unknown. */
static uint32_t hint[VMT_MAX_THREADS + 1];
static bool hints_shared;	/* AFL++: VMT_MT_HINTS is mapped */

/* A decision of thread @t to preempt at. Known count: any of its
 * decisions, evenly. Unknown: mostly the first 32 (the shipped scenarios'
 * threads take 20 to 50), sometimes up to 256. */
static uint32_t any_decision(uint64_t *s, unsigned t)
{
	unsigned r = below(s, 4);

	if (t <= VMT_MAX_THREADS && hint[t] && r)
		return below(s, hint[t]);
	return below(s, r < 2 ? 32 : r == 2 ? 64 : 256);
}

static bool preempt_insert(struct vmt_prog *p, uint64_t *s)
{
	unsigned nt = sched_threads(p), np = vmt_prog_threads(p), before = p->nsched, pool;
	struct vmt_preempt e;

	if (p->nsched >= VMT_MAX_PREEMPTS)
		return false;
	/* A program thread three times in four: the racy windows are in
	 * their ops; the reclaimer's turn matters less often. */
	e.thread = (uint8_t)(np > 1 && below(s, 4) ? below(s, np) : below(s, nt));
	pool = e.thread < np && np > 1 && below(s, 4) ? np : nt;
	e.next = (uint8_t)((e.thread + 1 + below(s, pool - 1)) % pool);
	/* Near an existing key of the thread if it has one (bugs sit in
	 * windows a few decisions wide), else anywhere in its run. */
	e.nth = any_decision(s, e.thread);
	for (unsigned i = 0, k = below(s, 2 * p->nsched + 1); i < p->nsched; i++)
		if (p->sched[i].thread == e.thread && k-- == 0) {
			int64_t n = (int64_t)p->sched[i].nth + (int64_t)below(s, 17) - 8;

			e.nth = n < 0 ? 0 : (uint32_t)n;
		}
	p->sched[p->nsched++] = e;
	p->sched_version = VMT_SCHED_VERSION;
	vmt_prog_normalize(p);
	return p->nsched > before;	/* not a key it had */
}

static bool preempt_delete(struct vmt_prog *p, uint64_t *s)
{
	unsigned i = below(s, p->nsched);

	if (!p->nsched)
		return false;
	memmove(&p->sched[i], &p->sched[i + 1], (p->nsched - i - 1) * sizeof(p->sched[0]));
	p->nsched--;
	vmt_prog_normalize(p);
	return true;
}

static bool preempt_move(struct vmt_prog *p, uint64_t *s)
{
	unsigned i = below(s, p->nsched), nt = sched_threads(p), before = p->nsched;
	struct vmt_preempt *e = &p->sched[i];

	if (!p->nsched)
		return false;
	if (below(s, 2) && nt > 2) {
		uint8_t next = (uint8_t)((e->next + 1 + below(s, nt - 1)) % nt);

		if (next == e->thread)
			return false;
		e->next = next;
	} else if (!below(s, 4)) {
		uint32_t n = any_decision(s, e->thread);	/* another window */

		if (n == e->nth)
			return false;
		e->nth = n;
	} else {
		int64_t n = (int64_t)e->nth + (below(s, 2) ? 1 : -1) * (1 + (int64_t)below(s, 8));

		if (n < 0)
			return false;
		e->nth = (uint32_t)n;
	}
	vmt_prog_normalize(p);
	return p->nsched == before;	/* not onto another key */
}

static bool op_thread(struct vmt_prog *p, uint64_t *s)
{
	unsigned i = below(s, p->n), nt = vmt_prog_threads(p);
	unsigned to = nt < VMT_MAX_THREADS ? nt + 1 : nt;
	uint8_t t;

	if (!p->n || to < 2)
		return false;
	t = (uint8_t)((p->ops[i].thread + 1 + below(s, to - 1)) % to);
	p->ops[i].thread = t;
	vmt_prog_normalize(p);
	return true;
}

static bool operand(struct vmt_prog *p, uint64_t *s)
{
	static struct vmt_op simpler[VMT_MAX_SIMPLER];
	unsigned i = below(s, p->n);
	struct vmt_op *op = &p->ops[i], was;
	uint64_t page = 0x1000ULL << (9 * below(s, 3));

	if (!p->n)
		return false;
	was = *op;
	switch (below(s, 7)) {
	case 0: {	/* simpler (what the minimizer would try) */
		unsigned n = vmt_op_simpler(op, simpler, VMT_MAX_SIMPLER);

		if (!n)
			return false;
		*op = simpler[below(s, n)];
		break;
	}
	case 1:
		op->a += below(s, 2) ? page : -page;
		break;
	case 2:
		op->b += below(s, 2) ? page : -page;
		break;
	case 3:
		op->a ^= 1ULL << (12 + below(s, 36));
		break;
	case 4:
		op->space ^= 1;
		break;
	case 5:
		op->slot = (uint8_t)below(s, VMT_NR_FRAMES);
		break;
	default:
		op->arg = (uint8_t)below(s, 16);
		break;
	}
	return !vmt_op_equal(op, &was);
}

static bool fault_add(struct vmt_prog *p, uint64_t *s)
{
	unsigned i = below(s, p->n + 1);
	struct vmt_op f = { .code = VMT_OP_FAIL,
			    .a = 1 + below(s, 8),
			    .arg = (uint8_t)below(s, VMS_FAULT_NR) };

	if (p->n >= VMT_MAX_OPS)
		return false;
	/* Before op i, in its thread (at the end of the last thread if none). */
	f.thread = i < p->n ? p->ops[i].thread : (p->n ? p->ops[p->n - 1].thread : 0);
	memmove(&p->ops[i + 1], &p->ops[i], (p->n - i) * sizeof(p->ops[0]));
	p->ops[i] = f;
	p->n++;
	return true;
}

static bool fault_delete(struct vmt_prog *p, uint64_t *s)
{
	unsigned nf = 0, k;

	for (unsigned i = 0; i < p->n; i++)
		nf += p->ops[i].code == VMT_OP_FAIL;
	if (!nf)
		return false;
	k = below(s, nf);
	for (unsigned i = 0; i < p->n; i++) {
		if (p->ops[i].code != VMT_OP_FAIL || k-- != 0)
			continue;
		memmove(&p->ops[i], &p->ops[i + 1], (p->n - i - 1) * sizeof(p->ops[0]));
		p->n--;
		return true;
	}
	return false;
}

/* Another retire batch: the default, a small one (a few drops fill it),
 * up to the production batch (only a thread's end or a quiesce hands it
 * over), or one out of range (the core must refuse it). */
static bool retire_batch(struct vmt_prog *p, uint64_t *s)
{
	static const uint32_t sizes[] = {
		0, 2, 4, 8, 64, 512, VMT_MAX_RETIRE_BATCH, VMT_BAD_RETIRE_BATCH
	};
	uint32_t was = p->retire_batch;

	p->retire_batch =
		below(s, 4) ?
			sizes[below(s, sizeof(sizes) / sizeof(sizes[0]))] :
			(uint32_t)(1 + below(s, VMT_MAX_RETIRE_BATCH));
	return p->retire_batch != was;
}

static bool (*const edit[VMT_MUT__COUNT])(struct vmt_prog *, uint64_t *) = {
	[VMT_MUT_PREEMPT_INSERT] = preempt_insert,
	[VMT_MUT_PREEMPT_DELETE] = preempt_delete,
	[VMT_MUT_PREEMPT_MOVE] = preempt_move,
	[VMT_MUT_OP_THREAD] = op_thread,
	[VMT_MUT_OPERAND] = operand,
	[VMT_MUT_FAULT_ADD] = fault_add,
	[VMT_MUT_FAULT_DELETE] = fault_delete,
	[VMT_MUT_RETIRE_BATCH] = retire_batch,
};

/* One caller at a time per process (both engines mutate on one thread). */
static struct vmt_prog orig, prog;
static uint8_t enc[VMT_MAX_ENCODED];

/* How often each edit is tried: the schedule most. A program of the
 * corpus already reaches its ops' code; what it lacks is the one
 * preemption, at one decision of one thread, that opens a racy window. */
static const unsigned weight[VMT_MUT__COUNT] = {
	[VMT_MUT_PREEMPT_INSERT] = 4, [VMT_MUT_PREEMPT_DELETE] = 1,
	[VMT_MUT_PREEMPT_MOVE] = 3,   [VMT_MUT_OP_THREAD] = 1,
	[VMT_MUT_OPERAND] = 2,	      [VMT_MUT_FAULT_ADD] = 1,
	[VMT_MUT_FAULT_DELETE] = 1,   [VMT_MUT_RETIRE_BATCH] = 1,
};

static enum vmt_mut_kind pick(uint64_t *s)
{
	unsigned total = 0, r;

	for (int k = 0; k < VMT_MUT__COUNT; k++)
		total += weight[k];
	r = below(s, total);
	for (int k = 1; k < VMT_MUT__COUNT; k++) {
		if (r < weight[k])
			return (enum vmt_mut_kind)k;
		r -= weight[k];
	}
	return VMT_MUT_OPERAND;
}

size_t vmt_mutate(uint8_t *data, size_t size, size_t max, uint64_t *rng,
		  enum vmt_mut_kind *kind)
{
	bool known;

	*kind = VMT_MUT_NONE;
	vmt_decode(data, size, &orig);
	if (vmt_fuzz_mt_decisions)	/* the target, in this process */
		known = vmt_fuzz_mt_decisions(data, size, hint, VMT_MAX_THREADS + 1);
	else	/* AFL++: the target's file, if VMT_MT_HINTS names one */
		known = hints_shared && vmt_hint_get(&orig, hint, VMT_MAX_THREADS + 1);
	if (!known)
		memset(hint, 0, sizeof(hint));
	for (int tries = 0; tries < 16; tries++) {
		enum vmt_mut_kind k = pick(rng);
		long n;

		prog = orig;
		if (!edit[k](&prog, rng) || !vmt_prog_valid(&prog, NULL))
			continue;
		n = vmt_encode(&prog, enc, sizeof(enc));
		if (n <= 0 || (size_t)n > max || (size_t)n > sizeof(enc))
			continue;
		memcpy(data, enc, (size_t)n);
		*kind = k;
		return (size_t)n;
	}
	return 0;
}

/* ---- libFuzzer ----------------------------------------------------------------- */

/* Weak: the AFL++ library and the unit test link without libFuzzer. */
size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max) __attribute__((weak));
size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max, unsigned int seed);

size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max, unsigned int seed)
{
	uint64_t rng = seed;
	enum vmt_mut_kind k;
	size_t n;

	if (LLVMFuzzerMutate && rnd(&rng) % VMT_MUT_BYTES_SHARE == 0)
		return LLVMFuzzerMutate(data, size, max);
	n = vmt_mutate(data, size, max, &rng, &k);
	if (n)
		return n;
	return LLVMFuzzerMutate ? LLVMFuzzerMutate(data, size, max) : size;
}

/* ---- AFL++ --------------------------------------------------------------------- */

struct afl_mut {
	uint64_t rng;
	enum vmt_mut_kind last;
	bool bytes; /* the last output: byte_edits */
	uint8_t *buf;
	size_t cap;
	/* The queue order (afl_custom_queue_get): root[id] is the group of
	 * queue entry id, 1 + the seed it descends from, 0 unknown (an
	 * import from another fuzzer). */
	uint32_t *root;
	size_t nroot;
	uint32_t groups; /* seeds seen */
	uint32_t turn;	 /* the group whose entry is fuzzed next */
	bool imports;	 /* group 0 takes turns too */
	uint32_t passed; /* entries refused since the last one fuzzed */
};

void *afl_custom_init(void *afl, unsigned int seed);
size_t afl_custom_fuzz(void *data, uint8_t *buf, size_t buf_size, uint8_t **out_buf,
		       uint8_t *add_buf, size_t add_buf_size, size_t max_size);
uint32_t afl_custom_fuzz_count(void *data, const uint8_t *buf, size_t buf_size);
uint8_t afl_custom_queue_new_entry(void *data,
				   const uint8_t *filename_new_queue,
				   const uint8_t *filename_orig_queue);
uint8_t afl_custom_queue_get(void *data, const uint8_t *filename);
const char *afl_custom_describe(void *data, size_t max_len);
void afl_custom_deinit(void *data);

/*
 * Byte-level edits for AFL++ too. The sched engine runs afl-fuzz with
 * AFL_CUSTOM_MUTATOR_ONLY: its havoc stage doubles its length at every
 * new find, and with the interleaving feedback nearly every execution is
 * one, so havoc kept afl-fuzz on its first queue entry for the whole run
 * (18,625 executions in 30 s, one entry fuzzed). A share of these calls
 * flips, sets or copies a few bytes instead, as a share of libFuzzer's
 * goes to LLVMFuzzerMutate.
 */
static void byte_edits(uint8_t *d, size_t n, uint64_t *s)
{
	for (unsigned k = 1 + below(s, 4); k--;) {
		size_t i = below(s, (unsigned)n), j, len;

		switch (below(s, 3)) {
		case 0:
			d[i] ^= (uint8_t)(1u << below(s, 8));
			break;
		case 1:
			d[i] = (uint8_t)rnd(s);
			break;
		default: /* a few bytes from elsewhere in the input */
			j = below(s, (unsigned)n);
			len = 1 + below(s, 8);
			len = len < n - i ? len : n - i;
			len = len < n - j ? len : n - j;
			memmove(d + i, d + j, len);
			break;
		}
	}
}

void *afl_custom_init(void *afl, unsigned int seed)
{
	struct afl_mut *m = calloc(1, sizeof(*m));
	const char *h = getenv("VMT_MT_HINTS");

	if (m)
		m->rng = seed;
	/* The target records each run's decisions there (fuzz/hints.h). */
	hints_shared = h && *h && vmt_hints();
	return m;
}

size_t afl_custom_fuzz(void *data, uint8_t *buf, size_t buf_size, uint8_t **out_buf,
		       uint8_t *add_buf, size_t add_buf_size, size_t max_size)
{
	struct afl_mut *m = data;
	size_t cap = max_size > VMT_MAX_ENCODED ? VMT_MAX_ENCODED : max_size, n;

	if (m->cap < buf_size || m->cap < cap) {
		size_t c = buf_size > cap ? buf_size : cap;
		uint8_t *b = realloc(m->buf, c ? c : 1);

		if (!b) {	/* AFL skips an empty result */
			*out_buf = buf;
			return 0;
		}
		m->buf = b;
		m->cap = c;
	}
	memcpy(m->buf, buf, buf_size);
	*out_buf = m->buf;
	m->bytes = buf_size && buf_size <= cap &&
		   rnd(&m->rng) % VMT_MUT_BYTES_SHARE == 0;
	if (m->bytes) {
		byte_edits(m->buf, buf_size, &m->rng);
		m->last = VMT_MUT_NONE;
		return buf_size;
	}
	n = vmt_mutate(m->buf, buf_size, cap, &m->rng, &m->last);
	/* No edit fit: the input as it was (AFL's havoc mutates bytes). */
	return n ? n : buf_size;
}

/* Edits per queue entry, fixed. Without this AFL++ doubles the stage
 * each time it finds something new, and with the interleaving feedback
 * nearly every schedule edit is new: one entry kept afl-fuzz for the
 * whole minute (cur_item 1 of 6 after 40,000 executions) and the seeds
 * that hold the other races were never mutated. */
#define AFL_EDITS_PER_ENTRY	256

static void next_turn(struct afl_mut *m)
{
	m->turn = m->turn < m->groups ? m->turn + 1 : !m->imports;
	m->passed = 0;
}

/* afl-fuzz calls this once per queue entry it fuzzes, after the checks
 * that may still skip an entry queue_get let through: the turn passes
 * on only when its group was fuzzed. */
uint32_t afl_custom_fuzz_count(void *data, const uint8_t *buf, size_t buf_size)
{
	(void)buf, (void)buf_size;
	next_turn(data);
	return AFL_EDITS_PER_ENTRY;
}

/* ---- AFL++: every seed scenario its turn ------------------------------------- */

/*
 * AFL++'s weighted choice of the next queue entry favours the entries
 * with the most children: from the six multi-thread seeds, 862 queue
 * entries in a minute came from the first one fuzzed (unmap-reader) and
 * none from put-release, so the races only another seed reaches were
 * never tried. Each entry's group is its root seed; queue_get lets an
 * entry through only when its group has the turn, and the turn goes
 * round the groups (AFL++'s choice still picks which entry of the
 * group). Entries AFL++ imports from other fuzzers (-F, sync) are
 * announced to no hook: they make group 0, which takes turns once seen.
 */

/* The queue id in an AFL++ queue file name (".../id:000042,src:..."),
 * and the id after "src:" (the parent, when resuming), or -1. */
static long name_field(const char *path, const char *key)
{
	const char *base = strrchr(path, '/'), *f;
	unsigned long v;
	char *end;

	base = base ? base + 1 : path;
	if (!strcmp(key, "id")) { /* id:N (id_N with AFL_SIMPLE_FILES) */
		if (strncmp(base, "id:", 3) && strncmp(base, "id_", 3))
			return -1;
		f = base + 3;
	} else {
		f = strstr(base, ",src:");
		if (!f)
			return -1;
		f += 5;
	}
	v = strtoul(f, &end, 10);
	return end == f || v > 0xffffffUL ? -1 : (long)v;
}

static uint32_t group_of(struct afl_mut *m, long id)
{
	return id >= 0 && (size_t)id < m->nroot ? m->root[id] : 0;
}

uint8_t afl_custom_queue_new_entry(void *data,
				   const uint8_t *filename_new_queue,
				   const uint8_t *filename_orig_queue)
{
	struct afl_mut *m = data;
	long id = name_field((const char *)filename_new_queue, "id"), src;
	uint32_t g;

	if (id < 0)
		return 0;
	/* The parent: the entry being fuzzed, or (a seed, or an entry
	 * read back on resume: no parent given) the name's src:. */
	src = filename_orig_queue ?
		      name_field((const char *)filename_orig_queue, "id") :
		      name_field((const char *)filename_new_queue, "src");
	if (src >= 0 && src != id)
		g = group_of(m, src);
	else if (!filename_orig_queue &&
		 !strstr((const char *)filename_new_queue, ",sync:"))
		g = ++m->groups; /* a seed: a group of its own */
	else
		g = 0;
	if ((size_t)id >= m->nroot) {
		size_t n = m->nroot ? m->nroot : 64;
		uint32_t *r;

		while (n <= (size_t)id)
			n *= 2;
		r = realloc(m->root, n * sizeof(*r));
		if (!r)
			return 0; /* then it counts as group 0 */
		memset(r + m->nroot, 0, (n - m->nroot) * sizeof(*r));
		m->root = r;
		m->nroot = n;
	}
	m->root[id] = g;
	if (!m->turn)
		m->turn = 1;
	return 0; /* the file is unchanged */
}

/* A group whose entries AFL++ never picks (weight 0 under some power
 * schedules) must not stop the others: after this many refusals in a
 * row the turn moves on. Each refusal costs afl-fuzz one random pick. */
#define AFL_TURN_PATIENCE (1u << 20)

uint8_t afl_custom_queue_get(void *data, const uint8_t *filename)
{
	struct afl_mut *m = data;
	uint32_t g = group_of(m, name_field((const char *)filename, "id"));

	if (!g && !m->imports) {
		m->imports = true; /* the first import: group 0 joins in */
		if (!m->groups)
			m->turn = 0;
	}
	if (g == m->turn || m->groups + m->imports < 2)
		return 1;
	if (++m->passed >= AFL_TURN_PATIENCE)
		next_turn(m);
	return 0;
}

const char *afl_custom_describe(void *data, size_t max_len)
{
	struct afl_mut *m = data;

	(void)max_len;
	return m->bytes ? "bytes" : vmt_mut_name(m->last);
}

void afl_custom_deinit(void *data)
{
	struct afl_mut *m = data;

	if (m) {
		free(m->buf);
		free(m->root);
	}
	free(m);
}
