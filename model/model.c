/* SPDX-License-Identifier: MIT */
/*
 * model.c - the sequential reference model of libvms. See model.h.
 *
 * Every function first checks its arguments in the order the public
 * headers list the errors, then applies the change to a plain data
 * structure. No tree: a space is a sorted array of leaves.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"

/* space.h's flags, restated so the model needs only the types header
 * (the executor asserts they agree). */
#define VMT_M_SHARED_READERS	0x1u
#define VMT_M_FLAGS_MASK	0x1u

#define K4	VMS_PAGE_SIZE
#define M2	(VMS_PAGE_SIZE << 9)

struct mframe {
	bool live;
	int level;
	uint64_t handles;	/* caller handles */
	uint64_t ptes;		/* leaves mapping it, over all spaces */
	uint8_t **pages;	/* one 4 KiB buffer per page, NULL = zeros */
	uint64_t npages;
	/* pages[] is NULL outside [lo, hi): most pages of a 2 MiB frame are
	 * never written, and the sweeps and the reset skip them. */
	uint64_t lo, hi;
};

struct mcursor {
	bool open, mut;
	uint64_t start, end, va;
};

struct mspace {
	bool live;
	unsigned flags;
	uint32_t incarnation;	/* tells nodes of a destroyed space from a new one's */
	struct vmt_mleaf *leaves;
	size_t n, cap;
	struct mcursor cur[VMT_MODEL_THREADS];	/* each thread's cursor on the space */
};

struct macc {
	bool used, writer, active;
	int space;
	uint64_t va, len, pos;
};

struct vmt_model {
	struct mframe *frames;
	int nframes;
	size_t capframes;
	struct mspace spaces[VMT_MODEL_SPACES];
	struct macc accs[VMT_MODEL_ACCS];
	int current[VMT_MODEL_THREADS];	/* each thread's active space, -1 none */
	int thread;			/* whose call this is (vmt_model_set_thread) */

	/* -ENOMEM plausibility (see model.h); fail_force: an injected
	 * fault, which fails the call even where the model sees no
	 * allocation (vmt_model_fail_next_call) */
	bool fail_alloc, fail_force;
	/* The rule behind the last refusal (see vmt_model_why). */
	const char *why;
	uint64_t total_frames, nr_chunks;
	uint64_t allocs_4k;		/* 4 KiB data frames ever allocated */
	uint64_t dead_2m;		/* 2 MiB frames released since the last quiesce point */
	uint64_t roots;			/* root nodes ever allocated */
	uint64_t *nodes;		/* keys of page-table nodes that may have existed */
	size_t nnodes, capnodes;
	/* Frames that lost their last handle or leaf in the current call:
	 * reap() looks at these only, not at every frame. */
	int *doomed;
	size_t ndoomed, capdoomed;
	uint32_t incarnations;
};

/* The rules' names: the VMT_RULE rows of the one table of checks, which
 * the triage titles refusals by. */
#define VMT_RULE(id, name) static const char rule_##id[] = name;
#include <vms/checks.def>
#undef VMT_RULE
#define RULE(id) rule_##id

/* Refuse with @err because of @rule: the rule names the refusal in
 * divergence reports, whichever op ran into it. */
static long refuse(struct vmt_model *m, long err, const char *rule)
{
	m->why = rule;
	m->fail_alloc = false;
	return err;
}

const char *vmt_model_why(struct vmt_model *m)
{
	const char *w = m->why;

	m->why = NULL;
	return w;
}

static void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n);

	if (!q) {
		fprintf(stderr, "vmt model: out of memory\n");
		abort();
	}
	return q;
}

/*
 * Make room for @need elements of @size in the array *@pp of capacity
 * *@cap. Called whether or not it has to grow: a model kept between fuzz
 * inputs has grown as far as the inputs before needed, and a fuzzer would
 * see a growth branch in the caller as unstable coverage (this function
 * is left out of coverage: fuzz/nocov.txt).
 */
__attribute__((noinline)) static void array_reserve(void *pp, size_t *cap, size_t need,
						     size_t size)
{
	void *p;

	if (need <= *cap)
		return;
	while (need > *cap)
		*cap = *cap ? 2 * *cap : 64;
	/* *pp is a pointer to some element type: copied, not aliased. */
	memcpy(&p, pp, sizeof(p));
	p = xrealloc(p, *cap * size);
	memcpy(pp, &p, sizeof(p));
}

static uint64_t leaf_size(const struct vmt_mleaf *l)
{
	return vms_page_size(l->level);
}

static uint64_t leaf_end(const struct vmt_mleaf *l)
{
	return l->va + leaf_size(l);
}

/* ---- model construction ------------------------------------------------ */

/* The initial state, over a zeroed struct. */
static void model_init(struct vmt_model *m)
{
	for (int t = 0; t < VMT_MODEL_THREADS; t++)
		m->current[t] = -1;
	/* Large enough that nothing is ever judged exhaustible by accident. */
	m->nr_chunks = UINT64_MAX / 2;
	m->total_frames = UINT64_MAX / 2;
}

struct vmt_model *vmt_model_new(void)
{
	struct vmt_model *m = calloc(1, sizeof(*m));

	if (m)
		model_init(m);
	return m;
}

static void frame_free_pages(struct mframe *f)
{
	if (!f->pages)
		return;
	for (uint64_t i = f->lo; i < f->hi; i++)
		free(f->pages[i]);
	free(f->pages);
	f->pages = NULL;
	f->lo = f->hi = 0;
}

