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
cd "$(dirname "$0")/../.."
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

exit $fail
