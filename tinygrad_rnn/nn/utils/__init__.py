"""Helpers for training loops; ``rnn``: variable-length sequences (padding and packing);
``parametrize`` and ``parametrizations``; ``fusion`` (fold an evaluation-mode batch norm into
the layer before it); ``convert_parameters``; ``stateless`` (the older ``functional_call``);
``spectral_norm`` and ``remove_spectral_norm`` (the older, hook-based API)."""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable
from typing import Any

import numpy as np

from ...tensor import DTypeError, Tensor, tensor
from . import (  # noqa: F401  (as torch.nn.utils's)
    convert_parameters,
    fusion,
    parametrizations,
    parametrize,
    rnn,
    stateless,
)
from .convert_parameters import parameters_to_vector, vector_to_parameters  # noqa: F401
from .fusion import (  # noqa: F401
    fuse_conv_bn_eval,
    fuse_conv_bn_weights,
    fuse_linear_bn_eval,
    fuse_linear_bn_weights,
)
from .spectral_norm import remove_spectral_norm, spectral_norm  # noqa: F401


def detach_state(state: Any) -> Any:
    """Cut a recurrent state (a Tensor, or a tuple/list of them such as LSTM's (h, c)) from
    its graph, keeping its values: what truncated backpropagation through time does between
    chunks, so the next backward() stops at the chunk boundary."""
    if state is None:
        return None
    if isinstance(state, Tensor):
        return state.detach()
    if isinstance(state, (tuple, list)):
        return type(state)(detach_state(s) for s in state)
    raise TypeError(f"detach_state: expected a Tensor or a tuple of them, got {type(state)}")


def _grads(parameters: Tensor | Iterable[Tensor], where: str) -> list[Tensor]:
    """The gradients (Tensors) of the parameters that have one, all checked to be
    floating-point Tensors before any is changed."""
    params = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    return _floats([p.grad for p in params if p.grad is not None], where, ".grad")


def _floats(tensors: list[Any], where: str, what: str = "tensor") -> list[Tensor]:
    for t in tensors:
        if getattr(t, "is_sparse", False) and t.dtype.kind == "f":
            continue  # a sparse gradient (embedding(sparse=True)'s): clip_grad_norm_ takes it
        if not isinstance(t, Tensor) or t.dtype.kind != "f":
            kind = t.dtype if isinstance(t, Tensor) else type(t).__name__
            raise DTypeError(f"{where}: every {what} must be a floating-point Tensor, got {kind}")
    return tensors


def _norm_of(values: list[float], norm_type: float) -> float:
    """The ``norm_type``-norm of non-negative numbers, scaled by the largest so that no power
    overflows: ``m * (sum((v / m) ** p)) ** (1 / p)``, ``max`` for the inf norm; NaN if any
    is NaN (Python's ``max`` would skip a NaN that follows a number)."""
    if any(math.isnan(v) for v in values):
        return math.nan
    if norm_type <= 0:  # the count of nonzeros (p = 0: added), the smallest (-inf), or p < 0
        return _small_norm(np.asarray(values, dtype=np.float64), norm_type, np)
    m = max(values, default=0.0)
    if norm_type == math.inf or m == 0.0 or not math.isfinite(m):
        return m
    return m * math.fsum((v / m) ** norm_type for v in values) ** (1.0 / norm_type)


def _small_norm(a: Any, norm_type: float, xp: Any) -> float:
    """``vector_norm`` of |values| ``a`` for p <= 0, as PyTorch's: p = 0 counts the nonzeros,
    -inf is the smallest, another p < 0 is (Σ a^p)^(1/p) (0 if any is 0), in float64."""
    if norm_type == 0:
        return float(xp.count_nonzero(a))
    if not a.size:
        return math.inf if norm_type == -math.inf else 0.0
    if norm_type == -math.inf:
        return float(a.min())
    with np.errstate(divide="ignore"):
        return float(xp.sum(a.astype(np.float64) ** norm_type)) ** (1.0 / norm_type)


def _grad_norm(g: Tensor, norm_type: float) -> float:
    """``||g||_p`` computed on g's device (scaled by ``max |g|``, so float32 cannot overflow);
    a sparse g's is its coalesced values' norm."""
    if g.is_sparse:
        g = g.detach().coalesce()._values()
    if norm_type <= 0:
        return _small_norm(g._dev.xp.abs(g._data), norm_type, g._dev.xp)
    if g.size == 0:
        return 0.0
    a = g._dev.xp.abs(g._data)
    m = float(a.max())  # nan if any element is nan
    if norm_type == math.inf or m == 0.0 or not math.isfinite(m):
        return m
    s = float(g._dev.xp.sum((a / m) ** norm_type))
    return m * s ** (1.0 / norm_type)


