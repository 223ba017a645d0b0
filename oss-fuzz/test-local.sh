#!/usr/bin/env bash
# oss-fuzz/test-local.sh - make oss-fuzz-test: run oss-fuzz/build.sh the way
# OSS-Fuzz / ClusterFuzzLite would, without Docker, once for libFuzzer
# (ASan+UBSan) and once for AFL++ (afl-clang-fast + libAFLDriver.a), then
# check what it produced and fuzz each result for a few seconds from the
# seed corpus zip. Output: build/oss-fuzz/{libfuzzer,afl}/.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2
# shellcheck source=fuzz/engine-options.sh
. fuzz/engine-options.sh
secs=${OSS_FUZZ_TEST_SECONDS:-10}
fail=0
bad() { echo "oss-fuzz-test: FAIL: $*" >&2; fail=1; }
nseeds=$(ls corpora/seq/*.txt 2>/dev/null | wc -l)

check_out() {	# engine out
	local out=$2 f n
	for f in vmt_fuzz vmt_fuzz_seed_corpus.zip vmt_fuzz.dict vmt_fuzz.options; do
		[ -s "$out/$f" ] || bad "$1: $out/$f missing"
	done
	n=$(unzip -Z1 "$out/vmt_fuzz_seed_corpus.zip" 2>/dev/null | wc -l)
	[ "$n" -eq "$nseeds" ] || bad "$1: seed zip has $n files, corpora/seq has $nseeds scenarios"
	# Named by content: a renamed or changed seed shows up here.
	unzip -Z1 "$out/vmt_fuzz_seed_corpus.zip" | grep -qvE '^[0-9a-f]{40}$' && bad "$1: seed names are not SHA-1s"
	grep -q '^dict = vmt_fuzz.dict' "$out/vmt_fuzz.options" || bad "$1: .options does not name the .dict"
}

# 1. libFuzzer, the OSS-Fuzz default flags for ASan (+UBSan).
b=build/oss-fuzz/libfuzzer
rm -rf "$b" && mkdir -p "$b/out" "$b/work" "$b/run/corpus"
flags="-O1 -fno-omit-frame-pointer -gline-tables-only -fsanitize=address,undefined -fno-sanitize-recover=all -fsanitize=fuzzer-no-link"
if CC=clang CXX=clang++ CFLAGS="$flags" CXXFLAGS="$flags" LIB_FUZZING_ENGINE=-fsanitize=fuzzer \
	OUT=$b/out WORK=$b/work SRC=$PWD bash oss-fuzz/build.sh > "$b/build.log" 2>&1; then
	check_out libfuzzer "$b/out"
	unzip -q -o "$b/out/vmt_fuzz_seed_corpus.zip" -d "$b/run/seeds"
	# No leak check, as the campaign's libFuzzer (fuzz/engine-options.sh).
	asan=$(san_options asan detect_leaks=0) ubsan=$(san_options ubsan)
	(cd "$b/out" && ASAN_OPTIONS=$asan UBSAN_OPTIONS=$ubsan ./vmt_fuzz -dict=vmt_fuzz.dict -max_len=4096 \
		-max_total_time="$secs" -artifact_prefix=../run/ ../run/corpus ../run/seeds) > "$b/run.log" 2>&1
	rc=$?
	execs=$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "$b/run.log")
	if [ $rc -ne 0 ] || ls "$b"/run/crash-* >/dev/null 2>&1; then
		bad "libfuzzer: the target failed (exit $rc, see $b/run.log)"
	elif [ "${execs:-0}" -le 0 ]; then
		bad "libfuzzer: nothing executed (see $b/run.log)"
	else
		echo "oss-fuzz-test: libfuzzer ok: $execs execs in ${secs}s from $nseeds seeds" >&2
	fi
else
	bad "libfuzzer: build.sh failed (see $b/build.log)"; tail -5 "$b/build.log" >&2
fi

# 2. AFL++: afl-clang-fast and the driver the Debian package ships.
b=build/oss-fuzz/afl
rm -rf "$b" && mkdir -p "$b/out" "$b/work" "$b/run"
if command -v afl-clang-fast >/dev/null && [ -f /usr/lib/afl/libAFLDriver.a ]; then
	if CC=afl-clang-fast CXX=afl-clang-fast++ CFLAGS="-O1 -g" CXXFLAGS="-O1 -g" \
		LIB_FUZZING_ENGINE=/usr/lib/afl/libAFLDriver.a AFL_QUIET=1 \
		OUT=$b/out WORK=$b/work SRC=$PWD bash oss-fuzz/build.sh > "$b/build.log" 2>&1; then
		check_out afl "$b/out"
		unzip -q -o "$b/out/vmt_fuzz_seed_corpus.zip" -d "$b/run/seeds"
		(afl_engine_env; exec afl-fuzz -i "$b/run/seeds" -o "$b/run/sync" -x "$b/out/vmt_fuzz.dict" -V "$secs" \
			-M main -- "$b/out/vmt_fuzz") > "$b/run.log" 2>&1
		s=$b/run/sync/main/fuzzer_stats
		execs=$(awk -F' *: *' '$1 == "execs_done" { print $2 }' "$s" 2>/dev/null)
		crashes=$(awk -F' *: *' '$1 == "saved_crashes" { print $2 }' "$s" 2>/dev/null)
		mode=$(awk -F' *: *' '$1 == "target_mode" { print $2 }' "$s" 2>/dev/null)
		if [ "${execs:-0}" -le 0 ]; then
			bad "afl: nothing executed (see $b/run.log)"
		elif [ "${crashes:-0}" -gt 0 ]; then
			bad "afl: $crashes crash(es) in $b/run/sync/main/crashes"
		else
			echo "oss-fuzz-test: afl ok: $execs execs in ${secs}s ($mode)" >&2
		fi
	else
		bad "afl: build.sh failed (see $b/build.log)"; tail -5 "$b/build.log" >&2
	fi
else
	bad "afl: afl-clang-fast or /usr/lib/afl/libAFLDriver.a missing (apt-get install afl++)"
fi
[ $fail = 0 ] && echo "oss-fuzz-test: PASS" >&2
exit $fail
