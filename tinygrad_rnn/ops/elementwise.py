"""Elementwise ops. Each docstring gives the forward formula, the vector-Jacobian product
(``gx`` from the upstream gradient ``gy``) and what the op saves for backward.

Binary ops return gradients in the broadcast shape: the engine sums them back to each input's
shape, so no op here contains shape logic.

Ops with ``complex_ok = True`` also take complex numbers: a holomorphic f gets the VJP
gy * conj(f'(z)) (PyTorch's convention). For an f with real coefficients (exp, sin, log, ...)
conj(f'(z)) = f'(conj(z)), so such a backward conjugates its saved value (``conj_``, which
leaves a real array as it is) and keeps the real formula.
"""

from __future__ import annotations

import math
import warnings
from typing import Any, NamedTuple

import numpy as np

from .. import autograd
from ..tensor import DTypeError, Function, Tensor, _default_complex, conj_, default_dtype


class Add(Function):
    """y = x0 + x1.  VJP: g0 = gy, g1 = gy.  JVP: linear.  Saves nothing."""

    complex_ok = True
    linear = True  # forward mode: J·v = the op applied to v

    def forward(self, x0: Any, x1: Any) -> Any:
        return x0 + x1

    def backward(self, gy: Any) -> Any:
        return gy, gy


class Sub(Function):
    """y = x0 - x1.  VJP: g0 = gy, g1 = -gy.  JVP: linear.  Saves nothing."""

    complex_ok = True
    linear = True  # forward mode: J·v = the op applied to v

    def forward(self, x0: Any, x1: Any) -> Any:
        return x0 - x1

    def backward(self, gy: Any) -> Any:
        return gy, -gy


class Mul(Function):
    """y = x0 * x1.  VJP: g0 = gy * conj(x1), g1 = gy * conj(x0) (conj does nothing to real
    numbers: the complex VJP of a holomorphic f is gy * conj(f'(z))), each only where that
    input needed a gradient (``x * 0.5``: the constant needs none).
    JVP: ty = t0 * x1 + x0 * t1.  Saves both inputs."""

    complex_ok = True

    def forward(self, x0: Any, x1: Any) -> Any:
        self.saved = (x0, x1)
        return x0 * x1

    def backward(self, gy: Any) -> Any:
        (x0, x1), (e0, e1) = self.saved, self.edges  # an edge (_, -1): no gradient needed
        return (None if e0[1] < 0 else gy * conj_(x1),
                None if e1[1] < 0 else gy * conj_(x0))

    def jvp(self, t0: Any, t1: Any) -> Any:
        x0, x1 = self.saved
        return t0 * x1 + x0 * t1


# NumPy's floating-point warnings (0 / 0, log(0), sqrt(-1), exp overflow) silenced in the ops
# that meet them in ordinary use: the result is NaN or inf, as PyTorch's, which warns of none
# (``tr.detect_anomaly()`` finds where they start)
_QUIET = {"divide": "ignore", "invalid": "ignore", "over": "ignore"}


class Div(Function):
    """y = x0 / x1.  VJP: g0 = gy / x1, g1 = -gy * x0 / x1², computed as -gy (x0 / x1) / x1
    (as PyTorch), since x1² overflows or underflows where the quotient does not; complex:
    each factor conjugated.  JVP: ty = (t0 - y t1) / x1.  Saves both inputs."""

    complex_ok = True

    def forward(self, x0: Any, x1: Any) -> Any:
        self.saved = (x0, x1)
        with np.errstate(**_QUIET):
            return x0 / x1

    def backward(self, gy: Any) -> Any:
        x0, x1 = self.saved
        with np.errstate(**_QUIET):
            x1_ = conj_(x1)
            return gy / x1_, -gy * conj_(x0 / x1) / x1_

    def jvp(self, t0: Any, t1: Any) -> Any:
        x0, x1 = self.saved
        with np.errstate(**_QUIET):
            return (t0 - x0 / x1 * t1) / x1


class Neg(Function):
    """y = -x.  VJP: gx = -gy.  JVP: linear.  Saves nothing."""

    complex_ok = True
    linear = True  # forward mode: J·v = the op applied to v

    def forward(self, x: Any) -> Any:
        return -x

    def backward(self, gy: Any) -> Any:
        return -gy


class PowScalar(Function):
    """y = x ** p for a number p.  VJP: gx = gy * conj(p * x ** (p - 1)).
    JVP: ty = p x^(p-1) t.  Saves x."""

    complex_ok = True

    def forward(self, x: Any, p: float) -> Any:
        self.p = p
        self.saved = (x,)
        return x**p

    def backward(self, gy: Any) -> Any:
        (x,) = self.saved
        if self.p == 0:
            return gy * 0
        return gy * conj_(self.p * x ** (self.p - 1))

    def jvp(self, t: Any) -> Any:
        (x,) = self.saved
        return t * 0 if self.p == 0 else self.p * x ** (self.p - 1) * t


class Pow(Function):
    """y = x0 ** x1 (tensor exponent).

    VJP: g0 = gy * x1 * x0 ** (x1 - 1), taken as 0 at x0 = x1 = 0 (y = 1 around there, where
    the formula is 0 * inf; as PyTorch);  g1 = gy * y * log(x0), where x0 = 0 taken as 0 for
    x1 >= 0 (the limit for x1 > 0) and as gy * inf * log(0) = -inf * gy for x1 < 0, as
    PyTorch; NaN where x0 < 0 (no real logarithm).  Complex (either side): g0 = gy *
    conj(x1 * x0 ** (x1 - 1)), g1 = gy * conj(y * log(x0)), 0 at x0 = 0.  Saves x0, x1, y.
    """

    complex_ok = True

    def forward(self, x0: Any, x1: Any) -> Any:
        if x1.dtype.kind == "i" and bool((x1 < 0).any()):
            y = _integer_pow(self.xp, x0, x1)
        else:
            y = x0**x1
        self.saved = (x0, x1, y)
        return y

    def backward(self, gy: Any) -> Any:
        xp = self.xp
        x0, x1, y = self.saved
        if y.dtype.kind == "c":
            x0 = x0.astype(y.dtype)  # a real base's logarithm is complex where it is < 0
            with np.errstate(divide="ignore", invalid="ignore"):
                g0 = gy * (x1 * x0 ** (x1 - 1)).conj()
                g1 = gy * (y * xp.log(xp.where(x0 == 0, 1, x0))).conj()
            return g0, xp.where(x0 == 0, 0, g1)
        log_x0 = xp.log(xp.where(x0 > 0, x0, 1))  # 0 at x0 <= 0, then set there:
        log_x0 = xp.where(x0 == 0, xp.where(x1 < 0, log_x0 - np.inf, log_x0), log_x0)
        log_x0 = xp.where(x0 < 0, np.nan, log_x0)  # (each where keeps x0's dtype)
        with np.errstate(divide="ignore", invalid="ignore"):  # 0 ** negative is inf, as torch
            g0 = gy * x1 * x0 ** (x1 - 1)
            g1 = gy * y * log_x0
        return xp.where(x1 == 0, xp.where(x0 == 0, 0, g0), g0), g1


def _integer_pow(xp: Any, x0: Any, x1: Any) -> Any:
    """x0 ** x1 for integers with some x1 < 0, as PyTorch's: 1 / x0 ** |x1| rounded toward
    zero, so 1 for x0 = 1, +-1 for x0 = -1 (by the parity of x1) and 0 otherwise (NumPy
    refuses negative integer exponents)."""
    y = x0 ** xp.where(x1 < 0, 0, x1)
    odd = (x1 & 1).astype(bool)
    inverse = xp.where(x0 == 1, 1, xp.where(x0 == -1, xp.where(odd, -1, 1), 0))
    return xp.where(x1 < 0, inverse, y).astype(y.dtype)


def _refuse_integer_zero(x1: Any, op: str) -> None:
    """An integer division by zero has no answer: raise, as PyTorch does (NumPy would warn
    and give 0; CuPy would give 0 silently). Costs one device-to-host sync on a GPU."""
    if x1.dtype.kind in "biu" and bool((x1 == 0).any()):
        raise ZeroDivisionError(f"integer {op} by zero")


class FloorDivide(Function):
    """y = floor(x0 / x1), computed as NumPy's and PyTorch's floor_divide do (from fmod, so
    exact: floor of the rounded quotient could be off by one).  A float division by zero,
    or one that overflows, gives ±inf or NaN as PyTorch does, without NumPy's warning.

    VJP: g0 = g1 = 0: y is a step function, whose derivative is 0 wherever it has one (as
    ``torch.div(x0, x1, rounding_mode="floor")``; PyTorch's ``//`` raises in backward).
    Saves nothing.
    """

    def forward(self, x0: Any, x1: Any) -> Any:
        _refuse_integer_zero(x1, "//")
        with np.errstate(all="ignore"):
            return self.xp.floor_divide(x0, x1)

    def backward(self, gy: Any) -> Any:
        xp = self.xp  # two arrays: a gradient must never alias another
        return xp.zeros(gy.shape, dtype=gy.dtype), xp.zeros(gy.shape, dtype=gy.dtype)


