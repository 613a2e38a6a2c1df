"""Complex gradients beyond the elementwise core: products (zeros included), logaddexp, the
reductions, products and norms of vectors and matrices, and ``tr.linalg``'s factorisations,
each against torch in complex128 (values and gradients from a complex upstream gradient, so
non-holomorphic functions too) and against central differences (``gradcheck`` perturbs real
and imaginary parts). Decompositions defined up to a phase (eigenvectors, singular vectors)
are checked through losses that do not depend on it, as PyTorch asks."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_rnn as tr
from tinygrad_rnn.testing import gradcheck, gradgradcheck
from tinygrad_rnn.testing import strategies as tst

from .conftest import DEVICES
from .test_complex_autograd import _against_torch as _checked
from .test_complex_autograd import _complex


def _against_torch(f, arrays, seed=0, rtol=1e-9):
    """``test_complex_autograd``'s check (values, dtypes, every gradient against torch) at
    ``rtol`` for both."""
    _checked(f, arrays, seed, rtol=rtol, value_rtol=rtol, grad_atol=1e-11)


# ---- list 1: products, reductions, vector and matrix products and norms ---------------------

# each takes the array module and a complex (3, 4) tensor (rows broadcast against columns)
VECTOR = {
    "prod": lambda m, z: z.prod(), "prod_dim": lambda m, z: z.prod(1, keepdim=True),
    "cumprod": lambda m, z: z.cumprod(1), "cumprod_0": lambda m, z: m.cumprod(z, 0),
    "sgn": lambda m, z: z.sgn(), "reciprocal": lambda m, z: z.reciprocal(),
    "rsqrt": lambda m, z: z.rsqrt(), "square": lambda m, z: z.square(),
    "logaddexp": lambda m, z: m.logaddexp(z, z[:1].exp()),
    "addcmul": lambda m, z: m.addcmul(z, z[:1], z.exp(), value=0.5 - 1j),
    "addcdiv": lambda m, z: m.addcdiv(z[:, :1], z, z.exp() + 2, value=2),
    "lerp": lambda m, z: m.lerp(z, z.flip(0), 0.3),
    "lerp_tensor": lambda m, z: m.lerp(z, z.sin(), z),
    "trace": lambda m, z: z[:, :3].trace(), "diag": lambda m, z: m.diag(m.diag(z, 1)),
    "diagonal": lambda m, z: m.diagonal(z, -1), "diag_embed": lambda m, z: m.diag_embed(z),
    "cumsum_reverse": lambda m, z: z.flip(1).cumsum(1).flip(1),
    "flip": lambda m, z: z.flip((0, 1)) * z, "roll": lambda m, z: z.roll((1, -1), (0, 1)) * z,
    "outer": lambda m, z: m.outer(z[0], z[1]), "kron": lambda m, z: m.kron(z[:2, :2], z),
    "cross": lambda m, z: m.linalg.cross(z[:, :3], z[:, 1:]),
    "dot": lambda m, z: m.dot(z[0], z[1]), "inner": lambda m, z: m.inner(z, z.exp()),
    "vector_norm": lambda m, z: m.linalg.vector_norm(z, dim=1),
    "vector_norm_3": lambda m, z: m.linalg.vector_norm(z, 3),
    "vector_norm_inf": lambda m, z: m.linalg.vector_norm(z, math.inf, 0),
    "matrix_norm": lambda m, z: m.linalg.matrix_norm(z),
    "matrix_norm_nuc": lambda m, z: m.linalg.matrix_norm(z, "nuc"),
    "matrix_norm_2": lambda m, z: m.linalg.matrix_norm(z, 2),
    "matrix_norm_1": lambda m, z: m.linalg.matrix_norm(z, 1),
    "matrix_norm_inf": lambda m, z: m.linalg.matrix_norm(z, -math.inf),
    "dist": lambda m, z: m.dist(z, z[:1]), "dist_1": lambda m, z: m.dist(z, z[:, :1], 1),
}


@pytest.mark.torch
@pytest.mark.parametrize("name", sorted(VECTOR))
def test_complex_products_reductions_and_norms_match_torch(name):
    _against_torch(VECTOR[name], [_complex(np.random.default_rng(0), (3, 4))])


@pytest.mark.torch
@given(name=st.sampled_from(sorted(VECTOR)), seed=st.integers(0, 2**16))
def test_complex_products_reductions_and_norms_match_torch_on_drawn_inputs(name, seed):
    _against_torch(VECTOR[name], [_complex(np.random.default_rng(seed), (3, 4))], seed)


@pytest.mark.parametrize("name", sorted(VECTOR))
def test_complex_products_reductions_and_norms_pass_gradcheck(name):
    z = tr.tensor(_complex(np.random.default_rng(1), (3, 4)), requires_grad=True)
    assert gradcheck(lambda z: VECTOR[name](tr, z), (z,))


@pytest.mark.torch
@given(shape=tst.shapes(min_dims=1, max_dims=3), seed=st.integers(0, 2**16),
       zeros=st.integers(0, 3))
def test_prod_and_cumprod_with_zeros_match_torch(shape, seed, zeros):
    """Zeros anywhere (none, one, several along an axis): the exact gradient, as torch's."""
    rng = np.random.default_rng(seed)
    z = _complex(rng, shape)
    z.reshape(-1)[rng.integers(0, z.size, zeros)] = 0
    axis = int(rng.integers(0, len(shape)))
    _against_torch(lambda m, z: z.prod(), [z], seed)
    _against_torch(lambda m, z: z.prod(axis) * 2j, [z], seed)
    _against_torch(lambda m, z: z.cumprod(axis), [z], seed)


