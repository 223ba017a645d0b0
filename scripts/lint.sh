#!/usr/bin/env bash
# scripts/lint.sh - `make lint`: shellcheck, cppcheck and clang-format;
# one line per finding, a count per tool, exit 1 if any tool found one.
#
#   scripts/lint.sh BASE     clang-format checks the C lines changed since
#                            BASE (make lint passes the Makefile's FORMAT_BASE)
#
# - shellcheck: every shell script in the tree at -S warning, following
#   the files it sources (-x). A `# shellcheck disable=SCxxxx` carries its
#   reason beside it.
# - cppcheck: core/ model/ tools/ fuzz/ stress/, warnings, style, performance
#   and portability, in every configuration but the planted bugs
#   (-UVMS_BUG_*: their #ifdefs are defects on purpose); suppressions
#   with their reasons in scripts/cppcheck.supp.
# - clang-format: .clang-format (clang-format 14) on the lines changed
#   since BASE, through git clang-format: the tree predates the file and
#   reformatting all of it would rewrite about 2,900 lines (9%), most of
#   them hand-aligned comments and macros; code written since is held to
#   it. `make format` formats those lines in place.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2
base=${1:?usage: lint.sh BASE}
rc=0

shells=()
while IFS= read -r f; do shells+=("$f"); done < <(
	{ find . -path ./build -prune -o -name '*.sh' -type f -print; echo ./.ci/run; } | sort)
# Findings, one a line, then their count.
report() { [ -z "$2" ] || printf '%s\n' "$2"; n=$(grep -c . <<< "$2"); echo "lint: $1: $n finding(s)$3"; }
report shellcheck "$(shellcheck -x -S warning -f gcc "${shells[@]}")" " in ${#shells[@]} scripts"
[ "$n" = 0 ] || rc=1

undef=()
while IFS= read -r b; do undef+=("-UVMS_BUG_$b"); done < <(bash scripts/bugs.sh list)
[ ${#undef[@]} -gt 0 ] || { echo "lint: cppcheck: no planted bugs listed (scripts/bugs.sh)"; rc=1; }
report cppcheck "$(cppcheck -q -j2 --std=c11 --enable=warning,style,performance,portability \
	--suppressions-list=scripts/cppcheck.supp --inline-suppr \
	-Icore/include -Icore/src -Imodel -Itools/op "${undef[@]}" \
	--template='{file}:{line}: {severity}: {message} [{id}]' \
	core model tools fuzz stress 2>&1)" ""
[ "$n" = 0 ] || rc=1

if ! git rev-parse -q --verify "$base^{commit}" >/dev/null; then
	echo "lint: clang-format: base $base is not a commit here (a git checkout is needed)"
	rc=1
else
	d=$(git clang-format-14 --binary clang-format-14 --extensions c,h --diff "$base" -- \
		${FORMAT_DIRS:-core model tools fuzz stress tests bench} 2>&1)
	case $d in
	'no modified files to format'|'clang-format did not modify any files'|'')
		echo "lint: clang-format: the C lines changed since ${base:0:12} are formatted" ;;
	*)
		printf '%s\n' "$d"
		echo "lint: clang-format: $(grep -c '^+[^+]' <<< "$d") line(s) to reformat since ${base:0:12} (make format)"
		rc=1 ;;
	esac
fi
exit $rc
