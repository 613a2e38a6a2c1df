"""PyTorch's functional recurrent forms: tr.lstm, tr.gru, tr.rnn_tanh, tr.rnn_relu (padded and
packed) and tr.lstm_cell, tr.gru_cell, tr.rnn_tanh_cell, tr.rnn_relu_cell. Values and every
gradient against torch's in float64, gradchecks, dropout between layers, the layers equal to
the functions, and clear errors for bad input."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_rnn as tr
from tinygrad_rnn import nn
from tinygrad_rnn.tensor import DTypeError, OpError
from tinygrad_rnn.testing import gradcheck
from tinygrad_rnn.testing import strategies as tst

from .conftest import DEVICES

NAMES = {"RNN_TANH": "rnn_tanh", "RNN_RELU": "rnn_relu", "LSTM": "lstm", "GRU": "gru"}
LAYERS = {"RNN_TANH": ("RNN", {}), "RNN_RELU": ("RNN", {"nonlinearity": "relu"}),
          "LSTM": ("LSTM", {}), "GRU": ("GRU", {})}
GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


def rel_err(a, b) -> float:
    """max |a - b| relative to max |b| (or absolute when b is all but zero)."""
    a, b = np.asarray(a), np.asarray(b)
    assert a.shape == b.shape, (a.shape, b.shape)
    return float(np.max(np.abs(a - b), initial=0.0) / max(np.max(np.abs(b), initial=0.0), 1e-3))


@st.composite
def configs(draw):
    mode = draw(st.sampled_from(list(NAMES)))
    dims = draw(tst.recurrent_dims(max_T=4, max_B=3, max_I=3, max_H=4))
    cfg = dict(mode=mode, L=draw(st.integers(1, 2)), bidirectional=draw(st.booleans()),
               batch_first=draw(st.booleans()), bias=draw(st.booleans()), proj=0,
               seed=draw(st.integers(0, 2**16)), **dims)
    if mode == "LSTM" and dims["H"] > 1 and draw(st.booleans()):
        cfg["proj"] = draw(st.integers(1, dims["H"] - 1))
    return cfg


def torch_params(cfg, torch):
    """Random float64 parameters in PyTorch's flat layout (a torch layer's own list)."""
    name, extra = LAYERS[cfg["mode"]]
    kw = dict(num_layers=cfg["L"], bias=cfg["bias"], bidirectional=cfg["bidirectional"], **extra)
    if cfg["proj"]:
        kw["proj_size"] = cfg["proj"]
    torch.manual_seed(cfg["seed"])
    layer = getattr(torch.nn, name)(cfg["I"], cfg["H"], **kw).double()
    return [w.detach().numpy().copy() for w in layer._flat_weights]


def state_shapes(cfg, B):
    ld = cfg["L"] * (2 if cfg["bidirectional"] else 1)
    shapes = [(ld, B, cfg["proj"] or cfg["H"])]
    return shapes + [(ld, B, cfg["H"])] if cfg["mode"] == "LSTM" else shapes


def both(make, arrays):
    """The arrays as leaf tensors that require grad (ours with tr.tensor, theirs with torch's)."""
    return [make(a, requires_grad=True) for a in arrays]


def hx_of(mode, states):
    return tuple(states) if mode == "LSTM" else states[0]


def assert_agree(torch, rng, ours, theirs, leaves):
    """The outputs, then the gradients of one random upstream gradient on all of them for
    every leaf (input, states, params), ours against torch's, to 1e-10."""
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        assert rel_err(a.numpy(), b.detach().numpy()) < 1e-10
    ups = [rng.standard_normal(t.shape) for t in ours]
    sum((t * tr.tensor(u)).sum() for t, u in zip(ours, ups)).backward()
    sum((t * torch.tensor(u)).sum() for t, u in zip(theirs, ups)).backward()
    for k, (a, b) in enumerate(zip(*leaves)):
        assert a.grad is not None, f"leaf {k} got no gradient"
        assert rel_err(a.grad.numpy(), b.grad.numpy()) < 1e-10, k


# ---- the sequence functions -----------------------------------------------------------------


@pytest.mark.torch
@given(cfg=configs())
def test_sequence_functions_match_torch_values_and_all_gradients(cfg):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(cfg["seed"])
    T, B, I = cfg["T"], cfg["B"], cfg["I"]
    x = rng.standard_normal((B, T, I) if cfg["batch_first"] else (T, B, I))
    states = [rng.standard_normal(s) for s in state_shapes(cfg, B)]
    params = torch_params(cfg, torch)
    args = (cfg["bias"], cfg["L"], 0.0, True, cfg["bidirectional"], cfg["batch_first"])
    leaves = []
    results = []
    for lib, make in ((tr, tr.tensor), (torch, torch.tensor)):
        tx, *tensors = both(make, [x, *states, *params])
        ts, tp = tensors[:len(states)], tensors[len(states):]
        results.append(getattr(lib, NAMES[cfg["mode"]])(tx, hx_of(cfg["mode"], ts), tp, *args))
        leaves.append([tx, *tensors])
    assert_agree(torch, rng, results[0], results[1], leaves)


@pytest.mark.torch
@given(cfg=configs(), data=st.data())
def test_packed_overload_matches_torch_on_a_real_packed_sequence(cfg, data):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(cfg["seed"])
    T, B, I = cfg["T"], cfg["B"], cfg["I"]
    lengths = data.draw(st.lists(st.integers(1, T), min_size=B, max_size=B))
    padded = torch.tensor(rng.standard_normal((T, B, I)))
    packed = torch.nn.utils.rnn.pack_padded_sequence(padded, torch.tensor(lengths),
                                                     enforce_sorted=False)
    batch_sizes = packed.batch_sizes
    states = [rng.standard_normal(s) for s in state_shapes(cfg, B)]
    params = torch_params(cfg, torch)
    args = (cfg["bias"], cfg["L"], 0.0, False, cfg["bidirectional"])
    leaves, results = [], []
    for lib, make in ((tr, tr.tensor), (torch, torch.tensor)):
        tx, *tensors = both(make, [packed.data.numpy(), *states, *params])
        ts, tp = tensors[:len(states)], tensors[len(states):]
        sizes = tr.tensor(batch_sizes.numpy()) if lib is tr else batch_sizes
        results.append(getattr(lib, NAMES[cfg["mode"]])(tx, sizes, hx_of(cfg["mode"], ts), tp,
                                                        *args))
        leaves.append([tx, *tensors])
    assert results[0][0].shape == (sum(lengths), (2 if cfg["bidirectional"] else 1) *
                                   (cfg["proj"] or cfg["H"]))
    assert_agree(torch, rng, results[0], results[1], leaves)


@pytest.mark.parametrize("packed", [False, True])
@given(cfg=configs())
def test_sequence_functions_gradcheck(cfg, packed):
    rng = np.random.default_rng(cfg["seed"])
    T, B = min(cfg["T"], 3), min(cfg["B"], 2)
    name = NAMES[cfg["mode"]]
    D = 2 if cfg["bidirectional"] else 1
    G, H, P = GATES[cfg["mode"]], cfg["H"], cfg["proj"] or cfg["H"]
    shapes = []
    for layer in range(cfg["L"]):
        shapes += D * ([(G * H, cfg["I"] if layer == 0 else D * P), (G * H, P)]
                       + [(G * H,)] * (2 * cfg["bias"]) + [(P, H)] * bool(cfg["proj"]))
    params = [tr.tensor(rng.uniform(-0.7, 0.7, s), requires_grad=True) for s in shapes]
    states = [tr.tensor(rng.standard_normal(s), requires_grad=True)
              for s in state_shapes(cfg, B)]
    n = len(states)
    if packed:
        lengths = np.maximum(T - np.arange(B), 1)  # sorted, longest first
        sizes = tr.tensor((lengths[None, :] > np.arange(T)[:, None]).sum(axis=1))
        x = tr.tensor(rng.standard_normal((lengths.sum(), cfg["I"])), requires_grad=True)

        def fn(x, *ts):
            return getattr(tr, name)(x, sizes, hx_of(cfg["mode"], ts[:n]), list(ts[n:]),
                                     cfg["bias"], cfg["L"], 0.0, True, cfg["bidirectional"])
    else:
        x = tr.tensor(rng.standard_normal((T, B, cfg["I"])), requires_grad=True)

        def fn(x, *ts):
            return getattr(tr, name)(x, hx_of(cfg["mode"], ts[:n]), list(ts[n:]), cfg["bias"],
                                     cfg["L"], 0.0, True, cfg["bidirectional"], False)
    assert gradcheck(fn, [x, *states, *params], fast_mode=True)


def test_overloads_by_keyword_and_positional_are_one_function():
    rng = np.random.default_rng(0)
    w = [tr.tensor(rng.standard_normal(s)) for s in [(9, 2), (9, 3), (9,), (9,)]]
    x, h = tr.tensor(rng.standard_normal((4, 2, 2))), tr.tensor(rng.standard_normal((1, 2, 3)))
    out, h_n = tr.gru(x, h, w, True, 1, 0.0, False, False, False)
    out2, h_n2 = tr.gru(input=x, hx=h, params=w, has_biases=True, num_layers=1, dropout=0.0,
                        train=False, bidirectional=False, batch_first=False)
    np.testing.assert_array_equal(out.numpy(), out2.numpy())
    sizes = tr.tensor([2, 2, 2, 2])
    data = x.reshape(8, 2)  # both sequences 4 steps long: the packed rows are the padded ones
    out3, h_n3 = tr.gru(data, sizes, h, w, True, 1, 0.0, False, False)
    out4, _ = tr.gru(data=data, batch_sizes=sizes, hx=h, params=w, has_biases=True,
                     num_layers=1, dropout=0.0, train=False, bidirectional=False)
    np.testing.assert_allclose(out3.numpy(), out.numpy().reshape(8, 3), rtol=1e-13)
    np.testing.assert_array_equal(out3.numpy(), out4.numpy())
    np.testing.assert_allclose(h_n3.numpy(), h_n.numpy(), rtol=1e-13)


@pytest.mark.parametrize("mode", list(NAMES))
def test_unbatched_input_is_a_batch_of_one(mode):
    rng = np.random.default_rng(1)
    G, H = GATES[mode], 3
    w = [tr.tensor(rng.standard_normal(s)) for s in [(G * H, 2), (G * H, H)]]
    x = tr.tensor(rng.standard_normal((5, 2)))
    states = [tr.tensor(rng.standard_normal((1, H))) for _ in range(2 if mode == "LSTM" else 1)]
    fn = getattr(tr, NAMES[mode])
    one = fn(x, hx_of(mode, states), w, False, 1, 0.0, False, False, False)
    batch = fn(x[:, None], hx_of(mode, [s[:, None] for s in states]), w, False, 1, 0.0, False,
               False, False)
    assert one[0].shape == (5, H) and one[1].shape == (1, H)
    for a, b in zip(one, batch):
        np.testing.assert_array_equal(a.numpy(), b.numpy().squeeze(1))


# ---- dropout ---------------------------------------------------------------------------------


def _two_layer_lstm(rng):
    shapes = [(8, 3), (8, 2), (8,), (8,), (8, 2), (8, 2), (8,), (8,)]
    params = [tr.tensor(rng.standard_normal(s)) for s in shapes]
    x = tr.tensor(rng.standard_normal((4, 2, 3)))
    hx = (tr.tensor(rng.standard_normal((2, 2, 2))), tr.tensor(rng.standard_normal((2, 2, 2))))
    return x, hx, params


def test_dropout_applies_between_layers_only_when_training():
    x, hx, params = _two_layer_lstm(np.random.default_rng(2))
    plain = tr.lstm(x, hx, params, True, 2, 0.0, True, False, False)
    # dropout only while training
    for a, b in zip(tr.lstm(x, hx, params, True, 2, 0.5, False, False, False), plain):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    # never after the last layer: one layer is untouched even with p = 1
    one = tr.lstm(x, (hx[0][:1], hx[1][:1]), params[:4], True, 1, 1.0, True, False, False)
    ref = tr.lstm(x, (hx[0][:1], hx[1][:1]), params[:4], True, 1, 0.0, True, False, False)
    np.testing.assert_array_equal(one[0].numpy(), ref[0].numpy())
    # p = 1 between two layers: the second layer reads zeros
    dropped = tr.lstm(x, hx, params, True, 2, 1.0, True, False, False)
    second = tr.lstm(tr.zeros(4, 2, 2, dtype="float64"), (hx[0][1:], hx[1][1:]), params[4:],
                     True, 1, 0.0, True, False, False)
    np.testing.assert_allclose(dropped[0].numpy(), second[0].numpy(), rtol=1e-13)
    # p = 0.5: a random mask from tr.manual_seed's generator, the same for the same seed
    tr.manual_seed(3)
    a = tr.lstm(x, hx, params, True, 2, 0.5, True, False, False)[0].numpy()
    tr.manual_seed(3)
    b = tr.lstm(x, hx, params, True, 2, 0.5, True, False, False)[0].numpy()
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, plain[0].numpy())


