#!/usr/bin/env bash
# tools/campaign/test-sig.sh - deduplication titles (sig.c): the outputs
# in sig-cases/ are what each engine prints for one root cause; files
# whose names share the part before the first '-' must get one title,
# and different prefixes different titles. Each expected title is also
# spelled out below, so a change in wording is a visible diff.
set -uo pipefail
cd "$(dirname "$0")/../.."
tool=${VMT_CAMPAIGN_BIN:-build/vmt-campaign}
[ -x "$tool" ] || tool=build/vmtorture
declare -A want=(
	[len]="DIVERGENCE rule: length zero, unaligned or past the cursor's end"
	[prop]="DIVERGENCE state: leaf prop differs"
	[acc]="DIVERGENCE rule: accessor ranges conflict (closed intervals)"
	[refcount]="DIVERGENCE check: vms_space_check"
	[detached]="INVARIANT detached subtree"
	[unlockeddesc]="STRESS mutex: unlocked descendant: a range lock returned"
	[strayguard]="STRESS mutex: stray guard: a cursor locked a"
	[lockorder]="STRESS mutex: lock order: a node locked after"
	[foreign]="STRESS mutex: foreign unlock: a node lock released"
	[map]="DIVERGENCE map"
	[uafvia]="ASAN heap-use-after-free in vms_cursor_map (cursor.c) via exec_op"
	[earlyput]="STRESS grace: freed before a grace period: frame reference"
	[earlysubtree]="STRESS grace: freed before a grace period: page-table subtree"
	[framefree]="STRESS grace: reader copied from a freed frame"
	[nodeuaf]="STRESS grace: page-table node used after it was freed"
	[segv]="STRESS crash: SIGSEGV in worker"
	# the wording before 2026-12: an aside goes whole, no lone ")"
	[segvold]="STRESS crash: signal in worker"
	[tsan]=""	# checked apart below
)
fail=0
for f in tools/campaign/sig-cases/*.txt; do
	name=$(basename "$f" .txt)
	group=${name%%-*}
	got=$("$tool" classify --log "$f" | cut -f3)
	case $name in
	tsan-then-mutex|mutex-after-serial) exp="STRESS mutex: cursors overlap: thread holds" ;;
	tsan-alone) exp="TSAN data race in scan_leaf (cursor.c) | vms_cursor_unmap (cursor.c)" ;;
	*) exp=${want[$group]:-?} ;;
	esac
	if [ "$got" != "$exp" ]; then
		echo "test-sig: $name: got '$got', want '$exp'"
		fail=1
	fi
done
[ $fail = 0 ] && echo "test-sig: $(ls tools/campaign/sig-cases/*.txt | wc -l) outputs, titles as expected"
exit $fail
