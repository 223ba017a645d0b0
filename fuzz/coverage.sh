#!/usr/bin/env bash
# fuzz/coverage.sh - make coverage: source-based line coverage of core/
# from replaying the shipped seeds (or COV_INPUTS="dir file ..." instead,
# e.g. a fuzzing corpus) on the sequential coverage build, and the
# multi-thread scenarios (or COV_MT_INPUTS="dir ...", e.g. a campaign's
# sched corpus; COV_MT_INPUTS=none for none) on the multi-thread one
# (vmt-mt-cov: the controlled core, where the concurrent paths run; each
# program twice, recording its decisions as `vmtorture replay` does: two
# runs that differ fail the run, as uncontrolled nondeterminism). One
# report over both: llvm-cov reads both binaries' mappings and adds up
# the counts of the lines they share. clang-14 profiles need
# llvm-profdata-14 and llvm-cov-14; other versions reject the raw profile
# format. COV_CAMPAIGN=DIR (make coverage COV_CAMPAIGN=build/campaign/X):
# the seeds plus everything a campaign's engines kept (libFuzzer's
# corpus, the AFL++ queues, the sched engine's two), the figure for
# that campaign. Output: build/fuzz-out/coverage/ (report.txt, lines.txt,
# uncovered.txt: every line no input ran, grouped by function, with
# why it cannot run or "no reason given"; html/
# with COV_HTML=1; COV_OUT=DIR elsewhere). COV_UNREACHABLE=FILE reads the
# whole-function list from FILE instead of fuzz/cov-unreachable.txt
# (fuzz/coverage-test.sh plants a wrong entry there).
#
# The stress engine too: build/fuzz/vmt-stress-cov (stress/stress.mk), the
# stress driver on a coverage build of the core, runs a few seconds in
# each of the shapes of STRESS_SHAPES below (fixed seeds; COV_STRESS=none
# for none, COV_STRESS_SECONDS per shape), and with COV_CAMPAIGN in the
# shapes that campaign's stress rounds had (its rounds file and fault
# rate). Its profile joins the figures; it does not join the check that
# no listed line ran: what free-running threads run depends on timing,
# and that check must give the same answer every time. So the check
# reads the replays' counts alone (seq.profdata), a line that only
# threads run is listed as `cov: threads: WHY` (a marker or a
# cov-unreachable.txt reason starting "threads:"), which counts as
# reachable in the figures and fails the check if a replay ran it, and a
# line listed as unreachable that only a stress run ran is a warning.
set -euo pipefail
. fuzz/lib.sh

bin=$FZ/vmt-cov
bin_mt=$FZ/vmt-mt-cov
bin_stress=$FZ/vmt-stress-cov
out=${COV_OUT:-$FZ_OUT/coverage}
PROFDATA=${PROFDATA:-llvm-profdata-14}
LLVMCOV=${LLVMCOV:-llvm-cov-14}
command -v "$PROFDATA" >/dev/null || die "$PROFDATA not found (apt-get install llvm-14)"
command -v "$LLVMCOV" >/dev/null || die "$LLVMCOV not found (apt-get install llvm-14)"
[ -x "$bin" ] || die "$bin not built"
# shellcheck disable=SC2206
inputs=(${COV_INPUTS:-$SEQ_OUT})
# shellcheck disable=SC2206
mt_inputs=(${COV_MT_INPUTS:-${MT_OUT:-build/corpora/mt}})
[ "${mt_inputs[*]}" = none ] && mt_inputs=()
if [ -n "${COV_CAMPAIGN:-}" ]; then
	[ -d "$COV_CAMPAIGN/logs" ] || die "COV_CAMPAIGN=$COV_CAMPAIGN is not a campaign directory"
	for d in "$COV_CAMPAIGN"/libfuzzer/corpus "$COV_CAMPAIGN"/afl/*/queue; do
		[ -d "$d" ] && inputs+=("$d")
	done
	for d in "$COV_CAMPAIGN"/sched/libfuzzer/corpus "$COV_CAMPAIGN"/sched/afl/*/queue; do
		[ -d "$d" ] && mt_inputs+=("$d")
	done
