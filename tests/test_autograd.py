"""The engine: accumulation, long chains, freeing the graph, grad modes, retain_grad,
non-scalar backward, second derivatives, and dtypes end to end."""

from __future__ import annotations

import gc
import weakref

import numpy as np
import pytest

import tinygrad_rnn as tr
from tinygrad_rnn.autograd import FREED_GRAPH_MSG

from .conftest import DEVICES


@pytest.mark.parametrize("device", DEVICES)
def test_engine_reused_node_gets_both_paths(device):
    a = tr.tensor([3.0], device=device, requires_grad=True)
    b = a + a
    c = b * b  # c = 4 a², dc/da = 8 a
    c.sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), [24.0])


def test_engine_gradients_accumulate_across_backward_calls():
    x = tr.tensor([1.0, 2.0], requires_grad=True)
    (x * 3).sum().backward()
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [5.0, 7.0])
    x.grad = None
    (x * 3).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 3.0])


def test_engine_leaf_gradients_never_alias():
    a = tr.tensor([1.0, 2.0], requires_grad=True)
    b = tr.tensor([3.0, 4.0], requires_grad=True)
    (a + b).sum().backward()
    a.grad._data *= 10  # an optimizer scaling one gradient in place must not touch the other
    np.testing.assert_allclose(b.grad.numpy(), [1.0, 1.0])
    g = tr.tensor([1.0, 1.0])
    a.grad = None
    a.backward(g)  # a leaf's own backward: its gradient is a copy of the given one
    a.grad._data *= 10
    np.testing.assert_allclose(g.numpy(), [1.0, 1.0])
    for impl in ("fused", "composed"):  # one op whose backward hands one array to two inputs
        lstm = tr.nn.LSTM(2, 3, impl=impl)
        lstm(tr.randn(4, 1, 2))[0].sum().backward()
        before = lstm.bias_hh_l0.grad.numpy().copy()
        lstm.bias_ih_l0.grad._data *= 10
        # compare with its own copy: the composed path sums the two bias gradients in
        # different orders, so in float32 they may differ in the last bits
        np.testing.assert_array_equal(lstm.bias_hh_l0.grad.numpy(), before)


@pytest.mark.parametrize("device", ["cpu", "strict"])
def test_engine_backprops_a_10000_step_chain_without_recursion(device):
    x = tr.tensor([0.5], device=device, requires_grad=True)
    h = x
    for _ in range(10_000):
        h = (h * 0.9999).tanh() + 0.0
    h.sum().backward()
    assert x.grad is not None and np.isfinite(x.grad.numpy()).all()


def test_engine_frees_the_graph_after_backward():
    x = tr.tensor([1.0, 2.0], requires_grad=True)
    h = x * 2
    y = (h.exp() * h).sum()
    saved = weakref.ref(h)
    del h
    gc.collect()
    assert saved() is not None  # kept alive by the graph behind y
    y.backward()
    assert saved() is None  # released as soon as backward walked past it, y still alive


def test_engine_second_backward_through_freed_graph_explains_detach():
    x = tr.tensor([1.0], requires_grad=True)
    h = (x * 2).tanh()
    (h * 3).sum().backward()
    with pytest.raises(RuntimeError, match="detach") as e:
        (h * 4).sum().backward()
    assert "retain_graph" in str(e.value) and str(e.value) == FREED_GRAPH_MSG


def test_engine_retain_graph_allows_a_second_backward():
    x = tr.tensor([1.0], requires_grad=True)
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), [4.0])


def test_engine_detach_cuts_the_graph_for_truncated_bptt():
    x = tr.tensor([1.0], requires_grad=True)
    h = (x * 2).tanh()
    (h * 3).sum().backward()
    h = h.detach()
    w = tr.tensor([2.0], requires_grad=True)
    (h * w).sum().backward()  # no error: the old graph is not needed
    np.testing.assert_allclose(w.grad.numpy(), h.numpy())
    assert not h.requires_grad and h.is_leaf


