#!/usr/bin/env bash
# Fault injection (issue 17): programs killed with SIGKILL at a series of moments leave only
# complete outputs, and tune resumes to the result of an uninterrupted run. Run by CTest
# (cases_fault_injection.cmake):
#   fault_injection_check.sh PARTS TRAIN TUNE REPRODUCE CONTINUAL OUT_DIR PYTHON MNIST_DIR
# PARTS: which programs to check, e.g. "tune reproduce" or "continual" (needs MNIST_DIR).
#
# The kill points are fixed lists of marks: tune is killed once its log holds K lines
# (TUNE_KILLS), reproduce and continual once K of their output files exist (FILE_KILLS) and
# at fixed fractions of their uninterrupted run's wall time (TIME_KILLS). The process is
# polled every 10 ms, so a kill lands at or just after its mark, wherever exactly (also
# inside an atomic write); what is checked holds wherever it lands. The script prints
# where each kill landed.
#   tune       killed again and again, resumed with the same --log until a run finishes by
#              itself; then its --out is byte-identical to the uninterrupted run's, and its
#              log is line for line the uninterrupted log once the candidates' "seconds"
#              (wall time) are left out, and the last run took candidates from the log.
#              After every kill the log reads back (a torn last line aside) and --out is
#              absent.
#   reproduce  (--dataset patches --quick) killed at every mark into one --out, then run to
#              the end there: after every kill each output file present is complete (the
#              same bytes as the uninterrupted run's; results.json the same JSON once
#              "command" and the wall times, keys "...seconds", are left out), and the final
#              rerun gives all of them.
#   continual  (tiny MNIST split; no resume: its outputs are written at the end) killed at
#              every mark: each output present is complete (its JSON and CSV files hold
#              wall times, so they are parsed, not compared byte for byte).
set -euo pipefail
parts=$1 train=$2 tune=$3 reproduce=$4 continual=$5 out=$6 python=$7 mnist=${8:-}
TUNE_KILLS=(0 1 2 9 40 41 100 101 150 199)  # log lines (0: at once)
FILE_KILLS=(1 3)                            # output files present
TIME_KILLS=(0.1 0.4 0.7 0.9 0.97)           # fractions of the uninterrupted run's time
rm -rf "$out"
mkdir -p "$out"
export OPENBLAS_NUM_THREADS=1 LC_ALL=C

# alive PID: the process runs (not a zombie); bash builtins only, to poll fast
alive() {
  local stat
  read -r stat 2> /dev/null < "/proc/$1/stat" || return 1
  set -- $stat
  [[ $3 != Z ]]
}

# run_killed_when CONDITION CMD...: runs CMD (output to $out/last.txt) and SIGKILLs it as
# soon as CONDITION (bash, polled every 10 ms) holds; returns 0 if the kill ended it, 1 if
# it ended by itself first (its exit status must then be 0 or 2, tune's "no feasible candidate")
run_killed_when() {
  local cond=$1
  shift
  "$@" > "$out/last.txt" 2>&1 &
  local pid=$! rc=0
  while alive "$pid"; do
    if eval "$cond"; then
      kill -9 "$pid" 2> /dev/null || true
      break
    fi
    sleep 0.01
  done
  { wait "$pid"; } 2> /dev/null || rc=$?
  [[ $rc -eq 137 ]] && return 0  # 128 + SIGKILL: it was running when the kill came
  [[ $rc -eq 0 || $rc -eq 2 ]] || { echo "FAIL: $* exited $rc without being killed"; exit 1; }
  return 1
}

now_us() { echo "${EPOCHREALTIME/./}"; }
past() { (($(now_us) >= $1)); }
lines_at_least() { [[ $1 -eq 0 ]] || { [[ -f $2 ]] && (($(wc -l < "$2") >= $1)); }; }
files_at_least() { [[ -d $2 ]] && (($(find "$2" -type f ! -name '*.tmp-*' | wc -l) >= $1)); }

