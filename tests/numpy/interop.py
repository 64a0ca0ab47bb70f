#!/usr/bin/env python3
"""numpy interoperability of sleepnet model directories (see include/sleepnet/nn/io.hpp).

Three checks, each a CTest case declared in tests/cases_numpy.cmake:

  numpy-writes    numpy writes model directories (all the options model.json has) and
                  feature files; the built `evaluate` must predict exactly what a numpy
                  forward pass predicts, and print a consistent accuracy line.
  sleepnet-writes the built `train` writes model directories; numpy must read them
                  (json + np.load), find the documented keys, shapes (out, in) and dtype,
                  and its forward pass must predict exactly what `evaluate` predicts.
  corrupt         `evaluate` on broken files (truncated, wrong shape, unknown
                  format_version, NaN, ...) must exit non-zero with an error on stderr
                  naming the file, and write no predictions.

usage: interop.py CHECK --evaluate EXE [--train EXE] --workdir DIR

Only the standard library and numpy. Deterministic (fixed seeds). The work directory is
emptied first and left behind for inspection.
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time

try:
    import numpy as np
except ImportError:
    sys.stderr.write(
        "interop.py: error: this Python (%s) has no numpy. Run scripts/install-deps.sh "
        "(installs python3-numpy) or set SLEEPNET_PYTHON to a Python with numpy, then "
        "re-run cmake.\n" % sys.executable)
    sys.exit(1)

ACCURACY_LINE = re.compile(r"^test accuracy (\d+\.\d{4}) \((\d+) / (\d+), (float32|float64)\)$", re.M)
SANITIZER_MARKS = ("AddressSanitizer", "LeakSanitizer", "runtime error:", "terminate called", "Segmentation fault")
TIMEOUT = 300  # seconds per program run (sanitizer builds are slow)


class CheckFailed(Exception):
    pass


def require(cond, msg):
    if not cond:
        raise CheckFailed(msg)


def log(msg):
    print(msg, flush=True)


def run(cmd):
    """Runs a program, returns (returncode, stdout, stderr)."""
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True,
                       timeout=TIMEOUT)
    return p.returncode, p.stdout, p.stderr


def run_ok(cmd):
    rc, out, err = run(cmd)
    if rc != 0:
        raise CheckFailed("command failed (exit %d): %s\n--- stdout\n%s--- stderr\n%s" %
                          (rc, " ".join(cmd), out, err))
    for mark in SANITIZER_MARKS:
        require(mark not in err, "sanitizer/runtime report from %s:\n%s" % (" ".join(cmd), err))
    return out, err


# ---------------------------------------------------------------------------------------
# numpy side of the format

def np_dtype(name):
    return {"float32": np.float32, "float64": np.float64}[name]


def read_model(d):
    """Reads a model directory with json + np.load only, applying io.hpp's defaults."""
    with open(os.path.join(d, "model.json")) as f:
        meta = json.load(f)
    sizes = [int(s) for s in meta["layer_sizes"]]
    w1 = np.load(os.path.join(d, "W1.npy"), allow_pickle=False)
    dtype = meta.get("dtype") or ("float64" if w1.dtype == np.float64 else "float32")
    model = {
        "sizes": sizes,
        "hidden": meta.get("hidden_activation", "relu"),
        "output": meta.get("output_activation", "relu"),
        "bias": bool(meta.get("bias", False)),
        "dropout": float(meta.get("dropout", 0.0)),
        "dropout_mode": meta.get("dropout_mode", "scale_at_test"),
        "dtype": dtype,
        "W": [],
        "b": [],
    }
    t = np_dtype(dtype)
    for l in range(len(sizes) - 1):
        # the reader converts every file to the model's precision
        model["W"].append(np.load(os.path.join(d, "W%d.npy" % (l + 1)), allow_pickle=False).astype(t))
        if model["bias"]:
            model["b"].append(np.load(os.path.join(d, "b%d.npy" % (l + 1)), allow_pickle=False).astype(t))
    return model


