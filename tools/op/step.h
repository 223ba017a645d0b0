/* SPDX-License-Identifier: MIT */
/*
 * step.h - what each op means, in two halves joined by one record.
 *
 * The core step runs one op on libvms for one thread and fills a struct
 * vmt_outcome with everything libvms answered. The model step applies the
 * same op to the reference model and checks that outcome, returning a
 * one-line difference. Every driver uses the same two steps:
 *   - vmt_exec (exec.c): one thread, core step then model step per op;
 *   - the stress driver: workers run core steps and log outcomes, the
 *     coordinator applies the model steps in ticket (linearization) order.
 *
 * State. What every thread of a run shares (the pool, the spaces, the
 * frame numbering) is a struct vmt_shared; each thread has its own
 * struct vmt_thread (its cursors, accessors and frame slots) pointing at
 * it. Outcomes name frames by gid, a number given at allocation and
 * unique in the run, never by a thread's slot, so the model step can take
 * any thread's outcomes in any serial order. The model side (struct
 * vmt_model_side) maps gids to model frame ids.
 *
 * A thread is "exclusive" when it is alone on the pool and its outcomes
 * are checked right after each op (vmt_exec). Only then does the core
 * step look at things another thread could change under it: handle and
 * reference counts after frame ops, the contents of a new frame, and the
 * pool after -ENOMEM (it quiesces it and records the result, so the
 * model can tell whether the pool really was exhausted). The frame slots
 * also keep their rule from op.h only then (a slot names its frame until
 * it dies; the caller empties it, see vmt_thread_forget); otherwise a
 * slot keeps a frame only while the thread holds a handle on it, since
 * any other thread may unmap its last mapping.
 */
#ifndef VMT_STEP_H
#define VMT_STEP_H

#include <stdatomic.h>
#include <vms/vms.h>

#include "op.h"

struct vmt_model;
struct vmt_exec_opts;
struct vmt_result;
struct vmt_mleaf;

/* ---- the record -------------------------------------------------------- */

/* Which of the optional observations of a struct vmt_outcome were made. */
enum {
	VMT_SEEN_VA = 1 << 0,		/* va: the thread's cursor was open after the op */
	VMT_SEEN_COUNTS = 1 << 1,	/* handles (frame ops; + refcount, level, dirty: frame_alloc) */
	VMT_SEEN_QUIESCE = 1 << 2,	/* quiesce: the core relieved the pool after -ENOMEM */
	/* The driver judged what raced (the controlled executor): a copy's
	 * pages and bytes, an activation's "all mapped" (in mapped), against
	 * every state the tree went through during the call; the model step
	 * checks the rest of the call. */
	VMT_SEEN_RACY = 1 << 3,
	/* Not run: the op's space slot was empty when the thread looked (a
	 * slot another thread fills); the model must have no space there. */
	VMT_SEEN_SKIP = 1 << 4,
};

/* vms_space_check of one space, as the check op saw it. */
struct vmt_check_seen {
	bool checked;
	int ret;
	struct vms_check_report rep;
};

