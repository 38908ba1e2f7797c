#!/usr/bin/env bash
# The buggy corpus tests (tests/buggy/CMakeLists.txt).  One case per invocation:
#
#   buggy_test.sh variant KSLAB PLUGIN.so PATCH
#       `kslab stress PLUGIN.so --json --schedules 200` (every scenario, in order; default options
#       otherwise, plus the patch header's "# stress-options:" if any) must exit 1 with the rule
#       of the patch header's "# expect:" line, and `kslab replay TOKEN --driver PLUGIN.so --json`
#       must exit 1 with the same rule.
#   buggy_test.sh jobs KSLAB PLUGIN.so PATCH
#       the same stress run with --jobs 1 and --jobs 2 must print the same JSON result (but for
#       the wall time).
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
  replay_extra=()
  [ "$expect" = K.hang ] && replay_extra=(--timeout 2) # a hang is a wall-clock timeout: keep it short
  run 1 "$tmp/replay.json" "$kslab" replay "$token" --driver "$driver" --json "${replay_extra[@]}"
  rule=$(json_field "$tmp/replay.json" rule)
  [ "$rule" = "$expect" ] || fail "the replay found '$rule', expected '$expect'"
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
