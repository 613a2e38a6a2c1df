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


def _repeats(size, stride, offset):
    at = sum(np.arange(n).reshape((n,) + (1,) * (len(size) - k - 1)) * s
             for k, (n, s) in enumerate(zip(size, stride))) + offset
    return np.unique(at).size != math.prod(size)


@pytest.mark.torch
@given(case=strided_cases(), seed=st.integers(0, 2**16))
def test_as_strided_scatter_matches_torch(case, seed):
    torch = pytest.importorskip("torch")
    shape, size, stride, offset = case
    assume(not _repeats(size, stride, offset))  # refused here (torch's result unspecified)
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
    assume(not _repeats(size, stride, offset))
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
    with pytest.raises(ValueError, match="result of as_strided"):
        x.as_strided((4,), (1,))[1:].as_strided((2,), (1,))
    with pytest.raises(ValueError, match="more than once"):
        tr.as_strided_scatter(tr.zeros(6), tr.ones(2, 2), (2, 2), (0, 1))
    with pytest.raises(ValueError, match="more than once"):
        tr.as_strided_scatter(tr.zeros(6), tr.ones(2, 2), (2, 2), (1, 1))
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


def test_view_copy_refuses_a_dtype():
    with pytest.raises(TypeError, match="another dtype"):
        tr.view_copy(tr.ones(4), tr.float64)


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


# ---- constants, queries and small functions at the top level --------------------------------
@pytest.mark.torch
def test_constants_and_queries_match_torch():
    torch = pytest.importorskip("torch")
    for name in ("pi", "e", "inf"):
        assert getattr(tr, name) == getattr(torch, name)
    assert math.isnan(tr.nan) and tr.newaxis is torch.newaxis is None
    x = tr.ones(2, 3)
    assert x[:, tr.newaxis].shape == (2, 1, 3)
    w = tr.ones(2, requires_grad=True)
    assert not tr.detach(w).requires_grad and tr.detach(w)._base.base is w
    assert tr.get_device(x) == x.get_device() == torch.get_device(torch.ones(2)) == -1
    for f in ("is_conj", "is_neg"):
        assert getattr(tr, f)(x) is getattr(x, f)() is getattr(torch, f)(torch.ones(2))
    for f in ("resolve_conj", "resolve_neg"):
        assert getattr(tr, f)(x) is x and getattr(x, f)() is x
    assert tr.typename(x) == "tinygrad_rnn.FloatTensor"
    assert tr.typename(tr.zeros(2, dtype="int64")) == "tinygrad_rnn.LongTensor"
    for obj in (3, "s", None, math.sqrt):
        assert tr.typename(obj) == torch.typename(obj)
    assert tr.typename(tr.nn.Linear) == "tinygrad_rnn.nn.layers.Linear"


@pytest.mark.torch
def test_cfloat_cdouble_unsafe_splits_match_torch():
    torch = pytest.importorskip("torch")
    a = np.random.default_rng(0).standard_normal((5, 4))
    x, xt = tr.tensor(a), torch.tensor(a)
    for name in ("cfloat", "cdouble"):
        y, yt = getattr(x, name)(), getattr(xt, name)()
        assert y.dtype == np.dtype(str(yt.dtype).split(".")[1])
        np.testing.assert_array_equal(y.numpy(), yt.numpy())
    cases = [("unsafe_split", (2,), {"dim": 0}), ("unsafe_chunk", (3,), {"dim": 1}),
             ("unsafe_split_with_sizes", ([1, 4],), {"dim": 0})]
    for name, args, kw in cases:
        for ours in (getattr(tr, name)(x, *args, **kw), getattr(x, name)(*args, **kw)):
            theirs = getattr(torch, name)(xt, *args, **kw)
            assert type(ours) is type(theirs) is tuple
            for p, pt in zip(ours, theirs, strict=True):
                np.testing.assert_array_equal(p.numpy(), pt.numpy())
    w = tr.tensor(a, requires_grad=True)
    sum((p * p).sum() for p in w.unsafe_chunk(2)).backward()
    np.testing.assert_allclose(w.grad.numpy(), 2 * a)


