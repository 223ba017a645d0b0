/* SPDX-License-Identifier: MIT */
/*
 * op.c - the op language's table and validity: each op's fields (from
 * ops.def), its name, which values each field may hold, and equality.
 * The binary form is in op_bin.c, the text form in op_text.c, what each
 * op does in step_core.c and step_model.c, the executor in exec.c.
 */
#include <string.h>

#include "fields.h"

/* ---- fields ------------------------------------------------------------ */

const uint8_t vmt_op_fields[VMT_OP__COUNT][VMT_MAXF] = {
#define VMT_OP(code, name, ...) [VMT_OP_##code] = { __VA_ARGS__ },
#include "ops.def"
#undef VMT_OP
};

/* The same rows as sets, for the printer and the parser, which ask a
 * lot: bit f set if the op has field f (up to VMT_MAXF of them). */
#define FBIT(f)	(1u << (f))
#define FSET_(a, b, c, d, e, f, ...) \
	(FBIT(a) | FBIT(b) | FBIT(c) | FBIT(d) | FBIT(e) | FBIT(f))
#define FSET(...) (FSET_(__VA_ARGS__, F_END, F_END, F_END, F_END, F_END, F_END) & ~FBIT(F_END))
_Static_assert(F_BADCALL < 32, "field sets are 32 bits");

static const uint32_t op_field_set[VMT_OP__COUNT] = {
#define VMT_OP(code, name, ...) [VMT_OP_##code] = FSET(__VA_ARGS__),
#include "ops.def"
#undef VMT_OP
};

bool vmt_has_field(unsigned code, enum fld f)
{
	return code < VMT_OP__COUNT && (op_field_set[code] & FBIT(f));
}

static bool has_space(unsigned code)
{
	return vmt_has_field(code, F_SPACE) || vmt_has_field(code, F_SPACE1);
}

static bool has_aslot(unsigned code)
{
	return vmt_has_field(code, F_ASLOT) || vmt_has_field(code, F_RSLOT) ||
	       vmt_has_field(code, F_WSLOT) || vmt_has_field(code, F_LSLOT);
}

