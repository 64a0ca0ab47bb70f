"""Evaluation from Python on numpy weights: accuracy, attacks and curves as dicts/arrays."""

import json
import subprocess

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


@pytest.fixture
def matched(data):
    """A network that classifies Patches by template matching (hidden units = the four
    patterns, output = identity), and 40 noisy patterns (10% of pixels flipped) it gets right."""
    t = data["train_x"]
    w = [t.astype(np.float32).copy(), np.eye(4, dtype=np.float32)]
    rng = np.random.default_rng(0)
    rows = rng.integers(0, 4, 40)
    x = np.abs(t[rows] - (rng.random((40, 100)) < 0.1)).astype(np.float32)
    y = data["train_y"][rows]
    assert sleepnet.accuracy(w, x, y) == 1.0
    return w, x, y


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
        (sleepnet.pgd, {"minimal": True, "steps": 10, "tolerance": 0.05, "split": 0.15, "warm_start": True}),
        (sleepnet.square, {"epsilon": 0.5, "queries": 50}),
    ],
)
def test_attacks_return_dicts_with_the_adversarials(matched, attack, kwargs):
    weights, x, y = matched
    r = attack(weights, x, y, **kwargs)
    assert r["adversarial"].shape == x.shape and r["adversarial"].dtype == x.dtype
    assert len(r["rows"]) == len(y) and 0.0 <= r["success_rate"] <= 1.0
    assert r["attempted"] == len(y) * sleepnet.accuracy(weights, x, y)
    broken = [row["index"] for row in r["rows"] if row["success"]]
    assert broken
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


def test_fgsm_curve(matched):
    w, x, y = matched
    eps = [0.6, 0.0, 0.1, 0.3, 0.1]
    curve = sleepnet.fgsm_curve(w, x, y, eps, loss="cross_entropy")
    assert [p["epsilon"] for p in curve] == eps
    acc = [p["accuracy"] for p in curve]
    assert acc[1] == 1.0 and acc[2] == acc[4]
    assert min(acc) < 1.0  # the attack breaks some inputs
    assert curve == sleepnet.fgsm_curve(w, x, y, eps, loss="cross_entropy", certify=False)
    with pytest.raises(sleepnet.InvalidArgument, match="epsilon"):
        sleepnet.fgsm_curve(w, x, y, [-0.1])
    with pytest.raises(sleepnet.InvalidArgument, match="attack loss"):
        sleepnet.fgsm_curve(w, x, y, eps, loss="hinge")


def test_evaluation_errors_name_the_argument(weights, data):
    with pytest.raises(sleepnet.InvalidArgument, match="y: label 0 is negative"):
        sleepnet.accuracy(weights, data["test_x"], -np.ones(len(data["test_y"]), int))
    with pytest.raises(sleepnet.InvalidArgument, match="unknown"):
        sleepnet.pgd(weights, data["test_x"], data["test_y"], norm="l3")


def test_attack_keywords_are_the_fields_of_the_options(matched):
    weights, x, y = matched
    full, capped = sleepnet.fgsm(weights, x, y), sleepnet.fgsm(weights, x, y, max_epsilon=0.5, search="bisection")
    assert capped["successes"] < full["successes"]
    assert all(row["epsilon"] <= 0.5 for row in capped["rows"] if row["success"])
    assert sleepnet.pgd(weights, x, y, epsilon=2.0, steps=10)["attack"] == "apgd-linf"
    assert sleepnet.pgd(weights, x, y, epsilon=2.0, steps=10, method="pgd", norm="l2")["attack"] == "pgd-l2"
    with pytest.raises(sleepnet.InvalidArgument, match=r"split must be in \[0.01, 0.99\], got 1.5"):
        sleepnet.pgd(weights, x, y, minimal=True, split=1.5)
    with pytest.raises(sleepnet.InvalidArgument, match="pgd: PgdOptions: unknown key 'stpes'"):
        sleepnet.pgd(weights, x, y, stpes=10)
    with pytest.raises(sleepnet.InvalidArgument, match="key 'queries' must be a non-negative integer"):
        sleepnet.square(weights, x, y, queries=-5)
    with pytest.raises(sleepnet.InvalidArgument, match="deepfool: DeepFoolOptions: unknown overshoot mode 'late'"):
        sleepnet.deepfool(weights, x, y, mode="late")


