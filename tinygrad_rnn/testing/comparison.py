"""``assert_close``: are two results equal up to rounding? As ``torch.testing.assert_close``:
tensors, arrays, numbers, and lists, tuples and dicts of them, compared element by element
with |actual - expected| <= atol + rtol |expected|, and tolerances that default by dtype."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from ..tensor import Tensor

# (rtol, atol) by dtype, as PyTorch's defaults; integers and bools must be equal
_DEFAULTS = {np.dtype(np.float16): (1e-3, 1e-5), np.dtype(np.float32): (1.3e-6, 1e-5),
             np.dtype(np.float64): (1e-7, 1e-7), np.dtype(np.complex64): (1.3e-6, 1e-5),
             np.dtype(np.complex128): (1e-7, 1e-7)}


Msg = str | Callable[[str], str] | None


def assert_close(actual: Any, expected: Any, *, allow_subclasses: bool = True,
                 rtol: float | None = None, atol: float | None = None, equal_nan: bool = False,
                 check_device: bool = True, check_dtype: bool = True, check_layout: bool = True,
                 check_stride: bool = False, msg: Msg = None) -> None:
    """Raise ``AssertionError`` unless ``actual`` and ``expected`` have the same structure,
    shapes (and, if asked, dtypes and devices) and every element is within
    ``atol + rtol * |expected|`` (NaN equal to NaN only with ``equal_nan``). Give both
    ``rtol`` and ``atol`` or neither: by default they come from the dtype, as in PyTorch
    (float32: 1.3e-6 and 1e-5; float64: 1e-7 and 1e-7; integers: exact).

    ``msg`` replaces the message, or, if callable, makes it from the generated one (as
    PyTorch's). ``allow_subclasses=False`` also asks for the same type of each pair of leaves:
    a Tensor and an array are then a TypeError (a list against a tuple is still compared
    element by element, as PyTorch's). ``check_stride=True`` also
    compares two tensors' ``stride()``; ``check_layout`` is accepted (every tensor here is
    dense)."""
    if (rtol is None) != (atol is None):
        raise ValueError("assert_close: give both rtol and atol, or neither")
    _compare(actual, expected, "", rtol, atol, equal_nan, check_dtype, check_device, msg,
             allow_subclasses, check_stride)


def _compare(a: Any, b: Any, where: str, rtol: float | None, atol: float | None,
             equal_nan: bool, check_dtype: bool, check_device: bool, msg: Msg,
             allow_subclasses: bool = True, check_stride: bool = False) -> None:
    containers = isinstance(b, (Mapping, Sequence)) and not isinstance(b, str)
    if not allow_subclasses and not containers and type(a) is not type(b):  # as PyTorch's:
        # the leaves' types (a list against a tuple, dict against OrderedDict is fine)
        raise TypeError(f"assert_close: the types differ{where}: {type(a).__name__} and "
                        f"{type(b).__name__} (allow_subclasses=False)")
    if a is None or b is None:
        if a is not b:
            _fail(f"one is None and the other is not{where}", msg)
        return
    if isinstance(b, Mapping):
        if not isinstance(a, Mapping) or set(a) != set(b):
            got = sorted(map(str, a)) if isinstance(a, Mapping) else type(a).__name__
            _fail(f"the keys differ{where}: {got} and {sorted(map(str, b))}", msg)
        for k in b:
            _compare(a[k], b[k], f"{where}[{k!r}]", rtol, atol, equal_nan, check_dtype,
                     check_device, msg, allow_subclasses, check_stride)
        return
    if isinstance(b, Sequence) and not isinstance(b, str):
        if not isinstance(a, Sequence) or isinstance(a, str) or len(a) != len(b):
            _fail(f"the sequences differ in length{where}: "
                  f"{len(a) if isinstance(a, Sequence) else type(a).__name__} and {len(b)}", msg)
        for i, (x, y) in enumerate(zip(a, b)):
            _compare(x, y, f"{where}[{i}]", rtol, atol, equal_nan, check_dtype, check_device,
                     msg, allow_subclasses, check_stride)
        return
    if check_device and isinstance(a, Tensor) and isinstance(b, Tensor) and a.device != b.device:
        _fail(f"the devices differ{where}: {a.device!r} and {b.device!r}", msg)
    x, y = _host(a), _host(b)
    if x.shape != y.shape:
        _fail(f"the shapes differ{where}: {x.shape} and {y.shape}", msg)
    if check_dtype and x.dtype != y.dtype:
        _fail(f"the dtypes differ{where}: {x.dtype} and {y.dtype}", msg)
    if check_stride and isinstance(a, Tensor) and isinstance(b, Tensor) and \
            a.stride() != b.stride():
        _fail(f"the strides differ{where}: {a.stride()} and {b.stride()}", msg)
    if rtol is None:  # the looser of the two dtypes' defaults, as PyTorch
        rtol, atol = (max(t) for t in zip(_DEFAULTS.get(x.dtype, (0.0, 0.0)),
                                          _DEFAULTS.get(y.dtype, (0.0, 0.0))))
    if x.dtype.kind in "biu" and y.dtype.kind in "biu":  # integers: exactly, not via float64
        x, y = x.astype(object), y.astype(object)
        if not (x == y).all():
            bad = x != y
            n = int(bad.sum())
            _fail(f"Tensor-likes are not equal{where}!\n\nMismatched elements: {n} / "
                  f"{bad.size} ({100 * n / bad.size:.1f}%)", msg)
        return
    xf, yf = x.astype(np.float64) if x.dtype.kind in "biu" else x, \
        y.astype(np.float64) if y.dtype.kind in "biu" else y
    with np.errstate(invalid="ignore", over="ignore"):
        diff = np.abs(xf - yf)
        bad = ~(diff <= atol + rtol * np.abs(yf))
        bad |= (np.isinf(xf) | np.isinf(yf)) & (xf != yf)  # an infinity only equals itself
        bad &= ~(xf == yf)
        if equal_nan:
            bad &= ~(np.isnan(xf) & np.isnan(yf))
    if bad.any():
        n, total = int(bad.sum()), bad.size
        diff = np.where(bad, np.where(np.isnan(diff), np.inf, diff), 0)  # NaN counts as inf
        worst = tuple(int(i) for i in np.unravel_index(int(np.argmax(diff)), x.shape))
        with np.errstate(divide="ignore", invalid="ignore"):
            rel = np.where(bad, diff / np.abs(yf), 0)
        rel = np.where(np.isnan(rel), np.inf, rel)
        _fail(f"Tensor-likes are not close{where}!\n\n"
              f"Mismatched elements: {n} / {total} ({100 * n / total:.1f}%)\n"
              f"Greatest absolute difference: {diff.max()} at index {worst} "
              f"(up to {atol} allowed)\n"
              f"Greatest relative difference: {rel.max()} (up to {rtol} allowed)", msg)


def _host(v: Any) -> np.ndarray:
    if isinstance(v, Tensor):
        return v.numpy()
    if isinstance(v, (bool, int, float, complex, np.generic, np.ndarray)):
        return np.asarray(v)
    raise TypeError(f"assert_close compares tensors, arrays, numbers and lists, tuples and "
                    f"dicts of them, not {type(v).__name__}")


def _fail(text: str, msg: Msg) -> None:
    raise AssertionError(text if msg is None else msg(text) if callable(msg) else msg)
