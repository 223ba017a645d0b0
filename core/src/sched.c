/* SPDX-License-Identifier: MIT */
/*
 * sched.c - the controlled scheduler of the VMS_SCHED build (see scheduler.h).
 *
 * Mechanism: user-level contexts on the OS thread that calls
 * vms_sched_run. Each controlled thread has its own stack and its own
 * struct vms_thread; a switch swaps the stack pointer and the vms_thread()
 * pointer, and happens only when a decision changes the running thread.
 * The switch is ours (ctx_swap below, x86-64): glibc's swapcontext makes
 * a sigprocmask system call at every switch, which was half of the time
 * of a whole controlled run.
 * Everything else (who is runnable, the simulated grace periods) is
 * plain data read at each decision, so the scheduler keeps no wake-up
 * lists that could drift from the locks they describe.
 *
 * ASan: every switch is announced with the sanitizer's fiber calls, so
 * that it tracks which stack is live; a stack is unpoisoned before it is
 * reused. The stack of a thread abandoned by a run that did not end is
 * not reused: it becomes a LeakSanitizer root, so that what the thread
 * still holds (its cursors, their pool) is not reported as leaked.
 */
#ifdef VMS_SCHED
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "internal.h"
#include "scheduler.h"

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SCHED_ASAN 1
#endif
#endif
#ifdef __SANITIZE_ADDRESS__
#define SCHED_ASAN 1
#endif
#ifdef SCHED_ASAN
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#include <sanitizer/lsan_interface.h>
#define STACK_SIZE (1u << 20)
#else
#define STACK_SIZE (256u << 10)
#endif
/* The frames an ended thread never returns from (thread_main down to
 * switch_to) must hold no ASan fake frames: its fake stack goes, empty,
 * to the next thread of its slot. */
#define NO_FAKE_FRAME __attribute__((no_sanitize("address")))

enum tstate { T_READY, T_BLOCKED, T_DONE };

struct cthread {
	void *sp;			/* saved stack pointer while switched out */
	struct vms_thread self;
	void (*fn)(void *arg);
	void *arg;
	enum tstate state;
	uint32_t nth;			/* decisions taken at its points */
	uint32_t incarnation;		/* starts in this slot (workers restart) */
	int64_t last_release;		/* decision at its last unlock point, -1 */
	const struct vms_site *site;	/* where it stands */
	struct {
		enum vms_sched_wait_kind kind;
		const void *obj;
		uint32_t readers;	/* GRACE: threads in a section at its start */
		uint32_t sections[VMS_SCHED_MAX_THREADS];
		int slot;		/* JOIN */
		uint32_t incarnation;
	} wait;
	unsigned char *stack;		/* kept across runs */
	void *fake_stack;		/* ASan's, while switched out */
};

static struct {
	struct cthread t[VMS_SCHED_MAX_THREADS];
	int nr, cur;
	bool in_run;
	uint32_t gen;			/* run number, in worker handles */
	uint32_t workers;
	void *host_sp;
	struct vms_thread *host_self;
	const struct vms_sched_opts *o;
	struct vms_sched_result *r;
	uint64_t steps, max_steps, switches;
	enum vms_sched_verdict verdict;
#ifdef SCHED_ASAN
	void *host_fake_stack;
	const void *host_bottom;
	size_t host_size;
	bool from_host;
#endif
} S;

bool vms_sched_active;

static const struct vms_site exit_site = { VMS_SP_THREAD, 0, "thread end" };
static const struct vms_site start_site = { VMS_SP_THREAD, 0, "thread start" };

/* ---- context switches --------------------------------------------------- */

/*
 * ctx_swap(&from_sp, to_sp): push the callee-saved registers (System V
 * x86-64) on the running stack, save its pointer in from_sp, load to_sp
 * and pop them from there. A new thread's stack is laid out as if it had
 * called ctx_swap: six zero registers (rbp = 0 ends frame-pointer
 * unwinds), thread_main as the return address, and a null return address
 * for thread_main itself (which never returns).
 */
