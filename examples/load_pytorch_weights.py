"""Move weights between PyTorch and tinygrad_rnn: same names, same shapes, same function.
In one process, as dicts of arrays; or as files, which need no PyTorch on our side:
``tr.load("lstm.pt")`` reads what ``torch.save`` wrote, and ``tr.save(sd, "lstm.pt",
format="torch")`` writes what ``torch.load`` reads.

Run:  python examples/load_pytorch_weights.py      (needs torch; says so if it is missing)
"""

from __future__ import annotations

import os
import tempfile

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
    theirs.load_state_dict({k: torch.from_numpy(v.numpy()) for k, v in ours.state_dict().items()})
    print("parameter names:", list(ours.state_dict())[:4], "...")

    # as files: torch.save's format, read and written here without torch
    with tempfile.TemporaryDirectory() as d:
        torch.save(theirs.state_dict(), os.path.join(d, "theirs.pt"))
        ours.load_state_dict(tr.load(os.path.join(d, "theirs.pt")))
        tr.save(ours.state_dict(), os.path.join(d, "ours.pt"), format="torch")
        theirs.load_state_dict(torch.load(os.path.join(d, "ours.pt")))
    out, ref = ours(tr.tensor(x))[0].numpy(), theirs(torch.tensor(x))[0].detach().numpy()
    print("through .pt files, largest output difference:", np.abs(out - ref).max())
