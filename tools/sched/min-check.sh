#!/usr/bin/env bash
# tools/sched/min-check.sh - joint minimization and the thread-column report
# of multi-thread findings, on planted bugs the registry says `sched` finds:
#   1. `vmtorture sched` (PCT depth 2, seed 1) finds the bug from the
#      scenario of corpora/mt that names it;
#   2. `minimize` shrinks the finding: the same title, 1-minimal
#      (minimal=1 in OUT.verdict), no larger; how many preemptions the bug
#      needs;
#   3. checked here, not by the minimizer's word: dropping any one
#      preemption or op line of OUT.txt loses the title under replay;
#      the check must reject the unminimized finding (it fires);
#   4. OUT.txt replays the title REPEAT times out of REPEAT with the same
#      decisions;
#   5. OUT.md has one column per thread, the preemption rows and the op
#      where the oracle fired, and `vmtorture report OUT.txt` prints the
#      same table;
#   6. the campaign's report of the finding (`vmtorture report DIR` of a
#      triage directory holding it, as campaign.sh makes one) is the
#      multi-thread page: the same table, the preemptions the bug needs,
#      the threads it runs, and one replay command that gives the title
#      with the same decisions; none of the sequential page's sections.
# Usage: min-check.sh [--from RUNS] [REPEAT] [BUG...]   (default 100; two
# bugs: the `make test` set). Prints one line per bug with its figures
# (bytes, preemptions, CPU seconds), for docs/sched.md, and a table.
# --from RUNS: step 1 takes the fuzzers' finding instead, one crash file
# per bug from a fuzz/bugcheck-mt.sh run directory (the first of its
# AFL++ runs, else of its libFuzzer runs; the bugs it found by default),
# as text.
set -u
cd "$(dirname "$0")/../.." || exit 2
FROM=
if [ "${1:-}" = --from ]; then
	FROM=${2:?--from RUNS_DIR}
	shift 2
fi
REPEAT=${1:-100}
shift || true
if [ -n "$FROM" ]; then
	BUGS=${*:-$(for b in $(scripts/bugs.sh list sched); do ls -d "$FROM/$b"-* >/dev/null 2>&1 && echo "$b"; done)}
else
	BUGS=${*:-skip_stray_check put_last_check}
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
rows=()
rc=0
fired=0
ok() { echo "  ok   $*"; }
bad() { echo "  FAIL $*"; rc=1; failed=1; }

# Lines of a program that are ops or preemptions (not comments, thread
# headers or the schedule header): their numbers.
droppable() { grep -nvE '^(#|thread [0-9]+:|schedule v[0-9]+:|$)' "$1" | cut -d: -f1; }

# 1-minimal under replay: every program with one op or preemption line
# less gives another title (or none). Prints the first line that could go.
one_minimal() {	# BIN FILE TITLE
	local bin=$1 f=$2 title=$3 n out
	for n in $(droppable "$f"); do
		sed "${n}d" "$f" >"$tmp/drop.txt"
		out=$("$bin" replay --repeat 1 "$tmp/drop.txt" 2>&1)
		if grep -qF -- "$title" <<<"$out"; then
			echo "line $n could go: $(sed -n "${n}p" "$f")"
			return 1
		fi
	done
	return 0
}

