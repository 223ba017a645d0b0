#!/usr/bin/env bash
# tools/campaign/campaign.sh - `vmtorture campaign`: every engine side by
# side for a fixed time, then triage, minimization, reports, corpus merge
# and a summary with plots. See docs/campaigns.md.
#
#   vmtorture campaign [--duration 8h] [--jobs N] [--engines afl,libfuzzer,stress,tsan,sched]
#                      [--out DIR] [--resume] [--no-minimize] [--minimize-seconds S]
#                      [--stress-round S] [--faults RATE] [--cov-every S] [--quiet]
#
# Output directory (never reused unless --resume):
#   campaign.conf state status.tsv   settings, elapsed time, one row per tick
#   logs/<engine>.log                one log per engine (afl-<name>, libfuzzer,
#                                    stress, tsan, sched-libfuzzer, sched-afl)
#                                    plus triage.log, finalize.log
#   afl/ libfuzzer/ stress/ sched/   the engines' own working directories
#                                    (sched: the multi-thread target's
#                                    libFuzzer and AFL++ runs)
#   triage/<id>/                     one directory per signature: signature,
#                                    count, oracle, first, inputs/, min, min.txt,
#                                    report.md
#   corpus/                          merged corpus (libFuzzer -merge=1, afl-cmin,
#                                    text forms in corpus/seq/; the multi-thread
#                                    programs in corpus/mt-merged/, corpus/mt/)
#   summary.md coverage.png execs.png [afl-plot/]
#   engines.tsv                      one row per start of an engine instance
#
# Exit status: 0 nothing found, 1 findings, 2 could not begin, 3 an engine
# failed or died (after one retry), 4 engines were to run and none did.
#
# Binaries (set by campaign.mk; defaults for a plain build):
#   VMT_FZ=build/fuzz VMT_CLI=build/vmtorture VMT_TSAN_CLI=build/tsan/vmtorture
#   VMT_CAMPAIGN_BIN=build/vmt-campaign VMT_SEEDS=build/corpora/seq
#   VMT_COV_BIN=build/fuzz/vmt-cov VMT_COV_MT_BIN=build/fuzz/vmt-mt-cov
#   VMT_MT_SEEDS=build/corpora/mt
set -uo pipefail
# The whole script is one block, read before anything runs: editing or
# updating this file during an overnight campaign cannot derail it.
{

# The pieces, each read in full now (see the block above): functions
# only; the campaign's state is set below.
here=$(dirname "$0")
# shellcheck source=tools/campaign/lib.sh
. "$here/lib.sh" || exit 2
# shellcheck source=tools/campaign/engines.sh
. "$here/engines.sh" || exit 2
# shellcheck source=tools/campaign/launch.sh
. "$here/launch.sh" || exit 2
# shellcheck source=tools/campaign/stats.sh
. "$here/stats.sh" || exit 2
# shellcheck source=tools/campaign/triage.sh
. "$here/triage.sh" || exit 2
# shellcheck source=tools/campaign/finalize.sh
. "$here/finalize.sh" || exit 2

die() { echo "campaign: $*" >&2; exit 2; }

# ---- arguments ----------------------------------------------------------------

duration='' jobs='' engines='' out='' resume=0 minimize=1 min_secs=120 round_secs=10
cov_every='' quiet=0 faults=''
# --faults: 1 allocation in 200 fails in the stress rounds. The core's
# error paths then run under contention in most sessions, while most
# sessions still reach deep trees (bugs.tsv's fault bugs show up from
# 0.002 to 0.05; the correct core stayed silent for 30 min at 0.01).
FAULTS_DEFAULT=0.005
usage() {
	sed -n '2,/^set -uo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2
	exit "${1:-2}"
}
# 8h, 30m, 90s, 90, 1h30m -> seconds
parse_duration() {
	local s=$1 t=0 n
	[[ $s =~ ^([0-9]+[hms]?)+$ ]] || return 1
	while [[ $s =~ ^([0-9]+)([hms]?)(.*)$ ]]; do
		n=${BASH_REMATCH[1]}
		case ${BASH_REMATCH[2]} in h) t=$((t + n * 3600)) ;; m) t=$((t + n * 60)) ;; *) t=$((t + n)) ;; esac
		s=${BASH_REMATCH[3]}
	done
	[ "$t" -gt 0 ] && echo "$t"
}
while [ $# -gt 0 ]; do
	case $1 in
	--duration) [ $# -ge 2 ] || die "--duration needs a value"
		duration=$(parse_duration "$2") || die "bad --duration '$2' (e.g. 8h, 30m, 90s, 90)"; shift ;;
	--duration=*) duration=$(parse_duration "${1#*=}") || die "bad --duration '${1#*=}'" ;;
	--jobs) [ $# -ge 2 ] || die "--jobs needs a value"; jobs=$2; shift ;;
	--jobs=*) jobs=${1#*=} ;;
	--engines) [ $# -ge 2 ] || die "--engines needs a value"; engines=$2; shift ;;
	--engines=*) engines=${1#*=} ;;
	--out) [ $# -ge 2 ] || die "--out needs a value"; out=$2; shift ;;
	--out=*) out=${1#*=} ;;
	--resume) resume=1 ;;
	--no-minimize) minimize=0 ;;
	--minimize-seconds) [ $# -ge 2 ] || die "--minimize-seconds needs a value"; min_secs=$2; shift ;;
	--stress-round) [ $# -ge 2 ] || die "--stress-round needs a value"; round_secs=$2; shift ;;
	--faults) [ $# -ge 2 ] || die "--faults needs a value"; faults=$2; shift ;;
	--faults=*) faults=${1#*=} ;;
	--cov-every) [ $# -ge 2 ] || die "--cov-every needs a value"; cov_every=$2; shift ;;
	--quiet|-q) quiet=1 ;;
	-h|--help) usage 0 ;;
	*) echo "campaign: unknown argument '$1'" >&2; usage ;;
	esac
	shift
