"""More of PyTorch's tensor API: gradient hooks (``register_hook``), tril/triu, roll, movedim,
unflatten, select, nonzero, the comparison and in-place methods by PyTorch's names, the
in-place random fills, and the function forms (``tr.roll(x, ...)``). Gradients against
central differences in float64 on every device, values and gradients against PyTorch."""

from __future__ import annotations

import weakref

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_rnn as tr
from tinygrad_rnn import nn
from tinygrad_rnn.testing import gradcheck, gradgradcheck
from tinygrad_rnn.testing import strategies as tst

from .conftest import DEVICES

# ---- gradient hooks ------------------------------------------------------------------------


@pytest.mark.parametrize("device", DEVICES)
def test_hooks_see_and_replace_gradients_as_pytorch_does(device):
    """A hook on a result sees the gradient reaching it and may replace it before it flows
    on; a hook on a leaf runs before .grad is stored; hooks run in order; retain_grad stores
    the hooked gradient; remove() takes a hook off."""
    x = tr.tensor([[1.0, -2.0, 3.0]], dtype="float64", device=device, requires_grad=True)
    seen = []
    y = x * x
    y.register_hook(lambda g: seen.append(("y1", g.numpy().copy())))
    y.register_hook(lambda g: g * 10)
    y.register_hook(lambda g: seen.append(("y3", g.numpy().copy())))
    y.retain_grad()
    leaf = x.register_hook(lambda g: g + 1)
    (y * 3).sum().backward()
    assert [name for name, _ in seen] == ["y1", "y3"]
    np.testing.assert_array_equal(seen[0][1], [[3.0, 3.0, 3.0]])
    np.testing.assert_array_equal(seen[1][1], [[30.0, 30.0, 30.0]])
    np.testing.assert_array_equal(y.grad.numpy(), [[30.0, 30.0, 30.0]])
    np.testing.assert_array_equal(x.grad.numpy(), [[61.0, -119.0, 181.0]])  # 30 * 2x + 1
    leaf.remove()
    leaf.remove()  # again: nothing
    x.grad = None
    (x * 2).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[2.0, 2.0, 2.0]])


