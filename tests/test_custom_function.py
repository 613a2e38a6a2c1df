"""tr.autograd.Function: custom functions written as in PyTorch (ctx, save_for_backward,
staticmethods, positional non-tensor arguments) give torch's values and gradients; the
engine's own checks apply; under create_graph their backward is recorded, so they are
differentiable twice, as PyTorch's (``once_differentiable`` refuses it)."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_rnn as tr
from tinygrad_rnn.testing import gradcheck, gradgradcheck

from .conftest import DEVICES


def functions(lib):
    """The same three custom functions, written against tinygrad_rnn or torch."""

    class ScaledExp(lib.autograd.Function):  # saves its output and a number on ctx
        @staticmethod
        def forward(ctx, x, scale):
            y = (x * scale).exp()
            ctx.save_for_backward(y)
            ctx.scale = scale
            return y

        @staticmethod
        def backward(ctx, gy):
            (y,) = ctx.saved_tensors
            return gy * y * ctx.scale, None

    class MulAdd(lib.autograd.Function):  # two tensors in, two out, needs_input_grad
        @staticmethod
        def forward(ctx, a, b):
            ctx.save_for_backward(a, b)
            return a * b, a + b

        @staticmethod
        def backward(ctx, g_mul, g_add):
            a, b = ctx.saved_tensors
            ga = g_mul * b + g_add if ctx.needs_input_grad[0] else None
            gb = g_mul * a + g_add if ctx.needs_input_grad[1] else None
            return ga, gb

    class StraightThrough(lib.autograd.Function):  # a gradient that is not the derivative
        @staticmethod
        def forward(ctx, x):
            return (x > 0) * 1.0

        @staticmethod
        def backward(ctx, gy):
            return gy

    return ScaledExp, MulAdd, StraightThrough


def _frozen(lib):
    class Frozen(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        @lib.autograd.function.once_differentiable
        def backward(ctx, gy):
            (x,) = ctx.saved_tensors
            assert not lib.is_grad_enabled()
            return gy * 2 * x

    return Frozen


@pytest.mark.torch
def test_once_differentiable_fails_only_where_a_second_backward_reaches_it_as_torch():
    """A gradient penalty that differentiates the first gradient in w only (through another
    path) works, as in PyTorch; one that goes back through the function is refused."""
    torch = pytest.importorskip("torch")
    results = []
    for lib in (tr, torch):
        x = lib.tensor([0.5, -1.0, 2.0], dtype=lib.float64, requires_grad=True)
        w = lib.tensor([1.5, 0.5, -2.0], dtype=lib.float64, requires_grad=True)
        (gw,) = lib.autograd.grad((_frozen(lib).apply(x) * w).sum(), [w], create_graph=True)
        (gx,) = lib.autograd.grad((gw * gw).sum(), [x])  # d/dx Σ (x²)² = 4x³, not through it
        results.append(gx.detach().numpy())
        (g,) = lib.autograd.grad((_frozen(lib).apply(x) * w).sum(), [x], create_graph=True)
        with pytest.raises(RuntimeError, match="once_differentiable"):
            g.sum().backward()
    np.testing.assert_allclose(results[0], results[1], rtol=1e-14)


class SqOnCtx(tr.autograd.Function):  # the input kept on ctx, not saved
    @staticmethod
    def forward(ctx, x):
        ctx.x = x
        return x * x

    @staticmethod
    def backward(ctx, g):
        return 2 * ctx.x * g


@pytest.mark.torch
def test_a_tensor_kept_on_ctx_stands_for_its_input_under_create_graph_as_torch():
    torch = pytest.importorskip("torch")

    class TSq(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.x = x
            return x * x

        @staticmethod
        def backward(ctx, g):
            return 2 * ctx.x * g

    out = []
    for lib, Sq in ((tr, SqOnCtx), (torch, TSq)):
        x = lib.tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True)
        (g,) = lib.autograd.grad(Sq.apply(x).sum(), [x], create_graph=True)
        out.append([lib.autograd.grad((g * x).sum(), [x])[0].detach().numpy(),
                    lib.autograd.grad(Sq.apply(x).sum() * 1, [x], create_graph=True)[0]
                    .sum().detach().numpy()])
        (g,) = lib.autograd.grad(Sq.apply(x).sum(), [x], create_graph=True)
        out[-1].append(lib.autograd.grad(g.sum(), [x])[0].detach().numpy())
    for a, b in zip(*out):
        np.testing.assert_array_equal(a, b)


@pytest.mark.torch
@pytest.mark.parametrize("b_grad", [True, False])
def test_custom_functions_match_torch(b_grad):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((2, 3)), rng.standard_normal((2, 3))
    results = []
    for lib, make in ((tr, tr.tensor), (torch, torch.tensor)):
        ScaledExp, MulAdd, StraightThrough = functions(lib)
        x, y = make(a, requires_grad=True), make(b, requires_grad=b_grad)
        m, s = MulAdd.apply(x, y)
        out = ScaledExp.apply(m, 0.5).sum() + (s * s).sum() + StraightThrough.apply(x * y).sum()
        out.backward()
        results.append([out.detach().numpy(), x.grad.numpy(),
                        y.grad.numpy() if b_grad else None])
    for ours, theirs in zip(*results):
        if theirs is not None:
            np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("device", DEVICES)
def test_custom_function_gradcheck_and_refusals(device):
    ScaledExp, MulAdd, _ = functions(tr)
    x = tr.tensor(np.random.default_rng(1).standard_normal(4), device=device,
                  requires_grad=True)
    assert gradcheck(lambda t: ScaledExp.apply(t, 0.7), (x,))
    assert gradcheck(lambda t: MulAdd.apply(t, t * 2.0)[0], (x,))
    y = ScaledExp.apply(x, 0.7).sum()
    (g,) = tr.grad(y, [x], create_graph=False)

    Frozen = _frozen(tr)
    assert gradcheck(Frozen.apply, (x,))
    w = tr.tensor(2.0, dtype=x.dtype, device=device, requires_grad=True)
    (g,) = tr.grad((Frozen.apply(x) * w).sum(), [x], create_graph=True)  # as torch: allowed,
    with pytest.raises(RuntimeError, match="Frozen: trying to differentiate twice a function "
                                           "that was marked with @once_differentiable"):
        g.sum().backward()  # and the second backward through it is refused
    np.testing.assert_array_equal(ScaledExp.apply(x, scale=0.7).numpy(),  # by name, as torch
                                  ScaledExp.apply(x, 0.7).numpy())
    with pytest.raises(TypeError, match="ScaledExp.apply: missing a required argument"):
        ScaledExp.apply(x, scales=0.7)

    class Wrong(tr.autograd.Function):
        @staticmethod
        def forward(ctx, x, k):
            return x * k

        @staticmethod
        def backward(ctx, gy):
            return gy  # one gradient for two arguments

    with pytest.raises(RuntimeError, match=r"returned 1 gradients; it must return one per "
                                        r"argument of apply \(2\)"):
        Wrong.apply(x, 2.0).sum().backward()


@pytest.mark.torch
def test_mark_dirty_changes_the_callers_tensor_in_place_as_torch():
    torch = pytest.importorskip("torch")

    def make(lib):
        class ReluInPlace(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                x.clamp_(min=0)
                ctx.mark_dirty(x)
                ctx.save_for_backward(x)
                return x

            @staticmethod
            def backward(ctx, gy):
                (y,) = ctx.saved_tensors
                return gy * (y > 0)

        return ReluInPlace

    results = []
    for lib in (torch, tr):
        w = lib.tensor([-1.0, 2.0, -3.0, 4.0], requires_grad=True)
        h = w * 2
        assert make(lib).apply(h) is h  # the caller's tensor, changed in place
        (h * lib.tensor([1.0, 2.0, 3.0, 4.0])).sum().backward()
        results.append((h.tolist(), w.grad.tolist()))
        with pytest.raises(RuntimeError, match="leaf"):
            make(lib).apply(w)
    assert results[0] == results[1]
    assert w.tolist() == [-1.0, 2.0, -3.0, 4.0]  # refused before w changed (torch's changes)

    class Forgot(tr.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.mark_dirty(x)
            return x * 2

        @staticmethod
        def backward(ctx, gy):
            return gy * 2

    with pytest.raises(RuntimeError, match="returned as an output"):
        Forgot.apply(tr.ones(2, requires_grad=True) * 1)


@pytest.mark.torch
def test_pytorch_2_style_functions_and_outputs_that_are_not_differentiable_as_torch():
    """forward without ctx plus setup_context; non-tensor outputs; integer outputs and
    mark_non_differentiable ones do not require grad; backward gets None or zeros for them."""
    torch = pytest.importorskip("torch")
    seen = {}

    def make(lib):
        class Scale(lib.autograd.Function):
            @staticmethod
            def forward(x, k=2.0):
                return x * k, 7, x.argmax()

            @staticmethod
            def setup_context(ctx, inputs, output):
                ctx.k = inputs[1]

            @staticmethod
            def backward(ctx, g, g_count, g_index):
                seen[lib.__name__] = (g_count, g_index.tolist(), str(g_index.dtype))
                return g * ctx.k, None

        class Marked(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                y = x * 3
                ctx.mark_non_differentiable(y)
                return x * 2, y

            @staticmethod
            def backward(ctx, g, g_marked):
                return g * 2 + g_marked

        return Scale, Marked

    results = []
    for lib in (torch, tr):
        Scale, Marked = make(lib)
        x = lib.ones(3, requires_grad=True)
        y, count, index = Scale.apply(x, k=3.0)
        assert count == 7 and not index.requires_grad and y.requires_grad
        a, b = Marked.apply(x)
        assert a.requires_grad and not b.requires_grad
        (y.sum() + a.sum()).backward()
        results.append(x.grad.tolist())
    assert results[0] == results[1]
    assert seen["torch"][:2] == seen["tinygrad_rnn"][:2]
    assert seen["tinygrad_rnn"][2] == "int64"


def test_once_differentiable_from_torchs_path():
    from tinygrad_rnn.autograd.function import FunctionCtx, once_differentiable

    class Double(tr.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        @once_differentiable
        def backward(ctx, g):
            assert isinstance(ctx, FunctionCtx)
            return g * 2

    x = tr.ones(2, requires_grad=True)
    Double.apply(x).sum().backward()
    assert x.grad.tolist() == [2.0, 2.0]


def test_backward_may_return_trailing_nones_for_defaulted_arguments():
    """As PyTorch's: extra gradients past the arguments given to apply are fine when None
    (a forward with a defaulted argument called without it); a non-None extra is an error."""

    class Scale(tr.autograd.Function):
        @staticmethod
        def forward(ctx, x, beta=2.0):
            ctx.beta = beta
            return x * beta

        @staticmethod
        def backward(ctx, g):
            return g * ctx.beta, None

    x = tr.ones(3, requires_grad=True)
    Scale.apply(x).sum().backward()
    assert x.grad.numpy().tolist() == [2.0, 2.0, 2.0]

    class Wrong(Scale):
        @staticmethod
        def backward(ctx, g):
            return g, 1.0

    with pytest.raises(RuntimeError, match="returned 2 gradients; it must return one per "
                                           "argument"):
        Wrong.apply(tr.ones(3, requires_grad=True)).sum().backward()


def _double_backward(lib, make, a, b):
    """Second derivatives through the three custom functions: the gradient of a loss, and
    the gradient of that gradient's squared norm (a gradient penalty)."""
    ScaledExp, MulAdd, StraightThrough = functions(lib)
    x, y = make(a, requires_grad=True), make(b, requires_grad=True)
    m, s = MulAdd.apply(x, y)
    out = (ScaledExp.apply(m, 0.5) * s).sum() + StraightThrough.apply(x * y).sum()
    gx, gy = lib.autograd.grad(out, [x, y], create_graph=True)
    penalty = (gx * gx).sum() + (gy.sin()).sum()
    hx, hy = lib.autograd.grad(penalty, [x, y])
    return [t.detach().numpy() for t in (out, gx, gy, penalty, hx, hy)]


