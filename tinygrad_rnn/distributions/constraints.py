"""Constraints: the sets a distribution's parameters and values live in, as
``torch.distributions.constraints``.

A constraint's ``check(value)`` is a boolean tensor, True where ``value`` lies in the set; it
reduces over the constraint's ``event_dim`` rightmost axes (a simplex is a property of a whole
vector, so ``simplex.check`` of a (B, K) tensor has shape (B,)). ``is_discrete`` says whether
the set is countable. ``str(c)`` names the set in words for error messages ("the positive
numbers"), ``c.words`` completes "must be ..." ("positive"); ``repr(c)`` is PyTorch's
(``GreaterThan(lower_bound=0.0)``).

    real  real_vector  positive  nonnegative  unit_interval  boolean  nonnegative_integer
    positive_integer  simplex  one_hot  lower_triangular  lower_cholesky  corr_cholesky
    square  symmetric  positive_semidefinite  positive_definite          (instances)
    greater_than(a)  greater_than_eq(a)  less_than(b)  interval(a, b)  half_open_interval(a, b)
    integer_interval(a, b)  multinomial(n)  independent(c, n)  cat(cs, dim, lengths)
    stack(cs, dim)  dependent  dependent_property  is_dependent       (made from arguments)

``biject_to`` and ``transform_to`` (``constraint_registry``) map each to a transform from the
real numbers onto it: how an optimiser keeps a parameter inside its constraint.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..ops.movement import cat as cat_tensors
from ..ops.movement import stack as stack_tensors
from ..tensor import Tensor, tensor

__all__ = [
    "Constraint", "MixtureSameFamilyConstraint", "boolean", "cat", "corr_cholesky", "dependent",
    "dependent_property", "greater_than", "greater_than_eq", "half_open_interval",
    "independent", "integer_interval", "interval", "is_dependent", "less_than",
    "lower_cholesky", "lower_triangular", "multinomial", "nonnegative", "nonnegative_integer",
    "one_hot", "positive", "positive_definite", "positive_integer", "positive_semidefinite",
    "real", "real_vector", "simplex", "square", "stack", "symmetric", "unit_interval",
]


def _fmt(bound: Any) -> str:
    """A bound in words: a number as it reads (0, not 0.0), a tensor of several as "its
    bound"."""
    if isinstance(bound, Tensor):
        if bound.ndim:
            return "its bound"
        bound = bound.item()
    return f"{bound:g}" if isinstance(bound, float) else str(bound)


def _all_last(ok: Tensor, n: int) -> Tensor:
    """``ok`` reduced by "all" over its ``n`` rightmost axes."""
    for _ in range(n):
        ok = ok.all(-1)
    return ok


class Constraint:
    """A set of values: ``check(value)`` is True where value is in it (reduced over the
    ``event_dim`` rightmost axes); ``is_discrete`` says whether it is countable."""

    is_discrete = False
    event_dim = 0
    words = "valid"          # "must be ..." in an error message
    noun = "the valid values"  # str(constraint): the set named in words

    def check(self, value: Tensor) -> Tensor:
        raise NotImplementedError

    def __str__(self) -> str:
        return self.noun

    def __repr__(self) -> str:
        return type(self).__name__.lstrip("_") + "()"


class _Dependent(Constraint):
    """A placeholder for a set that depends on other parameters (PyTorch's
    ``constraints.dependent``): it cannot be checked."""

    noun = words = "dependent on the other parameters"

    def __init__(self, *, is_discrete: bool = False, event_dim: int = 0) -> None:
        self.is_discrete, self.event_dim = is_discrete, event_dim

    def __call__(self, *, is_discrete: bool | None = None,
                 event_dim: int | None = None) -> _Dependent:
        return _Dependent(is_discrete=self.is_discrete if is_discrete is None else is_discrete,
                          event_dim=self.event_dim if event_dim is None else event_dim)

    def check(self, value: Tensor) -> Tensor:
        raise ValueError("a dependent constraint cannot be checked: it depends on the "
                         "distribution's other parameters")


def is_dependent(constraint: Any) -> bool:
    """Whether ``constraint`` is ``dependent`` (or a ``dependent_property``)."""
    return isinstance(constraint, _Dependent)


class dependent_property(property, _Dependent):  # noqa: N801 (PyTorch's name)
    """A property of a distribution whose value is a constraint made from its parameters
    (``Uniform.support`` is ``interval(low, high)``); on the class it is ``dependent``."""

    def __init__(self, fn: Callable[[Any], Constraint] | None = None, *,
                 is_discrete: bool = False, event_dim: int = 0) -> None:
        property.__init__(self, fn)
        _Dependent.__init__(self, is_discrete=is_discrete, event_dim=event_dim)

    def __call__(self, fn: Callable[[Any], Constraint]) -> dependent_property:  # type: ignore
        return dependent_property(fn, is_discrete=self.is_discrete, event_dim=self.event_dim)


