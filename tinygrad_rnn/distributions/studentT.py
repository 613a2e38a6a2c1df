"""Student's t distribution, as ``torch.distributions.StudentT``."""

from __future__ import annotations

import math
from typing import Any

from .. import random as _random
from ..ops.elementwise import where
from ..tensor import Tensor
from . import constraints
from .chi2 import Chi2
from .distribution import Distribution
from .utils import (
    _drawn,
    _params,
)


class StudentT(Distribution):
    """Student's t with ``df`` degrees of freedom, shifted by ``loc`` and scaled by ``scale``:
    a Normal with heavy tails (robust regression)."""

    has_rsample = True
    arg_constraints = {"df": constraints.positive, "loc": constraints.real,
                       "scale": constraints.positive}
    _batch_params = ("df", "loc", "scale")

    def __init__(self, df: Any, loc: Any = 0.0, scale: Any = 1.0,
                 validate_args: bool | None = None) -> None:
        (self.df, self.loc, self.scale), shape = _params("StudentT", df=df, loc=loc,
                                                         scale=scale)
        super().__init__(shape, validate_args=validate_args)
        self._check("df", self.df, self.df > 0, "positive")
        self._check("loc", self.loc, self.loc == self.loc, "a real number, not NaN")
        self._check("scale", self.scale, self.scale > 0, "positive")

    @property
    def mean(self) -> Tensor:
        """loc, NaN where df <= 1 (no mean)."""
        return where(self.df > 1, self.loc, math.nan)

    @property
    def mode(self) -> Tensor:
        return self.loc

    @property
    def variance(self) -> Tensor:
        """scale² df / (df - 2); inf where 1 < df <= 2, NaN where df <= 1."""
        wide = self.df > 2
        df = where(wide, self.df, 3.0)  # no 0/0 in the branch where() drops, nor its gradient
        undefined = where(self.df > 1, math.inf, math.nan).type_as(self.df)
        return where(wide, self.scale ** 2 * df / (df - 2), undefined)

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        """loc + scale X sqrt(df / Z), X ~ N(0, 1), Z ~ Chi2(df) (PyTorch's construction):
        differentiable in loc, scale and df (through Z, a ``StandardGamma`` draw)."""
        x = _drawn(_random.generator().standard_normal(self._extended_shape(sample_shape)),
                   self.loc)
        z = Chi2(self.df, validate_args=False).rsample(sample_shape)
        return self.loc + self.scale * x * (z / self.df).rsqrt()

    def log_prob(self, value: Any) -> Tensor:
        """-(df + 1)/2 log(1 + y²/df) - log scale - ½ log(df π) - log Γ(df/2) + log Γ((df +
        1)/2), y = (value - loc) / scale."""
        y = (self._value(value, self.loc) - self.loc) / self.scale
        z = self.scale.log() + 0.5 * self.df.log() + 0.5 * math.log(math.pi) \
            + (0.5 * self.df).lgamma() - (0.5 * (self.df + 1.0)).lgamma()
        return -0.5 * (self.df + 1.0) * (y ** 2 / self.df).log1p() - z

    def entropy(self) -> Tensor:
        half, half1 = 0.5 * self.df, 0.5 * (self.df + 1)
        log_beta = half.lgamma() + math.lgamma(0.5) - half1.lgamma()
        return self.scale.log() + half1 * (half1.digamma() - half.digamma()) \
            + 0.5 * self.df.log() + log_beta
