"""Pictures of the graph behind a tensor, as Graphviz DOT text.

    text = tr.viz.to_dot(loss, params=model)           # a str: no dependency needed
    tr.viz.render(loss, "graph.svg", params=model)     # needs Graphviz's `dot` program

Ops are boxes labelled with their class names (``MatMul``, ``Sigmoid``); leaf tensors are
ellipses labelled with their shape and dtype, parameters under their ``named_parameters()``
names when ``params`` is given, constants dashed; every arrow between two ops carries the shape
and dtype of the tensor that flows along it (``out k`` for output k of an op with several); the
tensor drawn is the green double octagon at the end. Inputs come first, top to bottom.

**Time steps.** An unrolled recurrent net is a long chain of small ops, about 15 per LSTM step.
``collapse_steps=True`` draws each time step as one node; ``expand=t`` also draws step t in full,
inside a box (its gates are the ``Sigmoid`` and ``Tanh`` boxes after the ``Split``, whose outputs
0 to 3 are i, f, g, o for an LSTM, r, z, n for a GRU). The steps are known because each op
remembers the step it belongs to (``Function.step``), set in one of two ways:

- the composed recurrent layers (``nn.LSTM/GRU/RNN(..., impl="composed")``; the default fused
  path is one op per layer and has no steps to show) mark each step's outputs with the step's
  inputs; the step is every op between the two (found here, so the layer pays one assignment
  per output and step);
- ``with tr.viz.step(t):`` around the body of a hand-written loop tags every op created inside.

The fused layers (the default) run a whole sequence as one op, so they have no steps to show.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .autograd import toposort
from .debug import Listener, listen
from .tensor import Function, Tensor

NO_DOT = (
    "render() needs the `dot` program of Graphviz, which is not installed (or not on PATH). "
    "Install it with `apt-get install graphviz` (Debian, Ubuntu), `brew install graphviz` "
    "(macOS), `conda install graphviz`, or from https://graphviz.org/download/; to_dot() gives "
    "the DOT text without it."
)
FREED = (
    "to_dot: the graph behind this tensor was freed by backward(); draw it before calling "
    "backward(), or call backward(retain_graph=True)"
)

Key = tuple[str, int]  # (group, time step): group names one loop (a layer and direction)


# ---- marking time steps --------------------------------------------------------------------


class _StepTagger(Listener):
    def __init__(self, key: Key) -> None:
        self.key = key

    def forward(self, fn: Function, inputs: tuple[Tensor, ...], out: Any) -> None:
        fn.step = self.key


def step(t: int, group: str = "") -> contextlib.AbstractContextManager[_StepTagger]:
    """Context manager: every op created inside belongs to time step ``t`` (of the loop
    ``group``, when a graph holds several), for ``to_dot(..., collapse_steps=True)``::

        for t in range(T):
            with tr.viz.step(t):
                h, c = F.lstm_cell(x[t], (h, c), w_ih, w_hh, b_ih, b_hh)
    """
    return listen(_StepTagger((group, int(t))))


def mark_step(t: int, group: str, outputs: Sequence[Tensor | None],
              inputs: Sequence[Tensor | None]) -> None:
    """Mark ``outputs`` as the end of time step ``t``: the step is every op between them and
    ``inputs`` (the recurrent layers call this once per step; ``to_dot`` finds the ops)."""
    mark = (group, t, tuple(id(x) for x in inputs if x is not None))
    for o in outputs:
        if o is not None and o._ctx is not None:
            o._ctx.step = mark


def _steps(order: list[Function]) -> dict[int, Key]:
    """The time step of each op (by id) that belongs to one."""
    member: dict[int, Key] = {}
    for fn in order:  # ops tagged by viz.step
        tag = getattr(fn, "step", None)
        if tag is not None and len(tag) == 2:
            member[id(fn)] = tag
    for fn in order:  # ops marked as a step's end: walk back to the step's inputs
        tag = getattr(fn, "step", None)
        if tag is None or len(tag) == 2:
            continue
        key, stop = tag[:2], tag[2]
        stack, seen = [fn], set()
        while stack:
            g = stack.pop()
            if id(g) in seen:
                continue
            seen.add(id(g))
            member[id(g)] = key  # overrides an enclosing viz.step: the innermost step wins
            for p, (c, _) in zip(g.parents or (), g.edges):
                if c is None or id(p) in stop or id(c) in seen:
                    continue
                other = getattr(c, "step", None)
                if other is not None and len(other) == 3 and other[:2] != key:
                    continue  # another step's end: never walk into it
                stack.append(c)
    return member


# ---- DOT ------------------------------------------------------------------------------------


def _esc(s: str) -> str:
    return s.replace("\\", "\\\\").replace('"', '\\"')


def _label(*lines: str) -> str:
    return '"' + "\\n".join(_esc(x) for x in lines) + '"'


def _describe(t: Tensor) -> str:
    return f"{t.shape} {t.dtype}"


def _ops(root: Function) -> list[Function]:
    """Every op behind ``root``, each after the ops it uses, first inputs first (so that ops
    come out roughly in the order the forward pass made them)."""
    try:
        return toposort(root, inputs_in_order=True)
    except RuntimeError:
        raise RuntimeError(FREED) from None


def _param_names(params: Any) -> dict[int, str]:
    if params is None:
        return {}
    if hasattr(params, "named_parameters"):
        params = dict(params.named_parameters())
    if not isinstance(params, Mapping):
        raise TypeError("to_dot: params must be a Module or a dict name -> Parameter, got "
                        f"{type(params).__name__}")
    return {id(p): name for name, p in params.items()}


def to_dot(tensor: Tensor, params: Any = None, collapse_steps: bool = False,
           expand: int | None = None) -> str:
    """Graphviz DOT text of the graph that made ``tensor`` (see the module's docstring).

    ``params``: a Module or a dict name -> Parameter, to name the parameters. With
    ``collapse_steps`` each time step of an unrolled recurrent net is one node; ``expand=t``
    (which implies ``collapse_steps``) draws step t in full, inside a box.
    """
    if not isinstance(tensor, Tensor):
        raise TypeError(f"to_dot: expected a Tensor, got {type(tensor).__name__}")
    names = _param_names(params)
    order = [] if tensor._ctx is None else _ops(tensor._ctx)
    collapse = collapse_steps or expand is not None
    member = _steps(order) if collapse else {}
    if collapse and not member:
        raise ValueError(
            "to_dot(collapse_steps=True): no op of this graph belongs to a time step. Mark the "
            "body of a hand-written loop with `with tr.viz.step(t):`, or use a composed layer "
            "(impl='composed'): a fused layer runs the whole sequence as one op")
    if expand is not None and not any(k[1] == expand for k in member.values()):
        steps = sorted({k[1] for k in member.values()})
        raise ValueError(f"to_dot: there is no time step {expand} to expand; the steps are "
                         f"{steps[0]} to {steps[-1]}")
    groups = {g: n for n, g in enumerate(dict.fromkeys(k[0] for k in member.values()))}
    one_group = len(groups) <= 1

    def step_name(key: Key) -> str:
        return f"step {key[1]}" if one_group or not key[0] else f"{key[0]} step {key[1]}"

    lines = [
        "digraph tinygrad_rnn {",
        '  graph [rankdir=TB, fontname="Helvetica", fontsize=10];',
        '  node [fontname="Helvetica", fontsize=10];',
        '  edge [fontname="Helvetica", fontsize=8, color="#555555"];',
    ]
    node: dict[int, str] = {}  # id(op) -> node name
    group_node: dict[Key, str] = {}
    group_size: dict[Key, int] = {}
    clusters: dict[Key, list[str]] = {}
    for i, fn in enumerate(order):
        key = member.get(id(fn))
        if key is not None and key[1] != expand:
            if key not in group_node:
                group_node[key] = f"s{key[1]}" if one_group else f"s{groups[key[0]]}_{key[1]}"
            node[id(fn)] = group_node[key]
            group_size[key] = group_size.get(key, 0) + 1
            continue
        node[id(fn)] = f"op{i}"
        decl = f"op{i} [label={_label(type(fn).__name__)}, shape=box, style=rounded];"
        if key is not None:
            clusters.setdefault(key, []).append(decl)
        else:
            lines.append("  " + decl)
    for key, name in group_node.items():
        lines.append(f"  {name} [label={_label(step_name(key), f'{group_size[key]} ops')}, "
                     'shape=box3d, style=filled, fillcolor="#e8e8f8"];')
    for n, (key, decls) in enumerate(clusters.items()):
        lines.append(f"  subgraph cluster_{n} {{")
        lines.append(f"    label={_label(step_name(key))}; style=dashed;")
        lines.extend("    " + d for d in decls)
        lines.append("  }")

    leaves: dict[int, str] = {}
    ROOT = 'shape=doubleoctagon, style=filled, fillcolor="#c9f2c0"'

    def leaf(t: Tensor) -> str:
        if id(t) not in leaves:
            name = f"t{len(leaves)}"
            leaves[id(t)] = name
            if id(t) in names:
                text, style = (names[id(t)], _describe(t)), 'style=filled, fillcolor="#cfe2ff"'
            elif t.requires_grad:
                text, style = (_describe(t),), 'style=filled, fillcolor="#fff3c4"'
            else:  # a constant: show its value when it has one
                text = (f"{t.item():g}", _describe(t)) if t.size == 1 else (_describe(t),)
                style = "style=dashed"
            lines.append(f"  {name} [label={_label(*text)}, {ROOT if t is tensor else style}];")
        return leaves[id(t)]

    edges: list[str] = []
    seen_edges: set[tuple[str, str, str]] = set()
    collapsed = set(group_node.values())

    def edge(src: Tensor, dst: str, ctx: Any = None, out: int = 0) -> None:
        """An arrow from ``src`` (the node ``ctx``, output ``out``, it was when used) to
        ``dst``."""
        if ctx is None:
            a, text = leaf(src), ""
        else:
            a, text = node[id(ctx)], _describe(src)
            if ctx.n_out > 1:
                text = f"out {out}: {text}"
        if a == dst:
            return  # inside one collapsed step
        if a in collapsed or dst in collapsed:
            if (a, dst, text) in seen_edges:
                return  # a collapsed step feeds the same tensor kind once
            seen_edges.add((a, dst, text))
        edges.append(f"  {a} -> {dst}" + (f" [label={_label(text)}];" if text else ";"))

    for fn in order:
        for p, (ctx, out) in zip(fn.parents or (), fn.edges):
            edge(p, node[id(fn)], ctx, out)
    if tensor._ctx is None:
        leaf(tensor)
    else:
        lines.append(f"  out [label={_label(_describe(tensor))}, {ROOT}];")
        edge(tensor, "out", tensor._ctx, tensor._out)
    return "\n".join(lines + edges + ["}"]) + "\n"


def render(tensor: Tensor, path: str | Path, fmt: str | None = None, **kw: Any) -> Path:
    """Draw ``to_dot(tensor, **kw)`` to ``path`` with Graphviz's ``dot``; the format comes from
    the file's suffix (svg, png, pdf, ...) unless ``fmt`` names it. Returns the path."""
    exe = shutil.which("dot")
    if exe is None:
        raise RuntimeError(NO_DOT)
    path = Path(path)
    fmt = fmt or path.suffix.lstrip(".") or "svg"
    text = to_dot(tensor, **kw)
    res = subprocess.run([exe, f"-T{fmt}", "-o", str(path)], input=text, text=True,
                         capture_output=True, check=False)
    if res.returncode != 0:
        raise RuntimeError(f"render: dot failed (exit {res.returncode}): {res.stderr.strip()}")
    return path
