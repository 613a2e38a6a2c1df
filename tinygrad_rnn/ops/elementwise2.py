"""More elementwise ops: the hyperbolic functions and their inverses, exp2, fmax and fmin
(which ignore NaN), nextafter, rsub and polygamma (ψ⁽ⁿ⁾, through the Hurwitz zeta function).

As in ``elementwise.py``, each docstring gives the forward formula, the vector-Jacobian
product and what the op saves; binary ops return gradients in the broadcast shape (the engine
sums them back). The formulas are PyTorch's (``derivatives.yaml``), so values and gradients
match its to rounding.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..tensor import DTypeError, Function, Tensor, conj_
from .elementwise import _QUIET, _operands, digamma_array, sigmoid_array, trigamma_array


class Sinh(Function):
    """y = sinh x.  VJP: gx = gy cosh x (the op ``Cosh`` under ``create_graph=True``).
    Saves x."""

    complex_ok = True

    def forward(self, x: Any) -> Any:
        self.saved = (x,)
        with np.errstate(over="ignore"):  # ±inf past ~710, as PyTorch's
            return self.xp.sinh(x)

    def backward(self, gy: Any) -> Any:
        x = conj_(self.saved[0])
        if isinstance(x, Tensor):
            return gy * Cosh.apply(x)
        with np.errstate(over="ignore"):
            return gy * self.xp.cosh(x)


class Cosh(Function):
    """y = cosh x.  VJP: gx = gy sinh x (the op ``Sinh`` under ``create_graph=True``).
    Saves x."""

    complex_ok = True

    def forward(self, x: Any) -> Any:
        self.saved = (x,)
        with np.errstate(over="ignore"):
            return self.xp.cosh(x)

    def backward(self, gy: Any) -> Any:
        x = conj_(self.saved[0])
        if isinstance(x, Tensor):
            return gy * Sinh.apply(x)
        with np.errstate(over="ignore"):
            return gy * self.xp.sinh(x)


class Asinh(Function):
    """y = asinh x = log(x + √(x² + 1)).  VJP: gx = gy / √(x² + 1).  Saves x."""

    complex_ok = True

    def forward(self, x: Any) -> Any:
        self.saved = (x,)
        return self.xp.arcsinh(x)

    def backward(self, gy: Any) -> Any:
        x = conj_(self.saved[0])
        with np.errstate(over="ignore"):
            return gy / self.xp.sqrt(x * x + 1)


class Acosh(Function):
    """y = acosh x = log(x + √(x² - 1)), NaN below 1.  VJP: gx = gy / √(x² - 1) (inf at 1,
    NaN below, as PyTorch's); complex: gy / conj(√(x - 1) √(x + 1)), the derivative on the
    principal branch (√(x² - 1) takes the other sign where Re x < 0).  Saves x."""

    complex_ok = True

    def forward(self, x: Any) -> Any:
        self.saved = (x,)
        with np.errstate(invalid="ignore"):
            return self.xp.arccosh(x)

    def backward(self, gy: Any) -> Any:
        (x,) = self.saved
        xp = self.xp
        with np.errstate(**_QUIET):
            if x.dtype.kind == "c":
                x = x.conj()
                return gy / (xp.sqrt(x - 1) * xp.sqrt(x + 1))
            return gy / xp.sqrt(x * x - 1)


class Atanh(Function):
    """y = atanh x = log((1 + x) / (1 - x)) / 2, ±inf at ±1, NaN outside [-1, 1].
    VJP: gx = gy / (1 - x²).  Saves x."""

    complex_ok = True

    def forward(self, x: Any) -> Any:
        self.saved = (x,)
        with np.errstate(**_QUIET):
            return self.xp.arctanh(x)

    def backward(self, gy: Any) -> Any:
        x = conj_(self.saved[0])
        with np.errstate(**_QUIET):
            return gy / (1 - x * x)


class Exp2(Function):
    """y = 2^x.  VJP: gx = gy y log 2.  Saves y (its own output)."""

    complex_ok = True

    def forward(self, x: Any) -> Any:
        with np.errstate(over="ignore"):
            y = self.xp.exp2(x)
        self.saved = (y,)
        return y

    def backward(self, gy: Any) -> Any:
        y = conj_(self.saved[0])
        return gy * y * math.log(2)


class Fmax(Function):
    """y = max(x0, x1), the other one where one is NaN (NaN only where both are: NumPy's and
    PyTorch's ``fmax``).

    VJP (PyTorch's): g0 = gy where x0 >= x1 or x1 is NaN, else 0; g1 = gy elsewhere. A tie
    gives the whole gradient to x0 (``maximum`` splits it).  Saves both inputs.
    """

    def forward(self, x0: Any, x1: Any) -> Any:
        self.saved = (x0, x1)
        return self.xp.fmax(x0, x1)

    def backward(self, gy: Any) -> Any:
        x0, x1 = self.saved
        first = (x0 >= x1) | (x1 != x1)
        return self.xp.where(first, gy, 0), self.xp.where(first, 0, gy)


class NextAfter(Function):
    """y = the next floating-point number after x0 towards x1 (NumPy's and PyTorch's
    ``nextafter``).

    VJP (PyTorch's): g0 = gy (y is x0 moved by one unit in the last place), g1 = 0.  Saves
    the shapes only."""

    def forward(self, x0: Any, x1: Any) -> Any:
        self.like = x1.shape
        return self.xp.nextafter(x0, x1)

    def backward(self, gy: Any) -> Any:
        return gy, self.xp.zeros(self.like, dtype=gy.dtype)


class Fmin(Function):
    """y = min(x0, x1), the other one where one is NaN (``fmin``).

    VJP (PyTorch's): g0 = gy where x0 <= x1 or x1 is NaN, else 0; g1 = gy elsewhere.
    Saves both inputs.
    """

    def forward(self, x0: Any, x1: Any) -> Any:
        self.saved = (x0, x1)
        return self.xp.fmin(x0, x1)

    def backward(self, gy: Any) -> Any:
        x0, x1 = self.saved
        first = (x0 <= x1) | (x1 != x1)
        return self.xp.where(first, gy, 0), self.xp.where(first, 0, gy)


# Cephes' zeta(s, q): the denominators of the Euler-Maclaurin terms, (2k)! / B_2k
_ZETA_A = [12.0, -720.0, 30240.0, -1209600.0, 47900160.0, -1.8924375803183791606e9,
           7.47242496e10, -2.950130727918164224e12, 1.1646782814350067249e14,
           -4.5979787224074726105e15, 1.8152105401943546773e17, -7.1661652561756670113e18]
_MACHEP = 1.11022302462515654042e-16
_ZETA_LOWEST = 2000


def hurwitz_zeta_array(xp: Any, s: float, q: Any) -> Any:
    """ζ(s, q) = Σ_{k>=0} (q + k)^-s for a number s > 1 and an array q, in float64, by
    Cephes' algorithm as PyTorch runs it: the terms summed directly while fewer than 10 or
    q + k <= 9, stopping where a term falls below 1.1e-16 of the sum; then the
    Euler-Maclaurin tail w^(1-s) / (s - 1) - w^-s / 2 + Σ_j B_2j (s)_(2j-1) w^(-s-2j+1) / (2j)!
    (up to 12 terms, stopping the same way). inf at q = 0 and the negative integers. The
    direct sum runs elementwise in lockstep, so q below -2000 (which would take more than
    2,000 steps) gives NaN instead of a very slow answer."""
    q = q.astype(np.float64, copy=False)
    finite = xp.isfinite(q)
    lowest = float(xp.where(finite, q, 9.0).min()) if q.size else 9.0
    steps = max(9, math.floor(9 - lowest) + 1)
    too_far = q < -_ZETA_LOWEST
    steps = min(steps, _ZETA_LOWEST + 10)
    with np.errstate(all="ignore"):  # powers at the poles, NaN and inf: masked out below
        total = q ** -s
        a, b = q, xp.zeros(q.shape)
        running = xp.ones(q.shape, dtype=bool)
        returned = xp.zeros(q.shape, dtype=bool)
        for i in range(steps):
            step = running & ((i < 9) | (a <= 9))
            a = xp.where(step, a + 1, a)
            b = xp.where(step, a ** -s, b)
            total = xp.where(step, total + b, total)
            small = step & (-_MACHEP * total < b) & (b < _MACHEP * total)
            returned = returned | small
            running = step & ~small
        tail = ~returned
        w = a
        total = xp.where(tail, total + b * w / (s - 1) - 0.5 * b, total)
        coef, k = 1.0, 0.0
        for c in _ZETA_A:
            coef *= s + k
            b = b / w
            t = coef * b / c
            total = xp.where(tail, total + t, total)
            tail = tail & ~(xp.abs(t / total) < _MACHEP)
            coef *= s + k + 1
            b = b / w
            k += 2
        pole = (q <= 0) & (q == xp.floor(q))
        return xp.where(pole, math.inf, xp.where(too_far, math.nan, total))


def polygamma_array(xp: Any, n: int, x: Any) -> Any:
    """ψ⁽ⁿ⁾(x) of an array, as PyTorch computes it: ψ for n = 0, ψ' for n = 1 (its
    ``calc_trigamma``), else (-1)^(n+1) n! ζ(n + 1, x), in float64, then x's dtype."""
    if n == 0:
        return digamma_array(xp, x)
    if n == 1:
        with np.errstate(invalid="ignore"):  # (sin(π · inf) on the way to NaN)
            return trigamma_array(xp, x)
    sign = 1.0 if n % 2 else -1.0
    with np.errstate(over="ignore", invalid="ignore"):
        y = sign * math.exp(math.lgamma(n + 1)) * hurwitz_zeta_array(xp, n + 1.0, x)
    return y.astype(x.dtype, copy=False)


class Polygamma(Function):
    """y = ψ⁽ⁿ⁾(x), the n-th derivative of the digamma function (``polygamma_array``).
    VJP: gx = gy ψ⁽ⁿ⁺¹⁾(x) (the op again with n + 1, so every higher derivative works).
    Saves x."""

    def forward(self, x: Any, n: int = 0) -> Any:
        self.n = n
        self.saved = (x,)
        return polygamma_array(self.xp, n, x)

    def backward(self, gy: Any) -> Any:
        (x,) = self.saved
        if isinstance(x, Tensor):
            return gy * Polygamma.apply(x, n=self.n + 1)
        return gy * polygamma_array(self.xp, self.n + 1, x)


# ---- the functions ----------------------------------------------------------------------


def sinh(x: Tensor) -> Tensor:
    """sinh x (float32 for an integer tensor), as ``torch.sinh``; gradient cosh x."""
    return Sinh.apply(x._floating())


def cosh(x: Tensor) -> Tensor:
    """cosh x, as ``torch.cosh``; gradient sinh x."""
    return Cosh.apply(x._floating())


def asinh(x: Tensor) -> Tensor:
    """asinh x, as ``torch.asinh`` (``arcsinh``); gradient 1 / √(x² + 1)."""
    return Asinh.apply(x._floating())


def acosh(x: Tensor) -> Tensor:
    """acosh x (NaN below 1), as ``torch.acosh`` (``arccosh``); gradient 1 / √(x² - 1)."""
    return Acosh.apply(x._floating())


def atanh(x: Tensor) -> Tensor:
    """atanh x (±inf at ±1, NaN beyond), as ``torch.atanh`` (``arctanh``); gradient
    1 / (1 - x²)."""
    return Atanh.apply(x._floating())


def exp2(x: Tensor) -> Tensor:
    """2^x (float32 for an integer tensor), as ``torch.exp2``; gradient 2^x log 2."""
    return Exp2.apply(x._floating())


def _not_complex(what: str, a: Tensor) -> None:
    if a.dtype.kind == "c":
        raise DTypeError(f"{what}: not defined for complex tensors (as in PyTorch)")


def fmax(x0: Any, x1: Any) -> Tensor:
    """The larger of x0 and x1, elementwise and broadcast, the number where the other is NaN
    (``Fmax``), as ``torch.fmax``: promoted as arithmetic; a tie's gradient goes to x0."""
    a, b = _operands("fmax", x0, x1)
    _not_complex("fmax", a)
    return Fmax.apply(a, b)


def fmin(x0: Any, x1: Any) -> Tensor:
    """The smaller of x0 and x1, the number where the other is NaN (``Fmin``), as
    ``torch.fmin``."""
    a, b = _operands("fmin", x0, x1)
    _not_complex("fmin", a)
    return Fmin.apply(a, b)


def nextafter(x0: Any, x1: Any) -> Tensor:
    """The next floating-point number after x0 towards x1, elementwise and broadcast, as
    ``torch.nextafter`` (floating-point; promoted as arithmetic). Its gradient is PyTorch's:
    gy to x0, 0 to x1 (``NextAfter``)."""
    a, b = _operands("nextafter", x0, x1)
    if a.dtype.kind != "f":
        raise DTypeError(f"nextafter: needs floating-point tensors, got {a.dtype} (as in "
                         "PyTorch)")
    return NextAfter.apply(a, b)


def rsub(input: Any, other: Any, alpha: Any = 1) -> Tensor:  # noqa: A002
    """other - alpha · input, as ``torch.rsub`` (``input`` a tensor, ``other`` a tensor or
    number); refused for bool, as there."""
    if not isinstance(input, Tensor):
        raise TypeError(f"rsub: input must be a Tensor, got {type(input).__name__}")
    if input.dtype.kind == "b" or getattr(other, "dtype", None) == np.bool_ or \
            isinstance(other, bool):
        raise DTypeError("rsub: subtraction with bool tensors is not supported (as in "
                         "PyTorch); use logical_xor or ~ instead")
    scaled = input if alpha == 1 else input * alpha
    return scaled.__rsub__(other) if not isinstance(other, Tensor) else other - scaled


def polygamma(n: int, x: Tensor) -> Tensor:
    """ψ⁽ⁿ⁾(x), the n-th derivative of digamma (n = 0: ψ itself), as ``torch.polygamma``:
    float32 for an integer tensor; differentiable to any order (gradient ψ⁽ⁿ⁺¹⁾)."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        raise TypeError(f"polygamma: n must be an int, got {type(n).__name__}")
    if n < 0:
        raise ValueError(f"polygamma(n, x) does not support negative n, got {n} (as PyTorch)")
    if not isinstance(x, Tensor):
        raise TypeError(f"polygamma: x must be a Tensor, got {type(x).__name__}")
    return Polygamma.apply(x._floating(), n=int(n))


# ---- beyond elementwise: index_reduce, unravel_index, histogram(dd), gradient --------------
# (compositions of existing ops, kept here beside the rest of this batch of PyTorch's names)

INDEX_REDUCTIONS = ("prod", "mean", "amax", "amin")


def index_reduce(x: Tensor, axis: int, index: Any, source: Tensor, reduce: str, *,
                 include_self: bool = True) -> Tensor:
    """x with the slices of ``source`` along ``axis`` reduced into the slices ``index`` names
    (``x[..., index[i], ...]`` takes ``source[..., i, ...]``), as ``torch.index_reduce``:
    ``reduce`` "prod", "mean", "amax" or "amin", x's own value counted unless not
    ``include_self`` (a slice that receives nothing keeps it either way). A
    ``scatter_reduce`` with ``index`` spread over source's shape, so the gradients are its
    (PyTorch's: ties of amax/amin share the gradient evenly)."""
    from .movement import _check_in_range, scatter_reduce
    from .reduce import normalize_axis

    if reduce not in INDEX_REDUCTIONS:
        raise ValueError(f"index_reduce: reduce must be one of {', '.join(INDEX_REDUCTIONS)}, "
                         f"got {reduce!r}")
    if not isinstance(x, Tensor) or not isinstance(source, Tensor):
        raise TypeError("index_reduce: input and source must be Tensors")
    if x.dtype != source.dtype:
        raise DTypeError(f"index_reduce: input ({x.dtype}) and source ({source.dtype}) must "
                         "have the same dtype (as in PyTorch)")
    idx = index if isinstance(index, Tensor) else x._lift(index)
    if idx.dtype not in (np.int64, np.int32) or idx.ndim > 1:
        raise DTypeError(f"index_reduce: index must be a 1-D integer tensor (int64 or int32), "
                         f"got {idx.dtype} of shape {idx.shape}")
    idx = idx.reshape(-1)
    (a,) = normalize_axis(axis, max(x.ndim, 1))
    xs, ss = x.shape or (1,), source.shape or (1,)
    if len(xs) != len(ss) or xs[:a] + xs[a + 1:] != ss[:a] + ss[a + 1:] or \
            ss[a] != idx.shape[0]:
        raise ValueError(f"index_reduce: source of shape {source.shape} must match input's "
                         f"{x.shape} except along axis {axis}, where it needs {idx.shape[0]} "
                         "slices, one per index")
    # checked here too: with an empty source, scatter_reduce sees no index to check
    _check_in_range("index_reduce", idx._data, xs[a], a)
    spread = idx.reshape((1,) * a + (-1,) + (1,) * (len(ss) - a - 1)).broadcast_to(ss)
    out = scatter_reduce(x.reshape(xs), a, spread, source.reshape(ss), reduce,
                         include_self=include_self)
    return out.reshape(x.shape)


def unravel_index(indices: Any, shape: Any) -> tuple[Tensor, ...]:
    """The coordinates, in an array of ``shape``, of each flat (C order) index, one int64
    tensor per axis, as ``torch.unravel_index``. As there, indices are not checked against
    the size: they wrap around (-1 is the last element)."""
    from ..tensor import tensor

    t = indices if isinstance(indices, Tensor) else tensor(indices)
    if t.dtype.kind not in "iu":
        raise DTypeError(f"unravel_index: expected 'indices' to be integer dtype, but got "
                         f"{t.dtype}")
    dims = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
    if any(isinstance(d, bool) or not isinstance(d, (int, np.integer)) for d in dims):
        raise TypeError(f"unravel_index: shape must be ints, got {shape!r}")
    if any(d < 0 for d in dims):
        raise ValueError(f"unravel_index: shape must be non-negative, got {dims}")
    if math.prod(dims) == 0 and t.numel() > 0:
        raise ValueError("unravel_index: cannot unravel into a shape with no elements")
    rest = t._data.astype(np.int64)
    out = []
    for d in reversed(dims):
        out.append(rest % d)
        rest = rest // d
    return tuple(Tensor._wrap(c, t._dev) for c in reversed(out))


def _edges(what: str, x: Any, xp: Any, bins: Any, lo: float | None, hi: float | None,
           dtype: Any) -> Any:
    """The bin edges of one dimension: ``bins`` + 1 evenly from lo to hi (the data's
    min and max when no range; each widened by 1/2 when they are equal), or the edges
    given."""
    if isinstance(bins, Tensor):
        edges = bins._data.astype(dtype, copy=False).reshape(-1)
        if edges.size < 1 or bool((edges[1:] < edges[:-1]).any()):
            raise ValueError(f"{what}: bin edges must be a non-empty increasing 1-D tensor")
        return edges
    if isinstance(bins, bool) or not isinstance(bins, (int, np.integer)) or bins < 1:
        raise ValueError(f"{what}: bins must be an int >= 1 or a tensor of edges, got "
                         f"{bins!r}")
    if lo is None:
        if x.size == 0:
            lo, hi = 0.0, 1.0
        else:
            lo, hi = float(x.min()), float(x.max())
            if not (math.isfinite(lo) and math.isfinite(hi)):
                raise ValueError(f"{what}: the range [{lo}, {hi}] of the data is not finite "
                                 "(give range=)")
    if lo > hi:
        raise ValueError(f"{what}: min should not exceed max, but got min {lo} max {hi}")
    if lo == hi:
        lo, hi = lo - 0.5, hi + 0.5
    return xp.linspace(lo, hi, int(bins) + 1).astype(dtype)


def histogramdd(input: Tensor, bins: Any = 10, range: Sequence[float] | None = None,  # noqa: A002
                weight: Tensor | None = None, density: bool = False) -> Any:
    """The D-dimensional histogram of the points (..., D) of ``input``, as
    ``torch.histogramdd``: (hist, bin_edges), hist of shape (bins_0, ..., bins_D-1) in
    input's dtype, bin_edges one tensor per dimension. ``bins`` an int, one int per
    dimension, or one tensor of edges per dimension; ``range`` (min_0, max_0, min_1, ...)
    for int bins (else each dimension's data range); ``weight`` one per point; ``density``
    divides by the total and the bin volumes. Each bin holds [left, right), the last also
    its right edge; points outside (or NaN) are not counted. No gradient (as PyTorch's)."""
    from ..tensor import Tensor as T

    what = "histogramdd"
    if not isinstance(input, T):
        raise TypeError(f"{what}: input must be a Tensor, got {type(input).__name__}")
    if input.dtype.kind != "f":
        raise DTypeError(f"{what}: input must be floating-point, got {input.dtype} (as in "
                         "PyTorch)")
    if input.ndim < 1:
        raise ValueError(f"{what}: input needs at least 1 dim (the points' coordinates)")
    xp, dev, dt = input._dev.xp, input._dev, input.dtype
    D = input.shape[-1]
    pts = input._data.reshape(-1, D)
    per_dim = list(bins) if isinstance(bins, (list, tuple)) else [bins] * D
    if len(per_dim) != D:
        raise ValueError(f"{what}: {len(per_dim)} bins for {D} dimensions")
    if range is not None:
        r = [float(v) for v in range]
        if len(r) != 2 * D:
            raise ValueError(f"{what}: range needs {2 * D} numbers (min and max of each "
                             f"dimension), got {len(r)}")
    edges = [_edges(what, pts[:, d], xp, b,
                    None if range is None or isinstance(b, T) else r[2 * d],
                    None if range is None or isinstance(b, T) else r[2 * d + 1], dt)
             for d, b in enumerate(per_dim)]
    w = None
    if weight is not None:
        if not isinstance(weight, T) or weight.shape != input.shape[:-1]:
            raise ValueError(f"{what}: weight must be a tensor of shape {input.shape[:-1]} "
                             f"(one per point), got {getattr(weight, 'shape', weight)}")
        w = weight._data.reshape(-1).astype(dt, copy=False)
    counts = [e.size - 1 for e in edges]
    keep = xp.ones(pts.shape[0], dtype=bool)
    flat = xp.zeros(pts.shape[0], dtype=np.int64)
    for d, e in enumerate(edges):
        v = pts[:, d]
        k = xp.searchsorted(e, v, side="right") - 1
        k = xp.where(v == e[-1], counts[d] - 1, k)  # the last bin holds its right edge
        keep = keep & (k >= 0) & (k < counts[d]) & (v == v)
        flat = flat * counts[d] + xp.where(keep, k, 0)
    total = math.prod(counts)
    picked = flat[keep]
    hist = xp.bincount(picked, weights=None if w is None else w[keep], minlength=total)
    hist = hist[:total].astype(dt).reshape(counts)
    if density:
        volume = xp.ones(counts, dtype=dt)
        for d, e in enumerate(edges):
            volume = volume * (e[1:] - e[:-1]).reshape((1,) * d + (-1,) + (1,) * (D - d - 1))
        with np.errstate(**_QUIET):
            hist = hist / hist.sum() / volume
    return HistogramddResult(T._wrap(hist, dev), tuple(T._wrap(e, dev) for e in edges))


class HistogramResult(tuple):
    """(hist, bin_edges), by name too, as ``torch.return_types.histogram``."""

    __slots__ = ()

    def __new__(cls, hist: Tensor, bin_edges: Any) -> HistogramResult:
        return tuple.__new__(cls, (hist, bin_edges))

    @property
    def hist(self) -> Tensor:
        return self[0]

    @property
    def bin_edges(self) -> Any:
        return self[1]


HistogramddResult = HistogramResult


def histogram(input: Tensor, bins: Any = 100, *, range: Sequence[float] | None = None,  # noqa: A002
              weight: Tensor | None = None, density: bool = False) -> HistogramResult:
    """(hist, bin_edges) of all of ``input``'s elements, as ``torch.histogram``: ``bins`` an
    int (that many equal bins over ``range``, else the data's min to max) or a 1-D tensor of
    increasing edges; ``weight`` one per element; ``density`` makes it integrate to 1
    (``histogramdd`` in one dimension)."""
    if not isinstance(input, Tensor):
        raise TypeError(f"histogram: input must be a Tensor, got {type(input).__name__}")
    w = None
    if weight is not None:
        if not isinstance(weight, Tensor) or weight.shape != input.shape:
            raise ValueError(f"histogram: weight must be a tensor of input's shape "
                             f"{input.shape}, got {getattr(weight, 'shape', weight)}")
        w = weight.reshape(-1)
    hist, edges = histogramdd(input.reshape(-1, 1), [bins], range=range, weight=w,
                              density=density)
    return HistogramResult(hist, edges[0])


def gradient(input: Tensor, *, spacing: Any = 1, dim: Any = None,  # noqa: A002
             edge_order: int = 1) -> tuple[Tensor, ...]:
    """The derivative of ``input`` along each of ``dim`` (all axes by default) by central
    differences, one tensor per axis, as ``torch.gradient`` (PyTorch's formulas):
    interior (f[i+1] - f[i-1]) / 2h, one-sided differences of first (``edge_order`` 1) or
    second order at the ends. ``spacing`` a number (the same step everywhere), one number
    per axis, or one 1-D tensor of coordinates per axis (unevenly spaced: the
    second-order formula for uneven steps inside). Differentiable in input (and in the
    coordinates). Each axis needs at least edge_order + 1 points."""
    if not isinstance(input, Tensor):
        raise TypeError(f"gradient: input must be a Tensor, got {type(input).__name__}")
    if edge_order not in (1, 2):
        raise ValueError(f"gradient: edge_order must be 1 or 2, got {edge_order!r}")
    from .reduce import normalize_axis

    axes = list(range(input.ndim)) if dim is None else \
        [normalize_axis(d, input.ndim)[0] for d in ((dim,) if isinstance(dim, int) else dim)]
    if isinstance(spacing, (list, tuple)):
        steps = list(spacing)
        if len(steps) != len(axes):
            raise ValueError(f"gradient: {len(steps)} spacings for {len(axes)} axes (give one "
                             "per axis, or one number)")
    else:
        steps = [spacing] * len(axes)
    f = input._floating()
    if any(f.shape[a] < edge_order + 1 for a in axes):
        raise ValueError(f"gradient expected each dimension size to be at least "
                         f"edge_order+1 (as PyTorch), got shape {input.shape}")

    out = []
    for a, h in zip(axes, steps):
        def sl(start: int, stop: int | None, a: int = a) -> Tensor:
            return f[(slice(None),) * a + (slice(start, stop),)]

        if isinstance(h, Tensor):
            if h.ndim != 1 or h.shape[0] != f.shape[a]:
                raise ValueError(f"gradient: the coordinates of axis {a} must be a 1-D tensor "
                                 f"of {f.shape[a]} points, got shape {h.shape}")
            dx = h[1:] - h[:-1]
            shape = [1] * f.ndim
            shape[a] = -1

            def along(v: Tensor, shape: list[int] = shape) -> Tensor:
                return v.reshape(shape)

            dx1, dx2 = dx[:-1], dx[1:]
            ca = along(-dx2 / (dx1 * (dx1 + dx2)))
            cb = along((dx2 - dx1) / (dx1 * dx2))
            cc = along(dx1 / (dx2 * (dx1 + dx2)))
            center = ca * sl(0, -2) + cb * sl(1, -1) + cc * sl(2, None)
            if edge_order == 1:
                first = (sl(1, 2) - sl(0, 1)) / dx[0]
                last = (sl(-1, None) - sl(-2, -1)) / dx[-1]
            else:
                d0, d1, e1, e2 = dx[0], dx[1], dx[-1], dx[-2]
                first = (-(2.0 * d0 + d1) / (d0 * (d0 + d1))) * sl(0, 1) + \
                    ((d0 + d1) / (d0 * d1)) * sl(1, 2) + (-d0 / (d1 * (d0 + d1))) * sl(2, 3)
                last = (e1 / (e2 * (e1 + e2))) * sl(-3, -2) + \
                    (-(e1 + e2) / (e1 * e2)) * sl(-2, -1) + \
                    ((2 * e1 + e2) / (e1 * (e1 + e2))) * sl(-1, None)
            from .movement import cat

            out.append(cat([first, center, last], a))
            continue
        if isinstance(h, bool) or not isinstance(h, (int, float, np.integer, np.floating)):
            raise TypeError(f"gradient: spacing must be numbers or 1-D tensors, got "
                            f"{type(h).__name__}")
        center = (sl(2, None) - sl(0, -2)) / h
        if edge_order == 1:
            first = (sl(1, 2) - sl(0, 1)) / h
            last = (sl(-1, None) - sl(-2, -1)) / h
        else:
            first = (-1.5 * sl(0, 1) + 2 * sl(1, 2) - 0.5 * sl(2, 3)) / h
            last = (0.5 * sl(-3, -2) - 2 * sl(-2, -1) + 1.5 * sl(-1, None)) / h
        from .movement import cat

        out.append(cat([first, center / 2, last], a))
    return tuple(out)


class BCEWithLogits(Function):
    """The binary cross-entropy of logits x against targets y, element by element, as
    PyTorch's: loss = (1 - y) x + m + log(exp(-m) + exp(-x - m)), m = max(-x, 0) (that is
    (1 - y) x + log(1 + exp(-x)), with no overflow and no log 0).

    VJP: gx = gy (σ(x) - y), gy_target = -gy x. σ(x) is computed directly, not as 1 minus a
    number near 1 (which the composed formula's gradient would be: at x = -14 in float32 that
    is 5% off, and 0 below x ≈ -17). Saves x and y."""

    def forward(self, x: Any, y: Any) -> Any:
        self.saved = (x, y)
        xp = self.xp
        m = xp.maximum(-x, 0)
        with np.errstate(**_QUIET):
            return (1 - y) * x + m + xp.log(xp.exp(-m) + xp.exp(-x - m))

    def backward(self, gy: Any) -> Any:
        x, y = self.saved
        s = x.sigmoid() if isinstance(x, Tensor) else sigmoid_array(self.xp, x)
        return gy * (s - y), -gy * x

    def jvp(self, tx: Any, ty: Any) -> Any:
        x, y = self.saved
        return tx * (sigmoid_array(self.xp, x) - y) - ty * x
