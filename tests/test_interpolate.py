"""``F.interpolate`` on images (4-D) and volumes (5-D): every mode against PyTorch's in float64
and float32 (values and gradients), the gradients against central differences on the CPU and
strict devices, and the errors. (3-D inputs: ``tests/test_ops_more2.py``.)"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_rnn as tr
from tinygrad_rnn import functional as F
from tinygrad_rnn.testing import gradcheck
from tinygrad_rnn.testing import strategies as tst

from .conftest import DEVICES

CASES = [{"size": 1}, {"size": 7}, {"size": (3, 8, 5)}, {"scale_factor": 0.5},
         {"scale_factor": 1.7}, {"scale_factor": (2.5, 0.6, 3.0)},
         {"scale_factor": 1.7, "recompute_scale_factor": True}]
MODES = {4: ["nearest", "nearest-exact", "bilinear", "bicubic", "area"],
         5: ["nearest", "nearest-exact", "trilinear", "area"]}


def _kwargs(case, d):
    """A case of CASES for d spatial axes (its tuples cut to d)."""
    return {k: v[:d] if isinstance(v, tuple) else v for k, v in case.items()}


@pytest.mark.torch
@pytest.mark.parametrize("shape", [(2, 3, 5, 4), (1, 2, 3, 4, 2)], ids=["4-D", "5-D"])
@pytest.mark.parametrize("align_corners", [None, False, True])
def test_interpolate_matches_torch(shape, align_corners):
    torch = pytest.importorskip("torch")
    a = np.random.default_rng(0).standard_normal(shape)
    d = len(shape) - 2
    for mode in MODES[len(shape)]:
        if align_corners is not None and mode not in ("bilinear", "bicubic", "trilinear"):
            continue
        for case in CASES:
            kw = {**_kwargs(case, d), "mode": mode, "align_corners": align_corners}
            factors = np.broadcast_to(kw.get("scale_factor", 1.0), (d,))
            if any(math.floor(L * f) < 1 for L, f in zip(shape[2:], factors)):
                continue
            for dtype, tol in ((np.float64, 1e-12), (np.float32, 1e-5)):
                x = tr.tensor(a.astype(dtype), requires_grad=True)
                t = torch.tensor(a.astype(dtype), requires_grad=True)
                y, z = F.interpolate(x, **kw), torch.nn.functional.interpolate(t, **kw)
                np.testing.assert_allclose(y.detach().numpy(), z.detach().numpy(), rtol=tol,
                                           atol=tol, err_msg=str(kw))
                w = np.random.default_rng(1).standard_normal(y.shape).astype(dtype)
                (y * tr.tensor(w)).sum().backward()
                (z * torch.tensor(w)).sum().backward()
                np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=tol, atol=tol,
                                           err_msg=str(kw))


@pytest.mark.parametrize("device", DEVICES)
@settings(max_examples=15)
@given(data=st.data())
def test_interpolate_gradients(device, data):
    ndim = data.draw(st.sampled_from([4, 5]))
    shape = (1, 2) + tuple(data.draw(st.integers(1, 4)) for _ in range(ndim - 2))
    x = data.draw(tst.tensors(shape, device=device, requires_grad=True))
    mode = data.draw(st.sampled_from(MODES[ndim]))
    size = tuple(data.draw(st.integers(1, 5)) for _ in range(ndim - 2))
    ac = data.draw(st.booleans()) if mode in ("bilinear", "bicubic", "trilinear") else None
    assert gradcheck(lambda t: F.interpolate(t, size, mode=mode, align_corners=ac), [x])


def test_interpolate_errors():
    img = tr.ones(1, 2, 4, 4)
    with pytest.raises(ValueError, match="mode 'bilinear' is for 4-D inputs, got a 3-D one"):
        F.interpolate(tr.ones(1, 2, 4), 3, mode="bilinear")
    with pytest.raises(ValueError, match="mode 'linear' is for 3-D .* use 'bilinear'"):
        F.interpolate(img, 3, mode="linear")
    with pytest.raises(ValueError, match="mode 'trilinear' is for 5-D"):
        F.interpolate(img, 3, mode="trilinear")
    with pytest.raises(ValueError, match=r"expected a 3-D \(N, C, L\), 4-D"):
        F.interpolate(tr.ones(2, 4), 3)
    with pytest.raises(ValueError, match="size must be an int >= 1 or 2 of them"):
        F.interpolate(img, (3, 3, 3))
    with pytest.raises(ValueError, match="scale_factor must be a number > 0 or 2 of them"):
        F.interpolate(img, scale_factor=(2.0,))
    with pytest.raises(ValueError, match="antialias=True is for the bilinear and bicubic"):
        F.interpolate(img, 2, mode="nearest", antialias=True)
    with pytest.raises(ValueError, match="align_corners can only be set"):
        F.interpolate(img, 3, mode="area", align_corners=False)


@pytest.mark.torch
def test_upsample_layers_match_torch():
    """The layers (and their printed form) as PyTorch's."""
    torch = pytest.importorskip("torch")
    from tinygrad_rnn import nn

    x = np.random.default_rng(2).standard_normal((1, 2, 3, 4))
    pairs = [(nn.Upsample(scale_factor=2, mode="bilinear"),
              torch.nn.Upsample(scale_factor=2, mode="bilinear")),
             (nn.UpsamplingBilinear2d(size=(5, 7)), torch.nn.UpsamplingBilinear2d(size=(5, 7))),
             (nn.UpsamplingNearest2d(scale_factor=3), torch.nn.UpsamplingNearest2d(
                 scale_factor=3)),
             (nn.Upsample(size=4), torch.nn.Upsample(size=4)),
             (nn.Upsample(scale_factor=(2, 3)), torch.nn.Upsample(scale_factor=(2, 3)))]
    for ours, theirs in pairs:
        assert repr(ours) == repr(theirs)
        np.testing.assert_allclose(ours(tr.tensor(x)).numpy(), theirs(torch.tensor(x)).numpy(),
                                   atol=1e-14)
    with pytest.raises(ValueError, match="mode must be one of"):
        nn.Upsample(scale_factor=2, mode="cubic")