fi
# The stress shapes: the campaign's stress engine's options
# (stress_round_args, fuzz/engine-options.sh; --faults 0.005) in three of
# its shapes: threads, hot region, noise,
# accessors (overlapping ranges and contention; disjoint ones that
# detach whole tables; more threads than cores with heavy noise).
STRESS_SHAPES=("1 4 1m 10 2 0.005" "2 3 4g 0 3 0.005" "3 6 2m 100 1 0.005")
if [ -n "${COV_CAMPAIGN:-}" ]; then
	# end wall rc threads hot noise accessors cpu: its first 8 distinct shapes
	faults=$(sed -n 's/^c_faults=//p' "$COV_CAMPAIGN/campaign.conf" 2>/dev/null | tr -d "'\"")
	n=0
	while read -r _ _ _ th hot noise acc _; do
		n=$((n + 1)); STRESS_SHAPES+=("$((100 + n)) $th $hot $noise $acc ${faults:-0.005}")
	done < <(awk 'NF >= 7 && !seen[$4 " " $5 " " $6 " " $7]++' "$COV_CAMPAIGN/stress/stress/rounds" 2>/dev/null | head -8)
fi
[ "${COV_STRESS:-}" = none ] && STRESS_SHAPES=()
objs=("$bin")
[ ${#mt_inputs[@]} -eq 0 ] || { [ -x "$bin_mt" ] || die "$bin_mt not built"; objs+=(-object "$bin_mt"); }
[ ${#STRESS_SHAPES[@]} -eq 0 ] || { [ -x "$bin_stress" ] || die "$bin_stress not built"; objs+=(-object "$bin_stress"); }

# The default report is make coverage's own, replaced each run; a
# COV_OUT directory is never emptied, so it must be a new one.
if [ -n "${COV_OUT:-}" ]; then
	[ ! -e "$out" ] || die "COV_OUT=$out exists: give a directory that does not"
else
	rm -rf "$out"
fi
mkdir -p "$out"
# The seeds must agree; coverage of a diverging run would still count,
# but the breakage must not go unnoticed.
rc=0
LLVM_PROFILE_FILE="$out/replay-%p.profraw" "$bin" -q "${inputs[@]}" 2> "$out/replay.log" || rc=$?
tail -1 "$out/replay.log" >&2
[ $rc -eq 0 ] || echo "coverage: warning: replay exited with $rc (see $out/replay.log)" >&2
if [ ${#mt_inputs[@]} -gt 0 ]; then
	rc=0
	LLVM_PROFILE_FILE="$out/replay-mt-%p.profraw" "$bin_mt" -q "${mt_inputs[@]}" 2> "$out/replay-mt.log" || rc=$?
	tail -1 "$out/replay-mt.log" >&2
	[ $rc -eq 0 ] || echo "coverage: warning: multi-thread replay exited with $rc (see $out/replay-mt.log)" >&2
	# Each program ran twice (vmt-mt-cov: target_mt.c VMT_MT_EXACT); two
	# runs that differ make counts that are not the program's: a failure.
	nondet=$(awk '/^MT FINDING: uncontrolled nondeterminism/ { getline; d = $0; sub(/^ +/, " ", d); next }
		d != "" && /^vmt-replay: .*: DIVERGENCE$/ { sub(/^vmt-replay: /, ""); sub(/: DIVERGENCE$/, ""); print $0 ":" d; d = "" }' \
		"$out/replay-mt.log")
fi
nstress=0
for sh in "${STRESS_SHAPES[@]}"; do
	read -r seed th hot noise acc faults <<< "$sh"
	rc=0
	mapfile -t sargs < <(stress_round_args "$seed" "${COV_STRESS_SECONDS:-2}" "$th" "$hot" "$noise" "$acc" "$faults" \
		"$out/stress-saved")
	LLVM_PROFILE_FILE="$out/stress-%p.profraw" timeout -k 5 $((${COV_STRESS_SECONDS:-2} * 3 + 30)) "$bin_stress" \
		"${sargs[@]}" >> "$out/stress.log" 2>&1 || rc=$?
	nstress=$((nstress + 1))
	[ $rc -eq 0 ] || echo "coverage: warning: stress --seed $seed --threads $th --hot $hot --noise $noise --accessors $acc --faults $faults exited with $rc (see $out/stress.log)" >&2
done
[ $nstress -eq 0 ] || grep '^--- End of stress' "$out/stress.log" | tail -1 >&2
# seq.profdata: the replays alone (the check); seeds.profdata: everything.
"$PROFDATA" merge -sparse "$out"/replay-*.profraw -o "$out/seq.profdata"
"$PROFDATA" merge -sparse "$out"/*.profraw -o "$out/seeds.profdata"

srcs=(core/src/*.c core/src/*.h)
# llvm-cov's own report over both binaries (per file: regions, functions,
# branches). It keeps one record per function name, so where the two
# builds compile a function differently (sync.c's #ifdef VMS_SCHED
# halves: worker_main, vms_worker_kick, ...) one build's copy is dropped,
# and its lines read as never run; the figures below do not use it.
"$LLVMCOV" report "${objs[@]}" -instr-profile="$out/seeds.profdata" "${srcs[@]}" > "$out/report.txt"
if [ -n "${COV_HTML:-}" ]; then
	"$LLVMCOV" show "${objs[@]}" -instr-profile="$out/seeds.profdata" -format=html \
		-output-dir="$out/html" "${srcs[@]}"
	echo "coverage: html in $out/html/index.html" >&2
fi
# Per-line detail of what the seeds miss, for writing new scenarios.
"$LLVMCOV" show "${objs[@]}" -instr-profile="$out/seeds.profdata" "${srcs[@]}" > "$out/lines.txt"

# Each binary's line view on its own (lcov export: FN says where each
# function starts, DA gives each line's count), then their union: a line
# is one of either build's lines and counts as run if either ran it. Per
# line: file, line, function, definition, count; a function defined
# twice in one file (#ifdef VMS_SCHED and #else) is name#1 and name#2 in
# line order.
TAB=$(printf '\t')
line_counts() {	# profdata binary...
	local p=$1 o
	shift
	for o in "$@"; do
		"$LLVMCOV" export "$o" -instr-profile="$p" -format=lcov "${srcs[@]}"
	done |
	awk -F'[:,]' '$1 == "SF" { f = $2; sub(/.*\//, "", f) }
		$1 == "FN" { print f "\t" $2 "\t0\t" $NF }
		$1 == "DA" { c[f "\t" $2] += $3 }
		END { for (k in c) print k "\t1\t" c[k] }' |
	sort -t"$TAB" -u -k1,1 -k2,2n -k3,3n -k4,4 |
	awk -F'\t' '$1 != file { file = $1; fn = "(none)"; def = 1; delete seen }
		$3 == 0 { if (!(($4, $2) in seen)) { seen[$4, $2] = 1; n[$1, $4]++ } fn = $4; def = n[$1, $4]; next }
		{ print $1 "\t" $2 "\t" fn "\t" def "\t" $4 }'
}
line_counts "$out/seeds.profdata" "$bin" ${mt_inputs[0]:+"$bin_mt"} ${STRESS_SHAPES[0]:+"$bin_stress"} > "$out/lines.tsv"
# The replays' counts alone: file, line, count.
line_counts "$out/seq.profdata" "$bin" ${mt_inputs[0]:+"$bin_mt"} | cut -f1,2,5 > "$out/lines-replay.tsv"

# Lines no program can run, with why, from two sources:
#  - fuzz/cov-unreachable.txt: whole functions (file, function, why);
#  - marker comments in core/src: `/* cov: unreachable: WHY */` on a
#    line of its own. As the first line of a block it covers the rest of
#    the block, down to and with its closing brace (the condition that
#    opens it does run); elsewhere, the statement after it (through the
#    line ending in `;`, or its block's closing brace; a preprocessor
#    line is one line). At the end of a code line it covers that
#    statement, or the body of the block the line opens; own lines are
#    what clang-format leaves alone. Markers live in the source, so they
#    move with edits and name the code they sit on.
# A listed line that some replay ran is a wrong entry, and fails the
# run; a line listed as unreachable that only a stress run ran, a
# warning (see the top: threads run by timing).
skip=${COV_UNREACHABLE:-fuzz/cov-unreachable.txt}
for f in "${srcs[@]}"; do
	awk 'FNR == 1 { f = FILENAME; sub(/.*\//, "", f); mode = 0; open = 0 }
		{ code = $0
		  gsub(/"([^"\\]|\\.)*"/, "\"\"", code); gsub(/\x27([^\x27\\]|\\.)*\x27/, "0", code)
		  gsub(/\/\*([^*]|\*+[^*\/])*\*+\//, "", code); sub(/\/\/.*/, "", code)
		  wasopen = open; if (code !~ /^[ \t]*$/) open = code ~ /\{[ \t]*$/ }
		(mode == 1 || mode == 3) && depth == 1 && code ~ /^[ \t]*\}/ {
			# the block closes: its brace line counts, an `} else` line runs
			rest = code; sub(/^[ \t]*\}[ \t;]*/, "", rest)
			if (rest == "") print f "\t" FNR "\t" why
			mode = 0; next }
		mode == 1 { print f "\t" FNR "\t" why; depth += gsub(/\{/, "{", code) - gsub(/\}/, "}", code)
			    if (depth <= 0) mode = 0; next }
		mode == 3 { print f "\t" FNR "\t" why; depth += gsub(/\{/, "{", code) - gsub(/\}/, "}", code)
			    if (depth <= 0 && code ~ /([;}][ \t]*$|^[ \t]*#)/) mode = 0; next }
		mode == 2 { print f "\t" FNR "\t" why; if (code ~ /;[ \t]*$/ || code ~ /^[ \t]*#/) mode = 0; next }
		match($0, /cov: (unreachable|threads): /) {
			why = substr($0, RSTART + RLENGTH); sub(/[ \t]*(\*\/.*)?$/, "", why)
			if (substr($0, RSTART + 5, 7) == "threads") why = "threads: " why
			if (code ~ /^[ \t]*$/) { mode = wasopen ? 1 : 3; depth = wasopen ? 1 : 0; next }
			if (code ~ /\{[ \t]*$/) { mode = 1; depth = 1; next }
			print f "\t" FNR "\t" why
			if (code !~ /;[ \t]*$/ && code !~ /^[ \t]*#/) mode = 2 }
		END { if (mode) { print FILENAME ": unterminated cov: unreachable marker" > "/dev/stderr"; exit 1 } }' "$f"
done > "$out/markers.tsv"
awk -F'\t' -v skip="$skip" -v markers="$out/markers.tsv" '
	BEGIN { while ((getline l < skip) > 0) {
			if (l ~ /^[ \t]*(#|$)/) continue
			w = l; sub(/^[^ \t]+[ \t]+[^ \t]+[ \t]+/, "", w)
			split(l, a, /[ \t]+/); u[a[1] " " a[2]] = w }
		while ((getline l < markers) > 0) { split(l, a, "\t"); m[a[1] " " a[2]] = a[3] } }
	{ k = $1 " " $3; why = ""
	  if (($1 " " $2) in m) why = m[$1 " " $2]
	  else if ((k "#" $4) in u) why = u[k "#" $4]
	  else if (k in u) why = u[k]
	  print $0 "\t" why }' "$out/lines.tsv" > "$out/lines-marked.tsv"
bad=$(awk -F'\t' 'FNR == NR { r[$1, $2] = $3; next }
	$6 != "" && r[$1, $2] > 0 { print $1 ":" $2 " (" $3 ($4 > 1 ? "#" $4 : "") ") ran " r[$1, $2] " times: " $6 }' \
	"$out/lines-replay.tsv" "$out/lines-marked.tsv")
awk -F'\t' 'FNR == NR { r[$1, $2] = $3; next }
	$6 != "" && $6 !~ /^threads: / && $5 > 0 && !(r[$1, $2] > 0) {
		k = $1 " " $3 ($4 > 1 ? "#" $4 : "") ": " $6; if (!(k in n)) o[++K] = k; n[k]++; ls[k] = ls[k] (ls[k] == "" ? "" : ",") $2 }
	END { for (i = 1; i <= K; i++)
		print "coverage: warning: listed as unreachable, ran in a stress run (" n[o[i]] " lines, " ls[o[i]] "): " o[i] }' \
	"$out/lines-replay.tsv" "$out/lines-marked.tsv" >&2

# Every line no input ran, grouped by function and reason, with the
# reason ("no reason given" where nothing lists it: a program can
# reach it, so a seed should).
awk -F'\t' 'function rng() { return s == e ? s : s "-" e }
	function out() { if (n) printf "%-10s %-30s %3d  %-24s %s\n", file, fnd, n, rs (rs == "" ? "" : ",") rng(), (why == "" ? "no reason given" : why); n = 0; rs = "" }
	$5 > 0 { next }
	{ d = $3 ($4 > 1 ? "#" $4 : ""); if ($1 != file || d != fnd || $6 != why) { out(); file = $1; fnd = d; why = $6 } }
	n && $2 == e + 1 { e = $2; n++; next }
	{ if (n) rs = rs (rs == "" ? "" : ",") rng(); s = e = $2; n++ }
	END { out() }' "$out/lines-marked.tsv" > "$out/uncovered.txt"

# Per file, then the totals: all of core/src, and over the lines not
# listed as unreachable.
awk -F'\t' '{ l[$1]++; if ($5 > 0) c[$1]++; L++; if ($5 > 0) C++
		if ($6 == "" || $6 ~ /^threads: /) { L3++; if ($5 > 0) C3++; else if ($6 == "") N++ } else if ($5 == 0) U++ }
	function pct(c, l) { return l ? 100 * c / l : 0 }
	END { printf "%-12s %6s %6s %8s\n", "file", "lines", "missed", "cover"
		for (f in l) printf "%-12s %6d %6d %7.2f%%\n", f, l[f], l[f] - c[f], pct(c[f], l[f]) | "sort"
		close("sort")
		printf "coverage: core/src line coverage from %s: %.2f%% (%d of %d lines)\n", inputs, pct(C, L), C, L
		printf "coverage: core/src over the lines not listed as unreachable (%s, cov: unreachable markers): %.2f%% (%d of %d lines; %d listed)\n", skip, pct(C3, L3), C3, L3, U
		printf "coverage: uncovered lines with no reason given: %d\n", N }' \
	inputs="${inputs[*]}${mt_inputs[*]:+ + ${mt_inputs[*]} (multi-thread)}${STRESS_SHAPES[0]:+ + $nstress stress runs}" \
	skip="$skip" "$out/lines-marked.tsv"
echo "coverage: lines no input ran, by function, with why (file, function, count, lines, why; $out/uncovered.txt):"
cat "$out/uncovered.txt"
if [ -n "${nondet:-}" ]; then
	echo "coverage: multi-thread programs whose two runs differ (uncontrolled nondeterminism):" >&2
	echo "$nondet" | sed 's/^/  /' >&2
fi
if [ -n "$bad" ]; then
	echo "coverage: lines listed as unreachable ran (fix the marker or $skip):" >&2
	echo "$bad" | sed 's/^/  /' >&2
fi
[ -z "$bad" ] && [ -z "${nondet:-}" ] || exit 1
