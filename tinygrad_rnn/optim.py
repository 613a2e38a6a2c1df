"""Optimizers and learning-rate schedules, with PyTorch's names, arguments and update formulas.

    opt = optim.Adam(model.parameters(), lr=1e-3)
    sched = optim.CosineAnnealingLR(opt, T_max=1000)
    for batch in data:
        opt.zero_grad()
        loss(model, batch).backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()

Updates run on raw arrays, outside the graph: each parameter's ``data`` is changed in place with
its own device's array module (``xp = p._dev.xp``), so the same code runs on NumPy, CuPy and the
test-only ``"strict"`` device. The optimizer state is PyTorch's: ``opt.state[p]`` holds Tensors
(momentum buffers and moment estimates on the parameter's device, in its dtype, following it
if ``Module.to`` moves it; ``step`` a 0-d float tensor of the default dtype on the CPU), which
each step updates in place, copy on write as every write here: a tensor the user holds is the
one the optimizer holds and sees the new values, and an array a graph saved keeps its own.

``state_dict()`` is PyTorch's: per-parameter state keyed by the parameter's index in the order
of the param groups (an int; ``load_state_dict`` takes it as a string too), holding the
optimizer's own tensors (``copy.deepcopy`` it for a snapshot), and each group's options with
PyTorch's implementation flags and tuples as given::

    {"state": {0: {"step": tensor(3.), "exp_avg": Tensor, ...}, ...},
     "param_groups": [{"lr": 0.001, "betas": (0.9, 0.999), ..., "foreach": None, ...,
                       "params": [0, 1, ...]}]}

The schedules are PyTorch's, step for step: each ``step()`` computes the groups' next lrs from
their current ones (PyTorch's "chainable" form), so an lr changed by hand carries on, and two
schedules on one optimizer compound, as in PyTorch; ``step(epoch)`` (deprecated there, and
warned about here as there) uses the closed form of the step count. Their state dicts hold
PyTorch's keys and move between PyTorch and here both ways.

``LBFGS`` takes a closure (``opt.step(closure)``); ``optim.swa_utils``, as
``torch.optim.swa_utils``, holds weight averaging: ``AveragedModel`` (SWA or an EMA of a
model's weights), ``SWALR`` and ``update_bn``.
"""

from __future__ import annotations

import copy
import functools
import math
import numbers
import sys
import types
import warnings
from bisect import bisect_right
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from . import profiler as _profiler
from .autograd import enable_grad, no_grad
from .backend import device_of, get_device, scatter_add
from .nn.module import Module
from .nn.normalization import _BatchNorm
from .sparse import SparseTensor, sparse_coo_tensor
from .tensor import (
    RemovableHandle,
    Tensor,
    _as_device_array,
    _bump,
    _set_values,
    _views_of,
    default_dtype,
    host_array,
    tensor,
)

ParamsT = Iterable[Tensor] | Iterable[dict[str, Any]] | Iterable[tuple[str, Tensor]]

__all__ = [
    "SGD", "Adadelta", "Adagrad", "Adam", "AdamW", "Adamax", "ChainedScheduler", "ConstantLR",
    "CosineAnnealingLR", "CosineAnnealingWarmRestarts", "CyclicLR", "ExponentialLR",
    "LRScheduler", "LambdaLR", "LinearLR", "LinearWarmup", "MultiStepLR", "MultiplicativeLR",
    "NAdam", "OneCycleLR", "Optimizer", "PolynomialLR", "RAdam", "RMSprop", "ReduceLROnPlateau",
    "SequentialLR", "StepLR", "lr_scheduler", "ASGD", "LBFGS", "swa_utils", "Rprop",
    "Adafactor", "Muon", "SparseAdam", "optimizer",
]

# a per-parameter state entry is an array shaped like the parameter, a step count, or one real
# number (NAdam's running product of momentum coefficients)
_ARRAY, _COUNT, _SCALAR = "array", "count", "scalar"


# ---- argument checks -------------------------------------------------------------------------
def _real(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__} {value!r}")
    return float(value)


def _at_least(name: str, value: Any, low: float = 0.0) -> float:
    v = _real(name, value)
    if not v >= low:  # also refuses nan
        raise ValueError(f"Invalid {name}: {value!r} (must be >= {low})")
    return v


def _in_unit(name: str, value: Any) -> float:
    v = _real(name, value)
    if not 0.0 <= v < 1.0:
        raise ValueError(f"Invalid {name}: {value!r} (must be in [0, 1))")
    return v


def _fraction(name: str, value: Any) -> float:
    v = _real(name, value)
    if not 0.0 <= v <= 1.0:
        raise ValueError(f"Invalid {name}: {value!r} (must be in [0, 1])")
    return v


def _positive(name: str, value: Any) -> float:
    v = _real(name, value)
    if not v > 0.0:
        raise ValueError(f"Invalid {name}: {value!r} (must be > 0)")
    return v


def _count(name: str, value: Any, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__} {value!r}")
    if value < low:
        raise ValueError(f"Invalid {name}: {value!r} (must be >= {low})")
    return int(value)


def _lr(value: Any, check: Callable[[str, Any], float] = _at_least) -> Any:
    """A learning rate checked: a number (as a float), or, as PyTorch takes it, a tensor of
    one element, kept as it is (a schedule fills it in place; a step uses its value)."""
    if isinstance(value, Tensor):
        if value.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        check("learning rate", value.item())
        return value
    return check("learning rate", value)


def _with_float_lr(group: dict[str, Any]) -> dict[str, Any]:
    """The group as a step reads it: a tensor lr as its value (a float)."""
    lr = group["lr"]
    return {**group, "lr": float(lr.item())} if isinstance(lr, Tensor) else group


def _pair(name: str, value: Any) -> tuple[Any, Any]:
    """``value`` as a pair (a tuple or list of two), its entries unchecked."""
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise ValueError(f"{name} must be a pair of numbers, got {value!r}")
    return value[0], value[1]


# ---- plain structures --------------------------------------------------------------------------
def _plain(v: Any, where: str) -> Any:
    """``v`` made only of dicts, lists, Python scalars, None, host NumPy arrays and tensors
    (copies; PyTorch's become ours: a tensor lr's, in a schedule's base_lrs)."""
    if v is None or isinstance(v, str):
        return v
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, numbers.Integral):
        return int(v)
    if isinstance(v, numbers.Real):
        return float(v)
    if isinstance(v, (list, tuple)):
        return [_plain(e, f"{where}[{i}]") for i, e in enumerate(v)]
    if isinstance(v, Mapping):
        return {k: _plain(e, f"{where}[{k!r}]") for k, e in v.items()}
    if isinstance(v, Tensor):  # (a tensor lr's, in a schedule's base_lrs)
        return v.detach().clone()
    if type(v).__module__.startswith("torch") and hasattr(v, "numel"):  # PyTorch's
        return tensor(_host(v))
    try:
        dev = device_of(v)
    except TypeError:
        raise TypeError(
            f"state_dict: {where} holds a {type(v).__name__}, which a state_dict cannot hold "
            "(only dicts, lists, numbers, strings, bools, None and arrays)"
        ) from None
    return np.array(dev.to_host(v), copy=True)


def _restored(v: Any, p: Tensor, name: str) -> Any:
    """A custom optimizer's saved state value as PyTorch loads it: arrays (and tensors) as
    tensors on p's device, floating ones in p's dtype (except a ``step`` count); numbers,
    strings and None as they are; lists and dicts entry by entry."""
    if isinstance(v, Mapping):
        return {k: _restored(e, p, name) for k, e in v.items()}
    if isinstance(v, list):
        return [_restored(e, p, name) for e in v]
    if isinstance(v, Tensor) or (hasattr(v, "shape") and hasattr(v, "dtype")):
        host = host_array(v)
        if host.dtype.kind == "f" and p.dtype.kind == "f" and name != "step":
            host = host.astype(p.dtype)
        return Tensor._wrap(p._dev.to_device(np.array(host)), p._dev)
    return v


def _like(saved: Any, current: Any) -> Any:
    """A loaded option in the form of the current one (state_dict turns tuples into lists);
    a tensor (a tensor lr, a schedule's initial_lr; ours or PyTorch's) as a copy of our own,
    as PyTorch's load copies the saved groups."""
    if isinstance(current, tuple) and isinstance(saved, list):
        return tuple(saved)
    if isinstance(saved, Tensor):
        return saved.detach().clone()
    if type(saved).__module__.startswith("torch") and hasattr(saved, "numel"):
        return tensor(_host(saved))
    return saved


def _state_key(k: Any) -> int | None:
    """A state key as an int: ints as PyTorch writes them, or their decimal strings."""
    if isinstance(k, numbers.Integral) and not isinstance(k, bool):
        return int(k)
    if isinstance(k, str) and k.isdecimal():
        return int(k)
    return None


# ---- optimizers ---------------------------------------------------------------------------------
def _scalar_dtype() -> np.dtype:
    """PyTorch's dtype for an optimizer's step counts and other 0-d state: float64 if that is
    the default dtype, else float32."""
    return np.dtype(np.float64 if default_dtype() == np.float64 else np.float32)


def _number(value: float, dev: Any = None, dtype: Any = None) -> Tensor:
    """A 0-d tensor holding ``value`` (a step count, NAdam's momentum product, ASGD's ``eta``
    and ``mu``), on the CPU unless ``dev`` says otherwise, as PyTorch keeps them."""
    dev = get_device("cpu") if dev is None else dev
    host = np.array(value, dtype=_scalar_dtype() if dtype is None else dtype)
    return Tensor._wrap(dev.to_device(host), dev)


def _zeros(p: Tensor, fill: float = 0.0) -> Tensor:
    """A state tensor of p's shape, dtype and device, filled with ``fill``."""
    xp = p._dev.xp
    return Tensor._wrap(xp.zeros_like(p._data) if fill == 0.0 else xp.full_like(p._data, fill),
                        p._dev)


def _put(t: Tensor, new: Any) -> None:
    """The state tensor t takes the values ``new`` in place, as PyTorch's in-place update of
    it: t stays the same object (a user holding it, or a view of it, sees the values), and, as
    every write here, copy on write (an array a graph saved keeps its values)."""
    a = t._data
    _set_values(t, new if new.dtype == a.dtype else new.astype(a.dtype), "an optimizer step")


def _refcount(t: Tensor) -> int:
    """``sys.getrefcount`` of t's array, counted from here (this call's own references
    included): on a tensor whose array nothing else refers to, ``_ALONE``."""
    return sys.getrefcount(t._data)


_ALONE = _refcount(Tensor._wrap(np.zeros(1), "cpu"))


def _alone(t: Tensor) -> bool:
    """Whether t's array is t's alone, so that a step may write into it in place: t is no
    view and has none, the array owns its memory, and nothing else refers to it (no graph
    saved it, no ``x.data`` or NumPy view was taken of it: a view refers to the array that
    owns its memory). Only NumPy's and CuPy's arrays are trusted to tell (the test-only
    ``"strict"`` device's wrap another array; CuPy's flags have no ``writeable``)."""
    return t._dev.name in ("cpu", "cuda") and t._base is None and t._data.base is None \
        and getattr(t._data.flags, "writeable", True) and _refcount(t) <= _ALONE \
        and not _views_of(t)


def _into_rows(t: Tensor) -> Any:
    """The array a write into some of t's rows goes into: t's own where it is t's alone (a
    step then costs the rows it changes, not the whole table, as PyTorch's in-place sparse
    update), else a copy (copy on write: a graph that saved the array keeps its values).
    Hand it to ``_rows_written`` after the write."""
    return t._data if _alone(t) else t._data.copy()


def _rows_written(t: Tensor, a: Any) -> None:
    """t has its new values in ``a`` (from ``_into_rows``): an in-place write, which counts
    in ``t._version`` either way."""
    if a is t._data:
        _bump(t)
    else:
        _set_values(t, a, "an optimizer step")


def _set_rows(t: Tensor, at: tuple[Any, ...], rows: Any) -> None:
    """``t[at] = rows`` outside autograd, in place (see ``_into_rows``)."""
    a = _into_rows(t)
    a[at] = rows
    _rows_written(t, a)


def _add_sparse(p: Tensor, g: SparseTensor, alpha: float) -> None:
    """p += alpha * g for a sparse g: only the rows g holds change, in place (see
    ``_into_rows``)."""
    a = _into_rows(p)
    rows = (alpha * g._vals._data).astype(a.dtype, copy=False)
    scatter_add(p._dev.xp, a, tuple(g._idx), rows)
    _rows_written(p, a)


def _tick(state: dict[str, Any]) -> float:
    """``state["step"] += 1`` in place and in its own dtype, as PyTorch's ``step_t += 1``;
    returns the new count as a number."""
    s = state["step"]
    a = s._data
    # (the sum in float64, exact, then rounded to a's dtype: a's own sum, and faster)
    new = s._dev.xp.asarray(float(a) + 1.0, dtype=a.dtype)
    _set_values(s, new, "an optimizer step")
    return float(new)


def _host(v: Any) -> np.ndarray:
    """v (a Tensor, an array of any device, PyTorch's tensor, a number) as a host array."""
    if not isinstance(v, Tensor):
        try:
            return np.asarray(device_of(v).to_host(v))
        except TypeError:
            pass
    return host_array(v)


def _write(p: Tensor, new: Any) -> None:
    """p takes the updated values as a new array (copy on write): an array that a graph saved
    keeps the values its forward used, so a backward after a step is never a mix of old and new
    weights."""
    # views of p (a p.data held, p.T) see it, and a p that is a view writes through, as in
    # PyTorch
    _set_values(p, _as_device_array(new, p._dev, "an optimizer step").astype(
        p._data.dtype, copy=False), "an optimizer step")


# keyword arguments of PyTorch's optimizers that choose how the update is computed (loops
# fused across parameters, CUDA-graph capture), not what it is: each optimizer takes those its
# PyTorch twin takes, keeps them in its defaults and groups as PyTorch does, and computes the
# same update whatever they are (``differentiable=True`` is refused: no autograd through a step)
_FLAGS_FCD = {"foreach": None, "capturable": False, "differentiable": False}


# ---- step hooks: every optimizer's (``register_optimizer_step_pre_hook``), each one's own ------

_GLOBAL_PRE_HOOKS: list[Callable[..., Any]] = []
_GLOBAL_POST_HOOKS: list[Callable[..., Any]] = []


def register_optimizer_step_pre_hook(hook: Callable[..., Any]) -> RemovableHandle:
    """Run ``hook(optimizer, args, kwargs)`` before every optimizer's ``step``, as
    ``torch.optim.optimizer.register_optimizer_step_pre_hook``: it may return new
    ``(args, kwargs)`` (``args[0]`` is the optimizer). Before each optimizer's own hooks."""
    _GLOBAL_PRE_HOOKS.append(hook)
    return RemovableHandle(_GLOBAL_PRE_HOOKS, hook)


def register_optimizer_step_post_hook(hook: Callable[..., Any]) -> RemovableHandle:
    """Run ``hook(optimizer, args, kwargs)`` after every optimizer's ``step``, after each
    optimizer's own hooks."""
    _GLOBAL_POST_HOOKS.append(hook)
    return RemovableHandle(_GLOBAL_POST_HOOKS, hook)


def _hooked(step: Callable[..., Any]) -> Callable[..., Any]:
    """``step`` with the step hooks around it, as PyTorch wraps every optimizer's ``step``:
    the global pre-hooks, then the optimizer's (each may replace the arguments), the step,
    the optimizer's post-hooks, then the global ones. A step that calls its base class's
    runs them once."""
    @functools.wraps(step)
    def stepped(self: Optimizer, *args: Any, **kwargs: Any) -> Any:
        if self.__dict__.get("_in_step"):
            return step(self, *args, **kwargs)
        call: tuple[Any, ...] = (self, *args)
        for hook in (*_GLOBAL_PRE_HOOKS, *self.__dict__.get("_optimizer_step_pre_hooks", ())):
            result = hook(self, call, kwargs)
            if result is not None:
                if not (isinstance(result, tuple) and len(result) == 2):
                    raise RuntimeError(f"an optimizer step pre-hook must return None or "
                                       f"(new_args, new_kwargs), got {result!r}")
                call, kwargs = result
        self._in_step = True
        try:  # (an event in the profile, as PyTorch names it, while a profiler records)
            with _profiler._event(f"Optimizer.step#{type(self).__name__}.step", "cpu_op"):
                out = step(*call, **kwargs)
        finally:
            self._in_step = False
        for hook in (*self.__dict__.get("_optimizer_step_post_hooks", ()), *_GLOBAL_POST_HOOKS):
            hook(self, call, kwargs)
        return out

    stepped._hooked = True  # type: ignore[attr-defined]
    return stepped


def _or(result: Any, given: Any) -> Any:
    """A hook's result, or what it was given where it returned None."""
    return given if result is None else result


def _add(hooks: list[Any], hook: Any, prepend: bool) -> RemovableHandle:
    hooks.insert(0, hook) if prepend else hooks.append(hook)
    return RemovableHandle(hooks, hook)


