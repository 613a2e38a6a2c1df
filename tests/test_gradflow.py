"""Gradient flow, exactly: what the engine measures matches the closed forms, and the measured
decay factors order the cells as the theory says."""

from __future__ import annotations

import numpy as np

import tinygrad_rnn as tr
from tinygrad_rnn import functional as F
from tinygrad_rnn import nn
from tinygrad_rnn.experiments import decay_factor, gradient_norms


def test_lstm_with_zero_weights_carries_the_cell_state_by_sigma_bf_per_step():
    """W = 0: f = σ(b_f) at every step and c_t = f c_{t-1} + i g, so ∂c_T/∂c_t = σ(b_f)^(T-t)."""
    T, H, b_f = 30, 3, 0.7
    w_ih, w_hh = tr.zeros(4 * H, 2, dtype="float64"), tr.zeros(4 * H, H, dtype="float64")
    b = np.zeros(4 * H)
    b[H:2 * H] = b_f
    b_ih, b_hh = tr.tensor(b), tr.zeros(4 * H, dtype="float64")
    x = tr.randn(T, 1, 2, dtype="float64")
    h = tr.zeros(1, H, dtype="float64")
    c = tr.zeros(1, H, dtype="float64", requires_grad=True)
    cs = []
    for t in range(T):
        h, c = F.lstm_cell(x[t], (h, c), w_ih, w_hh, b_ih, b_hh)
        c.retain_grad()
        cs.append(c)
    c.sum().backward()
    sig = 1 / (1 + np.exp(-b_f))
    for t, ct in enumerate(cs):
        np.testing.assert_allclose(ct.grad.numpy(), sig ** (T - 1 - t), rtol=1e-12)


def test_linear_orthogonal_recurrence_scales_the_gradient_by_s_per_step():
    """h_t = s Q h_{t-1} with Q orthogonal: ‖∂h_T/∂h_t‖ = s^(T-t) exactly."""
    T, H, s = 25, 6, 0.9
    q, _ = np.linalg.qr(np.random.default_rng(0).standard_normal((H, H)))
    Q = tr.tensor(s * q)
    h = tr.tensor(np.random.default_rng(1).standard_normal((1, H)), requires_grad=True)
    hs = [h]
    for _ in range(T):
        h = h @ Q.T
        h.retain_grad()
        hs.append(h)
    v = np.random.default_rng(2).standard_normal((1, H))
    (h * tr.tensor(v)).sum().backward()
    for t, ht in enumerate(hs):
        expected = s ** (T - t) * np.linalg.norm(v)
        np.testing.assert_allclose(np.linalg.norm(ht.grad.numpy()), expected, rtol=1e-10)


def test_decay_factor_recovers_a_geometric_rate():
    norms = 3.0 * 0.8 ** (np.arange(50)[::-1])
    assert abs(decay_factor(norms) - 0.8) < 1e-12


def test_gradient_norms_equal_the_layers_own_gradients():
    tr.manual_seed(0)
    lstm = nn.LSTM(2, 4, dtype="float64")
    x = tr.randn(12, 3, 2, dtype="float64")
    norms = gradient_norms(lstm, x)
    assert norms.shape == (12,) and np.all(norms > 0)
    assert norms[-1] > norms[0]  # at initialisation the signal fades going back in time


def test_measured_decay_orders_the_cells_as_the_theory_says():
    from tinygrad_rnn.cli import gradflow_table

    rows = {r["model"]: r["decay_factor"] for r in gradflow_table(T=60, hidden=32, batch=16,
                                                                  seed=0)}
    assert (rows["LSTM, forget bias 3"] > rows["LSTM, forget bias 1"]
            > rows["LSTM, forget bias 0"])
    assert rows["LSTM, forget bias 1"] > rows["RNN (tanh)"]
    # an orthogonal W_hh leaves only tanh' to shrink the gradient
    assert rows["RNN, orthogonal W_hh"] > rows["RNN (tanh)"] + 0.1
