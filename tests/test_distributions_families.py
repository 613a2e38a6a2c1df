"""The distribution families added with the transforms (Cauchy, HalfNormal, HalfCauchy, Gumbel,
Weibull, Pareto, InverseGamma, Kumaraswamy, LogisticNormal, FisherSnedecor, GeneralizedPareto,
Geometric, Multinomial, OneHotCategorical(StraightThrough), RelaxedBernoulli,
RelaxedOneHotCategorical, LowRankMultivariateNormal) and the package layout: values and
gradients against torch.distributions in float64, shapes, expand, samples' moments, rsample
gradients, argument errors, the KL pairs."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_rnn as tr
from tinygrad_rnn.distributions import (
    Cauchy,
    Geometric,
    Gumbel,
    HalfNormal,
    LowRankMultivariateNormal,
    Multinomial,
    OneHotCategorical,
    OneHotCategoricalStraightThrough,
    Pareto,
    RelaxedBernoulli,
    RelaxedOneHotCategorical,
    Weibull,
    kl_divergence,
)
from tinygrad_rnn.testing import gradcheck

RNG = np.random.default_rng(11)
B = (2, 3)


def _pos(shape=B, lo=0.5, hi=3.0):
    return RNG.uniform(lo, hi, shape)


def _probs(shape):
    p = RNG.uniform(0.2, 1.0, shape)
    return p / p.sum(-1, keepdims=True)


def _same(make, f, *arrays, atol=1e-11):
    """f of the distribution ``make`` builds from float64 leaves ``arrays``, in both
    frameworks: its value and the gradients of its sum in the leaves agree (none where torch's
    has none: a constant mode)."""
    torch = pytest.importorskip("torch")
    lo = [tr.tensor(a, requires_grad=True) for a in arrays]
    lt = [torch.tensor(a, requires_grad=True) for a in arrays]
    a, b = f(make(tr.distributions, lo), tr), f(make(torch.distributions, lt), torch)
    np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-10, atol=atol)
    if not b.requires_grad:
        return
    a.sum().backward()
    b.sum().backward()
    for x, y in zip(lo, lt):
        if x.grad is None or y.grad is None:  # a parameter f does not use
            assert x.grad is None or not np.any(x.grad.numpy())
            assert y.grad is None or not np.any(y.grad.numpy())
            continue
        np.testing.assert_allclose(x.grad.numpy(), y.grad.numpy(), rtol=1e-9, atol=atol * 10)


# name: (make(d, leaves), leaves, a value in the support, methods compared with torch)
FAMILIES = {
    "Cauchy": (lambda d, t: d.Cauchy(t[0], t[1]), [RNG.standard_normal(B), _pos()],
               RNG.standard_normal(B), ["log_prob", "entropy", "cdf", "icdf", "mode"]),
    "HalfNormal": (lambda d, t: d.HalfNormal(t[0]), [_pos()], _pos(),
                   ["log_prob", "entropy", "cdf", "icdf", "mean", "variance", "mode"]),
    "HalfCauchy": (lambda d, t: d.HalfCauchy(t[0]), [_pos()], _pos(),
                   ["log_prob", "entropy", "cdf", "icdf", "mode"]),
    "Gumbel": (lambda d, t: d.Gumbel(t[0], t[1]), [RNG.standard_normal(B), _pos()],
               RNG.standard_normal(B), ["log_prob", "entropy", "cdf", "icdf", "mean",
                                        "variance", "stddev", "mode"]),
    "Weibull": (lambda d, t: d.Weibull(t[0], t[1]), [_pos(), _pos(lo=1.2)], _pos(),
                ["log_prob", "entropy", "cdf", "icdf", "mean", "variance", "mode"]),
    "Pareto": (lambda d, t: d.Pareto(t[0], t[1]), [_pos(lo=0.2, hi=0.5), _pos(lo=2.5, hi=4)],
               _pos(lo=0.6), ["log_prob", "entropy", "cdf", "icdf", "mean", "variance",
                              "mode"]),
    "InverseGamma": (lambda d, t: d.InverseGamma(t[0], t[1]), [_pos(lo=2.5, hi=4), _pos()],
                     _pos(), ["log_prob", "entropy", "mean", "variance", "mode"]),
    "Kumaraswamy": (lambda d, t: d.Kumaraswamy(t[0], t[1]), [_pos(), _pos()],
                    RNG.uniform(0.1, 0.9, B), ["log_prob", "entropy", "mean", "variance"]),
    "LogisticNormal": (lambda d, t: d.LogisticNormal(t[0], t[1]),
                       [RNG.standard_normal(B), _pos()], _probs((2, 4)), ["log_prob"]),
    "FisherSnedecor": (lambda d, t: d.FisherSnedecor(t[0], t[1]), [_pos(), _pos(lo=4.5, hi=8)],
                       _pos(), ["log_prob", "mean", "variance", "mode"]),
    "GeneralizedPareto": (lambda d, t: d.GeneralizedPareto(t[0], t[1], t[2]),
                          [RNG.standard_normal(B), _pos(), RNG.uniform(-0.2, 0.3, B)],
                          None, ["entropy", "icdf", "mean", "variance"]),
    "Geometric": (lambda d, t: d.Geometric(probs=t[0]), [RNG.uniform(0.2, 0.8, B)],
                  RNG.integers(0, 6, B) * 1.0, ["log_prob", "entropy", "mean", "variance",
                                                "mode"]),
    "GeometricLogits": (lambda d, t: d.Geometric(logits=t[0]), [RNG.standard_normal(B)],
                        RNG.integers(0, 6, B) * 1.0, ["log_prob", "entropy", "mean"]),
    "Multinomial": (lambda d, t: d.Multinomial(5, probs=t[0]), [_probs(B)],
                    np.array([[1.0, 2, 2], [0, 0, 5]]), ["log_prob", "mean", "variance"]),
    "MultinomialLogits": (lambda d, t: d.Multinomial(4, logits=t[0]),
                          [RNG.standard_normal(B)], np.array([[1.0, 3, 0], [2, 1, 1]]),
                          ["log_prob", "mean"]),
    "OneHotCategorical": (lambda d, t: d.OneHotCategorical(logits=t[0]),
                          [RNG.standard_normal(B)], np.eye(3)[[0, 2]],
                          ["log_prob", "entropy", "mean", "variance", "mode"]),
    "RelaxedBernoulli": (lambda d, t: d.RelaxedBernoulli(t[0], logits=t[1]),
                         [_pos((1,)), RNG.standard_normal(B)], RNG.uniform(0.1, 0.9, B),
                         ["log_prob"]),
    "RelaxedBernoulliProbs": (lambda d, t: d.RelaxedBernoulli(t[0], probs=t[1]),
                              [_pos((1,)), RNG.uniform(0.2, 0.8, B)], RNG.uniform(0.1, 0.9, B),
                              ["log_prob"]),
    "RelaxedOneHotCategorical": (lambda d, t: d.RelaxedOneHotCategorical(t[0], logits=t[1]),
                                 [_pos(()), RNG.standard_normal(B)], _probs(B), ["log_prob"]),
    "LowRankMultivariateNormal": (
        lambda d, t: d.LowRankMultivariateNormal(t[0], t[1], t[2]),
        [RNG.standard_normal(B), RNG.standard_normal(B + (2,)), _pos()],
        RNG.standard_normal(B), ["log_prob", "entropy", "mean", "variance"]),
}
GP_VALUE = np.abs(RNG.standard_normal(B))  # z in [0, ~2.5): inside every GP support above


def _call(method, value):
    def f(dist, m):
        if method in ("log_prob", "cdf"):
            return getattr(dist, method)(m.tensor(value))
        if method == "icdf":
            return dist.icdf(m.tensor(RNG_ICDF))
        if method == "entropy":
            return dist.entropy()
        return getattr(dist, method)
    return f


RNG_ICDF = np.random.default_rng(3).uniform(0.05, 0.95, B)


@pytest.mark.torch
@pytest.mark.parametrize("name", list(FAMILIES))
def test_family_matches_torch(name):
    """Each method's value, and the gradients of its sum in the parameters, equal torch's in
    float64."""
    make, leaves, value, methods = FAMILIES[name]
    if name == "GeneralizedPareto":
        value = leaves[0] + leaves[1] * GP_VALUE
    for method in methods:
        _same(make, _call(method, value), *leaves, atol=1e-11)


@pytest.mark.torch
def test_generalized_pareto_and_multinomial_entropy_match_torch():
    """Where PyTorch 2.13 computes in float32 whatever it is given: GeneralizedPareto's
    log_prob and cdf (its isclose against a float32 zero refuses float64 tensors, so compared
    in float32) and Multinomial's entropy (lgamma of an int64 tensor is float32)."""
    torch = pytest.importorskip("torch")
    loc, scale = RNG.standard_normal(B), _pos()
    for conc in (RNG.uniform(-0.2, 0.3, B), np.zeros(B)):
        args = [a.astype(np.float32) for a in (loc, scale, conc)]
        value = (loc + scale * GP_VALUE).astype(np.float32)
        ours = tr.distributions.GeneralizedPareto(*[tr.tensor(a) for a in args])
        theirs = torch.distributions.GeneralizedPareto(*[torch.tensor(a) for a in args])
        for method in ("log_prob", "cdf"):
            np.testing.assert_allclose(getattr(ours, method)(tr.tensor(value)).numpy(),
                                       getattr(theirs, method)(torch.tensor(value)).numpy(),
                                       rtol=2e-5, atol=1e-6)
    probs = _probs(B)
    for n in (1, 5):
        ours = Multinomial(n, probs=tr.tensor(probs)).entropy().numpy()
        theirs = torch.distributions.Multinomial(n, probs=torch.tensor(probs)).entropy()
        np.testing.assert_allclose(ours, theirs.numpy(), rtol=1e-6)


