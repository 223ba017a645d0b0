#!/usr/bin/env bash
# tests/faults/check.sh [CLI] - the fault-injection smoke of `make test`.
#
# Every planted bug on an -ENOMEM path (core/bugs.tsv, check "fault")
# that a program can reach (check "fuzz") has a repro here,
# tests/faults/NAME.txt. On the correct core every repro agrees with the
# model; on the bug's core the repro diverges, and the same program
# without its fail ops agrees (the bug is invisible without fault
# injection); a bug that stress must find is found by `stress --faults`
# within SECONDS (one seed). A fault bug without "fuzz" is one no
# sequential program reaches (defer_realloc_lost: its batches never
# outgrow the 4096 items a fresh one holds), so stress proves it here; a
# multi-thread program with a small retire batch reaches it too
# (corpora/mt/retire-batch-grow-fails.txt).
set -u
cli=${1:-build/vmtorture}
secs=${FAULT_CHECK_SECONDS:-30}
cd "$(dirname "$0")/../.." || exit 2
rc=0
for f in tests/faults/*.txt; do
	out=$("$cli" run -q "$f" 2>&1) || { echo "FAIL $f on the correct core: $out"; rc=1; }
done
for bug in $(bash scripts/bugs.sh list fault); do
	repro=tests/faults/$bug.txt
	bin=build/bug-$bug/vmtorture
	checks=,$(bash scripts/bugs.sh get "$bug" checks),
	make --no-print-directory -s BUG="$bug" "$bin" >/dev/null || { echo "FAIL $bug: build"; rc=1; continue; }
	case $checks in *,fuzz,*) ;; *) repro= ;; esac
	[ -z "$repro" ] || [ -f "$repro" ] || { echo "FAIL $bug: no $repro"; rc=1; continue; }
	if [ -n "$repro" ]; then
		sig=$("$bin" run -q "$repro" 2>&1 | grep -m1 -o 'DIVERGENCE.*')
		if [ -n "$sig" ]; then
			echo "ok   $bug: repro ${sig#*: }"
		else
			echo "FAIL $bug: its repro agrees"; rc=1
		fi
		nofail=$(mktemp)
		grep -v '^fail ' "$repro" > "$nofail"
		"$bin" run -q "$nofail" >/dev/null 2>&1 ||
			{ echo "FAIL $bug: the repro diverges without its faults"; rc=1; }
		rm -f "$nofail"
	fi
	case $checks in
	*,stress,*) ;;
	*,fuzz,*) continue ;;
	*) echo "FAIL $bug: neither a program nor stress finds it (checks $checks)"; rc=1; continue ;;
	esac
	args=$(bash scripts/bugs.sh get "$bug" stress_args)
	[ "$args" = - ] && args="--faults 0.002"
	out=$("$bin" stress --seed 1 --seconds "$secs" $args --watchdog 2 --json --quiet \
		--out "build/bug-$bug/stress-out" 2>/dev/null | tail -1)
	got=$(echo "$out" | sed -n 's/.*"first": {"oracle": "\([a-z]*\)", "time_s": \([0-9.]*\).*/\1 in \2s/p')
	if [ -n "$got" ]; then
		echo "ok   $bug: stress $args: $got"
	else
		echo "FAIL $bug: stress $args found nothing in ${secs}s"; rc=1
	fi
done
exit $rc
