#!/usr/bin/env bash
# Reproduces the figures of bench/microcircuit/README.md: MNIST, 10,000
# training samples (1 epoch), the 10,000 test images, 784-800-10, the
# microcircuit in each feedback mode and the rate-based reference trainers.
#
# Usage (from the repository root):  bench/microcircuit/run.sh
#   BUILD=dir       build directory (default build-bench), configured with
#                   -DAPICAL_BUILD_BENCH=ON and built here
#   BENCH=path      use this bench_microcircuit binary instead (no build)
#   DATA=dir        MNIST folder (default: the library's search, e.g. $APICAL_DATA)
#   MODES="..."     feedback modes (default: all four)
#   THREADS=n       worker threads (default 2)
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build-bench}
if [[ -z "${BENCH:-}" ]]; then
  cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DAPICAL_BUILD_BENCH=ON >/dev/null
  cmake --build "$BUILD" --target bench_microcircuit -j "${THREADS:-2}"
  BENCH="$BUILD/bench/microcircuit/bench_microcircuit"
fi
OUT=bench/microcircuit/results
MODES=${MODES:-"sign-concordant symmetric random direct"}
data_args=()
[[ -n "${DATA:-}" ]] && data_args=(--data-dir "$DATA")
first=1
for mode in $MODES; do
  refs=()
  [[ $first == 1 ]] && refs=(--references bp,fa,dfa,scfa --ref-lr 0.01)
  first=0
  "$BENCH" "${data_args[@]}" --train 10000 --test 10000 --epochs 1 --threads "${THREADS:-2}" \
    --feedback "$mode" --align-every 5 --out "$OUT/$mode" "${refs[@]}" | tee "$OUT/$mode.log"
done
