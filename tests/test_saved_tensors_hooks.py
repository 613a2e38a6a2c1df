"""tr.autograd.graph: saved_tensors_hooks (every array an op saves for backward goes through
pack_hook, and back through unpack_hook at each backward), save_on_cpu,
disable_saved_tensors_hooks and Node, as PyTorch's; gradients, second derivatives included,
unchanged by hooks that give the values back."""

from __future__ import annotations

import numpy as np
import pytest
from tinygrad_rnn.autograd.graph import (
    Node,
    disable_saved_tensors_hooks,
    save_on_cpu,
    saved_tensors_hooks,
)

import tinygrad_rnn as tr
from tinygrad_rnn import nn

from .conftest import DEVICES


class Counting(saved_tensors_hooks):
    """Hooks that copy each saved array out (so the op keeps none of its own) and count."""

    def __init__(self):
        self.packed, self.unpacked, self.bytes = 0, 0, 0

        def pack(t):
            self.packed += 1
            self.bytes += t.numpy().nbytes
            return t.device, t.numpy().copy()

        def unpack(p):
            self.unpacked += 1
            return tr.tensor(p[1], device=p[0])

        super().__init__(pack, unpack)


class Scale(tr.autograd.Function):
    @staticmethod
    def forward(ctx, x, k):
        y = (x * k).exp()
        ctx.save_for_backward(x, y, None)
        ctx.k = k
        return y

    @staticmethod
    def backward(ctx, gy):
        x, y, nothing = ctx.saved_tensors
        assert nothing is None and x.shape == y.shape
        return gy * y * ctx.k, None


def _program(x, w, layer):
    """A mix: elementwise, matmul, a reduction, a custom Function, a recurrent layer."""
    h = (x @ w).tanh() * x.sigmoid()
    out, _ = layer(h.unsqueeze(0))
    return (Scale.apply(out, 0.5).sum() + (h * h).mean()) ** 2


