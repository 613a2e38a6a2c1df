"""The Bernoulli distribution (one coin), as ``torch.distributions.Bernoulli``."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import functional as F
from .. import random as _random
from ..ops.elementwise import where
from ..tensor import Tensor, tensor
from . import constraints
from .distribution import Distribution
from .utils import (
    _as_tensor,
    _drawn,
    _host,
    _one_of,
    _shape,
)


class Bernoulli(Distribution):
    """One coin per element: P(1) = ``probs`` = sigmoid(``logits``)."""

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.boolean
    has_enumerate_support = True
    _batch_params = ("probs", "logits")

    def __init__(self, probs: Any = None, logits: Any = None,
                 validate_args: bool | None = None) -> None:
        _one_of(probs, logits, "Bernoulli")
        if logits is not None:
            self.logits = _as_tensor(logits)
            self.probs = self.logits.sigmoid()
        else:
            self.probs = _as_tensor(probs)
            eps = np.finfo(self.probs.dtype).eps
            p = self.probs.clamp(eps, 1 - eps)
            self.logits = p.log() - (1 - p).log()
        super().__init__(self.probs.shape, validate_args=validate_args)
        if probs is not None:
            self._check("probs", self.probs, (self.probs >= 0) & (self.probs <= 1), "in [0, 1]")


    @property
    def mean(self) -> Tensor:
        return self.probs

    @property
    def mode(self) -> Tensor:  # as PyTorch's: 1 where p > 1/2, 0 below, NaN at 1/2
        mode = (self.probs >= 0.5).type_as(self.probs)
        return where(self.probs == 0.5, math.nan, mode)

    @property
    def variance(self) -> Tensor:
        return self.probs * (1 - self.probs)

    def sample(self, sample_shape: Any = ()) -> Tensor:
        """0.0 or 1.0 (this dtype), of shape ``sample_shape + batch_shape``."""
        shape = _shape(sample_shape) + self.batch_shape
        u = _random.generator().random(shape)
        return _drawn(u < np.broadcast_to(_host(self.probs), shape), self.probs)

    def log_prob(self, value: Any) -> Tensor:
        """value log p + (1 - value) log(1 - p), from the logits (stable)."""
        v = self._value(value, self.logits)
        shape = np.broadcast_shapes(self.logits.shape, v.shape)
        return -F.binary_cross_entropy_with_logits(self.logits.broadcast_to(shape),
                                                   v.broadcast_to(shape), reduction="none")

    def entropy(self) -> Tensor:
        return F.binary_cross_entropy_with_logits(self.logits, self.probs, reduction="none")

    def enumerate_support(self, expand: bool = True) -> Tensor:
        """0.0 and 1.0 (this dtype) along a new first axis, then batch_shape (broadcast to it
        where ``expand``), as PyTorch's."""
        values = tensor([0.0, 1.0], dtype=self.probs.dtype, device=self.probs.device)
        values = values.reshape((-1,) + (1,) * len(self.batch_shape))
        return values.broadcast_to((2,) + self.batch_shape) if expand else values