class Remainder(Function):
    """y = x0 - floor(x0 / x1) x1, the sign of x1's (Python's %, ``torch.remainder``),
    computed from fmod (exact).  A float x1 = 0 gives NaN, as PyTorch, without a warning.

    VJP: g0 = gy, g1 = -gy * floor(x0 / x1) (as PyTorch; y jumps where x0 / x1 is an
    integer).  Saves x0 and x1.
    """

    def forward(self, x0: Any, x1: Any) -> Any:
        _refuse_integer_zero(x1, "%")
        self.saved = (x0, x1)
        with np.errstate(all="ignore"):
            return self.xp.remainder(x0, x1)

    def backward(self, gy: Any) -> Any:
        x0, x1 = self.saved
        with np.errstate(all="ignore"):
            return gy, -gy * (x0 // x1)  # on Tensors (create_graph), // is FloorDivide


class Fmod(Function):
    """y = x0 - trunc(x0 / x1) x1, the sign of x0's (C's fmod, ``torch.fmod``), exact.  A float
    x1 = 0 gives NaN, as PyTorch, without a warning.

    VJP: g0 = gy, g1 = -gy * trunc(x0 / x1) (as PyTorch; y jumps where x0 / x1 is an
    integer).  Saves x0 and x1.
    """

    def forward(self, x0: Any, x1: Any) -> Any:
        _refuse_integer_zero(x1, "fmod")
        self.saved = (x0, x1)
        with np.errstate(all="ignore"):
            return self.xp.fmod(x0, x1)

    def backward(self, gy: Any) -> Any:
        x0, x1 = self.saved
        with np.errstate(all="ignore"):
            return gy, -gy * self.xp.trunc(x0 / x1)


class Exp(Function):
    """y = exp(x).  VJP: gx = gy * conj(y).  JVP: ty = y t.  Saves y."""

    complex_ok = True

    def forward(self, x: Any) -> Any:
        with np.errstate(**_QUIET):
            y = self.xp.exp(x)
        self.saved = (y,)
        return y

    def backward(self, gy: Any) -> Any:
        (y,) = self.saved
        with np.errstate(**_QUIET):  # inf * 0
            return gy * conj_(y)

    def jvp(self, t: Any) -> Any:
        with np.errstate(**_QUIET):
            return self.saved[0] * t


class Log(Function):
    """y = log(x).  VJP: gx = gy / conj(x).  JVP: ty = t / x.  Saves x."""

    complex_ok = True

    def forward(self, x: Any) -> Any:
        self.saved = (x,)
        with np.errstate(**_QUIET):
            return self.xp.log(x)

    def backward(self, gy: Any) -> Any:
        (x,) = self.saved
        with np.errstate(**_QUIET):
            return gy / conj_(x)

    def jvp(self, t: Any) -> Any:
        with np.errstate(**_QUIET):
            return t / self.saved[0]


class Sqrt(Function):
    """y = sqrt(x).  VJP: gx = gy / (2 conj(y)).  JVP: ty = t / (2 y).  Saves y."""

    complex_ok = True

    def forward(self, x: Any) -> Any:
        with np.errstate(**_QUIET):
            y = self.xp.sqrt(x)
        self.saved = (y,)
        return y

    def backward(self, gy: Any) -> Any:
        (y,) = self.saved
        with np.errstate(**_QUIET):
            return gy / (2 * conj_(y))

    def jvp(self, t: Any) -> Any:
        with np.errstate(**_QUIET):
            return t / (2 * self.saved[0])


class Tanh(Function):
    """y = tanh(x).  VJP: gx = gy * conj(1 - y²).  JVP: ty = (1 - y²) t.  Saves y."""

    complex_ok = True

    def forward(self, x: Any) -> Any:
        y = self.xp.tanh(x)
        self.saved = (y,)
        return y

    def backward(self, gy: Any) -> Any:
        y = conj_(self.saved[0])
        return gy * (1 - y * y)

    def jvp(self, t: Any) -> Any:
        y = self.saved[0]
        return (1 - y * y) * t


class Sin(Function):
    """y = sin(x).  VJP: gx = gy * conj(cos(x)).  JVP: ty = cos(x) t.  Saves x."""

    complex_ok = True

    def forward(self, x: Any) -> Any:
        self.saved = (x,)
        return self.xp.sin(x)

    def backward(self, gy: Any) -> Any:
        (x,) = self.saved
        return gy * self.xp.cos(conj_(x))

    def jvp(self, t: Any) -> Any:
        return self.xp.cos(self.saved[0]) * t


class Cos(Function):
    """y = cos(x).  VJP: gx = -gy * conj(sin(x)).  JVP: ty = -sin(x) t.  Saves x."""

    complex_ok = True

    def forward(self, x: Any) -> Any:
        self.saved = (x,)
        return self.xp.cos(x)

    def backward(self, gy: Any) -> Any:
        (x,) = self.saved
        return -gy * self.xp.sin(conj_(x))

    def jvp(self, t: Any) -> Any:
        return -self.xp.sin(self.saved[0]) * t


_LN2, _LN10 = math.log(2.0), math.log(10.0)


class Log2(Function):
    """y = log2(x), exact at powers of two (log(x) / log(2) can miss by one unit in the last
    place: 2.9999999999999996 for x = 8).  VJP: gx = gy / (x ln 2).  Saves x.  x < 0 gives NaN
    and x = 0 gives -inf, as PyTorch, without NumPy's warning."""

    complex_ok = True

    def forward(self, x: Any) -> Any:
        self.saved = (x,)
        with np.errstate(divide="ignore", invalid="ignore"):
            return self.xp.log2(x)

    def backward(self, gy: Any) -> Any:
        x = conj_(self.saved[0])
        with np.errstate(divide="ignore", invalid="ignore"):
            return gy / (x * _LN2)


class Logit(Function):
    """y = log(x / (1 - x)), the inverse of the sigmoid, as ``torch.logit``: -inf at 0, inf
    at 1, NaN outside [0, 1], without NumPy's warnings.  VJP: gx = gy / (x (1 - x)), NaN
    where x lies outside [0, 1] (as PyTorch's).  Saves x."""

    def forward(self, x: Any) -> Any:
        self.saved = (x,)
        with np.errstate(divide="ignore", invalid="ignore"):
            return self.xp.log(x) - self.xp.log1p(-x)

    def backward(self, gy: Any) -> Any:
        (x,) = self.saved
        xp = self.xp
        with np.errstate(divide="ignore", invalid="ignore"):
            g = gy / (x * (1 - x))
        return xp.where((x < 0) | (x > 1), xp.nan, g)


class Log10(Function):
    """y = log10(x), exact at powers of ten.  VJP: gx = gy / (x ln 10).  Saves x.  (x <= 0 as
    ``Log2``.)"""

    complex_ok = True

    def forward(self, x: Any) -> Any:
        self.saved = (x,)
        with np.errstate(divide="ignore", invalid="ignore"):
            return self.xp.log10(x)

    def backward(self, gy: Any) -> Any:
        x = conj_(self.saved[0])
        with np.errstate(divide="ignore", invalid="ignore"):
            return gy / (x * _LN10)


class Tan(Function):
    """y = tan(x).  VJP: gx = gy * (1 + y²) (from y: no cos(x)² to divide by).  Saves y."""

    complex_ok = True

    def forward(self, x: Any) -> Any:
        with np.errstate(invalid="ignore"):  # tan(±inf) is NaN, as PyTorch, without a warning
            y = self.xp.tan(x)
        self.saved = (y,)
        return y

    def backward(self, gy: Any) -> Any:
        y = conj_(self.saved[0])
        return gy * (1 + y * y)


class Asin(Function):
    """y = asin(x), in [-π/2, π/2] (NaN outside [-1, 1], as PyTorch, without a warning).

    VJP: gx = gy / √(1 - x²) (±inf at x = ±1, as PyTorch).  Saves x."""

    complex_ok = True

    def forward(self, x: Any) -> Any:
        self.saved = (x,)
        with np.errstate(invalid="ignore"):
            return self.xp.arcsin(x)

    def backward(self, gy: Any) -> Any:
        x = conj_(self.saved[0])
        with np.errstate(divide="ignore", invalid="ignore"):
            return gy / self.xp.sqrt(1 - x * x)


class Acos(Function):
    """y = acos(x), in [0, π] (NaN outside [-1, 1], as ``Asin``).

    VJP: gx = -gy / √(1 - x²).  Saves x."""

    complex_ok = True

    def forward(self, x: Any) -> Any:
        self.saved = (x,)
        with np.errstate(invalid="ignore"):
            return self.xp.arccos(x)

    def backward(self, gy: Any) -> Any:
        x = conj_(self.saved[0])
        with np.errstate(divide="ignore", invalid="ignore"):
            return -gy / self.xp.sqrt(1 - x * x)


class Atan(Function):
    """y = atan(x), in (-π/2, π/2).  VJP: gx = gy / (1 + x²).  Saves x."""

    complex_ok = True

    def forward(self, x: Any) -> Any:
        self.saved = (x,)
        return self.xp.arctan(x)

    def backward(self, gy: Any) -> Any:
        x = conj_(self.saved[0])
        return gy / (1 + x * x)


class Atan2(Function):
    """y = atan2(x0, x1): the angle of the point (x1, x0), in [-π, π] (x0 is the ordinate,
    as ``torch.atan2(input, other)``).

    VJP: g0 = gy x1 / (x0² + x1²), g1 = -gy x0 / (x0² + x1²); both 0 at the origin, where
    the angle has no derivative (as PyTorch).  Saves x0 and x1.
    """

    def forward(self, x0: Any, x1: Any) -> Any:
        self.saved = (x0, x1)
        return self.xp.arctan2(x0, x1)

    def backward(self, gy: Any) -> Any:
        xp = self.xp
        x0, x1 = self.saved
        r2 = x0 * x0 + x1 * x1
        g = gy / xp.where(r2 == 0, 1, r2)  # at the origin x0 = x1 = 0, so both are 0
        return g * x1, -g * x0


class Log1p(Function):
    """y = log(1 + x), exact where x is tiny (1 + x would round to 1 first).  VJP: gx = gy /
    (1 + x).  Saves x."""

    complex_ok = True

    def forward(self, x: Any) -> Any:
        self.saved = (x,)
        with np.errstate(**_QUIET):
            return self.xp.log1p(x)

    def backward(self, gy: Any) -> Any:
        x = conj_(self.saved[0])
        with np.errstate(**_QUIET):
            return gy / (1 + x)


class Expm1(Function):
    """y = exp(x) - 1, exact where x is tiny (exp(x) would round to 1 first).  VJP: gx = gy *
    exp(x) (PyTorch's y + 1 cancels where x << 0: at x = -40 it is 0, not 4e-18; elu's tail
    needs it).  Saves x."""

    complex_ok = True

    def forward(self, x: Any) -> Any:
        self.saved = (x,)
        return self.xp.expm1(x)

    def backward(self, gy: Any) -> Any:
        x = conj_(self.saved[0])
        return gy * self.xp.exp(x)


_TWO_OVER_SQRT_PI = 2 / math.sqrt(math.pi)
# erf's series in t = z²: 2^k / (1·3·5···(2k+1)) for k = 0..30 (30 terms: exact to the last
# bit up to z = 2, where the continued fraction takes over)
_ERF_SERIES = [2**k / math.prod(range(1, 2 * k + 2, 2)) for k in range(31)]
_ERFC_TERMS = 26  # levels of the continued fraction: exact to the last bit from z = 2 on


def erf_array(xp: Any, x: Any) -> Any:
    """erf(x) of an array, to a few units in the last place of float64 (NumPy has no erf, and
    low-order rational approximations are good to 1e-7 at best). In float64, for z = |x|:

    - z < 2: the series erf(z) = 2/√π z exp(-z²) Σ_k (2z²)^k / (1·3···(2k+1)), whose terms
      are all positive (no cancellation; the Taylor series alternates), summed by Horner;
    - z >= 2: 1 - erfc(z), erfc from its continued fraction (Abramowitz & Stegun 7.1.14)
      erfc(z) = exp(-z²)/√π · 2z / (2z² + 1 - 1·2 / (2z² + 5 - 3·4 / (2z² + 9 - ...))),
      evaluated from a fixed depth back; z is capped at 6, where erf is 1 in float64.

    erf is odd, so the sign is x's (-0 and NaN kept)."""
    z = xp.abs(x).astype(np.float64, copy=False).reshape(-1)  # 1-D: NumPy's 0-d would be scalars
    near = xp.minimum(z, 2.0)  # the series, for every element (the far ones replaced below)
    t = near * near
    s = xp.full(z.shape, _ERF_SERIES[-1])
    for c in reversed(_ERF_SERIES[:-1]):
        s *= t
        s += c
    y = _TWO_OVER_SQRT_PI * near * xp.exp(-t) * s
    far = z >= 2.0  # the continued fraction only where it is needed (false at NaN)
    w = xp.minimum(z[far], 6.0)
    t2 = 2 * w * w
    d = t2 + (4 * _ERFC_TERMS + 1)
    for k in range(_ERFC_TERMS, 0, -1):
        d = t2 + (4 * k - 3) - (2 * k - 1) * (2 * k) / d
    y[far] = 1 - xp.exp(-w * w) * (_TWO_OVER_SQRT_PI * w / d)
    return xp.copysign(y.reshape(x.shape), x).astype(x.dtype, copy=False)


class Erf(Function):
    """y = erf(x) = 2/√π ∫₀ˣ exp(-t²) dt (``erf_array``; in float64 inside, rounded to x's
    dtype).  VJP: gx = gy * 2/√π exp(-x²).  Saves x."""

    def forward(self, x: Any) -> Any:
        self.saved = (x,)
        return erf_array(self.xp, x)

    def backward(self, gy: Any) -> Any:
        (x,) = self.saved
        return gy * (_TWO_OVER_SQRT_PI * self.xp.exp(-(x * x)))


# Giles' single-precision erfinv (2010): a polynomial in w - 2.5 for w = -log(1 - x²) < 5,
# else in √w - 3; good to about 1e-7, then Newton's method makes it float64's
_ERFINV_NEAR = [2.81022636e-08, 3.43273939e-07, -3.5233877e-06, -4.39150654e-06,
                0.00021858087, -0.00125372503, -0.00417768164, 0.246640727, 1.50140941]
_ERFINV_STEPS = 4  # Newton steps: 3 leave 4e-10 at 1 - 2**-53, 4 reach float64's last bits
_ERFINV_FAR = [-0.000200214257, 0.000100950558, 0.00134934322, -0.00367342844,
               0.00573950773, -0.0076224613, 0.00943887047, 1.00167406, 2.83297682]


def erfinv_array(xp: Any, x: Any) -> Any:
    """erfinv(x), the y with erf(y) = x, of an array: Giles' approximation, then three
    Newton steps, to a few units in the last place of float64: on erf(y) = |x| below 0.5,
    and on log erfc(y) = log(1 - |x|) from 0.5 on (1 - |x| is exact there, and the
    logarithm makes the tail, where erfc falls off as exp(-y²), nearly linear). ±1 give ±inf
    and |x| > 1 NaN, as PyTorch's; the sign is x's."""
    a = xp.abs(x).astype(np.float64, copy=False).reshape(-1)
    inside = a < 1
    z = xp.where(inside, a, 0.0)
    with np.errstate(divide="ignore"):
        w = -xp.log((1 - z) * (1 + z))
    near, far = w - 2.5, xp.sqrt(w) - 3
    pn, pf = xp.full(z.shape, _ERFINV_NEAR[0]), xp.full(z.shape, _ERFINV_FAR[0])
    for cn, cf in zip(_ERFINV_NEAR[1:], _ERFINV_FAR[1:]):
        pn, pf = pn * near + cn, pf * far + cf
    y = xp.where(w < 5, pn, pf) * z
    small = z < 0.5
    log_c = xp.log(xp.where(small, 1.0, 1 - z))  # 1 - z: exact for z >= 0.5 (Sterbenz)
    for _ in range(_ERFINV_STEPS):
        slope = _TWO_OVER_SQRT_PI * xp.exp(-y * y)  # erf'(y), positive for |y| < 27
        ec = erfc_array(xp, xp.where(small, 0.0, y))
        with np.errstate(divide="ignore", invalid="ignore"):
            step = xp.where(small, (erf_array(xp, y) - z) / slope,
                            -(xp.log(ec) - log_c) * ec / slope)
        y = y - xp.where(xp.isfinite(step), step, 0.0)
    y = xp.where(inside, y, xp.where(a == 1, xp.inf, xp.nan))
    return xp.copysign(y.reshape(x.shape), x).astype(x.dtype, copy=False)


class Erfinv(Function):
    """y = erfinv(x), the inverse of erf on (-1, 1) (``erfinv_array``).  VJP: gx = gy * √π/2
    exp(y²) (1 / erf'(y)).  Saves y."""

    def forward(self, x: Any) -> Any:
        y = erfinv_array(self.xp, x)
        self.saved = (y,)
        return y

    def backward(self, gy: Any) -> Any:
        (y,) = self.saved
        with np.errstate(**_QUIET):
            return gy * (self.xp.exp(y * y) / _TWO_OVER_SQRT_PI)


_ERFC_DEEP = 100  # levels of erfc's continued fraction from z = 1 on: exact to the last bit


def erfc_array(xp: Any, x: Any) -> Any:
    """erfc(x) = 1 - erf(x) of an array, without the cancellation of 1 - erf(x) in the tail
    (erfc(6) = 2e-17, where 1 - erf(6) is 0), to a few units in the last place of float64:
    for z = |x| < 1, 1 - erf(z) (``erf_array``; erfc(z) > 0.15 there, so little is lost);
    for z >= 1, erfc's continued fraction itself (``erf_array``'s, 100 levels deep, enough
    from z = 1 on), which underflows to 0 past z ≈ 27. erfc(-z) = 2 - erfc(z); NaN stays
    NaN."""
    z = xp.abs(x).astype(np.float64, copy=False).reshape(-1)
    y = 1 - erf_array(xp, xp.minimum(z, 1.0))  # the series' branch (z < 1)
    far = z >= 1.0
    w = xp.minimum(z[far], 30.0)  # past 27 exp(-w²) is 0 already
    t2 = 2 * w * w
    d = t2 + (4 * _ERFC_DEEP + 1)
    for k in range(_ERFC_DEEP, 0, -1):
        d = t2 + (4 * k - 3) - (2 * k - 1) * (2 * k) / d
    y[far] = xp.exp(-w * w) * (_TWO_OVER_SQRT_PI * w / d)
    y = xp.where(z == z, y, z)  # NaN in, NaN out
    y = xp.where(x.reshape(-1) < 0, 2 - y, y)
    return y.reshape(x.shape).astype(x.dtype, copy=False)


class Erfc(Function):
    """y = erfc(x) = 1 - erf(x) = 2/√π ∫ₓ^∞ exp(-t²) dt (``erfc_array``: exact in the tail,
    where 1 - erf(x) is 0).  VJP: gx = -gy * 2/√π exp(-x²).  Saves x."""

    def forward(self, x: Any) -> Any:
        self.saved = (x,)
        return erfc_array(self.xp, x)

    def backward(self, gy: Any) -> Any:
        (x,) = self.saved
        return gy * (-_TWO_OVER_SQRT_PI * self.xp.exp(-(x * x)))


# digamma's asymptotic series in 1/x² (Cephes' psi, as PyTorch's ``calc_digamma``), and ψ(10)
_PSI_SERIES = [8.33333333333333333333e-2, -2.10927960927960927961e-2,
               7.57575757575757575758e-3, -4.16666666666666666667e-3,
               3.96825396825396825397e-3, -8.33333333333333333333e-3,
               8.33333333333333333333e-2]
_PSI_10 = 2.25175258906672110764


def digamma_array(xp: Any, x: Any) -> Any:
    """ψ(x) = d/dx log Γ(x) of an array, by PyTorch's algorithm (``calc_digamma``, from
    Cephes), in float64: x < 0 reflected, ψ(x) = ψ(1 - x) - π / tan(π frac(x)); then
    ψ(x) = ψ(x + n) - Σ_{k<n} 1/(x + k) with x + n >= 10, and there the asymptotic series
    log x - 1/(2x) - Σ_k A_k / x^(2k) (ψ(10) exactly where x + n = 10). ψ(±0) = ∓inf, NaN at
    the negative integers, as PyTorch's."""
    a = x.astype(np.float64, copy=False).reshape(-1)
    negative = a < 0
    with np.errstate(divide="ignore", invalid="ignore"):
        frac = a - xp.trunc(a)  # (NaN at ±inf)
        reflect = xp.where(negative, -math.pi / xp.tan(math.pi * frac), 0.0)
    z = xp.where(negative, 1 - a, a)
    result = xp.zeros(z.shape)
    for _ in range(10):  # z < 10: ψ(z) = ψ(z + 1) - 1/z
        small = z < 10
        with np.errstate(divide="ignore"):
            result = result - xp.where(small, 1 / xp.where(small, z, 1.0), 0.0)
        z = xp.where(small, z + 1, z)
    inv2 = 1 / (z * z)
    poly = xp.full(z.shape, _PSI_SERIES[0])
    for c in _PSI_SERIES[1:]:
        poly = poly * inv2 + c
    series = xp.where(z < 1e17, inv2 * poly, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        y = xp.where(z == 10, result + _PSI_10, result + xp.log(z) - 0.5 / z - series) + reflect
    y = xp.where(a == 0, xp.where(xp.signbit(a), math.inf, -math.inf), y)
    y = xp.where(negative & (frac == 0), math.nan, y)
    return y.reshape(x.shape).astype(x.dtype, copy=False)


def trigamma_array(xp: Any, x: Any) -> Any:
    """ψ'(x) of an array, by PyTorch's algorithm (``calc_trigamma``): x < 0.5 reflected,
    ψ'(x) = π² / sin²(πx) - ψ'(1 - x); then ψ'(x) = Σ_{k<6} 1/(x + k)² + ψ'(x + 6), the
    last by its asymptotic series."""
    a = x.astype(np.float64, copy=False).reshape(-1)
    reflect = a < 0.5
    z = xp.where(reflect, 1 - a, a)
    with np.errstate(divide="ignore"):
        s = xp.sin(math.pi * a)
        sign = xp.where(reflect, -1.0, 1.0)
        result = xp.where(reflect, math.pi**2 / (s * s), 0.0)
    for k in range(6):
        result = result + sign / ((z + k) * (z + k))
    z = z + 6
    ixx = 1 / (z * z)
    result = result + sign * ((1 + 1 / (2 * z) + ixx * (1 / 6 - ixx * (1 / 30 - ixx * (1 / 42))))
                              / z)
    return result.reshape(x.shape).astype(x.dtype, copy=False)


class Digamma(Function):
    """y = ψ(x) = Γ'(x) / Γ(x) (``digamma_array``).  VJP: gx = gy ψ'(x) (``trigamma_array``,
    on arrays only: ``create_graph=True`` through it is refused).  Saves x."""

    differentiable_backward = False

    def forward(self, x: Any) -> Any:
        self.saved = (x,)
        return digamma_array(self.xp, x)

    def backward(self, gy: Any) -> Any:
        (x,) = self.saved
        return gy * trigamma_array(self.xp, x)


# lgamma(2 + t) = (1 - γ) t + Σ_{n>=2} (-1)^n (ζ(n) - 1) t^n / n (converges for |t| < 2; 29 terms
# reach float64's last bit for |t| <= 1/2): the coefficients' ζ(n) - 1 for n = 2..30, and γ
_ZETA_MINUS_1 = [
    0.6449340668482264, 0.2020569031595943, 0.08232323371113819, 0.03692775514336993,
    0.01734306198444914, 0.008349277381922827, 0.00407735619794434, 0.0020083928260822143,
    0.0009945751278180853, 0.0004941886041194645, 0.0002460865533080483,
    0.00012271334757848915, 6.124813505870483e-05, 3.058823630702049e-05,
    1.528225940865187e-05, 7.637197637899763e-06, 3.81729326499984e-06, 1.908212716553939e-06,
    9.539620338727962e-07, 4.769329867878064e-07, 2.38450502727733e-07, 1.1921992596531106e-07,
    5.960818905125948e-08, 2.980350351465228e-08, 1.4901554828365043e-08, 7.45071178983543e-09,
    3.725334024788457e-09, 1.862659723513049e-09, 9.313274324196682e-10]
_LGAMMA_NEAR_2 = [(-1) ** n * z / n for n, z in enumerate(_ZETA_MINUS_1, start=2)]
_EULER_GAMMA = 0.5772156649015329
# Stirling's series for x >= 10: B_2k / (2k (2k - 1)) for k = 1..8 (the 9th term is below 2e-18)
_STIRLING = [1 / 12, -1 / 360, 1 / 1260, -1 / 1680, 1 / 1188, -691 / 360360, 1 / 156,
             -3617 / 122400]
_STIRLING_FROM = 10
_HALF_LOG_2PI = 0.9189385332046728
_LOG_PI = 1.1447298858494002


def lgamma_array(xp: Any, x: Any) -> Any:
    """log |Γ(x)| of an array, in float64 (then x's dtype), with no cancellation near the zeros
    at 1 and 2:

    - u = x, or u = 1 - x for x < -1/2, split as u = k + t, k an integer, |t| <= 1/2;
    - u < 10: lgamma(2 + t) by the series in (ζ(n) - 1) above, whose leading term (1 - γ) t
      carries the zero at 2; then lgamma(k + t) = lgamma(2 + t) + log((1 + t)···(k - 1 + t))
      for k >= 3, - log1p(t) for k = 1 (the zero at 1: -γ t, from (1 - γ) t - log1p(t)), and
      also - log |t| for k = 0; every factor and t is exact (an integer subtracted);
    - u >= 10: Stirling, (u - 1/2)(log u - 1) - 1/2 + log √(2π) + Σ_k B_2k / (2k (2k-1) u^(2k-1))
      (in that form (u - 1/2) log u cannot overflow before lgamma does, past 2.5e305);
    - x < -1/2: the reflection log π - log |sin(π r)| - lgamma(1 - x), r = x - rint(x) exact.

    +inf at 0, at the negative integers and at ±inf, NaN at NaN, as PyTorch's. Measured
    against ``torch.lgamma`` (glibc's, nearly correctly rounded) in float64 on a million
    points: at most 7e-16 relative for x in (0, 1e300) (1.1e-16 absolute within 1/2 of 1
    and 2); for -1000 < x < -1/2 at most 4.5 units in the last place of the larger of the
    reflection's two terms: 1.5e-15 relative where |lgamma| > 1, 1.8e-15 absolute near the
    zeros between -5 and -2 (where glibc expands around each zero)."""
    a = x.astype(np.float64, copy=False).reshape(-1)
    with np.errstate(all="ignore"):  # inf - inf and log(0) in branches where() drops
        reflect = a < -0.5
        u = xp.where(reflect, 1 - a, a)
        far = u >= _STIRLING_FROM
        k = xp.floor(xp.where(far, 0.0, u) + 0.5)
        t = u - k
        s = xp.full(t.shape, _LGAMMA_NEAR_2[-1])
        for c in reversed(_LGAMMA_NEAR_2[:-1]):
            s = s * t + c
        near = (t * t) * s + (1 - _EULER_GAMMA) * t
        prod = xp.ones(t.shape)
        for j in range(1, _STIRLING_FROM - 1):  # (u - 1)···(u - k + 2): down to 2 + t
            prod = prod * xp.where(k - j >= 2, u - j, 1.0)
        near = near + xp.where(k >= 3, xp.log(prod), 0.0)
        near = near - xp.where(k <= 1, xp.log1p(t), 0.0)
        near = near - xp.where(k == 0, xp.log(xp.abs(t)), 0.0)
        w = xp.where(far, u, float(_STIRLING_FROM))
        inv = 1 / w
        inv2 = inv * inv
        poly = xp.full(w.shape, _STIRLING[-1])
        for c in reversed(_STIRLING[:-1]):
            poly = poly * inv2 + c
        y = xp.where(far, (w - 0.5) * (xp.log(w) - 1) - 0.5 + _HALF_LOG_2PI + poly * inv, near)
        r = a - xp.rint(a)
        y = xp.where(reflect, _LOG_PI - xp.log(xp.abs(xp.sin(math.pi * r))) - y, y)
        y = xp.where((a <= 0) & (a == xp.floor(a)), math.inf, y)
        # (a float32 result past float32's range is inf, as it should be, without a warning)
        return y.reshape(x.shape).astype(x.dtype, copy=False)


class Lgamma(Function):
    """y = log |Γ(x)| (``lgamma_array``).  VJP: gx = gy ψ(x) (``digamma_array``; under
    ``create_graph=True`` the ``digamma`` op itself, so second derivatives work, through ψ';
    a third is refused there).  Saves x."""

    def forward(self, x: Any) -> Any:
        self.saved = (x,)
        return lgamma_array(self.xp, x)

    def backward(self, gy: Any) -> Any:
        (x,) = self.saved
        if isinstance(x, Tensor):  # recording the backward (create_graph=True)
            return gy * digamma(x)
        return gy * digamma_array(self.xp, x)


class LogAddExp(Function):
    """y = log(exp(x0) + exp(x1)) (``base2``: log2(2^x0 + 2^x1)), as m + log1p(exp(-|x0 -
    x1|)) (over ln 2), m = max(x0, x1): exp never overflows, and where one term is far below
    the other y keeps its tiny share (log(1 + e) would round it away). Where x0 = x1 = ±inf,
    y is that infinity, as PyTorch's.

    VJP (PyTorch's): g0 = gy / (1 + e^(x1 - x0)), g1 = gy / (1 + e^(x0 - x1)) (base 2: 2^),
    smooth, so ``create_graph=True`` differentiates it again (a composition of max and |x0 -
    x1| would have the right first derivative but none of the curvature at x0 = x1). An
    overflowing e^ gives the limit 0.

    Complex x0, x1 (natural base only, as PyTorch's): y = m + log1p(exp(n - m)), m the one of
    larger real part and n the other (principal logarithm, as PyTorch's kernel; where both real
    parts are the same infinity, m for -inf and log(e^x0 + e^x1) for +inf). y is holomorphic,
    so the VJP is the real one conjugated: g0 = gy / conj(1 + e^(x1 - x0)), and g1 alike.
    Saves x0 and x1.
    """

    complex_ok = True

    def forward(self, x0: Any, x1: Any, base2: bool) -> Any:
        xp = self.xp
        self.saved, self.base2 = (x0, x1), base2
        if x0.dtype.kind == "c":
            return _log_add_complex(xp, x0, x1)
        m = xp.maximum(x0, x1)
        with np.errstate(invalid="ignore"):  # inf - inf, replaced just below
            d = xp.abs(x0 - x1)
        d = xp.where(xp.isinf(m) & (x0 == x1), 0, d)  # (m + log 2 = m there)
        if base2:
            return m + xp.log1p(xp.exp(d * -math.log(2))) * (1 / math.log(2))
        return m + xp.log1p(xp.exp(-d))

    def backward(self, gy: Any) -> Any:
        x0, x1 = self.saved
        xp, k = self.xp, math.log(2) if self.base2 else 1.0
        with np.errstate(over="ignore", invalid="ignore"):
            return (gy / conj_(1 + xp.exp((x1 - x0) * k)),
                    gy / conj_(1 + xp.exp((x0 - x1) * k)))


def _log_add_complex(xp: Any, x0: Any, x1: Any) -> Any:
    """``LogAddExp``'s forward for complex arrays (see its docstring)."""
    first = x0.real >= x1.real
    m, n = xp.where(first, x0, x1), xp.where(first, x1, x0)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        y = m + xp.log1p(xp.exp(n - m))
        same_inf = xp.isinf(m.real) & (m.real == n.real)
        if same_inf.any():  # (rare: computed only then)
            y = xp.where(same_inf & (m.real < 0), m, y)
            y = xp.where(same_inf & (m.real > 0), xp.log(xp.exp(x0) + xp.exp(x1)), y)
    return y


def sigmoid_array(xp: Any, x: Any) -> Any:
    """σ(x) = 1 / (1 + exp(-x)) of an array, as PyTorch computes it: to a few units in the
    last place, relative, everywhere. (The tempting 0.5 tanh(x/2) + 0.5 cancels for x < 0: at
    x = -17 in float32 it is 44% off.) Below x ≈ -88 (float32) or -709 (float64), exp(-x)
    overflows to inf and 1 / inf = 0, the right limit, so NumPy is not let to warn."""
    with np.errstate(over="ignore"):
        e = xp.exp(-x)
    e += 1
    return 1 / e


class Sigmoid(Function):
    """y = σ(x) = 1 / (1 + exp(-x)) (``sigmoid_array``).

    VJP: gx = gy * conj(y (1 - y)).  JVP: ty = y (1 - y) t.  Saves y.
    """

    complex_ok = True

    def forward(self, x: Any) -> Any:
        y = sigmoid_array(self.xp, x)
        self.saved = (y,)
        return y

    def backward(self, gy: Any) -> Any:
        y = conj_(self.saved[0])
        return gy * y * (1 - y)

    def jvp(self, t: Any) -> Any:
        y = self.saved[0]
        return y * (1 - y) * t


class Relu(Function):
    """y = max(x, 0).  VJP: gx = 0 where x <= 0 else gy (0 at x = 0; a select, as PyTorch: an
    infinite gy where x <= 0 gives 0, not NaN, and a NaN x passes gy).  JVP: ty = 0 where
    x <= 0 else t.  Saves the mask."""

    def forward(self, x: Any) -> Any:
        self.flat = x <= 0
        return self.xp.maximum(x, 0)

    def backward(self, gy: Any) -> Any:
        return self.xp.where(self.flat, 0, gy)

    def jvp(self, t: Any) -> Any:
        return self.xp.where(self.flat, 0, t)


class Abs(Function):
    """y = |x|.  VJP: gx = gy * sign(x), with sign 0 at x = 0 and at NaN (as PyTorch); for a
    complex x, sign(x) = x / |x| (d|z|/dRe z + i d|z|/dIm z).  Saves sign(x) (complex: x and
    y, so that the sign is differentiated under ``create_graph``)."""

    complex_ok = True

    def forward(self, x: Any) -> Any:
        xp = self.xp
        if x.dtype.kind == "c":
            y = xp.abs(x)
            self.saved, self.sign = (x, y), None
            return y
        self.sign = xp.where(xp.isnan(x), 0, xp.sign(x)) if x.dtype.kind == "f" else xp.sign(x)
        return xp.abs(x)

    def backward(self, gy: Any) -> Any:
        if self.sign is None:
            x, y = self.saved
            with np.errstate(**_QUIET):
                return self.xp.where(y == 0, 0, gy * x / y)
        return gy * self.sign

    def jvp(self, t: Any) -> Any:  # ty = sign(x) t (a real x: complex is refused there)
        return self.sign * t


def _no_gradient(xp: Any, gy: Any) -> Any:
    """A new array of zeros: the gradient of a step function, 0 wherever it has one (even
    where gy is inf or NaN, as PyTorch; gy * 0 would give NaN there)."""
    return xp.zeros(gy.shape, dtype=gy.dtype)


class Sign(Function):
    """y = sign(x): -1, 0 or 1; 0 at NaN too (as PyTorch; NumPy's is NaN).  VJP: gx = 0.
    Saves nothing."""

    def forward(self, x: Any) -> Any:
        xp = self.xp
        return xp.where(xp.isnan(x), 0, xp.sign(x)) if x.dtype.kind == "f" else xp.sign(x)

    def backward(self, gy: Any) -> Any:
        return _no_gradient(self.xp, gy)


class Floor(Function):
    """y = floor(x), the largest integer <= x.  VJP: gx = 0.  Saves nothing."""

    def forward(self, x: Any) -> Any:
        return self.xp.floor(x)

    def backward(self, gy: Any) -> Any:
        return _no_gradient(self.xp, gy)


class Ceil(Function):
    """y = ceil(x), the smallest integer >= x.  VJP: gx = 0.  Saves nothing."""

    def forward(self, x: Any) -> Any:
        return self.xp.ceil(x)

    def backward(self, gy: Any) -> Any:
        return _no_gradient(self.xp, gy)


class Round(Function):
    """y = x rounded to ``decimals`` decimal places, halves to even (round(2.5) = 2, as
    ``torch.round``); with decimals, round(x 10^d) / 10^d, as PyTorch (float16 scaled in
    float32, so x 10^d does not overflow).  VJP: gx = 0.  Saves nothing."""

    def forward(self, x: Any, decimals: int = 0) -> Any:
        if decimals and x.dtype == np.float16:
            return self.xp.round(x.astype(np.float32), decimals).astype(np.float16)
        return self.xp.round(x, decimals)

    def backward(self, gy: Any) -> Any:
        return _no_gradient(self.xp, gy)


class Trunc(Function):
    """y = trunc(x), x rounded towards 0.  VJP: gx = 0.  Saves nothing."""

    def forward(self, x: Any) -> Any:
        return self.xp.trunc(x)

    def backward(self, gy: Any) -> Any:
        return _no_gradient(self.xp, gy)


def _extremum_weights(xp: Any, wins: Any, x0: Any, x1: Any, dtype: Any) -> tuple[Any, Any]:
    """(w0, w1): the share of the gradient each input of a maximum (or minimum) gets. The
    winner (``wins``: x0 wins) gets it all, a tie half each, and where either is NaN both get
    all of it, as PyTorch."""
    tie, loses = 0.5 * (x0 == x1).astype(dtype), ~wins & (x0 != x1)
    w0, w1 = wins.astype(dtype) + tie, (loses & (x0 == x0) & (x1 == x1)).astype(dtype) + tie
    if dtype.kind == "f":
        nan = (xp.isnan(x0) | xp.isnan(x1)).astype(dtype)
        w0, w1 = xp.maximum(w0, nan), xp.maximum(w1, nan)
    return w0, w1


class Maximum(Function):
    """y = max(x0, x1) elementwise.

    VJP: g0 = gy * w0, g1 = gy * w1: the larger input gets the whole gradient, each gets half
    at a tie, and both get all of it where either is NaN (as PyTorch).  Saves w0, w1.
    """

    def forward(self, x0: Any, x1: Any) -> Any:
        y = self.xp.maximum(x0, x1)
        self.w = _extremum_weights(self.xp, x0 > x1, x0, x1, y.dtype)
        return y

    def backward(self, gy: Any) -> Any:
        return _weighted(self.xp, gy, self.w)


def _weighted(xp: Any, gy: Any, w: tuple[Any, Any]) -> tuple[Any, Any]:
    """gy times each input's weight, 0 where the weight is 0 (even for a NaN gy, as
    PyTorch's: the input that was not chosen gets nothing)."""
    return tuple(xp.where(wk == 0, 0, gy * wk) for wk in w)


class Minimum(Function):
    """y = min(x0, x1) elementwise.  VJP as ``Maximum``, the smaller input winning.  Saves
    w0, w1."""

    def forward(self, x0: Any, x1: Any) -> Any:
        y = self.xp.minimum(x0, x1)
        self.w = _extremum_weights(self.xp, x0 < x1, x0, x1, y.dtype)
        return y

    def backward(self, gy: Any) -> Any:
        return _weighted(self.xp, gy, self.w)


class Where(Function):
    """y = x0 where cond else x1 (cond a boolean array, never differentiated).

    VJP: g0 = gy where cond else 0;  g1 = 0 where cond else gy (each only where that input
    needed a gradient: one is often a constant, ``where(mask, x, 0.0)``).
    JVP: ty = t0 where cond else t1.  Saves cond.
    """

    complex_ok = True

    def forward(self, x0: Any, x1: Any, cond: Any) -> Any:
        self.cond = cond
        return self.xp.where(cond, x0, x1)

    def backward(self, gy: Any) -> Any:
        xp, (e0, e1) = self.xp, self.edges  # an edge (_, -1): that input needs no gradient
        return (None if e0[1] < 0 else xp.where(self.cond, gy, 0),
                None if e1[1] < 0 else xp.where(self.cond, 0, gy))

    def jvp(self, t0: Any, t1: Any) -> Any:
        return self.xp.where(self.cond, t0, t1)


class Clip(Function):
    """y = min(max(x, lo), hi) (either bound may be None).

    VJP: gx = gy where lo <= x <= hi else 0 (bounds included, as PyTorch).  JVP: ty = t
    there, else 0.  Saves that mask.
    """

    def forward(self, x: Any, lo: float | None, hi: float | None) -> Any:
        if lo is None and hi is None:
            raise ValueError("clip: give at least one of min and max")
        inside = x == x
        if lo is not None:
            inside = inside & (x >= lo)
        if hi is not None:
            inside = inside & (x <= hi)
        self.mask = inside
        y = x if lo is None else self.xp.maximum(x, lo)
        return y if hi is None else self.xp.minimum(y, hi)

    def backward(self, gy: Any) -> Any:
        return self.xp.where(self.mask, gy, 0)

    def jvp(self, t: Any) -> Any:
        return self.xp.where(self.mask, t, 0)


class AsType(Function):
    """y = x cast to ``dtype`` (complex to real keeps the real part, with PyTorch's warning;
    to bool, nonzero; a float out of an integer dtype's range gives what the C cast gives,
    silently, as PyTorch's).
    VJP: gx = gy (the engine casts it back to x's dtype: a real x gets its real part).
    JVP: linear.  Saves nothing."""

    complex_ok = True
    linear = True  # forward mode: J·v = the op applied to v

    def forward(self, x: Any, dtype: np.dtype, order: str = "K") -> Any:
        if order == "K" and 0 in x.strides and x.size > 1:
            order = "C"  # a broadcast array: a plain one, as PyTorch's clone
        dtype = np.dtype(dtype)
        if dtype.kind == "b":
            return x != 0  # a complex number is True if either part is nonzero
        if x.dtype.kind == "c" and dtype.kind != "c":
            warnings.warn("Casting complex values to real discards the imaginary part",
                          UserWarning, stacklevel=4)
            x = x.real
        if dtype == np.float16 or dtype.kind in "iu" and x.dtype.kind == "f":
            with np.errstate(over="ignore", invalid="ignore"):  # inf past float16's range, as
                return x.astype(dtype, order=order)  # torch
        return x.astype(dtype, order=order)

    def backward(self, gy: Any) -> Any:
        return gy


class ToDevice(Function):
    """y = x copied to another device.  VJP: gx = gy copied back."""

    complex_ok = True

    @classmethod
    def apply(cls, *inputs: Tensor, **kwargs: Any) -> Tensor:  # the output changes device
        (x,), dst = inputs, kwargs["device"]
        fn = cls()
        fn.src, fn.dst, fn.xp = x._dev, dst, dst.xp
        y = dst.to_device(x._dev.to_host(x._data))
        needs = x.requires_grad and autograd.is_grad_enabled()
        out = Tensor._wrap(y, dst, needs)
        if needs:
            fn.parents, fn.edges, fn.y, out._ctx = (x,), [(x._ctx, x._out)], y, fn
            fn.shapes = (y.shape,)
        return out

    def backward(self, gy: Any) -> Any:
        if isinstance(gy, Tensor):
            return gy.to(self.src.name)
        return self.src.to_device(self.dst.to_host(gy))


# ---- functions on tensors (the methods of Tensor call the same ops) ------------------------


def where(cond: Any, x0: Any = None, x1: Any = None) -> Any:
    """Elements of ``x0`` where ``cond`` is true, else of ``x1`` (broadcast together). With
    ``cond`` alone, the indices of its nonzero elements, one int64 tensor per axis:
    ``cond.nonzero(as_tuple=True)``, as ``torch.where(condition)``."""
    if x0 is None and x1 is None:
        if not isinstance(cond, Tensor):
            raise TypeError(f"where(condition): the condition must be a Tensor, got "
                            f"{type(cond).__name__}")
        return cond.nonzero(as_tuple=True)
    if x0 is None or x1 is None:
        raise TypeError("where takes (condition) or (condition, x, y), not one of x and y")
    ref = x0 if isinstance(x0, Tensor) else x1 if isinstance(x1, Tensor) else None
    if ref is None:  # two Python numbers: a tensor of their type on cond's device, as PyTorch
        if not isinstance(cond, Tensor):
            raise TypeError("where: cond, x0 or x1 must be a Tensor")
        kinds = {np.asarray(v).dtype.kind for v in (x0, x1)}  # Python or NumPy numbers
        dtype = _default_complex() if "c" in kinds else default_dtype() if "f" in kinds \
            else np.int64 if kinds & {"i", "u"} else None
        ref = x0 = Tensor._wrap(cond._dev.to_device(np.asarray(x0, dtype)), cond._dev)
    c = cond._data if isinstance(cond, Tensor) else cond
    if not isinstance(c, ref._dev.array_type):
        c = ref._dev.to_device(np.asarray(c))
    if c.dtype != np.bool_:
        raise DTypeError(f"where: cond must be boolean, got dtype {c.dtype}")
    a, b = ref._pair(x1) if ref is x0 else ref._pair(x0, reflected=True)  # PyTorch's dtype
    return Where.apply(a, b, cond=c)


def maximum(x0: Tensor, x1: Any) -> Tensor:
    return x0.maximum(x1) if isinstance(x0, Tensor) else x1.maximum(x0)


def minimum(x0: Tensor, x1: Any) -> Tensor:
    return x0.minimum(x1) if isinstance(x0, Tensor) else x1.minimum(x0)


def exp(x: Tensor) -> Tensor:
    return x.exp()


def log(x: Tensor) -> Tensor:
    return x.log()


def sqrt(x: Tensor) -> Tensor:
    return x.sqrt()


def tanh(x: Tensor) -> Tensor:
    return x.tanh()


def sin(x: Tensor) -> Tensor:
    return x.sin()


def cos(x: Tensor) -> Tensor:
    return x.cos()


def sigmoid(x: Tensor) -> Tensor:
    return x.sigmoid()


def relu(x: Tensor) -> Tensor:
    return x.relu()


def abs_(x: Tensor) -> Tensor:
    return x.abs()


def log2(x: Tensor) -> Tensor:
    """The base-2 logarithm, elementwise (float32 for an integer tensor, as PyTorch)."""
    return x.log2()


def log10(x: Tensor) -> Tensor:
    """The base-10 logarithm, elementwise (float32 for an integer tensor, as PyTorch)."""
    return x.log10()


def tan(x: Tensor) -> Tensor:
    return x.tan()


def asin(x: Tensor) -> Tensor:
    return x.asin()


def acos(x: Tensor) -> Tensor:
    return x.acos()


def atan(x: Tensor) -> Tensor:
    return x.atan()


def atan2(x0: Tensor, x1: Any) -> Tensor:
    """The angle of the point (x1, x0), elementwise and broadcast, as ``torch.atan2(input,
    other)``."""
    return x0.atan2(x1)


def log1p(x: Tensor) -> Tensor:
    """log(1 + x), exact for tiny x (float32 for an integer tensor, as PyTorch)."""
    return Log1p.apply(x._floating())


def expm1(x: Tensor) -> Tensor:
    """exp(x) - 1, exact for tiny x (float32 for an integer tensor, as PyTorch)."""
    return Expm1.apply(x._floating())


def erf(x: Tensor) -> Tensor:
    """The error function, 2/√π ∫₀ˣ exp(-t²) dt (float32 for an integer tensor)."""
    return Erf.apply(x._floating())


def erfinv(x: Tensor) -> Tensor:
    """The inverse error function on (-1, 1) (``Erfinv``; float32 for an integer tensor), as
    ``torch.erfinv``: ±inf at ±1, NaN beyond."""
    return Erfinv.apply(x._floating())


def erfc(x: Tensor) -> Tensor:
    """The complementary error function, 1 - erf(x), exact in the tail (``Erfc``; float32 for
    an integer tensor)."""
    return Erfc.apply(x._floating())


def digamma(x: Tensor) -> Tensor:
    """ψ(x), the derivative of log Γ(x) (``Digamma``; float32 for an integer tensor), as
    ``torch.digamma``."""
    return Digamma.apply(x._floating())


def lgamma(x: Tensor) -> Tensor:
    """log |Γ(x)| (``Lgamma``; float32 for an integer tensor), as ``torch.lgamma``: +inf at 0
    and the negative integers; differentiable twice."""
    return Lgamma.apply(x._floating())


def nan_to_num(x: Tensor, nan: float = 0.0, posinf: float | None = None,
               neginf: float | None = None) -> Tensor:
    """x with NaN replaced by ``nan``, inf by ``posinf`` and -inf by ``neginf`` (by default
    the largest and the lowest finite value of x's dtype), as ``torch.nan_to_num``: a
    ``where`` with a constant, so the gradient passes where x is finite and is 0 elsewhere,
    as PyTorch's. An integer or bool tensor has nothing to replace: a copy."""
    if not isinstance(x, Tensor):
        raise TypeError(f"nan_to_num: x must be a Tensor, got {type(x).__name__}")
    for name, v in (("nan", nan), ("posinf", posinf), ("neginf", neginf)):
        if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float, np.number))):
            raise TypeError(f"nan_to_num: {name} must be a number or None, got {v!r}")
    if x.dtype.kind not in "fc":
        return x.clone()
    if x.dtype.kind == "c":  # each part on its own, as PyTorch's
        from .complex import complex as make_complex

        return make_complex(*(nan_to_num(p, nan, posinf, neginf) for p in (x.real, x.imag)))
    xp, d = x._dev.xp, x._data
    info = np.finfo(x.dtype)
    hi = info.max if posinf is None else posinf
    lo = info.min if neginf is None else neginf
    with np.errstate(over="ignore"):  # a float64 value beyond float32 is inf, as in PyTorch
        t = x.dtype.type  # NumPy scalars: no host array meets the device's
        fill = xp.where(d != d, t(nan), xp.where(d > 0, t(hi), t(lo)))
    return where(Tensor._wrap(xp.isfinite(d), x._dev), x, Tensor._wrap(fill, x._dev))


