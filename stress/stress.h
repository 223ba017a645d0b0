/* SPDX-License-Identifier: MIT */
/*
 * stress.h - `vmtorture stress`: many threads run cursor sessions decoded
 * from random bytes by the op language while lock-free accessors copy
 * through the same pages; oracles check every round.
 *
 * Oracles (each can be switched off with --oracles to show the others
 * still fire on a planted bug):
 *   mutex    shadow registry of live cursor ranges: overlap = violation
 *   serial   sessions replayed on the model in ticket order, every result
 *   quiesce  at round barriers: tree == model, vms_space_check, refcounts
 *   grace    accessors: poison, a frame freed while a reader held it
 *   access   accessor registry shadow, writer round trip on a stable zone
 *   watchdog no progress for N seconds (deadlock), with thread states
 * A crash (SIGSEGV, SIGBUS, SIGABRT) is reported as oracle "crash".
 */
#ifndef VMT_STRESS_H
#define VMT_STRESS_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <vms/vms.h>
#include "../tools/op/step.h"
#include "../model/model.h"

enum vmt_oracle {
	ORA_MUTEX, ORA_SERIAL, ORA_QUIESCE, ORA_GRACE, ORA_ACCESS, ORA_WATCHDOG,
	ORA_CRASH, ORA__COUNT
};

/* --mix classes: a decoded op of a class is kept with probability
 * weight / max weight; ro and mut pick the cursor kind; huge: out of 8
 * level-2 frame allocations, how many stay 2 MiB (the rest become 4 KiB). */
enum mix_class {
	MIX_QUERY, MIX_FIND, MIX_JUMP, MIX_MAP, MIX_UNMAP, MIX_PROTECT,
	MIX_ALLOC, MIX_GET, MIX_PUT, MIX_RO, MIX_MUT, MIX_HUGE, MIX__COUNT
};

struct stress_opts {
	unsigned threads, accessors;
	double seconds, round_ms, watchdog_s;
	uint64_t seed;
	uint64_t hot;			/* bytes of the shared region */
	unsigned mix[MIX__COUNT];
	bool json, progress, quiet;
	unsigned oracles;		/* bit per enum vmt_oracle */
	const char *outdir;
	unsigned max_prog_bytes;	/* random bytes per decoded program */
	uint64_t pool_bytes;
	unsigned stop_after;		/* violations before stopping (default 1) */
	unsigned noise;			/* per mille of sched points that yield or spin */
	unsigned retire_batch;		/* vms_pool_set_retire_batch */
	unsigned reclaim_us;		/* mean gap between in-round reclaims, 0 none */
	unsigned spaces_us;		/* mean gap between space creations/destroys, 0 none */
	unsigned read_hold_us;		/* longest linger inside an accessor's copy */
	double faults;			/* --faults: chance that an allocation fails */
	uint32_t fault_rate;		/* the same per 2^32 (core/src/fault.h) */
};

/* Stamps in simulated memory. Every 4 KiB page of a data frame starts with
 * a header word written at allocation: the frame (head) index and its
 * generation. Writers never touch the header word; their words carry a
 * magic, the writer and a global sequence number. */
#define HDR_MAGIC	0xa5c3ULL
#define WR_MAGIC	0x5e1dULL
#define POISON_WORD	0x6b6b6b6b6b6b6b6bULL
static inline uint64_t hdr_word(uint64_t idx, uint32_t gen)
{
	return HDR_MAGIC << 48 | (idx & 0xfffffffULL) << 20 | (gen & 0xfffff);
}
static inline uint64_t wr_word(unsigned wid, uint64_t seq)
{
	return WR_MAGIC << 48 | (uint64_t)(wid & 0xff) << 40 | (seq & 0xffffffffffULL);
}

/* A cursor session (or a run of frame ops): outcomes [first, first + n)
 * of the thread's op log (struct vmt_outcome, step.h), ordered by @ticket. */
struct srec {
	uint64_t ticket;
	uint32_t first, n;
	uint16_t thread;
	int prog_op0;			/* index in the thread's program of op first */
	uint64_t prog_no;
};

#define MAX_THREADS	64
/* The thread that reclaims during rounds (--reclaim): its state slot,
 * after the coordinator's (ts[MAX_THREADS]); then the one that creates
 * and destroys spaces (--spaces). */
#define RECLAIM_SLOT	(MAX_THREADS + 1)
#define SPACES_SLOT	(MAX_THREADS + 2)

struct worker;
struct stress;

