#!/usr/bin/env bash
# The main job on a fresh Debian 12 machine: installs what is missing, fetches the data,
# builds sleepnet (Release, examples only) and runs the quick reproduction.
#
# usage: sudo bash scripts/quickstart.sh
# Outputs go to out/repro-mnist-quick (results.json, CSV, PNG plots, the trained networks).
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

# The quick reproduction: control, defensively distilled, fine-tuned, slept and
# adversarially trained networks on MNIST (reduced sizes, printed on stderr), the paper's
# attacks, APGD and FMN, and the distortions, Table 1
# on stdout, results.json, CSV files and PNG plots in out/repro-mnist-quick.
mkdir -p out
need reproduce
say "reproducing the paper on MNIST (--quick, about 3 minutes on 2 idle cores)"
"$BIN/reproduce" --dataset mnist --data data/mnist --quick --seed 1 --out out/repro-mnist-quick
say "done: Table 1 above; results.json, CSV files and plots in out/repro-mnist-quick (docs/reproduce.md explains them)"
