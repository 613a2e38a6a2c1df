"""Gradient-flow diagnostics for recurrent layers, usable in any training loop.

- ``hidden_grad_norms(layer, x)``: ‖∂L/∂h_t‖ for every time step t. A plain RNN's norms fall
  geometrically as t moves away from the loss (vanishing gradients); an LSTM's fall slower.
- ``gate_stats(layer, x)``: the fraction of saturated gate activations (near 0 or near 1) of
  i, f, o (LSTM) or r, z (GRU). A saturated gate passes little gradient through its
  sigmoid: σ'(a) = σ(a)(1 - σ(a)) is at most 0.09 once σ(a) < 0.1 or σ(a) > 0.9 (the default
  ``threshold``), and at most 0.0099 beyond 0.01 and 0.99.

Both look at the first layer of ``layer`` in its forward direction (or at a cell), on an input
``x`` of shape (T, B, I) ((B, T, I) for a ``batch_first`` layer), unrolled with the composed
cells of ``functional`` so that every h_t is a tensor of its own. The layer computes the same
function whatever its ``impl``; its parameters' ``.grad`` are left untouched.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from . import functional as F
from .autograd import enable_grad, grad, no_grad
from .ops.movement import stack
from .tensor import Tensor, tensor

GATE_NAMES = {"LSTM": ("i", "f", "o"), "GRU": ("r", "z")}


def _first_layer(layer: Any) -> tuple[str, tuple[Any, ...]]:
    """The layer's mode ("LSTM", "GRU", "RNN_TANH", "RNN_RELU") and first-layer weights
    (w_ih, w_hh, b_ih, b_hh, w_hr), for a sequence layer or a cell."""
    mode = getattr(layer, "mode", None)
    if mode is None:
        raise TypeError(f"expected a recurrent layer or cell (nn.RNN, nn.LSTM, nn.GRU, their "
                        f"cells), got {type(layer).__name__}")
    if getattr(layer, "nonlinearity", "tanh") == "relu":
        mode = "RNN_RELU"
    if hasattr(layer, "_weights"):
        return mode, layer._weights(0, 0)
    return mode, (layer.weight_ih, layer.weight_hh, getattr(layer, "bias_ih", None),
                  getattr(layer, "bias_hh", None), None)


def _sequence(layer: Any, x: Any, w_ih: Tensor) -> Tensor:
    """``x`` as a (T, B, I) tensor with the weights' dtype and device."""
    if not isinstance(x, Tensor):
        x = tensor(x, dtype=w_ih.dtype, device=w_ih.device)
    if x.ndim == 2:  # unbatched (T, I)
        x = x.unsqueeze(1)
    elif getattr(layer, "batch_first", False):
        x = x.transpose(1, 0, 2)
    if x.ndim != 3 or x.shape[2] != w_ih.shape[1]:
        raise ValueError(f"expected an input of shape (T, B, {w_ih.shape[1]}), got {x.shape}")
    if x.shape[0] == 0 or x.shape[1] == 0:
        raise ValueError(f"expected at least one step and one sequence, got shape {x.shape}")
    return x.detach()


def _unroll(layer: Any, x: Any, track: bool = False
            ) -> tuple[str, tuple[Any, ...], Tensor, list[Tensor]]:
    """Run the first layer step by step with the composed cells: (mode, weights, x, [h_t]).
    ``track``: the zero initial state requires grad, so that every h_t does, even with the
    layer's weights frozen."""
    mode, (w_ih, w_hh, b_ih, b_hh, w_hr) = _first_layer(layer)
    x = _sequence(layer, x, w_ih)
    B, H = x.shape[1], w_hh.shape[0] // {"LSTM": 4, "GRU": 3}.get(mode, 1)
    xp = x._dev.xp
    h = Tensor._wrap(xp.zeros((B, w_hh.shape[1]), dtype=x.dtype), x._dev, track)
    c = Tensor._wrap(xp.zeros((B, H), dtype=x.dtype), x._dev, track)
    hs = []
    for t in range(x.shape[0]):
        if mode == "LSTM":
            h, c = F.lstm_cell(x[t], (h, c), w_ih, w_hh, b_ih, b_hh, w_hr)
        elif mode == "GRU":
            h = F.gru_cell(x[t], h, w_ih, w_hh, b_ih, b_hh)
        else:
            h = F.rnn_cell(x[t], h, w_ih, w_hh, b_ih, b_hh,
                           "relu" if mode == "RNN_RELU" else "tanh")
        hs.append(h)
    return mode, (w_ih, w_hh, b_ih, b_hh, w_hr), x, hs