def forward(model, x, t=None):
    """Test-mode forward pass; returns (z_L, a_L). Computes in dtype t (default: the
    model's): z_l = a_{l-1} W_l^T + b_l; hidden activation, then times (1 - dropout) when
    dropout_mode is scale_at_test; output activation on the last layer."""
    t = t or np_dtype(model["dtype"])
    a = np.asarray(x, dtype=t)
    L = len(model["W"])
    scale = 1.0 - model["dropout"] if model["dropout_mode"] == "scale_at_test" else 1.0
    z = None
    for l in range(L):
        z = a @ model["W"][l].astype(t).T
        if model["bias"]:
            z = z + model["b"][l].astype(t)
        act = model["hidden"] if l + 1 < L else model["output"]
        a = np.maximum(z, t(0)) if act == "relu" else z.copy()
        if l + 1 < L and model["dropout"] > 0.0:
            a = a * t(scale)
    return z, a


def predict(model, x):
    """Prediction = argmax of the last PRE-activation, first index on ties."""
    z, _ = forward(model, x)
    return np.argmax(z, axis=1)


def clear_margin(model, x):
    """Rows whose top-2 logits (computed in float64) are far apart compared with the
    rounding error any summation order could make: on these rows BLAS and numpy must pick
    the same class. The error bound scales with M_L, the logits of the same pass run on
    absolute values (|x|, |W|, |b|)."""
    z, _ = forward(model, x, np.float64)
    mag = np.abs(np.asarray(x, dtype=np.float64))
    L = len(model["W"])
    scale = 1.0 - model["dropout"] if model["dropout_mode"] == "scale_at_test" else 1.0
    for l in range(L):
        mag = mag @ np.abs(model["W"][l].astype(np.float64)).T
        if model["bias"]:
            mag = mag + np.abs(model["b"][l].astype(np.float64))
        if l + 1 < L and model["dropout"] > 0.0:
            mag = mag * scale
    rel = 1e-4 if model["dtype"] == "float32" else 1e-12
    order = np.argsort(-z, axis=1, kind="stable")
    rows = np.arange(z.shape[0])
    if z.shape[1] == 1:
        return np.ones(z.shape[0], dtype=bool)
    i1, i2 = order[:, 0], order[:, 1]
    gap = z[rows, i1] - z[rows, i2]
    return gap > rel * (mag[rows, i1] + mag[rows, i2])


def save_npy(path, a, fortran=False):
    np.save(path, np.asfortranarray(a) if fortran else np.ascontiguousarray(a), allow_pickle=False)


def write_model(d, meta, W, b, w_file_dtypes=None, fortran=()):
    os.makedirs(d)
    with open(os.path.join(d, "model.json"), "w") as f:
        json.dump(meta, f, indent=2)
    for l, w in enumerate(W):
        ft = (w_file_dtypes or {}).get(l, w.dtype)
        save_npy(os.path.join(d, "W%d.npy" % (l + 1)), w.astype(ft), fortran=l in fortran)
    for l, v in enumerate(b):
        save_npy(os.path.join(d, "b%d.npy" % (l + 1)), v)


def write_features(d, x_test, y_test, x_train=None, y_train=None, label_dtype=np.int64, label_2d=False):
    os.makedirs(d)
    if x_train is None:
        x_train = x_test[:5]
        y_train = y_test[:5]

    def labels(y):
        y = np.asarray(y).astype(label_dtype)
        return y.reshape(-1, 1) if label_2d else y

    save_npy(os.path.join(d, "x_train.npy"), x_train)
    save_npy(os.path.join(d, "y_train.npy"), labels(y_train))
    save_npy(os.path.join(d, "x_test.npy"), x_test)
    save_npy(os.path.join(d, "y_test.npy"), labels(y_test))


def evaluate(exe, model_dir, data_dir, pred_file):
    """Runs `evaluate`, returns (predictions, parsed accuracy line)."""
    out, _ = run_ok([exe, "--model", model_dir, "--dataset", "features", "--data", data_dir,
                     "--predictions", pred_file])
    m = ACCURACY_LINE.findall(out)
    require(len(m) == 1, "evaluate printed no (or more than one) accuracy line:\n%s" % out)
    acc, correct, total, dtype = m[0]
    pred = np.load(pred_file, allow_pickle=False)
    require(pred.dtype == np.int64, "%s has dtype %s, expected int64" % (pred_file, pred.dtype))
    require(pred.ndim == 1, "%s has shape %s, expected (N,)" % (pred_file, pred.shape))
    return pred, {"acc": acc, "correct": int(correct), "total": int(total), "dtype": dtype}


