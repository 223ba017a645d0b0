/* SPDX-License-Identifier: MIT */
/*
 * op_bin.c - the op language's binary form: the total decoder and its
 * exact encoder.
 *
 * Binary layout: a program is a sequence of ops; each op is an opcode byte
 * followed by that op's fields in a fixed order (its row in ops.def).
 * Reading past the end yields zeros, so every byte string decodes. The
 * decoder is biased (most byte values of a field select "interesting"
 * values); the encoder always has an exact spelling for every value in a
 * field's domain (a raw escape where the biased forms cannot express it).
 */
#include <errno.h>
#include <string.h>

#include "fields.h"

#define K4	VMS_PAGE_SIZE
#define M2	(1ULL << 21)
#define G1	(1ULL << 30)
#define G512	(1ULL << 39)
#define UEND	VMS_USER_END

/*
 * Opcode byte -> op, weighted toward the ops that change the tree. The
 * byte is taken modulo the table length.
 */
static const uint8_t op_table[] = {
	VMT_OP_MAP,	      VMT_OP_CURSOR_NEW,
	VMT_OP_FRAME_ALLOC,   VMT_OP_UNMAP,
	VMT_OP_MAP,	      VMT_OP_QUERY,
	VMT_OP_FIND_NEXT,     VMT_OP_PROTECT_NEXT,
	VMT_OP_MAP,	      VMT_OP_CURSOR_NEW,
	VMT_OP_FRAME_ALLOC,   VMT_OP_UNMAP,
	VMT_OP_JUMP,	      VMT_OP_DROP,
	VMT_OP_ACC_NEW,	      VMT_OP_ACC_ACTIVATE,
	VMT_OP_MAP,	      VMT_OP_CURSOR_NEW,
	VMT_OP_FRAME_ALLOC,   VMT_OP_UNMAP,
	VMT_OP_ACC_READ,      VMT_OP_ACC_WRITE,
	VMT_OP_FRAME_PUT,     VMT_OP_QUERY,
	VMT_OP_MAP,	      VMT_OP_CURSOR_NEW,
	VMT_OP_FRAME_ALLOC,   VMT_OP_PROTECT_NEXT,
	VMT_OP_FIND_NEXT,     VMT_OP_JUMP,
	VMT_OP_DROP,	      VMT_OP_ACC_NEW,
	VMT_OP_ACC_ACTIVATE,  VMT_OP_ACC_READ,
	VMT_OP_ACC_WRITE,     VMT_OP_ACC_RELEASE,
	VMT_OP_FRAME_GET,     VMT_OP_FRAME_PUT,
	VMT_OP_SPACE_NEW,     VMT_OP_SPACE_ACTIVATE,
	VMT_OP_SPACE_SWITCH,  VMT_OP_CHECK,
	VMT_OP_MAP,	      VMT_OP_UNMAP,
	VMT_OP_CURSOR_NEW,    VMT_OP_QUERY,
	VMT_OP_PROTECT_NEXT,  VMT_OP_ACC_RELEASE,
	VMT_OP_SPACE_DESTROY, VMT_OP_SPACE_DEACTIVATE,
	VMT_OP_QUIESCE,	      VMT_OP_CHECK,
	VMT_OP_SPACE_NEW,     VMT_OP_FRAME_ALLOC,
	VMT_OP_ACC_WRITE,     VMT_OP_ACC_READ,
	VMT_OP_FAIL,	      VMT_OP_MAP,
	VMT_OP_FAIL,	      VMT_OP_UNMAP,
	VMT_OP_POOL_NEW,      VMT_OP_CORRUPT,
	VMT_OP_BADARG,	      VMT_OP_CURSOR_TRY,
};
#define OP_TABLE_LEN (sizeof(op_table) / sizeof(op_table[0]))

