/* SPDX-License-Identifier: MIT */
/*
 * access.c - lock-free accessor threads and the grace-period oracle.
 *
 * Every data frame the stress run allocates gets a header word at the
 * start of each 4 KiB page: the frame's index and its generation (the
 * core bumps struct vms_frame.gen at every final free; with VMS_POISON the
 * freed 4 KiB frame is filled with 0x6b). Reads come in two kinds:
 *
 *  - outer: the reader copies whole pages inside one outer RCU read-side
 *    section of its own, then, still inside it, looks at the generation
 *    of the frame each page came from: RCU promises that a frame the
 *    reader could reach is not freed before the section ends, so any
 *    generation change (or poison, or a page without a header) is a frame
 *    freed while a reader held it. The histogram of generation deltas is
 *    this harness's "reader pipe": only bucket 0 may be non-zero.
 *  - bare: the copy runs in the core's own read-side sections only (one
 *    per leaf), as a user's read does. The frame may be freed once the
 *    copy returns, so generations say nothing; but while the core copies
 *    a page the frame must be live, so poison, a page without its stamp or
 *    a word no writer wrote is a copy the core made outside its section.
 *    The outer kind would hide exactly that mistake.
 *
 * Grace periods end during reads because a reclaimer thread releases
 * deferred frames while the round runs (--reclaim, stress.c), and the
 * even-numbered accessors linger inside the core's copy of a hot read
 * (--read-hold, through the sync layer's scheduling point in
 * vms_copy_from_frame), while the odd-numbered ones copy at full speed.
 *
 * Writers in the hot region write whole words after the header and are
 * checked only indirectly (readers insist every word is a writer word,
 * zero, or the header). Writers in the stable zone, which no cursor ever
 * touches, must read back exactly.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "stress.h"

#define PAGE	((uint64_t)VMS_PAGE_SIZE)

extern _Atomic uint64_t vmts_recent_va[256];

void vmts_stamp_frame(struct stress *S, struct vms_frame *f)
{
	uint64_t idx = vms_frame_paddr(f) / PAGE;
	unsigned pages = vms_frame_level(f) == 2 ? VMS_NR_ENTRIES : 1;
	unsigned char *data = vms_frame_data(f);

	for (unsigned p = 0; p < pages; p++)
		*(uint64_t *)(data + p * PAGE) = hdr_word(idx, f->gen);
}

/* ---- accessor shadow registry -------------------------------------------- */

static uint64_t pack_acc(uint64_t start, uint64_t len, bool writer)
{
	return start << 17 | (len & 0xffff) << 1 | writer;
}

static void acc_enter(struct stress *S, unsigned j, uint64_t start, uint64_t len, bool writer)
{
	atomic_store(&S->acc_start[j], pack_acc(start, len, writer));
	if (!(S->o.oracles & (1u << ORA_ACCESS)))
		return;
	for (unsigned k = 0; k < S->nacc; k++) {
		uint64_t v, s, l;
		bool wk;

		if (k == j || !(v = atomic_load(&S->acc_start[k])))
			continue;
		s = v >> 17;
		l = (v >> 1) & 0xffff;
		wk = v & 1;
		/* closed intervals, as in access.h */
		if (!(s <= start + len && start <= s + l))
			continue;
		if (writer || wk || !(vms_space_flags(S->space) & VMS_SPACE_SHARED_READERS))
			vmts_violation(S, ORA_ACCESS, "%s: accessor %u %s "
				      "[%#lx,%#lx) and accessor %u %s [%#lx,%#lx) are both active",
				      vms_check_name(VMS_CHECK_ACC_CONFLICT), j,
				      writer ? "writer" : "reader", start, start + len, k,
				      wk ? "writer" : "reader", s, s + l);
	}
}

static void acc_leave(struct stress *S, unsigned j)
{
	atomic_store(&S->acc_start[j], 0);
}

/* ---- picking pages ------------------------------------------------------------ */

static uint64_t pick_hot_page(struct stress *S, uint64_t *rng)
{
	uint64_t r = vmts_rand(rng);

	if (r % 4) {
		uint64_t va = atomic_load_explicit(&vmts_recent_va[(r >> 8) % 256],
						   memory_order_relaxed);

		if (va >= S->hot_base && va < S->hot_end)
			return va & ~(PAGE - 1);
	}
	return S->hot_base + ((r >> 16) % (S->hot / PAGE)) * PAGE;
}

/* ---- checks on what a reader saw ---------------------------------------------- */

#define FREED vms_check_name(VMS_CHECK_FREED_READ)

