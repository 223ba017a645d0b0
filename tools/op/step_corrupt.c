/* SPDX-License-Identifier: MIT */
/*
 * step_corrupt.c - the corrupt op: a self-test of the structural checker
 * as part of the fuzzed language. On a quiescent space it applies one
 * corruption through the core's debug hooks (core/src/debug.h: each
 * breaks the one invariant a check of vms_space_check states), runs the
 * checker, undoes the corruption and runs it again. The check must say
 * -EUCLEAN with the corruption's kind, reported as the executor reports a
 * failed check (vms_check_class, vms_check_report_line), then pass. A
 * check that does not fire is a finding of its own, "CHECK MISSED
 * <check>" (tools/campaign/sig_harness.c). The model does not change.
 *
 * A corruption of a run-time invariant (its check's class is
 * VMS_CLASS_INVARIANT, core/src/debug.h) is tested the same way, by the
 * core's checks instead of the checker: with the corruption in place the
 * op makes the one core call that must trip it (vms__debug_trip), its
 * own hook taking what vms_invariant_broken reports; that invariant and
 * no other must be reported, and after the undo the checker must pass.
 * A build without the checks (no vms_poison_hook) skips these kinds.
 * The leak oracle's kind (VMS_CLASS_ORACLE) likewise, its report the
 * pool reset's -EBUSY, in every build.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "step_corrupt.h"
#include "debug.h"
#include "fault.h"

extern void vms_fault_arm(uint32_t nth, enum vms_fault_kind k)
	__attribute__((weak));
extern void (*vms_poison_hook)(enum vms_check check, const char *where)
	__attribute__((weak));

/* What the core reported during a trip: how often the invariant wanted,
 * and the first other one. */
static __thread struct {
	enum vms_check want, other;
	unsigned n;
} tripped;

static void trip_hook(enum vms_check check, const char *where)
{
	(void)where;
	if (check == tripped.want)
		tripped.n++;
	else if (!tripped.other)
		tripped.other = check;
}

/* vms__debug_trip with our hook in place of the executor's; the first
 * check's outcome in @c: -EUCLEAN and the invariant reported (another
 * one if any was), else the call's return. */
static void trip(struct vms_space *s, struct vms_debug_undo *u,
		 enum vms_check want, struct vmt_check_seen *c)
{
	void (*saved)(enum vms_check, const char *) = NULL;
	bool seen;
	int ret;

	tripped.want = want;
	tripped.other = VMS_CHECK_NONE;
	tripped.n = 0;
	if (&vms_poison_hook) {
		saved = vms_poison_hook;
		vms_poison_hook = trip_hook;
	}
	ret = vms__debug_trip(s, u);
	if (&vms_poison_hook)
		vms_poison_hook = saved;
	/* The leak oracle's report is the reset's refusal. */
	seen = vms_check_class(want) == VMS_CLASS_ORACLE ? ret == -EBUSY :
							   tripped.n > 0;
	c->rep.kind = tripped.other ? tripped.other :
		      seen	    ? want :
				      VMS_CHECK_NONE;
	c->ret = c->rep.kind ? -EUCLEAN : ret;
}

bool core_corrupt(struct vmt_thread *t, const struct vmt_op *op,
		  struct vmt_outcome *o)
{
	struct vms_space *s = t->sh->space[op->space];
	struct vms_debug_undo u;
	enum vms_check want =
		vms__debug_corruption_check((enum vms_corruption)op->arg);
	bool tripped_kind = vms_check_class(want) != VMS_CLASS_CHECKER;
	int ret;

	if (!s ||
	    (vms_check_class(want) == VMS_CLASS_INVARIANT && !&vms_poison_hook))
		return false;
	if (vmt_thread_has_cursor(t))
		return false; /* not quiescent: our own cursor */
	/* A fail op before this one arms a fault for it: it may fail the
	 * undo record of an accessor corruption (kind check), and then
	 * nothing is corrupted; the checker's scratch must not fail, which
	 * is not what this op tests. */
	ret = vms__debug_corrupt(s, (enum vms_corruption)op->arg, &u);
	if (vms_fault_arm)
		vms_fault_arm(0, VMS_FAULT_ANY);
	if (ret)
		return false; /* nothing of that kind to corrupt, or no memory */
	memset(t->chk, 0, sizeof(t->chk));
	t->chk[0].checked = t->chk[1].checked = true;
	if (tripped_kind)
		trip(s, &u, want, &t->chk[0]);
	else
		t->chk[0].ret = vms_space_check(s, &t->chk[0].rep);
	t->chk[1].ret = vms__debug_restore(s, &u);
	if (!t->chk[1].ret)
		t->chk[1].ret = vms_space_check(s, &t->chk[1].rep);
	o->ret = t->chk[0].ret;
	o->release_ret = t->chk[1].ret;
	o->data = t->chk;
	return true;
}

bool vmt_corrupt_judge(const struct vmt_outcome *o, char *why, size_t n)
{
	const struct vmt_check_seen *c = o->data;
	enum vms_corruption k = (enum vms_corruption)o->op.arg;
	enum vms_check want = vms__debug_corruption_check(k);
	const char *kind = vms__debug_corruption_name(k);
	bool checker = vms_check_class(want) == VMS_CLASS_CHECKER;
	char line[320], e[32];

	if (c[0].ret != -EUCLEAN) {
		snprintf(why, n, "CHECK MISSED %s (kind=%s): %s said %s",
			 vms_check_name(want), kind,
			 checker ? "vms_space_check" : "the core call",
			 vmt_errname(c[0].ret, e, sizeof(e)));
		return false;
	}
	if (vms_check_class(c[0].rep.kind) == VMS_CLASS_INVARIANT)
		snprintf(line, sizeof(line), "INVARIANT %s",
			 vms_check_name(c[0].rep.kind));
	else if (!checker)
		snprintf(line, sizeof(line), "%s",
			 vms_check_name(c[0].rep.kind));
	else
		vms_check_report_line(&c[0].rep, line, sizeof(line));
	if (vms_check_class(c[0].rep.kind) != vms_check_class(want) ||
	    c[0].rep.kind != want) {
		snprintf(why, n,
			 "CHECK MISSED %s (kind=%s): reported instead: %s",
			 vms_check_name(want), kind, line);
		return false;
	}
	if (c[1].ret) {
		vms_check_report_line(&c[1].rep, line, sizeof(line));
		snprintf(
			why, n,
			"corruption kind=%s not undone: vms_space_check said %s: %s",
			kind, vmt_errname(c[1].ret, e, sizeof(e)),
			c[1].ret == -EUCLEAN ? line : "");
		return false;
	}
	return true;
}