void vmt_model_free(struct vmt_model *m)
{
	if (!m)
		return;
	for (int i = 0; i < m->nframes; i++)
		frame_free_pages(&m->frames[i]);
	free(m->frames);
	for (int s = 0; s < VMT_MODEL_SPACES; s++)
		free(m->spaces[s].leaves);
	free(m->nodes);
	free(m->doomed);
	free(m);
}

void vmt_model_reset(struct vmt_model *m)
{
	struct vmt_model keep = *m;

	for (int i = 0; i < m->nframes; i++)
		frame_free_pages(&m->frames[i]);
	/* Everything but the arrays (emptied, kept for the next run) is
	 * what vmt_model_new() makes. */
	memset(m, 0, sizeof(*m));
	model_init(m);
	m->frames = keep.frames;
	m->capframes = keep.capframes;
	for (int s = 0; s < VMT_MODEL_SPACES; s++) {
		m->spaces[s].leaves = keep.spaces[s].leaves;
		m->spaces[s].cap = keep.spaces[s].cap;
	}
	m->nodes = keep.nodes;
	m->capnodes = keep.capnodes;
	m->doomed = keep.doomed;
	m->capdoomed = keep.capdoomed;
}

void vmt_model_set_pool(struct vmt_model *m, uint64_t total_frames, uint64_t nr_chunks)
{
	m->total_frames = total_frames;
	m->nr_chunks = nr_chunks;
}

/* ---- -ENOMEM bookkeeping ---------------------------------------------- */

static uint64_t node_key(uint32_t inc, int level, uint64_t base)
{
	return ((uint64_t)inc << 40) | ((uint64_t)level << 37) | (base >> 12);
}

static void note_node(struct vmt_model *m, int sp, int level, uint64_t va)
{
	/* A level-L node spans 512 entries of page_size(L). */
	uint64_t key = node_key(m->spaces[sp].incarnation, level,
				va & ~(vms_page_size(level + 1) - 1));
	size_t lo = 0, hi = m->nnodes;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (m->nodes[mid] < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < m->nnodes && m->nodes[lo] == key)
		return;
	array_reserve(&m->nodes, &m->capnodes, m->nnodes + 1, sizeof(*m->nodes));
	memmove(&m->nodes[lo + 1], &m->nodes[lo], (m->nnodes - lo) * sizeof(*m->nodes));
	m->nodes[lo] = key;
	m->nnodes++;
}

/* Nodes a walk to a level-@level slot at @va may create (levels 3..@level). */
static void note_path(struct vmt_model *m, int sp, uint64_t va, int level)
{
	for (int l = VMS_NR_LEVELS - 1; l >= level; l--)
		note_node(m, sp, l, va);
}

bool vmt_model_may_enomem(struct vmt_model *m, bool chunk)
{
	uint64_t live_2m = 0, used;

	for (int i = 0; i < m->nframes; i++)
		if (m->frames[i].live && m->frames[i].level == 2)
			live_2m++;
	/*
	 * Chunks possibly in use: every 4 KiB allocation ever made (data
	 * frame or node) pinning a chunk of its own, every live 2 MiB frame,
	 * every 2 MiB frame whose release may still be pending, and the chunk
	 * holding the reserved frame 0.
	 */
	used = m->allocs_4k + m->nnodes + m->roots + live_2m + m->dead_2m + 1;
	(void)chunk;
	return used + 1 > m->nr_chunks || used * 512 + 1 > m->total_frames;
}

void vmt_model_fail_next_alloc(struct vmt_model *m)
{
	m->fail_alloc = true;
	m->fail_force = false;
}

void vmt_model_fail_next_call(struct vmt_model *m)
{
	m->fail_alloc = true;
	m->fail_force = true;
}

/* Consume the armed failure: true if this call must fail with -ENOMEM. */
static bool take_fail(struct vmt_model *m, bool may_alloc)
{
	bool f = m->fail_alloc && (may_alloc || m->fail_force);

	m->fail_alloc = false;
	return f;
}

/* ---- frames ----------------------------------------------------------- */

static struct mframe *frame(const struct vmt_model *m, int id)
{
	if (id < 0 || id >= m->nframes || !m->frames[id].live)
		return NULL;
	return &m->frames[id];
}

static void reap(struct vmt_model *m);

/* Frame @id lost a handle or a leaf: if that was its last, it may die at
 * the end of the call. */
static void frame_unref(struct vmt_model *m, int id, bool leaf)
{
	struct mframe *f = &m->frames[id];

	if (leaf)
		f->ptes--;
	else
		f->handles--;
	if (f->ptes || f->handles)
		return;
	array_reserve(&m->doomed, &m->capdoomed, m->ndoomed + 1, sizeof(*m->doomed));
	m->doomed[m->ndoomed++] = id;
}

static void frame_maybe_die(struct vmt_model *m, int id)
{
	struct mframe *f = &m->frames[id];

	if (!f->live || f->handles || f->ptes)
		return;
	/* The contents stay until the model is reset: a lock-free reader
	 * that translated before the last unmap may still copy them, within
	 * its grace period (the controlled executor compares those copies). */
	f->live = false;
	if (f->level == 2)
		m->dead_2m++;
}

int vmt_model_frame_alloc(struct vmt_model *m, int level, int *id)
{
	bool fail;
	struct mframe *f;

	if (level != 1 && level != 2)
		return refuse(m, -EINVAL, RULE(FRAME_LEVEL));
	fail = take_fail(m, true);
	if (fail)
		return -ENOMEM;
	array_reserve(&m->frames, &m->capframes, (size_t)m->nframes + 1, sizeof(*m->frames));
	f = &m->frames[m->nframes];
	memset(f, 0, sizeof(*f));
	f->live = true;
	f->level = level;
	f->handles = 1;
	f->npages = vms_page_size(level) / K4;
	f->pages = calloc(f->npages, sizeof(*f->pages));
	if (!f->pages)
		abort();
	if (level == 1)
		m->allocs_4k++;
	*id = m->nframes++;
	return 0;
}

