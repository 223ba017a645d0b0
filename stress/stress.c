/* SPDX-License-Identifier: MIT */
/*
 * stress.c - `vmtorture stress`: the round protocol, the scheduling
 * noise, the watchdog, progress and the summary. See stress.h for the
 * oracles (oracle_*.c), opts.c for the options, worker.c for the workers.
 *
 * Rounds: workers and accessors run freely for --round-ms; then the
 * coordinator raises `pause`, every thread parks at its next checkpoint
 * (workers only between sessions, holding no cursor), and the coordinator
 * replays the round's sessions on the model in ticket order and compares
 * the quiescent tree. Then everybody resumes.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <execinfo.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"
#include "stress.h"

#if defined(__has_feature)
#if __has_feature(thread_sanitizer) || __has_feature(address_sanitizer)
#define UNDER_SANITIZER 1
#endif
#endif

struct stress *vmts_S;
_Atomic uint64_t vmts_gp_done;

static __thread int my_index = -1;	/* worker, accessor or RECLAIM_SLOT */
static __thread bool coordinator;

/* Who waited for each grace period: the coordinator at a round barrier,
 * the reclaimer thread of this driver (--reclaim), the pool's own
 * reclaimer thread (kicked when many releases wait), or a worker short
 * of frames. */
enum { GP_BARRIER, GP_RECLAIMER, GP_POOL, GP_WORKER, GP__COUNT };
static _Atomic uint64_t gp_by[GP__COUNT];

/* Count grace periods: the core calls liburcu's synchronize from sync.c.
 * A definition in the executable takes precedence over the shared
 * library's, so every grace period passes through here (no linker flags
 * needed). */
void urcu_memb_synchronize_rcu(void);
void urcu_memb_synchronize_rcu(void)
{
	static void (*real)(void);

	if (!real)
		real = (void (*)(void))dlsym(RTLD_NEXT, "urcu_memb_synchronize_rcu");
	real();
	atomic_fetch_add(&vmts_gp_done, 1);
	atomic_fetch_add(&gp_by[coordinator ? GP_BARRIER : my_index == RECLAIM_SLOT ?
				GP_RECLAIMER : my_index < 0 ? GP_POOL : GP_WORKER], 1);
}

static const char *oracle_names[ORA__COUNT] = {
	"mutex", "serial", "quiesce", "grace", "access", "watchdog", "crash",
};

static const char *mix_names[MIX__COUNT] = {
	"query", "find_next", "jump", "map", "unmap", "protect", "alloc", "get", "put",
	"ro", "mut", "huge",
};

const char *vmts_mix_name(int k)
{
	return k >= 0 && k < MIX__COUNT ? mix_names[k] : "?";
}

const char *vmts_oracle_name(int o)
{
	return o >= 0 && o < ORA__COUNT ? oracle_names[o] : "none";
}