@pytest.mark.torch
@pytest.mark.parametrize("name", list(FAMILIES))
def test_family_shapes_support_and_expand(name):
    torch = pytest.importorskip("torch")
    make, leaves, value, methods = FAMILIES[name]
    ours = make(tr.distributions, [tr.tensor(a) for a in leaves])
    theirs = make(torch.distributions, [torch.tensor(a) for a in leaves])
    assert ours.batch_shape == tuple(theirs.batch_shape)
    assert ours.event_shape == tuple(theirs.event_shape)
    assert ours.has_rsample == theirs.has_rsample
    assert set(ours.arg_constraints) == set(theirs.arg_constraints)
    assert type(ours.support).__name__.lstrip("_") == type(theirs.support).__name__.lstrip("_")
    assert ours.support.is_discrete == theirs.support.is_discrete
    assert ours.support.event_dim == theirs.support.event_dim
    big = (4,) + ours.batch_shape
    ex = ours.expand(big)
    assert ex.batch_shape == big and ex.event_shape == ours.event_shape
    s = ex.sample((5,))
    assert s.shape == (5,) + big + ours.event_shape
    assert ours.sample().shape == ours.batch_shape + ours.event_shape
    if "log_prob" in methods and value is not None:
        lp = ex.log_prob(tr.tensor(value))
        np.testing.assert_allclose(lp.numpy(), np.broadcast_to(
            ours.log_prob(tr.tensor(value)).numpy(), big), rtol=1e-12)
    lp_s = ex.log_prob(s)
    assert lp_s.shape == (5,) + big and np.all(np.isfinite(lp_s.numpy()))


