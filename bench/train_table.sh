#!/usr/bin/env bash
# The accuracy table of bench/README.md ("Training"): the spiking
# microcircuit and the four rate reference trainers (BP, FA, DFA, SC-FA) on
# the same data, architecture, epochs and learning-rate decay, each with
# `apical train`; prints one Markdown row per run (test accuracy after every
# epoch, the final one in bold, seconds per epoch).
#
# Usage (from the repository root, after building build/apps/apical):
#   bench/train_table.sh mnist      # examples/train/mnist-microcircuit-800.ini
#   bench/train_table.sh cifar10    # examples/train/cifar10-microcircuit.ini
#   APICAL=path THREADS=n OUT=dir bench/train_table.sh mnist [extra train options]
#   COMPARE=bp,bp@0.1,fa,dfa,scfa bench/train_table.sh cifar10
# Extra options go to every run (e.g. --train-samples 5000 --epochs 1 for a
# quick look). The rate trainers keep their own dataset defaults (learning
# rate, batch) but take the microcircuit run's arch, input, epochs and
# lr-decay, as `apical train --compare` does; COMPARE (default
# bp,fa,dfa,scfa) lists them, algo@step with a step of its own.
set -euo pipefail
cd "$(dirname "$0")/.."
dataset=${1:?usage: bench/train_table.sh mnist|cifar10 [apical train options]}
shift
case "$dataset" in
  mnist) config=examples/train/mnist-microcircuit-800.ini ;;
  cifar10) config=examples/train/cifar10-microcircuit.ini ;;
  *) echo "train_table: unknown dataset '$dataset'; expected mnist or cifar10" >&2; exit 2 ;;
esac
APICAL=${APICAL:-build/apps/apical}
THREADS=${THREADS:-2}
OUT=${OUT:-out/table-$dataset}
COMPARE=${COMPARE:-bp,fa,dfa,scfa}
[[ -x "$APICAL" ]] || { echo "train_table: $APICAL not found; build it first" >&2; exit 1; }

"$APICAL" train --config "$config" --threads "$THREADS" --output "$OUT/microcircuit" \
    --overwrite --compare "$COMPARE" "$@"

# One row per trainer from metrics.json (its "compare" list holds the references).
/usr/bin/env python3 - "$OUT/microcircuit/metrics.json" <<'EOF'
import json, sys
m = json.load(open(sys.argv[1]))
def row(name, epochs):
    acc = [100 * e["test_accuracy"] for e in epochs]
    cells = " / ".join(f"{a:.2f}" for a in acc[:-1]) + (" / " if len(acc) > 1 else "")
    secs = sum(e["wall_s"] for e in epochs) / len(epochs)
    print(f"| {name} | {cells}**{acc[-1]:.2f}** | {secs:.1f} s |")
print(f"{m['dataset']} {m['arch']}, {m['train_samples']} training / {m['test_samples']} test samples")
print("| trainer | test accuracy (%) after each epoch | training time per epoch |")
print("|---|---|---|")
row("microcircuit", m["epochs"])
for c in m.get("compare", []):
    name = c["algo"].upper().replace("SCFA", "SC-FA")
    if "@" in c.get("label", ""):
        name += f", lr {c['learning_rate']:g}"
    row(name, c["epochs"])
EOF
