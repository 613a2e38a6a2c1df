"""log1p, expm1, erf, sign and the rounding ops (primitive ops), and what is built on them: the
activations gelu to hardswish, normalize and the distances, pad, and the losses l1, smooth L1,
Huber and KL divergence, with their nn modules.

Gradients against central differences in float64 on drawn shapes, on every device (second
derivatives too for the primitives); values and gradients against PyTorch, at the kinks too;
erf against math.erf to a few units in the last place; each module against its function, and
PyTorch's repr; the errors."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_rnn as tr
from tinygrad_rnn import functional as F
from tinygrad_rnn import nn
from tinygrad_rnn.testing import gradcheck, gradgradcheck
from tinygrad_rnn.testing import strategies as tst

from .conftest import DEVICES

# elementwise functions: any shape will do, and a full-mode gradcheck costs three passes per
# element
SMALL = tst.shapes(max_dims=3, max_side=2)


def _torch():
    return pytest.importorskip("torch")


def away_from(a: np.ndarray, *kinks: float) -> np.ndarray:
    """a with every element moved at least 1e-3 off each kink (where the derivative jumps,
    central differences straddle both sides)."""
    for k in kinks:
        a = np.where(np.abs(a - k) < 1e-3, k + 0.01, a)
    return a


def both(torch, a: np.ndarray, device: str = "cpu"):
    """The same array as our tensor and as torch's, both requiring grad."""
    return (tr.tensor(a, device=device, requires_grad=True),
            torch.tensor(a.copy(), requires_grad=True))


def check_against_torch(torch, ours, theirs, xs, ts, rtol: float = 1e-12, atol: float = 1e-15
                        ) -> None:
    """Value and the gradient of each input for one random upstream gradient."""
    y, u = ours(*xs), theirs(*ts)
    np.testing.assert_allclose(y.numpy(), u.detach().numpy(), rtol=rtol, atol=atol)
    assert y.shape == tuple(u.shape)
    g = np.random.default_rng(0).standard_normal(y.shape)
    y.backward(tr.tensor(g, device=y.device))
    u.backward(torch.tensor(g))
    for x, t in zip(xs, ts):
        np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=rtol, atol=atol)


# ---- primitives: log1p, expm1, erf --------------------------------------------------------

SMOOTH = {  # name: (reference on arrays, the domain's input)
    "log1p": (np.log1p, lambda a: np.abs(a) - 0.9),  # > -1
    "expm1": (np.expm1, lambda a: a),
    "erf": (np.vectorize(math.erf, otypes=[np.float64]), lambda a: a),
}


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("name", list(SMOOTH))
@given(a=tst.arrays(SMALL, min_value=-4.0, max_value=4.0))
def test_smooth_primitive_values_and_two_derivatives(name, device, a):
    ref, domain = SMOOTH[name]
    a = domain(a)
    x = tr.tensor(a, device=device, requires_grad=True)
    y = getattr(x, name)()
    np.testing.assert_allclose(y.numpy(), ref(a), rtol=1e-14, atol=1e-300)
    assert y.dtype == np.float64 and y.device == device
    op = getattr(tr, name)
    assert gradcheck(op, [x]) and gradgradcheck(op, [x])


def erf_inputs() -> np.ndarray:
    """Tiny to huge, both signs, dense where the method changes (at 2) and in the tail."""
    a = np.concatenate([
        np.logspace(-320, -1, 320), np.linspace(0.0, 7.0, 2801),
        np.nextafter(2.0, [0.0, 4.0]), [1.9999999, 2.0, 2.0000001, 5.9, 6.0, 6.1, 27.0, 1e300],
    ])
    return np.concatenate([a, -a])


@pytest.mark.parametrize("device", DEVICES)
def test_erf_is_exact_to_a_few_ulps_from_subnormals_to_the_tails(device):
    """Against math.erf (correctly rounded to within an ulp): ours is within a few ulps
    everywhere in float64, and correctly rounded in float32 (computed in float64); the
    limits, NaN and the sign of zero as math.erf and torch.erf."""
    a = erf_inputs()
    want = np.array([math.erf(v) for v in a])
    got = tr.tensor(a, device=device).erf().numpy()
    ulps = np.abs(got - want) / np.spacing(np.abs(want))
    assert ulps.max() <= 8, f"erf({a[np.argmax(ulps)]!r}) is {ulps.max()} ulps off"
    a32 = a[np.abs(a) < 1e30].astype(np.float32)
    want32 = np.array([math.erf(v) for v in a32.astype(np.float64)]).astype(np.float32)
    got32 = tr.tensor(a32, device=device).erf()
    assert got32.dtype == np.float32
    np.testing.assert_array_max_ulp(got32.numpy(), want32, maxulp=1)
    special = tr.tensor([np.inf, -np.inf, np.nan, -0.0, 0.0], device=device).erf().numpy()
    np.testing.assert_array_equal(special, [1.0, -1.0, np.nan, -0.0, 0.0])
    assert np.signbit(special[3]) and not np.signbit(special[4])


@pytest.mark.parametrize("device", DEVICES)
def test_log1p_expm1_are_exact_where_the_plain_formulas_round_away(device):
    tiny = np.array([1e-20, -1e-18, 3e-300, -5e-324])
    x = tr.tensor(tiny, device=device, requires_grad=True)
    np.testing.assert_array_equal(x.log1p().numpy(), np.log1p(tiny))
    np.testing.assert_array_equal(x.expm1().numpy(), np.expm1(tiny))
    # expm1's gradient is exp(x): exact in the far tail, where y + 1 would cancel to 0
    far = tr.tensor([-40.0, -700.0], dtype="float64", device=device, requires_grad=True)
    far.expm1().sum().backward()
    np.testing.assert_allclose(far.grad.numpy(), np.exp([-40.0, -700.0]), rtol=1e-15)


