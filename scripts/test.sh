#!/usr/bin/env bash
# Installs the dependencies if missing, configures, builds (warnings are
# errors) and runs the whole test suite.
#   scripts/test.sh                  Release build in build/
#   scripts/test.sh --sanitize       Debug build with ASan + UBSan in build-sanitize/
# Extra arguments after -- go to ctest (e.g. -- -R engine).
set -euo pipefail
cd "$(dirname "$0")/.."

build=build
flags=(-DCMAKE_BUILD_TYPE=Release)
if [[ "${1:-}" == "--sanitize" ]]; then
  build=build-sanitize
  flags=(-DCMAKE_BUILD_TYPE=Debug -DAPICAL_SANITIZE=ON)
  shift
fi
[[ "${1:-}" == "--" ]] && shift

scripts/install-deps.sh
jobs=$(nproc 2>/dev/null || echo 2)
cmake -S . -B "$build" -DAPICAL_WERROR=ON "${flags[@]}"
cmake --build "$build" -j "$jobs"
ctest --test-dir "$build" --output-on-failure -j "$jobs" "$@"
