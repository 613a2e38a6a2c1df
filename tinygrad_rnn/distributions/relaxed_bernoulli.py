"""Relaxed (continuous) Bernoulli draws for reparameterised gradients (the binary Concrete or
Gumbel-sigmoid), as ``torch.distributions.RelaxedBernoulli`` and ``LogitRelaxedBernoulli``."""

from __future__ import annotations

from typing import Any

from .. import functional as F
from .. import random as _random
from ..tensor import Tensor
from . import constraints
from .distribution import Distribution
from .transformed_distribution import TransformedDistribution
from .transforms import SigmoidTransform
from .utils import _as_tensor, _binary_logits, _drawn, _one_of, _params, clamp_probs

__all__ = ["LogitRelaxedBernoulli", "RelaxedBernoulli"]


def _softplus(x: Tensor) -> Tensor:
    """log(1 + e^x) = -log sigmoid(-x), exact for any x (PyTorch's log1p(e^x) overflows to
    inf for x > ~709)."""
    return -F.logsigmoid(-x)


class LogitRelaxedBernoulli(Distribution):
    """The logit of a RelaxedBernoulli: (logits + log u - log(1 - u)) / temperature, u ~ U(0,
    1) (a logistic draw about the logits, sharpened as the temperature falls)."""

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.real
    has_rsample = True
    _batch_params = ("probs", "logits")

    def __init__(self, temperature: Any, probs: Any = None, logits: Any = None,
                 validate_args: bool | None = None) -> None:
        _one_of(probs, logits, "LogitRelaxedBernoulli")
        given = {"probs": probs} if probs is not None else {"logits": logits}
        (param,), shape = _params("LogitRelaxedBernoulli", **given)
        self.temperature = _as_tensor(temperature, param)
        if probs is not None:
            self.probs, self.logits = param, _binary_logits(param)
        else:
            self.logits, self.probs = param, param.sigmoid()
        super().__init__(shape, validate_args=validate_args)
        if probs is not None:
            self._check("probs", param, (param >= 0) & (param <= 1), "in [0, 1]")

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        """(logits + log u - log1p(-u)) / temperature, u uniform clamped to [eps, 1 - eps]:
        differentiable in the logits (or probs) and the temperature."""
        shape = self._extended_shape(sample_shape)
        u = clamp_probs(_drawn(_random.generator().random(shape), self.logits))
        return (u.log() - (-u).log1p() + self.logits) / self.temperature

    def log_prob(self, value: Any) -> Tensor:
        """log t + d - 2 log(1 + e^d), d = logits - t · value (the logistic density)."""
        v = self._value(value, self.logits)
        diff = self.logits - v * self.temperature
        return self.temperature.log() + diff - 2 * _softplus(diff)


class RelaxedBernoulli(TransformedDistribution):
    """sigmoid of a LogitRelaxedBernoulli: values in (0, 1) that approach 0 or 1 (with
    P(near 1) = probs) as ``temperature`` falls; ``rsample`` passes gradients to the probs."""

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.unit_interval
    has_rsample = True

    def __init__(self, temperature: Any, probs: Any = None, logits: Any = None,
                 validate_args: bool | None = None) -> None:
        base = LogitRelaxedBernoulli(temperature, probs, logits, validate_args=validate_args)
        super().__init__(base, SigmoidTransform(), validate_args=validate_args)

    temperature = property(lambda self: self.base_dist.temperature)
    logits = property(lambda self: self.base_dist.logits)
    probs = property(lambda self: self.base_dist.probs)

    def __repr__(self) -> str:
        return f"RelaxedBernoulli(batch_shape={self.batch_shape})"
