/* SPDX-License-Identifier: MIT */
/*
 * opts.c - the options of `vmtorture stress`: the usage text, the
 * defaults, and parsing into struct stress_opts (stress.h), with a
 * message naming the option for every bad value.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "stress.h"

static const char usage_text[] =
	"usage: vmtorture stress [options]\n"
	"  --threads N       cursor worker threads (default: 2 x online CPUs)\n"
	"  --accessors N     lock-free reader/writer threads (default 2)\n"
	"  --seconds S       run time (default 10)\n"
	"  --seed X          PRNG seed (default: from the clock; printed first)\n"
	"  --hot BYTES       size of the shared VA region cursor ranges come from\n"
	"                    (k/m/g suffixes; default 16m: small = heavy overlap)\n"
	"  --mix K=W,...     op weights, keys: query find_next jump map unmap protect\n"
	"                    alloc get put (kept with probability W/max) and ro mut\n"
	"                    (cursor kind odds), huge (level-2 allocations that stay\n"
	"                    2 MiB, out of 8); default ro=1,mut=3,huge=1, others 1\n"
	"  --round-ms MS     time between round barriers (default 100)\n"
	"  --watchdog S      report a deadlock after S seconds without progress (default 5)\n"
	"  --oracles LIST    comma list of mutex,serial,quiesce,grace,access,watchdog\n"
	"                    (default: all)\n"
	"  --out DIR         where failing sessions are saved (default stress-out)\n"
	"  --stop-after N    stop after N violations (default 1)\n"
	"  --noise N         per mille of the core's scheduling points where a thread\n"
	"                    yields or spins, to widen race windows (default 10)\n"
	"  --reclaim US      a reclaimer thread releases deferred frames about every US\n"
	"                    microseconds while the round runs, so grace periods end\n"
	"                    during reads (default 1000; 0: only at round barriers)\n"
	"  --spaces US       a thread creates a space, maps pages in it and destroys it\n"
	"                    again, a step about every US microseconds while the round\n"
	"                    runs, and checks the pool's count of spaces (default 2000;\n"
	"                    0: off)\n"
	"  --read-hold US    the even-numbered accessors linger inside their read-side\n"
	"                    section before three in four copies of a hot read: spin,\n"
	"                    yield, or sleep up to US microseconds (default 5000; 0: never)\n"
	"  --prog-bytes N    random bytes per decoded program, at most (default 256)\n"
	"  --retire-batch N  the pool's retire batch (vms_pool_set_retire_batch): 1\n"
	"                    hands every release to the reclaimer at once, so it\n"
	"                    frees frames under the readers (default 1)\n"
	"  --faults RATE     every allocation of the core in every thread fails with\n"
	"                    chance RATE (0..1, default 0): the model is told which ops\n"
	"                    failed on purpose, and -ENOMEM must change nothing\n"
	"  --json            one JSON summary line on stdout\n"
	"  --quiet           no progress line even on a terminal\n"
	"Exit status: 0 every check passed, 1 a violation, 2 bad usage.\n";

static bool parse_u64(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s)
		return false;
	switch (*end) {
	case 'k':
	case 'K':
		v <<= 10;
		end++;
		break;
	case 'm':
	case 'M':
		v <<= 20;
		end++;
		break;
	case 'g':
	case 'G':
		v <<= 30;
		end++;
		break;
	default:
		break;
	}
	if (*end)
		return false;
	*out = v;
	return true;
}

static int bad_usage(const char *fmt, const char *arg)
{
	fprintf(stderr, "vmtorture stress: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, " (see --help)\n");
	return 2;
}

static int parse_mix(struct stress_opts *o, const char *s)
{
	char buf[512], *save, *tok;

	snprintf(buf, sizeof(buf), "%s", s);
	for (tok = strtok_r(buf, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(tok, '=');
		uint64_t v;
		int k;

		if (!eq || !parse_u64(eq + 1, &v) || v > 1000)
			return bad_usage("bad --mix entry '%s'", tok);
		*eq = 0;
		for (k = 0; k < MIX__COUNT && strcmp(vmts_mix_name(k), tok);
		     k++)
			;
		if (k == MIX__COUNT)
			return bad_usage("unknown --mix key '%s'", tok);
		o->mix[k] = (unsigned)v;
	}
	return 0;
}

static int parse_oracles(struct stress_opts *o, const char *s)
{
	char buf[256], *save, *tok;

	o->oracles = 1u << ORA_CRASH;
	snprintf(buf, sizeof(buf), "%s", s);
	for (tok = strtok_r(buf, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		int k;

		if (!strcmp(tok, "all")) {
			o->oracles = ~0u;
			continue;
		}
		for (k = 0; k < ORA_CRASH && strcmp(vmts_oracle_name(k), tok);
		     k++)
			;
		if (k == ORA_CRASH)
			return bad_usage("unknown oracle '%s'", tok);
		o->oracles |= 1u << k;
	}
	return 0;
}

static void set_defaults(struct stress_opts *o)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);

	memset(o, 0, sizeof(*o));
	o->threads = (unsigned)(cpus > 0 ? 2 * cpus : 4);
	o->accessors = 2;
	o->seconds = 10;
	o->round_ms = 100;
	o->watchdog_s = 5;
	o->hot = 16 << 20;
	o->oracles = ~0u;
	o->outdir = "stress-out";
	o->stop_after = 1;
	o->noise = 10;
	o->retire_batch = 1;
	o->reclaim_us = 1000;
	o->spaces_us = 2000;
	o->read_hold_us = 5000;
	o->max_prog_bytes = 256;
	o->pool_bytes = 1ULL << 30;
	for (int i = 0; i < MIX__COUNT; i++)
		o->mix[i] = 1;
	o->mix[MIX_MUT] = 3;
}

/* What runs and what is checked: threads, time, seed, the hot region, the
 * op mix, the oracles, where failures go. 0 or 2 (bad usage); -1: @c is
 * not one of these. */
