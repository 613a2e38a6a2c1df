"""``nn.utils.parametrize`` and ``nn.utils.parametrizations`` against PyTorch's (state-dict
keys, values and gradients in float64, the tensor at registration, assignment), and their own
promises: an orthogonal W_hh stays orthogonal while it trains, ``cached``, removal, the older
weight_norm keys, errors."""

from __future__ import annotations

import copy

import numpy as np
import pytest

import tinygrad_rnn as tr
from tinygrad_rnn import nn, optim
from tinygrad_rnn.nn.utils import parametrizations as P
from tinygrad_rnn.nn.utils import parametrize

from .conftest import DEVICES

X = np.random.default_rng(1).standard_normal((3, 5))


def _torch_pair(make, fn_name, kwargs, x, train=True):
    """The same layer in both frameworks, parametrized by ``fn_name`` with ``kwargs``, ours
    loaded from torch's state dict: equal keys (in order), outputs, gradients of the
    originals, and state after the forward (the spectral norm's power iteration)."""
    torch = pytest.importorskip("torch")
    from torch.nn.utils import parametrizations as TP

    torch.manual_seed(0)  # (a random layer can be slow to converge under power iteration)
    tm = make(torch.nn).double()
    getattr(TP, fn_name)(tm, **kwargs)
    om = make(nn).double()
    getattr(P, fn_name)(om, **kwargs)
    sd = tm.state_dict()
    assert list(om.state_dict()) == list(sd)
    om.load_state_dict({k: v.numpy() for k, v in sd.items()})
    tm.train(train)
    om.train(train)
    yt, yo = tm(torch.tensor(x)), om(tr.tensor(x))
    yt, yo = (yt[0], yo[0]) if isinstance(yt, tuple) else (yt, yo)
    np.testing.assert_allclose(yo.detach().numpy(), yt.detach().numpy(), atol=1e-13)
    w = np.random.default_rng(0).standard_normal(tuple(yt.shape))
    (yt * torch.tensor(w)).sum().backward()
    (yo * tr.tensor(w)).sum().backward()
    theirs = dict(tm.named_parameters())
    for k, p in om.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), theirs[k].grad.numpy(), atol=1e-12)
    for k, v in om.state_dict().items():
        np.testing.assert_allclose(v.numpy(), tm.state_dict()[k].numpy(), atol=1e-13)
    return om


@pytest.mark.torch
@pytest.mark.parametrize("shape", [(5, 5), (7, 5), (3, 5)], ids=["square", "tall", "wide"])
@pytest.mark.parametrize("mp,triv", [("matrix_exp", True), ("cayley", True),
                                     ("householder", True), ("householder", False)])
def test_orthogonal_matches_torch(shape, mp, triv):
    om = _torch_pair(lambda m: m.Linear(shape[1], shape[0]), "orthogonal",
                     dict(orthogonal_map=mp, use_trivialization=triv), X[:, :shape[1]])
    W = om.weight.detach().numpy()
    small = min(shape)
    gram = W.T @ W if shape[0] >= shape[1] else W @ W.T
    np.testing.assert_allclose(gram, np.eye(small), atol=1e-12)


@pytest.mark.torch
@pytest.mark.parametrize("shape", [(5, 5), (7, 5), (3, 5)], ids=["square", "tall", "wide"])
def test_orthogonal_starts_from_the_weights_orthogonal_part(shape):
    """At registration the weight becomes Q of its QR (R's diagonal positive), as torch's;
    and an orthogonal matrix assigned to it is stored as it is."""
    torch = pytest.importorskip("torch")
    from torch.nn.utils import parametrizations as TP

    tm = torch.nn.Linear(shape[1], shape[0]).double()
    om = nn.Linear(shape[1], shape[0], dtype="float64")
    om.load_state_dict({k: v.numpy() for k, v in tm.state_dict().items()})
    TP.orthogonal(tm)
    P.orthogonal(om)
    np.testing.assert_allclose(om.weight.detach().numpy(), tm.weight.detach().numpy(),
                               atol=1e-13)
    q = np.linalg.qr(np.random.default_rng(2).standard_normal(shape if shape[0] >= shape[1]
                                                                else shape[::-1]))[0]
    q = q if shape[0] >= shape[1] else q.T
    om.weight = tr.tensor(q)
    np.testing.assert_allclose(om.weight.detach().numpy(), q, atol=1e-13)


