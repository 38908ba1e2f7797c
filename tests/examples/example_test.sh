#!/usr/bin/env bash
# The example device model and driver (examples/ticker), built out of tree against the installed
# kslab as a user builds them (label `examples`):
#   example_test.sh CMAKE BUILD_DIR SOURCE_DIR [CC [SANITIZERS]]
# (CC and SANITIZERS: the kslab build's; a test program linking a sanitized libkslab is built
# with the same sanitizers, whose runtime must come first.)
# The pair streams clean and stresses clean; its buggy build is caught, and its token replays only
# with both plugins named again; a driver without its device plugin, a device plugin given as a
# driver, and a driver with another device's plugin are refused with exit 2.  The example's own
# cmocka test (test_ticker.c), which links libkslab and runs a campaign, passes, and so do its
# kslab_add_stress_test() tests under CTest, writing their JUnit, SARIF and JSON.  Built with
# --coverage (gcc), the driver's line coverage after a stress run is above 0: the workers write
# their counts when they end.
set -uo pipefail

cmake=$1 build=$2 src=$3 cc=${4:-cc} sanitize=${5:-}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/kslab-example.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1

fail() { echo "FAIL (example): $*" >&2; exit 1; }
run() { # EXPECTED_RC OUT CMD...
  local want=$1 out=$2
  shift 2
  "$@" >"$out" 2>"$out.err"
  local rc=$?
  if [ "$rc" -ne "$want" ]; then
    echo "--- stdout"; head -c 3000 "$out"; echo "--- stderr"; head -c 3000 "$out.err"
    fail "'$*' exited $rc, expected $want"
  fi
}
field() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get(sys.argv[2], ""))' "$1" "$2"; }

"$cmake" --install "$build" --prefix "$tmp/prefix" >install.log 2>&1 || { cat install.log; fail "cmake --install"; }
extra=()
if [ -n "$sanitize" ]; then
  extra=(-DCMAKE_C_FLAGS="-fsanitize=$sanitize" -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=$sanitize")
fi
"$cmake" -S "$src/examples/ticker" -B ex -DCMAKE_PREFIX_PATH="$tmp/prefix" -DCMAKE_C_COMPILER="$cc" "${extra[@]}" \
  >configure.log 2>&1 ||
  { cat configure.log; fail "configuring the example against the installed kslab"; }
"$cmake" --build ex >build.log 2>&1 || { cat build.log; fail "building the example"; }
k=$tmp/prefix/bin/kslab
drv=ex/ticker-driver.so dev=ex/ticker-device.so bug=ex/ticker-driver-buggy.so

run 0 stream.txt "$k" stream --driver "$drv" --device "$dev" --frames 60 --cancel-every 5
grep -q "verifier clean" stream.txt || fail "the example is not clean"
grep -q "frames   delivered [1-9]" stream.txt || fail "no frame was delivered"
grep -q "device   frames [1-9][0-9]* .* interrupts [1-9]" stream.txt || fail "the device's counters are missing"
run 0 stress.json "$k" stress "$drv" --device "$dev" --schedules 100 --jobs 2 --json
[ "$(field stress.json result)" = clean ] || fail "stress is not clean"
[ "$(field stress.json executions)" = 900 ] || fail "not 100 executions in each of the 9 stream scenarios"

run 1 bug.json "$k" stress "$bug" --device "$dev" --schedules 50 --json
[ "$(field bug.json rule)" = S1.data-mismatch ] || fail "the buggy driver gave $(field bug.json rule)"
token=$(field bug.json replay)
run 2 r1.txt "$k" replay "$token" --driver "$bug"
grep -q -- "--device PATH" r1.txt.err || fail "a token of a device plugin replayed without it: $(cat r1.txt.err)"
run 1 r2.json "$k" replay "$token" --driver "$bug" --device "$dev" --json
[ "$(field r2.json rule)" = S1.data-mismatch ] || fail "the replay gave $(field r2.json rule)"
# The report's replay command names both plugins again, and runs as printed.
run 1 bug.txt "$k" stress "$bug" --device "$dev" --schedules 50
cmdline=$(sed -n 's/^  replay   //p' bug.txt)
case "$cmdline" in
"kslab replay ksl1-"*" --driver $bug --device $dev") ;;
*) fail "the replay command does not name both plugins: '$cmdline'" ;;
esac
run 1 r3.txt "$tmp/prefix/bin/"$cmdline
grep -q "the finding reproduces" r3.txt || fail "the printed replay command did not reproduce: $(cat r3.txt)"