def _log_add(x0: Tensor, x1: Any, base2: bool) -> Tensor:
    """``LogAddExp`` of x0 and x1, promoted as arithmetic (integers become float32)."""
    a, b = x0._pair(x1)
    if base2 and "c" in (a.dtype.kind, b.dtype.kind):
        raise RuntimeError(f"logaddexp2 is not implemented for complex tensors (got {a.dtype} and "
                        f"{b.dtype}), as in PyTorch; logaddexp takes them")
    return LogAddExp.apply(a._floating(), b._floating(), base2=base2)


def logaddexp(x0: Tensor, x1: Any) -> Tensor:
    """log(exp(x0) + exp(x1)), elementwise and broadcast, stable for any magnitudes, as
    ``torch.logaddexp`` (``_log_add``)."""
    return _log_add(x0, x1, False)


def logaddexp2(x0: Tensor, x1: Any) -> Tensor:
    """log2(2^x0 + 2^x1), elementwise and broadcast, stable, as ``torch.logaddexp2``."""
    return _log_add(x0, x1, True)


def sign(x: Tensor) -> Tensor:
    """-1, 0 or 1 by the sign of each element (0 at NaN), in x's dtype; gradient 0. A bool
    tensor is its own sign (a copy), as PyTorch. A complex tensor is refused, as PyTorch's
    ``sign`` refuses it: ``sgn`` gives x / |x|."""
    if x.dtype.kind == "c":
        raise NotImplementedError(f"sign is not defined for complex tensors (dtype {x.dtype}), "
                                  "as in PyTorch; use sgn (x / |x|, 0 at 0) instead")
    return x.clone() if x.dtype.kind == "b" else Sign.apply(x)


