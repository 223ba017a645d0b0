/* SPDX-License-Identifier: MIT */
/*
 * cmd.c - `vmtorture classify` and `vmtorture campaign`.
 *
 * classify is the triage step the campaign script runs on every new
 * finding: replay it on the replay build (then the ASan build), print
 * "oracle<TAB>id<TAB>signature". campaign itself is a shell script
 * (tools/campaign/campaign.sh): it only starts processes and moves files,
 * which the shell does best; this command finds and runs it.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "campaign.h"

static void print_log_sig(void *arg, const char *sig)
{
	char id[17];

	vmt_sig_id(sig, id);
	printf("log\t%s\t%s\n", id, sig);
}

static void classify_usage(void)
{
	printf("usage: vmtorture classify [--fz DIR] [--log] FILE...\n"
	       "  Replay each finding on the replay build, then the ASan build;\n"
	       "  print oracle, signature id and signature, tab-separated\n"
	       "  (oracle 'none' if neither reproduces it).\n"
	       "  --log: FILEs are outputs of runs (e.g. a stress round); print\n"
	       "  'log', id and the signature of the finding in each, or nothing.\n"
	       "  --all (with --log): every finding in the output, in order.\n"
	       "  --id: the arguments are signatures; print the id of each.\n");
}

/* --log: the finding in the output of a run (every one with @all).
 * Returns 0, or 2 if the file cannot be read. */
static int classify_log(const char *file, bool all)
{
	char sig[VMT_SIG_MAX], id[17];
	size_t n;
	char *txt = (char *)vmt_read_file(file, &n);

	if (!txt) {
		fprintf(stderr, "classify: %s: %s\n", file, strerror(errno));
		return 2;
	}
	if (all) {
		vmt_sig_each(txt, print_log_sig, NULL);
	} else if (vmt_sig_from_output(txt, sig, sizeof(sig))) {
		vmt_sig_id(sig, id);
		printf("log\t%s\t%s\n", id, sig);
	}
	free(txt);
	return 0;
}

/* A finding: the oracle that reproduces it and its title. Returns 0,
 * or 2 if it cannot be replayed. */
static int classify_file(const struct vmt_cenv *e, const char *file)
{
	char sig[VMT_SIG_MAX], id[17];
	enum vmt_obuild o;
	int r = vmt_classify(e, file, sig, sizeof(sig), &o);

	if (r < 0) {
		fprintf(stderr, "classify: %s: cannot replay (%s)\n", file,
			strerror(-r));
		return 2;
	}
	if (!r)
		snprintf(sig, sizeof(sig), "UNREPRODUCED");
	vmt_sig_id(sig, id);
	printf("%s\t%s\t%s\n", vmt_oracle_name(o), id, sig);
	return 0;
}

int vmt_cmd_classify(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "fz", required_argument, 0, 'f' },
		{ "log", no_argument, 0, 'l' },
		{ "id", no_argument, 0, 'i' },
		{ "all", no_argument, 0, 'a' },
		{ "help", no_argument, 0, 'h' },
		{ 0, 0, 0, 0 },
	};
	struct vmt_cenv e;
	int c, rc = 0;
	bool logs = false, ids = false, all = false;

	vmt_cenv_init(&e);
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 'f': e.fz = optarg; break;
		case 'l': logs = true; break;
		case 'i': ids = true; break;
		case 'a': all = true; break;
		case 'h':
			classify_usage();
			return 0;
		default:
			return 2;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "usage: vmtorture classify [--fz DIR] FILE...\n");
		return 2;
	}
	for (int i = optind; i < argc; i++) {
		char id[17];

		if (ids) {
			vmt_sig_id(argv[i], id);
			printf("%s\n", id);
		} else if (logs) {
			if (classify_log(argv[i], all))
				rc = 2;
		} else if (classify_file(&e, argv[i])) {
			rc = 2;
		}
	}
	return rc;
}

/* tools/campaign/campaign.sh relative to the running binary: it lives in
 * build/, build/<san>/ or build/bug-<name>/[<san>/]. */
static char *find_script(void)
{
	static const char *const up[] = { "", "../", "../../", "../../../",
					  "../../../../" };
	const char *root = getenv("VMT_ROOT");

	if (root) {
		char *p = vmt_strf("%s/tools/campaign/campaign.sh", root);

		if (!access(p, R_OK))
			return p;
		free(p);
	}
	for (size_t i = 0; i < sizeof(up) / sizeof(up[0]); i++) {
		char *rel = vmt_strf("%stools/campaign/campaign.sh", up[i]);
		char *p = vmt_beside_self(rel);

		free(rel);
		if (p && !access(p, R_OK))
			return p;
		free(p);
	}
	if (!access("tools/campaign/campaign.sh", R_OK))
		return strdup("tools/campaign/campaign.sh");
	return NULL;
}

int vmt_cmd_campaign(int argc, char **argv)
{
	char *script = find_script();
	char **av;

	if (!script) {
		fprintf(stderr, "campaign: tools/campaign/campaign.sh not found (set VMT_ROOT)\n");
		return 2;
	}
	/* The binaries of this build variant, unless the caller chose:
	 * build/bug-x/vmtorture campaigns on build/bug-x/fuzz/ and so on. */
	{
		char *self = vmt_beside_self(NULL),
		     *fz = vmt_beside_self("fuzz");
		char *replay = vmt_beside_self("fuzz/vmt-replay");
		char *tsan = vmt_beside_self("tsan/vmtorture");

		if (self) {
			setenv("VMT_CLI", self, 0);
			setenv("VMT_TSAN_CLI", tsan, 0);
			if (!access(replay, X_OK))
				setenv("VMT_FZ", fz, 0);
		}
		free(self);
		free(fz);
		free(replay);
		free(tsan);
	}
	av = calloc((size_t)argc + 2, sizeof(*av));
	if (!av)
		return 2;
	av[0] = (char *)"bash";
	av[1] = script;
	for (int i = 1; i < argc; i++)
		av[i + 1] = argv[i];
	execvp("bash", av);
	fprintf(stderr, "campaign: cannot run bash: %s\n", strerror(errno));
	return 2;
}
