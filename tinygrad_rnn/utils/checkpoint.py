"""Activation checkpointing, as ``torch.utils.checkpoint``: trade compute for memory.

``checkpoint(function, *args)`` returns what ``function(*args)`` returns, but the graph
keeps none of the activations inside ``function``: only its inputs. Backward runs
``function`` again, with recording on, and backpropagates through that fresh copy. A long
chain cut into k checkpointed segments (``checkpoint_sequential``) keeps k boundaries plus
one segment's activations at a time, instead of every activation of the chain::

    from tinygrad_rnn.utils.checkpoint import checkpoint, checkpoint_sequential
    h = checkpoint(block, h, use_reentrant=False)
    y = checkpoint_sequential(model, 4, x, use_reentrant=False)   # nn.Sequential in 4 parts

How it works here: the forward runs ``function`` once with recording on, to learn which
tensors from outside it (the parameters it reads, and any other tensor it closes over)
the result depends on, and drops that graph as soon as the function returns; what the
graph keeps is one op (``Checkpoint``) whose inputs are the tensor arguments and those
tensors. Its backward restores the random generator to its state before the forward (so a
dropout draws the same mask; ``preserve_rng_state=False`` skips that), reruns ``function``
on the saved inputs, and takes the gradients of its outputs with respect to all of them
with ``tr.autograd.grad``. So ``backward()`` and ``tr.autograd.grad(loss, params)`` both
reach the parameters inside, each gradient once.

The result may be a Tensor or any nesting of tuples, lists and dicts of them (an LSTM's
``(output, (h, c))``); its other values pass through as they are. The differences from
PyTorch: ``use_reentrant`` picks nothing (both of PyTorch's variants give these gradients
here) and leaving it out does not warn; ``create_graph=True`` through a checkpoint is refused
(no second derivatives); ``context_fn``, ``determinism_check`` and ``debug`` are taken with
their default values only; a ``tr.Generator`` passed to the function explicitly is not
rewound (only the global one, as PyTorch's ``preserve_rng_state``). The function runs
twice, as in PyTorch: it should compute the same thing both times (no in-place change to
its inputs, no randomness but tr's generator).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .. import autograd
from ..debug import Listener, listen
from ..random import get_rng_state, set_rng_state
from ..tensor import Function, Tensor

__all__ = ["checkpoint", "checkpoint_sequential"]


class _OpsMade(Listener):
    """Notes the ops made while it listens (``debug.listen``), by id."""

    def __init__(self) -> None:
        self.ops: set[int] = set()

    def forward(self, fn: Function, inputs: tuple[Tensor, ...], out: Any) -> None:
        self.ops.add(id(fn))


def _tensors_in(out: Any) -> list[Tensor]:
    """The tensors in a function's result: itself, or those in its (nested) tuples, lists and
    dicts, in order."""
    found: list[Tensor] = []
    stack = [out]
    while stack:
        x = stack.pop()
        if isinstance(x, Tensor):
            found.append(x)
        elif isinstance(x, (tuple, list)):
            stack.extend(reversed(x))
        elif isinstance(x, dict):
            stack.extend(reversed(list(x.values())))
    return found


def _rebuilt(out: Any, swap: dict[int, Tensor]) -> Any:
    """``out`` with each tensor ``t`` in it replaced by ``swap[id(t)]`` (where there is one)."""
    if isinstance(out, Tensor):
        return swap.get(id(out), out)
    if isinstance(out, tuple) and hasattr(out, "_fields"):  # a namedtuple
        return type(out)(*(_rebuilt(x, swap) for x in out))
    if isinstance(out, (tuple, list)):
        return type(out)(_rebuilt(x, swap) for x in out)
    if isinstance(out, dict):
        return type(out)((k, _rebuilt(v, swap)) for k, v in out.items())
    return out


def _captured(outs: list[Tensor], made: set[int], own: set[int]) -> list[Tensor]:
    """The tensors from outside the function that ``outs`` depend on and that need a
    gradient: a walk of the ops made during the call (``made``) back from the outputs,
    stopping at the function's own inputs (``own``, by id), at leaves, and at tensors made
    by ops from before the call."""
    found: dict[int, Tensor] = {}
    stack: list[Any] = []

    def visit(t: Tensor, ctx: Any) -> None:
        if id(t) in own:
            return
        if ctx is not None and id(ctx) in made:
            stack.append(ctx)
        else:  # a parameter, or a tensor computed before the call
            found.setdefault(id(t), t)

    for o in outs:
        if o.requires_grad:
            visit(o, o._ctx)
    seen: set[int] = set()
    while stack:
        fn = stack.pop()
        if id(fn) in seen:
            continue
        seen.add(id(fn))
        for p, (ctx, out) in zip(fn.parents, fn.edges):
            if ctx is None and out < 0:  # it needed no gradient when the op ran
                continue
            visit(p, ctx)
    return list(found.values())


class Checkpoint(Function):
    """The op a ``checkpoint`` leaves in the graph: its inputs are the function's tensor
    arguments that need a gradient and the outside tensors it read; its outputs, the
    function's differentiable outputs. Backward reruns the function (see the module)."""

    differentiable_backward = False  # its backward runs a whole function on arrays' copies

    def forward(self, *arrays: Any, outs: tuple[Any, ...], run: dict[str, Any]) -> Any:
        self.run = run
        return outs if len(outs) > 1 else outs[0]

    def backward(self, *gys: Any) -> Any:
        run = self.run
        dev = run["device"]
        args = list(run["args"])
        own = []  # the fresh leaves that stand for the tensor arguments
        for i, array, grad in run["tensors"]:
            args[i] = Tensor._wrap(array, dev, grad)
            if grad:
                own.append(args[i])
        targets = own + run["captured"]
        # a captured tensor made by ops is a leaf while the function reruns: its gradient
        # goes to this op's input, and the engine carries it on through the ops behind it
        # (the rerun's own backward must not, or they would get it twice)
        cut = [(t, t._ctx, t._out) for t in run["captured"] if t._ctx is not None]
        now = get_rng_state() if run["rng"] is not None else None
        try:
            for t, _, _ in cut:
                t._ctx, t._out = None, 0
            if now is not None:
                set_rng_state(run["rng"])
            with autograd.enable_grad():
                out = run["function"](*args, **run["kwargs"])
            if now is not None:
                set_rng_state(now)
                now = None
            every = _tensors_in(out)
            pairs = [(every[k], Tensor._wrap(g, dev)) for k, g in zip(run["differentiable"], gys)
                     if g is not None and isinstance(every[k], Tensor) and every[k].requires_grad]
            grads: tuple[Any, ...] = (None,) * len(targets)
            if pairs:
                grads = autograd.grad([o for o, _ in pairs], targets, [g for _, g in pairs],
                                      allow_unused=True)
        finally:
            if now is not None:
                set_rng_state(now)
            for t, ctx, k in cut:
                t._ctx, t._out = ctx, k
        result = tuple(None if g is None else g._data for g in grads)
        return result if len(result) > 1 else result[0]