@pytest.mark.torch
@pytest.mark.parametrize("dim", [0, 1, None])
def test_weight_norm_matches_torch(dim):
    om = _torch_pair(lambda m: m.Linear(5, 4), "weight_norm", dict(dim=dim), X)
    g = om.parametrizations.weight.original0
    assert g.shape == ((4, 1) if dim == 0 else (1, 5) if dim == 1 else ())


@pytest.mark.torch
@pytest.mark.parametrize("dim", [None, 1])
def test_spectral_norm_matches_torch(dim):
    om = _torch_pair(lambda m: m.Linear(5, 4), "spectral_norm", dict(dim=dim), X)
    sigma = np.linalg.svd(om.weight.detach().numpy(), compute_uv=False)[0]
    assert sigma == pytest.approx(1.0, abs=1e-2)  # one power step per forward
    om.eval()  # no power step in eval mode: the buffers stay
    before = om.parametrizations.weight[0]._u.numpy().copy()
    om(tr.tensor(X))
    assert (om.parametrizations.weight[0]._u.numpy() == before).all()


@pytest.mark.torch
@pytest.mark.parametrize("cell,fn", [("RNN", "orthogonal"), ("LSTM", "weight_norm"),
                                     ("GRU", "spectral_norm")])
def test_recurrent_weights_take_parametrizations(cell, fn):
    """The fused recurrent layers read their weights as attributes, so a parametrized W_hh
    is what they run with. (In eval mode for the spectral norm: torch's recurrent layers read
    a weight more than once per forward, and each read in training mode is a power step.)"""
    xs = np.random.default_rng(3).standard_normal((6, 2, 5))
    _torch_pair(lambda m: getattr(m, cell)(5, 8), fn, dict(name="weight_hh_l0"), xs,
                train=fn != "spectral_norm")


def test_orthogonal_recurrent_matrix_stays_orthogonal_while_training():
    """Ten Adam steps on an RNN: W_hh moves, and stays orthogonal; the optimizer, built
    before the parametrization, still trains the same Parameter (the original)."""
    tr.manual_seed(0)
    rnn = nn.RNN(4, 6, dtype="float64")
    original = rnn.weight_hh_l0
    opt = optim.Adam(rnn.parameters(), lr=0.05)
    P.orthogonal(rnn, "weight_hh_l0")
    assert rnn.parametrizations.weight_hh_l0.original is original
    start = rnn.weight_hh_l0.detach().numpy().copy()
    x = tr.randn(12, 3, 4, dtype="float64")
    for _ in range(10):
        opt.zero_grad()
        out, h = rnn(x)
        (h**2).sum().backward()
        opt.step()
    W = rnn.weight_hh_l0.detach().numpy()
    assert np.abs(W - start).max() > 1e-2
    np.testing.assert_allclose(W.T @ W, np.eye(6), atol=1e-12)


class _Symmetric(nn.Module):
    def forward(self, X):
        return X.triu() + X.triu(1).mT

    def right_inverse(self, W):
        return W.triu()


class _Exp(nn.Module):  # no right_inverse: the tensor cannot be assigned
    def forward(self, X):
        return X.exp()


class _Scale(nn.Module):
    def forward(self, X):
        return 2 * X

    def right_inverse(self, W):
        return W / 2


