#!/usr/bin/env bash
# kslab's WDK headers from a driver's side (label "wdk"): one case per invocation.
#   headers_test.sh CASE SOURCE_DIR BUILD_DIR CMAKE [REAL_DRIVERS_DIR]
#   source     every WDK header name and every public kslab header, alone in a translation unit,
#              compiles without a warning as C11 (gcc, clang; -Wpedantic) and as C++17 (g++,
#              clang++; -Wpedantic), with -Wall -Wextra -Werror; C++ without -fshort-wchar is
#              refused with a message that says so
#   installed  the same from an installed tree, with the flags pkg-config gives (kslab and
#              kslab-cxx), and a C++ plugin built from the installed files alone
#   reactos    the ReactOS AC'97 driver's nine WavePci/adapter/topology .cpp files, unmodified, in
#              REAL_DRIVERS_DIR/reactos-ac97, compile with g++ and clang++ against the installed
#              headers with 0 errors and no warning located in a kslab header (exit 77, "skipped",
#              when the folder is absent)
set -uo pipefail

case_name=$1 src=$2 build=$3 cmake=$4 real=${5:-}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/kslab-wdk.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1

fail() { echo "FAIL ($case_name): $*" >&2; exit 1; }

WDK_HEADERS="ntdef.h basetyps.h guiddef.h initguid.h wdm.h ntddk.h punknown.h stdunk.h ks.h ksmedia.h drmk.h portcls.h strmini.h"
C_FLAGS="-std=c11 -Wall -Wextra -Wpedantic -Werror"
CXX_FLAGS="-std=c++17 -fshort-wchar -fno-exceptions -fno-rtti -Wall -Wextra -Wpedantic -Werror"

# compile_all INCLUDE_FLAGS...: each header alone, four compilers.
compile_all() {
  local h n=0
  local kslab_headers
  kslab_headers=$(cd "$src/include" && ls kslab/*.h kslab/hw/*.h)
  for h in $WDK_HEADERS $kslab_headers; do
    printf '#include <%s>\nint main(void) { return 0; }\n' "$h" >t.c
    cp t.c t.cpp
    gcc $C_FLAGS "$@" -c t.c -o t.o 2>err.txt || { cat err.txt; fail "gcc: <$h>"; }
    clang $C_FLAGS "$@" -c t.c -o t.o 2>err.txt || { cat err.txt; fail "clang: <$h>"; }
    g++ $CXX_FLAGS "$@" -c t.cpp -o t.o 2>err.txt || { cat err.txt; fail "g++: <$h>"; }
    clang++ $CXX_FLAGS "$@" -c t.cpp -o t.o 2>err.txt || { cat err.txt; fail "clang++: <$h>"; }
    n=$((n + 1))
  done
  echo "$n headers clean in C11 and C++17 with gcc, clang, g++, clang++"
}

install_tree() {
  "$cmake" --install "$build" --prefix "$tmp/p" >install.log 2>&1 || { cat install.log; fail "cmake --install failed"; }
  pcdir=$(dirname "$(find "$tmp/p" -name kslab.pc -path '*/pkgconfig/*' -print -quit)")
  [ -f "$pcdir/kslab-cxx.pc" ] || fail "no kslab-cxx.pc installed"
  export PKG_CONFIG_PATH=$pcdir
}

case "$case_name" in
source)
  compile_all -I"$src/include" -I"$src/include/kslab/wdk"
  # WCHAR must be 16 bits: C++ without -fshort-wchar stops with a message naming the flag.
  printf '#include <portcls.h>\n' >w.cpp
  if g++ -std=c++17 -I"$src/include" -I"$src/include/kslab/wdk" -c w.cpp -o w.o 2>err.txt; then
    fail "C++ without -fshort-wchar compiled"
  fi
  grep -q -- '-fshort-wchar' err.txt || { cat err.txt; fail "the refusal does not name -fshort-wchar"; }
  ;;
installed)
  install_tree
  inc=$(pkg-config --cflags kslab) || fail "pkg-config kslab"
  case "$inc" in *"/kslab/wdk"*) ;; *) fail "pkg-config kslab does not put the WDK header names on the path: $inc";; esac
  compile_all $inc
  cxx=$(pkg-config --cflags --libs kslab-cxx) || fail "pkg-config kslab-cxx"
  for f in -fno-exceptions -fno-rtti -fcheck-new -fshort-wchar -Wl,--whole-archive -lkslab_cxxrt -lkslab; do
    case " $cxx " in *" $f "*) ;; *) fail "pkg-config kslab-cxx lacks $f: $cxx";; esac
  done
  # A C++ driver built from installed files only, run by the installed kslab.
  g++ -shared -o cxx.so "$src/tests/cxx/cxx_ac97.cpp" $cxx || fail "building the C++ driver against the installed tree"
  "$tmp/p/bin/kslab" play --driver "$tmp/cxx.so" --seconds 1 --cancel-every 3 >out.txt 2>&1 \
    || { cat out.txt; fail "the installed kslab cannot play the C++ driver"; }
  grep -q "verifier clean" out.txt || { cat out.txt; fail "not clean"; }
  ;;
reactos)
  drv=$real/reactos-ac97
  if [ -z "$real" ] || [ ! -d "$drv" ]; then
    echo "skipped: no third-party driver sources at '${real:-<none>}/reactos-ac97' (../shared/real-drivers is absent)"
    exit 77
  fi
  install_tree
  inc=$(pkg-config --cflags kslab-cxx kslab) || fail "pkg-config"
  # The driver's own flags (ReactOS builds it with these), the fixture for its private header.
  drvflags="-std=c++17 -Wall -Wextra -Wno-write-strings -Wno-switch -DUNDER_NT -I$src/tests/real-drivers/reactos-ac97"
  errors=0
  for f in adapter common miniport mintopo prophnd stream stream2 wavepciminiport wavepcistream; do
    for cxx in g++ clang++; do
      $cxx $drvflags $inc -c "$drv/$f.cpp" -o "$f.o" >log.txt 2>&1
      rc=$?
      n=$(grep -c 'error' log.txt)
      if [ "$rc" -ne 0 ]; then
        head -40 log.txt
        echo "$cxx $f.cpp: $n error line(s)"
        errors=$((errors + 1))
        continue
      fi
      # A warning located in one of kslab's headers is kslab's fault; the driver's own may warn.
      if grep -E "$tmp/p/include/[^:]*:[0-9]+:[0-9]+: warning" log.txt >kw.txt; then
        cat kw.txt
        fail "$cxx $f.cpp: warnings from kslab's headers"
      fi
    done
  done
  [ "$errors" -eq 0 ] || fail "$errors compilations failed"
  echo "nine ReactOS AC'97 files compile with g++ and clang++ against the installed headers"
  ;;
*) fail "unknown case" ;;
esac
echo "ok ($case_name)"
