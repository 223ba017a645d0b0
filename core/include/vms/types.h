/* SPDX-License-Identifier: MIT */
/*
 * vms/types.h - address types, page geometry and page properties.
 *
 * The geometry mirrors x86-64 4-level paging: 4 KiB base pages, 512
 * entries per node, levels numbered from the leaf (1) to the root (4).
 * Only the user half is managed: top-level indices 0..255, so every
 * user address lies in [0, VMS_USER_END).
 */
#ifndef VMS_TYPES_H
#define VMS_TYPES_H

#include <stdint.h>
#include <stddef.h>
#include <stdbool.h>
#include <errno.h>	/* every call reports failure as -E... */

typedef uint64_t vms_vaddr_t;
typedef uint64_t vms_paddr_t;

#define VMS_PAGE_SHIFT		12
#define VMS_PAGE_SIZE		(1ULL << VMS_PAGE_SHIFT)
#define VMS_NR_LEVELS		4
#define VMS_NR_ENTRIES		512
/* Highest level at which a leaf (a mapped frame) may live: 2 MiB pages. */
#define VMS_HIGHEST_TRANSLATION_LEVEL 2

/* Cursors may cover up to VMS_USER_END; readers and writers stop one page
 * earlier, at VMS_MAX_USERSPACE_VADDR (the top user page is unusable). */
#define VMS_USER_END		(1ULL << 47)
#define VMS_MAX_USERSPACE_VADDR	(VMS_USER_END - VMS_PAGE_SIZE)

/* Bytes covered by one entry of a level-@level node; 0 for a bad level. */
static inline uint64_t vms_page_size(int level)
{
	return (level >= 1 && level <= VMS_NR_LEVELS) ?
		VMS_PAGE_SIZE << (9 * (level - 1)) : 0;
}

/* Page flags (struct vms_prop.flags). R is the hardware "present" bit: a
 * leaf without R is still mapped in software but faults every access. */
#define VMS_PROP_R		0x01
#define VMS_PROP_W		0x02
#define VMS_PROP_X		0x04
#define VMS_PROP_ACCESSED	0x08
#define VMS_PROP_DIRTY		0x10
#define VMS_PROP_MASK		0x1f

/* Privileged flags (struct vms_prop.priv); protect_next cannot change them. */
#define VMS_PRIV_USER		0x01
#define VMS_PRIV_GLOBAL		0x02
#define VMS_PRIV_MASK		0x03

/* Cache policies. WRITE_PROTECTED exists in the design but has no PTE
 * encoding, so mapping or protecting with it fails with -EINVAL. */
enum vms_cache {
	VMS_CACHE_WRITEBACK = 0,
	VMS_CACHE_WRITETHROUGH = 1,
	VMS_CACHE_WRITECOMBINING = 2,
	VMS_CACHE_UNCACHEABLE = 3,
	VMS_CACHE_WRITEPROTECTED = 4,
};

struct vms_prop {
	uint8_t flags;	/* VMS_PROP_* */
	uint8_t cache;	/* enum vms_cache */
	uint8_t priv;	/* VMS_PRIV_* */
};

/* True if @p can be encoded in a PTE (known bits, encodable cache). */
static inline bool vms_prop_valid(struct vms_prop p)
{
	return !(p.flags & ~VMS_PROP_MASK) && !(p.priv & ~VMS_PRIV_MASK) &&
	       p.cache <= VMS_CACHE_UNCACHEABLE;
}

static inline bool vms_prop_equal(struct vms_prop a, struct vms_prop b)
{
	return a.flags == b.flags && a.cache == b.cache && a.priv == b.priv;
}

#endif /* VMS_TYPES_H */
