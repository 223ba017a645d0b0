/* SPDX-License-Identifier: MIT */
/*
 * vms/space.h - VM spaces and per-thread activation.
 *
 * A space owns one 4-level page table. Each thread has at most one active
 * space (its "current page table"); reader/writer accessors work only on
 * the calling thread's active space.
 */
#ifndef VMS_SPACE_H
#define VMS_SPACE_H

#include <vms/pool.h>

struct vms_space;

/* Readers of this space may overlap each other (the seed's shared_reader:
 * set means overlapping readers are allowed). */
#define VMS_SPACE_SHARED_READERS	0x1u
#define VMS_SPACE_FLAGS_MASK		0x1u

/* Create an empty space. -EINVAL for unknown flags or NULL args, -ENOMEM
 * (the space or its root node: nothing created). */
int vms_space_new(struct vms_pool *pool, unsigned flags, struct vms_space **out);

/* Unmap everything and free the space. -EINVAL for a NULL @space; -EBUSY
 * (nothing freed) while a cursor is open, an accessor exists, or a thread
 * has it active; -ENOMEM (nothing freed, the space still usable) if the
 * cursor that unmaps it or its batch of deferred releases could not be
 * allocated. */
int vms_space_destroy(struct vms_space *space);

/* Make @space the calling thread's active space (deactivating the old
 * one). Activating the already active space is a no-op. -EINVAL for a
 * NULL @space. */
int vms_space_activate(struct vms_space *space);

/* Clear the calling thread's active space. -EINVAL if @space is not it. */
int vms_space_deactivate(struct vms_space *space);

/* The calling thread's active space, or NULL. */
struct vms_space *vms_space_current(void);

struct vms_pool *vms_space_pool(const struct vms_space *space);
unsigned vms_space_flags(const struct vms_space *space);

#endif /* VMS_SPACE_H */