@pytest.mark.torch
@given(a=st.lists(st.integers(-1, 1), min_size=0, max_size=12), ndim=st.integers(0, 3),
       size=st.integers(0, 8), fill=st.integers(-3, 3))
def test_nonzero_static_matches_torch(a, ndim, size, fill):
    torch = pytest.importorskip("torch")
    v = np.array(a, dtype=np.int64)
    v = v[:1] if ndim == 0 and v.size else v
    shape = {0: (), 1: (v.size,), 2: (1, v.size), 3: (v.size, 1, 1)}[ndim]
    if ndim == 0 and v.size == 0:
        v, shape = np.array([0]), ()
    x = v.reshape(shape)
    ours = tr.nonzero_static(tr.tensor(x), size=size, fill_value=fill)
    theirs = torch.nonzero_static(torch.tensor(x), size=size, fill_value=fill)
    assert ours.dtype == np.int64
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    np.testing.assert_array_equal(tr.tensor(x).nonzero_static(size=size).numpy(),
                                  torch.tensor(x).nonzero_static(size=size).numpy())


def test_nonzero_static_refuses_bad_size():
    with pytest.raises(ValueError, match="size must be >= 0"):
        tr.nonzero_static(tr.ones(3), size=-1)
    with pytest.raises(TypeError, match="'size' must be int"):
        tr.nonzero_static(tr.ones(3), size=2.0)


def test_binomial_draws_from_the_seeded_generator():
    count, prob = tr.tensor([5.0, 10.0, 0.0, 40.0]), tr.tensor([0.5, 0.2, 0.3, 1.0])
    tr.manual_seed(3)
    a = tr.binomial(count, prob)
    tr.manual_seed(3)
    b = tr.binomial(count, prob)
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert a.dtype == count.dtype and a[2].item() == 0 and a[3].item() == 40
    assert ((a >= 0) & (a <= count)).all()
    g = tr.Generator().manual_seed(1)
    many = tr.binomial(tr.full((20000,), 10.0, dtype="float64"),
                       tr.full((20000,), 0.3, dtype="float64"), generator=g)
    assert abs(many.mean().item() - 3.0) < 0.05 and abs(many.var().item() - 2.1) < 0.1


@pytest.mark.parametrize("count, prob, err, match", [
    (tr.tensor([1, 2]), tr.tensor([0.5, 0.5]), tr.DTypeError, "floating-point"),
    (tr.tensor([1.0, 2.0]), tr.tensor([0.5, 0.5], dtype="float64"), tr.DTypeError, "match"),
    (tr.tensor([-1.0, 2.0]), tr.tensor([0.5, 0.5]), ValueError, "whole number"),
    (tr.tensor([1.5, 2.0]), tr.tensor([0.5, 0.5]), ValueError, "whole number"),
    (tr.tensor([1.0, 2.0]), tr.tensor([0.5, 1.5]), ValueError, r"\[0, 1\]"),
])
def test_binomial_refuses_bad_input(count, prob, err, match):
    with pytest.raises(err, match=match):
        tr.binomial(count, prob)


@pytest.mark.torch
def test_anomaly_flags_match_torch():
    torch = pytest.importorskip("torch")
    steps = [
        lambda m: m.set_anomaly_enabled(True, False),
        lambda m: m.set_anomaly_enabled(False),
        lambda m: m.set_anomaly_enabled(True),
        lambda m: m.set_anomaly_enabled(False),
        lambda m: m.autograd.set_detect_anomaly(True, check_nan=False),
        lambda m: m.autograd.set_detect_anomaly(False),
    ]
    try:
        for step in steps:
            seen = []
            for m in (tr, torch):
                step(m)
                seen.append((m.is_anomaly_enabled(), m.is_anomaly_check_nan_enabled()))
            assert seen[0] == seen[1]
        for m in (tr, torch):
            with pytest.warns(UserWarning) if m is torch else _nothing(), \
                    m.autograd.detect_anomaly(check_nan=False):
                assert m.is_anomaly_enabled() and not m.is_anomaly_check_nan_enabled()
            assert not m.is_anomaly_enabled() and m.is_anomaly_check_nan_enabled()
    finally:
        tr.set_anomaly_enabled(False)
        torch.set_anomaly_enabled(False)
    with pytest.raises(TypeError, match="must be bool"):
        tr.set_anomaly_enabled(1)


