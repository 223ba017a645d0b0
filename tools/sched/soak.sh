#!/usr/bin/env bash
# tools/sched/soak.sh [SECONDS] - `vmtorture sched` over the shipped
# scenarios (corpora/mt) for SECONDS (default 1800) on the correct core:
# random, PCT depth 2 and PCT depth 3 in turn, chunks of CHUNK runs
# (default 5000) on fresh seeds. Stops at the first finding (exit 1; the
# finding is saved in build/sched-soak/). Prints the runs of each.
set -u
cd "$(dirname "$0")/../.." || exit 2
SECS=${1:-1800}
CHUNK=${SOAK_CHUNK:-5000}
cli=build/vmtorture
out=build/sched-soak
start=$(date +%s)
seed=1
declare -A runs
while [ $(($(date +%s) - start)) -lt "$SECS" ]; do
	for f in corpora/mt/*.txt; do
		for mode in "random" "pct --depth 2" "pct --depth 3"; do
			# shellcheck disable=SC2086
			res=$("$cli" sched "$f" --mode $mode --runs "$CHUNK" --seed "$seed" --out "$out" 2>&1)
			rc=$?
			if [ $rc != 0 ]; then
				echo "$res"
				[ $rc = 1 ] && what="a finding" || what="a harness error (exit $rc)"
				echo "soak: $what after $(($(date +%s) - start)) s ($f, --mode $mode, seeds from $seed)"
				exit $rc
			fi
			runs["$(basename "$f" .txt) ${mode% --*}"]=$(( ${runs["$(basename "$f" .txt) ${mode% --*}"]:-0} + CHUNK ))
			seed=$((seed + CHUNK))
		done
	done
done
total=0
for k in "${!runs[@]}"; do echo "  $k: ${runs[$k]} runs"; total=$((total + runs[$k])); done | sort
for k in "${!runs[@]}"; do total=$((total + runs[$k])); done
echo "soak: no finding in $(($(date +%s) - start)) s, $total runs (seeds 1..$((seed - 1)))"
