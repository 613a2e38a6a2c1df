"""Sparse COO tensors against torch: construction, coalesce, to_dense, the sparse ops and their
gradients (float64 gradchecks on random sparse tensors, duplicates, empty and hybrid ones
included); embedding(sparse=True)'s sparse gradients, accumulated as torch's; SparseAdam, SGD
and Adagrad trajectories on an embedding language-model toy equal to torch's to 1e-10; the
refusals, with torch's messages where torch has one."""

from __future__ import annotations

import io
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_rnn as tr
from tinygrad_rnn import nn, optim
from tinygrad_rnn import sparse as trs
from tinygrad_rnn.nn.utils import clip_grad_norm_
from tinygrad_rnn.testing import gradcheck, gradgradcheck
from tinygrad_rnn.testing import strategies as tst

from .conftest import DEVICES


def sparse_parts(max_dense_dim=1, min_nnz=0):
    """(indices (sparse_dim, nnz), values (nnz, *dense), shape) of a random sparse tensor
    (``strategies.sparse_coo_tensors``: duplicates, empty and hybrid ones included)."""
    return tst.sparse_coo_tensors(max_dense_dim=max_dense_dim).filter(
        lambda s: s._nnz() >= min_nnz).map(
        lambda s: (s._indices().numpy(), s._values().numpy(), tuple(s.shape)))


@given(tst.sparse_coo_tensors(max_sparse_dim=3, max_dense_dim=2, max_nnz=5))
def test_sparse_strategy_draws_what_it_says(s):
    assert s.is_sparse and 1 <= s.sparse_dim() <= 3 and s.dense_dim() <= 2
    assert s._nnz() <= 5 and s._indices().dtype == np.int64 and s.dtype == np.float64
    assert all(1 <= n <= 4 for n in s.shape)
    idx = s._indices().numpy()
    assert (idx >= 0).all() and (idx < np.array(s.shape[:s.sparse_dim()])[:, None]).all()


def _torch():
    torch = pytest.importorskip("torch")
    warnings.filterwarnings("ignore", message="Sparse invariant checks")
    return torch


def _check_like(s: trs.SparseTensor, ts, flag: bool = False) -> None:
    """s equals torch's sparse tensor ts: shape, dims, dense values, and, with ``flag``,
    the coalesced flag (PyTorch's marking of op results as coalesced follows its kernels:
    s + t merges entries where s + t here joins them)."""
    assert tuple(s.shape) == tuple(ts.shape)
    assert (s.sparse_dim(), s.dense_dim()) == (ts.sparse_dim(), ts.dense_dim())
    assert not flag or s.is_coalesced() == ts.is_coalesced()
    np.testing.assert_allclose(s.to_dense().numpy(), ts.to_dense().numpy(), rtol=1e-12,
                               atol=1e-12)


# ---- construction and the sparse ops, against torch ---------------------------------------


@pytest.mark.torch
@given(sparse_parts())
def test_sparse_ops_match_torch(parts):
    torch = _torch()
    idx, vals, shape = parts
    s = tr.sparse_coo_tensor(idx, vals, shape)
    ts = torch.sparse_coo_tensor(torch.tensor(idx), torch.tensor(vals), shape)
    assert s.layout is tr.sparse_coo and s.is_sparse and s._nnz() == ts._nnz()
    assert s.dtype == np.float64 and s.device == "cpu"
    _check_like(s, ts)
    c, tc = s.coalesce(), ts.coalesce()
    assert c.is_coalesced() and tc.is_coalesced()
    np.testing.assert_array_equal(c.indices().numpy(), tc.indices().numpy())
    np.testing.assert_allclose(c.values().numpy(), tc.values().numpy(), rtol=1e-12)
    _check_like(s * 2.5, ts * 2.5)
    _check_like(-s / 4, -ts / 4)
    _check_like(s + s, ts + ts)
    _check_like(c + c, tc + tc, flag=True)
    _check_like(s - c, ts - tc)
    np.testing.assert_allclose((tr.ones(*shape, dtype=np.float64) + s).numpy(),
                               (torch.ones(shape, dtype=torch.float64) + ts).numpy())
    np.testing.assert_allclose(trs.sum(s).numpy(), torch.sparse.sum(ts).numpy(), atol=1e-12)
    for d in range(len(shape)):
        got, want = trs.sum(s, d), torch.sparse.sum(ts, d)
        if want.is_sparse:
            _check_like(got, want)
        else:
            np.testing.assert_allclose(got.numpy(), want.numpy(), atol=1e-12)
    if s.sparse_dim() == 2 and s.dense_dim() == 0:
        _check_like(s.t(), ts.t())


