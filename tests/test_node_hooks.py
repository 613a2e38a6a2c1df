"""Hooks on graph nodes (``y.grad_fn.register_prehook``, ``register_hook``) against
torch.autograd.graph.Node's: what they are given, in which order with the tensors' hooks,
their replacements, removal, and refusals."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_rnn as tr

pytestmark = pytest.mark.torch


def _run(lib):
    """Gradients and what the hooks saw, for one library."""
    a = np.array([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]])
    x = lib.tensor(a, requires_grad=True)
    w = lib.tensor(a[0] * 2)  # needs no gradient: None in grad_inputs
    log = []
    prod = x * w
    y = prod.exp()
    z = (y * 3).sum()
    y.register_hook(lambda g: log.append(("tensor", round(float(g.sum()), 6))))
    y.grad_fn.register_prehook(lambda go: log.append(("pre", len(go))) or (go[0] * 2,))
    h = prod.grad_fn.register_hook(
        lambda gi, go: log.append(("post", [g is None for g in gi], len(go))) or
        (gi[0] + 1, gi[1]))
    removed = prod.grad_fn.register_prehook(lambda go: log.append("removed"))
    removed.remove()
    z.backward(retain_graph=True)
    first = x.grad.detach().numpy().copy()
    h.remove()
    x.grad = None
    z.backward()
    return log, first, x.grad.detach().numpy()


def test_node_hooks_run_as_torchs():
    torch = pytest.importorskip("torch")
    ours, theirs = _run(tr), _run(torch)
    assert ours[0] == theirs[0]
    np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-12)
    np.testing.assert_allclose(ours[2], theirs[2], rtol=1e-12)


def test_node_hooks_with_create_graph_and_several_outputs():
    torch = pytest.importorskip("torch")
    results = []
    for lib in (tr, torch):
        x = lib.tensor(np.arange(6.0).reshape(2, 3) / 5, requires_grad=True)
        a, b = x.split(1, dim=0) if lib is torch else x.split(1, axis=0)
        seen: list[int] = []
        loss = (a.sin() * 2).sum() + b.sum()
        a.grad_fn.register_prehook(lambda go, seen=seen: seen.append(len(go)))
        (g,) = lib.autograd.grad(loss, x, create_graph=True)
        (gg,) = lib.autograd.grad(g.sum(), x)
        results.append((seen, g.detach().numpy(), gg.detach().numpy()))
    assert results[0][0] == results[1][0]
    np.testing.assert_allclose(results[0][1], results[1][1], rtol=1e-12)
    np.testing.assert_allclose(results[0][2], results[1][2], rtol=1e-12)


def test_bad_hook_results_are_refused():
    x = tr.ones(3, requires_grad=True)
    y = x.exp()
    y.grad_fn.register_prehook(lambda go: go[0])  # not a tuple
    with pytest.raises(RuntimeError, match="must return None or a tuple of 1"):
        y.sum().backward()
    x = tr.ones(3, requires_grad=True)
    y = x.exp()
    y.grad_fn.register_hook(lambda gi, go: (tr.ones(4),))
    with pytest.raises(RuntimeError, match="shape"):
        y.sum().backward()
    with pytest.raises(TypeError, match="callable"):
        y.grad_fn.register_hook(3)


def test_allow_mutation_on_saved_tensors_gives_the_gradient_of_the_forward_as_torch():
    torch = pytest.importorskip("torch")
    grads = []
    for lib in (tr, torch):
        x = lib.tensor(np.array([0.5, 1.5]), requires_grad=True)
        with lib.autograd.graph.allow_mutation_on_saved_tensors():
            a = x * 1
            y = (a * a).sum()
            a.mul_(10)  # a is saved by a * a: the backward still sees its old values
            y.backward()
        grads.append(x.grad.detach().numpy())
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-12)


def _post_hook_inputs(lib):
    """What node post-hooks are given: None for an input that leads to no wanted tensor
    (backward(inputs=)), and each gradient in its input's shape (a 0-d input broadcast)."""
    seen = []

    def record(gi, go):
        seen.append([None if g is None else (list(g.shape), g.tolist()) for g in gi])

    v0 = lib.tensor([1.0, 2.0], requires_grad=True)
    v2 = lib.tensor([3.0, 4.0], requires_grad=True)
    v3 = v2 + v0
    v3.grad_fn.register_hook(record)
    v3.sum().backward(inputs=[v0])
    a = lib.tensor(2.0, requires_grad=True)
    b = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
    c = a * b
    c.grad_fn.register_hook(record)
    c.sum().backward()
    return seen


def test_post_hooks_get_what_torchs_get():
    torch = pytest.importorskip("torch")
    assert _post_hook_inputs(tr) == _post_hook_inputs(torch)
