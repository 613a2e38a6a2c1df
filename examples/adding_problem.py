"""The adding problem: can a recurrent net carry a number across T steps?

Each sequence has two marked values among T random ones; the target is their sum. An LSTM
learns it; a plain tanh RNN stays near the 1/6 error of always guessing 1. After training, the
script measures how much of the error signal at the last step reaches the first one,
‖∂L/∂h_0‖ / ‖∂L/∂h_{T-1}‖ (``diagnostics.hidden_grad_norms``): the RNN's has vanished, the
LSTM's has not.
Run:  python examples/adding_problem.py     (under a minute; `tinygrad-rnn compare` does
                                             all three cells at T = 100 and plots the curves)
      python examples/adding_problem.py --T 100 --steps 2000     (longer sequences)
"""

from __future__ import annotations

import argparse
import os
import tempfile

import numpy as np

import tinygrad_rnn as tr
from tinygrad_rnn import data
from tinygrad_rnn.experiments import Config, load_run, train

tr.set_num_threads(1)  # one BLAS thread: fastest for matrices this small, by far when busy
ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
ap.add_argument("--T", type=int, default=50, help="sequence length (default 50)")
ap.add_argument("--steps", type=int, default=1000, help="training steps (default 1000)")
args = ap.parse_args()
smoke = bool(os.environ.get("TINYGRAD_RNN_EXAMPLE_SMOKE"))  # CI runs a tiny version
T, steps = (10, 20) if smoke else (args.T, args.steps)
x, _ = data.adding_problem(32, T, np.random.default_rng(1))  # for the gradient measurement
for cell in ["rnn", "lstm"]:
    cfg = Config(task="adding", cell=cell, T=T, steps=steps, eval_every=max(steps // 5, 1),
                 test_size=200 if smoke else 2000)
    with tempfile.TemporaryDirectory() as out:
        history = train(cfg, out, progress=not smoke)
        _, model = load_run(os.path.join(out, "checkpoint.trn"))
    norms = tr.diagnostics.hidden_grad_norms(model.rnn, x)  # ‖∂L/∂h_t‖ for t = 0 .. T-1
    print(f"{cell.upper():5} T={T}: test MSE {history[-1]['test_mse']:.4f} "
          f"(always guessing 1 gives {1 / 6:.4f}), "
          f"|dL/dh_0| / |dL/dh_{T - 1}| = {norms[0] / norms[-1]:.0e}")