int vmt_model_frame_get(struct vmt_model *m, int id)
{
	struct mframe *f = frame(m, id);

	if (!f)
		return refuse(m, -EINVAL, RULE(FRAME_DEAD));
	m->fail_alloc = false;
	f->handles++;
	return 0;
}

int vmt_model_frame_put(struct vmt_model *m, int id)
{
	struct mframe *f = frame(m, id);

	if (!f || !f->handles)
		return refuse(m, -EINVAL, RULE(PUT_NO_HANDLE));
	m->fail_alloc = false;
	frame_unref(m, id, false);
	reap(m);
	return 0;
}

bool vmt_model_frame_live(const struct vmt_model *m, int id)
{
	return frame(m, id) != NULL;
}

int vmt_model_frame_level(const struct vmt_model *m, int id)
{
	const struct mframe *f = frame(m, id);

	return f ? f->level : 0;
}

uint64_t vmt_model_frame_handles(const struct vmt_model *m, int id)
{
	const struct mframe *f = frame(m, id);

	return f ? f->handles : 0;
}

uint64_t vmt_model_frame_refcount(const struct vmt_model *m, int id)
{
	const struct mframe *f = frame(m, id);

	return f ? f->handles + f->ptes : 0;
}

int vmt_model_nr_frames(const struct vmt_model *m)
{
	return m->nframes;
}

void vmt_model_frame_read(const struct vmt_model *m, int id, uint64_t off,
			  void *buf, size_t n)
{
	const struct mframe *f = id >= 0 && id < m->nframes ? &m->frames[id] : NULL;
	uint8_t *out = buf;

	while (n) {
		uint64_t pg = off / K4, in = off % K4;
		size_t chunk = K4 - in < n ? K4 - in : n;

		if (f && pg < f->npages && f->pages[pg])
			memcpy(out, f->pages[pg] + in, chunk);
		else
			memset(out, 0, chunk);
		out += chunk;
		off += chunk;
		n -= chunk;
	}
}

uint64_t vmt_model_frame_next_touched(const struct vmt_model *m, int id, uint64_t pg)
{
	const struct mframe *f = frame(m, id);

	if (!f || pg >= f->npages)
		return pg;
	for (pg = pg < f->lo ? f->lo : pg; pg < f->hi; pg++)
		if (f->pages[pg])
			return pg;
	return f->npages;
}

static void frame_write(struct vmt_model *m, int id, uint64_t off,
			const uint8_t *src, size_t n)
{
	struct mframe *f = &m->frames[id];

	while (n) {
		uint64_t pg = off / K4, in = off % K4;
		size_t chunk = K4 - in < n ? K4 - in : n;

		if (!f->pages[pg]) {
			f->pages[pg] = calloc(1, K4);
			if (!f->pages[pg])
				abort();
			/* [lo, hi) grows to take pg in (empty, it starts at pg). */
			f->lo = f->lo == f->hi || pg < f->lo ? pg : f->lo;
			f->hi = pg >= f->hi ? pg + 1 : f->hi;
		}
		memcpy(f->pages[pg] + in, src, chunk);
		src += chunk;
		off += chunk;
		n -= chunk;
	}
}

void vmt_model_frame_write(struct vmt_model *m, int id, uint64_t off,
			   const void *buf, size_t n)
{
	if (id >= 0 && id < m->nframes && off < m->frames[id].npages * K4 &&
	    n <= m->frames[id].npages * K4 - off)
		frame_write(m, id, off, buf, n);
}

uint64_t vmt_model_data_frames(const struct vmt_model *m)
{
	uint64_t n = 0;

	for (int i = 0; i < m->nframes; i++)
		if (m->frames[i].live)
			n += m->frames[i].npages;
	return n;
}

/* ---- leaves ------------------------------------------------------------ */

/* Index of the first leaf whose end is above @va (the leaf containing va,
 * or the first one after it); n if none. */