def compare(name, model, x, y, pred, line, expect_dtype):
    """Exact comparison of evaluate's predictions and accuracy line with numpy's."""
    ref = predict(model, x)
    require(pred.shape == ref.shape, "%s: evaluate wrote %s predictions, numpy has %s" %
            (name, pred.shape, ref.shape))
    bad = np.flatnonzero(pred != ref)
    if bad.size:
        z, _ = forward(model, x)
        rows = "\n".join("  row %d: evaluate %d, numpy %d, numpy z_L = %s" %
                         (i, pred[i], ref[i], np.array2string(z[i], precision=6)) for i in bad[:5])
        raise CheckFailed("%s: %d of %d predictions differ from numpy's argmax (first ones below)\n%s" %
                          (name, bad.size, ref.size, rows))
    correct = int(np.sum(ref == y))
    total = int(ref.size)
    require(line["correct"] == correct and line["total"] == total,
            "%s: evaluate says %d / %d correct, numpy counts %d / %d" %
            (name, line["correct"], line["total"], correct, total))
    require(line["acc"] == "%.4f" % (correct / total),
            "%s: evaluate prints accuracy %s, %d / %d is %.4f" % (name, line["acc"], correct, total, correct / total))
    require(line["dtype"] == expect_dtype, "%s: evaluate computed in %s, expected %s" %
            (name, line["dtype"], expect_dtype))
    return ref


# ---------------------------------------------------------------------------------------
# 1. numpy writes, sleepnet reads

def random_net(rng, sizes, dtype, bias):
    t = np_dtype(dtype)
    W, b = [], []
    for l in range(len(sizes) - 1):
        fan_in = sizes[l]
        W.append((rng.standard_normal((sizes[l + 1], fan_in)) * np.sqrt(2.0 / fan_in)).astype(t))
        if bias:
            v = 0.2 * rng.standard_normal(sizes[l + 1])
            b.append(v.astype(t))
    return W, b


