"""Differential test of indexing against PyTorch: Hypothesis draws one case (a float64 tensor
x, an indexing op and its arguments: keys of every form ``x[key]`` takes, index tensors of
int64 or int32, negative dims, indices out of range now and then; x itself now and then a
permuted view of its leaf), runs it in torch and in tinygrad_rnn, and compares:

- whether it raises (torch raises exactly when ours does; for ``x[key]`` and ``x[key] = v``
  torch's IndexError is an IndexError here too);
- each result's shape, dtype and values (exactly: indexing moves values, it does not compute
  them, except the reductions, to 1e-12);
- whether a result is a view: under ``no_grad`` a write into each result must reach a fresh
  base exactly when torch's does, and a write into the base must reach the results likewise;
- the gradients: one backward of a random weighted sum of the results into every float64
  input (x and, where there is one, the value or source), to 1e-12.

Left out, each with its reason where it is left out: cases whose result PyTorch leaves
unspecified (a write of different values to one element twice: ``x[key] = v``, ``index_put_``
and ``put_`` without accumulate, ``index_copy_``, ``scatter`` of a tensor); where PyTorch is
plainly wrong (its backward of ``scatter``/``scatter_add`` with a src larger than index, of
``index_reduce`` with an int32 index, of ``index_fill`` with a 0-d tensor value and an empty
index; its ``take_along_dim``, which reads an index out of range unchecked, and without a
dim refuses a permuted x; an empty index or result, whose indices it does not check; its
``x[False] = v``, which checks no v); and the documented differences (a tensor value of
another dtype in ``x[key] = v``, a lone nested list as a key, ``scatter(reduce=)``'s gradient).
Run deeper with ``HYPOTHESIS_PROFILE=thorough``, or ``TR_FUZZ_SCALE=k`` for k times the
examples.
"""

from __future__ import annotations

import math
import os
import warnings
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest
from hypothesis import event, given, note, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tinygrad_rnn as tr

from .test_differential import _call  # one call: (its value, None) or (None, its error)

torch = pytest.importorskip("torch")

pytestmark = pytest.mark.torch

TOL = 1e-12
SCALE = int(os.environ.get("TR_FUZZ_SCALE", "1"))
RAN: Counter = Counter()  # cases compared, per op (printed by -s with the thorough profile)


@dataclass
class Case:
    """One drawn case: ``run(m, ts)`` with ``ts`` the float64 inputs (x first) as leaves of
    ``m`` (``torch`` or ``tr``) that require grad."""

    floats: list[np.ndarray]
    run: Callable[[Any, list[Any]], Any]
    grad: bool = True  # compare gradients
    views: bool = True  # compare which results are views of x
    tol: float = 0.0  # values compared exactly unless this is set
    shown: str = ""
    extra: dict = field(default_factory=dict)


GENS: dict[str, Callable[[Any, tuple[int, ...]], Case]] = {}


def gen(name: str, weight: int = 1):
    def deco(f):
        GENS[name] = f
        f.weight = weight
        return f
    return deco


# ---- drawing ------------------------------------------------------------------------------


def bad(draw) -> bool:
    """Now and then an argument out of range, to compare the refusals (shrinks to valid)."""
    return draw(st.integers(0, 14)) == 14


def a_dim(draw, nd: int) -> int:
    n = max(nd, 1)  # a 0-d tensor takes dim 0 and -1, as torch's
    if bad(draw):
        return draw(st.sampled_from([-n - 1, n]))
    return draw(st.integers(-n, n - 1))


def size_at(shape, d) -> int:
    """x.size(d), or 1 where d is out of range or x is 0-d (the draw goes on; the op raises)."""
    if not shape or not -len(shape) <= d < len(shape):
        return 1
    return shape[d]


def with_dtype(draw, a):
    """``a`` as int64 mostly, int32 too; float64 or int16 now and then (refused by both,
    except by torch for an empty index, whose dtype its ops do not check: then int64)."""
    if not a.size:
        return a.astype(np.int64)
    if bad(draw):
        return a.astype(draw(st.sampled_from([np.float64, np.int16])))
    return a.astype(draw(st.sampled_from([np.int64, np.int64, np.int32])))


def ints(draw, shape, n: int, negative: bool = True, unique: bool = False,
         in_range: bool = False):
    """An index array of ``shape`` into an axis of size ``n`` (negative ones where allowed,
    out of range now and then unless ``in_range``)."""
    lo = -n if negative else 0
    hi = n - 1
    if not in_range and bad(draw):
        lo, hi = lo - 1, hi + 1
    size = math.prod(shape)
    if unique:
        if size > n:
            shape, size = (n,) + (0,) * 0, n  # as many as fit
            shape = (n,) if len(shape) else ()
        vals = draw(st.lists(st.integers(0, max(n - 1, 0)), min_size=size, max_size=size,
                             unique=True)) if n else [0] * size
        vals = [v - n if negative and draw(st.booleans()) else v for v in vals]
        return np.asarray(vals, dtype=np.int64).reshape(shape)
    if hi < lo:
        hi = lo
    return draw(hnp.arrays(np.int64, shape, elements=st.integers(lo, hi)))


def x_shape(draw, min_dims=0, max_dims=4) -> tuple[int, ...]:
    empty = draw(st.integers(0, 5)) == 0  # now and then an axis of size 0
    return draw(hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=0 if empty
                                 else 1, max_side=4))