# ---- samples -------------------------------------------------------------------------------

N = 40000


def _check_moments(dist, n=N, k=5.0):
    """The sample mean within k standard errors (the distribution's own stddev / √n)."""
    s = dist.sample((n,)).numpy()
    mean, sd = dist.mean.numpy(), dist.stddev.numpy()
    assert np.all(np.abs(s.mean(0) - mean) <= k * sd / math.sqrt(n)), (
        type(dist).__name__, s.mean(0), mean)
    return s


def test_samples_follow_their_distribution():
    """Samples' means within 5 standard errors (fixed seed, so never flaky); for
    heavy-tailed ones (no mean) the median and quartiles against the icdf."""
    f64 = dict(dtype="float64")
    for dist in (HalfNormal(tr.tensor([0.5, 2.0], **f64)),
                 Gumbel(tr.tensor([0.0, 1.0], **f64), tr.tensor([1.0, 0.3], **f64)),
                 Weibull(tr.tensor([1.0, 2.0], **f64), tr.tensor([1.5, 3.0], **f64)),
                 Pareto(tr.tensor([1.0, 0.5], **f64), tr.tensor([5.0, 6.0], **f64)),
                 Geometric(tr.tensor([0.3, 0.8], **f64)),
                 Multinomial(7, probs=tr.tensor([0.2, 0.3, 0.5], **f64)),
                 OneHotCategorical(probs=tr.tensor([0.2, 0.3, 0.5], **f64)),
                 LowRankMultivariateNormal(tr.tensor([1.0, -1.0], **f64),
                                           tr.tensor([[1.0], [0.5]], **f64),
                                           tr.tensor([0.3, 0.2], **f64))):
        _check_moments(dist)
    # Cauchy and HalfCauchy: the empirical quartiles against the icdf, within the binomial
    # standard error of a quantile's coverage (√(q(1-q)/n) ≈ 0.0025 at n = 40000)
    for dist in (Cauchy(tr.tensor([0.0, 2.0], **f64), tr.tensor([1.0, 0.5], **f64)),
                 tr.distributions.HalfCauchy(tr.tensor([1.0, 3.0], **f64))):
        s = dist.sample((N,))
        for q in (0.25, 0.5, 0.75):
            coverage = (s.numpy() <= dist.icdf(tr.tensor(q, **f64)).numpy()).mean(0)
            assert np.all(np.abs(coverage - q) < 5 * math.sqrt(q * (1 - q) / N))


