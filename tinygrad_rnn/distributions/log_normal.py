"""The log-normal distribution, exp of a Normal, as ``torch.distributions.LogNormal``."""

from __future__ import annotations

from typing import Any

from ..tensor import Tensor
from . import constraints
from .normal import Normal
from .transformed_distribution import TransformedDistribution
from .transforms import ExpTransform
from .utils import (
    _require,
)


class LogNormal(TransformedDistribution):
    """exp(X), X ~ Normal(loc, scale) (``base_dist``): positive, skewed (prices, durations).
    A TransformedDistribution of the Normal by ``ExpTransform``, as PyTorch's."""

    has_rsample = True
    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.positive

    def __init__(self, loc: Any, scale: Any, validate_args: bool | None = None) -> None:
        base = Normal(loc, scale, validate_args=False)
        self.loc, self.scale = base.loc, base.scale
        super().__init__(base, ExpTransform(), validate_args=validate_args)
        self._check_args()  # loc not NaN, scale positive

    @property
    def mean(self) -> Tensor:
        return (self.loc + self.scale ** 2 / 2).exp()

    @property
    def mode(self) -> Tensor:
        return (self.loc - self.scale.square()).exp()

    @property
    def variance(self) -> Tensor:
        scale_sq = self.scale ** 2
        return scale_sq.expm1() * (2 * self.loc + scale_sq).exp()

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        """exp(loc + scale · ε), ε ~ N(0, 1), differentiable in loc and scale."""
        return self.base_dist.rsample(sample_shape).exp()

    def expand(self, batch_shape: Any) -> LogNormal:
        new = super().expand(batch_shape)
        new.base_dist = self.base_dist.expand(new.batch_shape)
        new.loc, new.scale = new.base_dist.loc, new.base_dist.scale
        return new

    def log_prob(self, value: Any) -> Tensor:
        """Normal's log density at log(value), minus log(value) (the Jacobian of exp)."""
        y = self._value(value, self.loc).log()
        return self.base_dist.log_prob(y) - y

    def entropy(self) -> Tensor:
        return self.base_dist.entropy() + self.loc

    def cdf(self, value: Any) -> Tensor:
        v = self._value(value, self.loc, "cdf")
        if self._validate_args:
            _require("LogNormal.cdf", "the value", v, v >= 0, "nonnegative")
        return self.base_dist.cdf(v.log())

    def icdf(self, value: Any) -> Tensor:
        return self.base_dist.icdf(value).exp()