def floats(draw, shape) -> np.ndarray:
    """Distinct values (no ties for amax/amin and prod's zeros to worry about)."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    return np.asarray(rng.standard_normal(shape) + 0.0)


def sub_shape(draw, shape) -> tuple[int, ...]:
    """A shape that broadcasts to ``shape``: leading axes dropped, sizes set to 1."""
    k = draw(st.integers(0, len(shape)))
    return tuple(1 if draw(st.integers(0, 2)) == 0 else s for s in shape[len(shape) - k:])


def T(m, a):
    """An index (or mask) array as a tensor of m, of its dtype."""
    return m.tensor(a) if m is tr else torch.from_numpy(np.array(a))


# ---- keys for x[key] ------------------------------------------------------------------------


def _advanced_shapes(draw, k: int):
    """Shapes of k index arrays that broadcast together (now and then ones that do not)."""
    common = draw(hnp.array_shapes(min_dims=0, max_dims=2, min_side=0, max_side=3)) \
        if draw(st.integers(0, 6)) == 0 else \
        draw(hnp.array_shapes(min_dims=0, max_dims=2, min_side=1, max_side=3))
    out = [sub_shape(draw, common) for _ in range(k)]
    if k and draw(st.booleans()):
        out[draw(st.integers(0, k - 1))] = common
    if k > 1 and bad(draw):
        out[0] = (4,)
    return out


def draw_key(draw, shape, unique: bool = False):
    """A key as a list of parts (a tuple now and then, a lone part otherwise): ints, slices
    with steps, None, ..., Python bools, index arrays (int64 or int32 tensors, lists, nested
    lists, 0-d tensors), bool masks over one or more axes (0-d too)."""
    nd = len(shape)
    if nd and draw(st.integers(0, 9)) == 0:  # a mask of x's whole shape
        return ("parts", [("mask", draw(hnp.arrays(np.bool_, shape)))], draw(st.booleans()))
    k = draw(st.integers(0, nd + (1 if bad(draw) else 0)))  # axes the key covers
    kinds = []
    left = k
    while left > 0:
        kind = draw(st.sampled_from(["int", "slice", "slice", "full", "array", "array",
                                     "mask", "tint"]))
        if kind == "mask":
            span = draw(st.integers(1, min(left, 2)))
            kinds.append(("mask", span))
            left -= span
        else:
            kinds.append((kind, 1))
            left -= 1
    n_arrays = sum(kd == "array" for kd, _ in kinds)
    ashapes = iter(_advanced_shapes(draw, n_arrays))
    parts: list[Any] = []
    axis = 0
    for kind, span in kinds:
        s = shape[axis] if axis < nd else 1
        if kind == "int":
            parts.append(("int", draw(st.integers(-s - 1, s) if bad(draw) else
                                      st.integers(-s, max(s - 1, -s)))))
        elif kind == "tint":
            parts.append(("tint", draw(st.integers(-s, max(s - 1, -s))),
                          draw(st.sampled_from(["int64", "int32"]))))
        elif kind in ("slice", "full"):
            if kind == "full":
                parts.append(("slice", None, None, None))
            else:
                a = draw(st.one_of(st.none(), st.integers(-s - 2, s + 2)))
                b = draw(st.one_of(st.none(), st.integers(-s - 2, s + 2)))
                step = draw(st.sampled_from([None, 1, 2, 3]))
                if bad(draw):
                    step = draw(st.sampled_from([-1, 0]))  # torch refuses both
                parts.append(("slice", a, b, step))
        elif kind == "array":
            a = ints(draw, next(ashapes), s, unique=unique)
            how = draw(st.sampled_from(["tensor", "tensor", "list", "int32"]))
            if how == "int32":
                a = a.astype(np.int32)
            elif how == "tensor" and bad(draw):
                # refused: indices must be int64, int32, bool (or uint8, a mask)
                a = a.astype(draw(st.sampled_from([np.float64, np.int16, np.uint8])))
            parts.append(("array", how, a))
        else:  # a mask over `span` axes
            mshape = tuple(shape[axis:axis + span]) + (1,) * max(0, axis + span - nd)
            if bad(draw):
                mshape = tuple(v + 1 for v in mshape)
            parts.append(("mask", draw(hnp.arrays(np.bool_, mshape))))
        axis += span
    # axis-free parts: None, Python bools, 0-d masks, at most one Ellipsis
    for _ in range(draw(st.integers(0, 2))):
        p = draw(st.sampled_from([("none",), ("none",), ("bool", True), ("bool", False),
                                  ("mask0", True), ("mask0", False), ("ellipsis",)]))
        if p[0] == "ellipsis" and any(q[0] == "ellipsis" for q in parts):
            continue
        parts.insert(draw(st.integers(0, len(parts))), p)
    if not parts:
        return ("parts", [("ellipsis",)] if draw(st.booleans()) else [], True)
    # a lone nested list goes in a tuple: torch 2.13 still reads x[[[0, 1], [1, 0]]] as
    # x[[0, 1], [1, 0]] (deprecated, with a warning), ours as the one index array it will
    # become (documented)
    as_tuple = len(parts) > 1 or draw(st.booleans()) or (
        parts[0][:2] == ("array", "list") and parts[0][2].ndim > 1)
    return ("parts", parts, as_tuple)


def make_key(m, key):
    _, parts, as_tuple = key
    out: list[Any] = []
    for p in parts:
        kind = p[0]
        if kind == "int":
            out.append(p[1])
        elif kind == "tint":
            out.append(m.tensor(p[1], dtype=getattr(m, p[2])))
        elif kind == "slice":
            out.append(slice(*p[1:]))
        elif kind == "array":
            _, how, a = p
            out.append(a.tolist() if how == "list" else T(m, a))
        elif kind == "mask":
            out.append(T(m, p[1]))
        elif kind == "mask0":
            out.append(T(m, np.array(p[1])))
        elif kind == "bool":
            out.append(p[1])
        elif kind == "none":
            out.append(None)
        else:
            out.append(Ellipsis)
    return tuple(out) if as_tuple else out[0] if out else ()


def _torch_positions(shape, key):
    """The flat positions x[key] reads (torch's), or None where torch refuses the key."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return torch.arange(math.prod(shape)).reshape(shape)[make_key(torch, key)]
    except Exception:  # noqa: BLE001
        return None


@gen("getitem", weight=8)
def _getitem(draw, shape):
    key = draw_key(draw, shape)
    return Case([floats(draw, shape)], lambda m, ts: ts[0][make_key(m, key)], shown=repr(key),
                extra={"key": key})


@gen("setitem", weight=6)
def _setitem(draw, shape):
    key = draw_key(draw, shape)
    # no uint8 masks (deprecated): torch's x[mask] = v refuses one where v is a number (its
    # masked_fill_ path) and takes it where v is a tensor (its index_put_ path)
    key = (key[0], [("array", "tensor", p[2].astype(bool)) if p[0] == "array" and
                    p[2].dtype == np.uint8 else p for p in key[1]], key[2])
    pos = _torch_positions(shape, key)
    kind = draw(st.sampled_from(["scalar", "int", "tensor", "tensor", "0d", "f32", "i64"]))
    if pos is not None and pos.numel() != pos.unique().numel() and kind not in ("scalar",
                                                                                 "int"):
        # an element written twice with different values: which one torch keeps is
        # unspecified (documented: ours keeps the last)
        event("setitem: repeated element, value drawn as a scalar")
        kind = "scalar"
    target = tuple(pos.shape) if pos is not None else shape
    vshape = sub_shape(draw, target)
    if bad(draw):
        vshape = vshape + (5,)  # does not broadcast
    elif draw(st.integers(0, 4)) == 0:
        vshape = (1,) + vshape  # leading 1s are dropped, as torch drops them
    fl = [floats(draw, shape)]
    value = floats(draw, vshape)
    if kind in ("tensor", "0d"):
        fl.append(value if kind == "tensor" else np.asarray(1.25))
    s = draw(st.sampled_from([0.5, -2.0, 3.0]))

    through = draw(st.booleans())  # into a view: z[1] of a z of shape (2, *shape)
    if through:
        fl[0] = floats(draw, (2,) + tuple(shape))

    def run(m, ts):
        z = ts[0].clone()
        y = z[1] if through else z
        if kind == "scalar":
            v = s
        elif kind == "int":
            v = int(s)
        elif kind in ("tensor", "0d"):
            v = ts[1] * 2
        elif kind == "f32":
            v = m.tensor(value.astype(np.float32))
        else:
            v = m.tensor(np.round(value * 3).astype(np.int64))
        y[make_key(m, key)] = v
        return [z, y] if through else y  # the write reaches z

    return Case(fl, run, shown=f"{key!r} value {kind} {vshape} through a view {through}",
                extra={"key": key})


# ---- the index_* family ------------------------------------------------------------------


def _index_1d(draw, n, unique=False, negative=False):
    """A 1-D (now and then 0-d) index into an axis of size n, of a drawn dtype."""
    length = draw(st.integers(0, 4))
    a = ints(draw, (length,), n, negative=negative or bad(draw), unique=unique)
    if draw(st.integers(0, 6)) == 0 and a.size:
        a = a[:1].reshape(())
    return with_dtype(draw, a)


def _source_shape(shape, d, k):
    s = list(shape) if shape else []
    if s and -len(s) <= d < len(s):
        s[d] = k
    return tuple(s)


@gen("index_select", weight=2)
def _index_select(draw, shape):
    d = a_dim(draw, len(shape))
    i = _index_1d(draw, size_at(shape, d))
    return Case([floats(draw, shape)], lambda m, ts: ts[0].index_select(d, T(m, i)),
                shown=f"dim {d} index {i!r}")


@gen("index_add", weight=2)
def _index_add(draw, shape):
    d = a_dim(draw, len(shape))
    i = _index_1d(draw, size_at(shape, d))
    src = floats(draw, _source_shape(shape, d, i.size if i.ndim else 1))
    alpha = draw(st.sampled_from([1, 0.5, -2]))
    inplace = draw(st.booleans())

    def run(m, ts):
        if inplace:
            return ts[0].clone().index_add_(d, T(m, i), ts[1], alpha=alpha)
        return ts[0].index_add(d, T(m, i), ts[1], alpha=alpha)

    # repeated indices add up in another order: last bits
    return Case([floats(draw, shape), src], run, tol=TOL,
                shown=f"dim {d} index {i!r} alpha {alpha}")


@gen("index_copy", weight=2)
def _index_copy(draw, shape):
    d = a_dim(draw, len(shape))
    # distinct indices: which of two copies to one slice wins is unspecified in torch
    i = _index_1d(draw, size_at(shape, d), unique=True)
    src = floats(draw, _source_shape(shape, d, i.size if i.ndim else 1))

    def run(m, ts):
        return ts[0].clone().index_copy_(d, T(m, i), ts[1])

    return Case([floats(draw, shape), src], run, shown=f"dim {d} index {i!r}")


@gen("index_fill", weight=2)
def _index_fill(draw, shape):
    d = a_dim(draw, len(shape))
    i = _index_1d(draw, size_at(shape, d))
    how = draw(st.sampled_from(["scalar", "tensor", "inplace"]))
    fl = [floats(draw, shape)] + ([np.asarray(-0.75)] if how == "tensor" else [])

    def run(m, ts):
        if how == "tensor":
            return ts[0].index_fill(d, T(m, i), ts[1] * 3)
        if how == "inplace":
            return ts[0].clone().index_fill_(d, T(m, i), -1.5)
        return ts[0].index_fill(d, T(m, i), 2.5)

    return Case(fl, run, shown=f"dim {d} index {i!r} {how}")


@gen("index_put", weight=3)
def _index_put(draw, shape):
    nd = len(shape)
    k = draw(st.integers(1, max(nd, 1)))
    accumulate = draw(st.booleans())
    ashapes = _advanced_shapes(draw, k)
    indices = []
    for j in range(k):
        if draw(st.integers(0, 4)) == 0 and j < nd:
            indices.append(draw(hnp.arrays(np.bool_, (shape[j],))))
        else:
            indices.append(with_dtype(draw, ints(draw, ashapes[j], size_at(shape, j))))
    key = ("parts", [("mask", a) if a.dtype == np.bool_ else ("array", "tensor", a)
                     for a in indices], True)
    pos = _torch_positions(shape, key)
    if pos is not None and pos.numel() != pos.unique().numel() and not accumulate:
        # without accumulate, torch leaves which of repeated positions wins unspecified
        accumulate = True
        event("index_put: repeated position, accumulate")
    target = tuple(pos.shape) if pos is not None else shape
    vals = floats(draw, sub_shape(draw, target))
    inplace = draw(st.booleans())

    def run(m, ts):
        idx = tuple(T(m, a) for a in indices)
        if inplace:
            return ts[0].clone().index_put_(idx, ts[1], accumulate=accumulate)
        return ts[0].index_put(idx, ts[1], accumulate=accumulate)

    # no element named (a mask of no True, an empty array): torch checks no index then
    empty = any((a.sum() if a.dtype == np.bool_ else a.size) == 0 for a in indices)
    return Case([floats(draw, shape), vals], run, tol=TOL, extra={"key": key, "empty": empty},
                shown=f"indices {indices!r} accumulate {accumulate}")


@gen("index_reduce", weight=2)
def _index_reduce(draw, shape):
    if not shape:
        shape = (3,)
    d = a_dim(draw, len(shape))
    i = _index_1d(draw, size_at(shape, d))
    if i.ndim == 0:
        i = i.reshape(1)
    src = floats(draw, _source_shape(shape, d, i.size))
    reduce = draw(st.sampled_from(["prod", "mean", "amax", "amin"]))
    include_self = draw(st.booleans())

    def run(m, ts):
        return ts[0].clone().index_reduce_(d, T(m, i), ts[1], reduce, include_self=include_self)

    # torch's backward of index_reduce runs index_fill_, which takes int64 alone: with an
    # int32 index its backward raises, so the gradient is compared for int64
    return Case([floats(draw, shape), src], run, tol=TOL, grad=i.dtype == np.int64,
                shown=f"dim {d} index {i!r} {reduce} include_self {include_self}")


# ---- masks --------------------------------------------------------------------------------


def _mask(draw, shape):
    """A bool mask that broadcasts to shape (now and then one that does not, or not bool)."""
    ms = sub_shape(draw, shape)
    if bad(draw):
        ms = ms + (5,)
    return draw(hnp.arrays(np.bool_, ms))


@gen("masked_fill", weight=2)
def _masked_fill(draw, shape):
    mask = _mask(draw, shape)
    how = draw(st.sampled_from(["scalar", "tensor", "inplace", "uint8"]))
    fl = [floats(draw, shape)] + ([np.asarray(0.5)] if how == "tensor" else [])

    def run(m, ts):
        if how == "uint8":
            return ts[0].masked_fill(T(m, mask.astype(np.uint8)), 1.0)  # refused: not bool
        if how == "tensor":
            return ts[0].masked_fill(T(m, mask), ts[1] * -2)
        if how == "inplace":
            return ts[0].clone().masked_fill_(T(m, mask), 7.0)
        return ts[0].masked_fill(T(m, mask), -3.5)

    return Case(fl, run, shown=f"mask {mask!r} {how}")


@gen("masked_scatter", weight=2)
def _masked_scatter(draw, shape):
    mask = _mask(draw, shape)
    try:
        count = int(np.broadcast_to(mask, np.broadcast_shapes(mask.shape, shape)).sum())
    except ValueError:
        count = 1
    n = count + draw(st.integers(0, 2)) - (1 if bad(draw) and count else 0)
    src = floats(draw, (n,) if draw(st.booleans()) else (1, n))
    inplace = draw(st.booleans())

    def run(m, ts):
        if inplace:
            return ts[0].clone().masked_scatter_(T(m, mask), ts[1])
        return ts[0].masked_scatter(T(m, mask), ts[1])

    return Case([floats(draw, shape), src], run, shown=f"mask {mask!r} source {src.shape}")


@gen("masked_select", weight=2)
def _masked_select(draw, shape):
    ms = draw(st.sampled_from(["sub", "super"]))
    mask = _mask(draw, shape) if ms == "sub" else draw(hnp.arrays(
        np.bool_, (2,) + tuple(shape)))
    return Case([floats(draw, shape)], lambda m, ts: ts[0].masked_select(T(m, mask)),
                shown=f"mask {mask!r}")


# ---- take, put, gather, scatter ---------------------------------------------------------------


@gen("take", weight=2)
def _take(draw, shape):
    n = math.prod(shape)
    i = ints(draw, draw(hnp.array_shapes(min_dims=0, max_dims=2, min_side=0, max_side=3)), n)
    i = with_dtype(draw, i)
    return Case([floats(draw, shape)], lambda m, ts: ts[0].take(T(m, i)), shown=f"{i!r}")


@gen("take_along_dim", weight=2)
def _take_along_dim(draw, shape):
    d = None if draw(st.integers(0, 3)) == 0 else a_dim(draw, len(shape))
    if d is None:
        i = ints(draw, (draw(st.integers(0, 4)),), math.prod(shape))
    else:
        ishape = [draw(st.sampled_from([1, s])) for s in shape]
        if shape and -len(shape) <= d < len(shape):
            ishape[d] = draw(st.integers(0, 4))
        # in range: torch's take_along_dim checks no index against its dim (it reads what
        # lies there), while ours refuses one out of range
        i = ints(draw, tuple(ishape), size_at(shape, d), in_range=True)
    i = with_dtype(draw, i)
    return Case([floats(draw, shape)], lambda m, ts: ts[0].take_along_dim(T(m, i), d),
                shown=f"dim {d} {i!r}")


@gen("put", weight=2)
def _put(draw, shape):
    n = math.prod(shape)
    accumulate = draw(st.booleans())
    # without accumulate, repeated positions: torch leaves which source wins unspecified
    i = ints(draw, (draw(st.integers(0, 4)),), n, unique=not accumulate)
    src = floats(draw, i.shape if not bad(draw) else (i.size + 1,))
    i = with_dtype(draw, i)

    def run(m, ts):
        return ts[0].clone().put_(T(m, i), ts[1], accumulate=accumulate)

    return Case([floats(draw, shape), src], run, tol=TOL,
                shown=f"{i!r} accumulate {accumulate}")


def _gather_index(draw, shape, d, unique_along=False):
    """An index for gather/scatter along d: same ndim as x, each size at most x's."""
    ishape = tuple(draw(st.integers(0 if draw(st.integers(0, 8)) == 0 else min(1, s), s + (
        1 if k == (d % max(len(shape), 1)) or bad(draw) else 0))) for k, s in enumerate(shape))
    n = size_at(shape, d)
    if not unique_along:
        return ints(draw, ishape, n, negative=bad(draw))
    # distinct positions along d within each line: rows of a permutation
    dd = d % len(shape) if shape else 0
    if not shape:
        return np.zeros((), dtype=np.int64)
    ishape = list(ishape)
    ishape[dd] = min(ishape[dd], n)
    lines = np.moveaxis(np.zeros(ishape, dtype=np.int64), dd, -1)
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    out = np.stack([rng.permutation(n)[:ishape[dd]] for _ in range(
        math.prod(lines.shape[:-1]))]).reshape(lines.shape) if lines.size else lines
    return np.ascontiguousarray(np.moveaxis(out, -1, dd))


@gen("gather", weight=2)
def _gather(draw, shape):
    d = a_dim(draw, len(shape))
    i = with_dtype(draw, _gather_index(draw, shape, d))
    return Case([floats(draw, shape)], lambda m, ts: ts[0].gather(d, T(m, i)),
                shown=f"dim {d} {i!r}")


def _src_for(draw, ishape):
    return floats(draw, tuple(s + draw(st.integers(0, 1)) for s in ishape))


@gen("scatter", weight=3)
def _scatter(draw, shape):
    d = a_dim(draw, len(shape))
    how = draw(st.sampled_from(["src", "value", "add", "multiply", "value_add", "inplace"]))
    # a tensor written twice to one place: which value torch keeps is unspecified
    unique = how in ("src", "inplace")
    i = with_dtype(draw, _gather_index(draw, shape, d, unique_along=unique))
    src = _src_for(draw, i.shape)
    fl = [floats(draw, shape)] + ([src] if how in ("src", "add", "multiply", "inplace") else [])

    def run(m, ts):
        x, it = ts[0], T(m, i)
        if how == "src":
            return x.scatter(d, it, ts[1])
        if how == "inplace":
            return x.clone().scatter_(d, it, ts[1])
        if how == "value":
            return x.scatter(d, it, value=1.5)
        if how == "value_add":
            return x.clone().scatter_(d, it, 2.0, reduce="add")
        return x.scatter(d, it, ts[1], reduce=how)

    # torch has no gradient for scatter with reduce= (documented: ours has one)
    # torch's backward fails for a src larger than index: compared where it is not
    return Case(fl, run, grad=how not in ("add", "multiply", "value_add") and (
        how == "value" or src.shape == i.shape), tol=TOL,
                shown=f"dim {d} {i!r} {how}")


@gen("scatter_add", weight=2)
def _scatter_add(draw, shape):
    d = a_dim(draw, len(shape))
    i = with_dtype(draw, _gather_index(draw, shape, d))
    src = _src_for(draw, i.shape)
    inplace = draw(st.booleans())

    def run(m, ts):
        if inplace:
            return ts[0].clone().scatter_add_(d, T(m, i), ts[1])
        return ts[0].scatter_add(d, T(m, i), ts[1])

    # torch's backward fails for a src larger than index: the gradient compared where not
    return Case([floats(draw, shape), src], run, tol=TOL, grad=src.shape == i.shape,
                shown=f"dim {d} {i!r}")


@gen("scatter_reduce", weight=3)
def _scatter_reduce(draw, shape):
    d = a_dim(draw, len(shape))
    i = with_dtype(draw, _gather_index(draw, shape, d))
    # src as large as index: torch's backward fails for a larger src (documented)
    src = floats(draw, i.shape)
    reduce = draw(st.sampled_from(["sum", "prod", "mean", "amax", "amin"]))
    include_self = draw(st.booleans())

    def run(m, ts):
        return ts[0].scatter_reduce(d, T(m, i), ts[1], reduce, include_self=include_self)

    return Case([floats(draw, shape), src], run, tol=TOL,
                shown=f"dim {d} {i!r} {reduce} include_self {include_self}")


# ---- nonzero, where -------------------------------------------------------------------------


@gen("nonzero")
def _nonzero(draw, shape):
    how = draw(st.sampled_from(["nonzero", "tuple", "argwhere", "where", "bool"]))
    a = floats(draw, shape)
    a[np.abs(a) < 0.7] = 0.0

    def run(m, ts):
        x = ts[0]
        if how == "nonzero":
            return x.nonzero()
        if how == "tuple":
            return x.nonzero(as_tuple=True)
        if how == "argwhere":
            return x.argwhere()
        if how == "where":
            return m.where(x)
        return (x > 0).nonzero(as_tuple=draw_as_tuple)

    draw_as_tuple = draw(st.booleans())
    return Case([a], run, shown=how)


# ---- narrow, select, unbind, split ------------------------------------------------------------


@gen("narrow", weight=2)
def _narrow(draw, shape):
    d = a_dim(draw, len(shape))
    n = size_at(shape, d)
    start = draw(st.integers(-n - 1 if bad(draw) else -n, n))
    length = draw(st.integers(0, n + (1 if bad(draw) else 0)))
    return Case([floats(draw, shape)], lambda m, ts: ts[0].narrow(d, start, length),
                shown=f"dim {d} start {start} length {length}")


@gen("select", weight=2)
def _select(draw, shape):
    d = a_dim(draw, len(shape))
    n = size_at(shape, d)
    k = draw(st.integers(-n - 1, n) if bad(draw) else st.integers(-n, max(n - 1, -n)))
    return Case([floats(draw, shape)], lambda m, ts: ts[0].select(d, k), shown=f"dim {d} {k}")


@gen("unbind")
def _unbind(draw, shape):
    d = a_dim(draw, len(shape))
    return Case([floats(draw, shape)], lambda m, ts: ts[0].unbind(d), shown=f"dim {d}")


@gen("split", weight=3)
def _split(draw, shape):
    d = a_dim(draw, len(shape))
    n = size_at(shape, d)
    how = draw(st.sampled_from(["split", "sections", "chunk", "tensor_split", "ts_indices",
                                "ts_tensor"]))
    if how == "split":
        arg: Any = draw(st.integers(0 if bad(draw) else 1, max(n, 1) + 1))
    elif how == "sections":
        parts = draw(st.lists(st.integers(0, n), min_size=1, max_size=3))
        arg = parts if sum(parts) == n or bad(draw) else parts + [max(n - sum(parts), 0)]
        if sum(arg) != n and not bad(draw):
            arg = [n]
    elif how in ("chunk", "tensor_split"):
        arg = draw(st.integers(0 if bad(draw) else 1, 5))
    else:
        arg = draw(st.lists(st.integers(-n - 1, n + 2), max_size=3))
        if how == "ts_tensor":
            arg = np.asarray(arg, dtype=np.int64)

    def run(m, ts):
        x = ts[0]
        if how in ("split", "sections"):
            return x.split(arg, d)
        if how == "chunk":
            return x.chunk(arg, d)
        if how == "ts_tensor":
            return x.tensor_split(T(m, arg), d)
        return x.tensor_split(arg, d)

    return Case([floats(draw, shape)], run, shown=f"{how} {arg!r} dim {d}")


# ---- *_scatter ------------------------------------------------------------------------------


@gen("diagonal_scatter")
def _diagonal_scatter(draw, shape):
    if len(shape) < 2 and not bad(draw):
        shape = (2, 3) if not shape else shape + (2,)  # a diagonal needs two dims
    nd = len(shape)
    d1, d2 = a_dim(draw, nd), a_dim(draw, nd)
    if nd > 1 and (d1 - d2) % nd == 0 and not bad(draw):
        d2 = (d1 + 1) % nd  # two dims (the same one twice is refused)
    off = draw(st.integers(-3, 3))
    try:
        sshape = tuple(torch.zeros(shape).diagonal(off, d1, d2).shape)
    except Exception:  # noqa: BLE001
        sshape = (1,)
    if bad(draw):
        sshape = sshape + (2,)
    return Case([floats(draw, shape), floats(draw, sshape)],
                lambda m, ts: ts[0].diagonal_scatter(ts[1], off, d1, d2),
                shown=f"offset {off} dims {d1} {d2} src {sshape}")


@gen("select_scatter")
def _select_scatter(draw, shape):
    d = a_dim(draw, len(shape))
    n = size_at(shape, d)
    k = draw(st.integers(-n - 1, n) if bad(draw) else st.integers(-n, max(n - 1, -n)))
    sshape = tuple(s for j, s in enumerate(shape) if j != d % max(len(shape), 1))
    if bad(draw):
        sshape = sshape + (2,)
    return Case([floats(draw, shape), floats(draw, sshape)],
                lambda m, ts: ts[0].select_scatter(ts[1], d, k), shown=f"dim {d} {k}")


@gen("slice_scatter")
def _slice_scatter(draw, shape):
    d = a_dim(draw, len(shape))
    n = size_at(shape, d)
    start = draw(st.one_of(st.none(), st.integers(-n - 1, n + 1)))
    end = draw(st.one_of(st.none(), st.integers(-n - 1, n + 1)))
    step = draw(st.sampled_from([1, 1, 2, 3]))
    try:
        sshape = tuple(torch.zeros(shape)[(slice(None),) * (d % len(shape)) + (
            slice(start, end, step),)].shape)
    except Exception:  # noqa: BLE001
        sshape = shape
    if bad(draw):
        sshape = sshape + (2,)
    return Case([floats(draw, shape), floats(draw, sshape)],
                lambda m, ts: ts[0].slice_scatter(ts[1], d, start, end, step),
                shown=f"dim {d} {start}:{end}:{step} src {sshape}")


# ---- the comparison -------------------------------------------------------------------------


def _as_list(r):
    if isinstance(r, (list, tuple)):
        return list(r)
    return [r]


def _check_values(what, ours, theirs, tol):
    assert len(ours) == len(theirs), f"{what}: {len(ours)} results, torch {len(theirs)}"
    for k, (a, b) in enumerate(zip(ours, theirs)):
        assert isinstance(a, tr.Tensor), f"{what} {k}: ours gave {type(a)}"
        assert tuple(a.shape) == tuple(b.shape), \
            f"{what} {k}: shape {tuple(a.shape)}, torch {tuple(b.shape)}"
        assert str(a.dtype) == str(b.dtype).replace("torch.", ""), \
            f"{what} {k}: dtype {a.dtype}, torch {b.dtype}"
        bv = b.detach().numpy()
        if tol:
            np.testing.assert_allclose(a.detach().numpy(), bv, rtol=tol, atol=tol,
                                       equal_nan=True, err_msg=f"{what} {k}")
        else:
            np.testing.assert_array_equal(a.detach().numpy(), bv, err_msg=f"{what} {k}")


def _check_views(case, arrays):
    """Run the case on plain tensors under no_grad; write into each float result, then into
    x: the writes must reach the other side exactly where torch's do."""
    ours = [tr.tensor(a) for a in arrays]
    theirs = [torch.tensor(a) for a in arrays]
    with tr.no_grad():
        o_out, o_err = _call(case.run, tr, ours)
    with torch.no_grad():
        t_out, t_err = _call(case.run, torch, theirs)
    if t_err or o_err:
        return
    o_out, t_out = _as_list(o_out), _as_list(t_out)
    for k, (a, b) in enumerate(zip(o_out, t_out)):
        if not b.is_floating_point() or b.numel() == 0:
            continue
        with torch.no_grad():
            b.add_(100.0 * (k + 1))
        with tr.no_grad():
            _, err = _call(a.add_, 100.0 * (k + 1))
        assert err is None, f"a write into result {k}: ours raised {err!r}, torch did not"
        _check_values(f"x after a write into result {k}", ours[:1], theirs[:1], 0)
    with torch.no_grad():
        theirs[0].mul_(-1)
    with tr.no_grad():
        ours[0].mul_(-1)
    _check_values("results after a write into x", o_out, t_out, case.tol)


def _fuzz(name, data):
    draw = data.draw
    shape = x_shape(draw) if name != "getitem" or draw(st.booleans()) else x_shape(draw, 1, 4)
    case = GENS[name](draw, shape)
    # the inputs drawn from one seed are equal: shifted apart, so that no value of the source
    # ties with x's (a tie in amax is a documented difference)
    case.floats = [a + 0.125 * k for k, a in enumerate(case.floats)]
    nd = case.floats[0].ndim
    if nd > 1 and draw(st.booleans()):
        # x a permuted view of a leaf laid out otherwise (the leaf's axes in `perm` order)
        perm = draw(st.permutations(range(nd)))
        inv = tuple(int(v) for v in np.argsort(perm))
        case.floats[0] = np.ascontiguousarray(case.floats[0].transpose(perm))
        run = case.run
        case.run = lambda m, ts: run(m, [ts[0].permute(*inv)] + ts[1:])
        note(f"x is leaf.permute{inv}")
    note(f"{name}: x {shape} {case.shown}; floats {[a.shape for a in case.floats]}")
    ours = [tr.tensor(a, requires_grad=True) for a in case.floats]
    theirs = [torch.tensor(a, requires_grad=True) for a in case.floats]
    t_out, t_err = _call(case.run, torch, theirs)
    o_out, o_err = _call(case.run, tr, ours)
    if t_err is not None or o_err is not None:
        event(f"{name} raised: torch {type(t_err).__name__}, ours {type(o_err).__name__}")
    if t_err is not None and o_err is None and name == "setitem" and \
            "Index put requires the source and destination dtypes match" in str(t_err):
        # documented: x[key] = v casts a tensor v to x's dtype for every key, where torch's
        # advanced-index path refuses one of another dtype
        event("documented: setitem casts the value")
        return
    if o_err is not None and t_err is None and ("out of bounds" in str(o_err) or
                                                "out of range" in str(o_err)) and (
            all(b.numel() == 0 for b in _as_list(t_out)) or case.extra.get("empty") or
            "key" in case.extra and
            getattr(_torch_positions(shape, case.extra["key"]), "shape", (1,)).count(0)):
        # torch checks no index against its axis where the result, or the part written, is
        # empty (x[[-2], :-1] of shape (1, 1); index_add into x of no elements), ours does
        event("torch checks no index of an empty result")
        return
    if o_err is not None and t_err is None and name == "setitem" and \
            case.extra["key"][1:] == ([("bool", False)], False):
        # torch's x[False] = v returns at once, checking nothing (x[(False,)] = v checks v)
        event("torch checks nothing in x[False] = v")
        return
    if t_err is not None and o_err is None and name == "take_along_dim" and \
            "view size is not compatible" in str(t_err):
        # torch's take_along_dim without a dim views x as 1-D, which a permuted x refuses
        event("torch's take_along_dim refuses a permuted x")
        return
    if t_err is not None:
        assert o_err is not None, f"torch raised {t_err!r}, ours did not"
        if name in ("getitem", "setitem") and isinstance(t_err, IndexError):
            assert isinstance(o_err, IndexError), f"torch raised {t_err!r}, ours {o_err!r}"
        return
    assert o_err is None, f"ours raised {o_err!r}, torch did not"
    RAN[name] += 1
    t_out, o_out = _as_list(t_out), _as_list(o_out)
    _check_values("result", o_out, t_out, case.tol)
    for k, (a, b) in enumerate(zip(o_out, t_out)):
        assert bool(a.requires_grad) == bool(b.requires_grad), f"requires_grad of result {k}"
    if case.views:
        _check_views(case, case.floats)
    if not case.grad:
        return
    picks = [k for k, b in enumerate(t_out) if b.requires_grad]
    if not picks:
        return
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    ws = [rng.standard_normal(tuple(t_out[k].shape)) for k in picks]
    _, t_err = _call(lambda: sum((t_out[k] * torch.tensor(w)).sum()
                                 for k, w in zip(picks, ws)).backward())
    if t_err is not None:
        # torch's backward fails where its forward ran (index_fill with a 0-d tensor value
        # and an empty index: its index_select refuses the empty index): torch's defect
        event(f"{name}: torch's backward raised {type(t_err).__name__}")
        note(f"torch's backward raised {t_err!r}")
        return
    sum((o_out[k] * tr.tensor(w)).sum() for k, w in zip(picks, ws)).backward()
    for k, (a, b) in enumerate(zip(ours, theirs)):
        if b.grad is None:
            assert a.grad is None or not np.any(a.grad.numpy()), f"grad of input {k}"
            continue
        assert a.grad is not None, f"input {k}: torch has a grad, ours None"
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=TOL, atol=TOL,
                                   err_msg=f"grad of input {k}")
    RAN["backward compared"] += 1


