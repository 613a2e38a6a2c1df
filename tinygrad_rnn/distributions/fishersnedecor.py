"""Fisher's F distribution (a ratio of variances), as ``torch.distributions.FisherSnedecor``."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..ops.elementwise import where
from ..tensor import Tensor
from . import constraints
from .distribution import Distribution
from .gamma import Gamma
from .utils import _clamped, _params

__all__ = ["FisherSnedecor"]


class FisherSnedecor(Distribution):
    """(X1 / d1) / (X2 / d2), X_i ~ Chi2(d_i), d1 = ``df1``, d2 = ``df2``: density
    Γ((d1+d2)/2) / (Γ(d1/2) Γ(d2/2)) (d1/d2)^(d1/2) x^(d1/2-1) (1 + d1 x / d2)^(-(d1+d2)/2)."""

    arg_constraints = {"df1": constraints.positive, "df2": constraints.positive}
    support = constraints.positive
    has_rsample = True
    _batch_params = ("df1", "df2")

    def __init__(self, df1: Any, df2: Any, validate_args: bool | None = None) -> None:
        (self.df1, self.df2), shape = _params("FisherSnedecor", df1=df1, df2=df2)
        super().__init__(shape, validate_args=validate_args)
        self._check_args()

    @property
    def mean(self) -> Tensor:
        """d2 / (d2 - 2); NaN where d2 <= 2."""
        ok = self.df2 > 2
        df2 = where(ok, self.df2, 3.0)
        return where(ok, df2 / (df2 - 2), math.nan)

    @property
    def mode(self) -> Tensor:
        """(d1 - 2) / d1 · d2 / (d2 + 2); NaN where d1 <= 2."""
        ok = self.df1 > 2
        df1 = where(ok, self.df1, 3.0)
        return where(ok, (df1 - 2) / df1 * self.df2 / (self.df2 + 2), math.nan)

    @property
    def variance(self) -> Tensor:
        """2 d2² (d1 + d2 - 2) / (d1 (d2 - 2)² (d2 - 4)); NaN where d2 <= 4."""
        ok = self.df2 > 4
        df2 = where(ok, self.df2, 5.0)
        v = 2 * df2.square() * (self.df1 + df2 - 2) / (self.df1 * (df2 - 2).square() * (df2 - 4))
        return where(ok, v, math.nan)

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        """(X1 / d1) / (X2 / d2) of Chi2 draws (``StandardGamma``: differentiable in d1 and
        d2), kept above the dtype's smallest normal number."""
        shape = self._extended_shape(sample_shape)
        half1, half2 = 0.5 * self.df1, 0.5 * self.df2
        x1 = Gamma(half1, half1, validate_args=False).rsample(sample_shape)
        x2 = Gamma(half2, half2, validate_args=False).rsample(sample_shape)
        tiny = float(np.finfo(x1.dtype).tiny)
        ratio = x1 / x2
        return _clamped(ratio if ratio.shape == shape else ratio.broadcast_to(shape), tiny)

    def log_prob(self, value: Any) -> Tensor:
        v = self._value(value, self.df1)
        h1, h2, ratio = self.df1 * 0.5, self.df2 * 0.5, self.df1 / self.df2
        t1 = (h1 + h2).lgamma() - h1.lgamma() - h2.lgamma()
        t2 = h1 * ratio.log() + (h1 - 1) * v.log()
        t3 = (h1 + h2) * (ratio * v).log1p()
        return t1 + t2 - t3
