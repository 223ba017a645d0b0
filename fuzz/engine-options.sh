# shellcheck shell=bash
# fuzz/engine-options.sh - how every script starts a fuzz engine: the
# libFuzzer flags of fuzz/vmt-libfuzzer.options, the AFL++ environment,
# and the sanitizer options inside each engine (sanitizers/*.options plus
# what the engine needs). Sourced by fuzz/lib.sh and tools/campaign/lib.sh.

# shellcheck source=sanitizers/options.sh
. "$(dirname "${BASH_SOURCE[0]}")/../sanitizers/options.sh"
fuzz_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# fuzz/vmt-libfuzzer.options ([libfuzzer] section, key = value) as flags
# (dict relative to the repository root, where the scripts run).
libfuzzer_flags() {
	local k v line section=
	while IFS= read -r line; do
		line=${line%%#*}
		[[ $line =~ ^[[:space:]]*\[(.*)\] ]] && { section=${BASH_REMATCH[1]}; continue; }
		[[ $section == libfuzzer && $line == *=* ]] || continue
		k=${line%%=*}; v=${line#*=}
		k=${k//[[:space:]]/}; v=${v#"${v%%[![:space:]]*}"}; v=${v%"${v##*[![:space:]]}"}
		[ "$k" = dict ] && v="fuzz/$v"
		printf '%s\n' "-$k=$v"
	done < "$fuzz_dir/vmt-libfuzzer.options"
}

# ASan and UBSan inside AFL++: a report must end in a signal the fork
# server sees (abort_on_error, which afl-fuzz insists on, with
# symbolize=0); no leak check (the campaign's libFuzzer runs without
# one too); a failed allocation returns
# NULL, so the core's error path runs instead of the allocator dying.
afl_asan_options() { san_options asan abort_on_error=1 symbolize=0 detect_leaks=0 allocator_may_return_null=1; }
afl_ubsan_options() { san_options ubsan abort_on_error=1; }

# AFL++'s limit per run (ms), fixed. With a '+' (-t 1000+) AFL++ 4.04c
# does not keep 1000 ms: it calibrates the limit from the seeds' times
# (20 to 60 ms for these targets) with 1000 as the maximum, and a loaded
# machine then turns ordinary inputs into hangs that never reproduce. A
# seed that times out in the dry run is skipped with a fixed -t as well.
AFL_EXEC_TIMEOUT=${AFL_EXEC_TIMEOUT:-1000}

# One round of the stress engine, as the campaign runs it (launch.sh) and
# as the coverage runs that stand for it do (coverage.sh, the campaign's
# snapshots): its options, one a line.
stress_round_args() {	# SEED SECONDS THREADS HOT NOISE ACCESSORS FAULTS OUT
	printf '%s\n' --seed "$1" --seconds "$2" --threads "$3" --hot "$4" --noise "$5" \
		--accessors "$6" --prog-bytes 256 --faults "$7" --stop-after 5 --quiet --out "$8"
}

# Environment every AFL++ run gets. A piped core_pattern (apport,
# systemd-coredump) would make afl-fuzz refuse to start; crashes are
# still detected through the fork server, only core files are lost.
afl_engine_env() {
	export AFL_NO_UI=1 AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1
	export AFL_IMPORT_FIRST=1
	# Bound to a free core, the target (a child of afl-fuzz) runs on the
	# core afl-fuzz does: every execution is a round trip between the two,
	# and across cores each one wakes the other core (on this project's
	# 2-core VM: 15 us a round trip against 2 us on one core, perf bench
	# sched pipe; AFL++ unbound ran the empty target 16.7k per CPU-s quiet
	# against about 100k bound). TRY: with every core taken (other
	# campaigns, more instances than cores) run unbound instead of failing.
	export AFL_TRY_AFFINITY=1
}