@pytest.mark.torch
def test_hooks_match_torch_on_a_recurrent_loop():
    """A hook on each hidden state of an unrolled cell records ‖∂L/∂h_t‖ (the gradient-flow
    measurement learners make by hand in PyTorch), and a clipping hook changes what flows
    back: both equal torch's."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    x = rng.standard_normal((6, 2, 3))
    cell = nn.RNNCell(3, 4, dtype="float64")
    ref = torch.nn.RNNCell(3, 4, dtype=torch.float64)
    ref.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in cell.state_dict().items()})

    def run(lib, module, xs):
        h, norms = None, []
        for t in range(xs.shape[0]):
            h = module(xs[t]) if h is None else module(xs[t], h)
            h.register_hook(lambda g, t=t: norms.append((t, float((g * g).sum() ** 0.5))))
            h.register_hook(lambda g: g.clamp(-0.05, 0.05))
        (h * h).sum().backward()
        return sorted(norms), module.weight_hh.grad.numpy()

    ours = run(tr, cell, tr.tensor(x))
    theirs = run(torch, ref, torch.from_numpy(x))
    np.testing.assert_allclose([n for _, n in ours[0]], [n for _, n in theirs[0]], rtol=1e-12)
    np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("device", DEVICES)
def test_hooks_with_create_graph_and_autograd_grad(device):
    x = tr.tensor([0.5, 2.0], dtype="float64", device=device, requires_grad=True)
    y = x ** 3
    y.register_hook(lambda g: g * 2)
    (g,) = tr.grad(y.sum(), [x], create_graph=True)
    np.testing.assert_allclose(g.numpy(), 6 * x.numpy() ** 2)  # hooked: 2 * 3x²
    (gg,) = tr.grad(g.sum(), [x])
    np.testing.assert_allclose(gg.numpy(), 12 * x.numpy())


def test_hook_errors():
    with pytest.raises(RuntimeError, match="does not require grad"):
        tr.ones(2).register_hook(lambda g: g)
    x = tr.ones(2, requires_grad=True)
    x.register_hook(lambda g: g.sum())
    with pytest.raises(RuntimeError, match=r"returned shape \(\) for a gradient of shape \(2,\)"):
        (x * 2).sum().backward()
    y = tr.ones(2, requires_grad=True)
    y.register_hook(lambda g: 3.0)
    with pytest.raises(TypeError, match="returned float: it must return a Tensor"):
        (y * 2).sum().backward()


# ---- tril, triu, roll, movedim and friends -------------------------------------------------


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("name", ["tril", "triu"])
@given(a=tst.arrays(shape=tst.shapes(min_dims=2, max_dims=4)), k=st.integers(-4, 4))
def test_triangles_values_and_gradients(name, device, a, k):
    x = tr.tensor(a, device=device, requires_grad=True)
    np.testing.assert_array_equal(getattr(x, name)(k).numpy(), getattr(np, name)(a, k))
    f = lambda t: getattr(tr, name)(t, k)  # noqa: E731
    assert gradcheck(f, [x]) and gradgradcheck(f, [x])


def test_triangles_select_so_an_inf_outside_stays_out():
    """A causal mask made with triu(-inf) must not turn 0 * inf into NaN."""
    mask = tr.full((3, 3), float("-inf")).triu(1)
    assert mask.numpy().tolist() == [[0, -np.inf, -np.inf], [0, 0, -np.inf], [0, 0, 0]]
    with pytest.raises(ValueError, match=r"tril: the tensor needs at least 2 axes, got shape"):
        tr.ones(3).tril()


@pytest.mark.parametrize("device", DEVICES)
@given(data=st.data())
def test_roll_values_and_gradients(device, data):
    a = data.draw(tst.arrays(shape=tst.shapes(min_dims=1, max_dims=3, min_side=0)))
    axes = data.draw(st.lists(st.integers(0, a.ndim - 1), min_size=1, max_size=a.ndim,
                              unique=True))
    shifts = data.draw(st.lists(st.integers(-7, 7), min_size=len(axes), max_size=len(axes)))
    x = tr.tensor(a, device=device, requires_grad=True)
    np.testing.assert_array_equal(x.roll(shifts, axes).numpy(), np.roll(a, shifts, axes))
    np.testing.assert_array_equal(tr.roll(x, 2).numpy(), np.roll(a, 2))  # flattened
    assert gradcheck(lambda t: t.roll(shifts, axes), [x])


@pytest.mark.torch
def test_movement_extras_match_torch():
    torch = pytest.importorskip("torch")
    a = np.arange(24.0).reshape(2, 3, 4)
    x, t = tr.tensor(a), torch.from_numpy(a)
    pairs = [
        (x.movedim(0, -1), t.movedim(0, -1)),
        (x.movedim((0, 1), (2, 0)), t.movedim((0, 1), (2, 0))),
        (tr.moveaxis(x, 2, 0), torch.moveaxis(t, 2, 0)),
        (x.unflatten(2, (2, -1)), t.unflatten(2, (2, -1))),
        (x.select(1, -1), t.select(1, -1)),
        (tr.select(x, dim=2, index=0), torch.select(t, dim=2, index=0)),
        (x.mT, t.mT),
        (tr.roll(x, shifts=(1, -2), dims=(0, 2)), torch.roll(t, shifts=(1, -2), dims=(0, 2))),
        (tr.narrow(x, 1, 1, 2), torch.narrow(t, 1, 1, 2)),
        (tr.flatten(x, 1), torch.flatten(t, 1)),
        (tr.permute(x, (2, 0, 1)), torch.permute(t, (2, 0, 1))),
        (tr.tril(x, -1), torch.tril(t, -1)),
        (tr.outer(x[0, 0], x[1, 1]), torch.outer(t[0, 0], t[1, 1])),
        (tr.dot(x[0, 0], x[1, 1]), torch.dot(t[0, 0], t[1, 1])),
        (tr.mv(x[0], x[1, 1]), torch.mv(t[0], t[1, 1])),
        (tr.square(x), torch.square(t)),
        (tr.rsqrt(x + 1), torch.rsqrt(t + 1)),
        (tr.reciprocal(x + 1), torch.reciprocal(t + 1)),
        (tr.nonzero(x > 20), torch.nonzero(t > 20)),
        (tr.argwhere(x > 20), torch.argwhere(t > 20)),
    ]
    for ours, theirs in pairs:
        assert ours.shape == tuple(theirs.shape)
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-15)
    for ours, theirs in zip(x.nonzero(as_tuple=True), t.nonzero(as_tuple=True)):
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    assert x.stride() == t.stride() and x.mT.stride() == t.mT.stride() and x.stride(-1) == 1
    assert x.is_contiguous() and not x.mT.is_contiguous()
    assert x.nelement() == 24 and x.element_size() == 8 and tr.numel(x) == 24
    with pytest.raises(ValueError, match="movedim: source"):
        x.movedim((0, 0), (1, 2))
    with pytest.raises(ValueError, match=r"dot: two 1-D tensors of one length"):
        tr.dot(x[0], x[0])


@pytest.mark.parametrize("device", DEVICES)
@given(a=tst.arrays(shape=tst.shapes(min_dims=2, max_dims=3), min_value=0.5, max_value=3.0))
def test_composed_extras_gradients(device, a):
    x = tr.tensor(a, device=device, requires_grad=True)
    for f in (lambda t: t.movedim(0, -1) * t.movedim(0, -1).square(),
              lambda t: t.rsqrt() + t.reciprocal(),
              lambda t: t.unflatten(0, (1, -1)).select(0, 0).mT):
        assert gradcheck(f, [x]) and gradgradcheck(f, [x])


# ---- methods by PyTorch's names ------------------------------------------------------------


@pytest.mark.parametrize("device", DEVICES)
def test_comparison_methods_equal_the_operators(device):
    x = tr.tensor([1.0, 2.0, 3.0], device=device)
    for name, op in [("eq", "__eq__"), ("ne", "__ne__"), ("lt", "__lt__"), ("le", "__le__"),
                     ("gt", "__gt__"), ("ge", "__ge__")]:
        np.testing.assert_array_equal(getattr(x, name)(2.0).numpy(),
                                      getattr(x, op)(2.0).numpy())
        np.testing.assert_array_equal(getattr(tr, name)(x, 2.0).numpy(),
                                      getattr(x, op)(2.0).numpy())
    with pytest.raises(TypeError, match="tr.eq: the first argument must be a Tensor"):
        tr.eq(2.0, x)


@pytest.mark.torch
def test_in_place_methods_match_torch_and_write_through_views():
    torch = pytest.importorskip("torch")
    a = np.array([[0.5, -1.5, 2.0], [3.0, -0.25, 1.0]])
    x, t = tr.tensor(a), torch.from_numpy(a.copy())
    steps = [
        lambda m, v: v.add_(m.ones(3, dtype=m.float64), alpha=2.0),
        lambda m, v: v.sub_(0.5),
        lambda m, v: v.mul_(m.tensor([1.0, 2.0, 3.0], dtype=m.float64)),
        lambda m, v: v.div_(4.0),
        lambda m, v: v.clamp_(-0.5, 1.25),
        lambda m, v: v.masked_fill_(m.tensor([True, False, True]), 9.0),
        lambda m, v: v.clip_(max=5.0),
    ]
    for step in steps:
        assert step(tr, x) is x
        step(torch, t)
        np.testing.assert_allclose(x.numpy(), t.numpy(), rtol=1e-15)
    p = nn.Parameter(tr.zeros(3))
    with pytest.raises(RuntimeError, match="add_ on a leaf tensor that requires grad"):
        p.add_(1.0)
    with pytest.raises(RuntimeError, match="clamp_ on a leaf tensor that requires grad"):
        p.clamp_(0, 1)
    with pytest.raises(RuntimeError, match="mul_ on a leaf tensor that requires grad .a "
                                           "parameter., through a view of it,"):
        p[1:].mul_(2.0)  # as torch, which refuses a view of a leaf that requires grad
    with tr.no_grad():
        p.add_(1.0).mul_(3.0)
        p[1:].mul_(2.0)
        p.view(3, 1).masked_fill_(tr.tensor([[False], [True], [False]]), 0.0)
    assert p.numpy().tolist() == [3.0, 0.0, 6.0]


def test_random_fills_in_place_are_seeded_and_reach_through_parts():
    w = tr.zeros(200, 50)
    tr.manual_seed(3)
    assert w.uniform_(-0.1, 0.1) is w
    first = w.numpy().copy()
    assert -0.1 <= first.min() < -0.09 and 0.09 < first.max() < 0.1
    tr.manual_seed(3)
    np.testing.assert_array_equal(w.uniform_(-0.1, 0.1).numpy(), first)
    w.normal_(2.0, 0.5)
    assert abs(w.numpy().mean() - 2.0) < 0.02 and abs(w.numpy().std() - 0.5) < 0.02
    p = nn.Parameter(tr.zeros(4, 2))
    with pytest.raises(RuntimeError, match="uniform_ on a leaf tensor that requires grad"):
        p.uniform_(-1, 1)
    with tr.no_grad():
        p[0].normal_()
    assert p.numpy()[0].all() and not p.numpy()[1:].any()


def test_detach_in_place_and_new_tensor():
    x = tr.ones(2, requires_grad=True)
    y = x * 2
    assert y.detach_() is y and y.requires_grad is False and y.grad_fn is None
    z = x.new_tensor([1, 2])
    assert z.dtype == x.dtype and not z.requires_grad
    assert x.new_tensor([1, 2], dtype="int64").dtype == np.int64
    assert x.new_empty(2, 3).shape == (2, 3) and tr.as_tensor(x) is x
    assert tr.as_tensor([1.0, 2.0], dtype="float64").dtype == np.float64


# ---- in-place ops recorded by autograd, as PyTorch records them ------------------------------


@pytest.mark.torch
def test_in_place_writes_into_results_are_recorded_as_in_torch():
    """The patterns of PyTorch tutorials that write into tensors inside the graph: outputs
    preallocated and filled step by step (seq2seq decoders), ``h += b``, attention scores
    masked in place, ``x[i] += y``, ``copy_`` from a tensor that needs grad, ``clamp_`` and
    ``mul_`` on a result. Values and every gradient equal torch's."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    w0, b0, v0 = rng.standard_normal((3, 4)), rng.standard_normal(4), rng.standard_normal((2, 4))
    mask = np.array([[True, False, False, True], [False, False, True, False]])

    def run(m, leaf):
        w, b, v = leaf(w0), leaf(b0), leaf(v0)
        outputs = m.zeros(3, 2, 4, dtype=m.float64)
        h = m.zeros(2, 4, dtype=m.float64)
        for t in range(3):
            h = v * w[t] + h
            h += b  # on a result: recorded
            h = h.tanh()
            outputs[t] = h  # a preallocated output: recorded
        scores = outputs.sum(0)
        scores.masked_fill_(m.tensor(mask), -1e9)
        scores[0] += b * 2  # x[i] += y: through __setitem__
        scores.mul_(0.5).clamp_(-3.0, 3.0)
        buf = m.zeros(2, 4, dtype=m.float64)
        buf.copy_(scores.softmax(-1))
        loss = (buf * v).sum() + (outputs ** 2).mean()
        loss.backward()
        return [loss.detach().numpy(), *(p.grad.numpy() for p in (w, b, v))]

    ours = run(tr, lambda a: tr.tensor(a, requires_grad=True))
    theirs = run(torch, lambda a: torch.tensor(a, requires_grad=True))
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("device", DEVICES)
@given(data=st.data())
def test_item_assignment_gradients(device, data):
    """``x[index] = v`` as an op: gradients (and second derivatives) for x and v against
    central differences, for drawn basic indices and masks and a broadcast value."""
    a = data.draw(tst.arrays(shape=tst.shapes(min_dims=1, max_dims=3)))
    # no integer arrays: one that repeats an index writes that element once (the last)
    index = data.draw(tst.indices(a.shape, kind=data.draw(st.sampled_from(["basic",
                                                                             "bool_mask"]))))
    x = tr.tensor(a, device=device, requires_grad=True)
    target = a[index].shape
    v = tr.tensor(data.draw(tst.arrays(shape=st.sampled_from([target, target[1:] or ()]))),
                  device=device, requires_grad=True)

    def f(x, v):
        y = x * 1.0
        y[index] = v
        return y * y

    assert gradcheck(f, [x, v]) and gradgradcheck(f, [x, v])
    y = x * 1.0
    y[index] = v
    expected = a.copy()
    expected[index] = v.numpy()
    np.testing.assert_array_equal(y.numpy(), expected)


