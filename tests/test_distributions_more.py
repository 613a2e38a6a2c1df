"""``tr.distributions`` beyond Categorical, Bernoulli and Normal: Poisson, Binomial,
NegativeBinomial, Gamma, Beta, StudentT, LogNormal, Laplace, Exponential, Uniform, Independent
and MixtureSameFamily, and kl_divergence's pairs among all of them. Against
``torch.distributions`` in float64 (values and the gradients in the parameters, with
Hypothesis where the parameters vary); samples by shape, dtype, device and moments (seeded,
within a few standard errors); the exact gradients of the reparameterised samples; the errors."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_rnn as tr
from tinygrad_rnn.distributions import (
    Bernoulli,
    Beta,
    Binomial,
    Categorical,
    Distribution,
    Exponential,
    Gamma,
    Independent,
    Laplace,
    LogNormal,
    MixtureSameFamily,
    NegativeBinomial,
    Normal,
    Poisson,
    StudentT,
    Uniform,
    kl_divergence,
)

from .conftest import DEVICES
from .test_distributions import _same

RNG = np.random.default_rng(11)
SHAPE = (2, 3)


def _positive(lo: float = 0.3, hi: float = 4.0, shape: tuple[int, ...] = SHAPE) -> np.ndarray:
    return RNG.uniform(lo, hi, shape)


X, P = RNG.standard_normal(SHAPE), RNG.uniform(0.05, 0.95, SHAPE)
COUNTS = RNG.integers(0, 6, SHAPE).astype(float)
# name: (make from the float64 leaves, the leaves, log_prob's values, cdf/icdf's probabilities)
CASES = {
    "Poisson": (lambda d, t: d.Poisson(t[0]), [_positive()], COUNTS, None),
    "Binomial(probs)": (lambda d, t: d.Binomial(6, probs=t[0]), [P], COUNTS, None),
    "Binomial(logits)": (lambda d, t: d.Binomial(6.0, logits=t[0]), [X], COUNTS, None),
    "NegativeBinomial(probs)": (lambda d, t: d.NegativeBinomial(t[0], probs=t[1]),
                                [_positive(), P], COUNTS, None),
    "NegativeBinomial(logits)": (lambda d, t: d.NegativeBinomial(t[0], logits=t[1]),
                                 [_positive(), X], COUNTS, None),
    "Gamma": (lambda d, t: d.Gamma(t[0], t[1]), [_positive(), _positive()], _positive(), None),
    "Beta": (lambda d, t: d.Beta(t[0], t[1]), [_positive(), _positive()], P, None),
    "StudentT": (lambda d, t: d.StudentT(t[0], t[1], t[2]), [_positive(0.5, 5), X, _positive()],
                 2 * X[::-1].copy(), None),
    "LogNormal": (lambda d, t: d.LogNormal(t[0], t[1]), [X, _positive()], _positive(), P),
    "Laplace": (lambda d, t: d.Laplace(t[0], t[1]), [X, _positive()], 2 * X[::-1].copy(), P),
    "Exponential": (lambda d, t: d.Exponential(t[0]), [_positive()], _positive(), P),
    "Uniform": (lambda d, t: d.Uniform(t[0], t[0] + t[1]), [X, _positive()], None, P),
}
NO_ENTROPY = {"Poisson", "NegativeBinomial(probs)", "NegativeBinomial(logits)"}


@pytest.mark.torch
@pytest.mark.parametrize("name", list(CASES))
def test_distribution_matches_torch(name):
    """mean, mode, variance, stddev, entropy, log_prob, cdf and icdf, and their gradients."""
    make, leaves, values, probs = CASES[name]
    fs = [lambda d, m: d.mean, lambda d, m: d.variance, lambda d, m: d.stddev]
    if name != "Exponential":  # its mode is a constant 0: no gradient to compare
        fs.append(lambda d, m: d.mode)
    if name not in NO_ENTROPY:
        fs.append(lambda d, m: d.entropy())
    if values is not None:
        fs.append(lambda d, m: d.log_prob(m.tensor(values)))
    if probs is not None:
        fs.append(lambda d, m: d.icdf(m.tensor(probs)))
        fs.append(lambda d, m: d.cdf(m.tensor(probs) * d.stddev.detach() + d.mean.detach()))
    for f in fs:
        _same(make, f, *leaves)
    ours = make(tr.distributions, [tr.tensor(a) for a in leaves])
    assert ours.batch_shape == SHAPE and ours.event_shape == ()
    assert ours.mean.shape == ours.variance.shape == SHAPE and ours.mode.dtype == np.float64


@pytest.mark.torch
@given(a=st.floats(0.05, 40), b=st.floats(0.05, 40), x=st.floats(0.01, 0.99))
def test_gamma_beta_studentt_match_torch_over_their_parameters(a, b, x):
    arrays = [np.array([a, b]), np.array([b, a])]
    # (lgamma terms up to ~100 cancel in these: an absolute tolerance of 1e-14 of them)
    for make, value in [(lambda d, t: d.Gamma(t[0], t[1]), np.array([x * 30, x])),
                        (lambda d, t: d.Beta(t[0], t[1]), np.array([x, 1 - x])),
                        (lambda d, t: d.StudentT(t[0], t[1], t[1] + 0.1), np.array([x * 30, -x]))]:
        for f in (lambda d, m, v=value: d.log_prob(m.tensor(v)), lambda d, m: d.entropy()):
            _same(make, f, *arrays, atol=1e-12)
    _same(lambda d, t: (d.Gamma(t[0], t[1]), d.Gamma(t[1], t[0])),
          lambda pq, m: m.distributions.kl_divergence(*pq), *arrays, atol=1e-12)
    _same(lambda d, t: (d.Beta(t[0], t[1]), d.Beta(t[1], t[0])),
          lambda pq, m: m.distributions.kl_divergence(*pq), *arrays, atol=1e-12)


@pytest.mark.torch
@given(rate=st.floats(0.01, 50), r=st.floats(0.05, 30), logit=st.floats(-4, 4),
       k=st.integers(0, 40))
def test_counts_match_torch_over_their_parameters(rate, r, logit, k):
    value = np.array([k, k // 2], dtype=float)
    _same(lambda d, t: d.Poisson(t[0]), lambda d, m: d.log_prob(m.tensor(value)),
          np.array([rate, rate / 3]))
    _same(lambda d, t: d.NegativeBinomial(t[0], logits=t[1]),
          lambda d, m: d.log_prob(m.tensor(value)), np.array([r, 2 * r]),
          np.array([logit, -logit]))
    _same(lambda d, t: d.Binomial(40, logits=t[0]), lambda d, m: d.log_prob(m.tensor(value)),
          np.array([logit, -logit]))


@pytest.mark.torch
def test_binomial_entropy_and_enumerate_support_match_torch():
    torch = pytest.importorskip("torch")
    _same(lambda d, t: d.Binomial(7, logits=t[0]), lambda d, m: d.entropy(), X)
    ours = Binomial(3, probs=tr.tensor(P)).enumerate_support()
    theirs = torch.distributions.Binomial(3, probs=torch.tensor(P)).enumerate_support()
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


@pytest.mark.torch
def test_bernoulli_mode_and_float32_parameters_match_torch():
    torch = pytest.importorskip("torch")
    p = np.array([0.2, 0.5, 0.7])
    np.testing.assert_array_equal(
        tr.distributions.Bernoulli(probs=tr.tensor(p)).mode.numpy(),
        torch.distributions.Bernoulli(probs=torch.tensor(p)).mode.numpy())
    rate, k = np.array([0.5, 3.0], dtype=np.float32), np.array([0.0, 4.0], dtype=np.float32)
    for make in (lambda d, m: d.Poisson(m.tensor(rate)),
                 lambda d, m: d.Gamma(m.tensor(rate), 2.0),
                 lambda d, m: d.NegativeBinomial(3, logits=m.tensor(rate))):
        ours, theirs = make(tr.distributions, tr), make(torch.distributions, torch)
        lp = ours.log_prob(tr.tensor(k + 0.5 * (type(ours) is Gamma)))
        assert lp.dtype == np.float32 and ours.sample((3,)).dtype == np.float32
        np.testing.assert_allclose(
            lp.numpy(), theirs.log_prob(torch.tensor(k + 0.5 * (type(ours) is Gamma))).numpy(),
            rtol=1e-6)


# ---- kl_divergence -------------------------------------------------------------------------


KL_MAKERS = {  # name: (make from leaves, the leaves)
    "Normal": (lambda d, t: d.Normal(t[0], t[1]), lambda: [RNG.standard_normal(4), _pos4()]),
    "Laplace": (lambda d, t: d.Laplace(t[0], t[1]), lambda: [RNG.standard_normal(4), _pos4()]),
    "LogNormal": (lambda d, t: d.LogNormal(t[0], t[1]),
                  lambda: [RNG.standard_normal(4), _pos4()]),
    "Exponential": (lambda d, t: d.Exponential(t[0]), lambda: [_pos4()]),
    "Gamma": (lambda d, t: d.Gamma(t[0], t[1]), lambda: [_pos4(), _pos4()]),
    "Beta": (lambda d, t: d.Beta(t[0], t[1]), lambda: [_pos4(), _pos4()]),
    "Poisson": (lambda d, t: d.Poisson(t[0]), lambda: [_pos4()]),
    "Uniform": (lambda d, t: d.Uniform(t[0], t[0] + t[1]),  # some inside others, some not
                lambda: [RNG.uniform(-0.5, 0.5, 4), _pos4()]),
    "Uniform(0, 1)": (lambda d, t: d.Uniform(0.4 * t[0], 0.5 + 0.4 * t[0]),  # inside [0, 1]
                      lambda: [RNG.uniform(0.05, 0.95, 4)]),
    "Bernoulli": (lambda d, t: d.Bernoulli(logits=t[0]), lambda: [RNG.standard_normal(4)]),
    "Binomial": (lambda d, t: d.Binomial(5, logits=t[0]), lambda: [RNG.standard_normal(4)]),
    "Categorical": (lambda d, t: d.Categorical(logits=t[0]), lambda: [RNG.standard_normal(4)]),
    "Independent": (lambda d, t: d.Independent(d.Normal(t[0], t[1]), 1),
                    lambda: [RNG.standard_normal((2, 4)), _pos4((2, 4))]),
}


def _pos4(shape=(4,)):
    return _positive(0.3, 4.0, shape)


def _kl_pair(p_name, q_name):
    (mp, lp), (mq, lq) = KL_MAKERS[p_name], KL_MAKERS[q_name]
    a, b = lp(), lq()
    return (lambda d, t: (mp(d, t[:len(a)]), mq(d, t[len(a):]))), a + b


def _kl_pairs():
    """Every pair of the makers above, with whether PyTorch has its KL in closed form."""
    torch = pytest.importorskip("torch")
    for p_name in KL_MAKERS:
        for q_name in KL_MAKERS:
            make, leaves = _kl_pair(p_name, q_name)
            try:
                torch.distributions.kl_divergence(
                    *make(torch.distributions, [torch.tensor(a) for a in leaves]))
            except NotImplementedError:
                yield p_name, q_name, False
                continue
            yield p_name, q_name, True


@pytest.mark.torch
def test_kl_divergence_matches_torch_for_every_pair_it_has():
    """Values and gradients where finite in general; the pairs PyTorch lacks are refused."""
    torch = pytest.importorskip("torch")
    closed = 0
    for p_name, q_name, has in _kl_pairs():
        make, leaves = _kl_pair(p_name, q_name)
        ours = make(tr.distributions, [tr.tensor(a) for a in leaves])
        if not has:
            with pytest.raises(NotImplementedError, match=f"{type(ours[0]).__name__} and "
                                                         f"{type(ours[1]).__name__}"):
                kl_divergence(*ours)
            continue
        closed += 1
        value = kl_divergence(*ours)
        if np.isinf(value.numpy()).all():  # q has no mass where p has: a constant inf
            theirs = torch.distributions.kl_divergence(
                *make(torch.distributions, [torch.tensor(a) for a in leaves]))
            assert value.shape == tuple(theirs.shape) and np.isinf(theirs.numpy()).all()
            continue
        _same(make, lambda pq, m: m.distributions.kl_divergence(*pq), *leaves)
    assert closed == 53  # 41 pairs of kinds, those with a Uniform once per Uniform maker


@pytest.mark.torch
def test_kl_divergence_edges_match_torch():
    """Binomials whose counts differ (inf, or refused), and a Uniform that leaves another."""
    torch = pytest.importorskip("torch")
    p = Binomial(tr.tensor([5.0, 6.0]), logits=tr.tensor([0.3, -0.2]))
    kl = kl_divergence(p, Binomial(5, logits=tr.tensor([0.1, 0.1])))
    theirs = torch.distributions.kl_divergence(
        torch.distributions.Binomial(torch.tensor([5.0, 6.0]), logits=torch.tensor([0.3, -0.2])),
        torch.distributions.Binomial(5, logits=torch.tensor([0.1, 0.1])))
    np.testing.assert_allclose(kl.numpy(), theirs.numpy(), rtol=1e-6)
    assert np.isinf(kl.numpy()[1])
    with pytest.raises(NotImplementedError, match="q.total_count > p.total_count"):
        kl_divergence(Binomial(5, logits=tr.zeros(1)), Binomial(6, logits=tr.zeros(1)))
    kl = kl_divergence(Uniform(0.0, tr.tensor([1.0, 3.0])), Uniform(-1.0, 2.0))
    assert kl.numpy()[0] == pytest.approx(math.log(3)) and kl.numpy()[1] == math.inf
    with pytest.raises(NotImplementedError, match="must agree"):
        kl_divergence(Independent(Normal(tr.zeros(2, 3), 1.0), 1),
                      Independent(Normal(tr.zeros(2, 3), 1.0), 2))


def test_register_kl_adds_a_pair():
    class Shifted(Normal):
        pass

    @tr.distributions.register_kl(Shifted, Laplace)
    def _kl(p, q):
        return p.loc * 0 + 7.0

    p = Shifted(tr.zeros(2), 1.0)
    assert kl_divergence(p, Laplace(0.0, 1.0)).numpy().tolist() == [7.0, 7.0]
    assert kl_divergence(p, Normal(1.0, 1.0)).numpy() == pytest.approx([0.5, 0.5])  # Normal's


# ---- Independent and MixtureSameFamily -----------------------------------------------------


LOC, SCALE = RNG.standard_normal((4, 3)), _positive(0.5, 2.0, (4, 3))


@pytest.mark.torch
def test_independent_matches_torch():
    value = RNG.standard_normal((5, 4, 3))
    make = lambda d, t: d.Independent(d.Normal(t[0], t[1]), 1)  # noqa: E731
    for f in (lambda d, m: d.log_prob(m.tensor(value)), lambda d, m: d.entropy(),
              lambda d, m: d.mean, lambda d, m: d.stddev):
        _same(make, f, LOC, SCALE)
    ind = make(tr.distributions, [tr.tensor(LOC), tr.tensor(SCALE)])
    assert ind.batch_shape == (4,) and ind.event_shape == (3,) and ind.has_rsample
    assert ind.rsample((5,)).shape == (5, 4, 3) and ind.log_prob(tr.tensor(value)).shape == (5, 4)
    whole = Independent(Normal(tr.tensor(LOC), tr.tensor(SCALE)), 2)
    assert whole.batch_shape == () and whole.event_shape == (4, 3)
    assert whole.log_prob(tr.tensor(value)).shape == (5,)
    assert Independent(Gamma(tr.ones(3), 1.0), 1).has_rsample
    assert not Independent(Poisson(tr.ones(3)), 1).has_rsample


def _mdn(d, t):
    """A mixture density network's head: 4 rows, 3 components of 2-D diagonal Gaussians."""
    logits, loc, scale = t
    return d.MixtureSameFamily(d.Categorical(logits=logits),
                               d.Independent(d.Normal(loc, scale), 1))


