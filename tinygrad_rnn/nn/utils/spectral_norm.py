"""The older, hook-based ``spectral_norm``, as ``torch.nn.utils.spectral_norm``: the
parameter ``<name>`` is replaced by ``<name>_orig`` (a parameter) and the power-iteration
vectors ``<name>_u``, ``<name>_v`` (buffers), the state-dict keys of PyTorch's, and a forward
pre-hook sets ``module.<name> = <name>_orig / σ`` before each forward. (The newer API,
``nn.utils.parametrizations.spectral_norm``, keeps its vectors inside the parametrization and
runs 15 power iterations when registered; this one runs none then, as PyTorch's, so the two
differ until they have run a few.)"""

from __future__ import annotations

from typing import Any

from ... import functional as F
from ... import random as _random
from ...autograd import no_grad
from ...tensor import Tensor
from ..module import Module, Parameter, UninitializedParameter

__all__ = ["SpectralNorm", "remove_spectral_norm", "spectral_norm"]


class SpectralNorm:
    """The forward pre-hook of ``spectral_norm``. W is ``<name>_orig`` as a matrix (axis
    ``dim`` first, the others flattened); in training mode each forward first runs
    ``n_power_iterations`` steps on the buffers, without gradient::

        v = normalize(Wᵀ u),  u = normalize(W v)

    then ``<name> = W / σ``, σ = uᵀ W v (its gradient flows through W only). In evaluation
    mode the vectors stay as they are."""

    _version = 1

    def __init__(self, name: str = "weight", n_power_iterations: int = 1, dim: int = 0,
                 eps: float = 1e-12) -> None:
        if n_power_iterations <= 0:
            raise ValueError(f"spectral_norm: expected n_power_iterations to be positive, but "
                             f"got n_power_iterations={n_power_iterations}")
        self.name, self.dim, self.n_power_iterations, self.eps = name, dim, \
            n_power_iterations, eps

    def reshape_weight_to_matrix(self, weight: Tensor) -> Tensor:
        """The weight as a matrix: axis ``dim`` first, the rest flattened."""
        if self.dim != 0:
            weight = weight.permute(self.dim, *(d for d in range(weight.ndim) if d != self.dim))
        return weight.reshape(weight.shape[0], -1)

    def compute_weight(self, module: Any, do_power_iteration: bool) -> Tensor:
        """``<name>_orig / σ``, after the power iterations if ``do_power_iteration`` (which
        update ``<name>_u`` and ``<name>_v`` in place)."""
        weight = getattr(module, self.name + "_orig")
        u, v = getattr(module, self.name + "_u"), getattr(module, self.name + "_v")
        W = self.reshape_weight_to_matrix(weight)
        if do_power_iteration:
            with no_grad():
                Wd = W.detach()
                for _ in range(self.n_power_iterations):
                    v.copy_(F.normalize(Wd.mT @ u, dim=0, eps=self.eps))
                    u.copy_(F.normalize(Wd @ v, dim=0, eps=self.eps))
                u, v = u.clone(), v.clone()  # σ's graph keeps these values, not the buffers
        sigma = u @ (W @ v)
        return weight / sigma

    def remove(self, module: Any) -> None:
        """``<name>`` back as one parameter, of the current ``<name>_orig / σ`` (no power
        iteration), and the hook's tensors deleted."""
        with no_grad():
            weight = self.compute_weight(module, do_power_iteration=False)
        module.__dict__.pop(self.name, None)
        del module._buffers[self.name + "_u"], module._buffers[self.name + "_v"]
        del module._parameters[self.name + "_orig"]
        module.register_parameter(self.name, Parameter(weight.detach()))

    def __call__(self, module: Any, inputs: Any) -> None:
        setattr(module, self.name, self.compute_weight(module, module.training))


def spectral_norm(module: Module, name: str = "weight", n_power_iterations: int = 1,
                  eps: float = 1e-12, dim: int | None = None) -> Module:
    """Spectral normalisation (Miyato et al., 2018) through a forward pre-hook, as PyTorch's
    ``torch.nn.utils.spectral_norm``: ``module.<name>`` is divided by its largest singular
    value, estimated by power iteration (see ``SpectralNorm``). The state dict holds
    ``<name>_orig``, ``<name>_u`` and ``<name>_v`` in PyTorch's order, so weights move both
    ways, and after the same power iterations from the same vectors the values are
    PyTorch's. ``dim``: the output axis, 0 by default (1 for a transposed convolution).
    ``u`` and ``v`` start as normalised draws from tr's generator (other numbers than
    PyTorch's for one seed). Returns the module."""
    if any(isinstance(h.fn, SpectralNorm) and h.fn.name == name
           for h in module._hook_lists()["_forward_pre_hooks"]):
        raise RuntimeError(f"Cannot register two spectral_norm hooks on the same parameter "
                           f"{name}")
    params = module.__dict__.get("_parameters", {})
    weight = params.get(name)
    if weight is None:
        raise ValueError(f"spectral_norm: {type(module).__name__} has no parameter {name!r}")
    if isinstance(weight, UninitializedParameter):
        raise ValueError("The module passed to `SpectralNorm` can't have uninitialized "
                         "parameters. Make sure to run the dummy forward before applying "
                         "spectral normalization")
    if dim is None:
        dim = 1 if "ConvTranspose" in type(module).__name__ else 0
    if not -weight.ndim <= dim < max(weight.ndim, 1):
        raise IndexError(f"spectral_norm: dim {dim} is out of range for {name!r} of shape "
                         f"{weight.shape}")
    fn = SpectralNorm(name, n_power_iterations, dim % max(weight.ndim, 1), eps)
    with no_grad():
        W = fn.reshape_weight_to_matrix(weight.detach())
        rng = _random.generator()
        u, v = (F.normalize(Tensor._wrap(W._dev.to_device(rng.standard_normal(n).astype(
            W.dtype)), W._dev), dim=0, eps=eps) for n in W.shape)
    del params[name]
    module.register_parameter(name + "_orig", weight)
    setattr(module, name, weight.detach())
    module.register_buffer(name + "_u", u)
    module.register_buffer(name + "_v", v)
    module.register_forward_pre_hook(fn)
    return module


def remove_spectral_norm(module: Module, name: str = "weight") -> Module:
    """Undo ``spectral_norm``: ``name`` is again one parameter, of the current
    ``<name>_orig / σ``, as PyTorch's."""
    hooks = module._hook_lists()["_forward_pre_hooks"]
    found = [h for h in hooks if isinstance(h.fn, SpectralNorm) and h.fn.name == name]
    if not found:
        raise ValueError(f"spectral_norm of '{name}' not found in {type(module).__name__}")
    found[0].fn.remove(module)
    hooks.remove(found[0])
    return module