/* Interesting addresses and lengths (F_A/F_B selectors below ADDR_NT). */
static const uint64_t addr_table[] = {
	0, K4, 2 * K4, 3 * K4, M2 - K4, M2, M2 + K4, 2 * M2,
	3 * M2, G1 - K4, G1, G1 + K4, G1 + M2, 2 * G1, G1 - M2, G512 - K4,
	G512, G512 + K4, G512 + M2, 2 * G512, UEND, UEND - K4, UEND - 2 * K4, UEND - M2,
	UEND - G1, UEND - G512, UEND + K4, 1ULL << 48, 1, 0x800, K4 + 1, M2 - 1,
	UINT64_MAX, UINT64_MAX - K4 + 1, 1ULL << 63, 16 * K4, 8 * M2, UEND - M2 - K4,
	UINT64_MAX - M2 + 1, M2 + 0x800,
};
#define ADDR_NT ((int)(sizeof(addr_table) / sizeof(addr_table[0])))
#define ADDR_MUL0 ADDR_NT		/* 64 selectors: mult * unit */
#define ADDR_HIST0 (ADDR_MUL0 + 64)	/* 64 selectors: history + delta */
#define ADDR_BYTE0 (ADDR_HIST0 + 64)	/* 64 selectors: byte * unit + k pages */
#define ADDR_LIT 255
#define ADDR_HIST 8

static const uint64_t units[4] = { K4, M2, G1, G512 };

static const uint32_t io_table[] = {
	0, 1, 2, 7, 8, 64, 100, 511, 512, 4095, 4096, 4097, 8191, 8192,
	12288, 16384, 65535, 65536, 2048, 6000, 4096 * 3 + 17, 30000, 40960, 1000,
};
#define IO_NT ((int)(sizeof(io_table) / sizeof(io_table[0])))

/* What a thread's earlier ops set up, for operands relative to it (the
 * encoder keeps the same state through note_op()): its cursors, its
 * accessors. */
struct rdt {
	uint64_t cstart[VMT_NR_SPACES], cend[VMT_NR_SPACES];
	uint64_t alast_va, alast_len;
	uint8_t last_reader, last_writer, last_acc;	/* slot + 1, 0: none yet */
};

struct rd {
	const uint8_t *p;
	size_t n, i;
	uint64_t hist[ADDR_HIST];	/* shared: threads overlap each other's ranges */
	unsigned nh;
	struct rdt th[VMT_MAX_THREADS];
};

static void note_op(struct rd *r, const struct vmt_op *op)
{
	struct rdt *t = &r->th[op->thread];

	if (op->code == VMT_OP_CURSOR_NEW) {
		t->cstart[op->space] = op->a;
		t->cend[op->space] = op->b;
	} else if (op->code == VMT_OP_ACC_NEW) {
		t->alast_va = op->a;
		t->alast_len = op->b;
		t->last_acc = op->slot + 1;
		if (op->arg)
			t->last_writer = op->slot + 1;
		else
			t->last_reader = op->slot + 1;
	}
}

/* Past the end: zeros. i keeps counting, so the encoder can tell how many
 * bytes a form needs. */
static uint8_t get8(struct rd *r)
{
	uint8_t b = r->i < r->n ? r->p[r->i] : 0;

	r->i++;
	return b;
}

static uint64_t get64(struct rd *r)
{
	uint64_t v = 0;

	for (int k = 0; k < 8; k++)
		v |= (uint64_t)get8(r) << (8 * k);
	return v;
}

