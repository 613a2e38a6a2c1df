"""The ops a porting trial of PyTorch RNN programs found missing: diag and diagonal, dot,
cumprod, var_mean and std_mean, median, unique, bincount, index_add and index_fill, bernoulli,
isclose and the logical functions, log2 and log10, remainder/fmod/floor_divide/true_divide,
addcmul and addcdiv, logit, tan/asin/acos/atan/atan2, tensordot, where(cond), clamp with tensor
bounds, sum/mean/softmax with dtype=, unsqueeze_ and squeeze_, gumbel_softmax, the boilerplate
scripts call at their start (determinism, threads, rng state, manual_seed, print options), the
legacy tensor types and ``x.new``, and the repr's summary threshold.

Values and gradients against PyTorch in float64; gradients (and second derivatives of the new
primitive ops) against central differences on every device, with Hypothesis, broadcasting
included; the errors."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tinygrad_rnn as tr
from tinygrad_rnn import functional as F
from tinygrad_rnn.testing import gradcheck, gradgradcheck
from tinygrad_rnn.testing import strategies as tst

from .conftest import DEVICES
from .test_ops_torch import _compare_with_torch, _rng


def _torch():
    return pytest.importorskip("torch")


def _distinct(shape, scale: float = 0.1, offset: float = 0.0):
    """Float64 arrays of ``shape`` whose elements differ by at least ``scale`` (no ties, so
    a selection's gradient is unique and central differences see it)."""
    n = math.prod(shape)
    return hnp.arrays(np.int64, shape, elements=st.integers(-5 * n - 5, 5 * n + 5),
                      unique=True).map(lambda a: a * scale + offset)


# ---- diag, diagonal, dot -------------------------------------------------------------------


@pytest.mark.torch
@pytest.mark.parametrize("offset", [0, 1, 2, -1, -3, 5])
@pytest.mark.parametrize("shape, dims", [((3, 4), (0, 1)), ((4, 3), (1, 0)),
                                         ((2, 3, 4), (2, 0)), ((2, 3, 4), (-1, -2)),
                                         ((2, 3, 4, 2), (1, 3))], ids=str)
def test_diagonal_matches_torch(shape, dims, offset):
    a = _rng(1).standard_normal(shape)
    _compare_with_torch(lambda x: x.diagonal(offset, *dims),
                        lambda t: t.diagonal(offset, *dims), [a])
    _compare_with_torch(lambda x: tr.diagonal(x, offset, *dims),
                        lambda t: t.diagonal(offset=offset, dim1=dims[0], dim2=dims[1]), [a])


@pytest.mark.torch
@pytest.mark.parametrize("k", [0, 1, -2, 4])
def test_diag_matches_torch_both_ways(k):
    torch = _torch()
    v, m = _rng(2).standard_normal(3), _rng(3).standard_normal((3, 4))
    _compare_with_torch(lambda x: tr.diag(x, k), lambda t: torch.diag(t, k), [v])
    _compare_with_torch(lambda x: x.diag(k), lambda t: t.diag(k), [m])
    got = tr.diag(tr.tensor([1, 2]), k)
    assert got.dtype == np.int64
    np.testing.assert_array_equal(got.numpy(), torch.diag(torch.tensor([1, 2]), k).numpy())


@pytest.mark.torch
def test_diagonal_is_a_view_that_writes_through_as_torch():
    torch = _torch()
    x, t = tr.zeros(3, 4), torch.zeros(3, 4)
    x.diagonal(1).fill_(1.0)
    t.diagonal(1).fill_(1.0)
    d, u = x.diagonal(), t.diagonal()
    x[1, 1] = 5.0
    t[1, 1] = 5.0
    np.testing.assert_array_equal(x.numpy(), t.numpy())
    np.testing.assert_array_equal(d.numpy(), u.numpy())  # the base's write reached the view
    # recorded through a view, as PyTorch: the gradient of the written diagonal is 0
    w, s = _rng(4).standard_normal((3, 3)), _rng(5).standard_normal(3)
    a = tr.tensor(w, requires_grad=True)
    b = torch.tensor(w, requires_grad=True)
    ya, yb = a * 2, b * 2
    ya.diagonal().mul_(tr.tensor(s))
    yb.diagonal().mul_(torch.tensor(s))
    (ya * ya).sum().backward()
    (yb * yb).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-12)


@pytest.mark.parametrize("device", DEVICES)
@given(data=st.data())
def test_diagonal_and_diag_gradients(device, data):
    shape = data.draw(tst.shapes(min_dims=2, max_dims=3, min_side=1, max_side=4))
    x = tr.tensor(data.draw(tst.arrays(shape)), device=device, requires_grad=True)
    d1, d2 = data.draw(st.lists(st.integers(0, x.ndim - 1), min_size=2, max_size=2,
                                unique=True))
    offset = data.draw(st.integers(-4, 4))
    assert gradcheck(lambda a: a.diagonal(offset, d1, d2), [x])
    assert gradgradcheck(lambda a: tr.diag(a.reshape(-1)[:3], offset) ** 2, [x])


def test_diag_and_diagonal_errors():
    with pytest.raises(ValueError, match="1-D .* or 2-D"):
        tr.diag(tr.ones(2, 2, 2))
    with pytest.raises(ValueError, match="1-D .* or 2-D"):
        tr.diag(tr.tensor(3.0))
    with pytest.raises(ValueError, match="at least 2 axes"):
        tr.ones(3).diagonal()
    with pytest.raises(ValueError, match="name one axis"):
        tr.ones(2, 2).diagonal(0, 1, -1)
    with pytest.raises(ValueError, match="out of range"):
        tr.ones(2, 2).diagonal(0, 0, 2)
    with pytest.raises(TypeError, match="offset must be an int"):
        tr.ones(2, 2).diagonal(0.5)


@pytest.mark.torch
def test_dot_method_matches_torch_and_checks_shapes():
    a, b = _rng(6).standard_normal(4), _rng(7).standard_normal(4)
    _compare_with_torch(lambda x, y: x.dot(y), lambda x, y: x.dot(y), [a, b])
    _compare_with_torch(lambda x, y: tr.dot(x, y), lambda x, y: x.dot(y), [a, b])
    with pytest.raises(ValueError, match="two 1-D tensors of one length"):
        tr.ones(3).dot(tr.ones(4))
    with pytest.raises(ValueError, match="two 1-D tensors of one length"):
        tr.ones(2, 2).dot(tr.ones(2))


# ---- cumprod -------------------------------------------------------------------------------


@pytest.mark.torch
@pytest.mark.parametrize("axis", [0, 1, -1])
@pytest.mark.parametrize("zeros", [(), ((0, 1),), ((1, 0), (1, 2)), ((2, 3), (0, 3), (2, 1))],
                         ids=str)
