"""constraints, transforms, biject_to / transform_to and TransformedDistribution, against
torch.distributions in float64: forward and inverse values, log |det J| and its gradients,
round trips, shapes, caching, composition, constraint checks."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_rnn as tr
from tinygrad_rnn.distributions import (
    Normal,
    TransformedDistribution,
    biject_to,
    constraints,
    transform_to,
    transforms,
)
from tinygrad_rnn.testing import gradcheck

RNG = np.random.default_rng(5)
LOC, SCALE = RNG.standard_normal((2, 3)), RNG.uniform(0.5, 2, (2, 3))


def _t(m, a, grad=False):
    if m is tr:
        return tr.tensor(a, requires_grad=grad)
    import torch
    return torch.tensor(a, requires_grad=grad)


# name: (make(T, m) for m = tr or torch and T its transforms module, an input x in the domain)
TRANSFORMS = {
    "Exp": (lambda T, m: T.ExpTransform(), RNG.standard_normal((2, 3))),
    "Affine": (lambda T, m: T.AffineTransform(_t(m, LOC), _t(m, SCALE)),
               RNG.standard_normal((2, 3))),
    "AffineNumbers": (lambda T, m: T.AffineTransform(1.5, -2.0), RNG.standard_normal((2, 3))),
    "AffineEvent": (lambda T, m: T.AffineTransform(_t(m, LOC), _t(m, SCALE), event_dim=1),
                    RNG.standard_normal((4, 2, 3))),
    "Sigmoid": (lambda T, m: T.SigmoidTransform(), RNG.standard_normal((2, 3))),
    "Tanh": (lambda T, m: T.TanhTransform(), RNG.standard_normal((2, 3))),
    "Power": (lambda T, m: T.PowerTransform(_t(m, SCALE)), RNG.uniform(0.5, 2, (2, 3))),
    "PowerNegative": (lambda T, m: T.PowerTransform(-1.5), RNG.uniform(0.5, 2, (2, 3))),
    "Softplus": (lambda T, m: T.SoftplusTransform(), RNG.standard_normal((2, 3))),
    "StickBreaking": (lambda T, m: T.StickBreakingTransform(), RNG.standard_normal((2, 3))),
    "CorrCholesky": (lambda T, m: T.CorrCholeskyTransform(), RNG.standard_normal((2, 6))),
    "Compose": (lambda T, m: T.ComposeTransform([T.AffineTransform(0.5, 2.0), T.ExpTransform(),
                                                 T.PowerTransform(0.5)]),
                RNG.standard_normal((2, 3))),
    "ComposeEvent": (lambda T, m: T.ComposeTransform([T.ExpTransform(),
                                                      T.StickBreakingTransform()]),
                     RNG.standard_normal((2, 3))),
    "Independent": (lambda T, m: T.IndependentTransform(T.SigmoidTransform(), 2),
                    RNG.standard_normal((4, 2, 3))),
    "Reshape": (lambda T, m: T.ReshapeTransform((2, 3), (6,)), RNG.standard_normal((4, 2, 3))),
    "Cat": (lambda T, m: T.CatTransform([T.ExpTransform(), T.AffineTransform(1.0, 3.0)], 1,
                                        [1, 2]), RNG.standard_normal((2, 3))),
    "CatEvent": (lambda T, m: T.CatTransform([T.IndependentTransform(T.ExpTransform(), 1),
                                              T.IndependentTransform(T.TanhTransform(), 1)],
                                             -1, [2, 3]), RNG.standard_normal((2, 5))),
    "Stack": (lambda T, m: T.StackTransform([T.ExpTransform(), T.SigmoidTransform()], 0),
              RNG.standard_normal((2, 3))),
    "Inverse": (lambda T, m: T.SigmoidTransform().inv, RNG.uniform(0.1, 0.9, (2, 3))),
    "Cdf": (lambda T, m: T.CumulativeDistributionTransform(
        m.distributions.Normal(_t(m, LOC), _t(m, SCALE))), RNG.standard_normal((2, 3))),
}
NOT_BIJECTIVE = {
    "Abs": (lambda T, m: T.AbsTransform(), RNG.standard_normal((2, 3))),
    "Softmax": (lambda T, m: T.SoftmaxTransform(), RNG.standard_normal((2, 3))),
    "LowerCholesky": (lambda T, m: T.LowerCholeskyTransform(), RNG.standard_normal((2, 3, 3))),
    "PositiveDefinite": (lambda T, m: T.PositiveDefiniteTransform(),
                         RNG.standard_normal((2, 3, 3))),
}


def _both(make):
    torch = pytest.importorskip("torch")
    return make(transforms, tr), make(torch.distributions.transforms, torch)


@pytest.mark.torch
@pytest.mark.parametrize("name", list(TRANSFORMS))
def test_transform_matches_torch(name):
    """y, x = inv(y), log |det J| and its gradient in x; the domain's and codomain's
    event_dim, bijective, sign, the shapes."""
    make, x = TRANSFORMS[name]
    ours, theirs = _both(make)
    xo, xt = _t(tr, x, True), _t(__import__("torch"), x, True)
    yo, yt = ours(xo), theirs(xt)
    np.testing.assert_allclose(yo.detach().numpy(), yt.detach().numpy(), rtol=1e-12,
                               atol=1e-14)
    np.testing.assert_allclose(ours.inv(yo.detach()).detach().numpy(), x, rtol=1e-9,
                               atol=1e-9)
    lo, lt = ours.log_abs_det_jacobian(xo, yo), theirs.log_abs_det_jacobian(xt, yt)
    assert lo.shape == tuple(lt.shape)
    np.testing.assert_allclose(lo.detach().numpy(), lt.detach().numpy(), rtol=1e-10,
                               atol=1e-12)
    (lo.sum() + yo.sum()).backward()
    (lt.sum() + yt.sum()).backward()
    np.testing.assert_allclose(xo.grad.numpy(), xt.grad.numpy(), rtol=1e-9, atol=1e-11)
    assert ours.domain.event_dim == theirs.domain.event_dim
    assert ours.codomain.event_dim == theirs.codomain.event_dim
    assert ours.bijective == theirs.bijective
    assert ours.forward_shape(x.shape) == tuple(theirs.forward_shape(x.shape))
    assert ours.inverse_shape(yo.shape) == tuple(theirs.inverse_shape(tuple(yt.shape)))
    try:
        sign = theirs.sign
    except NotImplementedError:
        with pytest.raises(NotImplementedError):
            _ = ours.sign
    else:
        np.testing.assert_array_equal(np.asarray(ours.sign.numpy() if isinstance(
            ours.sign, tr.Tensor) else ours.sign), np.asarray(sign))
    # the codomain holds y, the domain x
    assert ours.codomain.check(yo.detach()).numpy().all()
    if name not in ("Cdf",):
        assert ours.domain.check(xo.detach()).numpy().all()


@pytest.mark.torch
@pytest.mark.parametrize("name", list(NOT_BIJECTIVE))
def test_non_bijective_transforms_match_torch(name):
    make, x = NOT_BIJECTIVE[name]
    ours, theirs = _both(make)
    import torch
    yo, yt = ours(tr.tensor(x)), theirs(torch.tensor(x))
    np.testing.assert_allclose(yo.numpy(), yt.numpy(), rtol=1e-12)
    np.testing.assert_allclose(ours.inv(yo).numpy(), theirs.inv(yt).numpy(), rtol=1e-9,
                               atol=1e-12)
    assert not ours.bijective
    assert ours.codomain.check(yo).numpy().all()


@given(st.lists(st.floats(-2, 2), min_size=3, max_size=3), st.floats(0.3, 2))
def test_log_abs_det_jacobians_have_central_difference_gradients(xs, s):
    """log |det J| is differentiable in x and in a transform's parameters (an affine scale, a
    power)."""
    T = transforms

    def check(fn, *args):
        assert gradcheck(fn, [tr.tensor(a, dtype="float64", requires_grad=True)
                              for a in args])

    x = np.array(xs)
    for t in (T.ExpTransform(), T.SigmoidTransform(), T.TanhTransform(), T.SoftplusTransform(),
              T.StickBreakingTransform(), T.CorrCholeskyTransform()):
        check(lambda v, t=t: t.log_abs_det_jacobian(v, t(v)) + t(v).sum(), x)
    check(lambda v, c: T.AffineTransform(1.0, c).log_abs_det_jacobian(v, v), x, s)
    check(lambda v, c: T.PowerTransform(c).log_abs_det_jacobian(v.exp(), v.exp() ** c), x, s)


def test_the_log_abs_det_jacobian_is_that_of_the_jacobian():
    """Against log |det| of the Jacobian computed by autograd, for the bijections of
    vectors (StickBreaking onto the first K of K + 1, CorrCholesky onto the strict lower
    triangle)."""
    from tinygrad_rnn.autograd_functional import jacobian
    from tinygrad_rnn.distributions.utils import tril_matrix_to_vec
    x = tr.tensor(RNG.standard_normal(3))
    t = transforms.StickBreakingTransform()
    J = jacobian(lambda v: t(v)[:-1], x).numpy()
    np.testing.assert_allclose(t.log_abs_det_jacobian(x, t(x)).item(),
                               np.log(abs(np.linalg.det(J))), rtol=1e-10)
    c = transforms.CorrCholeskyTransform()
    J = jacobian(lambda v: tril_matrix_to_vec(c(v), diag=-1), x).numpy()
    np.testing.assert_allclose(c.log_abs_det_jacobian(x, c(x)).item(),
                               np.log(abs(np.linalg.det(J))), rtol=1e-10)


def test_cache_inverse_compose_and_equality():
    T = transforms
    t = T.ExpTransform(cache_size=1)
    x = tr.tensor([0.3])
    y = t(x)
    assert t(x) is y and t.inv(y) is x  # the cached pair: no round-off back
    assert t.inv.inv is t and T.ExpTransform() == T.ExpTransform()
    assert T.ExpTransform() != T.SigmoidTransform() and T.ExpTransform().inv == T.ExpTransform().inv
    assert T.AffineTransform(1.0, 2.0) == T.AffineTransform(1.0, 2.0)
    assert T.AffineTransform(1.0, 2.0) != T.AffineTransform(1.0, 3.0)
    with pytest.raises(ValueError, match="cache_size must be 0 or 1"):
        T.ExpTransform(cache_size=2)
    c = T.ComposeTransform([T.ExpTransform(), T.AffineTransform(1.0, 2.0)])
    np.testing.assert_allclose(c.inv(c(x)).numpy(), x.numpy(), rtol=1e-6)
    assert c.inv.inv is c and c.sign == 1
    assert T.identity_transform(x) is x
    assert T.ComposeTransform([T.ExpTransform(), T.AffineTransform(0.0, -1.0)]).sign == -1
    with pytest.raises(NotImplementedError, match="sign"):
        _ = T.SoftmaxTransform().sign
    with pytest.raises(ValueError, match="hold different numbers of elements"):
        T.ReshapeTransform((2, 3), (5,))
    with pytest.raises(ValueError, match="StackTransform: axis 0 has 3 slices, 2 transforms"):
        T.StackTransform([T.ExpTransform(), T.ExpTransform()])(tr.zeros(3))
    assert "AffineTransform" in repr(T.AffineTransform(0.0, 1.0))


# ---- constraints and the registries --------------------------------------------------------

C_VALUES = [np.array([-1.0, 0.0, 0.5, 1.0, 2.5, np.nan]),
            np.array([[0.2, 0.8], [0.5, 0.6], [-0.1, 1.1]]),
            np.array([[[1.0, 0.0], [0.3, 2.0]], [[1.0, 0.2], [0.3, 2.0]],
                      [[2.0, 0.5], [0.5, 1.0]], [[1.0, 2.0], [2.0, 1.0]]])]
CONSTRAINTS = [
    ("real", lambda c, m: c.real, 0), ("positive", lambda c, m: c.positive, 0),
    ("nonnegative", lambda c, m: c.nonnegative, 0),
    ("unit_interval", lambda c, m: c.unit_interval, 0), ("boolean", lambda c, m: c.boolean, 0),
    ("nonnegative_integer", lambda c, m: c.nonnegative_integer, 0),
    ("positive_integer", lambda c, m: c.positive_integer, 0),
    ("greater_than", lambda c, m: c.greater_than(0.5), 0),
    ("greater_than_eq", lambda c, m: c.greater_than_eq(0.5), 0),
    ("less_than", lambda c, m: c.less_than(1.0), 0),
    ("interval", lambda c, m: c.interval(-1.0, 1.0), 0),
    ("half_open_interval", lambda c, m: c.half_open_interval(-1.0, 1.0), 0),
    ("integer_interval", lambda c, m: c.integer_interval(0, 2), 0),
    ("interval_tensor", lambda c, m: c.interval(_t(m, np.zeros(6)), _t(m, np.full(6, 2.0))),
     0),
    ("real_vector", lambda c, m: c.real_vector, 1), ("simplex", lambda c, m: c.simplex, 1),
    ("one_hot", lambda c, m: c.one_hot, 1), ("multinomial", lambda c, m: c.multinomial(1), 1),
    ("independent", lambda c, m: c.independent(c.positive, 1), 1),
    ("lower_triangular", lambda c, m: c.lower_triangular, 2),
    ("lower_cholesky", lambda c, m: c.lower_cholesky, 2),
    ("square", lambda c, m: c.square, 2), ("symmetric", lambda c, m: c.symmetric, 2),
    ("positive_definite", lambda c, m: c.positive_definite, 2),
    ("positive_semidefinite", lambda c, m: c.positive_semidefinite, 2),
]


@pytest.mark.torch
@pytest.mark.parametrize("name,make,event_dim", CONSTRAINTS, ids=[c[0] for c in CONSTRAINTS])
def test_constraint_checks_match_torch(name, make, event_dim):
    torch = pytest.importorskip("torch")
    ours, theirs = make(constraints, tr), make(torch.distributions.constraints, torch)
    assert ours.event_dim == theirs.event_dim == event_dim
    assert ours.is_discrete == theirs.is_discrete
    for v in C_VALUES:
        if v.ndim < event_dim or (event_dim == 2 and v.ndim != 3) or (
                name == "interval_tensor" and v.shape != (6,)):
            continue
        np.testing.assert_array_equal(ours.check(tr.tensor(v)).numpy(),
                                      theirs.check(torch.tensor(v)).numpy(), err_msg=name)


def test_constraints_misc():
    c = constraints
    assert c.is_dependent(c.dependent) and not c.is_dependent(c.real)
    assert c.is_dependent(tr.distributions.Uniform.support)
    assert str(c.positive) == "the positive numbers" and c.positive.words == "positive"
    assert repr(c.greater_than(1.0)) == "GreaterThan(lower_bound=1.0)"
    u = tr.distributions.Uniform(0.0, 2.0)
    assert u.support.check(tr.tensor([1.0, 3.0])).numpy().tolist() == [True, False]
    with pytest.raises(ValueError, match="cannot be checked"):
        c.dependent.check(tr.zeros(1))
    cat = c.cat([c.positive, c.unit_interval], 0, [1, 2])
    assert cat.check(tr.tensor([2.0, 0.5, 0.5])).numpy().all()
    assert not cat.check(tr.tensor([2.0, 0.5, 1.5])).numpy().all()
    stack = c.stack([c.positive, c.real], -1)
    np.testing.assert_array_equal(stack.check(tr.tensor([[1.0, -1.0], [-1.0, 1.0]])).numpy(),
                                  [[True, True], [False, True]])


REGISTERED = [constraints.real, constraints.positive, constraints.nonnegative,
              constraints.greater_than(2.0), constraints.greater_than_eq(-1.0),
              constraints.less_than(3.0), constraints.unit_interval,
              constraints.interval(-2.0, 5.0), constraints.half_open_interval(0.0, 4.0),
              constraints.simplex, constraints.independent(constraints.positive, 1),
              constraints.corr_cholesky, constraints.cat([constraints.positive,
                                                          constraints.real], -1, [2, 1]),
              constraints.stack([constraints.positive, constraints.unit_interval,
                                 constraints.real], -1)]


@pytest.mark.parametrize("registry", [biject_to, transform_to], ids=["biject_to",
                                                                      "transform_to"])
def test_registries_map_reals_onto_each_constraint(registry):
    """t(x) lies in the constraint for any real x; biject_to's are bijections, so t.inv(t(x))
    is x."""
    x = tr.tensor(RNG.standard_normal((4, 3)))
    for c in REGISTERED + ([constraints.lower_cholesky, constraints.positive_definite]
                           if registry is transform_to else []):
        t = registry(c)
        v = x if t.domain.event_dim < 2 else tr.tensor(RNG.standard_normal((4, 3, 3)))
        y = t(v)
        assert c.check(y).numpy().all(), c
        if registry is biject_to:
            assert t.bijective
            np.testing.assert_allclose(t.inv(y).numpy(), v.numpy(), rtol=1e-5, atol=1e-5)
    with pytest.raises(NotImplementedError, match="no transform onto"):
        biject_to(constraints.lower_cholesky)
    with pytest.raises(TypeError, match="Constraint subclass"):
        biject_to.register(int, lambda c: None)


# ---- TransformedDistribution ---------------------------------------------------------------


def _td(d, t):
    T = d.transforms
    return d.TransformedDistribution(d.Normal(t[0], t[1]),
                                     [T.AffineTransform(0.5, t[2]), T.ExpTransform()])


def _td_event(d, t):
    return d.TransformedDistribution(d.Normal(t[0], t[1]), d.transforms.StickBreakingTransform())


def _td_decreasing(d, t):
    T = d.transforms
    return d.TransformedDistribution(d.Normal(t[0], t[1]), [T.AffineTransform(0.0, -2.0),
                                                            T.SigmoidTransform()])


@pytest.mark.torch
@pytest.mark.parametrize("make,value,methods", [
    (_td, RNG.uniform(0.5, 3, (2, 3)), ["log_prob", "cdf", "icdf"]),
    (_td_event, np.full((2, 4), 0.25), ["log_prob"]),
    (_td_decreasing, RNG.uniform(0.1, 0.9, (2, 3)), ["log_prob", "cdf", "icdf"]),
], ids=["affine-exp", "stick-breaking", "decreasing"])
def test_transformed_distribution_matches_torch(make, value, methods):
    from .test_distributions_families import _same
    leaves = [LOC, SCALE, SCALE[::-1].copy()]
    p = np.random.default_rng(2).uniform(0.05, 0.95, (2, 3))
    for method in methods:
        arg = p if method == "icdf" else value
        _same(make, lambda d, m, method=method, arg=arg: getattr(d, method)(m.tensor(arg)),
              *leaves)
    torch = pytest.importorskip("torch")
    ours = make(tr.distributions, [tr.tensor(a) for a in leaves])
    theirs = make(torch.distributions, [torch.tensor(a) for a in leaves])
    assert ours.batch_shape == tuple(theirs.batch_shape)
    assert ours.event_shape == tuple(theirs.event_shape)
    assert ours.support.event_dim == theirs.support.event_dim
    big = (5,) + ours.batch_shape
    s = ours.expand(big).rsample((7,))
    assert s.shape == (7,) + big + ours.event_shape


def test_transformed_distribution_samples_and_gradients():
    """A LogNormal built from transforms: samples' mean within 5 standard errors; rsample's
    gradient reaches the base's parameters through the transforms; log_prob of its own
    samples is finite."""
    loc = tr.tensor([0.2, -0.3], dtype="float64", requires_grad=True)
    scale = tr.tensor([0.4, 0.6], dtype="float64")
    d = TransformedDistribution(Normal(loc, scale), transforms.ExpTransform())
    n = 40000
    s = d.sample((n,)).numpy()
    mean = np.exp(loc.detach().numpy() + scale.numpy() ** 2 / 2)
    sd = mean * np.sqrt(np.expm1(scale.numpy() ** 2))
    assert np.all(np.abs(s.mean(0) - mean) < 5 * sd / math.sqrt(n))
    d.rsample((3,)).sum().backward()
    assert loc.grad is not None and np.all(loc.grad.numpy() > 0)
    assert np.isfinite(d.log_prob(d.sample((10,))).numpy()).all()
    with pytest.raises(ValueError, match=r"TransformedDistribution.log_prob: the value must be "
                                         r"in the support \(the positive numbers\)"):
        d.log_prob(tr.tensor([-1.0, 1.0], dtype="float64"))
    with pytest.raises(ValueError, match="must be a Transform or a list"):
        TransformedDistribution(Normal(0.0, 1.0), [1])
    with pytest.raises(NotImplementedError, match="not a monotone map"):
        TransformedDistribution(Normal(tr.zeros(3), 1.0),
                                transforms.SoftmaxTransform()).cdf(tr.ones(3) / 3)


def test_kl_of_transformed_distributions_is_that_of_their_bases():
    T = transforms
    p = TransformedDistribution(Normal(0.0, 1.0), [T.ExpTransform()])
    q = TransformedDistribution(Normal(1.0, 2.0), [T.ExpTransform()])
    kl = tr.distributions.kl_divergence(p, q)
    np.testing.assert_allclose(kl.item(), tr.distributions.kl_divergence(
        Normal(0.0, 1.0), Normal(1.0, 2.0)).item())
    with pytest.raises(NotImplementedError, match="different transforms"):
        tr.distributions.kl_divergence(p, TransformedDistribution(Normal(1.0, 2.0),
                                                                  [T.SigmoidTransform()]))


def test_every_distribution_has_arg_constraints_and_a_support():
    torch = pytest.importorskip("torch")
    for name in tr.distributions.__all__:
        cls = getattr(tr.distributions, name)
        if not (isinstance(cls, type) and issubclass(cls, tr.distributions.Distribution)):
            continue
        assert isinstance(cls.arg_constraints, dict), name
        theirs = getattr(torch.distributions, name, None)
        if theirs is not None and isinstance(getattr(theirs, "arg_constraints", None), dict):
            assert set(cls.arg_constraints) == set(theirs.arg_constraints), name
        assert isinstance(cls.support, constraints.Constraint), name