def test_low_rank_mvn_samples_have_its_covariance():
    f64 = dict(dtype="float64")
    d = LowRankMultivariateNormal(tr.zeros(3, **f64), tr.tensor([[1.0], [0.5], [-1.0]], **f64),
                                  tr.tensor([0.3, 0.2, 0.5], **f64))
    s = d.sample((N,)).numpy()
    cov = d.covariance_matrix.numpy()
    # the standard error of a sample covariance is about √((σ_ii σ_jj + σ_ij²) / n)
    se = np.sqrt((np.outer(np.diag(cov), np.diag(cov)) + cov ** 2) / N)
    assert np.all(np.abs(np.cov(s.T) - cov) < 5 * se)


def test_relaxed_samples_live_in_their_support_and_harden_with_the_temperature():
    logits = tr.tensor([[1.0, -1.0, 0.0]], dtype="float64")
    for t, hard in ((0.05, True), (5.0, False)):
        s = RelaxedOneHotCategorical(tr.tensor(t, dtype="float64"), logits=logits).sample((N,))
        v = s.numpy()
        assert np.allclose(v.sum(-1), 1) and (v >= 0).all()
        assert (v.max(-1).mean() > 0.95) == hard
        # the argmax of a Gumbel-softmax sample is a categorical draw of the logits
        freq = np.bincount(v.argmax(-1).ravel(), minlength=3) / N
        p = tr.distributions.Categorical(logits=logits).probs.numpy()[0]
        assert np.all(np.abs(freq - p) < 5 * np.sqrt(p * (1 - p) / N))
    probs = tr.tensor([0.2, 0.7], dtype="float64")
    s = RelaxedBernoulli(tr.tensor(0.05, dtype="float64"), probs=probs).sample((N,)).numpy()
    assert ((s > 0) & (s < 1)).all()
    assert np.all(np.abs((s > 0.5).mean(0) - probs.numpy()) < 5 * np.sqrt(0.25 / N))


