"""Fixtures of the sleepnet Python tests: small bias-free ReLU networks and inputs."""

import os

import numpy as np
import pytest


def make_weights(dtype, sizes=(30, 20, 4), seed=0):
    rng = np.random.default_rng(seed)
    return [rng.uniform(-0.1, 0.3, (sizes[i + 1], sizes[i])).astype(dtype) for i in range(len(sizes) - 1)]


def small_params(steps=400):
    return {"preset": "patches", "thresholds": [1.0, 0.7], "steps": steps}


@pytest.fixture
def x():
    return np.random.default_rng(1).uniform(0.0, 1.0, (12, 30))


@pytest.fixture
def tmp(tmp_path):
    return tmp_path


def example_exe(variable, program):
    """The built example program CTest names in `variable`; fails the test without it."""
    exe = os.environ.get(variable)
    if not exe or not os.path.exists(exe):
        pytest.fail(f"{variable} must name the built `{program}` example (CTest sets it)")
    return exe


@pytest.fixture
def sleep_exe():
    return example_exe("SLEEPNET_SLEEP_EXE", "sleep")


@pytest.fixture
def audit_exe():
    return example_exe("SLEEPNET_AUDIT_EXE", "audit")
