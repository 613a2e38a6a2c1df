"""Complex autograd: PyTorch's convention (a complex leaf z = x + iy under a real loss L gets
dL/dx + i dL/dy), op by op through the allow-list (``complex_ok``), against torch in
complex128 and against central differences (``gradcheck`` perturbs real and imaginary parts);
the refusals of every other op; ``gradcheck`` on complex functions, and its catching a wrong
complex backward."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_rnn as tr
from tinygrad_rnn.testing import gradcheck, gradgradcheck
from tinygrad_rnn.testing import strategies as tst


def _complex(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    return rng.standard_normal(shape) + 1j * rng.standard_normal(shape)


def _host(t):  # a torch tensor's values (its lazy conjugate resolved)
    return t.detach().resolve_conj().numpy()


def _against_torch(f, arrays, seed=0, rtol=1e-9, value_rtol=1e-10, grad_atol=1e-12):
    """f on tensors of ``arrays`` here and in torch: values, dtypes and every gradient, from a
    random upstream gradient (complex where the output is)."""
    torch = pytest.importorskip("torch")
    xs = [tr.tensor(a, requires_grad=True) for a in arrays]
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    y, yt = f(tr, *xs), f(torch, *ts)
    np.testing.assert_allclose(y.numpy(), _host(yt), rtol=value_rtol, atol=1e-12)
    assert str(y.dtype) == str(yt.dtype).removeprefix("torch.")
    rng = np.random.default_rng(seed)
    g = _complex(rng, yt.shape) if yt.is_complex() else rng.standard_normal(yt.shape)
    y.backward(tr.tensor(g))
    yt.backward(torch.tensor(g))
    for x, t in zip(xs, ts):
        assert x.grad.dtype == x.dtype
        np.testing.assert_allclose(x.grad.numpy(), _host(t.grad), rtol=rtol, atol=grad_atol)


UNARY = {
    "exp": lambda m, z: z.exp(), "log": lambda m, z: z.log(), "sqrt": lambda m, z: z.sqrt(),
    "sin": lambda m, z: z.sin(), "cos": lambda m, z: z.cos(), "tanh": lambda m, z: z.tanh(),
    "sigmoid": lambda m, z: z.sigmoid(), "reciprocal": lambda m, z: z.reciprocal(),
    "neg": lambda m, z: -z, "abs": lambda m, z: z.abs(), "angle": lambda m, z: z.angle(),
    "real": lambda m, z: z.real * 1, "imag": lambda m, z: z.imag * 1,
    "conj": lambda m, z: z.conj() * 1, "conj_physical": lambda m, z: m.conj_physical(z),
    "pow_real": lambda m, z: z**2.5, "pow_int": lambda m, z: z**3,
    "abs_squared": lambda m, z: z.abs() ** 2, "view_as_real": lambda m, z: m.view_as_real(z),
    "sum": lambda m, z: z.sum(0), "mean": lambda m, z: z.mean(),
    "var": lambda m, z: z.var(0, correction=0), "std": lambda m, z: z.std(correction=0),
    "norm": lambda m, z: z.norm(), "norm_1": lambda m, z: z.norm(1),
    "vector_norm_3": lambda m, z: m.linalg.vector_norm(z, 3, -1),
    "vecdot": lambda m, z: m.linalg.vecdot(z, z.exp()), "cumsum": lambda m, z: z.cumsum(-1),
    "div_by_number": lambda m, z: z / 3 + 2j * z, "rsub": lambda m, z: 1 - z,
    "log2": lambda m, z: z.log2(), "log10": lambda m, z: z.log10(), "tan": lambda m, z: z.tan(),
    "asin": lambda m, z: z.asin(), "acos": lambda m, z: z.acos(), "atan": lambda m, z: z.atan(),
    "log1p": lambda m, z: z.log1p(), "expm1": lambda m, z: z.expm1(),
    "sinh": lambda m, z: z.sinh(), "cosh": lambda m, z: z.cosh(), "asinh": lambda m, z: z.asinh(),
    "atanh": lambda m, z: z.atanh(), "acosh": lambda m, z: z.acosh(),
    "exp2": lambda m, z: m.exp2(z),
}


@pytest.mark.torch
@pytest.mark.parametrize("name", sorted(UNARY))
@given(shape=tst.shapes(min_dims=1, max_dims=3), seed=st.integers(0, 2**16))
def test_unary_complex_ops_value_and_gradient_match_torch(name, shape, seed):
    _against_torch(UNARY[name], [_complex(np.random.default_rng(seed), shape)], seed)


BINARY = {
    "add": lambda m, a, b: a + b, "sub": lambda m, a, b: a - b, "mul": lambda m, a, b: a * b,
    "div": lambda m, a, b: a / b, "pow": lambda m, a, b: a**b,
    "where": lambda m, a, b: m.where(a.real > 0, a, b),
}


@pytest.mark.torch
@pytest.mark.parametrize("name", sorted(BINARY))
@pytest.mark.parametrize("kinds", ["cc", "rc", "cr"])
@given(shapes=tst.broadcastable_shapes(2, min_dims=1), seed=st.integers(0, 2**16))
def test_binary_ops_broadcast_and_mix_real_and_complex_as_torch(name, kinds, shapes, seed):
    """A real input of a complex result gets the real part of its gradient; broadcast
    gradients are summed back, complex or real."""
    if name == "where" and kinds != "cc":
        return  # (torch's where refuses a real and a complex gradient together)
    rng = np.random.default_rng(seed)
    arrays = [_complex(rng, s) if k == "c" else rng.standard_normal(s) + 2.0
              for k, s in zip(kinds, shapes)]
    _against_torch(BINARY[name], arrays, seed)


@pytest.mark.parametrize("name", sorted(UNARY))
@given(shape=tst.shapes(min_dims=1, max_dims=2, max_side=3), seed=st.integers(0, 2**16))
def test_unary_complex_ops_pass_gradcheck(name, shape, seed):
    z = tr.tensor(_complex(np.random.default_rng(seed), shape), requires_grad=True)
    assert gradcheck(lambda z: UNARY[name](tr, z), (z,))


@given(shapes=tst.broadcastable_shapes(2, min_dims=1, max_side=3), seed=st.integers(0, 2**16))
def test_binary_complex_ops_pass_gradcheck_with_broadcasting(shapes, seed):
    rng = np.random.default_rng(seed)
    a, b = (tr.tensor(_complex(rng, s) + 2, requires_grad=True) for s in shapes)
    r = tr.tensor(rng.standard_normal(shapes[1]), requires_grad=True)
    for f in BINARY.values():
        assert gradcheck(lambda a, b, f=f: f(tr, a, b), (a, b))
        assert gradcheck(lambda a, r, f=f: f(tr, a, r), (a, r))


@given(shapes=tst.broadcastable_shapes(2, min_dims=1, max_side=3), seed=st.integers(0, 2**16))
def test_complex_polar_and_view_as_complex_pass_gradcheck_with_broadcasting(shapes, seed):
    rng = np.random.default_rng(seed)
    a, b = (tr.tensor(rng.standard_normal(s), requires_grad=True) for s in shapes)
    assert gradcheck(lambda a, b: tr.complex(a, b) * (1 - 2j), (a, b))
    assert gradcheck(lambda a, b: tr.polar(a, b), (a, b))
    pairs = tr.tensor(rng.standard_normal((*shapes[0], 2)), requires_grad=True)
    assert gradcheck(lambda p: tr.view_as_complex(p) ** 2, (pairs,))


def test_second_derivatives_of_complex_functions_pass_gradgradcheck():
    rng = np.random.default_rng(0)
    z = tr.tensor(_complex(rng, (3,)), requires_grad=True)
    w = tr.tensor(rng.standard_normal(3), requires_grad=True)
    assert gradgradcheck(lambda z, w: (z * z * w).exp() / z, (z, w))
    assert gradgradcheck(lambda z: z.abs() ** 2 + z.conj().real, (z,))


@pytest.mark.torch
def test_matrix_products_are_conjugated_as_torch():
    rng = np.random.default_rng(1)
    a, b, v = _complex(rng, (2, 3, 4)), _complex(rng, (2, 4, 2)), _complex(rng, (4,))
    _against_torch(lambda m, a, b: m.bmm(a, b), [a, b])
    _against_torch(lambda m, a, b: a[0] @ b[1], [a, b])
    _against_torch(lambda m, a, b: m.mm(a[1], b[0]), [a, b])
    _against_torch(lambda m, a, v: m.matmul(a, v), [a, v])
    _against_torch(lambda m, v: v @ v + m.dot(v, v), [v])
    _against_torch(lambda m, a: a.mH @ a, [a])
    _against_torch(lambda m, v, w: m.vdot(v, w) + v.vdot(w) * 2j, [v, v[::-1].copy()])
    _against_torch(lambda m, a: a[0, :2, :2].H @ a[1, :2, :2].adjoint(), [a])
    _against_torch(lambda m, a, b, v: m.einsum("bij,bjk,j->bik", a, b, v), [a, b, v])
    _against_torch(lambda m, a: m.einsum("bij->j", a) + m.tensordot(a, a, 3), [a])


@pytest.mark.torch
def test_movement_indexing_and_joining_carry_complex_gradients_as_torch():
    rng = np.random.default_rng(2)
    z, w = _complex(rng, (2, 3, 4)), _complex(rng, (3, 1))

    def f(m, z, w):
        parts = [z.reshape(6, 4)[::2], z.transpose(0, 1).flatten(1)[:, :4],
                 z.permute(2, 0, 1)[1:3, 0, :].unsqueeze(0).squeeze(0).expand(2, 3)
                 @ w.expand(3, 4),
                 z[:, m.tensor([0, 2, 2])][0], z.view(24)[m.tensor([1, 5, 1, 7])].view(1, 4)]
        return m.cat([m.stack(parts[:1], 0)[0], *parts[1:]], 0).roll(1, 0) * z.sum()

    _against_torch(f, [z, w])


@pytest.mark.torch
def test_casts_between_real_and_complex_give_torch_gradients_and_warning():
    rng = np.random.default_rng(3)
    x, z = rng.standard_normal(4), _complex(rng, (4,))
    _against_torch(lambda m, x: (x.to(m.complex128) * (1 + 2j)).exp(), [x])
    _against_torch(lambda m, x: x.to(m.complex64) * 1j, [x.astype(np.float32)])
    with pytest.warns(UserWarning, match="discards the imaginary part"):
        _against_torch(lambda m, z: z.to(m.float64) ** 2, [z])


@pytest.mark.torch
def test_complex_polar_and_the_real_views_match_torch():
    rng = np.random.default_rng(4)
    a, b, z = rng.standard_normal((2, 3)), rng.standard_normal(3), _complex(rng, (2, 3))
    _against_torch(lambda m, a, b: m.complex(a, b) ** 2, [a, b])
    _against_torch(lambda m, a, b: m.polar(a.abs(), b).exp(), [a, b])
    _against_torch(lambda m, a: m.view_as_complex(a.reshape(3, 2)) ** 2, [a])
    _against_torch(lambda m, z: m.view_as_real(z * z), [z])
    _against_torch(lambda m, z: m.angle(z) * z.abs() + m.real(z) * m.imag(z), [z])


@pytest.mark.torch
def test_a_chain_with_leaves_reused_matches_torch_and_accumulates():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(5)
    z0, w0 = _complex(rng, (3,)), _complex(rng, (3,)).astype(np.complex64)
    z, w = tr.tensor(z0, requires_grad=True), tr.tensor(w0, requires_grad=True)
    zt, wt = torch.tensor(z0, requires_grad=True), torch.tensor(w0, requires_grad=True)
    for m, a, b in ((tr, z, w), (torch, zt, wt)):
        for _ in range(2):  # the second backward adds to .grad
            ((a * a / b.to(m.complex128)).tanh().abs() ** 2).sum().backward()
    assert w.grad.dtype == np.complex64
    np.testing.assert_allclose(z.grad.numpy(), _host(zt.grad), rtol=1e-9)
    np.testing.assert_allclose(w.grad.numpy(), _host(wt.grad), rtol=1e-4)


def test_backward_from_a_complex_scalar_is_refused_as_torch():
    z = tr.tensor(np.array([1 + 2j]), requires_grad=True)
    with pytest.raises(RuntimeError, match="only for real scalar outputs"):
        (z * z).sum().backward()
    (z * z).sum().backward(tr.tensor(np.complex128(1)))  # a given gradient is fine
    np.testing.assert_allclose(z.grad.numpy(), [2 - 4j])


@pytest.mark.parametrize("f", [
    lambda z: z.relu(), lambda z: z.logit(), lambda z: z.sinc(), lambda z: z.xlogy(z),
], ids=["relu", "logit", "sinc", "xlogy"])
def test_ops_without_a_complex_backward_refuse_by_name(f):
    """Never a silently wrong gradient: the op that meets a complex array while recording is
    named; without gradients the same op runs."""
    z = tr.tensor(np.array([0.5 + 0.25j, -0.5j]), requires_grad=True)
    with pytest.raises(TypeError, match="does not support complex gradients"):
        f(z)
    with tr.no_grad():
        try:
            f(z)
        except (TypeError, ValueError, RuntimeError):
            pass  # (an op that has no complex forward either refuses its own way)


def test_a_real_input_of_an_unsupported_op_with_a_complex_partner_is_refused():
    x = tr.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(TypeError, match="Xlogy does not support complex gradients"):
        tr.xlogy(x, tr.tensor(np.array([1j, 1.0])))
    with pytest.raises(TypeError, match="complex"):  # no order: refused, as torch's
        tr.maximum(x, tr.tensor(np.array([1j, 1.0])))


def test_misuse_of_the_complex_functions_is_named():
    x = tr.tensor([1.0, 2.0])
    with pytest.raises(RuntimeError, match="non-complex"):
        _ = x.imag
    with pytest.raises(RuntimeError, match="only supported for complex"):
        tr.view_as_real(x)
    with pytest.raises(RuntimeError, match="last dimension of size 2"):
        tr.view_as_complex(tr.zeros(3))
    with pytest.raises(RuntimeError, match="same dtype"):
        tr.complex(x, x.double())
    with pytest.raises(RuntimeError, match="float or double"):
        tr.complex(tr.tensor([1]), tr.tensor([1]))
    assert x.real is x and x.conj() is x and not x.is_conj()
    np.testing.assert_allclose(tr.tensor([-1.0, 0.0, 2.0]).angle().numpy(), [np.pi, 0, 0])


class _NoConjMul(tr.Function):
    """y = x0 * x1 with the real formula's VJP (gy * x1): wrong for complex numbers."""

    complex_ok = True

    def forward(self, x0, x1):
        self.saved = (x0, x1)
        return x0 * x1

    def backward(self, gy):
        x0, x1 = self.saved
        return gy * x1, gy * x0


