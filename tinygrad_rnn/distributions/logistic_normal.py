"""The logistic-normal distribution on the simplex, as ``torch.distributions.LogisticNormal``."""

from __future__ import annotations

from typing import Any

from . import constraints
from .normal import Normal
from .transformed_distribution import TransformedDistribution
from .transforms import StickBreakingTransform

__all__ = ["LogisticNormal"]


class LogisticNormal(TransformedDistribution):
    """Normal(loc, scale) vectors of K - 1 entries pushed onto the simplex of K by
    ``StickBreakingTransform`` (loc's last axis is the event, K - 1 long)."""

    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.simplex
    has_rsample = True

    def __init__(self, loc: Any, scale: Any, validate_args: bool | None = None) -> None:
        base = Normal(loc, scale, validate_args=validate_args)
        if not base.batch_shape:
            base = base.expand((1,))
        super().__init__(base, StickBreakingTransform(), validate_args=validate_args)

    loc = property(lambda self: self.base_dist.base_dist.loc)
    scale = property(lambda self: self.base_dist.base_dist.scale)

    def __repr__(self) -> str:
        return f"LogisticNormal(batch_shape={self.batch_shape}, " \
               f"event_shape={self.event_shape})"
