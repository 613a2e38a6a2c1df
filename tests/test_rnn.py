"""Recurrent cells and layers: parity with torch.nn (values and every gradient, float64),
gradchecks, invariants as properties, long sequences, and clear errors for bad input."""

from __future__ import annotations

import copy
import tracemalloc

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_rnn as tr
from tinygrad_rnn import functional as F
from tinygrad_rnn import nn
from tinygrad_rnn.autograd import FREED_GRAPH_MSG
from tinygrad_rnn.nn.rnn import _run_fused
from tinygrad_rnn.testing import gradcheck, gradgradcheck
from tinygrad_rnn.testing import strategies as tst

from .conftest import DEVICES

MODES = {"RNN_TANH": (nn.RNN, {}), "RNN_RELU": (nn.RNN, {"nonlinearity": "relu"}),
         "LSTM": (nn.LSTM, {}), "GRU": (nn.GRU, {})}
TORCH_NAME = {"RNN_TANH": "RNN", "RNN_RELU": "RNN", "LSTM": "LSTM", "GRU": "GRU"}


def rel_err(a: np.ndarray, b: np.ndarray) -> float:
    """max |a - b| relative to max |b| (or absolute when b is all but zero)."""
    a, b = np.asarray(a), np.asarray(b)
    assert a.shape == b.shape, (a.shape, b.shape)
    return float(np.max(np.abs(a - b), initial=0.0) / max(np.max(np.abs(b), initial=0.0), 1e-3))


@st.composite
def layer_configs(draw, max_layers=3):
    mode = draw(st.sampled_from(list(MODES)))
    dims = draw(tst.recurrent_dims())
    cfg = dict(mode=mode, num_layers=draw(st.integers(1, max_layers)),
               bidirectional=draw(st.booleans()), batch_first=draw(st.booleans()),
               bias=draw(st.booleans()), give_state=draw(st.booleans()),
               unbatched=draw(st.booleans()) and draw(st.booleans()),
               proj_size=0, seed=draw(st.integers(0, 2**16)), **dims)
    if mode == "LSTM" and dims["H"] > 1 and draw(st.booleans()):
        cfg["proj_size"] = draw(st.integers(1, dims["H"] - 1))
    return cfg


def make_pair(cfg, torch):
    """A torch layer (float64) and ours with torch's weights loaded."""
    cls, extra = MODES[cfg["mode"]]
    kw = dict(num_layers=cfg["num_layers"], bias=cfg["bias"], batch_first=cfg["batch_first"],
              bidirectional=cfg["bidirectional"], **extra)
    if cfg["proj_size"]:
        kw["proj_size"] = cfg["proj_size"]
    torch.manual_seed(cfg["seed"])
    theirs = getattr(torch.nn, TORCH_NAME[cfg["mode"]])(cfg["I"], cfg["H"], **kw).double()
    ours = cls(cfg["I"], cfg["H"], dtype="float64", **kw)
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    return ours, theirs


def shapes_of(cfg):
    T, B, I, H = cfg["T"], cfg["B"], cfg["I"], cfg["H"]
    D = 2 if cfg["bidirectional"] else 1
    h_out = cfg["proj_size"] or H
    if cfg["unbatched"]:
        return (T, I), (cfg["num_layers"] * D, h_out), (cfg["num_layers"] * D, H)
    x = (B, T, I) if cfg["batch_first"] else (T, B, I)
    return x, (cfg["num_layers"] * D, B, h_out), (cfg["num_layers"] * D, B, H)


def _inputs_both(cfg, rng, torch):
    """The same random input and initial states, for ours and for torch: (x, h0, c0, hx) each,
    hx None unless the config gives a state."""
    xs, hs, cs = shapes_of(cfg)
    x, h0, c0 = rng.standard_normal(xs), rng.standard_normal(hs), rng.standard_normal(cs)
    both = []
    for make in (tr.tensor, torch.tensor):
        tx, th0, tc0 = (make(a, requires_grad=True) for a in (x, h0, c0))
        hx = ((th0, tc0) if cfg["mode"] == "LSTM" else th0) if cfg["give_state"] else None
        both.append((tx, th0, tc0, hx))
    return both


def _outputs_states_and_gradients_agree(torch, rng, cfg, ours, theirs):
    """Output, final states, and the gradients of one random upstream gradient on them (input,
    initial states, every parameter), ours against torch's: each (layer, output, state, x,
    h0, c0)."""
    layer, out, state, tx, th0, tc0 = ours
    t_layer, pout, pstate, px, ph0, pc0 = theirs
    is_lstm = cfg["mode"] == "LSTM"
    ours_states = list(state) if is_lstm else [state]
    theirs_states = list(pstate) if is_lstm else [pstate]
    assert rel_err(out.numpy(), pout.detach().numpy()) < 1e-9
    for a, b in zip(ours_states, theirs_states):
        assert rel_err(a.numpy(), b.detach().numpy()) < 1e-9
    ups = [rng.standard_normal(t.shape) for t in [out, *ours_states]]
    sum((t * tr.tensor(u)).sum() for t, u in zip([out, *ours_states], ups)).backward()
    sum((t * torch.tensor(u)).sum() for t, u in zip([pout, *theirs_states], ups)).backward()
    assert rel_err(tx.grad.numpy(), px.grad.numpy()) < 1e-9
    if cfg["give_state"]:
        assert rel_err(th0.grad.numpy(), ph0.grad.numpy()) < 1e-9
        if is_lstm:
            assert rel_err(tc0.grad.numpy(), pc0.grad.numpy()) < 1e-9
    for name, p in t_layer.named_parameters():
        assert rel_err(dict(layer.named_parameters())[name].grad.numpy(), p.grad.numpy()) < 1e-9


ORACLE_ERRORS: list[float] = []


@pytest.mark.torch
@given(cfg=layer_configs(), impl=st.sampled_from(["fused", "composed"]),
       state_grad=st.booleans())
