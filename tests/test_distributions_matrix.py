"""The distributions over matrices, ``Wishart`` and ``LKJCholesky``, against
``torch.distributions`` in float64 (log_prob, entropy, moments and matrices, with their
gradients), by central differences (log_prob, and ``rsample`` through the scale), by the
statistics of their samples at a fixed seed, and their errors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_rnn as tr
from tinygrad_rnn.distributions import LKJCholesky, Wishart, constraints, kl_divergence
from tinygrad_rnn.testing import gradcheck

from .conftest import DEVICES
from .test_distributions import _same

RNG = np.random.default_rng(23)
_A = RNG.standard_normal((2, 3, 3))
COV = _A @ np.swapaxes(_A, -1, -2) + np.eye(3)
DF = np.array([4.5, 7.0])
_Z = RNG.standard_normal((4, 2, 3, 6))
X = _Z @ np.swapaxes(_Z, -1, -2)  # (4, 2, 3, 3) positive-definite values
KINDS = {"covariance_matrix": COV, "precision_matrix": np.linalg.inv(COV),
         "scale_tril": np.linalg.cholesky(COV)}
WISHART = {
    "log_prob": lambda d, m: d.log_prob(m.tensor(X)),
    "entropy": lambda d, m: d.entropy(),
    "mean": lambda d, m: d.mean,
    "mode": lambda d, m: d.mode,
    "variance": lambda d, m: d.variance,
    "covariance_matrix": lambda d, m: d.covariance_matrix,
    "precision_matrix": lambda d, m: d.precision_matrix,
    "scale_tril": lambda d, m: d.scale_tril,
}


def _wishart(kind):
    """The Wishart of (df, matrix) leaves; a scale_tril through ``tril()``: torch's
    ``cholesky_solve`` differentiates L's zero upper triangle too, this one its lower
    triangle only, as it reads it."""
    if kind == "scale_tril":
        return lambda d, t: d.Wishart(t[0], scale_tril=t[1].tril())
    return lambda d, t: d.Wishart(t[0], **{kind: t[1]})


# ---- Wishart --------------------------------------------------------------------------------


@pytest.mark.torch
@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize("what", list(WISHART))
def test_wishart_matches_torch(kind, what):
    _same(_wishart(kind), WISHART[what], DF, KINDS[kind], atol=1e-11)


@pytest.mark.torch
def test_wishart_broadcasts_and_expands_match_torch():
    # one df for a batch of scales, one scale for a batch of df
    _same(_wishart("scale_tril"), WISHART["log_prob"], np.array(5.0), KINDS["scale_tril"],
          atol=1e-11)
    _same(_wishart("covariance_matrix"), WISHART["entropy"], DF, COV[0], atol=1e-11)
    _same(lambda d, t: d.Wishart(t[0], covariance_matrix=t[1]).expand((3, 2)),
          lambda d, m: d.log_prob(m.tensor(X[:3])), DF, COV, atol=1e-11)
    _same(lambda d, t: d.Wishart(t[0], scale_tril=t[1].tril()).expand((3, 2)),
          lambda d, m: d.precision_matrix, DF, KINDS["scale_tril"], atol=1e-11)


@pytest.mark.torch
@given(kind=st.sampled_from(list(KINDS)), n=st.integers(1, 4),
       batch=st.lists(st.integers(1, 3), max_size=2), data=st.data())
def test_wishart_broadcasting_matches_torch(kind, n, batch, data):
    """df and the matrix of mutually broadcastable batch shapes (df's a suffix of the
    matrix's with axes of size 1, or the other way round), values of one more axis."""
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    short = [data.draw(st.sampled_from([1, b])) for b in batch[data.draw(
        st.integers(0, len(batch))):]]
    df_shape, m_shape = (short, batch) if data.draw(st.booleans()) else (batch, short)
    df = n + rng.uniform(0, 4, df_shape)
    a = rng.standard_normal((*m_shape, n, n))
    cov = a @ np.swapaxes(a, -1, -2) + np.eye(n)
    matrix = {"covariance_matrix": cov, "precision_matrix": np.linalg.inv(cov),
              "scale_tril": np.linalg.cholesky(cov)}[kind]
    z = rng.standard_normal((2, *np.broadcast_shapes(df.shape, cov.shape[:-2]), n, n + 2))
    x = z @ np.swapaxes(z, -1, -2)
    for what in (lambda d, m: d.log_prob(m.tensor(x)), lambda d, m: d.entropy(),
                 lambda d, m: d.variance):
        _same(_wishart(kind), what, df, matrix, atol=1e-10)


@pytest.mark.torch
def test_wishart_kl_per_batch_element_and_gradcheck():
    """torch reaches this pair through its exponential-family rule, which sums the df term
    over the batch and gives p's parameters no gradient; here each batch element's KL equals
    torch's of that element alone, and the gradients are central differences'."""
    torch = pytest.importorskip("torch")
    Lq = np.linalg.cholesky(COV[::-1].copy())
    ours = kl_divergence(Wishart(tr.tensor(DF), covariance_matrix=tr.tensor(COV)),
                         Wishart(tr.tensor(DF + 1), scale_tril=tr.tensor(Lq))).numpy()
    for i in range(2):
        theirs = torch.distributions.kl_divergence(
            torch.distributions.Wishart(torch.tensor(DF[i]), torch.tensor(COV[i])),
            torch.distributions.Wishart(torch.tensor(DF[i] + 1), scale_tril=torch.tensor(Lq[i])))
        assert ours[i] == pytest.approx(theirs.item(), rel=1e-12)
    leaves = [tr.tensor(a, requires_grad=True) for a in (DF, KINDS["scale_tril"], DF + 1, Lq)]
    assert gradcheck(lambda a, b, c, d: kl_divergence(
        Wishart(a, scale_tril=b.tril(), validate_args=False),
        Wishart(c, scale_tril=d.tril(), validate_args=False)), leaves)
    with pytest.raises(ValueError, match="different event shapes"):
        kl_divergence(Wishart(3.0, covariance_matrix=tr.eye(2)),
                      Wishart(3.0, covariance_matrix=tr.eye(3)))


def test_wishart_shapes_constraints_and_expand():
    w = Wishart(tr.tensor(DF), covariance_matrix=tr.tensor(COV))
    assert w.batch_shape == (2,) and w.event_shape == (3, 3) and w.has_rsample
    assert w.support is constraints.positive_definite
    assert set(w.arg_constraints) == {"df", "covariance_matrix", "precision_matrix",
                                      "scale_tril"}
    assert w.arg_constraints["df"].lower_bound == 2
    assert isinstance(Wishart.arg_constraints, dict)
    _ = w.precision_matrix  # computed, then broadcast by expand
    e = w.expand((5, 2))
    assert e.batch_shape == (5, 2) and e.precision_matrix.shape == (5, 2, 3, 3)
    assert e.df.shape == (5, 2) and e.sample().shape == (5, 2, 3, 3)
    np.testing.assert_allclose(e.log_prob(tr.tensor(X[0])).numpy()[0],
                               w.log_prob(tr.tensor(X[0])).numpy())
    assert Wishart(3.0, scale_tril=tr.eye(2)).df.dtype == np.float32
    with pytest.raises(ValueError, match="cannot be expanded"):
        w.expand((3,))


def test_wishart_errors():
    eye = tr.eye(3, dtype="float64")
    with pytest.raises(ValueError, match="exactly one"):
        Wishart(4.0, covariance_matrix=eye, scale_tril=eye)
    with pytest.raises(ValueError, match="exactly one"):
        Wishart(4.0)
    with pytest.raises(ValueError, match=r"square matrix.*\(3,\)"):
        Wishart(4.0, covariance_matrix=tr.ones(3))
    with pytest.raises(ValueError, match="greater than n - 1 = 2"):
        Wishart(2.0, covariance_matrix=eye)
    with pytest.warns(UserWarning, match="Low df"):
        Wishart(2.5, covariance_matrix=eye)
    with pytest.raises(ValueError, match="do not broadcast"):
        Wishart(tr.tensor([4.0, 5.0, 6.0]), covariance_matrix=eye.expand(2, 3, 3))
    with pytest.raises(ValueError, match="covariance_matrix must be symmetric"):
        Wishart(4.0, covariance_matrix=3 * eye + tr.ones(3, 3, dtype="float64").triu(1))
    with pytest.raises(ValueError, match="precision_matrix must be positive-definite"):
        Wishart(4.0, precision_matrix=-eye)
    with pytest.raises(ValueError, match="scale_tril must be lower-triangular"):
        Wishart(4.0, scale_tril=-eye)
    Wishart(4.0, scale_tril=-eye, validate_args=False)  # (not checked)
    w = Wishart(4.0, covariance_matrix=eye)
    with pytest.raises(ValueError, match="support"):
        w.log_prob(-eye)
    with pytest.raises(ValueError, match=r"event \(3, 3\)"):
        Wishart(4.0, covariance_matrix=eye, validate_args=False).log_prob(tr.eye(2).double())


def test_wishart_log_prob_gradcheck():
    L = tr.tensor(KINDS["scale_tril"], requires_grad=True)
    df = tr.tensor(DF, requires_grad=True)
    x = tr.tensor(X, requires_grad=True)
    assert gradcheck(lambda d, s, v: Wishart(d, scale_tril=s.tril(), validate_args=False)
                     .log_prob(v), [df, L, x])
    P = tr.tensor(KINDS["precision_matrix"], requires_grad=True)
    assert gradcheck(lambda d, p: Wishart(d, precision_matrix=(p + p.mT) / 2).entropy(),
                     [df, P])


def test_wishart_rsample_gradcheck_through_the_scale():
    """At a fixed seed a sample is a smooth function of L (the draws fixed); df's gradient is
    the implicit one of the χ² draws, which central differences of a seeded sampler do not
    give, so df is held constant here."""
    df = tr.tensor(DF)

    def draw(s):
        tr.manual_seed(5)
        return Wishart(df, scale_tril=s, validate_args=False).rsample((2,))

    L = tr.tensor(KINDS["scale_tril"], requires_grad=True)
    assert gradcheck(draw, [L])
    d = tr.tensor(DF, requires_grad=True)
    Wishart(d, scale_tril=L).rsample().sum().backward()
    assert d.grad is not None and np.isfinite(d.grad.numpy()).all()


def test_wishart_sample_moments():
    """Monte-Carlo mean and variance of 20,000 draws: within 5 standard errors of ν Σ, and
    the variance within 10% of ν (Σ_ij² + Σ_ii Σ_jj)."""
    w = Wishart(tr.tensor(DF), covariance_matrix=tr.tensor(COV))
    n = 20_000
    s = w.sample((n,)).numpy()
    assert constraints.positive_definite.check(tr.tensor(s[:50])).numpy().all()
    mean, var = w.mean.numpy(), w.variance.numpy()
    assert (np.abs(s.mean(0) - mean) < 5 * np.sqrt(var / n)).all()
    np.testing.assert_allclose(s.var(0), var, rtol=0.1)


def test_wishart_redraws_singular_samples(monkeypatch):
    w = Wishart(4.0, covariance_matrix=tr.eye(2, dtype="float64"))
    real = Wishart._bartlett
    calls = []

    def first_singular(self, shape):
        calls.append(shape)
        out = real(self, shape)
        return out * 0 if len(calls) == 1 else out

    monkeypatch.setattr(Wishart, "_bartlett", first_singular)
    with pytest.warns(UserWarning, match="singular sample"):
        s = w.sample((3,))
    assert len(calls) == 2 and constraints.positive_definite.check(s).numpy().all()


@pytest.mark.parametrize("device", DEVICES)
def test_wishart_on_device(device):
    w = Wishart(tr.tensor(DF, device=device),
                covariance_matrix=tr.tensor(COV, device=device))
    s = w.rsample((3,))
    lp = w.log_prob(s)
    assert s.device == lp.device == device and lp.shape == (3, 2)
    ref = Wishart(tr.tensor(DF), covariance_matrix=tr.tensor(COV))
    np.testing.assert_allclose(lp.numpy(), ref.log_prob(tr.tensor(s.numpy())).numpy(),
                               rtol=1e-12)


# ---- LKJCholesky ----------------------------------------------------------------------------


CONC = np.array([0.5, 1.0, 3.0])


@pytest.mark.torch
@pytest.mark.parametrize("dim", [2, 4])
def test_lkj_log_prob_matches_torch(dim):
    torch = pytest.importorskip("torch")
    torch.manual_seed(dim)
    values = torch.distributions.LKJCholesky(dim, torch.tensor(CONC)).sample((4,)).numpy()
    _same(lambda d, t: d.LKJCholesky(dim, t[0]), lambda d, m: d.log_prob(m.tensor(values)),
          CONC, atol=1e-12)
    _same(lambda d, t: d.LKJCholesky(dim, t[0]).expand((2, 3)),
          lambda d, m: d.log_prob(m.tensor(values[:2])), CONC, atol=1e-12)


def test_lkj_log_prob_gradcheck():
    L = tr.tensor(LKJCholesky(3, 2.0).sample((2,)).numpy().astype(np.float64),
                  requires_grad=True)
    c = tr.tensor(CONC, requires_grad=True)
    assert gradcheck(lambda v, k: LKJCholesky(3, k, validate_args=False).log_prob(
        v.unsqueeze(-3)), [L, c])


@pytest.mark.parametrize("dim", [2, 3, 5])
def test_lkj_samples_are_correlation_factors_with_the_right_spread(dim):
    """L Lᵀ has unit diagonal, mean I, and each correlation r_ij ~ 2 Beta(b, b) - 1 with b =
    η - 1 + dim/2: variance 1 / (2η + dim - 1); 10,000 draws, 5 standard errors."""
    d = LKJCholesky(dim, tr.tensor(CONC))
    n = 10_000
    L = d.sample((n,))
    assert L.shape == (n, 3, dim, dim) and not L.requires_grad
    assert constraints.corr_cholesky.check(L).numpy().all()
    M = L.numpy() @ np.swapaxes(L.numpy(), -1, -2)
    np.testing.assert_allclose(np.diagonal(M, 0, -2, -1), 1, atol=1e-12)
    var = 1 / (2 * CONC + dim - 1)
    off = M[..., 1, 0]
    assert (np.abs(off.mean(0)) < 5 * np.sqrt(var / n)).all()
    np.testing.assert_allclose(off.var(0), var, rtol=0.08)
    assert d.expand((2, 3)).sample((4,)).shape == (4, 2, 3, dim, dim)


def test_lkj_shapes_and_errors():
    d = LKJCholesky(3, tr.tensor(CONC))
    assert d.batch_shape == (3,) and d.event_shape == (3, 3) and not d.has_rsample
    assert d.support is constraints.corr_cholesky
    assert LKJCholesky(2).concentration.dtype == np.float32
    with pytest.raises(ValueError, match="dim must be an integer >= 2"):
        LKJCholesky(1)
    with pytest.raises(ValueError, match="concentration must be positive"):
        LKJCholesky(3, tr.tensor([1.0, 0.0]))
    with pytest.raises(ValueError, match="support"):
        d.log_prob(tr.ones(3, 3, dtype="float64"))
    with pytest.raises(ValueError, match=r"event \(3, 3\)"):
        LKJCholesky(3, validate_args=False).log_prob(tr.eye(2))
    with pytest.raises(NotImplementedError, match="rsample"):
        d.rsample()
    with pytest.raises(NotImplementedError):
        _ = d.mean
    with pytest.raises(NotImplementedError):
        kl_divergence(d, d)


@pytest.mark.parametrize("device", DEVICES)
def test_lkj_on_device(device):
    d = LKJCholesky(3, tr.tensor(CONC, device=device))
    s = d.sample((2,))
    lp = d.log_prob(s)
    assert s.device == lp.device == device
    ref = LKJCholesky(3, tr.tensor(CONC)).log_prob(tr.tensor(s.numpy()))
    np.testing.assert_allclose(lp.numpy(), ref.numpy(), rtol=1e-12)
