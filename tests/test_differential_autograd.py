"""Differential test of the autograd engine's semantics against PyTorch: Hypothesis draws a
small random *program* over 1-3 float64 leaves (some requiring grad, some not) that mixes ops
with the engine's features, and runs it step by step in torch and in tinygrad_rnn:

- ops under each grad mode (``no_grad``, ``enable_grad`` inside it, ``set_grad_enabled``,
  ``inference_mode``), in-place writes into tensors and into views of them;
- ``detach()``, ``detach_()``, ``.data``, ``requires_grad_()``, ``retain_grad()``;
- tensor hooks (logging, or returning a new gradient), post-accumulate-grad hooks, graph node
  hooks (``grad_fn.register_prehook`` / ``register_hook``), handles removed mid-program;
- ``backward()`` with or without ``gradient=``, ``retain_graph``, ``create_graph``,
  ``inputs=``; ``x.grad = None`` and ``x.grad.zero_()`` between backward passes;
- ``autograd.grad`` with ``grad_outputs``, ``allow_unused``, ``materialize_grads``,
  ``is_grads_batched``, ``create_graph`` (its results join the program, so later steps
  differentiate them again);
- ops run under ``saved_tensors_hooks`` whose pack and unpack copy or transform the values;
- custom ``autograd.Function`` subclasses (``save_for_backward``, ``needs_input_grad``,
  ``mark_non_differentiable``, ``once_differentiable``).

After every step the two must agree on whether it raised, and on the whole state: every
value of the program (1e-10), its ``requires_grad``, ``is_leaf``, ``grad_fn is None``,
``_version`` and ``.grad`` (1e-9, None where torch's is None), and what every hook has seen
so far, call by call (each hook's own list, since the order in which two nodes of one graph
run is each engine's own).

Left out, each where torch alone raises or the engines differ by design (docs/pytorch.md):
a backward that torch refuses with "modified by an inplace operation" (ours differentiates
the forward as it ran); a second backward through a freed graph where torch finds nothing
saved to miss (ours frees the whole graph); inference tensors (``inference_mode`` is
``no_grad`` here, so its results are plain tensors); a write into ``x.data`` that torch's
saved values see and ours do not. The program stops at such a step. Not drawn: an output of
``grad`` that is also its input, ``requires_grad_()`` on a tensor views were taken from,
grad or backward inputs written through a view (see ``Env``). Run deeper with
``HYPOTHESIS_PROFILE=thorough``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import warnings
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
from hypothesis import event, given, note, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tinygrad_rnn as tr

from .test_differential import _call  # one call: (its value, None) or (None, its error)

torch = pytest.importorskip("torch")

pytestmark = pytest.mark.torch

RTOL = ATOL = 1e-10  # values
GTOL = 1e-9  # gradients and what hooks saw
MAX_ABS = 1e4  # a larger result is not kept in the program (exp of exp overflows)
RAN: Counter = Counter()  # steps run in both, by action

# torch raises and tinygrad_rnn runs, by design (docs/pytorch.md); the program stops there
TORCH_ONLY = [
    # "a backward after an in-place write ... is the gradient of the forward as it ran"
    "modified by an inplace operation",
    # "inference_mode() (as no_grad)": its results are plain tensors here
    "nference tensor",
    # "PyTorch refuses a recorded write into a piece of unbind/split/chunk": not drawn, and
    # the same for views of a view made under no_grad
    "is a view and is being modified inplace",
]
OURS_ONLY = [
    # "a second backward through a freed graph raises, also through ops that saved nothing"
    "already freed",
]


@dataclass
class Env:
    """One library's side of a program: its tensors, what each hook saw, the hook handles."""

    m: Any
    pool: list[Any]
    logs: dict[int, list[tuple[Any, ...]]]
    handles: list[Any]
    # tensors written through a view, and those views: torch's graph takes the view from
    # the written base (CopySlices), ours records the base as made from the written view
    # (docs/pytorch.md), so which of the two lies behind the other differs; the same
    # gradients reach the leaves, but these are not asked for as inputs of grad or backward
    rewired: set[int] = dataclasses.field(default_factory=set)
    # tensors views were taken from: torch's views report their base's requires_grad, so
    # x.requires_grad_() makes them require grad, though no gradient reaches x through them;
    # here they stay as they were (docs/pytorch.md): requires_grad_() on these is not drawn
    viewed: set[int] = dataclasses.field(default_factory=set)
    # a write into x.data where x requires grad: torch's saved values (x's, or of what x
    # came from) see it unnoticed (no version change); ours keep what was saved
    # (docs/pytorch.md), so gradients part: the program stops after that step
    unsaved: bool = False

    def log(self, key: int, *gs: Any) -> None:
        self.logs.setdefault(key, []).append(
            tuple(None if g is None else g.detach().numpy().copy() for g in gs))


