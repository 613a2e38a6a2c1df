"""The public test tools themselves: gradcheck and gradgradcheck catch what they promise to catch,
the Hypothesis strategies draw what they say, and the "strict" device catches NumPy leaks."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import Phase, find, given, settings
from hypothesis import strategies as st

import tinygrad_rnn as tr
from tinygrad_rnn.testing import GradcheckError, gradcheck, gradgradcheck
from tinygrad_rnn.testing import strategies as tst

from .conftest import DEVICES

# ---- ops with a known defect, to be caught ---------------------------------------------------


class Square(tr.Function):
    """y = x².  VJP: gx = 2 gy x (correct)."""

    def forward(self, x: Any) -> Any:
        self.saved = (x,)
        return x * x

    def backward(self, gy: Any) -> Any:
        (x,) = self.saved
        return 2 * gy * x


class WrongSquare(Square):
    """y = x², with the factor 2 forgotten in backward."""

    def backward(self, gy: Any) -> Any:
        (x,) = self.saved
        return gy * x


class DoubleMutatingGrad(tr.Function):
    """y = 2x with a right gradient, computed by scaling the upstream gradient in place."""

    def forward(self, x: Any) -> Any:
        return 2 * x

    def backward(self, gy: Any) -> Any:
        gy *= 2
        return gy


class TripleMutatingInput(tr.Function):
    """y = 3x with a right gradient, but forward also bumps its input in place."""

    def forward(self, x: Any) -> Any:
        y = 3 * x
        x += 1.0
        return y

    def backward(self, gy: Any) -> Any:
        return 3 * gy


class IdentityOffByOne(tr.Function):
    """y = x, whose backward adds 1: nonzero even for a zero upstream gradient."""

    def forward(self, x: Any) -> Any:
        return x.copy()

    def backward(self, gy: Any) -> Any:
        return gy + 1


class SquareConstantCopy(tr.Function):
    """y = x² with the right gradient in value, but computed from a copy of x kept outside
    ``saved``: under create_graph it is a constant, so the second derivative comes out 0."""

    def forward(self, x: Any) -> Any:
        self.x_copy = x.copy()
        return x * x

    def backward(self, gy: Any) -> Any:
        return gy * 2 * self.x_copy


class NanBackward(tr.Function):
    """y = x, whose backward returns NaN."""

    def forward(self, x: Any) -> Any:
        return x.copy()

    def backward(self, gy: Any) -> Any:
        return gy + float("nan")


class UpcastDouble(tr.Function):
    """y = 2x, right in value, but computed in float64 whatever x's dtype."""

    def forward(self, x: Any) -> Any:
        return x.astype(np.float64) * 2

    def backward(self, gy: Any) -> Any:
        return 2 * gy


class Float64BackwardSquare(Square):
    """y = x², right in value, with a backward that always returns float64."""

    def backward(self, gy: Any) -> Any:
        (x,) = self.saved
        return (2 * gy * x).astype(np.float64)


def t(a: Any, device: str = "cpu", requires_grad: bool = False) -> tr.Tensor:
    return tr.tensor(np.asarray(a, dtype=np.float64), device=device, requires_grad=requires_grad)


X23 = np.array([[0.5, -1.2, 2.0], [1.5, 0.7, -0.3]])  # no zeros: every element tells


# ---- gradcheck -------------------------------------------------------------------------------


CORRECT = {
    "square": (lambda x, y: Square.apply(x) * y, [(2, 3), (3,)]),
    "tanh_sigmoid": (lambda x, y: x.tanh() * y.sigmoid(), [(2, 3), (2, 1)]),
    "mul_broadcast": (lambda x, y: x * y, [(2, 3), (3,)]),
    "matmul": (lambda x, y: x @ y, [(2, 3), (3, 4)]),
    "div_exp": (lambda x, y: x.exp() / (1 + y * y), [(2, 3), (1, 3)]),
}


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("name", list(CORRECT))
@pytest.mark.parametrize("fast_mode", [None, True, False])
def test_gradcheck_passes_for_correct_ops(device, name, fast_mode):
    fn, shapes = CORRECT[name]
    rng = np.random.default_rng(0)
    xs = [t(rng.standard_normal(s), device, True) for s in shapes]
    assert gradcheck(fn, xs, fast_mode=fast_mode) is True


