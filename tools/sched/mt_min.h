/* SPDX-License-Identifier: MIT */
/*
 * mt_min.h - joint minimization of a multi-thread finding (mt_min.c) and
 * its report, one column per thread (mt_table.c).
 *
 * A finding is a program (threads, ops, faults) with a schedule that
 * gives a title on the controlled executor. The minimizer removes
 * threads, ops (faults are ops: fail nth=N), preemptions and simplifies
 * operands while the title stays. Removing an op moves the decision keys
 * of its thread, so a candidate whose schedule no longer shows the title
 * gets a bounded seeded search of new schedules (PCT and random); what a
 * search finds is shrunk to the fewest preemptions that replay it.
 */
#ifndef VMT_MT_MIN_H
#define VMT_MT_MIN_H

#include <stdio.h>

#include "exec_mt.h"

struct vmt_min_opts {
	double max_cpu;		/* CPU seconds (self and children); 0: 60 */
	unsigned search_runs;	/* schedules a candidate may try; 0: 600 */
	uint64_t max_steps;	/* per run; 0: VMT_MT_STEPS_DEFAULT */
	bool in_process;	/* no child process per trial (tests, benchmarks) */
	FILE *log;		/* progress, if set */
};

struct vmt_min_result {
	unsigned trials;	/* candidates judged */
	unsigned searched;	/* of them, by a search for a new schedule */
	unsigned rescheduled;	/* accepted with a schedule a search found */
	unsigned rounds;
	double cpu;		/* CPU seconds used */
	/* The last round removed and simplified nothing: no thread, op or
	 * preemption can go (each tried alone) and no operand is simpler. */
	bool minimal;
};

/* Shrink @p in place while vmt_exec_mt gives @title. Returns 0, or
 * -EINVAL if @p does not give @title to begin with. */
int vmt_mt_minimize(struct vmt_prog *p, const char *title, const struct vmt_min_opts *o,
		    struct vmt_min_result *r);

/* Drop preemptions of @e[0..n) while replaying @p under them gives
 * @title: chunks of halving size, each tried once per round, at most
 * @max_runs runs (counted in *@runs). Returns the new length; the list
 * is 1-minimal if the runs did not run out. */
size_t vmt_mt_shrink_sched(const struct vmt_prog *p, struct vmt_preempt *e, size_t n,
			   const char *title, uint64_t max_steps, unsigned *runs,
			   unsigned max_runs);

/* Replay @p under @e[0..n) (sorted): the run's status. */
int vmt_mt_replay_list(const struct vmt_prog *p, const struct vmt_preempt *e, size_t n,
		       struct vms_sched_step *trace, size_t trace_cap, uint64_t max_steps,
		       struct vmt_mt_result *r);

/* The report of one run of @p under its schedule, for people (Markdown):
 * one column per thread, a row per op in the order the ops started, the
 * decisions between which each ran, the preemptions where they happened,
 * the op where the oracle fired and what it saw against what the model
 * expected, and @replay (the command that reproduces it). Runs @p once;
 * returns its status (1: a finding). */
int vmt_mt_table(FILE *f, const struct vmt_prog *p, const char *replay,
		 struct vmt_mt_result *r);

#endif /* VMT_MT_MIN_H */