@pytest.mark.parametrize("name", list(SMOOTH))
def test_smooth_primitives_make_integers_float32_and_keep_float_dtypes(name):
    assert getattr(tr.tensor([1, 2]), name)().dtype == np.float32  # as torch
    for dtype in ("float32", "float64"):
        x = tr.tensor([0.5, 1.5], dtype=dtype, requires_grad=True)
        y = getattr(tr, name)(x)
        y.sum().backward()
        assert y.dtype == np.dtype(dtype) and x.grad.dtype == np.dtype(dtype)


@pytest.mark.torch
@pytest.mark.parametrize("name", list(SMOOTH))
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_smooth_primitives_match_torch_with_second_derivatives(name, dtype):
    torch = _torch()
    a = SMOOTH[name][1](np.array([-3.5, -1.2, -0.3, -1e-8, 0.0, 1e-20, 0.4, 1.1, 2.0, 3.7]))
    a = a.astype(dtype)
    v = np.random.default_rng(0).standard_normal(a.shape).astype(dtype)
    x, t = both(torch, a)
    y, u = getattr(x, name)(), getattr(torch, name)(t)
    tol = dict(rtol=2e-15, atol=1e-300) if dtype == "float64" else dict(rtol=3e-7, atol=1e-38)
    np.testing.assert_allclose(y.numpy(), u.detach().numpy(), **tol)
    (gx,) = tr.grad(y, x, tr.tensor(v), create_graph=True)
    (gt,) = torch.autograd.grad(u, t, torch.tensor(v), create_graph=True)
    np.testing.assert_allclose(gx.numpy(), gt.detach().numpy(), **tol)
    (ggx,) = tr.grad(gx, x, tr.tensor(v))
    (ggt,) = torch.autograd.grad(gt, t, torch.tensor(v))
    np.testing.assert_allclose(ggx.numpy(), ggt.numpy(), **tol)


# ---- primitives: sign and rounding ---------------------------------------------------------

STEPS = {"sign": np.sign, "floor": np.floor, "ceil": np.ceil, "round": np.round,
         "trunc": np.trunc}


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("name", list(STEPS))
@given(a=tst.arrays(SMALL, min_value=-4.0, max_value=4.0))
def test_step_primitive_values_and_zero_derivatives(name, device, a):
    a = np.floor(a * 4) / 4 + 0.125  # 1/8 or more off every integer and half: off the steps
    x = tr.tensor(a, device=device, requires_grad=True)
    np.testing.assert_array_equal(getattr(x, name)().numpy(), STEPS[name](a))
    op = getattr(tr, name)
    assert gradcheck(op, [x]) and gradgradcheck(op, [x])


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("name", list(STEPS))
def test_step_gradient_is_zero_even_for_an_infinite_upstream_gradient(name, device):
    x = tr.tensor([-1.5, 0.0, 2.5, np.nan], device=device, requires_grad=True)
    getattr(x, name)().backward(tr.tensor([np.inf, np.nan, 1.0, 1.0], device=device))
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.0, 0.0, 0.0])


@pytest.mark.torch
@pytest.mark.parametrize("name", list(STEPS))
@pytest.mark.parametrize("dtype", ["float64", "float32", "int64"])
def test_step_primitives_match_torch(name, dtype):
    """Halves round to even, NaN's sign is 0, integers keep their dtype (a copy)."""
    torch = _torch()
    a = np.array([-2.5, -1.5, -0.5, -0.0, 0.0, 0.5, 1.5, 2.5, 0.49999999999999994, -3.7, 3.7,
                  np.inf, -np.inf, np.nan, 1e30, -7.0])
    if dtype == "int64":
        a = np.array([-7, -1, 0, 3, 2**40])
    a = a.astype(dtype)
    y, u = getattr(tr.tensor(a), name)(), getattr(torch, name)(torch.tensor(a))
    assert y.dtype == a.dtype
    np.testing.assert_array_equal(y.numpy(), u.numpy())


@pytest.mark.torch
@pytest.mark.parametrize("decimals", [-2, -1, 1, 2, 3])
def test_round_with_decimals_matches_torch(decimals):
    torch = _torch()
    a = np.array([1234.5678, -0.125, 0.375, 2.675, 15.0, -250.0, 1e-5, 0.0])
    got = tr.round(tr.tensor(a), decimals=decimals).numpy()
    np.testing.assert_array_equal(got, torch.round(torch.tensor(a), decimals=decimals).numpy())


def test_sign_of_bool_is_a_copy_and_rounding_a_bool_is_refused():
    b = tr.tensor([True, False])
    assert tr.sign(b).dtype == np.bool_ and tr.sign(b).numpy().tolist() == [True, False]
    for name in ("floor", "ceil", "round", "trunc"):
        with pytest.raises(TypeError, match=f"{name}: not defined for bool"):
            getattr(b, name)()
    with pytest.raises(TypeError, match="decimals must be an integer"):
        tr.tensor([1.0]).round(decimals=1.5)


def test_round_is_not_in_star_exports():
    """tr.round exists, but `from tinygrad_rnn import *` must not hide Python's round()."""
    assert "round" not in tr.__all__ and callable(tr.round)
    for name in ("log1p", "expm1", "erf", "sign", "floor", "ceil", "trunc"):
        assert name in tr.__all__


# ---- activations ---------------------------------------------------------------------------