def _nothing():
    import contextlib

    return contextlib.nullcontext()


def test_set_anomaly_enabled_checks_every_op():
    x = tr.tensor([0.0, 1.0], requires_grad=True)
    tr.set_anomaly_enabled(True)
    try:
        with np.errstate(divide="ignore"), pytest.raises(RuntimeError, match="detect_anomaly"):
            x.log()
    finally:
        tr.set_anomaly_enabled(False)
    with np.errstate(divide="ignore"):
        x.log()  # off again


# ---- cond and while_loop: eager, with torch's checks ----------------------------------------
@pytest.mark.torch
def test_cond_runs_the_branch_and_its_gradient():
    torch = pytest.importorskip("torch")
    a = np.array([0.5, -1.0])
    for pred in (True, False, 0, 1.0):
        x, xt = tr.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
        y = tr.cond(pred, lambda t: t.sin() * 2, lambda t: t.cos(), (x,))
        yt = torch.cond(pred, lambda t: t.sin() * 2, lambda t: t.cos(), (xt,))  # eager there
        y.sum().backward()
        yt.sum().backward()
        np.testing.assert_allclose(y.numpy(), yt.detach().numpy())
        np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy())
    x = tr.tensor(a, requires_grad=True)
    y = tr.cond(x.sum() < 0, lambda t, u: t * u, lambda t, u: t + u, [x, tr.ones(2)])
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 1.0])


@pytest.mark.torch
@pytest.mark.parametrize("args", [
    lambda m, x: ("yes", lambda t: t, lambda t: t, (x,)),
    lambda m, x: (m.tensor([True, False]), lambda t: t, lambda t: t, (x,)),
    lambda m, x: (m.tensor(True), 3, lambda t: t, (x,)),
    lambda m, x: (m.tensor(True), lambda t: t, lambda t: t, (x, 3)),
    lambda m, x: (m.tensor(True), lambda t: t, lambda t: t, x),
])
def test_cond_refuses_as_torch(args):
    torch = pytest.importorskip("torch")
    with pytest.raises(RuntimeError) as theirs:
        torch.cond(*args(torch, torch.ones(2)))
    with pytest.raises(RuntimeError) as ours:
        tr.cond(*args(tr, tr.ones(2)))
    assert str(ours.value).split(",")[0] == str(theirs.value).split(",")[0]


def test_while_loop_runs_eagerly_with_gradients():
    x = tr.tensor([1.0, 2.0], requires_grad=True)
    i, y = tr.while_loop(lambda i, a: i < 3, lambda i, a: (i + 1, a * 2), (tr.tensor(0), x))
    assert i.item() == 3
    np.testing.assert_array_equal(y.numpy(), [8.0, 16.0])
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [8.0, 8.0])
    out = tr.while_loop(lambda a, n: n > 5, lambda a, n: (a, n - 1), [x, 0])
    assert type(out) is tuple and out[1] == 0 and out[0] is not x  # a copy, as torch's
    np.testing.assert_array_equal(out[0].numpy(), x.numpy())


@pytest.mark.parametrize("cond_fn, body_fn, carried, match", [
    (lambda a: True, 3, (tr.ones(1),), "callable"),
    (lambda a: True, lambda a: (a,), tr.ones(1), "tuple or list"),
    (lambda a: True, lambda a: (a,), (tr.ones(1), "s"), "tensor or int leaves"),
    (lambda a: a, lambda a: (a,), (tr.ones(1),), "boolean scalar tensor"),
    (lambda a: (a < 3).all(), lambda a: a + 1, (tr.ones(()),), "should return a tuple"),
    (lambda a: (a < 3).all(), lambda a: (a, a), (tr.ones(()),), "same number"),
])
def test_while_loop_refuses_as_torch(cond_fn, body_fn, carried, match):
    with pytest.raises(RuntimeError, match=match):
        tr.while_loop(cond_fn, body_fn, carried)