MDN = [RNG.standard_normal((4, 3)), RNG.standard_normal((4, 3, 2)),
       _positive(0.3, 2.0, (4, 3, 2))]


@pytest.mark.torch
def test_mixture_same_family_matches_torch():
    """A mixture density network's loss (log_prob by logsumexp), mean and variance, with
    gradients in the logits, locs and scales; a univariate mixture's cdf."""
    value = RNG.standard_normal((5, 4, 2)) * 2
    for f in (lambda d, m: d.log_prob(m.tensor(value)), lambda d, m: d.mean,
              lambda d, m: d.variance, lambda d, m: d.stddev):
        _same(_mdn, f, *MDN)
    mix = _mdn(tr.distributions, [tr.tensor(a) for a in MDN])
    assert mix.batch_shape == (4,) and mix.event_shape == (2,) and not mix.has_rsample
    one_d = lambda d, t: d.MixtureSameFamily(d.Categorical(logits=t[0]),  # noqa: E731
                                             d.Normal(t[1], t[2]))
    x = RNG.standard_normal((5, 4))
    leaves = [MDN[0], MDN[1][..., 0].copy(), MDN[2][..., 0].copy()]
    for f in (lambda d, m: d.cdf(m.tensor(x)), lambda d, m: d.log_prob(m.tensor(x))):
        _same(one_d, f, *leaves)
    shared = lambda d, t: d.MixtureSameFamily(d.Categorical(logits=t[0]),  # noqa: E731
                                              d.Gamma(t[1], t[2]))  # one mixture for all rows
    _same(shared, lambda d, m: d.log_prob(m.tensor(np.abs(x) + 0.1)), MDN[0][0].copy(),
          np.abs(leaves[1]) + 0.5, leaves[2])