static uint64_t dec_addr(struct rd *r)
{
	uint8_t s = get8(r);
	uint64_t v;

	if (s < ADDR_NT) {
		v = addr_table[s];
	} else if (s < ADDR_HIST0) {
		v = (uint64_t)((s - ADDR_MUL0) & 15) * units[(s - ADDR_MUL0) >> 4];
	} else if (s < ADDR_BYTE0) {
		/* A recent address, nudged: overlapping and adjacent ranges. */
		uint64_t h = r->hist[(r->nh - 1 - ((s - ADDR_HIST0) & 7)) % ADDR_HIST];

		switch ((s - ADDR_HIST0) >> 3) {
		case 0: v = h; break;
		case 1: v = h + K4; break;
		case 2: v = h - K4; break;
		case 3: v = h + M2; break;
		case 4: v = h - M2; break;
		case 5: v = h + 1; break;
		case 6: v = h + (uint64_t)get8(r) * K4; break;
		default: v = h - (uint64_t)get8(r) * K4; break;
		}
	} else if (s < ADDR_LIT) {
		unsigned k = s - ADDR_BYTE0;

		v = (uint64_t)get8(r) * units[(k >> 4) & 3] + (uint64_t)(k & 15) * K4;
	} else {
		v = get64(r);
	}
	r->hist[r->nh++ % ADDR_HIST] = v;
	return v;
}

/* F_RANGE_END: most ends are start + a small span, so the range is valid;
 * F_ALEN: most accessor lengths are a few bytes to a few pages. The
 * selectors from REL_GENERIC on read a general address. */
static const uint64_t end_table[] = {
	K4, 2 * K4, 3 * K4, 16 * K4, M2 - K4, M2, M2 + K4, 2 * M2, 3 * M2,
	G1, G1 + M2, 2 * G1, G512, 0, K4 + 1, UEND,
};
static const uint64_t alen_table[] = {
	1, 8, 100, K4 - 1, K4, K4 + 1, 2 * K4, 3 * K4, M2, M2 + K4, 0x800, 17,
	16 * K4, 0, 2 * M2, K4 - 8,
};
#define REL_N 16
#define REL_GENERIC 0xe0

static uint64_t dec_rel(struct rd *r, const uint64_t *table, uint64_t base)
{
	uint8_t s = get8(r);
	uint64_t v;

	if (s >= REL_GENERIC)
		return dec_addr(r);
	v = base + table[s % REL_N];
	r->hist[r->nh++ % ADDR_HIST] = v;
	return v;
}

/*
 * Operands relative to the state: selector byte s < REL_STATE picks one of
 * 16 forms (s & 15); the rest escape to a general address. Shared by the
 * decoder and the encoder (which tries the 16 forms).
 */
#define REL_STATE 0xc0

static const uint64_t jva_table[12] = {
	0, K4, 2 * K4, 3 * K4, M2 - K4, M2, M2 + K4, 2 * M2, 16 * K4, G1, 5 * K4, M2 + 0x800,
};
static const uint64_t jva_end_table[4] = { K4, 2 * K4, M2, 0 };
static const uint64_t len_table[11] = {
	K4, 2 * K4, 3 * K4, 4 * K4, 16 * K4, M2 - K4, M2, M2 + K4, 2 * M2, G1, 0,
};
static const uint64_t ava_table[10] = {
	0, 8, K4 - 8, K4, M2 - 16, 2 * K4 + 100, M2, 0x800, 5 * K4, 1,
};

static uint64_t rel_form(const struct rd *rd, enum fld f, const struct vmt_op *op, unsigned k)
{
	const struct rdt *r = &rd->th[op->thread];
	uint64_t span = r->cend[op->space] - r->cstart[op->space];

	switch (f) {
	case F_JVA:
		return k < 12 ? r->cstart[op->space] + jva_table[k] :
			r->cend[op->space] - jva_end_table[k - 12];
	case F_LEN:
		if (k < 11)
			return len_table[k];
		switch (k) {
		case 11: return span;
		case 12: return span - K4;
		case 13: return span + K4;
		case 14: return span / 2;
		default: return K4 + 1;
		}
	case F_AVA:
		switch (k) {
		case 0: return r->alast_va + r->alast_len;	/* touches after */
		case 1: return r->alast_va - op->b;		/* touches before */
		case 2: return r->alast_va;
		case 3: return r->alast_va + 1;
		case 4: return r->alast_va + r->alast_len - 1;
		case 5: return r->alast_va + r->alast_len + 1;
		default: return r->cstart[op->space] + ava_table[k - 6];
		}
	default:
		return 0;
	}
}