@pytest.mark.torch
def test_custom_function_backward_is_differentiable_again_as_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    a, b = rng.standard_normal((2, 3)), rng.standard_normal((2, 3))
    for ours, theirs in zip(_double_backward(tr, tr.tensor, a, b),
                            _double_backward(torch, torch.tensor, a, b)):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("device", DEVICES)
def test_custom_function_gradgradcheck_saved_inputs_and_outputs(device):
    """Saved inputs, a saved output of one and of several, a gradient that is not the
    derivative: gradgradcheck, and the Hessian of a custom function, on every device."""
    ScaledExp, MulAdd, _ = functions(tr)

    class SinCos(tr.autograd.Function):  # two outputs, both saved
        @staticmethod
        def forward(ctx, x):
            s, c = x.sin(), x.cos()
            ctx.save_for_backward(s, c)
            return s, c

        @staticmethod
        def backward(ctx, gs, gc):
            s, c = ctx.saved_tensors
            return gs * c - gc * s

    rng = np.random.default_rng(3)
    x = tr.tensor(rng.standard_normal(3), device=device, requires_grad=True)
    y = tr.tensor(rng.standard_normal(3), device=device, requires_grad=True)
    assert gradgradcheck(lambda t: ScaledExp.apply(t, 0.7), (x,))
    assert gradgradcheck(lambda s, t: MulAdd.apply(s, t * 2.0)[0], (x, y))
    assert gradgradcheck(lambda t: SinCos.apply(t)[0] * SinCos.apply(t)[1], (x,))
    h = tr.autograd.functional.hessian(lambda t: ScaledExp.apply(t, 0.7).sum(), x)
    e = np.exp(0.7 * x.numpy())
    np.testing.assert_allclose(h.numpy(), np.diag(0.49 * e), rtol=1e-12)


