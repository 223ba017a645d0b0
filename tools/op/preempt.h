/* SPDX-License-Identifier: MIT */
/*
 * preempt.h - one preemption of a schedule: "after thread @thread's
 * @nth-th decision, run thread @next" (thread 0's 0th decision is the
 * run's start). A program's schedule section is a list of them (op.h);
 * the controlled scheduler's replay policy takes them (tools/sched).
 */
#ifndef VMT_PREEMPT_H
#define VMT_PREEMPT_H

#include <stdint.h>

struct vmt_preempt {
	uint32_t nth;		/* of thread's decisions (0: the run's start) */
	uint8_t thread;		/* the thread at the decision */
	uint8_t next;		/* the thread to run instead of the default */
};

#endif /* VMT_PREEMPT_H */
