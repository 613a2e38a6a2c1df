"""``ops/conv.py``: Conv, ConvInput and ConvWeight (the convolutions' three ops, each the
others' gradient) against central differences, twice differentiated, each the others'
transpose, on every path (im2col + matmul, grouped, depthwise, a 1x1 kernel that needs no
copy) and, through ``functional``, against torch in float64; the pools' ``WindowMax``
(with ``window_argmax``) and ``WindowSum`` (``ops/windows.py``) likewise."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import tinygrad_rnn as tr
from tinygrad_rnn import functional as F
from tinygrad_rnn.ops.conv import Conv, ConvInput, ConvWeight, Geometry
from tinygrad_rnn.ops.windows import WindowMax, WindowSum, _tap, window_argmax
from tinygrad_rnn.testing import gradcheck, gradgradcheck

from .conftest import DEVICES
from .test_windows import windows


@st.composite
def conv_geometries(draw):
    """(x, w, g arrays, geometry, n_out): 1 or 2 spatial axes, any groups, depthwise (one
    input and one output channel per group) half the time, uneven padding, small; n_out may
    leave room at the end."""
    d = draw(st.integers(1, 2))
    groups = draw(st.integers(1, 3))
    if draw(st.booleans()):  # depthwise
        c = o = groups
    else:
        c, o = groups * draw(st.integers(1, 2)), groups * draw(st.integers(1, 2))
    k = tuple(draw(st.integers(1, 3)) for _ in range(d))
    stride = tuple(draw(st.sampled_from([1, 1, 2])) for _ in range(d))
    dilation = tuple(draw(st.integers(1, 2)) for _ in range(d))
    pads = tuple((draw(st.integers(0, 2)), draw(st.integers(0, 2))) for _ in range(d))
    size = tuple(draw(st.integers(1, 5)) for _ in range(d))
    n_out = tuple((m + a + b - dl * (kk - 1) - 1) // s + 1
                  for m, (a, b), dl, kk, s in zip(size, pads, dilation, k, stride))
    assume(all(m + a + b >= dl * (kk - 1) + 1
               for m, (a, b), dl, kk in zip(size, pads, dilation, k)))
    # sometimes fewer windows than fit: room at the end, as a transposed convolution's
    # output_padding leaves
    n_out = tuple(max(1, m - draw(st.integers(0, 1))) for m in n_out)
    n = draw(st.integers(1, 2))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    x = rng.standard_normal((n, c, *size))
    w = rng.standard_normal((o, c // groups, *k))
    g = rng.standard_normal((n, o, *n_out))
    return x, w, g, Geometry(k, stride, dilation, pads, groups), n_out


@settings(max_examples=25, deadline=None)
@pytest.mark.parametrize("device", DEVICES)
@given(case=conv_geometries())
def test_conv_ops_gradients_are_those_of_central_differences(device, case):
    x, w, g, geo, n_out = case
    xt, wt, gt = (tr.tensor(a, device=device, requires_grad=True) for a in (x, w, g))
    size = x.shape[2:]
    assert gradcheck(lambda a, b: Conv.apply(a, b, geo=geo, n_out=n_out), (xt, wt))
    assert gradcheck(lambda a, b: ConvInput.apply(a, b, geo=geo, size=size), (gt, wt))
    assert gradcheck(lambda a, b: ConvWeight.apply(a, b, geo=geo), (xt, gt))


@settings(max_examples=10, deadline=None)
@given(case=conv_geometries())
def test_conv_ops_second_derivatives_are_those_of_central_differences(case):
    x, w, g, geo, n_out = case
    xt, wt, gt = (tr.tensor(a, requires_grad=True) for a in (x, w, g))
    size = x.shape[2:]
    assert gradgradcheck(lambda a, b: Conv.apply(a, b, geo=geo, n_out=n_out), (xt, wt))
    assert gradgradcheck(lambda a, b: ConvInput.apply(a, b, geo=geo, size=size), (gt, wt))
    assert gradgradcheck(lambda a, b: ConvWeight.apply(a, b, geo=geo), (xt, gt))


@settings(max_examples=25, deadline=None)
@given(case=conv_geometries())
def test_conv_ops_are_each_others_transposes(case):
    """<Conv(x, w), g> = <x, ConvInput(g, w)> = <w, ConvWeight(x, g)>: one bilinear form."""
    x, w, g, geo, n_out = case
    y = Conv.apply(tr.tensor(x), tr.tensor(w), geo=geo, n_out=n_out).numpy()
    gx = ConvInput.apply(tr.tensor(g), tr.tensor(w), geo=geo, size=x.shape[2:]).numpy()
    gw = ConvWeight.apply(tr.tensor(x), tr.tensor(g), geo=geo).numpy()
    assert y.shape == g.shape and gx.shape == x.shape and gw.shape == w.shape
    form = (y * g).sum()
    np.testing.assert_allclose((x * gx).sum(), form, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose((w * gw).sum(), form, rtol=1e-10, atol=1e-10)


def test_conv_ops_leave_their_inputs_alone_and_return_fresh_arrays():
    """The 1x1 path reads x without a copy, and its input gradient is the matmul's own
    array: neither may alias or change an input."""
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((2, 3, 4, 5)), rng.standard_normal((6, 3, 1, 1))
    xt, wt = tr.tensor(x, requires_grad=True), tr.tensor(w, requires_grad=True)
    y = F.conv2d(xt, wt)
    y.backward(tr.tensor(np.ones(y.shape)))
    np.testing.assert_array_equal(xt.numpy(), x)
    assert not np.shares_memory(y.numpy(), x) and not np.shares_memory(xt.grad.numpy(), x)
    np.testing.assert_allclose(xt.grad.numpy(), np.broadcast_to(
        w.sum(0).reshape(1, 3, 1, 1), x.shape), rtol=1e-12)


# (functional name, input shape, weight shape, options): each path of ops/conv.py
TORCH_CASES = [
    ("conv2d", (2, 4, 7, 6), (4, 1, 3, 3), dict(padding=1, groups=4)),  # depthwise
    ("conv2d", (2, 3, 7, 6), (3, 1, 2, 3), dict(padding="same", dilation=(2, 1), groups=3)),
    ("conv2d", (1, 3, 9, 8), (3, 1, 3, 3), dict(padding=(0, 2), groups=3)),
    ("conv1d", (2, 5, 11), (5, 1, 4), dict(padding="same", dilation=3, groups=5)),
    ("conv2d", (2, 3, 7, 6), (6, 1, 3, 3), dict(padding=1, groups=3)),  # channel multiplier
    ("conv2d", (2, 4, 7, 6), (4, 1, 3, 3), dict(padding=1, stride=2, groups=4)),
    ("conv2d", (2, 4, 5, 6), (6, 4, 1, 1), {}),  # 1x1: no copy
    ("conv2d", (2, 4, 5, 6), (6, 2, 3, 2), dict(stride=(2, 1), padding=(1, 0), groups=2)),
    ("conv1d", (3, 4, 20), (6, 4, 3), dict(padding="same", dilation=4)),
    ("conv_transpose2d", (2, 4, 5, 4), (4, 1, 3, 3), dict(padding=1, groups=4)),
    ("conv_transpose2d", (2, 4, 5, 4), (4, 3, 3, 3), dict(stride=2, padding=1,
                                                          output_padding=1)),
    ("conv_transpose1d", (2, 3, 6), (3, 2, 3), dict(stride=1, dilation=2, output_padding=1)),
    ("conv_transpose1d", (2, 3, 6), (3, 1, 3), dict(dilation=2, output_padding=1, groups=3)),
    ("conv_transpose2d", (2, 2, 5, 4), (2, 1, 3, 2), dict(dilation=2, output_padding=1,
                                                          groups=2, padding=(1, 0))),
]


@pytest.mark.torch
@pytest.mark.parametrize("name, xs, ws, opts", TORCH_CASES)
def test_every_conv_path_matches_torch(name, xs, ws, opts):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    out = ws[1] * opts.get("groups", 1) if name.startswith("conv_transpose") else ws[0]
    arrays = [rng.standard_normal(xs), rng.standard_normal(ws), rng.standard_normal(out)]
    ours = [tr.tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    y = getattr(F, name)(*ours, **opts)
    with warnings.catch_warnings():  # torch warns (once) of a copy for some "same" pads
        warnings.simplefilter("ignore", UserWarning)
        yt = getattr(torch.nn.functional, name)(*theirs, **opts)
    assert y.shape == tuple(yt.shape)
    np.testing.assert_allclose(y.numpy(), yt.detach().numpy(), rtol=1e-10, atol=1e-12)
    g = np.random.default_rng(1).standard_normal(y.shape)
    y.backward(tr.tensor(g))
    yt.backward(torch.tensor(g))
    for a, at in zip(ours, theirs):
        np.testing.assert_allclose(a.grad.numpy(), at.grad.numpy(), rtol=1e-10, atol=1e-12)


def pool_windows():
    """Windows that may overlap, on 1 or 2 axes, over distinct values."""
    return windows(max_axes=2, distinct=True)


@settings(max_examples=20, deadline=None)
@pytest.mark.parametrize("device", DEVICES)
@given(case=pool_windows())
def test_window_max_is_the_windows_maximum_and_its_gradient(device, case):
    x, k, s, dl, n_out = case
    kw = dict(k=k, stride=s, dilation=dl, n_out=n_out)
    windows = np.stack([x[_tap(js, s, dl, n_out)] for js in np.ndindex(*k)], -1)
    best = WindowMax.apply(tr.tensor(x), **kw).numpy()
    np.testing.assert_array_equal(best, windows.max(-1))
    np.testing.assert_array_equal(window_argmax(x, best, k, s, dl), windows.argmax(-1))
    xt = tr.tensor(x, device=device, requires_grad=True)
    assert gradcheck(lambda t: WindowMax.apply(t, **kw), (xt,))
    assert gradgradcheck(lambda t: WindowMax.apply(t, **kw) ** 2, (xt,))


@settings(max_examples=20, deadline=None)
@pytest.mark.parametrize("device", DEVICES)
@given(case=pool_windows())
def test_window_sum_is_the_windows_sum_and_its_gradient(device, case):
    x, k, s, dl, n_out = case
    kw = dict(k=k, stride=s, dilation=dl, n_out=n_out)
    windows = np.stack([x[_tap(js, s, dl, n_out)] for js in np.ndindex(*k)], -1)
    got = WindowSum.apply(tr.tensor(x, device=device), **kw).numpy()
    np.testing.assert_allclose(got, windows.sum(-1), rtol=1e-12)
    xt = tr.tensor(x, device=device, requires_grad=True)
    assert gradcheck(lambda t: WindowSum.apply(t, **kw), (xt,))
    assert gradgradcheck(lambda t: WindowSum.apply(t, **kw) ** 2, (xt,))


def test_window_max_gives_a_tie_to_its_first_tap_and_a_nan_window_to_its_first_nan():
    x = np.array([[[1.0, 3.0, 3.0, 2.0, np.nan, 5.0, np.nan, 4.0, 2.0, 2.0]]])
    xt = tr.tensor(x, requires_grad=True)
    y = WindowMax.apply(xt, k=(2,), stride=(2,), dilation=(1,), n_out=(5,))
    np.testing.assert_array_equal(y.numpy(), [[[3.0, 3.0, np.nan, np.nan, 2.0]]])
    np.testing.assert_array_equal(window_argmax(x, y.numpy(), (2,), (2,), (1,)),
                                  [[[1, 0, 0, 0, 0]]])
    y.backward(tr.tensor(np.arange(1.0, 6.0).reshape(1, 1, 5)))
    np.testing.assert_array_equal(xt.grad.numpy(), [[[0, 1, 2, 0, 3, 0, 4, 0, 5, 0]]])


@pytest.mark.parametrize("call", [
    lambda x: F.conv2d(x, tr.ones(4, 3, 3, 3, requires_grad=True), padding=1),
    lambda x: F.conv2d(x, tr.ones(3, 1, 3, 3, requires_grad=True), padding=1, groups=3),
    lambda x: F.conv_transpose2d(x, tr.ones(3, 2, 3, 3, requires_grad=True), stride=2),
    lambda x: F.max_pool2d(x, 2),
    lambda x: F.avg_pool2d(x, 2),
], ids=["conv2d", "depthwise", "conv_transpose2d", "max_pool2d", "avg_pool2d"])
def test_an_empty_batch_gives_an_empty_result_and_gradient(call):
    x = tr.zeros(0, 3, 6, 6, requires_grad=True)
    y = call(x)
    assert y.shape[0] == 0
    y.sum().backward()
    assert x.grad.shape == x.shape