@dataclass
class Ctx:
    """What the drawing of a step may look at: torch's side."""

    env: Env

    @property
    def n(self) -> int:
        return len(self.env.pool)

    def shape(self, i: int) -> tuple[int, ...]:
        return tuple(self.env.pool[i].shape)


@dataclass(frozen=True)
class Action:
    name: str
    gen: Callable[..., tuple]  # (draw, ctx) -> args
    run: Callable[..., Any]  # (env, *args) -> new tensors (list) or None


ACTIONS: dict[str, Action] = {}


def action(name: str, gen: Callable[..., tuple]):
    def deco(run):
        ACTIONS[name] = Action(name, gen, run)
        return run
    return deco


def autograd_of(m):
    return m.autograd


def grad_mode(m, mode: str):
    """The context an op runs in."""
    if mode == "no_grad":
        return m.no_grad()
    if mode == "set_false":
        return m.set_grad_enabled(False)
    if mode == "inference":
        return m.inference_mode()
    if mode == "enable_in_no":
        stack = contextlib.ExitStack()
        stack.enter_context(m.no_grad())
        stack.enter_context(m.enable_grad())
        return stack
    return contextlib.nullcontext()


MODES = ["grad", "grad", "grad", "no_grad", "enable_in_no", "set_false", "inference"]


def a_tensor(draw, c: Ctx) -> int:
    """An index into the pool, the newest ones more often."""
    back = draw(st.integers(0, c.n - 1))
    return c.n - 1 - back if draw(st.booleans()) else draw(st.integers(0, c.n - 1))


# ---- ops ---------------------------------------------------------------------------------

UNARY = {
    "tanh": lambda m, x: x.tanh(),
    "sin": lambda m, x: x.sin(),
    "exp": lambda m, x: x.exp(),
    "sigmoid": lambda m, x: m.sigmoid(x),
    "square": lambda m, x: x * x,
    "affine": lambda m, x: x * 1.5 - 0.25,
    "sum": lambda m, x: x.sum(),
    "mean0": lambda m, x: x.mean(0),
    "clone": lambda m, x: x.clone(),
    "index0": lambda m, x: x[0],  # a view
    "flat": lambda m, x: x.reshape(-1),
    "t": lambda m, x: x.transpose(0, -1),
    "unsqueeze": lambda m, x: x.unsqueeze(0),
    # (no relu: under create_graph torch's gradient of it requires grad, through a zero
    # derivative of its mask; ours is a constant, not a program's business)
    "cos": lambda m, x: x.cos(),
}


@action("unary", lambda draw, c: (a_tensor(draw, c), draw(st.sampled_from(sorted(UNARY))),
                                  draw(st.sampled_from(MODES))))
def _unary(env, i, name, mode):
    with grad_mode(env.m, mode):
        y = UNARY[name](env.m, env.pool[i])
        if name in VIEW_OPS:
            env.viewed.add(i)
        return [y.clone() if mode != "grad" and name in VIEW_OPS else y]


# torch's view made outside grad mode of a tensor that requires grad reports requires_grad
# (its base's) though no gradient reaches it; here it is a plain tensor (docs/pytorch.md):
# such views are cloned, a plain tensor in both
VIEW_OPS = {"index0", "flat", "t", "unsqueeze"}


