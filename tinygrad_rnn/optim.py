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
test-only ``"strict"`` device. The optimizer state (momentum buffers, moment estimates) lives on
the parameter's device too and follows it if ``Module.to`` moves the parameter.

``state_dict()`` gives a plain structure (dicts, lists, Python numbers, strings, bools, None and
host NumPy arrays) with per-parameter state keyed by the parameter's index in the order of the
param groups, as in PyTorch, written as a string so that ``tr.save`` can store it::

    {"state": {"0": {"step": 3, "exp_avg": ndarray, ...}, ...},
     "param_groups": [{"lr": 0.001, "betas": [0.9, 0.999], ..., "params": [0, 1, ...]}]}

The schedules set each group's ``lr`` from a closed form of the step count (PyTorch computes the
same values recursively); they do not chain, so combine them with ``SequentialLR``.
"""

from __future__ import annotations

import math
import numbers
import sys
import types
from bisect import bisect_right
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from .autograd import enable_grad
from .backend import device_of
from .tensor import Tensor, _as_device_array, host_array

ParamsT = Iterable[Tensor] | Iterable[dict[str, Any]] | Iterable[tuple[str, Tensor]]

__all__ = [
    "SGD", "Adam", "AdamW", "CosineAnnealingLR", "ExponentialLR", "LRScheduler", "LinearWarmup",
    "LambdaLR", "LinearLR", "MultiStepLR", "Optimizer", "RMSprop", "ReduceLROnPlateau",
    "SequentialLR", "StepLR", "lr_scheduler",
]

# a per-parameter state entry is either an array shaped like the parameter or a step count
_ARRAY, _COUNT = "array", "count"


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


def _count(name: str, value: Any, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__} {value!r}")
    if value < low:
        raise ValueError(f"Invalid {name}: {value!r} (must be >= {low})")
    return int(value)


# ---- plain structures --------------------------------------------------------------------------
def _plain(v: Any, where: str) -> Any:
    """``v`` made only of dicts, lists, Python scalars, None and host NumPy arrays (copies)."""
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
    if isinstance(v, Tensor):
        return v.numpy()
    try:
        dev = device_of(v)
    except TypeError:
        raise TypeError(
            f"state_dict: {where} holds a {type(v).__name__}, which a state_dict cannot hold "
            "(only dicts, lists, numbers, strings, bools, None and arrays)"
        ) from None
    return np.array(dev.to_host(v), copy=True)


def _like(saved: Any, current: Any) -> Any:
    """A loaded option in the form of the current one (state_dict turns tuples into lists)."""
    if isinstance(current, tuple) and isinstance(saved, list):
        return tuple(saved)
    return saved


def _state_key(k: Any) -> int | None:
    """A state key as an int: ints as PyTorch writes them, or their decimal strings."""
    if isinstance(k, numbers.Integral) and not isinstance(k, bool):
        return int(k)
    if isinstance(k, str) and k.isdecimal():
        return int(k)
    return None


# ---- optimizers ---------------------------------------------------------------------------------
def _write(p: Tensor, new: Any) -> None:
    """p takes the updated values as a new array (copy on write): an array that a graph saved
    keeps the values its forward used, so a backward after a step is never a mix of old and new
    weights."""
    p.data = _as_device_array(new, p._dev, "an optimizer step").astype(p.data.dtype, copy=False)


class Optimizer:
    """Base class: parameter groups, ``zero_grad``, ``step`` and the state dict.

    ``params`` is an iterable of Tensors (one group) or of dicts, each with ``"params"`` and
    any options that override ``defaults`` for that group (as in PyTorch). Subclasses define
    ``_check_group`` (validate and normalise a group's options), ``_state_spec`` (the
    per-parameter state entries) and ``_update`` (one parameter's update).
    """

    def __init__(self, params: ParamsT, defaults: dict[str, Any]) -> None:
        if isinstance(params, (Tensor, Mapping)):
            raise TypeError(
                "params must be an iterable of Tensors or of dicts (parameter groups), got a "
                f"single {type(params).__name__}; wrap it in a list"
            )
        self.defaults: dict[str, Any] = dict(defaults)
        self.state: dict[Tensor, dict[str, Any]] = {}
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
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if len({id(p) for p in params}) != len(params) or any(id(p) in seen for p in params):
            raise ValueError("some parameters appear more than once in the parameter groups")
        options = {**self.defaults, **{k: v for k, v in group.items() if k != "params"}}
        self._check_options(options)
        self.param_groups.append({"params": params, **self._check_group(options)})

    def _check_group(self, group: dict[str, Any]) -> dict[str, Any]:
        return group

    # PyTorch options that change the update and that this optimizer does not implement, with
    # the one value it accepts (e.g. in a state dict saved by torch). Other extra keys in a group
    # (a name, say) are kept and ignored, as PyTorch does.
    _fixed_options: dict[str, Any] = {"maximize": False, "capturable": False,
                                      "differentiable": False}

    def _check_options(self, group: Mapping[str, Any]) -> None:
        wrong = [f"{k}={group[k]!r}" for k, v in self._fixed_options.items()
                 if k in group and group[k] is not None and bool(group[k]) != v]
        if wrong:
            raise ValueError(f"{type(self).__name__} does not implement PyTorch's "
                             f"{', '.join(wrong)}")

    def _state_spec(self, group: Mapping[str, Any]) -> dict[str, tuple[str, bool]]:
        """Per-parameter state entries: name -> (_ARRAY or _COUNT, always present)."""
        return {}

    def _update(self, p: Tensor, g: Any, group: dict[str, Any], state: dict[str, Any]) -> None:
        raise NotImplementedError

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget every parameter's gradient (``p.grad = None``, PyTorch's default), or, with
        ``set_to_none=False``, set it to zeros."""
        for group in self.param_groups:
            for p in group["params"]:
                if set_to_none or p.grad is None:
                    p.grad = None
                else:
                    p.grad = Tensor._wrap(p._dev.xp.zeros_like(p.grad.data), p._dev)

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
                _check_grad(type(self).__name__ + ".step", p)
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = p.grad.data
                state = self.state.get(p)
                if state is None:
                    state = self.state[p] = {}
                else:
                    _follow(p, state)
                self._update(p, g, group, state)
        return loss

    # ---- state -----------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """Options and state as a plain structure (host NumPy copies of every array), with
        parameters numbered in group order. The state is keyed by that number written as a
        string ("0", "1", ...), so that ``tr.save`` (string keys only) can write it as is."""
        index: dict[int, int] = {}
        groups = []
        for i, group in enumerate(self.param_groups):
            ids = [index.setdefault(id(p), len(index)) for p in group["params"]]
            packed = {k: _plain(v, f"param_groups[{i}][{k!r}]")
                      for k, v in group.items() if k != "params"}
            groups.append({**packed, "params": ids})
        state = {}
        for group in self.param_groups:
            for p in group["params"]:
                st = self.state.get(p)
                if st:
                    k = index[id(p)]
                    state[str(k)] = {n: _plain(v, f"state[{k}][{n!r}]") for n, v in st.items()}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: Mapping[str, Any]) -> None:
        """Load options and state saved by ``state_dict`` (into an optimizer over parameters of
        the same shapes, in the same groups). Everything is checked first: on any problem a
        ValueError lists them all and nothing is changed. Arrays go to each parameter's device
        and dtype; loaded arrays are copies, never the given ones."""
        name = type(self).__name__
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
            missing = [k for k in self.defaults if k not in saved]
            if missing:
                problems.append(f"{where} lacks the options {missing}")
            # the saved options replace the group's; what it lacks beyond the optimizer's own
            # options (a schedule's initial_lr, say) is kept
            new = {**{k: v for k, v in group.items() if k != "params" and k not in saved},
                   **{k: _like(v, group.get(k)) for k, v in saved.items() if k != "params"}}
            if not missing:
                try:
                    self._check_options(new)
                    new = self._check_group({**new})
                except (TypeError, ValueError) as e:
                    problems.append(f"{where}: {e}")
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
        self.state = {
            p: {n: v if isinstance(v, int) else p._dev.to_device(v) for n, v in entry.items()}
            for p, entry in staged.items()
        }

    def _check_entry(self, where: str, entry: Any, p: Tensor, group: Mapping[str, Any],
                     problems: list[str]) -> dict[str, Any]:
        """One parameter's saved state, checked and converted (arrays cast on the host)."""
        if not isinstance(entry, Mapping):
            problems.append(f"{where} is not a dict")
            return {}
        spec = self._state_spec(group)
        unknown = [n for n in entry if n not in spec]
        missing = [n for n, (_, required) in spec.items() if required and n not in entry]
        if unknown or missing:
            problems.append(f"{where} has unexpected entries {unknown} and lacks {missing} "
                            f"for {type(self).__name__} with these options")
            return {}
        out: dict[str, Any] = {}
        for n, v in entry.items():
            if spec[n][0] == _COUNT:
                # a 0-d array or tensor (PyTorch keeps Adam's step as one) is its number
                c = v.item() if hasattr(v, "item") and tuple(getattr(v, "shape", ())) == () \
                    else v
                if (isinstance(c, bool) or not isinstance(c, numbers.Real)
                        or not math.isfinite(c) or c < 0 or c != int(c)):
                    problems.append(f"{where}[{n!r}] must be a non-negative integer, got {v!r}")
                else:
                    out[n] = int(c)
                continue
            host = host_array(v)
            if tuple(host.shape) != p.shape:
                problems.append(f"{where}[{n!r}] has shape {tuple(host.shape)}, its parameter "
                                f"has shape {p.shape}")
            elif host.dtype.kind not in "biuf":
                problems.append(f"{where}[{n!r}] must hold real numbers, not {host.dtype}")
            else:
                out[n] = np.array(host, dtype=p.dtype)
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
    if not isinstance(g, Tensor):
        raise TypeError(f"{where}: a parameter's .grad must be a Tensor, got {type(g).__name__}")
    problems = [f"{what} {a} (the parameter's is {b})" for what, a, b in (
        ("shape", g.shape, p.shape), ("dtype", g.dtype, p.dtype), ("device", g.device, p.device))
        if a != b]
    if problems:
        raise ValueError(f"{where}: a gradient has " + ", ".join(problems) + "; nothing was "
                         "updated")


def _follow(p: Tensor, state: dict[str, Any]) -> None:
    """Move state arrays to where the parameter is now (after ``Module.to``)."""
    for n, v in state.items():
        if not isinstance(v, int) and (not isinstance(v, p._dev.array_type) or v.dtype != p.dtype):
            state[n] = p._dev.to_device(np.array(device_of(v).to_host(v), dtype=p.dtype))


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

    def __init__(self, params: ParamsT, lr: float = 1e-3, momentum: float = 0.0,
                 dampening: float = 0.0, weight_decay: float = 0.0,
                 nesterov: bool = False) -> None:
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov))

    def _check_group(self, group: dict[str, Any]) -> dict[str, Any]:
        group["lr"] = _at_least("learning rate", group["lr"])
        group["momentum"] = _at_least("momentum value", group["momentum"])
        group["dampening"] = _real("dampening", group["dampening"])
        group["weight_decay"] = _at_least("weight_decay value", group["weight_decay"])
        group["nesterov"] = bool(group["nesterov"])
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError("Nesterov momentum requires a momentum > 0 and zero dampening")
        return group

    def _state_spec(self, group: Mapping[str, Any]) -> dict[str, tuple[str, bool]]:
        return {"momentum_buffer": (_ARRAY, True)} if group["momentum"] else {}

    def _update(self, p: Tensor, g: Any, group: dict[str, Any], state: dict[str, Any]) -> None:
        mu, wd = group["momentum"], group["weight_decay"]
        if wd:
            g = g + wd * p.data
        if mu:
            b = state.get("momentum_buffer")
            if b is None:
                b = state["momentum_buffer"] = g.copy()  # g may be the gradient itself
            else:
                b *= mu
                b += (1.0 - group["dampening"]) * g
            g = g + mu * b if group["nesterov"] else b
        _write(p, p.data - group["lr"] * g)


