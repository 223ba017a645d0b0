/* SPDX-License-Identifier: MIT */
/* helpers.c - set-up and assertion helpers shared by the test files. */
#define _GNU_SOURCE
#include <time.h>

#include "test.h"

struct vms_pool *vmt_pool(size_t bytes)
{
	struct vms_pool *p = NULL;

	CHECK_OK(vms_pool_new(bytes, &p));
	CHECK(p != NULL);
	return p;
}

void vmt_env_init(struct vmt_env *e, size_t pool_bytes, unsigned flags)
{
	e->pool = vmt_pool(pool_bytes);
	e->space = NULL;
	CHECK_OK(vms_space_new(e->pool, flags, &e->space));
	CHECK(e->space != NULL);
}

void vmt_env_fini(struct vmt_env *e)
{
	struct vms_pool_stats st;

	if (vms_space_current() == e->space)
		CHECK_OK(vms_space_deactivate(e->space));
	CHECK_OK(vms_space_destroy(e->space));
	CHECK_OK(vms_pool_quiesce(e->pool));
	st = vmt_stats(e->pool);
	CHECK_EQ(st.data_frames, 0);
	CHECK_EQ(st.pt_frames, 0);
	CHECK_EQ(st.spaces, 0);
	CHECK_EQ(st.deferred, 0);
	CHECK_EQ(st.free_frames, st.total_frames);
	CHECK_OK(vms_pool_destroy(e->pool));
	e->pool = NULL;
	e->space = NULL;
}

struct vms_frame *vmt_alloc(struct vms_pool *p, int level)
{
	struct vms_frame *f = NULL;

	CHECK_OK(vms_frame_alloc(p, level, &f));
	CHECK(f != NULL);
	return f;
}

int vmt_map(struct vms_space *s, vms_vaddr_t va, struct vms_frame *f,
	    struct vms_prop prop)
{
	uint64_t size = vms_page_size(vms_frame_level(f));
	struct vms_cursor *c = NULL;
	int r;

	CHECK_OK(vms_cursor_mut_new(s, va, va + size, &c));
	r = vms_cursor_map(c, f, prop);
	vms_cursor_drop(c);
	return r;
}

struct vms_frame *vmt_map_new(struct vms_space *s, vms_vaddr_t va, int level,
			      struct vms_prop prop, bool keep_handle)
{
	struct vms_frame *f = vmt_alloc(vms_space_pool(s), level);

	if (keep_handle)
		CHECK_OK(vms_frame_get(f));
	CHECK_EQ(vmt_map(s, va, f, prop), 0);
	return f;
}

long vmt_unmap(struct vms_space *s, vms_vaddr_t va, uint64_t len)
{
	struct vms_cursor *c = NULL;
	long r;

	CHECK_OK(vms_cursor_mut_new(s, va, va + len, &c));
	r = vms_cursor_unmap(c, len);
	vms_cursor_drop(c);
	return r;
}

int vmt_query(struct vms_space *s, vms_vaddr_t va, struct vms_mapping *m)
{
	struct vms_cursor *c = NULL;
	int r;

	CHECK_OK(vms_cursor_new(s, va, va + K4, &c));
	memset(m, 0x5a, sizeof(*m));
	r = vms_cursor_query(c, m);
	vms_cursor_drop(c);
	return r;
}

struct vms_pool_stats vmt_stats(struct vms_pool *p)
{
	struct vms_pool_stats st;

	memset(&st, 0, sizeof(st));
	CHECK_OK(vms_pool_stats(p, &st));
	return st;
}

void vmt_check_clean_at(struct vms_space *s, const char *file, int line)
{
	struct vms_check_report rep;
	int r;

	memset(&rep, 0, sizeof(rep));
	r = vms_space_check(s, &rep);
	if (r != 0 || rep.errors != 0)
		vmt_fail(file, line, "vms_space_check: %d, %u errors, first: %s",
			 r, rep.errors, rep.first);
}