@pytest.mark.torch
@given(sparse_parts(max_dense_dim=0))
def test_to_sparse_matches_torch(parts):
    torch = _torch()
    idx, vals, shape = parts
    x = tr.sparse_coo_tensor(idx, vals, shape).to_dense()
    tx = torch.tensor(x.numpy())
    for sd in [None] + list(range(1, x.ndim + 1)):
        s, ts = (x.to_sparse(), tx.to_sparse()) if sd is None else \
            (x.to_sparse(sd), tx.to_sparse(sd))
        _check_like(s, ts)
        np.testing.assert_array_equal(s.indices().numpy(), ts.indices().numpy())
    np.testing.assert_array_equal(x.to_sparse_coo().to_dense().numpy(), x.numpy())


@pytest.mark.torch
@given(st.integers(1, 5), st.integers(1, 4), st.integers(1, 3), st.integers(0, 8),
       st.integers(0, 1000))
def test_sparse_mm_value_and_gradients_match_torch(n, m, p, nnz, seed):
    torch = _torch()
    rng = np.random.default_rng(seed)
    idx = np.stack([rng.integers(0, n, nnz), rng.integers(0, m, nnz)])
    vals, d = rng.standard_normal(nnz), rng.standard_normal((m, p))
    s = tr.sparse_coo_tensor(idx, vals, (n, m), requires_grad=True)
    x = tr.tensor(d, requires_grad=True)
    ts = torch.sparse_coo_tensor(torch.tensor(idx), torch.tensor(vals), (n, m),
                                 requires_grad=True)
    tx = torch.tensor(d, requires_grad=True)
    y, ty = tr.sparse.mm(s, x), torch.sparse.mm(ts, tx)
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), rtol=1e-12, atol=1e-12)
    g = rng.standard_normal((n, p))
    y.backward(tr.tensor(g))
    ty.backward(torch.tensor(g))
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-12, atol=1e-12)
    # the sparse argument's gradient: sparse, one entry at each place it holds
    assert s.grad.is_sparse and s.grad._nnz() == ts.grad.coalesce()._nnz()
    np.testing.assert_array_equal(s.grad.coalesce().indices().numpy(),
                                  ts.grad.coalesce().indices())
    np.testing.assert_allclose(s.grad.coalesce().values().numpy(), ts.grad.coalesce().values(),
                               rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose((s @ x).numpy(), tr.mm(s, x).numpy())
    np.testing.assert_allclose((s @ x[:, 0]).numpy(), (ts @ tx[:, 0]).detach().numpy(),
                               rtol=1e-12, atol=1e-12)
    out = tr.sparse.addmm(tr.ones(n, p, dtype=np.float64), s, x, beta=0.5, alpha=2.0)
    tout = torch.sparse.addmm(torch.ones(n, p, dtype=torch.float64), ts, tx, beta=0.5,
                              alpha=2.0)
    np.testing.assert_allclose(out.detach().numpy(), tout.detach().numpy(), rtol=1e-12)


@pytest.mark.torch
def test_sparse_softmax_matches_torch():
    torch = _torch()
    idx, vals = [[0, 0, 1, 2, 2], [0, 2, 1, 0, 2]], [1.0, -2.0, 0.5, 3.0, 1.5]
    s = tr.sparse_coo_tensor(idx, vals, (3, 3), dtype=np.float64)
    ts = torch.sparse_coo_tensor(idx, vals, (3, 3), dtype=torch.float64)
    for dim in (0, 1):
        _check_like(trs.softmax(s, dim), torch.sparse.softmax(ts, dim))
        _check_like(trs.log_softmax(s, dim), torch.sparse.log_softmax(ts, dim))


# ---- gradients, float64, against central differences ---------------------------------------


@given(sparse_parts(min_nnz=1))
def test_to_dense_and_coalesce_gradcheck(parts):
    idx, vals, shape = parts
    v = tr.tensor(vals, requires_grad=True)
    w = tr.tensor(np.random.default_rng(0).standard_normal(shape))
    gradcheck(lambda v: tr.sparse_coo_tensor(idx, v, shape).to_dense(), [v])
    gradcheck(lambda v: tr.sparse_coo_tensor(idx, v, shape).coalesce().to_dense() * w, [v])
    gradcheck(lambda v: trs.sum(tr.sparse_coo_tensor(idx, v, shape) * 3.0, 0).to_dense()
              if len(shape) > 1 and idx.shape[0] > 1 else
              trs.sum(tr.sparse_coo_tensor(idx, v, shape), 0), [v])


def test_sparse_mm_second_derivatives():
    rng = np.random.default_rng(5)
    idx = np.array([[0, 2, 0, 1], [1, 1, 1, 0]])
    v = tr.tensor(rng.standard_normal(4), requires_grad=True)
    d = tr.tensor(rng.standard_normal((2, 3)), requires_grad=True)
    gradgradcheck(lambda v, d: tr.sparse.mm(tr.sparse_coo_tensor(idx, v, (3, 2)), d) ** 2,
                  [v, d])


@given(st.integers(1, 4), st.integers(1, 4), st.integers(1, 3), st.integers(1, 6),
       st.integers(0, 1000))
def test_sparse_mm_gradcheck(n, m, p, nnz, seed):
    rng = np.random.default_rng(seed)
    idx = np.stack([rng.integers(0, n, nnz), rng.integers(0, m, nnz)])
    v = tr.tensor(rng.standard_normal(nnz), requires_grad=True)
    d = tr.tensor(rng.standard_normal((m, p)), requires_grad=True)
    gradcheck(lambda v, d: tr.sparse.mm(tr.sparse_coo_tensor(idx, v, (n, m)), d), [v, d])
    gradcheck(lambda v: tr.sparse.softmax(tr.sparse_coo_tensor(idx, v, (n, m)), 1).to_dense(),
              [v])


@pytest.mark.parametrize("device", DEVICES)
def test_sparse_on_each_device(device):
    s = tr.sparse_coo_tensor([[0, 2, 0]], [1.0, 2.0, 3.0], (4,), device=device)
    assert s.device == device
    np.testing.assert_allclose(s.to_dense().numpy(), [4.0, 0, 2.0, 0])
    np.testing.assert_allclose(s.coalesce().values().numpy(), [4.0, 2.0])
    d = tr.ones(3, 2, device=device)
    m = tr.sparse_coo_tensor([[0, 1], [2, 0]], [1.0, 2.0], (2, 3), device=device)
    np.testing.assert_allclose(tr.sparse.mm(m, d).numpy(), [[1, 1], [2, 2]])
    w = nn.Embedding(5, 2, sparse=True, device=device)
    w(tr.tensor([1, 1, 3], device=device)).sum().backward()
    assert w.weight.grad.device == device
    np.testing.assert_array_equal(w.weight.grad._indices().numpy(), [[1, 1, 3]])


# ---- embedding(sparse=True) ----------------------------------------------------------------


@pytest.mark.torch
@pytest.mark.parametrize("padding_idx", [None, 2])
def test_embedding_sparse_grad_matches_torch(padding_idx):
    torch = _torch()
    w0 = np.random.default_rng(1).standard_normal((6, 3))
    e = nn.Embedding.from_pretrained(w0, freeze=False, sparse=True, padding_idx=padding_idx)
    te = torch.nn.Embedding.from_pretrained(torch.tensor(w0), freeze=False, sparse=True,
                                            padding_idx=padding_idx)
    for batch in ([[3, 2, 3], [0, 5, 2]], [1, 2]):
        g = np.random.default_rng(len(batch)).standard_normal(np.shape(batch) + (3,))
        e(tr.tensor(batch)).backward(tr.tensor(g))
        te(torch.tensor(batch)).backward(torch.tensor(g))
        got, want = e.weight.grad, te.weight.grad
        assert got.is_sparse and not got.is_coalesced() and got._nnz() == want._nnz()
        _check_like(got, want)
    with pytest.raises(RuntimeError, match="create_graph"):
        e(tr.tensor([1])).sum().backward(create_graph=True)


@pytest.mark.torch
@pytest.mark.parametrize("mode", ["sum", "mean", "sum-weighted"])
def test_embedding_bag_sparse_grad_matches_torch(mode):
    torch = _torch()
    w0 = np.random.default_rng(2).standard_normal((6, 3))
    m = mode.split("-")[0]
    b = nn.EmbeddingBag.from_pretrained(w0, freeze=False, mode=m, sparse=True)
    tb = torch.nn.EmbeddingBag.from_pretrained(torch.tensor(w0), freeze=False, mode=m,
                                               sparse=True)
    x, off = [3, 2, 3, 0, 5, 1], [0, 2, 2]
    psw = np.linspace(0.5, 2.0, 6) if mode == "sum-weighted" else None
    b(tr.tensor(x), tr.tensor(off), None if psw is None else tr.tensor(psw)).sum().backward()
    tb(torch.tensor(x), torch.tensor(off),
       None if psw is None else torch.tensor(psw)).sum().backward()
    assert b.weight.grad.is_sparse
    np.testing.assert_allclose(b.weight.grad.to_dense().numpy(),
                               tb.weight.grad.to_dense().numpy(), rtol=1e-12)


def test_sparse_grad_accumulates_as_torch():
    e = nn.Embedding(5, 2, sparse=True, dtype=np.float64)
    e(tr.tensor([1, 2])).sum().backward()
    e(tr.tensor([3])).sum().backward()
    g = e.weight.grad
    assert g.is_sparse and g._nnz() == 3  # sparse + sparse: the entries joined
    (e.weight * 2).sum().backward()  # then a dense gradient: dense, as torch's
    assert not e.weight.grad.is_sparse
    np.testing.assert_allclose(e.weight.grad.numpy()[:, 0], [2, 3, 3, 3, 2])
    v = tr.zeros(5, 2, dtype=np.float64, requires_grad=True)
    (v.sum(), )  # a dense gradient first, then a sparse one: dense
    (v * 1).sum().backward()
    tr.nn.functional.embedding(tr.tensor([4]), v, sparse=True).sum().backward()
    np.testing.assert_allclose(v.grad.numpy()[:, 0], [1, 1, 1, 1, 2])
    (g_w,) = tr.grad(tr.nn.functional.embedding(tr.tensor([0, 0]), v, sparse=True).sum(), [v])
    assert g_w.is_sparse and g_w._nnz() == 2
    # a weight made by an op: its op gets the gradient dense
    u = tr.ones(5, 2, dtype=np.float64, requires_grad=True)
    tr.nn.functional.embedding(tr.tensor([1, 1]), u * 3, sparse=True).sum().backward()
    np.testing.assert_allclose(u.grad.numpy()[:, 0], [0, 6, 0, 0, 0])


# ---- optimizers on an embedding language-model toy, against torch --------------------------

VOCAB, DIM = 11, 4


def _lm_toy(lib, w_emb, w_out, sparse_grads):
    """An embedding and a dense output layer predicting the next token."""
    f64 = np.float64 if lib is tr else lib.float64
    emb = lib.nn.Embedding(VOCAB, DIM, sparse=sparse_grads, dtype=f64)
    out = lib.nn.Linear(DIM, VOCAB, bias=False, dtype=f64)
    if lib is tr:
        emb.load_state_dict({"weight": w_emb})
        out.load_state_dict({"weight": w_out})
    else:
        emb.weight.data[:] = lib.tensor(w_emb)
        out.weight.data[:] = lib.tensor(w_out)
    return emb, out


def _train(lib, make_opts, clip=None, steps=6):
    rng = np.random.default_rng(7)
    w_emb, w_out = rng.standard_normal((VOCAB, DIM)), rng.standard_normal((VOCAB, DIM)) * 0.3
    emb, out = _lm_toy(lib, w_emb, w_out, True)
    sparse_opt, dense_opt = make_opts(lib, emb, out)
    data = np.random.default_rng(8).integers(0, VOCAB, (steps, 2, 6))
    data[:, :, 0] = 3  # one row seen at every step, others seldom
    for k in range(steps):
        x = lib.tensor(data[k][:, :-1])
        y = lib.tensor(data[k][:, 1:])
        logits = out(emb(x))
        loss = lib.nn.functional.cross_entropy(logits.reshape(-1, VOCAB), y.reshape(-1))
        loss.backward()
        if k == 2:  # two backward calls before one step: the gradients accumulate
            out(emb(x[:, :2])).sum().backward()
        if clip is not None and lib is tr:
            clip_grad_norm_(list(emb.parameters()), clip)
        elif clip is not None:  # torch 2.13's clip_grad_norm_ refuses sparse gradients:
            g = emb.weight.grad  # its formula, on the coalesced gradient
            total = float(g.coalesce().values().norm())
            if clip / (total + 1e-6) < 1:
                g.mul_(clip / (total + 1e-6))
        sparse_opt.step()
        dense_opt.step()
        sparse_opt.zero_grad()
        dense_opt.zero_grad()
    return emb.weight.detach().numpy(), out.weight.detach().numpy()


OPTIMIZERS = {
    "SparseAdam": lambda lib, **k: lib.optim.SparseAdam(lr=0.05, betas=(0.8, 0.9), **k),
    "SparseAdam-max": lambda lib, **k: lib.optim.SparseAdam(lr=0.05, maximize=True, **k),
    "SGD": lambda lib, **k: lib.optim.SGD(lr=0.3, **k),
    "SGD-momentum": lambda lib, **k: lib.optim.SGD(lr=0.3, momentum=0.9, dampening=0.1, **k),
    "SGD-nesterov": lambda lib, **k: lib.optim.SGD(lr=0.3, momentum=0.8, nesterov=True, **k),
    "Adagrad": lambda lib, **k: lib.optim.Adagrad(lr=0.3, lr_decay=0.1, **k),
}


@pytest.mark.torch
@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
@pytest.mark.parametrize("clip", [None, 0.5])
def test_sparse_optimizer_trajectory_matches_torch(name, clip):
    torch = _torch()

    def make(lib, emb, out):
        if name.startswith("Sparse"):  # the output layer's dense gradient: Adam
            return (OPTIMIZERS[name](lib, params=list(emb.parameters())),
                    lib.optim.Adam(list(out.parameters()), lr=0.01))
        # SGD and Adagrad take both: sparse and dense gradients in one group
        return (OPTIMIZERS[name](lib, params=[*emb.parameters(), *out.parameters()]),
                _NoOp())

    got = _train(tr, make, clip)
    want = _train(torch, make, clip)
    for a, b in zip(got, want):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-10)