@pytest.mark.parametrize("name", sorted(GENS))
def test_indexing_matches_torch(name):
    """Cases of one op; x[key] and x[key] = v get more of them."""

    @settings(max_examples=2 * settings.default.max_examples * GENS[name].weight * SCALE)
    @given(data=st.data())
    def run(data):
        _fuzz(name, data)

    run()


# ---- what the hunt found, one regression test each ------------------------------------------


def test_negative_slice_step_is_refused_as_torch():
    x = tr.arange(6.0).reshape(2, 3)
    for key in (slice(None, None, -1), (0, slice(None, None, -2))):
        with pytest.raises(ValueError, match="step must be greater than zero"):
            x[key]
        with pytest.raises(ValueError, match="step must be greater than zero"):
            x[key] = 1.0
    with pytest.raises(IndexError):  # too many indices is found first, as by torch
        x[0, 0, ::-1]
    assert x.flip(1)[0].tolist() == [2.0, 1.0, 0.0]


def test_index_tensor_dtypes_as_torch():
    x = tr.arange(6.0).reshape(3, 2)
    i16 = tr.tensor([0, 1], dtype=tr.int16)
    with pytest.raises(IndexError, match="long, int, byte or bool"):
        x[i16]
    with pytest.raises(TypeError, match="int64, int32, bool"):  # (a dtype: a TypeError here)
        x.index_put((i16,), tr.tensor(1.0))
    assert x[tr.tensor(1, dtype=tr.int16)].tolist() == [2.0, 3.0]  # a 0-d integer: an int
    with pytest.warns(UserWarning, match="uint8"):  # a uint8 index is a mask, deprecated
        assert x[tr.tensor([1, 0, 1], dtype=tr.uint8)].tolist() == [[0.0, 1.0], [4.0, 5.0]]
    i32 = tr.tensor([[0, 1]], dtype=tr.int32)
    assert x.gather(0, i32).tolist() == [[0.0, 3.0]]
    assert x.index_select(0, i32[0]).shape == (2, 2)
    assert x.take_along_dim(i32.reshape(-1)).tolist() == [0.0, 1.0]  # no dim: as gather
    for f in (lambda i: x.gather(0, i.reshape(1, 2)), lambda i: x.scatter_add(0, i.reshape(
            1, 2), tr.ones(1, 2, dtype=tr.float64)), lambda i: x.index_add(0, i, tr.ones(2, 2))):
        with pytest.raises(TypeError, match="int64 or int32"):
            f(i16)
    for f in (lambda i: x.take(i), lambda i: x.clone().put_(i, tr.ones(2)),
              lambda i: x.index_copy(0, i, tr.ones(2, 2)), lambda i: x.index_fill(0, i, 1.0),
              lambda i: x.take_along_dim(i.reshape(2, 1), 0)):
        with pytest.raises(TypeError, match="int64"):
            f(i32[0])
    with pytest.raises(TypeError, match=r"\(int64 or int32\)"):
        x.index_reduce(0, i16, tr.ones(2, 2), "prod")


