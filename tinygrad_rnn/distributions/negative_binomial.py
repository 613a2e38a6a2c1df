"""The negative binomial distribution (over-dispersed counts), as
``torch.distributions.NegativeBinomial``."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import functional as F
from .. import random as _random
from ..tensor import Tensor
from . import constraints
from .binomial import _count_and_coin
from .distribution import Distribution
from .utils import (
    _drawn,
    _host,
)


class NegativeBinomial(Distribution):
    """The number of successes (each of probability ``probs`` = sigmoid(``logits``)) before
    ``total_count`` failures (a real number > 0 is allowed): P(k) = Γ(k + r) / (k! Γ(r))
    p^k (1 - p)^r, r = total_count: counts more spread than Poisson's."""

    arg_constraints = {"total_count": constraints.greater_than_eq(0),
                       "probs": constraints.half_open_interval(0.0, 1.0),
                       "logits": constraints.real}
    support = constraints.nonnegative_integer
    _batch_params = ("total_count", "probs", "logits")

    def __init__(self, total_count: Any, probs: Any = None, logits: Any = None,
                 validate_args: bool | None = None) -> None:
        r = _count_and_coin(self, total_count, probs, logits, validate_args,
                            lambda p: (p >= 0) & (p < 1), "in [0, 1)")
        self._check("total_count", r, r >= 0, "nonnegative")


    @property
    def mean(self) -> Tensor:
        return self.total_count * self.logits.exp()

    @property
    def mode(self) -> Tensor:
        return ((self.total_count - 1) * self.logits.exp()).floor().clamp(min=0.0)

    @property
    def variance(self) -> Tensor:
        return self.mean / (-self.logits).sigmoid()

    def sample(self, sample_shape: Any = ()) -> Tensor:
        """Poisson counts of a Gamma(total_count, e^-logits) rate (a Gamma-Poisson mixture)."""
        shape = self._extended_shape(sample_shape)
        rng = _random.generator()
        rate = rng.gamma(np.broadcast_to(_host(self.total_count), shape),
                         np.broadcast_to(np.exp(_host(self.logits)), shape))
        return _drawn(rng.poisson(rate), self.probs)

    def log_prob(self, value: Any) -> Tensor:
        """r log σ(-logits) + k log σ(logits) + log Γ(r + k) - log k! - log Γ(r) (0 where r +
        k = 0: the point mass at 0 of r = 0)."""
        r, logits = self.total_count, self.logits
        k = self._value(value, logits)
        unnormalized = r * F.logsigmoid(-logits) + k * F.logsigmoid(logits)
        normalizer = -(r + k).lgamma() + (1.0 + k).lgamma() + r.lgamma()
        return unnormalized - normalizer.masked_fill(r + k == 0.0, 0.0)
