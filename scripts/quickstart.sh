#!/usr/bin/env bash
# One command from a fresh Debian machine to a first result: installs the
# dependencies, builds apical, simulates the Brette et al. (2007)
# benchmark-4 network for one second of biological time (results in
# out/bench4/), and, when the MNIST files are found, summarises them.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release
cmake --build build -j "$(nproc 2>/dev/null || echo 2)" --target apical

echo
echo "== apical simulate: Brette et al. (2007) benchmark 4, 1 s"
build/apps/apical simulate --config examples/networks/brette_bench4.ini --output out/bench4

echo
echo "== apical dataset info: MNIST"
if ! build/apps/apical dataset info --dataset mnist; then
  echo "(MNIST not found: fetch it with scripts/fetch-data.sh mnist)"
fi
