#!/usr/bin/env bash
# tools/campaign/test-campaign.sh - make campaign-test (part of test-suites).
#
#  1. A 20 s campaign with every engine on the correct core: it must exit 0,
#     leave one log per engine, a status.tsv with work done by each engine,
#     a summary.md saying "0 signature(s)" and plots.
#  2. The same --out again without --resume must be refused and change
#     nothing.
#  3. Kill a campaign hard (SIGKILL to it and every engine) half-way, then
#     --resume it: every corpus entry and crash file that existed at the
#     kill must still be there afterwards, and the summary counts the resume.
#  4. Nothing of ours outlives the campaigns.
#  5. Every engine broken at start-up (binaries that print an error and
#     exit 1): `make run`'s script must exit 4 (no engine ran), and
#     summary.md must name each engine as failed, retried once, with the
#     reason from its log; the campaign stops once every engine is down
#     for good instead of waiting for its deadline (a long duration here
#     leaves every retry time to happen, however loaded the machine).
#  6. A replay build on which the empty program fails: the pre-flight
#     must file it as a finding under its title (exit 1), not as a dead
#     engine.
#  7. A libFuzzer -fork that ends by itself at its -max_total_time with
#     status 77 (its last job crashed) ran: the campaign exits 0.
#  8. The same finding through a report whose verdict file says that it
#     did not reproduce, while its Markdown says it did: the campaign
#     follows the verdict (unconfirmed, not reported).
# Binaries come from the environment (see campaign.mk's CAMPAIGN_ENV).
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 2
secs=${CAMPAIGN_TEST_SECONDS:-20}
engines=${CAMPAIGN_TEST_ENGINES:-afl,libfuzzer,stress,tsan,sched}
base=build/campaign/test-$(date -u +%Y%m%d-%H%M%S)
fail=0
bad() { echo "campaign-test: FAIL: $*" >&2; fail=1; }
col() { awk -v c="$2" '!/^#/ && NF { v = $c } END { print v + 0 }' "$1/status.tsv" 2>/dev/null; }

# ---- 1 ----
out=$base/run
bash tools/campaign/campaign.sh --duration "$secs" --engines "$engines" --out "$out" --quiet
rc=$?
[ $rc -eq 0 ] || bad "campaign exited with $rc (findings or errors on the correct core; see $out/summary.md)"
IFS=, read -ra el <<< "$engines"
for e in "${el[@]}"; do
	case $e in
	afl) for i in main cmplog; do [ -s "$out/logs/afl-$i.log" ] || bad "no log $out/logs/afl-$i.log"; done
	     [ "$(col "$out" 2)" -gt 0 ] || bad "AFL++ executed nothing" ;;
	libfuzzer) [ -s "$out/logs/libfuzzer.log" ] || bad "no log $out/logs/libfuzzer.log"
	     [ "$(col "$out" 6)" -gt 0 ] || bad "libFuzzer executed nothing" ;;
	stress) [ -s "$out/logs/stress.log" ] || bad "no log $out/logs/stress.log"
	     [ "$(col "$out" 9)" -gt 0 ] || bad "no stress round finished"
	     grep -q ' faults=0\.005 rc=' "$out/logs/stress.log" || bad "stress rounds ran without the default --faults 0.005" ;;
	tsan) [ -s "$out/logs/tsan.log" ] || bad "no log $out/logs/tsan.log"
	     [ "$(col "$out" 11)" -gt 0 ] || bad "no TSan stress round finished"
	     grep -q ' faults=0\.005 rc=' "$out/logs/tsan.log" || bad "TSan stress rounds ran without the default --faults 0.005" ;;
	sched) for i in libfuzzer afl; do [ -s "$out/logs/sched-$i.log" ] || bad "no log $out/logs/sched-$i.log"; done
	     [ "$(col "$out" 14)" -gt 0 ] || bad "the sched engine executed nothing"
	     grep -q '^| sched: AFL++' "$out/summary.md" 2>/dev/null || bad "summary.md has no row for the sched engine's AFL++"
	     [ -n "$(ls "$out"/corpus/mt-merged 2>/dev/null)" ] || bad "no merged multi-thread corpus" ;;
	esac
