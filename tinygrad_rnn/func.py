"""``tr.func``, as ``torch.func``: function transforms over the engine (``grad``,
``grad_and_value``, ``vjp``, ``jvp``, ``linearize``, ``jacrev``, ``jacfwd``, ``hessian``,
``vmap``) and ``functional_call``, which runs a module with parameters given in a dict;
``stack_module_state`` (an ensemble's parameters stacked, for ``vmap`` over models) and
``replace_all_batch_norm_modules_``.

    params = {k: v.detach() for k, v in model.named_parameters()}

    def loss(params, x, y):
        return F.cross_entropy(tr.func.functional_call(model, params, (x[None],)), y[None])

    per_sample = tr.func.vmap(tr.func.grad(loss), in_dims=(None, 0, 0))(params, xs, ys)

Arguments and results may be tensors or nests of them (dicts, lists, tuples), as PyTorch's
"pytrees". The transforms nest (``grad(grad(f))``): a transform whose inputs are already
being differentiated by an outer one records its own backward (``create_graph``).

How they differ from PyTorch's: ``vmap`` runs the function once per slice of the mapped axis
and stacks the results (the same values, without the vectorised speed). ``jvp`` runs in
forward mode (``tr.autograd.forward_ad``) where that gives its result: at the top level, with
no transform inside and nothing to differentiate the result again (tangents are constants to
backward). Elsewhere, and always in ``linearize`` and ``jacfwd``, they differentiate the vjp
in its upstream vector (the double-backward trick: uᵀ J is linear in u, so its derivative in
u is J), which gives forward mode's results at forward mode's cost per tangent (a backward
through the recorded backward each), and needs ops with second derivatives (``jacfwd``
takes the rows instead where one has none: the same Jacobian).
"""

from __future__ import annotations

import contextlib
import weakref
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from . import autograd_functional as _af
from .autograd import enable_grad, is_grad_enabled, toposort
from .autograd import grad as _grad
from .tensor import DTypeError, Tensor

__all__ = ["functional_call", "grad", "grad_and_value", "hessian", "jacfwd", "jacrev", "jvp",
           "linearize", "replace_all_batch_norm_modules_", "stack_module_state", "vjp", "vmap"]


# ---- pytrees: nests of dicts, lists and tuples with tensors (or anything) at the leaves ----


def _flatten(tree: Any) -> tuple[list[Any], Callable[[list[Any]], Any]]:
    """The leaves of ``tree`` in order, and a function that rebuilds the nest from leaves."""
    if isinstance(tree, dict):
        keys = list(tree)
        parts = [_flatten(tree[k]) for k in keys]
        sizes = [len(p[0]) for p in parts]

        def build_dict(leaves: list[Any]) -> Any:
            out, i = {}, 0
            for k, (_, rebuild), n in zip(keys, parts, sizes):
                out[k] = rebuild(leaves[i:i + n])
                i += n
            return type(tree)(out) if type(tree) is not dict else out

        return [x for p in parts for x in p[0]], build_dict
    if isinstance(tree, (list, tuple)):
        parts = [_flatten(t) for t in tree]
        sizes = [len(p[0]) for p in parts]

        def build_seq(leaves: list[Any]) -> Any:
            out, i = [], 0
            for (_, rebuild), n in zip(parts, sizes):
                out.append(rebuild(leaves[i:i + n]))
                i += n
            return type(tree)(*out) if hasattr(tree, "_fields") else type(tree)(out)

        return [x for p in parts for x in p[0]], build_seq
    return [tree], lambda leaves: leaves[0]


def _tensors(where: str, leaves: list[Any]) -> list[Tensor]:
    for x in leaves:
        if not isinstance(x, Tensor):
            raise TypeError(f"func.{where}: the arguments to differentiate must hold Tensors, "
                            f"got {type(x).__name__}")
        if x.dtype.kind != "f":
            raise DTypeError(f"func.{where}: can only differentiate floating-point tensors, got "
                             f"dtype {x.dtype}")
    return leaves


def _detached(tree: Any) -> Any:
    """``tree`` with its tensors detached (what a transform returns beside its result)."""
    leaves, rebuild = _flatten(tree)
    return rebuild([x.detach() if isinstance(x, Tensor) else x for x in leaves])


