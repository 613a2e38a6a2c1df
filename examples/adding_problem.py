"""The adding problem: can a recurrent net carry a number across T steps?

Each sequence has two marked values among T random ones; the target is their sum. An LSTM
learns it; a plain tanh RNN stays near the 1/6 error of always guessing 1.
Run:  python examples/adding_problem.py     (under a minute; `tinygrad-rnn compare` does
                                             all three cells at T = 100 and plots the curves)
"""

from __future__ import annotations

import os

from tinygrad_rnn.experiments import Config, train

smoke = bool(os.environ.get("TINYGRAD_RNN_EXAMPLE_SMOKE"))  # CI runs a tiny version
T, steps = (10, 20) if smoke else (50, 1000)
for cell in ["rnn", "lstm"]:
    cfg = Config(task="adding", cell=cell, T=T, steps=steps, eval_every=max(steps // 5, 1),
                 test_size=200 if smoke else 2000)
    history = train(cfg, progress=not smoke)
    print(f"{cell.upper():5} T={T}: test MSE {history[-1]['test_mse']:.4f} "
          f"(always guessing 1 gives {1 / 6:.4f})")
