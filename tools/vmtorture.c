/* SPDX-License-Identifier: MIT */
/*
 * vmtorture.c - the command-line front end. Subcommands live in the
 * dispatch table below; each takes its own arguments and answers --help.
 *
 *   vmtorture replay FILE...          run binary programs, report divergences
 *   vmtorture decode FILE             binary program -> text on stdout
 *   vmtorture encode FILE.txt [-o OUT] [-f]   text -> binary (stdout without -o)
 *   vmtorture run FILE.txt...         run text programs
 *   vmtorture sched FILE              explore the schedules of a program
 *
 * Multi-thread programs (op.h) run on the controlled build of the core,
 * which cannot share a binary with this one: `sched`, and `replay` or
 * `run` of such a program, run vmtorture-sched from this binary's
 * directory (tools/sched/sched_cli.c).
 *
 * Exit status: 0 all agree / done, 1 a divergence, 2 bad usage or input
 * (3: uncontrolled nondeterminism, from the controlled executor).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "op/op.h"
#include "campaign/campaign.h" /* campaign, minimize, report, classify */

#define EXIT_DIVERGE	1
#define EXIT_USAGE	2

struct cmd {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *usage;	/* first line: synopsis; then details */
};

static const struct cmd *find_cmd(const char *name);

static bool is_help(const char *a)
{
	return !strcmp(a, "--help") || !strcmp(a, "-h");
}

static int usage_of(const char *name, FILE *f, int rc)
{
	const struct cmd *c = find_cmd(name);

	fprintf(f, "usage: vmtorture %s\n", c ? c->usage : name);
	return rc;
}

/* Read a whole file (at most @max bytes). NULL with a message on error. */
static uint8_t *read_file(const char *path, size_t max, size_t *len)
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
			fprintf(stderr, "vmtorture: %s: larger than %zu bytes\n", path, max);
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

/* A binary program file: anything decodes, so only I/O can fail. Inputs
 * longer than any program are refused rather than silently cut. */
#define MAX_PROG_FILE	(1u << 20)

/*
 * Run the controlled executor's binary (next to this one) with @args:
 * its exit status, or EXIT_USAGE if it cannot run. Output so far is
 * flushed first so that the two processes' lines stay in order.
 */