double vmts_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* splitmix64 */
uint64_t vmts_rand(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* The core this driver links (stress.mk) is built with VMS_SCHED_HOOK
 * and VMS_POISON: a scheduling hook, and a hook for its run-time checks. */
extern void (*vms_sched_hook)(bool copy, const char *where);
extern void (*vms_poison_hook)(enum vms_check check, const char *where);

/* The core's run-time checks (vms/checks.def) go to the oracle that owns
 * them, by their name, worded as the fuzz executor words them. */
static void node_freed(enum vms_check check, const char *where)
{
	bool grace = !strcmp(vms_check_oracle(check) ?: "", "grace");
	enum vmt_oracle o = grace ? ORA_GRACE : ORA_MUTEX;

	if (!(vmts_S->o.oracles & (1u << o)))
		return;		/* --oracles: each oracle can be shown to fire alone */
	vmts_violation(vmts_S, o, "invariant broken: %s (in %s)", vms_check_name(check), where);
}
static unsigned noise_permille;
unsigned vmts_hold_us;
__thread bool vmts_lingering;
static __thread uint64_t noise_rng;

/* --read-hold: a lingering reader (access.c) about to copy is inside the
 * core's read-side section; a quarter of its copies spin there, a
 * quarter yield, a quarter sleep up to hold_us, so grace periods that
 * start meanwhile must wait for it and end while it reads. */
static void read_hold(uint64_t r)
{
	switch (r >> 62) {
	case 0:
		for (unsigned i = (r >> 8) % 1024; i; i--)
			__builtin_ia32_pause();
		break;
	case 1:
		sched_yield();
		break;
	case 2:
		usleep((r >> 8) % vmts_hold_us + 1);
		break;
	}
}

/* --noise: at a core scheduling point (VMS_SCHED_POINT), sometimes yield
 * or spin, so that short windows (between an unlock and the next lock,
 * between a PTE store and the next) are hit far more often on 2 cores. */
static void noise_hook(bool copy, const char *where)
{
	uint64_t r;

	if (my_index < 0)
		return;		/* the coordinator's checks run undisturbed */
	if (!noise_rng)
		noise_rng = (uint64_t)(uintptr_t)&noise_rng | 1;
	r = vmts_rand(&noise_rng);
	if (copy) {
		if (vmts_lingering)
			read_hold(r);
		return;
	}
	if (r % 1000 >= noise_permille)
		return;
	if (r & 0x10000) {
		sched_yield();
	} else {
		for (unsigned i = (r >> 20) % 256; i; i--)
			__builtin_ia32_pause();
	}
}

void vmts_violation(struct stress *S, enum vmt_oracle oracle, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	uint64_t n;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	pthread_mutex_lock(&S->report_lock);
	n = atomic_fetch_add(&S->violations, 1);
	if (n == 0) {
		atomic_store(&S->first_oracle, oracle);
		S->first_time = vmts_now() - S->t0;
		snprintf(S->first_msg, sizeof(S->first_msg), "%s", msg);
	}
	if (n < 20)
		fprintf(stderr, "%sVIOLATION [%s] %.3fs: %s\n", S->o.progress ? "\n" : "",
			oracle_names[oracle], vmts_now() - S->t0, msg);
	if (n == 0 && my_index >= 0 && (unsigned)my_index < S->nworkers &&
	    oracle != ORA_SERIAL)
		vmts_save_worker(S, (unsigned)my_index, msg);
	pthread_mutex_unlock(&S->report_lock);
	if (n + 1 >= S->o.stop_after)
		atomic_store(&S->stop, 1);
}

bool vmts_checkpoint(struct stress *S, unsigned self)
{
	my_index = (int)self;
	if (!atomic_load_explicit(&S->pause, memory_order_acquire))
		return !atomic_load_explicit(&S->stop, memory_order_relaxed);
	atomic_store_explicit(&S->ts[self].what, "parked at the round barrier",
			      memory_order_relaxed);
	pthread_mutex_lock(&S->park_lock);
	S->parked++;
	pthread_cond_broadcast(&S->park_cv);
	while (atomic_load(&S->pause) && !atomic_load(&S->stop))
		pthread_cond_wait(&S->resume_cv, &S->park_lock);
	S->parked--;
	pthread_mutex_unlock(&S->park_lock);
	return !atomic_load(&S->stop);
}

/* ---- summary ------------------------------------------------------------------- */

static void print_states(struct stress *S, FILE *f)
{
	if (S->nreclaim)
		fprintf(f, "  reclaimer: %s, %lu steps\n",
			atomic_load(&S->ts[RECLAIM_SLOT].what) ?: "?",
			atomic_load(&S->ts[RECLAIM_SLOT].progress));
	if (S->nspaces)
		fprintf(f, "  spaces: %s, %lu steps\n",
			atomic_load(&S->ts[SPACES_SLOT].what) ?: "?",
			atomic_load(&S->ts[SPACES_SLOT].progress));
	for (unsigned i = 0; i < S->nworkers + S->nacc; i++) {
		const char *w = atomic_load(&S->ts[i].what);

		fprintf(f, "  %s %u: %s", i < S->nworkers ? "worker" : "accessor",
			i < S->nworkers ? i : i - S->nworkers, w ? w : "?");
		if (i < S->nworkers && w && strstr(w, "ession"))
			fprintf(f, " [%#lx,%#lx)", atomic_load(&S->ts[i].start),
				atomic_load(&S->ts[i].end));
		else if (i < S->nworkers && w && strstr(w, "cursor"))
			fprintf(f, " [%#lx,%#lx)", atomic_load(&S->ts[i].start),
				atomic_load(&S->ts[i].end));
		fprintf(f, ", %lu steps\n", atomic_load(&S->ts[i].progress));
	}
}

static void summary(struct stress *S, double elapsed)
{
	uint64_t sess = atomic_load(&S->sessions), ops = atomic_load(&S->ops);
	uint64_t v = atomic_load(&S->violations);
	FILE *f = stdout;
	/* trylock: the crash handler may run while this thread holds it */
	bool locked = !pthread_mutex_trylock(&S->report_lock);

	if (S->o.progress)
		fprintf(stderr, "\n");
	if (S->o.json) {
		fprintf(f, "{\"seed\": \"%#lx\", \"threads\": %u, \"accessors\": %u, \"hot\": %lu, "
			"\"seconds\": %.3f, \"sessions\": %lu, \"ops\": %lu, \"sessions_per_s\": %.0f, "
			"\"ops_per_s\": %.0f, \"rounds\": %lu, \"resets\": %lu, \"checks\": %lu, "
			"\"reads\": %lu, \"writes\": %lu, \"roundtrips\": %lu, \"accessor_refused\": %lu, "
			"\"grace_periods\": %lu, \"pipe\": [", S->o.seed, S->nworkers, S->nacc, S->hot,
			elapsed, sess, ops, sess / elapsed, ops / elapsed, S->round, S->resets,
			atomic_load(&S->checks), atomic_load(&S->reads), atomic_load(&S->writes),
			atomic_load(&S->roundtrips), atomic_load(&S->acc_fail),
			atomic_load(&vmts_gp_done));
		for (int i = 0; i < 10; i++)
			fprintf(f, "%s%lu", i ? ", " : "", atomic_load(&S->pipe[i]));
		fprintf(f, "], \"gp_during_read\": [%lu, %lu, %lu], \"gp_during_bare_read\": "
			"[%lu, %lu, %lu], \"gp_by\": {\"barrier\": %lu, \"reclaimer\": %lu, "
			"\"pool\": %lu, \"worker\": %lu}, \"poison\": %lu, \"faults\": %lu, \"violations\": %lu",
			atomic_load(&S->gp_during[0]), atomic_load(&S->gp_during[1]),
			atomic_load(&S->gp_during[2]), atomic_load(&S->gp_during_bare[0]),
			atomic_load(&S->gp_during_bare[1]), atomic_load(&S->gp_during_bare[2]),
			atomic_load(&gp_by[GP_BARRIER]), atomic_load(&gp_by[GP_RECLAIMER]),
			atomic_load(&gp_by[GP_POOL]), atomic_load(&gp_by[GP_WORKER]),
			atomic_load(&S->poison_seen), atomic_load(&S->faults), v);
		if (v) {
			fprintf(f, ", \"first\": {\"oracle\": \"%s\", \"time_s\": %.3f, \"msg\": \"",
				vmts_oracle_name(atomic_load(&S->first_oracle)), S->first_time);
			for (const char *p = S->first_msg; *p; p++)
				fprintf(f, *p == '"' || *p == '\\' ? "\\%c" : "%c", *p);
			fprintf(f, "\"}");
		}
		fprintf(f, ", \"result\": \"%s\"}\n", v ? "FAILURE" : "SUCCESS");
		fflush(f);
		if (locked)
			pthread_mutex_unlock(&S->report_lock);
		return;
	}
	fprintf(f, "sessions %lu (%.0f/s), ops %lu (%.0f/s), rounds %lu, model resets %lu, "
		"checks %lu\n", sess, sess / elapsed, ops, ops / elapsed, S->round, S->resets,
		atomic_load(&S->checks));
	fprintf(f, "accessors: %lu reads, %lu writes, %lu stable round trips, %lu refused "
		"(-EBUSY/-EFAULT)\n", atomic_load(&S->reads), atomic_load(&S->writes),
		atomic_load(&S->roundtrips), atomic_load(&S->acc_fail));
	if (S->nspaces)
		fprintf(f, "spaces thread: %lu steps (creates and destroys)\n",
			atomic_load(&S->spaces_cycles));
	fprintf(f, "grace periods: %lu (at round barriers %lu, reclaimer thread %lu, "
		"pool's reclaimer %lu, workers %lu)\n", atomic_load(&vmts_gp_done),
		atomic_load(&gp_by[GP_BARRIER]), atomic_load(&gp_by[GP_RECLAIMER]),
		atomic_load(&gp_by[GP_POOL]), atomic_load(&gp_by[GP_WORKER]));
	fprintf(f, "reader pipe (frees of the frame seen while the reader held it):");
	for (int i = 0; i < 10; i++) {
		uint64_t x = atomic_load(&S->pipe[i]);

		fprintf(f, " %s%lu%s", i == 9 ? ">=" : "", x, i && x ? "!!!" : "");
	}
	fprintf(f, "\ngrace periods completed during one read: in an outer read-side "
		"section 0: %lu  1: %lu  >=2: %lu%s; in the core's sections only 0: %lu  1: %lu  "
		">=2: %lu; poison seen: %lu\n", atomic_load(&S->gp_during[0]),
		atomic_load(&S->gp_during[1]), atomic_load(&S->gp_during[2]),
		atomic_load(&S->gp_during[2]) ? "!!!" : "", atomic_load(&S->gp_during_bare[0]),
		atomic_load(&S->gp_during_bare[1]), atomic_load(&S->gp_during_bare[2]),
		atomic_load(&S->poison_seen));
	if (v)
		fprintf(f, "first violation: [%s] at %.3fs: %s\n",
			vmts_oracle_name(atomic_load(&S->first_oracle)), S->first_time, S->first_msg);
	fprintf(f, "--- End of stress: %s (%lu violations; seed %#lx, threads %u, accessors %u, "
		"hot %#lx, %.1fs)\n", v ? "FAILURE" : "SUCCESS", v, S->o.seed, S->nworkers,
		S->nacc, S->hot, elapsed);
	fflush(f);
	if (locked)
		pthread_mutex_unlock(&S->report_lock);
}

/* ---- watchdog and crashes ---------------------------------------------------- */

static uint64_t total_progress(struct stress *S)
{
	uint64_t t = 0;

	for (unsigned i = 0; i <= SPACES_SLOT; i++)
		t += atomic_load_explicit(&S->ts[i].progress, memory_order_relaxed);
	return t;
}

static void *watchdog_main(void *arg)
{
	struct stress *S = arg;
	uint64_t last = total_progress(S);
	double since = vmts_now();

	/* Runs until the threads are joined: a run that stops after a
	 * violation may still hang in the join if the bug left threads
	 * deadlocked. */
	while (!atomic_load(&S->done)) {
		uint64_t now_p;

		usleep(50000);
		now_p = total_progress(S);
		if (now_p != last) {
			last = now_p;
			since = vmts_now();
			continue;
		}
		if (vmts_now() - since < S->o.watchdog_s)
			continue;
		if (atomic_load(&S->violations)) {
			fprintf(stderr, "vmtorture stress: threads stuck after the violation; "
				"thread states:\n");
			print_states(S, stderr);
			summary(S, vmts_now() - S->t0);
			_exit(1);
		}
		vmts_violation(S, ORA_WATCHDOG, "%s for %.1f s (deadlock?)",
			      vms_check_name(VMS_CHECK_HANG), vmts_now() - since);
		fprintf(stderr, "thread states:\n");
		print_states(S, stderr);
#ifndef UNDER_SANITIZER
		/* Reading another thread's log races with it if it is not
		 * stuck after all; harmless here, but TSan would report the
		 * harness instead of the deadlock, so sanitizer builds skip it. */
		for (unsigned i = 0; i < S->nworkers; i++)
			vmts_save_worker(S, i, "no progress (watchdog)");
#endif
		/* Stuck threads cannot be joined: report and leave. */
		summary(S, vmts_now() - S->t0);
		_exit(1);
	}
	return NULL;
}


#ifndef UNDER_SANITIZER
static void crash_handler(int sig)
{
	struct stress *S = vmts_S;

	if (S) {
		void *frames[32];
		int n = backtrace(frames, 32);

		fprintf(stderr, "crash backtrace:\n");
		backtrace_symbols_fd(frames, n, 2);
		vmts_violation(S, ORA_CRASH, "SIG%s (signal %d) in %s %d", sigabbrev_np(sig), sig,
			      my_index < 0 ? "main" : my_index == RECLAIM_SLOT ? "reclaimer" :
			      my_index == SPACES_SLOT ? "spaces thread" :
			      (unsigned)my_index < S->nworkers ? "worker" : "accessor",
			      my_index < 0 || my_index >= RECLAIM_SLOT ? 0 :
			      (unsigned)my_index < S->nworkers ? my_index :
			      my_index - (int)S->nworkers);
		print_states(S, stderr);
		summary(S, vmts_now() - S->t0);
	}
	_exit(1);
}
#endif

static void install_crash_handler(void)
{
#ifndef UNDER_SANITIZER
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = crash_handler;
	sa.sa_flags = SA_RESETHAND;
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);
	sigaction(SIGABRT, &sa, NULL);
	sigaction(SIGFPE, &sa, NULL);
	sigaction(SIGILL, &sa, NULL);
#endif
}

