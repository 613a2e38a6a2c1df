"""The Cauchy distribution, as ``torch.distributions.Cauchy``."""

from __future__ import annotations

import math
from typing import Any

from .. import random as _random
from ..tensor import Tensor
from .distribution import _LocScale
from .utils import _as_tensor, _drawn

__all__ = ["Cauchy"]


class Cauchy(_LocScale):
    """Density 1 / (π scale (1 + ((x - loc) / scale)²)): a ratio of two standard normals,
    scaled; no mean nor variance (NaN and inf, as PyTorch's), its mode and median loc."""

    @property
    def mean(self) -> Tensor:
        return self.loc.new_full(self.batch_shape, math.nan)

    @property
    def variance(self) -> Tensor:
        return self.loc.new_full(self.batch_shape, math.inf)

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        """loc + scale ε, ε standard Cauchy: differentiable in loc and scale."""
        eps = _random.generator().standard_cauchy(self._extended_shape(sample_shape))
        return self.loc + self.scale * _drawn(eps, self.loc)

    def log_prob(self, value: Any) -> Tensor:
        v = self._value(value, self.loc)
        return -math.log(math.pi) - self.scale.log() - ((v - self.loc) / self.scale).square() \
            .log1p()

    def cdf(self, value: Any) -> Tensor:
        """atan((value - loc) / scale) / π + ½."""
        v = self._value(value, self.loc, "cdf")
        return ((v - self.loc) / self.scale).atan() / math.pi + 0.5

    def icdf(self, value: Any) -> Tensor:
        return (math.pi * (_as_tensor(value, self.loc) - 0.5)).tan() * self.scale + self.loc

    def entropy(self) -> Tensor:
        return math.log(4 * math.pi) + self.scale.log()