def test_cumprod_matches_torch_with_zeros(zeros, axis):
    torch = _torch()
    a = _rng(8).standard_normal((3, 4))
    for z in zeros:
        a[z] = 0.0
    _compare_with_torch(lambda x: x.cumprod(axis), lambda t: t.cumprod(axis), [a])
    # second derivatives too, zeros included (where the first derivative's split changes)
    x, t = tr.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    v = _rng(9).standard_normal(a.shape)
    (gx,) = tr.grad(tr.cumprod(x, dim=axis), x, tr.tensor(v), create_graph=True)
    (gt,) = torch.autograd.grad(torch.cumprod(t, axis), t, torch.tensor(v), create_graph=True)
    np.testing.assert_allclose(gx.numpy(), gt.detach().numpy(), rtol=1e-10, atol=1e-12)
    (ggx,) = tr.grad((gx * gx).sum(), x)
    (ggt,) = torch.autograd.grad((gt * gt).sum(), t)
    np.testing.assert_allclose(ggx.numpy(), ggt.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("device", DEVICES)
@given(data=st.data())
def test_cumprod_gradients_with_zeros(device, data):
    a = data.draw(tst.arrays(tst.shapes(min_dims=1, max_dims=3, min_side=1, max_side=4)))
    zero = data.draw(hnp.arrays(np.bool_, a.shape))
    a = np.where(zero & data.draw(st.booleans()), 0.0, a)
    axis = data.draw(st.integers(-a.ndim, a.ndim - 1))
    x = tr.tensor(a, device=device, requires_grad=True)
    assert gradcheck(lambda t: t.cumprod(axis), [x])
    assert gradgradcheck(lambda t: t.cumprod(axis), [x])


@pytest.mark.torch
def test_cumprod_dtypes_match_torch():
    torch = _torch()
    for dt in ("int32", "bool", "int64"):
        x = tr.tensor([1, 2, 3], dtype=dt)
        y, t = x.cumprod(0), torch.tensor([1, 2, 3]).to(getattr(torch, dt)).cumprod(0)
        assert y.dtype == np.int64 == np.dtype(str(t.dtype).split(".")[1])
        np.testing.assert_array_equal(y.numpy(), t.numpy())
    assert tr.ones(2).cumprod(0, dtype=tr.float64).dtype == np.float64
    assert tr.tensor(3.0).cumprod(0).item() == 3.0  # a 0-d tensor gives itself
    with pytest.raises(ValueError, match="out of range"):
        tr.ones(2, 2).cumprod(2)


# ---- var_mean, std_mean, median ------------------------------------------------------------


@pytest.mark.torch
@pytest.mark.parametrize("fn", ["var_mean", "std_mean"])
@pytest.mark.parametrize("kwargs", [{}, {"dim": 1}, {"dim": (0, 1), "keepdim": True},
                                    {"dim": 0, "correction": 0}, {"dim": -1, "unbiased": False},
                                    {"correction": 2}], ids=str)
def test_var_mean_and_std_mean_match_torch(fn, kwargs):
    torch = _torch()
    a = _rng(10).standard_normal((3, 4))
    _compare_with_torch(lambda x: getattr(tr, fn)(x, **kwargs),
                        lambda t: getattr(torch, fn)(t, **kwargs), [a])


@pytest.mark.torch
def test_var_mean_positional_forms_match_torch():
    torch = _torch()
    a = _rng(11).standard_normal((3, 4))
    _compare_with_torch(lambda x: tr.var_mean(x, 1, False, True),
                        lambda t: torch.var_mean(t, 1, False, True), [a])
    _compare_with_torch(lambda x: tr.std_mean(x, False), lambda t: torch.std_mean(t, False), [a])
    with pytest.raises(TypeError, match="floating-point"):
        tr.var_mean(tr.tensor([1, 2]))
    with pytest.raises(TypeError, match="not both"):
        tr.var_mean(tr.ones(3), correction=0, unbiased=True)


@pytest.mark.parametrize("device", DEVICES)
@given(data=st.data())
def test_var_mean_std_mean_and_softmax_dtype_gradients(device, data):
    x = data.draw(tst.tensors(tst.shapes(min_dims=1), device=device, requires_grad=True))
    axis = data.draw(st.integers(-x.ndim, x.ndim - 1))
    assert gradcheck(lambda t: tr.var_mean(t, axis, correction=0), [x])
    spread = tr.tensor(data.draw(_distinct(x.shape)), device=device, requires_grad=True)
    assert gradcheck(lambda t: tr.std_mean(t, axis, False, True), [spread])  # (no kink at 0)
    x32 = x.detach().to("float32").requires_grad_()
    assert gradcheck(lambda t: F.log_softmax(t, axis, dtype=tr.float64), [x32])


@pytest.mark.torch
@pytest.mark.parametrize("values", [[3.0, 1.0, 2.0, 1.0, 5.0, 1.0], [4.0, 2.0], [[1.0, 2.0],
                                    [2.0, 2.0]], [7.0], [1.0, math.nan, 0.0, math.nan],
                                    [-math.inf, -math.inf, 1.0], [math.inf, 2.0, math.inf]],
                         ids=str)
def test_median_of_all_matches_torch_ties_share_the_gradient(values):
    a = np.array(values)
    _compare_with_torch(lambda x: x.median(), lambda t: t.median(), [a])


@pytest.mark.torch
@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_median_along_a_dim_matches_torch(dim, keepdim):
    torch = _torch()
    a = _rng(12).permutation(20).reshape(4, 5) * 0.25  # distinct: the indices are unique
    x, t = tr.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    ours, theirs = x.median(dim, keepdim), torch.median(t, dim=dim, keepdim=keepdim)
    assert ours.values is ours[0] and ours.indices is ours[1]
    np.testing.assert_array_equal(ours.values.numpy(), theirs.values.detach().numpy())
    np.testing.assert_array_equal(ours.indices.numpy(), theirs.indices.numpy())
    v = _rng(13).standard_normal(ours.values.shape)
    ours.values.backward(tr.tensor(v))
    theirs.values.backward(torch.tensor(v))
    np.testing.assert_array_equal(x.grad.numpy(), t.grad.numpy())  # to the picked element
    # the first NaN of a row, as torch; integers; 0-d
    b = np.array([[1.0, np.nan, 0.0, np.nan], [3.0, 1.0, 2.0, 1.0]])
    ours, theirs = tr.tensor(b).median(1), torch.tensor(b).median(1)
    np.testing.assert_array_equal(ours.values.numpy(), theirs.values.numpy())
    np.testing.assert_array_equal(ours.indices.numpy(), theirs.indices.numpy())
    assert tr.median(tr.tensor([1, 3, 2])).item() == 2
    assert tr.tensor(4.0).median(0).values.item() == 4.0


@pytest.mark.parametrize("device", DEVICES)
@given(data=st.data())
def test_median_gradients(device, data):
    shape = data.draw(tst.shapes(min_dims=1, max_dims=3, min_side=1, max_side=4))
    x = tr.tensor(data.draw(_distinct(shape)), device=device, requires_grad=True)
    axis = data.draw(st.integers(-x.ndim, x.ndim - 1))
    assert gradcheck(lambda t: t.median(), [x])
    assert gradcheck(lambda t: t.median(axis).values, [x])
    assert gradcheck(lambda t: tr.median(t, dim=axis, keepdim=True)[0], [x])


def test_median_errors():
    with pytest.raises(ValueError, match="empty"):
        tr.ones(0).median()
    with pytest.raises(ValueError, match="size 0"):
        tr.ones(2, 0).median(1)
    with pytest.raises(TypeError, match="integers or floats"):
        tr.tensor([True, False]).median()
    with pytest.raises(TypeError, match="keepdim needs a dim"):
        tr.ones(3).median(keepdim=True)


# ---- unique and bincount -------------------------------------------------------------------


@pytest.mark.torch
@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dim", [None, 0, 1])
@pytest.mark.parametrize("inverse, counts", [(False, False), (True, False), (False, True),
                                             (True, True)])
def test_unique_matches_torch(inverse, counts, dim, device):
    torch = _torch()
    a = np.array([[3, 1, 2], [3, 1, 2], [0, 5, 2], [3, 1, 2]])
    ours = tr.tensor(a, device=device).unique(return_inverse=inverse, return_counts=counts,
                                              dim=dim)
    theirs = torch.unique(torch.tensor(a), return_inverse=inverse, return_counts=counts,
                          dim=dim)
    ours = ours if isinstance(ours, tuple) else (ours,)
    theirs = theirs if isinstance(theirs, tuple) else (theirs,)
    assert len(ours) == len(theirs)
    for o, t in zip(ours, theirs):
        assert o.dtype == np.int64 and o.device == device
        np.testing.assert_array_equal(o.numpy(), t.numpy())


@pytest.mark.torch
def test_unique_of_floats_and_0d_as_torch():
    torch = _torch()
    a = np.array([np.nan, 1.5, np.nan, -2.0, 1.5])
    v, c = tr.unique(tr.tensor(a), return_counts=True, dim=None)
    w, d = torch.unique(torch.tensor(a), return_counts=True)
    np.testing.assert_array_equal(v.numpy(), w.numpy())  # NaNs stay distinct
    np.testing.assert_array_equal(c.numpy(), d.numpy())
    assert v.dtype == np.float64 and not v.requires_grad
    v, i = tr.tensor(5.0).unique(return_inverse=True)
    assert v.shape == (1,) and i.shape == () and i.item() == 0
    with pytest.raises(ValueError, match="0-d"):
        tr.tensor(5.0).unique(dim=0)
    with pytest.raises(TypeError, match="must be a bool"):
        tr.ones(2).unique(return_counts=1)


@pytest.mark.torch
@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("weights", [None, "float32", "float64", "int64"])
@pytest.mark.parametrize("values, minlength", [([0, 1, 1, 3], 0), ([2, 2], 5), ([], 0),
                                               ([], 3), ([4], 2)], ids=str)
def test_bincount_matches_torch(values, minlength, weights, device):
    torch = _torch()
    x = np.array(values, dtype=np.int64)
    w = None if weights is None else np.arange(1, len(x) + 1).astype(weights) * 0.5 \
        if weights != "int64" else np.arange(1, len(x) + 1)
    ours = tr.tensor(x, device=device).bincount(
        None if w is None else tr.tensor(w, device=device), minlength=minlength)
    theirs = torch.bincount(torch.tensor(x), None if w is None else torch.tensor(w),
                            minlength=minlength)
    if len(x) or w is None:  # (torch gives int64 for no values even with weights; ours
        # keeps the weights' dtype, as for any other x)
        assert ours.dtype == np.dtype(str(theirs.dtype).split(".")[1])
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


@pytest.mark.parametrize("device", DEVICES)
@given(data=st.data())
def test_bincount_gradient_in_the_weights(device, data):
    x = data.draw(hnp.arrays(np.int64, st.integers(1, 6), elements=st.integers(0, 4)))
    w = tr.tensor(data.draw(tst.arrays(x.shape)), device=device, requires_grad=True)
    assert gradcheck(lambda v: tr.bincount(tr.tensor(x, device=device), v, minlength=2), [w])


def test_bincount_errors():
    with pytest.raises(ValueError, match="integers >= 0, got -1"):
        tr.tensor([0, -1]).bincount()
    with pytest.raises(ValueError, match="1-D tensor of integers"):
        tr.tensor([[1]]).bincount()
    with pytest.raises(ValueError, match="1-D tensor of integers"):
        tr.tensor([1.0]).bincount()
    with pytest.raises(ValueError, match="minlength"):
        tr.tensor([1]).bincount(minlength=-1)
    with pytest.raises(ValueError, match="weights must be a tensor of x's shape"):
        tr.tensor([1, 2]).bincount(tr.ones(3))


# ---- index_add, index_fill -----------------------------------------------------------------


@pytest.mark.torch
@pytest.mark.parametrize("alpha", [1, 2.5])
@pytest.mark.parametrize("dim, index", [(0, [0, 0, 2]), (1, [3, 1]), (-1, [0, 0, 0, 0]),
                                        (1, [])], ids=str)
def test_index_add_matches_torch(dim, index, alpha):
    torch = _torch()
    a = _rng(14).standard_normal((3, 4))
    shape = list(a.shape)
    shape[dim] = len(index)
    s = _rng(15).standard_normal(shape)
    i = np.array(index, dtype=np.int64)
    _compare_with_torch(lambda x, y: x.index_add(dim, tr.tensor(i), y, alpha=alpha),
                        lambda x, y: x.index_add(dim, torch.tensor(i), y, alpha=alpha), [a, s])
    _compare_with_torch(lambda x, y: tr.index_add(x * 1, dim, tr.tensor(i), y, alpha=alpha),
                        lambda x, y: (x * 1).index_add_(dim, torch.tensor(i), y, alpha=alpha),
                        [a, s])
    _compare_with_torch(lambda x, y: (x * 1).index_add_(dim, tr.tensor(i), y, alpha=alpha),
                        lambda x, y: (x * 1).index_add_(dim, torch.tensor(i), y, alpha=alpha),
                        [a, s])


@pytest.mark.torch
@pytest.mark.parametrize("dim, index", [(0, [0, 2, 2]), (1, [3]), (-1, [])], ids=str)
def test_index_fill_matches_torch(dim, index):
    torch = _torch()
    a = _rng(16).standard_normal((3, 4))
    i = np.array(index, dtype=np.int64)
    _compare_with_torch(lambda x: x.index_fill(dim, tr.tensor(i), -1.5),
                        lambda x: x.index_fill(dim, torch.tensor(i), -1.5), [a])
    # a 0-d tensor value gets the gradient of the filled elements, each once
    _compare_with_torch(lambda x, v: tr.index_fill(x, dim, tr.tensor(i), v),
                        lambda x, v: x.index_fill(dim, torch.tensor(i), v),
                        [a, np.array(0.5)])
    _compare_with_torch(lambda x, v: (x * 1).index_fill_(dim, tr.tensor(i), v),
                        lambda x, v: (x * 1).index_fill_(dim, torch.tensor(i), v),
                        [a, np.array(0.5)])


@pytest.mark.parametrize("device", DEVICES)
@given(data=st.data())
def test_index_add_and_index_fill_gradients(device, data):
    shape = data.draw(tst.shapes(min_dims=1, max_dims=3, min_side=1, max_side=3))
    ax = data.draw(st.integers(0, len(shape) - 1))
    index = data.draw(hnp.arrays(np.int64, st.integers(0, 4),
                                 elements=st.integers(0, shape[ax] - 1)))
    src_shape = shape[:ax] + (len(index),) + shape[ax + 1:]
    x = tr.tensor(data.draw(tst.arrays(shape)), device=device, requires_grad=True)
    s = tr.tensor(data.draw(tst.arrays(src_shape)), device=device, requires_grad=True)
    v = tr.tensor(0.7, dtype="float64", device=device, requires_grad=True)
    i = tr.tensor(index, device=device)
    assert gradcheck(lambda a, b: a.index_add(ax, i, b, alpha=-2.0), [x, s])
    assert gradgradcheck(lambda a, b: a.index_add(ax, i, b * b), [x, s])
    assert gradcheck(lambda a, b: a.index_fill(ax, i, b), [x, v])


def test_index_add_and_index_fill_errors():
    x = tr.zeros(3, 2)
    with pytest.raises(TypeError, match="dtype"):
        x.index_add(0, tr.tensor([0]), tr.ones(1, 2, dtype="float64"))
    with pytest.raises(ValueError, match="expected shape"):
        x.index_add(0, tr.tensor([0, 1]), tr.ones(1, 2))
    with pytest.raises(ValueError, match="out of bounds"):
        x.index_add(0, tr.tensor([3]), tr.ones(1, 2))
    with pytest.raises(TypeError, match="integers"):
        x.index_fill(0, tr.tensor([0.0]), 1.0)
    with pytest.raises(ValueError, match="1-D"):
        x.index_fill(0, tr.tensor([[0]]), 1.0)
    with pytest.raises(ValueError, match="0-d tensor"):
        x.index_fill(0, tr.tensor([0]), tr.ones(2))
    w = tr.zeros(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf"):
        w.index_fill_(0, tr.tensor([0]), 1.0)


# ---- bernoulli, isclose, logical functions -------------------------------------------------


@pytest.mark.parametrize("device", DEVICES)
def test_bernoulli_draws_from_the_seeded_generator(device):
    p = tr.tensor(np.linspace(0, 1, 11), device=device)
    tr.manual_seed(3)
    a = tr.bernoulli(p)
    tr.manual_seed(3)
    b = p.bernoulli()
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert a.dtype == p.dtype and a.device == device and not a.requires_grad
    assert a.numpy()[0] == 0 and a.numpy()[-1] == 1  # p = 0 and p = 1 are certain
    big = tr.bernoulli(tr.full((20000,), 0.3, dtype="float64", device=device))
    assert abs(big.numpy().mean() - 0.3) < 0.02
    assert abs(tr.bernoulli(tr.zeros(20000), p=0.8).numpy().mean() - 0.8) < 0.02
    g = tr.Generator().manual_seed(1)
    c = tr.bernoulli(tr.full((50,), 0.5), generator=g)
    d = tr.bernoulli(tr.full((50,), 0.5), generator=tr.Generator().manual_seed(1))
    np.testing.assert_array_equal(c.numpy(), d.numpy())


@pytest.mark.parametrize("device", DEVICES)
def test_bernoulli_in_place(device):
    x = tr.full((2, 1000), 7.0, device=device)
    assert x.bernoulli_() is x
    assert set(np.unique(x.numpy())) <= {0.0, 1.0} and 0.4 < x.numpy().mean() < 0.6
    x.bernoulli_(tr.tensor([[0.0], [1.0]], device=device))  # a tensor p broadcasts
    np.testing.assert_array_equal(x.numpy(), np.repeat([[0.0], [1.0]], 1000, axis=1))
    h = tr.ones(3, requires_grad=True) * 2  # recorded: the drawn values have gradient 0
    h.bernoulli_(1.0)
    h.sum().backward()


def test_bernoulli_errors():
    with pytest.raises(ValueError, match=r"p must be probabilities in \[0, 1\]"):
        tr.ones(2).bernoulli_(1.5)
    with pytest.raises(ValueError, match=r"in \[0, 1\]"):
        tr.bernoulli(tr.tensor([0.5, -0.1]))
    with pytest.raises(ValueError, match="does not broadcast"):
        tr.ones(2).bernoulli_(tr.full((3,), 0.5))
    with pytest.raises(TypeError, match="floating-point"):
        tr.bernoulli(tr.tensor([0, 1]))


@pytest.mark.torch
@pytest.mark.parametrize("device", DEVICES)
def test_isclose_and_logical_functions_match_torch(device):
    torch = _torch()
    a = np.array([1.0, np.nan, np.inf, 0.0, 1e-9, 2.0])
    b = np.array([1.0 + 1e-7, np.nan, np.inf, 0.0, 0.0, 2.1])
    for kwargs in ({}, {"equal_nan": True}, {"rtol": 0.1, "atol": 0.0}):
        ours = tr.isclose(tr.tensor(a, device=device), tr.tensor(b, device=device), **kwargs)
        assert ours.dtype == np.bool_
        np.testing.assert_array_equal(
            ours.numpy(), torch.isclose(torch.tensor(a), torch.tensor(b), **kwargs).numpy())
    p, q = np.array([0, 1, 2, 0]), np.array([0.0, 0.0, 3.0, -1.0])
    for name in ("logical_and", "logical_or", "logical_xor"):
        ours = getattr(tr, name)(tr.tensor(p, device=device), tr.tensor(q, device=device))
        theirs = getattr(torch, name)(torch.tensor(p), torch.tensor(q))
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    np.testing.assert_array_equal(tr.logical_not(tr.tensor(q, device=device)).numpy(),
                                  torch.logical_not(torch.tensor(q)).numpy())


# ---- log2, log10, tan, asin, acos, atan, atan2, logit --------------------------------------

UNARY = {  # name: (torch's name, the domain to draw from)
    "log2": ("log2", (0.1, 10.0)), "log10": ("log10", (0.1, 10.0)),
    "tan": ("tan", (-1.3, 1.3)), "asin": ("asin", (-0.95, 0.95)),
    "acos": ("acos", (-0.95, 0.95)), "atan": ("atan", (-10.0, 10.0)),
    "arcsin": ("arcsin", (-0.95, 0.95)), "arctan": ("arctan", (-5.0, 5.0)),
    "logit": ("logit", (0.05, 0.95)),
}
NEW_PRIMITIVES = ["log2", "log10", "tan", "asin", "acos", "atan"]


@pytest.mark.torch
@pytest.mark.parametrize("name", list(UNARY))
def test_unary_ops_match_torch_with_second_derivatives(name):
    torch = _torch()
    theirs, (lo, hi) = UNARY[name]
    a = _rng(17).uniform(lo, hi, (3, 4))
    _compare_with_torch(lambda x: getattr(x, name)(), lambda t: getattr(t, theirs)(), [a],
                        rtol=1e-12)
    _compare_with_torch(lambda x: getattr(tr, name)(x), lambda t: getattr(torch, theirs)(t),
                        [a], rtol=1e-12)
    x, t = tr.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    (gx,) = tr.grad(getattr(x, name)().sum(), x, create_graph=True)
    (gt,) = torch.autograd.grad(getattr(t, theirs)().sum(), t, create_graph=True)
    (ggx,) = tr.grad((gx * gx).sum(), x)
    (ggt,) = torch.autograd.grad((gt * gt).sum(), t)
    np.testing.assert_allclose(ggx.numpy(), ggt.numpy(), rtol=1e-10)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("name", NEW_PRIMITIVES + ["logit"])
@given(data=st.data())
def test_unary_ops_gradients(name, device, data):
    lo, hi = UNARY[name][1]
    x = data.draw(tst.tensors(min_value=lo, max_value=hi, device=device, requires_grad=True))
    op = getattr(tr, name)
    assert gradcheck(op, [x]) and gradgradcheck(op, [x])


@pytest.mark.torch
@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("name", NEW_PRIMITIVES)
def test_unary_ops_dtypes_edges_and_in_place(name, device):
    torch = _torch()
    x = tr.tensor([0.5, 0.25], dtype="float32", device=device, requires_grad=True)
    y = getattr(x, name)()
    y.sum().backward()
    assert y.dtype == np.float32 and x.grad.dtype == np.float32
    assert getattr(tr.tensor([1, 0], device=device), name)().dtype == np.float32  # as torch
    edge = np.array([-2.0, -1.0, 0.0, 1.0, 2.0, np.inf, np.nan])  # NaN, inf, no warning
    np.testing.assert_allclose(getattr(tr, name)(tr.tensor(edge, device=device)).numpy(),
                               getattr(torch, name)(torch.tensor(edge)).numpy(), rtol=1e-15)
    z = tr.tensor([0.5, 0.25], dtype="float64", device=device)
    want = getattr(z, name)().numpy()
    assert getattr(z, name + "_")() is z
    np.testing.assert_array_equal(z.numpy(), want)


def test_log2_and_log10_are_exact_at_powers():
    p = np.arange(-60, 61)
    np.testing.assert_array_equal(tr.tensor(2.0 ** p, dtype="float64").log2().numpy(), p)
    q = np.arange(-20, 21)
    np.testing.assert_array_equal(tr.log10(tr.tensor(10.0 ** q, dtype="float64")).numpy(), q)
    assert int(tr.tensor(8).log2()) == 3


@pytest.mark.torch
def test_atan2_matches_torch_broadcast_and_at_the_origin():
    torch = _torch()
    a, b = _rng(18).standard_normal((3, 1)), _rng(19).standard_normal((1, 4))
    _compare_with_torch(lambda y, x: tr.atan2(y, x), lambda y, x: torch.atan2(y, x), [a, b])
    _compare_with_torch(lambda y, x: y.arctan2(x), lambda y, x: y.arctan2(x), [a, b])
    _compare_with_torch(lambda y, x: y.atan2(x), lambda y, x: y.atan2(x),
                        [np.zeros(2), np.array([0.0, -0.0])])  # the origin: gradient 0
    assert tr.atan2(tr.tensor([1]), tr.tensor([1])).dtype == np.float32


@pytest.mark.parametrize("device", DEVICES)
@given(data=st.data())
def test_atan2_gradients_broadcast(device, data):
    y, x = data.draw(tst.broadcastable_tensors(2, device=device, requires_grad=True,
                                               min_side=0))
    x = x + 3.5  # away from the origin, where the angle jumps
    assert gradcheck(tr.atan2, [y, x]) and gradgradcheck(tr.atan2, [y, x])


@pytest.mark.torch
@pytest.mark.parametrize("eps", [None, 0.0, 0.1, 0.5])
def test_logit_matches_torch(eps):
    torch = _torch()
    a = np.array([0.0, 0.05, 0.3, 0.5, 0.7, 0.95, 1.0])
    _compare_with_torch(lambda x: tr.logit(x[1:-1], eps),
                        lambda t: torch.logit(t[1:-1], eps), [a])
    # at 0 and 1, -inf and inf without a warning, as torch
    np.testing.assert_allclose(tr.tensor(a).logit(eps).numpy(),
                               torch.logit(torch.tensor(a), eps).numpy(), rtol=1e-15)
    with pytest.raises(ValueError, match="eps"):
        tr.ones(2).logit(0.7)


# ---- remainder, fmod, floor_divide, true_divide, addcmul, addcdiv --------------------------


@pytest.mark.torch
@pytest.mark.parametrize("name", ["remainder", "fmod", "floor_divide", "true_divide"])
def test_division_functions_match_torch(name):
    torch = _torch()
    a = np.array([-7.5, -7.0, 7.0, 7.5, 2.0, -3.25])
    b = np.array([2.0, -2.0, 3.0, -2.5, 1.75, 1.5])
    for x, y in ((a, b), (a.astype(np.int64), b.astype(np.int64))):
        ours = getattr(tr, name)(tr.tensor(x), tr.tensor(y))
        theirs = getattr(torch, name)(torch.tensor(x), torch.tensor(y))
        assert ours.dtype == np.dtype(str(theirs.dtype).split(".")[1])
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
        np.testing.assert_array_equal(getattr(tr.tensor(x), name)(2).numpy(),
                                      getattr(torch.tensor(x), name)(2).numpy())
    if name != "fmod":  # a number first, as torch.remainder(-7, t) (torch.fmod refuses it)
        np.testing.assert_array_equal(getattr(tr, name)(-7, tr.tensor(b)).numpy(),
                                      getattr(torch, name)(-7, torch.tensor(b)).numpy())


@pytest.mark.torch
def test_fmod_gradient_matches_torch_and_refuses_integer_zero():
    torch = _torch()
    a, b = np.array([-7.5, 7.2, 1.3]), np.array([2.0, -2.5, 0.5])
    _compare_with_torch(lambda x, y: x.fmod(y), lambda x, y: x.fmod(y), [a, b])
    with pytest.raises(ZeroDivisionError, match="fmod"):
        tr.fmod(tr.tensor([1, 2]), tr.tensor([1, 0]))
    with pytest.raises(TypeError, match="bool"):
        tr.fmod(tr.tensor([True]), tr.tensor([True]))
    assert np.isnan(tr.fmod(tr.tensor([1.0]), 0.0).item())
    assert torch.fmod(torch.tensor([1.0]), 0.0).isnan().item()


@pytest.mark.parametrize("device", DEVICES)
@given(data=st.data())
def test_fmod_gradients_broadcast(device, data):
    shapes = data.draw(tst.broadcastable_shapes(2, min_side=0))
    full = np.broadcast_shapes(*shapes)
    b = data.draw(tst.arrays(shapes[1], min_value=0.5, max_value=3.0))
    b = b * np.where(data.draw(hnp.arrays(np.bool_, shapes[1])), -1, 1)
    # a = (k + f) b, f in [0.1, 0.9]: a / b stays off the integers, where fmod jumps
    k = data.draw(hnp.arrays(np.int64, full, elements=st.integers(-3, 3)))
    f = data.draw(tst.arrays(full, min_value=0.1, max_value=0.9))
    a = (k + f) * b
    x, y = (tr.tensor(v, device=device, requires_grad=True) for v in (a, b))
    assert gradcheck(tr.fmod, [x, y]) and gradgradcheck(tr.fmod, [x, y])


@pytest.mark.torch
@pytest.mark.parametrize("name", ["addcmul", "addcdiv"])
@pytest.mark.parametrize("value", [1, -0.5])
def test_addcmul_and_addcdiv_match_torch(name, value):
    torch = _torch()
    a, b, c = (_rng(20).standard_normal(s) for s in [(3, 1), (1, 4), (3, 4)])
    c = c + np.sign(c)  # away from 0 (a divisor)
    _compare_with_torch(lambda x, y, z: getattr(tr, name)(x, y, z, value=value),
                        lambda x, y, z: getattr(torch, name)(x, y, z, value=value), [c, a, b])
    _compare_with_torch(lambda x, y, z: getattr(x * 1, name + "_")(y, z, value=value),
                        lambda x, y, z: getattr(x * 1, name + "_")(y, z, value=value),
                        [c, a, b])


@pytest.mark.parametrize("device", DEVICES)
@given(data=st.data())
def test_addcmul_and_addcdiv_gradients_broadcast(device, data):
    x, y, z = data.draw(tst.broadcastable_tensors(3, device=device, requires_grad=True,
                                                  min_side=0))
    assert gradcheck(lambda a, b, c: tr.addcmul(a, b, c, value=0.5), [x, y, z])
    assert gradcheck(lambda a, b, c: a.addcdiv(b, c * c + 1), [x, y, z])


def test_addcdiv_refuses_integers_as_torch():
    with pytest.raises(TypeError, match="integer tensor1 and tensor2"):
        tr.ones(2).addcdiv(tr.tensor([1, 2]), tr.tensor([1, 2]))
    with pytest.raises(RuntimeError, match="leaf"):
        tr.ones(2, requires_grad=True).addcmul_(tr.ones(2), tr.ones(2))


# ---- tensordot -----------------------------------------------------------------------------


@pytest.mark.torch
@pytest.mark.parametrize("sa, sb, dims", [
    ((2, 3, 4), (3, 4, 5), 2), ((2, 3), (4, 5), 0), ((2, 3), (3, 5), 1),
    ((2, 3, 4), (4, 3, 5), ([1, 2], [1, 0])), ((3, 2), (2, 3), ([0, 1], [1, 0])),
    ((4,), (4,), 1), ((2, 3), (3,), ([1], [0])), ((2, 3, 4), (4, 2), ([-1], [0]))], ids=str)
def test_tensordot_matches_torch(sa, sb, dims):
    torch = _torch()
    a, b = _rng(21).standard_normal(sa), _rng(22).standard_normal(sb)
    _compare_with_torch(lambda x, y: tr.tensordot(x, y, dims),
                        lambda x, y: torch.tensordot(x, y, dims), [a, b])
    if not isinstance(dims, int):  # dims as a tensor of two rows, as torch takes it too
        as_tensor = [list(d) for d in dims]
        _compare_with_torch(lambda x, y: tr.tensordot(x, y, tr.tensor(as_tensor)),
                            lambda x, y: torch.tensordot(x, y, dims), [a, b])


@pytest.mark.parametrize("device", DEVICES)
@given(data=st.data())
def test_tensordot_gradients(device, data):
    shape = data.draw(tst.shapes(min_dims=0, max_dims=3, min_side=0, max_side=3))
    d = data.draw(st.integers(0, len(shape)))
    extra = data.draw(tst.shapes(min_dims=0, max_dims=2, min_side=0, max_side=3))
    a = tr.tensor(data.draw(tst.arrays(extra + shape)), device=device, requires_grad=True)
    b = tr.tensor(data.draw(tst.arrays(shape[len(shape) - d:] + extra)), device=device,
                  requires_grad=True)
    assert gradcheck(lambda x, y: tr.tensordot(x, y, d), [a, b])


def test_tensordot_errors():
    with pytest.raises(ValueError, match="sizes must match"):
        tr.tensordot(tr.ones(2, 3), tr.ones(2, 3), 1)
    with pytest.raises(ValueError, match="dims=3"):
        tr.tensordot(tr.ones(2, 3), tr.ones(2, 3), 3)
    with pytest.raises(ValueError, match="as many of each"):
        tr.tensordot(tr.ones(2, 3), tr.ones(2, 3), ([0, 1], [0]))
    with pytest.raises(ValueError, match="out of range"):
        tr.tensordot(tr.ones(2, 3), tr.ones(2, 3), ([2], [0]))
    with pytest.raises(ValueError, match="repeat"):
        tr.tensordot(tr.ones(2, 2), tr.ones(2, 2), ([0, 0], [0, 1]))
    with pytest.raises(TypeError, match="an int or a pair"):
        tr.tensordot(tr.ones(2), tr.ones(2), "x")
    with pytest.raises(TypeError, match="dtypes differ"):
        tr.tensordot(tr.ones(2), tr.ones(2, dtype="float64"), 1)


# ---- where(cond), clamp with tensor bounds, dtype= -----------------------------------------


@pytest.mark.torch
@pytest.mark.parametrize("device", DEVICES)
def test_where_with_only_a_condition_is_nonzero_as_torch(device):
    torch = _torch()
    for a in (np.array([[0, 1], [1, 1]]), np.array([0.0, 2.0, 0.0]), np.array(True)):
        ours, theirs = tr.where(tr.tensor(a, device=device)), torch.where(torch.tensor(a))
        assert isinstance(ours, tuple) and len(ours) == len(theirs)
        for o, t in zip(ours, theirs):
            np.testing.assert_array_equal(o.numpy(), t.numpy())
    with pytest.raises(TypeError, match="not one of x and y"):
        tr.where(tr.tensor([True]), tr.ones(1))
    with pytest.raises(TypeError, match="must be a Tensor"):
        tr.where([True, False])


@pytest.mark.torch
@pytest.mark.parametrize("bounds", ["min", "max", "both", "crossed"])
def test_clamp_with_tensor_bounds_matches_torch(bounds):
    torch = _torch()
    x = _rng(23).standard_normal((3, 4))
    lo = _rng(24).standard_normal((3, 1)) - 0.5
    hi = _rng(25).standard_normal((1, 4)) + 0.5
    if bounds == "crossed":
        lo, hi = hi + 1, lo  # min > max: the result is max, as torch
    cases = {"min": lambda m, lo, hi: m.clamp(min=lo),
             "max": lambda m, lo, hi: m.clamp(max=hi),
             "both": lambda m, lo, hi: m.clamp(lo, hi),
             "crossed": lambda m, lo, hi: m.clamp(min=lo, max=hi)}
    f = cases[bounds]
    _compare_with_torch(f, f, [x, lo, hi])
    _compare_with_torch(lambda m, lo, hi: tr.clamp(m, lo, hi),
                        lambda m, lo, hi: torch.clamp(m, lo, hi), [x, lo, hi])


@pytest.mark.torch
def test_clamp_with_tensor_bounds_dtypes_nan_and_in_place_as_torch():
    torch = _torch()
    got = tr.clamp(tr.tensor([1, 2, 3]), min=tr.tensor([1.5]))
    want = torch.clamp(torch.tensor([1, 2, 3]), min=torch.tensor([1.5]))
    assert got.dtype == np.float32 and want.dtype == torch.float32
    np.testing.assert_array_equal(got.numpy(), want.numpy())
    nan = tr.tensor([1.0, 5.0]).clamp(min=tr.tensor(math.nan))
    assert np.isnan(nan.numpy()).all()
    assert torch.tensor([1.0, 5.0]).clamp(min=torch.tensor(math.nan)).isnan().all()
    x = tr.tensor([[1.0, 5.0], [3.0, -1.0]])
    assert x.clamp_(tr.tensor([0.0, 2.0]), tr.tensor(4.0)) is x
    np.testing.assert_array_equal(x.numpy(), [[1.0, 4.0], [3.0, 2.0]])
    with pytest.raises(ValueError, match="must fit it"):
        tr.ones(2).clamp_(min=tr.zeros(3, 2))
    # a number beside a tensor bound (torch refuses the mix): the number as a tensor
    y, hi = tr.tensor([-1.0, 0.5, 3.0]), tr.tensor([2.0, 2.0, 2.0])
    np.testing.assert_array_equal(y.clamp(-0.3, hi).numpy(), y.clamp(tr.tensor(-0.3), hi).numpy())
    with pytest.raises(ValueError, match="at least one"):
        tr.ones(2).clamp(None, None)


@pytest.mark.parametrize("device", DEVICES)
@given(data=st.data())
def test_clamp_with_tensor_bounds_gradients_broadcast(device, data):
    shapes = data.draw(tst.broadcastable_shapes(3, min_side=0))
    # on a grid of 0.1 offset by 0.05 for x, so x never ties with a bound (a kink)
    x = data.draw(hnp.arrays(np.int64, shapes[0], elements=st.integers(-30, 30))) * 0.1 + 0.05
    lo = data.draw(hnp.arrays(np.int64, shapes[1], elements=st.integers(-30, -1))) * 0.1
    hi = data.draw(hnp.arrays(np.int64, shapes[2], elements=st.integers(1, 30))) * 0.1
    ts = [tr.tensor(a, device=device, requires_grad=True) for a in (x, lo, hi)]
    assert gradcheck(lambda a, b, c: a.clamp(b, c), ts)
    assert gradgradcheck(lambda a, b: a.clamp(min=b) * a, ts[:2])


@pytest.mark.torch
@pytest.mark.parametrize("device", DEVICES)
def test_sum_and_mean_with_dtype_match_torch(device):
    torch = _torch()
    a = np.array([[1, 2, 3], [4, 5, 7]], dtype=np.int32)
    for kwargs in ({"dtype": "float64"}, {"dim": 1, "dtype": "float32"},
                   {"dim": 0, "keepdim": True, "dtype": "float64"}):
        for name in ("sum", "mean"):
            ours = getattr(tr.tensor(a, device=device), name)(**kwargs)
            tkw = dict(kwargs, dtype=getattr(torch, kwargs["dtype"]))
            theirs = getattr(torch.tensor(a), name)(**tkw)
            assert ours.dtype == np.dtype(kwargs["dtype"])
            np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6)
    assert tr.sum(tr.ones(3, device=device), dtype=tr.int64).dtype == np.int64
    x = tr.tensor([0.5, 0.25], dtype="float32", device=device, requires_grad=True)
    y = x.sum(dtype=tr.float64)
    y.backward()
    assert y.dtype == np.float64 and x.grad.dtype == np.float32
    with pytest.raises(TypeError, match="floating-point"):
        tr.ones(2).mean(dtype=tr.int64)


@pytest.mark.torch
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_with_dtype_matches_torch(name):
    torch = _torch()
    a = _rng(26).standard_normal((3, 4)).astype(np.float32)
    x, t = tr.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    ours = getattr(F, name)(x, dim=1, dtype=tr.float64)
    theirs = getattr(torch.nn.functional, name)(t, dim=1, dtype=torch.float64)
    assert ours.dtype == np.float64
    np.testing.assert_allclose(ours.numpy(), theirs.detach().numpy(), rtol=1e-12)
    v = _rng(27).standard_normal(a.shape)
    (ours * tr.tensor(v)).sum().backward()
    (theirs * torch.tensor(v)).sum().backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-5)
    assert getattr(x, name)(-1, dtype="float64").dtype == np.float64
    with pytest.raises(TypeError, match="floating-point"):
        getattr(F, name)(x, 1, dtype=tr.int64)


