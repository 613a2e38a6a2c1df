"""``tr.diagnostics``: per-step hidden-state gradient norms and gate saturation."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_rnn as tr
from tinygrad_rnn import experiments, nn
from tinygrad_rnn.diagnostics import gate_stats, hidden_grad_norms

T, B, I, H = 12, 3, 4, 5


def _sigmoid(a):
    return 1 / (1 + np.exp(-a))


def _layer(kind, **kw):
    tr.manual_seed(0)
    cls = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}[kind]
    return cls(I, H, dtype="float64", **kw)


def _x(seed=1, scale=1.0):
    return tr.tensor(scale * np.random.default_rng(seed).standard_normal((T, B, I)))


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_hidden_grad_norms_leave_the_layer_alone_and_fade_going_back(kind):
    layer, x = _layer(kind), _x()
    got = hidden_grad_norms(layer, x)
    assert got.shape == (T,) and np.all(got > 0)
    assert all(p.grad is None for p in layer.parameters())  # the layer's grads untouched
    assert got[-1] > got[0]  # at initialisation the signal fades going back in time
    np.testing.assert_array_equal(got, experiments.gradient_norms(layer, x))  # gradflow's


def test_hidden_grad_norms_rnn_matches_manual_backprop():
    layer, x = _layer("rnn"), _x()
    W_ih, W_hh = layer.weight_ih_l0.numpy(), layer.weight_hh_l0.numpy()
    b = layer.bias_ih_l0.numpy() + layer.bias_hh_l0.numpy()
    hs, h = [], np.zeros((B, H))
    for t in range(T):
        h = np.tanh(x.numpy()[t] @ W_ih.T + h @ W_hh.T + b)
        hs.append(h)
    v = np.random.default_rng(0).standard_normal((B, H))
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    g, want = v, [None] * T  # L = <v, h_T>; dL/dh_{t-1} = W_hhᵀ (dL/dh_t ⊙ (1 - h_t²))
    for t in range(T - 1, -1, -1):
        want[t] = np.linalg.norm(g, axis=1).mean()
        g = (g * (1 - hs[t] ** 2)) @ W_hh
    np.testing.assert_allclose(hidden_grad_norms(layer, x), want, rtol=1e-10)


def test_hidden_grad_norms_custom_loss_counts_every_path():
    layer, x = _layer("lstm"), _x()
    norms = hidden_grad_norms(layer, x, loss=lambda hs: (hs * hs).sum())
    assert norms.shape == (T,) and (norms > 0).all()
    # a loss on the last step alone reaches earlier steps only through the recurrence
    last = hidden_grad_norms(layer, x, loss=lambda hs: hs[-1].sum())
    np.testing.assert_allclose(last[-1], np.sqrt(H))  # ∂L/∂h_T = ones(H) per sequence
    assert last[0] < last[-1]
    # batch_first layers take (B, T, I)
    bf = _layer("lstm", batch_first=True)
    np.testing.assert_allclose(hidden_grad_norms(bf, x.transpose(1, 0, 2)),
                               hidden_grad_norms(layer, x), rtol=1e-12)
    with pytest.raises(ValueError, match="scalar"):
        hidden_grad_norms(layer, x, loss=lambda hs: hs)


def test_hidden_grad_norms_plain_rnn_vanishes_faster_than_lstm():
    x = _x(scale=0.5)
    rnn = hidden_grad_norms(_layer("rnn"), x)
    lstm = hidden_grad_norms(_layer("lstm", forget_bias=3.0), x)
    assert rnn[0] / rnn[-1] < lstm[0] / lstm[-1]


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_gate_stats_match_manual_gates(kind):
    layer, x = _layer(kind), _x(scale=3.0)
    W_ih, W_hh = layer.weight_ih_l0.numpy(), layer.weight_hh_l0.numpy()
    b_ih, b_hh = layer.bias_ih_l0.numpy(), layer.bias_hh_l0.numpy()
    h, c = np.zeros((B, H)), np.zeros((B, H))
    acts = {k: [] for k in ("i", "f", "o", "r", "z")}
    for t in range(T):
        gi, gh = x.numpy()[t] @ W_ih.T + b_ih, h @ W_hh.T + b_hh
        if kind == "lstm":
            zi, zf, zg, zo = np.split(gi + gh, 4, axis=1)
            i, f, o = _sigmoid(zi), _sigmoid(zf), _sigmoid(zo)
            c = f * c + i * np.tanh(zg)
            h = o * np.tanh(c)
            acts["i"].append(i), acts["f"].append(f), acts["o"].append(o)
        else:
            (ir, iz, i_n), (hr, hz, hn) = np.split(gi, 3, axis=1), np.split(gh, 3, axis=1)
            r, z = _sigmoid(ir + hr), _sigmoid(iz + hz)
            h = (1 - z) * np.tanh(i_n + r * hn) + z * h
            acts["r"].append(r), acts["z"].append(z)
    for threshold in (0.05, 0.1, 0.3):
        stats = gate_stats(layer, x, threshold=threshold)
        assert list(stats) == (["i", "f", "o"] if kind == "lstm" else ["r", "z"])
        for name, frac in stats.items():
            a = np.stack(acts[name])
            assert frac == pytest.approx(((a < threshold) | (a > 1 - threshold)).mean())


def test_gate_stats_extremes():
    layer = _layer("lstm")
    for p in layer.parameters():
        p.data[...] = 0.0  # every gate is σ(0) = 0.5
    assert gate_stats(layer, _x()) == {"i": 0.0, "f": 0.0, "o": 0.0}
    layer.bias_ih_l0.data[...] = 50.0  # every gate is σ(50) ≈ 1
    assert gate_stats(layer, _x()) == {"i": 1.0, "f": 1.0, "o": 1.0}
    with pytest.raises(ValueError, match="no gates"):
        gate_stats(_layer("rnn"), _x())
    with pytest.raises(ValueError, match="threshold"):
        gate_stats(layer, _x(), threshold=0.5)


def test_diagnostics_accept_cells_and_unbatched_input():
    tr.manual_seed(0)
    cell = nn.GRUCell(I, H, dtype="float64")
    x = _x()
    norms = hidden_grad_norms(cell, x[:, 0])  # (T, I): one sequence
    assert norms.shape == (T,)
    assert set(gate_stats(cell, x)) == {"r", "z"}
    with pytest.raises(TypeError, match="recurrent layer"):
        hidden_grad_norms(nn.Linear(I, H), x)


def test_hidden_grad_norms_work_under_no_grad_and_on_a_frozen_layer():
    tr.manual_seed(0)
    lstm = nn.LSTM(3, 4)
    x = np.random.default_rng(0).standard_normal((5, 2, 3))
    want = hidden_grad_norms(lstm, x)
    with tr.no_grad():  # as in an evaluation block
        np.testing.assert_array_equal(hidden_grad_norms(lstm, x), want)
    lstm.requires_grad_(False)
    np.testing.assert_array_equal(hidden_grad_norms(lstm, x), want)
    assert all(p.grad is None for p in lstm.parameters())
    with pytest.raises(ValueError, match="at least one step"):
        hidden_grad_norms(lstm, x[:0])


def test_hidden_grad_norms_of_a_float32_layer_do_not_underflow_to_zero():
    """Vanishing gradients reach 1e-39 here: representable in float32, but their squares are
    not, so the norms are taken in float64."""
    tr.manual_seed(0)
    rnn = nn.RNN(3, 16)
    x = np.random.default_rng(0).standard_normal((120, 2, 3))
    norms = hidden_grad_norms(rnn, x)
    assert np.all(norms > 0) and norms[0] < 1e-30