def _rounded(x: Tensor, op: type[Function], name: str, **kwargs: Any) -> Tensor:
    """``op`` on a float tensor; a copy of an integer one, already whole (its dtype kept, as
    PyTorch); refused on bool and complex, as PyTorch."""
    if x.dtype.kind in "bc":
        raise DTypeError(f"{name}: not defined for {x.dtype} tensors (as in PyTorch); convert "
                         "first, e.g. x.float()")
    return x.clone() if x.dtype.kind in "iu" else op.apply(x, **kwargs)


def floor(x: Tensor) -> Tensor:
    """The largest integer <= x, elementwise (x's dtype); gradient 0."""
    return _rounded(x, Floor, "floor")


def ceil(x: Tensor) -> Tensor:
    """The smallest integer >= x, elementwise (x's dtype); gradient 0."""
    return _rounded(x, Ceil, "ceil")


def round_(x: Tensor, decimals: int = 0) -> Tensor:
    """x rounded to ``decimals`` places, halves to even, as ``torch.round``; gradient 0."""
    if not isinstance(decimals, (int, np.integer)) or isinstance(decimals, bool):
        raise TypeError(f"round: decimals must be an integer, got {decimals!r}")
    return _rounded(x, Round, "round", decimals=int(decimals))


def trunc(x: Tensor) -> Tensor:
    """x rounded towards 0, elementwise (x's dtype); gradient 0."""
    return _rounded(x, Trunc, "trunc")