# ---- unsqueeze_ and squeeze_ ---------------------------------------------------------------


@pytest.mark.torch
def test_unsqueeze_and_squeeze_in_place_match_torch_with_backward():
    torch = _torch()
    a, w = _rng(28).standard_normal((2, 3)), _rng(29).standard_normal((1, 2, 1, 3))

    def run(m, x, weight):
        y = x * 2
        assert y.unsqueeze_(0) is y and y.shape == (1, 2, 3)
        y.unsqueeze_(dim=-2)  # (1, 2, 1, 3)
        z = y * weight
        z.squeeze_()
        z.squeeze_(0)  # not of size 1: left, as torch
        return z.sin()

    _compare_with_torch(lambda x, weight: run(tr, x, weight),
                        lambda x, weight: run(torch, x, weight), [a, w])


@pytest.mark.torch
def test_unsqueeze_in_place_keeps_views_as_torch():
    torch = _torch()
    for m in (tr, torch):
        x = m.zeros(2, 3)
        v = x[0]  # a view taken before
        x.unsqueeze_(0)
        x[0, 0, 1] = 5.0  # a write into x reaches v
        assert v.tolist() == [0.0, 5.0, 0.0]
        v.fill_(7.0)  # and a write into v reaches x
        assert x.tolist() == [[[7.0, 7.0, 7.0], [0.0, 0.0, 0.0]]]
        u = x[0][1]  # a view that changes shape: its base sees it, through it
        u.unsqueeze_(0)
        u.add_(1.0)
        assert x.tolist() == [[[7.0, 7.0, 7.0], [1.0, 1.0, 1.0]]] and tuple(u.shape) == (1, 3)
        d = x.detach()
        d.squeeze_(0)
        d[1, 2] = -1.0
        assert x[0, 1, 2].item() == -1.0


