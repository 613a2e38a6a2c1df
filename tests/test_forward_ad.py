"""Forward-mode AD (``tr.autograd.forward_ad``): tangents of random op chains (broadcasting
included) equal central differences and ``torch.autograd.forward_ad``'s; the generic rule
(double vjp) for ops without one, and the refusal where it cannot work; custom Functions; the
fused recurrent layers; devices; levels and their errors; in-place ops, views, no_grad,
detach; forward over reverse; ``gradcheck(check_forward_ad=True)``; ``tr.func.jvp``'s choice
between forward mode and the double backward."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import tinygrad_rnn as tr
from tinygrad_rnn import functional as F
from tinygrad_rnn import nn
from tinygrad_rnn.autograd import forward_ad as fwAD
from tinygrad_rnn.testing import strategies as trs

from .conftest import DEVICES


def _t(a):
    return tr.tensor(np.asarray(a, dtype=np.float64))


def jvp_of(f, xs, vs):
    """(f(xs), J·vs) by forward mode."""
    with fwAD.dual_level():
        y = f(*[fwAD.make_dual(_t(x), _t(v)) for x, v in zip(xs, vs)])
        p, t = fwAD.unpack_dual(y)
        assert t is not None
        return p.numpy(), t.numpy()


def numeric_jvp(f, xs, vs, eps=1e-6):
    """Central difference of f along the direction vs."""
    up = f(*[_t(x + eps * v) for x, v in zip(xs, vs)]).numpy()
    down = f(*[_t(x - eps * v) for x, v in zip(xs, vs)]).numpy()
    return (up - down) / (2 * eps)


# each step: h, other -> a new h; written once for tinygrad_rnn and torch alike
# (only the operators and methods both have)
STEPS = {
    "add": lambda h, o, m: h + o,
    "sub": lambda h, o, m: o - h,
    "mul": lambda h, o, m: h * o,
    "div": lambda h, o, m: h / (o * o + 1),
    "rdiv": lambda h, o, m: o / (h * h + 0.5),
    "exp": lambda h, o, m: (h * 0.3).exp(),
    "log": lambda h, o, m: (h * h + 1).log(),
    "sqrt": lambda h, o, m: (h * h + 0.5).sqrt(),
    "tanh": lambda h, o, m: h.tanh(),
    "sigmoid": lambda h, o, m: h.sigmoid(),
    "sin": lambda h, o, m: h.sin(),
    "cos": lambda h, o, m: h.cos(),
    "relu": lambda h, o, m: h.relu() + h * 0.1,
    "abs": lambda h, o, m: h.abs(),
    "pow": lambda h, o, m: h**3,
    "neg": lambda h, o, m: -h,
    "where": lambda h, o, m: m.where(h > 0, h, o),
    "clamp": lambda h, o, m: h.clamp(-1.0, 1.0),
    "softplus": lambda h, o, m: m.nn.functional.softplus(h),  # no rule: double vjp
    "atan2": lambda h, o, m: m.atan2(h, o * o + 1),  # no rule: double vjp
    "logaddexp": lambda h, o, m: m.logaddexp(h, o),  # no rule: double vjp
    "transpose": lambda h, o, m: h.transpose(0, -1) if h.ndim else h,
    "flip": lambda h, o, m: h.flip(-1) if h.ndim else h,
    "index": lambda h, o, m: h[..., :1] * 2 + h.sum(-1, keepdim=True) if h.ndim else h,
    "cat": lambda h, o, m: m.cat([h, h * 2], -1) if h.ndim else h,
    "cumsum": lambda h, o, m: h.cumsum(-1) if h.ndim else h,
    "max": lambda h, o, m: h.amax(-1) if h.ndim else h,
    "mean": lambda h, o, m: h.mean(0) if h.ndim else h,
    "softmax": lambda h, o, m: m.softmax(h, -1) if h.ndim else h,
    "matmul": lambda h, o, m: h @ h.transpose(-1, -2) if h.ndim >= 2 else h,
}


def _chain(names, mod):
    def f(x, other):
        h = x
        for n in names:
            try:  # a step that changed h's shape may leave other not broadcasting with it
                np.broadcast_shapes(tuple(h.shape), tuple(other.shape))
                o = other
            except ValueError:
                o = other.mean()
            h = STEPS[n](h, o, mod)
        return h.sum() if h.ndim == 0 else h
    return f


chains = st.lists(st.sampled_from(sorted(STEPS)), min_size=1, max_size=5)
pairs = trs.broadcastable_arrays(2, dtype=np.float64, min_value=-2, max_value=2)


@given(names=chains, xs=pairs, seed=st.integers(0, 2**16))
def test_chain_tangent_equals_central_differences(names, xs, seed):
    """Both inputs dual, of mutually broadcastable shapes; float64 throughout. Points on a
    kink (relu, abs, where, clamp, max at a tie), where the one-sided differences disagree,
    have no derivative to compare with: skipped (the torch test covers their convention);
    a small jitter moves the inputs off the exact zeros and ties Hypothesis likes to draw,
    where a branch may switch with no jump to see."""
    f = _chain(names, tr)
    rng = np.random.default_rng(seed)
    xs = [x + 0.01 * rng.standard_normal(np.shape(x)) for x in xs]
    vs = [rng.standard_normal(np.shape(x)) for x in xs]
    eps = 1e-6
    ys = [f(*[_t(x + k * eps * v) for x, v in zip(xs, vs)]).numpy() for k in (-1, 0, 1)]
    assume(np.allclose(ys[2] - ys[1], ys[1] - ys[0], rtol=1e-3, atol=1e-10))
    y, t = jvp_of(f, xs, vs)
    np.testing.assert_allclose(y, f(*[_t(x) for x in xs]).numpy(), rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(t, numeric_jvp(f, xs, vs), rtol=1e-5, atol=1e-6)


@pytest.mark.torch
@pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated:DeprecationWarning")
@given(names=chains, xs=pairs, seed=st.integers(0, 2**16))
def test_chain_tangent_equals_torch(names, xs, seed):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(seed)
    vs = [rng.standard_normal(np.shape(x)) for x in xs]
    ours = jvp_of(_chain(names, tr), xs, vs)[1]
    with torch.autograd.forward_ad.dual_level():
        ins = [torch.autograd.forward_ad.make_dual(torch.tensor(np.asarray(x)),
                                                   torch.tensor(v)) for x, v in zip(xs, vs)]
        theirs = torch.autograd.forward_ad.unpack_dual(_chain(names, torch)(*ins)).tangent
    np.testing.assert_allclose(ours, theirs.numpy(), rtol=1e-10, atol=1e-10)


def test_tangent_of_one_input_only():
    """A second operand without a tangent counts as a constant (zero tangent)."""
    x, w = np.array([0.5, -1.0, 2.0]), np.arange(6.0).reshape(2, 3)
    with fwAD.dual_level():
        y = _t(w) @ fwAD.make_dual(_t(x), _t([1.0, 0, 0])).tanh()
        np.testing.assert_allclose(fwAD.unpack_dual(y).tangent.numpy(),
                                   w[:, 0] * (1 - np.tanh(0.5) ** 2), rtol=1e-14)
        assert fwAD.unpack_dual(_t(w) * 2).tangent is None


def test_generic_rule_on_an_op_with_several_outputs():
    """``unbind`` (Split, linear) and ``lu`` (no rule, several outputs: double vjp)."""
    rng = np.random.default_rng(1)
    a, v = rng.standard_normal((3, 3)), rng.standard_normal((3, 3))
    for f in (lambda x: tr.stack(x.unbind(0)[::-1], 0).sin(),
              lambda x: tr.linalg.det(x).reshape(1),
              lambda x: tr.linalg.solve(x, x.sum(0, keepdims=True).T)):
        np.testing.assert_allclose(jvp_of(f, [a], [v])[1], numeric_jvp(f, [a], [v]),
                                   rtol=1e-6, atol=1e-8)


_IDX = np.array([[0, 1], [2, 2], [3, 0]])
WIDER = {  # ops and compositions across the library, most through the generic rule
    "log_softmax": (lambda a: F.log_softmax(a, -1), [(3, 4)]),
    "layer_norm": (lambda a: F.layer_norm(a, (4,)), [(3, 4)]),
    "cross_entropy": (lambda a: F.cross_entropy(a, tr.tensor([0, 2, 1])), [(3, 4)]),
    "gelu_elu_silu": (lambda a: F.gelu(a) + F.elu(a) * F.silu(a), [(3, 4)]),
    "var_norm": (lambda a: a.var(1) + a.norm(), [(3, 4)]),
    "cumprod_prod": (lambda a: a.cumprod(1).sum(0) + a.prod(0), [(3, 4)]),
    "sort_topk": (lambda a: a.sort(1)[0][:, :2] + a.topk(2, 1)[0], [(3, 4)]),
    "max_dim_gather": (lambda a: a.max(1)[0] + a.gather(1, tr.tensor(_IDX)).sum(1), [(3, 4)]),
    "conv1d": (lambda x, w: F.conv1d(x, w, padding=1), [(2, 3, 8), (4, 3, 3)]),
    "max_pool_pad": (lambda x: F.max_pool1d(F.pad(x, (1, 2)), 2), [(2, 3, 8)]),
    "einsum": (lambda a, b: tr.einsum("ij,jk->ik", a, b), [(3, 4), (4, 5)]),
    "inv_det": (lambda s: tr.linalg.inv(s) * tr.linalg.det(s), [(3, 3)]),
    "cholesky": (lambda s: tr.linalg.cholesky(s @ s.T + 3 * tr.eye(3, dtype="float64")),
                 [(3, 3)]),
    "eigh": (lambda s: tr.linalg.eigh(s + s.T)[0], [(3, 3)]),
    "attention": (lambda q, k: F.scaled_dot_product_attention(q, k, k), [(2, 3, 4), (2, 5, 4)]),
    "group_norm": (lambda x: F.group_norm(x, 3), [(2, 3, 8)]),
    "maximum_lerp": (lambda a, b: tr.maximum(a, b).lerp(b, 0.3), [(3, 4), (3, 4)]),
    "scatter": (lambda a, b: a.scatter(1, tr.tensor([[0], [1], [2]]), b[:, :1]),
                [(3, 4), (3, 4)]),
}


@pytest.mark.parametrize("name", sorted(WIDER))
def test_wider_ops_tangents_equal_central_differences(name):
    f, shapes = WIDER[name]
    rng = np.random.default_rng(6)
    xs = [rng.standard_normal(s) for s in shapes]
    vs = [rng.standard_normal(s) for s in shapes]
    np.testing.assert_allclose(jvp_of(f, xs, vs)[1], numeric_jvp(f, xs, vs), rtol=1e-6,
                               atol=1e-8)


@pytest.mark.parametrize("name", sorted(WIDER))
def test_wider_ops_forward_over_reverse_equals_central_differences(name):
    """The tangent of a gradient recorded with create_graph: a Hessian-vector product."""
    f, shapes = WIDER[name]
    rng = np.random.default_rng(10)
    xs = [rng.standard_normal(s) for s in shapes]
    vs = [rng.standard_normal(s) for s in shapes]
    probe = _t(rng.standard_normal(f(*[_t(x) for x in xs]).shape))

    def grads(*ins):
        gs = tr.autograd.grad((f(*ins) * probe).sum(), ins, create_graph=True)
        return tr.cat([g.reshape(-1) for g in gs])

    with fwAD.dual_level():
        ins = [fwAD.make_dual(tr.tensor(x, requires_grad=True), _t(v)) for x, v in zip(xs, vs)]
        g = grads(*ins)
        t = fwAD.unpack_dual(g).tangent  # None: the gradient is constant (piecewise linear f)
        hvp = np.zeros(g.shape) if t is None else t.numpy()
    eps = 1e-6
    up, down = ([tr.tensor(x + k * eps * v, requires_grad=True) for x, v in zip(xs, vs)]
                for k in (1, -1))
    num = (grads(*up).numpy() - grads(*down).numpy()) / (2 * eps)
    np.testing.assert_allclose(hvp, num, rtol=1e-6, atol=1e-8)


def test_op_whose_backward_is_array_code_is_refused_by_name():
    with fwAD.dual_level():
        x = fwAD.make_dual(_t([1.5, 2.0]), _t([1.0, 1.0]))
        with pytest.raises(RuntimeError, match="Digamma has no forward rule"):
            tr.special.digamma(x)
        with pytest.raises(TypeError, match="RFFT meets complex numbers"):
            tr.fft.rfft(x)
        tr.special.digamma(x.detach())  # no tangent, no rule needed


def test_custom_function_goes_through_its_backward_twice():
    class Cube(tr.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x**3

        @staticmethod
        def backward(ctx, gy):
            (x,) = ctx.saved_tensors
            return 3 * x * x * gy

    x, v = np.array([1.0, -2.0]), np.array([0.5, 1.0])
    np.testing.assert_allclose(jvp_of(Cube.apply, [x], [v])[1], 3 * x * x * v, rtol=1e-14)

    class Opaque(Cube):
        @staticmethod
        @tr.autograd.function.once_differentiable
        def backward(ctx, gy):
            (x,) = ctx.saved_tensors
            return 3 * x * x * gy

    with fwAD.dual_level(), pytest.raises(RuntimeError, match="Opaque has no forward rule"):
        Opaque.apply(fwAD.make_dual(_t(x), _t(v)))


@pytest.mark.parametrize("device", DEVICES)
def test_tangents_on_each_device_equal_the_cpu(device):
    """Native rules, linear ops, the double vjp and a fused layer, on the device's arrays
    (the strict one refuses NumPy called directly, as CuPy would)."""
    rng = np.random.default_rng(7)
    x, v = rng.standard_normal((3, 2, 4)), rng.standard_normal((3, 2, 4))
    tr.manual_seed(0)
    lstm = nn.GRU(4, 3, dtype="float64")

    def f(x):
        y = lstm(x)[0]
        return F.softplus(y @ y.transpose(-1, -2)).sum(0)[:, :1] * x[0].sigmoid()

    got = {}
    for dev in ("cpu", device):
        lstm.to(dev)
        with fwAD.dual_level():
            d = fwAD.make_dual(tr.tensor(x, device=dev), tr.tensor(v, device=dev))
            t = fwAD.unpack_dual(f(d)).tangent
            assert t.device == dev
            got[dev] = t.numpy()
    np.testing.assert_allclose(got[device], got["cpu"], rtol=1e-12, atol=1e-14)


@pytest.mark.torch
@pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated:DeprecationWarning")
def test_custom_function_jvp_and_save_for_forward_as_torch():
    torch = pytest.importorskip("torch")
    calls = []

    def make(base):
        class ScaledExp(base.autograd.Function):
            @staticmethod
            def forward(ctx, x, k, w):
                y = (x * k).exp() * w
                ctx.save_for_backward(x, w)
                ctx.save_for_forward(x, w, y)
                ctx.k = k
                return y, k

            @staticmethod
            def backward(ctx, gy, _):
                x, w = ctx.saved_tensors
                e = (x * ctx.k).exp()
                return gy * w * ctx.k * e, None, gy * e

            @staticmethod
            def jvp(ctx, tx, _, tw):
                calls.append(base)
                x, w, y = ctx.saved_tensors
                return y * ctx.k * tx + (x * ctx.k).exp() * tw, None

        return ScaledExp

    rng = np.random.default_rng(11)
    x0, w0, vx, vw = (rng.standard_normal(3) for _ in range(4))
    with fwAD.dual_level():
        y, k = make(tr).apply(fwAD.make_dual(_t(x0), _t(vx)), 0.5,
                              fwAD.make_dual(_t(w0), _t(vw)))
        ours = fwAD.unpack_dual(y).tangent.numpy()
        assert k == 0.5 and calls == [tr]  # its own rule, not the generic one
    t_ad = torch.autograd.forward_ad
    with t_ad.dual_level():
        y, _ = make(torch).apply(t_ad.make_dual(torch.tensor(x0), torch.tensor(vx)), 0.5,
                                 t_ad.make_dual(torch.tensor(w0), torch.tensor(vw)))
        theirs = t_ad.unpack_dual(y).tangent.numpy()
    np.testing.assert_allclose(ours, theirs, rtol=1e-14)


# ---- levels, errors, and what carries a tangent ------------------------------------------


def test_levels_nesting_and_errors():
    x = _t([1.0, 2.0])
    with pytest.raises(RuntimeError, match="no level exists"):
        fwAD.make_dual(x, x)
    assert fwAD.unpack_dual(x) == (x, None)
    with fwAD.dual_level() as level:
        assert level == 0
        with pytest.raises(RuntimeError, match="Nested forward mode AD is not supported"):
            fwAD.enter_dual_level()
        with pytest.raises(RuntimeError, match=r"size \[2\] while .* size \[3\]"):
            fwAD.make_dual(x, _t([1.0, 2, 3]))
        with pytest.raises(ValueError, match="Expected tangent to be floating point"):
            fwAD.make_dual(x, tr.tensor([1, 2]))
        with pytest.raises(RuntimeError, match="not the last one"):
            fwAD.exit_dual_level(level=1)
        d = fwAD.make_dual(x, tr.tensor(np.array([1.0, 1.0], np.float32)))
        assert fwAD.unpack_dual(d).tangent.dtype == np.float64  # cast to the primal's
        y = d * 3
    assert fwAD.unpack_dual(y).tangent is None  # outside the level
    with fwAD.dual_level():  # a new level: the old tangents are gone
        assert fwAD.unpack_dual(y).tangent is None
        assert fwAD.unpack_dual(y * 2).tangent is None
    with pytest.raises(RuntimeError, match="no forward AD level is active"):
        fwAD.exit_dual_level()
    assert fwAD.enter_dual_level() == 0
    fwAD.exit_dual_level()
    assert not tr.autograd._HOOKS.active  # the engine's switch is off again


def test_no_grad_detach_and_in_place():
    """As PyTorch: tangents flow under no_grad; detach drops them; an in-place op updates the
    tangent of the tensor it writes."""
    with fwAD.dual_level():
        d = fwAD.make_dual(_t([1.0, 2.0]), _t([1.0, -1.0]))
        with tr.no_grad():
            np.testing.assert_array_equal(fwAD.unpack_dual(d * 2).tangent.numpy(), [2, -2])
        assert fwAD.unpack_dual(d.detach()).tangent is None
        z = d.clone()
        z.mul_(3)
        np.testing.assert_array_equal(fwAD.unpack_dual(z).tangent.numpy(), [3, -3])
        z = _t([5.0, 5.0])
        z += d  # a tensor without a tangent takes one from what is added into it
        np.testing.assert_array_equal(fwAD.unpack_dual(z).tangent.numpy(), [1, -1])
        z[0] = 7.0  # the element written over has tangent 0
        np.testing.assert_array_equal(fwAD.unpack_dual(z).tangent.numpy(), [0, -1])


def _view_write(x, m):
    y = x.clone()
    y[0].mul_(2)  # through a view into its base
    y.t()[1:].mul_(x.t()[1:])
    return y


def _base_write(x, m):
    y = x.clone()
    w = y[1]
    y.add_(x.sin())  # the view w sees it
    return w * 1


def _writes_under_no_grad(x, m):
    y = m.zeros(2, 3, dtype=m.float64)
    y += x
    with m.no_grad():
        y[:, 1:] *= x[:, :2]
        y[0] = x[1] * 2
    y[:, 0].zero_()
    return y


@pytest.mark.torch
@pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated:DeprecationWarning")
@pytest.mark.parametrize("f", [_view_write, _base_write, _writes_under_no_grad])
def test_in_place_writes_and_views_carry_tangents_as_torch(f):
    torch = pytest.importorskip("torch")
    a, v = np.arange(1.0, 7.0).reshape(2, 3), np.linspace(-1, 1, 6).reshape(2, 3)
    with fwAD.dual_level():
        ours = fwAD.unpack_dual(f(fwAD.make_dual(_t(a), _t(v)), tr)).tangent.numpy()
    t_ad = torch.autograd.forward_ad
    with t_ad.dual_level():
        theirs = t_ad.unpack_dual(f(t_ad.make_dual(torch.tensor(a), torch.tensor(v)), torch))
    np.testing.assert_allclose(ours, theirs.tangent.numpy(), rtol=1e-14)


def test_make_dual_and_unpack_dual_pass_gradients_back():
    x = tr.tensor(np.array([1.0, 2.0]), requires_grad=True)
    with fwAD.dual_level():
        d = fwAD.make_dual(x, _t([1.0, 0.0]))
        y = (d * d).sum()
        p, t = fwAD.unpack_dual(y)
        p.backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 4.0])
    assert t.item() == 2.0


@pytest.mark.torch
@pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated:DeprecationWarning")
def test_forward_over_reverse_gives_hessian_vector_products():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    x0, v = rng.standard_normal(4), rng.standard_normal(4)

    def f(x, m):
        return ((x.sin() * x).sum() * x.tanh()).sum()

    with fwAD.dual_level():
        x = fwAD.make_dual(tr.tensor(x0, requires_grad=True), _t(v))
        (g,) = tr.autograd.grad(f(x, tr), x, create_graph=True)
        ours = fwAD.unpack_dual(g).tangent.numpy()
    theirs = torch.autograd.functional.hvp(lambda x: f(x, torch), torch.tensor(x0),
                                           torch.tensor(v))[1]
    np.testing.assert_allclose(ours, theirs.numpy(), rtol=1e-10, atol=1e-12)


def test_forward_over_reverse_through_outputs_a_backward_uses():
    """A custom Function with two outputs whose backward uses them (and Exp, which uses its
    output): under create_graph the outputs carry their tangents into the backward."""

    class ExpSin(tr.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            e, s = x.exp(), x.sin()
            ctx.save_for_backward(x, e)
            return e, s

        @staticmethod
        def backward(ctx, ge, gs):
            x, e = ctx.saved_tensors
            return ge * e + gs * x.cos()

    def grad_of(x):
        e, s = ExpSin.apply(x)
        return tr.autograd.grad((e * s).sum() + x.exp().sum(), x, create_graph=True)[0]

    rng = np.random.default_rng(9)
    x0, v = rng.standard_normal(3), rng.standard_normal(3)
    with fwAD.dual_level():
        x = fwAD.make_dual(tr.tensor(x0, requires_grad=True), _t(v))
        hvp = fwAD.unpack_dual(grad_of(x)).tangent.numpy()
    eps = 1e-6
    up, down = (tr.tensor(x0 + k * eps * v, requires_grad=True) for k in (1, -1))
    num = (grad_of(up).numpy() - grad_of(down).numpy()) / (2 * eps)
    np.testing.assert_allclose(hvp, num, rtol=1e-6, atol=1e-8)


# ---- recurrent layers: the fused ops' tangents through their replay ------------------------


@pytest.mark.parametrize("kind", ["LSTM", "GRU", "RNN"])
def test_fused_layer_tangent_equals_composed_and_central_differences(kind):
    rng = np.random.default_rng(3)
    x, v = rng.standard_normal((4, 2, 3)), rng.standard_normal((4, 2, 3))
    out = {}
    for impl in ("fused", "composed"):
        tr.manual_seed(0)
        m = getattr(nn, kind)(3, 5, num_layers=2, bidirectional=True, dtype="float64",
                              impl=impl)

        def f(x, m=m):
            return m(x)[0]

        out[impl] = jvp_of(f, [x], [v])[1]
    np.testing.assert_allclose(out["fused"], out["composed"], rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(out["fused"], numeric_jvp(f, [x], [v]), rtol=1e-6, atol=1e-8)


def test_fused_cells_tangents_with_weight_tangents():
    """A tangent on the weights as well as on the input and state (LSTMCell, GRUCell)."""
    rng = np.random.default_rng(4)
    for cell in (nn.LSTMCell(3, 4, dtype="float64"), nn.GRUCell(3, 4, dtype="float64")):
        w = cell.weight_hh.detach().numpy()
        x, h = rng.standard_normal((2, 3)), rng.standard_normal((2, 4))
        vs = [rng.standard_normal(a.shape) for a in (x, h, w)]

        def f(x, h, w, cell=cell):
            out = F.lstm_cell(x, (h, h * 0.5), cell.weight_ih, w, cell.bias_ih, cell.bias_hh) \
                if isinstance(cell, nn.LSTMCell) else \
                F.gru_cell(x, h, cell.weight_ih, w, cell.bias_ih, cell.bias_hh)
            return tr.cat(out, -1) if isinstance(out, tuple) else out

        np.testing.assert_allclose(jvp_of(f, [x, h, w], vs)[1],
                                   numeric_jvp(f, [x, h, w], vs), rtol=1e-6, atol=1e-8)


@pytest.mark.torch
@pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated:DeprecationWarning")
def test_lstm_layer_output_tangent_equals_torch():
    torch = pytest.importorskip("torch")
    theirs_m = torch.nn.LSTM(3, 5, num_layers=2, bidirectional=True).double()
    ours_m = nn.LSTM(3, 5, num_layers=2, bidirectional=True, dtype="float64")
    ours_m.load_state_dict({k: v.detach().numpy() for k, v in theirs_m.state_dict().items()})
    rng = np.random.default_rng(5)
    x, v = rng.standard_normal((6, 2, 3)), rng.standard_normal((6, 2, 3))
    h0, vh = rng.standard_normal((4, 2, 5)), rng.standard_normal((4, 2, 5))
    with fwAD.dual_level():
        out, (h, c) = ours_m(fwAD.make_dual(_t(x), _t(v)),
                             (fwAD.make_dual(_t(h0), _t(vh)), _t(h0 * 0.5)))
        ours = [fwAD.unpack_dual(t).tangent.numpy() for t in (out, h, c)]
    with torch.autograd.forward_ad.dual_level():
        mk = torch.autograd.forward_ad.make_dual
        out, (h, c) = theirs_m(mk(torch.tensor(x), torch.tensor(v)),
                               (mk(torch.tensor(h0), torch.tensor(vh)), torch.tensor(h0 * 0.5)))
        theirs = [torch.autograd.forward_ad.unpack_dual(t).tangent.detach().numpy()
                  for t in (out, h, c)]
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


# ---- gradcheck(check_forward_ad=True) ----------------------------------------------------


class _WrongJvp(tr.Function):
    """y = x²: a right backward, a wrong forward rule (x t instead of 2 x t)."""

    def forward(self, x):
        self.saved = (x,)
        return x * x

    def backward(self, gy):
        return 2 * gy * self.saved[0]

    def jvp(self, t):
        return self.saved[0] * t


@pytest.mark.parametrize("fast_mode", [False, True])
def test_gradcheck_checks_forward_mode(fast_mode):
    x = tr.tensor(np.array([[0.5, -1.0], [2.0, 0.3]]), requires_grad=True)
    w = tr.tensor(np.array([1.0, -2.0]), requires_grad=True)

    def f(x, w):
        return (x @ w).tanh(), F.softplus(x * w).sum(0)

    assert tr.testing.gradcheck(f, (x, w), check_forward_ad=True, fast_mode=fast_mode)
    assert tr.testing.gradcheck(f, (x, w), check_forward_ad=True, check_backward_ad=False)
    with pytest.raises(tr.testing.GradcheckError, match="forward mode: input 0 .* forward-mode "
                                                         "tangent"):
        tr.testing.gradcheck(_WrongJvp.apply, (x,), check_forward_ad=True,
                             fast_mode=fast_mode)
    assert tr.testing.gradcheck(_WrongJvp.apply, (x,))  # the backward alone is right
    assert not tr.testing.gradcheck(_WrongJvp.apply, (x,), check_forward_ad=True,
                                    raise_exception=False)
    with pytest.raises(ValueError, match="nothing to check"):
        tr.testing.gradcheck(f, (x, w), check_forward_ad=False, check_backward_ad=False)


# ---- tr.func.jvp: forward mode where it gives the result, the double backward elsewhere ----


@pytest.fixture
def double_backward_runs(monkeypatch):
    """How many times ``tr.func.jvp`` took the double backward."""
    from tinygrad_rnn import func

    count = [0]
    inner = func._linear_from

    def counted(*args):
        count[0] += 1
        return inner(*args)

    monkeypatch.setattr(func, "_linear_from", counted)
    return count


@pytest.mark.torch
@pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated:DeprecationWarning")
def test_func_jvp_takes_forward_mode_where_it_can(double_backward_runs):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(8)
    x0, v0 = rng.standard_normal(4), rng.standard_normal(4)
    w0 = rng.standard_normal((3, 4))

    def f(x, w, m):
        return (w @ x.sin()).tanh() * x[:3]

    def theirs(f, *args):
        return torch.func.jvp(f, *args)

    # plain: forward mode, the same value and product as torch's
    w = _t(w0)
    value, product = tr.func.jvp(lambda x: f(x, w, tr), (_t(x0),), (_t(v0),))
    t_value, t_product = theirs(lambda x: f(x, torch.tensor(w0), torch), (torch.tensor(x0),),
                                (torch.tensor(v0),))
    np.testing.assert_allclose(product.numpy(), t_product.numpy(), rtol=1e-12)
    np.testing.assert_allclose(value.numpy(), t_value.numpy(), rtol=1e-14)
    assert double_backward_runs[0] == 0 and not product.requires_grad
    # a transform inside (forward over reverse: a Hessian-vector product): the double backward
    hvp = tr.func.jvp(tr.func.grad(lambda x: f(x, w, tr).sum()), (_t(x0),), (_t(v0),))[1]
    t_hvp = theirs(torch.func.grad(lambda x: f(x, torch.tensor(w0), torch).sum()),
                   (torch.tensor(x0),), (torch.tensor(v0),))[1]
    np.testing.assert_allclose(hvp.numpy(), t_hvp.numpy(), rtol=1e-10, atol=1e-12)
    assert double_backward_runs[0] == 1
    # closing over a weight that requires grad: the product is differentiable in it
    wg = tr.tensor(w0, requires_grad=True)
    product = tr.func.jvp(lambda x: f(x, wg, tr), (_t(x0),), (_t(v0),))[1]
    product.sum().backward()
    wt = torch.tensor(w0, requires_grad=True)
    theirs(lambda x: f(x, wt, torch), (torch.tensor(x0),), (torch.tensor(v0),))[1].sum() \
        .backward()
    np.testing.assert_allclose(wg.grad.numpy(), wt.grad.numpy(), rtol=1e-10, atol=1e-12)
    assert double_backward_runs[0] == 2
    # an op forward mode refuses (complex numbers): the double backward, the same product
    product = tr.func.jvp(lambda x: tr.fft.rfft(x).abs(), (_t(x0),), (_t(v0),))[1]
    t_product = theirs(lambda x: torch.fft.rfft(x).abs(), (torch.tensor(x0),),
                       (torch.tensor(v0),))[1]
    np.testing.assert_allclose(product.numpy(), t_product.numpy(), rtol=1e-10, atol=1e-12)
    assert double_backward_runs[0] == 3


def test_func_jvp_inside_a_dual_level_and_its_errors_as_before():
    x, v = _t([0.5, 1.0]), _t([1.0, -1.0])
    with fwAD.dual_level():  # a level open: func.jvp does not nest one
        d = fwAD.make_dual(x, v)
        value, product = tr.func.jvp(lambda y: (y * d).exp(), (x,), (v,))
        # (d is a constant to func.jvp, which differentiates in y alone)
        np.testing.assert_allclose(product.numpy(), (v * x * (x * x).exp()).numpy(),
                                   rtol=1e-14)
    with pytest.raises(ValueError, match="tangents must be tensors of the primals' shapes"):
        tr.func.jvp(lambda y: y * 2, (x,), (_t([1.0, 2.0, 3.0]),))
    assert not tr.autograd._HOOKS.active