def test_engine_no_grad_records_nothing_and_restores():
    x = tr.tensor([1.0], requires_grad=True)
    with tr.no_grad():
        y = x * 2
        assert not tr.is_grad_enabled()
        with tr.enable_grad():
            z = x * 2
    assert tr.is_grad_enabled()
    assert not y.requires_grad and y.grad_fn is None
    assert z.requires_grad and z.grad_fn is not None


def test_engine_retain_grad_keeps_a_non_leaf_gradient():
    x = tr.tensor([1.0, 2.0], requires_grad=True)
    h = x * 3
    h.retain_grad()
    k = x * 5
    (h * h + k).sum().backward()
    np.testing.assert_allclose(h.grad.numpy(), 2 * h.numpy())
    assert k.grad is None  # only asked-for non-leaves keep one
    assert not h.is_leaf and x.is_leaf


@pytest.mark.parametrize("create_graph", [False, True])
def test_engine_retained_gradients_are_tensors_of_their_own(create_graph):
    x = tr.tensor([1.0, 2.0], requires_grad=True)
    a, b = x * 2, x * 3
    a.retain_grad()
    b.retain_grad()
    (a + b).sum().backward(create_graph=create_graph)  # one gradient reaches both
    assert a.grad is not b.grad and not np.shares_memory(a.grad.numpy(), b.grad.data)
    np.testing.assert_array_equal(a.grad.numpy(), [1.0, 1.0])


def test_engine_backward_with_gradient_for_non_scalar_outputs():
    x = tr.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * x
    with pytest.raises(RuntimeError, match="scalar outputs"):
        y.backward()
    with pytest.raises(ValueError, match=r"shape \(2,\).*\(3,\)"):
        y.backward(np.ones(2))
    assert x.grad is None  # nothing changed by the failed calls
    y.backward(gradient=tr.tensor([1.0, 0.5, 0.0]))
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 2.0, 0.0])


def test_engine_backward_on_a_tensor_without_grad_is_an_error():
    with pytest.raises(RuntimeError, match="does not require grad"):
        (tr.ones(2) * 2).sum().backward()


def test_engine_backward_on_a_leaf_sets_its_grad():
    x = tr.tensor(2.0, requires_grad=True)
    x.backward()
    assert x.grad.item() == 1.0


def test_engine_second_derivative_of_a_gradient_norm():
    # f(w) = sum(tanh(w x)); penalty = |df/dw|²; compare with the closed form
    xv = np.array([0.3, -1.2, 0.7])
    w = tr.tensor(0.8, dtype="float64", requires_grad=True)
    x = tr.tensor(xv, dtype="float64")
    (g,) = tr.grad((w * x).tanh().sum(), w, create_graph=True)
    penalty = g * g
    penalty.backward()
    t = np.tanh(0.8 * xv)
    gv = np.sum(xv * (1 - t**2))
    dg = np.sum(xv * (-2 * t * (1 - t**2) * xv))
    np.testing.assert_allclose(g.item(), gv)
    np.testing.assert_allclose(w.grad.item(), 2 * gv * dg)


def test_engine_create_graph_backward_gives_differentiable_grad():
    x = tr.tensor([1.0, 2.0], dtype="float64", requires_grad=True)
    (x**3).sum().backward(create_graph=True)
    g = x.grad  # 3x²
    assert g.requires_grad
    x.grad = None
    g.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [6.0, 12.0])


def test_grad_returns_without_touching_dot_grad():
    x = tr.tensor([1.0, 2.0], requires_grad=True)
    y = tr.tensor([1.0], requires_grad=True)
    h = x * 2
    (gx, gh) = tr.grad((h * h).sum(), [x, h], retain_graph=True)
    np.testing.assert_allclose(gx.numpy(), 8 * x.numpy())
    np.testing.assert_allclose(gh.numpy(), 2 * h.numpy())
    assert x.grad is None
    with pytest.raises(RuntimeError, match="allow_unused"):
        tr.grad((x * 2).sum(), [x, y])
    assert tr.grad((x * 2).sum(), [x, y], allow_unused=True)[1] is None


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_engine_dtype_is_preserved_end_to_end(device, dtype):
    x = tr.tensor(np.linspace(0.1, 1, 6).reshape(2, 3), dtype=dtype, device=device,
                  requires_grad=True)
    w = tr.tensor(np.ones((3, 4)), dtype=dtype, device=device, requires_grad=True)
    h = (x @ w).tanh().sigmoid()
    y = tr.functional.log_softmax(h * 2 + 1, axis=1)[:, 1:].logsumexp(axis=0).mean()
    y.backward()
    assert h.dtype == np.dtype(dtype) and y.dtype == np.dtype(dtype)
    assert x.grad.dtype == np.dtype(dtype) and w.grad.dtype == np.dtype(dtype)
    assert x.grad.device == device


