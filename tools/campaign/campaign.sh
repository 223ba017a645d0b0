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

die() { echo "campaign: $*" >&2; exit 2; }
now() { date +%s; }

# Our fuzz binaries still reading their input from this campaign's
# directory: AFL++'s persistent children sit stopped in sessions of their
# own and outlive a killed afl-fuzz (or a killed campaign), so neither the
# process groups nor the parent links reach them.
kill_strays() {
	local fz_abs out_abs p
	fz_abs=$(readlink -f "$FZ")
	out_abs=$(readlink -f "$out")
	for p in /proc/[0-9]*; do
		case $(readlink "$p/exe" 2>/dev/null) in "$fz_abs"/*) ;; *) continue ;; esac
		case $(readlink "$p/fd/0" 2>/dev/null) in "$out_abs"/*) kill -KILL "${p#/proc/}" 2>/dev/null ;; esac
	done
}

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
TSAN_OPTIONS="$(cat sanitizers/tsan.options 2>/dev/null):halt_on_error=0"
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
		if [ -r "/proc/$p/cmdline" ] && tr '\0' ' ' < "/proc/$p/cmdline" | grep -q -- "$out"; then
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
	echo "campaign: $2 disabled: ${unable[$2]}" | tee -a "$out/logs/campaign.log" >&2
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
start_bg() {	# name log cmd...
	local name=$1 log=$2
	shift 2
	off0[$name]=$(stat -c %s "$log" 2>/dev/null || echo 0)
	t0[$name]=$(now) logf[$name]=$log tries[$name]=$(( ${tries[$name]:-0} + 1 ))
	setsid "$@" >> "$log" 2>&1 < /dev/null 9>&- &
	pid[$name]=$!
	echo "$name ${pid[$name]}" >> "$out/pids"
}

# Engine life as data, one row per start of an instance, for summary.sh:
# run (0, then one more per resume), instance, state, start, end, seconds,
# reason. States: ran (until the campaign stopped it, or to its own end
# at the deadline), retried (stopped early and was started again),
# failed (stopped early without having run), died (stopped early after
# it had run).
ENGINES_TSV=$out/engines.tsv
iso() { date -u -d "@$1" +%FT%TZ; }
record() {	# instance state end reason
	[ -f "$ENGINES_TSV" ] ||
		printf '# run\tinstance\tstate\tstart\tend\tseconds\treason\n' > "$ENGINES_TSV"
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$resumes" "$1" "$2" "$(iso "${t0[$1]:-$3}")" \
		"$(iso "$3")" "$(( $3 - ${t0[$1]:-$3} ))" "$(tr '\t' ' ' <<< "$4" | cut -c1-240)" >> "$ENGINES_TSV"
}
# What the instance wrote since it was started.
since_start() { tail -c +$(( ${off0[$1]} + 1 )) "${logf[$1]}" 2>/dev/null | sed 's/\x1b\[[0-9;]*[A-Za-z]//g; s/\r//g'; }
# Did it get going: AFL++ past its dry run, libFuzzer through its first
# inputs, a stress loop through a round that started.
# (A here-string, not a pipe: grep -q would stop reading early, and
# under pipefail the writer's SIGPIPE would turn a match into a miss.)
has_run() {
	local log
	log=$(since_start "$1")
	case $1 in
	afl-*|sched-afl) grep -qE 'All test cases processed|Entering queue cycle' <<< "$log" ;;
	libfuzzer|sched-libfuzzer) grep -qE '^#[0-9]+' <<< "$log" ;;
	*) grep -q ' round=[0-9]* seed=' <<< "$log" ;;
	esac
}
# One line saying why an instance stopped: AFL++'s abort message, a
# stress round that could not start, else the last error-like line.
reason_of() {	# instance status
	local line
	line=$(since_start "$1" | sed -n 's/.*PROGRAM ABORT : *//p; s/.* could not start /could not start /p' | tail -1)
	[ -n "$line" ] || line=$(since_start "$1" | grep -iE 'error|fatal|abort|cannot|not found|no such|denied|killed' | tail -1)
	[ -n "$line" ] || line=$(since_start "$1" | grep -v '^[[:space:]]*$' | tail -1)
	line=$(sed 's/^[[:space:]]*//' <<< "$line")
	echo "exit $2${line:+: $line}${empty_sig:+ (the empty program fails: $empty_sig)}"
}
# When an instance that is gone stopped: its log's last write, which
# comes before the tick that noticed.
ended() {
	local m t
	t=$(now)
	m=$(stat -c %Y "${logf[$1]}" 2>/dev/null || echo "$t")
	[ "$m" -lt "${t0[$1]}" ] && m=${t0[$1]}
	[ "$m" -gt "$t" ] && m=$t
	echo "$m"
}
# An instance stopped before the campaign did: start it once more; the
# second time it stays down and the campaign will fail.
engine_stopped() {	# instance
	local k=$1 rc why state=failed end
	wait "${pid[$k]}" 2>/dev/null
	rc=$?
	unset "pid[$k]"
	why=$(reason_of "$k" "$rc")
	end=$(ended "$k")
	has_run "$k" && state=died
	if [ "${tries[$k]}" -lt 2 ] && [ $stopping = 0 ]; then
		record "$k" retried "$end" "$why"
		echo "campaign: $k stopped after $((end - t0[$k]))s ($why); starting it again" |
			tee -a "$out/logs/campaign.log" >&2
		${restart[$k]} "$((deadline - $(now)))"
	else
		record "$k" "$state" "$end" "$why"
		echo "campaign: $k $state after $((end - t0[$k]))s: $why" | tee -a "$out/logs/campaign.log" >&2
	fi
}