@pytest.mark.torch
@pytest.mark.parametrize("materialize", [True, False])
def test_set_materialize_grads_as_torch(materialize):
    """An output no gradient reaches arrives as zeros, or, after
    ``ctx.set_materialize_grads(False)``, as None, as in PyTorch."""
    torch = pytest.importorskip("torch")
    seen = {}
    for lib in (tr, torch):
        class Split(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.set_materialize_grads(materialize)
                return x * 2, x * 3

            @staticmethod
            def backward(ctx, g2, g3, lib=lib):
                seen[lib.__name__] = None if g3 is None else g3.tolist()
                return g2 * 2 + (0 if g3 is None else g3 * 3)

        x = lib.tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True)
        Split.apply(x)[0].sum().backward()
        assert x.grad.tolist() == [2.0, 2.0]
    assert seen["tinygrad_rnn"] == seen["torch"] == ([0.0, 0.0] if materialize else None)


@pytest.mark.torch
def test_node_names_and_once_differentiable_gradients_as_torch():
    """A custom Function's node is named ``<Name>Backward``; a once_differentiable gradient
    reached by gradients that need none needs none itself (so nothing can go back through
    it), as in PyTorch."""
    torch = pytest.importorskip("torch")
    for lib in (tr, torch):
        x = lib.tensor([0.5, -1.0], dtype=lib.float64, requires_grad=True)
        Frozen = _frozen(lib)
        y = Frozen.apply(x)
        assert y.grad_fn.name() == "FrozenBackward"
        (g,) = lib.autograd.grad(y.sum(), [x], create_graph=True)
        assert not g.requires_grad