def test_engine_casts_a_gradient_back_to_its_inputs_dtype():
    a = tr.tensor([1.0, 2.0], dtype="float32", requires_grad=True)
    b = tr.tensor([3.0, 4.0], dtype="float64", requires_grad=True)
    y = a * b
    assert y.dtype == np.float64
    y.sum().backward()
    assert a.grad.dtype == np.float32 and b.grad.dtype == np.float64


def test_engine_astype_is_differentiable():
    x = tr.tensor([1.0, 2.0], dtype="float32", requires_grad=True)
    y = x.double() * 2
    y.sum().backward()
    assert y.dtype == np.float64 and x.grad.dtype == np.float32
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 2.0])


def test_a_gradient_an_op_keeps_or_was_given_is_copied_into_grad():
    """A leaf's .grad takes a new array without a copy; an array the op saved, or an input's
    data, is copied, so that changing .grad in place changes nothing else."""
    from tinygrad_rnn.tensor import Function

    class ReturnsSaved(Function):
        def forward(self, x):
            self.saved = (self.xp.ones_like(x),)
            return x * 2

        def backward(self, gy):
            return self.saved[0]

    class ReturnsInput(Function):
        def forward(self, x):
            self.saved = (x,)
            return x * 1

        def backward(self, gy):
            return self.saved[0]

    for op in (ReturnsSaved, ReturnsInput):
        x = tr.tensor([1.0, 2.0], requires_grad=True)
        fn_out = op.apply(x)
        kept = fn_out._ctx.saved[0]
        fn_out.sum().backward(retain_graph=True)
        x.grad._data *= 10
        assert not np.shares_memory(x.grad._data, kept) and kept[0] == 1.0


# ---- in-place updates ------------------------------------------------------------------------


@pytest.mark.torch
@pytest.mark.parametrize("device", DEVICES)
def test_manual_sgd_under_no_grad_updates_the_leaf_in_place_as_torch(device):
    """The loop every tutorial writes: w stays the same leaf, requiring grad, and its values
    follow PyTorch's step by step."""
    torch = pytest.importorskip("torch")
    w0 = np.array([1.0, -2.0, 0.5])
    w = tr.tensor(w0, device=device, requires_grad=True)
    tw = torch.tensor(w0, requires_grad=True)
    same = w
    for _ in range(3):
        (w * w * w).sum().backward()
        (tw * tw * tw).sum().backward()
        with tr.no_grad():
            w -= 0.1 * w.grad
            w.grad = None
        with torch.no_grad():
            tw -= 0.1 * tw.grad
            tw.grad = None
    assert w is same and w.requires_grad and w.is_leaf
    np.testing.assert_allclose(w.numpy(), tw.detach().numpy(), rtol=1e-12)


def test_in_place_ops_check_autograd_dtype_and_shape_first():
    w = tr.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="requires grad.*no_grad"):
        w += 1
    x = tr.ones(3)
    x *= tr.tensor([1.0, 2.0, 3.0], dtype="float64")  # float64 result stored in float32
    assert x.dtype == np.float32 and x.numpy().tolist() == [1.0, 2.0, 3.0]
    i = tr.tensor([1, 2, 3])
    with pytest.raises(TypeError, match="cannot be stored"):
        i /= 2
    with pytest.raises(ValueError, match=r"shape \(2, 3\)"):
        x += tr.ones(2, 3)
    np.testing.assert_array_equal(i.numpy(), [1, 2, 3])  # nothing changed by the refusals
    np.testing.assert_array_equal(x.numpy(), [1.0, 2.0, 3.0])