@pytest.mark.parametrize("device", DEVICES)
@given(shapes=tst.broadcastable_shapes(2), data=st.data())
def test_gradcheck_passes_drawn_shapes(device, shapes, data):
    a = data.draw(tst.tensors(shapes[0], device=device, requires_grad=True))
    b = data.draw(tst.tensors(shapes[1], device=device, requires_grad=True))
    assert gradcheck(lambda a, b: (a * b).tanh() + Square.apply(a).sigmoid(), [a, b])


@pytest.mark.parametrize("device", DEVICES)
def test_gradcheck_wrong_backward_names_input_and_element(device):
    x = t(X23, device, True)
    with pytest.raises(GradcheckError, match=r"input 0 \(shape \(2, 3\)\), element \(0, 0\)"):
        gradcheck(WrongSquare.apply, [x], fast_mode=False)


@pytest.mark.parametrize("device", DEVICES)
def test_gradcheck_wrong_backward_names_the_right_input(device):
    a, b = t(X23, device, True), t(X23[::-1], device, True)
    with pytest.raises(GradcheckError, match=r"input 1 \(shape \(2, 3\)\), element \(0, 0\)"):
        gradcheck(lambda a, b: a.tanh() + WrongSquare.apply(b), [a, b], fast_mode=False)


@pytest.mark.parametrize("device", DEVICES)
def test_gradcheck_skips_inputs_that_need_no_grad(device):
    a, b = t(X23, device, True), t(X23, device, False)
    # b's wrong gradient is never asked for
    assert gradcheck(lambda a, b: a.tanh() + WrongSquare.apply(b), [a, b], fast_mode=False)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("fast_mode", [True, False])
def test_gradcheck_catches_wrong_backward_in_each_mode(device, fast_mode):
    x = t(X23, device, True)
    expected = "random direction" if fast_mode else "element"
    with pytest.raises(GradcheckError, match=f"input 0.*{expected}"):
        gradcheck(WrongSquare.apply, [x], fast_mode=fast_mode)


@pytest.mark.parametrize("device", DEVICES)
def test_gradcheck_default_mode_is_fast_for_big_inputs(device):
    # 70 inputs x 70 outputs is over FULL_MODE_LIMIT: the fast mode's message is expected
    x = t(np.linspace(0.5, 2.0, 70), device, True)
    with pytest.raises(GradcheckError, match="random direction"):
        gradcheck(WrongSquare.apply, [x])
    with pytest.raises(GradcheckError, match=r"element \(0,\)"):
        gradcheck(WrongSquare.apply, [t(X23[0], device, True)])


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("op", [WrongSquare, DoubleMutatingGrad, TripleMutatingInput,
                                IdentityOffByOne])
def test_gradcheck_raise_exception_false_returns_false(device, op):
    assert gradcheck(op.apply, [t(X23, device, True)], raise_exception=False) is False
    assert gradcheck(Square.apply, [t(X23, device, True)], raise_exception=False) is True


@pytest.mark.parametrize("device", DEVICES)
def test_gradcheck_reports_mutated_upstream_gradient(device):
    x = t(X23, device, True)
    with pytest.raises(GradcheckError, match="mutated the upstream gradient of output 0"):
        gradcheck(DoubleMutatingGrad.apply, [x])


@pytest.mark.parametrize("device", DEVICES)
def test_gradcheck_reports_mutated_input(device):
    x = t(X23, device, True)
    with pytest.raises(GradcheckError, match="mutated input 0"):
        gradcheck(TripleMutatingInput.apply, [x])
    np.testing.assert_array_equal(x.numpy(), X23)  # gradcheck works on copies


@pytest.mark.parametrize("device", DEVICES)
def test_gradcheck_reports_nonzero_gradient_for_zero_upstream(device):
    x = t(X23, device, True)
    with pytest.raises(GradcheckError, match="input 0: a zero upstream gradient gave a nonzero"):
        gradcheck(IdentityOffByOne.apply, [x])