@pytest.mark.parametrize("device", DEVICES)
def test_mixture_samples_follow_the_mixture(device):
    logits = tr.tensor([[0.0, math.log(3.0)], [0.0, 0.0]], dtype="float64", device=device)
    loc = tr.tensor([[[-4.0, -4.0], [4.0, 5.0]], [[0.0, 0.0], [10.0, 10.0]]], dtype="float64",
                    device=device)
    mix = MixtureSameFamily(Categorical(logits=logits), Independent(Normal(loc, 0.5), 1))
    s = mix.sample((20000,))
    assert s.shape == (20000, 2, 2) and s.dtype == np.float64 and s.device == device
    np.testing.assert_allclose(s.numpy().mean(0), mix.mean.numpy(), atol=0.1)
    np.testing.assert_allclose(s.numpy().var(0), mix.variance.numpy(), rtol=0.06)
    assert ((s.numpy()[:, 0, 0] > 0) == (s.numpy()[:, 0, 1] > 0)).all()  # one component each
    shared = MixtureSameFamily(Categorical(logits=tr.zeros(2, device=device)),
                               Normal(tr.tensor([[-5.0, 5.0]] * 3, device=device), 0.1))
    assert shared.sample((7,)).shape == (7, 3) and shared.batch_shape == (3,)


