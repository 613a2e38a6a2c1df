"""The second batch of ops a porting trial of PyTorch RNN programs found missing: quantile and
nanquantile, fill_diagonal_, normal and the in-place random fills, clamp_min/clamp_max,
empty_like, isin, count_nonzero, nan_to_num, logaddexp/logaddexp2, cdist, tile and the stacks,
diff, meshgrid and broadcasting, take_along_dim, logcumsumexp, index_put, masked_scatter,
scatter_reduce, ``tr.special`` with erfc, digamma and lgamma, ``F.interpolate`` for 3-D inputs, the
new ``nn.init`` fills, PReLU, AlphaDropout, the shrinks and Threshold, EmbeddingBag and
``clip_grad_norm``.

Values and gradients against PyTorch in float64; gradients against central differences on
every device, with Hypothesis, broadcasting included; the errors."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tinygrad_rnn as tr
from tinygrad_rnn import functional as F
from tinygrad_rnn import nn
from tinygrad_rnn.testing import gradcheck, gradgradcheck
from tinygrad_rnn.testing import strategies as tst

from .conftest import DEVICES
from .test_ops_more import _distinct, _torch
from .test_ops_torch import _compare_with_torch, _rng

INTERPOLATIONS = ["linear", "lower", "higher", "midpoint", "nearest"]


# ---- quantile, nanquantile -----------------------------------------------------------------


@pytest.mark.torch
@pytest.mark.parametrize("interpolation", INTERPOLATIONS)
@pytest.mark.parametrize("dim, keepdim", [(None, False), (None, True), (0, False), (1, True),
                                          (-1, False)], ids=str)
def test_quantile_matches_torch(dim, keepdim, interpolation):
    torch = _torch()
    a = _rng(1).permutation(20).reshape(4, 5) * 0.3 - 2  # distinct: one element per rank
    q = np.array([0.0, 0.1, 0.25, 0.5, 0.9, 1.0])
    kw = {"dim": dim, "keepdim": keepdim, "interpolation": interpolation}
    _compare_with_torch(lambda x: tr.quantile(x, tr.tensor(q), **kw),
                        lambda t: torch.quantile(t, torch.tensor(q), **kw), [a])
    _compare_with_torch(lambda x: x.quantile(0.3, **kw), lambda t: t.quantile(0.3, **kw), [a])
    _compare_with_torch(lambda x: x.quantile(tr.tensor(0.75, dtype="float64"), **kw),
                        lambda t: t.quantile(torch.tensor(0.75, dtype=torch.float64), **kw), [a])


@pytest.mark.torch
@pytest.mark.parametrize("interpolation", INTERPOLATIONS)
def test_quantile_and_nanquantile_with_nan_match_torch(interpolation):
    torch = _torch()
    a = _rng(2).standard_normal((4, 6))
    a[0, 1], a[2, :] = np.nan, np.nan
    q = np.array([0.2, 0.5, 0.7])
    for fn in ("quantile", "nanquantile"):
        for dim in (None, 0, 1):
            ours = getattr(tr, fn)(tr.tensor(a), tr.tensor(q), dim, interpolation=interpolation)
            theirs = getattr(torch, fn)(torch.tensor(a), torch.tensor(q), dim,
                                        interpolation=interpolation)
            np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12)
    # float32, and rank ties broken as PyTorch breaks them (q * (n - 1) in the input's dtype)
    b = _rng(3).standard_normal(11).astype(np.float32)
    for interpolation_q in np.linspace(0, 1, 21).astype(np.float32):
        np.testing.assert_array_equal(
            tr.tensor(b).quantile(float(interpolation_q), interpolation=interpolation).numpy(),
            torch.tensor(b).quantile(float(interpolation_q), interpolation=interpolation).numpy())
    # a 0-d input
    for kw in ({}, {"dim": 0}, {"dim": -1, "keepdim": True}):
        np.testing.assert_array_equal(
            tr.quantile(tr.tensor(3.0), tr.tensor([0.5, 0.2]), **kw).numpy(),
            torch.quantile(torch.tensor(3.0), torch.tensor([0.5, 0.2]), **kw).numpy())


@pytest.mark.parametrize("device", DEVICES)
@given(data=st.data())
def test_quantile_gradients(device, data):
    shape = data.draw(tst.shapes(min_dims=1, max_dims=3, min_side=1, max_side=4))
    x = tr.tensor(data.draw(_distinct(shape)), device=device, requires_grad=True)
    dim = data.draw(st.none() | st.integers(-x.ndim, x.ndim - 1))
    interpolation = data.draw(st.sampled_from(INTERPOLATIONS))
    q = tr.tensor(data.draw(hnp.arrays(np.float64, st.integers(1, 3),
                                       elements=st.floats(0, 1))), device=device)
    keep = data.draw(st.booleans())
    assert gradcheck(lambda t: t.quantile(q, dim, keep, interpolation=interpolation), [x])
    assert gradcheck(lambda t: tr.nanquantile(t, 0.4, dim), [x])


def test_quantile_errors():
    x = tr.ones(3, 4, dtype="float64")
    with pytest.raises(TypeError, match="floating-point"):
        tr.quantile(tr.tensor([1, 2]), 0.5)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        x.quantile(1.5)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        x.quantile(tr.tensor([0.5, -0.1], dtype="float64"))
    with pytest.raises(TypeError, match="dtype float64"):
        x.quantile(tr.tensor([0.5]))  # float32 q for a float64 input, as PyTorch refuses
    with pytest.raises(ValueError, match="scalar or a 1-D"):
        x.quantile(tr.ones(2, 2, dtype="float64") / 2)
    with pytest.raises(ValueError, match="interpolation must be one of"):
        x.quantile(0.5, interpolation="cubic")
    with pytest.raises(ValueError, match="must not be empty"):
        tr.zeros(0).quantile(0.5)
    with pytest.raises(ValueError, match="out of range"):
        x.quantile(0.5, dim=2)


# ---- fill_diagonal_, normal, the in-place random fills, multinomial ------------------------


@pytest.mark.torch
@pytest.mark.parametrize("shape, wrap", [((3, 5), False), ((5, 3), False), ((7, 3), False),
                                         ((7, 3), True), ((8, 2), True), ((4, 3), True),
                                         ((3, 3, 3), False), ((2, 2, 2, 2), True)], ids=str)
def test_fill_diagonal_matches_torch(shape, wrap):
    torch = _torch()
    a = _rng(4).standard_normal(shape)
    x, t = tr.tensor(a), torch.tensor(a)
    assert x.fill_diagonal_(-7.0, wrap) is x
    t.fill_diagonal_(-7.0, wrap)
    np.testing.assert_array_equal(x.numpy(), t.numpy())
    # recorded on a result, as PyTorch's: the diagonal's gradient is 0
    _compare_with_torch(lambda v: (v * 2).fill_diagonal_(1.5, wrap),
                        lambda v: (v * 2).fill_diagonal_(1.5, wrap), [a])


def test_fill_diagonal_errors_and_ints():
    y = tr.zeros(3, 3, dtype="int64").fill_diagonal_(2.7)
    np.testing.assert_array_equal(y.numpy(), np.eye(3, dtype=np.int64) * 2)
    with pytest.raises(ValueError, match="at least 2 dims"):
        tr.ones(3).fill_diagonal_(0)
    with pytest.raises(ValueError, match="one length"):
        tr.ones(2, 3, 3).fill_diagonal_(0)
    with pytest.raises(RuntimeError, match="leaf"):
        tr.ones(2, 2, requires_grad=True).fill_diagonal_(0)


@pytest.mark.parametrize("device", DEVICES)
def test_normal_forms_shapes_and_statistics(device):
    mean = tr.tensor(np.linspace(-2, 2, 5), device=device).reshape(5, 1)
    std = tr.tensor([0.5, 1.0, 2.0], device=device, dtype="float64")
    y = tr.normal(mean, std)
    assert y.shape == (5, 3) and y.dtype == np.float64 and y.device == mean.device
    assert not y.requires_grad
    big = tr.normal(tr.full((20000,), 3.0, dtype="float64", device=device), 2.0)
    assert abs(big.numpy().mean() - 3) < 0.1 and abs(big.numpy().std() - 2) < 0.1
    small = tr.normal(1.0, tr.full((20000,), 0.5, device=device))
    assert small.dtype == np.float32 and abs(small.numpy().std() - 0.5) < 0.02
    z = tr.normal(0.0, 1.0, (2, 3), device=device)
    assert z.shape == (2, 3) and z.dtype == np.float32
    assert tr.normal(0.0, 1.0, size=(4,), dtype="float64").dtype == np.float64
    g1, g2 = tr.Generator().manual_seed(5), tr.Generator().manual_seed(5)
    np.testing.assert_array_equal(tr.normal(mean, 1.0, generator=g1).numpy(),
                                  tr.normal(mean, 1.0, generator=g2).numpy())
    tr.manual_seed(3)
    a = tr.normal(0.0, 1.0, (3,)).numpy()
    tr.manual_seed(3)
    np.testing.assert_array_equal(a, tr.normal(0.0, 1.0, (3,)).numpy())
    r = tr.randint_like(tr.zeros(2, 3000, device=device), 4)
    assert r.dtype == np.float32 and r.device == mean.device  # x's dtype, as PyTorch's
    assert set(np.unique(r.numpy())) == {0.0, 1.0, 2.0, 3.0}
    r = tr.randint_like(tr.zeros(500, dtype="int32"), -2, 1, dtype="int64")
    assert r.dtype == np.int64 and set(np.unique(r.numpy())) == {-2, -1, 0}


def test_normal_errors():
    with pytest.raises(TypeError, match="size="):
        tr.normal(0.0, 1.0)
    with pytest.raises(ValueError, match="std must be >= 0"):
        tr.normal(0.0, -1.0, (2,))
    with pytest.raises(ValueError, match="every std must be >= 0"):
        tr.normal(tr.zeros(2), tr.tensor([1.0, -1.0]))
    with pytest.raises(ValueError, match="do not broadcast"):
        tr.normal(tr.zeros(2), tr.ones(3))
    with pytest.raises(TypeError, match="floating-point"):
        tr.normal(tr.zeros(2, dtype="int64"), 1.0)
    with pytest.raises(TypeError, match="size= goes with"):
        tr.normal(tr.zeros(2), 1.0, (2,))


@pytest.mark.parametrize("device", DEVICES)
def test_in_place_random_fills_and_multinomial_method(device):
    n = 40000
    e = tr.zeros(n, dtype="float64", device=device).exponential_(2.0)
    assert e.numpy().min() >= 0 and abs(e.numpy().mean() - 0.5) < 0.02
    g = tr.zeros(n, dtype="int64", device=device).geometric_(0.25)
    assert g.dtype == np.int64 and g.numpy().min() >= 1 and abs(g.numpy().mean() - 4) < 0.1
    ln = tr.zeros(n, dtype="float64", device=device).log_normal_(0.5, 0.25)
    logs = np.log(ln.numpy())
    assert abs(logs.mean() - 0.5) < 0.01 and abs(logs.std() - 0.25) < 0.01
    w = tr.tensor([[0.0, 1.0, 3.0], [5.0, 0.0, 0.0]], device=device)
    draws = w.multinomial(2, replacement=True)
    assert draws.shape == (2, 2) and draws.dtype == np.int64
    assert set(draws.numpy()[0]) <= {1, 2} and set(draws.numpy()[1]) == {0}
    np.testing.assert_array_equal(w[0].multinomial(2).sort().values.numpy(), [1, 2])
    with pytest.raises(ValueError, match="lambd must be > 0"):
        e.exponential_(0)
    with pytest.raises(ValueError, match=r"p must lie in \(0, 1\)"):
        g.geometric_(1.0)
    with pytest.raises(ValueError, match="std must be > 0"):
        ln.log_normal_(0, 0)
    with pytest.raises(TypeError, match="floating-point"):
        g.exponential_()


# ---- clamp_min/clamp_max, empty_like, clone, t, casts, equal -------------------------------


@pytest.mark.torch
def test_clamp_min_max_and_small_functions_match_torch():
    torch = _torch()
    a = _rng(5).standard_normal((3, 4))
    lo = _rng(6).standard_normal(4)
    _compare_with_torch(lambda x: x.clamp_min(-0.3), lambda t: t.clamp_min(-0.3), [a])
    _compare_with_torch(lambda x: tr.clamp_max(x, 0.2), lambda t: torch.clamp_max(t, 0.2), [a])
    _compare_with_torch(lambda x, b: tr.clamp_min(x, b), lambda t, b: torch.clamp_min(t, b),
                        [a, lo])
    _compare_with_torch(lambda x: (x * 1).clamp_max_(0.1), lambda t: (t * 1).clamp_max_(0.1),
                        [a])
    _compare_with_torch(lambda x: (x * 1).clamp_min_(0.1), lambda t: (t * 1).clamp_min_(0.1),
                        [a])
    _compare_with_torch(lambda x: tr.clone(x) * 2, lambda t: torch.clone(t) * 2, [a])
    _compare_with_torch(lambda x: tr.t(x), lambda t: torch.t(t), [a])
    e = tr.empty_like(tr.ones(2, 3, dtype="int32"))
    assert e.shape == (2, 3) and e.dtype == np.int32 and not e.numpy().any()
    assert tr.empty_like(tr.ones(2), dtype="float64", requires_grad=True).requires_grad
    x = tr.tensor([-1.7, 0.2, 300.0])
    for name in ("byte", "char", "short"):
        y, t = getattr(x[:2], name)(), getattr(torch.tensor([-1.7, 0.2]), name)()
        assert y.dtype == np.dtype(str(t.dtype).split(".")[1].replace("u", "u"))
        np.testing.assert_array_equal(y.numpy(), t.numpy())
    assert x.equal(tr.tensor([-1.7, 0.2, 300.0])) and not x.equal(x[:2])
    assert not x.equal(tr.tensor([-1.7, 0.2, 301.0]))


@pytest.mark.torch
@pytest.mark.parametrize("device", DEVICES)
def test_isin_and_count_nonzero_match_torch(device):
    torch = _torch()
    e, s = np.array([[1, 5, 2], [7, 2, 0]]), np.array([2, 7, 9])
    for invert in (False, True):
        ours = tr.isin(tr.tensor(e, device=device), tr.tensor(s, device=device), invert=invert)
        assert ours.dtype == np.bool_
        np.testing.assert_array_equal(
            ours.numpy(), torch.isin(torch.tensor(e), torch.tensor(s), invert=invert).numpy())
    np.testing.assert_array_equal(tr.isin(tr.tensor(e, device=device), 2).numpy(),
                                  torch.isin(torch.tensor(e), 2).numpy())
    assert tr.isin(7, tr.tensor(s, device=device)).item() is True
    a = np.array([[0.0, 1.5, 0.0], [2.0, -0.0, 3.0]])
    for dim in (None, 0, 1, (0, 1), -1):
        ours = tr.count_nonzero(tr.tensor(a, device=device), dim=dim)
        assert ours.dtype == np.int64
        np.testing.assert_array_equal(ours.numpy(),
                                      torch.count_nonzero(torch.tensor(a), dim=dim).numpy())
    assert tr.tensor(a, device=device).count_nonzero(1).tolist() == [1, 2]


# ---- nan_to_num, logaddexp, logaddexp2 -----------------------------------------------------


@pytest.mark.torch
def test_nan_to_num_matches_torch_gradient_where_finite():
    torch = _torch()
    a = np.array([1.0, np.nan, np.inf, -np.inf, -2.0, 0.0])
    _compare_with_torch(lambda x: tr.nan_to_num(x, 1.5, 9.0, -7.0),
                        lambda t: torch.nan_to_num(t, 1.5, 9.0, -7.0), [a])
    _compare_with_torch(lambda x: x.nan_to_num(posinf=3.0, neginf=-3.0),
                        lambda t: t.nan_to_num(posinf=3.0, neginf=-3.0),
                        [a])
    for dt in ("float32", "float64"):  # the default bounds: the dtype's finite extremes
        np.testing.assert_array_equal(
            tr.tensor(a, dtype=dt).nan_to_num().numpy(),
            torch.tensor(a).to(getattr(torch, dt)).nan_to_num().numpy())
    y = tr.tensor(a)
    assert y.nan_to_num_(0.5) is y and np.isfinite(y.numpy()).all()
    ints = tr.tensor([1, 2])
    assert tr.nan_to_num(ints).tolist() == [1, 2] and tr.nan_to_num(ints).dtype == np.int64
    with pytest.raises(TypeError, match="nan must be a number"):
        tr.nan_to_num(y, nan="0")


@pytest.mark.torch
@pytest.mark.parametrize("name", ["logaddexp", "logaddexp2"])
def test_logaddexp_matches_torch_and_is_stable(name):
    torch = _torch()
    a, b = _rng(7).standard_normal((3, 4)) * 3, _rng(8).standard_normal(4) * 3
    _compare_with_torch(lambda x, y: getattr(tr, name)(x, y), lambda x, y: getattr(torch, name)(
        x, y), [a, b])
    _compare_with_torch(lambda x, y: getattr(x, name)(y * 300), lambda x, y: getattr(x, name)(
        y * 300), [a, b])  # far apart: one term underflows
    _compare_with_torch(lambda x: getattr(tr, name)(x, x), lambda x: getattr(torch, name)(x, x),
                        [a])  # ties: half each
    edge = np.array([0.0, -np.inf, np.inf, 1e308, -5.0, 3.0, -np.inf, 800.0])
    other = np.array([0.0, -np.inf, np.inf, 1e308, 800.0, np.nan, 2.0, -np.inf])
    np.testing.assert_allclose(getattr(tr, name)(tr.tensor(edge), tr.tensor(other)).numpy(),
                               getattr(torch, name)(torch.tensor(edge), torch.tensor(other)),
                               rtol=1e-15)
    assert getattr(tr, name)(tr.tensor([1, 2]), 0).dtype == np.float32


@pytest.mark.parametrize("device", DEVICES)
@given(data=st.data())
def test_nan_to_num_and_logaddexp_gradients(device, data):
    xs = data.draw(tst.broadcastable_tensors(2, device=device, requires_grad=True,
                                             min_value=-20, max_value=20))
    assert gradcheck(tr.logaddexp, xs) and gradcheck(tr.logaddexp2, xs)
    assert gradgradcheck(tr.logaddexp, xs)
    a = data.draw(tst.arrays())
    odd = data.draw(hnp.arrays(np.int64, a.shape, elements=st.integers(0, 5)))
    a = np.select([odd == 0, odd == 1, odd == 2], [np.nan, np.inf, -np.inf], a)
    x = tr.tensor(a, device=device, requires_grad=True)  # (x ± eps is still NaN or inf)
    assert gradcheck(lambda t: t.nan_to_num(posinf=5.0), [x])


# ---- cdist ---------------------------------------------------------------------------------


@pytest.mark.torch
@pytest.mark.parametrize("p", [0.0, 1.0, 1.5, 2.0, 3.0, math.inf])
@pytest.mark.parametrize("s1, s2", [((4, 3), (5, 3)), ((2, 4, 3), (1, 5, 3)),
                                    ((3, 1, 2, 4), (2, 6, 4)), ((0, 3), (2, 3))], ids=str)
def test_cdist_matches_torch(s1, s2, p):
    torch = _torch()
    a, b = _rng(9).standard_normal(s1), _rng(10).standard_normal(s2)
    if p == 0:  # no gradient, as PyTorch's is 0
        np.testing.assert_array_equal(tr.cdist(tr.tensor(a), tr.tensor(b), p).numpy(),
                                      torch.cdist(torch.tensor(a), torch.tensor(b), p).numpy())
        return
    _compare_with_torch(lambda x, y: tr.cdist(x, y, p), lambda x, y: torch.cdist(x, y, p),
                        [a, b])


@pytest.mark.torch
@pytest.mark.parametrize("p", [1.0, 1.5, 2.0, 3.0])
def test_cdist_gradient_is_zero_at_zero_distance_as_torch(p):
    a = _rng(11).standard_normal((4, 3))
    a[2] = a[0]  # and every row is at distance 0 from itself
    _compare_with_torch(lambda x: tr.cdist(x, x, p), lambda x: _torch().cdist(x, x, p), [a])
    _compare_with_torch(lambda x, y: tr.cdist(x, y * 0 + x[:2], p),
                        lambda x, y: _torch().cdist(x, y * 0 + x[:2], p), [a, a[:2]])


@pytest.mark.parametrize("device", DEVICES)
@given(data=st.data())
def test_cdist_gradients(device, data):
    m = data.draw(st.integers(1, 3))
    s1 = data.draw(tst.shapes(min_dims=0, max_dims=1, max_side=2)) + (
        data.draw(st.integers(1, 3)), m)
    s2 = data.draw(st.integers(1, 3))
    x1 = tr.tensor(data.draw(_distinct(s1)), device=device, requires_grad=True)
    x2 = tr.tensor(data.draw(_distinct((s2, m), offset=0.05)), device=device, requires_grad=True)
    p = data.draw(st.sampled_from([1.0, 1.5, 2.0, 3.0, math.inf]))
    assert gradcheck(lambda a, b: tr.cdist(a, b, p), [x1, x2])


def test_cdist_errors():
    with pytest.raises(ValueError, match="at least 2 dims"):
        tr.cdist(tr.ones(3), tr.ones(2, 3))
    with pytest.raises(ValueError, match="as many features"):
        tr.cdist(tr.ones(2, 3), tr.ones(2, 4))
    with pytest.raises(ValueError, match="p must be a number >= 0"):
        tr.cdist(tr.ones(2, 3), tr.ones(2, 3), -1)
    with pytest.raises(TypeError, match="floating-point"):
        tr.cdist(tr.ones(2, 3, dtype="int64"), tr.ones(2, 3, dtype="int64"))
    with pytest.raises(ValueError, match="do not broadcast"):
        tr.cdist(tr.ones(2, 2, 3), tr.ones(3, 2, 3))


# ---- tile, the stacks, diff, meshgrid, broadcasting, take_along_dim ------------------------


@pytest.mark.torch
@pytest.mark.parametrize("name", ["hstack", "vstack", "row_stack", "dstack", "column_stack"])
@pytest.mark.parametrize("shapes", [[(3,), (2,)], [(2,), (2,)], [(4, 5), (4, 5)], [(), ()],
                                    [(2, 3, 4), (2, 3, 4)], [(4, 1), (4, 2)]], ids=str)
def test_stacks_match_torch(name, shapes):
    torch = _torch()
    arrays = [_rng(12 + k).standard_normal(s) for k, s in enumerate(shapes)]
    try:
        getattr(torch, name)([torch.tensor(a) for a in arrays])
    except RuntimeError:
        with pytest.raises(ValueError):
            getattr(tr, name)([tr.tensor(a) for a in arrays])
        return
    _compare_with_torch(lambda *xs: getattr(tr, name)(list(xs)),
                        lambda *xs: getattr(torch, name)(list(xs)), arrays)


@pytest.mark.torch
def test_tile_atleast_meshgrid_and_broadcasting_match_torch():
    torch = _torch()
    a = _rng(20).standard_normal((2, 3))
    for dims in [(2,), (2, 1), (1, 2, 3), ()]:
        _compare_with_torch(lambda x, d=dims: tr.tile(x, d), lambda t, d=dims: torch.tile(t, d),
                            [a])
    _compare_with_torch(lambda x: x.tile(2, 2), lambda t: t.tile(2, 2), [a])
    for k in (1, 2, 3):
        for s in [(), (3,), (2, 3), (2, 3, 1, 2)]:
            b = _rng(21).standard_normal(s)
            name = f"atleast_{k}d"
            _compare_with_torch(getattr(tr, name), getattr(torch, name), [b])
    u, v, w = (_rng(22 + k).standard_normal(n) for k, n in enumerate((2, 3, 4)))
    for indexing in ("ij", "xy"):
        _compare_with_torch(lambda *xs, ix=indexing: tr.meshgrid(*xs, indexing=ix),
                            lambda *xs, ix=indexing: torch.meshgrid(*xs, indexing=ix),
                            [u, v, w])
        _compare_with_torch(lambda x, y, ix=indexing: tr.meshgrid([x, y], indexing=ix),
                            lambda x, y, ix=indexing: torch.meshgrid([x, y], indexing=ix),
                            [np.array(0.5), v])
    _compare_with_torch(lambda x, y: tr.broadcast_tensors(x, y),
                        lambda x, y: torch.broadcast_tensors(x, y), [a[:, :1], v])
    assert tr.broadcast_shapes((2, 1), 3, (1,)) == torch.broadcast_shapes((2, 1), 3, (1,))
    assert isinstance(tr.broadcast_shapes((2, 1)), tr.Size)


@pytest.mark.torch
@pytest.mark.parametrize("n", [0, 1, 2, 6])
def test_diff_matches_torch(n):
    torch = _torch()
    a = _rng(25).standard_normal((4, 5))
    p, q = _rng(26).standard_normal((2, 5)), _rng(27).standard_normal((4, 2))
    _compare_with_torch(lambda x: tr.diff(x, n), lambda t: torch.diff(t, n), [a])
    _compare_with_torch(lambda x, y: tr.diff(x, n, 0, prepend=y),
                        lambda x, y: torch.diff(x, n, 0, prepend=y), [a, p])
    _compare_with_torch(lambda x, y, z: x.diff(n, dim=-1, prepend=y, append=z),
                        lambda x, y, z: x.diff(n, dim=-1, prepend=y, append=z), [a, q, q])
    b = np.array([True, False, False, True])
    np.testing.assert_array_equal(tr.diff(tr.tensor(b), n).numpy(),
                                  torch.diff(torch.tensor(b), n).numpy())
    assert tr.diff(tr.tensor([1, 4, 9]), n).dtype == np.int64


@pytest.mark.torch
@pytest.mark.parametrize("index_shape, dim", [((4, 7), 1), ((1, 7), 1), ((2, 1), 0),
                                              ((6, 5), 0), ((3, 2), None)], ids=str)
def test_take_along_dim_matches_torch(index_shape, dim):
    torch = _torch()
    a = _rng(28).standard_normal((4, 5))
    n = 20 if dim is None else a.shape[dim]
    i = _rng(29).integers(0, n, index_shape)
    _compare_with_torch(lambda x: tr.take_along_dim(x, tr.tensor(i), dim),
                        lambda t: torch.take_along_dim(t, torch.tensor(i), dim), [a])
    _compare_with_torch(lambda x: x.take_along_dim(tr.tensor(i), dim=dim),
                        lambda t: t.take_along_dim(torch.tensor(i), dim=dim), [a])


@pytest.mark.parametrize("device", DEVICES)
@given(data=st.data())
def test_movement_gradients(device, data):
    shape = data.draw(tst.shapes(min_dims=1, max_dims=3, max_side=4))
    x = data.draw(tst.tensors(shape, device=device, requires_grad=True))
    ax = data.draw(st.integers(-x.ndim, x.ndim - 1))
    n = data.draw(st.integers(0, 3))
    pre = data.draw(tst.tensors(shape[:ax % x.ndim] + (2,) + shape[ax % x.ndim + 1:],
                                device=device, requires_grad=True))
    assert gradcheck(lambda t, p: tr.diff(t, n, ax, prepend=p), [x, pre])
    reps = data.draw(st.lists(st.integers(1, 2), max_size=4))
    assert gradcheck(lambda t: tr.tile(t, reps), [x])
    index = data.draw(hnp.arrays(np.int64, shape, elements=st.integers(0, shape[ax] - 1)))
    index = tr.tensor(index, device=device)
    assert gradcheck(lambda t: tr.take_along_dim(t, index, ax), [x])
    assert gradcheck(lambda t: tr.hstack([t, t * 2]), [x])
    u = data.draw(tst.tensors((data.draw(st.integers(1, 3)),), device=device,
                              requires_grad=True))
    assert gradcheck(lambda a, b: tr.meshgrid(a, b, indexing="xy"), [u, x.reshape(-1)])


def test_movement_errors():
    with pytest.raises(ValueError, match="n must be >= 0"):
        tr.diff(tr.ones(3), -1)
    with pytest.raises(ValueError, match="at least one dimension"):
        tr.diff(tr.tensor(1.0))
    with pytest.raises(ValueError, match="as many dims"):
        tr.diff(tr.ones(3), prepend=tr.ones(1, 1))
    with pytest.raises(TypeError, match="must be a Tensor"):
        tr.diff(tr.ones(3), prepend=0)
    with pytest.raises(ValueError, match="0-d or 1-D"):
        tr.meshgrid(tr.ones(2, 2))
    with pytest.raises(ValueError, match="'ij' or 'xy'"):
        tr.meshgrid(tr.ones(2), indexing="ji")
    with pytest.raises(ValueError, match="one dtype and device"):
        tr.meshgrid(tr.ones(2), tr.ones(2, dtype="float64"))
    with pytest.raises(ValueError, match="do not broadcast"):
        tr.broadcast_shapes((2,), (3,))
    with pytest.raises(ValueError, match="do not broadcast"):
        tr.broadcast_tensors(tr.ones(2), tr.ones(3))
    with pytest.raises(TypeError, match="dims must be a tuple of ints"):
        tr.tile(tr.ones(2), (1.5,))
    with pytest.raises(TypeError, match="list or tuple of Tensors"):
        tr.hstack(tr.ones(2))
    with pytest.raises(ValueError, match="same number of dims"):
        tr.take_along_dim(tr.ones(2, 3), tr.tensor([0]), 1)
    with pytest.raises(ValueError, match="out of bounds"):
        tr.take_along_dim(tr.ones(2, 3), tr.tensor([[3]]), 1)
    with pytest.raises(TypeError, match="integers"):
        tr.take_along_dim(tr.ones(2, 3), tr.ones(1, 1), 1)


# ---- logcumsumexp --------------------------------------------------------------------------


@pytest.mark.torch
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_logcumsumexp_matches_torch_and_is_stable(dim):
    torch = _torch()
    a = _rng(30).standard_normal((5, 7))
    _compare_with_torch(lambda x: tr.logcumsumexp(x, dim), lambda t: torch.logcumsumexp(t, dim),
                        [a])
    _compare_with_torch(lambda x: (x * 500).logcumsumexp(dim=dim),
                        lambda t: (t * 500).logcumsumexp(dim), [a])  # exp would overflow
    v = np.array([-1000.0, 0.0, 1000.0, 3.0, -np.inf, 2.0])  # the first term is not lost
    np.testing.assert_allclose(tr.logcumsumexp(tr.tensor(v), 0).numpy(),
                               torch.logcumsumexp(torch.tensor(v), 0).numpy(), rtol=1e-15)
    assert tr.logcumsumexp(tr.tensor(2.0), 0).item() == 2.0
    assert tr.logcumsumexp(tr.tensor([0, 0]), 0).dtype == np.float32


@pytest.mark.parametrize("device", DEVICES)
@given(data=st.data())
def test_logcumsumexp_gradients(device, data):
    x = data.draw(tst.tensors(tst.shapes(min_dims=1, max_side=6), device=device,
                              requires_grad=True, min_value=-30, max_value=30))
    dim = data.draw(st.integers(-x.ndim, x.ndim - 1))
    assert gradcheck(lambda t: tr.logcumsumexp(t, dim), [x])
    assert gradgradcheck(lambda t: tr.logcumsumexp(t, dim), [x])


# ---- index_put, masked_scatter, scatter_reduce ---------------------------------------------


@pytest.mark.torch
@pytest.mark.parametrize("accumulate", [False, True])
def test_index_put_matches_torch(accumulate):
    torch = _torch()
    a = _rng(31).standard_normal((4, 5))
    rows, cols = np.array([0, 2, 3]), np.array([1, 3, 1])
    dup = np.array([0, 2, 0])  # accumulate: both values added at the repeated element
    mask = np.array([True, False, True, False])
    for ours_i, theirs_i, v in [
            ((tr.tensor(rows), tr.tensor(cols)), (torch.tensor(rows), torch.tensor(cols)), 3),
            ((tr.tensor(dup), tr.tensor(cols)), (torch.tensor(dup), torch.tensor(cols)), 3),
            ((tr.tensor(mask),), (torch.tensor(mask),), 5),
            ((tr.tensor([3, 1]),), (torch.tensor([3, 1]),), 5)]:
        if not accumulate and ours_i[0].tolist() == dup.tolist():
            continue  # which of two writes wins is unspecified
        vals = _rng(32).standard_normal(v)
        _compare_with_torch(lambda x, w, i=ours_i: x.index_put(i, w, accumulate),
                            lambda x, w, i=theirs_i: x.index_put(i, w, accumulate), [a, vals])
        _compare_with_torch(lambda x, w, i=ours_i: (x * 1).index_put_(i, w, accumulate),
                            lambda x, w, i=theirs_i: (x * 1).index_put_(i, w, accumulate),
                            [a, vals])
    x = tr.tensor(a)
    x.index_put_((tr.tensor([1]), None), tr.tensor(2.0, dtype="float64"), accumulate)
    t = torch.tensor(a)
    t.index_put_((torch.tensor([1]),), torch.tensor(2.0, dtype=torch.float64), accumulate)
    np.testing.assert_array_equal(x.numpy(), t.numpy())


@pytest.mark.torch
@pytest.mark.parametrize("mask_shape", [(4, 5), (5,), (4, 1)], ids=str)
def test_masked_scatter_matches_torch(mask_shape):
    torch = _torch()
    a, src = _rng(33).standard_normal((4, 5)), _rng(34).standard_normal((5, 6))
    m = _rng(35).random(mask_shape) > 0.4
    _compare_with_torch(lambda x, s: x.masked_scatter(tr.tensor(m), s),
                        lambda x, s: x.masked_scatter(torch.tensor(m), s), [a, src])
    _compare_with_torch(lambda x, s: (x * 1).masked_scatter_(tr.tensor(m), s),
                        lambda x, s: (x * 1).masked_scatter_(torch.tensor(m), s), [a, src])
    _compare_with_torch(lambda x, s: tr.masked_scatter(x[:1], tr.tensor(m), s),
                        lambda x, s: torch.masked_scatter(x[:1], torch.tensor(m), s), [a, src])


REDUCTIONS = ["sum", "prod", "mean", "amax", "amin"]


@pytest.mark.torch
@pytest.mark.parametrize("include_self", [True, False])
@pytest.mark.parametrize("reduce", REDUCTIONS)
def test_scatter_reduce_matches_torch(reduce, include_self):
    torch = _torch()
    a = _rng(36).permutation(20).reshape(4, 5) * 0.3 - 2
    src = _rng(37).permutation(30).reshape(5, 6) * 0.25 - 3
    src[1, 2] = 0.0  # a zero for prod
    kw = {"include_self": include_self}
    for dim, index_shape, n in [(0, (3, 5), 4), (1, (4, 3), 5), (-1, (2, 6), 5)]:
        i = _rng(38 + dim).integers(0, n, index_shape)
        s = src[:index_shape[0], :index_shape[1]]  # (PyTorch's backward needs index's shape)
        ours = tr.tensor(i)
        theirs = torch.tensor(i)
        _compare_with_torch(lambda x, y, d=dim, j=ours: x.scatter_reduce(d, j, y, reduce, **kw),
                            lambda x, y, d=dim, j=theirs: x.scatter_reduce(d, j, y, reduce,
                                                                           **kw),
                            [a[:, :5], s])
    # integers: floor division for mean, as PyTorch
    xi, si = _rng(39).integers(-5, 5, (4, 5)), _rng(40).integers(-5, 5, (3, 5))
    i = _rng(41).integers(0, 4, (3, 5))
    ours = tr.scatter_reduce(tr.tensor(xi), 0, tr.tensor(i), tr.tensor(si), reduce,
                             include_self=include_self)
    theirs = torch.scatter_reduce(torch.tensor(xi), 0, torch.tensor(i), torch.tensor(si), reduce,
                                  include_self=include_self)
    assert ours.dtype == np.int64
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    y = tr.tensor(a)
    y.scatter_reduce_(0, tr.tensor(i), tr.tensor(src[:3, :5]), reduce, include_self=include_self)
    t = torch.tensor(a)
    t.scatter_reduce_(0, torch.tensor(i), torch.tensor(src[:3, :5]), reduce,
                      include_self=include_self)
    np.testing.assert_allclose(y.numpy(), t.numpy(), rtol=1e-12)


@pytest.mark.torch
@pytest.mark.parametrize("reduce", ["amax", "amin"])
def test_scatter_reduce_ties_share_the_gradient_as_torch(reduce):
    a, src = np.array([5.0, 1.0, 2.0]), np.array([5.0, 5.0, 1.0, 7.0])
    if reduce == "amin":
        a, src = -a, -src
    i = np.array([0, 0, 1, 2])
    _compare_with_torch(lambda x, s: x.scatter_reduce(0, tr.tensor(i), s, reduce),
                        lambda x, s: x.scatter_reduce(0, _torch().tensor(i), s, reduce), [a, src])


@pytest.mark.parametrize("device", DEVICES)
@given(data=st.data())
def test_scatter_and_put_gradients(device, data):
    shape = data.draw(tst.shapes(min_dims=1, max_dims=3, max_side=4))
    x = tr.tensor(data.draw(_distinct(shape)), device=device, requires_grad=True)
    ax = data.draw(st.integers(0, x.ndim - 1))
    ishape = tuple(data.draw(st.integers(1, n)) if d != ax else data.draw(st.integers(1, 4))
                   for d, n in enumerate(shape))
    index = tr.tensor(data.draw(hnp.arrays(np.int64, ishape, elements=st.integers(
        0, shape[ax] - 1))), device=device)
    src = tr.tensor(data.draw(_distinct(ishape, offset=0.05)), device=device,
                    requires_grad=True)
    reduce = data.draw(st.sampled_from(REDUCTIONS))
    include_self = data.draw(st.booleans())
    assert gradcheck(lambda t, s: t.scatter_reduce(ax, index, s, reduce,
                                                   include_self=include_self), [x, src])
    mask = tr.tensor(data.draw(hnp.arrays(np.bool_, shape)), device=device)
    source = data.draw(tst.tensors((x.size + 1,), device=device, requires_grad=True))
    assert gradcheck(lambda t, s: t.masked_scatter(mask, s), [x, source])
    rows = tr.tensor(data.draw(st.lists(st.integers(0, shape[0] - 1), min_size=1, max_size=4)),
                     device=device)
    values = data.draw(tst.tensors(shape[1:], device=device, requires_grad=True))
    assert gradcheck(lambda t, v: t.index_put((rows,), v, accumulate=True), [x, values])


def test_scatter_and_put_errors():
    x = tr.zeros(3, 4)
    i = tr.tensor([[0, 1]])
    with pytest.raises(ValueError, match="reduce must be one of"):
        x.scatter_reduce(0, i, tr.ones(1, 2), "max")
    with pytest.raises(TypeError, match="src must be a Tensor"):
        x.scatter_reduce(0, i, 1.0, "sum")
    with pytest.raises(TypeError, match="dtype"):
        x.scatter_reduce(0, i, tr.ones(1, 2, dtype="float64"), "sum")
    with pytest.raises(ValueError, match="out of bounds"):
        x.scatter_reduce(0, tr.tensor([[3]]), tr.ones(1, 1), "sum")
    with pytest.raises(TypeError, match="include_self must be a bool"):
        x.scatter_reduce(0, i, tr.ones(1, 2), "sum", include_self=None)
    with pytest.raises(TypeError, match="tuple of Tensors"):
        x.index_put(tr.tensor([0]), tr.ones(4))
    with pytest.raises(TypeError, match="integers or bools"):
        x.index_put((tr.tensor([0.0]),), tr.ones(4))
    with pytest.raises(TypeError, match="dtype"):
        x.index_put((tr.tensor([0]),), tr.ones(4, dtype="float64"))
    with pytest.raises(ValueError, match="do not fit"):
        x.index_put((tr.tensor([5]),), tr.ones(4), accumulate=True)
    with pytest.raises(ValueError, match="do not fit"):
        x.index_put((tr.tensor([0]),), tr.ones(3), accumulate=True)
    with pytest.raises(ValueError, match="only 2 elements"):
        x.masked_scatter(tr.ones(3, 4, dtype="bool"), tr.ones(2))
    with pytest.raises(TypeError, match="bool Tensor"):
        x.masked_scatter(tr.ones(3, 4), tr.ones(12))
    with pytest.raises(ValueError, match="does not broadcast"):
        x.masked_scatter_(tr.ones(2, 3, 4, dtype="bool"), tr.ones(24))


# ---- tr.special, erfc, digamma -------------------------------------------------------------


@pytest.mark.torch
def test_special_functions_match_torch():
    torch = _torch()
    a = _rng(42).standard_normal((3, 4)) * 2
    p = _rng(43).uniform(0.05, 0.95, (3, 4))
    for name, arr in [("expit", a), ("erf", a), ("erfc", a), ("log1p", p), ("expm1", a),
                      ("exp2", a), ("ndtr", a), ("logit", p), ("digamma", np.abs(a) + 0.1),
                      ("psi", a), ("gammaln", a + 0.05)]:
        _compare_with_torch(getattr(tr.special, name), getattr(torch.special, name), [arr],
                            rtol=1e-12)
    _compare_with_torch(lambda x: tr.special.logit(x, eps=0.1),
                        lambda t: torch.special.logit(t, eps=0.1), [p])
    for d in (1, 3):
        _compare_with_torch(lambda x, d=d: tr.special.multigammaln(x, d) + x.mvlgamma(d),
                            lambda t, d=d: torch.special.multigammaln(t, d) + t.mvlgamma(d),
                            [np.abs(a) + 1.1],
                            rtol=1e-13)
    _compare_with_torch(lambda x: tr.mvlgamma(x, 2), lambda t: torch.mvlgamma(t, 2), [a + 7])
    _compare_with_torch(lambda x: tr.special.logsumexp(x, 1, keepdim=True),
                        lambda t: torch.special.logsumexp(t, 1, keepdim=True), [a])
    for name in ("softmax", "log_softmax"):
        ours, theirs = getattr(tr.special, name), getattr(torch.special, name)
        _compare_with_torch(lambda x, f=ours: f(x, 0), lambda t, f=theirs: f(t, 0), [a])
    y = np.abs(a[0])
    y[1] = 0.0
    x = np.array([0.0, 2.0, 0.0, -1.5])
    _compare_with_torch(tr.special.xlogy, torch.special.xlogy, [x, y])
    np.testing.assert_array_equal(
        tr.special.xlogy(tr.tensor([0.0, 0.0, 1.0]), tr.tensor([np.nan, 0.0, 0.0])).numpy(),
        torch.special.xlogy(torch.tensor([0.0, 0.0, 1.0]), torch.tensor([np.nan, 0.0, 0.0])))
    assert tr.special.xlogy(2, tr.tensor([3.0])).dtype == np.float32


@pytest.mark.torch
def test_erfc_is_exact_in_the_tail_and_digamma_matches_torch():
    torch = _torch()
    z = np.r_[np.linspace(-6, 6, 49), 8.0, 10.0, 26.0, 27.5, 40.0, -30.0, np.nan, np.inf, -np.inf]
    np.testing.assert_allclose(tr.erfc(tr.tensor(z)).numpy(), torch.erfc(torch.tensor(z)),
                               rtol=2e-14, atol=0)
    assert tr.erfc(tr.tensor(10.0, dtype="float64")).item() > 0  # 1 - erf(10) would be 0
    d = np.r_[np.linspace(-4.9, 30, 60), 0.0, -0.0, -2.0, -2.5, 1e-8, 10.0, 10.5, 1e20,
              1.4616321449683622, np.nan, np.inf]
    np.testing.assert_allclose(tr.digamma(tr.tensor(d)).numpy(),
                               torch.digamma(torch.tensor(d)).numpy(), rtol=1e-14, atol=1e-15)
    x = tr.tensor(np.linspace(-2.7, 9, 13), requires_grad=True)  # ψ' by PyTorch's algorithm
    x.digamma().sum().backward()
    np.testing.assert_allclose(x.grad.numpy(),
                               torch.polygamma(1, torch.tensor(x.numpy())).numpy(), rtol=1e-13)
    y = tr.tensor([0.5, 2.0])
    assert y.erfc_() is y and y.digamma().dtype == np.float32
    one = tr.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="create_graph"):
        tr.grad(one.digamma().sum(), [one], create_graph=True)


def _lgamma_grid() -> np.ndarray:
    """Dense points over (-1e3, 1e300): both sides of the zeros at 1 and 2 down to 1e-16, the
    series' and Stirling's ranges and their seams, and negative non-integers."""
    offsets = np.r_[-np.logspace(-16, np.log10(0.5), 300), 0, np.logspace(-16, np.log10(0.5), 300)]
    neg = -np.logspace(np.log10(0.5), 3, 20000)
    return np.r_[1 + offsets, 2 + offsets, np.linspace(1e-6, 12, 20000),
                 np.linspace(12, 1e3, 5000), np.logspace(-300, 300, 5000), 2.5e305,
                 neg[neg != np.floor(neg)], np.linspace(-0.5, 0.5, 1001)[:-1] + 1e-4]


@pytest.mark.torch
def test_lgamma_matches_torch_on_a_dense_grid():
    """Within 1e-14 relative plus 1e-15 absolute of glibc's lgamma (PyTorch's) for x > 0, at
    and near the zeros at 1 and 2 too (5e-15 absolute for x < 0); the special values as
    PyTorch's; float32 inputs rounded from float64; ψ and ψ' as its gradients."""
    torch = _torch()
    x = _lgamma_grid()
    ours, theirs = tr.lgamma(tr.tensor(x)).numpy(), torch.lgamma(torch.tensor(x)).numpy()
    positive = x > 0  # the reflection's sum of two terms loses a few bits near zeros below
    np.testing.assert_allclose(ours[positive], theirs[positive], rtol=1e-14, atol=1e-15)
    np.testing.assert_allclose(ours[~positive], theirs[~positive], rtol=1e-14, atol=5e-15)
    special = np.array([0.0, -0.0, -1.0, -7.0, -1e300, np.inf, -np.inf, np.nan, 1.0, 2.0,
                        5e-324, -5e-324, 2.6e305, 1e308])
    np.testing.assert_array_equal(tr.tensor(special).lgamma().numpy(),
                                  torch.lgamma(torch.tensor(special)).numpy())
    x32 = x[(x > -30) & (x < 1e30)].astype(np.float32)
    y32 = tr.tensor(x32).lgamma()
    assert y32.dtype == np.float32 and tr.tensor([3]).lgamma().dtype == np.float32
    np.testing.assert_allclose(y32.numpy(), torch.lgamma(torch.tensor(x32)).numpy(),
                               rtol=2e-6, atol=2e-7)
    v = tr.tensor(np.linspace(-2.7, 9, 13), requires_grad=True)  # gradients: ψ, then ψ'
    (g,) = tr.grad(v.lgamma().sum(), [v], create_graph=True)
    np.testing.assert_allclose(g.numpy(), torch.digamma(torch.tensor(v.numpy())).numpy(),
                               rtol=1e-14)
    with pytest.raises(RuntimeError, match="Digamma"):  # a third derivative would need ψ''
        tr.grad(g.sum(), [v], create_graph=True, retain_graph=True)
    (gg,) = tr.grad(g.sum(), [v])
    np.testing.assert_allclose(gg.numpy(), torch.polygamma(1, torch.tensor(v.numpy())).numpy(),
                               rtol=1e-13)


def test_lgamma_matches_math_lgamma_and_the_factorials():
    """Without PyTorch: Python's own lgamma (Lanczos, good to about 1e-14 relative away from
    the zeros), and log(n!) exactly where n! is exact in float64."""
    x = np.r_[np.linspace(-20.5, -0.55, 400), np.linspace(2.6, 300, 400), 0.3, 1e-9, 1e100]
    x = x[x != np.floor(x)]
    np.testing.assert_allclose(tr.lgamma(tr.tensor(x)).numpy(), [math.lgamma(v) for v in x],
                               rtol=1e-13, atol=1e-14)
    n = np.arange(1.0, 23.0)
    np.testing.assert_allclose(tr.tensor(n).lgamma().numpy(),
                               [math.log(math.factorial(int(k) - 1)) for k in n],
                               rtol=5e-16, atol=0)
    y = tr.tensor([0.5, 3.0])
    assert y.lgamma_() is y and y.numpy()[1] == np.float32(math.log(2))


@pytest.mark.parametrize("device", DEVICES)
@given(data=st.data())
def test_special_gradients(device, data):
    x = data.draw(tst.tensors(device=device, requires_grad=True, min_value=-4, max_value=4))
    assert gradcheck(tr.erfc, [x]) and gradgradcheck(tr.special.erfc, [x])
    assert gradcheck(tr.special.ndtr, [x])
    pos = data.draw(tst.tensors(x.shape, device=device, requires_grad=True, min_value=0.2,
                                max_value=6))
    assert gradcheck(tr.digamma, [pos])
    assert gradcheck(tr.lgamma, [pos]) and gradgradcheck(tr.special.gammaln, [pos])
    assert gradcheck(lambda t: tr.special.multigammaln(t + 1, 3), [pos])
    assert gradcheck(tr.special.xlogy, [x, pos]) and gradgradcheck(tr.special.xlogy, [x, pos])


# ---- F.interpolate -------------------------------------------------------------------------


INTERPOLATE_CASES = [{"size": 1}, {"size": 4}, {"size": 7}, {"size": 14}, {"size": 23},
                     {"scale_factor": 0.5}, {"scale_factor": 1.7}, {"scale_factor": (2.5,)},
                     {"scale_factor": 3.0}, {"scale_factor": 1.7, "recompute_scale_factor": True}]


@pytest.mark.torch
@pytest.mark.parametrize("mode, align_corners", [("nearest", None), ("nearest-exact", None),
                                                 ("linear", None), ("linear", False),
                                                 ("linear", True), ("area", None)])
@pytest.mark.parametrize("length", [1, 2, 5, 7])
def test_interpolate_matches_torch(length, mode, align_corners):
    torch = _torch()
    tf = torch.nn.functional
    a = _rng(44).standard_normal((2, 3, length))
    for kw in INTERPOLATE_CASES:
        if math.floor(length * np.prod(kw.get("scale_factor", 1.0))) < 1:
            continue
        kw = {**kw, "mode": mode, "align_corners": align_corners}
        _compare_with_torch(lambda x, k=kw: F.interpolate(x, **k),
                            lambda t, k=kw: tf.interpolate(t, **k),
                            [a])
        # float32: the same picks and weights as PyTorch's float32 arithmetic
        a32 = a.astype(np.float32)
        np.testing.assert_allclose(F.interpolate(tr.tensor(a32), **kw).numpy(),
                                   tf.interpolate(torch.tensor(a32), **kw).numpy(), rtol=2e-6,
                                   atol=1e-6)


@pytest.mark.parametrize("device", DEVICES)
@given(data=st.data())
def test_interpolate_gradients(device, data):
    x = data.draw(tst.tensors((data.draw(st.integers(1, 2)), 2, data.draw(st.integers(1, 5))),
                              device=device, requires_grad=True))
    mode = data.draw(st.sampled_from(["nearest", "nearest-exact", "linear", "area"]))
    size = data.draw(st.integers(1, 9))
    ac = data.draw(st.booleans()) if mode == "linear" else None
    assert gradcheck(lambda t: F.interpolate(t, size, mode=mode, align_corners=ac), [x])


def test_interpolate_errors():
    x = tr.ones(1, 2, 4)
    with pytest.raises(ValueError, match="exactly one of size and scale_factor"):
        F.interpolate(x)
    with pytest.raises(ValueError, match="exactly one of size and scale_factor"):
        F.interpolate(x, 3, 2.0)
    with pytest.raises(ValueError, match="mode must be one of"):
        F.interpolate(x, 3, mode="cubic")
    with pytest.raises(ValueError, match="align_corners can only be set"):
        F.interpolate(x, 3, mode="nearest", align_corners=True)
    with pytest.raises(ValueError, match="must be > 0"):
        F.interpolate(x, scale_factor=0.1)
    with pytest.raises(ValueError, match="scale_factor must be a number > 0"):
        F.interpolate(x, scale_factor=-1.0)
    with pytest.raises(TypeError, match="floating-point"):
        F.interpolate(tr.ones(1, 2, 4, dtype="int64"), 3)


# ---- nn.init: trunc_normal_, eye_, dirac_ --------------------------------------------------


def _truncated_moments(mean, std, a, b):
    """The mean and std of N(mean, std²) truncated to [a, b] (its mass from the tail it lies
    in, so that it is exact far out)."""
    alpha, beta = (a - mean) / std, (b - mean) / std
    if beta <= 0:  # the lower tail: the upper one mirrored
        m, s = _truncated_moments(0.0, 1.0, -beta, -alpha)
        return mean - std * m, std * s
    phi = [math.exp(-v * v / 2) / math.sqrt(2 * math.pi) if math.isfinite(v) else 0.0
           for v in (alpha, beta)]
    z = 0.5 * (math.erfc(alpha / math.sqrt(2)) - math.erfc(beta / math.sqrt(2)))
    m = (phi[0] - phi[1]) / z
    av = [v * p if math.isfinite(v) else 0.0 for v, p in zip((alpha, beta), phi)]
    var = 1 + (av[0] - av[1]) / z - m * m
    return mean + std * m, std * math.sqrt(var)


@pytest.mark.parametrize("mean, std, a, b", [(0.0, 1.0, -2.0, 2.0), (0.5, 0.1, 0.0, 0.4),
                                             (0.0, 0.02, -2.0, 2.0), (-1.0, 2.0, -math.inf, 0.0),
                                             (0.0, 1.0, -0.1, 0.05), (0.0, 1.0, -3.2, -3.1)],
                         ids=str)
def test_trunc_normal_bounds_and_moments(mean, std, a, b):
    t = tr.zeros(100000, dtype="float64")
    assert nn.init.trunc_normal_(t, mean, std, a, b) is t
    v = t.numpy()
    assert v.min() >= a and v.max() <= b
    m, s = _truncated_moments(mean, std, a, b)
    assert abs(v.mean() - m) < 4 * s / math.sqrt(v.size)
    assert abs(v.std() - s) < 0.02 * s


def test_trunc_normal_in_the_far_tails_is_exact():
    for a, b in [(5.0, 9.0), (8.0, math.inf), (-9.0, -6.0), (4.0, 4.01)]:
        t = nn.init.trunc_normal_(tr.zeros(50000, dtype="float64"), 0.0, 1.0, a, b)
        v = t.numpy()
        m, s = _truncated_moments(0.0, 1.0, a, b)
        assert v.min() >= a and v.max() <= b
        assert abs(v.mean() - m) < 5 * s / math.sqrt(v.size) and abs(v.std() - s) < 0.03 * s
    g1, g2 = tr.Generator().manual_seed(1), tr.Generator().manual_seed(1)
    np.testing.assert_array_equal(nn.init.trunc_normal_(tr.zeros(5), generator=g1).numpy(),
                                  nn.init.trunc_normal_(tr.zeros(5), generator=g2).numpy())
    with pytest.raises(ValueError, match="a < b"):
        nn.init.trunc_normal_(tr.zeros(3), a=1.0, b=1.0)
    with pytest.raises(ValueError, match="std must be > 0"):
        nn.init.trunc_normal_(tr.zeros(3), std=0.0)
    with pytest.raises(TypeError, match="floating-point"):
        nn.init.trunc_normal_(tr.zeros(3, dtype="int64"))


@pytest.mark.torch
@pytest.mark.parametrize("device", DEVICES)
def test_eye_and_dirac_match_torch(device):
    torch = _torch()
    for shape in [(3, 5), (5, 3), (4, 4)]:
        x, t = tr.ones(*shape, device=device), torch.ones(shape)
        assert nn.init.eye_(x) is x
        torch.nn.init.eye_(t)
        np.testing.assert_array_equal(x.numpy(), t.numpy())
    for shape, groups in [((4, 4, 5), 1), ((4, 4, 5), 2), ((2, 6, 4), 1), ((6, 2, 3, 3), 3),
                          ((4, 4, 2, 2, 3), 2), ((3, 5, 1), 1)]:
        x, t = tr.ones(*shape, device=device), torch.ones(shape)
        nn.init.dirac_(x, groups)
        torch.nn.init.dirac_(t, groups)
        np.testing.assert_array_equal(x.numpy(), t.numpy())
    with pytest.raises(ValueError, match="only 2-D"):
        nn.init.eye_(tr.ones(2, 2, 2))
    with pytest.raises(ValueError, match="3, 4, or 5 dimensions"):
        nn.init.dirac_(tr.ones(2, 2))
    with pytest.raises(ValueError, match="divisible by groups"):
        nn.init.dirac_(tr.ones(3, 2, 2), 2)
    # a Conv1d with a Dirac weight passes its input on
    conv = nn.Conv1d(3, 3, 5, padding=2, bias=False)
    nn.init.dirac_(conv.weight)
    x = tr.randn(2, 3, 7)
    np.testing.assert_allclose(conv(x).numpy(), x.numpy(), rtol=1e-6)


# ---- PReLU, AlphaDropout, shrinks, Threshold -----------------------------------------------


@pytest.mark.torch
@pytest.mark.parametrize("n, shape", [(1, (2, 3, 4)), (3, (2, 3, 4)), (3, (2, 3)), (1, (4,)),
                                      (1, ())], ids=str)
def test_prelu_matches_torch(n, shape):
    torch = _torch()
    a = _rng(45).standard_normal(shape)
    a.reshape(-1)[0] = 0.0  # at 0 the gradient is the slope's, as PyTorch's
    w = _rng(46).uniform(0.1, 0.4, n)
    _compare_with_torch(F.prelu, torch.nn.functional.prelu, [a, w])
    m = nn.PReLU(n, dtype="float64")
    assert m.weight.shape == (n,) and np.all(m.weight.numpy() == 0.25)
    assert repr(m) == repr(torch.nn.PReLU(n))
    assert nn.PReLU(init=0.1).weight.item() == pytest.approx(0.1)
    with pytest.raises(ValueError, match="channel"):
        F.prelu(tr.ones(2, 3), tr.ones(4))
    with pytest.raises(ValueError, match="num_parameters must be an int >= 1"):
        nn.PReLU(0)


@pytest.mark.torch
@pytest.mark.parametrize("name, args", [("softshrink", (0.5,)), ("softshrink", (0.0,)),
                                        ("hardshrink", (0.5,)), ("hardshrink", (1.2,)),
                                        ("tanhshrink", ()), ("threshold", (0.2, -3.0)),
                                        ("threshold", (-0.5, 7.0))], ids=str)
def test_shrinks_and_threshold_match_torch(name, args):
    torch = _torch()
    tf = torch.nn.functional
    a = np.array([-1.3, -0.5, -0.2, 0.0, 0.2, 0.5, 0.7, 1.2, -1.2])  # the bounds included
    _compare_with_torch(lambda x: getattr(F, name)(x, *args),
                        lambda t: getattr(tf, name)(t, *args), [a])
    edge = np.array([np.nan, np.inf, -np.inf])
    np.testing.assert_array_equal(getattr(F, name)(tr.tensor(edge), *args).numpy(),
                                  getattr(tf, name)(torch.tensor(edge), *args).numpy())
    module = {"softshrink": "Softshrink", "hardshrink": "Hardshrink", "tanhshrink":
              "Tanhshrink", "threshold": "Threshold"}[name]
    ours, theirs = getattr(nn, module)(*args), getattr(torch.nn, module)(*args)
    assert repr(ours) == repr(theirs)
    np.testing.assert_allclose(ours(tr.tensor(a)).numpy(), theirs(torch.tensor(a)).numpy())


def test_shrink_errors():
    with pytest.raises(ValueError, match="lambd must be a number >= 0"):
        F.softshrink(tr.ones(2), -0.1)
    with pytest.raises(ValueError, match="lambd must be a number >= 0"):
        nn.Hardshrink(-1)
    with pytest.raises(TypeError, match="threshold must be a number"):
        F.threshold(tr.ones(2), None, 0.0)


@pytest.mark.parametrize("device", DEVICES)
@given(data=st.data())
def test_activation_gradients(device, data):
    x = data.draw(tst.tensors(tst.shapes(min_dims=2), device=device, requires_grad=True))
    ok = x.detach().numpy()
    x = tr.tensor(np.where(np.abs(np.abs(ok) - 0.5) < 1e-3, 0.7, ok), device=device,
                  requires_grad=True)  # away from the kinks at ±0.5 and 0
    x = tr.tensor(np.where(np.abs(x.numpy()) < 1e-3, 0.3, x.numpy()), device=device,
                  requires_grad=True)
    w = data.draw(tst.tensors((data.draw(st.sampled_from([1, x.shape[1]])),), device=device,
                              requires_grad=True))
    assert gradcheck(F.prelu, [x, w])
    assert gradcheck(lambda t: F.softshrink(t, 0.5), [x])
    assert gradcheck(lambda t: F.hardshrink(t, 0.5), [x])
    assert gradcheck(F.tanhshrink, [x]) and gradgradcheck(F.tanhshrink, [x])
    assert gradcheck(lambda t: F.threshold(t, 0.0, -2.0), [x])

    def one_draw(t):
        tr.manual_seed(7)  # the same mask every call
        return F.alpha_dropout(t, 0.3, training=True)

    assert gradcheck(one_draw, [x])


@pytest.mark.parametrize("device", DEVICES)
def test_alpha_dropout_keeps_mean_and_variance(device):
    p = 0.2
    x = tr.randn(200000, dtype="float64", device=device)
    m = nn.AlphaDropout(p)
    assert repr(m) == "AlphaDropout(p=0.2, inplace=False)"
    y = m(x).numpy()
    assert abs(y.mean()) < 0.01 and abs(y.var() - 1) < 0.01
    alpha = 1.7580993408473766
    a = 1 / math.sqrt((alpha * alpha * p + 1) * (1 - p))
    dropped = np.isclose(y, a * alpha * (p - 1), rtol=1e-12)
    assert abs(dropped.mean() - p) < 0.01  # dropped: SELU's saturation value, rescaled
    np.testing.assert_allclose(y[~dropped], a * x.numpy()[~dropped] + a * alpha * p,
                               rtol=1e-12)
    m.eval()
    assert m(x) is x
    assert F.alpha_dropout(x, 0.5) is x  # training=False by default, as PyTorch's F
    assert not F.alpha_dropout(x, 1.0, True).numpy().any()
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        F.alpha_dropout(x, 1.5, True)


# ---- EmbeddingBag --------------------------------------------------------------------------


EMBEDDING_BAG_CASES = {
    "2-D": (np.array([[1, 7, 3, 9], [3, 3, 2, 0], [5, 3, 3, 3]]), None, False),
    "offsets": (np.array([3, 7, 9, 9, 2, 1, 5, 0, 1]), np.array([0, 2, 2, 6]), False),
    "last offset": (np.array([3, 7, 9, 9, 2, 1, 5, 0, 1]), np.array([0, 2, 2, 6, 9]), True),
    "one bag": (np.array([4, 3, 3]), np.array([0]), False),
}


@pytest.mark.torch
@pytest.mark.parametrize("padding_idx", [None, 3])
@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
@pytest.mark.parametrize("case", list(EMBEDDING_BAG_CASES))
def test_embedding_bag_matches_torch(case, mode, padding_idx):
    torch = _torch()
    tf = torch.nn.functional
    inp, off, last = EMBEDDING_BAG_CASES[case]
    w = _rng(47).standard_normal((10, 4))
    kw = {"mode": mode, "padding_idx": padding_idx, "include_last_offset": last}

    def ours(weight, psw=None):
        return F.embedding_bag(tr.tensor(inp), weight, None if off is None else tr.tensor(off),
                               per_sample_weights=psw, **kw)

    def theirs(weight, psw=None):
        return tf.embedding_bag(torch.tensor(inp), weight, None if off is None else
                                torch.tensor(off), per_sample_weights=psw, **kw)

    _compare_with_torch(ours, theirs, [w])
    if mode == "sum":
        _compare_with_torch(ours, theirs, [w, _rng(48).standard_normal(inp.shape)])
    m = nn.EmbeddingBag(10, 4, mode=mode, padding_idx=padding_idx, include_last_offset=last,
                        dtype="float64")
    t = torch.nn.EmbeddingBag(10, 4, mode=mode, padding_idx=padding_idx,
                              include_last_offset=last, dtype=torch.float64)
    assert repr(m) == repr(t)
    t.load_state_dict({"weight": torch.tensor(w)})
    m.load_state_dict({"weight": w})
    np.testing.assert_allclose(
        m(tr.tensor(inp), None if off is None else tr.tensor(off)).numpy(),
        t(torch.tensor(inp), None if off is None else torch.tensor(off)).detach().numpy(),
        rtol=1e-12)


@pytest.mark.torch
def test_embedding_bag_module_init_max_norm_and_from_pretrained():
    torch = _torch()
    m = nn.EmbeddingBag(6, 3, padding_idx=2)
    assert m.weight.dtype == np.float32 and not m.weight.numpy()[2].any()
    w = _rng(49).standard_normal((6, 3)) * 3
    ours = nn.EmbeddingBag.from_pretrained(tr.tensor(w), max_norm=1.0, mode="sum")
    theirs = torch.nn.EmbeddingBag.from_pretrained(torch.tensor(w), max_norm=1.0, mode="sum")
    assert not ours.weight.requires_grad
    inp = np.array([[0, 1], [1, 4]])
    np.testing.assert_allclose(ours(tr.tensor(inp)).numpy(),
                               theirs(torch.tensor(inp)).numpy(), rtol=1e-12)
    np.testing.assert_allclose(ours.weight.numpy(), theirs.weight.numpy(), rtol=1e-12)


@pytest.mark.parametrize("device", DEVICES)
@given(data=st.data())
def test_embedding_bag_gradients(device, data):
    n = data.draw(st.integers(0, 7))
    inp = tr.tensor(data.draw(hnp.arrays(np.int64, n, elements=st.integers(0, 4))),
                    device=device)
    cuts = sorted(data.draw(st.lists(st.integers(0, n), min_size=1, max_size=4)))
    off = tr.tensor([0, *cuts[1:]], device=device)
    mode = data.draw(st.sampled_from(["sum", "mean", "max"]))
    pad = data.draw(st.none() | st.integers(0, 4))
    w = tr.tensor(data.draw(_distinct((5, 2))), device=device, requires_grad=True)
    assert gradcheck(lambda t: F.embedding_bag(inp, t, off, mode=mode, padding_idx=pad), [w])
    if mode == "sum":
        psw = data.draw(tst.tensors((n,), device=device, requires_grad=True))
        assert gradcheck(lambda t, s: F.embedding_bag(inp, t, off, mode="sum",
                                                      per_sample_weights=s), [w, psw])


def test_embedding_bag_errors():
    w = tr.ones(5, 2)
    with pytest.raises(ValueError, match="needs offsets"):
        F.embedding_bag(tr.tensor([1, 2]), w)
    with pytest.raises(ValueError, match="offsets must be None"):
        F.embedding_bag(tr.tensor([[1, 2]]), w, tr.tensor([0]))
    with pytest.raises(ValueError, match=r"offsets\[0\] must be 0"):
        F.embedding_bag(tr.tensor([1, 2]), w, tr.tensor([1]))
    with pytest.raises(ValueError, match="non-decreasing"):
        F.embedding_bag(tr.tensor([1, 2, 3]), w, tr.tensor([0, 2, 1]))
    with pytest.raises(ValueError, match="at most the input's length"):
        F.embedding_bag(tr.tensor([1, 2]), w, tr.tensor([0, 3]))
    with pytest.raises(ValueError, match="the input's length 3"):
        F.embedding_bag(tr.tensor([1, 2, 3]), w, tr.tensor([0, 2]), include_last_offset=True)
    with pytest.raises(ValueError, match="out of range for 5 embeddings"):
        F.embedding_bag(tr.tensor([[1, 5]]), w)
    with pytest.raises(ValueError, match="only supported for mode='sum'"):
        F.embedding_bag(tr.tensor([[1, 2]]), w, per_sample_weights=tr.ones(1, 2))
    with pytest.raises(ValueError, match="per_sample_weights must be a tensor"):
        F.embedding_bag(tr.tensor([[1, 2]]), w, mode="sum", per_sample_weights=tr.ones(2))
    with pytest.raises(ValueError, match="mode must be"):
        nn.EmbeddingBag(5, 2, mode="min")
    with pytest.raises(TypeError, match="integers"):
        F.embedding_bag(tr.tensor([[1.0]]), w)


# ---- nn.utils.clip_grad_norm ---------------------------------------------------------------


def test_clip_grad_norm_is_the_deprecated_alias():
    p = tr.tensor([3.0, 4.0], requires_grad=True)
    p.grad = tr.tensor([3.0, 4.0])
    with pytest.warns(FutureWarning, match="clip_grad_norm_"):
        total = nn.utils.clip_grad_norm(p, 1.0)
    assert total.item() == pytest.approx(5.0)
    np.testing.assert_allclose(p.grad.numpy(), [0.6, 0.8], rtol=1e-5)
