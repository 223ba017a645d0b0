# shellcheck shell=bash
# tools/campaign/launch.sh - each engine's command line: AFL++ instances,
# libFuzzer -fork, the sched engine (both fuzzers on the multi-thread
# target) and the stress and TSan round loops.
# Sourced by campaign.sh (functions only; the campaign's state stays in
# campaign.sh), read in full before the campaign begins.
# shellcheck disable=SC2154,SC2034 # that state: set and used in campaign.sh, checked there (shellcheck -x)


# Power schedules rotate over the plain secondaries (see afl-fuzz -h).
scheds=(exploit rare coe lin quad seek mmopt)
start_afl() {
	local remain=$1 i
	mkdir -p "$out/afl" "$out/afl-in"
	[ -n "$(ls -A "$out/afl-in")" ] || cp "$SEEDS"/* "$out/afl-in/"
	afl_engine_env
	export AFL_AUTORESUME=1 AFL_FAST_CAL=1 AFL_CMPLOG_ONLY_NEW=1
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
	# -t: a fixed limit per run (fuzz/engine-options.sh).
	ASAN_OPTIONS=$(afl_asan_options) UBSAN_OPTIONS=$(afl_ubsan_options) \
	start_bg "afl-$name" "$out/logs/afl-$name.log" \
		afl-fuzz -i "$out/afl-in" -o "$out/afl" -x "$DICT" -t "$AFL_EXEC_TIMEOUT" -V "$((remain + 30))" \
		"${args[@]}"
}

start_libfuzzer() {
	local remain=$1 q
	mapfile -t lff < <(libfuzzer_flags)
	# AFL++'s queue joins the corpora once it exists.
	q=(); [ -d "$out/afl/main/queue" ] && q=("$out/afl/main/queue")
	echo "== $(date -u +%FT%TZ) libFuzzer -fork=$lf_n (remaining ${remain}s)" >> "$out/logs/libfuzzer.log"
	restart[libfuzzer]=start_libfuzzer
	# Overnight: a crash is saved and the campaign goes on (-ignore_crashes).
	# No leak check, as the campaign's libFuzzer always ran: it has the
	# sanitizers' checks of the tests, its own oracles, and pools whose
	# frames outlive an input (the target's teardown is its own check).
	ASAN_OPTIONS=$(san_options asan detect_leaks=0) UBSAN_OPTIONS=$(san_options ubsan) \
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
	mapfile -t lff < <(libfuzzer_flags)
	echo "== $(date -u +%FT%TZ) libFuzzer on the multi-thread target (remaining ${remain}s)" >> "$out/logs/sched-libfuzzer.log"
	restart[sched-libfuzzer]=start_sched_libfuzzer
	ASAN_OPTIONS=$(san_options asan detect_leaks=0) UBSAN_OPTIONS=$(san_options ubsan) \
	start_bg sched-libfuzzer "$out/logs/sched-libfuzzer.log" \
		"$FZ/vmt-mt-libfuzzer" "${lff[@]}" -fork=1 -ignore_crashes=1 -ignore_timeouts=1 \
		-ignore_ooms=1 -max_total_time="$remain" -artifact_prefix="$out/sched/libfuzzer/artifacts/" \
		"$out/sched/libfuzzer/corpus" "$out/sched/in"
}
start_sched_afl() {
	local remain=$1
	echo "== $(date -u +%FT%TZ) afl-fuzz on the multi-thread target (remaining ${remain}s)" >> "$out/logs/sched-afl.log"
	restart[sched-afl]=start_sched_afl
	afl_engine_env
	AFL_AUTORESUME=1 AFL_FAST_CAL=1 AFL_SKIP_CRASHES=1 \
	AFL_CUSTOM_MUTATOR_LIBRARY="$MUTATOR" AFL_CUSTOM_MUTATOR_ONLY=1 VMT_MT_HINTS="$out/sched/afl-hints" \
	ASAN_OPTIONS=$(afl_asan_options) UBSAN_OPTIONS=$(afl_ubsan_options) \
	start_bg sched-afl "$out/logs/sched-afl.log" \
		afl-fuzz -i "$out/sched/in" -o "$out/sched/afl" -x "$DICT" -t "$AFL_EXEC_TIMEOUT" -V "$((remain + 30))" \
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
		local args
		mapfile -t args < <(stress_round_args "$seed" "$secs" "${shape[@]:0:4}" "$faults" "$dir/saved")
		args=("${cmd[@]}" "${args[@]}")
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
