#!/usr/bin/env python3
"""An independent numpy implementation of FGSM (minimal epsilon, Foolbox v1 grid) and
DeepFool (L2, Foolbox v1 semantics), run on a sleepnet model directory and MNIST test
images, compared with what the `attack` example writes (--json) for the same model and
images.

  attack_reference.py --attack EXE --model DIR --data DIR [--count N] [--tolerance F]
                      --workdir DIR

Reads the model directory with numpy only (model.json + W1.npy ... [+ b1.npy ...]), the
MNIST test set from DIR (t10k-images-idx3-ubyte[.gz], t10k-labels-idx1-ubyte[.gz]) and
computes, in float64:

  FGSM      g = sign(dL/dx), L = 1/2 ||onehot(y) - a||^2 with the authors' output delta
            a - onehot(y) (no derivative of the output activation), back-propagated
            through the hidden ReLUs and the test-time dropout scale; the first
            eps in 0.001, 0.002, ..., 1.000 with argmax logits(clip(x + eps g, 0, 1)) != y,
            refined on 20 steps in (0, eps] when it is among the first 20; +inf if none.
  DeepFool  candidates = the 10 classes with the highest logits at x0 (label first);
            per step, f_k = z_k - z_y, w_k = grad z_k - grad z_y, k* = argmin
            |f_k| / (||w_k|| + 1e-8), x += 1.05 |f_k*| / (||w_k*|| + 1e-8)^2 w_k*, no
            clipping, at most 100 steps, stop when argmax != y; distance =
            mean((x' - x0)^2).

Inputs the network misclassifies are skipped; scores are medians over the attempted
inputs with failures as +inf (even counts: mean of the two middle values). The check
passes when both medians agree with sleepnet's within --tolerance (relative, default
0.10). It prints both scores, the success rates and the per-sample agreement.

Only the standard library and numpy.
"""

import argparse
import gzip
import json
import math
import os
import shutil
import struct
import subprocess
import sys

try:
    import numpy as np
except ImportError:
    sys.stderr.write("attack_reference.py: error: this Python (%s) has no numpy\n" % sys.executable)
    sys.exit(1)


def read_idx(path):
    for p in (path, path + ".gz"):
        if os.path.exists(p):
            with (gzip.open(p, "rb") if p.endswith(".gz") else open(p, "rb")) as f:
                data = f.read()
            ndim = data[3]
            dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
            return np.frombuffer(data[4 + 4 * ndim:], dtype=np.uint8).reshape(dims)
    raise SystemExit("attack_reference.py: error: %s not found (run scripts/fetch-data.sh)" % path)


class Net:
    def __init__(self, model_dir):
        with open(os.path.join(model_dir, "model.json")) as f:
            meta = json.load(f)
        sizes = meta["layer_sizes"]
        self.L = len(sizes) - 1
        self.W = [np.load(os.path.join(model_dir, "W%d.npy" % (l + 1))).astype(np.float64) for l in range(self.L)]
        self.b = None
        if meta.get("bias", False):
            self.b = [np.load(os.path.join(model_dir, "b%d.npy" % (l + 1))).astype(np.float64) for l in range(self.L)]
        self.hidden_relu = meta.get("hidden_activation", "relu") == "relu"
        self.output_relu = meta.get("output_activation", "relu") == "relu"
        p = float(meta.get("dropout", 0.0))
        mode = meta.get("dropout_mode", "scale_at_test")
        # the float32 factor sleepnet multiplies hidden activations by
        self.s = float(np.float32(1.0 - p)) if (p > 0 and mode == "scale_at_test") else 1.0

    def forward(self, x):
        """pre-activations and activations of every layer (lists), x: N x D"""
        zs, acts = [], []
        a = x
        for l in range(self.L):
            z = a @ self.W[l].T
            if self.b is not None:
                z = z + self.b[l]
            hidden = l + 1 < self.L
            relu = self.hidden_relu if hidden else self.output_relu
            a = np.maximum(z, 0.0) if relu else z
            if hidden:
                a = a * self.s
            zs.append(z)
            acts.append(a)
        return zs, acts

    def logits(self, x):
        return self.forward(x)[0][-1]

    def backward(self, zs, dz):
        """d(sum dz * z_L)/dx for the batch of the given forward pass"""
        d = dz
        for l in range(self.L - 1, -1, -1):
            d = d @ self.W[l]
            if l > 0:
                mask = (zs[l - 1] > 0) if self.hidden_relu else np.ones_like(d, dtype=bool)
                d = np.where(mask, d * self.s, 0.0)
        return d


