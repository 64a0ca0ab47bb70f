#!/usr/bin/env bash
# A program refuses its outputs before any work and leaves nothing behind. Run by CTest
# (cases_strict_cli.cmake):
#   expect_refusal.sh REGEX [--absent PATH]... -- COMMAND...
# Each PATH is removed first. Passes when COMMAND exits non-zero, its output (stdout and
# stderr) matches the extended regular expression REGEX and no PATH exists afterwards.
set -uo pipefail
regex=$1
shift
absent=()
while [[ $# -gt 0 && $1 != -- ]]; do
  [[ $1 == --absent && $# -ge 2 ]] || { echo "usage: expect_refusal.sh REGEX [--absent PATH]... -- COMMAND..."; exit 2; }
  absent+=("$2")
  shift 2
done
shift
for p in "${absent[@]}"; do rm -rf -- "$p"; done
out=$("$@" 2>&1)
rc=$?
printf '%s\n' "$out"
[[ $rc -ne 0 ]] || { echo "FAIL: the program exited 0"; exit 1; }
grep -qE -- "$regex" <<< "$out" || { echo "FAIL: the output does not match: $regex"; exit 1; }
for p in "${absent[@]}"; do
  [[ ! -e $p ]] || { echo "FAIL: $p was written"; exit 1; }
done
echo "refused as expected, nothing written"
