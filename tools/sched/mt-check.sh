#!/usr/bin/env bash
# tools/sched/mt-check.sh - the controlled executor in `make test`:
#   1. every shipped multi-thread scenario (corpora/mt, encoded as seeds)
#      replays through `vmtorture replay` with no finding, taking the same
#      decisions twice; a perturbed executor is caught as uncontrolled
#      nondeterminism;
#   2. a short exploration of each scenario (random and PCT) finds nothing
#      on the correct core;
#   3. every planted bug the registry says `sched` must find is found by
#      `vmtorture sched` (PCT, depth 2, seed 1) from a scenario that names
#      it ("# bugs:"), within a small run budget, and the saved program
#      replays it with the same title.
# MT_CHECK_RUNS (exploration runs per mode, 300), MT_CHECK_BUDGET (runs
# per bug, 2000), MT_CHECK_BUGS (names; default: the registry's).
set -u
cd "$(dirname "$0")/../.." || exit 2
RUNS=${MT_CHECK_RUNS:-300}
BUDGET=${MT_CHECK_BUDGET:-2000}
BUGS=${MT_CHECK_BUGS:-$(scripts/bugs.sh list sched | tr '\n' ' ')}
cli=build/vmtorture
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
rc=0
ok() { echo "  ok   $*"; }
bad() { echo "  FAIL $*"; rc=1; }

echo "mt-check: replay of the shipped scenarios (twice each)"
if out=$("$cli" replay -q build/corpora/mt/* 2>&1); then
	ok "$(ls build/corpora/mt | wc -l) scenarios: no finding, the same decisions twice"
else
	bad "replay of build/corpora/mt:"; echo "$out" | head -20
fi
out=$(VMT_MT_PERTURB=1 build/vmtorture-sched replay corpora/mt/unmap-reader.txt 2>&1)
if [ $? = 3 ] && grep -q "uncontrolled nondeterminism" <<<"$out"; then
	ok "a perturbed executor: $(head -1 <<<"$out" | cut -c1-110)"
else
	bad "a perturbed executor was not reported: $out"
fi

# A program's own deadlock abandons its threads, not a finding; a fuzzer
# runs thousands. What each run keeps must stay small (it kept the whole
# pool: about 2 MB resident a run, until libFuzzer's RSS limit ended the
# multi-thread target; on this small program about 60 KB a run). 2000
# runs in one process: about 8 MB peak RSS, 120 MB with the pool kept.
out=$(/usr/bin/time -f 'maxrss %M' build/vmtorture-sched replay -q --repeat 2000 \
	corpora/mt/own-deadlock-two-spaces.txt 2>&1)
kb=$(sed -n 's/^maxrss //p' <<<"$out")
if [ -n "$kb" ] && [ "$kb" -lt 32768 ]; then
	ok "own deadlock 2000 times in one process: peak RSS $((kb / 1024)) MB"
else
	bad "own deadlock 2000 times in one process: peak RSS ${kb:-?} kB (32 MB at most): $(tail -3 <<<"$out")"
fi

echo "mt-check: the command line"
expect() {	# STATUS WHAT CMD...
	local want=$1 what=$2 got; shift 2
	"$@" >"$tmp/out" 2>"$tmp/err"; got=$?
	if [ "$got" = "$want" ]; then ok "$what"; else
		bad "$what: exit $got, want $want"; head -5 "$tmp/err"; fi
}
abs=$(pwd)
expect 0 "sched --help" "$cli" sched --help
expect 2 "sched: a missing file" "$cli" sched "$tmp/none.txt"
[ "$(wc -l <"$tmp/err")" = 1 ] && grep -q none.txt "$tmp/err" || bad "a missing file: one line naming it"
expect 2 "sched: a bad option" "$cli" sched corpora/mt/put-release.txt --mode fifo
expect 0 "sched from another directory" sh -c "cd '$tmp' && '$abs/$cli' sched '$abs/corpora/mt/put-release.txt' --runs 20"
expect 0 "run: a multi-thread text program" "$cli" run corpora/mt/split-reader.txt
grep -q "no finding" "$tmp/out" || bad "run of a multi-thread program says what it found"
expect 0 "replay: a text program, --repeat 3 --trace" "$cli" replay --repeat 3 --trace corpora/mt/put-release.txt
grep -q "3 runs, the same" "$tmp/out" && grep -q "thread 0 decision 0 " "$tmp/out" ||
	bad "replay --repeat 3 --trace: three runs and the decisions"

echo "mt-check: $RUNS runs of random and of PCT schedules per scenario"
for f in corpora/mt/*.txt; do
	for mode in random pct; do
		if ! out=$("$cli" sched "$f" --mode "$mode" --runs "$RUNS" --out "$tmp/clean" 2>&1); then
			bad "$f ($mode) on the correct core:"; echo "$out" | head -8
		fi
	done
done
[ $rc = 0 ] && ok "$(ls corpora/mt/*.txt | wc -l) scenarios, no finding"

echo "mt-check: planted bugs, PCT depth 2 from seed 1, at most $BUDGET runs"
for bug in $BUGS; do
	scen=$(grep -lE "^# bugs:.* $bug( |$)" corpora/mt/*.txt | head -1)
	bin=build/bug-$bug/vmtorture-sched
	[ -n "$scen" ] || { bad "$bug: no scenario in corpora/mt names it (# bugs:)"; continue; }
	make --no-print-directory -s BUG="$bug" "$bin" >/dev/null 2>&1 || { bad "$bug: build"; continue; }
	out=$("$bin" sched "$scen" --mode pct --runs "$BUDGET" --seed 1 --out "$tmp/$bug" 2>&1)
	if [ $? != 1 ]; then
		bad "$bug: not found in $(basename "$scen"): $(head -1 <<<"$out")"; continue
	fi
	saved=$(sed -n 's/^  saved //p' <<<"$out")
	title=$(sed -n 's/^finding after [0-9]* run(s) (seed [0-9]*): //p' <<<"$out")
	again=$("$bin" replay "$saved" 2>&1)
	if [ $? = 1 ] && grep -qF -- "$title" <<<"$again"; then
		ok "$bug: $(sed -n 's/^finding after \([0-9]*\) run.*/\1/p' <<<"$out") run(s) on $(basename "$scen" .txt): ${title:0:90}"
	else
		bad "$bug: the saved program does not replay '$title':"; echo "$again" | head -5
	fi
done
exit $rc
