#!/usr/bin/env bash
# Driver plugin tests (label "plugin"): one case per invocation.
#   plugin_test.sh CASE KSLAB AC97_SO SOURCE_DIR BUILD_DIR CMAKE
# Cases build their test plugins with plain `cc`, as users do.
set -uo pipefail
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/../lib/testlib.sh" # fail, run

case_name=$1 kslab=$2 ac97_so=$3 src=$4 build=$5 cmake=$6
tmp=$(mktemp -d "${TMPDIR:-/tmp}/kslab-plugin.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1

expect_err() { grep -qF -- "$1" err.txt || { echo "--- stderr"; cat err.txt; fail "stderr lacks: $1"; }; }

abi=$(sed -n 's/^#define KSL_PLUGIN_ABI_VERSION \([0-9]*\)u\{0,1\}\( .*\)\{0,1\}$/\1/p' "$src/include/kslab/plugin.h")
[ -n "$abi" ] || fail "cannot read KSL_PLUGIN_ABI_VERSION from plugin.h"

# A plugin source with a hand-written entry point: ABI version, kind, driver given as C text.
hand_plugin() { # NAME ABI KIND DRIVER_EXPR
  cat >"$1.c" <<C
#include <kslab/plugin.h>
static NTSTATUS new_miniport(PMINIPORTWAVEPCI *Miniport) { (void)Miniport; return STATUS_UNSUCCESSFUL; }
static const ksl_wavepci_driver drv = {KSL_WAVEPCI_DRIVER_VERSION, "hand", "hand-written entry point", "ac97",
                                       new_miniport, NULL};
const ksl_plugin *kslab_plugin(void);
const ksl_plugin *kslab_plugin(void)
{
    static const ksl_plugin p = {$2, $3, $4};
    (void)drv;
    return &p;
}
C
  cc -shared -fPIC -std=c11 -Wall -Wextra -Werror -I"$src/include" -o "$1.so" "$1.c" || fail "cannot build $1.so"
}

case "$case_name" in
ac97_bitexact)
  # The in-tree ac97.so plays and captures exactly what the built-in driver does.
  for cmd in play capture; do
    run 0 "$kslab" $cmd --driver "$ac97_so" --seconds 1 --cancel-every 3 -o plugin.wav
    grep -qF "(plugin $ac97_so)" out.txt || fail "$cmd: the summary does not name the plugin"
    run 0 "$kslab" $cmd --driver ac97 --seconds 1 --cancel-every 3 -o builtin.wav
    cmp plugin.wav builtin.wav || fail "$cmd: the plugin's output differs from the built-in driver's"
  done
  # The plugin runs its own code, and resolves kslab's against libkslab.so: the library exports
  # the public API and not the built-in driver, the plugin needs libkslab.so.0 and binds its own
  # symbols to itself, and neither the plugin nor the executable carries a copy of kslab.
  # (Files rather than pipes: under pipefail, grep -q closing a pipe early fails the pipeline.)
  lib="$build/libkslab.so.0"
  [ -e "$lib" ] || fail "no $lib"
  nm -D --defined-only "$lib" >lib.syms || fail "nm $lib"
  nm --defined-only "$ac97_so" >so.syms || fail "nm $ac97_so"
  nm --defined-only "$kslab" >exe.syms || fail "nm $kslab"
  readelf -d "$ac97_so" >so.dyn || fail "readelf $ac97_so"
  readelf -d "$kslab" >exe.dyn || fail "readelf $kslab"
  readelf -d "$lib" >lib.dyn || fail "readelf $lib"
  grep -q 'SONAME.*libkslab.so.0' lib.dyn || fail "libkslab has no soname libkslab.so.0"
  grep -q 'NEEDED.*libkslab.so.0' exe.dyn || fail "kslab does not link libkslab.so.0"
  grep -q 'NEEDED.*libkslab.so.0' so.dyn || fail "ac97.so does not link libkslab.so.0"
  grep -q SYMBOLIC so.dyn || fail "ac97.so is not linked -Bsymbolic"
  ! grep -qw ksl_ac97_driver lib.syms || fail "libkslab exports the built-in ksl_ac97_driver"
  ! grep -q ' ksl__' lib.syms || fail "libkslab exports internal ksl__ symbols"
  for s in ksl_spin_acquire PcNewServiceGroup IoConnectInterrupt ksl_mutex_try_acquire ksl_stress ksl_result_free; do
    grep -qw "$s" lib.syms || fail "libkslab does not export $s"
  done
  ! grep -qw ksl_spin_acquire so.syms || fail "ac97.so carries its own kslab"
  ! grep -qw ksl_spin_acquire exe.syms || fail "the kslab executable carries its own kslab"
  run 0 "$kslab" list
  grep -q '^  ac97  *WavePci ' out.txt || fail "kslab list does not list the ac97 driver"
  ;;
