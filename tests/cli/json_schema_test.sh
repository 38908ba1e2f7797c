#!/usr/bin/env bash
# Every command's --json result follows docs/result.schema.json (python3-jsonschema, Draft 7), and
# a result with a finding has the same keys as one without, and a race's finding names its other
# side (context, call site, function):
#
#   json_schema_test.sh KSLAB SOURCE_DIR BUILD_DIR
#
# Cases: stress clean and with a finding (WavePci, stream class), on the threaded engine, a
# replay, play, capture, stream, demo clean and broken.
set -uo pipefail
kslab=$1 src=$2 build=$3
tmp=$(mktemp -d "${TMPDIR:-/tmp}/kslab-json.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL (json schema): $*" >&2; exit 1; }

. "$(dirname "$0")/jsonschema_python.sh"

run() { # expected-exit name args...
  local want=$1 name=$2; shift 2
  "$kslab" "$@" --json >"$tmp/$name.json" 2>"$tmp/$name.err"
  local got=$?
  [ "$got" -eq "$want" ] || { cat "$tmp/$name.err" >&2; fail "$name: kslab exited $got, expected $want"; }
}

buggy=$build/drivers/buggy-isr-touches-ring.so
run 0 stress-clean stress ac97 --scenario steady --schedules 5
run 1 stress-found stress "$buggy" --scenario steady --schedules 20
run 1 stream-found stress "$build/drivers/buggy-stream-filter-drain-unlocked.so" --scenario long-run --schedules 20
run 0 threaded stress ac97 --scenario steady --schedules 2 --threaded
token=$("$py" -c 'import json,sys; print(json.load(open(sys.argv[1]))["replay"])' "$tmp/stress-found.json")
run 1 replay replay "$token" --driver "$buggy"
run 0 play play --seconds 1 --cancel-every 3
run 0 capture capture --seconds 1
run 0 stream stream --driver isr-regs --frames 8
run 0 demo-clean demo --scenario counter --runs 5
run 1 demo-found demo --scenario lock-order

"$py" - "$src/docs/result.schema.json" "$tmp"/*.json <<'PY' || fail "a result does not follow the schema"
import json, os, sys
import jsonschema
schema = json.load(open(sys.argv[1]))
jsonschema.Draft7Validator.check_schema(schema)
validator = jsonschema.Draft7Validator(schema)
ok = True
docs = {}
for path in sys.argv[2:]:
    name = os.path.basename(path)[:-5]
    doc = docs[name] = json.load(open(path))
    for e in validator.iter_errors(doc):
        print(f"{name}: {e.message[:200]} at {list(e.absolute_path)}")
        ok = False
clean, found = docs["stress-clean"], docs["stress-found"]
if set(clean) != set(found):
    print(f"stress: keys differ between clean and found: {sorted(set(clean) ^ set(found))}")
    ok = False
if found["result"] != "violation" or not found["findings"] or found["findings"][0]["rule"] != "W2.hw-queue-unlocked":
    print("stress-found: not the W2 finding")
    ok = False
if docs["stream-found"]["findings"][0]["rule"] != "S8.unsynchronized-shared-state":
    print("stream-found: not the S8 finding")
    ok = False
# the function of the call site, from the plugin's DWARF (an inlined helper by its own name)
for name, fn in (("stress-found", "engine_pause"), ("stream-found", "DrainLocked"), ("replay", "engine_pause")):
    f = docs[name]["findings"][0]
    if f["function"] != fn or not f["fingerprint"]:
        print(f"{name}: function {f['function']!r} (want {fn}), fingerprint {f['fingerprint']!r}")
        ok = False
# a race names its other side: context, call site and function (W2 in the AC'97 ISR, S8 in the filter)
for name in ("stress-found", "stream-found", "replay"):
    race = docs[name]["findings"][0]["racing"]
    if not race or not race["file"] or race["line"] <= 0 or not race["function"] or not race["context"]:
        print(f"{name}: the race's other side is {race!r}")
        ok = False
if docs["play"]["findings"] or docs["demo-found"]["findings"][0]["racing"] is not None:
    print("a finding that is not a race has a racing side")
    ok = False
if docs["replay"]["findings"][0]["fingerprint"] != found["findings"][0]["fingerprint"]:
    print("replay: another fingerprint than the stress run's finding")
    ok = False
if clean["seed"] is not None or clean["shrunk"] is not None or clean["findings"]:
    print("stress-clean: a finding's fields are not empty")
    ok = False
if "coverage" not in clean or "coverage" in docs["threaded"]:
    print("coverage: only the deterministic engine's stress has it")
    ok = False
for name in ("play", "capture", "stream"):
    if not docs[name].get("counters") or "data" not in docs[name]:
        print(f"{name}: no counters or data check")
        ok = False
sys.exit(0 if ok else 1)
PY
echo "ok: 10 results follow docs/result.schema.json; clean and found stress results have the same keys"