# name: (ours, torch's function name and keywords, kinks: where the derivative jumps)
ACTIVATIONS = {
    "gelu": (F.gelu, "gelu", {}, ()),
    "gelu_tanh": (lambda x: F.gelu(x, approximate="tanh"), "gelu", {"approximate": "tanh"}, ()),
    "silu": (F.silu, "silu", {}, ()),
    "elu": (F.elu, "elu", {}, ()),
    "elu_0.7": (lambda x: F.elu(x, 0.7), "elu", {"alpha": 0.7}, (0.0,)),
    "selu": (F.selu, "selu", {}, (0.0,)),
    "celu_1.5": (lambda x: F.celu(x, 1.5), "celu", {"alpha": 1.5}, ()),
    "softplus": (F.softplus, "softplus", {}, ()),
    "softplus_2_3": (lambda x: F.softplus(x, 2.0, 3.0), "softplus",
                     {"beta": 2.0, "threshold": 3.0}, (1.5,)),
    "softsign": (F.softsign, "softsign", {}, ()),
    "hardtanh": (F.hardtanh, "hardtanh", {}, (-1.0, 1.0)),
    "hardtanh_-2_1.5": (lambda x: F.hardtanh(x, -2.0, 1.5), "hardtanh",
                        {"min_val": -2.0, "max_val": 1.5}, (-2.0, 1.5)),
    "relu6": (F.relu6, "relu6", {}, (0.0, 6.0)),
    "logsigmoid": (F.logsigmoid, "logsigmoid", {}, ()),
    "mish": (F.mish, "mish", {}, ()),
    "hardsigmoid": (F.hardsigmoid, "hardsigmoid", {}, (-3.0, 3.0)),
    "hardswish": (F.hardswish, "hardswish", {}, (-3.0, 3.0)),
}


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("name", list(ACTIVATIONS))
@given(a=tst.arrays(SMALL, min_value=-7.0, max_value=7.0))
def test_activation_gradcheck(name, device, a):
    fn, _, _, kinks = ACTIVATIONS[name]
    x = tr.tensor(away_from(a, *kinks), device=device, requires_grad=True)
    assert fn(x).shape == a.shape
    assert gradcheck(fn, [x])


@pytest.mark.torch
@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_activation_matches_torch_at_kinks_and_extremes(name):
    """Values and gradients in float64 from -800 to 800, exactly at each kink and threshold
    too (where PyTorch picks one side's derivative; so do we), and values in float32."""
    torch = _torch()
    fn, theirs, kwargs, _ = ACTIVATIONS[name]
    a = np.concatenate([np.linspace(-8.0, 8.0, 33), [-800.0, -40.0, -3.0, -2.0, -1.0, -1e-20,
                                                     0.0, 1e-20, 1.0, 1.5, 3.0, 6.0, 20.0,
                                                     21.0, 40.0, 800.0]])
    # PyTorch computes celu's and hardsigmoid's gradients with float32 constants (1/α, 1/6)
    rtol = 1e-7 if name in ("celu_1.5", "hardsigmoid") else 1e-12
    x, t = both(torch, a)
    check_against_torch(torch, fn, lambda u: getattr(torch.nn.functional, theirs)(u, **kwargs),
                        [x], [t], rtol=rtol, atol=1e-14)
    a32 = a.astype(np.float32)
    np.testing.assert_allclose(
        fn(tr.tensor(a32)).numpy(),
        getattr(torch.nn.functional, theirs)(torch.tensor(a32), **kwargs).numpy(),
        rtol=2e-6, atol=1e-6)


@pytest.mark.parametrize("device", DEVICES)
def test_activations_have_finite_gradients_where_their_other_branch_overflows(device):
    """elu, celu and softplus select between two formulas; the one not taken overflows (exp
    of 800) and must not turn a gradient into 0 * inf = NaN."""
    a = [-800.0, -50.0, 0.0, 50.0, 800.0]
    for fn in (F.elu, F.selu, lambda x: F.celu(x, 0.5), F.softplus, F.mish, F.logsigmoid,
               lambda x: F.softplus(x, -1.0)):
        x = tr.tensor(a, device=device, requires_grad=True)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            y = fn(x)
            y.sum().backward()
        assert np.isfinite(y.numpy()).all() and np.isfinite(x.grad.numpy()).all()


@pytest.mark.parametrize("device", DEVICES)
def test_activation_second_derivatives(device):
    x = tr.tensor(np.linspace(-4.2, 4.1, 7), device=device, requires_grad=True)
    for fn in (F.gelu, lambda u: F.gelu(u, "tanh"), F.silu, F.elu, F.softplus, F.logsigmoid,
               F.mish, F.softsign, F.hardswish):
        assert gradgradcheck(fn, [x])


@pytest.mark.parametrize("device", DEVICES)
@given(data=st.data())
def test_glu_and_softmin_gradcheck(device, data):
    shape = data.draw(tst.shapes(min_dims=1, max_dims=3, max_side=3))
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    x = tr.tensor(data.draw(tst.arrays(shape)), device=device, requires_grad=True)
    assert gradcheck(lambda u: F.softmin(u, dim=dim), [x])
    glu_shape = shape[:dim % len(shape)] + (2 * shape[dim],) + shape[dim % len(shape) + 1:]
    g = tr.tensor(data.draw(tst.arrays(glu_shape)), device=device, requires_grad=True)
    y = F.glu(g, dim)
    assert y.shape == shape
    assert gradcheck(lambda u: F.glu(u, dim), [g])


@pytest.mark.torch
@pytest.mark.parametrize("dim", [0, 1, 2, -1, -3])
def test_glu_and_softmin_match_torch(dim):
    torch = _torch()
    a = np.random.default_rng(1).standard_normal((2, 4, 6))
    x, t = both(torch, a)
    check_against_torch(torch, lambda u: F.glu(u, dim),
                        lambda u: torch.nn.functional.glu(u, dim), [x], [t])
    x, t = both(torch, a)
    check_against_torch(torch, lambda u: F.softmin(u, dim=dim),
                        lambda u: torch.nn.functional.softmin(u, dim=dim), [x], [t])



