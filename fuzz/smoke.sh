#!/usr/bin/env bash
# fuzz/smoke.sh - make fuzz-smoke: the seeds replay clean, then a short run
# of each engine from the seed corpus (SMOKE_SECONDS each, default 20).
# Fails if a seed diverges, if either engine finds a crash or divergence,
# if an engine does not start (exits early or executes nothing), or if an
# input's result depends on the input run before it (tools/op/test_reuse.sh).
# Output: build/fuzz-out/smoke/<UTC date-time>/.
set -uo pipefail
. fuzz/lib.sh

secs=${SMOKE_SECONDS:-20}
VMT_CLI=${VMT_CLI:-build/vmtorture}
fail=0
bad() { echo "fuzz-smoke: FAIL: $*" >&2; fail=1; }

run=$(fresh_dir "$FZ_OUT/smoke") || exit 1
ls "$SEQ_OUT"/* >/dev/null 2>&1 || { echo "fuzz-smoke: no seeds in $SEQ_OUT" >&2; exit 1; }

# 1. The seeds are known-good programs: any finding here is a regression.
if ! "$FZ/vmt-replay" -q "$SEQ_OUT" 2> "$run/replay.log"; then
	bad "seed replay (see $run/replay.log)"
	grep -E '^(DIVERGENCE|SETUP)|vmt-replay:' "$run/replay.log" | head -20 >&2
fi

# 2. libFuzzer, ASan + UBSan. New inputs go to a scratch corpus.
mkdir -p "$run/lf-corpus"
mapfile -t flags < <(libfuzzer_flags)
ASAN_OPTIONS=$(san_options asan) UBSAN_OPTIONS=$(san_options ubsan) \
"$FZ/vmt-libfuzzer" "${flags[@]}" -max_total_time="$secs" -artifact_prefix="$run/lf-" \
	"$run/lf-corpus" "$SEQ_OUT" > "$run/libfuzzer.log" 2>&1
rc=$?
lf_execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$run/libfuzzer.log")
lf_rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$run/libfuzzer.log")
if compgen -G "$run/lf-*-*" >/dev/null; then
	bad "libFuzzer found something:"
	ls "$run"/lf-* >&2
	grep -m3 -E '^DIVERGENCE|^SETUP|ERROR: ' "$run/libfuzzer.log" >&2
elif [ $rc -ne 0 ]; then
	bad "libFuzzer exited with $rc (see $run/libfuzzer.log)"
	tail -5 "$run/libfuzzer.log" >&2
elif [ -z "$lf_execs" ] || [ "$lf_execs" -le 0 ]; then
	bad "libFuzzer executed nothing (see $run/libfuzzer.log)"
else
	echo "fuzz-smoke: libFuzzer ok: $lf_execs execs, $lf_rate exec/s" >&2
fi

# 3. AFL++ persistent mode, one instance.
afl_env
AFL_BENCH_UNTIL_CRASH=1 afl-fuzz -i "$SEQ_OUT" -o "$run/afl" -x fuzz/vmt.dict -t "$AFL_TIMEOUT" -V "$secs" \
	-M main -- "$FZ/vmt-afl" > "$run/afl.log" 2>&1
rc=$?
s=$run/afl/main/fuzzer_stats
execs=$(afl_stat "$s" execs_done)
crashes=$(afl_stat "$s" saved_crashes)
hangs=$(afl_stat "$s" saved_hangs)
if [ ! -f "$s" ] || [ -z "$execs" ] || [ "$execs" -le 0 ]; then
	bad "AFL++ did not start (exit $rc, see $run/afl.log)"
	grep -m5 -E 'PROGRAM ABORT|Location|ERROR' "$run/afl.log" >&2
elif [ "${crashes:-0}" -gt 0 ]; then
	bad "AFL++ found $crashes crash(es) in $run/afl/main/crashes/"
	for c in "$run"/afl/main/crashes/id:*; do
		"$FZ/vmt-replay" -q "$c" 2>&1 | grep -m1 -E '^DIVERGENCE|^SETUP' >&2
	done
elif [ $rc -ne 0 ]; then
	bad "afl-fuzz exited with $rc (see $run/afl.log)"
else
	echo "fuzz-smoke: AFL++ ok: $execs execs, $(afl_stat "$s" execs_per_sec) exec/s, stability $(afl_stat "$s" stability)" >&2
	[ "${hangs:-0}" -gt 0 ] && echo "fuzz-smoke: warning: $hangs hang(s) in $run/afl/main/hangs/" >&2
fi

# 4. What the engines made from the seeds, run after one another in one
# process and each alone: the pool and model kept between inputs must not
# change any result.
if ! bash tools/op/test_reuse.sh "$VMT_CLI" "$SEQ_OUT" "$run/lf-corpus" "$run/afl/main/queue" \
	2> "$run/reuse.log"; then
	bad "results depend on the input run before (see $run/reuse.log)"
	head -20 "$run/reuse.log" >&2
else
	cat "$run/reuse.log" >&2
fi

# 5. The multi-thread target: the shipped scenarios replay clean, and its
# interleaving feedback reaches AFL++'s map (more tuples with it than
# without it on each scenario: a context switch is a feature).
MT_OUT=${MT_OUT:-build/corpora/mt}
if ! "$FZ/vmt-mt-replay" -q "$MT_OUT" 2> "$run/mt-replay.log"; then
	bad "multi-thread seed replay (see $run/mt-replay.log)"
	grep -E '^(MT FINDING|SETUP)|vmt-replay:' "$run/mt-replay.log" | head -20 >&2
fi
for f in "$MT_OUT"/*; do
	for fb in 1 0; do
		VMT_SCHED_FEEDBACK=$fb afl-showmap -q -o "$run/mt-map$fb" -- "$FZ/vmt-mt-afl" < "$f" > /dev/null 2>&1
	done
	n1=$(wc -l < "$run/mt-map1" 2>/dev/null || echo 0) n0=$(wc -l < "$run/mt-map0" 2>/dev/null || echo 0)
	[ "$n1" -gt "$n0" ] || bad "interleaving feedback: ${f##*/} has $n1 tuples with it, $n0 without"
