/* SPDX-License-Identifier: MIT */
/*
 * fuzz/gen_dict.c - writes fuzz/vmt.dict (make fuzz-dict).
 *
 * Dictionary entries must be byte strings exactly as tools/op's decoder
 * reads them, so they are produced by its own encoder instead of being
 * written by hand: a change of the binary form then only needs a
 * `make fuzz-dict`. Entries:
 *   - every opcode byte (the first table index that decodes to it);
 *   - whole ops with typical operands (text form -> vmt_encode);
 *   - absolute address operands as the decoder sees them: the one-byte
 *     selector of each interesting address, and the raw escape (0xff + 8
 *     bytes LE) for boundary values the selector table cannot express.
 * Operands relative to the cursor state (jump targets, lengths) have no
 * fixed spelling; the whole-op entries carry their empty-state form.
 *   - the multi-thread pseudo-ops (docs/sched.md): a thread marker, and a
 *     schedule header with one preemption at a few decision keys, for
 *     the multi-thread target, whose inputs need them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "op.h"

static unsigned nr;

static void entry(const char *name, const uint8_t *b, long n)
{
	printf("%s_%u=\"", name, nr++);
	for (long i = 0; i < n; i++)
		printf("\\x%02x", b[i]);
	printf("\"\n");
}

/* Encode one text-form op; the name is the op's first word. */
static void op_entry(const char *text)
{
	struct vmt_prog p;
	uint8_t buf[64];
	char err[128], name[32];
	int line;
	long n;

	if (vmt_parse(text, &p, &line, err, sizeof(err)) || p.n != 1) {
		fprintf(stderr, "gen_dict: cannot parse '%s': %s\n", text, err);
		exit(1);
	}
	n = vmt_encode(&p, buf, sizeof(buf));
	if (n <= 0 || n > (long)sizeof(buf)) {
		fprintf(stderr, "gen_dict: cannot encode '%s'\n", text);
		exit(1);
	}
	sscanf(text, "%31s", name);
	printf("# %s\n", text);
	entry(name, buf, n);
}

/*
 * An absolute address operand as the decoder reads it: the start field of
 * "cursor_new mut start=@v ...", after its three one-byte fields (opcode,
 * space, mut). The encoder spells an address as one selector byte, or as
 * the raw escape 0xff followed by 8 bytes little-endian.
 */
static void addr_entry(unsigned long long v)
{
	char text[96];
	struct vmt_prog p;
	uint8_t buf[64];
	char err[128];
	int line;
	long n, len;

	snprintf(text, sizeof(text), "cursor_new mut start=0x%llx end=0x%llx", v, v + 0x1000);
	if (vmt_parse(text, &p, &line, err, sizeof(err)) ||
	    (n = vmt_encode(&p, buf, sizeof(buf))) < 4 || n > (long)sizeof(buf)) {
		fprintf(stderr, "gen_dict: cannot encode address 0x%llx\n", v);
		exit(1);
	}
	len = buf[3] == 0xff ? 9 : 1;
	if (3 + len > n) {
		fprintf(stderr, "gen_dict: unexpected encoding of address 0x%llx\n", v);
		exit(1);
	}
	printf("# address 0x%llx\n", v);
	entry("addr", buf + 3, len);
}

static const char *const ops[] = {
	"cursor_new mut start=0 end=0x200000",
	"cursor_new mut start=0x200000 end=0x400000",
	"cursor_new mut start=0 end=0x40000000",
	"cursor_new mut start=0 end=0x800000000000",
	"cursor_new ro start=0 end=0x800000000000",
	"cursor_new mut space=1 start=0 end=0x200000",
	"cursor_new mut start=0x7fffffe00000 end=0x800000000000",
	"cursor_new mut start=0x8000000000 end=0x10000000000",
	"query",
	"find_next len=0x200000",
	"find_next len=0x1000",
	"jump va=0x200000",
	"jump va=0x0",
	"map frame=0 prop=RW-,wb,user",
	"map frame=1 prop=R--,wb,user",
	"map frame=0 prop=RWX,uc,user+global",
	"map frame=0 prop=RW-,wp,user",
	"map frame=0 prop=---,wb,none",
	"unmap len=0x1000",
	"unmap len=0x200000",
	"unmap len=0x40000000",
	"unmap len=0x3000",
	"protect_next len=0x200000 clear=W",
	"protect_next len=0x1000 set=W",
	"protect_next len=0x1000 clear=R",
	"protect_next len=0x200000 cache=wp",
	"protect_next len=0x1000 priv^=global",
	"drop",
	"frame_alloc frame=0 level=1",
	"frame_alloc frame=1 level=2",
	"frame_alloc frame=2 level=0",
	"frame_alloc frame=3 level=3",
	"frame_get frame=0",
	"frame_put frame=0",
	"space_new space=1",
	"space_new space=1 flags=0x1",
	"space_destroy space=1",
	"space_activate space=1",
	"space_deactivate",
	"space_switch",
	"reader_new acc=0 va=0x1000 len=0x1000",
	"writer_new acc=1 va=0x1000 len=0x2000",
	"reader_new acc=2 va=0x200000 len=0x200000",
	"writer_new acc=3 space=1 va=0x200000 len=0x1000",
	"activate acc=0",
	"activate acc=1 space=1",
	"read acc=0 n=4096",
	"write acc=1 n=4096 pattern=0x5a",
	"write acc=1 n=8192",
	"release acc=0",
	"check",
	"quiesce",
	"fail nth=1",
	"fail nth=2",
	"fail nth=1 site=node",
	"fail nth=1 site=batch",
	"fail nth=1 site=cursor",
	"fail nth=1 site=pool",
	"pool_new bytes=0x400000",
	"corrupt kind=children",
	"corrupt kind=twice",
	"corrupt kind=refcount",
	"corrupt kind=writers",
	"corrupt kind=freed",
	"corrupt kind=foreign",
	"corrupt kind=defer",
	"corrupt kind=leak",
	"badarg call=map",
	"badarg call=space_check",
};

