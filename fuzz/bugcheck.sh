#!/usr/bin/env bash
# bugcheck.sh - prove the differential fuzzer finds each planted sequential
# bug, starting from the shipped seeds only, and measure how long it takes.
#
#   fuzz/bugcheck.sh [SEEDS] [CAP_SECONDS] [BUG...]
#
# For every bug: build the libFuzzer target with -DVMS_BUG_name, copy the
# seeds into a scratch corpus, and run libFuzzer (fresh -seed each time)
# until it aborts on a DIVERGENCE or the cap passes. The time to find is the
# wall time until the crash file appears; the table shows the median over
# SEEDS runs and the signature of the first finding. Exit 1 if any bug was
# missed in every run.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2
# shellcheck source=fuzz/engine-options.sh
. fuzz/engine-options.sh
seeds=${1:-3}; cap=${2:-120}; shift 2 2>/dev/null || shift $#
bugs=("$@")
# By default, every bug the registry says the fuzzers must find.
[ ${#bugs[@]} -gt 0 ] || mapfile -t bugs < <(scripts/bugs.sh list fuzz)
out=build/bugcheck-fuzz/$(date -u +%Y%m%d-%H%M%S)
mkdir -p "$out"
make -s seeds >/dev/null || { echo "bugcheck: cannot build the seeds" >&2; exit 2; }

missed=0
printf '%-18s %-8s %-10s %s\n' bug found median signature | tee "$out/table.txt"
for bug in "${bugs[@]}"; do
	bin=build/bug-$bug/fuzz/vmt-libfuzzer
	if ! make -s BUG="$bug" "$bin" >"$out/$bug.build.log" 2>&1; then
		echo "bugcheck: build of $bug failed, see $out/$bug.build.log" >&2
		exit 2
	fi
	times=(); sig=-
	for s in $(seq 1 "$seeds"); do
		run=$out/$bug-$s; mkdir -p "$run/corpus"
		cp build/corpora/seq/* "$run/corpus/"
		start=$(date +%s.%N)
		ASAN_OPTIONS=$(san_options asan) UBSAN_OPTIONS=$(san_options ubsan) \
			"$bin" -seed="$s" -max_total_time="$cap" -artifact_prefix="$run/" \
			-dict=fuzz/vmt.dict "$run/corpus" >"$run/log" 2>&1
		end=$(date +%s.%N)
		if ls "$run"/crash-* >/dev/null 2>&1; then
			times+=("$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.2f", b - a }')")
			[ "$sig" = - ] && sig=$(grep -m1 -oE '(DIVERGENCE|LEAK|CHECK)[^"]*' "$run/log" || echo "sanitizer report")
		fi
	done
	if [ ${#times[@]} -eq 0 ]; then
		med="-"; missed=$((missed + 1))
	else
		med=$(printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {printf "%.1fs", a[int((NR+1)/2)]}')
	fi
	printf '%-18s %-8s %-10s %s\n' "$bug" "${#times[@]}/$seeds" "$med" "$sig" | tee -a "$out/table.txt"
done
echo "bugcheck: table and logs in $out"
[ $missed -eq 0 ]
