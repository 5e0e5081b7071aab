#!/usr/bin/env bash
# One command from a fresh Debian machine to the main job: installs the
# dependencies, builds apical, fetches MNIST when it is not found
# (scripts/fetch-data.sh mnist, into ./data; about 20 s) and trains the
# spiking microcircuit on it (scripts/train-mnist.sh: four to six minutes on
# two cores; accuracy, checkpoint and pictures in out/mnist). Only when MNIST
# can be neither found nor fetched (no network) does it simulate the
# Brette et al. (2007) benchmark-4 network instead (out/bench4).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release
cmake --build build -j "$(nproc 2>/dev/null || echo 2)" --target apical

has_mnist() { build/apps/apical dataset info --dataset mnist >/dev/null 2>&1; }

if ! has_mnist; then
  echo "== MNIST not found: fetching it (scripts/fetch-data.sh mnist, into ./data)"
  if scripts/fetch-data.sh mnist && has_mnist; then
    echo
  else
    echo "quickstart: MNIST could not be fetched (see the message above; docs/datasets.md" >&2
    echo "            says where data is looked up). Simulating benchmark 4 instead." >&2
    echo
    echo "== apical simulate: Brette et al. (2007) benchmark 4, 1 s"
    exec build/apps/apical simulate --preset brette-bench4 --output out/bench4
  fi
fi
exec scripts/train-mnist.sh "$@"
