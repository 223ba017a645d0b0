#!/usr/bin/env bash
# Install what the build and the harnesses need on Debian 12, if missing.
# As root it runs apt-get; otherwise it prints the command and fails.
set -euo pipefail
# make lint needs shellcheck, cppcheck and clang-format-14 (git clang-format-14);
# the checks measure peak memory and CPU with /usr/bin/time (package time).
pkgs=(clang libclang-rt-14-dev llvm liburcu-dev afl++ lld-14 gnuplot-nox lcov make linux-perf
	shellcheck cppcheck clang-format-14 git time)
missing=()
have_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }
for p in "${pkgs[@]}"; do have_pkg "$p" || missing+=("$p"); done
[ ${#missing[@]} -eq 0 ] && exit 0
cmd="apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing packages: ${missing[*]}; run as root: $cmd" >&2
	exit 1
fi
echo "deps: installing ${missing[*]}" >&2
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