class _IndependentConstraint(Constraint):
    """``base_constraint`` with its ``reinterpreted_batch_ndims`` rightmost axes read as one
    event: true where it holds on all of them."""

    def __init__(self, base_constraint: Constraint, reinterpreted_batch_ndims: int) -> None:
        if not isinstance(base_constraint, Constraint):
            raise TypeError(f"independent: base_constraint must be a Constraint, got "
                            f"{type(base_constraint).__name__}")
        if not isinstance(reinterpreted_batch_ndims, int) or reinterpreted_batch_ndims < 0:
            raise ValueError(f"independent: reinterpreted_batch_ndims must be an int >= 0, got "
                             f"{reinterpreted_batch_ndims!r}")
        self.base_constraint = base_constraint
        self.reinterpreted_batch_ndims = reinterpreted_batch_ndims

    @property
    def is_discrete(self) -> bool:  # type: ignore[override]
        return self.base_constraint.is_discrete

    @property
    def event_dim(self) -> int:  # type: ignore[override]
        return self.base_constraint.event_dim + self.reinterpreted_batch_ndims

    @property
    def words(self) -> str:  # type: ignore[override]
        return self.base_constraint.words

    @property
    def noun(self) -> str:  # type: ignore[override]
        return self.base_constraint.noun

    def check(self, value: Tensor) -> Tensor:
        if value.ndim < self.event_dim:
            raise ValueError(f"independent: a value of {value.ndim} axes cannot be checked "
                             f"against a constraint of event_dim {self.event_dim}")
        return _all_last(self.base_constraint.check(value), self.reinterpreted_batch_ndims)

    def __repr__(self) -> str:
        return f"IndependentConstraint({self.base_constraint!r}, " \
               f"{self.reinterpreted_batch_ndims})"


class MixtureSameFamilyConstraint(Constraint):
    """A mixture's support: its components' constraint, checked on a value that lacks the
    components' axis."""

    def __init__(self, base_constraint: Constraint) -> None:
        self.base_constraint = base_constraint

    is_discrete = property(lambda self: self.base_constraint.is_discrete)  # type: ignore
    event_dim = property(lambda self: self.base_constraint.event_dim)  # type: ignore
    words = property(lambda self: self.base_constraint.words)  # type: ignore
    noun = property(lambda self: self.base_constraint.noun)  # type: ignore

    def check(self, value: Tensor) -> Tensor:
        return self.base_constraint.check(value)

    def __repr__(self) -> str:
        return f"MixtureSameFamilyConstraint({self.base_constraint!r})"


class _Boolean(Constraint):
    is_discrete = True
    words, noun = "0 or 1", "0 or 1"

    def check(self, value: Tensor) -> Tensor:
        return (value == 0) | (value == 1)


class _OneHot(Constraint):
    is_discrete = True
    event_dim = 1
    words = noun = "one-hot vectors (0s and one 1 along the last axis)"

    def check(self, value: Tensor) -> Tensor:
        return ((value == 0) | (value == 1)).all(-1) & (value.sum(-1) == 1)


def _is_integer(value: Tensor) -> Tensor:
    return value == value.floor()


class _IntegerInterval(Constraint):
    is_discrete = True

    def __init__(self, lower_bound: Any, upper_bound: Any) -> None:
        self.lower_bound, self.upper_bound = lower_bound, upper_bound
        self.words = f"an integer in {_fmt(lower_bound)}..{_fmt(upper_bound)}"
        self.noun = f"the integers {_fmt(lower_bound)}..{_fmt(upper_bound)}"

    def check(self, value: Tensor) -> Tensor:
        return _is_integer(value) & (value >= self.lower_bound) & (value <= self.upper_bound)

    def __repr__(self) -> str:
        return f"IntegerInterval(lower_bound={self.lower_bound}, upper_bound={self.upper_bound})"


class _IntegerGreaterThan(Constraint):
    is_discrete = True

    def __init__(self, lower_bound: Any) -> None:
        self.lower_bound = lower_bound
        kind = {0: "nonnegative", 1: "positive"}.get(lower_bound)
        self.words = f"a {kind} integer" if kind else f"an integer >= {_fmt(lower_bound)}"
        self.noun = f"the {kind} integers" if kind else f"the integers >= {_fmt(lower_bound)}"

    def check(self, value: Tensor) -> Tensor:
        return _is_integer(value) & (value >= self.lower_bound)

    def __repr__(self) -> str:
        return f"IntegerGreaterThan(lower_bound={self.lower_bound})"


class _Real(Constraint):
    words, noun = "a real number, not NaN", "the real numbers"

    def check(self, value: Tensor) -> Tensor:
        return value == value  # False at NaN only