static size_t first_from(const struct mspace *s, uint64_t va)
{
	size_t lo = 0, hi = s->n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (leaf_end(&s->leaves[mid]) <= va)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static struct vmt_mleaf *find_leaf(const struct mspace *s, uint64_t va)
{
	size_t i = first_from(s, va);

	if (i < s->n && s->leaves[i].va <= va)
		return &s->leaves[i];
	return NULL;
}

static void leaves_reserve(struct mspace *s, size_t extra)
{
	array_reserve(&s->leaves, &s->cap, s->n + extra, sizeof(*s->leaves));
}

/* Insert a leaf (the caller made room: nothing overlaps it). */
static void leaf_insert(struct vmt_model *m, struct mspace *s, const struct vmt_mleaf *l)
{
	size_t i = first_from(s, l->va);

	leaves_reserve(s, 1);
	memmove(&s->leaves[i + 1], &s->leaves[i], (s->n - i) * sizeof(*l));
	s->leaves[i] = *l;
	s->n++;
	m->frames[l->frame].ptes++;
}

/* Remove leaves [i, j); their frames may die only once the caller is done. */
static void leaves_remove(struct vmt_model *m, struct mspace *s, size_t i, size_t j)
{
	if (i == j)
		return;		/* s->leaves may still be NULL */
	for (size_t k = i; k < j; k++)
		frame_unref(m, s->leaves[k].frame, true);
	memmove(&s->leaves[i], &s->leaves[j], (s->n - j) * sizeof(*s->leaves));
	s->n -= j - i;
}

/* Replace the 2 MiB leaf @i by its 512 4 KiB pieces (same frame, same
 * property, consecutive offsets). */
static void split_leaf(struct vmt_model *m, int sp, size_t i)
{
	struct mspace *s = &m->spaces[sp];
	struct vmt_mleaf big = s->leaves[i];

	note_node(m, sp, 1, big.va);
	leaves_reserve(s, 511);
	memmove(&s->leaves[i + 512], &s->leaves[i + 1], (s->n - i - 1) * sizeof(big));
	for (int k = 0; k < 512; k++) {
		struct vmt_mleaf *p = &s->leaves[i + k];

		*p = big;
		p->level = 1;
		p->va = big.va + (uint64_t)k * K4;
		p->off = big.off + (uint64_t)k * K4;
	}
	s->n += 511;
	m->frames[big.frame].ptes += 511;
}

/* Split a 2 MiB leaf that contains @va (@inside: only if it does not
 * start there, i.e. it straddles the boundary at va). */
static bool split_at(struct vmt_model *m, int sp, uint64_t va, bool inside, bool dry)
{
	struct mspace *s = &m->spaces[sp];
	size_t i = first_from(s, va);

	if (i < s->n && s->leaves[i].level == 2 && s->leaves[i].va <= va &&
	    (!inside || s->leaves[i].va < va) && va < leaf_end(&s->leaves[i])) {
		if (!dry)
			split_leaf(m, sp, i);
		return true;
	}
	return false;
}

/* Remove every leaf that starts in [va, end); returns how many. Leaves
 * sticking out were split by the caller. Frames may die afterwards. */
static long remove_range(struct vmt_model *m, int sp, uint64_t va, uint64_t end)
{
	struct mspace *s = &m->spaces[sp];
	size_t i = first_from(s, va), j = i;

	while (j < s->n && s->leaves[j].va < end)
		j++;
	leaves_remove(m, s, i, j);
	return (long)(j - i);
}

/* Frames die only once an operation is complete (a frame moved from one
 * slot to another in one call must not die half-way). */
static void reap(struct vmt_model *m)
{
	while (m->ndoomed)
		frame_maybe_die(m, m->doomed[--m->ndoomed]);
}

/* Remove every leaf of a space, releasing frames. */
static void remove_all(struct vmt_model *m, int sp)
{
	struct mspace *s = &m->spaces[sp];

	leaves_remove(m, s, 0, s->n);
	reap(m);
}

size_t vmt_model_nr_leaves(const struct vmt_model *m, int sp)
{
	return m->spaces[sp].live ? m->spaces[sp].n : 0;
}

const struct vmt_mleaf *vmt_model_leaf(const struct vmt_model *m, int sp, size_t i)
{
	return i < m->spaces[sp].n ? &m->spaces[sp].leaves[i] : NULL;
}

const struct vmt_mleaf *vmt_model_lookup(const struct vmt_model *m, int sp, uint64_t va)
{
	return find_leaf(&m->spaces[sp], va);
}

uint64_t vmt_model_mapped_bytes(const struct vmt_model *m, int sp)
{
	uint64_t b = 0;

	for (size_t i = 0; i < m->spaces[sp].n; i++)
		b += leaf_size(&m->spaces[sp].leaves[i]);
	return b;
}

/* ---- spaces ------------------------------------------------------------ */

static struct mspace *space(struct vmt_model *m, int sp)
{
	if (sp < 0 || sp >= VMT_MODEL_SPACES || !m->spaces[sp].live)
		return NULL;
	return &m->spaces[sp];
}

int vmt_model_space_new(struct vmt_model *m, int sp, unsigned flags)
{
	struct mspace *s;

	if (sp < 0 || sp >= VMT_MODEL_SPACES || m->spaces[sp].live ||
	    (flags & ~VMT_M_FLAGS_MASK)) {
		m->fail_alloc = false;
		return -EINVAL;
	}
	if (take_fail(m, true))
		return -ENOMEM;
	s = &m->spaces[sp];
	s->live = true;
	s->flags = flags;
	s->incarnation = ++m->incarnations;
	s->n = 0;
	memset(s->cur, 0, sizeof(s->cur));
	m->roots++;
	return 0;
}

int vmt_model_space_destroy(struct vmt_model *m, int sp)
{
	struct mspace *s = space(m, sp);
	bool fail = take_fail(m, true);

	if (!s)
		return -EINVAL;
	for (int t = 0; t < VMT_MODEL_THREADS; t++)
		if (s->cur[t].open || m->current[t] == sp)
			return -EBUSY;
	for (int a = 0; a < VMT_MODEL_ACCS; a++)
		if (m->accs[a].used && m->accs[a].space == sp)
			return -EBUSY;
	/* The unmapping cursor and its release batch (space.h). */
	if (fail)
		return -ENOMEM;
	remove_all(m, sp);
	s->live = false;
	return 0;
}

int vmt_model_space_activate(struct vmt_model *m, int sp)
{
	m->fail_alloc = false;
	if (!space(m, sp))
		return -EINVAL;
	m->current[m->thread] = sp;
	return 0;
}

int vmt_model_space_deactivate(struct vmt_model *m, int sp)
{
	m->fail_alloc = false;
	if (!space(m, sp) || m->current[m->thread] != sp)
		return -EINVAL;
	m->current[m->thread] = -1;
	return 0;
}

bool vmt_model_space_live(const struct vmt_model *m, int sp)
{
	return sp >= 0 && sp < VMT_MODEL_SPACES && m->spaces[sp].live;
}

unsigned vmt_model_space_flags(const struct vmt_model *m, int sp)
{
	return vmt_model_space_live(m, sp) ? m->spaces[sp].flags : 0;
}

int vmt_model_current(const struct vmt_model *m)
{
	return m->current[m->thread];
}

void vmt_model_set_thread(struct vmt_model *m, int thread)
{
	m->thread = thread >= 0 && thread < VMT_MODEL_THREADS ? thread : 0;
}

int vmt_model_nr_spaces(const struct vmt_model *m)
{
	int n = 0;

	for (int s = 0; s < VMT_MODEL_SPACES; s++)
		n += m->spaces[s].live;
	return n;
}

/* ---- cursors ----------------------------------------------------------- */

static struct mcursor *cursor(struct vmt_model *m, int sp)
{
	struct mspace *s = space(m, sp);

	return s && s->cur[m->thread].open ? &s->cur[m->thread] : NULL;
}

int vmt_model_cursor_new(struct vmt_model *m, int sp, bool mut,
			 uint64_t start, uint64_t end)
{
	struct mspace *s = space(m, sp);

	if (!s || s->cur[m->thread].open)
		return refuse(m, -EINVAL, RULE(CURSOR_TWICE));
	if ((start | end) % K4 || start >= end || end > VMS_USER_END)
		return refuse(m, -EINVAL, RULE(CURSOR_RANGE));
	if (take_fail(m, true))
		return -ENOMEM;
	/*
	 * The walk to the lowest node covering the range may create the
	 * nodes on start's path whose span holds the whole range.
	 */
	for (int l = VMS_NR_LEVELS - 1; l >= 1; l--) {
		uint64_t span = vms_page_size(l + 1);
		uint64_t base = start & ~(span - 1);

		if (end - base > span)
			break;
		note_node(m, sp, l, start);
	}
	s->cur[m->thread] = (struct mcursor){ true, mut, start, end, start };
	return 0;
}

void vmt_model_cursor_drop(struct vmt_model *m, int sp)
{
	struct mspace *s = space(m, sp);

	m->fail_alloc = false;
	if (s)
		s->cur[m->thread].open = false;
}

bool vmt_model_cursor_open(const struct vmt_model *m, int sp)
{
	return vmt_model_space_live(m, sp) && m->spaces[sp].cur[m->thread].open;
}

uint64_t vmt_model_cursor_va(const struct vmt_model *m, int sp)
{
	return vmt_model_cursor_open(m, sp) ? m->spaces[sp].cur[m->thread].va : 0;
}

int vmt_model_query(struct vmt_model *m, int sp, bool *mapped, struct vmt_mleaf *leaf)
{
	struct mcursor *c = cursor(m, sp);
	struct vmt_mleaf *l;

	if (!c || c->va >= c->end)
		return refuse(m, -EINVAL, RULE(QUERY_END));
	m->fail_alloc = false;
	l = find_leaf(&m->spaces[sp], c->va);
	*mapped = l != NULL;
	if (l)
		*leaf = *l;
	return 0;
}

bool vmt_model_absent_ok(const struct vmt_model *m, int sp, uint64_t va,
			 uint64_t start, uint64_t end, int level)
{
	const struct mspace *s = &m->spaces[sp];
	uint64_t size = vms_page_size(level);
	size_t i;

	if (!size || start % size || end - start != size || va < start ||
	    va >= end || end > VMS_USER_END)
		return false;
	i = first_from(s, start);
	return i >= s->n || s->leaves[i].va >= end;
}

/* Length checks shared by find_next, unmap and protect_next. */
static bool len_ok(const struct mcursor *c, uint64_t len)
{
	return len && !(len % K4) && len <= c->end - c->va;
}

/* The checks unmap and protect_next make first, in the core's order. A
 * failed check allocates nothing, so a pending allocation failure is
 * dropped. */
static long check_mut_len(struct vmt_model *m, const struct mcursor *c, uint64_t len)
{
	if (!c)
		return refuse(m, -EINVAL, RULE(NO_CURSOR));
	if (!c->mut)
		return refuse(m, -EPERM, RULE(READ_ONLY));
	if (!len_ok(c, len))
		return refuse(m, -EINVAL, RULE(LENGTH));
	return 0;
}

int vmt_model_find_next(struct vmt_model *m, int sp, uint64_t len, uint64_t *found)
{
	struct mcursor *c = cursor(m, sp);
	struct mspace *s = &m->spaces[sp];
	size_t i;

	if (!c || !len_ok(c, len))
		return refuse(m, -EINVAL, RULE(LENGTH));
	m->fail_alloc = false;
	i = first_from(s, c->va);
	if (i < s->n && s->leaves[i].va < c->va + len) {
		/* Inside a leaf: va itself; else the next leaf's start. */
		if (s->leaves[i].va > c->va)
			c->va = s->leaves[i].va;
		*found = c->va;
		return 1;
	}
	c->va += len;
	return 0;
}

int vmt_model_jump(struct vmt_model *m, int sp, uint64_t va)
{
	struct mcursor *c = cursor(m, sp);

	if (!c || va % K4 || va < c->start || va >= c->end)
		return refuse(m, -EINVAL, RULE(JUMP));
	m->fail_alloc = false;
	c->va = va;
	return 0;
}

static bool prop_valid(struct vms_prop p)
{
	return !(p.flags & ~VMS_PROP_MASK) && !(p.priv & ~VMS_PRIV_MASK) &&
	       p.cache <= VMS_CACHE_UNCACHEABLE;
}

int vmt_model_map(struct vmt_model *m, int sp, int fid, struct vms_prop prop)
{
	struct mcursor *c = cursor(m, sp);
	struct mspace *s = &m->spaces[sp];
	struct mframe *f = frame(m, fid);
	uint64_t size;
	struct vmt_mleaf *old, leaf;
	bool may_alloc;
	long removed;

	if (!c)
		return refuse(m, -EINVAL, RULE(NO_CURSOR));
	if (!c->mut)
		return refuse(m, -EPERM, RULE(READ_ONLY));
	if (!f || !f->handles)
		return refuse(m, -EINVAL, RULE(MAP_NO_HANDLE));
	if (!prop_valid(prop))
		return refuse(m, -EINVAL, RULE(PROP));
	size = vms_page_size(f->level);
	if (c->va % size || size > c->end - c->va)
		return refuse(m, -EINVAL, RULE(MAP_RANGE));
	/* Only a slot already holding a leaf of the same size is sure to have
	 * its whole path in place (and needs no split). */
	old = find_leaf(s, c->va);
	may_alloc = !(old && old->va == c->va && old->level == f->level);
	if (take_fail(m, may_alloc))
		return -ENOMEM;

	note_path(m, sp, c->va, f->level);
	/* A 4 KiB slot inside a 2 MiB leaf: the leaf is split first, even
	 * when the slot is its first page. */
	if (f->level == 1)
		split_at(m, sp, c->va, false, false);
	removed = remove_range(m, sp, c->va, c->va + size);
	leaf.va = c->va;
	leaf.level = f->level;
	leaf.frame = fid;
	leaf.off = 0;
	leaf.prop = prop;
	leaf_insert(m, s, &leaf);
	frame_unref(m, fid, false);	/* the handle became the leaf: never the last */
	reap(m);
	c->va += size;
	return removed ? 1 : 0;
}

long vmt_model_unmap(struct vmt_model *m, int sp, uint64_t len)
{
	struct mcursor *c = cursor(m, sp);
	uint64_t end;
	long n;
	bool may_alloc;

	long err = check_mut_len(m, c, len);

	if (err)
		return err;
	end = c->va + len;
	may_alloc = split_at(m, sp, c->va, true, true) || split_at(m, sp, end, true, true);
	if (take_fail(m, may_alloc))
		return -ENOMEM;
	split_at(m, sp, c->va, true, false);
	split_at(m, sp, end, true, false);
	n = remove_range(m, sp, c->va, end);
	reap(m);
	c->va = end;
	return n;
}

int vmt_model_protect_next(struct vmt_model *m, int sp, uint64_t len,
			   void (*fn)(struct vms_prop *, void *), void *arg,
			   uint64_t *start, uint64_t *end)
{
	struct mcursor *c = cursor(m, sp);
	struct mspace *s = &m->spaces[sp];
	struct vmt_mleaf *l;
	struct vms_prop p;
	uint64_t lim;
	size_t i;
	bool split;

	long err = check_mut_len(m, c, len);

	if (err)
		return err;
	lim = c->va + len;
	i = first_from(s, c->va);
	if (i >= s->n || s->leaves[i].va >= lim) {
		m->fail_alloc = false;
		c->va = lim;
		return 0;
	}
	l = &s->leaves[i];
	/* A 2 MiB leaf entered mid-way or sticking out of the range. */
	split = l->level == 2 && (l->va < c->va || leaf_end(l) > lim);
	if (take_fail(m, split))
		return -ENOMEM;
	if (split) {
		uint64_t at = l->va < c->va ? c->va : l->va;

		split_leaf(m, sp, i);
		i = first_from(s, at);
		l = &s->leaves[i];
	}
	p = l->prop;
	fn(&p, arg);
	p.priv = l->prop.priv;		/* protect_next cannot change priv */
	if (!prop_valid(p))
		return refuse(m, -EINVAL, RULE(PROP));
	l->prop = p;
	*start = l->va;
	*end = leaf_end(l);
	c->va = *end;
	return 1;
}

/* ---- accessors --------------------------------------------------------- */

/* The seed's `disjoint`, negated: closed intervals, touching overlaps. */
static bool overlap(uint64_t a0, uint64_t a1, uint64_t b0, uint64_t b1)
{
	return a0 <= b1 && b0 <= a1;
}

static bool acc_overlap(const struct macc *a, uint64_t va, uint64_t len)
{
	return overlap(a->va, a->va + a->len, va, va + len);
}

/*
 * Would an accessor on [va, va + len) break the owner invariant together
 * with the registered (active) accessors of @sp other than @self? access.h
 * defines "conflict" by that invariant both at creation and at activation:
 * readers also exclude overlapping readers unless the space allows shared
 * readers. (The seed's can_create_reader is weaker: it looks at writers
 * only; the header is the contract.)
 */

static bool conflicts(const struct vmt_model *m, int sp, int self, bool writer,
		      uint64_t va, uint64_t len)
{
	bool shared = m->spaces[sp].flags & VMT_M_SHARED_READERS;

	for (int i = 0; i < VMT_MODEL_ACCS; i++) {
		const struct macc *o = &m->accs[i];

		if (i == self || !o->used || !o->active || o->space != sp)
			continue;
		if (!acc_overlap(o, va, len))
			continue;
		if (writer || o->writer)
			return true;
		if (!shared)
			return true;
	}
	return false;
}

int vmt_model_acc_new(struct vmt_model *m, int acc, int sp, bool writer,
		      uint64_t va, uint64_t len)
{
	struct macc *a;
	bool fail = take_fail(m, true);

	if (acc < 0 || acc >= VMT_MODEL_ACCS || m->accs[acc].used || !space(m, sp))
		return refuse(m, -EINVAL, RULE(ACC_SLOT));
	/* access.h's order: the thread's active space before the range. */
	if (m->current[m->thread] != sp)
		return refuse(m, -EACCES, RULE(ACC_INACTIVE));
	if (!va || !len || va + len < va || va + len > VMS_MAX_USERSPACE_VADDR)
		return refuse(m, -EINVAL, RULE(ACC_RANGE));
	/* access.h's order: the accessor is allocated before the registry
	 * is searched. */
	if (fail)
		return -ENOMEM;
	if (conflicts(m, sp, acc, writer, va, len))
		return refuse(m, -EBUSY, RULE(ACC_CONFLICT));
	m->fail_alloc = false;
	a = &m->accs[acc];
	memset(a, 0, sizeof(*a));
	a->used = true;
	a->writer = writer;
	a->space = sp;
	a->va = va;
	a->len = len;
	a->pos = va;
	return 0;
}

/* Every page of [va, va + len) holds a leaf. */
static bool range_mapped(const struct mspace *s, uint64_t va, uint64_t len)
{
	uint64_t p = va & ~(K4 - 1), end = va + len;

	while (p < end) {
		const struct vmt_mleaf *l = find_leaf(s, p);

		if (!l)
			return false;
		p = leaf_end(l);
	}
	return true;
}

/* @mapped: the caller's verdict on "every page mapped" (-1: look). */
static int acc_activate(struct vmt_model *m, int acc, int sp, int mapped)
{
	struct macc *a;

	m->fail_alloc = false;
	if (acc < 0 || acc >= VMT_MODEL_ACCS || !m->accs[acc].used || !space(m, sp))
		return -EINVAL;
	a = &m->accs[acc];
	/* An accessor that cannot be activated on @sp at all is a bad
	 * argument, whatever the thread's state. */
	if (a->space != sp || a->active)
		return -EINVAL;
	if (m->current[m->thread] != sp)
		return refuse(m, -EACCES, RULE(ACC_INACTIVE));
	if (conflicts(m, sp, acc, a->writer, a->va, a->len))
		return refuse(m, -EBUSY, RULE(ACC_CONFLICT));
	if (mapped < 0 ? !range_mapped(&m->spaces[sp], a->va, a->len) : !mapped)
		return refuse(m, -EFAULT, RULE(ACC_UNMAPPED));
	a->active = true;
	return 0;
}

int vmt_model_acc_activate(struct vmt_model *m, int acc, int sp)
{
	return acc_activate(m, acc, sp, -1);
}

int vmt_model_acc_activate_seen(struct vmt_model *m, int acc, int sp, bool mapped)
{
	return acc_activate(m, acc, sp, mapped);
}

bool vmt_model_range_mapped(const struct vmt_model *m, int sp, uint64_t va, uint64_t len)
{
	return vmt_model_space_live(m, sp) && range_mapped(&m->spaces[sp], va, len);
}

/* Translate @va for an access: the leaf, or NULL on a fault. */
static const struct vmt_mleaf *translate(const struct vmt_model *m, int sp,
					 uint64_t va, bool write)
{
	const struct vmt_mleaf *l = find_leaf(&m->spaces[sp], va);

	if (!l || !(l->prop.flags & VMS_PROP_R))
		return NULL;
	if (write && !(l->prop.flags & VMS_PROP_W))
		return NULL;
	return l;
}

/* The copy loop shared by read and write: page by page, stopping at the
 * first page that faults. */
static long acc_copy(struct vmt_model *m, int acc, uint8_t *rbuf,
		     const uint8_t *wbuf, size_t n)
{
	struct macc *a;
	uint64_t remain, want, done = 0;

	m->fail_alloc = false;
	if (acc < 0 || acc >= VMT_MODEL_ACCS || !m->accs[acc].used)
		return -EINVAL;
	a = &m->accs[acc];
	if (!a->active)
		return -EINVAL;
	if (m->current[m->thread] != a->space)
		return -EACCES;
	remain = a->va + a->len - a->pos;
	want = n < remain ? n : remain;
	while (done < want) {
		uint64_t va = a->pos + done;
		uint64_t chunk = K4 - va % K4;
		const struct vmt_mleaf *l = translate(m, a->space, va, wbuf != NULL);
		uint64_t off;

		if (!l)
			break;
		if (chunk > want - done)
			chunk = want - done;
		off = l->off + (va - l->va);
		if (wbuf)
			frame_write(m, l->frame, off, wbuf + done, chunk);
		else
			vmt_model_frame_read(m, l->frame, off, rbuf + done, chunk);
		done += chunk;
	}
	if (done < n)
		m->why = RULE(ACC_COPY_STOP);
	if (want && !done)
		return -EFAULT;
	a->pos += done;
	return (long)done;
}

long vmt_model_acc_read(struct vmt_model *m, int acc, void *buf, size_t n)
{
	if (acc >= 0 && acc < VMT_MODEL_ACCS && m->accs[acc].used && m->accs[acc].writer) {
		m->fail_alloc = false;
		return -EINVAL;
	}
	return acc_copy(m, acc, buf, NULL, n);
}

long vmt_model_acc_write(struct vmt_model *m, int acc, const void *buf, size_t n)
{
	if (acc >= 0 && acc < VMT_MODEL_ACCS && m->accs[acc].used && !m->accs[acc].writer) {
		m->fail_alloc = false;
		return -EINVAL;
	}
	return acc_copy(m, acc, NULL, buf, n);
}

long vmt_model_acc_copy_seen(struct vmt_model *m, int acc, bool write, size_t n, long done)
{
	struct macc *a;
	uint64_t want;

	m->fail_alloc = false;
	if (acc < 0 || acc >= VMT_MODEL_ACCS || !m->accs[acc].used ||
	    m->accs[acc].writer != write || !m->accs[acc].active)
		return -EINVAL;
	a = &m->accs[acc];
	if (m->current[m->thread] != a->space)
		return -EACCES;
	want = n < a->va + a->len - a->pos ? n : a->va + a->len - a->pos;
	/* What a page-by-page copy can return: all of it, nothing but a
	 * fault on the first page, or up to the end of a page. */
	if (!want)
		return 0;
	if (done == -EFAULT)
		return done;
	if (done <= 0 || (uint64_t)done > want ||
	    ((uint64_t)done < want && (a->pos + (uint64_t)done) % K4))
		return (long)want;
	a->pos += (uint64_t)done;
	return done;
}

uint64_t vmt_model_acc_remain(const struct vmt_model *m, int acc)
{
	const struct macc *a = &m->accs[acc];

	return a->used ? a->va + a->len - a->pos : 0;
}

int vmt_model_acc_release(struct vmt_model *m, int acc)
{
	m->fail_alloc = false;
	if (acc >= 0 && acc < VMT_MODEL_ACCS)
		memset(&m->accs[acc], 0, sizeof(m->accs[acc]));
	return 0;
}

bool vmt_model_acc_used(const struct vmt_model *m, int acc)
{
	return acc >= 0 && acc < VMT_MODEL_ACCS && m->accs[acc].used;
}

bool vmt_model_acc_writer(const struct vmt_model *m, int acc)
{
	return vmt_model_acc_used(m, acc) && m->accs[acc].writer;
}

int vmt_model_acc_space(const struct vmt_model *m, int acc)
{
	return vmt_model_acc_used(m, acc) ? m->accs[acc].space : -1;
}

/* ---- check and quiesce ------------------------------------------------- */

/* An open cursor of thread @t (-1: of any thread). */
static bool any_cursor(const struct vmt_model *m, int t)
{
	for (int s = 0; s < VMT_MODEL_SPACES; s++)
		for (int u = 0; u < VMT_MODEL_THREADS; u++)
			if (m->spaces[s].live && m->spaces[s].cur[u].open && (t < 0 || t == u))
				return true;
	return false;
}

int vmt_model_check(struct vmt_model *m, int sp)
{
	bool fail = take_fail(m, true);

	if (!space(m, sp))
		return -EINVAL;
	/* The caller's cursor first (it cannot wait for a grace period),
	 * then any other thread's. */
	if (any_cursor(m, m->thread))
		return -EDEADLK;
	if (any_cursor(m, -1))
		return -EBUSY;
	/* The pool was quiesced before the checker's scratch was allocated. */
	m->dead_2m = 0;
	return fail ? -ENOMEM : 0;
}

int vmt_model_quiesce(struct vmt_model *m)
{
	m->fail_alloc = false;
	if (any_cursor(m, m->thread))
		return -EDEADLK;
	m->dead_2m = 0;
	return 0;
}

/* ---- self check -------------------------------------------------------- */

int vmt_model_selfcheck(const struct vmt_model *m, bool full, char *why, size_t n)
{
	for (int sp = 0; sp < VMT_MODEL_SPACES; sp++) {
		const struct mspace *s = &m->spaces[sp];
		bool shared = s->flags & VMT_M_SHARED_READERS;

		if (!s->live)
			continue;
		/* The seed's VmSpaceOwner::inv on the registered accessors. */
		for (int i = 0; i < VMT_MODEL_ACCS; i++) {
			const struct macc *x = &m->accs[i];

			if (!x->used || !x->active || x->space != sp)
				continue;
			for (int j = i + 1; j < VMT_MODEL_ACCS; j++) {
				const struct macc *y = &m->accs[j];

				if (!y->used || !y->active || y->space != sp ||
				    !acc_overlap(x, y->va, y->len))
					continue;
				if (x->writer || y->writer || !shared) {
					snprintf(why, n, "owner invariant: accessors %d and %d overlap in space %d",
						 i, j, sp);
					return -1;
				}
			}
		}
		if (!full)
			continue;
		for (size_t i = 0; i < s->n; i++) {
			const struct vmt_mleaf *l = &s->leaves[i];

			if (l->va % leaf_size(l) || leaf_end(l) > VMS_USER_END ||
			    (i && leaf_end(&s->leaves[i - 1]) > l->va) ||
			    l->frame < 0 || l->frame >= m->nframes ||
			    !m->frames[l->frame].live) {
				snprintf(why, n, "bad leaf %zu at 0x%llx in space %d", i,
					 (unsigned long long)l->va, sp);
				return -1;
			}
		}
	}
	if (full && m->nframes) {
		uint64_t *ptes = calloc((size_t)m->nframes, sizeof(*ptes));
		int bad = -1;

		if (!ptes)
			abort();
		for (int sp = 0; sp < VMT_MODEL_SPACES; sp++)
			for (size_t i = 0; m->spaces[sp].live && i < m->spaces[sp].n; i++)
				ptes[m->spaces[sp].leaves[i].frame]++;
		for (int f = 0; f < m->nframes && bad < 0; f++)
			if (ptes[f] != (m->frames[f].live ? m->frames[f].ptes : 0))
				bad = f;
		if (bad >= 0)
			snprintf(why, n, "frame %d: %llu leaves but ptes %llu", bad,
				 (unsigned long long)ptes[bad],
				 (unsigned long long)m->frames[bad].ptes);
		free(ptes);
		if (bad >= 0)
			return -1;
	}
	return 0;
}
