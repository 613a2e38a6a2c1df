"""Batch axes read as event axes, as ``torch.distributions.Independent``."""

from __future__ import annotations

from typing import Any

from ..tensor import Tensor
from . import constraints
from .distribution import Distribution
from .utils import (
    _sum_rightmost,
)


def _from_base(name: str) -> property:
    """A property that reads the base distribution's ``name``."""
    return property(lambda self: getattr(self.base_dist, name))


class Independent(Distribution):
    """``base_distribution`` with its last ``reinterpreted_batch_ndims`` batch axes read as
    event axes: log_prob and entropy sum over them (a diagonal Gaussian from a Normal)."""

    def __init__(self, base_distribution: Distribution, reinterpreted_batch_ndims: int,
                 validate_args: bool | None = None) -> None:
        if not isinstance(base_distribution, Distribution):
            raise TypeError(f"Independent: base_distribution must be a Distribution, got "
                            f"{type(base_distribution).__name__}")
        n, batch = reinterpreted_batch_ndims, base_distribution.batch_shape
        if not isinstance(n, int) or not 0 <= n <= len(batch):
            raise ValueError(f"Independent: reinterpreted_batch_ndims must be an int in 0.."
                             f"{len(batch)} (the base distribution's batch_shape is {batch}), "
                             f"got {n!r}")
        shape = batch + base_distribution.event_shape
        split = len(batch) - n
        self.base_dist, self.reinterpreted_batch_ndims = base_distribution, n
        super().__init__(shape[:split], shape[split:], validate_args=validate_args)

    # the base distribution's, element by element: reading batch axes as event axes changes
    # only what sums over them
    arg_constraints: dict[str, constraints.Constraint] = {}
    has_rsample = _from_base("has_rsample")  # type: ignore[assignment]

    @constraints.dependent_property
    def support(self) -> constraints.Constraint:
        """The base's support, its reinterpreted axes read as event axes."""
        support = self.base_dist.support
        n = self.reinterpreted_batch_ndims
        return constraints.independent(support, n) if n else support
    mean = _from_base("mean")
    mode = _from_base("mode")
    variance = _from_base("variance")
    stddev = _from_base("stddev")

    @property
    def has_enumerate_support(self) -> bool:  # type: ignore[override]
        """The base's, with no axes reinterpreted (a product of supports is not enumerated)."""
        return self.reinterpreted_batch_ndims == 0 and self.base_dist.has_enumerate_support

    def enumerate_support(self, expand: bool = True) -> Tensor:
        if self.reinterpreted_batch_ndims:
            raise self._missing("enumerate_support", " over the product of the reinterpreted "
                                "axes' supports, as in torch.distributions")
        return self.base_dist.enumerate_support(expand=expand)

    def sample(self, sample_shape: Any = ()) -> Tensor:
        return self.base_dist.sample(sample_shape)

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        return self.base_dist.rsample(sample_shape)

    def log_prob(self, value: Any) -> Tensor:
        return _sum_rightmost(self.base_dist.log_prob(value), self.reinterpreted_batch_ndims)

    def expand(self, batch_shape: Any) -> Independent:
        new = super().expand(batch_shape)
        new.base_dist = self.base_dist.expand(
            new.batch_shape + self.event_shape[:self.reinterpreted_batch_ndims])
        return new

    def entropy(self) -> Tensor:
        return _sum_rightmost(self.base_dist.entropy(), self.reinterpreted_batch_ndims)

    def __repr__(self) -> str:
        return f"Independent({self.base_dist!r}, {self.reinterpreted_batch_ndims})"