# ---- samples -------------------------------------------------------------------------------


def _moments(dist: Distribution, n: int = 20000) -> None:
    """The sample mean within 5 standard errors of the mean, per element; shape and dtype."""
    s = dist.sample((n,))
    assert s.shape == (n, *dist.batch_shape) and s.dtype == dist.mean.dtype
    mean, sd = dist.mean.numpy(), dist.stddev.numpy()
    assert np.all(np.abs(s.numpy().mean(0) - mean) < 5 * sd / math.sqrt(n) + 1e-12), (
        type(dist).__name__, s.numpy().mean(0), mean)
    assert not s.requires_grad


@pytest.mark.parametrize("device", DEVICES)
def test_samples_have_the_right_shapes_and_moments(device):
    def t(*values):
        return tr.tensor(list(values), dtype="float64", device=device, requires_grad=True)

    for dist in [Poisson(t(0.5, 7.0)), Binomial(t(1.0, 20.0), probs=t(0.3, 0.9)),
                 NegativeBinomial(t(2.0, 0.5), logits=t(0.3, -1.0)), Gamma(t(0.3, 5.0), t(2.0, 1)),
                 Beta(t(0.5, 3.0), t(2.0, 0.7)), StudentT(t(5.0, 30.0), t(1.0, -2), t(2.0, 0.5)),
                 LogNormal(t(0.0, 1.0), t(0.5, 0.25)), Laplace(t(1.0, -3.0), t(0.5, 2.0)),
                 Exponential(t(0.5, 4.0)), Uniform(t(-1.0, 2.0), t(3.0, 2.5))]:
        _moments(dist)
        assert dist.sample().shape == (2,) and dist.sample((3, 4)).shape == (3, 4, 2)
        assert dist.sample().device == device
    counts = Poisson(t(3.0)).sample((1000,)).numpy()
    assert (counts == np.floor(counts)).all() and counts.min() >= 0
    g = Gamma(tr.tensor([1e-3], dtype="float32"), 1.0).sample((2000,))
    assert g.dtype == np.float32 and (g.numpy() > 0).all()  # tiny draws clamped, not 0
    tr.manual_seed(5)
    a = Beta(t(2.0), t(3.0)).sample((4,)).numpy()
    tr.manual_seed(5)
    np.testing.assert_array_equal(Beta(t(2.0), t(3.0)).sample((4,)).numpy(), a)


