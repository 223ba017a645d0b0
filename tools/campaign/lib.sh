# shellcheck shell=bash
# tools/campaign/lib.sh - what the campaign scripts share (sourced, not
# run): clock, the campaign's log, verdict reader, AFL++ stats reader, and the options of
# every engine and sanitized binary (fuzz/engine-options.sh).

# shellcheck source=fuzz/engine-options.sh
. "$(dirname "${BASH_SOURCE[0]}")/../../fuzz/engine-options.sh"

now() { date +%s; }
# One line for the user and for OUT/logs/campaign.log.
# shellcheck disable=SC2154 # out: set by the script that sources this
say() { echo "campaign: $*" | tee -a "$out/logs/campaign.log" >&2; }
iso() { date -u -d "@$1" +%FT%TZ; }

# A key of a finding's triage/<id>/verdict, or nothing: key=value lines,
# the data (report.md is prose for people). vmtorture report writes
# title=, hits= (how many of its replays reproduced the finding) and
# runs=; vmtorture verdict adds role=cause|symptom, cause= and why=.
verdict_of() { sed -n "s/^$2=//p" "$1/verdict" 2>/dev/null; }

# key of an AFL++ fuzzer_stats file, or empty.
afl_stat() { [ -f "$1" ] && awk -F' *: *' -v k="$2" '$1 == k { print $2; exit }' "$1"; }