# 6. The report a campaign writes for the finding: a triage directory as
# campaign.sh leaves it (first, signature, oracle, the joint minimizer's
# min*), through `vmtorture report DIR`.
campaign_report() {	# BUG SAVED MIN TITLE
	local bug=$1 d=$tmp/triage-$1/0000000000000001 rep cmd out
	mkdir -p "$d"
	build/bug-$bug/vmtorture encode "$2" -o "$d/first" || { bad "$bug: encode $2"; return; }
	echo "$4" >"$d/signature"
	echo replay >"$d/oracle"
	echo 1 >"$d/count"
	echo "sched $(date -u +%FT%TZ)" >"$d/first-seen"
	for x in "" .txt .md .verdict; do cp "$3$x" "$d/min$x"; done
	rep=$d/report.md
	build/bug-$bug/vmtorture report --runs 2 -o "$rep" "$d" >/dev/null 2>&1
	diff <(sed -n '/^| decisions/,/^$/p' "$3.md") <(sed -n '/^| decisions/,/^$/p' "$rep") >/dev/null &&
		grep -q '^| decisions | thread 0 |' "$rep" ||
		bad "$bug: the campaign report has not the thread columns of $3.md"
	grep -q "^| preemptions | the bug needs $(v preemptions)" "$rep" ||
		bad "$bug: the campaign report does not say the bug needs $(v preemptions) preemption(s)"
	grep -q "^| threads | $(v threads) program thread(s); $(v threads_run) threads run" "$rep" ||
		bad "$bug: the campaign report does not say how many threads run ($(v threads_run))"
	grep -q '⚠ the oracle fired' "$rep" || bad "$bug: the campaign report does not show where the oracle fired"
	grep -qE '^## (Trace|First divergence|Program \(text form)' "$rep" &&
		bad "$bug: the campaign report has sections of the sequential page"
	cmd=$(sed -n '/^## Replay/,/^## /{/^```sh/{n;p}}' "$rep")
	[ "$(grep -c 'vmtorture-sched replay /' "$rep")" = 1 ] ||
		bad "$bug: the campaign report has not exactly one replay command"
	[ -n "$cmd" ] || { bad "$bug: the campaign report has no replay command"; return; }
	out=$(cd / && $cmd 2>&1)
	grep -qF -- "$4" <<<"$out" && grep -q "2 runs, the same" <<<"$out" ||
		bad "$bug: the report's replay command '$cmd' does not give the title twice the same way"
}