@pytest.mark.parametrize("device", DEVICES)
def test_rsample_gradients_are_those_of_the_drawn_formula(device):
    """x = g(params, noise): each parameter's gradient of sum(x) at the drawn x, exactly."""
    def t(*values):
        return tr.tensor(list(values), dtype="float64", device=device, requires_grad=True)

    rate = t(0.5, 4.0)
    x = Exponential(rate).rsample((6,))
    x.sum().backward()
    np.testing.assert_allclose(rate.grad.numpy(), -(x.numpy() / rate.numpy()).sum(0))
    loc, scale = t(1.0, -2.0), t(0.5, 3.0)
    x = Laplace(loc, scale).rsample((6,))
    x.sum().backward()
    np.testing.assert_allclose(loc.grad.numpy(), [6.0, 6.0])
    np.testing.assert_allclose(scale.grad.numpy(),
                               ((x.numpy() - loc.numpy()) / scale.numpy()).sum(0))
    low, high = t(-1.0, 2.0), t(3.0, 2.5)
    x = Uniform(low, high).rsample((6,))
    x.sum().backward()
    width = (high - low).numpy()
    np.testing.assert_allclose(low.grad.numpy(), ((high.numpy() - x.numpy()) / width).sum(0))
    np.testing.assert_allclose(high.grad.numpy(), ((x.numpy() - low.numpy()) / width).sum(0))
    loc, scale = t(0.0, 1.0), t(0.5, 0.25)
    x = LogNormal(loc, scale).rsample((6,))
    x.sum().backward()
    y = x.numpy()
    np.testing.assert_allclose(loc.grad.numpy(), y.sum(0))
    np.testing.assert_allclose(scale.grad.numpy(),
                               (y * (np.log(y) - loc.numpy()) / scale.numpy()).sum(0))
    # (Gamma, Beta and StudentT: tests/test_distributions_rsample.py)
    assert not Poisson(t(1.0)).has_rsample
    with pytest.raises(NotImplementedError, match="use sample"):
        Poisson(t(1.0)).rsample()


