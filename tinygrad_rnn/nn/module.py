"""``Module`` and ``Parameter``: named, ordered parameters and buffers, nested modules,
train/eval, devices, and ``state_dict`` / ``load_state_dict`` (tensors that share the module's
values, as PyTorch's; PyTorch's ``torch_module.state_dict()`` loads as it is, and ours loads
into PyTorch with ``{k: torch.from_numpy(v.numpy()) for k, v in ...}``); the containers
``ModuleList`` and ``ModuleDict``."""

from __future__ import annotations

import operator
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, NamedTuple, TypeVar

import numpy as np

from .. import profiler as _profiler
from ..autograd import _HOOKS, is_grad_enabled
from ..backend import get_device
from ..tensor import (
    DTypeError,
    DTypeLike,
    Function,
    RemovableHandle,
    Tensor,
    _check_requires_grad,
    _device_or_dtype,
    _forget_views,
    _memory_order,
    _pass_on,
    _set_values,
    default_dtype,
    host_array,
    resolve_dtype,
    tensor,
)


class Parameter(Tensor):
    """A tensor that a ``Module`` owns and trains: a leaf that requires grad by default."""

    def __init__(self, data: Any, requires_grad: bool = True) -> None:
        t = data if isinstance(data, Tensor) else tensor(data)
        self._data, self._dev, self.grad, self._ctx, self._out = t._data, t._dev, None, None, 0
        self._base = self._views = None
        if requires_grad:
            _check_requires_grad(t.dtype)
        self.requires_grad = requires_grad

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()


class UninitializedParameter(Parameter):
    """A parameter whose shape is not known yet, as PyTorch's: a lazy module's (``LazyLinear``)
    before its first forward. It holds no values (an empty array of its dtype, on its
    device); ``materialize(shape)`` gives it zeros of that shape and makes it a plain
    ``Parameter``, the same object, so an optimizer made before keeps training it. A state
    dict holds it as it is."""

    cls_to_become = Parameter

    def __init__(self, requires_grad: bool = True, device: str | None = None,
                 dtype: DTypeLike = None) -> None:
        dev = get_device(device or "cpu")
        dt = default_dtype() if dtype is None else resolve_dtype(dtype)
        super().__init__(Tensor._wrap(dev.xp.zeros((0,), dtype=dt), dev), requires_grad)

    def materialize(self, shape: Any, device: str | None = None, dtype: DTypeLike = None
                    ) -> None:
        """Zeros of ``shape`` (an int or a tuple), on ``device`` with ``dtype`` (its own
        unless given); from now on a ``Parameter``."""
        shape = (int(shape),) if isinstance(shape, (int, np.integer)) else \
            tuple(int(n) for n in shape)
        dev = get_device(device) if device is not None else self._dev
        dt = self.dtype if dtype is None else resolve_dtype(dtype)
        self._data, self._dev = dev.xp.zeros(shape, dtype=dt), dev
        self.__class__ = self.cls_to_become

    def __repr__(self) -> str:
        return "<UninitializedParameter>"


class Buffer(Tensor):
    """A tensor that registers itself as a buffer when assigned to a module's attribute, as
    ``torch.nn.Buffer``: ``module.stats = nn.Buffer(t, persistent=False)`` is
    ``module.register_buffer("stats", ..., persistent=False)``. It shares ``data``'s values
    (an empty float tensor without it) and keeps its ``requires_grad``; ``persistent`` says
    whether ``state_dict()`` holds it."""

    def __init__(self, data: Any = None, *, persistent: bool = True) -> None:
        t = tensor(np.zeros(0, dtype=default_dtype())) if data is None else \
            data if isinstance(data, Tensor) else tensor(data)
        self._data, self._dev, self.grad, self._ctx, self._out = t._data, t._dev, None, None, 0
        self._base = self._views = None
        self.requires_grad = t.requires_grad
        self.persistent = bool(persistent)


class LoadResult(NamedTuple):
    missing_keys: list[str]
    unexpected_keys: list[str]


_EXTRA_STATE = "_extra_state"  # a module's extra state's name in state_dict, as PyTorch's


class _ExtraState:
    """The ``state_dict`` entry of a module's extra state: what its ``get_extra_state``
    returns, which its ``set_extra_state`` takes back."""

    __slots__ = ("module",)

    def __init__(self, module: Module) -> None:
        self.module = module


def param_dtype(dtype: DTypeLike, where: str) -> np.dtype:
    """The dtype for a module's parameters: the default one (float32) unless given, which must
    be floating-point (checked before anything is made, so a refused layer draws no random
    numbers)."""
    dt = default_dtype() if dtype is None else resolve_dtype(dtype)
    if dt.kind != "f":
        raise DTypeError(f"{where}: parameters are trained, so their dtype must be a "
                         f"floating-point one, got {dt}")
    return dt


def _index(idx: Any, n: int) -> int:
    """``idx`` as a position in ``range(n)``: an integer, negative counting from the end."""
    i = operator.index(idx)
    if not -n <= i < n:
        raise IndexError(f"index {i} is out of range")
    return i % n


