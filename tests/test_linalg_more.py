"""The rest of ``torch.linalg``'s factorisations: ``eig``/``eigvals`` (complex results, by
reconstruction and against torch), LAPACK's compact QR (``geqrf``, ``orgqr``, ``ormqr``,
``householder_product``: values against torch, gradients against torch and central
differences) and the symmetric-indefinite LDLᵀ (``ldl_factor(_ex)``, ``ldl_solve``: torch's
pivots and factors, and solving), on Hypothesis-drawn batches, with their errors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_rnn as tr
from tinygrad_rnn import linalg as LA
from tinygrad_rnn.testing import gradcheck

from .conftest import DEVICES


@st.composite
def _general(draw, square=True, max_n=5):
    """(batch..., m, n) float64 arrays with entries in [-1, 1] (square unless asked); now and
    then a matrix with repeated or zero rows."""
    batch = tuple(draw(st.lists(st.integers(1, 3), max_size=2)))
    m = draw(st.integers(1, max_n))
    n = m if square else draw(st.integers(1, max_n))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    a = rng.uniform(-1, 1, (*batch, m, n))
    if draw(st.booleans()) and m > 1:
        a[..., -1, :] = a[..., 0, :]
    return a


def _torch():
    return pytest.importorskip("torch")


# ---- eig, eigvals ---------------------------------------------------------------------------


@given(a=_general())
def test_eig_reconstructs_with_unit_vectors(a):
    w, v = LA.eig(tr.tensor(a))
    assert w.dtype == v.dtype == np.complex128
    assert w.shape == a.shape[:-1] and v.shape == a.shape
    w, v = w.numpy(), v.numpy()
    np.testing.assert_allclose(a @ v, v * w[..., None, :], atol=1e-10)
    np.testing.assert_allclose(np.linalg.norm(v, axis=-2), 1, atol=1e-12)
    # LAPACK's phase: each vector's entry of largest modulus is real
    big = np.take_along_axis(v, np.abs(v).argmax(-2)[..., None, :], -2)
    np.testing.assert_allclose(big.imag, 0, atol=1e-12)
    np.testing.assert_array_equal(LA.eigvals(tr.tensor(a)).numpy(), w)


@pytest.mark.torch
@given(a=_general())
def test_eig_matches_torch(a):
    torch = _torch()
    w = np.sort_complex(LA.eigvals(tr.tensor(a)).numpy().reshape(-1, a.shape[-1]))
    wt = np.sort_complex(torch.linalg.eigvals(torch.tensor(a)).numpy().reshape(-1, a.shape[-1]))
    np.testing.assert_allclose(w, wt, atol=1e-9)


@pytest.mark.torch
def test_eig_dtypes_as_torch():
    torch = _torch()
    a = np.random.default_rng(0).standard_normal((3, 3))
    for dt in ("float32", "float64"):
        w, v = LA.eig(tr.tensor(a, dtype=dt))
        wt, vt = torch.linalg.eig(torch.tensor(a, dtype=getattr(torch, dt)))
        assert str(w.dtype) == str(wt.dtype).replace("torch.", "") == str(v.dtype)
    assert LA.eigvals(tr.tensor(a, dtype="float32")).dtype == np.complex64
    rot = np.array([[0.0, -1.0], [1.0, 0.0]])  # eigenvalues ±i
    np.testing.assert_allclose(np.sort_complex(LA.eigvals(tr.tensor(rot)).numpy()), [-1j, 1j])


@pytest.mark.parametrize("name", ["eig", "eigvals"])
def test_eig_records_grad_and_refuses_bad_input(name):
    f = getattr(LA, name)
    x = tr.randn(3, 3, dtype="float64", requires_grad=True)
    assert (f(x)[0] if name == "eig" else f(x)).requires_grad  # (tests/test_complex_more.py)
    with tr.no_grad():
        assert not (f(x)[0] if name == "eig" else f(x)).requires_grad
    f(x.detach())
    with pytest.raises(ValueError, match="square"):
        f(tr.randn(2, 3))
    with pytest.raises(TypeError, match="floating-point"):
        f(tr.tensor([[1, 2], [3, 4]]))
    with pytest.raises(ValueError, match="inf or NaN"):
        f(tr.tensor([[float("nan"), 0.0], [0.0, 1.0]]))
    with pytest.raises(RuntimeError, match="removed.*linalg.eig"):
        tr.eig(tr.randn(2, 2))
    with pytest.raises(RuntimeError, match="removed"):
        tr.randn(2, 2).eig()


@pytest.mark.parametrize("device", DEVICES)
def test_eig_on_device(device):
    a = np.random.default_rng(1).standard_normal((2, 4, 4))
    w, v = LA.eig(tr.tensor(a, device=device))
    assert w.device == v.device == device
    np.testing.assert_allclose(w.numpy(), np.linalg.eigvals(a), atol=1e-12)


# ---- geqrf, orgqr / householder_product, ormqr ----------------------------------------------


@pytest.mark.torch
@given(a=_general(square=False))
def test_geqrf_matches_torch(a):
    torch = _torch()
    g = tr.geqrf(tr.tensor(a))
    gt = torch.geqrf(torch.tensor(a))
    np.testing.assert_allclose(g.a.numpy(), gt.a.numpy(), atol=1e-10)
    np.testing.assert_allclose(g.tau.numpy(), gt.tau.numpy(), atol=1e-10)
    if a.shape[-2] >= a.shape[-1]:  # orgqr's Q and R give A back
        Q = tr.orgqr(g.a, g.tau).numpy()
        np.testing.assert_allclose(Q @ np.triu(g.a.numpy()[..., :a.shape[-1], :]), a,
                                   atol=1e-10)


def test_geqrf_dtype_methods_and_errors():
    a = tr.randn(4, 3)
    g = a.geqrf()
    assert g.a.dtype == g.tau.dtype == np.float32 and g.tau.shape == (3,)
    np.testing.assert_array_equal(a.geqrf().a.numpy(), tr.geqrf(a).a.numpy())
    np.testing.assert_array_equal(g.a.orgqr(g.tau).numpy(),
                                  LA.householder_product(g.a, g.tau).numpy())
    x = a.double().requires_grad_()
    out = tr.geqrf(x).a.sum()
    with pytest.raises(NotImplementedError, match="'geqrf' is not implemented"):
        out.backward()
    with pytest.raises(ValueError, match="matrix"):
        tr.geqrf(tr.randn(3))
    assert tr.geqrf(tr.zeros(0, 3)).tau.shape == (0,)


def _ormqr_args(a, left, k_cols=2):
    """(A, tau, C) of consistent shapes for ``ormqr`` from a drawn (batch, mn, k') array."""
    rng = np.random.default_rng(int(abs(a).sum() * 1e6) % 2**32)
    mn, k = a.shape[-2], min(a.shape[-2:])
    tau = rng.uniform(0, 2, a.shape[:-2] + (k,))
    c = rng.standard_normal(a.shape[:-2] + ((mn, k_cols) if left else (k_cols, mn)))
    return a, tau, c


@pytest.mark.torch
@pytest.mark.parametrize("left", [True, False])
@pytest.mark.parametrize("transpose", [False, True])
@given(a=_general(square=False))
def test_ormqr_matches_torch_values_and_gradients(left, transpose, a):
    torch = _torch()
    arrays = _ormqr_args(a, left)
    ours = [tr.tensor(x, requires_grad=True) for x in arrays]
    theirs = [torch.tensor(x, requires_grad=True) for x in arrays]
    y = tr.ormqr(*ours, left=left, transpose=transpose)
    yt = torch.ormqr(*theirs, left=left, transpose=transpose)
    np.testing.assert_allclose(y.detach().numpy(), yt.detach().numpy(), atol=1e-10)
    w = np.random.default_rng(0).standard_normal(y.shape)
    (y * tr.tensor(w)).sum().backward()
    (yt * torch.tensor(w)).sum().backward()
    for p, q in zip(ours, theirs):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), atol=1e-10)