def clip(x: Tensor, min: float | None = None, max: float | None = None) -> Tensor:  # noqa: A002
    return x.clip(min, max)


def isnan(x: Tensor) -> Tensor:
    return x.isnan()


def isinf(x: Tensor) -> Tensor:
    return x.isinf()


def isfinite(x: Tensor) -> Tensor:
    return x.isfinite()


def allclose(x0: Tensor, x1: Any, rtol: float = 1e-5, atol: float = 1e-8,
             equal_nan: bool = False) -> bool:
    return x0.allclose(x1, rtol, atol, equal_nan)


# ---- hypot, sinc, copysign, xlogy, i0 (ops) and the bit, rounding and sign functions -------


class Hypot(Function):
    """y = √(x0² + x1²), without overflow or underflow (``xp.hypot``).

    VJP (PyTorch's): g0 = gy x0 / y, g1 = gy x1 / y: NaN at x0 = x1 = 0 (0 / 0), as there.
    Saves x0, x1 and y.
    """

    def forward(self, x0: Any, x1: Any) -> Any:
        y = self.xp.hypot(x0, x1)
        self.saved = (x0, x1, y)
        return y

    def backward(self, gy: Any) -> Any:
        x0, x1, y = self.saved
        with np.errstate(**_QUIET):
            return gy * x0 / y, gy * x1 / y


