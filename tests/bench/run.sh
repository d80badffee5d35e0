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
for exe in "$build"/tests/bench/*_benchmarks; do
  [ -x "$exe" ] || continue
  echo "== $(basename "$exe")"
  "$exe" --benchmark_min_time=0.2
done