@pytest.mark.parametrize("fast_mode", [False, True])
def test_gradcheck_catches_a_backward_that_forgets_the_conjugate(fast_mode):
    rng = np.random.default_rng(6)
    a, b = (tr.tensor(_complex(rng, (2,)), requires_grad=True) for _ in range(2))
    with pytest.raises(AssertionError, match="analytic"):
        gradcheck(lambda a, b: _NoConjMul.apply(a, b), (a, b), fast_mode=fast_mode)
    assert gradcheck(lambda a, b: a * b, (a, b), fast_mode=fast_mode)


def test_complex64_leaves_keep_their_dtype_through_gradcheck_dtype_check():
    z = tr.tensor(np.array([1 + 1j, 2 - 1j], dtype=np.complex64), requires_grad=True)
    assert gradcheck(lambda z: (z * z).exp().abs(), (z,))


def test_a_custom_autograd_function_takes_complex_tensors():
    class Square(tr.autograd.Function):
        @staticmethod
        def forward(ctx, z):
            ctx.save_for_backward(z)
            return z * z

        @staticmethod
        def backward(ctx, gy):
            (z,) = ctx.saved_tensors
            return gy * 2 * z.conj()

    z = tr.tensor(np.array([1 + 2j, -0.5j]), requires_grad=True)
    assert gradcheck(Square.apply, (z,))