def _argnums(where: str, argnums: int | tuple[int, ...], n: int) -> tuple[int, ...]:
    nums = (argnums,) if isinstance(argnums, int) else tuple(argnums)
    if not nums or any(isinstance(a, bool) or not isinstance(a, int) or not -n <= a < n
                       for a in nums):
        raise ValueError(f"func.{where}: argnums {argnums!r} out of range for {n} positional "
                         "arguments")
    nums = tuple(a % n for a in nums)
    if len(set(nums)) != len(nums):
        raise ValueError(f"func.{where}: argnums {argnums!r} names an argument twice; each "
                         "must be unique")
    return nums


def _pair(where: str, out: Any, has_aux: bool) -> tuple[Any, Any]:
    """(output, aux): with ``has_aux`` the function must return that pair."""
    if not has_aux:
        return out, None
    if not isinstance(out, tuple) or len(out) != 2:
        raise ValueError(f"func.{where}: with has_aux=True the function must return a tuple "
                         f"(output, aux), got {type(out).__name__}")
    return out


_DEPTH = [0]  # how many transforms are running their function now (grad inside grad, ...)
_TRANSFORMS = [0]  # how many transforms have started (jvp's forward mode: none inside it)
# the leaves transforms made (not the user's), by id: a Tensor's == is elementwise
_MADE: weakref.WeakValueDictionary[int, Tensor] = weakref.WeakValueDictionary()


def _graph(outputs: Sequence[Tensor]) -> list[Any]:
    """The ops behind ``outputs``, each once."""
    seen, order = set(), []
    for o in outputs:
        if isinstance(o, Tensor) and o._ctx is not None and id(o._ctx) not in seen:
            for fn in toposort(o._ctx):
                if id(fn) not in seen:
                    seen.add(id(fn))
                    order.append(fn)
    return order


class _Tracked:
    """The arguments a transform differentiates (``nums``, each a tensor or a nest of them)
    as tensors to differentiate with respect to, in ``args``; ``nests`` regroups one value per
    leaf into those arguments' nests; ``record`` says whether the transform records its own
    backward, so that what it returns can be differentiated again (by an outer transform, or
    by autograd in the tensors the function closes over)."""

    def __init__(self, where: str, args: tuple[Any, ...], nums: Sequence[int]) -> None:
        _TRANSFORMS[0] += 1
        self.grad_on = is_grad_enabled()  # under no_grad, nothing outside is differentiated
        self.outer = _DEPTH[0] > 0
        self.args = list(args)
        self.flats = [_flatten(self.args[a]) for a in nums]
        given = [x for f, _ in self.flats for x in _tensors(where, f)]
        self.connected = self.grad_on and any(x.requires_grad for x in given)
        with enable_grad():  # a transform computes its gradient under no_grad too
            self.leaves = [x * 1 if x.requires_grad and self.grad_on
                           else x.detach().requires_grad_() for x in given]
        _MADE.update((id(x), x) for x in self.leaves if x._ctx is None)
        for a, nest in zip(nums, self.nests(self.leaves)):
            self.args[a] = nest

    def nests(self, per_leaf: Sequence[Any]) -> list[Any]:
        out, i = [], 0
        for flat, rebuild in self.flats:
            out.append(rebuild(list(per_leaf[i:i + len(flat)])))
            i += len(flat)
        return out

    @contextlib.contextmanager
    def running(self) -> Iterator[None]:
        """The function's call: recorded (whatever the grad mode), as one transform deeper."""
        _DEPTH[0] += 1
        try:
            with enable_grad():
                yield
        finally:
            _DEPTH[0] -= 1

    def record(self, outputs: Sequence[Tensor]) -> bool:
        """Whether to record the backward: with grad mode on at the call, when an outer
        transform runs, an argument was being differentiated already, or the outputs reach
        another tensor that requires grad (a parameter the function closes over). Not where
        an op has no derivative of its own (digamma, a once_differentiable Function) and no
        outer transform needs one: the gradient is right, and nothing could differentiate it
        again."""
        if not self.grad_on:
            return False
        ops = _graph(outputs)
        if not (self.outer or self.connected):
            if not any(p._ctx is None and p.requires_grad and _MADE.get(id(p)) is not p
                       for fn in ops for p in (fn.parents or ())):
                return False
        return self.outer or all(fn.differentiable_backward for fn in ops)