afl_n=0 lf_n=0
if [ -n "${on[afl]:-}" ]; then
	afl_n=$jobs
	[ -n "${on[libfuzzer]:-}" ] && [ "$jobs" -gt 2 ] && afl_n=$((jobs - jobs / 3))
	[ "$afl_n" -ge 1 ] || afl_n=1
	# Main and cmplog are the minimum worth having.
	[ "$afl_n" -lt 2 ] && [ "$jobs" -ge 2 ] && afl_n=2
fi
[ -n "${on[libfuzzer]:-}" ] && { lf_n=$(( (jobs - afl_n) > 0 ? jobs - afl_n : 1 )); }

# Power schedules rotate over the plain secondaries (see afl-fuzz -h).
scheds=(exploit rare coe lin quad seek mmopt)
start_afl() {
	local remain=$1 i
	mkdir -p "$out/afl" "$out/afl-in"
	[ -n "$(ls -A "$out/afl-in")" ] || cp "$SEEDS"/* "$out/afl-in/"
	export AFL_NO_UI=1 AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1
	export AFL_IMPORT_FIRST=1 AFL_AUTORESUME=1 AFL_NO_AFFINITY=1 AFL_FAST_CAL=1
	export AFL_CMPLOG_ONLY_NEW=1
	# A seed that crashes in the dry run is skipped, not fatal: 4.04c
	# skips it unless AFL_EXIT_ON_SEED_ISSUES; AFL_SKIP_CRASHES says so
	# for the versions before. (If every seed crashes, afl-fuzz stops:
	# the empty-program pre-flight below then explains it.)
	export AFL_SKIP_CRASHES=1
	for ((i = 1; i <= afl_n; i++)); do
		start_afl_one "$i" "$remain"
	done
}
start_afl_one() {	# index remaining-seconds
	local i=$1 remain=$2 name args
	case $i in
	# -F: the main instance also imports libFuzzer's finds.
	1) name=main; args=(-M main -p fast -F "$out/libfuzzer/corpus" -- "$FZ/vmt-afl") ;;
	2) name=cmplog; args=(-S cmplog -p explore -c 0 -l 2AT -- "$FZ/vmt-afl-cmplog") ;;
	3) if [ -x "$FZ/vmt-afl-asan" ]; then name=asan; args=(-S asan -p coe -- "$FZ/vmt-afl-asan")
	   else name=s3; args=(-S s3 -p coe -- "$FZ/vmt-afl"); fi ;;
	*) name=s$i; args=(-S "s$i" -p "${scheds[(i - 4) % ${#scheds[@]}]}")
	   [ $((i % 3)) = 0 ] && args+=(-L 0)	# MOpt on some
	   args+=(-- "$FZ/vmt-afl") ;;
	esac
	echo "== $(date -u +%FT%TZ) afl-fuzz $name (remaining ${remain}s)" >> "$out/logs/afl-$name.log"
	restart[afl-$name]="start_afl_one $i"
	# -t 1000+: the default 1000 ms limit per run, but a seed that
	# times out in the dry run (a slow one on a loaded machine) is
	# skipped instead of stopping afl-fuzz; without the '+' 4.04c
	# aborts ("Test case ... results in a timeout").
	ASAN_OPTIONS="abort_on_error=1:symbolize=0:detect_leaks=0:allocator_may_return_null=1" \
	UBSAN_OPTIONS="halt_on_error=1:abort_on_error=1" \
	start_bg "afl-$name" "$out/logs/afl-$name.log" \
		afl-fuzz -i "$out/afl-in" -o "$out/afl" -x "$DICT" -t 1000+ -V "$((remain + 30))" \
		"${args[@]}"
}

lf_flags() {	# fuzz/vmt-libfuzzer.options, [libfuzzer] section
	awk -F= '/^\[/{s=$0} s=="[libfuzzer]" && NF==2 && $1 !~ /^#/ {
		gsub(/[ \t]/,"",$1); gsub(/^[ \t]+|[ \t]+$/,"",$2);
		if ($1 == "dict") $2 = "fuzz/" $2; print "-" $1 "=" $2 }' fuzz/vmt-libfuzzer.options
}
start_libfuzzer() {
	local remain=$1 q
	mapfile -t lff < <(lf_flags)
	# AFL++'s queue joins the corpora once it exists.
	q=(); [ -d "$out/afl/main/queue" ] && q=("$out/afl/main/queue")
	echo "== $(date -u +%FT%TZ) libFuzzer -fork=$lf_n (remaining ${remain}s)" >> "$out/logs/libfuzzer.log"
	restart[libfuzzer]=start_libfuzzer
	# Overnight: a crash is saved and the campaign goes on (-ignore_crashes).
	ASAN_OPTIONS="detect_leaks=0:symbolize=1" \
	start_bg libfuzzer "$out/logs/libfuzzer.log" \
		"$FZ/vmt-libfuzzer" "${lff[@]}" -fork="$lf_n" -ignore_crashes=1 -ignore_timeouts=1 \
		-ignore_ooms=1 -max_total_time="$remain" -artifact_prefix="$out/libfuzzer/artifacts/" \
		"$out/libfuzzer/corpus" "$SEEDS" "${q[@]}"
}

# The sched engine: the multi-thread target, one libFuzzer (fork mode, so
# that a crash is saved and it goes on) and one AFL++ instance, each from
# the shipped multi-thread scenarios alone: with the sequential seeds
# beside them (30 inputs, not 6) the few that hold a race got a small
# share of libFuzzer's mutations and AFL++ had not reached them after a
# minute (fuzz/README.md, make bugcheck-fuzz-mt). Their own
# directories: the target is another binary, its corpus is not the
# sequential engines'. Both mutate with the structure-aware mutator
# (fuzz/mutator.c: linked into vmt-mt-libfuzzer, loaded by afl-fuzz, whose
# havoc it replaces, AFL_CUSTOM_MUTATOR_ONLY: it does byte edits itself).
start_sched() {
	local remain=$1
	mkdir -p "$out/sched/in" "$out/sched/afl"
	[ -n "$(ls -A "$out/sched/in")" ] || cp "$MT_SEEDS"/* "$out/sched/in/"
	start_sched_libfuzzer "$remain"
	start_sched_afl "$remain"
}
start_sched_libfuzzer() {
	local remain=$1
	mapfile -t lff < <(lf_flags)
	echo "== $(date -u +%FT%TZ) libFuzzer on the multi-thread target (remaining ${remain}s)" >> "$out/logs/sched-libfuzzer.log"
	restart[sched-libfuzzer]=start_sched_libfuzzer
	ASAN_OPTIONS="detect_leaks=0:symbolize=1" \
	start_bg sched-libfuzzer "$out/logs/sched-libfuzzer.log" \
		"$FZ/vmt-mt-libfuzzer" "${lff[@]}" -fork=1 -ignore_crashes=1 -ignore_timeouts=1 \
		-ignore_ooms=1 -max_total_time="$remain" -artifact_prefix="$out/sched/libfuzzer/artifacts/" \
		"$out/sched/libfuzzer/corpus" "$out/sched/in"
}
start_sched_afl() {
	local remain=$1
	echo "== $(date -u +%FT%TZ) afl-fuzz on the multi-thread target (remaining ${remain}s)" >> "$out/logs/sched-afl.log"
	restart[sched-afl]=start_sched_afl
	AFL_NO_UI=1 AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_IMPORT_FIRST=1 \
	AFL_AUTORESUME=1 AFL_NO_AFFINITY=1 AFL_FAST_CAL=1 AFL_SKIP_CRASHES=1 \
	AFL_CUSTOM_MUTATOR_LIBRARY="$MUTATOR" AFL_CUSTOM_MUTATOR_ONLY=1 VMT_MT_HINTS="$out/sched/afl-hints" \
	ASAN_OPTIONS="abort_on_error=1:symbolize=0:detect_leaks=0:allocator_may_return_null=1" \
	UBSAN_OPTIONS="halt_on_error=1:abort_on_error=1" \
	start_bg sched-afl "$out/logs/sched-afl.log" \
		afl-fuzz -i "$out/sched/in" -o "$out/sched/afl" -x "$DICT" -t 1000+ -V "$((remain + 30))" \
		-M main -p fast -F "$out/sched/libfuzzer/corpus" -- "$FZ/vmt-mt-afl"
}

# Stress rounds with fresh seeds until the deadline. A failing round keeps
# its log and leaves a finding record (see tools/campaign/stress.c). A
# round that could not even start (no "seed" line: the driver is missing
# or broken) ends the loop with status 3 and one line saying why; the
# campaign retries the loop once.
stress_loop() {	# kind command...
	local kind=$1 n=0 seed secs rc left rec k
	shift
	local cmd=("$@")
	local dir=$out/stress/$kind
	mkdir -p "$dir"
	n=$(cat "$dir/next" 2>/dev/null || echo 0)
	# Each round has its shape, as rcutorture's scenarios do: a small hot
	# region makes every session overlap, a big one makes them disjoint
	# and detaches whole tables; more threads than cores and scheduling
	# noise widen race windows; the even-numbered accessors linger in
	# their read-side sections, the odd-numbered ones copy at full speed.
	# Each dimension is a list shuffled once per pass and cycled, so
	# every value of every dimension comes within five rounds (the first
	# minute has short rounds), and the passes mix the combinations.
	# The finding records the shape.
	local -a dims=("2 3 4 6" "1m 2m 8m 16m 4g" "0 10 100" "1 2 3") deck=() pos=()
	[ "$kind" = tsan ] && dims[0]="2 3"
	while :; do
		left=$((deadline - $(now)))
		[ "$left" -ge 3 ] || break
		# Short rounds in the campaign's first minute: more shapes early.
		secs=$round_secs
		[ $(( $(now) - started + elapsed0 )) -lt 60 ] && [ "$secs" -gt 3 ] && secs=3
		[ $((left - 2)) -lt "$secs" ] && secs=$((left - 2))
		local -a shape=()
		for k in 0 1 2 3; do
			if [ -z "${deck[k]:-}" ] || [ "${pos[k]}" -ge "$(wc -w <<< "${deck[k]}")" ]; then
				deck[k]=$(tr ' ' '\n' <<< "${dims[k]}" | shuf | paste -sd' ')
				pos[k]=0
			fi
			read -ra vals <<< "${deck[k]}"
			shape[k]=${vals[pos[k]]}
			pos[k]=$((pos[k] + 1))
		done
		seed=$(od -An -N8 -tu8 /dev/urandom | tr -d ' ')
		n=$((n + 1))
		echo $n > "$dir/next"
		local args=("${cmd[@]}" --seed "$seed" --seconds "$secs" --threads "${shape[0]}"
			    --hot "${shape[1]}" --noise "${shape[2]}" --accessors "${shape[3]}"
			    --prog-bytes 256 --faults "$faults" --stop-after 5 --quiet --out "$dir/saved")
		local t0
		t0=$(now)
		times > "$dir/cpu-before"	# not $(times): a subshell's children start at 0
		timeout -k 5 $((secs * 3 + 30)) "${args[@]}" > "$dir/round-$n.log" 2>&1
		rc=$?
		times > "$dir/cpu-after"
		if ! grep -q '^seed 0x' "$dir/round-$n.log"; then
			echo "$(date -u +%T) round=$n could not start (exit $rc): $(grep -v '^[[:space:]]*$' "$dir/round-$n.log" | tail -1)"
			exit 3
		fi
		local sig
		sig=$("$TOOL" classify --log "$dir/round-$n.log" 2>/dev/null | cut -f3)
		[ $rc = 124 ] && [ -z "$sig" ] && sig="ORACLE watchdog: no progress"	# the round never ended: the watchdog's title
		[ $rc != 0 ] && [ -z "$sig" ] && sig="ORACLE exit: $rc"
		printf '%s round=%d seed=%s seconds=%s threads=%s hot=%s noise=%s accessors=%s faults=%s rc=%d %s\n' \
			"$(date -u +%T)" "$n" "$seed" "$secs" "${shape[@]}" "$faults" "$rc" "${sig:+FINDING: $sig}"
		tail -3 "$dir/round-$n.log" | sed 's/^/    /'
		# end, wall seconds, rc, the shape, CPU seconds of the round
		echo "$(now) $(( $(now) - t0 )) $rc ${shape[*]} $(cpu_s "$dir/cpu-after") $(cpu_s "$dir/cpu-before")" |
			awk '{ printf "%s %s %s %s %s %s %s %.2f\n", $1, $2, $3, $4, $5, $6, $7, $8 - $9 }' >> "$dir/rounds"
		# The first 10 of each signature become records; the rest are
		# only counted (a bug that fires every round would bury triage).
		local seen=0
		[ -n "$sig" ] && seen=$(grep -cxF -- "$sig" "$dir/signatures" 2>/dev/null)
		[ -n "$sig" ] && echo "$sig" >> "$dir/signatures"
		if [ -n "$sig" ] && [ "${seen:-0}" -lt 10 ]; then
			rec=$out/stress/findings/$kind-$n.rec
			{
				echo "# vmtorture stress finding"
				echo "signature: $sig"
				for a in "${args[@]}"; do echo "arg: $a"; done
			} > "$rec.tmp" && mv "$rec.tmp" "$rec"
		else
			rm -f "$dir/round-$n.log"
		fi
	done
}
# CPU seconds of the children, from what `times` wrote to @1 (its second
# line: children's user and system time, "1m2.50s 0m0.30s").
cpu_s() { tail -1 "$1" | sed -E 's/([0-9]+)m([0-9.]+)s/\1 \2/g' | awk '{ printf "%.2f", $1 * 60 + $2 + $3 * 60 + $4 }'; }

start_engines() {
	local remain=$((deadline - $(now)))
	[ -n "${on[afl]:-}" ] && start_afl "$remain"
	[ -n "${on[libfuzzer]:-}" ] && start_libfuzzer "$remain"
	[ -n "${on[stress]:-}" ] && start_stress stress
	[ -n "${on[tsan]:-}" ] && start_stress tsan
	[ -n "${on[sched]:-}" ] && start_sched "$remain"
}
start_stress() {	# stress|tsan
	local k=$1 cmdv=STRESS_CMD
	[ "$k" = tsan ] && cmdv=TSAN_STRESS_CMD
	restart[$k]="start_stress $k"
	start_bg "$k" "$out/logs/$k.log" bash -c "$(declare -f now cpu_s stress_loop); \
		$(declare -p out deadline started elapsed0 round_secs faults TOOL $cmdv); stress_loop $k \"\${${cmdv}[@]}\""
}

# Every process below @1, by parent links (AFL++ targets leave the
# engine's process group: afl-fuzz puts its fork server in a session of
# its own).
descendants() {
	ps -eo pid=,ppid= | awk -v root="$1" '
		{ kids[$2] = kids[$2] " " $1 }
		END { n = split(kids[root], q, " "); for (i = 1; i <= n; i++) {
			print q[i]; m = split(kids[q[i]], more, " ");
			for (j = 1; j <= m; j++) q[++n] = more[j] } }'
}

stop_engines() {
	local p k t rc
	local -a below=()
	# What each instance did, before it is stopped: still running (or
	# done on its own, as libFuzzer is at -max_total_time), it ran.
	for k in "${!pid[@]}"; do
		if kill -0 "${pid[$k]}" 2>/dev/null; then
			record "$k" ran "$(now)" ""
			continue
		fi
		wait "${pid[$k]}" 2>/dev/null
		rc=$?
		if has_run "$k"; then
			# libFuzzer -fork ends at its -max_total_time with the
			# last job's status: 77 when that job found a crash.
			grep -q 'INFO: fuzzed for [0-9]* seconds' <<< "$(since_start "$k")" && rc=0
			[ $rc = 0 ] && record "$k" ran "$(ended "$k")" "" ||
				record "$k" died "$(ended "$k")" "$(reason_of "$k" $rc)"
		else
			record "$k" failed "$(ended "$k")" "$(reason_of "$k" $rc)"
		fi
	done
	# Debian's 4.04c leaves the -c 0 CmpLog child stopped (SIGSTOP) when
	# afl-fuzz exits; note the whole tree now and kill what outlives it.
	for k in "${!pid[@]}"; do mapfile -t -O "${#below[@]}" below < <(descendants "${pid[$k]}"); done
	for k in "${!pid[@]}"; do kill -INT -- "-${pid[$k]}" 2>/dev/null; done
	# afl-fuzz and libFuzzer write their final stats on SIGINT; give them time.
	for ((t = 0; t < 20; t++)); do
		local alive=0
		for k in "${!pid[@]}"; do kill -0 "${pid[$k]}" 2>/dev/null && alive=1; done
		[ $alive = 0 ] && break
		sleep 0.5
	done
	for k in "${!pid[@]}"; do kill -KILL -- "-${pid[$k]}" 2>/dev/null; done
	for k in "${!pid[@]}"; do p=${pid[$k]}; wait "$p" 2>/dev/null; done
	local fz_abs
	fz_abs=$(readlink -f "$FZ")	# /proc/PID/exe is absolute; $FZ may not be
	for p in "${below[@]}"; do
		# Only if it is still one of this campaign's binaries (no pid reuse).
		case $(readlink "/proc/$p/exe" 2>/dev/null) in "$fz_abs"/*) kill -KILL "$p" 2>/dev/null ;; esac
	done
	kill_strays
	pid=()
}

# ---- statistics -----------------------------------------------------------------

afl_stat() { [ -f "$1" ] && awk -F' *: *' -v k="$2" '$1 == k { print $2; exit }' "$1"; }
# Sum of a fuzzer_stats key over all AFL++ instances.
afl_sum() { local s=0 f v; for f in "$out"/afl/*/fuzzer_stats; do v=$(afl_stat "$f" "$1"); s=$((s + ${v:-0})); done; echo $s; }
# AFL++ refreshes fuzzer_stats about once a minute, plot_data every 5 s
# after the first minute: take the newest of the two. (@1: the AFL++
# output directory, afl/ or sched/afl/.)
afl_execs() {
	local s=0 d a b
	for d in "${1:-$out/afl}"/*/; do
		a=$(afl_stat "$d/fuzzer_stats" execs_done); a=${a:-0}
		b=$(awk -F', *' '!/^#/ && NF > 11 { v = $12 } END { print v + 0 }' "$d/plot_data" 2>/dev/null)
		[ "${b:-0}" -gt "$a" ] && a=$b
		s=$((s + a))
	done
	echo $s
}
afl_edges() { local m=0 v f; for f in "$out"/afl/*/fuzzer_stats; do v=$(afl_stat "$f" edges_found); [ "${v:-0}" -gt $m ] && m=$v; done; echo $m; }
afl_queue() { find "$out"/afl/*/queue -maxdepth 1 -name 'id:*' 2>/dev/null | wc -l; }
afl_crashes() { find "$out"/afl/*/crashes* -maxdepth 1 -name 'id:*' 2>/dev/null | wc -l; }
# libFuzzer: the last "#N ... cov: C ..." line; in fork mode "#N: cov: C ...".
lf_last() { grep -aE '^#[0-9]+:? ' "$out/logs/${1:-libfuzzer}.log" 2>/dev/null | tail -1; }
lf_execs_now() { lf_last | sed -E 's/^#([0-9]+).*/\1/'; }
lf_cov() { lf_last | sed -nE 's/.* cov: ([0-9]+).*/\1/p'; }
# Executions of earlier runs of this campaign (resume) are kept in state files.
lf_execs() { local a b; a=$(lf_execs_now); b=$(cat "$out/libfuzzer/execs-before" 2>/dev/null); echo $(( ${a:-0} + ${b:-0} )); }
lf_crashes() { find "$out/libfuzzer/artifacts" -maxdepth 1 -type f 2>/dev/null | wc -l; }
stress_rounds() { cat "$out/stress/$1/rounds" 2>/dev/null | wc -l; }
stress_findings() { cat "$out/stress/$1/signatures" 2>/dev/null | wc -l; }
# The sched engine: both instances' executions (libFuzzer's counter
# restarts on resume: earlier runs' are in sched/execs-before), and
# crash files.
sched_execs() {
	local a b
	a=$(lf_last sched-libfuzzer | sed -E 's/^#([0-9]+).*/\1/')
	b=$(cat "$out/sched/execs-before" 2>/dev/null)
	echo $(( ${a:-0} + ${b:-0} + $(afl_execs "$out/sched/afl") ))
}
sched_crashes() {
	{ find "$out"/sched/afl/*/crashes* -maxdepth 1 -name 'id:*' 2>/dev/null
	  find "$out/sched/libfuzzer/artifacts" -maxdepth 1 -type f 2>/dev/null; } | wc -l
}
# How many of its report's replays reproduced a finding: hits= in the
# triage/<id>/verdict that vmtorture report writes (key=value lines, the
# data; report.md is prose for people), or nothing.
hits() { sed -n 's/^hits=//p' "$1/verdict" 2>/dev/null; }
nsigs() { find "$out/triage" -mindepth 1 -maxdepth 1 -type d ! -name unreproduced 2>/dev/null | wc -l; }

# Line coverage of core/src (without debug.c: test-only hooks) from
# replaying everything the engines kept, on the coverage build.
cov_snapshot() {
	local t=$1 dir pct
	dir=$out/cov/t$t
	[ -x "$COV_BIN" ] || return 0
	command -v llvm-profdata-14 >/dev/null || return 0
	mkdir -p "$dir"
	local inputs=("$SEEDS" "$out/libfuzzer/corpus")
	local q
	for q in "$out"/afl/*/queue; do [ -d "$q" ] && inputs+=("$q"); done
	LLVM_PROFILE_FILE="$dir/p-%p.profraw" timeout 120 "$COV_BIN" -q "${inputs[@]}" > /dev/null 2>&1
	# The multi-thread programs on the multi-thread coverage build (the
	# controlled core): one report over both binaries.
	local objs=("$COV_BIN") mt=("$MT_SEEDS")
	if [ -n "${on[sched]:-}" ] && [ -x "$COV_MT_BIN" ]; then
		[ -d "$out/sched/libfuzzer/corpus" ] && mt+=("$out/sched/libfuzzer/corpus")
		for q in "$out"/sched/afl/*/queue; do [ -d "$q" ] && mt+=("$q"); done
		LLVM_PROFILE_FILE="$dir/p-mt-%p.profraw" timeout 120 "$COV_MT_BIN" -q "${mt[@]}" > /dev/null 2>&1
		objs+=(-object "$COV_MT_BIN")
	fi
	llvm-profdata-14 merge -sparse "$dir"/p-*.profraw -o "$dir/all.profdata" 2>/dev/null || { rm -rf "$dir"; return 0; }
	pct=$(llvm-cov-14 report "${objs[@]}" -instr-profile="$dir/all.profdata" core/src/*.c 2>/dev/null |
		awk '$2 ~ /^[0-9]+$/ && $1 != "TOTAL" && $1 !~ /debug\.c$/ { l += $8; m += $9 }
		     END { if (l) printf "%.2f", 100 * (l - m) / l }')
	rm -f "$dir"/p-*.profraw
	[ -n "$pct" ] && echo "$t $pct" >> "$out/coverage.tsv"
	rm -rf "$dir"
}

status_header='# t_s afl_execs afl_edges afl_queue afl_crashes lf_execs lf_cov lf_crashes stress_rounds stress_findings tsan_rounds tsan_findings signatures sched_execs sched_crashes'
status_tick() {
	local t=$(( $(now) - started + elapsed0 ))
	local ae ed aq ac le lc lx sr sf tr tf sg se sc
	ae=$(afl_execs) ed=$(afl_edges) aq=$(afl_queue) ac=$(afl_crashes)
	le=$(lf_execs) lc=$(lf_cov) lx=$(lf_crashes)
	sr=$(stress_rounds stress) sf=$(stress_findings stress) tr=$(stress_rounds tsan) tf=$(stress_findings tsan)
	sg=$(nsigs) se=$(sched_execs) sc=$(sched_crashes)
	[ -f "$out/status.tsv" ] || echo "$status_header" > "$out/status.tsv"
	echo "$t $ae ${ed:-0} $aq $ac $le ${lc:-0} $lx $sr $sf $tr $tf $sg $se $sc" >> "$out/status.tsv"
	echo "$t" > "$out/state"
	[ $quiet = 1 ] && return
	local line
	line=$(printf '[%5ss/%ss]' "$t" "$((elapsed0 + duration))")
	[ -n "${on[afl]:-}" ] && line+=$(printf ' afl(%d): %s execs %s edges %s crashes |' "$afl_n" "$ae" "${ed:-0}" "$ac")
	[ -n "${on[libfuzzer]:-}" ] && line+=$(printf ' libfuzzer: %s execs cov %s %s crashes |' "$le" "${lc:-0}" "$lx")
	[ -n "${on[stress]:-}" ] && line+=$(printf ' stress: %s rounds %s viol |' "$sr" "$sf")
	[ -n "${on[tsan]:-}" ] && line+=$(printf ' tsan: %s rounds %s viol |' "$tr" "$tf")
	[ -n "${on[sched]:-}" ] && line+=$(printf ' sched: %s execs %s crashes |' "$se" "$sc")
	line+=" signatures: $sg"
	echo "$line" >&2
}

# ---- triage ---------------------------------------------------------------------

# Every finding file of every engine, once (by content): replay it on the
# replay build (then the ASan build), file it under its signature.
triage_file() {	# engine path
	local eng=$1 f=$2 h line oracle id sig d
	h=$(sha1sum < "$f" | cut -c1-40)
	grep -qx "$h" "$out/triage/seen" 2>/dev/null && return 0
	case $eng in
	stress|tsan)
		sig=$(sed -n 's/^signature: //p' "$f")
		id=$("$TOOL" classify --id "$sig" 2>/dev/null)
		oracle=stress
		;;
	*)
		line=$("$TOOL" classify "$f" 2>> "$out/logs/triage.log") || true
		oracle=$(cut -f1 <<< "$line") id=$(cut -f2 <<< "$line") sig=$(cut -f3- <<< "$line")
		;;
	esac
	if [ -z "$id" ]; then
		echo "$(date -u +%T) $eng $f: classify failed" >> "$out/logs/triage.log"
		return 0
	fi
	[ "$sig" = UNREPRODUCED ] && id=unreproduced
	d=$out/triage/$id
	mkdir -p "$d/inputs"
	if [ ! -f "$d/signature" ]; then
		echo "$sig" > "$d/signature"
		echo "$oracle" > "$d/oracle"
		cp "$f" "$d/first"
		[ "$oracle" = stress ] && cp "$f" "$d/stress.rec"
		echo "$eng $(date -u +%FT%TZ) $f" > "$d/first-seen"
		echo "$(date -u +%T) NEW signature $id from $eng: $sig" | tee -a "$out/logs/triage.log" >&2
	elif [ "$(cat "$d/oracle")" = stress ] && [ "$oracle" != stress ]; then
		# A program reproduces deterministically and minimizes to a few
		# ops: it becomes the signature's representative.
		echo "$oracle" > "$d/oracle"
		cp "$f" "$d/first"
		echo "$eng $(date -u +%FT%TZ) $f" > "$d/first-seen"
	fi
	echo $(( $(cat "$d/count" 2>/dev/null || echo 0) + 1 )) > "$d/count"
	echo "$eng" >> "$d/engines"
	# Keep a bounded number of examples per signature.
	[ "$(ls "$d/inputs" | wc -l)" -lt 20 ] && cp "$f" "$d/inputs/$eng-$h"
	echo "$(date -u +%T) $eng $(basename "$f") -> $id ($oracle) $sig" >> "$out/logs/triage.log"
	echo "$h" >> "$out/triage/seen"
}

triage_pass() {	# [max files]
	local max=${1:-1000000} n=0 f
	while IFS= read -r f; do
		[ -f "$f" ] || continue
		case $f in */README.txt) continue ;; esac
		local eng=afl
		case $f in */sched/*) eng=sched ;; */libfuzzer/*) eng=libfuzzer ;; */stress/findings/tsan-*) eng=tsan ;; */stress/findings/*) eng=stress ;; esac
		triage_file "$eng" "$f"
		n=$((n + 1))
		[ $n -ge "$max" ] && break
	done < <( { find "$out"/afl/*/crashes* "$out"/afl/*/hangs* -maxdepth 1 -type f -name 'id:*' 2>/dev/null
		    find "$out"/sched/afl/*/crashes* "$out"/sched/afl/*/hangs* -maxdepth 1 -type f -name 'id:*' 2>/dev/null
		    find "$out/libfuzzer/artifacts" "$out/sched/libfuzzer/artifacts" -maxdepth 1 -type f 2>/dev/null
		    find "$out/stress/findings" -maxdepth 1 -type f -name '*.rec' 2>/dev/null; } | sort)
}

# ---- run --------------------------------------------------------------------------

# Whatever happens to this script, no engine outlives it.
trap '[ ${#pid[@]} -gt 0 ] && stop_engines' EXIT
for k in "${!unable[@]}"; do record "$k" failed "$started" "${unable[$k]}"; done

# The empty program runs first in libFuzzer and is where every input
# starts: if it fails on the replay build, that is a finding (filed and
# titled like any other), and engines that stop on it are explained by
# it, not broken. (The replay build decides: the ASan build is also
# libFuzzer's engine, and a broken engine must not pass for a finding.)
empty_sig=
preflight() {
	local f=$out/preflight/empty line sig
	mkdir -p "$out/preflight"
	: > "$f"
	"$FZ/vmt-replay" -q "$f" > /dev/null 2>&1 && return 0
	line=$("$TOOL" classify "$f" 2>> "$out/logs/triage.log") || true
	sig=$(cut -f3- <<< "$line")
	{ [ -n "$sig" ] && [ "$sig" != UNREPRODUCED ]; } || return 0
	empty_sig=$sig
	echo "campaign: the empty program fails: $sig" | tee -a "$out/logs/campaign.log" >&2
	triage_file preflight "$f"
}
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
{
	echo "== $(date -u +%FT%TZ) finalize"
	triage_pass
	t=$(( $(now) - started + elapsed0 ))
	cov_snapshot "$t"

	# Minimization gets a quarter of the campaign's duration in all (at
	# least 2 minutes), the most frequent signatures first; past that,
	# reports describe the first input as found.
	fin_deadline=$(( $(now) + (duration / 4 > 120 ? duration / 4 : 120) ))
	for d in $(for c in "$out"/triage/*/count; do [ -f "$c" ] && echo "$(cat "$c") ${c%/count}"; done | sort -rn | cut -d' ' -f2-); do
		id=$(basename "$d")
		[ "$id" = unreproduced ] && continue
		oracle=$(cat "$d/oracle")
		left=$(( fin_deadline - $(now) ))
		[ "$left" -gt "$min_secs" ] && left=$min_secs
		if [ $minimize = 1 ] && [ "$left" -gt 5 ] && [ ! -f "$d/min" ] && [ ! -f "$d/stress.min" ]; then
			if [ "$oracle" = stress ]; then
				"$TOOL" minimize --runs 3 --max-seconds "$left" -o "$d/stress.min.rec" "$d/stress.rec" &&
					cp "$d/stress.rec" "$d/stress.orig.rec" && mv "$d/stress.min.rec" "$d/stress.rec"
				touch "$d/stress.min"
			elif [ "$(cut -d' ' -f1 "$d/first-seen")" = sched ]; then
				# A multi-thread program: the joint minimizer (vmtorture-sched).
				"$CLI" minimize --max-seconds "$left" -o "$d/min" "$d/first"
			else
				"$TOOL" minimize --oracle "$oracle" --sig "$(cat "$d/signature")" \
					--max-seconds "$left" -o "$d/min" "$d/first"
			fi
		elif [ $minimize = 1 ]; then
			echo "minimize: $id: skipped, the minimization budget is spent"
		fi
		# Stress reruns take seconds each: fewer of them.
		runs=10; [ "$oracle" = stress ] && runs=5
		"$TOOL" report --runs $runs -o "$d/report.md" "$d"
		# A shrunk stress command is judged on 3 runs: if it then
		# reproduces in none of the report's, the command as found is
		# the one to hand over.
		if [ "$oracle" = stress ] && [ -f "$d/stress.orig.rec" ] && [ "$(hits "$d")" = 0 ]; then
			echo "report: $id: the shrunk stress command did not reproduce; reporting the original"
			mv "$d/stress.rec" "$d/stress.shrunk.rec" && mv "$d/stress.orig.rec" "$d/stress.rec"
			"$TOOL" report --runs $runs -o "$d/report.md" "$d"
		fi
		# ClusterFuzz's rule: a finding that does not reproduce is not
		# handed to anyone as a bug. It stays in triage/ with its report
		# (count, logs, command) and summary.md lists it apart.
		mkdir -p "$out/reports"
		h=$(hits "$d")
		[ -n "$h" ] || echo "report: $id: no verdict (the report failed); kept as a finding"
		if [ "$h" = 0 ]; then
			touch "$d/unconfirmed"
			rm -f "$out/reports/$id.md"
			echo "report: $id: did not reproduce in $runs replays; listed as unconfirmed"
			continue
		fi
		rm -f "$d/unconfirmed"
		cp "$d/report.md" "$out/reports/$id.md"
		echo "report: $out/reports/$id.md"
	done
	# A stress finding of the plain build has no program to localize.
	# Its command replayed on the TSan build (a checking build: races are
	# checks too) may show what it followed from: the first of up to 3
	# runs that fails a check (a schedule-dependent bug often does not
	# in one) goes into the finding's checks as a second replay.
	for d in "$out"/triage/*/; do
		[ -f "$d/stress.rec" ] && [ -f "$d/checks" ] && [ ! -f "$d/unconfirmed" ] || continue
		[ -x "$TSAN_CLI" ] || continue
		mapfile -t args < <(sed -n 's/^arg: //p' "$d/stress.rec")
		[ "${args[1]:-}" = stress ] && [ "${args[0]}" != "$TSAN_CLI" ] || continue
		tsan_checks=
		for _ in 1 2 3; do
			timeout -k 5 120 "$TSAN_CLI" "${args[@]:1}" > "$d/tsan-replay.log" 2>&1
			tsan_checks=$("$TOOL" classify --log --all "$d/tsan-replay.log" | cut -f3)
			[ -n "$tsan_checks" ] && break
		done
		{ echo; [ -z "$tsan_checks" ] || printf '%s\n' "$tsan_checks"; } >> "$d/checks"
	done
	# Cause over consequence: a finding whose replay fails another's
	# check first is listed under it (triage/<id>/verdict).
	"$TOOL" verdict "$out"

	# Corpus upkeep: everything the engines kept, minimized two ways.
	mkdir -p "$out/corpus/all"
	for q in "$SEEDS" "$out/libfuzzer/corpus" "$out"/afl/*/queue; do
		[ -d "$q" ] || continue
		find "$q" -maxdepth 1 -type f | while IFS= read -r f; do
			cp -n "$f" "$out/corpus/all/$(sha1sum < "$f" | cut -c1-40)"
		done
	done
	if [ -x "$FZ/vmt-libfuzzer" ]; then
		rm -rf "$out/corpus/merged" && mkdir -p "$out/corpus/merged"
		ASAN_OPTIONS=detect_leaks=0 "$FZ/vmt-libfuzzer" -merge=1 -artifact_prefix="$out/corpus/merge-" \
			-merge_control_file="$out/corpus/merge.ctl" "$out/corpus/merged" "$out/corpus/all" 2>&1 | tail -3
	fi
	if command -v afl-cmin >/dev/null && [ -x "$FZ/vmt-afl" ]; then
		rm -rf "$out/corpus/afl-cmin"
		AFL_ALLOW_TMP=1 AFL_NO_UI=1 timeout 600 afl-cmin -i "$out/corpus/all" -o "$out/corpus/afl-cmin" \
			-- "$FZ/vmt-afl" 2>&1 | tail -3
	fi
	# The multi-thread programs the sched engine kept, merged on their
	# own target (the sequential one passes over them), text forms in
	# corpus/mt/ for review before they join corpora/mt/.
	if [ -x "$FZ/vmt-mt-libfuzzer" ] && [ -d "$out/sched/libfuzzer/corpus" ]; then
		rm -rf "$out/corpus/mt-merged" "$out/corpus/mt" && mkdir -p "$out/corpus/mt-merged" "$out/corpus/mt"
		mtq=()
		for q in "$out"/sched/afl/*/queue; do [ -d "$q" ] && mtq+=("$q"); done
		ASAN_OPTIONS=detect_leaks=0 "$FZ/vmt-mt-libfuzzer" -merge=1 -artifact_prefix="$out/corpus/mt-merge-" \
			-merge_control_file="$out/corpus/mt-merge.ctl" "$out/corpus/mt-merged" "$MT_SEEDS" \
			"$out/sched/libfuzzer/corpus" "${mtq[@]}" 2>&1 | tail -3
		for f in "$out"/corpus/mt-merged/*; do
			[ -f "$f" ] || continue
			"$CLI" decode "$f" > "$out/corpus/mt/$(basename "$f" | cut -c1-16).txt" 2>/dev/null ||
				rm -f "$out/corpus/mt/$(basename "$f" | cut -c1-16).txt"
		done
	fi
	# The text form, for review before it replaces corpora/seq/.
	if [ -d "$out/corpus/merged" ]; then
		mkdir -p "$out/corpus/seq"
		for f in "$out"/corpus/merged/*; do
			[ -f "$f" ] || continue
			"$CLI" decode "$f" > "$out/corpus/seq/$(basename "$f" | cut -c1-16).txt" 2>/dev/null ||
				rm -f "$out/corpus/seq/$(basename "$f" | cut -c1-16).txt"
		done
	fi
} > "$out/logs/finalize.log" 2>&1
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
