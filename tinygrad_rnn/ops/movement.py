"""Ops that move elements without changing them: reshape, transpose, broadcast, index, cat,
split (``split``, ``unbind``). Stack, squeeze and unsqueeze are compositions of these."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np

from ..backend import get_array_module
from ..backend import scatter_add as _add_at  # (scatter_add below is the op)
from ..tensor import DTypeError, Function, OpError, OpIndexError, Tensor, torch_names


class Reshape(Function):
    """y = x with a new shape (one size may be -1).  VJP: gx = gy reshaped back.
    JVP: linear.  Saves x's shape."""

    complex_ok = True
    linear = True  # forward mode: J·v = the op applied to v

    def forward(self, x: Any, shape: tuple[int, ...]) -> Any:
        self.shape = x.shape
        return x.reshape(shape)

    def backward(self, gy: Any) -> Any:
        return gy.reshape(self.shape)


class Transpose(Function):
    """y = x with its axes permuted (None reverses them).  VJP: gx = gy with the inverse
    permutation.  JVP: linear.  Saves the permutation."""

    complex_ok = True
    linear = True  # forward mode: J·v = the op applied to v

    def forward(self, x: Any, axes: tuple[int, ...] | None) -> Any:
        if axes is not None and sorted(a % max(x.ndim, 1) for a in axes) != list(range(x.ndim)):
            raise ValueError(f"axes {axes} are not a permutation of {x.ndim} axes")
        self.axes = axes
        return x.transpose(axes)

    def backward(self, gy: Any) -> Any:
        if self.axes is None:
            return gy.transpose()
        inverse = [0] * len(self.axes)
        for i, a in enumerate(self.axes):
            inverse[a % len(self.axes)] = i
        return gy.transpose(tuple(inverse))


class BroadcastTo(Function):
    """y = x broadcast to ``shape`` (a read-only view).  VJP: gx = gy, which the engine sums
    back to x's shape.  JVP: linear.  Saves nothing."""

    complex_ok = True
    linear = True  # forward mode: J·v = the op applied to v

    def forward(self, x: Any, shape: tuple[int, ...]) -> Any:
        return self.xp.broadcast_to(x, shape)

    def backward(self, gy: Any) -> Any:
        return gy


def _is_basic(index: Any) -> bool:
    """True for an index of ints, slices, None and Ellipsis only (no element is hit twice)."""
    parts = index if isinstance(index, tuple) else (index,)
    return all(p is None or p is Ellipsis or isinstance(p, (int, slice)) for p in parts)


def _is_mask(p: Any) -> bool:
    return getattr(p, "dtype", None) is not None and p.dtype.kind == "b"


def check_index(xp: Any, index: Any, shape: tuple[int, ...], first: tuple[Any, ...] = ()
                ) -> Any:
    """An index of arrays, ready to use: masks expanded (``_expand_masks``) and, off NumPy,
    every integer checked to be in range, as NumPy checks. CuPy does not: it wraps an
    out-of-range index around (x[[5]] of 3 elements would read x[2]), so there this costs one
    device-to-host sync. IndexError names the index and its axis: of x, before the ``first``
    part of an ``IntsFirst`` was taken (so that part is checked on NumPy too)."""
    index = _expand_masks(index, xp, shape, first)
    if xp is np and not first:
        return index
    parts = index if isinstance(index, tuple) else (index,)
    used = [0 if p is None or p is Ellipsis else 1 for p in parts]
    axis, bad = 0, []
    for p, n in zip(parts, used):
        if p is Ellipsis:
            axis += len(shape) - sum(used)
        elif n and getattr(p, "dtype", None) is not None and p.dtype.kind in "iu" \
                and axis < len(shape):  # an integer array, 0-d too (CuPy wraps those as well)
            bad.append((axis, p, ((p < -shape[axis]) | (p >= shape[axis])).any()))
        axis += n
    if bad and bool(xp.stack([b for _, _, b in bad]).any()):  # one sync for all the arrays
        axis, p, _ = next(b for b in bad if bool(b[2]))
        n = shape[axis]
        v = int(p[(p < -n) | (p >= n)][0])
        axis = _axis_before(first, axis, len(shape))
        raise IndexError(f"index {v} is out of bounds for axis {axis} with size {n}")
    return index


def _axis_before(first: tuple[Any, ...], axis: int, ndim: int) -> int:
    """The axis of x that is ``axis`` of x[first] (an ``IntsFirst``'s first part: ints,
    slices, None, Ellipsis), an array index never being at an axis that None made."""
    ints = sum(isinstance(p, int) for p in first)
    x_ndim = ndim + ints - sum(p is None for p in first)
    o = q = 0  # the axis of x and of x[first] reached so far
    for p in first:
        if isinstance(p, int):
            o += 1
        elif p is Ellipsis:
            k = x_ndim - sum(p is not None and p is not Ellipsis for p in first)
            if axis < q + k:
                return o + axis - q
            o, q = o + k, q + k
        else:  # a slice (one axis each) or None (a new axis of x[first])
            if q == axis:
                return o
            o, q = o + (p is not None), q + 1
    return o + axis - q


def _expand_masks(index: Any, xp: Any, shape: tuple[int, ...], first: tuple[Any, ...] = ()
                  ) -> Any:
    """Boolean masks become the integer arrays of their True positions (NumPy's own rule),
    after checking that each mask has the shape of the axes it covers (named as axes of x,
    before an ``IntsFirst``'s ``first`` part was taken)."""
    parts = index if isinstance(index, tuple) else (index,)
    if not any(_is_mask(p) for p in parts):
        return index
    used = [0 if p is None or p is Ellipsis else p.ndim if _is_mask(p) else 1 for p in parts]
    axis = 0
    for p, n in zip(parts, used):
        if p is Ellipsis:
            axis += len(shape) - sum(used)
        elif _is_mask(p) and tuple(p.shape) != shape[axis:axis + n]:
            at = _axis_before(first, axis, len(shape))
            raise IndexError(f"the boolean mask of shape {tuple(p.shape)} does not match the "
                             f"axes {at}..{at + n - 1} it indexes, of shape "
                             f"{shape[axis:axis + n]}")
        axis += n
    out: list[Any] = []
    for p in parts:
        out.extend(xp.nonzero(p) if _is_mask(p) else (p,))
    return tuple(out)


class IntsFirst(NamedTuple):
    """An index taken in two steps, as PyTorch takes an index that mixes ints with arrays:
    ``first`` (ints, slices, None, ...: a view), then ``then`` (the arrays, at the axes that
    are left). NumPy instead broadcasts the ints with the arrays, and where a slice separates
    them moves the picked axes to the front: for x of shape (2, 3, 4), ``x[0, :, [0, 1]]`` is
    (2, 3) in NumPy, (3, 2) in PyTorch and here."""

    first: tuple[Any, ...]
    then: tuple[Any, ...]
    shown: str = ""  # the index as written, for messages


def _pick(a: Any, index: Any) -> Any:
    return a[index.first][index.then] if isinstance(index, IntsFirst) else a[index]


def _packed(xp: Any, a: Any) -> Any:
    """An advanced index's result (a new array) in C order, as PyTorch lays it out: NumPy's
    can come out in another order (x[:, [0, 1]]), which ``view`` would then refuse."""
    return a if a.flags.c_contiguous else xp.ascontiguousarray(a)


class GetItem(Function):
    """y = x[index]: basic slices and ints, integer arrays, boolean masks (NumPy's rules, but
    ints beside arrays first, as PyTorch: ``IntsFirst``).

    VJP: gx = zeros like x, with gy added at ``index`` (a scatter-add: an element picked twice
    gets both gradients).  JVP: linear.  Saves the index and x's shape.  ``in_range``: the
    caller has checked that the index's integers are in range (it skips ``check_index``'s
    device sync).
    """

    complex_ok = True
    linear = True  # forward mode: J·v = the op applied to v

    def forward(self, x: Any, index: Any, in_range: bool = False) -> Any:
        self.shape = x.shape
        try:
            if isinstance(index, IntsFirst):
                part = x[index.first]
                self.index = index._replace(
                    then=check_index(self.xp, index.then, part.shape, index.first))
                y = part[self.index.then]
                return y if _is_basic(self.index.then) else _packed(self.xp, y)
            if _is_basic(index):  # a view
                self.index = index
                return x[index]
            self.index = _expand_masks(index, self.xp, x.shape) if in_range else \
                check_index(self.xp, index, x.shape)
            return _packed(self.xp, x[self.index])
        except IndexError as e:
            shown = index.shown if isinstance(index, IntsFirst) else repr(index)
            raise OpIndexError(f"index {shown} does not fit shape {x.shape}: {e}") from None

    def backward(self, gy: Any) -> Any:
        return _index_scatter(gy, self.index, self.shape)


class SetItem(Function):
    """y = x with the elements at ``index`` replaced by v (broadcast to x[index]'s shape):
    ``x[index] = v`` as an op (an index checked as ``GetItem``'s).

    VJP: gx = gy with 0 at ``index`` (those elements of x were overwritten), gv = gy[index]
    (the engine sums it back to v's shape). An element indexed twice is written once, by the
    last, and each of them gets its gradient (PyTorch leaves both unspecified).  Saves the
    index and x's shape (the mask of kept elements is made again in backward: a graph that
    fills a buffer step by step holds one mask at a time, not one per step).  JVP: linear
    (in x and v together).
    """

    complex_ok = True
    linear = True  # forward mode: J·v = the op applied to v

    def forward(self, x: Any, v: Any, index: Any) -> Any:
        y = x.copy()
        _put(y, index, v)
        self.index, self.shape, self.arrays = index, x.shape, self.xp
        return y

    def backward(self, gy: Any) -> Any:
        keep = self.arrays.ones(self.shape, dtype=bool)  # an array, even under create_graph
        _put(keep, self.index, False)
        gv = _pick(gy, self.index)  # a copy, not a view that would keep all of gy alive
        return self.xp.where(keep, gy, 0), gv.copy() if getattr(gv, "base", None) is not None \
            else gv


def _put(a: Any, index: Any, value: Any) -> None:
    """``a[index] = value`` for an index of ``GetItem``'s kinds (``IntsFirst``: a[first] is a
    view, so the write reaches a)."""
    if isinstance(index, IntsFirst):
        a[index.first][index.then] = value
    else:
        a[index] = value


class IndexScatter(Function):
    """y = zeros(shape) with x added at ``index`` (GetItem's backward as an op of its own, so
    that it can be differentiated again).  VJP: gx = gy[index].  JVP: linear.
    Saves the index."""

    complex_ok = True
    linear = True  # forward mode: J·v = the op applied to v

    def forward(self, x: Any, index: Any, shape: tuple[int, ...]) -> Any:
        self.index = index
        return _scatter_array(self.xp, x, index, shape)

    def backward(self, gy: Any) -> Any:
        return _pick(gy, self.index)


def _index_scatter(g: Any, index: Any, shape: tuple[int, ...]) -> Any:
    """zeros(shape) with ``g`` added at ``index``; an op when ``g`` is a Tensor."""
    if isinstance(g, Tensor):
        return IndexScatter.apply(g, index=index, shape=shape)
    return _scatter_array(get_array_module(g), g, index, shape)


def _scatter_array(xp: Any, g: Any, index: Any, shape: tuple[int, ...]) -> Any:
    y = xp.zeros(shape, dtype=g.dtype)
    part = y[index.first] if isinstance(index, IntsFirst) else y  # a view: writes reach y
    index = index.then if isinstance(index, IntsFirst) else index
    if _is_basic(index):
        part[index] = g  # basic indexing never picks an element twice
    else:
        _add_at(xp, part, index, g)
    return y


class Cat(Function):
    """y = the inputs joined along ``axis``.  VJP: each input gets its slice of gy.
    JVP: linear.  Saves the sizes along ``axis``."""

    complex_ok = True
    linear = True  # forward mode: J·v = the op applied to v

    def forward(self, *xs: Any, axis: int) -> Any:
        if not xs:
            raise ValueError("cat of no tensors")
        self.axis = axis % xs[0].ndim if xs[0].ndim else 0
        self.sizes = [x.shape[self.axis] for x in xs]
        return self.xp.concatenate(xs, axis=self.axis)

    def backward(self, gy: Any) -> Any:
        lead = (slice(None),) * self.axis
        grads, start = [], 0
        for n in self.sizes:
            grads.append(gy[(*lead, slice(start, start + n))])
            start += n
        return tuple(grads)


class Stack(Function):
    """y = the inputs, all of one shape, side by side along a new axis ``axis``
    (``numpy.stack``): one op, where unsqueezing each and joining them would be one more per
    input.

    VJP: g_k = gy at index k of that axis (a view).  JVP: linear.  Saves nothing.
    """

    complex_ok = True
    linear = True  # forward mode: J·v = the op applied to v

    def forward(self, *xs: Any, axis: int) -> Any:
        self.axis = axis
        return self.xp.stack(xs, axis=axis)

    def backward(self, gy: Any) -> Any:
        lead = (slice(None),) * self.axis
        return tuple(gy[(*lead, k)] for k in range(gy.shape[self.axis]))


def _joined(ts: list[Tensor]) -> list[Tensor]:
    """Tensors to join, each in the dtype PyTorch joins them in: a float dtype wins."""
    kinds = [t.dtype.kind in "fc" for t in ts]
    dt = np.result_type(*[t.dtype for t, f in zip(ts, kinds) if f or not any(kinds)])
    return [t if t.dtype == dt else t.to(dtype=dt) for t in ts]