@pytest.mark.parametrize("device", DEVICES)
def test_gradcheck_reports_nan_gradient_for_zero_upstream(device):
    x = t(X23, device, True)
    with pytest.raises(GradcheckError, match=r"input 0: a zero upstream gradient gave NaN at "
                                             r"element \(0, 0\)"):
        gradcheck(NanBackward.apply, [x])
    x = t([1.0, 0.0], device, True)  # sqrt's gradient at 0 is 0 * inf for a zero gy
    with np.errstate(divide="ignore", invalid="ignore"), \
            pytest.raises(GradcheckError, match=r"NaN at element \(1,\) \(is there a 0 \* inf"):
        gradcheck(lambda x: x.sqrt(), [x])


@pytest.mark.parametrize("device", DEVICES)
def test_gradcheck_names_output_and_element_of_several_outputs(device):
    x = t(X23, device, True)
    with pytest.raises(GradcheckError, match=r"input 0 \(shape \(2, 3\)\), element \(0, 0\), "
                                             r"output 1 \(shape \(2, 3\)\), element \(0, 0\)"):
        gradcheck(lambda x: (x.tanh(), WrongSquare.apply(x)), [x], fast_mode=False)
    with pytest.raises(GradcheckError, match=r"element \(0,\), output 1 \(shape \(\)\), "
                                             r"element \(\): analytic 1 vs numerical 2"):
        gradcheck(lambda x: (x.tanh(), WrongSquare.apply(x).sum()), [t([1.0, 2.0], device, True)],
                  fast_mode=False)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("gg", [False, True])
def test_gradcheck_catches_ops_that_change_float32(device, gg):
    check = gradgradcheck if gg else gradcheck
    x = tr.tensor(X23.astype(np.float32), device=device, requires_grad=True)
    with pytest.raises(GradcheckError, match="UpcastDouble turned float32 inputs into float64"):
        check(UpcastDouble.apply, [x])
    with pytest.raises(GradcheckError, match="Float64BackwardSquare.backward returned a float64 "
                                             "gradient for its float32 input 0"):
        check(Float64BackwardSquare.apply, [x])
    assert check(UpcastDouble.apply, [x], check_dtype=False)
    assert check(Float64BackwardSquare.apply, [x], check_dtype=False)
    assert check(UpcastDouble.apply, [t(X23, device, True)])  # float64 stays float64
    assert not check(UpcastDouble.apply, [x], raise_exception=False)


@pytest.mark.parametrize("device", DEVICES)
def test_gradcheck_dtype_check_allows_casts_and_float64_constants(device):
    x = tr.tensor(X23.astype(np.float32), device=device, requires_grad=True)
    assert gradcheck(lambda x: x.astype(np.float64).tanh(), [x])
    w = t(X23.T, device)  # a float64 constant, which a matmul refuses beside float32:
    with pytest.raises(GradcheckError, match=r"fails on its inputs' own dtypes \(float32\)"):
        gradcheck(lambda x: (x @ w).tanh(), [x])  # said, not skipped
    assert gradcheck(lambda x: (x @ w).tanh(), [x], check_dtype=False)
    assert gradcheck(lambda x: (x @ w).tanh(), [x.double()])  # meant for float64: no change
    assert gradgradcheck(lambda x: (x @ w).tanh(), [x], check_dtype=False)
    assert gradgradcheck(lambda x, y: (x * y).sigmoid(), [x, x.detach()])
    assert gradcheck(lambda x: x * w.T, [x])  # elementwise ops promote, as PyTorch


@pytest.mark.parametrize("device", DEVICES)
def test_gradcheck_checks_float32_inputs_in_float64(device):
    # eps=1e-6 differences would be noise in float32; gradcheck must copy to float64
    x = tr.tensor(X23.astype(np.float32), device=device, requires_grad=True)
    assert gradcheck(lambda x: (x * x).tanh(), [x])
    with pytest.raises(GradcheckError):
        gradcheck(WrongSquare.apply, [x])


def test_gradcheck_without_differentiable_input_raises():
    with pytest.raises(ValueError, match="no input requires grad"):
        gradcheck(lambda x: x.tanh(), [t(X23)])