/* @outer: the reader still holds the section it copied in (see above). */
static void check_page(struct stress *S, uint64_t va, const uint64_t *w, bool outer)
{
	uint64_t h = w[0], idx, age;
	uint32_t gen, cur;

	if (h == POISON_WORD) {
		atomic_fetch_add(&S->poison_seen, 1);
		vmts_violation(S, ORA_GRACE, "%s: at %#lx saw poison (0x6b)", FREED, va);
		return;
	}
	if (h >> 48 != HDR_MAGIC) {
		atomic_fetch_add(&S->bad_words, 1);
		vmts_violation(S, ORA_GRACE, "%s: at %#lx saw header %#lx, not a stamp",
			      FREED, va, h);
		return;
	}
	idx = (h >> 20) & 0xfffffff;
	gen = h & 0xfffff;
	if (idx >= S->pool->nr_frames) {
		vmts_violation(S, ORA_GRACE, "%s: at %#lx header %#lx names no frame", FREED, va, h);
		return;
	}
	/* Only inside the section the page was copied in: after it, the
	 * frame may be freed (gen++) at any moment, a race to look at. */
	if (outer) {
		cur = __atomic_load_n(&S->pool->meta[idx].gen, __ATOMIC_RELAXED) & 0xfffff;
		age = (cur - gen) & 0xfffff;
		atomic_fetch_add_explicit(&S->pipe[age < 9 ? age : 9], 1, memory_order_relaxed);
		if (age)
			vmts_violation(S, ORA_GRACE, "%s: at %#lx, frame %#lx (gen %u) "
				      "freed %lu time(s) before the reader's read-side section ended",
				      FREED, va, idx * PAGE, gen, age);
	}
	for (unsigned i = 1; i < PAGE / 8; i++) {
		if (w[i] == POISON_WORD) {
			atomic_fetch_add(&S->poison_seen, 1);
			vmts_violation(S, ORA_GRACE, "%s: at %#lx saw poison at +%#x: frame %#lx "
				      "freed mid-copy", FREED, va, i * 8, idx * PAGE);
			return;
		}
		if (w[i] && w[i] >> 48 != WR_MAGIC) {
			atomic_fetch_add(&S->bad_words, 1);
			vmts_violation(S, ORA_GRACE, "%s: at %#lx saw %#lx at +%#x: neither "
				      "zero nor a writer's word", FREED, va, w[i], i * 8);
			return;
		}
	}
}

static void hot_read(struct stress *S, unsigned j, uint64_t *rng, uint64_t *buf)
{
	uint64_t va = pick_hot_page(S, rng), len = PAGE * (1 + vmts_rand(rng) % 4), g0, g1;
	bool outer = vmts_rand(rng) & 1;	/* half and half, see the top */
	struct vms_reader *r;
	long n;

	if (len > S->hot_end - va)
		len = S->hot_end - va;
	if (vms_space_create_reader(S->space, va, len, &r)) {
		atomic_fetch_add_explicit(&S->acc_fail, 1, memory_order_relaxed);
		return;
	}
	if (vms_space_activate_reader(S->space, r)) {
		atomic_fetch_add_explicit(&S->acc_fail, 1, memory_order_relaxed);
		vms_reader_release(r);
		return;
	}
	acc_enter(S, j, va, len, false);
	if (outer)
		vms_rcu_read_lock();
	g0 = atomic_load(&vmts_gp_done);
	/* A slow reader and a fast one: the even-numbered accessors linger. */
	vmts_lingering = vmts_hold_us && !(j & 1);
	n = vms_reader_read(r, buf, len);
	vmts_lingering = false;
	if (!outer)
		g1 = atomic_load(&vmts_gp_done);
	for (long p = 0; S->o.oracles & (1u << ORA_GRACE) && p + (long)PAGE <= n; p += PAGE)
		check_page(S, va + p, buf + p / 8, outer);
	if (outer) {
		g1 = atomic_load(&vmts_gp_done);
		vms_rcu_read_unlock();
		if (g1 - g0 >= 2)
			vmts_violation(S, ORA_GRACE, "%s: %lu (at most 1 may)",
				      vms_check_name(VMS_CHECK_LONG_SECTION), g1 - g0);
	}
	atomic_fetch_add_explicit(&(outer ? S->gp_during : S->gp_during_bare)[g1 - g0 < 2 ?
				  g1 - g0 : 2], 1, memory_order_relaxed);
	acc_leave(S, j);
	vms_reader_release(r);
	atomic_fetch_add_explicit(&S->reads, 1, memory_order_relaxed);
}

/* A sub-range of one page that leaves its header word alone. */
static void pick_sub(uint64_t *rng, uint64_t *off, uint64_t *len)
{
	*off = 8 * (1 + vmts_rand(rng) % 511);
	*len = 8 * (1 + vmts_rand(rng) % ((PAGE - *off) / 8));
}