# ---- the cells -------------------------------------------------------------------------------


@pytest.mark.torch
@given(mode=st.sampled_from(list(NAMES)), dims=tst.recurrent_dims(max_B=3, max_I=4, max_H=4),
       bias=st.booleans(), batched=st.booleans(), seed=st.integers(0, 2**16))
def test_cells_match_torch_values_and_all_gradients(mode, dims, bias, batched, seed):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(seed)
    B, I, H, G = dims["B"], dims["I"], dims["H"], GATES[mode]
    lead = (B,) if batched else ()
    x = rng.standard_normal((*lead, I))
    states = [rng.standard_normal((*lead, H)) for _ in range(2 if mode == "LSTM" else 1)]
    weights = [rng.standard_normal(s) for s in [(G * H, I), (G * H, H)]]
    weights += [rng.standard_normal(G * H) for _ in range(2 * bias)]
    name = NAMES[mode] + "_cell"
    leaves, results = [], []
    for lib, make in ((tr, tr.tensor), (torch, torch.tensor)):
        tx, *tensors = both(make, [x, *states, *weights])
        ts, tw = tensors[:len(states)], tensors[len(states):]
        if lib is torch and not batched:  # torch's cell functions take batches only
            out = getattr(torch, name)(tx[None], hx_of(mode, [s[None] for s in ts]), *tw)
            out = tuple(o[0] for o in out) if mode == "LSTM" else out[0]
        else:
            out = getattr(lib, name)(tx, hx_of(mode, ts), *tw)
        results.append(tuple(out) if mode == "LSTM" else (out,))
        leaves.append([tx, *tensors])
    assert results[0][0].shape == (*lead, H)
    assert_agree(torch, rng, results[0], results[1], leaves)