void vmt_check_dirty_at(struct vms_space *s, enum vms_check kind, int level, const char *file,
			int line)
{
	struct vms_check_report rep;
	int r;

	memset(&rep, 0, sizeof(rep));
	r = vms_space_check(s, &rep);
	if (r != -EUCLEAN || rep.errors == 0 || rep.first[0] == '\0')
		vmt_fail(file, line,
			 "vms_space_check missed a corruption: %d (want -EUCLEAN), %u errors, '%s'",
			 r, rep.errors, rep.first);
	else if ((kind != VMS_CHECK_NONE && rep.kind != kind) || (level >= 0 && rep.level != level))
		vmt_fail(file, line, "vms_space_check found '%s' at level %d, want '%s' at level %d",
			 vms_check_name(rep.kind), rep.level, vms_check_name(kind), level);
}

void vmt_check_conservation_at(struct vms_pool *p, const char *file, int line)
{
	struct vms_pool_stats st = vmt_stats(p);

	if (st.free_frames + st.data_frames + st.pt_frames != st.total_frames)
		vmt_fail(file, line,
			 "frame conservation: free %" PRIu64 " + data %" PRIu64
			 " + pt %" PRIu64 " != total %" PRIu64,
			 st.free_frames, st.data_frames, st.pt_frames, st.total_frames);
}

pthread_t vmt_thread(void *(*fn)(void *), void *arg)
{
	pthread_t t;

	CHECK_OK(pthread_create(&t, NULL, fn, arg));
	return t;
}

void vmt_join(pthread_t t)
{
	CHECK_OK(pthread_join(t, NULL));
}

void vmt_nap_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

void vmt_wait_flag_at(atomic_int *flag, int want, const char *file, int line)
{
	/* Far beyond any legitimate wait, even under TSan on a loaded box. */
	unsigned ms = vmt_timeout_s * 500;

	for (unsigned i = 0; i < ms; i++) {
		if (atomic_load(flag) >= want)
			return;
		if (vmt_has_failed())
			vmt_fail(file, line, "a helper thread failed");
		vmt_nap_ms(1);
	}
	vmt_fail(file, line, "waited %u s for a flag to reach %d (it is %d): hang?",
		 ms / 1000, want, atomic_load(flag));
}

/* ---- the shadow (not model/'s reference model) ---------------------- */

static unsigned vmt_rnd(unsigned *seed)
{
	*seed = *seed * 1103515245u + 12345u;
	return *seed >> 8;
}

void vmt_shadow_init(struct vmt_shadow *m, struct vms_space *s, vms_vaddr_t base,
		    size_t bytes, unsigned seed)
{
	memset(m, 0, sizeof(*m));
	m->space = s;
	m->base = base;
	m->npages = bytes / K4;
	m->seed = seed;
	m->pg = calloc(m->npages, sizeof(*m->pg));
	CHECK(m->pg != NULL);
}

void vmt_shadow_fini(struct vmt_shadow *m)
{
	free(m->pg);
	m->pg = NULL;
}

static struct vmt_page *mpage(struct vmt_shadow *m, vms_vaddr_t va)
{
	return &m->pg[(va - m->base) / K4];
}

/* Split the 2M leaf covering @va (if any) into 4K leaves. */
static void shadow_split(struct vmt_shadow *m, vms_vaddr_t va)
{
	struct vmt_page *p = mpage(m, va);

	if (!p->present || p->level != 2)
		return;
	if (p->lstart < m->base || p->lstart + M2 > m->base + m->npages * K4 ||
	    (p->lstart & (M2 - 1)))
		vmt_fail(__FILE__, __LINE__, "shadow: bad 2M leaf start %#" PRIx64 " for %#" PRIx64,
			 p->lstart, va);
	vms_vaddr_t ls = p->lstart;	/* p itself changes below */

	for (vms_vaddr_t a = ls; a < ls + M2; a += K4) {
		struct vmt_page *q = mpage(m, a);

		q->level = 1;
		q->lstart = a;
	}
}

