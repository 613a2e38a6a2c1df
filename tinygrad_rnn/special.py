"""``tr.special``, PyTorch's ``torch.special``: the special functions under their SciPy-style
names, each the same function as elsewhere in the package (so the same values and gradients).

    expit = sigmoid        logit, erf, erfc, erfinv, log1p, expm1, exp2, xlogy, digamma (psi)
    logsumexp, softmax, log_softmax, ndtr (the standard normal CDF), ndtri (its inverse)
    gammaln = lgamma (log |Γ|), multigammaln (the multivariate one, ``tr.mvlgamma``)
    gammainc (the regularized lower incomplete gamma P(a, x): the Gamma distribution's CDF),
    gammaincc (the upper one, Q = 1 - P), differentiable in x and, unlike PyTorch's, in a too
    polygamma (ψ⁽ⁿ⁾, ``tr.polygamma``)
    i0, i0e, i1, i1e (the modified Bessel functions of the first kind, plain and scaled by
    e^-|x|), modified_bessel_i0/i1/k0/k1, scaled_modified_bessel_k0/k1 (e^x K), bessel_j0/j1/
    y0/y1, spherical_bessel_j0, airy_ai, erfcx (e^(x²) erfc x), log_ndtr (log Φ), entr
    (-x log x), sinc, xlog1py, zeta (Hurwitz's, two arguments), round, and the orthogonal
    polynomials chebyshev_polynomial_t/u/v/w, shifted_chebyshev_polynomial_t/u/v/w,
    hermite_polynomial_h/he, laguerre_polynomial_l, legendre_polynomial_p (integer degrees n,
    a tensor or a number, as PyTorch reads them: see ``ops/special_ops.py``)

The Bessel functions are differentiable (PyTorch's J, Y, K and spherical j0 are not: here they
have their true derivatives, differentiable again); airy_ai and the polynomials are not (their
results need no gradient, as PyTorch's); zeta only in q (in x it raises, as PyTorch's).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .functional import log_softmax as _log_softmax
from .functional import softmax as _softmax
from .ops import special_ops as _sp
from .ops.elementwise import I1 as _I1
from .ops.elementwise import (
    digamma,
    digamma_array,
    erf,
    erfc,
    erfinv,
    expm1,
    i0,
    lgamma,
    lgamma_array,
    log1p,
    sinc,
    where,
)
from .ops.elementwise2 import exp2 as _exp2
from .ops.elementwise2 import polygamma as _polygamma
from .ops.reduce import logsumexp
from .tensor import DTypeLike, Function, Tensor, tensor, torch_args

__all__ = ["digamma", "erf", "erfc", "erfinv", "exp2", "expit", "expm1", "gammainc", "gammaincc",
           "gammaln", "polygamma",
           "log1p",
           "log_softmax", "logit", "logsumexp", "multigammaln", "ndtr", "ndtri", "psi", "softmax",
           "xlogy", "airy_ai", "bessel_j0", "bessel_j1", "bessel_y0", "bessel_y1",
           "chebyshev_polynomial_t", "chebyshev_polynomial_u", "chebyshev_polynomial_v",
           "chebyshev_polynomial_w", "entr", "erfcx", "hermite_polynomial_h",
           "hermite_polynomial_he", "i0", "i0e", "i1", "i1e", "laguerre_polynomial_l",
           "legendre_polynomial_p", "log_ndtr", "modified_bessel_i0", "modified_bessel_i1",
           "modified_bessel_k0", "modified_bessel_k1", "round", "scaled_modified_bessel_k0",
           "scaled_modified_bessel_k1", "shifted_chebyshev_polynomial_t",
           "shifted_chebyshev_polynomial_u", "shifted_chebyshev_polynomial_v",
           "shifted_chebyshev_polynomial_w", "sinc", "spherical_bessel_j0", "xlog1py", "zeta"]

psi = digamma
gammaln = lgamma


def expit(input: Tensor) -> Tensor:  # noqa: A002
    """σ(x) = 1 / (1 + exp(-x)), the logistic function (``x.sigmoid()``)."""
    return input.sigmoid()


def logit(input: Tensor, eps: float | None = None) -> Tensor:  # noqa: A002
    """log(z / (1 - z)), z = x clamped to [eps, 1 - eps] with ``eps`` (``x.logit``)."""
    return input.logit(eps)


def exp2(input: Tensor) -> Tensor:  # noqa: A002
    """2^x (float32 for an integer tensor): ``tr.exp2``, exact at the integers."""
    return _exp2(input)


def polygamma(n: int, input: Tensor) -> Tensor:  # noqa: A002
    """ψ⁽ⁿ⁾(x), as ``torch.special.polygamma`` (``tr.polygamma``)."""
    return _polygamma(n, input)


def ndtr(input: Tensor) -> Tensor:  # noqa: A002
    """Φ(x), the standard normal CDF, as erfc(-x/√2) / 2: exact in the lower tail too."""
    return erfc(input._floating() * -math.sqrt(0.5)) * 0.5


def xlogy(input: Any, other: Any) -> Tensor:  # noqa: A002
    """x log(y), 0 where x = 0 (unless y is NaN), broadcast, as ``torch.special.xlogy``:
    x · log(y'), y' = y but 1 where x = 0 and y <= 0 or y = inf, so no 0 · (-inf) reaches the
    value or the gradient. Gradients as PyTorch's: log(y) for x (0 where x = 0 and y <= 0),
    x / y for y (0 where y' replaced y)."""
    ref = input if isinstance(input, Tensor) else other
    if not isinstance(ref, Tensor):
        raise TypeError("xlogy: input or other must be a Tensor")
    x, y = (ref._pair(other, divide=True) if ref is input
            else ref._pair(input, reflected=True, divide=True))
    yd = y._data
    swap = (x._data == 0) & ((yd <= 0) | (yd == math.inf))
    return x * where(Tensor._wrap(swap, x._dev), 1.0, y).log()


def softmax(input: Tensor, dim: int, *, dtype: DTypeLike = None) -> Tensor:  # noqa: A002
    """exp(x_i) / Σ_j exp(x_j) along ``dim`` (``F.softmax``)."""
    return _softmax(input, dim, dtype=dtype)


def log_softmax(input: Tensor, dim: int, *, dtype: DTypeLike = None) -> Tensor:  # noqa: A002
    """x_i - log Σ_j exp(x_j) along ``dim`` (``F.log_softmax``)."""
    return _log_softmax(input, dim, dtype=dtype)


def ndtri(input: Tensor) -> Tensor:  # noqa: A002
    """The standard normal quantile Φ⁻¹(p) (``torch.special.ndtri``): Cephes' rational
    approximations, from p itself in both tails (exact there too); gradient √(2π) e^(y²/2)."""
    return _sp.Ndtri.apply(_tensor_in("ndtri", input)._floating())


def multigammaln(input: Tensor, p: int) -> Tensor:  # noqa: A002
    """log Γ_p(x) = p (p - 1)/4 log π + Σ_{j<p} log Γ(x - j/2), the log of the multivariate
    gamma function (the Wishart's normaliser), elementwise, as ``torch.special.multigammaln``
    and ``torch.mvlgamma``; through ``lgamma``, so as exact and differentiable twice."""
    if not isinstance(p, int) or p < 1:
        raise ValueError(f"multigammaln: the dimension p must be an int >= 1, got {p!r}")
    x = input._floating()
    halves = tensor([-0.5 * j for j in range(p)], dtype=x.dtype, device=x.device)
    return lgamma(x.unsqueeze(-1) + halves).sum(-1) + p * (p - 1) / 4 * math.log(math.pi)


# ---- the regularized incomplete gamma function ---------------------------------------------

# a >= _IGAMMA_QUADRATURE_FROM: P and Q by Gauss-Legendre quadrature of the density in
# u = log(t / a) (below it, the series and the continued fraction, which need ~sqrt(a) terms)
_IGAMMA_QUADRATURE_FROM = 100.0
_IGAMMA_NODES = 32
_IGAMMA_MAX_TERMS = 1000  # the series and the fraction converge in ~60 below a = 100
# Stirling's B_2k / (2k (2k - 1)) and ψ's B_2k / (2k), k = 1..6: for a >= 10 their 7th terms
# are below 1e-17 of the first
_STIRLING = [1 / 12, -1 / 360, 1 / 1260, -1 / 1680, 1 / 1188, -691 / 360360]
_PSI_TAIL = [1 / 12, -1 / 120, 1 / 252, -1 / 240, 1 / 132, -691 / 32760]
_EXPM1_MINUS_X = [1 / math.factorial(k) for k in range(2, 11)]  # e^u - 1 - u, |u| <= 1/20


_LEGENDRE = np.polynomial.legendre.leggauss(_IGAMMA_NODES)  # nodes on [-1, 1], weights


def _odd_series(xp: Any, coefficients: list[float], a: Any, first_power: int) -> Any:
    """Σ_k c_k a^-(first_power + 2k)."""
    inv2 = 1 / (a * a)
    s = xp.zeros(a.shape) + coefficients[-1]
    for c in reversed(coefficients[:-1]):
        s = s * inv2 + c
    return s / a ** first_power


def _igamma_series(xp: Any, a: Any, x: Any) -> tuple[Any, Any, Any, Any]:
    """For x <= a + 1: P = x p(x) S, S = Σ_n x^n / (a (a+1)···(a+n)), whose n-th term
    x^(a+n) e^-x / Γ(a+n+1) has the a-derivative (log x - ψ(a+n+1)) times itself; so
    (∂P/∂a) / p(x) = x Σ_n s_n (log x - ψ(a+n+1)), s_n S's terms. Returns P, Q = 1 - P, that
    ratio and log p(x)."""
    lx = xp.log(x)
    term = 1 / a
    s, psi = term, digamma_array(xp, a + 1)
    d = term * (lx - psi)
    for n in range(1, _IGAMMA_MAX_TERMS):
        psi = psi + 1 / (a + n)
        term = term * x / (a + n)
        s, d = s + term, d + term * (lx - psi)
        if n % 8 == 0 and bool(xp.all((term <= 1e-17 * s)
                                      & (term * xp.abs(lx - psi) <= 1e-17 * xp.abs(d)))):
            break
    log_pdf = (a - 1) * lx - x - lgamma_array(xp, a)
    p = xp.exp(log_pdf + lx) * s  # (p(x) itself may overflow where x is tiny and a < 1)
    return p, 1 - p, x * d, log_pdf


def _igamma_fraction(xp: Any, a: Any, x: Any) -> tuple[Any, Any, Any, Any]:
    """For x > a + 1: Q = x p(x) F, F = 1/(x+1-a + 1(a-1)/(x+3-a + 2(a-2)/(x+5-a + ...))),
    by the convergents A_n / B_n of the fraction, carried with their a-derivatives (A_n =
    b_n A_(n-1) + c_n A_(n-2), b_n = x + 2n - 1 - a, c_n = (n-1)(a-n+1); all four rescaled by
    1/B_n each step). ∂Q/∂a = x p(x) (F (log x - ψ(a)) + ∂F/∂a), so (∂P/∂a) / p(x) =
    -x (F (log x - ψ(a)) + ∂F/∂a). Returns P = 1 - Q, Q, that ratio and log p(x)."""
    b1 = x + 1 - a
    # the convergents 1 and 0 (A_1 = 1, B_1 = b_1; A_0 = 0, B_0 = 1), already divided by B_1
    a_cur, b_cur, da_cur, db_cur = 1 / b1, 1.0, 0.0, -1 / b1
    a_prev, b_prev, da_prev, db_prev = 0.0, 1 / b1, 0.0, 0.0
    f, df, done = a_cur, 1 / (b1 * b1), xp.zeros(x.shape, dtype=bool)
    for n in range(2, _IGAMMA_MAX_TERMS):
        bn, cn = x + (2 * n - 1) - a, (n - 1) * (a - (n - 1))
        a_new = bn * a_cur + cn * a_prev
        b_new = bn * b_cur + cn * b_prev
        da_new = bn * da_cur - a_cur + cn * da_prev + (n - 1) * a_prev
        db_new = bn * db_cur - b_cur + cn * db_prev + (n - 1) * b_prev
        scale = 1 / b_new
        a_prev, b_prev, da_prev, db_prev = a_cur * scale, b_cur * scale, da_cur * scale, \
            db_cur * scale
        a_cur, b_cur, da_cur, db_cur = a_new * scale, 1.0, da_new * scale, db_new * scale
        f_new, df_new = a_cur, da_cur - a_cur * db_cur
        # each stops where it has converged: past that, roundoff in dA and dB (which grow with
        # n) would leak into ∂F/∂a = dA - A dB
        done = done | ((xp.abs(f_new - f) <= 1e-16 * xp.abs(f_new))
                       & (xp.abs(df_new - df) <= 1e-16 * xp.abs(df_new)))
        f, df = xp.where(done, f, f_new), xp.where(done, df, df_new)
        if bool(xp.all(done)):
            break
    lx = xp.log(x)
    log_pdf = (a - 1) * lx - x - lgamma_array(xp, a)
    q = xp.exp(log_pdf + lx) * f
    return 1 - q, q, -x * (f * (lx - digamma_array(xp, a)) + df), log_pdf


def _expm1_minus_x(xp: Any, u: Any) -> Any:
    """e^u - 1 - u, by its Taylor series where |u| <= 1/20 (no cancellation; beyond, e^u - 1
    and u cancel by a factor of at most 40)."""
    s = xp.zeros(u.shape) + _EXPM1_MINUS_X[-1]
    for c in reversed(_EXPM1_MINUS_X[:-1]):
        s = s * u + c
    small = xp.abs(u) <= 0.05
    return xp.where(small, s * u * u, xp.expm1(xp.where(small, 1.0, u)) - u)


def _igamma_quadrature(xp: Any, a: Any, x: Any) -> tuple[Any, Any, Any, Any]:
    """For a >= 100: in u = log(t / a) the density of Gamma(a, 1) is exp(g(u) + c), g(u) =
    -a (e^u - 1 - u), c = a log a - a - log Γ(a) = ½ log(a / 2π) - (Stirling's series), a
    bell of width ~1/sqrt(a) with no other scale, so 32-node Gauss-Legendre integrates it to
    float64's precision over a window where it falls by e^-40: below x for P where x <= e^ψ(a)
    (where ∂p/∂a = p (log t - ψ(a)) is negative throughout), above x for Q elsewhere (positive
    throughout): no cancellation. The window's length is the least of 40 / |g'(u_x)| and 10 /
    sqrt(a) + 40 / a (+ 1/(2a)), either a drop of 40 for a concave g. (∂P/∂a) / p(x) = ±x ∫
    exp(g(u) - g(u_x)) (u + log a - ψ(a)) du, log a - ψ(a) = 1/(2a) + Σ B_2k / (2k a^2k).
    Returns P, Q, that ratio and log p(x) = g(u_x) + c - log x."""
    nodes, weights = (xp.asarray(v) for v in _LEGENDRE)
    delta = 0.5 / a + _odd_series(xp, _PSI_TAIL, a, 2)
    c = 0.5 * xp.log(a / (2 * math.pi)) - _odd_series(xp, _STIRLING, a, 1)
    ux = xp.log(x / a)
    gx = -a * _expm1_minus_x(xp, ux)
    slope = -a * xp.expm1(ux)  # g'(u_x)
    lower = ux <= -delta
    bell = 10 / xp.sqrt(a) + 40 / a + delta
    with np.errstate(divide="ignore"):
        width = xp.minimum(bell, xp.where((slope > 0) == lower, 40 / xp.abs(slope), math.inf))
    # u = u_x + v, v = -/+ width (1 + node) / 2: P's window below u_x, Q's above; g(u) -
    # g(u_x) = -a ((e^u_x - 1)(e^v - 1) + e^v - 1 - v), two terms of one sign, with no
    # cancellation of the large g's
    v = xp.where(lower, -0.5, 0.5)[:, None] * width[:, None] * (1 + nodes)
    u = ux[:, None] + v
    drop = xp.expm1(ux)[:, None] * xp.expm1(v) + _expm1_minus_x(xp, v)
    f = xp.exp(-a[:, None] * drop) * (0.5 * weights) * width[:, None]
    mass = f.sum(-1) * xp.exp(gx + c)
    ratio = x * (f * (u + delta[:, None])).sum(-1)
    p = xp.where(lower, mass, 1 - mass)
    return p, xp.where(lower, 1 - mass, mass), xp.where(lower, ratio, -ratio), gx + c - xp.log(x)


def igamma_arrays(xp: Any, a: Any, x: Any) -> tuple[Any, Any, Any, Any]:
    """P(a, x) = γ(a, x) / Γ(a) = ∫_0^x p(t) dt, p(t) = t^(a-1) e^-t / Γ(a) (the CDF of
    Gamma(a, 1)), Q(a, x) = 1 - P, (∂P/∂a)(a, x) / p(x) and p(x), for arrays that broadcast
    together, in float64: P by its series where x <= a + 1, Q by its continued fraction
    elsewhere, both below a = 100 (carrying their derivatives in a term by term), and both by
    quadrature from a = 100 on (see ``_igamma_series``, ``_igamma_fraction`` and
    ``_igamma_quadrature``). The ratio is what a reparameterised sample needs, -dx/da at
    P(a, x) fixed: finite where p(x) underflows. Edges as PyTorch's ``igamma``: NaN for a or
    x negative or NaN; P = 1 at a = 0 < x; P = 0 at x = 0 (the ratio 0); P = 0 at a = inf;
    P = 1 at x = inf (the ratio NaN there)."""
    a, x = xp.broadcast_arrays(a.astype(np.float64, copy=False), x.astype(np.float64, copy=False))
    shape = a.shape
    a, x = a.reshape(-1), x.reshape(-1)
    inside = (a > 0) & (x > 0) & (a < math.inf) & (x < math.inf)
    p, q, ratio, log_pdf = (xp.zeros(a.shape) for _ in range(4))
    big = inside & (a >= _IGAMMA_QUADRATURE_FROM)
    series = inside & ~big & (x <= a + 1)
    fraction = inside & ~big & ~series
    for part, method in ((big, _igamma_quadrature), (series, _igamma_series),
                         (fraction, _igamma_fraction)):
        if bool(part.any()):
            p[part], q[part], ratio[part], log_pdf[part] = method(xp, a[part], x[part])
    # the density at x = 0: inf, 1 or 0 for a below, at or above 1
    pdf_at_0 = xp.where(a < 1, math.inf, xp.where(a == 1, 1.0, 0.0))
    with np.errstate(over="ignore"):  # a density above 1e308 (x tiny, a < 1) is inf
        pdf = xp.where(inside, xp.exp(log_pdf), xp.where(x == 0, pdf_at_0, 0.0))
    nan = ~((a >= 0) & (x >= 0)) | ((a == 0) & (x == 0)) | ((a == math.inf) & (x == math.inf))
    edge_p = xp.where((a == 0) | (x == math.inf), 1.0, 0.0)
    p = xp.where(nan, math.nan, xp.where(inside, p, edge_p))
    q = xp.where(nan, math.nan, xp.where(inside, q, 1 - edge_p))
    ratio = xp.where(nan | (x == math.inf), math.nan, xp.where(inside, ratio, 0.0))
    pdf = xp.where(nan, math.nan, pdf)
    return tuple(v.reshape(shape) for v in (p, q, ratio, pdf))  # type: ignore[return-value]


class Gammainc(Function):
    """y = P(a, x), the regularized lower incomplete gamma function (``igamma_arrays``).
    VJP: ga = gy (∂P/∂a)(a, x) = gy p(x) R(a, x), gx = gy p(x), p(x) = x^(a-1) e^-x / Γ(a)
    the Gamma(a, 1) density, R = (∂P/∂a) / p(x) (``igamma_arrays``' ratio); on arrays only
    (``create_graph=True`` through it is refused).  Saves a and x."""

    differentiable_backward = False

    def forward(self, a: Any, x: Any) -> Any:
        self.saved = (a, x)
        return igamma_arrays(self.xp, a, x)[0].astype(np.result_type(a.dtype, x.dtype),
                                                      copy=False)

    def backward(self, gy: Any) -> tuple[Any, Any]:
        a, x = self.saved
        _, _, ratio, pdf = igamma_arrays(self.xp, a, x)
        gx = gy * pdf.astype(gy.dtype, copy=False)
        return gx * ratio.astype(gy.dtype, copy=False), gx


def gammainc(input: Tensor | Any, other: Tensor | Any) -> Tensor:  # noqa: A002
    """P(a, x) = γ(a, x) / Γ(a) = ∫_0^x t^(a-1) e^-t dt / Γ(a), a = ``input`` > 0, x =
    ``other`` >= 0, broadcast (float32 for integer tensors), as ``torch.special.gammainc``:
    the CDF of Gamma(a, 1). Differentiable in x (the density) and in a (∂P/∂a, which
    PyTorch's refuses). Accurate to ~1e-13 relative in float64, ∂P/∂a to ~1e-13 relative
    where P is not below 1e-300 (see ``igamma_arrays``)."""
    ref = input if isinstance(input, Tensor) else other
    if not isinstance(ref, Tensor):
        raise TypeError("gammainc: input or other must be a Tensor")
    a, x = (ref._pair(other) if ref is input else ref._pair(input, reflected=True))
    return Gammainc.apply(a._floating(), x._floating())


class Gammaincc(Function):
    """y = Q(a, x) = 1 - P(a, x), the regularized upper incomplete gamma function, computed
    as such (``igamma_arrays``' Q: no cancellation where P is near 1).
    VJP: ga = -gy p(x) R(a, x), gx = -gy p(x) (``Gammainc``'s, negated); on arrays only.
    Saves a and x."""

    differentiable_backward = False

    def forward(self, a: Any, x: Any) -> Any:
        self.saved = (a, x)
        return igamma_arrays(self.xp, a, x)[1].astype(np.result_type(a.dtype, x.dtype),
                                                      copy=False)

    def backward(self, gy: Any) -> tuple[Any, Any]:
        a, x = self.saved
        _, _, ratio, pdf = igamma_arrays(self.xp, a, x)
        gx = -gy * pdf.astype(gy.dtype, copy=False)
        return gx * ratio.astype(gy.dtype, copy=False), gx


def gammaincc(input: Tensor | Any, other: Tensor | Any) -> Tensor:  # noqa: A002
    """Q(a, x) = 1 - P(a, x) = Γ(a, x) / Γ(a), a = ``input``, x = ``other``, broadcast, as
    ``torch.special.gammaincc`` (``tr.igammac``): differentiable in x and, unlike
    PyTorch's, in a (``gammainc``'s accuracy)."""
    ref = input if isinstance(input, Tensor) else other
    if not isinstance(ref, Tensor):
        raise TypeError("gammaincc: input or other must be a Tensor")
    a, x = (ref._pair(other) if ref is input else ref._pair(input, reflected=True))
    return Gammaincc.apply(a._floating(), x._floating())


# ---- Bessel, Airy, erfcx, log Φ, entr, xlog1py, zeta, round, the polynomials ---------------


def _tensor_in(what: str, input: Any) -> Tensor:  # noqa: A002
    if not isinstance(input, Tensor):
        raise TypeError(f"{what}: input must be a Tensor, got {type(input).__name__}")
    return input


def i0e(input: Tensor) -> Tensor:  # noqa: A002
    """e^-|x| I0(x), the exponentially scaled I0 (finite for every x), as
    ``torch.special.i0e``; gradient i1e(x) - sgn(x) i0e(x)."""
    return _sp.I0e.apply(_tensor_in("i0e", input)._floating())


def i1(input: Tensor) -> Tensor:  # noqa: A002
    """I1(x), the modified Bessel function of the first kind of order 1, as
    ``torch.special.i1``; gradient I0(x) - I1(x)/x (1/2 at 0)."""
    return _I1.apply(_tensor_in("i1", input)._floating())


def i1e(input: Tensor) -> Tensor:  # noqa: A002
    """e^-|x| I1(x), as ``torch.special.i1e``; gradient i0e(x) - i1e(x)(sgn x + 1/x)."""
    return _sp.I1e.apply(_tensor_in("i1e", input)._floating())


def modified_bessel_i0(input: Tensor) -> Tensor:  # noqa: A002
    """I0(x) (``i0``), as ``torch.special.modified_bessel_i0``; gradient I1(x)."""
    return i0(_tensor_in("modified_bessel_i0", input))


def modified_bessel_i1(input: Tensor) -> Tensor:  # noqa: A002
    """I1(x) (``i1``), as ``torch.special.modified_bessel_i1``."""
    return i1(_tensor_in("modified_bessel_i1", input))


def modified_bessel_k0(input: Tensor) -> Tensor:  # noqa: A002
    """K0(x), the modified Bessel function of the second kind (inf at 0, NaN below), as
    ``torch.special.modified_bessel_k0``; gradient -K1(x)."""
    return _sp.ModifiedBesselK0.apply(_tensor_in("modified_bessel_k0", input)._floating())


def modified_bessel_k1(input: Tensor) -> Tensor:  # noqa: A002
    """K1(x), as ``torch.special.modified_bessel_k1``; gradient -K0(x) - K1(x)/x."""
    return _sp.ModifiedBesselK1.apply(_tensor_in("modified_bessel_k1", input)._floating())


def scaled_modified_bessel_k0(input: Tensor) -> Tensor:  # noqa: A002
    """e^x K0(x), as ``torch.special.scaled_modified_bessel_k0``."""
    return _sp.ScaledModifiedBesselK0.apply(
        _tensor_in("scaled_modified_bessel_k0", input)._floating())


def scaled_modified_bessel_k1(input: Tensor) -> Tensor:  # noqa: A002
    """e^x K1(x), as ``torch.special.scaled_modified_bessel_k1``."""
    return _sp.ScaledModifiedBesselK1.apply(
        _tensor_in("scaled_modified_bessel_k1", input)._floating())


def bessel_j0(input: Tensor) -> Tensor:  # noqa: A002
    """J0(x), the Bessel function of the first kind of order 0, as
    ``torch.special.bessel_j0``; gradient -J1(x)."""
    return _sp.BesselJ0.apply(_tensor_in("bessel_j0", input)._floating())


def bessel_j1(input: Tensor) -> Tensor:  # noqa: A002
    """J1(x), as ``torch.special.bessel_j1``; gradient J0(x) - J1(x)/x (1/2 at 0)."""
    return _sp.BesselJ1.apply(_tensor_in("bessel_j1", input)._floating())


def bessel_y0(input: Tensor) -> Tensor:  # noqa: A002
    """Y0(x), the Bessel function of the second kind (-inf at 0, NaN below), as
    ``torch.special.bessel_y0``; gradient -Y1(x)."""
    return _sp.BesselY0.apply(_tensor_in("bessel_y0", input)._floating())


def bessel_y1(input: Tensor) -> Tensor:  # noqa: A002
    """Y1(x), as ``torch.special.bessel_y1``; gradient Y0(x) - Y1(x)/x."""
    return _sp.BesselY1.apply(_tensor_in("bessel_y1", input)._floating())


def spherical_bessel_j0(input: Tensor) -> Tensor:  # noqa: A002
    """j0(x) = sin(x)/x (1 at 0, 0 at ±inf), as ``torch.special.spherical_bessel_j0``;
    gradient (cos x - j0(x))/x."""
    return _sp.SphericalBesselJ0.apply(_tensor_in("spherical_bessel_j0", input)._floating())


def airy_ai(input: Tensor) -> Tensor:  # noqa: A002
    """Ai(x), Airy's function of the first kind, as ``torch.special.airy_ai``: no gradient
    (as PyTorch's; the result does not require grad)."""
    x = _tensor_in("airy_ai", input)._floating()
    return Tensor._wrap(_sp.airy_ai_array(x._dev.xp, x._data), x._dev)


def erfcx(input: Tensor) -> Tensor:  # noqa: A002
    """erfcx(x) = e^(x²) erfc(x), the scaled complementary error function (no overflow or
    underflow for large x), as ``torch.special.erfcx``; gradient 2x erfcx(x) - 2/√π."""
    return _sp.Erfcx.apply(_tensor_in("erfcx", input)._floating())


def log_ndtr(input: Tensor) -> Tensor:  # noqa: A002
    """log Φ(x), the log of the standard normal CDF, finite far into the left tail, as
    ``torch.special.log_ndtr``; gradient φ(x)/Φ(x)."""
    return _sp.LogNdtr.apply(_tensor_in("log_ndtr", input)._floating())


def entr(input: Tensor) -> Tensor:  # noqa: A002
    """-x log x for x > 0, 0 at 0, -inf below, as ``torch.special.entr``; gradient
    -(1 + log x)."""
    return _sp.Entr.apply(_tensor_in("entr", input)._floating())


def xlog1py(input: Any, other: Any) -> Tensor:  # noqa: A002
    """x log(1 + y), 0 where x = 0 (unless y is NaN), broadcast, as
    ``torch.special.xlog1py``: x · log1p(y'), y' = y but 0 where x = 0 and y <= -1 or
    y = inf. Gradients as PyTorch's: log1p(y) for x (0 where x = 0 and y <= -1), x / (1 + y)
    for y (0 where y' replaced y)."""
    ref = input if isinstance(input, Tensor) else other
    if not isinstance(ref, Tensor):
        raise TypeError("xlog1py: input or other must be a Tensor")
    x, y = (ref._pair(other, divide=True) if ref is input
            else ref._pair(input, reflected=True, divide=True))
    yd = y._data
    swap = (x._data == 0) & ((yd <= -1) | (yd == math.inf))
    return x * log1p(where(Tensor._wrap(swap, x._dev), 0.0, y))


def zeta(input: Any, other: Any) -> Tensor:  # noqa: A002
    """ζ(x, q) = Σ_{k>=0} (q + k)^-x, Hurwitz's zeta function, x = ``input``, q = ``other``
    (either may be a number), broadcast, as ``torch.special.zeta``: inf at x = 1 and at q a
    non-positive integer, NaN for x < 1. Differentiable in q (-x ζ(x + 1, q)); a gradient in
    x raises a RuntimeError at backward, as PyTorch's."""
    ref = input if isinstance(input, Tensor) else other
    if not isinstance(ref, Tensor):
        raise TypeError("zeta: input or other must be a Tensor")
    x, q = (ref._pair(other) if ref is input else ref._pair(input, reflected=True))
    x, q = x._floating(), q._floating()
    return _sp.Zeta.apply(x, q, x_needs_grad=x.requires_grad)


def round(input: Tensor, *, decimals: int = 0) -> Tensor:  # noqa: A001, A002
    """``x.round(decimals)``: halves to even, as ``torch.special.round``."""
    return _tensor_in("round", input).round(decimals)


def _polynomial(name: str, input: Any, n: Any) -> Tensor:  # noqa: A002
    """The polynomial ``name`` of degree(s) n at ``input`` (tensors or numbers, one at
    least a tensor), promoted as arithmetic (float32 for two integer ones); no gradient."""
    ref = input if isinstance(input, Tensor) else n
    if not isinstance(ref, Tensor):
        raise TypeError(f"{name}: input or n must be a Tensor")
    x, k = (ref._pair(n) if ref is input else ref._pair(input, reflected=True))
    x = x._floating()
    return Tensor._wrap(_sp.polynomial_array(x._dev.xp, name, x._data, k._data), x._dev)


def chebyshev_polynomial_t(input: Any, n: Any) -> Tensor:  # noqa: A002
    """T_n(x), Chebyshev's polynomial of the first kind, as
    ``torch.special.chebyshev_polynomial_t``."""
    return _polynomial("chebyshev_polynomial_t", input, n)


def chebyshev_polynomial_u(input: Any, n: Any) -> Tensor:  # noqa: A002
    """U_n(x), of the second kind."""
    return _polynomial("chebyshev_polynomial_u", input, n)


def chebyshev_polynomial_v(input: Any, n: Any) -> Tensor:  # noqa: A002
    """V_n(x), of the third kind."""
    return _polynomial("chebyshev_polynomial_v", input, n)


def chebyshev_polynomial_w(input: Any, n: Any) -> Tensor:  # noqa: A002
    """W_n(x), of the fourth kind."""
    return _polynomial("chebyshev_polynomial_w", input, n)


def shifted_chebyshev_polynomial_t(input: Any, n: Any) -> Tensor:  # noqa: A002
    """T*_n(x) = T_n(2x - 1), on [0, 1]."""
    return _polynomial("shifted_chebyshev_polynomial_t", input, n)


def shifted_chebyshev_polynomial_u(input: Any, n: Any) -> Tensor:  # noqa: A002
    """U*_n(x) = U_n(2x - 1)."""
    return _polynomial("shifted_chebyshev_polynomial_u", input, n)


def shifted_chebyshev_polynomial_v(input: Any, n: Any) -> Tensor:  # noqa: A002
    """V*_n(x) = V_n(2x - 1)."""
    return _polynomial("shifted_chebyshev_polynomial_v", input, n)


def shifted_chebyshev_polynomial_w(input: Any, n: Any) -> Tensor:  # noqa: A002
    """W*_n(x) = W_n(2x - 1)."""
    return _polynomial("shifted_chebyshev_polynomial_w", input, n)


def hermite_polynomial_h(input: Any, n: Any) -> Tensor:  # noqa: A002
    """H_n(x), the physicists' Hermite polynomial (NaN past n = 512, as PyTorch's)."""
    return _polynomial("hermite_polynomial_h", input, n)


def hermite_polynomial_he(input: Any, n: Any) -> Tensor:  # noqa: A002
    """He_n(x), the probabilists' Hermite polynomial."""
    return _polynomial("hermite_polynomial_he", input, n)


def laguerre_polynomial_l(input: Any, n: Any) -> Tensor:  # noqa: A002
    """L_n(x), Laguerre's polynomial."""
    return _polynomial("laguerre_polynomial_l", input, n)


def legendre_polynomial_p(input: Any, n: Any) -> Tensor:  # noqa: A002
    """P_n(x), Legendre's polynomial."""
    return _polynomial("legendre_polynomial_p", input, n)


# PyTorch's keyword for the first argument, where ours is named otherwise (``torch_args``)
torch_args(globals(), {
    **dict.fromkeys(("digamma", "erf", "erfc", "erfinv", "expm1", "gammaln", "i0", "log1p",
                     "logsumexp", "psi", "sinc"), "input"),
    **dict.fromkeys((
        "airy_ai", "chebyshev_polynomial_t", "chebyshev_polynomial_u", "chebyshev_polynomial_v",
        "chebyshev_polynomial_w", "hermite_polynomial_h", "hermite_polynomial_he",
        "laguerre_polynomial_l", "legendre_polynomial_p", "scaled_modified_bessel_k0",
        "scaled_modified_bessel_k1", "shifted_chebyshev_polynomial_t",
        "shifted_chebyshev_polynomial_u", "shifted_chebyshev_polynomial_v",
        "shifted_chebyshev_polynomial_w", "spherical_bessel_j0"), "x"),
})
