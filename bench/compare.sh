#!/usr/bin/env bash
# compare.sh - run two vms-bench builds with interleaved repetitions and
# print, per figure, both medians and their ratio.
#
#   bench/compare.sh [--reps N] [--time-ms MS] [--raw FILE] [--no-boost]
#                    FINE_BIN GLOBAL_BIN
#
# Each repetition runs every group once in each build, one process per
# (group, build), alternating which build goes first, so that a burst of
# noise on this shared 2-core machine lands on both builds instead of on
# whichever happened to run at that moment.
#
# Each benchmark process runs boosted (bench/lib.sh; --no-boost to skip):
# in a session of its own whose autogroup has nice -19.
#
# Under the table: the scaling ratio mt_disjoint / loop_1t of each build,
# and the ratios of their CPU per session (workers; whole process).
set -euo pipefail
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"

reps=7
time_ms=300
raw=
boost=1
while [ $# -gt 0 ]; do
	case "$1" in
	--reps) reps=${2:?--reps needs a value}; shift 2 ;;
	--time-ms) time_ms=${2:?--time-ms needs a value}; shift 2 ;;
	--raw) raw=${2:?--raw needs a value}; shift 2 ;;
	--no-boost) boost=0; shift ;;
	-h|--help) sed -n '2,15p' "$0"; exit 0 ;;
	--) shift; break ;;
	-*) echo "compare.sh: unknown option '$1'" >&2; exit 2 ;;
	*) break ;;
	esac
done
if [ $# -ne 2 ]; then
	echo "compare.sh: need FINE_BIN and GLOBAL_BIN (try --help)" >&2
	exit 2
fi
fine=$1
global=$2
for b in "$fine" "$global"; do
	[ -x "$b" ] || { echo "compare.sh: '$b' is not an executable" >&2; exit 2; }
done
case "$reps" in ''|*[!0-9]*) echo "compare.sh: --reps: '$reps' is not a number" >&2; exit 2 ;; esac
[ "$reps" -ge 1 ] || { echo "compare.sh: --reps must be at least 1" >&2; exit 2; }

boost_init

groups=$("$fine" --list | awk '{ print $1 }' | uniq)
tmp=$(mktemp)
trap 'rm -f "$tmp" "$tmp.times"' EXIT

# One process, one group, one repetition; appends "build name unit better value".
run_one() {
	local label=$1 bin=$2 group=$3 out
	if ! out=$(boosted "$bin" --only "$group" --reps 1 --time-ms "$time_ms" --json); then
		echo "compare.sh: $label build failed in group '$group' (see the error above)" >&2
		exit 1
	fi
	printf '%s\n' "$out" | sed -n 's/.*"name": "\([^"]*\)", "unit": "\([^"]*\)", "better": "\([^"]*\)", "median": \([^,]*\),.*/\1 \2 \3 \4/p' |
		while read -r name unit better value; do
			printf '%s %s %s %s %s\n' "$label" "$name" "$unit" "$better" "$value"
		done >>"$tmp"
}

# Busy CPU time of the whole machine, in clock ticks (/proc/stat "cpu").
machine_busy() {
	awk '$1 == "cpu" { print $2 + $3 + $4 + $7 + $8 + $9; exit }' /proc/stat
}
# CPU time of our finished children (the benchmark processes), in seconds,
# into $children. Not callable through $(...): a subshell has no children.
children_cpu() {
	times >"$tmp.times"
	children=$(awk 'NR == 2 {
		n = split($0, t, " ")
		s = 0
		for (i = 1; i <= n; i++) { split(t[i], ms, "m"); sub("s", "", ms[2]); s += ms[1] * 60 + ms[2] }
		print s
	}' "$tmp.times")
}

start=$(date +%s.%N)
busy0=$(machine_busy)
children_cpu
ours0=$children
for ((r = 1; r <= reps; r++)); do
	printf 'rep %d/%d:' "$r" "$reps" >&2
	for g in $groups; do
		printf ' %s' "$g" >&2
		if ((r % 2)); then
			run_one fine "$fine" "$g"
			run_one global "$global" "$g"
		else
			run_one global "$global" "$g"
			run_one fine "$fine" "$g"
		fi
	done
	printf '\n' >&2
done
busy1=$(machine_busy)
children_cpu
ours1=$children
end=$(date +%s.%N)
[ -n "$raw" ] && cp "$tmp" "$raw"