done
[ $fail -eq 0 ] && echo "fuzz-smoke: multi-thread target ok: scenarios replay clean, feedback adds tuples" >&2

# 6. The structure-aware mutator in AFL++ on the multi-thread target, as
# the campaign's sched engine runs it: afl-fuzz loads the library, and
# its edits (named in the queue files by afl_custom_describe) keep
# inputs (havoc off, AFL_CUSTOM_MUTATOR_ONLY: the library edits bytes too).
afl_env
AFL_CUSTOM_MUTATOR_LIBRARY="$PWD/$FZ/vmt-mutator.so" AFL_CUSTOM_MUTATOR_ONLY=1 afl-fuzz -i "$MT_OUT" -o "$run/afl-mt" -x fuzz/vmt.dict \
	-t "$AFL_TIMEOUT" -V 8 -M main -- "$FZ/vmt-mt-afl" > "$run/afl-mt.log" 2>&1
edits=$(find "$run/afl-mt/main/queue" -maxdepth 1 -type f 2>/dev/null | grep -cE ',(preempt|op-thread|operand|fault)-?[a-z]*(,|$)')
if ! grep -q "Custom mutator '.*vmt-mutator.so' installed" "$run/afl-mt.log"; then
	bad "AFL++ did not load $FZ/vmt-mutator.so (see $run/afl-mt.log)"
elif [ "$edits" -le 0 ]; then
	bad "AFL++ kept no input of the structure-aware mutator's (see $run/afl-mt/main/queue)"
else
	echo "fuzz-smoke: structure-aware mutator ok: AFL++ loaded it, $edits queue entries from its edits" >&2
fi

[ $fail -eq 0 ] && echo "fuzz-smoke: PASS ($run)" >&2
exit $fail