# ---- segment_reduce ---------------------------------------------------------------------------
@st.composite
def segments(draw):
    """(shape, lengths of shape shape[:axis] + (K,), axis): each leading index its own."""
    ndim = draw(st.integers(1, 3))
    axis = draw(st.integers(0, ndim - 1))
    shape = [draw(st.integers(1, 2)) for _ in range(ndim)]
    k, n = draw(st.integers(1, 4)), draw(st.integers(0, 6))
    lead = math.prod(shape[:axis])
    rows = [sorted(draw(st.lists(st.integers(0, n), min_size=k - 1, max_size=k - 1)))
            for _ in range(lead)]
    lengths = np.diff([[0, *r, n] for r in rows]).reshape(*shape[:axis], k)
    shape[axis] = n
    return tuple(shape), lengths, axis


@pytest.mark.torch
@given(case=segments(), reduce=st.sampled_from(["sum", "mean", "max", "min", "prod"]),
       initial=st.sampled_from([None, 0.5]), by_offsets=st.booleans(),
       seed=st.integers(0, 2**16))
def test_segment_reduce_matches_torch(case, reduce, initial, by_offsets, seed):
    torch = pytest.importorskip("torch")
    shape, lengths, axis = case
    a = np.random.default_rng(seed).standard_normal(shape)
    sizes = np.asarray(lengths, dtype=np.int64)
    zero = np.zeros(sizes.shape[:-1] + (1,), dtype=np.int64)
    kw = {"offsets": np.concatenate([zero, np.cumsum(sizes, -1)], -1)} if by_offsets else \
        {"lengths": sizes}
    x, xt = tr.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    y = tr.segment_reduce(x, reduce, **{k: tr.tensor(v) for k, v in kw.items()}, axis=axis,
                          initial=initial)
    yt = torch.segment_reduce(xt, reduce, **{k: torch.tensor(v) for k, v in kw.items()},
                              axis=axis, initial=initial)
    np.testing.assert_allclose(y.numpy(), yt.detach().numpy(), rtol=1e-12)
    if not a.size:
        return  # (no element to differentiate)
    g = np.random.default_rng(seed + 1).standard_normal(y.shape)
    keep = np.isfinite(y.numpy())  # (an empty segment's NaN or inf: left out of the loss)
    (y[tr.tensor(keep)] * tr.tensor(g[keep])).sum().backward()
    (yt[torch.tensor(keep)] * torch.tensor(g[keep])).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-10, atol=1e-12)


@given(case=segments(), reduce=st.sampled_from(["sum", "mean", "max", "prod"]))
def test_segment_reduce_gradcheck(case, reduce):
    shape, lengths, axis = case
    assume(np.all(lengths))  # (an empty segment's NaN or inf has no derivative)
    x = tr.randn(*shape, dtype="float64", requires_grad=True)
    assert gradcheck(lambda t: tr.segment_reduce(t, reduce, lengths=tr.tensor(lengths),
                                                 axis=axis), [x])


def test_segment_reduce_refuses_bad_input():
    x = tr.ones(5)
    with pytest.raises(ValueError, match="add up to 5"):
        tr.segment_reduce(x, "sum", lengths=tr.tensor([2, 2]))
    with pytest.raises(ValueError, match="add up to 5"):
        tr.segment_reduce(x, "sum", lengths=tr.tensor([2, -1, 4]))
    with pytest.raises(ValueError, match="reduce must be"):
        tr.segment_reduce(x, "median", lengths=tr.tensor([5]))
    with pytest.raises(ValueError, match="exactly one of"):
        tr.segment_reduce(x, "sum")
    with pytest.raises(ValueError, match="axis is its last dim"):
        tr.segment_reduce(tr.ones(2, 5), "sum", lengths=tr.tensor([5]), axis=1)
    with pytest.raises(NotImplementedError, match="indices"):
        tr.segment_reduce(x, "sum", indices=tr.tensor([5]))