/* ---- setup --------------------------------------------------------------------- */

static int setup(struct stress *S)
{
	struct vms_cursor *c;
	int ret;

	/* Hot region at 512 GiB, the stable zone right after it (sharing the
	 * upper nodes when the region is small). */
	S->hot = S->o.hot;
	S->hot_base = 1ULL << 39;
	S->hot_end = S->hot_base + S->hot;
	S->stable_base = S->hot_end;
	S->stable_pages = 16;
	ret = vms_pool_new(S->o.pool_bytes, &S->pool);
	if (ret)
		return ret;
	ret = vms_pool_set_retire_batch(S->pool, S->o.retire_batch);
	if (ret)
		return ret;
	ret = vms_space_new(S->pool, 0, &S->space);
	if (ret)
		return ret;
	ret = vmt_shared_init(&S->sh, S->pool);
	if (ret)
		return ret;
	S->sh.space[0] = S->space;
	S->stable_frames = calloc(S->stable_pages, sizeof(*S->stable_frames));
	if (!S->stable_frames)
		return -ENOMEM;
	ret = vms_cursor_mut_new(S->space, S->stable_base,
				 S->stable_base + S->stable_pages * VMS_PAGE_SIZE, &c);
	if (ret)
		return ret;
	for (uint64_t i = 0; i < S->stable_pages; i++) {
		struct vms_prop rw = { VMS_PROP_R | VMS_PROP_W, 0, VMS_PRIV_USER };
		struct vms_frame *f;

		ret = vms_frame_alloc(S->pool, 1, &f);
		if (!ret)
			ret = vms_frame_get(f);	/* one handle stays with us */
		if (!ret)
			ret = vms_cursor_map(c, f, rw) < 0 ? -EIO : 0;
		if (ret)
			break;
		vmts_stamp_frame(S, f);
		S->stable_frames[i] = f;
	}
	vms_cursor_drop(c);
	if (ret)
		return ret;
	if (vmt_model_side_init(&S->ms, 1) || vmt_model_space_new(S->ms.m, 0, 0))
		return -ENOMEM;
	return 0;
}

