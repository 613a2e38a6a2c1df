"""The continuous Bernoulli distribution on [0, 1], as
``torch.distributions.ContinuousBernoulli`` (Loaiza-Ganem and Cunningham, 2019: the proper
likelihood of a VAE with a Bernoulli loss on pixels in [0, 1])."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import functional as F
from .. import random as _random
from ..ops.elementwise import where
from ..tensor import Tensor
from . import constraints
from .exp_family import ExponentialFamily
from .utils import (
    _as_tensor,
    _below_one,
    _one_of,
    _require,
    _shape,
    clamp_probs,
    probs_to_logits,
)

__all__ = ["ContinuousBernoulli"]


class ContinuousBernoulli(ExponentialFamily):
    """Density C(λ) λ^x (1 - λ)^(1-x) on [0, 1], λ = ``probs`` = sigmoid(``logits``), C(λ) =
    2 atanh(1 - 2λ) / (1 - 2λ) (= 2 at λ = 1/2). Near λ = 1/2 (inside ``lims``) the
    normaliser, mean, variance, CDF and quantile are taken from their Taylor expansions in
    λ - 1/2 (or are the uniform's), as PyTorch's, where the closed forms cancel to noise.
    ``probs`` is clamped to [eps, 1 - eps] (after it is checked)."""

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.unit_interval
    _mean_carrier_measure = 0
    has_rsample = True
    _batch_params = ("probs", "logits")

    def __init__(self, probs: Any = None, logits: Any = None,
                 lims: tuple[float, float] = (0.499, 0.501),
                 validate_args: bool | None = None) -> None:
        _one_of(probs, logits, "ContinuousBernoulli")
        super().__init__((), validate_args=validate_args)
        if probs is not None:
            p = _as_tensor(probs)
            if self._validate_args:
                _require("ContinuousBernoulli", "probs", p, (p >= 0) & (p <= 1), "in [0, 1]")
            self.probs = clamp_probs(p)
            self.logits = probs_to_logits(self.probs, is_binary=True)
        else:
            self.logits = _as_tensor(logits)
            self.probs = clamp_probs(self.logits.sigmoid())
        self.batch_shape = self.probs.shape
        self._lims = lims

    def _outside_unstable_region(self) -> Tensor:
        return (self.probs <= self._lims[0]) | (self.probs > self._lims[1])

    def _cut_probs(self) -> Tensor:
        return where(self._outside_unstable_region(), self.probs, self._lims[0])

    def _cont_bern_log_norm(self) -> Tensor:
        """log C(λ) = log |log(1 - λ) - log λ| - log |1 - 2λ|; log 2 + (4/3 + 104/45 x) x,
        x = (λ - 1/2)², near 1/2."""
        cut = self._cut_probs()
        below = cut <= 0.5
        second = where(below, (-2.0 * where(below, cut, 0.0)).log1p(),
                       (2.0 * where(cut >= 0.5, cut, 1.0) - 1.0).log())
        log_norm = ((-cut).log1p() - cut.log()).abs().log() - second
        x = (self.probs - 0.5) ** 2
        taylor = math.log(2.0) + (4.0 / 3.0 + 104.0 / 45.0 * x) * x
        return where(self._outside_unstable_region(), log_norm, taylor)

    @property
    def mean(self) -> Tensor:
        """λ / (2λ - 1) + 1 / (log(1 - λ) - log λ); 1/2 + (1/3 + 16/45 x²) x, x = λ - 1/2."""
        cut = self._cut_probs()
        mus = cut / (2.0 * cut - 1.0) + 1.0 / ((-cut).log1p() - cut.log())
        x = self.probs - 0.5
        taylor = 0.5 + (1.0 / 3.0 + 16.0 / 45.0 * x ** 2) * x
        return where(self._outside_unstable_region(), mus, taylor)

    @property
    def variance(self) -> Tensor:
        """λ(λ - 1) / (1 - 2λ)² + 1 / (log(1 - λ) - log λ)²; 1/12 - (1/15 - 128/945 x) x,
        x = (λ - 1/2)²."""
        cut = self._cut_probs()
        var = cut * (cut - 1.0) / (1.0 - 2.0 * cut) ** 2 + \
            1.0 / ((-cut).log1p() - cut.log()) ** 2
        x = (self.probs - 0.5) ** 2
        taylor = 1.0 / 12.0 - (1.0 / 15.0 - 128.0 / 945.0 * x) * x
        return where(self._outside_unstable_region(), var, taylor)

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        """icdf(u), u ~ U[0, 1): differentiable in the parameters."""
        shape = _shape(sample_shape) + self.batch_shape
        u = _below_one(_random.generator().random(shape), self.probs.dtype)
        return self.icdf(_as_tensor(u, self.probs))

    def sample(self, sample_shape: Any = ()) -> Tensor:
        return self.rsample(sample_shape).detach()

    def log_prob(self, value: Any) -> Tensor:
        """x logit(λ) ... = -BCE_with_logits(logits, x) + log C(λ)."""
        v = self._value(value, self.probs)
        shape = np.broadcast_shapes(self.logits.shape, v.shape)
        return -F.binary_cross_entropy_with_logits(
            self.logits.broadcast_to(shape), v.broadcast_to(shape), reduction="none") \
            + self._cont_bern_log_norm()

    def cdf(self, value: Any) -> Tensor:
        """(λ^x (1 - λ)^(1-x) + λ - 1) / (2λ - 1), x near 1/2: x; 0 below 0, 1 above 1."""
        v = self._value(value, self.probs, "cdf")
        cut = self._cut_probs()
        cdfs = (cut ** v * (1.0 - cut) ** (1.0 - v) + cut - 1.0) / (2.0 * cut - 1.0)
        unbounded = where(self._outside_unstable_region(), cdfs, v)
        return where(v <= 0.0, 0.0, where(v >= 1.0, 1.0, unbounded))

    def icdf(self, value: Any) -> Tensor:
        """(log1p(-λ + u (2λ - 1)) - log1p(-λ)) / (log λ - log1p(-λ)); u near λ = 1/2."""
        u = _as_tensor(value, self.probs)
        cut = self._cut_probs()
        q = ((-cut + u * (2.0 * cut - 1.0)).log1p() - (-cut).log1p()) / \
            (cut.log() - (-cut).log1p())
        return where(self._outside_unstable_region(), q, u)

    def entropy(self) -> Tensor:
        """E[x] (log(1 - λ) - log λ) - log C(λ) - log(1 - λ)."""
        log_p0 = (-self.probs).log1p()
        log_p1 = self.probs.log()
        return self.mean * (log_p0 - log_p1) - self._cont_bern_log_norm() - log_p0

    @property
    def _natural_params(self) -> tuple[Tensor, ...]:
        return (self.logits,)

    def _log_normalizer(self, x: Tensor) -> Tensor:
        """log((e^η - 1) / η) of the natural parameter η; η/2 + η²/24 - η⁴/2880 near 0."""
        outside = (x <= self._lims[0] - 0.5) | (x > self._lims[1] - 0.5)
        cut = where(outside, x, self._lims[0] - 0.5)
        log_norm = cut.expm1().abs().log() - cut.abs().log()
        taylor = 0.5 * x + x ** 2 / 24.0 - x ** 4 / 2880.0
        return where(outside, log_norm, taylor)
