#!/usr/bin/env bash
# `apical train` under mpirun: a few mini-batches of the microcircuit on
# MNIST-shaped data shared by 2 processes give the weights, feedback and threshold
# offsets of one process, bit for bit; --resume continues on 2 processes.
#   train_mpi.sh APICAL MPIEXEC OUT
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
apical=$1 mpiexec=$2 out=$3
rm -rf "$out"
mkdir -p "$out"
cd "$out"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_btl=self,vader OMPI_MCA_btl_vader_single_copy_mechanism=none
# The launcher's own messages over the loopback interface, present on any
# machine (a container may have no other).
export OMPI_MCA_oob_tcp_if_include=lo
# A machine where the MPI launcher itself cannot start two processes (not
# apical's failure) reports the test as skipped (status 77), saying why.
if ! launcher_log=$(timeout 60 "$mpiexec" --oversubscribe -n 2 true 2>&1); then
  echo "SKIPPED: '$mpiexec -n 2 true' fails on this machine: $launcher_log" >&2
  exit 77
fi
# Sanitizer builds: what the MPI library keeps until exit is not a leak
# (its components stay loaded, and full stacks are taken, so that the
# suppressions can name them).
export OMPI_MCA_mca_base_component_disable_dlclose=1
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}fast_unwind_on_malloc=0"
export LSAN_OPTIONS="suppressions=$here/mpi_lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
fail() { echo "FAIL: $*" >&2; exit 1; }
# A small MNIST-shaped data set of its own (IDX files, gzip): digits drawn
# as noisy bars, one row of bars per class.
python3 - <<'PY'
import gzip, os, random, struct
random.seed(5)
os.makedirs("data/mnist", exist_ok=True)
def write(name, n):
    labels = bytes(random.randrange(10) for _ in range(n))
    images = bytearray()
    for c in labels:
        for y in range(28):
            for x in range(28):
                on = (y // 3) == c and 3 <= x < 25
                images.append(min(255, (200 if on else 0) + random.randrange(40)))
    with gzip.open(f"data/mnist/{name}-images-idx3-ubyte.gz", "wb") as f:
        f.write(struct.pack(">IIII", 0x803, n, 28, 28) + bytes(images))
    with gzip.open(f"data/mnist/{name}-labels-idx1-ubyte.gz", "wb") as f:
        f.write(struct.pack(">II", 0x801, n) + labels)
write("train", 96)
write("t10k", 32)
PY
args=(train --dataset mnist --data-dir "$PWD/data" --algo microcircuit --arch 784-30-10
      --train-samples 96 --test-samples 32 --batch-size 32
      --microcircuit.homeostasis_rate_mv 0.05)

# The model part of a checkpoint (everything from the seed to the threshold
# offsets; the configuration before it names the output folder, and the
# history after it holds wall times).
model_bytes() {
  python3 - "$1" <<'PY'
import struct, sys
b = open(sys.argv[1], "rb").read()
at = 8 + 4 + 8  # magic, version, payload length
def u64():
    global at
    v = struct.unpack_from("<Q", b, at)[0]; at += 8; return v
def skip_string(): global at; n = u64(); at += n
def skip_array(size): global at; n = u64(); at += n * size
def skip_matrices():
    global at
    for _ in range(u64()):
        r, c = u64(), u64(); at += 4 * r * c
for _ in range(4): skip_string()          # kind, dataset, algo, arch
u64(); skip_string()                      # config hash, config
start = at
u64(); u64()                              # seed, epochs done
skip_array(4)                             # input means
skip_matrices()                           # weights
for _ in range(u64()): skip_array(4)      # biases
skip_matrices()                           # velocity
for _ in range(u64()): skip_array(4)      # bias velocity
skip_matrices()                           # feedback
for _ in range(u64()): skip_array(8)      # thresholds
sys.stdout.write(b[start:at].hex())
PY
}

"$apical" "${args[@]}" --epochs 1 --output one >one.log 2>&1 || { cat one.log; fail "one process"; }
timeout 300 "$mpiexec" --oversubscribe -n 2 "$apical" "${args[@]}" --epochs 1 --output two \
  >two.log 2>&1 || { cat two.log; fail "two processes"; }
a=$(model_bytes one/checkpoint.bin)
b=$(model_bytes two/checkpoint.bin)
[[ ${#a} -gt 100000 ]] || fail "no weights read from one/checkpoint.bin"
[[ "$a" == "$b" ]] || fail "2 processes trained other weights than one"
echo "1 epoch: the same weights on 1 and 2 processes"
# Only rank 0 prints.
[[ $(grep -c "^epoch 1/1" two.log) -eq 1 ]] || { cat two.log; fail "epoch lines"; }

# Resumed on 2 processes: the weights of an uninterrupted single run.
"$apical" "${args[@]}" --epochs 2 --output one_straight >/dev/null 2>&1
timeout 300 "$mpiexec" --oversubscribe -n 2 "$apical" train --resume two/checkpoint.bin \
  --epochs 2 >resume.log 2>&1 || { cat resume.log; fail "resume on two processes"; }
a=$(model_bytes one_straight/checkpoint.bin)
b=$(model_bytes two/checkpoint.bin)
[[ ${#a} -gt 100000 && "$a" == "$b" ]] ||
  fail "resumed on 2 processes: other weights than one uninterrupted run"
echo "resumed on 2 processes: the weights of one uninterrupted run"

# The reference trainers run on one process, and say so.
set +e
timeout 120 "$mpiexec" --oversubscribe -n 2 "$apical" train --dataset mnist --data-dir "$PWD/data" \
  --algo bp --train-samples 32 --output bp >bp.log 2>&1
status=$?
set -e
[[ $status -eq 2 ]] || { cat bp.log; fail "bp on 2 processes: status $status"; }
grep -q "only the microcircuit trains" bp.log || { cat bp.log; fail "bp message"; }
echo "the reference trainers are refused on 2 processes"
