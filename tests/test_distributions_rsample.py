"""``tr.distributions``' reparameterised Gamma-family samples (Gamma, Chi2, Beta, Dirichlet,
StudentT), ``special.gammainc`` and ``Gamma.cdf``, ``Dirichlet``, and ``expand``.

The implicit gradient of a Gamma draw, dx/da = -(∂P/∂a)(a, x) / p(x; a), is checked against
PyTorch's for the same draws, and against central differences of the CDF in float64 (the
exact property: P(a, x(a)) stays put as a moves); the samples built from Gamma draws have
unbiased gradients (Monte Carlo against the derivative of the exact mean); Dirichlet and
every distribution's ``expand`` against ``torch.distributions`` in float64."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_rnn as tr
from tinygrad_rnn.distributions import (
    Beta,
    Chi2,
    Dirichlet,
    Gamma,
    Independent,
    Normal,
    Poisson,
    StudentT,
    kl_divergence,
)
from tinygrad_rnn.special import gammainc, igamma_arrays
from tinygrad_rnn.testing import gradcheck

from .conftest import DEVICES
from .test_distributions import _same


def _dx_da(a, x):
    """Our dx/da of a Gamma(a, 1) draw x (what ``StandardGamma.backward`` multiplies by)."""
    return -igamma_arrays(np, np.asarray(a, float), np.asarray(x, float))[2]


def _log_pdf(a, x):
    return (a - 1) * np.log(x) - x - np.vectorize(math.lgamma)(a)


# ---- the Gamma draw's implicit gradient ----------------------------------------------------


@pytest.mark.torch
def test_gamma_draw_gradient_matches_torchs_for_the_same_draws():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    alpha = np.repeat([0.01, 0.1, 0.5, 1.0, 3.0, 8.5, 30.0, 150.0, 2000.0], 300)
    a = torch.tensor(alpha, requires_grad=True)
    x = torch.distributions.Gamma(a, 1.0).rsample()
    (theirs,) = torch.autograd.grad(x.sum(), a)
    rel = np.abs(_dx_da(alpha, x.detach().numpy()) - theirs.numpy()) / np.abs(theirs.numpy())
    # PyTorch's _standard_gamma_grad is an approximation (a series for small x, a fitted
    # rational function below a = 8, a saddle-point expansion above): on 20000 draws for each
    # of a = 0.01 ... 1e4 it is within 1.3e-3 relative of ours (9e-3 at a = 1e-3, far in the
    # tail), the median 1e-4 or less; ours agrees with mpmath to 5e-14 (see
    # test_gamma_draw_gradient_keeps_the_cdf_constant for the exact check)
    assert rel.max() < 5e-3 and np.median(rel) < 2e-4, (rel.max(), np.median(rel))


@pytest.mark.torch
def test_gamma_draw_gradient_keeps_torchs_cdf_constant():
    """d/da P(a, x(a)) = 0, so dx/da = -(∂P/∂a) / p: ∂P/∂a by central differences of
    PyTorch's float64 gammainc (gammaincc past the mean, where P is near 1)."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    a = np.exp(rng.uniform(math.log(0.02), math.log(5000), 400))
    x = np.maximum(rng.gamma(a), 1e-300)
    h = 1e-4 * np.minimum(a, np.sqrt(a))  # P varies in a on the scale of min(a, sqrt(a))
    upper = x > a

    def cdf(s):
        s, t = torch.tensor(s), torch.tensor(x)
        return np.where(upper, -torch.special.gammaincc(s, t).numpy(),
                        torch.special.gammainc(s, t).numpy())

    dp_da = (cdf(a + h) - cdf(a - h)) / (2 * h)
    np.testing.assert_allclose(_dx_da(a, x), -dp_da / np.exp(_log_pdf(a, x)), rtol=1e-6)


