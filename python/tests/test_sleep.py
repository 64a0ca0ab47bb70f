"""sleepnet.sleep: in place, refusal of copies, callbacks, errors, parameters."""

import threading

import numpy as np
import pytest

import sleepnet
from conftest import make_weights, small_params


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sleep_changes_the_callers_buffers_in_place(dtype, x):
    w = make_weights(dtype)
    before = [a.copy() for a in w]
    pointers = [a.__array_interface__["data"][0] for a in w]
    report = sleepnet.sleep(w, x, small_params(), seed=3)
    assert [a.__array_interface__["data"][0] for a in w] == pointers
    assert all(a.dtype == dtype for a in w)
    changed = [int((a != b).sum()) for a, b in zip(w, before)]
    assert changed[0] > 0 and changed == report["weights_changed"]
    assert report["steps"] == 400 and not report["stopped_early"]
    assert report["weights"] == [600, 80] and len(report["alpha"]) == 2


def test_same_seed_same_weights_other_seed_other_weights(x):
    a, b, c = make_weights(np.float32), make_weights(np.float32), make_weights(np.float32)
    sleepnet.sleep(a, x, small_params(), seed=5)
    sleepnet.sleep(b, x, small_params(), seed=5)
    sleepnet.sleep(c, x, small_params(), seed=6)
    assert all(np.array_equal(p, q) for p, q in zip(a, b))
    assert not all(np.array_equal(p, q) for p, q in zip(a, c))


def test_float32_and_float64_sleep_alike(x):
    w32, w64 = make_weights(np.float32), make_weights(np.float64)
    sleepnet.sleep(w32, x, small_params(), seed=2)
    sleepnet.sleep(w64, x, small_params(), seed=2)
    assert np.abs(w32[0] - w64[0]).max() < 1e-3


@pytest.mark.parametrize(
    "spoil, error, words",
    [
        (lambda w: [w[0].astype(np.float16), w[1]], TypeError, "weights[0] (layer 1): dtype float16"),
        (lambda w: [w[0].astype(np.int32), w[1]], TypeError, "dtype int32"),
        (lambda w: [w[0], w[1].astype(np.float64)], TypeError, "all layers need the same dtype"),
        (lambda w: [np.asfortranarray(w[0]), w[1]], sleepnet.InvalidArgument, "not C-contiguous"),
        (lambda w: [w[0], np.zeros((8, 20), np.float32)[::2]], sleepnet.InvalidArgument, "layer 2): not C-contiguous"),
        (lambda w: [w[0].tolist(), w[1]], TypeError, "expected a numpy array, got 'list'"),
        (lambda w: (w[0], w[1]) and w[0], TypeError, "expected a list of 2-D numpy arrays"),
        (lambda w: [w[0][None], w[1]], sleepnet.InvalidArgument, "expected a 2-D (out, in) array"),
        (lambda w: [w[0], w[1].T.copy()], sleepnet.InvalidArgument, "takes 4 inputs but the layer below has 20"),
    ],
)
def test_anything_that_would_need_a_copy_is_refused(x, spoil, error, words):
    w = make_weights(np.float32)
    spoiled = spoil(w)
    before = [a.copy() for a in w]
    with pytest.raises(error, match=None) as e:
        sleepnet.sleep(spoiled, x, small_params(), seed=1)
    assert words in str(e.value)
    assert all(np.array_equal(a, b) for a, b in zip(w, before))


def test_read_only_weights_are_refused(x):
    w = make_weights(np.float32)
    w[1].setflags(write=False)
    with pytest.raises(sleepnet.InvalidArgument, match=r"weights\[1\] \(layer 2\): read-only"):
        sleepnet.sleep(w, x, small_params())


def test_the_sleep_input_may_be_converted(x):
    a, b = make_weights(np.float32), make_weights(np.float32)
    sleepnet.sleep(a, x, small_params(), seed=4)
    sleepnet.sleep(b, x.astype(np.float32).tolist(), small_params(), seed=4)  # a list, converted
    assert all(np.array_equal(p, q) for p, q in zip(a, b))


