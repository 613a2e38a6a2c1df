"""``as_strided``, ``as_strided_scatter`` and PyTorch's ``*_copy`` functions (each view op's
result as a tensor of its own).

Arrays here are copied on write, so no tensor shares memory with another, and a view cannot
step through its base's memory: sizes and strides count in the elements of the tensor itself,
laid out in C order (a non-contiguous input is refused), which is the memory a contiguous
PyTorch tensor has. ``as_strided`` then picks, for each index (i0, ..., ik) of the
result, the element at flat position ``offset + i0*s0 + ... + ik*sk``: one gather (``GetItem``),
whose gradient adds back into those positions, so windows that overlap sum their gradients."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..tensor import Tensor
from .elementwise import AsType
from .movement import GetItem, Reshape, SetItem, _scatter_source, _sort_axis

# views in PyTorch (strides through their base's memory), copies here
_NOT_OWN = {"unfold", "diagonal", "as_strided"}


def _int_tuple(what: str, name: str, v: Any) -> tuple[int, ...]:
    """``v`` (a tuple, list or Size of ints) as a tuple, else PyTorch's TypeError."""
    if not isinstance(v, (tuple, list)):
        raise TypeError(f"{what}(): argument '{name}' must be a tuple of ints, not "
                        f"{type(v).__name__}")
    for k, n in enumerate(v):
        if isinstance(n, (bool, np.bool_)) or not isinstance(n, (int, np.integer)):
            raise TypeError(f"{what}(): argument '{name}' must be a tuple of ints, but found "
                            f"element of type {type(n).__name__} at pos {k}")
    return tuple(int(n) for n in v)


def _positions(what: str, x: Tensor, size: Any, stride: Any, storage_offset: Any) -> Any:
    """The flat position in ``x`` (C order) of each element of ``x.as_strided(size, stride,
    storage_offset)``, an int64 array of shape ``size`` on x's device; every check first."""
    if not isinstance(x, Tensor):
        raise TypeError(f"{what}: input must be a Tensor, got {type(x).__name__}")
    shape, steps = _int_tuple(what, "size", size), _int_tuple(what, "stride", stride)
    if len(shape) != len(steps):
        raise ValueError(f"{what}: {len(shape)} sizes {shape} but {len(steps)} strides {steps} "
                         "(one stride per size)")
    if any(n < 0 for n in shape):
        raise ValueError(f"{what}: sizes must be >= 0, got {shape}")
    if any(s < 0 for s in steps):
        raise ValueError(f"{what}: negative strides are not supported (as in PyTorch), got "
                         f"{steps}")
    t = x
    while t._base is not None:  # x, or a tensor it is a view of, made by one of those
        if t._base.kind in _NOT_OWN:
            raise ValueError(f"{what}: input is (a view of) the result of {t._base.kind}, a "
                             "view in PyTorch whose strides step through its base's memory, "
                             "but laid out in C order of its own here; call "
                             f"{what} on the base, or on input.clone() "
                             "for a tensor of its own")
        t = t._base.base
    if not x.is_contiguous():
        raise ValueError(f"{what}: input of shape {x.shape} has strides {x.stride()}, not a "
                         "contiguous layout; sizes and strides here count in the tensor's own "
                         "elements in C order, so call .contiguous() first (PyTorch would "
                         "step through the memory behind the non-contiguous layout)")
    start = 0
    if storage_offset is not None:
        if isinstance(storage_offset, (bool, np.bool_)) or not isinstance(
                storage_offset, (int, np.integer)):
            raise TypeError(f"{what}: storage_offset must be an int, got "
                            f"{type(storage_offset).__name__}")
        if storage_offset < 0:
            raise ValueError(f"{what}: storage_offset must be >= 0, got {storage_offset}")
        own = x.storage_offset() if x._base is not None else 0  # (a view's; else 0, fresh)
        start = int(storage_offset) - own
        if start < 0:
            raise ValueError(f"{what}: storage_offset {storage_offset} lies before this "
                             f"tensor's first element (at {own} in the memory it is a view "
                             "of); here only the tensor's own elements can be reached")
    n = math.prod(x.shape)
    if math.prod(shape):
        last = start + sum((k - 1) * s for k, s in zip(shape, steps))
        if last >= n:
            raise ValueError(f"{what}: sizes {shape}, strides {steps} and offset {start} reach "
                             f"element {last}, beyond the {n} elements of input (shape "
                             f"{x.shape}); here only the tensor's own elements can be reached")
    at = np.full(shape, start, dtype=np.int64)
    for k, (m, s) in enumerate(zip(shape, steps)):
        at += (np.arange(m, dtype=np.int64) * s).reshape((m,) + (1,) * (len(shape) - k - 1))
    return x._dev.to_device(at)