class Module:
    """Base class of layers. Assigning a ``Parameter`` or a ``Module`` to an attribute
    registers it, in assignment order, which fixes the order of ``parameters()``; tensors
    that are state but not trained (running statistics, masks) are registered with
    ``register_buffer``. As in PyTorch, a registered name keeps its kind: it takes another
    value of that kind or None (which unregisters the value but keeps the name), and
    ``del m.name`` removes it."""

    training: bool

    def __init__(self) -> None:
        object.__setattr__(self, "_parameters", {})
        object.__setattr__(self, "_buffers", {})
        object.__setattr__(self, "_non_persistent_buffers_set", set())
        object.__setattr__(self, "_modules", {})
        object.__setattr__(self, "training", True)

    def __setstate__(self, state: dict[str, Any]) -> None:
        # a module pickled before buffers existed unpickles with none
        self.__dict__.update(state)
        self.__dict__.setdefault("_buffers", {})
        self.__dict__.setdefault("_non_persistent_buffers_set", set())

    def _forget(self, name: str, keep: dict[str, Any] | None = None) -> None:
        """Drop ``name`` from wherever it is registered, and any plain attribute of that name
        (it would hide the registered value); not from ``keep``, where a new value replaces
        the old one in its place (so the order of ``parameters()`` stays)."""
        for table in (self._parameters, self._buffers, self._modules, self.__dict__):
            if table is not keep:
                table.pop(name, None)
        self._non_persistent_buffers_set.discard(name)

    def __setattr__(self, name: str, value: Any) -> None:
        if "_parameters" not in self.__dict__:
            raise AttributeError("call Module.__init__() before assigning attributes")
        # the same order of checks as PyTorch's, so the same assignments are refused
        if isinstance(value, Parameter):
            if isinstance(getattr(type(self), name, None), property):  # a parametrized one
                raise KeyError(f"attribute {name!r} already exists: it is computed by "
                               f"parametrizations.{name}; assign a tensor to set its value, or "
                               "remove the parametrization first")
            self._check_name(name, "parameter", self._parameters, owner=type(self))
            self._forget(name, keep=self._parameters)
            self._parameters[name] = value
        elif name in self._parameters:
            if value is not None:
                raise TypeError(f"cannot assign {type(value).__name__!r} as parameter {name!r} "
                                "(nn.Parameter or None expected)")
            self._parameters[name] = None
        elif isinstance(value, Module):
            self._forget(name, keep=self._modules)
            self._modules[name] = value
        elif name in self._modules:
            if value is not None:
                raise TypeError(f"cannot assign {type(value).__name__!r} as child module "
                                f"{name!r} (nn.Module or None expected)")
            self._modules[name] = None
        elif isinstance(value, Buffer):
            self.register_buffer(name, value, value.persistent)
        elif name in self._buffers:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"cannot assign {type(value).__name__!r} as buffer {name!r} "
                                "(Tensor or None expected)")
            self._buffers[name] = value
        else:
            object.__setattr__(self, name, value)

    def __getattr__(self, name: str) -> Any:
        d = self.__dict__
        for table in ("_parameters", "_buffers", "_modules"):
            if name in d.get(table, {}):
                return d[table][name]
        raise AttributeError(f"{type(self).__name__!r} has no attribute {name!r}")

    def __delattr__(self, name: str) -> None:
        if name in self._parameters or name in self._buffers or name in self._modules:
            self._forget(name)
        else:
            object.__delattr__(self, name)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if _HOOKS.active and _profiler._ACTIVE:  # profile(with_modules=True): an event
            with _profiler._event(f"nn.Module: {type(self).__name__}", "python_function"):
                if "_forward_hooks" not in self.__dict__:
                    return self.forward(*args, **kwargs)
                return self._call_with_hooks(args, kwargs)
        if "_forward_hooks" not in self.__dict__:  # the common case: no hooks ever registered
            return self.forward(*args, **kwargs)
        return self._call_with_hooks(args, kwargs)

    def _call_with_hooks(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        """``forward`` with the hooks, in PyTorch's order: forward pre-hooks, the inputs
        marked for the backward hooks, forward, forward hooks, the outputs marked."""
        d = self.__dict__
        for h in list(d["_forward_pre_hooks"]):
            if h.with_kwargs:
                new = h.fn(self, args, kwargs)
                if new is not None:
                    if not (isinstance(new, tuple) and len(new) == 2):
                        raise RuntimeError("a forward pre-hook with with_kwargs=True must "
                                           "return None or (args, kwargs), got "
                                           f"{type(new).__name__}")
                    args, kwargs = new
            else:
                new = h.fn(self, args)
                if new is not None:
                    args = new if isinstance(new, tuple) else (new,)
        point = _BackwardHooks(self) if (d["_backward_hooks"] or d["_backward_pre_hooks"]) \
            and is_grad_enabled() else None
        if point is not None:
            args = point.mark_inputs(args)
        try:
            out = self.forward(*args, **kwargs)
        except BaseException:
            for h in list(d["_forward_hooks"]):  # always_call: even when forward raised
                if h.always_call:
                    (h.fn(self, args, kwargs, None) if h.with_kwargs else h.fn(self, args, None))
            raise
        for h in list(d["_forward_hooks"]):
            new = h.fn(self, args, kwargs, out) if h.with_kwargs else h.fn(self, args, out)
            if new is not None:
                out = new
        return point.mark_outputs(out) if point is not None else out

    def _hook_lists(self) -> dict[str, list[Any]]:
        d = self.__dict__
        if "_forward_hooks" not in d:
            for name in ("_forward_pre_hooks", "_forward_hooks", "_backward_pre_hooks",
                         "_backward_hooks"):
                object.__setattr__(self, name, [])
        return d

    def _add_hook(self, kind: str, hook: Any, prepend: bool, **flags: bool) -> RemovableHandle:
        if not callable(hook):
            raise TypeError(f"a hook must be callable, got {type(hook).__name__}")
        hooks = self._hook_lists()[kind]
        entry = _Hook(hook, **flags)
        hooks.insert(0, entry) if prepend else hooks.append(entry)
        return RemovableHandle(hooks, entry)

    def register_forward_pre_hook(self, hook: Any, *, prepend: bool = False,
                                  with_kwargs: bool = False) -> RemovableHandle:
        """Call ``hook(module, args)`` before each ``forward``; a result other than None
        replaces the positional arguments (a tuple, or one value). With ``with_kwargs``,
        ``hook(module, args, kwargs)``, which may return (args, kwargs). ``prepend`` runs it
        before the hooks already there. Returns a handle whose ``remove()`` takes the hook
        off, as PyTorch's."""
        return self._add_hook("_forward_pre_hooks", hook, prepend, with_kwargs=with_kwargs)

    def register_forward_hook(self, hook: Any, *, prepend: bool = False,
                              with_kwargs: bool = False, always_call: bool = False
                              ) -> RemovableHandle:
        """Call ``hook(module, args, output)`` after each ``forward`` (to record activations,
        say); a result other than None replaces the output. With ``with_kwargs``,
        ``hook(module, args, kwargs, output)``; with ``always_call``, also when ``forward``
        raises (output None). Returns a removable handle."""
        return self._add_hook("_forward_hooks", hook, prepend, with_kwargs=with_kwargs,
                              always_call=always_call)

    def register_full_backward_pre_hook(self, hook: Any, prepend: bool = False
                                        ) -> RemovableHandle:
        """Call ``hook(module, grad_output)`` when the gradients of this call's outputs are
        known, before those of its inputs: a tuple with one entry per output (the top-level
        ones: None for one that is not a tensor, such as an LSTM's (h, c), or that no
        gradient reached). A result other than None replaces ``grad_output``. (Watch backprop
        pass through a layer, as PyTorch's.)"""
        return self._add_hook("_backward_pre_hooks", hook, prepend)

    def register_full_backward_hook(self, hook: Any, prepend: bool = False
                                    ) -> RemovableHandle:
        """Call ``hook(module, grad_input, grad_output)`` when the gradients of this call's
        inputs are known: ``grad_input`` has one entry per positional argument (None for one
        that is not a tensor; zeros for a tensor that needs no gradient, None for all of them
        where none does), ``grad_output`` as the pre-hook's. A result
        other than None replaces ``grad_input``, as PyTorch's. The inputs and outputs pass
        through an identity op each call (a copy) while such a hook is registered."""
        return self._add_hook("_backward_hooks", hook, prepend)

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError

    # ---- registering ---------------------------------------------------------------------
    def _check_name(self, name: Any, kind: str, table: dict[str, Any], owner: Any = None
                    ) -> None:
        """PyTorch's rules for a name to register: a string, not an attribute of another kind
        (of ``owner``'s: the class's alone where an assignment replaces the instance's own),
        without '.' (dotted names are paths) and not empty."""
        if not isinstance(name, str):
            raise TypeError(f"{kind} name should be a string, got {type(name).__name__}")
        if hasattr(self if owner is None else owner, name) and name not in table:
            raise KeyError(f"attribute {name!r} already exists")
        if "." in name:
            raise KeyError(f"{kind} name can't contain '.', got {name!r}")
        if not name:
            raise KeyError(f"{kind} name can't be empty")

    def _check_child(self, name: Any, module: Any) -> None:
        _check_module(module)
        self._check_name(name, "module", self._modules)

    def add_module(self, name: str, module: Module | None) -> None:
        """Register ``module`` as the child ``name`` (as ``self.name = module`` does, but
        refusing a name that is already another attribute). None keeps the name, empty."""
        self._check_child(name, module)
        self._modules[name] = module

    def register_module(self, name: str, module: Module | None) -> None:
        """The same as ``add_module``."""
        self.add_module(name, module)

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Register ``param`` under ``name`` (None keeps the name, empty, as a removed bias)."""
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"cannot assign {type(param).__name__!r} object to parameter "
                            f"{name!r} (nn.Parameter or None required)")
        self._check_name(name, "parameter", self._parameters)
        self._parameters[name] = param

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True
                        ) -> None:
        """Register ``tensor`` as state that is not trained: it is never in ``parameters()``,
        ``to()`` moves it (and casts it if it is floating-point), and if ``persistent`` it is
        in ``state_dict()``. ``self.name = t`` replaces it later."""
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"cannot assign {type(tensor).__name__!r} object to buffer "
                            f"{name!r} (Tensor or None required)")
        self._check_name(name, "buffer", self._buffers)
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent_buffers_set.discard(name)
        else:
            self._non_persistent_buffers_set.add(name)

    def get_submodule(self, target: str) -> Module:
        """The submodule at the dotted path ``target`` (``""``: this module)."""
        if target == "":
            return self
        mod: Module = self
        for item in target.split("."):
            if not hasattr(mod, item):
                raise AttributeError(f"{type(mod).__name__} has no attribute `{item}`")
            mod = getattr(mod, item)
            if not isinstance(mod, Module):
                raise AttributeError(f"`{item}` is not an nn.Module")
        return mod

    def set_submodule(self, target: str, module: Module, strict: bool = False) -> None:
        """Put ``module`` at the dotted path ``target``, as PyTorch's: the modules on the way
        must exist; with ``strict`` so must the last one (it is replaced, not added)."""
        if target == "":
            raise ValueError("set_submodule: cannot set the module itself (target is '')")
        if not isinstance(module, Module):
            raise ValueError(f"set_submodule: `{module}` is not an nn.Module")
        *path, name = target.split(".")
        parent = self.get_submodule(".".join(path))
        if strict and not hasattr(parent, name):
            raise AttributeError(f"{type(parent).__name__} has no attribute `{name}`")
        if hasattr(parent, name) and not isinstance(getattr(parent, name), Module):
            raise AttributeError(f"`{name}` is not an nn.Module")
        setattr(parent, name, module)

    def get_parameter(self, target: str) -> Parameter:
        """The parameter at the dotted path ``target`` (``"encoder.weight_ih_l0"``), as
        PyTorch's; an AttributeError naming what is missing or not a parameter."""
        return self._get_entry(target, "_parameters", "an nn.Parameter")

    def get_buffer(self, target: str) -> Tensor:
        """The buffer at the dotted path ``target`` (``"bn.running_mean"``), as PyTorch's."""
        return self._get_entry(target, "_buffers", "a buffer")

    def _get_entry(self, target: str, table: str, what: str) -> Any:
        """The entry of the submodule's ``table`` at the dotted path ``target``, with
        PyTorch's errors for a name missing or of another kind (``what`` it is not)."""
        *path, name = target.split(".")
        mod = self.get_submodule(".".join(path))
        if not hasattr(mod, name):
            raise AttributeError(f"{type(mod).__name__} has no attribute `{name}`")
        if name not in getattr(mod, table):
            raise AttributeError(f"`{name}` is not {what}")
        return getattr(mod, name)

    # ---- walking the tree ----------------------------------------------------------------
    def named_modules(self, memo: set[Module] | None = None, prefix: str = "",
                      remove_duplicate: bool = True) -> Iterator[tuple[str, Module]]:
        """(name, module) pairs, this module first, each shared module once (every time it
        is reached with ``remove_duplicate=False``); ``memo`` holds modules to skip, and is
        filled as PyTorch's is. An explicit stack, so deep nesting cannot exhaust Python's
        recursion limit."""
        seen = set() if memo is None else memo
        stack = [(prefix, self)]
        while stack:
            name, m = stack.pop()
            if m in seen:
                continue
            if remove_duplicate:
                seen.add(m)
            yield name, m
            children = [(f"{name}.{k}" if name else k, c) for k, c in m._modules.items()
                        if c is not None]
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
            if m is not None and id(m) not in seen:
                seen.add(id(m))
                yield name, m

    def apply(self, fn: Any) -> Module:
        """Call ``fn(m)`` on every submodule, children before their parent, then on this one
        (as PyTorch; e.g. ``model.apply(init_weights)``). Returns this module."""
        for m in self.children():
            m.apply(fn)
        fn(self)
        return self

    def _named_members(self, table: str, prefix: str, recurse: bool, remove_duplicate: bool
                       ) -> Iterator[tuple[str, Any]]:
        """(dotted name, value) of each module's ``table`` (``_parameters`` or ``_buffers``),
        None values skipped and a value shared by several names once, under its first
        (under each with ``remove_duplicate=False``)."""
        seen: set[int] = set()
        mods = (self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate)
                if recurse else iter([(prefix, self)]))
        for mod_name, m in mods:
            for name, v in m.__dict__[table].items():
                if v is not None and id(v) not in seen:
                    if remove_duplicate:
                        seen.add(id(v))
                    yield (f"{mod_name}.{name}" if mod_name else name), v

    def named_parameters(self, prefix: str = "", recurse: bool = True,
                         remove_duplicate: bool = True) -> Iterator[tuple[str, Parameter]]:
        """(name, parameter) pairs in a fixed order: this module's, then each child's (only
        this module's without ``recurse``). A parameter shared by several modules (tied
        weights) comes once, under its first name (under each with
        ``remove_duplicate=False``)."""
        return self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix: str = "", recurse: bool = True,
                      remove_duplicate: bool = True) -> Iterator[tuple[str, Tensor]]:
        """(name, buffer) pairs, persistent or not, in the order of ``named_parameters``."""
        return self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    # ---- modes, devices, gradients --------------------------------------------------------
    def train(self, mode: bool = True) -> Module:
        """Set training mode (``mode=False``: evaluation mode) here and in every submodule."""
        if not isinstance(mode, bool):  # train("eval") would otherwise mean train(True)
            raise ValueError("training mode is expected to be boolean")
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
            elif p.grad.is_sparse:  # no entries left, as PyTorch's zero_()
                p.grad.zero_()
            else:
                _set_values(p.grad, p._dev.xp.zeros_like(p.grad._data), "zero_grad")

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        """Set ``requires_grad`` on every parameter (``False`` freezes them). Returns self."""
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def float(self) -> Module:
        return self.to(dtype=np.float32)

    def double(self) -> Module:
        return self.to(dtype=np.float64)

    def half(self) -> Module:
        """float16 parameters and floating buffers, as PyTorch's (NumPy's half precision:
        slow on the CPU)."""
        return self.to(dtype=np.float16)

    def cpu(self) -> Module:
        return self.to(device="cpu")

    def type(self, dst_type: DTypeLike) -> Module:
        """Every parameter and buffer cast to ``dst_type``, integer buffers too (a
        BatchNorm's count becomes a float), as PyTorch's; ``to(dtype)`` leaves those."""
        dt = param_dtype(dst_type, "Module.type")
        self.to(dtype=dt)
        cast: dict[int, Tensor] = {}  # a buffer shared by several modules stays shared
        for m in self.modules():
            for k, b in m._buffers.items():
                if b is not None and b.dtype != dt:
                    if id(b) not in cast:
                        cast[id(b)] = tensor(b, dtype=dt, device=b._dev.name,
                                             requires_grad=b.requires_grad)
                    m._buffers[k] = cast[id(b)]
        return self

    def share_memory(self) -> Module:
        """PyTorch's ``share_memory``: changes nothing here (``Tensor.share_memory_`` does
        nothing: worker processes get copies)."""
        return self

    def to_empty(self, *, device: Any, recurse: bool = True) -> Module:
        """Every parameter and buffer moved to ``device`` without its values (uninitialised
        memory of its shape and dtype), as PyTorch's: for a model built to be loaded into.
        ``recurse=False``: this module's own only."""
        dev = get_device(device.type if hasattr(device, "type") else device)
        mods = self.modules() if recurse else [self]
        for m in mods:
            for p in m._parameters.values():
                if p is not None:
                    _forget_views(p)
                    p._data, p._dev, p.grad = dev.xp.empty(p.shape, p.dtype), dev, None
            for k, b in m._buffers.items():
                if b is not None:
                    m._buffers[k] = Tensor._wrap(dev.xp.empty(b.shape, b.dtype), dev)
        return self

    def cuda(self, device: int | str | None = None) -> Module:
        """Every parameter and buffer on the GPU (``device``: its index or name)."""
        return self.to(device="cuda" if device is None else
                       f"cuda:{device}" if isinstance(device, (int, np.integer)) else device)

    def to(self, device: Any = None, dtype: DTypeLike = None, non_blocking: bool = False, *,
           memory_format: Any = None) -> Module:
        """Move (and/or cast) every parameter and its gradient in place: the Parameter objects
        stay the same, so an optimizer built before keeps working. ``m.to(np.float64)``: a
        dtype alone, as in PyTorch. Buffers move too, and are cast if floating-point (an
        integer count stays one); as in PyTorch they are replaced by new tensors, except where
        nothing changes. ``m.to(tensor)`` takes the tensor's device and dtype (a floating
        one); ``non_blocking`` is taken and changes nothing, as ``Tensor.to``'s.
        ``memory_format`` (``tr.channels_last``) lays out the 4-D and 5-D parameters and
        buffers so, as PyTorch's (a rank the format does not fit is refused, as there)."""
        if isinstance(device, Tensor):
            device, dtype = device.device, device.dtype if device.dtype.kind == "f" else None
        device, dtype = _device_or_dtype(device, dtype)
        if memory_format is not None:  # checked on every tensor before anything changes
            for t in [*self.parameters(), *self.buffers()]:
                if t.ndim in (4, 5):
                    _memory_order("Module.to", memory_format, t.ndim)
        dev = get_device(device) if device is not None else None
        dt = param_dtype(dtype, "Module.to") if dtype is not None else None
        for p in self.parameters():
            q = tensor(p, dtype=dt, device=dev.name if dev else None)
            g = None if p.grad is None else p.grad.detach().to(q.device, dt or p.dtype) \
                if p.grad.is_sparse else tensor(p.grad, dtype=dt, device=q.device)
            if q._dev is not p._dev or q.dtype != p.dtype:
                _forget_views(p)  # views taken before keep their values, as PyTorch's
            p._data, p._dev, p.grad = q._data, q._dev, g
        moved: dict[int, Tensor] = {}  # a buffer shared by several modules stays shared
        for _, m in self.named_modules():
            for k, b in m._buffers.items():
                if b is None:
                    continue
                if id(b) not in moved:
                    b_dt = dt if dt is not None and b.dtype.kind == "f" else b.dtype
                    b_dev = dev if dev is not None else b._dev
                    moved[id(b)] = b if (b_dt, b_dev) == (b.dtype, b._dev) else tensor(
                        b, dtype=b_dt, device=b_dev.name, requires_grad=b.requires_grad)
                m._buffers[k] = moved[id(b)]
        if memory_format is not None:
            for t in [*self.parameters(), *self.buffers()]:
                if t.ndim in (4, 5):  # the same values, other strides
                    t._data = t.detach().contiguous(memory_format)._data
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
            if old._dev is not dev or old.dtype != data.dtype:
                _forget_views(old)
            old._data, old._dev = data, dev
            _pass_on(old, set())  # views taken from it see the new values
            return old
        setattr(self, name, Parameter(Tensor._wrap(data, dev)))
        return self._parameters[name]

    # ---- state ---------------------------------------------------------------------------
    def _own_state(self) -> list[tuple[str, Any]]:
        """This module's own ``state_dict`` entries, (local name, value): its parameters, its
        persistent buffers, then ``_ExtraState`` under "_extra_state" where its class defines
        ``get_extra_state`` (PyTorch's order)."""
        own: list[tuple[str, Any]] = [
            *((k, p) for k, p in self._parameters.items() if p is not None),
            *((k, b) for k, b in self._buffers.items()
              if b is not None and k not in self._non_persistent_buffers_set)]
        if type(self).get_extra_state is not Module.get_extra_state:
            own.append((_EXTRA_STATE, _ExtraState(self)))
        return own

    def _state_modules(self, prefix: str = "", above: frozenset[int] = frozenset()
                       ) -> Iterator[tuple[str, Module]]:
        """(prefix, module) for this module and each one under it, in ``state_dict``'s order
        (a module, then its children in turn); ``prefix`` "" or ending in ".". A module
        inside itself would never end: it is skipped there."""
        yield prefix, self
        inside = above | {id(self)}
        for k, c in self._modules.items():
            if c is not None and id(c) not in inside:
                yield from c._state_modules(f"{prefix}{k}.", inside)

    def _state_names(self, prefix: str = "") -> list[tuple[str, Any]]:
        """(dotted name, value) for ``state_dict``, in PyTorch's order. As in PyTorch, a
        parameter or module that is shared (tied weights) appears under each of its names."""
        return [(pre + k, v) for pre, m in self._state_modules(prefix) for k, v in m._own_state()]

    def state_dict(self, *, destination: dict[str, Any] | None = None, prefix: str = "",
                   keep_vars: bool = False) -> dict[str, Any]:
        """Every parameter and persistent buffer under its dotted name (a shared one under
        each of its names, as in PyTorch, so the dict loads there and back), each name after
        ``prefix`` (``"model."`` gives ``"model.0.weight"``).

        As PyTorch's: each value is the tensor detached, sharing its values (an in-place write
        into it, ``sd["w"].copy_(x)``, changes the module; ``copy.deepcopy`` or ``clone()``
        makes a snapshot); ``keep_vars=True`` gives the Parameters and buffers themselves;
        ``destination``, a dict, is filled and returned. A module whose class defines
        ``get_extra_state`` adds what it returns under ``<prefix>_extra_state``. The hooks of
        ``register_state_dict_pre_hook`` run before a module's entries are added, those of
        ``register_state_dict_post_hook`` after its children's. For PyTorch,
        ``{k: torch.from_numpy(v.numpy()) for k, v in sd.items()}``."""
        out = {} if destination is None else destination
        self._save_state(out, prefix, keep_vars, frozenset())
        return out

    def _save_state(self, out: dict[str, Any], prefix: str, keep_vars: bool,
                    above: frozenset[int]) -> None:
        d = self.__dict__
        for hook in list(d.get("_state_dict_pre_hooks", ())):
            hook(self, prefix, keep_vars)
        for k, v in self._own_state():  # (a lazy module's are kept, as PyTorch's)
            out[prefix + k] = v.module.get_extra_state() if isinstance(v, _ExtraState) else \
                v if keep_vars or isinstance(v, UninitializedParameter) else v.detach()
        inside = above | {id(self)}
        for k, c in self._modules.items():
            if c is not None and id(c) not in inside:
                c._save_state(out, f"{prefix}{k}.", keep_vars, inside)
        for hook in list(d.get("_state_dict_hooks", ())):
            if hook(self, out, prefix, {"version": getattr(type(self), "_version", 1)}) \
                    is not None:
                raise RuntimeError("state_dict post-hook must return None (it changes the "
                                   "state dict in place)")

    def register_state_dict_pre_hook(self, hook: Any) -> RemovableHandle:
        """Call ``hook(module, prefix, keep_vars)`` before ``state_dict`` adds this module's
        entries, as PyTorch's. Returns a handle whose ``remove()`` takes the hook off."""
        hooks = self.__dict__.setdefault("_state_dict_pre_hooks", [])
        hooks.append(hook)
        return RemovableHandle(hooks, hook)

    def register_state_dict_post_hook(self, hook: Any) -> RemovableHandle:
        """Call ``hook(module, state_dict, prefix, local_metadata)`` once ``state_dict`` has
        added this module's entries and its children's, as PyTorch's: the hook changes
        ``state_dict`` in place (renames, drops, adds entries) and returns None."""
        hooks = self.__dict__.setdefault("_state_dict_hooks", [])
        hooks.append(hook)
        return RemovableHandle(hooks, hook)

    def get_extra_state(self) -> Any:
        """Define this (and ``set_extra_state``) in a subclass to keep state that is not a
        tensor in ``state_dict``, under ``<prefix>_extra_state``, as PyTorch's: any object
        (picklable, to be saved with ``tr.save``)."""
        raise RuntimeError("get_extra_state is only called where a Module subclass defines "
                           "it; define get_extra_state and set_extra_state together")

    def set_extra_state(self, state: Any) -> None:
        """Define this in a subclass to take back what its ``get_extra_state`` returned:
        ``load_state_dict`` calls it with the ``<prefix>_extra_state`` entry."""
        raise RuntimeError("set_extra_state is only called where a Module subclass defines "
                           "it; define get_extra_state and set_extra_state together")

    def load_state_dict(self, state: Mapping[str, Any], strict: bool = True,
                        assign: bool = False) -> LoadResult:
        """Copy values into the parameters and persistent buffers (cast to each one's dtype and
        device). A shared tensor takes the value under its last name given.

        Everything is checked before anything is written: a mis-shaped value is always an error;
        with ``strict`` so are missing and unexpected names. Values may be NumPy arrays, Tensors,
        PyTorch tensors (``named_parameters()``'s too, on any device), or anything
        ``numpy.asarray`` takes.

        As PyTorch's: ``assign=True`` makes the given values the module's tensors instead of
        copying into them (their dtype and device kept; each parameter keeps its
        ``requires_grad``), so make the optimizer afterwards. A module
        whose class defines ``set_extra_state`` gets its ``<prefix>_extra_state`` entry. The
        hooks of ``register_load_state_dict_pre_hook`` run first; those of
        ``register_load_state_dict_post_hook`` after the values are written, with
        ``(module, result)``, and may clear names from ``result.missing_keys`` and
        ``result.unexpected_keys`` in place; if ``strict`` names are left, the tensors are put
        back as they were before the error (what ``set_extra_state`` or the hooks did stays).
        """
        if not isinstance(state, Mapping):
            raise TypeError(f"load_state_dict expects a dict of name -> array, as state_dict() "
                            f"gives, got {type(state).__name__}")
        bad = [k for k in state if not isinstance(k, str)]
        if bad:
            raise TypeError(f"load_state_dict: the keys must be parameter names (str), got "
                            f"{bad[:3]!r}")
        modules = list(self._state_modules())
        if any("_load_pre_hooks" in m.__dict__ for _, m in modules):
            state = self._through_load_pre_hooks(dict(state), strict)
        own = dict(self._state_names())
        shares = _key_shares(modules, own, state)
        missing = [k for pre, _ in modules for k in shares[pre][0]]
        unexpected = [k for pre, _ in modules for k in shares[pre][1]]
        post = any("_load_post_hooks" in m.__dict__ for _, m in modules)
        problems = []
        if strict and missing and not post:
            problems.append(f"missing keys: {', '.join(missing)}")
        if strict and unexpected and not post:
            problems.append(f"unexpected keys: {', '.join(unexpected)}")
        staged = {}
        for k, p in own.items():
            if k not in state:
                continue
            v = state[k]
            if isinstance(p, _ExtraState):
                staged[k] = v
                continue
            try:
                host = host_array(v)
            except (TypeError, ValueError) as e:  # e.g. ragged nested lists
                problems.append(f"{k}: not an array ({e})")
                continue
            if tuple(host.shape) != p.shape:
                problems.append(f"{k}: expected shape {p.shape}, got {tuple(host.shape)}")
            elif host.dtype.kind not in "biuf":
                problems.append(f"{k}: expected real numbers, got dtype {host.dtype}")
            elif assign and isinstance(p, Parameter) and p.requires_grad and \
                    host.dtype.kind != "f":
                problems.append(f"{k}: a parameter that requires grad must be floating-point, "
                                f"got dtype {host.dtype} (assign=True keeps the given dtype)")
            elif assign:  # the value itself becomes the module's tensor
                staged[k] = v if isinstance(v, Tensor) else tensor(host)
            else:  # cast now, so that nothing can fail while writing
                staged[k] = np.array(host, dtype=p.dtype)
        if problems:
            raise RuntimeError(
                f"load_state_dict into {type(self).__name__} failed, nothing was loaded: "
                + "; ".join(problems)
            )
        for k, v in staged.items():
            if isinstance(own[k], _ExtraState):
                own[k].module.set_extra_state(v)
        undo = [self._load_one(k, own[k], v, assign) for k, v in staged.items()
                if not isinstance(own[k], _ExtraState)]
        result = LoadResult(missing, unexpected)
        try:
            if post:  # as PyTorch's: the lists grow module by module, each module's hooks
                del missing[:], unexpected[:]  # called after those under it
                self._through_load_post_hooks(result, shares, "", frozenset())
            if strict and (missing or unexpected):
                names = [f"missing keys: {', '.join(missing)}"] if missing else []
                names += [f"unexpected keys: {', '.join(unexpected)}"] if unexpected else []
                raise RuntimeError(f"load_state_dict into {type(self).__name__} failed, the "
                                   f"tensors were put back as they were: {'; '.join(names)}")
        except BaseException:
            for step in reversed(undo):
                step()
            raise
        return result

    def _through_load_post_hooks(self, result: LoadResult,
                                 shares: dict[str, tuple[list[str], list[str]]], prefix: str,
                                 above: frozenset[int]) -> None:
        result.missing_keys.extend(shares[prefix][0])
        result.unexpected_keys.extend(shares[prefix][1])
        inside = above | {id(self)}
        for k, c in self._modules.items():
            if c is not None and id(c) not in inside:
                c._through_load_post_hooks(result, shares, f"{prefix}{k}.", inside)
        for hook in list(self.__dict__.get("_load_post_hooks", ())):
            if hook(self, result) is not None:
                raise RuntimeError("a load_state_dict post-hook must return None (it changes "
                                   "missing_keys and unexpected_keys in place)")

    def _load_one(self, name: str, p: Tensor, v: Any, assign: bool) -> Any:
        """Write ``v`` into the tensor ``p`` under the dotted ``name`` (``assign``: make the
        Tensor ``v`` the module's tensor there); returns what puts ``p`` back."""
        if assign:
            *path, leaf = name.split(".")
            owner = self.get_submodule(".".join(path))
            owner._set_loaded(leaf, v)
            return lambda: owner._set_loaded(leaf, p)
        old = p._data
        p._data = p._dev.to_device(v)
        _pass_on(p, set())  # views taken from p see the loaded values, as in PyTorch

        def put_back() -> None:
            p._data = old
            _pass_on(p, set())
        return put_back

    def _set_loaded(self, name: str, t: Tensor) -> None:
        """``load_state_dict(assign=True)``: ``t`` becomes the parameter or buffer ``name``
        (a parameter keeps its ``requires_grad``)."""
        if name in self._parameters:
            old = self._parameters[name]
            self._parameters[name] = t if isinstance(t, Parameter) and \
                t.requires_grad == old.requires_grad else Parameter(t, old.requires_grad)
        else:
            self._buffers[name] = t

    def register_load_state_dict_post_hook(self, hook: Any) -> RemovableHandle:
        """Call ``hook(module, incompatible_keys)`` after ``load_state_dict`` has written the
        values, as PyTorch's: ``incompatible_keys.missing_keys`` and ``.unexpected_keys`` are
        the lists ``load_state_dict`` returns, which the hook may change in place (clearing
        them lets a ``strict`` load pass). It must return None."""
        hooks = self.__dict__.setdefault("_load_post_hooks", [])
        hooks.append(hook)
        return RemovableHandle(hooks, hook)

    def register_load_state_dict_pre_hook(self, hook: Any) -> RemovableHandle:
        """Call ``hook(module, state_dict, prefix, local_metadata, strict, missing_keys,
        unexpected_keys, error_msgs)`` before ``load_state_dict`` reads anything, with the
        dotted ``prefix`` of this module's names, as PyTorch's: the hook may rename or convert
        entries of ``state_dict`` (a copy of the caller's), e.g. an older checkpoint's keys.
        Returns a handle whose ``remove()`` takes the hook off."""
        hooks = self.__dict__.setdefault("_load_pre_hooks", [])
        hooks.append(hook)
        return RemovableHandle(hooks, hook)

    def _register_load_state_dict_pre_hook(self, hook: Any, with_module: bool = False
                                           ) -> RemovableHandle:
        """PyTorch's older form: ``hook`` without the module unless ``with_module``."""
        return self.register_load_state_dict_pre_hook(
            hook if with_module else lambda module, *args: hook(*args))

    def _through_load_pre_hooks(self, state: dict[str, Any], strict: bool) -> dict[str, Any]:
        errors: list[str] = []  # a hook reports a problem by appending to error_msgs
        for name, m in self.named_modules():
            for hook in list(m.__dict__.get("_load_pre_hooks", ())):
                hook(m, state, f"{name}." if name else "", {}, strict, [], [], errors)
        if errors:
            raise RuntimeError(f"load_state_dict into {type(self).__name__} failed, nothing was "
                               "loaded: " + "; ".join(errors))
        return state

    # ---- printing ------------------------------------------------------------------------
    def extra_repr(self) -> str:
        return ""

    def __repr__(self) -> str:
        """PyTorch's layout: ``Name(extra)`` alone, else the extra lines and one line per
        child (``(name): repr``, None for an emptied one), indented."""
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        kids = [f"({n}): " + repr(m).replace("\n", "\n  ") for n, m in self._modules.items()]
        return _layout(type(self).__name__, extra_lines, kids)


