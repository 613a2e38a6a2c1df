"""``tr.distributions``: Categorical, Bernoulli and Normal against ``torch.distributions``
(probabilities, log_prob, entropy, mean, variance, kl_divergence, and their gradients in the
parameters, in float64), samples (shapes, dtypes, devices, frequencies, reproducibility under
``tr.manual_seed``), the reparameterised Normal sample's gradient, and the errors."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_rnn as tr
from tinygrad_rnn.distributions import Bernoulli, Categorical, Normal, kl_divergence

from .conftest import DEVICES

RNG = np.random.default_rng(7)
LOGITS = RNG.standard_normal((3, 5))
LOGITS2 = RNG.standard_normal((3, 5))
LOC, SCALE = RNG.standard_normal((2, 3)), np.exp(RNG.standard_normal((2, 3)))


def _same(make, f, *arrays, atol=1e-14):
    """f of the distribution ``make`` builds from float64 leaves ``arrays``, in both
    frameworks: its value and the gradients of its sum in the leaves agree (``atol``: for
    values that are small differences of large terms, such as sums of lgamma)."""
    torch = pytest.importorskip("torch")
    lo = [tr.tensor(a, requires_grad=True) for a in arrays]
    lt = [torch.tensor(a, requires_grad=True) for a in arrays]
    a, b = f(make(tr.distributions, lo), tr), f(make(torch.distributions, lt), torch)
    np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-12, atol=atol)
    a.sum().backward()
    b.sum().backward()
    for x, y in zip(lo, lt):
        if x.grad is None or y.grad is None:  # a parameter f does not use
            assert x.grad is None and y.grad is None
            continue
        np.testing.assert_allclose(x.grad.numpy(), y.grad.numpy(), rtol=1e-11, atol=atol * 10)


CATEGORICAL = [lambda d, t: d.Categorical(logits=t[0]),
               lambda d, t: d.Categorical(probs=t[0].exp())]


@pytest.mark.torch
@pytest.mark.parametrize("make", CATEGORICAL, ids=["logits", "probs"])
def test_categorical_matches_torch(make):
    values = np.array([[0, 4, 2], [1, 1, 3]])  # broadcast against batch_shape (3,)
    for f in (lambda d, m: d.probs, lambda d, m: d.logits, lambda d, m: d.entropy(),
              lambda d, m: d.log_prob(m.tensor(values))):
        _same(make, f, LOGITS)
    ours = make(tr.distributions, [tr.tensor(LOGITS)])
    assert ours.batch_shape == (3,) and ours.mode.numpy().tolist() == \
        LOGITS.argmax(-1).tolist() and np.isnan(ours.mean.numpy()).all()
    zero = Categorical(probs=tr.tensor([0.5, 0.0, 0.5]))  # a category of probability 0
    assert zero.entropy().item() == pytest.approx(np.log(2))
    torch = pytest.importorskip("torch")
    theirs = torch.distributions.Categorical(probs=torch.tensor([0.5, 0.0, 0.5]))
    assert zero.log_prob(tr.tensor(1)).item() == pytest.approx(  # log(eps), as torch
        theirs.log_prob(torch.tensor(1)).item())


@pytest.mark.torch
def test_bernoulli_and_normal_and_kl_match_torch():
    torch = pytest.importorskip("torch")
    p = 1 / (1 + np.exp(-LOGITS))
    values = (RNG.random((3, 5)) < 0.5).astype(float)
    bernoulli = [lambda d, m: d.probs, lambda d, m: d.entropy(), lambda d, m: d.variance,
                 lambda d, m: d.log_prob(m.tensor(values))]
    for f in bernoulli:
        _same(lambda d, t: d.Bernoulli(logits=t[0]), f, LOGITS)
        _same(lambda d, t: d.Bernoulli(probs=t[0]), f, p)
    x = RNG.standard_normal((4, 2, 3))
    for f in (lambda d, m: d.entropy(), lambda d, m: d.mean, lambda d, m: d.stddev,
              lambda d, m: d.log_prob(m.tensor(x))):
        _same(lambda d, t: d.Normal(t[0], t[1]), f, LOC, SCALE)
    pairs = [  # (make p and q, arrays)
        (lambda d, t: (d.Normal(t[0], t[1]), d.Normal(t[2], t[3])),
         [LOC, SCALE, LOC[::-1].copy(), SCALE[::-1].copy()]),
        (lambda d, t: (d.Categorical(logits=t[0]), d.Categorical(logits=t[1])),
         [LOGITS, LOGITS2]),
        (lambda d, t: (d.Bernoulli(logits=t[0]), d.Bernoulli(logits=t[1])), [LOGITS, LOGITS2]),
    ]
    for make, arrays in pairs:
        _same(make, lambda pq, m: (tr.distributions if m is tr else
                                   torch.distributions).kl_divergence(*pq), *arrays)


@pytest.mark.parametrize("device", DEVICES)
def test_samples_shapes_frequencies_and_seeds(device):
    probs = tr.tensor([[0.1, 0.0, 0.6, 0.3], [1.0, 0.0, 0.0, 0.0]], device=device)
    cat = Categorical(probs=probs)
    tr.manual_seed(0)
    s = cat.sample((20000,))
    assert s.shape == (20000, 2) and s.dtype == np.int64 and s.device == device
    counts = np.bincount(s.numpy()[:, 0], minlength=4) / 20000
    np.testing.assert_allclose(counts, [0.1, 0.0, 0.6, 0.3], atol=0.015)
    assert (s.numpy()[:, 1] == 0).all()  # a category of probability 1
    tr.manual_seed(0)
    assert (cat.sample((20000,)).numpy() == s.numpy()).all()
    b = Bernoulli(probs=tr.tensor([0.2, 0.9], device=device)).sample((10000,))
    assert b.shape == (10000, 2) and b.dtype == np.float32
    np.testing.assert_allclose(b.numpy().mean(0), [0.2, 0.9], atol=0.02)
    loc = tr.tensor([1.0, -2.0], dtype="float64", device=device, requires_grad=True)
    scale = tr.tensor([0.5, 2.0], dtype="float64", device=device, requires_grad=True)
    n = Normal(loc, scale)
    x = n.rsample((50000,))
    np.testing.assert_allclose(x.numpy().mean(0), [1.0, -2.0], atol=0.03)
    np.testing.assert_allclose(x.numpy().std(0), [0.5, 2.0], rtol=0.02)
    (x ** 2).mean(0).sum().backward()  # d E[x²]/d loc = 2 loc, d/d scale = 2 scale
    np.testing.assert_allclose(loc.grad.numpy(), [2.0, -4.0], atol=0.05)
    np.testing.assert_allclose(scale.grad.numpy(), [1.0, 4.0], rtol=0.03)
    assert not n.sample().requires_grad and n.sample((3,)).shape == (3, 2)


def test_errors():
    with pytest.raises(ValueError, match="either probs or logits"):
        Categorical(probs=tr.ones(3), logits=tr.ones(3))
    with pytest.raises(ValueError, match="either probs or logits"):
        Bernoulli()
    with pytest.raises(ValueError, match="at least one axis"):
        Categorical(probs=tr.tensor(1.0))
    with pytest.raises(ValueError, match=r"value must be in 0\.\.2"):
        Categorical(logits=tr.zeros(3)).log_prob(tr.tensor([0.5]))
    with pytest.raises(ValueError, match="scale must be positive"):
        Normal(0.0, tr.tensor([1.0, -1.0]))
    with pytest.raises(NotImplementedError, match="Normal and Categorical"):
        kl_divergence(Normal(0.0, 1.0), Categorical(logits=tr.zeros(2)))


@pytest.mark.torch
def test_normal_cdf_matches_torch_values_and_gradients():
    rng = np.random.default_rng(0)
    loc, scale, v = rng.standard_normal(4), rng.uniform(0.5, 2, 4), rng.standard_normal(4)
    _same(lambda d, t: (d.Normal(t[0], t[1]), t[2]), lambda dv, m: dv[0].cdf(dv[1]),
          loc, scale, v)


@pytest.mark.torch
def test_erfinv_ndtri_and_normal_icdf_match_torch():
    torch = pytest.importorskip("torch")
    x = np.concatenate([np.linspace(-0.999999, 0.999999, 2001),
                        [1 - 2 ** -53, -1 + 2 ** -53, 1e-300, 0.0, 1.0, -1.0, 1.5, np.nan]])
    ours, theirs = tr.tensor(x).erfinv().numpy(), torch.erfinv(torch.tensor(x)).numpy()
    np.testing.assert_allclose(ours, theirs, rtol=4e-15, atol=0)  # inf, -inf, NaN equal too
    p = np.array([1e-4, 0.025, 0.5, 0.975, 1 - 1e-4])
    np.testing.assert_allclose(tr.special.ndtri(tr.tensor(p)).numpy(),
                               torch.special.ndtri(torch.tensor(p)).numpy(), rtol=1e-12)
    tail = np.array([1e-10, 1 - 1e-10])  # 2p - 1 rounds there (see ndtri's docstring)
    np.testing.assert_allclose(tr.special.ndtri(tr.tensor(tail)).numpy(),
                               torch.special.ndtri(torch.tensor(tail)).numpy(), rtol=1e-8)
    rng = np.random.default_rng(0)
    loc, scale, q = rng.standard_normal(3), rng.uniform(0.5, 2, 3), np.array([0.1, 0.5, 0.95])
    _same(lambda d, t: (d.Normal(t[0], t[1]), t[2]), lambda dv, m: dv[0].icdf(dv[1]),
          loc, scale, q)


@pytest.mark.parametrize("device", DEVICES)
def test_erfinv_gradient_is_that_of_central_differences(device):
    from tinygrad_rnn.testing import gradcheck

    x = tr.tensor(np.linspace(-0.95, 0.95, 9), device=device, requires_grad=True)
    assert gradcheck(lambda t: t.erfinv(), [x])
