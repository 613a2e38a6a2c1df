"""The generalized Pareto distribution (threshold exceedances), as
``torch.distributions.GeneralizedPareto``."""

from __future__ import annotations

import math
from typing import Any

from .. import random as _random
from ..ops.elementwise import where
from ..tensor import Tensor
from . import constraints
from .distribution import Distribution
from .utils import _as_tensor, _below_one, _drawn, _params

__all__ = ["GeneralizedPareto"]


class GeneralizedPareto(Distribution):
    """Survival (1 + ξ z)^(-1/ξ) (e^-z at ξ = 0), z = (x - loc) / scale >= 0, ξ =
    ``concentration``; bounded above by loc - scale / ξ where ξ < 0. ξ = 0 means |ξ| <=
    PyTorch's ``isclose`` tolerance (1e-8)."""

    arg_constraints = {"loc": constraints.real, "scale": constraints.positive,
                       "concentration": constraints.real}
    has_rsample = True
    _batch_params = ("loc", "scale", "concentration")

    def __init__(self, loc: Any, scale: Any, concentration: Any,
                 validate_args: bool | None = None) -> None:
        (self.loc, self.scale, self.concentration), shape = _params(
            "GeneralizedPareto", loc=loc, scale=scale, concentration=concentration)
        super().__init__(shape, validate_args=validate_args)
        self._check_args()

    @constraints.dependent_property(is_discrete=False, event_dim=0)
    def support(self) -> constraints.Constraint:
        lower = self.loc
        upper = where(self.concentration < 0, lower - self.scale / self.concentration,
                      math.inf)
        return constraints.interval(lower, upper)

    def _safe(self) -> tuple[Tensor, Tensor]:
        """Where ξ is 0 (to isclose's 1e-8), and ξ with those replaced by 1 (no 0/0 in the
        branch where() drops, nor in its gradient)."""
        zero = self.concentration.abs() <= 1e-8
        return zero, where(zero, 1.0, self.concentration)

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        """icdf(u), u ~ U[0, 1): differentiable in the parameters."""
        u = _below_one(_random.generator().random(self._extended_shape(sample_shape)),
                       self.loc.dtype)
        return self.icdf(_drawn(u, self.loc))

    def log_prob(self, value: Any) -> Tensor:
        """-log scale - (1/ξ + 1) log1p(ξ z) (-log scale - z at ξ = 0)."""
        z = (self._value(value, self.loc) - self.loc) / self.scale
        zero, c = self._safe()
        y = 1 / c + 1
        nonzero = where(y == 0, y, y * (c * z).log1p())
        return -self.scale.log() - where(zero, z, nonzero)

    def log_survival_function(self, value: Any) -> Tensor:
        z = (self._value(value, self.loc, "cdf") - self.loc) / self.scale
        zero, c = self._safe()
        return where(zero, -z, -(c * z).log1p() / c)

    def log_cdf(self, value: Any) -> Tensor:
        return (-self.log_survival_function(value).exp()).log1p()

    def cdf(self, value: Any) -> Tensor:
        return self.log_cdf(value).exp()

    def icdf(self, value: Any) -> Tensor:
        """loc + scale ((1 - p)^(-ξ) - 1) / ξ (loc - scale log(1 - p) at ξ = 0)."""
        log_u = (-_as_tensor(value, self.loc)).log1p()
        zero, c = self._safe()
        return where(zero, self.loc - self.scale * log_u,
                     self.loc + self.scale / c * (-c * log_u).expm1())

    @property
    def mean(self) -> Tensor:
        """loc + scale / (1 - ξ); NaN where ξ >= 1."""
        ok = self.concentration < 1
        c = where(ok, self.concentration, 0.5)
        return where(ok, self.loc + self.scale / (1 - c), math.nan)

    @property
    def variance(self) -> Tensor:
        """scale² / ((1 - ξ)² (1 - 2ξ)); NaN where ξ >= ½."""
        ok = self.concentration < 0.5
        c = where(ok, self.concentration, 0.25)
        return where(ok, self.scale.square() / ((1 - c).square() * (1 - 2 * c)), math.nan)

    @property
    def mode(self) -> Tensor:
        return self.loc

    def entropy(self) -> Tensor:
        return (self.scale.log() + self.concentration + 1).broadcast_to(self.batch_shape)
