"""Reverse-mode automatic differentiation: grad mode, graph ordering and the backward loop.

The graph is made of ops (``Function`` objects); each op knows the tensors it was applied to
(``fn.parents``) and which graph node each of them was when it ran (``fn.edges``: an in-place
write since then makes a tensor a new node). A tensor made by an op points at it
(``tensor._ctx``, public as ``grad_fn``). Backward runs in two phases, without recursion, so
that a 10,000-step unrolled LSTM works:

1. ``toposort``: order every op that leads to the output, each after the ops that made its
   inputs (the output's op last).
2. ``run_backward``: walk that order from the output back, so that each op has all of its
   output's gradient before it runs: hand each op that gradient, get the gradients of its
   inputs, sum each back to its input's shape (broadcasting), and add it to what that input
   already received (a tensor used twice gets both contributions).

Also here, as in ``torch.autograd``: grad mode (``no_grad``, ``enable_grad``,
``set_grad_enabled``, ``inference_mode``); ``grad`` (``tr.grad``: gradients returned, not
stored); ``Function`` with ``FunctionCtx`` (custom ops written as PyTorch's, differentiable
twice), ``once_differentiable`` and the old ``Variable``; ``graph`` (``saved_tensors_hooks``,
``save_on_cpu``, ``Node``, ...); and the ``functional`` and ``forward_ad`` submodules, which
live in ``autograd_functional.py`` and ``autograd_forward.py``.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import sys
import types
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from .backend import sum_to

if TYPE_CHECKING:
    from .tensor import Function, Tensor

FREED_GRAPH_MSG = (
    "Trying to backward through part of a graph that was already freed: its saved values "
    "were released by an earlier backward(). If you carry a hidden state from one chunk of a "
    "sequence to the next (truncated BPTT), cut it from the old graph before the next chunk: "
    "h = h.detach(), or state = tinygrad_rnn.nn.utils.detach_state(state) for an LSTM's "
    "(h, c); or, if you really need to backward twice through the same graph, "
    "pass retain_graph=True to the first backward()."
)


class _GradMode:
    enabled = True


class _HOOKS:
    """Where the learning instruments listen to the engine (``debug.trace``,
    ``debug.detect_anomaly``, ``viz.step``; see ``debug.listen``). ``active`` is False unless
    one is on, so that otherwise the engine pays one flag check per op, forward and backward."""

    active = False
    listeners: list[Any] = []
    # while create_graph=True records a backward as ops: the op whose backward runs, or SUMS
    # while gradients that meet are added (debug.py says which made a bad value); else None
    recording: Any = None
    SUMS = "sums"

    @staticmethod
    def before(cls: type[Function]) -> None:
        for listener in tuple(_HOOKS.listeners):
            listener.before(cls)

    @staticmethod
    def before_backward(fn: Function) -> None:
        for listener in tuple(_HOOKS.listeners):
            listener.before_backward(fn)

    @staticmethod
    def forward(fn: Function, inputs: tuple[Tensor, ...], out: Any) -> None:
        for listener in tuple(_HOOKS.listeners):
            listener.forward(fn, inputs, out)

    @staticmethod
    def backward(fn: Function, gys: Sequence[Any], gxs: tuple[Any, ...],
                 parents: tuple[Tensor, ...]) -> None:
        for listener in tuple(_HOOKS.listeners):
            listener.backward(fn, gys, gxs, parents)

    @staticmethod
    def start(root: Tensor, gradient: Any) -> None:
        for listener in tuple(_HOOKS.listeners):
            listener.start(root, gradient)

    @staticmethod
    def stored(t: Tensor, g: Any, previous: Any, total: Any) -> None:
        for listener in tuple(_HOOKS.listeners):
            listener.stored(t, g, previous, total)


class _DUAL:
    """Forward-mode AD's state (``autograd_forward``): ``level`` is the serial number of the
    dual level now active, None outside one; a tensor's tangent is kept as ``(serial,
    array)`` in its ``_fw`` slot, so one from a level already left never counts. ``duals``
    holds the tensors given a tangent in this level (weak references), whose tangents are
    dropped on leaving it. ``propagate`` is set by ``autograd_forward``: ``Function.apply``
    calls it after each op while a level is active (through the ``_HOOKS.active`` switch, so
    the engine pays nothing more outside one)."""

    level: int | None = None
    serial = 0
    duals: list[Any] = []
    propagate: Any = None
    # tr.func.jvp's try (``soft``): an op forward mode cannot take stops the tangents and sets
    # ``failed`` instead of raising, and jvp takes its other way
    soft = False
    failed = False


class _SAVED:
    """``saved_tensors_hooks``' (pack, unpack) pairs, the innermost last (only it applies, as
    PyTorch's), and ``disable_saved_tensors_hooks``' message while one is active."""

    hooks: list[tuple[Any, Any]] = []
    disabled: str | None = None


class _Packed:
    """An op's ``saved`` while a ``saved_tensors_hooks`` pair holds it: each saved array given
    to ``pack_hook`` as a tensor and kept as what that returned, every other entry as it is.
    ``unpacked`` gives the arrays back through ``unpack_hook`` (at each backward, as
    PyTorch's), with the op's record of which is an input or its output, which
    ``create_graph`` needs (``graph_input``)."""

    __slots__ = ("entries", "roles", "unpack", "others", "dev")

    def __init__(self, fn: Function, dev: Any) -> None:
        from .tensor import Tensor

        pack, self.unpack = _SAVED.hooks[-1]
        self.entries, self.roles, self.dev = [], [], dev
        saved = fn.saved
        for k, a in enumerate(saved):
            if not isinstance(a, dev.array_type):  # kept as it is
                self.entries.append(a)
                self.roles.append(None)
                continue
            # (the first entry that is this array: one array back for all, as they were one;
            # the inputs it is; whether it is the output)
            first = next(i for i in range(k + 1) if saved[i] is a)
            self.roles.append((first, [j for j, old in enumerate(fn.inputs) if old is a],
                               a is fn.y))
            self.entries.append(pack(Tensor._wrap(a, dev)))
        # the op holds no saved array of its own; the inputs it did not save stay (a fused
        # op's create_graph replay needs them all: they are its parents' arrays anyway)
        packed = {j for role in self.roles if role for j in role[1]}
        self.others = [None if j in packed else a for j, a in enumerate(fn.inputs)]
        fn.saved, fn.inputs, fn.y = self, self.others, None

    def unpacked(self, fn: Function) -> None:
        """Fill ``fn.saved`` (and ``inputs``, ``y``) with the unpacked arrays."""
        from .tensor import Tensor

        saved: list[Any] = []
        inputs = list(self.others)
        for k, (e, role) in enumerate(zip(self.entries, self.roles)):
            if role is None:
                saved.append(e)
                continue
            t = self.unpack(e)
            if not isinstance(t, Tensor):
                raise TypeError(f"saved_tensors_hooks: unpack_hook must return a Tensor, got "
                                f"{type(t).__name__} (for {type(fn).__name__}'s saved value "
                                f"{k})")
            if t._dev.xp is not self.dev.xp:
                raise RuntimeError(f"saved_tensors_hooks: unpack_hook returned a tensor on "
                                   f"{t.device!r} for {type(fn).__name__}'s saved value {k}, "
                                   f"which was on {self.dev.name!r}: give it back there")
            first, ins, is_y = role
            a = t._data if first == k else saved[first]
            saved.append(a)
            for j in ins:
                inputs[j] = a
            if is_y:
                fn.y = a
        fn.saved, fn.inputs = tuple(saved), inputs


@contextlib.contextmanager
def _recording(what: Any) -> Iterator[None]:
    """Set ``_HOOKS.recording`` to ``what`` for the block (restored after, even on an error)."""
    outer, _HOOKS.recording = _HOOKS.recording, what
    try:
        yield
    finally:
        _HOOKS.recording = outer


def is_grad_enabled() -> bool:
    """Whether ops record the graph now (False inside ``no_grad()``)."""
    return _GradMode.enabled


@contextlib.contextmanager
def _set_grad_enabled(mode: bool) -> Iterator[None]:
    prev = _GradMode.enabled
    _GradMode.enabled = mode
    try:
        yield
    finally:
        _GradMode.enabled = prev


def no_grad(fn: Any = None) -> Any:
    """Context manager: ops inside it record no graph (inference, optimizer updates). Also a
    decorator, as ``@tr.no_grad()`` or ``@tr.no_grad``."""
    if callable(fn):
        return _set_grad_enabled(False)(fn)
    return _set_grad_enabled(False)


def enable_grad(fn: Any = None) -> Any:
    """Context manager: record the graph again, even inside ``no_grad()``. Also a decorator,
    as ``@tr.enable_grad()`` or ``@tr.enable_grad``."""
    if callable(fn):
        return _set_grad_enabled(True)(fn)
    return _set_grad_enabled(True)


class set_grad_enabled:
    """``tr.set_grad_enabled(mode)``, as PyTorch's: turns recording on or off now; used as a
    context manager (``with tr.set_grad_enabled(training):``), it restores the previous mode
    on leaving."""

    def __init__(self, mode: bool) -> None:
        self.mode, self.prev = bool(mode), _GradMode.enabled
        _GradMode.enabled = self.mode

    def __enter__(self) -> None:  # (the mode to restore is the one before __init__)
        _GradMode.enabled = self.mode

    def __exit__(self, *exc: Any) -> None:
        _GradMode.enabled = self.prev

    def __call__(self, fn: Any) -> Any:
        """As a decorator (``@tr.set_grad_enabled(False)``): the mode applies inside ``fn``
        only, and making the decorator changes nothing."""
        _GradMode.enabled = self.prev
        return _set_grad_enabled(self.mode)(fn)


class _GradModeInference:
    enabled = False  # whether an inference_mode block is active (is_inference_mode_enabled)


@contextlib.contextmanager
def _inference(mode: bool) -> Iterator[None]:
    outer, _GradModeInference.enabled = _GradModeInference.enabled, mode
    try:
        with _set_grad_enabled(not mode):  # inference_mode(False): recording on, as PyTorch
            yield
    finally:
        _GradModeInference.enabled = outer


def inference_mode(mode: Any = True) -> Any:
    """PyTorch's ``inference_mode``: here ``no_grad()`` (``mode=False``: ``enable_grad()``)
    that ``is_inference_mode_enabled()`` sees; tensors made inside are ordinary ones
    (``x.is_inference()`` is False). Also a decorator, as ``@tr.inference_mode()`` or
    ``@tr.inference_mode``."""
    if callable(mode):
        return _inference(True)(mode)
    return _inference(bool(mode))


def is_inference_mode_enabled() -> bool:
    """Whether an ``inference_mode()`` block is active, as PyTorch's (False inside a plain
    ``no_grad()``, and inside ``inference_mode(False)``)."""
    return _GradModeInference.enabled


def toposort(root: Function | Sequence[Function], inputs_in_order: bool = False
             ) -> list[Function]:
    """Every op that ``root`` (an op, or several) depends on (itself included), each listed
    after its inputs' ops.

    Depth-first with an explicit stack: a node is pushed once to expand it, and when expanded
    pushed again under ``_EMIT`` and its children, so that it is emitted after all of them:
    the post-order a recursive walk would give. With ``inputs_in_order`` an op's first input
    is walked first (the order the forward pass made them in, for drawing the graph); backward
    does not care.
    """
    order: list[Function] = []
    seen: set[int] = set()
    stack: list[Any] = list(root) if isinstance(root, (list, tuple)) else [root]
    while stack:
        fn = stack.pop()
        if fn is _EMIT:  # the node under the marker has all its children listed
            order.append(stack.pop())
            continue
        k = id(fn)
        if k in seen:
            continue
        if fn.parents is None:
            raise RuntimeError(FREED_GRAPH_MSG)
        seen.add(k)
        stack.append(fn)
        stack.append(_EMIT)
        for c, _ in reversed(fn.edges) if inputs_in_order else fn.edges:
            if c is not None and id(c) not in seen:
                stack.append(c)
    return order


_EMIT = object()  # toposort's marker: emit the node below it


def run_backward(
    root: Tensor,
    gradient: Any,
    retain_graph: bool,
    create_graph: bool,
    inputs: Sequence[Tensor] | None = None,
    accumulate: bool = False,
    more: Sequence[tuple[Tensor, Any]] = (),
) -> list[Any] | None:
    """Backpropagate ``gradient`` (an array, or a Tensor when ``create_graph``) from ``root``.

    Without ``inputs``, gradients are accumulated into the ``.grad`` of the leaves. With
    ``inputs``, no leaf's ``.grad`` changes and the gradients with respect to ``inputs`` are
    returned instead (None where one is unreachable). Either way a tensor that called
    ``retain_grad()`` and that the backward passes gets its gradient in ``.grad``, as
    PyTorch's.
    With ``create_graph``, the gradients are Tensors whose own graph can be differentiated.
    ``accumulate``: the ``inputs`` are ``backward(inputs=)``'s, not ``grad``'s. ``more``:
    other roots, each with its gradient, backpropagated in the same pass (``grad`` of several
    outputs: a hook sees the sum once, as PyTorch's).
    """
    from .tensor import Tensor, _as_device_array

    wanted = None if inputs is None else {id(t): i for i, t in enumerate(inputs)}
    # a wanted non-leaf is found at the op (and output) that made it; the op is alive, so its
    # id is unique
    wanted_ops = {} if inputs is None else {
        (id(t._ctx), t._out): i for i, t in enumerate(inputs) if t._ctx is not None}
    found: list[Any] = [None] * (0 if inputs is None else len(inputs))
    # ids of the arrays already passed along as gradients (the given one included): a leaf
    # gets such an array as a copy, so that no two gradients are one object
    roots = [(root, gradient), *more]
    passed: set[int] = {id(g) for _, g in roots}

    hooked: dict[int, list[Any]] = {}  # leaves with hooks: [t, sum of g, fn], until the end

    def deliver(t: Tensor, g: Any, fn: Function | None = None, summed: bool = False) -> None:
        """Hand ``g`` to a leaf (or a wanted input): its ``.grad`` or the result list. ``fn``
        is the op whose backward computed ``g``. A leaf with hooks (``register_hook``, or
        ``register_post_accumulate_grad_hook``) gets the sum of this backward's gradients at
        the end, through its hooks once, as in PyTorch."""
        if wanted is not None and id(t) not in wanted:
            return  # tr.grad: a leaf it was not asked about (nor its hooks) gets nothing
        # (read once: getattr of an unset slot is a failed lookup, slow; this runs per use)
        post = getattr(t, "_post_hooks", None)
        if not summed and (post or getattr(t, "_hooks", None)):
            slot = hooked.get(id(t))
            hooked[id(t)] = [t, g, fn] if slot is None else [t, slot[1] + g, None]
            return
        if wanted is not None:
            i = wanted[id(t)]
            found[i] = g if found[i] is None else found[i] + g
            return
        previous = t.grad
        if create_graph:  # g + 0: its own array, so no two gradients are one object
            t.grad = g + 0 if t.grad is None else t.grad + g
        elif t.grad is None:  # own memory: never a view, nor an array passed elsewhere or
            # that the op holds (what it saved, its inputs, its output)
            owned = getattr(g, "base", g) is None and id(g) not in passed and (
                fn is None or not _holds(fn, g))
            passed.add(id(g))
            t.grad = Tensor._wrap(g if owned else g.copy(), t._dev)
            t.grad._views = None  # (set: the next use reads it below, a slot, not a lookup)
        else:  # into the same tensor, as PyTorch: a .grad held before sees the sum
            grad = t.grad
            if grad.is_sparse:  # sparse + dense: dense, as PyTorch's
                grad = t.grad = Tensor._wrap(grad.detach().to_dense()._data.copy(), t._dev)
            old = grad._data
            if grad._base is None and not getattr(grad, "_views", None):
                grad._data = old + g  # the common case, written out: this runs per use
            else:
                _add_into(grad, old + g)
            if _HOOKS.active:
                previous = Tensor._wrap(old, t._dev)
        if _HOOKS.active:
            _HOOKS.stored(t, g, previous, t.grad)
        if post:  # register_post_accumulate_grad_hook's
            post_accumulate(t)

    def deliver_sparse(t: Tensor, g: Any) -> None:
        """Hand a sparse gradient (``sparse.SparseTensor``) to a leaf."""
        from . import sparse

        if getattr(t, "_hooks", None) or getattr(t, "_post_hooks", None):
            raise sparse.refuse("a gradient hook on a tensor with a sparse gradient")
        if wanted is not None:
            if id(t) in wanted:
                i = wanted[id(t)]
                found[i] = g if found[i] is None else found[i] + g
            return
        sparse.accumulate(t, g)

    def through_hooks(hooks: list[Any] | None, g: Any) -> Any:
        """``g`` after the hooks; what they saw or returned, the user may hold: a leaf gets
        it as a copy (``passed``)."""
        if not hooks or g is None:
            return g
        passed.add(id(g))
        g = _hooked(hooks, g, create_graph)
        passed.add(id(g))
        return g

    def add(fn: Function, out: int, g: Any) -> None:
        """Add ``g`` to the gradient waiting for output ``out`` of ``fn``."""
        passed.add(id(g))
        k = id(fn)
        if fn.n_out == 1:
            prev = grads.get(k)
            grads[k] = g if prev is None else prev + g
        else:  # an op with several outputs waits for a list, one slot per output
            slots = grads.setdefault(k, [None] * fn.n_out)
            slots[out] = g if slots[out] is None else slots[out] + g

    def results() -> list[Any] | None:
        """The gradients for ``inputs``, each with memory of its own (never a view or an
        array shared with another gradient)."""
        for t, g, fn in hooked.values():  # the hooked leaves' sums, through their hooks
            deliver(t, through_hooks(getattr(t, "_hooks", None), g), fn, summed=True)
        if inputs is None:
            return None
        return [None if g is None else g + 0 if create_graph else
                g.detach() if getattr(g, "is_sparse", False) else g.copy() for g in found]

    if _HOOKS.active:
        _HOOKS.start(root, gradient)
    grads: dict[int, Any] = {}
    fns = []
    for r, g in roots:
        if r._ctx is None and wanted is not None and id(r) not in wanted:
            if len(roots) == 1:  # a single root is reached all the same: its hooks run
                through_hooks(getattr(r, "_hooks", None), g)
        elif r._ctx is None:  # backward() on a leaf: its gradient is the given one
            deliver(r, g)
        else:
            add(r._ctx, r._out, g)
            fns.append(r._ctx)
    if not fns:
        return results()
    order = toposort(fns)
    runs = None if inputs is None else _leading_to(order, wanted or {}, wanted_ops)
    if runs is not None:  # tr.grad: only the ops on a path to an input run, as PyTorch's;
        # a single root's op is reached all the same: it calls its outputs' hooks and keeps
        # retained gradients, and stops there
        reached = {id(fns[0])} if len(roots) == 1 else set()
        order = [fn for fn in order if id(fn) in runs or id(fn) in reached
                 or any((id(fn), k) in wanted_ops for k in range(fn.n_out))]
    if create_graph:  # refuse before anything changes, not halfway through
        for fn in order:
            if not fn.differentiable_backward and (runs is None or id(fn) in runs):
                raise RuntimeError(getattr(fn, "why_no_graph", None) or (
                    f"{type(fn).__name__} computes its gradient with array code that has no "
                    "derivative of its own (differentiable_backward = False), so "
                    "create_graph=True cannot go through it"))
    with _set_grad_enabled(create_graph), _recording(_HOOKS.SUMS if create_graph else None):
        for fn in reversed(order):
            gy = grads.pop(id(fn), None)
            parents = fn.parents
            if gy is not None:
                if fn.hooks:  # register_hook's, on this op's outputs
                    gy = through_hooks(fn.hooks.get(0), gy) if fn.n_out == 1 else [
                        through_hooks(fn.hooks.get(k), g) for k, g in enumerate(gy)]
                gys = gy if fn.n_out > 1 else (gy,)
                if fn.retained or wanted_ops:
                    for out, g in enumerate(gys):
                        if g is None:
                            continue
                        if fn.retained is not None and out in fn.retained:
                            t = fn.retained[out]()
                            if t is not None:
                                deliver_retained(t, g, create_graph)
                        i = wanted_ops.get((id(fn), out)) if wanted_ops else None
                        if i is not None:
                            found[i] = g if found[i] is None else found[i] + g
                stops = runs is not None and id(fn) not in runs
                wanted_here = stops and any((id(fn), k) in wanted_ops for k in range(fn.n_out))
                if fn.hooks and "pre" in fn.hooks and (not stops or wanted_here and accumulate):
                    # the node's own pre-hooks, after its outputs' hooks (backward(inputs=)
                    # runs a wanted result's op, as PyTorch's; grad() does not)
                    gys = _node_hooked(fn, "pre", gys, (), create_graph)
                    gy = gys if fn.n_out > 1 else gys[0]
                    if gy is None:
                        continue
                if stops:
                    # a wanted result with nothing wanted behind it: its op does not run,
                    # but backward(inputs=) frees it all the same, as PyTorch's (whose
                    # backward runs it, into nothing; its grad() keeps it)
                    if not retain_graph and accumulate and wanted_here:
                        fn.parents, fn.edges, fn.inputs, fn.saved, fn.y = None, (), (), (), None
                    continue
                packed = fn.saved if type(fn.saved) is _Packed else None
                if packed is not None:  # saved_tensors_hooks': unpacked for this backward
                    packed.unpacked(fn)
                if _HOOKS.active:  # the profiler (profiler.py) times the backward
                    _HOOKS.before_backward(fn)
                try:
                    if create_graph:  # debug.py's messages name the op whose backward this is
                        with _recording(fn):
                            gxs = fn.graph_backward(gy, parents)
                    else:  # (the last backward may reuse saved buffers as scratch space; not
                        # those unpack_hook gave, which the hooks' owner may hold)
                        fn.final = not retain_graph and packed is None
                        gxs = fn.backward(*gys) if fn.n_out > 1 else fn.backward(gy)
                except BaseException:
                    if packed is not None:  # packed again, as it was
                        fn.saved, fn.inputs, fn.y = packed, packed.others, None
                    raise
                if type(gxs) is not tuple or len(gxs) != len(parents):
                    # (an op of one input may return its gradient alone: the common case first)
                    gxs = (gxs,) if len(parents) == 1 and not isinstance(gxs, (tuple, list)) \
                        else _gradients(fn, gxs, parents)
                if fn.hooks and "post" in fn.hooks:  # the node's own hooks (register_hook)
                    gxs = _for_post_hooks(fn, parents, gxs, runs, wanted, wanted_ops)
                    gxs = tuple(_node_hooked(fn, "post", gxs, tuple(gys), create_graph))
                if _HOOKS.active:  # trace, detect_anomaly (debug.py)
                    _HOOKS.backward(fn, gys, gxs, parents)
                for p, g, (ctx, out) in zip(parents, gxs, fn.edges):
                    if g is None or (ctx is None and (out < 0 or p._ctx is not None
                                                      or not p.requires_grad)):
                        continue  # a leaf that needs none, or needed none when this op ran,
                        # or was made a result since
                    if not create_graph and type(g) is not p._dev.array_type:
                        if getattr(g, "is_sparse", False):  # embedding(sparse=True)'s
                            from . import sparse

                            if ctx is None:
                                deliver_sparse(p, g)
                                continue
                            g = sparse.dense_array(g)  # dense, into the op that made p
                        g = _as_device_array(g, p._dev, f"{type(fn).__name__}.backward")
                    # the input's shape when this op ran (its node's: an in-place
                    # unsqueeze_ may have changed p's since)
                    shape = p._data.shape if ctx is None else ctx.shapes[out]
                    if g.shape != shape:
                        if not _broadcasts_to(shape, g.shape):
                            raise RuntimeError(
                                f"{type(fn).__name__}.backward returned a gradient of shape "
                                f"{tuple(g.shape)} for an input of shape {tuple(shape)}: it "
                                "must have the input's shape (or a shape it broadcasts to)"
                            )
                        g = sum_to(g, shape)
                    if g.dtype != p._data.dtype:
                        if g.dtype.kind == "c" and p._data.dtype.kind != "c":
                            g = g.real  # a real input's gradient: the real part (as PyTorch)
                        g = g.astype(p.dtype)
                    if ctx is None:
                        deliver(p, g, fn)
                    elif ctx.n_out == 1:  # add(ctx, 0, g), written out: this runs per input
                        passed.add(id(g))
                        prev = grads.get(id(ctx))
                        grads[id(ctx)] = g if prev is None else prev + g
                    else:
                        add(ctx, out, g)
                if packed is not None:  # packed again: the next backward unpacks again
                    fn.saved, fn.inputs, fn.y = packed, packed.others, None
            if not retain_graph and (runs is None or id(fn) in runs):  # free the graph
                # behind this op as the walk goes
                fn.parents, fn.edges, fn.inputs, fn.saved, fn.y = None, (), (), (), None
    return results()


def _leading_to(order: list[Function], wanted: dict[int, int],
                wanted_ops: dict[tuple[int, int], int]) -> set[int]:
    """The ids of the ops in ``order`` (each after its inputs' ops) whose backward leads to a
    wanted input: one of their inputs is a wanted leaf or a wanted result, or is made by
    such an op. ``tr.grad`` runs only these; the rest of the graph stays as it is."""
    runs: set[int] = set()
    for fn in order:
        for p, (ctx, out) in zip(fn.parents or (), fn.edges):
            if (id(ctx) in runs or (id(ctx), out) in wanted_ops) if ctx is not None \
                    else id(p) in wanted:
                runs.add(id(fn))
                break
    return runs


def _hooked(hooks: list[Any] | None, g: Any, create_graph: bool) -> Any:
    """The gradient ``g`` after a tensor's hooks (``register_hook``), in the order they were
    registered: each gets it as a Tensor and may return a replacement of its shape."""
    if not hooks or g is None:
        return g
    from .backend import device_of
    from .tensor import Tensor

    t = g if create_graph else Tensor._wrap(g, device_of(g))
    for hook in list(hooks):
        r = hook(t)
        if r is None:
            continue
        if not isinstance(r, Tensor):
            raise TypeError(f"a gradient hook returned {type(r).__name__}: it must return a "
                            "Tensor (the new gradient) or None")
        if r.shape != t.shape:
            raise RuntimeError(f"a gradient hook returned shape {r.shape} for a gradient of "
                               f"shape {t.shape}")
        t = r if r.dtype == t.dtype else r.to(dtype=t.dtype)
    return t if create_graph else t._data


def _for_post_hooks(fn: Function, parents: tuple[Tensor, ...], gxs: tuple[Any, ...],
                    runs: set[int] | None, wanted: dict[int, int] | None,
                    wanted_ops: dict[tuple[int, int], int]) -> list[Any]:
    """The gradients a node's post-hooks are given, as PyTorch's: each in its input's shape
    (summed over what the op broadcast), None for an input that needs none, or, in
    ``grad``/``backward(inputs=)``, that leads to no wanted tensor."""
    given = []
    for p, g, (ctx, out) in zip(parents, gxs, fn.edges):
        needed = out >= 0 or ctx is not None
        if needed and runs is not None:
            needed = (id(ctx) in runs or (id(ctx), out) in wanted_ops) if ctx is not None \
                else wanted is not None and id(p) in wanted
        if g is not None and needed:
            shape = p._data.shape if ctx is None else ctx.shapes[out]
            if g.shape != shape and _broadcasts_to(shape, g.shape):
                g = sum_to(g, shape)
        given.append(g if needed else None)
    return given


def _node_hooked(fn: Function, kind: str, grads: Sequence[Any], seen: tuple[Any, ...],
                 create_graph: bool) -> list[Any]:
    """``grads`` after the node's hooks of ``kind`` (``Function.register_prehook``: "pre",
    given the gradients of its outputs; ``register_hook``: "post", given those of its inputs
    and ``seen``, those of its outputs), each as a tuple of Tensors and None, as PyTorch's; a
    tuple a hook returns replaces them (each the same shape, or None)."""
    from .backend import device_of
    from .tensor import Tensor

    def tensors(gs: Sequence[Any]) -> tuple[Any, ...]:
        return tuple(g if g is None or isinstance(g, Tensor) else Tensor._wrap(g, device_of(g))
                     for g in gs)

    now, outs = tensors(grads), tensors(seen)
    for hook in list(fn.hooks[kind]):  # type: ignore[index]
        new = hook(now) if kind == "pre" else hook(now, outs)
        if new is None:
            continue
        if not isinstance(new, (tuple, list)) or len(new) != len(now):
            raise RuntimeError(f"a {fn.name()} {'pre-' if kind == 'pre' else ''}hook returned "
                               f"{type(new).__name__}: it must return None or a tuple of "
                               f"{len(now)} gradients (Tensors or None)")
        for g, old in zip(new, now):
            if g is not None and (not isinstance(g, Tensor) or (
                    old is not None and g.shape != old.shape)):
                raise RuntimeError(f"a {fn.name()} hook returned {g!r} where a gradient of "
                                   f"shape {None if old is None else old.shape} goes")
        now = tuple(new)
    return [g if g is None or create_graph else g._data for g in now]


def post_accumulate(t: Tensor) -> None:
    """Call the leaf ``t``'s post-accumulate-grad hooks, in the order they were registered,
    now that its ``.grad`` holds this backward's gradient."""
    for hook in list(t._post_hooks):
        if hook(t) is not None:
            raise RuntimeError("a post-accumulate-grad hook returned a value: it must return "
                               "None (it may change the tensor or its .grad in place)")


def _add_into(grad: Tensor, total: Any) -> None:
    """``grad`` (a view, or one with views) takes the values ``total``: through to its base,
    on to its views (``_set_values``)."""
    from .tensor import _set_values

    _set_values(grad, total, "a gradient accumulated")


def _holds(fn: Function, a: Any) -> bool:
    """Whether ``fn`` holds the array ``a`` (as its output, something saved or an input's
    data), by identity; plain loops, as this runs for every gradient a leaf receives."""
    if a is fn.y or type(fn.saved) is _Packed:  # (packed: what unpack gave may be held)
        return True
    for s in fn.saved:
        if s is a:
            return True
    for s in fn.inputs:  # the inputs' arrays when it ran
        if s is a:
            return True
    for p in fn.parents or ():  # and now (a graph freed as the walk went: none)
        if p._data is a:
            return True
    return False


def _broadcasts_to(shape: tuple[int, ...], target: tuple[int, ...]) -> bool:
    """Whether an array of ``shape`` broadcasts to ``target`` (so a gradient of ``target``'s
    shape sums back to ``shape``)."""
    if len(shape) > len(target):
        return False
    return all(a == b or a == 1 for a, b in zip(shape[::-1], target[::-1]))


def _gradients(fn: Function, gxs: Any, parents: tuple[Tensor, ...]) -> tuple[Any, ...]:
    """``fn.backward``'s result as a tuple with one entry per input, or a clear error."""
    if isinstance(gxs, list):
        gxs = tuple(gxs)
    elif type(gxs) is not tuple:
        gxs = (gxs,)
    if len(gxs) != len(parents):
        raise RuntimeError(
            f"{type(fn).__name__}.backward returned {len(gxs)} gradient(s) for "
            f"{len(parents)} input(s): it must return one per Tensor input of forward, in "
            "order (None for an input that gets no gradient)")
    return gxs


def deliver_retained(t: Tensor, g: Any, create_graph: bool) -> None:
    """Keep the gradient of a non-leaf that asked for it with ``retain_grad()``."""
    from .tensor import Tensor

    previous = t.grad
    if create_graph:  # g + 0: its own tensor, as a leaf's (g flows on to other ops)
        t.grad = g + 0 if t.grad is None else t.grad + g
    else:  # a copy (g flows on to other ops), or a new sum (out of place, as PyTorch's)
        t.grad = Tensor._wrap(g.copy() if t.grad is None else t.grad._data + g, t._dev)
    if _HOOKS.active:
        _HOOKS.stored(t, g, previous, t.grad)


def grad(
    outputs: Tensor | Sequence[Tensor],
    inputs: Tensor | Sequence[Tensor],
    grad_outputs: Any = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    allow_unused: bool | None = None,
    is_grads_batched: bool = False,
    materialize_grads: bool = False,
) -> tuple[Tensor | None, ...]:
    """Gradients of ``outputs`` with respect to ``inputs``, returned (not stored in ``.grad``).

    As ``torch.autograd.grad``: ``grad_outputs`` is one upstream gradient per output (needed for
    non-scalar outputs); with ``create_graph=True`` the results can be differentiated again.
    An input the outputs do not depend on is an error, or None with ``allow_unused=True``, or
    zeros with ``materialize_grads=True`` (``allow_unused`` defaults to it). With
    ``is_grads_batched=True`` each grad_output has a leading batch axis and each result the
    same: the gradients for each of its rows, stacked (one backward per row, where PyTorch
    vectorizes them).
    """
    from .tensor import Tensor

    if materialize_grads and allow_unused is False:
        raise ValueError("grad: materialize_grads=True gives zeros for the unused inputs, so "
                         "allow_unused must be True or not passed, not False")
    if allow_unused is None:
        allow_unused = materialize_grads
    if is_grads_batched:
        return _batched_grad(outputs, inputs, grad_outputs, retain_graph, create_graph,
                             allow_unused, materialize_grads)

    outs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    ins = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    if grad_outputs is None or isinstance(grad_outputs, Tensor):
        gos = [grad_outputs] * len(outs)
    else:
        gos = list(grad_outputs)
    if len(gos) != len(outs):
        raise ValueError(f"grad: got {len(gos)} grad_outputs for {len(outs)} outputs")
    for t in ins:
        if not t.requires_grad:
            raise RuntimeError("grad: one of the inputs does not require grad")
    if retain_graph is None:
        retain_graph = create_graph
    asked = ins  # an input given twice gets its gradient twice, as in PyTorch
    first = {id(t): i for i, t in reversed(list(enumerate(asked)))}
    ins = [t for i, t in enumerate(asked) if first[id(t)] == i]
    roots = [(out, out._initial_grad(go, create_graph)) for out, go in zip(outs, gos)]
    total = run_backward(*roots[0], retain_graph, create_graph, inputs=ins, more=roots[1:])
    assert total is not None
    by_id = {id(t): g for t, g in zip(ins, total)}
    result: list[Tensor | None] = []
    for t in asked:
        g = by_id[id(t)]
        if g is None:
            if not allow_unused:
                raise RuntimeError(
                    "grad: one of the inputs was not used to compute the outputs; "
                    "pass allow_unused=True to get None for it"
                )
            result.append(None if not materialize_grads else
                          Tensor._wrap(t._dev.xp.zeros_like(t._data), t._dev, create_graph))
        else:
            result.append(g if isinstance(g, Tensor) or getattr(g, "is_sparse", False)
                          else Tensor._wrap(g, t.device))
    return tuple(result)


def _batched_grad(outputs: Any, inputs: Any, grad_outputs: Any, retain_graph: bool | None,
                  create_graph: bool, allow_unused: bool, materialize_grads: bool
                  ) -> tuple[Tensor | None, ...]:
    """``grad(..., is_grads_batched=True)``: one ``grad`` per row of the grad_outputs, each
    result the stack of its rows' gradients."""
    from .ops.movement import stack
    from .tensor import Tensor

    gos = [grad_outputs] if isinstance(grad_outputs, Tensor) else list(grad_outputs or ())
    if not gos or not all(isinstance(g, Tensor) and g.ndim >= 1 for g in gos):
        raise ValueError("grad: is_grads_batched=True needs grad_outputs, one tensor per "
                         "output with a leading batch axis")
    n = gos[0].shape[0]
    if any(g.shape[0] != n for g in gos):
        raise ValueError(f"grad: is_grads_batched=True needs one batch size, got "
                         f"{[g.shape[0] for g in gos]}")
    keep = create_graph if retain_graph is None else retain_graph
    rows = [grad(outputs, inputs, [g[b] for g in gos], retain_graph=keep or b < n - 1,
                 create_graph=create_graph, allow_unused=allow_unused) for b in range(n)]
    ins = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    # an unused input's zeros have the input's shape, without the batch axis, as PyTorch's
    return tuple(stack(list(r)) if r[0] is not None else None if not materialize_grads else
                 Tensor._wrap(t._dev.xp.zeros_like(t._data), t._dev, create_graph)
                 for r, t in zip(zip(*rows), ins))


# ---- PyTorch-style custom functions: tr.autograd.Function -----------------------------------


class FunctionCtx:
    """The ``ctx`` a ``tr.autograd.Function``'s forward and backward share, as PyTorch's:
    ``save_for_backward(*tensors)`` and ``saved_tensors``, ``needs_input_grad`` (one bool per
    argument of ``apply``), and any attribute the forward sets (``ctx.k = k``)."""

    def __init__(self, needs_input_grad: tuple[bool, ...]) -> None:
        self.needs_input_grad = needs_input_grad
        self.saved_tensors: tuple[Any, ...] = ()
        self.dirty: tuple[Any, ...] = ()
        self.non_differentiable: tuple[Any, ...] = ()
        self._dirty_outputs: list[tuple[int, int]] = []  # (argument, output) pairs
        self._constant_outputs: set[int] = set()  # outputs that never require grad
        self.materialize_grads = True

    def save_for_backward(self, *tensors: Any) -> None:
        self.saved_tensors = tensors

    def save_for_forward(self, *tensors: Any) -> None:
        """Keep tensors for ``jvp`` (forward-mode AD), which finds them in
        ``ctx.saved_tensors``, as PyTorch's."""
        self.for_forward = tensors

    def mark_dirty(self, *tensors: Any) -> None:
        """Say that forward changed these arguments in place, as PyTorch's: each must be
        returned as an output, and ``apply`` then gives the caller's own tensor, changed in
        place and recorded as an in-place op (refused on a leaf that requires grad)."""
        self.dirty = tensors

    def mark_non_differentiable(self, *tensors: Any) -> None:
        """Say that these outputs have no gradient, as PyTorch's: ``apply`` returns them not
        requiring grad, and backward gets zeros for them."""
        self.non_differentiable = tensors

    def set_materialize_grads(self, value: bool) -> None:
        """Whether backward gets zeros (True, the default) or None (False) for an output
        that no gradient reached, as PyTorch's."""
        self.materialize_grads = bool(value)


class Function:
    """A differentiable function with a hand-written backward, written as in PyTorch::

        class Clamp(tr.autograd.Function):
            @staticmethod
            def forward(ctx, x, lo):
                ctx.save_for_backward(x)
                ctx.lo = lo
                return x.clamp(min=lo)

            @staticmethod
            def backward(ctx, gy):
                (x,) = ctx.saved_tensors
                return gy * (x > ctx.lo), None   # one gradient (or None) per argument

        y = Clamp.apply(x, 0.0)

    Both run on Tensors with recording off. As in PyTorch: ``apply`` takes forward's
    arguments, by position or by name (defaults filled in), and backward returns one gradient
    (or None) per argument; forward may instead be written without ``ctx``, with a
    ``setup_context(ctx, inputs, output)`` that fills it (PyTorch 2's style); forward may
    return numbers and other non-tensors among its outputs (they come back as they are, and
    backward gets None for them); integer outputs and those given to
    ``ctx.mark_non_differentiable`` do not require grad, and backward gets zeros for them.
    Built on the engine's own op class (``tr.Function``, which works on arrays and is what
    the project's ops use). Under ``create_graph=True`` backward runs recorded, on tensors in
    the graph (the saved inputs and outputs stand for themselves), so a backward written with
    Tensor ops is differentiable again, as PyTorch's (``tr.autograd.gradgradcheck`` checks
    it); one marked ``@once_differentiable`` is refused there instead. Forward-mode AD
    (``tr.autograd.forward_ad``) goes through a ``jvp(ctx, *tangents)`` where the class has
    one (tensors kept with ``ctx.save_for_forward`` are its ``ctx.saved_tensors``), as
    PyTorch's; without one, through backward differentiated once more (the double-vjp
    trick), where PyTorch's refuses.
    """

    @staticmethod
    def forward(ctx: FunctionCtx, *args: Any) -> Any:
        raise NotImplementedError("a tr.autograd.Function needs a forward(ctx, *args)")

    @staticmethod
    def backward(ctx: FunctionCtx, *grad_outputs: Any) -> Any:
        raise NotImplementedError("a tr.autograd.Function needs a backward(ctx, *grads)")

    @staticmethod
    def setup_context(ctx: FunctionCtx, inputs: tuple[Any, ...], output: Any) -> Any:
        """PyTorch 2's style: fill ``ctx`` from forward's ``inputs`` and ``output`` (then
        forward takes no ``ctx``). Not defined: forward takes ``ctx`` first."""
        raise NotImplementedError

    @classmethod
    def _separate(cls) -> bool:
        """Whether forward is written without ctx (a ``setup_context`` of its own)."""
        return cls.setup_context is not Function.setup_context

    @classmethod
    def apply(cls, *args: Any, **kwargs: Any) -> Any:
        from .tensor import Tensor

        args = _bound(cls, args, kwargs)
        at = tuple(i for i, a in enumerate(args) if isinstance(a, Tensor))
        if not at:
            raise TypeError(f"{cls.__name__}.apply needs at least one Tensor argument")
        ctx = FunctionCtx(tuple(isinstance(a, Tensor) and a.requires_grad for a in args))
        ctx._tuple, ctx._others = False, {}  # (set by the op: the outputs' layout)
        out = _op_for(cls).apply(*(args[i] for i in at), user=cls, ctx=ctx, args=args, at=at)
        tensors = list(out) if type(out) is tuple else [out]
        outs: list[Any] = []
        for k in range(len(tensors) + len(ctx._others)):  # the non-tensors back in place
            if k in ctx._others:
                outs.append(ctx._others[k])
            else:
                t = tensors.pop(0)
                outs.append(Tensor._wrap(t._data, t._dev) if k in ctx._constant_outputs
                            else t)
        for arg, k in ctx._dirty_outputs:  # the caller's tensor takes the result in place
            t = args[arg]
            outs[k] = t._overwrite(f"{cls.__name__} (mark_dirty)", lambda old, o=outs[k]: o)
        return tuple(outs) if ctx._tuple else outs[0]


_OPS: dict[type, type] = {}


def _op_for(user: type) -> type:
    """The engine op that runs ``user`` (one class per Function, named after it, so errors and
    graph drawings say which)."""
    op = _OPS.get(user)
    if op is None:
        from .tensor import Function as Op

        # a user's jvp (forward mode), where given; else the engine's generic rule
        rule = {"jvp": _UserOp.user_jvp} if callable(getattr(user, "jvp", None)) else {}
        op = _OPS[user] = type(user.__name__, (_UserOp, Op), rule)
    return op


def _bound(user: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, ...]:
    """``apply``'s arguments as forward's positional ones, keywords bound by name and defaults
    filled in, as PyTorch binds them."""
    if not kwargs:
        return args
    import inspect

    params = list(inspect.signature(user.forward).parameters.values())
    if not user._separate():
        params = params[1:]  # ctx
    try:
        bound = inspect.Signature(params).bind(*args, **kwargs)
    except TypeError as e:
        raise TypeError(f"{user.__name__}.apply: {e}") from None
    bound.apply_defaults()
    return tuple(bound.args) + tuple(bound.kwargs.values())


class _UserOp:
    """The engine side of a ``tr.autograd.Function``: arrays in and out, the user's forward
    and backward on Tensors in between."""

    differentiable_backward = True
    complex_ok = True  # the user's backward, as PyTorch's, is the user's to make right

    def forward(self, *arrays: Any, user: type, ctx: FunctionCtx, args: tuple[Any, ...],
                at: tuple[int, ...]) -> Any:
        from .tensor import Tensor

        dev = args[at[0]]._dev
        call = list(args)
        for i, a in zip(at, arrays):
            call[i] = Tensor._wrap(a, dev)  # the values, outside any graph
        with _set_grad_enabled(False):
            if user._separate():  # PyTorch 2's style: forward without ctx, then setup_context
                out = user.forward(*call)
                user.setup_context(ctx, tuple(call), out)
            else:
                out = user.forward(ctx, *call)
        self.user, self.ctx, self.at, self.dev, self.n_args = user, ctx, at, dev, len(args)
        outs = out if isinstance(out, tuple) else (out,)
        ctx._tuple = isinstance(out, tuple)
        ctx._others = {k: o for k, o in enumerate(outs) if not isinstance(o, Tensor)}
        if len(ctx._others) == len(outs):
            raise TypeError(f"{user.__name__}.forward must return a Tensor or a tuple with at "
                            f"least one, got {type(out).__name__}")
        # (shape, dtype) of each output, None for a non-tensor: backward's zeros and Nones
        self.outs_like = [None if k in ctx._others else (o.shape, o.dtype)
                          for k, o in enumerate(outs)]
        ctx._constant_outputs = {k for k, o in enumerate(outs) if isinstance(o, Tensor) and (
            o.dtype.kind not in "fc" or any(o is n for n in ctx.non_differentiable))}
        for d in ctx.dirty:
            arg = next((i for i in at if call[i] is d), None)
            k = next((k for k, o in enumerate(outs) if o is d), None)
            if arg is None or k is None:
                raise RuntimeError(f"{user.__name__}.forward: a tensor given to "
                                   "ctx.mark_dirty must be one of its Tensor arguments, changed "
                                   "in place and returned as an output")
            ctx._dirty_outputs.append((arg, k))
        arrays_out = tuple(o._data for o in outs if isinstance(o, Tensor))
        # the saved tensors' arrays go where the engine keeps an op's (and the inputs', so
        # that create_graph can tell which is an input or an output: graph_input; and where
        # saved_tensors_hooks pack them); ctx gets them back as tensors for each backward
        st, ctx.saved_tensors = ctx.saved_tensors, ()
        self.saved = tuple(t._data for t in st if isinstance(t, Tensor))
        self.layout = tuple(None if isinstance(t, Tensor) else (t,) for t in st)
        # which output each saved tensor is (None: not one), known now: saved_tensors_hooks
        # may give back other arrays
        self.out_roles = tuple(next((k for k, a in enumerate(arrays_out) if t._data is a),
                                    None) for t in st if isinstance(t, Tensor))
        # the argument tensors forward saw: one kept on ctx (ctx.x = x) stands for that
        # input under create_graph too (graph_backward), so the engine keeps the inputs
        self.wrappers = tuple(call[i] for i in at)
        if any(v is w for v in vars(ctx).values() for w in self.wrappers):
            self.inputs = arrays
        return arrays_out if len(arrays_out) > 1 else arrays_out[0]

    def user_jvp(self, *tangents: Any) -> Any:
        """Forward mode through the user's ``jvp(ctx, *tangents)``, as PyTorch's: one tangent
        per argument of ``apply`` (None for a non-tensor), ``ctx.saved_tensors`` what forward
        gave ``ctx.save_for_forward``; it returns one tangent per tensor output."""
        from .tensor import Tensor

        args: list[Any] = [None] * self.n_args
        for i, t in zip(self.at, tangents):
            args[i] = None if t is None else Tensor._wrap(t, self.dev)
        self.ctx.saved_tensors = getattr(self.ctx, "for_forward", ())
        try:
            with _set_grad_enabled(False):
                out = self.user.jvp(self.ctx, *args)
        finally:
            self.ctx.saved_tensors = ()
        outs = out if isinstance(out, tuple) else (out,)
        if len(outs) > len(self.outs_like) - len(self.ctx._others):  # (one per output given)
            outs = tuple(o for k, o in enumerate(outs) if k not in self.ctx._others)
        return tuple(None if o is None else o._data if isinstance(o, Tensor) else o
                     for o in outs)

    def name(self) -> str:
        """``"CubeBackward"`` for a Function ``Cube``, as PyTorch names a custom one's node."""
        return f"{type(self).__name__}Backward"

    def _saved_tensors(self) -> tuple[Any, ...]:
        """``ctx.saved_tensors`` for a backward: the saved arrays as tensors, and the saved
        non-tensors (None) as they were."""
        from .tensor import Tensor

        it = iter(self.saved)
        return tuple(Tensor._wrap(next(it), self.dev) if lay is None else lay[0]
                     for lay in self.layout)

    def backward(self, *gys: Any) -> Any:
        from .tensor import Tensor

        xp = self.dev.xp  # an output that got no gradient gets zeros, as PyTorch materializes
        it = iter(gys)  # (one per tensor output; a non-tensor output gets None)
        keep = not self.ctx.materialize_grads  # set_materialize_grads(False): None stays
        full = [None if like is None else (lambda g: g if keep else _zeros_or(xp, g, like))(
            next(it)) for like in self.outs_like]
        self.ctx.saved_tensors = self._saved_tensors()
        try:
            with _set_grad_enabled(False):
                grads = self.user.backward(self.ctx, *(
                    None if g is None else Tensor._wrap(g, self.dev) for g in full))
        finally:
            self.ctx.saved_tensors = ()
        picked = self._picked(grads)
        out = tuple(None if g is None else g._data if isinstance(g, Tensor) else g
                    for g in picked)
        return out if len(out) > 1 else out[0]

    def graph_backward(self, gy: Any, parents: tuple[Any, ...]) -> Any:
        """``create_graph=True``: the user's backward runs on tensors in the graph, recorded,
        so its result is differentiable again, as PyTorch's. Each tensor it saved stands for
        what it is (``graph_input``): an input for that input, an output for that output (a
        twin made by this op), anything else for a constant."""
        from .tensor import Tensor

        ctx, dev = self.ctx, self.dev
        if getattr(self.user.backward, "_once_differentiable", False):
            return self._once(gy)
        roles = iter(self.out_roles)
        ctx.saved_tensors = tuple(self._in_graph(t, next(roles), parents)
                                  if isinstance(t, Tensor) else t
                                  for t in self._saved_tensors())
        swapped = {name: v for name, v in vars(ctx).items()  # ctx.x = x: x in the graph
                   if isinstance(v, Tensor) and any(v is w for w in self.wrappers)}
        for name, v in swapped.items():
            j = next(j for j, w in enumerate(self.wrappers) if v is w)
            setattr(ctx, name, self._in_graph(Tensor._wrap(self.inputs[j], dev), None, parents))
        it = iter(gy if self.n_out > 1 else [gy])
        full = []
        for like in self.outs_like:
            g = None if like is None else next(it)
            full.append(None if like is None else Tensor._wrap(dev.xp.zeros(*like), dev)
                        if g is None and ctx.materialize_grads else g)
        try:
            grads = self.user.backward(ctx, *full)
        finally:
            ctx.saved_tensors = ()
            for name, v in swapped.items():
                setattr(ctx, name, v)
        out = tuple(None if g is None else g if isinstance(g, Tensor) else
                    Tensor._wrap(dev.xp.asarray(g), dev) for g in self._picked(grads))
        return out if len(out) > 1 else out[0]

    def _in_graph(self, t: Any, out: int | None, parents: tuple[Any, ...]) -> Any:
        """The tensor in the graph that the saved tensor ``t`` stands for (``graph_backward``):
        output ``out`` (of several) by a twin of it made by this op; else ``graph_input``'s
        (an input, the single output, or a constant)."""
        from .tensor import Tensor

        if out is not None and self.n_out > 1:
            twin = Tensor._wrap(t._data, self.dev, True)
            twin._ctx, twin._out = self, out
            fw = getattr(self, "fw", None)  # forward-mode AD: that output's tangent
            if fw is not None:
                twin._fw = fw[out]
            return twin
        g = self.graph_input(t._data, parents)
        return g if isinstance(g, Tensor) else t

    def _once(self, gy: Any) -> Any:
        """``create_graph=True`` through a backward marked ``@once_differentiable``: computed
        unrecorded, each gradient behind a node whose own backward raises, as PyTorch's (so
        the error comes only if a later backward reaches it)."""
        from .tensor import Tensor

        gys = gy if self.n_out > 1 else [gy]
        grads = self.backward(*(None if g is None else g._data for g in gys))
        grads = grads if isinstance(grads, tuple) else (grads,)
        if not any(g is not None and g.requires_grad for g in gys):  # nothing to reach it
            return tuple(None if g is None else Tensor._wrap(g, self.dev) for g in grads) \
                if len(grads) > 1 else (None if grads[0] is None else
                                        Tensor._wrap(grads[0], self.dev))
        out = tuple(None if g is None else _delayed_error().apply(
            Tensor._wrap(g, self.dev, True), message=(
                f"{self.user.__name__}: trying to differentiate twice a function that was "
                "marked with @once_differentiable")) for g in grads)
        return out if len(out) > 1 else out[0]

    def _picked(self, grads: Any) -> list[Any]:
        """The user's gradients, checked: one per argument of ``apply``; those of the tensor
        arguments (the op's inputs)."""
        grads = grads if isinstance(grads, tuple) else (grads,)
        if len(grads) > self.n_args and all(g is None for g in grads[self.n_args:]):
            grads = grads[:self.n_args]  # Nones for defaulted arguments not passed, as PyTorch
        if len(grads) != self.n_args:  # (RuntimeError, as PyTorch's)
            raise RuntimeError(f"{self.user.__name__}.backward returned {len(grads)} gradients; "
                            f"it must return one per argument of apply ({self.n_args}), None "
                            "for those that need none")
        return [grads[i] for i in self.at]


_DELAYED: list[type] = []


def _delayed_error() -> type:
    """The op behind a ``@once_differentiable`` gradient under ``create_graph``: the values
    as they are; its backward raises ``message``."""
    if not _DELAYED:
        from .tensor import Function as Op

        class DelayedError(Op):
            def forward(self, a: Any, message: str) -> Any:
                self.message = message
                return a

            def backward(self, gy: Any) -> Any:
                raise RuntimeError(self.message)

        _DELAYED.append(DelayedError)
    return _DELAYED[0]


def _zeros_or(xp: Any, g: Any, like: tuple[Any, Any]) -> Any:
    """``g``, or zeros of the output's shape and dtype, as PyTorch materializes them."""
    return xp.zeros(*like) if g is None else g


def Variable(data: Any, requires_grad: bool = False, volatile: bool = False) -> Any:  # noqa: N802
    """PyTorch's old wrapper, merged into Tensor long ago and still in many tutorials: ``data``
    detached (a tensor sharing its values, outside any graph), requiring grad if asked, as
    ``torch.autograd.Variable`` gives it. ``volatile`` is accepted and ignored (use
    ``no_grad``)."""
    from .tensor import Tensor, tensor

    t = data.detach() if isinstance(data, Tensor) else tensor(data)
    return t.requires_grad_() if requires_grad else t


def once_differentiable(backward: Any) -> Any:
    """PyTorch's decorator for a custom Function's backward that cannot be differentiated
    again (it leaves the graph: NumPy code, ``.numpy()``): it runs with recording off; under
    ``create_graph=True`` its gradients come out behind a node whose backward raises, as
    PyTorch's, so only a later backward that reaches them fails (a gradient penalty through
    other paths still works)."""

    @functools.wraps(backward)
    def once(ctx: Any, *grad_outputs: Any) -> Any:
        with _set_grad_enabled(False):
            return backward(ctx, *grad_outputs)

    once._once_differentiable = True  # type: ignore[attr-defined]
    return once


# tr.autograd.function, PyTorch's home of these names: ``from
# tinygrad_rnn.autograd.function import once_differentiable`` works as with torch
function = types.ModuleType(__name__ + ".function",
                            "Custom Functions, as ``torch.autograd.function``.")
function.Function = Function  # type: ignore[attr-defined]
function.FunctionCtx = FunctionCtx  # type: ignore[attr-defined]
function.once_differentiable = once_differentiable  # type: ignore[attr-defined]
sys.modules[function.__name__] = function


# ---- tr.autograd.graph: what backward keeps, as ``torch.autograd.graph`` --------------------


class saved_tensors_hooks:  # noqa: N801 (PyTorch's name)
    """Inside the block, every array an op saves for backward goes through
    ``pack_hook(tensor)``, and the op keeps what that returns instead; backward gets it back
    through ``unpack_hook(packed)``, which must return a tensor with the same values, shape,
    dtype and device, as PyTorch's::

        with tr.autograd.graph.saved_tensors_hooks(lambda t: t.numpy().copy(),
                                                   lambda a: tr.tensor(a)):
            y = (x * w).tanh().sum()     # each op's saved arrays, copied out
        y.backward()                     # ... and back in, as each backward runs

    A learner's way to see what backward keeps (``pack_hook`` can count or print them), and a
    way to trade time for memory (``save_on_cpu``, compression). As PyTorch's: nested blocks
    use the innermost pair; ``unpack_hook`` runs at each backward through the op (twice with
    ``retain_graph=True``); the arrays a fused op keeps as scratch space outside ``saved``
    (its own attributes) are not given to the hooks. ``create_graph=True`` still knows which
    saved array was an input or the output."""

    def __init__(self, pack_hook: Any, unpack_hook: Any) -> None:
        if not (callable(pack_hook) and callable(unpack_hook)):
            raise TypeError("saved_tensors_hooks(pack_hook, unpack_hook): both must be callable")
        self.pack_hook, self.unpack_hook = pack_hook, unpack_hook

    def __enter__(self) -> saved_tensors_hooks:
        if _SAVED.disabled is not None:
            raise RuntimeError(_SAVED.disabled)
        _SAVED.hooks.append((self.pack_hook, self.unpack_hook))
        return self

    def __exit__(self, *exc: Any) -> None:
        _SAVED.hooks.pop()


class save_on_cpu(saved_tensors_hooks):  # noqa: N801 (PyTorch's name)
    """Keep what the ops inside save for backward in host memory, and copy it back to its
    device when backward needs it (``saved_tensors_hooks``), as PyTorch's: GPU memory for
    time. What it frees is what only the backward needs: the fused recurrent layers' states
    and gate activations, and whatever an op saves that is neither its input nor its output
    (the graph keeps those alive as tensors anyway). On the CPU nothing is copied.
    ``pin_memory`` and ``device_type`` are accepted and change nothing here (the copies are
    synchronous)."""

    def __init__(self, pin_memory: bool = False, device_type: str = "cuda") -> None:
        def pack(t: Tensor) -> tuple[str, Tensor]:
            return t.device, t.to("cpu")

        def unpack(packed: tuple[str, Tensor]) -> Tensor:
            device, t = packed
            return t.to(device)

        super().__init__(pack, unpack)


@contextlib.contextmanager
def disable_saved_tensors_hooks(error_message: str) -> Iterator[None]:
    """Inside the block, entering ``saved_tensors_hooks`` (or ``save_on_cpu``) raises
    ``RuntimeError(error_message)``, and so does entering this block while such hooks are on,
    as PyTorch's: for a feature that cannot work with them."""
    if _SAVED.hooks:
        raise RuntimeError(error_message)
    outer, _SAVED.disabled = _SAVED.disabled, str(error_message)
    try:
        yield
    finally:
        _SAVED.disabled = outer


class _NodeMeta(type):
    def __instancecheck__(cls, obj: Any) -> bool:
        return cls.__subclasscheck__(type(obj))

    def __subclasscheck__(cls, sub: type) -> bool:
        from .tensor import AccumulateGrad
        from .tensor import Function as Op

        return sub is cls or issubclass(sub, (Op, AccumulateGrad))


class Node(metaclass=_NodeMeta):
    """What ``y.grad_fn`` is, as ``torch.autograd.graph.Node``: ``isinstance(y.grad_fn,
    Node)`` holds for every op of the graph and every ``AccumulateGrad``."""


graph = types.ModuleType(__name__ + ".graph", "What backward keeps, as ``torch.autograd.graph``.")
graph.saved_tensors_hooks = saved_tensors_hooks  # type: ignore[attr-defined]
graph.save_on_cpu = save_on_cpu  # type: ignore[attr-defined]
graph.disable_saved_tensors_hooks = disable_saved_tensors_hooks  # type: ignore[attr-defined]
graph.Node = Node  # type: ignore[attr-defined]


@contextlib.contextmanager
def allow_mutation_on_saved_tensors() -> Iterator[None]:
    """PyTorch's switch to let in-place writes touch tensors saved for backward (it clones
    them on write): what the engine always does here, since a write gives a tensor a new
    array and the graph keeps the old one (``Tensor._overwrite``). So it changes nothing."""
    yield


graph.allow_mutation_on_saved_tensors = allow_mutation_on_saved_tensors  # type: ignore[attr-defined]
sys.modules[graph.__name__] = graph


class _Later(types.ModuleType):
    """A submodule of ``tr.autograd`` that is another module of the package, imported on
    first use (it needs Tensor, which imports this module): ``functional`` is
    ``autograd_functional`` (jacobian, hessian, vjp, jvp, vhp, hvp), ``forward_ad`` is
    ``autograd_forward`` (dual_level, make_dual, unpack_dual, ...)."""

    def __init__(self, name: str, doc: str, module: str) -> None:
        super().__init__(name, doc)
        self.__dict__["_module"] = module  # (set directly: __getattr__ is for the rest)

    def _target(self) -> types.ModuleType:
        return importlib.import_module(f"{__package__}.{self.__dict__['_module']}")

    def __getattr__(self, name: str) -> Any:
        return getattr(self._target(), name)

    def __dir__(self) -> list[str]:
        return list(self._target().__all__)


functional = _Later(__name__ + ".functional", "As ``torch.autograd.functional``.",
                    "autograd_functional")
forward_ad = _Later(__name__ + ".forward_ad", "As ``torch.autograd.forward_ad``.",
                    "autograd_forward")
for _m in (functional, forward_ad):
    sys.modules[_m.__name__] = _m


def __getattr__(name: str) -> Any:
    """``tr.autograd.gradcheck`` and ``gradgradcheck``, where PyTorch has them: the checkers of
    ``tinygrad_rnn.testing``; ``detect_anomaly``, ``set_detect_anomaly`` and
    ``is_anomaly_enabled`` from ``debug`` (imported on first use: they import this module)."""
    if name in ("gradcheck", "gradgradcheck"):
        from . import testing

        return getattr(testing, name)
    if name in ("detect_anomaly", "set_detect_anomaly", "is_anomaly_enabled"):
        from . import debug

        return getattr(debug, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
