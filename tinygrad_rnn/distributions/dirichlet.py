"""The Dirichlet distribution (probability vectors), as ``torch.distributions.Dirichlet``."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..ops.elementwise import where
from ..special import xlogy
from ..tensor import Tensor, tensor
from . import constraints
from .distribution import Distribution
from .gamma import _inside_unit, _standard_gamma
from .utils import (
    _as_tensor,
)


class Dirichlet(Distribution):
    """Density Γ(Σ_k a_k) / Π_k Γ(a_k) · Π_k x_k^(a_k - 1) on the simplex (x_k >= 0, Σ_k x_k =
    1), a = ``concentration``, whose last axis (K long) is the event: a distribution over
    probability vectors (mixture weights, a Bayesian estimate of category frequencies)."""

    has_rsample = True
    arg_constraints = {"concentration": constraints.independent(constraints.positive, 1)}
    support = constraints.simplex
    _batch_params = ("concentration",)

    def __init__(self, concentration: Any, validate_args: bool | None = None) -> None:
        c = _as_tensor(concentration)
        if c.ndim < 1:
            raise ValueError("Dirichlet: concentration needs at least one axis (the event, K "
                             "categories), got a scalar")
        self.concentration = c
        super().__init__(c.shape[:-1], c.shape[-1:], validate_args=validate_args)
        self._check("concentration", c, c > 0, "positive")


    @property
    def mean(self) -> Tensor:
        return self.concentration / self.concentration.sum(-1, keepdims=True)

    @property
    def mode(self) -> Tensor:
        """(a - 1)+ / Σ (a - 1)+; the first corner (1, 0, ..., 0) where every a_k < 1
        (PyTorch's pick among the K modes), NaN where all a_k = 1."""
        c = self.concentration
        above = (c - 1).clamp(min=0.0)
        corner = tensor(np.eye(1, c.shape[-1])[0], dtype=c.dtype, device=c.device)
        return where((c < 1).all(-1, keepdims=True), corner, above / above.sum(-1, keepdims=True))

    @property
    def variance(self) -> Tensor:
        """a_k (a_0 - a_k) / (a_0² (a_0 + 1)), a_0 = Σ_k a_k."""
        c = self.concentration
        total = c.sum(-1, keepdims=True)
        return c * (total - c) / (total ** 2 * (total + 1))

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        """G / Σ_k G_k, G_k ~ Gamma(a_k, 1) (``StandardGamma``, in float64): differentiable in
        a through the draws; kept inside (0, 1)."""
        g = _standard_gamma(self.concentration, self._extended_shape(sample_shape))
        return _inside_unit(g / g.sum(-1, keepdims=True), self.concentration)

    def log_prob(self, value: Any) -> Tensor:
        """Σ_k (a_k - 1) log x_k + log Γ(Σ_k a_k) - Σ_k log Γ(a_k)."""
        c = self.concentration
        v = self._value(value, c)
        if v.ndim < 1 or v.shape[-1] != c.shape[-1]:
            raise ValueError(f"Dirichlet.log_prob: the value's last axis must be the event "
                             f"({c.shape[-1]}), got shape {v.shape}")
        v = self._value(v, c)
        return xlogy(c - 1, v).sum(-1) + c.sum(-1).lgamma() - c.lgamma().sum(-1)

    def entropy(self) -> Tensor:
        """Σ_k log Γ(a_k) - log Γ(a_0) - (K - a_0) ψ(a_0) - Σ_k (a_k - 1) ψ(a_k)."""
        c = self.concentration
        total = c.sum(-1)
        return c.lgamma().sum(-1) - total.lgamma() - (c.shape[-1] - total) * total.digamma() \
            - ((c - 1) * c.digamma()).sum(-1)
