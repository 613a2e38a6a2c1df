"""Creation helpers. Values are made on the host and moved, so every device gets the same ones."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from .tensor import (
    DTypeError,
    DTypeLike,
    Tensor,
    _default_complex,
    _laid_out,
    check_fits,
    default_dtype,
    preserve_format,
    resolve_dtype,
    tensor,
)


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
    as in PyTorch: bool, int64 for an integer, the default complex dtype for a complex
    number, else the default float dtype; a number out of an integer dtype's range is
    refused."""
    if dtype is None and isinstance(fill_value, (bool, np.bool_)):
        dtype = np.bool_
    elif dtype is None and isinstance(fill_value, (int, np.integer)):
        dtype = np.int64
    elif dtype is None and isinstance(fill_value, (complex, np.complexfloating)):
        dtype = _default_complex()
    dt = _dt(dtype)
    check_fits(fill_value, dt, "full")
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
              requires_grad: bool = False, *, layout: Any = None, device: str | None = None,
              memory_format: Any = preserve_format) -> Tensor:
    """A tensor of x's shape filled with ``fill_value``, of x's dtype and device (or
    ``dtype``, ``device``), laid out as x (or as ``memory_format`` asks), as
    ``torch.full_like``."""
    out = full(x.shape, fill_value, dtype or x.dtype, device or x.device, requires_grad)
    return _laid_out("full_like", out, x, memory_format, layout)


def zeros_like(x: Tensor, dtype: DTypeLike = None, requires_grad: bool = False, *,
               layout: Any = None, device: str | None = None,
               memory_format: Any = preserve_format) -> Tensor:
    return full_like(x, 0, dtype, requires_grad, layout=layout, device=device,
                     memory_format=memory_format)


def ones_like(x: Tensor, dtype: DTypeLike = None, requires_grad: bool = False, *,
              layout: Any = None, device: str | None = None,
              memory_format: Any = preserve_format) -> Tensor:
    return full_like(x, 1, dtype, requires_grad, layout=layout, device=device,
                     memory_format=memory_format)


def arange(start: float = 0, end: float | None = None, step: float = 1,
           dtype: DTypeLike = None, device: str = "cpu", requires_grad: bool = False) -> Tensor:
    """Evenly spaced values in [start, end) (``arange(end)``: from 0), as ``torch.arange``;
    int64 for integer arguments, else the default float dtype. With an integer ``dtype``,
    the values step from start truncated by step truncated, and their count is PyTorch's:
    from the truncated bounds for int64, from the bounds as given for the other integer
    dtypes."""
    if end is None:
        start, end = 0, start
    if dtype is not None and resolve_dtype(dtype).kind in "iu":
        lo, hi, by = int(start), int(end), int(step)
        if by == 0:
            raise ValueError(f"arange: step {step!r} is 0 once truncated to an integer")
        n = math.ceil((hi - lo) / by if resolve_dtype(dtype) == np.int64
                      else (end - start) / step)
        return tensor((lo + by * np.arange(max(n, 0))).astype(dtype), device=device,
                      requires_grad=requires_grad)
    a = np.arange(start, end, step)
    if dtype is None and a.dtype.kind == "f":
        dtype = default_dtype()
    return tensor(a, dtype=dtype, device=device, requires_grad=requires_grad)


def eye(n: int, m: int | None = None, dtype: DTypeLike = None, device: str = "cpu",
        requires_grad: bool = False) -> Tensor:
    return tensor(np.eye(n, m, dtype=_dt(dtype)), device=device, requires_grad=requires_grad)