class Optimizer:
    """Base class: parameter groups, ``zero_grad``, ``step`` and the state dict.

    ``params`` is an iterable of Tensors (one group) or of dicts, each with ``"params"`` and
    any options that override ``defaults`` for that group (as in PyTorch). Subclasses define
    ``_check_group`` (validate and normalise a group's options), ``_state_spec`` (the
    per-parameter state entries) and ``_update`` (one parameter's update).
    """

    # PyTorch's implementation flags this optimizer takes (by keyword), with their defaults
    _flags: dict[str, Any] = {}
    # its 0-d state entries (step counts and such), kept as PyTorch keeps them: float tensors
    # of the scalar dtype, on the CPU unless _numbers_on_device
    _numbers: tuple[str, ...] = ("step",)
    _numbers_on_device = False
    # those of them PyTorch keeps as Python ints instead (SparseAdam's step)
    _ints: tuple[str, ...] = ()
    # whether _update takes a sparse gradient (embedding(sparse=True)'s): the message that
    # refuses one, as PyTorch's, where it does not
    _sparse_error: str | None = "{} does not support sparse gradients"
    _dense_error: str | None = None  # the message that refuses a dense gradient, if any

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        step = cls.__dict__.get("step")
        if callable(step) and not getattr(step, "_hooked", False):  # (LBFGS, a user's step)
            cls.step = _hooked(step)  # type: ignore[method-assign]

    def __init__(self, params: ParamsT, defaults: dict[str, Any], **flags: Any) -> None:
        self._optimizer_step_pre_hooks: list[Callable[..., Any]] = []
        self._optimizer_step_post_hooks: list[Callable[..., Any]] = []
        self._optimizer_state_dict_pre_hooks: list[Callable[..., Any]] = []
        self._optimizer_state_dict_post_hooks: list[Callable[..., Any]] = []
        self._optimizer_load_state_dict_pre_hooks: list[Callable[..., Any]] = []
        self._optimizer_load_state_dict_post_hooks: list[Callable[..., Any]] = []
        for k, v in flags.items():  # PyTorch's implementation choices: same update here
            if k not in self._flags:
                raise TypeError(f"{type(self).__name__}.__init__() got an unexpected keyword "
                                f"argument {k!r}")
            if k == "differentiable" and v:
                raise ValueError(f"{type(self).__name__} does not implement PyTorch's "
                                 "differentiable=True: its step is not recorded by autograd")
        if flags.get("fused") and flags.get("foreach"):  # PyTorch's words
            raise RuntimeError("`fused` and `foreach` cannot be `True` together.")
        defaults = {**defaults, **{k: flags.get(k, v) for k, v in self._flags.items()}}
        if isinstance(params, (Tensor, Mapping)):
            raise TypeError(
                "params must be an iterable of Tensors or of dicts (parameter groups), got a "
                f"single {type(params).__name__}; wrap it in a list"
            )
        self.defaults: dict[str, Any] = dict(defaults)
        # the constructor's own options are checked even where every group overrides them, as
        # PyTorch checks its arguments
        self._check_options(self.defaults)
        self._check_group(dict(self.defaults))
        # a parameter's state dict, made empty on first use, as PyTorch's (a custom optimizer
        # writes self.state[p]["buf"] = ...)
        self.state: defaultdict[Tensor, dict[str, Any]] = defaultdict(dict)
        self.param_groups: list[dict[str, Any]] = []
        groups = list(params)
        if not groups:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(groups[0], Mapping):  # tensors, or (name, tensor) pairs
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def add_param_group(self, group: Mapping[str, Any]) -> None:
        """Add a group of parameters with its own options (the defaults fill the others)."""
        if not isinstance(group, Mapping) or "params" not in group:
            raise TypeError("a parameter group must be a dict with a 'params' entry")
        params = group["params"]
        params = [params] if isinstance(params, Tensor) else list(params)
        named = [isinstance(p, tuple) and len(p) == 2 and isinstance(p[0], str) for p in params]
        if any(named):  # named_parameters(): the names go to "param_names", as in PyTorch
            if not all(named):
                raise TypeError("a parameter group must give all its parameters with names "
                                "(as named_parameters() does) or none")
            group = {**group, "param_names": [n for n, _ in params]}
            params = [p for _, p in params]
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError(f"an optimizer can only optimize Tensors, got {type(p).__name__}")
            if not p.is_leaf:
                raise ValueError("cannot optimize a non-leaf Tensor (one made by an op)")
            if p.dtype.kind == "c":  # (their squared-gradient statistics would be complex)
                raise TypeError(f"{type(self).__name__}: complex parameters are not supported "
                                "here; optimize the real tensor tr.view_as_real would give "
                                "(real and imaginary parts) and build the complex one from it "
                                "with tr.view_as_complex")
            self._check_param(p)
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if len({id(p) for p in params}) != len(params) or any(id(p) in seen for p in params):
            raise ValueError("some parameters appear more than once in the parameter groups")
        options = {**self.defaults, **{k: v for k, v in group.items() if k != "params"}}
        self._check_options(options)
        self.param_groups.append({"params": params, **self._check_group(options)})

    def _check_group(self, group: dict[str, Any]) -> dict[str, Any]:
        return group

    def _check_param(self, p: Tensor) -> None:
        """Refuse a parameter this optimizer cannot update (Muon: all but matrices)."""

    # PyTorch options that change the update and that this optimizer does not implement, with
    # the one value it accepts (e.g. in a state dict saved by torch). Other extra keys in a group
    # (a name, say) are kept and ignored, as PyTorch does.
    _fixed_options: dict[str, Any] = {"differentiable": False}

    def _check_options(self, group: Mapping[str, Any]) -> None:
        wrong = [f"{k}={group[k]!r}" for k, v in self._fixed_options.items()
                 if k in group and group[k] is not None and bool(group[k]) != v]
        if wrong:
            raise ValueError(f"{type(self).__name__} does not implement PyTorch's "
                             f"{', '.join(wrong)}")

    def _state_spec(self, group: Mapping[str, Any]) -> dict[str, tuple[str, bool]]:
        """Per-parameter state entries: name -> (_ARRAY, _COUNT or _SCALAR, always present)."""
        return {}

    def _param_state_spec(self, group: Mapping[str, Any],
                          p: Tensor) -> dict[str, tuple[str, bool]]:
        """p's state entries: ``_state_spec``'s, unless they depend on p (Adafactor's do)."""
        return self._state_spec(group)

    def _state_shape(self, p: Tensor, name: str) -> tuple[int, ...]:
        """The shape of p's state array ``name``: p's own, unless the optimizer keeps others
        (Adafactor's factored second moments)."""
        return p.shape

    def _update(self, p: Tensor, g: Any, group: dict[str, Any], state: dict[str, Any]) -> None:
        raise NotImplementedError

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget every parameter's gradient (``p.grad = None``, PyTorch's default), or, with
        ``set_to_none=False``, set it to zeros."""
        for group in self.param_groups:
            for p in group["params"]:
                if set_to_none or p.grad is None:
                    p.grad = None
                elif isinstance(p.grad, SparseTensor):  # no entries, as PyTorch's zero_()
                    p.grad.zero_()
                else:
                    _set_values(p.grad, p._dev.xp.zeros_like(p.grad._data), "zero_grad")

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Update every parameter that has a gradient (those with ``grad is None`` are skipped).

        ``closure``, if given, recomputes the loss (with gradients enabled) before the update,
        and its result is returned.
        """
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        for group in self.param_groups:  # every gradient checked before any update
            for p in group["params"]:
                if isinstance(p.grad, SparseTensor):
                    self._check_sparse(p, group)
                elif self._dense_error is not None and p.grad is not None:
                    raise RuntimeError(self._dense_error)
                else:
                    self._check_dense(p, group)
        for group in self.param_groups:
            for p in group["params"]:
                grad = p.grad
                if grad is None:
                    continue
                g = grad if isinstance(grad, SparseTensor) else grad._data  # sparse: itself
                if group.get("maximize"):  # ascend: every optimizer negates g first
                    g = -g
                state = self.state.get(p)
                if state is None:
                    state = self.state[p] = {}
                else:
                    self._follow(p, state)
                self._update(p, g, _with_float_lr(group), state)
        return loss

    # ---- hooks, as PyTorch's: each returns a handle whose remove() takes it off ----------
    def register_step_pre_hook(self, hook: Callable[..., Any]) -> RemovableHandle:
        """Run ``hook(optimizer, args, kwargs)`` before each ``step``; it may return new
        ``(args, kwargs)`` for the step (``args[0]`` is the optimizer)."""
        return _add(self._optimizer_step_pre_hooks, hook, False)

    def register_step_post_hook(self, hook: Callable[..., Any]) -> RemovableHandle:
        """Run ``hook(optimizer, args, kwargs)`` after each ``step``."""
        return _add(self._optimizer_step_post_hooks, hook, False)

    def register_state_dict_pre_hook(self, hook: Callable[..., Any], prepend: bool = False
                                     ) -> RemovableHandle:
        """Run ``hook(optimizer)`` before ``state_dict`` builds the dict (``prepend``: before
        the hooks already there)."""
        return _add(self._optimizer_state_dict_pre_hooks, hook, prepend)

    def register_state_dict_post_hook(self, hook: Callable[..., Any], prepend: bool = False
                                      ) -> RemovableHandle:
        """Run ``hook(optimizer, state_dict)`` on the dict ``state_dict`` built; a dict it
        returns is given instead."""
        return _add(self._optimizer_state_dict_post_hooks, hook, prepend)

    def register_load_state_dict_pre_hook(self, hook: Callable[..., Any], prepend: bool = False
                                          ) -> RemovableHandle:
        """Run ``hook(optimizer, state_dict)`` on (a shallow copy of) the dict given to
        ``load_state_dict``, before anything is loaded; a dict it returns is loaded instead."""
        return _add(self._optimizer_load_state_dict_pre_hooks, hook, prepend)

    def register_load_state_dict_post_hook(self, hook: Callable[..., Any], prepend: bool = False
                                           ) -> RemovableHandle:
        """Run ``hook(optimizer)`` after ``load_state_dict`` has loaded."""
        return _add(self._optimizer_load_state_dict_post_hooks, hook, prepend)

    def _check_dense(self, p: Tensor, group: dict[str, Any]) -> None:
        """Refuse, before any update, a gradient p cannot take (None is skipped)."""
        _check_grad(type(self).__name__ + ".step", p)

    def _check_sparse(self, p: Tensor, group: dict[str, Any]) -> None:
        """Refuse, before any update, a sparse gradient this optimizer (or this group's
        options) cannot take, or one that does not fit p."""
        if self._sparse_error is not None:
            raise RuntimeError(self._sparse_error.format(type(self).__name__))
        g, where = p.grad, type(self).__name__ + ".step"
        problems = [f"{what} {a} (the parameter's is {b})" for what, a, b in (
            ("shape", g.shape, p.shape), ("dtype", g.dtype, p.dtype),
            ("device", g.device, p.device)) if a != b]
        if problems:
            raise ValueError(f"{where}: a sparse gradient has " + ", ".join(problems) +
                             "; nothing was updated")

    def _follow(self, p: Tensor, state: dict[str, Any]) -> None:
        """Make p's state entries what the update works on: tensors on p's device in its
        dtype (after ``Module.to`` moved p, or where a user put an array or a tensor of
        another kind), and the 0-d ones (``_numbers``) 0-d tensors (after a user put a
        number there)."""
        dev, dtype, numbers_ = p._dev, p._data.dtype, self._numbers
        for n, v in state.items():
            if isinstance(v, SparseTensor):  # (SGD's momentum for sparse gradients)
                if v._vals._dev is not dev or v.dtype != dtype:
                    state[n] = v.to(dev.name, dtype)
            elif n in self._ints:
                if type(v) is not int:
                    state[n] = int(float(_host(v)))
            elif n in numbers_:
                if not isinstance(v, Tensor):
                    state[n] = _number(float(_host(v)), dev if self._numbers_on_device else None)
            elif not isinstance(v, Tensor) or v._dev is not dev or v._data.dtype != dtype:
                state[n] = Tensor._wrap(dev.to_device(np.array(_host(v), dtype=dtype)), dev)

    # ---- state -----------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """Options and state as PyTorch's: each group's options (a shallow copy, tuples as
        tuples) with its parameters numbered in group order, and each parameter's state dict
        keyed by its number (an int). As PyTorch's, the state is the optimizer's own: its
        tensors are the ones the next step updates (``copy.deepcopy`` it for a snapshot).
        ``tr.save`` writes it as it is, in either format, and ``torch.load`` of a
        ``format="torch"`` file gives what ``torch.optim``'s ``load_state_dict`` takes.
        ``load_state_dict`` also takes the numbers as strings, as earlier versions wrote
        them."""
        for hook in self.__dict__.get("_optimizer_state_dict_pre_hooks", ()):
            hook(self)
        index: dict[int, int] = {}
        groups = []
        for group in self.param_groups:
            ids = [index.setdefault(id(p), len(index)) for p in group["params"]]
            groups.append({**{k: v for k, v in group.items() if k != "params"}, "params": ids})
        state = {}
        for group in self.param_groups:
            for p in group["params"]:
                st = self.state.get(p)
                if st:
                    state[index[id(p)]] = st
        result = {"state": state, "param_groups": groups}
        for hook in self.__dict__.get("_optimizer_state_dict_post_hooks", ()):
            result = _or(hook(self, result), result)
        return result

    def load_state_dict(self, state_dict: Mapping[str, Any]) -> None:
        """Load options and state saved by ``state_dict`` (into an optimizer over parameters of
        the same shapes, in the same groups): ours, PyTorch's (its tensors as they are), or
        one of an earlier version (arrays and int step counts). Everything is checked first:
        on any problem a ValueError lists them all and nothing is changed. The state becomes
        tensors as PyTorch's load makes them: on each parameter's device in its dtype, step
        counts 0-d float tensors (of their saved dtype, or the scalar dtype) on the CPU;
        loaded tensors are copies, never the given ones (PyTorch's keeps a given tensor that
        needs no cast)."""
        name = type(self).__name__
        hooks = self.__dict__.get("_optimizer_load_state_dict_pre_hooks", ())
        if hooks and isinstance(state_dict, Mapping):
            state_dict = dict(state_dict)  # (a hook may change it: the caller's is left)
            for hook in hooks:
                state_dict = _or(hook(self, state_dict), state_dict)
        if not isinstance(state_dict, Mapping) or not {"state", "param_groups"} <= set(state_dict):
            raise ValueError(f"{name}.load_state_dict: expected a dict with 'state' and "
                             "'param_groups', as state_dict() gives")
        saved_groups, saved_state = state_dict["param_groups"], state_dict["state"]
        if not isinstance(saved_groups, Sequence) or len(saved_groups) != len(self.param_groups):
            n = len(saved_groups) if isinstance(saved_groups, Sequence) else "no list of"
            raise ValueError(f"{name}.load_state_dict: the state_dict has {n} parameter groups, "
                             f"the optimizer has {len(self.param_groups)}")
        problems: list[str] = []
        new_groups: list[dict[str, Any]] = []
        owner: dict[int, tuple[Tensor, dict[str, Any]]] = {}
        for i, (group, saved) in enumerate(zip(self.param_groups, saved_groups)):
            where = f"param_groups[{i}]"
            if not isinstance(saved, Mapping) or not isinstance(saved.get("params"), Sequence):
                problems.append(f"{where} is not a dict with a 'params' list")
                new_groups.append(group)
                continue
            ids = saved["params"]
            if len(ids) != len(group["params"]):
                problems.append(f"{where} has {len(ids)} parameters, the optimizer's group has "
                                f"{len(group['params'])}")
            # (an older state dict may lack maximize and the implementation flags)
            missing = [k for k in self.defaults
                       if k not in saved and k not in ("maximize", "differentiable")
                       and k not in self._flags]
            if missing:
                problems.append(f"{where} lacks the options {missing}")
            # the saved options replace the group's; what it lacks beyond the optimizer's own
            # options (a schedule's initial_lr, say) is kept
            new = {**{k: v for k, v in group.items() if k != "params" and k not in saved},
                   **{k: _like(v, group.get(k)) for k, v in saved.items() if k != "params"}}
            if not missing:
                # a schedule may have driven the lr below 0 (OneCycleLR's third phase, a cosine
                # run past T_max): PyTorch checks it only when the optimizer is made, so a
                # saved negative lr loads
                lr = new.get("lr")
                value = lr.item() if isinstance(lr, Tensor) and lr.numel() == 1 else lr
                below = isinstance(value, (int, float)) and not isinstance(value, bool) \
                    and value < 0
                try:
                    self._check_options(new)
                    new = self._check_group({**new, **({"lr": -value} if below else {})})
                except (TypeError, ValueError) as e:
                    problems.append(f"{where}: {e}")
                if below:
                    new["lr"] = lr if isinstance(lr, Tensor) else float(lr)
            new_groups.append(new)
            for k, p in zip(ids, group["params"]):
                idx = _state_key(k)
                if idx is None or idx in owner:
                    problems.append(f"{where} has a bad or repeated parameter index {k!r}")
                else:
                    owner[idx] = (p, new)
        if problems:  # the state checks below need sound groups
            raise ValueError(f"{name}.load_state_dict failed, nothing was loaded: "
                             + "; ".join(problems))
        if not isinstance(saved_state, Mapping):
            raise ValueError(f"{name}.load_state_dict: 'state' must be a dict")
        staged: dict[Tensor, dict[str, Any]] = {}
        for k, entry in saved_state.items():
            idx = _state_key(k)
            if idx not in owner:
                problems.append(f"state has an entry {k!r} for no parameter in param_groups")
                continue
            p, group = owner[idx]
            staged[p] = self._check_entry(f"state[{k!r}]", entry, p, group, problems)
        if problems:
            raise ValueError(f"{name}.load_state_dict failed, nothing was loaded: "
                             + "; ".join(problems))
        for group, new in zip(self.param_groups, new_groups):
            group.update(new)
        self.state = defaultdict(dict, staged)
        # as PyTorch's load (its __setstate__): the defaults gain differentiable=False where
        # they lack it (Adafactor's), so a group added after a load has it
        self.defaults.setdefault("differentiable", False)
        for hook in self.__dict__.get("_optimizer_load_state_dict_post_hooks", ()):
            hook(self)

    step = _hooked(step)  # type: ignore[assignment]

    def _custom(self) -> bool:
        """Whether this is a user's optimizer with its own ``step``, as written for PyTorch
        (its state entries are whatever that step keeps), not one built on ``_update``."""
        return type(self)._update is Optimizer._update

    def _check_entry(self, where: str, entry: Any, p: Tensor, group: Mapping[str, Any],
                     problems: list[str]) -> dict[str, Any]:
        """One parameter's saved state, checked and converted (arrays cast on the host)."""
        if not isinstance(entry, Mapping):
            problems.append(f"{where} is not a dict")
            return {}
        if self._custom():
            return {n: _restored(v, p, n) for n, v in entry.items()}
        spec = self._param_state_spec(group, p)
        unknown = [n for n in entry if n not in spec]
        missing = [n for n, (_, required) in spec.items() if required and n not in entry]
        if unknown or missing:
            problems.append(f"{where} has unexpected entries {unknown} and lacks {missing} "
                            f"for {type(self).__name__} with these options")
            return {}
        out: dict[str, Any] = {}
        for n, v in entry.items():
            if spec[n][0] != _ARRAY:
                # a 0-d array or tensor (PyTorch keeps Adam's step as one) is its number
                zero_d = hasattr(v, "item") and tuple(getattr(v, "shape", ())) == ()
                c = v.item() if zero_d else v
                bad = isinstance(c, bool) or not isinstance(c, numbers.Real) \
                    or not math.isfinite(c)
                if spec[n][0] == _SCALAR:  # cast to p's dtype and device, as PyTorch's load
                    if bad:
                        problems.append(f"{where}[{n!r}] must be a finite number, got {v!r}")
                    else:
                        out[n] = _number(float(c), p._dev, p.dtype if p.dtype.kind == "f"
                                         else None)
                elif bad or c < 0 or c != int(c):
                    problems.append(f"{where}[{n!r}] must be a non-negative integer, got {v!r}")
                elif n in self._ints:
                    out[n] = int(c)
                else:  # a count keeps its saved float dtype, and stays on the CPU
                    dtype = host_array(v).dtype if zero_d else None
                    out[n] = _number(float(c), p._dev if self._numbers_on_device else None,
                                     dtype if dtype is not None and dtype.kind == "f" else None)
                continue
            if getattr(v, "is_sparse", False) and not isinstance(v, SparseTensor):  # PyTorch's
                v = sparse_coo_tensor(_host(v._indices()), _host(v._values()), tuple(v.shape),
                                      is_coalesced=bool(v.is_coalesced()))
            if isinstance(v, SparseTensor):  # SGD's momentum for sparse gradients
                if tuple(v.shape) != tuple(p.shape) or v.dtype.kind != "f":
                    problems.append(f"{where}[{n!r}] is a sparse tensor of shape "
                                    f"{tuple(v.shape)} and dtype {v.dtype}: it must have "
                                    f"shape {tuple(p.shape)} and hold floats")
                else:
                    out[n] = v.detach().to(p.device, p.dtype).clone()
                continue
            host = host_array(v)
            shape = self._state_shape(p, n)
            if tuple(host.shape) != shape:
                problems.append(f"{where}[{n!r}] has shape {tuple(host.shape)}, it must have "
                                f"shape {shape} (its parameter has shape {p.shape})")
            elif host.dtype.kind not in "biuf":
                problems.append(f"{where}[{n!r}] must hold real numbers, not {host.dtype}")
            else:
                out[n] = Tensor._wrap(p._dev.to_device(np.array(host, dtype=p.dtype)), p._dev)
        return out

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            opts = ", ".join(f"{k}={v!r}" for k, v in group.items() if k != "params")
            lines.append(f"  group {i}: {len(group['params'])} parameters, {opts}")
        return "\n".join(lines) + "\n)"


def _check_grad(where: str, p: Tensor) -> None:
    """Refuse a gradient a parameter cannot take: not a Tensor, or of another shape, dtype or
    device (PyTorch refuses these when ``.grad`` is assigned)."""
    g = p.grad
    if g is None:
        return
    if isinstance(g, Tensor) and g._dev is p._dev and g._data.shape == p._data.shape \
            and g._data.dtype == p._data.dtype:  # (the usual case, checked fast)
        return
    if isinstance(g, SparseTensor):  # (the optimizers that take one check it before)
        raise RuntimeError(f"{where.split('.')[0]} does not support sparse gradients")
    if not isinstance(g, Tensor):
        raise TypeError(f"{where}: a parameter's .grad must be a Tensor, got {type(g).__name__}")
    problems = [f"{what} {a} (the parameter's is {b})" for what, a, b in (
        ("shape", g.shape, p.shape), ("dtype", g.dtype, p.dtype), ("device", g.device, p.device))
        if a != b]
    if problems:
        raise ValueError(f"{where}: a gradient has " + ", ".join(problems) + "; nothing was "
                         "updated")


class SGD(Optimizer):
    """Stochastic gradient descent, optionally with momentum (PyTorch's formulation).

    With ``g`` the gradient, ``mu`` the momentum, ``tau`` the dampening, ``lambda`` the weight
    decay, each step::

        g <- g + lambda * p                                  (if weight_decay)
        b <- g  (first step),  b <- mu * b + (1 - tau) * g   (if momentum)
        g <- g + mu * b  (nesterov)  or  g <- b
        p <- p - lr * g

    State per parameter: ``momentum_buffer`` (with momentum only).
    """

    _flags = {"foreach": None, "differentiable": False, "fused": None}
    _numbers = ()

    def __init__(self, params: ParamsT, lr: float = 1e-3, momentum: float = 0.0,
                 dampening: float = 0.0, weight_decay: float = 0.0,
                 nesterov: bool = False, *, maximize: bool = False,
                 **flags: Any) -> None:
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov,
                                      maximize=maximize), **flags)

    def _check_group(self, group: dict[str, Any]) -> dict[str, Any]:
        group["lr"] = _lr(group["lr"])
        group["momentum"] = _at_least("momentum value", group["momentum"])
        group["dampening"] = _real("dampening", group["dampening"])
        group["weight_decay"] = _at_least("weight_decay value", group["weight_decay"])
        group["nesterov"] = bool(group["nesterov"])
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError("Nesterov momentum requires a momentum > 0 and zero dampening")
        return group

    def _state_spec(self, group: Mapping[str, Any]) -> dict[str, tuple[str, bool]]:
        return {"momentum_buffer": (_ARRAY, True)} if group["momentum"] else {}

    _sparse_error = None

    # PyTorch's message where a step would add a dense tensor to a sparse one
    _SPARSE_PLUS_DENSE = "add(sparse, dense) is not supported. Use add(dense, sparse) instead."

    def _check_sparse(self, p: Tensor, group: dict[str, Any]) -> None:
        # g + wd * p, and (Nesterov) g + mu * b with a dense momentum buffer b, would be
        # sparse + dense
        buf = self.state.get(p, {}).get("momentum_buffer")
        if group["weight_decay"] or group["nesterov"] and group["momentum"] \
                and isinstance(buf, Tensor):
            raise RuntimeError(self._SPARSE_PLUS_DENSE)
        super()._check_sparse(p, group)

    def _check_dense(self, p: Tensor, group: dict[str, Any]) -> None:
        super()._check_dense(p, group)
        if p.grad is not None and group["momentum"] and isinstance(
                self.state.get(p, {}).get("momentum_buffer"), SparseTensor):
            raise RuntimeError(self._SPARSE_PLUS_DENSE)  # mu * b + g with a sparse b

    def _update(self, p: Tensor, g: Any, group: dict[str, Any], state: dict[str, Any]) -> None:
        mu, wd = group["momentum"], group["weight_decay"]
        if isinstance(g, SparseTensor) and mu and isinstance(state.get("momentum_buffer"),
                                                             Tensor):
            g = g.to_dense()._data  # a dense buffer (a dense gradient's) takes it whole, as there
        if isinstance(g, SparseTensor):  # the same formulas on sparse tensors (as PyTorch's:
            # the momentum buffer is sparse too, and its entries pile up)
            if mu:
                buf = state.get("momentum_buffer")
                b = g.detach().clone() if buf is None else \
                    buf * mu + g * (1.0 - group["dampening"])
                state["momentum_buffer"] = b
                g = g + b * mu if group["nesterov"] else b
            _add_sparse(p, g, -group["lr"])
            return
        if wd:
            g = g + wd * p._data
        if mu:
            buf = state.get("momentum_buffer")
            if buf is None:  # a copy: g may be the gradient itself
                state["momentum_buffer"] = Tensor._wrap(b := g.copy(), p._dev)
            else:
                b = buf._data * mu + (1.0 - group["dampening"]) * g
                _put(buf, b)
            g = g + mu * b if group["nesterov"] else b
        _write(p, p._data - group["lr"] * g)