void vms_sched_ctx_swap(void **from, void *to);
__asm__(".text\n"
	".globl vms_sched_ctx_swap\n"
	".hidden vms_sched_ctx_swap\n"
	".type vms_sched_ctx_swap, @function\n"
	"vms_sched_ctx_swap:\n"
	"	pushq %rbp\n	pushq %rbx\n	pushq %r12\n"
	"	pushq %r13\n	pushq %r14\n	pushq %r15\n"
	"	movq %rsp, (%rdi)\n"
	"	movq %rsi, %rsp\n"
	"	popq %r15\n	popq %r14\n	popq %r13\n"
	"	popq %r12\n	popq %rbx\n	popq %rbp\n"
	"	ret\n"
	".size vms_sched_ctx_swap, .-vms_sched_ctx_swap\n");

static void asan_before(void **fake, const void *bottom, size_t size)
{
#ifdef SCHED_ASAN
	__sanitizer_start_switch_fiber(fake, bottom, size);
#endif
}

static void asan_after(void *fake)
{
#ifdef SCHED_ASAN
	const void *bottom;
	size_t size;

	__sanitizer_finish_switch_fiber(fake, &bottom, &size);
	if (S.from_host) {
		S.host_bottom = bottom;
		S.host_size = size;
		S.from_host = false;
	}
#endif
}

/* From the running thread to thread @next. A thread that ended keeps
 * its (then empty) ASan fake stack for the next thread in its slot:
 * creating one per thread costs an mmap and a munmap. */
static NO_FAKE_FRAME void switch_to(int next)
{
	struct cthread *from = &S.t[S.cur], *to = &S.t[next];

	S.switches++;
	S.cur = next;
	vms_sched_cur = &to->self;
	asan_before(&from->fake_stack, to->stack, STACK_SIZE);
	vms_sched_ctx_swap(&from->sp, to->sp);
	asan_after(from->fake_stack);
}

#ifdef SCHED_ASAN
/* What an abandoned thread's stack points at (what it had allocated)
 * must stay where LeakSanitizer looks: a copy of the part in use, kept
 * reachable, and the stack serves the next thread in its slot. Keeping
 * each such stack whole (a new megabyte mapped for the slot) grew a
 * fuzzer by about 6 MB every thousand runs. If the copy cannot be made
 * the stack itself is kept, as a root region. */
static void keep_stack(struct cthread *t)
{
	static void **kept;
	static size_t n, cap;
	unsigned char *sp = t->sp;
	size_t used = (size_t)(t->stack + STACK_SIZE - sp);
	bool on_stack = sp >= t->stack && used <= STACK_SIZE;
	void *copy = NULL;

	ASAN_UNPOISON_MEMORY_REGION(t->stack, STACK_SIZE);
	if (on_stack && n == cap) {
		void **a = realloc(kept, (cap ? 2 * cap : 16) * sizeof(*a));

		if (a) {
			kept = a;
			cap = cap ? 2 * cap : 16;
		}
	}
	if (on_stack && n < cap)
		copy = malloc(used ? used : 1);
	if (copy) {
		memcpy(copy, sp, used);
		kept[n++] = copy;
		return;
	}
	__lsan_register_root_region(t->stack, STACK_SIZE);
	t->stack = NULL;
}

/* ASan's fake stack of a thread a run abandoned: it is never resumed, so
 * never switched away from for good, which is what gives one back. Made
 * the host's for a moment and destroyed there (a switch that saves no
 * fake stack destroys the current one), then the host's own is back.
 * Each one kept cost a fuzzer about a megabyte of resident memory. */
static void asan_drop_fake(void *fake)
{
	void *host;

	if (!fake || !S.host_size)
		return;
	__sanitizer_start_switch_fiber(&host, S.host_bottom, S.host_size);
	__sanitizer_finish_switch_fiber(fake, NULL, NULL);
	__sanitizer_start_switch_fiber(NULL, S.host_bottom, S.host_size);
	__sanitizer_finish_switch_fiber(host, NULL, NULL);
}
#endif

/* End the run: back to vms_sched_run, abandoning the running thread. */
static void to_host(enum vms_sched_verdict v)
{
	struct cthread *from = &S.t[S.cur];

	S.verdict = v;
	vms_sched_active = false;
	vms_sched_cur = S.host_self;
#ifdef SCHED_ASAN
	asan_before(&from->fake_stack, S.host_bottom, S.host_size);
#endif
	vms_sched_ctx_swap(&from->sp, S.host_sp);
	abort();	/* an abandoned thread is never resumed */
}

