"""``tr.compile`` and ``tr.jit``, with PyTorch's names: **no compiler here; everything runs
eagerly.**

Many PyTorch scripts call ``torch.compile(model)``, ``torch.jit.script(fn)`` or
``torch.jit.trace(model, example)``, or decorate with ``@torch.jit.ignore``. This engine
has no graph compiler, so each of these gives back the very object it was handed (the
model, function or method, unchanged), which then runs op by op as it would have without
them. Nothing is traced or checked: ``trace`` does not run the function on its example
inputs (PyTorch's does, which, for instance, updates a BatchNorm's running statistics in
train mode), and the results have none of a ScriptModule's extras (``.graph``, ``.code``,
``save``).

    model = tr.compile(model)                 # the same model
    @tr.compile                               # or @tr.compile(mode="max-autotune")
    def step(x): ...
    scripted = tr.jit.script(model)           # the same model
"""

from __future__ import annotations

from typing import Any, Final, TypeVar  # Final: for ``torch.jit.Final[int]`` annotations

__all__ = ["Final", "annotate", "compile", "export", "ignore", "is_scripting", "is_tracing",
           "script", "script_method", "trace", "trace_module", "unused"]

_T = TypeVar("_T")


def compile(model: Any = None, *, fullgraph: bool = False, dynamic: bool | None = None,  # noqa: A001
            backend: Any = "inductor", mode: str | None = None,
            options: dict[str, Any] | None = None, disable: bool = False, **kwargs: Any) -> Any:
    """``torch.compile``: returns ``model`` (a module or function) unchanged, which runs
    eagerly (no compiler here). Without a model, a decorator that does the same, so both
    ``@tr.compile`` and ``@tr.compile(mode=...)`` work. The options are accepted and unused."""
    if model is None:
        def decorate(fn: _T) -> _T:
            return fn

        return decorate
    if not callable(model):
        raise TypeError(f"compile: expected a module or a function, got "
                        f"{type(model).__name__}")
    return model


# ---- tr.jit ---------------------------------------------------------------------------------
def script(obj: _T, optimize: Any = None, _frames_up: int = 0, _rcb: Any = None,
           example_inputs: Any = None) -> _T:
    """``torch.jit.script``: ``obj`` (a module, function or class) unchanged; it runs
    eagerly (no TorchScript here)."""
    return obj


def trace(func: _T, example_inputs: Any = None, optimize: Any = None, check_trace: bool = True,
          check_inputs: Any = None, check_tolerance: float = 1e-5, strict: bool = True,
          *args: Any, **kwargs: Any) -> _T:
    """``torch.jit.trace``: ``func`` (a module or function) unchanged, not run on
    ``example_inputs`` (nothing is traced); it runs eagerly."""
    return func


def trace_module(mod: _T, inputs: Any = None, *args: Any, **kwargs: Any) -> _T:
    """``torch.jit.trace_module``: ``mod`` unchanged (nothing is traced)."""
    return mod


def ignore(drop: Any = False, **kwargs: Any) -> Any:
    """``@torch.jit.ignore`` or ``@torch.jit.ignore(drop=True)``: the function unchanged
    (there is no compiler to leave it to Python)."""
    if callable(drop):  # used bare: @ignore
        return drop

    def decorate(fn: _T) -> _T:
        return fn

    return decorate


def unused(fn: _T) -> _T:
    """``@torch.jit.unused``: the function unchanged."""
    return fn


def export(fn: _T) -> _T:
    """``@torch.jit.export``: the method unchanged."""
    return fn


def script_method(fn: _T) -> _T:
    """``@torch.jit.script_method``: the method unchanged."""
    return fn


def is_scripting() -> bool:
    """False: code never runs under TorchScript here (``if not torch.jit.is_scripting():``
    takes the eager branch, as it must)."""
    return False


def is_tracing() -> bool:
    """False: nothing is ever traced here."""
    return False


def annotate(the_type: Any, the_value: _T) -> _T:
    """``torch.jit.annotate(type, value)``: the value (the type is TorchScript's hint)."""
    return the_value
