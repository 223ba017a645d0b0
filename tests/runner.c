/* SPDX-License-Identifier: MIT */
/*
 * runner.c - runs the registered tests.
 *
 *   run_tests [-v] [-l] [name-substring]
 *
 * Each test runs in a forked child (the parent never touches libvms, so
 * it stays single-threaded and fork is safe): a test that crashes, trips
 * a sanitizer, leaks, or hangs past VMT_TIMEOUT seconds (default 120) is
 * reported failed and the others still run (waits inside tests give up
 * after half of it). VMT_NOFORK=1 runs everything
 * in one process instead (for a debugger). The last line is always
 * "N passed, N failed"; the exit status is non-zero if any test failed.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "test.h"

static struct vmt_test *vmt_tests;
static size_t vmt_nr_tests;

unsigned vmt_timeout_s = 120;
static pthread_t vmt_main_thread;
static jmp_buf vmt_jmp;
static atomic_int vmt_failed;

void vmt_register(struct vmt_test *t)
{
	t->next = vmt_tests;
	vmt_tests = t;
	vmt_nr_tests++;
}

static void vmt_vreport(const char *file, int line, const char *fmt, va_list ap)
{
	char msg[1024];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	fprintf(stderr, "  %s:%d: %s\n", file, line, msg);
	fflush(stderr);
}

bool vmt_has_failed(void)
{
	return atomic_load(&vmt_failed) != 0;
}

void vmt_fail_soft(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmt_vreport(file, line, fmt, ap);
	va_end(ap);
	atomic_store(&vmt_failed, 1);
}

void vmt_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmt_vreport(file, line, fmt, ap);
	va_end(ap);
	atomic_store(&vmt_failed, 1);
	if (pthread_equal(pthread_self(), vmt_main_thread))
		longjmp(vmt_jmp, 1);
	/* A helper thread: end it; the test's join sees vmt_failed. */
	pthread_exit(NULL);
}

/* Run one test in this process; true if it passed. */
static bool vmt_run_here(struct vmt_test *t)
{
	atomic_store(&vmt_failed, 0);
	vmt_main_thread = pthread_self();
	if (setjmp(vmt_jmp) == 0)
		t->fn();
	return !atomic_load(&vmt_failed);
}

static bool vmt_run_forked(struct vmt_test *t, unsigned timeout)
{
	int status;
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0) {
		perror("run_tests: fork");
		return false;
	}
	if (pid == 0) {
		alarm(timeout);
		/* exit(), not _exit(), after a pass: LeakSanitizer and TSan
		 * report at exit. After a failure helper threads may still run,
		 * and must not watch the process tear down under them. */
		if (vmt_run_here(t))
			exit(0);
		fflush(NULL);
		_exit(1);
	}
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			perror("run_tests: waitpid");
			return false;
		}
	}
	if (WIFEXITED(status))
		return WEXITSTATUS(status) == 0;
	if (WIFSIGNALED(status)) {
		if (WTERMSIG(status) == SIGALRM)
			fprintf(stderr, "  %s: timed out after %u s (hang?)\n", t->name, timeout);
		else
			fprintf(stderr, "  %s: killed by signal %d\n", t->name, WTERMSIG(status));
	}
	return false;
}

static int vmt_cmp(const void *a, const void *b)
{
	const struct vmt_test *x = *(struct vmt_test * const *)a;
	const struct vmt_test *y = *(struct vmt_test * const *)b;
	int c = strcmp(x->file, y->file);

	return c ? c : x->line - y->line;
}

static void vmt_usage(void)
{
	printf("usage: run_tests [-v] [-l] [name-substring]\n"
	       "  -v  also list passing tests with their run time\n"
	       "  -l  list the (matching) test names and exit\n"
	       "env: VMT_TIMEOUT=seconds per test (default 120), VMT_NOFORK=1 run in-process\n");
}

/* The command line and the environment. Returns -1 to go on, else the
 * exit status (after --help, or a bad argument). */
static int vmt_parse(int argc, char **argv, const char **filter, bool *verbose,
		     bool *list, bool *nofork)
{
	const char *env;

	for (int a = 1; a < argc; a++) {
		if (!strcmp(argv[a], "-v")) {
			*verbose = true;
		} else if (!strcmp(argv[a], "-l")) {
			*list = true;
		} else if (!strcmp(argv[a], "-h") || !strcmp(argv[a], "--help")) {
			vmt_usage();
			return 0;
		} else if (argv[a][0] == '-' || *filter) {
			fprintf(stderr, "run_tests: unexpected argument '%s' "
				"(usage: run_tests [-v] [-l] [name-substring])\n", argv[a]);
			return 2;
		} else {
			*filter = argv[a];
		}
	}
	env = getenv("VMT_TIMEOUT");
	if (env) {
		char *endp;
		unsigned long s = strtoul(env, &endp, 10);

		if (*env == '\0' || *endp != '\0' || s == 0 || s > 3600) {
			fprintf(stderr, "run_tests: VMT_TIMEOUT must be 1..3600 seconds, got '%s'\n", env);
			return 2;
		}
		vmt_timeout_s = (unsigned)s;
	}
	env = getenv("VMT_NOFORK");
	*nofork = env && *env && strcmp(env, "0");
	return -1;
}

/* Run the @n tests in @v; print a line per failure (and per pass with
 * @verbose), then the closing "N passed, N failed". */
static int vmt_run_all(struct vmt_test **v, size_t n, bool verbose, bool nofork)
{
	unsigned passed = 0, failed = 0;

	for (size_t i = 0; i < n; i++) {
		struct timespec t0, t1;
		bool ok;

		clock_gettime(CLOCK_MONOTONIC, &t0);
		ok = nofork ? vmt_run_here(v[i]) :
			      vmt_run_forked(v[i], vmt_timeout_s);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		if (ok) {
			passed++;
			if (verbose)
				printf("ok   %s (%.0f ms)\n", v[i]->name,
				       (t1.tv_sec - t0.tv_sec) * 1e3 +
					       (t1.tv_nsec - t0.tv_nsec) / 1e6);
		} else {
			failed++;
			printf("FAIL %s\n", v[i]->name);
		}
		fflush(stdout);
	}
	printf("%u passed, %u failed\n", passed, failed);
	return failed ? 1 : 0;
}

int main(int argc, char **argv)
{
	const char *filter = NULL;
	bool verbose = false, list = false, nofork = false;
	struct vmt_test **v, *t;
	size_t i, n = 0;
	int rc = vmt_parse(argc, argv, &filter, &verbose, &list, &nofork);

	if (rc >= 0)
		return rc;
	v = calloc(vmt_nr_tests ? vmt_nr_tests : 1, sizeof(*v));
	if (!v) {
		fprintf(stderr, "run_tests: out of memory\n");
		return 2;
	}
	for (t = vmt_tests; t; t = t->next)
		if (!filter || strstr(t->name, filter))
			v[n++] = t;
	qsort(v, n, sizeof(*v), vmt_cmp);

	if (list) {
		for (i = 0; i < n; i++)
			printf("%s\n", v[i]->name);
		free(v);
		return 0;
	}
	if (filter && n == 0) {
		fprintf(stderr, "run_tests: no test name contains '%s'\n", filter);
		free(v);
		printf("0 passed, 0 failed\n");
		return 2;
	}
	rc = vmt_run_all(v, n, verbose, nofork);
	free(v);
	return rc;
}
