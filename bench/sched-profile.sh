#!/usr/bin/env bash
# bench/sched-profile.sh - where a controlled execution spends its time:
# perf (software event cpu-clock: this VM has no PMU) over vms-sched-bench,
# self time summed by mechanism.
#
#   bench/sched-profile.sh BENCH_BIN [bench args...]
#
# switching: the context switch and the sanitizer's fiber calls;
# scheduler: sched.c's decisions and waits; policy: tools/sched;
# core: libvms and the workload; libc: memset/malloc (frames are zeroed
# on allocation); kernel: page faults, mmap/munmap of pools and stacks.
set -euo pipefail
bin=${1:?usage: sched-profile.sh BENCH_BIN [args]}; shift
data=$(mktemp /tmp/sched-profile.XXXXXX)
trap 'rm -f "$data" "$data.old"' EXIT
perf record -q -e cpu-clock -o "$data" "$bin" "$@" >/dev/null 2>&1
perf report -i "$data" --no-children --sort dso,symbol --stdio 2>/dev/null |
awk '
/^#/ || NF < 3 { next }
{
	pct = $1; sub("%", "", pct); dso = $2; sym = $4
	if ($3 == "[k]") cat = "kernel"
	else if (sym ~ /^(vms_sched_ctx_swap|switch_to|asan_before|asan_after)$/ || sym ~ /switch_fiber/) cat = "switching"
	else if (sym ~ /^(choose|decide|vms_sched_point|runnable_mask|may_run|holder|block_here|vms_sched_block|vms_sched_grace|thread_start|thread_main|vms_sched_run|vms_sched_spawn|vms_sched_alive|vms_sched_join|vms_sched_default_choice)$/) cat = "scheduler"
	else if (sym ~ /^vmt_/) cat = "policy"
	else if (dso ~ /libc/) cat = "libc"
	else if (sym ~ /asan|sanitizer|ubsan/) cat = "sanitizer runtime"
	else cat = "core and workload"
	sum[cat] += pct
}
END { for (c in sum) printf "  %-18s %5.1f%%\n", c, sum[c] }' | sort -k2 -rn
