/* SPDX-License-Identifier: MIT */
/*
 * oss-fuzz/encode_seeds.c - build-time helper of build.sh: encode one
 * text program (corpora/seq/*.txt) into a fuzz input; build.sh names it
 * by the SHA-1 of its content. Uses the op codec alone (tools/op/op*.c),
 * so it links without the core or liburcu.
 *
 *   encode_seeds IN.txt OUT.bin
 */
#include <stdio.h>
#include <stdlib.h>

#include "op.h"

int main(int argc, char **argv)
{
	static struct vmt_prog p;
	static uint8_t out[VMT_MAX_ENCODED];
	char err[160], *text;
	int line;
	long n, len;
	FILE *f;

	if (argc != 3) {
		fprintf(stderr, "usage: encode_seeds IN.txt OUT.bin\n");
		return 2;
	}
	f = fopen(argv[1], "rb");
	if (!f || fseek(f, 0, SEEK_END) || (len = ftell(f)) < 0 || fseek(f, 0, SEEK_SET)) {
		fprintf(stderr, "encode_seeds: cannot read %s\n", argv[1]);
		return 2;
	}
	text = calloc(1, (size_t)len + 1);
	if (!text || fread(text, 1, (size_t)len, f) != (size_t)len) {
		fprintf(stderr, "encode_seeds: cannot read %s\n", argv[1]);
		return 2;
	}
	fclose(f);
	if (vmt_parse(text, &p, &line, err, sizeof(err))) {
		fprintf(stderr, "encode_seeds: %s:%d: %s\n", argv[1], line, err);
		return 2;
	}
	n = vmt_encode(&p, out, sizeof(out));
	if (n < 0 || (size_t)n > sizeof(out)) {
		fprintf(stderr, "encode_seeds: %s: cannot encode\n", argv[1]);
		return 2;
	}
	f = fopen(argv[2], "wb");
	if (!f || fwrite(out, 1, (size_t)n, f) != (size_t)n || fclose(f)) {
		fprintf(stderr, "encode_seeds: cannot write %s\n", argv[2]);
		return 2;
	}
	free(text);
	return 0;
}