def _key_shares(modules: list[tuple[str, Module]], own: dict[str, Any], state: Mapping[str, Any]
                ) -> dict[str, tuple[list[str], list[str]]]:
    """The missing and unexpected names of a load, by the prefix of the module they belong to
    (as PyTorch's: an unexpected name to the deepest module whose prefix it starts with). A
    shared tensor is not missing if any of its names is given (older checkpoints hold one)."""
    def ident(v: Any) -> int:  # one tensor, or one module's extra state, under many names
        return id(v.module) if isinstance(v, _ExtraState) else id(v)

    given = {ident(own[k]) for k in state if k in own}
    shares: dict[str, tuple[list[str], list[str]]] = {pre: ([], []) for pre, _ in modules}
    for pre, m in modules:
        shares[pre][0].extend(pre + k for k, v in m._own_state()
                              if pre + k not in state and ident(v) not in given)
    for k in state:
        if k not in own:
            parts = k.split(".")
            pre = max((p for p in (".".join(parts[:i]) + "." for i in range(1, len(parts)))
                       if p in shares), key=len, default="")
            shares[pre][1].append(k)
    return shares


def _layout(name: str, extra: list[str], kids: list[str]) -> str:
    if len(extra) == 1 and not kids:
        return f"{name}({extra[0]})"
    lines = extra + kids
    return f"{name}(" + ("\n  " + "\n  ".join(lines) + "\n" if lines else "") + ")"


