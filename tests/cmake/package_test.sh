#!/usr/bin/env bash
# The installed CMake package (label "plugin"): find_package(kslab) and kslab_add_driver() build
# a C++ driver (tests/cxx/cxx_ac97.cpp) and a C one (the reference miniports/ac97 files) out of
# tree, each in one call, and the installed kslab plays both bit-exact.
#   package_test.sh KSLAB_SOURCE_DIR BUILD_DIR CMAKE
set -uo pipefail

src=$1 build=$2 cmake=$3
tmp=$(mktemp -d "${TMPDIR:-/tmp}/kslab-package.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1
fail() { echo "FAIL (package): $*" >&2; exit 1; }

"$cmake" --install "$build" --prefix "$tmp/p" >install.log 2>&1 || { cat install.log; fail "cmake --install failed"; }
[ -f "$(find "$tmp/p" -name kslabConfig.cmake -print -quit)" ] || fail "no kslabConfig.cmake installed"
mkdir proj
cp "$src/tests/cxx/cxx_ac97.cpp" proj/
cp "$src"/miniports/ac97/*.c "$src"/miniports/ac97/*.h proj/
cat >proj/CMakeLists.txt <<'CM'
cmake_minimum_required(VERSION 3.25)
project(mydrivers LANGUAGES C CXX)
find_package(kslab 0.2 REQUIRED)
kslab_add_driver(cxxdrv SOURCES cxx_ac97.cpp)
kslab_add_driver(cdrv SOURCES format.c miniport.c stream.c plugin.c)
CM
"$cmake" -S proj -B proj/build -G Ninja -DCMAKE_PREFIX_PATH="$tmp/p" >cfg.log 2>&1 || { cat cfg.log; fail "configure"; }
"$cmake" --build proj/build >bld.log 2>&1 || { cat bld.log; fail "build"; }
for d in cxxdrv cdrv; do
  [ -f "proj/build/$d.so" ] || fail "no $d.so"
  "$tmp/p/bin/kslab" play --driver "proj/build/$d.so" --seconds 1 --cancel-every 3 -o "$d.wav" >out.txt 2>&1 \
    || { cat out.txt; fail "$d: the installed kslab cannot play it"; }
  grep -q "bit-exact" out.txt || { cat out.txt; fail "$d: not bit-exact"; }
  grep -q "verifier clean" out.txt || { cat out.txt; fail "$d: not clean"; }
done
cmp cxxdrv.wav cdrv.wav || fail "the C++ and the C driver played different bytes"
echo "ok (package)"