/* The expected query result at @va. */
static void shadow_check_query(struct vmt_shadow *m, struct vms_cursor *c, vms_vaddr_t va)
{
	struct vmt_page *p = mpage(m, va);
	struct vms_mapping q;

	CHECK_OK(vms_cursor_jump(c, va));
	CHECK_OK(vms_cursor_query(c, &q));
	if (!p->present) {
		if (q.frame != NULL)
			vmt_fail(__FILE__, __LINE__, "query %#" PRIx64 ": mapped, shadow says absent", va);
		CHECK(q.start <= va && va < q.end);
		return;
	}
	if (q.frame != p->frame || q.level != p->level || q.start != p->lstart ||
	    q.end != p->lstart + vms_page_size(p->level) ||
	    q.paddr != mpage(m, p->lstart)->pa || !vms_prop_equal(q.prop, p->prop))
		vmt_fail(__FILE__, __LINE__,
			 "query %#" PRIx64 ": got [%#" PRIx64 ",%#" PRIx64 ") L%d pa %#" PRIx64
			 " flags %#x, shadow [%#" PRIx64 ",+L%d) pa %#" PRIx64 " flags %#x",
			 va, q.start, q.end, q.level, q.paddr, q.prop.flags,
			 p->lstart, p->level, mpage(m, p->lstart)->pa, p->prop.flags);
}

static void shadow_flip(struct vms_prop *p, void *arg)
{
	unsigned r = *(unsigned *)arg;

	p->flags = (uint8_t)(r & VMS_PROP_MASK);
	p->cache = (uint8_t)((r >> 5) % 4);
	p->priv ^= VMS_PRIV_GLOBAL;	/* must be ignored */
}

/* One session: a mutable cursor over [start, end) and the random ops
 * done through it, each checked against the shadow. */
struct session {
	struct vmt_shadow *m;
	struct vms_cursor *c;
	struct vms_pool *pool;
	unsigned *seed;
	vms_vaddr_t start, end;
};

/* VMT_SHADOW_TRACE: the op about to run, every page of the cursor's
 * range queried, and the tree's L3/L2 entries beside the shadow. */
static void session_trace(struct session *s, unsigned kind, vms_vaddr_t va,
			  uint64_t len)
{
	struct vmt_shadow *m = s->m;
	struct vms_cursor *c = s->c;
	vms_vaddr_t start = s->start, end = s->end;

	fprintf(stderr,
		"op %u va %#" PRIx64 " len %#" PRIx64 " cursor [%#" PRIx64
		",%#" PRIx64 ")\n",
		kind, va, len, start, end);
	for (vms_vaddr_t x = start; x < end; x += K4)
		shadow_check_query(m, c, x);
	for (vms_vaddr_t x = m->base; x < m->base + m->npages * K4; x += M2) {
		_Atomic uint64_t *p2 = vms__debug_pte(m->space, x, 2);
		_Atomic uint64_t *p3 = vms__debug_pte(m->space, x, 3);
		struct vmt_page *mp = mpage(m, x);
		struct vms_mapping q;

		vms_cursor_jump(c, x >= start && x < end ? x : start);
		vms_cursor_query(c, &q);
		fprintf(stderr,
			"  %#" PRIx64 ": L3 %#" PRIx64 " L2 %#" PRIx64
			" shadow p%d L%d ls %#" PRIx64 " f %p | q [%#" PRIx64
			",%#" PRIx64 ") L%d f %p\n",
			x, p3 ? (uint64_t)*p3 : 0, p2 ? (uint64_t)*p2 : 0,
			mp->present, mp->level, mp->lstart, (void *)mp->frame,
			q.start, q.end, q.level, (void *)q.frame);
	}
}

/* Map a fresh frame at @va: 4K, or (kind 1) 2M where the cursor holds
 * the whole 2M slot. */
