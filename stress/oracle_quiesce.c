/* SPDX-License-Identifier: MIT */
/*
 * oracle_quiesce.c - the quiescent-state oracle, on the coordinator at a
 * round barrier while every thread is parked: vms_space_check, the model's
 * self-check, the hot region swept leaf by leaf against the model's leaves,
 * every live model frame's refcount and handles against libvms, and the
 * pool's count of data frames.
 */
#include "worker.h"

static uint64_t model_gid(struct stress *S, int id)
{
	return vmt_model_side_gid(&S->ms, id);
}

static uint64_t frame_gid(struct stress *S, const struct vms_frame *f)
{
	return vmt_frame_gid(&S->sh, f);
}

/* A leaf of the tree that the model does not have, or has otherwise. */
static void report_leaf(struct stress *S, const struct vmt_mleaf *l,
			const struct vms_mapping *mp)
{
	if (l)
		vmts_violation(
			S, ORA_QUIESCE,
			"round %lu: tree has leaf [%#lx,+L%d) "
			"g%lu+%#lx prop %x/%x/%x, model has [%#lx,+L%d) "
			"g%lu+%#lx prop %x/%x/%x (differs:%s%s%s)",
			S->round, mp->start, mp->level,
			mp->frame ? frame_gid(S, mp->frame) : 0,
			mp->frame ? mp->paddr - vms_frame_paddr(mp->frame) : 0,
			mp->prop.flags, mp->prop.cache, mp->prop.priv, l->va,
			l->level, model_gid(S, l->frame), l->off, l->prop.flags,
			l->prop.cache, l->prop.priv,
			l->va != mp->start || l->level != mp->level ? " range" :
								      "",
			!mp->frame ||
					model_gid(S, l->frame) !=
						frame_gid(S, mp->frame) ||
					l->off !=
						mp->paddr - vms_frame_paddr(
								    mp->frame) ?
				" frame" :
				"",
			vms_prop_equal(l->prop, mp->prop) ? "" : " prop");
	else
		vmts_violation(S, ORA_QUIESCE,
			       "round %lu: tree has leaf [%#lx,+L%d) "
			       "the model does not",
			       S->round, mp->start, mp->level);
}

/* Sweep the hot region through a read-only cursor, leaf by leaf, against
 * the model's leaves of space 0. */
static int sweep_leaves(struct stress *S)
{
	struct vmt_model *m = S->ms.m;
	size_t nl = vmt_model_nr_leaves(m, 0), li = 0;
	uint64_t va = S->hot_base;
	struct vms_cursor *c;
	int ret, bad = 0;

	ret = vms_cursor_new(S->space, S->hot_base, S->hot_end, &c);
	if (ret) {
		vmts_violation(S, ORA_QUIESCE, "round %lu: sweep cursor: %d",
			       S->round, ret);
		return 1;
	}
	while (va < S->hot_end && !bad) {
		vms_vaddr_t found;
		struct vms_mapping mp;
		const struct vmt_mleaf *l;

		ret = vms_cursor_find_next(c, S->hot_end - va, &found);
		if (ret != 1)
			break;
		vms_cursor_query(c, &mp);
		l = li < nl ? vmt_model_leaf(m, 0, li) : NULL;
		li++;
		if (!l || !mp.frame || l->va != mp.start ||
		    l->level != mp.level ||
		    model_gid(S, l->frame) != frame_gid(S, mp.frame) ||
		    l->off != mp.paddr - vms_frame_paddr(mp.frame) ||
		    !vms_prop_equal(l->prop, mp.prop)) {
			report_leaf(S, l, &mp);
			bad = 1;
			break;
		}
		va = mp.end;
		if (va < S->hot_end)
			vms_cursor_jump(c, va);
	}
	vms_cursor_drop(c);
	if (!bad && li < nl) {
		const struct vmt_mleaf *l = vmt_model_leaf(m, 0, li);

		vmts_violation(
			S, ORA_QUIESCE,
			"round %lu: model has leaf [%#lx,+L%d) g%lu, the "
			"tree does not",
			S->round, l->va, l->level, model_gid(S, l->frame));
		bad = 1;
	}
	return bad;
}

/* Every live model frame: same refcount and handles in libvms. */
static int check_frames(struct stress *S)
{
	struct vmt_model *m = S->ms.m;
	int bad = 0;

	for (int id = 0; id < vmt_model_nr_frames(m) && !bad; id++) {
		uint64_t gid, pa;
		struct vms_frame *f;

		if (!vmt_model_frame_live(m, id))
			continue;
		gid = model_gid(S, id);
		pa = vmt_model_side_paddr(&S->ms, gid);
		f = vms_frame_from_paddr(S->pool, pa);
		if (!f || frame_gid(S, f) != gid) {
			vmts_violation(
				S, ORA_QUIESCE, "round %lu: %s: g%lu (pa %#lx)",
				S->round, vms_check_name(VMS_CHECK_FRAME_LOST),
				gid, pa);
			bad = 1;
		} else if (vms_frame_refcount(f) !=
				   vmt_model_frame_refcount(m, id) ||
			   vms_frame_handles(f) !=
				   vmt_model_frame_handles(m, id)) {
			vmts_violation(
				S, ORA_QUIESCE,
				"round %lu: %s: g%lu: libvms refcount %lu "
				"handles %lu, model %lu/%lu",
				S->round,
				vms_check_name(VMS_CHECK_FRAME_COUNTS), gid,
				vms_frame_refcount(f), vms_frame_handles(f),
				vmt_model_frame_refcount(m, id),
				vmt_model_frame_handles(m, id));
			bad = 1;
		}
	}
	return bad;
}

/* The pool's data frames: the model's plus the stable zone's. */
static int check_pool_data(struct stress *S)
{
	struct vmt_model *m = S->ms.m;
	struct vms_pool_stats st;
	int bad = 0;

	vms_pool_stats(S->pool, &st);
	if (st.data_frames != vmt_model_data_frames(m) + S->stable_pages) {
		vmts_violation(S, ORA_QUIESCE,
			       "round %lu: %s: %lu in the pool, model "
			       "%lu + %lu stable",
			       S->round, vms_check_name(VMS_CHECK_POOL_DATA),
			       st.data_frames, vmt_model_data_frames(m),
			       S->stable_pages);
		bad = 1;
	}
	return bad;
}

int vmts_quiescent_check(struct stress *S, bool model_ok)
{
	struct vms_check_report rep;
	char why[256];
	int ret;

	if (!(S->o.oracles & (1u << ORA_QUIESCE)))
		return 0;
	atomic_fetch_add(&S->checks, 1);
	ret = vms_space_check(S->space, &rep);
	if (ret) {
		vms_check_report_line(&rep, why, sizeof(why));
		vmts_violation(S, ORA_QUIESCE,
			       "round %lu: vms_space_check = %d: %s", S->round,
			       ret, why);
		return 1;
	}
	if (!model_ok)
		return 0; /* the replay diverged: the model is no witness now */
	if (vmt_model_selfcheck(S->ms.m, true, why, sizeof(why))) {
		vmts_violation(S, ORA_QUIESCE,
			       "round %lu: model self-check: %s", S->round,
			       why);
		return 1;
	}
	return sweep_leaves(S) || check_frames(S) || check_pool_data(S);
}
