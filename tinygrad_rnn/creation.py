"""Creation helpers. Values are made on the host and moved, so every device gets the same ones."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .tensor import DTypeLike, Tensor, default_dtype, resolve_dtype, tensor


def _shape(shape: tuple[Any, ...]) -> tuple[int, ...]:
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    if not all(isinstance(n, (int, np.integer)) and n >= 0 for n in shape):
        raise ValueError(f"a shape is a tuple of non-negative ints, got {shape}")
    return tuple(int(n) for n in shape)


def _dt(dtype: DTypeLike) -> np.dtype:
    return default_dtype() if dtype is None else resolve_dtype(dtype)


def full(
    shape: Sequence[int], fill_value: float, dtype: DTypeLike = None, device: str = "cpu",
    requires_grad: bool = False,
) -> Tensor:
    """A tensor of ``shape`` filled with ``fill_value``; without ``dtype``, of the value's kind
    as in PyTorch: bool, int64 for an integer, else float32."""
    if dtype is None and isinstance(fill_value, (bool, np.bool_)):
        dtype = np.bool_
    elif dtype is None and isinstance(fill_value, (int, np.integer)):
        dtype = np.int64
    return tensor(np.full(_shape((shape,)), fill_value, dtype=_dt(dtype)), device=device,
                  requires_grad=requires_grad)


def zeros(*shape: Any, dtype: DTypeLike = None, device: str = "cpu",
          requires_grad: bool = False) -> Tensor:
    return full(_shape(shape), 0.0, dtype, device, requires_grad)


def ones(*shape: Any, dtype: DTypeLike = None, device: str = "cpu",
         requires_grad: bool = False) -> Tensor:
    return full(_shape(shape), 1.0, dtype, device, requires_grad)


def empty(*size: Any, dtype: DTypeLike = None, device: str = "cpu",
          requires_grad: bool = False) -> Tensor:
    """A tensor of ``size``, as ``torch.empty``, but zero-filled (PyTorch leaves the memory
    uninitialised; here it is always zeros, so code that reads it before writing gets 0)."""
    return zeros(*size, dtype=dtype, device=device, requires_grad=requires_grad)


def full_like(x: Tensor, fill_value: float, dtype: DTypeLike = None,
              requires_grad: bool = False) -> Tensor:
    return full(x.shape, fill_value, dtype or x.dtype, x.device, requires_grad)


def zeros_like(x: Tensor, dtype: DTypeLike = None, requires_grad: bool = False) -> Tensor:
    return full_like(x, 0, dtype, requires_grad)


def ones_like(x: Tensor, dtype: DTypeLike = None, requires_grad: bool = False) -> Tensor:
    return full_like(x, 1, dtype, requires_grad)


def arange(start: float, stop: float | None = None, step: float = 1, dtype: DTypeLike = None,
           device: str = "cpu") -> Tensor:
    """Evenly spaced values in [start, stop); int64 for integer arguments, else float32."""
    a = np.arange(start, stop, step) if stop is not None else np.arange(start)
    if dtype is None and a.dtype.kind == "f":
        dtype = default_dtype()
    return tensor(a, dtype=dtype, device=device)


def eye(n: int, m: int | None = None, dtype: DTypeLike = None, device: str = "cpu") -> Tensor:
    return tensor(np.eye(n, m, dtype=_dt(dtype)), device=device)


def linspace(start: float, end: float, steps: int, dtype: DTypeLike = None,
             device: str = "cpu") -> Tensor:
    """``steps`` evenly spaced values from ``start`` to ``end``, both included (float32 unless
    ``dtype``), as ``torch.linspace``."""
    return tensor(np.linspace(start, end, steps), dtype=dtype or default_dtype(), device=device)


def from_numpy(a: np.ndarray) -> Tensor:
    """A tensor of ``a``'s values and dtype. A copy: a tensor owns its array (PyTorch's shares
    ``a``'s memory)."""
    if not isinstance(a, np.ndarray):
        raise TypeError(f"from_numpy expects a numpy.ndarray, got {type(a).__name__}")
    return tensor(a)


class _LegacyType(type):
    """The type of ``tr.FloatTensor`` and its kin, PyTorch's legacy tensor types:
    ``tr.FloatTensor(2, 3)`` (sizes: a zero-filled tensor, where PyTorch's is
    uninitialised), ``tr.LongTensor([1, 2])`` (data: of that dtype), ``tr.FloatTensor()``
    (empty), each with ``device=``; ``isinstance(x, tr.FloatTensor)`` tests x's dtype, and
    ``x.type(tr.FloatTensor)`` converts, as there. A tensor given as data must be of that
    dtype already (as PyTorch: convert with ``x.to(dtype)``)."""

    _legacy_dtype: np.dtype

    def __call__(cls, *data: Any, device: str | None = None) -> Tensor:
        dt = cls._legacy_dtype
        if len(data) == 1 and isinstance(data[0], Tensor) and data[0].dtype != dt:
            raise TypeError(f"{cls.__name__}(x): x is {data[0].dtype}, not {dt}; convert it "
                            f"with x.to({dt.name!r}) (or x.type(tr.{cls.__name__}))")
        return Tensor(*data, dtype=dt, device=device)

    def __instancecheck__(cls, obj: Any) -> bool:
        return isinstance(obj, Tensor) and obj.dtype == cls._legacy_dtype

    def __repr__(cls) -> str:
        return f"<class 'tinygrad_rnn.{cls.__name__}'>"


def _legacy(name: str, dtype: Any) -> _LegacyType:
    return _LegacyType(name, (), {"_legacy_dtype": np.dtype(dtype), "__doc__": (
        f"PyTorch's legacy ``torch.{name}``: a {np.dtype(dtype)} tensor of the sizes or the "
        "data given (see ``_LegacyType``).")})


FloatTensor = _legacy("FloatTensor", np.float32)
DoubleTensor = _legacy("DoubleTensor", np.float64)
HalfTensor = _legacy("HalfTensor", np.float16)
LongTensor = _legacy("LongTensor", np.int64)
IntTensor = _legacy("IntTensor", np.int32)
ByteTensor = _legacy("ByteTensor", np.uint8)
BoolTensor = _legacy("BoolTensor", np.bool_)


def empty_like(x: Tensor, *, dtype: DTypeLike = None, device: str | None = None,
               requires_grad: bool = False) -> Tensor:
    """A tensor of x's shape, dtype and device (or ``dtype``, ``device``), as
    ``torch.empty_like``, but zero-filled (see ``empty``)."""
    if not isinstance(x, Tensor):
        raise TypeError(f"empty_like: x must be a Tensor, got {type(x).__name__}")
    return full(x.shape, 0, dtype or x.dtype, device or x.device, requires_grad)