BINARY = {
    "add": lambda m, x, y: x + y,
    "mul": lambda m, x, y: x * y,
    "sub": lambda m, x, y: x - y,
    "div": lambda m, x, y: x / (y * y + 1),
    "maximum": lambda m, x, y: m.maximum(x, y),
}


def _gen_binary(draw, c):
    i = a_tensor(draw, c)
    fits = [j for j in range(c.n) if _broadcast(c.shape(i), c.shape(j))]
    j = draw(st.sampled_from(fits)) if fits and draw(st.integers(0, 9)) else a_tensor(draw, c)
    return i, j, draw(st.sampled_from(sorted(BINARY))), draw(st.sampled_from(MODES))


def _broadcast(a, b) -> bool:
    return all(x == y or 1 in (x, y) for x, y in zip(a[::-1], b[::-1]))


@action("binary", _gen_binary)
def _binary(env, i, j, name, mode):
    with grad_mode(env.m, mode):
        return [BINARY[name](env.m, env.pool[i], env.pool[j])]


VIEWS = {
    "self": lambda x: x,
    "index0": lambda x: x[0],
    "flat": lambda x: x.view(-1),
    "t": lambda x: x.transpose(0, -1),
    "slice": lambda x: x[..., :1],
    "detach": lambda x: x.detach(),
    "data": lambda x: x.data,
}
WRITES = {
    "mul_": lambda x: x.mul_(1.5),
    "add_": lambda x: x.add_(0.5),
    "sin_": lambda x: x.sin_(),
    "zero_": lambda x: x.zero_(),
    "iadd": lambda x: x.__iadd__(x * 0 + 0.25),  # an operand from the graph
    "fill_": lambda x: x.fill_(2.0),
    "exp_": lambda x: x.exp_(),
}


@action("inplace", lambda draw, c: (a_tensor(draw, c), draw(st.sampled_from(sorted(VIEWS))),
                                    draw(st.sampled_from(sorted(WRITES))),
                                    draw(st.sampled_from(MODES))))
def _inplace(env, i, view, write, mode):
    with grad_mode(env.m, mode):
        v = VIEWS[view](env.pool[i])
        out = WRITES[write](v)
        if view == "self":
            return None
        env.rewired.update({i, len(env.pool)})
        env.viewed.add(i)
        env.unsaved = env.unsaved or (view == "data" and env.pool[i].requires_grad)
        return [out.clone() if mode != "grad" and view not in ("detach", "data") else out]


# ---- engine features ---------------------------------------------------------------------


def _gen_detach(draw, c):
    return a_tensor(draw, c), draw(st.sampled_from(
        ["detach", "detach_", "data", "requires_grad_", "requires_grad_false", "retain_grad",
         "grad_none", "grad_zero", "grad_read"]))


@action("tensor", _gen_detach)
def _tensor(env, i, how):
    x = env.pool[i]
    if how == "detach":
        return [x.detach()]
    if how == "detach_":
        x.detach_()
        return None
    if how == "data":
        return [x.data]
    if how == "requires_grad_" and i not in env.viewed:
        x.requires_grad_()
        return None
    if how == "requires_grad_false":
        x.requires_grad_(False)
        return None
    if how == "retain_grad":
        x.retain_grad()
        return None
    if how == "grad_none":
        x.grad = None
        return None
    if how == "grad_zero":
        x.grad.zero_()  # None: AttributeError in both
        return None
    return [x.grad * 1]  # a gradient as a value of the program (None: TypeError in both)


HOOKS = ["log", "double", "shift", "log_leaf"]


@action("hook", lambda draw, c: (a_tensor(draw, c), draw(st.sampled_from(HOOKS))))
def _hook(env, i, kind):
    key = len(env.handles)

    def hook(g):
        env.log(key, g)
        if kind == "double":
            return g * 2
        if kind == "shift":
            return g + 0.5
        return None

    x = env.pool[i]
    if kind == "log_leaf":
        env.handles.append(x.register_post_accumulate_grad_hook(lambda t: env.log(key, t.grad)))
    else:
        env.handles.append(x.register_hook(hook))


