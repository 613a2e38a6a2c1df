"""``nn.utils.parametrizations``, as PyTorch's: ``orthogonal``, ``weight_norm`` and
``spectral_norm`` through ``parametrize.register_parametrization``, with PyTorch's state-dict
keys (``parametrizations.weight.original``, ``original0``/``original1``, the spectral norm's
``parametrizations.weight.0._u``/``_v``), so weights move between the two.

An orthogonal recurrent matrix keeps every singular value at 1, so the gradient through many
steps of h_t = tanh(W_hh h_{t-1} + ...) is not shrunk (nor blown up) by W_hh itself: the
classic remedy for the vanishing gradient of a plain RNN, besides the LSTM's cell state.

    rnn = nn.RNN(32, 64)
    parametrizations.orthogonal(rnn, "weight_hh_l0")   # W_hh stays orthogonal while it trains
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ... import functional as F
from ... import linalg
from ... import random as _random
from ...autograd import no_grad
from ...ops.linalg import qr_arrays
from ...ops.movement import cat
from ...tensor import Tensor
from ..module import Module
from . import parametrize

__all__ = ["orthogonal", "spectral_norm", "weight_norm"]

_MAPS = ("matrix_exp", "cayley", "householder")


def _const(like: Tensor, array: Any) -> Tensor:
    return Tensor._wrap(array, like._dev)


def _is_orthogonal(Q: Tensor) -> bool:
    """Whether QᵀQ = I to within 10 n eps, plus 1e-5 relative (Q tall, (..., n, k)), as
    PyTorch's test."""
    n, k = Q.shape[-2:]
    xp = Q._dev.xp
    eps = 10.0 * n * float(np.finfo(Q.dtype).eps)
    gram, eye = (Q.mT @ Q)._data, xp.eye(k, dtype=Q.dtype)
    return bool(xp.all(xp.abs(gram - eye) <= eps + 1e-5 * xp.abs(eye)))


def _make_orthogonal(Q: Tensor) -> Tensor:
    """The Q of the QR factorisation of a tall Q with R's diagonal made positive."""
    xp = Q._dev.xp
    q, r = qr_arrays(xp, Q._data)
    d = xp.diagonal(r, axis1=-2, axis2=-1)
    return _const(Q, q * xp.where(d < 0, -1.0, 1.0).astype(Q.dtype)[..., None, :])


