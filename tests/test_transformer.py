"""The Transformer's layers (``nn/transformer.py``) against torch's in float64: the same
parameter names, outputs and gradients, with masks, padding, pre- and post-norm."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_rnn as tr
from tinygrad_rnn import nn


def _pair(torch, name, *args, **kwargs):
    """torch's module and ours with torch's weights."""
    with warnings.catch_warnings():  # torch's notes on its nested-tensor fast path
        warnings.simplefilter("ignore", UserWarning)
        theirs = getattr(torch.nn, name)(*args, **kwargs, dtype=torch.float64)
    ours = getattr(nn, name)(*args, **kwargs, dtype=np.float64)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    return ours, theirs


def _compare(torch, ours, theirs, inputs, **masks):
    """Outputs and every gradient (inputs' and parameters') equal."""
    xo = [tr.tensor(a, requires_grad=True) for a in inputs]
    xt = [torch.tensor(a, requires_grad=True) for a in inputs]
    yo = ours(*xo, **{k: None if v is None else tr.tensor(v) for k, v in masks.items()})
    yt = theirs(*xt, **{k: None if v is None else torch.tensor(v) for k, v in masks.items()})
    np.testing.assert_allclose(yo.numpy(), yt.detach().numpy(), rtol=1e-9, atol=1e-11)
    g = np.random.default_rng(1).standard_normal(yt.shape)
    yo.backward(tr.tensor(g))
    yt.backward(torch.tensor(g))
    for a, b in zip(xo, xt):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-8, atol=1e-10)
    for (name, p), q in zip(ours.named_parameters(), theirs.parameters()):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-8, atol=1e-10,
                                   err_msg=name)


@pytest.mark.torch
@given(norm_first=st.booleans(), activation=st.sampled_from(["relu", "gelu"]),
       batch_first=st.booleans(), padded=st.booleans(), causal=st.booleans(),
       seed=st.integers(0, 2**16))
def test_encoder_stack_matches_torch(norm_first, activation, batch_first, padded, causal,
                                     seed):
    torch = pytest.importorskip("torch")
    torch.manual_seed(seed)
    ours_layer, theirs_layer = _pair(torch, "TransformerEncoderLayer", 8, 2, 12, dropout=0.0,
                                     activation=activation, norm_first=norm_first,
                                     batch_first=batch_first)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        theirs = torch.nn.TransformerEncoder(theirs_layer, 2, torch.nn.LayerNorm(
            8, dtype=torch.float64))
    ours = nn.TransformerEncoder(ours_layer, 2, nn.LayerNorm(8, dtype=np.float64))
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((2, 5, 8) if batch_first else (5, 2, 8))
    pad = np.array([[False] * 5, [False] * 3 + [True] * 2]) if padded else None
    mask = np.triu(np.ones((5, 5), dtype=bool), 1) if causal else None  # bool, as the padding
    _compare(torch, ours, theirs, [x], mask=mask, src_key_padding_mask=pad)


@pytest.mark.torch
@given(norm_first=st.booleans(), batch_first=st.booleans(), seed=st.integers(0, 2**16))
def test_transformer_matches_torch(norm_first, batch_first, seed):
    torch = pytest.importorskip("torch")
    torch.manual_seed(seed)
    ours, theirs = _pair(torch, "Transformer", 8, 2, 2, 2, 16, dropout=0.0,
                         norm_first=norm_first, batch_first=batch_first)
    rng = np.random.default_rng(seed)
    n_src, n_tgt = (2, 5, 8), (2, 4, 8)
    if not batch_first:
        n_src, n_tgt = (5, 2, 8), (4, 2, 8)
    pad = np.array([[False] * 5, [False] * 3 + [True] * 2])
    mask = nn.Transformer.generate_square_subsequent_mask(4, dtype="float64").numpy()
    np.testing.assert_array_equal(
        mask, torch.nn.Transformer.generate_square_subsequent_mask(4).numpy())
    _compare(torch, ours, theirs, [rng.standard_normal(n_src), rng.standard_normal(n_tgt)],
             tgt_mask=mask, src_key_padding_mask=pad, memory_key_padding_mask=pad)


@pytest.mark.torch
def test_decoder_layer_unbatched_and_in_eval_mode_as_torch():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    ours, theirs = _pair(torch, "TransformerDecoderLayer", 8, 4, 16, dropout=0.3)
    ours.eval()
    theirs.eval()  # dropout off
    rng = np.random.default_rng(0)
    _compare(torch, ours, theirs, [rng.standard_normal((3, 8)), rng.standard_normal((6, 8))])


def test_stacks_hold_independent_copies_and_dropout_trains():
    layer = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.5)
    enc = nn.TransformerEncoder(layer, 3)
    assert len(enc.layers) == 3 and enc.num_layers == 3
    w = [m.linear1.weight for m in enc.layers]
    assert len({id(p) for p in w}) == 3 and w[0] is not layer.linear1.weight
    with tr.no_grad():
        w[0].zero_()
    assert not np.all(w[1].numpy() == 0)
    x = tr.randn(4, 2, 8)
    assert not np.allclose(enc(x).numpy(), enc(x).numpy())  # dropout draws anew
    enc.eval()
    np.testing.assert_array_equal(enc(x).numpy(), enc(x).numpy())
    with pytest.raises(ValueError, match="activation should be"):
        nn.TransformerEncoderLayer(8, 2, activation="tanh")
    with pytest.raises(ValueError, match="num_layers must be a positive integer"):
        nn.TransformerEncoder(layer, 0)
    with pytest.raises(ValueError, match="batch sizes"):
        nn.Transformer(8, 2, 1, 1, 16)(tr.randn(5, 2, 8), tr.randn(4, 3, 8))