class _GreaterThan(Constraint):
    def __init__(self, lower_bound: Any) -> None:
        self.lower_bound = lower_bound
        zero = not isinstance(lower_bound, Tensor) and lower_bound == 0
        self.words = "positive" if zero else f"greater than {_fmt(lower_bound)}"
        self.noun = "the positive numbers" if zero else f"({_fmt(lower_bound)}, inf)"

    def check(self, value: Tensor) -> Tensor:
        return value > self.lower_bound

    def __repr__(self) -> str:
        return f"GreaterThan(lower_bound={self.lower_bound})"


class _GreaterThanEq(Constraint):
    def __init__(self, lower_bound: Any) -> None:
        self.lower_bound = lower_bound
        zero = not isinstance(lower_bound, Tensor) and lower_bound == 0
        self.words = "nonnegative" if zero else f"at least {_fmt(lower_bound)}"
        self.noun = "the nonnegative numbers" if zero else f"[{_fmt(lower_bound)}, inf)"

    def check(self, value: Tensor) -> Tensor:
        return value >= self.lower_bound

    def __repr__(self) -> str:
        return f"GreaterThanEq(lower_bound={self.lower_bound})"


class _LessThan(Constraint):
    def __init__(self, upper_bound: Any) -> None:
        self.upper_bound = upper_bound
        self.words = f"less than {_fmt(upper_bound)}"
        self.noun = f"(-inf, {_fmt(upper_bound)})"

    def check(self, value: Tensor) -> Tensor:
        return value < self.upper_bound

    def __repr__(self) -> str:
        return f"LessThan(upper_bound={self.upper_bound})"


class _Interval(Constraint):
    def __init__(self, lower_bound: Any, upper_bound: Any) -> None:
        self.lower_bound, self.upper_bound = lower_bound, upper_bound
        self.noun = f"[{_fmt(lower_bound)}, {_fmt(upper_bound)}]"
        self.words = f"in {self.noun}"

    def check(self, value: Tensor) -> Tensor:
        return (value >= self.lower_bound) & (value <= self.upper_bound)

    def __repr__(self) -> str:
        return f"Interval(lower_bound={self.lower_bound}, upper_bound={self.upper_bound})"


class _HalfOpenInterval(_Interval):
    def __init__(self, lower_bound: Any, upper_bound: Any) -> None:
        super().__init__(lower_bound, upper_bound)
        self.noun = f"[{_fmt(lower_bound)}, {_fmt(upper_bound)})"
        self.words = f"in {self.noun}"

    def check(self, value: Tensor) -> Tensor:
        return (value >= self.lower_bound) & (value < self.upper_bound)

    def __repr__(self) -> str:
        return f"HalfOpenInterval(lower_bound={self.lower_bound}, " \
               f"upper_bound={self.upper_bound})"


class _Simplex(Constraint):
    event_dim = 1
    noun = "the simplex: nonnegative, summing to 1 over the last axis"
    words = "on the simplex (nonnegative, summing to 1 over the last axis)"

    def check(self, value: Tensor) -> Tensor:
        # (PyTorch's tolerance on the sum)
        return (value >= 0).all(-1) & ((value.sum(-1) - 1).abs() < 1e-6)


class _Multinomial(Constraint):
    """Nonnegative integer counts whose sum is at most ``upper_bound`` (the last axis)."""

    is_discrete = True
    event_dim = 1

    def __init__(self, upper_bound: Any) -> None:
        self.upper_bound = upper_bound
        self.noun = f"nonnegative counts summing to at most {_fmt(upper_bound)}"
        self.words = self.noun

    def check(self, value: Tensor) -> Tensor:
        return (value >= 0).all(-1) & (value.sum(-1) <= self.upper_bound)


class _LowerTriangular(Constraint):
    event_dim = 2
    noun = words = "lower-triangular matrices"

    def check(self, value: Tensor) -> Tensor:
        return _all_last(value.tril() == value, 2)


class _LowerCholesky(Constraint):
    event_dim = 2
    noun = words = "lower-triangular matrices with a positive diagonal"

    def check(self, value: Tensor) -> Tensor:
        return _all_last(value.tril() == value, 2) & (value.diagonal(0, -2, -1) > 0).all(-1)


class _CorrCholesky(Constraint):
    event_dim = 2
    noun = words = "Cholesky factors of correlation matrices (lower-triangular, positive " \
                   "diagonal, rows of unit norm)"

    def check(self, value: Tensor) -> Tensor:
        tol = 10 * float(np.finfo(value.dtype).eps) * value.shape[-1]
        unit = ((value ** 2).sum(-1).sqrt() - 1).abs() <= tol
        return _LowerCholesky().check(value) & unit.all(-1)


class _Square(Constraint):
    event_dim = 2
    noun = words = "square matrices"

    def check(self, value: Tensor) -> Tensor:
        ok = value.shape[-2] == value.shape[-1]
        return _host_bool(np.full(value.shape[:-2], ok), value)


