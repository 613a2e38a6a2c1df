"""Categorical draws as one-hot vectors, as ``torch.distributions.OneHotCategorical`` and
``OneHotCategoricalStraightThrough``."""

from __future__ import annotations

from typing import Any

from .. import functional as F
from ..tensor import Tensor
from . import constraints
from .categorical import Categorical
from .distribution import Distribution

__all__ = ["OneHotCategorical", "OneHotCategoricalStraightThrough"]


class OneHotCategorical(Distribution):
    """A Categorical over K whose values are one-hot vectors of length K (the event): the
    same ``probs`` or ``logits``."""

    arg_constraints = {"probs": constraints.simplex,
                       "logits": constraints.independent(constraints.real, 1)}
    support = constraints.one_hot
    has_enumerate_support = True

    def __init__(self, probs: Any = None, logits: Any = None,
                 validate_args: bool | None = None) -> None:
        self._categorical = Categorical(probs, logits, validate_args=validate_args)
        super().__init__(self._categorical.batch_shape, self._categorical.probs.shape[-1:],
                         validate_args=validate_args)

    probs = property(lambda self: self._categorical.probs)
    logits = property(lambda self: self._categorical.logits)
    param_shape = property(lambda self: self._categorical.probs.shape)

    def expand(self, batch_shape: Any) -> OneHotCategorical:
        new = super().expand(batch_shape)
        new._categorical = self._categorical.expand(new.batch_shape)
        return new

    @property
    def mean(self) -> Tensor:
        return self.probs

    @property
    def mode(self) -> Tensor:
        """The one-hot vector of the likeliest category."""
        return F.one_hot(self.probs.argmax(-1), self.event_shape[0]).type_as(self.probs)

    @property
    def variance(self) -> Tensor:
        return self.probs * (1 - self.probs)

    def sample(self, sample_shape: Any = ()) -> Tensor:
        """One-hot vectors (of the probabilities' dtype), ``sample_shape + batch_shape + (K,)``."""
        k = self._categorical.sample(sample_shape)
        return F.one_hot(k, self.event_shape[0]).type_as(self.probs)

    def log_prob(self, value: Any) -> Tensor:
        v = self._value(value, self.probs)
        return self._categorical.log_prob(v.argmax(-1))

    def entropy(self) -> Tensor:
        return self._categorical.entropy()

    def enumerate_support(self, expand: bool = True) -> Tensor:
        """The K one-hot vectors along a new first axis (then batch_shape, then the event)."""
        k = self.event_shape[0]
        eye = F.one_hot(self.probs.new_ones((k,)).cumsum(-1).long() - 1, k)
        values = eye.type_as(self.probs).reshape((k,) + (1,) * len(self.batch_shape) + (k,))
        return values.broadcast_to((k,) + self.batch_shape + (k,)) if expand else values


class OneHotCategoricalStraightThrough(OneHotCategorical):
    """OneHotCategorical with the straight-through gradient: ``rsample`` is the one-hot draw
    in value, and passes gradients to the probabilities as if it were them."""

    has_rsample = True

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        samples = self.sample(sample_shape)
        probs = self._categorical.probs
        return samples + (probs - probs.detach())