class Adam(Optimizer):
    """Adam (Kingma & Ba, 2015), as in PyTorch; ``amsgrad`` uses the running maximum of ``v``.

    With ``g`` the gradient and ``t`` the step (from 1)::

        g <- g + weight_decay * p                        (L2 penalty; AdamW decouples it)
        m <- beta1 * m + (1 - beta1) * g
        v <- beta2 * v + (1 - beta2) * g * g
        v_max <- max(v_max, v);  v <- v_max              (if amsgrad)
        p <- p - lr / (1 - beta1**t) * m / (sqrt(v) / sqrt(1 - beta2**t) + eps)

    ``decoupled_weight_decay=True`` makes it AdamW, as PyTorch's. State per parameter:
    ``step``, ``exp_avg`` (m), ``exp_avg_sq`` (v), ``max_exp_avg_sq``.
    """

    _flags = {**_FLAGS_FCD, "fused": None, "decoupled_weight_decay": False}
    _sparse_error = "Adam does not support sparse gradients, please consider SparseAdam instead"

    def __init__(self, params: ParamsT, lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, amsgrad: bool = False, *,
                 maximize: bool = False, **flags: Any) -> None:
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      amsgrad=amsgrad, maximize=maximize), **flags)

    def _check_group(self, group: dict[str, Any]) -> dict[str, Any]:
        if isinstance(group["lr"], Tensor) and group["foreach"] and not group["capturable"]:
            raise ValueError("lr as a Tensor is not supported for capturable=False and "
                             "foreach=True")  # (PyTorch's refusal, its words)
        group = _check_adam_like(group)
        group["amsgrad"] = bool(group["amsgrad"])
        group["decoupled_weight_decay"] = bool(group["decoupled_weight_decay"])
        return group

    def _state_spec(self, group: Mapping[str, Any]) -> dict[str, tuple[str, bool]]:
        return {"step": (_COUNT, True), "exp_avg": (_ARRAY, True), "exp_avg_sq": (_ARRAY, True),
                "max_exp_avg_sq": (_ARRAY, group["amsgrad"])}

    def _update(self, p: Tensor, g: Any, group: dict[str, Any], state: dict[str, Any]) -> None:
        xp = p._dev.xp
        lr, wd, (beta1, beta2) = group["lr"], group["weight_decay"], group["betas"]
        if not state:
            state.update(step=_number(0.0), exp_avg=_zeros(p), exp_avg_sq=_zeros(p))
        if wd and group["decoupled_weight_decay"]:
            _write(p, p._data * (1.0 - lr * wd))
        elif wd:
            g = g + wd * p._data
        t = _tick(state)
        m, v = _moments(state, g, beta1, beta2)
        if group["amsgrad"]:
            v_max = state.get("max_exp_avg_sq")
            if v_max is None:
                v_max = state["max_exp_avg_sq"] = _zeros(p)
            v = xp.maximum(v_max._data, v)
            _put(v_max, v)
        denom = xp.sqrt(v) / math.sqrt(1.0 - beta2**t) + group["eps"]
        _write(p, p._data - (lr / (1.0 - beta1**t)) * (m / denom))


class SparseAdam(Optimizer):
    """Adam for sparse gradients (``embedding(..., sparse=True)``'s), as PyTorch's: the
    moments and the parameter change only in the rows the gradient holds (the others'
    moments do not decay). Dense parameters, sparse gradients only.

    With ``g`` the gradient coalesced, ``I`` its indices and ``t`` the step (from 1), at
    ``I`` only::

        m[I] <- m[I] + (1 - beta1) * (g - m[I])
        v[I] <- v[I] + (1 - beta2) * (g * g - v[I])
        p[I] <- p[I] - lr * sqrt(1 - beta2**t) / (1 - beta1**t) * m[I] / (sqrt(v[I]) + eps)

    State per parameter: ``step`` (a Python int, as PyTorch's), ``exp_avg`` (m),
    ``exp_avg_sq`` (v).
    """

    _sparse_error = None
    _dense_error = "SparseAdam does not support dense gradients, please consider Adam instead"
    _ints = ("step",)

    def __init__(self, params: ParamsT, lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 maximize: bool = False) -> None:
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, maximize=maximize))
        bad = [[i, k] for i, group in enumerate(self.param_groups)
               for k, p in enumerate(group["params"]) if p.dtype.kind == "c"]
        if bad:
            raise ValueError(f"Complex params at indices {bad}: SparseAdam does not support "
                             "complex parameters")

    def _check_group(self, group: dict[str, Any]) -> dict[str, Any]:
        group["lr"] = _lr(group["lr"], _positive)
        group["eps"] = _positive("epsilon value", group["eps"])
        b0, b1 = _pair("betas", group["betas"])
        group["betas"] = (_in_unit("beta parameter at index 0", b0),
                          _in_unit("beta parameter at index 1", b1))
        group["maximize"] = bool(group["maximize"])
        return group

    def _state_spec(self, group: Mapping[str, Any]) -> dict[str, tuple[str, bool]]:
        return {"step": (_COUNT, True), "exp_avg": (_ARRAY, True), "exp_avg_sq": (_ARRAY, True)}

    def _update(self, p: Tensor, g: Any, group: dict[str, Any], state: dict[str, Any]) -> None:
        xp, (beta1, beta2) = p._dev.xp, group["betas"]
        if not state:
            state.update(step=0, exp_avg=_zeros(p), exp_avg_sq=_zeros(p))
        state["step"] = t = state["step"] + 1
        g = g.detach().coalesce()
        if g._nnz() == 0:
            return
        at, v = tuple(g._idx), g._vals._data  # (coalesced: each row once)
        m, m2 = state["exp_avg"], state["exp_avg_sq"]
        m_old, m2_old = m._data[at], m2._data[at]
        dm, dm2 = (v - m_old) * (1 - beta1), (v * v - m2_old) * (1 - beta2)
        _set_rows(m, at, m_old + dm)
        _set_rows(m2, at, m2_old + dm2)
        step_size = group["lr"] * math.sqrt(1 - beta2**t) / (1 - beta1**t)
        _set_rows(p, at, p._data[at] - step_size * ((dm + m_old) /
                                                    (xp.sqrt(dm2 + m2_old) + group["eps"])))


def _check_adam_like(group: dict[str, Any]) -> dict[str, Any]:
    """The options Adam and its relatives share: lr, eps, betas and weight_decay."""
    group["lr"] = _lr(group["lr"])
    group["eps"] = _at_least("epsilon value", group["eps"])
    betas = group["betas"]
    if not isinstance(betas, (tuple, list)) or len(betas) != 2:
        raise ValueError(f"betas must be a pair of numbers, got {betas!r}")
    group["betas"] = (_in_unit("beta parameter at index 0", betas[0]),
                      _in_unit("beta parameter at index 1", betas[1]))
    group["weight_decay"] = _at_least("weight_decay value", group["weight_decay"])
    return group


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter, 2019), as in PyTorch: before the
    Adam step (which then has no L2 term), ``p <- p * (1 - lr * weight_decay)``."""

    _flags = {**Adam._flags, "decoupled_weight_decay": True}

    def __init__(self, params: ParamsT, lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2, amsgrad: bool = False, *,
                 maximize: bool = False, **flags: Any) -> None:
        if "decoupled_weight_decay" in flags:  # as PyTorch's AdamW, which always decouples
            raise TypeError("AdamW.__init__() got an unexpected keyword argument "
                            "'decoupled_weight_decay'")
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                         amsgrad=amsgrad, maximize=maximize, **flags)


class RMSprop(Optimizer):
    """RMSprop (Hinton's lecture 6e), as in PyTorch: ``eps`` is added outside the square root.

    With ``g`` the gradient::

        g <- g + weight_decay * p                        (if weight_decay)
        s <- alpha * s + (1 - alpha) * g * g
        a <- alpha * a + (1 - alpha) * g                 (if centered)
        d <- sqrt(s - a * a) + eps  (centered)  or  sqrt(s) + eps
        b <- momentum * b + g / d;  p <- p - lr * b      (if momentum > 0)
        p <- p - lr * g / d                              (otherwise)

    State per parameter: ``step``, ``square_avg`` (s), ``grad_avg`` (a, centered),
    ``momentum_buffer`` (b, with momentum).
    """

    _flags = _FLAGS_FCD

    def __init__(self, params: ParamsT, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0.0, momentum: float = 0.0, centered: bool = False, *,
                 maximize: bool = False, **flags: Any) -> None:
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                                      momentum=momentum, centered=centered, maximize=maximize),
                         **flags)

    def _check_group(self, group: dict[str, Any]) -> dict[str, Any]:
        group["lr"] = _lr(group["lr"])
        group["alpha"] = _at_least("alpha value", group["alpha"])
        group["eps"] = _at_least("epsilon value", group["eps"])
        group["weight_decay"] = _at_least("weight_decay value", group["weight_decay"])
        group["momentum"] = _at_least("momentum value", group["momentum"])
        group["centered"] = bool(group["centered"])
        return group

    def _state_spec(self, group: Mapping[str, Any]) -> dict[str, tuple[str, bool]]:
        return {"step": (_COUNT, True), "square_avg": (_ARRAY, True),
                "momentum_buffer": (_ARRAY, group["momentum"] > 0),
                "grad_avg": (_ARRAY, group["centered"])}

    def _update(self, p: Tensor, g: Any, group: dict[str, Any], state: dict[str, Any]) -> None:
        xp = p._dev.xp
        alpha, wd, mu = group["alpha"], group["weight_decay"], group["momentum"]
        if not state:
            state.update(step=_number(0.0), square_avg=_zeros(p))
            if mu > 0:
                state["momentum_buffer"] = _zeros(p)
            if group["centered"]:
                state["grad_avg"] = _zeros(p)
        if wd:
            g = g + wd * p._data
        _tick(state)
        s = state["square_avg"]._data * alpha + (1.0 - alpha) * (g * g)
        _put(state["square_avg"], s)
        if group["centered"]:
            a = state.get("grad_avg")
            if a is None:
                a = state["grad_avg"] = _zeros(p)
            a_new = a._data + (1.0 - alpha) * (g - a._data)
            _put(a, a_new)
            d = xp.sqrt(s - a_new * a_new) + group["eps"]
        else:
            d = xp.sqrt(s) + group["eps"]
        if mu > 0:
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = _zeros(p)
            b = buf._data * mu + g / d
            _put(buf, b)
            _write(p, p._data - group["lr"] * b)
        else:
            _write(p, p._data - group["lr"] * (g / d))


class Adagrad(Optimizer):
    """Adagrad (Duchi et al., 2011), as in PyTorch: each coordinate's step shrinks with the sum
    of its squared gradients.

    With ``g`` the gradient and ``t`` the step (from 1)::

        g <- g + weight_decay * p                        (if weight_decay)
        s <- s + g * g                                   (s starts at initial_accumulator_value)
        p <- p - lr / (1 + (t - 1) * lr_decay) * g / (sqrt(s) + eps)

    ``initial_accumulator_value`` is one for every parameter, as in PyTorch (which takes the
    constructor's and ignores a group's own), so a group may not set another.
    State per parameter (made by the constructor, as PyTorch's): ``step``, ``sum`` (s).
    """

    _flags = {"foreach": None, "differentiable": False, "fused": None}

    def __init__(self, params: ParamsT, lr: float = 1e-2, lr_decay: float = 0.0,
                 weight_decay: float = 0.0, initial_accumulator_value: float = 0.0,
                 eps: float = 1e-10, *, maximize: bool = False,
                 **flags: Any) -> None:
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, eps=eps,
                                      weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value,
                                      maximize=maximize), **flags)
        # the state of the constructor's parameters is made now, as PyTorch's (so a parameter
        # never stepped has it in the state dict); a group added later gets it at its first step
        for group in self.param_groups:
            for p in group["params"]:
                self.state[p].update(step=_number(0.0), sum=_zeros(p, initial_accumulator_value))

    def _check_group(self, group: dict[str, Any]) -> dict[str, Any]:
        group["lr"] = _lr(group["lr"])
        group["lr_decay"] = _at_least("lr_decay value", group["lr_decay"])
        group["weight_decay"] = _at_least("weight_decay value", group["weight_decay"])
        group["eps"] = _at_least("epsilon value", group["eps"])
        value = _at_least("initial_accumulator_value value", group["initial_accumulator_value"])
        if value != self.defaults["initial_accumulator_value"]:
            raise ValueError(f"initial_accumulator_value={value!r} cannot be set per group: it "
                             "is the constructor's for every parameter, as in PyTorch")
        group["initial_accumulator_value"] = value
        return group

    def _state_spec(self, group: Mapping[str, Any]) -> dict[str, tuple[str, bool]]:
        return {"step": (_COUNT, True), "sum": (_ARRAY, True)}

    _sparse_error = None

    def _check_sparse(self, p: Tensor, group: dict[str, Any]) -> None:
        if group["weight_decay"]:
            raise RuntimeError("weight_decay option is not compatible with sparse gradients")
        super()._check_sparse(p, group)

    def _update(self, p: Tensor, g: Any, group: dict[str, Any], state: dict[str, Any]) -> None:
        xp = p._dev.xp
        if not state:
            state.update(step=_number(0.0),
                         sum=_zeros(p, group["initial_accumulator_value"]))
        if isinstance(g, SparseTensor):  # only the rows present, as PyTorch's
            t = _tick(state)
            g = g.detach().coalesce()
            at, v = tuple(g._idx), g._vals._data  # (coalesced: each row once)
            s = state["sum"]._data[at] + v * v
            _set_rows(state["sum"], at, s)
            clr = group["lr"] / (1.0 + (t - 1) * group["lr_decay"])
            _set_rows(p, at, p._data[at] - clr * (v / (xp.sqrt(s) + group["eps"])))
            return
        if group["weight_decay"]:
            g = g + group["weight_decay"] * p._data
        t = _tick(state)
        s = state["sum"]._data + g * g
        _put(state["sum"], s)
        clr = group["lr"] / (1.0 + (t - 1) * group["lr_decay"])
        _write(p, p._data - clr * (g / (xp.sqrt(s) + group["eps"])))


class Adamax(Optimizer):
    """Adamax (Kingma & Ba, 2015, section 7), as in PyTorch: Adam with the infinity norm.

    With ``g`` the gradient and ``t`` the step (from 1)::

        g <- g + weight_decay * p                        (if weight_decay)
        m <- beta1 * m + (1 - beta1) * g
        u <- max(beta2 * u, |g| + eps)
        p <- p - lr / (1 - beta1**t) * m / u

    State per parameter: ``step``, ``exp_avg`` (m), ``exp_inf`` (u).
    """

    _flags = _FLAGS_FCD

    def __init__(self, params: ParamsT, lr: float = 2e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, *, maximize: bool = False, **flags: Any) -> None:
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      maximize=maximize), **flags)

    def _check_group(self, group: dict[str, Any]) -> dict[str, Any]:
        return _check_adam_like(group)

    def _state_spec(self, group: Mapping[str, Any]) -> dict[str, tuple[str, bool]]:
        return {"step": (_COUNT, True), "exp_avg": (_ARRAY, True), "exp_inf": (_ARRAY, True)}

    def _update(self, p: Tensor, g: Any, group: dict[str, Any], state: dict[str, Any]) -> None:
        xp = p._dev.xp
        beta1, beta2 = group["betas"]
        if not state:
            state.update(step=_number(0.0), exp_avg=_zeros(p), exp_inf=_zeros(p))
        if group["weight_decay"]:
            g = g + group["weight_decay"] * p._data
        t = _tick(state)
        m_t, u_t = state["exp_avg"], state["exp_inf"]
        m = m_t._data + (1.0 - beta1) * (g - m_t._data)
        u = xp.maximum(u_t._data * beta2, xp.abs(g) + group["eps"])
        _put(m_t, m)
        _put(u_t, u)
        _write(p, p._data - (group["lr"] / (1.0 - beta1**t)) * (m / u))


def _moments(state: dict[str, Any], g: Any, beta1: float, beta2: float) -> tuple[Any, Any]:
    """Adam's two moments, updated in place with the gradient g, their new arrays returned:
    m ← β1 m + (1 - β1) g, v ← β2 v + (1 - β2) g² (Adam, NAdam, RAdam)."""
    m_t, v_t = state["exp_avg"], state["exp_avg_sq"]
    m = m_t._data + (1.0 - beta1) * (g - m_t._data)
    v = v_t._data * beta2 + (1.0 - beta2) * (g * g)
    _put(m_t, m)
    _put(v_t, v)
    return m, v


def _decay_weights(p: Tensor, g: Any, group: Mapping[str, Any]) -> Any:
    """Weight decay for NAdam and RAdam: an L2 term on the gradient (returned), or, with
    ``decoupled_weight_decay``, AdamW's ``p <- p * (1 - lr * weight_decay)`` (p written)."""
    wd = group["weight_decay"]
    if wd and group["decoupled_weight_decay"]:
        _write(p, p._data * (1.0 - group["lr"] * wd))
    elif wd:
        g = g + wd * p._data
    return g


class NAdam(Optimizer):
    """NAdam (Dozat, 2016): Adam with Nesterov momentum, as in PyTorch, whose momentum
    coefficient ``mu_t`` warms up with ``momentum_decay`` (psi).

    With ``g`` the gradient (after ``weight_decay``, L2 or decoupled as in AdamW) and ``t`` the
    step (from 1)::

        mu_t = beta1 * (1 - 0.5 * 0.96**(t * psi))        P_t = mu_1 * mu_2 * ... * mu_t
        m <- beta1 * m + (1 - beta1) * g
        v <- beta2 * v + (1 - beta2) * g * g
        d = sqrt(v / (1 - beta2**t)) + eps
        p <- p - lr * (1 - mu_t) / (1 - P_t) * g / d - lr * mu_{t+1} / (1 - P_t * mu_{t+1}) * m / d

    State per parameter: ``step``, ``mu_product`` (P_t, a 0-d tensor of the default dtype, as
    PyTorch's: multiplied in it), ``exp_avg`` (m), ``exp_avg_sq`` (v).
    """

    def __init__(self, params: ParamsT, lr: float = 2e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, momentum_decay: float = 4e-3,
                 decoupled_weight_decay: bool = False, *, maximize: bool = False,
                 **flags: Any) -> None:
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      momentum_decay=momentum_decay,
                                      decoupled_weight_decay=decoupled_weight_decay,
                                      maximize=maximize), **flags)

    def _check_group(self, group: dict[str, Any]) -> dict[str, Any]:
        group = _check_adam_like(group)
        group["momentum_decay"] = _at_least("momentum_decay value", group["momentum_decay"])
        group["decoupled_weight_decay"] = bool(group["decoupled_weight_decay"])
        return group

    _flags = _FLAGS_FCD
    _numbers = ("step", "mu_product")

    def _state_spec(self, group: Mapping[str, Any]) -> dict[str, tuple[str, bool]]:
        return {"step": (_COUNT, True), "mu_product": (_SCALAR, True),
                "exp_avg": (_ARRAY, True), "exp_avg_sq": (_ARRAY, True)}

    def _update(self, p: Tensor, g: Any, group: dict[str, Any], state: dict[str, Any]) -> None:
        xp = p._dev.xp
        lr, (beta1, beta2), psi = group["lr"], group["betas"], group["momentum_decay"]
        if not state:
            state.update(step=_number(0.0), mu_product=_number(1.0), exp_avg=_zeros(p),
                         exp_avg_sq=_zeros(p))
        g = _decay_weights(p, g, group)
        t = _tick(state)
        mu = beta1 * (1.0 - 0.5 * 0.96 ** (t * psi))
        mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((t + 1) * psi))
        product = state["mu_product"]  # in its own dtype, as PyTorch's mu_product *= mu
        new = product._dev.xp.asarray(product._data * mu, dtype=product.dtype)
        _set_values(product, new, "an optimizer step")
        mu_product = float(new)
        m, v = _moments(state, g, beta1, beta2)
        d = xp.sqrt(v / (1.0 - beta2**t)) + group["eps"]
        _write(p, p._data - (lr * (1.0 - mu) / (1.0 - mu_product)) * (g / d)
               - (lr * mu_next / (1.0 - mu_product * mu_next)) * (m / d))


class RAdam(Optimizer):
    """RAdam (Liu et al., 2020): Adam whose adaptive step is switched on, and scaled by ``r_t``,
    only once the variance of the adaptive rate is tractable (rho_t > 5), as in PyTorch.

    With ``g`` the gradient (after ``weight_decay``, L2 or decoupled as in AdamW) and ``t`` the
    step (from 1)::

        m <- beta1 * m + (1 - beta1) * g
        v <- beta2 * v + (1 - beta2) * g * g
        rho_inf = 2 / (1 - beta2) - 1;   rho_t = rho_inf - 2 * t * beta2**t / (1 - beta2**t)
        r_t = sqrt((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
        p <- p - lr * m / (1 - beta1**t) * r_t * sqrt(1 - beta2**t) / (sqrt(v) + eps)   (rho_t > 5)
        p <- p - lr * m / (1 - beta1**t)                                                (otherwise)

    State per parameter: ``step``, ``exp_avg`` (m), ``exp_avg_sq`` (v).
    """

    def __init__(self, params: ParamsT, lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, decoupled_weight_decay: bool = False, *,
                 maximize: bool = False, **flags: Any) -> None:
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      decoupled_weight_decay=decoupled_weight_decay,
                                      maximize=maximize), **flags)

    def _check_group(self, group: dict[str, Any]) -> dict[str, Any]:
        group = _check_adam_like(group)
        group["decoupled_weight_decay"] = bool(group["decoupled_weight_decay"])
        return group

    _flags = _FLAGS_FCD

    def _state_spec(self, group: Mapping[str, Any]) -> dict[str, tuple[str, bool]]:
        return {"step": (_COUNT, True), "exp_avg": (_ARRAY, True), "exp_avg_sq": (_ARRAY, True)}

    def _update(self, p: Tensor, g: Any, group: dict[str, Any], state: dict[str, Any]) -> None:
        xp = p._dev.xp
        lr, (beta1, beta2) = group["lr"], group["betas"]
        if not state:
            state.update(step=_number(0.0), exp_avg=_zeros(p), exp_avg_sq=_zeros(p))
        g = _decay_weights(p, g, group)
        t = _tick(state)
        m, v = _moments(state, g, beta1, beta2)
        bc1, bc2 = 1.0 - beta1**t, 1.0 - beta2**t
        rho_inf = 2.0 / (1.0 - beta2) - 1.0
        rho_t = rho_inf - 2.0 * t * beta2**t / bc2
        if rho_t > 5.0:
            r_t = math.sqrt((rho_t - 4.0) * (rho_t - 2.0) * rho_inf
                            / ((rho_inf - 4.0) * (rho_inf - 2.0) * rho_t))
            step = lr * r_t * math.sqrt(bc2) / bc1
            _write(p, p._data - step * (m / (xp.sqrt(v) + group["eps"])))
        else:  # too early for the adaptive rate: plain momentum SGD
            _write(p, p._data - (lr / bc1) * m)


