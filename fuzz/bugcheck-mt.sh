#!/usr/bin/env bash
# fuzz/bugcheck-mt.sh - make bugcheck-fuzz-mt: time to the first finding of
# each planted concurrency bug by the sched engine's fuzzers alone (no
# stress, no explorer) on the multi-thread target, from the shipped
# seeds: libFuzzer (vmt-mt-libfuzzer, the mutator linked in) and AFL++
# (vmt-mt-afl with AFL_CUSTOM_MUTATOR_LIBRARY), as the campaign runs them.
#
#   bash fuzz/bugcheck-mt.sh [SEEDS [CAP_SECONDS]]
#     BUGCHECK_MT_BUGS="a b"       the bugs (default: every bug whose checks
#                                  include sched in core/bugs.tsv)
#     BUGCHECK_MT_ENGINES="libfuzzer afl"  the engines (default both)
#     BUGCHECK_MT_FEEDBACK="1 0"   interleaving feedback settings (default 1)
#     BUGCHECK_MT_CORPUS="dir ..." the start corpus (default the
#                                  multi-thread scenarios, build/corpora/mt;
#                                  the campaign's sched/in is the same)
#     BUGCHECK_MT_JOBS=N           runs at a time (default 1)
#     BUGCHECK_MT_AFL_ARGS="-Z"    more afl-fuzz options
#     BUGCHECK_MT_AFL_HINTS=0      AFL++'s mutator without the target's
#                                  decision counts (VMT_MT_HINTS)
#     BUGCHECK_MT_AFL_CUSTOM_ONLY=0 AFL++'s havoc stages on (the campaign
#                                  sets AFL_CUSTOM_MUTATOR_ONLY=1)
#     BUGCHECK_MT_MUTATOR=lib.so   another build of the mutator library
#                                  (e.g. an older commit's, to compare)
#   bash fuzz/bugcheck-mt.sh --table RUNS.tsv...
#     the table again, over the runs of one or more earlier checks
#
# Each run: a fresh output directory, the engine's seed S, at most
# CAP_SECONDS of wall time (AFL++ stops at its first crash,
# AFL_BENCH_UNTIL_CRASH). A finding counts only if its crash file gives,
# run by the engine's binary outside the engine and twice by the
# planted-bug build of the replay target, one and the same title
# (findings are exact). One line per run (TSV on stdout: bug, engine,
# feedback, seed, found, wall s, CPU s, executions, title), then per bug,
# engine and setting the found/seeds, median and max (a miss counts as
# CAP). Not part of `make test`: minutes per bug. Machine load goes to
# stderr and to the table's header.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2
# shellcheck source=fuzz/engine-options.sh
. fuzz/engine-options.sh
# The table: per bug, engine and feedback setting, over runs.tsv lines.
table() {
	echo "| bug | engine | feedback | found | median wall s | max wall s | median CPU s | median execs |"
	echo "|---|---|---|---|---|---|---|---|"
	awk -F'\t' '!/^#/ { k = $1 "\t" $2 "\t" $3; n[k]++; f[k] += $5; w[k] = w[k] " " $6; c[k] = c[k] " " $7; e[k] = e[k] " " $8
			if (!(k in o)) o[k] = ++no; ord[o[k]] = k }
		function med(s,   a, m, i, j, t) { m = split(s, a, " ")
			for (i = 1; i <= m; i++) for (j = i + 1; j <= m; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
			return m % 2 ? a[(m + 1) / 2] : (a[m / 2] + a[m / 2 + 1]) / 2 }
		function mx(s,   a, m, i, r) { m = split(s, a, " "); r = a[1]; for (i = 2; i <= m; i++) if (a[i] + 0 > r + 0) r = a[i]; return r }
		END { for (i = 1; i <= no; i++) { k = ord[i]; split(k, b, "\t")
			printf "| %s | %s | %s | %d/%d | %s | %s | %s | %s |\n", b[1], b[2], b[3] ? "on" : "off", f[k], n[k], med(w[k]), mx(w[k]), med(c[k]), med(e[k]) } }' "$@"
}
if [ "${1:-}" = --table ]; then
	shift
	table "$@"
	exit
