"""More of ``nn``: fractional max pooling, ``multi_head_attention_forward``, antialiased
``interpolate``, ``linear_cross_entropy`` and ``CrossMapLRN2d``. Gradients against central
differences in float64 on Hypothesis-drawn cases; values, indices and gradients against torch
(tests marked ``torch``)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_rnn as tr
from tinygrad_rnn import functional as F
from tinygrad_rnn import nn
from tinygrad_rnn.testing import gradcheck

from .conftest import DEVICES


def _torch():
    return pytest.importorskip("torch")


# ---------------------------------------------------------------- fractional max pooling

@st.composite
def fractional_cases(draw):
    """(d, x, kernel, output size, samples): 2 or 3 spatial axes, each output + kernel - 1
    within the input."""
    d = draw(st.sampled_from([2, 3]))
    k = tuple(draw(st.integers(1, 3)) for _ in range(d))
    size = tuple(draw(st.integers(kk, kk + (6 if d == 2 else 3))) for kk in k)
    size = tuple(n + (d == 3) for n in size)  # torch's 3-D pool needs a position more
    out = tuple(draw(st.integers(1, n - kk + 1 - (d == 3))) for n, kk in zip(size, k))
    n, c = draw(st.integers(1, 2)), draw(st.integers(1, 3))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    x = rng.permutation(n * c * int(np.prod(size))).reshape(n, c, *size) / 7.0  # no ties
    return d, x, k, out, rng.random((n, c, d))


@pytest.mark.torch
@settings(deadline=None)
@given(case=fractional_cases(), dtype=st.sampled_from([np.float32, np.float64]))
def test_fractional_max_pool_values_indices_and_gradient_are_torchs(case, dtype):
    torch = _torch()
    d, x, k, out, u = case
    x, u = x.astype(dtype), u.astype(dtype)
    ours = getattr(F, f"fractional_max_pool{d}d")
    theirs = getattr(torch.nn.functional, f"fractional_max_pool{d}d")
    xt = torch.tensor(x, requires_grad=True)
    yt, it = theirs(xt, k, output_size=out, _random_samples=torch.tensor(u),
                    return_indices=True)
    xs = tr.tensor(x, requires_grad=True)
    y, i = ours(xs, k, output_size=out, _random_samples=tr.tensor(u), return_indices=True)
    np.testing.assert_array_equal(y.numpy(), yt.detach().numpy())
    np.testing.assert_array_equal(i.numpy(), it.numpy())
    assert i.dtype == np.int64
    g = np.random.default_rng(0).standard_normal(y.shape).astype(dtype)
    (yt * torch.tensor(g)).sum().backward()
    (y * tr.tensor(g)).sum().backward()
    np.testing.assert_allclose(xs.grad.numpy(), xt.grad.numpy(), rtol=1e-6)


@settings(deadline=None, max_examples=15)
@pytest.mark.parametrize("device", DEVICES)
@given(case=fractional_cases())
def test_fractional_max_pool_gradient_is_that_of_central_differences(device, case):
    d, x, k, out, u = case
    pool = getattr(F, f"fractional_max_pool{d}d")
    samples = tr.tensor(u, device=device)
    gradcheck(lambda t: pool(t, k, output_size=out, _random_samples=samples),
              [tr.tensor(x, device=device, requires_grad=True)], check_dtype=False)


@pytest.mark.torch
def test_fractional_max_pool_ratio_unbatched_nan_and_with_indices_as_torch():
    torch = _torch()
    x = np.random.default_rng(1).standard_normal((3, 9, 10))
    u = np.random.default_rng(2).random((1, 3, 2))
    y, i = F.fractional_max_pool2d_with_indices(tr.tensor(x), (2, 3), output_ratio=(0.5, 0.4),
                                                _random_samples=tr.tensor(u))
    yt, it = torch.nn.functional.fractional_max_pool2d_with_indices(
        torch.tensor(x), (2, 3), output_ratio=(0.5, 0.4), _random_samples=torch.tensor(u))
    assert y.shape == (3, 4, 4)
    np.testing.assert_array_equal(y.numpy(), yt.numpy())
    np.testing.assert_array_equal(i.numpy(), it.numpy())
    # a window holding NaNs picks its last NaN, as torch's kernel
    x = np.zeros((1, 1, 4, 4, 4))
    x[0, 0, 2, 2, 2] = x[0, 0, 3, 3, 3] = np.nan
    x[0, 0, 3, 3, 2] = 5.0
    u = np.full((1, 1, 3), 0.5)
    y, i = F.fractional_max_pool3d(tr.tensor(x), 2, 1, _random_samples=tr.tensor(u),
                                   return_indices=True)
    yt, it = torch.nn.functional.fractional_max_pool3d(
        torch.tensor(x), 2, 1, _random_samples=torch.tensor(u), return_indices=True)
    assert np.isnan(y.item()) and i.item() == it.item() == 63


def test_fractional_max_pool_modules_draw_their_samples_from_the_global_generator():
    x = tr.randn(2, 3, 12, 12)
    pool = nn.FractionalMaxPool2d(3, output_ratio=0.5, return_indices=True)
    tr.manual_seed(5)
    y1, i1 = pool(x)
    tr.manual_seed(5)
    y2, i2 = pool(x)
    y3, _ = pool(x)
    assert y1.shape == (2, 3, 6, 6)
    np.testing.assert_array_equal(i1.numpy(), i2.numpy())
    np.testing.assert_array_equal(y1.numpy(), x.reshape(2, 3, -1).gather(
        -1, i1.reshape(2, 3, -1)).reshape(2, 3, 6, 6).numpy())
    assert not np.array_equal(y1.numpy(), y3.numpy())
    fixed = nn.FractionalMaxPool3d(2, output_size=(2, 3, 4),
                                   _random_samples=tr.rand(1, 2, 3))
    assert fixed(tr.randn(2, 5, 6, 7)).shape == (2, 2, 3, 4)


@pytest.mark.parametrize("call, match", [
    (lambda x: F.fractional_max_pool2d(x, 2), "output_size or output_ratio"),
    (lambda x: F.fractional_max_pool2d(x, 2, (4, 4)), "need 5 positions"),
    (lambda x: F.fractional_max_pool2d(x, 0, (2, 2)), "kernel_size must be"),
    (lambda x: F.fractional_max_pool2d(x, 2, (2, 2), _random_samples=tr.rand(1, 2, 2)),
     r"\(1, 1, 2\)"),
    (lambda x: F.fractional_max_pool2d(x, 2, (2, 2), _random_samples=tr.rand(1, 1, 3)),
     r"\(1, 1, 2\)"),
    (lambda x: F.fractional_max_pool2d(x, 2, (2, 2), _random_samples=tr.ones(1, 1, 2)),
     r"\[0, 1\)"),
    (lambda x: F.fractional_max_pool2d(x, 2, (2, 2),
                                       _random_samples=tr.rand(1, 1, 2, dtype="float64")),
     "dtype"),
    (lambda x: F.fractional_max_pool2d(x[0, 0], 2, (2, 2)), "3-D"),
    (lambda x: F.fractional_max_pool2d(x.long(), 2, (2, 2)), "floating-point"),
    (lambda x: nn.FractionalMaxPool2d(2, (2, 2), 0.5), "exactly one"),
    (lambda x: nn.FractionalMaxPool2d(2, output_ratio=1.5), r"in \(0, 1\)"),
])
def test_fractional_max_pool_refuses_bad_arguments_clearly(call, match):
    with pytest.raises((ValueError, TypeError), match=match):
        call(tr.rand(1, 1, 4, 4))
