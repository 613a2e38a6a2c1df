"""The Gumbel distribution (of maxima), as ``torch.distributions.Gumbel``."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..tensor import Tensor
from . import constraints
from .transformed_distribution import TransformedDistribution
from .transforms import AffineTransform, ExpTransform
from .uniform import Uniform
from .utils import _params, euler_constant

__all__ = ["Gumbel"]


class Gumbel(TransformedDistribution):
    """Density exp(-(z + e^-z)) / scale, z = (x - loc) / scale: the distribution of a maximum
    (the Gumbel-max trick). Built as PyTorch's: loc - scale log(-log u), u ~ U(tiny, 1 - eps)
    (the transforms log⁻¹, × -1, log⁻¹, × -scale + loc)."""

    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.real
    _batch_params = ("loc", "scale")

    def __init__(self, loc: Any, scale: Any, validate_args: bool | None = None) -> None:
        (self.loc, self.scale), _ = _params("Gumbel", loc=loc, scale=scale)
        info = np.finfo(self.loc.dtype)
        base = Uniform(self.loc.new_full(self.loc.shape, float(info.tiny)),
                       self.loc.new_full(self.loc.shape, 1 - float(info.eps)),
                       validate_args=False)
        transforms = [ExpTransform().inv, AffineTransform(0, -1), ExpTransform().inv,
                      AffineTransform(self.loc, -self.scale)]
        super().__init__(base, transforms, validate_args=validate_args)
        self._check_args()

    def log_prob(self, value: Any) -> Tensor:
        """-(z + e^-z) - log scale, z = (value - loc) / scale."""
        v = self._as_value(value)
        if self._validate_args:
            self._validate_sample(v)
        y = (self.loc - v) / self.scale
        return (y - y.exp()) - self.scale.log()

    @property
    def mean(self) -> Tensor:
        return self.loc + self.scale * euler_constant

    @property
    def mode(self) -> Tensor:
        return self.loc

    @property
    def stddev(self) -> Tensor:
        return (math.pi / math.sqrt(6)) * self.scale

    @property
    def variance(self) -> Tensor:
        return self.stddev.square()

    def entropy(self) -> Tensor:
        return self.scale.log() + (1 + euler_constant)

    def __repr__(self) -> str:
        return f"Gumbel(batch_shape={self.batch_shape})"