/*
 * --faults: the pool's reclaimer thread starts at the first kick and runs
 * to the end, so a run has one thread-start fault site (1 run in 200 at
 * the campaign's 0.005 fails it). A failed start leaves the kicking
 * thread to reclaim on its own (pool.c pool_kick: vms_defer_reclaim
 * without waiting for the lock) and the next kick to try again. So that
 * every faulted run takes that path, the first kick is made here, by a
 * session whose thread start fails on purpose: a frame mapped past the
 * stable zone and unmapped again must be free once the drop returns
 * (quiesce oracle), and a worker's first kick starts the thread.
 */
static void first_kick_fails(struct stress *S)
{
	vms_vaddr_t va = S->stable_base + S->stable_pages * VMS_PAGE_SIZE;
	struct vms_prop rw = { VMS_PROP_R | VMS_PROP_W, 0, VMS_PRIV_USER };
	struct vms_pool_stats st;
	struct vms_cursor *c;
	struct vms_frame *f;
	enum vms_fault_kind k;
	uint32_t nth;
	int ret;

	if (!S->o.fault_rate)
		return;
	if (vms_cursor_mut_new(S->space, va, va + VMS_PAGE_SIZE, &c))
		return; /* short of memory already: the workers' kicks will do */
	ret = vms_frame_alloc(S->pool, 1, &f);
	if (!ret && vms_cursor_map(c, f, rw) < 0) {
		vms_frame_put(f);
		ret = -ENOMEM;
	}
	if (!ret)
		ret = vms_cursor_jump(c, va);
	if (!ret)
		ret = vms_cursor_unmap(c, VMS_PAGE_SIZE) == 1 ? 0 : -EIO;
	vms_fault_arm(1, VMS_FAULT_THREAD);
	vms_cursor_drop(c);
	k = vms_fault_take(&nth);
	if (ret || !(S->o.oracles & (1u << ORA_QUIESCE)))
		return;
	if (k != VMS_FAULT_THREAD)
		vmts_violation(
			S, ORA_QUIESCE,
			"a drop's release did not try to start the reclaimer");
	else if (vms_pool_stats(S->pool, &st) || st.deferred ||
		 st.data_frames != S->stable_pages)
		vmts_violation(
			S, ORA_QUIESCE,
			"a kick that could not start the reclaimer left %lu releases deferred (%lu data frames for %lu)",
			st.deferred, st.data_frames, S->stable_pages);
}

