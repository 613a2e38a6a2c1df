"""Forward-mode automatic differentiation, as ``torch.autograd.forward_ad``.

Reverse mode (``backward``) runs the graph backwards once per *output*: it gives a row of the
Jacobian, vᵀJ, for all inputs at once. Forward mode carries, beside each value, its *tangent*
(its derivative along one direction v of the inputs) through every op as the op runs: it gives
a column, J·v, for all outputs at once, with no graph kept. One input direction and many
outputs: forward wins; one output (a loss) and many inputs: reverse wins.

    with fwAD.dual_level():
        x = fwAD.make_dual(x0, v)            # x0, with tangent v
        y = f(x)                             # every op also computes its output's tangent
        value, jvp = fwAD.unpack_dual(y)     # jvp = J(x0) · v

How an op's tangent is computed (``propagate``, called by ``Function.apply`` after each op
while a level is active; nothing happens outside one):

1. the op's own rule, ``jvp(*tangents)`` (elementwise maths, matmul, the fused recurrent ops
   through their composed replay);
2. a linear op (``linear = True``: add, reshape, indexing, sum, ...) is its own Jacobian:
   J·v = op(v);
3. any other op: the double-vjp trick (``double_vjp``). Its backward computes
   vjp(u) = Jᵀu, which is linear in u; so <Jᵀu, v> = <u, J v>, and its gradient with
   respect to u is J·v. The backward is run on a u that requires grad, recorded
   (``create_graph``'s machinery), and differentiated once more. Right for every op whose
   backward is differentiable; an op whose backward is array code only is refused, naming
   it, rather than given a wrong tangent.

Tangents are arrays kept on the tensor (its ``_fw`` slot, with the level's serial number), so
they are constants to ``backward``: forward-over-reverse works (a dual input to
``tr.grad(..., create_graph=True)`` gives Hessian-vector products), reverse-over-forward does
not. As in PyTorch: one level at a time (nesting is refused); tangents flow under
``no_grad`` too; ``detach()`` drops the tangent; leaving the level drops every tangent made in
it. Real floating-point tensors only.
"""

from __future__ import annotations

import contextlib
import weakref
from collections.abc import Iterator
from typing import Any, NamedTuple

from . import autograd
from .autograd import _DUAL, _HOOKS, _set_grad_enabled
from .backend import device_of
from .tensor import Function, Tensor

__all__ = ["UnpackedDualTensor", "dual_level", "enter_dual_level", "exit_dual_level",
           "make_dual", "unpack_dual"]


class UnpackedDualTensor(NamedTuple):
    """What ``unpack_dual`` returns: the primal (a view of the values) and the tangent (None
    where the tensor has none in this level)."""

    primal: Tensor
    tangent: Tensor | None


def enter_dual_level() -> int:
    """Start a forward-AD level and return its number (0: only one may be active, as in
    PyTorch's eager mode)."""
    if _DUAL.level is not None:
        raise RuntimeError("Nested forward mode AD is not supported at the moment")
    _DUAL.serial += 1
    _DUAL.level = _DUAL.serial
    _HOOKS.active = True  # Function.apply's switch: it now calls propagate after each op
    return 0


def exit_dual_level(*, level: int | None = None) -> None:
    """Leave the active level: every tangent made in it is dropped."""
    if _DUAL.level is None:
        raise RuntimeError("exit_dual_level: no forward AD level is active (enter one with "
                           "enter_dual_level() or dual_level())")
    if level is not None and level != 0:
        raise RuntimeError("Trying to exit a forward AD level that was not the last one "
                           "that was created. This is not supported.")
    for ref in _DUAL.duals:
        t = ref()
        if t is not None:
            t._fw = None
    _DUAL.duals, _DUAL.level = [], None
    _HOOKS.active = bool(_HOOKS.listeners)


