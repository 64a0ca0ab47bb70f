#!/usr/bin/python3
"""The APGD workload of bench/attacks in PyTorch (CPU), for a same-run speed ratio.

Loads a sleepnet model directory (model.json + W*.npy, bias-free or with b*.npy) into
bias-free torch Linear layers computing the same function (ReLU hidden layers, the test-time
dropout scale), and runs the worst case of bench/attacks' APGD: every input gets 2 losses
(cross-entropy, then the logit margin) x (1 + steps) forward+backward passes with sign steps,
momentum 0.75, projection on the L-inf ball and [0, 1] (no early stop, so the number of
passes equals sleepnet's eps-0 run). Prints one line: "torch_seconds <s> passes <n>".

usage: pgd_torch.py --model DIR --data DIR [--count N] [--steps S] [--threads T] [--eps E]
"""
import argparse
import json
import os
import struct
import sys
import time

import numpy as np
import torch


def load_idx_images(path, count):
    with open(path, "rb") as f:
        magic, n, rows, cols = struct.unpack(">IIII", f.read(16))
        if magic != 2051:
            sys.exit(f"pgd_torch: {path}: not an IDX image file")
        n = min(n, count)
        data = np.frombuffer(f.read(n * rows * cols), dtype=np.uint8)
    return data.reshape(n, rows * cols).astype(np.float32) / 255.0


def load_idx_labels(path, count):
    with open(path, "rb") as f:
        magic, n = struct.unpack(">II", f.read(8))
        if magic != 2049:
            sys.exit(f"pgd_torch: {path}: not an IDX label file")
        n = min(n, count)
        return np.frombuffer(f.read(n), dtype=np.uint8).astype(np.int64)


def load_model(directory):
    with open(os.path.join(directory, "model.json")) as f:
        info = json.load(f)
    sizes = info["layer_sizes"]
    scale = float(info.get("test_scale", 1.0))
    layers = []
    for l in range(len(sizes) - 1):
        w = np.load(os.path.join(directory, f"W{l + 1}.npy")).astype(np.float32)
        lin = torch.nn.Linear(sizes[l], sizes[l + 1], bias=info.get("bias", False))
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(w))
            if info.get("bias", False):
                lin.bias.copy_(torch.from_numpy(np.load(os.path.join(directory, f"b{l + 1}.npy")).astype(np.float32)))
        layers.append(lin)

    def logits(x):
        a = x
        for i, lin in enumerate(layers):
            z = lin(a)
            if i + 1 == len(layers):
                return z
            a = torch.relu(z) * scale
    return logits


def loss_of(kind, z, y):
    if kind == "ce":
        return torch.nn.functional.cross_entropy(z, y, reduction="sum")
    zy = z.gather(1, y[:, None])[:, 0]
    other = z.clone()
    other.scatter_(1, y[:, None], -float("inf"))
    return (other.max(1).values - zy).sum()


def apgd_fixed(logits, x0, y, eps, steps, kind):
    lo, hi = torch.clamp(x0 - eps, 0, 1), torch.clamp(x0 + eps, 0, 1)
    x = x0.clone()
    x_old = x.clone()
    eta = 2 * eps
    for k in range(steps + 1):
        x.requires_grad_(True)
        loss = loss_of(kind, logits(x), y)
        (g,) = torch.autograd.grad(loss, x)
        with torch.no_grad():
            if k == steps:
                break
            z = torch.min(torch.max(x + eta * g.sign(), lo), hi)
            a = 1.0 if k == 0 else 0.75
            nxt = torch.min(torch.max(x + a * (z - x) + (1 - a) * (x - x_old), lo), hi)
            x_old = x.detach()
            x = nxt
    return x.detach()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--model", required=True)
    p.add_argument("--data", required=True)
    p.add_argument("--count", type=int, default=10000)
    p.add_argument("--steps", type=int, default=50)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--eps", type=float, default=0.0)
    p.add_argument("--batch", type=int, default=1024)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    logits = load_model(a.model)
    x = torch.from_numpy(load_idx_images(os.path.join(a.data, "t10k-images-idx3-ubyte"), a.count))
    y = torch.from_numpy(load_idx_labels(os.path.join(a.data, "t10k-labels-idx1-ubyte"), a.count))
    t0 = time.perf_counter()
    for kind in ("ce", "margin"):
        for b in range(0, len(x), a.batch):
            apgd_fixed(logits, x[b:b + a.batch], y[b:b + a.batch], a.eps, a.steps, kind)
    seconds = time.perf_counter() - t0
    print(f"torch_seconds {seconds:.3f} passes {2 * (a.steps + 1) * len(x)} torch {torch.__version__}")


if __name__ == "__main__":
    main()