fi
seeds=${1:-3}
cap=${2:-120}
BUGS=${BUGCHECK_MT_BUGS:-$(scripts/bugs.sh list sched | tr '\n' ' ')}
ENGINES=${BUGCHECK_MT_ENGINES:-libfuzzer afl}
FEEDBACK=${BUGCHECK_MT_FEEDBACK:-1}
CORPUS=${BUGCHECK_MT_CORPUS:-build/corpora/mt}
JOBS=${BUGCHECK_MT_JOBS:-1}
MUTATOR=${BUGCHECK_MT_MUTATOR:-build/fuzz/vmt-mutator.so}
VMT=build/vmtorture
work=build/fuzz-out/bugcheck-mt/$(date -u +%Y%m%d-%H%M%S)
mkdir -p "$work"
res=$work/runs.tsv
load0=$(cut -d' ' -f1-3 /proc/loadavg)
echo "# bugcheck-mt: $seeds seed(s), cap ${cap}s, engines: $ENGINES, corpus: $CORPUS, bugs: $BUGS; load: $load0" >&2
for d in $CORPUS; do
	ls "$d"/* > /dev/null 2>&1 || { echo "bugcheck-mt: no inputs in $d (make mt-seeds seeds)" >&2; exit 2; }
done
make --no-print-directory -s "$VMT" > /dev/null 2>&1 || { echo "bugcheck-mt: $VMT: build failed" >&2; exit 2; }
case " $ENGINES " in *" afl "*)
	command -v afl-fuzz > /dev/null || { echo "bugcheck-mt: afl-fuzz not installed" >&2; exit 2; }
	if [ -z "${BUGCHECK_MT_MUTATOR:-}" ]; then
		make --no-print-directory -s "$MUTATOR" > /dev/null 2>&1 ||
			{ echo "bugcheck-mt: $MUTATOR: build failed" >&2; exit 2; }
	fi
	[ -f "$MUTATOR" ] || { echo "bugcheck-mt: no $MUTATOR" >&2; exit 2; } ;;
esac

# The title of a finding in a run's output: the executor's own line, else
# what the campaign's triage names it (a sanitizer's report or a crash
# the executor did not see coming: ASan's SEGV at teardown after
# copy_outside_rcu's use of a freed node), '' if neither.
title_in() {
	local t
	t=$(sed -n 's/^MT FINDING: //p' "$1" | head -1)
	[ -n "$t" ] || t=$("$VMT" classify --log "$1" 2>/dev/null | cut -f3 | head -1)
	printf '%s\n' "$t"
}
# The title a binary prints for a crash file ('' if none).
title_of() {
	local out=$work/out.$$.$BASHPID
	# (a subshell that waits: the shell's note of a crash goes to $out)
	("$@"; exit $?) > "$out" 2>&1
	title_in "$out"
	rm -f "$out"
}

# One run: run BUG ENGINE FEEDBACK SEED, one TSV line on stdout.
run() {
	local bug=$1 eng=$2 fb=$3 s=$4 fz=build/bug-$1/fuzz d t0 wall cpu crash title execs found t1 t2
	d=$work/$bug-$eng-fb$fb-s$s
	mkdir -p "$d"
	t0=$(date +%s.%N)
	case $eng in
	libfuzzer)
		mkdir -p "$d/corpus"
		# shellcheck disable=SC2086
		VMT_SCHED_FEEDBACK=$fb ASAN_OPTIONS=$(san_options asan detect_leaks=0) \
		UBSAN_OPTIONS=$(san_options ubsan) /usr/bin/time -o "$d/time" -f '%U %S' \
			"$fz/vmt-mt-libfuzzer" -seed="$s" -max_total_time="$cap" -dict=fuzz/vmt.dict \
			-max_len=4096 -timeout=10 -artifact_prefix="$d/" "$d/corpus" $CORPUS > "$d/log" 2>&1
		crash=$(ls "$d"/crash-* 2>/dev/null | head -1)
		title=$(title_in "$d/log")
		execs=$(grep -aoE '^#[0-9]+' "$d/log" | tail -1 | tr -d '#') ;;
	afl)
		mkdir -p "$d/in"
		# shellcheck disable=SC2086
		for c in $CORPUS; do cp "$c"/* "$d/in/"; done
		# VMT_MT_HINTS: the target tells the mutator library how many
		# decisions each thread took (fuzz/hints.h); BUGCHECK_MT_AFL_HINTS=0: not.
		[ "${BUGCHECK_MT_AFL_HINTS:-1}" = 0 ] || export VMT_MT_HINTS=$d/hints
		# AFL++'s havoc off, as the campaign runs it (fuzz/mutator.c).
		[ "${BUGCHECK_MT_AFL_CUSTOM_ONLY:-1}" = 0 ] || export AFL_CUSTOM_MUTATOR_ONLY=1
		afl_engine_env
		VMT_SCHED_FEEDBACK=$fb AFL_FAST_CAL=1 \
		AFL_SKIP_CRASHES=1 AFL_BENCH_UNTIL_CRASH=1 AFL_CUSTOM_MUTATOR_LIBRARY=$MUTATOR \
		AFL_NO_STARTUP_CALIBRATION=1 \
			/usr/bin/time -o "$d/time" -f '%U %S' \
			afl-fuzz -i "$d/in" -o "$d/out" -x fuzz/vmt.dict -t "$AFL_EXEC_TIMEOUT" -V "$cap" -s "$s" -p fast \
			${BUGCHECK_MT_AFL_ARGS:-} \
			-- "$fz/vmt-mt-afl" > "$d/log" 2>&1
		crash=$(ls "$d"/out/default/crashes/id:* 2>/dev/null | head -1)
		title=
		[ -n "$crash" ] && title=$(title_of "$fz/vmt-mt-afl" "$crash")
		execs=$(sed -n 's/^execs_done *: *//p' "$d/out/default/fuzzer_stats" 2>/dev/null) ;;
	esac
	wall=$(echo "$(date +%s.%N) - $t0" | bc)
	cpu=$(tail -1 "$d/time" 2>/dev/null | awk '{ printf "%.1f", $1 + $2 }')
	found=0
	if [ -n "$crash" ] && [ -n "$title" ]; then
		# Exact: the replay build gives the same title, twice; a title
		# only a sanitizer gives, the engine's binary run outside it.
		local rep=("$fz/vmt-mt-replay" -q "$crash")
		if [ "$eng" = libfuzzer ] && ! grep -q '^MT FINDING: ' "$d/log"; then
			rep=(env ASAN_OPTIONS="$(san_options asan detect_leaks=0)" \
				UBSAN_OPTIONS="$(san_options ubsan)" "$fz/vmt-mt-libfuzzer" "$crash")
		fi
		t1=$(title_of "${rep[@]}")
		t2=$(title_of "${rep[@]}")
		if [ "$t1" = "$title" ] && [ "$t2" = "$title" ]; then
			found=1
		else
			title="NOT EXACT: '$title' replayed as '$t1' / '$t2'"
		fi
	fi
	[ $found = 1 ] || wall=$cap
	printf '%s\t%s\t%s\t%s\t%s\t%.1f\t%s\t%s\t%s\n' "$bug" "$eng" "$fb" "$s" "$found" "$wall" \
		"${cpu:-?}" "${execs:-0}" "${title:--}"
}

