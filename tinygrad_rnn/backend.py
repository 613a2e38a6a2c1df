"""Backends: where a tensor's numbers live, and the array module (``xp``) that computes on them.

``"cpu"`` holds ``numpy.ndarray`` and ``"cuda"`` holds ``cupy.ndarray``. Every op asks
``get_array_module(*arrays)`` for ``xp`` and then writes plain ``xp.exp(x)``-style code, so one
implementation serves both. This is the only file that imports CuPy, and only when asked to.

A third device can be registered (``register_device``); the test suite registers ``"strict"``,
a NumPy wrapper that refuses to mix with plain NumPy arrays, so that CI without a GPU still
catches an op that calls NumPy where it should call ``xp`` (see ``tinygrad_rnn.testing.strict``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import numpy as np

CUPY_INSTALL_HINT = (
    'install CuPy for your CUDA version: pip install "tinygrad-rnn[cuda12]" '
    '(or "tinygrad-rnn[cuda13]")'
)


@dataclass
class Device:
    """A named backend: its array type, array module, and host <-> device copies."""

    name: str
    array_type: type
    xp: Any
    to_device: Callable[[np.ndarray], Any]
    to_host: Callable[[Any], np.ndarray]

    # one object per device: copies and unpickled tensors refer to it by name
    def __reduce__(self) -> tuple[Any, ...]:
        return (get_device, (self.name,))

    def __copy__(self) -> Device:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> Device:
        return self


_DEVICES: dict[str, Device] = {
    "cpu": Device("cpu", np.ndarray, np, np.asarray, np.asarray),
}
_cupy: ModuleType | None = None
_cupy_error: str | None = None
_cupy_hint = CUPY_INSTALL_HINT  # what to do about _cupy_error


def _load_cupy() -> ModuleType | None:
    """Import CuPy once; remember why it failed so the error can say it."""
    global _cupy, _cupy_error, _cupy_hint
    if _cupy is None and _cupy_error is None:
        try:
            import cupy
        except Exception as e:  # not installed, or broken
            _cupy_error = f"{type(e).__name__}: {e}"
            if not (isinstance(e, ModuleNotFoundError) and e.name == "cupy"):
                _cupy_hint = ("CuPy is installed but does not import: reinstall the CuPy "
                              "package that matches your CUDA version (cupy-cuda12x or "
                              "cupy-cuda13x), and only one of them")
            return None
        try:
            if cupy.cuda.runtime.getDeviceCount() < 1:
                raise RuntimeError("CuPy found no CUDA device")
            _cupy = cupy
            _DEVICES["cuda"] = Device("cuda", cupy.ndarray, cupy, cupy.asarray, cupy.asnumpy)
        except Exception as e:  # a CUDA driver/runtime error: CuPy is there, the GPU is not
            _cupy_error = f"{type(e).__name__}: {e}"
            _cupy_hint = (f"CuPy {cupy.__version__} is installed but cannot use a GPU: check that "
                          "nvidia-smi sees one and that the CuPy package matches the driver's "
                          "CUDA version (cupy-cuda12x or cupy-cuda13x)")
    return _cupy


def cuda_available() -> bool:
    """True when CuPy imports and sees at least one CUDA device."""
    return _load_cupy() is not None


def known_devices() -> tuple[str, ...]:
    """The names of the devices registered so far ("cpu", "cuda" once CuPy has loaded, ...)."""
    return tuple(_DEVICES)


def register_device(device: Device) -> None:
    """Add a backend under ``device.name`` (used by the test-only ``"strict"`` device)."""
    _DEVICES[device.name] = device


class device(str):  # noqa: N801 - PyTorch's name
    """``tr.device("cuda")``, as ``torch.device``: a device name (a ``str``, so it goes
    wherever a device name does, ``x.to(dev)``, ``device=dev``, and prints as one) with
    ``.type`` ("cpu", "cuda") and ``.index`` (None, or the number after "cuda:"). It is also
    what ``x.device`` gives."""

    def __new__(cls, type: str, index: int | None = None) -> device:  # noqa: A002
        if isinstance(type, device):
            return type
        if not isinstance(type, str):
            raise TypeError(f"device() takes a device name such as 'cpu' or 'cuda', got "
                            f"{type!r}")
        name = type if index is None else f"{type}:{index}"
        kind, _, number = name.partition(":")
        if kind not in ("cpu", "cuda", *_DEVICES) or (":" in name and not number.isdigit()):
            raise ValueError(f"unknown device {name!r}: expected 'cpu', 'cuda' or 'cuda:N'")
        return super().__new__(cls, name)

    @property
    def type(self) -> str:
        return self.split(":")[0]

    @property
    def index(self) -> int | None:
        return int(self.split(":")[1]) if ":" in self else None


_DEVICE_NAMES: dict[str, device] = {}


def device_name(name: str) -> device:
    """The ``device`` for a backend's name (one object per name: ``Tensor.device``)."""
    d = _DEVICE_NAMES.get(name)
    if d is None:
        d = _DEVICE_NAMES[name] = device(name)
    return d


