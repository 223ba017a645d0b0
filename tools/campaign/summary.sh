#!/usr/bin/env bash
# tools/campaign/summary.sh OUT - write OUT/summary.md and its plots
# (coverage.png, execs.png) from what a campaign left in OUT: status.tsv
# (one row per status tick), coverage.tsv (core/ line coverage snapshots),
# engines.tsv (one row per start of an engine instance), triage/ and the
# engines' logs. Run by campaign.sh at the end; safe to rerun by hand.
set -uo pipefail
out=${1:?usage: summary.sh OUT}
[ -f "$out/campaign.conf" ] || { echo "summary: $out is not a campaign directory" >&2; exit 2; }
# shellcheck disable=SC1091
. "$out/campaign.conf"
st=$out/status.tsv
md=$out/summary.md

last() { awk -v c="$1" '!/^#/ && NF { v = $c } END { print v + 0 }' "$st" 2>/dev/null; }
# shellcheck source=tools/campaign/lib.sh
. "$(dirname "$0")/lib.sh"

# Snapshots are taken in the background: keep them in time order.
[ -s "$out/coverage.tsv" ] && sort -n -o "$out/coverage.tsv" "$out/coverage.tsv"

# ---- plots --------------------------------------------------------------------
plots=()
if command -v gnuplot >/dev/null && [ -s "$st" ]; then
	if [ -s "$out/coverage.tsv" ]; then
		gnuplot <<EOF && plots+=(coverage.png)
set terminal png size 900,420
set output '$out/coverage.png'
set title 'Coverage over time'
set xlabel 'seconds'
set ylabel 'core/src lines covered (%)'
set y2label 'engine features'
set ytics nomirror
set y2tics
set key bottom right
set grid
plot '$out/coverage.tsv' using 1:2 with linespoints lw 2 title 'core/src line coverage (replayed corpus)' axes x1y1, \
     '$st' using 1:3 with lines title 'AFL++ edges (max over instances)' axes x1y2, \
     '$st' using 1:7 with lines title 'libFuzzer cov' axes x1y2
EOF
	fi
	gnuplot <<EOF && plots+=(execs.png)
set terminal png size 900,420
set output '$out/execs.png'
set title 'Executions over time'
set xlabel 'seconds'
set ylabel 'executions (fuzzers)'
set y2label 'stress rounds'
set ytics nomirror
set y2tics
set key top left
set grid
plot '$st' using 1:2 with lines lw 2 title 'AFL++ (all instances)', \
     '$st' using 1:6 with lines lw 2 title 'libFuzzer (-fork)', \
     '$st' using 1:(column(0) >= 0 && valid(14) ? \$14 : 1/0) with lines lw 2 title 'sched (multi-thread target)', \
     '$st' using 1:9 with steps title 'stress rounds' axes x1y2, \
     '$st' using 1:11 with steps title 'TSan stress rounds' axes x1y2
EOF
fi

# ---- which engines ran ------------------------------------------------------------
# From engines.tsv (written by campaign.sh): per instance, the seconds it
# ran in all runs of the campaign, and its state at the end of the last
# run with the reason it stopped.
engine_runs() {
	local et=$out/engines.tsv
	if [ ! -s "$et" ]; then
		echo "## Engines: no record (engines.tsv is missing: a campaign from before engine records)"
		return
	fi
	awk -F'\t' '!/^#/ && NF >= 6 {
		if (!($2 in secs)) order[++n] = $2
		secs[$2] += $6
		if (!($2 in last) || $1 > last[$2]) { last[$2] = $1; retries[$2] = 0 }
		if ($3 == "retried") retries[$2]++; else { state[$2] = $3; why[$2] = $7 }
	}
	END {
		for (i = 1; i <= n; i++) { k = order[i]; c[state[k]]++ }
		head = ""
		if (c["ran"]) head = c["ran"] " ran"
		if (c["died"]) head = head (head ? ", " : "") c["died"] " died"
		if (c["failed"]) head = head (head ? ", " : "") c["failed"] " failed to start"
		printf "## Engines: %s\n\n", head ? head : "none recorded"
		if (!c["ran"] && !c["died"])
			print "**No engine ran: this campaign tested nothing.** The reasons are below; `logs/` has the rest.\n"
		else if (c["failed"] || c["died"])
			print "**Not every engine ran through:** the campaign exits non-zero. The reasons are below; `logs/` has the rest.\n"
		print "| engine | state | ran for | why it stopped |"
		print "|---|---|---|---|"
		for (i = 1; i <= n; i++) {
			k = order[i]; st = state[k]
			if (st != "ran") st = "**" st "**"
			if (retries[k]) st = st " (retried " retries[k] "x)"
			w = why[k]; gsub(/\|/, "\\|", w)
			printf "| %s | %s | %d s | %s |\n", k, st, secs[k], w
		}
	}' "$et"
}

