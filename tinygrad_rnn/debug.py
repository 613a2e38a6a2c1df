"""Instruments that watch the engine work: a backprop trace and anomaly detection.

Both listen to the engine through one switch, ``autograd._HOOKS``: ``Function.apply`` tells the
listeners about every op it runs, and ``run_backward`` about every gradient an op computes.
While no instrument is on the switch is off, and the engine pays one flag check per op.

    with tr.trace() as t:                 # every op, forward and backward, with shapes and
        h, c = F.lstm_cell(x, (h, c), w_ih, w_hh, b_ih, b_hh)
        (h.sum() + c.sum()).backward()    # the norms of the gradients it received and sent
    print(t.table())

    with tr.detect_anomaly():             # RuntimeError at the first op whose output, or whose
        loss = model(x)                   # backward's result, holds NaN or inf; the message
        loss.backward()                   # names the op and the line of your code that made it
"""

from __future__ import annotations

import contextlib
import linecache
import math
import sys
import weakref
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np

from . import autograd
from .backend import get_array_module, sum_to
from .tensor import Function, Tensor

Shape = tuple[int, ...]
L = TypeVar("L", bound="Listener")


class Listener:
    """Something that watches the engine (see ``listen``); override what you need.

    ``forward`` runs after every op (``out`` is its output tensor, or a tuple of them);
    ``backward`` after every op's backward, with the gradients the op received (``gys``, one
    per output, None where none arrived) and those it returned (``gxs``, one per input, in the
    broadcast shape, before the engine sums each back to its input's shape); ``start`` when a
    backward pass begins, with the gradient it was given; ``stored`` when a gradient ``g`` is
    stored in a tensor's ``.grad`` (a leaf's, or one that called ``retain_grad()``), with the
    ``.grad`` before (``previous``, None if there was none) and after (``total``). Raising stops
    the pass.
    """

    def before(self, cls: type[Function]) -> None:
        """An op of class ``cls`` is about to run (``forward`` follows, unless it raises)."""

    def before_backward(self, fn: Function) -> None:
        """``fn``'s backward is about to run (``backward`` follows, unless it raises)."""

    def forward(self, fn: Function, inputs: tuple[Tensor, ...], out: Any) -> None:
        pass

    def backward(self, fn: Function, gys: Sequence[Any], gxs: tuple[Any, ...],
                 parents: tuple[Tensor, ...]) -> None:
        pass

    def start(self, root: Tensor, gradient: Any) -> None:
        pass

    def stored(self, t: Tensor, g: Any, previous: Any, total: Any) -> None:
        pass


@contextlib.contextmanager
def listen(listener: L) -> Iterator[L]:
    """Context manager: ``listener`` hears every op run inside it, forward and backward."""
    hooks = autograd._HOOKS
    hooks.listeners.append(listener)
    hooks.active = True
    try:
        yield listener
    finally:
        hooks.listeners.remove(listener)
        hooks.active = bool(hooks.listeners) or autograd._DUAL.level is not None


def _outputs(out: Any) -> tuple[Tensor, ...]:
    return out if type(out) is tuple else (out,)


def _array(g: Any) -> Any:
    """The array behind a gradient: a Tensor's while ``create_graph=True`` records the pass,
    a NumPy scalar's where an op returned a Python number, a sparse gradient's dense form."""
    if isinstance(g, Tensor):
        return g._data
    if getattr(g, "is_sparse", False):  # embedding(sparse=True)'s: its dense values
        return g.detach().to_dense()._data
    return g if hasattr(g, "dtype") else np.asarray(g)


def _norm(g: Any) -> float:
    """The 2-norm, in float64 and scaled by the largest element, so that a tiny float32
    gradient (1e-25) does not show as 0, nor a huge one as inf."""
    a = _array(g)
    if a.size == 0:
        return 0.0
    a = abs(a.astype(np.float64))
    m = float(a.max())
    if m == 0 or not math.isfinite(m):
        return m
    return m * math.sqrt(float(((a / m) ** 2).sum()))


# ---- trace --------------------------------------------------------------------------------


