"""The third batch of PyTorch's functions: cov and corrcoef, kron, block_diag, cartesian_prod,
combinations, diag_embed, diagflat, tril_indices and triu_indices, cummax and cummin, kthvalue,
mode, nanmedian, aminmax, hypot, xlogy, sinc, copysign, heaviside, signbit, rot90, trapezoid and
cumulative_trapezoid, searchsorted and bucketize, histc, renorm, gcd and lcm, the bitwise
functions and shifts, frexp and ldexp, vander, chain_matmul and i0.

Values, dtypes, indices and gradients against PyTorch in float64 (ties and NaN where PyTorch
shows a choice); gradients against central differences with Hypothesis; every op on the strict
device equal to the CPU; the errors."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_rnn as tr
from tinygrad_rnn.testing import gradcheck, gradgradcheck
from tinygrad_rnn.testing import strategies as tst

from .conftest import DEVICES, assert_device_equals_cpu
from .test_ops_more import _distinct, _torch
from .test_ops_torch import _compare_with_torch, _rng

NAN = math.nan


def _same(ours, theirs, exact=True):
    """Equal values (NaN where NaN), dtypes and shapes of a tinygrad_rnn and a torch tensor
    (not ``exact``: to a few units in the last place)."""
    torch = _torch()
    a, b = ours.numpy(), theirs.detach().numpy()
    assert a.shape == b.shape, (a.shape, b.shape)
    assert a.dtype == b.dtype or str(theirs.dtype) == f"torch.{a.dtype}", (a.dtype, b.dtype)
    assert isinstance(theirs, torch.Tensor)
    if exact:
        np.testing.assert_array_equal(a, b)
    else:
        tol = 1e-12 if a.dtype == np.float64 else 4 * float(np.finfo(a.dtype).eps)
        np.testing.assert_allclose(a, b, rtol=tol, atol=1e-300)


def _grads(ours, theirs, arrays, pick=lambda y: y):
    """The gradients of Σ v · pick(f(x)) for one random v, ours and torch's, on float64
    leaves made from ``arrays``: equal (NaN where NaN)."""
    torch = _torch()
    xs = [tr.tensor(a, requires_grad=True) for a in arrays]
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    y, u = pick(ours(*xs)), pick(theirs(*ts))
    v = _rng(7).standard_normal(y.shape)
    (y * tr.tensor(v)).sum().backward()
    (u * torch.tensor(v)).sum().backward()
    for x, t in zip(xs, ts):
        np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-12, atol=1e-14)


# ---- cov, corrcoef -------------------------------------------------------------------------


@pytest.mark.torch
@pytest.mark.filterwarnings("ignore:.*degrees of freedom")  # (too few observations: below)
@pytest.mark.parametrize("shape", [(5,), (3, 6), (1, 4), (4, 1), (2, 2)], ids=str)
@pytest.mark.parametrize("correction", [0, 1, 2])
def test_cov_matches_torch(shape, correction):
    torch = _torch()
    a = _rng(1).standard_normal(shape)
    n = a.shape[-1]
    fw = _rng(2).integers(1, 4, n)
    aw = _rng(3).uniform(0.5, 2, n)
    if n <= correction:  # the divisor is <= 0: it warns (below) and gives inf or NaN
        _same(tr.cov(tr.tensor(a), correction=correction),
              torch.cov(torch.tensor(a), correction=correction), exact=False)
    else:
        _compare_with_torch(lambda x: tr.cov(x, correction=correction),
                            lambda t: torch.cov(t, correction=correction), [a])
    if n == 1:  # PyTorch's backward fails there (an in-place write into the input): values
        _same(tr.cov(tr.tensor(a), correction=correction, fweights=tr.tensor(fw)),
              torch.cov(torch.tensor(a), correction=correction, fweights=torch.tensor(fw)),
              exact=False)
        return
    _compare_with_torch(lambda x: x.cov(correction=correction, fweights=tr.tensor(fw)),
                        lambda t: t.cov(correction=correction, fweights=torch.tensor(fw)), [a])
    if n > 2 or correction == 0:  # (else the divisor is <= 0: below)
        # aweights are differentiable, as in PyTorch
        _compare_with_torch(
            lambda x, w: tr.cov(x, correction=correction, fweights=tr.tensor(fw), aweights=w),
            lambda t, w: torch.cov(t, correction=correction, fweights=torch.tensor(fw),
                                   aweights=w), [a, aw])
    _compare_with_torch(lambda x: tr.corrcoef(x), lambda t: torch.corrcoef(t), [a + 0.1],
                        atol=1e-12)  # (c / c: a gradient of rounding errors in PyTorch's)


@pytest.mark.torch
def test_cov_edges_match_torch():
    torch = _torch()
    for data in ([1, 2, 4], [[1, 2, 4], [3, 1, 0]]):  # integers give float32
        _same(tr.cov(tr.tensor(data)), torch.cov(torch.tensor(data)), exact=False)
        _same(tr.corrcoef(tr.tensor(data)), torch.corrcoef(torch.tensor(data)), exact=False)
    _same(tr.cov(tr.zeros(0, 3)), torch.cov(torch.zeros(0, 3)))
    const = [[1.0, 2, 4], [1, 1, 1]]  # a constant variable: NaN, as there
    _same(tr.corrcoef(tr.tensor(const)), torch.corrcoef(torch.tensor(const)), exact=False)
    for x in (tr.tensor([1.0, 2, 4]), tr.zeros(0), tr.zeros(2, 0), tr.tensor(3.0)):
        correction = 3 if x.size == 3 else 1
        with pytest.warns(RuntimeWarning, match="degrees of freedom"):
            ours = tr.cov(x, correction=correction)
        with pytest.warns(UserWarning):
            theirs = torch.cov(torch.tensor(x.numpy()), correction=correction)
        _same(ours, theirs)


def test_cov_errors():
    x = tr.ones(2, 3)
    with pytest.raises(ValueError, match=r"two or fewer dimensions .* \(2, 2, 2\)"):
        tr.cov(tr.ones(2, 2, 2))
    with pytest.raises(TypeError, match="bool"):
        tr.cov(tr.tensor([True, False]))
    with pytest.raises(TypeError, match="fweights must have an integer dtype"):
        tr.cov(x, fweights=tr.ones(3))
    with pytest.raises(TypeError, match="aweights must have a floating dtype"):
        tr.cov(x, aweights=tr.tensor([1, 2, 3]))
    with pytest.raises(ValueError, match="fweights cannot be negative"):
        tr.cov(x, fweights=tr.tensor([1, -1, 2]))
    with pytest.raises(ValueError, match="2 elements for 3 observations"):
        tr.cov(x, aweights=tr.ones(2))
    with pytest.raises(ValueError, match="sum to zero"):
        tr.cov(x, aweights=tr.zeros(3))
    with pytest.raises(TypeError, match="correction must be an int"):
        tr.cov(x, correction=0.5)


# ---- kron, block_diag, cartesian_prod, combinations, diag_embed, diagflat -----------------


@pytest.mark.torch
@pytest.mark.parametrize("sa, sb", [((2, 3), (3, 2)), ((2,), (2, 3)), ((), (3,)), ((), ()),
                                    ((2, 1, 2), (3, 2)), ((0, 2), (2,))], ids=str)
def test_kron_matches_torch(sa, sb):
    torch = _torch()
    a, b = _rng(4).standard_normal(sa), _rng(5).standard_normal(sb)
    _compare_with_torch(lambda x, y: tr.kron(x, y), lambda t, u: torch.kron(t, u), [a, b])
    _compare_with_torch(lambda x, y: x.kron(y), lambda t, u: t.kron(u), [a, b])
    _same(tr.kron(tr.tensor([1, 2]), tr.tensor([1.5])),
          torch.kron(torch.tensor([1, 2]), torch.tensor([1.5])))


@pytest.mark.torch
def test_block_diag_cartesian_prod_combinations_match_torch():
    torch = _torch()
    rng = _rng(6)
    blocks = [rng.standard_normal(()), rng.standard_normal(3), rng.standard_normal((2, 2)),
              rng.standard_normal((0, 2)), rng.standard_normal((2, 0))]
    _compare_with_torch(lambda *xs: tr.block_diag(*xs), lambda *ts: torch.block_diag(*ts),
                        blocks)
    _same(tr.block_diag(), torch.block_diag())
    for parts in (([1], [True]), ([[1, 2]],)):  # dtypes promoted as PyTorch's
        ours = tr.block_diag(*(tr.tensor(p, dtype="int32" if k == 0 else None)
                               for k, p in enumerate(parts)), tr.tensor(2.0, dtype="float64"))
        theirs = torch.block_diag(*(torch.tensor(p, dtype=torch.int32 if k == 0 else None)
                                    for k, p in enumerate(parts)),
                                  torch.tensor(2.0, dtype=torch.float64))
        _same(ours, theirs)
    _same(tr.block_diag(tr.tensor([1], dtype="int32"), tr.tensor([True])),
          torch.block_diag(torch.tensor([1], dtype=torch.int32), torch.tensor([True])))
    vs = [rng.standard_normal(2), rng.standard_normal(3), rng.standard_normal(1)]
    _compare_with_torch(lambda *xs: tr.cartesian_prod(*xs), lambda *ts: torch.cartesian_prod(*ts),
                        vs)
    _compare_with_torch(lambda x: tr.cartesian_prod(x), lambda t: torch.cartesian_prod(t),
                        vs[:1])
    _same(tr.cartesian_prod(tr.tensor([1, 2]), tr.zeros(0, dtype="int64")),
          torch.cartesian_prod(torch.tensor([1, 2]), torch.zeros(0, dtype=torch.int64)))
    v = rng.standard_normal(4)
    for r in range(1, 6):
        for rep in (False, True):
            _compare_with_torch(lambda x, r=r, rep=rep: tr.combinations(x, r, rep),
                                lambda t, r=r, rep=rep: torch.combinations(t, r, rep), [v])
    _same(tr.combinations(tr.zeros(0), 2), torch.combinations(torch.zeros(0), 2))
    _same(tr.combinations(tr.tensor([1, 2]), 0, True), torch.combinations(torch.tensor([1, 2]), 0))


@pytest.mark.torch
@pytest.mark.parametrize("shape, offset, dim1, dim2", [
    ((3,), 0, -2, -1), ((3,), 1, 0, 1), ((2, 3), -1, -2, -1), ((2, 3), 2, 2, 0),
    ((2, 3, 2), 0, 1, 3), ((2, 3), 0, -1, 0), ((0,), 2, 0, 1)], ids=str)
def test_diag_embed_matches_torch(shape, offset, dim1, dim2):
    torch = _torch()
    a = _rng(8).standard_normal(shape)
    _compare_with_torch(lambda x: tr.diag_embed(x, offset, dim1, dim2),
                        lambda t: torch.diag_embed(t, offset, dim1, dim2), [a])
    _compare_with_torch(lambda x: x.diag_embed(offset, dim1=dim1, dim2=dim2),
                        lambda t: t.diag_embed(offset, dim1=dim1, dim2=dim2), [a])


@pytest.mark.torch
@pytest.mark.parametrize("shape", [(), (3,), (2, 2), (0,)], ids=str)
@pytest.mark.parametrize("offset", [0, 1, -2])
def test_diagflat_matches_torch(shape, offset):
    a = _rng(9).standard_normal(shape)
    _compare_with_torch(lambda x: x.diagflat(offset), lambda t: t.diagflat(offset), [a])


@pytest.mark.torch
@pytest.mark.parametrize("device", DEVICES)
def test_tril_triu_indices_match_torch(device):
    torch = _torch()
    for row, col in ((3, 4), (4, 3), (0, 3), (1, 1), (5, 0)):
        for offset in (-6, -1, 0, 1, 2, 10):
            for ours, theirs in ((tr.tril_indices, torch.tril_indices),
                                 (tr.triu_indices, torch.triu_indices)):
                y = ours(row, col, offset, device=device)
                assert y.device == device
                _same(y.to("cpu"), theirs(row, col, offset))
    _same(tr.triu_indices(3, 3, dtype=tr.int32), torch.triu_indices(3, 3, dtype=torch.int32))


# ---- cummax, cummin, kthvalue, mode, nanmedian, aminmax -----------------------------------


@pytest.mark.torch
@pytest.mark.parametrize("fn", ["cummax", "cummin"])
def test_cummax_cummin_match_torch_with_ties_and_nan(fn):
    torch = _torch()
    a = np.array([[1.0, 3, 3, 2, 5, NAN, 4, NAN, 1], [0, 0, -1, -1, 2, 2, 2, -3, 9],
                  [2, 1, 1, 0, 0, 4, 4, -5, -5]])
    for dim in (0, 1, -1):
        ours, theirs = getattr(tr.tensor(a), fn)(dim), getattr(torch.tensor(a), fn)(dim)
        _same(ours.values, theirs.values)
        _same(ours.indices, theirs.indices)
        # the gradient is scatter-added back to the indices, ties and NaN included
        _grads(lambda x, d=dim: getattr(tr, fn)(x, dim=d).values,
               lambda t, d=dim: getattr(torch, fn)(t, dim=d).values, [a])
    for x in ([True, False, True], [[3, 1], [1, 3]], 2.5, np.zeros((0, 3)), np.zeros((2, 0))):
        ours = getattr(tr.tensor(x), fn)(0)
        theirs = getattr(torch.tensor(x), fn)(0)
        _same(ours.values, theirs.values)
        _same(ours.indices, theirs.indices)


@pytest.mark.parametrize("device", DEVICES)
@given(data=st.data())
def test_running_and_selection_gradients(device, data):
    shape = data.draw(tst.shapes(min_dims=1, max_dims=3, max_side=4))
    x = tr.tensor(data.draw(_distinct(shape)), device=device, requires_grad=True)
    dim = data.draw(st.integers(-x.ndim, x.ndim - 1))
    k = data.draw(st.integers(1, x.shape[dim]))
    keep = data.draw(st.booleans())
    assert gradcheck(lambda t: t.cummax(dim).values, [x])
    assert gradcheck(lambda t: tr.cummin(t, dim).values, [x])
    assert gradcheck(lambda t: t.kthvalue(k, dim, keep).values, [x])
    assert gradcheck(lambda t: tr.nanmedian(t, dim, keep).values, [x])
    assert gradcheck(lambda t: t.mode(dim, keep).values, [x])
    assert gradcheck(lambda t: tr.aminmax(t, dim=dim, keepdim=keep).max * 2
                     + tr.aminmax(t, dim=dim, keepdim=keep).min, [x])


@pytest.mark.torch
@pytest.mark.parametrize("dim, keepdim", [(-1, False), (0, True), (1, False)], ids=str)
def test_kthvalue_matches_torch(dim, keepdim):
    torch = _torch()
    a = _rng(10).permutation(24).reshape(4, 6) * 0.5 - 3  # distinct: one element per rank
    a[1, 2] = NAN  # NaN is the largest
    for k in range(1, a.shape[dim] + 1):
        ours = tr.tensor(a).kthvalue(k, dim, keepdim)
        theirs = torch.tensor(a).kthvalue(k, dim, keepdim)
        _same(ours.values, theirs.values)
        _same(ours.indices, theirs.indices)
        _grads(lambda x, k=k: tr.kthvalue(x, k, dim=dim, keepdim=keepdim).values,
               lambda t, k=k: torch.kthvalue(t, k, dim=dim, keepdim=keepdim).values, [a])
    # ties: the same value, at an index that holds it (PyTorch's pick among ties is its
    # selection algorithm's)
    b = np.array([3.0, 1, 2, 1, 1])
    for k in range(1, 6):
        ours = tr.tensor(b).kthvalue(k)
        assert ours.values.item() == torch.tensor(b).kthvalue(k).values.item()
        assert b[ours.indices.item()] == ours.values.item()
    _same(tr.tensor(3.0).kthvalue(1).values, torch.tensor(3.0).kthvalue(1).values)
    _same(tr.zeros(0, 3).kthvalue(1).values, torch.zeros(0, 3).kthvalue(1).values)


@pytest.mark.torch
def test_mode_matches_torch():
    torch = _torch()
    rng = _rng(11)
    rows = [[3.0, 1, 2, 1, 2, 5], [1, 1, 2, 2, 2, 1], [2, NAN, NAN, 1, 7, 7], [4, 4, 4, 4, 4, 4],
            [0, -0.0, 1, 1, 5, 5]]
    a = np.array(rows)
    for x in (a, rng.integers(0, 3, (3, 4, 5)).astype(np.float64)):
        for dim in range(-x.ndim, x.ndim):
            for keepdim in (False, True):
                ours, theirs = tr.tensor(x).mode(dim, keepdim), torch.tensor(x).mode(dim, keepdim)
                _same(ours.values, theirs.values)
                _same(ours.indices, theirs.indices)
                _grads(lambda t, d=dim, k=keepdim: tr.mode(t, d, k).values,
                       lambda t, d=dim, k=keepdim: torch.mode(t, d, k).values, [x])
    for x in ([1, 1, 2, 2, 2, 1], [True, False, True], 3.0):
        ours, theirs = tr.tensor(x).mode(), torch.tensor(x).mode()
        _same(ours.values, theirs.values)
        _same(ours.indices, theirs.indices)


@pytest.mark.torch
def test_nanmedian_matches_torch():
    torch = _torch()
    a = np.array([[NAN, 1.0, 3, 2], [4, 4, 4, NAN], [5, 6, -1, 0], [NAN, -2, NAN, 7]])
    for x in (a, a[0], np.array([NAN, NAN]), np.zeros(0), np.array([1.0, 2, 2, 2, 3, 9])):
        _same(tr.tensor(x).nanmedian(), torch.tensor(x).nanmedian())
        if x.size:  # split evenly between the elements equal to it (the NaNs for NaN)
            _grads(lambda t: t.nanmedian(), lambda t: t.nanmedian(), [x])
    for dim in (0, 1, -1):
        for keepdim in (False, True):
            ours = tr.tensor(a).nanmedian(dim, keepdim)
            theirs = torch.tensor(a).nanmedian(dim, keepdim)
            _same(ours.values, theirs.values)
            _same(ours.indices, theirs.indices)
            _grads(lambda t, d=dim, k=keepdim: tr.nanmedian(t, d, k).values,
                   lambda t, d=dim, k=keepdim: torch.nanmedian(t, d, k).values, [a])
    # a row of NaNs only: NaN at its first NaN (PyTorch's index there is its selection's)
    ours = tr.tensor([[NAN, NAN, NAN]]).nanmedian(1)
    assert np.isnan(ours.values.item()) and ours.indices.item() == 0
    _same(tr.tensor([3, 1, 2, 2]).nanmedian(), torch.tensor([3, 1, 2, 2]).nanmedian())
    _same(tr.tensor([[3, 1], [2, 2]]).nanmedian(0).values,
          torch.tensor([[3, 1], [2, 2]]).nanmedian(0).values)


@pytest.mark.torch
def test_aminmax_matches_torch():
    torch = _torch()
    a = np.array([[1.0, 3, 3], [0, 5, 0]])  # ties: the gradient is split, as there
    for kw in ({}, {"keepdim": True}, {"dim": 0}, {"dim": -1, "keepdim": True}):
        ours, theirs = tr.tensor(a).aminmax(**kw), torch.aminmax(torch.tensor(a), **kw)
        _same(ours.min, theirs.min)
        _same(ours.max, theirs.max)
        _grads(lambda t, kw=kw: tr.aminmax(t, **kw).min,
               lambda t, kw=kw: torch.aminmax(t, **kw).min, [a])
        _grads(lambda t, kw=kw: t.aminmax(**kw).max, lambda t, kw=kw: t.aminmax(**kw).max, [a])
    for x, kw in (([True, False], {}), (np.zeros((0, 2)), {"dim": 1}), (3.0, {"dim": 0}),
                  ([1.0, NAN], {})):
        ours, theirs = tr.aminmax(tr.tensor(x), **kw), torch.aminmax(torch.tensor(x), **kw)
        _same(ours.min, theirs.min)
        _same(ours.max, theirs.max)


def test_selection_errors():
    x = tr.ones(2, 3)
    with pytest.raises(ValueError, match="k=4 is out of range"):
        x.kthvalue(4)
    with pytest.raises(ValueError, match="k=0 is out of range"):
        x.kthvalue(0)
    with pytest.raises(ValueError, match=r"dim 1 has size 0 \(shape \(2, 0\)\)"):
        tr.zeros(2, 0).kthvalue(1, 1)
    with pytest.raises(ValueError, match="has size 0"):
        tr.zeros(0, 3).mode(0)
    with pytest.raises(ValueError, match="out of range"):
        x.cummax(2)
    with pytest.raises(ValueError, match="empty"):
        tr.zeros(0).aminmax()
    with pytest.raises(ValueError, match="has size 0"):
        tr.zeros(2, 0).aminmax(dim=1)
    with pytest.raises(TypeError, match="one int"):
        x.aminmax(dim=(0, 1))
    with pytest.raises(TypeError, match="keepdim needs a dim"):
        x.nanmedian(keepdim=True)


# ---- hypot, xlogy, sinc, copysign, i0, heaviside, signbit ----------------------------------

SPECIAL_X = [0.0, -0.0, 0.5, -1.5, 2.0, 1e-20, 3.0, NAN, math.inf, -2.5]
SPECIAL_Y = [0.0, 2.0, -1.0, 0.0, -0.0, 3.0, math.inf, 1.0, 2.0, NAN]


@pytest.mark.torch
@pytest.mark.parametrize("fn", ["hypot", "xlogy", "copysign"])
def test_binary_special_functions_match_torch_at_special_points(fn):
    torch = _torch()
    x, y = np.array(SPECIAL_X), np.array(SPECIAL_Y)
    ours = getattr(tr, fn)(tr.tensor(x), tr.tensor(y))
    theirs = getattr(torch, fn)(torch.tensor(x), torch.tensor(y))
    _same(ours, theirs, exact=False)
    real = ~np.isnan(ours.numpy())  # (-0.0 too; a NaN's sign is no one's business)
    assert np.array_equal(np.signbit(ours.numpy()[real]), np.signbit(theirs.numpy()[real]))
    _grads(lambda a, b: getattr(tr, fn)(a, b), lambda a, b: getattr(torch, fn)(a, b), [x, y])
    # broadcast, and the method
    a, b = _rng(12).standard_normal((3, 1)), np.abs(_rng(13).standard_normal(4)) + 0.1
    _compare_with_torch(lambda s, t: getattr(s, fn)(t), lambda s, t: getattr(s, fn)(t), [a, b])


@pytest.mark.torch
def test_unary_special_functions_match_torch():
    torch = _torch()
    x = np.array(SPECIAL_X + [0.25, 7.9, 8.0, 8.5, -20.0, 100.0, 700.0, 800.0, -math.inf])
    for fn in ("sinc", "i0"):
        ours, theirs = getattr(tr, fn)(tr.tensor(x)), getattr(torch, fn)(torch.tensor(x))
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=2e-15)
        finite = np.isfinite(x) & (np.abs(x) < 700)
        _grads(lambda t, fn=fn: getattr(t, fn)(), lambda t, fn=fn: getattr(t, fn)(),
               [x[finite]])
        a32 = x.astype(np.float32)
        np.testing.assert_allclose(getattr(tr.tensor(a32), fn)().numpy(),
                                   getattr(torch.tensor(a32), fn)().numpy(), rtol=1e-6)
        for ints in ([0, 1, 2], [[-3, 4]]):  # integers give float32
            _same(getattr(tr.tensor(ints), fn)(), getattr(torch.tensor(ints), fn)(), exact=False)
    # xlogy and copysign take integers (float32) and a number on either side
    for args in (([0, 1, 2], [0, 2, 3]), (2, [1.0, 2.0]), ([1.0, 2.0], 3)):
        ours = tr.xlogy(*(tr.tensor(a) if isinstance(a, list) else a for a in args))
        theirs = torch.xlogy(*(torch.tensor(a) if isinstance(a, list) else a for a in args))
        _same(ours, theirs, exact=False)
    _same(tr.copysign(tr.tensor([1, 2]), -0.0), torch.copysign(torch.tensor([1, 2]), -0.0))
    _same(tr.hypot(tr.tensor([3.0]), tr.tensor([4.0], dtype="float64")),
          torch.hypot(torch.tensor([3.0]), torch.tensor([4.0], dtype=torch.float64)))


@pytest.mark.parametrize("device", DEVICES)
@given(data=st.data())
def test_special_function_gradients(device, data):
    xs = data.draw(tst.broadcastable_tensors(2, device=device, requires_grad=True,
                                             away_from=[0.0]))
    a, b = xs
    assert gradcheck(tr.hypot, xs) and gradgradcheck(tr.hypot, xs)
    assert gradcheck(tr.copysign, xs) and gradgradcheck(tr.copysign, xs)
    positive = tr.tensor(np.abs(b.numpy()) + 0.5, device=device, requires_grad=True)
    assert gradcheck(tr.xlogy, [a, positive]) and gradgradcheck(tr.xlogy, [a, positive])
    assert gradcheck(tr.sinc, [a]) and gradgradcheck(tr.sinc, [a])
    big = tr.tensor(b.numpy() * 4, device=device, requires_grad=True)  # both series of i0
    assert gradcheck(tr.i0, [big]) and gradgradcheck(tr.i0, [big])


@pytest.mark.torch
def test_heaviside_and_signbit_match_torch():
    torch = _torch()
    x = [-1.0, 0.0, -0.0, 2.0, NAN, -math.inf]
    for values in ([0.5], [[1.0], [-2.0]]):
        _same(tr.heaviside(tr.tensor(x), tr.tensor(values)),
              torch.heaviside(torch.tensor(x), torch.tensor(values)))
    _same(tr.tensor([-1, 0, 2]).heaviside(tr.tensor([5])),
          torch.tensor([-1, 0, 2]).heaviside(torch.tensor([5])))
    y = tr.heaviside(tr.tensor(x, requires_grad=True), tr.tensor([0.5]))
    assert not y.requires_grad  # a step function: no gradient (PyTorch's backward raises)
    with pytest.raises(TypeError, match="one dtype"):
        tr.heaviside(tr.tensor(x), tr.tensor([5]))
    signs = torch.tensor([-0.0, 0.0, -1.0]), torch.tensor([-1, 0, 1])
    for t in (*signs, -torch.tensor([NAN]), torch.tensor([True]),
              torch.tensor([1], dtype=torch.uint8)):
        _same(tr.signbit(tr.tensor(t.numpy())), torch.signbit(t))


def test_special_function_errors():
    with pytest.raises(TypeError, match="floating-point"):
        tr.hypot(tr.tensor([3]), tr.tensor([4]))
    with pytest.raises(TypeError, match="must be a Tensor"):
        tr.xlogy(2, 3)


# ---- rot90, trapezoid, cumulative_trapezoid, renorm, vander, chain_matmul ------------------


@pytest.mark.torch
def test_rot90_matches_torch():
    a = _rng(14).standard_normal((2, 3, 4))
    for k in range(-5, 6):
        for dims in ((0, 1), (1, 0), (2, 0), (-1, -2)):
            _compare_with_torch(lambda x, k=k, d=dims: x.rot90(k, d),
                                lambda t, k=k, d=dims: t.rot90(k, d), [a])
    for dims, match in (((0, 0), "two different axes"), ((0,), "2 axes"),
                        ((0, 3), "out of range")):
        with pytest.raises(ValueError, match=match):
            tr.rot90(tr.tensor(a), 1, dims)
    with pytest.raises(ValueError, match="at least 2 dims"):
        tr.rot90(tr.ones(3))


@pytest.mark.torch
def test_trapezoid_and_cumulative_trapezoid_match_torch():
    torch = _torch()
    rng = _rng(15)
    y = rng.standard_normal((3, 5))
    x1 = np.cumsum(rng.uniform(0.1, 1, 5))
    x2 = rng.standard_normal((3, 5))
    for ours, theirs in ((tr.trapezoid, torch.trapezoid),
                         (tr.cumulative_trapezoid, torch.cumulative_trapezoid)):
        for arrays, kw in (([y], {}), ([y], {"dx": 0.5, "dim": 0}), ([y, x1], {}),
                           ([y, x1[:3]], {"dim": 0}), ([y, x2], {"dim": -1}), ([y, x2[:1]], {})):
            _compare_with_torch(lambda *a, f=ours, kw=kw: f(*a, **kw),
                                lambda *a, f=theirs, kw=kw: f(*a, **kw), arrays)
        for data in ([1, 2, 4], [5.0]):  # integers give float32; one sample
            _same(ours(tr.tensor(data)), theirs(torch.tensor(data)))
            _same(ours(tr.tensor(data), dx=2), theirs(torch.tensor(data), dx=2))
        _same(ours(tr.tensor([1, 2, 4]), tr.tensor([0, 1, 3])),
              theirs(torch.tensor([1, 2, 4]), torch.tensor([0, 1, 3])))
        _same(ours(tr.zeros(2, 0)), theirs(torch.zeros(2, 0)))
        _same(ours(tr.zeros(2, 0), dim=0), theirs(torch.zeros(2, 0), dim=0))
        with pytest.raises(ValueError, match="one x value for each sample"):
            ours(tr.ones(2), tr.ones(3))
        with pytest.raises(ValueError, match="at least one dimension"):
            ours(tr.tensor(1.0))
        with pytest.raises(TypeError, match="not both"):
            ours(tr.ones(2), tr.ones(2), dx=1.0)
        with pytest.raises(TypeError, match="bool"):
            ours(tr.tensor([True, False]))
    _same(tr.trapezoid(tr.tensor([1.0, 2.0]), dx=tr.tensor(2.0)),
          torch.trapezoid(torch.tensor([1.0, 2.0]), dx=torch.tensor(2.0)))


@pytest.mark.torch
@pytest.mark.parametrize("p", [1, 2, 3.5, math.inf])
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_renorm_matches_torch(p, dim):
    a = _rng(16).standard_normal((3, 4, 2))
    for maxnorm in (0.0, 1.0, 100.0):
        _compare_with_torch(lambda x, m=maxnorm: x.renorm(p, dim, m),
                            lambda t, m=maxnorm: t.renorm(p, dim, m), [a])
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        tr.ones(3).renorm(2, 0, 1)
    with pytest.raises(ValueError, match="p must be > 0"):
        tr.ones(2, 2).renorm(0, 0, 1)
    with pytest.raises(ValueError, match="maxnorm must be >= 0"):
        tr.ones(2, 2).renorm(2, 0, -1)
    with pytest.raises(TypeError, match="floating-point"):
        tr.ones(2, 2, dtype="int64").renorm(2, 0, 1)


@pytest.mark.torch
@pytest.mark.filterwarnings("ignore:torch.chain_matmul is deprecated")
def test_vander_and_chain_matmul_match_torch():
    torch = _torch()
    for data in ([1, 2, 3], [2.0, -1.5, 0.0, 3.0], [True, False], np.zeros(0)):
        for n in (None, 0, 1, 4):
            for increasing in (False, True):
                _same(tr.vander(tr.tensor(data), n, increasing),
                      torch.vander(torch.tensor(data), n, increasing))
    _same(tr.vander(tr.tensor([1, 2], dtype="int8")),
          torch.vander(torch.tensor([1, 2], dtype=torch.int8)))
    # PyTorch's vander backward fails (it writes in place what its backward needs)
    x = tr.tensor([0.5, 2.0, -1.0], requires_grad=True)
    assert gradcheck(lambda t: tr.vander(t, 4), [x])
    assert gradcheck(lambda t: tr.vander(t, increasing=True), [x])
    ms = [_rng(17 + k).standard_normal(s) for k, s in enumerate([(2, 3), (3, 4), (4, 1)])]
    _compare_with_torch(lambda *xs: tr.chain_matmul(*xs), lambda *ts: torch.chain_matmul(*ts),
                        ms)
    one = tr.ones(2, 3)
    assert tr.chain_matmul(one) is one
    with pytest.raises(ValueError, match="2-D"):
        tr.chain_matmul(tr.ones(3), tr.ones(3, 2))
    with pytest.raises(TypeError, match="one dtype"):
        tr.chain_matmul(tr.ones(2, 3, dtype="float64"), tr.ones(3, 4))
    with pytest.raises(ValueError, match="N must be an int >= 0"):
        tr.vander(tr.ones(2), -1)


# ---- searchsorted, bucketize, histc --------------------------------------------------------


@pytest.mark.torch
def test_searchsorted_and_bucketize_match_torch():
    torch = _torch()
    rng = _rng(18)
    seq = np.sort(rng.integers(0, 6, (3, 7)).astype(np.float64), axis=-1)
    seq[2, -2:] = NAN  # NaN sorted last, as sort puts it
    values = rng.integers(-1, 8, (3, 5)).astype(np.float64)
    values[0, 0] = NAN
    for right in (False, True):
        for s, v in ((seq, values), (seq[0], values), (seq[0], values[0, 1:3]), (seq[1], 2.5),
                     (seq[1], 3)):
            ours = tr.searchsorted(tr.tensor(s), tr.tensor(v) if isinstance(v, np.ndarray)
                                   else v, right=right)
            theirs = torch.searchsorted(torch.tensor(s), torch.tensor(v)
                                        if isinstance(v, np.ndarray) else v, right=right)
            _same(ours, theirs)
        _same(tr.bucketize(tr.tensor(values), tr.tensor(seq[0]), right=right),
              torch.bucketize(torch.tensor(values), torch.tensor(seq[0]), right=right))
        _same(tr.bucketize(3, tr.tensor(seq[0]), right=right, out_int32=True),
              torch.bucketize(3, torch.tensor(seq[0]), right=right, out_int32=True))
    # side=, sorter=, out_int32=, mixed dtypes, empty
    unsorted = rng.permutation(9).astype(np.int64)
    order = np.argsort(unsorted)
    q = np.array([[-1, 3, 9], [4, 4, 0]])
    _same(tr.searchsorted(tr.tensor(unsorted), tr.tensor(q), side="right",
                          sorter=tr.tensor(order)),
          torch.searchsorted(torch.tensor(unsorted), torch.tensor(q), side="right",
                             sorter=torch.tensor(order)))
    _same(tr.searchsorted(tr.tensor([1, 3, 5, 7]), tr.tensor([3.5, 6]), out_int32=True),
          torch.searchsorted(torch.tensor([1, 3, 5, 7]), torch.tensor([3.5, 6]), out_int32=True))
    _same(tr.searchsorted(tr.tensor([1, 3, 5, 7]), 3.5),
          torch.searchsorted(torch.tensor([1, 3, 5, 7]), 3.5))
    _same(tr.searchsorted(tr.zeros(0), tr.tensor([1.0])),
          torch.searchsorted(torch.zeros(0), torch.tensor([1.0])))
    _same(tr.searchsorted(tr.tensor([1.0]), tr.zeros(0)),
          torch.searchsorted(torch.tensor([1.0]), torch.zeros(0)))


def test_searchsorted_errors():
    s = tr.tensor([[1, 3, 5], [2, 4, 6]])
    with pytest.raises(ValueError, match="same leading dims"):
        tr.searchsorted(s, tr.tensor([3, 3]))
    with pytest.raises(ValueError, match="contradict"):
        tr.searchsorted(s[0], tr.tensor([3]), right=True, side="left")
    with pytest.raises(ValueError, match="side must be"):
        tr.searchsorted(s[0], tr.tensor([3]), side="middle")
    with pytest.raises(ValueError, match=r"\(sorter\): index 5 is out of bounds"):
        tr.searchsorted(s[0], tr.tensor([3]), sorter=tr.tensor([1, 2, 5]))
    with pytest.raises(ValueError, match="must match"):
        tr.searchsorted(s[0], tr.tensor([3]), sorter=tr.tensor([1, 2]))
    with pytest.raises(ValueError, match="0-d"):
        tr.searchsorted(tr.tensor(1.0), tr.tensor([1.0]))
    with pytest.raises(TypeError, match="bool"):
        tr.searchsorted(tr.tensor([True, False]), tr.tensor([True]))
    with pytest.raises(ValueError, match="1-D"):
        tr.bucketize(tr.tensor([3]), s)


@pytest.mark.torch
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_histc_matches_torch(dtype):
    torch = _torch()
    rng = _rng(19)
    a = np.concatenate([rng.standard_normal(300), np.linspace(-2, 2, 41), [NAN, 5.0, -5.0]])
    a = a.astype(dtype)
    for bins, lo, hi in ((10, -2, 2), (7, 0, 0), (100, -1.5, 0.3), (3, 2, 2), (1, -1, 1)):
        x = a[np.isfinite(a)] if lo == hi else a  # the range from the data: no NaN there
        _same(tr.tensor(x).histc(bins, lo, hi), torch.tensor(x).histc(bins, lo, hi))
    _same(tr.histc(tr.tensor([1.0, 1.0]), bins=4), torch.histc(torch.tensor([1.0, 1.0]), bins=4))
    _same(tr.histc(tr.zeros(0), bins=3), torch.histc(torch.zeros(0), bins=3))
    with pytest.raises(ValueError, match="not finite"):
        tr.histc(tr.tensor([1.0, NAN]), bins=3)
    with pytest.raises(ValueError, match="max must be larger than min"):
        tr.histc(tr.ones(2), 3, 2, 1)
    with pytest.raises(ValueError, match="bins must be an int > 0"):
        tr.histc(tr.ones(2), 0)
    with pytest.raises(TypeError, match="floating-point"):
        tr.histc(tr.tensor([1, 2]))


# ---- gcd, lcm, the bitwise functions and shifts, frexp, ldexp ------------------------------

INT_DTYPES = ["int8", "uint8", "int16", "int32", "int64"]


@pytest.mark.torch
@pytest.mark.parametrize("dtype", INT_DTYPES)
def test_integer_functions_match_torch(dtype):
    torch = _torch()
    info = np.iinfo(dtype)
    rng = _rng(20)
    a = rng.integers(info.min, info.max, 40, endpoint=True).astype(dtype)
    a[:4] = [0, 0, info.max, info.min]
    b = rng.integers(max(info.min, -30), min(info.max, 30), 40, endpoint=True).astype(dtype)
    b[:4] = [0, 5, 0, 7]
    shifts = rng.integers(-2, 8 * a.itemsize + 3, 40).astype(np.int64)
    ta, tb = torch.tensor(a), torch.tensor(b)
    for fn in ("gcd", "lcm", "bitwise_and", "bitwise_or", "bitwise_xor"):
        # (the gcd of the most negative integer: |x| wraps around in PyTorch's, not here)
        c = np.where(a == info.min, info.min + 1, a).astype(dtype) if fn in ("gcd", "lcm") \
            else a
        _same(getattr(tr, fn)(tr.tensor(c), tr.tensor(b)),
              getattr(torch, fn)(torch.tensor(c), tb))
        _same(getattr(tr.tensor(c), fn)(tr.tensor(b[:1])),
              getattr(torch.tensor(c), fn)(tb[:1]))
    _same(tr.bitwise_not(tr.tensor(a)), torch.bitwise_not(ta))
    s = shifts if dtype == "int64" else np.clip(shifts, 0, None).astype(dtype)
    for fn in ("bitwise_left_shift", "bitwise_right_shift"):
        _same(getattr(tr, fn)(tr.tensor(a), tr.tensor(s)),
              getattr(torch, fn)(ta, torch.tensor(s)))
        _same(getattr(tr.tensor(a), fn)(3), getattr(ta, fn)(3))
    _same(tr.tensor(a) << 2, ta << 2)
    _same(tr.tensor(a) >> tr.tensor(s), ta >> torch.tensor(s))
    _same(2 << tr.tensor(s[:5] % 5), 2 << torch.tensor(s[:5] % 5))


@pytest.mark.torch
def test_bool_and_mixed_bitwise_match_torch():
    torch = _torch()
    p, q = [True, False, True, False], [True, True, False, False]
    for fn in ("bitwise_and", "bitwise_or", "bitwise_xor"):
        _same(getattr(tr, fn)(tr.tensor(p), tr.tensor(q)),
              getattr(torch, fn)(torch.tensor(p), torch.tensor(q)))
    _same(tr.bitwise_not(tr.tensor(p)), torch.bitwise_not(torch.tensor(p)))
    _same(tr.bitwise_and(tr.tensor([12]), 10), torch.bitwise_and(torch.tensor([12]), 10))
    _same(tr.bitwise_left_shift(3, tr.tensor([1, 2])),
          torch.bitwise_left_shift(3, torch.tensor([1, 2])))
    _same(tr.bitwise_left_shift(tr.tensor([True]), 2),
          torch.bitwise_left_shift(torch.tensor([True]), 2))
    _same(tr.gcd(tr.tensor([12], dtype="int32"), tr.tensor([8])),
          torch.gcd(torch.tensor([12], dtype=torch.int32), torch.tensor([8])))
    for fn in ("gcd", "bitwise_left_shift"):
        with pytest.raises(TypeError, match="integer"):
            getattr(tr, fn)(tr.tensor([1.0]), tr.tensor([1.0]))
    with pytest.raises(TypeError, match="bool or integer"):
        tr.bitwise_and(tr.tensor([1.0]), tr.tensor([1.0]))
    with pytest.raises(TypeError, match="bool or integer"):
        tr.bitwise_not(tr.tensor([1.0]))


@pytest.mark.torch
def test_frexp_and_ldexp_match_torch():
    torch = _torch()
    for dtype in ("float16", "float32", "float64"):
        info = np.finfo(dtype)
        x = np.array([0.0, -0.0, 1, -3, 0.1, float(info.tiny) / 4, float(info.max),
                      math.inf, -math.inf, NAN], dtype=dtype)
        ours, theirs = tr.tensor(x).frexp(), torch.frexp(torch.tensor(x))
        _same(ours.mantissa, theirs.mantissa)
        _same(ours.exponent, theirs.exponent)
    # the mantissa's gradient 2^-exponent: PyTorch's where |exponent| <= 127 (it computes
    # 2^exponent in float32), exact beyond
    a = np.array([3.0, -0.1, 1e30, 0.0, 7e-20])
    _grads(lambda t: tr.frexp(t).mantissa, lambda t: torch.frexp(t).mantissa, [a])
    x = tr.tensor([1e-300, 1e200, 3e-39], dtype="float64", requires_grad=True)
    m, e = tr.frexp(x)
    m.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.ldexp(1.0, -e.numpy()))
    with pytest.raises(TypeError, match="floating-point"):
        tr.frexp(tr.tensor([1, 2]))
    # ldexp: integer exponents scale exactly, float ones are differentiable
    _same(tr.ldexp(tr.tensor([1e-300], dtype="float64"), tr.tensor([1100])),
          torch.ldexp(torch.tensor([1e-300], dtype=torch.float64), torch.tensor([1100])))
    for x, e in (([1.0, 2.0], [3, -1]), ([1, 2], [3, 1]), ([True], [2]), ([3], [True])):
        _same(tr.ldexp(tr.tensor(x), tr.tensor(e)), torch.ldexp(torch.tensor(x), torch.tensor(e)))
    _same(tr.ldexp(tr.tensor([1.0], dtype="float16"), tr.tensor([2])),
          torch.ldexp(torch.tensor([1.0], dtype=torch.float16), torch.tensor([2])))
    _compare_with_torch(lambda s, t: s.ldexp(t), lambda s, t: s.ldexp(t),
                        [np.array([1.0, 2.0, -0.5]), np.array([3.0, -1.0, 2.5])])


# ---- in-place twins, the strict device -----------------------------------------------------


def test_in_place_twins_equal_their_functions():
    rng = _rng(21)
    f, g = rng.standard_normal((2, 3)), rng.standard_normal((2, 3))
    i, j = rng.integers(-9, 9, (2, 3)), rng.integers(0, 5, (2, 3))
    cases = [("hypot_", f, (g,)), ("xlogy_", f, (np.abs(g),)), ("sinc_", f, ()),
             ("copysign_", f, (g,)), ("heaviside_", f, (g,)), ("i0_", f, ()),
             ("renorm_", f, (2, 1, 0.5)), ("ldexp_", f, (j,)), ("gcd_", i, (j,)),
             ("lcm_", i, (j,)), ("bitwise_and_", i, (j,)), ("bitwise_or_", i, (j,)),
             ("bitwise_xor_", i, (j,)), ("bitwise_not_", i, ()),
             ("bitwise_left_shift_", i, (j,)), ("bitwise_right_shift_", i, (j,))]
    for name, a, args in cases:
        args = tuple(tr.tensor(v) if isinstance(v, np.ndarray) else v for v in args)
        x = tr.tensor(a)
        expected = getattr(x, name[:-1])(*args).numpy()
        assert getattr(x, name)(*args) is x
        np.testing.assert_array_equal(x.numpy(), expected, err_msg=name)
    x = tr.tensor(i)
    x <<= 2
    x >>= 1
    np.testing.assert_array_equal(x.numpy(), (i << 2) >> 1)
    with pytest.raises(TypeError, match="cannot be stored"):
        tr.tensor(i).copysign_(tr.tensor(g))


def _strict_cases():
    """(name, f(x), x) pairs: every new differentiable op, on float64 values (distinct)."""
    rng = np.random.default_rng(22)
    a = rng.permutation(24).reshape(2, 3, 4) * 0.25 - 2.9
    return {
        "cov": lambda x: tr.cov(x[0], aweights=x[1, 0].abs() + 1),
        "corrcoef": lambda x: x[1].corrcoef(),
        "kron": lambda x: tr.kron(x[0], x[1, :2]),
        "block_diag": lambda x: tr.block_diag(x[0], x[1, 0], x[0, 0, 0]),
        "cartesian_prod": lambda x: tr.cartesian_prod(x[0, 0], x[1, 1]),
        "combinations": lambda x: tr.combinations(x[0, 0], 3, True),
        "diag_embed": lambda x: tr.diag_embed(x, 1, 0, 2), "diagflat": tr.diagflat,
        "cummax": lambda x: x.cummax(1).values, "cummin": lambda x: x.cummin(-1).values,
        "kthvalue": lambda x: x.kthvalue(2, 1).values, "mode": lambda x: x.round().mode(0).values
        + x.mode(2).values.sum(), "nanmedian": lambda x: x.nanmedian(1).values + x.nanmedian(),
        "aminmax": lambda x: x.aminmax(dim=1).min + x.aminmax().max, "hypot": lambda x:
        tr.hypot(x, x[0]), "xlogy": lambda x: tr.xlogy(x, x.abs() + 1), "sinc": tr.sinc,
        "copysign": lambda x: tr.copysign(x, x[1]), "i0": tr.i0, "rot90": lambda x: x.rot90(3),
        "trapezoid": lambda x: tr.trapezoid(x, x[0, 0].cumsum(0)) + tr.trapezoid(x, dx=2),
        "cumulative_trapezoid": lambda x: tr.cumulative_trapezoid(x, x[0, 0].cumsum(0), dim=2),
        "renorm": lambda x: x.renorm(2, 0, 3.0), "frexp": lambda x: x.frexp().mantissa,
        "ldexp": lambda x: tr.ldexp(x, x) + tr.ldexp(x, (x * 3).long()),
        "vander": lambda x: tr.vander(x[0, 0]), "chain_matmul": lambda x: tr.chain_matmul(
            x[0], x[1].T, x[0]),
    }, a


@pytest.mark.parametrize("device", DEVICES)
def test_strict_device_equals_cpu(device):
    """Every new op's forward and backward through ``xp`` only (the strict device refuses
    NumPy called directly, as CuPy would), and the ones without a gradient."""
    cases, a = _strict_cases()
    assert_device_equals_cpu(cases, a, device)
    x, ints = tr.tensor(a, device=device), tr.tensor(a.astype(np.int64) + 3, device=device)
    others = {
        "cummax indices": lambda: x.cummax(1).indices, "mode indices": lambda: x.mode().indices,
        "searchsorted": lambda: tr.searchsorted(x.reshape(-1).sort().values, x, right=True),
        "searchsorted nd": lambda: tr.searchsorted(x.sort().values, x[..., :2], side="right"),
        "sorter": lambda: tr.searchsorted(x[0, 0], x[1, 1], sorter=x[0, 0].argsort()),
        "bucketize": lambda: tr.bucketize(x, x[0, 0].sort().values),
        "searchsorted number": lambda: tr.searchsorted(x[0, 0].sort().values, 0.3),
        "histc": lambda: tr.histc(x, 7), "histc range": lambda: x.histc(5, -1, 1),
        "heaviside": lambda: x.heaviside(x[0]), "signbit": lambda: x.signbit(),
        "gcd": lambda: tr.gcd(ints, ints[0]), "lcm": lambda: tr.lcm(ints, ints[1]),
        "shifts": lambda: (ints << ints[0] % 5) >> 1, "exponent": lambda: x.frexp().exponent,
        "tril_indices": lambda: tr.tril_indices(3, 4, 1, device=device),
    }
    for name, f in others.items():
        y = f()
        assert y.device == device, name
        with tr.no_grad():
            x, ints = x.to("cpu"), ints.to("cpu")
            expected = f()
            x, ints = x.to(device), ints.to(device)
        np.testing.assert_array_equal(y.numpy(), expected.numpy(), err_msg=name)
