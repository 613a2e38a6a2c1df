"""From the real numbers onto a constraint: ``biject_to(c)`` and ``transform_to(c)``, as
``torch.distributions.constraint_registry``.

``biject_to(c)`` is a bijective Transform from unconstrained reals onto ``c`` (what a sampler
that moves in R^n needs, with its log-Jacobian); ``transform_to(c)`` any transform onto ``c``
(what an optimiser needs: ``p = transform_to(positive)(raw)`` keeps p positive while raw moves
freely). Both are registries: ``biject_to.register(MyConstraintClass, factory)``.

    real                                   identity_transform
    positive, nonnegative                  ExpTransform
    greater_than(a), greater_than_eq(a)    e^x + a
    less_than(b)                           b - e^x
    interval(a, b), half_open_interval     sigmoid, scaled to [a, b]
    simplex                                StickBreakingTransform (biject_to), SoftmaxTransform
    lower_cholesky                         LowerCholeskyTransform (transform_to)
    positive_definite, _semidefinite       PositiveDefiniteTransform (transform_to)
    corr_cholesky                          CorrCholeskyTransform
    independent(c, n), cat, stack          made from their parts'
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..tensor import Tensor
from . import constraints
from . import transforms as T

__all__ = ["ConstraintRegistry", "biject_to", "transform_to"]

Factory = Callable[[Any], T.Transform]


class ConstraintRegistry:
    """Constraint classes (or instances, meaning their class) mapped to factories that take a
    constraint object and return a Transform onto it."""

    def __init__(self) -> None:
        self._registry: dict[type, Factory] = {}

    def register(self, constraint: Any, factory: Factory | None = None) -> Any:
        """Register ``factory`` for ``constraint``'s class; as a decorator without factory."""
        if factory is None:
            return lambda f: self.register(constraint, f)
        if isinstance(constraint, constraints.Constraint):
            constraint = type(constraint)
        if not (isinstance(constraint, type) and issubclass(constraint, constraints.Constraint)):
            raise TypeError(f"register: expected a Constraint subclass or object, got "
                            f"{constraint!r}")
        self._registry[constraint] = factory
        return factory

    def __call__(self, constraint: constraints.Constraint) -> T.Transform:
        for cls in type(constraint).__mro__:
            factory = self._registry.get(cls)
            if factory is not None:
                return factory(constraint)
        raise NotImplementedError(f"no transform onto {type(constraint).__name__} "
                                  f"({constraint}) is registered")


biject_to = ConstraintRegistry()
transform_to = ConstraintRegistry()


def _is_number(x: Any, value: float) -> bool:
    return not isinstance(x, Tensor) and x == value


@biject_to.register(constraints._Real)
@transform_to.register(constraints._Real)
def _to_real(constraint: Any) -> T.Transform:
    return T.identity_transform


@biject_to.register(constraints._IndependentConstraint)
def _biject_to_independent(constraint: Any) -> T.Transform:
    return T.IndependentTransform(biject_to(constraint.base_constraint),
                                  constraint.reinterpreted_batch_ndims)


@transform_to.register(constraints._IndependentConstraint)
def _transform_to_independent(constraint: Any) -> T.Transform:
    return T.IndependentTransform(transform_to(constraint.base_constraint),
                                  constraint.reinterpreted_batch_ndims)


@biject_to.register(constraints._GreaterThan)
@biject_to.register(constraints._GreaterThanEq)
@transform_to.register(constraints._GreaterThan)
@transform_to.register(constraints._GreaterThanEq)
def _to_greater_than(constraint: Any) -> T.Transform:
    if _is_number(constraint.lower_bound, 0):
        return T.ExpTransform()
    return T.ComposeTransform([T.ExpTransform(), T.AffineTransform(constraint.lower_bound, 1)])


@biject_to.register(constraints._LessThan)
@transform_to.register(constraints._LessThan)
def _to_less_than(constraint: Any) -> T.Transform:
    return T.ComposeTransform([T.ExpTransform(), T.AffineTransform(constraint.upper_bound, -1)])


@biject_to.register(constraints._Interval)
@transform_to.register(constraints._Interval)
def _to_interval(constraint: Any) -> T.Transform:
    lo, hi = constraint.lower_bound, constraint.upper_bound
    if _is_number(lo, 0) and _is_number(hi, 1):
        return T.SigmoidTransform()
    return T.ComposeTransform([T.SigmoidTransform(), T.AffineTransform(lo, hi - lo)])


@biject_to.register(constraints._Simplex)
def _biject_to_simplex(constraint: Any) -> T.Transform:
    return T.StickBreakingTransform()


@transform_to.register(constraints._Simplex)
def _transform_to_simplex(constraint: Any) -> T.Transform:
    return T.SoftmaxTransform()


@transform_to.register(constraints._LowerCholesky)
def _transform_to_lower_cholesky(constraint: Any) -> T.Transform:
    return T.LowerCholeskyTransform()


@transform_to.register(constraints._PositiveDefinite)
@transform_to.register(constraints._PositiveSemidefinite)
def _transform_to_positive_definite(constraint: Any) -> T.Transform:
    return T.PositiveDefiniteTransform()


@biject_to.register(constraints._CorrCholesky)
@transform_to.register(constraints._CorrCholesky)
def _to_corr_cholesky(constraint: Any) -> T.Transform:
    return T.CorrCholeskyTransform()


@biject_to.register(constraints._Cat)
def _biject_to_cat(constraint: Any) -> T.Transform:
    return T.CatTransform([biject_to(c) for c in constraint.cseq], constraint.dim,
                          constraint.lengths)


@transform_to.register(constraints._Cat)
def _transform_to_cat(constraint: Any) -> T.Transform:
    return T.CatTransform([transform_to(c) for c in constraint.cseq], constraint.dim,
                          constraint.lengths)


@biject_to.register(constraints._Stack)
def _biject_to_stack(constraint: Any) -> T.Transform:
    return T.StackTransform([biject_to(c) for c in constraint.cseq], constraint.dim)


@transform_to.register(constraints._Stack)
def _transform_to_stack(constraint: Any) -> T.Transform:
    return T.StackTransform([transform_to(c) for c in constraint.cseq], constraint.dim)
