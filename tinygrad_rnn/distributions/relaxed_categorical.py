"""Relaxed one-hot categorical draws (the Concrete or Gumbel-softmax distribution), as
``torch.distributions.RelaxedOneHotCategorical`` and ``ExpRelaxedCategorical``."""

from __future__ import annotations

import math
from typing import Any

from .. import random as _random
from ..tensor import Tensor
from . import constraints
from .categorical import Categorical
from .distribution import Distribution
from .transformed_distribution import TransformedDistribution
from .transforms import ExpTransform
from .utils import _as_tensor, _drawn, clamp_probs

__all__ = ["ExpRelaxedCategorical", "RelaxedOneHotCategorical"]


class ExpRelaxedCategorical(Distribution):
    """The log of a RelaxedOneHotCategorical: log_softmax((logits + g) / temperature), g
    i.i.d. standard Gumbel (the last axis, K long, is the event)."""

    arg_constraints = {"probs": constraints.simplex,
                       "logits": constraints.independent(constraints.real, 1)}
    support = constraints.real_vector
    has_rsample = True

    def __init__(self, temperature: Any, probs: Any = None, logits: Any = None,
                 validate_args: bool | None = None) -> None:
        self._categorical = Categorical(probs, logits, validate_args=validate_args)
        self.temperature = _as_tensor(temperature, self._categorical.probs)
        super().__init__(self._categorical.batch_shape, self._categorical.probs.shape[-1:],
                         validate_args=validate_args)

    probs = property(lambda self: self._categorical.probs)
    logits = property(lambda self: self._categorical.logits)
    param_shape = property(lambda self: self._categorical.probs.shape)

    def expand(self, batch_shape: Any) -> ExpRelaxedCategorical:
        new = super().expand(batch_shape)
        new._categorical = self._categorical.expand(new.batch_shape)
        return new

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        """(logits + g) / t less its logsumexp, g = -log(-log u), u clamped to [eps, 1 - eps]:
        differentiable in the logits (or probs) and the temperature."""
        shape = self._extended_shape(sample_shape)
        u = clamp_probs(_drawn(_random.generator().random(shape), self.logits))
        scores = (self.logits - (-u.log()).log()) / self.temperature
        return scores - scores.logsumexp(-1, keepdims=True)

    def log_prob(self, value: Any) -> Tensor:
        """log Γ(K) + (K - 1) log t + Σ_k (s_k - logsumexp s), s = logits - t · value."""
        k = self.event_shape[0]
        v = self._value(value, self.logits)
        score = self.logits - v * self.temperature
        score = (score - score.logsumexp(-1, keepdims=True)).sum(-1)
        return score + math.lgamma(k) + (k - 1) * self.temperature.log()


class RelaxedOneHotCategorical(TransformedDistribution):
    """exp of an ExpRelaxedCategorical: points of the simplex that approach one-hot vectors
    (category k with probability probs[k]) as ``temperature`` falls; ``rsample`` is the
    Gumbel-softmax sample, differentiable in the logits (a discrete latent's relaxation)."""

    arg_constraints = {"probs": constraints.simplex,
                       "logits": constraints.independent(constraints.real, 1)}
    support = constraints.simplex
    has_rsample = True

    def __init__(self, temperature: Any, probs: Any = None, logits: Any = None,
                 validate_args: bool | None = None) -> None:
        base = ExpRelaxedCategorical(temperature, probs, logits, validate_args=validate_args)
        super().__init__(base, ExpTransform(), validate_args=validate_args)

    temperature = property(lambda self: self.base_dist.temperature)
    logits = property(lambda self: self.base_dist.logits)
    probs = property(lambda self: self.base_dist.probs)

    def __repr__(self) -> str:
        return f"RelaxedOneHotCategorical(batch_shape={self.batch_shape}, " \
               f"event_shape={self.event_shape})"