@action("node_hook", lambda draw, c: (a_tensor(draw, c), draw(st.sampled_from(
    ["pre", "pre_scale", "post", "post_scale"]))))
def _node_hook(env, i, kind):
    key = len(env.handles)
    fn = env.pool[i].grad_fn
    if fn is None:
        raise AttributeError("no grad_fn")  # both: a leaf or a tensor outside the graph

    def pre(gos):
        env.log(key, *gos)
        if kind == "pre_scale":
            return tuple(None if g is None else g * 3 for g in gos)
        return None

    def post(gis, gos):
        env.log(key, *gis, *gos)
        if kind == "post_scale":
            return tuple(None if g is None else -g for g in gis)
        return None

    env.handles.append(fn.register_prehook(pre) if kind.startswith("pre")
                       else fn.register_hook(post))


@action("remove", lambda draw, c: (draw(st.integers(0, 7)),))
def _remove(env, k):
    if k < len(env.handles):
        env.handles[k].remove()


def _gen_backward(draw, c):
    i = a_tensor(draw, c)
    gradient = draw(st.sampled_from(["none", "random", "random"]))
    ok = [k for k in range(c.n) if k not in c.env.rewired] or [0]
    ins = draw(st.one_of(st.none(), st.lists(st.sampled_from(ok), min_size=1, max_size=3,
                                               unique=True)))
    return (i, gradient, draw(st.booleans()), draw(st.sampled_from([False, False, True])), ins,
            draw(st.integers(0, 2**16)))


def _upstream(m, shape, seed: int):
    return m.tensor(np.random.default_rng(seed).standard_normal(shape))


@action("backward", _gen_backward)
def _backward(env, i, gradient, retain, create, ins, seed):
    y, m = env.pool[i], env.m
    g = None if gradient == "none" else _upstream(m, tuple(y.shape), seed)
    inputs = None if ins is None else [env.pool[k] for k in ins]
    y.backward(g, retain_graph=retain or None, create_graph=create, inputs=inputs)


def _gen_grad(draw, c):
    outs = draw(st.lists(st.integers(0, c.n - 1), min_size=1, max_size=2, unique=True))
    ok = [k for k in range(c.n) if k not in c.env.rewired] or [0]
    ins = draw(st.lists(st.sampled_from(ok), min_size=1, max_size=3, unique=True))
    return (outs, ins, draw(st.sampled_from(["none", "random", "random", "batched"])),
            draw(st.sampled_from([None, False, True])), draw(st.booleans()),
            draw(st.booleans()), draw(st.booleans()), draw(st.integers(0, 2**16)))


@action("grad", _gen_grad)
def _grad(env, outs, ins, gradient, allow_unused, materialize, create, retain, seed):
    # an output that is also an input: torch gives it the gradient before its hooks where
    # there are other inputs, after them where it is the only one; not drawn
    ins = [k for k in ins if k not in outs] or [outs[0]]
    if len(ins) > 1 and ins[-1] == outs[0]:
        ins = ins[:-1]
    m = env.m
    ys = [env.pool[k] for k in outs]
    # is_grads_batched: two rows (not with hooks or retained gradients: torch's vectorized
    # gradients cannot be detached, which the hooks do to log them, nor read back)
    batch = (2,) if gradient == "batched" and not env.handles and not any(
        t.retains_grad for t in env.pool) else ()
    gradient = "random" if gradient == "batched" else gradient
    gos = None if gradient == "none" else [
        _upstream(m, batch + tuple(y.shape), seed + k) for k, y in enumerate(ys)]
    kw: dict[str, Any] = {"allow_unused": allow_unused} if allow_unused is not None else {}
    if batch:
        kw["is_grads_batched"] = True
    if materialize:
        kw["materialize_grads"] = True
    res = m.autograd.grad(ys, [env.pool[k] for k in ins], grad_outputs=gos,
                          retain_graph=retain or None, create_graph=create, **kw)
    return [g for g in res if g is not None]