def _traced(where: str, func: Callable[..., Any], args: tuple[Any, ...], nums: Sequence[int],
            has_aux: bool) -> tuple[_Tracked, Any, Any, list[Tensor], Callable[..., Any], bool]:
    """Run ``func`` on ``args`` with the arguments ``nums`` tracked: (the tracker, its output
    value, aux, the value's tensors, a function that nests tensors as the value, whether to
    record the backward)."""
    t = _Tracked(where, args, nums)
    with t.running():
        out = func(*t.args)
    value, aux = _pair(where, out, has_aux)
    outs, out_rebuild = _flatten(value)
    _tensors(where, outs)
    return t, value, aux, outs, out_rebuild, t.record(outs)


# ---- grad, grad_and_value, vjp ------------------------------------------------------------


def grad_and_value(func: Callable[..., Any], argnums: int | tuple[int, ...] = 0,
                   has_aux: bool = False) -> Callable[..., Any]:
    """A function returning (∂func/∂args[argnums], func(*args)) for a ``func`` with a
    one-element output (with ``has_aux``: (output, aux), and the value is (output, aux)).
    The gradient has the nest of its argument (a dict of parameters gives a dict)."""

    def wrapped(*args: Any, **kwargs: Any) -> tuple[Any, Any]:
        t = _Tracked("grad", args, _argnums("grad", argnums, len(args)))
        with t.running():
            out = func(*t.args, **kwargs)
        value, aux = _pair("grad", out, has_aux)
        if not isinstance(value, Tensor) or value.numel() != 1:
            raise ValueError("func.grad: the function must return a tensor of one element"
                             + (" (and its aux)" if has_aux else "") + ", got "
                             + (f"shape {value.shape}" if isinstance(value, Tensor)
                                else type(value).__name__))
        tracked, nested = t.leaves, t.record([value])
        if value.requires_grad:
            with enable_grad():
                gs = _grad(value, tracked, retain_graph=nested, create_graph=nested,
                           allow_unused=True)
        else:
            gs = (None,) * len(tracked)
        gs = [_af._zeros(x) if g is None else g if nested else g.detach()
              for x, g in zip(tracked, gs)]
        grads = t.nests(gs)
        result = grads[0] if isinstance(argnums, int) else tuple(grads)
        if not nested:
            value, aux = value.detach(), _detached(aux)
        return result, ((value, aux) if has_aux else value)

    return wrapped


def grad(func: Callable[..., Any], argnums: int | tuple[int, ...] = 0,
         has_aux: bool = False) -> Callable[..., Any]:
    """A function returning ∂func/∂args[argnums] (and aux, with ``has_aux``) for a ``func``
    with a one-element output, as ``torch.func.grad``."""
    both = grad_and_value(func, argnums, has_aux)

    def wrapped(*args: Any, **kwargs: Any) -> Any:
        g, value = both(*args, **kwargs)
        return (g, value[1]) if has_aux else g

    return wrapped


def vjp(func: Callable[..., Any], *primals: Any, has_aux: bool = False) -> tuple[Any, ...]:
    """(func(*primals), vjp_fn), as ``torch.func.vjp``: ``vjp_fn(cotangents)`` (a nest like
    the output) returns one vector-Jacobian product per primal, as a tuple."""
    t, value, aux, outs, out_rebuild, nested = _traced("vjp", func, primals,
                                                      range(len(primals)), has_aux)
    tracked = t.leaves

    def vjp_fn(cotangents: Any) -> tuple[Any, ...]:
        cts, _ = _flatten(cotangents)
        if len(cts) != len(outs) or any(not isinstance(c, Tensor) or c.shape != o.shape
                                        for c, o in zip(cts, outs)):
            raise ValueError("func.vjp: the cotangents must be tensors shaped as the outputs "
                             f"{[tuple(o.shape) for o in outs]}")
        return tuple(t.nests(_af._grads("vjp", tuple(outs), tuple(tracked), tuple(cts),
                                        nested, False)))

    shown = value if nested else out_rebuild([o.detach() for o in outs])
    return (shown, vjp_fn, aux if nested else _detached(aux)) if has_aux else (shown, vjp_fn)


