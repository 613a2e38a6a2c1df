"""The Wishart distribution over positive-definite matrices, as
``torch.distributions.Wishart``."""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from .. import linalg
from .. import random as _random
from ..ops.elementwise import where
from ..tensor import Tensor
from . import constraints
from .chi2 import Chi2
from .exp_family import ExponentialFamily
from .utils import _as_tensor, _drawn, _require, _shape, lazy_property

__all__ = ["Wishart"]

_LOG_2 = math.log(2)


class _ArgConstraints:
    """Wishart's ``arg_constraints``: df must exceed n - 1, so an instance's says
    ``greater_than(n - 1)``; the class's (no n yet), ``positive``."""

    def __get__(self, instance: Any, owner: Any = None) -> dict[str, constraints.Constraint]:
        df = constraints.positive if instance is None else \
            constraints.greater_than(instance.event_shape[-1] - 1)
        return {"covariance_matrix": constraints.positive_definite,
                "precision_matrix": constraints.positive_definite,
                "scale_tril": constraints.lower_cholesky, "df": df}


def _mvdigamma(x: Tensor, p: int) -> Tensor:
    """ψ_p(x) = Σ_{j<p} ψ(x - j/2), the derivative of log Γ_p (``mvlgamma``)."""
    halves = _drawn([-0.5 * j for j in range(p)], x)
    return (x.unsqueeze(-1) + halves).digamma().sum(-1)


def _all_positive_definite(x: Tensor) -> Tensor:
    """Whether each matrix of x (..., n, n) has a Cholesky factor: one batched factorisation
    where all do (the common case), else ``constraints.positive_definite``'s one by one."""
    try:
        ok = bool(np.isfinite(np.linalg.cholesky(x.detach().numpy())).all())
    except np.linalg.LinAlgError:
        ok = False
    if ok:
        return _drawn(np.ones(x.shape[:-2], dtype=bool), x).bool()
    return constraints.positive_definite.check(x.detach())


