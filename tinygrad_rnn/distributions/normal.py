"""The normal distribution, as ``torch.distributions.Normal``."""

from __future__ import annotations

import math
from typing import Any

from .. import random as _random
from ..tensor import Tensor
from .distribution import _LocScale
from .utils import (
    _as_tensor,
    _drawn,
)


class Normal(_LocScale):
    """N(loc, scale²), element by element (``loc`` and ``scale`` broadcast together)."""

    @property
    def variance(self) -> Tensor:
        return self.scale ** 2

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        """loc + scale · ε, ε ~ N(0, 1): a sample through which gradients reach loc and scale
        (the reparameterisation trick of a VAE)."""
        eps = _random.generator().standard_normal(self._extended_shape(sample_shape))
        return self.loc + self.scale * _drawn(eps, self.loc)

    def log_prob(self, value: Any) -> Tensor:
        """-(value - loc)² / (2 scale²) - log scale - log √(2π)."""
        v = self._value(value, self.loc)
        return -((v - self.loc) ** 2) / (2 * self.scale ** 2) - self.scale.log() \
            - 0.5 * math.log(2 * math.pi)

    def entropy(self) -> Tensor:
        """½ log(2πe) + log scale."""
        return 0.5 + 0.5 * math.log(2 * math.pi) + self.scale.log()

    def cdf(self, value: Any) -> Tensor:
        """P(X <= value) = ½ (1 + erf((value - loc) / (scale √2))), differentiable in loc,
        scale and value (a forecaster's predicted quantile coverage, say)."""
        v = self._value(value, self.loc, "cdf")
        return 0.5 * (1 + ((v - self.loc) / (self.scale * math.sqrt(2))).erf())

    def icdf(self, value: Any) -> Tensor:
        """The quantile: loc + scale √2 erfinv(2 value - 1), differentiable in loc, scale and
        value (a forecaster's prediction intervals)."""
        p = _as_tensor(value, self.loc)
        return self.loc + self.scale * (2 * p - 1).erfinv() * math.sqrt(2)