def _linear_map(where: str, func: Callable[..., Any], primals: Any, has_aux: bool
                ) -> tuple[Any, Callable[[Any], Any], Any]:
    """(output, jvp_fn, aux): ``func(*primals)`` and the map from tangents (a nest like the
    primals) to J · tangents (a nest like the output), by the double-backward trick: the
    vjp g(u) = uᵀ J, recorded once for upstream vectors u, and per tangent v one backward of
    Σ g · v in u, which is J v."""
    if not isinstance(primals, tuple):
        raise TypeError(f"func.{where}: primals must be a tuple of arguments, got "
                        f"{type(primals).__name__}")
    t, value, aux, outs, out_rebuild, nested = _traced(where, func, primals,
                                                      range(len(primals)), has_aux)
    return _linear_from(where, t, value, aux, outs, out_rebuild, nested)


def _linear_from(where: str, t: _Tracked, value: Any, aux: Any, outs: list[Tensor],
                 out_rebuild: Callable[..., Any], nested: bool
                 ) -> tuple[Any, Callable[[Any], Any], Any]:
    """``_linear_map``'s result from a run of the function (``_traced``'s results)."""
    us = tuple(_af._zeros(o).requires_grad_() for o in outs)
    gs = _af._grads(where, tuple(outs), tuple(t.leaves), us, True, False)

    def jvp_fn(tangents: Any) -> Any:
        leaves, _ = _flatten(tangents)
        if len(leaves) != len(t.leaves) or any(
                not isinstance(v, Tensor) or v.shape != x.shape or v.dtype != x.dtype
                for v, x in zip(leaves, t.leaves)):
            want = [(tuple(x.shape), str(x.dtype)) for x in t.leaves]
            got = [(tuple(v.shape), str(v.dtype)) if isinstance(v, Tensor) else
                   type(v).__name__ for v in leaves]
            raise ValueError(f"func.{where}: the tangents must be tensors of the primals' "
                             f"shapes and dtypes {want}, got {got}")
        with enable_grad():
            terms = [(g * v).sum() for g, v in zip(gs, leaves) if g.requires_grad]
        if not terms:  # the output does not depend on the primals
            return out_rebuild([_af._zeros(o) for o in outs])
        total = terms[0]
        for term in terms[1:]:
            total = total + term
        return out_rebuild(list(_af._grads(where, (total,), us, (_af._ones(total),), nested,
                                           False)))

    shown = value if nested else out_rebuild([o.detach() for o in outs])
    return shown, jvp_fn, (aux if nested else _detached(aux))


def jvp(func: Callable[..., Any], primals: Any, tangents: Any, *, strict: bool = False,
        has_aux: bool = False) -> tuple[Any, ...]:
    """(func(*primals), J · tangents), as ``torch.func.jvp``: ``primals`` a tuple of the
    arguments, ``tangents`` a tuple of the same nests and shapes; the product has the
    output's nest. In forward mode (``tr.autograd.forward_ad``), in the same run that
    records the graph, where that gives the result: at the top level (no transform around
    it, none inside it, no dual level open), nothing to differentiate the result again, and
    every op taking forward mode; else by the double-backward trick (``_linear_map``)."""
    forward = _forward_jvp(func, primals, tangents, has_aux)
    if forward is not None:
        return forward
    value, jvp_fn, aux = _linear_map("jvp", func, primals, has_aux)
    if not isinstance(tangents, tuple):
        raise TypeError(f"func.jvp: tangents must be a tuple, like primals, got "
                        f"{type(tangents).__name__}")
    product = jvp_fn(tangents)
    return (value, product, aux) if has_aux else (value, product)