class dual_level:  # noqa: N801 (PyTorch's name)
    """``with dual_level():`` enters a forward-AD level and leaves it at the end (its tangents
    dropped), as PyTorch's; ``as`` gives the level's number. Also a decorator."""

    def __enter__(self) -> int:
        return enter_dual_level()

    def __exit__(self, *exc: Any) -> None:
        exit_dual_level()

    def __call__(self, fn: Any) -> Any:
        import functools

        @functools.wraps(fn)
        def inside(*args: Any, **kwargs: Any) -> Any:
            with dual_level():
                return fn(*args, **kwargs)

        return inside


def _level(level: int | None, what: str) -> int | None:
    """The active level's serial number for ``level`` (None: the active one, if any)."""
    if level is not None and (level != 0 or _DUAL.level is None):
        raise RuntimeError(f"{what}: forward AD level {level} is not active (only level 0, "
                           "while a dual_level() block runs)")
    return _DUAL.level


def make_dual(tensor: Tensor, tangent: Tensor, *, level: int | None = None) -> Tensor:
    """A view of ``tensor`` that carries ``tangent`` (same shape; cast to its dtype) in the
    active level: the ops applied to it carry J·tangent along. Differentiable in reverse mode
    too (the view passes gradients back to ``tensor``), as PyTorch's."""
    serial = _level(level, "make_dual")
    if serial is None:
        raise RuntimeError("Trying to create a dual Tensor for forward AD but no level exists, "
                           "make sure to enter_dual_level() first.")
    for name, t in (("tensor", tensor), ("tangent", tangent)):
        if not isinstance(t, Tensor):
            raise TypeError(f"make_dual: {name} must be a Tensor, got {type(t).__name__}")
    for name, t in (("primal", tensor), ("tangent", tangent)):
        if t.dtype.kind != "f":
            raise ValueError(f"Expected {name} to be floating point, but got: {t.dtype}"
                             + (" (complex forward AD is not supported here)"
                                if t.dtype.kind == "c" else ""))
    if tangent.shape != tensor.shape:
        raise RuntimeError(
            "Trying to set a forward gradient that has a different size than that of the "
            f"original Tensor, this is not supported. Tensor is of size {list(tensor.shape)} "
            f"while the given forward gradient is of size {list(tangent.shape)}.")
    if tangent._dev is not tensor._dev:
        raise RuntimeError(f"make_dual: the tangent is on {tangent.device!r} and the tensor on "
                           f"{tensor.device!r}; move one with .to(device)")
    out = tensor.view(tensor.shape)
    t = tangent._data
    _give(out, serial, t if t.dtype == tensor.dtype else t.astype(tensor.dtype))
    return out


def unpack_dual(tensor: Tensor, *, level: int | None = None) -> UnpackedDualTensor:
    """``(primal, tangent)``: a view of ``tensor``'s values without the tangent
    (differentiable in reverse mode), and its tangent in the active level (None if it has
    none, or outside a level, where the primal is ``tensor`` itself), as PyTorch's."""
    serial = _level(level, "unpack_dual")
    if serial is None:
        return UnpackedDualTensor(tensor, None)
    t = _tangent(tensor, serial)
    primal = tensor.view(tensor.shape)
    primal._fw = None
    return UnpackedDualTensor(primal, None if t is None else Tensor._wrap(t, tensor._dev))


def _tangent(t: Tensor, serial: int | None) -> Any:
    """``t``'s tangent array in the level ``serial``, or None."""
    fw = getattr(t, "_fw", None)
    return fw[1] if fw is not None and fw[0] == serial else None


def _give(t: Tensor, serial: int, tangent: Any) -> None:
    t._fw = (serial, tangent)
    _DUAL.duals.append(weakref.ref(t))


@contextlib.contextmanager
def _paused() -> Iterator[None]:
    """No tangents flow inside (the double-vjp's own ops need none)."""
    level, _DUAL.level = _DUAL.level, None
    try:
        yield
    finally:
        _DUAL.level = level


