"""``tr.linalg`` against ``torch.linalg`` in float64 (values, gradients and second
derivatives, on batches of matrices drawn by Hypothesis), against central differences, on the
strict device, and its errors."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_rnn as tr
from tinygrad_rnn import linalg as LA
from tinygrad_rnn.testing import gradcheck, gradgradcheck

from .conftest import DEVICES


@st.composite
def _matrices(draw, extra=0, square=True):
    """(batch..., n, n + extra) float64 arrays, kept well away from singular (a random matrix
    plus n on the diagonal), for finite differences that mean something."""
    batch = draw(st.lists(st.integers(1, 3), max_size=2))
    n = draw(st.integers(1, 4))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    a = rng.uniform(-1, 1, (*batch, n, n + extra))
    if square:
        a = a + n * np.eye(n)
    return a


def _spd(a):
    """A symmetric positive-definite matrix from a square one."""
    return a @ np.swapaxes(a, -1, -2) + np.eye(a.shape[-1])


def _against_torch(ours, theirs, *arrays, tol=1e-10):
    """ours and theirs on float64 leaves: equal values, and equal gradients of a random
    weighting of the output (a tuple output: its last element)."""
    torch = pytest.importorskip("torch")
    lo = [tr.tensor(a, requires_grad=True) for a in arrays]
    lt = [torch.tensor(a, requires_grad=True) for a in arrays]
    a, b = ours(*lo), theirs(*lt)
    a, b = (a[-1], b[-1]) if isinstance(b, tuple) else (a, b)
    np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=tol, atol=tol)
    w = np.random.default_rng(0).standard_normal(tuple(b.shape))
    (a * tr.tensor(w)).sum().backward()
    (b * torch.tensor(w)).sum().backward()
    for x, y in zip(lo, lt):
        np.testing.assert_allclose(x.grad.numpy(), y.grad.numpy(), rtol=tol, atol=tol)


def _torch_linalg(name):
    torch = pytest.importorskip("torch")
    return getattr(torch.linalg, name)


SQUARE = {
    "inv": (LA.inv, lambda: _torch_linalg("inv")),
    "det": (LA.det, lambda: _torch_linalg("det")),
    "slogdet": (lambda a: LA.slogdet(a).logabsdet,
                lambda: lambda a: _torch_linalg("slogdet")(a).logabsdet),
    "matrix_power3": (lambda a: LA.matrix_power(a, 3),
                      lambda: lambda a: _torch_linalg("matrix_power")(a, 3)),
    "matrix_power-2": (lambda a: LA.matrix_power(a, -2),
                       lambda: lambda a: _torch_linalg("matrix_power")(a, -2)),
    "matrix_exp": (LA.matrix_exp, lambda: _torch_linalg("matrix_exp")),
}


@pytest.mark.torch
@pytest.mark.parametrize("scale", [0.01, 1.0, 8.0, 40.0])
def test_matrix_exp_matches_torch_across_norms(scale):
    """Scaling and squaring: small norms (no squaring) to large ones (many squarings)."""
    a = np.random.default_rng(13).standard_normal((2, 4, 4)) * scale
    _against_torch(LA.matrix_exp, _torch_linalg("matrix_exp"), a, tol=1e-12 * max(
        1.0, np.exp(4 * scale)))
    skew = a - np.swapaxes(a, -1, -2)  # exp of a skew-symmetric matrix is orthogonal
    q = LA.matrix_exp(tr.tensor(skew)).numpy()
    np.testing.assert_allclose(q @ np.swapaxes(q, -1, -2), np.broadcast_to(np.eye(4), q.shape),
                               atol=1e-12)


@pytest.mark.torch
@pytest.mark.parametrize("shape,k", [((2, 5, 3), 3), ((4, 4), 2), ((6, 2), 1)])
def test_householder_product_matches_torch(shape, k):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(14)
    a, tau = rng.standard_normal(shape), rng.standard_normal(shape[:-2] + (k,))
    _against_torch(LA.householder_product, torch.linalg.householder_product, a, tau)
    assert gradcheck(LA.householder_product, (tr.tensor(a, requires_grad=True),
                                              tr.tensor(tau, requires_grad=True)))


@pytest.mark.torch
@pytest.mark.parametrize("name", list(SQUARE))
@given(a=_matrices())
def test_square_functions_match_torch(name, a):
    ours, theirs = SQUARE[name]
    _against_torch(ours, theirs(), a, tol=1e-9)


@pytest.mark.torch
@given(a=_matrices(), k=st.integers(1, 3), vector=st.booleans(), left=st.booleans(),
       batch_b=st.sampled_from([(), (1,), (2,)]))
def test_solve_matches_torch(a, k, vector, left, batch_b):
    torch = pytest.importorskip("torch")
    n = a.shape[-1]
    if vector:  # B a batch of vectors; left=False needs matrices
        b, left = np.random.default_rng(1).standard_normal(a.shape[:-1]), True
    else:
        b = np.random.default_rng(1).standard_normal(batch_b + a.shape[:-2] + (n, k))
        b = np.swapaxes(b, -1, -2) if not left else b
    _against_torch(lambda x, y: LA.solve(x, y, left=left),
                   lambda x, y: torch.linalg.solve(x, y, left=left), a, b, tol=1e-9)


@pytest.mark.torch
@pytest.mark.parametrize("upper", [True, False])
@pytest.mark.parametrize("unitriangular", [True, False])
@pytest.mark.parametrize("left", [True, False])
def test_solve_triangular_matches_torch(upper, unitriangular, left):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    a = rng.uniform(-1, 1, (2, 4, 4)) + 4 * np.eye(4)
    b = rng.standard_normal((2, 4, 3) if left else (2, 3, 4))
    kw = dict(upper=upper, unitriangular=unitriangular, left=left)
    _against_torch(lambda x, y: LA.solve_triangular(x, y, **kw),
                   lambda x, y: torch.linalg.solve_triangular(x, y, **kw), a, b)


@pytest.mark.torch
@pytest.mark.parametrize("upper", [False, True])
@given(a=_matrices())
def test_cholesky_matches_torch(upper, a):
    torch = pytest.importorskip("torch")
    _against_torch(lambda x: LA.cholesky(x, upper=upper),
                   lambda x: torch.linalg.cholesky(x, upper=upper), _spd(a), tol=1e-9)


@pytest.mark.torch
@pytest.mark.parametrize("uplo", ["L", "U"])
def test_eigh_matches_torch(uplo):
    """Eigenvalues and eigenvectors (up to each vector's sign, so |V| is compared), with
    their gradients, on a non-symmetric input of which one triangle is read."""
    torch = pytest.importorskip("torch")
    a = np.random.default_rng(4).standard_normal((2, 4, 4))
    _against_torch(lambda x: LA.eigvalsh(x, uplo), lambda x: torch.linalg.eigvalsh(x, uplo), a)
    _against_torch(lambda x: LA.eigh(x, uplo).eigenvectors.abs(),
                   lambda x: torch.linalg.eigh(x, uplo).eigenvectors.abs(), a)
    _against_torch(lambda x: LA.eigh(x, uplo)[0] + LA.eigh(x, uplo)[1].abs().sum(-2),
                   lambda x: torch.linalg.eigh(x, uplo)[0]
                   + torch.linalg.eigh(x, uplo)[1].abs().sum(-2), a)


@pytest.mark.torch
@given(a=_matrices(extra=1, square=False), transpose=st.booleans(), extra=st.integers(0, 2))
def test_qr_matches_torch(a, transpose, extra):
    """Q and R, and the gradient through both, for tall, square and wide matrices."""
    torch = pytest.importorskip("torch")
    a = np.swapaxes(a, -1, -2) if transpose else a
    if extra:  # wider still: the [X | Y] split
        a = np.concatenate([a, np.random.default_rng(extra).standard_normal(
            a.shape[:-1] + (extra,))], -1)
    _against_torch(lambda x: LA.qr(x).Q, lambda x: torch.linalg.qr(x).Q, a, tol=1e-9)
    _against_torch(lambda x: LA.qr(x).R, lambda x: torch.linalg.qr(x).R, a, tol=1e-9)
    q, r = LA.qr(tr.tensor(a))
    np.testing.assert_allclose(q.numpy() @ r.numpy(), a, atol=1e-12)


@pytest.mark.torch
@pytest.mark.parametrize("shape", [(5, 3), (3, 3), (3, 5), (2, 6, 4), (2, 3, 6)])
def test_pinv_and_lstsq_match_torch(shape):
    """Full-rank tall, square and wide matrices (a wide one's least-squares solution is the
    least-norm one), values and gradients in A and B."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(21)
    a, b = rng.standard_normal(shape), rng.standard_normal(shape[:-1] + (2,))
    _against_torch(LA.pinv, torch.linalg.pinv, a)
    _against_torch(lambda x, y: LA.lstsq(x, y).solution,
                   lambda x, y: torch.linalg.lstsq(x, y).solution, a, b)
    ours, theirs = LA.lstsq(tr.tensor(a), tr.tensor(b)), torch.linalg.lstsq(
        torch.tensor(a), torch.tensor(b))
    assert ours.rank.tolist() == theirs.rank.tolist()
    assert ours.residuals.shape == tuple(theirs.residuals.shape) == (0,)
    rank2 = rng.standard_normal((4, 3))
    rank2[:, 2] = rank2[:, 0]
    with pytest.raises(ValueError, match=r"needs B of shape \(\.\.\., 4, k\)"):
        LA.lstsq(tr.tensor(rank2), tr.tensor(np.ones((3, 2))))
    with pytest.raises(ValueError, match=r"needs a vector B of length 4, got shape \(3,\)"):
        LA.lstsq(tr.tensor(rank2), tr.tensor(np.ones(3)))


def _low_rank(rng, shape, rank):
    """A (batch..., m, n) array of the given rank (a product through ``rank`` columns)."""
    return rng.standard_normal(shape[:-1] + (rank,)) @ rng.standard_normal((rank, shape[-1]))


@pytest.mark.torch
@pytest.mark.parametrize("shape", [(5, 4), (4, 5), (4, 4), (2, 6, 3), (2, 3, 6)])
@pytest.mark.parametrize("driver", ["gelsy", "gelsd", "gelss"])
def test_rank_deficient_pinv_and_lstsq_match_torch(shape, driver):
    """Rank 2 of min(m, n) >= 3: the singular values below the tolerance are dropped, and the
    gradient (Golub and Pereyra's, for a rank kept by small changes) is PyTorch's; lstsq's
    rank, singular values and residuals fields are those of the driver."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(22)
    a, b = _low_rank(rng, shape, 2), rng.standard_normal(shape[:-1] + (3,))
    _against_torch(LA.pinv, torch.linalg.pinv, a)
    _against_torch(lambda x, y: LA.lstsq(x, y, driver=driver).solution,
                   lambda x, y: torch.linalg.lstsq(x, y, driver=driver).solution, a, b)
    ours = LA.lstsq(tr.tensor(a), tr.tensor(b), driver=driver)
    theirs = torch.linalg.lstsq(torch.tensor(a), torch.tensor(b), driver=driver)
    assert ours.rank.tolist() == theirs.rank.tolist()
    assert ours.residuals.shape == tuple(theirs.residuals.shape) == (0,)  # not full rank
    np.testing.assert_allclose(ours.singular_values.numpy(), theirs.singular_values.numpy(),
                               atol=1e-12)
    assert LA.matrix_rank(tr.tensor(a)).tolist() == torch.linalg.matrix_rank(
        torch.tensor(a)).tolist()


@pytest.mark.torch
@pytest.mark.parametrize("driver", ["gels", "gelsy", "gelsd", "gelss"])
def test_lstsq_fields_of_a_full_rank_tall_matrix_match_torch(driver):
    """Residuals (m > n, full rank; all drivers but gelsy), rank (all but gels) and singular
    values (gelsd, gelss), each as PyTorch gives them, and their gradient where it has one."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(23)
    a, b = rng.standard_normal((2, 6, 3)), rng.standard_normal((2, 6, 2))
    ours = LA.lstsq(tr.tensor(a), tr.tensor(b), driver=driver)
    theirs = torch.linalg.lstsq(torch.tensor(a), torch.tensor(b), driver=driver)
    for field in ("solution", "residuals", "rank", "singular_values"):
        x, y = getattr(ours, field).numpy(), getattr(theirs, field).numpy()
        assert x.shape == y.shape and x.dtype == y.dtype, field
        np.testing.assert_allclose(x, y, rtol=1e-10, atol=1e-12, err_msg=field)
    if driver != "gelsy":
        _against_torch(lambda x, y: LA.lstsq(x, y, driver=driver).residuals,
                       lambda x, y: torch.linalg.lstsq(x, y, driver=driver).residuals, a, b)


@pytest.mark.torch
def test_pinv_tolerances_and_hermitian_match_torch():
    """atol and rtol, as numbers and one per matrix, and hermitian=True, which reads the lower
    triangle only (its gradient is PyTorch's formula, on the whole matrix)."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(24)
    a = rng.standard_normal((3, 4, 4))
    s = np.linalg.svd(a, compute_uv=False)
    for kw in ({"atol": float(s[0, 1])}, {"rtol": 0.5}, {"atol": 0.0},
               {"atol": 0.3, "rtol": 0.2}):
        _against_torch(lambda x, kw=kw: LA.pinv(x, **kw),
                       lambda x, kw=kw: torch.linalg.pinv(x, **kw), a)
    per = s[:, 2] + 1e-9  # keep two singular values of each, whatever they are
    _against_torch(lambda x: LA.pinv(x, atol=tr.tensor(per)),
                   lambda x: torch.linalg.pinv(x, atol=torch.tensor(per)), a)
    sym = a + np.swapaxes(a, -1, -2)
    sym[:, 0, 3] = 50.0  # the upper triangle is not read
    _against_torch(lambda x: LA.pinv(x, hermitian=True),
                   lambda x: torch.linalg.pinv(x, hermitian=True), sym)
    _against_torch(lambda x: LA.pinv(x, hermitian=True, rtol=0.4),
                   lambda x: torch.linalg.pinv(x, hermitian=True, rtol=0.4), sym)
    assert LA.matrix_rank(tr.tensor(sym), hermitian=True, rtol=0.4).tolist() == \
        torch.linalg.matrix_rank(torch.tensor(sym), hermitian=True, rtol=0.4).tolist()
    _against_torch(lambda x: x.pinverse(), lambda x: x.pinverse(), a[..., :3])


def _svd_uses(r, k):
    """Sign-free functions of every output of an SVD (LAPACK may flip a pair of singular
    vectors): the product U diag(S) Vh over the first k, |U| and |Vh| over the first k."""
    u, s, vh = r
    return ((u[..., :k] * s[..., None, :]) @ vh[..., :k, :]).sum(-1) \
        + u[..., :k].abs().sum(-1) * 0.3 + vh[..., :k, :].abs().sum(-2).sum(-1, keepdim=True)


@pytest.mark.torch
@pytest.mark.parametrize("full", [False, True])
@settings(max_examples=10)
@given(a=_matrices(extra=2, square=False), transpose=st.booleans())
def test_svd_matches_torch(a, transpose, full):
    """U, S and Vh (up to the sign of each singular pair) and the gradient through all three,
    tall, wide and square, reduced and full."""
    torch = pytest.importorskip("torch")
    a = np.swapaxes(a, -1, -2) if transpose else a
    k = min(a.shape[-2:])
    ours, theirs = LA.svd(tr.tensor(a), full), torch.linalg.svd(torch.tensor(a), full)
    for x, y in zip(ours, theirs):
        assert x.shape == tuple(y.shape)
    np.testing.assert_allclose(ours.S.numpy(), theirs.S.numpy(), atol=1e-12)
    pairs = (ours.U[..., :k], theirs.U[..., :k]), (ours.Vh[..., :k, :], theirs.Vh[..., :k, :])
    for x, y in pairs:
        np.testing.assert_allclose(np.abs(x.numpy()), np.abs(y.numpy()), atol=1e-9)
    _against_torch(lambda x: _svd_uses(LA.svd(x, full), k),
                   lambda x: _svd_uses(torch.linalg.svd(x, full), k), a, tol=1e-9)
    u, s, v = tr.svd(tr.tensor(a), some=not full)  # torch.svd's V
    np.testing.assert_allclose((u[..., :k] * s[..., None, :]).numpy() @ np.swapaxes(
        v[..., :k].numpy(), -1, -2), a, atol=1e-12)


def test_svd_of_a_matrix_with_a_zero_or_repeated_singular_value():
    """Through S alone the gradient is U Vh (finite even where singular values repeat);
    through U and Vh it needs them distinct: inf or NaN appear, as in PyTorch, not a wrong
    number."""
    x = tr.tensor(np.eye(3), requires_grad=True)
    LA.svd(x).S.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.eye(3), atol=1e-15)
    x.grad = None
    LA.svd(x).U.sum().backward()
    assert not np.isfinite(x.grad.numpy()).all()


def test_qr_modes_and_errors():
    a = tr.tensor(np.random.default_rng(19).standard_normal((4, 3)))
    assert LA.qr(a, "r").Q.shape == (0,) and LA.qr(a, "r").R.shape == (3, 3)
    wide = tr.tensor(np.random.default_rng(20).standard_normal((2, 5)))
    assert LA.qr(wide, "complete").Q.shape == (2, 2)
    assert LA.qr(a, "complete").Q.shape == (4, 4) and LA.qr(a, "complete").R.shape == (4, 3)
    with pytest.raises(ValueError, match="mode must be 'reduced', 'complete' or 'r'"):
        LA.qr(a, "full")


@pytest.mark.torch
@given(a=_matrices(extra=1, square=False), transpose=st.booleans())
def test_svdvals_matches_torch(a, transpose):
    a = np.swapaxes(a, -1, -2) if transpose else a
    _against_torch(LA.svdvals, _torch_linalg("svdvals"), a, tol=1e-9)


@pytest.mark.torch
def test_det_of_a_singular_matrix_has_torchs_gradient():
    """The adjugate, from the SVD: rank n - 1 (one nonzero cofactor pattern) and rank n - 2
    (a zero gradient)."""
    a = np.random.default_rng(5).standard_normal((4, 4))
    rank3, rank2 = a.copy(), a.copy()
    rank3[:, 3] = rank3[:, 0] + 2 * rank3[:, 1]
    rank2[:, 2:] = rank2[:, :1]
    for m in (rank3, rank2):
        _against_torch(LA.det, _torch_linalg("det"), m, tol=1e-12)


@pytest.mark.torch
def test_logdet_matches_torch():
    """log det: NaN (gradient 0) for a negative determinant, -inf for a zero one."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(6)
    a = rng.standard_normal((3, 3))
    _against_torch(LA.logdet, torch.logdet, _spd(a))
    flipped = _spd(a)[[1, 0, 2]]  # rows swapped: det < 0
    x = tr.tensor(flipped, requires_grad=True)
    y = LA.logdet(x)
    y.backward()
    assert math.isnan(y.item()) and not x.grad.numpy().any()
    assert LA.logdet(tr.tensor(np.zeros((2, 2)))).item() == -math.inf


NORMS = [("fro", (-2, -1)), ("nuc", (-2, -1)), (2, (0, 2)), (-2, (-2, -1)), (1, (-1, -2)),
         (-1, (0, 1)), (math.inf, (-2, -1)), (-math.inf, (2, 0))]


@pytest.mark.torch
@pytest.mark.parametrize("ord_,dim", NORMS)
@pytest.mark.parametrize("keepdim", [False, True])
def test_matrix_norm_matches_torch(ord_, dim, keepdim):
    torch = pytest.importorskip("torch")
    a = np.random.default_rng(7).standard_normal((2, 3, 5))
    _against_torch(lambda x: LA.matrix_norm(x, ord_, dim, keepdim),
                   lambda x: torch.linalg.matrix_norm(x, ord_, dim, keepdim), a)
    _against_torch(lambda x: LA.norm(x, ord_, dim, keepdim),
                   lambda x: torch.linalg.norm(x, ord_, dim, keepdim), a)


@pytest.mark.torch
@pytest.mark.parametrize("ord_", [2, 1, 3, 0.5, -1, math.inf, -math.inf])
@pytest.mark.parametrize("dim", [None, 1, (0, 2)])
def test_vector_norm_matches_torch(ord_, dim):
    torch = pytest.importorskip("torch")
    a = np.random.default_rng(8).standard_normal((2, 3, 5))
    _against_torch(lambda x: LA.vector_norm(x, ord_, dim, True),
                   lambda x: torch.linalg.vector_norm(x, ord_, dim, True), a)
    if dim != (0, 2):  # two axes make linalg.norm a matrix norm
        _against_torch(lambda x: LA.norm(x, ord_ if dim else None, dim),
                       lambda x: torch.linalg.norm(x, ord_ if dim else None, dim), a)


@pytest.mark.torch
def test_small_compositions_match_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(9)
    v, m, w = rng.standard_normal(3), rng.standard_normal((3, 4)), rng.standard_normal(4)
    _against_torch(lambda *t: LA.multi_dot(t), lambda *t: torch.linalg.multi_dot(t), v, m, w)
    a, b = rng.standard_normal((4, 3, 2)), rng.standard_normal((1, 3, 2))
    _against_torch(lambda x, y: LA.cross(x, y, dim=1), lambda x, y: torch.linalg.cross(
        x, y, dim=1), a, b)
    _against_torch(lambda x, y: LA.vecdot(x, y, dim=1), lambda x, y: torch.linalg.vecdot(
        x, y, dim=1), a, b)
    sing = rng.standard_normal((2, 4, 4))
    sing[0, :, 3] = sing[0, :, 0]
    assert LA.matrix_rank(tr.tensor(sing)).tolist() == \
        torch.linalg.matrix_rank(torch.tensor(sing)).tolist() == [3, 4]
    assert LA.matrix_rank(tr.tensor(sing), atol=1e9).tolist() == [0, 0]
    eye = LA.matrix_power(tr.tensor(sing), 0)
    assert eye.shape == (2, 4, 4) and (eye.numpy() == np.eye(4)).all()


# the ops with a backward of their own, on inputs gradcheck can perturb freely
OWN_BACKWARD = {
    "inv": lambda a: LA.inv(a),
    "det": lambda a: LA.det(a),
    "slogdet": lambda a: LA.slogdet(a).logabsdet,
    "solve": lambda a: LA.solve(a, a[..., :1, :].mT * 2 + 1),
    "cholesky": lambda a: LA.cholesky(a @ a.mT),
    "eigh": lambda a: LA.eigh(a + a.mT).eigenvalues,
    "svdvals": lambda a: LA.svdvals(a),
    "svd": lambda a: _svd_uses(LA.svd(a), a.shape[-1]),
    "svd_tall_wide": lambda a: _svd_uses(LA.svd(a[..., :-1, :]), a.shape[-1] - 1)
    + _svd_uses(LA.svd(a[..., :, :-1]), a.shape[-1] - 1).sum(-1, keepdim=True),
    "pinv": lambda a: LA.pinv(a[..., :-1, :]) if a.shape[-1] > 1 else LA.pinv(a),
    "pinv_hermitian": lambda a: LA.pinv(a + a.mT, hermitian=True),
    "eigh_vectors": lambda a: LA.eigh(a + a.mT).eigenvectors[..., 0, :] ** 2,
    "matrix_exp": lambda a: LA.matrix_exp(a * 0.7),
    "lu": lambda a: LA.lu(a).L * 2 + LA.lu(a).U,
    "lu_tall_wide": lambda a: LA.lu(a[..., :-1, :]).L.sum(-1) if a.shape[-1] > 1
    else LA.lu(a).U.sum(-1),
    "qr": lambda a: LA.qr(a).Q * 2 + LA.qr(a).R,
}


@pytest.mark.parametrize("name", list(OWN_BACKWARD))
@settings(max_examples=8)
@given(a=_matrices())
def test_gradients_match_central_differences(name, a):
    assert gradcheck(OWN_BACKWARD[name], (tr.tensor(a, requires_grad=True),))


@pytest.mark.parametrize("name", list(OWN_BACKWARD))
@settings(max_examples=5)
@given(a=_matrices())
def test_second_derivatives_match_central_differences(name, a):
    assert gradgradcheck(OWN_BACKWARD[name], (tr.tensor(a, requires_grad=True),))


def test_solve_broadcasts_and_sums_the_gradient_back():
    """One A for a batch of right-hand sides: A's gradient is the sum over the batch."""
    rng = np.random.default_rng(10)
    a = tr.tensor(rng.uniform(-1, 1, (3, 3)) + 3 * np.eye(3), requires_grad=True)
    b = tr.tensor(rng.standard_normal((5, 3, 2)), requires_grad=True)
    assert gradcheck(LA.solve, (a, b))
    x = LA.solve(a, b)
    assert x.shape == (5, 3, 2)
    np.testing.assert_allclose(a.numpy() @ x.detach().numpy(), b.numpy(), atol=1e-12)


@pytest.mark.parametrize("device", DEVICES)
def test_strict_device_equals_cpu(device):
    """Every op's forward and backward through ``xp`` only (the strict device refuses NumPy
    called directly, as CuPy would)."""
    a = np.random.default_rng(11).uniform(-1, 1, (2, 3, 3)) + 3 * np.eye(3)
    grads = {}
    for name, f in OWN_BACKWARD.items():
        x = tr.tensor(a, device=device, requires_grad=True)
        y = f(x)
        y.sum().backward()
        assert y.device == x.grad.device == device
        grads[name] = (y.numpy(), x.grad.numpy())
        ref = tr.tensor(a, requires_grad=True)
        f(ref).sum().backward()
        np.testing.assert_allclose(grads[name][1], ref.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_float32_stays_float32():
    a = tr.tensor(np.eye(3) * 2 + 0.1, dtype="float32")
    for y in (LA.inv(a), LA.det(a), *LA.slogdet(a), LA.cholesky(a), *LA.eigh(a),
              LA.svdvals(a), LA.solve(a, a), LA.matrix_norm(a), LA.vector_norm(a)):
        assert y.dtype == tr.float32


def test_errors_name_the_problem():
    rng = np.random.default_rng(12)
    with pytest.raises(ValueError, match=r"linalg.inv: A \(shape \(2, 3, 3\)\) is singular"):
        LA.inv(tr.tensor(np.zeros((2, 3, 3))))
    with pytest.raises(ValueError, match="not positive-definite"):
        LA.cholesky(tr.tensor(-np.eye(3)))
    with pytest.raises(ValueError, match=r"square matrix .* got shape \(2, 3\)"):
        LA.det(tr.tensor(np.ones((2, 3))))
    with pytest.raises(TypeError, match="floating-point .* int64"):
        LA.inv(tr.tensor(np.eye(3, dtype=np.int64)))
    a = tr.tensor(rng.standard_normal((2, 3, 3)))
    with pytest.raises(ValueError, match=r"needs B of shape \(\.\.\., 3\) .* got \(2, 4, 1\)"):
        LA.solve(a, tr.tensor(np.ones((2, 4, 1))))
    with pytest.raises(ValueError, match=r"batch shapes \(2,\) and \(5,\) do not broadcast"):
        LA.solve(a, tr.tensor(np.ones((5, 3, 1))))
    with pytest.raises(TypeError, match="different dtypes"):
        LA.solve(a, tr.tensor(np.ones((3, 1)), dtype="float32"))
    with pytest.raises(ValueError, match="UPLO must be 'L' or 'U'"):
        LA.eigh(a, "X")
    with pytest.raises(ValueError, match="ord must be"):
        LA.matrix_norm(a, 3)
    with pytest.raises(ValueError, match="size 3"):
        LA.cross(a[..., :2], a[..., :2])
    with pytest.raises(TypeError, match="n must be an int"):
        LA.matrix_power(a, 1.5)
    with pytest.raises(ValueError, match="driver must be None, 'gesvd'"):
        LA.svd(a, driver="gesdd")
    with pytest.raises(ValueError, match=r"driver must be one of \('gels', 'gelsy'"):
        LA.lstsq(a, a, driver="x")
    with pytest.raises(TypeError, match="different dtypes, float64 and float32"):
        LA.lstsq(a, a.float())
    with pytest.raises(ValueError, match=r"square matrix .* got shape \(2, 3\)"):
        LA.pinv(tr.tensor(np.ones((2, 3))), hermitian=True)


@pytest.mark.torch
def test_edge_cases_match_torch():
    """Zero entries under a negative-order norm (0, gradient 0, no inf in the graph), the
    upper Cholesky factor reading the upper triangle, and empty batches."""
    torch = pytest.importorskip("torch")
    a = np.array([[0.0, 1, 2], [3, 0.5, 2]])
    for o in (-1, -2.5):
        _against_torch(lambda x, o=o: LA.vector_norm(x, o, dim=1),
                       lambda x, o=o: torch.linalg.vector_norm(x, o, dim=1), a)
    m = _spd(np.random.default_rng(15).standard_normal((3, 3)))
    m[2, 0] += 50  # the lower triangle is not read with upper=True
    _against_torch(lambda x: LA.cholesky(x, upper=True),
                   lambda x: torch.linalg.cholesky(x, upper=True), m)
    empty = np.zeros((0, 3, 3))
    for o in ("fro", "nuc", 2, -2, 1, -1, math.inf, -math.inf):
        assert LA.matrix_norm(tr.tensor(empty), o).shape == tuple(
            torch.linalg.matrix_norm(torch.tensor(empty), o).shape) == (0,)
    assert LA.matrix_rank(tr.tensor(empty)).shape == (0,)
    assert LA.det(tr.tensor(empty)).shape == LA.inv(tr.tensor(empty)).shape[:1] == (0,)


def test_results_stay_joined_to_their_inputs():
    """A^0 and an empty Householder product still reach A (and tau): zero gradients, not a
    tensor outside the graph, as PyTorch's."""
    a = tr.tensor(np.random.default_rng(16).standard_normal((2, 3, 3)), requires_grad=True)
    LA.matrix_power(a, 0).sum().backward()
    assert a.grad.shape == (2, 3, 3) and not a.grad.numpy().any()
    a.grad = None
    tau = tr.tensor(np.zeros((2, 0)), requires_grad=True)
    LA.householder_product(a, tau).sum().backward()
    assert not a.grad.numpy().any() and tau.grad.shape == (2, 0)


def test_singular_matrices_in_backward():
    """slogdet's gradient at a singular matrix is inf/NaN (as PyTorch's and CuPy's), not a
    NumPy error; create_graph through det of a singular matrix says why it cannot."""
    x = tr.tensor(np.zeros((3, 3)), requires_grad=True)
    LA.slogdet(x).logabsdet.backward()
    assert not np.isfinite(x.grad.numpy()).any()
    x = tr.tensor(np.ones((2, 2)), requires_grad=True)
    with pytest.raises(ValueError, match="needs an invertible matrix .* is singular"):
        tr.autograd.grad(LA.det(x), x, create_graph=True)
    with pytest.raises(ValueError, match="linalg.matrix_power: A .* is singular"):
        LA.matrix_power(tr.tensor(np.ones((2, 2))), -1)
    with pytest.raises(ValueError, match=r"left=False, A of shape \(3, 3\) needs B of shape "
                                         r"\(\.\.\., k, 3\), got \(3, 2\)"):
        LA.solve(tr.tensor(np.eye(3)), tr.tensor(np.ones((3, 2))), left=False)


def test_matrix_exp_gradient_keeps_its_accuracy_for_large_upstream_gradients():
    """The Fréchet derivative is linear in gy: scaled to norm 1 inside, so float32 stays
    accurate (here within 1e-4 of float64) for gy of any size."""
    rng = np.random.default_rng(17)
    a, g = rng.standard_normal((16, 16)) * 0.3, rng.standard_normal((16, 16))
    for mag in (1.0, 1e6):
        grads = []
        for dtype in ("float64", "float32"):
            x = tr.tensor(a, dtype=dtype, requires_grad=True)
            LA.matrix_exp(x).backward(tr.tensor(g * mag, dtype=dtype))
            grads.append(x.grad.numpy().astype(np.float64))
        assert np.abs(grads[1] - grads[0]).max() <= 1e-4 * np.abs(grads[0]).max()


@pytest.mark.torch
def test_tensor_methods_and_top_level_names_match_torch():
    """``x.inverse()``, ``tr.det(x)`` and the other names PyTorch has outside torch.linalg."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(18)
    a, v = rng.standard_normal((2, 3, 3)) + 3 * np.eye(3), rng.standard_normal((4, 3))
    x, t = tr.tensor(a), torch.tensor(a)
    for name in ("inverse", "det", "logdet", "matrix_exp"):
        for ours, theirs in ((getattr(x, name)(), getattr(t, name)()),
                             (getattr(tr, name)(x), getattr(torch, name)(t))):
            np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(x.slogdet()[1].numpy(), t.slogdet()[1].numpy(), rtol=1e-12)
    spd = tr.tensor(_spd(a))
    np.testing.assert_allclose(tr.cholesky(spd, upper=True).numpy(),
                               torch.linalg.cholesky(torch.tensor(_spd(a))).mH.numpy(),
                               rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(x.matrix_power(-2).numpy(), t.matrix_power(-2).numpy(),
                               rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(tr.cross(tr.tensor(v), tr.tensor(v[::-1].copy()), dim=1).numpy(),
                               torch.cross(torch.tensor(v), torch.tensor(v[::-1].copy()),
                                           dim=1).numpy(), atol=1e-14)
    np.testing.assert_allclose(tr.tensor(v[0]).outer(tr.tensor(v[1])).numpy(),
                               torch.outer(torch.tensor(v[0]), torch.tensor(v[1])).numpy())
    assert tr.linalg.inv is LA.inv and callable(tr.func.vmap)


@pytest.mark.torch
@pytest.mark.parametrize("shape", [(4, 4), (5, 3), (3, 5), (2, 4, 4), (2, 5, 3), (2, 3, 5)])
def test_lu_matches_torch(shape):
    """P, L and U (LAPACK's pivots: the same matrices as PyTorch's), lu_factor's packed LU and
    pivots, lu_unpack, and the gradient through L and U, for square, tall and wide matrices."""
    torch = pytest.importorskip("torch")
    a = np.random.default_rng(25).standard_normal(shape)
    ours, theirs = LA.lu(tr.tensor(a)), torch.linalg.lu(torch.tensor(a))
    for x, y in zip(ours, theirs):
        np.testing.assert_allclose(x.numpy(), y.numpy(), atol=1e-13)
    LU, piv = LA.lu_factor(tr.tensor(a))
    LUt, pivt = torch.linalg.lu_factor(torch.tensor(a))
    assert piv.dtype == tr.int32 and piv.tolist() == pivt.tolist()
    for x, y in zip(LA.lu_unpack(LU, piv), torch.lu_unpack(LUt, pivt)):
        np.testing.assert_allclose(x.numpy(), y.numpy(), atol=1e-13)
    _against_torch(lambda x: LA.lu(x).L, lambda x: torch.linalg.lu(x).L, a)
    _against_torch(lambda x: LA.lu(x).U, lambda x: torch.linalg.lu(x).U, a)
    _against_torch(lambda x: LA.lu_factor(x).LU, lambda x: torch.linalg.lu_factor(x).LU, a)


@pytest.mark.torch
@pytest.mark.parametrize("left", [True, False])
@pytest.mark.parametrize("adjoint", [False, True])
def test_lu_solve_matches_torch(left, adjoint):
    """Values and gradients in LU and B, for each side and with the transpose."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(26)
    a = rng.standard_normal((2, 3, 3)) + 3 * np.eye(3)
    b = rng.standard_normal((2, 3, 2) if left else (2, 2, 3))
    _against_torch(lambda x, y: LA.lu_solve(*LA.lu_factor(x), y, left=left, adjoint=adjoint),
                   lambda x, y: torch.linalg.lu_solve(*torch.linalg.lu_factor(x), y, left=left,
                                                      adjoint=adjoint), a, b)


@pytest.mark.torch
@pytest.mark.parametrize("p", [None, 2, -2, "fro", "nuc", 1, -1, math.inf, -math.inf])
def test_cond_matches_torch(p):
    """Values against torch (whose cond is not differentiable for the norms through the
    inverse: an in-place write in its backward), gradients against central differences;
    inf for an exactly singular matrix (torch's there: inf or a huge number)."""
    torch = pytest.importorskip("torch")
    a = np.random.default_rng(27).standard_normal((3, 4, 4))
    np.testing.assert_allclose(LA.cond(tr.tensor(a), p).numpy(),
                               torch.linalg.cond(torch.tensor(a), p).numpy(), rtol=1e-11)
    assert gradcheck(lambda x: LA.cond(x, p), (tr.tensor(a, requires_grad=True),))
    a[1, :, 2] = 0
    c = LA.cond(tr.tensor(a), p).numpy()
    assert c[1] == (0.0 if p == -2 else math.inf) and np.isfinite(c[[0, 2]]).all()


@pytest.mark.torch
def test_ex_forms_report_failures_as_torchs():
    """info per matrix (the first zero pivot, the first leading minor that is not positive-
    definite), the other matrices' results unchanged, PyTorch's error with check_errors."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(28)
    a = rng.standard_normal((3, 4, 4))
    a[1, :, 2] = 0  # exactly singular: LU's third pivot is 0
    for ours, theirs in ((LA.inv_ex, torch.linalg.inv_ex),
                         (lambda x: LA.solve_ex(x, x[..., 0]),
                          lambda x: torch.linalg.solve_ex(x, x[..., 0]))):
        r, t = ours(tr.tensor(a)), theirs(torch.tensor(a))
        assert r.info.dtype == tr.int32 and r.info.tolist() == t.info.tolist() == [0, 3, 0]
        np.testing.assert_allclose(r[0].numpy()[[0, 2]], t[0].numpy()[[0, 2]], atol=1e-12)
        assert np.isnan(r[0].numpy()[1]).all()
    spd = a @ np.swapaxes(a, -1, -2) + np.eye(4)
    spd[2, 3, 3] = -50
    for upper in (False, True):
        r = LA.cholesky_ex(tr.tensor(spd), upper=upper)
        t = torch.linalg.cholesky_ex(torch.tensor(spd), upper=upper)
        assert r.info.tolist() == t.info.tolist() == [0, 0, 4]
        np.testing.assert_allclose(r.L.numpy()[:2], t.L.numpy()[:2], atol=1e-12)
    x = tr.tensor(spd[:2], requires_grad=True)  # all fine: differentiable as cholesky
    LA.cholesky_ex(x).L.sum().backward()
    assert np.isfinite(x.grad.numpy()).all()
    with pytest.raises(LA.LinAlgError, match=r"inv_ex: \(Batch element 1\): The diagonal "
                                             "element 3 is zero"):
        LA.inv_ex(tr.tensor(a), check_errors=True)
    with pytest.raises(LA.LinAlgError, match=r"cholesky_ex: \(Batch element 2\): .* order 4"):
        LA.cholesky_ex(tr.tensor(spd), check_errors=True)
    with pytest.raises(LA.LinAlgError):  # and what inv raises is one too (a ValueError)
        LA.inv(tr.tensor(a))


@pytest.mark.torch
def test_tensorinv_tensorsolve_vander_match_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(29)
    _against_torch(lambda x: LA.tensorinv(x, 1), lambda x: torch.linalg.tensorinv(x, 1),
                   rng.standard_normal((6, 2, 3)))
    _against_torch(LA.tensorsolve, torch.linalg.tensorsolve, rng.standard_normal((2, 3, 6)),
                   rng.standard_normal((2, 3)))
    _against_torch(lambda x, y: LA.tensorsolve(x, y, dims=(0,)),
                   lambda x, y: torch.linalg.tensorsolve(x, y, dims=(0,)),
                   rng.standard_normal((6, 2, 3)), rng.standard_normal((2, 3)))
    x = rng.standard_normal((2, 4))
    x[0, 1] = 0  # the running product's exact gradient at 0
    _against_torch(LA.vander, torch.linalg.vander, x)
    _against_torch(lambda t: LA.vander(t, N=6), lambda t: torch.linalg.vander(t, N=6), x)
    with pytest.raises(ValueError, match=r"prod\(2, 3\) = 6 differs from prod\(5,\) = 5"):
        LA.tensorinv(tr.tensor(np.ones((2, 3, 5))), 2)
    with pytest.raises(ValueError, match="N must be an int greater than 1"):
        LA.vander(tr.tensor(x), N=1)


@pytest.mark.torch
def test_lu_of_singular_matrices_and_lstsq_of_a_vector_match_torch():
    """A zero pivot scales nothing (no 0/0: the same L, U and info as PyTorch's), lu_factor
    refuses a singular matrix with PyTorch's error, lstsq takes a vector right-hand side."""
    torch = pytest.importorskip("torch")
    for a in (np.zeros((3, 3)), np.array([[0.0, 1], [0, 1]]), np.array([[0.0, 0], [1, 1],
                                                                         [2, 2]])):
        ours, theirs = LA.lu(tr.tensor(a)), torch.linalg.lu(torch.tensor(a))
        for x, y in zip(ours, theirs):
            np.testing.assert_array_equal(x.numpy(), y.numpy())
        r, t = LA.lu_factor_ex(tr.tensor(a)), torch.linalg.lu_factor_ex(torch.tensor(a))
        np.testing.assert_array_equal(r.LU.numpy(), t.LU.numpy())
        assert r.info.item() == t.info.item() > 0
    with pytest.raises(LA.LinAlgError, match=r"\(Batch element 0\): U\[1,1\] is zero"):
        LA.lu_factor(tr.tensor(np.zeros((2, 2, 2))))
    rng = np.random.default_rng(30)
    a, b = rng.standard_normal((5, 3)), rng.standard_normal(5)
    for driver in ("gelsy", "gelsd"):
        r = LA.lstsq(tr.tensor(a), tr.tensor(b), driver=driver)
        t = torch.linalg.lstsq(torch.tensor(a), torch.tensor(b), driver=driver)
        for field in ("solution", "residuals"):
            x, y = getattr(r, field).numpy(), getattr(t, field).numpy()
            assert x.shape == y.shape
            np.testing.assert_allclose(x, y, rtol=1e-10, atol=1e-12)


@pytest.mark.torch
def test_svd_without_vectors_keeps_its_gradient_and_lu_unpack_is_top_level():
    torch = pytest.importorskip("torch")
    _against_torch(lambda x: x.svd(compute_uv=False)[1],
                   lambda x: x.svd(compute_uv=False)[1], np.random.default_rng(31)
                   .standard_normal((2, 4, 3)))
    a = np.random.default_rng(32).standard_normal((3, 3))
    for x, y in zip(tr.lu_unpack(*LA.lu_factor(tr.tensor(a))),
                    torch.lu_unpack(*torch.linalg.lu_factor(torch.tensor(a)))):
        np.testing.assert_allclose(x.numpy(), y.numpy(), atol=1e-13)