@given(shapes=tst.broadcastable_shapes(2, min_dims=1, max_side=3), seed=st.integers(0, 2**16))
def test_complex_logaddexp_prod_and_cumprod_pass_gradcheck_with_broadcasting(shapes, seed):
    rng = np.random.default_rng(seed)
    a, b = (tr.tensor(_complex(rng, s), requires_grad=True) for s in shapes)
    assert gradcheck(lambda a, b: tr.logaddexp(a, b), (a, b))
    assert gradcheck(lambda a, b: (a * b).prod(-1), (a, b))
    assert gradcheck(lambda a, b: (a - b).cumprod(0), (a, b))


@pytest.mark.torch
def test_complex_logaddexp_matches_torch_at_large_and_infinite_values():
    torch = pytest.importorskip("torch")
    inf = math.inf
    a = np.array([1e3 + 2j, -1e3 + 1j, 1 + 1j, complex(inf, 0), complex(-inf, 0), 1 + 1j])
    b = np.array([1e3 - 1j, 2 + 3j, 1 + 4j, complex(inf, 0), complex(-inf, 0), complex(-inf, 0)])
    y = tr.logaddexp(tr.tensor(a), tr.tensor(b)).numpy()
    np.testing.assert_allclose(y, torch.logaddexp(torch.tensor(a), torch.tensor(b)).numpy())


def test_prod_gradient_with_zeros_is_exact():
    z = tr.tensor(np.array([0, 2j, 1 - 1j, 0]), requires_grad=True)
    (z.prod() * (1 + 1j)).real.backward()
    np.testing.assert_allclose(z.grad.numpy(), [0, 0, 0, 0])
    z.grad = None
    (z[1:].prod() * (1 + 1j)).real.backward()  # one zero: only it gets a gradient,
    np.testing.assert_allclose(z.grad.numpy(), [0, 0, 0, np.conj((1 + 1j) * 2j * (1 - 1j))])


def test_sign_refuses_complex_as_torch_and_sgn_takes_it():
    z = tr.tensor(np.array([3 + 4j, 0j]))
    with pytest.raises(NotImplementedError, match="use sgn"):
        z.sign()
    with pytest.raises(NotImplementedError, match="use sgn"):
        tr.sign(z)
    np.testing.assert_allclose(z.sgn().numpy(), [0.6 + 0.8j, 0])
    with pytest.raises(RuntimeError, match="logaddexp2 is not implemented for complex"):
        tr.logaddexp2(z, z)


# ---- list 2: linear algebra -------------------------------------------------------------------