_S = TypeVar("_S", bound="_ModuleSequence")


def _check_module(module: Any) -> None:
    if module is not None and not isinstance(module, Module):
        raise TypeError(f"{type(module).__name__} is not a Module subclass")


class _ModuleSequence(Module):
    """What ``ModuleList`` and ``Sequential`` share: modules under the names ``0``, ``1``, ...,
    reached by position (negative from the end, as a list's), numbered afresh after a
    deletion or an insertion, as PyTorch's. None may stand in a slot, as there."""

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def _key(self, idx: int) -> str:
        return list(self._modules)[_index(idx, len(self))]

    def __getitem__(self, idx: int | slice) -> Any:
        """The module at position ``idx``; a slice gives a new container of the same type."""
        if isinstance(idx, slice):
            return self._slice(idx)
        return self._modules[self._key(idx)]

    def _slice(self, idx: slice) -> Any:
        raise NotImplementedError

    def __setitem__(self, idx: int, module: Module | None) -> None:
        setattr(self, self._key(idx), module)

    def __delitem__(self, idx: int | slice) -> None:
        gone = list(self._modules)[idx] if isinstance(idx, slice) else [self._key(idx)]
        self._renumber([m for k, m in self._modules.items() if k not in gone])

    def _renumber(self, modules: list[Module | None]) -> None:
        self._modules.clear()
        self._modules.update((str(i), m) for i, m in enumerate(modules))

    def pop(self, idx: int | slice) -> Any:
        """Remove the module at ``idx`` (or a slice of them) and return it."""
        v = self[idx]
        del self[idx]
        return v

    def append(self: _S, module: Module | None) -> _S:
        """Add ``module`` at the end; returns this container."""
        self.add_module(str(len(self)), module)
        return self

    def extend(self: _S, modules: Iterable[Module | None]) -> _S:
        """Add each of ``modules`` at the end (all checked first: a non-Module adds none of
        them); returns this container."""
        if not isinstance(modules, Iterable):
            raise TypeError(f"{type(self).__name__}.extend should be called with an iterable, "
                            f"but got {type(modules).__name__}")
        modules = list(modules)  # also makes m.extend(m) finite
        for m in modules:
            _check_module(m)
        for m in modules:
            self.append(m)
        return self

    def insert(self: _S, index: int, module: Module | None) -> _S:
        """Put ``module`` before position ``index`` (``len(self)``: at the end, negative from
        the end); returns this container."""
        _check_module(module)
        n, i = len(self), operator.index(index)
        if not -n <= i <= n:
            raise IndexError(f"index {i} is out of range")
        modules = list(self._modules.values())
        modules.insert(i, module)
        self._renumber(modules)
        return self