static int teardown(struct stress *S)
{
	struct vms_cursor *c;
	int ret;

	vmts_reset(S);
	ret = vms_cursor_mut_new(S->space, S->stable_base,
				 S->stable_base + S->stable_pages * VMS_PAGE_SIZE, &c);
	if (!ret) {
		vms_cursor_unmap(c, S->stable_pages * VMS_PAGE_SIZE);
		vms_cursor_drop(c);
	}
	for (uint64_t i = 0; i < S->stable_pages; i++)
		vms_frame_put(S->stable_frames[i]);
	if (vms_space_destroy(S->space))
		return -EBUSY;
	return vms_pool_destroy(S->pool);
}

/* ---- the run --------------------------------------------------------------------- */

/* --reclaim: release what cursors deferred while the round runs, as a
 * worker short of frames does (vms_pool_quiesce), at random gaps around
 * reclaim_us; at the round barriers everybody is parked, so without this
 * no grace period ever ends in the middle of a read. */
static void *reclaimer_main(void *arg)
{
	struct stress *S = arg;
	uint64_t rng = S->o.seed ^ 0x3c6ef372fe94f82bULL;

	while (vmts_checkpoint(S, RECLAIM_SLOT)) {
		atomic_store_explicit(&S->ts[RECLAIM_SLOT].what, "reclaiming", memory_order_relaxed);
		vms_pool_quiesce(S->pool);
		atomic_fetch_add_explicit(&S->reclaims, 1, memory_order_relaxed);
		atomic_fetch_add_explicit(&S->ts[RECLAIM_SLOT].progress, 1, memory_order_relaxed);
		atomic_store_explicit(&S->ts[RECLAIM_SLOT].what, "reclaimer idle",
				      memory_order_relaxed);
		/* in slices, so that a long gap does not hold up a barrier */
		for (uint64_t left = vmts_rand(&rng) % (2 * S->o.reclaim_us) + 1, step; left &&
		     !atomic_load(&S->pause) && !atomic_load(&S->stop); left -= step) {
			step = left < 1000 ? left : 1000;
			usleep(step);
		}
	}
	return NULL;
}

