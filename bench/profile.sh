#!/usr/bin/env bash
# profile.sh - where a cursor session's CPU time goes, per build.
#
#   bench/profile.sh [--reps N] [--time-ms MS] [--no-boost] LABEL=BIN=CORE_LIB ...
#
# For each build (LABEL, its vms-bench binary BIN and the core library
# CORE_LIB it links) and each of the groups loop-1t and mt-disjoint: one
# vms-bench run under `perf record -e cpu-clock` (a software event: this VM
# has no PMU). The samples of the worker threads ("vms-worker") are split
# by function: core (defined in CORE_LIB), alloc (libc's malloc family),
# kernel, rcu (liburcu), other (the rest of libc, the bench loop). Each
# share times the run's median worker CPU per session (loop_1t_cpu,
# mt_disj_cpu) gives cpu-ns per session; reclaim is the CPU the core's
# reclaimer thread ("vms-reclaim") spent per session, on top.
# Without perf (or permission to use it) it says so and exits 0.
set -euo pipefail
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"

reps=3
time_ms=300
boost=1
while [ $# -gt 0 ]; do
	case "$1" in
	--reps) reps=${2:?--reps needs a value}; shift 2 ;;
	--time-ms) time_ms=${2:?--time-ms needs a value}; shift 2 ;;
	--no-boost) boost=0; shift ;;
	-h|--help) sed -n '2,17p' "$0"; exit 0 ;;
	-*) echo "profile.sh: unknown option '$1'" >&2; exit 2 ;;
	*) break ;;
	esac
done
[ $# -ge 1 ] || { echo "profile.sh: need LABEL=BIN=CORE_LIB (try --help)" >&2; exit 2; }
if ! command -v perf >/dev/null; then
	echo "profile: perf not found (Debian: linux-perf), no profile"
	exit 0
fi
boost_init
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
kernel_note=
if [ "$(id -u)" -ne 0 ] && [ "$(cat /proc/sys/kernel/perf_event_paranoid 2>/dev/null || echo 2)" -gt 1 ]; then
	kernel_note=" (kernel: not sampled, perf_event_paranoid > 1 and not root)"
fi

echo
echo "profile: cpu-ns per session by where the workers ran (perf cpu-clock, $reps reps of $time_ms ms)$kernel_note"
printf '%-12s %-13s %8s %7s %7s %7s %7s %7s  %6s  %8s\n' figure build cpu-ns core alloc kernel rcu other "core%" reclaim
for spec in "$@"; do
	IFS='=' read -r label bin lib <<<"$spec"
	[ -x "$bin" ] && [ -f "$lib" ] || { echo "profile.sh: '$spec': no binary or library" >&2; exit 2; }
	nm --defined-only "$lib" | awk 'NF == 3 && $2 ~ /[tTwW]/ { print $3 }' | sort -u >"$tmp/core"
	for g in loop-1t:loop_1t_cpu:loop_1t mt-disjoint:mt_disj_cpu:mt_disjoint; do
		IFS=: read -r group cpufig name <<<"$g"
		if ! boosted perf record -q -e cpu-clock -o "$tmp/data" -- \
			"$bin" --only "$group" --reps "$reps" --time-ms "$time_ms" --json >"$tmp/json" 2>"$tmp/err"; then
			echo "profile: perf record failed for $label $group: $(tail -1 "$tmp/err")"
			continue
		fi
		cpu=$(sed -n "s/.*\"name\": \"$cpufig\", [^}]*\"median\": \\([^,]*\\),.*/\\1/p" "$tmp/json")
		perf report -i "$tmp/data" --stdio --no-children -g none --sort comm,dso,sym \
			-F sample,comm,dso,sym -t ';' 2>/dev/null | grep -v '^#' >"$tmp/report" || true
		awk -F';' -v core="$tmp/core" -v cpu="$cpu" -v name="$name" -v label="$label" '
		BEGIN { while ((getline line <core) > 0) is_core[line] = 1 }
		NF >= 4 {
			n = $1 + 0; comm = $2; dso = $3; sym = $4
			gsub(/^ +| +$/, "", comm); gsub(/^ +| +$/, "", dso)
			kern = sym ~ /^\[k\]/
			sub(/^\[[^]]*\] /, "", sym); gsub(/ +$/, "", sym)
			if (comm == "vms-reclaim") { reclaim += n; next }
			if (comm != "vms-worker") next
			if (kern) c = "kernel"
			else if (sym in is_core) c = "core"
			else if (dso ~ /^libc[.-]/ && sym ~ /malloc|free|calloc|realloc|memalign|^_int_|tcache|arena|unlink_chunk|alloc_perturb|malloc_consolidate/) c = "alloc"
			else if (dso ~ /^liburcu/) c = "rcu"
			else c = "other"
			s[c] += n; total += n
		}
		END {
			if (!total) { printf "%-12s %-13s no worker samples\n", name, label; exit }
			k = cpu / total
			printf "%-12s %-13s %8.1f %7.1f %7.1f %7.1f %7.1f %7.1f  %5.0f%%  %8.1f\n", name, label, cpu,
				s["core"] * k, s["alloc"] * k, s["kernel"] * k, s["rcu"] * k, s["other"] * k,
				100 * s["core"] / total, reclaim * k
		}' "$tmp/report"
	done
done