def test_masked_fill_broadcasts_x_to_the_mask():
    x = tr.tensor(2.0, requires_grad=True)
    y = x.masked_fill(tr.tensor([True, False, False]), -1.0)
    assert y.tolist() == [-1.0, 2.0, 2.0]
    y.sum().backward()
    assert x.grad.item() == 2.0
    with pytest.raises(ValueError, match="does not broadcast"):
        tr.zeros(2).masked_fill_(tr.tensor([[True, False]] * 2), 1.0)  # in place: x's shape
    with pytest.raises(ValueError, match="broadcast"):
        tr.zeros(2).masked_fill(tr.tensor([True, False, True]), 1.0)


def test_take_along_dim_negative_indices_and_0d():
    x = tr.arange(6.0).reshape(2, 3)
    assert x.take_along_dim(tr.tensor([[-1], [-3]]), 1).tolist() == [[2.0], [3.0]]
    with pytest.raises(ValueError, match="out of bounds"):
        x.take_along_dim(tr.tensor([[-4]]), 1)
    with pytest.raises(ValueError, match="out of bounds"):  # without a dim, as torch's gather
        x.take_along_dim(tr.tensor([-1]))
    with pytest.raises(IndexError, match="0-d"):
        tr.tensor(1.0).take_along_dim(tr.tensor(0), -1)