def test_updates_never_reach_what_a_graph_saved():
    """An optimizer step, or += under no_grad, between a forward and its (retained) backward:
    the parameter takes new values in a new array (copy on write), so the backward is the
    gradient of the forward as it ran, not a mix of old and new values (PyTorch refuses it).
    The same for an op's saved output, a detached alias, a layer's weight seen through a view
    (Linear's W.T) and an LSTM's initial state."""
    w = tr.nn.Parameter(tr.tensor([1.0, 2.0], dtype="float64"))
    loss = (w * w).sum()
    loss.backward(retain_graph=True)
    tr.optim.SGD([w], lr=0.1).step()
    assert w.numpy().tolist() == [0.8, 1.6]
    w.grad = None
    loss.backward()
    np.testing.assert_allclose(w.grad.numpy(), [2.0, 4.0])  # 2 w at the forward's w
    x = tr.tensor([0.0, 1.0], dtype="float64", requires_grad=True)
    y = x.exp()
    with tr.no_grad():
        y += 1
        alias = x.detach()
        alias += 1  # reaches x, as in PyTorch; y's graph keeps the x it saw
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.exp([0.0, 1.0]))
    np.testing.assert_array_equal(x.numpy(), [1.0, 2.0])
    tr.manual_seed(0)
    lin = tr.nn.Linear(3, 2, dtype="float64")
    xin = tr.randn(4, 3, dtype="float64", requires_grad=True)
    out = lin(xin).sum()
    out.backward(retain_graph=True)
    first = xin.grad.numpy().copy()
    tr.optim.SGD(lin.parameters(), lr=1.0).step()
    xin.grad = None
    out.backward()
    np.testing.assert_array_equal(xin.grad.numpy(), first)
    lstm = tr.nn.LSTM(2, 3, dtype="float64")
    h0, c0 = tr.randn(1, 1, 3, dtype="float64"), tr.randn(1, 1, 3, dtype="float64")
    seq = tr.randn(4, 1, 2, dtype="float64")
    for impl in ("fused", "composed"):
        lstm.impl = impl
        lstm.zero_grad()
        o = lstm(seq, (h0, c0))[0].sum()
        o.backward(retain_graph=True)
        want = lstm.weight_hh_l0.grad.numpy().copy()
        with tr.no_grad():
            h0 += 10
        lstm.zero_grad()
        o.backward()
        np.testing.assert_array_equal(lstm.weight_hh_l0.grad.numpy(), want)
        with tr.no_grad():
            h0 -= 10


def test_no_grad_decorates_with_or_without_parentheses():
    x = tr.ones(2, requires_grad=True)

    @tr.no_grad
    def bare():
        return x * 2

    @tr.no_grad()
    def called():
        return x * 2

    assert not bare().requires_grad and not called().requires_grad
    assert (x * 2).requires_grad  # and the mode is back afterwards


@pytest.mark.parametrize("device", DEVICES)
def test_zero_dim_tensors_stay_device_arrays_through_updates(device):
    """NumPy gives scalars for 0-d arithmetic: an update must still leave a device array."""
    x = tr.tensor(1.0, device=device)
    x += 1
    w = tr.nn.Parameter(tr.tensor(2.0, device=device))
    w.grad = tr.tensor(1.0, device=device)
    for opt in (tr.optim.SGD([w], lr=0.1, momentum=0.9), tr.optim.Adam([w], lr=0.1),
                tr.optim.AdamW([w], lr=0.1, weight_decay=0.1), tr.optim.RMSprop([w], lr=0.1)):
        opt.step()
    for t in (x, w):
        assert isinstance(t._data, t._dev.array_type) and t.shape == ()
    assert x.item() == 2.0 and (w * 2).item() == pytest.approx(2 * w.item())