@given(mode=st.sampled_from(list(NAMES)), dims=tst.recurrent_dims(max_B=2, max_I=3, max_H=3),
       bias=st.booleans(), batched=st.booleans(), seed=st.integers(0, 2**16))
def test_cells_gradcheck(mode, dims, bias, batched, seed):
    rng = np.random.default_rng(seed)
    B, I, H, G = dims["B"], dims["I"], dims["H"], GATES[mode]
    lead = (B,) if batched else ()
    shapes = [(*lead, I)] + [(*lead, H)] * (2 if mode == "LSTM" else 1)
    shapes += [(G * H, I), (G * H, H)] + [(G * H,)] * (2 * bias)
    inputs = [tr.tensor(rng.standard_normal(s), requires_grad=True) for s in shapes]
    n = 2 if mode == "LSTM" else 1
    fn = getattr(tr, NAMES[mode] + "_cell")
    assert gradcheck(lambda x, *ts: fn(x, hx_of(mode, ts[:n]), *ts[n:]), inputs)


# ---- the layers are these functions ----------------------------------------------------------


@pytest.mark.parametrize("packed", [False, True])
@pytest.mark.parametrize("mode", list(NAMES))
def test_layers_equal_the_functions(mode, packed):
    """nn.RNN/LSTM/GRU and the functions given the layer's ``all_weights``: the same values and
    gradients, bit for bit (one code path); and the cells equal the cell functions."""
    tr.manual_seed(4)
    name, extra = LAYERS[mode]
    kw = dict(proj_size=2) if mode == "LSTM" else {}
    layer = getattr(nn, name)(3, 4, num_layers=2, bidirectional=True, dtype="float64", **extra,
                              **kw)
    x = tr.randn(5, 3, 3, dtype="float64", requires_grad=True)
    fn = getattr(tr, NAMES[mode])
    params = [w for ws in layer.all_weights for w in ws]
    if packed:  # the packed rows as the leaf: both runs then start from it
        sizes = nn.utils.rnn.pack_padded_sequence(x, [5, 3, 2]).batch_sizes
        x = tr.randn(10, 3, dtype="float64", requires_grad=True)
        out, state = layer(nn.utils.rnn.PackedSequence(x, sizes))
        out = out.data
        ours = fn(x, sizes, None, params, True, 2, 0.0, True, True)
    else:
        out, state = layer(x)
        ours = fn(x, None, params, True, 2, 0.0, True, True, False)
    theirs = (out, *state) if mode == "LSTM" else (out, state)
    grads = []
    for results in (theirs, ours):
        sum((r * r).sum() for r in results).backward()
        grads.append([t.grad.numpy() for t in [x, *params]])
        for t in [x, *params]:
            t.grad = None
    for a, b in zip(theirs, ours):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    for a, b in zip(*grads):
        np.testing.assert_array_equal(a, b)

    cell = getattr(nn, name + "Cell")(3, 4, dtype="float64", **extra)
    xc = tr.randn(2, 3, dtype="float64")
    w = (cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh)
    hx = (tr.randn(2, 4, dtype="float64"), tr.randn(2, 4, dtype="float64"))
    hx = hx if mode == "LSTM" else hx[0]
    a, b = cell(xc, hx), getattr(tr, NAMES[mode] + "_cell")(xc, hx, *w)
    for u, v in zip(*((a, b) if mode == "LSTM" else ((a,), (b,)))):
        np.testing.assert_array_equal(u.numpy(), v.numpy())