class Sinc(Function):
    """y = sin(p) / p with p = πx, 1 at x = 0 (the normalized sinc, ``torch.sinc``).

    VJP (PyTorch's formula): gx = gy (p cos p - sin p) / (p x), 0 at x = 0 (where it is the
    limit). Written with ``xp.where``, ``sin`` and ``cos`` on x replaced by 1 at 0, so
    ``create_graph=True`` differentiates it again without a 0 / 0.  Saves x.
    """

    def forward(self, x: Any) -> Any:
        xp = self.xp
        self.saved = (x,)
        p = xp.where(x == 0, 1, x) * math.pi
        with np.errstate(**_QUIET):  # sin(±inf) is NaN, as PyTorch's
            return xp.where(x == 0, 1, xp.sin(p) / p)

    def backward(self, gy: Any) -> Any:
        (x,) = self.saved
        xp = self.xp
        zero = x == 0
        safe = xp.where(zero, 1, x)
        p = safe * math.pi
        with np.errstate(**_QUIET):
            return gy * xp.where(zero, 0, (p * xp.cos(p) - xp.sin(p)) / (p * safe))


class Copysign(Function):
    """y = |x0| with the sign of x1: its sign bit, so -0.0 and a negative NaN count as
    negative (``xp.copysign``).

    VJP (PyTorch's): g0 = gy y / x0 (±1: whether the sign was kept), 0 where x0 = 0 and NaN
    where x0 is NaN, as there; g1 = 0.  Saves x0 and y.
    """

    def forward(self, x0: Any, x1: Any) -> Any:
        y = self.xp.copysign(x0, x1)
        self.saved = (x0, y)
        return y

    def backward(self, gy: Any) -> Any:
        x0, y = self.saved
        xp = self.xp
        zero = x0 == 0
        with np.errstate(**_QUIET):
            ratio = xp.where(zero, 0, y / xp.where(zero, 1, x0))
        return gy * ratio, xp.zeros(gy.shape, dtype=gy.dtype)