def test_in_place_on_a_leaf_that_requires_grad_is_refused_and_no_grad_is_not_recorded():
    w = tr.ones(3, requires_grad=True)
    for attempt in (lambda: w.__setitem__(0, 2.0), lambda: w.__iadd__(1.0),
                    lambda: w.masked_fill_(tr.tensor([True, False, False]), 0.0),
                    lambda: w.copy_(tr.zeros(3))):
        with pytest.raises(RuntimeError, match="on a leaf tensor that requires grad .*"
                                               "tr.no_grad()"):
            attempt()
    assert w.numpy().tolist() == [1.0, 1.0, 1.0] and w.is_leaf
    with tr.no_grad():
        w[0] = 2.0
        w += 1.0
    assert w.numpy().tolist() == [3.0, 2.0, 2.0] and w.is_leaf and w.requires_grad
    y = w * 2
    y.fill_(0.0)  # values of no history over a result: still a result, gradient 0, as torch
    assert y.requires_grad and y.grad_fn is not None
    (y * 3).sum().backward()
    assert w.grad.numpy().tolist() == [0.0, 0.0, 0.0]
    w.grad = None
    out = tr.zeros(2)
    out[0] = w[0]  # a tensor that needed no gradient now does
    assert out.requires_grad and not out.is_leaf
    out.sum().backward()
    assert w.grad.numpy().tolist() == [1.0, 0.0, 0.0]


