"""Probability distributions, as ``torch.distributions``: the same classes, constructor
arguments (``validate_args`` too), ``batch_shape`` and ``event_shape``, ``sample``, ``rsample``
where PyTorch has a reparameterised one, ``log_prob``, ``entropy``, ``mean``, ``mode``,
``variance``, ``stddev``, ``cdf``, ``icdf``, ``expand``, ``arg_constraints`` and ``support``,
all differentiable in their parameters.

The package is laid out as PyTorch's, one family per module (``normal.py`` holds Normal, as
``torch.distributions.normal``), so ``from torch.distributions.normal import Normal`` ports as
``from tinygrad_rnn.distributions.normal import Normal``:

    distribution.py      Distribution, the base (shapes, validation, expand)
    constraints.py       the sets parameters and values live in (``support``, ``check``)
    transforms.py        invertible maps with their log-Jacobians (Exp, Affine, StickBreaking...)
    constraint_registry  biject_to / transform_to: a transform from R onto each constraint
    transformed_distribution.py   a base distribution pushed through transforms
    exp_family.py        ExponentialFamily (entropy and KL by a Bregman divergence)
    kl.py                kl_divergence and register_kl
    utils.py             broadcast_all, probs_to_logits, logits_to_probs, clamp_probs, ...

    discrete     Categorical (sampling a language model's next character), Bernoulli,
                 Binomial, Poisson, NegativeBinomial (over-dispersed counts), Geometric,
                 Multinomial, OneHotCategorical(StraightThrough)
    continuous   Normal (a VAE's reparameterised sample), LogNormal, Laplace, StudentT, Cauchy,
                 HalfNormal, HalfCauchy, Gumbel, Exponential, Gamma, Chi2, InverseGamma, Beta,
                 Kumaraswamy, Uniform, Weibull, Pareto, GeneralizedPareto, FisherSnedecor,
                 ContinuousBernoulli (on [0, 1]), VonMises (angles)
    relaxed      RelaxedBernoulli, RelaxedOneHotCategorical (the Gumbel-softmax), and their
                 logit / log forms LogitRelaxedBernoulli, ExpRelaxedCategorical
    vectors      Dirichlet, LogisticNormal (probability vectors), MultivariateNormal,
                 LowRankMultivariateNormal (correlated vectors)
    matrices     Wishart (covariance matrices), LKJCholesky (Cholesky factors of
                 correlation matrices)
    composed     Independent (batch axes read as one event: a diagonal Gaussian),
                 MixtureSameFamily (a mixture density network's output, log_prob by logsumexp),
                 TransformedDistribution

Samples are drawn on the host from ``tr.manual_seed``'s generator (other numbers than
PyTorch's for one seed) and moved to the parameters' device. ``rsample`` is a differentiable
function of the parameters: of noise drawn apart from them, or, for Gamma and the families
built from Gamma draws (Chi2, Beta, Dirichlet, StudentT, FisherSnedecor, InverseGamma), by
implicit reparameterisation (``StandardGamma``: dx/da = -(∂P/∂a)(x; a) / p(x; a), computed to
~1e-13 where PyTorch's is an approximation good to ~1e-3).

As PyTorch's, parameters are checked when a distribution is made, and ``log_prob`` (and
``cdf``) values against the support, unless ``validate_args=False``
(``Distribution.set_default_validate_args(False)`` for all): each failure is a ValueError
that names the distribution, the parameter and the constraint.

    dist = tr.distributions.Categorical(logits=model(x)[:, -1])
    next_char = dist.sample()                 # int64, one per row
    loss = -dist.log_prob(targets).mean()
"""

from __future__ import annotations