run 2 e1.txt "$k" stream --driver "$drv"
grep -q "is for device 'ticker'" e1.txt.err || fail "the driver ran without its device: $(cat e1.txt.err)"
run 2 e2.txt "$k" stream --driver "$dev"
grep -q "is a device model, not a driver" e2.txt.err || fail "$(cat e2.txt.err)"
run 2 e3.txt "$k" stream --driver isr-regs --device "$dev"
grep -q "the device plugin '$dev' is a model of 'ticker'" e3.txt.err || fail "$(cat e3.txt.err)"
# Line coverage of the driver: a --coverage build, stressed; the workers' counts reach the .gcda.
if "$cc" --version 2>/dev/null | grep -qi "gcc\|free software foundation"; then
  "$cmake" -S "$src/examples/ticker" -B excov -DCMAKE_PREFIX_PATH="$tmp/prefix" -DCMAKE_C_COMPILER="$cc" \
    -DCMAKE_C_FLAGS="--coverage ${sanitize:+-fsanitize=$sanitize}" -DCMAKE_MODULE_LINKER_FLAGS=--coverage \
    -DCMAKE_EXE_LINKER_FLAGS="${sanitize:+-fsanitize=$sanitize}" >cov-configure.log 2>&1 &&
    "$cmake" --build excov --target ticker-driver >cov-build.log 2>&1 ||
    { cat cov-configure.log cov-build.log; fail "building the example with --coverage"; }
  run 0 cov.json "$k" stress excov/ticker-driver.so --device "$dev" --schedules 20 --jobs 2 --json
  gcda=$(find excov -name 'ticker_driver.c.gcda' | head -n 1)
  [ -n "$gcda" ] || fail "no coverage counts were written for the driver (the workers did not flush them)"
  lines=$(cd "$(dirname "$gcda")" && gcov -n ticker_driver.c.gcda 2>/dev/null |
          sed -n "/ticker_driver.c'/{n;s/^Lines executed:\([0-9.]*\)%.*/\1/p;}" | head -n 1)
  python3 -c 'import sys; sys.exit(0 if float(sys.argv[1] or 0) > 0 else 1)' "${lines:-0}" ||
    fail "the driver's line coverage after a stress run is '${lines:-none}'"
  echo "coverage of ticker_driver.c after 80 executions: $lines % of lines"
fi
# The example's CTest: its kslab_add_stress_test() lines (a clean driver per scenario, the buggy
# one expected to be caught) and the driver's own cmocka test linking libkslab.
"$(dirname "$cmake")/ctest" --test-dir ex --output-on-failure -V >ctest.log 2>&1 || { cat ctest.log; fail "the example's CTest run"; }
grep -q "100% tests passed, 0 tests failed out of 4" ctest.log || { cat ctest.log; fail "the example's 4 tests did not all run"; }
for t in ticker-stress/long-run ticker-stress/cancel-storm ticker-buggy ticker; do
  grep -q "Test *#[0-9]*: $t \.* *Passed" ctest.log || { cat ctest.log; fail "CTest did not pass $t"; }
done
grep -q "kslab: S1.data-mismatch (new)" ctest.log || fail "the buggy stress test's log does not name its finding"
python3 - ex/kslab <<'PY' || fail "the stress tests' JUnit, SARIF or JSON"
import json, sys, xml.etree.ElementTree as ET
d = sys.argv[1]
for name, failures in (("ticker-stress.long-run", 0), ("ticker-stress.cancel-storm", 0), ("ticker-buggy", None)):
    cases = ET.parse(f"{d}/{name}.xml").getroot().findall(".//testcase")
    n = sum(len(c.findall("failure")) for c in cases)
    assert (n == 0) if failures == 0 else n >= 1, (name, n)
    res = json.load(open(f"{d}/{name}.json"))
    sarif = json.load(open(f"{d}/{name}.sarif"))
    assert res["result"] == ("clean" if failures == 0 else "violation"), (name, res["result"])
    assert len(sarif["runs"][0]["results"]) == len(res["findings"]), name
    if failures == 0:
        assert [s["name"] for s in res["scenarios"]] == [name.split(".")[1]] and res["executions"] == 40, res["scenarios"]
PY
echo "ok: the example pair, built out of tree, streams and stresses clean; its bug is caught and replayed"
