#!/usr/bin/env bash
# Trains the spiking microcircuit (784-100-10, sign-concordant feedback) on
# MNIST for three epochs, and the rate reference trainers BP, FA, DFA and SC-FA
# on the same data for comparison; prints the test accuracies and writes the
# metrics, the checkpoint and the pictures (accuracy, alignment with BP,
# spike raster, learned weights, confusion matrix) to out/mnist.
# Training takes about two and a half minutes on two cores. MNIST must be found (docs/datasets.md;
# scripts/fetch-data.sh mnist fetches it).
#   scripts/train-mnist.sh [extra apical train options, e.g. --train-samples 10000]
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release
jobs="$(nproc 2>/dev/null || echo 2)"
cmake --build build -j "$jobs" --target apical

if ! build/apps/apical dataset info --dataset mnist >/dev/null 2>&1; then
  echo "train-mnist: MNIST not found; fetch it with scripts/fetch-data.sh mnist" >&2
  exit 1
fi

echo
echo "== apical train: the microcircuit on MNIST, 3 epochs (and BP, FA, DFA, SC-FA for comparison)"
build/apps/apical train --config examples/train/mnist-microcircuit.ini \
    --compare bp,fa,dfa,scfa --threads "$jobs" --output out/mnist --overwrite "$@"

echo
echo "== apical evaluate: confusion matrix"
build/apps/apical evaluate --checkpoint out/mnist/checkpoint.bin

echo
echo "pictures: out/mnist/accuracy.svg alignment.svg raster.svg weights.svg weight_changes.svg confusion.svg"