# ---- gradgradcheck ---------------------------------------------------------------------------


SMOOTH = {
    "tanh": (lambda x, y: x.tanh() * y, [(2, 3), (3,)]),
    "sigmoid": (lambda x, y: (x * y).sigmoid(), [(2, 3), (2, 1)]),
    "mul": (lambda x, y: x * y * x, [(2, 3), (2, 3)]),
    "tanh_sigmoid_mul": (lambda x, y: x.tanh().sigmoid() * y.tanh(), [(3,), (2, 3)]),
    "square": (lambda x, y: Square.apply(x) * y, [(2, 2), (2, 2)]),
}


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("name", list(SMOOTH))
def test_gradgradcheck_passes_for_smooth_compositions(device, name):
    fn, shapes = SMOOTH[name]
    rng = np.random.default_rng(1)
    xs = [t(rng.standard_normal(s), device, True) for s in shapes]
    assert gradgradcheck(fn, xs) is True
    v = t(rng.standard_normal(np.broadcast_shapes(*shapes)), device)
    assert gradgradcheck(fn, xs, grad_outputs=[v]) is True


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("name", list(SMOOTH))
def test_gradgradcheck_passes_float32_inputs(device, name):
    fn, shapes = SMOOTH[name]
    rng = np.random.default_rng(2)
    xs = [tr.tensor(rng.standard_normal(s).astype(np.float32), device=device, requires_grad=True)
          for s in shapes]
    assert gradgradcheck(fn, xs) is True


@pytest.mark.parametrize("device", DEVICES)
def test_gradgradcheck_takes_arrays_and_numbers_as_grad_outputs(device):
    x = t(X23, device, True)
    v = np.linspace(-1, 1, 6).reshape(2, 3)
    assert gradgradcheck(lambda a: a.tanh(), [x], grad_outputs=[v]) is True
    assert gradgradcheck(lambda a: a.tanh(), [x], grad_outputs=[v.tolist()]) is True
    assert gradgradcheck(lambda a: a.tanh(), [x], grad_outputs=[2.0]) is True
    assert gradgradcheck(lambda a: (a * a).sum(), [x], grad_outputs=[np.float64(3)]) is True
    w = t(v, device)
    assert gradgradcheck(lambda a: a.tanh(), [x], grad_outputs=[w]) is True
    assert not w.requires_grad  # the user's tensor is left as it was
    with pytest.raises(TypeError, match=r"grad_outputs\[0\] must be a Tensor, an array or a "
                                        "number, not object"):
        gradgradcheck(lambda a: a.tanh(), [x], grad_outputs=[object()])
    with pytest.raises(ValueError, match=r"grad_outputs\[0\] has shape \(3,\), but output 0 "
                                         r"has shape \(2, 3\)"):
        gradgradcheck(lambda a: a.tanh(), [x], grad_outputs=[np.ones(3)])
    with pytest.raises(ValueError, match="2 grad_outputs for 1 outputs"):
        gradgradcheck(lambda a: a.tanh(), [x], grad_outputs=[v, v])


def test_gradgradcheck_without_differentiable_input_raises():
    with pytest.raises(ValueError, match="gradgradcheck: no input requires grad"):
        gradgradcheck(lambda x: x.tanh(), [t(X23)])


@pytest.mark.parametrize("device", DEVICES)
@given(x=tst.arrays(tst.shapes(max_dims=2, max_side=3)))
def test_gradgradcheck_passes_drawn_shapes(device, x):
    assert gradgradcheck(lambda a: (a * a).tanh().sigmoid(), [t(x, device, True)])


@pytest.mark.parametrize("device", DEVICES)
def test_gradgradcheck_catches_gradient_not_differentiable(device):
    x = t(X23, device, True)
    assert gradcheck(SquareConstantCopy.apply, [x])  # the first derivative is right
    with pytest.raises(GradcheckError, match="input 0"):
        gradgradcheck(SquareConstantCopy.apply, [x])
    assert gradgradcheck(SquareConstantCopy.apply, [x], raise_exception=False) is False
    assert gradgradcheck(Square.apply, [x]) is True  # the same op saving x properly