def _hermitian(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    a = _complex(rng, shape)
    return a @ a.conj().swapaxes(-1, -2) + shape[-1] * np.eye(shape[-1])


def _phase_free_eigh(m, A):
    w, v = m.linalg.eigh(A)  # (v diag(w) vᴴ and |v| do not depend on the vectors' phases)
    return v @ (w.to(v.dtype)[..., None] * v.mH) + v.abs() * w[..., None, :]


def _phase_free_svd(m, A):
    u, s, vh = m.linalg.svd(A, full_matrices=False)
    k = s.shape[-1]
    low_rank = (u[..., :, : k - 1] * s[..., None, : k - 1]) @ vh[..., : k - 1, :]
    return low_rank + u.abs().sum(-1, keepdim=True)


# each: (function of the array module and its inputs, how to draw the inputs from (rng, batch))
LINALG = {
    "det": (lambda m, A: m.linalg.det(A), lambda r, b: [_complex(r, (*b, 3, 3))]),
    "slogdet": (lambda m, A: m.linalg.slogdet(A)[0] * m.linalg.slogdet(A)[1],
                lambda r, b: [_complex(r, (*b, 3, 3))]),
    "slogdet_sign": (lambda m, A: m.linalg.slogdet(A).sign,
                     lambda r, b: [_complex(r, (*b, 2, 2))]),
    "logabsdet": (lambda m, A: m.linalg.slogdet(A).logabsdet,
                  lambda r, b: [_complex(r, (*b, 3, 3))]),
    "inv": (lambda m, A: m.linalg.inv(A), lambda r, b: [_complex(r, (*b, 3, 3))]),
    "solve": (lambda m, A, B: m.linalg.solve(A, B),
              lambda r, b: [_complex(r, (*b, 3, 3)), _complex(r, (3, 2))]),
    "solve_vector": (lambda m, A, B: m.linalg.solve(A, B),
                     lambda r, b: [_complex(r, (*b, 2, 2)), _complex(r, (*b, 2))]),
    "solve_right": (lambda m, A, B: m.linalg.solve(A, B, left=False),
                    lambda r, b: [_complex(r, (*b, 3, 3)), _complex(r, (*b, 2, 3))]),
    "cholesky": (lambda m, A: m.linalg.cholesky(A), lambda r, b: [_hermitian(r, (*b, 3, 3))]),
    "cholesky_upper": (lambda m, A: m.linalg.cholesky(A, upper=True),
                       lambda r, b: [_hermitian(r, (*b, 3, 3))]),
    "qr": (lambda m, A: m.linalg.qr(A).Q * 2 + m.linalg.qr(A).R[..., :1, :],
           lambda r, b: [_complex(r, (*b, 4, 3))]),
    "qr_wide": (lambda m, A: m.linalg.qr(A).R, lambda r, b: [_complex(r, (*b, 2, 3))]),
    "eigh": (_phase_free_eigh, lambda r, b: [_hermitian(r, (*b, 3, 3))]),
    "eigvalsh_upper": (lambda m, A: m.linalg.eigvalsh(A, "U"),
                       lambda r, b: [_hermitian(r, (*b, 3, 3))]),
    "svdvals": (lambda m, A: m.linalg.svdvals(A), lambda r, b: [_complex(r, (*b, 3, 4))]),
    "svd": (_phase_free_svd, lambda r, b: [_complex(r, (*b, 3, 3))]),
    "svd_tall": (_phase_free_svd, lambda r, b: [_complex(r, (*b, 4, 2))]),
    "svd_wide": (_phase_free_svd, lambda r, b: [_complex(r, (*b, 2, 4))]),
    "pinv": (lambda m, A: m.linalg.pinv(A), lambda r, b: [_complex(r, (*b, 4, 3))]),
    "pinv_hermitian": (lambda m, A: m.linalg.pinv(A, hermitian=True),
                       lambda r, b: [_hermitian(r, (*b, 3, 3))]),
    "lstsq": (lambda m, A, B: m.linalg.lstsq(A, B).solution,
              lambda r, b: [_complex(r, (*b, 4, 3)), _complex(r, (*b, 4, 2))]),
    "matrix_exp": (lambda m, A: m.linalg.matrix_exp(A), lambda r, b: [_complex(r, (*b, 3, 3))]),
    "logdet": (lambda m, A: m.logdet(A), lambda r, b: [_complex(r, (*b, 3, 3))]),
    "cond": (lambda m, A: m.linalg.cond(A), lambda r, b: [_complex(r, (*b, 3, 4))]),
    "matrix_power": (lambda m, A: m.linalg.matrix_power(A, 3) + m.linalg.matrix_power(A, -2),
                     lambda r, b: [_complex(r, (*b, 3, 3))]),
    "solve_triangular": (lambda m, A, B: m.linalg.solve_triangular(A, B, upper=True),
                         lambda r, b: [_complex(r, (*b, 3, 3)) + 3 * np.eye(3),
                                       _complex(r, (*b, 3, 2))]),
    "inv_ex": (lambda m, A: m.linalg.inv_ex(A).inverse, lambda r, b: [_complex(r, (*b, 3, 3))]),
    "solve_ex": (lambda m, A, B: m.linalg.solve_ex(A, B).result,
                 lambda r, b: [_complex(r, (*b, 3, 3)), _complex(r, (*b, 3, 2))]),
    "cholesky_ex": (lambda m, A: m.linalg.cholesky_ex(A).L,
                    lambda r, b: [_hermitian(r, (*b, 3, 3))]),
}

LINALG["lu"] = (lambda m, A: m.linalg.lu(A).L * 2 + m.linalg.lu(A).U[..., :1, :],
                lambda r, b: [_complex(r, (*b, 4, 3))])
LINALG["lu_wide"] = (lambda m, A: m.linalg.lu(A).U + m.linalg.lu(A).L.sum(-1, keepdim=True),
                     lambda r, b: [_complex(r, (*b, 2, 3))])
LINALG["lu_solve"] = (lambda m, A, B: m.linalg.lu_solve(*m.linalg.lu_factor(A), B),
                      lambda r, b: [_complex(r, (*b, 3, 3)), _complex(r, (*b, 3, 2))])
LINALG["lu_solve_adjoint"] = (
    lambda m, A, B: m.linalg.lu_solve(*m.linalg.lu_factor(A), B, adjoint=True)
    + m.linalg.lu_solve(*m.linalg.lu_factor(A), B.mT, left=False, adjoint=True).mT,
    lambda r, b: [_complex(r, (*b, 3, 3)), _complex(r, (*b, 3, 2))])
LINALG["eigvals"] = (lambda m, A: m.linalg.eigvals(A), lambda r, b: [_complex(r, (*b, 3, 3))])
LINALG["eig"] = (lambda m, A: _phase_free_eig(m, A), lambda r, b: [_complex(r, (*b, 3, 3))])
LINALG["eig_of_real"] = (lambda m, A: _phase_free_eig(m, A),
                         lambda r, b: [r.standard_normal((*b, 3, 3))])


def _phase_free_eig(m, A):
    w, v = m.linalg.eig(A)  # (V diag(w) V⁻¹, |V| and w do not depend on the phases)
    return (v * w[..., None, :]) @ m.linalg.inv(v) + v.abs() + w[..., None, :]


# the ones that read only a triangle of A (cholesky, eigh) are checked on a Hermitian function
# of a free matrix: central differences perturb one entry at a time, leaving the triangle
_READS_A_TRIANGLE = {"cholesky", "cholesky_upper", "eigh", "eigvalsh_upper", "pinv_hermitian",
                     "cholesky_ex"}


@pytest.mark.torch
@pytest.mark.parametrize("name", sorted(LINALG))
def test_complex_linalg_values_and_gradients_match_torch(name):
    f, draw = LINALG[name]
    for batch in ((), (2,)):
        _against_torch(f, draw(np.random.default_rng(len(batch)), batch), rtol=1e-7)


@pytest.mark.torch
@given(name=st.sampled_from(sorted(LINALG)), batch=tst.shapes(max_dims=1, max_side=2),
       seed=st.integers(0, 2**16))
def test_complex_linalg_matches_torch_on_drawn_inputs(name, batch, seed):
    f, draw = LINALG[name]
    _against_torch(f, draw(np.random.default_rng(seed), batch), seed, rtol=1e-7)


@pytest.mark.parametrize("name", sorted(LINALG))
def test_complex_linalg_passes_gradcheck(name):
    f, draw = LINALG[name]
    arrays = draw(np.random.default_rng(2), (2,))
    xs = [tr.tensor(a, requires_grad=True) for a in arrays]
    if name in _READS_A_TRIANGLE:
        n = arrays[0].shape[-1]
        assert gradcheck(lambda a: f(tr, a @ a.mH + n * tr.eye(n, dtype=a.dtype)), xs)
    else:
        assert gradcheck(lambda *xs: f(tr, *xs), xs)


@pytest.mark.parametrize("name", ["det", "slogdet", "inv", "qr", "svdvals", "pinv",
                                  "matrix_exp", "cholesky", "eigh", "eig"])
def test_complex_linalg_is_differentiable_twice(name):
    f, draw = LINALG[name]
    (a,) = draw(np.random.default_rng(3), ())
    z = tr.tensor(a[..., :2, :2] if name != "qr" else a[..., :3, :2], requires_grad=True)
    if name in _READS_A_TRIANGLE:
        assert gradgradcheck(lambda a: f(tr, a @ a.mH + 2 * tr.eye(2, dtype=a.dtype)), (z,))
    else:
        assert gradgradcheck(lambda a: f(tr, a), (z,))


def test_complex_det_of_a_singular_matrix_has_its_exact_gradient():
    """(PyTorch's CPU kernel gives zeros there; the adjugate is the derivative.)"""
    a = tr.tensor(np.array([[1, 2j, 0], [1, 2j, 0], [1j, 1, 1]]), requires_grad=True)
    assert abs(tr.linalg.det(a).item()) < 1e-12
    assert gradcheck(lambda a: tr.linalg.det(a), (a,))


@pytest.mark.torch
def test_complex_slogdet_sign_is_complex_and_logabsdet_real_as_torch():
    torch = pytest.importorskip("torch")
    a = _complex(np.random.default_rng(4), (2, 3, 3)).astype(np.complex64)
    sign, logabsdet = tr.linalg.slogdet(tr.tensor(a))
    ts, tl = torch.linalg.slogdet(torch.tensor(a))
    assert sign.dtype == np.complex64 and logabsdet.dtype == np.float32
    np.testing.assert_allclose(sign.numpy(), ts.numpy(), rtol=1e-5)
    np.testing.assert_allclose(logabsdet.numpy(), tl.numpy(), rtol=1e-5)


@pytest.mark.parametrize("p", ["fro", "nuc", 1, -math.inf, -2])
def test_complex_cond_passes_gradcheck(p):
    a = tr.tensor(_complex(np.random.default_rng(6), (2, 3, 3)), requires_grad=True)
    assert gradcheck(lambda a: tr.linalg.cond(a, p), (a,))


@pytest.mark.torch
@pytest.mark.parametrize("upper", [False, True])
def test_complex_cholesky_solve_and_inverse_match_torch_on_the_factors_triangle(upper):
    """(PyTorch's gradient also fills the triangle of the factor that is not read; here, as
    for real factors, only the triangle read gets one.)"""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(7)
    factor = np.linalg.cholesky(_hermitian(rng, (2, 3, 3)))
    factor = factor.conj().swapaxes(-1, -2) if upper else factor
    b, g = _complex(rng, (2, 3, 2)), _complex(rng, (2, 3, 2))
    read = np.triu(np.ones((3, 3))) if upper else np.tril(np.ones((3, 3)))
    for f in (lambda m, b, L: m.cholesky_solve(b, L, upper),
              lambda m, b, L: m.cholesky_inverse(L, upper)[..., :2] + b):
        ours = [tr.tensor(b, requires_grad=True), tr.tensor(factor, requires_grad=True)]
        theirs = [torch.tensor(b, requires_grad=True), torch.tensor(factor, requires_grad=True)]
        y, yt = f(tr, *ours), f(torch, *theirs)
        np.testing.assert_allclose(y.numpy(), yt.detach().numpy(), rtol=1e-10)
        y.backward(tr.tensor(g))
        yt.backward(torch.tensor(g))
        np.testing.assert_allclose(ours[0].grad.numpy(), theirs[0].grad.numpy(), rtol=1e-9)
        np.testing.assert_allclose(ours[1].grad.numpy(), theirs[1].grad.numpy() * read,
                                   rtol=1e-9, atol=1e-12)


@pytest.mark.torch
def test_complex_lu_pivots_by_lapacks_size_of_a_complex_number_as_torch():
    """getrf picks the pivot of largest |Re| + |Im| (not modulus): 2 + 2i over 3 here."""
    torch = pytest.importorskip("torch")
    a = np.array([[3, 1j], [2 + 2j, 1]])
    P, L, U = tr.linalg.lu(tr.tensor(a))
    Pt, Lt, Ut = torch.linalg.lu(torch.tensor(a))
    for ours, theirs in ((P, Pt), (L, Lt), (U, Ut)):
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12)
    assert P.numpy()[0, 1] == 1