def _total_norm(tensors: list[Tensor], norm_type: float, error_if_nonfinite: bool,
                where: str) -> float:
    """The norm of all the tensors together, as a Python float (float64, whatever their
    dtype), refused if non-finite with ``error_if_nonfinite``; 0 for no tensors, of any
    order (as PyTorch's: not the -inf norm's empty minimum, inf)."""
    if not tensors:
        return 0.0
    total = _norm_of([_grad_norm(t, norm_type) for t in tensors], norm_type)
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(
            f"{where}: the total norm of order {norm_type} of the gradients is "
            f"{total}, so they cannot be clipped; set error_if_nonfinite=False to scale them "
            "by it anyway"
        )
    return total


def _norm_tensor(total: float, tensors: list[Tensor]) -> Tensor:
    """The total norm as PyTorch returns it: a 0-d tensor on the first tensor's device, of
    their promoted dtype (float32 on the CPU for none)."""
    dtype = np.result_type(*[t.dtype for t in tensors]) if tensors else np.float32
    with np.errstate(over="ignore"):  # a float64 total beyond float32 is inf, as in PyTorch
        value = np.array(total, dtype=dtype)
    return tensor(value, device=tensors[0].device if tensors else "cpu")


def _scale_grads(grads: list[Tensor], max_norm: float, total: float) -> None:
    """g <- g * max_norm / (total + 1e-6) for every gradient, where that factor is below 1."""
    coef = max_norm / (total + 1e-6)
    if not coef >= 1.0:  # a nan coefficient is applied too, as in PyTorch
        for g in grads:
            (g._values() if g.is_sparse else g)._data *= coef


def _max_norm(max_norm: float, where: str) -> float:
    max_norm = float(max_norm)
    if not max_norm >= 0.0:
        raise ValueError(f"{where}: max_norm must be >= 0, got {max_norm}")
    return max_norm


def _norm_type(norm_type: float, where: str) -> float:
    norm_type = float(norm_type)
    if math.isnan(norm_type):
        raise ValueError(f"{where}: norm_type must be a number or ±inf, got {norm_type}")
    return norm_type


def get_total_norm(tensors: Tensor | Iterable[Tensor], norm_type: float = 2.0,
                   error_if_nonfinite: bool = False, foreach: bool | None = None) -> Tensor:
    """The ``norm_type``-norm of the tensors taken together, as if concatenated into one
    vector, as ``torch.nn.utils.get_total_norm``: ``(sum_i ||t_i||_p ** p) ** (1 / p)``
    (``max_i max |t_i|`` for ``p = inf``). Pass the gradients
    (``[p.grad for p in params if p.grad is not None]``), then ``clip_grads_with_norm_``:
    between the two, the norm can be combined across processes or logged.

    Returns a 0-d tensor of the tensors' (promoted) dtype, on the first one's device (a
    float32 zero for none); it is computed in float64 and scaled by the largest element, so a
    float32 norm overflows only if the result does. A non-finite norm raises a RuntimeError
    with ``error_if_nonfinite``. ``foreach`` picks one of PyTorch's implementations: there is
    one here, so it is accepted and changes nothing."""
    del foreach
    norm_type = _norm_type(norm_type, "get_total_norm")
    tensors = _floats([tensors] if isinstance(tensors, Tensor) else list(tensors),
                      "get_total_norm")
    total = _total_norm(tensors, norm_type, error_if_nonfinite, "get_total_norm")
    return _norm_tensor(total, tensors)


def clip_grads_with_norm_(parameters: Tensor | Iterable[Tensor], max_norm: float,
                          total_norm: Tensor | float, foreach: bool | None = None) -> None:
    """Scale the gradients in place by ``max_norm / (total_norm + 1e-6)`` where that is below
    1, as ``torch.nn.utils.clip_grads_with_norm_``: ``clip_grad_norm_`` with the total norm
    given (from ``get_total_norm``, as a 0-d tensor or a number). Parameters without a
    gradient are skipped; a NaN norm makes the gradients NaN, as in PyTorch. ``foreach`` is
    accepted and changes nothing."""
    del foreach
    max_norm = _max_norm(max_norm, "clip_grads_with_norm_")
    if isinstance(total_norm, Tensor):
        if total_norm.size != 1:
            raise ValueError(f"clip_grads_with_norm_: total_norm must be one number, got a "
                             f"tensor of shape {total_norm.shape}")
        total = float(total_norm.item())
    elif isinstance(total_norm, (int, float, np.integer, np.floating)) \
            and not isinstance(total_norm, bool):
        total = float(total_norm)
    else:
        raise TypeError(f"clip_grads_with_norm_: total_norm must be a Tensor or a number, got "
                        f"{type(total_norm).__name__}")
    if total < 0.0:
        raise ValueError(f"clip_grads_with_norm_: total_norm must be >= 0 (a norm), got {total}")
    _scale_grads(_grads(parameters, "clip_grads_with_norm_"), max_norm, total)


