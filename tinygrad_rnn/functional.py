"""Compositions of the primitive ops: layers' math, activations and losses.

Everything here is built from ops in ``ops/``, so its gradient (and its second derivative) comes
from theirs; nothing here has a backward of its own.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from . import random as _random
from .ops.elementwise import where
from .ops.movement import stack
from .tensor import Tensor

Reduction = str  # "mean", "sum" or "none"


def _same_device(where: str, name: str, a: Any, other: str, b: Tensor) -> None:
    """Refuse a tensor ``a`` on another device than ``b`` (a list or array is moved)."""
    if isinstance(a, Tensor) and a._dev is not b._dev:
        raise ValueError(f"{where}: {name} on {a.device!r}, {other} on {b.device!r}; move "
                         f"{name} with .to({b.device!r})")


def linear(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """y = x Wᵀ + b, with W of shape (out_features, in_features) as in PyTorch."""
    if x.ndim == 0:
        raise ValueError(f"linear: the input must have at least one axis (its features), "
                         f"got a 0-d tensor; the weight expects {weight.shape[-1]} features")
    if x.dtype != weight.dtype:
        raise TypeError(f"linear: input dtype {x.dtype} does not match the weight's dtype "
                        f"{weight.dtype}; convert the input with x.to({str(weight.dtype)!r}) "
                        "or the layer with .to(dtype)")
    if x.shape[-1] != weight.shape[-1]:
        raise ValueError(
            f"linear: input has {x.shape[-1]} features (shape {x.shape}) but the weight "
            f"expects {weight.shape[-1]} (weight shape {weight.shape})"
        )
    y = x @ weight.T
    return y if bias is None else y + bias


def _shift(x: Tensor, axis: int) -> Tensor:
    """x - m, m the maximum along ``axis`` as a constant (0 for a row of -inf, which then
    stays -inf): the largest shifted value is 0, so exp() neither overflows nor underflows."""
    xp = x._dev.xp
    if x.size == 0:
        return x
    m = x.data.max(axis=axis, keepdims=True)
    return x - Tensor._wrap(xp.where(m == -np.inf, 0, m), x._dev)


def softmax(x: Tensor, axis: int = -1) -> Tensor:
    """exp(x - m) / Σ exp(x - m) along ``axis``, m the (constant) maximum: stable for any finite
    input, and exact to the dtype's precision even at large magnitudes."""
    e = _shift(x, axis).exp()
    return e / e.sum(axis, keepdims=True)


def log_softmax(x: Tensor, axis: int = -1) -> Tensor:
    """s - log Σ exp(s) along ``axis``, with s = x - m (m the constant maximum): never takes the
    log of an underflowed zero, and exact at large magnitudes, where x - logsumexp(x) would
    subtract two large, nearly equal numbers."""
    if x.size == 0:  # nothing to normalise (and no log of an empty sum)
        return x.reshape(x.shape)
    s = _shift(x, axis)
    return s - s.exp().sum(axis, keepdims=True).log()


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
    _same_device("cross_entropy", "target", target, "input", logits)
    t = target if isinstance(target, Tensor) else Tensor._wrap(
        logits._dev.to_device(np.asarray(target)), logits._dev)
    if t.dtype.kind not in "iu":
        raise TypeError(f"cross_entropy: target must hold integer class indices, got {t.dtype}")
    if logits.ndim == 0:
        raise ValueError("cross_entropy: logits must have a class axis, got a scalar")
    # target shape: the input's without its class axis (axis 1, or axis 0 for one sample)
    expected = () if logits.ndim == 1 else (logits.shape[0], *logits.shape[2:])
    if t.shape != expected:
        raise ValueError(
            f"cross_entropy: target shape {t.shape} does not fit input shape {logits.shape}: "
            f"expected target shape {expected}"
        )
    out_shape = t.shape
    if logits.ndim == 1:
        logits, t = logits.reshape(1, -1), t.reshape(1)
    if logits.ndim > 2:  # classes on axis 1: move them last and flatten the rest
        c = logits.shape[1]
        logits = logits.transpose((0, *range(2, logits.ndim), 1)).reshape(-1, c)
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
        return loss.reshape(out_shape)
    return _reduce(loss, reduction, count)