class TwoFormulas(tr.Function):
    """y = x²; the backward on arrays is right, on Tensors (create_graph) it is 3 x gy: alone,
    the check of the second derivative would differentiate that consistently and pass."""

    def forward(self, x):
        self.saved = (x,)
        return x * x

    def backward(self, gy):
        (x,) = self.saved
        return (3 if isinstance(gy, tr.Tensor) else 2) * x * gy


@pytest.mark.parametrize("device", DEVICES)
def test_gradgradcheck_catches_a_backward_that_differs_under_create_graph(device):
    x = t(X23, device, True)
    assert gradcheck(TwoFormulas.apply, [x])
    with pytest.raises(GradcheckError, match="input 0: the gradient recorded with create_graph"):
        gradgradcheck(TwoFormulas.apply, [x])
    assert gradgradcheck(TwoFormulas.apply, [x], raise_exception=False) is False


# ---- strategies ------------------------------------------------------------------------------


@given(data=st.data(), min_dims=st.integers(0, 3), extra_dims=st.integers(0, 2),
       min_side=st.integers(0, 3), extra_side=st.integers(0, 3))
def test_shapes_respects_bounds(data, min_dims, extra_dims, min_side, extra_side):
    max_dims, max_side = min_dims + extra_dims, max(min_side + extra_side, 1)
    shape = data.draw(tst.shapes(min_dims, max_dims, min_side, max_side))
    assert isinstance(shape, tuple)
    assert min_dims <= len(shape) <= max_dims
    assert all(min_side <= n <= max_side for n in shape)


@given(shape=tst.shapes())
def test_shapes_default_is_small(shape):
    assert len(shape) <= 3
    assert all(1 <= n <= 4 for n in shape)


@given(data=st.data(), num_shapes=st.integers(1, 4), max_dims=st.integers(0, 4),
       max_side=st.integers(1, 5))
def test_broadcastable_shapes_broadcast(data, num_shapes, max_dims, max_side):
    shapes = data.draw(tst.broadcastable_shapes(num_shapes, 0, max_dims, 1, max_side))
    assert len(shapes) == num_shapes
    out = np.broadcast_shapes(*shapes)  # raises if they do not broadcast
    assert len(out) <= max_dims
    for s in shapes:
        assert len(s) <= max_dims
        assert all(n <= max_side for n in s)
        np.broadcast_to(np.zeros(s), out)


@given(data=st.data(), num_shapes=st.integers(1, 3), max_side=st.integers(0, 3))
def test_broadcastable_shapes_with_zero_size_axes(data, num_shapes, max_side):
    shapes = data.draw(tst.broadcastable_shapes(num_shapes, 0, 3, 0, max_side))
    out = np.broadcast_shapes(*shapes)
    assert all(0 <= n <= max_side for s in shapes for n in s)
    for s in shapes:
        np.broadcast_to(np.zeros(s), out)


def test_broadcastable_shapes_draw_zero_sizes():
    shapes = find(tst.broadcastable_shapes(2, min_side=0), lambda s: 0 in s[0] and len(s[1]) > 0)
    assert 0 in np.broadcast_shapes(*shapes)


@pytest.mark.parametrize("device", DEVICES)
@given(data=st.data(), num=st.integers(1, 3), min_side=st.integers(0, 1))
def test_broadcastable_tensors_are_operands_of_a_binary_op(device, data, num, min_side):
    xs = data.draw(tst.broadcastable_tensors(num, device=device, requires_grad=True,
                                             min_side=min_side, max_dims=2))
    assert len(xs) == num
    assert all(isinstance(x, tr.Tensor) and x.requires_grad and x.device == device and
               x.dtype == np.float64 for x in xs)
    np.broadcast_shapes(*(x.shape for x in xs))
    if num == 2:
        assert gradcheck(lambda a, b: (a * b).tanh(), xs)


@given(arrs=tst.broadcastable_arrays(3, dtype=np.int32, min_value=-2, max_value=2))
def test_broadcastable_arrays_broadcast(arrs):
    assert len(arrs) == 3
    assert all(a.dtype == np.int32 and np.all(np.abs(a) <= 2) for a in arrs)
    np.broadcast_arrays(*arrs)