def _forward_jvp(func: Callable[..., Any], primals: Any, tangents: Any, has_aux: bool
                 ) -> tuple[Any, ...] | None:
    """``jvp`` in forward mode, or by the double backward on the same run where forward mode
    does not give the result (``jvp`` says when); None where it was not tried."""
    from . import autograd
    from . import autograd_forward as fw

    if _DEPTH[0] or autograd._DUAL.level is not None or not (
            isinstance(primals, tuple) and isinstance(tangents, tuple)):
        return None
    t = _Tracked("jvp", primals, range(len(primals)))
    vs, _ = _flatten(tangents)
    if len(vs) != len(t.leaves) or any(  # (a misfit: the other way gives its error)
            not isinstance(v, Tensor) or v.shape != x.shape or v.dtype != x.dtype
            or x.dtype.kind != "f" or v._dev is not x._dev for v, x in zip(vs, t.leaves)):
        return None
    made = _TRANSFORMS[0]
    with fw.trial(t.leaves, vs):
        with t.running():
            out = func(*t.args)
        value, aux = _pair("jvp", out, has_aux)
        outs, out_rebuild = _flatten(value)
        _tensors("jvp", outs)
        products = [fw.tangent_of(o) for o in outs]
        forward = not fw.failed() and _TRANSFORMS[0] == made
    nested = t.record(outs)
    if not forward or nested:  # a transform inside, an op without forward mode, or a
        # result to differentiate again (tangents are constants to backward): this run's
        # graph, differentiated twice
        shown, jvp_fn, aux = _linear_from("jvp", t, value, aux, outs, out_rebuild, nested)
        product = jvp_fn(tangents)
    else:
        product = out_rebuild([_af._zeros(o) if p is None else Tensor._wrap(p, o._dev)
                               for o, p in zip(outs, products)])
        shown, aux = out_rebuild([o.detach() for o in outs]), _detached(aux)
    return (shown, product, aux) if has_aux else (shown, product)


def linearize(func: Callable[..., Any], *primals: Any) -> tuple[Any, Callable[..., Any]]:
    """(func(*primals), jvp_fn), as ``torch.func.linearize``: ``jvp_fn(*tangents)`` gives
    J · tangents at the primals, each call one backward through the vjp recorded once."""
    value, jvp_fn, _ = _linear_map("linearize", func, primals, False)
    return value, lambda *tangents: jvp_fn(tangents)


# ---- Jacobians and Hessians ---------------------------------------------------------------


def _jacobian(where: str, blocks_of: Callable[..., Any], func: Callable[..., Any],
              argnums: int | tuple[int, ...], has_aux: bool) -> Callable[..., Any]:
    """``jacrev`` and ``jacfwd``: the Jacobian blocks by ``blocks_of`` (rows or columns),
    nested as the output (outside) and the arguments (inside)."""

    def wrapped(*args: Any) -> Any:
        t, value, aux, outs, out_rebuild, nested = _traced(
            where, func, args, _argnums(where, argnums, len(args)), has_aux)
        blocks = []
        for row in blocks_of(where, tuple(outs), tuple(t.leaves), nested):
            parts = t.nests(row)
            blocks.append(parts[0] if isinstance(argnums, int) else tuple(parts))
        jac = out_rebuild(blocks)
        return (jac, aux if nested else _detached(aux)) if has_aux else jac

    return wrapped


def _rows(where: str, outs: tuple[Tensor, ...], ins: tuple[Tensor, ...], nested: bool) -> Any:
    return _af._jacobian_blocks(where, outs, ins, nested, False)


def _columns(where: str, outs: tuple[Tensor, ...], ins: tuple[Tensor, ...], nested: bool
             ) -> Any:
    if not _af._twice_differentiable(outs):  # no second derivative: the same Jacobian by rows
        return _rows(where, outs, ins, nested)
    return _af._jacobian_columns(where, outs, ins, nested, False)


def jacrev(func: Callable[..., Any], argnums: int | tuple[int, ...] = 0, *,
           has_aux: bool = False) -> Callable[..., Any]:
    """A function returning the Jacobian of ``func`` in args[argnums], as
    ``torch.func.jacrev``: for a tensor output and a tensor argument, a tensor of shape
    output.shape + argument.shape; nests of outputs and of arguments nest the result the
    same way (outputs outside, arguments inside). One backward per output element."""
    return _jacobian("jacrev", _rows, func, argnums, has_aux)