# ---- errors --------------------------------------------------------------------------------


def test_errors_name_the_distribution_and_the_problem():
    with pytest.raises(ValueError, match=r"Gamma: rate must be positive; 1 of 2 elements"):
        Gamma(1.0, tr.tensor([1.0, -2.0]))
    with pytest.raises(ValueError, match=r"Gamma: the parameters do not broadcast together: "
                                         r"concentration of shape \(2,\), rate of shape \(3,\)"):
        Gamma(tr.ones(2), tr.ones(3))
    with pytest.raises(ValueError, match="Uniform: low must be less than high"):
        Uniform(tr.tensor([0.0, 2.0]), 1.0)
    with pytest.raises(ValueError, match=r"NegativeBinomial: probs must be in \[0, 1\)"):
        NegativeBinomial(3.0, probs=tr.tensor([0.5, 1.0]))
    with pytest.raises(ValueError, match="Binomial: total_count must be a nonnegative integer"):
        Binomial(2.5, probs=tr.tensor([0.5]))
    with pytest.raises(ValueError, match="either probs or logits"):
        NegativeBinomial(3.0)
    with pytest.raises(ValueError, match="LogNormal: scale must be positive"):
        LogNormal(0.0, -1.0)
    with pytest.raises(ValueError, match="StudentT: df must be positive"):
        StudentT(tr.tensor([0.0]))
    with pytest.raises(ValueError, match=r"Poisson.log_prob: the value must be in the support "
                                         r"\(the nonnegative integers\)"):
        Poisson(2.0).log_prob(tr.tensor([1.0, 1.5]))
    with pytest.raises(ValueError, match=r"Beta.log_prob: the value must be in the support"):
        Beta(2.0, 2.0).log_prob(1.5)
    with pytest.raises(ValueError, match=r"Exponential.cdf: the value"):
        Exponential(2.0).cdf(-1.0)
    with pytest.raises(ValueError, match="Bernoulli.log_prob: the value"):
        tr.distributions.Bernoulli(probs=tr.tensor([0.5])).log_prob(tr.tensor([0.5]))
    with pytest.raises(ValueError, match="Bernoulli: probs must be in"):
        tr.distributions.Bernoulli(probs=tr.tensor([1.5]))
    with pytest.raises(ValueError, match="Categorical.log_prob: the value must be in 0..2"):
        Categorical(logits=tr.zeros(3)).log_prob(tr.tensor([3]))


