"""The Python sleep is bit-identical to the C++ `sleep` program on the same inputs and seed."""

import json
import subprocess

import numpy as np
import pytest

import sleepnet
from conftest import make_weights


def write_features(d, x, classes=4):
    d.mkdir()
    rng = np.random.default_rng(2)
    np.save(d / "x_train.npy", x)
    np.save(d / "y_train.npy", rng.integers(0, classes, len(x)).astype(np.int64))
    np.save(d / "x_test.npy", x[:5])
    np.save(d / "y_test.npy", rng.integers(0, classes, 5).astype(np.int64))


@pytest.mark.parametrize(
    "dtype, network, params",
    [
        (np.float32, {}, {"preset": "patches", "thresholds": [1.0, 0.7], "steps": 3000}),
        (np.float64, {}, {"preset": "patches", "thresholds": [1.0, 0.7], "steps": 3000}),
        (np.float32, {"dropout": 0.2, "output_activation": "linear"},
         {"preset": "patches", "thresholds": [0.8, 0.5], "steps": 2000, "rule": "paper", "input": "mean"}),
        (np.float32, {}, {"preset": "patches", "thresholds": [0.9], "steps": 2000, "include_output": False,
                          "normalization": "percentile"}),
    ],
)
def test_python_sleep_equals_the_sleep_program(tmp, sleep_exe, dtype, network, params):
    weights = make_weights(dtype, seed=11)
    x = np.random.default_rng(3).uniform(0.0, 1.0, (25, 30)).astype(dtype)
    x[x < 0.4] = 0.0  # sparse input, like images
    sleepnet.save_model(weights, str(tmp / "model"), network=network)
    write_features(tmp / "data", x)
    (tmp / "params.json").write_text(json.dumps(params))
    subprocess.run([sleep_exe, "--model", str(tmp / "model"), "--out", str(tmp / "slept"), "--params",
                    str(tmp / "params.json"), "--dataset", "features", "--data", str(tmp / "data"), "--seed", "17",
                    "--json", str(tmp / "report.json")], check=True, capture_output=True)
    cpp, info = sleepnet.load_model(str(tmp / "slept"))
    assert info["dtype"] == np.dtype(dtype).name

    report = sleepnet.sleep(weights, x, str(tmp / "params.json"), seed=17, network=str(tmp / "model"))
    cpp_report = json.loads((tmp / "report.json").read_text())["report"]
    for key in ("steps", "input_spikes", "spikes", "weights_changed", "alpha"):
        assert report[key] == cpp_report[key], key
    assert sum(report["weights_changed"]) > 0
    for l, (a, b) in enumerate(zip(weights, cpp)):
        assert a.dtype == b.dtype and np.array_equal(a, b), f"layer {l + 1} differs"
