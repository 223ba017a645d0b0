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

# fuzz/vmt-libfuzzer.options ([libfuzzer] section, key = value) as flags.
libfuzzer_flags() {
	local k v section=
	while IFS= read -r line; do
		line=${line%%#*}
		[[ $line =~ ^[[:space:]]*\[(.*)\] ]] && { section=${BASH_REMATCH[1]}; continue; }
		[[ $section == libfuzzer && $line == *=* ]] || continue
		k=${line%%=*}; v=${line#*=}
		k=${k//[[:space:]]/}; v=${v#"${v%%[![:space:]]*}"}; v=${v%"${v##*[![:space:]]}"}
		[ "$k" = dict ] && v="fuzz/$v"
		printf '%s\n' "-$k=$v"
	done < fuzz/vmt-libfuzzer.options
}

# Environment every AFL++ run gets. A piped core_pattern (apport,
# systemd-coredump) would make afl-fuzz refuse to start; crashes are
# still detected through the fork server, only core files are lost.
afl_env() {
	export AFL_NO_UI=1 AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1
	export AFL_IMPORT_FIRST=1
	# Other campaigns share this machine's few cores: binding to a "free"
	# core fails outright when they hold them all.
	export AFL_NO_AFFINITY=1
	# ASan/UBSan inside AFL++: abort on the first report so it is a crash.
	export ASAN_OPTIONS="abort_on_error=1:symbolize=0:detect_leaks=0:allocator_may_return_null=1"
	export UBSAN_OPTIONS="halt_on_error=1:abort_on_error=1:print_stacktrace=1"
}

# Per-input time limit (ms). "+": inputs from earlier runs that time out
# in the dry run are skipped instead of aborting the run (the ASan build is
# several times slower than the one that found them).
AFL_TIMEOUT=${AFL_TIMEOUT:-2000+}

# key of an AFL++ fuzzer_stats file, or empty.
afl_stat() {
	[ -f "$1" ] && awk -F' *: *' -v k="$2" '$1 == k { print $2 }' "$1"
}