/* A thread's first instructions: the switch to it made it S.cur. */
static NO_FAKE_FRAME void thread_main(void)
{
	struct cthread *t = &S.t[S.cur];

	asan_after(t->fake_stack);
	t->fn(t->arg);
	vms_space_thread_exit();
	vms_thread_leave(&t->self);
	t->state = T_DONE;
	t->site = &exit_site;
	vms_sched_point(&exit_site);
	abort();	/* the last decision of an ended thread never returns */
}

static int thread_start(int slot, void (*fn)(void *arg), void *arg)
{
	struct cthread *t = &S.t[slot];
	/* A start is a fault site whether its slot kept a stack or maps
	 * one (that depends on the runs before; fail nth=N must not): a
	 * failure is a new stack's mmap failing. */
	bool fail = VMS_FAULT(VMS_FAULT_THREAD);
	uint64_t *sp;

	if (fail || !t->stack) {
		void *st = fail ? MAP_FAILED :
				  mmap(NULL, STACK_SIZE, PROT_READ | PROT_WRITE,
				       MAP_PRIVATE | MAP_ANONYMOUS |
					       MAP_NORESERVE | MAP_STACK,
				       -1, 0);

		if (st == MAP_FAILED)
			return -ENOMEM;
		t->stack = st;
		t->fake_stack = NULL;
	}
#ifdef SCHED_ASAN
	ASAN_UNPOISON_MEMORY_REGION(t->stack, STACK_SIZE);
#endif
	sp = (uint64_t *)(t->stack + STACK_SIZE);
	*--sp = 0;			/* thread_main's return address */
	*--sp = (uint64_t)(uintptr_t)thread_main;
	for (int i = 0; i < 6; i++)
		*--sp = 0;		/* rbp, rbx, r12..r15 */
	t->sp = sp;
	t->fn = fn;
	t->arg = arg;
	t->state = T_READY;
	t->site = &start_site;
	t->wait.kind = VMS_WAIT_NONE;
	t->incarnation++;
	t->last_release = -1;
	t->self.id = (uint32_t)slot + 1;
	t->self.rcu_nesting = 0;
	t->self.rcu_sections = 0;
	t->self.registered = true;
	t->self.after_grace = 0;
	t->self.current = NULL;
	t->self.last_lock.set = false;
	t->self.last_unlock.on = false;
	/* A thread a run abandoned stays in the registry with what it
	 * retired (into a pool that run leaked): that is no longer anyone's. */
	free(t->self.defer.batch);
	t->self.defer.batch = NULL;
	vms_thread_enter(&t->self);
	return 0;
}

/* ---- decisions ---------------------------------------------------------- */

/* The run's thread holding what @t waits for, or -1 (none, or someone
 * outside the run: its id in *@id). */
static int holder(const struct cthread *t, uint32_t *id)
{
	*id = 0;
	switch (t->wait.kind) {
	case VMS_WAIT_NODE_LOCK:
		*id = atomic_load_explicit((vms_lock_t *)t->wait.obj, memory_order_relaxed);
		break;
	case VMS_WAIT_MUTEX:
		*id = ((const vms_mutex_t *)t->wait.obj)->owner;
		break;
	case VMS_WAIT_GRACE:
		for (int j = 0; j < S.nr; j++)
			if ((t->wait.readers & (1u << j)) && S.t[j].self.rcu_nesting &&
			    S.t[j].self.rcu_sections == t->wait.sections[j])
				return j;
		return -1;
	/* cov: unreachable: join: only a reset or destroy of its pool stops a reclaimer; no op resets the run's pool, which is reset after the run */
	case VMS_WAIT_JOIN:
		if (S.t[t->wait.slot].state != T_DONE &&
		    S.t[t->wait.slot].incarnation == t->wait.incarnation)
			return t->wait.slot;
		/* cov: unreachable: join: only a reset or destroy of its pool stops a reclaimer; no op resets the run's pool, which is reset after the run */
		return -1;
	/* cov: unreachable: a blocked thread waits for one of the kinds above */
	default:
		return -1;
	}
	return *id >= 1 && *id <= (uint32_t)S.nr ? (int)*id - 1 : -1;
}

