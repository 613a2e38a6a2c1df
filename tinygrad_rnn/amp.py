"""Mixed precision, with PyTorch's names: ``autocast`` and ``GradScaler`` (``torch.amp``).

    scaler = amp.GradScaler("cpu")
    for x, y in data:
        opt.zero_grad()
        with amp.autocast("cpu"):
            loss = loss_fn(model(x), y)
        scaler.scale(loss).backward()     # the loss times the scale
        scaler.unscale_(opt)              # optional: to clip the true gradients
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        scaler.step(opt)                  # skipped if a gradient is inf or NaN
        scaler.update()                   # the scale: backed off after a skip, grown after
                                          # growth_interval steps without one

**autocast changes nothing here.** This engine has no per-op autocasting: inside
``autocast`` every op runs in the dtype of its inputs, as outside. The context manager (and
decorator) exists so that PyTorch training scripts run unchanged, in the precision their
model and data have (float32 by default); to train in half precision, make the model and the
data float16 yourself (``model.half()``, ``x.half()``). ``is_autocast_enabled()`` is always
False, saying as much.

**GradScaler is PyTorch's, in full**: the loss scale, the check of every gradient for inf
and NaN when unscaling, the skipped step, the backoff and growth of the scale (in float32
arithmetic, as PyTorch's), the per-optimizer stages and their errors (``unscale_`` twice,
``step`` twice before ``update``), and the state dict. Its numbers follow
``torch.amp.GradScaler("cpu")`` step for step. As PyTorch's, a scaler made for ``"cuda"``
where no GPU is available warns and disables itself (every call then passes through).

``tr.cuda.amp`` and ``tr.cpu.amp`` hold PyTorch's older names (``autocast`` without a device
type, ``GradScaler`` for that device), and ``custom_fwd`` / ``custom_bwd``, the decorators
for a ``tr.autograd.Function``'s forward and backward (they leave them as they are).
"""

from __future__ import annotations

import functools
import math
import sys
import types
import warnings
from collections import abc, defaultdict
from collections.abc import Callable
from enum import Enum
from typing import Any

import numpy as np

from .backend import cuda_available
from .tensor import Tensor, _set_values

__all__ = ["GradScaler", "autocast", "custom_bwd", "custom_fwd", "is_autocast_available",
           "is_autocast_enabled"]


def _check_device_type(device_type: Any, where: str) -> str:
    if not isinstance(device_type, str):
        raise TypeError(f"{where}: device_type must be a string (such as 'cuda' or 'cpu'), got "
                        f"{type(device_type).__name__} {device_type!r}")
    return device_type.split(":")[0]