@given(log_a=st.floats(math.log(0.01), math.log(1e4)), z=st.floats(-4, 5))
def test_gamma_draw_gradient_keeps_the_cdf_constant(log_a, z):
    """The same property without PyTorch, against central differences of our own P and Q
    (computed apart from the derivative: it is carried through the series, the fraction and
    the quadrature on its own), at x = a + z sqrt(a) (or a small x for a small a)."""
    a = math.exp(log_a)
    x = a + z * math.sqrt(a) if a + z * math.sqrt(a) > 0 else a * math.exp(z)
    h = 1e-4 * min(a, math.sqrt(a))  # P varies in a on the scale of min(a, sqrt(a))
    which = 1 if x > a else 0  # Q past the mean, where P is near 1
    sign = -1 if which else 1
    p_plus, p_minus = (igamma_arrays(np, np.array(s), np.array(x))[which] for s in (a + h, a - h))
    dp_da = sign * (p_plus - p_minus) / (2 * h)
    assert _dx_da(a, x) == pytest.approx(-dp_da / math.exp(_log_pdf(a, x)), rel=1e-6)


@pytest.mark.parametrize("device", DEVICES)
def test_gamma_rsample_gradients_are_the_implicit_ones(device):
    """Through the op: d x / d concentration = dx/da (at x·rate) / rate, d x / d rate =
    -x / rate; a Chi2's df through its concentration df/2; the draws' shape, dtype, device."""
    conc = tr.tensor([0.3, 2.0, 40.0, 300.0], dtype="float64", device=device,
                     requires_grad=True)
    rate = tr.tensor([2.0, 0.5, 1.0, 3.0], dtype="float64", device=device, requires_grad=True)
    x = Gamma(conc, rate).rsample((50,))
    assert x.shape == (50, 4) and x.device == device and x.dtype == np.float64
    x.sum().backward()
    c, r, v = conc.numpy(), rate.numpy(), x.numpy()
    np.testing.assert_allclose(conc.grad.numpy(), (_dx_da(c + 0 * v, v * r) / r).sum(0),
                               rtol=1e-12)
    np.testing.assert_allclose(rate.grad.numpy(), (-v / r).sum(0), rtol=1e-12)
    df = tr.tensor([1.0, 7.0], dtype="float64", device=device, requires_grad=True)
    z = Chi2(df).rsample((30,))
    z.sum().backward()
    d, w = df.numpy(), z.numpy()
    np.testing.assert_allclose(df.grad.numpy(), _dx_da(d / 2 + 0 * w, w / 2).sum(0),
                               rtol=1e-12)
    small = Gamma(tr.tensor([1e-3, 0.5], device=device, requires_grad=True), 1.0)
    s = small.rsample((200,))
    assert s.dtype == np.float32 and (s.numpy() > 0).all()  # clamped, never 0
    s.sum().backward()
    assert np.isfinite(small.concentration.grad.numpy()).all()


@pytest.mark.parametrize("device", DEVICES)
def test_gammainc_gradients_are_those_of_central_differences(device):
    a = tr.tensor([0.05, 0.7, 3.0, 25.0, 150.0, 3000.0], dtype="float64", device=device,
                  requires_grad=True)
    x = tr.tensor([0.01, 1.9, 2.0, 31.0, 140.0, 3100.0], dtype="float64", device=device,
                  requires_grad=True)
    assert gradcheck(gammainc, [a, x])
    assert gradcheck(lambda s: gammainc(s, x.detach()[:3].reshape(3, 1)), [a[1:4].detach()
                                                                           .requires_grad_()])


def test_gammainc_edges():
    nan = math.nan
    a = tr.tensor([0.0, 0.0, 2.0, 2.0, math.inf, 1.0, -1.0, nan, 3.0], dtype="float64")
    x = tr.tensor([1.0, 0.0, 0.0, math.inf, 4.0, -1.0, 1.0, 1.0, nan], dtype="float64")
    np.testing.assert_array_equal(gammainc(a, x).numpy(),
                                  [1.0, nan, 0.0, 1.0, 0.0, nan, nan, nan, nan])
    assert gammainc(tr.tensor([2.0]), 1).dtype == np.float32
    with pytest.raises(TypeError, match="input or other must be a Tensor"):
        gammainc(1.0, 2.0)


# ---- gammainc and Gamma.cdf against PyTorch ------------------------------------------------


