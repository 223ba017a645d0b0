#!/usr/bin/env bash
# tools/sched/bugcheck.sh [SEEDS] [MAX] - the controlled scheduler's
# scorecard: for every planted bug the registry says `sched` must find,
# runs to the first finding of `vmtorture sched` from the shipped
# scenario that names it (corpora/mt, "# bugs:"), with random schedules
# and with PCT at depth 1, 2 and 3; SEEDS seeds (default 5) of at most
# MAX runs (default 50000); the median, and beside it PCT's guarantee:
# a bug of depth d shows with probability at least 1/(n k^(d-1)) per run,
# so within n k^(d-1) runs on average (n threads of the run, the core's
# reclaimer included; k decisions with a choice, the largest of 200 PCT
# runs on the correct core). SCHED_BUGCHECK_BUGS="a b" picks bugs;
# SAN=asan uses the ASan+UBSan builds.
set -u
cd "$(dirname "$0")/../.." || exit 2
SEEDS=${1:-5}
MAX=${2:-50000}
BUGS=${SCHED_BUGCHECK_BUGS:-$(scripts/bugs.sh list sched | tr '\n' ' ')}
san=${SAN:+/$SAN}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

median() { sort -n | awk '{a[NR]=$1} END {if (!NR) print "-"; else if (NR%2) print a[(NR+1)/2]; else print int((a[NR/2]+a[NR/2+1])/2)}'; }

# runs BIN SCEN MODE-ARGS...: "RUNS THREADS" of each seed's first finding, or "miss"
runs() {
	local bin=$1 scen=$2 s out; shift 2
	for s in $(seq 1 "$SEEDS"); do
		out=$("$bin" sched "$scen" "$@" --runs "$MAX" --seed $((s * 1000003)) --out "$tmp/f" 2>&1)
		if [ $? = 1 ]; then
			sed -n 's/^  stats: runs=\([0-9]*\) threads=\([0-9]*\).*/\1 \2/p' <<<"$out"
		else
			echo miss
		fi
	done
}

# One column: "median (found/seeds)".
column() {
	local found med
	found=$(grep -vc miss <<<"$1")
	if [ "$found" -gt $((SEEDS / 2)) ]; then
		med=$(grep -v miss <<<"$1" | awk '{print $1}' | (cat; for _ in $(seq 1 $((SEEDS - found))); do echo $((MAX + 1)); done) | median)
	else
		med=">$MAX"
	fi
	echo "$med ($found/$SEEDS)"
}

printf '%-20s %-18s %-14s %-14s %-14s %-14s %s\n' bug scenario random pct-d1 pct-d2 pct-d3 \
	"n k: bound n*k^(d-1) at the smallest d with a median"
for bug in $BUGS; do
	scen=$(grep -lE "^# bugs:.* $bug( |$)" corpora/mt/*.txt | head -1)
	bin=build/bug-$bug$san/vmtorture-sched
	if [ -z "$scen" ]; then echo "$bug: no scenario names it"; continue; fi
	make --no-print-directory -s BUG="$bug" SAN="${SAN:-}" "$bin" >/dev/null 2>&1 || { echo "$bug: build failed"; continue; }
	k=$(build$san/vmtorture-sched sched "$scen" --mode pct --runs 200 2>&1 | sed -n 's/.*, k \([0-9]*\) .*/\1/p')
	r=$(runs "$bin" "$scen" --mode random)
	cols="$(column "$r")"
	bound=
	for d in 1 2 3; do
		p=$(runs "$bin" "$scen" --mode pct --depth $d)
		c=$(column "$p")
		cols="$cols|$c"
		n=$(grep -v miss <<<"$p" | awk '{print $2}' | sort -n | tail -1)
		if [ -z "$bound" ] && [ "${c#>}" = "$c" ]; then
			bound="n=$n k=$k d=$d: $(awk -v n="$n" -v k="$k" -v d=$d 'BEGIN {printf "%.0f", n * k ^ (d - 1)}')"
		fi
	done
	IFS='|' read -r c0 c1 c2 c3 <<<"$cols"
	printf '%-20s %-18s %-14s %-14s %-14s %-14s %s\n' "$bug" "$(basename "$scen" .txt)" \
		"$c0" "$c1" "$c2" "$c3" "${bound:-none within $MAX}"
done
