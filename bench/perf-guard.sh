#!/usr/bin/env bash
# Performance guard: times the working tree's apical against a base commit's
# on fixed workloads, the two binaries alternating, and fails when a
# workload got more than 10 % slower.
#
#   bench/perf-guard.sh [--repeat N] [--only W1,W2] [--cpu] [BASE]
#
# BASE (a commit, branch or tag) defaults to the commit on the last
# `perf-guard base: <sha>` line of bench/README.md, or to main if there is
# none. BASE is built in a temporary git worktree (removed on exit) into
# build-perfguard/, which is reused while BASE's commit stays the same; the
# working tree, uncommitted changes included, is built into
# build-perfguard-head/. Both are Release builds of the apical target only.
#
# Workloads (one thread each; --only picks some by name):
#   bench4         apical simulate --preset brette-bench4 --duration 1000 --no-spikes
#   cuba           apical simulate --preset cuba --duration 1000 --no-spikes
#   brunel-c       apical simulate --preset brunel-c --duration 100 --no-spikes
#   stdp-balanced  apical simulate --preset stdp-balanced --duration 100 --no-spikes
#   train          apical train --config examples/train/mnist-microcircuit.ini
#                    --train-samples 2000 --test-samples 100 --epochs 1
#                  (the working tree's config file for both binaries)
# The time of a simulation is summary.json's sim_s (the event loop alone,
# wall time; with --cpu its sim_cpu_s, steadier on a shared machine); of the
# training, metrics.json's wall_s of its epoch (training only, no test).
# Each workload runs N times per binary (default 3), base and head
# alternating (base first in odd rounds, head first in even ones); the
# table compares the minima. Exit status: 0 when no workload's head/base
# ratio exceeds 1.10, 1 when one does, 2 on a usage or build error.
# MNIST is read from $APICAL_DATA if set, else from ../shared/datasets beside
# the repository, else from its data/ (docs/datasets.md).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
readme="$root/bench/README.md"
all_workloads=(bench4 cuba brunel-c stdp-balanced train)
limit=1.10

die() {
  echo "perf-guard: $*" >&2
  exit 2
}

repeat=3
only=""
sim_key=sim_s
base=""
while (($#)); do
  case "$1" in
    --repeat)
      [[ $# -ge 2 && "$2" =~ ^[1-9][0-9]*$ ]] || die "--repeat: expected a positive integer"
      repeat="$2"
      shift 2
      ;;
    --only)
      [[ $# -ge 2 ]] || die "--only: expected a comma-separated list of workloads"
      only="$2"
      shift 2
      ;;
    --cpu)
      sim_key=sim_cpu_s
      shift
      ;;
    -h | --help)
      sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'
      exit 0
      ;;
    -*) die "unknown option $1 (see --help)" ;;
    *)
      [[ -z "$base" ]] || die "one BASE only (got '$base' and '$1')"
      base="$1"
      shift
      ;;
  esac
done

workloads=("${all_workloads[@]}")
if [[ -n "$only" ]]; then
  IFS=, read -r -a workloads <<<"$only"
  for w in "${workloads[@]}"; do
    [[ " ${all_workloads[*]} " == *" $w "* ]] ||
      die "--only: unknown workload '$w' (known: ${all_workloads[*]})"
  done
fi

if [[ -z "$base" ]]; then
  base="$(sed -n 's/^perf-guard base: *\([0-9A-Za-z._/-]*\).*/\1/p' "$readme" | tail -n 1)"
  base="${base:-main}"
fi
sha="$(git -C "$root" rev-parse --verify --quiet "$base^{commit}")" ||
  die "BASE '$base' is not a commit of the repository at $root"