static bool may_run(const struct cthread *t)
{
	uint32_t id;

	if (t->state == T_READY)
		return true;
	if (t->state == T_DONE)
		return false;
	return holder(t, &id) < 0 && !id;
}

static uint32_t runnable_mask(void)
{
	uint32_t mask = 0;

	for (int i = 0; i < S.nr; i++)
		if (may_run(&S.t[i]))
			mask |= 1u << i;
	return mask;
}

int vms_sched_default_choice(const struct vms_sched_view *v)
{
	if (v->thread >= 0 && (v->runnable & (1u << v->thread)))
		return v->thread;
	return __builtin_ctz(v->runnable);
}

/* Decide who runs after thread @t stopped for @ev; -1 ends the run (the
 * verdict is in S.verdict). */
static int choose(struct cthread *t, enum vms_sched_event ev)
{
	const struct vms_sched_opts *o = S.o;
	struct vms_sched_view v;
	uint32_t mask;
	int next;

	if (S.steps >= S.max_steps) {
		/* cov: unreachable: a finding: exec_mt.c reports the BUDGET verdict (a livelock or a spin) */
		S.verdict = VMS_SCHED_BUDGET;
		return -1;
	}
	mask = runnable_mask();
	if (!mask) {
		S.verdict = VMS_SCHED_DONE;
		for (int i = 0; i < S.nr; i++)
			if (S.t[i].state != T_DONE)
				S.verdict = VMS_SCHED_DEADLOCK;
		return -1;
	}
	v.step = S.steps;
	v.thread = (int)(t - S.t);
	v.nth = t->nth;
	v.runnable = mask;
	v.nr_threads = S.nr;
	v.event = ev;
	v.site = t->site;
	if (!(mask & (mask - 1)))
		next = __builtin_ctz(mask);
	else if (o->policy)
		next = o->policy(o->policy_arg, &v);
	/* cov: unreachable: no policy: the executor always passes its own */
	else
		next = vms_sched_default_choice(&v);
	if (next < 0 || next >= S.nr || !(mask & (1u << next))) {
		/* cov: unreachable: invalid choice: the executor's policy picks a runnable one */
		S.verdict = VMS_SCHED_BAD_CHOICE;
		return -1;
	}
	if (o->trace) {
		if (S.r->trace_len < o->trace_cap)
			o->trace[S.r->trace_len++] = (struct vms_sched_step){
				t->site, mask, t->nth, (uint8_t)v.thread, (uint8_t)next, (uint8_t)ev };
		/* cov: unreachable: a full trace: the seeds' runs take fewer decisions than the replay keeps (target_mt.c TRACE_CAP) */
		else
			S.r->trace_truncated = true;
	}
	S.steps++;
	if (S.t[next].state == T_BLOCKED) {
		S.t[next].state = T_READY;
		S.t[next].wait.kind = VMS_WAIT_NONE;
	}
	return next;
}

/* The running thread stopped (at a point, blocked or ended): decide. */
static NO_FAKE_FRAME void decide(enum vms_sched_event ev)
{
	struct cthread *t = &S.t[S.cur];
	int next;

	t->nth++;
	next = choose(t, ev);
	if (next < 0)
		to_host(S.verdict);
	if (next != S.cur)
		switch_to(next);
}

NO_FAKE_FRAME void vms_sched_point(const struct vms_site *site)
{
	struct cthread *t = &S.t[S.cur];

	if (site->kind == VMS_SP_NODE_UNLOCK || site->kind == VMS_SP_MUTEX_UNLOCK)
		t->last_release = (int64_t)S.steps;
	t->site = site;
	decide(t->state == T_DONE ? VMS_EV_EXIT : VMS_EV_POINT);
}

static void block_here(const struct vms_site *site)
{
	struct cthread *t = &S.t[S.cur];

	if (!vms_sched_active) {
		/* cov: unreachable: blocked outside a run: a broken core abandoned one */
		/* Nobody else can run: the holder was abandoned by a run that
		 * ended in a deadlock or over budget. */
		fprintf(stderr, "libvms (sched build): blocked outside a controlled run "
			"at %s:%d, on something an abandoned run holds\n", site->func, site->line);
		abort();
	}
	t->state = T_BLOCKED;
	t->site = site;
	decide(VMS_EV_BLOCK);
}

