#!/usr/bin/env bash
# Scenario files (--scenario-file; docs/SCENARIOS.md):
#
#   scenario_file_test.sh KSLAB SOURCE_DIR BUILD_DIR
#
# - The built-in scenarios are expressible: `kslab scenarios` prints them as a scenario file, and
#   that is the shipped examples/scenarios/builtin.json; a campaign over that file gives the
#   built-in campaign's findings (rule, scenario, seed, steps, message), counts and coverage, for
#   a WavePci and a stream class driver.
# - Round trip: reading a file and writing it back (`kslab scenarios FILE`) is canonical: the
#   written form reads back to the same text and the same scenario-file hash.
# - Both shipped files follow docs/scenarios.schema.json.
# - A custom scenario (examples/scenarios/my-driver.json: its own format, IRP size, cancel aim,
#   budget and events) runs with its own budget and catches a broken driver; its token names the
#   file: replay without it is exit 2, with it reproduces (exit 1), with the scenario's
#   definition changed is exit 2; the printed replay command names the file.
# - Malformed files are exit 2 before anything runs, naming the file, the scenario and the key.
set -uo pipefail
kslab=$1 src=$2 build=$3
tmp=$(mktemp -d "${TMPDIR:-/tmp}/kslab-scenfile.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1
case_name="scenario file"
. "$src/tests/lib/testlib.sh"
. "$src/tests/cli/jsonschema_python.sh"
builtin=$src/examples/scenarios/builtin.json
mine=$src/examples/scenarios/my-driver.json

run 0 "$kslab" scenarios
cmp -s out.txt "$builtin" || fail "examples/scenarios/builtin.json is not what 'kslab scenarios' prints (regenerate it)"

same_run() { # DRIVER ARGS...: the built-in campaign and the same from builtin.json agree
  local d=$1
  shift
  "$kslab" stress "$d" "$@" --json >a.json 2>/dev/null
  "$kslab" stress "$d" "$@" --json --scenario-file "$builtin" >b.json 2>/dev/null
  "$py" - <<'PY' || fail "$d: the campaign over builtin.json differs from the built-in one"
import json
a, b = json.load(open("a.json")), json.load(open("b.json"))
pick = lambda d: ([(f["rule"], f["scenario"], f["seed"], f["steps"], f["message"]) for f in d["findings"]],
                  d["result"], d["executions"], d["steps"], d["scenarios"], d.get("coverage"))
assert a["result"] == "violation", a["result"]
assert pick(a) == pick(b), (pick(a)[0], pick(b)[0])
assert a["campaign"]["scenario_file"] is None and len(b["campaign"]["scenario_file"]) == 16
PY
}
same_run "$build/drivers/buggy-stale-tail.so" --keep-going --schedules 40 --jobs 2
same_run "$build/drivers/buggy-stream-filter-drain-unlocked.so" --keep-going --schedules 20 --jobs 2

# Round trip: canonical text, same hash.
run 0 "$kslab" scenarios "$mine"
cp out.txt canon.json
run 0 "$kslab" scenarios canon.json
cmp -s out.txt canon.json || fail "writing back a canonical file changed it"
run 0 "$kslab" stress ac97 --scenario-file "$mine" --schedules 5 --json
h1=$("$py" -c 'import json; print(json.load(open("out.txt"))["campaign"]["scenario_file"])')
run 0 "$kslab" stress ac97 --scenario-file canon.json --schedules 5 --json
h2=$("$py" -c 'import json; print(json.load(open("out.txt"))["campaign"]["scenario_file"])')
[ "$h1" = "$h2" ] && [ "${#h1}" -eq 16 ] || fail "the canonical form has another hash ($h1, $h2)"
"$py" -c 'import json
d = json.load(open("out.txt"))
n = {s["name"]: s["executions"] for s in d["scenarios"]}
assert n == {"mono-22k-cancel-in-service": 400, "capture-stop-walk": 5, "lost-interrupts": 5}, n' ||
  fail "the file's WavePci scenarios did not run with their budgets"
"$py" - "$src/docs/scenarios.schema.json" "$builtin" "$mine" canon.json <<'PY' || fail "a scenario file does not follow docs/scenarios.schema.json"
import json, sys
import jsonschema
schema = json.load(open(sys.argv[1]))
for p in sys.argv[2:]:
    jsonschema.validate(json.load(open(p)), schema)
PY

# A custom scenario catches a bug; its token needs the file, and the same definition.
bug=$build/drivers/buggy-double-release.so
run 1 "$kslab" stress "$bug" --scenario-file "$mine" --scenario mono-22k-cancel-in-service --json
"$py" -c 'import json; d = json.load(open("out.txt")); assert d["rule"] == "W1.double-release", d["rule"]' ||
  fail "the custom scenario did not catch the double release"
token=$("$py" -c 'import json; print(json.load(open("out.txt"))["replay"])')
run 2 "$kslab" replay "$token" --driver "$bug"
grep -q -- "--scenario-file FILE" err.txt || fail "a file scenario's token replayed without the file: $(cat err.txt)"
run 1 "$kslab" replay "$token" --driver "$bug" --scenario-file "$mine"
grep -q "the finding reproduces" out.txt || fail "the replay with the file did not reproduce"
sed 's/"cancel_aim": "service"/"cancel_aim": "release"/' "$mine" >changed.json
run 2 "$kslab" replay "$token" --driver "$bug" --scenario-file changed.json
grep -q "definition" err.txt || fail "a changed definition was not refused: $(cat err.txt)"
run 1 "$kslab" stress "$bug" --scenario-file "$mine" --scenario mono-22k-cancel-in-service
grep -q "^  replay   kslab replay ksl1-.* --scenario-file $mine\$" out.txt ||
  fail "the printed replay command does not name the scenario file"

# Malformed files: exit 2, naming what is wrong.
bad() { # WHAT GREP JSON
  printf '%s\n' "$3" >bad.json
  run 2 "$kslab" stress ac97 --scenario-file bad.json --schedules 1
  grep -q -- "$2" err.txt || { cat err.txt; fail "$1: the message does not say '$2'"; }
}
one() { printf '{"kslab-scenarios": 1, "scenarios": [%s]}' "$1"; }
bad "a typo" 'unknown key "cancel_evry"' "$(one '{"name": "a", "kind": "wavepci", "job": {"cancel_evry": 2}}')"
bad "a range" '"irp_ms" must be an integer 1..1000' "$(one '{"name": "a", "kind": "wavepci", "job": {"irp_ms": 0}}')"
bad "a WavePci event in a stream scenario" 'unknown key "duplex" in "events" (a stream class scenario)' \
  "$(one '{"name": "a", "kind": "stream", "events": {"duplex": true}}')"
bad "a name twice" "used twice" "$(one '{"name": "a", "kind": "wavepci"}, {"name": "a", "kind": "wavepci"}')"
bad "a bad name" "a name is" "$(one '{"name": "A b", "kind": "wavepci"}')"
bad "an unknown fault" "no fault of the built-in devices" \
  "$(one '{"name": "a", "kind": "wavepci", "events": {"faults": 1, "fault": "gremlins"}}')"
bad "a bad aim" '"cancel_aim" must be one of' "$(one '{"name": "a", "kind": "wavepci", "events": {"cancel_aim": "low"}}')"
bad "not a scenario file" "not a kslab scenario file" '{"scenarios": []}'
bad "not JSON" "not JSON" '{"kslab-scenarios": 1,'
bad "no scenario of the kind" "has no scenario for" "$(one '{"name": "a", "kind": "stream"}')"
run 2 "$kslab" stress ac97 --scenario-file missing.json --schedules 1
grep -q "missing.json" err.txt || fail "a missing file is not named"
echo "ok: built-ins expressible and equal, canonical round trip, custom scenario with its token, malformed files refused"
