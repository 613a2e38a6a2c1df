"""The half-normal distribution, |X| of a centred Normal, as ``torch.distributions.HalfNormal``:
a TransformedDistribution through ``AbsTransform``, whose density doubles the base's on x >= 0
(``_Half``, shared with HalfCauchy)."""

from __future__ import annotations

import math
from typing import Any

from ..ops.elementwise import where
from ..tensor import Tensor
from . import constraints
from .normal import Normal
from .transformed_distribution import TransformedDistribution
from .transforms import AbsTransform

__all__ = ["HalfNormal"]


class _Half(TransformedDistribution):
    """|X|, X ~ base(0, scale): the base's density doubled on x >= 0, its CDF 2F - 1."""

    arg_constraints = {"scale": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True
    _base: type = Normal

    def __init__(self, scale: Any, validate_args: bool | None = None) -> None:
        base = self._base(0.0, scale, validate_args=False)
        super().__init__(base, AbsTransform(), validate_args=validate_args)
        self._check("scale", self.scale, self.scale > 0, "positive")

    scale = property(lambda self: self.base_dist.scale)

    @property
    def mode(self) -> Tensor:
        return self.scale.new_zeros(self.batch_shape)

    def log_prob(self, value: Any) -> Tensor:
        v = self._as_value(value)
        if self._validate_args:
            self._validate_sample(v)
        lp = self.base_dist.log_prob(v) + math.log(2)
        return where(v >= 0, lp, -math.inf)

    def cdf(self, value: Any) -> Tensor:
        v = self._as_value(value)
        if self._validate_args:
            self._validate_sample(v, "cdf")
        return 2 * self.base_dist.cdf(v) - 1

    def icdf(self, prob: Any) -> Tensor:
        return self.base_dist.icdf((self._as_value(prob) + 1) / 2)

    def entropy(self) -> Tensor:
        return self.base_dist.entropy() - math.log(2)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(batch_shape={self.batch_shape})"


class HalfNormal(_Half):
    """|X|, X ~ Normal(0, scale): density √(2/π) / scale · exp(-x² / (2 scale²)) on x >= 0."""

    _base = Normal

    @property
    def mean(self) -> Tensor:
        return self.scale * math.sqrt(2 / math.pi)

    @property
    def variance(self) -> Tensor:
        return self.scale.square() * (1 - 2 / math.pi)