@torch_names
def cat(tensors: Sequence[Tensor], axis: int = 0) -> Tensor:
    """Join tensors along an existing axis (``torch.cat``, ``numpy.concatenate``)."""
    ts = list(tensors)
    if not ts:
        raise ValueError("cat: needs at least one tensor")
    nd = {t.ndim for t in ts}
    if len(nd) != 1 or not -ts[0].ndim <= axis < ts[0].ndim:
        raise ValueError(f"cat: shapes {[t.shape for t in ts]} cannot be joined along axis {axis}")
    return Cat.apply(*_joined(ts), axis=axis)


@torch_names
def stack(tensors: Sequence[Tensor], axis: int = 0) -> Tensor:
    """Join tensors of one shape along a new axis."""
    ts = list(tensors)
    if not ts:
        raise ValueError("stack: needs at least one tensor")
    if len({t.shape for t in ts}) != 1:
        raise ValueError(f"stack: all tensors need the same shape, got {[t.shape for t in ts]}")
    n = ts[0].ndim + 1  # the result's axes
    if not -n <= axis < n:
        raise IndexError(f"stack: axis {axis} out of range for {ts[0].ndim}-D tensors (the "
                         f"result has {n} axes)")
    ax = axis if axis >= 0 else axis + n
    return Stack.apply(*_joined(ts), axis=ax)


class Split(Function):
    """ys = x cut along ``axis`` into pieces of the given sizes (views); with ``drop_axis`` each
    piece has size 1 and loses the axis (``unbind``).

    VJP: gx = the pieces' gradients joined along ``axis``, zeros for a piece no gradient
    reached: one array, where slicing with T separate ``x[t]`` would build T full-size ones.
    JVP: linear.  Saves the sizes.
    """

    complex_ok = True
    linear = True  # forward mode: J·v = the op applied to v

    def forward(self, x: Any, sizes: tuple[int, ...], axis: int, drop_axis: bool) -> Any:
        self.sizes, self.axis, self.drop_axis = sizes, axis, drop_axis
        lead = (slice(None),) * axis
        if drop_axis:
            return tuple(x[(*lead, k)] for k in range(len(sizes)))
        starts = [0]
        for n in sizes:
            starts.append(starts[-1] + n)
        return tuple(x[(*lead, slice(a, b))] for a, b in zip(starts, starts[1:]))

    def backward(self, *gys: Any) -> Any:
        xp = self.xp
        ref = next(g for g in gys if g is not None)
        parts = []
        for g, n in zip(gys, self.sizes):
            if g is None:
                shape = list(ref.shape)
                if not self.drop_axis:
                    shape[self.axis] = n
                g = xp.zeros(tuple(shape), dtype=ref.dtype)
            parts.append(g)
        if self.drop_axis:
            return xp.stack(parts, axis=self.axis)
        return xp.concatenate(parts, axis=self.axis)


@torch_names
def unbind(x: Tensor, axis: int = 0) -> list[Tensor]:
    """The slices of ``x`` along ``axis``, each without that axis (``torch.unbind``): one op,
    so a loop over time steps costs one gradient array, not one per step."""
    if x.ndim == 0:
        raise ValueError("unbind of a 0-d tensor")
    if not -x.ndim <= axis < x.ndim:
        raise IndexError(f"unbind: axis {axis} out of range for a {x.ndim}-D tensor (shape "
                         f"{x.shape})")
    ax = axis % x.ndim
    if x.shape[ax] == 0:
        return []
    return _parts_of(x, Split.apply(x, sizes=(1,) * x.shape[ax], axis=ax, drop_axis=True),
                     ax, True)


def _parts_of(x: Tensor, parts: Any, axis: int, dropped: bool) -> list[Tensor]:
    """The pieces of ``x`` along ``axis``, each marked as the view ``x[index]`` it is, so an
    in-place write into one reaches x (``Tensor._overwrite``); ``dropped``: unbind's, which
    lose the axis."""
    from ..tensor import _view

    at = 0
    for p in parts:
        n = 1 if dropped else p.shape[axis]
        _view(x, p, "index", (slice(None),) * axis + ((at,) if dropped else
                                                      (slice(at, at + n),)))
        at += n
    return list(parts)


@torch_names
def split(x: Tensor, split_size_or_sections: int | Sequence[int], axis: int = 0) -> list[Tensor]:
    """``torch.split``: chunks of ``split_size`` (the last may be smaller), or the given sizes.
    An axis of size 0 gives one empty piece (split_size 0 is allowed there alone), as
    PyTorch's."""
    n = x.shape[axis]
    if isinstance(split_size_or_sections, int):
        if split_size_or_sections < 0 or split_size_or_sections == 0 and n:
            raise ValueError(f"split: size must be positive, got {split_size_or_sections}")
        sizes = [min(split_size_or_sections, n - s) for s in range(0, n, split_size_or_sections)
                 ] if n else [0]
    else:
        sizes = list(split_size_or_sections)
        if sum(sizes) != n:
            raise ValueError(f"split: sizes {sizes} do not add up to {n} (axis {axis})")
    if any(s < 0 for s in sizes):
        raise ValueError(f"split: sizes must not be negative, got {sizes}")
    ax = axis % x.ndim
    return _parts_of(x, Split.apply(x, sizes=tuple(sizes), axis=ax, drop_axis=False), ax, False)


@torch_names
def squeeze(x: Tensor, axis: int | Sequence[int] | None = None) -> Tensor:
    """Remove axes of size 1 (all of them, or those in ``axis``; others are left, as PyTorch)."""
    if axis is None:
        axes = {i for i, n in enumerate(x.shape) if n == 1}
    else:
        from .reduce import normalize_axis

        axes = {a for a in normalize_axis(axis, x.ndim) if x.shape[a] == 1}
    return x.reshape(tuple(n for i, n in enumerate(x.shape) if i not in axes))


@torch_names
def unsqueeze(x: Tensor, axis: int) -> Tensor:
    """Insert an axis of size 1 at ``axis`` (negative counts from the end of the result)."""
    nd = x.ndim + 1
    if not -nd <= axis < nd:
        raise ValueError(f"unsqueeze: axis {axis} out of range for a result with {nd} axes")
    a = axis % nd
    return x.reshape(x.shape[:a] + (1,) + x.shape[a:])


def broadcast_to(x: Tensor, shape: Sequence[int]) -> Tensor:
    return x.broadcast_to(shape)


def reshape(x: Tensor, shape: Sequence[int]) -> Tensor:
    return x.reshape(tuple(shape))


def transpose(x: Tensor, *axes: Any, dim0: int | None = None, dim1: int | None = None
              ) -> Tensor:
    """``x.transpose(...)``: ``transpose(x, dim0, dim1)`` swaps two axes, as
    ``torch.transpose``; ``transpose(x, axes)`` with one sequence permutes them, as NumPy's;
    ``transpose(x)`` reverses them."""
    if len(axes) == 1 and axes[0] is None:  # NumPy's transpose(x, None)
        axes = ()
    if len(axes) == 1 and not isinstance(axes[0], (int, np.integer)):
        axes = tuple(axes[0])
    return x.transpose(*axes, dim0=dim0, dim1=dim1)


@torch_names
def chunk(x: Tensor, chunks: int, axis: int = 0) -> list[Tensor]:
    return x.chunk(chunks, axis)


# ---- sorting: an index computed on the device, then one differentiable gather -------------


class ValuesIndices(NamedTuple):
    """What ``sort`` and ``topk`` return, as PyTorch's ``torch.return_types``: the values
    (differentiable: a gather, whose gradient scatters back to the picked positions) and
    their int64 positions along the axis (never differentiable)."""

    values: Tensor
    indices: Tensor


def _sort_axis(what: str, axis: Any, ndim: int) -> int:
    """``axis`` as a non-negative int (0 for a 0-d tensor, which PyTorch sorts as one
    element): a TypeError if it is not one int, a ValueError if it is out of range."""
    n = max(ndim, 1)
    if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
        raise TypeError(f"{what}: dim must be one int, got {axis!r}")
    if not -n <= axis < n:
        raise ValueError(f"{what}: dim {axis} is out of range for a tensor with {ndim} "
                         f"dimensions (expected one in [{-n}, {n - 1}])")
    return int(axis) % n


def _flag(what: str, name: str, value: Any) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{what}: {name} must be a bool, got {value!r}")
    return bool(value)


def _sort_index(x: Tensor, axis: int, descending: bool) -> Any:
    """The int64 positions that sort ``x`` along ``axis`` (an array), stably in both
    directions: equal elements keep their order. Descending sorts the reversed axis and
    reverses back (``argsort(-x)`` would fail for unsigned and bool dtypes). NaN is the
    largest, as in PyTorch."""
    xp, a = x._dev.xp, x._data.reshape(x.shape or (1,))
    if not descending:
        return xp.argsort(a, axis=axis, kind="stable").astype(np.int64)
    back = xp.flip(xp.argsort(xp.flip(a, axis), axis=axis, kind="stable"), axis)
    return (a.shape[axis] - 1 - back).astype(np.int64)


def _positions(xp: Any, index: Any, axis: int) -> tuple[Any, ...]:
    """The coordinates that the elements of ``index`` name: along ``axis`` their values, along
    every other axis their own position (an arange), as arrays that broadcast to index's
    shape. ``x[_positions(xp, index, axis)]`` is NumPy's ``take_along_axis``."""
    ones = (1,) * index.ndim
    return tuple(index if i == axis else xp.arange(n).reshape(ones[:i] + (n,) + ones[i + 1:])
                 for i, n in enumerate(index.shape))


def _take_along(x: Tensor, index: Any, axis: int) -> ValuesIndices:
    """(x's elements at ``index`` along ``axis``, the index as a tensor), as NumPy's
    ``take_along_axis``: one ``GetItem``, the other axes matched by aranges. A 0-d ``x``
    gives 0-d results."""
    shape = x.shape or (1,)
    parts = _positions(x._dev.xp, index, axis)
    values = GetItem.apply(x.reshape(shape), index=parts, in_range=True)
    if not x.ndim:
        return ValuesIndices(values.reshape(()), Tensor._wrap(index.reshape(()), x._dev))
    return ValuesIndices(values, Tensor._wrap(index, x._dev))


@torch_names
def sort(x: Tensor, axis: int = -1, descending: bool = False, stable: bool = False
         ) -> ValuesIndices:
    """(values, indices) of ``x`` sorted along ``axis``, as ``torch.sort``. Always a stable
    sort (``stable`` is accepted and changes nothing): equal elements keep their order, as
    PyTorch's ``stable=True``; NaN sorts as the largest."""
    ax = _sort_axis("sort", axis, x.ndim)
    descending = _flag("sort", "descending", descending)
    return _take_along(x, _sort_index(x, ax, descending), ax)


@torch_names
def argsort(x: Tensor, axis: int = -1, descending: bool = False, stable: bool = False
            ) -> Tensor:
    """The int64 indices that sort ``x`` along ``axis`` (``sort(...).indices``)."""
    ax = _sort_axis("argsort", axis, x.ndim)
    descending = _flag("argsort", "descending", descending)
    index = _sort_index(x, ax, descending)
    return Tensor._wrap(index if x.ndim else index.reshape(()), x._dev)


@torch_names
def topk(x: Tensor, k: int, axis: int = -1, largest: bool = True, sorted: bool = True
         ) -> ValuesIndices:
    """(values, indices) of the ``k`` largest (``largest=False``: smallest) elements along
    ``axis``, as ``torch.topk``, in sorted order, from a full stable sort: among equal
    elements the first ones win. (PyTorch's order of ties, and its order with
    ``sorted=False``, are unspecified; here ``sorted`` is accepted and changes nothing.)
    A 0-d tensor takes k = 0 or 1 and gives itself, as PyTorch."""
    ax = _sort_axis("topk", axis, x.ndim)
    largest = _flag("topk", "largest", largest)
    n = x.shape[ax] if x.ndim else 1
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)):
        raise TypeError(f"topk: k must be an int, got {type(k).__name__}")
    if not 0 <= k <= n:
        raise ValueError(f"topk: k={k} is out of range for size {n} along dim {axis} "
                         f"(0 <= k <= {n})")
    if x.ndim and 0 < k < n // 2 and x.size:  # select first, then sort only the k picked
        index = _top_index(x, ax, k, largest)
    else:
        index = _sort_index(x, ax, largest)
        if x.ndim:  # (a 0-d tensor gives itself for k = 0 too, as PyTorch)
            index = index[(slice(None),) * ax + (slice(0, k),)]
    return _take_along(x, index, ax)


def _top_index(x: Tensor, axis: int, k: int, largest: bool) -> Any:
    """The first k of ``_sort_index(x, axis, largest)`` (the same positions, ties included)
    without sorting the whole axis: ``partition`` finds the k-th value v; the picks are every
    element better than v and the first of those equal to v, in the order of the axis, and
    only those k are then sorted. NaN counts as the largest."""
    xp = x._dev.xp
    a = xp.moveaxis(x._data, axis, -1)
    n = a.shape[-1]
    nan = xp.isnan(a) if a.dtype.kind in "fc" else xp.zeros(a.shape, dtype=bool)
    kth = xp.partition(a, n - k if largest else k - 1, axis=-1)
    kth = kth[..., n - k:n - k + 1] if largest else kth[..., k - 1:k]
    kth_nan = xp.isnan(kth) if a.dtype.kind in "fc" else xp.zeros(kth.shape, dtype=bool)
    if largest:  # better: above v (NaN above all); v NaN: nothing is above it
        better = ~kth_nan & ((a > kth) | nan)
    else:  # better: below v; v NaN: everything but NaN is below it
        better = xp.where(kth_nan, ~nan, a < kth)
    equal = (a == kth) | (nan & kth_nan)
    need = k - better.sum(axis=-1, keepdims=True)
    picked = better | (equal & (xp.cumsum(equal, axis=-1) <= need))
    pos = xp.nonzero(picked.reshape(-1, n))[1].reshape(a.shape[:-1] + (k,))
    vals = xp.take_along_axis(a, pos, axis=-1)
    if largest:  # stable descending, as _sort_index
        order = k - 1 - xp.flip(xp.argsort(xp.flip(vals, -1), axis=-1, kind="stable"), -1)
    else:
        order = xp.argsort(vals, axis=-1, kind="stable")
    return xp.moveaxis(xp.take_along_axis(pos, order, axis=-1), -1, axis).astype(np.int64)