class Xlogy(Function):
    """y = x0 log(x1), but 0 where x0 = 0 (whatever x1 is, log(0) and log of a negative
    included), and NaN wherever x1 is NaN, as ``torch.xlogy``.

    VJP (PyTorch's): g0 = xlogy(gy, x1), then 0 where x0 = 0 and x1 <= 0; g1 = gy x0 / x1
    (so NaN at x0 = x1 = 0, 0 / 0, as there).  Saves x0 and x1.
    """

    def forward(self, x0: Any, x1: Any) -> Any:
        xp = self.xp
        self.saved = (x0, x1)
        with np.errstate(**_QUIET):
            y = x0 * xp.log(x1)
        return xp.where(x1 != x1, x1, xp.where(x0 == 0, 0, y))

    def backward(self, gy: Any) -> Any:
        x0, x1 = self.saved
        xp = self.xp
        with np.errstate(**_QUIET):
            g0 = xp.where(x1 != x1, x1, xp.where(gy == 0, 0, gy * xp.log(x1)))
            return xp.where((x0 == 0) & (x1 <= 0), 0, g0), gy * x0 / x1


# Cephes' Chebyshev coefficients (as in PyTorch's and NumPy's i0): exp(-x) I0(x) on [0, 8],
# exp(-x) √x I0(x) on (8, inf), and the same for I1 (PyTorch's float32 I1 uses the last 17 and
# 7 of them)
_I0_A = [-4.41534164647933937950e-18, 3.33079451882223809783e-17, -2.43127984654795469359e-16,
         1.71539128555513303061e-15, -1.16853328779934516808e-14, 7.67618549860493561688e-14,
         -4.85644678311192946090e-13, 2.95505266312963983461e-12, -1.72682629144155570723e-11,
         9.67580903537323691224e-11, -5.18979560163526290666e-10, 2.65982372468238665035e-9,
         -1.30002500998624804212e-8, 6.04699502254191894932e-8, -2.67079385394061173391e-7,
         1.11738753912010371815e-6, -4.41673835845875056359e-6, 1.64484480707288970893e-5,
         -5.75419501008210370398e-5, 1.88502885095841655729e-4, -5.76375574538582365885e-4,
         1.63947561694133579842e-3, -4.32430999505057594430e-3, 1.05464603945949983183e-2,
         -2.37374148058994688156e-2, 4.93052842396707084878e-2, -9.49010970480476444210e-2,
         1.71620901522208775349e-1, -3.04682672343198398683e-1, 6.76795274409476084995e-1]
_I0_B = [-7.23318048787475395456e-18, -4.83050448594418207126e-18, 4.46562142029675999901e-17,
         3.46122286769746109310e-17, -2.82762398051658348494e-16, -3.42548561967721913462e-16,
         1.77256013305652638360e-15, 3.81168066935262242075e-15, -9.55484669882830764870e-15,
         -4.15056934728722208663e-14, 1.54008621752140982691e-14, 3.85277838274214270114e-13,
         7.18012445138366623367e-13, -1.79417853150680611778e-12, -1.32158118404477131188e-11,
         -3.14991652796324136454e-11, 1.18891471078464383424e-11, 4.94060238822496958910e-10,
         3.39623202570838634515e-9, 2.26666899049817806459e-8, 2.04891858946906374183e-7,
         2.89137052083475648297e-6, 6.88975834691682398426e-5, 3.36911647825569408990e-3,
         8.04490411014108831608e-1]
_I1_A = [2.77791411276104639959e-18, -2.11142121435816608115e-17, 1.55363195773620046921e-16,
         -1.10559694773538630805e-15, 7.60068429473540693410e-15, -5.04218550472791168711e-14,
         3.22379336594557470981e-13, -1.98397439776494371520e-12, 1.17361862988909016308e-11,
         -6.66348972350202774223e-11, 3.62559028155211703701e-10, -1.88724975172282928790e-9,
         9.38153738649577178388e-9, -4.44505912879632808065e-8, 2.00329475355213526229e-7,
         -8.56872026469545474066e-7, 3.47025130813767847674e-6, -1.32731636560394358279e-5,
         4.78156510755005422638e-5, -1.61760815825896745588e-4, 5.12285956168575772895e-4,
         -1.51357245063125314899e-3, 4.15642294431288815669e-3, -1.05640848946261981558e-2,
         2.47264490306265168283e-2, -5.29459812080949914269e-2, 1.02643658689847095384e-1,
         -1.76416518357834055153e-1, 2.52587186443633654823e-1]
_I1_B = [7.51729631084210481353e-18, 4.41434832307170791151e-18, -4.65030536848935832153e-17,
         -3.20952592199342395980e-17, 2.96262899764595013876e-16, 3.30820231092092828324e-16,
         -1.88035477551078244854e-15, -3.81440307243700780478e-15, 1.04202769841288027642e-14,
         4.27244001671195135429e-14, -2.10154184277266431302e-14, -4.08355111109219731823e-13,
         -7.19855177624590851209e-13, 2.03562854414708950722e-12, 1.41258074366137813316e-11,
         3.25260358301548823856e-11, -1.89749581235054123450e-11, -5.58974346219658380687e-10,
         -3.83538038596423702205e-9, -2.63146884688951950684e-8, -2.51223623787020892529e-7,
         -3.88256480887769039346e-6, -1.10588938762623716291e-4, -9.76109749136146840777e-3,
         7.78576235018280120474e-1]


def _chbevl(y: Any, coefficients: list[float]) -> Any:
    """Σ c_k T_k(y / 2) by Clenshaw's recurrence, as Cephes' chbevl (in y's dtype)."""
    b0, b1, b2 = y * 0 + coefficients[0], y * 0, y * 0
    for c in coefficients[1:]:
        b2, b1 = b1, b0
        b0 = y * b1 - b2 + c
    return (b0 - b2) * 0.5


def bessel_i_array(xp: Any, x: Any, order: int) -> Any:
    """I0(x) or I1(x), the modified Bessel functions of the first kind, of an array, as
    PyTorch computes them (Cephes): exp(|x|) times a Chebyshev series in |x| / 2 - 2 up to
    |x| = 8, exp(|x|) / √|x| times one in 32 / |x| - 2 beyond (I1: times x, odd). float16
    is computed in float32. Inf for |x| past about 710 (float64), NaN at ±inf, as there."""
    half = x.dtype == np.float16
    a = xp.abs(x.astype(np.float32) if half else x)
    near, far = (_I0_A, _I0_B) if order == 0 else (_I1_A, _I1_B)
    if order == 1 and a.dtype == np.float32:
        near, far = near[12:], far[18:]
    small = a <= 8
    big = xp.where(small, 8, a)  # each series on its own range: no 32 / 0
    with np.errstate(over="ignore", invalid="ignore"):
        e = xp.exp(a)
        inner = e * (a if order else 1) * _chbevl(a * 0.5 - 2, near)
        outer = e * _chbevl(32 / big - 2, far) / xp.sqrt(big)
    y = xp.where(small, inner, outer)
    if order == 1:
        y = xp.where(x < 0, -y, y)
    return y.astype(np.float16) if half else y


class I0(Function):
    """y = I0(x) (``bessel_i_array``).  VJP: gx = gy I1(x) (the op ``I1``, so that
    ``create_graph=True`` differentiates it again).  Saves x."""

    def forward(self, x: Any) -> Any:
        self.saved = (x,)
        return bessel_i_array(self.xp, x, 0)

    def backward(self, gy: Any) -> Any:
        (x,) = self.saved
        if isinstance(x, Tensor):  # recording the backward (create_graph=True)
            return gy * I1.apply(x)
        return gy * bessel_i_array(self.xp, x, 1)


class I1(Function):
    """y = I1(x) (``bessel_i_array``): ``I0``'s derivative.

    VJP (PyTorch's ``i1_backward``): gx = gy (I0(x) - I1(x) / x), and gy / 2 (the limit)
    where |x| <= eps of x's dtype.  Saves x.
    """

    def forward(self, x: Any) -> Any:
        self.saved = (x,)
        return bessel_i_array(self.xp, x, 1)

    def backward(self, gy: Any) -> Any:
        (x,) = self.saved
        xp = self.xp
        tiny = xp.abs(x) <= float(np.finfo(x.dtype).eps)
        safe = xp.where(tiny, 1, x)
        if isinstance(x, Tensor):
            slope = I0.apply(safe) - I1.apply(safe) / safe
        else:
            with np.errstate(**_QUIET):
                slope = bessel_i_array(xp, safe, 0) - bessel_i_array(xp, safe, 1) / safe
        return gy * xp.where(tiny, 0.5, slope)


def _operands(what: str, x0: Any, x1: Any, to_float: bool = False) -> tuple[Tensor, Tensor]:
    """The two operands of a binary function, either of which may be a number (but not
    both), promoted as arithmetic promotes them; ``to_float``: two integer ones go straight
    to the default float dtype (as ``/``), so none wraps on the way."""
    if isinstance(x0, Tensor):
        return x0._pair(x1, divide=to_float)
    if isinstance(x1, Tensor):
        return x1._pair(x0, reflected=True, divide=to_float)
    raise TypeError(f"{what}: input or other must be a Tensor, got {type(x0).__name__} and "
                    f"{type(x1).__name__}")


def hypot(x0: Any, x1: Any) -> Tensor:
    """√(x0² + x1²), elementwise and broadcast, without overflow (``Hypot``), as
    ``torch.hypot``: floating-point only (an integer pair is a TypeError, as PyTorch refuses
    it); the gradient is NaN at the origin, as there."""
    a, b = _operands("hypot", x0, x1)
    if a.dtype.kind != "f":
        raise DTypeError(f"hypot: needs floating-point tensors, got {a.dtype} and {b.dtype} "
                         "(as in PyTorch); convert first, e.g. x.float()")
    return Hypot.apply(a, b)


def sinc(x: Tensor) -> Tensor:
    """sin(πx) / (πx), 1 at 0, elementwise (``Sinc``), as ``torch.sinc``: float32 for an
    integer tensor; the gradient is PyTorch's formula, 0 at x = 0."""
    return Sinc.apply(x._floating())


def copysign(x0: Any, x1: Any) -> Tensor:
    """|x0| with the sign (bit) of x1, elementwise and broadcast (``Copysign``), as
    ``torch.copysign``: -0.0 and -NaN in x1 count as negative; float32 for integers; the
    gradient in x0 is ±1 (0 at x0 = 0), in x1 zero."""
    a, b = _operands("copysign", x0, x1, to_float=True)
    if a.dtype.kind == "c":
        raise DTypeError("copysign is not defined for complex tensors (as in PyTorch)")
    return Copysign.apply(a, b)


def xlogy(x0: Any, x1: Any) -> Tensor:
    """x0 log(x1), 0 where x0 = 0 (NaN where x1 is NaN), elementwise and broadcast
    (``Xlogy``), as ``torch.xlogy``: either may be a number; float32 for integers; the
    gradients are PyTorch's (in x1, x0 / x1: NaN at x0 = x1 = 0)."""
    return Xlogy.apply(*_operands("xlogy", x0, x1, to_float=True))


def i0(x: Tensor) -> Tensor:
    """I0(x), the modified Bessel function of the first kind of order 0 (``I0``), as
    ``torch.i0``: float32 for an integer tensor; gradient I1(x), differentiable again."""
    return I0.apply(x._floating())