# ---- rsample gradients ---------------------------------------------------------------------


def test_rsample_is_differentiable_in_the_parameters():
    """Gradients of a reparameterised sample reach every parameter, and equal those of the
    formula the sample was drawn from (with the same noise: reseeded)."""
    f64 = dict(dtype="float64", requires_grad=True)
    loc, scale = tr.tensor([0.3, -0.2], **f64), tr.tensor([1.5, 0.7], **f64)
    tr.manual_seed(5)
    g = Gumbel(loc, scale).rsample((3,))
    g.sum().backward()
    np.testing.assert_allclose(loc.grad.numpy(), [3.0, 3.0])
    tr.manual_seed(5)
    u = Gumbel(loc, scale).sample((3,))
    np.testing.assert_allclose(scale.grad.numpy(), ((u - loc) / scale).sum(0).detach().numpy())
    weights = tr.tensor([1.0, -2.0], dtype="float64")
    for make, uses_loc in ((lambda a, b: Cauchy(a, b), True),
                           (lambda a, b: HalfNormal(b), False),
                           (lambda a, b: Weibull(b, b + 1), False),
                           (lambda a, b: Pareto(b, b + 2), False),
                           (lambda a, b: RelaxedBernoulli(b, logits=a), True),
                           (lambda a, b: RelaxedOneHotCategorical(b[0], logits=a), True),
                           (lambda a, b: LowRankMultivariateNormal(a, b.unsqueeze(-1), b), True)):
        loc.grad = scale.grad = None
        (make(loc, scale).rsample((4,)) * weights).sum().backward()
        assert (loc.grad is not None) == uses_loc
        for p in (loc, scale) if uses_loc else (scale,):
            assert np.all(np.isfinite(p.grad.numpy())) and np.any(p.grad.numpy() != 0)


def test_straight_through_passes_the_gradient_to_the_probabilities():
    probs = tr.tensor([0.2, 0.3, 0.5], dtype="float64", requires_grad=True)
    d = OneHotCategoricalStraightThrough(probs=probs)
    s = d.rsample((4,))
    assert set(np.unique(s.numpy())) <= {0.0, 1.0} and np.all(s.numpy().sum(-1) == 1)
    (s * tr.tensor([1.0, 2.0, 3.0], dtype="float64")).sum().backward()
    # d probs_normalised / d probs applied to 4 × (1, 2, 3)
    g = 4 * np.array([1.0, 2.0, 3.0])
    expected = g - (g * probs.detach().numpy()).sum()
    np.testing.assert_allclose(probs.grad.numpy(), expected / probs.detach().numpy().sum())


@given(st.floats(-2, 2), st.floats(0.3, 3), st.floats(-2, 2))
def test_log_prob_gradients_are_those_of_central_differences(loc, scale, x):
    """log_prob of the continuous families, in their parameters and the value."""
    def check(fn, *args):
        ts = [tr.tensor(a, dtype="float64", requires_grad=True) for a in args]
        assert gradcheck(fn, ts)
    check(lambda a, b, v: Cauchy(a, b).log_prob(v), loc, scale, x)
    check(lambda a, b, v: Gumbel(a, b).log_prob(v), loc, scale, x)
    check(lambda b, v: HalfNormal(b).log_prob(v.exp()), scale, x)
    check(lambda b, v: Weibull(b, b + 0.5).log_prob(v.exp()), scale, x)
    check(lambda b, v: Pareto(b * 0.1, b).log_prob(v.exp() + 0.3), scale, x)
    check(lambda a, b, v: LowRankMultivariateNormal(
        a.reshape(1).broadcast_to((2,)) * tr.tensor([1.0, -1.0], dtype="float64"),
        (b * tr.tensor([[1.0], [0.5]], dtype="float64")), b.reshape(1).broadcast_to((2,)))
          .log_prob(v * tr.tensor([1.0, 0.3], dtype="float64")), loc, scale, x)
    check(lambda a, b, v: RelaxedBernoulli(b, logits=a).log_prob(v.sigmoid()), loc, scale, x)


