"""Compositions of the primitive ops: layers' math, activations and losses.

Everything here is built from ops in ``ops/``, so its gradient (and its second derivative) comes
from theirs; nothing here has a backward of its own.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import random as _random
from .ops.elementwise import where
from .tensor import Tensor

Reduction = str  # "mean", "sum" or "none"


def linear(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """y = x Wᵀ + b, with W of shape (out_features, in_features) as in PyTorch."""
    if x.shape[-1] != weight.shape[-1]:
        raise ValueError(
            f"linear: input has {x.shape[-1]} features (shape {x.shape}) but the weight "
            f"expects {weight.shape[-1]} (weight shape {weight.shape})"
        )
    y = x @ weight.T
    return y if bias is None else y + bias


def softmax(x: Tensor, axis: int = -1) -> Tensor:
    """exp(x - logsumexp(x)) along ``axis``: stable for any finite input."""
    return (x - x.logsumexp(axis, keepdims=True)).exp()


def log_softmax(x: Tensor, axis: int = -1) -> Tensor:
    """x - logsumexp(x) along ``axis``: never takes the log of an underflowed zero."""
    return x - x.logsumexp(axis, keepdims=True)


def _reduce(loss: Tensor, reduction: Reduction, count: Any = None) -> Tensor:
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    if reduction == "mean":
        return loss.sum() / count if count is not None else loss.mean()
    raise ValueError(f"reduction must be 'mean', 'sum' or 'none', got {reduction!r}")


def cross_entropy(
    logits: Tensor,
    target: Tensor | Any,
    reduction: Reduction = "mean",
    ignore_index: int = -100,
) -> Tensor:
    """Softmax cross-entropy with integer class targets, as ``torch.nn.functional.cross_entropy``.

    ``logits`` is (N, C) or (N, C, d1, ...) with classes on axis 1, or (C,) for one sample;
    ``target`` holds class indices of shape (N,) or (N, d1, ...). Targets equal to
    ``ignore_index`` add nothing, and "mean" divides by the number of the others.
    """
    t = target if isinstance(target, Tensor) else Tensor._wrap(
        logits._dev.to_device(np.asarray(target)), logits._dev)
    if t.dtype.kind not in "iu":
        raise TypeError(f"cross_entropy: target must hold integer class indices, got {t.dtype}")
    if logits.ndim == 1:
        logits, t = logits.reshape(1, -1), t.reshape(1)
    if logits.ndim > 2:  # classes on axis 1: move them last and flatten the rest
        c = logits.shape[1]
        logits = logits.transpose((0, *range(2, logits.ndim), 1)).reshape(-1, c)
    expected = (logits.shape[0],)
    if t.reshape(-1).shape != expected:
        raise ValueError(
            f"cross_entropy: target shape {t.shape} does not match the {logits.shape[0]} "
            f"predictions of the input"
        )
    xp = logits._dev.xp
    tflat = t.data.reshape(-1)
    keep = tflat != ignore_index
    n_classes = logits.shape[1]
    bad = keep & ((tflat < 0) | (tflat >= n_classes))
    if bool(bad.any()):
        raise ValueError(f"cross_entropy: target values must lie in [0, {n_classes})")
    safe = xp.where(keep, tflat, 0)
    logp = log_softmax(logits, axis=1)
    picked = logp[xp.arange(logits.shape[0]), safe]
    loss = where(keep, -picked, 0.0)
    # all targets ignored: the mean is 0 (not PyTorch's 0/0 = NaN)
    count = Tensor._wrap(xp.asarray(xp.maximum(keep.sum(), 1), dtype=logits.dtype), logits._dev)
    if reduction == "none":
        return loss.reshape(t.shape)
    return _reduce(loss, reduction, count)


def mse_loss(input: Tensor, target: Tensor, reduction: Reduction = "mean") -> Tensor:  # noqa: A002
    """(input - target)², reduced."""
    if input.shape != target.shape:
        raise ValueError(f"mse_loss: input shape {input.shape} != target shape {target.shape}")
    d = input - target
    return _reduce(d * d, reduction)


def binary_cross_entropy_with_logits(
    logits: Tensor, target: Tensor, reduction: Reduction = "mean"
) -> Tensor:
    """-[y log σ(x) + (1 - y) log(1 - σ(x))], computed as max(x, 0) - x y + log(1 + exp(-|x|)),
    which neither overflows nor takes the log of zero."""
    if logits.shape != target.shape:
        raise ValueError(
            f"binary_cross_entropy_with_logits: logits shape {logits.shape} != target shape "
            f"{target.shape}"
        )
    loss = logits.relu() - logits * target + (1 + (-logits.abs()).exp()).log()
    return _reduce(loss, reduction)


def dropout(x: Tensor, p: float = 0.5, training: bool = True) -> Tensor:
    """Zero each element with probability ``p`` and scale the rest by 1/(1-p) (in training;
    the identity otherwise). The mask comes from ``tr.manual_seed``'s generator."""
    if not 0 <= p <= 1:
        raise ValueError(f"dropout probability must be in [0, 1], got {p}")
    if not training or p == 0:
        return x
    if p == 1:
        return x * 0
    keep = _random.generator().random(x.shape) >= p
    mask = x._dev.to_device((keep / (1 - p)).astype(x.dtype))
    return x * Tensor._wrap(mask, x._dev)


def embedding(indices: Tensor | Any, weight: Tensor) -> Tensor:
    """Rows of ``weight`` picked by integer ``indices`` (any shape); the gradient adds up rows
    picked more than once."""
    idx = indices.data if isinstance(indices, Tensor) else weight._dev.to_device(
        np.asarray(indices))
    if idx.dtype.kind not in "iu":
        raise TypeError(f"embedding: indices must be integers, got {idx.dtype}")
    n = weight.shape[0]
    if idx.size and (bool((idx < 0).any()) or bool((idx >= n).any())):
        raise ValueError(f"embedding: indices must lie in [0, {n})")
    return weight[idx]


def one_hot(indices: Tensor | Any, num_classes: int = -1, dtype: Any = np.int64) -> Tensor:
    """A new last axis of length ``num_classes`` with a 1 at each index (int64, as PyTorch)."""
    t = indices if isinstance(indices, Tensor) else Tensor._wrap(np.asarray(indices), "cpu")
    if t.dtype.kind not in "iu":
        raise TypeError(f"one_hot: indices must be integers, got {t.dtype}")
    xp = t._dev.xp
    n = int(t.data.max()) + 1 if num_classes < 0 else num_classes
    if t.size and (bool((t.data < 0).any()) or bool((t.data >= n).any())):
        raise ValueError(f"one_hot: indices must lie in [0, {n})")
    out = t.data[..., None] == xp.arange(n)
    return Tensor._wrap(out.astype(dtype), t._dev)
