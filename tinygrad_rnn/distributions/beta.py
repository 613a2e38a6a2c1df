"""The Beta distribution (a probability's distribution), as ``torch.distributions.Beta``."""

from __future__ import annotations

from typing import Any

from ..ops.elementwise import where
from ..special import xlogy
from ..tensor import Tensor
from . import constraints
from .distribution import Distribution
from .gamma import _inside_unit, _standard_gamma
from .utils import (
    _params,
)


class Beta(Distribution):
    """Density x^(a - 1) (1 - x)^(b - 1) / B(a, b) on [0, 1], a = ``concentration1``, b =
    ``concentration0``: a probability's distribution."""

    has_rsample = True
    arg_constraints = {"concentration1": constraints.positive,
                       "concentration0": constraints.positive}
    support = constraints.unit_interval
    _batch_params = ("concentration1", "concentration0")

    def __init__(self, concentration1: Any, concentration0: Any,
                 validate_args: bool | None = None) -> None:
        (self.concentration1, self.concentration0), shape = _params(
            "Beta", concentration1=concentration1, concentration0=concentration0)
        super().__init__(shape, validate_args=validate_args)
        for name in ("concentration1", "concentration0"):
            c = getattr(self, name)
            self._check(name, c, c > 0, "positive")


    @property
    def mean(self) -> Tensor:
        return self.concentration1 / (self.concentration1 + self.concentration0)

    @property
    def mode(self) -> Tensor:
        """(a - 1) / (a + b - 2) with a - 1 and b - 1 clamped at 0; 1 where a and b are both
        below 1 (PyTorch's pick between the two modes, 0 and 1), NaN at a = b = 1."""
        a, b = self.concentration1, self.concentration0
        a1, b1 = (a - 1).clamp(min=0.0), (b - 1).clamp(min=0.0)
        return where((a < 1) & (b < 1), 1.0, a1 / (a1 + b1))

    @property
    def variance(self) -> Tensor:
        total = self.concentration1 + self.concentration0
        return self.concentration1 * self.concentration0 / (total ** 2 * (total + 1))

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        """X / (X + Y), X ~ Gamma(a, 1), Y ~ Gamma(b, 1) (PyTorch's construction; drawn in
        that order), differentiable in a and b through the two ``StandardGamma`` draws; kept
        inside (0, 1). (PyTorch's backward differentiates the Beta's own CDF instead: other
        gradients for one sample, the same in expectation.)"""
        shape = self._extended_shape(sample_shape)
        x = _standard_gamma(self.concentration1, shape)
        y = _standard_gamma(self.concentration0, shape)
        return _inside_unit(x / (x + y), self.concentration1)

    def log_prob(self, value: Any) -> Tensor:
        """(a - 1) log x + (b - 1) log(1 - x) + log Γ(a + b) - log Γ(a) - log Γ(b)."""
        a, b = self.concentration1, self.concentration0
        x = self._value(value, a)
        return xlogy(a - 1, x) + xlogy(b - 1, 1 - x) + (a + b).lgamma() \
            - (a.lgamma() + b.lgamma())

    def entropy(self) -> Tensor:
        """log B(a, b) - (a - 1) ψ(a) - (b - 1) ψ(b) + (a + b - 2) ψ(a + b)."""
        a, b = self.concentration1, self.concentration0
        total = a + b
        return a.lgamma() + b.lgamma() - total.lgamma() - (2 - total) * total.digamma() \
            - ((a - 1) * a.digamma() + (b - 1) * b.digamma())