done
grep -q 'disabled' "$out/logs/campaign.log" 2>/dev/null && bad "an engine was disabled: $(grep disabled "$out/logs/campaign.log")"
[ -f "$out/summary.md" ] || bad "no $out/summary.md"
grep -q '^## Findings: 0 signature(s)' "$out/summary.md" 2>/dev/null || bad "summary.md does not report 0 findings"
# Every instance ran through: no failure, no retry.
n_inst=$(awk -F'\t' '!/^#/ { print $2 }' "$out/engines.tsv" 2>/dev/null | sort -u | wc -l)
[ "$n_inst" -ge ${#el[@]} ] || bad "engines.tsv lists $n_inst engine instances (want one row per instance)"
not_ran=$(awk -F'\t' '!/^#/ && $3 != "ran"' "$out/engines.tsv" 2>/dev/null)
[ -z "$not_ran" ] || bad "an engine did not run through: $not_ran"
grep -q "^## Engines: $n_inst ran\$" "$out/summary.md" 2>/dev/null || bad "summary.md does not say that all $n_inst engines ran"
[ -s "$out/execs.png" ] || bad "no execs.png"
[ -n "$(ls "$out"/corpus/merged 2>/dev/null)" ] || bad "no merged corpus"
sigs=$(find "$out/triage" -mindepth 1 -maxdepth 1 -type d ! -name unreproduced -printf '%f ')
[ -z "$sigs" ] || bad "triage holds findings: $sigs"
# An input the engine saved that is clean on both replay builds: a crash
# is the harness's nondeterminism (a failure); a hang is a 1-s stall of
# a loaded machine (seven engines on two cores), kept and said, not
# failed on. The engines name them: AFL++ crashes id:N,sig:S,...;
# hangs id:N,src:...; libFuzzer timeout-<sha1>.
unrep=$(awk '$4 == "->" && $5 == "unreproduced" { print $3 }' "$out/logs/triage.log" 2>/dev/null)
unrep_crash=$(grep -Ev '^(id:[0-9]+,src:|timeout-)' <<< "$unrep" | grep .)
[ -z "$unrep_crash" ] || bad "crashes in the engines that did not reproduce: $(paste -sd' ' <<< "$unrep_crash")"
[ -z "$unrep" ] || [ -n "$unrep_crash" ] ||
	echo "campaign-test: note: $(wc -l <<< "$unrep") hang(s) in the engines did not reproduce (load $(cut -d' ' -f1-3 /proc/loadavg)), kept in $out/triage/unreproduced" >&2

# ---- 2 ----
before=$(find "$out" -type f | sort | xargs sha1sum | sha1sum)
bash tools/campaign/campaign.sh --duration 5 --engines "$engines" --out "$out" --quiet 2> "$base/again.err"
rc=$?
after=$(find "$out" -type f | sort | xargs sha1sum | sha1sum)
[ $rc -eq 2 ] || bad "an existing --out without --resume was not refused (exit $rc)"
[ "$before" = "$after" ] || bad "the refused run changed $out"

# ---- 3 ----
out=$base/resume
bash tools/campaign/campaign.sh --duration $((secs + 10)) --engines afl,libfuzzer --out "$out" --quiet &
cpid=$!
sleep $((secs / 2 + 5))
kill -KILL $cpid
while read -r _ p; do kill -KILL -- "-$p" 2>/dev/null; done < "$out/pids"
wait $cpid 2>/dev/null
sleep 1
# What a killed campaign has: corpus entries and crashes, by content.
# Empty files are not saved inputs: an engine creates a file, then
# writes it (afl-fuzz: open O_EXCL, then write), and a SIGKILL between
# the two leaves it empty. AFL++'s resume skips empty queue files and
# deletes its old queue, so counting them made this check flaky ("lost
# 1 of N", the empty file's hash). Neither engine writes an empty input
# on purpose (AFL++ never queues one; libFuzzer's empty input is in no
# file here), so nothing with content is excused.
list() { find "$out"/afl/*/queue "$out"/afl/*/crashes* "$out/libfuzzer/corpus" "$out/libfuzzer/artifacts" \
	-maxdepth 1 -type f -size +0 ! -name README.txt -exec sha1sum {} + 2>/dev/null | sort -k1,1 -u; }
list > "$base/at-kill"
n_kill=$(wc -l < "$base/at-kill")
[ "$n_kill" -gt 0 ] || bad "nothing in the killed campaign to check"
bash tools/campaign/campaign.sh --resume --duration 8 --out "$out" --quiet
rc=$?
[ $rc -eq 0 ] || bad "resumed campaign exited with $rc"
list > "$base/after-resume"
lost=$(join -v1 "$base/at-kill" "$base/after-resume")
# AFL++ imports the old queue as new entries named
# id:N,time:0,execs:0,orig:<old name>, and trims an entry in place the
# first time it fuzzes it: an old entry the killed run had not fuzzed yet
# can come back under its orig: name with shorter content. That input is
# kept (trimmed, same path through the target); any other hash that is
# gone is lost.
kept_trimmed=0
if [ -n "$lost" ]; then
	while read -r h p; do
		case $p in */queue/id:*) ;; *) printf '%s %s\n' "$h" "$p"; continue ;; esac
		if compgen -G "$(dirname "$p")/*,orig:$(basename "$p")" > /dev/null; then
			kept_trimmed=$((kept_trimmed + 1))
		else
			printf '%s %s\n' "$h" "$p"
		fi
	done <<< "$lost" > "$base/lost"
	[ "$kept_trimmed" = 0 ] || echo "campaign-test: resume: $kept_trimmed AFL++ queue entr(ies) came back trimmed under their orig: name" >&2
	lost=$(cat "$base/lost")