@pytest.mark.torch
def test_softmin_dtype_casts_first_as_torch():
    torch = _torch()
    a = np.random.default_rng(2).standard_normal((2, 3)).astype(np.float32)
    ours = F.softmin(tr.tensor(a), dim=1, dtype=np.float64)
    theirs = torch.nn.functional.softmin(torch.tensor(a), 1, dtype=torch.float64)
    assert ours.dtype == np.float64
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12)


# ---- normalize and distances ---------------------------------------------------------------


@pytest.mark.parametrize("device", DEVICES)
@given(data=st.data(), p=st.sampled_from([1.0, 2.0, 3.0]))
def test_normalize_gradcheck(device, data, p):
    shape = data.draw(tst.shapes(min_dims=1, max_dims=3, max_side=3))
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    a = away_from(data.draw(tst.arrays(shape)), 0.0)  # |x|'s kink, for p = 1
    x = tr.tensor(a, device=device, requires_grad=True)
    assert gradcheck(lambda u: F.normalize(u, p, dim), [x])


@pytest.mark.parametrize("device", DEVICES)
@given(data=st.data(), p=st.sampled_from([1.0, 2.0, 3.0]))
def test_cosine_similarity_and_pairwise_distance_gradcheck(device, data, p):
    shapes = data.draw(tst.broadcastable_shapes(2, min_dims=1, max_side=3))
    ndim = max(len(s) for s in shapes)
    dim = data.draw(st.integers(-ndim, ndim - 1))
    a = away_from(data.draw(tst.arrays(shapes[0])), 0.0)  # norms away from the eps clamp
    b = away_from(data.draw(tst.arrays(shapes[1])), 0.0)
    b = np.where(np.abs(a - b) < 0.05, b + 0.25, b)  # |x1 - x2|'s kink, for p = 1
    x1 = tr.tensor(a, device=device, requires_grad=True)
    x2 = tr.tensor(b, device=device, requires_grad=True)
    assert gradcheck(lambda u, v: F.cosine_similarity(u, v, dim), [x1, x2])
    keep = data.draw(st.booleans())
    assert gradcheck(lambda u, v: F.pairwise_distance(u, v, p, keepdim=keep), [x1, x2])


@pytest.mark.torch
@pytest.mark.parametrize("p", [1.0, 2.0, 3.0, 0.5, math.inf])
def test_normalize_matches_torch_zero_rows_included(p):
    torch = _torch()
    a = np.random.default_rng(2).standard_normal((3, 4, 5))
    a[0, :, 1] = 0.0  # a zero vector along dim 1: its norm is clamped at eps
    x, t = both(torch, a)
    check_against_torch(torch, lambda u: F.normalize(u, p, 1),
                        lambda u: torch.nn.functional.normalize(u, p, 1), [x], [t])


@pytest.mark.torch
@pytest.mark.parametrize(("s1", "s2", "dim"), [((4, 5), (4, 5), 1), ((3, 4, 5), (1, 4, 5), 0),
                                               ((3, 1, 5), (4, 5), -1), ((5,), (5,), 0)])
def test_cosine_similarity_matches_torch_with_broadcasting_and_tiny_norms(s1, s2, dim):
    """PyTorch's formula: each normalised first, the norms clamped at eps without a gradient
    of their own (so a tiny vector's gradient is PyTorch's, not the clamp's zero)."""
    torch = _torch()
    rng = np.random.default_rng(3)
    a, b = rng.standard_normal(s1), rng.standard_normal(s2)
    if dim != 0:
        a[0] = 0.0  # zero vectors along dim
        a[1] *= 1e-12  # and tiny ones, their norms under eps
    x1, t1 = both(torch, a)
    x2, t2 = both(torch, b)
    check_against_torch(torch, lambda u, v: F.cosine_similarity(u, v, dim),
                        lambda u, v: torch.nn.functional.cosine_similarity(u, v, dim),
                        [x1, x2], [t1, t2], rtol=1e-10)


@pytest.mark.torch
@pytest.mark.parametrize("p", [1.0, 2.0, 3.0, math.inf])
@pytest.mark.parametrize("keepdim", [False, True])
def test_pairwise_distance_matches_torch(p, keepdim):
    torch = _torch()
    rng = np.random.default_rng(4)
    a, b = rng.standard_normal((3, 5)), rng.standard_normal((1, 5))
    a[0] = b[0]  # equal rows: the distance is that of eps
    x1, t1 = both(torch, a)
    x2, t2 = both(torch, b)
    check_against_torch(torch, lambda u, v: F.pairwise_distance(u, v, p, keepdim=keepdim),
                        lambda u, v: torch.nn.functional.pairwise_distance(
                            u, v, p, keepdim=keepdim), [x1, x2], [t1, t2])


# ---- pad ------------------------------------------------------------------------------------


@st.composite
def pad_cases(draw, modes=("constant", "reflect", "replicate", "circular")):
    """(shape, pad, mode): a valid padding for PyTorch, negative (cropping) amounts included
    (PyTorch's reflect and replicate refuse to crop an axis to nothing, which ours allow)."""
    mode = draw(st.sampled_from(modes))
    if mode == "constant":
        shape = draw(tst.shapes(min_dims=1, max_dims=3, max_side=3))
        n_axes = draw(st.integers(1, len(shape)))
    else:
        n_axes = draw(st.integers(1, 2))
        shape = draw(tst.shapes(min_dims=n_axes + 1, max_dims=n_axes + 2, max_side=3))
    pad = []
    for k in range(n_axes):
        n = shape[-1 - k]
        top = n - 1 if mode == "reflect" else n if mode == "circular" else 3
        crop = (n - 1) // 2 if mode in ("reflect", "replicate") else n // 2
        lo = draw(st.integers(-crop, top))
        hi = draw(st.integers(-crop, top if mode != "circular" else top - max(-lo, 0)))
        if mode == "circular":
            lo = min(lo, n - max(-hi, 0))  # at most the axis left after cropping
        pad += [lo, hi]
    return shape, tuple(pad), mode


