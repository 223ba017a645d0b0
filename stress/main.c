/* SPDX-License-Identifier: MIT */
/* main.c - build/vmtorture-stress, the stress driver on its own (the same
 * code the CLI runs as `vmtorture stress`). */
#include "stress.h"

int main(int argc, char **argv)
{
	return vmt_stress_main(argc, argv);
}
