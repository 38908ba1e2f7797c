#!/usr/bin/env bash
# Benchmark (not a test): how fast `kslab stress` finds each broken variant of the reference
# AC'97 miniport (tests/buggy/), against plain stress on the threaded engine (real threads on the
# real cores: the "hours of multiprocessor stress" kslab replaces), and raw throughput.
#
#   bench/bench_stress.sh [BUILD_DIR] [THREADED_CAP_SECONDS] [SEEDS] [VARIANT_GLOB]
#
# VARIANT_GLOB picks the variants (default 'buggy-*': every WavePci and stream variant;
# 'buggy-stream-*' for the stream class ones only).
#
# For each variant: which scenario its bug lives in (the scenario of the first finding of a
# default run), then within that scenario only ("the same driver and scenario"): the median over
# SEEDS seeds (default 5) of wall time and executions to the first finding with the random
# strategy and with pct:3, and the threaded engine's wall time to a finding, capped at
# THREADED_CAP_SECONDS (default 60: a cap means "not found", and the ratio is then a lower bound,
# printed with ">").  Then executions/s on the cancel-storm scenario
# with --jobs 1 and --jobs 2.  Prints Markdown for docs/BENCHMARKS.md.
set -euo pipefail
build=${1:-build/default}
cap=${2:-60}
seeds=${3:-5}
glob=${4:-buggy-*}
k=$build/kslab
[ -x "$k" ] || { echo "bench_stress: no $k (build the default preset first)" >&2; exit 2; }

now() { date +%s.%N; }
# a top-level field of the JSON result on stdin ("" when absent; the result has nested keys of
# the same names, e.g. the coverage windows' "executions", so it is parsed, not matched)
field() { python3 -c 'import json,sys
try: print(json.load(sys.stdin).get(sys.argv[1], ""))
except Exception: print("")' "$1"; }
sfield() { field "$1"; }
calc() { awk "BEGIN { print $1 }"; }
median() { sort -g | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }

# run VARIANT ARGS...: prints "wall executions rule scenario"
run() {
  local so=$1; shift
  local t0 t1 out
  t0=$(now)
  out=$("$k" stress "$so" --json --no-shrink "$@" 2>/dev/null || true)
  t1=$(now)
  # "-" for an empty rule or scenario: `read` would shift the fields after an empty one
  local rule sc x
  rule=$(echo "$out" | sfield rule); sc=$(echo "$out" | sfield scenario); x=$(echo "$out" | field executions)
  echo "$(calc "$t1 - $t0") ${x:--} ${rule:--} ${sc:--}"
}

echo "| variant | rule | scenario | random: s / executions | pct:3: s / executions | threaded: s | threaded / random |"
echo "|---|---|---|---|---|---|---|"
for so in "$build"/drivers/$glob.so; do
  v=$(basename "$so" .so); v=${v#buggy-}
  extra=()
  [ "$v" = spin-forever ] && extra=(--timeout 2)
  read -r w x rule sc < <(run "$so" "${extra[@]}")
  [ "$sc" != - ] && [ "$rule" != - ] || { echo "| $v | not found | | | | | |"; continue; }
  extra+=(--scenario "$sc")
  textra=("${extra[@]}")        # the threaded run: --time instead of --schedules
  extra+=(--schedules 100000)
  declare -a rw=() rx=() pw=() px=()
  for i in $(seq 1 "$seeds"); do
    read -r w x r s2 < <(run "$so" --seed $((i * 1000)) "${extra[@]}")
    rw+=("$w"); rx+=("$x")
    read -r w x r s2 < <(run "$so" --seed $((i * 1000)) --strategy pct:3 "${extra[@]}")
    pw+=("$w"); px+=("$x")
  done
  mrw=$(printf '%s\n' "${rw[@]}" | median); mrx=$(printf '%s\n' "${rx[@]}" | median)
  mpw=$(printf '%s\n' "${pw[@]}" | median); mpx=$(printf '%s\n' "${px[@]}" | median)
  read -r tw tx tr ts < <(run "$so" --threaded --time "$cap" "${textra[@]}")
  if [ "$tr" != - ]; then
    tcell=$(printf '%.2f' "$tw"); ratio=$(calc "$tw / $mrw"); rcell=$(printf '%.0fx' "$ratio")
  else
    tcell="not found in $cap"; ratio=$(calc "$cap / $mrw"); rcell=$(printf '> %.0fx' "$ratio")
  fi
  printf '| %s | %s | %s | %.3f / %s | %.3f / %s | %s | %s |\n' "$v" "$rule" "$sc" "$mrw" "$mrx" "$mpw" "$mpx" "$tcell" "$rcell"
done

echo
echo "| throughput | executions | wall s | executions/s |"
echo "|---|---|---|---|"
for j in 1 2; do
  read -r w x r s2 < <(run ac97 --scenario cancel-storm --schedules 20000 --jobs "$j")
  printf '| cancel-storm, --jobs %s | %s | %.2f | %.0f |\n' "$j" "$x" "$w" "$(calc "$x / $w")"
done
