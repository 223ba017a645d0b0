/* SPDX-License-Identifier: MIT */
/*
 * internal.h - libvms internal structures, shared by the core modules.
 * Each struct states the invariants that hold for it and who may touch
 * which field under which lock.
 */
#ifndef VMS_INTERNAL_H
#define VMS_INTERNAL_H

#include <pthread.h>
#include <vms/vms.h>
#include "sync.h"
#include "pte.h"

#define VMS_CHUNK_FRAMES	512		/* 4 KiB frames per 2 MiB chunk */
#define VMS_CHUNK_SIZE		(VMS_CHUNK_FRAMES * VMS_PAGE_SIZE)
#define VMS_POOL_MIN		(2 * VMS_CHUNK_SIZE)
#define VMS_POOL_MAX		(64ULL << 30)
#define VMS_NR_SHARDS		8
/* The retire batch a new pool starts with (vms/pool.h). The checking
 * builds hand every drop's retired items to the reclaimer at once, as
 * before batching: the controlled scheduler's traces stay short and
 * depend on no state a thread carried over from an earlier run, and the
 * grace-period oracles of the stress driver see every release race with
 * readers, not only those of a full batch. */
#if defined(VMS_SCHED) || defined(VMS_POISON)
#define VMS_RETIRE_BATCH_DEFAULT	1
#else
#define VMS_RETIRE_BATCH_DEFAULT	VMS_RETIRE_BATCH
#endif

enum vms_frame_kind {
	VMS_FRAME_FREE = 0, /* on a free list or never handed out */
	VMS_FRAME_DATA,	    /* a data frame's head (level 1 or 2) */
	/* 2 was a 4K unit inside a 2 MiB data frame: those slots are not
	 * written now (pool.c frame_head); the numbers reports print stay. */
	VMS_FRAME_PT = 3,   /* a page-table node */
	VMS_FRAME_RESERVED, /* frame 0: physical address 0 is never used */
};

/*
 * Metadata of one 4 KiB frame; struct vms_frame * is the public handle of
 * a data frame and the node pointer of a page-table node.
 *
 * Data frames: refcount = handles + PTEs mapping the frame + releases
 * pending a grace period. handles <= refcount. A 2 MiB frame's references
 * all live on its head, including one per 4K PTE after a split.
 *
 * Page-table nodes: level is fixed at allocation; lock holds the owner's
 * thread id; nr_children (the non-zero PTEs) and stray are read and
 * written only under lock. A node is reachable from its space's root iff
 * it is not stray; once stray it stays stray until freed, which happens
 * at least one grace period after it was detached.
 *
 * One cache line each (as Linux's struct page): every session that maps
 * a frame or locks a node writes its refcount or lock, and two threads
 * on disjoint ranges touch different frames; at 48 bytes, neighbours in
 * the metadata array shared lines, and make bench's mt_disjoint ran
 * 18 % more CPU per session than two threads on private pools.
 */
struct vms_frame {
	vms_ref_t refcount;
	vms_ref_t handles;
	vms_lock_t lock;
	uint32_t next_free;		/* free-list link (frame index), under the shard lock */
	uint16_t nr_children;
	uint8_t kind;			/* enum vms_frame_kind */
	uint8_t level;
	uint8_t stray;
	uint32_t gen;			/* bumped at every final free; 0 after a reset */
	struct vms_pool *pool;
} __attribute__((aligned(64)));
_Static_assert(sizeof(struct vms_frame) == 64, "frame metadata is one cache line");

/* A shard: a cache line of its own, so threads on different shards do
 * not bounce one. */
struct vms_shard {
	vms_lock_t lock;
	uint32_t head;			/* free 4K frames (index; 0 = empty) */
	uint64_t count;
} __attribute__((aligned(64)));

/*
 * A pool: one reserved region [base, base + nr_frames * 4K) and its
 * metadata array. paddr == frame index * 4K; the linear map is base + pa.
 * Chunks below next_chunk have been handed out at least once (since the
 * pool was made or last reset); higher ones are untaken. A page whose
 * dirty and stale bits are clear holds zeros; memory is not given back to the kernel
 * before vms_pool_destroy.
 *
 * Layout: the fields every cursor session reads (base, meta, nr_frames,
 * dirty, resets, the retire batch) never share a cache line with fields
 * written while sessions run; the counters are sharded.
 */
struct vms_pool {
	unsigned char *base;
	struct vms_frame *meta;
	uint64_t nr_frames, nr_chunks;
	/* Frames the memory below was made for: nr_frames or more, when it
	 * was kept from a larger pool (pool.c pool_mem_get). */
	uint64_t mem_frames;
	uint32_t *free_chunks; /* then the carved list (pool.c) */
	/* A bit per frame: written since the last reset, before it (pool.c). */
	_Atomic uint64_t *dirty, *stale;
	uint32_t resets;		/* vms_pool_reset calls (cursor.c) */

