/* SPDX-License-Identifier: MIT */
/*
 * localize.c - where a divergence began: prefixes of the program run
 * alone (in a child process when asked), and the first whose end-of-run
 * comparison differs names the op after which the states first differ.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "op.h"

/*
 * One prefix, in a child process if @o->isolate: a prefix of a program
 * that crashes libvms may crash too (or hang: 10 s), and then says
 * nothing about where the states first differ.
 */
static int prefix_exec(const struct vmt_prog *q, const struct vmt_exec_opts *o,
		       struct vmt_result *t)
{
	int pfd[2], st;
	size_t got = 0;
	pid_t pid;

	if (!o || !o->isolate)
		return vmt_exec(q, o, t);
	memset(t, 0, sizeof(*t));
	t->status = -EIO;
	if (pipe(pfd))
		return t->status;
	pid = fork();
	if (!pid) {
		close(pfd[0]);
		alarm(10);
		vmt_exec(q, o, t);
		_exit(write(pfd[1], t, sizeof(*t)) == sizeof(*t) ? 0 : 1);
	}
	close(pfd[1]);
	while (pid > 0 && got < sizeof(*t)) {
		ssize_t k = read(pfd[0], (char *)t + got, sizeof(*t) - got);

		if (k <= 0 && !(k < 0 && errno == EINTR))
			break;
		got += k > 0 ? (size_t)k : 0;
	}
	close(pfd[0]);
	if (pid > 0)
		waitpid(pid, &st, 0);
	if (got != sizeof(*t))
		t->status = -EIO;
	return t->status;
}

/*
 * An answer may differ long after the op that went wrong: a split that
 * lost a property shows at the next query, write or final sweep. So for
 * each k before the diverging op, ops 0..k are run alone (vmt_exec ends
 * every run by dropping the cursors and comparing the whole state); the
 * first k whose end-of-run comparison differs is the op after which the
 * states first differ, and the result is rewritten to name it. Prefixes
 * of a deterministic run agree up to k, so only their end can differ.
 */
int vmt_localize(const struct vmt_prog *p, const struct vmt_exec_opts *o,
		 struct vmt_result *r)
{
	struct vmt_prog *q;
	struct vmt_result t;
	int first = r->op;

	if (r->status != 1 || first <= 0)
		return 0;
	if (first > (int)p->n)
		first = (int)p->n;
	q = calloc(1, sizeof(*q));
	if (!q)
		return -ENOMEM;
	for (int k = 0; k < first; k++) {
		const char *d;

		q->n = (unsigned)k + 1;
		memcpy(q->ops, p->ops, q->n * sizeof(q->ops[0]));
		if (prefix_exec(q, o, &t) != 1 ||
		    (t.op <= k && !(o && o->isolate)))
			continue;
		/* A divergence inside the prefix: the whole program diverged
		 * there too (prefixes run alike), but crashed before it could
		 * say so (a check broke, then the crash followed from it).
		 * That divergence is the title; the crash goes in the body. */
		if (t.op <= k) {
			snprintf(r->sig, sizeof(r->sig), "%s", t.sig);
			r->op = t.op;
			free(q);
			return 1;
		}
		/* "DIVERGENCE end check: core=[...] ..." -> what differed */
		d = strchr(t.sig, ':');
		d = d ? d + 2 : t.sig;
		snprintf(r->sig, sizeof(r->sig),
			 "DIVERGENCE op#%d %s: state after the op: %.200s", k,
			 vmt_op_name(p->ops[k].code), d);
		r->op = k;
		free(q);
		return 1;
	}
	free(q);
	return 0;
}
