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

from typing import Any

import numpy as np

from ..tensor import Function, Tensor


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