	_Atomic uint64_t next_chunk __attribute__((aligned(64)));
	_Atomic uint64_t nr_carved;	/* chunks carved since made or reset */
	vms_lock_t chunk_lock;		/* protects free_chunks, nr_free_chunks */
	uint64_t nr_free_chunks;
	struct vms_shard shard[VMS_NR_SHARDS];

	struct vms_count used_frames;	/* 4K units not free (incl. frame 0) */
	struct vms_count data_frames;
	struct vms_count pt_frames;

	/*
	 * Deferred releases (sync.h): a cursor's drop adds its items to its
	 * thread's batch, and a batch that weighs the retire batch goes to
	 * the reclaimer, a worker thread started on first need, which waits
	 * for the grace period off the hot path. vms_pool_quiesce() collects
	 * every thread's batch and reclaims synchronously (serialised with
	 * the reclaimer by the stack's reclaim_lock).
	 */
	struct vms_defer_stack deferred;
	struct vms_worker reclaimer;
	_Atomic bool reclaim_inline; /* vms_pool_set_reclaim_inline */

	vms_mutex_t spaces_lock;	/* protects spaces, nr_spaces */
	struct vms_space *spaces;
	uint64_t nr_spaces;

	/* The checker's per-frame counts, kept from one check to the next
	 * (check.c); a check that finds them in use takes its own. */
	uint32_t *check_refs;
	uint64_t check_cap;
	atomic_bool check_busy;
};

/* Accessor (reader or writer); registered while active. */
struct vms_acc {
	struct vms_space *space;
	vms_vaddr_t start, end, pos;
	bool writer, active;
	struct vms_acc *next;		/* registry link, under space->acc_lock */
};
struct vms_reader { struct vms_acc a; };
struct vms_writer { struct vms_acc a; };

/*
 * A VM space. root is a level-4 node allocated with the space and never
 * detached. Destroy refuses while a node of the tree is locked (an open
 * cursor holds its guard); active counts threads whose current space
 * this is. The accessor registry satisfies the owner invariant (access.h)
 * at all times.
 */
struct vms_space {
	struct vms_pool *pool;
	struct vms_frame *root;
	unsigned flags;
	vms_ref_t active __attribute__((aligned(64)));
	vms_mutex_t acc_lock;		/* protects readers, writers, accessors */
	struct vms_acc *readers, *writers;
	int accessors;			/* created and not yet released */
	struct vms_space *next;		/* pool->spaces link */
};

/*
 * A cursor holds, from creation to drop: an RCU read-side section, the
 * lock of guard (the lowest node covering [start, end)) and the lock of
 * every node below guard that intersects [start, end). All operations
 * walk down from guard, so they touch only nodes the cursor holds.
 * Removed frames and detached subtrees collect in defer (released after a
 * grace period once the cursor is dropped). A dropped cursor waits in its
 * thread's cursor cache (linked by next) for the thread's next session,
 * with its defer batch, now empty, still attached.
 */
struct vms_cursor {
	struct vms_space *space;
	struct vms_pool *pool;
	vms_vaddr_t start, end, va;
	struct vms_frame *guard;
	int guard_level;
	bool mut;
	struct vms_defer_batch *defer;
	uint64_t last_frame;		/* the frame defer_frame retired last */
	uint32_t resets;		/* pool->resets when last_frame was set */
	struct vms_cursor *next;
};

/* Deferred items: a data-frame reference or a detached subtree root,
 * both as a physical address with the low bit telling which. */
#define VMS_DEFER_SUBTREE	1ULL

/* ---- pool.c ---- */
static inline struct vms_frame *vms_meta(struct vms_pool *p, vms_paddr_t pa)
{
	return &p->meta[pa >> VMS_PAGE_SHIFT];
}

static inline vms_paddr_t vms_meta_paddr(const struct vms_frame *f)
{
	return (vms_paddr_t)(f - f->pool->meta) << VMS_PAGE_SHIFT;
}

static inline vms_pte_t *vms_node_ptes(struct vms_frame *node)
{
	return (vms_pte_t *)(node->pool->base + vms_meta_paddr(node));
}

static inline bool vms_pa_in_pool(struct vms_pool *p, vms_paddr_t pa)
{
	return pa >> VMS_PAGE_SHIFT < p->nr_frames;
}

/* The data frame owning @pa (its head), or NULL. */
struct vms_frame *vms_frame_owner(struct vms_pool *p, vms_paddr_t pa);
struct vms_frame *vms_node_alloc(struct vms_pool *p, int level);
void vms_node_free(struct vms_frame *node);
void vms_frame_ref_add(struct vms_frame *f, uint64_t n);
void vms_frame_ref_put(struct vms_frame *f, uint64_t n);
bool vms_frame_is_data(const struct vms_frame *f);
/* An accessor wrote [at, at + n) of the pool's memory. */
void vms_pool_dirty(struct vms_pool *p, const void *at, size_t n);
/* Release a detached subtree now (its grace period has passed). */
void vms_subtree_free(struct vms_frame *node);