def test_broadcastable_tensors_draw_different_shapes():
    # (two axes each asked for, and no shrinking, which took seconds: the example is enough)
    xs = find(tst.broadcastable_tensors(2, min_dims=2, max_dims=2),
              lambda xs: xs[0].shape != xs[1].shape, settings=settings(phases=[Phase.generate]))
    assert xs[0].ndim == xs[1].ndim == 2
    assert (xs[0] + xs[1]).ndim == 2


@given(data=st.data(), shape=tst.shapes(min_dims=0, max_dims=4))
def test_axes_valid_for_numpy_sum(data, shape):
    ndim = len(shape)
    axis = data.draw(tst.axes(ndim))
    a = np.ones(shape)
    out = np.sum(a, axis=axis)
    if isinstance(axis, tuple):
        assert len(set(np.array(axis) % max(ndim, 1))) == len(axis)  # distinct after wrapping
        assert out.ndim == ndim - len(axis)
    elif isinstance(axis, int):
        assert -ndim <= axis < ndim
        assert out.ndim == ndim - 1


@given(data=st.data(), shape=tst.shapes(min_dims=1, max_dims=4))
def test_axes_respects_allow_flags(data, shape):
    ndim = len(shape)
    axis = data.draw(tst.axes(ndim, allow_none=False, allow_tuple=False))
    assert isinstance(axis, int)
    assert -ndim <= axis < ndim
    assert data.draw(tst.axes(ndim, allow_none=False)) is not None


def test_axes_draws_negative_and_tuple_axes():
    assert find(tst.axes(3), lambda a: isinstance(a, int) and a < 0) < 0
    tup = find(tst.axes(3), lambda a: isinstance(a, tuple) and len(a) >= 2)
    np.sum(np.ones((2, 3, 4)), axis=tup)
    neg = find(tst.axes(3), lambda a: isinstance(a, tuple) and any(i < 0 for i in a))
    np.sum(np.ones((2, 3, 4)), axis=neg)


@pytest.mark.parametrize("kind", ["basic", "int_array", "bool_mask", None])
@given(data=st.data())
def test_indices_index_numpy_arrays(kind, data):
    min_dims = 0 if kind in ("basic", None) else 1
    shape = data.draw(tst.shapes(min_dims=min_dims, max_dims=3))
    idx = data.draw(tst.indices(shape, kind))
    a = np.arange(int(np.prod(shape))).reshape(shape)
    out = a[idx]  # raises IndexError if the index does not fit
    if kind == "int_array":
        assert isinstance(idx, tuple)
        assert all(isinstance(i, np.ndarray) and i.dtype.kind == "i" for i in idx)
    if kind == "bool_mask":
        assert idx.dtype == np.bool_
        assert idx.shape == shape[: idx.ndim]
        assert out.shape[0] == int(idx.sum())


@pytest.mark.parametrize("kind", ["basic", "int_array", "bool_mask", None])
@given(data=st.data())
def test_indices_index_zero_size_axes(kind, data):
    shape = data.draw(tst.shapes(min_dims=1, max_dims=3, min_side=0, max_side=3))
    idx = data.draw(tst.indices(list(shape), kind))  # a list shape works as well
    a = np.zeros(shape)
    a[idx]
    if kind == "int_array" and 0 in shape:
        assert all(i.size == 0 for i in idx)  # no integer indexes an empty axis


def test_indices_of_zero_size_axes_draw_each_kind():
    assert isinstance(find(tst.indices((0, 3)), lambda i: isinstance(i, tuple) and
                           all(isinstance(j, np.ndarray) for j in i)), tuple)
    assert find(tst.indices((0, 3)), lambda i: isinstance(i, np.ndarray)).dtype == np.bool_


def test_indices_of_a_0d_shape_are_basic_only():
    np.zeros(())[find(tst.indices(()), lambda i: True)]
    for kind in ("int_array", "bool_mask"):
        with pytest.raises(ValueError, match=f"a {kind} index needs an array with at least one"):
            tst.indices((), kind)