fi
if [ -z "$lost" ]; then
	echo "campaign-test: resume kept all $n_kill corpus/crash files ($(wc -l < "$base/after-resume") after)" >&2
else
	bad "resume lost $(wc -l <<< "$lost") of $n_kill corpus/crash files: $(cut -d' ' -f2- <<< "$lost" | head -5 | paste -sd' ')"
fi
grep -q 'resumed 1 time' "$out/summary.md" 2>/dev/null || bad "summary.md does not mention the resume"

# ---- 5 ----
fake=$base/fake
mkdir -p "$fake/tsan"
for b in vmt-afl vmt-afl-cmplog vmt-afl-asan vmt-libfuzzer vmt-mt-afl vmt-mt-libfuzzer vmtorture tsan/vmtorture; do
	printf '#!/bin/sh\necho "%s: planted start-up failure (campaign-test)" >&2\nexit 1\n' "$b" > "$fake/$b"
	chmod +x "$fake/$b"
done
# Triage and coverage keep working binaries: only the engines are broken.
ln -s "$(readlink -f "$VMT_FZ")/vmt-replay" "$fake/vmt-replay"
ln -s "$(readlink -f "$VMT_FZ")/vmt-mt-replay" "$fake/vmt-mt-replay"
VMT_RUN_DIR=$base/broken VMT_FZ=$fake VMT_CLI=$fake/vmtorture VMT_TSAN_CLI=$fake/tsan/vmtorture \
	bash tools/campaign/make-run.sh --duration 120 --quiet > "$base/broken.out" 2>&1
rc=$?
[ $rc -eq 4 ] || bad "make run with every engine broken exited with $rc, want 4 (no engine ran)"
sum=$base/broken/latest/summary.md
grep -q '^\*\*No engine ran' "$sum" 2>/dev/null || bad "$sum does not say that no engine ran"
ran=$(sed -n 's/^| ran for | \([0-9]*\)s of 120s planned |$/\1/p' "$sum" 2>/dev/null)
[ -n "$ran" ] && [ "$ran" -lt 120 ] ||
	bad "with every engine down the campaign ran on to its deadline (ran for '${ran}' s of 120)"
for e in afl-main:'is a shell script' afl-cmplog:'is a shell script' libfuzzer:planted stress:planted tsan:planted \
	 sched-afl:'is a shell script' sched-libfuzzer:planted; do
	grep -qE "^\| ${e%%:*} \| \*\*failed\*\* \(retried 1x\) \| [0-9]+ s \| exit [0-9]+: .*${e#*:}" "$sum" 2>/dev/null ||
		bad "$sum does not name ${e%%:*} as failed after a retry with the reason from its log"
done

# ---- 6 ----
fz6=$base/fz-empty-fails
mkdir -p "$fz6"
printf '#!/bin/sh\nfor f; do :; done\nif [ ! -s "$f" ]; then echo "DIVERGENCE check: vms_space_check: planted for the empty program (campaign-test)"; exit 1; fi\nexec %s "$@"\n' \
	"$(readlink -f "$VMT_FZ")/vmt-replay" > "$fz6/vmt-replay"
chmod +x "$fz6/vmt-replay"
out=$base/empty-fails
VMT_FZ=$fz6 bash tools/campaign/campaign.sh --duration 8 --engines stress --out "$out" --quiet --no-minimize \
	> "$base/empty-fails.out" 2>&1