/* Per-thread state, published for the watchdog and the crash handler. */
struct tstate {
	_Atomic(const char *) what;
	_Atomic uint64_t start, end;	/* cursor range if any */
	_Atomic uint64_t progress;
};

struct stress {
	struct stress_opts o;
	struct vms_pool *pool;
	struct vms_space *space;
	struct vmt_shared sh;		/* pool and space for the core steps, frame gids */
	uint64_t hot, hot_base, hot_end;
	uint64_t stable_base, stable_pages;
	struct vms_frame **stable_frames;

	pthread_t tid[MAX_THREADS], reclaim_tid, spaces_tid;
	struct worker *w[MAX_THREADS];
	struct tstate ts[SPACES_SLOT + 1];
	unsigned nworkers, nacc, nreclaim, nspaces;

	/* round protocol */
	_Atomic int pause;		/* coordinator asks threads to park */
	_Atomic int stop;
	_Atomic int done;		/* every thread joined */
	_Atomic unsigned parked;
	pthread_mutex_t park_lock;
	pthread_cond_t park_cv, resume_cv;
	_Atomic uint64_t round;

	/* mutual exclusion shadow registry: one slot per thread */
	_Atomic uint64_t shadow_start[MAX_THREADS], shadow_end[MAX_THREADS];
	/* accessor shadow: slot per accessor thread, kind 0 none, 1 reader, 2 writer */
	_Atomic uint64_t acc_start[MAX_THREADS], acc_end[MAX_THREADS];
	_Atomic int acc_kind[MAX_THREADS];

	_Atomic uint64_t ticket;

	struct vmt_model_side ms;	/* the model and its gid map (coordinator only) */
	_Atomic uint64_t resets;

	/* counters */
	_Atomic uint64_t sessions, ops, checks, reads, writes, acc_fail, faults;
	/* grace periods completed during one read: inside the harness's
	 * outer read-side section (at most 1 may), or in a read that runs
	 * in the core's own sections only (any number may) */
	_Atomic uint64_t pipe[10], gp_during[3], gp_during_bare[3], poison_seen, bad_words;
	_Atomic uint64_t reclaims, spaces_cycles;
	_Atomic uint64_t roundtrips, wseq;
	_Atomic uint64_t violations;
	_Atomic int first_oracle;
	double first_time;
	char first_msg[512];
	pthread_mutex_t report_lock;
	double t0;
	FILE *log;
};

extern struct stress *vmts_S;
extern _Atomic uint64_t vmts_gp_done;

double vmts_now(void);
uint64_t vmts_rand(uint64_t *s);
/* Report a violation of @oracle (printf-style); thread-safe. */
void vmts_violation(struct stress *S, enum vmt_oracle oracle, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
const char *vmts_oracle_name(int o);
const char *vmts_mix_name(int k);
/* Park at a round barrier if the coordinator asks; false when stopping. */
bool vmts_checkpoint(struct stress *S, unsigned self);

/* opts.c: parse the command line into @o; 0 to run, 1 after --help, 2 on
 * bad usage (the message is printed). */
int vmts_parse_opts(struct stress_opts *o, int argc, char **argv);

/* worker.c */
struct worker *vmts_worker_new(struct stress *S, unsigned idx);
void *vmts_worker_main(void *arg);
void vmts_worker_free(struct worker *w);
/* oracle_serial.c: replay the round's sessions of every worker in ticket order on the
 * model; 0 if all agree. Clears the logs. */
int vmts_replay_round(struct stress *S);
/* oracle_quiesce.c: compare the quiescent tree with the model, check the space, refcounts. */
int vmts_quiescent_check(struct stress *S, bool model_ok);
/* Put every handle held by workers; unmap the hot region; new model. */
int vmts_reset(struct stress *S);
/* record.c: save the failing session(s) of a worker; prints the paths. */
void vmts_save_worker(struct stress *S, unsigned idx, const char *why);

/* --read-hold (stress.c): while a thread's vmts_lingering is set, the
 * scheduling hook sometimes holds its copies inside the read section. */
extern unsigned vmts_hold_us;
extern __thread bool vmts_lingering;

/* access.c */
void *vmts_accessor_main(void *arg);
/* spaces.c: the --spaces thread (arg: the struct stress). */
void *vmts_spaces_main(void *arg);
void vmts_stamp_frame(struct stress *S, struct vms_frame *f);

int vmt_stress_main(int argc, char **argv);

#endif /* VMT_STRESS_H */
