"""``tr.func`` against ``torch.func`` in float64: grad (argnums, has_aux, nested), vjp,
jacrev/jacfwd, hessian, vmap (in_dims, out_dims, nests), functional_call (parameters,
buffers, tied weights, a recurrent layer) and the per-sample-gradient recipe; the errors."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_rnn as tr
from tinygrad_rnn import func as TRF
from tinygrad_rnn import functional as F
from tinygrad_rnn import nn

RNG = np.random.default_rng(0)
X, W, V = RNG.standard_normal(3), RNG.standard_normal((2, 3)), RNG.standard_normal(2)


def _same(ours, theirs):
    if isinstance(theirs, dict):
        assert isinstance(ours, dict) and list(ours) == list(theirs)
        for k in theirs:
            _same(ours[k], theirs[k])
        return
    if isinstance(theirs, (tuple, list)):
        assert type(ours) is type(theirs) and len(ours) == len(theirs)
        for o, t in zip(ours, theirs):
            _same(o, t)
        return
    assert ours.shape == tuple(theirs.shape) and not ours.requires_grad
    np.testing.assert_allclose(ours.numpy(), theirs.detach().numpy(), rtol=1e-12, atol=1e-13)


def _loss(x, W):
    return ((W @ x.tanh()) ** 2).sum()


def _layer(x, W):
    return (W @ x).tanh()


@pytest.mark.torch
def test_grad_vjp_jacobians_match_torch():
    """(torch.func's first call takes seconds: it sets up its machinery once per process.)"""
    torch = pytest.importorskip("torch")
    TF = torch.func
    ours, theirs = (tr.tensor(X), tr.tensor(W)), (torch.tensor(X), torch.tensor(W))
    _same(TRF.grad(_loss)(*ours), TF.grad(_loss)(*theirs))
    _same(TRF.grad(_loss, (0, 1))(*ours), TF.grad(_loss, (0, 1))(*theirs))
    _same(TRF.grad_and_value(_loss, 1)(*ours), TF.grad_and_value(_loss, 1)(*theirs))

    def with_aux(x, W):
        return _loss(x, W), {"mean": x.mean()}

    _same(TRF.grad(with_aux, has_aux=True)(*ours), TF.grad(with_aux, has_aux=True)(*theirs))

    def inner(y):
        return (y.sin() * y).sum()

    def outer(grad):
        return lambda x: grad(inner)(x).sum()

    _same(TRF.grad(outer(TRF.grad))(ours[0]), TF.grad(outer(TF.grad))(theirs[0]))
    _same(TRF.jacrev(_layer, (0, 1))(*ours), TF.jacrev(_layer, (0, 1))(*theirs))
    _same(TRF.jacfwd(_layer)(*ours), TF.jacrev(_layer)(*theirs))  # one Jacobian either way

    def scalar(x):
        return (x.exp() * x).sum() + x.prod()

    # (torch's hessian is jacfwd of jacrev; its forward mode warns about torch.jit)
    _same(TRF.hessian(scalar)(ours[0]), TF.jacrev(TF.jacrev(scalar))(theirs[0]))
    out, fn = TRF.vjp(_layer, *ours)
    out_t, fn_t = TF.vjp(_layer, *theirs)
    _same(out, out_t)
    _same(fn(tr.tensor(V)), fn_t(torch.tensor(V)))


@pytest.mark.torch
def test_vmap_matches_torch():
    torch = pytest.importorskip("torch")
    TF = torch.func

    def f(a, b):
        return a * b, a.sum()

    _same(TRF.vmap(f, in_dims=(0, None), out_dims=(1, 0))(tr.tensor(W), tr.tensor(X)),
          TF.vmap(f, in_dims=(0, None), out_dims=(1, 0))(torch.tensor(W), torch.tensor(X)))
    _same(TRF.vmap(lambda a: tr.outer(a, a), in_dims=1)(tr.tensor(W)),
          TF.vmap(lambda a: torch.outer(a, a), in_dims=1)(torch.tensor(W)))

    def g(d):
        return d["a"] + d["b"].sum()

    nest = {"a": W, "b": RNG.standard_normal((3, 2))}
    _same(TRF.vmap(g, in_dims=({"a": 1, "b": 0},))({k: tr.tensor(v) for k, v in nest.items()}),
          TF.vmap(g, in_dims=({"a": 1, "b": 0},))({k: torch.tensor(v) for k, v in
                                                   nest.items()}))


@pytest.mark.torch
def test_per_sample_gradients_match_torch():
    """The torch.func recipe: vmap(grad(loss)) over the batch, with the model's parameters
    given to functional_call as a dict."""
    torch = pytest.importorskip("torch")
    tr.manual_seed(0)
    model = nn.Linear(3, 4, dtype="float64")
    theirs = torch.nn.Linear(3, 4).double()
    theirs.load_state_dict({k: torch.tensor(v.numpy()) for k, v in model.state_dict().items()})
    xs, ys = RNG.standard_normal((5, 3)), RNG.integers(0, 4, 5)

    def loss(p, x, y):
        return F.cross_entropy(TRF.functional_call(model, p, (x[None],)), y[None])

    def loss_t(p, x, y):
        return torch.nn.functional.cross_entropy(torch.func.functional_call(
            theirs, p, (x[None],)), y[None])

    params = {k: v.detach() for k, v in model.named_parameters()}
    params_t = {k: v.detach() for k, v in theirs.named_parameters()}
    g = TRF.vmap(TRF.grad(loss), in_dims=(None, 0, 0))(params, tr.tensor(xs), tr.tensor(ys))
    g_t = torch.func.vmap(torch.func.grad(loss_t), in_dims=(None, 0, 0))(
        params_t, torch.tensor(xs), torch.tensor(ys))
    _same(g, g_t)
    # each row is that sample's own gradient
    model.zero_grad()
    F.cross_entropy(model(tr.tensor(xs[2:3])), tr.tensor(ys[2:3])).backward()
    np.testing.assert_allclose(g["weight"].numpy()[2], model.weight.grad.numpy(), atol=1e-13)


def test_functional_call_swaps_and_restores():
    tr.manual_seed(0)
    lstm = nn.LSTM(2, 3, dtype="float64")  # the fused layer reads its weights as attributes
    x = tr.randn(4, 1, 2, dtype="float64")
    zero = {k: v.detach() * 0 for k, v in lstm.named_parameters()}
    out, _ = TRF.functional_call(lstm, zero, (x,))
    assert not out.numpy().any()  # all weights 0: every state stays 0
    before = {k: v.numpy().copy() for k, v in lstm.state_dict().items()}
    assert all((lstm.state_dict()[k].numpy() == v).all() for k, v in before.items())
    bn = nn.BatchNorm1d(3, dtype="float64").eval()
    stats = {"running_mean": tr.ones(3, dtype="float64")}
    y = TRF.functional_call(bn, stats, tr.ones(2, 3, dtype="float64"))
    assert np.allclose(y.numpy(), 0) and (bn.running_mean.numpy() == 0).all()
    # tied weights: a value given under one name serves both
    emb = nn.Embedding(5, 3, dtype="float64")
    head = nn.Linear(3, 5, bias=False, dtype="float64")
    head.weight = emb.weight
    model = nn.Sequential(emb, head)
    w = tr.ones(5, 3, dtype="float64")
    out = TRF.functional_call(model, {"0.weight": w}, (tr.tensor([1]),))
    np.testing.assert_allclose(out.numpy(), 3 * np.ones((1, 5)))
    with pytest.raises(ValueError, match="has no parameter or buffer '1.bias'"):
        TRF.functional_call(model, {"1.bias": w}, (tr.tensor([1]),))
    with pytest.raises(ValueError, match="strict=True and missing"):
        TRF.functional_call(head, {}, (tr.ones(1, 3, dtype="float64"),), strict=True)
    with pytest.raises(TypeError, match="dtype"):  # an error inside the call still restores
        TRF.functional_call(head, {"weight": tr.ones(5, 3)}, (tr.ones(1, 3, dtype="float64"),))
    assert head.weight is emb.weight


def test_errors_name_the_problem():
    with pytest.raises(ValueError, match="tensor of one element"):
        TRF.grad(lambda x: x * 2)(tr.tensor(X))
    with pytest.raises(ValueError, match="argnums 2 out of range"):
        TRF.grad(_loss, 2)(tr.tensor(X), tr.tensor(W))
    with pytest.raises(TypeError, match="floating-point"):
        TRF.grad(lambda x: x.sum())(tr.tensor([1, 2]))
    with pytest.raises(ValueError, match="mapped axes differ in size"):
        TRF.vmap(lambda a, b: a + b)(tr.ones(2), tr.ones(3))
    with pytest.raises(ValueError, match="at least one argument must be mapped"):
        TRF.vmap(lambda a: a, in_dims=None)(tr.ones(2))
    with pytest.raises(ValueError, match="cotangents must be tensors shaped"):
        TRF.vjp(_layer, tr.tensor(X), tr.tensor(W))[1](tr.ones(3, dtype="float64"))


@pytest.mark.torch
def test_jacrev_of_a_tensor_returned_twice_matches_torch():
    torch = pytest.importorskip("torch")

    def twice(x):
        y = x * 3
        return y, y

    _same(TRF.jacrev(twice)(tr.tensor(X)), torch.func.jacrev(twice)(torch.tensor(X)))


@pytest.mark.torch
def test_transforms_compose_with_outer_differentiation_as_torch():
    """A transform whose result is differentiated again (by an outer transform in another
    argument, through a closure, or by plain autograd) records its backward; under no_grad it
    still computes; a fused recurrent layer's parameters, as they are, still work."""
    torch = pytest.importorskip("torch")
    TF = torch.func
    x0, y0 = np.array([0.5, -1.0, 2.0]), np.array([1.0, 2.0, -0.5])

    def closure(grad):
        return lambda y: grad(lambda x: (x * y).sum() ** 2)(x0_(grad)).sum()

    def x0_(grad):
        return tr.tensor(x0) if grad is TRF.grad else torch.tensor(x0)

    _same(TRF.grad(closure(TRF.grad))(tr.tensor(y0)),
          TF.grad(closure(TF.grad))(torch.tensor(y0)))

    def f(x, y):
        return (x.sin() * y).sum() ** 2

    _same(TRF.jacrev(TRF.grad(f, 0), 1)(tr.tensor(x0), tr.tensor(y0)),
          TF.jacrev(TF.grad(f, 0), 1)(torch.tensor(x0), torch.tensor(y0)))
    w = tr.tensor(y0, requires_grad=True)  # plain autograd through a closure
    g = TRF.grad(lambda a: (a * w).sum() ** 2)(tr.tensor(x0))
    assert g.requires_grad
    (dw,) = tr.autograd.grad(g.sum(), w)
    wt = torch.tensor(y0, requires_grad=True)
    (dwt,) = torch.autograd.grad(TF.grad(lambda a: (a * wt).sum() ** 2)(
        torch.tensor(x0)).sum(), wt)
    np.testing.assert_allclose(dw.numpy(), dwt.numpy(), rtol=1e-12)
    lin = nn.Linear(3, 1, dtype="float64")
    xs = tr.tensor(np.arange(6.0).reshape(2, 3))
    with tr.no_grad():
        g = TRF.vmap(TRF.grad(lambda p, x: TRF.functional_call(lin, p, (x[None],)).sum()),
                     in_dims=(None, 0))(dict(lin.named_parameters()), xs)
    np.testing.assert_allclose(g["weight"].numpy().ravel(), np.arange(6.0))
    lstm = nn.LSTM(3, 4, batch_first=True, dtype="float64")
    g = TRF.grad(lambda p, x: TRF.functional_call(lstm, p, (x[None],))[0].sum())(
        dict(lstm.named_parameters()), tr.ones(5, 3, dtype="float64"))
    assert g["weight_hh_l0"].shape == (16, 4)


@pytest.mark.torch
def test_vmap_out_dims_none_nan_and_argument_checks():
    torch = pytest.importorskip("torch")

    def f(a, b):
        return b * 2

    _same(TRF.vmap(f, in_dims=(0, None), out_dims=None)(tr.ones(4, 5), tr.ones(5)),
          torch.func.vmap(f, in_dims=(0, None), out_dims=None)(torch.ones(4, 5),
                                                                torch.ones(5)))
    with pytest.raises(ValueError, match="out_dims None for output 0, but it differs"):
        TRF.vmap(lambda a: a * 2, out_dims=None)(tr.ones(4, 5) * tr.arange(4.0)[:, None])
    # zeros for what does not reach the output, NaN and inf inputs included
    _same(TRF.jacrev(lambda a: a * 2)(tr.tensor([1.0, np.nan])),
          torch.func.jacrev(lambda a: a * 2)(torch.tensor([1.0, np.nan])))
    with pytest.raises(ValueError, match="names an argument twice"):
        TRF.grad(lambda a, b: (a * b).sum(), argnums=(0, 0))(tr.ones(2), tr.ones(2))
    with pytest.raises(ValueError, match=r"has_aux=True the function must return a tuple"):
        TRF.grad(lambda a: a[:2] * 1, has_aux=True)(tr.ones(3))
    with pytest.raises(ValueError, match="mapped axis has size 0"):
        TRF.vmap(lambda a: a * 2)(tr.zeros(0, 3))


@pytest.mark.torch
def test_functional_call_tied_strict_and_parametrized_names_as_torch():
    from tinygrad_rnn.nn.utils import parametrizations

    emb = nn.Embedding(5, 3, dtype="float64")
    head = nn.Linear(3, 5, bias=False, dtype="float64")
    head.weight = emb.weight
    model = nn.Sequential(emb, head)
    w = tr.ones(5, 3, dtype="float64")
    out = TRF.functional_call(model, {"0.weight": w}, (tr.tensor([1]),), strict=True)
    np.testing.assert_allclose(out.numpy(), 3 * np.ones((1, 5)))
    with pytest.raises(ValueError, match="are tied .* but given different values"):
        TRF.functional_call(model, {"0.weight": w, "1.weight": w * 2}, (tr.tensor([1]),))
    lin = parametrizations.orthogonal(nn.Linear(3, 3, bias=False, dtype="float64"))
    eye = tr.eye(3, dtype="float64") * 2
    x = tr.tensor([[1.0, 2.0, 3.0]], dtype="float64")
    np.testing.assert_allclose(TRF.functional_call(lin, {"weight": eye}, (x,)).numpy(),
                               [[2.0, 4.0, 6.0]])
    W = lin.weight.numpy()  # the parametrization again afterwards
    np.testing.assert_allclose(W @ W.T, np.eye(3), atol=1e-12)


def _torch_forward_mode(call):
    """torch.func's forward mode, whose first use warns that it builds on torch.jit (and
    linearize that it builds on torch.fx)."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return call()


@pytest.mark.torch
def test_jvp_linearize_jacfwd_match_torch_forward_mode():
    """J·v for tensors and nests (a dict of arguments, a tuple of outputs), with aux; the
    forward-over-reverse Hessian-vector product (jvp of grad); linearize's map called twice;
    jacfwd by columns on a wide and a tall Jacobian, against torch.func's forward mode."""
    torch = pytest.importorskip("torch")
    TF = torch.func
    ours, theirs = (tr.tensor(X), tr.tensor(W)), (torch.tensor(X), torch.tensor(W))
    tan = RNG.standard_normal(3), RNG.standard_normal((2, 3))
    t_ours, t_theirs = tuple(map(tr.tensor, tan)), tuple(map(torch.tensor, tan))
    _same(TRF.jvp(_layer, ours, t_ours),
          _torch_forward_mode(lambda: TF.jvp(_layer, theirs, t_theirs)))

    def nests(p):
        y = p["W"] @ p["x"].sin()
        return (y * p["x"][:2], y.exp()), {"n": y.sum()}

    p_o, p_t = {"x": ours[0], "W": ours[1]}, {"x": theirs[0], "W": theirs[1]}
    v_o, v_t = {"x": t_ours[0], "W": t_ours[1]}, {"x": t_theirs[0], "W": t_theirs[1]}
    _same(TRF.jvp(nests, (p_o,), (v_o,), has_aux=True),
          _torch_forward_mode(lambda: TF.jvp(nests, (p_t,), (v_t,), has_aux=True)))
    hvp = TRF.jvp(TRF.grad(_loss), ours, t_ours)  # forward over reverse
    _same(hvp, _torch_forward_mode(lambda: TF.jvp(TF.grad(_loss), theirs, t_theirs)))
    out, fn = TRF.linearize(_layer, *ours)
    out_t, fn_t = _torch_forward_mode(lambda: TF.linearize(_layer, *theirs))
    _same(out, out_t)
    for k in range(2):
        scaled = (t_ours[0] * (k + 1), t_ours[1])
        _same(fn(*scaled), _torch_forward_mode(lambda k=k: fn_t(t_theirs[0] * (k + 1),
                                                                 t_theirs[1])))

    def wide(x, W):  # 6 outputs of 3 + 6 inputs, and 12 outputs of them
        return (W @ x).tanh()[:, None] * x

    for argnums in (0, 1, (0, 1)):
        _same(TRF.jacfwd(wide, argnums)(*ours),
              _torch_forward_mode(lambda a=argnums: TF.jacfwd(wide, a)(*theirs)))
    _same(TRF.hessian(_loss, 1)(*ours), _torch_forward_mode(lambda: TF.hessian(_loss, 1)(
        *theirs)))


def test_jacfwd_takes_columns_and_falls_back_to_rows():
    """By columns: one backward per input element, so a Jacobian of 1 input and 50 outputs
    runs one backward through the function and one through its recorded backward, where
    jacrev runs 50. An op without a second derivative (digamma) gives the same Jacobian by
    rows, and jvp through it says why it cannot. A fused recurrent layer has second
    derivatives (its ops replay themselves): jvp and jacfwd through it equal the composed
    layer's."""
    calls = []
    h = tr.tensor(np.linspace(-1, 1, 50))

    def spread(x):
        y = x * h
        y.register_hook(lambda g: calls.append(1))
        return y.sin()

    x = tr.tensor([0.3])
    jf = TRF.jacfwd(spread)(x)
    assert len(calls) == 1  # (the backward through the recorded backward does not pass y)
    jr = TRF.jacrev(spread)(x)
    assert len(calls) == 1 + 50
    np.testing.assert_allclose(jf.numpy(), jr.numpy(), atol=1e-15)
    z = tr.tensor([0.5, 1.5, 2.5])
    np.testing.assert_allclose(TRF.jacfwd(lambda v: v.digamma() * v)(z).numpy(),
                               TRF.jacrev(lambda v: v.digamma() * v)(z).numpy(), atol=1e-15)
    with pytest.raises(RuntimeError, match="Digamma .*create_graph=True cannot go through"):
        TRF.jvp(lambda v: v.digamma(), (z,), (z,))
    tr.manual_seed(0)
    fused = nn.GRU(2, 3, dtype="float64")
    composed = nn.GRU(2, 3, dtype="float64", impl="composed")
    composed.load_state_dict(fused.state_dict())
    xs = tr.tensor(RNG.standard_normal((4, 1, 2)))
    np.testing.assert_allclose(TRF.jacfwd(lambda x: fused(x)[1])(xs).numpy(),
                               TRF.jacfwd(lambda x: composed(x)[1])(xs).numpy(), atol=1e-13)
    for layer in (fused, composed):  # the fused ops replay themselves under create_graph
        np.testing.assert_allclose(
            TRF.jvp(lambda x, layer=layer: layer(x)[1], (xs,), (tr.ones_like(xs),))[1].numpy(),
            TRF.jacrev(lambda x: composed(x)[1])(xs).numpy().reshape(3, -1).sum(-1)
            .reshape(1, 1, 3), atol=1e-13)


def test_jvp_errors_name_the_problem():
    x = tr.tensor(X)
    with pytest.raises(TypeError, match="primals must be a tuple"):
        TRF.jvp(lambda x: x.sin(), x, (x,))
    with pytest.raises(TypeError, match="tangents must be a tuple"):
        TRF.jvp(lambda x: x.sin(), (x,), x)
    with pytest.raises(ValueError, match=r"shapes and dtypes \[\(\(3,\), 'float64'\)\], got "
                                         r"\[\(\(2,\), 'float64'\)\]"):
        TRF.jvp(lambda x: x.sin(), (x,), (x[:2],))
    with pytest.raises(ValueError, match="randomness must be"):
        TRF.jacfwd(lambda x: x, randomness="x")
    y, zero = TRF.jvp(lambda x: tr.ones(2), (x,), (x,))  # an output that ignores its input
    assert (zero.numpy() == 0).all() and zero.shape == (2,)
