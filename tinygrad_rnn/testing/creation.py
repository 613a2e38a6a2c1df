"""``make_tensor``, as ``torch.testing.make_tensor``: a tensor of random values for a test."""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from .. import random as _random
from ..tensor import DTypeError, DTypeLike, OpError, Tensor, resolve_dtype, tensor

# (low, high) when not given: PyTorch's table
_DEFAULTS = {"b": (0, 2), "u": (0, 10), "i": (-9, 10), "f": (-9, 9), "c": (-9, 9)}


def _range(dt: np.dtype, low: float | None, high: float | None) -> tuple[float, float]:
    """``low`` and ``high`` (or the defaults), clamped to what ``dt`` holds, checked."""
    default_low, default_high = _DEFAULTS[dt.kind]
    low = default_low if low is None else low
    high = default_high if high is None else high
    if any(isinstance(v, float) and math.isnan(v) for v in (low, high)):
        raise ValueError(f"make_tensor: low and high cannot be NaN, got low={low}, high={high}")
    if dt.kind in "biu" and low == high:
        raise ValueError(f"make_tensor: low must be less than high for an integer dtype, got "
                         f"low={low}, high={high}")
    if low == high:  # PyTorch's deprecation, in its words
        warnings.warn("Passing `low==high` to `torch.testing.make_tensor` for floating or "
                      "complex types is deprecated since 2.1 and will be removed in 2.3. Use "
                      "`torch.full(...)` instead.", FutureWarning, stacklevel=3)
    info = None if dt.kind == "b" else np.iinfo(dt) if dt.kind in "iu" else np.finfo(dt)
    lowest, highest = (0, 2) if info is None else (info.min, info.max)
    low, high = min(max(low, lowest), highest), min(max(high, lowest), highest)
    if dt.kind in "biu":  # integers in [ceil(low), ceil(high)), as PyTorch's
        low, high = math.ceil(low), math.ceil(high)
        if low >= high:  # (PyTorch's random_ refuses it, a RuntimeError)
            raise OpError(f"make_tensor: no integer in [low, high) = [{low}, {high})")
    elif low > high:
        raise ValueError(f"make_tensor: low must be at most high, got low={low}, high={high}")
    return low, high


def make_tensor(*shape: Any, dtype: DTypeLike, device: str = "cpu", low: float | None = None,
                high: float | None = None, requires_grad: bool = False,
                noncontiguous: bool = False, exclude_zero: bool = False,
                memory_format: Any = None) -> Tensor:
    """A tensor of ``shape`` (ints, or one sequence) with values drawn uniformly from
    [``low``, ``high``) (from ``tr.manual_seed``'s generator), as
    ``torch.testing.make_tensor``. The defaults are PyTorch's: [-9, 9) for floating-point
    and complex dtypes (real and imaginary parts alike), [-9, 10) for signed integers,
    [0, 10) for unsigned ones, {False, True} for bool; bounds beyond the dtype's range are
    clamped to it. ``exclude_zero`` replaces zeros by the dtype's smallest positive normal
    number (1 for integers and bool); ``noncontiguous`` gives a tensor over every other
    element of a bigger array (with two elements or more); ``memory_format``
    (``tr.channels_last``, ...) lays the values out so, as ``clone(memory_format=)`` does."""
    if noncontiguous and memory_format is not None:
        raise ValueError("make_tensor: noncontiguous and memory_format are mutually exclusive, "
                         f"got noncontiguous=True and memory_format={memory_format}")
    dt = resolve_dtype(dtype)
    if dt.kind not in "biufc":
        raise DTypeError(f"make_tensor: the dtype {dt} is not supported")
    if requires_grad and dt.kind not in "fc":
        raise ValueError(f"make_tensor: requires_grad=True is not supported for {dt} "
                         "(only floating-point and complex tensors take gradients)")
    size = _random._shape(shape)
    low, high = _range(dt, low, high)
    rng = _random.generator()
    if dt.kind in "biu":
        values = rng.integers(low, high, size, dtype=np.int64 if dt.kind != "u" else np.uint64)
    elif dt.kind == "f":
        values = rng.uniform(low, high, size)
    else:
        real = np.finfo(dt).dtype
        values = (rng.uniform(low, high, size).astype(real)
                  + 1j * rng.uniform(low, high, size).astype(real))
    values = np.asarray(values).astype(dt)
    if exclude_zero:
        tiny = 1 if dt.kind in "biu" else np.finfo(dt).tiny
        values[values == 0] = tiny * (1 + 1j) if dt.kind == "c" else tiny
    out = tensor(values, device=device, requires_grad=requires_grad)
    if noncontiguous and values.size > 1:  # every other element of a bigger array: a view
        xp = out._dev.xp
        spread = xp.repeat(out._data, 2, axis=-1)
        spread[..., 1::2] = 0
        out = Tensor._wrap(spread[..., ::2], out._dev).requires_grad_(requires_grad)
    elif memory_format is not None:  # the same values, laid out as asked (a leaf still)
        out = out.detach().clone(memory_format=memory_format).requires_grad_(requires_grad)
    return out