def test_optimizers_refuse_complex_parameters_rather_than_update_them_wrongly():
    p = tr.nn.Parameter(tr.tensor(np.array([1 + 1j])))
    with pytest.raises(TypeError, match="complex parameters"):
        tr.optim.Adam([p])
    w = tr.nn.Parameter(tr.zeros(1, 2))  # the supported way: optimize the real view
    opt = tr.optim.Adam([w], lr=0.1)
    for _ in range(3):
        opt.zero_grad()
        (tr.view_as_complex(w) - (1 + 2j)).abs().sum().backward()
        opt.step()
    assert w.grad.dtype == np.float32 and (w.detach().numpy() > 0).all()


def test_python_complex_numbers_take_the_default_complex_dtype_as_torch():
    assert tr.tensor([1j]).dtype == tr.tensor(2 + 1j).dtype == tr.tensor([[1, 2j]]).dtype \
        == np.complex64
    assert tr.tensor([np.complex128(1j)]).dtype == tr.tensor(np.array([1j])).dtype \
        == np.complex128
    assert (tr.ones(2) * 1j).dtype == np.complex64
    assert (tr.ones(2, dtype=tr.float64) * 1j).dtype == np.complex128
    assert (tr.ones(2, dtype=tr.int64) * 1j).dtype == np.complex64
