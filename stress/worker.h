/* SPDX-License-Identifier: MIT */
/*
 * worker.h - what the stress worker loop shares with the files that read
 * its logs: the worker's state (its op log and session records), the
 * mutual-exclusion shadow it publishes to, and session saving. Private to
 * stress/.
 */
#ifndef VMTS_WORKER_H
#define VMTS_WORKER_H

#include "stress.h"

struct worker {
	struct stress *S;
	unsigned idx;
	uint64_t rng;
	struct vmt_thread t; /* its cursor and frame slots */
	uint64_t cs, ce;     /* the open session's range */
	/* op log and records of the current round */
	struct vmt_outcome *log;
	size_t nlog, caplog;
	struct srec *recs;
	size_t nrec, caprec;
	size_t pending; /* first log entry not yet in a record */
	/* the program being run, for saving */
	uint8_t bytes[4096];
	size_t nbytes;
	struct vmt_prog prog;
	uint64_t prog_no;
	uint64_t cur_ticket; /* ticket of the open session */
};

/* oracle_mutex.c: publish the open session's range [start, end) of @w and
 * check it against every other worker's; withdraw it. */
void vmts_shadow_enter(struct worker *w, uint64_t start, uint64_t end,
		       bool mut);
void vmts_shadow_leave(struct worker *w);

/* record.c: write the session record @r of worker @w as a program, op
 * @mark marked with @note; @why heads the file. */
void vmts_save_session(struct stress *S, struct worker *w, const struct srec *r,
		       int mark, const char *note, const char *why);

#endif /* VMTS_WORKER_H */
