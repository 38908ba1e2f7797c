#!/usr/bin/env bash
# The C++ test miniport (tests/cxx/cxx_ac97.cpp, label "cxx"): one case per invocation.
#   cxx_test.sh CASE KSLAB BUILD_DIR CXX_SOURCE
#   bitexact  the g++ build (the project's) and a clang++ build made here play and capture what
#             the C reference miniport does, byte for byte, with cancellations
#   w3_site   the broken variant (MapLock held across GetMapping) is reported as W3, at the C++
#             line of its GetMapping call (the marker comment CXX_GETMAPPING)
#   stereo_only  a driver that refuses mono runs the formats scenario to a clean verdict
#   globals   a driver global changed by one execution is back as loaded for the next
#   pure_virtual  a pure virtual call in the driver is the finding K.pure-virtual-call
#   teardown  a destructor that stops the engine with no lock after the pin closed is clean
#   adapter   the miniport brought up by a C++ adapter driver (cxx_adapter.cpp) through
#             DriverEntry / AddDevice / StartDevice plays bit-exact and is clean; an adapter that
#             installs only a WaveCyclic port is refused with a message naming the port kind
set -uo pipefail
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/../lib/testlib.sh"

case_name=$1 kslab=$2 build=$3 cxx_src=$4
src=$(cd "$(dirname "$cxx_src")/../.." && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/kslab-cxx.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1

# assert_at PLUGIN SCENARIO MARKER: stress stops at K.driver-assert on the cxx_adapter.cpp line
# that carries MARKER.
assert_at() {
  local line
  line=$(grep -n "$3" "$(dirname "$cxx_src")/cxx_adapter.cpp" | head -1 | cut -d: -f1)
  run 1 "$kslab" stress "$build/drivers/$1.so" --scenario "$2" --schedules 5 --json
  python3 - out.txt "$line" <<'PY' || fail "$1: no K.driver-assert at the $3 line in $2"
import json, sys
r = json.load(open(sys.argv[1]))
f = r["findings"][0]
assert f["rule"] == "K.driver-assert", f["rule"]
assert f["file"].endswith("cxx_adapter.cpp") and f["line"] == int(sys.argv[2]), (f["file"], f["line"])
PY
}

case "$case_name" in
bitexact)
  # The same source, and the C++ runtime's, with clang++ and the flags the build helper gives
  # (the runtime from source: the build's own copy may carry a sanitizer's instrumentation).
  clang++ -std=c++17 -shared -fPIC -fno-exceptions -fno-rtti -fcheck-new -fshort-wchar -g -Wall -Wextra -Werror \
    -I"$src/include" -I"$src/include/kslab/wdk" -o clang.so "$cxx_src" "$src/src/cxxrt/cxxrt.cpp" \
    -L"$build" -lkslab -Wl,-Bsymbolic -Wl,-z,defs || fail "clang++ cannot build $cxx_src"
  for so in "$build/drivers/cxx-ac97.so" "$tmp/clang.so"; do
    for cmd in play capture; do
      run 0 "$kslab" $cmd --driver "$so" --seconds 1 --cancel-every 3 -o cxx.wav
      grep -q "verifier clean" out.txt || fail "$cmd $so: not clean"
      grep -q "bit-exact" out.txt || fail "$cmd $so: the data check did not say bit-exact"
      run 0 "$kslab" $cmd --driver ac97 --seconds 1 --cancel-every 3 -o ref.wav
      cmp cxx.wav ref.wav || fail "$cmd $so: output differs from the C reference miniport's"
    done
  done
  # A 44.1 kHz mono stream too (a format the C++ driver programs itself).
  run 0 "$kslab" play --driver "$build/drivers/cxx-ac97.so" --seconds 1 --rate 44100 --channels 1 -o mono.wav
  grep -q "bit-exact" out.txt || fail "44.1 kHz mono: not bit-exact"
  ;;
w3_site)
  line=$(grep -n 'CXX_GETMAPPING' "$cxx_src" | head -1 | cut -d: -f1)
  [ -n "$line" ] || fail "no CXX_GETMAPPING marker in $cxx_src"
  run 1 "$kslab" stress "$build/drivers/cxx-ac97-lock-across-getmapping.so" --scenario steady --schedules 50 --json
  mv out.txt result.json
  python3 - "$line" <<'PY' || fail "the finding does not name the C++ call site"
