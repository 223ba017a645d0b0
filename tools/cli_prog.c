/* SPDX-License-Identifier: MIT */
/*
 * cli_prog.c - the CLI's program commands: replay and run (a program in
 * lock-step on libvms and the model, a multi-thread one on the controlled
 * build next to this binary), decode and encode (the binary and the text
 * form); and what the CLI shares: reading a program file, running the
 * companion binary (cli.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "campaign/campaign.h" /* vmt_beside_self */

uint8_t *cli_read_file(const char *path, size_t max, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	size_t n = 0, cap = 4096;

	if (!f) {
		fprintf(stderr, "vmtorture: %s: %s\n", path, strerror(errno));
		return NULL;
	}
	buf = malloc(cap + 1);
	while (buf) {
		size_t k = fread(buf + n, 1, cap - n, f);

		n += k;
		if (n > max) {
			fprintf(stderr,
				"vmtorture: %s: larger than %zu bytes\n", path,
				max);
			free(buf);
			fclose(f);
			return NULL;
		}
		if (k == 0)
			break;
		if (n == cap) {
			uint8_t *nb = realloc(buf, 2 * cap + 1);

			if (!nb) {
				free(buf);
				buf = NULL;
				break;
			}
			buf = nb;
			cap *= 2;
		}
	}
	if (!buf) {
		fprintf(stderr, "vmtorture: %s: out of memory\n", path);
		fclose(f);
		return NULL;
	}
	if (ferror(f)) {
		fprintf(stderr, "vmtorture: %s: read error\n", path);
		free(buf);
		fclose(f);
		return NULL;
	}
	fclose(f);
	buf[n] = 0;
	*len = n;
	return buf;
}

/*
 * Run the controlled executor's binary (next to this one) with @args:
 * its exit status, or EXIT_USAGE if it cannot run. Output so far is
 * flushed first so that the two processes' lines stay in order.
 */
int cli_companion(char *const args[])
{
	char *path = vmt_beside_self("vmtorture-sched");
	int status;
	pid_t pid;

	if (!path) {
		fprintf(stderr,
			"vmtorture: cannot find my own executable: %s\n",
			strerror(errno));
		return EXIT_USAGE;
	}
	if (access(path, X_OK)) {
		fprintf(stderr,
			"vmtorture: multi-thread programs need %s (the controlled build; "
			"run make): %s\n",
			path, strerror(errno));
		free(path);
		return EXIT_USAGE;
	}
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0) {
		fprintf(stderr, "vmtorture: fork: %s\n", strerror(errno));
		free(path);
		return EXIT_USAGE;
	}
	if (!pid) {
		execv(path, args);
		fprintf(stderr, "vmtorture: %s: %s\n", path, strerror(errno));
		_exit(EXIT_USAGE);
	}
	free(path);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return EXIT_USAGE;
	return WIFEXITED(status) ? WEXITSTATUS(status) : EXIT_USAGE;
}

static void report_result(const char *path, const struct vmt_prog *p,
			  const struct vmt_result *r, bool quiet)
{
	if (r->status == 0) {
		if (!quiet)
			printf("%s: agree (%u ops, %u executed, %u skipped)\n",
			       path, p->n, r->executed, r->skipped);
		return;
	}
	printf("%s: %s\n", path, r->sig[0] ? r->sig : "failed");
	printf("---- program (%u ops) ----\n", p->n);
	vmt_print_prog(stdout, p,
		       r->op >= 0 && (unsigned)r->op < p->n ? r->op : -1,
		       "diverges here", NULL);
	if (r->op >= (int)p->n)
		printf("# <-- diverges in the final check/teardown\n");
	printf("---- end ----\n");
}

/* replay's and run's options. */
struct run_args {
	struct vmt_exec_opts o;
	bool quiet, trace;
	char *repeat;
};

/* Parse the options of @name into @a; -1 with *@first the first file, or
 * the exit status (after --help or a message). */
static int parse_run_args(int argc, char **argv, const char *name,
			  struct run_args *a, int *first)
{
	int i;

	for (i = 1; i < argc; i++) {
		if (cli_is_help(argv[i]))
			return cli_usage(name, stdout, 0);
		if (!strcmp(argv[i], "-q")) {
			a->quiet = true;
		} else if (!strcmp(argv[i], "-v")) {
			a->o.trace = stdout;
		} else if (!strcmp(argv[i], "--trace")) {
			a->trace = true;
		} else if (!strcmp(argv[i], "--repeat")) {
			if (++i >= argc ||
			    strspn(argv[i], "0123456789") != strlen(argv[i]) ||
			    !*argv[i]) {
				fprintf(stderr,
					"vmtorture %s: --repeat needs a number of runs\n",
					name);
				return cli_usage(name, stderr, EXIT_USAGE);
			}
			a->repeat = argv[i];
		} else if (!strcmp(argv[i], "-p")) {
			char *end;

			if (++i >= argc ||
			    !(a->o.pool_bytes = strtoull(argv[i], &end, 0)) ||
			    *end) {
				fprintf(stderr,
					"vmtorture %s: -p needs a pool size in bytes\n",
					name);
				return cli_usage(name, stderr, EXIT_USAGE);
			}
		} else if (!strcmp(argv[i], "--")) {
			i++;
			break;
		} else if (argv[i][0] == '-' && argv[i][1]) {
			fprintf(stderr, "vmtorture %s: unknown option '%s'\n",
				name, argv[i]);
			return cli_usage(name, stderr, EXIT_USAGE);
		} else {
			break;
		}
	}
	if (i >= argc) {
		fprintf(stderr, "vmtorture %s: no input files\n", name);
		return cli_usage(name, stderr, EXIT_USAGE);
	}
	*first = i;
	return -1;
}