# Other processes' share of the machine while we ran: the benchmarks are
# only as good as this is small, and the mt_* figures need both cores.
noise=$(awk -v b0="$busy0" -v b1="$busy1" -v o0="$ours0" -v o1="$ours1" \
	-v t0="$start" -v t1="$end" -v hz="$(getconf CLK_TCK)" -v ncpu="$(nproc)" 'BEGIN {
	wall = t1 - t0; other = (b1 - b0) / hz - (o1 - o0)
	if (other < 0) other = 0
	printf "%.0f s wall; other processes used %.1f of %.1f CPU-seconds (%.0f%%)", wall, other, wall * ncpu, 100 * other / (wall * ncpu)
}')

echo
echo "vms-bench: fine-grained core vs VMS_GLOBAL_LOCK core; median (min..max) of $reps interleaved reps of $time_ms ms$( ((boost)) && echo ', boosted')"
echo "$noise"
awk -v reps="$reps" '
function median(a, n,    i, j, t) {
	for (i = 2; i <= n; i++)	# insertion sort: n is small
		for (j = i; j > 1 && a[j - 1] > a[j]; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
	return (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
{
	key = $2
	if (!(key in unit)) { order[++nfig] = key; unit[key] = $3; better[key] = $4 }
	n[$1, key]++
	v[$1, key, n[$1, key]] = $5 + 0
}
END {
	printf "%-12s %-9s %26s %26s %9s  %s\n", "figure", "unit", "fine-grained", "global-lock", "fine/glob", "fine-grained is"
	for (f = 1; f <= nfig; f++) {
		key = order[f]
		for (b = 1; b <= 2; b++) {
			build = (b == 1) ? "fine" : "global"
			m = n[build, key]
			delete s
			for (i = 1; i <= m; i++) s[i] = v[build, key, i]
			med[b] = median(s, m); lo[b] = s[1]; hi[b] = s[m]
			cell[b] = sprintf("%.4g (%.4g..%.4g)", med[b], lo[b], hi[b])
		}
		ratio = (med[2] != 0) ? med[1] / med[2] : 0
		speed = (better[key] == "lower") ? (med[1] != 0 ? med[2] / med[1] : 0) : ratio
		verdict = (speed >= 1) ? sprintf("%.2fx better", speed) : sprintf("%.2fx worse", (speed > 0) ? 1 / speed : 0)
		if (better[key] == "info")
			verdict = "-"
		printf "%-12s %-9s %26s %26s %9.3f  %s\n", key, unit[key], cell[1], cell[2], ratio, verdict
		for (b = 1; b <= 2; b++)
			fig[b, key] = med[b]
	}
	# Two threads on disjoint ranges against one: 2 is perfect scaling.
	if (fig[1, "loop_1t"] && fig[2, "loop_1t"] && (1, "mt_disjoint") in fig)
		printf "%-12s %-9s %26.3f %26.3f %9.3f  %s\n", "scaling", "x", \
			fig[1, "mt_disjoint"] / fig[1, "loop_1t"], fig[2, "mt_disjoint"] / fig[2, "loop_1t"], \
			(fig[1, "mt_disjoint"] / fig[1, "loop_1t"]) / (fig[2, "mt_disjoint"] / fig[2, "loop_1t"]), \
			"mt_disjoint / loop_1t"
	# The same question per CPU-second, which other load disturbs less:
	# CPU of the workers per session (1: two threads cost what one does)
	# and of the whole process (the reclaimer included).
	if (fig[1, "loop_1t_cpu"] && fig[2, "loop_1t_cpu"] && (1, "mt_disj_cpu") in fig)
		printf "%-12s %-9s %26.3f %26.3f %9s  %s\n", "cpu_ratio", "x", \
			fig[1, "mt_disj_cpu"] / fig[1, "loop_1t_cpu"], fig[2, "mt_disj_cpu"] / fig[2, "loop_1t_cpu"], \
			"-", "mt_disj_cpu / loop_1t_cpu (1: the workers scale)"
	if (fig[1, "loop_1t_all"] && fig[2, "loop_1t_all"] && (1, "mt_disj_all") in fig)
		printf "%-12s %-9s %26.3f %26.3f %9s  %s\n", "all_ratio", "x", \
			fig[1, "mt_disj_all"] / fig[1, "loop_1t_all"], fig[2, "mt_disj_all"] / fig[2, "loop_1t_all"], \
			"-", "mt_disj_all / loop_1t_all (with the reclaimer)"
}' "$tmp"