def _pack(how: str):
    if how == "copy":
        return lambda t: t.detach().clone()
    return lambda t: t.detach() * 4  # stored scaled, unscaled again when unpacked


def _unpack(how: str):
    if how == "copy":
        return lambda t: t
    return lambda t: t / 4


SAVING = {  # ops whose backward reads what they saved, the same in both engines
    "mul": lambda m, x, y: x * y,
    "tanh": lambda m, x, y: x.tanh() + y,
    "exp": lambda m, x, y: (x.tanh()).exp() * y,
    "sigmoid_sum": lambda m, x, y: (x.sigmoid() * y).sum(),
}


@action("saved_hooks", lambda draw, c: (*_gen_binary(draw, c)[:2],
                                        draw(st.sampled_from(sorted(SAVING))),
                                        draw(st.sampled_from(["copy", "scale"]))))
def _saved_hooks(env, i, j, name, how):
    m = env.m
    with m.autograd.graph.saved_tensors_hooks(_pack(how), _unpack(how)):
        return [SAVING[name](m, env.pool[i], env.pool[j])]


_FUNCTIONS: dict[Any, dict[str, type]] = {}


def functions(m) -> dict[str, type]:
    """The same custom autograd functions, written once for either library."""
    if m in _FUNCTIONS:
        return _FUNCTIONS[m]

    class MulExp(m.autograd.Function):
        """x * exp(y); gx = g exp(y), gy = g x exp(y)."""

        @staticmethod
        def forward(ctx, x, y):
            ctx.save_for_backward(x, y)
            return x * y.exp()

        @staticmethod
        def backward(ctx, g):
            x, y = ctx.saved_tensors
            gx = g * y.exp() if ctx.needs_input_grad[0] else None
            gy = g * x * y.exp() if ctx.needs_input_grad[1] else None
            return gx, gy

    class SinSign(m.autograd.Function):
        """(sin x, a mask of x > 0 that is not differentiable); gx = g cos x."""

        @staticmethod
        def forward(ctx, x, y):
            ctx.save_for_backward(x)
            mask = (x > 0).to(x.dtype)
            ctx.mark_non_differentiable(mask)
            return x.sin() + y * 0, mask

        @staticmethod
        def backward(ctx, g, gmask):
            (x,) = ctx.saved_tensors
            return g * x.cos(), g

    class Cube(m.autograd.Function):
        """x ** 3 + y, differentiable once; gx = 3 g x^2, gy = g."""

        @staticmethod
        def forward(ctx, x, y):
            ctx.save_for_backward(x)
            return x * x * x + y

        @staticmethod
        @m.autograd.function.once_differentiable
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 3 * g * x * x, g

    _FUNCTIONS[m] = {"mulexp": MulExp, "sinsign": SinSign, "cube": Cube}
    return _FUNCTIONS[m]


def _gen_custom(draw, c):
    i = a_tensor(draw, c)
    same = [j for j in range(c.n) if c.shape(j) == c.shape(i)]
    return i, draw(st.sampled_from(same)), draw(st.sampled_from(["mulexp", "sinsign", "cube"]))


@action("custom", _gen_custom)
def _custom(env, i, j, name):
    out = functions(env.m)[name].apply(env.pool[i], env.pool[j])
    return list(out) if isinstance(out, tuple) else [out]


# ---- the interpreter ---------------------------------------------------------------------


def _quiet(f):
    with warnings.catch_warnings():  # torch warns reading a non-leaf's .grad
        warnings.simplefilter("ignore")
        return f()


def _close(a, b, tol, what):
    assert tuple(a.shape) == tuple(b.shape), f"{what}: shape {tuple(a.shape)} vs torch " \
        f"{tuple(b.shape)}"
    np.testing.assert_allclose(a, b, rtol=tol, atol=tol, equal_nan=True, err_msg=what)


