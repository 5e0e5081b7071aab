#!/usr/bin/env bash
# Fuzzes every reader of files a user may hand apical with libFuzzer: builds the fuzz targets with
# clang, AddressSanitizer and UndefinedBehaviorSanitizer, writes a small seed
# corpus of valid files, and runs each target for SECONDS (default 60).
#
# usage: scripts/fuzz.sh [SECONDS]
# environment: APICAL_FUZZ_BUILD  build directory (default: build-fuzz)
#              CXX                a clang++ (default: clang++)
#
# Targets: fuzz_idx (IDX, plain or gzip), fuzz_cifar_batch (CIFAR-10 batch
# and class-name list), fuzz_cifar_tarball (gzip + tar + the CIFAR loader),
# fuzz_ini (configuration files), fuzz_train_checkpoint (training
# checkpoints), fuzz_sim_checkpoint (simulation checkpoints: raw files, and
# payloads under a valid checksum, random or a valid one with bytes
# overwritten), fuzz_expression (the probability expressions of
# distance-dependent connections).
# A crash leaves its input under BUILD/fuzz-artifacts/; reproduce it with
# BUILD/datasets/<target> <file>, fix it, and add the input as a test case in
# tests/datasets/.
set -euo pipefail

seconds=${1:-60}
[[ $seconds =~ ^[0-9]+$ ]] || {
  echo "usage: $0 [SECONDS]" >&2
  exit 2
}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${APICAL_FUZZ_BUILD:-$root/build-fuzz}
cxx=${CXX:-clang++}
command -v "$cxx" >/dev/null || {
  echo "fuzz: needs clang++ with libFuzzer (Debian: apt-get install clang libclang-rt-dev)" >&2
  exit 1
}
targets=(fuzz_idx fuzz_cifar_batch fuzz_cifar_tarball fuzz_ini fuzz_train_checkpoint
         fuzz_sim_checkpoint fuzz_expression)
declare -A target_dir=([fuzz_idx]=datasets [fuzz_cifar_batch]=datasets
                       [fuzz_cifar_tarball]=datasets [fuzz_ini]=config
                       [fuzz_train_checkpoint]=learning/training [fuzz_sim_checkpoint]=engine
                       [fuzz_expression]=engine)

cmake -S "$root" -B "$build" -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DAPICAL_FUZZ=ON -DAPICAL_SANITIZE=ON -DAPICAL_BUILD_TESTS=OFF >/dev/null
cmake --build "$build" --target "${targets[@]}" -j "$(nproc)"

# Seed corpus: small valid inputs of each format, plain and compressed.
seeds=$build/fuzz-seeds
rm -rf "$seeds"
mkdir -p "$seeds"/{fuzz_idx,fuzz_cifar_batch,fuzz_cifar_tarball,fuzz_ini,fuzz_train_checkpoint,fuzz_sim_checkpoint,fuzz_expression}
printf '0.5 * exp(-d / 3)' >"$seeds/fuzz_expression/exp"
printf 'where((d > 1) & ~(d < 0.5), np.maximum(d, 2) ** -1, 7 // 2 %% 3)' >"$seeds/fuzz_expression/where"
cp "$root"/examples/*/*.ini "$seeds/fuzz_ini/" 2>/dev/null || true
printf 'APTRAIN' >"$seeds/fuzz_train_checkpoint/magic"
printf '\x02\x00\x00\x00\x00' >"$seeds/fuzz_sim_checkpoint/patch"
idx=$seeds/fuzz_idx
printf '\x00\x00\x08\x01\x00\x00\x00\x04\x00\x01\x09\x05' >"$idx/labels"
{
  printf '\x00\x00\x08\x03\x00\x00\x00\x02\x00\x00\x00\x03\x00\x00\x00\x03'
  head -c 18 /dev/urandom
} >"$idx/images"
gzip -n -c "$idx/labels" >"$idx/labels.gz"
gzip -n -c "$idx/images" >"$idx/images.gz"
record() { # LABEL: one 3073-byte CIFAR record
  printf "\\x0$1"
  head -c 3072 /dev/zero | tr '\0' "\\$((100 + $1))"
}
batch=$seeds/fuzz_cifar_batch
{
  record 3
  record 9
} >"$batch/two.bin"
gzip -n -c "$batch/two.bin" >"$batch/two.bin.gz"
printf 'airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n' >"$batch/meta.txt"
tree=$(mktemp -d)
trap 'rm -rf "$tree"' EXIT
mkdir -p "$tree/cifar-10-batches-bin"
cp "$batch/meta.txt" "$tree/cifar-10-batches-bin/batches.meta.txt"
for k in 1 2 3 4 5; do record "$k" >"$tree/cifar-10-batches-bin/data_batch_$k.bin"; done
record 0 >"$tree/cifar-10-batches-bin/test_batch.bin"
tar --format=ustar --sort=name --owner=0 --group=0 --mtime=2009-01-01 -C "$tree" \
  -czf "$seeds/fuzz_cifar_tarball/cifar.tar.gz" cifar-10-batches-bin
tar --format=ustar -C "$tree" -cf "$seeds/fuzz_cifar_tarball/plain.tar" cifar-10-batches-bin

status=0
for t in "${targets[@]}"; do
  corpus=$build/fuzz-corpus/$t
  artifacts=$build/fuzz-artifacts/$t
  mkdir -p "$corpus" "$artifacts"
  echo "fuzz: $t for ${seconds}s"
  if ! "$build/${target_dir[$t]}/$t" -max_total_time="$seconds" -max_len=65536 -rss_limit_mb=2048 \
    -timeout=10 -print_final_stats=1 -artifact_prefix="$artifacts/" "$corpus" "$seeds/$t" \
    >"$build/fuzz-$t.log" 2>&1; then
    status=1
    echo "fuzz: $t FAILED; see $build/fuzz-$t.log and the input in $artifacts/" >&2
    grep -E "ERROR|SUMMARY" "$build/fuzz-$t.log" | head -5 >&2 || true
  else
    grep -E "^Done [0-9]+ runs|stat::peak_rss_mb" "$build/fuzz-$t.log" | sed 's/^/  /'
  fi
done
exit "$status"
