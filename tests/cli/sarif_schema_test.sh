#!/usr/bin/env bash
# Every SARIF file kslab writes is valid SARIF 2.1.0 (the official schema, tests/schemas/) and
# carries no absolute path of the build machine when --srcroot names the checkout:
#
#   sarif_schema_test.sh KSLAB SOURCE_DIR BUILD_DIR
#
# Cases: a clean stress run, a WavePci violation (W2, with its code flow), a stream class
# violation (S8), a play job, and a violation written with --docs-url.  Each is validated with
# python3-jsonschema (Draft 4, the schema's own); rule levels are "error" or "warning" (some of
# each) and each result's level is its rule's.  With --docs-url (only then) every rule has a
# helpUri that is the URL with an anchor of a heading of docs/CHECKS.md, and docs/CHECKS.md is
# what `kslab rules --markdown` prints; a --docs-url that is not an absolute URL is exit 2.
set -uo pipefail
kslab=$1 src=$2 build=$3
tmp=$(mktemp -d "${TMPDIR:-/tmp}/kslab-sarif.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL (sarif): $*" >&2; exit 1; }

. "$(dirname "$0")/jsonschema_python.sh"

run() { # expected-exit name args...
  local want=$1 name=$2; shift 2
  "$kslab" "$@" --sarif "$tmp/$name.sarif" --srcroot "$src" >"$tmp/$name.out" 2>&1
  local got=$?
  [ "$got" -eq "$want" ] || { cat "$tmp/$name.out" >&2; fail "$name: kslab exited $got, expected $want"; }
}

run 0 clean stress ac97 --scenario steady --schedules 5
isr=$build/drivers/buggy-isr-touches-ring.so
run 1 wavepci stress "$isr" --scenario steady --schedules 20
run 1 stream stress "$build/drivers/buggy-stream-filter-drain-unlocked.so" --scenario long-run --schedules 20
run 0 play play --seconds 1 --cancel-every 3
docs=https://docs.example.com/kslab/CHECKS.md
run 1 linked stress "$isr" --scenario steady --schedules 20 --docs-url "$docs"

# docs/CHECKS.md is `kslab rules --markdown`, the page helpUri points into.
"$kslab" rules --markdown >"$tmp/checks.md" || fail "kslab rules --markdown"
cmp -s "$tmp/checks.md" "$src/docs/CHECKS.md" ||
  fail "docs/CHECKS.md is not the output of 'kslab rules --markdown' (regenerate it)"
"$kslab" stress ac97 --schedules 1 --sarif "$tmp/x.sarif" --docs-url not-a-url >/dev/null 2>"$tmp/e.txt"
[ $? -eq 2 ] && grep -q "not an absolute URL" "$tmp/e.txt" || fail "--docs-url without a scheme is not refused"

"$py" - "$src/tests/schemas/sarif-2.1.0-rtm.5.json" "$src" "$docs" "$tmp/checks.md" "$tmp"/*.sarif <<'PY' || fail "a SARIF file is not what it should be"
import json, os, re, sys
import jsonschema
schema = json.load(open(sys.argv[1]))
src, docs, checks = sys.argv[2:5]
# The anchors a Markdown renderer gives the page's headings (GitHub's rule).
slug = lambda h: re.sub(r"[^a-z0-9 _-]", "", h.strip().lower()).replace(" ", "-")
anchors = {slug(l[4:]) for l in open(checks) if l.startswith("### ")}
roots = {src.rstrip('/'), os.path.realpath(src).rstrip('/')}
validator = jsonschema.Draft4Validator(schema)
ok = True
for path in sys.argv[5:]:
    name = os.path.basename(path)
    text = open(path).read()
    doc = json.loads(text)
    for e in validator.iter_errors(doc):
        print(f"{name}: schema: {e.message[:200]} at {list(e.absolute_path)}")
        ok = False
    for r in roots:
        if r and r != '/' and r in text:
            print(f"{name}: holds the build machine's path {r}")
            ok = False
    run = doc["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    levels = {r["id"]: r["defaultConfiguration"]["level"] for r in rules}
    for r in rules:
        uri = r.get("helpUri")
        if (name == "linked.sarif") != (uri is not None):
            print(f"{name}: rule {r['id']} helpUri {uri}: expected one only with --docs-url")
            ok = False
        if uri and (not uri.startswith(docs + "#") or uri[len(docs) + 1:] not in anchors):
            print(f"{name}: rule {r['id']} helpUri {uri} is not an anchor of docs/CHECKS.md")
            ok = False
        h = r.get("help", {})
        if "How to fix: " not in h.get("text", "") or "**How to fix:**" not in h.get("markdown", ""):
            print(f"{name}: rule {r['id']} has no help text and markdown with how to fix it")
            ok = False
    if set(levels.values()) != {"error", "warning"}:
        print(f"{name}: rule levels {sorted(set(levels.values()))}, expected error and warning")
        ok = False
    for res in run["results"]:
        if res["level"] != levels.get(res["ruleId"]):
            print(f"{name}: result {res['ruleId']} at level {res['level']}, its rule's is {levels.get(res['ruleId'])}")
            ok = False
    want = {"clean.sarif": 0, "play.sarif": 0}.get(name)
    if want is not None and len(run["results"]) != want:
        print(f"{name}: {len(run['results'])} results, expected none")
        ok = False
    for res in run["results"]:
        if res["ruleId"].startswith(("W2.", "S8.")):
            rel = res.get("relatedLocations", [])
            if len(rel) != 1 or rel[0].get("id") != 1 or "(1)" not in res["message"]["text"] or \
               rel[0]["physicalLocation"]["region"]["startLine"] <= 0:
                print(f"{name}: {res['ruleId']} does not link the race's other side: {rel}")
                ok = False
    if name == "wavepci.sarif" and not any(r["ruleId"] == "W2.hw-queue-unlocked" and "codeFlows" in r for r in run["results"]):
        print(f"{name}: no W2 result with its code flow")
        ok = False
    if name == "stream.sarif" and not any(r["ruleId"] == "S8.unsynchronized-shared-state" for r in run["results"]):
        print(f"{name}: no S8 result")
        ok = False
    for res in run["results"]:
        fp = res.get("partialFingerprints", {})
        if "primaryLocationLineHash" in fp or len(fp.get("kslab/v1", "")) != 16:
            print(f"{name}: {res['ruleId']} fingerprints {fp}: want kslab/v1 only (GitHub adds its line hash)")
            ok = False
        for loc in res.get("locations", []):
            art = loc["physicalLocation"]["artifactLocation"]
            if art.get("uriBaseId") != "%SRCROOT%" or art["uri"].startswith("file:"):
                print(f"{name}: {res['ruleId']} located at {art} (not under %SRCROOT%)")
                ok = False
sys.exit(0 if ok else 1)
PY
echo "ok: 5 SARIF files valid against the official schema, no build-machine path, levels per rule"
