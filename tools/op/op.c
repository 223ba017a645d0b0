/* SPDX-License-Identifier: MIT */
/*
 * op.c - the op language: field domains, the total binary decoder, its
 * exact encoder, and the text form. The executor is in exec.c.
 *
 * Binary layout: a program is a sequence of ops; each op is an opcode byte
 * followed by that op's fields in a fixed order (see op_fields[]). Reading
 * past the end yields zeros, so every byte string decodes. The decoder is
 * biased (most byte values of a field select "interesting" values); the
 * encoder always has an exact spelling for every value in a field's
 * domain (a raw escape where the biased forms cannot express it).
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "fields.h"

#define K4	VMS_PAGE_SIZE
#define M2	(1ULL << 21)
#define G1	(1ULL << 30)
#define G512	(1ULL << 39)
#define UEND	VMS_USER_END

/* ---- fields ------------------------------------------------------------ */

#define MAXF VMT_MAXF
static const uint8_t op_fields[VMT_OP__COUNT][MAXF] = {
#define VMT_OP(code, name, ...) [VMT_OP_##code] = { __VA_ARGS__ },
#include "ops.def"
#undef VMT_OP
};

static bool has_field(unsigned code, enum fld f)
{
	for (int i = 0; i < MAXF && op_fields[code][i]; i++)
		if (op_fields[code][i] == f)
			return true;
	return false;
}

static bool has_space(unsigned code)
{
	return has_field(code, F_SPACE) || has_field(code, F_SPACE1);
}

static bool has_aslot(unsigned code)
{
	return has_field(code, F_ASLOT) || has_field(code, F_RSLOT) ||
	       has_field(code, F_WSLOT) || has_field(code, F_LSLOT);
}

/* Ops whose a field is an operand (any of the a-field codecs). */
static bool uses_a(unsigned code)
{
	return has_field(code, F_A) || has_field(code, F_JVA) || has_field(code, F_LEN) ||
	       has_field(code, F_AVA) || has_field(code, F_IO);
}

/* acc_new is printed as reader_new / writer_new. */
static const char *const op_names[VMT_OP__COUNT] = {
#define VMT_OP(code, name, ...) [VMT_OP_##code] = #name,
#include "ops.def"
#undef VMT_OP
};

const char *vmt_op_name(unsigned code)
{
	return code < VMT_OP__COUNT ? op_names[code] : "?";
}

/*
 * Opcode byte -> op, weighted toward the ops that change the tree. The
 * byte is taken modulo the table length.
 */
