#!/usr/bin/env bash
# The buggy corpus tests (tests/buggy/CMakeLists.txt).  One case per invocation:
#
#   buggy_test.sh variant KSLAB PLUGIN.so PATCH
#       `kslab stress PLUGIN.so --json --schedules 200` (every scenario, in order; default options
#       otherwise, plus the patch header's "# stress-options:" if any) must exit 1 with the rule
#       of the patch header's "# expect:" line, and `kslab replay TOKEN --driver PLUGIN.so --json`
#       must exit 1 with the same rule.  Each "# also: RULE" line of the header names a rule the
#       same execution breaks too: both results must list it among their findings, with the same
#       token as the first.
#       Every finding is placed at a line of the variant's source (check_driver_lines).
#   buggy_test.sh jobs KSLAB PLUGIN.so PATCH
#       the same stress run with --jobs 1 and --jobs 2 must print the same JSON result (but for
#       the wall time).
#   buggy_test.sh step-cpu KSLAB SPIN-PLUGIN.so
#       the spin-forever variant (a loop without scheduling points) with its scenario and seed:
#       under the default CPU-time budget K.hang names the spinning context and its last call
#       site (stream.c) long before the wall-clock --timeout; with --step-cpu above --timeout the
#       wall-clock limit is what stops it; a bad --step-cpu is a usage error (exit 2).
#   buggy_test.sh clean KSLAB DRIVER STRESS-OPTIONS...
#       `kslab stress DRIVER --json STRESS-OPTIONS...` must exit 0, clean, with --schedules
#       executions in every scenario.
set -uo pipefail

BUDGET=(--schedules 200)