def jacfwd(func: Callable[..., Any], argnums: int | tuple[int, ...] = 0, has_aux: bool = False,
           *, randomness: str = "error") -> Callable[..., Any]:
    """``jacrev``'s Jacobian by columns, as ``torch.func.jacfwd``: one backward through the
    recorded vjp per argument element (``_jacobian_columns``), the cheaper way for fewer
    inputs than outputs; by rows where an op has no second derivative."""
    if randomness not in ("error", "different", "same"):
        raise ValueError(f"func.jacfwd: randomness must be 'error', 'different' or 'same', got "
                         f"{randomness!r}")
    return _jacobian("jacfwd", _columns, func, argnums, has_aux)


def hessian(func: Callable[..., Any], argnums: int | tuple[int, ...] = 0) -> Callable[..., Any]:
    """The Jacobian of the gradient: for a one-element output and a tensor argument, a tensor
    of shape argument.shape + argument.shape, as ``torch.func.hessian``: ``jacfwd`` of
    ``jacrev``, as there."""
    return jacfwd(jacrev(func, argnums), argnums)


# ---- vmap ---------------------------------------------------------------------------------


def vmap(func: Callable[..., Any], in_dims: Any = 0, out_dims: Any = 0,
         randomness: str = "error", *, chunk_size: int | None = None) -> Callable[..., Any]:
    """``func`` mapped over an axis of its arguments, as ``torch.func.vmap``: ``in_dims`` says
    which axis of each positional argument is mapped (an int for all, or one entry per
    argument: an int, None for an argument passed whole to every call, or a nest matching the
    argument), ``out_dims`` where the mapped axis goes in each output. It calls ``func`` once
    per index and stacks the results, so it works for any ``func`` (random draws included),
    without the speed of a vectorised one."""
    from .ops.movement import stack

    def wrapped(*args: Any, **kwargs: Any) -> Any:
        dims = in_dims if isinstance(in_dims, (tuple, list)) else (in_dims,) * len(args)
        if len(dims) != len(args):
            raise ValueError(f"func.vmap: in_dims has {len(dims)} entries for {len(args)} "
                             "positional arguments")
        mapped: list[tuple[list[Any], list[int | None], Callable[[list[Any]], Any]]] = []
        size = None
        for k, (a, d) in enumerate(zip(args, dims)):
            leaves, rebuild = _flatten(a)
            ds, _ = _flatten(d) if isinstance(d, (dict, list, tuple)) else ([d] * len(leaves),
                                                                            None)
            if len(ds) != len(leaves):
                raise ValueError(f"func.vmap: in_dims for argument {k} does not match its nest")
            for x, dim in zip(leaves, ds):
                if dim is None:
                    continue
                if not isinstance(x, Tensor):
                    raise TypeError(f"func.vmap: argument {k} is mapped (in_dims {dim}) but is "
                                    f"a {type(x).__name__}, not a Tensor")
                if not -x.ndim <= dim < x.ndim:
                    raise ValueError(f"func.vmap: in_dims {dim} out of range for argument {k} "
                                     f"of shape {x.shape}")
                n = x.shape[dim]
                if size is not None and n != size:
                    raise ValueError(f"func.vmap: the mapped axes differ in size ({size} and "
                                     f"{n}, argument {k})")
                size = n
            mapped.append((leaves, ds, rebuild))
        if size is None:
            raise ValueError("func.vmap: at least one argument must be mapped (in_dims all "
                             "None)")
        if size == 0:
            raise ValueError("func.vmap: the mapped axis has size 0; there is nothing to call "
                             "the function on here")
        results = []
        for i in range(size):
            call = [rebuild([x if d is None else x.select(d, i) for x, d in zip(leaves, ds)])
                    for leaves, ds, rebuild in mapped]
            results.append(func(*call, **kwargs))
        flat0, rebuild_out = _flatten(results[0])
        flats = [_flatten(r)[0] for r in results]
        odims = (_flatten(out_dims)[0] if isinstance(out_dims, (tuple, list, dict))
                 else [out_dims] * len(flat0))
        if len(odims) != len(flat0):
            raise ValueError("func.vmap: out_dims does not match the function's outputs")
        outs = []
        for m, d in enumerate(odims):
            column = [f[m] for f in flats]
            if not all(isinstance(c, Tensor) for c in column):
                raise TypeError("func.vmap: the function must return Tensors (or nests of them)")
            if d is None:  # not mapped: the same tensor from every call, returned once
                first = column[0].detach().numpy()
                if any(c.shape != column[0].shape or not (c.detach().numpy() == first).all()
                       for c in column[1:]):
                    raise ValueError(f"func.vmap: out_dims None for output {m}, but it differs "
                                     "from one index of the mapped axis to another")
                outs.append(column[0])
            else:
                outs.append(stack(column, d))
        return rebuild_out(outs)

    return wrapped