printf '# bug\tengine\tfeedback\tseed\tfound\twall_s\tcpu_s\texecs\ttitle\n' | tee "$res"
for bug in $BUGS; do
	fz=build/bug-$bug/fuzz
	make --no-print-directory -s BUG="$bug" "$fz/vmt-mt-libfuzzer" "$fz/vmt-mt-afl" "$fz/vmt-mt-replay" \
		> /dev/null 2>&1 || { echo "$bug: build failed" >&2; continue; }
	for eng in $ENGINES; do
		for fb in $FEEDBACK; do
			for ((s = 1; s <= seeds; s++)); do
				while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do wait -n; done
				run "$bug" "$eng" "$fb" "$s" > "$work/run-$bug-$eng-$fb-$s.tsv" &
			done
		done
	done
done
wait
for bug in $BUGS; do for eng in $ENGINES; do for fb in $FEEDBACK; do for ((s = 1; s <= seeds; s++)); do
	cat "$work/run-$bug-$eng-$fb-$s.tsv" 2>/dev/null
done; done; done; done | tee -a "$res"
load1=$(cut -d' ' -f1-3 /proc/loadavg)
echo "# load at the end: $load1" >&2
echo
echo "$seeds seed(s), cap ${cap} s (a miss counts as the cap), $JOBS run(s) at a time, start corpus $CORPUS; load average at the start $load0, at the end $load1"
echo
table "$res"
echo
echo "runs: $res"
