"""Reductions (every axis/keepdims combination, ties of max) and matmul (1-D and batched)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import tinygrad_rnn as tr
from tinygrad_rnn.testing import gradcheck, gradgradcheck
from tinygrad_rnn.testing import strategies as tst

from .conftest import DEVICES


def _np_logsumexp(a, axis, keepdims):
    m = np.max(a, axis=axis, keepdims=True)
    out = np.log(np.sum(np.exp(a - m), axis=axis, keepdims=True)) + m
    return out if keepdims else np.squeeze(out, axis=axis if axis is not None else None)


REDUCTIONS = {
    "sum": (lambda x, ax, kd: x.sum(ax, kd), lambda a, ax, kd: a.sum(axis=ax, keepdims=kd)),
    "mean": (lambda x, ax, kd: x.mean(ax, kd), lambda a, ax, kd: a.mean(axis=ax, keepdims=kd)),
    "max": (lambda x, ax, kd: x.amax(ax, kd), lambda a, ax, kd: a.max(axis=ax, keepdims=kd)),
    "min": (lambda x, ax, kd: x.amin(ax, kd), lambda a, ax, kd: a.min(axis=ax, keepdims=kd)),
    "logsumexp": (lambda x, ax, kd: x.logsumexp(ax, kd), _np_logsumexp),
    "var": (lambda x, ax, kd: x.var(ax, keepdims=kd, correction=0),
            lambda a, ax, kd: a.var(axis=ax, keepdims=kd)),
}


def _norm(axis, ndim):
    if axis is None:
        return None
    return tuple(a % ndim for a in ((axis,) if isinstance(axis, int) else axis))


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("name", list(REDUCTIONS))
@given(data=st.data(), keepdims=st.booleans())
def test_reduction_values_and_gradients_over_any_axes(name, device, data, keepdims):
    op, ref = REDUCTIONS[name]
    a = data.draw(tst.arrays(tst.shapes(min_dims=1)))
    if name in ("max", "min"):  # distinct values: the numerical gradient is undefined at ties
        a = a + np.arange(a.size).reshape(a.shape) * 1e-2
        assume(a.size < 2 or np.diff(np.sort(a.ravel())).min() > 1e-4)  # the offset can tie
    axis = data.draw(tst.axes(a.ndim))
    x = tr.tensor(a, device=device, requires_grad=True)
    expected = ref(a, _norm(axis, a.ndim), keepdims)
    out = op(x, axis, keepdims)
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-12, atol=1e-12)
    assert out.shape == np.shape(expected)
    f = lambda t: op(t, axis, keepdims)  # noqa: E731
    assert gradcheck(f, [x])
    assert gradgradcheck(f, [x])


def test_max_splits_the_gradient_evenly_between_ties():
    x = tr.tensor([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]], requires_grad=True)
    x.amax(axis=1).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [[0, 0.5, 0.5], [1 / 3, 1 / 3, 1 / 3]])
    y = tr.tensor([4.0, 4.0], requires_grad=True)
    y.min().backward()
    np.testing.assert_allclose(y.grad.numpy(), [0.5, 0.5])


def test_var_defaults_to_pytorchs_unbiased_estimate():
    a = np.array([1.0, 2.0, 4.0, 7.0])
    np.testing.assert_allclose(tr.tensor(a).var().item(), a.var(ddof=1), rtol=1e-6)
    with pytest.warns(RuntimeWarning, match="correction"), np.errstate(all="ignore"):
        assert np.isnan(tr.tensor([1.0]).var().item())


def test_logsumexp_is_stable_for_huge_and_minus_infinite_inputs():
    x = tr.tensor([[1e4, 1e4 - 1.0], [-1e4, -1e4]], dtype="float64", requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = x.logsumexp(axis=1)
        y.sum().backward()
    np.testing.assert_allclose(y.numpy(), [1e4 + np.log1p(np.exp(-1.0)), -1e4 + np.log(2)])
    np.testing.assert_allclose(x.grad.numpy().sum(axis=1), [1.0, 1.0])
    with np.errstate(divide="ignore"):  # log(0), as NumPy's own logaddexp would say
        z = tr.tensor([-np.inf, -np.inf], dtype="float64").logsumexp()
    assert z.item() == -np.inf  # not NaN


@pytest.mark.parametrize("axis", [3, -4, (0, 0)])
def test_reduction_axis_errors_are_clear(axis):
    with pytest.raises(ValueError, match="axis"):
        tr.ones(2, 3, 4).sum(axis=axis)


MATMUL_SHAPES = [
    ((3,), (3,)), ((3,), (3, 2)), ((2, 3), (3,)), ((2, 3), (3, 4)),
    ((5, 2, 3), (3, 4)), ((2, 3), (5, 3, 4)), ((5, 1, 2, 3), (4, 3, 2)), ((4, 2, 3), (3,)),
]


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("sa,sb", MATMUL_SHAPES)
def test_matmul_follows_numpy_rules_with_gradients(device, sa, sb):
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal(sa), rng.standard_normal(sb)
    ta = tr.tensor(a, device=device, requires_grad=True)
    tb = tr.tensor(b, device=device, requires_grad=True)
    out = ta @ tb
    np.testing.assert_allclose(out.numpy(), a @ b, rtol=1e-12)
    assert gradcheck(lambda x, y: x @ y, [ta, tb])
    assert gradgradcheck(lambda x, y: x @ y, [ta, tb])


@given(data=st.data())
def test_matmul_gradients_on_drawn_batched_shapes(data):
    n, k, m = (data.draw(st.integers(1, 3)) for _ in range(3))
    batch = data.draw(tst.broadcastable_shapes(2, max_dims=2, max_side=3))
    a = data.draw(tst.arrays(batch[0] + (n, k)))
    b = data.draw(tst.arrays(batch[1] + (k, m)))
    ta, tb = tr.tensor(a, requires_grad=True), tr.tensor(b, requires_grad=True)
    np.testing.assert_allclose((ta @ tb).numpy(), a @ b, rtol=1e-10, atol=1e-12)
    assert gradcheck(lambda x, y: x @ y, [ta, tb])


@given(data=st.data())
def test_matmul_of_rows_and_transposed_operands(data):
    """(..., K) @ (K, N) runs as one matrix product, and an operand that is a transposed view
    gets its gradient in its own layout: the values and gradients are those of the formula
    (float64 and complex128, empty axes included), and linear's weight gets a contiguous
    gradient."""
    lead = data.draw(st.lists(st.integers(0, 3), max_size=3), label="leading axes")
    k, n = data.draw(st.integers(0, 4)), data.draw(st.integers(1, 4))
    dtype = data.draw(st.sampled_from(["float64", "complex128"]))
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16)))

    def draw(*shape):
        a = rng.standard_normal(shape)
        return a + 1j * rng.standard_normal(shape) if dtype == "complex128" else a

    a, w = draw(*lead, k), draw(n, k)  # x @ wᵀ, as linear: w a transposed view
    x = tr.tensor(a, requires_grad=True)
    tw = tr.tensor(w, requires_grad=True)
    y = x @ tw.T
    np.testing.assert_allclose(y.numpy(), a @ w.T, rtol=1e-12, atol=1e-12)
    gy = draw(*lead, n)
    y.backward(tr.tensor(gy))
    rows = int(np.prod(lead))
    np.testing.assert_allclose(x.grad.numpy(), gy @ w.conj(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(
        tw.grad.numpy(), gy.reshape(rows, n).T @ a.reshape(rows, k).conj(),
        rtol=1e-12, atol=1e-12)
    assert tw.grad.numpy().flags.c_contiguous
    if dtype == "float64" and rows and k:
        assert gradcheck(lambda u, v: u @ v.T, [x, tw])
        v = tr.tensor(draw(k, *lead[-1:] or [2]), requires_grad=True)  # a transposed left
        assert gradcheck(lambda u, m: u.T @ m.T, [v, tr.tensor(draw(n, k), requires_grad=True)])


def _laid_out(lib, a, layout):
    """A leaf holding ``a`` and the operand made from it in ``layout``: "c" the leaf itself,
    "t" a transposed view of a leaf stored transposed (linear's Wᵀ), "s" a strided slice
    (every other column of a wider leaf)."""
    if layout == "t":
        leaf = lib.tensor(np.ascontiguousarray(np.swapaxes(a, -1, -2)), requires_grad=True)
        return leaf, leaf.transpose(-1, -2)
    if layout == "s":
        wide = np.zeros(a.shape[:-1] + (2 * a.shape[-1],), dtype=a.dtype)
        wide[..., ::2] = a
        leaf = lib.tensor(wide, requires_grad=True)
        return leaf, leaf[..., ::2]
    leaf = lib.tensor(a, requires_grad=True)
    return leaf, leaf


@pytest.mark.torch
@pytest.mark.parametrize("complex_", [False, True], ids=["real", "complex"])
@pytest.mark.parametrize("lx,lw", [(a, b) for a in "cts" for b in "cts"])
@given(data=st.data())
def test_matmul_of_any_layout_matches_torch_to_second_derivatives(lx, lw, complex_, data):
    """x @ w with each operand contiguous, a transposed view or a strided slice, x with any
    leading axes (empty ones too) over a matrix w or a batch of them; real and complex. The
    value, the gradients and (real, under create_graph, where the backward runs on tensors)
    the gradients of a function of the gradients are torch's."""
    torch = pytest.importorskip("torch")
    lead = data.draw(st.lists(st.integers(0, 3), max_size=3), label="leading axes")
    m, k, n = (data.draw(st.integers(0 if i else 1, 3)) for i in range(3))
    w_lead = data.draw(st.sampled_from([(), lead[-1:]]), label="w's batch axes")
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16)))

    def draw(*shape):
        a = rng.standard_normal(shape)
        return a + 1j * rng.standard_normal(shape) if complex_ else a

    a, w, gy = draw(*lead, m, k), draw(*w_lead, k, n), draw(*lead, m, n)
    grads = []
    for lib in (tr, torch):
        (x0, x), (w0, ww) = _laid_out(lib, a, lx), _laid_out(lib, w, lw)
        y = x @ ww
        first = lib.autograd.grad((y * lib.tensor(gy).conj()).real.sum(), [x0, w0],
                                  create_graph=not complex_)
        out = [y.detach().numpy()] + [g.detach().numpy() for g in first]
        if not complex_ and x0.numel() and w0.numel():
            s = (first[0] ** 2).sum() + (first[1] * first[1].tanh()).sum()
            out += [g.numpy() for g in lib.autograd.grad(s, [x0, w0], allow_unused=True)]
        grads.append(out)
    assert len(grads[0]) == len(grads[1])
    for ours, theirs in zip(*grads):
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)


def test_matmul_shape_errors_name_both_shapes():
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(4, 5\)"):
        tr.ones(2, 3) @ tr.ones(4, 5)
    with pytest.raises(ValueError, match="scalars"):
        tr.tensor(2.0) @ tr.ones(2)


@pytest.mark.torch
def test_reductions_match_torch():
    torch = pytest.importorskip("torch")
    a = np.random.default_rng(1).standard_normal((3, 4, 5))
    for ours, theirs in [
        (lambda x: x.logsumexp(axis=(0, 2)), lambda t: torch.logsumexp(t, dim=(0, 2))),
        (lambda x: x.var(axis=1), lambda t: torch.var(t, dim=1)),
        (lambda x: x.amax(axis=-1), lambda t: torch.amax(t, dim=-1)),
    ]:
        x = tr.tensor(a, requires_grad=True)
        t = torch.tensor(a, requires_grad=True)
        y, u = ours(x), theirs(t)
        np.testing.assert_allclose(y.numpy(), u.detach().numpy(), rtol=1e-12)
        (y * y).sum().backward()
        (u * u).sum().backward()
        np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-10)
