"""PyTorch's ``torch._foreach_*`` functions: one op over each tensor of a list, as fused
optimizers and EMA/Polyak updates call them (``tr._foreach_lerp_(ema, params, 0.01)``).

Here each is a loop over the list, calling the tensor method of the same name (``add_``,
``lerp``, ``norm``, ...), so the values, the in-place recording and the errors are those of
the methods; PyTorch fuses the loop into a few kernel launches, which changes the speed, not
the result. Each returns a list: the in-place forms (``_foreach_add_``) the given tensors
themselves, as PyTorch 2.13's. ``other`` may be a number, a list of numbers or tensors (one
per tensor), or one tensor for all, as PyTorch takes them."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from .tensor import Tensor

_UNARY = ("abs", "acos", "asin", "atan", "ceil", "cos", "cosh", "erf", "erfc", "exp", "expm1",
          "floor", "frac", "lgamma", "log", "log10", "log1p", "log2", "neg", "reciprocal",
          "round", "rsqrt", "sigmoid", "sign", "sin", "sinh", "sqrt", "tan", "tanh", "trunc")
_BINARY = ("add", "sub", "mul", "div", "maximum", "minimum", "clamp_max", "clamp_min", "pow")


def _tensors(name: str, tensors: Any) -> list[Tensor]:
    ts = list(tensors)
    bad = next((t for t in ts if not isinstance(t, Tensor)), None)
    if bad is not None:
        raise TypeError(f"_foreach_{name}: expects a list of Tensors, got a "
                        f"{type(bad).__name__} in it")
    return ts


def _each(name: str, n: int, other: Any) -> list[Any]:
    """``other`` for each of n tensors: one per tensor from a list, else the same for all."""
    if isinstance(other, (list, tuple)):
        if len(other) != n:
            raise RuntimeError(f"_foreach_{name}: tensor lists must have the same number of "
                               f"tensors, got {n} and {len(other)}")
        return list(other)
    return [other] * n


def _unary(name: str, in_place: bool) -> Callable[..., Any]:
    method = name + "_" if in_place else name

    def f(tensors: Sequence[Tensor]) -> Any:
        ts = _tensors(method, tensors)
        out = [getattr(t, method)() for t in ts]
        return ts if in_place else out

    f.__name__ = f.__qualname__ = f"_foreach_{method}"
    f.__doc__ = f"``t.{method}()`` for each tensor t, as ``torch._foreach_{method}``."
    return f


def _binary(name: str, in_place: bool) -> Callable[..., Any]:
    method = name + "_" if in_place else name
    scaled = name in ("add", "sub")

    def f(tensors: Sequence[Tensor], other: Any, *, alpha: Any = 1) -> Any:
        ts = _tensors(method, tensors)
        if scaled:
            out = [getattr(t, method)(o, alpha=alpha) for t, o in
                   zip(ts, _each(method, len(ts), other))]
        else:
            out = [getattr(t, method)(o) for t, o in zip(ts, _each(method, len(ts), other))]
        return ts if in_place else out

    f.__name__ = f.__qualname__ = f"_foreach_{method}"
    f.__doc__ = (f"``t.{method}(o)`` for each tensor t and its o of ``other`` (a number, a "
                 f"list, or one tensor for all), as ``torch._foreach_{method}``.")
    return f


def _ternary(name: str, in_place: bool) -> Callable[..., Any]:
    """addcmul/addcdiv: self + value · t1 ∘ t2, per tensor."""
    method = name + "_" if in_place else name

    def f(tensors: Sequence[Tensor], tensor1: Sequence[Tensor], tensor2: Sequence[Tensor],
          value: Any = 1) -> Any:
        ts = _tensors(method, tensors)
        out = [getattr(t, method)(a, b, value=v) for t, a, b, v in
               zip(ts, _each(method, len(ts), list(tensor1)),
                   _each(method, len(ts), list(tensor2)), _each(method, len(ts), value))]
        return ts if in_place else out

    f.__name__ = f.__qualname__ = f"_foreach_{method}"
    f.__doc__ = (f"``t.{method}(a, b, value=v)`` for each tensor t, as "
                 f"``torch._foreach_{method}``.")
    return f


def _lerp(in_place: bool) -> Callable[..., Any]:
    method = "lerp_" if in_place else "lerp"

    def f(tensors: Sequence[Tensor], tensors1: Sequence[Tensor], weight: Any) -> Any:
        ts = _tensors(method, tensors)
        out = [getattr(t, method)(e, w) for t, e, w in
               zip(ts, _each(method, len(ts), list(tensors1)), _each(method, len(ts), weight))]
        return ts if in_place else out

    f.__name__ = f.__qualname__ = f"_foreach_{method}"
    f.__doc__ = (f"``t.{method}(end, weight)`` for each tensor t (t + weight · (end - t)), "
                 f"as ``torch._foreach_{method}``: an EMA update in one call.")
    return f


def _foreach_norm(tensors: Sequence[Tensor], ord: Any = 2, dtype: Any = None  # noqa: A002
                  ) -> list[Tensor]:
    """``t.norm(ord)`` of each tensor (over all its elements), as ``torch._foreach_norm``."""
    out = [t.norm(ord) for t in _tensors("norm", tensors)]
    return out if dtype is None else [n.to(dtype=dtype) for n in out]


def _foreach_max(tensors: Sequence[Tensor]) -> list[Tensor]:
    """``t.max()`` of each tensor, as ``torch._foreach_max``."""
    return [t.max() for t in _tensors("max", tensors)]


def _foreach_zero_(tensors: Sequence[Tensor]) -> list[Tensor]:
    """``t.zero_()`` for each tensor, as ``torch._foreach_zero_``."""
    ts = _tensors("zero_", tensors)
    for t in ts:
        t.zero_()
    return ts


def _foreach_copy_(tensors: Sequence[Tensor], src: Sequence[Tensor],
                   non_blocking: bool = False) -> list[Tensor]:
    """``t.copy_(s)`` for each pair, as ``torch._foreach_copy_``."""
    ts = _tensors("copy_", tensors)
    for t, s in zip(ts, _each("copy_", len(ts), list(src))):
        t.copy_(s)
    return ts


def _foreach_clone(tensors: Sequence[Tensor]) -> list[Tensor]:
    """``t.clone()`` of each tensor, as ``torch._foreach_clone``."""
    return [t.clone() for t in _tensors("clone", tensors)]


def _foreach_mm(tensors: Sequence[Tensor], other: Sequence[Tensor]) -> list[Tensor]:
    """``t @ o`` for each pair, as ``torch._foreach_mm``."""
    ts = _tensors("mm", tensors)
    return [t @ o for t, o in zip(ts, _each("mm", len(ts), list(other)))]


def _made() -> dict[str, Callable[..., Any]]:
    made: dict[str, Callable[..., Any]] = {}
    for name in _UNARY:
        for in_place in (False, True):
            method = name + "_" if in_place else name
            if hasattr(Tensor, method):
                made[f"_foreach_{method}"] = _unary(name, in_place)
    for name in _BINARY:
        for in_place in (False, True):
            if hasattr(Tensor, name + "_" if in_place else name):
                made[f"_foreach_{name}{'_' if in_place else ''}"] = _binary(name, in_place)
    for in_place in (False, True):
        for name in ("addcmul", "addcdiv"):
            made[f"_foreach_{name}{'_' if in_place else ''}"] = _ternary(name, in_place)
        made[f"_foreach_lerp{'_' if in_place else ''}"] = _lerp(in_place)
    made.update(_foreach_norm=_foreach_norm, _foreach_max=_foreach_max,
                _foreach_zero_=_foreach_zero_, _foreach_copy_=_foreach_copy_,
                _foreach_clone=_foreach_clone, _foreach_mm=_foreach_mm)
    return made


FUNCTIONS = _made()
globals().update(FUNCTIONS)
