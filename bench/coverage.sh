#!/usr/bin/env bash
# Benchmark (not a test): line and branch coverage of the reference drivers under `kslab stress`.
# Each reference is built as a driver plugin with gcc --coverage (as a driver author would build
# theirs), stressed over every scenario of its kind, and measured with gcov (the workers write
# their counts when they end).  Prints Markdown for docs/BENCHMARKS.md.
#
#   bench/coverage.sh [BUILD_DIR] [SCHEDULES]
set -euo pipefail
build=${1:-build/default}
schedules=${2:-1000}
src=$(cd "$(dirname "$0")/.." && pwd)
k=$(cd "$build" && pwd)/kslab
lib=$(cd "$build" && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/kslab-coverage.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# plugin name, then its sources (relative to miniports/); the first sources are measured.
refs=(
  "ac97:ac97/format.c ac97/miniport.c ac97/stream.c|ac97/plugin.c"
  "isr-regs:stream/isr_regs.c|stream/ksr_common.c stream/plugin_isr_regs.c"
  "isr-dpc-pio:stream/isr_dpc_pio.c|stream/ksr_common.c stream/plugin_isr_dpc_pio.c"
  "no-isr-dispatch:stream/no_isr_dispatch.c|stream/ksr_common.c stream/plugin_no_isr_dispatch.c"
  "filter:stream/filter.c|stream/ksr_common.c stream/plugin_filter.c"
  "bus:stream/bus.c|stream/ksr_common.c stream/plugin_bus.c"
)
echo "| driver | source | lines | branches taken | executions |"
echo "|---|---|---|---|---|"
for r in "${refs[@]}"; do
  name=${r%%:*}
  rest=${r#*:}
  measured=${rest%%|*}
  others=${rest#*|}
  dir=$tmp/$name
  mkdir -p "$dir"
  objs=()
  for s in $measured $others; do
    o=$dir/$(basename "$s" .c).o
    gcc -std=c11 -O0 -g --coverage -fPIC -I"$src/include" -I"$src/miniports/ac97" -I"$src/miniports/stream" \
        -c "$src/miniports/$s" -o "$o"
    objs+=("$o")
  done
  gcc -shared --coverage -o "$dir/$name.so" "${objs[@]}" -L"$lib" -lkslab
  out=$("$k" stress "$dir/$name.so" --schedules "$schedules" --jobs 2 --json)
  execs=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["executions"])' "$out")
  for s in $measured; do
    base=$(basename "$s" .c)
    summary=$(cd "$dir" && gcov -n -b "$base.o" 2>/dev/null | sed -n "/$base.c'/,/^$/p")
    lines=$(sed -n 's/^Lines executed:\([0-9.]*%\) of \([0-9]*\)/\1 of \2/p' <<<"$summary" | head -n 1)
    taken=$(sed -n 's/^Taken at least once:\([0-9.]*%\) of \([0-9]*\)/\1 of \2/p' <<<"$summary" | head -n 1)
    echo "| $name | $s | $lines | $taken | $execs |"
  done
done
