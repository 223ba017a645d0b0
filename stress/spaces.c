/* SPDX-License-Identifier: MIT */
/*
 * spaces.c - `vmtorture stress --spaces US`: one thread creates and
 * destroys spaces of its own in the workers' pool while they run.
 *
 * The workers keep one space for the whole run, so without this thread
 * no space is ever destroyed under contention, and vms_space_destroy's
 * error paths (its cursor, the unmap of the whole user half, both can
 * fail with --faults) would run only in single-threaded programs. Each
 * step, about every US microseconds, either creates a space and maps the
 * stable zone's frames at a few scattered pages of it (so the tree has
 * tables on several levels to detach), or destroys the space it has. A
 * destroy that fails keeps the space, which the next step destroys
 * again; meanwhile a round barrier's vms_space_check (pool-wide: every
 * tree, every frame's refcount against its PTEs and handles) walks it,
 * so a failed destroy must leave a sound space.
 *
 * Oracle (quiesce, like the pool counters at the barriers): after every
 * step the pool counts exactly the spaces that exist, the workers' one
 * plus this thread's if it holds one, and every error is one the header
 * documents. The frames stay data frames of the stable zone throughout
 * (the harness holds a handle on each), so the barrier's data-frame
 * conservation is not disturbed.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "stress.h"
#include "fault.h"

/* Pages mapped into each new space, at most. */
#define MAPS_MAX 6

static void fault_on(struct stress *S, uint64_t *salt)
{
	if (S->o.fault_rate)
		vms_fault_random(S->o.fault_rate,
				 S->o.seed ^ 0x9e3779b97f4a7c15ULL ^ (*salt)++ * 0xbf58476d1ce4e5b9ULL);
}

static void fault_off(struct stress *S)
{
	uint32_t nth;

	if (S->o.fault_rate) {
		vms_fault_random(0, 0);
		vms_fault_take(&nth);
	}
}

/* Was an allocation failed on purpose since the last call? Counted as
 * the workers' are. */
static bool injected(struct stress *S)
{
	uint32_t nth;

	if (!S->o.fault_rate || !vms_fault_take(&nth))
		return false;
	atomic_fetch_add_explicit(&S->faults, 1, memory_order_relaxed);
	return true;
}

static void set_what(struct stress *S, const char *what)
{
	atomic_store_explicit(&S->ts[SPACES_SLOT].what, what, memory_order_relaxed);
}

/* The pool must count the workers' space and @mine. */
static bool counted(struct stress *S, const struct vms_space *mine,
		    const char *after)
{
	struct vms_pool_stats st;
	uint64_t want = 1 + (mine != NULL);

	if (!(S->o.oracles & (1u << ORA_QUIESCE)) || vms_pool_stats(S->pool, &st))
		return true;
	if (st.spaces == want)
		return true;
	vmts_violation(S, ORA_QUIESCE, "%s: %lu after %s, want %lu",
		      vms_check_name(VMS_CHECK_POOL_SPACES), st.spaces, after, want);
	return false;
}

static bool bad_error(struct stress *S, const char *call, long ret, bool fault)
{
	if (ret >= 0 || ret == -ENOMEM)
		return false;
	vmts_violation(S, ORA_QUIESCE, "spaces thread: %s: %ld (%s)%s", call, ret,
		      strerror((int)-ret), fault ? " after an injected fault" : "");
	return true;
}

/* A new space with the stable frames mapped at up to MAPS_MAX pages
 * spread over the user half; NULL if it could not be created. A map
 * that fails (-ENOMEM) leaves the space as it was: the next ones go on. */
static struct vms_space *create(struct stress *S, uint64_t *rng)
{
	struct vms_prop ro = { VMS_PROP_R, 0, VMS_PRIV_USER };
	struct vms_space *sp;
	struct vms_cursor *c;
	unsigned n = 1 + (unsigned)(vmts_rand(rng) % MAPS_MAX);
	int ret;

