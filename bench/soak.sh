#!/usr/bin/env bash
# Soak (not a test): every reference driver x every scenario of its kind x the random and pct:3
# strategies x 1, 2, 4 and 8 CPUs, with the deterministic engine.  Every combination must be
# clean: a finding on a reference driver is a bug in the driver or in kslab, either way a bug.
#
#   bench/soak.sh [BUILD_DIR] [SCHEDULES_2CPU] [SCHEDULES_OTHER] [JOBS] [DRIVERS]
#
# Defaults: 100000 schedules per combination with 2 CPUs, 10000 with 1, 4 and 8 (the issue's
# matrix), JOBS worker processes (default: the machine's cores), DRIVERS a space-separated list
# (default: every reference).  Prints one line per driver x
# strategy x CPU count (every scenario of the driver in one campaign), then the total: findings,
# executions, wall time.  Exit 0 when every combination is clean, 1 when any has a finding, 2
# when kslab could not run.  The test suite runs a slice of it (ctest label `soak`:
# `bench/soak.sh BUILD 200 100 2`).
set -uo pipefail
build=${1:-build/default}
n2=${2:-100000}
nother=${3:-10000}
jobs=${4:-$(nproc 2>/dev/null || echo 2)}
k=$build/kslab
[ -x "$k" ] || { echo "soak: no $k (build the default preset first)" >&2; exit 2; }

read -r -a drivers <<<"${5:-ac97 isr-regs isr-dpc-pio no-isr-dispatch filter bus}"
t0=$(date +%s.%N)
findings=0 executions=0 combos=0 errors=0
for d in "${drivers[@]}"; do
  for strategy in random pct:3; do
    for cpus in 1 2 4 8; do
      n=$nother; [ "$cpus" -eq 2 ] && n=$n2
      s0=$(date +%s.%N)
      out=$("$k" stress "$d" --strategy "$strategy" --cpus "$cpus" --schedules "$n" --jobs "$jobs" --json)
      rc=$?
      s1=$(date +%s.%N)
      combos=$((combos + 1))
      read -r ex nf rule <<<"$(printf '%s' "$out" | python3 -c '
import json, sys
try:
    r = json.load(sys.stdin)
    print(r["executions"], len(r["findings"]), r["findings"][0]["rule"] if r["findings"] else "-")
except Exception:
    print(0, 0, "unreadable")')"
      executions=$((executions + ex))
      if [ "$rc" -eq 1 ]; then
        findings=$((findings + nf))
        token=$(printf '%s' "$out" | python3 -c 'import json,sys; print(json.load(sys.stdin)["replay"])' 2>/dev/null)
        printf '%-16s %-7s %d CPU(s): %9d executions  %6.1f s  FINDING %s  kslab replay %s\n' "$d" "$strategy" \
          "$cpus" "$ex" "$(awk "BEGIN{print $s1-$s0}")" "$rule" "$token"
      elif [ "$rc" -ne 0 ]; then
        errors=$((errors + 1))
        printf '%-16s %-7s %d CPU(s): kslab exited %d\n' "$d" "$strategy" "$cpus" "$rc"
      else
        printf '%-16s %-7s %d CPU(s): %9d executions  %6.1f s  clean\n' "$d" "$strategy" "$cpus" "$ex" \
          "$(awk "BEGIN{print $s1-$s0}")"
      fi
    done
  done
done
t1=$(date +%s.%N)
printf 'soak: %d combinations, %d executions, %d finding(s), %d error(s), wall %.0f s\n' "$combos" "$executions" \
  "$findings" "$errors" "$(awk "BEGIN{print $t1-$t0}")"
[ "$errors" -eq 0 ] || exit 2
[ "$findings" -eq 0 ] || exit 1
exit 0