class Adadelta(Optimizer):
    """Adadelta (Zeiler, 2012), as in PyTorch: steps scaled by the ratio of running RMS of past
    updates to that of gradients (``lr`` multiplies the result; 1.0 is the paper's method).

    With ``g`` the gradient::

        g <- g + weight_decay * p                        (if weight_decay)
        s <- rho * s + (1 - rho) * g * g
        d = sqrt(a + eps) / sqrt(s + eps) * g
        a <- rho * a + (1 - rho) * d * d
        p <- p - lr * d

    State per parameter: ``step``, ``square_avg`` (s), ``acc_delta`` (a).
    """

    _flags = _FLAGS_FCD

    def __init__(self, params: ParamsT, lr: float = 1.0, rho: float = 0.9, eps: float = 1e-6,
                 weight_decay: float = 0.0, *, maximize: bool = False,
                 **flags: Any) -> None:
        super().__init__(params, dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay,
                                      maximize=maximize), **flags)

    def _check_group(self, group: dict[str, Any]) -> dict[str, Any]:
        group["lr"] = _lr(group["lr"])
        group["rho"] = _fraction("rho value", group["rho"])
        group["eps"] = _at_least("epsilon value", group["eps"])
        group["weight_decay"] = _at_least("weight_decay value", group["weight_decay"])
        return group

    def _state_spec(self, group: Mapping[str, Any]) -> dict[str, tuple[str, bool]]:
        return {"step": (_COUNT, True), "square_avg": (_ARRAY, True),
                "acc_delta": (_ARRAY, True)}

    def _update(self, p: Tensor, g: Any, group: dict[str, Any], state: dict[str, Any]) -> None:
        xp = p._dev.xp
        rho, eps = group["rho"], group["eps"]
        if not state:
            state.update(step=_number(0.0), square_avg=_zeros(p), acc_delta=_zeros(p))
        if group["weight_decay"]:
            g = g + group["weight_decay"] * p._data
        _tick(state)
        s_t, a_t = state["square_avg"], state["acc_delta"]
        s = s_t._data * rho + (1.0 - rho) * (g * g)
        a = a_t._data
        d = xp.sqrt(a + eps) / xp.sqrt(s + eps) * g
        _put(s_t, s)
        _put(a_t, a * rho + (1.0 - rho) * (d * d))
        _write(p, p._data - group["lr"] * d)


class ASGD(Optimizer):
    """Averaged SGD (Polyak & Juditsky, 1992), as PyTorch's: SGD with a step size ``eta`` that
    decays, keeping the running average ``ax`` of the iterates from step ``t0`` on (AWD-LSTM's
    NT-ASGD evaluates with it: ``p.data = opt.state[p]["ax"].clone()``).

    With ``g`` the gradient and ``t`` the step (from 1); ``eta`` starts at ``lr``, ``mu`` at 1::

        g <- g + weight_decay * p                        (if weight_decay)
        p <- p * (1 - lambd * eta) - eta * g
        ax <- p  (if mu = 1),   else  ax <- ax + (p - ax) * mu
        eta <- lr / (1 + lambd * lr * t) ** alpha
        mu <- 1 / max(1, t - t0)

    State per parameter: ``step``, ``eta`` and ``mu`` (0-d tensors of the scalar dtype on
    the parameter's device, as PyTorch's: ``eta`` and ``mu`` rounded to it) and ``ax``, so
    that code written for PyTorch (``.clone()``, ``p.data = ...``) runs unchanged.
    """

    def __init__(self, params: ParamsT, lr: float = 1e-2, lambd: float = 1e-4,
                 alpha: float = 0.75, t0: float = 1e6, weight_decay: float = 0.0, *,
                 maximize: bool = False, **flags: Any) -> None:
        super().__init__(params, dict(lr=lr, lambd=lambd, alpha=alpha, t0=t0,
                                      weight_decay=weight_decay, maximize=maximize), **flags)

    def _check_group(self, group: dict[str, Any]) -> dict[str, Any]:
        group["lr"] = _lr(group["lr"])
        group["lambd"] = _real("lambd", group["lambd"])
        group["alpha"] = _real("alpha", group["alpha"])
        group["t0"] = _real("t0", group["t0"])
        group["weight_decay"] = _at_least("weight_decay value", group["weight_decay"])
        return group

    _flags = _FLAGS_FCD
    _numbers = ("step", "eta", "mu")
    _numbers_on_device = True  # PyTorch keeps ASGD's on the parameter's device

    def _state_spec(self, group: Mapping[str, Any]) -> dict[str, tuple[str, bool]]:
        return {"step": (_COUNT, True), "eta": (_SCALAR, True), "mu": (_SCALAR, True),
                "ax": (_ARRAY, True)}

    def _update(self, p: Tensor, g: Any, group: dict[str, Any], state: dict[str, Any]) -> None:
        lr, lambd = group["lr"], group["lambd"]
        if not state:
            state.update(step=_number(0.0, p._dev), eta=_number(lr, p._dev),
                         mu=_number(1.0, p._dev), ax=_zeros(p))
        if group["weight_decay"]:
            g = g + group["weight_decay"] * p._data
        t = _tick(state)
        eta_t, mu_t, ax = state["eta"], state["mu"], state["ax"]
        eta, mu = float(eta_t._data), float(mu_t._data)
        _write(p, p._data * (1.0 - lambd * eta) - eta * g)
        _put(ax, p._data.copy() if mu == 1 else ax._data + (p._data - ax._data) * mu)
        # the new eta and mu rounded to the scalar dtype, then stored in their tensors' dtype,
        # as PyTorch's eta.copy_(torch.as_tensor(...)) (a loaded eta of float64 still gets
        # float32's rounding under a float32 default)
        xp, sd = eta_t._dev.xp, _scalar_dtype()
        new_eta = np.asarray(lr / (1.0 + lambd * lr * t) ** group["alpha"], dtype=sd)
        new_mu = np.asarray(1.0 / max(1.0, t - group["t0"]), dtype=sd)
        _set_values(eta_t, xp.asarray(float(new_eta), dtype=eta_t.dtype), "an optimizer step")
        _set_values(mu_t, xp.asarray(float(new_mu), dtype=mu_t.dtype), "an optimizer step")


class Rprop(Optimizer):
    """Resilient backpropagation (Riedmiller & Braun, 1993), as PyTorch's: each coordinate
    moves by its own step size, against the sign of its gradient; the step grows while the
    gradient keeps its sign and shrinks when it flips (a step over a minimum), and after a
    flip the coordinate rests for one step.

    With ``g`` the gradient, ``g'`` the previous one (as kept), ``s`` the step sizes (from
    ``lr``)::

        f = etaplus where g * g' > 0,  etaminus where g * g' < 0,  1 where g * g' = 0
        s <- clip(s * f, step_size_min, step_size_max)
        g <- 0 where g * g' < 0
        p <- p - sign(g) * s;   g' <- g

    State per parameter: ``step``, ``prev`` (g'), ``step_size`` (s).
    """

    def __init__(self, params: ParamsT, lr: float = 1e-2,
                 etas: tuple[float, float] = (0.5, 1.2),
                 step_sizes: tuple[float, float] = (1e-6, 50), *, capturable: bool = False,
                 foreach: bool | None = None, maximize: bool = False,
                 differentiable: bool = False) -> None:
        super().__init__(params, dict(lr=lr, etas=etas, step_sizes=step_sizes,
                                      maximize=maximize),
                         capturable=capturable, foreach=foreach, differentiable=differentiable)

    _flags = _FLAGS_FCD

    def _check_group(self, group: dict[str, Any]) -> dict[str, Any]:
        group["lr"] = _lr(group["lr"])
        minus, plus = (_real("etaminus", e) for e in _pair("etas", group["etas"]))
        if not 0.0 < minus < 1.0 < plus:
            raise ValueError(f"Invalid eta values: {minus}, {plus} (must be 0 < etaminus < 1 "
                             "< etaplus)")
        group["etas"] = (minus, plus)
        low, high = (_real(n, v) for n, v in zip(
            ("step_size_min", "step_size_max"), _pair("step_sizes", group["step_sizes"])))
        if not 0.0 <= low <= high:  # PyTorch lets high < low clamp every step size to high
            raise ValueError(f"Invalid step_sizes: ({low}, {high}) (must be 0 <= min <= max)")
        group["step_sizes"] = (low, high)
        return group

    def _state_spec(self, group: Mapping[str, Any]) -> dict[str, tuple[str, bool]]:
        return {"step": (_COUNT, True), "prev": (_ARRAY, True), "step_size": (_ARRAY, True)}

    def _update(self, p: Tensor, g: Any, group: dict[str, Any], state: dict[str, Any]) -> None:
        xp = p._dev.xp
        minus, plus = group["etas"]
        if not state:
            state.update(step=_number(0.0), prev=_zeros(p), step_size=_zeros(p, group["lr"]))
        _tick(state)
        s_t = state["step_size"]
        agree = xp.sign(g * state["prev"]._data)
        s = s_t._data * xp.where(agree > 0, plus, xp.where(agree < 0, minus, 1.0)).astype(
            s_t.dtype)
        s = xp.clip(s, *group["step_sizes"])
        _put(s_t, s)
        g = xp.where(agree < 0, xp.zeros_like(g), g)  # a new array: g may be the gradient
        _write(p, p._data - xp.sign(g) * s)
        _put(state["prev"], g)


class Adafactor(Optimizer):
    """Adafactor (Shazeer & Stern, 2018), PyTorch's variant: Adam without first moment whose
    second moment of a matrix is kept factored, one mean per row and one per column (of the
    last two axes; the leading ones are a batch of matrices), so its memory is O(m + n), not
    O(mn). The step is relative to the parameter's RMS and clipped by the update's RMS.

    With ``g`` the gradient, ``t`` the step (from 1), ``w = t ** beta2_decay`` (1 - beta2_t),
    ``RMS(x) = sqrt(mean(x * x))``, and ``eps1 = None`` the machine epsilon of p's dtype::

        rho = min(lr, 1 / sqrt(t));   alpha = max(eps2, RMS(p)) * rho
        p <- p * (1 - lr * weight_decay)
        p of 2 or more axes:  R <- R + w * (mean(g * g, axis=-1) - R)       R: (..., m, 1)
                              C <- C + w * (mean(g * g, axis=-2) - C)       C: (..., 1, n)
                              V = R * C / max(mean(R, axis=-2), eps1)
        otherwise (0-d, 1-d): V <- V + w * (g * g - V)
        U = g / sqrt(max(V, eps1 ** 2))
        p <- p - alpha / max(1, RMS(U) / d) * U

    (``lr`` is the cap of the relative step ``rho`` and the rate of the decoupled weight
    decay, as in PyTorch; the paper caps ``rho`` at 0.01.) State per parameter: ``step``,
    and ``row_var`` (R) and ``col_var`` (C), or ``variance`` (V).
    """

    def __init__(self, params: ParamsT, lr: float = 1e-2, beta2_decay: float = -0.8,
                 eps: tuple[float | None, float] = (None, 1e-3), d: float = 1.0,
                 weight_decay: float = 0.0, *, foreach: bool | None = None,
                 maximize: bool = False) -> None:
        super().__init__(params, dict(lr=lr, beta2_decay=beta2_decay, eps=eps, d=d,
                                      weight_decay=weight_decay, maximize=maximize),
                         foreach=foreach)

    _flags = {"foreach": None}

    def _check_group(self, group: dict[str, Any]) -> dict[str, Any]:
        group["lr"] = _lr(group["lr"])
        decay = _real("beta2_decay", group["beta2_decay"])
        if not decay <= 0.0:
            raise ValueError(f"Invalid beta2_decay: {group['beta2_decay']!r} (must be <= 0)")
        group["beta2_decay"] = decay
        eps1, eps2 = _pair("eps", group["eps"])
        group["eps"] = (None if eps1 is None else _at_least("epsilon1 value", eps1),
                        _at_least("epsilon2 value", eps2))
        group["d"] = _at_least("clipping threshold d", group["d"], 1.0)
        group["weight_decay"] = _at_least("weight_decay value", group["weight_decay"])
        return group

    def _param_state_spec(self, group: Mapping[str, Any],
                          p: Tensor) -> dict[str, tuple[str, bool]]:
        arrays = ("row_var", "col_var") if p.ndim > 1 else ("variance",)
        return {"step": (_COUNT, True), **{n: (_ARRAY, True) for n in arrays}}

    def _state_shape(self, p: Tensor, name: str) -> tuple[int, ...]:
        if name == "row_var":
            return p.shape[:-1] + (1,)
        if name == "col_var":
            return p.shape[:-2] + (1, p.shape[-1])
        return p.shape

    def _update(self, p: Tensor, g: Any, group: dict[str, Any], state: dict[str, Any]) -> None:
        xp = p._dev.xp
        lr, wd = group["lr"], group["weight_decay"]
        eps1, eps2 = group["eps"]
        if eps1 is None:
            eps1 = float(np.finfo(p.dtype).eps)
        if not state:
            state["step"] = _number(0.0)
            for n in self._param_state_spec(group, p):
                if n != "step":
                    state[n] = Tensor._wrap(xp.zeros(self._state_shape(p, n), dtype=p.dtype),
                                            p._dev)
        t = _tick(state)
        w = float(t) ** group["beta2_decay"]
        alpha = max(eps2, _rms(p._data)) * min(lr, 1.0 / math.sqrt(t))
        if wd:
            _write(p, p._data * (1.0 - lr * wd))
        g2 = g * g
        if p.ndim > 1:
            r_t, c_t = state["row_var"], state["col_var"]
            r, c = r_t._data, c_t._data
            r = r + w * (g2.mean(axis=-1, keepdims=True) - r)
            c = c + w * (g2.mean(axis=-2, keepdims=True) - c)
            _put(r_t, r)
            _put(c_t, c)
            v = r * c / xp.maximum(r.mean(axis=-2, keepdims=True), eps1)
        else:
            v_t = state["variance"]
            v = v_t._data + w * (g2 - v_t._data)
            _put(v_t, v)
        u = g / xp.sqrt(xp.maximum(v, eps1 * eps1))
        _write(p, p._data - (alpha / max(1.0, _rms(u) / group["d"])) * u)


def _rms(a: Any) -> float:
    """sqrt(mean(a * a)) as a Python float (0 for an empty array)."""
    return math.sqrt(float((a * a).sum()) / a.size) if a.size else 0.0


class Muon(Optimizer):
    """Muon (Jordan et al., 2024), as PyTorch's: momentum SGD for matrices whose update is the
    momentum orthogonalised, ``U S V^T -> ~U V^T``, by a few Newton-Schulz iterations of an odd
    quintic polynomial (coefficients a, b, c; they push every singular value towards ~1 fast,
    not exactly). Only for 2-D parameters (hidden layers' weights): give biases, embeddings
    and the rest to another optimizer, such as AdamW.

    With ``g`` the gradient, ``mu`` the momentum, ``lambda`` the weight decay::

        B <- mu * B + (1 - mu) * g
        M = (1 - mu) * g + mu * B  (nesterov)   or   M = B
        X = M / max(||M||_F, eps)            (transposed first if it has more rows than columns)
        k times:  A = X X^T;   X <- a * X + (b * A + c * A A) X
        p <- p * (1 - lr * lambda) - lr' * X
        lr' = lr * sqrt(max(1, rows / cols))            (adjust_lr_fn None or "original")
              lr * 0.2 * sqrt(max(rows, cols))          ("match_rms_adamw": AdamW's update RMS)

    The iterations run in the parameter's dtype; PyTorch runs them in bfloat16 (which NumPy
    and CuPy lack), so the updates differ by bfloat16's rounding, about 1% of a step.
    State per parameter: ``momentum_buffer`` (B).
    """

    def __init__(self, params: ParamsT, lr: float = 1e-3, weight_decay: float = 0.1,
                 momentum: float = 0.95, nesterov: bool = True,
                 ns_coefficients: tuple[float, float, float] = (3.4445, -4.7750, 2.0315),
                 eps: float = 1e-7, ns_steps: int = 5, adjust_lr_fn: str | None = None) -> None:
        super().__init__(params, dict(lr=lr, weight_decay=weight_decay, momentum=momentum,
                                      nesterov=nesterov, ns_coefficients=ns_coefficients,
                                      eps=eps, ns_steps=ns_steps, adjust_lr_fn=adjust_lr_fn))

    def _check_param(self, p: Tensor) -> None:
        if p.ndim != 2:
            raise ValueError(f"Muon only supports 2-D parameters, got one of shape {p.shape}: "
                             "optimize biases, embeddings and other parameters with another "
                             "optimizer, such as AdamW")

    def _check_group(self, group: dict[str, Any]) -> dict[str, Any]:
        group["lr"] = _lr(group["lr"])
        group["weight_decay"] = _at_least("weight_decay value", group["weight_decay"])
        group["momentum"] = _at_least("momentum value", group["momentum"])
        group["nesterov"] = bool(group["nesterov"])
        abc = group["ns_coefficients"]
        if not isinstance(abc, (tuple, list)) or len(abc) != 3:
            raise ValueError(f"ns_coefficients must be three numbers (a, b, c), got {abc!r}")
        group["ns_coefficients"] = tuple(_real(f"ns_coefficients[{i}]", v)
                                         for i, v in enumerate(abc))
        group["eps"] = _at_least("epsilon value", group["eps"])
        steps = _count("ns_steps", group["ns_steps"], 0)
        if steps >= 100:
            raise ValueError(f"Invalid ns_steps: {steps} (must be < 100, as in PyTorch)")
        group["ns_steps"] = steps
        if group["adjust_lr_fn"] not in (None, "original", "match_rms_adamw"):
            raise ValueError(f"adjust_lr_fn must be None, 'original' or 'match_rms_adamw', got "
                             f"{group['adjust_lr_fn']!r}")
        return group

    _numbers = ()

    def _state_spec(self, group: Mapping[str, Any]) -> dict[str, tuple[str, bool]]:
        return {"momentum_buffer": (_ARRAY, True)}

    def _update(self, p: Tensor, g: Any, group: dict[str, Any], state: dict[str, Any]) -> None:
        lr, mu = group["lr"], group["momentum"]
        buf = state.get("momentum_buffer")
        if buf is None:
            buf = state["momentum_buffer"] = _zeros(p)
        b = buf._data + (1.0 - mu) * (g - buf._data)
        _put(buf, b)
        m = g + mu * (b - g) if group["nesterov"] else b
        x = _newton_schulz(m, group["ns_coefficients"], group["ns_steps"], group["eps"])
        rows, cols = p.shape
        if group["adjust_lr_fn"] == "match_rms_adamw":
            lr_x = lr * 0.2 * math.sqrt(max(rows, cols))
        else:
            lr_x = lr * math.sqrt(max(1.0, rows / cols))
        _write(p, p._data * (1.0 - lr * group["weight_decay"]) - lr_x * x)


def _newton_schulz(m: Any, coefficients: tuple[float, float, float], steps: int,
                   eps: float) -> Any:
    """Muon's orthogonalisation of the matrix m: ``steps`` iterations of
    ``X <- a X + (b A + c A^2) X`` with ``A = X X^T``, from ``X = m / max(||m||_F, eps)``
    (so every singular value starts at most 1), on the wide orientation (``A`` the smaller
    Gram matrix)."""
    a, b, c = coefficients
    tall = m.shape[0] > m.shape[1]
    x = m.T if tall else m
    x = x / max(math.sqrt(float((x * x).sum())), eps)
    for _ in range(steps):
        gram = x @ x.T
        x = a * x + (b * gram + c * (gram @ gram)) @ x
    return x.T if tall else x