class Wishart(ExponentialFamily):
    """W_n(ν, Σ): the distribution of X = Σ_{i≤ν} z_i z_iᵀ, z_i ~ N(0, Σ), for real ν = ``df``
    > n - 1, over symmetric positive-definite n × n matrices, with Σ given as
    ``covariance_matrix``, ``precision_matrix`` (Σ⁻¹) or ``scale_tril`` (L, Σ = L Lᵀ): one of
    them. Everything is computed through L::

        log p(X) = -ν (n/2 log 2 + Σ log diag L) - log Γ_n(ν/2) + (ν - n - 1)/2 log det X
                   - tr(Σ⁻¹ X) / 2
        H        = (n + 1)(n/2 log 2 + Σ log diag L) + log Γ_n(ν/2)
                   - (ν - n - 1)/2 ψ_n(ν/2) + ν n / 2
        mean = ν Σ,  mode = (ν - n - 1) Σ (NaN where ν ≤ n + 1),
        variance_ij = ν (Σ_ij² + Σ_ii Σ_jj)

    ``rsample`` by Bartlett's decomposition: X = (L A)(L A)ᵀ with A lower-triangular,
    A_ii = √c_i, c_i ~ χ²(ν - i) (i = 0 … n - 1), and standard normals below the diagonal;
    differentiable in L (so in Σ) and, through the χ² draws, in ν. A sample that comes out
    singular (possible for ν < n) is drawn again, up to ``max_try_correction`` times, with a
    warning."""

    arg_constraints = _ArgConstraints()
    support = constraints.positive_definite
    has_rsample = True
    _mean_carrier_measure = 0
    _batch_params = ("df",)

    def __init__(self, df: Any, covariance_matrix: Any = None, precision_matrix: Any = None,
                 scale_tril: Any = None, validate_args: bool | None = None) -> None:
        given = {k: m for k, m in (("covariance_matrix", covariance_matrix),
                                   ("precision_matrix", precision_matrix),
                                   ("scale_tril", scale_tril)) if m is not None}
        if len(given) != 1:
            raise ValueError("Wishart: give exactly one of covariance_matrix, precision_matrix "
                             "and scale_tril")
        (name, matrix), = given.items()
        like = df if isinstance(df, Tensor) and df.dtype.kind == "f" else None
        matrix = _as_tensor(matrix, like)
        if matrix.ndim < 2 or matrix.shape[-1] != matrix.shape[-2]:
            raise ValueError(f"Wishart: {name} must be a square matrix or a batch of them, "
                             f"(..., n, n), got shape {matrix.shape}")
        df = _as_tensor(df, matrix)
        matrix = _as_tensor(matrix, df)
        try:
            batch = tuple(np.broadcast_shapes(matrix.shape[:-2], df.shape))
        except ValueError:
            raise ValueError(f"Wishart: the batch shapes of df {df.shape} and of {name} "
                             f"{matrix.shape[:-2]} do not broadcast") from None
        n = matrix.shape[-1]
        if not bool((df > n - 1).all()):  # (always checked, as PyTorch's)
            raise ValueError(f"Wishart: df must be greater than n - 1 = {n - 1}, got "
                             f"{df.detach().numpy().min()}")
        if not bool((df >= n).all()):
            warnings.warn("Low df values detected. Singular samples are highly likely to occur "
                          "for ndim - 1 < df < ndim.", UserWarning, stacklevel=2)
        super().__init__(batch, (n, n), validate_args=validate_args)
        if name == "scale_tril":
            on_diagonal = _drawn(np.eye(n), matrix).bool()
            self._check("scale_tril", matrix, where(on_diagonal, matrix > 0,
                                                    matrix.triu(1) == 0),
                        "lower-triangular with a positive diagonal")
            L = matrix
        else:
            if self._validate_args:
                sym = (matrix - matrix.mT).abs() <= 1e-6 * (1 + matrix.abs())
                _require("Wishart", name, matrix, sym, "symmetric")
            try:
                L = linalg.cholesky(matrix if name == "covariance_matrix" else
                                    linalg.inv(matrix))
            except ValueError:
                raise ValueError(f"Wishart: {name} must be positive-definite") from None
        self.df = df if df.shape == batch else df.broadcast_to(batch)
        self._unbroadcasted_scale_tril = L
        setattr(self, name, matrix.broadcast_to(batch + (n, n)))  # (the others when asked)

    def expand(self, batch_shape: Any) -> Wishart:
        """As ``Distribution.expand``; the matrices already computed are broadcast too."""
        new = super().expand(batch_shape)
        shape = new.batch_shape + self.event_shape
        for name in ("covariance_matrix", "precision_matrix", "scale_tril"):
            if name in self.__dict__:
                setattr(new, name, self.__dict__[name].broadcast_to(shape))
        return new

    @lazy_property
    def scale_tril(self) -> Tensor:
        return self._unbroadcasted_scale_tril.broadcast_to(self.batch_shape + self.event_shape)

    @lazy_property
    def covariance_matrix(self) -> Tensor:
        L = self._unbroadcasted_scale_tril
        return (L @ L.mT).broadcast_to(self.batch_shape + self.event_shape)

    @lazy_property
    def precision_matrix(self) -> Tensor:
        """Σ⁻¹ = L⁻ᵀ L⁻¹ (``cholesky_inverse``)."""
        return linalg.cholesky_inverse(self._unbroadcasted_scale_tril).broadcast_to(
            self.batch_shape + self.event_shape)

    def _df(self) -> Tensor:
        return self.df.reshape(self.batch_shape + (1, 1))

    @property
    def mean(self) -> Tensor:
        return self._df() * self.covariance_matrix

    @property
    def mode(self) -> Tensor:
        factor = self._df() - self.event_shape[-1] - 1
        return where(factor > 0, factor, math.nan) * self.covariance_matrix

    @property
    def variance(self) -> Tensor:
        V = self.covariance_matrix
        d = V.diagonal(0, -2, -1)
        return self._df() * (V ** 2 + d.unsqueeze(-1) * d.unsqueeze(-2))

    def _bartlett(self, sample_shape: tuple[int, ...]) -> Tensor:
        """(L A)(L A)ᵀ for Bartlett's A, ``sample_shape`` + batch_shape of them."""
        n = self.event_shape[-1]
        L = self._unbroadcasted_scale_tril
        df = self.df.unsqueeze(-1) - _drawn(np.arange(n), L)
        chi = Chi2(df, validate_args=False).rsample(sample_shape)
        eps = float(np.finfo(chi.dtype).eps)
        noise = _random.generator().standard_normal(sample_shape + self.batch_shape + (n, n))
        A = chi.sqrt().clamp(min=eps).diag_embed() + _drawn(np.tril(noise, -1), L)
        chol = L @ A
        return chol @ chol.mT

    def rsample(self, sample_shape: Any = (), max_try_correction: int | None = None) -> Tensor:
        """Bartlett's construction (see the class); singular samples drawn again."""
        sample_shape = _shape(sample_shape)
        tries = 10 if max_try_correction is None else max_try_correction
        sample = self._bartlett(sample_shape)
        for attempt in range(tries):
            bad = ~_all_positive_definite(sample)
            if not bool(bad.any()):
                break
            if attempt == 0:
                warnings.warn("Wishart: singular sample detected; drawing it again",
                              UserWarning, stacklevel=2)
            sample = where(bad.unsqueeze(-1).unsqueeze(-1), self._bartlett(sample_shape),
                           sample)
        return sample

    def log_prob(self, value: Any) -> Tensor:
        """See the class: -ν (n/2 log 2 + Σ log diag L) - log Γ_n(ν/2)
        + (ν - n - 1)/2 log det X - tr(Σ⁻¹ X)/2, tr(Σ⁻¹ X) by ``cholesky_solve``."""
        X = self._value(value, self.df)
        if X.ndim < 2 or X.shape[-2:] != self.event_shape:
            raise ValueError(f"Wishart.log_prob: the value's last two axes must be the event "
                             f"{self.event_shape}, got shape {X.shape}")
        nu, n = self.df, self.event_shape[-1]
        L = self._unbroadcasted_scale_tril
        half_log_det = L.diagonal(0, -2, -1).log().sum(-1)
        batch = tuple(np.broadcast_shapes(X.shape[:-2], L.shape[:-2]))
        trace = linalg.cholesky_solve(X.broadcast_to(batch + X.shape[-2:]),
                                      L.broadcast_to(batch + L.shape[-2:])
                                      ).diagonal(0, -2, -1).sum(-1)
        return (-nu * (n * _LOG_2 / 2 + half_log_det) - (nu / 2).mvlgamma(n)
                + (nu - n - 1) / 2 * linalg.slogdet(X).logabsdet - trace / 2)

    def entropy(self) -> Tensor:
        """See the class."""
        nu, n = self.df, self.event_shape[-1]
        half_log_det = self._unbroadcasted_scale_tril.diagonal(0, -2, -1).log().sum(-1)
        h = ((n + 1) * (n * _LOG_2 / 2 + half_log_det) + (nu / 2).mvlgamma(n)
             - (nu - n - 1) / 2 * _mvdigamma(nu / 2, n) + nu * n / 2)
        return h if h.shape == self.batch_shape else h.broadcast_to(self.batch_shape)

    @property
    def _natural_params(self) -> tuple[Tensor, Tensor]:
        """(-Σ⁻¹/2, (ν - n - 1)/2)."""
        return -self.precision_matrix / 2, (self.df - self.event_shape[-1] - 1) / 2

    def _log_normalizer(self, x: Tensor, y: Tensor) -> Tensor:
        """A(x, y) = (y + (n+1)/2)(n log 2 - log det(-2x)) + log Γ_n(y + (n+1)/2)."""
        n = self.event_shape[-1]
        return ((y + (n + 1) / 2) * (n * _LOG_2 - linalg.slogdet(-2 * x).logabsdet)
                + (y + (n + 1) / 2).mvlgamma(n))