@pytest.mark.parametrize("device", DEVICES)
def test_ops_that_used_a_tensor_before_an_in_place_write_keep_its_old_value(device):
    """An op remembers the graph node each input was when it ran, so a tensor written in
    place afterwards does not change what flows back through the earlier op: a decoder that
    reads its previous output from the buffer it writes to (input feeding), a constant buffer
    used, then written with a value that needs grad, and ``x[i] += y``, which reads x first.
    (PyTorch refuses the backward of all three: they modify a tensor its graph saved; here
    the graph kept the old array, copy on write.) Against central differences."""
    rng = np.random.default_rng(2)
    w = tr.tensor(rng.standard_normal((3, 3)), device=device, requires_grad=True)
    v = tr.tensor(rng.standard_normal((2, 3)), device=device, requires_grad=True)

    def decoder(w, v):
        outputs = tr.zeros(4, 2, 3, dtype="float64", device=device)
        outputs[0] = v
        for t in range(1, 4):
            outputs[t] = (outputs[t - 1] @ w).tanh()  # reads the buffer, then writes it
        outputs[2] += outputs[1] * w[0]  # reads x before writing it
        return outputs

    def constant_then_not(w, v):
        const = tr.ones(2, 3, dtype="float64", device=device)
        early = const * v  # uses const while it needs no gradient
        const[1] = v[0] * 3  # now it does: early's gradient must not change
        const.mul_(w[1])
        return early + const

    for f in (decoder, constant_then_not):
        assert gradcheck(f, [w, v]) and gradgradcheck(f, [w, v])
    y = constant_then_not(w, v)
    y.sum().backward()
    expected = np.ones((2, 3))  # d(early)/dv, plus v[0] * 3 * w[1] through const's row 1
    expected[0] += 3 * w.numpy()[1]
    np.testing.assert_allclose(v.grad.numpy(), expected, rtol=1e-14)


def test_init_of_p_data_fills_the_parameter_and_an_array_is_refused():
    """``nn.init.xavier_uniform_(p.data)``, PyTorch's idiom, fills p (``p.data`` is a tensor
    that writes through); an array is refused with what to pass instead."""
    p = nn.Parameter(tr.zeros(3, 3))
    for init in (nn.init.xavier_uniform_, nn.init.orthogonal_, nn.init.ones_):
        init(p.data)
        assert p.numpy().any() and p.is_leaf and p.requires_grad
        with pytest.raises(TypeError, match=rf"nn.init.{init.__name__}: expected a Tensor, got "
                                            r"ndarray: pass the tensor itself"):
            init(p._data)
    with pytest.raises(TypeError, match=r"nn.init.zeros_: expected a Tensor, got list$"):
        nn.init.zeros_([1.0])


def test_autograd_gradcheck_is_the_testing_one():
    from tinygrad_rnn import testing

    assert tr.autograd.gradcheck is testing.gradcheck
    assert tr.autograd.gradgradcheck is testing.gradgradcheck
    assert tr.autograd.gradcheck(lambda x: x * x, [tr.ones(2, dtype="float64",
                                                           requires_grad=True)])
    with pytest.raises(AttributeError, match="has no attribute 'nothing'"):
        tr.autograd.nothing  # noqa: B018


