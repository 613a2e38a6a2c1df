"""Reductions over ``axis`` (None, an int, or a tuple; negative counts from the end) with
``keepdims``. ``Sum`` and ``Max`` (which takes min too) are primitives; mean, var and
logsumexp are compositions. ``Cumsum`` (the running sum along one axis) and ``Prod`` (the
product along one axis) are primitives too.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..tensor import DTypeLike, Function, Tensor, resolve_dtype, torch_names
from .movement import _sort_axis

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
    """y = Σ_axis x.  VJP: gx = gy broadcast back over the summed axes.  Saves x's shape."""

    def forward(self, x: Any, axis: Axis, keepdims: bool) -> Any:
        self.axes = normalize_axis(axis, x.ndim)
        self.shape = x.shape
        return x.sum(axis=self.axes, keepdims=keepdims)

    def backward(self, gy: Any) -> Any:
        gy = gy.reshape(_kept_shape(self.shape, self.axes))
        return self.xp.broadcast_to(gy, self.shape)


class Max(Function):
    """y = max_axis x (``smallest``: min_axis x, taken directly, so that unsigned and boolean
    tensors and the most negative integer come out right).

    VJP: gx = gy * w, w = [x == y] / (number of maxima): at ties the gradient is split evenly
    between the tied elements (as ``torch.amax``), so it is the same whichever order they come
    in. A NaN is the maximum of its slice (y is NaN), and the gradient goes to it, as with
    PyTorch's ``max()``.  Saves w.
    """

    def forward(self, x: Any, axis: Axis, keepdims: bool, smallest: bool = False) -> Any:
        xp = self.xp
        self.axes = normalize_axis(axis, x.ndim)
        if x.size == 0:
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


class Cumsum(Function):
    """y_i = Σ_{j ≤ i} x_j along ``axis`` (the running sum; y has x's shape).

    VJP: gx_i = Σ_{j ≥ i} gy_j, the cumulative sum of gy taken from the end of the axis:
    flip(cumsum(flip(gy))). Linear, so it saves nothing but the axis; written with
    ``xp.flip`` and ``xp.cumsum``, which ``TensorXP`` records as ops, so that
    ``create_graph=True`` differentiates it again. float16 adds up in float32 (as PyTorch):
    a float16 running sum would stop growing once its steps fall below its rounding.
    """

    def forward(self, x: Any, axis: int) -> Any:
        self.axis = axis
        if x.dtype == np.float16:
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


class Prod(Function):
    """y = Π_axis x, along one axis.

    VJP: gx_i = gy · Π_{j≠i} x_j = gy · L_i · R_i, with L_i = Π_{j<i} x_j and R_i = Π_{j>i}
    x_j the exclusive running products from the left and from the right (``_exclusive_cumprod``).
    No division by x (y / x_i would be 0 / 0 at a zero), so it is exact with any number of
    zeros: with one zero at k, only gx_k is nonzero. ``xp.cumprod`` is one of ``TensorXP``'s
    differentiable ops, so ``create_graph=True`` differentiates it again.  Saves x.
    """

    def forward(self, x: Any, axis: int, keepdims: bool) -> Any:
        self.axis, self.saved = axis, (x,)
        self.kept = _kept_shape(x.shape, (axis,))
        return x.prod(axis=axis, keepdims=keepdims, dtype=x.dtype)  # int32 stays int32

    def backward(self, gy: Any) -> Any:
        (x,) = self.saved
        xp, a = self.xp, self.axis
        left = _exclusive_cumprod(xp, x, a)
        right = xp.flip(_exclusive_cumprod(xp, xp.flip(x, a), a), a)
        return gy.reshape(self.kept) * (left * right)


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
def mean(x: Tensor, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """Σ_axis x / n, n the number of elements reduced (NaN over none, as 0 / 0)."""
    axes = normalize_axis(axis, x.ndim)
    n = 1
    for a in axes:
        n *= x.shape[a]
    return x.sum(axes, keepdims) * (1.0 / n if n else math.nan)


@torch_names
def var(x: Tensor, axis: Axis = None, keepdims: bool = False, correction: int = 1) -> Tensor:
    """Σ_axis (x - mean)² / (n - correction). PyTorch's default ``correction=1`` (unbiased);
    ``correction=0`` gives NumPy's default. With no more elements than ``correction`` the
    divisor is 0: it warns and gives inf (or NaN for 0/0), as PyTorch."""
    axes = normalize_axis(axis, x.ndim)
    n = 1
    for a in axes:
        n *= x.shape[a]
    dof = max(0, n - correction)
    d = x - mean(x, axes, keepdims=True)
    if dof:
        return (d * d).sum(axes, keepdims) * (1.0 / dof)
    warnings.warn(f"var over {n} elements with correction={correction}: degrees of freedom "
                  "is 0, so the result is inf or NaN (and so is its gradient)", RuntimeWarning,
                  stacklevel=2)
    with np.errstate(invalid="ignore"):  # 0 * inf: the NaN just announced, not a second warning
        return (d * d).sum(axes, keepdims) * math.inf


@torch_names
def logsumexp(x: Tensor, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """log Σ_axis exp(x), computed as m + log Σ exp(x - m) with m the (constant) maximum, so it
    neither overflows nor underflows. Its gradient is softmax(x)."""
    xp = x._dev.xp
    axes = normalize_axis(axis, x.ndim)
    if x.size == 0:  # no elements: the sum of no exp() is 0, so the result is -inf
        m = xp.zeros(tuple(1 if i in axes else n for i, n in enumerate(x.shape)), x.dtype)
    else:
        m = x._data.max(axis=axes, keepdims=True)
    m = xp.where(xp.isfinite(m), m, 0)  # an all -inf row stays -inf, not NaN
    m_t = Tensor._wrap(m, x._dev)
    out = (x - m_t).exp().sum(axes, keepdims=True).log() + m_t
    return out if keepdims else out.reshape(tuple(n for i, n in enumerate(out.shape)
                                                  if i not in axes))


# tr.sum, tr.max, tr.min (named with a trailing _ here so this file keeps Python's builtins)
@torch_names
def sum_(x: Tensor, axis: Axis = None, keepdims: bool = False) -> Tensor:
    return x.sum(axis, keepdims)


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
