"""The inverse-gamma distribution (1/X, X ~ Gamma), as ``torch.distributions.InverseGamma``."""

from __future__ import annotations

import math
from typing import Any

from ..ops.elementwise import where
from ..tensor import Tensor
from . import constraints
from .gamma import Gamma
from .transformed_distribution import TransformedDistribution
from .transforms import PowerTransform

__all__ = ["InverseGamma"]


class InverseGamma(TransformedDistribution):
    """Density β^a x^(-a-1) e^(-β/x) / Γ(a) on x > 0, a = ``concentration``, β = ``rate``:
    1 / X, X ~ Gamma(a, β) (a conjugate prior for a Normal's variance)."""

    arg_constraints = {"concentration": constraints.positive, "rate": constraints.positive}
    support = constraints.positive
    has_rsample = True

    def __init__(self, concentration: Any, rate: Any,
                 validate_args: bool | None = None) -> None:
        base = Gamma(concentration, rate, validate_args=False)
        neg_one = -base.rate.new_ones(())
        super().__init__(base, PowerTransform(neg_one), validate_args=validate_args)
        self._check_args()

    concentration = property(lambda self: self.base_dist.concentration)
    rate = property(lambda self: self.base_dist.rate)

    @property
    def mean(self) -> Tensor:
        """β / (a - 1); inf where a <= 1."""
        return where(self.concentration > 1, self.rate / (self.concentration - 1), math.inf)

    @property
    def mode(self) -> Tensor:
        return self.rate / (self.concentration + 1)

    @property
    def variance(self) -> Tensor:
        """β² / ((a - 1)² (a - 2)); inf where a <= 2."""
        a = self.concentration
        return where(a > 2, self.rate.square() / ((a - 1).square() * (a - 2)), math.inf)

    def entropy(self) -> Tensor:
        """a + log β + log Γ(a) - (1 + a) ψ(a)."""
        a = self.concentration
        return a + self.rate.log() + a.lgamma() - (1 + a) * a.digamma()

    def __repr__(self) -> str:
        return f"InverseGamma(batch_shape={self.batch_shape})"