@pytest.mark.parametrize("device", DEVICES)
@given(case=pad_cases(), data=st.data())
def test_pad_gradcheck(device, case, data):
    shape, pad, mode = case
    x = tr.tensor(data.draw(tst.arrays(shape)), device=device, requires_grad=True)
    assert gradcheck(lambda u: F.pad(u, pad, mode), [x])


@pytest.mark.torch
@given(case=pad_cases(), value=st.sampled_from([None, 0.0, -1.5]))
def test_pad_matches_torch(case, value):
    torch = _torch()
    shape, pad, mode = case
    a = np.arange(math.prod(shape), dtype=np.float64).reshape(shape)
    x, t = both(torch, a)
    if mode != "constant":
        value = None
    check_against_torch(torch, lambda u: F.pad(u, pad, mode, value),
                        lambda u: torch.nn.functional.pad(u, pad, mode, value), [x], [t])


@pytest.mark.parametrize("device", DEVICES)
def test_pad_constant_value_keeps_dtype_and_makes_a_new_tensor(device):
    x = tr.tensor([[1, 2], [3, 4]], device=device)
    y = F.pad(x, (1, 0, 0, 1), value=7)
    assert y.dtype == np.int64
    np.testing.assert_array_equal(y.numpy(), [[7, 1, 2], [7, 3, 4], [7, 7, 7]])
    z = F.pad(x, (0, 0))
    assert z is not x and np.array_equal(z.numpy(), x.numpy())


@pytest.mark.parametrize(("pad", "mode", "shape", "error", "match"), [
    ((1,), "constant", (2, 3), ValueError, "odd count"),
    ((1, 1, 1, 1, 1, 1), "constant", (2, 3), ValueError, "pad 3 axes.*only 2"),
    ((1.5, 1), "constant", (2, 3), TypeError, "tuple of integers"),
    (2, "constant", (2, 3), TypeError, "tuple of integers"),
    ((1, 1), "wrap", (2, 3), ValueError, "mode must be one of"),
    ((3, 0), "reflect", (2, 3), ValueError, "smaller than the axis"),
    ((1, 1), "reflect", (3,), ValueError, "1 or 2 axes more"),
    ((1, 1), "replicate", (1, 2, 3, 4), ValueError, "1 or 2 axes more"),
    ((4, 0), "circular", (1, 1, 3), ValueError, "more than once"),
    ((-2, -2), "constant", (2, 3), ValueError, "negative size"),
    ((1, 0), "replicate", (2, 0), ValueError, "size 0"),
])
def test_pad_bad_arguments_raise(pad, mode, shape, error, match):
    with pytest.raises(error, match=match):
        F.pad(tr.zeros(*shape), pad, mode)


def test_pad_value_with_another_mode_raises():
    """As PyTorch: a fill other than 0 with a mode that does not fill is refused; 0 is taken."""
    with pytest.raises(ValueError, match="takes no value"):
        F.pad(tr.zeros(1, 3), (1, 1), "reflect", 1.0)
    assert F.pad(tr.zeros(1, 3), (1, 1), "reflect", 0.0).shape == (1, 5)


# ---- losses ----------------------------------------------------------------------------------

REDUCTIONS = ["mean", "sum", "none"]

LOSSES = {  # name: (ours with a reduction, torch's with one, kinks in input - target)
    "l1": (lambda a, b, r: F.l1_loss(a, b, r), lambda a, b, r, F_: F_.l1_loss(a, b, reduction=r)),
    "smooth_l1": (lambda a, b, r: F.smooth_l1_loss(a, b, r, beta=0.5),
                  lambda a, b, r, F_: F_.smooth_l1_loss(a, b, reduction=r, beta=0.5)),
    "smooth_l1_beta0": (lambda a, b, r: F.smooth_l1_loss(a, b, r, beta=0.0),
                        lambda a, b, r, F_: F_.smooth_l1_loss(a, b, reduction=r, beta=0.0)),
    "huber": (lambda a, b, r: F.huber_loss(a, b, r, delta=1.5),
              lambda a, b, r, F_: F_.huber_loss(a, b, reduction=r, delta=1.5)),
}


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("name", list(LOSSES))
@given(data=st.data(), reduction=st.sampled_from(REDUCTIONS))
def test_regression_loss_gradcheck(name, device, data, reduction):
    shape = data.draw(SMALL)
    a, b = data.draw(tst.arrays(shape)), data.draw(tst.arrays(shape))
    b = np.where(np.abs(a - b) < 1e-3, b + 0.1, b)  # |d|'s kink at 0
    x = tr.tensor(a, device=device, requires_grad=True)
    y = tr.tensor(b, device=device, requires_grad=True)
    fn = LOSSES[name][0]
    assert gradcheck(lambda u, v: fn(u, v, reduction), [x, y])


@pytest.mark.torch
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", list(LOSSES))
def test_regression_loss_matches_torch_at_the_kinks(name, reduction):
    """d = input - target exactly 0, ±β and ±δ included."""
    torch = _torch()
    a = np.random.default_rng(5).standard_normal((3, 8))
    b = a.copy()
    b[0] = a[0] - np.array([0.0, 0.5, -0.5, 1.5, -1.5, 0.25, 3.0, -2.0])
    x, t = both(torch, a)
    y, u = both(torch, b)
    ours, theirs = LOSSES[name]
    check_against_torch(torch, lambda p, q: ours(p, q, reduction),
                        lambda p, q: theirs(p, q, reduction, torch.nn.functional), [x, y], [t, u])