@pytest.mark.torch
@pytest.mark.parametrize("ndim", [3, 4, 5])
def test_lengths_kept_or_doubled_with_a_scale_factor_match_torch(ndim):
    """An axis that keeps its length (or doubles) under a scale_factor: the linear modes copy
    it, and "nearest" takes PyTorch's shortcuts on images only, as its kernels do. Where
    PyTorch's own backward disagrees with its forward (its 1-D and 3-D "nearest", and its
    bicubic, fail its gradcheck there), the gradient is checked against central differences
    instead."""
    torch = pytest.importorskip("torch")
    modes = {3: ["linear", "nearest", "nearest-exact"], 4: ["bilinear", "bicubic", "nearest"],
             5: ["trilinear", "nearest"]}[ndim]
    for mode in modes:
        for L in (1, 2, 3, 4):
            for sc in (1.1, 1.2, 2.0, 2.2):
                a = np.random.default_rng(L).standard_normal((1, 1) + (L,) * (ndim - 2))
                x = tr.tensor(a, requires_grad=True)
                t = torch.tensor(a, requires_grad=True)
                y = F.interpolate(x, scale_factor=sc, mode=mode)
                z = torch.nn.functional.interpolate(t, scale_factor=sc, mode=mode)
                np.testing.assert_allclose(y.detach().numpy(), z.detach().numpy(), atol=1e-13)
                if mode == "bicubic" or (mode == "nearest" and ndim != 4):
                    assert gradcheck(lambda u, m=mode, s=sc: F.interpolate(
                        u, scale_factor=s, mode=m), [x])
                    continue
                y.sum().backward()
                z.sum().backward()
                np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), atol=1e-13)