@pytest.mark.parametrize("left", [True, False])
@pytest.mark.parametrize("transpose", [False, True])
@given(a=_general(square=False, max_n=4))
def test_ormqr_gradcheck(left, transpose, a):
    args = [tr.tensor(x, requires_grad=True) for x in _ormqr_args(a, left)]
    assert gradcheck(lambda *t: tr.ormqr(*t, left=left, transpose=transpose), args)


@given(a=_general(square=False, max_n=4), data=st.data())
def test_householder_product_gradcheck_and_ormqr_agrees(a, data):
    if a.shape[-2] < a.shape[-1]:
        a = np.swapaxes(a, -1, -2)
    k = data.draw(st.integers(0, a.shape[-1]))
    tau = np.random.default_rng(k).uniform(0, 2, a.shape[:-2] + (k,))
    A, T = tr.tensor(a, requires_grad=True), tr.tensor(tau, requires_grad=True)
    assert gradcheck(tr.orgqr, [A, T])
    if k == min(a.shape[-2:]):  # Q's first n columns are Q applied to I's
        m, n = a.shape[-2:]
        eye = tr.tensor(np.broadcast_to(np.eye(m, n), a.shape).copy())
        np.testing.assert_allclose(tr.ormqr(A, T, eye).detach().numpy(),
                                   LA.householder_product(A, T).detach().numpy(), atol=1e-12)