@pytest.mark.torch
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_weighted_l1_and_huber_match_torch(reduction):
    """PyTorch's weighted means differ: l1 divides by Σ w, huber by the element count."""
    torch = _torch()
    rng = np.random.default_rng(6)
    a, b, w = rng.standard_normal((4, 3)), rng.standard_normal((4, 3)), rng.uniform(0, 2, (4, 3))
    for ours, theirs in [
        (lambda p, q, v: F.l1_loss(p, q, reduction, weight=v),
         lambda p, q, v: torch.nn.functional.l1_loss(p, q, reduction=reduction, weight=v)),
        (lambda p, q, v: F.huber_loss(p, q, reduction, 0.7, v),
         lambda p, q, v: torch.nn.functional.huber_loss(p, q, reduction, 0.7, v)),
    ]:
        (x, t), (y, u), (v, s) = both(torch, a), both(torch, b), both(torch, w)
        check_against_torch(torch, ours, theirs, [x, y, v], [t, u, s])


KL_REDUCTIONS = ["mean", "batchmean", "sum", "none"]


@pytest.mark.parametrize("device", DEVICES)
@given(data=st.data(), reduction=st.sampled_from(KL_REDUCTIONS), log_target=st.booleans())
def test_kl_div_gradcheck(device, data, reduction, log_target):
    shape = data.draw(SMALL)
    x = tr.tensor(data.draw(tst.arrays(shape)), device=device, requires_grad=True)
    lo, hi = (-3.0, 1.0) if log_target else (0.05, 1.0)  # log-probabilities, or probabilities
    t = tr.tensor(data.draw(tst.arrays(shape, min_value=lo, max_value=hi)), device=device,
                  requires_grad=True)
    assert gradcheck(lambda u, v: F.kl_div(u, v, reduction, log_target), [x, t])


@pytest.mark.torch
@pytest.mark.parametrize("reduction", KL_REDUCTIONS)
@pytest.mark.parametrize("log_target", [False, True])
def test_kl_div_matches_torch(reduction, log_target):
    """Zero probabilities included (0 log 0 = 0); the target's gradient is compared where the
    target is not 0 (there PyTorch's is NaN, from xlogy's 0/0; ours is -input)."""
    torch = _torch()
    rng = np.random.default_rng(7)
    logp = torch.log_softmax(torch.tensor(rng.standard_normal((3, 5))), 1).numpy()
    q = torch.softmax(torch.tensor(rng.standard_normal((3, 5))), 1).numpy()
    target = np.log(q) if log_target else q
    x, t = both(torch, logp)
    y, u = both(torch, target)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PyTorch warns that "mean" is not the KL divergence
        check_against_torch(torch, lambda p, r: F.kl_div(p, r, reduction, log_target),
                            lambda p, r: torch.nn.functional.kl_div(
                                p, r, reduction=reduction, log_target=log_target),
                            [x, y], [t, u])
        zero = q.copy()
        zero[0, :2] = 0.0
        x, t = both(torch, logp)
        ours = F.kl_div(x, tr.tensor(zero), reduction)
        theirs = torch.nn.functional.kl_div(t, torch.tensor(zero), reduction=reduction)
    np.testing.assert_allclose(ours.numpy(), theirs.detach().numpy(), rtol=1e-12)


@pytest.mark.parametrize(("call", "match"), [
    (lambda x: F.kl_div(x, x, "avg"), "'mean', 'batchmean', 'sum' or 'none'.*'avg'"),
    (lambda x: F.l1_loss(x, x, "avg"), "reduction must be 'mean', 'sum' or 'none'"),
    (lambda x: F.smooth_l1_loss(x, x, beta=-1.0), "beta must be >= 0"),
    (lambda x: F.huber_loss(x, x, delta=0.0), "delta must be > 0"),
    (lambda x: F.l1_loss(x, x[:, :2]), r"input shape \(2, 3\) and target shape \(2, 2\) "
                                       "do not broadcast"),
    (lambda x: F.kl_div(x, x[0, :2]), r"input shape \(2, 3\) and target shape \(2,\) do not"),
    (lambda x: F.l1_loss(x, x, weight=x[0]), r"weight must have the input's shape \(2, 3\)"),
    (lambda x: F.huber_loss(x, x, weight=x[:1]), "weight must have the input's shape"),
    (lambda x: F.glu(x, 1), "even size.*size 3"),
    (lambda x: F.glu(x, 2), "out of range"),
    (lambda x: F.hardtanh(x, 1.0, -1.0), "min_val .* cannot be greater than max_val"),
    (lambda x: F.celu(x, 0.0), "alpha cannot be 0"),
    (lambda x: F.gelu(x, "fast"), "approximate must be 'none' or 'tanh'"),
    (lambda x: F.cosine_similarity(x, x[:, :2]), r"\(2, 3\).*\(2, 2\) do not broadcast"),
])
def test_bad_inputs_raise_value_errors_naming_the_problem(call, match):
    with pytest.raises(ValueError, match=match):
        call(tr.zeros(2, 3))


def test_losses_refuse_non_tensors():
    with pytest.raises(TypeError, match="target must be a Tensor"):
        F.l1_loss(tr.zeros(2), [0.0, 1.0])


# ---- modules -------------------------------------------------------------------------------

