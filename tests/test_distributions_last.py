"""The last distributions: ContinuousBernoulli, VonMises, enumerate_support (Bernoulli,
Categorical, OneHotCategorical, Binomial) and the KL pairs across families PyTorch registers
(ContinuousBernoulli's, Gumbel's, Pareto's and the rest): values and gradients against
torch.distributions in float64, samples' statistics with fixed seeds and tolerances from the
sample size, errors."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_rnn as tr
from tinygrad_rnn.distributions import (
    Bernoulli,
    Binomial,
    Categorical,
    ContinuousBernoulli,
    OneHotCategorical,
    VonMises,
    kl_divergence,
)
from tinygrad_rnn.testing import gradcheck

from .test_ops_more import _torch

RNG = np.random.default_rng(21)


def _both(make, f, *arrays, rtol=1e-10, atol=1e-12):
    """f of the distribution(s) ``make`` builds from float64 leaves, in both frameworks: the
    values and the gradients of their sum agree."""
    torch = _torch()
    lo = [tr.tensor(a, requires_grad=True) for a in arrays]
    lt = [torch.tensor(a, requires_grad=True) for a in arrays]
    a, b = f(make(tr.distributions, lo)), f(make(torch.distributions, lt))
    np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=rtol, atol=atol)
    if not b.requires_grad:
        return
    fin = np.isfinite(b.detach().numpy())
    mask_t, mask_o = torch.tensor(fin), tr.tensor(fin)
    tr.where(mask_o, a, 0.0).sum().backward()
    torch.where(mask_t, b, 0.0).sum().backward()
    for x, t in zip(lo, lt):
        if t.grad is not None:
            np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=rtol * 10,
                                       atol=atol * 10)


# ---- ContinuousBernoulli -------------------------------------------------------------------

PROBS = np.array([0.01, 0.2, 0.4992, 0.4999, 0.5, 0.5003, 0.7, 0.99])
VALUES = np.array([0.0, 0.3, 0.5, 0.9, 1.0, 0.1, 0.7, 0.45])


@pytest.mark.torch
@pytest.mark.parametrize("what", ["log_prob", "cdf", "icdf", "mean", "variance", "entropy",
                                  "stddev"])
@pytest.mark.parametrize("param", ["probs", "logits"])
def test_continuous_bernoulli_matches_torch(what, param):
    p = PROBS if param == "probs" else np.log(PROBS / (1 - PROBS))

    def make(d, ps):
        return d.ContinuousBernoulli(**{param: ps[0]})

    def f(dist):
        if what in ("log_prob", "cdf", "icdf"):
            v = VALUES if what != "icdf" else np.clip(VALUES, 0.05, 0.95)
            mod = tr if isinstance(dist, ContinuousBernoulli) else _torch()
            return getattr(dist, what)(mod.tensor(v))
        return getattr(dist, what) if what != "entropy" else dist.entropy()

    _both(make, f, p, rtol=1e-9)


@pytest.mark.torch
def test_continuous_bernoulli_rsample_and_statistics():
    torch = _torch()
    p = tr.tensor(np.array([0.1, 0.3, 0.8]), requires_grad=True)  # (not in lims: see icdf)
    d = ContinuousBernoulli(probs=p)
    tr.manual_seed(3)
    x = d.rsample((20000,))
    assert x.shape == (20000, 3) and x.dtype == np.float64
    xs = x.detach().numpy()
    assert np.all((xs >= 0) & (xs <= 1))
    sd = np.sqrt(d.variance.detach().numpy())
    # 6 standard errors: never flaky
    assert np.all(np.abs(xs.mean(0) - d.mean.detach().numpy()) < 6 * sd / math.sqrt(20000))
    # the reparameterised gradient of E[x] equals d mean / d probs
    x.mean(0).sum().backward()
    t = torch.tensor(p.detach().numpy(), requires_grad=True)
    torch.distributions.ContinuousBernoulli(probs=t).mean.sum().backward()
    np.testing.assert_allclose(p.grad.numpy(), t.grad.numpy(), atol=0.05)
    assert not d.sample((2,)).requires_grad


def test_continuous_bernoulli_errors_and_gradcheck():
    with pytest.raises(ValueError, match="probs"):
        ContinuousBernoulli(probs=tr.tensor([1.5]))
    with pytest.raises(ValueError, match="either probs or logits"):
        ContinuousBernoulli()
    with pytest.raises(ValueError, match="support"):
        ContinuousBernoulli(probs=tr.tensor([0.3])).log_prob(tr.tensor([1.5]))
    assert ContinuousBernoulli(probs=tr.tensor([0.3, 0.6])).expand((4, 2)).batch_shape == (4, 2)
    p = tr.tensor(np.array([0.2, 0.45, 0.5005, 0.9]), requires_grad=True)
    v = tr.tensor(np.array([0.1, 0.4, 0.6, 0.95]))
    assert gradcheck(lambda q: ContinuousBernoulli(probs=q).log_prob(v), [p])
    assert gradcheck(lambda q: ContinuousBernoulli(probs=q).entropy(), [p])


# ---- VonMises ------------------------------------------------------------------------------


@pytest.mark.torch
def test_von_mises_matches_torch_and_bessel():
    torch = _torch()
    loc = np.array([-2.0, 0.0, 0.5, 3.0, 1.0])
    kappa = np.array([1e-4, 0.5, 3.7, 20.0, 500.0])
    v = np.array([0.3, -3.0, 0.5, 10.0, 1.01])
    ours = VonMises(tr.tensor(loc), tr.tensor(kappa))
    theirs = torch.distributions.VonMises(torch.tensor(loc), torch.tensor(kappa))
    # PyTorch's log I0 is a 7-digit polynomial fit: ~1e-7 apart
    np.testing.assert_allclose(ours.log_prob(tr.tensor(v)).numpy(),
                               theirs.log_prob(torch.tensor(v)).numpy(), atol=3e-6)
    np.testing.assert_allclose(ours.variance.numpy(), theirs.variance.numpy(), atol=3e-6)
    np.testing.assert_array_equal(ours.mean.numpy(), loc)
    np.testing.assert_array_equal(ours.mode.numpy(), loc)
    # ours exact: against mpmath's I0, I1
    mpmath = pytest.importorskip("mpmath")
    mpmath.mp.dps = 40
    log_i0 = np.array([float(mpmath.log(mpmath.besseli(0, k))) for k in kappa])
    exact = kappa * np.cos(v - loc) - math.log(2 * math.pi) - log_i0
    np.testing.assert_allclose(ours.log_prob(tr.tensor(v)).numpy(), exact, rtol=1e-14,
                               atol=1e-13)
    ratio = np.array([float(mpmath.besseli(1, k) / mpmath.besseli(0, k)) for k in kappa])
    np.testing.assert_allclose(ours.variance.numpy(), 1 - ratio, rtol=1e-13, atol=1e-16)


def test_von_mises_gradients():
    loc = tr.tensor(np.array([0.3, -1.0, 2.0]), requires_grad=True)
    kappa = tr.tensor(np.array([0.2, 2.5, 12.0]), requires_grad=True)
    v = tr.tensor(np.array([1.0, -0.5, 2.2]))
    assert gradcheck(lambda a, k: VonMises(a, k).log_prob(v), [loc, kappa])
    assert gradcheck(lambda k: VonMises(0.0, k).variance, [kappa])


@pytest.mark.parametrize("kappa", [1e-6, 0.3, 4.0, 60.0])
def test_von_mises_samples(kappa):
    tr.manual_seed(9)
    n = 20000
    d = VonMises(tr.tensor([1.0, -3.0], dtype="float64"), tr.tensor([kappa, kappa],
                                                                      dtype="float64"))
    x = d.sample((n,))
    assert x.shape == (n, 2) and x.dtype == np.float64 and not x.requires_grad
    xs = x.numpy()
    assert np.all((xs >= -math.pi) & (xs < math.pi))
    # E[cos(x - loc)] = I1(κ) / I0(κ) = 1 - variance, with its own standard error
    c = np.cos(xs - np.array([1.0, -3.0]))
    r = 1 - d.variance.numpy()
    se = np.sqrt(np.maximum(c.var(0), 1e-12) / n)
    assert np.all(np.abs(c.mean(0) - r) < 6 * se + 1e-9)
    s = np.sin(xs - np.array([1.0, -3.0]))  # symmetric about loc
    assert np.all(np.abs(s.mean(0)) < 6 * np.sqrt(s.var(0) / n) + 1e-9)
    assert VonMises(0.0, 1.0).sample((3,)).dtype == np.float32


def test_von_mises_errors():
    with pytest.raises(ValueError, match="concentration"):
        VonMises(tr.tensor([0.0]), tr.tensor([-1.0]))
    assert VonMises(tr.tensor([0.0, 1.0]), 2.0).expand((3, 2)).batch_shape == (3, 2)


# ---- enumerate_support ---------------------------------------------------------------------


@pytest.mark.torch
@pytest.mark.parametrize("expand", [True, False])
@pytest.mark.parametrize("family", ["Bernoulli", "Categorical", "OneHotCategorical",
                                    "Binomial"])
def test_enumerate_support_matches_torch(family, expand):
    torch = _torch()
    probs = RNG.uniform(0.1, 0.9, (2, 3))
    kwargs = {"probs": probs}
    if family == "Binomial":
        kwargs["total_count"] = 4
    ours = getattr(tr.distributions, family)(**{k: tr.tensor(v) if isinstance(v, np.ndarray)
                                                else v for k, v in kwargs.items()})
    theirs = getattr(torch.distributions, family)(**{k: torch.tensor(v) if isinstance(
        v, np.ndarray) else v for k, v in kwargs.items()})
    assert type(ours).has_enumerate_support
    a, b = ours.enumerate_support(expand), theirs.enumerate_support(expand)
    assert a.shape == tuple(b.shape) and str(a.dtype) == str(b.dtype).replace("torch.", "")
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    # the support's log-probabilities sum to one
    total = ours.log_prob(ours.enumerate_support()).exp().sum(0)
    np.testing.assert_allclose(total.numpy(), 1.0, rtol=1e-12)
    assert isinstance(ours, (Bernoulli, Categorical, OneHotCategorical, Binomial))


def test_enumerate_support_errors():
    with pytest.raises(NotImplementedError, match="total"):
        Binomial(tr.tensor([3.0, 4.0]), probs=tr.tensor([0.5, 0.5])).enumerate_support()
    with pytest.raises(NotImplementedError):
        VonMises(0.0, 1.0).enumerate_support()


# ---- the KL pairs --------------------------------------------------------------------------

B = (3,)


def _params(name):
    pos = lambda lo=0.5, hi=3.0: RNG.uniform(lo, hi, B)  # noqa: E731
    return {
        "ContinuousBernoulli": (lambda d, a: d.ContinuousBernoulli(probs=a[0]),
                                [np.array([0.2, 0.4995, 0.8])]),
        "Beta": (lambda d, a: d.Beta(a[0], a[1]), [pos(), pos()]),
        "Uniform": (lambda d, a: d.Uniform(a[0], a[0] + a[1]), [pos(0.1, 0.3), pos(0.2, 0.5)]),
        "UniformWide": (lambda d, a: d.Uniform(a[0], a[0] + a[1]),
                        [pos(-2, -1), pos(3.5, 4.0)]),
        "UniformPos": (lambda d, a: d.Uniform(a[0], a[0] + a[1]), [pos(2.5, 3), pos(1, 2)]),
        "Exponential": (lambda d, a: d.Exponential(a[0]), [pos()]),
        "Gamma": (lambda d, a: d.Gamma(a[0], a[1]), [pos(), pos()]),
        "Normal": (lambda d, a: d.Normal(a[0], a[1]), [RNG.normal(size=B), pos()]),
        "Gumbel": (lambda d, a: d.Gumbel(a[0], a[1]), [RNG.normal(size=B), pos()]),
        "Laplace": (lambda d, a: d.Laplace(a[0], a[1]), [RNG.normal(size=B), pos()]),
        "Pareto": (lambda d, a: d.Pareto(a[0], a[1]), [pos(0.5, 2), np.array([0.8, 1.5, 3.0])]),
    }[name]


PAIRS = [("ContinuousBernoulli", "ContinuousBernoulli"), ("Beta", "ContinuousBernoulli"),
         ("Uniform", "ContinuousBernoulli"), ("ContinuousBernoulli", "Exponential"),
         ("ContinuousBernoulli", "Normal"), ("ContinuousBernoulli", "UniformWide"),
         ("ContinuousBernoulli", "Uniform"), ("Exponential", "Gumbel"), ("Gamma", "Gumbel"),
         ("Gumbel", "Normal"), ("Normal", "Gumbel"), ("Uniform", "Gumbel"),
         ("Pareto", "Exponential"), ("Pareto", "Gamma"), ("Pareto", "Normal"),
         ("UniformPos", "Pareto"), ("Uniform", "Pareto"),
         # the pairs where q has no mass where p has: inf
         ("Beta", "Pareto"), ("ContinuousBernoulli", "Pareto"), ("Pareto", "Beta"),
         ("Pareto", "ContinuousBernoulli"), ("Pareto", "Uniform"),
         ("Exponential", "ContinuousBernoulli"), ("Exponential", "Pareto"),
         ("Gamma", "ContinuousBernoulli"), ("Gamma", "Pareto"), ("Laplace", "Pareto"),
         ("Laplace", "ContinuousBernoulli"), ("Normal", "ContinuousBernoulli"),
         ("Normal", "Pareto"), ("Gumbel", "Beta"), ("Gumbel", "ContinuousBernoulli"),
         ("Gumbel", "Exponential"), ("Gumbel", "Gamma"), ("Gumbel", "Pareto"),
         ("Gumbel", "Uniform")]


@pytest.mark.torch
@pytest.mark.parametrize("pq", PAIRS, ids=lambda pq: f"{pq[0]}-{pq[1]}")
def test_kl_pairs_match_torch(pq):
    (mp, ap), (mq, aq) = _params(pq[0]), _params(pq[1])
    n = len(ap)

    def make(d, leaves):
        return mp(d, leaves[:n]), mq(d, leaves[n:])

    def f(pair):
        mod = tr.distributions if isinstance(pair[0], tr.distributions.Distribution) else \
            _torch().distributions
        return mod.kl_divergence(*pair)

    _both(make, f, *ap, *aq, rtol=1e-9)


def test_kl_pair_gradient_by_central_differences():
    p0 = tr.tensor(np.array([0.3, 0.7]), requires_grad=True)
    q0 = tr.tensor(np.array([0.6, 0.2]), requires_grad=True)
    assert gradcheck(lambda a, b: kl_divergence(ContinuousBernoulli(probs=a),
                                                ContinuousBernoulli(probs=b)), [p0, q0])
    loc = tr.tensor(np.array([0.3, -1.0]), requires_grad=True)
    scale = tr.tensor(np.array([0.7, 2.0]), requires_grad=True)
    assert gradcheck(lambda a, s: kl_divergence(tr.distributions.Normal(a, s),
                                                tr.distributions.Gumbel(a * 0.5, s + 1)),
                     [loc, scale])


@given(st.floats(0.05, 0.95), st.floats(0.05, 0.95))
def test_kl_continuous_bernoulli_is_nonnegative_and_zero_on_itself(a, b):
    p = ContinuousBernoulli(probs=tr.tensor([a], dtype="float64"))
    q = ContinuousBernoulli(probs=tr.tensor([b], dtype="float64"))
    assert kl_divergence(p, q).item() >= -1e-12
    assert abs(kl_divergence(p, p).item()) < 1e-12


@pytest.mark.torch
@pytest.mark.parametrize("default", ["float32", "float64"])
def test_parameters_given_as_numbers_take_the_default_dtype_as_torch(default):
    """``Normal(0.2, 0.9)`` under ``set_default_dtype(float64)`` is float64, as PyTorch's:
    its samples feed a float64 model and its log_prob keeps full precision."""
    torch = pytest.importorskip("torch")
    old, t_old = tr.get_default_dtype(), torch.get_default_dtype()
    try:
        tr.set_default_dtype(getattr(tr, default))
        torch.set_default_dtype(getattr(torch, default))
        D, TD = tr.distributions, torch.distributions
        cases = [(D.Normal(0.2, 0.9), TD.Normal(0.2, 0.9), 0.7),
                 (D.Binomial(10, probs=0.3), TD.Binomial(10, probs=0.3), 4.0),
                 (D.Poisson(2.5), TD.Poisson(2.5), 3.0),
                 (D.Gamma(2.0, 3.0), TD.Gamma(2.0, 3.0), 0.4),
                 (D.Uniform(0.0, 2.0), TD.Uniform(0.0, 2.0), 0.5)]
        for ours, theirs, v in cases:
            lp = ours.log_prob(tr.tensor(v))
            t_lp = theirs.log_prob(torch.tensor(v))
            assert str(lp.dtype) == default == str(t_lp.dtype).replace("torch.", "")
            np.testing.assert_allclose(lp.numpy(), t_lp.numpy(), rtol=1e-14 if
                                       default == "float64" else 1e-6)
        assert str(D.Normal(0.0, 1.0).sample((2,)).dtype) == default
    finally:
        tr.set_default_dtype(old)
        torch.set_default_dtype(t_old)


@pytest.mark.torch
def test_a_nan_value_is_outside_a_real_support_as_torch():
    torch = pytest.importorskip("torch")
    for lib in (tr, torch):
        d = lib.distributions.Normal(0.0, 1.0, validate_args=True)
        with pytest.raises(ValueError, match="support"):
            d.log_prob(lib.tensor(float("nan")))
        assert not lib.distributions.Normal(0.0, 1.0, validate_args=False).log_prob(
            lib.tensor(float("nan"))).isfinite().item()
