#!/usr/bin/env bash
# fuzz/bench.sh - make bench-fuzz: exec/s of the fuzz target in each engine
# build beside the empty target (fuzz/empty_target.c) built with the same
# flags, from the same inputs, in one run; then where the target's CPU
# time goes (perf: kernel, core, model, executor).
#
#   BENCH_FUZZ_SECONDS  length of one engine run (default 20)
#   BENCH_FUZZ_RUNS     runs per (engine, target) pair, interleaved (default 3)
#
# Engines start from the shipped seeds and fuzz on their own mutations
# (AFL++ persistent mode, plain -O2: vmt-afl; libFuzzer with ASan and
# UBSan: vmt-libfuzzer). The replay build runs the seeds plus what the
# first libFuzzer run of the target added to them. Each figure is the
# median over the runs of the engine's own exec/s (wall clock), and of
# executions per CPU second of the engine's whole process tree (what one
# core would run on an idle machine: the machine may be shared). Raw
# figures: $out/results.tsv.
#
# The multi-thread target (fuzz/target_mt.c) gets the same three rows
# beside the sequential one (BENCH_FUZZ_MT=0 leaves them out): vmt-mt-afl
# with the structure-aware mutator loaded (as the campaign's sched engine
# runs it), vmt-mt-libfuzzer (mutator linked in), vmt-mt-replay, all from
# the multi-thread scenarios (build/corpora/mt), in the same runs.
set -uo pipefail
. fuzz/lib.sh

secs=${BENCH_FUZZ_SECONDS:-20}
runs=${BENCH_FUZZ_RUNS:-3}
out=$(fresh_dir "$FZ_OUT/bench") || exit 1
res=$out/results.tsv
MT_OUT=${MT_OUT:-build/corpora/mt}
MUTATOR=${MUTATOR:-$FZ/vmt-mutator.so}
mt=${BENCH_FUZZ_MT:-1}
[ "$mt" = 0 ] && mt=
ls "$SEQ_OUT"/* >/dev/null 2>&1 || die "no seeds in $SEQ_OUT"
for b in vmt-afl empty-afl vmt-libfuzzer empty-libfuzzer vmt-replay empty-replay \
	${mt:+vmt-mt-afl vmt-mt-libfuzzer vmt-mt-replay}; do
	[ -x "$FZ/$b" ] || die "$FZ/$b not built"
done
[ -z "$mt" ] || [ -f "$MUTATOR" ] || die "$MUTATOR not built"
[ -z "$mt" ] || ls "$MT_OUT"/* >/dev/null 2>&1 || die "no multi-thread seeds in $MT_OUT"
seeds_of() { case $1 in vmt-mt-*) echo "$MT_OUT" ;; *) echo "$SEQ_OUT" ;; esac; }
command -v perf >/dev/null || echo "bench-fuzz: perf not found, no profile" >&2
printf 'engine\ttarget\trun\texec_per_s\texecs\tcpu_s\texecs_per_cpu_s\tnote\n' > "$res"

# CPU seconds (user + system, children included) of a command, to $1.
timed() {
	local f=$1 TIMEFORMAT='%U %S'
	shift
	{ time "$@" >/dev/null 2>&1; } 2> "$f"
}
cpu_s() { awk '{ printf "%.2f", $1 + $2 }' "$1"; }
record() {	# engine target run rate execs cpu note
	awk -v e="$1" -v t="$2" -v r="$3" -v x="$4" -v n="$5" -v c="$6" -v note="$7" \
		'BEGIN { per = 0; if (c > 0) per = n / c
			printf "%s\t%s\t%s\t%.0f\t%d\t%.2f\t%.0f\t%s\n", e, t, r, x, n, c, per, note }' >> "$res"
}

afl_run() {	# binary name, run
	local d=$out/afl-$1-$2 lib=
	afl_env
	case $1 in vmt-mt-*) lib=$MUTATOR ;; esac
	# shellcheck disable=SC2086
	timed "$d.cpu" env ${lib:+AFL_CUSTOM_MUTATOR_LIBRARY=$lib AFL_CUSTOM_MUTATOR_ONLY=1} afl-fuzz -i "$(seeds_of "$1")" -o "$d" -x fuzz/vmt.dict -t "$AFL_TIMEOUT" \
		-V "$secs" -- "$FZ/$1"
	local s=$d/default/fuzzer_stats
	record afl "$1" "$2" "$(afl_stat "$s" execs_per_sec)" "$(afl_stat "$s" execs_done)" \
		"$(cpu_s "$d.cpu")" "stability=$(afl_stat "$s" stability)"
}

lf_run() {	# binary name, run
	local d=$out/lf-$1-$2 flags
	mkdir -p "$d/corpus"
	cp "$(seeds_of "$1")"/* "$d/corpus/"
	mapfile -t flags < <(libfuzzer_flags)
	# The sanitizers' options of every libFuzzer run (not afl_env's,
	# which an AFL++ run before this one exported).
	timed "$d.cpu" env ASAN_OPTIONS="$(san_options asan)" UBSAN_OPTIONS="$(san_options ubsan)" \
		sh -c '"$@" > "$0" 2>&1' "$d/log" "$FZ/$1" "${flags[@]}" \
		-max_total_time="$secs" -artifact_prefix="$d/" "$d/corpus"
	record libfuzzer "$1" "$2" "$(sed -n 's/^stat::average_exec_per_sec: *//p' "$d/log")" \
		"$(sed -n 's/^stat::number_of_executed_units: *//p' "$d/log")" "$(cpu_s "$d.cpu")" \
		"corpus=$(ls "$d/corpus" | wc -l)"
}

