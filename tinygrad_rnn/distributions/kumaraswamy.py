"""The Kumaraswamy distribution (a Beta-like one with a closed-form CDF), as
``torch.distributions.Kumaraswamy``."""

from __future__ import annotations

import math
from typing import Any

from ..ops.elementwise import where
from ..tensor import Tensor
from . import constraints
from .transformed_distribution import TransformedDistribution
from .transforms import AffineTransform, PowerTransform
from .uniform import Uniform
from .utils import _params, euler_constant

__all__ = ["Kumaraswamy"]


def _moments(a: Tensor, b: Tensor, n: int) -> Tensor:
    """E[X^n] = b B(1 + n/a, b) = b Γ(1 + n/a) Γ(b) / Γ(1 + b + n/a)."""
    arg = 1 + n / a
    return b * (arg.lgamma() + b.lgamma() - (arg + b).lgamma()).exp()


class Kumaraswamy(TransformedDistribution):
    """Density a b x^(a-1) (1 - x^a)^(b-1) on (0, 1), a = ``concentration1``, b =
    ``concentration0``: (1 - u^(1/b))^(1/a), u ~ U(0, 1) (PyTorch's construction)."""

    arg_constraints = {"concentration1": constraints.positive,
                       "concentration0": constraints.positive}
    support = constraints.unit_interval
    has_rsample = True
    _batch_params = ("concentration1", "concentration0")

    def __init__(self, concentration1: Any, concentration0: Any,
                 validate_args: bool | None = None) -> None:
        (self.concentration1, self.concentration0), _ = _params(
            "Kumaraswamy", concentration1=concentration1, concentration0=concentration0)
        c0 = self.concentration0
        base = Uniform(c0.new_zeros(c0.shape), c0.new_ones(c0.shape), validate_args=False)
        transforms = [PowerTransform(self.concentration0.reciprocal()),
                      AffineTransform(1.0, -1.0),
                      PowerTransform(self.concentration1.reciprocal())]
        super().__init__(base, transforms, validate_args=validate_args)
        self._check_args()

    @property
    def mean(self) -> Tensor:
        return _moments(self.concentration1, self.concentration0, 1)

    @property
    def mode(self) -> Tensor:
        """((a - 1) / (a b - 1))^(1/a); NaN where a < 1 or b < 1. (PyTorch 2.13's formula
        takes log1p(-b), NaN for every b > 1: this is the mode itself.)"""
        a, b = self.concentration1, self.concentration0
        ok = (a >= 1) & (b >= 1)
        a_, b_ = where(ok, a, 2.0), where(ok, b, 2.0)
        mode = ((a_ - 1) / (a_ * b_ - 1)) ** a_.reciprocal()
        return where(ok, mode, math.nan)

    @property
    def variance(self) -> Tensor:
        a, b = self.concentration1, self.concentration0
        return _moments(a, b, 2) - _moments(a, b, 1).square()

    def entropy(self) -> Tensor:
        """(1 - 1/b) + (1 - 1/a) H_b - log(a b), H_b = ψ(b + 1) + γ."""
        a, b = self.concentration1, self.concentration0
        harmonic = (b + 1).digamma() + euler_constant
        return (1 - b.reciprocal()) + (1 - a.reciprocal()) * harmonic - a.log() - b.log()

    def __repr__(self) -> str:
        return f"Kumaraswamy(batch_shape={self.batch_shape})"
