#!/usr/bin/env bash
# tools/sched/profile.sh BIN [bench args] - where a controlled execution of
# the shipped scenarios spends its time: perf (software event cpu-clock,
# this VM has no PMU) over `BIN bench`, self time summed by source file:
#   core       libvms's operations (and the sync layer inlined into them)
#   checker    vms_space_check at the end of every run (check.c)
#   scheduler  sched.c, the policies (tools/sched/policy.c)
#   model      model/model.c and the model steps (step_model.c)
#   executor   the controlled executor, the core steps, the end sweep,
#              the op module, sorting the events
#   libc       allocation, zeroing and copying (frames are zeroed when
#              allocated; records and events are allocated per run)
#   other      no source line (the kernel, the sanitizer runtime)
set -euo pipefail
bin=${1:?usage: profile.sh BIN [bench args]}; shift
[ $# -gt 0 ] || set -- --runs 3000 --reps 3 corpora/mt/*.txt
data=$(mktemp /tmp/sched-mt-profile.XXXXXX)
trap 'rm -f "$data" "$data.old"' EXIT
perf record -q -e cpu-clock -o "$data" "$bin" bench "$@" >/dev/null 2>&1
perf report -i "$data" --no-children --sort srcfile --stdio 2>/dev/null |
awk '
/^#/ || NF < 1 { next }
{
	pct = $1; sub("%", "", pct); f = NF > 1 ? $2 : ""
	if (f ~ /^(lock|pool|cursor|space|access|debug|sync)\.c$/ || f ~ /^(sync|pte|internal|types|pool|cursor|space|access)\.h$/) c = "core"
	else if (f == "check.c") c = "checker"
	else if (f ~ /^(sched|policy)\.c$/ || f ~ /^(scheduler|policy)\.h$/) c = "scheduler"
	else if (f ~ /^(model|step_model)\.c$/) c = "model"
	else if (f ~ /^(exec_mt|step_core|exec|op|op_bin|op_text|reuse|sched_cli|msort|qsort)\.c$/ || f ~ /^(op|step)\.h$/) c = "executor"
	else if (f != "" && (f ~ /\.S$/ || f ~ /^(malloc|arena|memcpy|memset|memmove|memcmp)/)) c = "libc"
	else c = "other"
	sum[c] += pct
}
END { for (c in sum) printf "  %-10s %5.1f%%\n", c, sum[c] }' | sort -k2 -rn
