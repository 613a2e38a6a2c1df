"""The ``"strict"`` device: NumPy in disguise, to catch ops that bypass ``xp`` without a GPU.

On CuPy, an op that calls NumPy directly (``np.exp(x)``, ``np.zeros(...) + x``) breaks; on
NumPy it silently works. So CI, which has no GPU, runs every op test a second time on a device
whose arrays are ``StrictArray``: a wrapper around a NumPy array that

- computes only through its own operators and methods, or through ``STRICT_XP``, the array
  module that ``get_array_module`` returns for it (NumPy's functions, unwrapping and rewrapping);
- refuses to meet a plain ``numpy.ndarray`` in any operator, index or ``STRICT_XP`` call, just as
  a CuPy array refuses a host array;
- refuses to be handed to NumPy itself: ``np.exp(a)``, ``np.sum(a)``, ``np.asarray(a)`` raise.

Each refusal is a ``TypeError`` that names the NumPy function or operator. The engine also
checks that every op returns an array of its input's device. Call ``register()`` (the test
suite's ``conftest.py`` does) and use ``device="strict"`` like ``"cpu"`` or ``"cuda"``.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from types import ModuleType
from typing import Any

import numpy as np

from ..backend import Device, register_device

LEAK = (
    "{what} on a 'strict' device array: code must compute through "
    "xp = get_array_module(...) (or the op's self.xp), never NumPy directly"
)
HOST = (
    "a host numpy.ndarray met a device array in {what}: make it on the device with xp "
    "(xp.zeros, xp.asarray) instead of numpy"
)
# these take host data on purpose: they are how arrays get onto the device
_TRANSFERS = {"asarray", "array", "ascontiguousarray"}


def _is_scalar(v: Any) -> bool:
    return isinstance(v, (int, float, complex, bool, np.generic)) or v is None


def _unwrap(v: Any, what: str, allow_host: bool = False) -> Any:
    if type(v) is StrictArray:
        return v._a
    if isinstance(v, np.ndarray):
        if allow_host:
            return v
        raise TypeError(HOST.format(what=what))
    if isinstance(v, (list, tuple)):
        return type(v)(_unwrap(e, what, allow_host) for e in v)
    if isinstance(v, dict):
        return {k: _unwrap(e, what, allow_host) for k, e in v.items()}
    return v


def _wrap(v: Any) -> Any:
    if isinstance(v, np.ndarray):
        return StrictArray(v)
    if isinstance(v, np.generic):  # reductions give 0-d device arrays, as on CuPy
        return StrictArray(np.asarray(v))
    if isinstance(v, tuple):
        return tuple(_wrap(e) for e in v)
    if isinstance(v, list):
        return [_wrap(e) for e in v]
    return v


def _binary(op: Callable[[Any, Any], Any], name: str, reflected: bool = False) -> Any:
    def method(self: StrictArray, other: Any) -> Any:
        if type(other) is StrictArray:
            o = other._a
        elif _is_scalar(other):
            o = other
        elif isinstance(other, np.ndarray):
            raise TypeError(HOST.format(what=f"operator {name}"))
        else:
            return NotImplemented  # e.g. a Tensor: let its reflected operator run
        return _wrap(op(o, self._a) if reflected else op(self._a, o))

    return method


def _inplace(op: Callable[[Any, Any], Any], name: str) -> Any:
    def method(self: StrictArray, other: Any) -> StrictArray:
        op(self._a, _unwrap(other, f"operator {name}"))
        return self

    return method


class StrictArray:
    """A NumPy array that behaves like a device array (see the module docstring)."""

    __slots__ = ("_a",)
    __hash__ = None  # type: ignore[assignment]

    def __init__(self, a: np.ndarray) -> None:
        self._a = a

    # NumPy must not see through the wrapper
    def __array__(self, *args: Any, **kwargs: Any) -> Any:
        raise TypeError(LEAK.format(what="implicit conversion to numpy.ndarray"))

    def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
        raise TypeError(LEAK.format(what=f"numpy.{func.__name__}"))

    def __array_ufunc__(self, ufunc: Any, method: str, *inputs: Any, **kwargs: Any) -> Any:
        # a NumPy scalar on the left of an operator (np.float32(2) * a) is fine, as on CuPy
        if method == "__call__" and not kwargs and all(
            type(i) is StrictArray or _is_scalar(i) for i in inputs
        ) and any(_is_scalar(i) for i in inputs):
            return _wrap(ufunc(*[i._a if type(i) is StrictArray else i for i in inputs]))
        raise TypeError(LEAK.format(what=f"numpy.{ufunc.__name__}"))

    def __repr__(self) -> str:
        return f"StrictArray({self._a!r})"

    # attributes
    shape = property(lambda self: self._a.shape)
    dtype = property(lambda self: self._a.dtype)
    ndim = property(lambda self: self._a.ndim)
    size = property(lambda self: self._a.size)
    nbytes = property(lambda self: self._a.nbytes)
    flags = property(lambda self: self._a.flags)  # c_contiguous, f_contiguous, as CuPy's
    strides = property(lambda self: self._a.strides)
    T = property(lambda self: StrictArray(self._a.T))
    base = property(lambda self: None if self._a.base is None else StrictArray(self._a.base))

    # complex parts: views, writable, as CuPy's
    @property
    def real(self) -> StrictArray:
        return StrictArray(self._a.real)

    @real.setter
    def real(self, value: Any) -> None:
        self._a.real = _unwrap(value, "an assignment")

    @property
    def imag(self) -> StrictArray:
        return StrictArray(self._a.imag)

    @imag.setter
    def imag(self, value: Any) -> None:
        self._a.imag = _unwrap(value, "an assignment")

    def __len__(self) -> int:
        return len(self._a)

    def __bool__(self) -> bool:
        return bool(self._a)

    def __float__(self) -> float:
        return float(self._a)

    def __int__(self) -> int:
        return int(self._a)

    def __index__(self) -> int:
        return operator.index(self._a)

    def __iter__(self) -> Any:
        return (_wrap(e) for e in self._a)

    def __getitem__(self, index: Any) -> Any:
        return _wrap(self._a[_unwrap(index, "an index")])

    def __setitem__(self, index: Any, value: Any) -> None:
        self._a[_unwrap(index, "an index")] = _unwrap(value, "an assignment")

    def item(self) -> Any:
        return self._a.item()

    def tolist(self) -> Any:
        return self._a.tolist()

    def get(self) -> np.ndarray:
        """A host copy (CuPy's spelling)."""
        return self._a.copy()

    def __neg__(self) -> StrictArray:
        return StrictArray(-self._a)

    def __pos__(self) -> StrictArray:
        return StrictArray(+self._a)

    def __abs__(self) -> StrictArray:
        return StrictArray(abs(self._a))

    def __invert__(self) -> StrictArray:
        return StrictArray(~self._a)

    __add__ = _binary(operator.add, "+")
    __radd__ = _binary(operator.add, "+", True)
    __sub__ = _binary(operator.sub, "-")
    __rsub__ = _binary(operator.sub, "-", True)
    __mul__ = _binary(operator.mul, "*")
    __rmul__ = _binary(operator.mul, "*", True)
    __truediv__ = _binary(operator.truediv, "/")
    __rtruediv__ = _binary(operator.truediv, "/", True)
    __floordiv__ = _binary(operator.floordiv, "//")
    __rfloordiv__ = _binary(operator.floordiv, "//", True)
    __mod__ = _binary(operator.mod, "%")
    __pow__ = _binary(operator.pow, "**")
    __rpow__ = _binary(operator.pow, "**", True)
    __matmul__ = _binary(operator.matmul, "@")
    __rmatmul__ = _binary(operator.matmul, "@", True)
    __and__ = _binary(operator.and_, "&")
    __rand__ = _binary(operator.and_, "&", True)
    __or__ = _binary(operator.or_, "|")
    __ror__ = _binary(operator.or_, "|", True)
    __xor__ = _binary(operator.xor, "^")
    __lt__ = _binary(operator.lt, "<")
    __le__ = _binary(operator.le, "<=")
    __gt__ = _binary(operator.gt, ">")
    __ge__ = _binary(operator.ge, ">=")
    __eq__ = _binary(operator.eq, "==")  # type: ignore[assignment]
    __ne__ = _binary(operator.ne, "!=")  # type: ignore[assignment]
    __iadd__ = _inplace(operator.iadd, "+=")
    __isub__ = _inplace(operator.isub, "-=")
    __imul__ = _inplace(operator.imul, "*=")
    __itruediv__ = _inplace(operator.itruediv, "/=")


def _method(name: str) -> Any:
    def method(self: StrictArray, *args: Any, **kwargs: Any) -> Any:
        what = f"{name}()"
        return _wrap(getattr(self._a, name)(*_unwrap(args, what), **_unwrap(kwargs, what)))

    method.__name__ = name
    return method


for _name in ("reshape", "transpose", "swapaxes", "sum", "max", "min", "mean", "prod", "astype",
              "copy", "any", "all", "nonzero", "argmax", "argmin", "ravel", "fill", "squeeze",
              "clip", "dot", "cumsum", "view", "conj"):
    setattr(StrictArray, _name, _method(_name))


class _StrictUfunc:
    """A NumPy ufunc that takes and gives ``StrictArray`` (``at`` works in place)."""

    def __init__(self, uf: np.ufunc) -> None:
        self._uf = uf

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        what = f"xp.{self._uf.__name__}"
        return _wrap(self._uf(*_unwrap(args, what), **_unwrap(kwargs, what)))

    def __getattr__(self, name: str) -> Any:
        fn = getattr(self._uf, name)
        what = f"xp.{self._uf.__name__}.{name}"
        return lambda *a, **k: _wrap(fn(*_unwrap(a, what), **_unwrap(k, what)))


class _StrictNamespace:
    """NumPy's functions over ``StrictArray``: the ``xp`` of the strict device."""

    def __init__(self, module: ModuleType) -> None:
        self._module = module

    def __getattr__(self, name: str) -> Any:
        obj = getattr(self._module, name)
        if isinstance(obj, np.ufunc):
            out: Any = _StrictUfunc(obj)
        elif isinstance(obj, ModuleType):
            out = _StrictNamespace(obj)
        elif isinstance(obj, type) or not callable(obj):
            out = obj  # dtypes, nan, newaxis, ...
        else:
            allow_host = name in _TRANSFERS

            def out(*args: Any, _f: Any = obj, **kwargs: Any) -> Any:
                what = f"xp.{name}"
                return _wrap(_f(*_unwrap(args, what, allow_host),
                                **_unwrap(kwargs, what, allow_host)))

        setattr(self, name, out)  # look each name up once
        return out


STRICT_XP = _StrictNamespace(np)


def _to_device(host: Any) -> StrictArray:
    return StrictArray(np.array(host, copy=True))


def _to_host(a: StrictArray) -> np.ndarray:
    return a._a.copy()


STRICT_DEVICE = Device("strict", StrictArray, STRICT_XP, _to_device, _to_host)


def register() -> None:
    """Make ``device="strict"`` available."""
    register_device(STRICT_DEVICE)