def test_ormqr_errors():
    A, tau, C = tr.randn(5, 3), tr.randn(3), tr.randn(5, 2)
    tr.ormqr(A, tau, C)
    with pytest.raises(ValueError, match=r"tau.shape\[-1\] must equal"):
        tr.ormqr(A, tr.randn(2), C)
    with pytest.raises(ValueError, match=r"other.shape\[-2\] must equal A.shape\[-2\] = 5"):
        tr.ormqr(A, tau, tr.randn(4, 2))
    with pytest.raises(ValueError, match=r"other.shape\[-1\]"):
        tr.ormqr(A, tau, C, left=False)
    with pytest.raises(ValueError, match="batch axes"):
        tr.ormqr(A, tau, tr.randn(2, 5, 2))
    with pytest.raises(ValueError, match="batch axes differ"):
        tr.ormqr(tr.randn(2, 5, 3), tr.randn(3, 3), tr.randn(2, 5, 2))
    with pytest.raises(TypeError, match="one dtype"):
        tr.ormqr(A, tau.double(), C)
    np.testing.assert_array_equal(A.ormqr(tau, C, True, True).numpy(),
                                  tr.ormqr(A, tau, C, transpose=True).numpy())


@pytest.mark.parametrize("device", DEVICES)
def test_qr_family_on_device(device):
    a = np.random.default_rng(2).standard_normal((2, 5, 3))
    x = tr.tensor(a, device=device)
    g = tr.geqrf(x)
    assert g.a.device == device
    ref = tr.geqrf(tr.tensor(a))
    np.testing.assert_allclose(g.a.numpy(), ref.a.numpy(), atol=1e-12)
    c = tr.tensor(np.ones((2, 5, 2)), device=device, requires_grad=True)
    y = tr.ormqr(g.a, g.tau, c)
    (y * y).sum().backward()
    assert y.device == c.grad.device == device


# ---- ldl_factor, ldl_factor_ex, ldl_solve ---------------------------------------------------


@st.composite
def _symmetric(draw, max_n=6):
    """Symmetric indefinite float64 matrices (their lower triangle given, the upper one
    garbage, which must be ignored); often a zero or tiny diagonal, which forces 2×2
    pivots, and now and then a zero row and column (singular)."""
    batch = tuple(draw(st.lists(st.integers(1, 3), max_size=2)))
    n = draw(st.integers(1, max_n))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    a = rng.standard_normal((*batch, n, n))
    kind = draw(st.sampled_from(["plain", "small diagonal", "singular"]))
    if kind == "small diagonal":
        a = a * (1 - np.eye(n) * 0.99)
    s = np.tril(a) + np.swapaxes(np.tril(a, -1), -1, -2)
    if kind == "singular":
        j = draw(st.integers(0, n - 1))
        s[..., j, :] = 0
        s[..., :, j] = 0
    garbage = np.triu(rng.standard_normal(a.shape), 1)
    return np.tril(s) + garbage, s


@pytest.mark.torch
@pytest.mark.parametrize("hermitian", [False, True])
@given(pair=_symmetric())
def test_ldl_factor_ex_matches_torch(hermitian, pair):
    torch = _torch()
    given_, _ = pair
    LD, piv, info = LA.ldl_factor_ex(tr.tensor(given_), hermitian=hermitian)
    LDt, pivt, infot = torch.linalg.ldl_factor_ex(torch.tensor(given_), hermitian=hermitian)
    assert piv.dtype == info.dtype == np.int32
    np.testing.assert_array_equal(piv.numpy(), pivt.numpy())
    np.testing.assert_array_equal(info.numpy(), infot.numpy())
    np.testing.assert_allclose(LD.numpy(), LDt.numpy(), rtol=1e-9, atol=1e-9)


@pytest.mark.torch
@given(pair=_symmetric(), k=st.integers(1, 3), batch_b=st.sampled_from([(), (2,)]))
def test_ldl_solve_solves_and_matches_torch(pair, k, batch_b):
    torch = _torch()
    given_, s = pair
    LD, piv, info = LA.ldl_factor_ex(tr.tensor(given_))
    if bool((info.numpy() != 0).any()):
        return  # (singular: nothing to solve)
    n = s.shape[-1]
    b = np.random.default_rng(n).standard_normal(batch_b + s.shape[:-2] + (n, k))
    X = LA.ldl_solve(LD, piv, tr.tensor(b)).numpy()
    batch = b.shape[:-2]  # (torch 2.13 crashes broadcasting a batch of LD: given broadcast)
    Xt = torch.linalg.ldl_solve(
        torch.tensor(np.broadcast_to(LD.numpy(), batch + (n, n)).copy()),
        torch.tensor(np.broadcast_to(piv.numpy(), batch + (n,)).copy()),
        torch.tensor(b)).numpy()
    scale = np.linalg.cond(s).max() * 1e-13 + 1e-12
    np.testing.assert_allclose(X, Xt, rtol=scale, atol=scale * np.abs(Xt).max())
    np.testing.assert_allclose(s @ X, b, atol=scale * np.abs(s).max() * np.abs(X).max())