class _NoOp:
    def step(self):
        pass

    def zero_grad(self):
        pass


def test_optimizers_refuse_sparse_gradients_as_torch():
    def with_sparse_grad():
        p = nn.Parameter(tr.zeros(5, 2))
        tr.nn.functional.embedding(tr.tensor([1, 3]), p, sparse=True).sum().backward()
        return p

    cases = [(optim.Adam, {}, "Adam does not support sparse gradients, please consider "
              "SparseAdam instead"),
             (optim.AdamW, {}, "Adam does not support sparse gradients"),
             (optim.RMSprop, {}, "RMSprop does not support sparse gradients"),
             (optim.NAdam, {}, "NAdam does not support sparse gradients"),
             (optim.SGD, {"lr": 0.1, "weight_decay": 0.1}, r"add\(sparse, dense\) is not "
              "supported"),
             (optim.Adagrad, {"weight_decay": 0.1}, "weight_decay option is not compatible "
              "with sparse gradients")]
    for cls, kw, msg in cases:
        p = with_sparse_grad()
        before = p.numpy().copy()
        with pytest.raises(RuntimeError, match=msg):
            cls([p], **kw).step()
        np.testing.assert_array_equal(p.numpy(), before)
    q = nn.Parameter(tr.zeros(2))
    (q * 2).sum().backward()
    with pytest.raises(RuntimeError, match="SparseAdam does not support dense gradients"):
        optim.SparseAdam([q]).step()
    with pytest.raises(ValueError, match="learning rate"):
        optim.SparseAdam([q], lr=0.0)
    p = with_sparse_grad()
    opt = optim.SGD([p], lr=0.1)
    opt.zero_grad(set_to_none=False)
    assert p.grad.is_sparse and p.grad._nnz() == 0
    e = nn.Embedding(3, 2, sparse=True)
    e(tr.tensor([1])).sum().backward()
    e.zero_grad(set_to_none=False)
    assert e.weight.grad.is_sparse and e.weight.grad._nnz() == 0


