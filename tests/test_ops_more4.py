"""The fourth batch of PyTorch's names: sinh, cosh, asinh, acosh, atanh (and the arc* aliases),
exp2, fmax and fmin, nextafter, rsub, polygamma, igamma and igammac; hardshrink, threshold,
prelu, selu, celu and rrelu at the top level; the in-place twins (sinh_ ... float_power_, the
comparisons eq_ ... less_equal_, logical_*_, cumsum_, cumprod_, remainder_, fmod_, the
matrix products, transpose_/swapaxes_/t_) and the top-level in-place functions (tr.abs_ ...);
the aliases multiply, divide, subtract, greater, less, not_equal, trapz; the functional ops at
the top level under torch's own signatures (conv1d ... constant_pad_nd, the losses with an
int reduction); the queries is_signed, is_nonzero, is_same_size, nbytes, itemsize,
is_complex; split_with_sizes, unravel_index, histogram and histogramdd, gradient,
index_reduce, scalar_tensor, fill, empty_strided, the window functions, torch's legacy linear
algebra (lu, qr, triangular_solve, cholesky_solve, cholesky_inverse, the removed ones),
nuclear_norm and frobenius_norm, svd_lowrank and pca_lowrank, resize_, DLPack and frombuffer,
the matmul precision and default device.

Values, dtypes and gradients against PyTorch in float64; gradients against central
differences with Hypothesis (broadcasting for the binary ops); every differentiable op on the
strict device equal to the CPU; the errors."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import tinygrad_rnn as tr
from tinygrad_rnn.testing import gradcheck, gradgradcheck
from tinygrad_rnn.testing import strategies as tst

from .conftest import DEVICES, assert_device_equals_cpu
from .test_ops_more import _torch
from .test_ops_more3 import _grads, _same
from .test_ops_torch import _compare_with_torch, _rng

NAN, INF = math.nan, math.inf
UNARY = ["sinh", "cosh", "asinh", "acosh", "atanh", "exp2"]
SPECIAL = [0.0, -0.0, 0.5, -0.5, 1.0, -1.0, 1.5, 3.0, -20.0, 800.0, NAN, INF, -INF, 1e-300]


# ---- sinh, cosh, asinh, acosh, atanh, exp2 -------------------------------------------------


@pytest.mark.torch
@pytest.mark.parametrize("fn", UNARY)
def test_unary_match_torch(fn):
    torch = _torch()
    x = np.array(SPECIAL)
    with np.errstate(all="ignore"):
        _same(getattr(tr, fn)(tr.tensor(x)), getattr(torch, fn)(torch.tensor(x)), exact=False)
        _same(getattr(tr.tensor(x.astype(np.float32)), fn)(),
              getattr(torch.tensor(x.astype(np.float32)), fn)(), exact=False)
    _same(getattr(tr, fn)(tr.tensor([1, 2, -3])), getattr(torch, fn)(torch.tensor([1, 2, -3])),
          exact=False)  # integers give float32
    inside = {"acosh": np.array([1.5, 2.0, 7.0]), "atanh": np.array([-0.9, 0.2, 0.5])}
    a = inside.get(fn, _rng(1).standard_normal((2, 3)) * 2)
    _grads(lambda t: getattr(tr, fn)(t), lambda t: getattr(torch, fn)(t), [a])
    _grads(lambda t: getattr(t, fn)(), lambda t: getattr(t, fn)(), [a])
    # the gradient at the special points (inf, NaN and all), as PyTorch's
    with np.errstate(all="ignore"):
        xs, ts = tr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        getattr(tr, fn)(xs).sum().backward()
        getattr(torch, fn)(ts).sum().backward()
    np.testing.assert_allclose(xs.grad.numpy(), ts.grad.numpy(), rtol=1e-12)


@pytest.mark.torch
def test_arc_aliases_match_torch():
    torch = _torch()
    x = np.array([0.2, -0.4, 0.7])
    for name in ("arcsinh", "arccosh", "arctanh"):
        a = x + 1.5 if name == "arccosh" else x
        _same(getattr(tr, name)(tr.tensor(a)), getattr(torch, name)(torch.tensor(a)),
              exact=False)
        _same(getattr(tr.tensor(a), name)(), getattr(torch.tensor(a), name)(), exact=False)


@pytest.mark.parametrize("device", DEVICES)
@given(data=st.data())
def test_unary_gradients(device, data):
    x = data.draw(tst.tensors(device=device, requires_grad=True))
    for fn in (tr.sinh, tr.cosh, tr.asinh, tr.exp2):
        assert gradcheck(fn, [x]) and gradgradcheck(fn, [x])
    inside = tr.tensor(np.tanh(x.numpy()) * 0.9, device=device, requires_grad=True)
    above = tr.tensor(np.abs(x.numpy()) + 1.2, device=device, requires_grad=True)
    assert gradcheck(tr.atanh, [inside]) and gradgradcheck(tr.atanh, [inside])
    assert gradcheck(tr.acosh, [above]) and gradgradcheck(tr.acosh, [above])


# ---- fmax, fmin, nextafter, rsub -----------------------------------------------------------


@pytest.mark.torch
@pytest.mark.parametrize("fn", ["fmax", "fmin"])
def test_fmax_fmin_match_torch(fn):
    torch = _torch()
    x = np.array([1.0, NAN, 2.0, NAN, 3.0, -INF, 0.0, -0.0])
    y = np.array([1.0, 2.0, NAN, NAN, -1.0, 5.0, -0.0, 0.0])
    _same(getattr(tr, fn)(tr.tensor(x), tr.tensor(y)), getattr(torch, fn)(torch.tensor(x),
                                                                           torch.tensor(y)))
    # NaN rules and ties (the whole gradient to input), as PyTorch's
    xs, ys = tr.tensor(x, requires_grad=True), tr.tensor(y, requires_grad=True)
    ts, us = torch.tensor(x, requires_grad=True), torch.tensor(y, requires_grad=True)
    getattr(tr, fn)(xs, ys).sum().backward()
    getattr(torch, fn)(ts, us).sum().backward()
    np.testing.assert_array_equal(xs.grad.numpy(), ts.grad.numpy())
    np.testing.assert_array_equal(ys.grad.numpy(), us.grad.numpy())
    # broadcasting, promotion, integers, the method, a number
    a, b = _rng(2).standard_normal((3, 1)), _rng(3).standard_normal(4)
    _compare_with_torch(lambda s, t: getattr(s, fn)(t), lambda s, t: getattr(s, fn)(t), [a, b])
    _same(getattr(tr, fn)(tr.tensor([1, 5]), tr.tensor([2.5])),
          getattr(torch, fn)(torch.tensor([1, 5]), torch.tensor([2.5])))
    _same(getattr(tr, fn)(tr.tensor([1, 5]), tr.tensor([3], dtype="int32")),
          getattr(torch, fn)(torch.tensor([1, 5]), torch.tensor([3], dtype=torch.int32)))
    _same(getattr(tr, fn)(tr.tensor([True, False]), tr.tensor([False, False])),
          getattr(torch, fn)(torch.tensor([True, False]), torch.tensor([False, False])))
    with pytest.raises(TypeError, match="complex"):  # as torch's RuntimeError
        getattr(tr, fn)(tr.tensor([1j]), tr.tensor([2.0]))


@pytest.mark.parametrize("device", DEVICES)
@given(data=st.data())
def test_fmax_fmin_gradients_broadcast(device, data):
    a, b = data.draw(tst.broadcastable_tensors(2, device=device, requires_grad=True))
    gap = np.abs(np.subtract(*np.broadcast_arrays(a.numpy(), b.numpy())))
    assume(gap.size == 0 or gap.min() > 1e-3)  # (a tie is a kink)
    assert gradcheck(tr.fmax, [a, b]) and gradgradcheck(tr.fmax, [a, b])
    assert gradcheck(tr.fmin, [a, b]) and gradgradcheck(tr.fmin, [a, b])


@pytest.mark.torch
def test_nextafter_and_rsub_match_torch():
    torch = _torch()
    x, y = np.array([1.0, 0.0, -1.0, 2.0, NAN, INF]), np.array([2.0, -1.0, -1.0, 0.0, 1.0, 0.0])
    _same(tr.nextafter(tr.tensor(x), tr.tensor(y)), torch.nextafter(torch.tensor(x),
                                                                    torch.tensor(y)))
    f = x.astype(np.float32)
    _same(tr.tensor(f).nextafter(tr.tensor(y.astype(np.float32))),
          torch.tensor(f).nextafter(torch.tensor(y.astype(np.float32))))
    _same(tr.nextafter(tr.tensor(f), tr.tensor(y)), torch.nextafter(torch.tensor(f),
                                                                    torch.tensor(y)))
    for lib in (tr, torch):  # PyTorch's gradient: gy to the first input, 0 to the second
        s = lib.tensor([1.0, 2.0], requires_grad=True)
        o = lib.tensor([[5.0, 0.0]], requires_grad=True)
        lib.nextafter(s, o).sum().backward()
        assert s.grad.tolist() == [1.0, 1.0] and o.grad.tolist() == [[0.0, 0.0]]
    with pytest.raises(TypeError, match="floating-point"):
        tr.nextafter(tr.tensor([1]), tr.tensor([2]))
    a, b = _rng(4).standard_normal((2, 3)), _rng(5).standard_normal(3)
    _compare_with_torch(lambda s, t: tr.rsub(s, t), lambda s, t: torch.rsub(s, t), [a, b])
    _compare_with_torch(lambda s, t: tr.rsub(s, t, alpha=2.5),
                        lambda s, t: torch.rsub(s, t, alpha=2.5), [a, b])
    _same(tr.rsub(tr.tensor([1, 2]), 5), torch.rsub(torch.tensor([1, 2]), 5))
    _same(tr.rsub(tr.tensor([1, 2]), 0.5, 3), torch.rsub(torch.tensor([1, 2]), 0.5, 3))
    with pytest.raises(TypeError, match="bool"):
        tr.rsub(tr.tensor([True]), tr.tensor([False]))
    with pytest.raises(TypeError, match="must be a Tensor"):
        tr.rsub(1, tr.tensor([1.0]))


# ---- polygamma, igamma, igammac ------------------------------------------------------------


@pytest.mark.torch
@pytest.mark.parametrize("n", [0, 1, 2, 3, 4, 7, 20])
def test_polygamma_matches_torch(n):
    torch = _torch()
    x = np.array([-2.5, 0.5, 1e-3, 20.0, 0.0, -1.0, 3.3, -7.7, 1e5, 1e-300, NAN, INF, 9.0,
                  8.999, 100.5, -100.3])
    with np.errstate(all="ignore"):
        ours, theirs = tr.polygamma(n, tr.tensor(x)), torch.polygamma(n, torch.tensor(x))
    # (left of 0 the direct sum cancels, and both lose digits there, in their own ways)
    np.testing.assert_allclose(ours.numpy()[x >= 0], theirs.numpy()[x >= 0], rtol=2e-14)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-9)
    ints = tr.tensor([1, 2]).polygamma(n)  # float32 (PyTorch's n! there is a float32 one)
    assert ints.dtype == np.float32
    np.testing.assert_allclose(ints.numpy(), torch.tensor([1, 2]).polygamma(n).numpy(),
                               rtol=1e-6)
    a = np.abs(_rng(6).standard_normal((2, 3))) + 0.3
    _grads(lambda t: tr.polygamma(n, t), lambda t: torch.polygamma(n, t), [a])
    np.testing.assert_allclose(tr.special.polygamma(n, tr.tensor(a)).numpy(),
                               torch.special.polygamma(n, torch.tensor(a)).numpy(), rtol=1e-14)


@pytest.mark.parametrize("device", DEVICES)
@given(x=tst.tensors(min_value=0.2, max_value=4.0), n=st.integers(0, 3))
def test_polygamma_gradients(device, x, n):
    x = tr.tensor(x.numpy(), device=device, requires_grad=True)
    assert gradcheck(lambda t: tr.polygamma(n, t), [x])
    assert gradgradcheck(lambda t: tr.polygamma(n, t), [x])


def test_polygamma_errors():
    with pytest.raises(ValueError, match="negative n"):
        tr.polygamma(-1, tr.ones(2))
    with pytest.raises(TypeError, match="n must be an int"):
        tr.polygamma(1.5, tr.ones(2))
    with pytest.raises(TypeError, match="x must be a Tensor"):
        tr.polygamma(1, 2.0)


@pytest.mark.torch
def test_igamma_igammac_match_torch():
    torch = _torch()
    a = np.array([0.5, 1.0, 2.5, 10.0, 0.0, 3.0, 150.0])
    x = np.array([0.3, 2.0, 2.5, 1.0, 1.0, 0.0, 140.0])
    for fn in ("igamma", "igammac"):
        ours = getattr(tr, fn)(tr.tensor(a), tr.tensor(x))
        theirs = getattr(torch, fn)(torch.tensor(a), torch.tensor(x))
        # (from a = 100 on, gammainc's quadrature and PyTorch's asymptotic series agree to 1e-9)
        np.testing.assert_allclose(ours.numpy()[:6], theirs.numpy()[:6], rtol=1e-12)
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-9)
        m = getattr(tr.tensor(a), fn)(tr.tensor(x))
        np.testing.assert_allclose(m.numpy(), ours.numpy(), rtol=0)
        # the gradient in x, as PyTorch's (which has none in a)
        inner = slice(0, 4)
        xs, ts = tr.tensor(x[inner], requires_grad=True), torch.tensor(x[inner],
                                                                       requires_grad=True)
        getattr(tr, fn)(tr.tensor(a[inner]), xs).sum().backward()
        getattr(torch, fn)(torch.tensor(a[inner]), ts).sum().backward()
        np.testing.assert_allclose(xs.grad.numpy(), ts.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(tr.special.gammaincc(tr.tensor(a), tr.tensor(x)).numpy(),
                               torch.special.gammaincc(torch.tensor(a),
                                                       torch.tensor(x)).numpy(), rtol=1e-9)


@pytest.mark.parametrize("device", DEVICES)
@given(data=st.data())
def test_igamma_gradients_broadcast(device, data):
    a, x = data.draw(tst.broadcastable_tensors(2, device=device, requires_grad=True,
                                               min_value=0.5, max_value=3.0))
    assert gradcheck(tr.igamma, [a, x], atol=1e-6) and gradcheck(tr.igammac, [a, x], atol=1e-6)


# ---- activations at the top level ---------------------------------------------------------


@pytest.mark.torch
def test_top_level_activations_match_torch():
    torch = _torch()
    a = _rng(7).standard_normal((2, 3, 4)) * 2
    w = np.array([0.25, -0.5, 1.5])
    cases = [
        (lambda x: tr.hardshrink(x, 0.7), lambda t: torch.hardshrink(t, 0.7)),
        (lambda x: x.hardshrink(), lambda t: t.hardshrink()),
        (lambda x: tr.threshold(x, 0.3, -2.0), lambda t: torch.threshold(t, 0.3, -2.0)),
        (tr.selu, torch.selu), (lambda x: tr.rrelu(x, 0.1, 0.3), lambda t: torch.rrelu(t, 0.1,
                                                                                        0.3)),
    ]
    for ours, theirs in cases:
        _compare_with_torch(ours, theirs, [a])
    # (PyTorch's celu gradient takes 1 / alpha in float32: 1e-8 off for alpha = 0.7)
    _compare_with_torch(lambda x: tr.celu(x, 0.7), lambda t: torch.celu(t, 0.7), [a], rtol=1e-7)
    _compare_with_torch(lambda x, s: tr.prelu(x, s), lambda t, s: torch.prelu(t, s), [a, w])
    _compare_with_torch(lambda x, s: x.prelu(s), lambda t, s: t.prelu(s), [a, w[:1]])
    for name, args in (("celu_", (0.5,)), ("selu_", ()), ("threshold_", (0.1, 9.0)),
                       ("rrelu_", (0.2, 0.2))):
        x, t = tr.tensor(a), torch.tensor(a)
        assert getattr(tr, name)(x, *args) is x
        getattr(torch, name)(t, *args)
        np.testing.assert_allclose(x.numpy(), t.numpy(), rtol=1e-14, err_msg=name)
    with pytest.raises(NotImplementedError, match="generator"):
        tr.rrelu(tr.ones(2), generator=tr.Generator())


# ---- in-place twins ------------------------------------------------------------------------


def test_in_place_twins_equal_their_functions():
    rng = _rng(8)
    f, g = rng.standard_normal((2, 3)), rng.standard_normal((2, 3))
    p = np.abs(f) + 0.5
    i, j = rng.integers(-9, 9, (2, 3)), rng.integers(1, 5, (2, 3))
    cases = [("sinh_", "sinh", f, ()), ("cosh_", "cosh", f, ()), ("asinh_", "asinh", f, ()),
             ("acosh_", "acosh", p + 1, ()), ("atanh_", "atanh", np.tanh(f), ()),
             ("arcsinh_", "asinh", f, ()), ("arccosh_", "acosh", p + 1, ()),
             ("arctanh_", "atanh", np.tanh(f), ()), ("arcsin_", "asin", np.tanh(f), ()),
             ("arccos_", "acos", np.tanh(f), ()), ("arctan_", "atan", f, ()),
             ("atan2_", "atan2", f, (g,)), ("arctan2_", "atan2", f, (g,)),
             ("exp2_", "exp2", f, ()), ("nextafter_", "nextafter", f, (g,)),
             ("polygamma_", None, p, (2,)), ("igamma_", "igamma", p, (p.T.T,)),
             ("igammac_", "igammac", p, (p,)), ("mvlgamma_", "mvlgamma", p + 2, (2,)),
             ("float_power_", "float_power", p, (g,)), ("cumsum_", "cumsum", f, (1,)),
             ("cumprod_", "cumprod", f, (0,)), ("remainder_", "remainder", f, (g,)),
             ("fmod_", "fmod", f, (g,)), ("floor_divide_", "floor_divide", i, (j,)),
             ("multiply_", "mul", f, (g,)), ("divide_", "div", f, (g,)),
             ("subtract_", "sub", f, (g,)), ("eq_", "eq", f, (f[0],)), ("ne_", "ne", f, (g,)),
             ("lt_", "lt", f, (g,)), ("le_", "le", f, (g,)), ("gt_", "gt", f, (g,)),
             ("ge_", "ge", f, (g,)), ("greater_", "gt", f, (g,)),
             ("greater_equal_", "ge", f, (g,)), ("less_", "lt", f, (g,)),
             ("less_equal_", "le", f, (g,)), ("not_equal_", "ne", f, (g,)),
             ("logical_and_", "logical_and", f, (g,)), ("logical_or_", "logical_or", i, (j,)),
             ("logical_xor_", "logical_xor", f, (g,)), ("logical_not_", "logical_not", i, ())]
    for name, fn, a, args in cases:
        args = tuple(tr.tensor(v) if isinstance(v, np.ndarray) else v for v in args)
        x = tr.tensor(a)
        expected = x.polygamma(*args) if fn is None else getattr(x, fn)(*args)
        assert getattr(x, name)(*args) is x, name
        assert x.dtype == a.dtype, name  # (a comparison is written as 0 and 1)
        np.testing.assert_array_equal(x.numpy(), expected.numpy().astype(a.dtype),
                                      err_msg=name)
    x = tr.tensor(f)
    x.divide_(tr.tensor(g), rounding_mode="floor")
    np.testing.assert_array_equal(x.numpy(), np.floor(f / g))


@pytest.mark.torch
def test_in_place_match_torch_and_record():
    torch = _torch()
    a, b = _rng(9).standard_normal((3, 4)), _rng(10).standard_normal((3, 4))
    for name, args in (("sinh_", ()), ("cosh_", ()), ("exp2_", ()),
                       ("atan2_", (b,)), ("cumsum_", (1,)), ("cumprod_", (0,)),
                       ("remainder_", (b,)), ("fmod_", (b,)), ("lt_", (b,)),
                       ("greater_equal_", (b,)),
                       ("multiply_", (b,)), ("subtract_", (b,)), ("float_power_", (3,))):
        targs = tuple(torch.tensor(v) if isinstance(v, np.ndarray) else v for v in args)
        oargs = tuple(tr.tensor(v) if isinstance(v, np.ndarray) else v for v in args)
        # recorded: the gradient flows back through the in-place op, as PyTorch's
        x, t = tr.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
        y, u = x * 1, t * 1
        getattr(y, name)(*oargs)
        getattr(u, name)(*targs)
        np.testing.assert_allclose(y.numpy(), u.detach().numpy(), rtol=1e-13, err_msg=name)
        (y * y).sum().backward()
        (u * u).sum().backward()
        np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-12, atol=1e-14,
                                   err_msg=name)
    # the matrix products in place
    m, v = _rng(11).standard_normal((3, 3)), _rng(12).standard_normal(3)
    bb = _rng(13).standard_normal((2, 3, 3))
    for name, args in (("addmm_", (m, m)), ("addmv_", (m, v)), ("addbmm_", (bb, bb)),
                       ("baddbmm_", (bb, bb))):
        base = bb.copy() if name == "baddbmm_" else m.copy() if name != "addmv_" else v.copy()
        x, t = tr.tensor(base), torch.tensor(base)
        getattr(x, name)(*(tr.tensor(q) for q in args), beta=0.5, alpha=2)
        getattr(t, name)(*(torch.tensor(q) for q in args), beta=0.5, alpha=2)
        np.testing.assert_allclose(x.numpy(), t.numpy(), rtol=1e-13, err_msg=name)
    x, t = tr.tensor(m), torch.tensor(m)
    x.addr_(tr.tensor(v), tr.tensor(v))
    t.addr_(torch.tensor(v), torch.tensor(v))
    np.testing.assert_allclose(x.numpy(), t.numpy(), rtol=1e-13)
    _compare_with_torch(lambda s, p, q: s.addbmm(p, q, beta=2),
                        lambda s, p, q: s.addbmm(p, q, beta=2), [m, bb, bb])


def test_in_place_errors():
    leaf = tr.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf"):
        leaf.sinh_()
    with pytest.raises(ValueError, match=r"shape \(2, 3\) is not this tensor's \(3,\)"):
        tr.ones(3).fmax_(tr.ones(2, 3)) if hasattr(tr.Tensor, "fmax_") else \
            tr.ones(3).atan2_(tr.ones(2, 3))
    with pytest.raises(ValueError, match="cannot change it"):
        tr.ones(3).hypot_(tr.ones(2, 3))  # (it used to take the broadcast shape)
    with pytest.raises(TypeError, match="float64"):
        tr.ones(3).float_power_(2)
    with pytest.raises(TypeError, match="cannot be stored"):
        tr.tensor([1, 2]).sinh_()


@pytest.mark.torch
def test_transpose_in_place_matches_torch():
    torch = _torch()
    a = np.arange(24.0).reshape(2, 3, 4)
    for name, args in (("transpose_", (0, 2)), ("swapaxes_", (1, -1)), ("swapdims_", (0, 1))):
        x, t = tr.tensor(a), torch.tensor(a)
        assert getattr(x, name)(*args) is x
        getattr(t, name)(*args)
        _same(x, t)
    x, t = tr.tensor(a[0]), torch.tensor(a[0])
    x.t_()
    t.t_()
    _same(x, t)
    v = tr.tensor([1.0, 2.0])
    assert v.t_() is v and v.shape == (2,)
    # recorded: the gradient goes back through the transposition
    w = tr.tensor(a[0], requires_grad=True)
    y = w * 1
    y.t_()
    (y * tr.tensor(np.arange(12.0).reshape(4, 3))).sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), np.arange(12.0).reshape(4, 3).T)
    # a view taken before stays in step with the tensor
    x = tr.tensor(a[0])
    row = x[0]
    x.t_()
    x[0, 0] = 100.0
    assert row.numpy()[0] == 100.0
    with pytest.raises(RuntimeError, match="leaf"):
        tr.ones(2, 3, requires_grad=True).t_()
    with pytest.raises(ValueError, match="at most 2 dims"):
        tr.ones(2, 2, 2).t_()
    with pytest.raises(ValueError, match="out of range"):
        tr.ones(2, 3).transpose_(0, 2)


@pytest.mark.torch
def test_top_level_in_place_functions_match_torch():
    torch = _torch()
    a = _rng(14).uniform(0.1, 0.9, (2, 3))
    for name in ("abs_", "acos_", "arccos_", "asin_", "arcsin_", "atan_", "arctan_", "asinh_",
                 "arcsinh_", "atanh_", "arctanh_", "ceil_", "cos_", "cosh_", "deg2rad_",
                 "erf_", "erfc_", "exp2_", "exp_", "expm1_", "fix_", "floor_", "frac_", "i0_",
                 "log10_", "log1p_", "log2_", "log_", "logit_", "neg_", "negative_",
                 "rad2deg_", "reciprocal_", "relu_", "round_", "rsqrt_", "sigmoid_", "sin_",
                 "sinc_", "sinh_", "sqrt_", "square_", "tan_", "tanh_", "trunc_", "zero_",
                 "nan_to_num_", "detach_"):
        x, t = tr.tensor(a), torch.tensor(a)
        assert getattr(tr, name)(x) is x, name
        getattr(torch, name)(t)
        np.testing.assert_allclose(x.numpy(), t.numpy(), rtol=1e-14, err_msg=name)
    x, t = tr.tensor(a + 1), torch.tensor(a + 1)
    tr.acosh_(x), torch.acosh_(t)
    tr.arccosh_(x), torch.arccosh_(t)
    np.testing.assert_allclose(x.numpy(), t.numpy(), rtol=1e-14)
    for name, args in (("clamp_", (0.3, 0.6)), ("clip_", (0.3, 0.6)), ("clamp_min_", (0.5,)),
                       ("clamp_max_", (0.5,)), ("fill_", (2.0,)), ("xlogy_", (2.0,)),
                       ("ldexp_", (torch.tensor([2]),))):
        x, t = tr.tensor(a), torch.tensor(a)
        getattr(tr, name)(x, *(tr.tensor(v.numpy()) if hasattr(v, "numpy") else v
                               for v in args))
        getattr(torch, name)(t, *args)
        np.testing.assert_allclose(x.numpy(), t.numpy(), rtol=1e-14, err_msg=name)
    i, t = tr.tensor([4, 6]), torch.tensor([4, 6])
    tr.gcd_(i, tr.tensor([6, 4])), torch.gcd_(t, torch.tensor([6, 4]))
    tr.lcm_(i, tr.tensor([3, 5])), torch.lcm_(t, torch.tensor([3, 5]))
    _same(i, t)
    x = tr.zeros(3)
    tr.index_put_(x, (tr.tensor([0, 2]),), tr.tensor([1.0, 2.0]))
    np.testing.assert_array_equal(x.numpy(), [1.0, 0.0, 2.0])
    x = tr.tensor(a)
    tr.dropout_(x, 0.0, True)
    np.testing.assert_array_equal(x.numpy(), a)
    tr.alpha_dropout_(x, 0.5, False), tr.feature_alpha_dropout_(x, 0.5, False)
    np.testing.assert_array_equal(x.numpy(), a)


# ---- aliases and queries -------------------------------------------------------------------


@pytest.mark.torch
def test_aliases_match_torch():
    torch = _torch()
    a, b = _rng(15).standard_normal((2, 3)), _rng(16).standard_normal(3)
    for name in ("multiply", "divide", "subtract"):
        _compare_with_torch(lambda s, t, n=name: getattr(tr, n)(s, t),
                            lambda s, t, n=name: getattr(torch, n)(s, t), [a, b])
        _compare_with_torch(lambda s, t, n=name: getattr(s, n)(t),
                            lambda s, t, n=name: getattr(s, n)(t), [a, b])
    _compare_with_torch(lambda s, t: tr.subtract(s, t, alpha=3),
                        lambda s, t: torch.subtract(s, t, alpha=3), [a, b])
    _same(tr.divide(tr.tensor(a), tr.tensor(b), rounding_mode="trunc"),
          torch.divide(torch.tensor(a), torch.tensor(b), rounding_mode="trunc"))
    for name in ("greater", "greater_equal", "less", "less_equal", "not_equal"):
        _same(getattr(tr, name)(tr.tensor(a), tr.tensor(b)),
              getattr(torch, name)(torch.tensor(a), torch.tensor(b)))
        _same(getattr(tr.tensor(a), name)(0.0), getattr(torch.tensor(a), name)(0.0))
    _compare_with_torch(lambda y: tr.trapz(y), lambda y: torch.trapz(y), [a])
    _compare_with_torch(lambda y, x: tr.trapz(y, x, dim=1), lambda y, x: torch.trapz(y, x),
                        [a, np.cumsum(np.abs(b))])
    _compare_with_torch(lambda y: tr.trapz(y, dx=0.5, dim=0),
                        lambda y: torch.trapz(y, dx=0.5, dim=0), [a])
    m = _rng(17).standard_normal((2, 3, 4))
    _compare_with_torch(lambda s: s.adjoint(), lambda s: s.adjoint(), [m])
    _compare_with_torch(lambda s: s.mH, lambda s: s.mH, [m])
    _compare_with_torch(lambda s: s.H, lambda s: s.H, [a])
    _compare_with_torch(lambda s, t: s.ger(t), lambda s, t: s.ger(t), [b, b])


@pytest.mark.torch
def test_queries_match_torch():
    torch = _torch()
    for data, dtype in (([1, 2], None), ([True], None), ([1], "uint8"), ([1.0], None),
                        ([1.0, 2.0, 3.0], "float64"), ([[1, 2]], "int32")):
        x = tr.tensor(data, dtype=dtype)
        t = torch.tensor(data, dtype=getattr(torch, dtype) if dtype else None)
        assert x.is_signed() == t.is_signed() and tr.is_signed(x) == t.is_signed()
        assert x.nbytes == t.nbytes and x.itemsize == t.itemsize
        assert tr.is_complex(x) is False
        assert x.is_same_size(tr.ones(*x.shape)) and tr.is_same_size(x, tr.ones(*x.shape))
        assert not x.is_same_size(tr.ones(7))
    for v in (0.0, 2.5, [0], [[3]], True):
        assert tr.tensor(v).is_nonzero() == torch.tensor(v).is_nonzero()
        assert tr.is_nonzero(tr.tensor(v)) == torch.is_nonzero(torch.tensor(v))
    for bad, match in ((tr.ones(2), "more than one"), (tr.ones(0), "no values")):
        with pytest.raises(RuntimeError, match=match):
            bad.is_nonzero()
    a = np.arange(10.0)
    for sizes in ([3, 7], [0, 10], [2, 3, 5]):
        ours = tr.split_with_sizes(tr.tensor(a), sizes)
        theirs = torch.split_with_sizes(torch.tensor(a), sizes)
        assert len(ours) == len(theirs)
        for o, t in zip(ours, theirs):
            _same(o, t)
    m = np.arange(12.0).reshape(3, 4)
    for o, t in zip(tr.tensor(m).split_with_sizes([1, 3], dim=1),
                    torch.tensor(m).split_with_sizes([1, 3], dim=1)):
        _same(o, t)
    with pytest.raises(ValueError, match="add up to 10"):
        tr.tensor(a).split_with_sizes([3, 3])


@pytest.mark.torch
def test_unravel_index_and_scalar_tensor_match_torch():
    torch = _torch()
    for idx, shape in (([5, 0, 3], (2, 3)), (7, (2, 2, 2)), ([[1, 2], [3, 4]], (5,)),
                       ([-1, 6], (2, 3)), ([3], [4, 1])):
        ours = tr.unravel_index(tr.tensor(idx), shape)
        theirs = torch.unravel_index(torch.tensor(idx), shape)
        for o, t in zip(ours, theirs, strict=True):
            _same(o, t)
    with pytest.raises(TypeError, match="integer dtype"):
        tr.unravel_index(tr.tensor([1.0]), (2,))
    with pytest.raises(ValueError, match="non-negative"):
        tr.unravel_index(tr.tensor([1]), (-2,))
    for v, dtype in ((3, None), (True, None), (2.5, None), (4, "float64"), (1, "int64")):
        t_dtype = getattr(torch, dtype) if dtype else None
        _same(tr.scalar_tensor(v, dtype=dtype), torch.scalar_tensor(v, dtype=t_dtype))
    with pytest.raises(TypeError, match="number"):
        tr.scalar_tensor(tr.ones(1))
    x = tr.tensor([1.0, 2.0], requires_grad=True)
    y = tr.fill(x * 2, 7.0)
    _same(y, torch.fill(torch.tensor([1.0, 2.0]), 7.0))
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.0])
    e = tr.empty_strided((2, 3), (1, 2), dtype="float64")
    assert e.shape == (2, 3) and e.dtype == np.float64 and e.is_contiguous()
    n = tr.ones(1).new_empty_strided((4,), (2,))
    assert n.shape == (4,) and n.dtype == np.float32
    with pytest.raises(ValueError, match="strides"):
        tr.empty_strided((2, 3), (1,))


# ---- histogram, histogramdd, gradient, index_reduce -----------------------------------------


@pytest.mark.torch
def test_histogram_matches_torch():
    torch = _torch()
    a = _rng(18).standard_normal(50)
    w = _rng(19).uniform(0, 2, 50)
    cases = [dict(bins=5), dict(bins=4, range=(-1.0, 1.0)), dict(bins=3, density=True),
             dict(bins=6, weight=w), dict(bins=6, weight=w, density=True, range=(-2.0, 3.0))]
    for kw in cases:
        ours = tr.histogram(tr.tensor(a), **{k: tr.tensor(v) if isinstance(v, np.ndarray)
                                             else v for k, v in kw.items()})
        theirs = torch.histogram(torch.tensor(a), **{k: torch.tensor(v) if isinstance(
            v, np.ndarray) else v for k, v in kw.items()})
        _same(ours.hist, theirs.hist, exact=False)
        _same(ours.bin_edges, theirs.bin_edges, exact=False)
    edges = np.array([-3.0, -1.0, 0.0, 0.5, 3.0])
    ours = tr.tensor(a).histogram(tr.tensor(edges))
    theirs = torch.tensor(a).histogram(torch.tensor(edges))
    _same(ours[0], theirs[0]), _same(ours[1], theirs[1])
    for data in ([1.0, 1.0, 1.0], [], [0.0, 1, 2, 3, 7]):  # equal min and max, none, edges
        _same(tr.histogram(tr.tensor(data), bins=3).hist,
              torch.histogram(torch.tensor(data), bins=3).hist)
    _same(tr.histogram(tr.tensor([0.0, 1, 7, INF]), bins=tr.tensor([0.0, 1, 7])).hist,
          torch.histogram(torch.tensor([0.0, 1, 7, INF]), bins=torch.tensor([0.0, 1, 7])).hist)
    f = a.astype(np.float32)
    _same(tr.histogram(tr.tensor(f), 4).hist, torch.histogram(torch.tensor(f), 4).hist)
    with pytest.raises(TypeError, match="floating-point"):
        tr.histogram(tr.tensor([1, 2]), bins=3)
    with pytest.raises(ValueError, match="not finite"):
        tr.histogram(tr.tensor([1.0, NAN]), bins=3)
    with pytest.raises(ValueError, match="min should not exceed max"):
        tr.histogram(tr.tensor([1.0]), bins=3, range=(4.0, 3.0))
    with pytest.raises(ValueError, match="increasing"):
        tr.histogram(tr.tensor([1.0]), bins=tr.tensor([2.0, 1.0]))
    with pytest.raises(ValueError, match="weight"):
        tr.histogram(tr.tensor([1.0]), bins=3, weight=tr.ones(2))


@pytest.mark.torch
def test_histogramdd_matches_torch():
    torch = _torch()
    p = _rng(20).standard_normal((40, 2))
    w = _rng(21).uniform(0, 1, 40)
    for kw in (dict(bins=[3, 4]), dict(bins=2, density=True),
               dict(bins=[2, 3], range=[-1.0, 1.0, -2.0, 2.0], weight=w)):
        ours = tr.histogramdd(tr.tensor(p), **{k: tr.tensor(v) if isinstance(v, np.ndarray)
                                               else v for k, v in kw.items()})
        theirs = torch.histogramdd(torch.tensor(p), **{k: torch.tensor(v) if isinstance(
            v, np.ndarray) else v for k, v in kw.items()})
        _same(ours.hist, theirs.hist, exact=False)
        for o, t in zip(ours.bin_edges, theirs.bin_edges, strict=True):
            _same(o, t, exact=False)
    edges = [np.array([-2.0, 0.0, 2.0]), np.array([-1.0, 0.5, 1.0, 3.0])]
    ours = tr.histogramdd(tr.tensor(p), [tr.tensor(e) for e in edges])
    theirs = torch.histogramdd(torch.tensor(p), [torch.tensor(e) for e in edges])
    _same(ours.hist, theirs.hist)
    with pytest.raises(ValueError, match="3 bins for 2 dimensions"):
        tr.histogramdd(tr.tensor(p), [2, 2, 2])
    with pytest.raises(ValueError, match="range needs 4"):
        tr.histogramdd(tr.tensor(p), 2, range=[0.0, 1.0])


@pytest.mark.torch
def test_gradient_matches_torch():
    torch = _torch()
    a = _rng(22).standard_normal((4, 5))
    xs = [np.cumsum(_rng(23).uniform(0.5, 2, 4)), np.cumsum(_rng(24).uniform(0.5, 2, 5))]
    cases = [dict(), dict(spacing=2.0), dict(spacing=[0.5, 3.0]), dict(dim=1),
             dict(dim=[0], edge_order=2), dict(spacing=1.5, edge_order=2),
             dict(spacing=[xs[1]], dim=1), dict(spacing=xs, edge_order=2),
             dict(spacing=xs, edge_order=1)]
    for kw in cases:
        def ours(x, kw=kw):
            k = dict(kw)
            if "spacing" in k and isinstance(k["spacing"], list) and \
                    isinstance(k["spacing"][0], np.ndarray):
                k["spacing"] = [tr.tensor(v) for v in k["spacing"]]
            return tr.gradient(x, **k)

        def theirs(t, kw=kw):
            k = dict(kw)
            if "spacing" in k and isinstance(k["spacing"], list) and \
                    isinstance(k["spacing"][0], np.ndarray):
                k["spacing"] = [torch.tensor(v) for v in k["spacing"]]
            return torch.gradient(t, **k)

        _compare_with_torch(ours, theirs, [a], atol=1e-12)
    _same(tr.gradient(tr.tensor([1, 4, 9, 16]))[0], torch.gradient(torch.tensor([1, 4, 9,
                                                                                 16]))[0])
    with pytest.raises(ValueError, match="at least edge_order"):
        tr.gradient(tr.tensor([1.0, 2.0]), edge_order=2)
    with pytest.raises(ValueError, match="edge_order must be 1 or 2"):
        tr.gradient(tr.ones(4), edge_order=3)
    with pytest.raises(ValueError, match="2 spacings for 1 axes"):
        tr.gradient(tr.ones(4), spacing=[1.0, 2.0])
    with pytest.raises(ValueError, match="coordinates"):
        tr.gradient(tr.ones(4), spacing=[tr.ones(3)])


@pytest.mark.parametrize("device", DEVICES)
@given(x=tst.tensors(tst.shapes(min_dims=1, min_side=3), requires_grad=True))
def test_gradient_gradients(device, x):
    x = tr.tensor(x.numpy(), device=device, requires_grad=True)
    assert gradcheck(lambda t: tr.gradient(t, edge_order=2), [x])
    coords = tr.tensor(np.cumsum(np.arange(x.shape[0]) * 0.1 + 0.5), device=device,
                       requires_grad=True)
    assert gradcheck(lambda t, c: tr.gradient(t, spacing=[c], dim=0), [x, coords])


@pytest.mark.torch
@pytest.mark.filterwarnings("ignore:index_reduce.*beta")
@pytest.mark.parametrize("reduce", ["prod", "mean", "amax", "amin"])
@pytest.mark.parametrize("include_self", [True, False])
def test_index_reduce_matches_torch(reduce, include_self):
    torch = _torch()
    x = _rng(25).permutation(12).reshape(3, 4) * 0.25 + 0.5
    src = _rng(26).permutation(20).reshape(5, 4) * 0.3 - 2.0
    index = np.array([0, 2, 0, 1, 0])
    _compare_with_torch(
        lambda a, s: a.index_reduce(0, tr.tensor(index), s, reduce, include_self=include_self),
        lambda a, s: a.index_reduce(0, torch.tensor(index), s, reduce,
                                    include_self=include_self), [x, src])
    src1 = _rng(27).permutation(6).reshape(3, 2) * 0.5 + 0.1
    _compare_with_torch(
        lambda a, s: tr.index_reduce(a, 1, tr.tensor([3, 3]), s, reduce,
                                     include_self=include_self),
        lambda a, s: torch.index_reduce(a, 1, torch.tensor([3, 3]), s, reduce,
                                        include_self=include_self), [x, src1])
    ints = tr.tensor([1, 2]).index_reduce(0, tr.tensor([0]), tr.tensor([5]), reduce,
                                          include_self=include_self)
    _same(ints, torch.tensor([1, 2]).index_reduce(0, torch.tensor([0]), torch.tensor([5]),
                                                  reduce, include_self=include_self))
    y = tr.tensor(x)
    assert y.index_reduce_(0, tr.tensor(index), tr.tensor(src), reduce) is y


def test_index_reduce_errors():
    x = tr.ones(3, 2)
    with pytest.raises(ValueError, match="reduce must be one of prod"):
        x.index_reduce(0, tr.tensor([0]), tr.ones(1, 2), "sum")
    with pytest.raises(TypeError, match="same dtype"):
        x.index_reduce(0, tr.tensor([0]), tr.ones(1, 2, dtype="float64"), "prod")
    with pytest.raises(TypeError, match="1-D integer"):
        x.index_reduce(0, tr.tensor([0.0]), tr.ones(1, 2), "prod")
    with pytest.raises(ValueError, match="one per index"):
        x.index_reduce(0, tr.tensor([0, 1]), tr.ones(1, 2), "prod")


# ---- functional ops at the top level --------------------------------------------------------


@pytest.mark.torch
def test_functional_at_top_level_match_torch():
    torch = _torch()
    rng = _rng(28)
    x3, w3 = rng.standard_normal((2, 4, 7)), rng.standard_normal((3, 4, 2))
    x4, w4 = rng.standard_normal((2, 4, 5, 6)), rng.standard_normal((3, 2, 3, 3))
    x5 = rng.standard_normal((1, 2, 4, 4, 4))
    g, b = rng.standard_normal(4), rng.standard_normal(4)
    cases = [
        (lambda x, w: tr.conv1d(x, w, None, 2, 1), lambda x, w: torch.conv1d(x, w, None, 2, 1),
         [x3, w3]),
        (lambda x, w: tr.conv2d(x, w, groups=2, padding=1),
         lambda x, w: torch.conv2d(x, w, groups=2, padding=1), [x4, w4[:2].reshape(4, 1, 3, 3)
                                                                [:, :2] if False else
                                                                rng.standard_normal((4, 2, 3,
                                                                                     3))]),
        (lambda x: tr.conv3d(x, tr.ones(1, 2, 2, 2, 2, dtype="float64")),
         lambda x: torch.conv3d(x, torch.ones(1, 2, 2, 2, 2, dtype=torch.float64)), [x5]),
        (lambda x, w: tr.conv_transpose1d(x, w, None, 2, 1, 1),
         lambda x, w: torch.conv_transpose1d(x, w, None, 2, 1, 1), [x3, w3.transpose(1, 0, 2)]),
        (lambda x, w: tr.conv_transpose2d(x, w, stride=2),
         lambda x, w: torch.conv_transpose2d(x, w, stride=2), [x4, rng.standard_normal(
             (4, 3, 2, 2))]),
        (lambda x: tr.conv_transpose3d(x, tr.ones(2, 1, 2, 2, 2, dtype="float64")),
         lambda x: torch.conv_transpose3d(x, torch.ones(2, 1, 2, 2, 2, dtype=torch.float64)),
         [x5]),
        (lambda x, s, t: tr.layer_norm(x, [7], None, None, 1e-3),
         lambda x, s, t: torch.layer_norm(x, [7], None, None, 1e-3), [x3, g, b]),
        (lambda x, s, t: tr.group_norm(x, 2, s, t), lambda x, s, t: torch.group_norm(x, 2, s, t),
         [x3, g, b]),
        (lambda x, s, t: tr.batch_norm(x, s, t, None, None, True, 0.1, 1e-5, False),
         lambda x, s, t: torch.batch_norm(x, s, t, None, None, True, 0.1, 1e-5, False),
         [x3, g, b]),
        (lambda x, s, t: tr.instance_norm(x, s, t, None, None, True, 0.1, 1e-5, False),
         lambda x, s, t: torch.instance_norm(x, s, t, None, None, True, 0.1, 1e-5, False),
         [x3, g, b]),
        (lambda x: tr.rms_norm(x, [7]), lambda x: torch.rms_norm(x, [7]), [x3]),
        (lambda w: tr.embedding(w, tr.tensor([[0, 3], [3, 1]]), 3),
         lambda w: torch.embedding(w, torch.tensor([[0, 3], [3, 1]]), 3), [w3[0]]),
        (lambda w: tr.embedding(w, tr.tensor([2, 2])),
         lambda w: torch.embedding(w, torch.tensor([2, 2])), [w3[0]]),
        (lambda x: tr.dropout(x, 0.3, False), lambda x: torch.dropout(x, 0.3, False), [x3]),
        (lambda x: tr.alpha_dropout(x, 0.3, False), lambda x: torch.alpha_dropout(x, 0.3, False),
         [x3]),
        (lambda x: tr.feature_alpha_dropout(x, 0.3, False),
         lambda x: torch.feature_alpha_dropout(x, 0.3, False), [x3]),
        (lambda x: tr.pixel_shuffle(x, 2), lambda x: torch.pixel_shuffle(x, 2), [x4]),
        (lambda x: tr.pixel_unshuffle(x[..., :4, :4], 2),
         lambda x: torch.pixel_unshuffle(x[..., :4, :4], 2), [x4]),
        (lambda x: tr.channel_shuffle(x, 2), lambda x: torch.channel_shuffle(x, 2), [x4]),
        (lambda x: tr.pdist(x[0]), lambda x: torch.pdist(x[0]), [x3]),
        (lambda x: tr.pdist(x[0], 1.5), lambda x: torch.pdist(x[0], 1.5), [x3]),
        (lambda x, y: tr.cosine_similarity(x, y), lambda x, y: torch.cosine_similarity(x, y),
         [x3, x3[::-1].copy()]),
        (lambda x, y: tr.pairwise_distance(x, y, 3, 1e-6, True),
         lambda x, y: torch.pairwise_distance(x, y, 3, 1e-6, True), [x3, x3[::-1].copy()]),
        (lambda x, y, w: tr.bilinear(x, y, w), lambda x, y, w: torch.bilinear(x, y, w),
         [x3[:, 0, :4], x3[:, 1, :4], rng.standard_normal((3, 4, 4))]),
        (lambda x: tr.max_pool1d(x, 2), lambda x: torch.max_pool1d(x, 2), [x3]),
        (lambda x: tr.max_pool1d(x, 3, 2, 1, 1, True),
         lambda x: torch.max_pool1d(x, 3, 2, 1, 1, True), [x3]),
        (lambda x: tr.max_pool2d(x, 2, [1, 2]), lambda x: torch.max_pool2d(x, 2, [1, 2]), [x4]),
        (lambda x: tr.max_pool3d(x, 2), lambda x: torch.max_pool3d(x, 2), [x5]),
        (lambda x: tr.avg_pool1d(x, 3, 2, 1, False, False),
         lambda x: torch.avg_pool1d(x, 3, 2, 1, False, False), [x3]),
        (lambda x: tr.adaptive_avg_pool1d(x, 3), lambda x: torch.adaptive_avg_pool1d(x, 3),
         [x3]),
        (lambda x: tr.adaptive_max_pool1d(x, 3)[0],
         lambda x: torch.adaptive_max_pool1d(x, 3)[0], [x3]),
        (lambda x: tr.max_pool1d_with_indices(x, 2)[0],
         lambda x: torch.max_pool1d_with_indices(x, 2)[0], [x3]),
        (lambda x: tr.constant_pad_nd(x, [1, 2, -1, 0], 0.5),
         lambda x: torch.constant_pad_nd(x, [1, 2, -1, 0], 0.5), [x3]),
    ]
    for k, (ours, theirs, arrays) in enumerate(cases):
        try:
            _compare_with_torch(ours, theirs, arrays, atol=1e-12)
        except AssertionError as e:
            raise AssertionError(f"case {k}: {e}") from None
    _same(tr.adaptive_max_pool1d(tr.tensor(x3), 3)[1],
          torch.adaptive_max_pool1d(torch.tensor(x3), 3)[1])


@pytest.mark.torch
def test_losses_at_top_level_match_torch():
    torch = _torch()
    rng = _rng(29)
    a, b = rng.standard_normal((4, 5)), rng.standard_normal((4, 5))
    y = np.array([1.0, -1.0, -1.0, 1.0])
    p = rng.uniform(0.1, 0.9, (4, 5))

    def loss_cases(r):
        return [
            (lambda x, t: tr.kl_div(x, t, r), lambda x, t: torch.kl_div(x, t, r), [a, p]),
            (lambda x, t: tr.kl_div(x, t, r, log_target=True),
             lambda x, t: torch.kl_div(x, t, r, log_target=True), [a, b]),
            (lambda x, t: tr.binary_cross_entropy_with_logits(x, t, None, tr.tensor(
                np.full(5, 2.0)), r),
             lambda x, t: torch.binary_cross_entropy_with_logits(x, t, None, torch.tensor(
                 np.full(5, 2.0)), r), [a, p]),
            (lambda u, v: tr.cosine_embedding_loss(u, v, tr.tensor(y), 0.1, r),
             lambda u, v: torch.cosine_embedding_loss(u, v, torch.tensor(y), 0.1, r), [a, b]),
            (lambda u: tr.hinge_embedding_loss(u, tr.tensor(np.sign(b)), 0.5, r),
             lambda u: torch.hinge_embedding_loss(u, torch.tensor(np.sign(b)), 0.5, r), [a]),
            (lambda u, v: tr.margin_ranking_loss(u, v, tr.tensor(np.sign(b)), 0.2, r),
             lambda u, v: torch.margin_ranking_loss(u, v, torch.tensor(np.sign(b)), 0.2, r),
             [a, b]),
            (lambda u, v, w: tr.triplet_margin_loss(u, v, w, 1.0, 2.0, 1e-6, True, r),
             lambda u, v, w: torch.triplet_margin_loss(u, v, w, 1.0, 2.0, 1e-6, True, r),
             [a, b, a[::-1].copy()]),
            (lambda u: tr.poisson_nll_loss(u, tr.tensor(p * 3), True, True, 1e-8, r),
             lambda u: torch.poisson_nll_loss(u, torch.tensor(p * 3), True, True, 1e-8, r),
             [a]),
        ]

    for r in (0, 1, 2):
        cases = loss_cases(r)
        for k, (ours, theirs, arrays) in enumerate(cases):
            try:
                _compare_with_torch(ours, theirs, arrays, atol=1e-12)
            except AssertionError as e:
                raise AssertionError(f"case {k}, reduction {r}: {e}") from None
    logits = rng.standard_normal((6, 2, 4))
    targets, il, tl = np.array([[1, 2], [3, 3]]), [6, 5], [2, 2]
    for r in (0, 1, 2):  # (through log_softmax: PyTorch's ctc gradient assumes one)
        _compare_with_torch(
            lambda q, r=r: tr.ctc_loss(q.log_softmax(-1), tr.tensor(targets), il, tl, 0, r),
            lambda q, r=r: torch.ctc_loss(q.log_softmax(-1), torch.tensor(targets), il, tl, 0,
                                          r), [logits])
    with pytest.raises(TypeError, match="reduction must be an int"):
        tr.kl_div(tr.ones(2), tr.ones(2), "mean")


def test_functional_at_top_level_errors():
    with pytest.raises(NotImplementedError, match="scale_grad_by_freq"):
        tr.embedding(tr.ones(3, 2), tr.tensor([0]), -1, True)
    with pytest.raises(TypeError):
        tr.dropout(tr.ones(2))  # (p and train are required, as in torch)
    with pytest.raises(TypeError, match="reduction"):
        tr.hinge_embedding_loss(tr.ones(2), tr.ones(2), 1.0, True)


# ---- windows -------------------------------------------------------------------------------


@pytest.mark.torch
@pytest.mark.parametrize("name, args", [("hann_window", ()), ("hamming_window", ()),
                                        ("hamming_window", (0.5, 0.3)),
                                        ("blackman_window", ()), ("bartlett_window", ()),
                                        ("kaiser_window", ()), ("kaiser_window", (5.0,))])
def test_windows_match_torch(name, args):
    torch = _torch()
    for n in (0, 1, 2, 3, 8, 11):
        for periodic in (True, False):
            for dtype in ("float64", "float32"):
                ours = getattr(tr, name)(n, periodic, *args, dtype=dtype)
                theirs = getattr(torch, name)(n, periodic, *args, dtype=getattr(torch, dtype))
                np.testing.assert_allclose(ours.numpy(), theirs.numpy(), atol=1e-15 if
                                           dtype == "float64" else 1e-6)
                assert ours.dtype == np.dtype(dtype)
    assert getattr(tr, name)(6).dtype == np.float32  # (the default dtype)
    np.testing.assert_allclose(getattr(tr, name)(6).numpy(), getattr(torch, name)(6).numpy(),
                               atol=1e-6)
    with pytest.raises(TypeError, match="floating point"):
        getattr(tr, name)(3, dtype="int64")
    with pytest.raises(ValueError, match="non-negative"):
        getattr(tr, name)(-1)


# ---- linear algebra under PyTorch's older names, norms, low-rank SVD -----------------------


@pytest.mark.torch
@pytest.mark.filterwarnings("ignore:torch.(lu|qr|triangular_solve|lu_solve) is deprecated")
@pytest.mark.filterwarnings("ignore:.*(nuclear|frobenius)_norm is deprecated")
def test_legacy_linalg_matches_torch():
    torch = _torch()
    rng = _rng(30)
    A = rng.standard_normal((2, 4, 4)) + 4 * np.eye(4)
    B = rng.standard_normal((2, 4, 3))
    spd = A @ A.transpose(0, 2, 1)
    ours, theirs = tr.lu(tr.tensor(A)), torch.lu(torch.tensor(A))
    _same(ours[0], theirs[0], exact=False), _same(ours[1], theirs[1])
    _same(tr.tensor(A).lu(get_infos=True)[2], torch.tensor(A).lu(get_infos=True)[2])
    _compare_with_torch(lambda a: tr.lu(a)[0], lambda a: torch.lu(a)[0], [A])
    _compare_with_torch(lambda a: tr.qr(a), lambda a: torch.qr(a), [A[0, :, :3]])
    _compare_with_torch(lambda a: a.qr(False), lambda a: a.qr(False), [A[0]])
    for upper in (True, False):
        for transpose in (True, False):
            for unit in (True, False):
                _compare_with_torch(
                    lambda b, a, k=(upper, transpose, unit): tr.triangular_solve(b, a, *k),
                    lambda b, a, k=(upper, transpose, unit): torch.triangular_solve(b, a, *k),
                    [B, A])
    L = np.linalg.cholesky(spd)
    for upper in (False, True):
        factor = L.transpose(0, 2, 1).copy() if upper else L
        # (only the factor's triangle is read: PyTorch's gradient also fills the other one,
        # so both go through triu/tril here)
        def tri(f, u=upper):
            return f.triu() if u else f.tril()

        _compare_with_torch(lambda b, f, u=upper: tr.cholesky_solve(b, tri(f), u),
                            lambda b, f, u=upper: torch.cholesky_solve(b, tri(f), u),
                            [B, factor])

        _compare_with_torch(lambda f, u=upper: tr.cholesky_inverse(tri(f[0]), u),
                            lambda f, u=upper: torch.cholesky_inverse(tri(f[0]), u), [factor])
        _compare_with_torch(lambda f, u=upper: tri(f[1]).cholesky_inverse(u),
                            lambda f, u=upper: tri(f[1]).cholesky_inverse(u), [factor])
        np.testing.assert_allclose(tr.cholesky_inverse(tr.tensor(factor[0]), upper).numpy(),
                                   np.linalg.inv(spd[0]), rtol=1e-12)
    LU_, piv = torch.linalg.lu_factor(torch.tensor(A))
    _compare_with_torch(lambda b, lu: b.lu_solve(lu, tr.tensor(piv.numpy())),
                        lambda b, lu: b.lu_solve(lu, piv), [B, LU_.numpy()])
    _compare_with_torch(lambda a: tr.nuclear_norm(a[0]), lambda a: torch.nuclear_norm(a[0]),
                        [A])
    _compare_with_torch(lambda a: tr.nuclear_norm(a, [1, 2], True),
                        lambda a: torch.nuclear_norm(a, [1, 2], True), [A])
    _compare_with_torch(lambda a: tr.frobenius_norm(a, [0, 2]),
                        lambda a: torch.frobenius_norm(a, [0, 2]), [A])
    _compare_with_torch(lambda a: tr.frobenius_norm(a, 1, True),
                        lambda a: torch.frobenius_norm(a, 1, True), [A])
    for name in ("matrix_rank", "solve", "lstsq", "eig", "symeig"):
        with pytest.raises(RuntimeError, match="removed"):
            getattr(tr, name)(tr.tensor(A[0]))
    with pytest.raises(RuntimeError, match="removed"):
        tr.tensor(A[0]).solve(tr.tensor(A[0]))
    with pytest.raises(ValueError, match="singular"):
        tr.lu(tr.zeros(2, 2))


@pytest.mark.parametrize("device", DEVICES)
def test_svd_lowrank_reconstructs(device):
    rng = _rng(31)
    low = rng.standard_normal((2, 7, 3)) @ rng.standard_normal((2, 3, 6))  # rank 3
    A = tr.tensor(low, device=device)
    U, S, V = tr.svd_lowrank(A, q=4, niter=2)
    assert U.shape == (2, 7, 4) and S.shape == (2, 4) and V.shape == (2, 6, 4)
    np.testing.assert_allclose(((U * S.unsqueeze(-2)) @ V.mT).numpy(), low, atol=1e-10)
    np.testing.assert_allclose(S.numpy()[:, :3], np.linalg.svd(low)[1][:, :3], rtol=1e-10)
    M = tr.tensor(rng.standard_normal((2, 7, 6)), device=device)
    U, S, V = tr.svd_lowrank(A + M, q=3, M=M)
    np.testing.assert_allclose(((U * S.unsqueeze(-2)) @ V.mT).numpy(), low, atol=1e-10)
    centred = low[0] - low[0].mean(0)
    U, S, V = tr.pca_lowrank(tr.tensor(low[0], device=device), q=3)
    np.testing.assert_allclose(((U * S) @ V.T).numpy(), centred, atol=1e-10)
    with pytest.raises(ValueError, match="q must be an int"):
        tr.svd_lowrank(A, q=9)
    with pytest.raises(ValueError, match="niter"):
        tr.svd_lowrank(A, q=2, niter=-1)


# ---- resize_, DLPack, frombuffer, settings -------------------------------------------------


@pytest.mark.torch
def test_resize_matches_torch():
    torch = _torch()
    a = np.arange(6.0)
    for size in ((2, 3), (4,), (3, 2), (0,), (6,)):
        x, t = tr.tensor(a), torch.tensor(a)
        assert x.resize_(*size) is x
        t.resize_(*size)
        _same(x, t)
    x, t = tr.tensor(a), torch.tensor(a)
    x.resize_((2, 4))  # grows: the new elements are zeros here (uninitialised there)
    t.resize_((2, 4))
    np.testing.assert_array_equal(x.numpy().reshape(-1)[:6], t.numpy().reshape(-1)[:6])
    np.testing.assert_array_equal(x.numpy().reshape(-1)[6:], [0.0, 0.0])
    y = tr.tensor(a)
    assert tr.resize_as_(y, tr.ones(3, 2)) is y and y.shape == (3, 2)
    w = tr.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="requires grad"):
        w.resize_(2)
    with tr.no_grad(), pytest.raises(RuntimeError, match="requires grad"):
        w.resize_(2)  # as torch's, under no_grad too
    assert w.detach().clone().resize_(2).shape == (2,) and w.shape == (3,)
    base = tr.ones(4)
    view = base[:2]
    with pytest.raises(RuntimeError, match="view"):
        view.resize_(3)
    with pytest.raises(RuntimeError, match="view"):
        base.resize_(3)
    with pytest.raises(ValueError, match=">= 0"):
        tr.ones(2).resize_(-1)


@pytest.mark.torch
def test_dlpack_and_frombuffer():
    torch = _torch()
    x = tr.tensor([1.0, 2.0, 3.0])
    np.testing.assert_array_equal(np.from_dlpack(x), x.numpy())
    np.testing.assert_array_equal(torch.from_dlpack(x).numpy(), x.numpy())
    t = torch.tensor([4.0, 5.0], dtype=torch.float64)
    y = tr.from_dlpack(t)
    assert y.dtype == np.float64 and y.device == "cpu"
    np.testing.assert_array_equal(y.numpy(), t.numpy())
    np.testing.assert_array_equal(tr.from_dlpack(tr.to_dlpack(x)).numpy(), x.numpy())
    np.testing.assert_array_equal(tr.from_dlpack(np.arange(3)).numpy(), np.arange(3))
    assert tr.from_dlpack(x) is x
    data = bytearray(np.arange(5, dtype=np.int32).tobytes())
    for kw in (dict(), dict(count=2, offset=4)):
        _same(tr.frombuffer(data, dtype="int32", **kw),
              torch.frombuffer(data, dtype=torch.int32, **kw))
    assert tr.frombuffer(data, dtype="float32", requires_grad=True).requires_grad
    with pytest.raises(ValueError, match="whole number"):
        tr.frombuffer(bytearray(b"abc"), dtype="int16")
    with pytest.raises(ValueError, match="offset"):
        tr.frombuffer(data, dtype="int32", offset=99)
    with pytest.raises(TypeError, match="buffer protocol"):
        tr.frombuffer([1, 2], dtype="int32")
    with pytest.raises(TypeError, match="Tensor"):
        tr.to_dlpack(np.ones(2))


def test_matmul_precision_and_default_device():
    assert tr.get_float32_matmul_precision() == "highest"
    try:
        tr.set_float32_matmul_precision("medium")
        assert tr.get_float32_matmul_precision() == "medium"
        with pytest.warns(UserWarning, match="no effect"):
            tr.set_float32_matmul_precision("fast")
        assert tr.get_float32_matmul_precision() == "medium"
    finally:
        tr.set_float32_matmul_precision("highest")
    assert tr.get_default_device() == "cpu"
    tr.set_default_device("cpu")
    tr.set_default_device(None)
    with pytest.raises(NotImplementedError, match="only 'cpu'"):
        tr.set_default_device("cuda")


# ---- the strict device ---------------------------------------------------------------------


def _strict_cases():
    rng = np.random.default_rng(40)
    a = rng.permutation(24).reshape(2, 3, 4) * 0.1 - 1.15  # distinct, in (-1.2, 1.2)
    return {
        "sinh": tr.sinh, "cosh": tr.cosh, "asinh": tr.asinh, "exp2": tr.exp2,
        "atanh": lambda x: (x * 0.5).atanh(), "acosh": lambda x: (x.abs() + 1.1).acosh(),
        "fmax": lambda x: tr.fmax(x, x[0] * 0.9 + 0.01), "fmin": lambda x: x.fmin(x[1, 0]),
        "rsub": lambda x: tr.rsub(x, x[0], alpha=2),
        "polygamma": lambda x: tr.polygamma(3, x.abs() + 0.5) + tr.polygamma(1, x.abs() + 1),
        "igamma": lambda x: tr.igamma(x.abs() + 0.5, x[0].abs() + 0.2),
        "igammac": lambda x: tr.igammac(x.abs() + 0.5, 1.5),
        "hardshrink": lambda x: tr.hardshrink(x, 0.33), "prelu": lambda x: tr.prelu(
            x, x[0, :, 0] * 0 + 0.2), "threshold": lambda x: tr.threshold(x, 0.21, 3.0),
        "gradient": lambda x: tr.gradient(x, spacing=[x[0, :, 0].cumsum(0) * 0 + tr.tensor(
            [0.0, 1.0, 3.0], device=x.device)], dim=1, edge_order=2)[0],
        "index_reduce": lambda x: x.index_reduce(1, tr.tensor([0, 0, 2], device=x.device),
                                                 x * 2, "amax"),
        "transpose_": lambda x: (x * 1).transpose_(0, 2),
        "sinh_": lambda x: (x * 1).sinh_(), "cumprod_": lambda x: (x * 1).cumprod_(1),
        "cholesky_inverse": lambda x: tr.cholesky_inverse(x[0, :, :3].tril() + 3 * tr.tensor(
            np.eye(3), device=x.device)),
        "triangular_solve": lambda x: tr.triangular_solve(x[0], x[1, :, :3].triu() + 3 * tr.tensor(
            np.eye(3), device=x.device)).solution,
    }, a


@pytest.mark.parametrize("device", DEVICES)
def test_strict_device_equals_cpu(device):
    """Every new op's forward and backward through ``xp`` only, and the ones without a
    gradient."""
    cases, a = _strict_cases()
    assert_device_equals_cpu(cases, a, device)
    x = tr.tensor(a, device=device)
    others = {
        "nextafter": lambda: tr.nextafter(x, x[0]),
        "histogram": lambda: tr.histogram(x, 5).hist,
        "histogram edges": lambda: x.histogram(tr.tensor([-1.0, 0.0, 0.5, 1.0],
                                                         device=x.device)).hist,
        "histogramdd": lambda: tr.histogramdd(x.reshape(-1, 2), [2, 3], density=True).hist,
        "unravel_index": lambda: tr.unravel_index((x * 10).long().abs(), (3, 4))[0],
        "lt_": lambda: x.clone().lt_(x[0]), "logical_xor_": lambda: x.clone().logical_xor_(x),
        "windows": lambda: tr.hann_window(5, device=x.device) + tr.kaiser_window(
            5, device=x.device),
        "lu": lambda: tr.lu(x[0, :, :3] + tr.tensor(np.eye(3) * 3, device=x.device))[0],
    }
    for name, f in others.items():
        y = f()
        assert y.device == device, name
        with tr.no_grad():
            x = x.to("cpu")
            expected = f()
            x = x.to(device)
        np.testing.assert_allclose(y.numpy(), expected.numpy(), rtol=1e-14, err_msg=name)
