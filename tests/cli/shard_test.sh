#!/usr/bin/env bash
# Sharding a campaign across machines and merging the shards (--shard I/N, kslab merge):
#
#   shard_test.sh KSLAB SOURCE_DIR BUILD_DIR [full|quick]
#
# (quick, for sanitizer builds: the random campaign and the refusals only.)
# With --keep-going, shards 1/3, 2/3, 3/3 merged give the unsharded run's JSON result but for the
# wall time (the same findings, seeds, tokens, events, counts and race-window coverage), with the
# random strategy and with PCT, whatever order the parts are given in; without --keep-going the
# merged finding is the unsharded one.  The shards' and the merge's JSON follow
# docs/result.schema.json, the merge's SARIF the SARIF 2.1.0 schema, and its JUnit parses with a
# test case per scenario; each shard's JUnit names its shard.  A clean campaign merges to exit 0.
# A missing, repeated or foreign part, a part that is not JSON, a bad --shard and --shard with
# --time are exit 2.
set -uo pipefail
kslab=$1 src=$2 build=$3 mode=${4:-full}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/kslab-shard.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1
case_name=shard
. "$src/tests/lib/testlib.sh"
. "$src/tests/cli/jsonschema_python.sh"

same() { # WHOLE.json MERGED.json [findings]: equal but for wall_s (or: the same findings and verdict)
  "$py" - "$1" "$2" "${3:-}" <<'PY'
import json, sys
a, m = (json.load(open(p)) for p in sys.argv[1:3])
for d in (a, m):
    d.pop("wall_s")
    if sys.argv[3]:
        for k in list(d):
            if k not in ("result", "findings", "rule", "seed", "replay", "new_findings"):
                d.pop(k)
if a != m:
    for k in sorted(set(a) | set(m)):
        if a.get(k) != m.get(k):
            print("differs:", k, str(a.get(k))[:400], "|", str(m.get(k))[:400])
    sys.exit(1)
PY
}

# campaign NAME EXPECTED_RC ARGS...: the whole run and its 3 shards, merged (parts given 3, 1, 2).
# $compare: "findings" to compare only the findings and the verdict.
compare=
campaign() {
  local name=$1 want=$2
  shift 2
  run "$want" "$kslab" stress "$@" --json
  mv out.txt "$name.json"
  for i in 1 2 3; do
    "$kslab" stress "$@" --shard "$i/3" --json --junit "$name-$i.xml" >"$name-$i.json" 2>err.txt
    [ $? -le 1 ] || { cat err.txt; fail "$name: shard $i/3 failed"; }
  done
  run "$want" "$kslab" merge "$name-3.json" "$name-1.json" "$name-2.json" --json --sarif "$name.sarif" \
    --junit "$name.xml" --srcroot "$src"
  mv out.txt "$name-merged.json"
  same "$name.json" "$name-merged.json" $compare || fail "$name: the merged shards differ from the whole campaign"
}

stale=$build/drivers/buggy-stale-tail.so
isr=$build/drivers/buggy-isr-touches-ring.so
campaign random 1 "$stale" --keep-going --schedules 60 --jobs 2
"$py" -c 'import json,sys; d=json.load(open(sys.argv[1])); assert len(d["findings"]) >= 3, d["findings"]' random.json ||
  fail "the keep-going campaign found fewer than 3 findings: the equality shows little"
if [ "$mode" = full ]; then
  campaign pct 1 "$isr" --keep-going --schedules 40 --strategy pct:3 --cpus 3 --jobs 2
  compare=findings # without --keep-going a shard runs past the seed of another's finding: counts differ
  campaign first 1 "$stale" --schedules 120 --scenario cancel-race
  compare=
  campaign clean 0 ac97 --scenario steady --schedules 20 --keep-going
fi

# The merge's human report exits as the campaign does and lists the findings.
run 1 "$kslab" merge random-1.json random-2.json random-3.json
grep -q "^kslab merge: 3 shards" out.txt || fail "no merge header"
grep -q "W1.revoke-count-wrong" out.txt || fail "the merged report lacks a finding"

# Schemas: every shard and merge result; the merge's SARIF; the JUnit files.
"$py" - "$src/docs/result.schema.json" "$src/tests/schemas/sarif-2.1.0-rtm.5.json" <<'PY' || fail "schema or JUnit check"
import glob, json, sys
import xml.etree.ElementTree as ET
import jsonschema
res, sarif = (json.load(open(p)) for p in sys.argv[1:3])
for p in sorted(glob.glob("*.json")):
    d = json.load(open(p))
    jsonschema.validate(d, res)
    shard = d["campaign"]["shard"]
    if "-" in p and not p.endswith("-merged.json"):
        assert shard and shard["count"] == 3 and p.startswith(tuple(["random", "pct", "first", "clean"])), (p, shard)
    else:
        assert shard is None, (p, shard)
for p in sorted(glob.glob("*.sarif")):
    jsonschema.Draft4Validator(sarif).validate(json.load(open(p)))
whole = json.load(open("random.json"))
cases = ET.parse("random.xml").getroot().findall(".//testcase")
assert [c.get("name") for c in cases] == [s["name"] for s in whole["scenarios"]], [c.get("name") for c in cases]
assert sum(len(c.findall("failure")) for c in cases) == len(whole["findings"])
two = ET.parse("random-2.xml").getroot()
assert "shard 2/3" in two.find("testsuite").get("name")
assert all(c.get("name").endswith(" [shard 2/3]") for c in two.findall(".//testcase"))
PY

# Refusals: exit 2 with a message naming the problem.
refuse() { # WHAT GREP ARGS...
  local what=$1 pat=$2
  shift 2
  run 2 "$kslab" "$@"
  grep -q -- "$pat" err.txt || { cat err.txt; fail "$what: the message does not say '$pat'"; }
}
refuse "a missing shard" "give all 3 shards" merge random-1.json random-2.json
refuse "a repeated shard" "given twice" merge random-1.json random-1.json random-3.json
[ "$mode" = full ] && refuse "another campaign" "other settings" merge random-1.json random-2.json first-3.json
refuse "a whole run" "not a shard" merge random.json
# A shard of another selection of scenarios, rules or budget is another campaign, whatever its file.
"$kslab" stress "$stale" --keep-going --schedules 60 --jobs 2 --shard 2/3 --scenario steady --json >only.json
refuse "a shard of one scenario" "other settings" merge random-1.json only.json random-3.json
"$kslab" stress "$stale" --keep-going --schedules 60 --jobs 2 --shard 2/3 --rules '-W5.*' --json >rules.json
refuse "a shard with other rules" "other settings" merge random-1.json rules.json random-3.json
# Shard numbers padded with zeros, as CI matrices write them, are decimal.
run 0 "$kslab" stress ac97 --scenario steady --schedules 20 --shard 08/09 --json
python3 -c 'import json,sys; s = json.load(open(sys.argv[1]))["campaign"]["shard"]; assert s == {"index": 8, "count": 9}, s' out.txt ||
  fail "--shard 08/09 is not shard 8 of 9"
echo '{"kslab": "0.2.0",' >broken.json
refuse "not JSON" "broken.json" merge broken.json random-2.json random-3.json
refuse "no part" "give the JSON results" merge
refuse "shard 0" "bad --shard" stress ac97 --shard 0/3
refuse "shard 4 of 3" "bad --shard" stress ac97 --shard 4/3
refuse "shard with time" "not with --time" stress ac97 --shard 1/2 --time 1
echo "ok: 3 shards merged equal the whole campaign (random, PCT, first finding, clean); refusals exit 2"