class ModuleList(_ModuleSequence):
    """A list of modules, registered as ``0``, ``1``, ...: indexing (a slice gives a new
    ModuleList, numbered from 0), ``append``, ``extend``, ``insert``, ``pop``, ``del``, ``+``
    and ``+=``, as PyTorch's."""

    def __init__(self, modules: Iterable[Module | None] | None = None) -> None:
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def _slice(self, idx: slice) -> ModuleList:
        return type(self)(list(self._modules.values())[idx])

    def __iadd__(self, modules: Iterable[Module | None]) -> ModuleList:
        return self.extend(modules)

    def __add__(self, other: Iterable[Module | None]) -> ModuleList:
        return ModuleList([*self, *other])

    def __repr__(self) -> str:
        """As PyTorch's: a run of equal modules is one line, ``(0-2): 3 x Linear(...)``."""
        runs: list[list[Any]] = []  # [first, last, repr]
        for i, m in enumerate(self):
            r = repr(m)
            if runs and runs[-1][2] == r:
                runs[-1][1] = i
            else:
                runs.append([i, i, r])
        kids = [(f"({a}): " if a == b else f"({a}-{b}): {b - a + 1} x ") + r.replace("\n", "\n  ")
                for a, b, r in runs]
        return _layout(type(self).__name__, [], kids)