@dataclass(frozen=True)
class TraceRecord:
    """One row of a trace: one op's forward, or its backward.

    ``index`` numbers the ops in the order the forward pass made them (the backward row of an op
    carries the same number; -1 for an op made before the trace began). ``gy_norms`` holds the
    norm of the gradient the op received (one per output, None where none arrived) and
    ``gx_norms`` the norm of each gradient it passed on, as its input received it (summed back
    to the input's shape; None for an input that needs no gradient). Both are empty in forward.
    An output shape is None where it is unknown: an op made before the trace began shows the
    shapes of the gradients it received, and an output that received none has no shape there.
    """

    phase: str
    index: int
    op: str
    input_shapes: tuple[Shape, ...]
    output_shapes: tuple[Shape | None, ...]
    gy_norms: tuple[float | None, ...] = ()
    gx_norms: tuple[float | None, ...] = ()


class Trace(Listener):
    """What ``trace()`` records: ``records`` (a list of ``TraceRecord``), ``table()``."""

    def __init__(self) -> None:
        self.records: list[TraceRecord] = []
        self._seen: weakref.WeakKeyDictionary[Function, tuple[int, tuple[Shape | None, ...]]] = (
            weakref.WeakKeyDictionary())
        self._count = 0  # op numbers never repeat, even when a recorded op is freed

    def forward(self, fn: Function, inputs: tuple[Tensor, ...], out: Any) -> None:
        index, self._count = self._count, self._count + 1
        shapes = tuple(o.shape for o in _outputs(out))
        self._seen[fn] = (index, shapes)
        self.records.append(TraceRecord("forward", index, type(fn).__name__,
                                        tuple(t.shape for t in inputs), shapes))

    def backward(self, fn: Function, gys: Sequence[Any], gxs: tuple[Any, ...],
                 parents: tuple[Tensor, ...]) -> None:
        index, shapes = self._seen.get(fn, (-1, ()))
        if not shapes:  # made before the trace began: the gradients have the outputs' shapes
            shapes = tuple(None if g is None else tuple(g.shape) for g in gys)
        gx_norms = tuple(
            None if g is None or not p.requires_grad else _norm(sum_to(_array(g), p.shape))
            for p, g in zip(parents, gxs))
        self.records.append(TraceRecord(
            "backward", index, type(fn).__name__, tuple(p.shape for p in parents), shapes,
            tuple(None if g is None else _norm(g) for g in gys), gx_norms))

    def table(self) -> str:
        """The records as an aligned text table, one line per op and pass."""
        rows = [("#", "pass", "op", "input shapes", "output shapes", "|gy|", "|gx|")]
        for r in self.records:
            rows.append((str(r.index) if r.index >= 0 else "-", r.phase, r.op,
                         _shapes(r.input_shapes), _shapes(r.output_shapes),
                         _norms(r.gy_norms), _norms(r.gx_norms)))
        widths = [max(len(row[k]) for row in rows) for k in range(len(rows[0]))]
        lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip()
                 for row in rows]
        lines.insert(1, "-" * len(lines[0]))
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.table()


def _shapes(shapes: tuple[Shape | None, ...]) -> str:
    return " ".join("?" if s is None else str(s).replace(" ", "") for s in shapes)


def _norms(norms: tuple[float | None, ...]) -> str:
    return " ".join("-" if v is None else f"{v:.4g}" for v in norms)


def trace() -> contextlib.AbstractContextManager[Trace]:
    """Context manager recording every op of the forward and backward passes run inside it:
    the op, its input and output shapes and, in backward, the norm of the gradient it received
    and of each it passed on. ``with tr.trace() as t: ...`` then ``print(t.table())``."""
    return listen(Trace())


# ---- anomaly detection --------------------------------------------------------------------

Origin = tuple[str, int, str]  # file, line, function


def _user_frame() -> Origin | None:
    """Where the user's code called into tinygrad_rnn: the innermost frame outside it."""
    f = sys._getframe(1)
    while f is not None:
        name = f.f_globals.get("__name__", "")
        if name != "tinygrad_rnn" and not name.startswith("tinygrad_rnn."):
            return f.f_code.co_filename, f.f_lineno, f.f_code.co_name
        f = f.f_back
    return None


def _where(origin: Origin | None, what: str = "The op was created") -> str:
    if origin is None:
        return ("The op was made before detect_anomaly() was entered, so the line that made "
                "it is unknown: make it inside the with block too.")
    file, line, func = origin
    code = linecache.getline(file, line).strip()
    return f"{what} at {file}:{line}, in {func}" + (f":\n    {code}" if code else "")