# complete_like same|parse REF_DIR DIR: every file in DIR (temporary names of an interrupted
# atomic write aside) is an output of the uninterrupted run in REF_DIR and complete:
#   same   the same bytes; JSON the same once "command" and every "...seconds" key are left out
#   parse  (outputs holding wall times) JSON parses; CSV ends with a newline and has the
#          reference's number of rows, each with as many fields as the reference's first;
#          other files the same bytes
# prints how many files it checked
complete_like() {
  "$python" - "$@" << 'PY'
import json, os, sys
mode, ref, got = sys.argv[1:4]
def stripped(j):
    if isinstance(j, dict):
        return {k: stripped(v) for k, v in j.items() if k != "command" and not k.endswith("seconds")}
    if isinstance(j, list):
        return [stripped(v) for v in j]
    return j
def fields(line):
    return len(line.replace(",", " ").split())
n = 0
for root, _, files in os.walk(got):
    for f in files:
        p = os.path.join(root, f)
        rel = os.path.relpath(p, got)
        if ".tmp-" in rel:
            continue  # a temporary name of an atomic write (file or directory) cut short
        r = os.path.join(ref, rel)
        if not os.path.exists(r):
            sys.exit(f"FAIL: {p} is not an output of the uninterrupted run")
        if f.endswith(".json"):
            try:
                j = json.load(open(p))
            except ValueError as e:
                sys.exit(f"FAIL: {p} is not complete JSON ({e})")
            ok = mode == "parse" or stripped(j) == stripped(json.load(open(r)))
        elif mode == "same" or not f.endswith(".csv"):
            ok = open(p, "rb").read() == open(r, "rb").read()
        else:
            text, want = open(p).read(), open(r).read()
            rows = [l for l in text.split("\n")[:-1] if l and not l.startswith("#")]
            first = next(l for l in want.split("\n") if l and not l.startswith("#"))
            ok = text.endswith("\n") and len(rows) == len([l for l in want.split("\n")[:-1] if l and not l.startswith("#")]) \
                and all(fields(l) == fields(first) for l in rows)
        if not ok:
            sys.exit(f"FAIL: {p} is not the complete output (half written?)")
        n += 1
print(n)
PY
}

# --- tune: kill, resume with the same --log, compare ------------------------------------
if [[ " $parts " == *" tune "* ]]; then
"$train" --dataset patches --epochs 100 --seed 3 --out "$out/model" > "$out/train.txt" 2>&1 ||
  { cat "$out/train.txt"; exit 1; }
tune_args=(--model "$out/model" --dataset patches --seed 5 --budget 200 --population 8 --validation 4
           --objective-count 4 --max-drop 1 --threads 1 --objective fgsm --steps-range 20000 60000)
t0=$(now_us)
"$tune" "${tune_args[@]}" --out "$out/tune-ref.json" --log "$out/tune-ref.jsonl" --restart > "$out/tune-ref.txt" 2>&1 ||
  [[ $? -eq 2 ]]
echo "tune: uninterrupted run $((($(now_us) - t0) / 1000)) ms"
kills=0
finished=0
for k in "${TUNE_KILLS[@]}" never; do
  log=$out/tune.jsonl
  cond="lines_at_least $k $log"
  [[ $k == never ]] && cond=false
  if run_killed_when "$cond" "$tune" "${tune_args[@]}" --out "$out/tune.json" --log "$log"; then
    kills=$((kills + 1))
    [[ ! -e $out/tune.json ]] || { echo "FAIL: a killed tune wrote --out"; exit 1; }
    lines=0
    if [[ -e $log ]]; then
      lines=$("$python" - "$log" << 'PY'
import json, sys
text = open(sys.argv[1]).read()
lines = text.split("\n")
lines = lines[:-1]  # after the last newline: empty, or a torn line (dropped on resume)
for l in lines:
    json.loads(l)
print(len(lines))
PY
)
    fi
    echo "tune: killed at mark $k: the log holds $lines complete lines"
  else
    finished=1
    break
  fi