class ModuleDict(Module):
    """A dict of modules, registered under their keys (in insertion order). A key must be a
    valid module name: a string, without '.', not empty, and not an attribute of the
    ModuleDict (``"training"``, ``"keys"``): a KeyError otherwise, as in PyTorch."""

    def __init__(self, modules: Mapping[str, Module | None] | Iterable[Any] | None = None
                 ) -> None:
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __setitem__(self, key: str, module: Module | None) -> None:
        self.add_module(key, module)

    def __getitem__(self, key: str) -> Any:
        return self._modules[key]

    def __delitem__(self, key: str) -> None:
        del self._modules[key]

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

    def clear(self) -> None:
        self._modules.clear()

    def pop(self, key: str) -> Any:
        """Remove ``key`` and return its module (KeyError if it is not there)."""
        return self._modules.pop(key)

    def update(self, modules: Mapping[str, Module | None] | Iterable[Any]) -> None:
        """Add (or replace) modules from a mapping, a ModuleDict, or an iterable of
        (key, module) pairs, in their order. All are checked first: a bad key or a non-Module
        adds none of them."""
        if not isinstance(modules, Iterable):
            raise TypeError("ModuleDict.update should be called with an iterable of key/value "
                            f"pairs, but got {type(modules).__name__}")
        if isinstance(modules, (Mapping, ModuleDict)):
            pairs = list(modules.items())
        else:
            pairs = []
            for j, pair in enumerate(modules):
                if not isinstance(pair, Iterable):
                    raise TypeError(f"ModuleDict update sequence element #{j} should be "
                                    f"Iterable; is {type(pair).__name__}")
                pair = tuple(pair)
                if len(pair) != 2:
                    raise ValueError(f"ModuleDict update sequence element #{j} has length "
                                     f"{len(pair)}; 2 is required")
                pairs.append(pair)
        for k, m in pairs:
            self._check_child(k, m)
        for k, m in pairs:
            self[k] = m


