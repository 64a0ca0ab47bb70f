"""sleepnet: the sleep algorithm of Tadros et al. (ICLR 2020) on numpy weights.

Weights are lists of 2-D ``(out, in)`` numpy arrays, float32 or float64 (the same for all
layers), bias-free, in the order of the layers (the model-directory convention). ``sleep``
changes them in place; every other function only reads them. Errors of the library
arrive as ``sleepnet.Error`` subclasses with the library's messages:
``InvalidArgument`` (a ``ValueError``), ``FormatError`` (a ``ValueError``), ``IoError``
(an ``OSError``) and ``NumericError`` (an ``ArithmeticError``).

    import numpy as np, sleepnet
    weights, info = sleepnet.load_model("out/control")
    data = sleepnet.load_dataset("mnist", "data/mnist")
    report = sleepnet.sleep(weights, data["train_x"], sleepnet.preset("mnist-fgsm"), seed=1, network=info)
    print(report["weights_changed"], sleepnet.accuracy(weights, data["test_x"], data["test_y"], network=info))

See docs/python.md.
"""

from . import _core
from ._core import (
    Error,
    FormatError,
    InvalidArgument,
    IoError,
    NumericError,
    accuracy,
    audit,
    blur_curve,
    chain_factors,
    deepfool,
    fgsm,
    fgsm_curve,
    fmn,
    load_dataset,
    load_model,
    noise_curve,
    params,
    pgd,
    predict,
    preset,
    preset_names,
    read_model_info,
    record_raster,
    save_model,
    square,
)

__all__ = [
    "Error", "FormatError", "InvalidArgument", "IoError", "NumericError",
    "sleep", "normalization", "normalization_factors", "chain_factors", "preset", "preset_names", "params",
    "record_raster", "load_model", "save_model", "read_model_info", "load_dataset",
    "accuracy", "predict", "audit", "fgsm", "deepfool", "fmn", "pgd", "square", "fgsm_curve", "noise_curve",
    "blur_curve",
]


def sleep(weights, x, params, *, seed=1, network=None, callback=None, every=1000, raster=None, max_spikes=0):
    """Sleep ``weights`` in place; returns the sleep report as a dict.

    weights   list of C-contiguous, writeable (out, in) float32 or float64 numpy arrays; they
              are changed in place. Anything that would need a copy (another dtype, a
              non-contiguous or read-only array, mixed dtypes) is refused with TypeError or
              InvalidArgument naming the layer: a copy would be slept, not your weights.
    x         sleep input (N x inputs, values in [0, 1]): read only, converted to the
              weights' dtype (a copy is made of it, never of the weights). Feeds the
              normalization and the Poisson input. May be None with ``raster`` when params
              give explicit ``alpha``.
    params    dict (the parameter-file schema; ``preset(name)`` gives one) or a file path.
    seed      seeds the engine of the input spikes exactly as ``sleep --seed`` does: same
              inputs, parameters and seed give bit-identical weights to the C++ program.
    network   None (ReLU hidden and output, no dropout), a dict of model.json keys
              (``read_model_info`` gives one) or a model directory: needed for the
              normalization when the network has dropout or a linear output.
    callback  called as callback({"step", "steps", "spikes"}) every ``every`` steps and after
              the last one, with the GIL held; a true result stops sleep (the weights keep
              the changes made so far; report["stopped_early"]). If the callback raises (or
              Ctrl-C arrives), sleep stops, the weights are restored to their values before
              the call and the exception propagates.
    raster    a (steps x inputs) 0/1 array to replay instead of Poisson input.
    max_spikes  stop once all layers together spiked more than this (0: no limit).

    The GIL is released while sleeping; do not change the arrays from another thread.
    If a weight becomes non-finite the weights are restored and NumericError is raised.
    """
    return _core.sleep(weights, x, params, seed=seed, network=network, callback=callback, every=every,
                       raster=raster, max_spikes=max_spikes)


def normalization(weights, x, *, chain="authors", percentile=99.9, network=None):
    """Data-based normalization of ``weights`` on ``x``: dict of per-layer lists
    max_activation, max_weight, scale and factors (chain: authors | textbook | percentile)."""
    return _core.normalization(weights, x, chain=chain, percentile=percentile, network=network)


def normalization_factors(weights, x, *, chain="authors", percentile=99.9, network=None):
    """The per-layer normalization factors (sleep's alpha_l = factor_l * alpha_scale)."""
    return normalization(weights, x, chain=chain, percentile=percentile, network=network)["factors"]