def _nonfinite(a: Any) -> str | None:
    """What is wrong with ``a`` ("NaN", "inf", "NaN and inf" and how many), or None."""
    a = _array(a)
    if a.dtype.kind not in "fc":
        return None
    xp = get_array_module(a)
    finite = xp.isfinite(a)
    if bool(finite.all()):
        return None
    n_bad, n_nan = int((~finite).sum()), int(xp.isnan(a).sum())
    kinds = " and ".join(k for k, n in (("NaN", n_nan), ("inf", n_bad - n_nan)) if n)
    return f"{kinds} ({n_bad} of {a.size} values)"


class Anomaly(Listener):
    """What ``detect_anomaly()`` installs: check each op's output and each gradient."""

    def __init__(self) -> None:
        self._origin: weakref.WeakKeyDictionary[Function, Origin | None] = (
            weakref.WeakKeyDictionary())

    def forward(self, fn: Function, inputs: tuple[Tensor, ...], out: Any) -> None:
        origin = _user_frame()
        self._origin[fn] = origin
        outs = _outputs(out)
        for k, o in enumerate(outs):
            bad = _nonfinite(o._data)
            if bad is None:
                continue
            which = f"output {k} of {type(fn).__name__}" if len(outs) > 1 else (
                f"the output of {type(fn).__name__}")
            # under create_graph=True, the backward's own ops come here too (autograd.py)
            rec = autograd._HOOKS.recording
            if rec is None:
                phase = "in the forward pass"
            elif rec == autograd._HOOKS.SUMS:
                phase = ("in the backward pass, where create_graph=True records as ops the sums "
                         "of gradients that meet (at a tensor used twice, or in a .grad)")
            else:
                phase = (f"in the backward pass, while create_graph=True recorded "
                         f"{type(rec).__name__}.backward as ops")
            msg = f"detect_anomaly: {phase}, {which} holds {bad}. "
            for j, t in enumerate(inputs):
                if _nonfinite(t._data) is not None:
                    msg += (f"Its input {j} already held {_nonfinite(t._data)}: the values came "
                            "in from outside detect_anomaly() (or from the data). ")
                    break
            else:
                if rec == autograd._HOOKS.SUMS:
                    msg += ("Its inputs are finite: their sum overflowed. Zero the gradients "
                            "between steps, or scale the loss down. ")
            if rec is None:
                raise RuntimeError(msg + _where(origin))
            msg += _where(origin, "The value was computed")
            if rec != autograd._HOOKS.SUMS:
                msg += "\n" + _where(self._origin.get(rec), f"The {type(rec).__name__} was created")
            raise RuntimeError(msg)

    def backward(self, fn: Function, gys: Sequence[Any], gxs: tuple[Any, ...],
                 parents: tuple[Tensor, ...]) -> None:
        for k, g in enumerate(gxs):
            if k < len(parents) and fn.edges[k][0] is None and (
                    fn.edges[k][1] < 0 or parents[k]._ctx is not None
                    or not parents[k].requires_grad):
                continue  # a gradient nobody asked for, which the engine drops (as it does)
            bad = None if g is None else _nonfinite(g)
            if bad is None:
                continue
            upstream = [_nonfinite(gy) for gy in gys if gy is not None]
            came = ("the gradient it received already held " + next(u for u in upstream if u)
                    if any(upstream) else "the gradient it received was finite")
            shape = parents[k].shape if k < len(parents) else tuple(_array(g).shape)
            raise RuntimeError(
                f"detect_anomaly: in the backward pass, {type(fn).__name__}.backward returned "
                f"{bad} in the gradient for its input {k} (shape {shape}); {came}. "
                + _where(self._origin.get(fn)))

    def start(self, root: Tensor, gradient: Any) -> None:
        bad = _nonfinite(gradient)
        if bad is not None:
            raise RuntimeError(f"detect_anomaly: the gradient given to backward() holds {bad}, "
                               f"for a tensor of shape {root.shape}.")

    def stored(self, t: Tensor, g: Any, previous: Any, total: Any) -> None:
        bad = _nonfinite(total)
        if bad is None:
            return
        what = f"the .grad of a tensor of shape {t.shape} ({_array(total).dtype})"
        if previous is not None and _nonfinite(previous) is not None:
            raise RuntimeError(
                f"detect_anomaly: {what} already held {_nonfinite(previous)} before this "
                "gradient was added: it came from a backward outside detect_anomaly(). Zero "
                "the gradients (or set .grad = None) first.")
        if _nonfinite(g) is None:  # both parts finite: their sum overflowed
            raise RuntimeError(
                f"detect_anomaly: adding a gradient into {what} gave {bad}: the previous .grad "
                "and the new gradient are finite, but their sum overflowed. Zero the gradients "
                "between steps, or scale the loss down.")
        raise RuntimeError(f"detect_anomaly: the gradient stored in {what} holds {bad}.")


