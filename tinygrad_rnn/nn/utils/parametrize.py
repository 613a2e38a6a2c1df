"""``nn.utils.parametrize``, as PyTorch's: a module's tensor (``weight``) computed, at each
access, by a small module from unconstrained tensors that the optimizer updates instead.

    class Symmetric(nn.Module):
        def forward(self, X):
            return X.triu() + X.triu(1).mT

    parametrize.register_parametrization(layer, "weight", Symmetric())
    layer.weight          # computed: Symmetric()(layer.parametrizations.weight.original)

How, as in PyTorch (so state dicts carry the same keys): the tensor leaves the module's
parameters, and a ``ModuleDict`` named ``parametrizations`` holds, under the tensor's name, a
``ParametrizationList``: the parametrizations, applied in order, and the value(s) they start
from, ``original`` (or ``original0``, ``original1``, ... where the first parametrization's
``right_inverse`` gives several). The module's class becomes a subclass,
``Parametrized<Name>``, with a property of that name: reading it runs the parametrizations
(once per ``cached()`` block); assigning to it runs ``right_inverse`` backwards, so
``layer.weight = w`` stores the unconstrained value that gives w.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import Any

from ...autograd import no_grad
from ...tensor import Tensor
from ..module import Module, ModuleDict, ModuleList, Parameter

__all__ = ["ParametrizationList", "cached", "is_parametrized", "register_parametrization",
           "remove_parametrizations", "transfer_parametrizations_and_params",
           "type_before_parametrizations"]

_cache: dict[tuple[int, str], Tensor] | None = None  # set inside cached()


@contextlib.contextmanager
def cached() -> Iterator[None]:
    """Inside this block each parametrized tensor is computed once, at its first access, and
    reused: a recurrent net that reads its parametrized weight at every step builds it once
    per forward. Blocks nest; the cache empties when the outermost one ends."""
    global _cache
    outer = _cache is not None
    if not outer:
        _cache = {}
    try:
        yield
    finally:
        if not outer:
            _cache = None


def _register(module: Module, name: str, value: Tensor, like: Tensor) -> None:
    """``value`` under ``name``: a Parameter if ``like`` (what it replaces) is one, with its
    requires_grad, else a buffer."""
    if isinstance(like, Parameter):
        module.register_parameter(name, value if isinstance(value, Parameter)
                                  else Parameter(value.detach(), like.requires_grad))
    else:
        module.register_buffer(name, value)


class ParametrizationList(ModuleList):
    """The parametrizations of one tensor, in order, and their unconstrained input(s):
    ``original``, or ``original0``, ``original1``, ... Calling it computes the tensor."""

    def __init__(self, modules: Sequence[Module], original: Tensor, unsafe: bool = False
                 ) -> None:
        super().__init__(modules)
        self.unsafe = unsafe
        with no_grad():
            new: Any = original
            for m in reversed(list(self)):
                if hasattr(m, "right_inverse"):
                    # one that cannot invert (NotImplementedError) starts from the value as
                    # it is, as in PyTorch; assigning to the tensor later raises
                    with contextlib.suppress(NotImplementedError):
                        new = m.right_inverse(new)
        # everything checked before the caller's tensor changes
        if isinstance(new, Tensor):
            if new.dtype != original.dtype:
                raise ValueError("register_parametrization: right_inverse returned one tensor of "
                                 f"dtype {new.dtype} for a tensor of dtype {original.dtype}; it "
                                 "may not change the dtype")
        elif not isinstance(new, (tuple, list)) or not all(isinstance(t, Tensor) for t in new):
            raise ValueError("register_parametrization: right_inverse must return a Tensor or a "
                             f"sequence of Tensors, got {type(new).__name__}")
        if not unsafe:
            self._check(original, self._apply(*([new] if isinstance(new, Tensor) else new)))
        if isinstance(new, Tensor):
            self.is_tensor, self.ntensors = True, 1
            if isinstance(original, Parameter):
                # the same Parameter object, given the new value: an optimizer built before
                # the parametrization still holds what trains
                original.data = new.detach()
                _register(self, "original", original, original)
            else:
                _register(self, "original", new.detach(), original)
        else:
            self.is_tensor, self.ntensors = False, len(new)
            for i, t in enumerate(new):
                _register(self, f"original{i}", t.detach().clone(), original)

    @staticmethod
    def _check(original: Tensor, y: Any) -> None:
        """That the parametrization gives back a tensor like the one it replaces."""
        if not isinstance(y, Tensor):
            raise ValueError(f"register_parametrization: the parametrization must return a "
                             f"Tensor, got {type(y).__name__}")
        if y.shape != original.shape or y.dtype != original.dtype:
            raise ValueError(
                "register_parametrization: a parametrization may not change the tensor's shape "
                f"or dtype ({original.shape}, {original.dtype}) -> ({y.shape}, {y.dtype}); "
                "pass unsafe=True to allow it")

    def _apply(self, *originals: Tensor) -> Any:
        """The parametrizations, in order, applied to ``originals``."""
        x = self[0](*originals)
        for m in list(self)[1:]:
            x = m(x)
        return x

    def _originals(self) -> list[Tensor]:
        if self.is_tensor:
            return [self.original]
        return [getattr(self, f"original{i}") for i in range(self.ntensors)]

    def right_inverse(self, value: Tensor) -> None:
        """Store in the originals what gives ``value`` (each parametrization's
        ``right_inverse``, last first), in place: the same tensors, new values."""
        with no_grad():
            new: Any = value
            for m in reversed(list(self)):
                if not hasattr(m, "right_inverse"):
                    raise RuntimeError(f"parametrization {type(m).__name__} has no "
                                       "right_inverse, so the tensor cannot be assigned")
                new = m.right_inverse(new)
            news = [new] if self.is_tensor else list(new)
            olds = self._originals()
            if len(news) != len(olds):
                raise ValueError(f"right_inverse gave {len(news)} tensors for {len(olds)} "
                                 "originals")
            for old, t in zip(olds, news):
                if not isinstance(t, Tensor) or t.dtype != old.dtype:
                    raise ValueError(f"right_inverse must give tensors of dtype {old.dtype}, "
                                     f"got {getattr(t, 'dtype', type(t).__name__)}")
                old.data = t.detach().clone()

    def forward(self) -> Tensor:  # type: ignore[override]
        return self._apply(*self._originals())


def _property(name: str) -> property:
    def get(self: Module) -> Tensor:
        plist = self.parametrizations[name]
        if _cache is None:
            return plist()
        key = (id(self), name)
        if key not in _cache:
            _cache[key] = plist()
        return _cache[key]

    def put(self: Module, value: Tensor) -> None:
        self.parametrizations[name].right_inverse(value)

    return property(get, put, doc=f"``{name}``, computed by ``parametrizations.{name}``")


def register_parametrization(module: Module, tensor_name: str, parametrization: Module, *,
                             unsafe: bool = False) -> Module:
    """Make ``module.<tensor_name>`` (a parameter or buffer) ``parametrization(original)``.

    ``parametrization`` is a Module whose ``forward`` takes the original(s) and returns the
    tensor; an optional ``right_inverse(tensor)`` gives the original(s) for a tensor (the
    original starts as ``right_inverse`` of the current value, or the value itself). A second
    call on the same name appends, applied after the first. Unless ``unsafe``, the result
    must keep the tensor's shape and dtype. Returns the module."""
    if not isinstance(parametrization, Module):
        raise TypeError(f"register_parametrization: the parametrization must be an nn.Module, "
                        f"got {type(parametrization).__name__}")
    if is_parametrized(module, tensor_name):
        plist = module.parametrizations[tensor_name]
        if not unsafe:
            old = getattr(module, tensor_name)
            ParametrizationList._check(old, parametrization(old))
        plist.append(parametrization)
        plist.unsafe = plist.unsafe or unsafe
        return module
    original = module._parameters.get(tensor_name, module._buffers.get(tensor_name))
    if not isinstance(original, Tensor):
        raise ValueError(f"register_parametrization: {type(module).__name__} has no parameter "
                         f"or buffer {tensor_name!r}")
    plist = ParametrizationList([parametrization], original, unsafe=unsafe)
    module._forget(tensor_name)
    if not is_parametrized(module):
        cls = type(module)
        module.__class__ = type(f"Parametrized{cls.__name__}", (cls,), {
            "_class_before_parametrizations": cls})
        module.parametrizations = ModuleDict()
    setattr(type(module), tensor_name, _property(tensor_name))
    module.parametrizations[tensor_name] = plist
    return module