def _as_parameter(value: Any) -> Any:
    """A Parameter as it is; any other tensor (or array) becomes one, as PyTorch's
    ParameterList and ParameterDict make them; None stays."""
    if value is None or isinstance(value, Parameter):
        return value
    return Parameter(value)


class ParameterList(Module):
    """A list of parameters, registered as ``0``, ``1``, ...: indexing (a slice gives a new
    ParameterList), ``append``, ``extend``, ``+=``, iteration, as PyTorch's. A plain tensor
    put in becomes a Parameter."""

    def __init__(self, values: Iterable[Any] | None = None) -> None:
        super().__init__()
        if values is not None:
            self.extend(values)

    def __len__(self) -> int:
        return len(self._parameters)

    def __iter__(self) -> Iterator[Any]:
        return iter(self._parameters.values())

    def __getitem__(self, idx: int | slice) -> Any:
        if isinstance(idx, slice):
            return type(self)(list(self._parameters.values())[idx])
        return self._parameters[str(_index(idx, len(self)))]

    def __setitem__(self, idx: int, value: Any) -> None:
        self.register_parameter(str(_index(idx, len(self))), _as_parameter(value))

    def append(self, value: Any) -> ParameterList:
        self.register_parameter(str(len(self)), _as_parameter(value))
        return self

    def extend(self, values: Iterable[Any]) -> ParameterList:
        if not isinstance(values, Iterable) or isinstance(values, Tensor):
            raise TypeError(f"ParameterList.extend should be called with an iterable, but got "
                            f"{type(values).__name__}")
        for v in list(values):
            self.append(v)
        return self

    def __iadd__(self, values: Iterable[Any]) -> ParameterList:
        return self.extend(values)

    def extra_repr(self) -> str:
        return _parameters_repr(self._parameters, lambda p: f"tinygrad_rnn.{p.dtype}")


class ParameterDict(Module):
    """A dict of parameters, registered under their keys (in insertion order), as PyTorch's:
    ``d[key]``, ``d[key] = value`` (a plain tensor becomes a Parameter), ``del``, ``in``,
    ``keys``/``values``/``items``, ``update``, ``pop``, ``popitem``, ``get``, ``setdefault``,
    ``clear``, ``copy``, ``fromkeys``, ``|`` and ``|=``."""

    def __init__(self, parameters: Mapping[str, Any] | Iterable[Any] | None = None) -> None:
        super().__init__()
        if parameters is not None:
            self.update(parameters)

    def __setitem__(self, key: str, value: Any) -> None:
        self.register_parameter(key, _as_parameter(value))

    def __getitem__(self, key: str) -> Any:
        return self._parameters[key]

    def __delitem__(self, key: str) -> None:
        del self._parameters[key]

    def __contains__(self, key: object) -> bool:
        return key in self._parameters

    def __len__(self) -> int:
        return len(self._parameters)

    def __iter__(self) -> Iterator[str]:
        return iter(self._parameters)

    def keys(self) -> Any:
        return self._parameters.keys()

    def values(self) -> Any:
        return self._parameters.values()

    def items(self) -> Any:
        return self._parameters.items()

    def get(self, key: str, default: Any = None) -> Any:
        return self._parameters.get(key, default)

    def pop(self, key: str) -> Any:
        return self._parameters.pop(key)

    def popitem(self) -> tuple[str, Any]:
        """The last (key, parameter) pair, removed."""
        return self._parameters.popitem()

    def setdefault(self, key: str, default: Any = None) -> Any:
        if key not in self:
            self[key] = default
        return self[key]

    def clear(self) -> None:
        self._parameters.clear()

    def copy(self) -> ParameterDict:
        """A new ParameterDict holding the same parameter objects."""
        return ParameterDict(self.items())

    @classmethod
    def fromkeys(cls, keys: Iterable[str], default: Any = None) -> ParameterDict:
        return cls((k, default) for k in keys)

    def __reversed__(self) -> Iterator[str]:
        return reversed(list(self._parameters))

    def __or__(self, other: Mapping[str, Any] | ParameterDict) -> ParameterDict:
        merged = self.copy()
        merged.update(other)
        return merged

    def __ror__(self, other: Mapping[str, Any] | ParameterDict) -> ParameterDict:
        merged = ParameterDict(other)
        merged.update(self)
        return merged

    def __ior__(self, other: Mapping[str, Any] | ParameterDict) -> ParameterDict:
        self.update(other)
        return self

    def update(self, parameters: Mapping[str, Any] | Iterable[Any]) -> None:
        """Add (or replace) parameters from a mapping or (key, value) pairs, in order."""
        pairs = list(parameters.items()) if isinstance(parameters, (Mapping, ParameterDict)) \
            else [tuple(p) for p in parameters]
        for k, v in pairs:
            self[k] = v

    def extra_repr(self) -> str:
        return _parameters_repr(self._parameters, lambda p: p.type())


