#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets, fuzz/corpus/<target>/ (docs/fuzzing.md):
small valid and near-valid inputs of each format. Standard library only; deterministic, so
running it again gives the same files.

usage: python3 fuzz/make_corpus.py
"""
import gzip
import json
import os
import shutil
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
CORPUS = os.path.join(HERE, "corpus")


def target(name, files):
    d = os.path.join(CORPUS, name)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    for fname, data in files.items():
        if isinstance(data, str):
            data = data.encode()
        with open(os.path.join(d, fname), "wb") as f:
            f.write(data)


def gz(data):
    return gzip.compress(data, mtime=0)


def idx(dims, data=None, dtype=0x08):
    head = bytes([0, 0, dtype, len(dims)]) + b"".join(struct.pack(">I", d) for d in dims)
    if data is None:
        n = 1
        for d in dims:
            n *= d
        data = bytes((7 * i) % 256 for i in range(n))
    return head + data


def idx_corpus():
    images = idx([3, 2, 4])
    labels = idx([4], bytes([1, 2, 3, 9]))
    return {
        "images": images, "labels": labels, "images.gz": gz(images), "labels.gz": gz(labels),
        "images-truncated": images[:-3], "images-trailing": images + b"xyz",
        "labels-out-of-range": idx([3], bytes([1, 12, 3])), "float32-type": idx([2], b"\0" * 8, 0x0D),
        "empty-images": idx([2, 0, 4], b""), "two-members.gz": gz(images[:10]) + gz(images[10:]),
        "gzip-cut.gz": gz(images)[:20], "gzip-garbage.gz": gz(labels) + b"garbage",
        "huge-header.gz": gz(idx([65536, 256, 257], b"abcd")), "short": b"\0\0\x08",
    }


def npy(descr, shape, data, fortran=False, major=1):
    shape_text = "(" + "".join(f"{d}, " for d in shape)[:-2] + ("," if len(shape) == 1 else "") + ")"
    header = "{'descr': '%s', 'fortran_order': %s, 'shape': %s, }" % (descr, fortran, shape_text)
    len_bytes = 2 if major == 1 else 4
    while (8 + len_bytes + len(header) + 1) % 64:
        header += " "
    header += "\n"
    length = struct.pack("<H" if major == 1 else "<I", len(header))
    return b"\x93NUMPY" + bytes([major, 0]) + length + header.encode("latin1") + data


def npy_corpus():
    f4 = npy("<f4", [2, 3], struct.pack("<6f", 1, 2, 3, 4, 5, 6))
    return {
        "f4-2x3.npy": f4, "f8-fortran.npy": npy("<f8", [2, 3], struct.pack("<6d", 1, 4, 2, 5, 3, 6), True),
        "i8-vector.npy": npy("<i8", [3], struct.pack("<3q", -1, 0, 7)), "u1-2x2.npy": npy("|u1", [2, 2], b"\1\2\3\4"),
        "b1.npy": npy("|b1", [3], b"\0\1\1"), "i4-3d.npy": npy("<i4", [1, 2, 2], struct.pack("<4i", 1, 2, 3, 4)),
        "v2.npy": npy("<f4", [2], struct.pack("<2f", 0.5, 1.5), major=2), "scalar.npy": npy("<f8", [], struct.pack("<d", 3)),
        "u2.npy": npy("<u2", [2], b"\1\2\3\4"), "native-u1.npy": npy("=u1", [2], b"\5\6"),
        "big-endian.npy": npy(">f4", [1], b"abcd"), "truncated.npy": f4[:-1], "trailing.npy": f4 + b"abc",
        "nan.npy": npy("<f4", [2], struct.pack("<2f", float("nan"), float("inf"))),
        "huge-shape.npy": npy("<f8", [4294967296, 536870912], b""),
    }


def model(files):
    """The framing of fuzz_model_dir.cpp: model.json, then "\\n#\\n<name>\\n<bytes>" per file."""
    out = files[0].encode()
    for name, data in files[1:]:
        part = name.encode() + b"\n" + data
        assert b"\n#\n" not in part, name
        out += b"\n#\n" + part
    return out


def weights(rows, cols, seed, descr="<f4"):
    values = [((seed * 31 + i * 17) % 23 - 11) / 8.0 for i in range(rows * cols)]
    fmt = "<%d%s" % (len(values), "f" if descr == "<f4" else "d")
    return npy(descr, [rows, cols], struct.pack(fmt, *values))


def model_corpus():
    full = json.dumps({"format": "sleepnet-model", "format_version": 1, "layer_sizes": [4, 3, 2],
                       "hidden_activation": "relu", "output_activation": "linear", "bias": True, "dropout": 0.2,
                       "dropout_mode": "inverted", "dtype": "float32", "test_scale": 1.0})
    minimal = json.dumps({"format_version": 1, "layer_sizes": [4, 3, 2]})
    w1, w2 = weights(3, 4, 1), weights(2, 3, 2)
    b1, b2 = npy("<f4", [3], struct.pack("<3f", 0.1, 0.2, 0.3)), npy("<f4", [2], struct.pack("<2f", -1, 1))
    return {
        "bias": model([full, ("W1.npy", w1), ("b1.npy", b1), ("W2.npy", w2), ("b2.npy", b2)]),
        "minimal": model([minimal, ("W1.npy", w1), ("W2.npy", w2)]),
        "float64": model([minimal, ("W1.npy", weights(3, 4, 1, "<f8")), ("W2.npy", weights(2, 3, 2, "<f8"))]),
        "wrong-shape": model([minimal, ("W1.npy", w2), ("W2.npy", w1)]),
        "missing-w2": model([minimal, ("W1.npy", w1)]),
        "extra-w3": model([minimal, ("W1.npy", w1), ("W2.npy", w2), ("W3.npy", w2)]),
        "missing-bias": model([full, ("W1.npy", w1), ("W2.npy", w2)]),
        "huge-sizes": model([json.dumps({"format_version": 1, "layer_sizes": [100000, 100000]}), ("W1.npy", w1)]),
        "bad-json": model(['{"format_version": 1, "layer_sizes": [4, ', ("W1.npy", w1)]),
    }


def params_corpus():
    files = {}
    for name in ("mnist.json", "mnist-refit.json", "mnist-pgd-refit.json"):
        with open(os.path.join(ROOT, "examples", "params", name), "rb") as f:
            files[name] = f.read()
    files["preset.json"] = '{"preset": "mnist-fgsm", "steps": 12, "alpha": [1.5, 2, 3]}'
    files["unknown-key.json"] = '{"stesp": 3}'
    files["negative-steps.json"] = '{"steps": -1}'
    files["enums.json"] = '{"rule": "paper", "normalization": "percentile", "input": "sequence"}'
    files["refit-bad.json"] = '{"refit": {"epochs": 2.5, "loss": "ce"}}'
    files["refit-ok.json"] = '{"refit": {"epochs": 1, "loss": "ce", "temperature": 2, "seed": 3, "samples": 10}}'
    return files


def tune_log_corpus():
    header = json.dumps({"kind": "tune", "format_version": 2, "method": "genetic", "seed": 1})
    params = {"rule": "authors", "normalization": "authors", "percentile": 99.9, "rate": 39.0, "rate_factor": 2,
              "dt": 0.001, "decay": 0.999, "inc": 0.064, "dec": 0.069, "thresholds": [20.0, 30.0],
              "alpha_scale": 2.19, "steps": 100, "input": "sequence", "include_output": True}

    def cand(i, value, **extra):
        c = {"kind": "candidate", "index": i, "generation": 0, "genes": [0.5, 0.25 * i], "params": params,
             "accuracy": 0.9, "value": value, "feasible": value is not None, "spikes": [10, 20], "seconds": 0.5}
        c.update(extra)
        return json.dumps(c)

    return {
        "log.jsonl": "\n".join([header, cand(0, 0.5), cand(1, "inf"), cand(2, None, error="non-finite weights")]) + "\n",
        "torn.jsonl": header + "\n" + cand(0, "-inf") + "\n" + cand(1, 0.1)[:40],
        "header-only.jsonl": header + "\n",
        "wrong-index.jsonl": header + "\n" + cand(3, 0.5) + "\n",
        "no-header.jsonl": cand(0, 0.5) + "\n",
        "unknown-kind.jsonl": header + '\n{"kind": "other"}\n',
    }


def audit_corpus():
    return {
        "defaults.json": json.dumps({"epsilons": [0.05, 0.1, 0.2], "epsilon": 0.1,
                                     "attack": {"method": "apgd", "norm": "linf", "losses": ["ce", "margin"],
                                                "steps": 20, "restarts": 1, "random_start": True,
                                                "step_size": 0.01, "targets": 3, "bounds": [0, 1], "batch": 64},
                                     "search": {"max_epsilon": 0.5, "tolerance": 0.01}, "square_queries": 100,
                                     "noise_draws": 4, "tolerance": 0.02, "l2": True, "l2_max": 5,
                                     "l2_norms": [0.5, 1, 2]}),
        "partial.json": '{"square_queries": 7, "attack": {"steps": 3}}',
        "bad-nested.json": '{"attack": {"stpes": 3}}',
        "wrong-type.json": '{"epsilons": "0.1"}',
    }


def attack_corpus():
    # first byte chooses the options type (fuzz_attack_options_json.cpp): 0 FGSM, 1 DeepFool,
    # 2 PGD, 3 FMN, 4 Square, 5 minimal-epsilon search, 6 FGSM certify, 7 bounds
    return {
        "fgsm": b"\x00" + json.dumps({"search": "bisection", "steps": 8, "max_epsilon": 0.3, "loss": "cross_entropy",
                                      "bounds": [0, 1], "batch_rows": 32, "grid": {"stride": 2, "iterations": 3},
                                      "bisection": {"refine_steps": 4, "refine_below": 0.1, "certify":
                                                    {"enabled": True, "leaf": 4, "chunk": 8, "reach": 2,
                                                     "first": 1}}}).encode(),
        "deepfool": b"\x01" + b'{"max_iterations": 50, "candidates": 10, "overshoot": 0.02, "clip": true}',
        "pgd": b"\x02" + b'{"method": "pgd", "norm": "l2", "losses": ["ce"], "steps": 10, "targets": 0}',
        "fmn": b"\x03" + b'{"norm": "linf", "steps": 100, "alpha_init": 1, "alpha_final": 0.01, "gamma_init": 0.05}',
        "square": b"\x04" + b'{"queries": 100, "p_init": 0.05, "height": 28, "width": 28, "channels": 1}',
        "search": b"\x05" + b'{"max_epsilon": 1, "tolerance": 0.001}',
        "certify": b"\x06" + b'{"enabled": false, "leaf": 2}',
        "bounds": b"\x07" + b"[0, 1]",
        "bad-enum": b"\x02" + b'{"method": "fast"}',
        "negative": b"\x04" + b'{"queries": -3}',
    }


def main():
    target("fuzz_idx", idx_corpus())
    target("fuzz_npy", npy_corpus())
    target("fuzz_model_dir", model_corpus())
    params = params_corpus()
    target("fuzz_sleep_params", params)
    target("fuzz_refit_plan", params)
    target("fuzz_tune_log", tune_log_corpus())
    target("fuzz_audit_json", audit_corpus())
    target("fuzz_attack_options_json", attack_corpus())


if __name__ == "__main__":
    main()
