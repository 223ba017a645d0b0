#!/usr/bin/env bash
# tools/campaign/bugcheck.sh BUG [SECONDS] - make campaign-bugcheck BUG=name:
# a campaign with every engine on the planted-bug build, then the verdict
# the issue asks for: exactly one signature that is the planted bug's,
# its replay command reproduces it, its minimized program is a few ops.
#
# A signature is the planted bug's if its (minimized) finding does NOT
# reproduce on the correct build (build/fuzz/vmt-replay, or the same stress
# command on build/ or build/tsan/); signatures that do are pre-existing
# differences between core and model and are listed apart, as are those
# whose replay command reproduced them in none of the report's runs.
# A symptom (triage/<id>/verdict: its replay fails another finding's
# check first) is listed under its cause, not counted as a signature.
# Output: build/campaign/bugcheck-BUG-<date>/ and one line per verdict.
set -uo pipefail
# Read in full before running: safe to edit while a check runs.
{
cd "$(dirname "$0")/../.." || exit 2
bug=${1:?usage: bugcheck.sh BUG [SECONDS]}
secs=${2:-300}
out=build/campaign/bugcheck-$bug-$(date -u +%Y%m%d-%H%M%S)
good_fz=build/fuzz

# BUGCHECK_OUT=DIR: judge an earlier campaign again instead of running one.
if [ -n "${BUGCHECK_OUT:-}" ]; then
	out=$BUGCHECK_OUT
else
	bash tools/campaign/campaign.sh --duration "$secs" --out "$out" --quiet \
		--engines "${BUGCHECK_ENGINES:-afl,libfuzzer,stress,tsan}" > /dev/null 2>&1
fi
# shellcheck source=tools/campaign/lib.sh
. tools/campaign/lib.sh
mine=() other=() flaky=() symptoms=()
for d in "$out"/triage/*/; do
	d=${d%/}
	id=$(basename "$d")
	[ "$id" = unreproduced ] && continue
	[ -f "$d/signature" ] || continue
	if [ "$(verdict_of "$d" role)" = symptom ]; then symptoms+=("$id"); continue; fi
	if [ "$(cat "$d/oracle")" = stress ]; then
		# Same command line, correct core: three clean runs = not pre-existing.
		# The same variant (plain or TSan) of the correct build; exit 1 is
		# a violation, 2 could not run.
		mapfile -t args < <(sed -n 's/^arg: //p' "$d/stress.rec")
		good=build/vmtorture; case ${args[0]} in */tsan/*) good=build/tsan/vmtorture ;; esac
		[ "${args[1]:-}" = stress ] || args=("${args[0]}" stress "${args[@]:1}")	# vmtorture-stress
		hit=0
		for _ in 1 2 3; do
			timeout 120 "$good" "${args[@]:1}" > /dev/null 2>&1
			[ $? = 1 ] && hit=1
		done
	else
		# Both replay builds: each passes over the other's programs
		# (one thread, or threads and a schedule).
		f=$d/min; [ -f "$f" ] || f=$d/first
		"$good_fz/vmt-replay" -q "$f" > /dev/null 2>&1; rc=$?
		"$good_fz/vmt-mt-replay" -q "$f" > /dev/null 2>&1; rc_mt=$?
		hit=$(( rc == 1 || rc_mt == 1 ))
	fi
	rep=$(verdict_of "$d" hits)
	if [ "${rep:-0}" = 0 ]; then flaky+=("$id")
	elif [ $hit = 0 ]; then mine+=("$id"); else other+=("$id"); fi
done
printf 'bugcheck %s: %ss campaign, %d signature(s) of the planted bug, %d also on the correct core, %d not reproducible (%s)\n' \
	"$bug" "$secs" "${#mine[@]}" "${#other[@]}" "${#flaky[@]}" "$out"
for id in "${other[@]}"; do echo "  pre-existing: $(cat "$out/triage/$id/signature")"; done
for id in "${flaky[@]}"; do echo "  unconfirmed (reproduced by none of its replays, so not reported): $(cat "$out/triage/$id/signature") (seen $(cat "$out/triage/$id/count")x)"; done
rc=0
for id in "${mine[@]}"; do
	d=$out/triage/$id
	rep="$(verdict_of "$d" hits)/$(verdict_of "$d" runs) runs"
	size=
	if [ -f "$d/min.txt" ] && [ "$(cat "$d/oracle")" != stress ]; then
		size="$(sed -n 's/^# before: //p' "$d/min.txt") -> $(sed -n 's/^# after bytes[^:]*: //p' "$d/min.txt")"
	elif [ -f "$d/stress.rec" ]; then
		size="stress: $(sed -n 's/^arg: //p' "$d/stress.rec" | tail -n +2 | paste -sd' ')"
	fi
	echo "  $id: $(cat "$d/signature") | seen $(cat "$d/count")x by $(sort -u "$d/engines" | paste -sd,) | replay reproduces ${rep:-?} | $size"
	case $rep in 0/*|/*) rc=1 ;; esac
done
for id in "${symptoms[@]}"; do
	echo "  symptom: $(cat "$out/triage/$id/signature") (seen $(cat "$out/triage/$id/count")x): symptom of $(verdict_of "$out/triage/$id" cause): $(verdict_of "$out/triage/$id" why)"
done
[ ${#mine[@]} -eq 1 ] || rc=1
exit $rc
exit $rc
}