from . import constraint_registry, constraints, kl, transforms, utils
from .bernoulli import Bernoulli
from .beta import Beta
from .binomial import Binomial
from .categorical import Categorical
from .cauchy import Cauchy
from .chi2 import Chi2
from .constraint_registry import biject_to, transform_to
from .continuous_bernoulli import ContinuousBernoulli
from .dirichlet import Dirichlet
from .distribution import Distribution
from .exp_family import ExponentialFamily
from .exponential import Exponential
from .fishersnedecor import FisherSnedecor
from .gamma import Gamma, StandardGamma
from .generalized_pareto import GeneralizedPareto
from .geometric import Geometric
from .gumbel import Gumbel
from .half_cauchy import HalfCauchy
from .half_normal import HalfNormal
from .independent import Independent
from .inverse_gamma import InverseGamma
from .kl import kl_divergence, register_kl
from .kumaraswamy import Kumaraswamy
from .laplace import Laplace
from .lkj_cholesky import LKJCholesky
from .log_normal import LogNormal
from .logistic_normal import LogisticNormal
from .lowrank_multivariate_normal import LowRankMultivariateNormal
from .mixture_same_family import MixtureSameFamily
from .multinomial import Multinomial
from .multivariate_normal import MultivariateNormal
from .negative_binomial import NegativeBinomial
from .normal import Normal
from .one_hot_categorical import OneHotCategorical, OneHotCategoricalStraightThrough
from .pareto import Pareto
from .poisson import Poisson
from .relaxed_bernoulli import LogitRelaxedBernoulli, RelaxedBernoulli
from .relaxed_categorical import ExpRelaxedCategorical, RelaxedOneHotCategorical
from .studentT import StudentT
from .transformed_distribution import TransformedDistribution
from .transforms import (
    AbsTransform,
    AffineTransform,
    CatTransform,
    ComposeTransform,
    CorrCholeskyTransform,
    CumulativeDistributionTransform,
    ExpTransform,
    IndependentTransform,
    LowerCholeskyTransform,
    PositiveDefiniteTransform,
    PowerTransform,
    ReshapeTransform,
    SigmoidTransform,
    SoftmaxTransform,
    SoftplusTransform,
    StackTransform,
    StickBreakingTransform,
    TanhTransform,
    Transform,
    identity_transform,
)
from .uniform import Uniform
from .utils import _below_one  # noqa: F401  (tests reach it here, as before the split)
from .von_mises import VonMises
from .weibull import Weibull
from .wishart import Wishart

__all__ = [
    "AbsTransform", "AffineTransform", "Bernoulli", "Beta", "Binomial", "CatTransform",
    "Categorical", "Cauchy", "Chi2", "ComposeTransform", "ContinuousBernoulli",
    "CorrCholeskyTransform",
    "CumulativeDistributionTransform", "Dirichlet", "Distribution", "ExpRelaxedCategorical",
    "ExpTransform", "Exponential", "ExponentialFamily", "FisherSnedecor", "Gamma",
    "GeneralizedPareto", "Geometric", "Gumbel", "HalfCauchy", "HalfNormal", "Independent",
    "IndependentTransform", "InverseGamma", "Kumaraswamy", "LKJCholesky", "Laplace",
    "LogNormal", "LogisticNormal", "LogitRelaxedBernoulli", "LowRankMultivariateNormal",
    "LowerCholeskyTransform", "MixtureSameFamily", "Multinomial", "MultivariateNormal",
    "NegativeBinomial", "Normal", "OneHotCategorical", "OneHotCategoricalStraightThrough",
    "Pareto", "Poisson", "PositiveDefiniteTransform", "PowerTransform", "RelaxedBernoulli",
    "RelaxedOneHotCategorical", "ReshapeTransform", "SigmoidTransform", "SoftmaxTransform",
    "SoftplusTransform", "StackTransform", "StandardGamma", "StickBreakingTransform",
    "StudentT", "TanhTransform", "Transform", "TransformedDistribution", "Uniform", "VonMises",
    "Weibull", "Wishart",
    "biject_to", "constraint_registry", "constraints", "identity_transform", "kl",
    "kl_divergence", "register_kl", "transform_to", "transforms", "utils",
]