static void session_map(struct session *s, unsigned kind, vms_vaddr_t va,
			uint64_t len)
{
	struct vmt_shadow *m = s->m;
	struct vms_cursor *c = s->c;
	int level = 1;
	struct vms_frame *f;
	vms_vaddr_t v2 = va & ~(M2 - 1);
	bool any = false;
	int r;

	if (kind == 1 && v2 >= s->start && v2 + M2 <= s->end) {
		level = 2;
		va = v2;
	}
	if (vms_frame_alloc(s->pool, level, &f))
		return; /* a fragmented pool may have no 2M frame */
	unsigned pr = vmt_rnd(s->seed);
	struct vms_prop prop = { (uint8_t)(pr & VMS_PROP_MASK),
				 (uint8_t)((pr >> 5) % 4),
				 (uint8_t)((pr >> 7) & VMS_PRIV_MASK) };
	CHECK_OK(vms_cursor_jump(c, va));
	r = vms_cursor_map(c, f, prop);
	if (r < 0) {
		if (r != -ENOMEM)
			vmt_fail(__FILE__, __LINE__,
				 "map L%d at %#" PRIx64 " in cursor [%#" PRIx64
				 ",%#" PRIx64 ") guard L%d: %d",
				 level, va, s->start, s->end,
				 vms__debug_cursor_guard_level(c), r);
		CHECK_OK(vms_frame_put(f));
		return;
	}
	for (vms_vaddr_t x = va; x < va + vms_page_size(level); x += K4)
		any |= mpage(m, x)->present;
	CHECK_EQ(r, any ? 1 : 0);
	CHECK_EQ(vms_cursor_va(c), va + vms_page_size(level));
	if (level == 1)
		shadow_split(m, va);
	for (vms_vaddr_t x = va; x < va + vms_page_size(level); x += K4) {
		struct vmt_page *p = mpage(m, x);

		p->present = true;
		p->level = level;
		p->lstart = va;
		p->frame = f;
		p->pa = vms_frame_paddr(f) + (x - va);
		p->prop = prop;
	}
}

static void session_unmap(struct session *s, unsigned kind, vms_vaddr_t va,
			  uint64_t len)
{
	struct vmt_shadow *m = s->m;
	struct vms_cursor *c = s->c;
	long want = 0, r;

	CHECK_OK(vms_cursor_jump(c, va));
	r = vms_cursor_unmap(c, len);
	if (r == -ENOMEM) {
		/* The tree is unchanged: so is the shadow. */
		CHECK_EQ(vms_cursor_va(c), va);
		return;
	}
	/* Only 2M leaves straddling an edge are split; one wholly
	 * inside goes as one leaf. */
	if (mpage(m, va)->lstart < va)
		shadow_split(m, va);
	if (mpage(m, va + len - K4)->present &&
	    mpage(m, va + len - K4)->level == 2 &&
	    mpage(m, va + len - K4)->lstart + M2 > va + len)
		shadow_split(m, va + len - K4);
	for (vms_vaddr_t x = va; x < va + len; x += K4) {
		struct vmt_page *p = mpage(m, x);

		if (p->present && p->lstart == x)
			want++;
	}
	if (r != want)
		vmt_fail(__FILE__, __LINE__,
			 "unmap [%#" PRIx64 ", +%#" PRIx64
			 ") in cursor [%#" PRIx64 ",%#" PRIx64
			 ") guard L%d: %ld leaves, shadow %ld",
			 va, len, s->start, s->end,
			 vms__debug_cursor_guard_level(c), r, want);
	CHECK_EQ(vms_cursor_va(c), va + len);
	for (vms_vaddr_t x = va; x < va + len; x += K4)
		memset(mpage(m, x), 0, sizeof(struct vmt_page));
}

static void session_protect(struct session *s, unsigned kind, vms_vaddr_t va,
			    uint64_t len)
{
	struct vmt_shadow *m = s->m;
	struct vms_cursor *c = s->c;
	unsigned pr = vmt_rnd(s->seed);
	vms_vaddr_t st = 0, e = 0, x;
	int r;

	for (x = va; x < va + len && !mpage(m, x)->present; x += K4)
		;
	CHECK_OK(vms_cursor_jump(c, va));
	r = vms_cursor_protect_next(c, len, shadow_flip, &pr, &st, &e);
	if (r == -ENOMEM)
		return;
	if (x == va + len) {
		CHECK_EQ(r, 0);
		CHECK_EQ(vms_cursor_va(c), va + len);
		return;
	}
	struct vmt_page *p = mpage(m, x);

	if (p->level == 2 && (p->lstart < va || p->lstart + M2 > va + len))
		shadow_split(m, x);
	CHECK_EQ(r, 1);
	CHECK_EQ(st, p->lstart);
	CHECK_EQ(e, p->lstart + vms_page_size(p->level));
	CHECK_EQ(vms_cursor_va(c), e);
	for (vms_vaddr_t y = st; y < e; y += K4) {
		struct vmt_page *q = mpage(m, y);

		q->prop.flags = (uint8_t)(pr & VMS_PROP_MASK);
		q->prop.cache = (uint8_t)((pr >> 5) % 4);
	}
}

