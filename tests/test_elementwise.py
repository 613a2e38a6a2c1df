"""Elementwise ops: values against NumPy, gradients against central differences (float64, drawn
shapes, broadcasting), second derivatives, and the edge cases each docstring promises."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_rnn as tr
from tinygrad_rnn.testing import gradcheck, gradgradcheck
from tinygrad_rnn.testing import strategies as tst

from .conftest import DEVICES

BINARY = {
    "add": (lambda a, b: a + b, np.add),
    "sub": (lambda a, b: a - b, np.subtract),
    "mul": (lambda a, b: a * b, np.multiply),
    "div": (lambda a, b: a / b, np.divide),
    "pow": (lambda a, b: a**b, np.power),
    "maximum": (lambda a, b: tr.maximum(a, b), np.maximum),
    "minimum": (lambda a, b: tr.minimum(a, b), np.minimum),
}


def _binary_inputs(name: str, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Keep each op away from its singular points and kinks, where differences lie."""
    if name == "div":
        b = np.where(np.abs(b) < 0.5, 0.5 + np.abs(b), b)
    if name == "pow":
        a = 0.5 + np.abs(a)
    if name in ("maximum", "minimum"):  # no ties within eps
        b = np.where(np.abs(a - b) < 1e-3, b + 0.1, b)
    return a, b


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("name", list(BINARY))
@given(shapes=tst.broadcastable_shapes(2), data=st.data())
def test_binary_op_values_and_gradients_broadcast(name, device, shapes, data):
    op, ref = BINARY[name]
    a = data.draw(tst.arrays(shapes[0]))
    b = data.draw(tst.arrays(shapes[1]))
    a, b = _binary_inputs(name, a, b)
    ta = tr.tensor(a, device=device, requires_grad=True)
    tb = tr.tensor(b, device=device, requires_grad=True)
    out = op(ta, tb)
    np.testing.assert_allclose(out.numpy(), ref(a, b), rtol=1e-12)
    assert out.shape == np.broadcast_shapes(a.shape, b.shape)
    assert gradcheck(op, [ta, tb])
    assert gradgradcheck(op, [ta, tb])


UNARY = {
    "neg": (lambda x: -x, np.negative, None),
    "exp": (lambda x: x.exp(), np.exp, None),
    "log": (lambda x: x.log(), np.log, "positive"),
    "sqrt": (lambda x: x.sqrt(), np.sqrt, "positive"),
    "tanh": (lambda x: x.tanh(), np.tanh, None),
    "sigmoid": (lambda x: x.sigmoid(), lambda a: 1 / (1 + np.exp(-a)), None),
    "relu": (lambda x: x.relu(), lambda a: np.maximum(a, 0), "nonzero"),
    "abs": (lambda x: x.abs(), np.abs, "nonzero"),
    "pow_scalar": (lambda x: x**3, lambda a: a**3, None),
    "pow_fraction": (lambda x: x**1.5, lambda a: a**1.5, "positive"),
    "pow_negative": (lambda x: x**-2, lambda a: a**-2.0, "positive"),
    "rpow": (lambda x: 2.0**x, lambda a: 2.0**a, None),
    "clip": (lambda x: x.clip(-1.0, 1.0), lambda a: np.clip(a, -1, 1), "off_bounds"),
    "clip_low": (lambda x: x.clip(min=0.5), lambda a: np.clip(a, 0.5, None), "off_bounds"),
    "where": (lambda x: tr.where(x > 0, x * x, -x), lambda a: np.where(a > 0, a * a, -a),
              "nonzero"),
}


def _unary_input(kind: str | None, a: np.ndarray) -> np.ndarray:
    if kind == "positive":
        return 0.2 + np.abs(a)
    if kind == "nonzero":
        return np.where(np.abs(a) < 1e-3, 0.5, a)
    if kind == "off_bounds":
        for edge in (-1.0, 0.5, 1.0):
            a = np.where(np.abs(a - edge) < 1e-3, edge + 0.1, a)
    return a


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("name", list(UNARY))
@given(data=st.data())
def test_unary_op_values_and_gradients(name, device, data):
    op, ref, kind = UNARY[name]
    a = _unary_input(kind, data.draw(tst.arrays()))
    x = tr.tensor(a, device=device, requires_grad=True)
    np.testing.assert_allclose(op(x).numpy(), ref(a), rtol=1e-12, atol=1e-300)
    assert gradcheck(op, [x])
    assert gradgradcheck(op, [x])


@pytest.mark.parametrize("device", DEVICES)
@given(data=st.data())
def test_casts_and_moves_are_differentiable_twice(device, data):
    x = tr.tensor(data.draw(tst.arrays()), device=device, requires_grad=True)
    # through float32 and back: differences of a quadratic, with float32 rounding in them
    cast = lambda t: (t.astype("float32") * t.astype("float32")).astype("float64")  # noqa: E731
    loose = dict(eps=1e-3, atol=1e-3, rtol=1e-2)
    assert gradcheck(cast, [x], **loose) and gradgradcheck(cast, [x], **loose)
    other = "strict" if device == "cpu" else "cpu"  # ToDevice there and back
    move = lambda t: (t.to(other) * t.to(other)).to(device)  # noqa: E731
    assert move(x).device == device
    assert gradcheck(move, [x]) and gradgradcheck(move, [x])