/* Ops whose a field is an operand (any of the a-field codecs). */
static bool uses_a(unsigned code)
{
	return vmt_has_field(code, F_A) || vmt_has_field(code, F_JVA) || vmt_has_field(code, F_LEN) ||
	       vmt_has_field(code, F_AVA) || vmt_has_field(code, F_IO) || vmt_has_field(code, F_NTH) ||
	       vmt_has_field(code, F_BYTES);
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

/* ---- validity ---------------------------------------------------------- */

bool vmt_op_valid(const struct vmt_op *op)
{
	unsigned c = op->code;

	if (c >= VMT_OP__COUNT || op->thread >= VMT_MAX_THREADS)
		return false;
	if (!has_space(c) && !vmt_has_field(c, F_ACTSPACE) && op->space)
		return false;
	if (op->space >= VMT_NR_SPACES)
		return false;
	if (vmt_has_field(c, F_FSLOT) ? op->slot >= VMT_NR_FRAMES :
	    has_aslot(c) ? op->slot >= VMT_NR_ACCS : op->slot != 0)
		return false;
	if (vmt_has_field(c, F_MUT) || vmt_has_field(c, F_WRITER) || vmt_has_field(c, F_ACTSPACE)) {
		if (op->arg > 1)
			return false;
	} else if (vmt_has_field(c, F_LEVEL)) {
		if (op->arg > 3)
			return false;
	} else if (vmt_has_field(c, F_SITE)) {
		if (op->arg >= VMS_FAULT_NR)
			return false;
	} else if (vmt_has_field(c, F_CORRUPT)) {
		if (op->arg >= VMS_CORRUPT__COUNT)
			return false;
	} else if (vmt_has_field(c, F_BADCALL)) {
		if (op->arg >= VMT_BADARG__COUNT)
			return false;
	} else if (!vmt_has_field(c, F_SPFLAGS) &&
		   !vmt_has_field(c, F_PATTERN) && op->arg) {
		return false;
	}
	if (vmt_has_field(c, F_ACTSPACE) && !op->arg && op->space)
		return false;
	if (vmt_has_field(c, F_IO) ? op->a > VMT_MAX_IO : !uses_a(c) && op->a)
		return false;
	if (vmt_has_field(c, F_NTH) && (op->a < 1 || op->a > VMT_MAX_NTH))
		return false;
	if (!vmt_has_field(c, F_B) && !vmt_has_field(c, F_RANGE_END) && !vmt_has_field(c, F_ALEN) && op->b)
		return false;
	if (!vmt_has_field(c, F_PROP) && (op->prop.flags || op->prop.cache || op->prop.priv))
		return false;
	if (!vmt_has_field(c, F_PROTECT) && (op->pset || op->pclr || op->pcache || op->ppriv))
		return false;
	return true;
}

static int preempt_cmp(const struct vmt_preempt *x, const struct vmt_preempt *y)
{
	if (x->thread != y->thread)
		return x->thread < y->thread ? -1 : 1;
	return x->nth < y->nth ? -1 : x->nth > y->nth;
}

/* The schedule: sorted keys, each once, naming threads a run can have. */
static bool sched_valid(const struct vmt_prog *p)
{
	if (p->nsched > VMT_MAX_PREEMPTS || (!p->nsched && p->sched_version) ||
	    (p->nsched && !p->sched_version))
		return false;
	for (unsigned i = 0; i < p->nsched; i++) {
		const struct vmt_preempt *e = &p->sched[i];

		if (e->thread >= VMT_SCHED_THREADS || e->next >= VMT_SCHED_THREADS ||
		    (i && preempt_cmp(&p->sched[i - 1], e) >= 0))
			return false;
	}
	return true;
}

/* Ops and schedule in their domains; ops grouped by thread in order. On
 * a bad header or schedule, *@bad_op is p->n. */
bool vmt_prog_valid(const struct vmt_prog *p, unsigned *bad_op)
{
	unsigned bad = p->n;

	if (p->n > VMT_MAX_OPS) {
		if (bad_op)
			*bad_op = VMT_MAX_OPS;
		return false;
	}
	for (unsigned i = 0; i < p->n; i++) {
		const struct vmt_op *op = &p->ops[i];

		if (!vmt_op_valid(op) || op->thread >= vmt_prog_threads(p) ||
		    (i && op->thread < p->ops[i - 1].thread)) {
			bad = i;
			break;
		}
	}
	if (bad == p->n && p->nthreads <= VMT_MAX_THREADS && sched_valid(p) &&
	    vmt_retire_batch_valid(p->retire_batch))
		return true;
	if (bad_op)
		*bad_op = bad;
	return false;
}

bool vmt_op_equal(const struct vmt_op *x, const struct vmt_op *y)
{
	return x->code == y->code && x->space == y->space && x->slot == y->slot &&
	       x->arg == y->arg && x->a == y->a && x->b == y->b &&
	       x->prop.flags == y->prop.flags && x->prop.cache == y->prop.cache &&
	       x->prop.priv == y->prop.priv && x->pset == y->pset &&
	       x->pclr == y->pclr && x->pcache == y->pcache && x->ppriv == y->ppriv &&
	       x->thread == y->thread;
}

bool vmt_prog_equal(const struct vmt_prog *x, const struct vmt_prog *y)
{
	if (x->n != y->n || vmt_prog_threads(x) != vmt_prog_threads(y) ||
	    x->nsched != y->nsched || x->sched_version != y->sched_version ||
	    x->retire_batch != y->retire_batch)
		return false;
	for (unsigned i = 0; i < x->n; i++)
		if (!vmt_op_equal(&x->ops[i], &y->ops[i]))
			return false;
	for (unsigned i = 0; i < x->nsched; i++)
		if (preempt_cmp(&x->sched[i], &y->sched[i]) || x->sched[i].next != y->sched[i].next)
			return false;
	return true;
}

void vmt_prog_normalize(struct vmt_prog *p)
{
	struct vmt_op tmp[VMT_MAX_OPS];
	unsigned k = 0, nt = 1, w = 0;

	for (unsigned i = 0; i < p->n; i++)
		if (p->ops[i].thread + 1u > nt)
			nt = p->ops[i].thread + 1u;
	if (nt > vmt_prog_threads(p))
		p->nthreads = (uint8_t)nt;
	/* Stable regrouping by thread. */
	for (unsigned t = 0; t < vmt_prog_threads(p); t++)
		for (unsigned i = 0; i < p->n; i++)
			if (p->ops[i].thread == t)
				tmp[k++] = p->ops[i];
	memcpy(p->ops, tmp, k * sizeof(tmp[0]));
	/* Preemptions: sorted (insertion: stable, short lists), first of a key kept. */
	for (unsigned i = 1; i < p->nsched; i++) {
		struct vmt_preempt e = p->sched[i];
		unsigned j = i;

		while (j && preempt_cmp(&p->sched[j - 1], &e) > 0) {
			p->sched[j] = p->sched[j - 1];
			j--;
		}
		p->sched[j] = e;
	}
	for (unsigned i = 0; i < p->nsched; i++)
		if (!w || preempt_cmp(&p->sched[w - 1], &p->sched[i]))
			p->sched[w++] = p->sched[i];
	p->nsched = w;
	if (!p->nsched)
		p->sched_version = 0;
	else if (!p->sched_version)
		p->sched_version = VMT_SCHED_VERSION;
}

void vmt_protect_apply(struct vms_prop *p, void *edit)
{
	const struct vmt_protect_edit *e = edit;

	p->flags = (uint8_t)((p->flags | e->set) & ~e->clr);
	if (e->cache != VMT_CACHE_KEEP)
		p->cache = e->cache;
	p->priv ^= e->priv;
}