def test_validate_args_false_lets_values_through():
    assert Uniform(0.0, 1.0, validate_args=False).log_prob(2.0).item() == -math.inf
    assert Gamma(-1.0, 1.0, validate_args=False).mean.item() == -1.0
    assert Poisson(2.0, validate_args=False).log_prob(1.5).item() == pytest.approx(
        1.5 * math.log(2) - 2 - math.lgamma(2.5))
    Distribution.set_default_validate_args(False)
    try:
        assert Normal(0.0, -1.0).scale.item() == -1.0
        with pytest.raises(ValueError, match="Normal: scale must be positive"):
            Normal(0.0, -1.0, validate_args=True)
    finally:
        Distribution.set_default_validate_args(True)
    with pytest.raises(ValueError, match="scale must be positive"):
        Normal(0.0, -1.0)


def test_missing_methods_and_composition_errors():
    with pytest.raises(NotImplementedError, match="Poisson.entropy is not implemented"):
        Poisson(1.0).entropy()
    with pytest.raises(NotImplementedError, match="Beta.cdf is not implemented"):
        Beta(2.0, 2.0).cdf(0.5)
    with pytest.raises(NotImplementedError, match="MixtureSameFamily.mode"):
        _ = _mdn(tr.distributions, [tr.tensor(a) for a in MDN]).mode
    with pytest.raises(NotImplementedError, match="total_count differs across the batch"):
        Binomial(tr.tensor([2.0, 3.0]), probs=tr.tensor(0.5)).entropy()
    with pytest.raises(ValueError, match=r"reinterpreted_batch_ndims must be an int in 0..1 "
                                         r"\(the base distribution's batch_shape is \(3,\)\)"):
        Independent(Normal(tr.zeros(3), 1.0), 2)
    with pytest.raises(TypeError, match="base_distribution must be a Distribution"):
        Independent(tr.zeros(3), 0)
    normal = Normal(tr.zeros(2, 3), 1.0)
    with pytest.raises(ValueError, match="mixture_distribution has 4 components, "
                                         "component_distribution.batch_shape.-1. is 3"):
        MixtureSameFamily(Categorical(logits=tr.zeros(4)), normal)
    with pytest.raises(ValueError, match="mixture_distribution must be a Categorical"):
        MixtureSameFamily(normal, normal)
    with pytest.raises(ValueError, match=r"batch_shape \(5,\) does not fit"):
        MixtureSameFamily(Categorical(logits=tr.zeros(5, 3)), normal)
    with pytest.raises(ValueError, match="needs a batch axis"):
        MixtureSameFamily(Categorical(logits=tr.zeros(1)), Normal(0.0, 1.0))
    assert repr(Independent(normal, 1)) == \
        "Independent(Normal(batch_shape=(2, 3)), 1)"


