/* SPDX-License-Identifier: MIT */
/*
 * run.c - running oracles in child processes with a deadline, and small
 * file helpers.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "campaign.h"
#include "../op/op.h"

/* Output past this is dropped: a report only needs the head of it. */
#define RUN_OUT_CAP	(1u << 20)

/*
 * The build variants each keep their binaries together: build/,
 * build/<san>/ and build/bug-<name>/[<san>/] each hold a vmtorture, a
 * vmt-campaign, a vmtorture-sched, a fuzz/ and a tsan/. So every command
 * finds its companions beside the running binary, works from any
 * directory, and a bug build's command runs that bug's oracles.
 */
char *vmt_beside_self(const char *name)
{
	char exe[PATH_MAX], *slash;
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	if (n <= 0)
		return NULL;
	exe[n] = 0;
	if (!name)
		return vmt_strf("%s", exe);
	slash = strrchr(exe, '/');
	if (!slash)
		return NULL;
	*slash = 0;
	return vmt_strf("%s/%s", exe, name);
}

/* @name beside the running binary if it exists, else @fallback (relative
 * to the repository root, for binaries copied away). The result lives as
 * long as the process, like getenv()'s. */
static const char *beside_self_or(const char *name, const char *fallback)
{
	char *p = vmt_beside_self(name);

	if (p && !access(p, F_OK))
		return p;
	free(p);
	return fallback;
}

