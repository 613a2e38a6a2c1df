"""Convolution as three ops, each the others' gradient: ``Conv`` (y = x ⋆ w), ``ConvInput``
(its gradient with respect to x: the transposed convolution) and ``ConvWeight`` (its gradient
with respect to w). Their backwards call one another, so under ``create_graph=True`` every
derivative is again one of the three, differentiable again.

The geometry (``Geometry``): kernel k, stride s, dilation dl, zero padding ``pads`` ((before,
after) per spatial axis) and G groups. x is (N, C, *size), w (O, C/G, *k), y (N, O, *n_out);
tap j = (j1, j2, ...) of window l = (l1, l2, ...) reads the padded input at l·s + j·dl, and
output channel o reads the input channels of its group g = o // (O/G)::

    y[n, o, l] = Σ_c Σ_j w[o, c, j] · xpad[n, g·C/G + c, l·s + j·dl]

Computed as im2col + matmul: the windows of the padded input, a strided view, are gathered by
one copy into cols (N, G, C/G·K, L) (K = k1·k2·... taps, L = n1·n2·... windows; a 1x1 kernel
with stride 1 and no padding needs no copy), and y is one batched matmul with w as
(G, O/G, C/G·K). The weight's gradient is one batched matmul with the same cols, gathered
again in the backward (keeping them would hold K times the input until then), summed over
the batch; the input's is the matmul with wᵀ, whose K taps are
added back where they were read (col2im: a short loop over the taps, each one strided add).
A depthwise convolution (one input channel per group, O = C = G) with stride 1 is K
multiply-adds over whole rows instead (``_Rows``), which beats N·G matrix products of one row.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np

from ..tensor import Function, Tensor
from .windows import _chunks


class Geometry(NamedTuple):
    """A convolution's options, each a tuple with one entry per spatial axis (``pads`` one
    (before, after) pair per axis), and the number of groups."""

    k: tuple[int, ...]
    stride: tuple[int, ...]
    dilation: tuple[int, ...]
    pads: tuple[tuple[int, int], ...]
    groups: int


def _padded(xp: Any, x: Any, pads: tuple[tuple[int, int], ...]) -> Any:
    """x with zeros around its spatial axes (x itself where there are none)."""
    if not any(a or b for a, b in pads):
        return x
    out = xp.zeros((*x.shape[:2], *(n + a + b for n, (a, b) in zip(x.shape[2:], pads))),
                   dtype=x.dtype)
    out[_inner(x.shape[2:], pads)] = x
    return out


def _inner(size: tuple[int, ...], pads: tuple[tuple[int, int], ...]) -> tuple[slice, ...]:
    """The index of the unpadded part of a padded array."""
    return (slice(None), slice(None), *(slice(a, a + n) for n, (a, _) in zip(size, pads)))


def _depthwise(c: int, o: int, geo: Geometry) -> bool:
    """Whether the convolution takes the depthwise path: one input channel per group, one
    output channel per input channel (c in, o out), stride 1."""
    return c == o == geo.groups and all(s == 1 for s in geo.stride)


class _Rows(NamedTuple):
    """The depthwise path's layout. Each channel's padded input (spatial sizes ``padded``) is
    one flat row of ``length`` elements, row-major, with zeros after it; an output position
    a = (a1, a2, ...) sits at q = a · strides in a row of ``q_len`` (the ``grid``
    (n1, p2, p3, ...): the outputs, then garbage up to each padded row's end), and tap j reads
    q + ``offsets[j]``, with offsets[j] = (j·dilation) · strides. Every tap is one contiguous
    slice of every row: K long multiply-adds, where strided windows would loop over short
    rows."""

    length: int
    padded: tuple[int, ...]
    offsets: list[int]
    q_len: int
    grid: tuple[int, ...]


def _rows(geo: Geometry, size: tuple[int, ...], n_out: tuple[int, ...]) -> _Rows:
    """The layout for an input of spatial ``size`` (before padding) and n_out windows (which
    may leave room at the end: a transposed convolution's output_padding)."""
    padded = tuple(m + a + b for m, (a, b) in zip(size, geo.pads))
    strides = [math.prod(padded[i + 1:]) for i in range(len(padded))]
    offsets = [sum(j * dl * st for j, dl, st in zip(js, geo.dilation, strides))
               for js in np.ndindex(*geo.k)]
    q_len = n_out[0] * strides[0]
    return _Rows(max(q_len + max(offsets), math.prod(padded)), padded, offsets, q_len,
                 (n_out[0], *padded[1:]))


def _row_view(xp: Any, a: Any, shape: tuple[int, ...]) -> Any:
    """The first prod(shape) elements of each row of a contiguous (N, C, length) as
    (N, C, *shape): a view made by its strides, so that writes through it land in a."""
    inner = [a.strides[2] * math.prod(shape[i + 1:]) for i in range(len(shape))]
    return xp.lib.stride_tricks.as_strided(a, (*a.shape[:2], *shape), (*a.strides[:2], *inner))


def _cols(xp: Any, x: Any, o: int, geo: Geometry, n_out: tuple[int, ...]) -> Any:
    """(N, G, C/G·K, L): the windows of the padded x, gathered by one copy of a strided view
    (none where the view already is that array), for o output channels. The depthwise path
    reads the padded x itself as ``_rows`` lays it out: that is returned instead."""
    n, c = x.shape[:2]
    if _depthwise(c, o, geo):
        r = _rows(geo, x.shape[2:], n_out)
        rows = xp.zeros((n, c, r.length), dtype=x.dtype)
        _row_view(xp, rows, r.padded)[_inner(x.shape[2:], geo.pads)] = x
        return rows
    xpad = _padded(xp, x, geo.pads)
    st = xpad.strides
    view = xp.lib.stride_tricks.as_strided(
        xpad, (n, c, *geo.k, *n_out),
        (*st[:2], *(a * d for a, d in zip(st[2:], geo.dilation)),
         *(a * s for a, s in zip(st[2:], geo.stride))))
    return view.reshape(n, geo.groups, c // geo.groups * math.prod(geo.k), math.prod(n_out))


def _grid(xp: Any, gy: Any, r: _Rows) -> Any:
    """gy (N, C, *n_out) laid out as the depthwise path's output rows (N, C, q_len), zeros in
    the garbage positions (so that they add nothing)."""
    g = xp.zeros((*gy.shape[:2], r.q_len), dtype=gy.dtype)
    g.reshape(*gy.shape[:2], *r.grid)[(..., *(slice(m) for m in gy.shape[3:]))] = gy
    return g


def _forward(xp: Any, cols: Any, w: Any, geo: Geometry, size: tuple[int, ...],
             n_out: tuple[int, ...]) -> Any:
    """y (N, O, *n_out) from ``_cols`` (of an input of spatial ``size``)."""
    n, o = cols.shape[0], w.shape[0]
    if _depthwise(w.shape[1] * geo.groups, o, geo):
        r, wk = _rows(geo, size, n_out), w.reshape(o, -1, 1)
        y = xp.empty((n, o, r.q_len), dtype=w.dtype)
        for part in _chunks(n, o * r.length):
            rows, yb = cols[part], y[part]
            tmp = xp.empty_like(yb)  # one buffer for every tap's product
            xp.multiply(rows[:, :, r.offsets[0]:r.offsets[0] + r.q_len], wk[:, 0], out=yb)
            for j, off in enumerate(r.offsets[1:], 1):
                yb += xp.multiply(rows[:, :, off:off + r.q_len], wk[:, j], out=tmp)
        return y.reshape(n, o, *r.grid)[(..., *(slice(m) for m in n_out[1:]))]
    return xp.matmul(w.reshape(geo.groups, o // geo.groups, -1), cols).reshape(n, o, *n_out)


def _weight_grad(xp: Any, cols: Any, gy: Any, x_shape: tuple[int, ...], geo: Geometry
                 ) -> Any:
    """gw (O, C/G, *k) from ``_cols`` (of an input of shape x_shape) and gy: the sum over the
    batch and the windows of gy[n, o, l] times window l's taps."""
    n, o, n_out = gy.shape[0], gy.shape[1], gy.shape[2:]
    if _depthwise(x_shape[1], o, geo):
        r = _rows(geo, x_shape[2:], n_out)
        gw = xp.zeros((o, len(r.offsets)), dtype=gy.dtype)
        for part in _chunks(n, o * r.length):
            g, rows = _grid(xp, gy[part], r), cols[part]
            for j, off in enumerate(r.offsets):  # one pass over both, no product array
                gw[:, j] += xp.einsum("ncq,ncq->c", g, rows[:, :, off:off + r.q_len])
        return gw.reshape(o, 1, *geo.k)
    gy2 = gy.reshape(n, geo.groups, o // geo.groups, math.prod(n_out))
    return xp.matmul(gy2, cols.swapaxes(-1, -2)).sum(0).reshape(o, -1, *geo.k)


def _input_grad(xp: Any, gy: Any, w: Any, geo: Geometry, size: tuple[int, ...]) -> Any:
    """gx (N, C, *size): wᵀ gy, each tap added back where it was read (col2im), the padding
    cut off."""
    (n, o), n_out = gy.shape[:2], gy.shape[2:]
    c = w.shape[1] * geo.groups
    if _depthwise(c, o, geo):
        r = _rows(geo, size, n_out)
        gx, wk = xp.zeros((n, c, r.length), dtype=gy.dtype), w.reshape(o, -1, 1)
        for part in _chunks(n, o * r.length):
            g, rows = _grid(xp, gy[part], r), gx[part]
            tmp = xp.empty_like(g)
            for j, off in enumerate(r.offsets):
                rows[:, :, off:off + r.q_len] += xp.multiply(g, wk[:, j], out=tmp)
        return _row_view(xp, gx, r.padded)[_inner(size, geo.pads)]
    wm = w.reshape(geo.groups, o // geo.groups, -1).swapaxes(-1, -2)
    gcols = xp.matmul(wm, gy.reshape(n, geo.groups, o // geo.groups, math.prod(n_out)))
    k = math.prod(geo.k)
    gcols = gcols.reshape(n, c, k, *n_out)
    if k == 1 and tuple(n_out) == tuple(size) and not any(a or b for a, b in geo.pads):
        return gcols.reshape(n, c, *size)  # a 1x1 kernel, stride 1: the taps are x itself
    gx = xp.zeros((n, c, *size), dtype=gy.dtype)
    for j, js in enumerate(np.ndindex(*geo.k)):
        reach = _unpadded_tap(js, geo, n_out, size)
        if reach is not None:
            gx[reach[0]] += gcols[(slice(None), slice(None), j, *reach[1])]
    return gx


def _unpadded_tap(js: tuple[int, ...], geo: Geometry, n_out: tuple[int, ...],
                  size: tuple[int, ...]) -> tuple[tuple[slice, ...], tuple[slice, ...]] | None:
    """Where tap ``js`` of the windows lands in the unpadded input, and which windows land
    there: along each axis, window l reads position l·s + j·dl - before, kept where it is in
    [0, size). None where no window's tap lands inside (it reads padding only). Adding the
    taps straight into the unpadded gradient needs no padded buffer, and no copy out of it."""
    into, which = [slice(None), slice(None)], []
    for j, s, dl, (before, _), m, n in zip(js, geo.stride, geo.dilation, geo.pads, n_out, size):
        first = max(0, -((j * dl - before) // s))  # ceil((before - j·dl) / s)
        last = min(m - 1, (n - 1 + before - j * dl) // s)
        if first > last:
            return None
        into.append(slice(first * s + j * dl - before, last * s + j * dl - before + 1, s))
        which.append(slice(first, last + 1))
    return tuple(into), tuple(which)


def _needs(fn: Function) -> list[bool]:
    """Which of the op's inputs need a gradient."""
    return [p.requires_grad for p in fn.parents]


class Conv(Function):
    """y = conv(x, w) (the module docstring's formula), y (N, O, *n_out).

    VJP: gx = ConvInput(gy, w) (the transposed convolution: wᵀ gy, each tap added back where it
    was read), gw = ConvWeight(x, gy) (Σ_n Σ_l gy[n, o, l] · window l's taps).  Saves x and w
    (the weight's gradient gathers the windows again: K times x, not kept meanwhile)."""

    def forward(self, x: Any, w: Any, geo: Geometry, n_out: tuple[int, ...]) -> Any:
        self.saved, self.geo = (x, w), geo  # x, not its windows: K times smaller
        return _forward(self.xp, _cols(self.xp, x, w.shape[0], geo, n_out), w, geo,
                        tuple(x.shape[2:]), n_out)

    def backward(self, gy: Any) -> Any:
        (x, w), geo = self.saved, self.geo
        nx, nw = _needs(self)
        size = tuple(x.shape[2:])
        if isinstance(gy, Tensor):  # create_graph: recorded, differentiable again
            return (ConvInput.apply(gy, w, geo=geo, size=size) if nx else None,
                    ConvWeight.apply(x, gy, geo=geo) if nw else None)
        # the windows gathered again (one copy), as PyTorch's CPU kernel does
        gw = _weight_grad(self.xp, _cols(self.xp, x, w.shape[0], geo, tuple(gy.shape[2:])),
                          gy, x.shape, geo) if nw else None
        return _input_grad(self.xp, gy, w, geo, size) if nx else None, gw


class ConvInput(Function):
    """gx = ConvInput(g, w): the gradient of ``Conv`` with respect to its input (N, C, *size)
    for the upstream g (N, O, *n_out): the transposed convolution,
    ``gx[n, g·C/G + c, l·s + j·dl - before] += w[o, c, j] · g[n, o, l]`` (o in group g).

    VJP (u the upstream, x-shaped): g_g = Conv(u, w), g_w = ConvWeight(u, g).  Saves g and w."""

    def forward(self, g: Any, w: Any, geo: Geometry, size: tuple[int, ...]) -> Any:
        self.saved, self.geo = (g, w), geo
        return _input_grad(self.xp, g, w, geo, size)

    def backward(self, gy: Any) -> Any:
        (g, w), geo = self.saved, self.geo
        ng, nw = _needs(self)
        n_out = tuple(g.shape[2:])
        if isinstance(gy, Tensor):
            return (Conv.apply(gy, w, geo=geo, n_out=n_out) if ng else None,
                    ConvWeight.apply(gy, g, geo=geo) if nw else None)
        cols = _cols(self.xp, gy, w.shape[0], geo, n_out)
        return (_forward(self.xp, cols, w, geo, tuple(gy.shape[2:]), n_out) if ng else None,
                _weight_grad(self.xp, cols, g, gy.shape, geo) if nw else None)


class ConvWeight(Function):
    """gw = ConvWeight(x, g): the gradient of ``Conv`` with respect to its weight (O, C/G, *k)
    for the input x and the upstream g (N, O, *n_out),
    ``gw[o, c, j] = Σ_n Σ_l g[n, o, l] · xpad[n, g·C/G + c, l·s + j·dl]``.

    VJP (v the upstream, w-shaped): g_x = ConvInput(g, v), g_g = Conv(x, v).  Saves x and g."""

    def forward(self, x: Any, g: Any, geo: Geometry) -> Any:
        self.saved, self.geo = (x, g), geo
        cols = _cols(self.xp, x, g.shape[1], geo, tuple(g.shape[2:]))
        return _weight_grad(self.xp, cols, g, x.shape, geo)

    def backward(self, gy: Any) -> Any:
        (x, g), geo = self.saved, self.geo
        nx, ng = _needs(self)
        size, n_out = tuple(x.shape[2:]), tuple(g.shape[2:])
        if isinstance(gy, Tensor):
            return (ConvInput.apply(g, gy, geo=geo, size=size) if nx else None,
                    Conv.apply(x, gy, geo=geo, n_out=n_out) if ng else None)
        cols = _cols(self.xp, x, g.shape[1], geo, n_out) if ng else None
        return (_input_grad(self.xp, g, gy, geo, size) if nx else None,
                _forward(self.xp, cols, gy, geo, size, n_out) if ng else None)
