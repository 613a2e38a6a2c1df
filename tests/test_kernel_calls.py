"""The CuPy kernel calls of the fused ops, checked on the CPU.

CI has no GPU, so the code that calls the CUDA kernels would otherwise run only where one is
lent. Here each kernel is replaced by a stand-in that checks its call the way CuPy treats it,
then computes the step with the NumPy code:

- as many arguments as the kernel declares, ``raw`` arrays C-contiguous and shaped to the
  indexing the kernel body does, every ``T`` array of one dtype, and the elementwise arrays
  all of one shape;
- no input that shares memory with an output unless it is the same array object: CuPy copies
  such an input before the launch (correct, but one more copy and launch per step).

The layers then run forward and backward through the stand-ins, and must give the same values
and gradients as the NumPy path.
"""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_rnn as tr
from tinygrad_rnn import nn
from tinygrad_rnn.ops import fused

# each kernel's arguments, in the kernel's order, handed to the NumPy step function
NUMPY_STEP = {
    "lstm_fwd": lambda xw, hw, c_prev, H, c, h, acts:
        fused.lstm_step(np, xw, hw, c_prev, acts, c, h),
    "lstm_bwd": lambda acts, c_prev, c, dh_next, gy, dc, H, dgates, dc_prev:
        fused.lstm_step_backward(np, acts, c_prev, c, dh_next, gy, dc, dgates, dc_prev),
    "gru_fwd": lambda gi, gh, b_hh, h_prev, H, h, ghn, rzn:
        fused.gru_step(np, gi, gh, b_hh, h_prev, rzn, h, ghn),
    "gru_bwd": lambda rzn, ghn, h_prev, dh_mm, dh_dir, gy, H, dgi, dgh, dghn, dh_prev:
        fused.gru_step_backward(np, rzn, ghn, h_prev, dh_mm, dh_dir, gy, dgi, dgh, dghn,
                                dh_prev),
    "rnn_fwd": lambda xw, hw, relu, h: fused.rnn_step(np, xw, hw, bool(relu), h),
    "rnn_bwd": lambda dh_next, gy, y, relu, dpre:
        fused.rnn_step_backward(np, dh_next, gy, y, bool(relu), dpre),
}


class StandIn:
    """One kernel's stand-in: checks a call, counts it, and runs the NumPy step."""

    calls: dict[str, int] = {}
    copies: list[str] = []
    running = False  # True while the NumPy step runs: its own _kernel lookups get None

    def __init__(self, name: str) -> None:
        ins, outs, _ = fused._CUDA_SOURCES[name]
        self.name = name
        self.params = [p.split() for p in (ins + ", " + outs).split(",")]
        self.n_in = len(ins.split(","))

    def __call__(self, *args):
        name = self.name
        assert len(args) == len(self.params), f"{name}: {len(args)} arguments"
        arrays = [(p, a) for p, a in zip(self.params, args) if p[-2] == "T"]
        for p, a in zip(self.params, args):
            if p[-2] == "int32":
                assert isinstance(a, int), f"{name}: {p[-1]} is not an int"
        assert all(isinstance(a, np.ndarray) for _, a in arrays), name
        assert len({a.dtype for _, a in arrays}) == 1, f"{name}: mixed dtypes"
        elementwise = [a for p, a in arrays if p[0] != "raw"]
        shape = elementwise[0].shape
        assert all(a.shape == shape for a in elementwise), f"{name}: elementwise shapes differ"
        for p, a in arrays:
            if p[0] == "raw":
                assert a.flags.c_contiguous, f"{name}: raw {p[-1]} is not C-contiguous"
                lead_ok = a.ndim == 1 or a.shape[:-1] == shape[:-1]
                assert lead_ok and a.shape[-1] % shape[-1] == 0, f"{name}: raw {p[-1]} shape"
        ins, outs = args[:self.n_in], args[self.n_in:]
        for (p, a) in zip(self.params, ins):
            if isinstance(a, np.ndarray) and any(
                    a is not o and np.may_share_memory(a, o) for o in outs):
                self.copies.append(f"{name}: {p[-1]}")
        self.calls[name] = self.calls.get(name, 0) + 1
        StandIn.running = True
        try:
            NUMPY_STEP[name](*args)
        finally:
            StandIn.running = False


@pytest.fixture
def stand_ins(monkeypatch):
    StandIn.calls, StandIn.copies = {}, []
    kernels = {}

    def kernel(xp, name):
        if StandIn.running:
            return None
        return kernels.setdefault(name, StandIn(name))

    monkeypatch.setattr(fused, "_kernel", kernel)
    return StandIn


def _run(layer, x, lengths, retain):
    x.grad = None
    layer.zero_grad()
    out, state = layer(x, lengths=lengths)
    states = list(state) if isinstance(state, tuple) else [state]
    loss = (out * out).sum() + sum((s * s).sum() for s in states)
    loss.backward(retain_graph=retain)
    if retain:
        loss.backward()  # the second (last) backward may write over the saved buffers
    return [out.numpy(), x.grad.numpy()] + [p.grad.numpy() for p in layer.parameters()]


@pytest.mark.parametrize("mode,kw", [("LSTM", {}), ("LSTM", {"proj_size": 2}), ("GRU", {}),
                                     ("RNN", {}), ("RNN", {"nonlinearity": "relu"})])
@pytest.mark.parametrize("lengths", [None, [5, 2]])
@pytest.mark.parametrize("retain", [False, True])
def test_kernel_calls_match_their_declarations_and_copy_nothing(stand_ins, mode, kw, lengths,
                                                                retain):
    tr.manual_seed(0)
    layer = getattr(nn, mode)(3, 4, num_layers=2, bidirectional=True, dtype="float64", **kw)
    x = tr.randn(5, 2, 3, dtype="float64", requires_grad=True)
    fused._Sequence.chunk_steps = 2  # several chunks where the backward uses a buffer
    try:
        got = _run(layer, x, lengths, retain)
        assert sum(stand_ins.calls.values()) > 0
        assert stand_ins.copies == [], "inputs CuPy would copy: " + ", ".join(stand_ins.copies)
        stand_ins.running = True  # the plain NumPy path
        want = _run(layer, x, lengths, retain)
    finally:
        fused._Sequence.chunk_steps = None
        stand_ins.running = False
    for a, b in zip(got, want):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("cell", [nn.LSTMCell, nn.GRUCell])
def test_fused_cell_kernel_calls(stand_ins, cell):
    layer = cell(3, 4, dtype="float64")
    x = tr.randn(2, 3, dtype="float64", requires_grad=True)
    out = layer(x)
    (out[0] if isinstance(out, tuple) else out).sum().backward()
    assert sum(stand_ins.calls.values()) == 2  # one forward, one backward
    assert stand_ins.copies == []


def test_one_kernel_launch_per_step_each_way(stand_ins):
    """What keeps the fused loop fast on a GPU: one pointwise kernel per step forward and one
    backward (plus the recurrent matmul), for every cell."""
    T = 6
    for mode in ("LSTM", "GRU", "RNN"):
        stand_ins.calls.clear()
        layer = getattr(nn, mode)(3, 4)
        layer(tr.randn(T, 2, 3))[0].sum().backward()
        name = mode.lower()
        assert stand_ins.calls == {f"{name}_fwd": T, f"{name}_bwd": T}