def checkpoint(function: Callable[..., Any], *args: Any, use_reentrant: bool | None = None,
               context_fn: Any = None, determinism_check: str = "default", debug: bool = False,
               preserve_rng_state: bool = True, **kwargs: Any) -> Any:
    """``function(*args, **kwargs)``, keeping only its inputs for backward, which runs it
    again (see the module's docstring), as ``torch.utils.checkpoint.checkpoint``.

    ``use_reentrant`` is accepted either way (both give the same gradients here); keyword
    arguments for ``function`` are refused unless ``use_reentrant=False``, as in PyTorch.
    Without recording (``no_grad``), or when nothing needs a gradient, it is a plain call.
    """
    if context_fn is not None or determinism_check != "default" or debug:
        raise NotImplementedError("checkpoint: context_fn, determinism_check and debug are "
                                  "PyTorch's options of its non-reentrant variant, not "
                                  "implemented here")
    if kwargs and use_reentrant is not False:
        raise ValueError("Unexpected keyword arguments: " + ",".join(kwargs) + " (keyword "
                         "arguments for the function need use_reentrant=False, as in PyTorch)")
    if not autograd.is_grad_enabled():
        return function(*args, **kwargs)
    rng = get_rng_state() if preserve_rng_state else None
    own = {}
    stand_ins = list(args)
    for i, a in enumerate(args):
        if isinstance(a, Tensor):  # the values, as a fresh leaf: the function's graph
            stand_ins[i] = Tensor._wrap(a._data, a._dev, a.requires_grad)  # starts there
            own[id(stand_ins[i])] = i
    listener = _OpsMade()
    with listen(listener):
        out = function(*stand_ins, **kwargs)
    every = _tensors_in(out)
    differentiable: list[int] = []  # where the result's tensors that need a gradient are
    for k, o in enumerate(every):
        if o.requires_grad and all(o is not every[j] for j in differentiable):
            differentiable.append(k)
    captured = _captured([every[k] for k in differentiable], listener.ops, set(own))
    inputs = [a for a in args if isinstance(a, Tensor) and a.requires_grad]
    swap = {k: args[i] for k, i in own.items()}  # an argument returned: the caller's own
    if not differentiable or not inputs + captured:
        return _rebuilt(out, swap)
    run = {
        "function": function, "kwargs": kwargs, "rng": rng,
        "device": (inputs + captured)[0]._dev,
        "args": [None if isinstance(a, Tensor) else a for a in args],
        "tensors": [(i, a._data, a.requires_grad) for i, a in enumerate(args)
                    if isinstance(a, Tensor)],
        "captured": captured, "differentiable": differentiable,
    }
    results = Checkpoint.apply(*inputs, *captured, outs=tuple(every[k]._data for k in
                                                              differentiable), run=run)
    results = results if isinstance(results, tuple) else (results,)
    swap.update({id(every[k]): r for k, r in zip(differentiable, results)})
    return _rebuilt(out, swap)  # (the function's own graph goes with ``out``)


def checkpoint_sequential(functions: Any, segments: int, input: Tensor,  # noqa: A002
                          use_reentrant: bool | None = None, **kwargs: Any) -> Any:
    """Run ``functions`` (an ``nn.Sequential``, or a list of modules or functions) on
    ``input`` in ``segments`` parts of ``len(functions) // segments`` (the last takes the
    rest), every part but the last checkpointed, as
    ``torch.utils.checkpoint.checkpoint_sequential``."""
    preserve = kwargs.pop("preserve_rng_state", True)
    if kwargs:
        raise ValueError("Unexpected keyword arguments: " + ",".join(kwargs))
    fns = list(functions.children()) if hasattr(functions, "children") else list(functions)
    segments = int(segments)
    if segments < 1:
        raise ValueError(f"checkpoint_sequential: segments must be >= 1, got {segments}")

    def run_function(start: int, end: int, fns: list[Any]) -> Callable[[Any], Any]:
        def forward(x: Any) -> Any:
            for j in range(start, end + 1):
                x = fns[j](x)
            return x

        return forward

    segment_size = len(fns) // segments
    end = -1
    for start in range(0, segment_size * (segments - 1), segment_size):
        end = start + segment_size - 1
        input = checkpoint(run_function(start, end, fns), input, use_reentrant=use_reentrant,
                           preserve_rng_state=preserve)
    return run_function(end + 1, len(fns) - 1, fns)(input)