class LBFGS(Optimizer):
    """L-BFGS (Nocedal, 1980; after minFunc), as PyTorch's: each ``step(closure)`` runs up to
    ``max_iter`` iterations, each a quasi-Newton direction from the last ``history_size``
    steps and gradient changes (the two-loop recursion), then a step along it: of ``lr``
    (the first iteration ever: ``lr * min(1, 1 / sum|g|)``), or, with
    ``line_search_fn="strong_wolfe"``, one that satisfies the strong Wolfe conditions
    (``c1 = 1e-4``, ``c2 = 0.9``; cubic interpolation, as PyTorch's). ``closure`` clears the
    gradients, computes the loss, calls ``backward()`` and returns the loss; it is called with
    gradients on, at most ``max_eval`` times. An iteration stops the step when the largest
    gradient element is at most ``tolerance_grad``, or the step or the loss changes by less
    than ``tolerance_change``. Returns the loss of the first evaluation.

    One parameter group only (PyTorch's rule), every parameter on one device. The state is the
    optimizer's, kept (as PyTorch keeps it) under the first parameter: ``func_evals``,
    ``n_iter``, the direction ``d`` and step ``t``, the history ``old_dirs``, ``old_stps``,
    ``ro``, ``H_diag``, ``prev_flat_grad``, ``prev_loss`` and ``al``; its arrays are flat,
    all parameters end to end, Tensors between steps, as PyTorch's. Scalars (dot products,
    step lengths) are Python floats, i.e. float64 (PyTorch keeps them as 0-d tensors of the
    parameters' dtype).
    """

    def __init__(self, params: ParamsT, lr: float = 1.0, max_iter: int = 20,
                 max_eval: int | None = None, tolerance_grad: float = 1e-7,
                 tolerance_change: float = 1e-9, history_size: int = 100,
                 line_search_fn: str | None = None) -> None:
        max_iter = _count("max_iter", max_iter, 1)
        if max_eval is None:
            max_eval = max_iter * 5 // 4
        super().__init__(params, dict(lr=lr, max_iter=max_iter, max_eval=max_eval,
                                      tolerance_grad=tolerance_grad,
                                      tolerance_change=tolerance_change,
                                      history_size=history_size, line_search_fn=line_search_fn))
        self._params: list[Tensor] = self.param_groups[0]["params"]
        dev = self._params[0]._dev
        if any(p._dev is not dev for p in self._params):
            raise ValueError("LBFGS: every parameter must be on one device, got "
                             f"{sorted({p.device for p in self._params})}")

    def add_param_group(self, group: Mapping[str, Any]) -> None:
        if self.param_groups:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups)")
        super().add_param_group(group)

    def _check_group(self, group: dict[str, Any]) -> dict[str, Any]:
        group["lr"] = _lr(group["lr"])
        group["max_iter"] = _count("max_iter", group["max_iter"], 1)
        group["max_eval"] = _count("max_eval", group["max_eval"], 1)
        group["tolerance_grad"] = _real("tolerance_grad", group["tolerance_grad"])
        group["tolerance_change"] = _real("tolerance_change", group["tolerance_change"])
        group["history_size"] = _count("history_size", group["history_size"], 1)
        if group["line_search_fn"] not in (None, "strong_wolfe"):
            raise ValueError(f"line_search_fn must be None or 'strong_wolfe' (the only line "
                             f"search, as in PyTorch), got {group['line_search_fn']!r}")
        return group

    # ---- the parameters as one flat vector -----------------------------------------------------
    def _gather_flat_grad(self) -> Any:
        xp = self._params[0]._dev.xp
        parts = []
        for p in self._params:
            _check_grad("LBFGS.step", p)
            parts.append(xp.zeros(p._data.size, dtype=p.dtype) if p.grad is None
                         else p.grad._data.reshape(-1))
        return xp.concatenate(parts)

    def _add_grad(self, t: float, d: Any) -> None:
        offset = 0
        for p in self._params:
            n = p._data.size
            _write(p, p._data + t * d[offset:offset + n].reshape(p._data.shape))
            offset += n

    def _directional_evaluate(self, closure: Callable[[], Any], x: list[Any], t: float,
                              d: Any) -> tuple[float, Any]:
        """The loss and flat gradient at ``x + t d``; the parameters are ``x`` again after."""
        self._add_grad(t, d)
        with enable_grad():
            loss = float(closure())
        flat_grad = self._gather_flat_grad()
        for p, v in zip(self._params, x):
            _write(p, v.copy())
        return loss, flat_grad

    def step(self, closure: Callable[[], Any]) -> Any:  # type: ignore[override]
        """Run up to ``max_iter`` iterations; returns the loss of the first ``closure()``."""
        if closure is None:
            raise TypeError("LBFGS.step needs a closure: a function that clears the "
                            "gradients, computes the loss, calls backward() and returns it")
        group = _with_float_lr(self.param_groups[0])
        lr, max_iter, max_eval = group["lr"], group["max_iter"], group["max_eval"]
        tolerance_grad, tolerance_change = group["tolerance_grad"], group["tolerance_change"]
        history_size = group["history_size"]
        xp = self._params[0]._dev.xp

        state = self.state[self._params[0]]
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)

        with enable_grad():
            orig_loss = closure()
        loss = float(orig_loss)
        current_evals = 1
        state["func_evals"] += 1
        flat_grad = self._gather_flat_grad()
        if float(xp.abs(flat_grad).max()) <= tolerance_grad:
            return orig_loss  # (the state as it was: its tensors stay tensors)

        _lbfgs_arrays(state, self._params[0])
        d, t = state.get("d"), state.get("t")
        old_dirs, old_stps, ro = state.get("old_dirs"), state.get("old_stps"), state.get("ro")
        H_diag = state.get("H_diag")
        prev_flat_grad, prev_loss = state.get("prev_flat_grad"), state.get("prev_loss")

        n_iter = 0
        while n_iter < max_iter:
            n_iter += 1
            state["n_iter"] += 1
            # the direction: steepest descent first, then the two-loop recursion
            if state["n_iter"] == 1:
                d = -flat_grad
                old_dirs, old_stps, ro, H_diag = [], [], [], 1.0
            else:
                y = flat_grad - prev_flat_grad
                s = d * t
                ys = float(xp.dot(y, s))
                if ys > 1e-10:  # a curvature pair worth keeping
                    if len(old_dirs) == history_size:
                        old_dirs.pop(0)
                        old_stps.pop(0)
                        ro.pop(0)
                    old_dirs.append(y)
                    old_stps.append(s)
                    ro.append(1.0 / ys)
                    H_diag = ys / float(xp.dot(y, y))
                num_old = len(old_dirs)
                if "al" not in state:
                    state["al"] = [None] * history_size
                al = state["al"]
                q = -flat_grad
                for i in range(num_old - 1, -1, -1):
                    al[i] = float(xp.dot(old_stps[i], q)) * ro[i]
                    q = q - al[i] * old_dirs[i]
                r = q * H_diag
                for i in range(num_old):
                    be_i = float(xp.dot(old_dirs[i], r)) * ro[i]
                    r = r + (al[i] - be_i) * old_stps[i]
                d = r
            prev_flat_grad = flat_grad
            prev_loss = loss

            # the step length
            if state["n_iter"] == 1:
                t = min(1.0, 1.0 / float(xp.abs(flat_grad).sum())) * lr
            else:
                t = lr
            gtd = float(xp.dot(flat_grad, d))
            if gtd > -tolerance_change:  # not a descent direction (any more)
                break

            ls_func_evals = 0
            if group["line_search_fn"] is not None:
                x_init = [p._data.copy() for p in self._params]

                def obj_func(x: list[Any], t: float, d: Any) -> tuple[float, Any]:
                    return self._directional_evaluate(closure, x, t, d)

                loss, flat_grad, t, ls_func_evals = _strong_wolfe(
                    obj_func, x_init, t, d, loss, flat_grad, gtd, xp,
                    max_ls=max_eval - current_evals)
                self._add_grad(t, d)
                opt_cond = float(xp.abs(flat_grad).max()) <= tolerance_grad
            else:
                self._add_grad(t, d)
                opt_cond = False
                if n_iter != max_iter:  # (the last iteration's loss would go unused)
                    with enable_grad():
                        loss = float(closure())
                    flat_grad = self._gather_flat_grad()
                    opt_cond = float(xp.abs(flat_grad).max()) <= tolerance_grad
                    ls_func_evals = 1
            current_evals += ls_func_evals
            state["func_evals"] += ls_func_evals

            if n_iter == max_iter or current_evals >= max_eval or opt_cond:
                break
            if float(xp.abs(d * t).max()) <= tolerance_change:  # no progress
                break
            if abs(loss - prev_loss) < tolerance_change:
                break

        dev = self._params[0]._dev

        def wrap(a: Any) -> Any:  # PyTorch keeps the flat vectors as tensors
            return a if a is None else Tensor._wrap(a, dev)

        state.update(d=wrap(d), t=t, old_dirs=[wrap(a) for a in old_dirs],
                     old_stps=[wrap(a) for a in old_stps], ro=ro, H_diag=H_diag,
                     prev_flat_grad=wrap(prev_flat_grad), prev_loss=prev_loss)
        return orig_loss


def _lbfgs_arrays(state: dict[str, Any], p: Tensor) -> None:
    """LBFGS's state as the arrays (on p's device, in its dtype) and numbers its step works
    on: after ``load_state_dict`` it holds Tensors (0-d ones for the numbers, from a state dict
    that PyTorch saved), and after ``Module.to`` arrays of another device or dtype."""
    def array(v: Any) -> Any:
        if isinstance(v, Tensor):
            v = v._data
        if isinstance(v, p._dev.array_type) and v.dtype == p.dtype:
            return v
        try:
            host = device_of(v).to_host(v)
        except TypeError:
            host = host_array(v)
        return p._dev.to_device(np.array(host, dtype=p.dtype))

    def number(v: Any) -> Any:
        return float(v.item()) if isinstance(v, Tensor) else v

    for k in ("d", "prev_flat_grad"):
        if state.get(k) is not None:
            state[k] = array(state[k])
    for k in ("old_dirs", "old_stps"):
        if state.get(k) is not None:
            state[k] = [array(v) for v in state[k]]
    for k in ("t", "H_diag", "prev_loss"):
        if state.get(k) is not None:
            state[k] = number(state[k])
    for k in ("ro", "al"):
        if state.get(k) is not None:
            state[k] = [None if v is None else number(v) for v in state[k]]


def _cubic_interpolate(x1: float, f1: float, g1: float, x2: float, f2: float, g2: float,
                       bounds: tuple[float, float] | None = None) -> float:
    """The minimiser of the cubic through (x1, f1) and (x2, f2) with slopes g1 and g2, kept
    within ``bounds`` (default: between x1 and x2); their midpoint if the cubic has none."""
    xmin_bound, xmax_bound = bounds if bounds is not None else (min(x1, x2), max(x1, x2))
    d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
    d2_square = d1**2 - g1 * g2
    if d2_square >= 0:
        d2 = math.sqrt(d2_square)
        if x1 <= x2:
            min_pos = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
        else:
            min_pos = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2))
        return min(max(min_pos, xmin_bound), xmax_bound)
    return (xmin_bound + xmax_bound) / 2.0


def _strong_wolfe(obj_func: Callable[[list[Any], float, Any], tuple[float, Any]],
                  x: list[Any], t: float, d: Any, f: float, g: Any, gtd: float, xp: Any,
                  c1: float = 1e-4, c2: float = 0.9, tolerance_change: float = 1e-9,
                  max_ls: int = 25) -> tuple[float, Any, float, int]:
    """A step ``t`` along ``d`` from ``x`` (loss ``f``, gradient ``g``, slope ``gtd``) that
    satisfies the strong Wolfe conditions, as PyTorch's (after minFunc's): bracket an interval
    that holds one, then zoom in on it by cubic interpolation. Returns the loss and gradient
    there, ``t``, and the number of evaluations."""
    d_norm = float(xp.abs(d).max())
    f_new, g_new = obj_func(x, t, d)
    ls_func_evals = 1
    gtd_new = float(xp.dot(g_new, d))

    # bracket an interval containing a point satisfying the Wolfe criteria
    t_prev, f_prev, g_prev, gtd_prev = 0.0, f, g, gtd
    done = False
    ls_iter = 0
    while ls_iter < max_ls:
        if f_new > (f + c1 * t * gtd) or (ls_iter > 1 and f_new >= f_prev):
            bracket, bracket_f = [t_prev, t], [f_prev, f_new]
            bracket_g, bracket_gtd = [g_prev, g_new], [gtd_prev, gtd_new]
            break
        if abs(gtd_new) <= -c2 * gtd:
            bracket, bracket_f, bracket_g = [t], [f_new], [g_new]
            done = True
            break
        if gtd_new >= 0:
            bracket, bracket_f = [t_prev, t], [f_prev, f_new]
            bracket_g, bracket_gtd = [g_prev, g_new], [gtd_prev, gtd_new]
            break
        # extrapolate
        min_step = t + 0.01 * (t - t_prev)
        max_step = t * 10
        tmp = t
        t = _cubic_interpolate(t_prev, f_prev, gtd_prev, t, f_new, gtd_new,
                               bounds=(min_step, max_step))
        t_prev, f_prev, g_prev, gtd_prev = tmp, f_new, g_new, gtd_new
        f_new, g_new = obj_func(x, t, d)
        ls_func_evals += 1
        gtd_new = float(xp.dot(g_new, d))
        ls_iter += 1
    if ls_iter >= max_ls:  # out of evaluations
        bracket, bracket_f, bracket_g = [0.0, t], [f, f_new], [g, g_new]

    # zoom: shrink the bracket until a point in it satisfies the criteria
    insuf_progress = False
    low_pos, high_pos = (0, 1) if bracket_f[0] <= bracket_f[-1] else (1, 0)
    while not done and ls_iter < max_ls:
        if abs(bracket[1] - bracket[0]) * d_norm < tolerance_change:  # too small a bracket
            break
        t = _cubic_interpolate(bracket[0], bracket_f[0], bracket_gtd[0],
                               bracket[1], bracket_f[1], bracket_gtd[1])
        # too close to an end of the bracket, twice in a row or beyond it: move 10% inside
        eps = 0.1 * (max(bracket) - min(bracket))
        if min(max(bracket) - t, t - min(bracket)) < eps:
            if insuf_progress or t >= max(bracket) or t <= min(bracket):
                if abs(t - max(bracket)) < abs(t - min(bracket)):
                    t = max(bracket) - eps
                else:
                    t = min(bracket) + eps
                insuf_progress = False
            else:
                insuf_progress = True
        else:
            insuf_progress = False
        f_new, g_new = obj_func(x, t, d)
        ls_func_evals += 1
        gtd_new = float(xp.dot(g_new, d))
        ls_iter += 1
        if f_new > (f + c1 * t * gtd) or f_new >= bracket_f[low_pos]:
            # not enough decrease, or not below the lowest point: the new high end
            bracket[high_pos], bracket_f[high_pos] = t, f_new
            bracket_g[high_pos], bracket_gtd[high_pos] = g_new, gtd_new
            low_pos, high_pos = (0, 1) if bracket_f[0] <= bracket_f[1] else (1, 0)
        else:
            if abs(gtd_new) <= -c2 * gtd:  # the Wolfe conditions hold
                done = True
            elif gtd_new * (bracket[high_pos] - bracket[low_pos]) >= 0:
                # the old high end becomes the new low end
                bracket[high_pos], bracket_f[high_pos] = bracket[low_pos], bracket_f[low_pos]
                bracket_g[high_pos] = bracket_g[low_pos]
                bracket_gtd[high_pos] = bracket_gtd[low_pos]
            bracket[low_pos], bracket_f[low_pos] = t, f_new
            bracket_g[low_pos], bracket_gtd[low_pos] = g_new, gtd_new
    return bracket_f[low_pos], bracket_g[low_pos], bracket[low_pos], ls_func_evals


# ---- learning-rate schedules ------------------------------------------------------------------
def _copied(lr: Any) -> Any:
    """An lr as a schedule keeps it: a number as it is, a tensor lr a copy (so that filling
    the group's tensor leaves it), as PyTorch's."""
    return lr.detach().clone() if isinstance(lr, Tensor) else lr


def _set_lr(group: dict[str, Any], key: str, value: Any) -> None:
    """``group[key] = value``, or, where it holds a tensor (a tensor lr), the value filled into
    that tensor, in place, as PyTorch's schedules do: a tensor given to the optimizer, or
    captured by a compiled step, follows the schedule."""
    old = group[key]
    if isinstance(old, Tensor):
        old.fill_(value.item() if isinstance(value, Tensor) else value)
    else:
        group[key] = value


def _lr_value(x: Any) -> Any:
    """A saved lr as a number: a 1-element tensor's (ours or PyTorch's) value."""
    numel = getattr(x, "numel", None)
    return x.item() if callable(numel) and numel() == 1 else x


def _problems(check: Callable[[], Any]) -> list[str]:
    """[] if ``check()`` passes, else its error's message."""
    try:
        check()
    except (TypeError, ValueError) as e:
        return [str(e)]
    return []


def _start_factor(value: Any) -> float:
    f = _real("start_factor", value)
    if not 0.0 <= f <= 1.0:
        raise ValueError(f"Invalid start_factor: {value!r} (must be in [0, 1])")
    return f


def _milestones(milestones: Sequence[Any]) -> list[int]:
    ms = [_count("milestone", m, 1) for m in milestones]
    if any(b < a for a, b in zip(ms, ms[1:])):  # (a repeated one skips a part, as in PyTorch)
        raise ValueError(f"SequentialLR: milestones must not decrease, got {ms}")
    return ms


# PyTorch's warnings, word for word (code that filters them by message keeps working)
EPOCH_DEPRECATION_WARNING = (
    "The epoch parameter in `scheduler.step()` was not necessary and is being deprecated where "
    "possible. Please use `scheduler.step()` to step the scheduler. During the deprecation, if "
    "epoch is different from None, the closed form is used instead of the new chainable form, "
    "where available. Please open an issue if you are unable to replicate your use case: "
    "https://github.com/pytorch/pytorch/issues/new/choose.")
_SEE = "See more details at https://pytorch.org/docs/stable/optim.html#how-to-adjust-learning-rate"
_STEP_REPLACED = (
    "Seems like `optimizer.step()` has been overridden after learning rate scheduler "
    "initialization. Please, make sure to call `optimizer.step()` before "
    "`lr_scheduler.step()`. " + _SEE)
_STEPPED_FIRST = (
    "Detected call of `lr_scheduler.step()` before `optimizer.step()`. In PyTorch 1.1.0 and "
    "later, you should call them in the opposite order: `optimizer.step()` before "
    "`lr_scheduler.step()`.  Failure to do this will result in PyTorch skipping the first value "
    "of the learning rate schedule. " + _SEE)
_USE_GET_LAST_LR = ("To get the last learning rate computed by the scheduler, please use "
                    "`get_last_lr()`.")

# keys a state dict may hold that this version does not keep: PyTorch's older bookkeeping,
# and its CyclicLR's scale function (a function, which it drops itself)
_TORCH_ONLY = {"verbose", "_scale_fn_ref"}
# bookkeeping a state saved by an earlier version of this package lacks: kept as it is
_BOOKKEEPING = {"_step_count", "_get_lr_called_within_step", "_is_initial"}


class _CountedStep:
    """``optimizer.step`` once a schedule drives the optimizer, as PyTorch's schedules leave
    it: the optimizer's own step, which also marks the optimizer as stepped
    (``optimizer._opt_called``), so that a schedule stepped before it can say so.

    An object rather than a closure: ``copy.deepcopy`` (or pickling) of the optimizer gives a
    copy whose step steps the copy."""

    _wrapped_by_lr_sched = True

    def __init__(self, optimizer: Optimizer) -> None:
        step = optimizer.step
        self.optimizer = optimizer
        # the class's step, bound at each call; or a step the user put on the instance
        own = getattr(step, "__self__", None) is optimizer
        self._func: Callable[..., Any] | None = step.__func__ if own else None
        self._step: Callable[..., Any] | None = None if own else step
        self.__doc__ = step.__doc__

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.optimizer._opt_called = True  # type: ignore[attr-defined]
        if self._func is not None:
            return self._func(self.optimizer, *args, **kwargs)
        return self._step(*args, **kwargs)  # type: ignore[misc]


def _warn_outside_step(sched: LRScheduler) -> None:
    """PyTorch's warning when a built-in schedule's ``get_lr()`` is called by hand: it computes
    the next step's lrs (from the groups' current ones), not the current lrs."""
    if not sched._get_lr_called_within_step:
        warnings.warn(_USE_GET_LAST_LR, UserWarning, stacklevel=3)