	set_what(S, "creating a space");
	ret = vms_space_new(S->pool, 0, &sp);
	if (ret) {
		bad_error(S, "vms_space_new", ret, injected(S));
		counted(S, NULL, "a failed vms_space_new");
		return NULL;
	}
	injected(S);
	if (!counted(S, sp, "vms_space_new"))
		return sp;
	set_what(S, "mapping in its space");
	ret = vms_cursor_mut_new(sp, 0, VMS_USER_END, &c);
	if (ret) {
		bad_error(S, "vms_cursor_mut_new", ret, injected(S));
		return sp;
	}
	for (unsigned i = 0; i < n; i++) {
		uint64_t va = (vmts_rand(rng) % (VMS_USER_END / VMS_PAGE_SIZE)) * VMS_PAGE_SIZE;
		struct vms_frame *f = S->stable_frames[vmts_rand(rng) % S->stable_pages];

		/* Neighbours now and then, so that some tables hold more than one entry. */
		if (i && vmts_rand(rng) % 2)
			va = (va & ~((1ULL << 21) - 1)) | ((vmts_rand(rng) % 512) * VMS_PAGE_SIZE);
		ret = vms_cursor_jump(c, va);
		if (ret) {
			bad_error(S, "vms_cursor_jump", ret, false);
			break;
		}
		/* The map consumes a handle of ours (on success only). */
		ret = vms_frame_get(f);
		if (ret) {
			bad_error(S, "vms_frame_get", ret, false);
			break;
		}
		ret = vms_cursor_map(c, f, ro);
		if (ret < 0)
			vms_frame_put(f);
		if (bad_error(S, "vms_cursor_map", ret, injected(S)))
			break;
	}
	vms_cursor_drop(c);
	injected(S);
	return sp;
}

/* Destroy @sp; NULL when it is gone, @sp when the destroy failed. */
static struct vms_space *destroy(struct stress *S, struct vms_space *sp)
{
	int ret;
	bool f;

	set_what(S, "destroying its space");
	ret = vms_space_destroy(sp);
	f = injected(S);
	if (ret) {
		bad_error(S, "vms_space_destroy", ret, f);
		if (ret != -ENOMEM)
			return NULL;	/* reported; it may be gone or not: leave it */
		counted(S, sp, "a failed vms_space_destroy");
		return sp;
	}
	counted(S, NULL, "vms_space_destroy");
	return NULL;
}

void *vmts_spaces_main(void *arg)
{
	struct stress *S = arg;
	uint64_t rng = S->o.seed ^ 0x94d049bb133111ebULL, salt = 0;
	struct vms_space *sp = NULL;
	unsigned tries = 0;

	fault_on(S, &salt);
	while (vmts_checkpoint(S, SPACES_SLOT)) {
		if (!sp) {
			sp = create(S, &rng);
		} else {
			sp = destroy(S, sp);
			/* A space that keeps failing to go: the next tries
			 * without faults, so the run does not pile them up. */
			if (sp && ++tries >= 8)
				fault_off(S);
			if (!sp && tries) {
				tries = 0;
				fault_on(S, &salt);
			}
		}
		atomic_fetch_add_explicit(&S->spaces_cycles, 1, memory_order_relaxed);
		atomic_fetch_add_explicit(&S->ts[SPACES_SLOT].progress, 1, memory_order_relaxed);
		set_what(S, sp ? "holding a space" : "idle");
		for (uint64_t left = vmts_rand(&rng) % (2 * S->o.spaces_us) + 1, step; left &&
		     !atomic_load(&S->pause) && !atomic_load(&S->stop); left -= step) {
			step = left < 1000 ? left : 1000;
			usleep(step);
		}
	}
	/* The run is over: whatever it holds goes, without faults. */
	fault_off(S);
	for (unsigned i = 0; sp && i < 4; i++)
		sp = destroy(S, sp);
	if (sp)
		vmts_violation(S, ORA_QUIESCE, "spaces thread: vms_space_destroy keeps failing "
			      "without faults");
	set_what(S, "exited");
	return NULL;
}
