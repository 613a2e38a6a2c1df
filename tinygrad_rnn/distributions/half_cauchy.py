"""The half-Cauchy distribution, |X| of a centred Cauchy, as
``torch.distributions.HalfCauchy``."""

from __future__ import annotations

import math

from ..tensor import Tensor
from .cauchy import Cauchy
from .half_normal import _Half

__all__ = ["HalfCauchy"]


class HalfCauchy(_Half):
    """|X|, X ~ Cauchy(0, scale): density 2 / (π scale (1 + (x / scale)²)) on x >= 0; no mean
    nor variance (inf)."""

    _base = Cauchy

    @property
    def mean(self) -> Tensor:
        return self.scale.new_full(self.batch_shape, math.inf)

    @property
    def variance(self) -> Tensor:
        return self.scale.new_full(self.batch_shape, math.inf)