/* One executed op and what libvms answered. */
struct vmt_outcome {
	struct vmt_op op;	/* the op as run (after any shaping by the driver) */
	long ret;		/* the call's result */
	uint16_t thread;	/* the thread that ran it */
	uint8_t space;		/* the space slot it acted on (space_switch, activate: resolved) */
	uint8_t seen;		/* VMT_SEEN_* */
	uint64_t va;		/* cursor ops: the cursor's va after the op */
	/* frame ops and map: the slot's frame (0: empty slot); query: the
	 * mapped frame (0: absent); frame_alloc: the new frame */
	uint64_t frame;
	/* query: the slot [start, end) at level, paddr, prop; find_next: start
	 * = found; protect_next: [start, end); frame_alloc: paddr, level */
	uint64_t start, end, paddr;
	int level;
	struct vms_prop prop;
	uint64_t handles, refcount;	/* VMT_SEEN_COUNTS */
	bool dirty;			/* frame_alloc: the new frame was not zeroed */
	long quiesce;			/* VMT_SEEN_QUIESCE */
	unsigned flags;			/* space_new: the new space's flags */
	bool pool_other; /* space_new: vms_space_pool named another pool */
	bool mapped;			/* activate with VMT_SEEN_RACY: every page was mapped */
	/* cursor_try: its locks meet the open cursor's, -EDEADLK is due
	 * (the model cannot know: vmt_exec's judgement, exec_check.c
	 * lockstep_judge_try; only vmt_exec runs the op). */
	bool conflict;
	bool released;			/* acc_new: a used slot was released first, */
	long release_ret;		/* with this result */
	uint64_t remain;		/* accessor ops */
	int current;			/* space ops: slot of vms_space_current() (-1 none, -2 foreign) */
	/* The kind of the first allocation libvms failed on purpose during
	 * the op (core/src/fault.h; 0: none): armed by a fail op, or at
	 * random (stress --faults). The model step then expects -ENOMEM and
	 * no change. fault_nth: which allocation of the op that was, of any
	 * kind (what "fail nth=N" replays; 0 if above 255). */
	uint8_t fault, fault_nth;
	/* read: the bytes read; write: the bytes written (NULL: the model
	 * step makes them again from the pattern); check: struct
	 * vmt_check_seen[VMT_NR_SPACES] (and ret = the pool quiesce if there
	 * was no space); pool_new that succeeded: the new pool's struct
	 * vms_pool_stats (and release_ret = its vms_pool_destroy). Owned by the thread: valid until its next core step,
	 * a driver that checks later copies them (or drops a write's). */
	const void *data;
};

/* ---- core side ----------------------------------------------------------- */

struct vmt_shared {
	struct vms_pool *pool;
	struct vms_space *space[VMT_NR_SPACES];
	_Atomic uint64_t next_gid;	/* gids start at 1; 0 is "no frame" */
	/* Per 4 KiB frame (paddr >> 12): the gid of its allocation, in pages
	 * of VMT_GIDS_PER_PAGE entries made on first use (a short run touches
	 * a few of a big pool's). */
	_Atomic(_Atomic uint64_t *) *gid_pages;
	size_t nr_frames;
};

#define VMT_GIDS_PER_PAGE	512

/* A frame the thread allocated: its handles, by libvms's answers. */
struct vmt_held {
	struct vms_frame *f;
	uint64_t gid;
	uint64_t handles;
};

struct vmt_thread {
	struct vmt_shared *sh;
	uint16_t id;
	bool exclusive;
	struct vms_cursor *cur[VMT_NR_SPACES];
	struct {
		struct vms_reader *r;
		struct vms_writer *w;
		int space;
	} acc[VMT_NR_ACCS];
	int fslot[VMT_NR_FRAMES];		/* index into held[], or -1 */
	struct vmt_held held[VMT_MAX_OPS];	/* in allocation order */
	unsigned nheld;
	uint8_t *io;				/* read/write bytes, see vmt_io() */
	size_t iocap;
	struct vmt_check_seen chk[VMT_NR_SPACES];
	/* A fail op's fault, armed for the thread's next op (0: none). */
	uint32_t fail_nth;
	uint8_t fail_site;
	/* pool_new's pools whose destroy was refused (-EDEADLK: the thread
	 * held a cursor); destroyed by the next pool_new or vmt_thread_fini. */
	struct vms_pool **priv_pools;
	unsigned npriv, privcap;
	struct vms_pool_stats priv_stats;	/* pool_new's outcome data */
};

/* Number the frames of @pool (gid_of is sized from its stats). */
int vmt_shared_init(struct vmt_shared *sh, struct vms_pool *pool);
void vmt_shared_fini(struct vmt_shared *sh);
/* The gid of @f's current allocation (0 if never numbered). */
uint64_t vmt_frame_gid(const struct vmt_shared *sh, const struct vms_frame *f);

int vmt_thread_init(struct vmt_thread *t, struct vmt_shared *sh, uint16_t id, bool exclusive);
void vmt_thread_fini(struct vmt_thread *t);
/* The frame in slot @slot (NULL if empty); *@gid its gid (0). */
struct vms_frame *vmt_thread_frame(const struct vmt_thread *t, int slot, uint64_t *gid);
/* Put every handle the thread holds; empty its slots. */
void vmt_thread_put_frames(struct vmt_thread *t);
/* Empty every slot naming frame @gid (an exclusive thread's frame died). */
void vmt_thread_forget(struct vmt_thread *t, uint64_t gid);
/* Does the thread hold a cursor on any space (so it is in a read-side
 * section, and a quiesce or a grace period would wait on itself)? */
