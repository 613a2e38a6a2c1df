"""An LSTM written out by hand from functional.lstm_cell, checked against nn.LSTM.

The layer is just this loop: one cell step per time step, the state (h, c) carried along.
Run:  python examples/lstm_by_hand.py
"""

from __future__ import annotations

import numpy as np

import tinygrad_rnn as tr
from tinygrad_rnn import functional as F
from tinygrad_rnn import nn

tr.manual_seed(0)
T, B, I, H = 20, 3, 4, 5
layer = nn.LSTM(I, H, dtype="float64")
x = tr.randn(T, B, I, dtype="float64")

# the loop, by hand: i, f, g, o gates and the cell state c, as in F.lstm_cell's docstring
h = tr.zeros(B, H, dtype="float64")
c = tr.zeros(B, H, dtype="float64")
w = (layer.weight_ih_l0, layer.weight_hh_l0, layer.bias_ih_l0, layer.bias_hh_l0)
outputs = []
for t in range(T):
    h, c = F.lstm_cell(x[t], (h, c), *w)
    outputs.append(h)
by_hand = tr.stack(outputs)

out, (h_n, c_n) = layer(x)  # the fused layer: one op for the whole sequence
print("largest difference from nn.LSTM:", float(np.abs(by_hand.numpy() - out.numpy()).max()))

# backprop through the hand-written loop reaches every weight
by_hand[-1].sum().backward()
print("dL/dW_hh has shape", layer.weight_hh_l0.grad.shape)  # (4H, H): i, f, g, o stacked