class LRScheduler:
    """Base class, as PyTorch's: each ``step()`` (called after ``optimizer.step()``) adds one to
    ``last_epoch`` and sets every group's ``lr`` to what ``get_lr()`` gives.

    ``get_lr()`` is PyTorch's "chainable" form: the next lrs computed from the groups' current
    lrs (``StepLR`` multiplies them by ``gamma`` at each ``step_size``-th step, and leaves them
    otherwise), so a change the user (or another schedule on the same optimizer) makes to a
    group's ``lr`` carries on. Schedules that have one also give a closed form,
    ``_get_closed_form_lr()``, computed from ``base_lrs`` and ``last_epoch``; ``step(epoch)``
    (deprecated in PyTorch, which warns, as here) jumps to ``epoch`` through it.

    Making a schedule takes its step 0 (``last_epoch`` -1 -> 0): the groups' ``initial_lr`` is
    recorded from their ``lr`` by the first schedule made, and ``base_lrs`` is read from it.
    ``last_epoch=k`` resumes: the groups must hold ``initial_lr`` (load the optimizer's state
    dict first), and making the schedule takes step k + 1 from the groups' current lrs, as
    PyTorch's does (better: make it afresh and ``load_state_dict`` its saved state).

    A schedule written for PyTorch (a subclass overriding ``get_lr()``, reading
    ``self.base_lrs``, ``self.last_epoch`` or the groups, maybe with its own
    ``_get_closed_form_lr()``) runs unchanged. ``state_dict()`` holds PyTorch's keys, so a
    schedule's state moves between PyTorch and here both ways.

    As PyTorch's, making a schedule wraps ``optimizer.step`` (the same step, which also notes
    that it ran), and the first ``step()`` after making the schedule warns (a ``UserWarning``,
    PyTorch's words) if the optimizer has not stepped yet: the schedule's first lr would be
    skipped.
    """

    # flags PyTorch's schedules keep, instance attributes once set (so in the state dict):
    # inside step() (a built-in get_lr called elsewhere warns), and in the constructor's step
    _get_lr_called_within_step: bool = False
    _is_initial: bool = False
    _step_count: int
    _last_lr: list[float]

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(optimizer).__name__} is not an Optimizer")
        last_epoch = _count("last_epoch", last_epoch, -1)
        if last_epoch != -1:  # resuming: the base lrs are those the first schedule recorded
            for i, group in enumerate(optimizer.param_groups):
                if "initial_lr" not in group:
                    raise KeyError(f"param 'initial_lr' is not specified in param_groups[{i}] "
                                   f"when resuming a schedule at last_epoch={last_epoch}: load "
                                   "the optimizer's state dict first, or start at -1")
        self.optimizer = optimizer
        for group in optimizer.param_groups:
            group.setdefault("initial_lr", _copied(group["lr"]))
        self.base_lrs: list[Any] = [_copied(group["initial_lr"])
                                    for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        if not getattr(optimizer.step, "_wrapped_by_lr_sched", False):
            optimizer.step = _CountedStep(optimizer)  # type: ignore[method-assign]
        self._initial_step()

    def _initial_step(self) -> None:
        """The step the constructor takes (to step 0, or k + 1 when resuming at k)."""
        self._step_count = 0
        self._is_initial = True
        try:
            self.step()
        finally:
            self._is_initial = False

    def get_lr(self) -> list[float]:
        """The lrs of step ``last_epoch`` (which ``step()`` has just set), one per group, as a
        schedule computes them inside ``step()``: a subclass defines it (PyTorch's built-in ones
        warn when it is called outside ``step()``; ``get_last_lr()`` gives the current lrs)."""
        raise NotImplementedError(f"{type(self).__name__} does not define get_lr()")

    def get_last_lr(self) -> list[float]:
        """The learning rates the last ``step()`` set, one per group."""
        return list(self._last_lr)

    def step(self, epoch: int | None = None) -> None:
        """Move to the next step and set the groups' lrs (call it after ``optimizer.step()``).
        ``step(epoch)``, deprecated as in PyTorch (it warns), jumps to ``epoch`` through the
        closed form where the schedule has one."""
        if self._step_count == 1:  # the first step() since the schedule was made
            if not getattr(self.optimizer.step, "_wrapped_by_lr_sched", False):
                warnings.warn(_STEP_REPLACED, UserWarning, stacklevel=2)
            elif not getattr(self.optimizer, "_opt_called", False):
                warnings.warn(_STEPPED_FIRST, UserWarning, stacklevel=2)
        self._step_count += 1
        if epoch is not None:
            warnings.warn(EPOCH_DEPRECATION_WARNING, UserWarning, stacklevel=2)
        self._update_lr(epoch)

    def _update_lr(self, epoch: float | None = None) -> None:
        """Take the next step (``epoch`` None) or go to ``epoch``, and set the lrs."""
        self._get_lr_called_within_step = True
        try:
            if epoch is None:
                self.last_epoch += 1
                lrs = self.get_lr()
            else:
                self.last_epoch = epoch  # type: ignore[assignment]
                closed_form = getattr(self, "_get_closed_form_lr", None)
                lrs = closed_form() if closed_form is not None else self.get_lr()
        finally:
            self._get_lr_called_within_step = False
        self._set_lrs(lrs)

    def _set_lrs(self, lrs: Iterable[float]) -> None:
        groups, lrs = self.optimizer.param_groups, list(lrs)
        if len(lrs) != len(groups):
            raise ValueError(f"{type(self).__name__}: get_lr() gave {len(lrs)} learning rates "
                             f"for {len(groups)} param groups")
        for group, lr in zip(groups, lrs):
            _set_lr(group, "lr", lr)
        self._last_lr = self._current_lrs()

    def _current_lrs(self) -> list[Any]:
        return [_copied(group["lr"]) for group in self.optimizer.param_groups]

    # ---- state dict: everything but the optimizer, with PyTorch's keys --------------------
    def state_dict(self) -> dict[str, Any]:
        """Everything but the optimizer (and functions), as a plain structure: PyTorch's keys."""
        return {k: _plain(v, k) for k, v in vars(self).items() if k != "optimizer"}

    def load_state_dict(self, state_dict: Mapping[str, Any]) -> None:
        """Restore a state saved by ``state_dict``, here or by PyTorch (checked first; the
        optimizer's lrs come from the optimizer's own state dict)."""
        problems = self._check_state(state_dict)
        if problems:
            raise ValueError(f"{type(self).__name__}.load_state_dict failed, nothing was "
                             "loaded: " + "; ".join(problems))
        self._apply_state(state_dict)

    def _check_state(self, state_dict: Any) -> list[str]:
        own = self.state_dict()
        if not isinstance(state_dict, Mapping):
            return ["expected a dict, as state_dict() gives"]
        problems = []
        missing = [k for k in own if k not in state_dict and k not in _BOOKKEEPING]
        unexpected = [k for k in state_dict if k not in own and k not in _TORCH_ONLY | _BOOKKEEPING]
        if missing or unexpected:
            problems.append(f"missing keys {missing}, unexpected keys {unexpected}")
        for k in ("base_lrs", "_last_lr"):
            v = state_dict.get(k)
            if k in own and k in state_dict and (not isinstance(v, Sequence)
                                                 or len(v) != len(own[k])):
                problems.append(f"{k} must be a list of {len(own[k])} learning rates")
            elif k in own and k in state_dict:
                # (a schedule may have driven the last lrs below 0: OneCycleLR's, PyTorch's
                # too, where a linear anneal passes its end)
                check = _at_least if k == "base_lrs" else lambda n, x: _real(n, x)
                problems += _problems(lambda v=v, check=check: [
                    check("learning rate", _lr_value(x)) for x in v])
        checks = {"last_epoch": lambda v: _count("last_epoch", v, -1),
                  "_step_count": lambda v: _count("_step_count", v, 0), **self._fields()}
        for k, check in checks.items():
            if k in state_dict:
                problems += _problems(lambda k=k, check=check: check(state_dict[k]))
        return problems

    def _fields(self) -> dict[str, Callable[[Any], Any]]:
        """The schedule's own settings in its state dict, each with the check its constructor
        makes (so a loaded state is held to the same rules); what a check returns is loaded."""
        return {}

    def _apply_state(self, state_dict: Mapping[str, Any]) -> None:
        fields = self._fields()
        for k in self.state_dict():
            if k in state_dict:
                v = _plain(state_dict[k], k)
                setattr(self, k, fields[k](v) if k in fields else v)


def _functions_state(fns: Sequence[Any]) -> list[Any]:
    """PyTorch's way to save functions: None for a plain function, a callable object's
    attributes (``__dict__``) otherwise."""
    return [None if isinstance(f, types.FunctionType) or not hasattr(f, "__dict__")
            else _plain(f.__dict__, "a callable's attributes") for f in fns]


def _load_functions_state(fns: Sequence[Any], saved: Any) -> None:
    for f, attrs in zip(fns, saved or []):
        if attrs is not None:
            f.__dict__.update(attrs)


class StepLR(LRScheduler):
    """Multiply the lrs by ``gamma`` every ``step_size`` steps; closed form
    ``lr = base_lr * gamma ** (t // step_size)``."""

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1,
                 last_epoch: int = -1) -> None:
        self.step_size = _count("step_size", step_size, 1)
        self.gamma = _at_least("gamma", gamma)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        _warn_outside_step(self)
        t = self.last_epoch
        if t == 0 or t % self.step_size != 0:
            return self._current_lrs()
        return [lr * self.gamma for lr in self._current_lrs()]

    def _get_closed_form_lr(self) -> list[float]:
        return [base * self.gamma ** (self.last_epoch // self.step_size) for base in self.base_lrs]

    def _fields(self) -> dict[str, Callable[[Any], Any]]:
        return {"step_size": lambda v: _count("step_size", v, 1),
                "gamma": lambda v: _at_least("gamma", v)}


class MultiStepLR(LRScheduler):
    """Multiply the lrs by ``gamma`` at each milestone step (by ``gamma**n`` at a milestone
    given n times); closed form ``lr = base_lr * gamma ** (number of milestones <= t)``.
    ``milestones`` is kept as PyTorch keeps it, a ``Counter`` (a dict in the state dict)."""

    def __init__(self, optimizer: Optimizer, milestones: Iterable[int], gamma: float = 0.1,
                 last_epoch: int = -1) -> None:
        self.milestones = Counter(_count("milestone", m, 0) for m in milestones)
        self.gamma = _at_least("gamma", gamma)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        _warn_outside_step(self)
        if self.last_epoch not in self.milestones:
            return self._current_lrs()
        k = self.milestones[self.last_epoch]
        return [lr * self.gamma**k for lr in self._current_lrs()]

    def _get_closed_form_lr(self) -> list[float]:
        ms = sorted(self.milestones.elements())
        return [base * self.gamma ** bisect_right(ms, self.last_epoch) for base in self.base_lrs]

    def _fields(self) -> dict[str, Callable[[Any], Any]]:
        def milestones(v: Any) -> Counter[int]:
            if isinstance(v, Mapping):  # PyTorch's Counter, or the dict it saves as
                return Counter({_count("milestone", m, 0): _count("milestone count", n, 0)
                                for m, n in v.items()})
            if isinstance(v, Sequence) and not isinstance(v, str):  # earlier versions: a list
                return Counter(_count("milestone", m, 0) for m in v)
            raise ValueError(f"milestones must be a dict of milestone counts, got {v!r}")

        return {"milestones": milestones, "gamma": lambda v: _at_least("gamma", v)}


class ExponentialLR(LRScheduler):
    """Multiply the lrs by ``gamma`` at every step; closed form ``lr = base_lr * gamma ** t``."""

    def __init__(self, optimizer: Optimizer, gamma: float, last_epoch: int = -1) -> None:
        self.gamma = _at_least("gamma", gamma)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        _warn_outside_step(self)
        if self._is_initial:
            return self._current_lrs()
        return [lr * self.gamma for lr in self._current_lrs()]

    def _get_closed_form_lr(self) -> list[float]:
        return [base * self.gamma**self.last_epoch for base in self.base_lrs]

    def _fields(self) -> dict[str, Callable[[Any], Any]]:
        return {"gamma": lambda v: _at_least("gamma", v)}


class CosineAnnealingLR(LRScheduler):
    """SGDR without restarts, as PyTorch's: closed form
    ``lr = eta_min + (base_lr - eta_min) * (1 + cos(pi * t / T_max)) / 2`` (past ``T_max`` the
    cosine goes on); each step moves the current lrs along the cosine::

        lr_t = eta_min + (lr_{t-1} - eta_min) * (1 + cos(pi t / T)) / (1 + cos(pi (t-1) / T))

    (leaving a trough, where that ratio is 0/0, it adds ``(base_lr - eta_min) *
    (1 - cos(pi / T)) / 2``)."""

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0,
                 last_epoch: int = -1) -> None:
        self.T_max = _count("T_max", T_max, 1)  # T_max = 0: PyTorch divides by zero
        self.eta_min = _at_least("eta_min", eta_min)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        _warn_outside_step(self)
        t, T, eta = self.last_epoch, self.T_max, self.eta_min
        if self._is_initial:
            return self._current_lrs()
        if self._step_count == 1 and t > 0:  # stepped without its first step: the closed form
            return [eta + (base - eta) * (1 + math.cos(t * math.pi / T)) / 2
                    for base in self.base_lrs]
        if (t - 1 - T) % (2 * T) == 0:
            return [lr + (base - eta) * (1 - math.cos(math.pi / T)) / 2
                    for lr, base in zip(self._current_lrs(), self.base_lrs)]
        ratio = (1 + math.cos(math.pi * t / T)) / (1 + math.cos(math.pi * (t - 1) / T))
        return [ratio * (lr - eta) + eta for lr in self._current_lrs()]

    def _get_closed_form_lr(self) -> list[float]:
        eta = self.eta_min
        return [eta + (base - eta) * (1 + math.cos(math.pi * self.last_epoch / self.T_max)) / 2
                for base in self.base_lrs]

    def _fields(self) -> dict[str, Callable[[Any], Any]]:
        return {"T_max": lambda v: _count("T_max", v, 1),
                "eta_min": lambda v: _at_least("eta_min", v)}


def _lambdas(sched: LRScheduler, optimizer: Any, lr_lambda: Any) -> list[Callable[[int], float]]:
    """One function per param group: the list given, or the one function for every group."""
    name = type(sched).__name__
    n = len(optimizer.param_groups) if isinstance(optimizer, Optimizer) else 0
    fns = list(lr_lambda) if isinstance(lr_lambda, (list, tuple)) else [lr_lambda] * n
    if len(fns) != n:
        raise ValueError(f"{name}: expected {n} lr_lambdas (one per param group), got "
                         f"{len(fns)}")
    if not all(callable(f) for f in fns):
        raise TypeError(f"{name}: lr_lambda must be a function of the step, or a list of them")
    return fns


class _LambdaState:
    """The state dict of ``LambdaLR`` and ``MultiplicativeLR``, as PyTorch's: ``lr_lambdas``
    holds None for each plain function and a callable object's attributes otherwise (so make
    the schedule with its functions, then load its state)."""

    lr_lambdas: list[Callable[[int], float]]

    def state_dict(self) -> dict[str, Any]:
        own = {k: _plain(v, k) for k, v in vars(self).items()
               if k not in ("optimizer", "lr_lambdas")}
        return {**own, "lr_lambdas": _functions_state(self.lr_lambdas)}

    def _fields(self) -> dict[str, Callable[[Any], Any]]:
        def saved(v: Any) -> Any:
            if not isinstance(v, Sequence) or len(v) != len(self.lr_lambdas) \
                    or not all(e is None or isinstance(e, Mapping) for e in v):
                raise ValueError(f"lr_lambdas must be a list of {len(self.lr_lambdas)} entries "
                                 "(None or a dict)")
            return v

        return {"lr_lambdas": saved}

    def _apply_state(self, state_dict: Mapping[str, Any]) -> None:
        saved = state_dict.get("lr_lambdas")
        LRScheduler._apply_state(self, {k: v for k, v in state_dict.items()  # type: ignore
                                        if k != "lr_lambdas"})
        _load_functions_state(self.lr_lambdas, saved)


class LambdaLR(_LambdaState, LRScheduler):
    """``lr = base_lr * lr_lambda(t)``, one function for every group or one per group (a closed
    form: a change made to the lrs by hand lasts one step, as in PyTorch)."""

    def __init__(self, optimizer: Optimizer, lr_lambda: Callable[[int], float]
                 | Sequence[Callable[[int], float]], last_epoch: int = -1) -> None:
        self.lr_lambdas = _lambdas(self, optimizer, lr_lambda)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        _warn_outside_step(self)
        return [base * f(self.last_epoch) for f, base in zip(self.lr_lambdas, self.base_lrs)]


class MultiplicativeLR(_LambdaState, LRScheduler):
    """``lr <- lr * lr_lambda(t)`` at each step ``t``: the groups' current lrs are scaled, one
    function for every group or one per group (no closed form, as PyTorch's)."""

    def __init__(self, optimizer: Optimizer, lr_lambda: Callable[[int], float]
                 | Sequence[Callable[[int], float]], last_epoch: int = -1) -> None:
        self.lr_lambdas = _lambdas(self, optimizer, lr_lambda)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        _warn_outside_step(self)
        if self._is_initial:  # making the schedule keeps the lrs (resuming too)
            return self._current_lrs()
        return [lr * f(self.last_epoch) for f, lr in zip(self.lr_lambdas, self._current_lrs())]


class ConstantLR(LRScheduler):
    """Multiply the lrs by ``factor`` at step 0 and divide them by it again at step
    ``total_iters``; closed form ``lr = base_lr * factor`` for ``t < total_iters``, then
    ``base_lr`` (``total_iters=0`` stays at ``factor``, as PyTorch's). ``factor=0`` needs
    ``total_iters=0`` (PyTorch divides by zero at step ``total_iters``)."""

    def __init__(self, optimizer: Optimizer, factor: float = 1.0 / 3, total_iters: int = 5,
                 last_epoch: int = -1) -> None:
        self.factor = _fraction("factor", factor)
        self.total_iters = _count("total_iters", total_iters, 0)
        _constant_settings(self.factor, self.total_iters)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        _warn_outside_step(self)
        if self.last_epoch == 0:
            return [lr * self.factor for lr in self._current_lrs()]
        if self.last_epoch != self.total_iters:
            return self._current_lrs()
        return [lr * (1.0 / self.factor) for lr in self._current_lrs()]

    def _get_closed_form_lr(self) -> list[float]:
        k = self.factor + (self.last_epoch >= self.total_iters) * (1 - self.factor)
        return [base * k for base in self.base_lrs]

    def _fields(self) -> dict[str, Callable[[Any], Any]]:
        return {"factor": lambda v: _fraction("factor", v),
                "total_iters": lambda v: _count("total_iters", v, 0)}

    def _check_state(self, state_dict: Any) -> list[str]:
        problems = super()._check_state(state_dict)
        if not problems:
            problems = _problems(lambda: _constant_settings(state_dict.get("factor", self.factor),
                                                            state_dict.get("total_iters",
                                                                           self.total_iters)))
        return problems


def _constant_settings(factor: float, total_iters: int) -> None:
    if factor == 0 and total_iters > 0:
        raise ValueError(f"ConstantLR: factor=0 with total_iters={total_iters} would divide "
                         "by zero at step total_iters (use factor > 0, or total_iters=0)")


class PolynomialLR(LRScheduler):
    """Decay the lrs polynomially to 0 at step ``total_iters``, then leave them; closed form
    ``lr = base_lr * (1 - min(t, total_iters) / total_iters) ** power``; each step multiplies
    the current lrs by ``((1 - t / n) / (1 - (t - 1) / n)) ** power``. ``total_iters=0``
    keeps the lrs (whose closed form PyTorch divides by zero)."""

    def __init__(self, optimizer: Optimizer, total_iters: int = 5, power: float = 1.0,
                 last_epoch: int = -1) -> None:
        self.total_iters = _count("total_iters", total_iters, 0)
        self.power = _at_least("power", power)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        _warn_outside_step(self)
        t, n = self.last_epoch, self.total_iters
        if self._is_initial or t > n:
            return self._current_lrs()
        k = ((1.0 - t / n) / (1.0 - (t - 1) / n)) ** self.power
        return [lr * k for lr in self._current_lrs()]

    def _get_closed_form_lr(self) -> list[float]:
        n = self.total_iters
        k = (1.0 - min(n, self.last_epoch) / n) ** self.power if n else 1.0
        return [base * k for base in self.base_lrs]

    def _fields(self) -> dict[str, Callable[[Any], Any]]:
        return {"total_iters": lambda v: _count("total_iters", v, 0),
                "power": lambda v: _at_least("power", v)}


def _linear_lrs(lrs: list[float], t: int, s: float, e: float, n: int,
                initial: bool) -> list[float]:
    """A step of PyTorch's LinearLR from the current lrs: the factor goes from s (at step 0)
    to e (at step n) in equal steps, each step multiplying by the ratio of the factors."""
    if t == 0:
        return [lr * s for lr in lrs]
    if initial or t > n:
        return lrs
    return [lr * (1.0 + (e - s) / (n * s + (t - 1) * (e - s))) for lr in lrs]


class LinearLR(LRScheduler):
    """Scale the lrs by a factor moving linearly from ``start_factor`` s to ``end_factor`` e
    over ``total_iters`` steps, then leave them, as PyTorch's (which refuses s = 0;
    ``LinearWarmup`` allows it); closed form
    ``lr = base_lr * (s + (e - s) * min(t, total_iters) / total_iters)``."""

    def __init__(self, optimizer: Optimizer, start_factor: float = 1.0 / 3,
                 end_factor: float = 1.0, total_iters: int = 5, last_epoch: int = -1) -> None:
        self.start_factor = _linear_factor("start_factor", start_factor, low_open=True)
        self.end_factor = _linear_factor("end_factor", end_factor)
        self.total_iters = _count("total_iters", total_iters, 0)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        _warn_outside_step(self)
        return _linear_lrs(self._current_lrs(), self.last_epoch, self.start_factor,
                           self.end_factor, self.total_iters, self._is_initial)

    def _get_closed_form_lr(self) -> list[float]:
        s, e, n = self.start_factor, self.end_factor, self.total_iters
        # total_iters=0 stays at s, as the steps do (PyTorch's closed form divides by zero)
        k = s + (e - s) * min(n, self.last_epoch) / n if n else s
        return [base * k for base in self.base_lrs]

    def _fields(self) -> dict[str, Callable[[Any], Any]]:
        return {"start_factor": lambda v: _linear_factor("start_factor", v, low_open=True),
                "end_factor": lambda v: _linear_factor("end_factor", v),
                "total_iters": lambda v: _count("total_iters", v, 0)}


def _linear_factor(name: str, value: Any, low_open: bool = False) -> float:
    f = _real(name, value)
    if not (0.0 < f <= 1.0 if low_open else 0.0 <= f <= 1.0):
        raise ValueError(f"Invalid {name}: {value!r} (must be in {'(0' if low_open else '[0'}"
                         ", 1])")
    return f


class LinearWarmup(LRScheduler):
    """A linear warmup from ``f * lr`` to ``lr`` over ``warmup_steps`` steps, then the lrs are
    left alone, with ``f`` the start factor: PyTorch's
    ``LinearLR(start_factor=f, end_factor=1, total_iters=warmup_steps)``, step for step, but
    that this allows ``f = 0`` (the first step then adds ``base_lr / warmup_steps`` to the lr,
    as there is nothing to scale) and ``warmup_steps=0`` is no warmup (the lrs as they are,
    where ``LinearLR(total_iters=0)`` would stay at ``f * lr``). Closed form
    ``lr = base_lr * (f + (1 - f) * min(t, warmup_steps) / warmup_steps)``."""

    def __init__(self, optimizer: Optimizer, warmup_steps: int, start_factor: float = 0.0,
                 last_epoch: int = -1) -> None:
        self.warmup_steps = _count("warmup_steps", warmup_steps, 0)
        self.start_factor = _start_factor(start_factor)
        super().__init__(optimizer, last_epoch)

    def _fields(self) -> dict[str, Callable[[Any], Any]]:
        return {"warmup_steps": lambda v: _count("warmup_steps", v, 0),
                "start_factor": _start_factor}

    def get_lr(self) -> list[float]:
        _warn_outside_step(self)
        t, n, f = self.last_epoch, self.warmup_steps, self.start_factor
        lrs = self._current_lrs()
        if n == 0:
            return lrs
        if f == 0 and t == 1 and not self._is_initial:
            return [lr + base * (1.0 / n) for lr, base in zip(lrs, self.base_lrs)]
        return _linear_lrs(lrs, t, f, 1.0, n, self._is_initial)

    def _get_closed_form_lr(self) -> list[float]:
        n, f = self.warmup_steps, self.start_factor
        k = f + (1.0 - f) * min(n, self.last_epoch) / n if n else 1.0
        return [base * k for base in self.base_lrs]


class _Composite(LRScheduler):
    """What ``SequentialLR`` and ``ChainedScheduler`` share: a state dict holding, under
    ``"_schedulers"``, the state dicts of the schedules they drive."""

    _schedulers: list[LRScheduler]

    def state_dict(self) -> dict[str, Any]:
        own = {k: _plain(v, k) for k, v in vars(self).items()
               if k not in ("optimizer", "_schedulers")}
        return {**own, "_schedulers": [s.state_dict() for s in self._schedulers]}

    def _check_state(self, state_dict: Any) -> list[str]:
        problems = super()._check_state(state_dict)
        children = state_dict.get("_schedulers") if isinstance(state_dict, Mapping) else None
        if not isinstance(children, Sequence) or len(children) != len(self._schedulers):
            return [*problems, f"_schedulers must be a list of {len(self._schedulers)} states"]
        for i, (s, d) in enumerate(zip(self._schedulers, children)):
            problems += [f"_schedulers[{i}]: {e}" for e in s._check_state(d)]
        return problems

    def _apply_state(self, state_dict: Mapping[str, Any]) -> None:
        for s, d in zip(self._schedulers, state_dict["_schedulers"]):
            s._apply_state(d)
        super()._apply_state({k: v for k, v in state_dict.items() if k != "_schedulers"})


def _undo_a_step(sched: Any) -> None:
    """Take back the step a schedule's constructor took (of each part of a composite)."""
    if hasattr(sched, "_schedulers"):
        for s in sched._schedulers:
            _undo_a_step(s)
    elif hasattr(sched, "last_epoch"):
        sched.last_epoch -= 1


class SequentialLR(_Composite):
    """Run ``schedulers[0]`` until ``milestones[0]``, then ``schedulers[1]`` from its own step 0,
    and so on, as PyTorch's ``SequentialLR``; e.g. a warmup followed by cosine annealing::

        SequentialLR(opt, [LinearWarmup(opt, 100), CosineAnnealingLR(opt, 900)], [100])

    As PyTorch's: making it resets the lrs to ``initial_lr``, takes back the step each part's
    constructor took and retakes the first part's; at a milestone the next part restarts at
    its step 0 (through its closed form where it has one, so from ``base_lrs``), and between
    milestones the current part takes its ordinary (chainable) steps.
    """

    def __init__(self, optimizer: Optimizer, schedulers: Sequence[LRScheduler],
                 milestones: Sequence[int], last_epoch: int = -1) -> None:
        schedulers, milestones = list(schedulers), list(milestones)
        if not schedulers:
            raise ValueError("SequentialLR needs at least one scheduler")
        for s in schedulers:
            if not isinstance(s, LRScheduler):
                raise TypeError(f"SequentialLR: {type(s).__name__} is not a scheduler")
            if isinstance(s, ReduceLROnPlateau):
                raise TypeError("SequentialLR: ReduceLROnPlateau follows a metric, not a step "
                                "count, so it cannot be one of the parts")
            if s.optimizer is not optimizer:
                raise ValueError("SequentialLR: every scheduler must drive the optimizer given")
        if len(milestones) != len(schedulers) - 1:
            raise ValueError(f"SequentialLR: {len(schedulers)} schedulers need "
                             f"{len(schedulers) - 1} milestones, got {len(milestones)}")
        self._schedulers = schedulers
        self._milestones = _milestones(milestones)
        self.last_epoch = _count("last_epoch", last_epoch, -1) + 1
        self.optimizer = optimizer
        for group in optimizer.param_groups:
            _set_lr(group, "lr", group["initial_lr"])
        _undo_a_step(self)
        first = schedulers[bisect_right(self._milestones, 0)]
        first._initial_step()
        self._last_lr = first.get_last_lr()

    def _fields(self) -> dict[str, Callable[[Any], Any]]:
        n = len(self._schedulers) - 1

        def check(ms: Any) -> list[int]:
            if not isinstance(ms, Sequence) or len(ms) != n:
                raise ValueError(f"_milestones must be a list of {n} steps, got {ms!r}")
            return _milestones(ms)

        return {"_milestones": check}

    def step(self) -> None:  # type: ignore[override]
        """Step the part that runs at the next step (restarting it at a milestone)."""
        self.last_epoch += 1
        i = bisect_right(self._milestones, self.last_epoch)
        part = self._schedulers[i]
        if i > 0 and self._milestones[i - 1] == self.last_epoch:
            part._update_lr(0)
        else:
            part.step()
        self._last_lr = part.get_last_lr()


class ChainedScheduler(_Composite):
    """Step several schedules at once, in order, as PyTorch's ``ChainedScheduler``: each
    step of each from the lrs the ones before it set (so chainable schedules compound, and one
    that sets its own lrs, as ``LambdaLR`` or ``CyclicLR``, overrides those before it); e.g.
    a factor of 0.1 for 20 steps on an exponential decay::

        ChainedScheduler([ConstantLR(opt, 0.1, total_iters=20), ExponentialLR(opt, 0.9)])

    Making it steps nothing: the schedules have taken their first steps, one on top of the
    other, when they were made."""

    def __init__(self, schedulers: Sequence[LRScheduler],
                 optimizer: Optimizer | None = None) -> None:
        schedulers = list(schedulers)
        if not schedulers:
            raise ValueError("ChainedScheduler needs at least one scheduler")
        for i, s in enumerate(schedulers):
            if not isinstance(s, LRScheduler):
                raise TypeError(f"ChainedScheduler: schedulers[{i}] is a {type(s).__name__}, "
                                "not a scheduler")
            if isinstance(s, ReduceLROnPlateau):
                raise ValueError("ChainedScheduler: ReduceLROnPlateau follows a metric, not a "
                                 f"step count, so it cannot be chained (schedulers[{i}])")
        optimizer = schedulers[0].optimizer if optimizer is None else optimizer
        if any(s.optimizer is not optimizer for s in schedulers):
            raise ValueError("ChainedScheduler: every scheduler must drive the same optimizer")
        self._schedulers = schedulers
        self.optimizer = optimizer
        self._last_lr = self._current_lrs()

    def step(self) -> None:  # type: ignore[override]
        """Step every schedule, in order."""
        for s in self._schedulers:
            s.step()
        self._last_lr = self._current_lrs()


# ---- cyclical schedules -------------------------------------------------------------------------
def _per_group(name: str, optimizer: Optimizer, value: Any) -> list[float]:
    """One value per param group: the list given, or the one value for every group."""
    n = len(optimizer.param_groups)
    values = list(value) if isinstance(value, (list, tuple)) else [value] * n
    if len(values) != n:
        raise ValueError(f"{name} must have one value per param group: the optimizer has {n} "
                         f"groups, {name} has {len(values)} values")
    return [_at_least(name, v) for v in values]


def _uses_beta1(optimizer: Optimizer) -> bool:
    """Whether cycling the momentum moves Adam's beta1 (``betas[0]``) or ``momentum``."""
    if "momentum" not in optimizer.defaults and "betas" not in optimizer.defaults:
        raise ValueError(f"cycle_momentum=True needs an optimizer with momentum or betas; "
                         f"{type(optimizer).__name__} has neither (pass cycle_momentum=False)")
    return "betas" in optimizer.defaults


def _set_momentum(group: dict[str, Any], use_beta1: bool, m: float) -> None:
    if use_beta1:
        group["betas"] = (m, *group["betas"][1:])
    else:
        group["momentum"] = m


def _start_momenta(optimizer: Optimizer, use_beta1: bool, base_ms: list[float],
                   max_ms: list[float]) -> None:
    """The groups' momenta at the start of a cycle, and the ends they move between."""
    for group, b, m in zip(optimizer.param_groups, base_ms, max_ms):
        _set_momentum(group, use_beta1, m)
        group["max_momentum"], group["base_momentum"] = m, b


_CYCLIC_MODES = ("triangular", "triangular2", "exp_range")


class CyclicLR(LRScheduler):
    """Cyclical learning rates (Smith, 2017), as PyTorch's: each group's lr climbs from
    ``base_lr`` to ``max_lr`` over ``step_size_up`` steps and comes back over
    ``step_size_down`` (default: the same), cycle after cycle, the height scaled by ``mode``:
    "triangular" (1), "triangular2" (halved each cycle) or "exp_range" (``gamma**t``), or by
    ``scale_fn`` of the cycle number (``scale_mode="cycle"``) or of the step ("iterations")::

        cycle = floor(1 + t / (up + down));   x = 1 + t / (up + down) - cycle   (in [0, 1))
        h = x / r if x <= r else (x - 1) / (r - 1),   with r = up / (up + down)
        lr = base_lr + (max_lr - base_lr) * h * scale
        momentum = max_momentum - (max_momentum - base_momentum) * h * scale

    A closed form of the step, as PyTorch's (the step making the schedule starts from the
    groups' ``initial_lr``, every later one from ``base_lr``). With ``cycle_momentum`` (the
    default), the optimizer's ``momentum`` (Adam's beta1) moves against the lr, so the
    optimizer must have one. ``base_lr``, ``max_lr`` and the momenta are one value or one per
    group. ``scale_fn`` is saved as PyTorch saves it (None for a plain function).
    """

    def __init__(self, optimizer: Optimizer, base_lr: float | Sequence[float],
                 max_lr: float | Sequence[float], step_size_up: float = 2000,
                 step_size_down: float | None = None, mode: str = "triangular",
                 gamma: float = 1.0, scale_fn: Callable[[float], float] | None = None,
                 scale_mode: str = "cycle", cycle_momentum: bool = True,
                 base_momentum: float | Sequence[float] = 0.8,
                 max_momentum: float | Sequence[float] = 0.9, last_epoch: int = -1) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(optimizer).__name__} is not an Optimizer")
        last_epoch = _count("last_epoch", last_epoch, -1)
        base_lrs = _per_group("base_lr", optimizer, base_lr)
        self.max_lrs = _per_group("max_lr", optimizer, max_lr)
        up = _positive("step_size_up", step_size_up)
        down = up if step_size_down is None else _at_least("step_size_down", step_size_down)
        self.total_size = up + down
        self.step_ratio = up / self.total_size
        if scale_fn is None and mode not in _CYCLIC_MODES:
            raise ValueError(f"mode must be one of {_CYCLIC_MODES} (or give scale_fn), got "
                             f"{mode!r}")
        if scale_fn is not None and not callable(scale_fn):
            raise TypeError(f"scale_fn must be a function, got {type(scale_fn).__name__}")
        if scale_mode not in ("cycle", "iterations"):
            raise ValueError(f"scale_mode must be one of ('cycle', 'iterations'), got "
                             f"{scale_mode!r}")
        self.mode = mode
        self.gamma = _at_least("gamma", gamma)
        self._scale_fn_custom = scale_fn
        self.scale_mode = scale_mode
        self._fix_scale_mode()
        self.cycle_momentum = bool(cycle_momentum)
        if self.cycle_momentum:
            self.use_beta1 = _uses_beta1(optimizer)
            self.base_momentums = _per_group("base_momentum", optimizer, base_momentum)
            self.max_momentums = _per_group("max_momentum", optimizer, max_momentum)
        if last_epoch == -1:
            for group, lr in zip(optimizer.param_groups, base_lrs):
                _set_lr(group, "lr", lr)
            if self.cycle_momentum:
                _start_momenta(optimizer, self.use_beta1, self.base_momentums,
                               self.max_momentums)
        super().__init__(optimizer, last_epoch)
        self.base_lrs = base_lrs

    def _fix_scale_mode(self) -> None:
        if self._scale_fn_custom is None:  # the built-in modes fix their own
            self.scale_mode = "iterations" if self.mode == "exp_range" else "cycle"

    def scale_fn(self, x: float) -> float:
        """The height's scale at cycle (or step) ``x``."""
        if self._scale_fn_custom is not None:
            return self._scale_fn_custom(x)
        if self.mode == "triangular":
            return 1.0
        if self.mode == "triangular2":
            return 1 / (2.0 ** (x - 1))
        return self.gamma**x

    def get_lr(self) -> list[float]:
        """The lrs of step ``last_epoch``; sets the momenta too (as PyTorch's)."""
        _warn_outside_step(self)
        t = self.last_epoch
        cycle = math.floor(1 + t / self.total_size)
        x = 1.0 + t / self.total_size - cycle
        if x <= self.step_ratio:
            h = x / self.step_ratio
        else:
            h = (x - 1) / (self.step_ratio - 1)
        at = cycle if self.scale_mode == "cycle" else t
        lrs = [base + (top - base) * h * self.scale_fn(at)
               for base, top in zip(self.base_lrs, self.max_lrs)]
        if self.cycle_momentum:
            for group, low, top in zip(self.optimizer.param_groups, self.base_momentums,
                                       self.max_momentums):
                _set_momentum(group, self.use_beta1, top - (top - low) * h * self.scale_fn(at))
        return lrs

    def state_dict(self) -> dict[str, Any]:
        own = {k: _plain(v, k) for k, v in vars(self).items()
               if k not in ("optimizer", "_scale_fn_custom")}
        fn = self._scale_fn_custom
        return {**own, "_scale_fn_custom": None if fn is None else _functions_state([fn])[0]}

    def _apply_state(self, state_dict: Mapping[str, Any]) -> None:
        saved = state_dict.get("_scale_fn_custom")
        super()._apply_state({k: v for k, v in state_dict.items() if k != "_scale_fn_custom"})
        if self._scale_fn_custom is not None:
            _load_functions_state([self._scale_fn_custom], [saved])
        self._fix_scale_mode()

    def _fields(self) -> dict[str, Callable[[Any], Any]]:
        def values(name: str) -> Callable[[Any], Any]:
            return lambda v: [_at_least(name, x) for x in v]

        def mode(v: Any) -> str:
            if self._scale_fn_custom is None and v not in _CYCLIC_MODES:
                raise ValueError(f"mode must be one of {_CYCLIC_MODES}, got {v!r}")
            return v

        return {"max_lrs": values("max_lr"), "total_size": lambda v: _positive("total_size", v),
                "step_ratio": lambda v: _fraction("step_ratio", v),
                "gamma": lambda v: _at_least("gamma", v), "mode": mode,
                "base_momentums": values("base_momentum"),
                "max_momentums": values("max_momentum")}