# ---- functional_call ----------------------------------------------------------------------


@contextlib.contextmanager
def _swapped(module: Any, values: dict[str, Any]) -> Iterator[None]:
    """``module``'s parameters and buffers named in ``values`` (dotted names) replaced by
    those tensors for the duration, then put back, whatever happens."""
    saved: list[tuple[Any, Any, Any]] = []
    cache: list[tuple[tuple[int, str], Any]] = []
    try:
        for name, v in values.items():
            *path, leaf = name.split(".")
            owner = module
            for p in path:
                owner = owner._modules[p] if p in owner._modules else getattr(owner, p)
            for table in (owner._parameters, owner._buffers):
                if leaf in table:
                    saved.append((table, leaf, table[leaf]))
                    table[leaf] = v
                    break
            else:  # a parametrized tensor: served from parametrize's cache meanwhile
                cache.append(((id(owner), leaf), v))
        with contextlib.ExitStack() as stack:
            if cache:
                from .nn.utils import parametrize

                stack.enter_context(parametrize.cached())
                assert parametrize._cache is not None
                for key, v in cache:
                    saved.append((parametrize._cache, key, parametrize._cache.get(key)))
                    parametrize._cache[key] = v
            yield
    finally:
        for table, leaf, old in reversed(saved):
            if old is None and isinstance(leaf, tuple):
                table.pop(leaf, None)
            else:
                table[leaf] = old


def functional_call(module: Any, parameter_and_buffer_dicts: Any, args: Any = (),
                    kwargs: dict[str, Any] | None = None, *, tie_weights: bool = True,
                    strict: bool = False) -> Any:
    """``module(*args, **kwargs)`` with the parameters and buffers named in the dict (or a
    sequence of dicts) in place of the module's own, as ``torch.func.functional_call``: the
    dict's tensors may be any tensors (non-leaves, requiring grad or not), so the call is a
    function of them; the module is unchanged afterwards. With ``strict`` every parameter and
    buffer must be given. A weight shared under two names (``tie_weights``) takes the value
    given under either."""
    dicts = parameter_and_buffer_dicts
    dicts = [dicts] if isinstance(dicts, dict) else list(dicts)
    values: dict[str, Any] = {}
    for d in dicts:
        clash = set(values) & set(d)
        if clash:
            raise ValueError(f"func.functional_call: {sorted(clash)} given in more than one dict")
        values.update(d)
    # a shared tensor under each of its names (state_dict's names, without its hooks and
    # extra state)
    own = {k: v for k, v in module._state_names() if isinstance(v, Tensor)}
    own.update(dict(module.named_buffers()))  # the non-persistent buffers too
    computed = _parametrized_names(module)  # (their values may be given too, as PyTorch's)
    unknown = [k for k in values if k not in own and k not in computed]
    if unknown:
        raise ValueError(f"func.functional_call: {type(module).__name__} has no parameter or "
                         f"buffer {unknown[0]!r}")
    if tie_weights:  # a shared tensor given under one name serves all its names
        by_id: dict[int, list[str]] = {}
        for k, t in own.items():
            by_id.setdefault(id(t), []).append(k)
        for names in by_id.values():
            given = [k for k in names if k in values]
            if len({id(values[k]) for k in given}) > 1:
                raise ValueError(f"func.functional_call: {given} are tied (one tensor) but given "
                                 "different values; give one, or pass tie_weights=False")
            for k in names:
                if given and k not in values:
                    values[k] = values[given[0]]
    if strict:
        missing = [k for k in own if k not in values]
        if missing:
            raise ValueError(f"func.functional_call: strict=True and missing {missing}")
    args = args if isinstance(args, tuple) else (args,)
    with _swapped(module, values):
        return module(*args, **(kwargs or {}))