@pytest.mark.torch
def test_complex_lstsq_residuals_are_real_as_torch():
    rng = np.random.default_rng(5)
    _against_torch(lambda m, A, B: m.linalg.lstsq(A, B, driver="gelsd").residuals,
                   [_complex(rng, (5, 3)), _complex(rng, (5, 2))])


# ---- the complex views: real, imag, conj, view_as_real, view_as_complex ----------------------


def _writes(m, z0, x0):
    """Writes through each complex view and into the bases, then a loss of everything."""
    z, x = z0 * 1, x0 * 1
    r, i, c, v = z.real, z.imag, z.conj(), m.view_as_real(z)
    r.mul_(2)  # into a view: the base changes, and the other views with it
    i[0] = 5.0
    c[1:].add_(1j)
    v[..., 0].sub_(0.5)
    z.mul_(1 - 1j)  # into the base: every view changes
    w = m.view_as_complex(x)
    w.add_(z[:2])  # through view_as_complex into x
    x.mul_(3)
    parts = [z, r, i, c.resolve_conj(), v, w, x]
    values = [p.detach().resolve_conj().numpy().copy() for p in parts]
    loss = sum((p.abs() ** 2).sum() for p in parts) + (c * v[..., 1]).real.sum()
    return values, loss


@pytest.mark.torch
def test_complex_views_pass_writes_both_ways_with_torch_values_and_gradients():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(7)
    z0, x0 = _complex(rng, (3,)), rng.standard_normal((2, 2))
    ours = [tr.tensor(z0, requires_grad=True), tr.tensor(x0, requires_grad=True)]
    theirs = [torch.tensor(z0, requires_grad=True), torch.tensor(x0, requires_grad=True)]
    (values, loss), (values_t, loss_t) = _writes(tr, *ours), _writes(torch, *theirs)
    for a, b in zip(values, values_t):
        np.testing.assert_allclose(a, b, rtol=1e-12)
    loss.backward()
    loss_t.backward()
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-10)