def clip_grad_norm_(
    parameters: Tensor | Iterable[Tensor],
    max_norm: float,
    norm_type: float = 2.0,
    error_if_nonfinite: bool = False,
    foreach: bool | None = None,
) -> Tensor:
    """Rescale the gradients in place so that their global norm is at most ``max_norm``.

    The norm is taken over all gradients together, as if concatenated into one vector (Pascanu
    et al., 2013; PyTorch)::

        total = (sum_i ||g_i||_p ** p) ** (1 / p)       (max_i ||g_i||_inf for p = inf)
        c = max_norm / (total + 1e-6)
        g_i <- c * g_i                                  (only when c < 1)

    That is ``get_total_norm`` of the gradients, then ``clip_grads_with_norm_`` (sharing their
    float64 total: a float32 total that overflows to inf still clips by the true one).
    Parameters without a gradient are skipped. Returns ``total`` (before clipping) as a 0-d
    tensor of the gradients' dtype and device, as PyTorch (``.item()`` gives the number). A
    non-finite total raises a RuntimeError with ``error_if_nonfinite``; otherwise, as in
    PyTorch, it is applied anyway (the gradients become nan). ``foreach`` picks one of
    PyTorch's implementations: there is one here, so it is accepted and changes nothing.
    """
    del foreach
    max_norm = _max_norm(max_norm, "clip_grad_norm_")
    norm_type = _norm_type(norm_type, "clip_grad_norm_")
    grads = _grads(parameters, "clip_grad_norm_")
    total = _total_norm(grads, norm_type, error_if_nonfinite, "clip_grad_norm_")
    _scale_grads(grads, max_norm, total)
    return _norm_tensor(total, grads)


def clip_grad_norm(parameters: Tensor | Iterable[Tensor], max_norm: float,
                   norm_type: float = 2.0, error_if_nonfinite: bool = False,
                   foreach: bool | None = None) -> Tensor:
    """``clip_grad_norm_``, under its deprecated name: it warns (a FutureWarning, as
    PyTorch's) and clips in place all the same."""
    warnings.warn("nn.utils.clip_grad_norm is deprecated in favor of nn.utils.clip_grad_norm_ "
                  "(the same function, named for working in place)", FutureWarning,
                  stacklevel=2)
    return clip_grad_norm_(parameters, max_norm, norm_type, error_if_nonfinite, foreach)


def clip_grad_value_(parameters: Tensor | Iterable[Tensor], clip_value: float) -> None:
    """Clamp every gradient in place to ``[-clip_value, clip_value]`` (parameters without a
    gradient are skipped)."""
    c = float(clip_value)
    if not c >= 0.0:
        raise ValueError(f"clip_grad_value_: clip_value must be >= 0, got {clip_value}")
    grads = _grads(parameters, "clip_grad_value_")
    if any(g.is_sparse for g in grads):
        from ...sparse import refuse

        raise refuse("clip_grad_value_")
    for g in grads:
        g._dev.xp.clip(g._data, -c, c, out=g._data)


class WeightNorm:
    """The forward pre-hook of ``weight_norm``: before each forward, ``module.<name> = g ·
    v / ‖v‖``, the norm taken over every axis but ``dim`` (over all for ``dim=None``)."""

    def __init__(self, name: str, dim: int | None) -> None:
        self.name, self.dim = name, dim

    def compute_weight(self, module: Any) -> Tensor:
        g, v = getattr(module, self.name + "_g"), getattr(module, self.name + "_v")
        return v * (g / _norm_except(v, self.dim))

    def __call__(self, module: Any, inputs: Any) -> None:
        setattr(module, self.name, self.compute_weight(module))


def _norm_except(v: Tensor, dim: int | None) -> Tensor:
    """‖v‖ over every axis but ``dim``, kept as size-1 axes (all axes for ``dim=None``)."""
    if dim is None:
        return v.norm()
    axes = tuple(a for a in range(v.ndim) if a != dim % v.ndim)
    return v.norm(2, axes, keepdims=True) if axes else v.abs()


