#!/usr/bin/python3
"""Python vs C++ sleep on the MNIST control: the `sleep` program's sleep loop time (its
report "seconds") against sleepnet.sleep's on the same model, data, parameters and seed,
in the same run; checks the weights are bit-identical and prints the ratio.

  PYTHONPATH=build/release/python OPENBLAS_NUM_THREADS=1 /usr/bin/python3 bench/python_sleep.py \
      --sleep build/release/examples/sleep --model out/control --data data/mnist [--repeats 3]
"""

import argparse
import json
import os
import subprocess
import tempfile
import time

import numpy as np

import sleepnet


def cpp_sleep(args, out):
    report = os.path.join(out, "report.json")
    subprocess.run([args.sleep, "--model", args.model, "--out", os.path.join(out, "slept"), "--preset", args.preset,
                    "--dataset", "mnist", "--data", args.data, "--seed", str(args.seed), "--json", report],
                   check=True, capture_output=True)
    with open(report) as f:
        seconds = json.load(f)["report"]["seconds"]
    return seconds, sleepnet.load_model(os.path.join(out, "slept"))[0]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sleep", required=True, help="the built sleep example")
    ap.add_argument("--model", default="out/control")
    ap.add_argument("--data", default="data/mnist")
    ap.add_argument("--preset", default="mnist-fgsm")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()

    data = sleepnet.load_dataset("mnist", args.data, seed=args.seed)
    info = sleepnet.read_model_info(args.model)
    cpp_times, py_times, py_totals = [], [], []
    with tempfile.TemporaryDirectory() as out:
        for _ in range(args.repeats):  # interleaved, so both see the same machine load
            seconds, cpp_weights = cpp_sleep(args, out)
            cpp_times.append(seconds)
            weights = sleepnet.load_model(args.model)[0]
            t0 = time.perf_counter()
            report = sleepnet.sleep(weights, data["train_x"], sleepnet.preset(args.preset), seed=args.seed,
                                    network=info)
            py_totals.append(time.perf_counter() - t0)
            py_times.append(report["seconds"])
            same = all(np.array_equal(a, b) for a, b in zip(weights, cpp_weights))
            print(f"C++ sleep loop {seconds:.3f} s, Python sleep loop {report['seconds']:.3f} s "
                  f"(whole sleepnet.sleep call {py_totals[-1]:.3f} s), weights bit-identical: {same}")
            if not same:
                raise SystemExit("python_sleep: the weights differ from the C++ program's")
    c, p, t = min(cpp_times), min(py_times), min(py_totals)
    print(f"best of {args.repeats}: C++ {c:.3f} s, Python {p:.3f} s, ratio Python/C++ {p / c:.3f} "
          f"(whole call incl. normalization and checks {t:.3f} s)")


if __name__ == "__main__":
    main()