def _check_tensors(where: str, **args: Any) -> None:
    for name, value in args.items():
        if not isinstance(value, Tensor):
            raise TypeError(f"{where}: {name} must be a Tensor, got {type(value).__name__} "
                            "(tr.tensor(...) makes one)")


def mse_loss(input: Tensor, target: Tensor, reduction: Reduction = "mean") -> Tensor:  # noqa: A002
    """(input - target)², reduced."""
    _check_tensors("mse_loss", input=input, target=target)
    if input.shape != target.shape:
        raise ValueError(f"mse_loss: input shape {input.shape} != target shape {target.shape}")
    d = input - target
    return _reduce(d * d, reduction)


def binary_cross_entropy_with_logits(
    logits: Tensor, target: Tensor, reduction: Reduction = "mean"
) -> Tensor:
    """-[y log σ(x) + (1 - y) log(1 - σ(x))] = log(1 + exp(x)) - x y, with log(1 + exp(x))
    computed as logsumexp([0, x]): it neither overflows nor takes the log of zero, and its
    gradient σ(x) - y is exact everywhere (x = 0 included)."""
    _check_tensors("binary_cross_entropy_with_logits", logits=logits, target=target)
    if logits.shape != target.shape:
        raise ValueError(
            f"binary_cross_entropy_with_logits: logits shape {logits.shape} != target shape "
            f"{target.shape}"
        )
    zero = Tensor._wrap(logits._dev.xp.zeros(logits.shape, dtype=logits.dtype), logits._dev)
    loss = stack([zero, logits], -1).logsumexp(-1) - logits * target
    return _reduce(loss, reduction)


def dropout(x: Tensor, p: float = 0.5, training: bool = True) -> Tensor:
    """Zero each element with probability ``p`` and scale the rest by 1/(1-p) (in training;
    the identity otherwise). The mask comes from ``tr.manual_seed``'s generator."""
    if isinstance(p, bool) or not isinstance(p, numbers.Real) or not 0 <= p <= 1:
        raise ValueError(f"dropout probability must be a number in [0, 1], got {p!r}")
    if not training or p == 0:
        return x
    if p == 1:
        return x * 0
    keep = _random.generator().random(x.shape) >= p
    mask = x._dev.to_device((keep / (1 - p)).astype(x.dtype))
    return x * Tensor._wrap(mask, x._dev)


def embedding(indices: Tensor | Any, weight: Tensor, padding_idx: int | None = None) -> Tensor:
    """Rows of ``weight`` picked by integer ``indices`` (any shape); the gradient adds up rows
    picked more than once. The row ``padding_idx``, where given, gets no gradient."""
    _same_device("embedding", "indices", indices, "weight", weight)
    idx = indices.data if isinstance(indices, Tensor) else weight._dev.to_device(
        np.asarray(indices))
    if idx.dtype.kind not in "iu":
        raise TypeError(f"embedding: indices must be integers, got {idx.dtype}")
    n = weight.shape[0]
    if idx.size and (bool((idx < 0).any()) or bool((idx >= n).any())):
        raise ValueError(f"embedding: indices must lie in [0, {n})")
    rows = weight[idx]
    if padding_idx is None:
        return rows
    if not -n <= padding_idx < n:
        raise ValueError(f"embedding: padding_idx must lie in [-{n}, {n}), got {padding_idx}")
    return where((idx == padding_idx % n)[..., None], rows.detach(), rows)


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


# ---- recurrent cells, composed from primitive ops ----------------------------------------
# Each is one time step for a batch: x is (B, I) (or (I,)), the state (B, H) (or (H,)).
# Weights use PyTorch's layout: W_ih is (G*H, I) and W_hh is (G*H, H), with the G gate blocks
# stacked in PyTorch's order. These are the readable reference that fast paths are tested
# against.


def rnn_cell(
    x: Tensor, h: Tensor, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor | None = None,
    b_hh: Tensor | None = None, nonlinearity: str = "tanh",
) -> Tensor:
    """Elman RNN step:  h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)  (or relu)."""
    return rnn_cell_projected(linear(x, w_ih, b_ih), h, w_hh, b_hh, nonlinearity)


