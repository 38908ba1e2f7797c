#!/usr/bin/env bash
# `kslab stress` / `kslab replay` with stream class minidrivers (label "stream-stress" and, for the
# long clean runs, "stress").  One mode per invocation:
#   stress_test.sh clean  KSLAB DRIVER [stress options...]   the driver is clean over every stream
#                                                            scenario (--schedules N each)
#   stress_test.sh broken KSLAB SOURCE_DIR                   broken isr-dpc-pio variants, built here
#                                                            as plugins with plain `cc`, are caught
#                                                            with the right rule and replayed
set -uo pipefail

mode=$1 kslab=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")
shift 2
tmp=$(mktemp -d "${TMPDIR:-/tmp}/kslab-stream-stress.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

fail() { echo "FAIL ($mode): $*" >&2; exit 1; }
# run EXPECTED_RC OUT CMD...: stdout to OUT, stderr to OUT.err, check the exit status.
run() {
  local want=$1 out=$2; shift 2
  "$@" >"$out" 2>"$out.err"
  local rc=$?
  if [ "$rc" -ne "$want" ]; then
    echo "--- stdout"; cat "$out"; echo "--- stderr"; cat "$out.err"
    fail "'$*' exited $rc, expected $want"
  fi
}
json_field() { # FILE KEY: a top-level string or number field of a one-line JSON object
  python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"
}

case "$mode" in
clean)
  driver=$1; shift
  schedules=
  for ((i = 1; i <= $#; i++)); do
    [ "${!i}" = "--schedules" ] && { j=$((i + 1)); schedules=${!j}; }
  done
  [ -n "$schedules" ] || fail "give --schedules"
  nscenarios=$("$kslab" list | sed -n '/^stream class stress scenarios/,/^$/p' | grep -c '^  [a-z]')
  [ "$nscenarios" -gt 0 ] || fail "cannot count the stream scenarios in \`kslab list\`"
  start=$(date +%s.%N)
  run 0 "$tmp/stress.json" "$kslab" stress "$driver" --json "$@"
  end=$(date +%s.%N)
  [ "$(json_field "$tmp/stress.json" result)" = clean ] || fail "not clean"
  executions=$(json_field "$tmp/stress.json" executions)
  [ "$executions" = $((schedules * nscenarios)) ] ||
    fail "$executions executions, expected $schedules in each of $nscenarios scenarios"
  echo "ok: $driver clean over $executions executions ($nscenarios scenarios) in $(awk "BEGIN { printf \"%.1f\", $end - $start }") s"
  ;;
broken)
  src=$1
  cd "$tmp" || exit 1
  cp "$src"/miniports/stream/{isr_dpc_pio.c,ksr_common.c,ksr_common.h,stream_refs.h,plugin_isr_dpc_pio.c} . ||
    fail "cannot copy the isr-dpc-pio sources"
  # variant NAME PERL-SUBSTITUTION: a copy of isr_dpc_pio.c with one change, as NAME.so
  variant() {
    cp isr_dpc_pio.c "$1.c"
    perl -0pi -e "$2" "$1.c"
    perl -0pi -e 's/KSL_STREAM_DRIVER_VERSION, "isr-dpc-pio",/KSL_STREAM_DRIVER_VERSION, "isr-dpc-pio-'"$1"'",/' "$1.c"
    grep -q BROKEN "$1.c" || fail "the change for $1 no longer applies to isr_dpc_pio.c"
    cc -shared -fPIC -std=c11 -Wall -Wextra -Werror -I"$src/include" -I. -Wl,-Bsymbolic -o "$1.so" \
      "$1.c" ksr_common.c plugin_isr_dpc_pio.c || fail "cannot build $1.so"
  }
  # S4: the Dispatch callback acknowledges the interrupt (INT_ACK, which the ISR writes) itself,
  # without a High callback.
  variant dispatch-acks 's/(out\[i\] = READ_PORT_ULONG\(dx->Port \+ KSL_FIFOCAP_DATA\);\n)/$1    WRITE_PORT_ULONG(dx->Port + KSL_FIFOCAP_INT_ACK, KSL_FIFOCAP_ST_W1C); \/* BROKEN *\/\n/'
  # S1: the 4 KiB PIO copy done at the DIRQL (in the ISR and the entry points) instead of in a
  # Dispatch callback.
  variant copy-at-dirql 's/StreamClassCallAtNewPriority\(NULL, dx, Dispatch, PioCopy, dx\);/PioCopy(dx); \/* BROKEN *\//'
  # K.driver-crash: ReceiveDataPacket dereferences NULL on the third SRB.
  variant crash 's/(    srb->Status = STATUS_PENDING;\n    KsrQueuePush)/    { static int n; if (++n == 3) *(volatile int *)(uintptr_t)srb->Flags = 0; } \/* BROKEN *\/\n$1/'

  for v in dispatch-acks:S4.unsynchronized-isr-shared-access copy-at-dirql:S1.dirql-over-budget \
           crash:K.driver-crash; do
    name=${v%%:*} rule=${v#*:}
    run 1 "$name.json" "$kslab" stress "./$name.so" --json --trace "$name.trace.json" --sarif "$name.sarif"
    [ "$(json_field "$name.json" rule)" = "$rule" ] || fail "$name: rule $(json_field "$name.json" rule), expected $rule"
    token=$(json_field "$name.json" replay)
    case "$token" in ksl1-*) ;; *) fail "$name: no replay token" ;; esac
    python3 - "$name.sarif" "$rule" <<'PY' || fail "$name: the SARIF does not carry the finding"