def test_unsqueeze_in_place_refusals_and_no_grad():
    w = tr.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="a leaf tensor that requires grad"):
        w.unsqueeze_(0)
    with pytest.raises(RuntimeError, match="a view of a leaf tensor"):
        w[0:2].unsqueeze_(0)
    with tr.no_grad():
        w.unsqueeze_(0)  # allowed there, as torch
    assert w.shape == (1, 3) and w.is_leaf and w.requires_grad
    with pytest.raises(ValueError, match="out of range"):
        tr.ones(2).unsqueeze_(3)
    with pytest.raises(ValueError, match="out of range"):
        tr.ones(2).squeeze_(1)
    h = tr.ones(2, 1, requires_grad=True) * 1
    h.squeeze_(1)
    assert h.shape == (2,) and h.grad_fn is not None


# ---- gumbel_softmax ------------------------------------------------------------------------


@pytest.mark.parametrize("device", DEVICES)
def test_gumbel_softmax_soft_and_hard(device):
    logits = tr.tensor(_rng(30).standard_normal((4, 5)), device=device, requires_grad=True)
    tr.manual_seed(7)
    soft = F.gumbel_softmax(logits, tau=0.5)
    np.testing.assert_allclose(soft.numpy().sum(-1), 1.0, rtol=1e-12)
    tr.manual_seed(7)
    hard = F.gumbel_softmax(logits, tau=0.5, hard=True)
    h = hard.numpy()
    assert set(np.unique(h)) <= {0.0, 1.0} and (h.sum(-1) == 1).all()
    np.testing.assert_array_equal(h.argmax(-1), soft.numpy().argmax(-1))  # the same draw
    v = tr.tensor(_rng(31).standard_normal((4, 5)), device=device)
    (gs,) = tr.grad((soft * v).sum(), logits)
    (gh,) = tr.grad((hard * v).sum(), logits)  # straight through: the soft one's gradient
    np.testing.assert_allclose(gh.numpy(), gs.numpy(), rtol=1e-12)
    col = F.gumbel_softmax(logits, dim=0, hard=True)
    assert (col.numpy().sum(0) == 1).all()