def predict(net, x):
    return np.argmax(net.logits(x), axis=1)  # first index on ties, like sleepnet


def fgsm_minimal_eps(net, x, y, steps=1000, refine_below=20, refine_steps=20):
    zs, acts = net.forward(x)
    delta = acts[-1] - np.eye(zs[-1].shape[1])[y]  # the authors' MSE delta at the output
    g = np.sign(net.backward(zs, delta))
    eps_grid = np.arange(1, steps + 1) / float(steps)
    out = np.full(len(x), np.inf)
    chunk = 50
    for i in range(len(x)):
        hit = 0
        for start in range(0, steps, chunk):
            e = eps_grid[start:start + chunk]
            cand = np.clip(x[i] + e[:, None] * g[i], 0.0, 1.0)
            adv = predict(net, cand) != y[i]
            if adv.any():
                hit = start + int(np.argmax(adv)) + 1
                break
        if hit == 0:
            continue
        top = eps_grid[hit - 1]
        if hit <= refine_below:
            e = top * np.arange(1, refine_steps + 1) / float(refine_steps)
            cand = np.clip(x[i] + e[:, None] * g[i], 0.0, 1.0)
            adv = predict(net, cand) != y[i]
            top = e[int(np.argmax(adv))]
        out[i] = top
    return out


def deepfool(net, x, y, overshoot=0.05, max_iter=100, candidates=10):
    n, d = x.shape
    z0 = net.logits(x)
    c = z0.shape[1]
    k = min(candidates, c)
    cand = []
    for i in range(n):
        order = [int(j) for j in np.argsort(-z0[i], kind="stable") if j != y[i]]
        cand.append([int(y[i])] + order[:k - 1])
    xa = x.copy()
    active = np.ones(n, dtype=bool)
    for _ in range(max_iter):
        idx = np.nonzero(active)[0]
        if len(idx) == 0:
            break
        zs, _ = net.forward(xa[idx])
        z = zs[-1]
        still = np.argmax(z, axis=1) == y[idx]
        active[idx[~still]] = False
        idx, zs = idx[still], [t[still] for t in zs]
        if len(idx) == 0:
            break
        z = zs[-1]
        # gradients of every logit: one backward pass per class
        grads = np.stack([net.backward(zs, np.tile(np.eye(c)[j], (len(idx), 1))) for j in range(c)], axis=1)
        for r, i in enumerate(idx):
            yy = int(y[i])
            best, best_k = np.inf, None
            for kk in cand[i][1:]:
                w = grads[r, kk] - grads[r, yy]
                f = z[r, kk] - z[r, yy]
                v = abs(f) / (np.linalg.norm(w) + 1e-8)
                if v < best:
                    best, best_k = v, kk
            w = grads[r, best_k] - grads[r, yy]
            f = z[r, best_k] - z[r, yy]
            nrm = np.linalg.norm(w) + 1e-8
            xa[i] = xa[i] + (1.0 + overshoot) * abs(f) / (nrm * nrm) * w
    adv = predict(net, xa) != y
    dist = np.where(adv, np.mean((xa - x) ** 2, axis=1), np.inf)
    return dist