# ---- PyTorch's import paths: nn.parameter, nn.modules.*, nn.utils.clip_grad ------------------
def test_nn_parameter_and_clip_grad_paths():
    from tinygrad_rnn import nn
    from tinygrad_rnn.nn.parameter import (
        Buffer,
        Parameter,
        UninitializedBuffer,
        UninitializedParameter,
    )
    from tinygrad_rnn.nn.utils.clip_grad import clip_grad_norm_, clip_grad_value_

    assert (Parameter, Buffer, UninitializedParameter, UninitializedBuffer) == (
        nn.Parameter, nn.Buffer, nn.UninitializedParameter, nn.UninitializedBuffer)
    assert clip_grad_norm_ is nn.utils.clip_grad_norm_
    assert clip_grad_value_ is nn.utils.clip_grad.clip_grad_value_


@pytest.mark.torch
def test_nn_modules_lays_out_torchs_names():
    torch = pytest.importorskip("torch")
    import importlib

    from tinygrad_rnn import nn
    from tinygrad_rnn.nn.modules import LAYOUT

    for sub, names in LAYOUT.items():
        ours = importlib.import_module(f"tinygrad_rnn.nn.modules.{sub}")
        theirs = importlib.import_module(f"torch.nn.modules.{sub}")
        for name in names:
            assert hasattr(theirs, name), (sub, name)  # where torch keeps it
            assert getattr(ours, name) is getattr(nn, name)
            assert getattr(nn.modules, name) is getattr(nn, name)
        missing = [n for n in getattr(theirs, "__all__", ()) if hasattr(nn, n) and n not in names]
        assert not missing, (sub, missing)  # every class nn has, where torch has it
    assert torch.nn.modules.loss._WeightedLoss  # the bases PyTorch code subclasses
    from tinygrad_rnn.nn.modules.loss import _Loss, _WeightedLoss
    from tinygrad_rnn.nn.modules.module import Module

    assert Module is nn.Module and issubclass(_WeightedLoss, _Loss)
    for name in ("CrossEntropyLoss", "NLLLoss", "BCELoss", "MultiMarginLoss",
                 "MultiLabelSoftMarginLoss", "BCEWithLogitsLoss", "MSELoss"):
        assert issubclass(getattr(nn, name), _WeightedLoss) == issubclass(
            getattr(torch.nn, name), torch.nn.modules.loss._WeightedLoss), name


def test_weighted_loss_subclass_keeps_its_weight_buffer():
    from tinygrad_rnn.nn.modules.loss import _WeightedLoss

    from tinygrad_rnn import nn

    class Mine(_WeightedLoss):
        def forward(self, x, y):
            return ((x - y) ** 2 * self.weight).mean()

    m = Mine(tr.tensor([1.0, 2.0]))
    assert list(m.state_dict()) == ["weight"] and m.reduction == "mean"
    assert m(tr.ones(2), tr.zeros(2)).item() == 1.5
    assert list(nn.CrossEntropyLoss(tr.ones(3)).state_dict()) == ["weight"]


@pytest.mark.torch
def test_deprecated_names_warn_as_torch():
    torch = pytest.importorskip("torch")
    from tinygrad_rnn import nn

    with pytest.warns(FutureWarning, match="NLLLoss2d") as ours:
        loss = nn.NLLLoss2d(ignore_index=1)
    with pytest.warns(FutureWarning) as theirs:
        torch.nn.NLLLoss2d()
    assert str(ours[0].message) == str(theirs[0].message)
    assert isinstance(loss, nn.NLLLoss) and loss.ignore_index == 1
    for old in ("uniform", "normal", "constant", "xavier_uniform", "xavier_normal",
                "kaiming_uniform", "kaiming_normal", "orthogonal", "sparse"):
        args = (0.5,) if old in ("constant", "sparse") else ()
        w = tr.zeros(3, 4)
        with pytest.warns(FutureWarning) as ours:
            assert getattr(nn.init, old)(w, *args) is w
        with pytest.warns(FutureWarning) as theirs:
            getattr(torch.nn.init, old)(torch.zeros(3, 4), *args)
        assert str(ours[0].message) == str(theirs[0].message)
        assert ours[0].filename == __file__  # the caller's line, as torch's
        assert getattr(nn.init, old).__name__ == old
    assert (w != 0).any()


