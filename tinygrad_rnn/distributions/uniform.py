"""The uniform distribution, as ``torch.distributions.Uniform``."""

from __future__ import annotations

import math
from typing import Any

from .. import random as _random
from ..tensor import Tensor
from . import constraints
from .distribution import Distribution
from .utils import (
    _as_tensor,
    _below_one,
    _drawn,
    _params,
)


class _ArgConstraints:
    """Uniform's ``arg_constraints``: on an instance each bound against the other
    (``less_than(high)``, ``greater_than(low)``), as PyTorch's; on the class (no bounds yet),
    ``dependent``."""

    def __get__(self, instance: Any, owner: Any = None) -> dict[str, constraints.Constraint]:
        if instance is None:
            return {"low": constraints.dependent(is_discrete=False, event_dim=0),
                    "high": constraints.dependent(is_discrete=False, event_dim=0)}
        return {"low": constraints.less_than(instance.high),
                "high": constraints.greater_than(instance.low)}


class Uniform(Distribution):
    """Uniform on [low, high)."""

    has_rsample = True
    _batch_params = ("low", "high")

    def __init__(self, low: Any, high: Any, validate_args: bool | None = None) -> None:
        (self.low, self.high), shape = _params("Uniform", low=low, high=high)
        super().__init__(shape, validate_args=validate_args)
        self._check("low", self.low, self.low < self.high, "less than high")

    arg_constraints = _ArgConstraints()  # type: ignore[assignment]

    @constraints.dependent_property(is_discrete=False, event_dim=0)
    def support(self) -> constraints.Constraint:
        return constraints.interval(self.low, self.high)


    @property
    def mean(self) -> Tensor:
        return (self.high + self.low) / 2

    @property
    def mode(self) -> Tensor:  # as PyTorch's: every point is one
        return math.nan * self.high

    @property
    def variance(self) -> Tensor:
        return (self.high - self.low) ** 2 / 12

    @property
    def stddev(self) -> Tensor:
        return (self.high - self.low) / math.sqrt(12)

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        """low + u (high - low), u ~ U[0, 1), differentiable in low and high."""
        u = _drawn(_below_one(_random.generator().random(self._extended_shape(sample_shape)),
                              self.low.dtype), self.low)
        return self.low + u * (self.high - self.low)

    def log_prob(self, value: Any) -> Tensor:
        """-log(high - low) inside [low, high), -inf outside."""
        v = self._value(value, self.low)
        inside = ((self.low <= v) & (self.high > v)).to(self.low.dtype)
        return inside.log() - (self.high - self.low).log()

    def entropy(self) -> Tensor:
        return (self.high - self.low).log()

    def cdf(self, value: Any) -> Tensor:
        v = self._value(value, self.low, "cdf")
        return ((v - self.low) / (self.high - self.low)).clamp(0, 1)

    def icdf(self, value: Any) -> Tensor:
        return _as_tensor(value, self.low) * (self.high - self.low) + self.low
