#!/usr/bin/env bash
# fuzz/coverage-test.sh - make coverage-test (part of make test): the
# reasons fuzz/coverage.sh gives for uncovered lines are kept honest.
#  1. The shipped seeds' coverage run passes: no line listed as
#     unreachable (fuzz/cov-unreachable.txt, cov: unreachable markers)
#     ran, so every marker in the tree is still right, and every
#     multi-thread scenario ran twice the same way.
#  2. A planted wrong entry (vms_space_destroy, which every program
#     runs, listed as unreachable) fails the run and is named: the check
#     of 1 can fire. So does the same entry listed as "threads:" (run
#     only by the stress engine's threads).
# The stress runs (fuzz/coverage.sh) add to the figures only: what they
# run depends on timing, so no check here reads their counts.
# Outputs go to $FZ_OUT/coverage-test, not over make coverage's report.
set -uo pipefail
. fuzz/lib.sh

out=$FZ_OUT/coverage-test
rm -rf "$out"
mkdir -p "$out"
fail=0
bad() { echo "coverage-test: FAIL: $*" >&2; fail=1; }

COV_OUT=$out/seeds bash fuzz/coverage.sh > "$out/seeds.log" 2>&1 ||
	bad "the seeds' coverage run failed ($out/seeds.log): $(grep -A3 -E 'listed as unreachable ran|two runs differ' "$out/seeds.log" | head -8 | tr '\n' ' ')"
grep -q '^coverage: uncovered lines with no reason given: [0-9]' "$out/seeds.log" ||
	bad "no figures in $out/seeds.log"

{ cat fuzz/cov-unreachable.txt; echo "space.c   vms_space_destroy   planted by coverage-test: every program runs it"; } > "$out/planted.txt"
if COV_STRESS=none COV_OUT=$out/planted COV_UNREACHABLE=$out/planted.txt bash fuzz/coverage.sh > "$out/planted.log" 2>&1; then
	bad "a planted wrong entry passed ($out/planted.log)"
fi
grep -q '^  space\.c:[0-9]* (vms_space_destroy) ran [0-9]* times: planted' "$out/planted.log" ||
	bad "the planted entry is not named in $out/planted.log"

# A line listed as run only by threads is checked against the replays
# the same way: the stress runs cannot hide a wrong "threads:" entry.
{ cat fuzz/cov-unreachable.txt; echo "space.c   vms_space_destroy   threads: planted by coverage-test: every program runs it"; } > "$out/planted-threads.txt"
if COV_STRESS=none COV_OUT=$out/planted-threads COV_UNREACHABLE=$out/planted-threads.txt bash fuzz/coverage.sh > "$out/planted-threads.log" 2>&1; then
	bad "a planted wrong threads: entry passed ($out/planted-threads.log)"
fi
grep -q '^  space\.c:[0-9]* (vms_space_destroy) ran [0-9]* times: threads: planted' "$out/planted-threads.log" ||
	bad "the planted threads: entry is not named in $out/planted-threads.log"

[ "$fail" = 0 ] || exit 1
echo "coverage-test: PASS ($(sed -n 's/^coverage: core\/src line coverage from .*: \([0-9.]*%\).*/\1/p' "$out/seeds.log") of core/src from the seeds and stress; planted wrong entries fail)"