static int parse_run_opt(struct stress_opts *o, int c, bool *seeded)
{
	uint64_t v;

	switch (c) {
	case 't':
		if (!parse_u64(optarg, &v) || !v || v > MAX_THREADS / 2)
			return bad_usage("--threads must be 1..32, got '%s'",
					 optarg);
		o->threads = (unsigned)v;
		break;
	case 'a':
		if (!parse_u64(optarg, &v) || v > MAX_THREADS / 2)
			return bad_usage("--accessors must be 0..32, got '%s'",
					 optarg);
		o->accessors = (unsigned)v;
		break;
	case 's':
		o->seconds = strtod(optarg, NULL);
		if (!(o->seconds > 0) || o->seconds > 1e7)
			return bad_usage("bad --seconds '%s'", optarg);
		break;
	case 'S':
		if (!parse_u64(optarg, &o->seed))
			return bad_usage("bad --seed '%s'", optarg);
		*seeded = true;
		break;
	case 'H':
		if (!parse_u64(optarg, &v) || v < VMS_PAGE_SIZE ||
		    v > (1ULL << 40) || v % VMS_PAGE_SIZE)
			return bad_usage(
				"--hot must be a multiple of 4096 in [4k, 1t], got '%s'",
				optarg);
		o->hot = v;
		break;
	case 'm':
		if (parse_mix(o, optarg))
			return 2;
		break;
	case 'r':
		o->round_ms = strtod(optarg, NULL);
		if (!(o->round_ms >= 1) || o->round_ms > 1e6)
			return bad_usage("bad --round-ms '%s'", optarg);
		break;
	case 'w':
		o->watchdog_s = strtod(optarg, NULL);
		if (!(o->watchdog_s > 0))
			return bad_usage("bad --watchdog '%s'", optarg);
		break;
	case 'O':
		if (parse_oracles(o, optarg))
			return 2;
		break;
	case 'o':
		o->outdir = optarg;
		break;
	case 'x':
		if (!parse_u64(optarg, &v) || !v)
			return bad_usage("bad --stop-after '%s'", optarg);
		o->stop_after = (unsigned)v;
		break;
	case 'j':
		o->json = true;
		break;
	case 'q':
		o->quiet = true;
		break;
	default:
		return -1;
	}
	return 0;
}

/* How hard the run presses on the core: program size, scheduling noise,
 * the retire batch, the reclaimer and spaces threads, read holds, faults.
 * 0 or 2 (bad usage); -1: @c is not one of these. */