/* Read the program in @path into @p: the text form for run, either form
 * for replay (any saved program replays). 0, or EXIT_USAGE after a
 * message. */
static int load_prog(const char *path, bool text, struct vmt_prog *p)
{
	size_t len;
	uint8_t *buf = cli_read_file(path, MAX_PROG_FILE, &len);

	if (!buf)
		return EXIT_USAGE;
	if (!text && !memchr(buf, 0, len) &&
	    !vmt_parse((const char *)buf, p, NULL, NULL, 0)) {
		/* parsed as text */
	} else if (text) {
		char err[160];
		int line;

		if (memchr(buf, 0, len) ||
		    vmt_parse((const char *)buf, p, &line, err, sizeof(err))) {
			if (memchr(buf, 0, len))
				fprintf(stderr,
					"vmtorture: %s: not a text program (NUL byte)\n",
					path);
			else
				fprintf(stderr, "vmtorture: %s:%d: %s\n", path,
					line, err);
			free(buf);
			return EXIT_USAGE;
		}
	} else {
		vmt_decode(buf, len, p);
	}
	free(buf);
	return 0;
}

/* A multi-thread program runs on the controlled build: its exit status. */
static int run_mt(const char *path, const struct run_args *a)
{
	char *args[9] = { "vmtorture-sched", "replay" };
	int k = 2;

	if (a->quiet)
		args[k++] = "-q";
	if (a->o.trace)
		args[k++] = "-v";
	if (a->trace)
		args[k++] = "--trace";
	if (a->repeat) {
		args[k++] = "--repeat";
		args[k++] = a->repeat;
	}
	args[k++] = (char *)path;
	return cli_companion(args);
}

/* A single-thread program, lock-step here: its exit status. */
static int run_one(const char *path, const struct vmt_prog *p,
		   const struct run_args *a)
{
	struct vmt_result r;

	vmt_exec(p, &a->o, &r);
	if (r.status == 1) {
		struct vmt_exec_opts lo = a->o;

		lo.trace =
			NULL; /* the trace above shows where an answer differed */
		vmt_localize(p, &lo, &r);
	}
	report_result(path, p, &r, a->quiet);
	return r.status == 1 ? EXIT_DIVERGE : r.status < 0 ? EXIT_USAGE : 0;
}

static int run_progs(int argc, char **argv, bool text, const char *name)
{
	struct run_args a = { 0 };
	struct vmt_prog *p;
	int rc = 0, i;

	rc = parse_run_args(argc, argv, name, &a, &i);
	if (rc >= 0)
		return rc;
	rc = 0;
	p = malloc(sizeof(*p));
	if (!p) {
		fprintf(stderr, "vmtorture: out of memory\n");
		return EXIT_USAGE;
	}
	for (; i < argc; i++) {
		int st = load_prog(argv[i], text, p);

		if (!st) {
			if (a.o.trace)
				printf("== %s\n", argv[i]);
			st = vmt_prog_is_mt(p) ? run_mt(argv[i], &a) :
						 run_one(argv[i], p, &a);
		}
		/* A divergence wins; otherwise the first failure's status. */
		if (st == EXIT_DIVERGE || (st && !rc))
			rc = st;
	}
	free(p);
	fflush(stdout);
	return rc;
}

int vmt_cli_replay(int argc, char **argv)
{
	return run_progs(argc, argv, false, "replay");
}

int vmt_cli_run(int argc, char **argv)
{
	return run_progs(argc, argv, true, "run");
}

int vmt_cli_decode(int argc, char **argv)
{
	struct vmt_prog *p;
	size_t len;
	uint8_t *buf;

	if (argc == 2 && cli_is_help(argv[1]))
		return cli_usage("decode", stdout, 0);
	if (argc != 2 || (argv[1][0] == '-' && argv[1][1])) {
		fprintf(stderr,
			"vmtorture decode: expected exactly one input file\n");
		return cli_usage("decode", stderr, EXIT_USAGE);
	}
	buf = cli_read_file(argv[1], MAX_PROG_FILE, &len);
	if (!buf)
		return EXIT_USAGE;
	p = malloc(sizeof(*p));
	if (!p) {
		free(buf);
		fprintf(stderr, "vmtorture: out of memory\n");
		return EXIT_USAGE;
	}
	vmt_decode(buf, len, p);
	vmt_print_prog(stdout, p, -1, NULL, NULL);
	free(buf);
	free(p);
	if (fflush(stdout)) {
		fprintf(stderr, "vmtorture decode: write error: %s\n",
			strerror(errno));
		return EXIT_USAGE;
	}
	return 0;
}

