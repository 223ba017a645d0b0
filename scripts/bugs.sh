#!/usr/bin/env bash
# scripts/bugs.sh - read the planted-bug registry (core/bugs.tsv).
#
#   bugs.sh list [CHECK]     names, one per line; with CHECK (fuzz, stress,
#                            sched) only the bugs that scorecard must find
#   bugs.sh get NAME FIELD   one field of one bug (file, checks, stress_args,
#                            mistake, precedent); exit 1 if there is no NAME
#   bugs.sh markdown         the table of docs/bugs.md
#   bugs.sh check            the registry, the core's #ifdefs and docs/bugs.md
#                            agree; one line per disagreement, exit 1
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
reg=$top/core/bugs.tsv
fields=(name file checks stress_args mistake precedent)

rows() { grep -v '^#' "$reg" | grep -v '^$'; }
col() {	# field name -> awk column number
	local i
	for i in "${!fields[@]}"; do
		[ "${fields[$i]}" = "$1" ] && { echo $((i + 1)); return; }
	done
	echo "bugs.sh: no field '$1' (${fields[*]})" >&2
	exit 2
}

markdown() {
	echo '| name | where | the mistake | upstream precedent | found by |'
	echo '|---|---|---|---|---|'
	rows | awk -F'\t' '{ printf "| `%s` | %s | %s | %s | %s |\n", $1, $2, $5, $6, $3 }'
}

case ${1:-} in
list)
	if [ $# -ge 2 ]; then
		rows | awk -F'\t' -v c="$2" '{ n = split($3, a, ","); for (i = 1; i <= n; i++) if (a[i] == c) print $1 }'
	else
		rows | cut -f1
	fi ;;
get)
	[ $# -eq 3 ] || { echo "usage: bugs.sh get NAME FIELD" >&2; exit 2; }
	c=$(col "$3")
	v=$(rows | awk -F'\t' -v n="$2" -v c="$c" '$1 == n { print $c; f = 1 } END { exit !f }') ||
		{ echo "bugs.sh: no planted bug '$2' in core/bugs.tsv" >&2; exit 1; }
	echo "$v" ;;
markdown) markdown ;;
check)
	bad=0
	# Every row well-formed, every name compiled somewhere, and back.
	while IFS= read -r line; do
		echo "bugs: this row does not have ${#fields[@]} tab-separated fields: $line"; bad=1
	done < <(rows | awk -F'\t' -v n=${#fields[@]} 'NF != n')
	while IFS=$'\t' read -r name file checks _; do
		grep -q "VMS_BUG_$name\b" "$top/core/src/$file" 2>/dev/null ||
			{ echo "bugs: $name: no VMS_BUG_$name in core/src/$file"; bad=1; }
		[[ $checks =~ ^(fuzz|stress|sched|fault)(,(fuzz|stress|sched|fault))*$ ]] ||
			{ echo "bugs: $name: bad checks '$checks'"; bad=1; }
	done < <(rows)
	for n in $(grep -rhoE 'VMS_BUG_[A-Za-z0-9_]+' "$top/core/src" | sort -u | sed 's/^VMS_BUG_//'); do
		rows | cut -f1 | grep -qx "$n" || { echo "bugs: VMS_BUG_$n is in core/src but not in core/bugs.tsv"; bad=1; }
	done
	# docs/bugs.md holds the rendered table between its markers.
	if ! diff <(markdown) <(sed -n '/^<!-- bugs.tsv -->$/,/^<!-- end -->$/p' "$top/docs/bugs.md" | sed '1d;$d') >/dev/null; then
		echo "bugs: docs/bugs.md is out of date: run scripts/bugs.sh markdown and paste it between the markers"
		bad=1
	fi
	[ $bad = 0 ] && echo "bugs: $(rows | wc -l) planted bugs, registry, core and docs agree"
	exit $bad ;;
*)
	sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2
	exit 2 ;;
esac