@pytest.mark.torch
def test_resize_as_torch():
    torch = pytest.importorskip("torch")
    for m in (tr, torch):
        x = m.arange(6.0)
        assert x.resize_(2, 2) is x and x.shape == (2, 2)
        np.testing.assert_array_equal(np.asarray(x.tolist()), [[0, 1], [2, 3]])
        x.resize_as_(m.zeros(3))  # back to 3 elements: the first kept
        np.testing.assert_array_equal(np.asarray(x.tolist()), [0, 1, 2])
        w = m.ones(2, requires_grad=True)
        with pytest.raises(RuntimeError, match="resize"):
            w.resize_(3)
        with m.no_grad(), pytest.raises(RuntimeError, match="resize"):
            w.resize_(1)
        assert tuple(w.detach().clone().resize_(1).shape) == (1,) and tuple(w.shape) == (2,)


def test_init_sparse_zeroes_a_fraction_of_each_column():
    from tinygrad_rnn import nn

    w = tr.zeros(10, 6, dtype="float64")
    assert nn.init.sparse_(w, 0.25, std=2.0, generator=tr.Generator().manual_seed(0)) is w
    np.testing.assert_array_equal((w.numpy() == 0).sum(0), [3] * 6)  # ceil(0.25 * 10)
    assert 1.0 < w.numpy()[w.numpy() != 0].std() < 3.0
    with pytest.raises(ValueError, match="2 dimensions"):
        nn.init.sparse_(tr.zeros(3), 0.5)


@pytest.mark.torch
def test_map2_conj_physical_and_kind_queries_match_torch():
    torch = pytest.importorskip("torch")
    for m in (tr, torch):
        x = m.arange(3.0)
        assert x.map2_(m.ones(1), m.full((3,), 2.0), lambda a, b, c: a + b * c) is x
        np.testing.assert_array_equal(np.asarray(x.tolist()), [2.0, 3.0, 4.0])
        z = m.tensor([1 + 2j, 3 - 1j])
        assert z.conj_physical_() is z
        np.testing.assert_array_equal(z.numpy(), [1 - 2j, 3 + 1j])
        for name in ("is_sparse", "is_sparse_csr", "is_quantized", "is_nested", "is_meta",
                     "is_mkldnn", "is_mps", "is_xpu", "is_xla", "is_ipu", "is_mtia",
                     "is_maia", "is_vulkan"):
            assert getattr(m.ones(2), name) is False, name
    with pytest.raises(ValueError, match="does not broadcast"):
        tr.arange(3.0).map2_(tr.ones(2), tr.ones(3), lambda a, b, c: a)


# ---- memory formats and layouts --------------------------------------------------------------
LAYOUT_CASES = [
    lambda m, t: t.contiguous(memory_format=m.channels_last),
    lambda m, t: t.clone(memory_format=m.channels_last),
    lambda m, t: t.transpose(0, 1).clone(),
    lambda m, t: t.transpose(0, 1).clone(memory_format=m.contiguous_format),
    lambda m, t: t.transpose(0, 1).contiguous(),
    lambda m, t: m.zeros_like(t.transpose(0, 1)),
    lambda m, t: m.ones_like(t.contiguous(memory_format=m.channels_last)),
    lambda m, t: m.full_like(t, 2.0, memory_format=m.channels_last),
    lambda m, t: m.empty_like(t, memory_format=m.channels_last),
    lambda m, t: m.rand_like(t.permute(0, 2, 3, 1)),
    lambda m, t: m.randn_like(t, memory_format=m.contiguous_format),
    lambda m, t: m.randint_like(t, 5, memory_format=m.channels_last),
    lambda m, t: m.zeros_like(t[:, :, ::2], memory_format=m.preserve_format),
    lambda m, t: t.to(memory_format=m.channels_last),
    lambda m, t: t.to(m.float64, memory_format=m.channels_last),
    lambda m, t: t.contiguous(memory_format=m.channels_last).to(m.float32),
]


