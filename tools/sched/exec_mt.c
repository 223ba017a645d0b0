/* SPDX-License-Identifier: MIT */
/*
 * exec_mt.c - the controlled executor (see exec_mt.h): program threads
 * under vms_sched_run record outcomes with tickets; afterwards the model
 * steps run in ticket order and the racing copies are judged.
 *
 * Tickets. One OS thread runs every controlled thread, one at a time, and
 * a thread changes only at a decision: so "decisions taken so far, then a
 * counter since the last one" orders everything the harness sees in the
 * order it happened. A lock release point is the last instant of its
 * epoch (the thread still holds the lock there): SUB - 1.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <vms/vms.h>
#include "debug.h"
#include "exec_mt.h"
#include "../op/step.h"
#include "../op/reuse.h"
#include "../../model/model.h"

/* The core's run-time checks report here (the poison build). */
extern void (*vms_poison_hook)(enum vms_check check, const char *where);

#define SUB		(1ULL << 20)	/* harness instants between two decisions */
#define WIN_PAGES	20		/* a copy's pages: 64 KiB unaligned + the fault */
#define WIN_TR		8		/* translations kept per page */
#define WIN_IV		64		/* an activation's mapped intervals */

/* One recorded op. */
struct rec {
	struct vmt_outcome o;
	uint64_t t0, t1;		/* its start and end */
	uint64_t ticket;		/* its linearization point */
	uint64_t win_end;		/* racy: the last instant its window covers */
	int op;				/* index in the program, -1 prologue/epilogue */
	size_t pscan0, pscan1;		/* its pages are among pages[pscan0, pscan1) */
	uint64_t va0, want;		/* copies: position before, bytes asked (clipped) */
	uint64_t acc_va, acc_len;	/* activate: the accessor's range */
	int acc_sp;			/* copies, activate: the space they walk */
	bool racy, mutator, faulted;
	bool none;			/* not run: the thread's own state skipped it */
};

/* One page (chunk of a leaf) an accessor copied. */
struct page {
	uint64_t ticket;		/* the moment the bytes moved */
	uint32_t rec;
	uint32_t n;
	uint64_t gid, off;		/* the frame (0: not a live data frame) and offset */
	uint64_t pa;
	uint64_t va;
	size_t data;			/* its bytes in the arena */
	bool write;
};

struct mt_thread {
	struct vmt_thread t;
	int id;
	unsigned first, n;		/* its ops in the program */
	long cur_rec;			/* the record of the op under way, -1 */
	struct {
		uint64_t start, end;
		bool open;
	} shadow[VMT_NR_SPACES];	/* its open cursors, for the mutex oracle */
	struct {
		uint64_t va, len;
	} accr[VMT_NR_ACCS];		/* its accessors' ranges */
};

/* What a racing op saw, state after state (built after the run). */
struct win {
	uint32_t rec;
	int sp;
	unsigned nva;
	uint64_t va[WIN_PAGES];
	struct {
		uint64_t gid, off;
	} tr[WIN_PAGES][WIN_TR];	/* accessible translations seen */
	uint8_t ntr[WIN_PAGES];
	bool trfull[WIN_PAGES], bad[WIN_PAGES];
	bool all_mapped, some_unmapped;	/* activate */
	uint64_t iv[WIN_IV][2];
	unsigned niv;
	bool ivfull;
};

enum { EV_OPEN, EV_PAGE, EV_REC, EV_CLOSE };

struct ev {
	uint64_t key;
	uint32_t idx;
	uint8_t type;
};

static struct {
	const struct vmt_prog *p;
	const struct vmt_mt_opts *o;
	struct vmt_mt_result *r;
	struct vmt_reuse *u;
	struct vmt_shared *sh;
	struct vmt_model_side *ms;
	struct mt_thread th[VMT_MAX_THREADS];
	int nthreads;
	bool claimed[VMT_NR_SPACES];
	uint64_t epoch, sub;

	struct rec *recs;
	size_t nrecs, caprecs;
	struct page *pages;
	size_t npages, cappages;
	uint8_t *bytes;
	size_t nbytes, capbytes;
	struct ev *evs;
	size_t capevs;
	struct win *wins;
	size_t capwins;
	uint8_t *tmp;
	size_t captmp;
	bool oom;
} X;

/* ---- findings ------------------------------------------------------------ */

