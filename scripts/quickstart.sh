#!/usr/bin/env bash
# One command from a fresh Debian machine to the main job: installs the
# dependencies, builds apical, and, when MNIST is found, trains the spiking
# microcircuit on it (scripts/train-mnist.sh: four to six minutes on two
# cores; accuracy, checkpoint and pictures in out/mnist). Without MNIST it
# simulates the Brette et al. (2007) benchmark-4 network instead
# (out/bench4) and says how to fetch the data.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release
cmake --build build -j "$(nproc 2>/dev/null || echo 2)" --target apical

if build/apps/apical dataset info --dataset mnist >/dev/null 2>&1; then
  exec scripts/train-mnist.sh "$@"
fi

echo "MNIST not found (fetch it with scripts/fetch-data.sh mnist; see docs/datasets.md)."
echo
echo "== apical simulate: Brette et al. (2007) benchmark 4, 1 s"
build/apps/apical simulate --preset brette-bench4 --output out/bench4