@pytest.mark.parametrize("device", DEVICES)
def test_functions_run_on_each_device(device):
    rng = np.random.default_rng(5)
    x0, hx0, p0 = _two_layer_lstm(rng)
    results = []
    for dev in ("cpu", device):
        x = tr.tensor(x0.numpy(), device=dev, requires_grad=True)
        params = [tr.tensor(p.numpy(), device=dev, requires_grad=True) for p in p0]
        out, h, c = tr.lstm(x, tuple(t.to(dev) for t in hx0), params, True, 2, 0.0, True,
                            False, False)
        h2, c2 = tr.lstm_cell(x[0], (h[0], c[0]), *params[:4])
        (out.sum() + h2.sum() + c2.sum()).backward()
        assert out.device == x.grad.device == params[0].grad.device == dev
        results.append([out.numpy(), h2.numpy(), x.grad.numpy(), *(p.grad.numpy()
                                                                  for p in params)])
    for a, b in zip(*results):
        np.testing.assert_allclose(b, a, rtol=1e-12, atol=1e-14)


# ---- bad input -------------------------------------------------------------------------------


def test_sequence_errors_name_what_was_expected():
    x, hx, params = _two_layer_lstm(np.random.default_rng(6))
    args = (True, 2, 0.0, False, False, False)
    with pytest.raises(OpError, match=r"lstm: expected 8 params \(or 10 with weight_hr\) for 2 "
                                      r"layer\(s\) x 1 direction\(s\).*got 7"):
        tr.lstm(x, hx, params[:7], *args)
    with pytest.raises(OpError, match=r"gru: expected 8 params for 2 layer"):
        tr.gru(x, hx[0], params + params[:2], *args)
    bad = list(params)
    bad[5] = tr.zeros(8, 3, dtype="float64")
    with pytest.raises(OpError, match=r"lstm: Expected weight_hh_l1 size \(8, 2\), got \(8, 3\)"):
        tr.lstm(x, hx, bad, *args)
    with pytest.raises(OpError, match=r"Expected weight_ih_l0 size \(8, 4\), got \(8, 3\)"):
        tr.lstm(tr.zeros(4, 2, 4, dtype="float64"), hx, params, *args)
    with pytest.raises(OpError, match=r"lstm: weight_hh_l0 has 6 rows, not a multiple of the 4"):
        tr.lstm(x, hx, [params[0], tr.zeros(6, 2, dtype="float64"), *params[2:]], *args)
    with pytest.raises(OpError, match=r"lstm: Expected hidden size \(2, 2, 2\), got \(1, 2, 2\)"):
        tr.lstm(x, (hx[0][:1], hx[1]), params, *args)
    with pytest.raises(OpError, match=r"lstm: Expected cell size \(2, 2, 2\), got \(2, 3, 2\)"):
        tr.lstm(x, (hx[0], tr.zeros(2, 3, 2, dtype="float64")), params, *args)
    with pytest.raises(TypeError, match=r"lstm: the initial state must be a tuple \(h_0, c_0\)"):
        tr.lstm(x, hx[0], params, *args)
    with pytest.raises(DTypeError, match=r"lstm: weight_ih_l0 is float32 but the input is "
                                         r"float64"):
        tr.lstm(x, hx, [params[0].float(), *params[1:]], *args)
    with pytest.raises(DTypeError, match=r"lstm: hidden is float32 but the input is float64"):
        tr.lstm(x, (hx[0].float(), hx[1]), params, *args)
    with pytest.raises(OpError, match=r"expected a 3-D \(batched\) or 2-D \(unbatched\) input"):
        tr.lstm(x[0, 0], hx, params, *args)
    with pytest.raises(TypeError, match=r"lstm: params must be a list of Tensors"):
        tr.lstm(x, hx, params[0], *args)
    with pytest.raises(ValueError, match=r"lstm: num_layers must be a positive integer"):
        tr.lstm(x, hx, params, True, 0, 0.0, False, False, False)
    with pytest.raises(ValueError, match=r"dropout probability must be a number in \[0, 1\]"):
        tr.lstm(x, hx, params, True, 2, 1.5, True, False, False)
    # packed
    data, sizes = x.reshape(8, 3), tr.tensor([2, 2, 2, 2])
    with pytest.raises(DTypeError, match=r"lstm: batch_sizes must be an int64 Tensor on the CPU "
                                         r"\(a PackedSequence's\), got float64 on 'cpu'"):
        tr.lstm(data, sizes.double(), hx, params, True, 2, 0.0, False, False)
    with pytest.raises(ValueError, match=r"lstm: data has 8 rows but batch_sizes add up to 7"):
        tr.lstm(data, tr.tensor([2, 2, 2, 1]), hx, params, True, 2, 0.0, False, False)
    with pytest.raises(ValueError, match=r"lstm: batch_sizes must be a non-increasing list"):
        tr.lstm(data, tr.tensor([1, 2, 2, 3]), hx, params, True, 2, 0.0, False, False)
    with pytest.raises(OpError, match=r"lstm: expected a 2-D packed input"):
        tr.lstm(x, sizes, hx, params, True, 2, 0.0, False, False)