def test_layer_matches_torch_values_and_all_gradients(cfg, impl, state_grad):
    """Both paths; a given initial state with or without requires_grad (a constant one is
    read without an op); each bias's gradient on its own (the layers add b_hh to b_ih once)."""
    torch = pytest.importorskip("torch")
    ours, theirs = make_pair(cfg, torch)
    ours.impl = impl
    rng = np.random.default_rng(cfg["seed"])
    xs, hs, cs = shapes_of(cfg)
    x = rng.standard_normal(xs)
    h0, c0 = rng.standard_normal(hs), rng.standard_normal(cs)
    is_lstm = cfg["mode"] == "LSTM"

    tx = tr.tensor(x, requires_grad=True)
    th0, tc0 = (tr.tensor(a, requires_grad=state_grad) for a in (h0, c0))
    px = torch.tensor(x, requires_grad=True)
    ph0, pc0 = (torch.tensor(a, requires_grad=state_grad) for a in (h0, c0))
    if cfg["give_state"]:
        out, st_ = ours(tx, (th0, tc0) if is_lstm else th0)
        pout, pst = theirs(px, (ph0, pc0) if is_lstm else ph0)
    else:
        out, st_ = ours(tx)
        pout, pst = theirs(px)
    ours_states = list(st_) if is_lstm else [st_]
    theirs_states = list(pst) if is_lstm else [pst]

    errors = [rel_err(out.numpy(), pout.detach().numpy())]
    errors += [rel_err(a.numpy(), b.detach().numpy()) for a, b in zip(ours_states, theirs_states)]

    # one random upstream gradient for the output and every final state
    ups = [rng.standard_normal(t.shape) for t in [out, *ours_states]]
    loss = sum(((t * tr.tensor(u)).sum() for t, u in zip([out, *ours_states], ups)),
               start=tr.tensor(0.0, dtype="float64"))
    loss.backward()
    ploss = sum((t * torch.tensor(u)).sum() for t, u in zip([pout, *theirs_states], ups))
    ploss.backward()
    for name, p in theirs.named_parameters():
        errors.append(rel_err(dict(ours.named_parameters())[name].grad.numpy(), p.grad.numpy()))
    errors.append(rel_err(tx.grad.numpy(), px.grad.numpy()))
    if cfg["give_state"] and state_grad:
        errors.append(rel_err(th0.grad.numpy(), ph0.grad.numpy()))
        if is_lstm:
            errors.append(rel_err(tc0.grad.numpy(), pc0.grad.numpy()))
    ORACLE_ERRORS.append(max(errors))
    assert max(errors) < 1e-9, (cfg, errors)


@pytest.mark.torch
@given(cfg=layer_configs(max_layers=2), data=st.data())
def test_lengths_match_torch_packed_sequences(cfg, data):
    torch = pytest.importorskip("torch")
    cfg = dict(cfg, unbatched=False)
    ours, theirs = make_pair(cfg, torch)
    T, B = cfg["T"], cfg["B"]
    lengths = data.draw(st.lists(st.integers(1, T), min_size=B, max_size=B))
    rng = np.random.default_rng(cfg["seed"])
    (tx, th0, tc0, ours_hx), (px, ph0, pc0, theirs_hx) = _inputs_both(cfg, rng, torch)
    out, st_ = ours(tx, ours_hx, lengths=lengths)
    packed = torch.nn.utils.rnn.pack_padded_sequence(
        px, torch.tensor(lengths), batch_first=cfg["batch_first"], enforce_sorted=False)
    pout, pst = theirs(packed, theirs_hx)
    pout, _ = torch.nn.utils.rnn.pad_packed_sequence(pout, batch_first=cfg["batch_first"],
                                                     total_length=T)
    _outputs_states_and_gradients_agree(torch, rng, cfg, (ours, out, st_, tx, th0, tc0),
                                        (theirs, pout, pst, px, ph0, pc0))


@pytest.mark.torch
@given(cfg=layer_configs(max_layers=2), impl=st.sampled_from(["fused", "composed"]),
       data=st.data())
def test_packed_input_matches_torch(cfg, impl, data):
    """A PackedSequence in, a PackedSequence out, as torch's: the same packed data, batch
    sizes and indices, states in the batch's own order, and every gradient; batch_first
    changes nothing for a packed input."""
    torch = pytest.importorskip("torch")
    from tinygrad_rnn.nn.utils.rnn import PackedSequence, pack_padded_sequence

    cfg = dict(cfg, unbatched=False)
    ours, theirs = make_pair(cfg, torch)
    ours.impl = impl
    T, B = cfg["T"], cfg["B"]
    lengths = data.draw(st.lists(st.integers(1, T), min_size=B, max_size=B))
    sort = data.draw(st.booleans())  # enforce_sorted=True on a batch sorted beforehand
    if sort:
        lengths = sorted(lengths, reverse=True)
    rng = np.random.default_rng(cfg["seed"])
    (tx, th0, tc0, ours_hx), (px, ph0, pc0, theirs_hx) = _inputs_both(cfg, rng, torch)
    packed = pack_padded_sequence(tx, lengths, batch_first=cfg["batch_first"],
                                  enforce_sorted=sort)
    out, st_ = ours(packed, ours_hx)
    pout, pst = theirs(torch.nn.utils.rnn.pack_padded_sequence(
        px, torch.tensor(lengths), batch_first=cfg["batch_first"], enforce_sorted=sort), theirs_hx)
    assert isinstance(out, PackedSequence)
    np.testing.assert_array_equal(out.batch_sizes.numpy(), pout.batch_sizes.numpy())
    for a, b in [(out.sorted_indices, pout.sorted_indices),
                 (out.unsorted_indices, pout.unsorted_indices)]:
        assert (a is None) == (b is None) and (a is None or np.array_equal(a.numpy(), b.numpy()))
    _outputs_states_and_gradients_agree(torch, rng, cfg, (ours, out.data, st_, tx, th0, tc0),
                                        (theirs, pout.data, pst, px, ph0, pc0))


