#!/usr/bin/env bash
# The parameter search over MPI ranks gives the serial search's log and parameters, and a
# search whose rank is killed resumes to the same result. Run by CTest (cases_mpi.cmake):
#   mpi_tune_check.sh TUNE TUNE_MPI MPIEXEC MODEL OUT_DIR PYTHON NP...
# Compared: every log line with the candidates' "seconds" (wall time) left out, and the
# written parameter files.
set -euo pipefail
tune=$1 tune_mpi=$2 mpiexec=$3 model=$4 out=$5 python=$6
shift 6
rm -rf "$out"
mkdir -p "$out"
common=(--model "$model" --dataset patches --seed 5 --budget 240 --population 8 --validation 4 --objective-count 4
        --max-drop 1 --threads 1 --objective fgsm --steps-range 20000 60000)

same() {  # same LOG_A LOG_B PARAMS_A PARAMS_B
  "$python" - "$@" <<'PY'
import json, sys
def lines(path):
    out = []
    for line in open(path):
        j = json.loads(line)
        j.pop("seconds", None)
        out.append(j)
    return out
a, b = lines(sys.argv[1]), lines(sys.argv[2])
if a != b:
    n = next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
    sys.exit(f"logs differ: {sys.argv[1]} ({len(a)} lines) vs {sys.argv[2]} ({len(b)} lines), first at line {n + 1}")
if json.load(open(sys.argv[3])) != json.load(open(sys.argv[4])):
    sys.exit(f"parameter files differ: {sys.argv[3]} vs {sys.argv[4]}")
print(f"identical: {sys.argv[2]} ({len(b) - 1} candidates) and {sys.argv[4]}")
PY
}

"$tune" "${common[@]}" --out "$out/serial.json" --log "$out/serial.jsonl" --restart > "$out/serial.txt" 2>&1
for np in "$@"; do
  "$mpiexec" --oversubscribe -np "$np" "$tune_mpi" "${common[@]}" --out "$out/np$np.json" --log "$out/np$np.jsonl" \
    --restart > "$out/np$np.txt" 2>&1
  same "$out/serial.jsonl" "$out/np$np.jsonl" "$out/serial.json" "$out/np$np.json"
done

# kill rank 1 of a 2-rank search once some candidates are logged, then resume
"$mpiexec" --oversubscribe -np 2 "$tune_mpi" "${common[@]}" --out "$out/killed.json" --log "$out/killed.jsonl" \
  --restart > "$out/killed.txt" 2>&1 &
runner=$!
for _ in $(seq 1 600); do
  if [[ -f "$out/killed.jsonl" && $(wc -l < "$out/killed.jsonl") -ge 60 ]]; then break; fi
  sleep 0.02
done
victim=$(pgrep -f -n "^[^ ]*tune_mpi .*killed.jsonl" || true)
[[ -n "$victim" ]] || { echo "no tune_mpi rank to kill (the search ended first?)"; exit 1; }
kill -9 "$victim"
if wait "$runner"; then echo "the search with a killed rank exited 0"; exit 1; fi
logged=$(($(wc -l < "$out/killed.jsonl") - 1))
[[ ! -f "$out/killed.json" ]] || { echo "the killed search wrote its parameters"; exit 1; }
echo "killed a rank with $logged of 240 candidates logged"
"$mpiexec" --oversubscribe -np 2 "$tune_mpi" "${common[@]}" --out "$out/killed.json" --log "$out/killed.jsonl" \
  > "$out/resumed.txt" 2>&1
grep -q "240 candidates ($logged from the log)" "$out/resumed.txt" || { cat "$out/resumed.txt"; exit 1; }
same "$out/serial.jsonl" "$out/killed.jsonl" "$out/serial.json" "$out/killed.json"