@pytest.mark.torch
@given(log_a=st.floats(math.log(0.01), math.log(1e4)), log_ratio=st.floats(-3, 1.5))
def test_gammainc_matches_torch(log_a, log_ratio):
    """Values, and the gradient in x (PyTorch's has none in a)."""
    torch = pytest.importorskip("torch")
    a = math.exp(log_a) * np.array([1.0, 0.5, 2.0])
    x = a * math.exp(log_ratio)
    xo, xt = tr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ours, theirs = gammainc(tr.tensor(a), xo), torch.special.gammainc(torch.tensor(a), xt)
    # PyTorch's P is off by up to 2e-9 relative where it switches to Temme's expansion (a
    # above 20, x near a: 1.9e-9 at a = 20.06, x = 14.1, over 200000 points of this range
    # against scipy.special.gammainc, where ours is within 1.4e-11, and within 5e-14 of
    # mpmath there)
    np.testing.assert_allclose(ours.numpy(), theirs.detach().numpy(), rtol=5e-9, atol=1e-300)
    ours.sum().backward()
    theirs.sum().backward()
    np.testing.assert_allclose(xo.grad.numpy(), xt.grad.numpy(), rtol=1e-10, atol=1e-300)


@pytest.mark.torch
def test_gamma_and_chi2_cdf_match_torch():
    """Values and the gradients in the rate and the value against PyTorch; in the
    concentration (which PyTorch refuses) against central differences."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    conc, rate, v = rng.uniform(0.2, 6, 5), rng.uniform(0.3, 3, 5), rng.uniform(0.05, 5, (2, 5))
    c, r, value = (tr.tensor(t, requires_grad=True) for t in (conc, rate, v))
    ours = Gamma(c, r).cdf(value)
    t_rate, t_value = (torch.tensor(t, requires_grad=True) for t in (rate, v))
    theirs = torch.distributions.Gamma(torch.tensor(conc), t_rate).cdf(t_value)
    np.testing.assert_allclose(ours.numpy(), theirs.detach().numpy(), rtol=1e-12)
    ours.sum().backward()
    theirs.sum().backward()
    np.testing.assert_allclose(r.grad.numpy(), t_rate.grad.numpy(), rtol=1e-11)
    np.testing.assert_allclose(value.grad.numpy(), t_value.grad.numpy(), rtol=1e-11)
    h = 1e-6

    def total(c):
        return Gamma(tr.tensor(c), tr.tensor(rate)).cdf(tr.tensor(v)).numpy().sum()

    numeric = [(total(conc + h * e) - total(conc - h * e)) / (2 * h) for e in np.eye(5)]
    np.testing.assert_allclose(c.grad.numpy(), numeric, rtol=1e-7)
    df = rng.uniform(0.5, 8, 4)
    np.testing.assert_allclose(
        Chi2(tr.tensor(df)).cdf(tr.tensor(v[0, :4])).numpy(),
        torch.distributions.Chi2(torch.tensor(df)).cdf(torch.tensor(v[0, :4])).numpy(),
        rtol=1e-12)
    with pytest.raises(ValueError, match=r"Gamma.cdf: the value must be in the support"):
        Gamma(1.0, 1.0).cdf(-1.0)
    with pytest.raises(ValueError, match="Chi2: df must be positive"):
        Chi2(tr.tensor([2.0, 0.0]))


# ---- samples built from Gamma draws --------------------------------------------------------


def _unbiased(grad: np.ndarray, exact: np.ndarray) -> None:
    """The mean of per-sample gradients (axis 0) within 5 standard errors of ``exact``, the
    derivative of the expectation: the reparameterised gradient is unbiased."""
    n = grad.shape[0]
    se = grad.std(0) / math.sqrt(n)
    assert np.all(np.abs(grad.mean(0) - exact) < 5 * se + 1e-12), (grad.mean(0), exact, se)


@pytest.mark.parametrize("device", DEVICES)
def test_beta_rsample_is_its_two_gamma_draws(device):
    """X / (X + Y) of the very draws (replayed from the seed) and the chain rule through
    them; the gradient of the mean unbiased; float32 samples stay inside (0, 1)."""
    a0, b0, n = 0.7, 2.5, 20000
    a = tr.tensor(np.full(n, a0), device=device, requires_grad=True)
    b = tr.tensor(np.full(n, b0), device=device, requires_grad=True)
    tr.manual_seed(3)
    x = Beta(a, b).rsample()
    tr.manual_seed(3)
    g1 = tr.random.generator().standard_gamma(np.full(n, a0))
    g0 = tr.random.generator().standard_gamma(np.full(n, b0))
    np.testing.assert_allclose(x.numpy(), g1 / (g1 + g0), rtol=1e-14)
    x.sum().backward()
    s = (g1 + g0) ** 2
    np.testing.assert_allclose(a.grad.numpy(), _dx_da(a0, g1) * g0 / s, rtol=1e-12)
    np.testing.assert_allclose(b.grad.numpy(), -_dx_da(b0, g0) * g1 / s, rtol=1e-12)
    _unbiased(np.stack([a.grad.numpy(), b.grad.numpy()], -1),
              np.array([b0, -a0]) / (a0 + b0) ** 2)
    thin = Beta(tr.tensor([0.05, 1.0], device=device), tr.tensor([0.05, 0.1], device=device))
    y = thin.rsample((5000,))
    assert y.dtype == np.float32 and ((y.numpy() > 0) & (y.numpy() < 1)).all()
    assert np.isfinite(thin.log_prob(y).numpy()).all()
    np.testing.assert_allclose(y.numpy().mean(0), thin.mean.numpy(), atol=0.03)


@pytest.mark.parametrize("device", DEVICES)
def test_dirichlet_and_student_t_rsample_gradients_are_unbiased(device):
    n = 20000
    alpha = np.array([0.6, 2.0, 4.0])
    conc = tr.tensor(np.tile(alpha, (n, 1)), device=device, requires_grad=True)
    x = Dirichlet(conc).rsample()
    assert x.shape == (n, 3) and x.device == device
    np.testing.assert_allclose(x.numpy().sum(-1), 1.0, rtol=1e-14)
    x[:, 0].sum().backward()  # d E[x_0] / d alpha = (delta_0k S - alpha_0) / S^2
    total = alpha.sum()
    _unbiased(conc.grad.numpy(), (np.eye(3)[0] * total - alpha[0]) / total ** 2)
    df0, scale0 = 12.0, 1.5
    df = tr.tensor(np.full(n, df0), device=device, requires_grad=True)
    scale = tr.tensor(np.full(n, scale0), device=device, requires_grad=True)
    y = StudentT(df, 0.0, scale).rsample()
    (y ** 2).sum().backward()  # E[y^2] = scale^2 df / (df - 2)
    _unbiased(df.grad.numpy()[:, None], np.array([-2 * scale0 ** 2 / (df0 - 2) ** 2]))
    np.testing.assert_allclose(scale.grad.numpy(), 2 * y.numpy() ** 2 / scale0, rtol=1e-12)
    assert not StudentT(df, 0.0, scale).sample().requires_grad


def test_rsample_flags_and_reproducibility():
    for dist in (Gamma(2.0, 1.0), Chi2(3.0), Beta(2.0, 1.0), StudentT(3.0),
                 Dirichlet(tr.ones(3)), Independent(Gamma(tr.ones(3), 1.0), 1)):
        assert dist.has_rsample
        assert dist.rsample().shape == dist.batch_shape + dist.event_shape  # 0-d draws too
        tr.manual_seed(9)
        first = dist.rsample((4,)).numpy()
        tr.manual_seed(9)
        np.testing.assert_array_equal(dist.sample((4,)).numpy(), first)
    assert not Poisson(1.0).has_rsample


# ---- Dirichlet -----------------------------------------------------------------------------


def _dirichlet_pair(d, t):
    return d.Dirichlet(t[0]), d.Dirichlet(t[1])


@pytest.mark.torch
@given(alpha=st.lists(st.floats(0.05, 30), min_size=6, max_size=6),
       beta=st.lists(st.floats(0.05, 30), min_size=6, max_size=6))
def test_dirichlet_matches_torch(alpha, beta):
    """mean, mode, variance, entropy, log_prob and KL, with their gradients, on a batch of
    two 3-category Dirichlets."""
    a, b = np.array(alpha).reshape(2, 3), np.array(beta).reshape(2, 3)
    value = b / b.sum(-1, keepdims=True)
    fs = [lambda d, m: d.mean, lambda d, m: d.variance, lambda d, m: d.entropy(),
          lambda d, m: d.log_prob(m.tensor(value))]
    if (a > 1).any(-1).all():  # elsewhere a constant corner or NaN: no gradient to compare
        fs.append(lambda d, m: d.mode)
    for f in fs:
        _same(lambda d, t: d.Dirichlet(t[0]), f, a, atol=1e-12)
    _same(_dirichlet_pair, lambda pq, m: m.distributions.kl_divergence(*pq), a, b, atol=1e-12)


@pytest.mark.torch
def test_dirichlet_mode_corners_and_shapes_match_torch():
    torch = pytest.importorskip("torch")
    c = np.array([[0.5, 0.3, 0.2], [2.0, 3.0, 0.5], [1.0, 1.0, 1.0]])
    np.testing.assert_array_equal(Dirichlet(tr.tensor(c)).mode.numpy(),
                                  torch.distributions.Dirichlet(torch.tensor(c)).mode.numpy())
    d = Dirichlet(tr.tensor(c))
    assert d.batch_shape == (3,) and d.event_shape == (3,)
    assert d.sample((5,)).shape == (5, 3, 3) and d.log_prob(d.sample((5,))).shape == (5, 3)
    assert kl_divergence(d, d).numpy() == pytest.approx([0.0, 0.0, 0.0], abs=1e-6)


def test_dirichlet_errors_name_the_problem():
    with pytest.raises(ValueError, match="Dirichlet: concentration needs at least one axis"):
        Dirichlet(tr.tensor(1.0))
    with pytest.raises(ValueError, match="Dirichlet: concentration must be positive; 1 of 3"):
        Dirichlet(tr.tensor([1.0, 0.0, 2.0]))
    d = Dirichlet(tr.tensor([1.0, 2.0, 3.0]))
    with pytest.raises(ValueError, match=r"Dirichlet.log_prob: the value must be in the "
                                         r"support \(the simplex"):
        d.log_prob(tr.tensor([0.5, 0.6, 0.1]))
    with pytest.raises(ValueError, match=r"the value's last axis must be the event \(3\), got "
                                         r"shape \(2,\)"):
        d.log_prob(tr.tensor([0.5, 0.5]))
    unchecked = Dirichlet(tr.tensor([1.0, 2.0, 3.0]), validate_args=False)
    assert np.isfinite(unchecked.log_prob(tr.tensor([0.5, 0.6, 0.1])).item())


@pytest.mark.parametrize("device", DEVICES)
def test_dirichlet_samples_have_its_moments(device):
    c = tr.tensor([[0.3, 1.0, 5.0], [2.0, 2.0, 2.0]], dtype="float64", device=device)
    d = Dirichlet(c)
    s = d.sample((20000,)).numpy()
    assert ((s > 0) & (s < 1)).all()
    se = np.sqrt(d.variance.numpy() / 20000)
    assert (np.abs(s.mean(0) - d.mean.numpy()) < 5 * se).all()


# ---- expand --------------------------------------------------------------------------------


RNG = np.random.default_rng(5)


def _pos(shape):
    return RNG.uniform(0.5, 3.0, shape)


B = (2, 1)  # a batch shape with an axis to grow; expanded to NEW
NEW = (4, 2, 3)
# name: (make from float64 leaves, the leaves, a value of shape NEW (+ event) or None)
EXPANDABLE = {
    "Normal": (lambda d, t: d.Normal(t[0], t[1]), [RNG.standard_normal(B), _pos(B)],
               RNG.standard_normal(NEW)),
    "Laplace": (lambda d, t: d.Laplace(t[0], t[1]), [RNG.standard_normal(B), _pos(B)],
                RNG.standard_normal(NEW)),
    "LogNormal": (lambda d, t: d.LogNormal(t[0], t[1]), [RNG.standard_normal(B), _pos(B)],
                  _pos(NEW)),
    "StudentT": (lambda d, t: d.StudentT(t[0], t[1], t[2]), [_pos(B), RNG.standard_normal(B),
                                                             _pos(B)], RNG.standard_normal(NEW)),
    "Exponential": (lambda d, t: d.Exponential(t[0]), [_pos(B)], _pos(NEW)),
    "Gamma": (lambda d, t: d.Gamma(t[0], t[1]), [_pos(B), _pos(B)], _pos(NEW)),
    "Chi2": (lambda d, t: d.Chi2(t[0]), [_pos(B)], _pos(NEW)),
    "Beta": (lambda d, t: d.Beta(t[0], t[1]), [_pos(B), _pos(B)], RNG.uniform(0.1, 0.9, NEW)),
    "Uniform": (lambda d, t: d.Uniform(t[0], t[0] + t[1] + 3), [RNG.uniform(-1, 0, B),
                                                                 _pos(B)], RNG.uniform(0, 2, NEW)),
    "Poisson": (lambda d, t: d.Poisson(t[0]), [_pos(B)], RNG.integers(0, 5, NEW) * 1.0),
    "Bernoulli": (lambda d, t: d.Bernoulli(logits=t[0]), [RNG.standard_normal(B)],
                  RNG.integers(0, 2, NEW) * 1.0),
    "Binomial": (lambda d, t: d.Binomial(5, probs=t[0]), [RNG.uniform(0.1, 0.9, B)],
                 RNG.integers(0, 6, NEW) * 1.0),
    "NegativeBinomial": (lambda d, t: d.NegativeBinomial(t[0], logits=t[1]),
                         [_pos(B), RNG.standard_normal(B)], RNG.integers(0, 6, NEW) * 1.0),
    "Categorical": (lambda d, t: d.Categorical(logits=t[0]), [RNG.standard_normal(B + (4,))],
                    RNG.integers(0, 4, NEW)),
    "Dirichlet": (lambda d, t: d.Dirichlet(t[0]), [_pos(B + (3,))], RNG.dirichlet(
        np.ones(3), NEW)),
    "MultivariateNormal": (
        lambda d, t: d.MultivariateNormal(t[0], scale_tril=t[1]),
        [RNG.standard_normal(B + (2,)), np.array([[[1.0, 0.0], [0.3, 0.8]]] * 2).reshape(
            B + (2, 2))], RNG.standard_normal(NEW + (2,))),
    "Independent": (lambda d, t: d.Independent(d.Normal(t[0], t[1]), 1),
                    [RNG.standard_normal(B + (2,)), _pos(B + (2,))],
                    RNG.standard_normal(NEW + (2,))),
    "MixtureSameFamily": (lambda d, t: d.MixtureSameFamily(d.Categorical(logits=t[0]),
                                                           d.Normal(t[1], t[2])),
                          [RNG.standard_normal(B + (3,)), RNG.standard_normal(B + (3,)),
                           _pos(B + (3,))], RNG.standard_normal(NEW)),
}


@pytest.mark.torch
@pytest.mark.parametrize("name", list(EXPANDABLE))
def test_expand_matches_torch(name):
    """The expanded distribution's log_prob and mean, values and the gradients that flow back
    to the original parameters; its shapes and samples."""
    torch = pytest.importorskip("torch")
    make, leaves, value = EXPANDABLE[name]
    _same(make, lambda d, m: d.expand(NEW).log_prob(m.tensor(value)), *leaves, atol=1e-12)
    if name != "Categorical":  # (its mean is NaN, of no gradient)
        _same(make, lambda d, m: d.expand(list(NEW)).mean, *leaves, atol=1e-12)
    ours = make(tr.distributions, [tr.tensor(a) for a in leaves]).expand(NEW)
    theirs = make(torch.distributions, [torch.tensor(a) for a in leaves]).expand(NEW)
    assert ours.batch_shape == tuple(theirs.batch_shape) == NEW
    assert ours.event_shape == tuple(theirs.event_shape)
    assert ours.sample((2,)).shape == tuple(theirs.sample((2,)).shape)


def test_expand_refuses_shapes_that_do_not_broadcast_and_keeps_the_original():
    n = Normal(tr.zeros(2, 1), 1.0)
    with pytest.raises(ValueError, match=r"Normal.expand: batch_shape \(2, 1\) cannot be "
                                         r"expanded to \(3, 1\)"):
        n.expand((3, 1))
    with pytest.raises(ValueError, match=r"cannot be expanded to \(1,\)"):
        n.expand((1,))
    wide = n.expand((5, 2, 4))
    assert n.batch_shape == (2, 1) and n.loc.shape == (2, 1) and wide.loc.shape == (5, 2, 4)
    assert wide._validate_args and repr(wide) == "Normal(batch_shape=(5, 2, 4))"
    ind = Independent(Normal(tr.zeros(2, 3), 1.0), 1).expand((4, 2))
    assert ind.base_dist.batch_shape == (4, 2, 3) and ind.event_shape == (3,)
