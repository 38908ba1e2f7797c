#!/usr/bin/env bash
# The ReactOS AC'97 driver under kslab (label "real"): one case per invocation.
#   reactos_test.sh CASE KSLAB PLUGIN_SO DRIVER_DIR
#   bitexact  its WavePci miniport plays and captures the built-in signal bit-exact, and a
#             44.1 kHz stereo WAV file too (each byte played exactly once)
#   findings  the driver bugs docs/REAL-DRIVERS.md explains are found where it says: in the
#             cancel-storm scenario, W5.dma-after-revoke, W5.ring-exposes-dead-mapping and
#             W6.removed-twice (its RevokeMappings loop); in pause-churn K.hang (RUN after a PAUSE
#             never restarts the DMA: the stream stops); steady is clean
#   registry  --registry seeds its registry: the codec volumes it reads from Driver\Settings at
#             start (MasterVolume, WaveOutVolume) are what the device's mixer holds after the run;
#             without the file they are the driver's own defaults
# Exit 77 ("skipped") when the driver's sources are absent (../shared/real-drivers).
set -uo pipefail
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/../lib/testlib.sh"

case_name=$1 kslab=$2 so=$3 drv=$4
if [ -z "$so" ] || [ ! -d "$drv" ]; then
  echo "skipped: no third-party driver sources at '$drv' (../shared/real-drivers is absent)"
  exit 77
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/kslab-reactos.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1

case "$case_name" in
bitexact)
  for cmd in play capture; do
    run 0 "$kslab" $cmd --driver "$so" --seconds 1 -o ros.wav
    grep -q "verifier clean" out.txt || fail "$cmd: not clean"
    grep -q "bit-exact" out.txt || fail "$cmd: not bit-exact"
    run 0 "$kslab" $cmd --driver ac97 --seconds 1 -o ref.wav
    cmp ros.wav ref.wav || fail "$cmd: differs from the C reference miniport's"
  done
  # A 44.1 kHz stereo file (the driver's AC'97 plays stereo PCM; it refuses mono, as the
  # hardware it was written for does).
  python3 -c '
import math, struct, wave
w = wave.open("in441.wav", "wb")
w.setnchannels(2); w.setsampwidth(2); w.setframerate(44100)
w.writeframes(b"".join(struct.pack("<hh", int(9000 * math.sin(i * 0.031)), (i * 37) % 20000 - 10000)
                       for i in range(44100)))
w.close()' || fail "cannot write the 44.1 kHz input"
  run 0 "$kslab" play in441.wav --driver "$so" -o out441.wav
  grep -q "44100 Hz" out.txt || fail "44.1 kHz file: not played at 44.1 kHz"
  grep -q "bit-exact" out.txt || fail "44.1 kHz file: not bit-exact"
  grep -q "verifier clean" out.txt || fail "44.1 kHz file: not clean"
  ;;
findings)
  run 0 "$kslab" stress "$so" --scenario steady --schedules 30
  run 1 "$kslab" stress "$so" --scenario cancel-storm --schedules 30 --keep-going --json
  python3 - out.txt <<'PY' || fail "cancel-storm did not report the driver's revoke bugs"
import json, sys
r = json.load(open(sys.argv[1]))
rules = sorted({f["rule"] for f in r["findings"]})
want = ["W5.dma-after-revoke", "W5.ring-exposes-dead-mapping", "W6.removed-twice"]
assert rules == want, rules
for f in r["findings"]:
    if f["rule"] == "W6.removed-twice":
        assert f["file"].endswith("wavepcistream.cpp"), f["file"]
PY
  # RUN after a PAUSE never restarts the DMA (SetState's bit test): the stream stops, and the
  # execution never ends (K.hang at the wall-time limit or the bound of scheduling points).
  run 1 "$kslab" stress "$so" --scenario pause-churn --schedules 1 --timeout 5 --no-shrink --json
  python3 - out.txt <<'PY' || fail "pause-churn did not report the stalled stream"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["executions"] == 1, r["executions"]
assert r["findings"] and r["findings"][0]["rule"] == "K.hang", [f["rule"] for f in r["findings"]]
PY
  ;;
registry)
  cat >reg.json <<'JSON'
{"kslab-registry": 1,
 "keys": {"Driver\\Settings": {"MasterVolume": {"REG_BINARY": "0a0a"}, "WaveOutVolume": {"REG_BINARY": "0303"}}}}
JSON
  volumes() { python3 -c 'import json,sys; c = json.load(open(sys.argv[1]))["counters"]
print("%04x %04x" % (c["device.codec.master_volume"], c["device.codec.pcm_out_volume"]))' out.txt; }
  run 0 "$kslab" play --driver "$so" --seconds 1 --json
  [ "$(volumes)" = "0000 0808" ] || fail "without a registry file the volumes are $(volumes)"
  run 0 "$kslab" play --driver "$so" --seconds 1 --json --registry reg.json
  [ "$(volumes)" = "0a0a 0303" ] || fail "the seeded volumes did not reach the codec: $(volumes)"
  ;;
*) fail "unknown case" ;;
esac
echo "ok ($case_name)"
