"""The exponential distribution (waiting times), as ``torch.distributions.Exponential``."""

from __future__ import annotations

from typing import Any

from .. import random as _random
from ..tensor import Tensor
from . import constraints
from .distribution import Distribution
from .utils import (
    _as_tensor,
    _drawn,
    _params,
)


class Exponential(Distribution):
    """Density rate e^(-rate x) on x >= 0: waiting times."""

    has_rsample = True
    arg_constraints = {"rate": constraints.positive}
    support = constraints.nonnegative

    _batch_params = ("rate",)

    def __init__(self, rate: Any, validate_args: bool | None = None) -> None:
        (self.rate,), shape = _params("Exponential", rate=rate)
        super().__init__(shape, validate_args=validate_args)
        self._check("rate", self.rate, self.rate > 0, "positive")


    @property
    def mean(self) -> Tensor:
        return self.rate.reciprocal()

    @property
    def mode(self) -> Tensor:
        return self.rate.new_full(self.batch_shape, 0.0)

    @property
    def variance(self) -> Tensor:
        return self.rate ** -2

    @property
    def stddev(self) -> Tensor:
        return self.rate.reciprocal()

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        """E / rate, E ~ Exponential(1), differentiable in rate."""
        e = _random.generator().standard_exponential(self._extended_shape(sample_shape))
        return _drawn(e, self.rate) / self.rate

    def log_prob(self, value: Any) -> Tensor:
        return self.rate.log() - self.rate * self._value(value, self.rate)

    def entropy(self) -> Tensor:
        return 1.0 - self.rate.log()

    def cdf(self, value: Any) -> Tensor:
        return 1 - (-self.rate * self._value(value, self.rate, "cdf")).exp()

    def icdf(self, value: Any) -> Tensor:
        return -(-_as_tensor(value, self.rate)).log1p() / self.rate