@pytest.mark.torch
@pytest.mark.parametrize("k", range(len(LAYOUT_CASES)))
def test_memory_formats_lay_out_as_torch(k):
    torch = pytest.importorskip("torch")
    a = np.random.default_rng(0).standard_normal((2, 3, 4, 5))
    y, yt = LAYOUT_CASES[k](tr, tr.tensor(a)), LAYOUT_CASES[k](torch, torch.tensor(a))
    assert y.shape == tuple(yt.shape) and y.stride() == yt.stride()
    for fmt in ("contiguous_format", "channels_last"):
        assert y.is_contiguous(memory_format=getattr(tr, fmt)) == yt.is_contiguous(
            memory_format=getattr(torch, fmt))
    if k < 5:
        np.testing.assert_array_equal(y.numpy(), yt.numpy())


def test_memory_formats_keep_values_gradients_and_check_arguments():
    x = tr.randn(2, 3, 4, 5, dtype="float64", requires_grad=True)
    y = x.contiguous(memory_format=tr.channels_last)
    assert y.is_contiguous(memory_format=tr.channels_last) and not y.is_contiguous()
    assert y.contiguous(memory_format=tr.channels_last) is y  # already so laid out
    assert gradcheck(lambda t: t.clone(memory_format=tr.channels_last), [x])
    w = tr.zeros_like(x, requires_grad=True, memory_format=tr.channels_last)
    assert w.is_leaf and w.requires_grad and x.layout is tr.strided
    with pytest.raises(ValueError, match="required rank 4"):
        tr.ones(2, 3).contiguous(memory_format=tr.channels_last)
    assert not tr.ones(2, 3).is_contiguous(memory_format=tr.channels_last)  # as torch
    with pytest.raises(ValueError, match="preserve memory format"):
        x.contiguous(memory_format=tr.preserve_format)
    with pytest.raises(TypeError, match="memory_format must be"):
        x.clone(memory_format="channels_last")
    with pytest.raises(ValueError, match="layout must be tr.strided"):
        tr.zeros_like(x, layout="sparse")
    assert repr(tr.channels_last) == "tinygrad_rnn.channels_last"


# ---- settings, aliases and small functions -------------------------------------------------
@pytest.mark.torch
def test_aliases_and_settings_match_torch():
    torch = pytest.importorskip("torch")
    assert tr.vmap is tr.func.vmap and tr.short == tr.int16
    assert isinstance(tr.ones(2).dtype, tr.dtype)
    assert not tr.is_warn_always_enabled()
    tr.set_warn_always(True)
    assert tr.is_warn_always_enabled()
    tr.set_warn_always(False)
    tr.set_num_interop_threads(2)
    assert tr.get_num_interop_threads() == 2
    assert tr.set_flush_denormal(True) is False
    try:
        for mode in ("warn", 2, "default", "error", 0):
            for m in (tr, torch):
                m.set_deterministic_debug_mode(mode)
            assert tr.get_deterministic_debug_mode() == torch.get_deterministic_debug_mode()
            assert tr.are_deterministic_algorithms_enabled() == \
                torch.are_deterministic_algorithms_enabled()
            assert tr.is_deterministic_algorithms_warn_only_enabled() == \
                torch.is_deterministic_algorithms_warn_only_enabled()
    finally:
        tr.use_deterministic_algorithms(False)
        torch.use_deterministic_algorithms(False)
    with pytest.raises(ValueError, match="debug_mode"):
        tr.set_deterministic_debug_mode("x")