# ---- edge cases found in review -----------------------------------------------------------


def test_samples_stay_inside_the_support():
    """Beta draws with a concentration below 1 round to 0 or 1 often in float32: kept inside,
    as PyTorch's, so log_prob of a sample is finite; float32 draws of a Uniform (and a
    Laplace's noise) never round up to 1."""
    from tinygrad_rnn.distributions import _below_one

    tr.manual_seed(0)
    for dtype in ("float32", "float64"):
        b = Beta(tr.tensor(1.0, dtype=dtype), tr.tensor(0.1, dtype=dtype))
        x = b.sample((20000,))
        assert ((x.numpy() > 0) & (x.numpy() < 1)).all()
        assert np.isfinite(b.log_prob(x).numpy()).all()
    near = np.array([1 - 1e-9, 0.5, 0.0])
    u = _below_one(near, np.float32)
    assert u.dtype == np.float32 and u[0] < 1 and u[1] == 0.5 and u[2] == 0.0
    assert _below_one(np.array([-1.0]), np.float32, low=-0.5)[0] == -0.5


@pytest.mark.torch
def test_kl_is_infinite_where_q_has_no_mass():
    torch = pytest.importorskip("torch")
    td = torch.distributions
    for p, q in (([0.5, 0.2, 0.0], [0.0, 0.7, 1.0]), ([1.0], [1.0])):
        ours = kl_divergence(Bernoulli(probs=tr.tensor(p, dtype="float64")),
                             Bernoulli(probs=tr.tensor(q, dtype="float64")))
        theirs = td.kl_divergence(td.Bernoulli(probs=torch.tensor(p, dtype=torch.float64)),
                                  td.Bernoulli(probs=torch.tensor(q, dtype=torch.float64)))
        np.testing.assert_allclose(ours.numpy(), theirs.numpy())
    ours = kl_divergence(Categorical(probs=tr.tensor([[0.5, 0.5], [0.3, 0.7]])),
                         Categorical(probs=tr.tensor([[1.0, 0.0], [0.5, 0.5]])))
    theirs = td.kl_divergence(td.Categorical(probs=torch.tensor([[0.5, 0.5], [0.3, 0.7]])),
                              td.Categorical(probs=torch.tensor([[1.0, 0.0], [0.5, 0.5]])))
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6)
    assert ours.numpy()[0] == np.inf


@pytest.mark.parametrize("device", DEVICES)
def test_numbers_beside_integer_counts_go_to_their_device(device):
    b = Binomial(tr.tensor([5, 7], device=device), probs=0.3)
    assert b.probs.device == b.total_count.device == device
    np.testing.assert_allclose(b.mean.numpy(), [1.5, 2.1], rtol=1e-6)


def test_parameters_are_checked():
    with pytest.raises(ValueError, match="Normal: loc must be a real number, not NaN"):
        Normal(tr.tensor([0.0, float("nan")]), 1.0)
    with pytest.raises(ValueError, match="StudentT: loc must be a real number, not NaN"):
        StudentT(3.0, float("nan"), 1.0)
    Normal(float("nan"), 1.0, validate_args=False)  # unchecked when asked
    with pytest.raises(TypeError, match="subclasses of Distribution"):
        tr.distributions.register_kl(Normal, int)