def test_indices_unknown_kind_raises():
    @given(st.data())
    def draw_bogus(data):
        data.draw(tst.indices((2, 3), "bogus"))

    with pytest.raises(ValueError, match="unknown index kind 'bogus'"):
        draw_bogus()


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("requires_grad", [True, False])
@given(data=st.data(), lo=st.floats(-10, 10), width=st.floats(0, 10), shape=tst.shapes())
def test_tensors_respect_arguments(device, dtype, requires_grad, data, lo, width, shape):
    lo = float(np.asarray(lo, dtype=dtype))  # bounds a float32 can hold exactly
    hi = float(np.asarray(lo + width, dtype=dtype))
    x = data.draw(tst.tensors(shape, dtype=dtype, min_value=lo, max_value=hi, device=device,
                              requires_grad=requires_grad))
    assert isinstance(x, tr.Tensor)
    assert x.shape == shape
    assert x.dtype == dtype
    assert x.device == device
    assert x.requires_grad is requires_grad
    assert x.is_leaf
    v = x.numpy()
    assert np.all(np.isfinite(v))
    assert np.all((lo <= v) & (v <= hi))


@given(data=st.data())
def test_float32_tensors_take_bounds_a_float32_cannot_hold(data):
    x = data.draw(tst.tensors((5,), dtype="float32", min_value=0.1, max_value=2.0))
    assert np.all((0.1 <= x.numpy()) & (x.numpy() <= 2.0))  # 0.1 is no float32: rounded in
    a = data.draw(tst.arrays((3,), dtype="float16", min_value=-1e9, max_value=1e9))
    assert np.isfinite(a).all()  # clipped to what a float16 holds
    with pytest.raises(ValueError, match=r"no float32 value lies in \[0.1, 0.1\]"):
        tst.tensors((2,), dtype="float32", min_value=0.1, max_value=0.1)


@pytest.mark.parametrize("device", DEVICES)
@given(data=st.data())
def test_tensors_integer_dtype_and_drawn_shape(device, data):
    x = data.draw(tst.tensors(dtype=np.int64, min_value=-5, max_value=5, device=device))
    assert x.dtype == np.int64
    assert not x.requires_grad
    assert x.ndim <= 3
    assert np.all((-5 <= x.numpy()) & (x.numpy() <= 5))
    y = data.draw(tst.tensors(tst.shapes(min_dims=2, max_dims=2), device=device))
    assert y.ndim == 2


@pytest.mark.parametrize("device", DEVICES)
@given(data=st.data())
def test_tensors_and_arrays_take_list_shapes(device, data):
    assert data.draw(tst.tensors([2, 3], device=device)).shape == (2, 3)
    assert data.draw(tst.arrays([0, 2])).shape == (0, 2)
    assert data.draw(tst.tensors((), device=device)).shape == ()


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", [bool, np.int8, np.uint8, np.int64, np.float16])
@given(data=st.data())
def test_tensors_bool_and_integer_dtypes(device, dtype, data):
    x = data.draw(tst.tensors(tst.shapes(min_side=0), dtype=dtype, device=device))
    assert x.dtype == dtype
    assert not x.requires_grad
    v = x.numpy()
    if np.dtype(dtype).kind != "b":
        lo = 0 if np.dtype(dtype).kind == "u" else -3
        assert np.all((lo <= v) & (v <= 3))  # the default range, clipped to what dtype holds


def test_tensors_bool_draws_both_values():
    assert find(tst.tensors((3,), dtype=bool), lambda x: x.numpy().any() and
                not x.numpy().all()).shape == (3,)


@pytest.mark.parametrize("dtype", [bool, np.int64])
def test_tensors_of_non_float_dtype_cannot_require_grad(dtype):
    with pytest.raises(TypeError, match="only floating-point tensors can require grad"):
        tst.tensors(dtype=dtype, requires_grad=True)
    with pytest.raises(TypeError, match="only floating-point tensors can require grad"):
        tst.broadcastable_tensors(dtype=dtype, requires_grad=True)