def test_custom_parametrizations_chain_assign_remove():
    tr.manual_seed(0)
    m = nn.Linear(3, 3, dtype="float64")
    parametrize.register_parametrization(m, "weight", _Symmetric())
    parametrize.register_parametrization(m, "weight", _Scale())
    assert type(m).__name__ == "ParametrizedLinear" and isinstance(m, nn.Linear)
    assert parametrize.is_parametrized(m) and parametrize.is_parametrized(m, "weight")
    assert not parametrize.is_parametrized(m, "bias")
    assert parametrize.type_before_parametrizations(m) is nn.Linear
    W = m.weight.numpy()
    np.testing.assert_allclose(W, W.T)
    orig = m.parametrizations.weight.original.numpy()
    np.testing.assert_allclose(W, 2 * (np.triu(orig) + np.triu(orig, 1).T))
    sym = np.array([[1.0, 2, 3], [2, 5, 6], [3, 6, 9]])
    m.weight = tr.tensor(sym)  # each right_inverse, last first
    np.testing.assert_allclose(m.weight.numpy(), sym)
    with pytest.raises(KeyError, match="'weight' already exists"):
        m.weight = nn.Parameter(tr.tensor(sym))  # would shadow the parametrized tensor
    assert set(dict(m.named_parameters())) == {"bias", "parametrizations.weight.original"}
    parametrize.remove_parametrizations(m, "weight")
    assert type(m) is nn.Linear and "parametrizations" not in m._modules
    np.testing.assert_allclose(m.weight.numpy(), sym)
    # back as a parameter, registered last, as in PyTorch
    assert isinstance(m.weight, nn.Parameter) and list(m.state_dict()) == ["bias", "weight"]


def test_remove_keeps_the_original_when_asked():
    m = nn.Linear(3, 3, dtype="float64")
    parametrize.register_parametrization(m, "weight", _Scale())
    original = m.parametrizations.weight.original
    parametrize.remove_parametrizations(m, "weight", leave_parametrized=False)
    assert m.weight is original
    P.weight_norm(m)
    with pytest.raises(ValueError, match="single original"):
        parametrize.remove_parametrizations(m, "weight", leave_parametrized=False)
    w = m.weight.numpy()
    parametrize.remove_parametrizations(m, "weight")
    np.testing.assert_allclose(m.weight.numpy(), w)


def test_cached_computes_once():
    calls = []

    class Counted(nn.Module):
        def forward(self, X):
            calls.append(1)
            return X * 1

    m = nn.Linear(2, 2)
    parametrize.register_parametrization(m, "weight", Counted())
    calls.clear()
    with parametrize.cached():
        a, b = m.weight, m.weight
        with parametrize.cached():
            c = m.weight
    assert a is b is c and len(calls) == 1
    m.weight  # noqa: B018  (outside the block: computed again)
    assert len(calls) == 2


def test_older_weight_norm_keys_load():
    """A state dict of ``nn.utils.weight_norm`` (``weight_g``, ``weight_v``) loads into the
    parametrized layer."""
    old = nn.utils.weight_norm(nn.Linear(5, 4, dtype="float64"))
    new = P.weight_norm(nn.Linear(5, 4, dtype="float64"))
    new.load_state_dict(old.state_dict())
    np.testing.assert_allclose(new.weight.numpy(), old.weight.numpy())


def test_deepcopy_and_checkpoint_round_trip(tmp_path):
    m = P.orthogonal(nn.Linear(4, 4, dtype="float64"))
    twin = copy.deepcopy(m)
    np.testing.assert_allclose(twin.weight.numpy(), m.weight.numpy())
    assert twin.parametrizations.weight.original is not m.parametrizations.weight.original
    tr.save(m.state_dict(), tmp_path / "m.pt")
    fresh = P.orthogonal(nn.Linear(4, 4, dtype="float64"))
    fresh.load_state_dict(tr.load(tmp_path / "m.pt"))
    np.testing.assert_allclose(fresh.weight.numpy(), m.weight.numpy())