@pytest.mark.parametrize("device", DEVICES)
@given(data=st.data())
def test_gumbel_softmax_gradient_for_one_draw(device, data):
    x = data.draw(tst.tensors(tst.shapes(min_dims=1), device=device, requires_grad=True))
    tau = data.draw(st.floats(0.3, 3.0))

    def one_draw(t):
        tr.manual_seed(11)  # the same noise every call
        return F.gumbel_softmax(t, tau=tau)

    assert gradcheck(one_draw, [x]) and gradgradcheck(one_draw, [x])


def test_gumbel_softmax_errors():
    with pytest.raises(ValueError, match="tau must be a number > 0"):
        F.gumbel_softmax(tr.ones(3), tau=0)
    with pytest.raises(TypeError, match="floating-point"):
        F.gumbel_softmax(tr.tensor([1, 2]))
    with pytest.raises(ValueError, match="out of range"):
        F.gumbel_softmax(tr.ones(3), dim=1)


# ---- the boilerplate at a script's start ---------------------------------------------------


@pytest.fixture
def _restore_flags():
    threads = tr.get_num_threads()
    yield
    tr.use_deterministic_algorithms(False)
    tr.set_num_threads(threads)
    tr.set_printoptions(profile="default")


def test_deterministic_and_threads_are_recorded(_restore_flags):
    assert tr.are_deterministic_algorithms_enabled() is False
    tr.use_deterministic_algorithms(True, warn_only=True)
    assert tr.are_deterministic_algorithms_enabled() is True
    assert tr.is_deterministic_algorithms_warn_only_enabled() is True
    tr.use_deterministic_algorithms(False)
    assert not tr.are_deterministic_algorithms_enabled()
    with pytest.raises(TypeError, match="bools"):
        tr.use_deterministic_algorithms("yes")
    assert tr.get_num_threads() >= 1
    tr.set_num_threads(1)
    assert tr.get_num_threads() == 1
    with pytest.raises(ValueError, match=">= 1"):
        tr.set_num_threads(0)


