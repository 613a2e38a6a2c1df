"""``distributions.MultivariateNormal`` against ``torch.distributions`` in float64: each of
the three parametrisations (covariance, precision, scale_tril), broadcast batch shapes,
log_prob, entropy, the moments and matrices, kl_divergence, all with their gradients; the
reparameterised sample's moments and gradient; the errors."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_rnn as tr
from tinygrad_rnn.distributions import MultivariateNormal, kl_divergence

from .conftest import DEVICES
from .test_distributions import _same

RNG = np.random.default_rng(21)
LOC = RNG.standard_normal((2, 3))
_A = RNG.standard_normal((2, 3, 3))
COV = _A @ np.swapaxes(_A, -1, -2) + np.eye(3)
TRIL = np.linalg.cholesky(COV)
X = RNG.standard_normal((4, 2, 3))
KINDS = {"covariance_matrix": COV, "precision_matrix": np.linalg.inv(COV), "scale_tril": TRIL}
FUNCTIONS = {
    "log_prob": lambda d, m: d.log_prob(m.tensor(X)),
    "entropy": lambda d, m: d.entropy(),
    "mean": lambda d, m: d.mean,
    "variance": lambda d, m: d.variance,
    "covariance_matrix": lambda d, m: d.covariance_matrix,
    "precision_matrix": lambda d, m: d.precision_matrix,
    "scale_tril": lambda d, m: d.scale_tril,
}


@pytest.mark.torch
@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize("what", list(FUNCTIONS))
def test_matches_torch(kind, what):
    if kind == "scale_tril" and what == "precision_matrix":
        pytest.skip("torch differentiates its precision in scale_tril's zero upper triangle "
                    "too; checked below on the lower one")
    _same(lambda d, t: d.MultivariateNormal(t[0], **{kind: t[1]}),
          FUNCTIONS[what], LOC, KINDS[kind])


@pytest.mark.torch
def test_broadcast_batches_kl_and_precision_from_scale_tril_match_torch():
    torch = pytest.importorskip("torch")
    # one scale for a batch of means
    _same(lambda d, t: d.MultivariateNormal(t[0], scale_tril=t[1]),
          lambda d, m: d.log_prob(m.tensor(X)), LOC, TRIL[0])
    _same(lambda d, t: d.MultivariateNormal(t[0], scale_tril=t[1]),
          lambda d, m: d.entropy(), LOC[:1], TRIL)
    def kl_to_another(d, m):
        other = m.distributions.MultivariateNormal(m.tensor(LOC[::-1].copy()),
                                                   scale_tril=m.tensor(TRIL[::-1].copy()))
        return m.distributions.kl_divergence(d, other)

    _same(lambda d, t: d.MultivariateNormal(t[0], covariance_matrix=t[1]), kl_to_another,
          LOC, COV)
    _same(lambda d, t: d.MultivariateNormal(t[0], scale_tril=t[1]), kl_to_another, LOC, TRIL)
    lo = tr.tensor(TRIL, requires_grad=True)
    lt = torch.tensor(TRIL, requires_grad=True)
    MultivariateNormal(tr.tensor(LOC), scale_tril=lo).precision_matrix.sum().backward()
    torch.distributions.MultivariateNormal(torch.tensor(LOC), scale_tril=lt
                                           ).precision_matrix.sum().backward()
    np.testing.assert_allclose(np.tril(lo.grad.numpy()), np.tril(lt.grad.numpy()), rtol=1e-11)
    assert not np.triu(lo.grad.numpy(), 1).any()  # only the lower triangle is read


@pytest.mark.parametrize("device", DEVICES)
def test_samples_have_the_moments_and_the_reparameterised_gradient(device):
    tr.manual_seed(0)
    loc = tr.tensor(LOC, device=device, requires_grad=True)
    tril = tr.tensor(TRIL, device=device, requires_grad=True)
    d = MultivariateNormal(loc, scale_tril=tril)
    s = d.rsample((20000,))
    assert s.shape == (20000, 2, 3) and s.device == device
    h = s.detach().numpy()
    sd = np.sqrt(np.diagonal(COV, axis1=-2, axis2=-1))
    assert (np.abs(h.mean(0) - LOC) < 5 * sd / np.sqrt(20000)).all()
    for b in range(2):  # each covariance entry within 5 standard errors
        c = np.cov(h[:, b].T)
        se = np.sqrt((COV[b] ** 2 + np.outer(COV[b].diagonal(), COV[b].diagonal())) / 20000)
        assert (np.abs(c - COV[b]) < 5 * se).all()
    s.sum().backward()  # d(loc + L ε)/d loc = 1; /d L = ε summed
    np.testing.assert_allclose(loc.grad.numpy(), np.full(LOC.shape, 20000.0))
    assert tril.grad.shape == (2, 3, 3)


def test_errors_name_the_problem():
    loc = tr.tensor(LOC[0])
    with pytest.raises(ValueError, match="exactly one of covariance_matrix"):
        MultivariateNormal(loc)
    with pytest.raises(ValueError, match="covariance_matrix must be positive-definite"):
        MultivariateNormal(loc, covariance_matrix=tr.tensor(-np.eye(3)))
    with pytest.raises(ValueError, match="precision_matrix must be symmetric"):
        MultivariateNormal(loc, precision_matrix=tr.tensor(np.triu(np.ones((3, 3)))))
    with pytest.raises(ValueError, match="scale_tril must be lower-triangular with a positive"):
        MultivariateNormal(loc, scale_tril=tr.tensor(np.triu(np.ones((3, 3)))))
    with pytest.raises(ValueError, match=r"same n, got shapes \(3,\) and \(2, 2\)"):
        MultivariateNormal(loc, covariance_matrix=tr.tensor(np.eye(2)))
    with pytest.raises(ValueError, match="batch shapes of loc"):
        MultivariateNormal(tr.tensor(LOC), covariance_matrix=tr.tensor(np.stack([np.eye(3)] * 3)))
    d = MultivariateNormal(loc, scale_tril=tr.tensor(TRIL[0]))
    with pytest.raises(ValueError, match=r"last axis must be the event \(3\)"):
        d.log_prob(tr.tensor(np.ones(2)))
    assert kl_divergence(d, d).item() == pytest.approx(0.0, abs=1e-12)


@pytest.mark.torch
def test_mixed_dtypes_promote_as_torch():
    """float32 parameters with a float64 value (and a float32 and a float64 distribution in
    kl_divergence) compute in float64, as PyTorch's promotion."""
    torch = pytest.importorskip("torch")
    ours = MultivariateNormal(tr.zeros(2), covariance_matrix=tr.eye(2))
    theirs = torch.distributions.MultivariateNormal(torch.zeros(2), torch.eye(2))
    value = np.array([0.5, -1.0])
    got = ours.log_prob(tr.tensor(value))
    assert got.dtype == tr.float64
    np.testing.assert_allclose(got.numpy(), theirs.log_prob(torch.tensor(value)).numpy(),
                               rtol=1e-6)
    wide = MultivariateNormal(tr.tensor(LOC[0]), scale_tril=tr.tensor(TRIL[0]))
    assert kl_divergence(ours, MultivariateNormal(tr.zeros(2, dtype="float64"),
                                                  covariance_matrix=tr.eye(2, dtype="float64"))
                         ).item() == pytest.approx(0.0, abs=1e-7)
    with pytest.raises(ValueError, match="loc must be real numbers, not NaN"):
        MultivariateNormal(tr.tensor([0.0, float("nan"), 0.0]), scale_tril=tr.tensor(TRIL[0]))
    assert wide.log_prob(tr.tensor(LOC[0], dtype="float32")).dtype == tr.float64