@pytest.mark.parametrize("how", ["scatter", "scatter_add", "scatter_reduce", "index_reduce"])
def test_empty_index_still_gives_src_a_gradient(how):
    x = tr.zeros(2, 0, requires_grad=True)
    src = tr.ones(2, 0, requires_grad=True)
    i = tr.zeros((2, 0), dtype=tr.int64)
    y = {"scatter": lambda: x.scatter(1, i, src),
         "scatter_add": lambda: x.scatter_add(1, i, src),
         "scatter_reduce": lambda: x.scatter_reduce(1, i, src, "amax"),
         "index_reduce": lambda: x.index_reduce(0, tr.tensor([0, 1]), src, "prod")}[how]()
    y.sum().backward()
    assert src.grad is not None and src.grad.shape == (2, 0)
    assert tr.zeros(1).scatter(0, tr.zeros(0, dtype=tr.int64), tr.tensor([-0.0])).tolist() == [0.0]


def test_index_reduce_checks_its_index_with_an_empty_source():
    with pytest.raises(ValueError, match="index 0 is out of bounds"):
        tr.zeros(0, 2, 0).index_reduce(2, tr.tensor([0, 0]), tr.zeros(0, 2, 2), "amin")


def test_split_of_an_empty_axis_is_one_empty_piece():
    x = tr.zeros(2, 0)
    for size in (1, 3, 0):
        pieces = x.split(size, 1)
        assert [p.shape for p in pieces] == [(2, 0)]
    with pytest.raises(ValueError, match="positive"):
        tr.zeros(2, 3).split(0, 1)
