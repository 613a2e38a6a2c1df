"""The multinomial distribution (counts of n categorical draws), as
``torch.distributions.Multinomial``."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import random as _random
from ..tensor import Tensor
from . import constraints
from .binomial import Binomial
from .categorical import Categorical
from .distribution import Distribution
from .utils import _drawn, _host, _shape

__all__ = ["Multinomial"]


class Multinomial(Distribution):
    """Counts x (the last axis, K long) of ``total_count`` = n draws of a Categorical of
    ``probs`` or ``logits``: P(x) = n! / Π_k x_k! · Π_k p_k^x_k. n is one int (as PyTorch's);
    ``log_prob`` does not use it (only ``sample``, ``mean``, ``variance`` and ``entropy``)."""

    arg_constraints = {"probs": constraints.simplex,
                       "logits": constraints.independent(constraints.real, 1)}

    def __init__(self, total_count: int = 1, probs: Any = None, logits: Any = None,
                 validate_args: bool | None = None) -> None:
        if not isinstance(total_count, (int, np.integer)) or isinstance(total_count, bool):
            raise NotImplementedError(f"Multinomial: total_count must be one int (inhomogeneous "
                                      f"counts are not supported, as in PyTorch), got "
                                      f"{total_count!r}")
        self.total_count = int(total_count)
        self._categorical = Categorical(probs, logits, validate_args=validate_args)
        self._binomial = Binomial(self.total_count, probs=self._categorical.probs,
                                  validate_args=False)
        super().__init__(self._categorical.batch_shape, self._categorical.probs.shape[-1:],
                         validate_args=validate_args)

    probs = property(lambda self: self._categorical.probs)
    logits = property(lambda self: self._categorical.logits)
    param_shape = property(lambda self: self._categorical.probs.shape)

    @constraints.dependent_property(is_discrete=True, event_dim=1)
    def support(self) -> constraints.Constraint:
        return constraints.multinomial(self.total_count)

    def expand(self, batch_shape: Any) -> Multinomial:
        new = super().expand(batch_shape)
        new._categorical = self._categorical.expand(new.batch_shape)
        new._binomial = self._binomial.expand(new.batch_shape + self.event_shape)
        return new

    @property
    def mean(self) -> Tensor:
        return self.probs * self.total_count

    @property
    def variance(self) -> Tensor:
        return self.total_count * self.probs * (1 - self.probs)

    def sample(self, sample_shape: Any = ()) -> Tensor:
        """Counts (floats of the probabilities' dtype), ``sample_shape + batch_shape + (K,)``,
        by NumPy's multinomial draw per row."""
        shape = _shape(sample_shape) + self.batch_shape
        p = _host(self.probs).astype(np.float64)
        p = np.broadcast_to(p / p.sum(-1, keepdims=True), shape + self.event_shape)
        return _drawn(_random.generator().multinomial(self.total_count, p), self.probs)

    def log_prob(self, value: Any) -> Tensor:
        """log n! - Σ_k log x_k! + Σ_k x_k log p_k (x_k log p_k = 0 where x_k = 0), n = Σ_k
        x_k."""
        v = self._value(value, self.probs)
        if v.ndim < 1 or v.shape[-1] != self.event_shape[0]:
            raise ValueError(f"Multinomial.log_prob: the value's last axis must be the event "
                             f"({self.event_shape[0]}), got shape {v.shape}")
        logits = self.logits
        shape = np.broadcast_shapes(v.shape, logits.shape)
        logits, v = logits.broadcast_to(shape), v.broadcast_to(shape)
        log_powers = (logits * v).masked_fill(v == 0, 0.0).sum(-1)
        return (v.sum(-1) + 1).lgamma() - (v + 1).lgamma().sum(-1) + log_powers

    def entropy(self) -> Tensor:
        """n H(probs) - log n! + Σ_k E[log x_k!], each x_k Binomial(n, p_k) (PyTorch's
        formula, the expectation summed over 1..n)."""
        n = self.total_count
        term1 = n * self._categorical.entropy() - float(np.sum(np.log(np.arange(1, n + 1))))
        support = self._binomial.enumerate_support(False)[1:]  # (n, 1, ..., 1)
        binomial_probs = self._binomial.log_prob(support).exp()
        weights = (support + 1).lgamma()
        return term1 + (binomial_probs * weights).sum(0).sum(-1)
