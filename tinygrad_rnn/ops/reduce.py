"""Reductions over ``axis`` (None, an int, or a tuple; negative counts from the end) with
``keepdims``. ``Sum`` and ``Max`` (which takes min too) are primitives; mean, var,
var_mean, std_mean, logsumexp and median are compositions. ``Cumsum`` and ``Cumprod`` (the
running sum and product along one axis) and ``Prod`` (the product along one axis) are
primitives too. cov, corrcoef, trapezoid, renorm and vander are compositions; cummax, cummin,
kthvalue, mode and nanmedian find their indices on the device, then gather the values.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np

from ..tensor import DTypeError, DTypeLike, Function, Tensor, conj_, resolve_dtype, torch_names
from .elementwise import where
from .movement import ValuesIndices, _sort_axis

Axis = int | Sequence[int] | None


def normalize_axis(axis: Axis, ndim: int) -> tuple[int, ...]:
    """``axis`` as a sorted tuple of non-negative ints; a clear error if out of range."""
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    out = []
    for a in axes:
        if not isinstance(a, int) or not -max(ndim, 1) <= a < max(ndim, 1):
            raise ValueError(f"axis {a} is out of range for a tensor with {ndim} dimensions")
        if ndim:  # on a 0-d tensor axis 0 (or -1) names nothing, as in PyTorch
            out.append(a % ndim)
    if len(set(out)) != len(out):
        raise ValueError(f"axis {axis} repeats an axis")
    return tuple(sorted(out))


def _kept_shape(shape: tuple[int, ...], axes: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


class Sum(Function):
    """y = Σ_axis x, accumulated in ``dtype`` if given, else in x's dtype, or in int64 for
    bool and integer x (as PyTorch's).  VJP: gx = gy broadcast back over the summed axes.
    JVP: linear.  Saves x's shape."""

    complex_ok = True
    linear = True  # forward mode: J·v = the op applied to v

    def forward(self, x: Any, axis: Axis, keepdims: bool, dtype: Any = None) -> Any:
        self.axes = normalize_axis(axis, x.ndim)
        self.shape = x.shape
        if dtype is None and x.dtype.kind in "biu":
            dtype = np.int64
        return x.sum(axis=self.axes, keepdims=keepdims, dtype=dtype)

    def backward(self, gy: Any) -> Any:
        gy = gy.reshape(_kept_shape(self.shape, self.axes))
        return self.xp.broadcast_to(gy, self.shape)


class Max(Function):
    """y = max_axis x (``smallest``: min_axis x, taken directly, so that unsigned and boolean
    tensors and the most negative integer come out right).

    VJP: gx = gy * w, w = [x == y] / (number of maxima): at ties the gradient is split evenly
    between the tied elements (as ``torch.amax``), so it is the same whichever order they come
    in. A NaN is the maximum of its slice (y is NaN), and the gradient goes to it, as with
    PyTorch's ``max()``.  JVP: ty = Σ_axis t * w (the tied elements' mean tangent, as
    PyTorch's).  Saves w.
    """

    def forward(self, x: Any, axis: Axis, keepdims: bool, smallest: bool = False) -> Any:
        xp = self.xp
        self.axes = normalize_axis(axis, x.ndim)
        if any(x.shape[a] == 0 for a in self.axes):  # (an empty batch of slices is fine)
            raise ValueError(f"{'min' if smallest else 'max'} of an empty tensor")
        y = (x.min if smallest else x.max)(axis=self.axes, keepdims=True)
        hit = x == y
        if x.dtype.kind == "f":
            hit = hit | (xp.isnan(x) & xp.isnan(y))
        hit = hit.astype(x.dtype)
        self.w = hit / xp.maximum(hit.sum(axis=self.axes, keepdims=True), 1)
        return y if keepdims else y.reshape(tuple(n for i, n in enumerate(x.shape)
                                                  if i not in self.axes))

    def backward(self, gy: Any) -> Any:
        return gy.reshape(_kept_shape(self.w.shape, self.axes)) * self.w

    def jvp(self, t: Any) -> Any:  # (the engine drops the kept axes where y has none)
        return (t * self.w).sum(axis=self.axes)


class Cumsum(Function):
    """y_i = Σ_{j ≤ i} x_j along ``axis`` (the running sum; y has x's shape).

    VJP: gx_i = Σ_{j ≥ i} gy_j, the cumulative sum of gy taken from the end of the axis:
    flip(cumsum(flip(gy))). Linear, so it saves nothing but the axis; written with
    ``xp.flip`` and ``xp.cumsum``, which ``TensorXP`` records as ops, so that
    ``create_graph=True`` differentiates it again. float16 adds up in float32 (as PyTorch):
    a float16 running sum would stop growing once its steps fall below its rounding.
    JVP: linear.
    """

    complex_ok = True  # (linear with real coefficients: the same VJP for complex numbers)
    linear = True  # forward mode: J·v = the op applied to v

    def forward(self, x: Any, axis: int) -> Any:
        self.axis = axis
        if x.dtype == np.float16:
            with np.errstate(over="ignore"):  # past float16's range: inf, as PyTorch's
                return self.xp.cumsum(x, axis=axis, dtype=np.float32).astype(np.float16)
        return self.xp.cumsum(x, axis=axis, dtype=x.dtype)  # NumPy's would widen int32

    def backward(self, gy: Any) -> Any:
        xp, a = self.xp, self.axis
        return xp.flip(xp.cumsum(xp.flip(gy, a), axis=a), a)


@torch_names
def cumsum(x: Tensor, axis: int, *, dtype: DTypeLike = None) -> Tensor:
    """The running sum of ``x`` along ``axis``, as ``torch.cumsum(x, dim, dtype=None)``: bool
    and integer tensors give int64; ``dtype`` casts x first. A 0-d tensor takes axis 0 or -1
    and gives itself."""
    ax = _sort_axis("cumsum", axis, x.ndim)
    dt = resolve_dtype(dtype) if dtype is not None else \
        np.dtype(np.int64) if x.dtype.kind in "biu" else x.dtype
    if x.dtype != dt:
        x = x.to(dtype=dt)
    if not x.ndim:
        return Cumsum.apply(x.reshape(1), axis=0).reshape(())
    return Cumsum.apply(x, axis=ax)


class Cumprod(Function):
    """y_i = Π_{j ≤ i} x_j along ``axis`` (the running product; y has x's shape).

    VJP: gx_i = Σ_{j ≥ i} gy_j Π_{k ≤ j, k ≠ i} x_k = L_i S_i, with L_i = Π_{k < i} x_k (the
    exclusive running product, ``_exclusive_cumprod``) and S_i = Σ_{j ≥ i} gy_j Π_{i < k ≤ j}
    x_k, the solution of S_i = gy_i + x_{i+1} S_{i+1} from the end (``_suffix_scan``). No
    division (PyTorch's Σ_{j ≥ i} gy_j y_j / x_i needs a case for zeros, and loses all
    precision where y underflows), so it is exact with zeros, and the same polynomial on
    Tensors under ``create_graph=True`` (``xp.cumprod``, ``xp.concatenate`` and ``xp.zeros``
    are ``TensorXP``'s), whose derivative is then right at zeros too. O(n log n) along the
    axis. Complex x: y is holomorphic, so the same with conj(x) for x.  Saves x.
    """

    complex_ok = True

    def forward(self, x: Any, axis: int) -> Any:
        self.axis, self.saved = axis, (x,)
        return self.xp.cumprod(x, axis=axis, dtype=x.dtype)  # NumPy's would widen int32

    def backward(self, gy: Any) -> Any:
        x = conj_(self.saved[0])
        return _exclusive_cumprod(self.xp, x, self.axis) * _suffix_scan(self.xp, x, gy,
                                                                         self.axis)


def _suffix_scan(xp: Any, x: Any, g: Any, axis: int) -> Any:
    """S_i = Σ_{j ≥ i} g_j Π_{i < k ≤ j} x_k along ``axis``, by doubling (Hillis and Steele's
    scan of the maps s ↦ a s + b): b_i starts as g_i, a_i as x_{i+1} (0 past the end); each
    step d = 1, 2, 4, ... makes b_i += a_i b_{i+d} and a_i *= a_{i+d}, after which b_i sums
    the terms j < i + 2d and a_i = Π_{i < k ≤ i + 2d} x_k. Works on arrays and, through
    ``TensorXP``, on Tensors."""
    n, lead = x.shape[axis], (slice(None),) * axis

    def ahead(v: Any, d: int) -> Any:  # v_{i+d}, 0 past the end
        pad = xp.zeros(v.shape[:axis] + (min(d, n),) + v.shape[axis + 1:], dtype=v.dtype)
        return xp.concatenate([v[(*lead, slice(d, None))], pad], axis=axis)

    a, b, d = ahead(x, 1), g, 1
    while d < n:
        b = b + a * ahead(b, d)
        if 2 * d < n:  # (the last step's a is not used)
            a = a * ahead(a, d)
        d *= 2
    return b


@torch_names
def cumprod(x: Tensor, axis: int, *, dtype: DTypeLike = None) -> Tensor:
    """The running product of ``x`` along ``axis``, as ``torch.cumprod(x, dim, dtype=None)``
    (``Cumprod``): bool and integer tensors give int64; ``dtype`` casts x first. A 0-d tensor
    takes axis 0 or -1 and gives itself."""
    ax = _sort_axis("cumprod", axis, x.ndim)
    dt = resolve_dtype(dtype) if dtype is not None else \
        np.dtype(np.int64) if x.dtype.kind in "biu" else x.dtype
    if x.dtype != dt:
        x = x.to(dtype=dt)
    if not x.ndim:
        return Cumprod.apply(x.reshape(1), axis=0).reshape(())
    return Cumprod.apply(x, axis=ax)


class Prod(Function):
    """y = Π_axis x, along one axis.

    VJP: gx_i = gy · Π_{j≠i} x_j = gy · L_i · R_i, with L_i = Π_{j<i} x_j and R_i = Π_{j>i}
    x_j the exclusive running products from the left and from the right (``_exclusive_cumprod``).
    No division by x (y / x_i would be 0 / 0 at a zero), so it is exact with any number of
    zeros: with one zero at k, only gx_k is nonzero. ``xp.cumprod`` is one of ``TensorXP``'s
    differentiable ops, so ``create_graph=True`` differentiates it again. Complex x: gx = gy ·
    conj(L_i R_i) (y is holomorphic).  Saves x.
    """

    complex_ok = True

    def forward(self, x: Any, axis: int, keepdims: bool) -> Any:
        self.axis, self.saved = axis, (x,)
        self.kept = _kept_shape(x.shape, (axis,))
        return x.prod(axis=axis, keepdims=keepdims, dtype=x.dtype)  # int32 stays int32

    def backward(self, gy: Any) -> Any:
        (x,) = self.saved
        xp, a = self.xp, self.axis
        left = _exclusive_cumprod(xp, x, a)
        right = xp.flip(_exclusive_cumprod(xp, xp.flip(x, a), a), a)
        return gy.reshape(self.kept) * conj_(left * right)


def _exclusive_cumprod(xp: Any, x: Any, axis: int) -> Any:
    """Π_{j<i} x_j along ``axis`` (1 at i = 0): the running product of [1, x_0, ..., x_{n-1}]
    without its last element. Works on arrays and, through ``TensorXP``, on Tensors."""
    ones = xp.ones(_kept_shape(x.shape, (axis,)), dtype=x.dtype)
    run = xp.cumprod(xp.concatenate([ones, x], axis=axis), axis=axis)
    return run[(slice(None),) * axis + (slice(0, x.shape[axis]),)]


@torch_names
def prod(x: Tensor, axis: int | None = None, keepdims: bool = False,
         dtype: DTypeLike = None) -> Tensor:
    """The product of the elements of ``x`` (axis None) or along one ``axis``, as
    ``torch.prod(x, dim, keepdim, dtype=None)`` (``Prod``): bool and integer tensors give
    int64 (no gradient); ``dtype`` casts x first. The product of no elements is 1. A 0-d
    tensor takes axis 0 or -1 and gives itself."""
    if axis is not None:
        ax = _sort_axis("prod", axis, x.ndim)
    dt = resolve_dtype(dtype) if dtype is not None else \
        np.dtype(np.int64) if x.dtype.kind in "biu" else x.dtype
    if x.dtype != dt:
        x = x.to(dtype=dt)
    if axis is None or not x.ndim:  # one axis of all the elements
        y = Prod.apply(x.reshape(-1), axis=0, keepdims=False)
        return y.reshape((1,) * x.ndim) if keepdims else y
    return Prod.apply(x, axis=ax, keepdims=keepdims)


@torch_names
def mean(x: Tensor, axis: Axis = None, keepdims: bool = False, *, dtype: DTypeLike = None
         ) -> Tensor:
    """Σ_axis x / n, n the number of elements reduced (NaN over none, as 0 / 0). ``dtype``
    (a floating-point one) casts x first, as ``torch.mean(..., dtype=)``."""
    if dtype is not None:
        dt = resolve_dtype(dtype)
        if dt.kind not in "fc":
            raise DTypeError(f"mean: dtype must be a floating-point dtype, got {dt} (as in "
                             "PyTorch: the mean of integers is fractional)")
        x = x if x.dtype == dt else x.to(dtype=dt)
    elif x.dtype.kind not in "fc":
        raise DTypeError(f"mean: could not infer the result's dtype from an {x.dtype} input "
                         "(as in PyTorch, the mean of integers or booleans needs a floating-point "
                         "dtype: x.float().mean() or x.mean(dtype=tr.float32))")
    axes = normalize_axis(axis, x.ndim)
    n = 1
    for a in axes:
        n *= x.shape[a]
    # divided, not multiplied by 1/n: correctly rounded, as PyTorch's (1/7 is not exact)
    return x.sum(axes, keepdims) / n if n else x.sum(axes, keepdims) * math.nan


@torch_names
def var(x: Tensor, axis: Axis = None, keepdims: bool = False, correction: int = 1) -> Tensor:
    """Σ_axis |x - mean|² / (n - correction). PyTorch's default ``correction=1`` (unbiased);
    ``correction=0`` gives NumPy's default. With no more elements than ``correction`` the
    divisor is 0: it warns and gives inf (or NaN for 0/0), as PyTorch."""
    if x.dtype.kind not in "fc":
        raise DTypeError(f"var/std: x must be floating-point or complex, got {x.dtype} (as in "
                         "PyTorch; convert it first, e.g. x.float())")
    axes = normalize_axis(axis, x.ndim)
    n = 1
    for a in axes:
        n *= x.shape[a]
    dof = max(0, n - correction)
    d = x - mean(x, axes, keepdims=True)
    if d.dtype.kind == "c":  # |d|²: the variance of complex numbers is real
        d = d.abs()
    if dof:
        return (d * d).sum(axes, keepdims) / dof
    warnings.warn(f"var over {n} elements with correction={correction}: degrees of freedom "
                  "is 0, so the result is inf or NaN (and so is its gradient)", RuntimeWarning,
                  stacklevel=2)
    with np.errstate(invalid="ignore"):  # 0 * inf: the NaN just announced, not a second warning
        return (d * d).sum(axes, keepdims) * math.inf


def _correction(what: str, correction: Any, unbiased: Any) -> int:
    """The divisor's correction from PyTorch's ``correction=`` or ``unbiased=`` (not both)."""
    if unbiased is not None:
        if correction is not None:
            raise TypeError(f"{what}: give correction= or unbiased=, not both")
        if not isinstance(unbiased, (bool, np.bool_)):
            raise TypeError(f"{what}: unbiased must be a bool, got {unbiased!r}")
        return int(unbiased)
    if correction is None:
        return 1
    if isinstance(correction, bool) or not isinstance(correction, (int, np.integer)):
        raise TypeError(f"{what}: correction must be an int, got {correction!r}")
    return int(correction)


def _moments(what: str, x: Tensor, axis: Any, unbiased: Any, keepdims: bool,
             correction: Any) -> tuple[Tensor, Tensor]:
    """(var, mean) for var_mean and std_mean; ``axis`` may be PyTorch's bool ``unbiased``
    (``torch.var_mean(x, False)``)."""
    if isinstance(axis, (bool, np.bool_)):  # the (input, unbiased) overload
        if unbiased is not None:
            raise TypeError(f"{what}: unbiased given twice")
        axis, unbiased = None, bool(axis)
    if x.dtype.kind not in "fc":
        raise DTypeError(f"{what}: x must be floating-point, got {x.dtype} (as in PyTorch); "
                         "convert it first, e.g. x.float()")
    c = _correction(what, correction, unbiased)
    return var(x, axis, keepdims, c), mean(x, axis, keepdims)


@torch_names
def var_mean(x: Tensor, axis: Axis = None, unbiased: bool | None = None,
             keepdims: bool = False, *, correction: int | None = None
             ) -> tuple[Tensor, Tensor]:
    """(var, mean) of ``x`` over ``axis``, as ``torch.var_mean(x, dim, unbiased, keepdim,
    *, correction)``: var divides by n - correction (1 unless ``correction``, or
    ``unbiased=False`` for 0), both compositions (``var``, ``mean``) with their gradients.
    ``var_mean(x, False)`` is PyTorch's (input, unbiased) form."""
    return _moments("var_mean", x, axis, unbiased, keepdims, correction)


@torch_names
def std_mean(x: Tensor, axis: Axis = None, unbiased: bool | None = None,
             keepdims: bool = False, *, correction: int | None = None
             ) -> tuple[Tensor, Tensor]:
    """(std, mean) of ``x`` over ``axis``, as ``torch.std_mean`` (the arguments of
    ``var_mean``); std = √var, of gradient 0 where var is 0 (as ``x.std``)."""
    v, m = _moments("std_mean", x, axis, unbiased, keepdims, correction)
    return v._pow_or_zero(0.5), m


@torch_names
def logsumexp(x: Tensor, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """log Σ_axis exp(x), computed as m + log Σ exp(x - m) with m the (constant) maximum, so it
    neither overflows nor underflows. Its gradient is softmax(x). Integer and bool tensors
    give the default float dtype; for complex x, m is the largest real part, so the result's
    imaginary part is the principal one, in (-π, π], as PyTorch's."""
    xp = x._dev.xp
    x = x._floating()
    axes = normalize_axis(axis, x.ndim)
    real = x._data.real if x.dtype.kind == "c" else x._data
    if x.size == 0:  # no elements: the sum of no exp() is 0, so the result is -inf
        m = xp.zeros(tuple(1 if i in axes else n for i, n in enumerate(x.shape)), real.dtype)
    else:
        m = real.max(axis=axes, keepdims=True)
    m = xp.where(xp.isfinite(m), m, 0)  # an all -inf row stays -inf, not NaN
    m_t = Tensor._wrap(m, x._dev)
    out = (x - m_t).exp().sum(axes, keepdims=True).log() + m_t
    return out if keepdims else out.reshape(tuple(n for i, n in enumerate(out.shape)
                                                  if i not in axes))


@torch_names
def median(x: Tensor, axis: int | None = None, keepdims: bool = False) -> Any:
    """The lower median, as ``torch.median``: of the n elements in order, the one at (n - 1)
    // 2 (for an even n the smaller of the two middle ones, not their mean); NaN if there is
    a NaN.

    - No ``axis``: the median of all the elements, a 0-d tensor. Its gradient is split evenly
      between the elements equal to it (as PyTorch's; the NaNs, if it is NaN): written as
      ``amax`` over those elements alone (the others replaced by -inf, or by +inf with
      ``amin`` where the median is -inf), which splits a gradient so.
    - Along one ``axis``: ``(values, indices)``, as ``x.max(axis)``: the element a stable
      sort puts in the middle (among tied elements PyTorch leaves which one unspecified).
      The values are gathered at the indices, so the gradient goes to that element alone,
      as PyTorch's. A row with NaN gives its first NaN, as PyTorch's.
    """
    from .movement import ValuesIndices, _sort_index, _take_along

    if x.dtype.kind not in "iuf":
        raise DTypeError(f"median: x must hold integers or floats, got {x.dtype}")
    xp = x._dev.xp
    if axis is None:
        if keepdims:
            raise TypeError("median: keepdim needs a dim (the median of all elements is 0-d)")
        if x.size == 0:
            raise ValueError("median() of an empty tensor (it has no middle element)")
        s = xp.sort(x._data.reshape(-1))  # NaN sorts last
        k = (s.size - 1) // 2
        m = s[k:k + 1]
        if x.dtype.kind != "f":
            return Tensor._wrap(m.reshape(()), x._dev)
        m = xp.where(xp.isnan(s[-1:]), s[-1:], m)
        mask = (x._data == m) | (xp.isnan(x._data) & xp.isnan(m))
        lowest = bool((m == -math.inf).any())  # one device sync
        from .elementwise import where

        others = where(Tensor._wrap(mask, x._dev), x, math.inf if lowest else -math.inf)
        return Max.apply(others, axis=None, keepdims=False, smallest=lowest)
    ax = _sort_axis("median", axis, x.ndim)
    if x.ndim and x.shape[ax] == 0:
        raise ValueError(f"median: axis {axis} has size 0 (shape {x.shape}), so it has no "
                         "middle element")
    a = x._data.reshape(x.shape or (1,))
    order = _sort_index(x, ax, False)
    n = a.shape[ax]
    at = xp.full(a.shape[:ax] + (1,) + a.shape[ax + 1:], (n - 1) // 2, dtype=np.int64)
    if x.dtype.kind == "f":  # a row with NaN: its first NaN, the first of those sorted last
        nans = xp.isnan(a).sum(axis=ax, keepdims=True)
        at = xp.where(nans > 0, n - nans, at)
    values, indices = _take_along(x, xp.take_along_axis(order, at, axis=ax), ax)
    if keepdims or not x.ndim:
        return ValuesIndices(values, indices)
    return ValuesIndices(values.squeeze(ax), indices.squeeze(ax))


# tr.sum, tr.max, tr.min (named with a trailing _ here so this file keeps Python's builtins)
@torch_names
def sum_(x: Tensor, axis: Axis = None, keepdims: bool = False, *, dtype: DTypeLike = None
         ) -> Tensor:
    return x.sum(axis, keepdims, dtype=dtype)


@torch_names
def max_(x: Tensor, axis: Any = None, keepdims: bool = False) -> Any:
    """``x.max``: the largest element, ``(values, indices)`` along one axis, or with a tensor
    the elementwise maximum, as ``torch.max``."""
    return x.max(axis, keepdims)


@torch_names
def min_(x: Tensor, axis: Any = None, keepdims: bool = False) -> Any:
    """``x.min``, as ``torch.min``."""
    return x.min(axis, keepdims)


# tr.all, tr.any (all_ and any_ here, as sum_ above)
@torch_names
def all_(x: Tensor, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """``x.all``: whether every element over ``axis`` is nonzero (bool), as ``torch.all``."""
    return x.all(axis, keepdims)


@torch_names
def any_(x: Tensor, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """``x.any``: whether any element over ``axis`` is nonzero (bool), as ``torch.any``."""
    return x.any(axis, keepdims)


@torch_names
def amax(x: Tensor, axis: Axis = None, keepdims: bool = False) -> Tensor:
    return x.amax(axis, keepdims)


@torch_names
def amin(x: Tensor, axis: Axis = None, keepdims: bool = False) -> Tensor:
    return x.amin(axis, keepdims)


@torch_names
def argmax(x: Tensor, axis: int | None = None, keepdims: bool = False) -> Tensor:
    return x.argmax(axis, keepdims)


@torch_names
def argmin(x: Tensor, axis: int | None = None, keepdims: bool = False) -> Tensor:
    return x.argmin(axis, keepdims)


# ---- quantile, nanquantile, logcumsumexp, count_nonzero ------------------------------------

_INTERPOLATIONS = ("linear", "lower", "higher", "midpoint", "nearest")


@torch_names
def quantile(x: Tensor, q: float | Tensor, axis: int | None = None, keepdims: bool = False, *,
             interpolation: str = "linear") -> Tensor:
    """The ``q``-th quantiles of ``x`` (all elements, or along ``axis``), as
    ``torch.quantile``. ``q`` is a number or a 0-d or 1-D tensor of x's dtype, in [0, 1]; a
    1-D q puts its axis first in the result. Of the n elements v_0 <= ... <= v_{n-1} in
    order, quantile q sits at rank r = q (n - 1); ``interpolation`` picks between v_⌊r⌋ and
    v_⌈r⌉: "linear" v_⌊r⌋ + (r - ⌊r⌋)(v_⌈r⌉ - v_⌊r⌋) (PyTorch's lerp), "lower" v_⌊r⌋,
    "higher" v_⌈r⌉, "midpoint" their mean, "nearest" v at r rounded (halves to even, as
    PyTorch's). A slice holding NaN gives NaN. Differentiable as PyTorch's: a sort (a
    gather), then the picked values mixed with constant weights; so the gradient goes to
    the one or two elements picked (among equal elements, to the one a stable sort puts
    there)."""
    return _quantile("quantile", x, q, axis, keepdims, interpolation, False)


@torch_names
def nanquantile(x: Tensor, q: float | Tensor, axis: int | None = None, keepdims: bool = False,
                *, interpolation: str = "linear") -> Tensor:
    """``quantile`` of the elements that are not NaN (n counts them alone), as
    ``torch.nanquantile``; a slice of NaNs only gives NaN."""
    return _quantile("nanquantile", x, q, axis, keepdims, interpolation, True)


def _quantile_q(what: str, x: Tensor, q: Any) -> tuple[Any, bool]:
    """(q as a 1-D array of x's dtype on x's device, whether q was a scalar), checked: a
    number or a 0-d or 1-D tensor of x's dtype, every value in [0, 1]."""
    xp = x._dev.xp
    if isinstance(q, Tensor):
        if q.ndim > 1:
            raise ValueError(f"{what}: q must be a scalar or a 1-D tensor, got shape {q.shape}")
        if q.dtype != x.dtype:
            raise DTypeError(f"{what}: q must have the input's dtype {x.dtype}, got {q.dtype} "
                             "(as in PyTorch)")
        if q._dev is not x._dev:
            raise ValueError(f"{what}: q on {q.device!r}, the input on {x.device!r}")
        qa, scalar = q._data.reshape(-1), q.ndim == 0
    elif isinstance(q, (int, float, np.integer, np.floating)) and not isinstance(q, bool):
        qa, scalar = xp.asarray([q], dtype=x.dtype), True
    else:
        raise TypeError(f"{what}: q must be a number or a Tensor, got {type(q).__name__}")
    if qa.size and not bool(((qa >= 0) & (qa <= 1)).all()):  # one device sync (NaN fails too)
        raise ValueError(f"{what}: q values must lie in [0, 1]")
    return qa, scalar


def _quantile(what: str, x: Tensor, q: Any, axis: Any, keepdims: bool, interpolation: str,
              ignore_nan: bool) -> Tensor:
    from .elementwise import where
    from .movement import _take_along, sort

    if not isinstance(x, Tensor):
        raise TypeError(f"{what}: input must be a Tensor, got {type(x).__name__}")
    if x.dtype.kind != "f":
        raise DTypeError(f"{what}: input must be floating-point, got {x.dtype} (as in PyTorch)")
    if interpolation not in _INTERPOLATIONS:
        raise ValueError(f"{what}: interpolation must be one of {', '.join(_INTERPOLATIONS)}, "
                         f"got {interpolation!r}")
    if not isinstance(keepdims, (bool, np.bool_)):
        raise TypeError(f"{what}: keepdim must be a bool, got {keepdims!r}")
    if axis is None:
        rows, kept = x.reshape(-1), (1,) * x.ndim if keepdims else ()
    else:
        ax = _sort_axis(what, axis, x.ndim)
        if not x.ndim:
            rows, kept = x.reshape(1), ()
        else:
            rows = x.movedim(ax, -1)
            kept = tuple(1 if i == ax else n for i, n in enumerate(x.shape)
                         if keepdims or i != ax)
    if x.size == 0:
        raise ValueError(f"{what}: the input must not be empty (shape {x.shape})")
    qa, scalar = _quantile_q(what, x, q)
    xp = x._dev.xp
    values = sort(rows, -1).values  # NaN sorts last
    s, n = values._data, rows.shape[-1]
    batch, nq = rows.shape[:-1], qa.shape[0]
    nans = xp.isnan(s)
    if ignore_nan:  # ranks among the elements that are not NaN (0 where all are)
        count = (n - nans.sum(axis=-1, keepdims=True)).astype(x.dtype)
        ranks = qa * (count - 1)
        ranks = xp.where(ranks < 0, 0, ranks)
    else:  # a slice with NaN: its last element, a NaN
        ranks = xp.where(nans.any(axis=-1, keepdims=True), n - 1, qa * (n - 1))
    ranks = xp.broadcast_to(ranks, batch + (nq,)).astype(x.dtype)
    if interpolation == "lower":
        ranks = xp.floor(ranks)
    elif interpolation == "higher":
        ranks = xp.ceil(ranks)
    elif interpolation == "nearest":
        ranks = xp.round(ranks)  # halves to even, as PyTorch's round
    below = ranks.astype(np.int64)
    out = _take_along(values, below, len(batch)).values
    if interpolation in ("linear", "midpoint"):
        above = _take_along(values, xp.ceil(ranks).astype(np.int64), len(batch)).values
        w = xp.full(ranks.shape, 0.5, dtype=x.dtype) if interpolation == "midpoint" \
            else (ranks - below).astype(x.dtype)
        # PyTorch's lerp: from the nearer end, so that w = 0 and w = 1 give the ends exactly
        wt = Tensor._wrap(w, x._dev)
        out = where(Tensor._wrap(w < 0.5, x._dev), out + wt * (above - out),
                    above - (above - out) * (1 - wt))
    out = out.movedim(-1, 0).reshape((nq,) + kept)
    return out.reshape(kept) if scalar else out


@torch_names
def logcumsumexp(x: Tensor, axis: int) -> Tensor:
    """y_i = log Σ_{j <= i} exp(x_j) along ``axis``, as ``torch.logcumsumexp``: a doubling
    scan (Hillis and Steele's) of ``logaddexp``, y ← logaddexp(y, y shifted by d) for d = 1,
    2, 4, ..., each step stable for any magnitudes, so neither overflow nor an underflowed
    early term can spoil it (log(cumsum(exp(x - max))) would give -inf where x_0 is far below
    the maximum). Made of differentiable ops, so its gradient, Σ_{i >= j} gy_i exp(x_j -
    y_i), is theirs. O(n log n) along the axis. Integer tensors become float32."""
    from .elementwise import logaddexp
    from .movement import cat

    ax = _sort_axis("logcumsumexp", axis, x.ndim)
    x = x._floating()
    if not x.ndim:
        return x.clone()
    n, lead = x.shape[ax], (slice(None),) * ax
    y, d = x, 1
    while d < n:
        y = cat([y[(*lead, slice(0, d))],
                 logaddexp(y[(*lead, slice(d, n))], y[(*lead, slice(0, n - d))])], ax)
        d *= 2
    return y if d > 1 else x.clone()


@torch_names
def count_nonzero(x: Tensor, axis: Axis = None) -> Tensor:
    """The number of nonzero elements (over ``axis``: an int, a tuple, or None for all), int64,
    as ``torch.count_nonzero``."""
    axes = normalize_axis(axis, x.ndim)
    xp = x._dev.xp
    return Tensor._wrap(xp.asarray((x._data != 0).sum(axis=axes), dtype=np.int64), x._dev)


# ---- cov and corrcoef ----------------------------------------------------------------------


def _weights(what: str, w: Any, n: int, x: Tensor, integral: bool) -> Tensor:
    """``fweights`` (integral) or ``aweights``: a 0-d or 1-D tensor of n values >= 0 on x's
    device, checked (one device sync)."""
    if not isinstance(w, Tensor):
        raise TypeError(f"cov: {what} must be a Tensor, got {type(w).__name__}")
    if w.ndim > 1:
        raise ValueError(f"cov: {what} must have one or fewer dimensions, got shape {w.shape}")
    kind = "iu" if integral else "f"
    if w.dtype.kind not in kind:
        raise DTypeError(f"cov: {what} must have {'an integer' if integral else 'a floating'}"
                         f" dtype, got {w.dtype}")
    if w.size != n:
        raise ValueError(f"cov: {what} has {w.size} elements for {n} observations")
    if w._dev is not x._dev:
        raise ValueError(f"cov: {what} on {w.device!r}, the input on {x.device!r}")
    if n and bool((w._data < 0).any()):
        raise ValueError(f"cov: {what} cannot be negative")
    return w.reshape(n)


def cov(x: Tensor, *, correction: int = 1, fweights: Tensor | None = None,
        aweights: Tensor | None = None) -> Tensor:
    """The covariance matrix of the variables in the rows of ``x`` (a 1-D x: one variable),
    each column one observation, as ``torch.cov``: with weights w = fweights · aweights
    (integer repeat counts, float importances), mean m = Σ w x / Σ w and C = (x - m) diag(w)
    (x - m)ᵀ / (Σ w - correction · Σ w aweights / Σ w) (without aweights, Σ w - correction;
    without weights, n - correction). A single variable gives a 0-d tensor; integers give
    float32. Where the divisor is <= 0 it warns and divides by 0, as PyTorch. A composition,
    differentiable in x and aweights, as there."""
    if not isinstance(x, Tensor):
        raise TypeError(f"cov: input must be a Tensor, got {type(x).__name__}")
    if x.ndim > 2:
        raise ValueError(f"cov: input must have two or fewer dimensions (variables, "
                         f"observations), got shape {x.shape}")
    if x.dtype.kind == "b":
        raise TypeError("cov: bool input is not supported (as in PyTorch)")
    if isinstance(correction, bool) or not isinstance(correction, (int, np.integer)):
        raise TypeError(f"cov: correction must be an int, got {correction!r}")
    rows = x.reshape(1, -1) if x.ndim < 2 else x
    n = rows.shape[1]
    w = None if fweights is None else _weights("fweights", fweights, n, x, True)
    if aweights is not None:
        aw = _weights("aweights", aweights, n, x, False)
        w = aw if w is None else w * aw
    if w is None:
        total: Any = n
        norm: Any = n - int(correction)
    else:
        total = w.sum()
        if not bool((total._data != 0).all()):
            raise ValueError("cov: the weights sum to zero, so they cannot be normalized")
        norm = total - correction * (w * aw).sum() / total if aweights is not None and \
            correction != 0 else total - int(correction)
    avg = (rows if w is None else rows * w).sum(1) / total
    if bool(norm <= 0):  # (a device sync where norm is a tensor)
        warnings.warn("cov: degrees of freedom is <= 0 (correction should be less than the "
                      "number of observations), so the result is inf or NaN",
                      RuntimeWarning, stacklevel=2)
        norm = 0 if w is None else norm.detach() * 0
    d = rows - avg.unsqueeze(1)
    c = d @ (d if w is None else d * w).T
    with np.errstate(divide="ignore", invalid="ignore"):
        return (c / norm).squeeze()


def corrcoef(x: Tensor) -> Tensor:
    """Pearson's correlation coefficients of the variables in the rows of ``x``, as
    ``torch.corrcoef``: ``cov(x)`` divided by the standard deviations of row and column,
    clipped to [-1, 1]; NaN where a variable is constant. A single variable gives c / c
    (1, or NaN)."""
    c = cov(x)
    if c.ndim == 0:
        return c / c
    std = c.diagonal().sqrt()
    return (c / std.unsqueeze(1) / std.unsqueeze(0)).clip(-1, 1)


# ---- running extremes, k-th value, mode, nanmedian, aminmax --------------------------------


def _scan_last(xp: Any, parts: tuple[Any, ...], combine: Any) -> tuple[Any, ...]:
    """The inclusive scan of ``parts`` (arrays of one shape) along their last axis under
    ``combine(earlier, later)``, an associative map of two tuples of arrays to one, by
    doubling (Hillis and Steele's): each step d = 1, 2, 4, ... combines every position with
    the one d before it. O(n log n) elementwise work, no loop over the elements."""
    n, d = parts[0].shape[-1], 1
    while d < n:
        joined = combine(tuple(p[..., :n - d] for p in parts),
                         tuple(p[..., d:] for p in parts))
        parts = tuple(xp.concatenate([p[..., :d], q], axis=-1) for p, q in zip(parts, joined))
        d *= 2
    return parts


def _cumulative_extreme(x: Tensor, axis: Any, smallest: bool) -> ValuesIndices:
    """``cummax`` / ``cummin``: the running extreme and where it is. A later element takes
    over when it is >= the running maximum (<= the minimum), so among equal ones the last
    wins, and a NaN always does (then NaN stays), as PyTorch's kernel. The index is a scan
    of (value, index) pairs, whose combine is that rule; the values are gathered there."""
    from .movement import _take_along

    what = "cummin" if smallest else "cummax"
    ax = _sort_axis(what, axis, x.ndim)
    xp = x._dev.xp
    a = xp.moveaxis(x._data.reshape(x.shape or (1,)), ax, -1)
    floating = a.dtype.kind in "fc"

    def combine(earlier: tuple[Any, ...], later: tuple[Any, ...]) -> tuple[Any, ...]:
        (v0, i0), (v1, i1) = earlier, later
        take = v1 <= v0 if smallest else v1 >= v0
        if floating:
            take = xp.isnan(v1) | (~xp.isnan(v0) & take)
        return xp.where(take, v1, v0), xp.where(take, i1, i0)

    start = xp.broadcast_to(xp.arange(a.shape[-1], dtype=np.int64), a.shape)
    _, index = _scan_last(xp, (a, start), combine)
    values, indices = _take_along(x, xp.moveaxis(index, -1, ax), ax)
    return ValuesIndices(values, indices)


@torch_names
def cummax(x: Tensor, axis: int) -> ValuesIndices:
    """``(values, indices)``: the running maximum along ``axis`` and the position of the
    element it is, as ``torch.cummax`` (the last of equal maxima; from a NaN on, NaN and
    the position of the last NaN). The values are gathered at the indices, so the gradient
    is scatter-added back there, as PyTorch's."""
    return _cumulative_extreme(x, axis, False)


@torch_names
def cummin(x: Tensor, axis: int) -> ValuesIndices:
    """The running minimum along ``axis`` and where it is, as ``torch.cummin`` (see
    ``cummax``)."""
    return _cumulative_extreme(x, axis, True)


def _picked(x: Tensor, at: Any, ax: int, keepdims: bool) -> ValuesIndices:
    """The elements of x at the positions ``at`` (one per slice along ``ax``, that axis kept
    with length 1), with ``at``, as ``(values, indices)``, the axis dropped unless
    ``keepdims``; the values gathered (a gradient to those elements alone)."""
    from .movement import _take_along

    values, indices = _take_along(x, at, ax)
    if keepdims or not x.ndim:
        return ValuesIndices(values, indices)
    return ValuesIndices(values.squeeze(ax), indices.squeeze(ax))


def _reduced_axis(what: str, x: Tensor, axis: Any) -> int:
    """``axis`` checked as one axis of x of nonzero length."""
    ax = _sort_axis(what, axis, x.ndim)
    if x.ndim and x.shape[ax] == 0:
        raise ValueError(f"{what}: dim {axis} has size 0 (shape {x.shape}): there is no "
                         "element to pick")
    return ax


@torch_names
def kthvalue(x: Tensor, k: int, axis: int = -1, keepdims: bool = False) -> ValuesIndices:
    """``(values, indices)``: the k-th smallest element (k from 1) of each slice along
    ``axis`` and where it is, as ``torch.kthvalue``; NaN counts as the largest. The element
    a stable sort puts at place k: among equal elements PyTorch's pick is its selection
    algorithm's (unspecified); the value is the same. The gradient goes to that element."""
    from .movement import _sort_index

    ax = _reduced_axis("kthvalue", x, axis)
    n = x.shape[ax] if x.ndim else 1
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)):
        raise TypeError(f"kthvalue: k must be an int, got {k!r}")
    if not 1 <= k <= n:
        raise ValueError(f"kthvalue: k={k} is out of range for dim {axis} of size {n} (1 <= "
                         f"k <= {n})")
    order = _sort_index(x, ax, False)
    return _picked(x, order[(slice(None),) * ax + (slice(k - 1, k),)], ax, keepdims)


@torch_names
def mode(x: Tensor, axis: int = -1, keepdims: bool = False) -> ValuesIndices:
    """``(values, indices)``: the most frequent value of each slice along ``axis`` (the
    smallest of equally frequent ones; each NaN counts alone) and the position of its last
    occurrence, as ``torch.mode`` (PyTorch's CPU kernel, whose sort keeps equal elements in
    order up to 16 elements). Runs of equal values in the sorted slice are measured by a
    scan, all on the device. The gradient goes to the picked element, as there."""
    ax = _reduced_axis("mode", x, axis)
    xp = x._dev.xp
    a = xp.moveaxis(x._data.reshape(x.shape or (1,)), ax, -1)
    n = a.shape[-1]
    order = xp.argsort(a, axis=-1, kind="stable")
    s = xp.take_along_axis(a, order, axis=-1)
    step = s[..., 1:] != s[..., :-1]  # a new run starts after each step
    edge = xp.ones(s.shape[:-1] + (1,), dtype=bool)
    starts = xp.concatenate([edge, step], axis=-1)
    ends = xp.concatenate([step, edge], axis=-1)
    pos = xp.broadcast_to(xp.arange(n, dtype=np.int64), s.shape)
    (first,) = _scan_last(xp, (xp.where(starts, pos, 0),),
                          lambda e, la: (xp.maximum(e[0], la[0]),))
    length = xp.where(ends, pos - first + 1, 0)
    best = xp.expand_dims(xp.argmax(length, axis=-1), -1)  # the first: the smallest value
    at = xp.take_along_axis(order, best, axis=-1).astype(np.int64)
    return _picked(x, xp.moveaxis(at, -1, ax), ax, keepdims)


@torch_names
def nanmedian(x: Tensor, axis: int | None = None, keepdims: bool = False) -> Any:
    """The lower median of the elements that are not NaN, as ``torch.nanmedian``: NaN where
    there are none (an empty tensor included). Without ``axis`` a 0-d tensor whose gradient
    is split evenly between the elements equal to it (as ``median``'s); along ``axis``
    ``(values, indices)``, the element a stable sort puts at the middle of the ones that
    are not NaN (a slice of NaNs only: its first NaN, where PyTorch's pick is its selection
    algorithm's), the gradient to it alone. Integer tensors have no NaN: ``median``."""
    from .elementwise import where
    from .movement import _sort_index

    if x.dtype.kind not in "iuf":
        raise DTypeError(f"nanmedian: x must hold integers or floats, got {x.dtype}")
    if x.dtype.kind != "f":
        return median(x, axis, keepdims)
    xp = x._dev.xp
    if axis is None:
        if keepdims:
            raise TypeError("nanmedian: keepdim needs a dim (the median of all elements is "
                            "0-d)")
        if x.size == 0:
            return x.sum() * math.nan
        s = xp.sort(x._data.reshape(-1))  # NaN sorts last
        count = (s == s).sum().reshape(1)
        m = xp.take(s, xp.maximum(count - 1, 0) // 2)
        mask = (x._data == m) | (xp.isnan(x._data) & xp.isnan(m))
        lowest = bool((m == -math.inf).any())  # one device sync
        others = where(Tensor._wrap(mask, x._dev), x, math.inf if lowest else -math.inf)
        return Max.apply(others, axis=None, keepdims=False, smallest=lowest)
    ax = _reduced_axis("nanmedian", x, axis)
    a = x._data.reshape(x.shape or (1,))
    order = _sort_index(x, ax, False)
    count = (a == a).sum(axis=ax, keepdims=True)
    at = xp.take_along_axis(order, xp.maximum(count - 1, 0) // 2, axis=ax)
    return _picked(x, at.astype(np.int64), ax, keepdims)


class MinMax(NamedTuple):
    """What ``aminmax`` returns, as PyTorch's ``torch.return_types.aminmax``."""

    min: Tensor
    max: Tensor


@torch_names
def aminmax(x: Tensor, *, axis: int | None = None, keepdims: bool = False) -> MinMax:
    """``(min, max)``: ``amin`` and ``amax`` of all the elements, or along one ``axis``
    (PyTorch's keyword ``dim``), as ``torch.aminmax``; at ties each splits its gradient
    evenly between the tied elements, as PyTorch's. NaN where a slice holds one. An empty
    slice is refused."""
    dim = axis
    if dim is None:
        if x.size == 0:
            raise ValueError(f"aminmax: the input is empty (shape {x.shape}): the min and "
                             "max of no elements are undefined")
        axes: Any = None
    else:
        if isinstance(dim, (tuple, list)):
            raise TypeError(f"aminmax: dim must be one int, got {dim!r}")
        axes = _reduced_axis("aminmax", x, dim)
    return MinMax(Max.apply(x, axis=axes, keepdims=keepdims, smallest=True),
                  Max.apply(x, axis=axes, keepdims=keepdims))


# ---- trapezoid, cumulative_trapezoid, histc, renorm, vander --------------------------------


def _trapezoid_args(what: str, y: Tensor, x: Any, dx: Any, axis: Any) -> int:
    if not isinstance(y, Tensor):
        raise TypeError(f"{what}: y must be a Tensor, got {type(y).__name__}")
    if y.ndim == 0:
        raise ValueError(f"{what}: y must have at least one dimension (it is 0-d)")
    if x is not None and dx is not None:
        raise TypeError(f"{what}: give x or dx, not both")
    if x is not None and not isinstance(x, Tensor):
        raise TypeError(f"{what}: x must be a Tensor of sample points (a spacing goes in dx=), "
                        f"got {type(x).__name__}")
    if y.dtype.kind == "b" or (x is not None and x.dtype.kind == "b"):
        raise TypeError(f"{what}: bool inputs are not supported (as in PyTorch)")
    if dx is not None:
        if isinstance(dx, Tensor):
            if dx.ndim:
                raise ValueError(f"{what}: dx must be a number, got a tensor of shape "
                                 f"{dx.shape}")
            dx = dx.item()
        if isinstance(dx, (bool, np.bool_)) or not isinstance(dx, (int, float, np.number)):
            raise TypeError(f"{what}: dx must be a real number, got {dx!r}")
    return _sort_axis(what, axis, y.ndim)


def _spacing(what: str, y: Tensor, x: Tensor, ax: int) -> Tensor:
    """The differences of the sample points x along ``ax``, laid out to broadcast with y's
    (a 1-D x along ``ax``; a shorter x with ones in front), as PyTorch's."""
    if x.ndim == 1:
        if x.shape[0] != y.shape[ax]:
            raise ValueError(f"{what}: there must be one x value for each sample point: x has "
                             f"{x.shape[0]}, y has {y.shape[ax]} along dim {ax}")
        x = x.reshape(tuple(-1 if i == ax else 1 for i in range(y.ndim)))
    elif x.ndim < y.ndim:
        x = x.reshape((1,) * (y.ndim - x.ndim) + x.shape)
    lead = (slice(None),) * ax
    return x[(*lead, slice(1, None))] - x[(*lead, slice(0, -1))]


@torch_names
def trapezoid(y: Tensor, x: Tensor | None = None, *, dx: float | None = None,
              axis: int = -1) -> Tensor:
    """The trapezoidal rule along ``axis`` (PyTorch's ``dim``), as ``torch.trapezoid``: Σ (y_i
    + y_{i+1}) (x_{i+1} - x_i) / 2 with sample points ``x`` (1-D along the axis, or a tensor
    that broadcasts with y), else with a constant spacing ``dx`` (1 by default) as dx (Σ y -
    (y_0 + y_last) / 2). Integers give float32; no samples give zeros; a composition, so
    differentiable in y and x."""
    ax = _trapezoid_args("trapezoid", y, x, dx, axis)
    if y.shape[ax] == 0:
        shape = y.shape[:ax] + y.shape[ax + 1:]
        return Tensor._wrap(y._dev.xp.zeros(shape, dtype=y.dtype), y._dev)
    if x is None:
        ends = y.select(ax, 0) + y.select(ax, -1)
        return (y.sum(ax) - ends * 0.5) * (1 if dx is None else dx)
    lead = (slice(None),) * ax
    pairs = y[(*lead, slice(0, -1))] + y[(*lead, slice(1, None))]
    return (pairs * _spacing("trapezoid", y, x, ax)).sum(ax) / 2.0


@torch_names
def cumulative_trapezoid(y: Tensor, x: Tensor | None = None, *, dx: float | None = None,
                         axis: int = -1) -> Tensor:
    """The running trapezoidal rule along ``axis``, as ``torch.cumulative_trapezoid``: one
    element fewer than y along it (the integral up to each sample after the first); sample
    points ``x`` or a spacing ``dx`` as ``trapezoid``. Integers give float32."""
    ax = _trapezoid_args("cumulative_trapezoid", y, x, dx, axis)
    lead = (slice(None),) * ax
    pairs = y[(*lead, slice(0, -1))] + y[(*lead, slice(1, None))]
    if x is None:
        return cumsum(pairs * ((1 if dx is None else dx) / 2.0), ax)
    return cumsum(pairs * _spacing("cumulative_trapezoid", y, x, ax), ax) / 2.0


def histc(x: Tensor, bins: int = 100, min: float = 0, max: float = 0  # noqa: A002
          ) -> Tensor:
    """The histogram of the elements of ``x`` in ``bins`` equal bins over [min, max] (with
    min = max: over the elements' own range; with all elements equal, that one ± 1), as
    ``torch.histc``: elements outside (and NaN) are left out, one equal to max counts in the
    last bin. Each element's bin is PyTorch's: ⌊(v - min) · bins / (max - min)⌋ in x's dtype.
    x's dtype (floating-point only, as PyTorch's); not differentiable (a constant)."""
    if x.dtype.kind != "f":
        raise DTypeError(f"histc: needs a floating-point tensor, got {x.dtype} (as in PyTorch)")
    if isinstance(bins, bool) or not isinstance(bins, (int, np.integer)) or bins <= 0:
        raise ValueError(f"histc: bins must be an int > 0, got {bins!r}")
    lo, hi = float(min), float(max)
    xp, a = x._dev.xp, x._data.reshape(-1)
    if lo == hi and a.size:
        lo, hi = float(a.min()), float(a.max())  # (a device sync)
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    if not (math.isfinite(lo) and math.isfinite(hi)):
        raise ValueError(f"histc: the range [{lo}, {hi}] is not finite")
    if not lo < hi:
        raise ValueError(f"histc: max must be larger than min, got [{lo}, {hi}]")
    left, right = x.dtype.type(lo), x.dtype.type(hi)
    inside = (a >= left) & (a <= right)
    with np.errstate(invalid="ignore", over="ignore"):
        pos = ((xp.where(inside, a, left) - left) * bins / (right - left)).astype(np.int64)
    pos = xp.minimum(pos, bins - 1)
    counts = xp.bincount(pos, weights=inside.astype(np.float64), minlength=bins)
    return x._mask(counts.astype(x.dtype))


@torch_names
def renorm(x: Tensor, p: float, axis: int, maxnorm: float) -> Tensor:
    """Each slice of ``x`` along ``axis`` (``x.select(axis, i)``) whose p-norm exceeds
    ``maxnorm`` scaled to norm maxnorm, the others kept, as ``torch.renorm``: x · maxnorm /
    (norm + 1e-7) there. A composition (``norm``, ``where``), so its gradient is PyTorch's
    ``renorm_backward``, the norm differentiated too."""
    if x.dtype.kind != "f":
        raise DTypeError(f"renorm: needs a floating-point tensor, got {x.dtype} (as in PyTorch)")
    if x.ndim < 2:
        raise ValueError(f"renorm: the input needs at least 2 dimensions, got shape {x.shape}")
    if not p > 0:
        raise ValueError(f"renorm: p must be > 0, got {p!r}")
    if not maxnorm >= 0:
        raise ValueError(f"renorm: maxnorm must be >= 0, got {maxnorm!r}")
    ax = _sort_axis("renorm", axis, x.ndim)
    from .elementwise import where

    norm = x.norm(p, tuple(i for i in range(x.ndim) if i != ax), keepdims=True)
    return x * where(norm > maxnorm, maxnorm / (norm + 1e-7), 1.0)


def vander(x: Tensor, N: int | None = None, increasing: bool = False) -> Tensor:  # noqa: N803
    """The Vandermonde matrix of a 1-D x, as ``torch.vander``: N columns (len(x) by default),
    x^(N-1), ..., x, 1 (``increasing``: 1, x, ..., x^(N-1)); integers and bool give int64. A
    running product (``cumprod``) of [1, x, x, ...], so differentiable (PyTorch's backward
    fails on its in-place writes)."""
    from .movement import cat

    if not isinstance(x, Tensor) or x.ndim != 1:
        raise ValueError(f"vander: x must be a 1-D tensor, got "
                         f"{getattr(x, 'shape', type(x).__name__)}")
    n = x.shape[0] if N is None else N
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise ValueError(f"vander: N must be an int >= 0, got {N!r}")
    dt = np.dtype(np.int64) if x.dtype.kind in "biu" else x.dtype
    xs = x.to(dtype=dt) if x.dtype != dt else x
    ones = Tensor._wrap(x._dev.xp.ones((x.shape[0], min(n, 1)), dtype=dt), x._dev)
    columns = cat([ones, xs.unsqueeze(1).expand(x.shape[0], max(n - 1, 0))], 1)
    out = cumprod(columns, 1) if n > 1 else columns
    return out if increasing else out.flip(1)


# ---- the sums that skip NaN ----------------------------------------------------------------


@torch_names
def nansum(x: Tensor, axis: Axis = None, keepdims: bool = False, *, dtype: DTypeLike = None
           ) -> Tensor:
    """Σ over ``axis`` of the elements that are not NaN, as ``torch.nansum`` (integer and
    bool tensors: their ``sum``, int64 for bool; ``dtype`` casts first). A ``where`` then a
    sum: the gradient is gy where x is not NaN, 0 at a NaN."""
    if x.dtype.kind in "fc":
        x = where(Tensor._wrap(x._dev.xp.isnan(x._data), x._dev), 0, x)
    return x.sum(axis, keepdims, dtype=dtype)


@torch_names
def nanmean(x: Tensor, axis: Axis = None, keepdims: bool = False, *, dtype: DTypeLike = None
            ) -> Tensor:
    """``nansum`` over ``axis`` / the number of elements there that are not NaN, as
    ``torch.nanmean`` (floating-point tensors; NaN where every one is NaN, as 0 / 0).
    ``dtype`` (floating-point) casts first. The gradient is gy / that number where x is not
    NaN, 0 at a NaN, also where every element is NaN (PyTorch's is NaN there, 0 · inf)."""
    if x.dtype.kind not in "fc":  # (dtype= or not, as PyTorch's)
        raise DTypeError(f"nanmean: x must be floating-point, got {x.dtype} (as in PyTorch; "
                         "an integer tensor holds no NaN: use mean on x.float())")
    if dtype is not None:
        dt = resolve_dtype(dtype)
        if dt.kind not in "fc":
            raise DTypeError(f"nanmean: dtype must be a floating-point dtype, got {dt}")
        x = x if x.dtype == dt else x.to(dtype=dt)
    kept = Tensor._wrap(~x._dev.xp.isnan(x._data), x._dev)
    return nansum(x, axis, keepdims) / kept.sum(axis, keepdims)


_SEGMENT_EMPTY = {"sum": 0.0, "prod": 1.0, "amax": -np.inf, "amin": np.inf}


def segment_reduce(data: Tensor, reduce: str, *, lengths: Any = None, indices: Any = None,
                   offsets: Any = None, axis: int = 0, unsafe: bool = False,
                   initial: Any = None) -> Tensor:
    """``reduce`` ("sum", "mean", "max"/"amax", "min"/"amin" or "prod") of each run of
    consecutive slices of ``data`` along ``axis``, as ``torch.segment_reduce``: segment k is
    the next ``lengths[..., k]`` slices (or ``offsets[..., k]`` to ``offsets[..., k + 1]``),
    and becomes slice k of the result. lengths has the shape ``data.shape[:axis] + (K,)``
    (offsets one more along its last axis), so each leading index has its own segments, and
    axis is lengths' last (1-D lengths: axis 0). ``initial`` takes part in each reduction
    (the mean divides by the length only, as PyTorch's); an empty segment gives ``initial``,
    else 0, 1, NaN, -inf or inf. ``unsafe`` is taken, and the sizes are checked anyway.

    A ``scatter_reduce`` of data into the segments, so the gradients are its own: summed back
    for "sum" and "mean" (over the length), exact products for "prod", split evenly between
    tied maxima for "max", as PyTorch's."""
    from .movement import scatter_reduce

    red = {"max": "amax", "min": "amin"}.get(reduce, reduce)
    if red not in ("sum", "mean", "amax", "amin", "prod"):
        raise ValueError(f"segment_reduce: reduce must be sum, mean, max (amax), min (amin) or "
                         f"prod, got {reduce!r}")
    if indices is not None:
        raise NotImplementedError("segment_reduce: indices= is not supported (nor is it in "
                                  "PyTorch); give lengths= or offsets=")
    if (lengths is None) == (offsets is None):
        raise ValueError("segment_reduce: give exactly one of lengths= and offsets=")
    ax = _sort_axis("segment_reduce", axis, data.ndim)
    name = "lengths" if lengths is not None else "offsets"
    given = lengths if lengths is not None else offsets
    sizes = np.asarray(given.numpy() if isinstance(given, Tensor) else given)
    if sizes.dtype.kind not in "iu" or sizes.ndim != ax + 1 or \
            sizes.shape[:-1] != data.shape[:ax]:
        raise ValueError(f"segment_reduce: {name} must be an integer tensor of shape "
                         f"data.shape[:axis] + (segments,), {data.shape[:ax]} + (K,) for axis "
                         f"{ax} (axis is its last dim, as in PyTorch), got shape {sizes.shape} "
                         f"of {sizes.dtype}")
    if offsets is not None:
        if sizes.shape[-1] == 0 or (sizes[..., 0] != 0).any():
            raise ValueError(f"segment_reduce: offsets must start at 0, got {sizes.tolist()}")
        sizes = np.diff(sizes, axis=-1)
    n = data.shape[ax]
    ends = np.cumsum(sizes, axis=-1)  # (..., K)
    if (sizes < 0).any() or (sizes.shape[-1] == 0 and n) or (ends[..., -1:] != n).any():
        raise ValueError(f"segment_reduce: segment lengths {sizes.tolist()} must be >= 0 and "
                         f"add up to {n}, the size of data's axis {ax} (shape {data.shape})")
    k, xp, rest = sizes.shape[-1], data._dev.xp, (1,) * (data.ndim - ax - 1)
    ids = (np.arange(n) >= ends[..., None]).sum(axis=-2)  # the segment of each slice
    index = Tensor._wrap(xp.broadcast_to(data._dev.to_device(ids.reshape(ids.shape + rest)),
                                         data.shape).copy(), data._dev)
    shape = data.shape[:ax] + (k,) + data.shape[ax + 1:]
    if red == "mean":
        total = scatter_reduce(data.new_zeros(shape), ax, index, data, "sum")
        count = sizes.reshape(sizes.shape + rest)
        if initial is not None:
            total = total + initial
        mean = total / Tensor._wrap(data._dev.to_device(np.maximum(count, 1).astype(
            data.dtype)), data._dev)
        empty = Tensor._wrap(data._dev.to_device(count == 0), data._dev)
        return where(empty, np.nan if initial is None else initial, mean)
    base = data.new_full(shape, _SEGMENT_EMPTY[red] if initial is None else initial)
    return scatter_reduce(base, ax, index, data, red, include_self=initial is not None)
