#!/usr/bin/env bash
# --junit FILE: JUnit XML that CI servers read (python3's XML parser must take it):
#
#   junit_test.sh KSLAB BUILD_DIR
#
# A clean stress run is one test case per scenario and no failure; a run with a finding has the
# failure under its scenario's test case, typed with the rule id, its message, and a text with the
# call site and the replay command that reproduces it; a play job is one test case; an
# unwritable target is a usage error (exit 2) before the run.
set -uo pipefail
kslab=$1 build=$2
tmp=$(mktemp -d "${TMPDIR:-/tmp}/kslab-junit.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL (junit): $*" >&2; exit 1; }

buggy=$build/drivers/buggy-isr-touches-ring.so
"$kslab" stress ac97 --schedules 2 --jobs 2 --junit "$tmp/clean.xml" >/dev/null 2>&1; [ $? -eq 0 ] || fail "clean stress"
"$kslab" stress "$buggy" --scenario steady --schedules 20 --junit "$tmp/found.xml" >/dev/null 2>&1
[ $? -eq 1 ] || fail "stress of the broken variant did not exit 1"
"$kslab" play --seconds 1 --junit "$tmp/play.xml" >/dev/null 2>&1; [ $? -eq 0 ] || fail "play"
"$kslab" play --seconds 1 --junit "$tmp/nodir/x.xml" >/dev/null 2>&1; [ $? -eq 2 ] || fail "an unwritable --junit is not exit 2"
nscen=$("$kslab" list | sed -n '/^WavePci stress scenarios/,/^$/p' | grep -c '^  [a-z]')

python3 - "$tmp" "$nscen" "$kslab" "$buggy" <<'PY' || fail "the XML is not what it should be"
import subprocess, sys
import xml.etree.ElementTree as ET
tmp, nscen, kslab, buggy = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
ok = True
def suite(name):
    root = ET.parse(f"{tmp}/{name}.xml").getroot()
    assert root.tag == "testsuites"
    return root, root.find("testsuite")
root, s = suite("clean")
cases = s.findall("testcase")
if len(cases) != nscen or root.get("failures") != "0" or any(c.find("failure") is not None for c in cases):
    print(f"clean: {len(cases)} test cases (want {nscen}), failures {root.get('failures')}")
    ok = False
root, s = suite("found")
fails = [(c.get("name"), f) for c in s.findall("testcase") for f in c.findall("failure")]
if len(fails) != 1 or fails[0][0] != "steady" or fails[0][1].get("type") != "W2.hw-queue-unlocked":
    print(f"found: failures {[(n, f.get('type')) for n, f in fails]}")
    ok = False
else:
    f = fails[0][1]
    text = f.text or ""
    if "no lock in common" not in f.get("message", "") or "stream.c:" not in text or "kslab replay " not in text:
        print("found: the failure lacks its message, call site or replay command")
        ok = False
    else: # the replay command in the text reproduces the finding
        cmd = text.split("replay: ", 1)[1].split("\n", 1)[0].split()
        rc = subprocess.run([kslab] + cmd[1:], capture_output=True).returncode
        if rc != 1:
            print(f"found: the replay command exited {rc}")
            ok = False
root, s = suite("play")
if len(s.findall("testcase")) != 1 or root.get("failures") != "0":
    print("play: not one clean test case")
    ok = False
sys.exit(0 if ok else 1)
PY
echo "ok: JUnit XML for clean, found and play runs; the failure's replay command reproduces it"
