"""Shared test setup: Hypothesis profiles, the devices every op is tested on, and helpers.

Devices: "cpu" (NumPy), "strict" (NumPy behind a wrapper that fails on any plain-NumPy leak,
so CI without a GPU catches ops that bypass xp) and, where CuPy sees a GPU, "cuda" (marked
``gpu``, so ``pytest -m gpu`` runs exactly the CuPy cases).
"""

from __future__ import annotations

import os

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

import tinygrad_rnn as tr
from tinygrad_rnn.testing import strict

strict.register()

settings.register_profile(
    "ci", max_examples=25, derandomize=True, deadline=None, print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "thorough", max_examples=400, deadline=None, print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile("dev", max_examples=10, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

gpu = pytest.mark.gpu
needs_cuda = pytest.mark.skipif(not tr.cuda.is_available(), reason="needs CuPy and a CUDA GPU")

# every op test runs on each of these
DEVICES = ["cpu", "strict", pytest.param("cuda", marks=[gpu, needs_cuda])]


def to_np(x: tr.Tensor) -> np.ndarray:
    return x.numpy()