# --from: the first crash file of BUG's runs (AFL++'s, then libFuzzer's)
# as text in $saved, its title under the controlled replay in $title.
found_by_fuzzer() {
	local bug=$1 c out line
	c=$(ls "$FROM/$bug"-afl-*/out/default/crashes/id:* "$FROM/$bug"-libfuzzer-*/crash-* 2>/dev/null | head -1)
	[ -n "$c" ] || { bad "$bug: no crash file in $FROM"; return 1; }
	saved=$tmp/$bug.found.txt
	build/bug-$bug/vmtorture decode "$c" >"$saved" || { bad "$bug: decode $c"; return 1; }
	out=$("$bin" replay --repeat 2 "$c" 2>&1)
	line=${out%%$'\n'*}
	title=${line#"$c: "}
	[ "$title" != "$line" ] && [ -n "$title" ] || { bad "$bug: $c does not replay a finding: $line"; return 1; }
	grep -qF -- "$title" <<<"$("$bin" replay --repeat 1 "$saved" 2>&1)" ||
		{ bad "$bug: $c as text does not give '$title'"; return 1; }
	line=${c#"$FROM/$bug-"}	# ENGINE-fbF-sS/...
	src="${line%%-*} seed $(sed -E 's/^[^/]*-s([0-9]+)\/.*/\1/' <<<"$line")"
}

for bug in $BUGS; do
	failed=0
	scen=$(grep -lE "^# bugs:.* $bug( |$)" corpora/mt/*.txt | head -1)
	bin=build/bug-$bug/vmtorture-sched
	[ -n "$scen" ] || { bad "$bug: no scenario in corpora/mt names it"; continue; }
	make --no-print-directory -s BUG="$bug" "$bin" "build/bug-$bug/vmtorture" \
		"build/bug-$bug/fuzz/vmt-mt-replay" >/dev/null 2>&1 || { bad "$bug: build"; continue; }
	if [ -n "$FROM" ]; then
		if ! found_by_fuzzer "$bug"; then continue; fi
	else
		out=$("$bin" sched "$scen" --mode pct --runs 5000 --seed 1 --out "$tmp/$bug" 2>&1)
		saved=$(sed -n 's/^  saved //p' <<<"$out")
		[ -n "$saved" ] || { bad "$bug: not found in $(basename "$scen"): $(head -1 <<<"$out")"; continue; }
		title=$(sed -n 's/^# vmtorture sched finding: //p' "$saved" | head -1)
		src="vmtorture sched $(basename "$scen")"
	fi
	min=$tmp/$bug.min
	if ! mout=$("$bin" minimize -o "$min" "$saved" 2>&1); then
		bad "$bug: minimize failed:"; echo "$mout" | head -5; continue
	fi
	v() { sed -n "s/^$1=//p" "$min.verdict"; }
	[ "$(v title)" = "$title" ] || bad "$bug: the minimized title '$(v title)' is not '$title'"
	[ "$(v minimal)" = 1 ] || bad "$bug: not 1-minimal within the budget ($(v cpu_seconds) CPU s)"
	[ "$(v bytes)" -le "$(v before_bytes)" ] && [ "$(v ops)" -le "$(v before_ops)" ] ||
		bad "$bug: larger after minimization"
	grep -q "needs $(v preemptions) preemption" <<<"$mout" || bad "$bug: the output does not say how many preemptions"
	# 3. Independently of the minimizer: no line can go. The check fires
	# on the finding as saved (before minimization) when that is larger.
	if why=$(one_minimal "$bin" "$min.txt" "$title"); then :; else bad "$bug: not 1-minimal: $why"; fi
	# (A finding the minimizer shrank only through new schedules may be
	# 1-minimal under replay already: the check must fire on one bug.)
	if [ "$(v before_ops)" -gt "$(v ops)" ] && ! one_minimal "$bin" "$saved" "$title" >/dev/null; then
		fired=$((fired + 1))
	fi
	# 4. Replays exactly.
	rout=$("$bin" replay --repeat "$REPEAT" "$min.txt" 2>&1)
	if [ $? = 1 ] && grep -qF -- "$title" <<<"$rout" && grep -q "$REPEAT runs, the same" <<<"$rout"; then :; else
		bad "$bug: the minimized program does not replay $REPEAT/$REPEAT:"; echo "$rout" | head -3
	fi
	# 5. The report: a column per thread, the preemptions, the oracle.
	hdr="| decisions |"; for ((t = 0; t < $(v threads); t++)); do hdr+=" thread $t |"; done
	awk -v h="$hdr" 'index($0, h) == 1 { f = 1 } END { exit !f }' "$min.md" || bad "$bug: the report has not one column per thread ($hdr)"
	[ "$(grep -c '▶ preemption' "$min.md")" = "$(v preemptions)" ] || bad "$bug: the report does not show each preemption"
	grep -q '⚠ the oracle fired' "$min.md" || bad "$bug: the report does not show where the oracle fired"
	"$bin" report "$min.txt" >"$tmp/report.md" 2>&1
	diff <(sed -n '/^| decisions/,/^$/p' "$min.md") <(sed -n '/^| decisions/,/^$/p' "$tmp/report.md") >/dev/null ||
		bad "$bug: vmtorture report of the minimized program gives another table"
	campaign_report "$bug" "$saved" "$min" "$title"
	[ $failed = 0 ] && ok "$bug: ${title:0:60}: $(v before_threads)/$(v before_ops)/$(v before_preemptions)/$(v before_bytes)" \
		"-> threads/ops/preemptions/bytes $(v threads)/$(v ops)/$(v preemptions)/$(v bytes)," \
		"faults $(v faults), $(v trials) trials, $(v cpu_seconds) CPU s, replayed $REPEAT/$REPEAT"
	rows+=("| $bug | $src | $(v before_bytes) -> $(v bytes) | $(v threads) ($(v threads_run)) | $(v before_ops) -> $(v ops) | $(v faults) | $(v preemptions) | $([ "$(v minimal)" = 1 ] && echo yes || echo no) | $(v cpu_seconds) | $([ $failed = 0 ] && echo "$REPEAT/$REPEAT" || echo FAIL) |")
done
echo
echo "| bug | finding | bytes | threads (run, with the core's workers) | ops | faults | preemptions | 1-minimal | CPU s | check, replays |"
echo "|---|---|---|---|---|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
echo
if [ $fired = 0 ]; then
	bad "the 1-minimality check rejected no unminimized finding: it cannot be shown to fire"
else
	ok "the 1-minimality check rejected $fired unminimized finding(s)"
fi
exit $rc
