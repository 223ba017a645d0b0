/* SPDX-License-Identifier: MIT */
/*
 * badarg.h - the calls of the badarg op (step_badarg.c): each a public
 * entry point of libvms called with a NULL handle or a NULL out-pointer
 * (or an address outside the pool), where the header's errno list says
 * what it must return. Append only: the number is the op's operand.
 * X(ID, name)
 */
#ifndef VMT_BADARG_H
#define VMT_BADARG_H

#define VMT_BADARGS(X)                                                         \
	X(SPACE_ACTIVATE, space_activate) /* vms_space_activate(NULL) */       \
	X(SPACE_DESTROY, space_destroy)	  /* vms_space_destroy(NULL) */        \
	X(CURSOR_MAP, map)		  /* vms_cursor_map(NULL, ...) */      \
	X(CURSOR_UNMAP, unmap)		  /* vms_cursor_unmap(NULL, ...) */    \
	X(CURSOR_PROTECT,                                                      \
	  protect_next)		  /* vms_cursor_protect_next(NULL, ...) */     \
	X(READER_NEW, reader_new) /* vms_space_create_reader(NULL, ...) */     \
	X(WRITER_OUT,                                                          \
	  writer_out)	/* vms_space_create_writer(space, ..., NULL) */        \
	X(READ, read)	/* vms_reader_read(NULL, ...) */                       \
	X(WRITE, write) /* vms_writer_write(NULL, ...) */                      \
	X(READER_RELEASE, reader_release)   /* vms_reader_release(NULL) */     \
	X(WRITER_RELEASE, writer_release)   /* vms_writer_release(NULL) */     \
	X(SPACE_CHECK, space_check)	    /* vms_space_check(NULL, rep) */   \
	X(SPACE_CHECK_REP, space_check_rep) /* vms_space_check(space, NULL) */ \
	X(POOL_CHECK, pool_check)	    /* vms_pool_check(NULL, rep) */    \
	X(POOL_QUIESCE, pool_quiesce)	    /* vms_pool_quiesce(NULL) */       \
	X(POOL_STATS, pool_stats)	    /* vms_pool_stats(NULL, st) */     \
	X(POOL_DESTROY, pool_destroy)	    /* vms_pool_destroy(NULL) */       \
	X(POOL_INLINE,                                                         \
	  pool_inline) /* vms_pool_set_reclaim_inline(NULL, true) */           \
	X(POOL_DISCARD, pool_discard) /* vms_pool_discard(NULL) */             \
	X(FRAME_DATA, frame_data)     /* vms_frame_data(NULL): NULL */         \
	X(POOL_PADDR,                                                          \
	  pool_paddr) /* vms_pool_paddr(pool, not its memory): 0 */            \
	X(FRAME_PADDR,                                                         \
	  frame_from_paddr) /* vms_frame_from_paddr(pool, past its end): NULL */

enum vmt_badarg {
#define VMT_BADARG_ENUM_(id, name) VMT_BADARG_##id,
	VMT_BADARGS(VMT_BADARG_ENUM_)
#undef VMT_BADARG_ENUM_
		VMT_BADARG__COUNT
};

#endif /* VMT_BADARG_H */
