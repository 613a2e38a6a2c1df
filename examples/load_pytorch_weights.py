"""Move weights between PyTorch and tinygrad_rnn: same names, same shapes, same function.

Run:  python examples/load_pytorch_weights.py      (needs torch; says so if it is missing)
"""

from __future__ import annotations

import numpy as np

import tinygrad_rnn as tr
from tinygrad_rnn import nn

try:
    import torch
except ImportError:
    torch = None

if torch is None:
    print("PyTorch is not installed: pip install torch to run this example")
else:
    torch.manual_seed(0)
    theirs = torch.nn.LSTM(5, 7, num_layers=2, bidirectional=True, batch_first=True).double()
    ours = nn.LSTM(5, 7, num_layers=2, bidirectional=True, batch_first=True, dtype="float64")

    # PyTorch -> tinygrad_rnn: a dict of NumPy arrays
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})

    x = np.random.default_rng(0).standard_normal((3, 11, 5))
    out, (h, c) = ours(tr.tensor(x))
    ref, (h_ref, c_ref) = theirs(torch.tensor(x))
    print("largest output difference:", np.abs(out.numpy() - ref.detach().numpy()).max())

    # tinygrad_rnn -> PyTorch: the same dict the other way
    theirs.load_state_dict({k: torch.from_numpy(v) for k, v in ours.state_dict().items()})
    print("parameter names:", list(ours.state_dict())[:4], "...")