def test_cell_errors_name_what_was_expected():
    rng = np.random.default_rng(7)
    x, h = tr.tensor(rng.standard_normal((2, 3))), tr.tensor(rng.standard_normal((2, 4)))
    w_ih, w_hh = tr.tensor(rng.standard_normal((16, 3))), tr.tensor(rng.standard_normal((16, 4)))
    with pytest.raises(TypeError, match=r"lstm_cell: hx must be a tuple \(h, c\) of two"):
        tr.lstm_cell(x, h, w_ih, w_hh)
    with pytest.raises(OpError, match=r"lstm_cell: Expected hx size \(2, 4\), got \(3, 4\)"):
        tr.lstm_cell(x, (tr.zeros(3, 4, dtype="float64"), h), w_ih, w_hh)
    with pytest.raises(OpError, match=r"lstm_cell: Expected cx size \(4,\), got \(2, 4\)"):
        tr.lstm_cell(x[0], (h[0], h), w_ih, w_hh)
    with pytest.raises(OpError, match=r"lstm_cell: Expected w_ih size \(16, 5\), got \(16, 3\)"):
        tr.lstm_cell(tr.zeros(2, 5, dtype="float64"), (h, h), w_ih, w_hh)
    with pytest.raises(OpError, match=r"gru_cell: Expected w_hh size \(12, 4\), got \(16, 4\)"):
        tr.gru_cell(x, h, w_ih, w_hh)
    with pytest.raises(OpError, match=r"rnn_tanh_cell: Expected b_hh size \(4,\), got \(5,\)"):
        tr.rnn_tanh_cell(x, h, w_ih[:4], w_hh[:4], None, tr.zeros(5, dtype="float64"))
    with pytest.raises(OpError, match=r"rnn_relu_cell: w_hh must be 2-D"):
        tr.rnn_relu_cell(x, h, w_ih[:4], w_hh[0])
    with pytest.raises(OpError, match=r"gru_cell: expected a 2-D \(batched\) or 1-D"):
        tr.gru_cell(x[None], h, w_ih[:12], w_hh[:12])
    with pytest.raises(DTypeError, match=r"rnn_tanh_cell: hx is float32 but the input is "
                                         r"float64"):
        tr.rnn_tanh_cell(x, h.float(), w_ih[:4], w_hh[:4])
    with pytest.raises(OpError, match=r"rnn_tanh_cell: w_ih is on 'strict' but the input is on "
                                      r"'cpu'"):
        tr.rnn_tanh_cell(x, h, w_ih[:4].to("strict"), w_hh[:4])