class CosineAnnealingWarmRestarts(LRScheduler):
    """SGDR (Loshchilov & Hutter, 2017), as PyTorch's: a cosine from ``base_lr`` down to
    ``eta_min`` over ``T_i`` steps, then a restart; the first cycle has ``T_0`` steps and each
    next one ``T_mult`` times as many::

        lr = eta_min + (base_lr - eta_min) * (1 + cos(pi * T_cur / T_i)) / 2

    with ``T_cur`` the steps since the last restart (a closed form of ``T_cur``, from
    ``base_lrs``, as PyTorch's). ``step(epoch)`` jumps to any epoch, fractional ones too (call
    ``step(epoch + i / iters)`` after batch ``i`` of an epoch), finding the cycle by PyTorch's
    logarithm (so, as there, an epoch where rounding puts it one cycle early lands at the end
    of that cycle: ``T_0=1, T_mult=3``, epoch 121 gives ``eta_min``). As PyTorch's, its
    ``step`` neither warns (stepped before the optimizer, or given an epoch) nor counts
    ``_step_count``.
    """

    def __init__(self, optimizer: Optimizer, T_0: int, T_mult: int = 1, eta_min: float = 0.0,
                 last_epoch: int = -1) -> None:
        self.T_0 = _count("T_0", T_0, 1)
        self.T_i = self.T_0
        self.T_mult = _count("T_mult", T_mult, 1)
        self.eta_min = _at_least("eta_min", eta_min)
        self.T_cur: float = _count("last_epoch", last_epoch, -1)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        _warn_outside_step(self)
        eta = self.eta_min
        return [eta + (base - eta) * (1 + math.cos(math.pi * self.T_cur / self.T_i)) / 2
                for base in self.base_lrs]

    def step(self, epoch: float | None = None) -> None:
        """Take the next step, or jump to ``epoch`` (a number >= 0, fractional or not)."""
        if epoch is None and self.last_epoch < 0:
            epoch = 0
        if epoch is None:  # one more step since the restart, restarting when the cycle is done
            epoch = self.last_epoch + 1
            self.T_cur += 1
            if self.T_cur >= self.T_i:
                self.T_cur %= self.T_i
                self.T_i *= self.T_mult
        else:
            if not epoch >= 0:
                raise ValueError(f"Invalid epoch: {epoch!r} (must be >= 0)")
            if epoch < self.T_0:
                self.T_i, self.T_cur = self.T_0, epoch
            elif self.T_mult == 1:
                self.T_cur = epoch % self.T_0
            else:  # cycles start at T_0 * (T_mult**n - 1) / (T_mult - 1)
                n = int(math.log(epoch / self.T_0 * (self.T_mult - 1) + 1, self.T_mult))
                self.T_cur = epoch - self.T_0 * (self.T_mult**n - 1) / (self.T_mult - 1)
                self.T_i = self.T_0 * self.T_mult**n
        self.last_epoch = math.floor(epoch)
        self._get_lr_called_within_step = True
        try:
            lrs = self.get_lr()
        finally:
            self._get_lr_called_within_step = False
        self._set_lrs(lrs)

    def _fields(self) -> dict[str, Callable[[Any], Any]]:
        return {"T_0": lambda v: _count("T_0", v, 1), "T_i": lambda v: _count("T_i", v, 1),
                "T_mult": lambda v: _count("T_mult", v, 1),
                "eta_min": lambda v: _at_least("eta_min", v),
                "T_cur": _t_cur}


def _t_cur(v: Any) -> float:
    _real("T_cur", v)
    return v


class OneCycleLR(LRScheduler):
    """The 1cycle policy (Smith & Topin, 2018), as PyTorch's: over ``total_steps`` steps (or
    ``epochs * steps_per_epoch``) each group's lr anneals from ``max_lr / div_factor`` up to
    ``max_lr`` in the first ``pct_start`` of the steps, then down to
    ``max_lr / div_factor / final_div_factor``. With ``three_phase``, it comes back down to the
    start value in as many steps as it went up, and only then anneals to the minimum.

    Each phase runs from the step where the last one ended (``s``, 0 at first) to its own end
    ``e`` (``pct_start * total_steps - 1``, ``2 * pct_start * total_steps - 2`` with three
    phases, ``total_steps - 1`` for the last), and with ``p = (t - s) / (e - s)``::

        "cos":    lr = end + (start - end) / 2 * (1 + cos(pi * p))
        "linear": lr = start + (end - start) * p

    A closed form of the step, as PyTorch's, from the ends the groups hold (``initial_lr``,
    ``max_lr``, ``min_lr``, and ``max_momentum``, ``base_momentum``). With ``cycle_momentum``
    (the default), the optimizer's ``momentum`` (Adam's beta1) anneals the other way, so the
    optimizer must have one. Stepping past ``total_steps`` is an error, as in PyTorch; so are
    settings that leave a phase empty (``pct_start=1.0``, or ``pct_start * total_steps = 1``),
    where PyTorch divides by zero.
    """

    def __init__(self, optimizer: Optimizer, max_lr: float | Sequence[float],
                 total_steps: int | None = None, epochs: int | None = None,
                 steps_per_epoch: int | None = None, pct_start: float = 0.3,
                 anneal_strategy: str = "cos", cycle_momentum: bool = True,
                 base_momentum: float | Sequence[float] = 0.85,
                 max_momentum: float | Sequence[float] = 0.95, div_factor: float = 25.0,
                 final_div_factor: float = 1e4, three_phase: bool = False,
                 last_epoch: int = -1) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(optimizer).__name__} is not an Optimizer")
        last_epoch = _count("last_epoch", last_epoch, -1)
        if total_steps is not None:
            self.total_steps = _count("total_steps", total_steps, 1)
        elif epochs is not None and steps_per_epoch is not None:
            self.total_steps = (_count("epochs", epochs, 1)
                                * _count("steps_per_epoch", steps_per_epoch, 1))
        else:
            raise ValueError("OneCycleLR needs total_steps, or epochs and steps_per_epoch")
        pct = _fraction("pct_start", pct_start)
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(f"anneal_strategy must be one of 'cos' or 'linear', got "
                             f"{anneal_strategy!r}")
        self._anneal_func_type = anneal_strategy
        max_lrs = _per_group("max_lr", optimizer, max_lr)
        div, final_div = _positive("div_factor", div_factor), \
            _positive("final_div_factor", final_div_factor)
        n = self.total_steps

        def phase(end_step: float, lr: tuple[str, str],
                  momentum: tuple[str, str]) -> dict[str, Any]:
            return {"end_step": end_step, "start_lr": lr[0], "end_lr": lr[1],
                    "start_momentum": momentum[0], "end_momentum": momentum[1]}

        up = phase(float(pct * n) - 1, ("initial_lr", "max_lr"), ("max_momentum", "base_momentum"))
        if three_phase:
            self._schedule_phases = [
                up, phase(float(2 * pct * n) - 2, ("max_lr", "initial_lr"),
                          ("base_momentum", "max_momentum")),
                phase(n - 1, ("initial_lr", "min_lr"), ("max_momentum", "max_momentum"))]
        else:
            self._schedule_phases = [
                up, phase(n - 1, ("max_lr", "min_lr"), ("base_momentum", "max_momentum"))]
        ends = [0.0] + [ph["end_step"] for ph in self._schedule_phases]
        if any(a == b for a, b in zip(ends, ends[1:])):  # PyTorch divides by zero in it
            raise ValueError(f"pct_start={pct_start!r} with total_steps={n} gives a phase of no "
                             "steps")
        self.cycle_momentum = bool(cycle_momentum)
        if self.cycle_momentum:
            self.use_beta1 = _uses_beta1(optimizer)
            base_ms = _per_group("base_momentum", optimizer, base_momentum)
            max_ms = _per_group("max_momentum", optimizer, max_momentum)
        if last_epoch == -1:
            for group, top in zip(optimizer.param_groups, max_lrs):
                group["initial_lr"] = top / div
                group["max_lr"] = top
                group["min_lr"] = group["initial_lr"] / final_div
            if self.cycle_momentum:
                _start_momenta(optimizer, self.use_beta1, base_ms, max_ms)
        super().__init__(optimizer, last_epoch)

    def _anneal(self, start: float, end: float, pct: float) -> float:
        if self._anneal_func_type == "cos":
            return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)
        return (end - start) * pct + start

    def get_lr(self) -> list[float]:
        """The lrs of step ``last_epoch``; sets the momenta too (as PyTorch's)."""
        _warn_outside_step(self)
        t = self.last_epoch
        if t > self.total_steps:
            raise ValueError(f"Tried to step {t} times. The specified number of total steps is "
                             f"{self.total_steps}")
        start, last = 0.0, len(self._schedule_phases) - 1
        for i, ph in enumerate(self._schedule_phases):
            if t <= ph["end_step"] or i == last:
                pct = (t - start) / (ph["end_step"] - start)
                break
            start = ph["end_step"]
        lrs = []
        for group in self.optimizer.param_groups:
            lrs.append(self._anneal(group[ph["start_lr"]], group[ph["end_lr"]], pct))
            if self.cycle_momentum:
                _set_momentum(group, self.use_beta1, self._anneal(
                    group[ph["start_momentum"]], group[ph["end_momentum"]], pct))
        return lrs

    def _fields(self) -> dict[str, Callable[[Any], Any]]:
        def strategy(v: Any) -> str:
            if v not in ("cos", "linear"):
                raise ValueError(f"anneal_strategy must be one of 'cos' or 'linear', got {v!r}")
            return v

        def phases(v: Any) -> Any:
            if not isinstance(v, Sequence) or len(v) != len(self._schedule_phases) \
                    or not all(isinstance(ph, Mapping) for ph in v):
                raise ValueError(f"_schedule_phases must be a list of "
                                 f"{len(self._schedule_phases)} phases")
            return v

        return {"total_steps": lambda v: _count("total_steps", v, 1),
                "_anneal_func_type": strategy, "_schedule_phases": phases}