static int run_companion(char *const args[])
{
	char *path = vmt_beside_self("vmtorture-sched");
	int status;
	pid_t pid;

	if (!path) {
		fprintf(stderr, "vmtorture: cannot find my own executable: %s\n", strerror(errno));
		return EXIT_USAGE;
	}
	if (access(path, X_OK)) {
		fprintf(stderr, "vmtorture: multi-thread programs need %s (the controlled build; "
			"run make): %s\n", path, strerror(errno));
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
	vmt_print_prog(stdout, p, r->op >= 0 && (unsigned)r->op < p->n ? r->op : -1,
		       "diverges here", NULL);
	if (r->op >= (int)p->n)
		printf("# <-- diverges in the final check/teardown\n");
	printf("---- end ----\n");
}

static int run_progs(int argc, char **argv, bool text, const char *name)
{
	struct vmt_exec_opts o = { 0 };
	struct vmt_prog *p;
	bool quiet = false, trace = false;
	char *repeat = NULL;
	int rc = 0, nfiles = 0, i;

	for (i = 1; i < argc; i++) {
		if (is_help(argv[i]))
			return usage_of(name, stdout, 0);
		if (!strcmp(argv[i], "-q")) {
			quiet = true;
		} else if (!strcmp(argv[i], "-v")) {
			o.trace = stdout;
		} else if (!strcmp(argv[i], "--trace")) {
			trace = true;
		} else if (!strcmp(argv[i], "--repeat")) {
			if (++i >= argc || strspn(argv[i], "0123456789") != strlen(argv[i]) || !*argv[i]) {
				fprintf(stderr, "vmtorture %s: --repeat needs a number of runs\n", name);
				return usage_of(name, stderr, EXIT_USAGE);
			}
			repeat = argv[i];
		} else if (!strcmp(argv[i], "-p")) {
			char *end;

			if (++i >= argc || !(o.pool_bytes = strtoull(argv[i], &end, 0)) || *end) {
				fprintf(stderr, "vmtorture %s: -p needs a pool size in bytes\n", name);
				return usage_of(name, stderr, EXIT_USAGE);
			}
		} else if (!strcmp(argv[i], "--")) {
			i++;
			break;
		} else if (argv[i][0] == '-' && argv[i][1]) {
			fprintf(stderr, "vmtorture %s: unknown option '%s'\n", name, argv[i]);
			return usage_of(name, stderr, EXIT_USAGE);
		} else {
			break;
		}
	}
	if (i >= argc) {
		fprintf(stderr, "vmtorture %s: no input files\n", name);
		return usage_of(name, stderr, EXIT_USAGE);
	}
	p = malloc(sizeof(*p));
	if (!p) {
		fprintf(stderr, "vmtorture: out of memory\n");
		return EXIT_USAGE;
	}
	for (; i < argc; i++) {
		struct vmt_result r;
		size_t len;
		uint8_t *buf = read_file(argv[i], MAX_PROG_FILE, &len);

		nfiles++;
		if (!buf) {
			rc = rc ? rc : EXIT_USAGE;
			continue;
		}
		/* replay takes the text form too: any saved program replays. */
		if (!text && !memchr(buf, 0, len) && !vmt_parse((const char *)buf, p, NULL, NULL, 0)) {
			/* parsed as text */
		} else if (text) {
			char err[160];
			int line;

			if (memchr(buf, 0, len) ||
			    vmt_parse((const char *)buf, p, &line, err, sizeof(err))) {
				if (memchr(buf, 0, len))
					fprintf(stderr, "vmtorture: %s: not a text program (NUL byte)\n",
						argv[i]);
				else
					fprintf(stderr, "vmtorture: %s:%d: %s\n", argv[i], line, err);
				free(buf);
				rc = rc ? rc : EXIT_USAGE;
				continue;
			}
		} else {
			vmt_decode(buf, len, p);
		}
		free(buf);
		if (o.trace)
			printf("== %s\n", argv[i]);
		if (vmt_prog_is_mt(p)) {
			char *args[9] = { "vmtorture-sched", "replay" };
			int k = 2, c;

			if (quiet)
				args[k++] = "-q";
			if (o.trace)
				args[k++] = "-v";
			if (trace)
				args[k++] = "--trace";
			if (repeat) {
				args[k++] = "--repeat";
				args[k++] = repeat;
			}
			args[k++] = argv[i];
			c = run_companion(args);
			if (c == EXIT_DIVERGE || (c && !rc))
				rc = c;
			continue;
		}
		vmt_exec(p, &o, &r);
		if (r.status == 1) {
			struct vmt_exec_opts lo = o;

			lo.trace = NULL;	/* the trace above shows where an answer differed */
			vmt_localize(p, &lo, &r);
		}
		report_result(argv[i], p, &r, quiet);
		if (r.status == 1)
			rc = EXIT_DIVERGE;
		else if (r.status < 0)
			rc = rc ? rc : EXIT_USAGE;
	}
	free(p);
	fflush(stdout);
	return rc;
}

static int cmd_replay(int argc, char **argv)
{
	return run_progs(argc, argv, false, "replay");
}

static int cmd_run(int argc, char **argv)
{
	return run_progs(argc, argv, true, "run");
}

static int cmd_decode(int argc, char **argv)
{
	struct vmt_prog *p;
	size_t len;
	uint8_t *buf;

	if (argc == 2 && is_help(argv[1]))
		return usage_of("decode", stdout, 0);
	if (argc != 2 || (argv[1][0] == '-' && argv[1][1])) {
		fprintf(stderr, "vmtorture decode: expected exactly one input file\n");
		return usage_of("decode", stderr, EXIT_USAGE);
	}
	buf = read_file(argv[1], MAX_PROG_FILE, &len);
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
		fprintf(stderr, "vmtorture decode: write error: %s\n", strerror(errno));
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

static int cmd_encode(int argc, char **argv)
{
	const char *in = NULL, *out = NULL;
	bool force = false;
	struct vmt_prog *p;
	uint8_t *txt, bin[VMT_MAX_ENCODED];
	char err[160];
	size_t len;
	long n;
	int line, fd, rc;

	for (int i = 1; i < argc; i++) {
		if (is_help(argv[i]))
			return usage_of("encode", stdout, 0);
		if (!strcmp(argv[i], "-o")) {
			if (++i >= argc) {
				fprintf(stderr, "vmtorture encode: -o needs a file name\n");
				return usage_of("encode", stderr, EXIT_USAGE);
			}
			out = argv[i];
		} else if (!strcmp(argv[i], "-f")) {
			force = true;
		} else if (argv[i][0] == '-' && argv[i][1]) {
			fprintf(stderr, "vmtorture encode: unknown option '%s'\n", argv[i]);
			return usage_of("encode", stderr, EXIT_USAGE);
		} else if (in) {
			fprintf(stderr, "vmtorture encode: more than one input file\n");
			return usage_of("encode", stderr, EXIT_USAGE);
		} else {
			in = argv[i];
		}
	}
	if (!in) {
		fprintf(stderr, "vmtorture encode: no input file\n");
		return usage_of("encode", stderr, EXIT_USAGE);
	}
	txt = read_file(in, MAX_PROG_FILE, &len);
	if (!txt)
		return EXIT_USAGE;
	if (memchr(txt, 0, len)) {
		fprintf(stderr, "vmtorture encode: %s: not a text program (NUL byte)\n", in);
		free(txt);
		return EXIT_USAGE;
	}
	p = malloc(sizeof(*p));
	if (!p) {
		free(txt);
		fprintf(stderr, "vmtorture: out of memory\n");
		return EXIT_USAGE;
	}
	rc = vmt_parse((const char *)txt, p, &line, err, sizeof(err));
	free(txt);
	if (rc) {
		fprintf(stderr, "vmtorture encode: %s:%d: %s\n", in, line, err);
		free(p);
		return EXIT_USAGE;
	}
	n = vmt_encode(p, bin, sizeof(bin));
	free(p);
	if (n < 0 || (size_t)n > sizeof(bin)) {
		fprintf(stderr, "vmtorture encode: %s: cannot encode (%ld)\n", in, n);
		return EXIT_USAGE;
	}
	if (!out) {
		if (isatty(STDOUT_FILENO)) {
			fprintf(stderr, "vmtorture encode: refusing to write binary to a terminal (use -o)\n");
			return EXIT_USAGE;
		}
		rc = write_all(STDOUT_FILENO, bin, (size_t)n);
		if (rc) {
			fprintf(stderr, "vmtorture encode: stdout: %s\n", strerror(-rc));
			return EXIT_USAGE;
		}
		return 0;
	}
	fd = open(out, O_WRONLY | O_CREAT | (force ? O_TRUNC : O_EXCL), 0644);
	if (fd < 0) {
		if (errno == EEXIST)
			fprintf(stderr, "vmtorture encode: %s exists (use -f to overwrite)\n", out);
		else
			fprintf(stderr, "vmtorture encode: %s: %s\n", out, strerror(errno));
		return EXIT_USAGE;
	}
	rc = write_all(fd, bin, (size_t)n);
	if (close(fd) && !rc)
		rc = -errno;
	if (rc) {
		fprintf(stderr, "vmtorture encode: %s: %s\n", out, strerror(-rc));
		return EXIT_USAGE;
	}
	return 0;
}

static int cmd_sched(int argc, char **argv)
{
	char **args = calloc((size_t)argc + 2, sizeof(*args));
	int rc;

	if (!args) {
		fprintf(stderr, "vmtorture: out of memory\n");
		return EXIT_USAGE;
	}
	args[0] = "vmtorture-sched";
	for (int i = 0; i < argc; i++)
		args[i + 1] = argv[i];
	rc = run_companion(args);
	free(args);
	return rc;
}

static int cmd_help(int argc, char **argv);
int vmt_stress_main(int argc, char **argv); /* stress/stress.c */

/* Is @path a multi-thread program (text or binary)? Quietly false if it
 * cannot be read: the command that gets it says why. */
static bool mt_file(const char *path)
{
	struct vmt_prog *p = malloc(sizeof(*p));
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	size_t len = 0;
	bool mt = false;

	if (f) {
		buf = malloc(MAX_PROG_FILE + 1);
		len = buf ? fread(buf, 1, MAX_PROG_FILE, f) : 0;
		fclose(f);
	}
	if (p && buf) {
		buf[len] = 0;
		if (memchr(buf, 0, len) || vmt_parse((const char *)buf, p, NULL, NULL, 0))
			vmt_decode(buf, len, p);
		mt = vmt_prog_is_mt(p);
	}
	free(buf);
	free(p);
	return mt;
}

/* minimize and report of a multi-thread program (its last argument) go
 * to the controlled build; anything else to the campaign's tools. */
static int mt_or(int argc, char **argv, int (*fn)(int, char **))
{
	if (argc < 2 || argv[argc - 1][0] == '-' || !mt_file(argv[argc - 1]))
		return fn(argc, argv);
	return cmd_sched(argc, argv);
}

static int cmd_minimize(int argc, char **argv)
{
	return mt_or(argc, argv, vmt_cmd_minimize);
}

static int cmd_report(int argc, char **argv)
{
	return mt_or(argc, argv, vmt_cmd_report);
}


/*
 * The dispatch table. More subcommands (stress, campaign, minimize,
 * report) are added here by their modules; each gets (argc, argv) with
 * argv[0] the subcommand name and must answer --help.
 */
static const struct cmd cmds[] = {
	{ "campaign", vmt_cmd_campaign,
	  "campaign [--duration 8h] [--jobs N] [--engines afl,libfuzzer,stress,tsan]\n"
	  "         [--out DIR] [--resume]  (see: vmtorture campaign --help)\n"
	  "  Run the engines side by side, triage, minimize, report." },
	{ "minimize", cmd_minimize,
	  "minimize FILE  (see: vmtorture minimize --help)\n"
	  "  Shrink a failing input while it keeps its signature; a multi-thread\n"
	  "  program jointly (threads, ops, faults, preemptions, operands) on the\n"
	  "  controlled build (vmtorture-sched minimize --help)." },
	{ "report", cmd_report,
	  "report FILE  (see: vmtorture report --help)\n"
	  "  Write the Markdown bug report for a failing input; for a multi-thread\n"
	  "  program one column per thread, in execution order." },
	{ "classify", vmt_cmd_classify,
	  "classify FILE...  (see: vmtorture classify --help)\n"
	  "  Replay findings and print their signatures." },
	{ "verdict", vmt_cmd_verdict,
	  "verdict DIR  (see: vmtorture verdict --help)\n"
	  "  List each finding of a campaign as a cause or as a symptom of another." },
	{ "stress", vmt_stress_main,
	  "stress [options]  (see: vmtorture stress --help)\n"
	  "  Multi-threaded cursor sessions checked against the model by oracles." },
	{ "sched", cmd_sched,
	  "sched FILE [--mode random|pct] [--depth D] [--runs N] [--seed S] [--out DIR]\n"
	  "  Explore schedules of a program on the controlled build (see: vmtorture sched\n"
	  "  --help); a finding is saved as a program whose schedule replays it." },
	{ "replay", cmd_replay,
	  "replay [-q] [-v] [-p BYTES] [--trace] [--repeat N] FILE...\n"
	  "  Run programs (binary, or text: any saved program) on libvms and the model.\n"
	  "  On a divergence print the signature and the program as text with the\n"
	  "  failing op marked.\n"
	  "  -q  print nothing for agreeing files   -v  trace every op\n"
	  "  -p  pool size (default 256 MiB; a small pool exercises -ENOMEM)\n"
	  "  A multi-thread program runs on the controlled build under its schedule,\n"
	  "  twice (--repeat N: N times): a difference in the decisions is uncontrolled\n"
	  "  nondeterminism (exit 3). --trace prints every decision of the first run.\n"
	  "  Exit: 0 all agree, 1 a divergence, 2 unreadable input." },
	{ "run", cmd_run,
	  "run [-q] [-v] [-p BYTES] FILE.txt...\n"
	  "  Like replay, for programs in the text form." },
	{ "decode", cmd_decode,
	  "decode FILE\n"
	  "  Print a binary program in the text form on stdout." },
	{ "encode", cmd_encode,
	  "encode FILE.txt [-o OUT] [-f]\n"
	  "  Encode a text program to the binary form, to OUT or stdout (not a\n"
	  "  terminal). An existing OUT is kept unless -f." },
	{ "help", cmd_help, "help [COMMAND]" },
};
#define NCMDS (sizeof(cmds) / sizeof(cmds[0]))

static const struct cmd *find_cmd(const char *name)
{
	for (size_t i = 0; i < NCMDS; i++)
		if (!strcmp(cmds[i].name, name))
			return &cmds[i];
	return NULL;
}

static void main_usage(FILE *f)
{
	fprintf(f, "usage: vmtorture COMMAND [ARGS]   (vmtorture COMMAND --help for details)\n"
		   "commands:\n");
	for (size_t i = 0; i < NCMDS; i++) {
		const char *nl = strchr(cmds[i].usage, '\n');

		fprintf(f, "  %.*s\n", nl ? (int)(nl - cmds[i].usage) : (int)strlen(cmds[i].usage),
			cmds[i].usage);
	}
}

static int cmd_help(int argc, char **argv)
{
	if (argc >= 2 && is_help(argv[1]))
		return usage_of("help", stdout, 0);
	if (argc >= 2) {
		if (!find_cmd(argv[1])) {
			fprintf(stderr, "vmtorture help: unknown command '%s'\n", argv[1]);
			return EXIT_USAGE;
		}
		return usage_of(argv[1], stdout, 0);
	}
	main_usage(stdout);
	return 0;
}

int main(int argc, char **argv)
{
	const struct cmd *c;

	if (argc < 2) {
		main_usage(stderr);
		return EXIT_USAGE;
	}
	if (is_help(argv[1])) {
		main_usage(stdout);
		return 0;
	}
	c = find_cmd(argv[1]);
	if (!c) {
		fprintf(stderr, "vmtorture: unknown command '%s'\n", argv[1]);
		main_usage(stderr);
		return EXIT_USAGE;
	}
	return c->fn(argc - 1, argv + 1);
}