def max_along(x: Tensor, axis: Any, keepdims: bool = False, smallest: bool = False
              ) -> ValuesIndices:
    """(values, indices) of the largest (``smallest``: the smallest) element along one
    ``axis``, as PyTorch's ``x.max(dim)``: the first of tied elements, NaN where a row holds
    one (the first NaN); the values are gathered at the indices, so the gradient goes to
    that element alone. A 0-d tensor gives itself and index 0."""
    what = "min" if smallest else "max"
    if isinstance(axis, (tuple, list)):
        raise TypeError(f"{what}: one axis gives (values, indices); over several axes there is "
                        f"no single index: use a{what}(axes) for the values")
    ax = _sort_axis(what, axis, x.ndim)
    if x.ndim and x.shape[ax] == 0:
        raise ValueError(f"{what}: axis {axis} has size 0 (shape {x.shape}), so it has no "
                         f"{'smallest' if smallest else 'largest'} element")
    xp = x._dev.xp
    a = x._data.reshape(x.shape or (1,))
    index = xp.expand_dims((xp.argmin if smallest else xp.argmax)(a, axis=ax), ax)
    values, indices = _take_along(x, index.astype(np.int64), ax)
    if keepdims or not x.ndim:
        return ValuesIndices(values, indices)
    return ValuesIndices(values.squeeze(ax), indices.squeeze(ax))


# ---- gathers by an index tensor: one differentiable GetItem, the index checked first -------


def _index_array(what: str, index: Any, x: Tensor, int32: bool = True) -> Any:
    """``index``'s array on x's device (an index from another device moves, as ``x[index]``'s
    does); a TypeError unless it is an int64 Tensor, or an int32 one where ``int32`` (the
    dtypes PyTorch's op takes: ``take``, ``put``, ``index_copy``, ``index_fill`` and
    ``take_along_dim`` take int64 alone)."""
    if not isinstance(index, Tensor):
        raise TypeError(f"{what}: index must be a Tensor of integers (int64), got "
                        f"{type(index).__name__}")
    if index.dtype != np.int64 and not (int32 and index.dtype == np.int32):
        raise DTypeError(f"{what}: index must hold int64{' or int32' * int32} integers, got "
                         f"{index.dtype}")
    if index._dev is x._dev:
        return index._data
    return x._dev.to_device(index._dev.to_host(index._data))


def _check_in_range(what: str, index: Any, n: int, axis: int) -> None:
    """A ValueError naming the first value of ``index`` outside [0, n) (negative values too,
    as PyTorch: they do not count from the end here). One device sync, as ``check_index``."""
    if not index.size:
        return
    bad = (index < 0) | (index >= n)
    if bool(bad.any()):
        v = int(index[bad][0])
        raise ValueError(f"{what}: index {v} is out of bounds for dim {axis} with size {n} "
                         f"(the index must lie in [0, {n}))")


@torch_names
def gather(x: Tensor, axis: int, index: Tensor, *, sparse_grad: bool = False) -> Tensor:
    """``out[i][j][k] = x[index[i][j][k]][j][k]`` for axis 0 (and so on), as ``torch.gather``:
    ``index`` is an integer tensor with as many dimensions as x, ``index.size(d) <=
    x.size(d)`` for every d != axis, and the result has index's shape and x's dtype. The
    values are differentiable (a gather: the gradient is scatter-added back, an element picked
    twice getting both). A 0-d tensor counts as one of shape (1,), and an empty index gives
    an empty result without further checks, both as PyTorch. ``sparse_grad=False`` is
    taken for PyTorch's sake; True (a sparse gradient for x) is refused: it is dense here."""
    if sparse_grad:
        raise ValueError("gather: sparse_grad=True is not supported (x's gradient is a dense "
                         "tensor here); leave it False")
    ax = _sort_axis("gather", axis, x.ndim)
    a = _index_array("gather", index, x)
    if not a.size:
        return x.reshape(-1)[0:0].reshape(a.shape)
    if max(a.ndim, 1) != max(x.ndim, 1):
        raise ValueError(f"gather: index of shape {tuple(a.shape)} must have as many dimensions "
                         f"as x, of shape {x.shape}")
    shape, ishape = x.shape or (1,), a.shape or (1,)
    for d, (m, n) in enumerate(zip(ishape, shape)):
        if d != ax and m > n:
            raise ValueError(f"gather: index of shape {tuple(a.shape)} is larger than x, of "
                             f"shape {x.shape}, at dim {d}: index.size(d) <= x.size(d) for "
                             f"every d != dim ({ax})")
    _check_in_range("gather", a, shape[ax], ax)
    values = _take_along(x.reshape(shape) if not x.ndim else x, a.reshape(ishape), ax).values
    return values if values.shape == a.shape else values.reshape(a.shape)


@torch_names
def index_select(x: Tensor, axis: int, index: Tensor) -> Tensor:
    """The slices of ``x`` at the positions ``index`` (1-D, or 0-d as one position) along
    ``axis``, in that order, repeats allowed, as ``torch.index_select``: x's shape with
    ``len(index)`` at ``axis``. Differentiable in x (the gradient is scatter-added back). A
    0-d x takes one index, 0, and gives itself."""
    ax = _sort_axis("index_select", axis, x.ndim)
    a = _index_array("index_select", index, x)
    if a.ndim > 1:
        raise ValueError(f"index_select: index must be 1-D (or 0-d), got shape "
                         f"{tuple(a.shape)}")
    a = a.reshape(-1)
    if not x.ndim:
        if a.size != 1:
            raise ValueError(f"index_select: a 0-d tensor takes an index of one element, got "
                             f"{a.size}")
        _check_in_range("index_select", a, 1, ax)
        return GetItem.apply(x.reshape(1), index=(a,), in_range=True).reshape(())
    _check_in_range("index_select", a, x.shape[ax], ax)
    return GetItem.apply(x, index=(slice(None),) * ax + (a,), in_range=True)


def masked_select(x: Tensor, mask: Tensor) -> Tensor:
    """The elements of ``x`` where the bool ``mask`` is True, as a 1-D tensor in row-major
    order, as ``torch.masked_select``: x and mask broadcast together first. Differentiable in
    x (the gradient goes back to the picked elements, and is summed over a broadcast)."""
    if not isinstance(mask, Tensor):
        raise TypeError(f"masked_select: mask must be a bool Tensor, got {type(mask).__name__}")
    if mask.dtype != np.bool_:
        raise DTypeError(f"masked_select: the mask must be bool, got {mask.dtype}")
    try:
        shape = np.broadcast_shapes(x.shape, mask.shape)
    except ValueError:
        raise ValueError(f"masked_select: a mask of shape {mask.shape} and x of shape "
                         f"{x.shape} do not broadcast together") from None
    xp = x._dev.xp
    m = mask._data if mask._dev is x._dev else x._dev.to_device(mask._dev.to_host(mask._data))
    if m.shape != shape:
        m = xp.broadcast_to(m, shape)
    xb = x if x.shape == shape else x.broadcast_to(shape)
    return GetItem.apply(xb.reshape(-1), index=m.reshape(-1), in_range=True)


# ---- scatter, scatter_add, repeat_interleave, unfold ---------------------------------------


class Scatter(Function):
    """y = x with the elements of src written along ``axis`` at ``index`` (src and index of one
    shape): for axis 0, ``y[index[i][j]][j] = src[i][j]``. Where several elements of index
    name one position, the last of them in row-major order (the last along the axis) is the
    one written and the others are lost (PyTorch leaves this unspecified; its CPU kernel
    also keeps the last).

    VJP: gx = gy with 0 at the written positions; gsrc = gy at the position each element of
    src went to, and 0 for an element overwritten by a later one (it changes nothing, so its
    gradient is 0; PyTorch gives every duplicate gy there).  Saves the flat positions written,
    which elements of src were kept, and a mask of the elements of x kept.
    """

    def forward(self, x: Any, src: Any, index: Any, axis: int) -> Any:
        xp = self.xp
        at = _flat(_positions(xp, index, axis), x.shape)
        win = _last_writes(xp, at)
        y, keep = x.reshape(-1).copy(), xp.ones(x.size, dtype=bool)
        y[at[win]] = src[win]  # each position once: the order of writes cannot matter
        keep[at] = False
        self.at, self.win, self.keep = at, win, keep.reshape(x.shape)
        return y.reshape(x.shape)

    def backward(self, gy: Any) -> Any:
        xp = self.xp
        return xp.where(self.keep, gy, 0), xp.where(self.win, gy.reshape(-1)[self.at], 0)


def _flat(at: tuple[Any, ...], shape: tuple[int, ...]) -> Any:
    """The row-major flat position of each coordinate in ``at`` (``_positions``) in ``shape``:
    one int array of their broadcast shape."""
    flat, stride = 0, 1
    for a, n in zip(reversed(at), reversed(shape)):
        flat, stride = flat + a * stride, stride * n
    return flat


def _last_writes(xp: Any, at: Any) -> Any:
    """A bool mask of ``at``'s shape: True for the last (row-major) of the elements that hold
    each value. A stable sort puts equal positions side by side in their order; the last of
    each run is the one whose successor differs."""
    flat = at.reshape(-1)
    order = xp.argsort(flat, kind="stable")
    s = flat[order]
    last = xp.ones(flat.shape, dtype=bool)
    last[:-1] = s[1:] != s[:-1]
    win = xp.zeros(flat.shape, dtype=bool)
    win[order] = last
    return win.reshape(at.shape)


def _unwritten(x: Tensor, src: Tensor) -> Tensor:
    """x, copied, for a scatter with an empty index: still a result of src, as PyTorch's, so
    src gets a gradient of zeros rather than None (x - 0 keeps the sign of a zero)."""
    if not src.requires_grad:
        return x.clone()
    return x - src.reshape(-1)[0:0].sum()


def _scatter_args(what: str, x: Tensor, axis: Any, index: Any, src: Any) -> Any:
    """(axis, index array, src) checked as PyTorch checks them, before anything is computed:
    index holds integers and has as many dims as x and src (a 0-d tensor counting as one of
    shape (1,)); index.size(d) <= src.size(d) for every d and <= x.size(d) for d != axis;
    its values lie in [0, x.size(axis)); src has x's dtype. A number src becomes a constant
    tensor. None for the index when it is empty: then nothing is written (and, as in
    PyTorch, no sizes are checked)."""
    ax = _sort_axis(what, axis, x.ndim)
    a = _index_array(what, index, x)
    if isinstance(src, Tensor):
        if src.dtype != x.dtype:
            raise DTypeError(f"{what}: src's dtype {src.dtype} differs from x's {x.dtype} (they "
                             "must match)")
    elif isinstance(src, (bool, int, float, np.bool_, np.number)) and what == "scatter":
        src = Tensor._wrap(x._dev.xp.full(a.shape, src, dtype=x.dtype), x._dev)
    else:
        raise TypeError(f"{what}: src must be a Tensor{' or a number' * (what == 'scatter')}, "
                        f"got {type(src).__name__}")
    if not a.size:
        return ax, None, src
    if not max(a.ndim, 1) == max(x.ndim, 1) == max(src.ndim, 1):
        raise ValueError(f"{what}: index of shape {tuple(a.shape)} must have as many dimensions "
                         f"as x, of shape {x.shape}, and src, of shape {src.shape}")
    ishape, shape, sshape = a.shape or (1,), x.shape or (1,), src.shape or (1,)
    for d, (m, n, k) in enumerate(zip(ishape, shape, sshape)):
        if m > k or (d != ax and m > n):
            raise ValueError(f"{what}: index of shape {tuple(a.shape)} is larger than src, of "
                             f"shape {src.shape}, or than x, of shape {x.shape}, at dim {d}: "
                             f"index.size(d) <= src.size(d) for every d, and <= x.size(d) for "
                             f"every d != dim ({ax})")
    _check_in_range(what, a, shape[ax], ax)
    src = src.reshape(sshape)
    if sshape != ishape:  # only the part of src that index covers is written
        src = GetItem.apply(src, index=tuple(slice(0, m) for m in ishape))
    return ax, a.reshape(ishape), src


@torch_names
def scatter(x: Tensor, axis: int, index: Tensor, src: Tensor | float | None = None,
            reduce: str | None = None, *, value: float | None = None) -> Tensor:
    """x with the elements of ``src`` (or the number ``value``) written along ``axis`` at
    ``index``, out of place, as ``torch.scatter``: for axis 0, ``y[index[i][j]][j] =
    src[i][j]`` (``Scatter``). ``reduce="add"`` adds them instead (``scatter_add``),
    ``reduce="multiply"`` multiplies x by them. Duplicate positions: without ``reduce`` the
    last along the axis wins and only it gets a gradient; with it every one counts.
    Differentiable in x and src (PyTorch's ``reduce`` is not); where src is larger than
    index, the part index does not reach gets gradient 0 (PyTorch raises in backward). A 0-d
    tensor counts as one of shape (1,)."""
    if (src is None) == (value is None):
        raise TypeError("scatter: give src (a Tensor or a number) or value (a number), not "
                        "both or neither")
    if reduce not in (None, "add", "multiply"):
        raise ValueError(f"scatter: reduce must be None, 'add' or 'multiply', got {reduce!r}")
    ax, a, s = _scatter_args("scatter", x, axis, index, value if src is None else src)
    if a is None:
        return _unwritten(x, s)
    if reduce == "add":
        return _scatter_added(x, ax, a, s)
    x1 = x.reshape(x.shape or (1,))
    if reduce == "multiply":
        return _scatter_multiply(x1, ax, a, s).reshape(x.shape)
    return Scatter.apply(x1, s, index=a, axis=ax).reshape(x.shape)


