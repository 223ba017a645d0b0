/* SPDX-License-Identifier: MIT */
/*
 * vms/access.h - reader and writer accessors (the seed's VmReader/VmWriter
 * with the VmSpaceOwner bookkeeping checked at run time).
 *
 * Life cycle: create (checked against the registered accessors), activate
 * (registers it with the space; the whole range must be mapped then), copy
 * any number of times, release. The owner invariant, enforced with -EBUSY:
 *   - a reader never overlaps a writer, writers never overlap each other;
 *   - readers overlap each other only on a VMS_SPACE_SHARED_READERS space.
 * Ranges are compared as closed intervals, as in the seed's `disjoint`:
 * ranges that merely touch count as overlapping.
 *
 * Copies translate every page through a lock-free RCU walk of the page
 * table (the simulated MMU): they are fallible, stop at the first page that
 * is unmapped or lacks the permission (R to read; R and W to write), and
 * are safe against a concurrent unmap. The MMU does not set A/D bits.
 */
#ifndef VMS_ACCESS_H
#define VMS_ACCESS_H

#include <vms/space.h>

struct vms_reader;
struct vms_writer;

/* Create an accessor for [va, va + len) of @space; it is not registered
 * yet. Checks, in this order: NULL @space or @out (-EINVAL); @space active
 * on this thread (-EACCES); va != 0, len > 0, va + len <=
 * VMS_MAX_USERSPACE_VADDR without overflow (-EINVAL); memory for the
 * accessor (-ENOMEM, nothing registered); no conflict with the
 * registered accessors (-EBUSY). */
int vms_space_create_reader(struct vms_space *space, vms_vaddr_t va,
			    uint64_t len, struct vms_reader **out);
int vms_space_create_writer(struct vms_space *space, vms_vaddr_t va,
			    uint64_t len, struct vms_writer **out);

/* Register an accessor made by this space. Checks, in this order: NULL,
 * not from @space, or already active (-EINVAL); @space not active on this
 * thread (-EACCES); a conflict with the registered accessors (-EBUSY);
 * some page of the range not mapped (-EFAULT). */
int vms_space_activate_reader(struct vms_space *space, struct vms_reader *r);
int vms_space_activate_writer(struct vms_space *space, struct vms_writer *w);

/* Copy up to @n bytes from the reader's position into @buf (to the
 * writer's position from @buf), advancing it. Checks, in this order:
 * NULL accessor, NULL @buf with @n > 0, or accessor not active (-EINVAL);
 * space not active on this thread (-EACCES). Returns the bytes copied, 0 if
 * @n is 0 or the accessor is exhausted, -EFAULT if the first page faulted. */
long vms_reader_read(struct vms_reader *r, void *buf, size_t n);
long vms_writer_write(struct vms_writer *w, const void *buf, size_t n);

/* Bytes left in the accessor's range. */
uint64_t vms_reader_remain(const struct vms_reader *r);
uint64_t vms_writer_remain(const struct vms_writer *w);

/* Unregister (if active) and free the accessor. NULL is ignored. */
int vms_reader_release(struct vms_reader *r);
int vms_writer_release(struct vms_writer *w);

#endif /* VMS_ACCESS_H */
