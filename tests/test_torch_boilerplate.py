"""What the first lines of a PyTorch script call, here: tr.device, tr.cuda's seeding and
counts, tr.backends.cudnn flags, set_grad_enabled, inference_mode, is_tensor,
get_default_dtype, x.device.type."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_rnn as tr
from tinygrad_rnn import nn

from .conftest import HAS_CUDA


def test_device_objects_go_where_device_names_go():
    dev = tr.device("cuda" if tr.cuda.is_available() else "cpu")
    assert dev == ("cuda" if HAS_CUDA else "cpu") and dev.type == dev and dev.index is None
    assert tr.device("cuda:0").type == "cuda" and tr.device("cuda", 0).index == 0
    assert tr.device(dev) is dev and str(tr.device("cpu")) == "cpu"
    x = tr.ones(2).to(dev)
    model = nn.Linear(2, 1).to(dev)
    assert x.device == dev and x.device.type == dev.type and model(x).device.type == dev.type
    assert tr.zeros(2, device=tr.device("cpu")).device.type == "cpu"
    with pytest.raises(TypeError, match="device name such as 'cpu' or 'cuda'"):
        tr.device(0)
    for bad in ("gpu", "cuda:x"):
        with pytest.raises(ValueError, match=f"unknown device '{bad}'"):
            tr.device(bad)


def test_a_device_saves_as_its_name(tmp_path):
    path = tmp_path / "cfg.pt"
    tr.save({"device": tr.ones(1).device, "other": tr.device("cuda")}, path)
    assert tr.load(path) == {"device": "cpu", "other": "cuda"}


def test_seeding_and_flags_scripts_set():
    tr.cuda.manual_seed_all(5)
    a = tr.randn(3).numpy()
    tr.cuda.manual_seed(5)
    np.testing.assert_array_equal(tr.randn(3).numpy(), a)  # one generator for every device
    assert tr.cuda.device_count() == (tr.cuda.device_count() if HAS_CUDA else 0)
    tr.backends.cudnn.deterministic = True
    tr.backends.cudnn.benchmark = False
    assert tr.backends.cudnn.deterministic and not tr.backends.cudnn.is_available()
    tr.backends.cudnn.deterministic = False
    assert tr.is_tensor(tr.ones(1)) and not tr.is_tensor(np.ones(1))
    assert tr.get_default_dtype() == np.float32 and tr.ones(1).dtype == tr.get_default_dtype()
    assert not tr.ones(1).is_cuda or HAS_CUDA


def test_set_grad_enabled_and_inference_mode():
    w = tr.ones(2, requires_grad=True)
    with tr.set_grad_enabled(False):
        assert not (w * 2).requires_grad
    assert (w * 2).requires_grad  # restored
    tr.set_grad_enabled(False)  # called, not entered: takes effect now, as torch's
    try:
        assert not tr.is_grad_enabled()
    finally:
        tr.set_grad_enabled(True)
    with tr.inference_mode():
        assert not (w * 2).requires_grad
    with tr.inference_mode(False):
        assert (w * 2).requires_grad

    @tr.inference_mode()
    def predict(x):
        return x * 2

    assert not predict(w).requires_grad
    with tr.no_grad(), tr.inference_mode(False):  # recording on again, as torch's
        assert tr.is_grad_enabled()

    @tr.set_grad_enabled(False)
    def frozen(x):
        return x * 2

    assert tr.is_grad_enabled()  # making the decorator changed nothing
    assert not frozen(w).requires_grad and (w * 2).requires_grad
    ctx = tr.set_grad_enabled(False)  # made outside a with: the mode is off from here
    try:
        for _ in range(2):  # one object entered twice applies its mode each time
            with ctx:
                assert not tr.is_grad_enabled()
            assert tr.is_grad_enabled()  # the mode before it was made
    finally:
        tr.set_grad_enabled(True)