class autocast:  # noqa: N801  (PyTorch's name)
    """``torch.autocast(device_type, dtype=None, enabled=True, cache_enabled=None)``, as a
    context manager or a decorator, which here runs every op in its inputs' own dtype (no
    per-op autocasting in this engine; see the module's docstring). The arguments are checked
    and kept (``device``, ``fast_dtype``, ``_enabled``), and nothing else changes;
    ``enabled=False`` is the same, trivially."""

    def __init__(self, device_type: str, dtype: Any = None, enabled: bool = True,
                 cache_enabled: bool | None = None) -> None:
        self.device = _check_device_type(device_type, "autocast")
        self.fast_dtype = dtype if dtype is not None else (
            "bfloat16" if self.device == "cpu" else np.dtype(np.float16))
        self._enabled = bool(enabled)
        self._cache_enabled = cache_enabled

    def __enter__(self) -> autocast:
        return self

    def __exit__(self, *exc: Any) -> None:
        return None

    def __call__(self, func: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(func)
        def decorated(*args: Any, **kwargs: Any) -> Any:
            with self:
                return func(*args, **kwargs)

        return decorated


def is_autocast_enabled(device_type: str | None = None) -> bool:
    """False: no op is ever autocast here (``autocast`` runs ops in their own dtype)."""
    return False


def is_autocast_available(device_type: str) -> bool:
    """Whether ``autocast(device_type)`` may be entered: True for any device type (it changes
    nothing on any)."""
    _check_device_type(device_type, "is_autocast_available")
    return True


def custom_fwd(fwd: Callable[..., Any] | None = None, *, device_type: str = "cuda",
               cast_inputs: Any = None) -> Any:
    """PyTorch's decorator for a custom Function's ``forward`` under autocast: the forward
    as it is (there is no autocast to leave or cast for). As ``@custom_fwd`` or
    ``@custom_fwd(device_type="cuda", cast_inputs=torch.float32)``."""
    if fwd is None:
        return lambda f: f
    return fwd


def custom_bwd(bwd: Callable[..., Any] | None = None, *, device_type: str = "cuda") -> Any:
    """PyTorch's decorator for a custom Function's ``backward`` under autocast: the backward
    as it is. As ``@custom_bwd`` or ``@custom_bwd(device_type="cuda")``."""
    if bwd is None:
        return lambda f: f
    return bwd


# ---- GradScaler ---------------------------------------------------------------------------------
class OptState(Enum):
    """Where an optimizer is in the scaler's iteration: gradients still scaled, unscaled, or
    stepped (until ``update()``)."""

    READY = 0
    UNSCALED = 1
    STEPPED = 2


def _fresh_state() -> dict[str, Any]:
    return {"stage": OptState.READY, "found_inf_per_device": {}}


def _f32(x: float) -> float:
    """``x`` rounded to float32, as PyTorch keeps the scale (a float32 tensor)."""
    return float(np.float32(x))


class GradScaler:
    """Loss scaling for mixed-precision training, as ``torch.amp.GradScaler``.

    ``scale(loss)`` multiplies the loss (or each tensor of a list, tuple or other iterable of
    them) by the scale, ``init_scale`` at first, so that the backward pass's small float16
    gradients do not underflow. ``unscale_(optimizer)`` divides its parameters' gradients by
    the scale (multiplies them by its float32 reciprocal, as PyTorch) in place and records
    whether any is inf or NaN; ``step(optimizer, *args)`` unscales if that was not done, and
    then calls ``optimizer.step(*args)`` only if every gradient was finite (returning its
    result; None when skipped). ``update()`` ends the iteration: after any inf or NaN the
    scale is multiplied by ``backoff_factor``, and after ``growth_interval`` iterations in a
    row without one, by ``growth_factor`` (unless that would overflow float32);
    ``update(new_scale)`` sets it instead. Float16 gradients are refused by ``unscale_``, as
    PyTorch refuses them: keep the master weights (the parameters) in float32.
    """

    def __init__(self, device: str = "cuda", init_scale: float = 2.0**16,
                 growth_factor: float = 2.0, backoff_factor: float = 0.5,
                 growth_interval: int = 2000, enabled: bool = True) -> None:
        self._device = _check_device_type(device, "GradScaler")
        self._enabled = bool(enabled)
        if self._device == "cuda" and self._enabled and not cuda_available():
            warnings.warn("GradScaler('cuda') is enabled, but CUDA is not available (no CuPy "
                          "or no GPU). Disabling: scale() and step() pass through.",
                          stacklevel=2)
            self._enabled = False
        if self._enabled:
            if not growth_factor > 1.0:
                raise ValueError(f"The growth factor must be > 1.0, got {growth_factor!r}")
            if not backoff_factor < 1.0:
                raise ValueError(f"The backoff factor must be < 1.0, got {backoff_factor!r}")
            if isinstance(growth_interval, bool) or not isinstance(growth_interval, int) \
                    or growth_interval < 1:
                raise ValueError(f"growth_interval must be an int >= 1, got "
                                 f"{growth_interval!r}")
            self._init_scale = float(init_scale)
            self._scale: float | None = None  # set by the first scale(), as PyTorch's
            self._growth_factor = float(growth_factor)
            self._backoff_factor = float(backoff_factor)
            self._growth_interval = growth_interval
            self._init_growth_tracker = 0
            self._growth_tracker: int | None = None
            self._per_optimizer_states: defaultdict[int, dict[str, Any]] = defaultdict(
                _fresh_state)

    def _check_scale_growth_tracker(self, funcname: str) -> tuple[float, int]:
        if self._scale is None or self._growth_tracker is None:
            raise RuntimeError(f"Attempted {funcname} but the scale is not set yet. This may "
                               "indicate your script did not use scaler.scale(loss or "
                               "outputs) earlier in the iteration.")
        return self._scale, self._growth_tracker

    def _lazy_init(self) -> None:
        if self._scale is None:
            self._scale = _f32(self._init_scale)
            self._growth_tracker = self._init_growth_tracker

    def scale(self, outputs: Any) -> Any:
        """``outputs`` times the scale: a Tensor, or a list or tuple (of the same type back)
        or other iterable (a map) of them, nested; as they are if the scaler is disabled."""
        if not self._enabled:
            return outputs

        def apply_scale(val: Any) -> Any:
            if isinstance(val, Tensor):
                self._lazy_init()
                return val * self._scale
            if isinstance(val, abc.Iterable):
                scaled = map(apply_scale, val)
                return type(val)(scaled) if isinstance(val, (list, tuple)) else scaled
            raise ValueError("outputs must be a Tensor or an iterable of Tensors")

        return apply_scale(outputs)

    def _unscale_grads_(self, optimizer: Any, inv_scale: float,
                        allow_fp16: bool) -> dict[str, Tensor]:
        """Multiply every gradient by ``inv_scale`` in place; per device, a float32 tensor
        that is 1.0 if any of its gradients had an inf or a NaN, else 0.0."""
        grads = []
        for group in optimizer.param_groups:
            for p in group["params"]:
                if not isinstance(p, Tensor):
                    raise TypeError(f"expected the parameters to be Tensors, got "
                                    f"{type(p).__name__}")
                if p.grad is None:
                    continue
                if not allow_fp16 and p.grad.dtype == np.float16:
                    raise ValueError("Attempting to unscale FP16 gradients.")
                # a sparse gradient (embedding(sparse=True)'s): its values, in place
                grads.append(p.grad._values() if p.grad.is_sparse else p.grad)
        found: dict[str, Tensor] = {}  # per device: 1.0 if a gradient had an inf or a NaN
        for g in grads:
            xp, a = g._dev.xp, g._data
            bad = not bool(xp.isfinite(a).all())
            if g.device not in found or bad:
                found[g.device] = Tensor._wrap(
                    g._dev.to_device(np.array(1.0 if bad else 0.0, dtype=np.float32)), g._dev)
            if inv_scale != 1.0:  # (PyTorch's kernel leaves them as they are then)
                factor = a.dtype.type(inv_scale) if a.dtype.kind == "f" else inv_scale
                _set_values(g, (a * factor).astype(a.dtype, copy=False), "unscale_")
        return found

    def unscale_(self, optimizer: Any) -> None:
        """Divide ``optimizer``'s gradients by the scale, in place (once per iteration, before
        ``step``), and note whether any is inf or NaN. Call it to clip or inspect the true
        gradients before ``step``."""
        if not self._enabled:
            return
        scale, _ = self._check_scale_growth_tracker("unscale_")
        state = self._per_optimizer_states[id(optimizer)]
        if state["stage"] is OptState.UNSCALED:
            raise RuntimeError("unscale_() has already been called on this optimizer since the "
                               "last update().")
        if state["stage"] is OptState.STEPPED:
            raise RuntimeError("unscale_() is being called after step().")
        inv_scale = _f32(1.0 / scale)  # the reciprocal in float64, rounded to float32
        state["found_inf_per_device"] = self._unscale_grads_(optimizer, inv_scale, False)
        state["stage"] = OptState.UNSCALED

    def step(self, optimizer: Any, *args: Any, **kwargs: Any) -> Any:
        """``optimizer.step(*args, **kwargs)``, after unscaling its gradients if ``unscale_``
        was not called, and only if none of them is inf or NaN; returns what it returns (None
        when the step is skipped). A closure is refused, as PyTorch refuses it."""
        if not self._enabled:
            return optimizer.step(*args, **kwargs)
        if "closure" in kwargs:
            raise RuntimeError("Closure use is not currently supported if GradScaler is "
                               "enabled.")
        self._check_scale_growth_tracker("step")
        state = self._per_optimizer_states[id(optimizer)]
        if state["stage"] is OptState.STEPPED:
            raise RuntimeError("step() has already been called since the last update().")
        if state["stage"] is OptState.READY:
            self.unscale_(optimizer)
        if not state["found_inf_per_device"]:
            raise RuntimeError("No inf checks were recorded for this optimizer: none of its "
                               "parameters has a gradient (did backward() run on the scaled "
                               "loss?)")
        retval = None
        if not sum(float(v.item()) for v in state["found_inf_per_device"].values()):
            retval = optimizer.step(*args, **kwargs)
        state["stage"] = OptState.STEPPED
        return retval

    def update(self, new_scale: float | Tensor | None = None) -> None:
        """End the iteration: set the scale to ``new_scale`` if given (a number or a
        one-element tensor), else back it off if any optimizer stepped (or unscaled) with an
        inf or NaN gradient since the last update, or grow it after ``growth_interval``
        clean iterations in a row."""
        if not self._enabled:
            return
        scale, tracker = self._check_scale_growth_tracker("update")
        if new_scale is not None:
            if isinstance(new_scale, Tensor):
                if new_scale.numel() != 1 or new_scale.requires_grad:
                    raise ValueError("new_scale should be a float or a 1-element tensor with "
                                     "requires_grad=False.")
                new_scale = new_scale.item()
            self._scale = _f32(new_scale)
        else:
            found_infs = [float(f.item()) for state in self._per_optimizer_states.values()
                          for f in state["found_inf_per_device"].values()]
            if not found_infs:
                raise RuntimeError("No inf checks were recorded prior to update().")
            if sum(found_infs):
                self._scale, self._growth_tracker = _f32(scale * self._backoff_factor), 0
            elif tracker + 1 == self._growth_interval:
                grown = _f32(scale * self._growth_factor)
                if math.isfinite(grown):
                    self._scale = grown
                self._growth_tracker = 0
            else:
                self._growth_tracker = tracker + 1
        self._per_optimizer_states = defaultdict(_fresh_state)

    def _found_inf_per_device(self, optimizer: Any) -> dict[str, Tensor]:
        return self._per_optimizer_states[id(optimizer)]["found_inf_per_device"]

    def get_scale(self) -> float:
        """The scale now (``init_scale`` before the first ``scale()``; 1.0 if disabled)."""
        if not self._enabled:
            return 1.0
        return self._init_scale if self._scale is None else self._scale

    def get_growth_factor(self) -> float:
        return self._growth_factor

    def set_growth_factor(self, new_factor: float) -> None:
        self._growth_factor = float(new_factor)

    def get_backoff_factor(self) -> float:
        return self._backoff_factor

    def set_backoff_factor(self, new_factor: float) -> None:
        self._backoff_factor = float(new_factor)

    def get_growth_interval(self) -> int:
        return self._growth_interval

    def set_growth_interval(self, new_interval: int) -> None:
        self._growth_interval = int(new_interval)

    def _get_growth_tracker(self) -> int:
        if not self._enabled:
            return 0
        return self._init_growth_tracker if self._growth_tracker is None else \
            self._growth_tracker

    def is_enabled(self) -> bool:
        """Whether the scaler scales (False if made with ``enabled=False``, or for "cuda"
        without a GPU)."""
        return self._enabled

    def state_dict(self) -> dict[str, Any]:
        """``scale``, ``growth_factor``, ``backoff_factor``, ``growth_interval`` and
        ``_growth_tracker``, as PyTorch's (empty if disabled)."""
        if not self._enabled:
            return {}
        return {"scale": self.get_scale(), "growth_factor": self._growth_factor,
                "backoff_factor": self._backoff_factor,
                "growth_interval": self._growth_interval,
                "_growth_tracker": self._get_growth_tracker()}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore what ``state_dict`` gave (here or in PyTorch); nothing if disabled."""
        if not self._enabled:
            return
        if len(state_dict) == 0:
            raise RuntimeError("The source state dict is empty, possibly because it was saved "
                               "from a disabled instance of GradScaler.")
        keys = ("scale", "growth_factor", "backoff_factor", "growth_interval",
                "_growth_tracker")
        missing = [k for k in keys if k not in state_dict]
        if missing:
            raise ValueError(f"GradScaler.load_state_dict: the state dict lacks {missing}")
        self._init_scale = float(state_dict["scale"])
        if self._scale is not None:
            self._scale = _f32(self._init_scale)
        self._growth_factor = float(state_dict["growth_factor"])
        self._backoff_factor = float(state_dict["backoff_factor"])
        self._growth_interval = int(state_dict["growth_interval"])
        self._init_growth_tracker = int(state_dict["_growth_tracker"])
        if self._growth_tracker is not None:
            self._growth_tracker = self._init_growth_tracker

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        if self._enabled:
            if self._per_optimizer_states:
                raise RuntimeError("A GradScaler instance may only be pickled at the beginning "
                                   "of an iteration, or at the end after scaler.update().")
            state["_init_scale"] = self.get_scale()
            state["_init_growth_tracker"] = self._get_growth_tracker()
            state["_scale"] = None
            state["_growth_tracker"] = None
            state["_per_optimizer_states"] = {}
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        if self._enabled:
            self._per_optimizer_states = defaultdict(_fresh_state)


# ---- PyTorch's per-device names: tr.cuda.amp, tr.cpu.amp -----------------------------------------
class _DeviceAutocast(autocast):
    """``torch.<device>.amp.autocast(enabled=True, dtype=..., cache_enabled=True)``: autocast
    for one device type (older names, still common)."""

    _device_type = "cuda"
    _default_dtype: Any = np.dtype(np.float16)

    def __init__(self, enabled: bool = True, dtype: Any = None,
                 cache_enabled: bool = True) -> None:
        super().__init__(self._device_type, self._default_dtype if dtype is None else dtype,
                         enabled, cache_enabled)


class _DeviceGradScaler(GradScaler):
    """``torch.<device>.amp.GradScaler(init_scale, growth_factor, backoff_factor,
    growth_interval, enabled)``: a GradScaler for one device type."""

    _device_type = "cuda"

    def __init__(self, init_scale: float = 2.0**16, growth_factor: float = 2.0,
                 backoff_factor: float = 0.5, growth_interval: int = 2000,
                 enabled: bool = True) -> None:
        super().__init__(self._device_type, init_scale, growth_factor, backoff_factor,
                         growth_interval, enabled)


def _device_amp(device_type: str, package: str, autocast_dtype: Any) -> types.ModuleType:
    """A ``<package>.amp`` namespace (``tr.cuda.amp``, ``tr.cpu.amp``) with ``autocast``,
    ``GradScaler``, ``custom_fwd`` and ``custom_bwd`` for ``device_type``, importable by its
    dotted name."""
    mod = types.ModuleType(f"{package}.amp", f"``torch.{device_type}.amp``: autocast and "
                           f"GradScaler for {device_type!r} (see tinygrad_rnn.amp).")
    attrs = {"_device_type": device_type, "__module__": mod.__name__}
    mod.autocast = type("autocast", (_DeviceAutocast,),  # type: ignore[attr-defined]
                        {**attrs, "_default_dtype": autocast_dtype})
    mod.GradScaler = type("GradScaler", (_DeviceGradScaler,),  # type: ignore[attr-defined]
                          attrs)
    mod.custom_fwd = custom_fwd  # type: ignore[attr-defined]
    mod.custom_bwd = custom_bwd  # type: ignore[attr-defined]
    mod.__all__ = ["GradScaler", "autocast", "custom_bwd", "custom_fwd"]  # type: ignore
    sys.modules[mod.__name__] = mod
    return mod


_cuda_amp = _device_amp("cuda", "tinygrad_rnn.cuda", np.dtype(np.float16))

# tr.cpu: PyTorch's ``torch.cpu`` namespace, for its ``amp`` (``torch.cpu.amp.autocast``)
_cpu = types.ModuleType("tinygrad_rnn.cpu", "``torch.cpu``: its ``amp`` namespace.")
_cpu.amp = _device_amp("cpu", _cpu.__name__, "bfloat16")  # type: ignore[attr-defined]
_cpu.is_available = lambda: True  # type: ignore[attr-defined]
sys.modules[_cpu.__name__] = _cpu