def _scatter_added(x: Tensor, axis: int, index: Any, src: Tensor) -> Tensor:
    """x + zeros with src added along ``axis`` at ``index`` (an ``IndexScatter``, whose
    gradient gathers gy at index)."""
    shape = x.shape or (1,)
    at = _positions(x._dev.xp, index, axis)
    return (x.reshape(shape) + IndexScatter.apply(src, index=at, shape=shape)).reshape(x.shape)


def _scatter_multiply(x: Tensor, axis: int, index: Any, src: Tensor) -> Tensor:
    """x times, at each position p along ``axis``, the product of the elements of src that
    index sends to p: ``factor[..., p, ...] = Π_i (src[..., i, ...] if index[..., i, ...] == p
    else 1)``, a ``prod`` over index's axis with the m candidate positions p on a new axis
    (index.size · m elements). Made of differentiable ops, so it has gradients, exact where
    src holds zeros (as ``Prod``'s)."""
    from .elementwise import where
    from .reduce import prod

    xp, m = x._dev.xp, x.shape[axis]
    p = xp.arange(m).reshape((m,) + (1,) * (index.ndim - axis - 1))
    hit = xp.expand_dims(index, axis + 1) == p  # (..., i, p, ...): index[..., i, ...] == p
    factor = prod(where(hit, src.unsqueeze(axis + 1), 1), axis)  # index's shape, m at axis
    part = tuple(slice(0, n) for n in factor.shape)  # the part of x that index can reach
    return SetItem.apply(x, GetItem.apply(x, index=part) * factor, index=part)


@torch_names
def scatter_add(x: Tensor, axis: int, index: Tensor, src: Tensor) -> Tensor:
    """x with the elements of ``src`` added along ``axis`` at ``index``, as
    ``torch.scatter_add``: for axis 0, ``y[index[i][j]][j] += src[i][j]``, duplicates adding
    up. Written as x + ``IndexScatter``(src), so gx = gy and gsrc = gy gathered at index.
    Index and src are checked as ``scatter``'s."""
    ax, a, s = _scatter_args("scatter_add", x, axis, index, src)
    return _unwritten(x, s) if a is None else _scatter_added(x, ax, a, s)


def _int_arg(what: str, name: str, v: Any) -> int:
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
        raise TypeError(f"{what}: {name} must be an int, got {type(v).__name__}")
    return int(v)


@torch_names
def repeat_interleave(x: Tensor, repeats: int | Tensor, axis: int | None = None) -> Tensor:
    """Each slice of ``x`` along ``axis`` repeated in place, as ``torch.repeat_interleave``:
    ``repeats`` is an int, or an integer tensor of one element or one per slice (``[1, 0,
    2]`` keeps the first once, drops the second, doubles the third); ``axis=None`` flattens
    x first. One ``GetItem`` of the repeated positions, so the gradient of a slice is the sum
    of its copies' gradients. The result's size depends on the repeats, so a tensor of them
    is read on the host (one device sync, as PyTorch's)."""
    if axis is None:
        x, ax = x.reshape(-1), 0
    elif not x.ndim:  # as PyTorch
        raise ValueError(f"repeat_interleave: a 0-d tensor takes dim=None, got dim={axis}")
    else:
        ax = _sort_axis("repeat_interleave", axis, x.ndim)
    n = x.shape[ax]
    if isinstance(repeats, Tensor):
        if repeats.dtype.kind not in "iu":
            raise DTypeError(f"repeat_interleave: repeats must hold integers, got "
                             f"{repeats.dtype}")
        if repeats.ndim > 1:
            raise ValueError(f"repeat_interleave: repeats must be 0-d or 1-D, got shape "
                             f"{repeats.shape}")
        r = repeats._dev.to_host(repeats._data).reshape(-1).astype(np.int64)
        if r.size != 1 and r.size != n:
            raise ValueError(f"repeat_interleave: {r.size} repeats for {n} slices along dim "
                             f"{ax} of x, of shape {x.shape} (one each, or one for all)")
    else:
        r = np.array([_int_arg("repeat_interleave", "repeats", repeats)])
    if (r < 0).any():
        raise ValueError(f"repeat_interleave: repeats must not be negative, got {int(r.min())}")
    at = x._dev.to_device(np.repeat(np.arange(n), r if r.size == n else r[0]))
    return GetItem.apply(x, index=(slice(None),) * ax + (at,), in_range=True)


def unfold(x: Tensor, dimension: int, size: int, step: int) -> Tensor:
    """The windows of ``size`` elements along ``dimension``, one every ``step``, as a new last
    axis, as ``torch.Tensor.unfold``: x of shape (..., n, ...) gives (..., (n - size) //
    step + 1, ..., size), window w holding elements w·step ... w·step + size - 1. One
    ``GetItem`` (a copy, where PyTorch's is a view), so where windows overlap an element's
    gradient is the sum of its copies'. A 0-d tensor counts as one of shape (1,)."""
    ax = _sort_axis("unfold", dimension, x.ndim)
    size, step = _int_arg("unfold", "size", size), _int_arg("unfold", "step", step)
    n = x.shape[ax] if x.ndim else 1
    if size < 0 or step <= 0:
        raise ValueError(f"unfold: size must be >= 0 and step > 0, got size={size}, "
                         f"step={step}")
    if size > n:
        raise ValueError(f"unfold: size {size} is larger than dimension {dimension} of x, of "
                         f"shape {x.shape}, which has {n} elements")
    xp, count = x._dev.xp, (n - size) // step + 1
    at = xp.arange(count).reshape(count, 1) * step + xp.arange(size)  # (windows, size)
    y = GetItem.apply(x if x.ndim else x.reshape(1), index=(slice(None),) * ax + (at,),
                      in_range=True)  # (..., windows, size, ...): move size to the end
    if not x.ndim:
        return y.reshape(size)
    return Transpose.apply(y, axes=(*range(ax + 1), *range(ax + 2, y.ndim), ax + 1))


# ---- tr.flip, tr.mm, tr.bmm: module-level names of Tensor methods, as torch's --------------


def flip(x: Tensor, *axes: Any, dims: Sequence[int] | None = None) -> Tensor:
    """``x.flip(dims)``: x reversed along each of the given axes, as ``torch.flip``."""
    return x.flip(*axes, dims=dims)


def mm(a: Tensor, b: Tensor) -> Tensor:
    """``a.mm(b)``: the product of two matrices (2-D only), as ``torch.mm``."""
    return a.mm(b)


def bmm(a: Tensor, b: Tensor) -> Tensor:
    """``a.bmm(b)``: batched products of two 3-D tensors, as ``torch.bmm``."""
    return a.bmm(b)


# ---- diagonals, index_add and index_fill, unique and bincount ------------------------------


def _diagonal_index(xp: Any, shape: tuple[int, ...], offset: int, d1: int, d2: int
                    ) -> tuple[tuple[Any, ...], int]:
    """(index, at): ``x[index]`` holds the ``offset``-th diagonal of axes d1 and d2 at axis
    ``at`` of the result (NumPy puts the axis of two index arrays where the first of them
    was when they are neighbours, else first)."""
    r0, c0 = max(-offset, 0), max(offset, 0)
    n = max(0, min(shape[d1] - r0, shape[d2] - c0))
    index: list[Any] = [slice(None)] * len(shape)
    index[d1], index[d2] = xp.arange(r0, r0 + n), xp.arange(c0, c0 + n)
    return tuple(index), min(d1, d2) if abs(d1 - d2) == 1 else 0


def take_diagonal(x: Tensor, index: tuple[Any, ...], at: int) -> Tensor:
    """``x[index]`` (a gather) with its axis ``at`` moved last: a diagonal's values."""
    y = GetItem.apply(x, index=index, in_range=True)
    if at == y.ndim - 1:
        return y
    return Transpose.apply(y, axes=(*range(at), *range(at + 1, y.ndim), at))