class _Orthogonal(Module):
    """Q(X): an orthogonal matrix (orthonormal columns for a tall one, rows for a wide one)
    from an unconstrained X of the same shape, by one of three maps of X's lower triangle:

    - ``matrix_exp``: exp(A), A = L - Lᵀ skew-symmetric (L = X's lower triangle);
    - ``cayley``: (I - A/2)⁻¹ (I + A/2);
    - ``householder``: the product of the reflectors stored below X's diagonal (as a QR
      stores Q), times X's diagonal signs.

    With ``use_trivialization`` (the default) Q is ``base @ Q(X)``: assigning a matrix stores
    its orthogonal part as the buffer ``base`` and sets X to the map's preimage of I, so
    training starts from that matrix and moves on the orthogonal group from there."""

    def __init__(self, weight: Tensor, orthogonal_map: str, *,
                 use_trivialization: bool = True) -> None:
        super().__init__()
        self.shape = weight.shape
        self.orthogonal_map = orthogonal_map
        if use_trivialization:
            self.register_buffer("base", None)

    def forward(self, X: Tensor) -> Tensor:
        n, k = X.shape[-2:]
        transposed = n < k
        if transposed:
            X, (n, k) = X.mT, (k, n)
        if self.orthogonal_map in ("matrix_exp", "cayley"):
            X = X.tril()
            if n != k:  # tall: pad to square with zero columns
                zeros = X._dev.xp.zeros(X.shape[:-1] + (n - k,), dtype=X.dtype)
                X = cat([X, _const(X, zeros)], -1)
            A = X - X.mT
            if self.orthogonal_map == "matrix_exp":
                Q = linalg.matrix_exp(A)
            else:
                eye = _const(X, X._dev.xp.eye(n, dtype=X.dtype))
                Q = linalg.solve(eye - A * 0.5, eye + A * 0.5)
            Q = Q[..., :k] if n != k else Q
        else:
            A = X.tril(-1)
            tau = 2.0 / (1.0 + (A * A).sum(-2))
            Q = linalg.householder_product(A, tau)
            # the diagonal only says which reflections to undo: no gradient flows into it
            Q = Q * X.diagonal(0, -2, -1).detach().trunc().unsqueeze(-2)
        if "base" in self._buffers:
            Q = self.base @ Q
        return Q.mT if transposed else Q

    def right_inverse(self, Q: Tensor) -> Tensor:
        if Q.shape != self.shape:
            raise ValueError(f"orthogonal: expected a matrix (or batch) of shape {self.shape}, "
                             f"got {Q.shape}")
        with no_grad():
            Q_init = Q
            n, k = Q.shape[-2:]
            transpose = n < k
            if transpose:
                Q, (n, k) = Q.mT, (k, n)
            if "base" not in self._buffers:
                if self.orthogonal_map != "householder":
                    raise NotImplementedError(
                        "orthogonal: with use_trivialization=False only the householder map "
                        "can be assigned to (matrix_exp and cayley have no inverse here)")
                xp = Q._dev.xp
                h, tau = qr_arrays(xp, Q._data, mode="raw")
                A = xp.swapaxes(h, -1, -2).copy()
                d = xp.sign(xp.diagonal(A, axis1=-2, axis2=-1))
                d = xp.where(tau == 0, -d, d)  # no reflection there: undo the sign it applies
                idx = xp.arange(k)
                A[..., idx, idx] = d
                A = _const(Q, A)
                return A.mT if transpose else A
            if n == k:
                Q = Q.clone() if _is_orthogonal(Q) else _make_orthogonal(Q)
            else:  # complete Q's columns to a square orthogonal matrix
                noise = _random.generator().standard_normal(Q.shape[:-1] + (n - k,))
                Q = _make_orthogonal(cat([Q, _const(Q, Q._dev.to_device(
                    noise.astype(Q.dtype)))], -1))
            self.base = Q
            xp = Q._dev.xp
            neg_eye = xp.zeros(Q_init.shape, dtype=Q_init.dtype)
            idx = xp.arange(min(Q_init.shape[-2:]))
            neg_eye[..., idx, idx] = -1.0
            return _const(Q_init, neg_eye)


def orthogonal(module: Module, name: str = "weight", orthogonal_map: str | None = None, *,
               use_trivialization: bool = True) -> Module:
    """Keep ``module.<name>`` (a matrix, or a batch of them) orthogonal while it trains, as
    ``torch.nn.utils.parametrizations.orthogonal``. ``orthogonal_map``: ``"matrix_exp"``,
    ``"cayley"`` or ``"householder"``; by default matrix_exp for a square matrix, householder
    for a rectangular one. The matrix starts as the orthogonal part (QR) of its current value.
    Returns the module."""
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ValueError(f"orthogonal: {type(module).__name__} has no parameter or buffer "
                         f"{name!r}")
    if weight.ndim < 2:
        raise ValueError(f"orthogonal: expected a matrix or a batch of matrices, got a tensor of "
                         f"{weight.ndim} dimensions")
    if orthogonal_map is None:
        orthogonal_map = "matrix_exp" if weight.shape[-2] == weight.shape[-1] else "householder"
    if orthogonal_map not in _MAPS:
        raise ValueError(f'orthogonal_map has to be one of "matrix_exp", "cayley", '
                         f'"householder", got {orthogonal_map!r}')
    orth = _Orthogonal(weight, orthogonal_map, use_trivialization=use_trivialization)
    return parametrize.register_parametrization(module, name, orth, unsafe=True)


class _WeightNorm(Module):
    """w = g v / ‖v‖, the norm over every axis but ``dim`` (all of them for dim -1)."""

    def __init__(self, dim: int | None = 0) -> None:
        super().__init__()
        self.dim = -1 if dim is None else dim

    def _norm(self, v: Tensor) -> Tensor:
        if self.dim == -1:
            return v.norm()
        axes = tuple(a for a in range(v.ndim) if a != self.dim % v.ndim)
        return v.norm(2, axes, keepdims=True) if axes else v.abs()

    def forward(self, weight_g: Tensor, weight_v: Tensor) -> Tensor:
        return weight_v * (weight_g / self._norm(weight_v))

    def right_inverse(self, weight: Tensor) -> tuple[Tensor, Tensor]:
        return self._norm(weight), weight