def test_ldl_reconstructs_through_its_inverse():
    """A 2×2-pivoting case: LDLᵀ solved against the identity is A⁻¹."""
    s = np.array([[0.0, 1.0, 2.0], [1.0, 0.0, 3.0], [2.0, 3.0, 0.0]])
    LD, piv = LA.ldl_factor(tr.tensor(s))
    assert (piv.numpy() < 0).any()
    inv = LA.ldl_solve(LD, piv, tr.eye(3, dtype="float64")).numpy()
    np.testing.assert_allclose(s @ inv, np.eye(3), atol=1e-14)


def test_ldl_singular_and_errors():
    z = tr.zeros(2, 3, 3, dtype="float64")
    z[1] = tr.eye(3, dtype="float64")
    LD, piv, info = LA.ldl_factor_ex(z)
    assert info.tolist() == [1, 0]
    with pytest.raises(LA.LinAlgError, match=r"Batch element 0.*D\[1,1\] is zero"):
        LA.ldl_factor(z)
    with pytest.raises(LA.LinAlgError, match="singular"):
        LA.ldl_factor_ex(z, check_errors=True)
    with pytest.raises(ValueError, match="square"):
        LA.ldl_factor(tr.randn(3, 4))
    with pytest.raises(TypeError, match="floating-point"):
        LA.ldl_factor(tr.eye(2, dtype="int64"))
    LD, piv = LA.ldl_factor(tr.eye(3))
    with pytest.raises(ValueError, match=r"B of shape \(..., 3, k\)"):
        LA.ldl_solve(LD, piv, tr.randn(4, 2))
    with pytest.raises(ValueError, match=r"B of shape"):
        LA.ldl_solve(LD, piv, tr.randn(3))
    with pytest.raises(ValueError, match="pivots must be an integer tensor"):
        LA.ldl_solve(LD, piv[:2], tr.randn(3, 2))
    with pytest.raises(ValueError, match="pivots must lie"):
        LA.ldl_solve(LD, piv * 0, tr.randn(3, 2))
    with pytest.raises(TypeError, match="dtypes"):
        LA.ldl_solve(LD, piv, tr.randn(3, 2, dtype="float64"))
    assert LA.ldl_solve(LD, piv, tr.randn(2, 3, 2)).shape == (2, 3, 2)
    x = tr.eye(3, dtype="float64").requires_grad_()
    out = LA.ldl_factor(x).LD.sum()
    with pytest.raises(NotImplementedError, match="ldl_factor_ex' is not implemented"):
        out.backward()
    b = tr.ones(3, 1, dtype="float64", requires_grad=True)
    LD, piv = LA.ldl_factor(tr.eye(3, dtype="float64"))
    with pytest.raises(NotImplementedError, match="ldl_solve' is not implemented"):
        LA.ldl_solve(LD, piv, b).sum().backward()


def test_empty_inputs_as_torch():
    assert LA.eig(tr.zeros(0, 0, dtype="float64")).eigenvectors.shape == (0, 0)
    assert LA.eigvals(tr.zeros(0, 3, 3)).shape == (0, 3)
    LD, piv, info = LA.ldl_factor_ex(tr.zeros(0, 0, dtype="float64"))
    assert LD.shape == (0, 0) and piv.shape == (0,) and info.item() == 0
    assert LA.ldl_factor_ex(tr.zeros(0, 3, 3)).pivots.shape == (0, 3)
    assert LA.ldl_solve(*LA.ldl_factor(tr.eye(3)), tr.zeros(3, 0)).shape == (3, 0)
    assert tr.geqrf(tr.zeros(0, 3, 2)).tau.shape == (0, 2)
    c = tr.ones(3, 2)
    np.testing.assert_array_equal(tr.ormqr(tr.zeros(3, 0), tr.zeros(0), c).numpy(), c.numpy())


@pytest.mark.parametrize("device", DEVICES)
def test_ldl_on_device(device):
    s = np.array([[0.0, 1.0, 2.0], [1.0, 0.0, 3.0], [2.0, 3.0, 0.0]])
    LD, piv = LA.ldl_factor(tr.tensor(s, device=device))
    ref = LA.ldl_factor(tr.tensor(s))
    assert LD.device == piv.device == device
    np.testing.assert_array_equal(piv.numpy(), ref.pivots.numpy())
    np.testing.assert_allclose(LD.numpy(), ref.LD.numpy(), atol=1e-15)
    X = LA.ldl_solve(LD, piv, tr.tensor(np.eye(3), device=device))
    np.testing.assert_allclose(s @ X.numpy(), np.eye(3), atol=1e-14)