def _check_state(ours: Env, theirs: Env, inference: set[int]) -> None:
    assert len(ours.pool) == len(theirs.pool)
    for k, (a, b) in enumerate(zip(ours.pool, theirs.pool)):
        name = f"v{k}"
        _close(a.detach().numpy(), b.detach().numpy(), RTOL, name)
        assert a.dtype == np.float64, f"{name}: dtype {a.dtype}"
        for attr in ("requires_grad", "is_leaf"):
            assert getattr(a, attr) == getattr(b, attr), \
                f"{name}.{attr}: ours {getattr(a, attr)}, torch {getattr(b, attr)}"
        assert (a.grad_fn is None) == (b.grad_fn is None), \
            f"{name}.grad_fn: ours {a.grad_fn}, torch {b.grad_fn}"
        if k not in inference:  # (torch's inference tensors have no version counter)
            assert a._version == b._version, \
                f"{name}._version: ours {a._version}, torch {b._version}"
        ga, gb = _quiet(lambda a=a: a.grad), _quiet(lambda b=b: b.grad)
        assert (ga is None) == (gb is None), f"{name}.grad: ours {ga}, torch {gb}"
        if gb is not None:
            _close(ga.detach().numpy(), gb.detach().numpy(), GTOL, f"{name}.grad")
    assert sorted(ours.logs) == sorted(theirs.logs), \
        f"hooks that ran: ours {sorted(ours.logs)}, torch {sorted(theirs.logs)}"
    for key, calls in theirs.logs.items():
        mine = ours.logs[key]
        assert len(mine) == len(calls), f"hook {key}: called {len(mine)} times, torch's " \
            f"{len(calls)}"
        for n, (x, y) in enumerate(zip(mine, calls)):
            assert len(x) == len(y), f"hook {key} call {n}: {len(x)} arguments vs {len(y)}"
            for a, b in zip(x, y):
                assert (a is None) == (b is None), f"hook {key} call {n}: {a} vs torch {b}"
                if b is not None:
                    _close(a, b, GTOL, f"hook {key} call {n}")


def _leaves(draw) -> tuple[list[np.ndarray], list[bool]]:
    arrays, needs = [], []
    for _ in range(draw(st.integers(1, 3))):
        shape = draw(hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=3))
        seed = draw(st.integers(0, 2**32 - 1))
        arrays.append(np.random.default_rng(seed).standard_normal(shape))
        needs.append(draw(st.sampled_from([True, True, False])))
    return arrays, needs


def run_program(data, names: list[str], steps: tuple[int, int] = (2, 12)) -> None:
    draw = data.draw
    arrays, needs = _leaves(draw)
    ours = Env(tr, [tr.tensor(a, requires_grad=r) for a, r in zip(arrays, needs)], {}, [])
    theirs = Env(torch, [torch.tensor(a, requires_grad=r) for a, r in zip(arrays, needs)],
                 {}, [])
    for k, (a, r) in enumerate(zip(arrays, needs)):
        note(f"v{k} = leaf(np.array({a.tolist()!r}), requires_grad={r})")
    inference: set[int] = set()
    for step in range(draw(st.integers(*steps))):
        act = ACTIONS[draw(st.sampled_from(names))]
        args = act.gen(draw, Ctx(theirs))
        note(f"step {step}: {act.name}{args!r}")
        t_out, t_err = _call(act.run, theirs, *args)
        o_out, o_err = _call(act.run, ours, *args)
        if t_err is not None and o_err is None and any(s in str(t_err) for s in TORCH_ONLY):
            event(f"documented: torch alone raises at {act.name}")
            return
        if o_err is not None and t_err is None and any(s in str(o_err) for s in OURS_ONLY):
            event(f"documented: ours alone raises at {act.name}")
            return
        if t_err is not None:
            assert o_err is not None, f"{act.name}{args}: torch raised {t_err!r}, ours did not"
            event(f"both raised at {act.name}")
            if act.name in ("backward", "grad"):
                # ours refuses before anything changes; torch's engine may have run part of
                # the graph (retained gradients, hooks) before it met a freed node
                return
        else:
            assert o_err is None, f"{act.name}{args}: ours raised {o_err!r}, torch did not"
            RAN[act.name] += 1
        # the version counter of what grad() returned, or of a tensor made from an inference
        # tensor, counts torch's own writes into the buffers it made it in: not compared
        unversioned = act.name == "grad" or any(
            k in inference for k in args if isinstance(k, int))
        for a, b in zip(o_out or (), t_out or ()):
            finite = b.detach().numpy()[np.isfinite(b.detach().numpy())]
            if b.numel() and not np.any(np.abs(finite) > MAX_ABS):
                if b.is_inference() or unversioned:
                    inference.add(len(theirs.pool))
                ours.pool.append(a)
                theirs.pool.append(b)
        _check_state(ours, theirs, inference)
        if theirs.unsaved:
            event("documented: a write into x.data reaches torch's saved values alone")
            return
    RAN["programs"] += 1