static uint64_t dec_state_rel(struct rd *r, enum fld f, const struct vmt_op *op)
{
	uint8_t s = get8(r);
	uint64_t v;

	if (s >= REL_STATE)
		return dec_addr(r);
	v = rel_form(r, f, op, s & 15);
	r->hist[r->nh++ % ADDR_HIST] = v;
	return v;
}

static uint64_t dec_io(struct rd *r)
{
	uint8_t s = get8(r);
	uint64_t v;

	if (s < 0x80)
		return io_table[s % IO_NT];
	if (s < 0xf0)
		return ((uint64_t)(s - 0x80) << 8) | get8(r);
	v = get64(r) & 0xffffffff;
	return v > VMT_MAX_IO ? VMT_MAX_IO : v;
}

/*
 * The property bytes, each in three bands: a byte below band 0's bound
 * decodes to (byte & mask) | set of band 0, below band 1's to band 1's,
 * and from band 1's bound on it is an escape: the next byte is the value
 * as is. The common values get the widest bands, so that most mutations
 * stay in them. The encoder inverts the same table.
 */
struct band {
	uint8_t below, mask, set;
};

enum pbyte { PB_FLAGS, PB_CACHE, PB_PRIV, PB_PMASK, PB_PCACHE, PB_PPRIV };

static const struct band pbands[][2] = {
	[PB_FLAGS] = { { 0x60, 0x1f, VMS_PROP_R }, { 0xe0, 0x1f, 0 } },
	[PB_CACHE] = { { 0xc0, 3, 0 }, { 0xf0, 0, VMS_CACHE_WRITEBACK } },
	[PB_PRIV] = { { 0xc0, 0, VMS_PRIV_USER }, { 0xe0, 3, 0 } },
	[PB_PMASK] = { { 0x40, 0, 0 }, { 0xe0, 0x1f, 0 } },
	[PB_PCACHE] = { { 0x80, 0, VMT_CACHE_KEEP }, { 0xf0, 7, 0 } },
	[PB_PPRIV] = { { 0xe0, 0, 0 }, { 0xe0, 0, 0 } },
};

static uint8_t dec_pbyte(struct rd *r, enum pbyte k)
{
	uint8_t c = get8(r);

	for (int i = 0; i < 2; i++)
		if (c < pbands[k][i].below)
			return (c & pbands[k][i].mask) | pbands[k][i].set;
	return get8(r);
}

/* One-byte fields: the decoder, also used by the encoder to invert them. */
static void dec_small(enum fld f, uint8_t b, struct vmt_op *op, const struct rd *rd)
{
	static const uint8_t levels[8] = { 1, 2, 1, 2, 1, 2, 0, 3 };
	const struct rdt *st = &rd->th[op->thread];

	switch (f) {
	case F_SPACE: op->space = b < 0xc0 ? 0 : (b & 1); break;
	case F_FSLOT: op->slot = b < 0x80 ? (b & 3) : (b & 7); break;
	case F_ASLOT: op->slot = b & 3; break;
	case F_SPACE1: op->space = b < 0xc0 ? 1 : (b & 1); break;
	/* Accessor ops mostly name the accessor that can serve them. */
	case F_RSLOT: op->slot = b < 0xc0 && st->last_reader ? st->last_reader - 1 : (b & 3); break;
	case F_WSLOT: op->slot = b < 0xc0 && st->last_writer ? st->last_writer - 1 : (b & 3); break;
	case F_LSLOT: op->slot = b < 0x80 && st->last_acc ? st->last_acc - 1 : (b & 3); break;
	case F_MUT: op->arg = b < 0xc0; break;
	case F_LEVEL: op->arg = levels[b & 7]; break;
	case F_WRITER: op->arg = b & 1; break;
	case F_ACTSPACE:
		op->arg = b >= 0xe0;
		op->space = op->arg ? (b & 1) : 0;
		break;
	case F_PATTERN: op->arg = b; break;
	/* Mostly one of the first few allocations, of any kind. */
	case F_NTH: op->a = 1 + (b < 0xc0 ? (b & 7) : (b & (VMT_MAX_NTH - 1))); break;
	case F_SITE: op->arg = b < 0x80 ? VMS_FAULT_ANY : (b & 15) % VMS_FAULT_NR; break;
	case F_CORRUPT:
		op->arg = b % VMS_CORRUPT__COUNT;
		break;
	case F_BADCALL:
		op->arg = b % VMT_BADARG__COUNT;
		break;
	default: break;
	}
}

