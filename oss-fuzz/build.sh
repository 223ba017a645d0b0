#!/bin/bash -eu
# oss-fuzz/build.sh - OSS-Fuzz / ClusterFuzzLite build of the vmtorture
# differential fuzz target (fuzz/target.c: libvms vs the model).
#
# The contract: compile with $CC $CFLAGS, link with $CXX $CXXFLAGS and
# $LIB_FUZZING_ENGINE (libFuzzer, AFL++'s driver, honggfuzz, ... - never
# assume which), put the binary and its companions in $OUT, scratch in
# $WORK. Outputs:
#   $OUT/vmt_fuzz                 the target
#   $OUT/vmt_fuzz_seed_corpus.zip the shipped scenarios (corpora/seq), encoded,
#                                 named by the SHA-1 of their content
#   $OUT/vmt_fuzz.dict            op-language tokens (fuzz/vmt.dict)
#   $OUT/vmt_fuzz.options         [libfuzzer] settings (fuzz/vmt-libfuzzer.options)
# liburcu is linked statically: the runner image does not have it.

: "${OUT:?}" "${CC:?}" "${CXX:?}" "${LIB_FUZZING_ENGINE:?}"
CFLAGS=${CFLAGS:-}
CXXFLAGS=${CXXFLAGS:-}
here=$(cd "$(dirname "$0")/.." && pwd)
src=${VMT_SRC:-$here}
WORK=${WORK:-$(mktemp -d)}

mkdir -p "$WORK" "$OUT"
# Relative $OUT/$WORK (a local run) must survive the cd's below.
OUT=$(cd "$OUT" && pwd)
WORK=$(cd "$WORK" && pwd)
obj=$WORK/vmt-obj
mkdir -p "$obj"
cd "$src"
incs="-I. -Icore/include -Icore/src -Imodel -Itools/op -Ifuzz"
# The op module is every tools/op source but its tests.
op_srcs=$(printf '%s\n' tools/op/*.c | grep -v "/test_")
srcs="core/src/*.c model/model.c $op_srcs fuzz/target.c"
objs=()
for f in $srcs; do
	o=$obj/$(echo "${f%.c}" | tr / _).o
	# shellcheck disable=SC2086
	$CC $CFLAGS -std=gnu11 -pthread -D_LGPL_SOURCE -DVMS_INVARIANTS=1 -DVMS_FAULTS=1 -DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION \
		$incs -c "$f" -o "$o"
	objs+=("$o")
done
urcu="-lurcu-memb -lurcu-common"
for d in /usr/lib/x86_64-linux-gnu /usr/lib64 /usr/lib /usr/local/lib; do
	if [ -f "$d/liburcu-memb.a" ] && [ -f "$d/liburcu-common.a" ]; then
		urcu="$d/liburcu-memb.a $d/liburcu-common.a"
		break
	fi
done
# shellcheck disable=SC2086
$CXX $CXXFLAGS -pthread "${objs[@]}" $LIB_FUZZING_ENGINE $urcu -o "$OUT/vmt_fuzz"

# Seeds: the text scenarios encoded by a host build of the encoder (no
# sanitizer or engine flags: it only runs here, at build time).
HOST_CC=${HOST_CC:-cc}
enc=$WORK/encode_seeds
# shellcheck disable=SC2086
$HOST_CC -std=gnu11 -O1 $incs oss-fuzz/encode_seeds.c tools/op/op.c tools/op/op_bin.c \
	tools/op/op_text.c -o "$enc"
seeds=$WORK/seeds
rm -rf "$seeds"
mkdir -p "$seeds"
for t in corpora/seq/*.txt; do
	[ -f "$t" ] || continue
	"$enc" "$t" "$seeds/new"
	mv "$seeds/new" "$seeds/$(sha1sum < "$seeds/new" | cut -c1-40)"
done
rm -f "$OUT/vmt_fuzz_seed_corpus.zip"
(cd "$seeds" && zip -q -j "$OUT/vmt_fuzz_seed_corpus.zip" ./*)

cp fuzz/vmt.dict "$OUT/vmt_fuzz.dict"
# The repo's options with the dictionary renamed after the target.
sed 's/^dict *=.*/dict = vmt_fuzz.dict/' fuzz/vmt-libfuzzer.options > "$OUT/vmt_fuzz.options"
echo "build.sh: $OUT/vmt_fuzz, $(ls "$seeds" | wc -l) seeds in vmt_fuzz_seed_corpus.zip, .dict, .options"
