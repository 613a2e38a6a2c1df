"""The rest of ``torch.special``: i0e, i1, i1e, the modified Bessel functions (I0, I1, K0, K1
and the scaled K's), J0, J1, Y0, Y1, the spherical j0, Airy's Ai, erfcx, log_ndtr, ndtri,
entr, sinc, xlog1py, zeta, round and the orthogonal polynomials.

Values against PyTorch in float64 over wide ranges (extremes, NaN and inf included) and, where
PyTorch's own are inaccurate (J0, J1, Y0, Y1 and Ai for moderate x, the right tail of
log_ndtr), against mpmath at 50 digits; gradients against PyTorch where it has them, against
central differences with Hypothesis everywhere, second derivatives too; the strict device equal
to the CPU; the errors."""

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
from .test_ops_more import _torch

NAN, INF = math.nan, math.inf
EDGES = np.array([0.0, -0.0, 1e-300, 1e-10, 0.5, 1.0, 2.0, 5.0, 8.0, -1.0, -5.0, -8.0, 700.0,
                  -700.0, 1e3, 1e10, INF, -INF, NAN])


def _wide(seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    logs = np.exp(rng.uniform(math.log(1e-8), math.log(1e4), 300))
    return np.concatenate([rng.uniform(-30, 30, 300), logs, -logs, EDGES])


def _close(ours: np.ndarray, theirs: np.ndarray, rtol: float, atol: float = 0.0) -> None:
    """Equal to rtol (and atol), NaN where NaN, inf where inf (with its sign)."""
    same = (ours == theirs) | (np.isnan(ours) & np.isnan(theirs))
    fin = np.isfinite(theirs)
    assert np.all(same | fin), (ours[~(same | fin)], theirs[~(same | fin)])
    with np.errstate(invalid="ignore"):
        err = np.abs(ours - theirs)
    ok = same | (err <= atol + rtol * np.abs(theirs))
    assert np.all(ok), (ours[~ok], theirs[~ok], np.max(err[~ok] / np.abs(theirs[~ok])))


def _mp(fn, xs) -> np.ndarray:
    mpmath = pytest.importorskip("mpmath")
    mpmath.mp.dps = 50
    return np.array([float(fn(mpmath, mpmath.mpf(float(x)))) for x in xs])


# ---- values against PyTorch ----------------------------------------------------------------

# (name, rtol against torch in float64 on _wide(); the atol where the value is near a zero)
UNARY_EXACT = [("i0e", 2e-15), ("i1", 4e-15), ("i1e", 4e-15), ("i0", 2e-15),
               ("modified_bessel_i0", 2e-15), ("modified_bessel_i1", 4e-15),
               ("modified_bessel_k0", 2e-15), ("modified_bessel_k1", 2e-15),
               ("scaled_modified_bessel_k0", 2e-15), ("scaled_modified_bessel_k1", 2e-15),
               ("spherical_bessel_j0", 1e-15), ("entr", 1e-15), ("sinc", 1e-15),
               ("ndtri", 1e-15)]


@pytest.mark.torch
@pytest.mark.parametrize("name,rtol", UNARY_EXACT)
def test_unary_special_match_torch(name, rtol):
    torch = _torch()
    x = _wide()
    if name == "ndtri":
        rng = np.random.default_rng(3)
        x = np.concatenate([rng.uniform(0, 1, 300), np.exp(rng.uniform(-690, -1, 300)),
                            1 - np.exp(rng.uniform(-36, -1, 100)),
                            [0.0, 1.0, -1.0, 2.0, NAN, 0.5, INF]])
    with np.errstate(all="ignore"):
        ours = getattr(tr.special, name)(tr.tensor(x))
    theirs = getattr(torch.special, name)(torch.tensor(x))
    assert ours.dtype == np.float64 and ours.shape == x.shape
    _close(ours.numpy(), theirs.numpy(), rtol)
    # float32 (computed in float64, then rounded: within float32's precision of PyTorch's)
    x32 = np.clip(x, -80, 80).astype(np.float32) if name != "ndtri" else x.astype(np.float32)
    ours32 = getattr(tr.special, name)(tr.tensor(x32))
    assert ours32.dtype == np.float32
    _close(ours32.numpy(), getattr(torch.special, name)(torch.tensor(x32)).numpy(), 1e-5,
           1e-30)
    # integers give float32, as PyTorch's
    assert getattr(tr.special, name)(tr.tensor([1, 2])).dtype == np.float32


@pytest.mark.torch
@pytest.mark.parametrize("name", ["bessel_j0", "bessel_j1", "bessel_y0", "bessel_y1",
                                  "airy_ai"])
def test_bessel_and_airy_match_torch_loosely_and_mpmath_exactly(name):
    """PyTorch's J0, J1, Y0, Y1 and Ai drop the leading 1 of Cephes' p1evl denominators, and
    are off by up to 3e-4 relative (1e-6 absolute) for 2 < |x| < 25; ours are Cephes' and
    agree with mpmath to ~1e-14 relative (absolute near the zeros)."""
    torch = _torch()
    x = _wide() if name != "airy_ai" else np.concatenate(
        [np.random.default_rng(2).uniform(-60, 110, 500), EDGES])
    with np.errstate(all="ignore"):
        ours = getattr(tr.special, name)(tr.tensor(x)).numpy()
    theirs = getattr(torch.special, name)(torch.tensor(x)).numpy()
    _close(ours, theirs, 1e-4, 2e-6)
    exact = {"bessel_j0": lambda m, v: m.besselj(0, v), "bessel_j1": lambda m, v: m.besselj(1, v),
             "bessel_y0": lambda m, v: m.bessely(0, v), "bessel_y1": lambda m, v: m.bessely(1, v),
             "airy_ai": lambda m, v: m.airyai(v)}[name]
    rng = np.random.default_rng(5)
    pts = np.concatenate([rng.uniform(0.01, 40, 60), [0.3, 2.0, 4.9, 5.0, 5.1, 7.0, 100.0]])
    if name == "airy_ai":
        pts = np.concatenate([rng.uniform(-30, 30, 60), [-2.1, -2.33, -5.0, 2.08, 2.1, 8.4]])
    elif name in ("bessel_j0", "bessel_j1"):
        pts = np.concatenate([pts, -pts[:20]])
    ref = _mp(exact, pts)
    scale = np.maximum(np.abs(ref), 1.0 if name != "airy_ai" else 0.0)
    got = getattr(tr.special, name)(tr.tensor(pts)).numpy()
    assert np.all(np.abs(got - ref) <= 2e-14 * scale + 1e-16 * np.abs(pts)), \
        np.max(np.abs(got - ref) / scale)


@pytest.mark.torch
def test_erfcx_matches_torch_and_mpmath():
    torch = _torch()
    rng = np.random.default_rng(4)
    x = np.concatenate([rng.uniform(-27, 50, 500), np.exp(rng.uniform(-18, 28, 200)),
                        -np.exp(rng.uniform(-7, 3.4, 200)), EDGES, [-26.7, -26.8, 5e7, 6e7]])
    with np.errstate(all="ignore"):
        ours = tr.special.erfcx(tr.tensor(x)).numpy()
    # PyTorch's 2 exp(x²) for x < 0 loses ~x² ulps (to 5e-14 at -25); ours splits x² exactly
    _close(ours, torch.special.erfcx(torch.tensor(x)).numpy(), 6e-14)
    pts = np.array([-26.5, -25.1, -10.0, -3.0, -0.5, 0.0, 0.5, 0.99, 1.0, 1.5, 3.0, 30.0, 1e3,
                    1e9])
    ref = _mp(lambda m, v: m.exp(v * v) * m.erfc(v), pts)
    _close(tr.special.erfcx(tr.tensor(pts)).numpy(), ref, 2e-15)


@pytest.mark.torch
def test_log_ndtr_matches_torch_and_mpmath():
    torch = _torch()
    rng = np.random.default_rng(6)
    x = np.concatenate([rng.uniform(-40, 40, 500), -np.exp(rng.uniform(0, 23, 100)),
                        np.exp(rng.uniform(-18, 7, 100)), EDGES])
    with np.errstate(all="ignore"):
        ours = tr.special.log_ndtr(tr.tensor(x)).numpy()
    # PyTorch's right tail loses ~x² ulps (erfc of a rounded x/√2: 2e-13 at 37)
    _close(ours, torch.special.log_ndtr(torch.tensor(x)).numpy(), 3e-13)
    pts = np.array([-1e5, -30.0, -3.0, -1.0001, -1.0, -0.5, 0.0, 1.0, 2.0, 5.0, 10.0, 20.0,
                    33.4, 37.0])
    ref = _mp(lambda m, v: m.log(m.ncdf(v)) if v <= 0 else m.log1p(-m.ncdf(-v)), pts)
    _close(tr.special.log_ndtr(tr.tensor(pts)).numpy(), ref, 1e-15)


@pytest.mark.torch
def test_zeta_xlog1py_round_match_torch():
    torch = _torch()
    rng = np.random.default_rng(7)
    x = np.concatenate([rng.uniform(1, 30, 300), [1, 1.5, 2, 0.5, -1, NAN, INF, 3, 4, 2.5, 3]])
    q = np.concatenate([rng.uniform(-50, 50, 300),
                        [2, 1, 0, -1, 1.5, 2, 2, -1.5, -2.5, -1.5, INF]])
    with np.errstate(all="ignore"):
        ours = tr.special.zeta(tr.tensor(x), tr.tensor(q)).numpy()
    _close(ours, torch.special.zeta(torch.tensor(x), torch.tensor(q)).numpy(), 1e-14)
    # numbers on either side, broadcasting
    assert np.allclose(tr.special.zeta(2.0, tr.tensor(q[:5])).numpy(),
                       torch.special.zeta(2.0, torch.tensor(q[:5])).numpy(), rtol=1e-14)
    assert np.allclose(tr.special.zeta(tr.tensor(x[:5]), 3.0).numpy(),
                       torch.special.zeta(torch.tensor(x[:5]), 3.0).numpy(), rtol=1e-14)
    a = np.array([0, 0, 0, 1.0, 2.0, -1.0, NAN, 0.5, 0.0, 3.0])
    b = np.array([-1, -2, INF, NAN, 0.5, 3, 1, -1, 1e300, -INF])
    with np.errstate(all="ignore"):
        _close(tr.special.xlog1py(tr.tensor(a), tr.tensor(b)).numpy(),
               torch.special.xlog1py(torch.tensor(a), torch.tensor(b)).numpy(), 1e-15)
    assert np.allclose(tr.special.xlog1py(2.0, tr.tensor(b[4:6])).numpy(),
                       torch.special.xlog1py(2.0, torch.tensor(b[4:6])).numpy())
    r = np.array([0.5, 1.5, 2.5, -0.5, 1.2345, -7.77])
    np.testing.assert_array_equal(tr.special.round(tr.tensor(r)).numpy(),
                                  torch.special.round(torch.tensor(r)).numpy())
    np.testing.assert_array_equal(tr.special.round(tr.tensor(r), decimals=2).numpy(),
                                  torch.special.round(torch.tensor(r), decimals=2).numpy())


POLYS = ["chebyshev_polynomial_t", "chebyshev_polynomial_u", "chebyshev_polynomial_v",
         "chebyshev_polynomial_w", "shifted_chebyshev_polynomial_t",
         "shifted_chebyshev_polynomial_u", "shifted_chebyshev_polynomial_v",
         "shifted_chebyshev_polynomial_w", "hermite_polynomial_h", "hermite_polynomial_he",
         "laguerre_polynomial_l", "legendre_polynomial_p"]


@pytest.mark.torch
@pytest.mark.parametrize("name", POLYS)
def test_polynomials_match_torch(name):
    """Degrees as PyTorch reads them (negative: 0; a float truncated; NaN and huge: 0), the
    trigonometric forms past its thresholds, the ends of [-1, 1], NaN past H's degree 512.
    (At a NaN x PyTorch's return garbage from an uninitialised variable; ours NaN.)"""
    torch = _torch()
    rng = np.random.default_rng(8)
    xs = np.concatenate([rng.uniform(-1.5, 1.5, 80), [1, -1, 0, 0.5, INF, -INF, 2.0, -3.0]])
    if name.startswith("shifted"):
        xs = (xs + 1) / 2
    ns = np.array([-1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 20, 50, 100, 513, NAN, 3.7, 1e300])
    X, N = np.meshgrid(xs, ns)
    with np.errstate(all="ignore"):
        ours = getattr(tr.special, name)(tr.tensor(X), tr.tensor(N))
    theirs = getattr(torch.special, name)(torch.tensor(X), torch.tensor(N))
    assert ours.dtype == np.float64 and not ours.requires_grad
    # the trigonometric branch differs from PyTorch's by libm's cos/acos (NumPy's SIMD ones):
    # ~1e-15 times the degree; the recurrences by PyTorch's fused multiply-adds, amplified by
    # their cancellation (to ~5e-12 relative at degree 500)
    _close(ours.numpy(), theirs.numpy(), 1e-10, 1e-12)
    nan_x = getattr(tr.special, name)(tr.tensor([NAN, NAN]), tr.tensor([5, 9])).numpy()
    assert np.all(np.isnan(nan_x))
    # integer degrees, numbers on either side, integer x (float32, as PyTorch)
    k = np.arange(0, 12)
    np.testing.assert_allclose(getattr(tr.special, name)(tr.tensor(xs[:12]), tr.tensor(k))
                               .numpy(), getattr(torch.special, name)(
                                   torch.tensor(xs[:12]), torch.tensor(k)).numpy(),
                               rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(getattr(tr.special, name)(tr.tensor(xs[:6]), 4).numpy(),
                               getattr(torch.special, name)(torch.tensor(xs[:6]), 4).numpy(),
                               rtol=1e-12)
    np.testing.assert_allclose(getattr(tr.special, name)(0.3, tr.tensor(k)).numpy(),
                               getattr(torch.special, name)(0.3, torch.tensor(k)).numpy(),
                               rtol=1e-5, atol=1e-4)  # float32 (PyTorch's computed so)
    y = getattr(tr.special, name)(tr.tensor([1, 2]), tr.tensor([3]))
    assert y.dtype == getattr(torch.special, name)(torch.tensor([1, 2]),
                                                    torch.tensor([3])).numpy().dtype


# ---- gradients -----------------------------------------------------------------------------

WITH_TORCH_GRAD = {
    "i0e": np.array([-9.0, -2.0, -0.3, 0.0, 0.4, 3.0, 12.0]),
    "i1": np.array([-9.0, -2.0, -0.3, 0.0, 0.4, 3.0, 12.0]),
    "i1e": np.array([-9.0, -2.0, -0.3, 0.0, 0.4, 3.0, 12.0]),
    "erfcx": np.array([-5.0, -1.0, 0.0, 0.7, 3.0, 60.0]),
    "log_ndtr": np.array([-50.0, -3.0, -1.0, 0.0, 2.0, 9.0]),
    "ndtri": np.array([1e-20, 0.01, 0.3, 0.5, 0.9, 1 - 1e-12]),
    "entr": np.array([1e-5, 0.3, 1.0, 4.0]),
    "sinc": np.array([-2.5, -0.3, 0.0, 0.7, 4.0]),
}


@pytest.mark.torch
@pytest.mark.parametrize("name", list(WITH_TORCH_GRAD))
def test_gradients_match_torch(name):
    torch = _torch()
    a = WITH_TORCH_GRAD[name]
    x = tr.tensor(a, requires_grad=True)
    t = torch.tensor(a, requires_grad=True)
    getattr(tr.special, name)(x).sum().backward()
    getattr(torch.special, name)(t).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-13, atol=1e-300)


@pytest.mark.torch
def test_binary_gradients_match_torch():
    torch = _torch()
    a, b = np.array([0.0, 0.5, 2.0, -1.5, 3.0]), np.array([0.3, -0.5, 4.0, 1.0, 7.0])
    for name, args in (("xlog1py", (a, b)), ("zeta", (np.array([2.0, 3.5, 1.5, 5.0, 2.5]),
                                                      np.array([0.3, 4.0, 1.0, 2.0, 9.0])))):
        x0, x1 = (tr.tensor(v, requires_grad=True) for v in args)
        t0, t1 = (torch.tensor(v, requires_grad=True) for v in args)
        if name == "zeta":
            x0.requires_grad_(False)
            t0.requires_grad_(False)
        getattr(tr.special, name)(x0, x1).sum().backward()
        getattr(torch.special, name)(t0, t1).sum().backward()
        np.testing.assert_allclose(x1.grad.numpy(), t1.grad.numpy(), rtol=1e-13)
        if name == "xlog1py":
            np.testing.assert_allclose(x0.grad.numpy(), t0.grad.numpy(), rtol=1e-13)
    # xlog1py at x = 0, y <= -1: a zero gradient in x, as PyTorch's
    x0, x1 = tr.tensor([0.0, 0.0], requires_grad=True), tr.tensor([-1.0, -3.0])
    tr.special.xlog1py(x0, x1).sum().backward()
    np.testing.assert_array_equal(x0.grad.numpy(), [0.0, 0.0])


DIFFERENTIABLE = {
    "i0e": {}, "i1": {}, "i1e": {}, "modified_bessel_i0": {}, "modified_bessel_i1": {},
    "modified_bessel_k0": {"min_value": 0.05, "max_value": 6},
    "modified_bessel_k1": {"min_value": 0.05, "max_value": 6},
    "scaled_modified_bessel_k0": {"min_value": 0.05, "max_value": 6},
    "scaled_modified_bessel_k1": {"min_value": 0.05, "max_value": 6},
    "bessel_j0": {"min_value": -12, "max_value": 12},
    "bessel_j1": {"min_value": -12, "max_value": 12},
    "bessel_y0": {"min_value": 0.05, "max_value": 12},
    "bessel_y1": {"min_value": 0.05, "max_value": 12},
    "spherical_bessel_j0": {"min_value": -12, "max_value": 12},
    "erfcx": {}, "log_ndtr": {"min_value": -20, "max_value": 8},
    "ndtri": {"min_value": 0.01, "max_value": 0.99}, "entr": {"min_value": 0.05},
}


@pytest.mark.parametrize("name", list(DIFFERENTIABLE))
def test_gradient_by_central_differences(name):
    fn = getattr(tr.special, name)

    @given(tst.tensors(requires_grad=True, away_from=[0.0], **DIFFERENTIABLE[name]))
    def check(x):
        assert gradcheck(fn, [x])

    check()
    x = tr.tensor(np.array([0.3, 0.8, 1.7, 2.9, 4.5, 5.5, 9.0]) *
                  (1 if DIFFERENTIABLE[name].get("min_value", -1) >= 0 else
                   np.array([1, -1, 1, -1, 1, -1, 1])), requires_grad=True)
    if name == "ndtri":
        x = tr.tensor([0.02, 0.3, 0.5, 0.77, 0.98], requires_grad=True)
    elif name == "log_ndtr":
        x = tr.tensor([-15.0, -2.0, -1.0, 0.5, 3.0], requires_grad=True)
    assert gradgradcheck(fn, [x])


@given(st.floats(0.5, 6.0), tst.tensors(requires_grad=True, min_value=0.2, max_value=4.0))
def test_zeta_gradient_in_q(s, q):
    assert gradcheck(lambda t: tr.special.zeta(s + 1.0, t), [q])


@given(tst.broadcastable_tensors(2, requires_grad=True, min_value=0.1, max_value=3.0))
def test_xlog1py_gradient(xs):
    assert gradcheck(tr.special.xlog1py, xs)


def test_gradient_at_zero_is_the_limit():
    for name, slope in (("bessel_j1", 0.5), ("modified_bessel_i1", 0.5), ("i1", 0.5),
                        ("i1e", 0.5), ("spherical_bessel_j0", 0.0), ("bessel_j0", 0.0)):
        x = tr.tensor([0.0], requires_grad=True)
        getattr(tr.special, name)(x).sum().backward()
        assert x.grad.numpy()[0] == slope, name


@pytest.mark.parametrize("device", DEVICES)
def test_strict_device_matches_cpu(device):
    a = np.array([0.3, 1.7, 2.5, 6.0, 9.5])
    cases = {name: getattr(tr.special, name) for name in DIFFERENTIABLE if name != "ndtri"}
    cases["ndtri"] = lambda t: tr.special.ndtri(t / 10)
    cases["xlog1py"] = lambda t: tr.special.xlog1py(t, t * 0.5)
    cases["zeta"] = lambda t: tr.special.zeta(3.0, t)
    assert_device_equals_cpu(cases, a, device)
    for name in ("airy_ai", "chebyshev_polynomial_t", "hermite_polynomial_h",
                 "laguerre_polynomial_l", "legendre_polynomial_p",
                 "shifted_chebyshev_polynomial_w"):
        args = (tr.tensor(a / 10, device=device),) + (() if name == "airy_ai" else (7,))
        y = getattr(tr.special, name)(*args)
        assert y.device == device
        ref = getattr(tr.special, name)(tr.tensor(a / 10), *args[1:])
        np.testing.assert_allclose(y.numpy(), ref.numpy(), rtol=1e-14)


# ---- errors --------------------------------------------------------------------------------


def test_errors():
    with pytest.raises(RuntimeError, match="zeta.*not implemented"):
        x = tr.tensor([2.0], requires_grad=True)
        tr.special.zeta(x, tr.tensor([1.5])).sum().backward()
    with pytest.raises(TypeError, match="must be a Tensor"):
        tr.special.bessel_j0(1.0)
    with pytest.raises(TypeError, match="must be a Tensor"):
        tr.special.zeta(2.0, 1.0)
    with pytest.raises(TypeError, match="must be a Tensor"):
        tr.special.chebyshev_polynomial_t(0.5, 3)
    # no gradient where PyTorch has none: the results are constants
    x = tr.tensor([0.5], requires_grad=True)
    assert not tr.special.airy_ai(x).requires_grad
    assert not tr.special.legendre_polynomial_p(x, 3).requires_grad
