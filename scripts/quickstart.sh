#!/usr/bin/env bash
# The main job on a fresh Debian 12 machine: installs what is missing, fetches the data,
# builds sleepnet (Release, examples only) and runs the quick reproduction.
#
# usage: sudo bash scripts/quickstart.sh
# Outputs go to out/ (the control network in out/control, results in out/*.json).
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO_ROOT"
export JOBS="${JOBS:-2}"

say() { printf '\n==== quickstart: %s\n' "$*"; }
die() { printf 'quickstart: error: %s\n' "$*" >&2; exit 1; }

say "installing missing dependencies"
bash scripts/install-deps.sh
say "fetching data"
bash scripts/fetch-data.sh "$REPO_ROOT/data"
say "building (Release, examples)"
bash scripts/build.sh release \
  -DSLEEPNET_BUILD_EXAMPLES=ON -DSLEEPNET_BUILD_TESTS=OFF -DSLEEPNET_BUILD_BENCH=OFF

BIN="build/release/examples"
need() {
  [[ -x "$BIN/$1" ]] || die "$BIN/$1 was not built: the '$1' example (examples/$1.cpp) is not in this checkout yet"
}

# Until the `reproduce` example lands, the quick job trains the control network on
# MNIST for 2 epochs, evaluates it, and sleeps it with the authors' mnist-fgsm preset.
mkdir -p out
need train
say "training the control network on MNIST (2 epochs)"
"$BIN/train" --dataset mnist --data data/mnist --epochs 2 --seed 1 --out out/control --json out/train.json
need evaluate
say "evaluating out/control on the MNIST test set"
"$BIN/evaluate" --model out/control --dataset mnist --data data/mnist
need sleep
say "sleeping out/control with the mnist-fgsm preset"
"$BIN/sleep" --model out/control --out out/slept --preset mnist-fgsm --dataset mnist --data data/mnist --seed 1 \
  --json out/sleep.json
say "done: control model in out/control (out/train.json), slept model in out/slept (out/sleep.json)"
