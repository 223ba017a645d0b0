#!/usr/bin/env bash
# fuzz/bugcheck-mt.sh - make bugcheck-fuzz-mt: time to the first finding of
# each planted concurrency bug by libFuzzer on the multi-thread target
# alone (no stress, no explorer), from the shipped seeds (corpora/mt and
# corpora/seq), with the interleaving feedback on and off.
#
#   bash fuzz/bugcheck-mt.sh [SEEDS [CAP_SECONDS]]
#     BUGCHECK_MT_BUGS="a b"   the bugs (default: every bug whose checks
#                              include sched in core/bugs.tsv)
#     BUGCHECK_MT_FEEDBACK="1 0"  feedback settings to compare
#
# Each run: a fresh corpus directory, libFuzzer -seed=S, at most CAP_SECONDS
# of wall time. A finding counts only if its crash file replays, twice, on
# the planted-bug build of the replay target to the title the engine
# printed (findings are exact). One line per run (TSV on stdout: bug,
# feedback, seed, found, wall s, CPU s, executions, title), then per bug and
# setting the found/seeds and the medians (a miss counts as CAP).
# Not part of `make test`: minutes per bug. Machine load goes to stderr.
set -uo pipefail
cd "$(dirname "$0")/.."
seeds=${1:-3}
cap=${2:-120}
BUGS=${BUGCHECK_MT_BUGS:-$(scripts/bugs.sh list sched | tr '\n' ' ')}
FEEDBACK=${BUGCHECK_MT_FEEDBACK:-1 0}
work=build/fuzz-out/bugcheck-mt/$(date -u +%Y%m%d-%H%M%S)
mkdir -p "$work"
res=$work/runs.tsv
echo "# bugcheck-mt: $seeds seed(s), cap ${cap}s, bugs: $BUGS; load: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
printf '# bug\tfeedback\tseed\tfound\twall_s\tcpu_s\texecs\ttitle\n' | tee "$res"
for bug in $BUGS; do
	fz=build/bug-$bug/fuzz
	make --no-print-directory -s BUG="$bug" "$fz/vmt-mt-libfuzzer" "$fz/vmt-mt-replay" >/dev/null 2>&1 ||
		{ echo "$bug: build failed" >&2; continue; }
	for fb in $FEEDBACK; do
		for ((s = 1; s <= seeds; s++)); do
			d=$work/$bug-fb$fb-s$s
			mkdir -p "$d/corpus"
			t0=$(date +%s.%N)
			VMT_SCHED_FEEDBACK=$fb ASAN_OPTIONS=detect_leaks=0 /usr/bin/time -o "$d/time" -f '%U %S' \
				"$fz/vmt-mt-libfuzzer" -seed="$s" -max_total_time="$cap" -dict=fuzz/vmt.dict \
				-max_len=4096 -timeout=10 -artifact_prefix="$d/" "$d/corpus" build/corpora/mt \
				build/corpora/seq > "$d/log" 2>&1
			wall=$(echo "$(date +%s.%N) - $t0" | bc)
			cpu=$(tail -1 "$d/time" 2>/dev/null | awk '{ printf "%.1f", $1 + $2 }')
			crash=$(ls "$d"/crash-* 2>/dev/null | head -1)
			title=$(sed -n 's/^MT FINDING: //p' "$d/log" | head -1)
			execs=$(grep -aoE '^#[0-9]+' "$d/log" | tail -1 | tr -d '#')
			found=0
			if [ -n "$crash" ] && [ -n "$title" ]; then
				# Exact: the replay build gives the same title, twice.
				t1=$("$fz/vmt-mt-replay" -q "$crash" 2>&1 | sed -n 's/^MT FINDING: //p')
				t2=$("$fz/vmt-mt-replay" -q "$crash" 2>&1 | sed -n 's/^MT FINDING: //p')
				if [ "$t1" = "$title" ] && [ "$t2" = "$title" ]; then
					found=1
				else
					title="NOT EXACT: '$title' replayed as '$t1' / '$t2'"
				fi
			fi
			[ $found = 1 ] || wall=$cap
			printf '%s\t%s\t%s\t%s\t%.1f\t%s\t%s\t%s\n' "$bug" "$fb" "$s" "$found" "$wall" "${cpu:-?}" \
				"${execs:-0}" "${title:--}" | tee -a "$res"
		done
	done
done
echo "# load at the end: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
echo
echo "| bug | feedback | found | median wall s | max wall s | median CPU s | median execs |"
echo "|---|---|---|---|---|---|---|"
awk -F'\t' '!/^#/ { k = $1 "\t" $2; n[k]++; f[k] += $4; w[k] = w[k] " " $5; c[k] = c[k] " " $6; e[k] = e[k] " " $7
		if (!(k in o)) o[k] = ++no; ord[o[k]] = k }
	function med(s,   a, m, i, j, t) { m = split(s, a, " ")
		for (i = 1; i <= m; i++) for (j = i + 1; j <= m; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
		return m % 2 ? a[(m + 1) / 2] : (a[m / 2] + a[m / 2 + 1]) / 2 }
	function mx(s,   a, m, i, r) { m = split(s, a, " "); r = a[1]; for (i = 2; i <= m; i++) if (a[i] + 0 > r + 0) r = a[i]; return r }
	END { for (i = 1; i <= no; i++) { k = ord[i]; split(k, b, "\t")
		printf "| %s | %s | %d/%d | %s | %s | %s | %s |\n", b[1], b[2] ? "on" : "off", f[k], n[k], med(w[k]), mx(w[k]), med(c[k]), med(e[k]) } }' "$res"
echo
echo "runs: $res"