def diagonal(x: Tensor, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
    """The ``offset``-th diagonal (above the main one for offset > 0, below for < 0) of the
    matrices in axes ``dim1`` and ``dim2`` of ``x``, as a new last axis, the other axes in
    order, as ``torch.diagonal``: ``y[..., i] = x[..., i + max(-offset, 0), ..., i +
    max(offset, 0), ...]``, empty where the offset passes the matrix. One gather, so the
    gradient goes back to the diagonal; a view (kind "diagonal"), so a write into it reaches
    x, as PyTorch's."""
    from ..tensor import _view

    if x.ndim < 2:
        raise ValueError(f"diagonal: x needs at least 2 axes, got shape {x.shape}")
    d1, d2 = _sort_axis("diagonal", dim1, x.ndim), _sort_axis("diagonal", dim2, x.ndim)
    if d1 == d2:
        raise ValueError(f"diagonal: dim1 and dim2 name one axis ({dim1}, {dim2}); give two")
    offset = _int_arg("diagonal", "offset", offset)
    index, at = _diagonal_index(x._dev.xp, x.shape, offset, d1, d2)
    return _view(x, take_diagonal(x, index, at), "diagonal", (index, at))


def diag(x: Tensor, diagonal: int = 0) -> Tensor:
    """As ``torch.diag``: a 1-D x of n elements gives the square matrix of side n +
    |diagonal| with x on its ``diagonal``-th diagonal and zeros elsewhere (``IndexScatter``,
    whose gradient picks the diagonal of gy); a 2-D x gives a copy of its ``diagonal``-th
    diagonal (``diagonal``)."""
    k = _int_arg("diag", "diagonal", diagonal)
    if x.ndim == 2:
        return take_diagonal(x, *_diagonal_index(x._dev.xp, x.shape, k, 0, 1))
    if x.ndim != 1:
        raise ValueError(f"diag: x must be 1-D (a diagonal) or 2-D (a matrix), got shape "
                         f"{x.shape}")
    xp, n = x._dev.xp, x.shape[0]
    side = n + abs(k)
    rows, cols = xp.arange(n) + max(-k, 0), xp.arange(n) + max(k, 0)
    return IndexScatter.apply(x, index=(rows, cols), shape=(side, side))


def _index_1d(what: str, index: Any, x: Tensor, n: int, axis: int, int32: bool = True
              ) -> Any:
    """``index`` as a 1-D array of positions in [0, n) on x's device (a 0-d index is one
    position), checked."""
    a = _index_array(what, index, x, int32)
    if a.ndim > 1:
        raise ValueError(f"{what}: index must be 1-D (or 0-d), got shape {tuple(a.shape)}")
    a = a.reshape(-1)
    _check_in_range(what, a, n, axis)
    return a


@torch_names
def index_add(x: Tensor, axis: int, index: Tensor, source: Tensor, *, alpha: Any = 1
              ) -> Tensor:
    """x with ``alpha * source`` added at the positions ``index`` (1-D) along ``axis``, as
    ``torch.index_add``: for axis 0, ``y[index[i]] += alpha * source[i]``, repeated
    positions adding up. ``source`` has x's dtype and shape but ``len(index)`` along
    ``axis``. Written as x + ``IndexScatter``(alpha source), so gx = gy and gsource = alpha
    gy[index]."""
    ax = _sort_axis("index_add", axis, x.ndim)
    if not isinstance(source, Tensor):
        raise TypeError(f"index_add: source must be a Tensor, got {type(source).__name__}")
    if source.dtype != x.dtype:
        raise DTypeError(f"index_add: source's dtype {source.dtype} differs from x's {x.dtype} "
                         "(they must match, as in PyTorch)")
    shape = x.shape or (1,)
    a = _index_1d("index_add", index, x, shape[ax], ax)
    expected = shape[:ax] + (a.size,) + shape[ax + 1:]
    if (source.shape or (1,)) != expected:
        raise ValueError(f"index_add: source of shape {source.shape} does not fit x of shape "
                         f"{x.shape} and {a.size} indices along dim {ax}: expected shape "
                         f"{expected}")
    s = source.reshape(expected)
    if not (isinstance(alpha, (int, float)) and alpha == 1):
        s = s * alpha
    added = IndexScatter.apply(s, index=(slice(None),) * ax + (a,), shape=shape)
    return (x.reshape(shape) + added).reshape(x.shape)


@torch_names
def index_fill(x: Tensor, axis: int, index: Tensor, value: Any) -> Tensor:
    """x with ``value`` (a number or a 0-d tensor) at the positions ``index`` (1-D) along
    ``axis``, as ``torch.index_fill``: for axis 0, ``y[index[i]] = value``. A
    ``masked_fill`` with the mask of those positions, so gx = gy elsewhere, and a value that
    requires grad gets the sum of gy over the filled elements (each counted once)."""
    ax = _sort_axis("index_fill", axis, x.ndim)
    if isinstance(value, Tensor) and value.ndim:
        raise ValueError(f"index_fill: value must be a number or a 0-d tensor, got shape "
                         f"{value.shape}")
    n = x.shape[ax] if x.ndim else 1
    a = _index_array("index_fill", index, x, int32=False)
    if a.ndim > 1:
        raise ValueError(f"index_fill: index must be 1-D (or 0-d), got shape "
                         f"{tuple(a.shape)}")
    a = a.reshape(-1)
    bad = (a < -n) | (a >= n)
    if a.size and bool(bad.any()):  # a negative one counts from the end, as PyTorch's
        raise ValueError(f"index_fill: index {int(a[bad][0])} is out of range for dim {ax} "
                         f"with size {n} (it must lie in [-{n}, {n}))")
    a = a + n * (a < 0)
    xp = x._dev.xp
    hit = xp.zeros(n, dtype=bool)
    hit[a] = True
    mask = hit.reshape((n,) + (1,) * (x.ndim - ax - 1) if x.ndim else ())
    return x.masked_fill(Tensor._wrap(mask, x._dev), value)


@torch_names
def unique(x: Tensor, sorted: bool = True, return_inverse: bool = False,  # noqa: A002
           return_counts: bool = False, axis: int | None = None) -> Any:
    """The distinct elements of ``x`` (flattened), in ascending order, as ``torch.unique``;
    with ``axis`` (PyTorch's ``dim=``), the distinct slices along it, in lexicographic order.
    ``return_inverse`` adds, for each element (slice), the position of its value in the
    result (x's shape; with ``axis``, one per slice), ``return_counts`` how often each value
    occurs, both int64. The result is always sorted (PyTorch may leave ``sorted=False``
    unsorted); NaNs stay distinct, as PyTorch's. Its size depends on the values, so it is
    computed on the host (one copy from the device and back); never differentiable."""
    _flag("unique", "sorted", sorted)
    _flag("unique", "return_inverse", return_inverse)
    _flag("unique", "return_counts", return_counts)
    h = x.numpy()
    if axis is None:
        values, inverse, counts = np.unique(h.reshape(-1), return_inverse=True,
                                            return_counts=True, equal_nan=False)
        inverse = inverse.reshape(x.shape)
    else:
        if not x.ndim:
            raise ValueError("unique: a 0-d tensor has no dim to take slices along (give "
                             "dim=None)")
        ax = _sort_axis("unique", axis, x.ndim)
        values, inverse, counts = np.unique(h, return_inverse=True, return_counts=True,
                                            axis=ax)
        inverse = inverse.reshape(-1)
    out = [Tensor._wrap(x._dev.to_device(values.astype(x.dtype, copy=False)), x._dev)]
    if return_inverse:
        out.append(Tensor._wrap(x._dev.to_device(inverse.astype(np.int64)), x._dev))
    if return_counts:
        out.append(Tensor._wrap(x._dev.to_device(counts.astype(np.int64)), x._dev))
    return out[0] if len(out) == 1 else tuple(out)


def bincount(x: Tensor, weights: Tensor | None = None, minlength: int = 0) -> Tensor:
    """How often each value 0, 1, ..., max(x) occurs in the 1-D tensor ``x`` of integers >=
    0 (at least ``minlength`` counts), as ``torch.bincount``: int64; with ``weights`` (x's
    shape) the sum of the weights at each value's places instead, of weights' dtype if it
    is floating (float64 for integer weights). The weighted counts are an ``IndexScatter``
    of the weights, so they are differentiable in them (PyTorch's are not). The length
    depends on max(x): one device sync."""
    if not isinstance(x, Tensor) or x.dtype.kind not in "iu" or x.ndim != 1:
        raise ValueError(f"bincount: x must be a 1-D tensor of integers >= 0, got "
                         f"{getattr(x, 'shape', type(x).__name__)} of "
                         f"{getattr(x, 'dtype', '')}")
    minlength = _int_arg("bincount", "minlength", minlength)
    if minlength < 0:
        raise ValueError(f"bincount: minlength must be >= 0, got {minlength}")
    xp, a = x._dev.xp, x._data
    n = minlength
    if a.size:
        lo, hi = (int(v) for v in x._dev.to_host(xp.stack([a.min(), a.max()])))
        if lo < 0:
            raise ValueError(f"bincount: x must hold integers >= 0, got {lo}")
        n = max(n, hi + 1)
    if weights is None:
        counts = xp.zeros(n, dtype=np.int64)
        _add_at(xp, counts, a, 1)
        return Tensor._wrap(counts, x._dev)
    if not isinstance(weights, Tensor) or weights.shape != x.shape:
        raise ValueError(f"bincount: weights must be a tensor of x's shape {x.shape}, got "
                         f"{getattr(weights, 'shape', type(weights).__name__)}")
    w = weights if weights.dtype.kind == "f" else weights.to(dtype=np.float64)
    if w._dev is not x._dev:
        raise ValueError(f"bincount: weights on {w.device!r}, x on {x.device!r}")
    return IndexScatter.apply(w, index=(a,), shape=(n,))


# ---- scatter_reduce, index_put, masked_scatter, take_along_dim ------------------------------

SCATTER_REDUCTIONS = ("sum", "prod", "mean", "amax", "amin")


@torch_names
def scatter_reduce(x: Tensor, axis: int, index: Tensor, src: Tensor, reduce: str, *,
                   include_self: bool = True) -> Tensor:
    """x with the elements of ``src`` reduced along ``axis`` into the positions ``index``
    names, as ``torch.scatter_reduce``: for axis 0, position p = ``index[i][j]`` of column j
    takes ``reduce`` ("sum", "prod", "mean", "amax" or "amin") of every ``src[i][j]`` sent
    there, and of ``x[p][j]`` itself with ``include_self`` (without it, x's value at a
    position that receives anything is left out; a position that receives nothing keeps x's
    value either way). "mean" divides by the number of values reduced (rounding down for
    integers, as PyTorch). Index and src are checked as ``scatter``'s.

    Made of differentiable ops, so the gradients are theirs, as PyTorch defines them: "sum"
    and "mean" scatter-add (``IndexScatter``) over a constant divisor; "prod" the exact
    product of ``_scatter_multiply`` (right with zeros); "amax"/"amin" a ``Max`` over a new
    axis of candidates (index.size · x.size(axis) elements), which splits the gradient
    evenly between the tied maxima, x's own value included, as PyTorch's (which, without
    ``include_self``, also counts x's value in the split where it ties, then drops its
    share; here it is not counted)."""
    from .elementwise import where
    from .reduce import Max

    if reduce not in SCATTER_REDUCTIONS:
        raise ValueError(f"scatter_reduce: reduce must be one of {', '.join(SCATTER_REDUCTIONS)}"
                         f", got {reduce!r}")
    include_self = _flag("scatter_reduce", "include_self", include_self)
    if x.dtype.kind == "b" and reduce != "sum":
        raise DTypeError(f"scatter_reduce: reduce={reduce!r} takes numbers, not bool tensors")
    ax, a, s = _scatter_args("scatter_reduce", x, axis, index, src)
    if a is None:
        return _unwritten(x, s)
    x1 = x.reshape(x.shape or (1,))
    xp, shape = x._dev.xp, x1.shape
    at = _positions(xp, a, ax)
    count = _scatter_array(xp, xp.ones(a.shape, dtype=np.int64), at, shape)
    hit = Tensor._wrap(count > 0, x._dev)
    if reduce in ("sum", "mean"):
        base = x1 if include_self else where(hit, x1.new_zeros(()), x1)
        out = base + IndexScatter.apply(s, index=at, shape=shape)
        if reduce == "mean":
            n = xp.maximum(count + int(include_self), 1)
            out = out // Tensor._wrap(n.astype(x.dtype), x._dev) if x.dtype.kind in "iu" \
                else out / Tensor._wrap(n.astype(x.dtype), x._dev)
    elif reduce == "prod":
        base = x1 if include_self else where(hit, x1.new_ones(()), x1)
        out = _scatter_multiply(base, ax, a, s)
    else:
        m = shape[ax]
        p = xp.arange(m).reshape((m,) + (1,) * (a.ndim - ax - 1))
        sent = Tensor._wrap(xp.expand_dims(a, ax + 1) == p, x._dev)  # (..., i, p, ...)
        if x.dtype.kind == "f":
            none = -np.inf if reduce == "amax" else np.inf
        else:
            info = np.iinfo(x.dtype)
            none = info.min if reduce == "amax" else info.max
        candidates = where(sent, s.unsqueeze(ax + 1), none)
        part = tuple(slice(0, n) if d != ax else slice(None) for d, n in enumerate(a.shape))
        xpart = GetItem.apply(x1, index=part)
        if include_self:
            candidates = cat([xpart.unsqueeze(ax), candidates], ax)
        best = Max.apply(candidates, axis=ax, keepdims=False, smallest=reduce == "amin")
        new = where(Tensor._wrap(count[part] > 0, x._dev), best, xpart)
        out = SetItem.apply(x1, new, index=part)
    return out.reshape(x.shape)


def index_put(x: Tensor, indices: Sequence[Any], values: Any, accumulate: bool = False
              ) -> Tensor:
    """x with ``values`` (broadcast) put at ``x[indices]``, out of place, as
    ``torch.index_put``: ``indices`` is a tuple of index tensors (integer or bool, or None for
    a whole axis), one per leading axis, as they would be written in ``x[i0, i1, ...]``. With
    ``accumulate``, the values are added there instead, an element named twice getting both
    (x + an ``IndexScatter``); without it, an element named twice gets the last value
    (PyTorch leaves it unspecified). Differentiable in x and values; every index is checked
    before anything is computed."""
    from ..tensor import _normalize_index

    if not isinstance(indices, (tuple, list)):
        raise TypeError(f"index_put: indices must be a tuple of Tensors, got "
                        f"{type(indices).__name__}")
    for k, i in enumerate(indices):
        if i is not None and not (isinstance(i, Tensor) and i.dtype in (
                np.int64, np.int32, np.bool_, np.uint8)):  # (uint8: a mask, deprecated)
            raise DTypeError(f"index_put: indices[{k}] must be a Tensor of integers or bools "
                             f"(int64, int32, bool; or None), got "
                             f"{getattr(i, 'dtype', type(i).__name__)}")
    if len(indices) > max(x.ndim, 1):
        raise ValueError(f"index_put: {len(indices)} indices for a tensor of {x.ndim} dims")
    v = values if isinstance(values, Tensor) else x._lift(values)
    if v.dtype != x.dtype:
        raise DTypeError(f"index_put: values' dtype {v.dtype} differs from x's {x.dtype} (they "
                         "must match, as in PyTorch)")
    if v._dev is not x._dev:
        raise ValueError(f"index_put: values on {v.device!r}, x on {x.device!r}")
    index = tuple(slice(None) if i is None else i for i in indices)
    if not accumulate:
        out = x.clone()
        out[index] = v
        return out
    xp = x._dev.xp
    idx = _normalize_index(index, x._dev, x.ndim)
    try:
        if isinstance(idx, IntsFirst):
            part = x._data[idx.first]
            idx = idx._replace(then=check_index(xp, idx.then, part.shape, idx.first))
        else:
            idx = check_index(xp, idx, x.shape)
        target = _pick(x._data, idx).shape
        if np.broadcast_shapes(v.shape, target) != target:
            raise ValueError(f"values of shape {v.shape} do not broadcast to {target}")
    except (IndexError, ValueError) as e:
        kind = OpIndexError if isinstance(e, IndexError) else OpError
        raise kind(f"index_put: the indices or values do not fit x of shape {x.shape}: "
                   f"{e}") from None
    vb = v if v.shape == target else v.broadcast_to(target)
    return x + IndexScatter.apply(vb, index=idx, shape=x.shape)


def masked_scatter(x: Tensor, mask: Tensor, source: Tensor) -> Tensor:
    """x with the elements where the bool ``mask`` is True replaced, in row-major order, by
    the first elements of ``source`` (flattened), as ``torch.masked_scatter``: x and mask
    broadcast together. A ``SetItem`` at the mask, so x's gradient passes where the mask is
    False, and source's first k elements (k the number of True) get the gradient of the
    places they went to, the rest 0. One device sync (k)."""
    if not isinstance(mask, Tensor) or mask.dtype != np.bool_:
        raise TypeError(f"masked_scatter: mask must be a bool Tensor, got "
                        f"{getattr(mask, 'dtype', type(mask).__name__)}")
    if not isinstance(source, Tensor):
        raise TypeError(f"masked_scatter: source must be a Tensor, got {type(source).__name__}")
    if source.dtype != x.dtype:
        raise DTypeError(f"masked_scatter: source's dtype {source.dtype} differs from x's "
                         f"{x.dtype} (they must match, as in PyTorch)")
    for name, t in (("mask", mask), ("source", source)):
        if t._dev is not x._dev:
            raise ValueError(f"masked_scatter: {name} on {t.device!r}, x on {x.device!r}")
    try:
        shape = np.broadcast_shapes(x.shape, mask.shape)
    except ValueError:
        raise ValueError(f"masked_scatter: a mask of shape {mask.shape} and x of shape "
                         f"{x.shape} do not broadcast together") from None
    xp = x._dev.xp
    m = mask._data if mask.shape == shape else xp.broadcast_to(mask._data, shape)
    k = int(m.sum())
    if source.size < k:
        raise ValueError(f"masked_scatter: the mask has {k} True elements, but source only "
                         f"{source.size} elements")
    xb = x if x.shape == shape else x.broadcast_to(shape)
    return SetItem.apply(xb, source.reshape(-1)[0:k], index=m)


@torch_names
def take_along_dim(x: Tensor, indices: Tensor, axis: int | None = None) -> Tensor:
    """The elements of x at ``indices`` along ``axis``, as ``torch.take_along_dim`` (NumPy's
    ``take_along_axis``): x and indices have as many dims and broadcast together on every
    other axis, then ``gather``. Without ``axis``, both are flattened first. Along an
    ``axis`` an index in [-n, 0) counts from the end, as PyTorch's (without one, as in its
    ``gather``, it is refused). Differentiable in x (a gather)."""
    # (PyTorch's takes int32 without an axis, where it is its gather, int64 alone with one)
    a = _index_array("take_along_dim", indices, x, int32=axis is None)
    if axis is None:
        return gather(x.reshape(-1), 0, Tensor._wrap(a.reshape(-1), x._dev))
    if not x.ndim:
        raise OpIndexError(f"take_along_dim: dim {axis} given, but x is 0-d (it has no dims)")
    ax = _sort_axis("take_along_dim", axis, x.ndim)
    n = x.shape[ax]
    a = a + n * (a < 0)
    if a.ndim != x.ndim:
        raise ValueError(f"take_along_dim: input and indices need the same number of dims, "
                         f"got shapes {x.shape} and {tuple(a.shape)}")
    try:
        ishape = np.broadcast_shapes(x.shape[:ax] + (a.shape[ax],) + x.shape[ax + 1:], a.shape)
        xshape = np.broadcast_shapes(a.shape[:ax] + (x.shape[ax],) + a.shape[ax + 1:], x.shape)
    except ValueError:
        raise ValueError(f"take_along_dim: input of shape {x.shape} and indices of shape "
                         f"{tuple(a.shape)} do not broadcast together off dim {ax}") from None
    xp = x._dev.xp
    xb = x if x.shape == xshape else x.broadcast_to(xshape)
    return gather(xb, ax, Tensor._wrap(xp.broadcast_to(a, ishape), x._dev))


# ---- tile, the stacks, diff, meshgrid, broadcasting, isin -----------------------------------


def tile(x: Tensor, dims: Sequence[int]) -> Tensor:
    """x repeated ``dims[i]`` times along each axis, as ``torch.tile``: where dims is shorter
    than x's shape, ones are put in front of it (``x.repeat`` needs one per axis); where
    longer, x gets leading axes of size 1."""
    if isinstance(dims, (int, np.integer)) and not isinstance(dims, bool):
        dims = (dims,)
    if not isinstance(dims, (tuple, list)) or not all(
            isinstance(d, (int, np.integer)) and not isinstance(d, bool) for d in dims):
        raise TypeError(f"tile: dims must be a tuple of ints, got {dims!r}")
    if any(d < 0 for d in dims):
        raise ValueError(f"tile: dims must be >= 0, got {tuple(dims)}")
    dims = (1,) * (x.ndim - len(dims)) + tuple(int(d) for d in dims)
    return x.repeat(*dims)


def _tensor_list(what: str, tensors: Any) -> list[Tensor]:
    if isinstance(tensors, Tensor) or not isinstance(tensors, (tuple, list)) or not tensors:
        raise TypeError(f"{what}: expects a non-empty list or tuple of Tensors")
    for k, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"{what}: element {k} is a {type(t).__name__}, not a Tensor")
    return list(tensors)


