/* SPDX-License-Identifier: MIT */
/*
 * model.h - the sequential reference model of libvms (one thread).
 *
 * Written for obviousness, not speed: mappings are a sorted array of
 * leaves per space, frames are identified by a small integer id, frame
 * contents are kept per 4 KiB page of each frame (so every alias of a
 * frame, including the 4 KiB pieces of a split 2 MiB frame, sees the same
 * bytes). Each call returns what the matching libvms call must return,
 * error codes included, checked in the order access.h/cursor.h/... list
 * them. Nothing here comes from core/: only the public types header.
 *
 * Where libvms depends on the shape of its tree (the absent range query
 * returns), the model gives a constraint instead of a value: see
 * vmt_model_absent_ok().
 *
 * Threads: the model is applied in one serial order, but what belongs to
 * a thread in libvms (its active space, its cursors) is kept per thread:
 * each call acts for the thread vmt_model_set_thread() chose (0 unless
 * told). Spaces, leaves, frames and the accessor registry are shared.
 *
 * -ENOMEM: the model does not know the tree shape, so it cannot know when
 * the pool runs out. vmt_model_may_enomem() says whether exhaustion is
 * possible at all (a conservative bound on used chunks); the caller then
 * arms vmt_model_fail_next_alloc() and repeats the call, which fails with
 * -ENOMEM after its argument checks only if it could have allocated.
 */
#ifndef VMT_MODEL_H
#define VMT_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <vms/types.h>

#define VMT_MODEL_SPACES	4
#define VMT_MODEL_THREADS	4
#define VMT_MODEL_ACCS		16	/* over all threads */
#define VMT_MODEL_NOFRAME	(-1)	/* the NULL frame */

struct vmt_model;

/* A leaf: [va, va + vms_page_size(level)) maps frame @frame at byte
 * offset @off (non-zero only for a 4 KiB piece of a split 2 MiB frame). */
struct vmt_mleaf {
	uint64_t va;
	int level;
	int frame;
	uint64_t off;
	struct vms_prop prop;
};

struct vmt_model *vmt_model_new(void);
void vmt_model_free(struct vmt_model *m);
/* Back to the state vmt_model_new() returns, keeping the memory it grew
 * (a fuzz executor reuses one model for every input). */
void vmt_model_reset(struct vmt_model *m);

/* Pool geometry, for vmt_model_may_enomem(): 4 KiB frames and 2 MiB
 * chunks the pool has (from vms_pool_stats and the pool size). */
void vmt_model_set_pool(struct vmt_model *m, uint64_t total_frames, uint64_t nr_chunks);
/* True if an allocation of a 2 MiB chunk (@chunk) or a 4 KiB frame could
 * fail now, under a pessimistic bound (every 4 KiB frame or node ever
 * possibly alive sits in its own chunk; releases since the last quiesce
 * point still pending). */
bool vmt_model_may_enomem(struct vmt_model *m, bool chunk);
/* The next call that may allocate returns -ENOMEM after its argument
 * checks (and changes nothing). Cleared by every call. */
void vmt_model_fail_next_alloc(struct vmt_model *m);
/* The next call that can fail with -ENOMEM at all (it allocates in
 * libvms: frame_alloc, space_new, space_destroy, cursor_new, map, unmap,
 * protect_next, acc_new, check) does so after its argument checks, even
 * where the model sees no allocation: libvms had an allocation fail on
 * purpose (fault injection) and the call must change nothing. Cleared by
 * every call. */
void vmt_model_fail_next_call(struct vmt_model *m);

/* ---- frames (pool.h) ---- */
int vmt_model_frame_alloc(struct vmt_model *m, int level, int *id);
int vmt_model_frame_get(struct vmt_model *m, int id);
int vmt_model_frame_put(struct vmt_model *m, int id);
bool vmt_model_frame_live(const struct vmt_model *m, int id);
int vmt_model_frame_level(const struct vmt_model *m, int id);
uint64_t vmt_model_frame_handles(const struct vmt_model *m, int id);
/* handles + leaves mapping it (pending releases are the core's business:
 * compare only at a quiesce point). */
uint64_t vmt_model_frame_refcount(const struct vmt_model *m, int id);
/* Write @n bytes at @off into frame @id (live or not), as a copy of the
 * simulated MMU did (the controlled executor replays each page it saw). */
void vmt_model_frame_write(struct vmt_model *m, int id, uint64_t off,
			   const void *buf, size_t n);
/* Number of frame ids ever handed out (ids are 0..n-1). */
int vmt_model_nr_frames(const struct vmt_model *m);
/* Bytes of frame @id at [off, off + n) (zeros where never written). A
 * dead frame keeps its last contents until the model is reset. */
void vmt_model_frame_read(const struct vmt_model *m, int id, uint64_t off,
			  void *buf, size_t n);
/* The first page of frame @id from @pg on that was ever written (the
 * others read as 0); its number of pages if none. */
uint64_t vmt_model_frame_next_touched(const struct vmt_model *m, int id, uint64_t pg);
/* 4 KiB units held by live data frames. */
uint64_t vmt_model_data_frames(const struct vmt_model *m);