mode=$1 kslab=$2 driver=$3
shift 3
tmp=$(mktemp -d "${TMPDIR:-/tmp}/kslab-buggy.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

fail() { echo "FAIL ($mode $(basename "$driver")): $*" >&2; exit 1; }

# json_field FILE NAME: a top-level string or number field of the JSON result in FILE.
json_field() {
  python3 -c 'import json,sys; v=json.load(open(sys.argv[1])).get(sys.argv[2], ""); print(v)' "$1" "$2"
}
# same_result A B: the two JSON results are the same but for the wall time.
same_result() {
  python3 -c '
import json,sys
a,b=(json.load(open(p)) for p in sys.argv[1:3])
for d in (a,b): d.pop("wall_s",None)
sys.exit(0 if a==b else 1)' "$1" "$2"
}

# rules_with_token FILE TOKEN: the rules of the findings in JSON result FILE whose token is TOKEN
# ("" matches any), one per line.
rules_with_token() {
  python3 -c '
import json,sys
d=json.load(open(sys.argv[1]))
for f in d.get("findings",[]):
    if not sys.argv[2] or f.get("replay")==sys.argv[2]: print(f["rule"])' "$1" "$2"
}
# check_crash FILE WHAT: the first finding of JSON result FILE, a crash, is located at a line of the
# driver's source (a .c file the variant patched) and carries its symbolized backtrace, frames
# named module+offset (no raw addresses).
check_crash() {
  python3 - "$1" <<'PY' || fail "$2: the crash is not located in the driver with a backtrace"
import json, re, sys
f = json.load(open(sys.argv[1]))["findings"][0]
assert f["file"] and "/tests/buggy/" in f["file"] and f["file"].endswith(".c") and f["line"] > 0, f
d = f["detail"]
assert "backtrace, innermost first:" in d, d
frames = [l for l in d.splitlines() if re.match(r"\s+#\d+ ", l)]
assert frames and all(re.match(r"\s+#\d+ (\S+\+0x[0-9a-f]+|an address in no loaded module)", l) for l in frames), d
assert any("%s:%d" % (f["file"].split("/")[-1], f["line"]) in l for l in frames), d
PY
}

# check_race_sites FILE: a W2 finding (the first of FILE) is at the driver's write that emptied the
# lockset and names the other side of the race: its context and its line in the driver.
check_race_sites() {
  python3 - "$1" <<'PY' || fail "the W2 finding does not name both writes with their driver lines"
import json, re, sys
f = json.load(open(sys.argv[1]))["findings"][0]
assert f["file"] and "/tests/buggy/" in f["file"] and f["line"] > 0, f
m = re.search(r"the latest of them: (.+) at (\S+/tests/buggy/\S+\.c):(\d+) holding", f["message"])
assert m and int(m.group(3)) > 0, f["message"]
assert m.group(1) != f["context"] or m.group(3) != str(f["line"]), f["message"]
PY
}

# check_driver_lines FILE PATCH: every finding of JSON result FILE is placed at a line of the
# variant's own source (tests/buggy/...), also those kslab detects in its port, its stream class
# or a device model, and a race's other side too.  Exempt: S1.data-mismatch (the output check
# after the run has no line), and the rules the patch header lists on a "# no-driver-line:" line
# (a driver that breaks the rule by never calling the kernel at all).
check_driver_lines() {
  python3 - "$1" "$(header_value "$2" no-driver-line)" <<'PY' || fail "a finding is not placed at the driver's line"
import json, sys
exempt = {"S1.data-mismatch"} | set(sys.argv[2].split())
for f in json.load(open(sys.argv[1]))["findings"]:
    if f["rule"] in exempt:
        continue
    assert f["file"] and "/tests/buggy/" in f["file"] and f["line"] > 0, (f["rule"], f["file"], f["line"])
    r = f.get("racing")
    assert not r or ("/tests/buggy/" in r["file"] and r["line"] > 0), (f["rule"], r)
PY
}

# check_race_window FILE: a W6 finding (the first of FILE) names both contexts -- the releaser at
# its ReleaseMapping, the revoker at its line in the miniport's RevokeMappings -- and the window:
# the line where the releaser dropped its lock before the call, and the events of both contexts.
check_race_window() {
  python3 - "$1" <<'PY' || fail "the W6 finding does not name both contexts and the window"
import json, re, sys
f = json.load(open(sys.argv[1]))["findings"][0]
r = f["racing"]
assert r and r["context"] != f["context"] and "/tests/buggy/" in r["file"] and r["line"] > 0, f
assert r["function"] == "st_revoke_mappings", r
m = re.search(r"window: (.+?) released a lock at (\S+/stream\.c):(\d+) \(step (\d+)\)", f["detail"])
assert m and m.group(1) == f["context"] and 0 < int(m.group(3)) < f["line"], f["detail"]
assert "events of %s and %s" % (f["context"], r["context"]) in f["detail"], f["detail"]
PY
}

# check_shrunk FILE: every finding of JSON result FILE was shrunk to no more steps and no more
# preemptions than it was found with, within the replay budget (400, counted, not timed).
check_shrunk() {
  python3 - "$1" <<'PY' || fail "shrinking made a schedule longer, or went past its replay budget"
import json, sys
for f in json.load(open(sys.argv[1]))["findings"]:
    s = f.get("shrunk")
    if not s:
        continue
    (s0, s1), (p0, p1) = s["steps"], s["preemptions"]
    assert s1 <= s0 and p1 <= p0 and s["replays"] <= 400, (f["rule"], s)
    assert f["steps"] == s1, (f["rule"], f["steps"], s)
PY
}

# check_also PATCH FILE TOKEN WHAT: every "# also:" rule of PATCH is among FILE's findings.
check_also() {
  local r
  while read -r r; do
    [ -z "$r" ] && continue
    rules_with_token "$2" "$3" | grep -qxF "$r" || fail "$4 did not also report '$r' (with the first finding's token)"
  done < <(sed -n '/^---/q; s/^# also: *//p' "$1")
}

# header_value PATCH KEY: the value of "# KEY: value" in the patch header (before the first ---).
header_value() {
  sed -n '/^---/q; s/^# '"$2"': *//p' "$1" | head -n 1
}

# run WANT_RC OUT CMD...: run CMD with stdout to OUT (stderr to OUT.err), check its exit status.
run() {
  local want=$1 out=$2
  shift 2
  local t0=$SECONDS
  "$@" >"$out" 2>"$out.err"
  local rc=$?
  echo "\$ $* -> exit $rc, $((SECONDS - t0)) s"
  cat "$out"
  if [ "$rc" -ne "$want" ]; then
    echo "--- stderr"
    cat "$out.err"
    fail "exited $rc, expected $want"
  fi
}

variant_opts() {
  local patch=$1
  expect=$(header_value "$patch" expect)
  [ -n "$expect" ] || fail "$patch has no '# expect: RULE' line in its header"
  # shellcheck disable=SC2206 # word splitting wanted: a list of options
  extra=($(header_value "$patch" stress-options))
}

case "$mode" in
variant)
  patch=$1
  variant_opts "$patch"
  run 1 "$tmp/stress.json" "$kslab" stress "$driver" --json "${BUDGET[@]}" "${extra[@]}"
  rule=$(json_field "$tmp/stress.json" rule)
  token=$(json_field "$tmp/stress.json" replay)
  [ "$rule" = "$expect" ] || fail "stress found '$rule', expected '$expect'"
  [ -n "$token" ] || fail "no replay token"
  check_also "$patch" "$tmp/stress.json" "$token" stress
  check_shrunk "$tmp/stress.json"
  check_driver_lines "$tmp/stress.json" "$patch"
  [ "$expect" = K.driver-crash ] && check_crash "$tmp/stress.json" stress
  [ "$expect" = W2.hw-queue-unlocked ] && check_race_sites "$tmp/stress.json"
  [ "$expect" = W6.removed-twice ] && check_race_window "$tmp/stress.json"
  replay_extra=()
  [ "$expect" = K.hang ] && replay_extra=(--timeout 2) # a backstop: the CPU-time budget finds it first
  run 1 "$tmp/replay.json" "$kslab" replay "$token" --driver "$driver" --json "${replay_extra[@]}"
  rule=$(json_field "$tmp/replay.json" rule)
  [ "$rule" = "$expect" ] || fail "the replay found '$rule', expected '$expect'"
  check_also "$patch" "$tmp/replay.json" "" "the replay"
  [ "$expect" = K.driver-crash ] && check_crash "$tmp/replay.json" "the replay"
  echo "ok: $(basename "$patch" .patch) -> $expect after $(json_field "$tmp/stress.json" executions) executions" \
       "(scenario $(json_field "$tmp/stress.json" scenario), seed $(json_field "$tmp/stress.json" seed))"
  ;;