static void join_all(struct stress *S)
{
	for (unsigned i = 0; i < S->nworkers + S->nacc; i++)
		pthread_join(S->tid[i], NULL);
	if (S->nreclaim)
		pthread_join(S->reclaim_tid, NULL);
	if (S->nspaces)
		pthread_join(S->spaces_tid, NULL);
}

static void park_all(struct stress *S)
{
	unsigned want = S->nworkers + S->nacc + S->nreclaim + S->nspaces;

	atomic_store(&S->pause, 1);
	pthread_mutex_lock(&S->park_lock);
	while (S->parked < want && !atomic_load(&S->stop)) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 20 * 1000000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&S->park_cv, &S->park_lock, &ts);
	}
	pthread_mutex_unlock(&S->park_lock);
}

static void resume_all(struct stress *S)
{
	pthread_mutex_lock(&S->park_lock);
	atomic_store(&S->pause, 0);
	pthread_cond_broadcast(&S->resume_cv);
	pthread_mutex_unlock(&S->park_lock);
}

static void progress_line(struct stress *S, double t, uint64_t *last_ops, double *last_t)
{
	uint64_t ops = atomic_load(&S->ops);

	fprintf(stderr, "\r[%6.1fs] %8.0f ops/s  sessions %lu  rounds %lu  checks %lu  "
		"reads %lu  violations %lu   ", t, (ops - *last_ops) / (t - *last_t + 1e-9),
		atomic_load(&S->sessions), S->round, atomic_load(&S->checks),
		atomic_load(&S->reads), atomic_load(&S->violations));
	*last_ops = ops;
	*last_t = t;
}