# Passes over the inputs: about 20000 executions.
replay_run() {	# binary name, run
	local d=$out/replay-$1-$2 passes n args=() in=$out/inputs
	case $1 in vmt-mt-*) in=$out/inputs-mt ;; esac
	n=$(ls "$in" | wc -l)
	passes=$(( (20000 + n - 1) / n ))
	for ((i = 0; i < passes; i++)); do args+=("$in"); done
	local t0 t1
	t0=$(date +%s.%N)
	timed "$d.cpu" "$FZ/$1" -q "${args[@]}"
	t1=$(date +%s.%N)
	record replay "$1" "$2" "$(awk -v n=$((n * passes)) -v a="$t0" -v b="$t1" 'BEGIN { print n / (b - a) }')" \
		$((n * passes)) "$(cpu_s "$d.cpu")" "inputs=$n"
}

echo "bench-fuzz: $runs x ${secs}s per engine and target, results in $out" >&2
echo "bench-fuzz: load before: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
for r in $(seq 1 "$runs"); do
	# Alternate which goes first, so a change of load hits both alike.
	if [ $((r % 2)) -eq 1 ]; then pair=(vmt empty); else pair=(empty vmt); fi
	[ -n "$mt" ] && pair+=(vmt-mt)
	for t in "${pair[@]}"; do afl_run "$t-afl" "$r"; done
	for t in "${pair[@]}"; do lf_run "$t-libfuzzer" "$r"; done
	if [ "$r" -eq 1 ]; then
		mkdir -p "$out/inputs"
		cp "$out/lf-vmt-libfuzzer-1/corpus"/* "$out/inputs/"	# seeds included
		if [ -n "$mt" ]; then
			mkdir -p "$out/inputs-mt"
			cp "$out/lf-vmt-mt-libfuzzer-1/corpus"/* "$out/inputs-mt/"
		fi
	fi
	for t in "${pair[@]}"; do replay_run "$t-replay" "$r"; done
done
echo "bench-fuzz: load after: $(cut -d' ' -f1-3 /proc/loadavg)" >&2

# Medians per (engine, target), then target/empty.
median() {	# engine target column
	awk -F'\t' -v e="$1" -v t="$2" -v c="$3" '$1 == e && $2 == t { print $c }' "$res" | sort -g |
		awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else if (NR) print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
# One row per engine: exec/s and executions per CPU second of binary A
# beside binary B, and A/B. ratio_table NAME_A NAME_B FMT_A FMT_B, where
# FMT is the binary's name with %s for the engine (vmt-%s, empty-%s).
ratio_table() {
	local na=$1 nb=$2 fa=$3 fb=$4 e ba bb xa xb ca cb
	printf '%-10s %14s %14s %12s %16s %16s %12s\n' engine "$na exec/s" "$nb exec/s" "$na/$nb" \
		"$na /cpu-s" "$nb /cpu-s" "$na/$nb"
	for e in afl libfuzzer replay; do
		# shellcheck disable=SC2059 # the format is the caller's pattern
		printf -v ba "$fa" $e
		# shellcheck disable=SC2059
		printf -v bb "$fb" $e
		xa=$(median $e "$ba" 4); xb=$(median $e "$bb" 4)
		ca=$(median $e "$ba" 7); cb=$(median $e "$bb" 7)
		[ -n "$xa" ] && [ -n "$xb" ] || continue
		awk -v e=$e -v xa="$xa" -v xb="$xb" -v ca="$ca" -v cb="$cb" 'BEGIN {
			rx = 0; rc = 0
			if (xb > 0) rx = xa / xb
			if (cb > 0) rc = ca / cb
			printf "%-10s %14.0f %14.0f %12.3f %16.0f %16.0f %12.3f\n", e, xa, xb, rx, ca, cb, rc }'
	done
}
ratio_table target empty vmt-%s empty-%s | tee "$out/summary.txt"
# The multi-thread target beside the sequential one, same engines, same runs.
[ -n "$mt" ] && ratio_table mt seq vmt-mt-%s vmt-%s | tee -a "$out/summary.txt"
grep -h stability "$res" | awk -F'\t' '$2 == "vmt-afl" { print "bench-fuzz: vmt-afl run " $3 ": " $8 }' >&2

# A perf profile's samples of one binary's processes, split by where the
# code lives: the kernel (by what entered it), core/, model/, tools/op/ +
# fuzz/ (the executor), and the rest (libc, liburcu); AFL++'s fork server
# and its per-input stop apart (fuzz/profile-split.awk says how).
split_profile() {	# perf.data binary label
	local syms=$out/symbols-${2##*/}.tsv
	nm -l --defined-only "$2" 2>/dev/null | awk -F'\t' 'NF == 2 {
		split($1, a, " ")
		c = "other"
		if ($2 ~ /\/core\//) c = "core"
		else if ($2 ~ /\/model\//) c = "model"
		else if ($2 ~ /\/tools\/op\// || $2 ~ /\/fuzz\//) c = "executor"
		print a[3] "\t" c }' > "$syms"
	perf script -i "$1" -F comm,pid,ip,sym,dso 2>/dev/null |
		awk -v comm="${2##*/}" -v syms="$syms" -v label="$3" -f fuzz/profile-split.awk |
		tee -a "$out/summary.txt"
}

# Profiles: the replay build running the same inputs, each read once and
# run 20 times (execution only, no file I/O); then the AFL++ target
# processes in a run of their own (perf follows afl-fuzz's children).
if command -v perf >/dev/null; then
	perf record -q -g -e cpu-clock -F 5000 -o "$out/perf-replay.data" -- \
		"$FZ/vmt-replay" -q -r 20 "$out/inputs" >/dev/null 2>&1
	split_profile "$out/perf-replay.data" "$FZ/vmt-replay" "vmt-replay -r 20"
	afl_env
	perf record -q -g -e cpu-clock -F 5000 -o "$out/perf-afl.data" -- afl-fuzz -i "$SEQ_OUT" \
		-o "$out/afl-perf" -x fuzz/vmt.dict -t "$AFL_TIMEOUT" -V "$secs" -- "$FZ/vmt-afl" \
		>/dev/null 2>&1
	split_profile "$out/perf-afl.data" "$FZ/vmt-afl" "vmt-afl under afl-fuzz"
fi
echo "bench-fuzz: done ($out)" >&2