def test_set_num_threads_limits_numpys_blas(_restore_flags):
    threadpoolctl = pytest.importorskip("threadpoolctl")
    blas = [i for i in threadpoolctl.threadpool_info() if i["user_api"] == "blas"]
    if not blas:
        pytest.skip("threadpoolctl finds no BLAS in this NumPy")
    tr.set_num_threads(1)
    assert all(i["num_threads"] == 1 for i in threadpoolctl.threadpool_info()
               if i["user_api"] == "blas")
    assert tr.get_num_threads() == 1  # what the BLAS uses, as threadpoolctl reads it


def test_a_command_run_from_python_leaves_the_threads_as_they_were(tmp_path):
    from tinygrad_rnn import cli

    before = tr.get_num_threads()
    assert cli.main(["gradflow", "--T", "3", "--hidden", "2", "--batch", "2", "--quiet",
                     "--out", str(tmp_path)]) == 0
    assert tr.get_num_threads() == before


@pytest.mark.parametrize("device", DEVICES)
def test_rng_state_round_trips_exactly(device):
    tr.manual_seed(5)
    tr.randn(3)
    state = tr.get_rng_state()
    assert state.dtype == np.uint8 and state.ndim == 1
    a = tr.randn(4, dtype="float64", device=device).numpy()
    b = F.dropout(tr.ones(50), 0.5).numpy()
    tr.set_rng_state(state)
    np.testing.assert_array_equal(tr.randn(4, dtype="float64", device=device).numpy(), a)
    np.testing.assert_array_equal(F.dropout(tr.ones(50), 0.5).numpy(), b)
    tr.set_rng_state(state.clone())  # torch-style: a copy of the tensor works as well
    c = tr.rand(1).item()
    tr.random.set_rng_state(tr.random.get_rng_state())  # the dict form, for checkpoints
    d = tr.rand(1).item()
    tr.set_rng_state(state)
    assert tr.rand(1).item() == c and c != d
    with pytest.raises(ValueError, match="37 uint8 values"):
        tr.set_rng_state(tr.zeros(5, dtype=tr.uint8))
    with pytest.raises(TypeError, match="dict"):
        tr.set_rng_state([1, 2])