done
[ -z "$jobs" ] || [[ $jobs =~ ^[1-9][0-9]*$ ]] || die "--jobs must be a positive number (got '$jobs')"
[[ $min_secs =~ ^[0-9]+$ ]] || die "--minimize-seconds must be a number"
[[ $round_secs =~ ^[1-9][0-9]*$ ]] || die "--stress-round must be a positive number"
[ -z "$cov_every" ] || [[ $cov_every =~ ^[1-9][0-9]*$ ]] || die "--cov-every must be a positive number"
# The chance that an allocation of the core fails in a stress round
# (vmtorture stress --faults): the error paths get the concurrency too.
[ -z "$faults" ] || { [[ $faults =~ ^(0|1|0?\.[0-9]+|1\.0*)$ ]] && awk -v f="$faults" 'BEGIN { exit !(f <= 1) }'; } ||
	die "--faults must be a chance in [0, 1] (got '$faults')"

# Paths given by the user are relative to where they ran us; the binaries
# and scripts relative to the source tree.
root=$(cd "$(dirname "$0")/../.." && pwd)
[ -n "$out" ] || out=build/campaign/$(date -u +%Y%m%d-%H%M%S)
case $out in /*) ;; *) out=$PWD/$out ;; esac
cd "$root" || die "cannot enter $root"

FZ=${VMT_FZ:-build/fuzz}
CLI=${VMT_CLI:-build/vmtorture}
TSAN_CLI=${VMT_TSAN_CLI:-build/tsan/vmtorture}
# TSan rounds keep running after a race (halt_on_error=0) so the stress
# oracles can still say what the race broke: a run's title prefers an
# oracle's verdict to the race report (tools/campaign/sig.c). Exported
# here so that triage and report replays run under the same options.
TSAN_OPTIONS=$(san_options tsan halt_on_error=0)
export TSAN_OPTIONS
SEEDS=${VMT_SEEDS:-build/corpora/seq}
MT_SEEDS=${VMT_MT_SEEDS:-build/corpora/mt}
COV_BIN=${VMT_COV_BIN:-build/fuzz/vmt-cov}
COV_MT_BIN=${VMT_COV_MT_BIN:-build/fuzz/vmt-mt-cov}
# The structure-aware mutator for AFL++ on the multi-thread target (one
# library whatever the planted bug: it edits programs, not the core).
MUTATOR=${VMT_MUTATOR:-build/fuzz/vmt-mutator.so}
DICT=fuzz/vmt.dict
TOOL=${VMT_CAMPAIGN_BIN:-}
if [ -z "$TOOL" ]; then
	if "$CLI" classify --help >/dev/null 2>&1; then TOOL=$CLI; else TOOL=build/vmt-campaign; fi
fi
for v in FZ CLI TSAN_CLI SEEDS MT_SEEDS COV_BIN COV_MT_BIN MUTATOR TOOL; do
	case ${!v} in /*) ;; *) printf -v "$v" '%s' "$root/${!v}" ;; esac
done
export VMT_FZ=$FZ VMT_CLI=$CLI

# ---- the output directory ------------------------------------------------------

if [ $resume = 1 ]; then
	[ -f "$out/campaign.conf" ] || die "$out is not a campaign directory (no campaign.conf); nothing to resume"
	# shellcheck disable=SC1091
	. "$out/campaign.conf"
	engines=${engines:-$c_engines}
	jobs=${jobs:-$c_jobs}
	faults=${faults:-${c_faults:-$FAULTS_DEFAULT}}
	elapsed0=$(cat "$out/state" 2>/dev/null || echo 0)
	[[ $elapsed0 =~ ^[0-9]+$ ]] || elapsed0=0
	# Without a new --duration, run what is left of the original one.
	if [ -z "$duration" ]; then
		duration=$((${c_duration?} - elapsed0))
		[ "$duration" -gt 0 ] || duration=0
	fi
	resumes=$((${c_resumes?} + 1))
else
	if [ -e "$out" ] && [ -n "$(ls -A "$out" 2>/dev/null)" ]; then
		die "$out exists; pass --resume to continue it or choose another --out"
	fi
	elapsed0=0 resumes=0
	duration=${duration:-$((8 * 3600))}
	engines=${engines:-afl,libfuzzer,stress,tsan,sched}
	jobs=${jobs:-$(nproc)}
	faults=${faults:-$FAULTS_DEFAULT}
fi
declare -A on=()
IFS=, read -ra elist <<< "$engines"
for e in "${elist[@]}"; do
	case $e in afl|libfuzzer|stress|tsan|sched) on[$e]=1 ;; *) die "unknown engine '$e' (afl, libfuzzer, stress, tsan, sched)" ;; esac
done
[ ${#on[@]} -gt 0 ] || die "no engines"
mkdir -p "$out"/logs "$out"/triage "$out"/stress/findings "$out"/libfuzzer/corpus \
	"$out"/libfuzzer/artifacts "$out"/sched/libfuzzer/corpus "$out"/sched/libfuzzer/artifacts ||
	die "cannot create $out"
# One campaign per directory. The engines do not inherit the lock (AFL++
# targets detach into their own sessions and could hold it forever);
# instead a resume stops what a killed campaign left running.
exec 9>> "$out/.lock"
# A killed campaign's last short-lived children (a command substitution
# under way at the kill) may hold the lock a little longer: wait a while
# for them; a campaign that is really running keeps it and is refused.
if ! flock -w 15 9; then
	die "$out is in use by another campaign"
fi
if [ -f "$out/pids" ]; then
	while read -r name p; do
		# Only if that pid still runs something of this campaign.
		# (It may end between the test and the read: no message then.)
		if [ -r "/proc/$p/cmdline" ] && { tr '\0' ' ' < "/proc/$p/cmdline"; } 2>/dev/null | grep -q -- "$out"; then
			echo "campaign: stopping $name (pid $p) left running by the previous run" >&2
			kill -INT -- "-$p" 2>/dev/null; sleep 2; kill -KILL -- "-$p" 2>/dev/null
		fi
	done < "$out/pids"
	kill_strays
fi
: > "$out/pids"

# What each engine needs. A missing binary is an engine that cannot
# start: it is switched off, and engines.tsv records it as failed.
declare -A unable=()
need() {	# path engine [why]
	[ -x "$1" ] && return 0
	unable[$2]="${3:-$1 not built}"
	say "$2 disabled: ${unable[$2]}"
	unset "on[$2]"
}
[ -n "${on[afl]:-}" ] && need "$(command -v afl-fuzz)" afl "afl-fuzz not installed"
[ -n "${on[afl]:-}" ] && need "$FZ/vmt-afl" afl
[ -n "${on[afl]:-}" ] && need "$FZ/vmt-afl-cmplog" afl
[ -n "${on[libfuzzer]:-}" ] && need "$FZ/vmt-libfuzzer" libfuzzer
# sched: libFuzzer and AFL++ on the multi-thread target (fuzz/target_mt.c).
[ -n "${on[sched]:-}" ] && need "$(command -v afl-fuzz)" sched "afl-fuzz not installed"
[ -n "${on[sched]:-}" ] && need "$FZ/vmt-mt-libfuzzer" sched
[ -n "${on[sched]:-}" ] && need "$FZ/vmt-mt-afl" sched
[ -n "${on[sched]:-}" ] && need "$MUTATOR" sched
[ -n "${on[sched]:-}" ] && need "$FZ/vmt-mt-replay" sched "$FZ/vmt-mt-replay not built: its findings could not be triaged"
[ -n "${on[sched]:-}" ] && { ls "$MT_SEEDS"/* >/dev/null 2>&1 || die "no multi-thread seeds in $MT_SEEDS (make mt-seeds)"; }
# The stress driver is `vmtorture stress` (its core has the scheduling
# hook behind --noise and poisons freed frames).
# shellcheck disable=SC2034 # used by name: start_stress hands "${!cmdv}" on
STRESS_CMD=("$CLI" stress) TSAN_STRESS_CMD=("$TSAN_CLI" stress)
[ -n "${on[stress]:-}" ] && need "$CLI" stress
[ -n "${on[tsan]:-}" ] && need "$TSAN_CLI" tsan
[ -x "$FZ/vmt-replay" ] || die "$FZ/vmt-replay not built: findings could not be triaged"
[ -x "$TOOL" ] || die "$TOOL not built (make build/vmt-campaign)"
ls "$SEEDS"/* >/dev/null 2>&1 || die "no seeds in $SEEDS (make seeds)"

started=$(now)
deadline=$((started + duration))
cat > "$out/campaign.conf" <<EOF
# written by vmtorture campaign; read back by --resume
c_engines=$engines
c_jobs=$jobs
c_faults=$faults
c_duration=$((elapsed0 + duration))
c_resumes=$resumes
c_fz='$FZ'
c_started_first='${c_started_first:-$(date -u +%FT%TZ)}'
EOF
echo "$(date -u +%FT%TZ) start: engines=$engines jobs=$jobs duration=${duration}s faults=$faults resume=$resume fz=$FZ" >> "$out/logs/campaign.log"

# ---- engines ------------------------------------------------------------------

# Engine instances: afl-main, afl-cmplog, ..., libfuzzer, stress, tsan.
declare -A pid=()		# instance -> pid (its own process group)
declare -A t0=() tries=() off0=() logf=() restart=()

# Engine life as data, one row per start of an instance, for summary.sh:
# run (0, then one more per resume), instance, state, start, end, seconds,
# reason. States: ran (until the campaign stopped it, or to its own end
# at the deadline), retried (stopped early and was started again),
# failed (stopped early without having run), died (stopped early after
# it had run).
ENGINES_TSV=$out/engines.tsv

afl_n=0 lf_n=0
if [ -n "${on[afl]:-}" ]; then
	afl_n=$jobs
	[ -n "${on[libfuzzer]:-}" ] && [ "$jobs" -gt 2 ] && afl_n=$((jobs - jobs / 3))
	[ "$afl_n" -ge 1 ] || afl_n=1
	# Main and cmplog are the minimum worth having.
	[ "$afl_n" -lt 2 ] && [ "$jobs" -ge 2 ] && afl_n=2
fi
[ -n "${on[libfuzzer]:-}" ] && { lf_n=$(( (jobs - afl_n) > 0 ? jobs - afl_n : 1 )); }

# ---- run --------------------------------------------------------------------------

# Whatever happens to this script, no engine outlives it.
trap '[ ${#pid[@]} -gt 0 ] && stop_engines' EXIT
for k in "${!unable[@]}"; do record "$k" failed "$started" "${unable[$k]}"; done

empty_sig=	# what the empty program fails with (preflight, triage.sh)
stopping=0
on_signal() {
	[ $stopping = 1 ] && { echo "campaign: interrupted again, stopping now" >&2; stop_engines; exit 130; }
	stopping=1
	echo "campaign: stopping (Ctrl-C again to skip the final triage and reports)" >&2
}
trap on_signal INT TERM

# Earlier runs' libFuzzer execs (its counter restarts at 0 on resume).
if [ $resume = 1 ]; then
	prev=$(awk '!/^#/ { v = $6 } END { print v + 0 }' "$out/status.tsv" 2>/dev/null)
	echo "${prev:-0}" > "$out/libfuzzer/execs-before"
	# The sched engine's libFuzzer part: its total less AFL++'s, which
	# AFL++ keeps itself.
	prev=$(awk '!/^#/ && NF >= 15 { v = $14 } END { print v + 0 }' "$out/status.tsv" 2>/dev/null)
	echo $(( ${prev:-0} - $(afl_execs "$out/sched/afl") > 0 ? ${prev:-0} - $(afl_execs "$out/sched/afl") : 0 )) > "$out/sched/execs-before"
	echo "campaign: resuming $out (resume #$resumes, ${elapsed0}s done, ${duration}s to go)" >&2
fi

echo "campaign: out $out, engines:${on[afl]:+ afl x$afl_n}${on[libfuzzer]:+ libfuzzer -fork=$lf_n}${on[stress]:+ stress}${on[tsan]:+ tsan}${on[sched]:+ sched (libfuzzer + afl)}, ${duration}s" >&2
preflight
[ "$duration" -gt 0 ] && start_engines
tick=5
[ -n "$cov_every" ] || cov_every=$(( duration / 6 > 600 ? 600 : duration / 6 > 10 ? duration / 6 : 10 ))
last_cov=-1000000 last_triage=$(now) triage_pid='' cov_pid=''
[ $resume = 0 ] && cov_snapshot 0
while [ $stopping = 0 ] && [ "$(now)" -lt "$deadline" ]; do
	sleep "$tick" & wait $! 2>/dev/null
	[ $stopping = 1 ] && break
	status_tick
	# Triage in the background, one pass at a time, so the status line
	# keeps its pace when many findings come in at once.
	if [ $(( $(now) - last_triage )) -ge 10 ] && { [ -z "$triage_pid" ] || ! kill -0 "$triage_pid" 2>/dev/null; }; then
		triage_pass 200 9>&- &
		triage_pid=$!
		last_triage=$(now)
	fi
	t=$(( $(now) - started + elapsed0 ))
	if [ $(( t - last_cov )) -ge "$cov_every" ] && [ "$(now)" -lt $((deadline - 5)) ] &&
	   { [ -z "$cov_pid" ] || ! kill -0 "$cov_pid" 2>/dev/null; }; then
		cov_snapshot "$t" 9>&- &
		cov_pid=$!
		last_cov=$t
	fi
	# An engine that stopped early is started again, once; the rest
	# are recorded by stop_engines. Ending by itself near the deadline
	# (libFuzzer's -max_total_time) is not early; failing to start is.
	for k in "${!pid[@]}"; do
		kill -0 "${pid[$k]}" 2>/dev/null && continue
		if [ "$(now)" -lt $((deadline - 10)) ] || { [ "$(now)" -lt $((deadline - 2)) ] && ! has_run "$k"; }; then
			engine_stopped "$k"
		fi
	done
	# Every instance is down for good (each failed or died after its
	# retry): waiting for the deadline would test nothing more.
	[ ${#pid[@]} -gt 0 ] || break
done
stop_engines
[ -n "${triage_pid:-}" ] && wait "$triage_pid" 2>/dev/null
[ -n "${cov_pid:-}" ] && wait "$cov_pid" 2>/dev/null
status_tick
trap 'echo "campaign: interrupted during the final steps; rerun with --resume --duration 1 to redo them" >&2; exit 130' INT TERM
echo "$(date -u +%FT%TZ) engines stopped after $(( $(now) - started ))s" >> "$out/logs/campaign.log"

# ---- the morning after: triage, minimize, report, merge, summary -------------------

exec 3>&2
finalize > "$out/logs/finalize.log" 2>&1
grep -E '^(report|minimize|verdict):' "$out/logs/finalize.log" >&3

# AFL++'s own plots, when it ran long enough to have them.
if [ -f "$out/afl/main/plot_data" ]; then
	afl-plot "$out/afl/main" "$out/afl-plot" >> "$out/logs/finalize.log" 2>&1 ||
		rm -rf "$out/afl-plot"
fi
bash "$root/tools/campaign/summary.sh" "$out" >> "$out/logs/finalize.log" 2>&1 ||
	echo "campaign: summary failed (see $out/logs/finalize.log)" >&2
echo "$(date -u +%FT%TZ) done" >> "$out/logs/campaign.log"
echo "campaign: done: $out/summary.md ($(nsigs) signature(s))" >&2
# Exit 0: nothing found; 1: findings (scripts such as make run can tell);
# 3: an engine failed to start or died, after its retry; 4: engines were
# to run and none did. Engines that stop on a failing empty program are
# explained by that finding (1).
final() { awk -F'\t' -v r="$resumes" -v re="$1" '$1 == r && $3 ~ re' "$ENGINES_TSV" 2>/dev/null | wc -l; }
rc=0
[ "$(nsigs)" -eq 0 ] || rc=1
if [ -z "$empty_sig" ] && [ "$(final '^(failed|died)$')" -gt 0 ]; then
	rc=3
	[ "$(final '^(ran|died)$')" -eq 0 ] && rc=4
	echo "campaign: FAILED: $(final '^(failed|died)$') engine(s) did not run through; see the top of $out/summary.md" >&2
fi
exit $rc
}