rc=$?
[ $rc -eq 1 ] || bad "a failing empty program: campaign exited with $rc, want 1 (a finding)"
grep -qx preflight "$out"/triage/*/engines 2>/dev/null || bad "the failing empty program was not filed by triage (engine preflight)"
grep -q '^| `[0-9a-f]*` | DIVERGENCE check: vms_space_check |' "$out/summary.md" 2>/dev/null ||
	bad "summary.md does not list the empty program's finding under its title"

# ---- 7 ----
# libFuzzer -fork ends at its -max_total_time with its last job's status:
# 77 when that job crashed. Ending so on its own, it ran (it did not die).
fz7=$base/fz-lf-77
mkdir -p "$fz7"
for f in "$VMT_FZ"/*; do ln -s "$(readlink -f "$f")" "$fz7/"; done
rm -f "$fz7/vmt-libfuzzer"
printf '#!/bin/sh\nt=10\nfor a; do case $a in -max_total_time=*) t=${a#*=};; esac; done\n%s\nsleep $((t - 3))\n%s\nexit 77\n' \
	'echo "#1: cov: 1 ft: 1 corp: 1 exec/s 0 oom/timeout/crash: 0/0/1"; echo "==1== ERROR: libFuzzer: deadly signal"' \
	'echo "INFO: fuzzed for $((t - 3)) seconds, wrapping up soon"; echo "INFO: exiting: 77"' > "$fz7/vmt-libfuzzer"
chmod +x "$fz7/vmt-libfuzzer"
out=$base/lf-77
VMT_FZ=$fz7 bash tools/campaign/campaign.sh --duration 15 --engines libfuzzer --out "$out" --quiet --no-minimize \
	> "$base/lf-77.out" 2>&1
rc=$?
[ $rc -eq 0 ] || bad "a libFuzzer that exits 77 at its deadline: campaign exited with $rc, want 0"
grep -qP '^0\tlibfuzzer\tran\t' "$out/engines.tsv" 2>/dev/null ||
	bad "a libFuzzer that exits 77 at its deadline is not recorded as ran ($out/engines.tsv)"

# ---- 8 ----
# The campaign decides on the report's verdict (data), not its Markdown.
# The same finding as in 6, through a tool whose report says in
# triage/<id>/verdict that no replay reproduced it while report.md still
# says it did: the finding must be unconfirmed, not reported.
tool7=$base/tool-says-no
real=$(readlink -f "${VMT_CAMPAIGN_BIN:-build/vmt-campaign}")
cat > "$tool7" <<EOF
#!/bin/sh
"$real" "\$@"; rc=\$?
[ "\$1" = report ] || exit \$rc
for d; do :; done
[ -f "\$d/verdict" ] && sed -i 's/^hits=.*/hits=0/' "\$d/verdict"
exit 1
EOF
chmod +x "$tool7"
out=$base/verdict-says-no
VMT_FZ=$fz6 VMT_CAMPAIGN_BIN=$tool7 bash tools/campaign/campaign.sh --duration 8 --engines stress --out "$out" \
	--quiet --no-minimize > "$base/verdict-says-no.out" 2>&1
grep -q '^| reproduces | [1-9]' "$out"/triage/*/report.md 2>/dev/null ||
	bad "verdict test: report.md does not claim the finding reproduced (nothing to contradict)"
grep -q '^## Findings: 0 signature(s)' "$out/summary.md" 2>/dev/null &&
	grep -q '^Unconfirmed: 1 ' "$out/summary.md" && [ -z "$(ls "$out/reports" 2>/dev/null)" ] ||
	bad "a finding whose verdict says it did not reproduce was counted as reproduced ($out/summary.md)"

# ---- 4 (last: it covers every campaign above) ----
# Nothing of ours outlives the campaigns (AFL++ leaves persistent children
# stopped in sessions of their own; the campaign must reap them, even after
# it was killed and resumed).
sleep 1
base_abs=$(readlink -f "$base")
strays=$(for p in /proc/[0-9]*; do
	case $(readlink "$p/fd/0" 2>/dev/null) in "$base_abs"/*) echo "${p#/proc/}" ;; esac
done)
if [ -n "$strays" ]; then
	bad "processes outlived the campaigns: $strays"
	kill -KILL $strays 2>/dev/null
fi

[ $fail -eq 0 ] && echo "campaign-test: PASS ($base)" >&2
exit $fail