def test_manual_sgd_with_sparse_gradient():
    w0 = np.random.default_rng(3).standard_normal((5, 2))
    e = nn.Embedding.from_pretrained(w0, freeze=False, sparse=True)
    e(tr.tensor([1, 1, 4])).sum().backward()
    e.weight.data.add_(e.weight.grad, alpha=-0.5)  # dense += sparse, as torch's
    want = w0.copy()
    want[1] -= 1.0
    want[4] -= 0.5
    np.testing.assert_allclose(e.weight.numpy(), want)
    with tr.no_grad():
        e.weight -= e.weight.grad
    want[1] -= 2.0
    want[4] -= 1.0
    np.testing.assert_allclose(e.weight.numpy(), want)
    with pytest.raises(NotImplementedError, match="to_dense"):
        e.weight.data.mul_(e.weight.grad)
    with pytest.raises(ValueError, match="max mode does not support sparse weights"):
        nn.EmbeddingBag(5, 2, mode="max", sparse=True)(tr.tensor([[1, 2]]))


def test_clip_grad_norm_sparse_coalesces():
    p = nn.Parameter(tr.zeros(4, 1, dtype=np.float64))
    tr.nn.functional.embedding(tr.tensor([1, 1, 2]), p, sparse=True).sum().backward()
    total = clip_grad_norm_([p], 1.0)
    assert abs(total.item() - np.sqrt(4 + 1)) < 1e-12  # (1 + 1)^2 + 1^2, not 1 + 1 + 1
    np.testing.assert_allclose(p.grad.to_dense().numpy()[:, 0],
                               np.array([0, 2, 1, 0]) / (np.sqrt(5) + 1e-6))
    with pytest.raises(NotImplementedError, match="clip_grad_value_"):
        tr.nn.utils.clip_grad_value_([p], 1.0)


