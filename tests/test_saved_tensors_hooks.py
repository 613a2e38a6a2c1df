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
    # a learner's measurement: the fused LSTM keeps less for backward than the composed one
    kept = {}
    for impl in ("fused", "composed"):
        layer = nn.LSTM(8, 16, impl=impl)
        with Counting() as c:
            layer(tr.randn(50, 4, 8))[0].sum()
        kept[impl] = c.bytes
    assert kept["fused"] < kept["composed"]


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
