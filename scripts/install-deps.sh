#!/usr/bin/env bash
# Installs the Debian packages apical needs to build and test.
#   scripts/install-deps.sh          build + test dependencies
#   scripts/install-deps.sh --fuzz   also clang and its libFuzzer runtime
set -euo pipefail

# curl and ca-certificates: scripts/fetch-data.sh. pybind11-dev, python3-dev,
# python3-numpy: the Python module; python3-pytest, python3-h5py: its tests;
# python3-pynn (with python3-neo, python3-quantities, python3-lazyarray) and
# python3-csa (PyNN's CSAConnector): the PyNN backend's tests.
# libhdf5-dev: SONATA spike files. openmpi-bin, libopenmpi-dev: runs on several
# processes (mpirun) and their tests.
packages=(cmake make g++ libboost-dev libboost-program-options-dev libfmt-dev doctest-dev
          zlib1g-dev curl ca-certificates libhdf5-dev
          pybind11-dev python3-dev python3-numpy python3-pytest python3-h5py python3-pynn
          python3-csa openmpi-bin libopenmpi-dev)
if [[ "${1:-}" == "--fuzz" ]]; then
  packages+=(clang libclang-rt-14-dev)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [[ ${#missing[@]} -eq 0 ]]; then
  echo "install-deps: all packages present"
  exit 0
fi

sudo=""
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || { echo "install-deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  sudo="sudo"
fi
echo "install-deps: installing ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
