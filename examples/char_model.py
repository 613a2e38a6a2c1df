"""A character-level LSTM on the Python standard library's source, then sampled.

The text is cut into streams and walked 50 characters at a time; the hidden state carries over
from one chunk to the next, cut from the old graph with detach (truncated BPTT).
Run:  python examples/char_model.py    (about 45 s at full size on two CPU cores;
      --steps N to train longer or shorter)
"""

from __future__ import annotations

import argparse
import os
import tempfile

import tinygrad_rnn as tr
from tinygrad_rnn.experiments import Config, generate, load_run, make_task, train

tr.set_num_threads(1)  # one BLAS thread: fastest for matrices this small, by far when busy
ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
ap.add_argument("--steps", type=int, default=2000, help="training steps (default 2000)")
args = ap.parse_args()
smoke = bool(os.environ.get("TINYGRAD_RNN_EXAMPLE_SMOKE"))  # CI runs a tiny version
cfg = Config(task="text", cell="lstm", T=50, steps=20 if smoke else args.steps, hidden=64,
             batch=16 if smoke else 64, lr=1e-2, eval_every=10 if smoke else 250,
             test_size=200 if smoke else 2000)
with tempfile.TemporaryDirectory() as out:
    history = train(cfg, out, progress=not smoke)
    _, model = load_run(os.path.join(out, "checkpoint.trn"))
bigram = make_task(cfg).baseline["test_nats"]
print(f"held-out: {history[-1]['test_nats']:.3f} nats/char (smoothed bigram: {bigram:.3f})")
# temperature: below 1, likelier characters more often; at 0.5 this small model often
# settles into a long run of indentation, at 0.7 it writes code-like lines
print(generate(model, length=200, prime="def ", temperature=0.7))
