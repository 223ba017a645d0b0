#!/usr/bin/env bash
# stress/bugcheck.sh SEEDS SECONDS - the planted concurrency bug scorecard.
#
# For every planted concurrency bug: build the stress driver with it
# (make BUG=name), run SEEDS seeds of at most SECONDS each, and report the
# oracle that fired first and the median time to detect; then the same
# with the TSan build and every stress oracle off but the watchdog, to show
# what TSan alone finds. A seed that finds nothing counts as "miss" (and
# as SECONDS for the median). Set BUGCHECK_TSAN=0 to skip the TSan pass,
# BUGCHECK_BUGS="a b" to pick bugs, BUGCHECK_ARGS="..." to add stress
# options to every run (e.g. "--reclaim 0 --read-hold 0").
set -u
SEEDS=${1:-5}
SECS=${2:-60}
TSAN=${BUGCHECK_TSAN:-1}
cd "$(dirname "$0")/.." || exit 2
# shellcheck source=sanitizers/options.sh
. sanitizers/options.sh
# By default, every bug the registry (core/bugs.tsv) says stress must find.
BUGS=${BUGCHECK_BUGS:-$(scripts/bugs.sh list stress | tr '\n' ' ')}
OUT=build/bugcheck-stress
mkdir -p "$OUT"

# Where each bug is reachable: the registry's stress_args (e.g. the nodes
# stray_root_only mishandles exist only under 1 GiB slots, so it needs a
# hot region spanning several), else a small hot region, many threads and
# scheduling noise.
args_for() {
	local a
	a=$(scripts/bugs.sh get "$1" stress_args 2>/dev/null) || a=-
	[ "$a" = - ] && a="--hot 8m --threads 6 --noise 100"
	echo "$a"
}

median() { sort -n | awk '{a[NR]=$1} END {if (!NR) print "-"; else if (NR%2) print a[(NR+1)/2]; else printf "%.3f\n", (a[NR/2]+a[NR/2+1])/2}'; }

now() { date +%s.%N; }

rc=0
printf '%-20s %-34s %-9s %-26s %-9s\n' bug "stress: oracles (seeds)" median "tsan alone: found (seeds)" median
for bug in $BUGS; do
	make --no-print-directory -s BUG="$bug" "build/bug-$bug/vmtorture" >/dev/null || { echo "$bug: build failed"; rc=1; continue; }
	[ "$TSAN" = 1 ] && { make --no-print-directory -s SAN=tsan BUG="$bug" "build/bug-$bug/tsan/vmtorture" >/dev/null || { echo "$bug: tsan build failed"; rc=1; }; }
	a="$(args_for "$bug") ${BUGCHECK_ARGS:-}"
	oracles=""; times=""; found=0
	for s in $(seq 1 "$SEEDS"); do
		log="$OUT/$bug-seed$s.json"
		timeout $((SECS + 30)) "build/bug-$bug/vmtorture" stress --seed "$s" --seconds "$SECS" \
			$a --json --watchdog 5 --out "$OUT/$bug-saved" >"$log" 2>"$OUT/$bug-seed$s.err"
		o=$(sed -n 's/.*"first": {"oracle": "\([a-z]*\)".*/\1/p' "$log" | tail -1)
		t=$(sed -n 's/.*"first": {"oracle": "[a-z]*", "time_s": \([0-9.]*\).*/\1/p' "$log" | tail -1)
		if [ -n "$o" ]; then
			found=$((found + 1)); oracles="$oracles $o"; times="$times $t"
		else
			oracles="$oracles miss"; times="$times $SECS"
		fi
	done
	summ=$(echo $oracles | tr ' ' '\n' | sort | uniq -c | awk '{printf "%s%s x%d", (NR > 1 ? "," : ""), $2, $1}')
	med=$(echo $times | tr ' ' '\n' | median)
	[ "$found" -eq 0 ] && rc=1
	tsumm="-"; tmed="-"
	if [ "$TSAN" = 1 ]; then
		tf=0; tw=0; ttimes=""
		for s in $(seq 1 "$SEEDS"); do
			err="$OUT/$bug-tsan-seed$s.err"
			t0=$(now)
			TSAN_OPTIONS="$(san_options tsan)" timeout $((SECS + 30)) \
				"build/bug-$bug/tsan/vmtorture" stress --seed "$s" --seconds "$SECS" \
				$a --threads 3 --oracles watchdog --watchdog 10 --json \
				--out "$OUT/$bug-tsan-saved" >/dev/null 2>"$err"
			t1=$(now)
			# A deadlock is the watchdog's find, whatever TSan says after it.
			if grep -q "VIOLATION \[watchdog\]" "$err"; then
				tf=$((tf + 1)); ttimes="$ttimes $(printf %.3f "$(echo "$t1 - $t0" | bc)")"
				tw=$((tw + 1))
			elif grep -q "WARNING: ThreadSanitizer" "$err"; then
				tf=$((tf + 1)); ttimes="$ttimes $(printf %.3f "$(echo "$t1 - $t0" | bc)")"
			else
				ttimes="$ttimes $SECS"
			fi
		done
		tsumm="$tf/$SEEDS"
		[ "$tw" -gt 0 ] && tsumm="$tsumm ($tw by watchdog)"
		tmed=$(echo $ttimes | tr ' ' '\n' | median)
	fi
	printf '%-20s %-34s %-9s %-26s %-9s\n' "$bug" "$summ ($found/$SEEDS)" "${med}s" "$tsumm" "${tmed}s"
done
exit $rc