class ReduceLROnPlateau(LRScheduler):
    """Cut every group's lr by ``factor`` when a metric stops improving, as PyTorch's: call
    ``step(metric)`` once per evaluation (say, the validation loss each epoch).

    The metric improves when it beats the best so far by more than ``threshold``: relatively
    (``threshold_mode="rel"``: below ``best * (1 - threshold)`` in ``mode="min"``, above
    ``best * (1 + threshold)`` in "max") or absolutely ("abs": ``best ∓ threshold``). After
    more than ``patience`` evaluations in a row without one, each lr becomes
    ``max(lr * factor, min_lr)`` (unless that changes it by ``eps`` or less), and the next
    ``cooldown`` evaluations count no bad ones. A NaN metric never improves. It reads and
    writes the groups' current lrs, so a change made to them by hand (or by another schedule)
    carries on. ``SequentialLR`` and ``ChainedScheduler`` refuse it (it follows a metric);
    it is an ``LRScheduler``, as PyTorch's, but takes no step of its own when made and never
    warns that it was stepped before the optimizer.
    """

    def __init__(self, optimizer: Optimizer, mode: str = "min", factor: float = 0.1,
                 patience: int = 10, threshold: float = 1e-4, threshold_mode: str = "rel",
                 cooldown: int = 0, min_lr: float | Sequence[float] = 0.0,
                 eps: float = 1e-8) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(optimizer).__name__} is not an Optimizer")
        settings = dict(mode=mode, factor=factor, patience=patience, threshold=threshold,
                        threshold_mode=threshold_mode, cooldown=cooldown, eps=eps)
        for k, check in self._fields().items():
            if k in settings:
                settings[k] = check(settings[k])
        n = len(optimizer.param_groups)
        if isinstance(min_lr, (list, tuple)):
            if len(min_lr) != n:
                raise ValueError(f"expected {n} min_lrs (one per param group), got {len(min_lr)}")
            self.default_min_lr, self.min_lrs = None, [_at_least("min_lr", v) for v in min_lr]
        else:
            self.default_min_lr = _at_least("min_lr", min_lr)
            self.min_lrs = [self.default_min_lr] * n
        self.optimizer = optimizer
        self.mode, self.factor, self.patience = settings["mode"], settings["factor"], \
            settings["patience"]
        self.threshold, self.threshold_mode = settings["threshold"], settings["threshold_mode"]
        self.cooldown, self.eps = settings["cooldown"], settings["eps"]
        self.mode_worse = math.inf if self.mode == "min" else -math.inf
        self.best = self.mode_worse
        self.cooldown_counter = 0
        self.num_bad_epochs = 0
        self.last_epoch = 0
        self._last_lr = [_copied(g["lr"]) for g in optimizer.param_groups]

    @staticmethod
    def _fields() -> dict[str, Callable[[Any], Any]]:
        def choice(name: str, allowed: tuple[str, ...]) -> Callable[[Any], str]:
            def check(v: Any) -> str:
                if v not in allowed:
                    raise ValueError(f"{name} must be one of {allowed}, got {v!r}")
                return v
            return check

        def factor(v: Any) -> float:
            f = _at_least("factor", v)
            if not f < 1.0:
                raise ValueError(f"Invalid factor: {v!r} (must be < 1.0: it cuts the lr)")
            return f

        return {"mode": choice("mode", ("min", "max")),
                "threshold_mode": choice("threshold_mode", ("rel", "abs")),
                "factor": factor, "patience": lambda v: _count("patience", v, 0),
                "threshold": lambda v: _at_least("threshold", v),
                "cooldown": lambda v: _count("cooldown", v, 0),
                "eps": lambda v: _at_least("eps", v),
                "cooldown_counter": lambda v: _count("cooldown_counter", v, 0),
                "num_bad_epochs": lambda v: _count("num_bad_epochs", v, 0),
                "last_epoch": lambda v: _count("last_epoch", v, 0),
                "best": lambda v: _real("best", v)}

    def _improves(self, current: float) -> bool:
        best, t = self.best, self.threshold
        if self.mode == "min":
            return current < (best * (1.0 - t) if self.threshold_mode == "rel" else best - t)
        return current > (best * (1.0 + t) if self.threshold_mode == "rel" else best + t)

    def step(self, metrics: Any, epoch: int | None = None) -> None:  # type: ignore[override]
        """Record one evaluation's metric (a number, or a one-element tensor or array).
        ``epoch`` (deprecated, as in PyTorch, which warns) sets ``last_epoch``."""
        if isinstance(metrics, numbers.Real):
            current = float(metrics)
        else:
            host = np.asarray(host_array(metrics))
            if host.size != 1:
                raise ValueError(f"ReduceLROnPlateau.step: the metric must be one number, got "
                                 f"shape {host.shape}")
            current = float(host.reshape(()))
        if epoch is None:
            epoch = self.last_epoch + 1
        else:
            warnings.warn(EPOCH_DEPRECATION_WARNING, UserWarning, stacklevel=2)
        self.last_epoch = epoch
        if self._improves(current):
            self.best, self.num_bad_epochs = current, 0
        else:
            self.num_bad_epochs += 1
        if self.cooldown_counter > 0:  # in cooldown: bad evaluations do not count
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0
        if self.num_bad_epochs > self.patience:
            groups = self.optimizer.param_groups
            if len(groups) != len(self.min_lrs):  # a group was added since
                if self.default_min_lr is None:
                    raise ValueError(f"ReduceLROnPlateau: the optimizer has {len(groups)} "
                                     f"param groups but min_lr gave {len(self.min_lrs)}; set "
                                     "min_lrs to one per group")
                self.min_lrs = [self.default_min_lr] * len(groups)
            for group, low in zip(groups, self.min_lrs):
                new = max(float(group["lr"]) * self.factor, low)
                if float(group["lr"]) - new > self.eps:
                    _set_lr(group, "lr", new)
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0
        self._last_lr = [_copied(g["lr"]) for g in self.optimizer.param_groups]

    @property
    def in_cooldown(self) -> bool:
        return self.cooldown_counter > 0

    def get_last_lr(self) -> list[float]:
        """The learning rates after the last ``step()``, one per group."""
        return list(self._last_lr)

    def state_dict(self) -> dict[str, Any]:
        """Everything but the optimizer, as a plain structure (PyTorch's keys)."""
        return {k: _plain(v, k) for k, v in vars(self).items() if k != "optimizer"}

    def load_state_dict(self, state_dict: Mapping[str, Any]) -> None:
        """Restore a state saved by ``state_dict`` (here or by PyTorch), checked first."""
        own = self.state_dict()
        if not isinstance(state_dict, Mapping):
            raise ValueError("ReduceLROnPlateau.load_state_dict failed, nothing was loaded: "
                             "expected a dict, as state_dict() gives")
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own and k not in _TORCH_ONLY]
        problems = [f"missing keys {missing}, unexpected keys {unexpected}"] \
            if missing or unexpected else []
        for k, check in self._fields().items():
            if k in state_dict:
                problems += _problems(lambda k=k, check=check: check(state_dict[k]))
        lrs = state_dict.get("min_lrs")
        if not isinstance(lrs, Sequence) or isinstance(lrs, str):
            problems.append("min_lrs must be a list of learning rates")
        else:
            problems += _problems(lambda: [_at_least("min_lr", v) for v in lrs])
        if problems:
            raise ValueError("ReduceLROnPlateau.load_state_dict failed, nothing was loaded: "
                             + "; ".join(problems))
        for k in own:
            setattr(self, k, _plain(state_dict[k], k))
        self.mode_worse = math.inf if self.mode == "min" else -math.inf


# ---- stochastic weight averaging: optim.swa_utils, as torch.optim.swa_utils --------------------
def _lerp_into(avg: Tensor, cur: Tensor, weight: float) -> None:
    """``avg <- avg + weight * (cur - avg)`` in place, by PyTorch's ``lerp`` formula (from the
    nearer end: ``cur - (cur - avg) * (1 - weight)`` once weight reaches 0.5)."""
    a, b = avg._data, cur._data
    new = a + weight * (b - a) if abs(weight) < 0.5 else b - (b - a) * (1.0 - weight)
    _set_values(avg, new.astype(a.dtype, copy=False), "an average")


def get_ema_multi_avg_fn(decay: float = 0.999) -> Callable[..., None]:
    """For ``AveragedModel(multi_avg_fn=...)``: an exponential moving average of the weights,
    ``avg <- decay * avg + (1 - decay) * current`` (PyTorch's ``lerp`` by ``1 - decay`` for
    floating-point tensors), over lists of tensors, in place."""
    decay = _fraction("decay", decay)

    def ema_update(ema_param_list: Sequence[Tensor], current_param_list: Sequence[Tensor],
                   _: Any) -> None:
        for p_ema, p_model in zip(ema_param_list, current_param_list):
            if p_ema.dtype.kind in "fc":
                _lerp_into(p_ema, p_model, 1.0 - decay)
            else:
                with no_grad():
                    p_ema.copy_(p_ema * decay + p_model * (1.0 - decay))

    return ema_update


def get_swa_multi_avg_fn() -> Callable[..., None]:
    """For ``AveragedModel(multi_avg_fn=...)``: the plain (equal-weight) average of the
    weights seen so far, ``avg <- avg + (current - avg) / (n + 1)``, over lists of tensors,
    in place (``n``: how many were averaged before)."""

    def swa_update(averaged_param_list: Sequence[Tensor], current_param_list: Sequence[Tensor],
                   num_averaged: Any) -> None:
        n = num_averaged.item() if isinstance(num_averaged, Tensor) else num_averaged
        weight = 1.0 / (n + 1)
        if isinstance(num_averaged, Tensor):  # PyTorch's 1 / (n + 1) of an integer tensor:
            weight = float(np.asarray(weight, dtype=_scalar_dtype()))  # the default dtype's
        for p_avg, p_model in zip(averaged_param_list, current_param_list):
            if p_avg.dtype.kind in "fc":
                _lerp_into(p_avg, p_model, weight)
            else:
                with no_grad():
                    p_avg.copy_(p_avg + (p_model - p_avg) / (n + 1))

    return swa_update


def get_ema_avg_fn(decay: float = 0.999) -> Callable[[Tensor, Tensor, Any], Tensor]:
    """For ``AveragedModel(avg_fn=...)``: one tensor's exponential moving average,
    ``decay * avg + (1 - decay) * current`` (returned)."""
    decay = _fraction("decay", decay)

    @no_grad()
    def ema_update(ema_param: Tensor, current_param: Tensor, num_averaged: Any) -> Tensor:
        return decay * ema_param + (1 - decay) * current_param

    return ema_update


def get_swa_avg_fn() -> Callable[[Tensor, Tensor, Any], Tensor]:
    """For ``AveragedModel(avg_fn=...)``: one tensor's equal-weight average,
    ``avg + (current - avg) / (n + 1)`` (returned); the default of ``AveragedModel``."""

    @no_grad()
    def swa_update(averaged_param: Tensor, current_param: Tensor, num_averaged: Any) -> Tensor:
        return averaged_param + (current_param - averaged_param) / (num_averaged + 1)

    return swa_update


class AveragedModel(Module):
    """A running average of a model's weights (SWA, Izmailov et al. 2018; or an EMA), as
    PyTorch's ``torch.optim.swa_utils.AveragedModel``::

        swa_model = AveragedModel(model)                 # equal weights (SWA)
        ema_model = AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(0.999))
        ...
        swa_model.update_parameters(model)               # after an optimizer step
        update_bn(loader, swa_model)                     # BatchNorm statistics for it
        swa_model(x)                                     # the averaged model's forward

    ``module`` is a deep copy of ``model`` (moved to ``device`` if given), whose parameters
    (and, with ``use_buffers=True``, buffers too) hold the average; ``n_averaged`` (an int64
    buffer) counts the models averaged. The first ``update_parameters`` copies the model;
    each later one calls ``avg_fn(avg, current, n_averaged)`` per tensor (its result is
    copied in) or ``multi_avg_fn(avgs, currents, n_averaged)`` per group of one device and
    dtype (it updates the lists in place); without either, the equal-weight average
    ``avg + (current - avg) / (n + 1)``. With ``use_buffers=False`` the buffers (BatchNorm's
    running statistics) are copied from the model at each update instead.
    """

    def __init__(self, model: Module, device: Any = None,
                 avg_fn: Callable[[Tensor, Tensor, Any], Tensor] | None = None,
                 multi_avg_fn: Callable[..., None] | None = None,
                 use_buffers: bool = False) -> None:
        super().__init__()
        if avg_fn is not None and multi_avg_fn is not None:
            raise ValueError("AveragedModel: give avg_fn or multi_avg_fn, not both")
        if not isinstance(model, Module):
            raise TypeError(f"AveragedModel averages a Module, got {type(model).__name__}")
        self.module = copy.deepcopy(model)
        if device is not None:
            self.module = self.module.to(device)
        self.register_buffer("n_averaged", tensor(0, dtype=np.int64,
                                                  device="cpu" if device is None else device))
        self.avg_fn = avg_fn
        self.multi_avg_fn = multi_avg_fn
        self.use_buffers = bool(use_buffers)

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        """The averaged model's forward: ``self.module(*args, **kwargs)``."""
        return self.module(*args, **kwargs)

    def update_parameters(self, model: Module) -> None:
        """Average ``model``'s current weights in (the first call copies them)."""
        if self.use_buffers:
            mine = [*self.module.parameters(), *self.module.buffers()]
            theirs = [*model.parameters(), *model.buffers()]
        else:
            mine, theirs = list(self.parameters()), list(model.parameters())
        n = int(self.n_averaged.item())
        pairs = []
        with no_grad():
            for p_avg, p_model in zip(mine, theirs):
                p_model_ = p_model.detach().to(p_avg.device)
                pairs.append((p_avg.detach(), p_model_))
                if n == 0:
                    p_avg.detach().copy_(p_model_)
            if n > 0:
                if self.avg_fn is not None:
                    for p_avg, p_model in pairs:
                        p_avg.copy_(self.avg_fn(p_avg, p_model,
                                                self.n_averaged.to(p_avg.device)))
                else:
                    groups: dict[tuple[str, Any], list[tuple[Tensor, Tensor]]] = {}
                    for pair in pairs:
                        groups.setdefault((pair[0].device, pair[0].dtype), []).append(pair)
                    for (dev, _), group in groups.items():
                        avgs, curs = [a for a, _ in group], [c for _, c in group]
                        if self.multi_avg_fn is not None:
                            self.multi_avg_fn(avgs, curs, self.n_averaged.to(dev))
                        else:  # PyTorch's default on the CPU: get_swa_avg_fn, per tensor
                            avg = get_swa_avg_fn()
                            for a, c in zip(avgs, curs):
                                a.copy_(avg(a, c, self.n_averaged.to(dev)))
            if not self.use_buffers:
                for b_swa, b_model in zip(self.module.buffers(), model.buffers()):
                    b_swa.detach().copy_(b_model.detach().to(b_swa.device))
            self.n_averaged.add_(1)


def update_bn(loader: Iterable[Any], model: Module, device: Any = None) -> None:
    """Recompute the BatchNorm running statistics of ``model`` (an ``AveragedModel``, say)
    from one pass over ``loader``, as PyTorch's: each BatchNorm's statistics are reset and
    become the plain average over the batches (``momentum=None`` for the pass); a batch that
    is a list or tuple gives its first element as the input, moved to ``device`` if given.
    Runs without gradients; the model's train/eval mode and momenta are restored after."""
    momenta = {}
    for module in model.modules():
        if isinstance(module, _BatchNorm):
            module.reset_running_stats()
            momenta[module] = module.momentum
    if not momenta:
        return
    was_training = model.training
    model.train()
    for module in momenta:
        module.momentum = None
    try:
        with no_grad():
            for batch in loader:
                if isinstance(batch, (list, tuple)):
                    batch = batch[0]
                if device is not None:
                    batch = batch.to(device)
                model(batch)
    finally:
        for module, momentum in momenta.items():
            module.momentum = momentum
        model.train(was_training)


class SWALR(LRScheduler):
    """The learning rate for SWA, as PyTorch's: each group's lr anneals from what it was to
    ``swa_lr`` (one value, or one per group) over ``anneal_epochs`` steps, by a cosine
    (``anneal_strategy="cos"``) or linearly ("linear"), then stays there. With ``alpha(s)``
    the anneal fraction at step s (0 at s = 0, 1 from s = anneal_epochs on)::

        lr_s = swa_lr * alpha(s) + lr_0 * (1 - alpha(s))

    computed, as PyTorch's, from the group's current lr (``lr_0`` recovered from it through
    the previous step's alpha), so it takes over from whatever schedule ran before. The step
    ``s`` is the schedule's ``_step_count`` less one. The groups hold ``swa_lr``.
    """

    def __init__(self, optimizer: Optimizer, swa_lr: float | Sequence[float],
                 anneal_epochs: int = 10, anneal_strategy: str = "cos",
                 last_epoch: int = -1) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(optimizer).__name__} is not an Optimizer")
        swa_lrs = _per_group("swa_lr", optimizer, swa_lr)
        self._anneal_strategy = _anneal_strategy(anneal_strategy)
        self.anneal_epochs = _count("anneal_epochs", anneal_epochs, 0)
        for lr, group in zip(swa_lrs, optimizer.param_groups):
            group["swa_lr"] = lr
        super().__init__(optimizer, last_epoch)

    def anneal_func(self, t: float) -> float:
        """The anneal fraction ``alpha`` at ``t`` in [0, 1] (the share of the way done)."""
        return (1 - math.cos(math.pi * t)) / 2 if self._anneal_strategy == "cos" else t

    def get_lr(self) -> list[float]:
        _warn_outside_step(self)
        step = self._step_count - 1
        if self.anneal_epochs == 0:
            step = max(1, step)
        n = max(1, self.anneal_epochs)
        prev_alpha = self.anneal_func(max(0, min(1, (step - 1) / n)))
        alpha = self.anneal_func(max(0, min(1, step / n)))
        out = []
        for group in self.optimizer.param_groups:
            swa, lr = group["swa_lr"], group["lr"]
            lr0 = swa if prev_alpha == 1 else (lr - prev_alpha * swa) / (1 - prev_alpha)
            out.append(swa * alpha + lr0 * (1 - alpha))
        return out

    def _fields(self) -> dict[str, Callable[[Any], Any]]:
        return {"anneal_epochs": lambda v: _count("anneal_epochs", v, 0),
                "_anneal_strategy": _anneal_strategy}


def _anneal_strategy(v: Any) -> str:
    if v not in ("cos", "linear"):
        raise ValueError(f"anneal_strategy must be one of 'cos' or 'linear', instead got {v!r}")
    return v


# optim.lr_scheduler, PyTorch's home of the schedules: ``optim.lr_scheduler.StepLR`` and
# ``from tinygrad_rnn.optim.lr_scheduler import StepLR`` work as with ``torch.optim``
lr_scheduler = types.ModuleType(__name__ + ".lr_scheduler",
                                "The learning-rate schedules, as ``torch.optim.lr_scheduler``.")
for _cls in (LRScheduler, StepLR, MultiStepLR, ExponentialLR, CosineAnnealingLR, LambdaLR,
             MultiplicativeLR, ConstantLR, LinearLR, LinearWarmup, PolynomialLR, SequentialLR,
             ChainedScheduler, CyclicLR, CosineAnnealingWarmRestarts, OneCycleLR,
             ReduceLROnPlateau):
    setattr(lr_scheduler, _cls.__name__, _cls)
lr_scheduler._LRScheduler = LRScheduler  # type: ignore[attr-defined]  # PyTorch's older name
lr_scheduler.EPOCH_DEPRECATION_WARNING = EPOCH_DEPRECATION_WARNING  # type: ignore[attr-defined]
sys.modules[lr_scheduler.__name__] = lr_scheduler


# optim.swa_utils, as ``torch.optim.swa_utils``: ``optim.swa_utils.AveragedModel`` and
# ``from tinygrad_rnn.optim.swa_utils import AveragedModel, SWALR`` work
swa_utils = types.ModuleType(__name__ + ".swa_utils",
                             "Stochastic weight averaging, as ``torch.optim.swa_utils``.")
for _obj in (AveragedModel, SWALR, update_bn, get_ema_multi_avg_fn, get_swa_multi_avg_fn,
             get_ema_avg_fn, get_swa_avg_fn):
    setattr(swa_utils, _obj.__name__, _obj)
swa_utils.__all__ = ["AveragedModel", "SWALR", "get_ema_avg_fn",  # type: ignore[attr-defined]
                     "get_ema_multi_avg_fn", "get_swa_avg_fn", "get_swa_multi_avg_fn",
                     "update_bn"]
sys.modules[swa_utils.__name__] = swa_utils


# optim.optimizer, as ``torch.optim.optimizer``: the base class and the global step hooks
optimizer = types.ModuleType(__name__ + ".optimizer",
                             "The optimizers' base class, as ``torch.optim.optimizer``.")
for _obj in (Optimizer, register_optimizer_step_pre_hook, register_optimizer_step_post_hook):
    setattr(optimizer, _obj.__name__, _obj)
sys.modules[optimizer.__name__] = optimizer