@given(dims=tst.recurrent_dims())
def test_recurrent_dims_gives_positive_ints(dims):
    assert set(dims) == {"T", "B", "I", "H"}
    for v in dims.values():
        assert type(v) is int
        assert v >= 1
    assert dims["T"] <= 5 and dims["B"] <= 3 and dims["I"] <= 4 and dims["H"] <= 4


@given(dims=tst.recurrent_dims(max_T=1, max_B=2, max_I=1, max_H=3))
def test_recurrent_dims_respects_maxima(dims):
    assert dims["T"] == 1 and dims["I"] == 1
    assert 1 <= dims["B"] <= 2 and 1 <= dims["H"] <= 3


# ---- the strict device catches NumPy leaks ---------------------------------------------------


class XpExp(tr.Function):
    """exp through self.xp: right on every device."""

    def forward(self, x: Any) -> Any:
        return self.xp.exp(x)


class NumpyExp(tr.Function):
    """exp through numpy itself: works on NumPy arrays only."""

    def forward(self, x: Any) -> Any:
        return np.exp(x)


class AddHostZeros(tr.Function):
    """x + a host array made with numpy."""

    def forward(self, x: Any) -> Any:
        return x + np.zeros(x.shape, dtype=x.dtype)


class HostZerosAdd(tr.Function):
    """A host array made with numpy + x (numpy's operator runs first)."""

    def forward(self, x: Any) -> Any:
        return np.zeros(x.shape, dtype=x.dtype) + x


class ReturnHostArray(tr.Function):
    """Returns np.asarray of a host array instead of a device array."""

    def forward(self, x: Any) -> Any:
        return np.asarray(np.ones(x.shape, dtype=x.dtype))


class AsarrayInput(tr.Function):
    """Hands its device input to numpy.asarray."""

    def forward(self, x: Any) -> Any:
        return self.xp.asarray(np.asarray(x) * 2)


class NumpyInBackward(tr.Function):
    """A right forward, a backward that calls numpy."""

    def forward(self, x: Any) -> Any:
        self.saved = (x,)
        return self.xp.sin(x)

    def backward(self, gy: Any) -> Any:
        (x,) = self.saved
        return gy * np.cos(x)


LEAKS = [NumpyExp, AddHostZeros, HostZerosAdd, ReturnHostArray, AsarrayInput]
LEAK_MESSAGE = r"(?is)numpy.*\bxp\b"


@pytest.mark.parametrize("op", LEAKS + [XpExp, NumpyInBackward])
def test_leaky_ops_work_on_cpu(op):
    out = op.apply(t(X23))
    assert out.device == "cpu"
    assert out.shape == X23.shape
    assert np.all(np.isfinite(out.numpy()))


@pytest.mark.parametrize("op", LEAKS)
def test_strict_device_catches_leak_in_forward(op):
    with pytest.raises(TypeError, match=LEAK_MESSAGE):
        op.apply(t(X23, "strict"))


def test_strict_device_leak_messages_name_the_culprit():
    x = t(X23, "strict")
    with pytest.raises(TypeError, match=r"numpy\.exp"):
        NumpyExp.apply(x)
    with pytest.raises(TypeError, match=r"host numpy\.ndarray met a device array in operator \+"):
        AddHostZeros.apply(x)
    with pytest.raises(TypeError, match=r"ReturnHostArray returned a numpy\.ndarray on device "
                                        r"'strict'"):
        ReturnHostArray.apply(x)


def test_strict_device_catches_leak_in_backward():
    x = t(X23, "strict", True)
    y = NumpyInBackward.apply(x)
    np.testing.assert_allclose(y.numpy(), np.sin(X23), rtol=1e-15)
    with pytest.raises(TypeError, match=r"(?is)numpy\.cos.*\bxp\b"):
        y.sum().backward()
    assert gradcheck(NumpyInBackward.apply, [t(X23, "cpu", True)])


def test_strict_device_accepts_ops_through_xp():
    x = t(X23, "strict", True)
    y = XpExp.apply(x)
    assert y.device == "strict"
    np.testing.assert_allclose(y.numpy(), np.exp(X23), rtol=1e-15)
    assert gradcheck(lambda x: Square.apply(x).tanh(), [x])
