#!/usr/bin/env bash
# Drivers with a DriverEntry and no kslab_plugin() record (label `plugin`):
#   bare_test.sh KSLAB BUILD_DIR
# - bare-filter.so (the reference filter minidriver's DriverEntry, exported as it is) is told to
#   be a stream class minidriver by its call to StreamClassRegisterAdapter: `kslab stream` runs it
#   clean and bit-exact as hardware-less, `kslab stress` explores the stream class scenarios, and
#   `kslab play` refuses it (a stream class minidriver, exit 2).
# - bare-neither.so (a DriverEntry that registers nothing) is refused with exit 2, the message
#   naming both registration calls.
set -uo pipefail
kslab=$1 build=$2
tmp=$(mktemp -d "${TMPDIR:-/tmp}/kslab-bare.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1
case_name=bare
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/../lib/testlib.sh"
filter=$build/drivers/bare-filter.so neither=$build/drivers/bare-neither.so

run 0 "$kslab" stream --driver "$filter" --frames 20 --cancel-every 3 --json
python3 - out.txt <<'PY' || fail "the bare stream minidriver did not stream clean"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["result"] == "clean" and d["driver_info"]["kind"] == "stream", (d["result"], d["driver_info"])
assert d["driver_info"]["name"] == "bare-filter" and d["driver_info"]["device"] == "none", d["driver_info"]
assert d["counters"]["srbs.completed"] >= 1, d["counters"]
assert "bit-exact" in d["data"], d["data"]
PY
run 0 "$kslab" stress "$filter" --schedules 5 --json
python3 -c 'import json,sys; d = json.load(open(sys.argv[1])); assert len(d["scenarios"]) == 9, d["scenarios"]' out.txt ||
  fail "stress did not run the stream class scenarios"
run 2 "$kslab" play --driver "$filter" --seconds 1
grep -q "stream class minidriver" err.txt || fail "play did not refuse the stream class minidriver: $(cat err.txt)"
run 2 "$kslab" stream --driver "$neither" --frames 5
grep -q "neither of PcInitializeAdapterDriver" err.txt || fail "a DriverEntry that registers nothing: $(cat err.txt)"
echo "ok: a bare DriverEntry is told by what it registers"
