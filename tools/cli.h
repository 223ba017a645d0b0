/* SPDX-License-Identifier: MIT */
/*
 * cli.h - what the parts of the `vmtorture` CLI share (private to tools/):
 * vmtorture.c holds the command table, help and dispatch; cli_prog.c the
 * program commands (replay, run, decode, encode).
 */
#ifndef VMT_CLI_H
#define VMT_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "op/op.h"

#define EXIT_DIVERGE 1
#define EXIT_USAGE 2

/* A binary program file: anything decodes, so only I/O can fail. Inputs
 * longer than any program are refused rather than silently cut. */
#define MAX_PROG_FILE (1u << 20)

/* vmtorture.c: is @a --help or -h; print the usage of command @name on @f
 * and return @rc. */
bool cli_is_help(const char *a);
int cli_usage(const char *name, FILE *f, int rc);

/* cli_prog.c: the whole of @path (at most @max bytes, NUL-terminated),
 * or NULL after a message. */
uint8_t *cli_read_file(const char *path, size_t max, size_t *len);
/* Run the controlled executor's binary (next to this one) with @args:
 * its exit status, or EXIT_USAGE if it cannot run. */
int cli_companion(char *const args[]);

/* The program commands (argv[0] is the command's name). */
int vmt_cli_replay(int argc, char **argv);
int vmt_cli_run(int argc, char **argv);
int vmt_cli_decode(int argc, char **argv);
int vmt_cli_encode(int argc, char **argv);

#endif /* VMT_CLI_H */