def test_conj_is_a_view_and_conj_physical_a_copy_as_torch():
    z = tr.tensor(np.array([1 + 2j, -1j]))
    c, p = z.conj(), z.conj_physical()
    assert c.is_conj() and not p.is_conj() and not z.is_conj()
    r = c.resolve_conj()
    assert not r.is_conj() and not c.conj().is_conj() and c.conj().conj().is_conj()
    z.add_(1)
    np.testing.assert_allclose(c.numpy(), [2 - 2j, 1 + 1j])
    np.testing.assert_allclose(p.numpy(), [1 - 2j, 1j])  # (a copy: unchanged)
    np.testing.assert_allclose(r.numpy(), [1 - 2j, 1j])
    x = tr.tensor([1.0, 2.0])
    assert x.real is x and x.conj() is x and x.conj_physical() is x and not x.is_conj()


def test_a_write_into_a_view_of_a_leaf_that_requires_grad_is_refused():
    z = tr.tensor(np.array([1 + 2j]), requires_grad=True)
    for view in (z.real, z.imag, z.conj(), tr.view_as_real(z)):
        with pytest.raises(RuntimeError, match="leaf tensor that requires grad"):
            view.mul_(2)
    with tr.no_grad():
        z.imag.mul_(2)
    np.testing.assert_allclose(z.detach().numpy(), [1 + 4j])


