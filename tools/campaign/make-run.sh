#!/usr/bin/env bash
# tools/campaign/make-run.sh [CAMPAIGN ARGS] - `make run`: a one-minute
# campaign with every engine in a fresh build/campaign/run-<date>/,
# build/campaign/latest pointing at it, its summary on stdout.
# Exit status: 0 when the campaign ran, whether or not it found
# something (the report is the result); the campaign's own status when
# it failed (3: an engine did not start or died, 4: no engine ran, 2: it
# could not begin). Binaries come from the environment (campaign.mk).
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 2
root=${VMT_RUN_DIR:-build/campaign}	# where run-<date>/ and latest go
out=$root/run-$(date -u +%Y%m%d-%H%M%S)
bash tools/campaign/campaign.sh --duration 60 --out "$out" --engines afl,libfuzzer,stress,tsan,sched "$@"
rc=$?
mkdir -p "$root"
ln -sfn "$(basename "$out")" "$root/latest"
[ -f "$out/summary.md" ] && { echo; cat "$out/summary.md"; }
echo "campaign-run: summary in $out/summary.md"
[ $rc -le 1 ] && exit 0
echo "campaign-run: FAILED: the campaign exited with status $rc (see the top of $out/summary.md)" >&2
exit $rc