out_of_tree)
  # Install, then build the AC'97 miniport against the installed headers only, exactly as the
  # documentation says, and run it with the installed kslab.
  "$cmake" --install "$build" --prefix "$tmp/p" >install.log 2>&1 || { cat install.log; fail "cmake --install failed"; }
  pc=$(find "$tmp/p" -name kslab.pc -path '*/pkgconfig/*' -print -quit)
  [ -n "$pc" ] || fail "no kslab.pc installed"
  export PKG_CONFIG_PATH
  PKG_CONFIG_PATH=$(dirname "$pc")
  flags=$(pkg-config --cflags --libs kslab) || fail "pkg-config kslab failed"
  case "$flags" in *kslab.a*|*kslab_static*) fail "pkg-config links a static copy of kslab: $flags";; esac
  case "$flags" in *-lkslab*) ;; *) fail "pkg-config does not link libkslab: $flags";; esac
  mkdir drv && cp "$src"/miniports/ac97/*.c "$src"/miniports/ac97/*.h drv/ || fail "copy"
  (cd drv && cc -shared -o ../mydrv.so format.c miniport.c stream.c plugin.c $(pkg-config --cflags --libs kslab)) \
    || fail "building the driver against the installed headers failed"
  # The installed headers are also clean under the project's own warnings.
  (cd drv && cc -shared -std=c11 -Wall -Wextra -Wpedantic -Werror -o ../strict.so format.c miniport.c stream.c plugin.c \
      $(pkg-config --cflags --libs kslab)) || fail "the installed headers warn under -Wall -Wextra -Wpedantic"
  # A bare file name ending in .so is a path in the current directory, not a library search.
  run 0 "$tmp/p/bin/kslab" play --driver mydrv.so --seconds 1 --cancel-every 3
  grep -q "verifier clean" out.txt || fail "mydrv.so: no clean run"
  run 0 "$tmp/p/bin/kslab" play --driver "$tmp/mydrv.so" --seconds 1 -o out.wav
  # The installed reference plugin.
  drivers=$(pkg-config --variable=driversdir kslab)
  [ -f "$drivers/ac97.so" ] || fail "ac97.so not installed in $drivers"
  run 0 "$tmp/p/bin/kslab" play --driver "$drivers/ac97.so" --seconds 1 -o installed.wav
  cmp out.wav installed.wav || fail "the out-of-tree build and the installed ac97.so differ"
  ;;
abi_mismatch)
  hand_plugin abi "KSL_PLUGIN_ABI_VERSION + 1u" KSL_PLUGIN_WAVEPCI "&drv"
  run 2 "$kslab" play --driver ./abi.so --seconds 1 -o never.wav
  expect_err "plugin './abi.so' was built for kslab plugin ABI $((abi + 1)); this kslab has ABI $abi"
  expect_err "rebuild it against this kslab's headers"
  [ ! -e never.wav ] || fail "an output file was written"
  ;;
no_entry)
  printf 'int not_a_driver(void);\nint not_a_driver(void) { return 42; }\n' >noentry.c
  cc -shared -fPIC -o noentry.so noentry.c || fail "cannot build noentry.so"
  run 2 "$kslab" play --driver noentry.so --seconds 1
  expect_err "'noentry.so' is not a kslab driver plugin: it exports no kslab_plugin()"
  ;;
not_elf)
  echo "this is not a shared object" >bad.so
  run 2 "$kslab" play --driver bad.so --seconds 1 -o never.wav
  expect_err "cannot load driver plugin 'bad.so'"
  [ ! -e never.wav ] || fail "an output file was written"
  run 2 "$kslab" capture --driver "$tmp/bad.so" --seconds 1
  expect_err "cannot load driver plugin '$tmp/bad.so'"
  ;;
missing)
  run 2 "$kslab" play --driver ./no-such-driver.so --seconds 1
  expect_err "cannot load driver plugin './no-such-driver.so': No such file or directory"
  run 2 "$kslab" play --driver /nonexistent/dir/x --seconds 1
  expect_err "No such file or directory"
  run 2 "$kslab" play --driver no-such-builtin
  expect_err "unknown driver 'no-such-builtin' (built in: ac97"
  ;;
malformed)
  # Loadable plugins that are not usable WavePci drivers.
  hand_plugin kind "KSL_PLUGIN_ABI_VERSION" KSL_PLUGIN_STREAM "&drv"
  run 2 "$kslab" play --driver ./kind.so
  expect_err "not a WavePci driver"
  hand_plugin nodrv "KSL_PLUGIN_ABI_VERSION" KSL_PLUGIN_WAVEPCI "NULL"
  run 2 "$kslab" play --driver ./nodrv.so
  expect_err "gives no driver"
  # A plugin using a symbol kslab does not provide fails to load (RTLD_NOW), with dlerror().
  cat >undef.c <<'C'
#include <kslab/plugin.h>
NTSTATUS no_such_kslab_function(void);
static NTSTATUS new_miniport(PMINIPORTWAVEPCI *Miniport) { (void)Miniport; return no_such_kslab_function(); }
static const ksl_wavepci_driver drv = {KSL_WAVEPCI_DRIVER_VERSION, "undef", "uses a missing symbol", "ac97", new_miniport, NULL};
KSLAB_WAVEPCI_PLUGIN(drv)
C
  cc -shared -fPIC -I"$src/include" -o undef.so undef.c || fail "cannot build undef.so"
  run 2 "$kslab" play --driver ./undef.so
  expect_err "undefined symbol: no_such_kslab_function"
  # A well-formed plugin whose miniport fails to start is a driver error, not a load error.
  hand_plugin fails "KSL_PLUGIN_ABI_VERSION" KSL_PLUGIN_WAVEPCI "&drv"
  run 2 "$kslab" play --driver ./fails.so --seconds 1
  expect_err "driver 'hand' failed to start"
  # ... and stress explores nothing with it: exit 2 with the reason, never a "clean" verdict.
  run 2 "$kslab" stress ./fails.so --schedules 20
  expect_err "cannot run: driver 'hand' failed to start"
  ;;
*)
  fail "unknown case"
  ;;
esac
echo "ok: $case_name"