static int parse_pressure_opt(struct stress_opts *o, int c)
{
	uint64_t v;

	switch (c) {
	case 'p':
		if (!parse_u64(optarg, &v) || v < 8 || v > 4096)
			return bad_usage(
				"--prog-bytes must be 8..4096, got '%s'",
				optarg);
		o->max_prog_bytes = (unsigned)v;
		break;
	case 'n':
		if (!parse_u64(optarg, &v) || v > 1000)
			return bad_usage(
				"--noise must be 0..1000 (per mille), got '%s'",
				optarg);
		o->noise = (unsigned)v;
		break;
	case 'b':
		if (!parse_u64(optarg, &v) || !v || v > VMS_RETIRE_BATCH_MAX)
			return bad_usage(
				"--retire-batch must be 1..65536, got '%s'",
				optarg);
		o->retire_batch = (unsigned)v;
		break;
	case 'P':
		if (!parse_u64(optarg, &v) || v > 1000000)
			return bad_usage(
				"--spaces must be 0..1000000 (us), got '%s'",
				optarg);
		o->spaces_us = (unsigned)v;
		break;
	case 'R':
		if (!parse_u64(optarg, &v) || v > 1000000)
			return bad_usage(
				"--reclaim must be 0..1000000 (us), got '%s'",
				optarg);
		o->reclaim_us = (unsigned)v;
		break;
	case 'k':
		if (!parse_u64(optarg, &v) || v > 1000000)
			return bad_usage(
				"--read-hold must be 0..1000000 (us), got '%s'",
				optarg);
		o->read_hold_us = (unsigned)v;
		break;
	case 'F': {
		char *end;

		o->faults = strtod(optarg, &end);
		if (*end || !(o->faults >= 0) || o->faults > 1)
			return bad_usage(
				"--faults must be a chance in [0, 1], got '%s'",
				optarg);
		o->fault_rate = o->faults >= 1 ?
					UINT32_MAX :
					(uint32_t)(o->faults * 4294967296.0);
		break;
	}
	default:
		return -1;
	}
	return 0;
}

/* Checks across options, and what is left to pick: the seed (from the
 * clock), the progress line (on a terminal only). */
static int finish_opts(struct stress_opts *o, bool seeded)
{
	unsigned any = 0;

	for (int i = 0; i < MIX_RO; i++)
		any |= o->mix[i];
	if (!any)
		return bad_usage("%s", "--mix leaves no op with a weight");
	if (!seeded) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		o->seed = (uint64_t)ts.tv_sec * 1000000007ULL ^
			  (uint64_t)ts.tv_nsec ^ ((uint64_t)getpid() << 32);
	}
	o->progress = !o->quiet && !o->json && isatty(2);
	return 0;
}

int vmts_parse_opts(struct stress_opts *o, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "threads", 1, 0, 't' },    { "accessors", 1, 0, 'a' },
		{ "seconds", 1, 0, 's' },    { "seed", 1, 0, 'S' },
		{ "hot", 1, 0, 'H' },	     { "mix", 1, 0, 'm' },
		{ "round-ms", 1, 0, 'r' },   { "watchdog", 1, 0, 'w' },
		{ "oracles", 1, 0, 'O' },    { "out", 1, 0, 'o' },
		{ "stop-after", 1, 0, 'x' }, { "prog-bytes", 1, 0, 'p' },
		{ "noise", 1, 0, 'n' },	     { "retire-batch", 1, 0, 'b' },
		{ "reclaim", 1, 0, 'R' },    { "read-hold", 1, 0, 'k' },
		{ "spaces", 1, 0, 'P' },     { "faults", 1, 0, 'F' },
		{ "json", 0, 0, 'j' },	     { "quiet", 0, 0, 'q' },
		{ "help", 0, 0, 'h' },	     { 0, 0, 0, 0 },
	};
	bool seeded = false;
	int c, ret;

	set_defaults(o);
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		if (c == 'h') {
			fputs(usage_text, stdout);
			return 1;
		}
		ret = parse_run_opt(o, c, &seeded);
		if (ret < 0)
			ret = parse_pressure_opt(o, c);
		if (ret < 0)
			return bad_usage("unknown or incomplete option '%s'",
					 argv[optind - 1]);
		if (ret)
			return ret;
	}
	if (optind < argc)
		return bad_usage("unexpected argument '%s'", argv[optind]);
	return finish_opts(o, seeded);
}