import json, sys
r = json.load(open("result.json"))
f = r["findings"][0]
assert f["rule"] == "W3.lock-held-across-port-call", f["rule"]
assert f["file"].endswith("cxx_ac97.cpp"), f["file"]
assert f["line"] == int(sys.argv[1]), (f["line"], sys.argv[1])
assert "m_MapLock" in f["message"], f["message"]
PY
  # The clean build is clean in the same scenario.
  run 0 "$kslab" stress "$build/drivers/cxx-ac97.so" --scenario steady --schedules 50
  ;;
adapter)
  # An adapter driver (DriverEntry, no kslab_plugin()): its StartDevice probes WaveCyclic, installs
  # a topology subdevice, tries WaveRT and falls back to WavePci.  The run plays what the C
  # reference plays, and every scenario is clean (the teardown releases every object: leaks would
  # be findings).
  run 0 "$kslab" play --driver "$build/drivers/cxx-adapter.so" --seconds 1 --cancel-every 3 -o ad.wav
  grep -q "driver 'cxx-adapter'" out.txt || fail "the adapter is not named after its file"
  run 0 "$kslab" play --driver ac97 --seconds 1 --cancel-every 3 -o ref.wav
  cmp ad.wav ref.wav || fail "the adapter's output differs from the C reference miniport's"
  run 0 "$kslab" capture --driver "$build/drivers/cxx-adapter.so" --seconds 1 -o cap.wav
  grep -q "bit-exact" out.txt || fail "capture through the adapter is not bit-exact"
  run 0 "$kslab" stress "$build/drivers/cxx-adapter.so" --schedules 20
  grep -q "result   clean" out.txt || fail "the adapter is not clean in every scenario"
  # The state-walk scenario's mixer requests reach the topology miniport's volume handler
  # through a PCPROPERTY_REQUEST, and power-cycle tells the adapter's IAdapterPowerManagement of
  # D3: in each variant the driver asserts there, and the finding names that line.
  assert_at cxx-adapter-volume-assert state-walk CXX_VOLUME_ASSERT
  assert_at cxx-adapter-power-assert power-cycle CXX_POWER_ASSERT
  # An adapter that installs only a WaveCyclic port: refused, saying which port kind.
  run 2 "$kslab" play --driver "$build/drivers/cxx-adapter-wavecyclic.so" --seconds 1
  grep -q "installed a WaveCyclic port; kslab runs WavePci ports" err.txt \
    || { cat err.txt; fail "the refusal does not say which port kind"; }
  ;;
teardown)
  # The destructor's unlocked CR write after the pin closed is no race (the port's close is a
  # quiescence point): clean in every scenario, where the lockset alone would report W2.
  run 0 "$kslab" stress "$build/drivers/cxx-ac97-unlocked-teardown.so" --schedules 20
  grep -q "result   clean" out.txt || { cat out.txt; fail "the unlocked teardown is reported"; }
  ;;
stereo_only)
  # A driver that refuses mono: the formats scenario runs to a verdict (clean) over seeds that
  # draw mono as well as stereo, instead of stopping with "cannot run" (exit 2) at the first
  # mono one.
  run 0 "$kslab" stress "$build/drivers/cxx-ac97-stereo-only.so" --scenario formats --schedules 40 --json
  python3 - out.txt <<'PY' || fail "formats did not run to a clean verdict"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["result"] == "clean", r["result"]
assert r["executions"] == 40, r["executions"]
PY
  ;;
globals)
  # A driver whose global one execution changes: every execution of a worker starts from the
  # plugin's data as loaded, so all of them run (one worker, many executions), and alike.
  run 0 "$kslab" stress "$build/drivers/cxx-ac97-global-state.so" --scenario steady --schedules 30 --jobs 1
  grep -q "result   clean" out.txt || { cat out.txt; fail "a later execution saw an earlier one's global"; }
  ;;
pure_virtual)
  # A constructor that reaches a pure virtual function: the finding, not a crash of kslab.
  run 1 "$kslab" play --driver "$build/drivers/cxx-ac97-pure-virtual.so" --seconds 1 --json
  python3 -c '
import json, sys
r = json.load(open("out.txt"))
rules = [f["rule"] for f in r["findings"]]
assert rules == ["K.pure-virtual-call"], rules
assert "pure virtual" in r["findings"][0]["message"], r["findings"][0]["message"]
' || fail "no K.pure-virtual-call finding"
  ;;
*) fail "unknown case" ;;
esac
echo "ok ($case_name)"
