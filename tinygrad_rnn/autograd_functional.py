"""``tr.autograd.functional``, as ``torch.autograd.functional``: Jacobians, Hessians and their
products with vectors, for a function of tensors, from the engine's backward.

    J = tr.autograd.functional.jacobian(lambda h: cell(x, h), h0)   # (H, H): ∂h_1/∂h_0

The Jacobian of one recurrent step, ∂h_t/∂h_{t-1}, is what vanishing gradients are about:
backprop through T steps multiplies T of them, so their singular values below 1 shrink the
gradient geometrically.

Reverse mode throughout: ``vjp`` is one backward; ``jacobian`` one backward per output element
(its rows); ``jvp`` the double-backward trick (the vjp's derivative in its upstream vector),
so it needs a function whose ops have second derivatives; ``hessian`` the Jacobian of the
gradient. ``jacobian(strategy="forward-mode")`` takes the Jacobian's columns by that trick, one
backward per input element (cheaper where the inputs are fewer than the outputs), and its rows
where an op has no second derivative (the same values). ``vectorize`` is accepted (there is
no vmap here).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .autograd import enable_grad, grad, toposort
from .tensor import Tensor

__all__ = ["hessian", "hvp", "jacobian", "jvp", "vhp", "vjp"]


def _as_tuple(name: str, what: str, x: Any) -> tuple[bool, tuple[Tensor, ...]]:
    """(whether x was a tuple, x as a tuple of tensors), checked."""
    is_tuple = isinstance(x, (tuple, list))
    xs = tuple(x) if is_tuple else (x,)
    for k, t in enumerate(xs):
        if not isinstance(t, Tensor):
            raise TypeError(f"autograd.functional.{name}: {what} must be a Tensor or a tuple of "
                            f"Tensors, got {type(t).__name__}" + (f" at {k}" if is_tuple else ""))
    return is_tuple, xs


def _prepare(inputs: tuple[Tensor, ...], create_graph: bool) -> tuple[Tensor, ...]:
    """Fresh leaves to differentiate with respect to (or, under ``create_graph``, tensors
    still connected to the caller's graph, so the result can be differentiated in them)."""
    return tuple(t * 1 if create_graph and t.requires_grad else t.detach().requires_grad_()
                 for t in inputs)


def _call(name: str, func: Callable[..., Any], inputs: tuple[Tensor, ...]
          ) -> tuple[bool, tuple[Tensor, ...]]:
    with enable_grad():
        out = func(*inputs)
    return _as_tuple(name, "the function's output", out)


def _zeros(x: Tensor) -> Tensor:
    """Zeros like x (not x * 0, which keeps x's NaN and inf)."""
    return Tensor._wrap(x._dev.xp.zeros(x.shape, dtype=x.dtype), x._dev)


def _ones(x: Tensor) -> Tensor:
    return Tensor._wrap(x._dev.xp.ones(x.shape, dtype=x.dtype), x._dev)


def _grads(name: str, outputs: tuple[Tensor, ...], inputs: tuple[Tensor, ...],
           grad_outputs: tuple[Tensor, ...], create_graph: bool, strict: bool
           ) -> tuple[Tensor, ...]:
    """Σ_k grad_outputs[k] · ∂outputs[k]/∂inputs, one per input: zeros where an input does
    not reach the outputs (an error with ``strict``)."""
    pairs = [(o, g) for o, g in zip(outputs, grad_outputs) if o.requires_grad]
    got: tuple[Any, ...] = (None,) * len(inputs)
    if pairs:
        with enable_grad():
            got = grad([o for o, _ in pairs], list(inputs), [g for _, g in pairs],
                       retain_graph=True, create_graph=create_graph, allow_unused=True)
    res = []
    for k, (x, g) in enumerate(zip(inputs, got)):
        if g is None:
            if strict:
                raise RuntimeError(f"autograd.functional.{name}: input {k} does not reach the "
                                   "outputs (strict=True)")
            g = _zeros(x)
        res.append(g if create_graph else g.detach())
    return tuple(res)


def _vectors(name: str, v: Any, like: tuple[Tensor, ...], what: str) -> tuple[Tensor, ...]:
    """``v`` as one tensor per tensor of ``like``, of its shape; None for a single one-element
    ``like`` means 1."""
    if v is None:
        if len(like) != 1 or like[0].numel() != 1:
            raise ValueError(f"autograd.functional.{name}: v can be left out only when the "
                             f"{what} is a single tensor of one element")
        return (_ones(like[0]),)
    _, vs = _as_tuple(name, "v", v)
    if len(vs) != len(like) or any(a.shape != b.shape for a, b in zip(vs, like)):
        raise ValueError(f"autograd.functional.{name}: v must match the {what}'s shapes "
                         f"{[tuple(t.shape) for t in like]}, got {[tuple(t.shape) for t in vs]}")
    return vs


def _out(is_tuple: bool, xs: tuple[Any, ...]) -> Any:
    return xs if is_tuple else xs[0]


def _detach(ts: tuple[Tensor, ...], create_graph: bool) -> tuple[Tensor, ...]:
    return ts if create_graph else tuple(t.detach() for t in ts)


def vjp(func: Callable[..., Any], inputs: Any, v: Any = None, create_graph: bool = False,
        strict: bool = False) -> tuple[Any, Any]:
    """(func(inputs), vᵀ J): the vector-Jacobian product, one backward pass. ``v`` matches
    the output (it may be left out for a one-element output)."""
    in_tuple, ins = _as_tuple("vjp", "inputs", inputs)
    ins = _prepare(ins, create_graph)
    out_tuple, outs = _call("vjp", func, ins)
    vs = _vectors("vjp", v, outs, "output")
    res = _grads("vjp", outs, ins, vs, create_graph, strict)
    return _out(out_tuple, _detach(outs, create_graph)), _out(in_tuple, res)


def jvp(func: Callable[..., Any], inputs: Any, v: Any = None, create_graph: bool = False,
        strict: bool = False) -> tuple[Any, Any]:
    """(func(inputs), J v): the Jacobian-vector product, by the double-backward trick: g(u) =
    uᵀ J is linear in u, so ∂(g(u) · v)/∂u = J v. ``v`` matches the inputs (it may be left
    out for a one-element input)."""
    in_tuple, ins = _as_tuple("jvp", "inputs", inputs)
    ins = _prepare(ins, create_graph)
    vs = _vectors("jvp", v, ins, "input")
    out_tuple, outs = _call("jvp", func, ins)
    us = tuple(_zeros(o) for o in outs)
    us = tuple(u.requires_grad_() for u in us)
    gs = _grads("jvp", outs, ins, us, True, strict)
    with enable_grad():
        total = sum(((g * w).sum() for g, w in zip(gs, vs) if g.requires_grad),
                    start=_zeros(outs[0]).sum())
    res = _grads("jvp", (total,), us, (_ones(total),), create_graph, strict) \
        if total.requires_grad else tuple(_zeros(u) for u in us)
    return _out(out_tuple, _detach(outs, create_graph)), _out(out_tuple, res)


def _jacobian_blocks(name: str, outs: tuple[Tensor, ...], ins: tuple[Tensor, ...],
                     create_graph: bool, strict: bool) -> list[list[Tensor]]:
    """blocks[i][k] = ∂outs[i]/∂ins[k], of shape outs[i].shape + ins[k].shape: one backward
    per output element gives a row of every block."""
    from .ops.movement import stack

    blocks = []
    for at, out in enumerate(outs):
        rows: list[tuple[Tensor, ...]] = []
        for i in range(out.numel()):
            onehot = _zeros(out).reshape(-1)
            onehot[i] = 1
            # by position: a function may return one tensor twice
            gos = tuple(onehot.reshape(out.shape) if k == at else _zeros(o)
                        for k, o in enumerate(outs))
            rows.append(_grads(name, outs, ins, gos, create_graph, strict))
        per_input = []
        for k, x in enumerate(ins):
            if rows:
                j = stack([r[k] for r in rows], 0)
            else:  # an empty output: an empty Jacobian
                j = _zeros(x).reshape(1, *x.shape)[:0]
            per_input.append(j.reshape(*out.shape, *x.shape))
        blocks.append(per_input)
    return blocks


def _twice_differentiable(outs: tuple[Tensor, ...]) -> bool:
    """Whether every op behind ``outs`` has a backward that records (second derivatives)."""
    return all(fn.differentiable_backward for o in outs if o._ctx is not None
               for fn in toposort(o._ctx))


def _jacobian_columns(name: str, outs: tuple[Tensor, ...], ins: tuple[Tensor, ...],
                      create_graph: bool, strict: bool) -> list[list[Tensor]]:
    """``_jacobian_blocks``' blocks (blocks[i][k] = ∂outs[i]/∂ins[k]) by columns: g(u) = uᵀ J
    for upstream vectors u (recorded: one backward with ``create_graph``) is linear in u, and
    ∂g_j/∂u is J's column j, so one backward through g per input element gives a column of
    every block (forward mode's cost, by the double-backward trick)."""
    us = tuple(_zeros(o).requires_grad_() for o in outs)
    gs = _grads(name, outs, ins, us, True, strict)
    cols = _jacobian_blocks(name, gs, us, create_graph, False)  # [k][i]: ins[k] + outs[i]
    blocks = []
    for i, out in enumerate(outs):
        row = []
        for k, x in enumerate(ins):
            c = cols[k][i]
            row.append(c.permute(*range(x.ndim, x.ndim + out.ndim), *range(x.ndim)))
        blocks.append(row)
    return blocks


def jacobian(func: Callable[..., Any], inputs: Any, create_graph: bool = False,
             strict: bool = False, vectorize: bool = False,
             strategy: str = "reverse-mode") -> Any:
    """∂func/∂inputs: for one input and one output a tensor of shape output.shape +
    input.shape; for tuples, a tuple (over outputs) of tuples (over inputs), as PyTorch's
    nesting. One backward per output element, or with ``strategy="forward-mode"`` one per
    input element (``_jacobian_columns``) where the function's ops have second derivatives."""
    if strategy not in ("reverse-mode", "forward-mode"):
        raise ValueError(f"autograd.functional.jacobian: strategy must be 'reverse-mode' or "
                         f"'forward-mode', got {strategy!r}")
    in_tuple, ins = _as_tuple("jacobian", "inputs", inputs)
    ins = _prepare(ins, create_graph)
    out_tuple, outs = _call("jacobian", func, ins)
    by = _jacobian_columns if strategy == "forward-mode" and _twice_differentiable(outs) \
        else _jacobian_blocks
    blocks = [_out(in_tuple, tuple(row)) for row in by("jacobian", outs, ins, create_graph,
                                                         strict)]
    return _out(out_tuple, tuple(blocks))


def hessian(func: Callable[..., Any], inputs: Any, create_graph: bool = False,
            strict: bool = False, vectorize: bool = False,
            outer_jacobian_strategy: str = "reverse-mode") -> Any:
    """∂²func/∂inputs² of a function with a one-element output: for one input a tensor of
    shape input.shape + input.shape; for a tuple, a tuple of tuples (H[i][j] = ∂²f/∂x_i∂x_j).
    The Jacobian of the gradient."""
    in_tuple, ins = _as_tuple("hessian", "inputs", inputs)

    def gradient(*xs: Tensor) -> tuple[Tensor, ...]:
        _, outs = _call("hessian", func, xs)
        if len(outs) != 1 or outs[0].numel() != 1:
            raise ValueError("autograd.functional.hessian: the function must return a single "
                             f"tensor of one element, got shapes {[o.shape for o in outs]}")
        return _grads("hessian", outs, xs, (_ones(outs[0]),), True, strict)

    h = jacobian(gradient, ins, create_graph, strict, vectorize, outer_jacobian_strategy)
    return h if in_tuple else h[0][0]


def vhp(func: Callable[..., Any], inputs: Any, v: Any = None, create_graph: bool = False,
        strict: bool = False) -> tuple[Any, Any]:
    """(func(inputs), vᵀ H): the gradient's vjp with v, for a one-element output."""
    in_tuple, ins = _as_tuple("vhp", "inputs", inputs)
    ins = _prepare(ins, create_graph)
    vs = _vectors("vhp", v, ins, "input")
    _, outs = _call("vhp", func, ins)
    if len(outs) != 1 or outs[0].numel() != 1:
        raise ValueError("autograd.functional.vhp: the function must return a single tensor "
                         f"of one element, got shapes {[o.shape for o in outs]}")
    gs = _grads("vhp", outs, ins, (_ones(outs[0]),), True, strict)
    res = _grads("vhp", gs, ins, vs, create_graph, strict)
    return _detach(outs, create_graph)[0], _out(in_tuple, res)


def hvp(func: Callable[..., Any], inputs: Any, v: Any = None, create_graph: bool = False,
        strict: bool = False) -> tuple[Any, Any]:
    """(func(inputs), H v): equal to ``vhp`` (the Hessian is symmetric), computed the same
    way."""
    return vhp(func, inputs, v, create_graph, strict)
