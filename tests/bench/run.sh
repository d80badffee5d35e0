#!/usr/bin/env bash
# `make bench`: every benchmark of the project, each beside a peer measured in the same run.
# Figures are ratios (ours ÷ peer), because these machines are shared and noisy.
# Usage: tests/bench/run.sh BUILD_DIR
set -euo pipefail
build=${1:?usage: run.sh BUILD_DIR}
here=$(cd "$(dirname "$0")" && pwd)
for script in "$here"/*_bench.sh; do
  [ -e "$script" ] || continue
  echo "== $(basename "$script")"
  "$script" "$build"
done
# Google Benchmark binaries: five repetitions in random order, then gatehouse ÷ peer per
# operation from the medians.
results=$(mktemp)
trap 'rm -f "$results"' EXIT
for exe in "$build"/tests/bench/*_benchmarks; do
  [ -x "$exe" ] || continue
  echo "== $(basename "$exe")"
  "$exe" --benchmark_min_time=0.1 --benchmark_repetitions=5 \
    --benchmark_enable_random_interleaving=true --benchmark_report_aggregates_only=true \
    --benchmark_out="$results" --benchmark_out_format=json
  python3 "$here/benchmark_ratios.py" "$results"
done
