"""The LKJ distribution over Cholesky factors of correlation matrices, as
``torch.distributions.LKJCholesky``."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import random as _random
from ..tensor import Tensor
from . import constraints
from .beta import Beta
from .distribution import Distribution
from .utils import _drawn, _params, _shape

__all__ = ["LKJCholesky"]


class LKJCholesky(Distribution):
    """LKJ(η) over the lower Cholesky factors L of ``dim`` × ``dim`` correlation matrices
    M = L Lᵀ, with p(M) ∝ det(M)^(η - 1) for the ``concentration`` η > 0 (η = 1: uniform over
    correlation matrices; larger η: closer to the identity). As a density of L (with the
    Jacobian of L ↦ L Lᵀ, Π_i L_ii^(dim - i))::

        log p(L) = Σ_{i=2..dim} (2 (η - 1) + dim - i) log L_ii - log c(η),
        log c(η) = (dim - 1)/2 log π + log Γ_{dim-1}(α - 1/2) - (dim - 1) log Γ(α),
        α = η + (dim - 1)/2  (Lewandowski, Kurowicka and Joe, 2009)

    ``sample`` by their onion method, vectorised over the rows: row i of L is √y_i u_i on
    its first i entries, u_i a uniform unit vector, y_i ~ Beta(i/2, η + (dim - 2)/2 - (i-1)/2)
    (row 0 is e_0), and √(1 - y_i) on the diagonal. No ``rsample``, as in PyTorch."""

    arg_constraints = {"concentration": constraints.positive}
    support = constraints.corr_cholesky
    _batch_params = ("concentration",)

    def __init__(self, dim: int, concentration: Any = 1.0,
                 validate_args: bool | None = None) -> None:
        if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)) or dim < 2:
            raise ValueError(f"LKJCholesky: dim must be an integer >= 2, got {dim!r}")
        self.dim = int(dim)
        (self.concentration,), batch = _params("LKJCholesky", concentration=concentration)
        super().__init__(batch, (self.dim, self.dim), validate_args=validate_args)
        self._check("concentration", self.concentration, self.concentration > 0, "positive")

    def _beta(self) -> Beta:
        """The Beta of each row's squared off-diagonal norm y_i (i = 0 … dim - 1, row 0's
        unused): Beta(o_i + 1/2, η + (dim - 2)/2 - o_i/2), o = (0, 0, 1, …, dim - 2)."""
        c = self.concentration
        offset = _drawn(np.concatenate([[0.0], np.arange(self.dim - 1)]), c)
        marginal = c + 0.5 * (self.dim - 2)
        return Beta(offset + 0.5, marginal.unsqueeze(-1) - 0.5 * offset, validate_args=False)

    def sample(self, sample_shape: Any = ()) -> Tensor:
        """The onion method (see the class)."""
        from ..autograd import no_grad

        shape = self._extended_shape(sample_shape)
        with no_grad():
            y = self._beta().sample(_shape(sample_shape)).unsqueeze(-1)
            u = np.tril(_random.generator().standard_normal(shape), -1)
            norm = np.linalg.norm(u, axis=-1, keepdims=True)
            u = u / np.where(norm > 0, norm, 1)  # (row 0 has no entries: stays 0)
            w = y.sqrt() * _drawn(u, y)
            tiny = float(np.finfo(w.dtype).tiny)
            diag = (1 - (w ** 2).sum(-1)).clamp(min=tiny).sqrt()
            return w + diag.diag_embed()

    def log_prob(self, value: Any) -> Tensor:
        """See the class."""
        L = self._value(value, self.concentration)
        if L.ndim < 2 or L.shape[-2:] != self.event_shape:
            raise ValueError(f"LKJCholesky.log_prob: the value's last two axes must be the "
                             f"event {self.event_shape}, got shape {L.shape}")
        d = self.dim
        diag = L.diagonal(0, -2, -1)[..., 1:]
        order = 2 * (self.concentration - 1).unsqueeze(-1) + d - _drawn(np.arange(2, d + 1), L)
        unnormalized = (order * diag.log()).sum(-1)
        alpha = self.concentration + 0.5 * (d - 1)
        log_c = 0.5 * (d - 1) * math.log(math.pi) + (alpha - 0.5).mvlgamma(d - 1) \
            - alpha.lgamma() * (d - 1)
        return unnormalized - log_c