def propagate(fn: Function, inputs: tuple[Tensor, ...], arrays: list[Any],
              kwargs: dict[str, Any], out: Any) -> None:
    """Give ``fn``'s outputs their tangents, from its inputs' (``Function.apply`` calls this
    after each op while a level is active). An op none of whose inputs has a tangent is
    left alone: its outputs have none."""
    serial = _DUAL.level
    tangents = [_tangent(t, serial) for t in inputs]
    if all(t is None for t in tangents):
        return
    if _DUAL.soft:  # tr.func.jvp's try: a refusal ends it quietly (it has another way), and
        # so does a leaf that requires grad besides its own (a parameter the function closes
        # over: its result must be differentiable again, which tangents are not)
        if any(t._ctx is None and t.requires_grad and _tangent(t, serial) is None
               for t in inputs):
            _DUAL.failed, _DUAL.level = True, None
            return
        try:
            _propagate(fn, arrays, kwargs, out, tangents, serial)
        except Exception:
            _DUAL.failed = True
            _DUAL.level = None  # no more tangents in this try
        return
    _propagate(fn, arrays, kwargs, out, tangents, serial)


def _propagate(fn: Function, arrays: list[Any], kwargs: dict[str, Any], out: Any,
               tangents: list[Any], serial: int) -> None:
    """``propagate``'s work: the rule that applies (the op's own, linear, double vjp)."""
    name = type(fn).__name__
    outs = out if type(out) is tuple else (out,)
    if all(o._data.dtype.kind not in "fc" for o in outs):
        return  # (indices, comparisons: no tangent)
    if any(a.dtype.kind == "c" for a in (*arrays, *(o._data for o in outs))):
        raise TypeError(f"forward-mode AD: {name} meets complex numbers, which forward AD "
                        "does not support here")
    xp = fn.xp
    ts = [t if t is not None or a.dtype.kind != "f" else xp.zeros_like(a)
          for t, a in zip(tangents, arrays)]
    if type(fn).jvp is not Function.jvp:  # the op's own rule, on its inputs' arrays
        kept, fn.inputs = fn.inputs, arrays
        try:
            res = fn.jvp(*ts)
        finally:
            fn.inputs = kept
    elif fn.linear:  # J·v = op(v): the op again, on the tangents
        twin = type(fn)()
        twin.xp = xp
        res = twin.forward(*ts, **kwargs)
    else:
        res = double_vjp(fn, arrays, ts, outs)
    res = res if type(res) in (tuple, list) else (res,)
    for o, r in zip(outs, res):
        if r is None or o._data.dtype.kind != "f":
            continue  # (integer outputs, indices, have no tangent)
        y = o._data
        r = xp.asarray(r)
        if r.shape != y.shape:  # a rule may give a kept axis, or a broadcastable tangent
            r = r.reshape(y.shape) if r.size == y.size else xp.broadcast_to(r, y.shape)
        _give(o, serial, r if r.dtype == y.dtype else r.astype(y.dtype))
    if fn.parents:  # in the graph: a recorded backward (create_graph) that uses an output
        # uses it with its tangent (forward over reverse)
        fn.fw = tuple(getattr(o, "_fw", None) for o in outs)