def _parameters_repr(params: dict[str, Any], kind: Callable[[Any], str]) -> str:
    """``ParameterList``'s and ``ParameterDict``'s lines, laid out as PyTorch's (one more
    indent than a child's, ``kind(p)``: the dtype or the tensor type, the size as ``2x3``,
    the device where it is a GPU)."""
    lines = []
    for k, p in params.items():
        if p is None:
            continue
        where = f" ({p.device})" if p.device.type != "cpu" else ""
        size = "x".join(str(n) for n in p.shape)
        lines.append(f"  ({k}): Parameter containing: [{kind(p)} of size {size}{where}]")
    return "\n".join(lines)


class _Hook:
    """A registered module hook and how to call it."""

    __slots__ = ("fn", "with_kwargs", "always_call")

    def __init__(self, fn: Any, with_kwargs: bool = False, always_call: bool = False) -> None:
        self.fn, self.with_kwargs, self.always_call = fn, bool(with_kwargs), bool(always_call)


class _HookPoint(Function):
    """The identity on some tensors (copies), whose backward hands their gradients to
    ``report`` (which may replace them): where a module's backward hooks listen."""

    def forward(self, *arrays: Any, report: Any) -> tuple[Any, ...]:
        self.report = report
        return tuple(a.copy() for a in arrays)

    def backward(self, *gys: Any) -> tuple[Any, ...]:
        return tuple(self.report(gys, self.xp))


class _BackwardHooks:
    """One call's backward hooks: its tensor inputs and outputs pass through ``_HookPoint``s,
    the outputs' backward runs the pre-hooks and keeps grad_output, the inputs' backward
    runs the full hooks with both (or the outputs' does, when no input needs a gradient)."""

    def __init__(self, module: Module) -> None:
        self.module, self.grad_output, self.n_inputs = module, None, 0
        self.waits_for_inputs = False

    @staticmethod
    def _as_tensors(gs: Any, xp: Any, dev: Any) -> tuple[Any, ...]:
        return tuple(g if g is None or isinstance(g, Tensor) else Tensor._wrap(g, dev)
                     for g in gs)

    def mark_inputs(self, args: tuple[Any, ...]) -> tuple[Any, ...]:
        where = [k for k, a in enumerate(args) if isinstance(a, Tensor)]
        self.n_inputs = len(args)  # one entry per argument (None for one not a tensor)
        needs = [k for k in where if args[k].requires_grad]
        if not needs:
            return args
        self.waits_for_inputs = True
        self.input_slots = needs
        # a tensor argument that needs no gradient gets zeros in grad_input, as PyTorch's
        self.no_grad_inputs = [(k, args[k]) for k in where if k not in needs]
        self.dev = args[needs[0]]._dev
        marked = _HookPoint.apply(*(args[k] for k in needs), report=self._inputs_done)
        new = list(args)
        for k, t in zip(needs, marked):
            new[k] = t
        return tuple(new)

    def mark_outputs(self, out: Any) -> Any:
        outs = out if isinstance(out, tuple) else (out,)
        where = [k for k, o in enumerate(outs) if isinstance(o, Tensor) and o.requires_grad]
        self.n_outputs = len(outs)  # one entry per output (None for one not a tensor)
        self.output_slots = where
        if not where:
            return out
        self.dev = outs[where[0]]._dev
        marked = _HookPoint.apply(*(outs[k] for k in where), report=self._outputs_done)
        new = list(outs)
        for k, t in zip(where, marked):
            new[k] = t
        return tuple(new) if isinstance(out, tuple) else new[0]

    def _outputs_done(self, gys: tuple[Any, ...], xp: Any) -> tuple[Any, ...]:
        grad_output: list[Any] = [None] * self.n_outputs
        for slot, g in zip(self.output_slots, self._as_tensors(gys, xp, self.dev)):
            grad_output[slot] = g
        d = self.module.__dict__
        for h in list(d["_backward_pre_hooks"]):
            new = h.fn(self.module, tuple(grad_output))
            if new is not None:
                grad_output = list(new if isinstance(new, tuple) else (new,))
        self.grad_output = tuple(grad_output)
        if not self.waits_for_inputs and d["_backward_hooks"]:  # no input needs a gradient:
            warnings.warn("Full backward hook is firing when gradients are computed with "  # now
                          "respect to module outputs since no inputs require gradients",
                          UserWarning, stacklevel=2)
            for h in list(d["_backward_hooks"]):
                h.fn(self.module, (None,) * self.n_inputs, self.grad_output)
        return tuple(_array_of(grad_output[slot], g)
                     for slot, g in zip(self.output_slots, gys))

    def _inputs_done(self, gys: tuple[Any, ...], xp: Any) -> tuple[Any, ...]:
        if self.grad_output is None:  # fired already (a double backward comes back through
            return gys                # the forward's inputs): as PyTorch's, not again
        grad_input: list[Any] = [None] * self.n_inputs
        for slot, g in zip(self.input_slots, self._as_tensors(gys, xp, self.dev)):
            grad_input[slot] = g
        for slot, t in self.no_grad_inputs:
            grad_input[slot] = Tensor._wrap(t._dev.xp.zeros(t.shape, dtype=t.dtype), t._dev)
        for h in list(self.module.__dict__["_backward_hooks"]):
            new = h.fn(self.module, tuple(grad_input), self.grad_output)
            if new is not None:
                new = new if isinstance(new, tuple) else (new,)
                if len(new) != self.n_inputs:
                    raise RuntimeError(f"a backward hook returned {len(new)} gradients for "
                                       f"{self.n_inputs} inputs")
                grad_input = list(new)
        self.grad_output = None
        return tuple(_array_of(grad_input[slot], g) for slot, g in zip(self.input_slots, gys))


def _array_of(g: Any, like: Any) -> Any:
    """A hook's gradient (a Tensor or None) as the engine passes it on: ``like``'s kind
    (an array, or a Tensor under create_graph)."""
    if g is None or isinstance(like, Tensor) or like is None:
        return g
    return g._data if isinstance(g, Tensor) else g
