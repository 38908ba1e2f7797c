#!/usr/bin/env bash
# Findings the soak (bench/soak.sh) once reported on a reference driver, fixed since, replayed
# from their tokens (label `output`):
#
#   soak_regressions.sh KSLAB
#
# Each token replays the schedule of the finding exactly; after the fix the same schedule runs on
# past the step where the finding was and ends clean.  A token is tied to the scheduling points
# of the kslab that made it: when they change, the schedule no longer reaches the same window
# (the replay still runs, and this test then shows less) — the directed tests stay the guard.
#
# 1. ac97, scenario jitter, pct:3 on 2 CPUs, seed 26881 (soak of 2026-12-05): the reference
#    miniport re-queued a finished, not yet released mapping when a second RevokeMappings came
#    before the engine ran again after the first one's rebuild (loaded FALSE counted nothing as
#    done), and the device played its 96 bytes twice: W4.data-mismatch at step 516.  Fixed in
#    miniports/ac97/stream.c (st_revoke_mappings: the entries before descriptor 0 are finished).
set -uo pipefail
kslab=$1
tmp=$(mktemp -d "${TMPDIR:-/tmp}/kslab-soakreg.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
case_name="soak regressions"
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/../lib/testlib.sh"
cd "$tmp" || exit 1

# token  minimum steps (past the old finding)
while read -r token min; do
  run 0 "$kslab" replay "$token" --json
  python3 - out.txt "$min" <<'PY' || fail "the replay of ${token:0:40}... is not clean past step $min"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["result"] == "clean", d["rule"]
assert d["steps"] > int(sys.argv[2]), d["steps"]
PY
done <<'TOKENS'
ksl1-BA53YXZlcGNpL2ppdHRlcgAAAAAAAAAAAAAAAAAABGFjOTcAAAAAAAACAIHSAQID3g7AlrECoJwBCgIA2wEAAQECAH0BAQEAAgEBAQEBAQEBAQEBAQEBAQEBAQEBAQADAQEBAQEBAQEBAQEBAQEBAQEBAQEBAAEBAQEBAQEAAQEBAQAbAQEBLUbuOg 516
TOKENS
echo "ok: the soak's fixed findings replay clean"
