"""Autograd on scalars: build an expression, call backward(), and check each gradient by hand.

Run:  python examples/autograd_scalars.py
"""

from __future__ import annotations

import tinygrad_rnn as tr

# f(a, b) = (a * b + b ** 2).tanh()
a = tr.tensor(0.5, dtype="float64", requires_grad=True)
b = tr.tensor(-1.5, dtype="float64", requires_grad=True)
u = a * b  # an op: Mul, which remembers a and b
v = b**2  # b is used twice: its gradient gets both contributions
f = (u + v).tanh()
print("f =", round(f.item(), 6), " made by", type(f.grad_fn).__name__)

f.backward()  # walks the graph back: Tanh -> Add -> (Mul, PowScalar) -> a, b

# the chain rule by hand: df/da = (1 - f²) b,  df/db = (1 - f²) (a + 2b)
s = 1 - f.item() ** 2
print("df/da =", round(a.grad.item(), 6), " by hand:", round(s * b.item(), 6))
print("df/db =", round(b.grad.item(), 6), " by hand:", round(s * (a.item() + 2 * b.item()), 6))

# second derivatives: differentiate the gradient itself
x = tr.tensor(2.0, dtype="float64", requires_grad=True)
(dy_dx,) = tr.grad(x**3, x, create_graph=True)  # 3x² = 12
(d2y_dx2,) = tr.grad(dy_dx, x)  # 6x = 12
print("d(x³)/dx at 2 =", dy_dx.item(), " d²(x³)/dx² at 2 =", d2y_dx2.item())