static inline bool vmt_thread_has_cursor(const struct vmt_thread *t)
{
	for (int sp = 0; sp < VMT_NR_SPACES; sp++)
		if (t->cur[sp])
			return true;
	return false;
}

/*
 * Run @op on libvms as thread @t; fill @o. Returns false if the op was
 * skipped (an empty slot, see op.h): then @o means nothing.
 */
bool vmt_step_core(struct vmt_thread *t, const struct vmt_op *op, struct vmt_outcome *o);

/* ---- model side ------------------------------------------------------------ */

struct vmt_model_side {
	struct vmt_model *m;
	uint64_t gid_base;	/* gids below belong to an older model */
	int *id;		/* gid - gid_base -> model frame id, or -1 */
	uint64_t *pa;		/* gid - gid_base -> frame paddr */
	size_t cap;
	uint64_t *gid;		/* model frame id -> gid */
	size_t gcap;
	uint8_t *io;		/* read/write bytes, see vmt_io() */
	size_t iocap;
	/* The first core value the last model step compared, for traces. */
	bool have_rc;
	long rc;
	/* Outcomes act for their own thread's cursors and active space
	 * (vmt_model_set_thread); off: thread 0's, for drivers that apply
	 * whole sessions at once (stress). */
	bool per_thread;
};

/* A fresh model; frames numbered from @gid_base on. */
int vmt_model_side_init(struct vmt_model_side *ms, uint64_t gid_base);
void vmt_model_side_fini(struct vmt_model_side *ms);
/* The model back to its initial state, in place (stress resets, the
 * executor between programs); frames numbered from @gid_base on. */
int vmt_model_side_reset(struct vmt_model_side *ms, uint64_t gid_base);
int vmt_model_side_id(const struct vmt_model_side *ms, uint64_t gid);	/* -1: none */
uint64_t vmt_model_side_gid(const struct vmt_model_side *ms, int id);	/* ~0: none */
uint64_t vmt_model_side_paddr(const struct vmt_model_side *ms, uint64_t gid);

/*
 * Apply the op of @o to the model and check @o against it. True if they
 * agree; else a one-line difference in @why ("core=-EINVAL model=0",
 * "cursor va core=0x1000 model=0x2000", ...; the caller adds which op).
 */
bool vmt_step_model(struct vmt_model_side *ms, const struct vmt_outcome *o,
		    char *why, size_t n);

/*
 * The end of a run another driver made (the controlled executor): every
 * thread's outcomes checked, their cursors dropped, accessors released
 * and handles put, nobody's space active. On the calling thread, as
 * vmt_exec ends a run: a check op with the full sweeps (leaves, frame
 * refcounts, handles and contents, pool counters), then every space
 * destroyed through the model-checked calls. r->sig reads "DIVERGENCE
 * end check: ..." or "DIVERGENCE end teardown: ...".
 */
int vmt_exec_finish(struct vmt_shared *sh, struct vmt_model_side *ms,
		    const struct vmt_exec_opts *o, struct vmt_result *r);

/* A leaf as libvms showed it (a query, a sweep), its frame by gid. */
struct vmt_leaf_seen {
	uint64_t start, end;
	int level;
	uint64_t paddr, frame;
	struct vms_prop prop;
};

/* Compare it with the model's leaf @l; false with a difference in @why. */
bool vmt_leaf_same(const struct vmt_model_side *ms, const struct vmt_leaf_seen *c,
		   const struct vmt_mleaf *l, char *why, size_t n);

/* *@buf with room for @n bytes (grown as needed: most programs copy few
 * bytes, and a fresh 64 KiB per run costs page faults); NULL if out of
 * memory. */
uint8_t *vmt_io(uint8_t **buf, size_t *cap, size_t n);

/* An errno value by name ("-EINVAL"), else the number. */
const char *vmt_errname(long v, char *buf, size_t n);
/* The read/write pattern of a write op with @pat. */
void vmt_fill_pattern(uint8_t *buf, size_t n, uint8_t pat);

#endif /* VMT_STEP_H */