class Adam(Optimizer):
    """Adam (Kingma & Ba, 2015), as in PyTorch; ``amsgrad`` uses the running maximum of ``v``.

    With ``g`` the gradient and ``t`` the step (from 1)::

        g <- g + weight_decay * p                        (L2 penalty; AdamW decouples it)
        m <- beta1 * m + (1 - beta1) * g
        v <- beta2 * v + (1 - beta2) * g * g
        v_max <- max(v_max, v);  v <- v_max              (if amsgrad)
        p <- p - lr / (1 - beta1**t) * m / (sqrt(v) / sqrt(1 - beta2**t) + eps)

    State per parameter: ``step``, ``exp_avg`` (m), ``exp_avg_sq`` (v), ``max_exp_avg_sq``.
    """

    _decoupled = False

    def __init__(self, params: ParamsT, lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, amsgrad: bool = False) -> None:
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      amsgrad=amsgrad))

    _fixed_options = {**Optimizer._fixed_options, "decoupled_weight_decay": False}

    def _check_group(self, group: dict[str, Any]) -> dict[str, Any]:
        group["lr"] = _at_least("learning rate", group["lr"])
        group["eps"] = _at_least("epsilon value", group["eps"])
        betas = group["betas"]
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise ValueError(f"betas must be a pair of numbers, got {betas!r}")
        group["betas"] = (_in_unit("beta parameter at index 0", betas[0]),
                          _in_unit("beta parameter at index 1", betas[1]))
        group["weight_decay"] = _at_least("weight_decay value", group["weight_decay"])
        group["amsgrad"] = bool(group["amsgrad"])
        return group

    def _state_spec(self, group: Mapping[str, Any]) -> dict[str, tuple[str, bool]]:
        return {"step": (_COUNT, True), "exp_avg": (_ARRAY, True), "exp_avg_sq": (_ARRAY, True),
                "max_exp_avg_sq": (_ARRAY, group["amsgrad"])}

    def _update(self, p: Tensor, g: Any, group: dict[str, Any], state: dict[str, Any]) -> None:
        xp = p._dev.xp
        lr, wd, (beta1, beta2) = group["lr"], group["weight_decay"], group["betas"]
        if not state:
            state.update(step=0, exp_avg=xp.zeros_like(p.data), exp_avg_sq=xp.zeros_like(p.data))
        if wd and self._decoupled:
            _write(p, p.data * (1.0 - lr * wd))
        elif wd:
            g = g + wd * p.data
        state["step"] += 1
        t = state["step"]
        m, v = state["exp_avg"], state["exp_avg_sq"]
        m += (1.0 - beta1) * (g - m)
        v *= beta2
        v += (1.0 - beta2) * (g * g)
        if group["amsgrad"]:
            v_max = state.get("max_exp_avg_sq")
            if v_max is None:
                v_max = state["max_exp_avg_sq"] = xp.zeros_like(p.data)
            xp.maximum(v_max, v, out=v_max)
            v = v_max
        denom = xp.sqrt(v) / math.sqrt(1.0 - beta2**t) + group["eps"]
        _write(p, p.data - (lr / (1.0 - beta1**t)) * (m / denom))


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter, 2019), as in PyTorch: before the
    Adam step (which then has no L2 term), ``p <- p * (1 - lr * weight_decay)``."""

    _decoupled = True

    def __init__(self, params: ParamsT, lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2, amsgrad: bool = False) -> None:
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                         amsgrad=amsgrad)

    _fixed_options = {**Optimizer._fixed_options, "decoupled_weight_decay": True}


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

    def __init__(self, params: ParamsT, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0.0, momentum: float = 0.0, centered: bool = False) -> None:
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                                      momentum=momentum, centered=centered))

    def _check_group(self, group: dict[str, Any]) -> dict[str, Any]:
        group["lr"] = _at_least("learning rate", group["lr"])
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
            state.update(step=0, square_avg=xp.zeros_like(p.data))
        if wd:
            g = g + wd * p.data
        state["step"] += 1
        s = state["square_avg"]
        s *= alpha
        s += (1.0 - alpha) * (g * g)
        if group["centered"]:
            a = state.get("grad_avg")
            if a is None:
                a = state["grad_avg"] = xp.zeros_like(p.data)
            a += (1.0 - alpha) * (g - a)
            d = xp.sqrt(s - a * a) + group["eps"]
        else:
            d = xp.sqrt(s) + group["eps"]
        if mu > 0:
            b = state.get("momentum_buffer")
            if b is None:
                b = state["momentum_buffer"] = xp.zeros_like(p.data)
            b *= mu
            b += g / d
            _write(p, p.data - group["lr"] * b)
        else:
            _write(p, p.data - group["lr"] * (g / d))


# ---- learning-rate schedules ------------------------------------------------------------------
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
    if any(b <= a for a, b in zip(ms, ms[1:])):
        raise ValueError(f"SequentialLR: milestones must increase, got {ms}")
    return ms


# PyTorch's schedules keep these too, as its own bookkeeping: a state dict that PyTorch saved
# loads here without them (``last_epoch`` and ``_last_lr`` say where the schedule is)
_TORCH_ONLY = {"_step_count", "_get_lr_called_within_step", "_is_initial", "verbose"}


class LRScheduler:
    """Base class: sets every group's ``lr`` to ``lr_at(t)`` for step ``t`` = 0, 1, 2, ...

    As in PyTorch, making a schedule takes step 0 (sets the lr for the first optimizer step),
    each ``step()`` (called after ``optimizer.step()``) moves to the next, and the base lrs are
    the groups' ``initial_lr`` (recorded from ``lr`` by the first schedule made).
    ``last_epoch=k`` makes the schedule as if it had taken steps 0 to k, so making it takes
    step k + 1 (the groups must hold the ``initial_lr`` a first schedule recorded, as after
    loading an optimizer's state dict). To resume a schedule saved at ``last_epoch = n``, pass
    ``n - 1``, or better, make it anew and ``load_state_dict`` its saved state.
    """

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
            group.setdefault("initial_lr", group["lr"])
        self.base_lrs: list[float] = [float(g["initial_lr"]) for g in optimizer.param_groups]
        self.last_epoch = last_epoch
        self._last_lr: list[float] = list(self.base_lrs)
        self.step()

    def lr_at(self, t: int) -> list[float]:
        """The learning rate of each group at step ``t`` (closed form)."""
        raise NotImplementedError

    def step(self) -> None:
        """Move to the next step and set the groups' learning rates."""
        self.last_epoch += 1
        self._set(self.lr_at(self.last_epoch))

    def _set(self, lrs: list[float]) -> None:
        for group, lr in zip(self.optimizer.param_groups, lrs):
            group["lr"] = lr
        self._last_lr = list(lrs)

    def get_last_lr(self) -> list[float]:
        """The learning rates the last ``step()`` set, one per group."""
        return list(self._last_lr)

    def state_dict(self) -> dict[str, Any]:
        """Everything but the optimizer, as a plain structure."""
        return {k: _plain(v, k) for k, v in vars(self).items() if k != "optimizer"}

    def load_state_dict(self, state_dict: Mapping[str, Any]) -> None:
        """Restore a schedule saved by ``state_dict`` (checked first; the optimizer's lrs come
        from the optimizer's own state dict)."""
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
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own and k not in _TORCH_ONLY]
        if missing or unexpected:
            problems.append(f"missing keys {missing}, unexpected keys {unexpected}")
        for k in ("base_lrs", "_last_lr"):
            v = state_dict.get(k)
            if k in state_dict and (not isinstance(v, Sequence) or len(v) != len(own[k])):
                problems.append(f"{k} must be a list of {len(own[k])} learning rates")
            elif k in state_dict:
                problems += _problems(lambda v=v: [_at_least("learning rate", x) for x in v])
        checks = {"last_epoch": lambda v: _count("last_epoch", v, -1), **self._fields()}
        for k, check in checks.items():
            if k in state_dict:
                problems += _problems(lambda k=k, check=check: check(state_dict[k]))
        return problems

    def _fields(self) -> dict[str, Callable[[Any], Any]]:
        """The schedule's own settings in its state dict, each with the check its constructor
        makes (so a loaded state is held to the same rules)."""
        return {}

    def _apply_state(self, state_dict: Mapping[str, Any]) -> None:
        for k in self.state_dict():
            setattr(self, k, _plain(state_dict[k], k))


