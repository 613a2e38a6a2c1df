"""``nn.MultiheadAttention`` and ``functional.scaled_dot_product_attention`` against torch
(values, weights, gradients, state-dict names) and central differences."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_rnn as tr
from tinygrad_rnn import functional as F
from tinygrad_rnn import nn
from tinygrad_rnn.testing import gradcheck

from .conftest import DEVICES


@st.composite
def mha_cases(draw):
    heads = draw(st.integers(1, 3))
    return dict(
        E=heads * draw(st.integers(1, 3)), H=heads, L=draw(st.integers(1, 4)),
        S=draw(st.integers(1, 4)), N=draw(st.integers(1, 3)),
        kdim=draw(st.sampled_from([None, 2, 5])), vdim=draw(st.sampled_from([None, 3])),
        bias=draw(st.booleans()), bkv=draw(st.booleans()), zattn=draw(st.booleans()),
        bf=draw(st.booleans()), masks=draw(st.sampled_from(["none", "bool", "float"])),
        unbatched=draw(st.booleans()), average=draw(st.booleans()),
        need=draw(st.booleans()), seed=draw(st.integers(0, 2**16)))


@pytest.mark.torch
@given(case=mha_cases())
def test_multihead_attention_matches_torch(case):
    torch = pytest.importorskip("torch")
    c = case
    rng = np.random.default_rng(c["seed"])
    kw = dict(bias=c["bias"], add_bias_kv=c["bkv"], add_zero_attn=c["zattn"], kdim=c["kdim"],
              vdim=c["vdim"], batch_first=c["bf"])
    theirs = torch.nn.MultiheadAttention(c["E"], c["H"], dtype=torch.float64, **kw)
    ours = nn.MultiheadAttention(c["E"], c["H"], dtype="float64", **kw)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    L, S, N, E = c["L"], c["S"], c["N"], c["E"]

    def shape(n, size):
        return (n, size) if c["unbatched"] else (N, n, size) if c["bf"] else (n, N, size)

    q, k, v = (rng.standard_normal(shape(n, size)) for n, size in
               ((L, E), (S, c["kdim"] or E), (S, c["vdim"] or E)))
    am = kpm = None
    if c["masks"] != "none":
        am = rng.random((L, S)) < 0.3
        am[:, 0] = False  # every query keeps a key: no row of -inf only
        kpm = rng.random((S,) if c["unbatched"] else (N, S)) < 0.3
        kpm[..., 0] = False
        if c["masks"] == "float":
            am, kpm = np.where(am, -1e4, rng.standard_normal(am.shape)), np.where(kpm, -2.5, 0.0)
    got = []
    for m, mod in ((tr, ours), (torch, theirs)):
        Q, K, V = (m.tensor(a, requires_grad=True) for a in (q, k, v))
        out, w = mod(Q, K, V, key_padding_mask=None if kpm is None else m.tensor(kpm),
                     attn_mask=None if am is None else m.tensor(am), need_weights=c["need"],
                     average_attn_weights=c["average"])
        loss = out.sum() if w is None else out.sum() + (w * w).sum()
        loss.backward()
        got.append([out.detach().numpy(), None if w is None else w.detach().numpy(),
                    Q.grad.numpy(), K.grad.numpy(), V.grad.numpy(),
                    mod.out_proj.weight.grad.numpy()])
    for ours_, theirs_ in zip(*got):
        if theirs_ is None:
            assert ours_ is None
        else:
            np.testing.assert_allclose(ours_, theirs_, rtol=1e-9, atol=1e-12)


@pytest.mark.torch
@given(L=st.integers(1, 4), S=st.integers(1, 4), d=st.integers(1, 4),
       mask=st.sampled_from(["none", "bool", "float", "causal"]), seed=st.integers(0, 2**16))
def test_scaled_dot_product_attention_matches_torch(L, S, d, mask, seed):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(seed)
    q, k, v = rng.standard_normal((2, L, d)), rng.standard_normal((2, S, d)), \
        rng.standard_normal((2, S, 3))
    allowed = rng.random((L, S)) < 0.7
    allowed[:, 0] = True
    got = []
    for m, f in ((tr, F.scaled_dot_product_attention),
                 (torch, torch.nn.functional.scaled_dot_product_attention)):
        Q, K, V = (m.tensor(a, requires_grad=True) for a in (q, k, v))
        kw = {"is_causal": True} if mask == "causal" else {} if mask == "none" else {
            "attn_mask": m.tensor(allowed if mask == "bool" else np.log(allowed + 0.5))}
        out = f(Q, K, V, **kw)
        (out * out).sum().backward()
        got.append([out.detach().numpy(), Q.grad.numpy(), K.grad.numpy(), V.grad.numpy()])
    for a, b in zip(*got):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("device", DEVICES)
def test_multihead_attention_gradients_are_those_of_central_differences(device):
    tr.manual_seed(0)
    mha = nn.MultiheadAttention(4, 2, add_bias_kv=True, device=device, dtype="float64")
    rng = np.random.default_rng(1)
    q = tr.tensor(rng.standard_normal((3, 2, 4)), device=device, requires_grad=True)
    kv = tr.tensor(rng.standard_normal((5, 2, 4)), device=device, requires_grad=True)
    mask = tr.tensor(np.triu(np.ones((3, 5), bool), 2), device=device)
    assert gradcheck(lambda a, b: mha(a, b, b, attn_mask=mask)[0], [q, kv])
    assert gradcheck(lambda w: F.linear(q, w).sum(0), [mha.in_proj_weight[:4].detach()
                                                       .requires_grad_()])


def test_bad_shapes_are_named():
    mha = nn.MultiheadAttention(4, 2)
    with pytest.raises(ValueError, match=r"embed_dim \(5\) must be a positive multiple of "
                                         r"num_heads \(2\)"):
        nn.MultiheadAttention(5, 2)
    x = tr.zeros(3, 2, 4)
    with pytest.raises(ValueError, match=r"attn_mask must be \(3, 3\) or \(4, 3, 3\), got "
                                         r"\(2, 3\)"):
        mha(x, x, x, attn_mask=tr.zeros(2, 3, dtype="bool"))
    with pytest.raises(ValueError, match=r"key_padding_mask must be \(2, 3\), got \(3, 2\)"):
        mha(x, x, x, key_padding_mask=tr.zeros(3, 2, dtype="bool"))
    with pytest.raises(ValueError, match=r"expected query, key, value of sizes 4, 4, 4, got "
                                         r"4, 5, 4"):
        mha(x, tr.zeros(3, 2, 5), x)


@pytest.mark.torch
def test_scaled_dot_product_attention_row_with_nothing_allowed_is_zero():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    q, k, v = rng.standard_normal((1, 2, 3)), rng.standard_normal((1, 2, 3)), \
        rng.standard_normal((1, 2, 3))
    allowed = np.array([[False, False], [True, False]])  # query 0 may attend to nothing
    got = []
    for m in (tr, torch):
        Q, K, V = (m.tensor(a, requires_grad=True) for a in (q, k, v))
        out = m.nn.functional.scaled_dot_product_attention(Q, K, V, attn_mask=m.tensor(allowed))
        out.sum().backward()
        got.append([out.detach().numpy(), Q.grad.numpy(), K.grad.numpy(), V.grad.numpy()])
    np.testing.assert_array_equal(got[0][0][0, 0], 0.0)  # zeros, not softmax's NaN
    for a, b in zip(*got):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


@pytest.mark.torch
def test_scaled_dot_product_attention_enable_gqa_matches_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    q, k, v = rng.standard_normal((2, 4, 3, 2)), rng.standard_normal((2, 2, 5, 2)), \
        rng.standard_normal((2, 2, 5, 3))
    got = []
    for m in (tr, torch):
        Q, K, V = (m.tensor(a, requires_grad=True) for a in (q, k, v))
        out = m.nn.functional.scaled_dot_product_attention(Q, K, V, enable_gqa=True)
        (out * out).sum().backward()
        got.append([out.detach().numpy(), Q.grad.numpy(), K.grad.numpy(), V.grad.numpy()])
    for a, b in zip(*got):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
    with pytest.raises(ValueError, match="multiple of the key's 3"):
        F.scaled_dot_product_attention(tr.zeros(4, 1, 2), tr.zeros(3, 1, 2), tr.zeros(3, 1, 2),
                                       enable_gqa=True)


@pytest.mark.torch
@pytest.mark.parametrize("need_weights", [True, False])
def test_multihead_attention_with_every_key_masked_as_torch(need_weights):
    torch = pytest.importorskip("torch")
    theirs = torch.nn.MultiheadAttention(4, 2, dtype=torch.float64)
    ours = nn.MultiheadAttention(4, 2, dtype=np.float64)
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    q = np.random.default_rng(3).standard_normal((2, 2, 4))
    pad = np.array([[True, True], [False, True]])  # sequence 0 masks every key
    got = []
    for m, mha in ((tr, ours), (torch, theirs)):
        x = m.tensor(q, requires_grad=True)
        out = mha(x, x, x, key_padding_mask=m.tensor(pad), need_weights=need_weights)[0]
        out[:, 1].sum().backward()
        got.append([out.detach().numpy(), x.grad.numpy()])
    # zeros through the output projection (its bias) without weights, NaN with them
    assert np.isnan(got[0][0][:, 0]).all() == need_weights
    for a, b in zip(*got):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_scaled_dot_product_attention_refuses_a_float_mask_of_another_dtype():
    q = tr.zeros(2, 3)  # float32
    with pytest.raises(TypeError, match="attn_mask must be bool, float32 or of the query's"):
        F.scaled_dot_product_attention(q, q, q, attn_mask=tr.tensor(np.zeros((2, 2))))
    q = tr.zeros(2, 3, dtype="float64")  # a float32 mask is taken, as PyTorch's
    assert F.scaled_dot_product_attention(q, q, q, attn_mask=tr.zeros(2, 2)).dtype == np.float64
