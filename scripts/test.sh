#!/usr/bin/env bash
# The test command: installs what is missing, fetches the data, then configures, builds
# and runs the whole CTest suite twice, then the brief fuzz runs:
#   release  build/release  Release, with the Python module (its pytest suite), the
#                           LibTorch example and tune over MPI ranks
#                           (-DSLEEPNET_PYTHON=ON -DSLEEPNET_TORCH=ON -DSLEEPNET_MPI=ON)
#   asan     build/asan     Debug + ASan/UBSan (-DSLEEPNET_SANITIZE=ON; benchmarks not built)
#   fuzz     build/fuzz     clang, -DSLEEPNET_FUZZ=ON: only the libFuzzer targets of fuzz/, each
#                           run for SLEEPNET_FUZZ_SECONDS (20) on a copy of its seed corpus
#                           (CTest label fuzz; docs/fuzzing.md)
# Exits non-zero if any step or test fails; the last line is a plain summary
# ("test.sh: N passed, M failed": CTest cases of all suites; a failed build counts as 1).
#
# usage: scripts/test.sh
# environment: JOBS (build and test parallelism, default 2)
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO_ROOT"
JOBS="${JOBS:-2}"
export JOBS

say() { printf '\n==== test: %s\n' "$*"; }

start=$SECONDS
say "installing missing dependencies"
bash scripts/install-deps.sh
say "fetching data"
bash scripts/fetch-data.sh "$REPO_ROOT/data"

total_passed=0
total_failed=0
failures=()
notes=()
SUITE_ENV=()   # extra environment for ctest (the sanitizer options)

# run_suite NAME BUILD_TYPE_FOR_build.sh [cmake args...]
run_suite() {
  local name="$1" type="$2"
  shift 2
  local build_dir="$REPO_ROOT/build/$type"
  local log="$build_dir/ctest-output.log"
  local t0=$SECONDS

  say "$name: configure + build"
  if ! bash scripts/build.sh "$type" "$@"; then
    failures+=("$name: build failed")
    total_failed=$((total_failed + 1))   # counted as one failure: no test could run
    return 0
  fi

  say "$name: ctest"
  local rc=0
  (cd "$build_dir" && env "${SUITE_ENV[@]}" ctest --output-on-failure --no-tests=error -j"$JOBS") 2>&1 | tee "$log" || rc=$?

  # ctest's closing line: "NN% tests passed, F tests failed out of T"
  local line failed=0 total=0
  line="$(grep -E '[0-9]+% tests passed, [0-9]+ tests? failed out of [0-9]+' "$log" | tail -n 1 || true)"
  if [[ -n "$line" ]]; then
    failed="$(sed -E 's/.* ([0-9]+) tests? failed out of ([0-9]+).*/\1/' <<<"$line")"
    total="$(sed -E 's/.* ([0-9]+) tests? failed out of ([0-9]+).*/\2/' <<<"$line")"
  fi
  if [[ -z "$line" || "$total" -eq 0 ]]; then
    failures+=("$name: ctest ran no tests")
    total_failed=$((total_failed + 1))
  fi
  total_passed=$((total_passed + total - failed))
  total_failed=$((total_failed + failed))
  if [[ $rc -ne 0 ]]; then
    failures+=("$name: ctest exit $rc ($failed of $total tests failed)")
    if [[ "$failed" -eq 0 && "$total" -ne 0 ]]; then
      total_failed=$((total_failed + 1))
    fi
  fi
  notes+=("$name: $((total - failed)) passed, $failed failed, $((SECONDS - t0)) s")
}

run_suite release release \
  -DSLEEPNET_BUILD_TESTS=ON -DSLEEPNET_BUILD_EXAMPLES=ON -DSLEEPNET_BUILD_BENCH=ON -DSLEEPNET_PYTHON=ON -DSLEEPNET_TORCH=ON -DSLEEPNET_MPI=ON

SUITE_ENV=(ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1)
run_suite asan asan \
  -DSLEEPNET_BUILD_TESTS=ON -DSLEEPNET_BUILD_EXAMPLES=ON -DSLEEPNET_BUILD_BENCH=OFF
SUITE_ENV=()

run_suite fuzz fuzz

say "summary ($((SECONDS - start)) s)"
for n in "${notes[@]}"; do printf '  %s\n' "$n"; done
for f in "${failures[@]}"; do printf '  FAILED %s\n' "$f"; done
printf 'test.sh: %d passed, %d failed\n' "$total_passed" "$total_failed"
if [[ ${#failures[@]} -ne 0 || $total_failed -ne 0 ]]; then
  exit 1
fi
