# shellcheck shell=bash
# tools/campaign/engines.sh - the life of engine instances: start one in
# the background, tell whether it ran, record it in engines.tsv, restart
# it once, stop them all.
# Sourced by campaign.sh (functions only; the campaign's state stays in
# campaign.sh), read in full before the campaign begins.
# shellcheck disable=SC2154,SC2034 # that state: set and used in campaign.sh, checked there (shellcheck -x)


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
		say "$k stopped after $((end - t0[$k]))s ($why); starting it again"
		${restart[$k]} "$((deadline - $(now)))"
	else
		record "$k" "$state" "$end" "$why"
		say "$k $state after $((end - t0[$k]))s: $why"
	fi
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
			case $k in libfuzzer|sched-libfuzzer)
				grep -q 'INFO: fuzzed for [0-9]* seconds' <<< "$(since_start "$k")" && rc=0 ;;
			esac
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