def detect_anomaly(check_nan: bool = True) -> contextlib.AbstractContextManager[Any]:
    """Context manager (as ``torch.autograd.detect_anomaly``): raise ``RuntimeError`` at the
    first op whose forward output or backward gradient holds NaN or infinity, naming the op and
    the file:line of the code that created it. Off by default; free when off.
    ``check_nan=False`` checks nothing (PyTorch then only records where ops were made, which
    this engine's messages say anyway), but turns the mode on, as there."""
    return _anomaly_mode(check_nan)


@contextlib.contextmanager
def _anomaly_mode(check_nan: bool) -> Iterator[None]:
    before = dict(_FLAGS)
    _FLAGS.update(enabled=True, check_nan=bool(check_nan))
    try:
        if check_nan:
            with listen(Anomaly()):
                yield
        else:
            yield
    finally:
        _FLAGS.update(before)


_GLOBAL: list[Anomaly] = []  # the checker set_detect_anomaly(True) installed, if any
_FLAGS = {"enabled": False, "check_nan": True}  # the mode, as PyTorch reports it


def is_anomaly_enabled() -> bool:
    """Whether ``set_detect_anomaly(True)`` (or ``set_anomaly_enabled(True)``) is in force, or
    a ``detect_anomaly()`` is open, as ``torch.is_anomaly_enabled``."""
    return _FLAGS["enabled"] or bool(_GLOBAL) or any(
        isinstance(x, Anomaly) for x in autograd._HOOKS.listeners)


def is_anomaly_check_nan_enabled() -> bool:
    """Whether anomaly mode checks values for NaN and inf (True unless it was turned on with
    ``check_nan=False``), as ``torch.is_anomaly_check_nan_enabled``."""
    return _FLAGS["check_nan"]


def set_anomaly_enabled(enabled: bool, check_nan: bool = True) -> None:
    """Turn anomaly mode on or off for what follows, as ``torch.set_anomaly_enabled``: on with
    ``check_nan``, every op is checked as under ``detect_anomaly()``; off, ``check_nan`` is
    back to True."""
    for name, v in (("enabled", enabled), ("check_nan", check_nan)):
        if not isinstance(v, (bool, np.bool_)):
            raise TypeError(f"set_anomaly_enabled(): argument '{name}' must be bool, not "
                            f"{type(v).__name__}")
    _FLAGS.update(enabled=bool(enabled), check_nan=bool(check_nan) if enabled else True)
    _set_global(bool(enabled) and bool(check_nan))


class set_detect_anomaly:  # noqa: N801 - PyTorch's name, a class there too
    """``detect_anomaly``'s checks turned on (``mode=True``) or off for what follows, as
    ``torch.autograd.set_detect_anomaly``: called, it sets the mode until called again; used
    as ``with set_detect_anomaly(True):``, it puts the previous mode back on exit."""

    def __init__(self, mode: bool, check_nan: bool = True) -> None:
        self.previous = (bool(_GLOBAL), dict(_FLAGS))
        _FLAGS.update(enabled=bool(mode), check_nan=bool(check_nan) if mode else True)
        _set_global(bool(mode) and check_nan)

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: Any) -> None:
        _set_global(self.previous[0])
        _FLAGS.update(self.previous[1])


def _set_global(on: bool) -> None:
    hooks = autograd._HOOKS
    if on and not _GLOBAL:
        _GLOBAL.append(Anomaly())
        hooks.listeners.append(_GLOBAL[0])
    elif not on and _GLOBAL:
        hooks.listeners.remove(_GLOBAL.pop())
    hooks.active = bool(hooks.listeners) or autograd._DUAL.level is not None
