#!/usr/bin/env bash
# `apical simulate` under mpirun against one process: the same spike file,
# byte for byte, for R ranks of T threads; and the failures (ranks started
# differently, one rank failing, options a distributed run refuses) end
# every rank with a message naming the rank, without hanging.
#   simulate_mpi.sh APICAL MPIEXEC OUT CASE
# CASE: bench4 | brunel-c | stdp-balanced | failures
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
apical=$1 mpiexec=$2 out=$3 case=$4
rm -rf "$out"
mkdir -p "$out"
cd "$out"
# CI machines run tests as root; Open MPI refuses that unless told.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
# No network interfaces are needed between processes of one machine.
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
mpi() { timeout 120 "$mpiexec" --oversubscribe "$@"; }
fail() { echo "FAIL: $*" >&2; exit 1; }

# Runs preset $1 for $2 ms on one process, then on R x T (pairs in $3),
# comparing spikes.csv and the summary's counts.
same_spikes() {
  local preset=$1 ms=$2
  shift 2
  "$apical" simulate --preset "$preset" --duration "$ms" --output one >/dev/null
  [[ $(wc -l <one/spikes.csv) -gt 100 ]] || fail "$preset: too few spikes to compare"
  for rt in "$@"; do
    local r=${rt%x*} t=${rt#*x}
    mpi -n "$r" "$apical" simulate --preset "$preset" --duration "$ms" --threads "$t" \
      --force-threads --output "r$rt" >"r$rt.log" 2>&1 || { cat "r$rt.log"; fail "$preset $rt: exit status"; }
    cmp -s one/spikes.csv "r$rt/spikes.csv" || fail "$preset: ${r} ranks x ${t} threads: other spikes"
    for key in '"spikes"' '"synapses"' '"synaptic_events"' '"updates"'; do
      [[ "$(grep -m1 "$key" one/summary.json)" == "$(grep -m1 "$key" "r$rt/summary.json")" ]] ||
        fail "$preset $rt: $key differs"
    done
    grep -q "\"processes\": $r," "r$rt/summary.json" || fail "$preset $rt: processes"
    echo "$preset: $r ranks x $t threads: the same spikes"
  done
}

case $case in
  bench4) same_spikes brette-bench4 100 1x1 1x2 2x1 2x2 3x1 3x2 4x1 4x2 ;;
  brunel-c) same_spikes brunel-c 10 1x1 1x2 2x1 2x2 3x1 3x2 4x1 4x2 ;;
  stdp-balanced) same_spikes stdp-balanced 10 1x1 1x2 2x1 2x2 3x1 3x2 4x1 4x2 ;;
  failures)
    # Ranks started with other arguments: refused at the start.
    set +e
    mpi -n 1 "$apical" simulate --preset brette-bench4 --duration 10 --output a : \
      -n 1 "$apical" simulate --preset brette-bench4 --duration 20 --output a >mismatch.log 2>&1
    status=$?
    set -e
    [[ $status -ne 0 ]] || fail "ranks with other arguments: exit status 0"
    grep -q "rank 1 of 2 was started with other arguments than rank 0" mismatch.log ||
      { cat mismatch.log; fail "mismatch message"; }
    # Rank 0 alone fails (its output folder is a file) while rank 1 runs:
    # every rank ends, and the message names rank 0.
    : >not_a_folder
    set +e
    mpi -n 2 "$apical" simulate --preset brette-bench4 --duration 2000 --output not_a_folder \
      >one_fails.log 2>&1
    status=$?
    set -e
    [[ $status -ne 0 && $status -ne 124 ]] || { cat one_fails.log; fail "one rank failing: status $status"; }
    grep -q "error: rank 0: " one_fails.log || { cat one_fails.log; fail "one rank failing: message"; }
    [[ ! -e not_a_folder/summary.json ]] || fail "a summary after a failure"
    # What a distributed run refuses, with the reason.
    set +e
    mpi -n 2 "$apical" simulate --preset brette-bench4 --duration 10 --checkpoint c.bin \
      --output b >refused.log 2>&1
    status=$?
    set -e
    [[ $status -eq 2 ]] || fail "--checkpoint on 2 processes: status $status"
    grep -q "not available in a run on 2 processes" refused.log || fail "refusal message"
    [[ ! -e c.bin ]] || fail "a checkpoint was written"
    echo "failures: every rank ended, with the failed rank named"
    ;;
  *) fail "unknown case $case" ;;
esac