def heaviside(x: Tensor, values: Tensor) -> Tensor:
    """The step function: 0 where x < 0, ``values`` (broadcast) where x = 0, 1 where x > 0
    (and 0 at NaN), as ``torch.heaviside``; x and values must have one dtype, as PyTorch
    asks. Not differentiable (PyTorch's backward raises): a constant."""
    if not isinstance(x, Tensor) or not isinstance(values, Tensor):
        raise TypeError(f"heaviside: input and values must be Tensors, got "
                        f"{type(x).__name__} and {type(values).__name__}")
    if x.dtype != values.dtype:
        raise DTypeError(f"heaviside: input and values must have one dtype, got {x.dtype} and "
                         f"{values.dtype} (as in PyTorch)")
    if x.dtype.kind == "c":
        raise DTypeError("heaviside: not defined for complex tensors (as in PyTorch)")
    if values._dev is not x._dev:
        raise ValueError(f"heaviside: input on {x.device!r}, values on {values.device!r}")
    xp, a = x._dev.xp, x._data
    return x._mask(xp.where(a == 0, values._data, (a > 0).astype(a.dtype)))


def signbit(x: Tensor) -> Tensor:
    """Whether each element's sign bit is set (bool), as ``torch.signbit``: True for -0.0 and
    for a negative NaN too; x < 0 for integers; False for bool; refused for complex, as
    PyTorch."""
    xp, a = x._dev.xp, x._data
    if a.dtype.kind == "c":
        raise DTypeError("signbit: not defined for complex tensors (as in PyTorch)")
    if a.dtype.kind == "f":
        return x._mask(xp.signbit(a))
    if a.dtype.kind == "i":
        return x._mask(a < 0)
    return x._mask(xp.zeros(a.shape, dtype=bool))


def _integers(what: str, x0: Any, x1: Any) -> tuple[Any, Any]:
    """The arrays of two integer operands (bool refused), promoted as arithmetic promotes
    them."""
    a, b = _operands(what, x0, x1)
    if a.dtype.kind not in "iu" or b.dtype.kind not in "iu":
        raise DTypeError(f"{what}: needs integer tensors, got {a.dtype} and {b.dtype} (as in "
                         "PyTorch)")
    if a._dev is not b._dev:
        raise ValueError(f"{what}: tensors on {a.device!r} and {b.device!r}")
    return a, b


def gcd(x0: Any, x1: Any) -> Tensor:
    """The greatest common divisor, elementwise and broadcast, >= 0 (gcd(0, 0) = 0), as
    ``torch.gcd``; integer tensors only."""
    a, b = _integers("gcd", x0, x1)
    return a._mask(a._dev.xp.gcd(a._data, b._data))


def lcm(x0: Any, x1: Any) -> Tensor:
    """The least common multiple, elementwise and broadcast, as ``torch.lcm``: |x0 / gcd ·
    x1| (0 where either is 0), wrapping around on overflow as PyTorch's does (NumPy's lcm
    differs there); integer tensors only."""
    a, b = _integers("lcm", x0, x1)
    xp = a._dev.xp
    g = xp.gcd(a._data, b._data)
    zero = g == 0
    # C's arithmetic: 8- and 16-bit integers are multiplied as ints, then wrapped back
    wide = np.int32 if g.dtype.itemsize < 4 else g.dtype
    with np.errstate(over="ignore"):  # the wrap-around, as PyTorch's
        y = xp.abs((a._data // xp.where(zero, 1, g)).astype(wide) * b._data.astype(wide))
    return a._mask(xp.where(zero, 0, y).astype(g.dtype))


def bitwise_shift(x0: Any, x1: Any, left: bool) -> Tensor:
    """x0 << x1 (``left``) or x0 >> x1 (arithmetic), elementwise and broadcast, in the
    promoted integer dtype, as PyTorch's: a shift by a negative count or by at least the
    width gives 0 to the left, and to the right the sign (0 or -1); a left shift wraps
    around."""
    what = "bitwise_left_shift" if left else "bitwise_right_shift"
    a, b = _operands(what, x0, x1)
    dt = np.result_type(a.dtype, b.dtype)
    if dt.kind not in "iu":
        raise DTypeError(f"{what}: needs integer (or bool and integer) tensors, got {a.dtype} "
                         f"and {b.dtype} (as in PyTorch)")
    xp = a._dev.xp
    p, s = a._data.astype(dt), b._data.astype(dt)
    width = 8 * dt.itemsize
    if left:
        bad = (s < 0) | (s >= width)
        return a._mask(xp.where(bad, 0, xp.left_shift(p, xp.where(bad, 0, s))))
    most = width - (dt.kind == "i")  # the sign stays: at most width - 1 for signed
    bad = (s < 0) | (s >= most)
    shifted = xp.right_shift(p, xp.where(bad, 0, s))
    return a._mask(xp.where(bad, xp.right_shift(p, most) if dt.kind == "i" else 0, shifted))


class MantissaExponent(NamedTuple):
    """What ``frexp`` returns, as PyTorch's ``torch.return_types.frexp``."""

    mantissa: Tensor
    exponent: Tensor


def frexp(x: Tensor) -> MantissaExponent:
    """(mantissa, exponent) with x = mantissa · 2^exponent, |mantissa| in [0.5, 1) (0, inf and
    NaN keep themselves with exponent 0), as ``torch.frexp``: the exponent int32, the
    mantissa x's dtype and differentiable: x times 2^-exponent as two exact scalings, so its
    gradient is gy · 2^-exponent for every x (PyTorch's computes 2^exponent in float32, so
    it gives 0 or inf where |exponent| > 127; here it is exact there too)."""
    if x.dtype.kind != "f":
        raise DTypeError(f"frexp: needs a floating-point tensor, got {x.dtype} (as in PyTorch)")
    xp = x._dev.xp
    _, e = xp.frexp(x._data)
    e = e.astype(np.int32)
    half = (-e) // 2  # two powers of two, each in range even for subnormal x
    ones = xp.ones(e.shape, dtype=x.dtype)
    scale = [Tensor._wrap(xp.ldexp(ones, k), x._dev) for k in (half, -e - half)]
    return MantissaExponent(x * scale[0] * scale[1], x._mask(e))


def ldexp(x0: Tensor, x1: Any) -> Tensor:
    """x0 · 2^x1, elementwise and broadcast, as ``torch.ldexp``: floating-point (float32 for
    an integer x0 with an integer x1). An integer (or bool) x1 scales exactly, in two steps
    of powers of two (so 1e-300 · 2^1100 is right) and x0's float dtype stays; a float x1
    gives x0 · 2 ** x1, promoted as arithmetic, differentiable in both."""
    if not isinstance(x0, Tensor):
        raise TypeError(f"ldexp: input must be a Tensor, got {type(x0).__name__}")
    b = x0._lift(x1)
    if b.dtype.kind in "fc":
        a, b = x0._pair(b)
        return a * (2.0 ** b)
    a = x0._floating()
    if b._dev is not a._dev:
        raise ValueError(f"ldexp: input on {a.device!r}, other on {b.device!r}")
    # beyond 2^20 every float is 0 or inf already; clipped, half of k fits NumPy's int32
    xp, k = a._dev.xp, b._data.astype(np.int64).clip(-2**20, 2**20)
    half = k // 2
    ones = xp.ones(k.shape, dtype=a._data.real.dtype)  # (a complex x0 scales both parts)
    with np.errstate(over="ignore"):
        steps = [Tensor._wrap(xp.ldexp(ones, s.astype(np.int32)), a._dev)
                 for s in (half, k - half)]
    with np.errstate(over="ignore", invalid="ignore"):  # inf past the range, as PyTorch's
        out = a * steps[0] * steps[1]
    return where(a == 0, a, out)  # 0 · 2^k is 0 for any k (not 0 · inf = NaN)


# ---- frac, angle units, float_power, sgn, and the tests for -inf, inf and real values -------


def frac(x: Tensor) -> Tensor:
    """x - trunc(x): the fractional part, with x's sign (NaN at ±inf), as ``torch.frac``
    (floating-point tensors); gradient gy, trunc's being 0. (An infinite x is kept out of
    the subtraction, which would warn: its NaN is put in by a ``where``.)"""
    if x.dtype.kind != "f":
        raise DTypeError(f"frac: x must be floating-point, got {x.dtype} (as in PyTorch)")
    infinite = x.isinf()
    return where(infinite, math.nan, x - trunc(where(infinite, 0, x)))


def deg2rad(x: Tensor) -> Tensor:
    """x · π / 180 (float32 for an integer or bool tensor), as ``torch.deg2rad``."""
    return x._floating() * (math.pi / 180)


def rad2deg(x: Tensor) -> Tensor:
    """x · 180 / π (float32 for an integer or bool tensor), as ``torch.rad2deg``."""
    return x._floating() * (180 / math.pi)


def float_power(x0: Any, x1: Any) -> Tensor:
    """x0 ** x1 in float64 whatever the dtypes (complex128 for complex ones), as
    ``torch.float_power``: each side cast first (a number taken as a float64 constant), then
    ``**``, whose gradient reaches both."""
    if not isinstance(x0, Tensor) and not isinstance(x1, Tensor):
        raise TypeError(f"float_power: x0 or x1 must be a Tensor, got {type(x0).__name__} and "
                        f"{type(x1).__name__}")
    ref = x0 if isinstance(x0, Tensor) else x1
    complex_ = any(getattr(v, "dtype", np.dtype(type(v))).kind == "c" for v in (x0, x1))
    dt = np.dtype(np.complex128 if complex_ else np.float64)

    def wide(v: Any) -> Any:
        if isinstance(v, Tensor):
            return v if v.dtype == dt else v.to(dtype=dt)
        return Tensor._wrap(ref._dev.xp.asarray(v, dtype=dt), ref._dev)

    return wide(x0) ** wide(x1)


def sgn(x: Tensor) -> Tensor:
    """``sign`` for real tensors, x / |x| (0 at 0) for complex ones, as ``torch.sgn``."""
    if x.dtype.kind != "c":
        return sign(x)
    zero = x == 0
    return where(zero, 0, x / where(zero, 1, x.abs()).to(dtype=x.dtype))


def _no_sign_for_complex(what: str, a: Any) -> None:
    if a.dtype.kind == "c":
        raise DTypeError(f"{what}: not defined for complex tensors (as in PyTorch)")


def isneginf(x: Tensor) -> Tensor:
    """Whether each element is -inf (bool; all False for integer and bool tensors), as
    ``torch.isneginf``; refused for complex, as there)."""
    a = x._data
    _no_sign_for_complex("isneginf", a)
    return x._mask(a == -math.inf if a.dtype.kind == "f" else
                   x._dev.xp.zeros(a.shape, dtype=bool))


def isposinf(x: Tensor) -> Tensor:
    """Whether each element is +inf (bool), as ``torch.isposinf`` (refused for complex)."""
    a = x._data
    _no_sign_for_complex("isposinf", a)
    return x._mask(a == math.inf if a.dtype.kind == "f" else
                   x._dev.xp.zeros(a.shape, dtype=bool))


def isreal(x: Tensor) -> Tensor:
    """Whether each element's imaginary part is 0 (bool; all True for a real tensor), as
    ``torch.isreal``."""
    xp, a = x._dev.xp, x._data
    return x._mask(xp.imag(a) == 0 if a.dtype.kind == "c" else xp.ones(a.shape, dtype=bool))
