"""The chi-squared distribution, Gamma(df/2, 1/2), as ``torch.distributions.Chi2``."""

from __future__ import annotations

from typing import Any

from ..tensor import Tensor
from . import constraints
from .distribution import Distribution
from .gamma import Gamma
from .utils import (
    _params,
)


class Chi2(Gamma):
    """The chi-squared distribution of ``df`` degrees of freedom, Gamma(df/2, rate 1/2): the
    sum of df squared standard normals."""

    arg_constraints = {"df": constraints.positive}

    def __init__(self, df: Any, validate_args: bool | None = None) -> None:
        (df,), _ = _params("Chi2", df=df)
        super().__init__(0.5 * df, 0.5, validate_args=False)
        self._validate_args = (Distribution._validate_default if validate_args is None
                               else bool(validate_args))
        self._check("df", df, df > 0, "positive")

    @property
    def df(self) -> Tensor:
        return self.concentration * 2
