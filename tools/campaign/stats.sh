# shellcheck shell=bash
# tools/campaign/stats.sh - the status line and status.tsv: each engine's
# counters, read from its own files and logs, and core/ line coverage
# snapshots.
# Sourced by campaign.sh (functions only; the campaign's state stays in
# campaign.sh), read in full before the campaign begins.
# shellcheck disable=SC2154,SC2034 # that state: set and used in campaign.sh, checked there (shellcheck -x)


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
nsigs() { find "$out/triage" -mindepth 1 -maxdepth 1 -type d ! -name unreproduced 2>/dev/null | wc -l; }

# Line coverage of core/src (debug.c too: the corrupt op runs its
# corruptions; make coverage counts it the same way) from
# replaying everything the engines kept, on the coverage builds, and a
# short stress run on its coverage build.
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
	# The stress engine's threads: 2 s of the stress driver's coverage
	# build (stress/stress.mk) with the campaign's stress options (its
	# fault rate, --prog-bytes 256) in the shape of its last round
	# (threads, hot, noise, accessors; the first round's defaults before
	# one ended), at nice 19. Its lines do not depend on the corpora, so
	# it runs in the first snapshot and in the last (at the deadline, the
	# engines stopped), and every snapshot adds the profile they left
	# (cov/stress.profdata): the others do not take CPU from the engines.
	local sbin=${VMT_COV_STRESS_BIN:-$(dirname "$COV_BIN")/vmt-stress-cov} sprof=$out/cov/stress.profdata sp=()
	if [ -n "${on[stress]:-}" ] && [ -x "$sbin" ]; then
		if [ ! -f "$sprof" ] || [ "$(now)" -ge "$deadline" ]; then
			local th=4 hot=1m noise=10 acc=2
			read -r _ _ _ th hot noise acc _ < <(tail -1 "$out/stress/stress/rounds" 2>/dev/null; echo "0 0 0 $th $hot $noise $acc")
			local sargs
			mapfile -t sargs < <(stress_round_args "$t" 2 "$th" "$hot" "$noise" "$acc" "${faults:-0.005}" "$dir/stress-saved")
			LLVM_PROFILE_FILE="$dir/s-%p.profraw" timeout -k 5 30 nice -n 19 "$sbin" "${sargs[@]}" > /dev/null 2>&1
			[ -f "$sprof" ] && sp=("$sprof")
			llvm-profdata-14 merge -sparse "$dir"/s-*.profraw "${sp[@]}" -o "$dir/stress.profdata" 2>/dev/null &&
				mv "$dir/stress.profdata" "$sprof"
			rm -f "$dir"/s-*.profraw
		fi
		sp=()
		[ -f "$sprof" ] && sp=("$sprof") && objs+=(-object "$sbin")
	fi
	llvm-profdata-14 merge -sparse "$dir"/p-*.profraw "${sp[@]}" -o "$dir/all.profdata" 2>/dev/null || { rm -rf "$dir"; return 0; }
	pct=$(llvm-cov-14 report "${objs[@]}" -instr-profile="$dir/all.profdata" core/src/*.c 2>/dev/null |
		awk '$2 ~ /^[0-9]+$/ && $1 != "TOTAL" { l += $8; m += $9 }
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