# (module, the same through functional, PyTorch's class name and arguments)
MODULES = [
    (nn.GELU(), F.gelu, "GELU", {}),
    (nn.GELU("tanh"), lambda x: F.gelu(x, "tanh"), "GELU", {"approximate": "tanh"}),
    (nn.SiLU(), F.silu, "SiLU", {}),
    (nn.ELU(0.5), lambda x: F.elu(x, 0.5), "ELU", {"alpha": 0.5}),
    (nn.SELU(), F.selu, "SELU", {}),
    (nn.CELU(2.0), lambda x: F.celu(x, 2.0), "CELU", {"alpha": 2.0}),
    (nn.Softplus(2.0, 5.0), lambda x: F.softplus(x, 2.0, 5.0), "Softplus",
     {"beta": 2.0, "threshold": 5.0}),
    (nn.Softsign(), F.softsign, "Softsign", {}),
    (nn.Hardtanh(-2, 3), lambda x: F.hardtanh(x, -2, 3), "Hardtanh",
     {"min_val": -2, "max_val": 3}),
    (nn.ReLU6(inplace=True), F.relu6, "ReLU6", {"inplace": True}),
    (nn.LogSigmoid(), F.logsigmoid, "LogSigmoid", {}),
    (nn.Mish(), F.mish, "Mish", {}),
    (nn.GLU(1), lambda x: F.glu(x, 1), "GLU", {"dim": 1}),
    (nn.Hardsigmoid(), F.hardsigmoid, "Hardsigmoid", {}),
    (nn.Hardswish(), F.hardswish, "Hardswish", {}),
    (nn.Softmin(dim=-1), lambda x: F.softmin(x, -1), "Softmin", {"dim": -1}),
    (nn.Flatten(), lambda x: x.reshape(x.shape[0], -1), "Flatten", {}),
    (nn.Flatten(0, 1), lambda x: x.reshape(-1, x.shape[2]), "Flatten",
     {"start_dim": 0, "end_dim": 1}),
    (nn.Unflatten(1, (2, 2)), lambda x: x.reshape(x.shape[0], 2, 2, x.shape[2]), "Unflatten",
     {"dim": 1, "unflattened_size": (2, 2)}),
    (nn.ConstantPad1d((1, 2), 3.5), lambda x: F.pad(x, (1, 2), value=3.5), "ConstantPad1d",
     {"padding": (1, 2), "value": 3.5}),
    (nn.ConstantPad2d(1, -1.0), lambda x: F.pad(x, (1, 1, 1, 1), value=-1.0), "ConstantPad2d",
     {"padding": 1, "value": -1.0}),
    (nn.ZeroPad1d(2), lambda x: F.pad(x, (2, 2)), "ZeroPad1d", {"padding": 2}),
    (nn.ZeroPad2d((1, 0, 2, 1)), lambda x: F.pad(x, (1, 0, 2, 1)), "ZeroPad2d",
     {"padding": (1, 0, 2, 1)}),
]


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize(("module", "fn", "name", "kwargs"), MODULES,
                         ids=[repr(m[0]) for m in MODULES])
def test_module_equals_its_function(module, fn, name, kwargs, device):
    x = tr.tensor(np.random.default_rng(8).uniform(-5, 5, (3, 4, 5)), device=device)
    np.testing.assert_array_equal(module(x).numpy(), fn(x).numpy())
    assert list(module.parameters()) == []


@pytest.mark.torch
@pytest.mark.parametrize(("module", "fn", "name", "kwargs"), MODULES,
                         ids=[repr(m[0]) for m in MODULES])
def test_module_matches_torch_value_and_repr(module, fn, name, kwargs):
    torch = _torch()
    a = np.random.default_rng(9).uniform(-5, 5, (3, 4, 5))
    theirs = getattr(torch.nn, name)(**kwargs)
    np.testing.assert_allclose(module(tr.tensor(a)).numpy(), theirs(torch.tensor(a)).numpy(),
                               rtol=1e-12, atol=1e-15)
    assert repr(module) == repr(theirs)


# (module, the same through functional, PyTorch's class name and arguments)
LOSS_MODULES = [
    (nn.L1Loss(), lambda a, b: F.l1_loss(a, b), "L1Loss", {}),
    (nn.L1Loss(reduction="sum"), lambda a, b: F.l1_loss(a, b, "sum"), "L1Loss",
     {"reduction": "sum"}),
    (nn.SmoothL1Loss(reduction="none", beta=0.5),
     lambda a, b: F.smooth_l1_loss(a, b, "none", 0.5), "SmoothL1Loss",
     {"reduction": "none", "beta": 0.5}),
    (nn.HuberLoss(delta=2.0), lambda a, b: F.huber_loss(a, b, delta=2.0), "HuberLoss",
     {"delta": 2.0}),
    (nn.KLDivLoss(reduction="batchmean"), lambda a, b: F.kl_div(a, b.abs(), "batchmean"),
     "KLDivLoss", {"reduction": "batchmean"}),
    (nn.KLDivLoss(reduction="sum", log_target=True), lambda a, b: F.kl_div(a, b, "sum", True),
     "KLDivLoss", {"reduction": "sum", "log_target": True}),
    (nn.CosineSimilarity(dim=2), lambda a, b: F.cosine_similarity(a, b, 2), "CosineSimilarity",
     {"dim": 2}),
    (nn.PairwiseDistance(p=1.0, keepdim=True), lambda a, b: F.pairwise_distance(
        a, b, 1.0, keepdim=True), "PairwiseDistance", {"p": 1.0, "keepdim": True}),
]
LOSS_IDS = [repr(m[0]) for m in LOSS_MODULES]


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize(("module", "fn", "name", "kwargs"), LOSS_MODULES, ids=LOSS_IDS)
def test_two_input_module_equals_its_function(module, fn, name, kwargs, device):
    rng = np.random.default_rng(10)
    a, b = (tr.tensor(rng.standard_normal((3, 4, 5)), device=device) for _ in range(2))
    if name == "KLDivLoss" and not kwargs.get("log_target"):
        b = b.abs()
    np.testing.assert_array_equal(module(a, b).numpy(), fn(a, b).numpy())