def hidden_grad_norms(layer: Any, x: Any, loss: Callable[[Tensor], Tensor] | None = None,
                      seed: int = 0) -> np.ndarray:
    """‖∂L/∂h_t‖ for every step t of the first layer (forward direction), averaged over the
    batch: an array of length T.

    ``loss`` takes the hidden states stacked as (T, B, H) and returns a scalar tensor. The
    default is L = <v, h_{T-1}>, with v a fixed random unit vector per sequence (drawn from
    ``seed``): how much of a signal at the end of the sequence reaches step t, as
    ``experiments.gradient_norms`` measures it. ∂L/∂h_t is the total derivative: through the
    outputs at step t and through every later step. It works under ``no_grad`` and on a
    frozen layer, and changes no ``.grad``. The norms are taken in float64, so that those of a
    float32 layer do not underflow to 0.
    """
    with enable_grad():
        return _hidden_grad_norms(layer, x, loss, seed)


def _hidden_grad_norms(layer: Any, x: Any, loss: Callable[[Tensor], Tensor] | None,
                       seed: int) -> np.ndarray:
    _, _, x, hs = _unroll(layer, x, track=True)
    if loss is None:
        B, H = hs[-1].shape
        v = np.random.default_rng(seed).standard_normal((B, H))
        v /= np.linalg.norm(v, axis=1, keepdims=True)
        value = (hs[-1] * tensor(v, dtype=x.dtype, device=x.device)).sum()
    else:
        value = loss(stack(hs, 0))
        if not isinstance(value, Tensor) or value.size != 1:
            raise ValueError("hidden_grad_norms: loss must return a scalar tensor")
    if not value.requires_grad:
        raise RuntimeError("hidden_grad_norms: the loss does not depend on the hidden states")
    grads = grad(value, hs, allow_unused=True)
    return np.array([0.0 if g is None else
                     float(np.linalg.norm(g.numpy().astype(np.float64), axis=1).mean())
                     for g in grads])


def gate_stats(layer: Any, x: Any, threshold: float = 0.1) -> dict[str, float]:
    """Saturated fractions of the sigmoid gates of the first layer, over all steps and batch
    entries: for each gate, the fraction of activations below ``threshold`` or above
    ``1 - threshold``. Keys i, f, o for an LSTM; r, z for a GRU.

    The gates are computed as in ``functional.lstm_cell`` and ``functional.gru_cell``::

        i, f, g, o = split(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)      then i, f, o = σ(·)
        r, z = σ(W_ir x_t + b_ir + W_hr h_{t-1} + b_hr), σ(W_iz x_t + b_iz + W_hz h_{t-1} + b_hz)
    """
    if not 0 < threshold < 0.5:
        raise ValueError(f"gate_stats: threshold must lie in (0, 0.5), got {threshold}")
    mode = _first_layer(layer)[0]
    if mode not in GATE_NAMES:
        raise ValueError(f"gate_stats: a plain RNN ({mode}) has no gates; use an LSTM or a GRU")
    with no_grad():
        _, (w_ih, w_hh, b_ih, b_hh, _), x, hs = _unroll(layer, x)
        h_prev = [Tensor._wrap(x._dev.xp.zeros_like(hs[0]._data), x._dev), *hs[:-1]]
        saturated = dict.fromkeys(GATE_NAMES[mode], 0)
        count = 0
        for t, h in enumerate(h_prev):
            gi, gh = F.linear(x[t], w_ih, b_ih), F.linear(h, w_hh, b_hh)
            H = gh.shape[-1] // (4 if mode == "LSTM" else 3)
            if mode == "LSTM":
                i, f, _, o = (gi + gh).split(H, axis=-1)
                acts = {"i": i.sigmoid(), "f": f.sigmoid(), "o": o.sigmoid()}
            else:
                i_r, i_z, _ = gi.split(H, axis=-1)
                h_r, h_z, _ = gh.split(H, axis=-1)
                acts = {"r": (i_r + h_r).sigmoid(), "z": (i_z + h_z).sigmoid()}
            for name, a in acts.items():
                v = a.numpy()
                saturated[name] += int(((v < threshold) | (v > 1 - threshold)).sum())
            count += acts[GATE_NAMES[mode][0]].size
    return {name: n / count for name, n in saturated.items()}
