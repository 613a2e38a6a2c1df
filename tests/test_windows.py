"""``ops/windows.py``: Im2Col and Col2Im (the convolutions' and pools' windows) against
central differences, each the other's transpose, on the strict device too."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_rnn as tr
from tinygrad_rnn.ops.windows import Col2Im, Im2Col
from tinygrad_rnn.testing import gradcheck, gradgradcheck

from .conftest import DEVICES


@st.composite
def windows(draw, max_axes: int = 3, distinct: bool = False):
    """(x array, k, stride, dilation, n_out) for 1 to ``max_axes`` spatial axes, small;
    ``distinct``: no two values of x equal (each window's maximum unique, so central
    differences see one slope)."""
    d = draw(st.integers(1, max_axes))
    k = tuple(draw(st.integers(1, 3)) for _ in range(d))
    s = tuple(draw(st.integers(1, 3)) for _ in range(d))
    dl = tuple(draw(st.integers(1, 2)) for _ in range(d))
    n_out = tuple(draw(st.integers(1, 3)) for _ in range(d))
    size = tuple(si * (n - 1) + di * (ki - 1) + 1 + draw(st.integers(0, 1))
                 for si, n, di, ki in zip(s, n_out, dl, k))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 2)), *size)
    x = (rng.permutation(math.prod(shape)).reshape(shape) / 7.0 if distinct
         else rng.standard_normal(shape))
    return x, k, s, dl, n_out


@settings(max_examples=15, deadline=None)
@given(case=windows())
def test_im2col_and_col2im_match_central_differences_and_are_transposes(case):
    x, k, s, dl, n_out = case
    kw = dict(k=k, stride=s, dilation=dl, n_out=n_out)
    xt = tr.tensor(x, requires_grad=True)
    assert gradcheck(lambda t: Im2Col.apply(t, **kw), (xt,))
    assert gradgradcheck(lambda t: Im2Col.apply(t, **kw) ** 2, (xt,))
    cols = Im2Col.apply(tr.tensor(x), **kw)
    y = np.random.default_rng(1).standard_normal(cols.shape)
    back = Col2Im.apply(tr.tensor(y), size=x.shape[2:], k=k, stride=s, dilation=dl)
    # <Im2Col x, y> = <x, Col2Im y>
    np.testing.assert_allclose((cols.numpy() * y).sum(), (x * back.numpy()).sum(), rtol=1e-12)
    yt = tr.tensor(y, requires_grad=True)
    assert gradcheck(lambda t: Col2Im.apply(t, size=x.shape[2:], k=k, stride=s, dilation=dl),
                     (yt,))
    # tap j of window l is x[l * s + j * d]
    j = tuple(ki - 1 for ki in k)
    flat_j = int(np.ravel_multi_index(j, k))
    idx = (slice(None), slice(None), *(slice(ji * di, ji * di + si * (n - 1) + 1, si)
                                       for ji, di, si, n in zip(j, dl, s, n_out)))
    np.testing.assert_array_equal(cols.numpy()[:, :, flat_j], x[idx])


@pytest.mark.parametrize("device", DEVICES)
def test_windows_on_every_device_equal_the_cpu(device):
    x = np.random.default_rng(2).standard_normal((2, 3, 7, 6))
    kw = dict(k=(3, 2), stride=(2, 1), dilation=(1, 2), n_out=(3, 4))
    ref = tr.tensor(x, requires_grad=True)
    (Im2Col.apply(ref, **kw) ** 2).sum().backward()
    t = tr.tensor(x, device=device, requires_grad=True)
    (Im2Col.apply(t, **kw) ** 2).sum().backward()
    np.testing.assert_allclose(t.grad.numpy(), ref.grad.numpy(), rtol=1e-12)