def test_manual_seed_returns_the_default_generator():
    g = tr.manual_seed(9)
    assert g is tr.default_generator and isinstance(g, tr.Generator)
    assert tr.initial_seed() == 9 and g.initial_seed() == 9
    a = tr.randn(3, generator=g).numpy()
    tr.manual_seed(9)
    np.testing.assert_array_equal(tr.randn(3).numpy(), a)  # drawing from g is the global one
    assert g.manual_seed(9) is g
    np.testing.assert_array_equal(tr.randn(3).numpy(), a)
    s = g.get_state()
    x = tr.rand(2).numpy()
    g.set_state(s)
    np.testing.assert_array_equal(tr.rand(2).numpy(), x)
    with pytest.raises(TypeError, match="must be an int"):
        tr.manual_seed(1.5)


def test_set_printoptions_changes_the_repr(_restore_flags):
    x = tr.tensor([1.23456789, 2e-5])
    assert repr(x) == "tensor([1.2346e+00, 2.0000e-05])"
    tr.set_printoptions(precision=2)
    assert repr(x) == "tensor([1.23e+00, 2.00e-05])"
    tr.set_printoptions(sci_mode=False)
    assert repr(x) == "tensor([1.23, 0.00])"  # (as torch.set_printoptions prints it)
    tr.set_printoptions(precision=4, sci_mode=True)
    assert repr(tr.tensor([1.5, 2.0])) == "tensor([1.5000e+00, 2.0000e+00])"
    tr.set_printoptions(profile="default")
    assert repr(x) == "tensor([1.2346e+00, 2.0000e-05])"
    tr.set_printoptions(threshold=5, edgeitems=2)
    assert repr(tr.arange(10)) == "tensor([0, 1,  ..., 8, 9])"  # (torch's two spaces)
    tr.set_printoptions(profile="full")
    assert "..." not in repr(tr.zeros(5000))
    tr.set_printoptions(profile="short")
    assert repr(tr.tensor([1.23456])) == "tensor([1.23])"
    tr.set_printoptions(profile="default", linewidth=30)
    assert all(len(line) <= 30 for line in repr(tr.arange(20.0)).splitlines()[:-1])
    with pytest.raises(ValueError, match="profile"):
        tr.set_printoptions(profile="long")
    with pytest.raises(ValueError, match="precision must be an int"):
        tr.set_printoptions(precision=-1)
    with pytest.raises(ValueError, match="sci_mode"):
        tr.set_printoptions(sci_mode="yes")


