# shellcheck shell=bash
# sanitizers/options.sh - the runtime options of every sanitized binary,
# from the one place they live: sanitizers/<name>.options (sourced, not
# run; make reads the same files through sanitizers.mk). Engines add to
# them in fuzz/engine-options.sh; any script that starts a sanitized
# binary sets its *SAN_OPTIONS from here.

san_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# san_options NAME [OPTION...]: sanitizers/NAME.options (asan, ubsan,
# tsan, msan), then each OPTION, ':'-separated. The runtimes take the
# last value of a key, so an OPTION overrides the file's; the caller says
# why it needs one.
san_options() {
	local o x
	o=$(cat "$san_dir/$1.options") || return 1
	shift
	for x; do o+=":$x"; done
	printf '%s\n' "$o"
}