def atleast_1d(*tensors: Any) -> Any:
    """Each tensor with at least 1 axis (a 0-d one as shape (1,)), as ``torch.atleast_1d``;
    one tensor in, one out, else a tuple."""
    return _atleast(tensors, 1)


def atleast_2d(*tensors: Any) -> Any:
    """Each tensor with at least 2 axes: (n,) becomes (1, n), as ``torch.atleast_2d``."""
    return _atleast(tensors, 2)


def atleast_3d(*tensors: Any) -> Any:
    """Each tensor with at least 3 axes: (n,) becomes (1, n, 1) and (m, n) (m, n, 1), as
    ``torch.atleast_3d``."""
    return _atleast(tensors, 3)


def _atleast(tensors: tuple[Any, ...], k: int) -> Any:
    one = len(tensors) == 1 and isinstance(tensors[0], Tensor)
    ts = [tensors[0]] if one else _tensor_list(f"atleast_{k}d", list(
        tensors[0] if len(tensors) == 1 else tensors))
    shapes = {1: {0: (1,)}, 2: {0: (1, 1), 1: lambda s: (1,) + s},
              3: {0: (1, 1, 1), 1: lambda s: (1,) + s + (1,), 2: lambda s: s + (1,)}}[k]
    out = []
    for t in ts:
        if t.ndim >= k:
            out.append(t)
        else:
            s = shapes[t.ndim]
            out.append(t.reshape(s if isinstance(s, tuple) else s(t.shape)))
    return out[0] if one else tuple(out)


def hstack(tensors: Sequence[Tensor]) -> Tensor:
    """The tensors joined column-wise, as ``torch.hstack``: along axis 0 if they are 1-D (0-d
    ones count as 1-D), else axis 1."""
    ts = list(atleast_1d(*_tensor_list("hstack", tensors)))
    return cat(ts, 0 if ts[0].ndim == 1 else 1)


def vstack(tensors: Sequence[Tensor]) -> Tensor:
    """The tensors joined row-wise (axis 0), 1-D ones (n,) as rows (1, n), as
    ``torch.vstack``."""
    return cat(list(atleast_2d(*_tensor_list("vstack", tensors))), 0)


def dstack(tensors: Sequence[Tensor]) -> Tensor:
    """The tensors joined depth-wise (axis 2), each made at least 3-D (``atleast_3d``), as
    ``torch.dstack``."""
    return cat(list(atleast_3d(*_tensor_list("dstack", tensors))), 2)


def column_stack(tensors: Sequence[Tensor]) -> Tensor:
    """The tensors as the columns of a matrix, as ``torch.column_stack``: 0-d and 1-D tensors
    become columns (n, 1), the others are joined as they are along axis 1."""
    ts = _tensor_list("column_stack", tensors)
    return cat([t.reshape(t.size, 1) if t.ndim <= 1 else t for t in ts], 1)


@torch_names
def diff(x: Tensor, n: int = 1, axis: int = -1, prepend: Tensor | None = None,
         append: Tensor | None = None) -> Tensor:
    """The ``n``-th forward difference along ``axis``, as ``torch.diff``: y_i = x_{i+1} -
    x_i, applied n times (n = 0: x as it is), after ``prepend`` and ``append`` (tensors of
    x's number of dims, the same sizes off ``axis``) are joined to x's ends (n = 0 ignores
    them, as PyTorch). Bool tensors
    give x_{i+1} != x_i, as PyTorch's. Slices and subtraction, so differentiable."""
    n = _int_arg("diff", "n", n)
    if n < 0:
        raise ValueError(f"diff: n must be >= 0, got {n}")
    if not x.ndim:
        raise ValueError("diff: the input must have at least one dimension, got a 0-d tensor")
    ax = _sort_axis("diff", axis, x.ndim)
    if n == 0:  # x itself, without prepend and append, as PyTorch's
        return x
    parts = []
    for name, t in (("prepend", prepend), (None, x), ("append", append)):
        if t is None:
            continue
        if name is not None:
            if not isinstance(t, Tensor):
                raise TypeError(f"diff: {name} must be a Tensor, got {type(t).__name__}")
            if t.ndim != x.ndim:
                raise ValueError(f"diff: {name} must have as many dims as the input, got shape "
                                 f"{t.shape} for an input of shape {x.shape}")
        parts.append(t)
    y = parts[0] if len(parts) == 1 else cat(parts, ax)
    lead = (slice(None),) * ax
    for _ in range(n):
        hi, lo = y[(*lead, slice(1, None))], y[(*lead, slice(0, -1))]
        y = hi != lo if y.dtype.kind == "b" else hi - lo
    return y


def meshgrid(*tensors: Any, indexing: str = "ij") -> tuple[Tensor, ...]:
    """Coordinate grids from 0-d or 1-D tensors t_0, ..., t_{k-1}, as ``torch.meshgrid``:
    k tensors of shape (n_0, ..., n_{k-1}), the i-th holding t_i along axis i (broadcast:
    views, whose gradients sum back). ``indexing="xy"`` swaps the first two axes (NumPy's
    default). PyTorch warns when ``indexing`` is not given; here "ij" is the default
    without a warning."""
    if len(tensors) == 1 and isinstance(tensors[0], (tuple, list)):
        tensors = tuple(tensors[0])
    ts = _tensor_list("meshgrid", list(tensors))
    if indexing not in ("ij", "xy"):
        raise ValueError(f"meshgrid: indexing must be 'ij' or 'xy', got {indexing!r}")
    for k, t in enumerate(ts):
        if t.ndim > 1:
            raise ValueError(f"meshgrid: expects 0-d or 1-D tensors, got shape {t.shape} at "
                             f"{k}")
        if t.dtype != ts[0].dtype or t._dev is not ts[0]._dev:
            raise ValueError(f"meshgrid: all tensors need one dtype and device, got "
                             f"{ts[0].dtype} on {ts[0].device!r} and {t.dtype} on "
                             f"{t.device!r}")
    axes = list(range(len(ts)))
    if indexing == "xy" and len(ts) >= 2:
        axes[0], axes[1] = 1, 0
    shape = [0] * len(ts)
    for t, a in zip(ts, axes):
        shape[a] = t.size
    out = []
    for t, a in zip(ts, axes):
        one = [1] * len(ts)
        one[a] = t.size
        out.append(t.reshape(one).broadcast_to(tuple(shape)))
    return tuple(out)


def broadcast_shapes(*shapes: Any) -> Any:
    """The shape that tensors of ``shapes`` (each a sequence of ints, or an int for a 1-D
    shape) broadcast to, as ``torch.broadcast_shapes`` (a ``Size``)."""
    from ..tensor import Size

    norm = []
    for s in shapes:
        if isinstance(s, (int, np.integer)) and not isinstance(s, bool):
            norm.append((int(s),))
        elif isinstance(s, (tuple, list)) and all(
                isinstance(n, (int, np.integer)) and not isinstance(n, bool) for n in s):
            norm.append(tuple(int(n) for n in s))
        else:
            raise TypeError(f"broadcast_shapes: a shape is an int or a sequence of ints, got "
                            f"{s!r}")
    try:
        return Size(np.broadcast_shapes(*norm))
    except ValueError:
        raise ValueError(f"broadcast_shapes: shapes {', '.join(map(str, norm))} do not "
                         "broadcast together") from None


def broadcast_tensors(*tensors: Tensor) -> tuple[Tensor, ...]:
    """The tensors broadcast to their common shape, as ``torch.broadcast_tensors`` (views:
    the gradient of each sums back to its shape)."""
    ts = _tensor_list("broadcast_tensors", list(tensors)) if tensors else []
    shape = broadcast_shapes(*[t.shape for t in ts])
    return tuple(t if t.shape == shape else t.broadcast_to(shape) for t in ts)


def isin(elements: Any, test_elements: Any, *, assume_unique: bool = False,
         invert: bool = False) -> Tensor:
    """Whether each element of ``elements`` occurs in ``test_elements`` (bool, of elements'
    shape), as ``torch.isin``; either may be a number, not both; ``invert`` negates.
    ``assume_unique`` is accepted and changes nothing. Never differentiable."""
    ref = elements if isinstance(elements, Tensor) else test_elements
    if not isinstance(ref, Tensor):
        raise TypeError("isin: elements or test_elements must be a Tensor")
    e, t = ref._lift(elements), ref._lift(test_elements)
    if e._dev is not t._dev:
        raise ValueError(f"isin: elements on {e.device!r}, test_elements on {t.device!r}")
    xp = ref._dev.xp
    out = xp.isin(e._data, t._data, invert=_flag("isin", "invert", invert))
    return Tensor._wrap(xp.asarray(out), ref._dev)


# ---- kron, block_diag, cartesian_prod, combinations, diag_embed, diagflat, the triangle
# ---- indices, rot90, chain_matmul ---------------------------------------------------------


def _promoted(tensors: Sequence[Tensor]) -> np.dtype:
    """The dtype PyTorch's ``result_type`` gives these tensors: promoted among those with
    axes, a float dtype winning over an integer one; 0-d tensors count only where they are
    of a higher kind (bool < integer < float), as there."""

    def promote(dtypes: list[np.dtype]) -> np.dtype | None:
        floats = [d for d in dtypes if d.kind in "fc"]
        return np.result_type(*(floats or dtypes)) if dtypes else None

    rank = {"b": 0, "i": 1, "u": 1, "f": 2, "c": 3}
    dims = promote([t.dtype for t in tensors if t.ndim])
    zero = promote([t.dtype for t in tensors if not t.ndim])
    if dims is None or zero is None:
        return dims if zero is None else zero
    return promote([dims, zero]) if rank[zero.kind] > rank[dims.kind] else dims


def kron(a: Tensor, b: Tensor) -> Tensor:
    """The Kronecker product, as ``torch.kron``: for shapes (a_0, ..., a_k) and (b_0, ...,
    b_k) (the shorter padded with leading ones), out[i_0 b_0 + j_0, ...] = a[i_0, ...] b[j_0,
    ...], of shape (a_0 b_0, ..., a_k b_k). One broadcast product, reshaped: differentiable
    in both; dtypes promoted as ``*``."""
    if not isinstance(a, Tensor) or not isinstance(b, Tensor):
        raise TypeError(f"kron: two Tensors, got {type(a).__name__} and {type(b).__name__}")
    a, b = a._pair(b)
    nd = max(a.ndim, b.ndim)
    sa, sb = (1,) * (nd - a.ndim) + a.shape, (1,) * (nd - b.ndim) + b.shape
    wide = a.reshape(tuple(v for n in sa for v in (n, 1)))
    tall = b.reshape(tuple(v for n in sb for v in (1, n)))
    return (wide * tall).reshape(tuple(m * n for m, n in zip(sa, sb)))