def test_library_errors_arrive_with_their_messages(x, tmp):
    w = make_weights(np.float32)
    with pytest.raises(sleepnet.InvalidArgument) as e:
        sleepnet.sleep(w, x, dict(small_params(), rate=-1.0))
    assert str(e.value) == "sleep parameters: rate must be finite and > 0, got -1.000000"
    assert isinstance(e.value, ValueError) and isinstance(e.value, sleepnet.Error)
    with pytest.raises(sleepnet.InvalidArgument, match="3 thresholds given, the network has 2 simulated layers"):
        sleepnet.sleep(w, x, dict(small_params(), thresholds=[1.0, 1.0, 1.0]))
    with pytest.raises(sleepnet.InvalidArgument, match="unknown sleep preset 'nope'"):
        sleepnet.preset("nope")
    with pytest.raises(OSError) as e:
        sleepnet.sleep(w, x, str(tmp / "missing.json"))
    assert isinstance(e.value, sleepnet.IoError) and "missing.json" in str(e.value)
    (tmp / "bad.json").write_text("{ not json")
    with pytest.raises(sleepnet.FormatError):
        sleepnet.params(str(tmp / "bad.json"))
    w[0][0, 0] = np.nan
    with pytest.raises(ArithmeticError, match="layer 1 weights are non-finite before sleep"):
        sleepnet.sleep(w, x, small_params())
    with pytest.raises(sleepnet.InvalidArgument, match="sleep: hidden layers must be ReLU"):
        sleepnet.sleep(make_weights(np.float32), x, small_params(), network={"hidden_activation": "linear"})
    with pytest.raises(sleepnet.InvalidArgument, match="'bias' is true, but only weight matrices were given"):
        sleepnet.sleep(make_weights(np.float32), x, small_params(), network={"bias": True})


def test_parameter_files_presets_and_dicts_agree(x, tmp):
    import json

    p = sleepnet.params(small_params())
    assert p["rate"] == sleepnet.preset("patches")["rate"] and p["steps"] == 400
    (tmp / "p.json").write_text(json.dumps(p))
    assert sleepnet.params(str(tmp / "p.json")) == p
    a, b = make_weights(np.float64), make_weights(np.float64)
    sleepnet.sleep(a, x, p, seed=9)
    sleepnet.sleep(b, x, str(tmp / "p.json"), seed=9)
    assert all(np.array_equal(u, v) for u, v in zip(a, b))


def test_callback_sees_progress_and_stops_sleep(x):
    w = make_weights(np.float32)
    seen = []
    report = sleepnet.sleep(w, x, small_params(), callback=lambda p: seen.append(p) or p["step"] >= 200, every=100)
    assert [p["step"] for p in seen] == [100, 200]
    assert seen[0]["steps"] == 400 and len(seen[0]["spikes"]) == 2
    assert report["steps"] == 200 and report["stopped_early"]
    # the weights are those of an uninterrupted 200-step sleep
    ref = make_weights(np.float32)
    sleepnet.sleep(ref, x, small_params(200))
    assert all(np.array_equal(a, b) for a, b in zip(w, ref))


def test_an_exception_in_the_callback_restores_the_weights_and_propagates(x):
    w = make_weights(np.float32)
    before = [a.copy() for a in w]

    def boom(p):
        raise KeyError("stop here")

    with pytest.raises(KeyError, match="stop here"):
        sleepnet.sleep(w, x, small_params(), callback=boom, every=50)
    assert all(np.array_equal(a, b) for a, b in zip(w, before))


def test_the_gil_is_released_while_sleeping(x):
    w = make_weights(np.float32)
    ticks, seen = [], []
    done = threading.Event()

    def count():
        while not done.is_set():
            ticks.append(1)

    t = threading.Thread(target=count)
    t.start()
    try:  # between two callbacks only the sleep loop runs: the thread ticks only if it has the GIL
        sleepnet.sleep(w, x, small_params(300000), callback=lambda p: seen.append(len(ticks)), every=100000)
    finally:
        done.set()
        t.join()
    assert len(seen) == 3 and seen[1] > seen[0] and seen[2] > seen[1]


def test_record_raster_replays_to_the_same_weights(x):
    p = small_params()
    raster = sleepnet.record_raster(x, p, seed=7)
    assert raster.shape == (400, 30) and raster.dtype == np.uint8
    a, b = make_weights(np.float32), make_weights(np.float32)
    sleepnet.sleep(a, x, p, seed=7)
    sleepnet.sleep(b, x, p, raster=raster, seed=12345)
    assert all(np.array_equal(u, v) for u, v in zip(a, b))
    with pytest.raises(sleepnet.InvalidArgument, match="the raster has 10 rows but sleep runs 400 steps"):
        sleepnet.sleep(b, x, p, raster=raster[:10])


def test_normalization_factors_chain_the_scales(x):
    w = make_weights(np.float64)
    n = sleepnet.normalization(w, x)
    assert n["factors"] == sleepnet.chain_factors(n["scale"], "authors")
    assert sleepnet.normalization_factors(w, x) == n["factors"]
    # alpha of the report = factors * alpha_scale
    report = sleepnet.sleep(w, x, small_params())
    assert np.allclose(report["alpha"], np.array(n["factors"]) * sleepnet.preset("patches")["alpha_scale"], rtol=0)


def test_max_spikes_stops_sleep(x):
    w = make_weights(np.float32)
    report = sleepnet.sleep(w, x, small_params(), max_spikes=50)
    assert report["stopped_early"] and report["budget_stopped_at"] == report["steps"] < 400
