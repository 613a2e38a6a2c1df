"""Helpers every distribution uses (parameters to tensors, broadcasting, checks, host draws),
and PyTorch's public ones, as ``torch.distributions.utils``: ``broadcast_all``,
``probs_to_logits``, ``logits_to_probs``, ``clamp_probs``, ``lazy_property``,
``tril_matrix_to_vec``, ``vec_to_tril_matrix``, ``euler_constant``."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..tensor import Tensor, default_dtype, tensor


def _as_tensor(value: Any, like: Tensor | None = None, device: str | None = None) -> Tensor:
    """``value`` as a floating-point tensor (of ``like``'s dtype and device, for a number or an
    integer tensor, or a narrower floating one; without ``like``, the default dtype (float32
    unless ``tr.set_default_dtype`` changed it, as PyTorch's) on ``device``)."""
    if isinstance(value, Tensor):
        if value.dtype.kind == "f":  # widened to like's, as PyTorch's promotion would first
            wider = like is not None and like.dtype.itemsize > value.dtype.itemsize
            return value.type_as(like) if wider else value
        return value.type_as(like) if like is not None else value.to(dtype=default_dtype())
    if like is not None:
        return tensor(value, dtype=like.dtype, device=like.device)
    return tensor(value, dtype=default_dtype(), device=device)


def _params(name: str, **values: Any) -> tuple[list[Tensor], tuple[int, ...]]:
    """The parameters as tensors broadcast to one shape (numbers take the dtype and device of
    the first floating tensor among them), and that shape: the batch shape."""
    like = next((v for v in values.values() if isinstance(v, Tensor) and v.dtype.kind == "f"),
                None)
    # without a floating tensor, numbers go where an integer one is (a Binomial's counts)
    device = next((v.device for v in values.values() if isinstance(v, Tensor)), None)
    ts = [_as_tensor(v, like, device) for v in values.values()]
    try:
        shape = tuple(np.broadcast_shapes(*(t.shape for t in ts)))
    except ValueError:
        got = ", ".join(f"{k} of shape {t.shape}" for k, t in zip(values, ts))
        raise ValueError(f"{name}: the parameters do not broadcast together: {got}") from None
    return [t if t.shape == shape else t.broadcast_to(shape) for t in ts], shape


def _require(owner: str, name: str, value: Tensor, ok: Tensor, constraint: str) -> None:
    """Raise a ValueError unless ``ok`` (broadcastable against ``value``) holds everywhere."""
    good = ok.numpy()
    if not good.all():
        good, v = np.broadcast_arrays(good, value.detach().numpy())
        bad = v[~good]
        raise ValueError(f"{owner}: {name} must be {constraint}; {bad.size} of {good.size} "
                         f"elements (shape {good.shape}) are not, the first {bad.flat[0].item()}")


def _one_of(probs: Any, logits: Any, name: str) -> None:
    if (probs is None) == (logits is None):
        raise ValueError(f"{name}: give either probs or logits, not both nor neither")


def _shape(sample_shape: Any) -> tuple[int, ...]:
    return (sample_shape,) if isinstance(sample_shape, int) else tuple(sample_shape)


def _host(t: Tensor) -> np.ndarray:
    return t.detach().numpy()


def _below_one(u: np.ndarray, dtype: Any, low: float = 0.0) -> np.ndarray:
    """Host draws ``u`` in [low, 1) cast to ``dtype``, kept there: the cast rounds draws within
    half an ulp of 1 up to 1 itself (a float32 Uniform's high, log 0 in a Laplace)."""
    u = np.asarray(u).astype(dtype)
    return np.clip(u, np.asarray(low, dtype), np.nextafter(np.asarray(1, dtype), 0))


def _drawn(values: Any, like: Tensor) -> Tensor:
    """Host draws as a tensor of ``like``'s dtype, on its device."""
    return tensor(np.asarray(values), dtype=like.dtype, device=like.device)


def _binary_logits(probs: Tensor) -> Tensor:
    """log(p / (1 - p)) of p clamped to [eps, 1 - eps], as PyTorch's ``probs_to_logits``."""
    eps = float(np.finfo(probs.dtype).eps)
    p = probs.clamp(eps, 1 - eps)
    return p.log() - (-p).log1p()


def _sum_rightmost(x: Tensor, n: int) -> Tensor:
    return x.reshape(x.shape[:x.ndim - n] + (-1,)).sum(-1) if n > 0 else x


def _nonnegative_integer(v: Tensor) -> Tensor:
    return (v >= 0) & (v == v.floor())


def _clamped(x: Tensor, low: float, high: float = math.inf) -> Tensor:
    """``x`` with its values clamped to [low, high] and its gradient untouched (PyTorch's
    ``value.detach().clamp_``): a draw that underflowed stays a valid point of the support."""
    return x + (x.clamp(low, high) - x).detach()


# ---- PyTorch's public helpers (torch.distributions.utils) ----------------------------------

euler_constant = 0.57721566490153286060  # Euler-Mascheroni: -ψ(1)


def broadcast_all(*values: Any) -> tuple[Tensor, ...]:
    """``values`` (tensors and numbers) as tensors broadcast to one shape; numbers take the
    dtype and device of the first floating tensor among them (the default dtype without one)."""
    if not values:
        return ()
    ts, _ = _params("broadcast_all", **{f"value {i}": v for i, v in enumerate(values)})
    return tuple(ts)


def clamp_probs(probs: Tensor) -> Tensor:
    """``probs`` clamped to [eps, 1 - eps] of its dtype: no log 0 later."""
    eps = float(np.finfo(probs.dtype).eps)
    return probs.clamp(eps, 1 - eps)


def probs_to_logits(probs: Tensor, is_binary: bool = False) -> Tensor:
    """log p (categories) or log(p / (1 - p)) (one coin), of p clamped by ``clamp_probs``."""
    p = clamp_probs(probs)
    return p.log() - (-p).log1p() if is_binary else p.log()


def logits_to_probs(logits: Tensor, is_binary: bool = False) -> Tensor:
    """sigmoid(logits) (one coin) or softmax over the last axis (categories)."""
    return logits.sigmoid() if is_binary else logits.softmax(-1)


class lazy_property:  # noqa: N801 (PyTorch's name)
    """A property computed once, on first use, then stored on the instance (PyTorch's
    ``lazy_property``: a Categorical made from logits computes its probs only if asked)."""

    def __init__(self, wrapped: Any) -> None:
        self.wrapped = wrapped
        self.__doc__ = wrapped.__doc__

    def __get__(self, instance: Any, obj_type: Any = None) -> Any:
        if instance is None:
            return self
        value = self.wrapped(instance)
        setattr(instance, self.wrapped.__name__, value)
        return value


def _tril_flat_indices(n: int, diag: int) -> np.ndarray:
    rows, cols = np.tril_indices(n, k=diag)
    return rows * n + cols


def tril_matrix_to_vec(mat: Tensor, diag: int = 0) -> Tensor:
    """The entries of ``mat`` (..., n, n) on and below its ``diag``-th diagonal, row by row,
    as a vector (..., m)."""
    n = mat.shape[-1]
    idx = tensor(_tril_flat_indices(n, diag), dtype="int64", device=mat.device)
    return mat.reshape(mat.shape[:-2] + (n * n,)).index_select(-1, idx)


def vec_to_tril_matrix(vec: Tensor, diag: int = 0) -> Tensor:
    """The inverse of ``tril_matrix_to_vec``: a (..., n, n) matrix, zero above the ``diag``-th
    diagonal, n solved from the vector's length m = n (n + 1) / 2 + diag n - ... (PyTorch's
    formula); written as a product with a 0/1 matrix, so differentiable."""
    m = vec.shape[-1]
    n = int(round((-(1 + 2 * diag) + math.sqrt((1 + 2 * diag) ** 2 + 8 * m
                                                + 4 * abs(diag) * (diag + 1))) / 2))
    flat = _tril_flat_indices(n, diag)
    if len(flat) != m:
        raise ValueError(f"vec_to_tril_matrix: a vector of {m} entries fills no triangle of "
                         f"diagonal offset {diag}")
    place = np.zeros((m, n * n))
    place[np.arange(m), flat] = 1.0
    out = vec @ tensor(place, dtype=vec.dtype, device=vec.device)
    return out.reshape(vec.shape[:-1] + (n, n))
