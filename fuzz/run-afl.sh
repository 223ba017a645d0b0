#!/usr/bin/env bash
# fuzz/run-afl.sh - AFL++ campaign (make fuzz-afl).
#
# Every run gets its own output directory build/fuzz-out/afl/<UTC
# date-time>/ (afl-fuzz would otherwise delete or rename an old one); its
# input is the seed corpus plus the afl-cmin'ed queues of the previous run
# (which started from everything before it), so runs build on each other
# without touching each other's files.
#
# FUZZ_JOBS instances (default 2, one per core of this machine):
#   1: -M main    build/fuzz/vmt-afl         (persistent, shared memory)
#   2: -S cmplog  build/fuzz/vmt-afl-cmplog -c 0   (Debian's 4.04c cannot run
#                 a separate -c binary; the instrumented target itself can)
#   3: -S asan    build/fuzz/vmt-afl-asan    (ASan + UBSan)
#   4+: -S secN   build/fuzz/vmt-afl
# SECONDS_LIMIT=N stops every instance after N seconds, else until ^C.
# Extra afl-fuzz flags: AFL_FLAGS="...".
set -euo pipefail
. fuzz/lib.sh

jobs=${FUZZ_JOBS:-2}
[[ $jobs =~ ^[1-9][0-9]*$ ]] || die "FUZZ_JOBS must be a positive number (got '$jobs')"
for b in vmt-afl vmt-afl-cmplog vmt-afl-asan; do
	[ -x "$FZ/$b" ] || die "$FZ/$b not built (make $FZ/$b)"
done
ls "$SEQ_OUT"/* >/dev/null 2>&1 || die "no seeds in $SEQ_OUT (make seeds)"

# The newest earlier run that got going (its queues hold its whole input,
# i.e. everything before it, plus what it found).
prev=
for d in $(ls -d "$FZ_OUT"/afl/2*/ 2>/dev/null | sort -r); do
	compgen -G "$d/main/queue/id:*" >/dev/null && { prev=${d%/}; break; }
done
run=$(fresh_dir "$FZ_OUT/afl")
afl_env
n=0
if [ -n "$prev" ]; then
	mkdir -p "$run/pool"
	# main imports the other instances' finds, so its queue is enough.
	for q in "$prev"/main/queue/id:*; do
		[ -f "$q" ] && cp "$q" "$run/pool/prev-$((n++))"
	done
fi
if [ "$n" -gt 0 ]; then
	# Earlier finds, minimised to the ones that add coverage: the dry run
	# of every instance executes each input, so a growing pile would make
	# each campaign start slower than the last.
	if afl-cmin -i "$run/pool" -o "$run/in" -t 5000 -- "$FZ/vmt-afl" > "$run/cmin.log" 2>&1; then
		echo "fuzz-afl: $n inputs from $prev minimised to $(ls "$run/in" | wc -l)" >&2
	else
		echo "fuzz-afl: afl-cmin failed (see $run/cmin.log); starting from the seeds only" >&2
		rm -rf "$run/in"
	fi
	rm -rf "$run/pool"
fi
mkdir -p "$run/in"
cp "$SEQ_OUT"/* "$run/in/"
echo "fuzz-afl: $jobs instance(s), input $run/in ($(ls "$run/in" | wc -l) files), output $run/" >&2

common=(-i "$run/in" -o "$run" -x fuzz/vmt.dict -t "$AFL_TIMEOUT")
[ -n "${SECONDS_LIMIT:-}" ] && common+=(-V "$SECONDS_LIMIT")
# shellcheck disable=SC2206
extra=(${AFL_FLAGS:-})

pids=()
stop() {
	trap - INT TERM
	for p in "${pids[@]}"; do kill -INT "$p" 2>/dev/null || true; done
}
trap stop INT TERM

for ((i = 1; i <= jobs; i++)); do
	case $i in
	1) args=(-M main -- "$FZ/vmt-afl"); name=main ;;
	2) args=(-S cmplog -c 0 -- "$FZ/vmt-afl-cmplog"); name=cmplog ;;
	3) args=(-S asan -- "$FZ/vmt-afl-asan"); name=asan ;;
	*) args=(-S "sec$i" -- "$FZ/vmt-afl"); name=sec$i ;;
	esac
	afl-fuzz "${common[@]}" "${extra[@]}" "${args[@]}" > "$run/$name.log" 2>&1 &
	pids+=($!)
	echo "fuzz-afl: $name pid $! log $run/$name.log" >&2
done

rc=0
for p in "${pids[@]}"; do wait "$p" || rc=$?; done
trap - INT TERM

crashes=0
for d in "$run"/*/; do
	s="$d/fuzzer_stats"
	[ -f "$s" ] || continue
	printf 'fuzz-afl: %-8s execs_done=%s execs_per_sec=%s corpus=%s crashes=%s hangs=%s stability=%s\n' \
		"$(basename "$d")" "$(afl_stat "$s" execs_done)" "$(afl_stat "$s" execs_per_sec)" \
		"$(afl_stat "$s" corpus_count)" "$(afl_stat "$s" saved_crashes)" \
		"$(afl_stat "$s" saved_hangs)" "$(afl_stat "$s" stability)" >&2
	c=$(afl_stat "$s" saved_crashes); crashes=$((crashes + ${c:-0}))
done
if [ "$crashes" -gt 0 ]; then
	echo "fuzz-afl: $crashes crash(es) under $run/*/crashes/; reproduce with $FZ/vmt-replay FILE" >&2
	exit 1
fi
case $rc in 0|130|143) exit 0 ;; *) echo "fuzz-afl: afl-fuzz exited with $rc (see the logs)" >&2; exit "$rc" ;; esac
