/* SPDX-License-Identifier: MIT */
/*
 * fields.h - the operand fields of the op language (private to tools/op).
 * Each op's fields, in binary order, are its row in ops.def; the codec
 * (op.c) reads and writes each kind, the text form spells each with a key.
 */
#ifndef VMT_FIELDS_H
#define VMT_FIELDS_H

#include "op.h"
#include "fault.h"	/* core/src: the allocation site kinds */
#include "debug.h"	/* core/src: the corruptions */
#include "badarg.h"

enum fld {
	F_END = 0,
	F_SPACE,     /* space: byte & 1 */
	F_FSLOT,     /* slot: frame slot */
	F_ASLOT,     /* slot: accessor slot */
	F_SPACE1,    /* space, biased to slot 1 (space_new/space_destroy) */
	F_RSLOT,     /* slot: accessor, biased to the last reader created */
	F_WSLOT,     /* slot: accessor, biased to the last writer created */
	F_LSLOT,     /* slot: accessor, biased to the last accessor created */
	F_MUT,	     /* arg: 1 mutable */
	F_LEVEL,     /* arg: frame level 0..3 */
	F_SPFLAGS,   /* arg: space flags, any byte */
	F_WRITER,    /* arg: 1 writer */
	F_ACTSPACE,  /* arg + space: which space activate passes */
	F_PATTERN,   /* arg: any byte */
	F_A,	     /* a: address/length */
	F_B,	     /* b: address/length */
	F_RANGE_END, /* b: end of a range starting at a (biased to a + small) */
	F_ALEN,	     /* b: accessor length (biased to short lengths) */
	F_JVA, /* a: jump target (biased into the space's last cursor range) */
	F_LEN, /* a: find_next/unmap/protect length (pages, the cursor's span) */
	F_AVA, /* a: accessor start (touching the last accessor, or mapped-ish) */
	F_IO,	   /* a: byte count 0..VMT_MAX_IO */
	F_PROP,	   /* prop */
	F_PROTECT, /* pset, pclr, pcache, ppriv */
	F_NTH, /* a: which allocation of the next op fails, 1..VMT_MAX_NTH */
	F_SITE, /* arg: the allocation site kind it counts (enum vms_fault_kind, 0: any) */
	F_BYTES, /* a: a pool's size in bytes (the address codec: 0, 4 KiB, 2 MiB, 1 GiB, ...) */
	F_CORRUPT, /* arg: the corruption (enum vms_corruption, core/src/debug.h) */
	F_BADCALL, /* arg: the call badarg makes (enum vmt_badarg, badarg.h) */
};

#define VMT_MAXF 6	/* fields per op, at most */

/* Each op's fields in binary order, F_END-terminated (op.c, from ops.def). */
extern const uint8_t vmt_op_fields[VMT_OP__COUNT][VMT_MAXF];
bool vmt_has_field(unsigned code, enum fld f);
/* Every field of @op in its domain, unused fields zero. */
bool vmt_op_valid(const struct vmt_op *op);

#endif /* VMT_FIELDS_H */
