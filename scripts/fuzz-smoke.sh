#!/usr/bin/env bash
# Builds the libFuzzer targets in the debug preset (clang, ASan + UBSan; `make test` has built them
# already) and runs each for a bounded time.
# A crash, leak or sanitizer report fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${FUZZ_SECONDS:-30}
jobs=${JOBS:-$(nproc)}

targets=()
# src/sb/<module>/fuzz/<name>_fuzzer.cc builds target <module>_<name>_fuzzer in src/sb/<module>/.
for src in $(find src/sb -path '*/fuzz/*_fuzzer.cc' | sort); do
  module_dir=$(dirname "$(dirname "$src")")
  module=$(basename "$module_dir")
  targets+=("${module}_$(basename "$src" .cc):$module_dir")
done
if [ ${#targets[@]} -eq 0 ]; then
  echo "fuzz-smoke: no fuzz targets"
  exit 0
fi

build=build/debug
cmake --preset debug >/dev/null
for t in "${targets[@]}"; do
  name=${t%%:*}
  dir=${t#*:}
  cmake --build --preset debug -j "$jobs" --target "$name"
  corpus=$build/corpus/$name
  mkdir -p "$corpus"
  [ -d "$dir/fuzz/corpus" ] && cp -n "$dir"/fuzz/corpus/* "$corpus"/ 2>/dev/null || true
  echo "fuzz-smoke: $name for ${seconds}s"
  "$build/$dir/$name" -max_total_time="$seconds" -print_final_stats=1 "$corpus" \
    > "$build/$name.log" 2>&1 || { tail -n 60 "$build/$name.log"; exit 1; }
  grep -E '^stat::number_of_executed_units' "$build/$name.log" || true
done