def is_parametrized(module: Module, tensor_name: str | None = None) -> bool:
    """Whether ``module`` has any parametrization (``tensor_name``: one of that tensor)."""
    plists = module.__dict__.get("_modules", {}).get("parametrizations")
    if not isinstance(plists, ModuleDict) or not hasattr(type(module),
                                                         "_class_before_parametrizations"):
        return False
    return len(plists) > 0 if tensor_name is None else tensor_name in plists


def type_before_parametrizations(module: Module) -> type:
    """The module's class as it was before any parametrization."""
    return getattr(type(module), "_class_before_parametrizations", type(module))


def remove_parametrizations(module: Module, tensor_name: str,
                            leave_parametrized: bool = True) -> Module:
    """Undo ``register_parametrization`` of ``tensor_name``: it is a parameter (or buffer)
    again, holding the parametrized value (``leave_parametrized``) or the original one (there
    must be a single original then). A single original keeps its identity, so an optimizer
    holding it still trains it (unless the parametrized value has another shape or dtype: then
    it is a new parameter). The last removal restores the module's class."""
    if not is_parametrized(module, tensor_name):
        raise ValueError(f"remove_parametrizations: {type(module).__name__} has no "
                         f"parametrization on {tensor_name!r}")
    plist = module.parametrizations[tensor_name]
    if plist.is_tensor:
        original = plist.original
        if leave_parametrized:
            with no_grad():
                value = getattr(module, tensor_name)
            if value.shape != original.shape or value.dtype != original.dtype:
                original = (Parameter(value.detach(), original.requires_grad)
                            if isinstance(original, Parameter) else value.detach())
            else:
                original.data = value.detach().clone()
    else:
        if not leave_parametrized:
            raise ValueError("remove_parametrizations: leave_parametrized=False needs a single "
                             f"original, and {tensor_name!r} has {plist.ntensors}")
        with no_grad():
            value = getattr(module, tensor_name).detach()
        first = plist.original0
        original = Parameter(value, first.requires_grad) if isinstance(first, Parameter) \
            else value
    delattr(type(module), tensor_name)
    del module.parametrizations[tensor_name]
    _register(module, tensor_name, original, original)
    if len(module.parametrizations) == 0:
        del module.parametrizations
        module.__class__ = type_before_parametrizations(module)
    return module


def transfer_parametrizations_and_params(from_module: Module, to_module: Module,
                                         tensor_name: str | None = None) -> Module:
    """Give ``to_module`` the parametrizations of ``from_module`` (of ``tensor_name``, or all),
    sharing the same parametrization modules, with the originals copied."""
    if not is_parametrized(from_module):
        raise ValueError("transfer_parametrizations_and_params: from_module has no "
                         "parametrization")
    names = [tensor_name] if tensor_name is not None else list(from_module.parametrizations)
    for name in names:
        src = from_module.parametrizations[name]
        if not is_parametrized(to_module, name):
            if name not in to_module._parameters and name not in to_module._buffers:
                to_module.register_parameter(name, Parameter(getattr(from_module, name)
                                                             .detach().clone()))
            for k, m in enumerate(src):
                register_parametrization(to_module, name, m, unsafe=src.unsafe or k > 0)
        dst = to_module.parametrizations[name]
        for old, new in zip(dst._originals(), src._originals()):
            old.data = new.detach().clone()
    return to_module