def weight_norm(module: Module, name: str = "weight", dim: int | None = 0) -> Module:
    """Weight normalisation, as ``torch.nn.utils.parametrizations.weight_norm``:
    ``module.<name>`` = g · v / ‖v‖ with g = ``parametrizations.<name>.original0`` (one norm
    per slice along ``dim``; ``dim=None``: one for the whole tensor) and v = ``original1``.
    A state dict of the older ``nn.utils.weight_norm`` (``<name>_g``, ``<name>_v``) loads
    too. Returns the module."""
    parametrize.register_parametrization(module, name, _WeightNorm(dim), unsafe=True)

    def older_keys(mod: Module, state: dict[str, Any], prefix: str, *args: Any) -> None:
        g, v = f"{prefix}{name}_g", f"{prefix}{name}_v"
        if g in state and v in state:
            state[f"{prefix}parametrizations.{name}.original0"] = state.pop(g)
            state[f"{prefix}parametrizations.{name}.original1"] = state.pop(v)

    module.register_load_state_dict_pre_hook(older_keys)
    return module


class _SpectralNorm(Module):
    """w / σ(w), σ the largest singular value of w as a matrix (``dim`` first, the rest
    flattened), estimated by power iteration on the buffers ``_u`` and ``_v``: in training
    mode each forward runs ``n_power_iterations`` more steps, without gradient, and σ = uᵀ W v
    (its gradient flows through W only). A 1-D w is normalised to unit length."""

    def __init__(self, weight: Tensor, n_power_iterations: int = 1, dim: int = 0,
                 eps: float = 1e-12) -> None:
        super().__init__()
        ndim = weight.ndim
        if not -ndim <= dim < ndim:
            raise IndexError(f"spectral_norm: dim {dim} is out of range for a tensor of {ndim} "
                             "dimensions")
        if n_power_iterations <= 0:
            raise ValueError("spectral_norm: n_power_iterations must be positive, got "
                             f"{n_power_iterations}")
        self.dim = dim % ndim
        self.eps = eps
        if ndim > 1:
            self.n_power_iterations = n_power_iterations
            W = self._matrix(weight)
            h, w = W.shape
            rng = _random.generator()
            for buf, size in (("_u", h), ("_v", w)):
                start = _const(W, W._dev.to_device(rng.standard_normal(size).astype(W.dtype)))
                self.register_buffer(buf, F.normalize(start, dim=0, eps=eps))
            self._power_method(W, 15)

    def _matrix(self, weight: Tensor) -> Tensor:
        if self.dim != 0:
            weight = weight.permute(self.dim, *(d for d in range(weight.ndim) if d != self.dim))
        return weight.reshape(weight.shape[0], -1)

    def _power_method(self, W: Tensor, steps: int) -> None:
        with no_grad():
            W = W.detach()
            for _ in range(steps):
                self._u.copy_(F.normalize(W @ self._v, dim=0, eps=self.eps))
                self._v.copy_(F.normalize(W.mT @ self._u, dim=0, eps=self.eps))

    def forward(self, weight: Tensor) -> Tensor:
        if weight.ndim == 1:
            return F.normalize(weight, dim=0, eps=self.eps)
        W = self._matrix(weight)
        if self.training:
            self._power_method(W, self.n_power_iterations)
        sigma = self._u.clone() @ (W @ self._v.clone())
        return weight / sigma

    def right_inverse(self, value: Tensor) -> Tensor:
        return value


def spectral_norm(module: Module, name: str = "weight", n_power_iterations: int = 1,
                  eps: float = 1e-12, dim: int | None = None) -> Module:
    """Spectral normalisation, as ``torch.nn.utils.parametrizations.spectral_norm``:
    ``module.<name>`` is divided by its largest singular value, estimated by power iteration
    (the vectors ``_u``, ``_v`` are buffers of ``parametrizations.<name>[0]``, in the state
    dict). ``dim``: the output axis, 0 by default (1 for a transposed convolution). Returns
    the module."""
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ValueError(f"spectral_norm: {type(module).__name__} has no parameter or buffer "
                         f"{name!r}")
    if dim is None:
        dim = 1 if "ConvTranspose" in type(module).__name__ else 0
    parametrize.register_parametrization(
        module, name, _SpectralNorm(weight, n_power_iterations, dim, eps))
    return module

