"""The categorical distribution (one of K categories), as
``torch.distributions.Categorical``."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import random as _random
from ..tensor import Tensor, tensor
from . import constraints
from .distribution import Distribution
from .utils import (
    _as_tensor,
    _host,
    _one_of,
    _require,
    _shape,
)


class Categorical(Distribution):
    """K categories, the last axis of ``probs`` (nonnegative, normalised here) or ``logits``
    (log-probabilities up to a constant): p(k) = probs[..., k] = softmax(logits)[..., k]."""

    arg_constraints = {"probs": constraints.simplex,
                       "logits": constraints.independent(constraints.real, 1)}

    @constraints.dependent_property(is_discrete=True, event_dim=0)
    def support(self) -> constraints.Constraint:
        return constraints.integer_interval(0, self.probs.shape[-1] - 1)
    _batch_params = ("probs", "logits")
    has_enumerate_support = True

    def __init__(self, probs: Any = None, logits: Any = None,
                 validate_args: bool | None = None) -> None:
        _one_of(probs, logits, "Categorical")
        if logits is not None:
            raw = _as_tensor(logits)
            self.logits = raw - raw.logsumexp(-1, keepdims=True)
            self.probs = self.logits.exp()
        else:
            p = _as_tensor(probs)
            self.probs = p / p.sum(-1, keepdims=True)
            eps = float(np.finfo(self.probs.dtype).eps)  # log(0) as log(eps), as PyTorch
            self.logits = self.probs.clamp(eps, 1 - eps).log()
        if self.probs.ndim == 0:
            raise ValueError("Categorical: probs or logits need at least one axis (the "
                             "categories)")
        super().__init__(self.probs.shape[:-1], validate_args=validate_args)
        if probs is not None:
            self._check("probs", p, p >= 0, "nonnegative")

    @property
    def mean(self) -> Tensor:  # as PyTorch's: not defined over categories
        return self.probs.new_full(self.batch_shape, float("nan"))

    @property
    def variance(self) -> Tensor:
        return self.mean

    @property
    def mode(self) -> Tensor:
        return self.probs.argmax(-1)

    def sample(self, sample_shape: Any = ()) -> Tensor:
        """Category indices (int64) of shape ``sample_shape + batch_shape``."""
        shape = _shape(sample_shape)
        p = _host(self.probs).astype(np.float64).reshape(-1, self.probs.shape[-1])
        u = _random.generator().random((math.prod(shape), len(p), 1))
        cdf = np.cumsum(p / p.sum(-1, keepdims=True), -1)
        k = np.minimum((u > cdf).sum(-1), p.shape[-1] - 1)  # inverse of the CDF per row
        return tensor(k.reshape(shape + self.batch_shape), dtype="int64",
                      device=self.probs.device)

    def log_prob(self, value: Tensor) -> Tensor:
        """log p(value) for category indices ``value`` (broadcast against batch_shape): integers,
        or floats holding whole numbers (truncated, as PyTorch's, when not validating)."""
        v = value if isinstance(value, Tensor) else tensor(value, dtype="int64")
        if self._validate_args:
            _require("Categorical.log_prob", "the value", v,
                     self.support.check(v), f"in 0..{self.probs.shape[-1] - 1}")
        shape = np.broadcast_shapes(v.shape, self.batch_shape)
        logits = self.logits.broadcast_to(shape + self.logits.shape[-1:])
        return logits.gather(-1, v.broadcast_to(shape).unsqueeze(-1).long()).squeeze(-1)

    def entropy(self) -> Tensor:
        """-sum_k p_k log p_k, log p_k the logits clamped to the dtype's most negative finite
        number: a category of probability 0 adds 0 (not 0 · -inf), and its gradient in the
        probs is finite, log(eps) as PyTorch's (the logits of probs clamp them to eps)."""
        finite_min = float(np.finfo(self.logits.dtype).min)
        return -(self.probs * self.logits.clamp(min=finite_min)).sum(-1)

    def enumerate_support(self, expand: bool = True) -> Tensor:
        """The categories 0..K-1 (int64) along a new first axis, then batch_shape (broadcast
        to it where ``expand``), as PyTorch's."""
        k = self.probs.shape[-1]
        values = tensor(np.arange(k), dtype="int64", device=self.probs.device)
        values = values.reshape((-1,) + (1,) * len(self.batch_shape))
        return values.broadcast_to((k,) + self.batch_shape) if expand else values