@pytest.mark.parametrize("device", DEVICES)
def test_sigmoid_is_stable_at_huge_inputs(device):
    x = tr.tensor([-1e4, -1000.0, -50.0, 0.0, 50.0, 1000.0, 1e4], device=device,
                  requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = x.sigmoid()
        y.sum().backward()
    np.testing.assert_allclose(y.numpy(), [0, 0, 0, 0.5, 1, 1, 1], atol=1e-20)
    assert np.all(np.isfinite(x.grad.numpy()))


def sigmoid_reference(a: np.ndarray) -> np.ndarray:
    """σ in extended precision, rounded to a's dtype."""
    return (1 / (1 + np.exp(-a.astype(np.longdouble)))).astype(a.dtype)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_sigmoid_is_accurate_relative_to_its_value(device, dtype):
    """A few units in the last place, relative, down to where σ underflows (as PyTorch): a
    saturated gate's tiny value counts, e.g. in a product with a huge one."""
    low = -87.0 if dtype == "float32" else -708.0
    a = np.concatenate([np.linspace(low, 40.0, 4001), [-17.0, -30.0, -1e-8, 0.0, 1e-8]])
    a = a.astype(dtype)
    got = tr.tensor(a, device=device).sigmoid().numpy()
    want = sigmoid_reference(a)
    ulp = np.finfo(dtype).eps
    np.testing.assert_allclose(got, want, rtol=4 * ulp, atol=0)


def test_pow_exponent_gradient_at_zero_and_negative_base():
    base = tr.tensor([0.0, -2.0, 2.0], dtype="float64", requires_grad=True)
    e = tr.tensor([2.0, 2.0, 2.0], dtype="float64", requires_grad=True)
    (base**e).sum().backward()
    ge = e.grad.numpy()
    assert ge[0] == 0  # limit of 0**e * log 0 for e > 0, as PyTorch
    assert np.isnan(ge[1])  # no real log of a negative base
    np.testing.assert_allclose(ge[2], 4 * np.log(2))
    np.testing.assert_allclose(base.grad.numpy(), [0.0, -4.0, 4.0])


@pytest.mark.parametrize("op", [tr.maximum, tr.minimum])
def test_maximum_minimum_split_gradient_at_ties(op):
    a = tr.tensor([1.0, 2.0], requires_grad=True)
    b = tr.tensor([1.0, 3.0], requires_grad=True)
    op(a, b).sum().backward()
    assert a.grad.numpy()[0] == 0.5 and b.grad.numpy()[0] == 0.5
    assert a.grad.numpy()[1] + b.grad.numpy()[1] == 1.0


def test_relu_abs_clip_gradients_at_their_kinks_follow_pytorch():
    x = tr.tensor([0.0, -1.0, 1.0], requires_grad=True)
    (x.relu() + x.abs() + x.clip(-1.0, 1.0)).sum().backward()
    # relu'(0) = 0, abs'(0) = 0, clip passes the gradient at its bounds (inclusive)
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 0.0, 3.0])


def test_relu_blocks_an_infinite_gradient_where_it_is_flat():
    """As PyTorch: relu's backward selects, so an infinite upstream gradient where x <= 0 gives
    0 there, not inf * 0 = NaN; and relu keeps a NaN input and passes its gradient."""
    x = tr.tensor([-1.0, 0.0, 2.0, np.nan], requires_grad=True)
    y = x.relu()
    y.backward(tr.tensor([np.inf, np.inf, 1.0, 1.0]))
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.0, 1.0, 1.0])
    assert np.isnan(y.numpy()[3])


def test_clip_blocks_an_infinite_gradient_outside_its_bounds():
    """As PyTorch's clamp: a select, so an infinite upstream gradient outside [lo, hi] gives 0,
    not NaN; inside, and at the bounds, it passes."""
    x = tr.tensor([-2.0, -1.0, 0.5, 3.0], requires_grad=True)
    x.clip(-1.0, 1.0).backward(tr.tensor([np.inf, 1.0, 1.0, -np.inf]))
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 1.0, 1.0, 0.0])


def test_clip_without_bounds_is_an_error():
    with pytest.raises(ValueError, match="at least one"):
        tr.tensor([1.0]).clip()


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", ["exp", "tanh", "sigmoid", "relu", "abs", "pow_scalar", "neg"])
def test_unary_ops_preserve_dtype(name, dtype):
    op = UNARY[name][0]
    x = tr.tensor([0.5, 1.5], dtype=dtype, requires_grad=True)
    y = op(x)
    y.sum().backward()
    assert y.dtype == np.dtype(dtype) and x.grad.dtype == np.dtype(dtype)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_python_scalars_do_not_promote(dtype):
    x = tr.tensor([1.0, 2.0], dtype=dtype)
    for y in (x + 1, 2 * x, x / 3.0, 1.5 - x, x**2, 2.0**x, x.maximum(0.5)):
        assert y.dtype == np.dtype(dtype)


@pytest.mark.parametrize("device", DEVICES)
def test_mismatched_shapes_name_the_op_and_both_shapes(device):
    a = tr.ones(2, 3, device=device)
    b = tr.ones(4, device=device)
    with pytest.raises(ValueError, match=r"Mul.*\(2, 3\).*\(4,\)"):
        a * b


@pytest.mark.torch
@pytest.mark.parametrize("name", ["exp", "log", "sqrt", "tanh", "sigmoid", "relu", "abs"])
def test_unary_ops_match_torch(name):
    torch = pytest.importorskip("torch")
    a = np.linspace(0.1, 3.0, 7)
    x = tr.tensor(a, requires_grad=True)
    getattr(x, name)().sum().backward()
    t = torch.tensor(a, requires_grad=True)
    getattr(torch, name)(t).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-12)
