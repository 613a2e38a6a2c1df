"""PyTorch's names that ported code meets: ``as_strided`` (a view with a scatter-add gradient,
overlapping windows included), ``as_strided_scatter`` and the ``*_copy`` functions; each held
to torch's values and gradients, and the differentiable ones to central differences."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import tinygrad_rnn as tr
from tinygrad_rnn.testing import gradcheck, gradgradcheck

from .conftest import DEVICES


@st.composite
def strided_cases(draw):
    """(shape of x, size, stride, offset) with every position inside x's elements; windows
    may overlap (stride 0 or smaller than the size below it)."""
    shape = draw(st.lists(st.integers(1, 4), min_size=0, max_size=3).map(tuple))
    n = math.prod(shape)
    size = tuple(draw(st.lists(st.integers(0, 3), min_size=0, max_size=3)))
    stride = tuple(draw(st.integers(0, 3)) for _ in size)
    reach = sum((k - 1) * s for k, s in zip(size, stride)) if math.prod(size) else 0
    if reach >= n:  # shrink the strides until it fits
        stride = tuple(0 for _ in size)
        reach = 0
    offset = draw(st.integers(0, n - 1 - reach))
    return shape, size, stride, offset


@pytest.mark.torch
@given(case=strided_cases(), seed=st.integers(0, 2**16))
def test_as_strided_matches_torch(case, seed):
    torch = pytest.importorskip("torch")
    shape, size, stride, offset = case
    a = np.random.default_rng(seed).standard_normal(shape)
    g = np.random.default_rng(seed + 1).standard_normal(size)
    x = tr.tensor(a, requires_grad=True)
    y = tr.as_strided(x, size, stride, offset)
    (y * tr.tensor(g)).sum().backward()
    xt = torch.tensor(a, requires_grad=True)
    yt = torch.as_strided(xt, size, stride, offset)
    (yt * torch.tensor(g)).sum().backward()
    np.testing.assert_array_equal(y.numpy(), yt.detach().numpy())
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(tr.as_strided_copy(x, size, stride, offset).numpy(),
                                  torch.as_strided_copy(xt, size, stride, offset).detach())


@given(case=strided_cases())
def test_as_strided_gradcheck(case):
    shape, size, stride, offset = case
    x = tr.randn(*shape, dtype="float64", requires_grad=True)
    assert gradcheck(lambda t: t.as_strided(size, stride, offset), [x])
    assert gradgradcheck(lambda t: (t.as_strided(size, stride, offset) ** 2), [x])


@pytest.mark.torch
@given(case=strided_cases(), seed=st.integers(0, 2**16))
def test_as_strided_scatter_matches_torch(case, seed):
    torch = pytest.importorskip("torch")
    shape, size, stride, offset = case
    assume(not any(n > 1 and s == 0 for n, s in zip(size, stride)))  # refused by both
    rng = np.random.default_rng(seed)
    a, s, g = rng.standard_normal(shape), rng.standard_normal(size), rng.standard_normal(shape)
    x, src = tr.tensor(a, requires_grad=True), tr.tensor(s, requires_grad=True)
    y = tr.as_strided_scatter(x, src, size, stride, offset)
    (y * tr.tensor(g)).sum().backward()
    xt, st_ = torch.tensor(a, requires_grad=True), torch.tensor(s, requires_grad=True)
    yt = torch.as_strided_scatter(xt, st_, size, stride, offset)
    (yt * torch.tensor(g)).sum().backward()
    np.testing.assert_array_equal(y.numpy(), yt.detach().numpy())
    np.testing.assert_allclose(src.grad.numpy(), st_.grad.numpy(), rtol=1e-12, atol=1e-12)
    # input's gradient: gy with 0 where src was written (torch 2.13 returns the opposite, gy
    # only there, which its own gradcheck rejects; central differences check ours below)
    written = torch.as_strided_scatter(torch.zeros(shape), torch.ones(size), size, stride,
                                       offset).numpy().astype(bool)
    np.testing.assert_array_equal(x.grad.numpy(), np.where(written, 0.0, g))


@given(case=strided_cases())
def test_as_strided_scatter_gradcheck(case):
    shape, size, stride, offset = case
    assume(not any(n > 1 and s == 0 for n, s in zip(size, stride)))
    x = tr.randn(*shape, dtype="float64", requires_grad=True)
    src = tr.randn(*size, dtype="float64", requires_grad=True)
    assert gradcheck(lambda t, s: t.as_strided_scatter(s, size, stride, offset), [x, src])


def test_as_strided_overlapping_windows_sum_their_gradients():
    x = tr.arange(5.0, dtype="float64").requires_grad_()
    y = x.as_strided((4, 2), (1, 1))  # the sliding pairs (0,1), (1,2), (2,3), (3,4)
    np.testing.assert_array_equal(y.numpy(), [[0, 1], [1, 2], [2, 3], [3, 4]])
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [1, 2, 2, 2, 1])


@pytest.mark.torch
def test_as_strided_writes_reach_the_base_as_torch():
    torch = pytest.importorskip("torch")
    w = np.arange(4.0).reshape(2, 2)
    out = {}
    for m in (tr, torch):
        base = m.zeros(6, dtype=m.float64)
        p = m.tensor(w, requires_grad=True)
        v = base.as_strided((2, 2), (3, 1), 1)
        v.copy_(p * 2)  # recorded: base's gradient reaches p
        base[1] = base[1] + 10  # and a write into the base reaches the view
        (base * m.arange(6.0, dtype=m.float64)).sum().backward()
        out[m.__name__] = (base.detach().numpy(), v.detach().numpy(), p.grad.numpy())
    for ours, theirs in zip(out["tinygrad_rnn"], out["torch"]):
        np.testing.assert_array_equal(ours, theirs)


def test_as_strided_overlapping_view_refuses_writes():
    base = tr.zeros(5)
    v = base.as_strided((4, 2), (1, 1))
    with pytest.raises(RuntimeError, match="as_strided"):
        v.add_(1)
    np.testing.assert_array_equal(base.numpy(), np.zeros(5))  # nothing changed


def test_as_strided_view_of_slice_counts_from_its_storage_offset():
    base = tr.arange(6.0)
    part = base[2:]
    np.testing.assert_array_equal(part.as_strided((2,), (1,)).numpy(), [2, 3])
    np.testing.assert_array_equal(part.as_strided((2,), (1,), 3).numpy(), [3, 4])
    with pytest.raises(ValueError, match="before this tensor's first element"):
        part.as_strided((2,), (1,), 1)


@pytest.mark.parametrize("args, match", [
    (((2, 2), (1,)), "one stride per size"),
    (((2, 2), (-1, 1)), "negative strides"),
    (((2, -1), (1, 1)), "sizes must be >= 0"),
    (((2, 2), (1, 1), -1), "storage_offset must be >= 0"),
    (((2, 2), (1, 1), 5), "beyond the 6 elements"),
    (((2, 2), (3, 3)), "beyond the 6 elements"),
])
def test_as_strided_refuses_bad_arguments(args, match):
    with pytest.raises(ValueError, match=match):
        tr.arange(6.0).as_strided(*args)


def test_as_strided_refuses_what_it_cannot_follow():
    x = tr.arange(6.0).reshape(2, 3)
    with pytest.raises(TypeError, match="tuple of ints"):
        x.as_strided(2, 1)
    with pytest.raises(TypeError, match="element of type float"):
        x.as_strided((2.0,), (1,))
    with pytest.raises(ValueError, match="contiguous"):
        x.t().as_strided((2,), (1,))
    with pytest.raises(ValueError, match="result of diagonal"):
        x.diagonal().as_strided((2,), (1,))
    with pytest.raises(ValueError, match="stride 0"):
        tr.as_strided_scatter(tr.zeros(6), tr.ones(2, 2), (2, 2), (0, 1))
    with pytest.raises(ValueError, match=r"src of shape \(2, 2\)"):
        tr.as_strided_scatter(tr.zeros(6), tr.ones(2, 2), (2, 3), (2, 1))
    assert x.as_strided((0, 4), (9, 9), 100).shape == (0, 4)  # nothing reached, as torch


@pytest.mark.parametrize("device", DEVICES)
def test_as_strided_on_each_device(device):
    x = tr.tensor(np.arange(6.0), device=device, requires_grad=True)
    y = x.as_strided((3, 2), (2, 1), 0)
    y.sum().backward()
    assert y.device == x.grad.device == device
    np.testing.assert_array_equal(y.numpy(), np.arange(6.0).reshape(3, 2))


# ---- the *_copy functions: torch's values, a tensor of their own, the gradient through them --
COPIES = [
    ("view_copy", lambda m, t: m.view_copy(t.transpose(0, 1), (-1,))),
    ("permute_copy", lambda m, t: m.permute_copy(t, (1, 0, 2))),
    ("transpose_copy", lambda m, t: m.transpose_copy(t, 0, 2)),
    ("t_copy", lambda m, t: m.t_copy(t[0])),
    ("expand_copy", lambda m, t: m.expand_copy(t[:, :1], (2, 2, 3, 4))),
    ("squeeze_copy", lambda m, t: m.squeeze_copy(t[:, :1], 1)),
    ("unsqueeze_copy", lambda m, t: m.unsqueeze_copy(t, -1)),
    ("select_copy", lambda m, t: m.select_copy(t, 1, -1)),
    ("slice_copy", lambda m, t: m.slice_copy(t, 2, -5, 100, 2)),
    ("slice_copy_default", lambda m, t: m.slice_copy(t)),
    ("diagonal_copy", lambda m, t: m.diagonal_copy(t, 1, 1, 2)),
    ("unbind_copy", lambda m, t: m.unbind_copy(t, 1)),
    ("split_copy", lambda m, t: m.split_copy(t, 2, 2)),
    ("split_with_sizes_copy", lambda m, t: m.split_with_sizes_copy(t, [1, 3], 2)),
    ("unfold_copy", lambda m, t: m.unfold_copy(t, 2, 2, 1)),
    ("alias_copy", lambda m, t: m.alias_copy(t)),
    ("as_strided_copy", lambda m, t: m.as_strided_copy(t, (3, 3), (1, 2), 4)),
    ("view_as_real_copy", lambda m, t: m.view_as_real_copy(m.complex(t, t * 2))),
]


@pytest.mark.torch
@pytest.mark.parametrize("name, f", COPIES, ids=[c[0] for c in COPIES])
def test_copy_functions_match_torch(name, f):
    torch = pytest.importorskip("torch")
    a = np.random.default_rng(0).standard_normal((2, 3, 4))
    x, xt = tr.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    y, yt = f(tr, x), f(torch, xt)
    ys, yts = (y, yt) if isinstance(y, tuple) else ((y,), (yt,))
    assert isinstance(y, tuple) == isinstance(yt, tuple)
    for p, pt in zip(ys, yts, strict=True):
        np.testing.assert_array_equal(p.numpy(), pt.detach().numpy())
        assert p.is_contiguous() and p._base is None  # a tensor of its own
    sum(((p * p).sum() for p in ys), tr.tensor(0.0, dtype="float64")).backward()
    sum((p * p).sum() for p in yts).backward()
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-12)


@pytest.mark.torch
def test_view_as_complex_copy_matches_torch():  # (torch's has no gradient)
    torch = pytest.importorskip("torch")
    a = np.random.default_rng(0).standard_normal((3, 2))
    np.testing.assert_array_equal(tr.view_as_complex_copy(tr.tensor(a)).numpy(),
                                  torch.view_as_complex_copy(torch.tensor(a)).numpy())


def test_copy_functions_are_not_views():
    x = tr.arange(6.0).reshape(2, 3)
    y = tr.transpose_copy(x, 0, 1)
    y[0, 0] = 100.0
    assert x[0, 0].item() == 0.0
    assert not tr.detach_copy(x.requires_grad_()).requires_grad


@given(shape=st.lists(st.integers(1, 3), min_size=3, max_size=3).map(tuple))
def test_copy_functions_gradcheck(shape):
    x = tr.randn(*shape, dtype="float64", requires_grad=True)
    for f in (lambda t: tr.permute_copy(t, (2, 0, 1)), lambda t: tr.expand_copy(t, (2, *shape)),
              lambda t: tr.slice_copy(t, 1, 0, None, 2), lambda t: tr.diagonal_copy(t),
              lambda t: tr.unfold_copy(t, 0, 1, 1), lambda t: tr.unbind_copy(t, 2)):
        assert gradcheck(f, [x])