class _Symmetric(_Square):
    noun = words = "symmetric matrices"

    def check(self, value: Tensor) -> Tensor:
        if value.shape[-2] != value.shape[-1]:
            return _host_bool(np.full(value.shape[:-2], False), value)
        close = (value - value.mT).abs() <= 1e-6 + 1e-5 * value.mT.abs()
        return _all_last(close, 2)


class _PositiveSemidefinite(_Symmetric):
    noun = words = "positive-semidefinite matrices"

    def check(self, value: Tensor) -> Tensor:
        sym = super().check(value)
        if not bool(sym.all()):
            return sym
        eig = np.linalg.eigvalsh(value.detach().numpy())
        return _host_bool((eig >= 0).all(-1), value)


class _PositiveDefinite(_Symmetric):
    noun = words = "positive-definite matrices"

    def check(self, value: Tensor) -> Tensor:
        sym = super().check(value)
        if not bool(sym.all()):
            return sym
        a = value.detach().numpy()
        ok = np.empty(a.shape[:-2], dtype=bool)
        for idx in np.ndindex(*a.shape[:-2]):  # one factorisation per matrix: which fail
            try:
                np.linalg.cholesky(a[idx])
                ok[idx] = True
            except np.linalg.LinAlgError:
                ok[idx] = False
        return _host_bool(ok, value)


def _host_bool(ok: np.ndarray, like: Tensor) -> Tensor:
    return tensor(np.asarray(ok, dtype=bool), device=like.device)


class _Cat(Constraint):
    """Constraints ``cseq`` applied to consecutive slices (of ``lengths``, 1 each by default)
    of axis ``dim``: as ``torch.cat`` joins the pieces."""

    def __init__(self, cseq: Sequence[Constraint], dim: int = 0,
                 lengths: Sequence[int] | None = None) -> None:
        self.cseq = list(cseq)
        self.lengths = [1] * len(self.cseq) if lengths is None else list(lengths)
        if len(self.lengths) != len(self.cseq):
            raise ValueError(f"cat: {len(self.cseq)} constraints but {len(self.lengths)} "
                             f"lengths")
        self.dim = dim
        self.noun = self.words = "pieces each in its own constraint"

    is_discrete = property(lambda self: any(c.is_discrete for c in self.cseq))  # type: ignore
    event_dim = property(lambda self: max(c.event_dim for c in self.cseq))  # type: ignore

    def check(self, value: Tensor) -> Tensor:
        checks, start = [], 0
        for c, n in zip(self.cseq, self.lengths):
            checks.append(c.check(value.narrow(self.dim, start, n)))
            start += n
        return cat_tensors(checks, self.dim)


class _Stack(Constraint):
    """Constraints ``cseq`` applied to the slices of axis ``dim`` (as ``torch.stack`` made
    them)."""

    def __init__(self, cseq: Sequence[Constraint], dim: int = 0) -> None:
        self.cseq, self.dim = list(cseq), dim
        self.noun = self.words = "slices each in its own constraint"

    is_discrete = property(lambda self: any(c.is_discrete for c in self.cseq))  # type: ignore

    @property
    def event_dim(self) -> int:  # type: ignore[override]
        dim = max(c.event_dim for c in self.cseq)
        return dim + 1 if self.dim + dim < 0 else dim

    def check(self, value: Tensor) -> Tensor:
        if value.shape[self.dim] != len(self.cseq):
            raise ValueError(f"stack: the value has {value.shape[self.dim]} slices along axis "
                             f"{self.dim}, the constraint {len(self.cseq)}")
        return stack_tensors([c.check(value.select(self.dim, i)) for i, c in enumerate(self.cseq)],
                      self.dim)


dependent = _Dependent()
independent = _IndependentConstraint
boolean = _Boolean()
one_hot = _OneHot()
nonnegative_integer = _IntegerGreaterThan(0)
positive_integer = _IntegerGreaterThan(1)
integer_interval = _IntegerInterval
real = _Real()
real_vector = independent(real, 1)
positive = _GreaterThan(0.0)
nonnegative = _GreaterThanEq(0.0)
greater_than = _GreaterThan
greater_than_eq = _GreaterThanEq
less_than = _LessThan
multinomial = _Multinomial
unit_interval = _Interval(0.0, 1.0)
interval = _Interval
half_open_interval = _HalfOpenInterval
simplex = _Simplex()
lower_triangular = _LowerTriangular()
lower_cholesky = _LowerCholesky()
corr_cholesky = _CorrCholesky()
square = _Square()
symmetric = _Symmetric()
positive_semidefinite = _PositiveSemidefinite()
positive_definite = _PositiveDefinite()
cat = _Cat
stack = _Stack