def block_diag(*tensors: Tensor) -> Tensor:
    """The block-diagonal matrix of the given 0-d, 1-D (one row) or 2-D tensors, zeros
    elsewhere, as ``torch.block_diag``; dtypes promoted as PyTorch's (an empty call gives a
    (1, 0) float tensor, as there). Each row band is the block between zeros, joined with
    ``cat``: differentiable in every block."""
    from ..tensor import default_dtype, tensor

    if not tensors:
        return tensor(np.zeros((1, 0)), dtype=default_dtype())
    ts = _tensor_list("block_diag", list(tensors))
    for k, t in enumerate(ts):
        if t.ndim > 2:
            raise ValueError(f"block_diag: the tensors must have 2 or fewer dimensions; "
                             f"tensor {k} has shape {t.shape}")
        if t._dev is not ts[0]._dev:
            raise ValueError(f"block_diag: tensors on {ts[0].device!r} and {t.device!r}")
    dt = _promoted(ts)
    blocks = [(t if t.dtype == dt else t.to(dtype=dt)).reshape(t.shape if t.ndim == 2 else
                                                               (1, t.size)) for t in ts]
    width = sum(b.shape[1] for b in blocks)
    xp, dev = ts[0]._dev.xp, ts[0]._dev
    rows, left = [], 0
    for b in blocks:
        r, c = b.shape
        zeros = [Tensor._wrap(xp.zeros((r, k), dtype=dt), dev)
                 for k in (left, width - left - c)]
        rows.append(cat([zeros[0], b, zeros[1]], 1))
        left += c
    return cat(rows, 0)


def cartesian_prod(*tensors: Tensor) -> Tensor:
    """Every tuple of one element from each 1-D tensor, in order (the last varying fastest),
    as rows of a (n_0 ⋯ n_k, k) tensor, as ``torch.cartesian_prod``; one tensor is returned
    as it is, as there. ``meshgrid``, flattened and stacked: differentiable."""
    ts = _tensor_list("cartesian_prod", list(tensors))
    for k, t in enumerate(ts):
        if t.ndim != 1:
            raise ValueError(f"cartesian_prod: expects 1-D tensors, got shape {t.shape} at {k}")
    if len(ts) == 1:
        return ts[0]
    return stack([g.reshape(-1) for g in meshgrid(*ts)], 1)


def combinations(x: Tensor, r: int = 2, with_replacement: bool = False) -> Tensor:
    """The length-``r`` combinations of the elements of a 1-D x, in lexicographic order of
    position (``itertools.combinations``, or ``combinations_with_replacement``), as rows of
    a (count, r) tensor, as ``torch.combinations``; r = 0 gives an empty 1-D tensor (a
    constant), as there. One gather at positions made on the host: differentiable (an
    element in several rows gets every gradient)."""
    import itertools

    if not isinstance(x, Tensor) or x.ndim != 1:
        raise ValueError(f"combinations: expects a 1-D tensor, got "
                         f"{getattr(x, 'shape', type(x).__name__)}")
    r = _int_arg("combinations", "r", r)
    if r < 0:
        raise ValueError(f"combinations: r must be >= 0, got {r}")
    pick = itertools.combinations_with_replacement if _flag(
        "combinations", "with_replacement", with_replacement) else itertools.combinations
    if r == 0:  # a constant, as PyTorch's
        return Tensor._wrap(x._dev.xp.zeros(0, dtype=x.dtype), x._dev)
    index = np.fromiter(itertools.chain.from_iterable(pick(range(x.shape[0]), r)),
                        dtype=np.int64).reshape(-1, r)
    return GetItem.apply(x, index=x._dev.to_device(index), in_range=True)


