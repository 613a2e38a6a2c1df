"""A distribution pushed through transforms: y = t_n(...t_1(x)), x ~ base, as
``torch.distributions.TransformedDistribution``.

log p(y) = log p_base(x) - Σ_i log |det ∂t_i/∂x_{i-1}| (change of variables), each term
summed over the event axes it does not read itself; samples are the transformed base samples
(``rsample`` where the base has one: gradients reach the base's parameters and the
transforms'); ``cdf`` and ``icdf`` where every transform is monotone (``sign``), through the
base's.
"""

from __future__ import annotations

from typing import Any

from ..autograd import no_grad
from ..tensor import Tensor
from . import constraints
from .distribution import Distribution
from .independent import Independent
from .transforms import ComposeTransform, Transform
from .utils import _as_tensor, _sum_rightmost

__all__ = ["TransformedDistribution"]


def _a_parameter(dist: Any) -> Tensor | None:
    """A floating tensor among ``dist``'s attributes (its base's, recursively): numbers given
    to log_prob take its dtype and device."""
    for v in vars(dist).values():
        if isinstance(v, Tensor) and v.dtype.kind == "f":
            return v
    base = getattr(dist, "base_dist", None)
    return _a_parameter(base) if base is not None else None


class TransformedDistribution(Distribution):
    """``base_distribution`` pushed through ``transforms`` (one Transform or a list, applied in
    order); see the module's docstring."""

    arg_constraints: dict[str, constraints.Constraint] = {}

    def __init__(self, base_distribution: Distribution, transforms: Any,
                 validate_args: bool | None = None) -> None:
        if isinstance(transforms, Transform):
            transforms = [transforms]
        elif not (isinstance(transforms, (list, tuple))
                  and all(isinstance(t, Transform) for t in transforms)):
            raise ValueError("TransformedDistribution: transforms must be a Transform or a "
                             f"list of Transforms, got {transforms!r}")
        self.transforms = list(transforms)
        base_shape = base_distribution.batch_shape + base_distribution.event_shape
        base_event_dim = len(base_distribution.event_shape)
        chain = ComposeTransform(self.transforms)
        if len(base_shape) < chain.domain.event_dim:
            raise ValueError(f"TransformedDistribution: the base distribution's shape "
                             f"{base_shape} has fewer axes than the transforms read "
                             f"({chain.domain.event_dim})")
        forward_shape = chain.forward_shape(base_shape)
        expanded = chain.inverse_shape(forward_shape)
        if expanded != base_shape:  # a transform's parameters broadcast the batch
            base_distribution = base_distribution.expand(
                expanded[:len(expanded) - base_event_dim])
        extra = chain.domain.event_dim - base_event_dim
        if extra > 0:  # the transforms read batch axes of the base as one event
            base_distribution = Independent(base_distribution, extra)
        self.base_dist = base_distribution
        event_dim = max(chain.codomain.event_dim,
                        base_event_dim + chain.codomain.event_dim - chain.domain.event_dim)
        cut = len(forward_shape) - event_dim
        super().__init__(forward_shape[:cut], forward_shape[cut:], validate_args=validate_args)

    @property
    def has_rsample(self) -> bool:  # type: ignore[override]
        return self.base_dist.has_rsample

    @constraints.dependent_property(is_discrete=False)
    def support(self) -> constraints.Constraint:
        if not self.transforms:
            return self.base_dist.support
        support = self.transforms[-1].codomain
        if len(self.event_shape) > support.event_dim:
            support = constraints.independent(support, len(self.event_shape) - support.event_dim)
        return support

    def expand(self, batch_shape: Any) -> TransformedDistribution:
        new = super().expand(batch_shape)
        shape = new.batch_shape + self.event_shape
        for t in reversed(self.transforms):
            shape = t.inverse_shape(shape)
        base_event = len(self.base_dist.event_shape)
        new.base_dist = self.base_dist.expand(shape[:len(shape) - base_event])
        return new

    def sample(self, sample_shape: Any = ()) -> Tensor:
        """The base's sample pushed through the transforms (no gradient)."""
        with no_grad():
            x = self.base_dist.sample(sample_shape)
            for t in self.transforms:
                x = t(x)
            return x

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        """The base's rsample pushed through the transforms: differentiable in the base's
        parameters and the transforms'."""
        x = self.base_dist.rsample(sample_shape)
        for t in self.transforms:
            x = t(x)
        return x

    def _as_value(self, value: Any) -> Tensor:
        return _as_tensor(value, _a_parameter(self))

    def log_prob(self, value: Any) -> Tensor:
        """log p_base(x) - Σ log |det J| along the way back from ``value`` to x."""
        y = self._as_value(value)
        if self._validate_args:
            self._validate_sample(y)
        event_dim = len(self.event_shape)
        log_prob: Any = 0.0
        for t in reversed(self.transforms):
            x = t.inv(y)
            event_dim += t.domain.event_dim - t.codomain.event_dim
            log_prob = log_prob - _sum_rightmost(t.log_abs_det_jacobian(x, y),
                                                 event_dim - t.domain.event_dim)
            y = x
        return log_prob + _sum_rightmost(self.base_dist.log_prob(y),
                                         event_dim - len(self.base_dist.event_shape))

    def _monotone_sign(self, what: str) -> Any:
        sign: Any = 1
        for t in self.transforms:
            try:
                sign = sign * t.sign
            except NotImplementedError:
                raise NotImplementedError(f"{type(self).__name__}.{what}: {t!r} is not a "
                                          f"monotone map of one number") from None
        return sign

    def _monotonize_cdf(self, value: Tensor, what: str) -> Tensor:
        """``value`` (a probability) as the base sees it: 1 - value through a decreasing
        chain."""
        sign = self._monotone_sign(what)
        if isinstance(sign, int) and sign == 1:
            return value
        return sign * (value - 0.5) + 0.5

    def cdf(self, value: Any) -> Tensor:
        self._monotone_sign("cdf")
        y = self._as_value(value)
        if self._validate_args:
            self._validate_sample(y, "cdf")
        for t in reversed(self.transforms):
            y = t.inv(y)
        return self._monotonize_cdf(self.base_dist.cdf(y), "cdf")

    def icdf(self, value: Any) -> Tensor:
        x = self.base_dist.icdf(self._monotonize_cdf(self._as_value(value), "icdf"))
        for t in self.transforms:
            x = t(x)
        return x

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.base_dist!r}, {self.transforms!r})"