def rnn_cell_projected(
    xw: Tensor, h: Tensor, w_hh: Tensor, b_hh: Tensor | None = None, nonlinearity: str = "tanh"
) -> Tensor:
    """``rnn_cell`` with its input half xw = W_ih x_t + b_ih already computed: a sequence layer
    computes it for every step at once, with one matmul, before the loop."""
    pre = xw + linear(h, w_hh, b_hh)
    if nonlinearity == "tanh":
        return pre.tanh()
    if nonlinearity == "relu":
        return pre.relu()
    raise ValueError(f"nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")


def lstm_cell(
    x: Tensor, state: tuple[Tensor, Tensor], w_ih: Tensor, w_hh: Tensor,
    b_ih: Tensor | None = None, b_hh: Tensor | None = None, w_hr: Tensor | None = None,
) -> tuple[Tensor, Tensor]:
    """LSTM step, gate blocks stacked i, f, g, o (PyTorch's order)::

        i = σ(W_ii x_t + b_ii + W_hi h_{t-1} + b_hi)     input gate
        f = σ(W_if x_t + b_if + W_hf h_{t-1} + b_hf)     forget gate
        g = tanh(W_ig x_t + b_ig + W_hg h_{t-1} + b_hg)  candidate
        o = σ(W_io x_t + b_io + W_ho h_{t-1} + b_ho)     output gate
        c_t = f ⊙ c_{t-1} + i ⊙ g
        h_t = o ⊙ tanh(c_t)        (then h_t = W_hr h_t with a projection, ``proj_size``)

    The cell state c is carried by a sum, not squashed at every step: ∂c_t/∂c_{t-1} = f,
    which is why gradients survive long sequences when f stays near 1.
    """
    return lstm_cell_projected(linear(x, w_ih, b_ih), state, w_hh, b_hh, w_hr)


def lstm_cell_projected(
    xw: Tensor, state: tuple[Tensor, Tensor], w_hh: Tensor, b_hh: Tensor | None = None,
    w_hr: Tensor | None = None,
) -> tuple[Tensor, Tensor]:
    """``lstm_cell`` with its input half xw = W_ih x_t + b_ih already computed (see
    ``rnn_cell_projected``)."""
    h, c = state
    gates = xw + linear(h, w_hh, b_hh)
    i, f, g, o = gates.split(c.shape[-1], axis=-1)
    i, f, g, o = i.sigmoid(), f.sigmoid(), g.tanh(), o.sigmoid()
    c = f * c + i * g
    h = o * c.tanh()
    if w_hr is not None:
        h = linear(h, w_hr)
    return h, c


def gru_cell(
    x: Tensor, h: Tensor, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor | None = None,
    b_hh: Tensor | None = None,
) -> Tensor:
    """GRU step, gate blocks stacked r, z, n (PyTorch's order)::

        r = σ(W_ir x_t + b_ir + W_hr h_{t-1} + b_hr)             reset gate
        z = σ(W_iz x_t + b_iz + W_hz h_{t-1} + b_hz)             update gate
        n = tanh(W_in x_t + b_in + r ⊙ (W_hn h_{t-1} + b_hn))    candidate
        h_t = (1 - z) ⊙ n + z ⊙ h_{t-1}

    The reset gate multiplies W_hn h + b_hn (after the product), as PyTorch and cuDNN do.
    """
    return gru_cell_projected(linear(x, w_ih, b_ih), h, w_hh, b_hh)


def gru_cell_projected(
    gi: Tensor, h: Tensor, w_hh: Tensor, b_hh: Tensor | None = None
) -> Tensor:
    """``gru_cell`` with its input half gi = W_ih x_t + b_ih already computed (see
    ``rnn_cell_projected``)."""
    i_r, i_z, i_n = gi.split(h.shape[-1], axis=-1)
    h_r, h_z, h_n = linear(h, w_hh, b_hh).split(h.shape[-1], axis=-1)
    r = (i_r + h_r).sigmoid()
    z = (i_z + h_z).sigmoid()
    n = (i_n + r * h_n).tanh()
    return (1 - z) * n + z * h
