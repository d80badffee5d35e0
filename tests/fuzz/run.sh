#!/usr/bin/env bash
# Builds the libFuzzer harnesses with clang (ASan + UBSan) in their own build directory and runs
# each for a bounded time on its committed seed corpus. New inputs go to a scratch directory, so
# the committed corpus only changes by hand; a crash leaves its input in the scratch directory
# and fails the run.
#   tests/fuzz/run.sh [BUILD_DIR] [SECONDS_PER_HARNESS]     (defaults: build-fuzz, 20)
set -euo pipefail
cd "$(dirname "$0")/../.."
build="${1:-build-fuzz}"
seconds="${2:-20}"
cxx="${FUZZ_CXX:-clang++-14}"

launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
if [ ! -f "$build/build.ninja" ]; then
  CXX="$cxx" cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DGATEHOUSE_FUZZ=ON "${launcher[@]}"
fi
harnesses=(request_fuzzer config_fuzzer exchange_rules_fuzzer regex_prefilter_fuzzer)
cmake --build "$build" -j "${JOBS:-$(nproc)}" --target "${harnesses[@]}"

scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
status=0
for h in "${harnesses[@]}"; do
  name="${h%_fuzzer}"
  mkdir -p "$scratch/$name"
  echo "== $h: ${seconds}s"
  if ! "$build/tests/fuzz/$h" "$scratch/$name" "tests/fuzz/corpus/$name" \
      -max_total_time="$seconds" -max_len=8192 -timeout=5 -rss_limit_mb=2048 \
      -artifact_prefix="$scratch/$name-" -print_final_stats=1 2>"$scratch/$name.log"; then
    tail -40 "$scratch/$name.log"
    for crash in "$scratch/$name"-*; do
      [ -f "$crash" ] && { echo "input: $crash"; base64 "$crash" | head -20; }
    done
    status=1
  else
    grep -E "^stat::number_of_executed_units|^stat::peak_rss_mb" "$scratch/$name.log" || true
  fi
done
exit $status
