"""The fast path equals the readable one: fused cells and fused sequence ops against the
composed cells, in value and in every gradient (float64, 1e-10), on every device."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_rnn as tr
from tinygrad_rnn import nn
from tinygrad_rnn.ops.fused import _Sequence
from tinygrad_rnn.testing import gradcheck, gradgradcheck
from tinygrad_rnn.testing import strategies as tst

from .conftest import DEVICES

LAYERS = {"RNN_TANH": (nn.RNN, {}), "RNN_RELU": (nn.RNN, {"nonlinearity": "relu"}),
          "LSTM": (nn.LSTM, {}), "GRU": (nn.GRU, {})}


def _outputs_and_grads(layer, x, state, lengths, upstream, retain=False):
    """Run ``layer``, backprop fixed upstream gradients, return every value and gradient.
    ``retain``: backpropagate with ``retain_graph=True`` (the fused ops then keep their saved
    activations and put the gate gradients in a buffer of a few steps)."""
    for p in layer.parameters():
        p.grad = None
    xs = tr.tensor(x, device=layer.weight_ih_l0.device, requires_grad=True)
    st_in = None
    if state is not None:
        st_in = [tr.tensor(s, device=xs.device, requires_grad=True) for s in state]
    out, st_out = layer(xs, (tuple(st_in) if len(st_in) == 2 else st_in[0])
                        if st_in else None, lengths=lengths)
    results = [out] + (list(st_out) if isinstance(st_out, tuple) else [st_out])
    loss = sum((r * tr.tensor(u, device=xs.device)).sum() for r, u in zip(results, upstream))
    loss.backward(retain_graph=retain)
    values = [r.numpy() for r in results] + [xs.grad.numpy()]
    values += [s.grad.numpy() for s in st_in or []]
    values += [p.grad.numpy() for p in layer.parameters()]
    return values


@pytest.mark.parametrize("device", DEVICES)
@given(mode=st.sampled_from(list(LAYERS)), dims=tst.recurrent_dims(), layers=st.integers(1, 2),
       bidir=st.booleans(), bias=st.booleans(), batch_first=st.booleans(),
       give_state=st.booleans(), use_lengths=st.booleans(), proj=st.booleans(),
       chunk=st.sampled_from([None, 1, 2, 3]), retain=st.booleans(), data=st.data())
def test_fused_layer_equals_composed(device, mode, dims, layers, bidir, bias, batch_first,
                                     give_state, use_lengths, proj, chunk, retain, data):
    """``chunk``: steps per weight-gradient chunk where the backward cannot write over the
    saved activations (None: the automatic size, one chunk at these lengths); ``retain``:
    the backward keeps the graph, so LSTM and GRU use that buffer too."""
    T, B, I, H = dims["T"], dims["B"], dims["I"], dims["H"]
    cls, extra = LAYERS[mode]
    kw = dict(num_layers=layers, bidirectional=bidir, bias=bias, batch_first=batch_first,
              dtype="float64", device=device, **extra)
    if mode == "LSTM" and proj and H > 1:
        kw["proj_size"] = data.draw(st.integers(1, H - 1))
    tr.manual_seed(0)
    fused = cls(I, H, impl="fused", **kw)
    composed = cls(I, H, impl="composed", **kw)
    composed.load_state_dict(fused.state_dict())

    x = data.draw(tst.arrays((B, T, I) if batch_first else (T, B, I)))
    D, h_out = 2 if bidir else 1, kw.get("proj_size") or H
    state = None
    if give_state:
        state = [data.draw(tst.arrays((layers * D, B, h_out)))]
        if mode == "LSTM":
            state.append(data.draw(tst.arrays((layers * D, B, H))))
    lengths = data.draw(st.lists(st.integers(1, T), min_size=B, max_size=B)) \
        if use_lengths else None
    out_shape = (B, T, D * h_out) if batch_first else (T, B, D * h_out)
    upstream = [data.draw(tst.arrays(out_shape)), data.draw(tst.arrays((layers * D, B, h_out)))]
    if mode == "LSTM":
        upstream.append(data.draw(tst.arrays((layers * D, B, H))))

    _Sequence.chunk_steps = chunk
    try:
        a = _outputs_and_grads(fused, x, state, lengths, upstream, retain)
    finally:
        _Sequence.chunk_steps = None
    b = _outputs_and_grads(composed, x, state, lengths, upstream)
    assert len(a) == len(b)
    for u, v in zip(a, b):
        np.testing.assert_allclose(u, v, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("cell", [nn.LSTMCell, nn.GRUCell, nn.RNNCell])
@given(dims=tst.recurrent_dims(), batched=st.booleans(), data=st.data())
def test_fused_cell_equals_composed(device, cell, dims, batched, data):
    B, I, H = dims["B"], dims["I"], dims["H"]
    tr.manual_seed(0)
    fused = cell(I, H, dtype="float64", device=device)
    composed = cell(I, H, dtype="float64", device=device, impl="composed")
    composed.load_state_dict(fused.state_dict())
    lead = (B,) if batched else ()
    x = data.draw(tst.arrays(lead + (I,)))
    hs = [data.draw(tst.arrays(lead + (H,))) for _ in range(2 if cell is nn.LSTMCell else 1)]
    ups = [data.draw(tst.arrays(lead + (H,))) for _ in hs]

    def run(m):
        for p in m.parameters():
            p.grad = None
        xt = tr.tensor(x, device=device, requires_grad=True)
        st_ = [tr.tensor(h, device=device, requires_grad=True) for h in hs]
        out = m(xt, tuple(st_) if len(st_) == 2 else st_[0])
        outs = list(out) if isinstance(out, tuple) else [out]
        sum((o * tr.tensor(u, device=device)).sum() for o, u in zip(outs, ups)).backward()
        return ([o.numpy() for o in outs] + [xt.grad.numpy()] + [s.grad.numpy() for s in st_]
                + [p.grad.numpy() for p in m.parameters()])

    for u, v in zip(run(fused), run(composed)):
        np.testing.assert_allclose(u, v, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("mode", list(LAYERS))
def test_fused_layer_gradcheck(device, mode):
    """The fused backward against central differences directly, not only against its twin."""
    cls, extra = LAYERS[mode]
    tr.manual_seed(3)
    layer = cls(2, 3, num_layers=2, bidirectional=True, dtype="float64", device=device, **extra)
    x = tr.randn(4, 2, 2, dtype="float64", device=device, requires_grad=True)
    names = [n for n, _ in layer.named_parameters()]

    def fn(x, *ps):
        saved = dict(layer._parameters)
        layer._parameters.update(zip(names, ps))
        try:
            out, st_ = layer(x, lengths=[4, 2])
        finally:
            layer._parameters.update(saved)
        return (out, *(st_ if isinstance(st_, tuple) else (st_,)))

    assert gradcheck(fn, [x, *layer.parameters()])


@pytest.mark.parametrize("cls,kw", [(nn.LSTM, {}), (nn.GRU, {}), (nn.RNN, {}),
                                    (nn.RNN, {"nonlinearity": "relu"}),
                                    (nn.LSTM, {"proj_size": 2}),
                                    (nn.GRU, {"bidirectional": True, "num_layers": 2})])
@pytest.mark.parametrize("lengths", [None, [4, 2]])
def test_create_graph_through_the_fused_path_equals_the_composed_path(cls, kw, lengths):
    """A gradient penalty (the gradient's norm, differentiated again) through the fused layer
    (its ops replay themselves with composed cells under create_graph) equals the one through
    impl="composed": the penalty, its gradient in x and in every parameter."""
    tr.manual_seed(0)
    fused = cls(3, 4, dtype="float64", **kw)
    composed = cls(3, 4, dtype="float64", impl="composed", **kw)
    composed.load_state_dict(fused.state_dict())
    x = np.random.default_rng(5).standard_normal((4, 2, 3))
    results = []
    for layer in (fused, composed):
        xt = tr.tensor(x, requires_grad=True)
        out, state = layer(xt, lengths=lengths)
        h = state[0] if isinstance(state, tuple) else state
        (g,) = tr.grad((out ** 2).sum() + (h ** 3).sum(), xt, create_graph=True)
        penalty = (g ** 2).sum()
        penalty.backward()
        results.append([penalty.numpy(), xt.grad.numpy()]
                       + [p.grad.numpy() for p in layer.parameters()])
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("cell", [nn.LSTMCell, nn.GRUCell, nn.RNNCell])
def test_fused_cells_and_layers_have_second_derivatives(cell):
    """gradgradcheck through the fused cells and a fused layer (the replays' own gradients
    are checked against central differences, as every op's are)."""
    tr.manual_seed(1)
    c = cell(3, 4, dtype="float64")
    x = tr.tensor(np.random.default_rng(6).standard_normal((2, 3)), requires_grad=True)
    assert gradgradcheck(lambda x: c(x)[0] if isinstance(c(x), tuple) else c(x), (x,))
    layer = nn.LSTM(3, 2, dtype="float64")
    xs = tr.tensor(np.random.default_rng(7).standard_normal((3, 1, 3)), requires_grad=True)
    assert gradgradcheck(lambda x: layer(x)[0], (xs,))


def test_unknown_impl_is_a_clear_error():
    with pytest.raises(ValueError, match="impl must be 'fused'"):
        nn.GRU(2, 3, impl="cudnn")


def test_fused_path_is_the_default_and_records_one_op_per_layer_direction():
    lstm = nn.LSTM(2, 3, num_layers=2, bidirectional=True)
    out, (h, c) = lstm(tr.randn(50, 1, 2))
    assert lstm.impl == "fused"
    # output = cat(forward, reverse) of the last layer: each half comes from one fused op
    ops = {type(p._ctx).__name__ for p in out.grad_fn.parents}
    assert ops == {"LSTMSequence"}


@pytest.mark.parametrize("mode", list(LAYERS))
@pytest.mark.parametrize("chunk", [None, 2])
@pytest.mark.parametrize("lengths", [None, [7, 3]])
def test_fused_backward_twice_with_retain_graph_gives_the_same_gradients(mode, chunk, lengths):
    """The last backward writes gate gradients over the saved activations; earlier ones use a
    buffer of a few steps (``chunk``) and must leave the saved ones intact."""
    cls, extra = LAYERS[mode]
    tr.manual_seed(0)
    layer = cls(3, 4, dtype="float64", bidirectional=True, **extra)
    x = tr.randn(7, 2, 3, dtype="float64", requires_grad=True)
    _Sequence.chunk_steps = chunk
    try:
        out, _ = layer(x, lengths=lengths)
        loss = (out * out).sum()
        grads = []
        for retain in (True, False):
            x.grad = None
            layer.zero_grad()
            loss.backward(retain_graph=retain)
            grads.append([x.grad.numpy()] + [p.grad.numpy() for p in layer.parameters()])
    finally:
        _Sequence.chunk_steps = None
    composed = cls(3, 4, dtype="float64", bidirectional=True, impl="composed", **extra)
    composed.load_state_dict(layer.state_dict())
    x.grad = None
    out, _ = composed(x, lengths=lengths)
    (out * out).sum().backward()
    grads.append([x.grad.numpy()] + [p.grad.numpy() for p in composed.parameters()])
    for a, b, c in zip(*grads):
        np.testing.assert_allclose(a, c, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(b, c, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("mode", [*LAYERS, "LSTM_PROJ"])
def test_one_sequence_equals_composed_through_reuse_writes_and_second_derivatives(mode):
    """With one sequence and no mask each step of the NumPy LSTM and GRU loops writes its h
    into the output itself. Stacked and bidirectional (reverse order), run twice before one
    backward, the first output written into afterwards, backpropagated twice (retain_graph)
    and then under create_graph: every value and gradient is the composed path's."""
    cls, extra = LAYERS.get(mode, (nn.LSTM, {"proj_size": 2}))
    tr.manual_seed(0)
    kw = dict(num_layers=2, bidirectional=True, dtype="float64", **extra)
    fused, composed = cls(3, 4, **kw), cls(3, 4, impl="composed", **kw)
    composed.load_state_dict(fused.state_dict())
    x = np.random.default_rng(3).standard_normal((6, 1, 3))
    results = []
    for layer in (fused, composed):
        xt = tr.tensor(x, requires_grad=True)
        out1, state = layer(xt)
        out2, _ = layer(xt * 0.5)
        h = state[0] if isinstance(state, tuple) else state
        loss = (out1 ** 2).sum() + (h ** 3).sum() + (out1 * out2).sum()
        with tr.no_grad():
            out1[0] += 1.0  # the user's write: the saved states keep the forward's values
        got = [out1.numpy().copy(), out2.numpy()]
        for retain in (True, False):
            xt.grad = None
            layer.zero_grad()
            loss.backward(retain_graph=retain)
            got += [xt.grad.numpy()] + [p.grad.numpy() for p in layer.parameters()]
        xt = tr.tensor(x, requires_grad=True)
        out, _ = layer(xt)
        (g,) = tr.grad((out ** 2).sum() + (out[-1] ** 3).sum(), xt, create_graph=True)
        layer.zero_grad()
        (g ** 2).sum().backward()
        results.append(got + [xt.grad.numpy()] + [p.grad.numpy() for p in layer.parameters()])
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("mode", list(LAYERS))
def test_fused_layer_with_an_empty_batch(mode):
    cls, extra = LAYERS[mode]
    layer = cls(3, 4, bidirectional=True, **extra)
    x = tr.randn(5, 0, 3, requires_grad=True)
    out, _ = layer(x)
    out.sum().backward(retain_graph=True)
    out.sum().backward()
    assert out.shape == (5, 0, 8) and x.grad.shape == (5, 0, 3)
    assert not layer.weight_hh_l0.grad.numpy().any()


@pytest.mark.parametrize("mode", list(LAYERS))
def test_a_kept_graph_holds_no_gradients(mode):
    """After a backward with retain_graph=True the op keeps its saved activations, but the
    gradients it computed belong to the .grad fields alone: dropping those frees them."""
    import gc
    import weakref

    cls, extra = LAYERS[mode]
    layer = cls(3, 4, **extra)
    x = tr.randn(6, 2, 3, requires_grad=True)
    out, _ = layer(x)
    out.sum().backward(retain_graph=True)
    refs = [weakref.ref(g._data) for g in [x.grad] + [p.grad for p in layer.parameters()]]
    x.grad = None
    layer.zero_grad()
    gc.collect()
    assert all(r() is None for r in refs)


@pytest.mark.parametrize("cell", [nn.GRUCell, nn.LSTMCell, nn.RNNCell])
def test_create_graph_through_fused_cells_in_a_loop_and_a_layer_fed_from_its_input(cell):
    """Inputs of a fused op made from one another (a cell's gh from its h_prev; a layer's h0
    from its x): the replay's derivative in each is the partial one, so nothing counts
    twice; equal to the composed path, first and second derivatives."""
    X = np.random.default_rng(8).standard_normal((3, 2, 4))
    results = []
    for impl in ("fused", "composed"):
        tr.manual_seed(0)
        c = cell(4, 3, dtype="float64", impl=impl)
        h = None
        for t in range(3):
            h = c(tr.tensor(X[t]), h)
        h = h[0] if isinstance(h, tuple) else h
        (g,) = tr.grad((h ** 2).sum(), [c.weight_hh], create_graph=True)
        (g ** 2).sum().backward()
        results.append([g.detach().numpy(), c.weight_ih.grad.numpy()])
        tr.manual_seed(0)
        layer = nn.GRU(4, 3, dtype="float64", impl=impl)
        x = tr.tensor(X, requires_grad=True)
        out, _ = layer(x, x.mean(0, keepdim=True)[..., :3].tanh())
        (gx,) = tr.grad((out ** 2).sum(), x, create_graph=True)
        (gx ** 2).sum().backward()
        results[-1] += [gx.detach().numpy(), layer.weight_hh_l0.grad.numpy()]
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-13)
