# bench/lib.sh - sourced by compare.sh and profile.sh.
# shellcheck shell=bash
#
# Boost: the kernel groups processes by session (sched_autogroup), so plain
# `nice` cannot lift a benchmark above the other sessions' load; with the
# machine busy, two worker threads then rarely run at the same time and
# the mt_* figures measure the scheduler. boosted runs its command in a
# session of its own whose autogroup gets nice -19 (needs root; without
# it boost_init warns once and boosted runs unboosted). Other work gets
# the CPU back as soon as the command ends.

# Set boost=0 (with a warning) if boosting is wanted ($boost=1) but
# impossible here.
boost_init() {
	if ((boost)) && ! setsid -w bash -c 'echo -19 >/proc/self/autogroup' 2>/dev/null; then
		echo "$(basename "$0"): warning: cannot raise the autogroup priority (not root?), running unboosted" >&2
		boost=0
	fi
}

# Run "$@", boosted if $boost.
boosted() {
	if ((boost)); then
		setsid -w bash -c 'echo -19 >/proc/self/autogroup && exec "$@"' _ "$@"
	else
		"$@"
	fi
}