@pytest.mark.torch
def test_more_of_torchs_names_match_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(4)
    a, b, c = rng.standard_normal((2, 3)), rng.standard_normal((3, 4)), rng.standard_normal(4)
    x, m, v = (tr.tensor(t, requires_grad=True) for t in (a, b, c))
    tx, tm, tv = (torch.tensor(t, requires_grad=True) for t in (a, b, c))
    pairs = [
        (tr.addmm(v, x, m, beta=0.5, alpha=2.0), torch.addmm(tv, tx, tm, beta=0.5, alpha=2.0)),
        (v.addmm(x, m), tv.addmm(tx, tm)),
        (tr.baddbmm(v, x[None], m[None]), torch.baddbmm(tv, tx[None], tm[None])),
        (tr.add(x, x, alpha=3), torch.add(tx, tx, alpha=3)),
        (tr.sub(x, 1.5), torch.sub(tx, 1.5)), (tr.mul(x, x), torch.mul(tx, tx)),
        (tr.div(x, 2), torch.div(tx, 2)), (tr.pow(x, 2), torch.pow(tx, 2)),
        (tr.neg(x), torch.neg(tx)), (x.negative(), tx.negative()),
        (tr.lerp(x, x * 2, 0.25), torch.lerp(tx, tx * 2, 0.25)),
        (tr.norm(x), torch.norm(tx)),
    ]
    total_o = sum((o * o).sum() for o, _ in pairs)
    total_t = sum((t * t).sum() for _, t in pairs)
    for o, t in pairs:
        np.testing.assert_allclose(o.detach().numpy(), t.detach().numpy(), rtol=1e-13)
    total_o.backward()
    total_t.backward()
    for o, t in ((x, tx), (m, tm), (v, tv)):
        np.testing.assert_allclose(o.grad.numpy(), t.grad.numpy(), rtol=1e-12)
    assert tr.tensor(a).type() == "tinygrad_rnn.DoubleTensor" and torch.tensor(a).type() == \
        "torch.DoubleTensor"
    assert tr.ones(2).type("float64").dtype == np.float64
    assert tr.equal(tr.ones(2), tr.ones(2)) and not tr.equal(tr.ones(2), tr.ones(3))
    assert tr.finfo(tr.float32).min == torch.finfo(torch.float32).min
    assert tr.finfo().eps == torch.finfo().eps and tr.iinfo(tr.int64).max == \
        torch.iinfo(torch.int64).max
    for name in ("exp", "tanh", "sigmoid", "abs", "neg", "square", "floor", "tril"):
        ours, theirs = tr.tensor(a), torch.tensor(a)
        assert getattr(ours, name + "_")() is ours
        getattr(theirs, name + "_")()
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-15)
    y = x * 1.0
    y.exp_().sqrt_()  # recorded, as torch's
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy() - tx.grad.numpy(), np.exp(a / 2) / 2, rtol=1e-12)


# ---- from a review of the in-place and hook changes ------------------------------------------


def test_hooks_on_a_leaf_with_one_gradient_and_what_hooks_hold_stays_theirs():
    x = tr.tensor([1.0, 2.0], requires_grad=True)
    x.register_hook(lambda g: None)
    (x * 2).sum().backward()  # one contribution, graph freed as the walk went
    assert x.grad.numpy().tolist() == [2.0, 2.0]
    seen = []
    a = tr.tensor([1.0, 2.0], requires_grad=True)
    c = tr.tensor([3.0, 4.0])
    a.register_hook(lambda g: seen.append(g) or c)  # returns a tensor the user holds
    y = a + 0
    y.register_hook(lambda g: seen.append(g))
    (y * 2).sum().backward()
    nn.utils.clip_grad_norm_([a], 1.0)  # writes into a.grad
    assert c.numpy().tolist() == [3.0, 4.0]  # not into c
    assert all(g.numpy().tolist() == [2.0, 2.0] for g in seen)  # nor into what hooks saw


def test_tr_grad_calls_no_hook_of_a_leaf_it_was_not_asked_about():
    w = tr.tensor([1.0, 2.0], requires_grad=True)
    x = tr.tensor([3.0, 4.0], requires_grad=True)
    called = []
    w.register_hook(lambda g: called.append("w"))
    x.register_hook(lambda g: called.append("x"))
    (g,) = tr.grad((w * x * x).sum(), [x])
    assert called == ["x"] and g.numpy().tolist() == [6.0, 16.0]


@pytest.mark.torch
def test_retain_grad_follows_the_tensor_through_in_place_writes_as_torch():
    torch = pytest.importorskip("torch")
    a = np.array([0.5, -1.0, 2.0])

    def run(m):
        x = m.tensor(a, requires_grad=True)
        h = x * 2
        h.retain_grad()
        u = h * 3
        h += 1
        h.mul_(x)
        (u + h * h).sum().backward()
        return h.grad.numpy(), x.grad.numpy()

    for ours, theirs in zip(run(tr), run(torch)):
        np.testing.assert_allclose(ours, theirs, rtol=1e-14)


def test_anomaly_check_skips_gradients_the_engine_drops():
    x = tr.tensor([-1.0, 1.0], requires_grad=True)
    w = tr.tensor(2.0, requires_grad=True)
    c = tr.tensor([2.0, 2.0])
    with np.errstate(invalid="ignore"), tr.detect_anomaly():
        y = x ** c  # the gradient for c (a constant here) is NaN at x = -1 (log x)
        c[0] = w  # c becomes a result later: y's gradient for it is still dropped
        (y.sum() + c.sum()).backward()
    assert w.grad.item() == 1.0


def test_a_part_of_a_view_writes_into_the_root_though_the_view_is_gone():
    x = tr.ones(2, 3)
    root = weakref.ref(x)
    y = x.reshape(6)
    z = y[2:4]
    del x, y  # z keeps them, as a view keeps its base in PyTorch
    z.add_(1.0)
    assert root().numpy().tolist() == [[1.0, 1.0, 2.0], [2.0, 1.0, 1.0]]
    assert z.numpy().tolist() == [2.0, 2.0]