@pytest.mark.parametrize("device", DEVICES)
def test_parametrizations_run_on_the_device(device):
    """Through ``xp`` only (the strict device refuses NumPy called directly, as CuPy)."""
    for fn, shape in ((P.orthogonal, (5, 3)), (P.orthogonal, (4, 4)), (P.weight_norm, (4, 3)),
                      (P.spectral_norm, (4, 3))):
        tr.manual_seed(0)
        m = fn(nn.Linear(shape[1], shape[0], dtype="float64").to(device))
        y = m(tr.tensor(X[:, :shape[1]], device=device))
        y.sum().backward()
        assert y.device == device
        assert all(p.grad is not None and p.grad.device == device for p in m.parameters())
    # registered on the device, so right_inverse (QR, one matrix at a time) runs there too,
    # on a batch of matrices
    for mp, triv in (("householder", False), ("matrix_exp", True), ("householder", True)):
        holder = nn.Module()
        holder.register_parameter("w", nn.Parameter(tr.tensor(
            np.random.default_rng(4).standard_normal((2, 5, 3)), device=device)))
        P.orthogonal(holder, "w", orthogonal_map=mp, use_trivialization=triv)
        W = holder.w.numpy()
        assert holder.w.device == device and W.dtype == np.float64
        np.testing.assert_allclose(np.swapaxes(W, -1, -2) @ W, np.broadcast_to(
            np.eye(3), (2, 3, 3)), atol=1e-12)


def test_errors_name_the_problem():
    m = nn.Linear(3, 4)
    with pytest.raises(ValueError, match="no parameter or buffer 'weights'"):
        parametrize.register_parametrization(m, "weights", _Scale())
    with pytest.raises(TypeError, match="must be an nn.Module"):
        parametrize.register_parametrization(m, "weight", lambda x: x)

    class Shrink(nn.Module):
        def forward(self, X):
            return X[:2]

    with pytest.raises(ValueError, match=r"shape or dtype .* unsafe=True"):
        parametrize.register_parametrization(m, "weight", Shrink())
    assert type(m) is nn.Linear and "weight" in m._parameters  # nothing changed
    with pytest.raises(ValueError, match="no parametrization on 'weight'"):
        parametrize.remove_parametrizations(m, "weight")
    with pytest.raises(ValueError, match="expected a matrix"):
        P.orthogonal(m, "bias")
    with pytest.raises(ValueError, match="orthogonal_map has to be one of"):
        P.orthogonal(m, orthogonal_map="qr")
    P.orthogonal(m, orthogonal_map="cayley", use_trivialization=False)  # starts from W as is
    with pytest.raises(NotImplementedError, match="only the householder map"):
        m.weight = tr.zeros(4, 3)
    with pytest.raises(ValueError, match="n_power_iterations must be positive"):
        P.spectral_norm(nn.Linear(3, 4), n_power_iterations=0)


def test_assignment_needs_every_right_inverse_and_registration_checks_first():
    m = nn.Linear(2, 2, dtype="float64")
    parametrize.register_parametrization(m, "weight", _Exp())
    before = m.parametrizations.weight.original.numpy().copy()
    with pytest.raises(RuntimeError, match="_Exp has no right_inverse"):
        m.weight = tr.ones(2, 2, dtype="float64")
    assert (m.parametrizations.weight.original.numpy() == before).all()

    class ToFloat32(nn.Module):
        def forward(self, X):
            return X.double()

        def right_inverse(self, W):
            return W.float()

    m = nn.Linear(3, 4, dtype="float64")
    w = m.weight
    with pytest.raises(ValueError, match="dtype float32 for a tensor of dtype float64"):
        parametrize.register_parametrization(m, "weight", ToFloat32())
    assert m.weight is w and w.dtype == tr.float64  # nothing changed

    class Halve(nn.Module):  # right_inverse fine, but the forward changes the shape
        def forward(self, X):
            return X[:2]

        def right_inverse(self, W):
            return W / 2

    values = w.numpy().copy()
    with pytest.raises(ValueError, match="unsafe=True"):
        parametrize.register_parametrization(m, "weight", Halve())
    assert (m.weight.numpy() == values).all()


def test_a_load_pre_hook_can_refuse_a_state_dict():
    m = nn.Linear(2, 2)
    m.register_load_state_dict_pre_hook(
        lambda mod, sd, prefix, meta, strict, missing, unexpected, errors:
        errors.append("refused by the hook"))
    before = m.weight.numpy().copy()
    with pytest.raises(RuntimeError, match="nothing was loaded: refused by the hook"):
        m.load_state_dict({k: v * 0 for k, v in m.state_dict().items()})
    assert (m.weight.numpy() == before).all()