def linspace(start: float, end: float, steps: int, dtype: DTypeLike = None,
             device: str = "cpu", requires_grad: bool = False) -> Tensor:
    """``steps`` evenly spaced values from ``start`` to ``end``, both included (float32 unless
    ``dtype``), as ``torch.linspace``."""
    return tensor(np.linspace(start, end, steps), dtype=dtype or default_dtype(), device=device,
                  requires_grad=requires_grad)


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
            raise DTypeError(f"{cls.__name__}(x): x is {data[0].dtype}, not {dt}; convert it "
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
               requires_grad: bool = False, layout: Any = None,
               memory_format: Any = preserve_format) -> Tensor:
    """A tensor of x's shape, dtype and device (or ``dtype``, ``device``), as
    ``torch.empty_like``, but zero-filled (see ``empty``)."""
    if not isinstance(x, Tensor):
        raise TypeError(f"empty_like: x must be a Tensor, got {type(x).__name__}")
    out = full(x.shape, 0, dtype or x.dtype, device or x.device, requires_grad)
    return _laid_out("empty_like", out, x, memory_format, layout)


def scalar_tensor(s: Any, *, dtype: DTypeLike = None, device: str = "cpu",
                  requires_grad: bool = False) -> Tensor:
    """A 0-d tensor holding the number ``s``, of the default float dtype unless ``dtype``
    (even for an int or bool, as ``torch.scalar_tensor``)."""
    if isinstance(s, Tensor) or not isinstance(s, (int, float, bool, np.number, np.bool_)):
        raise TypeError(f"scalar_tensor: s must be a number, got {type(s).__name__}")
    return tensor(np.array(s, dtype=_dt(dtype)), device=device, requires_grad=requires_grad)


def empty_strided(size: Sequence[int], stride: Sequence[int], *, dtype: DTypeLike = None,
                  device: str = "cpu", requires_grad: bool = False) -> Tensor:
    """A zero-filled tensor of ``size``, as ``torch.empty_strided``, but C-contiguous:
    strides are not modelled here (every op takes any layout), so ``stride`` is checked
    for its length and sign only and then ignored (``x.stride()`` gives C order's)."""
    size, stride = tuple(size), tuple(stride)
    if len(size) != len(stride):
        raise ValueError(f"empty_strided: {len(size)} sizes but {len(stride)} strides")
    if any(not isinstance(s, (int, np.integer)) or s < 0 for s in stride):
        raise ValueError(f"empty_strided: strides must be non-negative ints, got {stride}")
    return zeros(size, dtype=dtype, device=device, requires_grad=requires_grad)


def frombuffer(buffer: Any, *, dtype: DTypeLike, count: int = -1, offset: int = 0,
               requires_grad: bool = False) -> Tensor:
    """A 1-D CPU tensor of the buffer's bytes read as ``dtype`` (``count`` elements, all by
    default, from byte ``offset``), as ``torch.frombuffer``. It shares the buffer's memory
    for reading, as PyTorch's; this tensor's own in-place ops write a new array (copy on
    write, as every tensor here), so they do not reach the buffer."""
    from .backend import get_device

    dt = resolve_dtype(dtype)
    try:
        n_bytes = memoryview(buffer).nbytes
    except TypeError:
        raise TypeError(f"frombuffer: {type(buffer).__name__} does not implement the buffer "
                        "protocol") from None
    if offset < 0 or offset > n_bytes or (offset == n_bytes and n_bytes):
        raise ValueError(f"frombuffer: offset {offset} must be in [0, {n_bytes}) for a buffer "
                         f"of {n_bytes} bytes")
    if count == 0 or (count < 0 and (n_bytes - offset) % dt.itemsize):
        raise ValueError(f"frombuffer: {n_bytes - offset} bytes from offset {offset} are not "
                         f"a whole number of {dt} elements ({dt.itemsize} bytes); give count")
    a = np.frombuffer(buffer, dtype=dt, count=count, offset=offset)
    out = Tensor._wrap(a, get_device("cpu"), False)
    if requires_grad:
        out.requires_grad_()
    return out


# ---- window functions, as torch.hann_window and friends ---------------------------------------