def get_device(name: str) -> Device:
    """The backend called ``name``; a clear error for an unknown or unavailable one."""
    if not isinstance(name, str):
        raise TypeError(f"device must be a string such as 'cpu' or 'cuda', got {name!r}")
    key = "cuda" if name in ("cuda", "cuda:0") else name
    dev = _DEVICES.get(key)
    if dev is not None:
        return dev
    if key == "cuda":
        _load_cupy()
        if "cuda" in _DEVICES:
            return _DEVICES["cuda"]
        raise RuntimeError(f"device 'cuda' is not available ({_cupy_error}); {_cupy_hint}")
    raise ValueError(f"unknown device {name!r}; known devices: 'cpu', 'cuda'")


def device_of(array: Any) -> Device:
    """The backend that holds ``array`` (a NumPy, CuPy or registered array type)."""
    t = type(array)
    if t is np.ndarray:
        return _DEVICES["cpu"]
    for dev in _DEVICES.values():
        if isinstance(array, dev.array_type):
            return dev
    if isinstance(array, (np.generic, int, float, bool)):
        return _DEVICES["cpu"]
    raise TypeError(f"not an array of any known device: {t.__module__}.{t.__name__}")


def get_array_module(*arrays: Any) -> Any:
    """``xp`` for the given arrays: ``numpy``, ``cupy``, or a registered module."""
    for a in arrays:
        if type(a) is np.ndarray:
            return np
        if not isinstance(a, (int, float, bool, np.generic)):
            return device_of(a).xp
    return np


def broadcasts_to(shape: tuple[int, ...], target: tuple[int, ...]) -> bool:
    """Whether an array of ``shape`` broadcasts to exactly ``target`` (PyTorch's "expandable
    to")."""
    try:
        return np.broadcast_shapes(shape, target) == tuple(target)
    except ValueError:
        return False


def sum_to(x: Any, shape: tuple[int, ...]) -> Any:
    """Sum ``x`` over the axes that broadcasting added or stretched, so it has ``shape``.

    The inverse of ``broadcast_to`` for gradients: if ``y = broadcast_to(a, y.shape)`` then
    ``gA = sum_to(gy, a.shape)``. Works on arrays and on Tensors (both have ``sum``/``reshape``).
    """
    if x.shape == shape:
        return x
    lead = x.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        i + lead for i, n in enumerate(shape) if n == 1 and x.shape[i + lead] != 1
    )
    y = x.sum(axis=axes, keepdims=True) if axes else x
    if lead:
        y = y.reshape(shape)
    return y


def scatter_add(xp: Any, target: Any, index: Any, values: Any) -> None:
    """``target[index] += values`` with repeated indices adding up (in place), each place
    taking its values in their order, as ``xp.add.at``."""
    if xp is _cupy and _cupy is not None and not hasattr(xp.add, "at"):  # CuPy before 13
        import cupyx

        cupyx.scatter_add(target, index, values)
    elif not (xp is np and _add_rows(target, index, values)):
        xp.add.at(target, index, values)


def _add_rows(target: np.ndarray, index: Any, values: Any) -> bool:
    """``np.add.at(target, index, values)`` where ``index`` is a tuple of k 1-D integer
    arrays of one length n and ``values`` n whole rows (shape ``(n, *target.shape[k:])``,
    k < target.ndim: a sparse gradient's entries), done in rounds of distinct places: the
    j-th time a place occurs goes in round j, one fancy-index ``+=`` a round. The same sums in
    the same order, far faster than NumPy's ``add.at``, which goes element by element. False,
    having done nothing, for any other index (or one out of range: ``add.at`` says so)."""
    k = len(index) if isinstance(index, tuple) else 0
    if not 0 < k < target.ndim or not isinstance(values, np.ndarray) or values.ndim == 0 \
            or values.shape[1:] != target.shape[k:] or not all(
                isinstance(i, np.ndarray) and i.ndim == 1 and i.dtype.kind in "iu"
                and len(i) == len(values) for i in index):
        return False
    try:
        place = np.ravel_multi_index(index, target.shape[:k])
    except ValueError:
        return False
    n = len(place)
    order = np.argsort(place, kind="stable")  # each place's occurrences, in their order
    s = place[order]
    first = np.ones(n, dtype=bool)
    first[1:] = s[1:] != s[:-1]
    at = np.arange(n)
    nth = np.empty(n, dtype=np.intp)
    nth[order] = at - np.maximum.accumulate(np.where(first, at, 0))
    for j in range(int(nth.max(initial=-1)) + 1):
        pick = nth == j
        target[tuple(i[pick] for i in index)] += values[pick]
    return True