/* ---- spaces (space.h) ---- */
int vmt_model_space_new(struct vmt_model *m, int sp, unsigned flags);
int vmt_model_space_destroy(struct vmt_model *m, int sp);
int vmt_model_space_activate(struct vmt_model *m, int sp);
int vmt_model_space_deactivate(struct vmt_model *m, int sp);
bool vmt_model_space_live(const struct vmt_model *m, int sp);
unsigned vmt_model_space_flags(const struct vmt_model *m, int sp);
int vmt_model_current(const struct vmt_model *m);	/* -1 if none */
/* The thread (0..VMT_MODEL_THREADS-1) the calls that follow act for. */
void vmt_model_set_thread(struct vmt_model *m, int thread);
int vmt_model_nr_spaces(const struct vmt_model *m);	/* live spaces */

/* ---- cursors (cursor.h), at most one per space ---- */
int vmt_model_cursor_new(struct vmt_model *m, int sp, bool mut,
			 uint64_t start, uint64_t end);
void vmt_model_cursor_drop(struct vmt_model *m, int sp);
bool vmt_model_cursor_open(const struct vmt_model *m, int sp);
uint64_t vmt_model_cursor_va(const struct vmt_model *m, int sp);

/* Query: 0 and *@mapped says whether @leaf is filled; if not, the core's
 * answer must satisfy vmt_model_absent_ok() for the cursor's va. */
int vmt_model_query(struct vmt_model *m, int sp, bool *mapped, struct vmt_mleaf *leaf);
/* The core's absent slot [start, end) at @level is acceptable for @va:
 * it contains va, is one aligned slot of its level, and no leaf of the
 * model overlaps it. */
bool vmt_model_absent_ok(const struct vmt_model *m, int sp, uint64_t va,
			 uint64_t start, uint64_t end, int level);
int vmt_model_find_next(struct vmt_model *m, int sp, uint64_t len, uint64_t *found);
int vmt_model_jump(struct vmt_model *m, int sp, uint64_t va);
int vmt_model_map(struct vmt_model *m, int sp, int frame, struct vms_prop prop);
long vmt_model_unmap(struct vmt_model *m, int sp, uint64_t len);
int vmt_model_protect_next(struct vmt_model *m, int sp, uint64_t len,
			   void (*fn)(struct vms_prop *, void *), void *arg,
			   uint64_t *start, uint64_t *end);

/* Leaves of space @sp in address order. */
size_t vmt_model_nr_leaves(const struct vmt_model *m, int sp);
const struct vmt_mleaf *vmt_model_leaf(const struct vmt_model *m, int sp, size_t i);
/* The leaf containing @va, or NULL. */
const struct vmt_mleaf *vmt_model_lookup(const struct vmt_model *m, int sp, uint64_t va);
uint64_t vmt_model_mapped_bytes(const struct vmt_model *m, int sp);

/* ---- accessors (access.h); slot @acc, 0..VMT_MODEL_ACCS-1 ---- */
int vmt_model_acc_new(struct vmt_model *m, int acc, int sp, bool writer,
		      uint64_t va, uint64_t len);
int vmt_model_acc_activate(struct vmt_model *m, int acc, int sp);
/*
 * The same with the answer to "is every page of the range mapped" given
 * (@mapped), and a copy of @n bytes of which libvms copied @done (or
 * -EFAULT): for a driver that judged the pages itself, against every
 * state the tree went through during a racing call (the controlled
 * executor). The copy checks the accessor like a read or write, advances
 * it by @done if that is an answer a page-by-page copy can give, and
 * returns what it expects (the error, or @done if it is plausible).
 */
int vmt_model_acc_activate_seen(struct vmt_model *m, int acc, int sp, bool mapped);
long vmt_model_acc_copy_seen(struct vmt_model *m, int acc, bool write, size_t n, long done);
/* Every page of [va, va + len) of space @sp holds a leaf. */
bool vmt_model_range_mapped(const struct vmt_model *m, int sp, uint64_t va, uint64_t len);
long vmt_model_acc_read(struct vmt_model *m, int acc, void *buf, size_t n);
long vmt_model_acc_write(struct vmt_model *m, int acc, const void *buf, size_t n);
uint64_t vmt_model_acc_remain(const struct vmt_model *m, int acc);
int vmt_model_acc_release(struct vmt_model *m, int acc);
bool vmt_model_acc_used(const struct vmt_model *m, int acc);
bool vmt_model_acc_writer(const struct vmt_model *m, int acc);
int vmt_model_acc_space(const struct vmt_model *m, int acc);

/* ---- check.h / quiesce ---- */
/* What vms_space_check must return; on 0 it is a quiesce point. */
int vmt_model_check(struct vmt_model *m, int sp);

/*
 * The rule behind the model's last refusal ("length zero, unaligned or
 * past the cursor's end") or short accessor copy, then forgotten; NULL if
 * the last refusal named none. A divergence where libvms accepted what the model refused is
 * titled by this rule, so one missing check is one finding whichever op
 * ran into it.
 */
const char *vmt_model_why(struct vmt_model *m);

int vmt_model_quiesce(struct vmt_model *m);

/* The model's own invariants (the seed's owner invariant on every
 * space's registry, sorted disjoint aligned leaves, frame reference
 * counts). @full adds the O(leaves) checks. 0, or -1 with @why set. */
int vmt_model_selfcheck(const struct vmt_model *m, bool full, char *why, size_t n);

#endif /* VMT_MODEL_H */