void vms_sched_block(enum vms_sched_wait_kind kind, const void *obj,
		     const struct vms_site *site)
{
	S.t[S.cur].wait.kind = kind;
	S.t[S.cur].wait.obj = obj;
	block_here(site);
}

void vms_sched_grace(const struct vms_site *site)
{
	struct cthread *t = &S.t[S.cur];
	uint32_t readers = 0;

	if (!vms_sched_active)
		return;	/* outside a run nobody else is in a read section */
	for (int j = 0; j < S.nr; j++) {
		if (S.t[j].self.rcu_nesting) {
			readers |= 1u << j;
			t->wait.sections[j] = S.t[j].self.rcu_sections;
		}
	}
	if (!readers)
		return;
	t->wait.kind = VMS_WAIT_GRACE;
	t->wait.readers = readers;
	block_here(site);
}

/* ---- threads the core starts -------------------------------------------- */

static uint64_t handle_of(int slot)
{
	return (uint64_t)S.gen << 8 | (uint64_t)(slot + 1);
}

static int slot_of(uint64_t h)
{
	if (!S.in_run || !h || h >> 8 != S.gen)
		return -1;
	return (int)(h & 0xff) - 1;
}

int vms_sched_spawn(void (*fn)(void *arg), void *arg, uint64_t *handle)
{
	int slot = slot_of(*handle), ret;

	if (!S.in_run)
		return -ESRCH;
	if (slot < 0 || S.t[slot].state != T_DONE) {
		if (S.nr == VMS_SCHED_MAX_THREADS)
			/* cov: unreachable: 4 program threads + 1 reclaimer < 8 slots */
			return -EAGAIN;
		slot = S.nr;
		S.t[slot].nth = 0;
		S.t[slot].incarnation = 0;
	}
	/* A failed start takes no slot: a new one would run from no stack. */
	ret = thread_start(slot, fn, arg);
	if (ret)
		return ret;
	S.nr += slot == S.nr;
	S.workers |= 1u << slot;
	*handle = handle_of(slot);
	return 0;
}

bool vms_sched_alive(uint64_t handle)
{
	int slot = slot_of(handle);

	return slot >= 0 && S.t[slot].state != T_DONE;
}

void vms_sched_join(uint64_t handle, const struct vms_site *site)
{
	int slot = slot_of(handle);
	struct cthread *t = &S.t[S.cur];

	if (slot >= 0 && S.t[slot].state != T_DONE && vms_sched_active) {
		/* cov: unreachable: join: only a reset or destroy of its pool stops a reclaimer; no op resets the run's pool, which is reset after the run */
		t->wait.kind = VMS_WAIT_JOIN;
		t->wait.slot = slot;
		t->wait.incarnation = S.t[slot].incarnation;
		block_here(site);
	}
}

int vms_sched_self(void)
{
	return vms_sched_active ? S.cur : -1;
}

uint64_t vms_sched_now(void)
{
	return S.steps;
}

int64_t vms_sched_last_release(void)
{
	return vms_sched_active ? S.t[S.cur].last_release : -1;
}

/* ---- runs --------------------------------------------------------------- */

/* The wait-for chain from blocked thread @from; true if it closes. */
static bool chain(struct vms_sched_result *r, int from)
{
	uint32_t seen = 0;
	int i = from;

	r->nr_waits = 0;
	while (i >= 0 && S.t[i].state == T_BLOCKED && !(seen & (1u << i))) {
		struct vms_sched_wait *w = &r->waits[r->nr_waits++];

		seen |= 1u << i;
		w->thread = i;
		w->kind = S.t[i].wait.kind;
		w->site = S.t[i].site;
		w->holder = holder(&S.t[i], &w->holder_id);
		i = w->holder;
	}
	if (i < 0 || !(seen & (1u << i)))
		/* cov: unreachable: a chain without a cycle: threads end holding nothing (exec_mt.c thread_epilogue) */
		return false;
	/* Drop the links that lead into the cycle. */
	while (r->waits[0].thread != i) {
		memmove(r->waits, r->waits + 1, (size_t)--r->nr_waits * sizeof(r->waits[0]));
	}
	return true;
}