jobs)
  patch=$1
  variant_opts "$patch"
  run 1 "$tmp/j1.json" "$kslab" stress "$driver" --json "${BUDGET[@]}" "${extra[@]}" --jobs 1
  run 1 "$tmp/j2.json" "$kslab" stress "$driver" --json "${BUDGET[@]}" "${extra[@]}" --jobs 2
  [ "$(json_field "$tmp/j1.json" rule)" = "$expect" ] || fail "--jobs 1 did not find '$expect'"
  same_result "$tmp/j1.json" "$tmp/j2.json" || fail "--jobs 1 and --jobs 2 printed different results"
  echo "ok: --jobs 1 and --jobs 2 print the same JSON"
  ;;
step-cpu)
  one=(--scenario cancel-race --seed 29 --schedules 1 --no-shrink)
  run 1 "$tmp/cpu.json" "$kslab" stress "$driver" --json "${one[@]}" --timeout 60
  [ "$(json_field "$tmp/cpu.json" rule)" = K.hang ] || fail "the CPU-time budget did not report K.hang"
  msg=$(json_field "$tmp/cpu.json" message)
  case "$msg" in
  *"ms of CPU time without a scheduling point after its call at "*stream.c:*) ;;
  *) fail "the CPU-time K.hang does not name the call site: $msg" ;;
  esac
  python3 -c 'import json,sys; f=json.load(open(sys.argv[1]))["findings"][0]
sys.exit(0 if f["file"].endswith("stream.c") and f["line"] > 0 else 1)' "$tmp/cpu.json" ||
    fail "the finding's location is not the driver's line"
  run 1 "$tmp/wall.json" "$kslab" stress "$driver" --json "${one[@]}" --timeout 1 --step-cpu 30
  case "$(json_field "$tmp/wall.json" message)" in
  *"of wall time"*) ;;
  *) fail "with --step-cpu 30 and --timeout 1 the wall-clock limit should stop it: $(json_field "$tmp/wall.json" message)" ;;
  esac
  run 2 "$tmp/bad.json" "$kslab" stress "$driver" "${one[@]}" --step-cpu 0
  grep -q -- "--step-cpu" "$tmp/bad.json.err" || fail "a bad --step-cpu is not named in the error"
  echo "ok: --step-cpu is honoured (CPU-time budget: $msg)"
  ;;
clean)
  schedules=
  for ((i = 1; i <= $#; i++)); do
    [ "${!i}" = "--schedules" ] && { j=$((i + 1)); schedules=${!j}; }
  done
  [ -n "$schedules" ] || fail "give --schedules"
  nscenarios=$("$kslab" list | sed -n '/^WavePci stress scenarios/,/^$/p' | grep -c '^  [a-z]')
  [ "$nscenarios" -gt 0 ] || fail "cannot count the scenarios in \`kslab list\`"
  run 0 "$tmp/stress.json" "$kslab" stress "$driver" --json "$@"
  [ "$(json_field "$tmp/stress.json" result)" = clean ] || fail "not clean"
  executions=$(json_field "$tmp/stress.json" executions)
  [ "$executions" = $((schedules * nscenarios)) ] ||
    fail "$executions executions, expected $schedules in each of $nscenarios scenarios"
  echo "ok: $driver clean over $executions executions ($nscenarios scenarios)"
  ;;
*)
  fail "unknown mode '$mode'"
  ;;
esac