/* ---- cursor.c ---- */
/* Free @t's cached cursors (when it ends). */
void vms_cursor_cache_free(struct vms_thread *t);

/* ---- lock.c: the lock protocol ---- */
int vms_lock_range(struct vms_space *s, vms_vaddr_t start, vms_vaddr_t end,
		   struct vms_frame **guard);
void vms_unlock_range(struct vms_frame *guard, vms_vaddr_t start, vms_vaddr_t end);
/* Mark every node of a detached subtree stray and unlock it, children
 * first; returns the number of leaves it holds. */
uint64_t vms_detach_subtree(struct vms_frame *node, vms_vaddr_t base);
/* Is a node of the tree under @node locked? An open cursor holds at least
 * its guard, so this is "is a cursor open (or opening) in this tree",
 * without a count every session would update. Exact at quiescence, a
 * snapshot otherwise; call inside a read-side section. */
bool vms_tree_locked(struct vms_frame *node);

static inline int vms_pte_index(vms_vaddr_t va, int level)
{
	return (int)((va >> (VMS_PAGE_SHIFT + 9 * (level - 1))) & (VMS_NR_ENTRIES - 1));
}

static inline vms_vaddr_t vms_align_down(vms_vaddr_t va, uint64_t size)
{
	return va & ~(size - 1);
}

/* Span start of the level-@level node that covers @va. */
static inline vms_vaddr_t vms_node_base(vms_vaddr_t va, int level)
{
	return vms_align_down(va, vms_page_size(level) * VMS_NR_ENTRIES);
}

static inline struct vms_frame *vms_pte_child(struct vms_pool *p, uint64_t pte)
{
	return vms_meta(p, vms_pte_paddr(pte));
}

/* ---- space.c ---- */
void vms_space_thread_exit(void);
bool vms_space_is_current(const struct vms_space *s);

/*
 * Poison builds (the stress driver's copy of the core, -DVMS_POISON) and
 * the fuzz builds (-DVMS_INVARIANTS) check
 * at run time what the seed keeps as ghost state: a node that a walk
 * enters, or a cursor locks or unlocks, is a live page-table node. A freed
 * one (now free or a data frame) was reached through a pointer that
 * outlived its grace period, or a lock kept past its node's release.
 * Every check reports through vms_invariant_broken: the hook (set by the
 * stress driver, the fuzz executor and the controlled scheduler's tests)
 * if there is one, else abort. Each check is a VMS_INVARIANT row of
 * vms/checks.def, so every engine names it alike; @where is the function
 * that found it.
 */
#ifdef VMS_CHECKS /* sync.h */
extern void (*vms_poison_hook)(enum vms_check check, const char *where);
void vms_invariant_broken(enum vms_check check, const char *where);
void vms_check_detached(struct vms_frame *node);
void vms_node_check_live(const struct vms_frame *n, const char *where);
void vms_node_check_mine(struct vms_frame *n, const char *where);
void vms_copy_check_span(struct vms_pool *p, vms_paddr_t pa, uint64_t n, const char *where);
/* A node a walk enters or a cursor locks or unlocks is a live one. */
#define VMS_NODE_LIVE(n) vms_node_check_live((n), __func__)
/* The @n bytes a translation hands out from @pa lie in one data frame. */
#define VMS_COPY_SPAN(p, pa, n) vms_copy_check_span((p), (pa), (n), __func__)
/* A cursor releases only locks it holds: a lock it does not hold was
 * reached through an entry it read without holding the node above. */
#define VMS_NODE_MINE(n) vms_node_check_mine((n), __func__)
/* What a lock-free reader may still reach (a page-table subtree, a frame
 * reference a PTE held) is released only after a grace period, i.e. from
 * the deferred-release loop. */
#define VMS_AFTER_GRACE(check)						\
	do {								\
		if (!vms_thread()->after_grace)				\
			vms_invariant_broken(VMS_CHECK_##check, __func__);	\
	} while (0)
/* What mutex @m protects is edited only by a thread that holds it
 * (lockdep_assert_held): one that does not breaks @check. */
#define VMS_HELD(m, check)                                                     \
	do {                                                                   \
		if (!vms_mutex_held(m))                                        \
			vms_invariant_broken(VMS_CHECK_##check, __func__);     \
	} while (0)
#else
#define VMS_NODE_LIVE(n) do { } while (0)
#define VMS_COPY_SPAN(p, pa, n) do { } while (0)
#define VMS_NODE_MINE(n) do { } while (0)
#define VMS_AFTER_GRACE(check) do { } while (0)
#define VMS_HELD(m, check)                                                     \
	do {                                                                   \
	} while (0)
static inline void vms_check_detached(struct vms_frame *node) { }
#endif

#endif /* VMS_INTERNAL_H */