@pytest.mark.torch
def test_the_other_augmented_assignments_are_in_place_as_torch():
    torch = pytest.importorskip("torch")
    for op in ("**=", "//=", "%=", "&=", "|=", "^="):
        for m in (tr, torch):
            dtype = m.int64 if op in ("&=", "|=", "^=", "//=", "%=") else m.float64
            x = m.tensor([5, 6, 7], dtype=dtype)
            alias = x
            exec(f"x {op} 3")  # noqa: S102
            assert x is alias  # the same tensor, as every holder of it sees
        ours = tr.tensor([5, 6, 7], dtype=tr.int64)
        theirs = torch.tensor([5, 6, 7])
        exec(f"ours {op} 3; theirs {op} 3")  # noqa: S102
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    y = tr.ones(3, requires_grad=True) * 2
    y **= 2  # recorded
    assert y.grad_fn is not None
    with pytest.raises(TypeError, match=r"in-place //=: the result is float32, which cannot"):
        z = tr.tensor([1, 2])
        z //= 0.5


@pytest.mark.torch
def test_augmented_assignment_into_a_view_writes_through_as_torch():
    """``d = w.detach(); d -= g``, ``v = w.view(...); v *= 2`` and ``x[i] += y`` write into
    the tensor the view was taken from, as in PyTorch."""
    torch = pytest.importorskip("torch")
    for op in ("-=", "*=", "+=", "**=", "/="):
        for view in (lambda w: w.detach(), lambda w: w.reshape(3, 1), lambda w: w.chunk(3)[1],
                     lambda w: w.unsqueeze(0), lambda w: w[1:]):
            w, t = tr.arange(1.0, 4.0, dtype="float64"), torch.arange(1.0, 4.0,
                                                                       dtype=torch.float64)
            for x in (w, t):
                exec(f"v {op} 2.0", {"v": view(x)})  # noqa: S102
            np.testing.assert_array_equal(w.numpy(), t.numpy(), err_msg=op)
    x = tr.zeros(2, 2)
    x[0] += 1.0
    part = x[1]
    part += 5.0  # reaches x, as in PyTorch
    assert x.numpy().tolist() == [[1.0, 1.0], [5.0, 5.0]] and part.numpy().tolist() == [5, 5]


@pytest.mark.torch
def test_prod_scatter_repeat_unfold_as_methods_and_functions_match_torch():
    torch = pytest.importorskip("torch")
    a = np.array([[0.5, -2.0, 3.0, 1.5], [0.0, 4.0, -1.0, 2.0]])
    index = np.array([[0, 1, 0, 1]])
    for m in (tr, torch):
        x = m.tensor(a, requires_grad=True)
        src = m.tensor(a[:1] * 10, requires_grad=True)
        i = m.tensor(index)
        buf = m.zeros(2, 4, dtype=m.float64)
        buf.scatter_(0, i, src)  # in place, recorded
        buf.scatter_add_(1, m.tensor([[3, 3, 0, 1]]), src)
        outs = [x.prod(1), m.prod(x, dim=0, keepdim=True), m.prod(x), x.scatter(0, i, src),
                m.scatter_add(x, 0, i, src), x.repeat_interleave(2, dim=1),
                m.repeat_interleave(x, m.tensor([1, 3]), dim=0), x.unfold(1, 2, 1), buf]
        total = sum((o * o).sum() for o in outs)
        total.backward()
        if m is tr:
            ours = [o.detach().numpy() for o in outs] + [x.grad.numpy(), src.grad.numpy()]
        else:
            theirs = [o.detach().numpy() for o in outs] + [x.grad.numpy(), src.grad.numpy()]
    for o, t in zip(ours, theirs):
        np.testing.assert_allclose(o, t, rtol=1e-13)


@pytest.mark.torch
def test_set_default_dtype_as_torch():
    """With float64 the default, everything that takes the default makes float64, as in
    PyTorch; tensors that exist keep their dtype; only floating-point dtypes are taken."""
    torch = pytest.importorskip("torch")
    before = tr.ones(2)
    old = torch.get_default_dtype()
    try:
        for m in (tr, torch):
            m.set_default_dtype(m.float64)
        makers = [
            lambda m: m.ones(2), lambda m: m.zeros(2), lambda m: m.randn(2), lambda m: m.rand(2),
            lambda m: m.tensor([1.5]), lambda m: m.arange(0.0, 2.0), lambda m: m.linspace(0, 1, 3),
            lambda m: m.eye(2), lambda m: m.full((2,), 1.5), lambda m: m.Tensor([1, 2]),
            lambda m: m.tensor([1, 2]) / 2, lambda m: m.tensor([1, 2]).exp(),
            lambda m: m.nn.Linear(2, 3).weight, lambda m: m.nn.GRU(2, 3).weight_hh_l0,
        ]
        for make in makers:
            assert str(make(tr).dtype) == str(make(torch).dtype).removeprefix("torch.")
        assert tr.get_default_dtype() == np.float64 and before.dtype == np.float32
        assert repr(tr.ones(1)) == "tensor([1.])"  # the default dtype is not shown
        with pytest.raises(TypeError, match="floating-point dtype, got int64"):
            tr.set_default_dtype(tr.int64)
    finally:
        tr.set_default_dtype(tr.float32)
        torch.set_default_dtype(old)
    assert tr.ones(1).dtype == np.float32


# ---- from a review of the new names ----------------------------------------------------------


