#!/usr/bin/env bash
# fuzz/run-libfuzzer.sh - libFuzzer campaign (make fuzz-libfuzzer).
#
# New inputs go to build/fuzz-out/libfuzzer/corpus/ (shared by all runs;
# libFuzzer names files by content hash, so nothing is ever replaced by
# different bytes); crashes of this run to
# build/fuzz-out/libfuzzer/<UTC date-time>/. The seeds are read, never
# written. SECONDS_LIMIT=N stops after N seconds, else it runs until ^C.
# Extra libFuzzer flags: LIBFUZZER_FLAGS="-jobs=2 -workers=2" etc.
set -euo pipefail
. fuzz/lib.sh

bin=$FZ/vmt-libfuzzer
[ -x "$bin" ] || die "$bin not built (make $bin)"
corpus=$FZ_OUT/libfuzzer/corpus
mkdir -p "$corpus"
run=$(fresh_dir "$FZ_OUT/libfuzzer")
mapfile -t flags < <(libfuzzer_flags)
[ -n "${SECONDS_LIMIT:-}" ] && flags+=("-max_total_time=$SECONDS_LIMIT")
# shellcheck disable=SC2206
extra=(${LIBFUZZER_FLAGS:-})

echo "fuzz-libfuzzer: corpus $corpus, findings in $run/, log $run/fuzz.log" >&2
set +e
ASAN_OPTIONS=$(san_options asan) UBSAN_OPTIONS=$(san_options ubsan) \
"$bin" "${flags[@]}" "${extra[@]}" -artifact_prefix="$run/" "$corpus" "$SEQ_OUT" \
	2>&1 | tee "$run/fuzz.log"
rc=${PIPESTATUS[0]}
set -e
shopt -s nullglob
found=("$run"/crash-* "$run"/leak-* "$run"/timeout-* "$run"/oom-*)
if [ ${#found[@]} -gt 0 ]; then
	echo "fuzz-libfuzzer: ${#found[@]} finding(s):" >&2
	printf '  %s\n' "${found[@]}" >&2
	echo "  reproduce: $FZ/vmt-replay FILE   (or $bin FILE)" >&2
	exit 1
fi
# 0: time limit reached; 130 and friends: interrupted by the user.
case $rc in 0|130|137|143|72) exit 0 ;; *) exit "$rc" ;; esac