@given(shape=tst.shapes(min_dims=1, max_dims=2, max_side=3), seed=st.integers(0, 2**16))
def test_writes_through_complex_views_pass_gradcheck(shape, seed):
    rng = np.random.default_rng(seed)
    z = tr.tensor(_complex(rng, shape), requires_grad=True)
    w = tr.tensor(rng.standard_normal((*shape, 2)), requires_grad=True)

    def f(z, w):
        y = z.exp()
        y.imag.mul_(z.real.sin())
        tr.view_as_real(y).add_(w)
        y.conj().mul_(1 + 2j)
        return y
    assert gradcheck(f, (z, w))


@pytest.mark.parametrize("device", [d for d in DEVICES if d != "cpu"])
def test_complex_ops_and_views_on_other_devices_equal_the_cpu(device):
    """Every function above on the strict device (NumPy behind a wrapper that refuses plain
    NumPy calls, as CuPy would) and on CUDA where there is one: the cpu's values and
    gradients of the sum of |y|²."""
    rng = np.random.default_rng(9)
    cases = [(f, [_complex(rng, (3, 4))]) for f in VECTOR.values()]
    cases += [(f, draw(rng, (2,))) for f, draw in LINALG.values()]
    cases.append((lambda m, z, x: _writes(m, z, x)[1],
                  [_complex(rng, (3,)), rng.standard_normal((2, 2))]))
    for f, arrays in cases:
        got = []
        for dev in (device, "cpu"):
            xs = [tr.tensor(a, device=dev, requires_grad=True) for a in arrays]
            y = f(tr, *xs)
            (y.abs() ** 2).sum().backward()
            assert y.device == xs[0].grad.device == dev
            got.append([y.numpy()] + [x.grad.numpy() for x in xs])
        for a, b in zip(*got):
            np.testing.assert_allclose(a, b, rtol=1e-8, atol=1e-10)