import json, sys
s = json.load(open(sys.argv[1]))
r = s["runs"][0]["results"]
assert s["version"] == "2.1.0" and len(r) == 1 and r[0]["ruleId"] == sys.argv[2], r
PY
    run 1 "$name.replay.json" "$kslab" replay "$token" --driver "./$name.so" --json
    [ "$(json_field "$name.replay.json" rule)" = "$rule" ] || fail "$name: the replay gave $(json_field "$name.replay.json" rule)"
    [ "$(json_field "$name.replay.json" scenario)" = "$(json_field "$name.json" scenario)" ] ||
      fail "$name: the replay ran another scenario"
    run 1 "$name.jobs2.json" "$kslab" stress "./$name.so" --json --jobs 2
    python3 - "$name.json" "$name.jobs2.json" <<'PY' || fail "$name: --jobs 2 differs"
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
for d in (a, b):  # the first run also wrote a trace (or said why it could not)
    d.pop("wall_s", None)
    d.pop("warning", None)
sys.exit(0 if a == b else 1)
PY
    if [ "$rule" != K.driver-crash ]; then
      # the trace: Chrome Trace Event JSON whose slices balance per track, ending in the finding;
      # the replay writes the same trace
      python3 - "$name.trace.json" <<'PY' || fail "$name: bad trace"
import collections, json, sys
d = collections.Counter()
ev = json.load(open(sys.argv[1]))["traceEvents"]
for e in ev:
    d[e["tid"]] += {"B": 1, "E": -1}.get(e["ph"], 0)
    assert d[e["tid"]] >= 0
assert not any(d.values()) and any(e.get("name") == "finding" or "finding" in str(e.get("cat", "")) for e in ev)
PY
      run 1 "$name.replay2.json" "$kslab" replay "$token" --driver "./$name.so" --json --trace "$name.rtrace.json" --sarif "$name.rsarif"
      cmp -s "$name.trace.json" "$name.rtrace.json" || fail "$name: the replay's trace differs from stress's"
    fi
    echo "ok: $name caught as $rule, replayed, --jobs 1 = --jobs 2"
  done
  # The stream scenarios are listed, and a stream scenario is refused for a WavePci driver.
  run 0 list.txt "$kslab" list
  grep -q '^stream class stress scenarios' list.txt || fail "kslab list shows no stream scenarios"
  run 2 ac97.txt "$kslab" stress ac97 --scenario close-outstanding
  grep -qF "no scenario 'close-outstanding'" ac97.txt.err || fail "a stream scenario was not refused for ac97"
  ;;
*)
  fail "unknown mode '$mode'"
  ;;
esac