static void deadlock_report(struct vms_sched_result *r)
{
	int first = -1;

	for (int i = 0; i < S.nr; i++) {
		if (S.t[i].state != T_BLOCKED)
			continue;
		if (first < 0)
			first = i;
		if (chain(r, i)) {
			r->cycle = true;
			return;
		}
	}
	/* cov: unreachable: a chain without a cycle: threads end holding nothing (exec_mt.c thread_epilogue) */
	if (first >= 0)
		chain(r, first);
	/* cov: unreachable: a chain without a cycle: threads end holding nothing (exec_mt.c thread_epilogue) */
}

int vms_sched_run(const struct vms_sched_opts *o, struct vms_sched_result *r)
{
	int next, ret;

	if (!o || !r || o->nr_threads < 1 || o->nr_threads > VMS_SCHED_MAX_PROGRAM ||
	    (o->trace_cap && !o->trace))
		/* cov: unreachable: bad options: the executor passes 1..4 threads */
		return -EINVAL;
	for (int i = 0; i < o->nr_threads; i++)
		if (!o->thread[i].fn)
			/* cov: unreachable: bad options: the executor gives each thread a function */
			return -EINVAL;
	if (S.in_run)
		/* cov: unreachable: a run inside a run: the executor never nests one */
		return -EBUSY;
	memset(r, 0, sizeof(*r));
	S.o = o;
	S.r = r;
	S.gen = (S.gen + 1) & 0xffffff;
	S.gen += !S.gen;
	S.nr = 0;
	S.workers = 0;
	S.steps = S.switches = 0;
	S.max_steps = o->max_steps ? o->max_steps : VMS_SCHED_DEFAULT_STEPS;
	for (int i = 0; i < o->nr_threads; i++) {
		S.t[i].nth = 0;
		S.t[i].incarnation = 0;
		ret = thread_start(i, o->thread[i].fn, o->thread[i].arg);
		/* Nothing ran; the threads started stay in the registry, as
		 * an abandoned run's do, until their slots start again. */
		if (ret)
			/* cov: unreachable: only tests/sched arm the host's fault site at a run's start; a program's fail ops arm its threads' */
			return ret;
		S.nr++;
	}
	S.host_self = vms_thread();
	S.in_run = true;
	S.cur = 0;
	next = choose(&S.t[0], VMS_EV_START);
	if (next >= 0) {
		S.cur = next;
		S.switches++;
		vms_sched_cur = &S.t[next].self;
		vms_sched_active = true;
#ifdef SCHED_ASAN
		S.from_host = true;
		asan_before(&S.host_fake_stack, S.t[next].stack, STACK_SIZE);
#endif
		vms_sched_ctx_swap(&S.host_sp, S.t[next].sp);
#ifdef SCHED_ASAN
		__sanitizer_finish_switch_fiber(S.host_fake_stack, NULL, NULL);
#endif
	}
	vms_sched_active = false;
	vms_sched_cur = S.host_self;
	r->verdict = S.verdict;
	r->steps = S.steps;
	r->switches = S.switches;
	r->nr_threads = S.nr;
	r->workers = S.workers;
	for (int i = 0; i < S.nr; i++)
		r->where[i] = S.t[i].state == T_DONE ? NULL : S.t[i].site;
	if (r->verdict == VMS_SCHED_DEADLOCK)
		deadlock_report(r);
#ifdef SCHED_ASAN
	for (int i = 0; i < S.nr; i++) {
		if (S.t[i].state != T_DONE) {
			keep_stack(&S.t[i]);
			asan_drop_fake(S.t[i].fake_stack);
			S.t[i].fake_stack = NULL;
		}
	}
#endif
	S.in_run = false;
	return 0;
}

/* ---- reports ------------------------------------------------------------ */

