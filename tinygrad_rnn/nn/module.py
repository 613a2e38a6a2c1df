"""``Module`` and ``Parameter``: named, ordered parameters, nested modules, train/eval, devices,
and ``state_dict`` / ``load_state_dict`` that exchange plain NumPy arrays (so PyTorch weights
load with ``{k: v.numpy() for k, v in torch_module.state_dict().items()}``)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, NamedTuple

import numpy as np

from ..backend import get_device
from ..tensor import (
    DTypeLike,
    Tensor,
    _check_requires_grad,
    _device_or_dtype,
    resolve_dtype,
    tensor,
)


class Parameter(Tensor):
    """A tensor that a ``Module`` owns and trains: a leaf that requires grad by default."""

    def __init__(self, data: Any, requires_grad: bool = True) -> None:
        t = data if isinstance(data, Tensor) else tensor(data)
        self.data, self._dev, self.grad, self._ctx, self._out = t.data, t._dev, None, None, 0
        if requires_grad:
            _check_requires_grad(t.dtype)
        self.requires_grad = requires_grad

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()


class LoadResult(NamedTuple):
    missing_keys: list[str]
    unexpected_keys: list[str]


def param_dtype(dtype: DTypeLike, where: str) -> np.dtype:
    """The dtype for a module's parameters: float32 by default, else a floating-point one
    (checked before anything is made, so a refused layer draws no random numbers)."""
    dt = np.dtype(np.float32) if dtype is None else resolve_dtype(dtype)
    if dt.kind != "f":
        raise TypeError(f"{where}: parameters are trained, so their dtype must be a "
                        f"floating-point one, got {dt}")
    return dt


class Module:
    """Base class of layers. Assigning a ``Parameter`` or a ``Module`` to an attribute
    registers it, in assignment order, which fixes the order of ``parameters()``."""

    training: bool

    def __init__(self) -> None:
        object.__setattr__(self, "_parameters", {})
        object.__setattr__(self, "_modules", {})
        object.__setattr__(self, "training", True)

    def __setattr__(self, name: str, value: Any) -> None:
        params = self.__dict__.get("_parameters")
        if params is None:
            raise AttributeError("call Module.__init__() before assigning attributes")
        if isinstance(value, Parameter):
            self._modules.pop(name, None)
            self.__dict__.pop(name, None)  # a plain attribute of that name would hide it
            params[name] = value
        elif isinstance(value, Module):
            params.pop(name, None)
            self.__dict__.pop(name, None)
            self._modules[name] = value
        elif name in params:
            if value is not None:
                raise TypeError(f"cannot assign {type(value).__name__} to parameter {name!r}: "
                                "use a Parameter (or None)")
            params[name] = None
        else:
            object.__setattr__(self, name, value)

    def __getattr__(self, name: str) -> Any:
        d = self.__dict__
        if name in d.get("_parameters", {}):
            return d["_parameters"][name]
        if name in d.get("_modules", {}):
            return d["_modules"][name]
        raise AttributeError(f"{type(self).__name__!r} has no attribute {name!r}")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.forward(*args, **kwargs)

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError

    # ---- walking the tree ----------------------------------------------------------------
    def named_modules(self, prefix: str = "") -> Iterator[tuple[str, Module]]:
        """(name, module) pairs, this module first, each shared module once; an explicit
        stack, so deep nesting cannot exhaust Python's recursion limit."""
        seen: set[int] = set()
        stack = [(prefix, self)]
        while stack:
            name, m = stack.pop()
            if id(m) in seen:
                continue
            seen.add(id(m))
            yield name, m
            children = [(f"{name}.{k}" if name else k, c) for k, c in m._modules.items()]
            stack.extend(reversed(children))

    def modules(self) -> Iterator[Module]:
        for _, m in self.named_modules():
            yield m

    def children(self) -> Iterator[Module]:
        for _, m in self.named_children():
            yield m

    def named_children(self) -> Iterator[tuple[str, Module]]:
        """(name, module) of the direct submodules, each once (a module registered twice comes
        under its first name), as PyTorch."""
        seen: set[int] = set()
        for name, m in self._modules.items():
            if id(m) not in seen:
                seen.add(id(m))
                yield name, m

    def apply(self, fn: Any) -> Module:
        """Call ``fn(m)`` on every submodule, children before their parent, then on this one
        (as PyTorch; e.g. ``model.apply(init_weights)``). Returns this module."""
        for m in self.children():
            m.apply(fn)
        fn(self)
        return self

    def named_parameters(self, prefix: str = "", recurse: bool = True
                         ) -> Iterator[tuple[str, Parameter]]:
        """(name, parameter) pairs in a fixed order: this module's, then each child's (only
        this module's without ``recurse``). A parameter shared by several modules (tied
        weights) comes once, under its first name."""
        seen: set[int] = set()
        mods = self.named_modules(prefix) if recurse else iter([(prefix, self)])
        for mod_name, m in mods:
            for name, p in m._parameters.items():
                if p is not None and id(p) not in seen:
                    seen.add(id(p))
                    yield (f"{mod_name}.{name}" if mod_name else name), p

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    # ---- modes, devices, gradients --------------------------------------------------------
    def train(self, mode: bool = True) -> Module:
        for m in self.modules():
            object.__setattr__(m, "training", mode)
        return self

    def eval(self) -> Module:
        return self.train(False)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clear every parameter's gradient: to None (PyTorch's default), or to zeros."""
        for p in self.parameters():
            if set_to_none or p.grad is None:
                p.grad = None
            else:
                p.grad = Tensor._wrap(p._dev.xp.zeros_like(p.grad.data), p._dev)

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        """Set ``requires_grad`` on every parameter (``False`` freezes them). Returns self."""
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def float(self) -> Module:
        return self.to(dtype=np.float32)

    def double(self) -> Module:
        return self.to(dtype=np.float64)

    def cpu(self) -> Module:
        return self.to(device="cpu")

    def cuda(self) -> Module:
        return self.to(device="cuda")

    def to(self, device: str | None = None, dtype: DTypeLike = None) -> Module:
        """Move (and/or cast) every parameter and its gradient in place: the Parameter objects
        stay the same, so an optimizer built before keeps working. ``m.to(np.float64)``: a
        dtype alone, as in PyTorch."""
        device, dtype = _device_or_dtype(device, dtype)
        dev = get_device(device) if device is not None else None
        dt = param_dtype(dtype, "Module.to") if dtype is not None else None
        for p in self.parameters():
            q = tensor(p, dtype=dt, device=dev.name if dev else None)
            g = None if p.grad is None else tensor(p.grad, dtype=dt, device=q.device)
            p.data, p._dev, p.grad = q.data, q._dev, g
        for m in self.modules():  # layers that remember where to (re)initialise
            if dev is not None and "_device" in m.__dict__:
                object.__setattr__(m, "_device", dev.name)
            if dt is not None and "_dtype" in m.__dict__:
                object.__setattr__(m, "_dtype", dt)
        return self

    def _init_parameter(self, name: str, host: np.ndarray) -> Parameter:
        """Set parameter ``name`` to the host values ``host``, cast to the module's dtype and
        moved to its device (``_dtype``, ``_device``, which ``to`` keeps current). A parameter
        of that shape already there is written in place: the object stays, so an optimizer
        built before keeps training it (as with PyTorch's ``reset_parameters``)."""
        dev = get_device(self.__dict__.get("_device", "cpu"))
        data = dev.to_device(host.astype(self.__dict__.get("_dtype", np.float32)))
        old = self._parameters.get(name)
        if old is not None and old.shape == data.shape:
            old.data, old._dev = data, dev
            return old
        setattr(self, name, Parameter(Tensor._wrap(data, dev)))
        return self._parameters[name]

    # ---- state ---------------------------------------------------------------------------
    def _state_names(self) -> list[tuple[str, Parameter]]:
        """(dotted name, parameter) for ``state_dict``: as PyTorch's, a parameter or module
        that is shared (tied weights) appears under each of its names."""
        out, stack = [], [("", self, frozenset())]
        while stack:
            name, m, above = stack.pop()
            out += [(f"{name}.{k}" if name else k, p) for k, p in m._parameters.items()
                    if p is not None]
            inside = above | {id(m)}  # a module inside itself would never end: skip that
            stack.extend(reversed([(f"{name}.{k}" if name else k, c, inside)
                                   for k, c in m._modules.items() if id(c) not in inside]))
        return out

    def state_dict(self) -> dict[str, np.ndarray]:
        """Every parameter as a host NumPy copy, under its dotted name (a shared one under
        each of its names, as in PyTorch, so the dict loads there and back)."""
        return {name: p.numpy() for name, p in self._state_names()}

    def load_state_dict(self, state: Mapping[str, Any], strict: bool = True) -> LoadResult:
        """Copy values into the parameters (cast to each one's dtype and device). A shared
        parameter takes the value under its last name given.

        Everything is checked before anything is written: a mis-shaped value is always an error;
        with ``strict`` so are missing and unexpected names. Values may be NumPy arrays, Tensors,
        or anything ``numpy.asarray`` takes (such as a CPU torch tensor).
        """
        if not isinstance(state, Mapping):
            raise TypeError(f"load_state_dict expects a dict of name -> array, as state_dict() "
                            f"gives, got {type(state).__name__}")
        bad = [k for k in state if not isinstance(k, str)]
        if bad:
            raise TypeError(f"load_state_dict: the keys must be parameter names (str), got "
                            f"{bad[:3]!r}")
        own = dict(self._state_names())
        given = {id(own[k]) for k in state if k in own}
        # a shared parameter is loaded if any of its names is given (older checkpoints hold
        # one name only)
        missing = [k for k in own if k not in state and id(own[k]) not in given]
        unexpected = [k for k in state if k not in own]
        problems = []
        if strict and missing:
            problems.append(f"missing keys: {', '.join(missing)}")
        if strict and unexpected:
            problems.append(f"unexpected keys: {', '.join(unexpected)}")
        staged = {}
        for k, p in own.items():
            if k not in state:
                continue
            v = state[k]
            try:
                host = v.numpy() if isinstance(v, Tensor) else np.asarray(v)
            except (TypeError, ValueError) as e:  # e.g. ragged nested lists
                problems.append(f"{k}: not an array ({e})")
                continue
            if tuple(host.shape) != p.shape:
                problems.append(f"{k}: expected shape {p.shape}, got {tuple(host.shape)}")
            elif host.dtype.kind not in "biuf":
                problems.append(f"{k}: expected real numbers, got dtype {host.dtype}")
            else:  # cast now, so that nothing can fail while writing
                staged[k] = np.array(host, dtype=p.dtype)
        if problems:
            raise RuntimeError(
                f"load_state_dict into {type(self).__name__} failed, nothing was loaded: "
                + "; ".join(problems)
            )
        for k, host in staged.items():
            p = own[k]
            p.data = p._dev.to_device(host)
        return LoadResult(missing, unexpected)

    # ---- printing ------------------------------------------------------------------------
    def extra_repr(self) -> str:
        return ""

    def __repr__(self) -> str:
        lines = [f"  ({n}): " + repr(m).replace("\n", "\n  ") for n, m in self._modules.items()]
        head = f"{type(self).__name__}({self.extra_repr()}"
        return head + ("\n" + "\n".join(lines) + "\n)" if lines else ")")


class ModuleList(Module):
    """A list of modules, registered as ``0``, ``1``, ... ."""

    def __init__(self, modules: Any = ()) -> None:
        super().__init__()
        for m in modules:
            self.append(m)

    def append(self, module: Module) -> ModuleList:
        setattr(self, str(len(self._modules)), module)
        return self

    def __getitem__(self, i: int) -> Module:
        return list(self._modules.values())[i]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())


class ModuleDict(Module):
    """A dict of modules, registered under their keys (in insertion order)."""

    def __init__(self, modules: Mapping[str, Module] | None = None) -> None:
        super().__init__()
        for k, m in (modules or {}).items():
            self[k] = m

    def __setitem__(self, key: str, module: Module) -> None:
        if not isinstance(key, str) or not key or "." in key:
            raise ValueError(f"ModuleDict keys are non-empty strings without '.', got {key!r}")
        setattr(self, key, module)

    def __getitem__(self, key: str) -> Module:
        return self._modules[key]

    def __contains__(self, key: object) -> bool:
        return key in self._modules

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[str]:
        return iter(self._modules)

    def keys(self) -> Any:
        return self._modules.keys()

    def values(self) -> Any:
        return self._modules.values()

    def items(self) -> Any:
        return self._modules.items()
