#!/usr/bin/env bash
# Configures and builds sleepnet (tests, examples, benchmarks) in build/<TYPE>.
#
# usage: scripts/build.sh [TYPE] [extra cmake configure arguments...]
#   TYPE   release (default)  -> build/release, CMAKE_BUILD_TYPE=Release
#          debug              -> build/debug,   CMAKE_BUILD_TYPE=Debug
#          asan               -> build/asan,    Debug with -DSLEEPNET_SANITIZE=ON (ASan + UBSan)
#          fuzz               -> build/fuzz,    clang (CC=clang CXX=clang++), -DSLEEPNET_FUZZ=ON: only
#                                the libFuzzer targets of fuzz/ and their brief CTest runs
# environment: JOBS (parallel build jobs, default 2)
set -euo pipefail

say() { printf 'build: %s\n' "$*"; }
die() { printf 'build: error: %s\n' "$*" >&2; exit 1; }

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TYPE="${1:-release}"
[[ $# -gt 0 ]] && shift
JOBS="${JOBS:-2}"

case "$TYPE" in
  release) BUILD_DIR="$REPO_ROOT/build/release"; ARGS=(-DCMAKE_BUILD_TYPE=Release -DSLEEPNET_SANITIZE=OFF) ;;
  debug)   BUILD_DIR="$REPO_ROOT/build/debug";   ARGS=(-DCMAKE_BUILD_TYPE=Debug -DSLEEPNET_SANITIZE=OFF) ;;
  asan)    BUILD_DIR="$REPO_ROOT/build/asan";    ARGS=(-DCMAKE_BUILD_TYPE=Debug -DSLEEPNET_SANITIZE=ON) ;;
  fuzz)    BUILD_DIR="$REPO_ROOT/build/fuzz";    ARGS=(-DCMAKE_BUILD_TYPE=Release -DSLEEPNET_FUZZ=ON
             -DCMAKE_CXX_COMPILER=clang++ -DSLEEPNET_BUILD_TESTS=OFF -DSLEEPNET_BUILD_EXAMPLES=OFF
             -DSLEEPNET_BUILD_BENCH=OFF)
           export CC=clang CXX=clang++ ;;
  -h|--help) sed -n '2,10p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) die "unknown build type '$TYPE' (use release, debug, asan or fuzz)" ;;
esac

command -v cmake >/dev/null 2>&1 || die "cmake not found; run: sudo bash scripts/install-deps.sh"

say "configuring $TYPE in $BUILD_DIR"
cmake -S "$REPO_ROOT" -B "$BUILD_DIR" "${ARGS[@]}" "$@" \
  || die "cmake configure failed ($TYPE); missing packages? run: sudo bash scripts/install-deps.sh"
say "building $TYPE with $JOBS jobs"
cmake --build "$BUILD_DIR" -j"$JOBS" || die "build failed ($TYPE)"
say "built $TYPE in $BUILD_DIR"