static const char *const kind_names[VMS_SP_NR] = {
	[VMS_SP_NODE_LOCK] = "node lock",	[VMS_SP_NODE_UNLOCK] = "node unlock",
	[VMS_SP_MUTEX_LOCK] = "mutex lock",	[VMS_SP_MUTEX_UNLOCK] = "mutex unlock",
	[VMS_SP_PTE_LOAD] = "pte load",		[VMS_SP_PTE_STORE] = "pte store",
	[VMS_SP_RCU_ENTER] = "rcu enter",	[VMS_SP_RCU_EXIT] = "rcu exit",
	[VMS_SP_GRACE] = "grace period",	[VMS_SP_DEFER] = "defer",
	[VMS_SP_RECLAIM] = "reclaim",		[VMS_SP_REF] = "refcount",
	[VMS_SP_COPY] = "copy",			[VMS_SP_THREAD] = "thread",
	[VMS_SP_USER] = "user",
};

const char *vms_sched_kind_name(enum vms_sched_kind k)
{
	return (unsigned)k < VMS_SP_NR ? kind_names[k] : "?";
}

const char *vms_sched_wait_name(enum vms_sched_wait_kind k)
{
	static const char *const names[] = {
		[VMS_WAIT_NONE] = "nothing", [VMS_WAIT_NODE_LOCK] = "a node lock",
		[VMS_WAIT_MUTEX] = "a mutex", [VMS_WAIT_GRACE] = "a grace period",
		[VMS_WAIT_JOIN] = "a thread's end",
	};

	return (unsigned)k <= VMS_WAIT_JOIN ? names[k] : "?";
}

int vms_sched_site_format(const struct vms_site *s, char *buf, size_t n)
{
	if (!s)
		/* cov: unreachable: a waiter always stopped at a site (block_here sets it) */
		return snprintf(buf, n, "(ended)");
	return snprintf(buf, n, "%s %s:%d", vms_sched_kind_name(s->kind), s->func, s->line);
}

bool vms_sched_site_equal(const struct vms_site *a, const struct vms_site *b)
{
	if (a == b)
		return true;
	/* cov: unreachable: a site is one static object; two that differ: nondeterminism, which fails the coverage run */
	return a && b && a->kind == b->kind && a->line == b->line && !strcmp(a->func, b->func);
}

int vms_sched_format(const struct vms_sched_result *r, char *buf, size_t n)
{
	size_t len;
	char site[128];

	switch (r->verdict) {
	case VMS_SCHED_DEADLOCK:
		break;
	/* cov: unreachable: a done run: exec_mt.c formats deadlocks and findings (tests/sched do) */
	case VMS_SCHED_DONE:
		return snprintf(buf, n, "done: %lu decisions, %lu switches, %d threads",
				(unsigned long)r->steps, (unsigned long)r->switches, r->nr_threads);
	/* cov: unreachable: a finding: exec_mt.c reports the BUDGET verdict (a livelock or a spin) */
	case VMS_SCHED_BUDGET:
		return snprintf(buf, n, "step budget exhausted after %lu decisions "
				"(a livelock or a spin)", (unsigned long)r->steps);
	/* cov: unreachable: invalid choice: the executor's policy picks a runnable one */
	case VMS_SCHED_BAD_CHOICE:
		return snprintf(buf, n,
				"the policy chose a thread that cannot run "
				"(decision %lu)",
				(unsigned long)r->steps);
	}
	len = (size_t)snprintf(buf, n, "deadlock after %lu decisions%s:",
			       (unsigned long)r->steps, r->cycle ? ", wait-for cycle" : "");
	for (int i = 0; i < r->nr_waits && len < n; i++) {
		const struct vms_sched_wait *w = &r->waits[i];

		vms_sched_site_format(w->site, site, sizeof(site));
		len += (size_t)snprintf(buf + len, n - len, "%s thread %d waits for %s (%s)",
					i ? ";" : "", w->thread, vms_sched_wait_name(w->kind), site);
		if (len >= n)
			/* cov: unreachable: a program's own cycle (<= 4 cursor waits) fits its detail's 512 bytes */
			break;
		if (w->holder >= 0)
			len += (size_t)snprintf(buf + len, n - len, " held by thread %d", w->holder);
		/* cov: unreachable: a program's own cycle: every holder is a thread of the run */
		else if (w->holder_id)
			len += (size_t)snprintf(buf + len, n - len, " held by id %u, outside the run",
						w->holder_id);
		/* cov: unreachable: a program's own cycle: every holder is a thread of the run */
		else
			len += (size_t)snprintf(buf + len, n - len, " held by nobody");
	}
	return (int)len;
}
#endif /* VMS_SCHED */
