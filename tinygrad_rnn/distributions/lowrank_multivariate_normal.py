"""A multivariate normal of low-rank-plus-diagonal covariance, as
``torch.distributions.LowRankMultivariateNormal``."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import linalg
from .. import random as _random
from ..tensor import Tensor
from . import constraints
from .distribution import Distribution
from .utils import _as_tensor, _drawn

__all__ = ["LowRankMultivariateNormal"]


class LowRankMultivariateNormal(Distribution):
    """N(loc, W Wᵀ + D) over vectors of n, W = ``cov_factor`` (n × m, m usually small), D =
    diag(``cov_diag``) > 0. log_prob and entropy never form the n × n matrix: with the m × m
    capacitance C = I + Wᵀ D⁻¹ W = L Lᵀ, log det Σ = 2 Σ log diag L + Σ log D and xᵀ Σ⁻¹ x =
    xᵀ D⁻¹ x - ‖L⁻¹ Wᵀ D⁻¹ x‖² (the Woodbury identity)."""

    arg_constraints = {"loc": constraints.real_vector,
                       "cov_factor": constraints.independent(constraints.real, 2),
                       "cov_diag": constraints.independent(constraints.positive, 1)}
    support = constraints.real_vector
    has_rsample = True

    def __init__(self, loc: Any, cov_factor: Any, cov_diag: Any,
                 validate_args: bool | None = None) -> None:
        like = next((v for v in (loc, cov_factor, cov_diag) if isinstance(v, Tensor)
                     and v.dtype.kind == "f"), None)
        loc, W, D = (_as_tensor(v, like) for v in (loc, cov_factor, cov_diag))
        if loc.ndim < 1 or W.ndim < 2 or D.ndim < 1:
            raise ValueError(f"LowRankMultivariateNormal: loc (..., n), cov_factor (..., n, m) "
                             f"and cov_diag (..., n), got shapes {loc.shape}, {W.shape}, "
                             f"{D.shape}")
        n = loc.shape[-1]
        if W.shape[-2] != n or D.shape[-1] != n:
            raise ValueError(f"LowRankMultivariateNormal: the event sizes differ: loc "
                             f"{loc.shape}, cov_factor {W.shape} (its -2 axis), cov_diag "
                             f"{D.shape}")
        try:
            batch = tuple(np.broadcast_shapes(loc.shape[:-1], W.shape[:-2], D.shape[:-1]))
        except ValueError:
            raise ValueError(f"LowRankMultivariateNormal: the batch shapes of loc "
                             f"{loc.shape[:-1]}, cov_factor {W.shape[:-2]} and cov_diag "
                             f"{D.shape[:-1]} do not broadcast") from None
        m = W.shape[-1]
        self.loc = loc.broadcast_to(batch + (n,))
        self.cov_factor = W.broadcast_to(batch + (n, m))
        self.cov_diag = D.broadcast_to(batch + (n,))
        super().__init__(batch, (n,), validate_args=validate_args)
        self._check("loc", loc, loc == loc, "real numbers, not NaN")
        self._check("cov_factor", W, W == W, "real numbers, not NaN")
        self._check("cov_diag", D, D > 0, "positive")
        self._unbroadcasted_cov_factor, self._unbroadcasted_cov_diag = W, D
        self._capacitance_tril = self._capacitance(W, D)

    @staticmethod
    def _capacitance(W: Tensor, D: Tensor) -> Tensor:
        """The Cholesky factor of I + Wᵀ D⁻¹ W."""
        Wt_Dinv = W.mT / D.unsqueeze(-2)
        K = Wt_Dinv @ W
        eye = _drawn(np.eye(W.shape[-1]), W)
        return linalg.cholesky(K + eye)

    _batch_params = ("loc", "cov_factor", "cov_diag")  # (the unbroadcast ones broadcast)

    @property
    def mean(self) -> Tensor:
        return self.loc

    mode = mean

    @property
    def variance(self) -> Tensor:
        return (self.cov_factor ** 2).sum(-1) + self.cov_diag

    @property
    def covariance_matrix(self) -> Tensor:
        W = self.cov_factor
        return W @ W.mT + self.cov_diag.diag_embed()

    @property
    def scale_tril(self) -> Tensor:
        return linalg.cholesky(self.covariance_matrix)

    @property
    def precision_matrix(self) -> Tensor:
        """D⁻¹ - D⁻¹ W C⁻¹ Wᵀ D⁻¹ (Woodbury)."""
        W, D = self.cov_factor, self.cov_diag
        Wt_Dinv = W.mT / D.unsqueeze(-2)
        A = linalg.solve_triangular(self._capacitance_tril.broadcast_to(
            self.batch_shape + self._capacitance_tril.shape[-2:]), Wt_Dinv, upper=False)
        return D.reciprocal().diag_embed() - A.mT @ A

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        """loc + W ε_W + √D ε_D, ε ~ N(0, I): differentiable in all three."""
        shape = self._extended_shape(sample_shape)
        rng = _random.generator()
        m = self.cov_factor.shape[-1]
        eps_w = _drawn(rng.standard_normal(shape[:-1] + (m,)), self.loc)
        eps_d = _drawn(rng.standard_normal(shape), self.loc)
        return self.loc + (self._unbroadcasted_cov_factor @ eps_w.unsqueeze(-1)).squeeze(-1) \
            + self._unbroadcasted_cov_diag.sqrt() * eps_d

    def _log_det(self) -> Tensor:
        return 2 * self._capacitance_tril.diagonal(0, -2, -1).log().sum(-1) \
            + self._unbroadcasted_cov_diag.log().sum(-1)

    def _mahalanobis(self, diff: Tensor) -> Tensor:
        """diffᵀ Σ⁻¹ diff by Woodbury: diffᵀ D⁻¹ diff - ‖L⁻¹ Wᵀ D⁻¹ diff‖²."""
        W, D, L = self._unbroadcasted_cov_factor, self._unbroadcasted_cov_diag, \
            self._capacitance_tril
        Wt_Dinv = W.mT / D.unsqueeze(-2)
        batch = tuple(np.broadcast_shapes(diff.shape[:-1], Wt_Dinv.shape[:-2], L.shape[:-2]))
        rhs = (Wt_Dinv @ diff.unsqueeze(-1))
        rhs = rhs.broadcast_to(batch + rhs.shape[-2:])
        z = linalg.solve_triangular(L.broadcast_to(batch + L.shape[-2:]), rhs, upper=False)
        return (diff.square() / D).sum(-1) - z.squeeze(-1).square().sum(-1)

    def log_prob(self, value: Any) -> Tensor:
        """-½ (n log 2π + log det Σ + (x - loc)ᵀ Σ⁻¹ (x - loc))."""
        v = self._value(value, self.loc)
        if v.ndim < 1 or v.shape[-1] != self.event_shape[0]:
            raise ValueError(f"LowRankMultivariateNormal.log_prob: the value's last axis must "
                             f"be the event ({self.event_shape[0]}), got shape {v.shape}")
        n = self.event_shape[0]
        return -0.5 * (n * math.log(2 * math.pi) + self._log_det()
                       + self._mahalanobis(v - self.loc))

    def entropy(self) -> Tensor:
        n = self.event_shape[0]
        h = 0.5 * (n * (1.0 + math.log(2 * math.pi)) + self._log_det())
        return h if h.shape == self.batch_shape else h.broadcast_to(self.batch_shape)
