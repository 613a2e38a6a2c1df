"""Views, as PyTorch's: a write into a part or view of a tensor reaches the tensor, a write
into the tensor reaches its views, and ``x.data`` is a tensor outside the graph. Arrays are
never written in place here (copy on write), so the engine passes each write on
(``Tensor._overwrite``, ``_ViewOf``): these tests hold it to torch's values and gradients and
to central differences."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_rnn as tr
from tinygrad_rnn import nn
from tinygrad_rnn.testing import gradcheck, gradgradcheck

from .conftest import DEVICES

# steps of a chain of views, each with the shapes it applies to; the same code runs on both
# frameworks (m is tr or torch)
STEPS = {
    "row": (lambda t: t[1], lambda s: len(s) >= 1 and s[0] >= 2),
    "tail": (lambda t: t[:, 1:], lambda s: len(s) >= 2 and s[1] >= 2),
    "step": (lambda t: t[::2], lambda s: len(s) >= 1),
    "swap": (lambda t: t.transpose(0, -1), lambda s: len(s) >= 2),
    "permute": (lambda t: t.permute(*reversed(range(t.ndim))), lambda s: len(s) >= 1),
    "unsqueeze": (lambda t: t.unsqueeze(1), lambda s: 1 <= len(s) <= 3),
    "flat": (lambda t: t.reshape(-1), None),  # only where the tensor is contiguous (a view)
    "detach": (lambda t: t.detach(), lambda s: True),
    "data": (lambda t: t.data, lambda s: True),
}
# in-place writes; "other" is a tensor of the view's shape that may require grad
WRITES = {
    "add_": lambda v, other: v.add_(other, alpha=0.5),
    "mul_": lambda v, other: v.mul_(other),
    "fill_": lambda v, other: v.fill_(0.25),
    "copy_": lambda v, other: v.copy_(other * 3.0),
    "setitem": lambda v, other: v.__setitem__(..., other.sin()),
    "iadd": lambda v, other: v.__iadd__(other * other),
    "clamp_": lambda v, other: v.clamp_(-0.3, 0.4),
    "tanh_": lambda v, other: v.tanh_(),
}


@st.composite
def view_chains(draw, max_steps=3):
    shape = draw(st.lists(st.integers(1, 4), min_size=1, max_size=3).map(tuple))
    chain, s, contiguous = [], shape, True
    for _ in range(draw(st.integers(1, max_steps))):
        names = [n for n, (_, fits) in STEPS.items()
                 if (fits(s) if fits is not None else contiguous)]
        name = draw(st.sampled_from(names))
        chain.append(name)
        s = STEPS[name][0](tr.zeros(*s)).shape
        if name in ("swap", "permute", "step", "tail"):
            contiguous = False
    return shape, chain, draw(st.sampled_from(sorted(WRITES))), s


def _run(m, a, o, chain, write):
    """x = a * 1 (a result, so writes are recorded); an early use of x; the chain of views
    and the write (``o``: a tensor of the view's shape); then a loss that reads x (new
    values) and the view."""
    x = a * 1.0
    early = (x * 2.0).sum()
    v = x
    for name in chain:
        v = STEPS[name][0](v)
    WRITES[write](v, o)
    loss = early + (x * x).sum() + (v * 1.5).sum()
    return x, v, loss


@pytest.mark.torch
@given(case=view_chains(), seed=st.integers(0, 2**16))
def test_writes_through_chains_of_views_match_torch(case, seed):
    torch = pytest.importorskip("torch")
    shape, chain, write, vshape = case
    rng = np.random.default_rng(seed)
    a0, o0 = rng.standard_normal(shape), rng.standard_normal(vshape)
    results = []
    for m in (tr, torch):
        a = m.tensor(a0, requires_grad=True)
        o = m.tensor(o0, requires_grad=True)
        detached = any(n in ("detach", "data") for n in chain)
        if detached:  # above a detach, the write changes values only: o takes no gradient
            o = o.detach()
        x, v, loss = _run(m, a, o, chain, write)
        loss.backward()
        grads = [a.grad] + ([] if detached else [o.grad])
        results.append([x.detach().numpy(), v.detach().numpy()] +
                       [g.numpy() if g is not None else None for g in grads])
    for k, (ours, theirs) in enumerate(zip(*results)):
        if theirs is None:
            assert ours is None or not np.any(ours), f"result {k}"
            continue
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-12,
                                   err_msg=f"result {k}: {chain} {write}")


@pytest.mark.parametrize("device", DEVICES)
@given(case=view_chains(), seed=st.integers(0, 2**16))
def test_writes_through_views_have_the_gradients_of_central_differences(device, case, seed):
    shape, chain, write, vshape = case
    if any(n in ("detach", "data") for n in chain):  # nothing to differentiate through
        chain = [n for n in chain if n not in ("detach", "data", "flat")] or ["permute"]
        vshape = shape
        for name in chain:
            vshape = STEPS[name][0](tr.zeros(*vshape)).shape
    if write == "clamp_":  # kinks: central differences across them are not the derivative
        write = "mul_"
    rng = np.random.default_rng(seed)
    a = tr.tensor(rng.standard_normal(shape), device=device, requires_grad=True)
    o = tr.tensor(rng.standard_normal(vshape), device=device, requires_grad=True)

    def f(a, o):
        return _run(tr, a, o, chain, write)[2]

    assert gradcheck(f, [a, o]) and gradgradcheck(f, [a, o])


@pytest.mark.torch
@given(case=view_chains(), seed=st.integers(0, 2**16))
def test_writes_through_views_without_autograd_match_torch(case, seed):
    """The same under no_grad, with the pieces of split, chunk and unbind too, into a leaf."""
    torch = pytest.importorskip("torch")
    shape, chain, write, _ = case
    rng = np.random.default_rng(seed)
    a0, block = rng.standard_normal(shape), rng.standard_normal(64)
    out = []
    for m in (tr, torch):
        with (tr.no_grad() if m is tr else torch.no_grad()):
            x = m.tensor(a0)
            v = x.unbind(0)[-1] if len(shape) > 1 else x.chunk(2, 0)[0]
            for name in chain:
                if STEPS[name][1] is None or STEPS[name][1](tuple(v.shape)):
                    v = STEPS[name][0](v) if name != "flat" or v.is_contiguous() else v
            WRITES[write](v, m.tensor(np.resize(block, tuple(v.shape))))
            out.append((x.numpy().copy(), v.numpy().copy()))
    for ours, theirs in zip(*out):
        np.testing.assert_allclose(ours, theirs, rtol=1e-13, atol=1e-13)


@pytest.mark.torch
def test_views_see_writes_into_their_base_and_their_gradient_flows_from_it():
    """``v = x[0]; x.mul_(2)``: v holds the new values, and an op that uses v afterwards
    differentiates through the write, as in PyTorch."""
    torch = pytest.importorskip("torch")
    got = []
    for m in (tr, torch):
        a = m.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=m.float64, requires_grad=True)
        b = m.tensor([0.5, -1.0], dtype=m.float64, requires_grad=True)
        x = a * 1.0
        v, t = x[0], x.T
        x.mul_(2.0).add_(b)  # both views change
        x[1, 1] = 9.0
        loss = (v * v).sum() + (t * 3.0).sum()
        loss.backward()
        got.append([v.detach().numpy(), t.detach().numpy(), a.grad.numpy(), b.grad.numpy()])
    for ours, theirs in zip(*got):
        np.testing.assert_allclose(ours, theirs, rtol=1e-14)


@pytest.mark.torch
def test_p_data_idioms_match_torch():
    """The PyTorch idioms of ``.data``: initialising, updating and zeroing through it changes
    the parameter, unrecorded, even while autograd records; ``d = p.data`` follows p."""
    torch = pytest.importorskip("torch")
    got = []
    for m in (tr, torch):
        lin = m.nn.Linear(3, 2, dtype=m.float64)
        with m.no_grad():
            lin.weight.copy_(m.arange(6.0, dtype=m.float64).reshape(2, 3) / 10)
            lin.bias.zero_()
        held = lin.weight.data
        lin.bias.data.fill_(0.5)
        lin.bias.data[0] = -0.5
        m.nn.init.constant_(lin.weight.data[1], 0.125)
        x = m.tensor([[1.0, -2.0, 3.0]], dtype=m.float64)
        lin(x).sum().backward()
        for p in lin.parameters():
            p.data.add_(p.grad.data, alpha=-0.1)  # a hand-written SGD step
            p.grad.data.mul_(0.0)
        assert not lin.weight.grad.numpy().any()
        got.append([lin.weight.detach().numpy(), lin.bias.detach().numpy(), held.numpy(),
                    lin.weight.requires_grad, lin.weight.data.requires_grad])
    for ours, theirs in zip(*got):
        np.testing.assert_allclose(ours, theirs, rtol=1e-14)
    p = nn.Parameter(tr.zeros(3, 4))
    tr.manual_seed(0)
    assert p.data.uniform_(-1, 1) is not p and p.numpy().std() > 0.3 and p.is_leaf
    nn.init.xavier_uniform_(p.data)  # PyTorch's idiom works here too
    assert p.data is not p.data and isinstance(p.data, tr.Tensor)
    assert np.array_equal(p.data.numpy(), p.numpy()) and not p.data.requires_grad


def test_data_assignment_keeps_the_graph_and_leaves_old_views_alone():
    w = nn.Parameter(tr.ones(2))
    v = w[0:1]
    w.data = tr.tensor([5.0, 6.0])
    assert w.numpy().tolist() == [5.0, 6.0] and w.is_leaf and w.requires_grad
    assert v.numpy().tolist() == [1.0]  # no longer a view of w, as in PyTorch
    with pytest.raises(TypeError, match=r"x.data = a list: give a Tensor or an array"):
        w.data = [1.0, 2.0]
    assert w.numpy().tolist() == [5.0, 6.0]


def test_optimizer_steps_and_loads_reach_views_of_parameters():
    lin = nn.Linear(2, 2)
    held, row = lin.weight.data, lin.weight[0]
    lin(tr.ones(1, 2)).sum().backward()
    tr.optim.SGD(lin.parameters(), lr=0.5).step()
    np.testing.assert_array_equal(held.numpy(), lin.weight.numpy())
    np.testing.assert_array_equal(row.detach().numpy(), lin.weight.numpy()[0])
    lin.load_state_dict({"weight": np.full((2, 2), 3.0, np.float32),
                         "bias": np.zeros(2, np.float32)})
    assert (held.numpy() == 3.0).all() and (row.detach().numpy() == 3.0).all()


@pytest.mark.torch
def test_writes_into_views_of_unnamed_results_match_torch():
    """``lin(x).view(...).masked_fill_(...)``, ``h[:, :3][:, 0] = 0``: a write into a view of a
    result nobody holds is recorded into it, as in PyTorch."""
    torch = pytest.importorskip("torch")
    got = []
    rng = np.random.default_rng(0)
    w0, x0 = rng.standard_normal((6, 4)), rng.standard_normal((2, 4))
    for m in (tr, torch):
        w = m.tensor(w0, requires_grad=True)
        x = m.tensor(x0)
        y = (x @ w.T).view(2, 2, 3).masked_fill_(m.tensor([[True, False, True]]), -1e9)
        z = (x @ w.T)[:, :3]
        z[:, 0] = 0.0
        (y.softmax(-1).pow(2).sum() + (z * z).sum()).backward()
        got.append([y.detach().numpy(), z.detach().numpy(), w.grad.numpy()])
    for ours, theirs in zip(*got):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12)


def test_refused_writes_change_nothing():
    """As PyTorch: a recorded write into a view of a parameter, and any write into the result
    of expand or unfold; the error comes before anything changes."""
    p = nn.Parameter(tr.zeros(2, 3))
    with pytest.raises(RuntimeError, match=r"add_ on a leaf tensor that requires grad .a "
                                           r"parameter., through a view of it,"):
        p.T[0].add_(1.0)
    with pytest.raises(RuntimeError, match=r"fill_ into the result of expand.*shape \(3,\)"):
        x = tr.zeros(3)
        x.expand(2, 3).fill_(1.0)
    with pytest.raises(RuntimeError, match=r"mul_ into the result of unfold"):
        x[:2].unfold(0, 2, 1).mul_(2.0)
    with pytest.raises(TypeError, match="cannot be stored"):
        tr.zeros(2, 3, dtype="int64")[0].sqrt_()
    assert not p.numpy().any() and not x.numpy().any() and p.is_leaf
    with tr.no_grad():
        x.expand(3).fill_(2.0)  # an expand that repeats nothing is a plain view
    assert (x.numpy() == 2.0).all()


def test_a_loop_that_reads_the_buffer_it_writes_stays_linear():
    """A decoder reading its last output from the buffer it writes: each write marks the
    views of the buffer the graph holds (their graph is taken again only if used), so the
    ops recorded grow with the steps, not with their square."""
    w0 = np.random.default_rng(0).standard_normal((3, 3)) * 0.5
    w = tr.tensor(w0, requires_grad=True)
    out = tr.zeros(64, 3, dtype="float64")
    out[0] = tr.ones(3, dtype="float64")
    seen = []
    with tr.debug.trace() as ops:
        for t in range(1, 64):
            out[t] = out[t - 1] @ w
            seen.append(len(ops.records))
    assert seen[-1] - seen[-2] == seen[1] - seen[0]  # the same ops per step, late as early
    out.sum().backward()
    w2 = tr.tensor(w0, requires_grad=True)  # the same, collected in a list
    steps = [tr.ones(3, dtype="float64")]
    for _ in range(1, 64):
        steps.append(steps[-1] @ w2)
    tr.stack(steps).sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), w2.grad.numpy(), rtol=1e-12)


def test_a_module_moved_to_another_dtype_leaves_views_of_its_parameters_behind():
    lin = nn.Linear(2, 2)
    held = lin.weight.data
    lin.to(dtype="float64")
    with tr.no_grad():
        lin.weight.fill_(1.0)
    assert held.dtype == np.float32 and not (held.numpy() == 1.0).all()
    row = lin.weight[0]
    lin.to(dtype="float64")  # nothing changes: views stay views
    with tr.no_grad():
        lin.weight.fill_(2.0)
    assert (row.detach().numpy() == 2.0).all()


def test_filling_a_buffer_step_by_step_keeps_one_buffer_not_one_per_step():
    """``outputs[t] = h`` writes a new array each step (copy on write); the graph keeps only
    what its ops saved, so the old buffers are freed as the loop runs."""
    import tracemalloc

    T, B, H = 60, 16, 32
    w = tr.tensor(np.eye(H, dtype=np.float32) * 0.5, requires_grad=True)
    x = tr.ones(T, B, H)
    one_buffer = T * B * H * 4
    tracemalloc.start()
    try:
        out = tr.zeros(T, B, H)
        h = tr.zeros(B, H)
        for t in range(T):
            h = (x[t] + h @ w).tanh()
            out[t] = h
        held, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert held < 8 * one_buffer  # the buffer, each step's saved arrays; T copies before
    out.sum().backward()
    steps = []  # the same, collected in a list
    w2 = tr.tensor(np.eye(H, dtype=np.float32) * 0.5, requires_grad=True)
    h = tr.zeros(B, H)
    for t in range(T):
        h = (x[t] + h @ w2).tanh()
        steps.append(h)
    tr.stack(steps).sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), w2.grad.numpy(), rtol=1e-6)


@pytest.mark.torch
def test_review_cases_match_torch():
    """A write keeps the tensor's memory layout (so a later reshape is a view, as in
    PyTorch); gradients accumulate into the same ``.grad`` tensor and ``zero_grad(False)``
    zeroes it in place; a 0-d integer tensor indexes as an int (a view); an expand that
    repeats nothing takes writes."""
    torch = pytest.importorskip("torch")
    got = []
    for m in (tr, torch):
        with (tr.no_grad() if m is tr else torch.no_grad()):
            x = m.zeros(2, 3)
            x.T.fill_(2.0)
            r = x.view(6)
            x.add_(100.0)
            y = m.zeros(2, 3)
            y.copy_(m.ones(3, 2).T)
            f = y.flatten()
            f[0] = 7.0
            z = m.zeros(3)
            z[m.tensor(1)].fill_(5.0)
            z.expand(1, 3).add_(1.0)
        a = m.ones(2, requires_grad=True)
        (a * 3).sum().backward()
        held, held_data = a.grad, a.grad.data
        (a * 3).sum().backward()
        after = (held.numpy().tolist(), held_data.numpy().tolist())
        opt = m.optim.SGD([a], lr=0.1)
        opt.zero_grad(set_to_none=False)
        got.append([r.numpy().tolist(), y.numpy().tolist(), x.is_contiguous(),
                    z.numpy().tolist(), after, held.numpy().tolist()])
    assert got[0] == got[1]


def test_views_of_a_parameter_keep_a_write_made_before_its_module_moved():
    lin = nn.Linear(2, 2)
    held = lin.weight.data
    with tr.no_grad():
        lin.weight.fill_(4.0)  # held is dirty: it reads the new values when next read
    lin.to(dtype="float64")
    assert held.dtype == np.float32 and (held.numpy() == 4.0).all()
    with tr.no_grad():
        lin.weight.fill_(5.0)
    assert (held.numpy() == 4.0).all()  # no longer a view of the moved weight


@pytest.mark.torch
def test_second_review_cases_match_torch():
    """A view dirty from an earlier write still learns that its base needs a gradient; a
    .grad that is a view, and an optimizer step on a leaf that is a view, write through;
    contiguous() is C order; old views share the old values after x.data = ...; copy_ into
    a result gives its old history gradient 0 (so momentum keeps moving it)."""
    torch = pytest.importorskip("torch")
    got = []
    for m in (tr, torch):
        p = m.tensor([1.0, 2.0, 3.0], requires_grad=True)
        b = m.zeros(3)
        v = b[:2]
        b.add_(1.0)
        b.copy_(p * 2)
        assert v.requires_grad
        (v * v).sum().backward()
        q = m.ones(3, requires_grad=True)
        flat = m.zeros(6)
        q.grad = flat[3:]
        (q * 2).sum().backward()
        x = m.tensor([[1.0, 2.0], [3.0, 4.0]])
        w = x[0].detach().requires_grad_()
        (w * w).sum().backward()
        m.optim.SGD([w], lr=0.5).step()
        c = x.T.contiguous()
        r = m.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
        d, row = r.data, r[0]
        r.data = m.zeros(2, 2)
        d.add_(100.0)
        a = m.tensor([1.0, 2.0], requires_grad=True)
        s = m.tensor([3.0, 4.0], requires_grad=True)
        e = a * 2
        e.copy_(s * 1)
        e.sum().backward()
        got.append([p.grad.numpy().tolist(), flat.numpy().tolist(), x.numpy().tolist(),
                    c.is_contiguous(), row.detach().numpy().tolist(), a.grad.numpy().tolist()])
    assert got[0] == got[1]


def test_backward_of_a_buffer_filled_step_by_step_holds_no_copy_per_step():
    import tracemalloc

    T, B, H = 60, 16, 32
    w = tr.tensor(np.eye(H) * 0.5, requires_grad=True)
    out = tr.zeros(T, B, H, dtype="float64")
    h = tr.ones(B, H, dtype="float64")
    for t in range(T):
        h = (h @ w).tanh()
        out[t] = h
    tracemalloc.start()
    try:
        out.sum().backward()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 8 * T * B * H * 8  # a few buffers; one per step before
