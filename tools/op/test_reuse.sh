#!/usr/bin/env bash
# test_reuse.sh - a program's result must not depend on what the process
# ran before it: vmt_exec keeps one pool and one model per thread and
# resets them between programs (tools/op/reuse.c), and every finding has
# to replay the same in a fresh process.
#
#   bash tools/op/test_reuse.sh CLI FILE|DIR...
#
# The binary programs (a directory: every file in it) run in one process
# in order, then in another in reverse order, so that each runs right after
# two different programs; each also runs alone in a fresh process. The
# whole output of a program (`CLI replay -v`: every op's result, the
# physical address of every new frame, the verdict or the divergence
# signature) must be the same all three times. REUSE_MAX (default 300)
# caps the number of programs (an even spread of the sorted list).
set -uo pipefail
cli=${1:?usage: test_reuse.sh CLI FILE|DIR...}
shift
max=${REUSE_MAX:-300}

files=()
for a in "$@"; do
	if [ -d "$a" ]; then
		mapfile -t -O ${#files[@]} files < <(find "$a" -maxdepth 1 -type f ! -name '.*' | sort)
	elif [ -f "$a" ]; then
		files+=("$a")
	fi
done
n=${#files[@]}
if [ "$n" -lt 2 ]; then
	echo "test_reuse: FAIL: need at least two programs, got $n" >&2
	exit 1
fi
if [ "$n" -gt "$max" ]; then
	picked=()
	for ((i = 0; i < max; i++)); do picked+=("${files[i * n / max]}"); done
	files=("${picked[@]}")
	n=$max
fi
reversed=()
for ((i = n - 1; i >= 0; i--)); do reversed+=("${files[i]}"); done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/fwd" "$tmp/rev"
# One output file per program, numbered by its place in the run. The
# exit status says whether something diverged: the outputs say what.
split_run() {
	"$cli" replay -v "${@:2}" | awk -v d="$1" '/^== /{ f = sprintf("%s/%06d", d, n++) } { print > f }'
}
split_run "$tmp/fwd" "${files[@]}"
split_run "$tmp/rev" "${reversed[@]}"

bad=0
for ((i = 0; i < n; i++)); do
	f=${files[i]}
	"$cli" replay -v "$f" > "$tmp/alone"
	for run in fwd rev; do
		if [ $run = fwd ]; then k=$i; else k=$((n - 1 - i)); fi
		if ! cmp -s "$tmp/alone" "$tmp/$run/$(printf %06d $k)"; then
			if [ $k -gt 0 ]; then
				if [ $run = fwd ]; then prev=${files[k - 1]}; else prev=${reversed[k - 1]}; fi
			else
				prev="(nothing)"
			fi
			echo "test_reuse: FAIL: $f after $prev differs from $f alone:" >&2
			diff "$tmp/alone" "$tmp/$run/$(printf %06d $k)" | head -10 >&2
			bad=$((bad + 1))
		fi
	done
	[ $bad -ge 5 ] && break
done
if [ $bad -ne 0 ]; then
	exit 1
fi
echo "test_reuse: ok: $n programs, each alone, after its predecessor and after its successor" >&2