def weight_norm(module: Any, name: str = "weight", dim: int | None = 0) -> Any:
    """Weight normalisation (Salimans and Kingma, 2016), as PyTorch's (deprecated but common)
    ``torch.nn.utils.weight_norm``: the parameter ``name`` is replaced by a direction
    ``<name>_v`` and a magnitude ``<name>_g`` (its norm over every axis but ``dim``: one per
    output unit for ``dim=0``), and before each forward ``<name> = g · v / ‖v‖``. The state
    dict holds ``<name>_g`` and ``<name>_v``, as PyTorch's, so weights move between the two.
    ``dim=None`` uses one norm for the whole tensor, and so does ``dim=-1``, as in PyTorch
    (which turns None into -1); another negative ``dim`` counts from the end. Recurrent layers
    take it too (``weight_norm(lstm, "weight_hh_l0")``)."""
    from ..module import Parameter

    w = module._parameters.get(name) if hasattr(module, "_parameters") else None
    if w is None:
        raise ValueError(f"weight_norm: {type(module).__name__} has no parameter {name!r}")
    if any(isinstance(h.fn, WeightNorm) and h.fn.name == name
           for h in module._hook_lists()["_forward_pre_hooks"]):
        raise RuntimeError(f"weight_norm: {name!r} is already weight-normalised")
    if dim is not None and not -w.ndim <= dim < w.ndim:
        raise ValueError(f"weight_norm: dim {dim} is out of range for {name!r} of shape "
                         f"{w.shape}")
    hook = WeightNorm(name, None if dim == -1 else dim)
    dim = hook.dim
    g = _norm_except(w.detach(), dim)
    del module._parameters[name]
    module.register_parameter(name + "_g", Parameter(g))
    module.register_parameter(name + "_v", Parameter(w.detach().clone()))
    setattr(module, name, hook.compute_weight(module))
    module.register_forward_pre_hook(hook)
    return module


def remove_weight_norm(module: Any, name: str = "weight") -> Any:
    """Undo ``weight_norm``: ``name`` is again one parameter, of the current g · v / ‖v‖."""
    from ..module import Parameter

    hooks = module._hook_lists()["_forward_pre_hooks"]
    found = [h for h in hooks if isinstance(h.fn, WeightNorm) and h.fn.name == name]
    if not found:
        raise ValueError(f"remove_weight_norm: weight_norm of {name!r} not found in "
                         f"{type(module).__name__}")
    w = found[0].fn.compute_weight(module).detach()
    hooks.remove(found[0])
    del module._parameters[name + "_g"], module._parameters[name + "_v"]
    if name in module.__dict__:
        del module.__dict__[name]
    module.register_parameter(name, Parameter(w))
    return module


def skip_init(module_cls: Any, *args: Any, **kwargs: Any) -> Any:
    """``module_cls(*args, **kwargs)`` without its initialisation, as
    ``torch.nn.utils.skip_init``: its parameters and buffers have their shapes, dtypes and
    device (``device=``, "cpu" by default) but uninitialised values (``empty``'s), to be
    set by the caller (``nn.init``, ``load_state_dict``). The module must take a ``device``
    argument, as PyTorch requires. Here the module is built as usual, but the random
    generator is left as it was before (its draws are undone), as PyTorch's, which builds
    on its "meta" device, draws nothing."""
    import inspect

    from ... import random as _random
    from ...tensor import _set_values
    from ..module import Module

    if not (isinstance(module_cls, type) and issubclass(module_cls, Module)):
        raise TypeError(f"skip_init: expected a Module class, got {module_cls!r}")
    if "device" not in inspect.signature(module_cls).parameters:
        raise TypeError(f"skip_init: {module_cls.__name__} must take a 'device' argument to "
                        "skip its initialization")
    state = _random.get_rng_state()
    try:
        module = module_cls(*args, **kwargs)
    finally:
        _random.set_rng_state(state)
    done: set[int] = set()
    for m in module.modules():
        for t in [*m._parameters.values(), *m._buffers.values()]:
            if t is not None and id(t) not in done:
                done.add(id(t))
                _set_values(t, t._dev.xp.empty_like(t._data), "skip_init")
    return module


def _convert_weights(module: Any, kinds: tuple[type, ...], memory_format: Any) -> Any:
    """The weights of the ``kinds`` layers in ``module`` (itself and every descendant) laid
    out as ``memory_format`` asks, in place (``w.data``: the same values, other strides)."""
    for m in module.modules():
        if isinstance(m, kinds):
            m.weight.data = m.weight.detach().clone(memory_format=memory_format)
    return module


def convert_conv2d_weight_memory_format(module: Any, memory_format: Any) -> Any:
    """The weights of every ``Conv2d`` and ``ConvTranspose2d`` in ``module`` laid out as
    ``memory_format`` asks (``tr.channels_last``), as PyTorch's; returns ``module``."""
    from ..conv import Conv2d, ConvTranspose2d

    return _convert_weights(module, (Conv2d, ConvTranspose2d), memory_format)


def convert_conv3d_weight_memory_format(module: Any, memory_format: Any) -> Any:
    """The weights of every ``Conv3d`` and ``ConvTranspose3d`` in ``module`` laid out as
    ``memory_format`` asks (``tr.channels_last_3d``), as PyTorch's; returns ``module``."""
    from ..conv import Conv3d, ConvTranspose3d

    return _convert_weights(module, (Conv3d, ConvTranspose3d), memory_format)


from . import clip_grad  # noqa: E402, F401  (torch.nn.utils.clip_grad: the functions above)
