/* SPDX-License-Identifier: MIT */
/*
 * pte.h - the x86-64-like PTE encoding.
 *
 * Absent: all zero. Table: P|W|U plus the child's physical address (bit 7
 * clear). Leaf: bit 7 (PS) always set, at every level, so software can
 * tell a leaf from a table even when the leaf is not present to the
 * hardware (a leaf without R has P clear). R->P, W->W, no X->NX, A, D,
 * USER->U, GLOBAL->G; the cache policy goes into PWT/PCD.
 */
#ifndef VMS_PTE_H
#define VMS_PTE_H

#include <stdint.h>
#include <vms/types.h>

#define PTE_P		(1ULL << 0)
#define PTE_W		(1ULL << 1)
#define PTE_U		(1ULL << 2)
#define PTE_PWT		(1ULL << 3)
#define PTE_PCD		(1ULL << 4)
#define PTE_A		(1ULL << 5)
#define PTE_D		(1ULL << 6)
#define PTE_PS		(1ULL << 7)
#define PTE_G		(1ULL << 8)
#define PTE_NX		(1ULL << 63)
#define PTE_ADDR	0x000ffffffffff000ULL
#define PTE_TABLE_BITS	(PTE_P | PTE_W | PTE_U)
#define PTE_LEAF_BITS	(PTE_P | PTE_W | PTE_U | PTE_PWT | PTE_PCD | PTE_A | \
			 PTE_D | PTE_PS | PTE_G | PTE_NX)

static inline bool vms_pte_is_leaf(uint64_t pte) { return pte & PTE_PS; }
static inline bool vms_pte_is_table(uint64_t pte) { return pte && !(pte & PTE_PS); }
static inline vms_paddr_t vms_pte_paddr(uint64_t pte) { return pte & PTE_ADDR; }

static inline uint64_t vms_pte_table(vms_paddr_t pa)
{
	return pa | PTE_TABLE_BITS;
}

static inline uint64_t vms_pte_leaf(vms_paddr_t pa, struct vms_prop p)
{
	static const uint64_t cache_bits[] = {
		[VMS_CACHE_WRITEBACK] = 0,
		[VMS_CACHE_WRITETHROUGH] = PTE_PWT,
		[VMS_CACHE_WRITECOMBINING] = PTE_PCD,
		[VMS_CACHE_UNCACHEABLE] = PTE_PCD | PTE_PWT,
	};
	uint64_t v = pa | PTE_PS | cache_bits[p.cache & 3];

	if (p.flags & VMS_PROP_R)	 v |= PTE_P;
	if (p.flags & VMS_PROP_W)	 v |= PTE_W;
	if (!(p.flags & VMS_PROP_X))	 v |= PTE_NX;
	if (p.flags & VMS_PROP_ACCESSED) v |= PTE_A;
	if (p.flags & VMS_PROP_DIRTY)	 v |= PTE_D;
	if (p.priv & VMS_PRIV_USER)	 v |= PTE_U;
	if (p.priv & VMS_PRIV_GLOBAL)	 v |= PTE_G;
	return v;
}

static inline struct vms_prop vms_pte_prop(uint64_t pte)
{
	struct vms_prop p = { 0, 0, 0 };

	if (pte & PTE_P)	p.flags |= VMS_PROP_R;
	if (pte & PTE_W)	p.flags |= VMS_PROP_W;
	if (!(pte & PTE_NX))	p.flags |= VMS_PROP_X;
	if (pte & PTE_A)	p.flags |= VMS_PROP_ACCESSED;
	if (pte & PTE_D)	p.flags |= VMS_PROP_DIRTY;
	if (pte & PTE_U)	p.priv |= VMS_PRIV_USER;
	if (pte & PTE_G)	p.priv |= VMS_PRIV_GLOBAL;
	switch (pte & (PTE_PCD | PTE_PWT)) {
	case PTE_PWT:		p.cache = VMS_CACHE_WRITETHROUGH; break;
	case PTE_PCD:		p.cache = VMS_CACHE_WRITECOMBINING; break;
	case PTE_PCD | PTE_PWT:	p.cache = VMS_CACHE_UNCACHEABLE; break;
	default:		p.cache = VMS_CACHE_WRITEBACK; break;
	}
	return p;
}

#endif /* VMS_PTE_H */