/* Start the workers, accessors, reclaimer and spaces threads; false (after
 * a message) if one cannot start. */
static bool start_threads(struct stress *S)
{
	for (unsigned i = 0; i < S->nworkers; i++) {
		S->w[i] = vmts_worker_new(S, i);
		if (!S->w[i] || pthread_create(&S->tid[i], NULL, vmts_worker_main, S->w[i])) {
			fprintf(stderr, "vmtorture stress: cannot start worker %u\n", i);
			return false;
		}
	}
	for (unsigned j = 0; j < S->nacc; j++)
		if (pthread_create(&S->tid[S->nworkers + j], NULL, vmts_accessor_main,
				   (void *)(uintptr_t)j)) {
			fprintf(stderr, "vmtorture stress: cannot start accessor %u\n", j);
			return false;
		}
	if (S->nreclaim && pthread_create(&S->reclaim_tid, NULL, reclaimer_main, S)) {
		fprintf(stderr, "vmtorture stress: cannot start the reclaimer\n");
		return false;
	}
	if (S->nspaces && pthread_create(&S->spaces_tid, NULL, vmts_spaces_main, S)) {
		fprintf(stderr, "vmtorture stress: cannot start the spaces thread\n");
		return false;
	}
	return true;
}

/* At a round barrier, everybody parked: the serializability replay, the
 * quiescent check, and a reset when the model is no witness any more or
 * has grown too big. */
static void check_round(struct stress *S)
{
	struct vms_pool_stats st;
	bool model_ok = !vmts_replay_round(S);

	/* A diverged model (its oracle switched off) is reset, so
	 * the other oracles keep a valid witness. */
	if (vmts_quiescent_check(S, model_ok))
		model_ok = false;
	vms_pool_stats(S->pool, &st);
	if (!model_ok || vmt_model_nr_frames(S->ms.m) > 50000 ||
	    st.free_frames < st.total_frames / 2)
		vmts_reset(S);
}

/* Run rounds of --round-ms until --seconds pass or an oracle stops the
 * run; the threads are joined when it returns true. */