def check_numpy_writes(args):
    rng = np.random.default_rng(20200426)
    work = args.workdir

    def rsizes(layers):
        return [int(rng.integers(3, 40))] + [int(rng.integers(4, 33)) for _ in range(layers - 1)] + \
               [int(rng.integers(2, 11))]

    # name, weight layers, dtype, output, bias, dropout, mode, extra (what is special)
    specs = [
        dict(name="one_layer_f32_relu", layers=1, dtype="float32", output="relu", bias=False, dropout=0.0),
        dict(name="one_layer_f64_linear_bias", layers=1, dtype="float64", output="linear", bias=True, dropout=0.0),
        dict(name="three_f32_relu_bias_drop_scale", layers=3, dtype="float32", output="relu", bias=True,
             dropout=0.2, mode="scale_at_test", neg=True),
        dict(name="four_f64_linear_bias_drop_inverted", layers=4, dtype="float64", output="linear", bias=True,
             dropout=0.2, mode="inverted"),
        dict(name="four_f32_linear_bias_drop_scale", layers=4, dtype="float32", output="linear", bias=True,
             dropout=0.2, mode="scale_at_test"),
        dict(name="three_f64_relu_bias_drop_inverted", layers=3, dtype="float64", output="relu", bias=True,
             dropout=0.2, mode="inverted", neg=True),
        dict(name="three_f64_dtype_omitted_defaults", layers=3, dtype="float64", output=None, bias=True,
             dropout=0.2, mode=None, omit_dtype=True, neg=True),
        dict(name="two_f32_minimal_json", layers=2, dtype="float32", output=None, bias=False, dropout=0.0,
             minimal=True),
        dict(name="four_f32_nobias_drop_scale", layers=4, dtype="float32", output="relu", bias=False,
             dropout=0.2, mode="scale_at_test"),
        dict(name="three_f64_hidden_linear", layers=3, dtype="float64", output="linear", bias=True, dropout=0.2,
             mode="scale_at_test", hidden="linear"),
        dict(name="two_f32_fortran_and_f64_files", layers=2, dtype="float32", output="relu", bias=True,
             dropout=0.2, mode="scale_at_test", fortran=(1,), file_f64=(0,), neg=True),
    ]
    label_formats = [(np.int64, False), (np.int32, True), (np.uint8, False), (np.int16, True)]
    n_test = 300
    total_rows = 0
    neg_rows = 0  # rows of relu-output models whose logits are all negative
    for k, s in enumerate(specs):
        sizes = rsizes(s["layers"])
        t = np_dtype(s["dtype"])
        W, b = random_net(rng, sizes, s["dtype"], s["bias"])
        cand = rng.standard_normal((3 * n_test, sizes[0]))
        if k % 2 == 0:
            cand = np.maximum(cand, 0.0)  # ReLU-like features
        cand = cand.astype(t)
        if s["bias"]:
            # centre the logits so that no class dominates, and for "neg" shift them down
            # until about 40% of the rows have only negative logits: there argmax z_L and
            # argmax relu(z_L) differ
            probe = {"sizes": sizes, "hidden": s.get("hidden", "relu"), "output": "linear", "bias": True,
                     "dropout": s["dropout"], "dropout_mode": s.get("mode") or "scale_at_test",
                     "dtype": s["dtype"], "W": W, "b": b}
            z, _ = forward(probe, cand, np.float64)
            shift = z.mean(axis=0)
            if s.get("neg"):
                shift += np.quantile((z - shift).max(axis=1), 0.4)
            b[-1] = (b[-1] - shift).astype(t)
        if s.get("minimal"):
            meta = {"format_version": 1, "layer_sizes": sizes}
        else:
            meta = {"format": "sleepnet-model", "format_version": 1, "layer_sizes": sizes,
                    "hidden_activation": s.get("hidden", "relu"), "bias": s["bias"], "dropout": s["dropout"],
                    "dtype": s["dtype"], "exported_by": "tests/numpy/interop.py"}  # unknown keys are ignored
            if s["output"] is not None:
                meta["output_activation"] = s["output"]
            if s.get("mode") is not None:
                meta["dropout_mode"] = s["mode"]
            if s.get("omit_dtype"):
                del meta["dtype"]
        mdir = os.path.join(work, s["name"], "model")
        write_model(mdir, meta, W, b, w_file_dtypes={l: np.float64 for l in s.get("file_f64", ())},
                    fortran=s.get("fortran", ()))
        model = read_model(mdir)
        require(model["dtype"] == s["dtype"], "%s: numpy reader deduced dtype %s" % (s["name"], model["dtype"]))
        keep = clear_margin(model, cand)
        x = cand[keep][:n_test]
        require(x.shape[0] == n_test, "%s: only %d of %d candidate rows have a clear top-2 margin" %
                (s["name"], keep.sum(), cand.shape[0]))
        dropped = int(np.sum(~keep[:np.flatnonzero(keep)[n_test - 1] + 1]))
        ref = predict(model, x)
        # labels: 60% numpy's prediction, the rest random, so the accuracy is not trivial
        y = rng.integers(0, sizes[-1], n_test)
        agree = rng.random(n_test) < 0.6
        y[agree] = ref[agree]
        ldt, l2d = label_formats[k % len(label_formats)]
        ddir = os.path.join(work, s["name"], "data")
        write_features(ddir, x, y, label_dtype=ldt, label_2d=l2d)
        pred, line = evaluate(args.evaluate, mdir, ddir, os.path.join(work, s["name"], "pred.npy"))
        compare(s["name"], model, x, y, pred, line, s["dtype"])
        z, _ = forward(model, x)
        n_neg = int(np.sum(z.max(axis=1) < 0)) if model["output"] == "relu" else 0
        neg_rows += n_neg
        total_rows += n_test
        log("ok  %-36s sizes %-18s %s  %d classes predicted, accuracy %s, %d rows with all logits < 0, "
            "%d near-tie rows left out" % (s["name"], "-".join(map(str, sizes)), s["dtype"], len(np.unique(pred)),
                                           line["acc"], n_neg, dropped))
        require(len(np.unique(pred)) >= 2, "%s: predictions are constant; the comparison would be weak" % s["name"])
    require(neg_rows >= 30, "too few rows with all-negative logits (%d) to tell z_L from a_L" % neg_rows)

    # exact ties: small integers make every sum exact in any order; output rows 0 and 1 (and
    # 2 and 3) of W2 are equal, so z_L ties often; the first index must win.
    name = "ties_first_index_wins"
    sizes = [6, 8, 5]
    W1 = rng.integers(-2, 3, (8, 6)).astype(np.float32)
    W2 = rng.integers(-2, 3, (5, 8)).astype(np.float32)
    W2[1] = W2[0]
    W2[3] = W2[2]
    b1 = rng.integers(-1, 2, 8).astype(np.float32)
    b2 = np.array([0, 0, 1, 1, -1], dtype=np.float32)
    meta = {"format_version": 1, "layer_sizes": sizes, "output_activation": "relu", "bias": True,
            "dropout": 0.5, "dropout_mode": "scale_at_test", "dtype": "float32"}
    mdir = os.path.join(work, name, "model")
    write_model(mdir, meta, [W1, W2], [b1, b2])
    model = read_model(mdir)
    x = rng.integers(0, 3, (200, 6)).astype(np.float32)
    z, _ = forward(model, x)
    top = z.max(axis=1, keepdims=True)
    ties = int(np.sum((z == top).sum(axis=1) > 1))
    require(ties >= 50, "%s: only %d tied rows" % (name, ties))
    y = rng.integers(0, 5, 200)
    ddir = os.path.join(work, name, "data")
    write_features(ddir, x, y)
    pred, line = evaluate(args.evaluate, mdir, ddir, os.path.join(work, name, "pred.npy"))
    compare(name, model, x, y, pred, line, "float32")
    log("ok  %-36s %d of 200 rows with tied maxima" % (name, ties))
    log("numpy-writes: %d models, %d predictions, all equal to numpy's" % (len(specs) + 1, total_rows + 200))