tmp="$(mktemp -d "${TMPDIR:-/tmp}/perf-guard.XXXXXX")"
worktree=""
# shellcheck disable=SC2317  # (run by the trap)
cleanup() {
  if [[ -n "$worktree" ]]; then
    git -C "$root" worktree remove --force "$worktree" >/dev/null 2>&1 || true
    git -C "$root" worktree prune >/dev/null 2>&1 || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# build SOURCE_DIR BUILD_DIR: a Release build of the apical target.
build() {
  echo "perf-guard: building $1 into $2" >&2
  if ! {
    cmake -S "$1" -B "$2" -DCMAKE_BUILD_TYPE=Release &&
      cmake --build "$2" --target apical -j "$(nproc 2>/dev/null || echo 2)"
  } >"$tmp/cmake.log" 2>&1; then
    tail -n 30 "$tmp/cmake.log" >&2
    die "the build of $1 failed (into $2)"
  fi
}

base_dir="$root/build-perfguard"
cached="$(cat "$base_dir/perf-guard-commit" 2>/dev/null || true)"
if [[ -x "$base_dir/apps/apical" && "$cached" == "$sha" ]]; then
  echo "perf-guard: reusing $base_dir (base $sha)" >&2
else
  worktree="$tmp/base-src"
  git -C "$root" worktree add --detach --quiet "$worktree" "$sha" ||
    die "cannot check out $sha into a temporary worktree"
  rm -rf "$base_dir"
  build "$worktree" "$base_dir"
  echo "$sha" >"$base_dir/perf-guard-commit"
fi
head_dir="$root/build-perfguard-head"
build "$root" "$head_dir"

# Both binaries read the same MNIST: $APICAL_DATA, else ../shared/datasets
# beside the repository, else ./data in it.
data_dir="${APICAL_DATA:-}"
[[ -z "$data_dir" && -d "$root/../shared/datasets" ]] && data_dir="$root/../shared/datasets"
data_dir="${data_dir:-$root/data}"

# run_workload BINARY WORKLOAD OUT_DIR: runs it, prints its time in seconds.
run_workload() {
  local bin="$1" w="$2" out="$3"
  local sim=(simulate --threads 1 --seed 1 --no-spikes --output "$out")
  case "$w" in
    bench4) "$bin" "${sim[@]}" --preset brette-bench4 --duration 1000 ;;
    cuba) "$bin" "${sim[@]}" --preset cuba --duration 1000 ;;
    brunel-c) "$bin" "${sim[@]}" --preset brunel-c --duration 100 ;;
    stdp-balanced) "$bin" "${sim[@]}" --preset stdp-balanced --duration 100 ;;
    train)
      "$bin" train --config "$root/examples/train/mnist-microcircuit.ini" \
        --train-samples 2000 --test-samples 100 --epochs 1 --threads 1 \
        --output "$out" --overwrite --data-dir "$data_dir"
      ;;
  esac >"$out.log" 2>&1 || {
    tail -n 20 "$out.log" >&2
    die "$w failed with $bin"
  }
  python3 - "$w" "$out" "$sim_key" <<'EOF'
import json, sys
w, out, key = sys.argv[1:4]
if w == "train":
    with open(f"{out}/metrics.json") as f:
        print(json.load(f)["epochs"][0]["wall_s"])
else:
    with open(f"{out}/summary.json") as f:
        print(json.load(f)[key])
EOF
}

declare -A best
changes="$(git -C "$root" diff --quiet HEAD 2>/dev/null || echo ' + changes')"
echo "perf-guard: base $sha ($base) against the working tree at" \
  "$(git -C "$root" rev-parse --short HEAD)$changes, $repeat run(s) each, $sim_key" >&2
for w in "${workloads[@]}"; do
  for ((r = 1; r <= repeat; r++)); do
    order=(base head)
    ((r % 2)) || order=(head base)
    for side in "${order[@]}"; do
      dir="$base_dir"
      [[ "$side" == head ]] && dir="$head_dir"
      s="$(run_workload "$dir/apps/apical" "$w" "$tmp/$w-$side-$r")"
      rm -rf "$tmp/$w-$side-$r"
      echo "  $w $side run $r: $s s" >&2
      prev="${best[$w-$side]:-}"
      if [[ -z "$prev" ]] || python3 -c "import sys; sys.exit(not $s < $prev)"; then
        best[$w-$side]="$s"
      fi
    done
  done
done

echo
echo "| workload | base min s | head min s | head/base |"
echo "|---|---|---|---|"
status=0
for w in "${workloads[@]}"; do
  line="$(python3 -c "
b, h = ${best[$w-base]}, ${best[$w-head]}
r = h / b
print(f'| $w | {b:.3f} | {h:.3f} | {r:.2f}{\" (slower)\" if r > $limit else \"\"} |')
print(int(r > $limit))")"
  echo "${line%$'\n'*}"
  [[ "${line##*$'\n'}" == 1 ]] && status=1
done
if ((status)); then
  echo
  echo "perf-guard: a workload's head/base ratio exceeds $limit (base $sha)" >&2
fi
exit "$status"