def diag_embed(x: Tensor, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
    """x's last axis laid on the ``offset``-th diagonal of new square matrices in the axes
    ``dim1`` and ``dim2`` of the result (which has one axis more), zeros elsewhere, as
    ``torch.diag_embed``: ``out.diagonal(offset, dim1, dim2)`` is x. An ``IndexScatter``
    (its gradient picks the diagonal) and a ``movedim``."""
    nd = x.ndim + 1
    d1, d2 = _sort_axis("diag_embed", dim1, nd), _sort_axis("diag_embed", dim2, nd)
    if x.ndim == 0 or d1 == d2:
        raise ValueError(f"diag_embed: dim1 and dim2 must name two axes of the result (of "
                         f"{nd} axes), got {dim1} and {dim2}")
    k = _int_arg("diag_embed", "offset", offset)
    xp, n = x._dev.xp, x.shape[-1]
    side = n + abs(k)
    rows, cols = xp.arange(n) + max(-k, 0), xp.arange(n) + max(k, 0)
    lead = (slice(None),) * (x.ndim - 1)
    out = IndexScatter.apply(x, index=(*lead, rows, cols), shape=x.shape[:-1] + (side, side))
    return out.movedim((nd - 2, nd - 1), (d1, d2))


def diagflat(x: Tensor, offset: int = 0) -> Tensor:
    """The square matrix with the flattened x on its ``offset``-th diagonal, zeros elsewhere,
    as ``torch.diagflat`` (``diag`` of ``x.reshape(-1)``)."""
    return diag(x.reshape(-1), offset)


def _triangle_indices(what: str, row: int, col: int, offset: int, dtype: Any, device: Any,
                      lower: bool) -> Tensor:
    from ..tensor import resolve_dtype, tensor

    for name, v in (("row", row), ("col", col), ("offset", offset)):
        _int_arg(what, name, v)
    if row < 0 or col < 0:
        raise ValueError(f"{what}: row and col must be >= 0, got {row} and {col}")
    dt = resolve_dtype(dtype)
    if dt.kind not in "iu":
        raise DTypeError(f"{what}: dtype must be an integer dtype, got {dt} (as in PyTorch)")
    r, c = np.indices((row, col))
    keep = (c - r <= offset) if lower else (c - r >= offset)
    return tensor(np.stack([r[keep], c[keep]]).reshape(2, -1), dtype=dt,
                  device=device if device is not None else "cpu")


def tril_indices(row: int, col: int, offset: int = 0, *, dtype: Any = np.int64,
                 device: Any = None, requires_grad: bool = False) -> Tensor:
    """The (row, column) coordinates of the lower triangle of a row × col matrix (on and
    below its ``offset``-th diagonal), row by row, as a (2, N) tensor, as
    ``torch.tril_indices`` (``requires_grad`` as there: refused for integers)."""
    out = _triangle_indices("tril_indices", row, col, offset, dtype, device, True)
    return out.requires_grad_() if requires_grad else out


def triu_indices(row: int, col: int, offset: int = 0, *, dtype: Any = np.int64,
                 device: Any = None, requires_grad: bool = False) -> Tensor:
    """The coordinates of the upper triangle (on and above the ``offset``-th diagonal), as
    ``torch.triu_indices``."""
    out = _triangle_indices("triu_indices", row, col, offset, dtype, device, False)
    return out.requires_grad_() if requires_grad else out


def rot90(x: Tensor, k: int = 1, dims: Sequence[int] = (0, 1)) -> Tensor:
    """x rotated by k quarter turns in the plane of ``dims``, from the first axis towards
    the second, as ``torch.rot90`` (k < 0 turns back): flips and a transpose, so the
    gradient is turned back."""
    k = _int_arg("rot90", "k", k)
    dims = tuple(dims)
    if len(dims) != 2:
        raise ValueError(f"rot90: dims must name 2 axes, got {dims}")
    if x.ndim < 2:
        raise ValueError(f"rot90: the input needs at least 2 dims, got shape {x.shape}")
    a, b = (_sort_axis("rot90", d, x.ndim) for d in dims)
    if a == b:
        raise ValueError(f"rot90: dims must be two different axes, got {dims}")
    k %= 4
    if k == 0:
        return x.clone()
    if k == 2:
        return x.flip(a, b)
    return x.flip(b if k == 1 else a).transpose(a, b)


def chain_matmul(*matrices: Tensor) -> Tensor:
    """The product of one or more 2-D tensors of one dtype, left to right, as PyTorch's
    deprecated ``torch.chain_matmul`` (without its warning; ``tr.linalg.multi_dot`` takes a
    list); one matrix is returned as it is, as there."""
    ms = _tensor_list("chain_matmul", list(matrices))
    for k, m in enumerate(ms):
        if m.ndim != 2:
            raise ValueError(f"chain_matmul: expects 2-D tensors, tensor {k} has shape "
                             f"{m.shape}")
        if m.dtype != ms[0].dtype:
            raise DTypeError(f"chain_matmul: all tensors must have one dtype, got "
                             f"{ms[0].dtype} and {m.dtype} (as in PyTorch)")
    if len(ms) == 1:
        return ms[0]
    from ..linalg import multi_dot

    return multi_dot(ms)


# ---- searchsorted, bucketize: a binary search on the device -----------------------------


def _bisect(xp: Any, seq: Any, values: Any, right: bool) -> Any:
    """For each value, the number of elements of its row of ``seq`` (sorted along the last
    axis; 1-D for all values, else one row per leading index of ``values``) that are below
    it (``right``: not above it): PyTorch's binary search, step for step, all values at
    once, so NaNs land where they land there (the test is ``not (mid >= v)``, ``not (mid >
    v)`` for ``right``)."""
    n = seq.shape[-1]
    lo = xp.zeros(values.shape, dtype=np.int64)
    if n == 0:
        return lo
    hi = xp.full(values.shape, n, dtype=np.int64)
    for _ in range(n.bit_length()):  # each step halves every interval
        mid = lo + (hi - lo) // 2
        at = xp.minimum(mid, n - 1)
        v = seq[at] if seq.ndim == 1 else xp.take_along_axis(seq, at, axis=-1)
        up = ~(v > values) if right else ~(v >= values)
        live = lo < hi
        lo = xp.where(live & up, mid + 1, lo)
        hi = xp.where(live & ~up, mid, hi)
    return lo


def searchsorted(sorted_sequence: Tensor, input: Any, *, out_int32: bool = False,  # noqa: A002
                 right: bool = False, side: str | None = None,
                 sorter: Tensor | None = None) -> Tensor:
    """Where each value of ``input`` would go in ``sorted_sequence`` to keep it sorted, as
    ``torch.searchsorted``: the first place i with seq[i] >= v (``right=True`` or
    ``side="right"``: seq[i] > v). The sequence is 1-D, or N-D with one sorted row per
    leading index of input (whose leading axes must match). ``input`` may be a number (a
    0-d result); ``sorter`` gives the positions that sort an unsorted sequence. int64
    (``out_int32``: int32); never differentiable. Dtypes are promoted as in arithmetic."""
    seq = sorted_sequence
    if not isinstance(seq, Tensor):
        raise TypeError(f"searchsorted: sorted_sequence must be a Tensor, got "
                        f"{type(seq).__name__}")
    if seq.ndim == 0:
        raise ValueError("searchsorted: sorted_sequence must have at least one dimension "
                         "(it is 0-d)")
    if side not in (None, "left", "right"):
        raise ValueError(f"searchsorted: side must be 'left' or 'right', got {side!r}")
    if side == "left" and _flag("searchsorted", "right", right):
        raise ValueError("searchsorted: side='left' and right=True contradict each other")
    right = bool(right) or side == "right"
    values = seq._lift(input)
    if values._dev is not seq._dev:
        raise ValueError(f"searchsorted: input on {values.device!r}, sorted_sequence on "
                         f"{seq.device!r}")
    if seq.ndim > 1 and (values.ndim != seq.ndim or values.shape[:-1] != seq.shape[:-1]):
        raise ValueError(f"searchsorted: an N-D sorted_sequence needs input with the same "
                         f"leading dims: sorted_sequence of shape {seq.shape}, input of shape "
                         f"{values.shape}")
    if "b" in (seq.dtype.kind, values.dtype.kind):
        raise DTypeError(f"searchsorted: bool tensors are not supported, got {seq.dtype} and "
                         f"{values.dtype} (as in PyTorch)")
    xp = seq._dev.xp
    s, v = seq._pair(values)
    a = s._data
    if sorter is not None:
        order = _index_array("searchsorted", sorter, seq, int32=False)
        if tuple(order.shape) != seq.shape:
            raise ValueError(f"searchsorted: sorter of shape {tuple(order.shape)} for a "
                             f"sorted_sequence of shape {seq.shape} (they must match)")
        _check_in_range("searchsorted (sorter)", order, seq.shape[-1], seq.ndim - 1)
        a = xp.take_along_axis(a, order.astype(np.int64), axis=-1)
    out = _bisect(xp, a, v._data, right)
    return Tensor._wrap(out.astype(np.int32) if _flag("searchsorted", "out_int32", out_int32)
                        else out, seq._dev)


def bucketize(input: Any, boundaries: Tensor, *, out_int32: bool = False,  # noqa: A002
              right: bool = False) -> Tensor:
    """The bucket of each value of ``input`` among the sorted 1-D ``boundaries``, as
    ``torch.bucketize``: ``searchsorted(boundaries, input, right=right)``."""
    if not isinstance(boundaries, Tensor) or boundaries.ndim != 1:
        raise ValueError(f"bucketize: boundaries must be a 1-D tensor, got "
                         f"{getattr(boundaries, 'shape', type(boundaries).__name__)}")
    return searchsorted(boundaries, input, out_int32=out_int32, right=right)


# ---- tensor_split and hsplit/vsplit/dsplit, take and put, index_copy, the *_scatter family,
# ---- unique_consecutive ------------------------------------------------------------------


@torch_names
def tensor_split(x: Tensor, indices_or_sections: Any, axis: int = 0) -> tuple[Tensor, ...]:
    """Views of ``x`` along ``axis``, as ``torch.tensor_split``: an int n (or a 0-d integer
    tensor) gives n pieces, the first ``size % n`` of them one longer than the others
    (so some may be empty); a sequence of indices (or a 1-D integer tensor) cuts before each,
    as the slices ``x[:i0], x[i0:i1], ..., x[ik:]`` (Python's slicing: negative indices count
    from the end, indices past the end or out of order give empty pieces)."""
    if x.ndim == 0:
        raise ValueError("tensor_split: a 0-d tensor has no dim to split (expected at least "
                         "1 dimension)")
    ax = _sort_axis("tensor_split", axis, x.ndim)
    cuts = indices_or_sections
    if isinstance(cuts, Tensor):
        if cuts.dtype.kind not in "iu" or cuts.ndim > 1:
            raise DTypeError(f"tensor_split: a tensor of indices_or_sections must be a 0-d or "
                             f"1-D integer tensor, got shape {cuts.shape} of {cuts.dtype}")
        cuts = cuts.tolist()
    n = x.shape[ax]
    if isinstance(cuts, (int, np.integer)) and not isinstance(cuts, bool):
        if cuts <= 0:
            raise ValueError(f"tensor_split: the number of sections must be > 0, got {cuts}")
        size, longer = divmod(n, int(cuts))
        cuts = np.cumsum([size + (k < longer) for k in range(int(cuts) - 1)]).tolist()
    elif not isinstance(cuts, (list, tuple)) or not all(
            isinstance(c, (int, np.integer)) and not isinstance(c, bool) for c in cuts):
        raise TypeError(f"tensor_split: indices_or_sections must be an int or a sequence of "
                        f"ints, got {indices_or_sections!r}")
    lead = (slice(None),) * ax
    bounds = [None, *(int(c) for c in cuts), None]
    return tuple(x[lead + (slice(a, b),)] for a, b in zip(bounds[:-1], bounds[1:]))


def _split_at(what: str, x: Tensor, indices_or_sections: Any, axis: int, ndim: int
              ) -> tuple[Tensor, ...]:
    """``tensor_split`` for hsplit, vsplit and dsplit, as PyTorch's: x needs ``ndim`` axes,
    and a number of sections must divide the axis evenly."""
    if x.ndim < ndim:
        raise ValueError(f"{what}: a tensor of at least {ndim} dimension(s) is needed, got "
                         f"shape {x.shape}")
    cuts = indices_or_sections
    if isinstance(cuts, (int, np.integer)) and not isinstance(cuts, bool) and cuts > 0 and \
            x.shape[axis] % cuts:
        raise ValueError(f"{what}: dim {axis} of size {x.shape[axis]} does not split into "
                         f"{cuts} equal sections")
    return tensor_split(x, cuts, axis)


def hsplit(x: Tensor, indices_or_sections: Any) -> tuple[Tensor, ...]:
    """``tensor_split`` along dim 1 (dim 0 of a 1-D tensor), as ``torch.hsplit``."""
    return _split_at("hsplit", x, indices_or_sections, 1 if x.ndim > 1 else 0, 1)


def vsplit(x: Tensor, indices_or_sections: Any) -> tuple[Tensor, ...]:
    """``tensor_split`` along dim 0 of a tensor of at least 2 dims, as ``torch.vsplit``."""
    return _split_at("vsplit", x, indices_or_sections, 0, 2)


def dsplit(x: Tensor, indices_or_sections: Any) -> tuple[Tensor, ...]:
    """``tensor_split`` along dim 2 of a tensor of at least 3 dims, as ``torch.dsplit``."""
    return _split_at("dsplit", x, indices_or_sections, 2, 3)


def _flat_positions(what: str, x: Tensor, index: Any) -> Any:
    """``index`` (an integer tensor, any shape) as positions in the flattened ``x``, a
    negative one counting from the end, as PyTorch's take and put; checked first."""
    a = _index_array(what, index, x, int32=False)
    n = x.size
    bad = (a < -n) | (a >= n)
    if a.size and bool(bad.any()):
        raise ValueError(f"{what}: index {int(a[bad][0])} is out of range for a tensor of "
                         f"{n} elements (it must lie in [-{n}, {n}))")
    return a + n * (a < 0)


def take(x: Tensor, index: Tensor) -> Tensor:
    """The elements of the flattened ``x`` at ``index`` (an integer tensor; negative counts
    from the end), in index's shape, as ``torch.take``. One gather: an element taken twice
    gets both gradients."""
    a = _flat_positions("take", x, index)
    return GetItem.apply(x.reshape(-1), index=a, in_range=True)


def put(x: Tensor, index: Tensor, source: Tensor, accumulate: bool = False) -> Tensor:
    """x with ``source``'s elements written at the positions ``index`` of the flattened x
    (negative counts from the end), out of place, as ``torch.Tensor.put``: index and source
    have one number of elements, source x's dtype. With ``accumulate`` they are added there,
    an element named twice getting both; without, an element named twice gets the last
    (PyTorch leaves it unspecified). Differentiable in x and source."""
    _flag("put", "accumulate", accumulate)
    if not isinstance(source, Tensor):
        raise TypeError(f"put: source must be a Tensor, got {type(source).__name__}")
    if source.dtype != x.dtype:
        raise DTypeError(f"put: source's dtype {source.dtype} differs from x's {x.dtype} (they "
                         "must match, as in PyTorch)")
    if source._dev is not x._dev:
        raise ValueError(f"put: source on {source.device!r}, x on {x.device!r}")
    a = _flat_positions("put", x, index).reshape(-1)
    if source.size != a.size:
        raise ValueError(f"put: {a.size} indices and a source of {source.size} elements (they "
                         "must have one number of elements)")
    flat, s = x.reshape(-1), source.reshape(-1)
    if accumulate:
        out = flat + IndexScatter.apply(s, index=a, shape=flat.shape)
    else:
        out = SetItem.apply(flat, s, index=a)
    return out.reshape(x.shape)


@torch_names
def index_copy(x: Tensor, axis: int, index: Tensor, source: Tensor) -> Tensor:
    """x with the slices ``index`` (1-D, each in [0, n)) along ``axis`` replaced by those of
    ``source``, out of place, as ``torch.index_copy``: for axis 0, ``y[index[i]] =
    source[i]``. ``source`` has x's dtype and shape but ``len(index)`` along ``axis``. A
    ``SetItem``: gx = gy with 0 at the copied slices, gsource = gy[index] (a slice named
    twice is written once, by the last, as index_put; PyTorch leaves it unspecified)."""
    ax = _sort_axis("index_copy", axis, x.ndim)
    if not isinstance(source, Tensor):
        raise TypeError(f"index_copy: source must be a Tensor, got {type(source).__name__}")
    if source.dtype != x.dtype:
        raise DTypeError(f"index_copy: source's dtype {source.dtype} differs from x's "
                         f"{x.dtype} (they must match, as in PyTorch)")
    if source._dev is not x._dev:
        raise ValueError(f"index_copy: source on {source.device!r}, x on {x.device!r}")
    shape = x.shape or (1,)
    a = _index_1d("index_copy", index, x, shape[ax], ax, int32=False)
    expected = shape[:ax] + (a.size,) + shape[ax + 1:]
    if (source.shape or (1,)) != expected:
        raise ValueError(f"index_copy: source of shape {source.shape} does not fit x of shape "
                         f"{x.shape} and {a.size} indices along dim {ax}: expected shape "
                         f"{expected}")
    out = SetItem.apply(x.reshape(shape), source.reshape(expected),
                        index=(slice(None),) * ax + (a,))
    return out.reshape(x.shape)


def _scatter_source(what: str, x: Tensor, src: Any, shape: tuple[int, ...]) -> Tensor:
    """``src`` checked to be a tensor of ``shape`` on x's device, cast to x's dtype (as
    PyTorch's *_scatter cast it; the cast is differentiable)."""
    if not isinstance(src, Tensor):
        raise TypeError(f"{what}: src must be a Tensor, got {type(src).__name__}")
    if src._dev is not x._dev:
        raise ValueError(f"{what}: src on {src.device!r}, x on {x.device!r}")
    if src.shape != tuple(shape):
        raise ValueError(f"{what}: src of shape {src.shape} must have the shape of the part it "
                         f"replaces, {tuple(shape)}")
    return src if src.dtype == x.dtype else src.to(dtype=x.dtype)


def diagonal_scatter(x: Tensor, src: Tensor, offset: int = 0, dim1: int = 0, dim2: int = 1
                     ) -> Tensor:
    """x with its ``diagonal(offset, dim1, dim2)`` replaced by ``src`` (of that diagonal's
    shape), out of place, as ``torch.diagonal_scatter``. A ``SetItem`` at the diagonal's
    positions: gx = gy with 0 on the diagonal, gsrc = gy's diagonal."""
    if x.ndim < 2:
        raise ValueError(f"diagonal_scatter: x needs at least 2 axes, got shape {x.shape}")
    d1 = _sort_axis("diagonal_scatter", dim1, x.ndim)
    d2 = _sort_axis("diagonal_scatter", dim2, x.ndim)
    if d1 == d2:
        raise ValueError(f"diagonal_scatter: dim1 and dim2 name one axis ({dim1}, {dim2}); "
                         "give two")
    index, at = _diagonal_index(x._dev.xp, x.shape, _int_arg("diagonal_scatter", "offset",
                                                               offset), d1, d2)
    rest = tuple(n for k, n in enumerate(x.shape) if k not in (d1, d2))
    s = _scatter_source("diagonal_scatter", x, src, rest + (len(index[d1]),))
    if at != s.ndim - 1:  # the diagonal's axis back where x[index] has it
        s = Transpose.apply(s, axes=(*range(at), s.ndim - 1, *range(at, s.ndim - 1)))
    return SetItem.apply(x, s, index=index)


@torch_names
def select_scatter(x: Tensor, src: Tensor, axis: int, index: int) -> Tensor:
    """x with ``x.select(axis, index)`` replaced by ``src`` (of that slice's shape), out of
    place, as ``torch.select_scatter``; a negative index counts from the end. A ``SetItem``:
    gx = gy with 0 on the slice, gsrc = the slice of gy."""
    if x.ndim == 0:
        raise ValueError("select_scatter: a 0-d tensor has no dim to select from")
    ax = _sort_axis("select_scatter", axis, x.ndim)
    i, n = _int_arg("select_scatter", "index", index), x.shape[ax]
    if not -n <= i < n:
        raise ValueError(f"select_scatter: index {i} is out of range for dim {ax} with size "
                         f"{n}")
    s = _scatter_source("select_scatter", x, src, x.shape[:ax] + x.shape[ax + 1:])
    return SetItem.apply(x, s, index=(slice(None),) * ax + (i % n,))


@torch_names
def slice_scatter(x: Tensor, src: Tensor, axis: int = 0, start: int | None = None,
                  end: int | None = None, step: int = 1) -> Tensor:
    """x with ``x[..., start:end:step, ...]`` (along ``axis``) replaced by ``src`` (of that
    slice's shape), out of place, as ``torch.slice_scatter``. A ``SetItem``: gx = gy with 0
    on the slice, gsrc = the slice of gy."""
    if x.ndim == 0:
        raise ValueError("slice_scatter: a 0-d tensor has no dim to slice")
    ax = _sort_axis("slice_scatter", axis, x.ndim)
    step = _int_arg("slice_scatter", "step", step)
    if step <= 0:
        raise ValueError(f"slice_scatter: step must be > 0, got {step}")
    bounds = [None if b is None else _int_arg("slice_scatter", name, b)
              for name, b in (("start", start), ("end", end))]
    index = (slice(None),) * ax + (slice(bounds[0], bounds[1], step),)
    shape = x.shape[:ax] + (len(range(*index[ax].indices(x.shape[ax]))),) + x.shape[ax + 1:]
    return SetItem.apply(x, _scatter_source("slice_scatter", x, src, shape), index=index)


def unique_consecutive(x: Tensor, return_inverse: bool = False, return_counts: bool = False,
                       dim: int | None = None) -> Any:
    """Each run of equal consecutive elements of ``x`` (flattened) kept once, as
    ``torch.unique_consecutive``; with ``dim``, runs of equal slices along it. As for
    ``unique``: ``return_inverse`` adds, for each element (slice), the position of its run in
    the result (x's shape; with ``dim``, one per slice), ``return_counts`` each run's length,
    both int64; NaN equals nothing, so each NaN is a run of its own. The size depends on the
    values, so it is computed on the host (one copy from the device and back); never
    differentiable."""
    _flag("unique_consecutive", "return_inverse", return_inverse)
    _flag("unique_consecutive", "return_counts", return_counts)
    h = x.numpy()
    if dim is None:
        rows, ax = h.reshape(-1, 1), 0
    else:
        if not x.ndim:
            raise ValueError("unique_consecutive: a 0-d tensor has no dim to take slices "
                             "along (give dim=None)")
        ax = _sort_axis("unique_consecutive", dim, x.ndim)
        if any(n == 0 for k, n in enumerate(x.shape) if k != ax):
            raise ValueError(f"unique_consecutive: x of shape {x.shape} has an empty dim "
                             f"other than dim {ax}, so its slices cannot be compared (as in "
                             "PyTorch)")
        rows = np.moveaxis(h, ax, 0).reshape(h.shape[ax], h.size // max(h.shape[ax], 1))
    n = rows.shape[0]
    new = np.ones(n, dtype=bool)  # where a run starts
    new[1:] = (rows[1:] != rows[:-1]).any(axis=1) if rows.shape[1] else False
    starts = np.flatnonzero(new)
    values = h.reshape(-1)[starts] if dim is None else np.take(h, starts, axis=ax)
    inverse = np.cumsum(new) - 1
    out = [Tensor._wrap(x._dev.to_device(np.ascontiguousarray(values)), x._dev)]
    if return_inverse:
        shaped = inverse.reshape(x.shape) if dim is None else inverse
        out.append(Tensor._wrap(x._dev.to_device(shaped.astype(np.int64)), x._dev))
    if return_counts:
        counts = np.diff(np.append(starts, n))
        out.append(Tensor._wrap(x._dev.to_device(counts.astype(np.int64)), x._dev))
    return out[0] if len(out) == 1 else tuple(out)