CELLS = {"rnn": (nn.RNNCell, "RNNCell"), "lstm": (nn.LSTMCell, "LSTMCell"),
         "gru": (nn.GRUCell, "GRUCell")}


@pytest.mark.torch
@pytest.mark.parametrize("kind", list(CELLS))
@pytest.mark.parametrize("batched", [True, False])
@pytest.mark.parametrize("give_state", [True, False])
def test_cell_matches_torch(kind, batched, give_state):
    torch = pytest.importorskip("torch")
    ours_cls, name = CELLS[kind]
    torch.manual_seed(0)
    theirs = getattr(torch.nn, name)(3, 5).double()
    ours = ours_cls(3, 5, dtype="float64")
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    rng = np.random.default_rng(1)
    x = rng.standard_normal((4, 3) if batched else (3,))
    hshape = (4, 5) if batched else (5,)
    h, c = rng.standard_normal(hshape), rng.standard_normal(hshape)
    args = ((tr.tensor(h), tr.tensor(c)) if kind == "lstm" else tr.tensor(h)) if give_state \
        else None
    pargs = ((torch.tensor(h), torch.tensor(c)) if kind == "lstm" else torch.tensor(h)) \
        if give_state else None
    tx, px = tr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out, pout = ours(tx, args), theirs(px, pargs)
    outs = list(out) if kind == "lstm" else [out]
    pouts = list(pout) if kind == "lstm" else [pout]
    for a, b in zip(outs, pouts):
        assert a.shape == tuple(b.shape)
        np.testing.assert_allclose(a.numpy(), b.detach().numpy(), rtol=1e-12, atol=1e-14)
    sum((a * (k + 1)).sum() for k, a in enumerate(outs)).backward()
    sum((a * (k + 1)).sum() for k, a in enumerate(pouts)).backward()
    np.testing.assert_allclose(tx.grad.numpy(), px.grad.numpy(), rtol=1e-10)
    for n, p in theirs.named_parameters():
        np.testing.assert_allclose(dict(ours.named_parameters())[n].grad.numpy(),
                                   p.grad.numpy(), rtol=1e-10, atol=1e-14)


# ---- gradchecks: inputs, parameters and initial states together ---------------------------


def with_params(module, params, *args, **kwargs):
    """Call ``module`` with its parameters replaced by ``params`` (in named order)."""
    names = [n for n, _ in module.named_parameters()]
    saved = dict(module._parameters)
    module._parameters.update(zip(names, params))
    try:
        return module(*args, **kwargs)
    finally:
        module._parameters.update(saved)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("kind", list(CELLS))
def test_composed_cells_are_differentiable_twice(device, kind):
    """The composed cells (functional.rnn_cell, lstm_cell, gru_cell) give second derivatives
    by every input, parameter and state, as the README says."""
    tr.manual_seed(0)
    cell = CELLS[kind][0](3, 2, dtype="float64", device=device, impl="composed")
    x, h, c = (tr.randn(2, n, dtype="float64", device=device, requires_grad=True)
               for n in (3, 2, 2))
    params = list(cell.parameters())
    if kind == "lstm":
        assert gradgradcheck(lambda x, h, c, *ps: with_params(cell, ps, x, (h, c)),
                             [x, h, c, *params])
    else:
        assert gradgradcheck(lambda x, h, *ps: with_params(cell, ps, x, h), [x, h, *params])


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("kind", list(CELLS))
def test_cell_gradcheck_inputs_parameters_state(device, kind):
    tr.manual_seed(0)
    cell = CELLS[kind][0](3, 2, dtype="float64", device=device)
    x = tr.randn(2, 3, dtype="float64", device=device, requires_grad=True)
    h = tr.randn(2, 2, dtype="float64", device=device, requires_grad=True)
    c = tr.randn(2, 2, dtype="float64", device=device, requires_grad=True)
    params = list(cell.parameters())
    if kind == "lstm":
        assert gradcheck(lambda x, h, c, *ps: with_params(cell, ps, x, (h, c)), [x, h, c, *params])
    else:
        assert gradcheck(lambda x, h, *ps: with_params(cell, ps, x, h), [x, h, *params])


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("mode", list(MODES))
def test_layer_gradcheck_inputs_parameters_state(device, mode):
    tr.manual_seed(1)
    cls, extra = MODES[mode]
    layer = cls(2, 2, num_layers=2, bidirectional=True, dtype="float64", device=device, **extra)
    x = tr.randn(3, 2, 2, dtype="float64", device=device, requires_grad=True)
    h = tr.randn(4, 2, 2, dtype="float64", device=device, requires_grad=True)
    c = tr.randn(4, 2, 2, dtype="float64", device=device, requires_grad=True)
    params = list(layer.parameters())
    lengths = [3, 2]
    if mode == "LSTM":
        def fn(x, h, c, *ps):
            out, (hn, cn) = with_params(layer, ps, x, (h, c), lengths=lengths)
            return out, hn, cn
        assert gradcheck(fn, [x, h, c, *params])
    else:
        def fn(x, h, *ps):
            return with_params(layer, ps, x, h, lengths=lengths)
        assert gradcheck(fn, [x, h, *params])


# ---- invariants as properties -------------------------------------------------------------


def _run(layer, x, state=None, lengths=None):
    out, st_ = layer(x, state, lengths=lengths)
    return out, (list(st_) if isinstance(st_, tuple) else [st_])


@pytest.mark.parametrize("device", ["cpu", "strict"])
@given(mode=st.sampled_from(list(MODES)), dims=tst.recurrent_dims(max_T=5, max_B=4),
       layers=st.integers(1, 2), bidir=st.booleans(), data=st.data())
