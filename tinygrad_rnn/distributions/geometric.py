"""The geometric distribution (failures before the first success), as
``torch.distributions.Geometric``."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import functional as F
from .. import random as _random
from ..ops.elementwise import where
from ..tensor import Tensor
from . import constraints
from .distribution import Distribution
from .utils import _binary_logits, _drawn, _host, _one_of, _params

__all__ = ["Geometric"]


class Geometric(Distribution):
    """P(k) = (1 - p)^k p, k = 0, 1, 2, ...: the failures before the first success of coins
    of P(success) = ``probs`` = sigmoid(``logits``), p in (0, 1]."""

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.nonnegative_integer
    _batch_params = ("probs", "logits")

    def __init__(self, probs: Any = None, logits: Any = None,
                 validate_args: bool | None = None) -> None:
        _one_of(probs, logits, "Geometric")
        if probs is not None:
            (self.probs,), shape = _params("Geometric", probs=probs)
            self.logits = _binary_logits(self.probs)
        else:
            (self.logits,), shape = _params("Geometric", logits=logits)
            self.probs = self.logits.sigmoid()
        super().__init__(shape, validate_args=validate_args)
        if probs is not None:
            self._check("probs", self.probs, (self.probs > 0) & (self.probs <= 1), "in (0, 1]")

    @property
    def mean(self) -> Tensor:
        return self.probs.reciprocal() - 1

    @property
    def mode(self) -> Tensor:
        return self.probs.new_zeros(self.batch_shape)

    @property
    def variance(self) -> Tensor:
        return (self.probs.reciprocal() - 1) / self.probs

    def sample(self, sample_shape: Any = ()) -> Tensor:
        """Counts (floats of the parameters' dtype), by NumPy's geometric draw (trials to the
        first success) less 1."""
        shape = self._extended_shape(sample_shape)
        p = np.broadcast_to(_host(self.probs).astype(np.float64), shape)
        return _drawn(_random.generator().geometric(p) - 1, self.probs)

    def log_prob(self, value: Any) -> Tensor:
        """k log(1 - p) + log p (0 · log 0 = 0 at p = 1, k = 0)."""
        k = self._value(value, self.probs)
        p = self.probs
        q_log = (-where((p == 1) & (k == 0), 0.0, p)).log1p()
        return k * q_log + p.log()

    def entropy(self) -> Tensor:
        return F.binary_cross_entropy_with_logits(self.logits, self.probs,
                                                  reduction="none") / self.probs