done
[[ $finished -eq 1 ]] || { echo "FAIL: tune never finished"; exit 1; }
# the last run resumed: it took what the killed runs had logged
grep -E "tune: 200 candidates \([1-9][0-9]* from the log\)" "$out/last.txt" ||
  { cat "$out/last.txt"; echo "FAIL: the last tune did not resume from the log"; exit 1; }
[[ $kills -ge 6 ]] || { echo "FAIL: only $kills kills landed in a running tune"; exit 1; }
cmp "$out/tune-ref.json" "$out/tune.json" || { echo "FAIL: the resumed --out differs"; exit 1; }
"$python" - "$out/tune-ref.jsonl" "$out/tune.jsonl" << 'PY'
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
    sys.exit(f"FAIL: the resumed log differs from the uninterrupted one ({len(a)} vs {len(b)} lines), first at line {n + 1}")
print(f"tune: after the kills the log ({len(b) - 1} candidates, seconds aside) and --out equal the uninterrupted run's")
PY
echo "tune: $kills kills"
fi

# kill_series same|parse NAME REF_DIR DIR CMD...: runs CMD (which writes DIR) once
# uninterrupted, keeps DIR as REF_DIR, then kills CMD at every mark of FILE_KILLS and at the
# moments TIME_KILLS (fractions of the uninterrupted run's wall time), from an empty DIR each
# time; after every kill each file in DIR must be complete (complete_like). Then CMD runs to
# the end in the DIR the last kill left and must give all of REF_DIR's files.
kill_series() {
  local mode=$1 name=$2 ref=$3 dir=$4 kills=0 k t0 us files cond
  shift 4
  t0=$(now_us)
  "$@" > "$out/$name-ref.txt" 2>&1 || { cat "$out/$name-ref.txt"; echo "FAIL: the uninterrupted $name failed"; exit 1; }
  us=$(($(now_us) - t0))
  mv "$dir" "$ref"  # the killed runs write the same DIR (results.json records the command line)
  for k in "${FILE_KILLS[@]}" "${TIME_KILLS[@]}"; do
    rm -rf "$dir"
    cond="files_at_least $k $dir"
    [[ $k == *.* ]] && cond="past $(($(now_us) + $(awk -v f="$k" -v u="$us" 'BEGIN { printf "%d", f * u }')))"
    if run_killed_when "$cond" "$@"; then
      kills=$((kills + 1))
      files=$(complete_like "$mode" "$ref" "$dir")
      echo "$name: killed at mark $k: $files complete files"
    fi
  done
  [[ $kills -ge 3 ]] || { echo "FAIL: only $kills kills landed in a running $name"; exit 1; }
  "$@" > "$out/$name-rerun.txt" 2>&1 || { cat "$out/$name-rerun.txt"; echo "FAIL: the $name rerun failed"; exit 1; }
  files=$(complete_like "$mode" "$ref" "$dir")
  local want
  want=$(find "$ref" -type f | wc -l)
  [[ $files -eq $want ]] || { echo "FAIL: the $name rerun wrote $files of the $want files"; exit 1; }
  echo "$name: $kills kills (uninterrupted run $((us / 1000)) ms); the rerun's $files files equal the uninterrupted run's"
}

if [[ " $parts " == *" reproduce "* ]]; then
  kill_series same reproduce "$out/repro-ref" "$out/repro" "$reproduce" --dataset patches --quick --seed 1 --no-plots \
    --out "$out/repro"
fi
if [[ " $parts " == *" continual "* ]]; then
  kill_series parse continual "$out/continual-ref" "$out/continual" "$continual" --dataset mnist --data "$mnist" \
    --trials 1 --seed 1 --classes-per-task 5 --train-count 1000 --per-task 200 --batch 10 --epochs 1 --hidden 50 50 \
    --first-steps 50 --more-steps 10 --test-count 200 --methods sequential sleep --no-plots --out "$out/continual"
fi
echo "fault injection: passed"