static void dec_field(struct rd *r, enum fld f, struct vmt_op *op)
{
	uint8_t b;

	switch (f) {
	case F_SPFLAGS:
		b = get8(r);
		op->arg = b < 0x60 ? 0 : b < 0xc0 ? 1 : get8(r);
		break;
	case F_A: case F_BYTES: op->a = dec_addr(r); break;
	case F_B: op->b = dec_addr(r); break;
	case F_RANGE_END: op->b = dec_rel(r, end_table, op->a); break;
	case F_ALEN: op->b = dec_rel(r, alen_table, 0); break;
	case F_JVA:
	case F_LEN:
	case F_AVA: op->a = dec_state_rel(r, f, op); break;
	case F_IO: op->a = dec_io(r); break;
	case F_PROP:
		op->prop.flags = dec_pbyte(r, PB_FLAGS);
		op->prop.cache = dec_pbyte(r, PB_CACHE);
		op->prop.priv = dec_pbyte(r, PB_PRIV);
		break;
	case F_PROTECT:
		op->pset = dec_pbyte(r, PB_PMASK);
		op->pclr = dec_pbyte(r, PB_PMASK);
		op->pcache = dec_pbyte(r, PB_PCACHE);
		op->ppriv = dec_pbyte(r, PB_PPRIV);
		break;
	default:
		dec_small(f, get8(r), op, r);
		break;
	}
}

/* Pseudo-ops (op.h): the escape byte, then one of these. */
#define PSEUDO_ESC	0xff
#define PSEUDO_THREAD	0xf0	/* 0xf0 + N: thread N's ops follow */
#define PSEUDO_VERSION	0xf4	/* V: the schedule's version */
#define PSEUDO_PREEMPT	0xf5	/* T NTH(LEB128) U: a preemption */
#define PSEUDO_BATCH 0xf6	/* B(LEB128): the retire batch */

static uint32_t get_leb(struct rd *r)
{
	uint32_t v = 0;

	for (int sh = 0; sh < 35; sh += 7) {
		uint8_t b = get8(r);

		v |= (uint32_t)(b & 0x7f) << sh;
		if (!(b & 0x80))
			break;
	}
	return v;
}

/* A pseudo-op at r->i (the escape byte not yet read): apply it to @p,
 * @cur; false if the bytes there are an ordinary op. */
static bool dec_pseudo(struct rd *r, struct vmt_prog *p, uint8_t *cur)
{
	uint8_t e;

	if (r->i + 1 >= r->n || r->p[r->i] != PSEUDO_ESC)
		return false;
	e = r->p[r->i + 1];
	if (e < PSEUDO_THREAD || e > PSEUDO_BATCH)
		return false;
	r->i += 2;
	if (e < PSEUDO_VERSION) {
		*cur = e - PSEUDO_THREAD;
		if (*cur + 1u > vmt_prog_threads(p))
			p->nthreads = *cur + 1;
	} else if (e == PSEUDO_VERSION) {
		p->sched_version = get8(r);
	} else if (e == PSEUDO_BATCH) {
		/* One past the largest stands for the bad batch. */
		uint32_t b = get_leb(r) % (VMT_MAX_RETIRE_BATCH + 2);

		p->retire_batch =
			b > VMT_MAX_RETIRE_BATCH ? VMT_BAD_RETIRE_BATCH : b;
	} else {
		struct vmt_preempt pe;

		pe.thread = get8(r) % VMT_SCHED_THREADS;
		pe.nth = get_leb(r);
		pe.next = get8(r) % VMT_SCHED_THREADS;
		if (p->nsched < VMT_MAX_PREEMPTS)
			p->sched[p->nsched++] = pe;
	}
	return true;
}