def _scaled(factor: int):
    return settings(max_examples=settings.default.max_examples * factor)


OPS = ["unary", "binary", "inplace"]
FEATURES = ["tensor", "hook", "node_hook", "remove", "backward", "grad", "saved_hooks", "custom"]


@pytest.mark.parametrize("feature", FEATURES)
@_scaled(4)
@given(data=st.data())
def test_autograd_program_matches_torch_feature(feature, data):
    """Programs of ops, each engine feature in turn (backward and grad to reach it)."""
    run_program(data, OPS + [feature, feature, "backward", "grad"])


@_scaled(8)
@given(data=st.data())
def test_autograd_program_matches_torch_all(data):
    run_program(data, OPS + FEATURES)


# ---- what the programs found, one regression test each -----------------------------------


def test_data_has_a_version_counter_of_its_own():
    for m in (tr, torch):
        x = m.tensor([1.0, 2.0], requires_grad=True)
        d = x.data
        d.add_(1.0)
        d[0:1].mul_(2.0)  # a view of x.data shares its counter
        assert (x._version, d._version) == (0, 2), m.__name__
        with m.no_grad():
            x.mul_(2.0)
        assert (x._version, d._version) == (1, 2), m.__name__


def test_grad_materialize_grads_gives_zeros_for_unused_inputs():
    for m in (tr, torch):
        x = m.tensor([1.0, 2.0], dtype=m.float64, requires_grad=True)
        u = m.tensor(3.0, dtype=m.float64, requires_grad=True)
        gx, gu = m.autograd.grad((x * x).sum(), [x, u], materialize_grads=True,
                                 retain_graph=True)
        np.testing.assert_array_equal(gu.detach().numpy(), 0.0)
        assert not gu.requires_grad
        _, gu = m.autograd.grad((x * x).sum(), [x, u], materialize_grads=True,
                                create_graph=True)
        assert gu.requires_grad and gu.is_leaf
        with pytest.raises(ValueError, match="allow_unused"):
            m.autograd.grad((x * x).sum(), [x, u], materialize_grads=True, allow_unused=False)


def test_backward_into_a_wanted_result_frees_its_op():
    """backward(inputs=[y]) frees y's op (torch's runs it), grad(z, y) keeps it."""
    for m in (tr, torch):
        x = m.tensor(0.5, dtype=m.float64, requires_grad=True)
        y = x.exp() * x
        m.autograd.grad(y * 2, y)
        y.backward()
        assert x.grad is not None
        x = m.tensor(0.5, dtype=m.float64, requires_grad=True)
        y = x.exp() * x
        (y * 2).backward(inputs=[y])
        assert y.grad.item() == 2.0
        with pytest.raises(RuntimeError):
            y.backward()