def strided_take(x: Tensor, at: Any) -> Tensor:
    """``x``'s elements at the flat positions ``at`` (a gather: gx adds gy back at ``at``)."""
    return GetItem.apply(Reshape.apply(x, shape=(x.size,)), index=at, in_range=True)


def strided_put(x: Tensor, src: Tensor, at: Any) -> Tensor:
    """``x`` with ``src`` written at the flat positions ``at`` (the last write wins where a
    position repeats): gx = gy with 0 at ``at``, gsrc = gy at ``at``."""
    flat = SetItem.apply(Reshape.apply(x, shape=(x.size,)), src, index=at)
    return Reshape.apply(flat, shape=x.shape)


def as_strided(x: Tensor, size: Sequence[int], stride: Sequence[int],
               storage_offset: int | None = None) -> Tensor:
    """``y[i0, ..., ik] = flat(x)[offset + i0*stride[0] + ... + ik*stride[k]]``, of shape
    ``size``, as ``torch.as_strided``, where flat(x) is x's elements in C order: PyTorch's
    result for a contiguous x. ``storage_offset`` counts, as there, from the start of the
    memory x is a view of (None: x's own first element). Refused: negative strides (as
    there), a non-contiguous x, the result of unfold, diagonal or as_strided, or a view of
    one (whose memory is their base's in PyTorch), and a position outside x's elements
    (PyTorch reads the memory around a view; here a tensor reaches only its own elements).

    One gather: VJP gx = zeros like x with gy added at each position, so elements that
    overlapping windows share get the sum of their gradients. A view (kind "as_strided"): a
    write into it reaches x, unless its windows overlap (refused, as an element would be
    written twice)."""
    from ..tensor import _view

    at = _positions("as_strided", x, size, stride, storage_offset)
    return _view(x, strided_take(x, at), "as_strided", at)


def as_strided_copy(x: Tensor, size: Sequence[int], stride: Sequence[int],
                    storage_offset: int | None = None) -> Tensor:
    """``as_strided``'s values in a tensor of their own, as ``torch.as_strided_copy``."""
    at = _positions("as_strided_copy", x, size, stride, storage_offset)
    return strided_take(x, at)


def as_strided_scatter(x: Tensor, src: Tensor, size: Sequence[int], stride: Sequence[int],
                       storage_offset: int | None = None) -> Tensor:
    """x with the elements ``x.as_strided(size, stride, storage_offset)`` picks replaced by
    ``src`` (of shape ``size``, cast to x's dtype), out of place, as
    ``torch.as_strided_scatter``. Windows that overlap are refused: PyTorch refuses a stride
    of 0 and leaves which write wins unspecified otherwise (and gives each writer a
    gradient). A ``SetItem`` on x's flat elements: VJP gx = gy with 0 at the positions
    written, gsrc = gy at those positions."""
    at = _positions("as_strided_scatter", x, size, stride, storage_offset)
    src = _scatter_source("as_strided_scatter", x, src, at.shape)
    if at.size > 1 and int(x._dev.xp.unique(at).size) != at.size:
        raise ValueError(f"as_strided_scatter: sizes {tuple(size)} and strides {tuple(stride)} "
                         "name an element more than once (overlapping windows), so which write "
                         "would win is unspecified (PyTorch refuses a stride of 0 and leaves "
                         "the rest unspecified); write the windows one at a time")
    return strided_put(x, src, at)


# ---- PyTorch's *_copy functions: a view op's result as a tensor of its own -------------------


def _own(y: Tensor) -> Tensor:
    """A C-ordered copy of ``y``, in the graph (gradient unchanged), and no view of anything."""
    return AsType.apply(y, dtype=y.dtype, order="C")


def view_copy(input: Tensor, size: Any) -> Tensor:  # noqa: A002
    """``input.view(size)`` copied, as ``torch.view_copy``: any layout (PyTorch's copies a
    transposed tensor too), one size may be -1. (PyTorch's ``view_copy(x, dtype)``, which
    reads the bits as another dtype, is refused.)"""
    if not isinstance(size, (tuple, list, int, np.integer)):
        raise TypeError(f"view_copy: size must be a sequence of ints, got {size!r} (viewing "
                        "the bits as another dtype is not supported here)")
    return _own(input.reshape(size))


def permute_copy(input: Tensor, dims: Sequence[int]) -> Tensor:  # noqa: A002
    """``input.permute(dims)`` copied (C order), as ``torch.permute_copy``."""
    return _own(input.permute(dims))


def transpose_copy(input: Tensor, dim0: int, dim1: int) -> Tensor:  # noqa: A002
    """``input.transpose(dim0, dim1)`` copied (C order), as ``torch.transpose_copy``."""
    return _own(input.transpose(dim0, dim1))


