# shellcheck shell=bash
# fuzz/lib.sh - shared helpers of the fuzz run scripts (sourced, not run).

FZ=${FZ:-build/fuzz}
FZ_OUT=${FZ_OUT:-build/fuzz-out}
SEQ_OUT=${SEQ_OUT:-build/corpora/seq}

die() { echo "fuzz: $*" >&2; exit 1; }

# A fresh directory name that no earlier run used: runs never write into
# each other's output, so no crash or corpus file is ever overwritten.
fresh_dir() {
	local base=$1 d
	d="$base/$(date -u +%Y%m%d-%H%M%S)"
	while [ -e "$d" ]; do d="$d.$RANDOM"; done
	mkdir -p "$d" && echo "$d"
}

# shellcheck source=fuzz/engine-options.sh
. fuzz/engine-options.sh

# Every AFL++ run of these scripts: the engine's environment, and its
# sanitizer options exported for the ASan build.
afl_env() {
	afl_engine_env
	ASAN_OPTIONS=$(afl_asan_options) UBSAN_OPTIONS=$(afl_ubsan_options)
	export ASAN_OPTIONS UBSAN_OPTIONS
}

# Per-input time limit (ms), fixed (see AFL_EXEC_TIMEOUT in
# engine-options.sh); twice the campaign's, as the ASan build is several
# times slower. Inputs that time out in the dry run are skipped.
AFL_TIMEOUT=${AFL_TIMEOUT:-2000}

# key of an AFL++ fuzzer_stats file, or empty.
afl_stat() {
	[ -f "$1" ] && awk -F' *: *' -v k="$2" '$1 == k { print $2 }' "$1"
}