def double_vjp(fn: Function, arrays: list[Any], tangents: list[Any],
               outs: tuple[Tensor, ...]) -> list[Any]:
    """J·v for the op ``fn`` from its backward alone: u ↦ vjp(u) = Jᵀu is linear in u, so
    d/du <Jᵀu, v> = J·v. Its backward runs on u = 0 (any u would do) with the graph recorded,
    its inputs and saved arrays as constants, and ``tr.grad`` differentiates <Jᵀu, v>."""
    name = type(fn).__name__
    user = getattr(fn, "user", None)
    if not fn.differentiable_backward or (user is not None and getattr(
            user.backward, "_once_differentiable", False)):
        raise RuntimeError(
            f"forward-mode AD: {name} has no forward rule (jvp), and its backward cannot be "
            "differentiated (array code, or @once_differentiable), which the generic rule "
            f"needs; so its tangent cannot be computed here. Detach its input, or give "
            f"{name} a jvp")
    dev = outs[0]._dev
    # the op as if its inputs were new leaves, its saved arrays constant tensors: the
    # recorded backward is then differentiated in u alone
    parents = tuple(Tensor._wrap(a, dev, a.dtype.kind == "f") for a in arrays)
    kept = (fn.parents, fn.inputs, fn.edges, fn.y, fn.final, fn.n_out, fn.saved)
    fn.parents, fn.inputs, fn.edges, fn.y = parents, arrays, [(None, 0)] * len(arrays), None
    fn.final, fn.n_out = False, len(outs)
    if type(fn).graph_backward is Function.graph_backward:  # (its own: it wraps them itself)
        fn.saved = tuple(Tensor._wrap(a, dev) if isinstance(a, dev.array_type) else a
                         for a in fn.saved)
    try:
        with _paused(), _set_grad_enabled(True):
            us = [Tensor._wrap(fn.xp.zeros_like(o._data), dev, True)
                  if o._data.dtype.kind == "f" else None for o in outs]
            gxs = fn.graph_backward(us if len(outs) > 1 else us[0], parents)
            gxs = gxs if type(gxs) in (tuple, list) else (gxs,)
            total = None  # <Jᵀu, v>
            for g, t in zip(gxs, tangents):
                if isinstance(g, Tensor) and g.requires_grad and t is not None:
                    term = (g * Tensor._wrap(t, dev)).sum()
                    total = term if total is None else total + term
            wanted = [u for u in us if u is not None]
            if total is None:  # the backward does not depend on u: J·v = 0
                return [None if u is None else fn.xp.zeros_like(u._data) for u in us]
            found = iter(autograd.grad(total, wanted, allow_unused=True))
    finally:
        fn.parents, fn.inputs, fn.edges, fn.y, fn.final, fn.n_out, fn.saved = kept
    res = []
    for u in us:
        g = None if u is None else next(found)
        res.append(None if u is None else fn.xp.zeros_like(u._data) if g is None else g._data)
    return res


@contextlib.contextmanager
def trial(leaves: list[Tensor], tangents: list[Tensor]) -> Iterator[None]:
    """A dual level in which ``leaves`` carry ``tangents``, for ``tr.func.jvp``: an op that
    forward mode refuses does not raise but ends the try (``failed()`` then says so); read
    the outputs' tangents (``tangent_of``) inside the block, as the level closes at its end."""
    enter_dual_level()
    _DUAL.soft, _DUAL.failed = True, False
    serial = _DUAL.level
    for x, t in zip(leaves, tangents):
        _give(x, serial, t._data)
    try:
        yield
    finally:
        _DUAL.level, _DUAL.soft, _DUAL.failed = serial, False, False
        exit_dual_level()


def failed() -> bool:
    """Whether the ``trial`` running now met an op that forward mode refuses."""
    return _DUAL.failed


def tangent_of(t: Tensor) -> Any:
    """``t``'s tangent array in the active level, or None."""
    return _tangent(t, _DUAL.level)


def replay_jvp(replay: Any, arrays: list[Any], tangents: list[Any]) -> Any:
    """The tangents of ``replay(*inputs)`` (a composed twin of a fused op, on tensors): the
    inputs as dual tensors, the replay run in forward mode (no graph recorded)."""
    dev = device_of(arrays[0])
    ins = []
    for a, t in zip(arrays, tangents):
        x = Tensor._wrap(a, dev)
        if t is not None and a.dtype.kind == "f":
            _give(x, _DUAL.level, t)
        ins.append(x)
    with _set_grad_enabled(False):
        outs = replay(*ins)
    outs = outs if isinstance(outs, tuple) else (outs,)
    return tuple(_tangent(o, _DUAL.level) for o in outs)


_DUAL.propagate = propagate
