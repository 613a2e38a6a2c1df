"""Shared test setup: Hypothesis profiles, the devices every op is tested on, and helpers.

Devices: "cpu" (NumPy), "strict" (NumPy behind a wrapper that fails on any plain-NumPy leak,
so CI without a GPU catches ops that bypass xp) and, where CuPy sees a GPU, "cuda" (marked
``gpu``, so ``pytest -m gpu`` runs exactly the CuPy cases).
"""

from __future__ import annotations

import os
import warnings
import zlib

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

# pytest already turns warnings into errors here (pyproject's filterwarnings): a warning while
# CuPy imports must not pass for "no GPU"
with warnings.catch_warnings():
    warnings.simplefilter("default")
    HAS_CUDA = tr.cuda.is_available()
if os.environ.get("TINYGRAD_RNN_REQUIRE_GPU") == "1" and not HAS_CUDA:  # gpu_check.sh sets it
    raise pytest.UsageError("TINYGRAD_RNN_REQUIRE_GPU=1, but CuPy sees no GPU: "
                            f"{tr.backend._cupy_error}")



@pytest.fixture(autouse=True)
def _seeded_rng(request):
    """Every test draws from tr's generator seeded by its own name, so a run is reproducible
    and a test's numbers do not depend on which tests ran before it. Set
    TINYGRAD_RNN_TEST_SEED to another integer to draw other numbers (it is how the suite is
    checked for tests that pass only by luck)."""
    base = int(os.environ.get("TINYGRAD_RNN_TEST_SEED", "0"))
    tr.manual_seed(zlib.crc32(request.node.nodeid.encode()) + base)
    yield
    tr.set_default_dtype("float32")  # a test that changed it leaves no trace


gpu = pytest.mark.gpu
needs_cuda = pytest.mark.skipif(not HAS_CUDA, reason="needs CuPy and a CUDA GPU")

# every op test runs on each of these
DEVICES = ["cpu", "strict", pytest.param("cuda", marks=[gpu, needs_cuda])]


def to_np(x: tr.Tensor) -> np.ndarray:
    return x.numpy()


def assert_device_equals_cpu(cases: dict, a: np.ndarray, device: str) -> None:
    """Each function of ``cases`` on ``a`` on ``device`` (the strict one refuses NumPy called
    directly, as CuPy would): the same values and gradients, of (y * y).sum(), as on the
    cpu, and results on that device."""
    for name, f in cases.items():
        x = tr.tensor(a, device=device, requires_grad=True)
        y = f(x)
        (y * y).sum().backward()
        assert y.device == x.grad.device == device, name
        ref = tr.tensor(a, requires_grad=True)
        r = f(ref)
        (r * r).sum().backward()
        np.testing.assert_allclose(y.numpy(), r.numpy(), rtol=1e-12, err_msg=name)
        np.testing.assert_allclose(x.grad.numpy(), ref.grad.numpy(), rtol=1e-10, atol=1e-12,
                                   err_msg=name)
