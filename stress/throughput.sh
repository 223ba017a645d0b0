#!/usr/bin/env bash
# stress/throughput.sh CLI SECONDS - cursor throughput of `vmtorture stress`
# for 1, 2 and 4 workers, with overlapping (--hot 1m) and mostly disjoint
# (--hot 64g) ranges. No accessors and no noise, so the numbers are cursor
# sessions; every oracle stays on (the round checks are part of the cost,
# and are reported separately with --oracles mutex, which only keeps the
# shadow registry).
set -u
BIN=${1:-build/vmtorture}
SECS=${2:-10}
printf '%-8s %-10s %14s %14s %18s\n' threads ranges "ops/s" "sessions/s" "sessions/s (mutex)"
for hot in 1m 64g; do
	for t in 1 2 4; do
		full=$("$BIN" stress --threads "$t" --hot "$hot" --accessors 0 --noise 0 --seconds "$SECS" --seed 1 --json | tail -1)
		lite=$("$BIN" stress --threads "$t" --hot "$hot" --accessors 0 --noise 0 --seconds "$SECS" --seed 1 --json --oracles mutex | tail -1)
		ops=$(echo "$full" | sed -n 's/.*"ops_per_s": \([0-9]*\).*/\1/p')
		ses=$(echo "$full" | sed -n 's/.*"sessions_per_s": \([0-9]*\).*/\1/p')
		ses2=$(echo "$lite" | sed -n 's/.*"sessions_per_s": \([0-9]*\).*/\1/p')
		printf '%-8s %-10s %14s %14s %18s\n' "$t" "$([ $hot = 1m ] && echo overlap || echo disjoint)" "$ops" "$ses" "$ses2"
	done
done
