/* SPDX-License-Identifier: MIT */
/*
 * simplify.c - simpler versions of an op, for the minimizers (the
 * one-thread one in tools/campaign/minimize.c and the multi-thread one in
 * tools/sched/mt_min.c): each candidate changes one operand toward 0, an
 * aligned or halved address, fewer flag bits, the printer's default, and
 * is kept only if its text is shorter, or as long with a smaller value,
 * so that a loop accepting candidates ends.
 */
#include <string.h>

#include "op.h"

/* Simpler values to try for a 64-bit address or length, simplest first. */
static unsigned addr_candidates(uint64_t v, uint64_t *c)
{
	static const uint64_t aligns[] = { 1ULL << 39, 1ULL << 30, 1ULL << 21, 1ULL << 12 };
	unsigned n = 0;

	c[n++] = 0;
	c[n++] = 1;	/* fail nth=1, the smallest count */
	c[n++] = 0x1000;
	c[n++] = 0x200000;
	for (int i = 0; i < 4; i++)
		c[n++] = v & ~(aligns[i] - 1);
	c[n++] = v / 2 & ~0xfffULL;
	c[n++] = v >> 12 << 12 == v ? v - 0x1000 : v >> 12 << 12;
	c[n++] = v - 1;
	return n;
}

/* One field of an op, as a pointer-free accessor so one loop walks all. */
enum ofield { OF_SPACE, OF_SLOT, OF_ARG, OF_A, OF_B, OF_PFLAGS, OF_PCACHE, OF_PPRIV,
	      OF_PSET, OF_PCLR, OF_PCACHE2, OF_PPRIV2, OF_NR };

static uint64_t fget(const struct vmt_op *o, enum ofield f)
{
	switch (f) {
	case OF_SPACE: return o->space;
	case OF_SLOT: return o->slot;
	case OF_ARG: return o->arg;
	case OF_A: return o->a;
	case OF_B: return o->b;
	case OF_PFLAGS: return o->prop.flags;
	case OF_PCACHE: return o->prop.cache;
	case OF_PPRIV: return o->prop.priv;
	case OF_PSET: return o->pset;
	case OF_PCLR: return o->pclr;
	case OF_PCACHE2: return o->pcache;
	case OF_PPRIV2: return o->ppriv;
	default: return 0;
	}
}

static void fset(struct vmt_op *o, enum ofield f, uint64_t v)
{
	switch (f) {
	case OF_SPACE: o->space = (uint8_t)v; break;
	case OF_SLOT: o->slot = (uint8_t)v; break;
	case OF_ARG: o->arg = (uint8_t)v; break;
	case OF_A: o->a = v; break;
	case OF_B: o->b = v; break;
	case OF_PFLAGS: o->prop.flags = (uint8_t)v; break;
	case OF_PCACHE: o->prop.cache = (uint8_t)v; break;
	case OF_PPRIV: o->prop.priv = (uint8_t)v; break;
	case OF_PSET: o->pset = (uint8_t)v; break;
	case OF_PCLR: o->pclr = (uint8_t)v; break;
	case OF_PCACHE2: o->pcache = (uint8_t)v; break;
	case OF_PPRIV2: o->ppriv = (uint8_t)v; break;
	default: break;
	}
}

static bool op_valid(const struct vmt_op *op)
{
	static struct vmt_prog one;

	one.n = 1;
	one.ops[0] = *op;
	one.ops[0].thread = 0;
	return vmt_prog_valid(&one, NULL);
}

unsigned vmt_op_simpler(const struct vmt_op *op, struct vmt_op *out, unsigned cap)
{
	char buf[256];
	int len0 = vmt_format_op(op, buf, sizeof(buf));
	unsigned n = 0;

	for (int f = 0; f < OF_NR; f++) {
		uint64_t cur = fget(op, f), c[16];
		unsigned nc = 0;

		if (f == OF_A || f == OF_B) {
			nc = addr_candidates(cur, c);
		} else {
			c[nc++] = 0;
			if (f == OF_PCACHE2)
				c[nc++] = VMT_CACHE_KEEP;
			/* Fewer flag bits: drop the highest one. */
			if (cur & (cur - 1)) {
				uint64_t hb = 1;

				while (hb <= cur / 2)
					hb <<= 1;
				c[nc++] = cur & ~hb;
			}
			c[nc++] = 1;
		}
		for (unsigned k = 0; k < nc && n < cap; k++) {
			struct vmt_op cand = *op;
			bool dup = false;
			int len1;

			if (c[k] == cur)
				continue;
			fset(&cand, f, c[k]);
			len1 = vmt_format_op(&cand, buf, sizeof(buf));
			/* Only ever simpler: shorter text, or as long and smaller. */
			if (len1 > len0 || (len1 == len0 && c[k] > cur) || !op_valid(&cand))
				continue;
			for (unsigned j = 0; j < n && !dup; j++)
				dup = vmt_op_equal(&out[j], &cand);
			if (!dup)
				out[n++] = cand;
		}
	}
	return n;
}
