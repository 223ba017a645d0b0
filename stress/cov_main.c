/* SPDX-License-Identifier: MIT */
/*
 * cov_main.c - main of build/fuzz/vmt-stress-cov: `vmtorture stress` by
 * itself, linked to a coverage build of the core (stress/stress.mk), so
 * make coverage and the campaign's coverage snapshots count what the
 * free-running threads run. Its arguments are the stress options.
 */
int vmt_stress_main(int argc, char **argv);

int main(int argc, char **argv)
{
	return vmt_stress_main(argc, argv);
}
