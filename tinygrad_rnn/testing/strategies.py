"""Hypothesis strategies for testing ops: tensors, shapes that broadcast together, valid axes,
valid indices, and recurrent-layer dimensions. Needs ``hypothesis`` (the ``test`` extra).

Example::

    from hypothesis import given
    from tinygrad_rnn.testing import gradcheck, strategies as st

    @given(st.tensors(requires_grad=True))
    def test_tanh_gradient(x):
        assert gradcheck(lambda t: t.tanh(), [x])
"""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from ..tensor import Tensor, tensor

Shape = tuple[int, ...]


def shapes(min_dims: int = 0, max_dims: int = 3, min_side: int = 1, max_side: int = 4
           ) -> st.SearchStrategy[Shape]:
    """Array shapes (small by default: gradchecks cost one forward per element)."""
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side,
                            max_side=max_side)


@st.composite
def arrays(draw: Any, shape: Shape | st.SearchStrategy[Shape] | None = None,
           dtype: Any = np.float64, min_value: float = -3.0, max_value: float = 3.0,
           ) -> np.ndarray:
    """Host NumPy arrays with finite values in [min_value, max_value]."""
    shp = draw(shapes()) if shape is None else shape if isinstance(shape, tuple) else draw(shape)
    dt = np.dtype(dtype)
    if dt.kind == "f":
        elements = st.floats(min_value, max_value, allow_nan=False, allow_infinity=False,
                             width=64 if dt == np.float64 else 32)
    else:
        elements = st.integers(int(min_value), int(max_value))
    return draw(hnp.arrays(dt, shp, elements=elements))


@st.composite
def tensors(draw: Any, shape: Shape | st.SearchStrategy[Shape] | None = None,
            dtype: Any = np.float64, min_value: float = -3.0, max_value: float = 3.0,
            device: str = "cpu", requires_grad: bool = False) -> Tensor:
    """Tensors of a given (or drawn) shape, dtype, value range and device."""
    a = draw(arrays(shape, dtype, min_value, max_value))
    return tensor(a, device=device, requires_grad=requires_grad)


def broadcastable_shapes(num_shapes: int = 2, min_dims: int = 0, max_dims: int = 3,
                         max_side: int = 4) -> st.SearchStrategy[tuple[Shape, ...]]:
    """Tuples of ``num_shapes`` shapes that broadcast together (sizes of 1 and missing axes)."""
    return hnp.mutually_broadcastable_shapes(
        num_shapes=num_shapes, min_dims=min_dims, max_dims=max_dims, max_side=max_side
    ).map(lambda r: r.input_shapes)


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


@st.composite
def indices(draw: Any, shape: Shape, kind: str | None = None) -> Any:
    """A valid index for an array of ``shape``: ``"basic"`` (ints, slices, None, Ellipsis),
    ``"int_array"`` (NumPy integer arrays, repeats included) or ``"bool_mask"``; drawn when
    ``kind`` is None."""
    kinds = ["basic", "int_array", "bool_mask"] if len(shape) else ["basic"]
    k = kind or draw(st.sampled_from(kinds))
    if k == "basic":
        return draw(hnp.basic_indices(shape, min_dims=0, allow_newaxis=True))
    if k == "int_array":
        return draw(hnp.integer_array_indices(shape, result_shape=hnp.array_shapes(
            min_dims=1, max_dims=2, max_side=4)))
    if k == "bool_mask":
        n = draw(st.integers(1, len(shape)))
        return draw(hnp.arrays(np.bool_, shape[:n]))
    raise ValueError(f"unknown index kind {kind!r}")


def recurrent_dims(max_T: int = 5, max_B: int = 3, max_I: int = 4, max_H: int = 4
                   ) -> st.SearchStrategy[dict[str, int]]:
    """Sequence length T, batch B, input size I and hidden size H, each from 1 up."""
    return st.fixed_dictionaries({
        "T": st.integers(1, max_T), "B": st.integers(1, max_B),
        "I": st.integers(1, max_I), "H": st.integers(1, max_H),
    })