class StepLR(LRScheduler):
    """``lr = base_lr * gamma ** (t // step_size)``: decay by ``gamma`` every ``step_size``."""

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1,
                 last_epoch: int = -1) -> None:
        self.step_size = _count("step_size", step_size, 1)
        self.gamma = _at_least("gamma", gamma)
        super().__init__(optimizer, last_epoch)

    def lr_at(self, t: int) -> list[float]:
        return [base * self.gamma ** (t // self.step_size) for base in self.base_lrs]

    def _fields(self) -> dict[str, Callable[[Any], Any]]:
        return {"step_size": lambda v: _count("step_size", v, 1),
                "gamma": lambda v: _at_least("gamma", v)}


class ExponentialLR(LRScheduler):
    """``lr = base_lr * gamma ** t``."""

    def __init__(self, optimizer: Optimizer, gamma: float,
                 last_epoch: int = -1) -> None:
        self.gamma = _at_least("gamma", gamma)
        super().__init__(optimizer, last_epoch)

    def lr_at(self, t: int) -> list[float]:
        return [base * self.gamma**t for base in self.base_lrs]

    def _fields(self) -> dict[str, Callable[[Any], Any]]:
        return {"gamma": lambda v: _at_least("gamma", v)}


class CosineAnnealingLR(LRScheduler):
    """``lr = eta_min + (base_lr - eta_min) * (1 + cos(pi * t / T_max)) / 2`` (SGDR without
    restarts; past ``T_max`` the cosine goes on, as in PyTorch)."""

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0,
                 last_epoch: int = -1) -> None:
        self.T_max = _count("T_max", T_max, 1)
        self.eta_min = _at_least("eta_min", eta_min)
        super().__init__(optimizer, last_epoch)

    def lr_at(self, t: int) -> list[float]:
        c = (1.0 + math.cos(math.pi * t / self.T_max)) / 2.0
        return [self.eta_min + (base - self.eta_min) * c for base in self.base_lrs]

    def _fields(self) -> dict[str, Callable[[Any], Any]]:
        return {"T_max": lambda v: _count("T_max", v, 1),
                "eta_min": lambda v: _at_least("eta_min", v)}


class MultiStepLR(LRScheduler):
    """``lr = base_lr * gamma ** (number of milestones <= t)``: decay by ``gamma`` at each
    milestone step."""

    def __init__(self, optimizer: Optimizer, milestones: Sequence[int], gamma: float = 0.1,
                 last_epoch: int = -1) -> None:
        self.milestones = sorted(_count("milestone", m, 0) for m in milestones)
        self.gamma = _at_least("gamma", gamma)
        super().__init__(optimizer, last_epoch)

    def lr_at(self, t: int) -> list[float]:
        return [base * self.gamma ** bisect_right(self.milestones, t) for base in self.base_lrs]

    def _fields(self) -> dict[str, Callable[[Any], Any]]:
        return {"milestones": lambda v: [_count("milestone", m, 0) for m in v],
                "gamma": lambda v: _at_least("gamma", v)}


class LambdaLR(LRScheduler):
    """``lr = base_lr * lr_lambda(t)``, one function for every group or one per group. The
    functions are not part of ``state_dict`` (as in PyTorch, a plain function is not saved):
    make the schedule with them, then load its state."""

    def __init__(self, optimizer: Optimizer, lr_lambda: Callable[[int], float]
                 | Sequence[Callable[[int], float]], last_epoch: int = -1) -> None:
        n = len(optimizer.param_groups) if isinstance(optimizer, Optimizer) else 0
        fns = list(lr_lambda) if isinstance(lr_lambda, (list, tuple)) else [lr_lambda] * n
        if len(fns) != n:
            raise ValueError(f"LambdaLR: expected {n} lr_lambdas (one per param group), got "
                             f"{len(fns)}")
        if not all(callable(f) for f in fns):
            raise TypeError("LambdaLR: lr_lambda must be a function of the step, or a list of "
                            "them")
        self._lr_lambdas = fns
        super().__init__(optimizer, last_epoch)

    def lr_at(self, t: int) -> list[float]:
        return [base * float(f(t)) for base, f in zip(self.base_lrs, self._lr_lambdas)]

    def state_dict(self) -> dict[str, Any]:
        return {k: _plain(v, k) for k, v in vars(self).items()
                if k not in ("optimizer", "_lr_lambdas")}


class LinearLR(LRScheduler):
    """``lr = base_lr * (s + (e - s) * min(t, total_iters) / total_iters)``: the factor moves
    linearly from ``start_factor`` s to ``end_factor`` e over ``total_iters`` steps, then
    stays, as PyTorch's (which refuses s = 0; ``LinearWarmup`` allows it)."""

    def __init__(self, optimizer: Optimizer, start_factor: float = 1.0 / 3,
                 end_factor: float = 1.0, total_iters: int = 5, last_epoch: int = -1) -> None:
        self.start_factor = _linear_factor("start_factor", start_factor, low_open=True)
        self.end_factor = _linear_factor("end_factor", end_factor)
        self.total_iters = _count("total_iters", total_iters, 0)
        super().__init__(optimizer, last_epoch)

    def lr_at(self, t: int) -> list[float]:
        s, e, n = self.start_factor, self.end_factor, self.total_iters
        k = s + (e - s) * min(t, n) / n if n else s  # total_iters=0 stays at s, as PyTorch
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
    """``lr = base_lr * (f + (1 - f) * min(t, warmup_steps) / warmup_steps)`` with ``f`` the
    start factor: a linear ramp from ``f * base_lr`` to ``base_lr`` over ``warmup_steps`` steps,
    then constant (PyTorch's ``LinearLR(start_factor=f, end_factor=1, total_iters=warmup_steps)``,
    which refuses ``f = 0``; this allows it). ``warmup_steps=0`` is no warmup: ``base_lr`` from
    the start, where ``LinearLR(total_iters=0)`` would stay at ``f * base_lr``."""

    def __init__(self, optimizer: Optimizer, warmup_steps: int, start_factor: float = 0.0,
                 last_epoch: int = -1) -> None:
        self.warmup_steps = _count("warmup_steps", warmup_steps, 0)
        self.start_factor = _start_factor(start_factor)
        super().__init__(optimizer, last_epoch)

    def _fields(self) -> dict[str, Callable[[Any], Any]]:
        return {"warmup_steps": lambda v: _count("warmup_steps", v, 0),
                "start_factor": _start_factor}

    def lr_at(self, t: int) -> list[float]:
        w, f = self.warmup_steps, self.start_factor
        k = 1.0 if w == 0 else f + (1.0 - f) * min(t, w) / w
        return [base * k for base in self.base_lrs]


class SequentialLR(LRScheduler):
    """Run ``schedulers[0]`` until ``milestones[0]``, then ``schedulers[1]`` from its own step 0,
    and so on (PyTorch's ``SequentialLR``), e.g. a warmup followed by cosine annealing::

        SequentialLR(opt, [LinearWarmup(opt, 100), CosineAnnealingLR(opt, 900)], [100])
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
        super().__init__(optimizer, last_epoch)

    def _fields(self) -> dict[str, Callable[[Any], Any]]:
        n = len(self._schedulers) - 1

        def check(ms: Any) -> list[int]:
            if not isinstance(ms, Sequence) or len(ms) != n:
                raise ValueError(f"_milestones must be a list of {n} steps, got {ms!r}")
            return _milestones(ms)

        return {"_milestones": check}

    def lr_at(self, t: int) -> list[float]:
        i = bisect_right(self._milestones, t)
        return self._schedulers[i].lr_at(t - (self._milestones[i - 1] if i else 0))

    def step(self) -> None:
        self.last_epoch += 1
        t = self.last_epoch
        i = bisect_right(self._milestones, t)
        child = self._schedulers[i]
        child.last_epoch = t - (self._milestones[i - 1] if i else 0) - 1
        child.step()
        self._last_lr = child.get_last_lr()

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
        for k in self.state_dict():
            if k != "_schedulers":
                setattr(self, k, _plain(state_dict[k], k))


class ReduceLROnPlateau(LRScheduler):
    """Cut every group's lr by ``factor`` when a metric stops improving, as PyTorch's: call
    ``step(metric)`` once per evaluation (say, the validation loss each epoch).

    The metric improves when it beats the best so far by more than ``threshold``: relatively
    (``threshold_mode="rel"``: below ``best * (1 - threshold)`` in ``mode="min"``, above
    ``best * (1 + threshold)`` in "max") or absolutely ("abs": ``best ∓ threshold``). After
    more than ``patience`` evaluations in a row without one, each lr becomes
    ``max(lr * factor, min_lr)`` (unless that changes it by ``eps`` or less), and the next
    ``cooldown`` evaluations count no bad ones. A NaN metric never improves. The schedule reads
    and writes the groups' current lrs, so it does not combine with the closed-form ones
    (``SequentialLR`` refuses it; it is an ``LRScheduler``, as PyTorch's, but has no
    ``lr_at``).
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
        self._last_lr = [float(g["lr"]) for g in optimizer.param_groups]

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

    def step(self, metrics: Any) -> None:
        """Record one evaluation's metric (a number, or a one-element tensor or array)."""
        if isinstance(metrics, numbers.Real):
            current = float(metrics)
        else:
            host = np.asarray(host_array(metrics))
            if host.size != 1:
                raise ValueError(f"ReduceLROnPlateau.step: the metric must be one number, got "
                                 f"shape {host.shape}")
            current = float(host.reshape(()))
        self.last_epoch += 1
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
                    group["lr"] = new
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0
        self._last_lr = [float(g["lr"]) for g in self.optimizer.param_groups]

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


# optim.lr_scheduler, PyTorch's home of the schedules: ``optim.lr_scheduler.StepLR`` and
# ``from tinygrad_rnn.optim.lr_scheduler import StepLR`` work as with ``torch.optim``
lr_scheduler = types.ModuleType(__name__ + ".lr_scheduler",
                                "The learning-rate schedules, as ``torch.optim.lr_scheduler``.")
for _cls in (LRScheduler, StepLR, MultiStepLR, ExponentialLR, CosineAnnealingLR, LambdaLR,
             LinearLR, LinearWarmup, SequentialLR, ReduceLROnPlateau):
    setattr(lr_scheduler, _cls.__name__, _cls)
sys.modules[lr_scheduler.__name__] = lr_scheduler