def test_second_derivative_after_an_update_is_the_forwards():
    """create_graph through a graph whose input was updated since (copy on write): the
    derivatives are those of the forward as it ran, and still reach the input."""
    x = tr.tensor([1.0, 2.0], dtype="float64", requires_grad=True)
    y = (x * x * x).sum()
    with tr.no_grad():
        x -= 0.5
    (g,) = tr.grad(y, x, create_graph=True)
    (h,) = tr.grad(g.sum(), x)
    np.testing.assert_allclose(g.numpy(), [3.0, 12.0])  # 3 x² at the forward's x
    np.testing.assert_allclose(h.numpy(), [6.0, 12.0])  # 6 x at the forward's x


def test_enable_grad_decorates_with_or_without_parentheses():
    x = tr.ones(2, requires_grad=True)

    @tr.enable_grad
    def bare():
        return x * 2

    with tr.no_grad():
        assert bare().requires_grad


@pytest.mark.parametrize("device", ["strict"])
def test_in_place_with_a_tensor_on_another_device_is_a_clear_error(device):
    x = tr.ones(2, device=device)
    with pytest.raises(ValueError, match="'cpu'.*'strict'|other tensor is on 'cpu'"):
        x += tr.ones(2)


@pytest.mark.torch
def test_grad_of_an_input_given_twice_is_given_twice_as_torch():
    torch = pytest.importorskip("torch")
    a, b = tr.tensor([1.0, 2.0], requires_grad=True), tr.tensor([3.0], requires_grad=True)
    ga1, gb, ga2 = tr.autograd.grad((a * a).sum() * b.sum(), [a, b, a])
    at, bt = torch.tensor([1.0, 2.0], requires_grad=True), torch.tensor([3.0], requires_grad=True)
    expected = torch.autograd.grad((at * at).sum() * bt.sum(), [at, bt, at])
    for g, e in zip((ga1, gb, ga2), expected):
        np.testing.assert_array_equal(g.numpy(), e.numpy())


def _walk(fn):
    """The graph under ``fn`` as nested (name, children) pairs, PyTorch's way of walking it:
    ``name()`` and ``next_functions``."""
    if fn is None:
        return None
    return fn.name(), [_walk(f) for f, _ in fn.next_functions]


@pytest.mark.torch
def test_grad_fn_walks_like_torchs():
    """``y.grad_fn.name()`` and ``next_functions`` give PyTorch's names and structure: an op
    per node, ``AccumulateGrad`` (whose ``variable`` is the leaf) at a leaf that requires
    grad, None at an input that needs none; the repr names the node as PyTorch does."""
    torch = pytest.importorskip("torch")
    graphs = []
    for lib in (tr, torch):
        a, b, c = (lib.ones(2, requires_grad=True), lib.ones(2, requires_grad=True),
                   lib.ones(2))
        y = ((a * b + c).tanh().exp() * b).sigmoid()
        graphs.append(_walk(y.grad_fn))
        mul = y.grad_fn.next_functions[0][0]
        assert mul.next_functions[1][0].variable is b
        assert repr(y).endswith("grad_fn=<SigmoidBackward0>)")
    assert graphs[0] == graphs[1]
    x = tr.ones(2, requires_grad=True)
    z = (x * 2).sum()
    assert z.grad_fn.next_functions[0][0].name() == "MulBackward0"
    z.backward()
    assert z.grad_fn.next_functions == ()  # the graph is freed (PyTorch keeps its shape)


@pytest.mark.torch
def test_a_leaf_has_one_accumulate_grad_node_as_in_torch():
    """A walk that compares nodes by identity (as torchviz's) finds each leaf's
    AccumulateGrad once, however many ops use the leaf: the same count as PyTorch's."""
    torch = pytest.importorskip("torch")
    counts = []
    for lib in (tr, torch):
        x, c = lib.ones(2, requires_grad=True), lib.ones(2, requires_grad=True)
        z = (x * x + x) * c
        seen, stack = set(), [z.grad_fn]
        while stack:
            node = stack.pop()
            if node is None or id(node) in seen:
                continue
            seen.add(id(node))
            stack.extend(f for f, _ in node.next_functions)
        counts.append(len(seen))
        assert z.grad_fn.next_functions[1][0].variable is c
    assert counts[0] == counts[1]