def median(v):
    v = sorted(v)
    if not v:
        return float("nan")
    n = len(v)
    if n % 2 == 1:
        return v[n // 2]
    a, b = v[n // 2 - 1], v[n // 2]
    if math.isinf(a) or math.isinf(b):
        return b if math.isinf(b) else a
    return 0.5 * (a + b)


def run_attack(exe, model, data, attack, count, out):
    cmd = [exe, "--model", model, "--dataset", "mnist", "--data", data, "--attack", attack, "--count", str(count),
           "--json", out]
    res = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, timeout=1200)
    if res.returncode != 0:
        raise SystemExit("attack_reference.py: error: %s failed (%d):\n%s" % (" ".join(cmd), res.returncode, res.stderr))
    with open(out) as f:
        return json.load(f)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--attack", required=True, help="the attack example program")
    ap.add_argument("--model", required=True)
    ap.add_argument("--data", required=True, help="MNIST directory")
    ap.add_argument("--count", type=int, default=300)
    ap.add_argument("--tolerance", type=float, default=0.10)
    ap.add_argument("--workdir", required=True)
    args = ap.parse_args()
    if os.path.isdir(args.workdir):
        shutil.rmtree(args.workdir)
    os.makedirs(args.workdir)

    images = read_idx(os.path.join(args.data, "t10k-images-idx3-ubyte"))
    labels = read_idx(os.path.join(args.data, "t10k-labels-idx1-ubyte"))
    n = args.count
    x = (images[:n].reshape(n, -1).astype(np.float32) / np.float32(255)).astype(np.float64)
    y = labels[:n].astype(np.int64)
    net = Net(args.model)
    attempted = predict(net, x) == y

    ours = {}
    for attack in ("fgsm", "deepfool"):
        ours[attack] = run_attack(args.attack, args.model, args.data, attack, n, os.path.join(args.workdir, attack + ".json"))

    ok = True
    ref = {"fgsm": fgsm_minimal_eps(net, x, y), "deepfool": deepfool(net, x, y)}
    for attack, key in (("fgsm", "epsilon"), ("deepfool", "distance")):
        rows = ours[attack]["rows"]
        ours_att = np.array([r["attempted"] for r in rows])
        ref_vals = [float(v) for v, a in zip(ref[attack], attempted) if a]
        ref_score = median(ref_vals)
        our_score = ours[attack]["score"]
        our_score = float("inf") if our_score is None else float(our_score)
        ref_success = float(np.mean(np.isfinite(ref_vals))) if ref_vals else float("nan")
        rel = abs(ref_score - our_score) / abs(our_score) if our_score not in (0.0, float("inf")) else float("inf")
        # per-sample agreement on the inputs both attempted
        both = [(float(r[key]) if r[key] is not None else float("inf"), float(v))
                for r, v, a in zip(rows, ref[attack], attempted) if a and r["attempted"]]
        if attack == "fgsm":
            close = sum(1 for s, v in both if (math.isinf(s) and math.isinf(v)) or abs(s - v) <= 1.5e-3)
            what = "within one grid step"
        else:
            close = sum(1 for s, v in both if (math.isinf(s) and math.isinf(v)) or
                        (math.isfinite(s) and math.isfinite(v) and abs(s - v) <= 0.05 * s))
            what = "within 5%"
        print("%-8s numpy median %.6g (success %.3f, %d attempted)  sleepnet median %.6g (success %.3f, %d attempted)"
              "  relative difference %.4f  per-sample %d/%d %s"
              % (attack, ref_score, ref_success, len(ref_vals), our_score, ours[attack]["success_rate"],
                 int(ours_att.sum()), rel, close, len(both), what))
        if not (rel <= args.tolerance):
            ok = False
            print("%s: medians differ by more than %.0f%%" % (attack, 100 * args.tolerance))
    if int(attempted.sum()) != int(np.array([r["attempted"] for r in ours["fgsm"]["rows"]]).sum()):
        print("note: numpy and sleepnet attempt different numbers of inputs (float64 vs float32 forward pass)")
    print("attack_reference: %s" % ("agree" if ok else "DISAGREE"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
