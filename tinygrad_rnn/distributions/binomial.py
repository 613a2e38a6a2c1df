"""The binomial distribution (successes in n coins), as ``torch.distributions.Binomial``;
``_count_and_coin``, the parameter handling it shares with NegativeBinomial."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .. import random as _random
from ..ops.elementwise import minimum
from ..tensor import Tensor, tensor
from . import constraints
from .distribution import Distribution
from .utils import (
    _binary_logits,
    _drawn,
    _host,
    _nonnegative_integer,
    _one_of,
    _params,
)


def _count_and_coin(dist: Distribution, total_count: Any, probs: Any, logits: Any,
                    validate_args: bool | None, probs_ok: Callable[[Tensor], Tensor],
                    constraint: str) -> Tensor:
    """What Binomial and NegativeBinomial share: ``total_count`` and one of ``probs`` and
    ``logits`` broadcast together, the batch shape, both forms of the coin set, probs
    checked; returns total_count as given (for its own check)."""
    name = type(dist).__name__
    _one_of(probs, logits, name)
    given = {"probs": probs} if probs is not None else {"logits": logits}
    (n, param), shape = _params(name, total_count=total_count, **given)
    Distribution.__init__(dist, shape, validate_args=validate_args)
    dist.total_count = n.type_as(param)
    if probs is not None:
        dist.probs, dist.logits = param, _binary_logits(param)
        dist._check("probs", param, probs_ok(param), constraint)
    else:
        dist.logits, dist.probs = param, param.sigmoid()
    return n


class Binomial(Distribution):
    """The number of successes in ``total_count`` coins of P(1) = ``probs`` = sigmoid(
    ``logits``): P(k) = C(n, k) p^k (1 - p)^(n - k), k = 0..n."""

    has_enumerate_support = True
    arg_constraints = {"total_count": constraints.nonnegative_integer,
                       "probs": constraints.unit_interval, "logits": constraints.real}

    @constraints.dependent_property(is_discrete=True, event_dim=0)
    def support(self) -> constraints.Constraint:
        return constraints.integer_interval(0, self.total_count)
    _batch_params = ("total_count", "probs", "logits")

    def __init__(self, total_count: Any = 1, probs: Any = None, logits: Any = None,
                 validate_args: bool | None = None) -> None:
        n = _count_and_coin(self, total_count, probs, logits, validate_args,
                            lambda p: (p >= 0) & (p <= 1), "in [0, 1]")
        self._check("total_count", n, _nonnegative_integer(n), "a nonnegative integer")


    @property
    def mean(self) -> Tensor:
        return self.total_count * self.probs

    @property
    def mode(self) -> Tensor:
        return minimum(((self.total_count + 1) * self.probs).floor(), self.total_count)

    @property
    def variance(self) -> Tensor:
        return self.total_count * self.probs * (1 - self.probs)

    def sample(self, sample_shape: Any = ()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        n = np.broadcast_to(_host(self.total_count), shape).astype(np.int64)
        return _drawn(_random.generator().binomial(n, np.broadcast_to(_host(self.probs), shape)),
                      self.probs)

    def log_prob(self, value: Any) -> Tensor:
        """log C(n, k) + k logit - n log(1 + e^logit), from the logits (stable: the softplus
        as max(logit, 0) + log1p(e^-|logit|), max written so its gradient at 0 is 1/2)."""
        n, logits = self.total_count, self.logits
        k = self._value(value, logits)
        positive_part = (logits.clamp(min=0) + logits - logits.clamp(max=0)) / 2
        normalizer = n * positive_part + n * (-logits.abs()).exp().log1p() - (n + 1).lgamma()
        return k * logits - (k + 1).lgamma() - (n - k + 1).lgamma() - normalizer

    def enumerate_support(self, expand: bool = True) -> Tensor:
        """0, 1, ..., n along a new first axis (n must be one number for the whole batch)."""
        n = self._one_total_count("enumerate_support")
        values = tensor(np.arange(n + 1), dtype=self.probs.dtype, device=self.probs.device)
        values = values.reshape((-1,) + (1,) * len(self.batch_shape))
        return values.broadcast_to((n + 1,) + self.batch_shape) if expand else values

    def entropy(self) -> Tensor:
        """-Σ_k P(k) log P(k) over the support (one total_count for the whole batch)."""
        log_p = self.log_prob(self.enumerate_support(False))
        return -(log_p.exp() * log_p).sum(0)

    def _one_total_count(self, what: str) -> int:
        counts = _host(self.total_count)
        if counts.size and counts.min() != counts.max():
            raise NotImplementedError(f"Binomial.{what}: total_count differs across the batch "
                                      f"(from {counts.min()} to {counts.max()}), as PyTorch's")
        return int(counts.max()) if counts.size else 0