# ---- KL, errors, the package ---------------------------------------------------------------


KL_PAIRS = {
    "Cauchy": (lambda d, t: d.Cauchy(t[0], t[1]), [RNG.standard_normal(B), _pos()]),
    "HalfNormal": (lambda d, t: d.HalfNormal(t[0]), [_pos()]),
    "Gumbel": (lambda d, t: d.Gumbel(t[0], t[1]), [RNG.standard_normal(B), _pos()]),
    "Pareto": (lambda d, t: d.Pareto(t[0], t[1]), [_pos(), _pos()]),
    "Geometric": (lambda d, t: d.Geometric(probs=t[0]), [RNG.uniform(0.1, 0.9, B)]),
    "OneHotCategorical": (lambda d, t: d.OneHotCategorical(logits=t[0]),
                          [RNG.standard_normal(B)]),
    "LowRankMultivariateNormal": (
        lambda d, t: d.LowRankMultivariateNormal(t[0], t[1], t[2]),
        [RNG.standard_normal(B), RNG.standard_normal(B + (2,)), _pos()]),
}


@pytest.mark.torch
@pytest.mark.parametrize("name", list(KL_PAIRS))
def test_kl_divergence_matches_torch(name):
    make, leaves = KL_PAIRS[name]
    others = [RNG.permutation(a.ravel()).reshape(a.shape) for a in leaves]
    n = len(leaves)
    _same(lambda d, t: (make(d, t[:n]), make(d, t[n:])),
          lambda pq, m: m.distributions.kl_divergence(*pq), *leaves, *others, atol=1e-11)


@pytest.mark.torch
def test_kl_of_low_rank_and_full_mvn_match_torch():
    loc, W, D = RNG.standard_normal(3), RNG.standard_normal((3, 2)), _pos((3,))
    L = np.linalg.cholesky(W @ W.T + np.diag(D) + np.eye(3))

    def pair(d, t):
        return d.LowRankMultivariateNormal(t[0], t[1], t[2]), d.MultivariateNormal(
            t[0] * 0.5, scale_tril=t[3])
    _same(pair, lambda pq, m: m.distributions.kl_divergence(*pq), loc, W, D, L, atol=1e-11)
    _same(pair, lambda pq, m: m.distributions.kl_divergence(*pq[::-1]), loc, W, D, L,
          atol=1e-11)


def test_kl_pareto_is_infinite_where_p_starts_below_q():
    kl = kl_divergence(Pareto(tr.tensor([1.0, 3.0]), 2.0), Pareto(2.0, 2.0))
    assert kl.numpy()[0] == np.inf and np.isfinite(kl.numpy()[1])


