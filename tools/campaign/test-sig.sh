#!/usr/bin/env bash
# tools/campaign/test-sig.sh - deduplication titles (sig.c): each file in
# sig-cases/ is what an engine printed, after a first line
#   TITLE: <the title it must get>
# (syzkaller's test layout). Files whose names share the part before the
# first '-' are one root cause seen by different engines or checks: they
# must have one title, and different prefixes different titles. A file
# with several findings in it (a stress run that goes on after the first
# violation, a race then an oracle, a localized crash) must get the title
# of the one nearest the cause.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 2
tool=${VMT_CAMPAIGN_BIN:-build/vmt-campaign}
[ -x "$tool" ] || tool=build/vmtorture
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
declare -A group_title title_group
fail=0 n=0
for f in tools/campaign/sig-cases/*.txt; do
	name=$(basename "$f" .txt)
	group=${name%%-*}
	n=$((n + 1))
	exp=$(sed -n '1s/^TITLE: //p' "$f")
	if [ -z "$exp" ]; then
		echo "test-sig: $name: no 'TITLE: ' first line"
		fail=1
		continue
	fi
	tail -n +2 "$f" > "$tmp"
	got=$("$tool" classify --log "$tmp" | cut -f3)
	if [ "$got" != "$exp" ]; then
		echo "test-sig: $name: got '$got', want '$exp'"
		fail=1
	fi
	if [ -n "${group_title[$group]:-}" ] && [ "${group_title[$group]}" != "$exp" ]; then
		echo "test-sig: $name: group $group has two titles: '${group_title[$group]}' and '$exp'"
		fail=1
	fi
	if [ -n "${title_group[$exp]:-}" ] && [ "${title_group[$exp]}" != "$group" ]; then
		echo "test-sig: $name: groups ${title_group[$exp]} and $group share the title '$exp'"
		fail=1
	fi
	group_title[$group]=$exp
	title_group[$exp]=$group
done
[ $fail = 0 ] && echo "test-sig: $n outputs, ${#group_title[@]} root causes, titles as expected"

# Cause over consequence across findings (vmtorture verdict): a finding
# whose replay fails another's check first is its symptom; two whose
# replays fail the same check first, the title of neither, are one (the
# less frequent listed under the other); an unconfirmed one is neither.
camp=$(mktemp -d)
trap 'rm -f "$tmp"; rm -rf "$camp"' EXIT
finding() {	# id count signature checks...
	local d=$camp/triage/$1
	mkdir -p "$d"
	echo "$2" > "$d/count"
	echo "$3" > "$d/signature"
	# What vmtorture report leaves, and a decision of an earlier
	# verdict that must give way.
	printf 'title=%s\nhits=7\nruns=10\nrole=symptom\ncause=0ld\nwhy=earlier\n' "$3" > "$d/verdict"
	shift 3
	printf '%s\n' "$@" > "$d/checks"
}
early="INVARIANT frame reference freed before a grace period"
count="CHECK data frame counter differs from the data frames"
finding a1 3 "$early" "$early"
finding b2 9 "ORACLE crash: SIGSEGV in worker" "$early" "ORACLE crash: SIGSEGV in worker"
finding c3 2 "ASAN SEGV in vms_frame_alloc (pool.c) via exec_op" "$count" "ASAN SEGV in vms_frame_alloc (pool.c) via exec_op"
finding d4 5 "DIVERGENCE frame_put" "$count" "DIVERGENCE frame_put"
finding e5 1 "ORACLE mutex: cursors overlap" "$early" "ORACLE mutex: cursors overlap"
printf 'title=x\nhits=0\nruns=10\n' > "$camp/triage/e5/verdict"
finding f6 1 "TSAN data race in scan_leaf (cursor.c) | vms_cursor_unmap (cursor.c)" \
	"TSAN data race in scan_leaf (cursor.c) | vms_cursor_unmap (cursor.c)" "$early"
# A crash whose second replay (the campaign's TSan replay of a stress
# crash) fails a race that is another finding first.
race="TSAN data race in vms_defer_push_at (sync.c)"
finding g7 4 "$race" "$race"
finding h8 6 "ORACLE crash: SIGSEGV in reclaimer" "ORACLE crash: SIGSEGV in reclaimer" "" "$race" \
	"ORACLE crash: SIGSEGV in reclaimer"
# Two whose replays (one the second, one the first) fail first a race
# that is no finding: the less frequent under the other.
steal="TSAN data race in steal (pool.c)"
finding i9 11 "ORACLE watchdog: no progress" "ORACLE watchdog: no progress" "" "$steal"
finding j10 4 "CHECK node reachable from no space at level 3" "$steal" \
	"CHECK node reachable from no space at level 3"
# The same unlocked function racing with itself in one replay and with
# its locked partner in another (TSan names no node lock): one race.
finding k11 2 "INVARIANT page-table node used after it was freed" \
	"INVARIANT page-table node used after it was freed" "" \
	"TSAN data race in shard_push (pool.c) | steal (pool.c)"
# A race that merely shares a function with another is not the same.
finding l12 1 "CHECK refcount differs from PTEs + handles" "" \
	"TSAN data race in shard_push (pool.c) | vms_frame_alloc (pool.c)"
"$tool" verdict "$camp" > /dev/null
for want in "a1 cause" "b2 symptom a1" "c3 symptom d4" "d4 cause" "e5 -" "f6 cause" "g7 cause" \
	    "h8 symptom g7" "i9 cause" "j10 symptom i9" "k11 symptom i9" "l12 cause"; do
	set -- $want
	v=$camp/triage/$1/verdict
	got=$(sed -n 's/^role=//p; s/^cause=//p' "$v" | paste -sd' ')
	if [ "${got:--}" != "${want#* }" ]; then
		echo "test-sig: verdict of $1: got '$got', want '${want#* }'"
		fail=1
	fi
	# The report's lines stay, once each.
	if [ "$(grep -c '^hits=' "$v")" != 1 ] || [ "$(grep -c '^runs=10$' "$v")" != 1 ] ||
	   [ "$(grep -c '^title=' "$v")" != 1 ]; then
		echo "test-sig: verdict of $1 lost the report's lines: $(paste -sd'|' "$v")"
		fail=1
	fi
done
[ $fail = 0 ] && echo "test-sig: verdicts as expected (cause over consequence across findings)"
exit $fail
