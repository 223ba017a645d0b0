# shellcheck shell=bash
# tools/campaign/finalize.sh - the morning after: minimize and report each
# finding, replay stress findings on the TSan build, decide cause over
# consequence, merge the corpora.
# Sourced by campaign.sh (functions only; the campaign's state stays in
# campaign.sh), read in full before the campaign begins.
# shellcheck disable=SC2154,SC2034 # that state: set and used in campaign.sh, checked there (shellcheck -x)

finalize() {
	echo "== $(date -u +%FT%TZ) finalize"
	triage_pass
	cov_snapshot "$(( $(now) - started + elapsed0 ))"
	report_findings
	tsan_replays
	# Cause over consequence: a finding whose replay fails another's
	# check first is listed under it (triage/<id>/verdict).
	"$TOOL" verdict "$out"
	merge_corpus
	merge_mt_corpus
	text_forms
}

# Minimization gets a quarter of the campaign's duration in all (at
# least 2 minutes), the most frequent signatures first; past that,
# reports describe the first input as found.
report_findings() {
	local fin_deadline d
	fin_deadline=$(( $(now) + (duration / 4 > 120 ? duration / 4 : 120) ))
	for d in $(for c in "$out"/triage/*/count; do [ -f "$c" ] && echo "$(cat "$c") ${c%/count}"; done | sort -rn | cut -d' ' -f2-); do
		[ "$(basename "$d")" = unreproduced ] && continue
		minimize_finding "$d" $(( fin_deadline - $(now) ))
		report_finding "$d"
	done
}

minimize_finding() {	# triage/<id> seconds-left-of-the-budget
	local d=$1 left=$2 id oracle
	id=$(basename "$d")
	oracle=$(cat "$d/oracle")
	[ "$left" -gt "$min_secs" ] && left=$min_secs
	if [ $minimize = 1 ] && [ "$left" -gt 5 ] && [ ! -f "$d/min" ] && [ ! -f "$d/stress.min" ]; then
		if [ "$oracle" = stress ]; then
			"$TOOL" minimize --runs 3 --max-seconds "$left" -o "$d/stress.min.rec" "$d/stress.rec" &&
				cp "$d/stress.rec" "$d/stress.orig.rec" && mv "$d/stress.min.rec" "$d/stress.rec"
			touch "$d/stress.min"
		elif [ "$(cut -d' ' -f1 "$d/first-seen")" = sched ]; then
			# A multi-thread program: the joint minimizer (vmtorture-sched).
			"$CLI" minimize --max-seconds "$left" -o "$d/min" "$d/first"
		else
			"$TOOL" minimize --oracle "$oracle" --sig "$(cat "$d/signature")" \
				--max-seconds "$left" -o "$d/min" "$d/first"
		fi
	elif [ $minimize = 1 ]; then
		echo "minimize: $id: skipped, the minimization budget is spent"
	fi
}

report_finding() {	# triage/<id>
	local d=$1 id oracle runs h
	id=$(basename "$d")
	oracle=$(cat "$d/oracle")
	# Stress reruns take seconds each: fewer of them.
	runs=10; [ "$oracle" = stress ] && runs=5
	"$TOOL" report --runs $runs -o "$d/report.md" "$d"
	# A shrunk stress command is judged on 3 runs: if it then
	# reproduces in none of the report's, the command as found is
	# the one to hand over.
	if [ "$oracle" = stress ] && [ -f "$d/stress.orig.rec" ] && [ "$(verdict_of "$d" hits)" = 0 ]; then
		echo "report: $id: the shrunk stress command did not reproduce; reporting the original"
		mv "$d/stress.rec" "$d/stress.shrunk.rec" && mv "$d/stress.orig.rec" "$d/stress.rec"
		"$TOOL" report --runs $runs -o "$d/report.md" "$d"
	fi
	# ClusterFuzz's rule: a finding that does not reproduce is not
	# handed to anyone as a bug. It stays in triage/ with its report
	# (count, logs, command) and summary.md lists it apart.
	mkdir -p "$out/reports"
	h=$(verdict_of "$d" hits)
	[ -n "$h" ] || echo "report: $id: no verdict (the report failed); kept as a finding"
	if [ "$h" = 0 ]; then
		rm -f "$out/reports/$id.md"
		echo "report: $id: did not reproduce in $runs replays; listed as unconfirmed"
		return
	fi
	cp "$d/report.md" "$out/reports/$id.md"
	echo "report: $out/reports/$id.md"
}

# A stress finding of the plain build has no program to localize.
# Its command replayed on the TSan build (a checking build: races are
# checks too) may show what it followed from: the first of up to 3
# runs that fails a check (a schedule-dependent bug often does not
# in one) goes into the finding's checks as a second replay.
tsan_replays() {
	local d args tsan_checks
	for d in "$out"/triage/*/; do
		[ -f "$d/stress.rec" ] && [ -f "$d/checks" ] && [ "$(verdict_of "$d" hits)" != 0 ] || continue
		[ -x "$TSAN_CLI" ] || continue
		mapfile -t args < <(sed -n 's/^arg: //p' "$d/stress.rec")
		[ "${args[1]:-}" = stress ] && [ "${args[0]}" != "$TSAN_CLI" ] || continue
		tsan_checks=
		for _ in 1 2 3; do
			timeout -k 5 120 "$TSAN_CLI" "${args[@]:1}" > "$d/tsan-replay.log" 2>&1
			tsan_checks=$("$TOOL" classify --log --all "$d/tsan-replay.log" | cut -f3)
			[ -n "$tsan_checks" ] && break
		done
		{ echo; [ -z "$tsan_checks" ] || printf '%s\n' "$tsan_checks"; } >> "$d/checks"
	done
}

# Corpus upkeep: everything the engines kept, minimized two ways.
merge_corpus() {
	local q f
	mkdir -p "$out/corpus/all"
	for q in "$SEEDS" "$out/libfuzzer/corpus" "$out"/afl/*/queue; do
		[ -d "$q" ] || continue
		find "$q" -maxdepth 1 -type f | while IFS= read -r f; do
			cp -n "$f" "$out/corpus/all/$(sha1sum < "$f" | cut -c1-40)"
		done
	done
	if [ -x "$FZ/vmt-libfuzzer" ]; then
		rm -rf "$out/corpus/merged" && mkdir -p "$out/corpus/merged"
		ASAN_OPTIONS=$(san_options asan detect_leaks=0) "$FZ/vmt-libfuzzer" -merge=1 -artifact_prefix="$out/corpus/merge-" \
			-merge_control_file="$out/corpus/merge.ctl" "$out/corpus/merged" "$out/corpus/all" 2>&1 | tail -3
	fi
	if command -v afl-cmin >/dev/null && [ -x "$FZ/vmt-afl" ]; then
		rm -rf "$out/corpus/afl-cmin"
		AFL_ALLOW_TMP=1 AFL_NO_UI=1 timeout 600 afl-cmin -i "$out/corpus/all" -o "$out/corpus/afl-cmin" \
			-- "$FZ/vmt-afl" 2>&1 | tail -3
	fi
}

# The multi-thread programs the sched engine kept, merged on their
# own target (the sequential one passes over them), text forms in
# corpus/mt/ for review before they join corpora/mt/.
merge_mt_corpus() {
	local q f mtq=()
	[ -x "$FZ/vmt-mt-libfuzzer" ] && [ -d "$out/sched/libfuzzer/corpus" ] || return 0
	rm -rf "$out/corpus/mt-merged" "$out/corpus/mt" && mkdir -p "$out/corpus/mt-merged" "$out/corpus/mt"
	for q in "$out"/sched/afl/*/queue; do [ -d "$q" ] && mtq+=("$q"); done
	ASAN_OPTIONS=$(san_options asan detect_leaks=0) "$FZ/vmt-mt-libfuzzer" -merge=1 -artifact_prefix="$out/corpus/mt-merge-" \
		-merge_control_file="$out/corpus/mt-merge.ctl" "$out/corpus/mt-merged" "$MT_SEEDS" \
		"$out/sched/libfuzzer/corpus" "${mtq[@]}" 2>&1 | tail -3
	for f in "$out"/corpus/mt-merged/*; do
		[ -f "$f" ] || continue
		"$CLI" decode "$f" > "$out/corpus/mt/$(basename "$f" | cut -c1-16).txt" 2>/dev/null ||
			rm -f "$out/corpus/mt/$(basename "$f" | cut -c1-16).txt"
	done
}

# The text form, for review before it replaces corpora/seq/.
text_forms() {
	local f
	[ -d "$out/corpus/merged" ] || return 0
	mkdir -p "$out/corpus/seq"
	for f in "$out"/corpus/merged/*; do
		[ -f "$f" ] || continue
		"$CLI" decode "$f" > "$out/corpus/seq/$(basename "$f" | cut -c1-16).txt" 2>/dev/null ||
			rm -f "$out/corpus/seq/$(basename "$f" | cut -c1-16).txt"
	done
}
