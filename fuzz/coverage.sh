#!/usr/bin/env bash
# fuzz/coverage.sh - make coverage: source-based line coverage of core/
# from replaying the shipped seeds (or COV_INPUTS="dir file ..." instead,
# e.g. a fuzzing corpus). clang-14 profiles need llvm-profdata-14 and
# llvm-cov-14; other versions reject the raw profile format.
# Output: build/fuzz-out/coverage/ (report.txt, html/ with COV_HTML=1).
set -euo pipefail
. fuzz/lib.sh

bin=$FZ/vmt-cov
out=$FZ_OUT/coverage
PROFDATA=${PROFDATA:-llvm-profdata-14}
LLVMCOV=${LLVMCOV:-llvm-cov-14}
command -v "$PROFDATA" >/dev/null || die "$PROFDATA not found (apt-get install llvm-14)"
command -v "$LLVMCOV" >/dev/null || die "$LLVMCOV not found (apt-get install llvm-14)"
[ -x "$bin" ] || die "$bin not built"
# shellcheck disable=SC2206
inputs=(${COV_INPUTS:-$SEQ_OUT})

rm -rf "$out"
mkdir -p "$out"
# The seeds must agree; coverage of a diverging run would still count,
# but the breakage must not go unnoticed.
rc=0
LLVM_PROFILE_FILE="$out/replay-%p.profraw" "$bin" -q "${inputs[@]}" 2> "$out/replay.log" || rc=$?
tail -1 "$out/replay.log" >&2
[ $rc -eq 0 ] || echo "coverage: warning: replay exited with $rc (see $out/replay.log)" >&2
"$PROFDATA" merge -sparse "$out"/replay-*.profraw -o "$out/seeds.profdata"

srcs=(core/src/*.c core/src/*.h)
"$LLVMCOV" report "$bin" -instr-profile="$out/seeds.profdata" "${srcs[@]}" > "$out/report.txt"
cat "$out/report.txt"
if [ -n "${COV_HTML:-}" ]; then
	"$LLVMCOV" show "$bin" -instr-profile="$out/seeds.profdata" -format=html \
		-output-dir="$out/html" "${srcs[@]}"
	echo "coverage: html in $out/html/index.html" >&2
fi
# Per-line detail of what the seeds miss, for writing new scenarios.
"$LLVMCOV" show "$bin" -instr-profile="$out/seeds.profdata" "${srcs[@]}" > "$out/lines.txt"

# Columns: Filename Regions Missed Cover Functions Missed Executed Lines
# Missed Cover ... (llvm-cov strips the common directory from the names).
awk '$1 == "TOTAL" { printf "coverage: core/src line coverage from %s: %s (%d of %d lines)\n", inputs, $10, $8 - $9, $8 }' \
	inputs="${inputs[*]}" "$out/report.txt"
# debug.c holds test-only hooks that no program can reach; say what the rest gets.
awk '$2 ~ /^[0-9]+$/ && $1 != "TOTAL" && $1 !~ /(^|\/)debug\.c$/ { l += $8; m += $9 }
     END { if (l) printf "coverage: core/src without debug.c: %.2f%% (%d of %d lines)\n", 100 * (l - m) / l, l - m, l }' \
	"$out/report.txt"