def _window(name: str, window_length: int, periodic: bool, dtype: DTypeLike, device: str,
            requires_grad: bool, values: Any) -> Tensor:
    """``values(n)`` (float64, n points, n >= 2) for a symmetric window of n points, or of
    window_length + 1 with the last dropped for a ``periodic`` one; [] and [1] for lengths 0
    and 1, as PyTorch's. Floating-point dtypes only."""
    if isinstance(window_length, bool) or not isinstance(window_length, (int, np.integer)) or \
            window_length < 0:
        raise ValueError(f"{name} requires a non-negative window_length, got {window_length!r}")
    dt = _dt(dtype)
    if dt.kind != "f":
        raise DTypeError(f"{name} expects floating point dtypes, got {dt}")
    if window_length <= 1:
        w = np.ones(window_length)
    else:
        n = window_length + 1 if periodic else window_length
        w = values(n)[:window_length]
    return tensor(w.astype(dt), device=device, requires_grad=requires_grad)


def hamming_window(window_length: int, periodic: bool = True, alpha: float = 0.54,
                   beta: float = 0.46, *, dtype: DTypeLike = None, device: str = "cpu",
                   requires_grad: bool = False) -> Tensor:
    """w[k] = α - β cos(2πk / (N - 1)), as ``torch.hamming_window`` (``periodic``: N =
    window_length + 1, the last point dropped, for spectral analysis)."""
    return _window("hamming_window", window_length, periodic, dtype, device, requires_grad,
                   lambda n: alpha - beta * np.cos(np.arange(n) * (2 * np.pi / (n - 1))))


def hann_window(window_length: int, periodic: bool = True, *, dtype: DTypeLike = None,
                device: str = "cpu", requires_grad: bool = False) -> Tensor:
    """w[k] = 1/2 - cos(2πk / (N - 1)) / 2, as ``torch.hann_window``."""
    return _window("hann_window", window_length, periodic, dtype, device, requires_grad,
                   lambda n: 0.5 - 0.5 * np.cos(np.arange(n) * (2 * np.pi / (n - 1))))


def blackman_window(window_length: int, periodic: bool = True, *, dtype: DTypeLike = None,
                    device: str = "cpu", requires_grad: bool = False) -> Tensor:
    """w[k] = 0.42 - cos(2πk / (N - 1)) / 2 + 0.08 cos(4πk / (N - 1)), as
    ``torch.blackman_window``."""
    def values(n: int) -> Any:
        t = np.arange(n) * (np.pi / (n - 1))
        return 0.08 * np.cos(4 * t) - 0.5 * np.cos(2 * t) + 0.42

    return _window("blackman_window", window_length, periodic, dtype, device, requires_grad,
                   values)


def bartlett_window(window_length: int, periodic: bool = True, *, dtype: DTypeLike = None,
                    device: str = "cpu", requires_grad: bool = False) -> Tensor:
    """The triangle w[k] = 1 - |2k / (N - 1) - 1|, as ``torch.bartlett_window``."""
    def values(n: int) -> Any:
        w = np.arange(n) * (2.0 / (n - 1))
        half = ((n - 1) >> 1) + 1
        w[half:] = 2 - w[half:]
        return w

    return _window("bartlett_window", window_length, periodic, dtype, device, requires_grad,
                   values)


def kaiser_window(window_length: int, periodic: bool = True, beta: float = 12.0, *,
                  dtype: DTypeLike = None, device: str = "cpu", requires_grad: bool = False
                  ) -> Tensor:
    """w[k] = I0(β √(1 - ((k - a) / a)²)) / I0(β), a = (N - 1) / 2, as
    ``torch.kaiser_window`` (I0 the modified Bessel function, ``tr.i0``)."""
    from .ops.elementwise import bessel_i_array

    def values(n: int) -> Any:
        a = (n - 1) / 2.0
        r = (np.arange(n) - a) / a
        arg = beta * np.sqrt(np.maximum(1 - r * r, 0.0))
        return bessel_i_array(np, arg, 0) / bessel_i_array(np, np.array(float(beta)), 0)

    return _window("kaiser_window", window_length, periodic, dtype, device, requires_grad,
                   values)