# ---- refusals and checks -------------------------------------------------------------------


def test_dense_ops_refuse_sparse_tensors():
    s = tr.sparse_coo_tensor([[0, 1]], [1.0, 2.0], (3,))
    x = tr.ones(3)
    for f, op in [(lambda: s.exp(), "exp"), (lambda: tr.exp(s), "exp"),
                  (lambda: x * s, "operator"), (lambda: tr.nn.functional.relu(s), "Relu|relu"),
                  (lambda: s[0], "indexing"), (lambda: s * x, r"sparse \*"),
                  (lambda: s.abs(), "abs"), (lambda: x @ s, "operator")]:
        with pytest.raises(NotImplementedError, match=f"({op}).*\\.to_dense\\(\\)"):
            f()
    with pytest.raises(RuntimeError, match=r"add\(sparse, dense\) is not supported"):
        s + x
    assert not hasattr(s, "exp")  # an AttributeError too
    with pytest.raises(NotImplementedError, match="NumPy array"):
        np.asarray(s)
    with pytest.raises(NotImplementedError, match="=="):
        s == s  # noqa: B015 (the comparison is what is tested)
    with pytest.raises(NotImplementedError, match="<"):
        s < 1  # noqa: B015
    with pytest.raises(NotImplementedError, match="Cat"):
        tr.cat([x, s])