def t_copy(input: Tensor) -> Tensor:  # noqa: A002
    """``input.t()`` copied (C order), as ``torch.t_copy``."""
    return _own(input.t())


def expand_copy(input: Tensor, size: Sequence[int], *, implicit: bool = False  # noqa: A002
                ) -> Tensor:
    """``input.expand(size)`` copied: every repeated element its own, as
    ``torch.expand_copy`` (``implicit`` taken and ignored, as there)."""
    return _own(input.expand(*size))


def squeeze_copy(input: Tensor, dim: int | Sequence[int] | None = None  # noqa: A002
                 ) -> Tensor:
    """``input.squeeze(dim)`` copied, as ``torch.squeeze_copy``."""
    return _own(input.squeeze(dim))


def unsqueeze_copy(input: Tensor, dim: int) -> Tensor:  # noqa: A002
    """``input.unsqueeze(dim)`` copied, as ``torch.unsqueeze_copy``."""
    return _own(input.unsqueeze(dim))


def select_copy(input: Tensor, dim: int, index: int) -> Tensor:  # noqa: A002
    """``input.select(dim, index)`` copied, as ``torch.select_copy``."""
    return _own(input.select(dim, index))


def slice_copy(input: Tensor, dim: int = 0, start: int | None = None,  # noqa: A002
               end: int | None = None, step: int = 1) -> Tensor:
    """``input[..., start:end:step, ...]`` along ``dim`` (bounds clamped as Python's, step
    > 0), copied, as ``torch.slice_copy``."""
    if input.ndim == 0:
        raise ValueError("slice_copy: a 0-d tensor has no dim to slice")
    ax = _sort_axis("slice_copy", dim, input.ndim)
    if step <= 0:
        raise ValueError(f"slice_copy: step must be > 0, got {step}")
    return _own(input[(slice(None),) * ax + (slice(start, end, step),)])


def diagonal_copy(input: Tensor, offset: int = 0, dim1: int = 0,  # noqa: A002
                  dim2: int = 1) -> Tensor:
    """``input.diagonal(offset, dim1, dim2)`` copied, as ``torch.diagonal_copy``."""
    return _own(input.diagonal(offset, dim1, dim2))


def unbind_copy(input: Tensor, dim: int = 0) -> tuple[Tensor, ...]:  # noqa: A002
    """``input.unbind(dim)``, each piece copied, as ``torch.unbind_copy``."""
    return tuple(_own(p) for p in input.unbind(dim))


def split_copy(input: Tensor, split_size: int | Sequence[int],  # noqa: A002
               dim: int = 0) -> tuple[Tensor, ...]:
    """``input.split(split_size, dim)``, each piece copied, as ``torch.split_copy``."""
    return tuple(_own(p) for p in input.split(split_size, dim))


def split_with_sizes_copy(input: Tensor, split_sizes: Sequence[int],  # noqa: A002
                          dim: int = 0) -> tuple[Tensor, ...]:
    """``input.split_with_sizes(split_sizes, dim)``, each piece copied, as
    ``torch.split_with_sizes_copy``."""
    return tuple(_own(p) for p in input.split_with_sizes(split_sizes, dim))


def unfold_copy(input: Tensor, dimension: int, size: int, step: int) -> Tensor:  # noqa: A002
    """``input.unfold(dimension, size, step)`` copied, as ``torch.unfold_copy``."""
    return _own(input.unfold(dimension, size, step))


def alias_copy(input: Tensor) -> Tensor:  # noqa: A002
    """A copy of ``input``, in the graph, as ``torch.alias_copy``."""
    return _own(input)


def detach_copy(input: Tensor) -> Tensor:  # noqa: A002
    """A copy of ``input`` outside the graph, as ``torch.detach_copy``."""
    return _own(input.detach())


def view_as_real_copy(input: Tensor) -> Tensor:  # noqa: A002
    """``tr.view_as_real(input)`` (already a copy here), as ``torch.view_as_real_copy``."""
    from .complex import view_as_real

    return _own(view_as_real(input))


def view_as_complex_copy(input: Tensor) -> Tensor:  # noqa: A002
    """``tr.view_as_complex(input)`` (already a copy here), as
    ``torch.view_as_complex_copy``."""
    from .complex import view_as_complex

    return _own(view_as_complex(input))


COPIES = ("as_strided_copy", "view_copy", "permute_copy", "transpose_copy", "t_copy",
          "expand_copy", "squeeze_copy", "unsqueeze_copy", "select_copy", "slice_copy",
          "diagonal_copy", "unbind_copy", "split_copy", "split_with_sizes_copy", "unfold_copy",
          "alias_copy", "detach_copy", "view_as_real_copy", "view_as_complex_copy")