def test_lengths_equal_running_each_sequence_alone(device, mode, dims, layers, bidir, data):
    T, B, I, H = dims["T"], dims["B"], dims["I"], dims["H"]
    tr.manual_seed(0)
    cls, extra = MODES[mode]
    layer = cls(I, H, num_layers=layers, bidirectional=bidir, dtype="float64", device=device,
                **extra)
    lengths = data.draw(st.lists(st.integers(1, T), min_size=B, max_size=B))
    x = tr.tensor(data.draw(tst.arrays((T, B, I))), device=device)
    out, states = _run(layer, x, lengths=lengths)
    for b, n in enumerate(lengths):
        alone, alone_states = _run(layer, x[:n, b:b + 1])
        np.testing.assert_allclose(out.numpy()[:n, b:b + 1], alone.numpy(), rtol=1e-12,
                                   atol=1e-13)
        assert np.all(out.numpy()[n:, b] == 0)
        for s, a in zip(states, alone_states):
            np.testing.assert_allclose(s.numpy()[:, b:b + 1], a.numpy(), rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("impl", ["fused", "composed"])
@given(mode=st.sampled_from([*MODES, "LSTM_PROJ"]), dims=tst.recurrent_dims(max_T=5, max_B=4),
       layers=st.integers(1, 2), bidir=st.booleans(), batch_first=st.booleans(),
       fill=st.sampled_from([np.nan, np.inf, -np.inf, 1e300]), data=st.data())
def test_what_the_padding_holds_changes_nothing(impl, mode, dims, layers, bidir, batch_first,
                                               fill, data):
    """As with PyTorch's packed sequences, padding is never read: NaN, inf or a huge number
    there gives the outputs, states and gradients of zero padding (a zero gradient times NaN
    in Σ dgatesᵀ x would not), and the padding's own gradient is zero."""
    T, B, I, H = dims["T"], dims["B"], dims["I"], dims["H"]
    cls, extra = MODES.get(mode, (nn.LSTM, {"proj_size": max(1, H - 1)}))
    if mode == "LSTM_PROJ":
        H += 1  # proj_size < hidden_size
    tr.manual_seed(0)
    layer = cls(I, H, num_layers=layers, bidirectional=bidir, batch_first=batch_first,
                dtype="float64", impl=impl, **extra)
    lengths = data.draw(st.lists(st.integers(1, T), min_size=B, max_size=B))
    pad = np.arange(T)[:, None] >= np.array(lengths)[None, :]  # (T, B)
    x0 = np.where(pad[..., None], 0.0, data.draw(tst.arrays((T, B, I))))
    results = []
    for filled in (x0, np.where(pad[..., None], fill, x0)):
        layer.zero_grad()
        x = tr.tensor(filled.transpose(1, 0, 2) if batch_first else filled, requires_grad=True)
        out, states = _run(layer, x, lengths=lengths)
        gy = np.random.default_rng(1).standard_normal(out.shape)
        ((out * tr.tensor(gy)).sum() + sum(s.sum() for s in states)).backward()
        results.append([out.numpy(), *(s.numpy() for s in states), x.grad.numpy(),
                        *(q.grad.numpy() for q in layer.parameters())])
    for a, b in zip(*results):
        np.testing.assert_array_equal(a, b)
    dx = results[1][len(results[1]) - len(list(layer.parameters())) - 1]
    assert np.all((dx.transpose(1, 0, 2) if batch_first else dx)[pad] == 0)


@pytest.mark.parametrize("impl", ["fused", "composed"])
@given(mode=st.sampled_from([*MODES, "LSTM_PROJ"]), dims=tst.recurrent_dims(max_T=5, max_B=4),
       layers=st.integers(1, 2), bidir=st.booleans(),
       fill=st.sampled_from([np.nan, np.inf, -np.inf, 1e300]), data=st.data())
def test_the_output_gradient_at_padding_is_never_read(impl, mode, dims, layers, bidir, fill,
                                                      data):
    """The output at a padded step is a constant 0, as PyTorch's pad_packed_sequence makes it:
    a gradient there (NaN from a norm of a zero vector, say) changes nothing; multiplied by
    the mask instead of selected, NaN * 0 would reach every weight."""
    T, B, I, H = dims["T"], dims["B"], dims["I"], dims["H"]
    cls, extra = MODES.get(mode, (nn.LSTM, {"proj_size": max(1, H - 1)}))
    if mode == "LSTM_PROJ":
        H += 1  # proj_size < hidden_size
    tr.manual_seed(0)
    layer = cls(I, H, num_layers=layers, bidirectional=bidir, dtype="float64", impl=impl,
                **extra)
    lengths = data.draw(st.lists(st.integers(1, T), min_size=B, max_size=B))
    pad = np.arange(T)[:, None] >= np.array(lengths)[None, :]  # (T, B)
    x0 = data.draw(tst.arrays((T, B, I)))
    results = []
    for g_pad in (0.0, fill):
        layer.zero_grad()
        x = tr.tensor(x0, requires_grad=True)
        out, states = _run(layer, x, lengths=lengths)
        gy = np.random.default_rng(1).standard_normal(out.shape)
        gy[pad] = g_pad
        with np.errstate(invalid="ignore", over="ignore"):
            ((out * tr.tensor(gy)).sum() + sum(s.sum() for s in states)).backward()
        results.append([x.grad.numpy(), *(q.grad.numpy() for q in layer.parameters())])
    for a, b in zip(*results):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("impl", ["fused", "composed"])
def test_a_finished_sequence_outputs_exact_zeros_even_where_its_discarded_step_overflows(impl):
    """After a sequence ends, the fused loop still computes (and drops) a step for its row: an
    overflow there (inf) must not turn the padded outputs into inf * 0 = NaN, which the next
    layer would read."""
    layer = nn.RNN(1, 1, num_layers=2, nonlinearity="relu", bias=False, impl=impl)
    layer.load_state_dict({"weight_ih_l0": np.array([[1.0]]), "weight_hh_l0": np.array([[1e20]]),
                           "weight_ih_l1": np.array([[1.0]]), "weight_hh_l1": np.array([[1.0]])})
    x = tr.tensor(np.array([[[1e-30], [1e20]], [[0.0], [0.0]], [[0.0], [0.0]]]), dtype="float32")
    with np.errstate(all="ignore"):  # layer 0's own weight gradients overflow, as in torch
        out, _ = layer(x, lengths=[3, 1])
        out.sum().backward()
    np.testing.assert_array_equal(out.numpy()[1:, 1, 0], [0.0, 0.0])
    assert np.isfinite(layer.weight_ih_l1.grad.numpy()).all()


@given(mode=st.sampled_from(list(MODES)), dims=tst.recurrent_dims(), layers=st.integers(2, 3),
       bidir=st.booleans(), data=st.data())
def test_multilayer_equals_stacked_single_layers(mode, dims, layers, bidir, data):
    T, B, I, H = dims["T"], dims["B"], dims["I"], dims["H"]
    tr.manual_seed(0)
    cls, extra = MODES[mode]
    deep = cls(I, H, num_layers=layers, bidirectional=bidir, dtype="float64", **extra)
    x = tr.tensor(data.draw(tst.arrays((T, B, I))))
    out, states = _run(deep, x)
    D = 2 if bidir else 1
    h = x
    finals = []
    for k in range(layers):
        single = cls(I if k == 0 else D * H, H, bidirectional=bidir, dtype="float64", **extra)
        single.load_state_dict({n.replace(f"_l{k}", "_l0"): v for n, v in
                                deep.state_dict().items() if f"_l{k}" in n})
        h, st_k = _run(single, h)
        finals.append(st_k)
    np.testing.assert_allclose(out.numpy(), h.numpy(), rtol=1e-12, atol=1e-13)
    for j, s in enumerate(states):
        np.testing.assert_allclose(s.numpy(), np.concatenate([f[j].numpy() for f in finals]),
                                   rtol=1e-12, atol=1e-13)


@given(mode=st.sampled_from(list(MODES)), dims=tst.recurrent_dims(), data=st.data())
def test_reverse_direction_equals_forward_on_flipped_sequence(mode, dims, data):
    T, B, I, H = dims["T"], dims["B"], dims["I"], dims["H"]
    tr.manual_seed(0)
    cls, extra = MODES[mode]
    bi = cls(I, H, bidirectional=True, dtype="float64", **extra)
    fw = cls(I, H, dtype="float64", **extra)
    fw.load_state_dict({n.replace("_reverse", ""): v for n, v in bi.state_dict().items()
                        if "_reverse" in n})
    a = data.draw(tst.arrays((T, B, I)))
    out, states = _run(bi, tr.tensor(a))
    rev, rev_states = _run(fw, tr.tensor(a[::-1].copy()))
    np.testing.assert_allclose(out.numpy()[..., H:], rev.numpy()[::-1], rtol=1e-12, atol=1e-13)
    for s, r in zip(states, rev_states):
        np.testing.assert_allclose(s.numpy()[1], r.numpy()[0], rtol=1e-12, atol=1e-13)


@given(mode=st.sampled_from(list(MODES)), dims=tst.recurrent_dims(max_B=4), data=st.data())
def test_sample_does_not_depend_on_its_batch_mates(mode, dims, data):
    T, B, I, H = dims["T"], dims["B"], dims["I"], dims["H"]
    tr.manual_seed(0)
    cls, extra = MODES[mode]
    layer = cls(I, H, num_layers=2, dtype="float64", **extra)
    a = data.draw(tst.arrays((T, B, I)))
    b = data.draw(st.integers(0, B - 1))
    other = a.copy()
    other[:, [i for i in range(B) if i != b]] *= -2.0  # change every batch-mate
    out1, _ = _run(layer, tr.tensor(a))
    out2, _ = _run(layer, tr.tensor(other))
    alone, _ = _run(layer, tr.tensor(a[:, b]))  # unbatched
    np.testing.assert_allclose(out1.numpy()[:, b], out2.numpy()[:, b], rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(out1.numpy()[:, b], alone.numpy(), rtol=1e-12, atol=1e-13)


@given(mode=st.sampled_from(list(MODES)), bidir=st.booleans(), layers=st.integers(1, 3))
def test_state_dict_round_trips(mode, bidir, layers):
    cls, extra = MODES[mode]
    tr.manual_seed(0)
    a = cls(3, 4, num_layers=layers, bidirectional=bidir, **extra)
    tr.manual_seed(1)
    b = cls(3, 4, num_layers=layers, bidirectional=bidir, **extra)
    sd = a.state_dict()
    b.load_state_dict(sd)
    x = tr.randn(2, 2, 3)
    np.testing.assert_array_equal(_run(a, x)[0].numpy(), _run(b, x)[0].numpy())
    assert list(sd) == [n for n, _ in b.named_parameters()]
    snapshot = copy.deepcopy(sd)
    sd[next(iter(sd))][...] = 99.0  # the dict shares the module's values, as torch's
    assert np.all(next(a.parameters()).numpy() == 99.0)
    assert not np.any(next(iter(snapshot.values())).numpy() == 99.0)  # a deep copy does not


# ---- PyTorch conventions --------------------------------------------------------------------


def test_parameter_names_shapes_and_default_init_follow_pytorch():
    lstm = nn.LSTM(10, 20, num_layers=2, bidirectional=True, proj_size=5)
    shapes = {n: p.shape for n, p in lstm.named_parameters()}
    assert list(shapes)[:5] == ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0",
                                "weight_hr_l0"]
    assert shapes["weight_ih_l0"] == (80, 10) and shapes["weight_hh_l0"] == (80, 5)
    assert shapes["weight_ih_l1_reverse"] == (80, 10) and shapes["weight_hr_l1"] == (5, 20)
    bound = 1 / np.sqrt(20)
    for p in lstm.parameters():
        assert p.dtype == np.float32 and np.all(np.abs(p.numpy()) <= bound)
    gru = nn.GRU(3, 4, bias=False)
    assert [n for n, _ in gru.named_parameters()] == ["weight_ih_l0", "weight_hh_l0"]
    assert nn.GRUCell(3, 4).weight_ih.shape == (12, 3)


def test_output_shapes_batch_first_and_unbatched():
    lstm = nn.LSTM(3, 4, num_layers=2, bidirectional=True, batch_first=True)
    out, (h, c) = lstm(tr.randn(5, 7, 3))  # (B, T, I)
    assert out.shape == (5, 7, 8) and h.shape == (4, 5, 4) and c.shape == (4, 5, 4)
    out, (h, c) = lstm(tr.randn(7, 3))  # unbatched (T, I)
    assert out.shape == (7, 8) and h.shape == (4, 4)
    rnn = nn.RNN(3, 4)
    out, h = rnn(tr.randn(7, 5, 3))
    assert out.shape == (7, 5, 4) and h.shape == (1, 5, 4)


def test_forget_bias_shifts_the_forget_gate_bias_at_init():
    tr.manual_seed(0)
    plain = nn.LSTM(3, 4, num_layers=2)
    tr.manual_seed(0)
    biased = nn.LSTM(3, 4, num_layers=2, forget_bias=1.0)
    for (n, p), (_, q) in zip(plain.named_parameters(), biased.named_parameters()):
        diff = q.numpy() - p.numpy()
        if n.startswith("bias_ih"):
            np.testing.assert_allclose(diff, np.r_[np.zeros(4), np.ones(4), np.zeros(8)],
                                       atol=1e-6)
        else:
            assert np.all(diff == 0)
    with pytest.raises(ValueError, match="forget_bias"):
        nn.LSTM(3, 4, bias=False, forget_bias=1.0)


def test_dropout_between_layers_only_in_training():
    tr.manual_seed(0)
    gru = nn.GRU(3, 4, num_layers=2, dropout=0.5)
    x = tr.randn(4, 2, 3)
    gru.eval()
    a, _ = gru(x)
    b, _ = gru(x)
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    gru.train()
    tr.manual_seed(5)
    c, _ = gru(x)
    tr.manual_seed(5)
    d, _ = gru(x)
    np.testing.assert_array_equal(c.numpy(), d.numpy())  # seeded
    assert not np.allclose(a.numpy(), c.numpy())


@pytest.mark.parametrize("device", DEVICES)
def test_layer_runs_on_every_device_with_the_same_result(device):
    tr.manual_seed(0)
    ref = nn.LSTM(3, 4, num_layers=2, bidirectional=True, dtype="float64")
    tr.manual_seed(0)
    lstm = nn.LSTM(3, 4, num_layers=2, bidirectional=True, dtype="float64", device=device)
    a = np.random.default_rng(0).standard_normal((5, 2, 3))
    out, (h, c) = lstm(tr.tensor(a, device=device), lengths=[5, 3])
    out_ref, _ = ref(tr.tensor(a), lengths=[5, 3])
    assert out.device == device
    np.testing.assert_allclose(out.numpy(), out_ref.numpy(), rtol=1e-12)


def test_module_to_moves_parameters_in_place():
    lstm = nn.LSTM(3, 4)
    p = next(lstm.parameters())
    lstm.to("strict", dtype="float64")
    assert p.device == "strict" and p.dtype == np.float64
    out, _ = lstm(tr.randn(2, 1, 3, dtype="float64", device="strict"))
    assert out.device == "strict"


# ---- long sequences -----------------------------------------------------------------------


@pytest.mark.parametrize("impl", ["fused", "composed"])
def test_lstm_10000_steps_forward_and_backward(impl):
    """The composed path unrolls 10,000 steps into ~250,000 graph nodes: no recursion."""
    tr.manual_seed(0)
    lstm = nn.LSTM(2, 3, forget_bias=1.0, impl=impl)
    x = tr.randn(10_000, 1, 2)
    out, (h, c) = lstm(x)
    (out[-1].sum() + c.sum()).backward()
    g = lstm.weight_hh_l0.grad.numpy()
    assert g.shape == (12, 3) and np.all(np.isfinite(g))


@pytest.mark.parametrize("impl", ["fused", "composed"])
def test_lstm_memory_grows_linearly_with_sequence_length(impl):
    tr.manual_seed(0)
    lstm = nn.LSTM(4, 8, impl=impl)

    def peak(T):
        x = tr.randn(T, 2, 4)
        tracemalloc.start()
        out, _ = lstm(x)
        out.sum().backward()
        p = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        return p

    small, large = peak(400), peak(1600)
    assert 2.5 < large / small < 5.5  # 4x the steps, about 4x the memory


@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("cell,per_step", [("LSTM", 6), ("GRU", 5), ("RNN", 1)])
def test_fused_backward_peak_memory_is_within_1_5x_of_what_it_needs(cell, per_step, reverse):
    """The speed issue's long configuration (T=1000, B=8, I=32, H=64, float32), run forward
    and, as the second half of a bidirectional layer runs, in reverse. Backward needs x and,
    per step, LSTM i, f, g, o, c, h; GRU r, z, n, W_hn h + b_hn, h; RNN h. The peak of
    forward + backward (x included: it is alive throughout) stays within 1.5x of that."""
    T, B, I, H = 1000, 8, 32, 64
    layer = getattr(nn, cell)(I, H)
    x = tr.randn(T, B, I, requires_grad=True)
    gy = tr.randn(T, B, H)
    h0 = tr.zeros(B, H)
    w = (layer.weight_ih_l0, layer.weight_hh_l0, layer.bias_ih_l0, layer.bias_hh_l0, None)
    tracemalloc.start()
    mode = "RNN_TANH" if cell == "RNN" else cell
    out, _, _ = _run_fused(mode, x, h0, h0 if cell == "LSTM" else None, w, reverse, None)
    out.backward(gy)
    peak = tracemalloc.get_traced_memory()[1] + x.numpy().nbytes
    tracemalloc.stop()
    needed = 4 * T * B * (per_step * H + I)
    assert peak < 1.5 * needed, f"peak {peak / needed:.2f}x of what backward needs"


# ---- truncated BPTT -------------------------------------------------------------------------


def test_truncated_bptt_needs_detach_and_says_so():
    tr.manual_seed(0)
    lstm = nn.LSTM(2, 3)
    state = None
    out, state = lstm(tr.randn(4, 1, 2), state)
    out.sum().backward()
    out, bad = lstm(tr.randn(4, 1, 2), state)  # state still tied to the freed first chunk
    with pytest.raises(RuntimeError, match="detach"):
        out.sum().backward()
    with pytest.raises(RuntimeError) as e:
        lstm(tr.randn(4, 1, 2), state)[0].sum().backward()
    assert str(e.value) == FREED_GRAPH_MSG
    lstm.zero_grad()
    out, state2 = lstm(tr.randn(4, 1, 2), nn.utils.detach_state(state))
    out.sum().backward()  # fine: the chunk boundary is cut
    assert lstm.weight_ih_l0.grad is not None


@pytest.mark.parametrize("impl", ["fused", "composed"])
@pytest.mark.parametrize("mode", list(MODES))
@pytest.mark.parametrize("layers,bidir", [(1, False), (2, True)])
def test_final_states_are_their_own_tensors_and_detach_in_place(impl, mode, layers, bidir):
    """h_n (and c_n) are new tensors, as PyTorch's, not views of a step's state: the
    truncated-BPTT idiom ``h.detach_()`` works on them, and a write into one changes
    neither the output nor the gradients."""
    cls, extra = MODES[mode]
    tr.manual_seed(0)
    layer = cls(3, 4, num_layers=layers, bidirectional=bidir, dtype="float64", impl=impl,
                **extra)
    x = tr.randn(5, 2, 3, dtype="float64", requires_grad=True)
    out, state = layer(x)
    states = list(state) if mode == "LSTM" else [state]
    for s in states:
        assert s._base is None
        s.detach_()
        assert not s.requires_grad and s.grad_fn is None
    before = out.numpy().copy()
    with tr.no_grad():
        states[0].add_(1.0)
    np.testing.assert_array_equal(out.numpy(), before)
    out.sum().backward()
    assert x.grad is not None


@pytest.mark.parametrize("impl", ["fused", "composed"])
@pytest.mark.parametrize("mode", list(MODES))
def test_forward_mode_tangent_of_a_computed_initial_state(impl, mode):
    """A dual initial state made by an op (no gradient needed, not a view: its tangent is
    all that marks it) carries its tangent through the layer: central differences."""
    from tinygrad_rnn.autograd import forward_ad as fwAD

    cls, extra = MODES[mode]
    tr.manual_seed(0)
    layer = cls(3, 4, num_layers=2, dtype="float64", impl=impl, **extra)
    rng = np.random.default_rng(0)
    x = tr.tensor(rng.standard_normal((5, 2, 3)))
    h0, dh = rng.standard_normal((2, 2, 4)), rng.standard_normal((2, 2, 4))
    c0 = tr.tensor(rng.standard_normal((2, 2, 4)))

    def run(h):
        out, state = layer(x, (h, c0) if mode == "LSTM" else h)
        return out

    eps = 1e-6
    numeric = (run(tr.tensor(h0 + eps * dh)).numpy()
               - run(tr.tensor(h0 - eps * dh)).numpy()) / (2 * eps)
    with fwAD.dual_level():
        h = fwAD.make_dual(tr.tensor(h0), tr.tensor(dh)) * 1.0
        assert h._base is None and h._ctx is None and not h.requires_grad
        tangent = fwAD.unpack_dual(run(h)).tangent
    assert tangent is not None
    np.testing.assert_allclose(tangent.numpy(), numeric, rtol=1e-6, atol=1e-8)


# ---- bad input: clear errors, nothing half-changed ------------------------------------------


def test_wrong_feature_size_is_a_clear_error():
    with pytest.raises(ValueError, match="input has 5 features.*input_size is 3"):
        nn.GRU(3, 4)(tr.randn(2, 1, 5))
    with pytest.raises(ValueError, match="input has 5 features"):
        nn.LSTMCell(3, 4)(tr.randn(2, 5))
    with pytest.raises(ValueError, match="3-D"):
        nn.RNN(3, 4)(tr.randn(1, 2, 2, 3))


def test_wrong_initial_state_shape_names_expected_and_actual():
    lstm = nn.LSTM(3, 4, num_layers=2)
    x = tr.randn(5, 2, 3)
    with pytest.raises(ValueError, match=r"Expected hidden size \(2, 2, 4\), got \(1, 2, 4\)"):
        lstm(x, (tr.zeros(1, 2, 4), tr.zeros(2, 2, 4)))
    with pytest.raises(ValueError, match=r"Expected cell size \(2, 2, 4\), got \(2, 2, 3\)"):
        lstm(x, (tr.zeros(2, 2, 4), tr.zeros(2, 2, 3)))
    with pytest.raises(TypeError, match=r"tuple \(h_0, c_0\)"):
        lstm(x, tr.zeros(2, 2, 4))
    with pytest.raises(ValueError, match=r"Expected hidden size \(2, 4\)"):
        nn.RNNCell(3, 4)(tr.randn(2, 3), tr.zeros(3, 4))


def test_bad_lengths_are_clear_errors():
    gru = nn.GRU(3, 4)
    x = tr.randn(5, 2, 3)
    with pytest.raises(ValueError, match=r"lengths must lie in \[1, 5\]"):
        gru(x, lengths=[6, 2])
    with pytest.raises(ValueError, match=r"lengths must lie in \[1, 5\]"):
        gru(x, lengths=[0, 2])
    with pytest.raises(ValueError, match=r"one length per sequence: expected shape \(2,\)"):
        gru(x, lengths=[5, 2, 1])
    with pytest.raises(TypeError, match="integers"):
        gru(x, lengths=[5.0, 2.0])
    out, h = gru(tr.randn(5, 0, 3), lengths=[])  # an empty batch has no lengths: no error
    assert out.shape == (5, 0, 4) and h.shape == (1, 0, 4)


def test_dtype_and_device_mismatch_are_clear_errors():
    with pytest.raises(TypeError, match="float64 does not match the weights' dtype float32"):
        nn.LSTM(3, 4)(tr.randn(2, 1, 3, dtype="float64"))
    with pytest.raises(ValueError, match="'strict' but the weights are on 'cpu'"):
        nn.GRU(3, 4)(tr.randn(2, 1, 3, device="strict"))
    with pytest.raises(TypeError, match="hidden is float64"):
        nn.GRU(3, 4)(tr.randn(2, 1, 3), tr.zeros(1, 1, 4, dtype="float64"))
    with pytest.raises(ValueError, match="hidden is on 'strict' but the input is on 'cpu'"):
        nn.GRU(3, 4)(tr.randn(2, 1, 3), tr.zeros(1, 1, 4, device="strict"))


def test_bad_constructor_arguments_are_clear_errors():
    with pytest.raises(ValueError, match="hidden_size"):
        nn.LSTM(3, 0)
    with pytest.raises(ValueError, match="nonlinearity"):
        nn.RNN(3, 4, nonlinearity="sigmoid")
    with pytest.raises(ValueError, match="dropout"):
        nn.GRU(3, 4, dropout=1.5)
    with pytest.raises(ValueError, match="dropout"):  # as torch: a bool is no probability
        nn.GRU(3, 4, num_layers=2, dropout=True)
    assert nn.GRU(3, 4, num_layers=2, dropout=np.float32(0.25)).dropout == 0.25
    with pytest.warns(UserWarning, match="does nothing with num_layers=1"):  # as torch
        nn.LSTM(3, 4, dropout=0.2)
    with pytest.raises(TypeError, match="bias must be True or False"):  # as torch
        nn.RNN(3, 4, bias=0)
    with pytest.raises(ValueError, match="proj_size"):
        nn.LSTM(3, 4, proj_size=4)


def test_load_state_dict_checks_everything_before_loading_anything():
    gru = nn.GRU(3, 4)
    before = gru.state_dict()
    good = {k: np.ones_like(v) for k, v in before.items()}

    bad = dict(good)
    del bad["bias_hh_l0"]
    bad["extra"] = np.ones(3)
    with pytest.raises(RuntimeError, match="missing keys: bias_hh_l0.*unexpected keys: extra"):
        gru.load_state_dict(bad)
    bad = dict(good, weight_hh_l0=np.ones((4, 4)))
    with pytest.raises(RuntimeError, match=r"weight_hh_l0: expected shape \(12, 4\), got \(4, 4\)"):
        gru.load_state_dict(bad)
    for k, v in gru.state_dict().items():  # nothing half-changed
        np.testing.assert_array_equal(v, before[k])

    partial = {"weight_ih_l0": np.ones((12, 3)), "unknown": np.ones(1)}
    result = gru.load_state_dict(partial, strict=False)
    assert result.unexpected_keys == ["unknown"] and "bias_hh_l0" in result.missing_keys
    assert np.all(gru.weight_ih_l0.numpy() == 1)


def test_composed_cells_reject_unknown_nonlinearity():
    x, h = tr.randn(1, 2), tr.randn(1, 2)
    w = tr.randn(2, 2)
    with pytest.raises(ValueError, match="nonlinearity"):
        F.rnn_cell(x, h, w, w, nonlinearity="gelu")


@pytest.mark.parametrize("impl", ["fused", "composed"])
def test_a_sequence_without_time_steps_is_a_clear_error(impl):
    lstm = nn.LSTM(3, 4, impl=impl)
    with pytest.raises(ValueError, match=r"no time steps \(shape \(0, 2, 3\)\)"):
        lstm(tr.randn(0, 2, 3))


@pytest.mark.torch
@pytest.mark.parametrize("mode", ["LSTM", "GRU", "RNN"])
def test_a_weight_replaced_by_a_computed_tensor_is_used_as_torch(mode):
    """The weight-drop recipe (AWD-LSTM): the recurrent weight is deleted as a parameter and
    set, before each forward, to a masked copy of a raw parameter."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    theirs = getattr(torch.nn, mode)(3, 4, bidirectional=True, dtype=torch.float64)
    ours = getattr(nn, mode)(3, 4, bidirectional=True, dtype=np.float64)
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    mask = rng.random(theirs.weight_hh_l0.shape) > 0.3
    x = rng.standard_normal((5, 2, 3))
    grads = []
    for lib, rnn in ((torch, theirs), (tr, ours)):
        w = rnn.weight_hh_l0
        del rnn._parameters["weight_hh_l0"]
        rnn.register_parameter("weight_hh_l0_raw", lib.nn.Parameter(w.data))
        rnn.weight_hh_l0 = rnn.weight_hh_l0_raw * lib.tensor(mask.astype(np.float64))
        out, _ = rnn(lib.tensor(x))
        (out ** 2).sum().backward()
        grads.append((out.detach().numpy(), rnn.weight_hh_l0_raw.grad.numpy()))
        assert rnn._all_weights[0][:2] == ["weight_ih_l0", "weight_hh_l0"]
    for a, b in zip(*grads):
        np.testing.assert_allclose(b, a, rtol=1e-10, atol=1e-12)