static bool run_rounds(struct stress *S)
{
	double t, last_p, last_t = 0, end;
	uint64_t last_ops = 0;
	bool joined = false;

	end = S->t0 + S->o.seconds;
	last_p = S->t0;
	while (!atomic_load(&S->stop)) {
		double next = vmts_now() + S->o.round_ms / 1000.0;

		while ((t = vmts_now()) < next && t < end && !atomic_load(&S->stop)) {
			usleep(5000);
			atomic_fetch_add(&S->ts[MAX_THREADS].progress, 1);
			if (S->o.progress && t - last_p >= 1.0) {
				progress_line(S, t - S->t0, &last_ops, &last_t);
				last_p = t;
			}
		}
		if (t >= end)
			atomic_store(&S->stop, 1);
		park_all(S);
		if (atomic_load(&S->stop)) {
			/* stopping: let everybody finish before the last check */
			resume_all(S);
			join_all(S);
			joined = true;
		}
		S->round++;
		check_round(S);
		if (atomic_load(&S->stop))
			break;
		resume_all(S);
	}
	return joined;
}

/* A clean run must tear down: every frame back in the pool, the space and
 * the pool destroyed. */
static void final_check(struct stress *S)
{
	int ret;

	ret = teardown(S);
	if (ret) {
		struct vms_check_report rep;
		char line[320];

		/* What the pool's conservation says, if it is broken:
		 * a wrong counter is titled by the invariant, not by
		 * the destroy it then fails (as in the executor). */
		if (vms_pool_check(S->pool, &rep) == -EUCLEAN) {
			vms_check_report_line(&rep, line, sizeof(line));
			vmts_violation(S, ORA_QUIESCE, "vms_pool_check: %s",
				       line);
		} else {
			vmts_violation(S, ORA_QUIESCE, "%s: %s",
				       vms_check_name(VMS_CHECK_LEAK),
				       strerror(-ret));
		}
	}
}

int vmt_stress_main(int argc, char **argv)
{
	struct stress *S = calloc(1, sizeof(*S));
	pthread_t wd;
	double t;
	bool joined;
	int ret;

	if (!S)
		return 2;
	coordinator = true;
	ret = vmts_parse_opts(&S->o, argc, argv);
	if (ret)
		return ret == 1 ? 0 : 2;
	printf("seed %#lx\n", S->o.seed);
	fflush(stdout);
	vmts_S = S;
	pthread_mutex_init(&S->park_lock, NULL);
	pthread_mutex_init(&S->report_lock, NULL);
	pthread_cond_init(&S->park_cv, NULL);
	pthread_cond_init(&S->resume_cv, NULL);
	ret = setup(S);
	if (ret) {
		fprintf(stderr, "vmtorture stress: setup failed: %s\n",
			strerror(-ret));
		return 2;
	}
	if (!S->o.json)
		printf("stress: %u workers, %u accessors, hot [%#lx,%#lx), %.1fs, rounds of %.0f ms\n",
		       S->o.threads, S->o.accessors, S->hot_base, S->hot_end,
		       S->o.seconds, S->o.round_ms);
	install_crash_handler();
	noise_permille = S->o.noise;
	vmts_hold_us = S->o.read_hold_us;
	if (noise_permille || vmts_hold_us)
		vms_sched_hook = noise_hook;
	vms_poison_hook = node_freed;
	S->nworkers = S->o.threads;
	S->nacc = S->o.accessors;
	S->nreclaim = S->o.reclaim_us ? 1 : 0;
	S->nspaces = S->o.spaces_us ? 1 : 0;
	S->t0 = vmts_now();
	/* With the hooks in place: a planted bug it meets is reported as
	 * the workers would report it. */
	first_kick_fails(S);
	if (!start_threads(S))
		return 2;
	if (S->o.oracles & (1u << ORA_WATCHDOG))
		pthread_create(&wd, NULL, watchdog_main, S);
	joined = run_rounds(S);
	atomic_store(&S->stop, 1);
	resume_all(S);
	if (!joined)
		join_all(S);
	atomic_store(&S->done, 1);
	if (S->o.oracles & (1u << ORA_WATCHDOG))
		pthread_join(wd, NULL);
	t = vmts_now() - S->t0;
	if (!atomic_load(&S->violations))
		final_check(S);
	summary(S, t);
	return atomic_load(&S->violations) ? 1 : 0;
}