static void finding(enum vmt_mt_kind kind, int thread, int op, const char *title,
		    const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static void finding(enum vmt_mt_kind kind, int thread, int op, const char *title,
		    const char *fmt, ...)
{
	struct vmt_mt_result *r = X.r;
	va_list ap;

	if (r->kind != VMT_MT_OK)
		return;
	r->kind = kind;
	r->status = 1;
	r->thread = thread;
	r->op = op;
	r->step = thread >= 0 && thread < X.nthreads ? X.th[thread].cur_rec : -1;
	snprintf(r->title, sizeof(r->title), "%s", title);
	va_start(ap, fmt);
	vsnprintf(r->detail, sizeof(r->detail), fmt, ap);
	va_end(ap);
}

/* Which program thread is running (-1: a worker of the core, the host). */
static int self(void)
{
	int s = vms_sched_self();

	return s >= 0 && s < X.nthreads ? s : -1;
}

static void invariant(enum vms_check check, const char *where)
{
	int t = self();
	char title[256];

	/* The check's one name (vms/checks.def) is the title; where it broke
	 * goes into the body, as the other engines do. */
	snprintf(title, sizeof(title), "INVARIANT %s", vms_check_name(check));
	finding(VMT_MT_INVARIANT, t, t >= 0 && X.th[t].cur_rec >= 0 ? X.recs[X.th[t].cur_rec].op : -1,
		title, "%s (in %s), %s", title, where,
		t >= 0 ? "in a program thread" : "in the core's reclaimer");
}

/* ---- growing arrays ------------------------------------------------------- */

static bool reserve(void *pp, size_t *cap, size_t need, size_t size)
{
	void *p;
	size_t c = *cap ? *cap : 64;

	if (need <= *cap)
		return true;
	while (c < need)
		c *= 2;
	memcpy(&p, pp, sizeof(p));
	p = realloc(p, c * size);
	if (!p) {
		X.oom = true;
		return false;
	}
	memcpy(pp, &p, sizeof(p));
	*cap = c;
	return true;
}

/* ---- tickets ---------------------------------------------------------------- */

static uint64_t tick(void)
{
	uint64_t e = vms_sched_now();

	if (e != X.epoch) {
		X.epoch = e;
		X.sub = 0;
	}
	return e * SUB + X.sub++;
}

/* ---- the copy hook ------------------------------------------------------------ */

static void copy_hook(const void *frame, size_t n, bool write)
{
	int s = self();
	struct vms_frame *f;
	struct page *pg;

	if (s < 0 || X.th[s].cur_rec < 0 ||
	    !reserve(&X.pages, &X.cappages, X.npages + 1, sizeof(*X.pages)))
		return;
	pg = &X.pages[X.npages++];
	memset(pg, 0, sizeof(*pg));
	pg->ticket = tick();
	pg->rec = (uint32_t)X.th[s].cur_rec;
	pg->n = (uint32_t)n;
	pg->write = write;
	pg->pa = vms_pool_paddr(X.sh->pool, frame);
	f = pg->pa ? vms_frame_from_paddr(X.sh->pool, pg->pa) : NULL;
	if (f) {
		pg->gid = vmt_frame_gid(X.sh, f);
		pg->off = pg->pa - vms_frame_paddr(f);
	}
}

/* ---- the mutual exclusion shadow ------------------------------------------------ */

static void shadow_enter(struct mt_thread *mt, int sp, uint64_t start, uint64_t end, int op)
{
	for (int u = 0; u < X.nthreads; u++) {
		const typeof(mt->shadow[0]) *o = &X.th[u].shadow[sp];

		if (u == mt->id || !o->open || !(o->start < end && start < o->end))
			continue;
		char title[128];

		/* The check's one title, as stress names the same oracle. */
		snprintf(title, sizeof(title), "ORACLE %s: %s", vms_check_oracle(VMS_CHECK_OVERLAP),
			 vms_check_name(VMS_CHECK_OVERLAP));
		finding(VMT_MT_MUTEX, mt->id, op, title,
			"%s: thread %d opened [%#" PRIx64 ",%#" PRIx64 ") on "
			"space %d while thread %d holds [%#" PRIx64 ",%#" PRIx64 ")", title, mt->id, start,
			end, sp, u, o->start, o->end);
	}
	mt->shadow[sp].start = start;
	mt->shadow[sp].end = end;
	mt->shadow[sp].open = true;
}

/* ---- running ops ----------------------------------------------------------------- */

static int current_slot(void)
{
	struct vms_space *cur = vms_space_current();

	for (int s = 0; cur && s < VMT_NR_SPACES; s++)
		if (X.sh->space[s] == cur)
			return s;
	return cur ? -2 : -1;
}

/* The shared space slot @op looks up (another thread may still have to
 * fill it), or -1: none, or the thread's own state decides. */
static int shared_slot(const struct mt_thread *mt, const struct vmt_op *op)
{
	const struct vmt_thread *t = &mt->t;

	switch (op->code) {
	case VMT_OP_CURSOR_NEW:
	case VMT_OP_SPACE_ACTIVATE:
	case VMT_OP_SPACE_DEACTIVATE:
	case VMT_OP_ACC_NEW:
		return op->space;
	case VMT_OP_SPACE_SWITCH:
		return current_slot() == 0 ? 1 : 0;
	case VMT_OP_ACC_ACTIVATE:
		if (!t->acc[op->slot].r && !t->acc[op->slot].w)
			return -1;
		return op->arg ? op->space : t->acc[op->slot].space;
	default:
		return -1;
	}
}

/* A new record, by index: other threads add theirs (and move the array)
 * while this one's op runs. -1 if out of memory. */
static long new_rec(struct mt_thread *mt, const struct vmt_op *op, int idx)
{
	struct rec *r;

	if (!reserve(&X.recs, &X.caprecs, X.nrecs + 1, sizeof(*X.recs)))
		return -1;
	r = &X.recs[X.nrecs];
	memset(r, 0, sizeof(*r));
	r->op = idx;
	r->o.op = *op;
	r->o.thread = (uint16_t)mt->id;
	r->t0 = tick();
	r->pscan0 = X.npages;
	return (long)X.nrecs++;
}

/* After a copy: its pages' positions and bytes (the thread's buffer is
 * reused by its next op). */
static void keep_pages(struct mt_thread *mt, size_t ri)
{
	struct rec *r = &X.recs[ri];
	uint64_t done = 0;

	for (size_t k = r->pscan0; k < r->pscan1; k++) {
		struct page *pg = &X.pages[k];

		if (pg->rec != ri)
			continue;
		pg->va = r->va0 + done;
		if (!reserve(&X.bytes, &X.capbytes, X.nbytes + pg->n, 1))
			return;
		pg->data = X.nbytes;
		memcpy(X.bytes + X.nbytes, mt->t.io + done, pg->n);
		X.nbytes += pg->n;
		done += pg->n;
	}
}

static void run_op(struct mt_thread *mt, const struct vmt_op *op0, int idx);

/* Before an op runs: false for the ops the executor leaves out (see
 * exec_mt.h); an accessor slot in use is released first, and an open
 * cursor leaves the shadow before its locks go. */
static bool before_op(struct mt_thread *mt, const struct vmt_op *op, int idx)
{
	struct vmt_thread *t = &mt->t;

	switch (op->code) {
	case VMT_OP_CHECK:
	case VMT_OP_SPACE_DESTROY:
	case VMT_OP_POOL_NEW:
	case VMT_OP_CORRUPT:
	case VMT_OP_BADARG:
		return false;
	case VMT_OP_ACC_NEW:
		/* The release is an op of its own: it leaves the registry at
		 * its own ticket, not at the new accessor's. */
		if (t->acc[op->slot].r || t->acc[op->slot].w)
			run_op(mt,
			       &(struct vmt_op){ .code = VMT_OP_ACC_RELEASE,
						 .slot = op->slot },
			       idx);
		break;
	case VMT_OP_CURSOR_NEW:
	case VMT_OP_DROP:
		/* Withdrawn before the locks go. */
		mt->shadow[op->space].open = false;
		break;
	default:
		break;
	}
	return true;
}

/* An op on a shared space no thread has created yet: recorded as
 * skipped, not run. Returns true if so. */
static bool skip_absent(struct mt_thread *mt, const struct vmt_op *op, int idx)
{
	int sp = shared_slot(mt, op);
	struct rec *r;
	long ri;

	if (sp < 0 || X.sh->space[sp])
		return false;
	ri = new_rec(mt, op, idx);
	if (ri >= 0) {
		r = &X.recs[ri];
		r->o.space = (uint8_t)sp;
		r->o.seen = VMT_SEEN_SKIP;
		r->ticket = r->t1 = r->t0;
		r->pscan1 = r->pscan0;
	}
	return true;
}

/* After an op ran: the ticket it takes effect at, and what the oracle
 * needs to know of its kind (racy accessor ops, mutators, the cursor's
 * range for the mutual-exclusion shadow). */
static void after_op(struct mt_thread *mt, const struct vmt_op *op, long ri,
		     int idx)
{
	struct rec *r = &X.recs[ri];
	int64_t rel;

	r->ticket = r->t1;
	switch (op->code) {
	case VMT_OP_ACC_NEW:
	case VMT_OP_ACC_ACTIVATE:
	case VMT_OP_ACC_RELEASE:
		rel = vms_sched_last_release();
		if (rel >= 0 && (uint64_t)rel >= r->t0 / SUB)
			r->ticket = (uint64_t)rel * SUB + SUB - 1;
		if (op->code == VMT_OP_ACC_NEW && !r->o.ret) {
			mt->accr[op->slot].va = op->a;
			mt->accr[op->slot].len = op->b;
		}
		if (op->code == VMT_OP_ACC_ACTIVATE) {
			r->racy = true;
			r->o.seen |= VMT_SEEN_RACY;
			r->o.mapped = r->o.ret != -EFAULT;
		}
		break;
	case VMT_OP_ACC_READ:
	case VMT_OP_ACC_WRITE:
		r->racy = true;
		r->o.seen |= VMT_SEEN_RACY;
		r->o.data = NULL;
		r->faulted = r->want &&
			     (r->o.ret == -EFAULT ||
			      (r->o.ret >= 0 && (uint64_t)r->o.ret < r->want));
		keep_pages(mt, (size_t)ri);
		break;
	case VMT_OP_MAP:
	case VMT_OP_UNMAP:
	case VMT_OP_PROTECT_NEXT:
		r->mutator = true;
		break;
	case VMT_OP_CURSOR_NEW:
		if (!r->o.ret)
			shadow_enter(mt, op->space, op->a, op->b, idx);
		break;
	default:
		break;
	}
}

static void run_op(struct mt_thread *mt, const struct vmt_op *op0, int idx)
{
	struct vmt_op op = *op0;
	struct vmt_thread *t = &mt->t;
	struct vmt_outcome o;
	uint64_t va0 = 0, want = 0;
	struct rec *r;
	long ri;
	bool ran;

	op.thread = (uint8_t)mt->id;
	if (!before_op(mt, &op, idx) || skip_absent(mt, &op, idx))
		return;
	if (op.code == VMT_OP_SPACE_NEW) {
		if (X.sh->space[op.space] || X.claimed[op.space])
			return;
		X.claimed[op.space] = true;
	}
	if (op.code == VMT_OP_ACC_READ || op.code == VMT_OP_ACC_WRITE) {
		uint64_t rem = t->acc[op.slot].r ? vms_reader_remain(t->acc[op.slot].r) :
			       vms_writer_remain(t->acc[op.slot].w);

		va0 = mt->accr[op.slot].va + mt->accr[op.slot].len - rem;
		want = op.a < rem ? op.a : rem;
	}
	ri = new_rec(mt, &op, idx);
	if (ri < 0)
		return;
	mt->cur_rec = ri;
	ran = vmt_step_core(t, &op, &o);
	mt->cur_rec = -1;
	r = &X.recs[ri];
	r->o = o;
	r->va0 = va0;
	r->want = want;
	if (op.code == VMT_OP_ACC_ACTIVATE) {
		r->acc_va = mt->accr[op.slot].va;
		r->acc_len = mt->accr[op.slot].len;
		r->acc_sp = o.space;
	} else if (op.code == VMT_OP_ACC_READ || op.code == VMT_OP_ACC_WRITE) {
		/* The slot may hold an accessor of another space later. */
		r->acc_sp = t->acc[op.slot].space;
	}
	r->t1 = tick();
	r->pscan1 = X.npages;
	if (op.code == VMT_OP_SPACE_NEW)
		X.claimed[op.space] = false;
	if (!ran) {
		/* Its own state skipped it, as in vmt_exec: no outcome. */
		r->none = true;
		return;
	}
	after_op(mt, &op, ri, idx);
}

/* Everything the thread holds goes, as recorded ops. */
static void thread_epilogue(struct mt_thread *mt)
{
	struct vmt_thread *t = &mt->t;
	int cur;

	for (int sp = 0; sp < VMT_NR_SPACES; sp++)
		if (t->cur[sp])
			run_op(mt, &(struct vmt_op){ .code = VMT_OP_DROP, .space = (uint8_t)sp }, -1);
	for (int a = 0; a < VMT_NR_ACCS; a++)
		if (t->acc[a].r || t->acc[a].w)
			run_op(mt, &(struct vmt_op){ .code = VMT_OP_ACC_RELEASE, .slot = (uint8_t)a }, -1);
	for (unsigned i = 0; i < t->nheld; i++) {
		while (t->held[i].handles) {
			struct vmt_op put = { .code = VMT_OP_FRAME_PUT };
			long ri = new_rec(mt, &put, -1);
			long ret;

			t->held[i].handles--;
			ret = vms_frame_put(t->held[i].f);
			if (ri < 0)
				break;
			X.recs[ri].o.frame = t->held[i].gid;
			X.recs[ri].o.ret = ret;
			X.recs[ri].t1 = X.recs[ri].ticket = tick();
			X.recs[ri].pscan1 = X.npages;
		}
	}
	t->nheld = 0;
	for (int s = 0; s < VMT_NR_FRAMES; s++)
		t->fslot[s] = -1;
	/* The thread ends with its space active, and the core's thread end
	 * lets it go (sched.c: vms_space_thread_exit, with the scheduling
	 * points of a deactivate). For the model, the deactivate it makes:
	 * the end returns nothing, so the record says what it must do (0,
	 * no space current), and the teardown checks what it did (a space
	 * left active fails its destroy: TEARDOWN). Nothing a thread runs
	 * sees another's activation: the model may take it here. */
	cur = current_slot();
	if (cur >= 0) {
		struct vmt_op op = { .code = VMT_OP_SPACE_DEACTIVATE,
				     .space = (uint8_t)cur,
				     .thread = (uint8_t)mt->id };
		long ri = new_rec(mt, &op, -1);

		if (ri >= 0) {
			struct rec *r = &X.recs[ri];

			r->o.space = (uint8_t)cur;
			r->o.current = -1;
			r->t1 = r->ticket = r->t0;
			r->pscan1 = X.npages;
		}
	}
}

/* VMT_MT_PERTURB (tests only): every other run, thread 0 stops at one
 * more point, as an executor with uncontrolled nondeterminism would. */
static bool perturbed(void)
{
	static int on = -1;
	static unsigned runs;

	if (on < 0)
		on = getenv("VMT_MT_PERTURB") != NULL;
	return on && runs++ % 2;
}

static void thread_main(void *arg)
{
	struct mt_thread *mt = arg;

	if (mt->id == 0 && perturbed())
		VMS_SCHED_POINT(VMS_SP_USER);

	/* Every thread starts with space 0 active, as vmt_exec's does. */
	run_op(mt, &(struct vmt_op){ .code = VMT_OP_SPACE_ACTIVATE }, -1);
	for (unsigned i = mt->first; i < mt->first + mt->n; i++)
		run_op(mt, &X.p->ops[i], (int)i);
	thread_epilogue(mt);
}

/* ---- judging the run ------------------------------------------------------------- */

static const char *op_text(const struct rec *r, char *buf, size_t n)
{
	vmt_format_op(&r->o.op, buf, n);
	return buf;
}

static void diverge(const struct rec *r, const char *what, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void diverge(const struct rec *r, const char *what, const char *fmt, ...)
{
	char why[320], title[256], line[160];
	va_list ap;

	if (X.r->kind != VMT_MT_OK)
		return;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	snprintf(title, sizeof(title), "DIVERGENCE %s: %s", what, why);
	if (r->op >= 0)
		finding(VMT_MT_DIVERGE, r->o.thread, r->op, title, "DIVERGENCE thread %u op#%d %s: %s",
			r->o.thread, r->op, op_text(r, line, sizeof(line)), why);
	else
		finding(VMT_MT_DIVERGE, r->o.thread, r->op, title, "DIVERGENCE thread %u, its own "
			"%s at its start or end: %s", r->o.thread, op_text(r, line, sizeof(line)), why);
	X.r->step = r - X.recs;
}

static int ev_cmp(const void *a, const void *b)
{
	const struct ev *x = a, *y = b;

	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return x->type - y->type;
}

/* The window of a racing op ends with every mutator of its space that
 * had started by its end. */
static uint64_t window_end(const struct rec *r)
{
	uint64_t end = r->t1;

	for (size_t i = 0; i < X.nrecs; i++) {
		const struct rec *m = &X.recs[i];

		if (m->mutator && m->o.space == r->o.space && m->t0 < r->t1 && m->t1 > end)
			end = m->t1;
	}
	return end;
}

static void win_open(struct win *w, size_t ri)
{
	const struct rec *r = &X.recs[ri];

	memset(w, 0, sizeof(*w));
	w->rec = (uint32_t)ri;
	w->sp = r->acc_sp;
	if (r->o.op.code == VMT_OP_ACC_ACTIVATE)
		return;
	for (size_t k = r->pscan0; k < r->pscan1 && w->nva < WIN_PAGES - 1; k++)
		if (X.pages[k].rec == ri)
			w->va[w->nva++] = X.pages[k].va;
	if (r->faulted) {
		uint64_t done = r->o.ret > 0 ? (uint64_t)r->o.ret : 0;

		w->va[w->nva++] = r->va0 + done;
	}
}

static void iv_add(struct win *w, uint64_t lo, uint64_t hi)
{
	unsigned i = 0, j;

	/* Sorted, disjoint, merged on insertion. */
	while (i < w->niv && w->iv[i][1] < lo)
		i++;
	j = i;
	while (j < w->niv && w->iv[j][0] <= hi) {
		lo = lo < w->iv[j][0] ? lo : w->iv[j][0];
		hi = hi > w->iv[j][1] ? hi : w->iv[j][1];
		j++;
	}
	if (i == j && w->niv == WIN_IV) {
		w->ivfull = true;
		return;
	}
	memmove(&w->iv[i + 1], &w->iv[j], (w->niv - j) * sizeof(w->iv[0]));
	w->niv -= j - i;
	w->niv++;
	w->iv[i][0] = lo;
	w->iv[i][1] = hi;
}

/* One more state of the tree, as the racing op @w may have seen it. */
static void win_observe(struct win *w)
{
	const struct rec *r = &X.recs[w->rec];
	const struct vmt_model *m = X.ms->m;
	bool write = r->o.op.code == VMT_OP_ACC_WRITE;

	if (!vmt_model_space_live(m, w->sp))
		return;
	if (r->o.op.code == VMT_OP_ACC_ACTIVATE) {
		uint64_t lo = r->acc_va & ~(uint64_t)(VMS_PAGE_SIZE - 1), hi = r->acc_va + r->acc_len;
		size_t n = vmt_model_nr_leaves(m, w->sp);

		if (vmt_model_range_mapped(m, w->sp, r->acc_va, r->acc_len))
			w->all_mapped = true;
		else
			w->some_unmapped = true;
		for (size_t i = 0; i < n && !w->all_mapped; i++) {
			const struct vmt_mleaf *l = vmt_model_leaf(m, w->sp, i);
			uint64_t e = l->va + vms_page_size(l->level);

			if (l->va < hi && lo < e)
				iv_add(w, l->va > lo ? l->va : lo, e < hi ? e : hi);
		}
		return;
	}
	for (unsigned k = 0; k < w->nva; k++) {
		const struct vmt_mleaf *l = vmt_model_lookup(m, w->sp, w->va[k]);
		uint64_t gid, off;
		unsigned j;

		if (!l || !(l->prop.flags & VMS_PROP_R) || (write && !(l->prop.flags & VMS_PROP_W))) {
			w->bad[k] = true;
			continue;
		}
		gid = vmt_model_side_gid(X.ms, l->frame);
		off = l->off + (w->va[k] - l->va);
		for (j = 0; j < w->ntr[k]; j++)
			if (w->tr[k][j].gid == gid && w->tr[k][j].off == off)
				break;
		if (j < w->ntr[k])
			continue;
		if (w->ntr[k] == WIN_TR) {
			w->trfull[k] = true;
			continue;
		}
		w->tr[k][w->ntr[k]].gid = gid;
		w->tr[k][w->ntr[k]++].off = off;
	}
}

/* The racing op @w has seen every state it could have: judge it. */
static void win_close(struct win *w)
{
	const struct rec *r = &X.recs[w->rec];
	const char *name = vmt_op_name(r->o.op.code);
	unsigned k = 0;

	if (r->o.op.code == VMT_OP_ACC_ACTIVATE) {
		uint64_t lo = r->acc_va & ~(uint64_t)(VMS_PAGE_SIZE - 1), hi = r->acc_va + r->acc_len;

		if (r->o.ret == -EFAULT && !w->some_unmapped)
			diverge(r, name, "core=-EFAULT, but every state during the call mapped "
				"the whole range [%#" PRIx64 ",%#" PRIx64 ")", r->acc_va, hi);
		if (r->o.ret == 0 && !w->all_mapped && !w->ivfull &&
		    !(w->niv == 1 && w->iv[0][0] <= lo && w->iv[0][1] >= hi))
			diverge(r, name, "core=0, but no state during the call mapped some page "
				"of [%#" PRIx64 ",%#" PRIx64 ")", r->acc_va, hi);
		return;
	}
	for (size_t i = r->pscan0; i < r->pscan1 && k < WIN_PAGES - 1; i++) {
		const struct page *pg = &X.pages[i];
		unsigned j;

		if (pg->rec != w->rec)
			continue;
		for (j = 0; j < w->ntr[k]; j++)
			if (w->tr[k][j].gid == pg->gid && w->tr[k][j].off == pg->off)
				break;
		if (j == w->ntr[k] && !w->trfull[k]) {
			diverge(r, name, "the page at %#" PRIx64 " came from %s %#" PRIx64 ", which no "
				"state during the call mapped there%s", pg->va,
				pg->gid ? "frame offset" : "a freed frame at pa", pg->gid ? pg->off : pg->pa,
				w->ntr[k] ? "" : " with that permission");
			return;
		}
		k++;
	}
	if (r->faulted && !w->bad[k])
		diverge(r, name, "faulted at %#" PRIx64 ", which every state during the call "
			"mapped with the permission", w->va[k]);
}

/* A page's bytes, when they moved: written into the model frame, or
 * compared with it. */
static void page_event(const struct page *pg)
{
	const struct rec *r = &X.recs[pg->rec];
	int id = vmt_model_side_id(X.ms, pg->gid);
	const uint8_t *core = X.bytes + pg->data;
	uint8_t *model;
	size_t k = 0;

	if (!pg->gid || id < 0) {
		diverge(r, vmt_op_name(r->o.op.code), "the page at %#" PRIx64 " %s a frame that "
			"is not live (pa %#" PRIx64 ")", pg->va, pg->write ? "went to" : "came from",
			pg->pa);
		return;
	}
	if (pg->write) {
		vmt_model_frame_write(X.ms->m, id, pg->off, core, pg->n);
		return;
	}
	if (!reserve(&X.tmp, &X.captmp, pg->n, 1))
		return;
	model = X.tmp;
	vmt_model_frame_read(X.ms->m, id, pg->off, model, pg->n);
	if (!memcmp(core, model, pg->n))
		return;
	while (core[k] == model[k])
		k++;
	diverge(r, "read", "read bytes differ at offset %zu of the page at %#" PRIx64
		": core=0x%02x model=0x%02x", k, pg->va, core[k], model[k]);
}

static void log_rec(const struct rec *r, bool ok)
{
	char line[160], e[32];

	if (!X.o->log)
		return;
	fprintf(X.o->log, "  t%u %6s %s   = %s%s\n", r->o.thread,
		r->op >= 0 ? "" : "(own)", op_text(r, line, sizeof(line)),
		r->o.seen & VMT_SEEN_SKIP ? "(space slot empty)" : vmt_errname(r->o.ret, e, sizeof(e)),
		ok ? "" : "   <-- DIVERGENCE");
}

/* The model steps in ticket order, the copies and the racing ops. */
static void judge(void)
{
	size_t nev = 0, nwin = 0, *open = NULL, nopen = 0;
	char why[256];

	if (!reserve(&X.evs, &X.capevs, 3 * X.nrecs + X.npages + 1, sizeof(*X.evs)) ||
	    !reserve(&X.wins, &X.capwins, X.nrecs + 1, sizeof(*X.wins)) ||
	    !(open = malloc((X.nrecs + 1) * sizeof(*open))))
		return;
	for (size_t i = 0; i < X.nrecs; i++) {
		struct rec *r = &X.recs[i];

		if (r->none)
			continue;
		X.evs[nev++] = (struct ev){ r->ticket, (uint32_t)i, EV_REC };
		if (!r->racy)
			continue;
		r->win_end = window_end(r);
		X.evs[nev++] = (struct ev){ r->t0, (uint32_t)i, EV_OPEN };
		X.evs[nev++] = (struct ev){ r->win_end, (uint32_t)i, EV_CLOSE };
	}
	for (size_t i = 0; i < X.npages; i++)
		X.evs[nev++] = (struct ev){ X.pages[i].ticket, (uint32_t)i, EV_PAGE };
	qsort(X.evs, nev, sizeof(*X.evs), ev_cmp);
	/* Windows by record: a record has at most one. */
	for (size_t i = 0; i < nev && X.r->kind == VMT_MT_OK; i++) {
		const struct ev *e = &X.evs[i];
		struct rec *r = e->type == EV_PAGE ? NULL : &X.recs[e->idx];

		switch (e->type) {
		case EV_OPEN:
			win_open(&X.wins[nwin], e->idx);
			win_observe(&X.wins[nwin]);
			open[nopen++] = nwin++;
			break;
		case EV_PAGE:
			page_event(&X.pages[e->idx]);
			break;
		case EV_REC: {
			bool ok = vmt_step_model(X.ms, &r->o, why, sizeof(why));

			log_rec(r, ok);
			if (!ok)
				diverge(r, vmt_op_name(r->o.op.code), "%s", why);
			X.r->records++;
			for (size_t k = 0; k < nopen; k++)
				win_observe(&X.wins[open[k]]);
			break;
		}
		case EV_CLOSE:
			for (size_t k = 0; k < nopen; k++) {
				if (X.wins[open[k]].rec != e->idx)
					continue;
				win_close(&X.wins[open[k]]);
				open[k] = open[--nopen];
				break;
			}
			break;
		}
	}
	X.r->pages = (unsigned)X.npages;
	free(open);
}

/* ---- a run --------------------------------------------------------------------------- */

/* What an abandoned thread holds stays reachable: a leak on purpose. */
static void keep_held(void *held)
{
	static void **kept;
	static size_t nkept, capkept;

	if (held && reserve(&kept, &capkept, nkept + 1, sizeof(*kept)))
		kept[nkept++] = held;
}

/* A run that did not end abandons its threads where they stand: the
 * cursors and accessors they hold stay reachable, a few pointers a
 * thread (the pool's memory goes back: vmt_reuse_abandon). */
static void abandon_threads(void)
{
	for (int i = 0; i < X.nthreads; i++) {
		struct vmt_thread *t = &X.th[i].t;

		for (int sp = 0; sp < VMT_NR_SPACES; sp++)
			keep_held(t->cur[sp]);
		for (int a = 0; a < VMT_NR_ACCS; a++) {
			keep_held(t->acc[a].r);
			keep_held(t->acc[a].w);
		}
		vmt_thread_fini(t);
	}
}

static void reset_state(void)
{
	X.nrecs = X.npages = X.nbytes = 0;
	X.epoch = ~0ULL;
	X.sub = 0;
	memset(X.claimed, 0, sizeof(X.claimed));
	X.oom = false;
}

/* Space 0, made by the host before the threads start. */
static bool prologue(struct vmt_mt_result *r)
{
	struct vmt_thread host;
	struct vmt_outcome o;
	char why[256];
	bool ok;

	vmt_thread_init(&host, X.sh, 0, false);
	ok = vmt_step_core(&host, &(struct vmt_op){ .code = VMT_OP_SPACE_NEW }, &o) &&
	     vmt_step_model(X.ms, &o, why, sizeof(why)) && X.sh->space[0];
	vmt_thread_fini(&host);
	if (!ok) {
		r->status = -ENOMEM;
		snprintf(r->title, sizeof(r->title), "setup: space 0 could not be made");
	}
	return ok;
}

static void deadlock_title(const struct vms_sched_result *sr)
{
	char buf[400], title[256];
	const char *p;

	vms_sched_format(sr, buf, sizeof(buf));
	/* "deadlock after 123 decisions, wait-for cycle: ..." -> without the count */
	p = strchr(buf, ',');
	if (!p || p > strchr(buf, ':'))
		p = strchr(buf, ':');
	snprintf(title, sizeof(title), "DEADLOCK%s", p ? p + 1 : "");
	finding(VMT_MT_DEADLOCK, -1, -1, title, "%s", buf);
}

/* The pool, the model and space 0; false with r->status set. */
static bool setup(size_t pool)
{
	struct vms_pool_stats st;
	int rc, want;

	reset_state();
	X.u = vmt_reuse_get(pool, &rc);
	if (!X.u) {
		X.r->status = -ENOMEM;
		snprintf(X.r->title, sizeof(X.r->title), "setup: vms_pool_new(%zu): %d", pool, rc);
		return false;
	}
	X.sh = &X.u->sh;
	X.ms = &X.u->ms;
	X.ms->per_thread = true;
	/* The program's retire batch, 1 unless it sets one: with 1 every
	 * drop that retired something kicks the reclaimer, a thread of the
	 * run, so reclaims interleave with the readers; a larger one keeps
	 * partly filled batches with the threads, handed over when they
	 * fill, at a quiesce, or at the thread's end (vms_thread_leave), as
	 * in production. Only when frames are released changes: the model's
	 * check points all follow a quiesce, which takes every thread's
	 * batch (vmt_exec_finish; the may-run-out bound of -ENOMEM counts
	 * released frames until a quiesce point whatever the batch). */
	_Static_assert(VMT_MAX_RETIRE_BATCH == VMS_RETIRE_BATCH,
		       "op.h's bound is libvms's batch");
	_Static_assert(VMT_BAD_RETIRE_BATCH == VMS_RETIRE_BATCH_MAX + 1,
		       "op.h's bad batch is one libvms refuses");
	/* A batch out of range: refused, and the pool keeps its batch (the
	 * reused pool's, vmt_reuse_get); the run has the default. */
	rc = vms_pool_set_retire_batch(
		X.sh->pool, X.p->retire_batch ? X.p->retire_batch : 1);
	want = X.p->retire_batch > VMT_MAX_RETIRE_BATCH ? -EINVAL : 0;
	if (rc != want) {
		char title[128];

		snprintf(
			title, sizeof(title),
			"DIVERGENCE retire batch: vms_pool_set_retire_batch returned %d, want %d",
			rc, want);
		finding(VMT_MT_DIVERGE, -1, -1, title, "%s (retire batch %u)",
			title, X.p->retire_batch);
	}
	if (rc)
		vms_pool_set_retire_batch(X.sh->pool, 1);
	vms_pool_set_reclaim_inline(X.sh->pool, false);
	if (!vms_pool_stats(X.sh->pool, &st))
		vmt_model_set_pool(X.ms->m, st.total_frames, ((uint64_t)pool + (2ULL << 20) - 1) >> 21);
	if (prologue(X.r))
		return true;
	X.ms->per_thread = false;
	vmt_reuse_abandon(X.u);
	return false;
}

/* The program's threads, and the policy: the caller's or the replay of
 * the program's schedule. */
static void threads(struct vms_sched_opts *so, struct vmt_replay *rep)
{
	const struct vmt_prog *p = X.p;

	X.nthreads = (int)vmt_prog_threads(p);
	so->nr_threads = X.nthreads;
	for (int i = 0, k = 0; i < X.nthreads; i++) {
		struct mt_thread *mt = &X.th[i];

		vmt_thread_init(&mt->t, X.sh, (uint16_t)i, false);
		mt->id = i;
		mt->cur_rec = -1;
		memset(mt->shadow, 0, sizeof(mt->shadow));
		memset(mt->accr, 0, sizeof(mt->accr));
		mt->first = (unsigned)k;
		while ((unsigned)k < p->n && p->ops[k].thread == i)
			k++;
		mt->n = (unsigned)k - mt->first;
		so->thread[i].fn = thread_main;
		so->thread[i].arg = mt;
	}
	if (X.o->policy) {
		so->policy = X.o->policy;
		so->policy_arg = X.o->policy_arg;
	} else {
		vmt_replay_init(rep, p->sched, p->nsched);
		so->policy = vmt_replay_choose;
		so->policy_arg = rep;
	}
	so->max_steps = X.o->max_steps ? X.o->max_steps : VMT_MT_STEPS_DEFAULT;
	so->trace = X.o->trace;
	so->trace_cap = X.o->trace_cap;
}

/*
 * The deadlock cursor.h documents: within one space cursors cannot
 * deadlock (the lock order is global), so a cycle of node-lock waits
 * among threads opening cursors needs a thread that holds a cursor on
 * one space while it opens one on the other: the program took cursors
 * in opposite orders. True if every thread of the cycle is opening a
 * cursor and one of them holds a cursor on another space.
 */
static bool program_deadlock(const struct vms_sched_result *sr)
{
	bool across = false;

	if (!sr->cycle || !sr->nr_waits)
		return false;
	for (int i = 0; i < sr->nr_waits; i++) {
		int t = sr->waits[i].thread;
		const struct mt_thread *mt = t >= 0 && t < X.nthreads ? &X.th[t] : NULL;
		const struct rec *r = mt && mt->cur_rec >= 0 ? &X.recs[mt->cur_rec] : NULL;

		if (!r || r->o.op.code != VMT_OP_CURSOR_NEW ||
		    sr->waits[i].kind != VMS_WAIT_NODE_LOCK)
			return false;
		for (int sp = 0; sp < VMT_NR_SPACES; sp++)
			across |= sp != r->o.op.space && mt->t.cur[sp];
	}
	return across;
}

/* The ops as they ran, for a report (vmt_mt_opts.steps). */
static void keep_steps(void)
{
	const struct vmt_mt_opts *o = X.o;

	X.r->nsteps = X.nrecs;
	for (size_t i = 0; o->steps && i < X.nrecs && i < o->steps_cap; i++) {
		const struct rec *r = &X.recs[i];
		bool unfinished = !r->t1 && !r->none && !(r->o.seen & VMT_SEEN_SKIP);

		o->steps[i] = (struct vmt_mt_step){
			.op = r->o.op, .index = r->op, .thread = (uint8_t)r->o.thread,
			.skipped = !!(r->o.seen & VMT_SEEN_SKIP) || r->none,
			.unfinished = unfinished, .d0 = r->t0 / SUB,
			.d1 = unfinished ? r->t0 / SUB : r->t1 / SUB, .ret = r->o.ret,
		};
	}
}

/* How the run ended; true if its threads all ended. */
static bool verdict(int rc)
{
	struct vmt_mt_result *r = X.r;
	char buf[256];

	if (rc == -ENOMEM)
		/* No stack for a thread (scheduler.h): nothing ran, so no
		 * verdict on the core; the teardown checks what the
		 * prologue made and gives it back. */
		return true;
	if (rc) {
		r->status = rc;
		snprintf(r->title, sizeof(r->title), "vms_sched_run: %d", rc);
		return false;
	}
	if (r->sched.verdict == VMS_SCHED_DEADLOCK && program_deadlock(&r->sched)) {
		r->program_deadlock = true;
		snprintf(r->title, sizeof(r->title), "the program's own deadlock: cursors on two "
			 "spaces taken in opposite orders (cursor.h)");
		/* The cycle it was judged by: who waits for which lock, where. */
		vms_sched_format(&r->sched, r->detail, sizeof(r->detail));
	} else if (r->sched.verdict == VMS_SCHED_DEADLOCK) {
		deadlock_title(&r->sched);
	} else if (r->sched.verdict != VMS_SCHED_DONE) {
		vms_sched_format(&r->sched, buf, sizeof(buf));
		finding(VMT_MT_BUDGET, -1, -1, r->sched.verdict == VMS_SCHED_BUDGET ?
			"BUDGET step budget exhausted (a livelock or a spin)" :
			"BUDGET the policy chose a thread that cannot run", "%s", buf);
	}
	return r->sched.verdict == VMS_SCHED_DONE;
}

/* The end: the full check and the teardown, or, if the core cannot be
 * trusted with its pool any more, nothing but keeping it. */
static void finish(bool ended)
{
	struct vmt_mt_result *r = X.r;
	struct vmt_result er;
	int rc;

	if (X.oom && r->kind == VMT_MT_OK) {
		r->status = -ENOMEM;
		snprintf(r->title, sizeof(r->title), "out of memory");
	}
	/* Threads stand where they stopped; or the core's checks found
	 * memory used after it was freed, or two threads in one range. */
	if (!ended || X.oom || r->kind == VMT_MT_INVARIANT || r->kind == VMT_MT_MUTEX) {
		abandon_threads();
		vms_poison_hook = NULL;
		X.ms->per_thread = false;
		vmt_reuse_abandon(X.u);
		return;
	}
	for (int i = 0; i < X.nthreads; i++)
		vmt_thread_fini(&X.th[i].t);
	/* Also gives back what is left after a divergence. */
	if (vmt_exec_finish(X.sh, X.ms, NULL, &er))
		finding(VMT_MT_DIVERGE, -1, -1, er.sig, "%s", er.sig);
	vms_poison_hook = NULL;
	X.ms->per_thread = false;
	rc = vmt_reuse_put(X.u);
	if (rc && r->kind == VMT_MT_OK) {
		char title[128];

		/* The leak oracle's one title, as the sequential executor's. */
		snprintf(title, sizeof(title), "ORACLE %s: %s", vms_check_oracle(VMS_CHECK_LEAK),
			 vms_check_name(VMS_CHECK_LEAK));
		finding(VMT_MT_DIVERGE, -1, -1, title, "%s: vms_pool_reset = %d", title, rc);
	}
}

int vmt_exec_mt(const struct vmt_prog *p, const struct vmt_mt_opts *o, struct vmt_mt_result *r)
{
	static const struct vmt_mt_opts none;
	struct vms_sched_opts so = { 0 };
	struct vmt_replay rep;
	unsigned bad;
	bool ended;
	int rc;

	memset(r, 0, sizeof(*r));
	r->thread = r->op = -1;
	r->step = -1;
	if (!vmt_prog_valid(p, &bad)) {
		r->status = -EINVAL;
		snprintf(r->title, sizeof(r->title), "invalid program (op#%u)", bad);
		return r->status;
	}
	X.p = p;
	X.o = o ? o : &none;
	X.r = r;
	if (!setup(o && o->pool_bytes ? o->pool_bytes : VMT_MT_POOL_DEFAULT))
		return r->status;
	threads(&so, &rep);
	vms_poison_hook = invariant;
	vms_copy_hook = copy_hook;
	rc = vms_sched_run(&so, &r->sched);
	vms_copy_hook = NULL;
	ended = verdict(rc);
	if (ended && !rc && r->kind == VMT_MT_OK && !X.oom)
		judge();
	keep_steps();
	finish(ended);
	return r->status;
}