# ---------------------------------------------------------------------------------------
# 2. sleepnet writes, numpy reads

DOCUMENTED_KEYS = ("format", "format_version", "layer_sizes", "hidden_activation", "output_activation", "bias",
                   "dropout", "dropout_mode", "dtype")


def check_model_dir(name, d, expect):
    """The written directory, read with json + np.load only."""
    with open(os.path.join(d, "model.json")) as f:
        meta = json.load(f)
    missing = [k for k in DOCUMENTED_KEYS if k not in meta]
    require(not missing, "%s: model.json lacks %s" % (name, missing))
    require(meta["format"] == "sleepnet-model" and meta["format_version"] == 1,
            "%s: format %r version %r" % (name, meta["format"], meta["format_version"]))
    for k, v in expect.items():
        require(meta[k] == v, "%s: model.json says %s = %r, expected %r" % (name, k, meta[k], v))
    require(meta["hidden_activation"] == "relu", "%s: hidden_activation %r" % (name, meta["hidden_activation"]))
    scale = 1.0 - meta["dropout"] if meta["dropout_mode"] == "scale_at_test" else 1.0
    if "test_scale" in meta:
        require(abs(meta["test_scale"] - scale) < 1e-6, "%s: test_scale %r, expected %r" %
                (name, meta["test_scale"], scale))
    sizes = meta["layer_sizes"]
    L = len(sizes) - 1
    expected_files = {"model.json"} | {"W%d.npy" % (l + 1) for l in range(L)}
    if meta["bias"]:
        expected_files |= {"b%d.npy" % (l + 1) for l in range(L)}
    files = set(os.listdir(d))
    require(files == expected_files, "%s: directory holds %s, expected %s" %
            (name, sorted(files), sorted(expected_files)))
    t = np_dtype(meta["dtype"])
    for l in range(L):
        w = np.load(os.path.join(d, "W%d.npy" % (l + 1)), allow_pickle=False)
        require(w.shape == (sizes[l + 1], sizes[l]), "%s: W%d has shape %s, expected (out, in) = %s" %
                (name, l + 1, w.shape, (sizes[l + 1], sizes[l])))
        require(w.dtype == t, "%s: W%d has dtype %s, model.json says %s" % (name, l + 1, w.dtype, meta["dtype"]))
        require(np.all(np.isfinite(w)) and np.any(w != 0), "%s: W%d is not finite or all zero" % (name, l + 1))
        if meta["bias"]:
            v = np.load(os.path.join(d, "b%d.npy" % (l + 1)), allow_pickle=False)
            require(v.shape == (sizes[l + 1],) and v.dtype == t, "%s: b%d has shape %s dtype %s" %
                    (name, l + 1, v.shape, v.dtype))
    return meta


