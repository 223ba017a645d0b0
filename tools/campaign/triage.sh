# shellcheck shell=bash
# tools/campaign/triage.sh - every finding file of every engine, replayed
# and filed under its signature in triage/<id>/; the empty-program
# pre-flight.
# Sourced by campaign.sh (functions only; the campaign's state stays in
# campaign.sh), read in full before the campaign begins.
# shellcheck disable=SC2154,SC2034 # that state: set and used in campaign.sh, checked there (shellcheck -x)


# Every finding file of every engine, once (by content): replay it on the
# replay build (then the ASan build), file it under its signature.
triage_file() {	# engine path
	local eng=$1 f=$2 h line oracle id sig d
	h=$(sha1sum < "$f" | cut -c1-40)
	grep -qx "$h" "$out/triage/seen" 2>/dev/null && return 0
	case $eng in
	stress|tsan)
		sig=$(sed -n 's/^signature: //p' "$f")
		id=$("$TOOL" classify --id "$sig" 2>/dev/null)
		oracle=stress
		;;
	*)
		line=$("$TOOL" classify "$f" 2>> "$out/logs/triage.log") || true
		oracle=$(cut -f1 <<< "$line") id=$(cut -f2 <<< "$line") sig=$(cut -f3- <<< "$line")
		;;
	esac
	if [ -z "$id" ]; then
		echo "$(date -u +%T) $eng $f: classify failed" >> "$out/logs/triage.log"
		return 0
	fi
	[ "$sig" = UNREPRODUCED ] && id=unreproduced
	d=$out/triage/$id
	mkdir -p "$d/inputs"
	if [ ! -f "$d/signature" ]; then
		echo "$sig" > "$d/signature"
		echo "$oracle" > "$d/oracle"
		cp "$f" "$d/first"
		[ "$oracle" = stress ] && cp "$f" "$d/stress.rec"
		echo "$eng $(date -u +%FT%TZ) $f" > "$d/first-seen"
		echo "$(date -u +%T) NEW signature $id from $eng: $sig" | tee -a "$out/logs/triage.log" >&2
	elif [ "$(cat "$d/oracle")" = stress ] && [ "$oracle" != stress ]; then
		# A program reproduces deterministically and minimizes to a few
		# ops: it becomes the signature's representative.
		echo "$oracle" > "$d/oracle"
		cp "$f" "$d/first"
		echo "$eng $(date -u +%FT%TZ) $f" > "$d/first-seen"
	fi
	echo $(( $(cat "$d/count" 2>/dev/null || echo 0) + 1 )) > "$d/count"
	echo "$eng" >> "$d/engines"
	# Keep a bounded number of examples per signature.
	[ "$(ls "$d/inputs" | wc -l)" -lt 20 ] && cp "$f" "$d/inputs/$eng-$h"
	echo "$(date -u +%T) $eng $(basename "$f") -> $id ($oracle) $sig" >> "$out/logs/triage.log"
	echo "$h" >> "$out/triage/seen"
}

triage_pass() {	# [max files]
	local max=${1:-1000000} n=0 f
	while IFS= read -r f; do
		[ -f "$f" ] || continue
		case $f in */README.txt) continue ;; esac
		local eng=afl
		case $f in */sched/*) eng=sched ;; */libfuzzer/*) eng=libfuzzer ;; */stress/findings/tsan-*) eng=tsan ;; */stress/findings/*) eng=stress ;; esac
		triage_file "$eng" "$f"
		n=$((n + 1))
		[ $n -ge "$max" ] && break
	done < <( { find "$out"/afl/*/crashes* "$out"/afl/*/hangs* -maxdepth 1 -type f -name 'id:*' 2>/dev/null
		    find "$out"/sched/afl/*/crashes* "$out"/sched/afl/*/hangs* -maxdepth 1 -type f -name 'id:*' 2>/dev/null
		    find "$out/libfuzzer/artifacts" "$out/sched/libfuzzer/artifacts" -maxdepth 1 -type f 2>/dev/null
		    find "$out/stress/findings" -maxdepth 1 -type f -name '*.rec' 2>/dev/null; } | sort)
}

# The empty program runs first in libFuzzer and is where every input
# starts: if it fails on the replay build, that is a finding (filed and
# titled like any other), and engines that stop on it are explained by
# it, not broken. (The replay build decides: the ASan build is also
# libFuzzer's engine, and a broken engine must not pass for a finding.)
preflight() {
	local f=$out/preflight/empty line sig
	mkdir -p "$out/preflight"
	: > "$f"
	"$FZ/vmt-replay" -q "$f" > /dev/null 2>&1 && return 0
	line=$("$TOOL" classify "$f" 2>> "$out/logs/triage.log") || true
	sig=$(cut -f3- <<< "$line")
	{ [ -n "$sig" ] && [ "$sig" != UNREPRODUCED ]; } || return 0
	empty_sig=$sig
	say "the empty program fails: $sig"
	triage_file preflight "$f"
}