@pytest.mark.torch
def test_second_review_fixes_match_torch():
    torch = pytest.importorskip("torch")
    a = tr.arange(3.0)
    b = a.roll(0, 0)  # a new tensor, not a itself
    b += 1
    assert a.numpy().tolist() == [0.0, 1.0, 2.0]
    assert tr.arange(3.0).roll(np.int64(1)).numpy()[0] == 2
    for name, args in (("sqrt_", ()), ("exp_", ()), ("pow_", (0.5,)), ("clamp_", (0.5, 2.5))):
        with pytest.raises(TypeError, match=rf"{name}: the result is float32, which cannot be "
                                            r"stored in this int64 tensor"):
            getattr(tr.tensor([4, 9]), name)(*args)
        with pytest.raises(RuntimeError):
            getattr(torch.tensor([4, 9]), name)(*args)
    z = tr.tensor([1, 2])
    z.copy_(tr.tensor([1.7, 2.2]))  # copy_ converts, as torch's
    assert z.numpy().tolist() == torch.tensor([1, 2]).copy_(torch.tensor([1.7, 2.2])).tolist()
    x = tr.tensor([7, -7])
    for mode in ("trunc", "floor"):
        assert tr.div(x, 2, rounding_mode=mode).numpy().tolist() == torch.div(
            torch.tensor([7, -7]), 2, rounding_mode=mode).tolist()
    f = np.array([1.0, 2.0, 4.0])
    np.testing.assert_allclose(tr.std(tr.tensor(f), unbiased=False).item(),
                               torch.std(torch.tensor(f), unbiased=False).item())
    np.testing.assert_allclose(tr.pow(2, tr.tensor(f)).numpy(), torch.pow(2, torch.tensor(f)))
    np.testing.assert_allclose(tr.sub(1, tr.tensor(f)).numpy(), torch.sub(1, torch.tensor(f)))
    assert tr.Tensor(tr.ones(2, 3).size()[1:]).shape == (3,) and tr.Tensor(tr.Size([])).shape == ()
    u = tr.arange(4.0)
    with pytest.raises(RuntimeError, match="fill_ into the result of unfold"):
        u.unfold(0, 2, 1).fill_(1.0)  # as torch: windows overlap
    with pytest.raises(RuntimeError, match="into the result of expand"):
        u[:1].expand(3).add_(1.0)
    w = tr.ones(2, 3)
    w.T.contiguous().fill_(2.0)  # a copy, as torch's
    w.repeat(1, 1).fill_(2.0)
    assert (w.numpy() == 1).all() and tr.tensor([True, False]).square().dtype == np.int64
    ein = tr.einsum("ij,jk->ik", tr.ones(2, 1), tr.ones(3, 4))  # size 1 broadcasts
    assert ein.shape == tuple(torch.einsum("ij,jk->ik", torch.ones(2, 1), torch.ones(3, 4)).shape)
    g = tr.Generator().manual_seed(-1)
    assert tr.rand_like(tr.ones(2), generator=g).shape == (2,)
    tr.ones(3).uniform_(0, 1, generator=g)
    assert tr.nn.functional.pad(tr.ones(1, 3), (1, 1), "reflect", 0.0).shape == (1, 5)


def test_assert_close_mixed_dtypes_integers_and_none():
    from tinygrad_rnn.testing import assert_close

    assert_close(tr.tensor([1.0]), tr.tensor([1.000001], dtype="float64"), check_dtype=False)
    assert_close(None, None)
    with pytest.raises(AssertionError, match="not equal"):
        assert_close(tr.tensor([2**62 + 1]), tr.tensor([2**62]))  # exactly, not via float64
    with pytest.raises(AssertionError, match="None"):
        assert_close(None, tr.ones(1))


@pytest.mark.torch
def test_lambda_schedules_load_torchs_state_dicts():
    torch = pytest.importorskip("torch")
    from tinygrad_rnn import optim

    def lam(t):
        return 0.9 ** t

    t_opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    for kind in ("LambdaLR", "MultiplicativeLR"):
        theirs = getattr(torch.optim.lr_scheduler, kind)(t_opt, lam)
        t_opt.step()
        theirs.step()
        ours = getattr(optim.lr_scheduler, kind)(optim.SGD([tr.nn.Parameter(tr.zeros(1))],
                                                           lr=0.1), lam)
        ours.load_state_dict(theirs.state_dict())  # lr_lambdas: [None] is taken
        assert ours.last_epoch == theirs.last_epoch


def test_small_gaps_from_the_second_review():
    assert tr.ones(3).prod(dtype=tr.int32).dtype == np.int32
    assert tr.tensor(3.0).roll(1).shape == ()
    with pytest.raises(TypeError, match="lerp takes floating-point tensors, got int64"):
        tr.tensor([1, 2]).lerp(tr.tensor([3, 4]), 0.5)
    with pytest.raises(ValueError, match="select: a 0-d tensor has no axis"):
        tr.tensor(3.0).select(0, 0)
    with pytest.raises(ValueError, match="roll: a 0-d tensor has no axis"):
        tr.tensor(3.0).roll(1, 0)


@pytest.mark.torch
@pytest.mark.parametrize("device", DEVICES)
def test_repeat_interleave_of_counts_alone_as_torch(device):
    torch = pytest.importorskip("torch")
    counts = [2, 1, 0, 3]
    assert tr.repeat_interleave(tr.tensor(counts, device=device)).numpy().tolist() == \
        torch.repeat_interleave(torch.tensor(counts)).tolist()
    with pytest.raises(ValueError, match="the counts must be a 1-D integer tensor"):
        tr.repeat_interleave(tr.ones(3))


