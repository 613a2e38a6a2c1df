"""A first look at tinygrad_rnn: build a computation, backpropagate, check the gradient, train.

Run:  python examples/demo.py
"""

from __future__ import annotations

import numpy as np

import tinygrad_rnn as tr
from tinygrad_rnn import functional as F
from tinygrad_rnn.testing import gradcheck

tr.manual_seed(0)

# 1. Autograd on a small expression: y = sum(tanh(W x) ** 2)
W = tr.randn(3, 2, requires_grad=True)
x = tr.tensor([0.5, -1.0])
y = ((W @ x).tanh() ** 2).sum()
y.backward()
print("y =", round(y.item(), 4))
print("dy/dW =\n", W.grad.numpy().round(4))

# 2. Check that gradient against central differences (in float64)
print("gradcheck passes:", gradcheck(lambda w, v: ((w @ v).tanh() ** 2).sum(), [W, x]))

# 3. Train a two-layer network on two interleaved spirals with plain gradient descent
rng = np.random.default_rng(0)
n = 200
t = rng.uniform(0.5, 3.5, n)
label = rng.integers(0, 2, n)
angle = t * 2.5 + np.pi * label
points = np.stack([t * np.cos(angle), t * np.sin(angle)], 1) / 3.5
X, Y = tr.tensor(points.astype(np.float32)), tr.tensor(label)

W1 = (tr.randn(32, 2) * 1.0).requires_grad_()
b1 = tr.zeros(32, requires_grad=True)
W2 = (tr.randn(2, 32) * 0.2).requires_grad_()
b2 = tr.zeros(2, requires_grad=True)
params = [W1, b1, W2, b2]

for step in range(1001):
    logits = F.linear(F.linear(X, W1, b1).tanh(), W2, b2)
    loss = F.cross_entropy(logits, Y)
    for p in params:
        p.grad = None
    loss.backward()
    with tr.no_grad():
        for p in params:
            p -= 0.5 * p.grad  # in place: p stays the same leaf
    if step % 200 == 0:
        accuracy = (logits.argmax(axis=1) == Y).numpy().mean()
        print(f"step {step:4d}  loss {loss.item():.4f}  accuracy {accuracy:.2f}")
