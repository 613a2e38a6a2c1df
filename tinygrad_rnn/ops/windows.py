"""Sliding windows as two ops, each the other's transpose: ``Im2Col`` gathers every window
of a (N, C, *spatial) array (the convolutions' and pools' "im2col"), ``Col2Im`` adds window
values back where they came from (transposed convolution, ``fold``, and Im2Col's gradient).

A window tap j = (j1, j2, ...) (row-major over the kernel k) of window l = (l1, l2, ...)
is x[:, :, l1·s1 + j1·d1, l2·s2 + j2·d2, ...] (stride s, dilation d). Both loop over the
K = k1·k2·... taps, each one strided copy or one strided in-place add into a single buffer:
the work and memory of the windows themselves, where K slices stacked (and their gradients,
K scattered full-size arrays) would make K temporaries.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import numpy as np

from ..backend import get_array_module
from ..tensor import Function, Tensor
from .elementwise import where


def _tap(js: tuple[int, ...], stride: tuple[int, ...], dilation: tuple[int, ...],
         n_out: tuple[int, ...]) -> tuple[slice, ...]:
    """The index of tap ``js`` in the padded input: a strided slice per spatial axis."""
    return (slice(None), slice(None), *(slice(j * d, j * d + s * (n - 1) + 1, s)
                                        for j, d, s, n in zip(js, dilation, stride, n_out)))


def _gather(xp: Any, x: Any, k: tuple[int, ...], stride: tuple[int, ...],
            dilation: tuple[int, ...], n_out: tuple[int, ...]) -> Any:
    out = xp.empty((*x.shape[:2], int(np.prod(k)), *n_out), dtype=x.dtype)
    for j, js in enumerate(np.ndindex(*k)):
        out[:, :, j] = x[_tap(js, stride, dilation, n_out)]
    return out


def _scatter(xp: Any, cols: Any, size: tuple[int, ...], k: tuple[int, ...],
             stride: tuple[int, ...], dilation: tuple[int, ...]) -> Any:
    n_out = tuple(cols.shape[3:])
    out = xp.zeros((*cols.shape[:2], *size), dtype=cols.dtype)
    for j, js in enumerate(np.ndindex(*k)):
        out[_tap(js, stride, dilation, n_out)] += cols[:, :, j]
    return out


class Im2Col(Function):
    """cols (N, C, K, *n_out) from x (N, C, *spatial): cols[:, :, j, l] = x[:, :, l·s + j·d]
    (the module docstring's taps; x already padded, long enough for n_out windows).

    VJP: gx = Col2Im(gy): each tap's gradient added back at the positions it was read
    from, gx[:, :, l·s + j·d] += gy[:, :, j, l] (an element read by several windows gets
    the sum). The op is linear, so under ``create_graph=True`` that is ``Col2Im`` as an op,
    and it is differentiable again.  Saves nothing (the input's spatial size)."""

    def forward(self, x: Any, k: tuple[int, ...], stride: tuple[int, ...],
                dilation: tuple[int, ...], n_out: tuple[int, ...]) -> Any:
        self.args = (tuple(x.shape[2:]), k, stride, dilation)
        return _gather(self.xp, x, k, stride, dilation, n_out)

    def backward(self, gy: Any) -> Any:
        size, k, stride, dilation = self.args
        if isinstance(gy, Tensor):  # create_graph: recorded
            return Col2Im.apply(gy, size=size, k=k, stride=stride, dilation=dilation)
        return _scatter(self.xp, gy, size, k, stride, dilation)


class Col2Im(Function):
    """y (N, C, *size) from cols (N, C, K, *n): y[:, :, l·s + j·d] += cols[:, :, j, l],
    zeros where no window reaches (``Im2Col``'s transpose).

    VJP: gcols = Im2Col(gy): each tap reads the gradient at the positions it was added
    to. Linear, so differentiable again under ``create_graph=True``.  Saves nothing."""

    def forward(self, cols: Any, size: tuple[int, ...], k: tuple[int, ...],
                stride: tuple[int, ...], dilation: tuple[int, ...]) -> Any:
        self.args = (k, stride, dilation, tuple(cols.shape[3:]))
        return _scatter(self.xp, cols, size, k, stride, dilation)

    def backward(self, gy: Any) -> Any:
        k, stride, dilation, n_out = self.args
        if isinstance(gy, Tensor):
            return Im2Col.apply(gy, k=k, stride=stride, dilation=dilation, n_out=n_out)
        return _gather(self.xp, gy, k, stride, dilation, n_out)


CHUNK = 2**17  # elements: what the tap-by-tap loops take at a time, a few images


def _chunks(n: int, per_image: int) -> list[slice]:
    """The batch in slices of as many images as fit ``CHUNK`` elements of ``per_image`` (at
    least one). A loop that makes K passes, one per tap, over the whole batch reads and
    writes main memory K times; run on one slice, then the next, the slice stays in cache
    through all K."""
    b = max(1, CHUNK // max(per_image, 1))
    return [slice(a, a + b) for a in range(0, n, b)]


def _first_max(xp: Any, taps: list[Any], best: Any) -> Iterator[Any]:
    """For each tap in turn (row-major over the kernel), where it holds its window's maximum
    ``best`` and no earlier tap does: the first maximum of a tie, and a NaN counting as the
    largest (the first NaN), as PyTorch's."""
    nan = xp.isnan(best)
    nan = nan if bool(nan.any()) else None
    free = xp.ones(best.shape, dtype=bool)  # no earlier tap holds the maximum
    for v in taps:
        hit = v == best if nan is None else (v == best) | (nan & xp.isnan(v))
        hit &= free
        free ^= hit
        yield hit


def window_argmax(x: Any, best: Any, k: tuple[int, ...], stride: tuple[int, ...],
                  dilation: tuple[int, ...]) -> Any:
    """Which tap of each window holds ``WindowMax``'s maximum ``best`` (int64, row-major over
    the kernel; the first of a tie, the first NaN), for x (N, C, *spatial) already padded."""
    xp, n_out = get_array_module(x), tuple(best.shape[2:])
    taps = [x[_tap(js, stride, dilation, n_out)] for js in np.ndindex(*k)]
    at = xp.zeros(best.shape, dtype=np.int64)
    for j, hit in enumerate(_first_max(xp, taps, best)):
        at[hit] = j
    return at


def _combine_taps(xp: Any, x: Any, slices: list[Any], n_out: tuple[int, ...],
                  ufunc: Any) -> Any:
    """y = ufunc(...ufunc(x[tap 0], x[tap 1])..., x[tap K-1]) over the strided views of the
    taps, written in place a few images at a time (each slice stays in cache)."""
    y = xp.empty((*x.shape[:2], *n_out), dtype=x.dtype)
    for part in _chunks(x.shape[0], math.prod(x.shape[1:])):
        xb, yb = x[part], y[part]
        yb[...] = xb[slices[0]]
        for i in slices[1:]:
            ufunc(yb, xb[i], out=yb)
    return y


class WindowMax(Function):
    """y[:, :, l] = max_j x[:, :, l·s + j·d], the largest of each window's K taps (x (N, C,
    *spatial), already padded; a NaN wins): K - 1 maxima of strided views of x (no copy of the
    windows), a few images at a time.

    VJP: gx[:, :, l·s + j·d] += gy[:, :, l] for the first tap j that holds the maximum (a
    NaN, the first NaN), found again from x and y: K comparisons and masked adds (writes,
    where the windows do not overlap); an element several windows picked gets the sum.
    Linear in gy, so under ``create_graph=True`` it is recorded as a ``Col2Im`` of gy masked
    to the picked taps.  Saves x and y."""

    def forward(self, x: Any, k: tuple[int, ...], stride: tuple[int, ...],
                dilation: tuple[int, ...], n_out: tuple[int, ...]) -> Any:
        slices = [_tap(js, stride, dilation, n_out) for js in np.ndindex(*k)]
        y = _combine_taps(self.xp, x, slices, n_out, self.xp.maximum)  # (NaN wins)
        self.saved, self.args = (x, y), (k, stride, dilation, slices)
        return y

    def backward(self, gy: Any) -> Any:
        # x and y only say which tap was picked: their arrays (Tensors under create_graph)
        x, y = (getattr(a, "_data", a) for a in self.saved)
        k, stride, dilation, slices = self.args
        xp = get_array_module(x)
        if isinstance(gy, Tensor):  # create_graph: recorded
            which = xp.stack(list(_first_max(xp, [x[i] for i in slices], y)), axis=2)
            return Col2Im.apply(where(which, gy.unsqueeze(2), 0.0), size=x.shape[2:], k=k,
                                stride=stride, dilation=dilation)
        gx = xp.zeros(x.shape, dtype=gy.dtype)
        apart = all(s >= d * (kk - 1) + 1 for s, d, kk in zip(stride, dilation, k))
        for part in _chunks(x.shape[0], math.prod(x.shape[1:])):
            xb, g, out = x[part], gy[part], gx[part]
            for i, hit in zip(slices, _first_max(xp, [xb[i] for i in slices], y[part])):
                if apart:  # windows that do not overlap: each element gets one tap's value
                    out[i] = xp.where(hit, g, 0)
                else:
                    out[i] += xp.where(hit, g, 0)
        return gx


class WindowSum(Function):
    """y[:, :, l] = Σ_j x[:, :, l·s + j·d], the sum of each window's K taps (x (N, C,
    *spatial), already padded): K - 1 adds of strided views of x, a few images at a time (an
    average pool divides it by the window's size).

    VJP: gx[:, :, l·s + j·d] += gy[:, :, l] for every tap j: K strided adds (writes, where
    the windows do not overlap). Linear in gy, so under ``create_graph=True`` it is recorded
    as a ``Col2Im`` of gy repeated over the taps.  Saves nothing (the input's shape)."""

    def forward(self, x: Any, k: tuple[int, ...], stride: tuple[int, ...],
                dilation: tuple[int, ...], n_out: tuple[int, ...]) -> Any:
        self.args = (tuple(x.shape), k, stride, dilation, n_out)
        slices = [_tap(js, stride, dilation, n_out) for js in np.ndindex(*k)]
        return _combine_taps(self.xp, x, slices, n_out, self.xp.add)

    def backward(self, gy: Any) -> Any:
        shape, k, stride, dilation, n_out = self.args
        if isinstance(gy, Tensor):  # create_graph: recorded
            every = gy.unsqueeze(2).expand(*shape[:2], math.prod(k), *n_out)
            return Col2Im.apply(every, size=shape[2:], k=k, stride=stride, dilation=dilation)
        gx = self.xp.zeros(shape, dtype=gy.dtype)
        slices = [_tap(js, stride, dilation, n_out) for js in np.ndindex(*k)]
        apart = all(s >= d * (kk - 1) + 1 for s, d, kk in zip(stride, dilation, k))
        for part in _chunks(shape[0], math.prod(shape[1:])):
            g, out = gy[part], gx[part]
            for i in slices:
                if apart:
                    out[i] = g
                else:
                    out[i] += g
        return gx