def _leaves(device, impl="fused"):
    rng = np.random.default_rng(0)
    x = tr.tensor(rng.standard_normal((3, 4)), device=device, requires_grad=True)
    w = tr.tensor(rng.standard_normal((4, 4)), device=device, requires_grad=True)
    layer = nn.LSTM(4, 3, dtype=tr.float64, impl=impl).to(device)
    return x, w, layer


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("impl", ["fused", "composed"])
def test_hooks_see_every_saved_array_and_gradients_are_unchanged(device, impl):
    x, w, layer = _leaves(device, impl)
    _program(x, w, layer).backward()
    expected = [t.grad.numpy().copy() for t in (x, w, *layer.parameters())]
    for t in (x, w, *layer.parameters()):
        t.grad = None
    hooks = Counting()
    with hooks:
        y = _program(x, w, layer)
    assert hooks.packed > 5 and hooks.unpacked == 0
    y.backward(retain_graph=True)
    assert hooks.unpacked == hooks.packed  # each one back, once per backward
    y.backward()
    assert hooks.unpacked == 2 * hooks.packed
    for t, e in zip((x, w, *layer.parameters()), expected):
        np.testing.assert_allclose(t.grad.numpy(), 2 * e, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("device", DEVICES)
def test_second_derivatives_through_packed_ops(device):
    """create_graph still knows which saved array is an input or the op's output after
    they went out and came back as other arrays (a gradient penalty, a Hessian)."""
    x, w, layer = _leaves(device, "composed")

    def penalty():
        (g,) = tr.autograd.grad(_program(x, w, layer), [x], create_graph=True)
        return tr.autograd.grad((g * g).sum(), [x, w])

    expected = [g.numpy() for g in penalty()]
    with Counting():
        got = penalty()
    for g, e in zip(got, expected):
        np.testing.assert_allclose(g.numpy(), e, rtol=1e-11, atol=1e-13)
    with Counting():
        h = tr.autograd.functional.hessian(lambda t: Scale.apply(t, 0.7).sum(), x[0])
    np.testing.assert_allclose(h.numpy(), np.diag(0.49 * np.exp(0.7 * x[0].numpy())),
                               rtol=1e-12)


def test_the_innermost_pair_applies_and_what_backward_keeps_can_be_measured():
    outer, inner = Counting(), Counting()
    a = tr.tensor([1.0, 2.0], requires_grad=True)
    with outer:
        with inner:
            y = (a * a).exp()
        z = y.sum()
    assert inner.packed == 3 and outer.packed == 0  # Mul saves both inputs, exp its output
    z.backward()
    assert inner.unpacked == 3
    # a learner's measurement: the fused LSTM keeps less for backward than the composed one,
    # and at least its gate activations, one (4, 16) block per step and sequence
    kept = {}
    for impl in ("fused", "composed"):
        layer = nn.LSTM(8, 16, impl=impl)
        with Counting() as c:
            layer(tr.randn(50, 4, 8))[0].sum()
        kept[impl] = c.bytes
    assert 50 * 4 * 64 * 4 < kept["fused"] < kept["composed"] / 2


@pytest.mark.torch
def test_the_same_arrays_are_saved_as_in_pytorch_for_elementary_ops():
    torch = pytest.importorskip("torch")
    cases = {"mul": lambda a, b: a * b, "tanh": lambda a, b: a.tanh(),
             "exp": lambda a, b: a.exp(), "matmul": lambda a, b: a @ b,
             "sum": lambda a, b: a.sum()}
    for name, f in cases.items():
        counts = []
        for lib in (tr, torch):
            seen = []
            a = lib.ones(2, 2, dtype=lib.float64, requires_grad=True)
            b = lib.ones(2, 2, dtype=lib.float64, requires_grad=True)
            with lib.autograd.graph.saved_tensors_hooks(lambda t, s=seen: s.append(t) or t,
                                                        lambda t: t):
                f(a, b)
            counts.append(len(seen))
        assert counts[0] == counts[1], name


@pytest.mark.parametrize("device", DEVICES)
def test_save_on_cpu(device):
    x, w, layer = _leaves(device, "fused")
    _program(x, w, layer).backward()
    expected = x.grad.numpy().copy()
    x.grad = None
    with save_on_cpu(pin_memory=True):
        y = _program(x, w, layer)
    y.backward()
    assert x.grad.device == x.device
    np.testing.assert_allclose(x.grad.numpy(), expected, rtol=1e-12)


def test_disable_and_bad_hooks():
    with disable_saved_tensors_hooks("no hooks in this feature"):
        with pytest.raises(RuntimeError, match="no hooks in this feature"):
            with save_on_cpu():
                pass
    with saved_tensors_hooks(lambda t: t, lambda t: t):
        with pytest.raises(RuntimeError, match="not with hooks"):
            with disable_saved_tensors_hooks("not with hooks"):
                pass
    with saved_tensors_hooks(lambda t: t, lambda t: 3.0):
        y = tr.tensor([1.0], requires_grad=True).exp()
    with pytest.raises(TypeError, match="unpack_hook must return a Tensor, got float"):
        y.backward()
    with pytest.raises(TypeError, match="both must be callable"):
        saved_tensors_hooks(lambda t: t, None)
    x = tr.tensor([1.0], requires_grad=True)
    y = (x * 2).exp()
    assert isinstance(y.grad_fn, Node) and isinstance(y.grad_fn.next_functions[0][0], Node)
    assert isinstance(y.grad_fn.next_functions[0][0].next_functions[0][0], Node)
    assert not isinstance(x, Node)


@pytest.mark.parametrize("mode", ["LSTM", "GRU", "RNN", "LSTM-proj"])
def test_fused_layers_give_their_activations_to_the_hooks_and_never_write_over_them(mode):
    """A fused layer keeps its states and gate activations in ``saved``, so the hooks see
    what its backward needs (save_on_cpu moves it all); and the last backward, which may
    reuse its own buffers as scratch space, leaves alone the ones the hooks hold."""
    rng = np.random.default_rng(5)
    mode, *proj = mode.split("-")  # (the projected LSTM's backward writes over its gates)
    layer = getattr(nn, mode)(4, 3, num_layers=2, bidirectional=True, dtype=tr.float64,
                              **({"proj_size": 2} if proj else {}))
    x = tr.tensor(rng.standard_normal((6, 2, 4)), requires_grad=True)
    layer(x)[0].sum().backward()
    expected = [p.grad.numpy().copy() for p in (x, *layer.parameters())]
    for p in (x, *layer.parameters()):
        p.grad = None
    held = []
    with saved_tensors_hooks(lambda t: held.append((t, t.numpy().copy())) or t, lambda t: t):
        y = layer(x)[0].sum()
    gates = {"LSTM": 4, "GRU": 3, "RNN": 1}[mode] * 3
    assert any(t.shape == (6, 2, gates) or t.shape == (6, gates, 2) for t, _ in held)
    y.backward()
    for t, copy in held:
        np.testing.assert_array_equal(t.numpy(), copy)
    for p, e in zip((x, *layer.parameters()), expected):
        np.testing.assert_allclose(p.grad.numpy(), e, rtol=1e-12, atol=1e-14)


def _copying():
    return saved_tensors_hooks(lambda t: (t.device, t.numpy().copy()),
                               lambda p: tr.tensor(p[1], device=p[0]))


def test_a_leafs_post_accumulate_hook_with_a_retained_packed_graph():
    x = tr.tensor([1.0, 2.0, 3.0], requires_grad=True)
    seen = []
    x.register_post_accumulate_grad_hook(lambda t: seen.append(t.grad.tolist()))
    with _copying():
        z = (x * tr.tensor([2.0, 2.0, 2.0])).sum()
    z.backward(retain_graph=True)
    z.backward()
    assert seen == [[2.0] * 3, [4.0] * 3]


@pytest.mark.torch
def test_a_saved_output_of_several_under_copying_hooks_as_torch():
    """Which output a saved tensor is, is known from the forward: after the hooks gave back
    other arrays, a second derivative still goes through it."""
    torch = pytest.importorskip("torch")
    results = []
    for lib in (tr, torch):
        class ExpTwo(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                e = x.exp()
                ctx.save_for_backward(e)
                return e, x * 2

            @staticmethod
            def backward(ctx, ge, gb):
                (e,) = ctx.saved_tensors
                return ge * e + gb * 2

        x = lib.tensor([0.3, -1.2, 0.7], dtype=lib.float64, requires_grad=True)
        with lib.autograd.graph.saved_tensors_hooks(lambda t: t.detach().clone(),
                                                    lambda t: t.clone()):
            e, b = ExpTwo.apply(x)
            y = (e * b).sum()
        (g,) = lib.autograd.grad(y, x, create_graph=True)
        results.append(lib.autograd.grad(g.sum(), x)[0].detach().numpy())
    np.testing.assert_allclose(results[0], results[1], rtol=1e-13)


@pytest.mark.parametrize("device", DEVICES)
def test_gradcheck_inside_the_hooks(device):
    x = tr.tensor(np.random.default_rng(6).standard_normal(4), device=device,
                  requires_grad=True)
    with save_on_cpu():
        assert tr.autograd.gradcheck(lambda t: (t.sin() * t).tanh(), (x,))
        assert tr.autograd.gradcheck(lambda t: Scale.apply(t, 0.3), (x,))


def test_a_backward_that_raises_leaves_the_op_packed():
    class Flaky(tr.autograd.Function):
        calls = 0

        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * 2

        @staticmethod
        def backward(ctx, g):
            Flaky.calls += 1
            if Flaky.calls == 1:
                raise ValueError("once")
            return g * 2

    hooks = Counting()
    x = tr.tensor([1.0, 2.0], requires_grad=True)
    with hooks:
        y = Flaky.apply(x).sum()
    with pytest.raises(ValueError, match="once"):
        y.backward(retain_graph=True)
    y.backward(retain_graph=True)
    y.backward()
    assert hooks.unpacked == 3 * hooks.packed and x.grad.tolist() == [4.0, 4.0]


def test_unpack_to_another_device_is_refused_and_node_is_a_base_class():
    with saved_tensors_hooks(lambda t: t, lambda t: t.to("strict")):
        y = tr.tensor([1.0], requires_grad=True).exp()
    with pytest.raises(RuntimeError, match="unpack_hook returned a tensor on 'strict' for Exp"):
        y.backward()
    assert issubclass(type(y.grad_fn), Node) and not issubclass(tr.Tensor, Node)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("groups", [1, 4])
def test_conv_and_pooling_keep_nothing_outside_the_hooks(device, groups):
    """What conv and max pooling keep (x and w; the pool's input and output) goes through the
    hooks: under copying hooks (the op keeps none of its own arrays) the gradients are the
    same."""
    rng = np.random.default_rng(1)
    x = tr.tensor(rng.standard_normal((2, 4, 6, 6)), device=device, requires_grad=True)
    w = tr.tensor(rng.standard_normal((4, 4 // groups, 3, 3)), device=device,
                  requires_grad=True)

    def program():
        y = tr.nn.functional.conv2d(x, w, padding=1, groups=groups)
        return (tr.nn.functional.max_pool2d(y, 2) ** 2).sum()

    program().backward()
    expected = [x.grad.numpy().copy(), w.grad.numpy().copy()]
    x.grad = w.grad = None
    hooks = Counting()
    with hooks:
        y = program()
    assert hooks.packed == 5  # x, w (not the windows); the pool's input and output; ** 2's
    y.backward()
    assert hooks.unpacked == hooks.packed
    for t, e in zip((x, w), expected):
        np.testing.assert_allclose(t.grad.numpy(), e, rtol=1e-12, atol=1e-12)
