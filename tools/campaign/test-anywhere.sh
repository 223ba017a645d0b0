#!/bin/bash
# tools/campaign/test-anywhere.sh - the CLI's campaign commands work from any
# directory: they find their oracles (fuzz/vmt-replay, ...) beside the
# running binary, not under ./build.
#   bash tools/campaign/test-anywhere.sh build/vmtorture SEED
set -u
cli=$(realpath "${1:?usage: test-anywhere.sh VMTORTURE SEED}")
seed=$(realpath "${2:?usage: test-anywhere.sh VMTORTURE SEED}")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
check() {	# status description command...: that exit status, nothing on stderr
	(cd "$tmp" && env -u VMT_FZ -u VMT_CLI "${@:3}" >"$tmp/out" 2>"$tmp/err")
	if [ $? = "$1" ] && [ ! -s "$tmp/err" ]; then
		pass=$((pass + 1)); echo "  ok   $2"
	else
		fail=$((fail + 1)); echo "  FAIL $2"; sed 's/^/       /' "$tmp/err" | head -3
	fi
}
check 0 "classify from $tmp" "$cli" classify "$seed"
grep -q UNREPRODUCED "$tmp/out" || { fail=$((fail + 1)); echo "  FAIL classify: the correct core reproduces nothing"; }
# Exit 1: the seed is no finding on the correct core (report's verdict).
check 1 "report from $tmp" "$cli" report -o "$tmp/r.md" "$seed"
grep -q "does not reproduce" "$tmp/r.md" || { fail=$((fail + 1)); echo "  FAIL report: no verdict in the report"; }
echo "test-anywhere: $pass passed, $fail failed"
[ $fail = 0 ]
