"""The Poisson distribution (counts), as ``torch.distributions.Poisson``."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import random as _random
from ..special import xlogy
from ..tensor import Tensor
from . import constraints
from .distribution import Distribution
from .utils import (
    _drawn,
    _host,
    _params,
)


class Poisson(Distribution):
    """Counts k = 0, 1, 2, ... with P(k) = rate^k e^(-rate) / k!."""

    arg_constraints = {"rate": constraints.nonnegative}
    support = constraints.nonnegative_integer
    _batch_params = ("rate",)

    def __init__(self, rate: Any, validate_args: bool | None = None) -> None:
        (self.rate,), shape = _params("Poisson", rate=rate)
        super().__init__(shape, validate_args=validate_args)
        self._check("rate", self.rate, self.rate >= 0, "nonnegative")


    @property
    def mean(self) -> Tensor:
        return self.rate

    @property
    def mode(self) -> Tensor:
        return self.rate.floor()

    @property
    def variance(self) -> Tensor:
        return self.rate

    def sample(self, sample_shape: Any = ()) -> Tensor:
        """Counts, as floats of the rate's dtype (as PyTorch's)."""
        rate = np.broadcast_to(_host(self.rate), self._extended_shape(sample_shape))
        return _drawn(_random.generator().poisson(rate), self.rate)

    def log_prob(self, value: Any) -> Tensor:
        """k log(rate) - rate - log k! (k log(rate) = 0 at k = 0, rate = 0)."""
        k = self._value(value, self.rate)
        return xlogy(k, self.rate) - self.rate - (k + 1).lgamma()
