/* SPDX-License-Identifier: MIT */
/*
 * main.c - vmt-campaign, the campaign commands as a standalone binary
 * (the same functions are linked into vmtorture as subcommands).
 */
#include <string.h>

#include "campaign.h"

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
} cmds[] = {
	{ "campaign", vmt_cmd_campaign },
	{ "classify", vmt_cmd_classify },
	{ "minimize", vmt_cmd_minimize },
	{ "verdict", vmt_cmd_verdict },
	{ "report", vmt_cmd_report },
};

int main(int argc, char **argv)
{
	if (argc >= 2)
		for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
			if (!strcmp(argv[1], cmds[i].name))
				return cmds[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "usage: vmt-campaign campaign|classify|minimize|report|verdict [ARGS] (--help)\n");
	return 2;
}