@pytest.mark.torch
def test_shape_is_a_size_as_torch():
    torch = pytest.importorskip("torch")
    x, t = tr.zeros(2, 3, 4), torch.zeros(2, 3, 4)
    for ours, theirs in ((x.shape, t.shape), (x.size(), t.size()), (x.shape[1:], t.shape[1:]),
                         (x.shape + (5,), t.shape + (5,))):
        assert isinstance(ours, tr.Size) and isinstance(ours, tuple)
        assert ours == tuple(theirs) and ours.numel() == theirs.numel()
    assert x.shape[-1] == 4 and isinstance(x.shape[-1], int)
    assert tr.Tensor(x.shape).shape == (2, 3, 4)  # sizes, as torch.Tensor(t.shape)
    assert tr.tensor(x.shape).tolist() == torch.tensor(t.shape).tolist()  # data, as torch's
    assert repr(x.shape) == "(2, 3, 4)" and tr.zeros(()).shape.numel() == 1


@pytest.mark.torch
def test_shape_refusals_are_runtime_errors_as_torch():
    torch = pytest.importorskip("torch")
    cases = [
        (lambda m: m.ones(2) + m.ones(3), RuntimeError),
        (lambda m: m.ones(2, 3) @ m.ones(2, 3), RuntimeError),
        (lambda m: m.ones(2, 3).view(4), RuntimeError),
        (lambda m: m.cat([m.ones(2, 3), m.ones(2, 4)]), RuntimeError),
        (lambda m: m.ones(2)[5], IndexError),
        (lambda m: m.nn.LSTM(3, 4)(m.ones(5, 2, 2)), RuntimeError),
        (lambda m: m.nn.GRU(2, 4)(m.ones(5, 2, 2), m.ones(1, 3, 4)), RuntimeError),
        (lambda m: m.ones(2).__setitem__(5, 1.0), IndexError),
        (lambda m: m.ones(2, 3).__setitem__(0, m.ones(4)), RuntimeError),
        (lambda m: m.ones(3).index_put_((m.tensor([7]),), m.tensor(1.0)), IndexError),
    ]
    for f, kind in cases:
        for module in (torch, tr):
            with pytest.raises(kind):
                f(module)
        with pytest.raises(ValueError):  # ours stays a ValueError, as before
            f(tr)


@pytest.mark.torch
def test_dtype_refusals_are_runtime_errors_as_torch():
    torch = pytest.importorskip("torch")
    cases = [
        lambda m: m.ones(2, 2) @ m.ones(2, 2, dtype=m.float64),
        lambda m: m.tensor([4, 9]).sqrt_(),
        lambda m: m.ones(3).index_add_(0, m.tensor([0]), m.ones(1, dtype=m.float64)),
        lambda m: m.nn.functional.linear(m.ones(2, 2), m.ones(2, 2, dtype=m.float64)),
        lambda m: m.randn_like(m.tensor([1, 2])),
        lambda m: m.tensor([1, 2]).requires_grad_(),
    ]
    for f in cases:
        with pytest.raises(RuntimeError):
            f(torch)
        with pytest.raises(RuntimeError):
            f(tr)
        with pytest.raises(TypeError):  # ours stays a TypeError, as before
            f(tr)


@pytest.mark.torch
@pytest.mark.parametrize("dtype", ["int64", "int32", "bool"])
@pytest.mark.parametrize("name", ["mean", "var", "std", "nanmean", "var_mean", "std_mean"])
def test_moments_of_integers_are_refused_as_torch(name, dtype):
    """The mean, variance and standard deviation of an integer or bool tensor are refused
    (torch: RuntimeError); ``mean`` takes them with a floating-point ``dtype=``, as torch."""
    torch = pytest.importorskip("torch")
    a = np.array([[1, 0, 4], [2, 1, 1]]).astype(dtype)
    with pytest.raises(RuntimeError):
        getattr(torch, name)(torch.tensor(a))
    with pytest.raises(RuntimeError, match="float"):
        getattr(tr, name)(tr.tensor(a))
    if name == "mean":
        ours = getattr(tr.tensor(a), name)(1, dtype=tr.float64)
        theirs = getattr(torch.tensor(a), name)(1, dtype=torch.float64)
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-15)


@pytest.mark.torch
def test_version_counter_as_torchs():
    """``x._version`` counts in-place writes into a tensor's memory, shared by its views and
    detached aliases, as PyTorch's version counter; an optimizer's step counts one."""
    torch = pytest.importorskip("torch")
    seen = []
    for lib in (tr, torch):
        x = lib.ones(3, 4)
        v, d = x[0], x.detach()
        out = [x._version]
        x.add_(1)
        out.append((x._version, v._version, d._version))
        v.mul_(2)
        d.zero_()
        out.append((x._version, v._version, d._version))
        x[1] = 5
        x.t().fill_(1)
        out.append(x._version)
        p = lib.nn.Parameter(lib.ones(2))
        opt = lib.optim.SGD([p], lr=0.1)
        p.grad = lib.ones(2)
        opt.step()
        out.append((p._version, (x * 2)._version))
        seen.append(out)
    assert seen[0] == seen[1]


@pytest.mark.torch
def test_version_counter_of_data_is_its_own_as_torchs():
    """``x.data`` has a version counter of its own, as PyTorch's (its writes, and its views',
    do not count in ``x._version``, nor x's in its), where ``detach()`` shares x's."""
    torch = pytest.importorskip("torch")
    seen = []
    for lib in (tr, torch):
        x = lib.zeros(3, requires_grad=True)
        with lib.no_grad():
            x.add_(1)
        out = [x._version]
        x.data.add_(1)
        out.append(x._version)
        x.detach().add_(1)
        out.append(x._version)
        y = lib.zeros(2, 3)
        y.add_(1)
        d = y.data
        out.append(d._version)
        d[0].mul_(2)
        out.append((d._version, y._version))
        y.add_(1)
        out.append((d._version, y._version, y.tolist(), x.tolist()))
        seen.append(out)
    assert seen[0] == seen[1]