@pytest.mark.torch
def test_small_functions_match_torch():
    torch = pytest.importorskip("torch")
    a = np.random.default_rng(0).standard_normal((2, 3, 4))
    x, xt = tr.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    for p, d in ((2, 0), (2, 1), (3, -1), (1, 2)):
        y, yt = tr.norm_except_dim(x, p, d), torch.norm_except_dim(xt, p, d)
        np.testing.assert_allclose(y.detach().numpy(), yt.detach().numpy(), rtol=1e-12)
    for size, order in (((2, 3, 4), (2, 0, 1)), ((2, 3, 4, 5), (0, 2, 3, 1)), ((3,), (0,))):
        e, et = tr.empty_permuted(size, order), torch.empty_permuted(size, order)
        assert e.shape == tuple(et.shape) and e.stride() == et.stride()
    with pytest.raises(ValueError, match="permutation"):
        tr.empty_permuted((2, 3), (0, 0))
    rng = np.random.default_rng(1)
    for n, transposed in ((1, False), (2, False), (1, True), (2, True)):
        inp = rng.standard_normal((2, 4) + (6,) * n)
        w = rng.standard_normal((4, 2) + (3,) * n)
        b = rng.standard_normal(4)  # (out channels: 4 either way, with groups=2)
        args = ((2,) * n, (1,) * n, (1,) * n, transposed, (1 if transposed else 0,) * n, 2)
        y = tr.convolution(tr.tensor(inp), tr.tensor(w), tr.tensor(b), *args)
        yt = torch.convolution(torch.tensor(inp), torch.tensor(w), torch.tensor(b), *args)
        np.testing.assert_allclose(y.numpy(), yt.numpy(), rtol=1e-10, atol=1e-12)
    lu, piv = tr.linalg.lu_factor(tr.tensor(a[0, :3, :3]))
    rhs = tr.tensor(a[1, :3, :2])
    np.testing.assert_allclose((tr.tensor(a[0, :3, :3]) @ tr.lu_solve(rhs, lu, piv)).numpy(),
                               rhs.numpy(), atol=1e-10)


@pytest.mark.torch
def test_convert_conv_weight_memory_format_as_torch():
    torch = pytest.importorskip("torch")
    for m, two, three in ((tr, tr.channels_last, tr.channels_last_3d),
                          (torch, torch.channels_last, torch.channels_last_3d)):
        net = m.nn.Sequential(m.nn.Conv2d(3, 4, 3), m.nn.Sequential(m.nn.ConvTranspose2d(4, 2, 2)),
                              m.nn.Conv3d(2, 2, 1), m.nn.Linear(2, 2))
        before = [p.detach().numpy().copy() for p in net.parameters()]
        assert m.nn.utils.convert_conv2d_weight_memory_format(net, two) is net
        m.nn.utils.convert_conv3d_weight_memory_format(net, three)
        strides = [p.stride() for p in net.parameters()]
        for p, b in zip(net.parameters(), before):
            np.testing.assert_array_equal(p.detach().numpy(), b)
        if m is tr:
            ours = strides
    assert [tuple(s) for s in ours] == [tuple(s) for s in strides]


@pytest.mark.torch
def test_module_to_memory_format_as_torch():
    torch = pytest.importorskip("torch")
    strides = []
    for m in (tr, torch):
        net = m.nn.Sequential(m.nn.Conv2d(3, 4, 3), m.nn.BatchNorm2d(4), m.nn.Linear(2, 2))
        assert net.to(memory_format=m.channels_last) is net
        strides.append([tuple(p.stride()) for p in net.parameters()])
        with pytest.raises((ValueError, RuntimeError), match="rank 4"):
            m.nn.Conv3d(1, 1, 1).to(memory_format=m.channels_last)
    assert strides[0] == strides[1]
    conv = tr.nn.Conv3d(1, 1, 1)
    with pytest.raises(ValueError, match="rank 4"):
        conv.to(tr.float64, memory_format=tr.channels_last)
    assert conv.weight.dtype == tr.float32  # refused before anything changed
