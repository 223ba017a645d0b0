#!/usr/bin/env bash
# fuzz/coverage.sh - make coverage: source-based line coverage of core/
# from replaying the shipped seeds (or COV_INPUTS="dir file ..." instead,
# e.g. a fuzzing corpus) on the sequential coverage build, and the
# multi-thread scenarios (or COV_MT_INPUTS="dir ...", e.g. a campaign's
# sched corpus; COV_MT_INPUTS=none for none) on the multi-thread one
# (vmt-mt-cov: the controlled core, where the concurrent paths run). One
# report over both: llvm-cov reads both binaries' mappings and adds up
# the counts of the lines they share. clang-14 profiles need
# llvm-profdata-14 and llvm-cov-14; other versions reject the raw profile
# format. COV_CAMPAIGN=DIR (make coverage COV_CAMPAIGN=build/campaign/X):
# the seeds plus everything a campaign's engines kept (libFuzzer's
# corpus, the AFL++ queues, the sched engine's two), the figure for
# that campaign. Output: build/fuzz-out/coverage/ (report.txt, lines.txt,
# uncovered.txt: every line no input ran, grouped by function; html/
# with COV_HTML=1).
set -euo pipefail
. fuzz/lib.sh

bin=$FZ/vmt-cov
bin_mt=$FZ/vmt-mt-cov
out=$FZ_OUT/coverage
PROFDATA=${PROFDATA:-llvm-profdata-14}
LLVMCOV=${LLVMCOV:-llvm-cov-14}
command -v "$PROFDATA" >/dev/null || die "$PROFDATA not found (apt-get install llvm-14)"
command -v "$LLVMCOV" >/dev/null || die "$LLVMCOV not found (apt-get install llvm-14)"
[ -x "$bin" ] || die "$bin not built"
# shellcheck disable=SC2206
inputs=(${COV_INPUTS:-$SEQ_OUT})
# shellcheck disable=SC2206
mt_inputs=(${COV_MT_INPUTS:-${MT_OUT:-build/corpora/mt}})
[ "${mt_inputs[*]}" = none ] && mt_inputs=()
if [ -n "${COV_CAMPAIGN:-}" ]; then
	[ -d "$COV_CAMPAIGN/logs" ] || die "COV_CAMPAIGN=$COV_CAMPAIGN is not a campaign directory"
	for d in "$COV_CAMPAIGN"/libfuzzer/corpus "$COV_CAMPAIGN"/afl/*/queue; do
		[ -d "$d" ] && inputs+=("$d")
	done
	for d in "$COV_CAMPAIGN"/sched/libfuzzer/corpus "$COV_CAMPAIGN"/sched/afl/*/queue; do
		[ -d "$d" ] && mt_inputs+=("$d")
	done
fi
objs=("$bin")
[ ${#mt_inputs[@]} -eq 0 ] || { [ -x "$bin_mt" ] || die "$bin_mt not built"; objs+=(-object "$bin_mt"); }

rm -rf "$out"
mkdir -p "$out"
# The seeds must agree; coverage of a diverging run would still count,
# but the breakage must not go unnoticed.
rc=0
LLVM_PROFILE_FILE="$out/replay-%p.profraw" "$bin" -q "${inputs[@]}" 2> "$out/replay.log" || rc=$?
tail -1 "$out/replay.log" >&2
[ $rc -eq 0 ] || echo "coverage: warning: replay exited with $rc (see $out/replay.log)" >&2
if [ ${#mt_inputs[@]} -gt 0 ]; then
	rc=0
	LLVM_PROFILE_FILE="$out/replay-mt-%p.profraw" "$bin_mt" -q "${mt_inputs[@]}" 2> "$out/replay-mt.log" || rc=$?
	tail -1 "$out/replay-mt.log" >&2
	[ $rc -eq 0 ] || echo "coverage: warning: multi-thread replay exited with $rc (see $out/replay-mt.log)" >&2
fi
"$PROFDATA" merge -sparse "$out"/replay-*.profraw -o "$out/seeds.profdata"

srcs=(core/src/*.c core/src/*.h)
"$LLVMCOV" report "${objs[@]}" -instr-profile="$out/seeds.profdata" "${srcs[@]}" > "$out/report.txt"
cat "$out/report.txt"
if [ -n "${COV_HTML:-}" ]; then
	"$LLVMCOV" show "${objs[@]}" -instr-profile="$out/seeds.profdata" -format=html \
		-output-dir="$out/html" "${srcs[@]}"
	echo "coverage: html in $out/html/index.html" >&2
fi
# Per-line detail of what the seeds miss, for writing new scenarios.
"$LLVMCOV" show "${objs[@]}" -instr-profile="$out/seeds.profdata" "${srcs[@]}" > "$out/lines.txt"

# Every line no input ran, grouped by the function it lies in (from the
# lcov export: FN gives where each function starts, DA each line's count).
"$LLVMCOV" export "${objs[@]}" -instr-profile="$out/seeds.profdata" -format=lcov "${srcs[@]}" |
	awk -F'[:,]' '$1 == "SF" { f = $2; sub(/.*\//, "", f) }
		$1 == "FN" { print f "\t" $2 "\t0\t" $NF }
		$1 == "DA" && $3 == 0 { print f "\t" $2 "\t1" }' |
	sort -t"$(printf '\t')" -k1,1 -k2,2n -k3,3n |
	awk -F'\t' 'function rng() { return s == e ? s : s "-" e }
		function out() { if (n) printf "%-10s %-28s %3d  %s\n", file, fn, n, rs (rs == "" ? "" : ",") rng(); n = 0; rs = "" }
		$1 != file { out(); file = $1; fn = "(none)" }
		$3 == 0 { if ($4 != fn) out(); fn = $4; next }
		n && $2 == e + 1 { e = $2; n++; next }
		{ if (n) rs = rs (rs == "" ? "" : ",") rng(); s = e = $2; n++ }
		END { out() }' > "$out/uncovered.txt"

# Columns: Filename Regions Missed Cover Functions Missed Executed Lines
# Missed Cover ... (llvm-cov strips the common directory from the names).
awk '$1 == "TOTAL" { printf "coverage: core/src line coverage from %s: %s (%d of %d lines)\n", inputs, $10, $8 - $9, $8 }' \
	inputs="${inputs[*]}${mt_inputs[*]:+ + ${mt_inputs[*]} (multi-thread)}" "$out/report.txt"
# debug.c holds test-only hooks that no program can reach; say what the rest gets.
awk '$2 ~ /^[0-9]+$/ && $1 != "TOTAL" && $1 !~ /(^|\/)debug\.c$/ { l += $8; m += $9 }
     END { if (l) printf "coverage: core/src without debug.c: %.2f%% (%d of %d lines)\n", 100 * (l - m) / l, l - m, l }' \
	"$out/report.txt"
echo "coverage: lines no input ran, by function (file, function, count, lines; $out/uncovered.txt):"
cat "$out/uncovered.txt"