def test_exceptions_are_named_as_the_package_exports_them():
    for name in ("Error", "InvalidArgument", "IoError", "FormatError", "NumericError"):
        cls = getattr(sleepnet, name)
        assert cls.__module__ == "sleepnet" and f"{cls.__module__}.{cls.__name__}" == f"sleepnet.{name}"
    assert issubclass(sleepnet.InvalidArgument, ValueError) and issubclass(sleepnet.InvalidArgument, sleepnet.Error)


AUDIT_OPTIONS = {"epsilons": [0.1, 0.3], "epsilon": 0.3, "attack": {"steps": 10}, "square_queries": 30,
                 "noise_draws": 2, "l2_norms": [1.0, 2.0], "search": {"tolerance": 0.05}}


def test_audit_returns_the_checklist_and_is_reproducible(matched):
    weights, x, y = matched
    stages = []
    r = sleepnet.audit(weights, x, y, seed=3, callback=lambda p: stages.append(p) and False, **AUDIT_OPTIONS)
    assert sorted(c["key"] for c in r["checks"]) == sorted(r["passed"].keys()) and len(r["checks"]) == 6  # no transfer check without a surrogate
    assert r["failed"] == sum(1 - v for v in r["passed"].values())
    assert r["options"]["epsilons"] == [0.1, 0.3] and r["options"]["attack"]["steps"] == 10
    assert r["curves"]["linf"]["budgets"] == [0.1, 0.3] and r["curves"]["l2"]["budgets"] == [1.0, 2.0]
    assert 0.0 <= r["robust_accuracy"] <= r["clean_accuracy"] == pytest.approx(sleepnet.accuracy(weights, x, y))
    assert len(r["worst_case"]) == len(y) and not r["stopped"]
    assert [s["index"] for s in stages] == list(range(len(stages))) and stages[0]["stages"] == len(stages)
    assert r == sleepnet.audit(weights, x, y, seed=3, **AUDIT_OPTIONS)


def test_audit_callback_stops_it_and_bad_surrogates_are_refused(matched):
    weights, x, y = matched
    r = sleepnet.audit(weights, x, y, callback=lambda p: p["index"] == 1, **AUDIT_OPTIONS)
    assert r["stopped"] and len(r["checks"]) < 7
    small = make_weights(np.float32, sizes=(100, 8, 3))
    with pytest.raises(sleepnet.InvalidArgument, match="the surrogate maps 100 -> 3, the network 100 -> 4"):
        sleepnet.audit(weights, x, y, surrogate=small, **AUDIT_OPTIONS)
    with pytest.raises(sleepnet.InvalidArgument, match="audit: AuditOptions: attack: PgdOptions: unknown key 'step'"):
        sleepnet.audit(weights, x, y, attack={"step": 3})


def test_audit_equals_the_audit_program(matched, tmp, audit_exe):
    """The same network, inputs, options and seed give the audit program's JSON."""
    weights = matched[0]
    model, surrogate = str(tmp / "model"), str(tmp / "surrogate")
    sleepnet.save_model(weights, model)
    other = make_weights(np.float32, sizes=(100, 16, 4), seed=9)
    sleepnet.save_model(other, surrogate)
    out = tmp / "audit.json"
    subprocess.run([audit_exe, "--model", model, "--surrogate", surrogate, "--dataset", "patches", "--count", "25",
                    "--epsilons", "0.1", "0.3", "--eps", "0.3", "--steps", "10", "--queries", "30", "--seed", "2",
                    "--json", str(out)], check=True, capture_output=True)
    program = json.loads(out.read_text())
    d2 = sleepnet.load_dataset("patches", seed=2)
    x, y = d2["test_x"][:25], d2["test_y"][:25]
    r = sleepnet.audit(weights, x, y, surrogate=other, seed=2, epsilons=[0.1, 0.3], epsilon=0.3,
                       attack={"steps": 10}, square_queries=30)
    for key in ("checks", "passed", "curves", "worst_case", "robust_accuracy", "clean_accuracy", "options"):
        assert r[key] == program[key], key
