"""The multivariate normal distribution, as
``torch.distributions.MultivariateNormal``."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import random as _random
from ..ops.elementwise import where
from ..tensor import Tensor, tensor
from . import constraints
from .distribution import Distribution, _from_loc
from .utils import (
    _as_tensor,
    _drawn,
    _require,
)


class MultivariateNormal(Distribution):
    """N(loc, Σ) over vectors (the event is loc's last axis, n long), with Σ given as
    ``covariance_matrix``, ``precision_matrix`` (Σ⁻¹) or ``scale_tril`` (L, lower-triangular
    with a positive diagonal, Σ = L Lᵀ): one of them. Computed through L (``linalg.cholesky``,
    ``linalg.solve_triangular``), so log_prob needs no inverse and is differentiable in every
    parameter: a model that predicts a correlated Gaussian (a sketch's pen offsets, a
    multivariate forecast) trains on -log_prob."""

    has_rsample = True
    arg_constraints = {"loc": constraints.real_vector,
                       "covariance_matrix": constraints.positive_definite,
                       "precision_matrix": constraints.positive_definite,
                       "scale_tril": constraints.lower_cholesky}
    support = constraints.real_vector
    _batch_params = ("loc", "scale_tril")

    def __init__(self, loc: Any, covariance_matrix: Any = None, precision_matrix: Any = None,
                 scale_tril: Any = None, validate_args: bool | None = None) -> None:
        from .. import linalg

        given = [m is not None for m in (covariance_matrix, precision_matrix, scale_tril)]
        if sum(given) != 1:
            raise ValueError("MultivariateNormal: give exactly one of covariance_matrix, "
                             "precision_matrix and scale_tril")
        matrix = next(m for m in (covariance_matrix, precision_matrix, scale_tril)
                      if m is not None)
        loc = _as_tensor(loc, matrix if isinstance(matrix, Tensor) else None)
        matrix = _as_tensor(matrix, loc)
        loc = _as_tensor(loc, matrix)
        if loc.ndim < 1 or matrix.ndim < 2 or matrix.shape[-1] != matrix.shape[-2] \
                or matrix.shape[-1] != loc.shape[-1]:
            raise ValueError(f"MultivariateNormal: loc (..., n) and a matrix (..., n, n) of the "
                             f"same n, got shapes {loc.shape} and {matrix.shape}")
        try:
            batch = tuple(np.broadcast_shapes(loc.shape[:-1], matrix.shape[:-2]))
        except ValueError:
            raise ValueError(f"MultivariateNormal: the batch shapes of loc {loc.shape[:-1]} and "
                             f"of the matrix {matrix.shape[:-2]} do not broadcast") from None
        n = loc.shape[-1]
        super().__init__(batch, (n,), validate_args=validate_args)
        self._check("loc", loc, loc == loc, "real numbers, not NaN")
        if scale_tril is not None:
            on_diagonal = tensor(np.eye(n, dtype=bool), device=matrix.device)
            self._check("scale_tril", matrix, where(on_diagonal, matrix > 0, matrix.triu(1) == 0),
                        "lower-triangular with a positive diagonal")
            L = matrix
        else:
            if self._validate_args:
                sym = (matrix - matrix.mT).abs() <= 1e-6 * (1 + matrix.abs())
                _require("MultivariateNormal", "covariance_matrix" if covariance_matrix
                         is not None else "precision_matrix", matrix, sym, "symmetric")
            try:
                cov = matrix if covariance_matrix is not None else linalg.inv(matrix)
                L = linalg.cholesky(cov)
            except ValueError:
                name = "covariance_matrix" if covariance_matrix is not None else \
                    "precision_matrix"
                raise ValueError(f"MultivariateNormal: {name} must be positive-definite") \
                    from None
        self.loc = loc.broadcast_to(batch + (n,)) if loc.shape != batch + (n,) else loc
        self._unbroadcasted_scale_tril = L
        self.scale_tril = L.broadcast_to(batch + (n, n)) if L.shape != batch + (n, n) else L

    @property
    def covariance_matrix(self) -> Tensor:
        return self.scale_tril @ self.scale_tril.mT

    @property
    def precision_matrix(self) -> Tensor:
        """Σ⁻¹ = L⁻ᵀ L⁻¹."""
        from .. import linalg

        eye = _drawn(np.eye(self.event_shape[0]), self.loc)
        inv_l = linalg.solve_triangular(self.scale_tril, eye.broadcast_to(self.scale_tril.shape),
                                        upper=False)
        return inv_l.mT @ inv_l

    mean = mode = _from_loc  # (a symmetric, unimodal family: both are loc)

    @property
    def variance(self) -> Tensor:
        """The diagonal of Σ: the squared row norms of L."""
        return (self.scale_tril ** 2).sum(-1)

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        """loc + L ε, ε ~ N(0, I): differentiable in loc and L."""
        eps = _random.generator().standard_normal(self._extended_shape(sample_shape))
        return self.loc + (self._unbroadcasted_scale_tril @ _drawn(eps, self.loc)
                           .unsqueeze(-1)).squeeze(-1)

    def _half_log_det(self) -> Tensor:
        return self._unbroadcasted_scale_tril.diagonal(0, -2, -1).log().sum(-1)

    def _mahalanobis(self, diff: Tensor) -> Tensor:
        """‖L⁻¹ diff‖², by one triangular solve (batch axes broadcast)."""
        from .. import linalg

        L = self._unbroadcasted_scale_tril
        if L.dtype != diff.dtype:  # the wider of the two, as PyTorch's promotion
            L, diff = (L.type_as(diff), diff) if diff.dtype.itemsize > L.dtype.itemsize \
                else (L, diff.type_as(L))
        batch = tuple(np.broadcast_shapes(diff.shape[:-1], L.shape[:-2]))
        z = linalg.solve_triangular(L.broadcast_to(batch + L.shape[-2:]),
                                    diff.broadcast_to(batch + diff.shape[-1:]).unsqueeze(-1),
                                    upper=False)
        return (z.squeeze(-1) ** 2).sum(-1)

    def log_prob(self, value: Any) -> Tensor:
        """-½ (n log 2π + ‖L⁻¹ (x - loc)‖²) - Σ log diag L."""
        v = self._value(value, self.loc)
        if v.ndim < 1 or v.shape[-1] != self.event_shape[0]:
            raise ValueError(f"MultivariateNormal.log_prob: the value's last axis must be the "
                             f"event ({self.event_shape[0]}), got shape {v.shape}")
        n = self.event_shape[0]
        return -0.5 * (n * math.log(2 * math.pi) + self._mahalanobis(v - self.loc)) \
            - self._half_log_det()

    def entropy(self) -> Tensor:
        """½ n (1 + log 2π) + Σ log diag L."""
        n = self.event_shape[0]
        h = 0.5 * n * (1 + math.log(2 * math.pi)) + self._half_log_det()
        return h if h.shape == self.batch_shape else h.broadcast_to(self.batch_shape)