@pytest.mark.torch
@pytest.mark.parametrize(("module", "fn", "name", "kwargs"), LOSS_MODULES, ids=LOSS_IDS)
def test_two_input_module_matches_torch(module, fn, name, kwargs):
    torch = _torch()
    rng = np.random.default_rng(11)
    a, b = rng.standard_normal((3, 4, 5)), rng.standard_normal((3, 4, 5))
    if name == "KLDivLoss" and not kwargs.get("log_target"):
        b = np.abs(b)
    theirs = getattr(torch.nn, name)(**kwargs)(torch.tensor(a), torch.tensor(b))
    np.testing.assert_allclose(module(tr.tensor(a), tr.tensor(b)).numpy(), theirs.numpy(),
                               rtol=1e-12, atol=1e-15)


def test_loss_and_layer_reprs_show_their_options():
    assert repr(nn.SmoothL1Loss(beta=2.0)) == "SmoothL1Loss(beta=2.0)"
    assert repr(nn.HuberLoss("sum", 0.5)) == "HuberLoss(reduction='sum', delta=0.5)"
    assert repr(nn.KLDivLoss(reduction="batchmean", log_target=True)) == \
        "KLDivLoss(reduction='batchmean', log_target=True)"
    assert repr(nn.L1Loss()) == "L1Loss()"
    assert repr(nn.CosineSimilarity()) == "CosineSimilarity(dim=1, eps=1e-08)"
    assert repr(nn.PairwiseDistance()) == "PairwiseDistance(p=2.0, eps=1e-06, keepdim=False)"


@pytest.mark.parametrize(("make", "error", "match"), [
    (lambda: nn.L1Loss(reduction="batchmean"), ValueError,
     "'mean', 'sum' or 'none', got 'batchmean'"),
    (lambda: nn.KLDivLoss(reduction="avg"), ValueError, "'mean', 'batchmean', 'sum' or 'none'"),
    (lambda: nn.SmoothL1Loss(beta=-0.5), ValueError, "beta must be >= 0"),
    (lambda: nn.HuberLoss(delta=-1.0), ValueError, "delta must be > 0"),
    (lambda: nn.GELU("fast"), ValueError, "approximate must be"),
    (lambda: nn.Hardtanh(2.0, 1.0), ValueError, "cannot be greater"),
    (lambda: nn.CELU(0.0), ValueError, "alpha cannot be 0"),
    (lambda: nn.Softmin(), TypeError, "needs dim="),
    (lambda: nn.ConstantPad1d((1, 2, 3), 0.0), ValueError, "an int or 2 ints"),
    (lambda: nn.ZeroPad2d((1, 2)), ValueError, "an int or 4 ints"),
    (lambda: nn.Unflatten(1, 4), TypeError, "tuple of integers"),
])
def test_module_bad_arguments_raise_when_made(make, error, match):
    with pytest.raises(error, match=match):
        make()


def test_kl_div_loss_module_accepts_batchmean_and_divides_by_the_batch():
    logp = F.log_softmax(tr.tensor(np.random.default_rng(12).standard_normal((4, 3))), 1)
    q = F.softmax(tr.tensor(np.random.default_rng(13).standard_normal((4, 3))), 1)
    total = F.kl_div(logp, q, "sum").item()
    batchmean = nn.KLDivLoss(reduction="batchmean")(logp, q).item()
    assert batchmean == pytest.approx(total / 4, rel=1e-14)
    assert nn.KLDivLoss()(logp, q).item() == pytest.approx(total / 12, rel=1e-14)


@pytest.mark.torch
def test_norm_and_pairwise_distance_at_p_0_count_nonzeros_as_torch():
    torch = pytest.importorskip("torch")
    a, b = np.array([[1.0, 2.0, 3.0], [1.0, 1.0, 1.0]]), np.array([[1.0, 0.0, 3.0]])
    for eps in (1e-6, 0.0):
        ours = tr.nn.functional.pairwise_distance(tr.tensor(a), tr.tensor(b), p=0, eps=eps)
        theirs = torch.nn.functional.pairwise_distance(torch.tensor(a), torch.tensor(b), p=0,
                                                       eps=eps)
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    x = tr.tensor([[1.0, 0.0, -2.0]], requires_grad=True)
    n = x.norm(p=0, axis=1)
    n.sum().backward()
    assert n.numpy().tolist() == [2.0] and not x.grad.numpy().any()


@pytest.mark.torch
@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss",
                                  "kl_div"])
def test_regression_losses_broadcast_a_target_of_another_shape_with_pytorchs_warning(name):
    """As PyTorch's: the shapes broadcast, with its warning (kl_div without one), and the
    same values and gradients."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(4)
    a, b = rng.standard_normal((4, 3)), rng.standard_normal((1, 3))
    results = []
    for lib, fn in ((tr, getattr(F, name)), (torch, getattr(torch.nn.functional, name))):
        x, y = lib.tensor(a, requires_grad=True), lib.tensor(b, requires_grad=True)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            loss = fn(x, y, reduction="sum")
        loss.backward()
        messages = [str(w.message) for w in caught if "target size" in str(w.message)]
        results.append((loss.detach().numpy(), x.grad.numpy(), y.grad.numpy(), messages))
    for ours, theirs in zip(results[0][:3], results[1][:3]):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-14)
    assert results[0][3] == results[1][3]
    assert bool(results[0][3]) == (name != "kl_div")


@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "smooth_l1_loss"])
def test_regression_losses_promote_a_broadcast_0d_target_as_torch(name):
    # PyTorch expands both first, so a 0-d float64 target makes a float32 input's loss
    # float64 (where a plain x - y keeps float32 for a 0-d operand)
    fn = getattr(F, name)
    x32 = tr.tensor(np.ones(2, np.float32), requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the target size warning
        loss = fn(x32, tr.tensor(np.float64(0.5)))
        assert loss.dtype == np.float64
        loss.backward()
        assert x32.grad.dtype == np.float32
        assert fn(tr.tensor(np.ones(2)), tr.tensor(np.float32(0.5))).dtype == np.float64