static void session_find(struct session *s, unsigned kind, vms_vaddr_t va,
			 uint64_t len)
{
	struct vms_cursor *c = s->c;
	vms_vaddr_t found = 0, x;
	int r;

	for (x = va; x < va + len && !mpage(s->m, x)->present; x += K4)
		;
	CHECK_OK(vms_cursor_jump(c, va));
	r = vms_cursor_find_next(c, len, &found);
	if (x == va + len) {
		CHECK_EQ(r, 0);
		CHECK_EQ(vms_cursor_va(c), va + len);
	} else {
		CHECK_EQ(r, 1);
		CHECK_EQ(found, x);
		CHECK_EQ(vms_cursor_va(c), x);
	}
}

static void session_query(struct session *s, unsigned kind, vms_vaddr_t va,
			  uint64_t len)
{
	shadow_check_query(s->m, s->c, va);
}

/* The op of each kind a session draws (0-7): 2M maps are tried for one
 * kind in eight, queries for three. */
static void (*const session_ops[8])(struct session *s, unsigned kind,
				    vms_vaddr_t va, uint64_t len) = {
	session_map,  session_map,   session_unmap, session_protect,
	session_find, session_query, session_query, session_query,
};

/* A random page range [start, end) of the region; sometimes whole 2M
 * slots, so 2M maps and exact-entry guards occur. */
static void session_range(struct vmt_shadow *m, unsigned *seed,
			  vms_vaddr_t *start, vms_vaddr_t *end)
{
	size_t a, b;

	a = vmt_rnd(seed) % m->npages;
	b = vmt_rnd(seed) % m->npages;
	if (a > b) {
		size_t t = a;
		a = b;
		b = t;
	}
	if (vmt_rnd(seed) % 3 == 0) {
		a &= ~(size_t)511;
		b = (b | 511);
	}
	*start = m->base + a * K4;
	*end = m->base + (b + 1) * K4;
}

void vmt_shadow_session(struct vmt_shadow *m, unsigned *seed)
{
	struct session s = { .m = m, .seed = seed ? seed : &m->seed };
	vms_vaddr_t start, end;

	seed = s.seed;
	s.pool = vms_space_pool(m->space);
	session_range(m, seed, &s.start, &s.end);
	start = s.start;
	end = s.end;
	CHECK_OK(vms_cursor_mut_new(m->space, start, end, &s.c));

	for (int op = 0, nops = 1 + vmt_rnd(seed) % 6; op < nops; op++, atomic_fetch_add(&m->ops, 1)) {
		vms_vaddr_t va = start + (vmt_rnd(seed) % ((end - start) / K4)) * K4;
		uint64_t len = K4 * (1 + vmt_rnd(seed) % ((end - va) / K4));
		unsigned kind = vmt_rnd(seed) % 8;

		if (getenv("VMT_SHADOW_TRACE"))
			session_trace(&s, kind, va, len);
		session_ops[kind](&s, kind, va, len);
	}
	vms_cursor_drop(s.c);
}

void vmt_shadow_compare(struct vmt_shadow *m)
{
	struct vms_cursor *c;

	CHECK_OK(vms_cursor_new(m->space, m->base, m->base + m->npages * K4, &c));
	for (size_t i = 0; i < m->npages; i++)
		shadow_check_query(m, c, m->base + i * K4);
	vms_cursor_drop(c);
}