@pytest.mark.torch
def test_repr_summarises_past_1000_elements_as_torch():
    torch = _torch()
    assert "..." not in repr(tr.arange(1000.0)) and "..." not in repr(torch.arange(1000.0))
    ours, theirs = repr(tr.arange(1001.0)), repr(torch.arange(1001.0))
    assert "..." in ours and "..." in theirs


# ---- legacy constructors -------------------------------------------------------------------


@pytest.mark.torch
@pytest.mark.parametrize("name", ["FloatTensor", "DoubleTensor", "HalfTensor", "LongTensor",
                                  "IntTensor", "ByteTensor", "BoolTensor"])
def test_legacy_tensor_types_as_torch(name):
    torch = _torch()
    ours, theirs = getattr(tr, name), getattr(torch, name)
    dt = str(theirs([1]).dtype).split(".")[1]
    for args in ((2, 3), ([1, 0, 2],), (np.array([[1, 2]]),), ()):
        x, t = ours(*args), theirs(*args)
        assert x.dtype == np.dtype(dt) and x.shape == tuple(t.shape)
        if args and not isinstance(args[0], int):  # sizes: ours zero-filled, theirs not
            np.testing.assert_array_equal(x.numpy(), t.numpy())
    assert ours(2, 3).numpy().sum() == 0
    assert ours(tr.Size((2, 1))).shape == (2, 1)
    assert isinstance(ours([1]), ours) and not isinstance(tr.tensor([1.0j]), ours)
    assert tr.tensor([1, 2]).type(ours).dtype == np.dtype(dt)
    assert tr.tensor([1, 2]).type(f"torch.{name}").dtype == np.dtype(dt)
    assert ours([1], device="strict").device == "strict"


def test_legacy_types_refuse_another_dtype_and_x_new():
    with pytest.raises(TypeError, match="convert it"):
        tr.LongTensor(tr.tensor([1.5]))
    with pytest.raises(TypeError, match="no tensor type named"):
        tr.ones(1).type("torch.QuadTensor")
    x = tr.tensor([1, 2], dtype="int32", device="strict")
    y = x.new(2, 3)
    assert y.dtype == np.int32 and y.shape == (2, 3) and y.device == "strict"
    z = x.new([4, 5])
    assert z.dtype == np.int32 and z.tolist() == [4, 5]
    assert x.new().shape == (0,)
    assert x.new_tensor([1.5]).dtype == np.int32


# ---- from a review: in-place reshapes in the graph, sums in a dtype, logit, index_fill --------


@pytest.mark.torch
@pytest.mark.parametrize("op", ["unsqueeze_", "squeeze_"])
def test_backward_through_ops_recorded_before_an_in_place_reshape(op):
    torch = pytest.importorskip("torch")
    grads = []
    for lib in (torch, tr):
        a = lib.ones(3, 1, 4, requires_grad=True) if op == "squeeze_" else \
            lib.ones(3, 4, requires_grad=True)
        b = a * 3.0  # (torch refuses when an op saved b itself: exp's output, say)
        c, v, t = b * 2, b[0], b.transpose(0, 1)  # an op, and views, taken before
        getattr(b, op)(0 if op == "unsqueeze_" else 1)
        (c.sum() + b.sum() + v.sum() + t.sum()).backward()
        grads.append(a.grad.numpy())
    np.testing.assert_allclose(grads[1], grads[0], rtol=1e-6)


@pytest.mark.torch
def test_sum_in_a_given_dtype_and_integer_sums_as_torch():
    torch = pytest.importorskip("torch")
    for values, dt, to in (([1, 2], "int32", "int32"), ([200, 100], "uint8", "uint8"),
                           ([200, 100], "uint8", None), ([True, True], "bool", None),
                           ([1.5, 2.5], "float32", "float64")):
        ours = tr.tensor(values, dtype=dt).sum(dtype=to)
        theirs = torch.tensor(values, dtype=getattr(torch, dt)).sum(
            dtype=None if to is None else getattr(torch, to))
        assert ours.item() == theirs.item()
        assert str(ours.dtype) == str(theirs.dtype).removeprefix("torch.")


@pytest.mark.torch
def test_logit_outside_its_domain_is_nan_with_a_nan_gradient_and_no_warning():
    torch = pytest.importorskip("torch")
    for v in ([-0.1, 1.5, 0.3], [0.0, 1.0, 0.5]):
        x, t = tr.tensor(v, requires_grad=True), torch.tensor(v, requires_grad=True)
        y, z = x.logit(), t.logit()
        y.backward(tr.ones(3))
        z.backward(torch.ones(3))
        np.testing.assert_allclose(y.numpy(), z.detach().numpy(), rtol=1e-6)
        np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-6)


@pytest.mark.torch
def test_index_fill_takes_negative_indices_as_torch():
    torch = pytest.importorskip("torch")
    ours = tr.arange(6.0).reshape(2, 3).index_fill(1, tr.tensor([-1, 0]), 9.0)
    theirs = torch.arange(6.0).reshape(2, 3).index_fill(1, torch.tensor([-1, 0]), 9.0)
    assert ours.tolist() == theirs.tolist()
    with pytest.raises(ValueError, match=r"index -4 is out of range .* \[-3, 3\)"):
        tr.ones(2, 3).index_fill(1, tr.tensor([-4]), 1.0)


@pytest.mark.torch
@pytest.mark.parametrize("default", ["float32", "float64"])
def test_where_of_two_numbers_takes_the_default_dtype_as_torch(default):
    """Two Python floats: a tensor of the default float dtype (float64 after
    ``set_default_dtype(float64)``), two ints int64, as ``torch.where``."""
    torch = _torch()
    old, t_old = tr.get_default_dtype(), torch.get_default_dtype()
    try:
        tr.set_default_dtype(getattr(tr, default))
        torch.set_default_dtype(getattr(torch, default))
        cond = [True, False]
        for a, b in ((0.1, 0.2), (1, 2), (1, 0.5)):
            ours = tr.where(tr.tensor(cond), a, b)
            theirs = torch.where(torch.tensor(cond), a, b)
            assert str(theirs.dtype) == f"torch.{ours.dtype}"
            np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    finally:
        tr.set_default_dtype(old)
        torch.set_default_dtype(t_old)
