"""``tr.autograd.functional`` against ``torch.autograd.functional`` in float64 (jacobian,
hessian, vjp, jvp, vhp, hvp; one tensor or tuples; inputs the output does not use), the
Jacobian of a recurrent step against PyTorch's cells, ``create_graph``, ``strict`` and the
errors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_rnn as tr
from tinygrad_rnn.autograd import functional as AF

RNG = np.random.default_rng(0)
A, B = RNG.standard_normal(3), RNG.standard_normal((2, 3))
V2, V3 = RNG.standard_normal(2), RNG.standard_normal(3)


def _same(ours, theirs):
    """Equal nested results (tuples of tuples of tensors)."""
    if isinstance(theirs, (tuple, list)):
        assert isinstance(ours, tuple) and len(ours) == len(theirs)
        for o, t in zip(ours, theirs):
            _same(o, t)
        return
    assert ours.shape == tuple(theirs.shape)
    np.testing.assert_allclose(ours.numpy(), theirs.detach().numpy(), rtol=1e-12, atol=1e-13)


def _both(*arrays):
    torch = pytest.importorskip("torch")
    return (tuple(tr.tensor(a) for a in arrays), tuple(torch.tensor(a) for a in arrays), torch)


def _f(x, W):
    """A function of two tensors with a (2,)-output (of either framework's tensors)."""
    return (W @ x.tanh()).sigmoid()


def _g(x):
    """A scalar function of one tensor."""
    return (x.exp() * x).sum() + (x[:1] * x[-1:]).sum()


@pytest.mark.torch
def test_jacobian_and_hessian_match_torch():
    ours, theirs, torch = _both(A, B)
    TF = torch.autograd.functional
    _same(AF.jacobian(_f, ours), TF.jacobian(_f, theirs))
    _same(AF.jacobian(lambda x: x.tanh(), ours[1]), TF.jacobian(torch.tanh, theirs[1]))
    _same(AF.hessian(_g, ours[0]), TF.hessian(_g, theirs[0]))

    def two(x, W):
        return (W @ x).tanh().sum()

    def unused(x, y):  # y unused: zeros, as torch's
        return x * 2

    def twice(x):  # one tensor returned twice: each block is its own Jacobian
        y = x * 3
        return y, y

    _same(AF.hessian(two, ours), TF.hessian(two, theirs))
    _same(AF.jacobian(twice, ours[0]), TF.jacobian(twice, theirs[0]))
    _same(AF.jacobian(unused, (ours[0], ours[0])), TF.jacobian(unused, (theirs[0],
                                                                        theirs[0])))
    # by columns (the double-backward trick), nests, unused inputs and repeats included
    for f, o, t in ((_f, ours, theirs), (twice, ours[0], theirs[0]),
                    (unused, (ours[0], ours[0]), (theirs[0], theirs[0]))):
        _same(AF.jacobian(f, o, strategy="forward-mode"), TF.jacobian(f, t))


@pytest.mark.torch
def test_vector_products_match_torch():
    ours, theirs, torch = _both(A, B)
    TF = torch.autograd.functional
    _same(AF.vjp(_f, ours, tr.tensor(V2)), TF.vjp(_f, theirs, torch.tensor(V2)))
    vs = (V3, B * 0.5)
    _same(AF.jvp(_f, ours, tuple(map(tr.tensor, vs))),
          TF.jvp(_f, theirs, tuple(map(torch.tensor, vs))))
    for name in ("hvp", "vhp"):
        _same(getattr(AF, name)(_g, ours[0], tr.tensor(V3)),
              getattr(TF, name)(_g, theirs[0], torch.tensor(V3)))
    # a one-element output needs no v
    _same(AF.vjp(_g, ours[0]), TF.vjp(_g, theirs[0]))


@pytest.mark.torch
@settings(max_examples=10)
@given(n=st.integers(1, 4), m=st.integers(1, 3), seed=st.integers(0, 99))
def test_products_agree_with_the_jacobian(n, m, seed):
    """vᵀ J and J u from the products equal those from the full Jacobian."""
    rng = np.random.default_rng(seed)
    W, x = tr.tensor(rng.standard_normal((m, n))), tr.tensor(rng.standard_normal(n))
    v, u = tr.tensor(rng.standard_normal(m)), tr.tensor(rng.standard_normal(n))

    def f(x):
        return (W @ x.sin()).tanh() * x.sum()

    J = AF.jacobian(f, x).numpy()
    np.testing.assert_allclose(AF.vjp(f, x, v)[1].numpy(), v.numpy() @ J, atol=1e-12)
    np.testing.assert_allclose(AF.jvp(f, x, u)[1].numpy(), J @ u.numpy(), atol=1e-12)


@pytest.mark.torch
@pytest.mark.parametrize("cell", ["RNNCell", "GRUCell", "LSTMCell"])
def test_a_recurrent_steps_jacobian_matches_torch(cell):
    """∂h_t/∂h_{t-1} of one step, the matrix whose product over steps vanishes or not."""
    torch = pytest.importorskip("torch")
    tr.manual_seed(0)
    ours = getattr(tr.nn, cell)(3, 4, dtype="float64")
    theirs = getattr(torch.nn, cell)(3, 4).double()
    theirs.load_state_dict({k: torch.from_numpy(v.numpy()) for k, v in ours.state_dict().items()})
    x, h = RNG.standard_normal((1, 3)), RNG.standard_normal((1, 4))
    if cell == "LSTMCell":
        c = RNG.standard_normal((1, 4))
        jo = AF.jacobian(lambda h: ours(tr.tensor(x), (h, tr.tensor(c)))[0], tr.tensor(h))
        jt = torch.autograd.functional.jacobian(
            lambda h: theirs(torch.tensor(x), (h, torch.tensor(c)))[0], torch.tensor(h))
    else:
        jo = AF.jacobian(lambda h: ours(tr.tensor(x), h), tr.tensor(h))
        jt = torch.autograd.functional.jacobian(lambda h: theirs(torch.tensor(x), h),
                                                torch.tensor(h))
    _same(jo, jt)


def test_create_graph_and_plain_results():
    x = tr.tensor(A, requires_grad=True)
    J = AF.jacobian(lambda t: (t * t).sum() * t, x, create_graph=True)
    assert J.requires_grad
    (g,) = tr.autograd.grad(J.sum(), x)  # J = 2 x xᵀ + (x·x) I: Σ J = 2 (Σx)² + 3 x·x
    np.testing.assert_allclose(g.numpy(), 4 * A.sum() + 6 * A, rtol=1e-12)
    plain = AF.jacobian(lambda t: t * 2, x)
    assert not plain.requires_grad and x.grad is None  # nothing stored on the caller's tensor
    out, h = AF.hvp(_g, x, tr.tensor(V3))
    assert not out.requires_grad and not h.requires_grad


def test_strict_and_errors():
    x = tr.tensor(A)
    with pytest.raises(RuntimeError, match="input 1 does not reach the outputs"):
        AF.jacobian(lambda a, b: a * 2, (x, x), strict=True)
    with pytest.raises(ValueError, match="v can be left out only"):
        AF.vjp(lambda t: t * 2, x)
    with pytest.raises(ValueError, match=r"v must match the output's shapes \[\(3,\)\]"):
        AF.vjp(lambda t: t * 2, x, tr.tensor(V2))
    with pytest.raises(ValueError, match="single tensor of one element"):
        AF.hessian(lambda t: t * 2, x)
    with pytest.raises(TypeError, match="inputs must be a Tensor or a tuple of Tensors"):
        AF.jacobian(lambda t: t, A)
    with pytest.raises(ValueError, match="strategy must be"):
        AF.jacobian(lambda t: t, x, strategy="sideways")