static const uint8_t op_table[] = {
	VMT_OP_MAP, VMT_OP_CURSOR_NEW, VMT_OP_FRAME_ALLOC, VMT_OP_UNMAP,
	VMT_OP_MAP, VMT_OP_QUERY, VMT_OP_FIND_NEXT, VMT_OP_PROTECT_NEXT,
	VMT_OP_MAP, VMT_OP_CURSOR_NEW, VMT_OP_FRAME_ALLOC, VMT_OP_UNMAP,
	VMT_OP_JUMP, VMT_OP_DROP, VMT_OP_ACC_NEW, VMT_OP_ACC_ACTIVATE,
	VMT_OP_MAP, VMT_OP_CURSOR_NEW, VMT_OP_FRAME_ALLOC, VMT_OP_UNMAP,
	VMT_OP_ACC_READ, VMT_OP_ACC_WRITE, VMT_OP_FRAME_PUT, VMT_OP_QUERY,
	VMT_OP_MAP, VMT_OP_CURSOR_NEW, VMT_OP_FRAME_ALLOC, VMT_OP_PROTECT_NEXT,
	VMT_OP_FIND_NEXT, VMT_OP_JUMP, VMT_OP_DROP, VMT_OP_ACC_NEW,
	VMT_OP_ACC_ACTIVATE, VMT_OP_ACC_READ, VMT_OP_ACC_WRITE, VMT_OP_ACC_RELEASE,
	VMT_OP_FRAME_GET, VMT_OP_FRAME_PUT, VMT_OP_SPACE_NEW, VMT_OP_SPACE_ACTIVATE,
	VMT_OP_SPACE_SWITCH, VMT_OP_CHECK, VMT_OP_MAP, VMT_OP_UNMAP,
	VMT_OP_CURSOR_NEW, VMT_OP_QUERY, VMT_OP_PROTECT_NEXT, VMT_OP_ACC_RELEASE,
	VMT_OP_SPACE_DESTROY, VMT_OP_SPACE_DEACTIVATE, VMT_OP_QUIESCE, VMT_OP_CHECK,
	VMT_OP_SPACE_NEW, VMT_OP_FRAME_ALLOC, VMT_OP_ACC_WRITE, VMT_OP_ACC_READ,
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

struct rd {
	const uint8_t *p;
	size_t n, i;
	uint64_t hist[ADDR_HIST];
	unsigned nh;
	/* What earlier ops set up, for operands relative to it (the encoder
	 * keeps the same state through note_op()). */
	uint64_t cstart[VMT_NR_SPACES], cend[VMT_NR_SPACES];
	uint64_t alast_va, alast_len;
	uint8_t last_reader, last_writer, last_acc;	/* slot + 1, 0: none yet */
};

static void note_op(struct rd *r, const struct vmt_op *op)
{
	if (op->code == VMT_OP_CURSOR_NEW) {
		r->cstart[op->space] = op->a;
		r->cend[op->space] = op->b;
	} else if (op->code == VMT_OP_ACC_NEW) {
		r->alast_va = op->a;
		r->alast_len = op->b;
		r->last_acc = op->slot + 1;
		if (op->arg)
			r->last_writer = op->slot + 1;
		else
			r->last_reader = op->slot + 1;
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

static uint64_t rel_form(const struct rd *r, enum fld f, const struct vmt_op *op, unsigned k)
{
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

static uint8_t dec_flags_prop(struct rd *r)
{
	uint8_t f = get8(r);

	if (f < 0x60)
		return (f & 0x1f) | VMS_PROP_R;
	if (f < 0xe0)
		return f & 0x1f;
	return get8(r);
}

static uint8_t dec_cache(struct rd *r)
{
	uint8_t c = get8(r);

	if (c < 0xc0)
		return c & 3;
	if (c < 0xf0)
		return VMS_CACHE_WRITEBACK;
	return get8(r);
}

static uint8_t dec_priv(struct rd *r)
{
	uint8_t p = get8(r);

	if (p < 0xc0)
		return VMS_PRIV_USER;
	if (p < 0xe0)
		return p & 3;
	return get8(r);
}

static uint8_t dec_pmask(struct rd *r)
{
	uint8_t s = get8(r);

	if (s < 0x40)
		return 0;
	if (s < 0xe0)
		return s & 0x1f;
	return get8(r);
}

static uint8_t dec_pcache(struct rd *r)
{
	uint8_t c = get8(r);

	if (c < 0x80)
		return VMT_CACHE_KEEP;
	if (c < 0xf0)
		return c & 7;
	return get8(r);
}

static uint8_t dec_ppriv(struct rd *r)
{
	uint8_t p = get8(r);

	return p < 0xe0 ? 0 : get8(r);
}

/* One-byte fields: the decoder, also used by the encoder to invert them. */
static void dec_small(enum fld f, uint8_t b, struct vmt_op *op, const struct rd *st)
{
	static const uint8_t levels[8] = { 1, 2, 1, 2, 1, 2, 0, 3 };

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
	case F_A: op->a = dec_addr(r); break;
	case F_B: op->b = dec_addr(r); break;
	case F_RANGE_END: op->b = dec_rel(r, end_table, op->a); break;
	case F_ALEN: op->b = dec_rel(r, alen_table, 0); break;
	case F_JVA:
	case F_LEN:
	case F_AVA: op->a = dec_state_rel(r, f, op); break;
	case F_IO: op->a = dec_io(r); break;
	case F_PROP:
		op->prop.flags = dec_flags_prop(r);
		op->prop.cache = dec_cache(r);
		op->prop.priv = dec_priv(r);
		break;
	case F_PROTECT:
		op->pset = dec_pmask(r);
		op->pclr = dec_pmask(r);
		op->pcache = dec_pcache(r);
		op->ppriv = dec_ppriv(r);
		break;
	default:
		dec_small(f, get8(r), op, r);
		break;
	}
}

int vmt_decode(const uint8_t *buf, size_t n, struct vmt_prog *p)
{
	struct rd r = { .p = buf, .n = buf ? n : 0 };

	p->n = 0;
	while (r.i < r.n && p->n < VMT_MAX_OPS) {
		struct vmt_op *op = &p->ops[p->n++];

		memset(op, 0, sizeof(*op));
		op->code = op_table[get8(&r) % OP_TABLE_LEN];
		for (int i = 0; i < MAXF && op_fields[op->code][i]; i++)
			dec_field(&r, op_fields[op->code][i], op);
		note_op(&r, op);
	}
	return (int)p->n;
}

/* ---- validity ---------------------------------------------------------- */

static bool op_valid(const struct vmt_op *op)
{
	unsigned c = op->code;

	if (c >= VMT_OP__COUNT)
		return false;
	if (!has_space(c) && !has_field(c, F_ACTSPACE) && op->space)
		return false;
	if (op->space >= VMT_NR_SPACES)
		return false;
	if (has_field(c, F_FSLOT) ? op->slot >= VMT_NR_FRAMES :
	    has_aslot(c) ? op->slot >= VMT_NR_ACCS : op->slot != 0)
		return false;
	if (has_field(c, F_MUT) || has_field(c, F_WRITER) || has_field(c, F_ACTSPACE)) {
		if (op->arg > 1)
			return false;
	} else if (has_field(c, F_LEVEL)) {
		if (op->arg > 3)
			return false;
	} else if (!has_field(c, F_SPFLAGS) && !has_field(c, F_PATTERN) && op->arg) {
		return false;
	}
	if (has_field(c, F_ACTSPACE) && !op->arg && op->space)
		return false;
	if (has_field(c, F_IO) ? op->a > VMT_MAX_IO : !uses_a(c) && op->a)
		return false;
	if (!has_field(c, F_B) && !has_field(c, F_RANGE_END) && !has_field(c, F_ALEN) && op->b)
		return false;
	if (!has_field(c, F_PROP) && (op->prop.flags || op->prop.cache || op->prop.priv))
		return false;
	if (!has_field(c, F_PROTECT) && (op->pset || op->pclr || op->pcache || op->ppriv))
		return false;
	return true;
}

bool vmt_prog_valid(const struct vmt_prog *p, unsigned *bad_op)
{
	if (p->n > VMT_MAX_OPS) {
		if (bad_op)
			*bad_op = VMT_MAX_OPS;
		return false;
	}
	for (unsigned i = 0; i < p->n; i++) {
		if (!op_valid(&p->ops[i])) {
			if (bad_op)
				*bad_op = i;
			return false;
		}
	}
	return true;
}

bool vmt_op_equal(const struct vmt_op *x, const struct vmt_op *y)
{
	return x->code == y->code && x->space == y->space && x->slot == y->slot &&
	       x->arg == y->arg && x->a == y->a && x->b == y->b &&
	       x->prop.flags == y->prop.flags && x->prop.cache == y->prop.cache &&
	       x->prop.priv == y->prop.priv && x->pset == y->pset &&
	       x->pclr == y->pclr && x->pcache == y->pcache && x->ppriv == y->ppriv;
}

bool vmt_prog_equal(const struct vmt_prog *x, const struct vmt_prog *y)
{
	if (x->n != y->n)
		return false;
	for (unsigned i = 0; i < x->n; i++)
		if (!vmt_op_equal(&x->ops[i], &y->ops[i]))
			return false;
	return true;
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
static void enc_byte(struct wr *w, uint8_t (*dec)(struct rd *), uint8_t v, uint8_t esc)
{
	for (int b = 0; b < 256; b++) {
		uint8_t one = (uint8_t)b;
		struct rd r = { .p = &one, .n = 1 };

		if (dec(&r) == v && r.i == 1) {
			put8(w, one);
			return;
		}
	}
	put8(w, esc);
	put8(w, v);
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
	case F_A: enc_addr(w, op->a); break;
	case F_B: enc_addr(w, op->b); break;
	case F_RANGE_END: enc_rel(w, end_table, op->a, op->b); break;
	case F_ALEN: enc_rel(w, alen_table, 0, op->b); break;
	case F_IO: enc_io(w, op->a); break;
	case F_PROP:
		enc_byte(w, dec_flags_prop, op->prop.flags, 0xe0);
		enc_byte(w, dec_cache, op->prop.cache, 0xf0);
		enc_byte(w, dec_priv, op->prop.priv, 0xe0);
		break;
	case F_PROTECT:
		enc_byte(w, dec_pmask, op->pset, 0xe0);
		enc_byte(w, dec_pmask, op->pclr, 0xe0);
		enc_byte(w, dec_pcache, op->pcache, 0xf0);
		enc_byte(w, dec_ppriv, op->ppriv, 0xe0);
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
	for (unsigned i = 0; i < p->n; i++) {
		const struct vmt_op *op = &p->ops[i];
		unsigned b;

		for (b = 0; b < OP_TABLE_LEN && op_table[b] != op->code; b++)
			;
		put8(&w, (uint8_t)b);
		for (int k = 0; k < MAXF && op_fields[op->code][k]; k++)
			enc_field(&w, &st, op_fields[op->code][k], op);
		note_op(&st, op);
	}
	return (long)w.n;
}

/* ---- text: printing ---------------------------------------------------- */

struct sb {
	char *p;
	size_t size, n;
};

static void sbf(struct sb *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sbf(struct sb *s, const char *fmt, ...)
{
	va_list ap;
	int k;

	va_start(ap, fmt);
	k = vsnprintf(s->n < s->size ? s->p + s->n : NULL,
		      s->n < s->size ? s->size - s->n : 0, fmt, ap);
	va_end(ap);
	if (k > 0)
		s->n += (size_t)k;
}

static const char flag_letters[] = "RWXAD";

/* Flags as letters; @positional gives "RW-" style (plus A, D). */
static void fmt_flags(struct sb *s, uint8_t v, bool positional)
{
	if (v & ~VMS_PROP_MASK) {
		sbf(s, "0x%02x", v);
		return;
	}
	if (positional) {
		for (int i = 0; i < 3; i++)
			sbf(s, "%c", v & (1 << i) ? flag_letters[i] : '-');
		for (int i = 3; i < 5; i++)
			if (v & (1 << i))
				sbf(s, "%c", flag_letters[i]);
		return;
	}
	for (int i = 0; i < 5; i++)
		if (v & (1 << i))
			sbf(s, "%c", flag_letters[i]);
	if (!v)
		sbf(s, "-");
}

static const char *const cache_names[] = { "wb", "wt", "wc", "uc", "wp" };

static void fmt_cache(struct sb *s, uint8_t c)
{
	if (c < 5)
		sbf(s, "%s", cache_names[c]);
	else
		sbf(s, "%u", c);
}

static void fmt_priv(struct sb *s, uint8_t p)
{
	static const char *const names[] = { "none", "user", "global", "user+global" };

	if (p < 4)
		sbf(s, "%s", names[p]);
	else
		sbf(s, "0x%02x", p);
}

/*
 * The text keys, in the order the printer writes them. Each spells one or
 * more fields (enum fld); an op takes the keys of its fields, so the op
 * table alone says which keys an op accepts and requires. Optional keys
 * default to 0 (cache: keep) and are printed only when not.
 */
enum key {
	K_ACC, K_MUT, K_SPACE, K_FRAME, K_LEVEL, K_FLAGS, K_START, K_VA, K_END,
	K_LEN, K_N, K_PATTERN, K_PROP, K_SET, K_CLEAR, K_CACHE, K_PRIV, K__N
};

static const struct {
	const char *name;	/* NULL: the bare words mut and ro */
	uint8_t fields[4];
	bool required;
} keys[K__N] = {
	[K_ACC] = { "acc", { F_ASLOT, F_RSLOT, F_WSLOT, F_LSLOT }, true },
	[K_MUT] = { NULL, { F_MUT }, true },
	[K_SPACE] = { "space", { F_SPACE, F_SPACE1, F_ACTSPACE }, false },
	[K_FRAME] = { "frame", { F_FSLOT }, true },
	[K_LEVEL] = { "level", { F_LEVEL }, true },
	[K_FLAGS] = { "flags", { F_SPFLAGS }, false },
	[K_START] = { "start", { F_A }, true },
	[K_VA] = { "va", { F_JVA, F_AVA }, true },
	[K_END] = { "end", { F_RANGE_END }, true },
	[K_LEN] = { "len", { F_LEN, F_ALEN }, true },
	[K_N] = { "n", { F_IO }, true },
	[K_PATTERN] = { "pattern", { F_PATTERN }, false },
	[K_PROP] = { "prop", { F_PROP }, true },
	[K_SET] = { "set", { F_PROTECT }, false },
	[K_CLEAR] = { "clear", { F_PROTECT }, false },
	[K_CACHE] = { "cache", { F_PROTECT }, false },
	[K_PRIV] = { "priv^", { F_PROTECT }, false },
};

/* The field of op @c that key @k spells, or F_END if @c has no such key. */
static enum fld key_field(unsigned c, int k)
{
	for (int i = 0; i < 4 && keys[k].fields[i]; i++)
		if (has_field(c, keys[k].fields[i]))
			return keys[k].fields[i];
	return F_END;
}

/* The name an op is written with (acc_new: reader_new or writer_new). */
static const char *text_name(const struct vmt_op *op)
{
	if (has_field(op->code, F_WRITER))
		return op->arg ? "writer_new" : "reader_new";
	return op_names[op->code];
}

static void fmt_key(struct sb *s, const struct vmt_op *op, int k, enum fld f)
{
	switch (k) {
	case K_ACC: sbf(s, " acc=%u", op->slot); break;
	case K_MUT: sbf(s, " %s", op->arg ? "mut" : "ro"); break;
	case K_SPACE:
		if (f == F_ACTSPACE ? op->arg : op->space)
			sbf(s, " space=%u", op->space);
		break;
	case K_FRAME: sbf(s, " frame=%u", op->slot); break;
	case K_LEVEL: sbf(s, " level=%u", op->arg); break;
	case K_FLAGS:
		if (op->arg)
			sbf(s, " flags=0x%x", op->arg);
		break;
	case K_START: sbf(s, " start=0x%" PRIx64, op->a); break;
	case K_VA: sbf(s, " va=0x%" PRIx64, op->a); break;
	case K_END: sbf(s, " end=0x%" PRIx64, op->b); break;
	case K_LEN: sbf(s, " len=0x%" PRIx64, f == F_ALEN ? op->b : op->a); break;
	case K_N: sbf(s, " n=%" PRIu64, op->a); break;
	case K_PATTERN:
		if (op->arg)
			sbf(s, " pattern=0x%02x", op->arg);
		break;
	case K_PROP:
		sbf(s, " prop=");
		fmt_flags(s, op->prop.flags, true);
		sbf(s, ",");
		fmt_cache(s, op->prop.cache);
		sbf(s, ",");
		fmt_priv(s, op->prop.priv);
		break;
	case K_SET:
		if (op->pset) {
			sbf(s, " set=");
			fmt_flags(s, op->pset, false);
		}
		break;
	case K_CLEAR:
		if (op->pclr) {
			sbf(s, " clear=");
			fmt_flags(s, op->pclr, false);
		}
		break;
	case K_CACHE:
		if (op->pcache != VMT_CACHE_KEEP) {
			sbf(s, " cache=");
			fmt_cache(s, op->pcache);
		}
		break;
	case K_PRIV:
		if (op->ppriv) {
			sbf(s, " priv^=");
			fmt_priv(s, op->ppriv);
		}
		break;
	}
}

int vmt_format_op(const struct vmt_op *op, char *buf, size_t size)
{
	struct sb s = { buf, size, 0 };

	if (size)
		buf[0] = 0;
	if (op->code >= VMT_OP__COUNT) {
		sbf(&s, "invalid_op_%u", op->code);
		return (int)s.n;
	}
	sbf(&s, "%s", text_name(op));
	for (int k = 0; k < K__N; k++) {
		enum fld f = key_field(op->code, k);

		if (f != F_END)
			fmt_key(&s, op, k, f);
	}
	return (int)s.n;
}

void vmt_print_prog(FILE *f, const struct vmt_prog *p, int mark,
		    const char *note, const char *prefix)
{
	char line[256];

	for (unsigned i = 0; i < p->n; i++) {
		vmt_format_op(&p->ops[i], line, sizeof(line));
		fprintf(f, "%s%s", prefix ? prefix : "", line);
		if ((int)i == mark)
			fprintf(f, "  # <-- %s", note ? note : "here");
		fputc('\n', f);
	}
}

/* ---- text: parsing ----------------------------------------------------- */

static int perr(char *err, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int perr(char *err, size_t n, const char *fmt, ...)
{
	va_list ap;

	if (err && n) {
		va_start(ap, fmt);
		vsnprintf(err, n, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

static bool parse_u64(const char *s, uint64_t *v)
{
	char *end;

	if (!*s || *s == '-' || *s == '+' || isspace((unsigned char)*s))
		return false;
	errno = 0;
	*v = strtoull(s, &end, 0);
	return !errno && !*end;
}

static bool parse_u8(const char *s, uint8_t *v)
{
	uint64_t x;

	if (!parse_u64(s, &x) || x > 255)
		return false;
	*v = (uint8_t)x;
	return true;
}

static bool parse_flags(const char *s, uint8_t *v)
{
	if (isdigit((unsigned char)*s))
		return parse_u8(s, v);
	if (!*s)
		return false;
	*v = 0;
	for (; *s; s++) {
		const char *l = *s ? strchr(flag_letters, *s) : NULL;

		if (*s == '-')
			continue;
		if (!l)
			return false;
		*v |= (uint8_t)(1 << (l - flag_letters));
	}
	return true;
}

static bool parse_cache(const char *s, uint8_t *v)
{
	for (int i = 0; i < 5; i++) {
		if (!strcmp(s, cache_names[i])) {
			*v = (uint8_t)i;
			return true;
		}
	}
	return parse_u8(s, v);
}

static bool parse_priv(const char *s, uint8_t *v)
{
	if (!strcmp(s, "none")) {
		*v = 0;
	} else if (!strcmp(s, "user")) {
		*v = VMS_PRIV_USER;
	} else if (!strcmp(s, "global")) {
		*v = VMS_PRIV_GLOBAL;
	} else if (!strcmp(s, "user+global")) {
		*v = VMS_PRIV_USER | VMS_PRIV_GLOBAL;
	} else {
		return parse_u8(s, v);
	}
	return true;
}

static bool parse_prop(char *s, struct vms_prop *p)
{
	char *c1 = strchr(s, ','), *c2;

	if (!c1)
		return false;
	*c1++ = 0;
	c2 = strchr(c1, ',');
	if (!c2)
		return false;
	*c2++ = 0;
	return parse_flags(s, &p->flags) && parse_cache(c1, &p->cache) &&
	       parse_priv(c2, &p->priv);
}

/* The value of key @k (spelling field @f) into @op; false if bad. */
static bool parse_key(struct vmt_op *op, int k, enum fld f, const char *val)
{
	char pv[64];

	switch (k) {
	case K_SPACE:
		if (f == F_ACTSPACE)
			op->arg = 1;
		return parse_u8(val, &op->space) && op->space < VMT_NR_SPACES;
	case K_FRAME: return parse_u8(val, &op->slot) && op->slot < VMT_NR_FRAMES;
	case K_ACC: return parse_u8(val, &op->slot) && op->slot < VMT_NR_ACCS;
	case K_LEVEL: return parse_u8(val, &op->arg) && op->arg <= 3;
	case K_FLAGS:
	case K_PATTERN: return parse_u8(val, &op->arg);
	case K_START:
	case K_VA: return parse_u64(val, &op->a);
	case K_END: return parse_u64(val, &op->b);
	case K_LEN: return parse_u64(val, f == F_ALEN ? &op->b : &op->a);
	case K_N: return parse_u64(val, &op->a) && op->a <= VMT_MAX_IO;
	case K_PROP:
		if (strlen(val) >= sizeof(pv))
			return false;
		strcpy(pv, val);
		return parse_prop(pv, &op->prop);
	case K_SET: return parse_flags(val, &op->pset);
	case K_CLEAR: return parse_flags(val, &op->pclr);
	case K_CACHE: return parse_cache(val, &op->pcache);
	case K_PRIV: return parse_priv(val, &op->ppriv);
	default: return false;
	}
}

/* The op named @tok (reader_new/writer_new set arg); VMT_OP__COUNT if none. */
static unsigned parse_name(const char *tok, struct vmt_op *op)
{
	unsigned code;

	for (code = 0; code < VMT_OP__COUNT; code++) {
		if (has_field(code, F_WRITER)) {
			if (strcmp(tok, "reader_new") && strcmp(tok, "writer_new"))
				continue;
			op->arg = tok[0] == 'w';
			break;
		}
		if (!strcmp(tok, op_names[code]))
			break;
	}
	return code;
}

int vmt_parse_op(const char *line, struct vmt_op *op, char *err, size_t errlen)
{
	char buf[512], *tok, *save = NULL;
	unsigned code, seen = 0;

	memset(op, 0, sizeof(*op));
	if (strlen(line) >= sizeof(buf))
		return perr(err, errlen, "line too long");
	strcpy(buf, line);
	tok = strchr(buf, '#');
	if (tok)
		*tok = 0;
	tok = strtok_r(buf, " \t\r\n", &save);
	if (!tok)
		return 0;
	code = parse_name(tok, op);
	if (code == VMT_OP__COUNT)
		return perr(err, errlen, "unknown op '%s'", tok);
	op->code = (uint8_t)code;
	if (has_field(code, F_PROTECT))
		op->pcache = VMT_CACHE_KEEP;

	while ((tok = strtok_r(NULL, " \t\r\n", &save))) {
		char *eq = strchr(tok, '=');
		enum fld f = F_END;
		int k;

		if (!eq) {
			if (key_field(code, K_MUT) == F_END || (strcmp(tok, "mut") && strcmp(tok, "ro")))
				return perr(err, errlen, "'%s': expected key=value", tok);
			if (seen & (1u << K_MUT))
				return perr(err, errlen, "mut/ro given twice");
			seen |= 1u << K_MUT;
			op->arg = tok[0] == 'm';
			continue;
		}
		*eq = 0;
		for (k = 0; k < K__N; k++)
			if (keys[k].name && !strcmp(tok, keys[k].name) &&
			    (f = key_field(code, k)) != F_END)
				break;
		if (k == K__N)
			return perr(err, errlen, "%s: unexpected field '%s'", op_names[code], tok);
		if (seen & (1u << k))
			return perr(err, errlen, "field '%s' given twice", tok);
		seen |= 1u << k;
		if (!parse_key(op, k, f, eq + 1))
			return perr(err, errlen, "bad value '%s' for '%s'", eq + 1, tok);
	}
	for (int k = 0; k < K__N; k++) {
		if (!keys[k].required || (seen & (1u << k)) || key_field(code, k) == F_END)
			continue;
		if (!keys[k].name)
			return perr(err, errlen, "%s: missing 'mut' or 'ro'", op_names[code]);
		return perr(err, errlen, "%s: missing field '%s'", text_name(op), keys[k].name);
	}
	if (!op_valid(op))
		return perr(err, errlen, "%s: fields out of range", op_names[code]);
	return 1;
}

int vmt_parse(const char *text, struct vmt_prog *p, int *err_line, char *err, size_t errlen)
{
	const char *s = text;
	int lineno = 0;

	p->n = 0;
	if (err_line)
		*err_line = 0;
	while (*s) {
		const char *nl = strchr(s, '\n');
		size_t len = nl ? (size_t)(nl - s) : strlen(s);
		char line[512];
		struct vmt_op op;
		int rc;

		lineno++;
		if (len >= sizeof(line)) {
			if (err_line)
				*err_line = lineno;
			return perr(err, errlen, "line too long");
		}
		memcpy(line, s, len);
		line[len] = 0;
		rc = vmt_parse_op(line, &op, err, errlen);
		if (rc < 0) {
			if (err_line)
				*err_line = lineno;
			return rc;
		}
		if (rc > 0) {
			if (p->n >= VMT_MAX_OPS) {
				if (err_line)
					*err_line = lineno;
				return perr(err, errlen, "more than %d ops", VMT_MAX_OPS);
			}
			p->ops[p->n++] = op;
		}
		s += len;
		if (*s == '\n')
			s++;
	}
	return 0;
}

void vmt_protect_apply(struct vms_prop *p, void *edit)
{
	const struct vmt_protect_edit *e = edit;

	p->flags = (uint8_t)((p->flags | e->set) & ~e->clr);
	if (e->cache != VMT_CACHE_KEEP)
		p->cache = e->cache;
	p->priv ^= e->priv;
}