def _parametrized_names(module: Any) -> set[str]:
    """The dotted names of the parametrized tensors of ``module`` and its submodules."""
    names = set()
    for prefix, m in module.named_modules():
        plists = m.__dict__.get("_modules", {}).get("parametrizations")
        for name in (plists._modules if plists is not None else ()):
            names.add(f"{prefix}.{name}" if prefix else name)
    return names


# ---- ensembles ----------------------------------------------------------------------------


def _stacked_leaf(tensors: tuple[Tensor, ...], name: str) -> Tensor:
    """The tensors stacked along a new axis 0: a new leaf that requires grad if they all
    do (none or all must)."""
    from .ops.movement import stack

    grads = {t.requires_grad for t in tensors}
    if len(grads) > 1:
        raise RuntimeError(f"stack_module_state: expected {name} from each model to have the "
                           "same .requires_grad")
    out = stack([t.detach() for t in tensors], 0)
    return out.requires_grad_() if grads == {True} else out


def stack_module_state(models: Sequence[Any]) -> tuple[dict[str, Tensor], dict[str, Tensor]]:
    """The parameters and the buffers of ``models`` (modules of one class, all in training
    or all in evaluation mode) as two dicts, name -> the models' tensors stacked along a new
    axis 0, as ``torch.func.stack_module_state``: new leaves (a parameter's stack requires
    grad), cut from the models, so an ensemble runs as one ``vmap`` over
    ``functional_call``::

        params, buffers = stack_module_state(models)
        base = copy.deepcopy(models[0])
        def one(params, buffers, x):
            return functional_call(base, (params, buffers), (x,))
        out = vmap(one, in_dims=(0, 0, None))(params, buffers, x)  # (len(models), ...)

    (PyTorch's recipe moves ``base`` to its "meta" device, which holds no values; there is
    none here, and the copy's own values are never read.)"""
    models = list(models)
    if not models:
        raise RuntimeError("stack_module_state: Expected at least one model, got 0.")
    if len({bool(m.training) for m in models}) > 1:
        raise RuntimeError("stack_module_state: Expected all models to have the same "
                           "training/eval mode.")
    if len({type(m) for m in models}) > 1:
        raise RuntimeError("stack_module_state: Expected all models to be of the same class.")
    tables = []
    for members in ("named_parameters", "named_buffers"):
        each = [dict(getattr(m, members)()) for m in models]
        names = list(each[0])
        for k, d in enumerate(each[1:], 1):
            if list(d) != names:
                raise RuntimeError(f"stack_module_state: model {k} has other {members[6:]} "
                                   f"than model 0: {sorted(set(d) ^ set(names))}")
        for name in names:
            shapes = {d[name].shape for d in each}
            if len(shapes) > 1:
                raise RuntimeError(f"stack_module_state: {name} has different shapes across "
                                   f"the models: {sorted(shapes)}")
        tables.append({name: _stacked_leaf(tuple(d[name] for d in each), name)
                       for name in names})
    return tables[0], tables[1]


def replace_all_batch_norm_modules_(root: Any) -> Any:
    """Every batch normalisation in ``root`` (itself included) made to stop tracking running
    statistics, in place, as ``torch.func.replace_all_batch_norm_modules_``: its
    ``running_mean``, ``running_var`` and ``num_batches_tracked`` set to None and
    ``track_running_stats`` to False, so it always normalises by the batch (what ``vmap``
    over a batch norm needs in PyTorch, where a running-stat update inside a vmap is an
    error). The instance norms are left as they are, as there. Returns ``root``."""
    from .nn.normalization import _BatchNorm, _InstanceNorm

    for m in root.modules():
        if isinstance(m, _BatchNorm) and not isinstance(m, _InstanceNorm) \
                and m.track_running_stats:
            m.running_mean = None
            m.running_var = None
            m.num_batches_tracked = None
            m.track_running_stats = False
    return root
