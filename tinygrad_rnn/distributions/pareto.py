"""The Pareto distribution (power laws), as ``torch.distributions.Pareto``."""

from __future__ import annotations

from typing import Any

from ..tensor import Tensor
from . import constraints
from .exponential import Exponential
from .transformed_distribution import TransformedDistribution
from .transforms import AffineTransform, ExpTransform
from .utils import _params

__all__ = ["Pareto"]


class Pareto(TransformedDistribution):
    """Density α s^α / x^(α+1) on x >= s, s = ``scale``, α = ``alpha``: s e^E, E ~
    Exponential(α) (PyTorch's construction)."""

    arg_constraints = {"alpha": constraints.positive, "scale": constraints.positive}
    _batch_params = ("scale", "alpha")

    def __init__(self, scale: Any, alpha: Any, validate_args: bool | None = None) -> None:
        (self.scale, self.alpha), _ = _params("Pareto", scale=scale, alpha=alpha)
        base = Exponential(self.alpha, validate_args=False)
        super().__init__(base, [ExpTransform(), AffineTransform(0, self.scale)],
                         validate_args=validate_args)
        self._check_args()

    @constraints.dependent_property(is_discrete=False, event_dim=0)
    def support(self) -> constraints.Constraint:
        return constraints.greater_than_eq(self.scale)

    @property
    def mean(self) -> Tensor:
        """α s / (α - 1); inf where α <= 1."""
        a = self.alpha.clamp(min=1)
        return a * self.scale / (a - 1)

    @property
    def mode(self) -> Tensor:
        return self.scale

    @property
    def variance(self) -> Tensor:
        """s² α / ((α - 1)² (α - 2)); inf where α <= 2."""
        a = self.alpha.clamp(min=2)
        return self.scale.square() * a / ((a - 1).square() * (a - 2))

    def entropy(self) -> Tensor:
        return (self.scale / self.alpha).log() + (1 + self.alpha.reciprocal())

    def __repr__(self) -> str:
        return f"Pareto(batch_shape={self.batch_shape})"