int vmt_decode(const uint8_t *buf, size_t n, struct vmt_prog *p)
{
	struct rd r = { .p = buf, .n = buf ? n : 0 };
	uint8_t cur = 0;

	p->n = 0;
	p->nthreads = 1;
	p->nsched = 0;
	p->sched_version = 0;
	p->retire_batch = 0;
	while (r.i < r.n && p->n < VMT_MAX_OPS) {
		struct vmt_op *op;

		if (dec_pseudo(&r, p, &cur))
			continue;
		op = &p->ops[p->n++];
		memset(op, 0, sizeof(*op));
		op->thread = cur;
		op->code = op_table[get8(&r) % OP_TABLE_LEN];
		for (int i = 0; i < VMT_MAXF && vmt_op_fields[op->code][i]; i++)
			dec_field(&r, vmt_op_fields[op->code][i], op);
		note_op(&r, op);
	}
	/* The schedule may follow the last op. */
	while (r.i < r.n && dec_pseudo(&r, p, &cur))
		;
	vmt_prog_normalize(p);
	return (int)p->n;
}

/* ---- encoder ----------------------------------------------------------- */

struct wr {
	uint8_t *p;
	size_t cap, n;
};

static void put8(struct wr *w, uint8_t b)
{
	if (w->n < w->cap)
		w->p[w->n] = b;
	w->n++;
}

static void put64(struct wr *w, uint64_t v)
{
	for (int k = 0; k < 8; k++)
		put8(w, (uint8_t)(v >> (8 * k)));
}

static void enc_addr(struct wr *w, uint64_t v)
{
	for (int s = 0; s < ADDR_NT; s++) {
		if (addr_table[s] == v) {
			put8(w, (uint8_t)s);
			return;
		}
	}
	put8(w, ADDR_LIT);
	put64(w, v);
}

static void enc_rel(struct wr *w, const uint64_t *table, uint64_t base, uint64_t v)
{
	for (int s = 0; s < REL_N; s++) {
		if (base + table[s] == v) {
			put8(w, (uint8_t)s);
			return;
		}
	}
	put8(w, REL_GENERIC);
	enc_addr(w, v);
}

static void enc_io(struct wr *w, uint64_t v)
{
	for (int s = 0; s < IO_NT; s++) {
		if (io_table[s] == v) {
			put8(w, (uint8_t)s);
			return;
		}
	}
	if (v < (0x70ULL << 8)) {
		put8(w, (uint8_t)(0x80 + (v >> 8)));
		put8(w, (uint8_t)v);
		return;
	}
	put8(w, 0xf0);
	put64(w, v);
}

/* Find a single byte that the one-byte decoder @dec maps to @v, else
 * emit @esc followed by the raw byte. */
/* The first byte that decodes to @v, else the escape and @v. */
static void enc_pbyte(struct wr *w, enum pbyte k, uint8_t v)
{
	uint8_t esc = pbands[k][1].below;

	for (int b = 0; b < esc; b++) {
		uint8_t one = (uint8_t)b;
		struct rd r = { .p = &one, .n = 1 };

		if (dec_pbyte(&r, k) == v) {
			put8(w, one);
			return;
		}
	}
	put8(w, esc);
	put8(w, v);
}

static void put_leb(struct wr *w, uint32_t v)
{
	do {
		put8(w, (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0)));
		v >>= 7;
	} while (v);
}

static void enc_small(struct wr *w, const struct rd *st, enum fld f, const struct vmt_op *op)
{
	for (int b = 0; b < 256; b++) {
		struct vmt_op t = *op;

		dec_small(f, (uint8_t)b, &t, st);
		if (vmt_op_equal(&t, op)) {
			put8(w, (uint8_t)b);
			return;
		}
	}
	put8(w, 0);	/* unreachable for a valid op */
}

