/* SPDX-License-Identifier: MIT */
/*
 * scenarios.h - small multi-thread programs calling libvms directly,
 * run under the controlled scheduler (tests of the VMS_SCHED build).
 *
 * Each scenario sets up a pool and a space on the host, runs 2 program
 * threads (plus the reclaimer, which the scheduler starts when kicked)
 * and has oracles of its own: mutual exclusion of overlapping cursors,
 * a read-only cursor sees no change, a reader sees the old or the new
 * mapping and never freed memory. The core's run-time invariant checks
 * (poison build) report through a hook that records them. A run's
 * findings are data: struct outcome.
 */
#ifndef VMT_SCHED_SCENARIOS_H
#define VMT_SCHED_SCENARIOS_H

#include "test.h"
#include "policy.h"

struct scenario {
	const char *name;
	int nr_threads;
	void (*setup)(void);
	void (*thread[VMS_SCHED_MAX_PROGRAM])(void *arg);
	/* After a run that ended: NULL, or what is wrong with the end state. */
	const char *(*check)(void);
};

extern const struct scenario sc_overlap, sc_nested, sc_remap, sc_detach,
	sc_two_cursors, sc_lost_update, sc_spin;
/* The scenarios in which libvms promises that nothing goes wrong. */
extern const struct scenario *const clean_scenarios[];
extern const size_t nr_clean_scenarios;

struct outcome {
	struct vms_sched_result r;
	char violation[256];	/* a scenario oracle, or the end-state check */
	char invariant[256];	/* the core's run-time checks */
	bool teardown_failed;
};

/* Is there anything to report (a violation, an invariant, a verdict
 * other than done)? */
bool outcome_bad(const struct outcome *o);
void outcome_format(const struct outcome *o, char *buf, size_t n);

/* Run @sc once on a fresh pool under @policy (NULL: the default); the
 * trace goes to @trace if given. A run that did not end leaks its pool. */
void run_scenario(const struct scenario *sc, vms_sched_policy_fn policy, void *arg,
		  struct vms_sched_step *trace, size_t cap, struct outcome *out);

enum explore_mode { EXPLORE_RANDOM, EXPLORE_PCT };

/* What a run found, in the order outcome_bad looks. */
enum { FIND_DEADLOCK, FIND_BUDGET, FIND_VIOLATION, FIND_INVARIANT, FIND_TEARDOWN, FIND_NR };
extern const char *const find_names[FIND_NR];

struct explore_stats {
	unsigned bad;
	unsigned count[FIND_NR];
	unsigned first_seed[FIND_NR];
	struct outcome first[FIND_NR];
};

/* Run seeds [0, @seeds) of @mode (PCT: @depth, k from the runs so far).
 * Returns the number of bad runs; per kind of finding, how many and the
 * first one go to @st. */
unsigned explore(const struct scenario *sc, enum explore_mode mode, int depth,
		 unsigned seeds, struct explore_stats *st);
/* One line per kind of finding, prefixed by @what. */
void explore_report(const char *what, const struct explore_stats *st, unsigned seeds);

/* Policy that runs the default, except: at thread @from's @nth point of
 * kind @kind, switch to @to. */
struct switch_at {
	int from, to;
	enum vms_sched_kind kind;
	unsigned nth, seen;
};
int switch_at_choose(void *arg, const struct vms_sched_view *v);

#endif /* VMT_SCHED_SCENARIOS_H */
