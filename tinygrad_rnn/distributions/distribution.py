"""The base class of every distribution (shapes, argument and value validation, ``expand``),
as ``torch.distributions.Distribution``; ``_LocScale``, what Normal, Laplace and Cauchy share."""

from __future__ import annotations

import copy
from typing import Any

from ..autograd import no_grad
from ..tensor import Tensor
from . import constraints
from .utils import (
    _as_tensor,
    _params,
    _require,
    _shape,
)


class Distribution:
    """What every distribution here has: ``batch_shape``, ``event_shape``, ``sample``,
    ``log_prob``, ``mean``, ``variance``, ``stddev`` and ``expand``; ``rsample``, ``entropy``,
    ``mode``, ``cdf`` and ``icdf`` where PyTorch's has them (elsewhere they raise
    NotImplementedError)."""

    batch_shape: tuple[int, ...] = ()
    event_shape: tuple[int, ...] = ()
    has_rsample = False
    has_enumerate_support = False
    # each parameter's constraint, and the set log_prob's value lives in (str(support) names
    # it in words in the error a value outside it raises)
    arg_constraints: dict[str, constraints.Constraint] = {}
    support: Any = constraints.real
    _validate_default = True

    def __init__(self, batch_shape: Any = (), event_shape: Any = (),
                 validate_args: bool | None = None) -> None:
        self.batch_shape, self.event_shape = tuple(batch_shape), tuple(event_shape)
        self._validate_args = (Distribution._validate_default if validate_args is None
                               else bool(validate_args))

    @staticmethod
    def set_default_validate_args(value: bool) -> None:
        """Whether distributions made from now on check their parameters and values unless
        told (``validate_args``); True at first, as PyTorch's."""
        Distribution._validate_default = bool(value)

    def _check(self, name: str, value: Tensor, ok: Tensor, constraint: str) -> None:
        if self._validate_args:
            _require(type(self).__name__, name, value, ok, constraint)

    def _check_args(self) -> None:
        """Check each parameter named in ``arg_constraints`` (that this instance has as an
        attribute, and that is not ``dependent``) against its constraint, when validating."""
        if not self._validate_args:
            return
        for name, c in self.arg_constraints.items():
            value = getattr(self, name, None)
            if isinstance(value, Tensor) and not constraints.is_dependent(c):
                _require(type(self).__name__, name, value, c.check(value), c.words)

    def _in_support(self, value: Tensor) -> Tensor | None:
        """Where ``value`` lies in the support (reduced over its event axes): for a real
        support, where it is not NaN, as PyTorch's."""
        return self.support.check(value)

    def _value(self, value: Any, like: Tensor, method: str = "log_prob") -> Tensor:
        """``value`` as a tensor, checked against the support (when validating)."""
        v = _as_tensor(value, like)
        if self._validate_args:
            self._validate_sample(v, method)
        return v

    def _validate_sample(self, value: Tensor, method: str = "log_prob") -> None:
        """Raise a ValueError unless ``value`` lies in the support."""
        ok = self._in_support(value)
        if ok is not None:  # (axes for the event, over which the check reduced)
            ok = ok.reshape(ok.shape + (1,) * self.support.event_dim)
            _require(f"{type(self).__name__}.{method}", "the value", value, ok,
                     f"in the support ({self.support})")

    def enumerate_support(self, expand: bool = True) -> Tensor:
        raise self._missing("enumerate_support")

    def perplexity(self) -> Tensor:
        """exp(entropy)."""
        return self.entropy().exp()

    def sample_n(self, n: int) -> Tensor:
        """``sample((n,))`` (PyTorch's older spelling)."""
        return self.sample((n,))

    def _extended_shape(self, sample_shape: Any = ()) -> tuple[int, ...]:
        return _shape(sample_shape) + self.batch_shape + self.event_shape

    def _missing(self, what: str, why: str = "") -> NotImplementedError:
        return NotImplementedError(f"{type(self).__name__}.{what} is not implemented"
                                   f"{why or ', as in torch.distributions'}")

    @property
    def mean(self) -> Tensor:
        raise self._missing("mean")

    @property
    def mode(self) -> Tensor:
        raise self._missing("mode")

    @property
    def variance(self) -> Tensor:
        raise self._missing("variance")

    @property
    def stddev(self) -> Tensor:
        return self.variance.sqrt()

    def sample(self, sample_shape: Any = ()) -> Tensor:
        """``rsample`` without a gradient."""
        with no_grad():
            return self.rsample(sample_shape)

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        raise self._missing("rsample", " (no reparameterised sample here): use sample()")

    def log_prob(self, value: Any) -> Tensor:
        raise self._missing("log_prob")

    def entropy(self) -> Tensor:
        raise self._missing("entropy")

    def cdf(self, value: Any) -> Tensor:
        raise self._missing("cdf")

    def icdf(self, value: Any) -> Tensor:
        raise self._missing("icdf")

    # the parameters, each of shape batch_shape + its own trailing axes (the event's, a
    # Categorical's categories), that ``expand`` broadcasts
    _batch_params: tuple[str, ...] = ()

    def expand(self, batch_shape: Any) -> Distribution:
        """This distribution with its parameters broadcast to ``batch_shape`` (+ their event
        axes), as ``torch.distributions``' ``expand``: axes of size 1 grow and new ones go in
        front; the parameters are broadcast views, through which gradients reach the original
        ones, and are not checked again."""
        new_shape = _shape(batch_shape)
        old = self.batch_shape
        if len(new_shape) < len(old) or any(
                o not in (1, n) for o, n in zip(old[::-1], new_shape[::-1])):
            raise ValueError(f"{type(self).__name__}.expand: batch_shape {old} cannot be "
                             f"expanded to {new_shape} (each axis must stay or grow from 1, "
                             f"new axes go in front)")
        new = copy.copy(self)
        new.batch_shape = new_shape
        for name in self._batch_params:
            t = getattr(self, name)
            shape = new_shape + t.shape[len(old):]
            setattr(new, name, t if t.shape == shape else t.broadcast_to(shape))
        return new

    def __repr__(self) -> str:
        event = f", event_shape={self.event_shape}" if self.event_shape else ""
        return f"{type(self).__name__}(batch_shape={self.batch_shape}{event})"


_from_loc = property(lambda self: self.loc, doc="loc")


class _LocScale(Distribution):
    """A location-scale family, element by element (``loc`` and ``scale`` broadcast
    together): its mean and mode are loc."""

    has_rsample = True
    _batch_params = ("loc", "scale")

    def __init__(self, loc: Any, scale: Any, validate_args: bool | None = None) -> None:
        (self.loc, self.scale), shape = _params(type(self).__name__, loc=loc, scale=scale)
        super().__init__(shape, validate_args=validate_args)
        self._check("loc", self.loc, self.loc == self.loc, "a real number, not NaN")
        self._check("scale", self.scale, self.scale > 0, "positive")

    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    mean = mode = _from_loc  # (a symmetric, unimodal family: both are loc)
