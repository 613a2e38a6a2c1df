"""Hypothesis strategies for testing ops: tensors, shapes that broadcast together, tensors of
such shapes, valid axes, valid indices, recurrent-layer dimensions, and sparse COO tensors.
Needs ``hypothesis`` (the ``test`` extra). Zero-size axes work throughout: draw them with
``min_side=0``, or pass a shape holding a 0. Shapes are small by default (at most 3 axes of
at most 4), 0-d included.

Values are float64 in [-3, 3] by default, finite. A gradient check fails where the function
has a kink or a tie within ``eps`` of the point: draw values ``away_from`` the kinks (0 for
``abs``, ``relu``, ``sign``; -1 and 1 for a clip to [-1, 1]) and ``distinct`` ones for a
selection (``max``, ``sort``, ``median``), each at least ``gap`` apart.

Example::

    from hypothesis import given
    from tinygrad_rnn.testing import gradcheck, strategies as st

    @given(st.tensors(requires_grad=True))
    def test_tanh_gradient(x):
        assert gradcheck(lambda t: t.tanh(), [x])

    @given(st.broadcastable_tensors(2, requires_grad=True))
    def test_mul_gradient(xs):
        assert gradcheck(lambda a, b: a * b, xs)

    @given(st.tensors(st.shapes(min_side=0), requires_grad=True, away_from=[0.0]))
    def test_abs_gradient(x):
        assert gradcheck(lambda t: t.abs(), [x])

    @given(st.tensors(st.shapes(min_dims=1), requires_grad=True, distinct=True))
    def test_max_gradient(x):
        assert gradcheck(lambda t: t.max(), [x])
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from ..tensor import Tensor, tensor

Shape = tuple[int, ...]
ShapeArg = Sequence[int] | st.SearchStrategy[Shape] | None
INDEX_KINDS = ("basic", "int_array", "bool_mask")


def shapes(min_dims: int = 0, max_dims: int = 3, min_side: int = 1, max_side: int = 4
           ) -> st.SearchStrategy[Shape]:
    """Array shapes (small by default: gradchecks cost one forward per element)."""
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side,
                            max_side=max_side)


def _float_bounds(dt: np.dtype, min_value: float, max_value: float) -> tuple[float, float]:
    """[min_value, max_value] rounded inward to values of ``dt`` (0.1 is no float32) and
    clipped to what it holds."""
    info = np.finfo(dt)
    lo, hi = (dt.type(min(max(v, float(info.min)), float(info.max)))
              for v in (min_value, max_value))
    lo = lo if float(lo) >= min_value else np.nextafter(lo, dt.type(np.inf))
    hi = hi if float(hi) <= max_value else np.nextafter(hi, dt.type(-np.inf))
    if lo > hi:
        raise ValueError(f"no {dt} value lies in [{min_value}, {max_value}]")
    return float(lo), float(hi)


def _allowed(dt: np.dtype, lo: float, hi: float, away_from: Sequence[float], gap: float
             ) -> list[tuple[float, float]]:
    """[lo, hi] less the open intervals of radius ``gap`` around the points ``away_from``, as
    closed intervals whose ends are values of ``dt``."""
    pieces = [(lo, hi)]
    for p in sorted(float(v) for v in away_from):
        # the ends: values of dt whose distance to p, computed in float64 as a test would,
        # is at least gap (p + gap itself may round to a hair inside)
        cut = float(dt.type(p - gap))
        while p - cut < gap:
            cut = float(np.nextafter(dt.type(cut), dt.type(-np.inf)))
        q = float(dt.type(p + gap))
        while q - p < gap:
            q = float(np.nextafter(dt.type(q), dt.type(np.inf)))
        pieces = [part for a, b in pieces for part in ((a, min(b, cut)), (max(a, q), b))
                  if part[0] <= part[1]]
    if not pieces:
        raise ValueError(f"no {dt} value lies in [{lo}, {hi}] at least {gap} away from "
                         f"{list(away_from)}")
    return pieces


def _grid_step(dt: np.dtype, lo: float, hi: float, gap: float) -> float:
    """The step of ``distinct``'s grid: gap widened by twice the rounding of the largest value
    in dt, so that neighbours, once rounded to dt, stay gap apart (in float32 too)."""
    return gap + 4 * max(abs(lo), abs(hi)) * float(np.finfo(dt).eps)


def _elements(dt: np.dtype, min_value: float, max_value: float, away_from: Sequence[float] = (),
              distinct: bool = False, gap: float = 1e-3) -> st.SearchStrategy[Any]:
    """Values of dtype ``dt`` in [min_value, max_value] (clipped to what ``dt`` holds); floats
    at least ``gap`` from each point of ``away_from``, and on a grid of step ``gap`` if
    ``distinct`` (so that unique values are ``gap`` apart)."""
    if (away_from or distinct) and dt.kind != "f":
        raise ValueError(f"away_from and distinct are for floating dtypes, not {dt}")
    if not gap > 0:
        raise ValueError(f"gap must be positive, not {gap!r}")
    if dt.kind == "b":
        return st.booleans()
    if dt.kind == "f":
        lo, hi = _float_bounds(dt, min_value, max_value)
        pieces = _allowed(dt, lo, hi, away_from, gap)
        if distinct:  # multiples of a step: two different ones are at least gap apart
            step = _grid_step(dt, lo, hi, gap)
            steps = [(math.ceil(a / step), math.floor(b / step), a, b) for a, b in pieces]
            grids = [st.integers(m, n).map(  # (clipped to the piece: k * step rounds)
                lambda k, a=a, b=b: min(max(float(dt.type(k * step)), a), b))
                for m, n, a, b in steps if m <= n]
            if not grids:
                raise ValueError(f"no multiple of gap={gap} lies in [{lo}, {hi}] away from "
                                 f"{list(away_from)}")
            return st.one_of(*grids)
        floats = [st.floats(a, b, allow_nan=False, allow_infinity=False, width=8 * dt.itemsize)
                  for a, b in pieces]
        return floats[0] if len(floats) == 1 else st.one_of(*floats)
    if dt.kind in "iu":
        info = np.iinfo(dt)
        return st.integers(max(math.ceil(min_value), int(info.min)),
                           min(math.floor(max_value), int(info.max)))
    raise ValueError(f"unsupported dtype {dt}: use a floating, integer or bool dtype")


def arrays(shape: ShapeArg = None, dtype: Any = np.float64, min_value: float = -3.0,
           max_value: float = 3.0, *, away_from: Sequence[float] = (), distinct: bool = False,
           gap: float = 1e-3) -> st.SearchStrategy[np.ndarray]:
    """Host NumPy arrays of ``shape`` (a tuple or list, a strategy, or None for ``shapes()``).

    Floats are finite and in [min_value, max_value]; integers are in that range as far as the
    dtype reaches (a uint8 array from the default range holds 0 to 3); bools ignore the range.
    For floats, ``away_from`` keeps every element at least ``gap`` from each of its points
    (where the function checked has a kink: ``|x - p| >= gap``), and ``distinct`` makes the
    elements pairwise at least ``gap`` apart (no ties: they are drawn as multiples of
    ``gap``). The default gap, 1e-3, is far above gradcheck's eps (1e-6), so central
    differences never straddle a kink or a tie. (A ValueError says when no value qualifies.)
    """
    shp = shapes() if shape is None else shape if isinstance(shape, st.SearchStrategy) \
        else tuple(shape)
    dt = np.dtype(dtype)
    elements = _elements(dt, min_value, max_value, away_from, distinct, gap)
    if distinct and isinstance(shp, tuple):  # too few values would only fail to draw later
        lo, hi = _float_bounds(dt, min_value, max_value)
        step = _grid_step(dt, lo, hi, gap)
        room = sum(max(0, math.floor(b / step) - math.ceil(a / step) + 1)
                   for a, b in _allowed(dt, lo, hi, away_from, gap))
        if room < math.prod(shp):
            raise ValueError(f"distinct: an array of shape {shp} needs {math.prod(shp)} values "
                             f"{gap} apart, and only {room} fit in [{min_value}, {max_value}]: "
                             "widen the range or lower gap")
    return hnp.arrays(dt, shp, elements=elements, unique=distinct)


def tensors(shape: ShapeArg = None, dtype: Any = np.float64, min_value: float = -3.0,
            max_value: float = 3.0, device: str = "cpu", requires_grad: bool = False, *,
            away_from: Sequence[float] = (), distinct: bool = False, gap: float = 1e-3
            ) -> st.SearchStrategy[Tensor]:
    """Tensors of a given (or drawn) shape, dtype, value range and device, as ``arrays``
    (``away_from``, ``distinct`` and ``gap`` included). Only floating-point tensors can
    require grad; asking it of another dtype is a TypeError."""
    dt = np.dtype(dtype)
    if requires_grad and dt.kind != "f":
        raise TypeError(f"tensors: only floating-point tensors can require grad, not {dt}")
    return arrays(shape, dt, min_value, max_value, away_from=away_from, distinct=distinct,
                  gap=gap).map(
        lambda a: tensor(a, dtype=dt, device=device, requires_grad=requires_grad))


def broadcastable_shapes(num_shapes: int = 2, min_dims: int = 0, max_dims: int = 3,
                         min_side: int = 1, max_side: int = 4
                         ) -> st.SearchStrategy[tuple[Shape, ...]]:
    """Tuples of ``num_shapes`` shapes that broadcast together (sizes of 1 and missing axes).
    With ``min_side=0`` an axis may have size 0; the others then have 0 or 1 there. (The
    arguments come in the order of ``shapes`` and ``broadcastable_arrays``.)"""
    return hnp.mutually_broadcastable_shapes(
        num_shapes=num_shapes, min_dims=min_dims, max_dims=max_dims, min_side=min_side,
        max_side=max_side,
    ).map(lambda r: r.input_shapes)


def broadcastable_arrays(num_arrays: int = 2, dtype: Any = np.float64, min_value: float = -3.0,
                         max_value: float = 3.0, min_dims: int = 0, max_dims: int = 3,
                         min_side: int = 1, max_side: int = 4, *,
                         away_from: Sequence[float] = (), gap: float = 1e-3
                         ) -> st.SearchStrategy[tuple[np.ndarray, ...]]:
    """Tuples of ``num_arrays`` arrays (as ``arrays``, ``away_from`` and ``gap`` included)
    whose shapes broadcast together: the operands of an elementwise op."""
    _elements(np.dtype(dtype), min_value, max_value, away_from, False, gap)  # fail now, not later
    return broadcastable_shapes(num_arrays, min_dims, max_dims, min_side, max_side).flatmap(
        lambda shps: st.tuples(*(arrays(s, dtype, min_value, max_value, away_from=away_from,
                                        gap=gap) for s in shps)))


def broadcastable_tensors(num_tensors: int = 2, dtype: Any = np.float64,
                          min_value: float = -3.0, max_value: float = 3.0, device: str = "cpu",
                          requires_grad: bool = False, min_dims: int = 0, max_dims: int = 3,
                          min_side: int = 1, max_side: int = 4, *,
                          away_from: Sequence[float] = (), gap: float = 1e-3
                          ) -> st.SearchStrategy[tuple[Tensor, ...]]:
    """Tuples of ``num_tensors`` tensors (as ``tensors``) whose shapes broadcast together: the
    usual inputs to check a binary op, e.g. ``gradcheck(lambda a, b: a * b, xs)``."""
    dt = np.dtype(dtype)
    if requires_grad and dt.kind != "f":
        raise TypeError(f"broadcastable_tensors: only floating-point tensors can require "
                        f"grad, not {dt}")
    return broadcastable_arrays(num_tensors, dt, min_value, max_value, min_dims, max_dims,
                                min_side, max_side, away_from=away_from, gap=gap).map(
        lambda arrs: tuple(tensor(a, dtype=dt, device=device, requires_grad=requires_grad)
                           for a in arrs))


@st.composite
def axes(draw: Any, ndim: int, allow_none: bool = True, allow_tuple: bool = True
         ) -> int | tuple[int, ...] | None:
    """A valid ``axis`` argument for an array with ``ndim`` axes: None, an int or a tuple of
    distinct ints, negative ones included."""
    options = []
    if allow_none:
        options.append(st.none())
    if ndim > 0:
        options.append(st.integers(-ndim, ndim - 1))
        if allow_tuple:
            options.append(hnp.valid_tuple_axes(ndim))
    elif allow_tuple:
        options.append(st.just(()))
    return draw(st.one_of(*options))


def indices(shape: Sequence[int], kind: str | None = None) -> st.SearchStrategy[Any]:
    """A valid index for an array of ``shape``: ``"basic"`` (ints, slices of positive steps,
    None, Ellipsis), ``"int_array"`` (a tuple of NumPy integer arrays, one per axis, repeats
    included) or ``"bool_mask"`` (over the leading axes); drawn when ``kind`` is None.

    Zero-size axes work as NumPy's: no integer indexes an axis of size 0, so there a basic
    index holds only slices, None and Ellipsis, and ``"int_array"`` gives empty integer arrays
    (selecting nothing, as ``a[[]]`` does). A 0-d shape takes only basic indices; asking it for
    another kind is a ValueError, as is an unknown kind.
    """
    shape = tuple(shape)
    if kind is not None and kind not in INDEX_KINDS:
        raise ValueError(f"unknown index kind {kind!r}: use one of {INDEX_KINDS} or None")
    if kind is not None and kind != "basic" and not shape:
        raise ValueError(f"a {kind} index needs an array with at least one axis, not shape ()")
    return _indices(shape, kind)


def _forward_steps(index: Any) -> Any:
    """The index with every slice of a negative step (NumPy's, which PyTorch refuses) made to
    step forward by as much over the whole axis."""
    def one(p: Any) -> Any:
        return slice(None, None, -p.step) if isinstance(p, slice) and p.step is not None \
            and p.step < 0 else p
    return tuple(one(p) for p in index) if isinstance(index, tuple) else one(index)


@st.composite
def _indices(draw: Any, shape: Shape, kind: str | None) -> Any:
    k = kind or draw(st.sampled_from(INDEX_KINDS if shape else ("basic",)))
    if k == "basic":
        index = draw(hnp.basic_indices(shape, min_dims=0, allow_newaxis=True))
        return _forward_steps(index)
    if k == "int_array":
        result = hnp.array_shapes(min_dims=1, max_dims=2, max_side=4)
        if 0 not in shape:
            return draw(hnp.integer_array_indices(shape, result_shape=result))
        empty = list(draw(result))  # the only valid integer arrays here are empty ones
        empty[draw(st.integers(0, len(empty) - 1))] = 0
        return tuple(np.zeros(empty, dtype=np.intp) for _ in shape)
    n = draw(st.integers(1, len(shape)))
    return draw(hnp.arrays(np.bool_, shape[:n]))


def recurrent_dims(max_T: int = 5, max_B: int = 3, max_I: int = 4, max_H: int = 4
                   ) -> st.SearchStrategy[dict[str, int]]:
    """Sequence length T, batch B, input size I and hidden size H, each from 1 up."""
    return st.fixed_dictionaries({
        "T": st.integers(1, max_T), "B": st.integers(1, max_B),
        "I": st.integers(1, max_I), "H": st.integers(1, max_H),
    })


@st.composite
def sparse_coo_tensors(draw: Any, max_sparse_dim: int = 2, max_dense_dim: int = 1,
                       max_side: int = 4, max_nnz: int = 6, dtype: Any = np.float64,
                       device: str = "cpu", requires_grad: bool = False) -> Any:
    """Sparse COO tensors (``tr.sparse_coo_tensor``): 1 to ``max_sparse_dim`` sparse axes,
    0 to ``max_dense_dim`` dense ones (hybrid tensors, values (nnz, *dense sizes)), sides 1 to
    ``max_side``, 0 to ``max_nnz`` entries whose indices may repeat (uncoalesced tensors:
    the repeats add up), values as ``arrays``'."""
    from ..sparse import sparse_coo_tensor

    sd = draw(st.integers(1, max_sparse_dim))
    shape = draw(shapes(sd, sd + max_dense_dim, 1, max_side).filter(lambda s: len(s) >= sd))
    nnz = draw(st.integers(0, max_nnz))
    idx = np.array([[draw(st.integers(0, n - 1)) for _ in range(nnz)] for n in shape[:sd]],
                   dtype=np.int64).reshape(sd, nnz)
    vals = draw(arrays((nnz,) + shape[sd:], dtype))
    return sparse_coo_tensor(idx, vals, shape, dtype=dtype, device=device,
                             requires_grad=requires_grad)