static void enc_state_rel(struct wr *w, const struct rd *st, enum fld f,
			  const struct vmt_op *op)
{
	for (unsigned k = 0; k < 16; k++) {
		if (rel_form(st, f, op, k) == op->a) {
			put8(w, (uint8_t)k);
			return;
		}
	}
	put8(w, REL_STATE);
	enc_addr(w, op->a);
}

static void enc_field(struct wr *w, const struct rd *st, enum fld f, const struct vmt_op *op)
{
	switch (f) {
	case F_JVA:
	case F_LEN:
	case F_AVA:
		enc_state_rel(w, st, f, op);
		break;
	case F_SPFLAGS:
		if (op->arg <= 1) {
			put8(w, op->arg ? 0x60 : 0);
		} else {
			put8(w, 0xc0);
			put8(w, op->arg);
		}
		break;
	case F_A: case F_BYTES: enc_addr(w, op->a); break;
	case F_B: enc_addr(w, op->b); break;
	case F_RANGE_END: enc_rel(w, end_table, op->a, op->b); break;
	case F_ALEN: enc_rel(w, alen_table, 0, op->b); break;
	case F_IO: enc_io(w, op->a); break;
	case F_PROP:
		enc_pbyte(w, PB_FLAGS, op->prop.flags);
		enc_pbyte(w, PB_CACHE, op->prop.cache);
		enc_pbyte(w, PB_PRIV, op->prop.priv);
		break;
	case F_PROTECT:
		enc_pbyte(w, PB_PMASK, op->pset);
		enc_pbyte(w, PB_PMASK, op->pclr);
		enc_pbyte(w, PB_PCACHE, op->pcache);
		enc_pbyte(w, PB_PPRIV, op->ppriv);
		break;
	default:
		enc_small(w, st, f, op);
		break;
	}
}

long vmt_encode(const struct vmt_prog *p, uint8_t *buf, size_t cap)
{
	struct wr w = { .p = buf, .cap = buf ? cap : 0 };
	struct rd st = { 0 };

	if (!vmt_prog_valid(p, NULL))
		return -EINVAL;
	/* Thread markers for every thread after 0, so that empty threads
	 * count too; thread 0 needs none. */
	for (unsigned t = 0, i = 0; t < vmt_prog_threads(p); t++) {
		if (t) {
			put8(&w, PSEUDO_ESC);
			put8(&w, (uint8_t)(PSEUDO_THREAD + t));
		}
		for (; i < p->n && p->ops[i].thread == t; i++) {
			const struct vmt_op *op = &p->ops[i];
			unsigned b;

			for (b = 0; b < OP_TABLE_LEN && op_table[b] != op->code; b++)
				;
			put8(&w, (uint8_t)b);
			for (int k = 0; k < VMT_MAXF && vmt_op_fields[op->code][k]; k++)
				enc_field(&w, &st, vmt_op_fields[op->code][k], op);
			note_op(&st, op);
		}
	}
	if (p->retire_batch) {
		put8(&w, PSEUDO_ESC);
		put8(&w, PSEUDO_BATCH);
		put_leb(&w, p->retire_batch > VMT_MAX_RETIRE_BATCH ?
				    VMT_MAX_RETIRE_BATCH + 1 :
				    p->retire_batch);
	}
	if (p->nsched) {
		put8(&w, PSEUDO_ESC);
		put8(&w, PSEUDO_VERSION);
		put8(&w, p->sched_version);
	}
	for (unsigned i = 0; i < p->nsched; i++) {
		put8(&w, PSEUDO_ESC);
		put8(&w, PSEUDO_PREEMPT);
		put8(&w, p->sched[i].thread);
		put_leb(&w, p->sched[i].nth);
		put8(&w, p->sched[i].next);
	}
	return (long)w.n;
}