static int write_all(int fd, const uint8_t *b, size_t n)
{
	while (n) {
		ssize_t k = write(fd, b, n);

		if (k < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		b += k;
		n -= (size_t)k;
	}
	return 0;
}

/* encode's arguments; -1, or the exit status (after --help or a message). */
static int parse_encode_args(int argc, char **argv, const char **in,
			     const char **out, bool *force)
{
	for (int i = 1; i < argc; i++) {
		if (cli_is_help(argv[i]))
			return cli_usage("encode", stdout, 0);
		if (!strcmp(argv[i], "-o")) {
			if (++i >= argc) {
				fprintf(stderr,
					"vmtorture encode: -o needs a file name\n");
				return cli_usage("encode", stderr, EXIT_USAGE);
			}
			*out = argv[i];
		} else if (!strcmp(argv[i], "-f")) {
			*force = true;
		} else if (argv[i][0] == '-' && argv[i][1]) {
			fprintf(stderr,
				"vmtorture encode: unknown option '%s'\n",
				argv[i]);
			return cli_usage("encode", stderr, EXIT_USAGE);
		} else if (*in) {
			fprintf(stderr,
				"vmtorture encode: more than one input file\n");
			return cli_usage("encode", stderr, EXIT_USAGE);
		} else {
			*in = argv[i];
		}
	}
	if (!*in) {
		fprintf(stderr, "vmtorture encode: no input file\n");
		return cli_usage("encode", stderr, EXIT_USAGE);
	}
	return -1;
}

/* The text program in @in, encoded into @bin (VMT_MAX_ENCODED bytes):
 * its length, or -1 after a message. */
static long encode_file(const char *in, uint8_t *bin)
{
	struct vmt_prog *p;
	uint8_t *txt;
	char err[160];
	size_t len;
	long n;
	int line, rc;

	txt = cli_read_file(in, MAX_PROG_FILE, &len);
	if (!txt)
		return -1;
	if (memchr(txt, 0, len)) {
		fprintf(stderr,
			"vmtorture encode: %s: not a text program (NUL byte)\n",
			in);
		free(txt);
		return -1;
	}
	p = malloc(sizeof(*p));
	if (!p) {
		free(txt);
		fprintf(stderr, "vmtorture: out of memory\n");
		return -1;
	}
	rc = vmt_parse((const char *)txt, p, &line, err, sizeof(err));
	free(txt);
	if (rc) {
		fprintf(stderr, "vmtorture encode: %s:%d: %s\n", in, line, err);
		free(p);
		return -1;
	}
	n = vmt_encode(p, bin, VMT_MAX_ENCODED);
	free(p);
	if (n < 0 || (size_t)n > VMT_MAX_ENCODED) {
		fprintf(stderr, "vmtorture encode: %s: cannot encode (%ld)\n",
			in, n);
		return -1;
	}
	return n;
}

/* @n bytes of @bin to @out (stdout if NULL, never a terminal); an
 * existing @out only with @force. */
static int write_encoded(const char *out, bool force, const uint8_t *bin,
			 size_t n)
{
	int fd, rc;

	if (!out) {
		if (isatty(STDOUT_FILENO)) {
			fprintf(stderr,
				"vmtorture encode: refusing to write binary to a terminal (use -o)\n");
			return EXIT_USAGE;
		}
		rc = write_all(STDOUT_FILENO, bin, n);
		if (rc) {
			fprintf(stderr, "vmtorture encode: stdout: %s\n",
				strerror(-rc));
			return EXIT_USAGE;
		}
		return 0;
	}
	fd = open(out, O_WRONLY | O_CREAT | (force ? O_TRUNC : O_EXCL), 0644);
	if (fd < 0) {
		if (errno == EEXIST)
			fprintf(stderr,
				"vmtorture encode: %s exists (use -f to overwrite)\n",
				out);
		else
			fprintf(stderr, "vmtorture encode: %s: %s\n", out,
				strerror(errno));
		return EXIT_USAGE;
	}
	rc = write_all(fd, bin, n);
	if (close(fd) && !rc)
		rc = -errno;
	if (rc) {
		fprintf(stderr, "vmtorture encode: %s: %s\n", out,
			strerror(-rc));
		return EXIT_USAGE;
	}
	return 0;
}

int vmt_cli_encode(int argc, char **argv)
{
	const char *in = NULL, *out = NULL;
	uint8_t bin[VMT_MAX_ENCODED];
	bool force = false;
	long n;
	int rc;

	rc = parse_encode_args(argc, argv, &in, &out, &force);
	if (rc >= 0)
		return rc;
	n = encode_file(in, bin);
	if (n < 0)
		return EXIT_USAGE;
	return write_encoded(out, force, bin, (size_t)n);
}