void vmt_cenv_init(struct vmt_cenv *e)
{
	const char *t = getenv("VMT_ORACLE_TIMEOUT");

	e->fz = getenv("VMT_FZ") ? getenv("VMT_FZ") :
				   beside_self_or("fuzz", "build/fuzz");
	e->cli = getenv("VMT_CLI") ?
			 getenv("VMT_CLI") :
			 beside_self_or("vmtorture", "build/vmtorture");
	e->timeout = t && atoi(t) > 0 ? atoi(t) : 20;
	e->verbose = 0;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int vmt_run_capture(char *const argv[], int timeout, struct vmt_run *r)
{
	int pfd[2];
	pid_t pid;
	double t0 = now(), deadline = t0 + timeout;
	size_t cap = 65536;

	memset(r, 0, sizeof(*r));
	r->out = malloc(cap);
	if (!r->out)
		return -ENOMEM;
	r->out[0] = 0;
	if (pipe(pfd))
		return -errno;
	pid = fork();
	if (pid < 0) {
		close(pfd[0]);
		close(pfd[1]);
		return -errno;
	}
	if (!pid) {
		int devnull = open("/dev/null", O_RDONLY);

		if (devnull >= 0)
			dup2(devnull, 0);
		dup2(pfd[1], 1);
		dup2(pfd[1], 2);
		close(pfd[0]);
		close(pfd[1]);
		/* Own process group: a timeout kills helpers it started too. */
		setpgid(0, 0);
		execvp(argv[0], argv);
		fprintf(stderr, "vmt-campaign: cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(pfd[1]);
	for (;;) {
		struct pollfd p = { .fd = pfd[0], .events = POLLIN };
		int left = (int)((deadline - now()) * 1000);
		ssize_t k;

		if (left <= 0) {
			r->timed_out = true;
			kill(-pid, SIGKILL);
			kill(pid, SIGKILL);
			break;
		}
		if (poll(&p, 1, left) <= 0)
			continue;
		if (r->len + 4097 > cap && cap < RUN_OUT_CAP) {
			char *n = realloc(r->out, cap * 2);

			if (n) {
				r->out = n;
				cap *= 2;
			}
		}
		if (r->len + 4097 > cap) {
			char sink[4096];

			k = read(pfd[0], sink, sizeof(sink));
		} else {
			k = read(pfd[0], r->out + r->len, 4096);
			if (k > 0)
				r->len += (size_t)k;
		}
		if (k == 0 || (k < 0 && errno != EINTR))
			break;
	}
	r->out[r->len] = 0;
	close(pfd[0]);
	while (waitpid(pid, &r->status, 0) < 0 && errno == EINTR)
		;
	r->secs = now() - t0;
	return 0;
}

void vmt_run_free(struct vmt_run *r)
{
	free(r->out);
	r->out = NULL;
}

const char *vmt_oracle_name(enum vmt_obuild o)
{
	return o == VMT_ORACLE_REPLAY ? "replay" : o == VMT_ORACLE_ASAN ? "asan" : "none";
}

enum vmt_obuild vmt_oracle_parse(const char *s)
{
	if (!s)
		return VMT_ORACLE_NONE;
	if (!strcmp(s, "replay"))
		return VMT_ORACLE_REPLAY;
	if (!strcmp(s, "asan"))
		return VMT_ORACLE_ASAN;
	return VMT_ORACLE_NONE;
}

/* Titles of a crash, by where it landed rather than by what went wrong. */
static bool crash_title(const char *sig)
{
	static const char *const kinds[] = { "ASAN ", "UBSAN ", "LEAK ", "CRASH " };

	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (!strncmp(sig, kinds[i], strlen(kinds[i])))
			return true;
	return false;
}

/*
 * A crash is titled by the first op after which libvms's state differs
 * from the model's, when there is one (vmt-replay -l runs each prefix
 * alone): one bug crashes wherever its damage lands, but it damages the
 * state the same way. The crash site stays in the output @r (the
 * report's body), after the localized divergence.
 */
static void localize_crash(const struct vmt_cenv *e, const char *file, char *sig, size_t n,
			   struct vmt_run *r)
{
	char *bin = vmt_strf("%s/vmt-replay", e->fz), s2[VMT_SIG_MAX];
	char *argv[] = { bin, (char *)"-q", (char *)"-l", (char *)file, NULL };
	struct vmt_run l;

	if (!vmt_run_capture(argv, e->timeout * 4, &l)) {
		if (!l.timed_out && vmt_sig_from_output(l.out, s2, sizeof(s2)) &&
		    !crash_title(s2) && strcmp(s2, "TIMEOUT")) {
			char *both = vmt_strf("%s\n---- the crash ----\n%s", l.out, r->out);

			snprintf(sig, n, "%s", s2);
			free(r->out);
			r->out = both;
			r->len = strlen(both);
		}
		vmt_run_free(&l);
	}
	free(bin);
}

/* Does @file hold a multi-thread program (threads or a schedule)? Its
 * oracles are the builds of the multi-thread target (fuzz/target_mt.c,
 * on the controlled core): the sequential ones pass over it. */
static bool file_is_mt(const char *file)
{
	struct vmt_prog *p = malloc(sizeof(*p));
	uint8_t *buf;
	size_t len;
	bool mt = false;

	if (p && (buf = vmt_read_file(file, &len))) {
		vmt_decode(buf, len, p);
		mt = vmt_prog_is_mt(p);
		free(buf);
	}
	free(p);
	return mt;
}

int vmt_oracle_run(const struct vmt_cenv *e, enum vmt_obuild o, const char *file,
		   char *sig, size_t n, struct vmt_run *keep)
{
	struct vmt_run r;
	char *bin, *argv[6];
	const char *mt;
	int i = 0, ret;

	sig[0] = 0;
	if (access(file, R_OK)) {
		ret = -errno;
		fprintf(stderr, "vmt-campaign: %s: %s\n", file, strerror(errno));
		return ret;
	}
	mt = file_is_mt(file) ? "mt-" : "";
	if (o == VMT_ORACLE_REPLAY) {
		bin = vmt_strf("%s/vmt-%sreplay", e->fz, mt);
		argv[i++] = bin;
		argv[i++] = (char *)"-q";
	} else if (o == VMT_ORACLE_ASAN) {
		bin = vmt_strf("%s/vmt-%slibfuzzer", e->fz, mt);
		argv[i++] = bin;
		/* A crashing input is already saved: no crash-<sha1> in the cwd. */
		argv[i++] = (char *)"-exact_artifact_path=/dev/null";
		/* Leaks of the core are reported by the executor itself. */
		setenv("ASAN_OPTIONS", "detect_leaks=0:symbolize=1:abort_on_error=0", 1);
		setenv("UBSAN_OPTIONS", "halt_on_error=1:print_stacktrace=1:symbolize=1", 1);
	} else {
		return -EINVAL;
	}
	if (access(bin, X_OK)) {
		fprintf(stderr, "vmt-campaign: %s: not built\n", bin);
		free(bin);
		return -ENOENT;
	}
	argv[i++] = (char *)file;
	argv[i] = NULL;
	ret = vmt_run_capture(argv, e->timeout, &r);
	free(bin);
	if (ret)
		return ret;
	if (r.timed_out) {
		snprintf(sig, n, "TIMEOUT");
		ret = 1;
	} else if (vmt_sig_from_output(r.out, sig, n)) {
		ret = 1;
	} else if (WIFSIGNALED(r.status)) {
		snprintf(sig, n, "CRASH signal %d", WTERMSIG(r.status));
		ret = 1;
	} else if (WIFEXITED(r.status) && WEXITSTATUS(r.status) == 2 && o == VMT_ORACLE_REPLAY) {
		fprintf(stderr, "vmt-campaign: %s: the replay build could not run it\n", file);
		ret = -EIO;
	} else if (WIFEXITED(r.status) && WEXITSTATUS(r.status) != 0) {
		snprintf(sig, n, "CRASH exit %d", WEXITSTATUS(r.status));
		ret = 1;
	}
	/* A multi-thread finding is titled by its executor, first in time. */
	if (ret == 1 && crash_title(sig) && !*mt)
		localize_crash(e, file, sig, n, &r);
	if (keep)
		*keep = r;
	else
		vmt_run_free(&r);
	return ret;
}

int vmt_classify(const struct vmt_cenv *e, const char *file, char *sig, size_t n,
		 enum vmt_obuild *o)
{
	int ret = vmt_oracle_run(e, VMT_ORACLE_REPLAY, file, sig, n, NULL);

	*o = VMT_ORACLE_REPLAY;
	/* A titled finding of the plain build is final: it is what the
	 * differential oracle saw. Anything else gets the sanitizer build,
	 * which also names the first core frame of a crash. */
	if (ret == 1 && !crash_title(sig) && strcmp(sig, "TIMEOUT"))
		return 1;
	{
		char s2[VMT_SIG_MAX];
		int r2 = vmt_oracle_run(e, VMT_ORACLE_ASAN, file, s2, sizeof(s2), NULL);

		if (r2 == 1 && (ret != 1 || strncmp(s2, "CRASH", 5))) {
			snprintf(sig, n, "%s", s2);
			*o = VMT_ORACLE_ASAN;
			return 1;
		}
		if (ret < 0 && r2 < 0)
			return ret;
	}
	if (ret != 1)
		*o = VMT_ORACLE_NONE;
	return ret == 1 ? 1 : 0;
}

uint8_t *vmt_read_file(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	size_t cap = 0, len = 0;

	if (!f)
		return NULL;
	for (;;) {
		if (len + 4097 > cap) {
			uint8_t *nb = realloc(buf, cap = cap ? cap * 2 : 8192);

			if (!nb) {
				free(buf);
				fclose(f);
				return NULL;
			}
			buf = nb;
		}
		size_t k = fread(buf + len, 1, 4096, f);

		len += k;
		if (k < 4096)
			break;
	}
	if (ferror(f)) {
		free(buf);
		fclose(f);
		return NULL;
	}
	fclose(f);
	buf[len] = 0;
	*n = len;
	return buf;
}

int vmt_write_file(const char *path, const void *buf, size_t n)
{
	char *tmp = vmt_strf("%s.tmp.%d", path, (int)getpid());
	FILE *f = fopen(tmp, "wb");
	int ret = 0;

	if (!f) {
		ret = -errno;
		free(tmp);
		return ret;
	}
	if (fwrite(buf, 1, n, f) != n)
		ret = -EIO;
	if (fclose(f) && !ret)
		ret = -EIO;
	/* Written under a temporary name: a crash never leaves half a file. */
	if (!ret && rename(tmp, path))
		ret = -errno;
	if (ret)
		unlink(tmp);
	free(tmp);
	return ret;
}

char *vmt_strf(const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		abort();
	va_end(ap);
	return s;
}
