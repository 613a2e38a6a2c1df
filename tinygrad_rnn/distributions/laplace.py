"""The Laplace distribution, as ``torch.distributions.Laplace``."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import random as _random
from ..tensor import Tensor
from .distribution import _LocScale
from .utils import (
    _as_tensor,
    _below_one,
    _drawn,
)


class Laplace(_LocScale):
    """Density exp(-|x - loc| / scale) / (2 scale): the L1 loss's distribution."""

    @property
    def variance(self) -> Tensor:
        return 2 * self.scale ** 2

    @property
    def stddev(self) -> Tensor:
        return math.sqrt(2) * self.scale

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        """loc - scale sign(u) log(1 - |u|), u uniform on (eps - 1, 1) (the inverse CDF; never
        log 0), differentiable in loc and scale."""
        eps = float(np.finfo(self.loc.dtype).eps)
        u = _drawn(_below_one(_random.generator().uniform(
            eps - 1, 1, self._extended_shape(sample_shape)), self.loc.dtype, eps - 1), self.loc)
        return self.loc - self.scale * u.sign() * (-u.abs()).log1p()

    def log_prob(self, value: Any) -> Tensor:
        v = self._value(value, self.loc)
        return -(2 * self.scale).log() - (v - self.loc).abs() / self.scale

    def entropy(self) -> Tensor:
        return 1 + (2 * self.scale).log()

    def cdf(self, value: Any) -> Tensor:
        """½ - ½ sign(value - loc) expm1(-|value - loc| / scale)."""
        d = self._value(value, self.loc, "cdf") - self.loc
        return 0.5 - 0.5 * d.sign() * (-d.abs() / self.scale).expm1()

    def icdf(self, value: Any) -> Tensor:
        """loc - scale sign(p - ½) log(1 - 2|p - ½|)."""
        term = _as_tensor(value, self.loc) - 0.5
        return self.loc - self.scale * term.sign() * (-2 * term.abs()).log1p()