static const unsigned long long addrs[] = {
	0x0, 0x1000, 0x200000, 0x201000, 0x1ff000, 0x400000, 0x40000000,
	0x3fe00000, 0x40200000, 0x8000000000, 0x7ffffffff000, 0x800000000000,
	0x7fffffe00000, 0xffffffffffffffffULL,
	/* only as raw escapes */
	0x3ff000, 0x202000, 0x600000, 0x7ffffffe0000, 0x7fffc0000000,
	0x8000200000, 0x7fffffffe000, 0x800000001000, 0xfffffffffffff000ULL,
	0x123000, 0x1001, 0x200800,
};

/* The bytes @with_text encodes to past those of @base_text (a pseudo-op
 * the text adds at the end). */
static void mt_entry(const char *name, const char *base_text, const char *with_text)
{
	static struct vmt_prog p;
	uint8_t a[256], b[256];
	char err[128];
	int line;
	long na, nb;

	if (vmt_parse(base_text, &p, &line, err, sizeof(err)) ||
	    (na = vmt_encode(&p, a, sizeof(a))) < 0 ||
	    vmt_parse(with_text, &p, &line, err, sizeof(err)) ||
	    (nb = vmt_encode(&p, b, sizeof(b))) <= na || memcmp(a, b, (size_t)na)) {
		fprintf(stderr, "gen_dict: cannot encode the pseudo-op of '%s'\n", with_text);
		exit(1);
	}
	printf("# %s\n", name);
	entry(name, b + na, nb - na);
}

int main(void)
{
	printf("# fuzz/vmt.dict - generated by fuzz/gen_dict.c (make fuzz-dict); do not edit.\n");
	printf("# Byte strings as tools/op's binary decoder reads them.\n\n");
	printf("# opcode bytes\n");
	for (unsigned c = 0; c < VMT_OP__COUNT; c++) {
		struct vmt_prog p = { .n = 1 };
		uint8_t b[64];

		memset(&p.ops[0], 0, sizeof(p.ops[0]));
		p.ops[0].code = (uint8_t)c;
		if (c == VMT_OP_PROTECT_NEXT)
			p.ops[0].pcache = VMT_CACHE_KEEP;
		if (c == VMT_OP_FRAME_ALLOC)
			p.ops[0].arg = 1;
		if (c == VMT_OP_FAIL)
			p.ops[0].a = 1;
		if (vmt_encode(&p, b, sizeof(b)) < 1) {
			fprintf(stderr, "gen_dict: cannot encode opcode %u\n", c);
			return 1;
		}
		printf("# %s\n", vmt_op_name(c));
		entry("opcode", b, 1);
	}
	printf("\n# whole ops\n");
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
		op_entry(ops[i]);
	printf("\n# address operands\n");
	for (size_t i = 0; i < sizeof(addrs) / sizeof(addrs[0]); i++)
		addr_entry(addrs[i]);
	printf("\n# multi-thread pseudo-ops\n");
	mt_entry("thread", "thread 0:\nquiesce\n", "thread 0:\nquiesce\nthread 1:\n");
	{
		static const unsigned nth[] = { 1, 4, 9, 16, 29, 48, 100 };
		static const unsigned tu[][2] = { { 0, 1 }, { 1, 0 }, { 0, 2 }, { 1, 2 } };
		const char *base = "thread 0:\nquiesce\nthread 1:\nquiesce\n";
		char with[256];

		for (size_t i = 0; i < sizeof(nth) / sizeof(nth[0]); i++)
			for (size_t j = 0; j < sizeof(tu) / sizeof(tu[0]); j++) {
				snprintf(with, sizeof(with), "%sschedule v%u:\nafter thread %u decision %u run thread %u\n",
					 base, VMT_SCHED_VERSION, tu[j][0], nth[i], tu[j][1]);
				mt_entry("preempt", base, with);
			}
		/* One more preemption after the first (without the header). */
		for (size_t i = 0; i < sizeof(nth) / sizeof(nth[0]); i++) {
			char one[256];

			snprintf(one, sizeof(one), "%sschedule v%u:\nafter thread 0 decision 1 run thread 1\n",
				 base, VMT_SCHED_VERSION);
			snprintf(with, sizeof(with), "%safter thread 1 decision %u run thread 0\n", one, nth[i]);
			mt_entry("preempt_more", one, with);
		}
	}
	return 0;
}
