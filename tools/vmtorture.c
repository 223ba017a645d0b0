/* SPDX-License-Identifier: MIT */
/*
 * vmtorture.c - the command-line front end. Subcommands live in the
 * dispatch table below; each takes its own arguments and answers --help.
 * The program commands (replay, run, decode, encode) are in cli_prog.c,
 * the others in their modules (campaign/, stress/, the companion binary).
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

#include "cli.h"
#include "campaign/campaign.h" /* campaign, minimize, report, classify */

struct cmd {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *usage;	/* first line: synopsis; then details */
};

static const struct cmd *find_cmd(const char *name);

bool cli_is_help(const char *a)
{
	return !strcmp(a, "--help") || !strcmp(a, "-h");
}

int cli_usage(const char *name, FILE *f, int rc)
{
	const struct cmd *c = find_cmd(name);

	fprintf(f, "usage: vmtorture %s\n", c ? c->usage : name);
	return rc;
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
	rc = cli_companion(args);
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
	{ "replay", vmt_cli_replay,
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
	{ "run", vmt_cli_run,
	  "run [-q] [-v] [-p BYTES] FILE.txt...\n"
	  "  Like replay, for programs in the text form." },
	{ "decode", vmt_cli_decode,
	  "decode FILE\n"
	  "  Print a binary program in the text form on stdout." },
	{ "encode", vmt_cli_encode,
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
	if (argc >= 2 && cli_is_help(argv[1]))
		return cli_usage("help", stdout, 0);
	if (argc >= 2) {
		if (!find_cmd(argv[1])) {
			fprintf(stderr, "vmtorture help: unknown command '%s'\n", argv[1]);
			return EXIT_USAGE;
		}
		return cli_usage(argv[1], stdout, 0);
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
	if (cli_is_help(argv[1])) {
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