# ---- summary.md ------------------------------------------------------------------
secs=$(last 1)
{
	echo "# vmtorture campaign: $(basename "$out")"
	echo
	echo "| | |"
	echo "|---|---|"
	echo "| started | ${c_started_first?} |"
	echo "| ran for | ${secs}s of ${c_duration?}s planned$( [ "${c_resumes?}" -gt 0 ] && echo ", resumed $c_resumes time(s)") |"
	echo "| engines | ${c_engines?} (jobs ${c_jobs?}) |"
	echo "| fuzz build | \`${c_fz?}\` |"
	echo "| git | $(git -C "$(dirname "$0")" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$(dirname "$0")" diff --quiet 2>/dev/null || echo ' (modified tree)') |"
	echo
	engine_runs
	echo
	n=0 nu=0 ns=0
	for d in "$out"/triage/*/; do
		[ -f "$d/signature" ] || continue
		[ "$(basename "$d")" = unreproduced ] && continue
		if [ "$(verdict_of "$d" hits)" = 0 ]; then nu=$((nu + 1))
		elif [ "$(verdict_of "$d" role)" = symptom ]; then ns=$((ns + 1))
		else n=$((n + 1)); fi
	done
	echo "## Findings: $n signature(s)$( [ $ns -gt 0 ] && echo ", $ns more as their symptoms")"
	echo
	if [ $n -gt 0 ]; then
		echo "Each cause is followed by its symptoms (↳): findings whose replay fails the cause's check first, or the same check first (\`triage/<id>/verdict\`)."
		echo
		echo "| id | signature | count | engines | oracle | reproduces | size before -> after | report |"
		echo "|---|---|---|---|---|---|---|---|"
		# Causes, each followed by its symptoms.
		for d in $(for c in "$out"/triage/*/; do
				c=${c%/}
				[ -f "$c/signature" ] && [ "$(verdict_of "$c" hits)" != 0 ] || continue
				[ "$(basename "$c")" = unreproduced ] && continue
				cause=$(verdict_of "$c" cause)
				echo "${cause:-$(basename "$c")}${cause:+~}$(basename "$c") $c"
			   done | sort | cut -d' ' -f2); do
			id=$(basename "$d")
			sig=$(sed 's/|/\\|/g' "$d/signature")
			cause=$(verdict_of "$d" cause)
			[ -n "$cause" ] && sig="↳ symptom of \`$cause\`: $sig"
			engs=$(sort -u "$d/engines" 2>/dev/null | paste -sd, -)
			rep=$(verdict_of "$d" hits)
			[ -n "$rep" ] && rep="$rep/$(verdict_of "$d" runs) runs"
			size=
			if [ -f "$d/min.txt" ] && [ "$(cat "$d/oracle")" != stress ]; then
				b=$(sed -n 's/^# before: //p' "$d/min.txt")
				a=$(sed -n 's/^# after bytes[^:]*: //p' "$d/min.txt")
				size="$b -> $a"
			elif [ -f "$d/stress.rec" ]; then
				size="$(grep -A1 -- '--threads' "$d/stress.rec" | sed -n '2s/^arg: //p') threads, $(grep -A1 -- '--seconds' "$d/stress.rec" | sed -n '2s/^arg: //p') s"
			elif [ -f "$d/first" ]; then
				size="$(wc -c < "$d/first") bytes (not minimized)"
			fi
			echo "| \`$id\` | $sig | $(cat "$d/count") | $engs | $(cat "$d/oracle") | ${rep:-?} | ${size:-} | [report](triage/$id/report.md) |"
		done
		echo
	fi
	if [ $nu -gt 0 ]; then
		echo "Unconfirmed: $nu stress signature(s) seen in a round but reproduced by none of their replays, so not reported (the evidence stays in \`triage/<id>/\`):"
		echo
		for d in "$out"/triage/*/; do
			[ "$(verdict_of "$d" hits)" = 0 ] || continue
			echo "- \`$(basename "$d")\` $(sed 's/|/\\|/g' "$d/signature") (seen $(cat "$d/count")x by $(sort -u "$d/engines" 2>/dev/null | paste -sd, -))"
		done
		echo
	fi
	if [ -f "$out/triage/unreproduced/count" ]; then
		echo "Unreproduced findings (crashed or hung in the engine, clean on both replay builds): $(cat "$out/triage/unreproduced/count"), kept in \`triage/unreproduced/inputs/\`."
		echo
	fi
	echo "## Engine statistics"
	echo
	echo "| engine | instances | executions | findings saved | log |"
	echo "|---|---|---|---|---|"
	for s in "$out"/afl/*/fuzzer_stats; do
		[ -f "$s" ] || continue
		name=$(basename "$(dirname "$s")")
		echo "| AFL++ $name ($(afl_stat "$s" target_mode | sed 's/ *$//'), stability $(afl_stat "$s" stability)) | 1 | $(afl_stat "$s" execs_done) ($(afl_stat "$s" execs_per_sec) exec/s at the end) | $(afl_stat "$s" saved_crashes) crashes, $(afl_stat "$s" saved_hangs) hangs, corpus $(afl_stat "$s" corpus_count) | [log](logs/afl-$name.log) |"
	done
	if [ -f "$out/logs/libfuzzer.log" ]; then
		forks=$(grep -aoE -- '-fork=[0-9]+|INFO: -fork=[0-9]+' "$out/logs/libfuzzer.log" | head -1 | grep -oE '[0-9]+$')
		echo "| libFuzzer -fork (ASan+UBSan) | ${forks:-1} job(s) | $(last 6) | $(find "$out/libfuzzer/artifacts" -type f | wc -l) artifacts, corpus $(ls "$out/libfuzzer/corpus" | wc -l) | [log](logs/libfuzzer.log) |"
	fi
	# The sched engine: the multi-thread target under libFuzzer and AFL++.
	if [ -f "$out/logs/sched-libfuzzer.log" ]; then
		lfl=$(grep -aE '^#[0-9]+:? ' "$out/logs/sched-libfuzzer.log" | tail -1 | sed -E 's/^#([0-9]+).*/\1/')
		echo "| sched: libFuzzer, multi-thread target (ASan+UBSan) | 1 job | ${lfl:-0} (this run) | $(find "$out/sched/libfuzzer/artifacts" -type f | wc -l) artifacts, corpus $(ls "$out/sched/libfuzzer/corpus" | wc -l) | [log](logs/sched-libfuzzer.log) |"
	fi
	for s in "$out"/sched/afl/*/fuzzer_stats; do
		[ -f "$s" ] || continue
		echo "| sched: AFL++, multi-thread target ($(afl_stat "$s" target_mode | sed 's/ *$//'), stability $(afl_stat "$s" stability)) | 1 | $(afl_stat "$s" execs_done) ($(afl_stat "$s" execs_per_sec) exec/s at the end) | $(afl_stat "$s" saved_crashes) crashes, $(afl_stat "$s" saved_hangs) hangs, corpus $(afl_stat "$s" corpus_count) | [log](logs/sched-afl.log) |"
	done
	for k in stress tsan; do
		[ -f "$out/logs/$k.log" ] || continue
		r=$(cat "$out/stress/$k/rounds" 2>/dev/null | wc -l)
		# rounds: end, wall s, rc, threads, hot, noise, accessors, CPU s
		sec=$(awk '{ s += $2; c += $8 } END { printf "%d s in all, %d CPU s", s, c }' "$out/stress/$k/rounds" 2>/dev/null ||
			echo "0 s")
		shapes=$(awk 'NF >= 8 { t[$4]++; h[$5]++; z[$6]++; a[$7]++ }
			function show(name, m,   k, s) { s = ""; for (k in m) s = s (s ? " " : "") k ":" m[k]; return name " " s }
			END { if (NR) printf "; shapes (value:rounds) %s; %s; %s; %s", show("threads", t), show("hot", h),
				show("noise", z), show("accessors", a) }' "$out/stress/$k/rounds" 2>/dev/null)
		echo "| $( [ $k = tsan ] && echo 'TSan stress' || echo stress) | 1 loop | $r rounds, $sec$shapes | $(cat "$out/stress/$k/signatures" 2>/dev/null | wc -l) violating rounds ($(ls "$out/stress/findings/$k-"*.rec 2>/dev/null | wc -l) kept: at most 10 per signature) | [log](logs/$k.log) |"
	done
	echo
	echo "## Coverage of core/ over time"
	echo
	echo "Line coverage of \`core/src\` from replaying the seeds and everything the engines kept on the coverage builds, and short stress runs on the stress driver's; engine-native counters beside it."
	echo
	if [ -s "$out/coverage.tsv" ]; then
		echo "| t (s) | core/src lines | AFL++ edges | libFuzzer cov |"
		echo "|---|---|---|---|"
		while read -r t pct; do
			row=$(awk -v t="$t" '!/^#/ && $1 <= t { r = $3 " | " $7 } END { print r }' "$st")
			echo "| $t | $pct % | ${row:-0 | 0} |"
		done < "$out/coverage.tsv"
	else
		echo "(no coverage snapshots: build/fuzz/vmt-cov or llvm-cov-14 missing)"
	fi
	echo
	for p in "${plots[@]}"; do echo "![${p%.png}]($p)"; echo; done
	[ -f "$out/afl-plot/index.html" ] && { echo "AFL++'s own plots of the main instance: [afl-plot/index.html](afl-plot/index.html)"; echo; }
	echo "## Corpus"
	echo
	all=$(ls "$out/corpus/all" 2>/dev/null | wc -l)
	echo "- all inputs kept by the engines and the seeds: $all"
	[ -d "$out/corpus/merged" ] && echo "- libFuzzer \`-merge=1\`: $(ls "$out/corpus/merged" | wc -l) files in \`corpus/merged/\`"
	[ -d "$out/corpus/afl-cmin" ] && echo "- afl-cmin: $(ls "$out/corpus/afl-cmin" | wc -l) files in \`corpus/afl-cmin/\`"
	[ -d "$out/corpus/seq" ] && echo "- text form of the merged corpus (review, then copy into \`corpora/seq/\`): \`corpus/seq/\` ($(ls "$out/corpus/seq" | wc -l) files)"
	echo
	echo "Resume this campaign: \`vmtorture campaign --resume --out $out [--duration MORE]\`."
} > "$md"
echo "summary: $md"