def check_sleepnet_writes(args):
    rng = np.random.default_rng(1729)
    work = args.workdir

    # a small clustered data set numpy writes for the `features` runs (fast under sanitizers)
    classes, dim, per = 6, 24, 40
    centres = rng.standard_normal((classes, dim)) * 1.5

    def draw(n):
        y = np.arange(n) % classes
        return np.maximum(centres[y] + rng.standard_normal((n, dim)), 0.0), y

    xtr, ytr = draw(classes * per)
    xte, yte = draw(classes * 20)
    train_dirs = {}
    for dt in ("float32", "float64"):
        train_dirs[dt] = os.path.join(work, "train-data-" + dt)
        write_features(train_dirs[dt], xte.astype(np_dtype(dt)), yte, xtr.astype(np_dtype(dt)), ytr)

    # name, dataset, dtype, extra train arguments, expected model.json values
    runs = [
        ("synthetic_f32_bias_linear", "synthetic-features", "float32",
         ["--hidden", "16", "--bias", "--output", "linear", "--epochs", "1"],
         dict(layer_sizes=[2048, 16, 200], bias=True, output_activation="linear", dropout=0.25,
              dropout_mode="scale_at_test")),
        ("synthetic_f64_defaults", "synthetic-features", "float64", ["--hidden", "12", "--epochs", "1"],
         dict(layer_sizes=[2048, 12, 200], bias=False, output_activation="relu", dropout=0.25)),
        ("features_f32_two_hidden", "features", "float32",
         ["--hidden", "20", "12", "--epochs", "3", "--init", "he"],
         dict(layer_sizes=[dim, 20, 12, classes], bias=False, output_activation="relu")),
        ("features_f64_bias_linear_inverted", "features", "float64",
         ["--hidden", "16", "--bias", "--output", "linear", "--dropout", "0.2", "--dropout-mode", "inverted",
          "--epochs", "3", "--init", "he"],
         dict(layer_sizes=[dim, 16, classes], bias=True, output_activation="linear", dropout=0.2,
              dropout_mode="inverted")),
        ("features_f32_bias_dropout_scale", "features", "float32",
         ["--hidden", "16", "8", "--bias", "--dropout", "0.2", "--epochs", "3", "--init", "he"],
         dict(layer_sizes=[dim, 16, 8, classes], bias=True, output_activation="relu", dropout=0.2,
              dropout_mode="scale_at_test")),
    ]
    # the training runs are independent: start them all, then wait (halves the wall time)
    procs = []
    for i, (name, dataset, dtype, extra, _) in enumerate(runs):
        out = os.path.join(work, name, "model")
        cmd = [args.train, "--dataset", dataset, "--seed", str(11 + i), "--out", out,
               "--dtype", dtype] + extra
        if dataset == "features":
            cmd += ["--data", train_dirs[dtype]]
        procs.append((cmd, subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                            universal_newlines=True)))
    train_out = []
    for cmd, p in procs:
        out, err = p.communicate(timeout=TIMEOUT)
        if p.returncode != 0:
            raise CheckFailed("command failed (exit %d): %s\n--- stdout\n%s--- stderr\n%s" %
                              (p.returncode, " ".join(cmd), out, err))
        for mark in SANITIZER_MARKS:
            require(mark not in err, "sanitizer/runtime report from %s:\n%s" % (" ".join(cmd), err))
        train_out.append(out)

    n_test = 300
    for (name, dataset, dtype, _, expect), tout in zip(runs, train_out):
        mdir = os.path.join(work, name, "model")
        expect = dict(expect, dtype=dtype)
        meta = check_model_dir(name, mdir, expect)
        require(not [f for f in os.listdir(os.path.dirname(mdir)) if f != "model"],
                "%s: leftover files beside the model directory: %s" % (name, os.listdir(os.path.dirname(mdir))))
        model = read_model(mdir)
        t = np_dtype(dtype)
        sizes = meta["layer_sizes"]
        if dataset == "synthetic-features":
            cand = np.maximum(rng.standard_normal((3 * n_test, sizes[0])), 0.0)
        else:
            cand, _ = draw(3 * n_test)
        cand = cand.astype(t)
        keep = clear_margin(model, cand)
        x = cand[keep][:n_test]
        require(x.shape[0] == n_test, "%s: only %d of %d candidate rows have a clear top-2 margin" %
                (name, keep.sum(), cand.shape[0]))
        dropped = int(np.sum(~keep[:np.flatnonzero(keep)[n_test - 1] + 1]))
        ref = predict(model, x)
        y = rng.integers(0, sizes[-1], n_test)
        agree = rng.random(n_test) < 0.5
        y[agree] = ref[agree]
        ddir = os.path.join(work, name, "eval-data")
        write_features(ddir, x, y)
        pred, line = evaluate(args.evaluate, mdir, ddir, os.path.join(work, name, "pred.npy"))
        compare(name, model, x, y, pred, line, dtype)
        require(len(np.unique(pred)) >= 2, "%s: predictions are constant; the comparison would be weak" % name)
        msg = ""
        if dataset == "features":
            # train's own test accuracy must be what evaluate gets from the written model
            m = re.search(r"^test accuracy (\d+\.\d{4})$", tout, re.M)
            require(m is not None, "%s: train printed no test accuracy:\n%s" % (name, tout))
            _, again = evaluate(args.evaluate, mdir, train_dirs[dtype], os.path.join(work, name, "pred-train.npy"))
            require(again["acc"] == m.group(1), "%s: train printed test accuracy %s, evaluate of the written model "
                    "%s" % (name, m.group(1), again["acc"]))
            msg = ", train/evaluate test accuracy %s" % m.group(1)
        log("ok  %-36s sizes %-16s %s  %d classes predicted, %d near-tie rows left out%s" %
            (name, "-".join(map(str, sizes)), dtype, len(np.unique(pred)), dropped, msg))
    log("sleepnet-writes: %d model directories read by numpy, predictions equal" % len(runs))


