"""Evaluation from Python on numpy weights: accuracy, attacks and curves as dicts/arrays."""

import numpy as np
import pytest

import sleepnet
from conftest import make_weights


@pytest.fixture
def data():
    d = sleepnet.load_dataset("patches", seed=1)
    assert d["train_x"].shape[1] == 100 and d["train_x"].dtype == np.float32
    return d


@pytest.fixture
def weights():
    rng = np.random.default_rng(4)
    return [rng.normal(0, 0.3, (16, 100)).astype(np.float32), rng.normal(0, 0.3, (4, 16)).astype(np.float32)]


def test_accuracy_and_predict_agree(weights, data):
    p = sleepnet.predict(weights, data["test_x"])
    acc = sleepnet.accuracy(weights, data["test_x"], data["test_y"])
    assert p.shape == data["test_y"].shape
    assert acc == pytest.approx(np.mean(p == data["test_y"]))


def test_evaluation_reads_but_never_changes_the_weights(weights, data):
    before = [w.copy() for w in weights]
    sleepnet.fgsm(weights, data["test_x"], data["test_y"], steps=100)
    assert all(np.array_equal(a, b) for a, b in zip(weights, before))


@pytest.mark.parametrize(
    "attack, kwargs",
    [
        (sleepnet.fgsm, {"steps": 100}),
        (sleepnet.deepfool, {}),
        (sleepnet.fmn, {"norm": "l2", "steps": 20}),
        (sleepnet.pgd, {"epsilon": 0.3, "steps": 10}),
        (sleepnet.pgd, {"minimal": True, "steps": 10, "tolerance": 0.05}),
        (sleepnet.square, {"epsilon": 0.3, "queries": 50}),
    ],
)
def test_attacks_return_dicts_with_the_adversarials(weights, data, attack, kwargs):
    x, y = data["test_x"], data["test_y"]
    r = attack(weights, x, y, **kwargs)
    assert r["adversarial"].shape == x.shape and r["adversarial"].dtype == x.dtype
    assert len(r["rows"]) == len(y) and 0.0 <= r["success_rate"] <= 1.0
    assert r["attempted"] == len(y) * sleepnet.accuracy(weights, x, y)
    broken = [row["index"] for row in r["rows"] if row["success"]]
    if broken:
        assert (sleepnet.predict(weights, r["adversarial"][broken]) != y[broken]).all()


def test_float64_weights_are_evaluated_in_float64(data):
    w = [a.astype(np.float64) for a in make_weights(np.float32, sizes=(100, 16, 4))]
    r = sleepnet.fgsm(w, data["test_x"], data["test_y"], steps=50)
    assert r["adversarial"].dtype == np.float64


def test_noise_and_blur_curves(weights, data):
    x, y = data["test_x"], data["test_y"]
    noise = sleepnet.noise_curve(weights, x, y, [0.0, 0.5], seed=3)
    assert [p["level"] for p in noise] == [0.0, 0.5]
    assert noise[0]["accuracy"] == pytest.approx(sleepnet.accuracy(weights, x, y))
    assert noise == sleepnet.noise_curve(weights, x, y, [0.0, 0.5], seed=3)
    blur = sleepnet.blur_curve(weights, x, y, [0.0, 1.0], rows=10, cols=10)
    assert blur[0]["accuracy"] == pytest.approx(noise[0]["accuracy"])


def test_evaluation_errors_name_the_argument(weights, data):
    with pytest.raises(sleepnet.InvalidArgument, match="y: label 0 is negative"):
        sleepnet.accuracy(weights, data["test_x"], -np.ones(len(data["test_y"]), int))
    with pytest.raises(sleepnet.InvalidArgument, match="unknown"):
        sleepnet.pgd(weights, data["test_x"], data["test_y"], norm="l3")