def test_sparse_coo_tensor_checks():
    with pytest.raises(ValueError, match="out of range"):
        tr.sparse_coo_tensor([[0, 3]], [1.0, 2.0], (3,))
    with pytest.raises(ValueError, match="nnz = 2"):
        tr.sparse_coo_tensor([[0, 1]], [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="2-D"):
        tr.sparse_coo_tensor([0, 1], [1.0, 2.0])
    with pytest.raises(TypeError, match="integers"):
        tr.sparse_coo_tensor([[0.5]], [1.0])
    with pytest.raises(ValueError, match="dense sizes"):
        tr.sparse_coo_tensor([[0]], [[1.0, 2.0]], (2, 3))
    with pytest.raises(RuntimeError, match="uncoalesced"):
        tr.sparse_coo_tensor([[0, 0]], [1.0, 2.0]).indices()
    s = tr.sparse_coo_tensor([[1, 0]], [1.0, 2.0], is_coalesced=True)
    assert s.is_coalesced() and s.shape == (2,)
    e = tr.sparse_coo_tensor(np.zeros((2, 0), np.int64), np.zeros(0))
    assert e.shape == (0, 0) and e._nnz() == 0 and e.to_dense().shape == (0, 0)
    assert tr.sparse_coo_tensor([[0]], [1], dtype=np.float32).dtype == np.float32


def test_sparse_save_load_and_pickle(tmp_path):
    import copy
    import pickle

    s = tr.sparse_coo_tensor([[0, 2, 0], [1, 1, 1]], [1.0, 2.0, 3.0], (3, 2))
    for t in (pickle.loads(pickle.dumps(s)), copy.deepcopy(s)):
        assert t.is_sparse and not t.is_coalesced()
        np.testing.assert_array_equal(t.to_dense().numpy(), s.to_dense().numpy())
    buf = io.BytesIO()
    tr.save({"s": s}, buf)
    buf.seek(0)
    t = tr.load(buf)["s"]
    assert t.is_sparse
    np.testing.assert_array_equal(t._indices().numpy(), s._indices().numpy())
    np.testing.assert_array_equal(t._values().numpy(), s._values().numpy())



@pytest.mark.torch
def test_sparse_in_pytorch_files_both_ways(tmp_path):
    torch = _torch()
    s = tr.sparse_coo_tensor([[0, 2, 0], [1, 1, 1]], [[1.0], [2.0], [3.0]], (3, 2, 1))
    path = str(tmp_path / "s.pt")
    tr.save({"s": s, "c": s.coalesce()}, path, format="torch")
    got = torch.load(path, weights_only=True)
    for k in ("s", "c"):
        assert got[k].is_sparse and got[k].is_coalesced() == (k == "c")
        np.testing.assert_array_equal(got[k].to_dense().numpy(), s.to_dense().numpy())
    ts = torch.sparse_coo_tensor([[3, 0, 3]], torch.arange(6.0).reshape(3, 2), (5, 2))
    torch.save({"t": ts, "w": torch.ones(2)}, path)
    back = tr.load(path)
    t = back["t"]
    assert t.is_sparse and not t.is_coalesced() and t.shape == (5, 2) and t.sparse_dim() == 1
    np.testing.assert_array_equal(t._indices().numpy(), ts._indices().numpy())
    np.testing.assert_array_equal(t.to_dense().numpy(), ts.to_dense().numpy())


def test_sgd_sparse_momentum_state_saves_and_resumes():
    def run(resume_at=None):
        e = nn.Embedding.from_pretrained(np.arange(10.0).reshape(5, 2), freeze=False,
                                         sparse=True)
        opt = optim.SGD(e.parameters(), lr=0.1, momentum=0.9)
        for k, rows in enumerate([[1, 2], [2, 3], [0, 2], [4, 4]]):
            if k == resume_at:
                buf = io.BytesIO()
                tr.save(opt.state_dict(), buf)
                buf.seek(0)
                opt = optim.SGD(e.parameters(), lr=0.1, momentum=0.9)
                opt.load_state_dict(tr.load(buf))
                assert opt.state[e.weight]["momentum_buffer"].is_sparse
            (e(tr.tensor(rows)) ** 2).sum().backward()
            opt.step()
            opt.zero_grad()
        return e.weight.numpy()

    np.testing.assert_allclose(run(2), run(), rtol=1e-15)


def test_grad_scaler_unscales_sparse_gradients():
    e = nn.Embedding.from_pretrained(np.ones((4, 2), np.float32), freeze=False, sparse=True)
    opt = optim.SGD(e.parameters(), lr=1.0)
    scaler = tr.amp.GradScaler("cpu", init_scale=8.0)
    scaler.scale(e(tr.tensor([1, 1, 3])).sum()).backward()
    scaler.step(opt)
    scaler.update()
    np.testing.assert_allclose(e.weight.numpy()[:, 0], [1, -1, 1, 0])
    opt.zero_grad()
    scaler.scale(e(tr.tensor([2])).sum() * np.inf).backward()  # skipped: an inf
    scaler.step(opt)
    np.testing.assert_allclose(e.weight.numpy()[:, 0], [1, -1, 1, 0])


def test_module_moves_and_copies_sparse_gradients():
    import copy

    e = nn.Embedding(4, 2, sparse=True)
    e(tr.tensor([1, 1])).sum().backward()
    e.double()
    g = e.weight.grad
    assert g.is_sparse and g.dtype == np.float64 and g._nnz() == 2
    g2 = copy.deepcopy(e).weight.grad
    assert g2.is_sparse and g2 is not g
    np.testing.assert_array_equal(g2.to_dense().numpy(), g.to_dense().numpy())


def test_debug_tools_take_sparse_gradients():
    e = nn.Embedding(4, 2, sparse=True)
    with tr.detect_anomaly():
        e(tr.tensor([1, 1])).sum().backward()
    with tr.trace() as t:
        e(tr.tensor([2])).sum().backward()
    assert "EmbeddingSparse" in t.table() and e.weight.grad._nnz() == 3
    e.weight.data[1] = float("nan")
    with pytest.raises(RuntimeError, match="NaN"), tr.detect_anomaly():
        (e(tr.tensor([1])) * 0).sum().backward()


_QUERIES = ("is_sparse", "is_sparse_csr", "is_quantized", "is_nested", "is_meta", "is_cuda",
            "is_mkldnn", "is_mps", "is_xpu", "is_xla", "is_ipu", "is_mtia", "is_maia",
            "is_vulkan")


@pytest.mark.torch
def test_sparse_layout_queries_as_torchs():
    """PyTorch's layout, kind and device queries answer on a sparse tensor as there (code that
    asks ``t.is_sparse_csr`` of any tensor runs), rather than being refused."""
    torch = pytest.importorskip("torch")
    ours = tr.tensor([[0.0, 2.0], [3.0, 0.0]]).to_sparse()
    theirs = torch.tensor([[0.0, 2.0], [3.0, 0.0]]).to_sparse()
    assert [getattr(ours, q) for q in _QUERIES] == [getattr(theirs, q) for q in _QUERIES]