# ---------------------------------------------------------------------------------------
# 3. corrupt inputs through the CLI

def check_corrupt(args):
    rng = np.random.default_rng(4242)
    work = args.workdir
    sizes = [7, 5, 3]
    W, b = random_net(rng, sizes, "float32", True)
    meta = {"format": "sleepnet-model", "format_version": 1, "layer_sizes": sizes, "bias": True,
            "dtype": "float32"}
    good = os.path.join(work, "good-model")
    write_model(good, meta, W, b)
    x = rng.standard_normal((20, 7)).astype(np.float32)
    data = os.path.join(work, "good-data")
    write_features(data, x, rng.integers(0, 3, 20))
    # control: the intact files work
    evaluate(args.evaluate, good, data, os.path.join(work, "good-pred.npy"))

    def variant(name, breaker, broken_file, must_say=None, model_dir=True):
        d = os.path.join(work, name)
        shutil.copytree(good if model_dir else data, d)
        breaker(d)
        mdir, ddir = (d, data) if model_dir else (good, d)
        pred = os.path.join(work, name + "-pred.npy")
        cmd = [args.evaluate, "--model", mdir, "--dataset", "features", "--data", ddir, "--predictions", pred]
        rc, out, err = run(cmd)
        path = os.path.join(d, broken_file)
        require(rc != 0, "%s: evaluate exited 0 (stdout: %s)" % (name, out.strip()))
        require(rc > 0, "%s: evaluate died from signal %d:\n%s" % (name, -rc, err))
        for mark in SANITIZER_MARKS:
            require(mark not in err, "%s: sanitizer/runtime report instead of a clean error:\n%s" % (name, err))
        require("evaluate: error:" in err, "%s: no 'evaluate: error:' message on stderr:\n%s" % (name, err))
        require(path in err, "%s: the error does not name '%s':\n%s" % (name, path, err))
        if must_say:
            require(must_say in err, "%s: the error does not say '%s':\n%s" % (name, must_say, err))
        require(not os.path.exists(pred), "%s: predictions were written despite the error" % name)
        log("ok  %-28s exit %d: %s" % (name, rc, err.strip().splitlines()[-1]))

    def truncate(f, keep):
        def go(d):
            p = os.path.join(d, f)
            with open(p, "rb") as fh:
                raw = fh.read()
            with open(p, "wb") as fh:
                fh.write(raw[:keep if keep >= 0 else len(raw) + keep])
        return go

    def replace_npy(f, a):
        return lambda d: save_npy(os.path.join(d, f), a)

    def edit_json(**kv):
        def go(d):
            p = os.path.join(d, "model.json")
            with open(p) as fh:
                m = json.load(fh)
            m.update(kv)
            with open(p, "w") as fh:
                json.dump(m, fh)
        return go

    w_nan = W[0].copy()
    w_nan[2, 3] = np.nan
    b_inf = b[1].copy()
    b_inf[1] = np.inf
    x_nan = x.copy()
    x_nan[4, 1] = np.nan
    variant("truncated_W1_data", truncate("W1.npy", -7), "W1.npy", "truncated")
    variant("truncated_W1_header", truncate("W1.npy", 40), "W1.npy", "truncated")
    variant("W1_wrong_shape", replace_npy("W1.npy", W[0].T.copy()), "W1.npy", "shape")
    variant("W1_one_dimensional", replace_npy("W1.npy", W[0].ravel()), "W1.npy")
    variant("unknown_format_version", edit_json(format_version=2), "model.json", "format_version")
    variant("W1_with_nan", replace_npy("W1.npy", w_nan), "W1.npy", "non-finite")
    variant("b2_with_inf", replace_npy("b2.npy", b_inf), "b2.npy", "non-finite")
    variant("W2_missing", lambda d: os.remove(os.path.join(d, "W2.npy")), "W2.npy")
    variant("x_test_with_nan", replace_npy("x_test.npy", x_nan), "x_test.npy", "not finite", model_dir=False)
    log("corrupt: every broken file rejected with an error naming it")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("check", choices=["numpy-writes", "sleepnet-writes", "corrupt"])
    ap.add_argument("--evaluate", required=True, help="path of the built evaluate program")
    ap.add_argument("--train", help="path of the built train program (sleepnet-writes)")
    ap.add_argument("--workdir", required=True, help="scratch directory (emptied first)")
    args = ap.parse_args()
    if args.check == "sleepnet-writes" and not args.train:
        ap.error("sleepnet-writes needs --train")
    for exe in (args.evaluate, args.train):
        if exe is not None and not os.access(exe, os.X_OK):
            ap.error("'%s' is not an executable (build the example programs: cmake --build BUILD "
                     "--target train evaluate)" % exe)
    args.workdir = os.path.abspath(args.workdir)
    shutil.rmtree(args.workdir, ignore_errors=True)
    os.makedirs(args.workdir)
    log("interop.py %s: python %s, numpy %s" % (args.check, sys.version.split()[0], np.__version__))
    start = time.monotonic()
    try:
        {"numpy-writes": check_numpy_writes, "sleepnet-writes": check_sleepnet_writes,
         "corrupt": check_corrupt}[args.check](args)
    except CheckFailed as e:
        print("FAILED: %s" % e, file=sys.stderr, flush=True)
        return 1
    log("passed in %.1f s" % (time.monotonic() - start))
    return 0


if __name__ == "__main__":
    sys.exit(main())
