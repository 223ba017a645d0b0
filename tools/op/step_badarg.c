/* SPDX-License-Identifier: MIT */
/*
 * step_badarg.c - the badarg op: each public entry point of badarg.h
 * called with a NULL handle or out-pointer, the result what its header's
 * errno list says (vmt_badarg_expect; the model step compares).
 */
#include <errno.h>

#include "step_corrupt.h"

static void no_change(struct vms_prop *prop, void *arg)
{
}

bool core_badarg(struct vmt_thread *t, const struct vmt_op *op,
		 struct vmt_outcome *o)
{
	struct vms_space *s = t->sh->space[0];
	struct vms_check_report rep;
	struct vms_pool_stats st;
	vms_vaddr_t a, b;
	uint8_t byte = 0;

	switch ((enum vmt_badarg)op->arg) {
	case VMT_BADARG_SPACE_ACTIVATE:
		o->ret = vms_space_activate(NULL);
		break;
	case VMT_BADARG_SPACE_DESTROY:
		o->ret = vms_space_destroy(NULL);
		break;
	case VMT_BADARG_CURSOR_MAP:
		o->ret = vms_cursor_map(NULL, NULL, (struct vms_prop){ 0 });
		break;
	case VMT_BADARG_CURSOR_UNMAP:
		o->ret = vms_cursor_unmap(NULL, 4096);
		break;
	case VMT_BADARG_CURSOR_PROTECT:
		o->ret = vms_cursor_protect_next(NULL, 4096, no_change, NULL,
						 &a, &b);
		break;
	case VMT_BADARG_READER_NEW: {
		struct vms_reader *r = NULL;

		o->ret = vms_space_create_reader(NULL, 4096, 4096, &r);
		break;
	}
	case VMT_BADARG_WRITER_OUT:
		o->ret = vms_space_create_writer(s, 4096, 4096, NULL);
		break;
	case VMT_BADARG_READ:
		o->ret = vms_reader_read(NULL, &byte, 1);
		break;
	case VMT_BADARG_WRITE:
		o->ret = vms_writer_write(NULL, &byte, 1);
		break;
	case VMT_BADARG_READER_RELEASE:
		o->ret = vms_reader_release(NULL);
		break;
	case VMT_BADARG_WRITER_RELEASE:
		o->ret = vms_writer_release(NULL);
		break;
	case VMT_BADARG_SPACE_CHECK:
		o->ret = vms_space_check(NULL, &rep);
		break;
	case VMT_BADARG_SPACE_CHECK_REP:
		o->ret = vms_space_check(s, NULL);
		break;
	case VMT_BADARG_POOL_CHECK:
		o->ret = vms_pool_check(NULL, &rep);
		break;
	case VMT_BADARG_POOL_QUIESCE:
		o->ret = vms_pool_quiesce(NULL);
		break;
	case VMT_BADARG_POOL_STATS:
		o->ret = vms_pool_stats(NULL, &st);
		break;
	case VMT_BADARG_POOL_DESTROY:
		o->ret = vms_pool_destroy(NULL);
		break;
	case VMT_BADARG_POOL_INLINE:
		o->ret = vms_pool_set_reclaim_inline(NULL, true);
		break;
	case VMT_BADARG_POOL_DISCARD:
		o->ret = vms_pool_discard(NULL);
		break;
	/* The lookups return a pointer or an address: ret 1 if they gave
	 * one, 0 if they said none, as their headers promise. */
	case VMT_BADARG_FRAME_DATA:
		o->ret = vms_frame_data(NULL) != NULL;
		break;
	case VMT_BADARG_POOL_PADDR:
		o->ret = vms_pool_paddr(t->sh->pool, &byte) != 0;
		break;
	case VMT_BADARG_FRAME_PADDR:
		if (vms_pool_stats(t->sh->pool, &st))
			return false;
		/* Frame 0 is reserved: total_frames + 1 frames in all. */
		o->ret = vms_frame_from_paddr(t->sh->pool,
					      (st.total_frames + 1) *
						      VMS_PAGE_SIZE) != NULL;
		break;
	default:
		return false;
	}
	return true;
}

/* What each call must return, from its header: the release calls ignore
 * NULL (access.h: "NULL is ignored"), the lookups give none (pool.h),
 * every other one says -EINVAL. */
long vmt_badarg_expect(enum vmt_badarg c)
{
	switch (c) {
	case VMT_BADARG_READER_RELEASE:
	case VMT_BADARG_WRITER_RELEASE:
	case VMT_BADARG_FRAME_DATA:
	case VMT_BADARG_POOL_PADDR:
	case VMT_BADARG_FRAME_PADDR:
		return 0;
	default:
		return -EINVAL;
	}
}