def test_errors_name_the_family_and_the_problem():
    with pytest.raises(ValueError, match=r"Cauchy: scale must be positive"):
        Cauchy(0.0, tr.tensor([1.0, -1.0]))
    with pytest.raises(ValueError, match=r"HalfNormal: scale must be positive"):
        HalfNormal(-1.0)
    with pytest.raises(ValueError, match=r"Gumbel: scale must be positive"):
        Gumbel(0.0, 0.0)
    with pytest.raises(ValueError, match=r"Weibull: concentration must be positive"):
        Weibull(1.0, -2.0)
    with pytest.raises(ValueError, match=r"Pareto: alpha must be positive"):
        Pareto(1.0, -2.0)
    with pytest.raises(ValueError, match=r"Geometric: probs must be in \(0, 1\]"):
        Geometric(tr.tensor([0.0, 0.5]))
    with pytest.raises(ValueError, match="either probs or logits"):
        Geometric()
    with pytest.raises(NotImplementedError, match="total_count must be one int"):
        Multinomial(tr.tensor([2, 3]), probs=tr.tensor([0.5, 0.5]))
    with pytest.raises(ValueError, match=r"HalfNormal.log_prob: the value must be in the "
                                         r"support \(the nonnegative numbers\)"):
        HalfNormal(1.0).log_prob(-1.0)
    with pytest.raises(ValueError, match=r"Geometric.log_prob: the value must be in the "
                                         r"support \(the nonnegative integers\)"):
        Geometric(0.5).log_prob(tr.tensor([1.5]))
    with pytest.raises(ValueError, match=r"Multinomial.log_prob: the value must be in the "
                                         r"support \(nonnegative counts summing to at most 3"):
        Multinomial(3, probs=tr.tensor([0.5, 0.5])).log_prob(tr.tensor([[2.0, 2.0]]))
    with pytest.raises(ValueError, match=r"OneHotCategorical.log_prob: the value must be in"):
        OneHotCategorical(probs=tr.tensor([0.5, 0.5])).log_prob(tr.tensor([1.0, 1.0]))
    with pytest.raises(ValueError, match="LowRankMultivariateNormal: the event sizes differ"):
        LowRankMultivariateNormal(tr.zeros(3), tr.zeros(2, 1), tr.ones(3))
    with pytest.raises(ValueError, match="LowRankMultivariateNormal: cov_diag must be positive"):
        LowRankMultivariateNormal(tr.zeros(2), tr.zeros(2, 1), tr.tensor([1.0, 0.0]))
    # validate_args=False lets them through
    assert HalfNormal(1.0, validate_args=False).log_prob(-1.0).item() == -math.inf


def test_kumaraswamy_mode_is_the_density_maximum():
    """PyTorch 2.13's Kumaraswamy.mode is NaN for b > 1 (log1p(-b)); ours is the argmax."""
    d = tr.distributions.Kumaraswamy(tr.tensor(2.0, dtype="float64"),
                                     tr.tensor(3.0, dtype="float64"))
    grid = tr.tensor(np.linspace(0.001, 0.999, 20001))
    best = grid.numpy()[d.log_prob(grid).numpy().argmax()]
    assert abs(d.mode.item() - best) < 1e-4
    assert np.isnan(tr.distributions.Kumaraswamy(0.5, 2.0).mode.item())


def test_the_package_has_torchs_names_and_submodules():
    torch = pytest.importorskip("torch")
    import tinygrad_rnn.distributions.normal as normal_module
    from tinygrad_rnn.distributions.utils import (
        broadcast_all,
        clamp_probs,
        logits_to_probs,
        probs_to_logits,
    )

    assert normal_module.Normal is tr.distributions.Normal
    for sub in ("constraints", "transforms", "kl", "utils", "constraint_registry", "normal",
                "categorical", "transformed_distribution", "exp_family"):
        assert hasattr(tr.distributions, sub), sub
    missing = {n for n in dir(torch.distributions) if not n.startswith("_")
               and not hasattr(tr.distributions, n)}
    assert missing <= {"ContinuousBernoulli", "VonMises", "continuous_bernoulli",
                       "von_mises"}, missing
    p = tr.tensor([0.2, 0.8], dtype="float64")
    np.testing.assert_allclose(probs_to_logits(p).numpy(), np.log([0.2, 0.8]))
    np.testing.assert_allclose(probs_to_logits(p, is_binary=True).numpy(),
                               np.log([0.25, 4.0]))
    np.testing.assert_allclose(logits_to_probs(probs_to_logits(p)).numpy(), [0.2, 0.8])
    assert clamp_probs(tr.tensor([0.0, 1.0])).numpy()[0] > 0
    a, b = broadcast_all(tr.zeros(2, 1, dtype="float64"), 3.0)
    assert a.shape == b.shape == (2, 1) and b.dtype == np.float64
