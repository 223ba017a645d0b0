/* SPDX-License-Identifier: MIT */
/*
 * record.c - saving what a worker ran when an oracle fires: the session
 * record (its ops as executed, with the faults --faults injected replayed
 * as fail ops) and the whole program as decoded, each in a new file of
 * the output directory, headed by the command line that reruns the stress
 * run.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "worker.h"

/* Open a new file in the output directory; never overwrites. */
static FILE *open_new(struct stress *S, const char *kind, char *path, size_t n)
{
	char cmd[600];

	snprintf(cmd, sizeof(cmd), "%s", S->o.outdir);
	for (char *p = cmd + 1; *p; p++)
		if (*p == '/') {
			*p = 0;
			mkdir(cmd, 0777);
			*p = '/';
		}
	mkdir(cmd, 0777);
	for (int k = 0; k < 100000; k++) {
		int fd;

		snprintf(path, n, "%s/%s-%#lx-%d.vmt", S->o.outdir, kind,
			 S->o.seed, k);
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0666);
		if (fd >= 0)
			return fdopen(fd, "w");
		if (errno != EEXIST)
			break;
	}
	fprintf(stderr, "vmtorture stress: cannot create a file in %s: %s\n",
		S->o.outdir, strerror(errno));
	return NULL;
}

static void save_header(struct stress *S, FILE *f, const char *why)
{
	fprintf(f, "# vmtorture stress failure: %s\n", why);
	fprintf(f,
		"# reproduce the run (timing decides whether it fails again): "
		"vmtorture stress --seed %#lx --threads %u --accessors %u --hot %#lx "
		"--seconds %g --round-ms %g --noise %u --prog-bytes %u --faults %g --spaces %u --mix ",
		S->o.seed, S->o.threads, S->o.accessors, S->hot, S->o.seconds,
		S->o.round_ms, S->o.noise, S->o.max_prog_bytes, S->o.faults,
		S->o.spaces_us);
	for (int i = 0; i < MIX__COUNT; i++)
		fprintf(f, "%s%s=%u", i ? "," : "", vmts_mix_name(i),
			S->o.mix[i]);
	fprintf(f, "\n");
	fprintf(f,
		"# addresses are in the hot region [%#lx,%#lx); frame slots are the "
		"thread's own, so a frame allocated before this excerpt shows as an empty "
		"slot when replayed alone (vmtorture run FILE)\n",
		S->hot_base, S->hot_end);
}

/* Write the session record @r of worker @w as a program, op @mark marked. */
void vmts_save_session(struct stress *S, struct worker *w, const struct srec *r,
		       int mark, const char *note, const char *why)
{
	struct vmt_prog *p = malloc(sizeof(*p));
	char path[700];
	FILE *f;

	if (!p)
		return;
	p->n = 0;
	for (uint32_t k = 0; k < r->n && p->n < VMT_MAX_OPS; k++) {
		const struct vmt_outcome *e = &w->log[r->first + k];

		/* A fault --faults injected replays as a fail op before it. */
		if (e->fault && e->fault_nth && e->fault_nth <= VMT_MAX_NTH &&
		    p->n + 1 < VMT_MAX_OPS) {
			p->ops[p->n++] = (struct vmt_op){ .code = VMT_OP_FAIL,
							  .a = e->fault_nth };
			if ((int)k <= mark)
				mark++;
		}
		p->ops[p->n++] = e->op;
	}
	f = open_new(S, "session", path, sizeof(path));
	if (f) {
		save_header(S, f, why);
		fprintf(f,
			"# thread %u, ticket %lu, program #%lu of that thread\n",
			w->idx, r->ticket, r->prog_no);
		vmt_print_prog(f, p, mark, note, NULL);
		fclose(f);
		fprintf(stderr, "vmtorture stress: saved %s\n", path);
	}
	free(p);
}

void vmts_save_worker(struct stress *S, unsigned idx, const char *why)
{
	struct worker *w = S->w[idx];
	char path[700];
	FILE *f;

	if (!w || !w->prog.n)
		return;
	if (w->nlog > w->pending) {
		/* the session (and frame ops) in progress, as executed */
		struct srec r = { .ticket = w->cur_ticket,
				  .first = (uint32_t)w->pending,
				  .n = (uint32_t)(w->nlog - w->pending),
				  .thread = (uint16_t)idx,
				  .prog_no = w->prog_no };

		vmts_save_session(S, w, &r, (int)r.n - 1,
				  "last op before the violation", why);
	}
	f = open_new(S, "program", path, sizeof(path));
	if (!f)
		return;
	save_header(S, f, why);
	fprintf(f,
		"# thread %u, program #%lu as decoded from %zu random bytes "
		"(before folding into the hot region)\n",
		idx, w->prog_no, w->nbytes);
	vmt_print_prog(f, &w->prog, -1, NULL, NULL);
	fclose(f);
	fprintf(stderr, "vmtorture stress: saved %s\n", path);
}
