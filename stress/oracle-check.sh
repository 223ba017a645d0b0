#!/usr/bin/env bash
# stress/oracle-check.sh - keep the oracles honest in `make test`: a few
# planted bugs that must be caught, each by the oracle named here, within
# SECONDS (one seed each; the full scorecard is `make bugcheck-stress`).
set -u
SECS=${1:-20}
rc=0
check() {	# bug oracle extra-args...
	local bug=$1 want=$2; shift 2
	bash scripts/bugs.sh get "$bug" file >/dev/null || { echo "FAIL $bug: not in core/bugs.tsv"; rc=1; return; }
	make --no-print-directory -s BUG="$bug" "build/bug-$bug/vmtorture" >/dev/null || { echo "FAIL $bug: build"; rc=1; return; }
	# Stress is free-running: on a loaded machine a broken core can
	# crash before the oracle under test looks (skip_child_lock once did
	# in CI). The named oracle must still catch the bug, in one of three
	# seeds; an oracle that is broken misses all three.
	local seed out got t tried=
	for seed in 1 2 3; do
		out=$("build/bug-$bug/vmtorture" stress --seed "$seed" --seconds "$SECS" --json --out "build/bug-$bug/stress-out" "$@" 2>/dev/null | tail -1)
		got=$(echo "$out" | sed -n 's/.*"first": {"oracle": "\([a-z]*\)".*/\1/p')
		t=$(echo "$out" | sed -n 's/.*"time_s": \([0-9.]*\).*/\1/p')
		if [ "$got" = "$want" ]; then
			echo "ok   $bug caught by $want in ${t}s (seed $seed${tried:+; before it$tried})"
			return
		fi
		tried="$tried; seed $seed: ${got:-nothing}"
	done
	echo "FAIL $bug: expected oracle $want, got${tried#;}"; rc=1
}
check ro_no_excl mutex
check ro_no_excl serial --oracles serial,quiesce
check put_no_grace grace --oracles grace,access,watchdog
check copy_outside_rcu grace --oracles grace,access,watchdog
check skip_child_lock quiesce --oracles quiesce
check lock_order watchdog --oracles watchdog --watchdog 3
check touching_ok access --hot 64k
exit $rc
