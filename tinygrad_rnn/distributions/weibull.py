"""The Weibull distribution (lifetimes), as ``torch.distributions.Weibull``."""

from __future__ import annotations

from typing import Any

from ..tensor import Tensor
from . import constraints
from .exponential import Exponential
from .transformed_distribution import TransformedDistribution
from .transforms import AffineTransform, PowerTransform
from .utils import _params, euler_constant

__all__ = ["Weibull"]


class Weibull(TransformedDistribution):
    """Density (k / λ) (x / λ)^(k-1) exp(-(x / λ)^k) on x >= 0, λ = ``scale``, k =
    ``concentration``: λ E^(1/k), E ~ Exponential(1) (PyTorch's construction)."""

    arg_constraints = {"scale": constraints.positive, "concentration": constraints.positive}
    support = constraints.positive
    _batch_params = ("scale", "concentration")

    def __init__(self, scale: Any, concentration: Any,
                 validate_args: bool | None = None) -> None:
        (self.scale, self.concentration), _ = _params("Weibull", scale=scale,
                                                      concentration=concentration)
        self.concentration_reciprocal = self.concentration.reciprocal()
        base = Exponential(self.scale.new_ones(self.scale.shape), validate_args=False)
        transforms = [PowerTransform(self.concentration_reciprocal),
                      AffineTransform(0, self.scale)]
        super().__init__(base, transforms, validate_args=validate_args)
        self._check_args()

    @property
    def mean(self) -> Tensor:
        return self.scale * (1 + self.concentration_reciprocal).lgamma().exp()

    @property
    def mode(self) -> Tensor:
        """λ ((k - 1) / k)^(1/k) (NaN where k < 1, as PyTorch's)."""
        k = self.concentration
        return self.scale * ((k - 1) / k) ** self.concentration_reciprocal

    @property
    def variance(self) -> Tensor:
        r = self.concentration_reciprocal
        return self.scale.square() * ((1 + 2 * r).lgamma().exp()
                                      - (2 * (1 + r).lgamma()).exp())

    def entropy(self) -> Tensor:
        """γ (1 - 1/k) + log(λ / k) + 1."""
        return euler_constant * (1 - self.concentration_reciprocal) \
            + (self.scale * self.concentration_reciprocal).log() + 1

    def expand(self, batch_shape: Any) -> Weibull:
        new = super().expand(batch_shape)
        new.concentration_reciprocal = new.concentration.reciprocal()
        return new

    def __repr__(self) -> str:
        return f"Weibull(batch_shape={self.batch_shape})"