static void hot_write(struct stress *S, unsigned j, uint64_t *rng, uint64_t *buf)
{
	uint64_t page = pick_hot_page(S, rng), off, len, seq;
	struct vms_writer *w;

	pick_sub(rng, &off, &len);
	if (vms_space_create_writer(S->space, page + off, len, &w)) {
		atomic_fetch_add_explicit(&S->acc_fail, 1, memory_order_relaxed);
		return;
	}
	if (vms_space_activate_writer(S->space, w)) {
		atomic_fetch_add_explicit(&S->acc_fail, 1, memory_order_relaxed);
		vms_writer_release(w);
		return;
	}
	acc_enter(S, j, page + off, len, true);
	seq = atomic_fetch_add(&S->wseq, 1);
	for (uint64_t i = 0; i < len / 8; i++)
		buf[i] = wr_word(j, seq);
	vms_writer_write(w, buf, len);
	acc_leave(S, j);
	vms_writer_release(w);
	atomic_fetch_add_explicit(&S->writes, 1, memory_order_relaxed);
}

/* Stable zone: what a writer wrote is in the frame at once, and a reader
 * that follows sees it unless a later writer overwrote it. */
static void stable_roundtrip(struct stress *S, unsigned j, uint64_t *rng, uint64_t *buf)
{
	uint64_t p = vmts_rand(rng) % S->stable_pages, off, len, seq, mine, va;
	const unsigned char *data = vms_frame_data(S->stable_frames[p]);
	struct vms_writer *w;
	struct vms_reader *r;
	long n;

	pick_sub(rng, &off, &len);
	va = S->stable_base + p * PAGE + off;
	if (vms_space_create_writer(S->space, va, len, &w))
		return;
	if (vms_space_activate_writer(S->space, w)) {
		vms_writer_release(w);
		return;
	}
	acc_enter(S, j, va, len, true);
	seq = atomic_fetch_add(&S->wseq, 1);
	mine = wr_word(j, seq);
	for (uint64_t i = 0; i < len / 8; i++)
		buf[i] = mine;
	n = vms_writer_write(w, buf, len);
	if (n != (long)len && (S->o.oracles & (1u << ORA_ACCESS)))
		vmts_violation(S, ORA_ACCESS, "writer on stable [%#lx,%#lx) wrote %ld bytes",
			      va, va + len, n);
	for (uint64_t i = 0; i < len / 8 && (S->o.oracles & (1u << ORA_ACCESS)); i++) {
		uint64_t got = __atomic_load_n((const uint64_t *)(data + off) + i, __ATOMIC_RELAXED);

		if (got != mine) {
			vmts_violation(S, ORA_ACCESS, "writer on stable [%#lx,%#lx) still active: "
				      "word at %#lx is %#lx, wrote %#lx", va, va + len,
				      va + i * 8, got, mine);
			break;
		}
	}
	acc_leave(S, j);
	vms_writer_release(w);
	atomic_fetch_add_explicit(&S->writes, 1, memory_order_relaxed);

	if (vms_space_create_reader(S->space, va, len, &r))
		return;
	if (vms_space_activate_reader(S->space, r)) {
		vms_reader_release(r);
		return;
	}
	acc_enter(S, j, va, len, false);
	n = vms_reader_read(r, buf, len);
	if (n != (long)len && (S->o.oracles & (1u << ORA_ACCESS)))
		vmts_violation(S, ORA_ACCESS, "reader on stable [%#lx,%#lx) read %ld bytes",
			      va, va + len, n);
	for (long i = 0; i < n / 8 && (S->o.oracles & (1u << ORA_ACCESS)); i++) {
		uint64_t x = buf[i];

		/* ours, or a later writer's (sequence numbers only grow) */
		if (x != mine && !(x >> 48 == WR_MAGIC && (x & 0xffffffffffULL) > (seq & 0xffffffffffULL))) {
			vmts_violation(S, ORA_ACCESS, "read back on stable at %#lx: %#lx, wrote "
				      "%#lx", va + i * 8, x, mine);
			break;
		}
	}
	acc_leave(S, j);
	vms_reader_release(r);
	atomic_fetch_add_explicit(&S->roundtrips, 1, memory_order_relaxed);
}

void *vmts_accessor_main(void *arg)
{
	struct stress *S = vmts_S;
	unsigned j = (unsigned)(uintptr_t)arg, self = S->nworkers + j;
	uint64_t rng = S->o.seed ^ (0xc2b2ae3d27d4eb4fULL * (j + 101));
	uint64_t *buf = malloc(4 * PAGE + 64);

	if (!buf || vms_space_activate(S->space)) {
		fprintf(stderr, "vmtorture stress: accessor %u cannot start\n", j);
		exit(2);
	}
	vmts_rand(&rng);
	while (vmts_checkpoint(S, self)) {
		uint64_t r = vmts_rand(&rng) % 8;

		atomic_store_explicit(&S->ts[self].what, "accessor", memory_order_relaxed);
		if (r < 4)
			hot_read(S, j, &rng, buf);
		else if (r < 6)
			hot_write(S, j, &rng, buf);
		else
			stable_roundtrip(S, j, &rng, buf);
		atomic_fetch_add_explicit(&S->ts[self].progress, 1, memory_order_relaxed);
		atomic_store_explicit(&S->ts[self].what, "accessor idle", memory_order_relaxed);
	}
	vms_space_deactivate(S->space);
	free(buf);
	return NULL;
}
