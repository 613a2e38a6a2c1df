"""A character-level LSTM on the Python standard library's source, then sampled.

Run:  python examples/char_model.py    (a few minutes at full size)
"""

from __future__ import annotations

import os

from tinygrad_rnn.experiments import Config, make_task, train

smoke = bool(os.environ.get("TINYGRAD_RNN_EXAMPLE_SMOKE"))  # CI runs a tiny version
cfg = Config(task="text", cell="lstm", T=50, steps=20 if smoke else 1500, hidden=32 if smoke
             else 256, batch=16 if smoke else 32, lr=2e-3, eval_every=10 if smoke else 250,
             test_size=200 if smoke else 2000)
history = train(cfg, progress=not smoke)
bigram = make_task(cfg).baseline["test_nats"]
print(f"held-out: {history[-1]['test_nats']:.3f} nats/char (smoothed bigram: {bigram:.3f})")