def test_backward_inputs_makes_a_non_leaf_retain_its_grad_once():
    """backward(inputs=[y]) counts y's gradient once, also where y retains it already, and
    keeps y's .grad in later backward passes."""
    for m in (tr, torch):
        x = m.tensor(1.0, requires_grad=True)
        y = x * 2
        z = y * 3
        y.retain_grad()
        z.backward(inputs=[y], retain_graph=True)
        assert y.grad.item() == 3.0 and x.grad is None
        w = x * 2
        (w * 3).backward(inputs=[w], retain_graph=True)
        assert w.retains_grad
        (w * 5).backward()
        assert w.grad.item() == 8.0 and x.grad.item() == 10.0


def test_grad_of_several_outputs_is_one_pass():
    """A hook sees the sum of what the outputs send it, once, as in one backward pass."""
    for m in (tr, torch):
        x = m.tensor([0.5, 1.0], dtype=m.float64, requires_grad=True)
        heard = []
        x.register_hook(lambda g, heard=heard: heard.append(g.detach().numpy().copy()))
        y = x * 3
        (gx,) = m.autograd.grad([y.sum(), (y * y).sum(), x.sum()], [x])
        assert len(heard) == 1, m.__name__
        np.testing.assert_allclose(heard[0], 3 + 18 * np.array([0.5, 1.0]) + 1)
        np.testing.assert_allclose(gx.numpy(), heard[0])


def test_grad_calls_the_root_hooks_also_where_nothing_leads_to_the_inputs():
    """The root's node is always reached: its tensor hooks run, nothing else does."""
    for m in (tr, torch):
        x = m.tensor(0.5, dtype=m.float64, requires_grad=True)
        u = m.tensor(1.0, dtype=m.float64, requires_grad=True)
        y = x * 3
        heard = []
        y.register_hook(lambda g, heard=heard: heard.append("y"))
        x.register_hook(lambda g, heard=heard: heard.append("x"))
        with pytest.raises(RuntimeError):
            m.autograd.grad(y, [u])
        assert heard == ["y"], m.__name__
        x.backward(inputs=[u])
        assert heard == ["y", "x"] and x.grad is None and u.grad is None, m.__name__



def test_detach_in_place_refuses_a_view():
    for m in (tr, torch):
        x = m.tensor([1.0, 2.0], requires_grad=True)
        for v in (x.view(-1), (x * 2)[0], m.tensor([1.0, 2.0])[1:]):
            with pytest.raises(RuntimeError, match="detach"):
                v.detach_()
        x.detach().detach_()
        x.data.detach_()


def test_grad_runs_no_node_pre_hook_of_a_wanted_result():
    """grad(z, y) stops at y's node: its pre-hooks stay silent; backward(inputs=[y]) runs
    that node, so they run."""
    for m in (tr, torch):
        x = m.tensor(0.5, dtype=m.float64, requires_grad=True)
        y = x * 3
        heard = []
        y.grad_fn.register_prehook(lambda gs, heard=heard: heard.append(1))
        m.autograd.grad(y * 2, y, retain_graph=True)
        assert heard == [], m.__name__
        (y * 2).backward(inputs=[y])
        assert heard == [1], m.__name__


def test_grad_is_grads_batched_matches_torch():
    a = np.array([[0.5, -1.0, 2.0], [1.5, 0.25, -0.5]])
    vs = np.random.default_rng(0).standard_normal((4, 2, 3))
    got = {}
    for m in (tr, torch):
        x = m.tensor(a, requires_grad=True)
        u = m.tensor(1.0, dtype=m.float64, requires_grad=True)
        y = x.sin() * x
        _, gu = m.autograd.grad(y, [x, u], m.tensor(vs), is_grads_batched=True,
                                materialize_grads=True, retain_graph=True)
        assert tuple(gu.shape) == ()  # torch's zeros: the input's shape
        gx, gu = m.autograd.grad(y, [x, u], m.tensor(vs), is_grads_batched=True,
                                 allow_unused=True)
        assert gu is None and tuple(gx.shape) == (4, 2, 3)
        with pytest.raises(RuntimeError):
            y.sum().backward()  # the graph was freed after the last row
        got[m.__name__] = gx.detach().numpy()
    np.testing.assert_allclose(got["tinygrad_rnn"], got["torch"], rtol=1e-12)
