#!/usr/bin/env bash
# tests/sched/bugcheck.sh - keep the controlled scheduler's checks honest
# in `make test`: the sched tests, built against a core with a planted bug
# (docs/bugs.md), must fail, and sched_explore_clean must report the
# finding named here. The first two show only under some interleavings
# (the default schedule passes); the other two also trip the core's
# grace-period invariant in every schedule, and the reader oracle in some.
set -u
rc=0
check() {	# bug expected-text
	local bug=$1 want=$2 bin=build/bug-$1/tests/run_sched_tests out line
	bash scripts/bugs.sh get "$bug" file >/dev/null || { echo "FAIL $bug: not in core/bugs.tsv"; rc=1; return; }
	make --no-print-directory -s BUG="$bug" "$bin" >/dev/null || { echo "FAIL $bug: build"; rc=1; return; }
	if out=$("$bin" sched_explore_clean 2>&1); then
		echo "FAIL $bug: sched_explore_clean passed on the buggy core"; rc=1; return
	fi
	line=$(grep -F -m1 -- "$want" <<<"$out")
	if [ -n "$line" ]; then
		echo "ok   $bug:${line#*   }" | cut -c1-220
	else
		echo "FAIL $bug: no '$want' in:"; echo "$out" | head -5; rc=1
	fi
}
check ro_no_excl "opened a cursor on a range"
check lock_order "deadlock in"
check put_no_grace "reader saw byte 0x6b"
check free_node_no_grace "reader saw byte 0x6b"
exit $rc
