"""``Function`` (one op: forward and backward side by side) and ``Tensor`` (an array plus the op
that made it).

How an op is written (see ``ops/elementwise.py``)::

    class Exp(Function):
        def forward(self, x):           # arrays in, array out; self.xp is numpy or cupy
            y = self.xp.exp(x)
            self.saved = (y,)           # what backward needs
            return y

        def backward(self, gy):         # upstream gradient in, one gradient per input out
            (y,) = self.saved
            return gy * y

``backward`` returns gradients in the broadcast shape; the engine sums each back to its input's
shape. The same ``backward`` also serves ``create_graph=True``: the engine then hands it Tensors
instead of arrays (``gy``, and each saved input or output) and a Tensor namespace as ``self.xp``,
so the very formula that computes the gradient records a graph that can be differentiated again.
"""

from __future__ import annotations

import copy
import functools
import inspect
import math
import operator
import warnings
import weakref
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

from . import autograd
from .autograd import _HOOKS
from .backend import (
    Device,
    broadcasts_to,
    device,
    device_name,
    device_of,
    get_device,
    known_devices,
    sum_to,
)

DTypeLike = Any  # a NumPy dtype, a scalar type such as numpy.float32, or a name such as "float64"
Index = Any


_DEFAULT_DTYPE = [np.dtype(np.float32)]  # set_default_dtype's: the one place it is kept


def default_dtype() -> np.dtype:
    """The default floating-point dtype (float32 unless ``tr.set_default_dtype`` changed it):
    of ``tr.ones``, ``tr.randn``, new parameters, and tensors made from Python floats."""
    return _DEFAULT_DTYPE[0]


def _default_complex() -> np.dtype:
    """The complex dtype that goes with the default float one (complex64 with float32), as
    PyTorch pairs them: a tensor of it prints without ``dtype=``."""
    return np.dtype(np.complex128 if default_dtype() == np.float64 else np.complex64)


def set_default_dtype(dtype: DTypeLike) -> None:
    """Make ``dtype`` (float16, float32 or float64) the default floating-point dtype, as
    ``torch.set_default_dtype``; tensors that exist keep theirs."""
    dt = resolve_dtype(dtype)
    if dt.kind != "f":
        raise DTypeError(f"set_default_dtype takes a floating-point dtype, got {dt}")
    _DEFAULT_DTYPE[0] = dt


def resolve_dtype(dtype: DTypeLike) -> np.dtype:
    """A NumPy dtype from a dtype, a type or a name; a clear error for anything else."""
    if isinstance(dtype, np.dtype):  # the common case, fast
        return dtype
    try:
        return np.dtype(getattr(dtype, "name", dtype) if not isinstance(dtype, type) else dtype)
    except TypeError as e:
        raise DTypeError(f"not a dtype: {dtype!r}") from e


_CATEGORY = {"b": 0, "u": 1, "i": 1, "f": 2, "c": 3}  # bool < integer < float < complex


def promote_types(type1: Any, type2: Any) -> np.dtype:
    """The smallest dtype both convert to without leaving their category, as
    ``torch.promote_types``: within one category (or float with complex) NumPy's promotion;
    across categories the higher one's dtype (int64 with float16 is float16, where NumPy
    gives float64)."""
    a, b = resolve_dtype(type1), resolve_dtype(type2)
    ca, cb = _CATEGORY[a.kind], _CATEGORY[b.kind]
    if ca == cb or {ca, cb} == {2, 3}:
        return np.promote_types(a, b)
    return a if ca > cb else b


def can_cast(from_: Any, to: Any) -> bool:
    """Whether a value of dtype ``from_`` may be cast to ``to`` by PyTorch's rule for
    in-place ops: never to a lower category (complex to float, float to integer, anything
    but bool to bool), as ``torch.can_cast``; within a category always (int16 into uint8,
    where NumPy's "same_kind" refuses)."""
    a, b = resolve_dtype(from_), resolve_dtype(to)
    return _CATEGORY[a.kind] <= _CATEGORY[b.kind] and (b.kind != "b" or a.kind == "b")


def check_fits(value: Any, dtype: np.dtype, what: str) -> None:
    """A Python number written into an integer tensor (``fill_``, ``x[i] = v``, ``full``)
    must fit its dtype: PyTorch refuses it otherwise ("value cannot be converted ...
    without overflow"), NaN and inf included, where NumPy would wrap it around; so must a
    complex number into a real tensor (its imaginary part 0)."""
    if dtype.kind in "iuf" and isinstance(value, (complex, np.complexfloating)):
        if value.imag:
            raise ValueError(f"{what}: {value!r} does not fit in {dtype}, which has no "
                             "imaginary part (as in PyTorch)")
        value = value.real
    if dtype.kind in "iu" and isinstance(value, (int, float, np.number)) and \
            not isinstance(value, (bool, np.bool_)):
        info = np.iinfo(dtype)
        # an int down to -(max + 1) wraps into an unsigned dtype, as PyTorch lets it
        low = -info.max - 1 if dtype.kind == "u" and isinstance(value, (int, np.integer)) \
            else info.min
        if not low <= value <= info.max:
            raise ValueError(f"{what}: {value!r} does not fit in {dtype} (as in PyTorch, "
                             "no wrapping around)")


def combine_categories(higher: np.dtype | None, lower: np.dtype | None) -> np.dtype | None:
    """PyTorch's rule for operands of two ranks (tensors with axes over 0-d ones, 0-d ones over
    Python numbers): ``higher``'s dtype decides unless ``lower`` is of a higher category
    (bool < integer < float < complex), where the two promote; a float ``higher`` with a
    complex ``lower`` keeps its width, made complex (float32 with complex128 is complex64)."""
    if higher is None or lower is None:
        return lower if higher is None else higher
    if higher.kind == "c":
        return higher
    if lower.kind == "c":
        return np.dtype(np.complex128 if higher == np.float64 else np.complex64) \
            if higher.kind == "f" else lower
    if higher.kind == "f":
        return higher
    if higher.kind == "b" or lower.kind == "f":
        return promote_types(higher, lower)
    return higher


def _common_dtype(a: Tensor, b: Tensor, *more: Tensor) -> np.dtype:
    """The dtype an elementwise op on ``a``, ``b`` (and ``more``) computes in, as PyTorch's:
    tensors with axes decide over 0-d ones unless those are of a higher category (a Python
    number comes here as a 0-d tensor of its weak dtype, ``Tensor._lift``'s)."""
    da, db = a._data.dtype, b._data.dtype
    if not more and da == db:
        return da
    ranks: list[np.dtype | None] = [None, None]  # of the tensors with axes, of the 0-d ones
    for t in (a, b, *more):
        r = 0 if t.ndim else 1
        ranks[r] = t.dtype if ranks[r] is None else promote_types(ranks[r], t.dtype)
    return combine_categories(*ranks)


# how a tensor prints (set_printoptions): PyTorch's defaults
_PRINT_OPTIONS: dict[str, Any] = {"precision": 4, "threshold": 1000, "edgeitems": 3,
                                  "linewidth": 80, "sci_mode": None}
_PRINT_PROFILES = {"default": (4, 1000, 3, 80), "short": (2, 1000, 2, 80),
                   "full": (4, math.inf, 3, 80)}


def set_printoptions(precision: int | None = None, threshold: float | None = None,
                     edgeitems: int | None = None, linewidth: int | None = None,
                     profile: str | None = None, sci_mode: bool | None = None) -> None:
    """How tensors print, as ``torch.set_printoptions``: ``precision`` digits after the point
    (4), at most ``threshold`` elements before the middle is summarised as ``...`` (1000;
    ``math.inf`` never), ``edgeitems`` kept at each end of a summarised axis (3), lines of at
    most ``linewidth`` characters (80); ``sci_mode`` True always uses scientific notation,
    False never, None (the default) where the values need it. ``profile`` ("default",
    "short": precision 2 and 2 edge items, "full": no summary) sets the first four, then the
    others given override it. As PyTorch's, ``sci_mode`` is set on every call (None when not
    given). The layout is PyTorch's, character for character (``Tensor.__repr__``)."""
    new: dict[str, Any] = {}
    if profile is not None:
        if profile not in _PRINT_PROFILES:
            raise ValueError(f"set_printoptions: profile must be one of "
                             f"{sorted(_PRINT_PROFILES)}, got {profile!r}")
        new.update(zip(("precision", "threshold", "edgeitems", "linewidth"),
                       _PRINT_PROFILES[profile]))
    for name, value in (("precision", precision), ("threshold", threshold),
                        ("edgeitems", edgeitems), ("linewidth", linewidth)):
        if value is None:
            continue
        whole = isinstance(value, (int, np.integer)) and not isinstance(value, bool)
        if not (whole or name == "threshold" and value == math.inf) or value < 0:
            raise ValueError(f"set_printoptions: {name} must be an int >= 0"
                             f"{' (or math.inf)' if name == 'threshold' else ''}, got "
                             f"{value!r}")
        new[name] = value if value == math.inf else int(value)
    if sci_mode is not None and not isinstance(sci_mode, (bool, np.bool_)):
        raise ValueError(f"set_printoptions: sci_mode must be True, False or None, got "
                         f"{sci_mode!r}")
    new["sci_mode"] = None if sci_mode is None else bool(sci_mode)
    _PRINT_OPTIONS.update(new)  # all checked first: a refused call changes nothing


def _edge_array(a: Any, xp: Any, edge: int) -> tuple[Any, tuple[bool, ...]]:
    """What a summarised tensor shows: ``a`` cut along each axis longer than ``2 * edge`` to
    its first and last ``edge`` entries (on its device, so only those travel to the host),
    and which axes were cut (a ``...`` stands between the two ends of those)."""
    cut = []
    for ax, n in enumerate(a.shape):
        cut.append(n > 2 * edge)
        if cut[-1]:
            lead = (slice(None),) * ax
            a = xp.concatenate((a[lead + (slice(0, edge),)], a[lead + (slice(n - edge, n),)]),
                               axis=ax)
    return a, tuple(cut)


class _NumberFormat:
    """How every element of one tensor prints, by PyTorch's rules (``set_printoptions``).

    Integers and bools: ``str(v)``. Floats are judged on their finite nonzero values: all
    whole numbers print as ``3.`` (integer mode); the largest over 1000 times the smallest,
    or over 1e8, or the smallest under 1e-4, print in scientific notation, ``1.0000e-05``
    (``sci_mode`` True or False forces it on or off); the others fixed, ``0.2500``, with
    ``precision`` digits after the point. A tensor with no finite nonzero value prints in
    integer mode (``0.``, ``nan``). Every element is right-aligned to ``width``, the widest
    of those values (nan and inf do not count)."""

    def __init__(self, a: np.ndarray, precision: int, sci_mode: bool | None) -> None:
        self.floating = a.dtype.kind == "f"
        self.precision, self.whole, self.sci, self.width = precision, True, False, 1
        if not self.floating:
            self.width = max([1, *(len(str(v)) for v in a.reshape(-1).tolist())])
            return
        wide = a.reshape(-1).astype(np.float64)  # (float16 would overflow the ratio)
        shown = wide[np.isfinite(wide) & (wide != 0)]
        if not shown.size:
            return
        # Python floats: a ratio past the largest float is inf, without NumPy's warning
        top, bottom = float(np.abs(shown).max()), float(np.abs(shown).min())
        self.whole = bool(np.all(shown == np.ceil(shown)))
        self.sci = bool(top / bottom > 1000.0 or top > 1.0e8 or bottom < 1.0e-4) \
            if sci_mode is None else sci_mode
        spec = f".{precision}e" if self.sci else ".0f" if self.whole else f".{precision}f"
        point = self.whole and not self.sci  # the "." after a whole number
        self.width = max(len(format(v, spec)) + point for v in shown.tolist())

    def __call__(self, v: Any) -> str:
        if not self.floating:
            s = str(v)
        elif self.sci:
            s = format(v, f".{self.precision}e")
        elif self.whole:
            s = format(v, ".0f") + ("." if math.isfinite(v) else "")
        else:
            s = format(v, f".{self.precision}f")
        return s.rjust(self.width)


class _ComplexFormat:
    """A complex element as PyTorch prints it: its real part by the ``_NumberFormat`` of all
    the real parts, its imaginary part by that of the imaginary parts, then ``j``
    (``1.+2.0000j``, ``-0.-0.5000j``)."""

    def __init__(self, a: np.ndarray, precision: int, sci_mode: bool | None) -> None:
        self.real = _NumberFormat(a.real, precision, sci_mode)
        self.imag = _NumberFormat(a.imag, precision, sci_mode)
        self.width = self.real.width + self.imag.width + 1

    def __call__(self, v: Any) -> str:
        imag = (self.imag(v.imag) + "j").lstrip()
        return self.real(v.real) + ("" if imag[0] in "+-" else "+") + imag


def _array_string(a: Any, dev: Device, indent: int) -> str:
    """The values of ``a`` (an array of at least one element on ``dev``) as PyTorch prints
    them, rows nested under the first, which starts ``indent`` characters into its line:
    more than ``threshold`` elements are summarised, each axis longer than twice
    ``edgeitems`` shown by its ends around a ``...``; a row of numbers breaks into lines of
    at most ``linewidth`` characters; every element is laid out by one ``_NumberFormat``
    (of the elements shown)."""
    o = _PRINT_OPTIONS
    edge = o["edgeitems"]
    summarise = a.size > o["threshold"]
    if summarise and not edge and a.ndim:
        return "[...]"
    shown, cut = _edge_array(a, dev.xp, edge) if summarise else (a, (False,) * a.ndim)
    host = np.asarray(dev.to_host(shown))
    fmt = (_ComplexFormat if host.dtype.kind == "c" else _NumberFormat)(
        host, o["precision"], o["sci_mode"])
    if host.ndim == 0:
        return fmt(host.item())
    # as many numbers on a line as fit beside the innermost row's indentation
    per_line = max(1, (o["linewidth"] - indent - host.ndim + 1) // (fmt.width + 2))

    def rows(v: list[Any], depth: int) -> str:
        newline = " " * (indent + depth + 1)  # under this row's first element
        if depth == host.ndim - 1:
            items = [fmt(e) for e in v]
            if cut[depth]:
                items.insert(edge, " ...")
            lines = [", ".join(items[i:i + per_line]) for i in range(0, len(items), per_line)]
            return "[" + (",\n" + newline).join(lines) + "]"
        parts = [rows(e, depth + 1) for e in v]
        if cut[depth]:
            parts.insert(edge, "...")
        # a blank line between the blocks of each axis beyond the last two, as PyTorch's
        return "[" + ("," + "\n" * (host.ndim - 1 - depth) + newline).join(parts) + "]"

    return rows(host.tolist(), 0)


# PyTorch's names for the arguments that are NumPy's here (``axis``, ``keepdims``)
_TORCH_NAMES = {"dim": "axis", "keepdim": "keepdims", "start_dim": "start_axis",
                "end_dim": "end_axis"}


def torch_names(f: Callable[..., Any] | None = None, /, **renames: str) -> Any:
    """Let ``f`` also take PyTorch's keywords: ``dim=`` for ``axis=``, ``keepdim=`` for
    ``keepdims=`` (and ``start_dim``/``end_dim`` for ``start_axis``/``end_axis``), so that
    ``x.sum(dim=1, keepdim=True)`` runs as it is; ``@torch_names(other="b")`` adds more
    (PyTorch's name = ours). A name of ``f``'s ``*args`` takes the whole sequence
    (``torch.zeros(size=(2, 3))`` for ``zeros(*shape)``). The names taken are listed in the
    wrapper's ``torch_keywords``."""
    if f is None:
        return lambda g: torch_names(g, **renames)
    names = {**_TORCH_NAMES, **renames}
    params = inspect.signature(f).parameters
    own = {p for p, v in params.items() if v.kind in (v.POSITIONAL_OR_KEYWORD, v.KEYWORD_ONLY)}
    # the position of f's *args, where a keyword for it goes: after the arguments before it
    star = {p: i for i, (p, v) in enumerate(params.items()) if v.kind is v.VAR_POSITIONAL}

    @functools.wraps(f)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if kwargs:  # a call without keywords pays only this test
            for theirs, ours in names.items():
                if theirs in kwargs and theirs not in own:
                    if ours in star:
                        if len(args) != star[ours]:
                            raise TypeError(f"{f.__name__}() got multiple values for "
                                            f"argument {theirs!r}")
                        args += (kwargs.pop(theirs),)
                    elif ours in kwargs:
                        raise TypeError(f"{f.__name__}() got both {ours}= and {theirs}= "
                                        "(the same argument)")
                    else:
                        kwargs[ours] = kwargs.pop(theirs)
        return f(*args, **kwargs)

    wrapper.torch_keywords = (  # type: ignore[attr-defined]
        getattr(f, "torch_keywords", {})
        | {k: v for k, v in names.items() if k not in own and v in params})
    return wrapper


def torch_args(namespace: dict[str, Any], table: dict[str, str]) -> None:
    """Give each function ``namespace[name]`` PyTorch's names for its leading arguments:
    ``table[name]`` lists them in order (``"input other"``), and each that differs from ours
    in its place becomes a keyword for it (``tr.matmul(input=a, other=b)`` for
    ``matmul(a, b)``), through ``torch_names``."""
    for name, theirs in table.items():
        f = namespace[name]
        ours = [(p, v.kind) for p, v in inspect.signature(f).parameters.items()
                if v.kind in (v.POSITIONAL_OR_KEYWORD, v.VAR_POSITIONAL)]
        namespace[name] = torch_names(f, **{  # (a name of *args is no keyword by itself)
            t: o for t, (o, kind) in zip(theirs.split(), ours)
            if t != o or kind is inspect.Parameter.VAR_POSITIONAL})


def _check_requires_grad(dtype: np.dtype) -> None:
    if dtype.kind not in "fc":
        raise DTypeError(
            f"Only Tensors of floating point and complex dtype can require gradients (as in "
            f"PyTorch), not dtype {dtype}: integer and bool tensors hold indices and labels"
        )


# complex gradients follow PyTorch's convention: a complex z = x + iy gets dL/dx + i dL/dy
# (twice the conjugate Wirtinger derivative), so a holomorphic f has the VJP gy * conj(f'(z)).
# Only the ops whose backward is written for that (``complex_ok = True``) take part; any
# other op meeting a complex array while recording is refused, never a wrong gradient
_NO_COMPLEX_GRAD = (
    "{} does not support complex gradients here (its backward is written for real numbers); "
    "work on the real and imaginary parts (.real, .imag, view_as_real), or detach() first")


def conj_(a: Any) -> Any:
    """The complex conjugate of an array (or Tensor); a real one is returned as it is."""
    return a.conj() if a.dtype.kind == "c" else a


class Function:
    """One differentiable op. The instance is its own context: forward stores in ``saved``
    what backward needs, and the engine stores the op's inputs in ``parents``.

    An op whose ``forward`` returns a tuple of arrays has several outputs: ``apply`` returns a
    tuple of tensors, and ``backward`` receives one gradient per output (None for an output no
    gradient reached). ``differentiable_backward = False`` marks an op whose backward works on
    arrays only (``Digamma``, the CTC loss): ``create_graph=True`` through it is refused, not
    wrong. (The fused recurrent ops' backward is array code too, but they override
    ``graph_backward`` to differentiate a composed replay instead: see ``ops/fused.py``.)
    ``final`` is True while the last backward through the op runs (the graph is freed after
    it): the op may then reuse its saved buffers as scratch space.

    Forward-mode AD (``autograd_forward``) needs each op's Jacobian-vector product J·v: an op
    may give it as ``jvp(*tangents)`` (one tangent array per input, zeros for a float input
    that has none, None for an integer or boolean one; ``self.inputs`` holds the inputs'
    arrays while it runs), returning one tangent per output; an op with ``linear = True`` is
    linear in its inputs, so J·v is the op itself applied to the tangents; any other op gets
    J·v from its backward by the double-vjp trick (``autograd_forward.double_vjp``). ``fw``
    (unset outside forward mode) keeps the outputs' tangents, which a recorded backward
    (``create_graph``) gives the outputs it uses: forward over reverse.

    ``step`` is left unset (read it with ``getattr(fn, "step", None)``) unless the op belongs
    to a time step of an unrolled recurrent net: ``viz.step`` and the composed recurrent layers
    set it, and ``viz.to_dot`` reads it to draw one node per step.
    """

    __slots__ = ("parents", "edges", "inputs", "saved", "xp", "retained", "hooks", "y", "n_out",
                 "shapes", "final", "step", "fw", "__weakref__")
    differentiable_backward = True
    complex_ok = False  # whether backward is right for complex numbers (``_NO_COMPLEX_GRAD``)
    linear = False  # whether the op is linear in its inputs (forward mode: J·v = op(v))

    def __init__(self) -> None:
        self.parents: tuple[Tensor, ...] | None = ()
        # the graph node each parent was when this op ran: (its op, which output), (None, 0)
        # for a leaf, (None, -1) for one that needed no gradient then (requires_grad_()
        # later does not reach back); an in-place op may since have made a parent the
        # result of another op
        self.edges: Sequence[tuple[Function | None, int]] = ()
        self.inputs: Sequence[Any] = ()  # the parents' arrays when this op ran, if it saved any
        self.saved: tuple[Any, ...] = ()
        self.retained: dict[int, weakref.ref[Tensor]] | None = None
        # register_hook's, by output; "pre" and "post": the node's own (register_prehook,
        # register_hook)
        self.hooks: dict[Any, list[Any]] | None = None
        self.y: Any = None  # its output, if saved
        self.n_out = 1
        self.shapes: tuple[tuple[int, ...], ...] = ()  # each output's shape (apply sets it)
        self.final = True

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError

    def backward(self, gy: Any) -> Any:
        raise NotImplementedError

    def jvp(self, *tangents: Any) -> Any:
        """Forward mode's rule (see the class docstring); not written: the generic one."""
        raise NotImplementedError

    # ---- PyTorch's view of a graph node (``y.grad_fn.name()``, ``.next_functions``) ----

    def name(self) -> str:
        """The node's name as PyTorch spells its backward nodes: ``"MulBackward0"``."""
        return f"{type(self).__name__}Backward0"

    @property
    def next_functions(self) -> tuple[tuple[Any, int], ...]:
        """One (node, output index) per input, as PyTorch's: the op that made the input,
        an ``AccumulateGrad`` for a leaf that requires grad (its ``.variable`` is the
        leaf), None for an input that needs no gradient. Empty once the graph is freed."""
        if not self.parents:
            return ()
        return tuple((ctx, out) if ctx is not None else
                     (AccumulateGrad.of(p), 0) if out == 0 else (None, 0)
                     for p, (ctx, out) in zip(self.parents, self.edges))

    def __repr__(self) -> str:
        return f"<{self.name()} object at {id(self):#x}>"

    def register_prehook(self, hook: Callable[[tuple[Any, ...]], Any]) -> RemovableHandle:
        """Run ``hook(grad_outputs)`` before this node's backward, as PyTorch's
        ``Node.register_prehook``: the gradients of its outputs, a tuple of Tensors (None
        where none came); a tuple it returns replaces them. After the outputs' own
        ``register_hook`` hooks."""
        return self._node_hook("pre", hook)

    def register_hook(self, hook: Callable[[tuple[Any, ...], tuple[Any, ...]], Any]
                      ) -> RemovableHandle:
        """Run ``hook(grad_inputs, grad_outputs)`` after this node's backward, as PyTorch's
        ``Node.register_hook``: the gradients it computed for its inputs (None for an input
        that needs none) and those it was given; a tuple it returns replaces grad_inputs."""
        return self._node_hook("post", hook)

    def _node_hook(self, kind: str, hook: Any) -> RemovableHandle:
        if not callable(hook):
            raise TypeError(f"{self.name()}: a hook must be callable, got {type(hook).__name__}")
        if self.hooks is None:
            self.hooks = {}
        hooks = self.hooks.setdefault(kind, [])  # (beside the outputs' hooks, keyed by index)
        hooks.append(hook)
        return RemovableHandle(hooks, hook)

    @classmethod
    def apply(cls, *inputs: Tensor, **kwargs: Any) -> Any:
        """Run the op on tensors and, if any needs a gradient, record it in the graph."""
        arrays = []  # the inputs' arrays
        needs = False  # whether any input needs a gradient
        try:
            dev = inputs[0]._dev
            for t in inputs:
                if t._dev is not dev:
                    _refuse_non_tensors(cls.__name__, inputs)  # that first, as without a device
                    raise ValueError(
                        f"{cls.__name__}: tensors are on different devices: {dev.name!r} and "
                        f"{t._dev.name!r}; move one with .to(device)")
                if t._base is not None and t._base.stale:
                    t._refresh()  # a view whose base changed: its place in the graph
                if t.requires_grad:
                    needs = True
                arrays.append(t._data)
        except (IndexError, AttributeError):  # checked only on failure: this runs per op
            _refuse_non_tensors(cls.__name__, inputs)
            raise
        if _HOOKS.active:  # the profiler (profiler.py) times the op from here
            _HOOKS.before(cls)
        fn = cls()
        fn.xp = dev.xp
        try:
            y = fn.forward(*arrays, **kwargs)
        except ValueError as e:  # say which op, and on what (the cause keeps the line)
            shapes = ", ".join(str(tuple(t.shape)) for t in inputs)
            kind = OpIndexError if isinstance(e, IndexError) else OpError
            raise kind(f"{cls.__name__} on inputs of shapes {shapes}: {e}") from e
        needs = needs and autograd._GradMode.enabled
        if needs:
            if not cls.complex_ok:  # (loops written out: this runs per op)
                for a in arrays:
                    if a.dtype.kind == "c":
                        raise TypeError(_NO_COMPLEX_GRAD.format(cls.__name__))
                for a in y if type(y) is tuple else (y,):
                    if a.dtype.kind == "c":
                        raise TypeError(_NO_COMPLEX_GRAD.format(cls.__name__))
            if fn.saved:  # kept for create_graph, which maps saved arrays to inputs
                fn.inputs = arrays  # (graph_backward); else an array no op saved is freed
            if len(inputs) == 2:  # the common cases, written out: this runs for every op
                a, b = inputs
                fn.edges = ((a._ctx, a._out if a.requires_grad else -1),
                            (b._ctx, b._out if b.requires_grad else -1))
            elif len(inputs) == 1:
                a = inputs[0]
                fn.edges = ((a._ctx, a._out if a.requires_grad else -1),)
            else:
                fn.edges = tuple([(t._ctx, t._out if t.requires_grad else -1) for t in inputs])
        if type(y) is tuple:
            out: Any = tuple(Tensor._wrap(_as_device_array(a, dev, cls.__name__), dev, needs)
                             for a in y)
            if needs:
                fn.parents, fn.n_out = inputs, len(out)
                fn.shapes = tuple(o._data.shape for o in out)
                for k, o in enumerate(out):
                    o._ctx, o._out = fn, k
        else:
            if type(y) is not dev.array_type:  # e.g. NumPy gives scalars for 0-d results
                y0, y = y, _as_device_array(y, dev, cls.__name__)
                fn.saved = tuple(y if s is y0 else s for s in fn.saved)
            out = Tensor._wrap(y, dev, needs)
            if needs:
                fn.parents, fn.shapes = inputs, (y.shape,)
                for s in fn.saved:  # the output, if saved (graph_backward maps it)
                    if s is y:
                        fn.y = y
                        break
                out._ctx = fn
        if _HOOKS.active:  # forward-mode AD (autograd_forward); trace, detect_anomaly,
            if autograd._DUAL.level is not None:  # viz.step (debug.py, viz.py)
                autograd._DUAL.propagate(fn, inputs, arrays, kwargs, out)
            _HOOKS.forward(fn, inputs, out)
        if needs and autograd._SAVED.hooks and fn.saved:  # saved_tensors_hooks: packed
            autograd._Packed(fn, dev)
        return out

    def graph_backward(self, gy: Tensor, parents: tuple[Tensor, ...]) -> Any:
        """``backward`` with Tensors, recording a graph (for ``create_graph=True``).

        Each saved array is replaced by the tensor it stands for: an input by that input, the
        output by a tensor made by this very op (so its derivative flows back through it), and
        anything else (masks, indices) by a constant. A leaf updated since (copy on write: an
        optimizer step, ``-=``) has a new array: the op's old one stands for it, as ``p -
        p.detach() + old``, so the values are the forward's and the derivative still reaches
        p; any other input changed since (an in-place write into it, or into the tensor it is
        a view of) is the graph node it was (``edges``), with its old array.
        """
        arrays, xp = self.saved, self.xp
        self.saved = tuple(self.graph_input(a, parents) for a in arrays)
        self.xp = TensorXP(parents[0]._dev)
        try:
            return self.backward(*gy) if self.n_out > 1 else self.backward(gy)
        finally:
            self.saved, self.xp = arrays, xp

    def graph_input(self, a: Any, parents: tuple[Tensor, ...]) -> Any:
        """The tensor a saved array ``a`` stands for under ``create_graph`` (see
        ``graph_backward``): an input, the output, or ``a`` itself (a constant)."""
        dev = parents[0]._dev
        if not isinstance(a, dev.array_type):
            return a
        for p, old, (ctx, out) in zip(parents, self.inputs, self.edges):
            if a is old:
                if ctx is None and (out < 0 or p._ctx is not None or (
                        p._data is not old and p._base is not None)):
                    return Tensor._wrap(a, dev)  # a constant when this op ran
                # made another op's result since, or a view whose base changed since
                if p._ctx is not ctx or p._out != out or (
                        p._data is not old and ctx is not None):
                    then = Tensor._wrap(a, dev, True)
                    then._ctx, then._out = ctx, out
                    return then
                return p if p._data is old else p - p.detach() + old
        if a is self.y:
            twin = Tensor._wrap(a, dev, True)
            twin._ctx = self
            fw = getattr(self, "fw", None)  # forward-mode AD: the output's tangent
            if fw is not None:
                twin._fw = fw[0]
            return twin
        return a  # a constant: Tensor operators accept raw arrays


class AccumulateGrad:
    """The graph's end at a leaf, as PyTorch's node of that name (``next_functions``): where
    backward adds the gradient into ``variable.grad``. One per leaf (``of``), so a walk that
    compares nodes by identity finds it once, however many ops use the leaf."""

    __slots__ = ("_variable",)
    next_functions: tuple[tuple[Any, int], ...] = ()
    _made: dict[int, AccumulateGrad] = {}  # by the leaf's id, while the leaf lives

    def __init__(self, variable: Tensor) -> None:
        key = id(variable)  # (a weak reference: the node does not keep its leaf alive)
        self._variable = weakref.ref(variable, lambda _: AccumulateGrad._made.pop(key, None))

    @classmethod
    def of(cls, leaf: Tensor) -> AccumulateGrad:
        node = cls._made.get(id(leaf))
        if node is None or node.variable is not leaf:
            node = cls._made[id(leaf)] = cls(leaf)
        return node

    @property
    def variable(self) -> Tensor | None:
        return self._variable()

    def name(self) -> str:
        return "torch::autograd::AccumulateGrad"

    def __repr__(self) -> str:
        return f"<AccumulateGrad object at {id(self):#x}>"


class memory_format:  # noqa: N801 - PyTorch's class name
    """How a tensor's elements lie in memory, as ``torch.memory_format``:
    ``contiguous_format`` (C order), ``preserve_format`` (as the tensor's they come from),
    ``channels_last`` (a 4-D (N, C, H, W) tensor stored as (N, H, W, C)) and
    ``channels_last_3d`` (5-D). Arrays take any layout NumPy can express, so ``clone``,
    ``contiguous`` and the ``*_like`` functions lay them out as asked, and ``stride()`` and
    ``is_contiguous(memory_format=)`` tell, as PyTorch's; ops lay out their results as NumPy
    does."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"tinygrad_rnn.{self.name}"


contiguous_format = memory_format("contiguous_format")
preserve_format = memory_format("preserve_format")
channels_last = memory_format("channels_last")
channels_last_3d = memory_format("channels_last_3d")


class layout:  # noqa: N801 - PyTorch's class name
    """How a tensor is stored, as ``torch.layout``: ``strided`` (dense) or ``sparse_coo``
    (sparse.py)."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"tinygrad_rnn.{self.name}"

    def __reduce__(self) -> str:  # one object per layout, also after pickling
        return self.name


strided = layout("strided")
sparse_coo = layout("sparse_coo")


def _memory_order(what: str, fmt: Any, ndim: int) -> tuple[int, ...] | str | None:
    """The order of the axes in memory that ``fmt`` asks for: None for C order, "K" to keep
    the source's (preserve_format), the channels axis last for channels_last (4-D only) and
    channels_last_3d (5-D only), as PyTorch checks them."""
    if fmt is contiguous_format:
        return None
    if fmt is preserve_format:
        return "K"
    rank = {channels_last: 4, channels_last_3d: 5}.get(fmt)
    if rank is None:
        raise TypeError(f"{what}: memory_format must be one of tr.contiguous_format, "
                        f"tr.preserve_format, tr.channels_last, tr.channels_last_3d, got "
                        f"{fmt!r}")
    if ndim != rank:
        raise ValueError(f"{what}: required rank {rank} tensor to use {fmt.name} format, got "
                         f"{ndim} dims")
    return (0, *range(2, rank), 1)


def _laid_out(what: str, out: Tensor, like: Tensor, fmt: Any, lay: Any = None) -> Tensor:
    """``out`` (a new tensor of ``like``'s shape, a leaf) with its elements laid out as
    ``fmt`` asks, in place: C order, the channels last, or, for preserve_format, the order
    of ``like``'s axes in memory (its strides, largest first)."""
    if lay is not None and lay is not strided:
        raise ValueError(f"{what}: layout must be tr.strided (it makes a dense tensor here; "
                         f"x.to_sparse() makes a sparse one), got {lay!r}")
    order = _memory_order(what, fmt, out.ndim)
    if order == "K":
        order = tuple(int(i) for i in np.argsort([-s for s in like.stride()], kind="stable"))
    if order is None or order == tuple(range(out.ndim)):
        return out
    back = tuple(int(i) for i in np.argsort(order))
    out._data = out._dev.xp.ascontiguousarray(out._data.transpose(order)).transpose(back)
    return out


def dense_factory(f: Callable[..., Any]) -> Callable[..., Any]:
    """Let the factory ``f`` take PyTorch's ``layout=`` and ``pin_memory=`` where it has no
    such argument of its own: the layout is ``tr.strided``, the one it makes (another is
    refused), and memory is never pinned here (host memory is NumPy's, which has no
    page-locking), so ``pin_memory=True`` is refused and False is what it does."""
    params = inspect.signature(f).parameters
    added = [k for k in ("layout", "pin_memory") if k not in params]

    @functools.wraps(f)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if kwargs:  # a call without keywords pays only this test
            if "layout" in added and (kwargs.get("layout") or strided) is not strided:
                raise ValueError(f"{f.__name__}: layout must be tr.strided (it makes a dense "
                                 f"tensor; x.to_sparse() makes a sparse one), got "
                                 f"{kwargs['layout']!r}")
            if "pin_memory" in added and kwargs.get("pin_memory"):
                raise ValueError(f"{f.__name__}: pin_memory=True is not supported (host memory "
                                 "is NumPy's, never page-locked); leave it False")
            for k in added:
                kwargs.pop(k, None)
        return f(*args, **kwargs)

    wrapper.torch_keywords = (  # type: ignore[attr-defined]
        getattr(f, "torch_keywords", {}) | dict(zip(added, added)))
    return wrapper


class Size(tuple):
    """A shape, as ``torch.Size``: what ``x.size()`` gives. A tuple of ints in every way, but
    ``tr.Tensor(x.size())`` reads it as sizes, where a plain tuple is data."""

    def numel(self) -> int:
        return math.prod(self)

    def __getitem__(self, index: Any) -> Any:  # a slice of a Size is a Size, as PyTorch's
        out = super().__getitem__(index)
        return Size(out) if isinstance(index, slice) else out

    def __add__(self, other: Any) -> Size:
        return Size(tuple(self) + tuple(other))


class OpError(ValueError, RuntimeError):
    """Inputs an op cannot take (shapes that do not fit, a size that differs from the layer's):
    a ``ValueError``, and a ``RuntimeError`` too, which is what PyTorch raises there, so that
    ported ``except RuntimeError`` code and tests still catch it."""


class DTypeError(TypeError, RuntimeError):
    """A dtype an op or layer cannot take (an integer tensor where floats are needed, two
    dtypes that must match): a ``TypeError``, and a ``RuntimeError`` too, as PyTorch raises."""


class _SparseOperand(NotImplementedError, TypeError):
    """A sparse tensor given to a dense operator (only ``+`` and ``-`` take one)."""

    def __init__(self, op: str) -> None:
        super().__init__(f"{op} does not support sparse tensors (layout "
                         "tinygrad_rnn.sparse_coo; of a dense tensor's operators only + and - "
                         "take one); convert with .to_dense() first")


class OpIndexError(OpError, IndexError):
    """An index out of range: an ``OpError`` that is also an ``IndexError``, as PyTorch's."""


class _Size(int):
    """``x.size``: the number of elements, an int (NumPy's meaning), that can be called as
    PyTorch's ``x.size()``, which gives the shape as a ``Size`` (``x.size(dim)``: one axis)."""

    def __new__(cls, n: int, shape: tuple[int, ...]) -> _Size:
        size = super().__new__(cls, n)
        size.shape = shape
        return size

    def __call__(self, dim: int | None = None) -> Any:
        return Size(self.shape) if dim is None else self.shape[dim]

    def __reduce__(self) -> tuple[Any, ...]:
        return (int, (int(self),))  # copied, pickled or saved, it is the plain int


def _device_or_dtype(device: Any, dtype: Any) -> tuple[Any, Any]:
    """``to(x)`` with one argument takes a device or a dtype, as PyTorch's ``to``."""
    if device is None or dtype is not None:
        return device, dtype
    if isinstance(device, int) and not isinstance(device, bool):
        return f"cuda:{device}", None  # PyTorch's x.to(0): a GPU by its index
    if isinstance(device, str):
        if device.split(":")[0] in ("cpu", "cuda") or device in known_devices():
            return device, None
        try:
            resolve_dtype(device)
        except TypeError:
            return device, None  # neither: get_device says which devices there are
        return None, device
    return None, device  # a dtype or a type such as np.float64


def _refuse_non_tensors(op: str, inputs: tuple[Any, ...]) -> None:
    if not inputs:
        raise TypeError(f"{op}.apply needs at least one Tensor")
    for i, t in enumerate(inputs):
        if getattr(t, "is_sparse", False):
            raise _SparseOperand(op)
        if not isinstance(t, Tensor):
            raise TypeError(
                f"{op}.apply: input {i} is a {type(t).__name__}: the positional arguments must "
                "be Tensors (the ones to differentiate); pass other values as keyword "
                "arguments, which reach forward() as they are")


def _as_device_array(y: Any, dev: Device, where: str) -> Any:
    """Accept NumPy scalars from a CPU op; refuse an array that belongs to another device."""
    if isinstance(y, dev.array_type):
        return y
    if dev.name == "cpu" and isinstance(y, (np.generic, int, float, bool)):
        return np.asarray(y)
    raise TypeError(
        f"{where} returned a {type(y).__module__}.{type(y).__name__} on device {dev.name!r}: "
        "an op must compute with xp = self.xp (or get_array_module), not with numpy directly"
    )


class Tensor:
    """An n-dimensional array on a device, that can record the ops applied to it."""

    # _data: the array (a NumPy or CuPy array; ``x.data`` is a tensor, as in PyTorch).
    # _base: for a view (basic indexing, split, chunk, unbind, reshape/view, transposes,
    # expand, unfold, detach, .data, a complex tensor's parts, conjugate and real view, a
    # real tensor's complex view), how it was taken from which tensor (_ViewOf), else
    # None; _views: weak references to the views taken from this tensor, unset or None;
    # _dirty_views: the same for those marked dirty since (see _pass_on)
    # _fw: forward-mode AD's tangent, (level serial, array), unset outside (autograd_forward)
    # _ver: the number of in-place writes into it and its views, on a tensor that is no
    # view (unset: none), read through ``_version``
    __slots__ = ("_data", "grad", "requires_grad", "_ctx", "_out", "_dev", "_base", "_views",
                 "_dirty_views", "_hooks", "_post_hooks", "_fw", "_ver", "__weakref__")
    __array_ufunc__ = None  # so ndarray * Tensor calls Tensor.__rmul__
    __array_priority__ = 1000

    def __init__(self, *data: Any, dtype: DTypeLike = None, device: str | None = None,
                 requires_grad: bool = False) -> None:
        """``Tensor(data)`` is float32 unless ``dtype`` says otherwise (or ``data`` is a Tensor,
        whose dtype it keeps), as ``torch.Tensor``; ``tr.tensor(data)`` infers the dtype.
        ``Tensor(2, 3)`` (sizes) is a float32 tensor of that shape, zero-filled (PyTorch's is
        uninitialised), and ``Tensor()`` an empty one."""
        size = len(data) == 1 and isinstance(data[0], Size)
        sizes = data[0] if size else data
        if all(isinstance(n, (int, np.integer)) and not isinstance(n, bool) for n in sizes):
            data = (np.zeros(tuple(sizes) if sizes or size else (0,)),)
        elif len(data) != 1:
            raise DTypeError(f"Tensor{data!r}: Tensor() takes one sequence or array, or sizes "
                             "(ints); give the dtype and device as dtype=, device=")
        (data,) = data
        if isinstance(data, (float, bool)):  # torch.Tensor(3.0) is an error too
            raise TypeError(f"Tensor({data!r}): Tensor() takes a sequence, an array or sizes; "
                            f"for the number use tr.tensor({data!r})")
        if dtype is None and not isinstance(data, Tensor):
            dtype = default_dtype()
        t = tensor(data, dtype=dtype, device=device, requires_grad=requires_grad)
        self._data, self._dev, self._out = t._data, t._dev, 0
        self._base = self._views = None
        self.requires_grad, self.grad, self._ctx = t.requires_grad, None, None

    @staticmethod
    def _wrap(data: Any, dev: Device | str, requires_grad: bool = False) -> Tensor:
        """A tensor around ``data`` as it is (no copy, no checks): the engine's constructor."""
        t = Tensor.__new__(Tensor)
        t._data = data
        t._dev = dev if isinstance(dev, Device) else get_device(dev)
        t.requires_grad = requires_grad
        t.grad = None
        t._ctx = None
        t._out = 0  # which output of its op (ops with several outputs)
        t._base = None  # (and _views unset: read with getattr)
        return t

    # ---- attributes -----------------------------------------------------------------------
    @property
    def data(self) -> Tensor:
        """The values, as a tensor outside the graph, as PyTorch's ``x.data``: like
        ``detach()``, an in-place write into it (``p.data.uniform_(-k, k)``,
        ``p.data.add_(g, alpha=-lr)``) changes x's values and nothing of the graph, even where
        autograd records. (The array itself is ``x.numpy()``, a host copy.) As there, it has
        a version counter of its own: its writes do not count in ``x._version``."""
        return _view(self, Tensor._wrap(self._data.view(), self._dev, False), "detach", "data")

    @data.setter
    def data(self, value: Any) -> None:
        """``x.data = value``: an array, or a Tensor, whose values x takes (as PyTorch's
        ``p.data = other``; on x's device), leaving its place in the graph as it is; views
        taken from x before keep their values."""
        if isinstance(value, Tensor):
            if value._dev is not self._dev:
                raise ValueError(f"x.data = a tensor on {value.device!r} for a tensor on "
                                 f"{self.device!r}: move it first with .to(device)")
            value = value._data
        elif not isinstance(value, self._dev.array_type):
            raise TypeError(f"x.data = a {type(value).__name__}: give a Tensor or an array "
                            f"on {self.device!r}")
        _forget_views(self)
        self._base = None
        self._data = value

    is_sparse = False  # (sparse COO tensors: sparse.py)

    def to_sparse(self, sparse_dim: int | None = None) -> Any:
        """This tensor as a sparse COO tensor, its first ``sparse_dim`` axes (all by default)
        sparse (``sparse.to_sparse``)."""
        from .sparse import to_sparse

        return to_sparse(self, sparse_dim)

    def to_sparse_coo(self) -> Any:
        """``to_sparse()``, under PyTorch's other name."""
        return self.to_sparse()

    def to_dense(self, dtype: DTypeLike = None) -> Tensor:
        """This tensor itself (it is dense), as PyTorch's."""
        return self if dtype is None else self.to(dtype=dtype)

    @property
    def shape(self) -> Size:
        """The sizes of the axes, as a ``Size`` (a tuple; ``x.shape.numel()`` as PyTorch's)."""
        return Size(self._data.shape)

    @property
    def dtype(self) -> np.dtype:
        return self._data.dtype

    @property
    def ndim(self) -> int:
        return self._data.ndim

    @property
    def size(self) -> _Size:
        """The number of elements, as NumPy's ``a.size``; called, the shape, as PyTorch's
        ``x.size()`` (``x.size(dim)``: one axis)."""
        return _Size(self._data.size, self.shape)

    def numel(self) -> int:
        """The number of elements (PyTorch's name)."""
        return int(self._data.size)

    @property
    def device(self) -> device:
        """The device's name, as a ``tr.device`` (a ``str`` with ``.type``)."""
        return device_name(self._dev.name)

    @property
    def is_cuda(self) -> bool:
        """Whether the tensor lives on the GPU (device ``"cuda"``), as PyTorch's."""
        return self._dev.name == "cuda"

    @property
    def _version(self) -> int:
        """How many in-place writes this tensor's memory has had, as PyTorch's version
        counter: a view counts its base's writes, and the base its views' (they share one
        counter, as there; ``x.data`` starts a counter of its own)."""
        return getattr(_counter(self), "_ver", 0)

    @property
    def is_leaf(self) -> bool:
        """True for tensors the user made (and for results of ops that needed no gradient)."""
        self._refresh()
        return self._ctx is None

    @property
    def grad_fn(self) -> Function | None:
        """The op that made this tensor (None for a leaf)."""
        self._refresh()
        return self._ctx

    def __len__(self) -> int:
        return len(self._data)

    def __repr__(self) -> str:
        """As PyTorch prints a tensor (``_array_string``, under ``set_printoptions``): the
        values, then the device unless the CPU, the size where the values do not show it,
        the dtype unless implied, the op that made it or ``requires_grad=True``; what does
        not fit on the last line goes on the next. The dtype is spelled as this package's
        dtypes print, ``dtype=float64`` where PyTorch's says ``dtype=torch.float64``."""
        prefix = "tensor("
        indent, width = len(prefix), _PRINT_OPTIONS["linewidth"]
        extra = [] if self.device == "cpu" else [f"device='{self.device}'"]
        if self._data.size == 0:
            body = "[]"
            if self.ndim != 1:
                extra.append(f"size={self.shape}")
            # an empty tensor has no values to tell int64 or bool by: only the default
            # float dtype is left out, as PyTorch's
            implied = self.dtype == default_dtype()
        else:
            body = _array_string(self._data, self._dev, indent)
            if not _PRINT_OPTIONS["edgeitems"]:
                extra.append(f"size={self.shape}")
            implied = self.dtype in (default_dtype(), _default_complex(), np.int64, np.bool_)
        if not implied:
            extra.append(f"dtype={self.dtype}")
        if self._ctx is not None:  # made by an op: name it, as PyTorch's grad_fn=<...>
            extra.append(f"grad_fn=<{self._ctx.name()}>")
        elif self.requires_grad:
            extra.append("requires_grad=True")
        text = prefix + body
        line = len(text) - text.rfind("\n") + 1  # the last line's length + 2, as PyTorch counts
        for s in extra:
            if line + len(s) + 2 > width:
                text += ",\n" + " " * indent + s
                line = indent + len(s)
            else:
                text += ", " + s
                line += len(s) + 2
        return text + ")"

    # one-element tensors as Python numbers, as in PyTorch: float(x), int(x), f"{x:.3f}"
    def __float__(self) -> float:
        return float(self._one("float()", ValueError))

    def __int__(self) -> int:
        return int(self._one("int()", ValueError))

    def __index__(self) -> int:
        if self.dtype.kind not in "iub":
            raise DTypeError(f"only integer or bool tensors of one element can be used as an "
                             f"index, not dtype {self.dtype}")
        return int(self._one("an index", TypeError))

    def __format__(self, spec: str) -> str:
        if self.ndim == 0:
            return format(self.item(), spec)
        return object.__format__(self, spec)  # a format spec is refused, as for any object

    def _one(self, what: str, error: type[Exception]) -> float | int | bool:
        if self.size != 1:
            raise error(f"{what} needs a tensor of one element, got shape {self.shape}")
        return self.item()

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        """``np.asarray(x)``: a host copy (so NumPy and plotting libraries take tensors)."""
        a = self.numpy()
        return a if dtype is None else a.astype(dtype, copy=False)

    __hash__ = object.__hash__

    # ---- leaving the graph, moving, converting -------------------------------------------
    def numpy(self, *, force: bool = False) -> np.ndarray:
        """A host NumPy copy of the values (never a view into the tensor). ``force`` is
        taken for PyTorch's sake and changes nothing: the copy is always made, from any
        device, of a tensor that requires grad too (what PyTorch's does only when forced)."""
        return np.array(self._dev.to_host(self._data), copy=True)

    def item(self) -> float | int | bool:
        """The value of a one-element tensor as a Python number."""
        if self.size != 1:
            raise ValueError(f"item(): tensor has {self.size} elements, not 1 (shape {self.shape})")
        return self.numpy().reshape(()).item()

    def tolist(self) -> Any:
        return self.numpy().tolist()

    def __deepcopy__(self, memo: dict[int, Any]) -> Tensor:
        """``copy.deepcopy``: a new leaf with copies of the values and of ``.grad``, of the same
        class (a Parameter stays one). As in PyTorch, only a leaf can be deep-copied: a copy
        of the graph behind a result is refused."""
        if self._ctx is not None:
            raise RuntimeError("copy.deepcopy copies leaf tensors only (as PyTorch): this one "
                               "was made by an op; copy x.detach() for its values")
        cls = Tensor if type(self) is _View else type(self)
        new = _rebuild(cls, self._data.copy(), self._dev, self.requires_grad)
        memo[id(self)] = new
        new.grad = None if self.grad is None else copy.deepcopy(self.grad, memo)
        return new

    def __reduce_ex__(self, protocol: Any) -> tuple[Any, ...]:
        """Pickling keeps the values (as a host array), the device, ``requires_grad`` and the
        class; not ``.grad`` or the graph, as PyTorch. (``tr.save`` never pickles.)"""
        host = self._dev.to_host(self._data)
        cls = Tensor if type(self) is _View else type(self)
        return (_rebuild, (cls, np.array(host), self._dev.name, self.requires_grad))

    def detach(self) -> Tensor:
        """The same values, cut from the graph: no gradient flows through the result.

        It shares memory with this tensor but is a distinct array object: create_graph maps an
        op's saved arrays back to its inputs by identity, and must not mistake one for the
        other (``x * x.detach()``)."""
        return _view(self, Tensor._wrap(self._data.view(), self._dev, False), "detach", None)

    def to(self, device: Any = None, dtype: Any = None, non_blocking: bool = False,
           copy: bool = False, *, memory_format: Any = None) -> Tensor:
        """This tensor on another device and/or with another dtype (differentiable).
        ``x.to("float64")`` or ``x.to(np.float64)``: a dtype alone, as in PyTorch;
        ``x.to(other)``: other's device and dtype. ``copy=True`` gives a new tensor even where
        nothing changes; ``memory_format`` (``tr.channels_last``, ...) lays the result out so,
        as ``contiguous(memory_format)``; ``non_blocking`` is taken and changes nothing
        (copies here are synchronous)."""
        if isinstance(device, Tensor):  # to(other, non_blocking, copy)
            other = device
            if isinstance(dtype, (bool, np.bool_)):
                non_blocking, copy, dtype = dtype, non_blocking, None
            device, dtype = other.device, other.dtype
        elif isinstance(dtype, (bool, np.bool_)):  # to(dtype, non_blocking, copy)
            non_blocking, copy, dtype = dtype, non_blocking, None
        device, dtype = _device_or_dtype(device, dtype)
        out = self if not copy else self.clone()
        if dtype is not None and resolve_dtype(dtype) != self.dtype:
            if resolve_dtype(dtype).kind not in "fc":  # integers never carry gradients
                out = out.detach()
            out = AsType.apply(out, dtype=resolve_dtype(dtype))
        if device is not None and get_device(device) is not self._dev:
            out = ToDevice.apply(out, device=get_device(device))
        if memory_format is not None and memory_format is not preserve_format:
            out = out.contiguous(memory_format)
        return out

    def cpu(self, memory_format: Any = None) -> Tensor:
        return self.to("cpu")

    def cuda(self, device: int | str | None = None, non_blocking: bool = False,
             memory_format: Any = None) -> Tensor:
        """On the GPU (``device``: its index or name), as PyTorch's."""
        return self.to("cuda" if device is None else
                       f"cuda:{device}" if isinstance(device, (int, np.integer)) else device)

    def pin_memory(self) -> Tensor:
        """This tensor itself: host memory is not pinned here (copies to the GPU are
        synchronous anyway), so ``pin_memory=True`` loaders and ``x.pin_memory()`` run as
        they are."""
        return self

    def astype(self, dtype: DTypeLike) -> Tensor:
        return self.to(dtype=dtype)

    # x.float(), x.double(), x.half(), x.long(), x.int(), x.bool(): set after the class, since
    # methods named float, int and bool here would hide those types in the annotations below


    def type_as(self, other: Tensor) -> Tensor:
        return self.to(dtype=other.dtype)

    def dim(self) -> int:
        """The number of axes (``ndim``), as PyTorch's ``x.dim()``."""
        return self.ndim

    @dense_factory
    def new_full(self, size: Sequence[int], fill_value: Any, dtype: DTypeLike = None,
                 requires_grad: bool = False, *, device: Any = None) -> Tensor:
        """A new tensor of ``size`` filled with ``fill_value``, of this one's dtype and device
        (unless ``dtype``, ``device``)."""
        dt = resolve_dtype(dtype) if dtype is not None else self.dtype
        out = Tensor._wrap(self._dev.xp.full(tuple(size), fill_value, dtype=dt), self._dev)
        if device is not None:
            out = out.to(device)
        return out.requires_grad_() if requires_grad else out

    @dense_factory
    @torch_names(size="size")
    def new_zeros(self, *size: Any, dtype: DTypeLike = None, requires_grad: bool = False,
                  device: Any = None) -> Tensor:
        return self.new_full(_sizes(size), 0, dtype, requires_grad, device=device)

    @dense_factory
    @torch_names(size="size")
    def new_ones(self, *size: Any, dtype: DTypeLike = None, requires_grad: bool = False,
                 device: Any = None) -> Tensor:
        return self.new_full(_sizes(size), 1, dtype, requires_grad, device=device)

    def clone(self, *, memory_format: memory_format = preserve_format) -> Tensor:
        """A copy with its own array, in the graph: its gradient flows back unchanged. The bits
        are copied as they are (-0.0 and NaN payloads kept; ``x + 0`` would turn -0.0 to 0.0).
        Laid out as this tensor is, or as ``memory_format`` asks (``tr.channels_last``)."""
        if memory_format is preserve_format:
            return AsType.apply(self, dtype=self.dtype)
        return self._relaid("clone", memory_format)

    def contiguous(self, memory_format: memory_format = contiguous_format) -> Tensor:
        """This tensor itself if its array is in C order (or, with ``tr.channels_last``, in
        (N, H, W, C) order), else a copy laid out so, as PyTorch's (so a write into the result
        is its own, there as here)."""
        if memory_format is preserve_format:
            raise ValueError("contiguous: preserve memory format is unsupported by the "
                             "contiguous operator (as in PyTorch)")
        if self.is_contiguous(memory_format=memory_format):
            return self
        return self._relaid("contiguous", memory_format)

    def _relaid(self, what: str, fmt: memory_format) -> Tensor:
        """A copy laid out as ``fmt`` asks (C order, or the channels last), in the graph."""
        order = _memory_order(what, fmt, self.ndim)
        if order is None:
            return AsType.apply(self, dtype=self.dtype, order="C")
        back = tuple(int(i) for i in np.argsort(order))
        moved = AsType.apply(Transpose.apply(self, axes=order), dtype=self.dtype, order="C")
        return Transpose.apply(moved, axes=back)

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Start (or stop) recording ops on this leaf; returns itself."""
        if requires_grad:
            _check_requires_grad(self.dtype)
        elif self._ctx is not None:
            raise RuntimeError("requires_grad_(False) on a non-leaf tensor: use detach() instead")
        self.requires_grad = requires_grad
        return self

    def retain_grad(self) -> None:
        """Keep ``.grad`` for this non-leaf tensor after backward (leaves always keep it)."""
        if not self.requires_grad:
            raise RuntimeError("retain_grad() on a tensor that does not require grad")
        if self._ctx is not None:
            if self._ctx.retained is None:
                self._ctx.retained = {}
            self._ctx.retained[self._out] = weakref.ref(self)

    def zero_grad_(self) -> None:
        self.grad = None

    # ---- backward ------------------------------------------------------------------------
    def _initial_grad(self, gradient: Any, create_graph: bool) -> Any:
        """The gradient backward starts from: ones for a scalar, else the given one."""
        if not self.requires_grad:
            raise RuntimeError(
                "backward(): this tensor does not require grad and was not made by an op that "
                "does; set requires_grad=True on the inputs you differentiate"
            )
        if gradient is None:
            if self.dtype.kind == "c":  # which real loss of it is meant? (as PyTorch)
                raise RuntimeError(
                    "backward(): grad can be implicitly created only for real scalar outputs, "
                    f"but this tensor is {self.dtype}; backward from a real loss (z.abs() ** 2, "
                    "z.real) or pass gradient=")
            if self.size != 1:
                raise RuntimeError(
                    f"backward(): grad can be implicitly created only for scalar outputs, but "
                    f"this tensor has shape {self.shape}; pass gradient= of that shape"
                )
            g = self._dev.xp.ones(self._data.shape, dtype=self.dtype)
        else:
            g = gradient._data if isinstance(gradient, Tensor) else gradient
            if isinstance(gradient, Tensor) and gradient._dev is not self._dev:
                raise ValueError(
                    f"backward(): gradient is on {gradient.device!r}, tensor on {self.device!r}"
                )
            if not isinstance(g, self._dev.array_type):
                g = self._dev.to_device(np.asarray(g, dtype=self.dtype))
            if tuple(g.shape) != self.shape:
                raise ValueError(
                    f"backward(): gradient has shape {tuple(g.shape)} but the tensor has "
                    f"shape {self.shape}"
                )
            if g.dtype != self.dtype:
                g = g.astype(self.dtype)
        if create_graph:
            if isinstance(gradient, Tensor):
                return gradient if gradient.dtype == self.dtype else gradient.astype(self.dtype)
            return Tensor._wrap(g, self._dev)
        return g

    def backward(
        self, gradient: Any = None, retain_graph: bool | None = None, create_graph: bool = False,
        inputs: Tensor | Sequence[Tensor] | None = None
    ) -> None:
        """Accumulate d(self)/d(leaf) into every leaf's ``.grad``.

        ``gradient`` is the upstream gradient (required unless this tensor has one element).
        The graph is freed afterwards unless ``retain_graph`` (default: ``create_graph``).
        With ``create_graph=True`` the stored gradients are themselves differentiable. With
        ``inputs``, as PyTorch's, only those tensors' ``.grad`` take their gradients (leaves
        or not); every other ``.grad`` stays as it was.
        """
        self._refresh()
        g = self._initial_grad(gradient, create_graph)
        if retain_graph is None:
            retain_graph = create_graph
        if inputs is None:
            autograd.run_backward(self, g, retain_graph, create_graph)
            return
        ins = [inputs] if isinstance(inputs, Tensor) else list(inputs)
        if not ins or not all(isinstance(t, Tensor) and t.requires_grad for t in ins):
            raise ValueError("backward: inputs must be a tensor or tensors that require grad")
        for t in ins:  # a non-leaf keeps its .grad from now on, as PyTorch's: retain_grad()
            if t.grad_fn is not None:
                t.retain_grad()
        found = autograd.run_backward(self, g, retain_graph, create_graph, inputs=ins,
                                      accumulate=True)
        for t, gi in zip(ins, found or ()):
            if gi is None or t.grad_fn is not None:  # (a non-leaf's came as a retained one)
                continue
            gt = gi if isinstance(gi, Tensor) else Tensor._wrap(gi, t._dev)
            if t.grad is None:
                t.grad = gt
            elif create_graph:
                t.grad = t.grad + gt
            else:
                _set_values(t.grad, t.grad._data + gt._data, "backward")
            if t._ctx is None and getattr(t, "_post_hooks", None):
                autograd.post_accumulate(t)  # a leaf's gradient accumulated, as PyTorch's

    # ---- arithmetic (each one op; a scalar or array operand becomes a constant) ----------
    def _lift(self, other: Any) -> Tensor:
        """``other`` as a tensor on this device. A Python number is weak, as in PyTorch: it
        takes this tensor's dtype (a float32 tensor stays float32), except that a float with
        an integer or bool tensor is float32, and an integer with a bool tensor is int64."""
        if isinstance(other, Tensor):
            return other
        t = type(other)
        if (t is float or t is int) and self._data.dtype.kind in "fc":  # the common case, fast
            return Tensor._wrap(self._dev.xp.asarray(other, dtype=self._data.dtype), self._dev)
        if isinstance(other, (int, float, bool, np.number, np.bool_)):
            kind = self.dtype.kind
            if isinstance(other, (bool, np.bool_)) or (
                    isinstance(other, (int, np.integer)) and kind != "b"):
                dt = self.dtype
            elif isinstance(other, (int, np.integer)):
                dt = np.dtype(np.int64)
            else:
                dt = self.dtype if kind in "fc" else default_dtype()
            if dt.kind in "iu" and not isinstance(other, (bool, np.bool_)):
                other = np.asarray(other).astype(dt)  # out of dt's range it wraps, as torch's
            return Tensor._wrap(self._dev.xp.asarray(other, dtype=dt), self._dev)
        if isinstance(other, (complex, np.complexfloating)):  # complex of this float's width
            dt = self.dtype if self.dtype.kind == "c" else np.dtype(
                np.complex128) if self.dtype == np.float64 else _default_complex() \
                if self.dtype.kind != "f" else np.dtype(np.complex64)
            return Tensor._wrap(self._dev.xp.asarray(other, dtype=dt), self._dev)
        if isinstance(other, self._dev.array_type):
            return Tensor._wrap(other, self._dev)
        if getattr(other, "is_sparse", False):
            raise _SparseOperand("this operator")
        raise TypeError(
            f"cannot combine a tensor on {self.device!r} with {type(other).__name__}; "
            f"make it a tensor with tr.tensor(..., device={self.device!r})"
        )

    def _pair(self, other: Any, reflected: bool = False, divide: bool = False
              ) -> tuple[Tensor, Tensor]:
        """The operands of a binary arithmetic op, both converted to the dtype PyTorch
        computes in (NumPy would often give float64): a float dtype wins over an integer or
        bool one, and a 0-d tensor beside one with axes takes that one's dtype unless it is of
        a higher category (float32 with a 0-d float64 tensor stays float32, int32 with a 0-d
        int64 one int32; ``_common_dtype``). With ``divide`` (true division, atan2), two
        integer or bool operands give the default float dtype."""
        t = type(other)
        if (t is float or t is int) and self._data.dtype.kind in "fc":  # the common case,
            # first (_lift's, written out: this runs for every op with a number)
            o = Tensor._wrap(self._dev.xp.asarray(other, dtype=self._data.dtype), self._dev)
            return (o, self) if reflected else (self, o)
        o = self._lift(other)
        a, b = (o, self) if reflected else (self, o)
        if a._data.dtype == b._data.dtype and (not divide or a._data.dtype.kind in "fc"):
            return a, b  # the common case, first: this runs for every binary op
        dt = _common_dtype(a, b)
        if divide and dt.kind not in "fc":
            dt = default_dtype()  # each converted straight to it: nothing wraps on the way
            if not isinstance(other, Tensor):  # (a number unwrapped: uint8 / -3 is -0.33..)
                o = Tensor._wrap(self._dev.xp.asarray(other, dtype=dt), self._dev)
                a, b = (o, self) if reflected else (self, o)
        return (a if a._data.dtype == dt else a.to(dtype=dt),
                b if b._data.dtype == dt else b.to(dtype=dt))

    def _floating(self) -> Tensor:
        """This tensor, or, if its dtype is integer or bool, it cast to float32 (PyTorch's
        default dtype): the input of an op whose result is fractional, such as exp."""
        return self if self.dtype.kind in "fc" else self.to(dtype=default_dtype())

    def __add__(self, other: Any) -> Tensor:
        try:
            return Add.apply(*self._pair(other))
        except _SparseOperand:  # dense + sparse: dense, as PyTorch's
            return other.__radd__(self)

    def __radd__(self, other: Any) -> Tensor:
        return Add.apply(*self._pair(other, reflected=True))

    def _pair_sub(self, other: Any, reflected: bool = False) -> tuple[Tensor, Tensor]:
        """``_pair``, refusing a bool operand, as PyTorch's ``-`` does (``~`` inverts a
        mask)."""
        self._refuse_bool_sub(other)
        return self._pair(other, reflected)

    def _refuse_bool_sub(self, other: Any) -> None:
        if self.dtype.kind == "b" or isinstance(other, (bool, np.bool_)) or (
                isinstance(other, Tensor) and other.dtype.kind == "b"):
            raise DTypeError("subtraction with a bool tensor or a bool is not defined (as in "
                             "PyTorch); to invert a mask use ~ or logical_not()")

    def __sub__(self, other: Any) -> Tensor:
        try:
            return Sub.apply(*self._pair_sub(other))
        except _SparseOperand:  # dense - sparse: dense, as PyTorch's
            return other.__rsub__(self)

    def __rsub__(self, other: Any) -> Tensor:
        return Sub.apply(*self._pair_sub(other, reflected=True))

    def __mul__(self, other: Any) -> Tensor:
        return Mul.apply(*self._pair(other))

    def __rmul__(self, other: Any) -> Tensor:
        return Mul.apply(*self._pair(other, reflected=True))

    def __truediv__(self, other: Any) -> Tensor:
        return Div.apply(*self._pair(other, divide=True))

    def __rtruediv__(self, other: Any) -> Tensor:
        return Div.apply(*self._pair(other, reflected=True, divide=True))

    def _pair_not_bool(self, other: Any, op: str, reflected: bool = False
                       ) -> tuple[Tensor, Tensor]:
        """``_pair``, refusing two bool operands, as PyTorch does for // and %, and complex
        ones (no floor, no remainder)."""
        a, b = self._pair(other, reflected)
        if a.dtype.kind == "b" and b.dtype.kind == "b":
            raise DTypeError(f"x {op} y with both bool is not defined (as in PyTorch); convert "
                             "one side first, e.g. x.to('int64')")
        if a.dtype.kind == "c":
            what = op if op.isalpha() else f"x {op} y"
            raise DTypeError(f"{what} is not defined for complex tensors (as in PyTorch)")
        return a, b

    def __floordiv__(self, other: Any) -> Tensor:
        """floor(self / other), with the dtypes of ``+``: int // int stays integer."""
        return FloorDivide.apply(*self._pair_not_bool(other, "//"))

    def __rfloordiv__(self, other: Any) -> Tensor:
        return FloorDivide.apply(*self._pair_not_bool(other, "//", reflected=True))

    def __mod__(self, other: Any) -> Tensor:
        """``torch.remainder``: the result has the divisor's sign (-7 % 2 is 1)."""
        return Remainder.apply(*self._pair_not_bool(other, "%"))

    def __rmod__(self, other: Any) -> Tensor:
        return Remainder.apply(*self._pair_not_bool(other, "%", reflected=True))

    # ---- in place: x += y and friends ------------------------------------------------------
    @torch_names(other="src")
    def copy_(self, src: Any, non_blocking: bool = False, *, what: str = "copy_") -> Tensor:
        """Write ``src`` (broadcast to this shape, cast to this dtype; from any device, as
        PyTorch's) into this tensor, in place, under the rules of ``_overwrite``.
        ``non_blocking`` is a hint, taken for PyTorch's sake: every copy here is finished
        when copy_ returns."""
        check_fits(src, self.dtype, what)
        o = self._lift(src)
        if not broadcasts_to(o.shape, self.shape):
            raise ValueError(f"{what}: a source of shape {o.shape} does not broadcast to this "
                             f"tensor's shape {self.shape}")
        if o._dev is not self._dev:
            o = o.to(self.device)
        return self._overwrite(what, lambda old: o.broadcast_to(self.shape).clone(),
                               casting="unsafe", replaces=True)  # copy_ converts, as torch

    def fill_(self, value: Any) -> Tensor:
        if isinstance(value, Tensor) and value.ndim:
            raise ValueError(f"fill_: the value must be a number or a 0-d tensor, got shape "
                             f"{value.shape} (as PyTorch; copy_ writes a tensor)")
        return self.copy_(value, what="fill_")

    def zero_(self) -> Tensor:
        return self.copy_(0, what="zero_")

    def _inplace(self, other: Any, sign: str, what: str = "") -> Tensor:
        """``self <sign>= other``, under the rules of ``_overwrite``: so ``with tr.no_grad():
        w -= lr * w.grad`` updates the leaf w, and ``h = w * x; h += b`` is recorded, as in
        PyTorch. Into a view (``x[0] += 1``, ``d = w.detach(); d -= g``), the write goes
        through to the tensor it was taken from. A sparse ``other`` is taken by += and -=
        (``p.data.add_(p.grad, alpha=-lr)`` with a sparse gradient), as in PyTorch."""
        if sign == "-":
            self._refuse_bool_sub(other)
        try:
            o = self._lift(other)
        except _SparseOperand:
            if sign not in "+-":
                raise
            o = other.to_dense()
        if o._dev is not self._dev:
            raise ValueError(f"in-place {sign}=: the other tensor is on {o.device!r}, this one "
                             f"on {self.device!r}; move one with .to(device)")
        shape = np.broadcast_shapes(self.shape, o.shape)
        if shape != self.shape:
            raise ValueError(f"in-place {sign}=: the result's shape {shape} is not this "
                             f"tensor's {self.shape}")
        a, b = self._pair(o, divide=sign == "/")
        dtype = np.result_type(a.dtype, b.dtype)
        if dtype != self.dtype and not can_cast(dtype, self.dtype):
            raise DTypeError(f"in-place {sign}=: the result is {dtype}, which cannot be stored "
                             f"in this {self.dtype} tensor")
        fn = {"+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv}
        return self._overwrite(what or f"in-place {sign}=", lambda old: fn[sign](
            *old._pair(o, divide=sign == "/")))

    def __iadd__(self, other: Any) -> Tensor:
        return self._inplace(other, "+")

    def __isub__(self, other: Any) -> Tensor:
        return self._inplace(other, "-")

    def __imul__(self, other: Any) -> Tensor:
        return self._inplace(other, "*")

    def __itruediv__(self, other: Any) -> Tensor:
        return self._inplace(other, "/")

    def _in_place_op(self, other: Any, op: str, fn: Callable[[Tensor, Any], Tensor]
                     ) -> Tensor:
        """``self <op>= other`` for the operators without a gradient rule of ``_inplace``'s
        kind (**, //, %, &, |, ^): ``fn(self, other)`` written into this tensor, which must
        keep its shape and be able to hold the result's dtype."""

        def compute(old: Tensor) -> Tensor:
            new = fn(old, other)
            if new.shape != self.shape:
                raise ValueError(f"in-place {op}=: the result's shape {new.shape} is not this "
                                 f"tensor's {self.shape}")
            if new.dtype != self.dtype and not can_cast(new.dtype, self.dtype):
                raise DTypeError(f"in-place {op}=: the result is {new.dtype}, which cannot be "
                                 f"stored in this {self.dtype} tensor")
            return new

        return self._overwrite(f"in-place {op}=", compute)

    def __ipow__(self, other: Any) -> Tensor:
        return self._in_place_op(other, "**", operator.pow)

    def __ifloordiv__(self, other: Any) -> Tensor:
        return self._in_place_op(other, "//", operator.floordiv)

    def __imod__(self, other: Any) -> Tensor:
        return self._in_place_op(other, "%", operator.mod)

    def __iand__(self, other: Any) -> Tensor:
        return self._in_place_op(other, "&", operator.and_)

    def __ior__(self, other: Any) -> Tensor:
        return self._in_place_op(other, "|", operator.or_)

    def __ixor__(self, other: Any) -> Tensor:
        return self._in_place_op(other, "^", operator.xor)

    def __neg__(self) -> Tensor:
        return Neg.apply(self)

    def _check_pow(self, other: Any) -> None:
        if self.dtype.kind == "b" and getattr(other, "dtype", None) is None:
            other = np.asarray(other)
        if self.dtype.kind == "b" and np.dtype(other.dtype).kind == "b":
            raise TypeError("x ** y with both bool: pow is not defined for bool (as in "
                            "PyTorch); convert one side first, e.g. x.float() ** y")

    def __pow__(self, other: Any) -> Tensor:
        self._check_pow(other)
        if isinstance(other, (int, float, np.number)) and not isinstance(other, bool):
            # a plain Python number: NumPy treats it as weak, so float32 stays float32; a
            # fractional exponent makes an integer tensor float32, as in PyTorch
            p = other.item() if isinstance(other, np.number) else other
            base = self if isinstance(p, int) else self._floating()
            if base.dtype.kind == "b":  # bool ** int is int64, as bool * int
                base = base.to(dtype=np.int64)
            return PowScalar.apply(base, p=p)
        return Pow.apply(*self._pair(other))

    def __rpow__(self, other: Any) -> Tensor:
        self._check_pow(other)
        return Pow.apply(*self._pair(other, reflected=True))

    def pow(self, exponent: Any) -> Tensor:
        return self ** exponent

    def neg(self) -> Tensor:
        return -self

    negative = neg

    def lerp(self, end: Any, weight: Any) -> Tensor:
        """self + weight (end - self), as ``torch.lerp`` (of floating-point tensors)."""
        if self.dtype.kind not in "fc":
            raise DTypeError(f"lerp takes floating-point tensors, got {self.dtype}")
        for name, t in (("end", end), ("weight", weight)):
            if isinstance(t, Tensor) and t.dtype != self.dtype and (name == "end" or t.ndim):
                raise DTypeError(f"lerp: expected dtype {self.dtype} for {name}, got {t.dtype} "
                                 "(as PyTorch, lerp does not promote)")
        return self + (end - self) * weight

    def addmm(self, mat1: Tensor, mat2: Tensor, *, beta: Any = 1, alpha: Any = 1) -> Tensor:
        """beta self + alpha (mat1 @ mat2), as ``torch.addmm`` (beta = 0 ignores self, NaN
        included, as there)."""
        product = mat1.mm(mat2) * alpha if alpha != 1 else mat1.mm(mat2)
        return product if beta == 0 else (self * beta if beta != 1 else self) + product

    def baddbmm(self, batch1: Tensor, batch2: Tensor, *, beta: Any = 1, alpha: Any = 1
                ) -> Tensor:
        """beta self + alpha (batch1 @ batch2) for batches of matrices, as ``torch.baddbmm``."""
        product = batch1.bmm(batch2) * alpha if alpha != 1 else batch1.bmm(batch2)
        return product if beta == 0 else (self * beta if beta != 1 else self) + product

    def type(self, dtype: DTypeLike = None, non_blocking: bool = False) -> Any:
        """With a dtype, this tensor as that dtype (``x.to(dtype)``); without, its type's name
        (``"tinygrad_rnn.FloatTensor"``), as PyTorch's ``x.type()``. ``non_blocking`` is a
        hint, taken for PyTorch's sake: the conversion is done when type returns."""
        if dtype is None:
            return f"tinygrad_rnn.{_TYPE_NAMES.get(self.dtype.name, self.dtype.name)}Tensor"
        legacy = getattr(dtype, "_legacy_dtype", None)  # tr.FloatTensor and its kin
        if legacy is not None:
            dtype = legacy
        elif isinstance(dtype, str) and dtype.endswith("Tensor"):  # "torch.FloatTensor"
            short = dtype.rsplit(".", 1)[-1][:-len("Tensor")]
            found = [k for k, v in _TYPE_NAMES.items() if v == short]
            if not found:
                raise DTypeError(f"type: no tensor type named {dtype!r} (one of "
                                 f"{', '.join(v + 'Tensor' for v in _TYPE_NAMES.values())})")
            dtype = found[0]
        return self.to(dtype=dtype)

    def _times_alpha(self, other: Any, alpha: Any) -> Any:
        """alpha * other for ``add``/``sub(other, alpha=)``: alpha takes no part in the
        result's dtype (that of self + other), as PyTorch's; so a float alpha is refused for
        integer results, a bool one for all but bool results."""
        if type(alpha) is int and alpha == 1:
            return other
        if getattr(other, "is_sparse", False):  # dense += alpha * sparse (a SparseTensor)
            return other * alpha
        o = self._lift(other)
        dt = _common_dtype(self, o)
        if dt.kind in "biu" and isinstance(alpha, (float, complex, np.inexact)):
            raise DTypeError(f"alpha={alpha!r} is not an integer, for an {dt} result (PyTorch "
                             "refuses a floating-point alpha for integral input tensors)")
        if isinstance(alpha, (bool, np.bool_)) and dt.kind != "b":
            raise DTypeError(f"alpha={alpha!r} with a {dt} result: a bool alpha goes with bool "
                             "results only (as PyTorch)")
        if dt.kind == "b":
            return o if alpha else o & False
        return o.to(dtype=dt) * alpha

    def add(self, other: Any, alpha: Any = 1) -> Tensor:
        """self + alpha * other, as ``torch.add``."""
        return self + self._times_alpha(other, alpha)

    def sub(self, other: Any, alpha: Any = 1) -> Tensor:
        self._refuse_bool_sub(other)
        return self - self._times_alpha(other, alpha)

    def mul(self, other: Any) -> Tensor:
        return self * other

    def div(self, other: Any, *, rounding_mode: str | None = None) -> Tensor:
        """self / other; ``rounding_mode="floor"`` rounds down (``//``), ``"trunc"`` toward
        zero, as ``torch.div``."""
        if rounding_mode is None:
            return self / other
        if rounding_mode == "floor":
            return self // other
        if rounding_mode == "trunc":  # integers stay integers, as with //
            a, b = self._pair(other)
            if a.dtype.kind in "fc":
                return (a / b).trunc()
            q = a // b  # exact: a float quotient would round large integers
            return q + ((q < 0) & (q * b != a)).to(dtype=q.dtype)  # inexact below 0: up one
        raise ValueError(f"div: rounding_mode must be None, 'floor' or 'trunc', got "
                         f"{rounding_mode!r}")

    def matmul(self, other: Any) -> Tensor:
        return self @ other

    @torch_names(mat2="other")
    def mm(self, other: Tensor) -> Tensor:
        """The product of two matrices (2-D only, as PyTorch's; ``@`` takes any)."""
        return self._sized_matmul(other, 2, "mm")

    @torch_names(mat2="other")
    def bmm(self, other: Tensor) -> Tensor:
        """Batched matrix products of two 3-D tensors (as PyTorch's; ``@`` takes any)."""
        return self._sized_matmul(other, 3, "bmm")

    def _sized_matmul(self, other: Tensor, ndim: int, name: str) -> Tensor:
        if self.ndim != ndim or getattr(other, "ndim", None) != ndim:
            raise ValueError(f"{name} takes two {ndim}-D tensors, got shapes {self.shape} and "
                             f"{getattr(other, 'shape', type(other).__name__)}; @ takes any")
        if ndim == 3 and self.shape[0] != other.shape[0]:  # (no broadcasting, as PyTorch's)
            raise ValueError(f"{name}: the batches must have one size, got shapes {self.shape} "
                             f"and {other.shape}; @ broadcasts them")
        return self @ other

    def __invert__(self) -> Tensor:
        """``~x``: logical not of a bool tensor, bitwise not of an integer one, as PyTorch."""
        if self.dtype.kind not in "biu":
            raise DTypeError(f"~x needs a bool or integer tensor, not {self.dtype}")
        return self._mask(~self._data)

    def logical_not(self) -> Tensor:
        return self._mask(self._data == 0)

    def _bitwise(self, other: Any, op: str) -> Tensor:
        """``x & y``, ``x | y``, ``x ^ y`` of bool or integer tensors (or Python bools and
        ints), as PyTorch's: logical for bools, bitwise for integers; never differentiable."""
        a, b = self._compared(other)
        if a.dtype.kind not in "biu" or b.dtype.kind not in "biu":
            raise DTypeError(f"x {op} y needs bool or integer tensors, got {a.dtype} and "
                             f"{b.dtype}; for a float mask compare first, e.g. (x > 0) {op} m")
        fn = {"&": operator.and_, "|": operator.or_, "^": operator.xor}[op]
        return self._mask(fn(a, b))

    def __and__(self, other: Any) -> Tensor:
        return self._bitwise(other, "&")

    def __or__(self, other: Any) -> Tensor:
        return self._bitwise(other, "|")

    def __xor__(self, other: Any) -> Tensor:
        return self._bitwise(other, "^")

    def __rand__(self, other: Any) -> Tensor:
        return self._bitwise(other, "&")

    def __ror__(self, other: Any) -> Tensor:
        return self._bitwise(other, "|")

    def __rxor__(self, other: Any) -> Tensor:
        return self._bitwise(other, "^")

    def logical_and(self, other: Any) -> Tensor:
        """Elementwise ``x != 0 and y != 0``, bool, for tensors of any dtype."""
        a, b = self._compared(other)
        return self._mask((a != 0) & (b != 0))

    def logical_or(self, other: Any) -> Tensor:
        a, b = self._compared(other)
        return self._mask((a != 0) | (b != 0))

    def logical_xor(self, other: Any) -> Tensor:
        a, b = self._compared(other)
        return self._mask((a != 0) ^ (b != 0))

    def isnan(self) -> Tensor:
        return self._mask(self._dev.xp.isnan(self._data))

    def isinf(self) -> Tensor:
        return self._mask(self._dev.xp.isinf(self._data))

    def isfinite(self) -> Tensor:
        return self._mask(self._dev.xp.isfinite(self._data))

    def allclose(self, other: Any, rtol: float = 1e-5, atol: float = 1e-8,
                 equal_nan: bool = False) -> bool:
        """Whether |self - other| <= atol + rtol |other| everywhere, as ``torch.allclose``."""
        a, b = self._compared(other)
        return bool(self._dev.xp.allclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan))

    def masked_fill(self, mask: Any, value: Any) -> Tensor:
        """``value`` where ``mask`` is True, else this tensor, the two broadcast together (as
        PyTorch's out-of-place ``masked_fill``: a mask of more dims gives a larger result); the
        gradient flows where the mask is False."""
        m = mask if isinstance(mask, Tensor) else tensor(mask, device=self.device)
        if m.dtype != np.bool_:
            raise DTypeError(f"masked_fill: the mask must be bool, got {m.dtype}")
        try:
            np.broadcast_shapes(m.shape, self.shape)
        except ValueError:
            raise ValueError(f"masked_fill: a mask of shape {m.shape} and x of shape "
                             f"{self.shape} do not broadcast together") from None
        check_fits(value.item() if isinstance(value, Tensor) and not value.ndim else value,
                   self.dtype, "masked_fill")
        v = value if isinstance(value, Tensor) else self._lift(value)
        if v.ndim:
            raise ValueError(f"masked_fill: the value must be a number or a 0-d tensor, got "
                             f"shape {v.shape}")
        if v._dev is not self._dev:  # a 0-d value moves, as in PyTorch
            v = v.to(self.device)
        return where(m, v.to(dtype=self.dtype) if v.dtype != self.dtype else v, self)

    def __matmul__(self, other: Any) -> Tensor:
        return matmul(self, self._lift(other))

    def __rmatmul__(self, other: Any) -> Tensor:
        return matmul(self._lift(other), self)

    # comparisons give boolean tensors that never require grad
    def _mask(self, m: Any) -> Tensor:
        if type(m) is not self._dev.array_type:  # NumPy gives a scalar for 0-d operands
            m = self._dev.xp.asarray(m)
        return Tensor._wrap(m, self._dev)

    def __bool__(self) -> bool:
        if self.size != 1:
            raise ValueError(
                f"the truth value of a tensor with {self.size} elements is ambiguous; "
                "use .any() or .all() on .numpy(), or compare .item()"
            )
        return bool(self.item())

    def _compared(self, other: Any) -> tuple[Any, Any]:
        """The two arrays a comparison compares, promoted as arithmetic promotes them: a 0-d
        tensor beside one with axes takes its dtype within a kind (float32 [0.1] == a 0-d
        float64 0.1 is True, as in PyTorch)."""
        o = self._lift(other)
        a, b = self._data, o._data
        dt = _common_dtype(self, o)
        if a.dtype == b.dtype == dt:
            return a, b
        with np.errstate(over="ignore"):  # past float16's range: inf, silently, as PyTorch
            return (a if a.dtype == dt else a.astype(dt), b if b.dtype == dt else b.astype(dt))

    def _ordered(self, other: Any, op: str) -> tuple[Any, Any]:
        """``_compared`` for <, <=, >, >=, maximum, clamp and the rest: complex numbers have
        no order, so PyTorch refuses them."""
        a, b = self._compared(other)
        if a.dtype.kind == "c":
            raise DTypeError(f"{op} is not defined for complex tensors (as in PyTorch); "
                             "compare .real or .abs()")
        return a, b

    def __lt__(self, other: Any) -> Tensor:
        a, b = self._ordered(other, "<")
        return self._mask(a < b)

    def __le__(self, other: Any) -> Tensor:
        a, b = self._ordered(other, "<=")
        return self._mask(a <= b)

    def __gt__(self, other: Any) -> Tensor:
        a, b = self._ordered(other, ">")
        return self._mask(a > b)

    def __ge__(self, other: Any) -> Tensor:
        a, b = self._ordered(other, ">=")
        return self._mask(a >= b)

    def __eq__(self, other: Any) -> Any:  # type: ignore[override]
        if other is None:  # as PyTorch: x == None is False (x is None is the Python test)
            return False
        a, b = self._compared(other)
        return self._mask(a == b)

    def __ne__(self, other: Any) -> Any:  # type: ignore[override]
        if other is None:
            return True
        a, b = self._compared(other)
        return self._mask(a != b)

    # ---- elementwise functions ------------------------------------------------------------
    def exp(self) -> Tensor:
        return Exp.apply(self._floating())

    def log(self) -> Tensor:
        return Log.apply(self._floating())

    def sqrt(self) -> Tensor:
        return Sqrt.apply(self._floating())

    def tanh(self) -> Tensor:
        return Tanh.apply(self._floating())

    def sin(self) -> Tensor:
        return Sin.apply(self._floating())

    def cos(self) -> Tensor:
        return Cos.apply(self._floating())

    def sigmoid(self) -> Tensor:
        return Sigmoid.apply(self._floating())

    def relu(self) -> Tensor:
        return Relu.apply(self)

    def abs(self) -> Tensor:
        return Abs.apply(self)

    __abs__ = abs  # Python's abs(x)

    @torch_names
    def softmax(self, axis: int, dtype: DTypeLike = None) -> Tensor:
        from . import functional  # imported here: functional imports this module

        return functional.softmax(self, axis, dtype=dtype)

    @torch_names
    def log_softmax(self, axis: int, dtype: DTypeLike = None) -> Tensor:
        from . import functional

        return functional.log_softmax(self, axis, dtype=dtype)

    def clip(self, min: Any = None, max: Any = None) -> Tensor:
        """Values limited to [min, max] (either may be None). An integer tensor stays integer
        with integer bounds and becomes float32 with a fractional one, as in PyTorch.

        A bound may be a tensor (``_clip_by_tensors``): elementwise bounds that broadcast
        with this tensor, differentiable too."""
        bounds = [b for b in (min, max) if b is not None]
        if self.dtype.kind == "c" or any(isinstance(b, complex) for b in bounds) or \
                self.dtype.kind == "b" and all(isinstance(b, (bool, np.bool_)) or (
                    isinstance(b, Tensor) and b.dtype.kind == "b") for b in bounds) and not (
                    len(bounds) == 1 and isinstance(bounds[0], Tensor)):  # (one: as torch)
            raise DTypeError(f"clamp of a {self.dtype} tensor by {bounds!r} is not defined (as "
                             "in PyTorch: no complex, and no bool result)")
        if isinstance(min, Tensor) or isinstance(max, Tensor):
            return self._clip_by_tensors(min, max)
        integral = all(isinstance(b, (int, np.integer)) for b in bounds)
        x = self if self.dtype.kind in "fc" or integral else self._floating()
        if x.dtype.kind in "iu":  # a bound out of the dtype's range wraps, as PyTorch's
            min, max = (None if b is None else np.asarray(b).astype(x.dtype).item()
                        for b in (min, max))
        cast = int if x.dtype.kind in "biu" else float
        return Clip.apply(x, lo=None if min is None else cast(min),
                          hi=None if max is None else cast(max))

    clamp = clip

    def _clip_by_tensors(self, lo: Any, hi: Any) -> Tensor:
        """``clip`` with tensor bounds, as ``torch.clamp(x, min=t, max=u)``: y = where(x <
        lo, lo, x), then where(y > hi, hi, y), broadcast together, the dtype promoted as
        arithmetic promotes it. So the gradient goes to x where lo <= x <= hi, to lo where x
        < lo, to hi where the result is hi (as PyTorch's, but for lo = hi with x < lo, where
        PyTorch's goes nowhere and this goes to lo); where lo > hi, the result is hi. A NaN in
        x or in a bound gives NaN, as PyTorch."""
        if lo is None and hi is None:
            raise ValueError("clamp: give at least one of min and max")
        lifted = [(self._lift(b), low) for b, low in ((lo, True), (hi, False)) if b is not None]
        for b, _ in lifted:
            if b._dev is not self._dev:
                raise ValueError(f"clamp: a bound on {b.device!r} for a tensor on "
                                 f"{self.device!r}; move it with .to({self.device!r})")
        # all three promoted together first, as PyTorch's (x and min alone might wrap)
        dt = _common_dtype(self, *(b for b, _ in lifted))
        out = self if self.dtype == dt else self.to(dtype=dt)
        for b, low in lifted:
            b = b if b.dtype == dt else b.to(dtype=dt)
            past = out < b if low else out > b
            if b.dtype.kind in "fc":
                past = past | b.isnan()
            out = where(past, b, out)
        if self.dtype.kind == "f":  # a NaN in x stays NaN, and no gradient goes anywhere
            out = where(self.isnan(), self.detach(), out)  # from it, as PyTorch's
        return out

    def _pair_ordered(self, other: Any, op: str, divide: bool = False
                      ) -> tuple[Tensor, Tensor]:
        """``_pair``, refusing complex operands (they have no order), as PyTorch does."""
        a, b = self._pair(other, divide=divide)
        if a.dtype.kind == "c":
            raise DTypeError(f"{op} is not defined for complex tensors (as in PyTorch)")
        return a, b

    def maximum(self, other: Any) -> Tensor:
        return Maximum.apply(*self._pair_ordered(other, "maximum"))

    def minimum(self, other: Any) -> Tensor:
        return Minimum.apply(*self._pair_ordered(other, "minimum"))

    # log1p, expm1, erf, sign and rounding: the functions in ops/elementwise.py
    def log1p(self) -> Tensor:
        return log1p(self)

    def expm1(self) -> Tensor:
        return expm1(self)

    def erf(self) -> Tensor:
        return erf(self)

    def sign(self) -> Tensor:
        return sign(self)

    def floor(self) -> Tensor:
        return floor(self)

    def ceil(self) -> Tensor:
        return ceil(self)

    def round(self, decimals: int = 0) -> Tensor:
        return round_(self, decimals)

    def trunc(self) -> Tensor:
        return trunc(self)

    # ---- reductions -----------------------------------------------------------------------
    @torch_names
    def sum(self, axis: int | Sequence[int] | None = None, keepdims: bool = False, *,
            dtype: DTypeLike = None) -> Tensor:
        """Σ over ``axis`` (all by default); ``dtype`` casts first, as ``torch.sum(...,
        dtype=)`` (``x.sum(dtype=tr.float64)`` adds float32 values in float64)."""
        if dtype is None:
            return Sum.apply(self, axis=axis, keepdims=keepdims)
        dt = resolve_dtype(dtype)
        x = self if dt == self.dtype else self.to(dtype=dt)
        return Sum.apply(x, axis=axis, keepdims=keepdims, dtype=dt)

    @torch_names
    def mean(self, axis: int | Sequence[int] | None = None, keepdims: bool = False, *,
             dtype: DTypeLike = None) -> Tensor:
        """Σ over ``axis`` / n; ``dtype`` (floating-point) casts first, as ``torch.mean``."""
        return mean(self, axis, keepdims, dtype=dtype)

    @torch_names
    def var(self, axis: int | Sequence[int] | bool | None = None, unbiased: bool | None = None,
            keepdims: bool = False, *, correction: int | None = None) -> Tensor:
        """The variance, dividing by n - correction (1 by default; ``unbiased=False`` is 0),
        in PyTorch's argument order: ``x.var(dim, unbiased, keepdim)``, ``x.var(False)`` (all
        elements, biased), ``x.var(dim, correction=0, keepdim=True)``."""
        if isinstance(axis, (bool, np.bool_)):  # PyTorch's var(unbiased) form
            if unbiased is not None:
                raise TypeError("var: unbiased given twice")
            axis, unbiased = None, bool(axis)
        x = self.float() if self.dtype == np.float16 else self  # float16 sums in float32,
        out = var(x, axis, keepdims, _correction("var", correction, unbiased))  # as torch's
        return out if x is self else out.half()

    @torch_names
    def std(self, axis: int | Sequence[int] | bool | None = None, unbiased: bool | None = None,
            keepdims: bool = False, *, correction: int | None = None) -> Tensor:
        """sqrt(var) (``var``'s arguments, in PyTorch's order); where var is 0 the gradient
        is 0 (as PyTorch), not 0 / 0."""
        if isinstance(axis, (bool, np.bool_)):  # PyTorch's std(unbiased) form
            if unbiased is not None:
                raise TypeError("std: unbiased given twice")
            axis, unbiased = None, bool(axis)
        c = _correction("std", correction, unbiased)
        x = self.float() if self.dtype == np.float16 else self  # as var
        out = var(x, axis, keepdims, c)._pow_or_zero(0.5)
        return out if x is self else out.half()

    @torch_names
    def norm(self, p: float | str | None = 2, axis: int | Sequence[int] | None = None,
             keepdims: bool = False, *, dtype: DTypeLike = None) -> Tensor:
        """The vector p-norm over ``axis`` (all elements by default): (Σ |x|^p)^(1/p) for a
        number p (``"fro"`` and None are p = 2), max |x| for p = inf, min |x| for p = -inf,
        the number of nonzero elements for p = 0 (its gradient 0); ``"nuc"``, the nuclear
        norm over two axes (``linalg.matrix_norm``); with ``dtype``, of x cast to it first
        (``dtype=tr.float64`` sums a float32 x in float64), as PyTorch's.

        Where the norm is 0 its gradient is 0, as PyTorch's (the formula's is 0 / 0)."""
        if dtype is not None:
            return self.to(dtype=dtype).norm(p, axis, keepdims)
        if p == "nuc" or (isinstance(p, (int, float)) and -math.inf < p < 0):
            from . import linalg

            if p == "nuc":
                dims = tuple(range(self.ndim)) if axis is None else axis
                return linalg.matrix_norm(self, "nuc", dims, keepdims)  # type: ignore[arg-type]
            return linalg.vector_norm(self, p, axis, keepdims)
        p = 2 if p is None else p
        if self.dtype.kind not in "fc":
            raise DTypeError(f"norm needs a floating-point tensor, not dtype {self.dtype} "
                             "(as in PyTorch); convert it first, e.g. x.float()")
        if self.dtype.kind == "c":  # the norm of the moduli (real; its gradient x / |x| ...)
            return self.abs().norm(p, axis, keepdims)
        p = 2 if p == "fro" else p
        if p in (math.inf, -math.inf):
            return self.abs().amax(axis, keepdims) if p > 0 else self.abs().amin(axis, keepdims)
        if isinstance(p, str) or not p >= 0:
            raise ValueError(f"norm: p must be 'fro', inf, -inf or a number >= 0, got {p!r}")
        if p == 0:  # the number of nonzero elements, of gradient 0
            return self._pow_or_zero(0).sum(axis, keepdims)
        if p == 1:
            return self.abs().sum(axis, keepdims)
        if p == 2:
            return (self * self).sum(axis, keepdims)._pow_or_zero(0.5)
        # |x|^p for p < 1 has an infinite slope at 0: PyTorch takes 0 there, so do we
        return self.abs()._pow_or_zero(p).sum(axis, keepdims)._pow_or_zero(1 / p)

    def _pow_or_zero(self, q: float) -> Tensor:
        """self ** q for self >= 0, with gradient 0 (not the formula's inf, nor NaN once
        multiplied by 0) where self is 0: the two ``where``s keep that inf out of the graph."""
        zero = self == 0
        safe = where(zero, 1, self)
        return where(zero, 0, safe.sqrt() if q == 0.5 else safe**q)

    @torch_names
    def any(self, axis: int | Sequence[int] | None = None, keepdims: bool = False) -> Tensor:
        """Whether any element over ``axis`` is nonzero (NaN counts): bool, never requiring
        grad (PyTorch gives uint8 for uint8, bool otherwise)."""
        return self._mask(self._data.any(axis=normalize_axis(axis, self.ndim), keepdims=keepdims))

    @torch_names
    def all(self, axis: int | Sequence[int] | None = None, keepdims: bool = False) -> Tensor:
        """Whether every element over ``axis`` is nonzero, as ``any``."""
        return self._mask(self._data.all(axis=normalize_axis(axis, self.ndim), keepdims=keepdims))

    @torch_names
    def amax(self, axis: int | Sequence[int] | None = None, keepdims: bool = False) -> Tensor:
        """The largest element over ``axis`` (one or several axes, or all), values only; at a
        tie the gradient is split evenly between the tied elements (``torch.amax``)."""
        self._refuse_complex("amax")
        return Max.apply(self, axis=axis, keepdims=keepdims)

    @torch_names
    def amin(self, axis: int | Sequence[int] | None = None, keepdims: bool = False) -> Tensor:
        """The smallest element over ``axis``, as ``amax``."""
        self._refuse_complex("amin")
        return Max.apply(self, axis=axis, keepdims=keepdims, smallest=True)

    @torch_names(other="axis")
    def max(self, axis: int | Tensor | None = None, keepdims: bool = False) -> Any:
        """As PyTorch's ``x.max``: with no axis, the largest element (a 0-d tensor, the
        gradient split among ties as ``amax``); along one axis, the pair ``(values,
        indices)``, the first largest of each row and where it is (the gradient goes to that
        element alone); given a tensor, the elementwise ``maximum``."""
        if isinstance(axis, Tensor):
            return self.maximum(axis)
        self._refuse_complex("max")
        if axis is None:
            return Max.apply(self, axis=None, keepdims=keepdims)
        return max_along(self, axis, keepdims)

    @torch_names(other="axis")
    def min(self, axis: int | Tensor | None = None, keepdims: bool = False) -> Any:
        """As ``max``, for the smallest: a 0-d tensor, ``(values, indices)`` along one axis,
        or the elementwise ``minimum`` with a tensor."""
        if isinstance(axis, Tensor):
            return self.minimum(axis)
        self._refuse_complex("min")
        if axis is None:
            return Max.apply(self, axis=None, keepdims=keepdims, smallest=True)
        return max_along(self, axis, keepdims, smallest=True)

    @torch_names
    def logsumexp(self, axis: int | Sequence[int] | None = None, keepdims: bool = False) -> Tensor:
        return logsumexp(self, axis, keepdims)

    @torch_names
    def cumsum(self, axis: int, *, dtype: DTypeLike = None) -> Tensor:
        """The running sum along ``axis``, as ``torch.cumsum`` (bool and integer tensors give
        int64; ``dtype`` casts first)."""
        return cumsum(self, axis, dtype=dtype)

    @torch_names
    def argmax(self, axis: int | None = None, keepdims: bool = False) -> Tensor:
        """The index of the largest element over ``axis`` (of the flattened tensor without
        one), int64; ``keepdims`` keeps the axis, with length 1."""
        return self._arg(self._dev.xp.argmax, axis, keepdims)

    @torch_names
    def argmin(self, axis: int | None = None, keepdims: bool = False) -> Tensor:
        return self._arg(self._dev.xp.argmin, axis, keepdims)

    @torch_names
    def topk(self, k: int, axis: int = -1, largest: bool = True, sorted: bool = True
             ) -> ValuesIndices:
        return topk(self, k, axis, largest, sorted)

    @torch_names
    def sort(self, axis: int = -1, descending: bool = False, stable: bool = False
             ) -> ValuesIndices:
        return sort(self, axis, descending, stable)

    @torch_names
    def argsort(self, axis: int = -1, descending: bool = False, stable: bool = False
                ) -> Tensor:
        return argsort(self, axis, descending, stable)

    def _refuse_complex(self, what: str) -> None:
        """Complex numbers have no order: PyTorch refuses them in max, min, argmax, ..."""
        if self.dtype.kind == "c":
            raise DTypeError(f"{what}: not defined for complex tensors (as in PyTorch): they "
                             "have no order; use .abs() or .real")

    def _arg(self, fn: Any, axis: int | None, keepdims: bool) -> Tensor:
        what = fn.__name__
        self._refuse_complex(what)
        if self.dtype.kind == "b":
            raise DTypeError(f"{what}: not defined for bool tensors (as in PyTorch); convert "
                             "first, e.g. x.int()")
        i = fn(self._data, axis=axis).astype(np.int64)
        if keepdims:  # NumPy's keepdims=, as a reshape (CuPy's argmax has no keepdims)
            i = i.reshape([1] * self.ndim if axis is None else
                          [1 if k == axis % max(self.ndim, 1) else n
                           for k, n in enumerate(self.shape)])
        return Tensor._wrap(i, self._dev)

    # ---- movement -------------------------------------------------------------------------
    @torch_names(shape="shape")
    def reshape(self, *shape: Any) -> Tensor:
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        return _reshaped(self, Reshape.apply(self, shape=shape))

    @torch_names(size="shape")
    def view(self, *shape: Any) -> Tensor:
        """``reshape`` that shares memory, as PyTorch's: a layout the new shape cannot be read
        from without a copy (a transpose flattened, say) is refused, naming ``reshape``, which
        copies. A write into the result reaches this tensor."""
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        out = Reshape.apply(self, shape=shape)
        if out._data.size > 1 and not self._dev.xp.may_share_memory(out._data, self._data):
            raise ValueError(f"view: a tensor of shape {self.shape} laid out as it is (a "
                             f"transpose or a strided slice) cannot be viewed as shape "
                             f"{out.shape} without a copy; use .reshape(...), which copies "
                             "where it must (or .contiguous().view(...))")
        return _reshaped(self, out)

    def reshape_as(self, other: Tensor) -> Tensor:
        return self.reshape(other.shape)

    def view_as(self, other: Tensor) -> Tensor:
        return self.view(other.shape)

    def flip(self, *axes: Any, dims: Sequence[int] | None = None) -> Tensor:
        """The elements in reverse order along each of ``axes`` (ints, or one sequence; or
        PyTorch's ``dims=``)."""
        if dims is not None:
            axes = (dims,) if not axes else _both("flip", "axes", "dims")
        if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
            axes = tuple(axes[0])
        reverse = normalize_axis(axes, self.ndim)
        # a copy in PyTorch (a write into it is its own): not marked as a view
        return GetItem.apply(self, index=tuple(slice(None, None, -1) if i in reverse
                                               else slice(None) for i in range(self.ndim)))

    @torch_names
    def flatten(self, start_axis: int = 0, end_axis: int = -1) -> Tensor:
        """The axes ``start_axis`` to ``end_axis`` (both included) merged into one, as
        PyTorch's ``flatten(start_dim, end_dim)``; a 0-d tensor becomes shape (1,)."""
        if self.ndim == 0:
            return self.reshape(1)
        (s,), (e,) = normalize_axis(start_axis, self.ndim), normalize_axis(end_axis, self.ndim)
        if s > e:
            raise ValueError(f"flatten: start_axis {start_axis} comes after end_axis "
                             f"{end_axis} (of {self.ndim} axes)")
        return self.reshape(*self.shape[:s], math.prod(self.shape[s:e + 1]), *self.shape[e + 1:])

    def transpose(self, *axes: Any, dim0: int | None = None, dim1: int | None = None
                  ) -> Tensor:
        """Two axes, ``transpose(dim0, dim1)``, swap them, as PyTorch's (keywords too). Any
        other number of axes, or one tuple of them, is a permutation, as NumPy's
        (``permute``); none reverses the axes (``T``)."""
        if dim0 is not None or dim1 is not None:
            if axes or dim0 is None or dim1 is None:
                raise TypeError("transpose: give both dim0= and dim1=, and no other axes")
            axes = (dim0, dim1)
        if len(axes) == 2 and all(isinstance(a, (int, np.integer)) for a in axes):
            return self.swapaxes(*axes)
        if len(axes) == 1 and isinstance(axes[0], (tuple, list)) and not axes[0]:
            return self.T  # transpose(()): NumPy's "no axes given"
        return self.permute(*axes) if axes else self.T

    def permute(self, *axes: Any, dims: Sequence[int] | None = None) -> Tensor:
        """The axes in the order given (a permutation of all of them; or PyTorch's
        ``dims=``)."""
        if dims is not None:
            axes = (dims,) if not axes else _both("permute", "axes", "dims")
        if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
            axes = tuple(axes[0])
            if len(axes) != self.ndim:  # (an empty tuple is a 0-D tensor's permutation)
                raise ValueError(f"permute: {len(axes)} axes given for a {self.ndim}-D tensor "
                                 f"(shape {self.shape}): give each axis once")
        axes = tuple(axes) if axes or self.ndim == 0 else None  # none given: reversed
        return _view(self, Transpose.apply(self, axes=axes), "transpose", axes)

    @torch_names(axis0="a", axis1="b")
    def swapaxes(self, a: int, b: int) -> Tensor:
        n = self.ndim
        if n == 0 and a in (0, -1) and b in (0, -1):  # a 0-D tensor's one "axis", as PyTorch
            return self.permute(())
        if not (-n <= a < n and -n <= b < n) or n == 0:
            raise ValueError(f"swapaxes: axes ({a}, {b}) out of range for a {n}-D tensor "
                             f"(shape {self.shape})")
        axes = list(range(n))
        axes[a], axes[b] = axes[b], axes[a]
        return _view(self, Transpose.apply(self, axes=tuple(axes)), "transpose", tuple(axes))

    @property
    def T(self) -> Tensor:
        return _view(self, Transpose.apply(self, axes=None), "transpose", None)

    def t(self) -> Tensor:
        """The transpose of a tensor of at most 2 axes, as PyTorch's ``x.t()``."""
        if self.ndim > 2:
            raise ValueError(f"t() takes a tensor of at most 2 axes, got {self.ndim}; use "
                             "transpose(a, b) or permute")
        return self.T

    @torch_names(repeats="sizes")
    def repeat(self, *sizes: Any) -> Tensor:
        """The tensor tiled ``sizes[i]`` times along each axis (leading sizes add axes), as
        PyTorch's ``repeat``: broadcast to (r0, s0, r1, s1, ...), then merged, so the
        gradient is the broadcast's sum."""
        reps = _sizes(sizes)
        if len(reps) < self.ndim:
            raise ValueError(f"repeat: {len(reps)} sizes for a tensor of {self.ndim} axes; "
                             "give at least one per axis")
        shape = (1,) * (len(reps) - self.ndim) + self.shape
        x = self.reshape(*[d for n in shape for d in (1, n)])
        x = x.broadcast_to(tuple(d for r, n in zip(reps, shape) for d in (r, n)))
        out = x.reshape(*[r * n for r, n in zip(reps, shape)])
        # a copy, as PyTorch's, even where every count is 1 (a reshape would share memory)
        return out.clone() if self._dev.xp.may_share_memory(out._data, self._data) else out

    @torch_names
    def narrow(self, axis: int, start: int, length: int) -> Tensor:
        """Elements ``start`` to ``start + length`` along ``axis``, as PyTorch's ``narrow``."""
        (a,) = normalize_axis(axis, self.ndim)
        n = self.shape[a]
        start = start + n if start < 0 else start
        if not (0 <= start <= n and 0 <= length <= n - start):
            raise ValueError(f"narrow: start {start} and length {length} do not fit an axis "
                             f"of size {n}")
        return self[(slice(None),) * a + (slice(start, start + length),)]

    @torch_names(size="shape")
    def broadcast_to(self, shape: Sequence[int]) -> Tensor:
        out = BroadcastTo.apply(self, shape=tuple(shape))
        return _view(self, out, "expand", out.shape)

    @torch_names(size="shape")
    def expand(self, *shape: Any, implicit: bool = False) -> Tensor:
        """PyTorch's ``expand``: like ``broadcast_to``, and -1 keeps a size. ``implicit``,
        a flag of PyTorch's tracer, changes nothing."""
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        lead = len(shape) - self.ndim
        full = tuple(
            self.shape[i - lead] if n == -1 and i >= lead else n for i, n in enumerate(shape)
        )
        return self.broadcast_to(full)

    def expand_as(self, other: Tensor) -> Tensor:
        return self.broadcast_to(other.shape)

    @torch_names
    def squeeze(self, axis: int | Sequence[int] | None = None) -> Tensor:
        return squeeze(self, axis)

    @torch_names
    def unsqueeze(self, axis: int) -> Tensor:
        return unsqueeze(self, axis)

    def __getitem__(self, index: Index) -> Tensor:
        idx = _normalize_index(index, self._dev, self.ndim)
        out = GetItem.apply(self, index=idx)
        _refuse_negative_steps(index)
        if all(isinstance(i, (int, np.integer, slice)) and not isinstance(i, bool) or i is None
               or i is Ellipsis for i in (idx if isinstance(idx, tuple) else (idx,))):
            _view(self, out, "index", idx)  # basic indexing: a part of this tensor
        return out

    def __setitem__(self, index: Index, value: Any) -> None:
        """``x[index] = value``, as in PyTorch, under the rules of ``_overwrite``: recorded
        while autograd records (``outputs[t] = step_output`` builds a differentiable result,
        as there), a plain write under ``no_grad``. Copy on write: x gets a new array, a whole
        copy per assignment (to fill a large tensor piece by piece outside autograd, fill a
        NumPy array and make it a tensor once). ``x[index] += y`` works through this."""
        check_fits(value, self.dtype, "x[index] = value")
        v = self._lift(value)
        if v._dev is not self._dev:
            raise ValueError(f"x[index] = value: the value is on {v.device!r}, x on "
                             f"{self.device!r}")
        try:
            idx = _normalize_index(index, self._dev, self.ndim)
            if isinstance(idx, IntsFirst):
                part = self._data[idx.first]  # a view
                idx = idx._replace(then=check_index(self._dev.xp, idx.then, part.shape,
                                                    idx.first))
                target = part[idx.then].shape
            else:
                idx = check_index(self._dev.xp, idx, self.shape)
                target = self._data[idx].shape
            lead = v.ndim - len(target)  # NumPy drops leading axes of size 1, as PyTorch
            if lead > 0 and all(n == 1 for n in v.shape[:lead]):
                v = v.reshape(v.shape[lead:])
            if np.broadcast_shapes(v.shape, target) != target:
                raise ValueError(f"a value of shape {v.shape} does not broadcast to {target}")
            _refuse_negative_steps(index)
        except (IndexError, ValueError) as e:
            kind = OpIndexError if isinstance(e, IndexError) else OpError
            raise kind(f"x[{index!r}] = value (shape {v.shape}) does not fit x of shape "
                       f"{self.shape}: {e}") from None
        self._overwrite("x[index] = value", lambda old: SetItem.apply(
            old, v if v.dtype == self.dtype else v.to(dtype=self.dtype), index=idx))

    @torch_names
    def gather(self, axis: int, index: Tensor, *, sparse_grad: bool = False) -> Tensor:
        """The elements at ``index`` along ``axis``, as ``torch.gather`` (see ``tr.gather``)."""
        return gather(self, axis, index, sparse_grad=sparse_grad)

    @torch_names
    def index_select(self, axis: int, index: Tensor) -> Tensor:
        """The slices at the 1-D ``index`` along ``axis``, as ``torch.index_select``."""
        return index_select(self, axis, index)

    @torch_names
    def prod(self, axis: int | None = None, keepdims: bool = False, dtype: DTypeLike = None
             ) -> Tensor:
        """The product of the elements (or along one axis), as ``torch.prod`` (``tr.prod``)."""
        from .ops.reduce import prod

        return prod(self, axis, keepdims, dtype)

    @torch_names
    def scatter(self, axis: int, index: Tensor, src: Any = None, reduce: str | None = None, *,
                value: Any = None) -> Tensor:
        """This tensor with ``src`` (or ``value``) written along ``axis`` at ``index``, as
        ``torch.scatter`` (``tr.scatter``; out of place)."""
        from .ops.movement import scatter

        return scatter(self, axis, index, src, reduce, value=value)

    @torch_names
    def scatter_(self, axis: int, index: Tensor, src: Any = None, reduce: str | None = None,
                 *, value: Any = None) -> Tensor:
        """``scatter``, in place (``_overwrite``'s rules)."""
        return self._overwrite("scatter_", lambda old: old.scatter(axis, index, src, reduce,
                                                                    value=value))

    @torch_names
    def scatter_add(self, axis: int, index: Tensor, src: Tensor) -> Tensor:
        """This tensor with ``src`` added along ``axis`` at ``index``, as ``torch.scatter_add``."""
        from .ops.movement import scatter_add

        return scatter_add(self, axis, index, src)

    @torch_names
    def scatter_add_(self, axis: int, index: Tensor, src: Tensor) -> Tensor:
        """``scatter_add``, in place."""
        return self._overwrite("scatter_add_", lambda old: old.scatter_add(axis, index, src))

    @torch_names
    def repeat_interleave(self, repeats: Any = None, axis: int | None = None, *,
                          output_size: int | None = None) -> Tensor:
        """Each slice along ``axis`` repeated in place, as ``torch.repeat_interleave``; with
        no ``repeats``, this 1-D integer tensor is the counts, and the result repeats each
        index i that many times (``tr.repeat_interleave(tr.tensor([2, 1]))`` is [0, 0, 1]).
        ``output_size``, the length of the result along the axis (PyTorch's hint that spares
        a GPU synchronisation), is checked against it."""
        from .ops.movement import repeat_interleave

        if repeats is None:
            if self.ndim != 1 or self.dtype.kind not in "iu":
                raise ValueError(f"repeat_interleave(repeats): the counts must be a 1-D "
                                 f"integer tensor, got shape {self.shape} of {self.dtype}")
            index = Tensor._wrap(self._dev.xp.arange(self.shape[0], dtype=np.int64), self._dev)
            out = repeat_interleave(index, self, 0)
        else:
            out = repeat_interleave(self, repeats, axis)
        n = out.shape[0 if axis is None else axis]
        if output_size is not None and output_size != n:
            raise OpError(f"repeat_interleave: output_size {output_size}, but the result has "
                          f"{n} along the axis")
        return out

    def unfold(self, dimension: int, size: int, step: int) -> Tensor:
        """The windows of ``size`` along ``dimension``, one every ``step``, as a new last axis,
        as ``torch.Tensor.unfold``: a view, as there (a write into this tensor reaches it),
        but one that refuses writes, since its windows may repeat elements."""
        from .ops.movement import unfold

        return _view(self, unfold(self, dimension, size, step), "unfold",
                     (dimension, size, step))  # a view in PyTorch: a write into it is refused

    def as_strided(self, size: Sequence[int], stride: Sequence[int],
                   storage_offset: int | None = None) -> Tensor:
        """A view of this tensor's elements (C order) picked by ``size``, ``stride`` and
        ``storage_offset``, as ``torch.Tensor.as_strided`` (see ``tr.as_strided``)."""
        from .ops.strided import as_strided

        return as_strided(self, size, stride, storage_offset)

    def as_strided_scatter(self, src: Tensor, size: Sequence[int], stride: Sequence[int],
                           storage_offset: int | None = None) -> Tensor:
        """This tensor with ``self.as_strided(size, stride, storage_offset)`` replaced by
        ``src``, out of place, as ``torch.Tensor.as_strided_scatter``."""
        from .ops.strided import as_strided_scatter

        return as_strided_scatter(self, src, size, stride, storage_offset)

    def masked_select(self, mask: Tensor) -> Tensor:
        """The elements where the bool ``mask`` (broadcast) is True, 1-D, as
        ``torch.masked_select``."""
        return masked_select(self, mask)

    @torch_names(split_size="split_size_or_sections")
    def split(self, split_size_or_sections: int | Sequence[int], axis: int = 0) -> list[Tensor]:
        return split(self, split_size_or_sections, axis)

    @torch_names
    def chunk(self, chunks: int, axis: int = 0) -> list[Tensor]:
        """``torch.chunk``: pieces of ceil(n / chunks) along ``axis``, the last one smaller, so
        possibly fewer than ``chunks`` (6 elements in 4 chunks: 3 pieces of 2). An empty axis
        gives ``chunks`` empty pieces."""
        if chunks <= 0:
            raise ValueError(f"chunk: chunks must be positive, got {chunks}")
        n = self.shape[axis]
        return self.split(-(-n // chunks) if n else [0] * chunks, axis)

    @torch_names
    def unbind(self, axis: int = 0) -> list[Tensor]:
        return unbind(self, axis)

    def __iter__(self) -> Iterator[Tensor]:
        return iter(unbind(self, 0))

    # PyTorch's unsafe_ forms skip its view tracking for speed; here they are the same ops
    @torch_names
    def unsafe_split(self, split_size: int, axis: int = 0) -> tuple[Tensor, ...]:
        """``split``, as ``torch.unsafe_split`` (a tuple)."""
        return tuple(self.split(split_size, axis))

    @torch_names
    def unsafe_chunk(self, chunks: int, axis: int = 0) -> tuple[Tensor, ...]:
        """``chunk``, as ``torch.unsafe_chunk`` (a tuple)."""
        return tuple(self.chunk(chunks, axis))

    @torch_names
    def unsafe_split_with_sizes(self, split_sizes: Sequence[int], axis: int = 0
                                ) -> tuple[Tensor, ...]:
        """``split_with_sizes``, as ``torch.unsafe_split_with_sizes`` (a tuple)."""
        return tuple(self.split_with_sizes(split_sizes, axis))

    # ---- PyTorch's method names for the comparisons ---------------------------------------
    def eq(self, other: Any) -> Tensor:
        return self == other

    def ne(self, other: Any) -> Tensor:
        return self != other

    def lt(self, other: Any) -> Tensor:
        return self < other

    def le(self, other: Any) -> Tensor:
        return self <= other

    def gt(self, other: Any) -> Tensor:
        return self > other

    def ge(self, other: Any) -> Tensor:
        return self >= other

    # ---- in place, by PyTorch's names: each refused into a part or view of a live tensor --
    def add_(self, other: Any, alpha: float = 1) -> Tensor:
        """``self += alpha * other``, in place (the rules of ``+=``)."""
        return self._inplace(self._times_alpha(other, alpha), "+", "add_")

    def sub_(self, other: Any, alpha: float = 1) -> Tensor:
        """``self -= alpha * other``, in place (the rules of ``-=``)."""
        self._refuse_bool_sub(other)
        return self._inplace(self._times_alpha(other, alpha), "-", "sub_")

    def mul_(self, other: Any) -> Tensor:
        return self._inplace(other, "*", "mul_")

    def div_(self, other: Any, *, rounding_mode: str | None = None) -> Tensor:
        """``self /= other`` in place; with ``rounding_mode`` (``"floor"``, ``"trunc"``) the
        quotient rounded as ``div``'s, also into an integer tensor, as PyTorch's."""
        if rounding_mode is None:
            return self._inplace(other, "/", "div_")
        return self._overwrite("div_", lambda old: old.div(other, rounding_mode=rounding_mode))

    def _overwrite(self, what: str, compute: Callable[[Tensor], Tensor],
                   casting: str = "same_kind", replaces: bool = False) -> Tensor:
        """Give this tensor, in place, the values ``compute(old)`` of its shape, where ``old``
        stands for its current values: every reference to this tensor sees them, and so do
        the tensors it is a view of, and their views (``_ViewOf``), as in PyTorch.

        They go into a new array (copy on write): an array that a graph saved, or that
        another tensor shares, keeps the old values, so a backward after an update is the
        gradient of the forward as it ran, never a mix of old and new values (PyTorch refuses
        such a backward instead).

        While autograd records, so is the change, as PyTorch records an in-place op: ``old``
        carries this tensor's place in the graph (``_history``), and this tensor becomes the
        result of ``compute``; a base it is a view of becomes ``put(base, new)``. A leaf that
        requires grad (a parameter), or a view of one, is refused, as there. Under
        ``no_grad``, and above a ``detach()`` or ``.data``, only the values change (``with
        tr.no_grad(): w -= lr * w.grad``; ``p.data.uniform_()``). Every check runs before
        anything changes."""
        self._refresh()
        recording = autograd._GradMode.enabled
        _check_writable(self, what, recording)
        old = self._history() if recording else _tangent_of(self, Tensor._wrap(self._data,
                                                                              self._dev))
        histories = [old] if recording else []
        new = compute(old)
        if new.shape != self.shape:  # (other broadcast to a bigger shape: PyTorch refuses)
            raise ValueError(f"{what}: the result's shape {new.shape} is not this tensor's "
                             f"{self.shape}; an in-place op cannot change it")
        if new.dtype != self.dtype:
            if casting != "unsafe" and not can_cast(new.dtype, self.dtype):
                raise DTypeError(f"{what}: the result is {new.dtype}, which cannot be stored in "
                                 f"this {self.dtype} tensor (as in PyTorch); convert it first, "
                                 f"e.g. x = x.to('float32')")
            new = new.to(dtype=self.dtype)
        if recording and self.requires_grad and (replaces or not new.requires_grad):
            # new values over a result (h.zero_(), b.copy_(c)): its old history still gets
            # a gradient, 0, as PyTorch's (so an optimizer does not skip what it came from)
            new = SetItem.apply(old, new, index=Ellipsis)
        # the bases up the chain, each with its new value (recorded up to a detach)
        changes, t, value, records = [(self, new, recording)], self, new, recording
        while t._base is not None:
            link = t._base
            records = records and link.kind != "detach"
            base = link.base
            if records:
                histories.append(base._history())
                value = link.put(histories[-1], value)
            else:
                with autograd.no_grad():
                    value = link.put(_tangent_of(base, Tensor._wrap(base._data, base._dev)),
                                     value)
            changes.append((base, value, records))
            t = base
        root, root_value, _ = changes[-1]
        _bump(_counter(self))
        layout = _layout_like(root._data, root_value._data)
        for t, value, records in changes:
            t._become(value, records)
            if records and t._base is not None:
                t._base.recorded = True  # its graph, taken again, is recorded from now on
        # the root keeps its memory layout, as PyTorch's keeps its strides, and each view
        # below it is again a NumPy view of its base (so a reshape of it is a view or a copy
        # as in PyTorch)
        _DATA.__set__(root, layout)
        for t, _, _ in reversed(changes[:-1]):
            _DATA.__set__(t, t._base.values())
        for h in histories:  # the old values: the graph keeps them only where an op saved
            h._data = _placeholder(h)  # them (outputs[t] = h holds one buffer, not T)
        chain = {id(t) for t, _, _ in changes}
        for t, _, _ in changes:
            _pass_on(t, chain)
        return self

    def _become(self, new: Tensor, record: bool) -> None:
        """Take ``new``'s array (and its tangent, in forward-mode AD) and, if ``record`` and
        it needs a gradient, its place in the graph (``retain_grad`` follows this tensor
        there)."""
        if autograd._DUAL.level is not None:
            _tangent_of(new, self)
        if record and new.requires_grad:
            kept = self._ctx.retained if self._ctx is not None else None
            if kept and kept.get(self._out) is not None and kept[self._out]() is self:
                del kept[self._out]  # retain_grad follows the tensor to its new value
                if new._ctx.retained is None:
                    new._ctx.retained = {}
                new._ctx.retained[new._out] = weakref.ref(self)
            self._ctx, self._out, self.requires_grad = new._ctx, new._out, True
        self._data = new._data

    def _refresh(self) -> None:
        """A view whose base changed since it was made (``_ViewOf.stale``) takes its place in
        the graph again (its values already changed), and so do the stale views above it,
        the topmost first. Ops do it for their inputs, so the graph of a view nothing uses
        again is never made."""
        stale = []
        t = self
        while t._base is not None and t._base.stale:
            stale.append(t)
            t = t._base.base
        mode = autograd._GradMode.enabled
        try:
            for t in reversed(stale):
                link = t._base
                autograd._GradMode.enabled = link.recorded
                link.stale = False
                t._become(link.take(), True)
                if link.dirty:  # its values are the base's now too
                    link.dirty = False
                    _register(link.base, t)
        finally:
            autograd._GradMode.enabled = mode

    def _history(self) -> Tensor:
        """A tensor for this one as it is now, its array and its place in the graph: the
        input of an in-place op, before this tensor becomes the op's result."""
        old = Tensor._wrap(self._data, self._dev, self.requires_grad)
        old._ctx, old._out = self._ctx, self._out
        return _tangent_of(self, old)

    def clip_(self, min: Any = None, max: Any = None) -> Tensor:  # noqa: A002
        """``clip`` (``clamp``), in place; tensor bounds must broadcast to this tensor's
        shape."""
        def clipped(old: Tensor) -> Tensor:
            new = old.clip(min, max)
            if new.shape != self.shape:
                raise ValueError(f"clamp_: bounds that broadcast this tensor's shape "
                                 f"{self.shape} to {new.shape}; they must fit it")
            return new

        return self._overwrite("clamp_", clipped)

    clamp_ = clip_

    def masked_fill_(self, mask: Any, value: Any) -> Tensor:
        """``masked_fill``, in place: the mask must broadcast to this tensor's shape."""
        shape = getattr(mask, "shape", np.shape(mask))
        if np.broadcast_shapes(tuple(shape), self.shape) != self.shape:
            raise ValueError(f"masked_fill_: a mask of shape {tuple(shape)} does not broadcast "
                             f"to this tensor's shape {self.shape}")
        return self._overwrite("masked_fill_", lambda old: old.masked_fill(mask, value))

    @torch_names(**{"from": "a", "to": "b"})  # PyTorch's names (``from`` only as **kwargs)
    def uniform_(self, a: float = 0.0, b: float = 1.0, *, generator: Any = None) -> Tensor:
        """Values drawn from U(a, b), in place (``nn.init.uniform_``; seeded by
        ``tr.manual_seed``, or from ``generator``)."""
        from .nn import init

        return self._overwrite("uniform_", lambda old: init.uniform_(old.detach().clone(), a,
                                                                    b, generator))

    def normal_(self, mean: float = 0.0, std: float = 1.0, *, generator: Any = None) -> Tensor:
        """Values drawn from N(mean, std²), in place (``nn.init.normal_``)."""
        from .nn import init

        return self._overwrite("normal_", lambda old: init.normal_(old.detach().clone(), mean,
                                                                  std, generator))

    # ---- the in-place twins: x.<op>_() is x.<op>() written into x (``_overwrite``'s rules:
    # recorded by autograd, refused on a parameter outside no_grad and into a part or view)
    def exp_(self) -> Tensor:
        return self._overwrite("exp_", Tensor.exp)

    def log_(self) -> Tensor:
        return self._overwrite("log_", Tensor.log)

    def sqrt_(self) -> Tensor:
        return self._overwrite("sqrt_", Tensor.sqrt)

    def tanh_(self) -> Tensor:
        return self._overwrite("tanh_", Tensor.tanh)

    def sigmoid_(self) -> Tensor:
        return self._overwrite("sigmoid_", Tensor.sigmoid)

    def relu_(self) -> Tensor:
        return self._overwrite("relu_", Tensor.relu)

    def abs_(self) -> Tensor:
        if self.dtype.kind == "c":  # |z| is real: it has no place in a complex tensor
            raise DTypeError("abs_: in-place abs is not defined for complex tensors (as in "
                             "PyTorch); use z.abs()")
        return self._overwrite("abs_", Tensor.abs)

    def neg_(self) -> Tensor:
        return self._overwrite("neg_", Tensor.neg)

    def sin_(self) -> Tensor:
        return self._overwrite("sin_", Tensor.sin)

    def cos_(self) -> Tensor:
        return self._overwrite("cos_", Tensor.cos)

    def square_(self) -> Tensor:
        return self._overwrite("square_", Tensor.square)

    def reciprocal_(self) -> Tensor:
        return self._overwrite("reciprocal_", Tensor.reciprocal)

    def rsqrt_(self) -> Tensor:
        return self._overwrite("rsqrt_", Tensor.rsqrt)

    def floor_(self) -> Tensor:
        return self._overwrite("floor_", Tensor.floor)

    def ceil_(self) -> Tensor:
        return self._overwrite("ceil_", Tensor.ceil)

    def trunc_(self) -> Tensor:
        return self._overwrite("trunc_", Tensor.trunc)

    def sign_(self) -> Tensor:
        return self._overwrite("sign_", Tensor.sign)

    def log1p_(self) -> Tensor:
        return self._overwrite("log1p_", Tensor.log1p)

    def expm1_(self) -> Tensor:
        return self._overwrite("expm1_", Tensor.expm1)

    def erf_(self) -> Tensor:
        return self._overwrite("erf_", Tensor.erf)

    def pow_(self, exponent: Any) -> Tensor:
        return self._overwrite("pow_", lambda old: old ** exponent)

    def round_(self, decimals: int = 0) -> Tensor:
        return self._overwrite("round_", lambda old: old.round(decimals))

    def tril_(self, diagonal: int = 0) -> Tensor:
        return self._overwrite("tril_", lambda old: old.tril(diagonal))

    def triu_(self, diagonal: int = 0) -> Tensor:
        return self._overwrite("triu_", lambda old: old.triu(diagonal))

    def lerp_(self, end: Any, weight: Any) -> Tensor:
        return self._overwrite("lerp_", lambda old: old.lerp(end, weight))

    def detach_(self) -> Tensor:
        """Cut this tensor from the graph, in place: it becomes a leaf that needs no
        gradient, as ``x = x.detach()`` would make it. A view (of a slice, reshape, ...) is
        refused, as PyTorch refuses it: its graph is its base's."""
        if self._base is not None and self._base.kind != "detach":
            raise RuntimeError("detach_() on a view of another tensor (a slice, view, reshape, "
                               "transpose, ...): it cannot be detached in place; use "
                               "detach() instead")
        self._ctx, self._out, self.requires_grad = None, 0, False
        return self

    # ---- gradient hooks -------------------------------------------------------------------
    def register_hook(self, hook: Callable[[Tensor], Tensor | None]) -> RemovableHandle:
        """Call ``hook(grad)`` with this tensor's gradient whenever backward computes it,
        before it is stored in ``.grad`` (a leaf, or a tensor that called ``retain_grad``) or
        passed on to the ops that made this tensor. A hook that returns a tensor replaces the
        gradient with it (same shape); one that returns None leaves it. As PyTorch's; the
        handle's ``remove()`` takes the hook off."""
        if not self.requires_grad:
            raise RuntimeError("register_hook on a tensor that does not require grad: there "
                               "is no gradient to hook")
        if self._ctx is None:  # a leaf keeps its hooks
            owner, key = self, "leaf"
            if getattr(self, "_hooks", None) is None:
                self._hooks = []
            hooks = self._hooks
        else:  # a result: its op keeps them, by output
            owner, key = self._ctx, self._out
            if owner.hooks is None:
                owner.hooks = {}
            hooks = owner.hooks.setdefault(key, [])
        hooks.append(hook)
        return RemovableHandle(hooks, hook)

    # ---- more of PyTorch's names ------------------------------------------------------------
    def square(self) -> Tensor:
        """x², as ``x * x`` (of a bool tensor: int64, as PyTorch's)."""
        x = self.long() if self.dtype.kind == "b" else self
        return x * x

    def reciprocal(self) -> Tensor:
        """1 / x (float for an integer tensor, as PyTorch)."""
        return 1 / self._floating()

    def rsqrt(self) -> Tensor:
        """1 / √x, as x ** -0.5: VJP gx = -gy x^(-3/2) / 2."""
        return self._floating().sqrt().reciprocal()  # 1 / sqrt(-0.0) is -inf, as torch

    def where(self, condition: Any, other: Any) -> Tensor:
        """This tensor where ``condition`` is True, else ``other`` (``tr.where(condition,
        self, other)``)."""
        return where(condition, self, other)

    def _triangle(self, name: str, diagonal: int, lower: bool) -> Tensor:
        if self.ndim < 2:
            raise ValueError(f"{name}: the tensor needs at least 2 axes, got shape {self.shape}")
        n, m = self.shape[-2:]
        below = self._dev.xp.tri(n, m, diagonal if lower else diagonal - 1, dtype=bool)
        keep = below if lower else ~below
        return where(Tensor._wrap(keep, self._dev), self, self.new_zeros(()))

    def tril(self, diagonal: int = 0) -> Tensor:
        """The elements on and below the ``diagonal``-th diagonal of the last two axes, the
        others 0 (selected, not multiplied: an inf above stays out); gradient the same
        pattern."""
        return self._triangle("tril", diagonal, True)

    def triu(self, diagonal: int = 0) -> Tensor:
        """The elements on and above the ``diagonal``-th diagonal of the last two axes, the
        others 0."""
        return self._triangle("triu", diagonal, False)

    def nonzero(self, as_tuple: bool = False) -> Tensor | tuple[Tensor, ...]:
        """The indices of the nonzero elements: one row of ``ndim`` int64 indices each (in
        C order), or with ``as_tuple`` one 1-D tensor per axis, as PyTorch's."""
        xp = self._dev.xp
        if as_tuple:
            return tuple(Tensor._wrap(i.astype(np.int64), self._dev)
                         for i in xp.nonzero(self._data.reshape(self.shape or (1,))))
        return Tensor._wrap(xp.argwhere(self._data).astype(np.int64), self._dev)

    def argwhere(self) -> Tensor:
        return self.nonzero()

    def nonzero_static(self, *, size: int, fill_value: int = -1) -> Tensor:
        """``nonzero()`` with exactly ``size`` rows, as ``torch.nonzero_static``: the first
        ``size`` indices (C order), then rows of ``fill_value`` where there are fewer."""
        for name, v in (("size", size), ("fill_value", fill_value)):
            if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, np.integer)):
                raise TypeError(f"nonzero_static(): argument '{name}' must be int, not "
                                f"{type(v).__name__}")
        if size < 0:
            raise ValueError(f"nonzero_static: size must be >= 0, got {size}")
        xp = self._dev.xp
        found = xp.argwhere(self._data).astype(np.int64)[:size]
        out = xp.full((size, self.ndim), fill_value, dtype=np.int64)
        out[:found.shape[0]] = found
        return Tensor._wrap(out, self._dev)

    def roll(self, shifts: int | Sequence[int], dims: int | Sequence[int] | None = None, *,
             axis: int | Sequence[int] | None = None) -> Tensor:
        """The elements shifted by ``shifts`` along each of ``dims`` (or NumPy's ``axis``),
        wrapping around, as ``torch.roll``; with neither, over the flattened tensor. Two
        slices joined per axis, so the gradient is rolled back the same way."""
        if dims is not None:
            axis = dims if axis is None else _both("roll", "axis", "dims")
        if axis is None:
            return self.reshape(-1).roll(shifts, 0).reshape(self.shape)
        shifts_ = (shifts,) if isinstance(shifts, (int, np.integer)) else tuple(shifts)
        axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
        if len(shifts_) != len(axes):
            raise ValueError(f"roll: {len(shifts_)} shifts for {len(axes)} axes")
        if self.ndim == 0:
            raise ValueError("roll: a 0-d tensor has no axis to roll along (give no axis)")
        out = self
        for s, a in zip(shifts_, (normalize_axis(a, self.ndim)[0] for a in axes)):
            n = self.shape[a]
            s = operator.index(s) % n if n else 0
            if s:
                out = cat([out.narrow(a, n - s, s), out.narrow(a, 0, n - s)], a)
        return self.clone() if out is self else out  # a new tensor, as PyTorch's

    @torch_names
    def movedim(self, source: int | Sequence[int], destination: int | Sequence[int]) -> Tensor:
        """The axes ``source`` moved to ``destination``, the others in their order (a
        permutation), as ``torch.movedim``."""
        def each(axes: int | Sequence[int]) -> list[int]:  # in order, not sorted
            return [normalize_axis(a, self.ndim)[0]
                    for a in ((axes,) if isinstance(axes, int) else axes)]

        if self.ndim == 0 and all(a in (0, -1) for a in (
                *((source,) if isinstance(source, int) else source),
                *((destination,) if isinstance(destination, int) else destination))):
            return self.permute(())  # a 0-D tensor's one "axis", as PyTorch
        src, dst = each(source), each(destination)
        if len(src) != len(dst) or len(set(src)) != len(src) or len(set(dst)) != len(dst):
            raise ValueError(f"movedim: source {source} and destination {destination} must "
                             "be distinct axes, as many of each")
        order = [a for a in range(self.ndim) if a not in src]
        for d, s in sorted(zip(dst, src)):
            order.insert(d, s)
        return self.permute(order)

    moveaxis = movedim

    @torch_names
    def unflatten(self, axis: int, sizes: Sequence[int]) -> Tensor:
        """Axis ``axis`` split into ``sizes`` (one may be -1), as ``torch.unflatten``."""
        (a,) = normalize_axis(axis, self.ndim)
        return self.reshape(*self.shape[:a], *sizes, *self.shape[a + 1:])

    @torch_names
    def select(self, axis: int, index: int) -> Tensor:
        """The slice at ``index`` along ``axis``, that axis removed (``x[:, index]`` for axis
        1), as ``torch.select``."""
        if self.ndim == 0:
            raise ValueError("select: a 0-d tensor has no axis to select from")
        (a,) = normalize_axis(axis, self.ndim)
        return self[(slice(None),) * a + (index,)]

    @property
    def mT(self) -> Tensor:  # noqa: N802 (PyTorch's name)
        """The last two axes swapped (a batch of matrices transposed)."""
        return self.swapaxes(-2, -1)

    @dense_factory
    def new_tensor(self, data: Any, dtype: DTypeLike = None, requires_grad: bool = False, *,
                   device: Any = None) -> Tensor:
        """A new tensor of ``data`` (copied) on this device (unless ``device``), of this dtype
        unless ``dtype``."""
        return tensor(data, dtype=dtype if dtype is not None else self.dtype,
                      device=self.device if device is None else device,
                      requires_grad=requires_grad)

    @dense_factory
    @torch_names(size="size")
    def new_empty(self, *size: Any, dtype: DTypeLike = None, requires_grad: bool = False,
                  device: Any = None) -> Tensor:
        """As ``new_zeros`` (the memory is zero-filled, as ``tr.empty``)."""
        return self.new_full(_sizes(size), 0, dtype, requires_grad, device=device)

    def nelement(self) -> int:
        return self.numel()

    def element_size(self) -> int:
        """Bytes per element."""
        return self.dtype.itemsize

    def is_floating_point(self) -> bool:
        """Whether the dtype is a floating-point one (float16, float32, float64)."""
        return self.dtype.kind == "f"

    def is_complex(self) -> bool:
        """Whether the dtype is a complex one (complex64, complex128)."""
        return self.dtype.kind == "c"

    # ---- complex numbers (ops/complex.py) -------------------------------------------------
    @property
    def real(self) -> Tensor:
        """The real part (this tensor itself when it is real), as ``torch.Tensor.real``."""
        return _complex_ops.real(self)

    @property
    def imag(self) -> Tensor:
        """The imaginary part of a complex tensor, as ``torch.Tensor.imag``."""
        return _complex_ops.imag(self)

    def conj(self) -> Tensor:
        """The complex conjugate (this tensor itself when it is real)."""
        return _complex_ops.conj(self)

    def conj_physical(self) -> Tensor:
        """The complex conjugate, a new tensor (not a view), as ``torch.Tensor.conj_physical``."""
        return _complex_ops.conj_physical(self)

    def conj_physical_(self) -> Tensor:
        """The complex conjugate, in place (``_overwrite``'s rules); a real tensor stays."""
        return self._overwrite("conj_physical_", lambda old: _complex_ops.conj(old))

    def resolve_conj(self) -> Tensor:
        """A conjugate view (``is_conj``) as a tensor of its own, as PyTorch's; any other
        tensor itself."""
        return self.clone() if self.is_conj() else self

    def is_conj(self) -> bool:
        """Whether this is ``conj()`` of a complex tensor, a view (PyTorch's lazy conjugate
        bit; the values here are computed at once): the conjugate of a conjugate is not."""
        odd, t = False, self
        while t._base is not None and t._base.kind == "conj":
            odd, t = not odd, t._base.base
        return odd

    def resolve_neg(self) -> Tensor:
        """This tensor (negations are computed at once here, never lazy)."""
        return self

    def is_neg(self) -> bool:
        """False: negations are computed at once here (PyTorch may set a lazy flag on the
        imaginary part of a lazy conjugate)."""
        return False

    def angle(self) -> Tensor:
        """The angle of each element in radians, as ``torch.Tensor.angle``."""
        return _complex_ops.angle(self)

    def stft(self, n_fft: int, hop_length: int | None = None, win_length: int | None = None,
             window: Tensor | None = None, center: bool = True, pad_mode: str = "reflect",
             normalized: bool = False, onesided: bool | None = None,
             return_complex: bool | None = None) -> Tensor:
        """The short-time Fourier transform, as ``torch.Tensor.stft`` (``tr.stft``)."""
        from .fft import stft

        return stft(self, n_fft, hop_length, win_length, window, center, pad_mode, normalized,
                    onesided, return_complex)

    def istft(self, n_fft: int, hop_length: int | None = None, win_length: int | None = None,
              window: Tensor | None = None, center: bool = True, normalized: bool = False,
              onesided: bool | None = None, length: int | None = None,
              return_complex: bool = False) -> Tensor:
        """The inverse short-time Fourier transform, as ``torch.Tensor.istft``."""
        from .fft import istft

        return istft(self, n_fft, hop_length, win_length, window, center, normalized,
                     onesided, length, return_complex)

    def is_contiguous(self, memory_format: memory_format = contiguous_format) -> bool:
        """Whether the array is laid out in C order without gaps (every op takes any
        layout; ``contiguous()`` returns the tensor itself), or, with ``tr.channels_last``
        (``_3d``), in that order: the strides of each axis longer than 1 are those of the
        axes stored channels last."""
        if memory_format is preserve_format:
            raise ValueError("is_contiguous: preserve memory format is unsupported by the "
                             "contiguous operator (as in PyTorch)")
        rank = {channels_last: 4, channels_last_3d: 5}.get(memory_format)
        if rank is not None and self.ndim != rank:
            return False  # (PyTorch's answer, where it raises for contiguous() itself)
        order = _memory_order("is_contiguous", memory_format, self.ndim)
        if order is None:
            return bool(self._data.flags.c_contiguous)
        want, step = [0] * self.ndim, 1
        for axis in reversed(order):
            want[axis], step = step, step * self.shape[axis]
        return all(s == w for s, w, n in zip(self.stride(), want, self.shape) if n > 1)

    @property
    def layout(self) -> layout:
        """``tr.strided``, as PyTorch's dense tensors' (sparse ones: ``tr.sparse_coo``)."""
        return strided

    def stride(self, axis: int | None = None) -> tuple[int, ...] | int:
        """Steps between neighbours along each axis, in elements, as PyTorch's ``stride``."""
        steps = tuple(s // self.dtype.itemsize for s in self._data.strides)
        return steps if axis is None else steps[normalize_axis(axis, self.ndim)[0]]

    # ---- more of PyTorch's ops, for ported programs ------------------------------------------
    @torch_names(tensor="other")
    def dot(self, other: Tensor) -> Tensor:
        """The inner product of two 1-D tensors of one length (a 0-d tensor), as
        ``torch.dot``."""
        if not isinstance(other, Tensor) or self.ndim != 1 or other.ndim != 1 or \
                self.shape != other.shape:
            raise ValueError(f"dot: two 1-D tensors of one length, got shapes {self.shape} and "
                             f"{getattr(other, 'shape', type(other).__name__)}")
        return matmul(self, other)

    def diagonal(self, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
        """The ``offset``-th diagonal of the matrices in axes ``dim1`` and ``dim2`` (above the
        main one for offset > 0, below for < 0), as a new last axis, the other axes kept in
        order, as ``torch.diagonal``: a view, so a write into it reaches this tensor
        (``_overwrite``). One gather; the gradient goes back to the diagonal."""
        from .ops.movement import diagonal

        return diagonal(self, offset, dim1, dim2)

    # ---- linear algebra: tr.linalg's functions as methods, as PyTorch's ----------------------
    def inverse(self) -> Tensor:
        """A⁻¹ (``tr.linalg.inv``)."""
        from . import linalg

        return linalg.inv(self)

    def det(self) -> Tensor:
        """det A (``tr.linalg.det``)."""
        from . import linalg

        return linalg.det(self)

    def logdet(self) -> Tensor:
        """log det A: NaN where det A < 0 (``tr.linalg.logdet``)."""
        from . import linalg

        return linalg.logdet(self)

    def slogdet(self) -> Any:
        """(sign, logabsdet) (``tr.linalg.slogdet``)."""
        from . import linalg

        return linalg.slogdet(self)

    def cholesky(self, upper: bool = False) -> Tensor:
        """The Cholesky factor, lower (upper with ``upper``) (``tr.linalg.cholesky``)."""
        from . import linalg

        return linalg.cholesky(self, upper=upper)

    def svd(self, some: bool = True, compute_uv: bool = True) -> Any:
        """(U, S, V) with A = U diag(S) Vᵀ, as ``torch.svd``: V, not Vh (``tr.linalg.svd``
        gives Vh); reduced unless ``some=False``. With ``compute_uv=False``, U and V are zeros
        of shapes (..., m, m) and (..., n, n), and S its gradient (``svdvals``'s), as
        PyTorch's."""
        from . import linalg

        if not compute_uv:
            s = linalg.svdvals(self)
            xp, (m, n) = self._dev.xp, self.shape[-2:]
            zeros = [Tensor._wrap(xp.zeros((*self.shape[:-2], k, k), dtype=self.dtype),
                                  self._dev) for k in (m, n)]
            return linalg.SVDVResult(zeros[0], s, zeros[1])
        u, s, vh = linalg.svd(self, full_matrices=not some)
        return linalg.SVDVResult(u, s, vh.mT)

    def pinverse(self, rcond: float = 1e-15) -> Tensor:
        """A⁺, as ``torch.pinverse``: ``tr.linalg.pinv`` with rtol = ``rcond``."""
        from . import linalg

        return linalg.pinv(self, rtol=rcond)

    def matrix_exp(self) -> Tensor:
        """exp(A) of a square matrix (``tr.linalg.matrix_exp``)."""
        from . import linalg

        return linalg.matrix_exp(self)

    def matrix_power(self, n: int) -> Tensor:
        """A^n for an integer n (``tr.linalg.matrix_power``)."""
        from . import linalg

        return linalg.matrix_power(self, n)

    @torch_names(vec2="other")
    def outer(self, other: Tensor) -> Tensor:
        """The outer product of two 1-D tensors, ``self[i] * other[j]``."""
        if self.ndim != 1 or getattr(other, "ndim", None) != 1:
            raise ValueError(f"outer: two 1-D tensors, got shapes {self.shape} and "
                             f"{getattr(other, 'shape', type(other).__name__)}")
        return self.reshape(-1, 1) * other.reshape(1, -1)

    def cross(self, other: Tensor, dim: int | None = None) -> Tensor:
        """The cross product along ``dim`` (size 3), as ``torch.cross``: without ``dim``, the
        first axis of size 3 (``tr.linalg.cross`` takes the last)."""
        from . import linalg

        if dim is None:
            dim = next((a for a, n in enumerate(self.shape) if n == 3), -1)
        return linalg.cross(self, other, dim=dim)

    def diag(self, diagonal: int = 0) -> Tensor:
        """``tr.diag``: a 1-D tensor becomes the square matrix with it on its ``diagonal``-th
        diagonal (zeros elsewhere); a 2-D tensor gives its ``diagonal``-th diagonal (a copy,
        as PyTorch's)."""
        from .ops.movement import diag

        return diag(self, diagonal)

    @torch_names
    def cumprod(self, axis: int, *, dtype: DTypeLike = None) -> Tensor:
        """The running product along ``axis``, as ``torch.cumprod`` (``Cumprod``; bool and
        integer tensors give int64; ``dtype`` casts first)."""
        from .ops.reduce import cumprod

        return cumprod(self, axis, dtype=dtype)

    @torch_names
    def median(self, axis: int | None = None, keepdims: bool = False) -> Any:
        """The lower median: of all the elements (a 0-d tensor), or along ``axis`` the pair
        ``(values, indices)``, as ``torch.median`` (see ``tr.median``)."""
        from .ops.reduce import median

        return median(self, axis, keepdims)

    def unique(self, sorted: bool = True, return_inverse: bool = False,  # noqa: A002
               return_counts: bool = False, dim: int | None = None) -> Any:
        """The distinct elements (or slices along ``dim``), in ascending order, as
        ``torch.unique`` (see ``tr.unique``); never differentiable."""
        from .ops.movement import unique

        return unique(self, sorted, return_inverse, return_counts, dim)

    def bincount(self, weights: Tensor | None = None, minlength: int = 0) -> Tensor:
        """How often each value 0, 1, ... occurs in this 1-D tensor of integers >= 0 (or the
        sum of ``weights`` at its places), as ``torch.bincount`` (see ``tr.bincount``)."""
        from .ops.movement import bincount

        return bincount(self, weights, minlength)

    @torch_names
    def index_add(self, axis: int, index: Tensor, source: Tensor, *, alpha: Any = 1) -> Tensor:
        """This tensor with ``alpha * source`` added at the positions ``index`` along
        ``axis``, as ``torch.index_add`` (out of place; see ``tr.index_add``)."""
        from .ops.movement import index_add

        return index_add(self, axis, index, source, alpha=alpha)

    @torch_names
    def index_add_(self, axis: int, index: Tensor, source: Tensor, *, alpha: Any = 1
                   ) -> Tensor:
        """``index_add``, in place (``_overwrite``'s rules)."""
        return self._overwrite("index_add_", lambda old: old.index_add(axis, index, source,
                                                                        alpha=alpha))

    @torch_names
    def index_fill(self, axis: int, index: Tensor, value: Any) -> Tensor:
        """This tensor with ``value`` at the positions ``index`` along ``axis``, as
        ``torch.index_fill`` (out of place; see ``tr.index_fill``)."""
        from .ops.movement import index_fill

        return index_fill(self, axis, index, value)

    @torch_names
    def index_fill_(self, axis: int, index: Tensor, value: Any) -> Tensor:
        """``index_fill``, in place (``_overwrite``'s rules)."""
        return self._overwrite("index_fill_", lambda old: old.index_fill(axis, index, value))

    def bernoulli(self, p: float | None = None, *, generator: Any = None) -> Tensor:
        """1 with probability ``p`` (or, without it, this tensor's values, probabilities),
        else 0, elementwise, in this dtype, as ``torch.bernoulli`` (see ``tr.bernoulli``)."""
        from .random import bernoulli

        return bernoulli(self, p, generator=generator)

    def bernoulli_(self, p: Any = 0.5, *, generator: Any = None) -> Tensor:
        """Each element drawn again, in place: 1 with probability ``p`` (a number, or a tensor
        that broadcasts to this one), else 0, as ``torch.Tensor.bernoulli_``; drawn from
        ``tr.manual_seed``'s generator (or ``generator``)."""
        from .random import _bernoulli_values

        return self._overwrite("bernoulli_", lambda old: Tensor._wrap(self._dev.to_device(
            _bernoulli_values("bernoulli_", self.shape, p, self.dtype, generator)), self._dev))

    def isclose(self, other: Any, rtol: float = 1e-5, atol: float = 1e-8,
                equal_nan: bool = False) -> Tensor:
        """Elementwise |self - other| <= atol + rtol |other| (bool; equal infinities are
        close, NaN only with ``equal_nan``), as ``torch.isclose``."""
        a, b = self._compared(other)
        return self._mask(self._dev.xp.isclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan))

    def log2(self) -> Tensor:
        """The base-2 logarithm (``Log2``: exact at powers of two)."""
        return Log2.apply(self._floating())

    def log10(self) -> Tensor:
        """The base-10 logarithm (``Log10``: exact at powers of ten)."""
        return Log10.apply(self._floating())

    def tan(self) -> Tensor:
        return Tan.apply(self._floating())

    def asin(self) -> Tensor:
        return Asin.apply(self._floating())

    def acos(self) -> Tensor:
        return Acos.apply(self._floating())

    def atan(self) -> Tensor:
        return Atan.apply(self._floating())

    def atan2(self, other: Any) -> Tensor:
        """The angle of the point (other, self), in [-π, π], as ``torch.atan2(self, other)``
        (``Atan2``; broadcast; float32 for integer tensors)."""
        return Atan2.apply(*self._pair_ordered(other, "atan2", divide=True))

    arcsin, arccos, arctan, arctan2 = asin, acos, atan, atan2  # PyTorch's (and NumPy's) aliases

    def remainder(self, other: Any) -> Tensor:
        """``self % other``: the sign of other's, as ``torch.remainder``."""
        return self % other

    def fmod(self, other: Any) -> Tensor:
        """self - trunc(self / other) other, the sign of self's (C's fmod), as ``torch.fmod``
        (``Fmod``; integers stay integers; an integer division by zero raises)."""
        return Fmod.apply(*self._pair_not_bool(other, "fmod"))

    def floor_divide(self, other: Any) -> Tensor:
        """``self // other``, rounded down, as ``torch.floor_divide``."""
        return self // other

    def true_divide(self, other: Any) -> Tensor:
        """``self / other`` (float for integers), as ``torch.true_divide``."""
        return self / other

    def addcmul(self, tensor1: Any, tensor2: Any, *, value: Any = 1) -> Tensor:
        """self + value · tensor1 · tensor2 (broadcast), as ``torch.addcmul``."""
        t1, t2 = self._lift(tensor1), self._lift(tensor2)
        dt = _common_dtype(self, t1, t2)  # all three in it first: t1 * t2 must not wrap
        if dt.kind == "b":
            raise DTypeError("addcmul: not defined for bool tensors (as in PyTorch)")
        if dt.kind in "iu" and isinstance(value, float):
            value = int(value)  # truncated, as PyTorch converts it to the result's dtype
            if not np.iinfo(dt).min <= value <= np.iinfo(dt).max:
                raise ValueError(f"addcmul: value {value!r} does not fit in {dt} (as PyTorch)")
        product = t1.to(dtype=dt) * t2.to(dtype=dt)
        return self + (product if value == 1 else product * value)

    def addcdiv(self, tensor1: Any, tensor2: Any, *, value: Any = 1) -> Tensor:
        """self + value · tensor1 / tensor2 (broadcast), as ``torch.addcdiv``; refused for
        integer tensor1 and tensor2, as PyTorch refuses (whose old integer division it was)."""
        t1, t2 = self._lift(tensor1), self._lift(tensor2)
        if t1.dtype.kind in "biu" and t2.dtype.kind in "biu":
            raise DTypeError(f"addcdiv: integer tensor1 and tensor2 ({t1.dtype}, {t2.dtype}) "
                             "are refused, as in PyTorch; for true division write "
                             "x + value * t1 / t2, for the old one x + value * (t1 / t2).trunc()")
        dt = _common_dtype(self, t1, t2)  # all three in it first, as PyTorch
        quotient = t1.to(dtype=dt) / t2.to(dtype=dt)
        return self + (quotient if value == 1 else quotient * value)

    def addcmul_(self, tensor1: Any, tensor2: Any, *, value: Any = 1) -> Tensor:
        return self._overwrite("addcmul_", lambda old: old.addcmul(tensor1, tensor2,
                                                                  value=value))

    def addcdiv_(self, tensor1: Any, tensor2: Any, *, value: Any = 1) -> Tensor:
        return self._overwrite("addcdiv_", lambda old: old.addcdiv(tensor1, tensor2,
                                                                  value=value))

    def logit(self, eps: float | None = None) -> Tensor:
        """log(z / (1 - z)), the inverse of sigmoid, with z = x, or with ``eps`` z = x clamped
        to [eps, 1 - eps], as ``torch.logit``: written as log(z) - log1p(-z), so its gradient
        is 1 / (z (1 - z)), and 0 where the clamp cut x off. Float32 for integer tensors."""
        z = self._floating()
        if eps is not None:
            if not 0 <= eps <= 0.5:
                raise ValueError(f"logit: eps must lie in [0, 0.5], got {eps!r}")
            # masked, not clipped: a NaN x keeps its NaN gradient, as PyTorch's
            z = z.masked_fill(z < eps, eps).masked_fill(z > 1 - eps, 1 - eps)
        return Logit.apply(z)  # -inf at 0, inf at 1, NaN outside, as PyTorch, no warning

    def log2_(self) -> Tensor:
        return self._overwrite("log2_", Tensor.log2)

    def log10_(self) -> Tensor:
        return self._overwrite("log10_", Tensor.log10)

    def tan_(self) -> Tensor:
        return self._overwrite("tan_", Tensor.tan)

    def asin_(self) -> Tensor:
        return self._overwrite("asin_", Tensor.asin)

    def acos_(self) -> Tensor:
        return self._overwrite("acos_", Tensor.acos)

    def atan_(self) -> Tensor:
        return self._overwrite("atan_", Tensor.atan)

    def logit_(self, eps: float | None = None) -> Tensor:
        return self._overwrite("logit_", lambda old: old.logit(eps))

    # ---- quantiles, running log-sum-exp, clamps, NaN handling, scatters, random fills -----
    @torch_names
    def quantile(self, q: Any, axis: int | None = None, keepdims: bool = False, *,
                 interpolation: str = "linear") -> Tensor:
        """The ``q``-th quantiles, as ``torch.quantile`` (see ``tr.quantile``)."""
        return quantile(self, q, axis, keepdims, interpolation=interpolation)

    @torch_names
    def nanquantile(self, q: Any, axis: int | None = None, keepdims: bool = False, *,
                    interpolation: str = "linear") -> Tensor:
        """The ``q``-th quantiles of the elements that are not NaN, as
        ``torch.nanquantile``."""
        return nanquantile(self, q, axis, keepdims, interpolation=interpolation)

    @torch_names
    def logcumsumexp(self, axis: int) -> Tensor:
        """log Σ_{j <= i} exp(x_j) along ``axis``, stable (see ``tr.logcumsumexp``)."""
        return logcumsumexp(self, axis)

    @torch_names
    def count_nonzero(self, axis: int | Sequence[int] | None = None) -> Tensor:
        """The number of nonzero elements over ``axis`` (all by default), int64."""
        return count_nonzero(self, axis)

    def clamp_min(self, min: Any) -> Tensor:  # noqa: A002
        """``clamp(min=min)``, as PyTorch's ``clamp_min`` (a number or a tensor bound)."""
        return self.clip(min=min)

    def clamp_max(self, max: Any) -> Tensor:  # noqa: A002
        """``clamp(max=max)``, as PyTorch's ``clamp_max``."""
        return self.clip(max=max)

    def clamp_min_(self, min: Any) -> Tensor:  # noqa: A002
        return self.clip_(min=min)

    def clamp_max_(self, max: Any) -> Tensor:  # noqa: A002
        return self.clip_(max=max)

    def nan_to_num(self, nan: float = 0.0, posinf: float | None = None,
                   neginf: float | None = None) -> Tensor:
        """NaN, inf and -inf replaced by numbers, as ``torch.nan_to_num`` (``tr.nan_to_num``):
        the gradient passes where this tensor is finite."""
        return nan_to_num(self, nan, posinf, neginf)

    def nan_to_num_(self, nan: float = 0.0, posinf: float | None = None,
                    neginf: float | None = None) -> Tensor:
        return self._overwrite("nan_to_num_", lambda old: nan_to_num(old, nan, posinf, neginf))

    def logaddexp(self, other: Any) -> Tensor:
        """log(exp(self) + exp(other)), stable, as ``torch.logaddexp``."""
        return logaddexp(self, other)

    def logaddexp2(self, other: Any) -> Tensor:
        """log2(2^self + 2^other), stable, as ``torch.logaddexp2``."""
        return logaddexp2(self, other)

    def erfc(self) -> Tensor:
        """1 - erf(x), exact in the tail (``tr.erfc``)."""
        return erfc(self)

    def erfc_(self) -> Tensor:
        return self._overwrite("erfc_", Tensor.erfc)

    def erfinv(self) -> Tensor:
        """The inverse of erf on (-1, 1) (``tr.erfinv``)."""
        return erfinv(self)

    def erfinv_(self) -> Tensor:
        return self._overwrite("erfinv_", Tensor.erfinv)

    def digamma(self) -> Tensor:
        """ψ(x), the derivative of log Γ(x) (``tr.digamma``)."""
        return digamma(self)

    def digamma_(self) -> Tensor:
        return self._overwrite("digamma_", Tensor.digamma)

    def lgamma(self) -> Tensor:
        """log |Γ(x)| (``tr.lgamma``)."""
        return lgamma(self)

    def mvlgamma(self, p: int) -> Tensor:
        """The log of the multivariate gamma function of dimension ``p`` (``tr.mvlgamma``)."""
        from .special import multigammaln

        return multigammaln(self, p)

    def lgamma_(self) -> Tensor:
        return self._overwrite("lgamma_", Tensor.lgamma)

    def equal(self, other: Tensor) -> bool:
        """Whether ``other`` has this shape and equal elements, as ``torch.equal``."""
        if not isinstance(other, Tensor):
            raise TypeError(f"equal: other must be a Tensor, got {type(other).__name__}")
        return self.shape == other.shape and bool((self == other).all())

    @torch_names(dims="dims")
    def tile(self, *dims: Any) -> Tensor:
        """This tensor repeated ``dims[i]`` times along each axis, as ``torch.tile``."""
        from .ops.movement import tile

        return tile(self, _sizes(dims))

    @torch_names
    def diff(self, n: int = 1, axis: int = -1, prepend: Tensor | None = None,
             append: Tensor | None = None) -> Tensor:
        """The ``n``-th forward difference along ``axis``, as ``torch.diff``."""
        from .ops.movement import diff

        return diff(self, n, axis, prepend, append)

    @torch_names
    def take_along_dim(self, indices: Tensor, axis: int | None = None) -> Tensor:
        """The elements at ``indices`` along ``axis``, as ``torch.take_along_dim``."""
        from .ops.movement import take_along_dim

        return take_along_dim(self, indices, axis)

    def masked_scatter(self, mask: Tensor, source: Tensor) -> Tensor:
        """The elements where ``mask`` is True replaced by source's, in order, as
        ``torch.masked_scatter`` (see ``tr.masked_scatter``)."""
        from .ops.movement import masked_scatter

        return masked_scatter(self, mask, source)

    def masked_scatter_(self, mask: Tensor, source: Tensor) -> Tensor:
        """``masked_scatter``, in place: the mask must broadcast to this tensor's shape."""
        if isinstance(mask, Tensor) and np.broadcast_shapes(mask.shape, self.shape) != \
                self.shape:
            raise ValueError(f"masked_scatter_: a mask of shape {mask.shape} does not "
                             f"broadcast to this tensor's shape {self.shape}")
        return self._overwrite("masked_scatter_", lambda old: old.masked_scatter(mask, source))

    def index_put(self, indices: Sequence[Any], values: Any, accumulate: bool = False
                  ) -> Tensor:
        """``values`` put (or, with ``accumulate``, added) at ``x[indices]``, out of place,
        as ``torch.index_put`` (see ``tr.index_put``)."""
        from .ops.movement import index_put

        return index_put(self, indices, values, accumulate)

    def index_put_(self, indices: Sequence[Any], values: Any, accumulate: bool = False
                   ) -> Tensor:
        """``index_put``, in place (``_overwrite``'s rules)."""
        return self._overwrite("index_put_", lambda old: old.index_put(indices, values,
                                                                      accumulate))

    @torch_names
    def scatter_reduce(self, axis: int, index: Tensor, src: Tensor, reduce: str, *,
                       include_self: bool = True) -> Tensor:
        """src reduced into this tensor along ``axis`` at ``index``, as
        ``torch.scatter_reduce`` (see ``tr.scatter_reduce``)."""
        from .ops.movement import scatter_reduce

        return scatter_reduce(self, axis, index, src, reduce, include_self=include_self)

    @torch_names
    def scatter_reduce_(self, axis: int, index: Tensor, src: Tensor, reduce: str, *,
                        include_self: bool = True) -> Tensor:
        """``scatter_reduce``, in place."""
        return self._overwrite("scatter_reduce_", lambda old: old.scatter_reduce(
            axis, index, src, reduce, include_self=include_self))

    def fill_diagonal_(self, fill_value: Any, wrap: bool = False) -> Tensor:
        """The main diagonal set to ``fill_value``, in place, as PyTorch's: the elements
        x[i, i, ..., i] (every dim of one length beyond 2-D). A 2-D tensor of n rows and m
        columns with n > m + 1 and ``wrap`` starts again below it: every (m + 1)-th element
        in row-major order. A ``masked_fill`` (``_overwrite``'s rules), so the gradient
        is 0 on the diagonal."""
        if self.ndim < 2:
            raise ValueError(f"fill_diagonal_: the tensor needs at least 2 dims, got shape "
                             f"{self.shape}")
        if self.ndim > 2 and len(set(self.shape)) != 1:
            raise ValueError(f"fill_diagonal_: beyond 2-D, all dims must have one length, got "
                             f"shape {self.shape}")
        if not isinstance(wrap, (bool, np.bool_)):
            raise TypeError(f"fill_diagonal_: wrap must be a bool, got {wrap!r}")
        n, m = self.shape[:2]
        step = sum(math.prod(self.shape[i + 1:]) for i in range(self.ndim))  # C order
        count = min(n, m)
        if wrap and self.ndim == 2 and n > m + 1:
            count = -(-self.size // step)
        flat = np.zeros(self.size, dtype=bool)
        flat[np.arange(count) * step] = True
        mask = Tensor._wrap(self._dev.to_device(flat.reshape(self.shape)), self._dev)
        return self._overwrite("fill_diagonal_", lambda old: old.masked_fill(mask, fill_value))

    def multinomial(self, num_samples: int, replacement: bool = False, *,
                    generator: Any = None) -> Tensor:
        """Class indices drawn with these weights, as ``torch.multinomial``
        (``tr.multinomial``)."""
        from .random import multinomial

        return multinomial(self, num_samples, replacement, generator=generator)

    def _draw_(self, what: str, draw: Callable[[Any], np.ndarray], floating: bool = True
               ) -> Tensor:
        """This tensor's values replaced, in place, by ``draw(rng)`` (a host array of its
        shape), from ``tr.manual_seed``'s generator or the one given."""
        if floating and self.dtype.kind != "f":
            raise DTypeError(f"{what}: fills floating-point tensors, not {self.dtype}")
        return self._overwrite(what, lambda old: Tensor._wrap(self._dev.to_device(
            np.asarray(draw(old)).astype(self.dtype)), self._dev))

    def exponential_(self, lambd: float = 1.0, *, generator: Any = None) -> Tensor:
        """Values drawn from the exponential distribution of rate ``lambd`` (density λ
        exp(-λx)), in place, as PyTorch's."""
        from .random import rng_of

        if not lambd > 0:
            raise ValueError(f"exponential_: lambd must be > 0, got {lambd!r}")
        rng = rng_of(generator, "exponential_")
        return self._draw_("exponential_", lambda old: rng.exponential(1 / lambd, self.shape))

    def geometric_(self, p: float, *, generator: Any = None) -> Tensor:
        """Values drawn from the geometric distribution: k >= 1 with probability (1 - p)^(k-1)
        p (the number of trials to the first success), in place, as PyTorch's."""
        from .random import rng_of

        if not 0 < p < 1:
            raise ValueError(f"geometric_: p must lie in (0, 1), got {p!r}")
        rng = rng_of(generator, "geometric_")
        return self._draw_("geometric_", lambda old: rng.geometric(p, self.shape),
                           floating=False)

    def log_normal_(self, mean: float = 1.0, std: float = 2.0, *, generator: Any = None
                    ) -> Tensor:
        """Values exp(z), z drawn from N(mean, std²), in place, as PyTorch's."""
        from .random import rng_of

        if not std > 0:
            raise ValueError(f"log_normal_: std must be > 0, got {std!r}")
        rng = rng_of(generator, "log_normal_")
        return self._draw_("log_normal_", lambda old: np.exp(rng.normal(mean, std,
                                                                        self.shape)))

    def new(self, *data: Any) -> Tensor:
        """``Tensor(*data)`` of this dtype, on this device: sizes give a zero-filled tensor
        (PyTorch's is uninitialised), a sequence or array its values, nothing an empty one,
        as PyTorch's legacy ``x.new(...)``."""
        return Tensor(*data, dtype=self.dtype, device=self.device)

    # ---- statistics, running extremes, special functions, bits: more of PyTorch's methods --
    def cov(self, *, correction: int = 1, fweights: Tensor | None = None,
            aweights: Tensor | None = None) -> Tensor:
        """The covariance matrix of the variables in the rows (observations in the
        columns), as ``torch.cov`` (see ``tr.cov``)."""
        from .ops.reduce import cov

        return cov(self, correction=correction, fweights=fweights, aweights=aweights)

    def corrcoef(self) -> Tensor:
        """Pearson's correlation coefficients of the rows, as ``torch.corrcoef``."""
        from .ops.reduce import corrcoef

        return corrcoef(self)

    def kron(self, other: Tensor) -> Tensor:
        """The Kronecker product with ``other``, as ``torch.kron`` (see ``tr.kron``)."""
        from .ops.movement import kron

        return kron(self, other)

    def diag_embed(self, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
        """The last axis laid on a diagonal of new matrices, as ``torch.diag_embed``."""
        from .ops.movement import diag_embed

        return diag_embed(self, offset, dim1, dim2)

    def diagflat(self, offset: int = 0) -> Tensor:
        """The matrix with the flattened tensor on a diagonal, as ``torch.diagflat``."""
        from .ops.movement import diagflat

        return diagflat(self, offset)

    @torch_names
    def cummax(self, axis: int) -> ValuesIndices:
        """``(values, indices)`` of the running maximum along ``axis``, as
        ``torch.cummax`` (see ``tr.cummax``)."""
        from .ops.reduce import cummax

        return cummax(self, axis)

    @torch_names
    def cummin(self, axis: int) -> ValuesIndices:
        """``(values, indices)`` of the running minimum along ``axis``, as
        ``torch.cummin``."""
        from .ops.reduce import cummin

        return cummin(self, axis)

    @torch_names
    def kthvalue(self, k: int, axis: int = -1, keepdims: bool = False) -> ValuesIndices:
        """``(values, indices)`` of the k-th smallest element along ``axis``, as
        ``torch.kthvalue`` (see ``tr.kthvalue``)."""
        from .ops.reduce import kthvalue

        return kthvalue(self, k, axis, keepdims)

    @torch_names
    def mode(self, axis: int = -1, keepdims: bool = False) -> ValuesIndices:
        """``(values, indices)`` of the most frequent value along ``axis``, as
        ``torch.mode`` (see ``tr.mode``)."""
        from .ops.reduce import mode

        return mode(self, axis, keepdims)

    @torch_names
    def nanmedian(self, axis: int | None = None, keepdims: bool = False) -> Any:
        """The lower median of the elements that are not NaN, as ``torch.nanmedian`` (see
        ``tr.nanmedian``)."""
        from .ops.reduce import nanmedian

        return nanmedian(self, axis, keepdims)

    @torch_names
    def aminmax(self, *, axis: int | None = None, keepdims: bool = False) -> Any:
        """``(min, max)``, as ``torch.aminmax`` (see ``tr.aminmax``)."""
        from .ops.reduce import aminmax

        return aminmax(self, axis=axis, keepdims=keepdims)

    def hypot(self, other: Any) -> Tensor:
        """√(self² + other²), as ``torch.hypot`` (see ``tr.hypot``)."""
        from .ops.elementwise import hypot

        return hypot(self, other)

    def xlogy(self, other: Any) -> Tensor:
        """self · log(other), 0 where self is 0, as ``torch.xlogy`` (see ``tr.xlogy``)."""
        from .ops.elementwise import xlogy

        return xlogy(self, other)

    def sinc(self) -> Tensor:
        """sin(πx) / (πx), 1 at 0, as ``torch.sinc``."""
        from .ops.elementwise import sinc

        return sinc(self)

    def copysign(self, other: Any) -> Tensor:
        """|self| with the sign of ``other``, as ``torch.copysign``."""
        from .ops.elementwise import copysign

        return copysign(self, other)

    def heaviside(self, values: Tensor) -> Tensor:
        """The step function, ``values`` where self is 0, as ``torch.heaviside``."""
        from .ops.elementwise import heaviside

        return heaviside(self, values)

    def signbit(self) -> Tensor:
        """Whether the sign bit is set (bool), as ``torch.signbit``."""
        from .ops.elementwise import signbit

        return signbit(self)

    def i0(self) -> Tensor:
        """The modified Bessel function I0, as ``torch.i0`` (see ``tr.i0``)."""
        from .ops.elementwise import i0

        return i0(self)

    def rot90(self, k: int = 1, dims: Sequence[int] = (0, 1)) -> Tensor:
        """Rotated by k quarter turns in the plane of ``dims``, as ``torch.rot90``."""
        from .ops.movement import rot90

        return rot90(self, k, dims)

    def histc(self, bins: int = 100, min: float = 0, max: float = 0) -> Tensor:  # noqa: A002
        """The histogram of the elements in ``bins`` bins, as ``torch.histc`` (see
        ``tr.histc``)."""
        from .ops.reduce import histc

        return histc(self, bins, min, max)

    @torch_names
    def renorm(self, p: float, axis: int, maxnorm: float) -> Tensor:
        """The slices along ``axis`` of p-norm above ``maxnorm`` scaled down to it, as
        ``torch.renorm`` (see ``tr.renorm``)."""
        from .ops.reduce import renorm

        return renorm(self, p, axis, maxnorm)

    def gcd(self, other: Any) -> Tensor:
        """The greatest common divisor, as ``torch.gcd`` (integers)."""
        from .ops.elementwise import gcd

        return gcd(self, other)

    def lcm(self, other: Any) -> Tensor:
        """The least common multiple, as ``torch.lcm`` (integers)."""
        from .ops.elementwise import lcm

        return lcm(self, other)

    def bitwise_and(self, other: Any) -> Tensor:
        """``self & other``, as ``torch.bitwise_and`` (bool or integer tensors)."""
        return self._bitwise(other, "&")

    def bitwise_or(self, other: Any) -> Tensor:
        """``self | other``, as ``torch.bitwise_or``."""
        return self._bitwise(other, "|")

    def bitwise_xor(self, other: Any) -> Tensor:
        """``self ^ other``, as ``torch.bitwise_xor``."""
        return self._bitwise(other, "^")

    def bitwise_not(self) -> Tensor:
        """``~self``, as ``torch.bitwise_not``."""
        return ~self

    def bitwise_left_shift(self, other: Any) -> Tensor:
        """``self << other``, as ``torch.bitwise_left_shift`` (see ``tr.bitwise_left_shift``:
        integer tensors; a shift past the width gives 0)."""
        from .ops.elementwise import bitwise_shift

        return bitwise_shift(self, other, True)

    def bitwise_right_shift(self, other: Any) -> Tensor:
        """``self >> other`` (arithmetic), as ``torch.bitwise_right_shift``."""
        from .ops.elementwise import bitwise_shift

        return bitwise_shift(self, other, False)

    def __lshift__(self, other: Any) -> Tensor:
        return self.bitwise_left_shift(other)

    def __rlshift__(self, other: Any) -> Tensor:
        from .ops.elementwise import bitwise_shift

        return bitwise_shift(other, self, True)

    def __rshift__(self, other: Any) -> Tensor:
        return self.bitwise_right_shift(other)

    def __rrshift__(self, other: Any) -> Tensor:
        from .ops.elementwise import bitwise_shift

        return bitwise_shift(other, self, False)

    def __ilshift__(self, other: Any) -> Tensor:
        return self._in_place_op(other, "<<", Tensor.bitwise_left_shift)

    def __irshift__(self, other: Any) -> Tensor:
        return self._in_place_op(other, ">>", Tensor.bitwise_right_shift)

    def frexp(self) -> Any:
        """``(mantissa, exponent)`` with self = mantissa · 2^exponent, as ``torch.frexp``
        (see ``tr.frexp``)."""
        from .ops.elementwise import frexp

        return frexp(self)

    def ldexp(self, other: Any) -> Tensor:
        """self · 2^other, as ``torch.ldexp`` (see ``tr.ldexp``)."""
        from .ops.elementwise import ldexp

        return ldexp(self, other)

    # their in-place twins, where PyTorch has one (``_overwrite``'s rules)
    def hypot_(self, other: Any) -> Tensor:
        return self._overwrite("hypot_", lambda old: old.hypot(other))

    def xlogy_(self, other: Any) -> Tensor:
        return self._overwrite("xlogy_", lambda old: old.xlogy(other))

    def sinc_(self) -> Tensor:
        return self._overwrite("sinc_", Tensor.sinc)

    def copysign_(self, other: Any) -> Tensor:
        return self._overwrite("copysign_", lambda old: old.copysign(other))

    def heaviside_(self, values: Tensor) -> Tensor:
        return self._overwrite("heaviside_", lambda old: old.heaviside(values))

    def i0_(self) -> Tensor:
        return self._overwrite("i0_", Tensor.i0)

    @torch_names
    def renorm_(self, p: float, axis: int, maxnorm: float) -> Tensor:
        return self._overwrite("renorm_", lambda old: old.renorm(p, axis, maxnorm))

    def gcd_(self, other: Any) -> Tensor:
        return self._overwrite("gcd_", lambda old: old.gcd(other))

    def lcm_(self, other: Any) -> Tensor:
        return self._overwrite("lcm_", lambda old: old.lcm(other))

    def bitwise_and_(self, other: Any) -> Tensor:
        return self._overwrite("bitwise_and_", lambda old: old.bitwise_and(other))

    def bitwise_or_(self, other: Any) -> Tensor:
        return self._overwrite("bitwise_or_", lambda old: old.bitwise_or(other))

    def bitwise_xor_(self, other: Any) -> Tensor:
        return self._overwrite("bitwise_xor_", lambda old: old.bitwise_xor(other))

    def bitwise_not_(self) -> Tensor:
        return self._overwrite("bitwise_not_", Tensor.bitwise_not)

    def bitwise_left_shift_(self, other: Any) -> Tensor:
        return self._overwrite("bitwise_left_shift_",
                               lambda old: old.bitwise_left_shift(other))

    def bitwise_right_shift_(self, other: Any) -> Tensor:
        return self._overwrite("bitwise_right_shift_",
                               lambda old: old.bitwise_right_shift(other))

    def ldexp_(self, other: Any) -> Tensor:
        return self._overwrite("ldexp_", lambda old: old.ldexp(other))

    @torch_names
    def unsqueeze_(self, axis: int) -> Tensor:
        """``unsqueeze``, in place: this tensor gets an axis of size 1 at ``axis`` (see
        ``_reshape_``)."""
        nd = self.ndim + 1
        if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)) or \
                not -nd <= axis < nd:
            raise ValueError(f"unsqueeze_: axis {axis!r} out of range for a result with {nd} "
                             "axes")
        a = int(axis) % nd
        return self._reshape_("unsqueeze_", self.shape[:a] + (1,) + self.shape[a:])

    @torch_names
    def squeeze_(self, axis: int | Sequence[int] | None = None) -> Tensor:
        """``squeeze``, in place: this tensor loses its axes of size 1 (all, or those in
        ``axis``; see ``_reshape_``)."""
        axes = normalize_axis(axis, self.ndim)
        return self._reshape_("squeeze_", tuple(n for i, n in enumerate(self.shape)
                                                if i not in axes or n != 1))

    def _reshape_(self, what: str, shape: tuple[int, ...],
                  perm: tuple[int, ...] | None = None) -> Tensor:
        """This tensor takes ``shape`` (of as many elements), in place, as PyTorch's
        ``unsqueeze_`` and ``squeeze_``: recorded while autograd records (the tensor becomes
        the result of a reshape of what it was, so the gradient reaches back), refused there
        on a leaf that requires grad and on a view of one, as in PyTorch.

        Where the tensor is a view, or views were taken from it, its old self stays behind,
        unseen, in the chain of views: it stays the view of its base and the base of those
        views, and this tensor becomes a reshape of it. So writes still pass both ways, as
        in PyTorch, whose views share the storage. With ``perm``, the axes are permuted
        instead (``transpose_``, ``t_``; ``shape`` is then the permuted one)."""
        self._refresh()
        recording = autograd._GradMode.enabled
        t = self
        while recording:  # a leaf that requires grad, or a view of one (not above a detach)
            if t.requires_grad and t._ctx is None:
                raise RuntimeError(
                    f"{what} on {'a leaf tensor' if t is self else 'a view of a leaf tensor'} "
                    "that requires grad cannot be recorded, as in PyTorch: write "
                    f"x = x.{what[:-1]}(...) instead, or do it under tr.no_grad()")
            if t._base is None or t._base.kind == "detach":
                break
            t = t._base.base
        data = self._data  # (a view whose base changed takes its values first)
        link = self._base
        views = _views_of(self) if getattr(self, "_views", None) or \
            getattr(self, "_dirty_views", None) else []
        if link is None and not views:
            if recording and self.requires_grad:
                new = Reshape.apply(self._history(), shape=shape) if perm is None else \
                    Transpose.apply(self._history(), axes=perm)
                self._ctx, self._out, self._data = new._ctx, new._out, new._data
            else:
                self._data = data.reshape(shape) if perm is None else data.transpose(perm)
            return self
        if type(self) not in (Tensor, _View):
            raise TypeError(f"{what} on a {type(self).__name__} that is a view or has views: "
                            f"write x = x.{what[:-1]}(...) instead")
        old = Tensor._wrap(data, self._dev, self.requires_grad)
        old._ctx, old._out = self._ctx, self._out
        if link is not None:  # the old self stays the view of the base
            old.__class__ = _View
            old._base = link
            _register(link.base, old)
        for v in views:  # and the base of the views taken from it
            v._base.base = old
            _register(old, v)
        self._views = self._dirty_views = self._base = None
        new = Reshape.apply(old, shape=shape) if perm is None else \
            Transpose.apply(old, axes=perm)
        self._data = new._data
        if new._ctx is not None:
            self._ctx, self._out = new._ctx, new._out
        if perm is None:
            _view(old, self, "reshape", shape)
        else:
            _view(old, self, "transpose", perm)
        return self

    # ---- the last of PyTorch's names: about the tensor itself ------------------------------
    def data_ptr(self) -> int:
        """The address of the tensor's first element, as PyTorch's: two tensors that start at
        one element (a parameter tied to another, a view from the start, ``detach()``) give
        one number; 0 for an empty tensor. Copy on write: an in-place op gives the tensor a
        new array, so its address changes, where PyTorch's stays (compare before and after
        no write). On the CPU and the GPU; a device whose arrays expose no address (the test
        device "strict") raises."""
        if self._data.size == 0:
            return 0
        return _address(self._data, self.device)

    def storage_offset(self) -> int:
        """How many elements into the memory it lives in this tensor starts, as PyTorch's:
        0 unless it is a view that starts later (``x[1:]``: 1; ``x[:, 2]`` of a contiguous
        x: 2). The memory is the array its array is a view of (NumPy's or CuPy's ``base``)."""
        a = self._data
        if a.size == 0:
            return 0
        root = a
        while isinstance(getattr(root, "base", None), self._dev.array_type):
            root = root.base
        return (_address(a, self.device) - _address(root, self.device)) // a.dtype.itemsize

    @property
    def is_cpu(self) -> bool:
        """Whether the tensor lives on the CPU (device ``"cpu"``), as PyTorch's."""
        return self._dev.name == "cpu"

    def get_device(self) -> int:
        """The GPU's index for a tensor on the GPU (0: there is one here), -1 elsewhere, as
        PyTorch's."""
        return 0 if self._dev.name == "cuda" else -1

    @property
    def retains_grad(self) -> bool:
        """Whether ``retain_grad()`` was called on this non-leaf tensor (False for a leaf,
        whose ``.grad`` is kept anyway), as PyTorch's."""
        ctx = self.grad_fn
        kept = ctx.retained if ctx is not None else None
        ref = kept.get(self._out) if kept else None
        return ref is not None and ref() is self

    def ndimension(self) -> int:
        """The number of axes (``ndim``), PyTorch's older name."""
        return self.ndim

    def is_inference(self) -> bool:
        """False: no tensor here is an inference tensor. ``tr.inference_mode`` is
        ``no_grad`` (``tr.is_inference_mode_enabled()`` says whether one is active), and
        marks none of the tensors made under it, where PyTorch's marks them (its
        ``x.is_inference()`` is then True)."""
        return False

    def is_shared(self) -> bool:
        """False: arrays here live in the process's own memory (a tensor pickled to another
        process, as ``torch.multiprocessing`` does, travels as a copy of its values);
        ``share_memory_`` changes nothing."""
        return False

    def share_memory_(self) -> Tensor:
        """This tensor, unchanged (``is_shared()`` stays False): there is no shared-memory
        storage here, so workers that receive a tensor get a copy of its values, and
        updates in one process do not reach another (Hogwild training does not work)."""
        return self

    def is_pinned(self) -> bool:
        """False: host memory is not pinned here (``pin_memory`` returns the tensor as it
        is; copies to the GPU are synchronous)."""
        return False

    # ---- reductions, distances, products ----------------------------------------------------
    @torch_names
    def nansum(self, axis: int | Sequence[int] | None = None, keepdims: bool = False, *,
               dtype: DTypeLike = None) -> Tensor:
        """Σ over ``axis`` of the elements that are not NaN, as ``torch.nansum``."""
        from .ops.reduce import nansum

        return nansum(self, axis, keepdims, dtype=dtype)

    @torch_names
    def nanmean(self, axis: int | Sequence[int] | None = None, keepdims: bool = False, *,
                dtype: DTypeLike = None) -> Tensor:
        """The mean over ``axis`` of the elements that are not NaN, as ``torch.nanmean``."""
        from .ops.reduce import nanmean

        return nanmean(self, axis, keepdims, dtype=dtype)

    def dist(self, other: Any, p: float = 2) -> Tensor:
        """The p-norm of ``self - other`` (broadcast), as ``torch.dist``: ``(self -
        other).norm(p)``, so p may be any number >= 0, inf or -inf, and the gradient at a
        distance of 0 is 0."""
        return (self - other).norm(p)

    def trace(self) -> Tensor:
        """The sum of the main diagonal of a 2-D tensor (a 0-d tensor; int64 for integer and
        bool ones), as ``torch.trace`` / ``x.trace()``. Only the method: ``tr.trace`` is this
        package's debug tracer (``debug.trace``), not this."""
        if self.ndim != 2:
            raise ValueError(f"trace: expected a matrix (2-D), got shape {self.shape}")
        return self.diagonal().sum()

    @torch_names(size="size")
    def sum_to_size(self, *size: Any) -> Tensor:
        """This tensor summed down to ``size``, which must broadcast to its shape, as
        PyTorch's (the sum of a broadcast gradient, ``backend.sum_to``)."""
        shape = _sizes(size)
        if not broadcasts_to(shape, self.shape):
            raise ValueError(f"sum_to_size: size {shape} is not expandable to this tensor's "
                             f"shape {self.shape}")
        return sum_to(self, shape)

    def mv(self, vec: Tensor) -> Tensor:
        """A matrix (n, k) times a vector (k,): a vector (n,), as ``torch.mv``."""
        if self.ndim != 2 or getattr(vec, "ndim", None) != 1 or self.shape[1] != vec.shape[0]:
            raise ValueError(f"mv: a matrix (n, k) and a vector (k,), got shapes {self.shape} "
                             f"and {getattr(vec, 'shape', type(vec).__name__)}")
        return self @ vec

    def _add_product(self, what: str, product: Tensor, beta: Any, alpha: Any) -> Tensor:
        """beta self + alpha product (beta = 0 ignores self, NaN included), self broadcast to
        the product's shape, as PyTorch's addmv and addr."""
        if not broadcasts_to(self.shape, product.shape):
            raise ValueError(f"{what}: input of shape {self.shape} does not broadcast to the "
                             f"product's shape {product.shape}")
        if alpha != 1:
            product = product * alpha
        return product if beta == 0 else (self * beta if beta != 1 else self) + product

    def addmv(self, mat: Tensor, vec: Tensor, *, beta: Any = 1, alpha: Any = 1) -> Tensor:
        """beta self + alpha (mat @ vec), as ``torch.addmv``."""
        return self._add_product("addmv", self._lift(mat).mv(vec), beta, alpha)

    def addr(self, vec1: Tensor, vec2: Tensor, *, beta: Any = 1, alpha: Any = 1) -> Tensor:
        """beta self + alpha outer(vec1, vec2), as ``torch.addr``."""
        return self._add_product("addr", self._lift(vec1).outer(vec2), beta, alpha)

    def inner(self, other: Tensor) -> Tensor:
        """Σ over the last axis of both, as ``torch.inner``: of shape self.shape[:-1] +
        other.shape[:-1] (the dot product of two vectors; a 0-d side multiplies)."""
        o = self._lift(other)
        if self.ndim == 0 or o.ndim == 0:
            return self * o
        if self.shape[-1] != o.shape[-1]:
            raise ValueError(f"inner: the last dims differ: shapes {self.shape} and {o.shape}")
        from .ops.linalg import tensordot

        return tensordot(self, o, ([-1], [-1]))

    def vdot(self, other: Tensor) -> Tensor:
        """Σ conj(self) · other for two 1-D tensors of one length and one dtype, as
        ``torch.vdot`` (the first side conjugated; for real tensors, ``dot``)."""
        if isinstance(other, Tensor) and other.dtype != self.dtype:
            raise DTypeError(f"vdot: the two tensors must have one dtype, got {self.dtype} and "
                             f"{other.dtype} (as in PyTorch)")
        return self.conj().dot(other)

    # ---- movement ---------------------------------------------------------------------------
    def ravel(self) -> Tensor:
        """The elements as one axis (a 0-d tensor gives one element), as ``torch.ravel``: a
        view where the layout allows, else a copy (``reshape(-1)``)."""
        return self.reshape(-1)

    def swapdims(self, dim0: int, dim1: int) -> Tensor:
        """``swapaxes``, PyTorch's other name."""
        return self.swapaxes(dim0, dim1)

    @torch_names(sections="indices_or_sections", indices="indices_or_sections",
                 tensor_indices_or_sections="indices_or_sections")
    def tensor_split(self, indices_or_sections: Any, axis: int = 0) -> tuple[Tensor, ...]:
        """Views along ``axis``: n nearly equal pieces, or cut at indices, as
        ``torch.tensor_split`` (see ``tr.tensor_split``)."""
        from .ops.movement import tensor_split

        return tensor_split(self, indices_or_sections, axis)

    @torch_names(sections="indices_or_sections", indices="indices_or_sections")
    def hsplit(self, indices_or_sections: Any) -> tuple[Tensor, ...]:
        """``tensor_split`` along dim 1 (0 for a 1-D tensor), as ``torch.hsplit``."""
        from .ops.movement import hsplit

        return hsplit(self, indices_or_sections)

    @torch_names(sections="indices_or_sections", indices="indices_or_sections")
    def vsplit(self, indices_or_sections: Any) -> tuple[Tensor, ...]:
        """``tensor_split`` along dim 0 (at least 2-D), as ``torch.vsplit``."""
        from .ops.movement import vsplit

        return vsplit(self, indices_or_sections)

    @torch_names(sections="indices_or_sections", indices="indices_or_sections")
    def dsplit(self, indices_or_sections: Any) -> tuple[Tensor, ...]:
        """``tensor_split`` along dim 2 (at least 3-D), as ``torch.dsplit``."""
        from .ops.movement import dsplit

        return dsplit(self, indices_or_sections)

    @torch_names
    def narrow_copy(self, axis: int, start: int, length: int) -> Tensor:
        """``narrow``, copied (not a view), as ``torch.narrow_copy``."""
        return self.narrow(axis, start, length).clone()

    def fliplr(self) -> Tensor:
        """The columns (dim 1) in reverse order, of a tensor of at least 2 dims, as
        ``torch.fliplr``."""
        if self.ndim < 2:
            raise ValueError(f"fliplr: the tensor must be at least 2-D, got shape {self.shape}")
        return self.flip(1)

    def flipud(self) -> Tensor:
        """The rows (dim 0) in reverse order, of a tensor of at least 1 dim, as
        ``torch.flipud``."""
        if self.ndim < 1:
            raise ValueError("flipud: the tensor must be at least 1-D, got a 0-d one")
        return self.flip(0)

    def msort(self) -> Tensor:
        """The values sorted along dim 0, as ``torch.msort`` (``sort(0).values``)."""
        return self.sort(0).values

    def take(self, index: Tensor) -> Tensor:
        """The elements of the flattened tensor at ``index``, as ``torch.take`` (see
        ``tr.take``)."""
        from .ops.movement import take

        return take(self, index)

    def put(self, index: Tensor, source: Tensor, accumulate: bool = False) -> Tensor:
        """``source`` written (or added) at ``index`` of the flattened tensor, out of place,
        as ``torch.Tensor.put`` (see ``tr.put``)."""
        from .ops.movement import put

        return put(self, index, source, accumulate)

    def put_(self, index: Tensor, source: Tensor, accumulate: bool = False) -> Tensor:
        """``put``, in place (``_overwrite``'s rules)."""
        return self._overwrite("put_", lambda old: old.put(index, source, accumulate))

    @torch_names
    def index_copy(self, axis: int, index: Tensor, source: Tensor) -> Tensor:
        """The slices ``index`` along ``axis`` replaced by source's, out of place, as
        ``torch.index_copy`` (see ``tr.index_copy``)."""
        from .ops.movement import index_copy

        return index_copy(self, axis, index, source)

    @torch_names
    def index_copy_(self, axis: int, index: Tensor, source: Tensor) -> Tensor:
        """``index_copy``, in place (``_overwrite``'s rules)."""
        return self._overwrite("index_copy_", lambda old: old.index_copy(axis, index, source))

    def diagonal_scatter(self, src: Tensor, offset: int = 0, dim1: int = 0, dim2: int = 1
                         ) -> Tensor:
        """This tensor with a diagonal replaced by ``src``, out of place, as
        ``torch.diagonal_scatter``."""
        from .ops.movement import diagonal_scatter

        return diagonal_scatter(self, src, offset, dim1, dim2)

    @torch_names
    def select_scatter(self, src: Tensor, axis: int, index: int) -> Tensor:
        """This tensor with ``select(axis, index)`` replaced by ``src``, out of place, as
        ``torch.select_scatter``."""
        from .ops.movement import select_scatter

        return select_scatter(self, src, axis, index)

    @torch_names
    def slice_scatter(self, src: Tensor, axis: int = 0, start: int | None = None,
                      end: int | None = None, step: int = 1) -> Tensor:
        """This tensor with a slice along ``axis`` replaced by ``src``, out of place, as
        ``torch.slice_scatter``."""
        from .ops.movement import slice_scatter

        return slice_scatter(self, src, axis, start, end, step)

    def unique_consecutive(self, return_inverse: bool = False, return_counts: bool = False,
                           dim: int | None = None) -> Any:
        """Each run of equal consecutive elements (or slices along ``dim``) kept once, as
        ``torch.unique_consecutive`` (see ``tr.unique_consecutive``)."""
        from .ops.movement import unique_consecutive

        return unique_consecutive(self, return_inverse, return_counts, dim)

    # ---- elementwise ------------------------------------------------------------------------
    def float_power(self, exponent: Any) -> Tensor:
        """self ** exponent computed in float64, as ``torch.float_power``."""
        from .ops.elementwise import float_power

        return float_power(self, exponent)

    def sgn(self) -> Tensor:
        """``sign`` (x / |x| for complex tensors), as ``torch.sgn``."""
        from .ops.elementwise import sgn

        return sgn(self)

    def frac(self) -> Tensor:
        """x - trunc(x), as ``torch.frac``."""
        from .ops.elementwise import frac

        return frac(self)

    def fix(self) -> Tensor:
        """``trunc``, PyTorch's other name."""
        return self.trunc()

    def deg2rad(self) -> Tensor:
        """Degrees to radians, as ``torch.deg2rad``."""
        from .ops.elementwise import deg2rad

        return deg2rad(self)

    def rad2deg(self) -> Tensor:
        """Radians to degrees, as ``torch.rad2deg``."""
        from .ops.elementwise import rad2deg

        return rad2deg(self)

    def isneginf(self) -> Tensor:
        """Whether each element is -inf (bool), as ``torch.isneginf``."""
        from .ops.elementwise import isneginf

        return isneginf(self)

    def isposinf(self) -> Tensor:
        """Whether each element is +inf (bool), as ``torch.isposinf``."""
        from .ops.elementwise import isposinf

        return isposinf(self)

    def isreal(self) -> Tensor:
        """Whether each element is real (bool), as ``torch.isreal``."""
        from .ops.elementwise import isreal

        return isreal(self)

    def positive(self) -> Tensor:
        """This tensor itself (``+x``), as ``torch.positive``; refused for bool, as there."""
        if self.dtype.kind == "b":
            raise DTypeError("positive: not defined for bool tensors (as in PyTorch)")
        return self

    def __pos__(self) -> Tensor:
        return self.positive()

    absolute = abs

    def absolute_(self) -> Tensor:
        return self.abs_()

    def negative_(self) -> Tensor:
        return self.neg_()

    def true_divide_(self, other: Any) -> Tensor:
        """``self /= other``, in place (``div_``)."""
        return self.div_(other)

    def sgn_(self) -> Tensor:
        return self._overwrite("sgn_", Tensor.sgn)

    def frac_(self) -> Tensor:
        return self._overwrite("frac_", Tensor.frac)

    def fix_(self) -> Tensor:
        return self.trunc_()

    def deg2rad_(self) -> Tensor:
        return self._overwrite("deg2rad_", Tensor.deg2rad)

    def rad2deg_(self) -> Tensor:
        return self._overwrite("rad2deg_", Tensor.rad2deg)

    # ---- random fills -------------------------------------------------------------------------
    def random_(self, *bounds: int, to: int | None = None, generator: Any = None) -> Tensor:
        """Integers drawn uniformly, in place, as PyTorch's ``random_``: ``random_(to)`` from
        [0, to), ``random_(from, to)`` from [from, to), ``random_()`` from 0 to the largest
        integer the dtype holds exactly (2^24 for float32, 2^53 for float64, the maximum for
        an integer dtype), that one included. From ``tr.manual_seed``'s generator (or
        ``generator``); a range the dtype cannot hold is refused (PyTorch only warns for a
        float one)."""
        from .random import random_values

        if len(bounds) > 2 or (len(bounds) == 2 and to is not None):
            raise TypeError("random_ takes random_(), random_(to) or random_(from, to)")
        low, high = (0, bounds[0]) if len(bounds) == 1 and to is None else \
            (bounds[0], to) if len(bounds) == 1 else \
            (bounds[0], bounds[1]) if bounds else (0, to)
        values = random_values("random_", self.shape, self.dtype, low, high, generator)
        return self._draw_("random_", lambda old: values, floating=False)

    def cauchy_(self, median: float = 0.0, sigma: float = 1.0, *, generator: Any = None
                ) -> Tensor:
        """Values drawn from the Cauchy distribution (median + sigma · tan(π (U - 1/2))), in
        place, as PyTorch's; from ``tr.manual_seed``'s generator (or ``generator``)."""
        from .random import cauchy_values

        if self.dtype.kind != "f":
            raise DTypeError(f"cauchy_: fills floating-point tensors, not {self.dtype}")
        values = cauchy_values("cauchy_", self.shape, median, sigma, generator)
        return self._draw_("cauchy_", lambda old: values)

    # ---- Python callables, element by element (the CPU only, as PyTorch's) ------------------
    def _elementwise_(self, what: str, fn: Callable[..., Any], *others: Tensor) -> Tensor:
        """Each element x (and the matching elements of ``others``, broadcast to this shape)
        replaced by ``fn(x, ...)``, converted to this dtype, in place; refused off the CPU,
        as PyTorch refuses."""
        if self._dev.name != "cpu":
            raise RuntimeError(f"{what} works on CPU tensors only (as PyTorch's); this one is "
                               f"on {self.device!r}: move it with .cpu() first")
        if not callable(fn):
            raise TypeError(f"{what}: callable must be a function, got {type(fn).__name__}")
        columns = [self.numpy().reshape(-1).tolist()]
        for o in others:
            if not isinstance(o, Tensor):
                raise TypeError(f"{what}: tensor must be a Tensor, got {type(o).__name__}")
            if o._dev.name != "cpu":
                raise RuntimeError(f"{what}: the other tensor is on {o.device!r}: it must be on "
                                   "the CPU too")
            try:
                spread = np.broadcast_to(o.numpy(), self.shape)
            except ValueError:
                raise ValueError(f"{what}: a tensor of shape {o.shape} does not broadcast to "
                                 f"this tensor's shape {self.shape}") from None
            columns.append(spread.reshape(-1).tolist())
        values = np.array([fn(*v) for v in zip(*columns)], dtype=self.dtype)
        return self._overwrite(what, lambda old: Tensor._wrap(values.reshape(self.shape),
                                                              self._dev), replaces=True)

    def apply_(self, callable: Callable[[Any], Any]) -> Tensor:  # noqa: A002
        """Each element x replaced by ``callable(x)`` (a Python number in, one out), in place,
        as PyTorch's; CPU tensors only, as there (slow: a Python call per element)."""
        return self._elementwise_("apply_", callable)

    def map_(self, tensor: Tensor, callable: Callable[[Any, Any], Any]) -> Tensor:  # noqa: A002
        """Each element x replaced by ``callable(x, y)``, y the matching element of
        ``tensor`` (broadcast to this shape), in place, as PyTorch's; CPU tensors only."""
        return self._elementwise_("map_", callable, tensor)

    def map2_(self, x: Tensor, y: Tensor, callable: Callable[[Any, Any, Any], Any]  # noqa: A002
              ) -> Tensor:
        """Each element a replaced by ``callable(a, b, c)``, b and c the matching elements of
        ``x`` and ``y`` (broadcast to this shape), in place, as PyTorch's; CPU tensors only."""
        return self._elementwise_("map2_", callable, x, y)

    # ---- a hook after the gradient is stored ------------------------------------------------
    def register_post_accumulate_grad_hook(self, hook: Callable[[Tensor], None]
                                           ) -> RemovableHandle:
        """Call ``hook(self)`` each time backward has added this leaf's gradient into
        ``.grad`` (after the ``register_hook`` hooks, once per backward), as PyTorch's: the
        place to update a parameter as soon as its gradient is ready. The hook returns None;
        ``tr.grad`` (which stores no ``.grad``) does not call it. The handle's ``remove()``
        takes it off."""
        if not self.requires_grad:
            raise RuntimeError("register_post_accumulate_grad_hook on a tensor that does not "
                               "require grad: there is no gradient to accumulate")
        if self._ctx is not None:
            raise RuntimeError("post-accumulate-grad hooks can be registered on leaf tensors "
                               "only (as in PyTorch): a result's gradient is not accumulated")
        if getattr(self, "_post_hooks", None) is None:
            self._post_hooks = []
        self._post_hooks.append(hook)
        return RemovableHandle(self._post_hooks, hook)

    # ---- hyperbolic functions, exp2, fmax/fmin, nextafter, polygamma, igamma (ops/
    # elementwise2.py, special.py) ------------------------------------------------------------
    def sinh(self) -> Tensor:
        """sinh x, as ``torch.sinh`` (see ``tr.sinh``)."""
        from .ops.elementwise2 import sinh

        return sinh(self)

    def cosh(self) -> Tensor:
        """cosh x, as ``torch.cosh``."""
        from .ops.elementwise2 import cosh

        return cosh(self)

    def asinh(self) -> Tensor:
        """asinh x, as ``torch.asinh``."""
        from .ops.elementwise2 import asinh

        return asinh(self)

    def acosh(self) -> Tensor:
        """acosh x (NaN below 1), as ``torch.acosh``."""
        from .ops.elementwise2 import acosh

        return acosh(self)

    def atanh(self) -> Tensor:
        """atanh x (±inf at ±1, NaN beyond), as ``torch.atanh``."""
        from .ops.elementwise2 import atanh

        return atanh(self)

    arcsinh, arccosh, arctanh = asinh, acosh, atanh  # PyTorch's (and NumPy's) aliases

    def exp2(self) -> Tensor:
        """2^x, as ``torch.exp2``."""
        from .ops.elementwise2 import exp2

        return exp2(self)

    def fmax(self, other: Any) -> Tensor:
        """The larger of the two, ignoring a NaN (``tr.fmax``)."""
        from .ops.elementwise2 import fmax

        return fmax(self, other)

    def fmin(self, other: Any) -> Tensor:
        """The smaller of the two, ignoring a NaN (``tr.fmin``)."""
        from .ops.elementwise2 import fmin

        return fmin(self, other)

    def nextafter(self, other: Any) -> Tensor:
        """The next float after each element towards ``other`` (``tr.nextafter``)."""
        from .ops.elementwise2 import nextafter

        return nextafter(self, other)

    def polygamma(self, n: int) -> Tensor:
        """ψ⁽ⁿ⁾(x) (``tr.polygamma(n, x)``; note the order of the arguments there)."""
        from .ops.elementwise2 import polygamma

        return polygamma(n, self)

    def igamma(self, other: Any) -> Tensor:
        """P(self, other), the regularized lower incomplete gamma function (``tr.igamma``)."""
        from .special import gammainc

        return gammainc(self, other)

    def igammac(self, other: Any) -> Tensor:
        """Q(self, other) = 1 - P(self, other), the upper one (``tr.igammac``)."""
        from .special import gammaincc

        return gammaincc(self, other)

    def hardshrink(self, lambd: float = 0.5) -> Tensor:
        """x where |x| > lambd, else 0 (``tr.nn.functional.hardshrink``)."""
        from .functional import hardshrink

        return hardshrink(self, lambd)

    def prelu(self, weight: Tensor) -> Tensor:
        """max(0, x) + weight · min(0, x) (``tr.nn.functional.prelu``)."""
        from .functional import prelu

        return prelu(self, weight)

    # and their in-place twins, and the rest of PyTorch's (``_overwrite``'s rules)
    def sinh_(self) -> Tensor:
        return self._overwrite("sinh_", Tensor.sinh)

    def cosh_(self) -> Tensor:
        return self._overwrite("cosh_", Tensor.cosh)

    def asinh_(self) -> Tensor:
        return self._overwrite("asinh_", Tensor.asinh)

    def acosh_(self) -> Tensor:
        return self._overwrite("acosh_", Tensor.acosh)

    def atanh_(self) -> Tensor:
        return self._overwrite("atanh_", Tensor.atanh)

    arcsinh_, arccosh_, arctanh_ = asinh_, acosh_, atanh_

    def arcsin_(self) -> Tensor:
        return self.asin_()

    def arccos_(self) -> Tensor:
        return self.acos_()

    def arctan_(self) -> Tensor:
        return self.atan_()

    def atan2_(self, other: Any) -> Tensor:
        return self._overwrite("atan2_", lambda old: old.atan2(other))

    arctan2_ = atan2_

    def exp2_(self) -> Tensor:
        return self._overwrite("exp2_", Tensor.exp2)

    def nextafter_(self, other: Any) -> Tensor:
        return self._overwrite("nextafter_", lambda old: old.nextafter(other))

    def polygamma_(self, n: int) -> Tensor:
        return self._overwrite("polygamma_", lambda old: old.polygamma(n))

    def igamma_(self, other: Any) -> Tensor:
        return self._overwrite("igamma_", lambda old: old.igamma(other))

    def igammac_(self, other: Any) -> Tensor:
        return self._overwrite("igammac_", lambda old: old.igammac(other))

    def mvlgamma_(self, p: int) -> Tensor:
        return self._overwrite("mvlgamma_", lambda old: old.mvlgamma(p))

    def float_power_(self, exponent: Any) -> Tensor:
        """``float_power``, in place: only into a float64 tensor, as PyTorch's (the result is
        float64)."""
        if self.dtype != np.float64:
            raise DTypeError(f"float_power_: the result is float64, which this {self.dtype} "
                             "tensor cannot hold (as in PyTorch); use float_power instead")
        return self._overwrite("float_power_", lambda old: old.float_power(exponent))

    @torch_names
    def cumsum_(self, axis: int, *, dtype: DTypeLike = None) -> Tensor:
        return self._overwrite("cumsum_", lambda old: old.cumsum(axis, dtype=dtype))

    @torch_names
    def cumprod_(self, axis: int, *, dtype: DTypeLike = None) -> Tensor:
        return self._overwrite("cumprod_", lambda old: old.cumprod(axis, dtype=dtype))

    def remainder_(self, other: Any) -> Tensor:
        return self._overwrite("remainder_", lambda old: old.remainder(other))

    def fmod_(self, other: Any) -> Tensor:
        return self._overwrite("fmod_", lambda old: old.fmod(other))

    def floor_divide_(self, other: Any) -> Tensor:
        return self._overwrite("floor_divide_", lambda old: old.floor_divide(other))

    # PyTorch's other names for the arithmetic and the comparisons
    def multiply(self, other: Any) -> Tensor:
        return self.mul(other)

    def multiply_(self, other: Any) -> Tensor:
        return self.mul_(other)

    def divide(self, other: Any, *, rounding_mode: str | None = None) -> Tensor:
        return self.div(other, rounding_mode=rounding_mode)

    def divide_(self, other: Any, *, rounding_mode: str | None = None) -> Tensor:
        if rounding_mode is None:
            return self.div_(other)
        return self._overwrite("divide_", lambda old: old.div(other,
                                                               rounding_mode=rounding_mode))

    def subtract(self, other: Any, *, alpha: Any = 1) -> Tensor:
        return self.sub(other, alpha)

    def subtract_(self, other: Any, *, alpha: Any = 1) -> Tensor:
        return self.sub_(other, alpha)

    def greater(self, other: Any) -> Tensor:
        return self > other

    def greater_equal(self, other: Any) -> Tensor:
        return self >= other

    def less(self, other: Any) -> Tensor:
        return self < other

    def less_equal(self, other: Any) -> Tensor:
        return self <= other

    def not_equal(self, other: Any) -> Tensor:
        return self.ne(other)

    # comparisons in place: 1 or 0 (True or False) in this tensor's own dtype, as PyTorch's;
    # under autograd its old history gets a zero gradient (``_overwrite``)
    def eq_(self, other: Any) -> Tensor:
        return self._overwrite("eq_", lambda old: old.eq(other))

    def ne_(self, other: Any) -> Tensor:
        return self._overwrite("ne_", lambda old: old.ne(other))

    def lt_(self, other: Any) -> Tensor:
        return self._overwrite("lt_", lambda old: old < other)

    def le_(self, other: Any) -> Tensor:
        return self._overwrite("le_", lambda old: old <= other)

    def gt_(self, other: Any) -> Tensor:
        return self._overwrite("gt_", lambda old: old > other)

    def ge_(self, other: Any) -> Tensor:
        return self._overwrite("ge_", lambda old: old >= other)

    greater_, greater_equal_, less_, less_equal_, not_equal_ = gt_, ge_, lt_, le_, ne_

    def logical_and_(self, other: Any) -> Tensor:
        return self._overwrite("logical_and_", lambda old: old.logical_and(other))

    def logical_or_(self, other: Any) -> Tensor:
        return self._overwrite("logical_or_", lambda old: old.logical_or(other))

    def logical_xor_(self, other: Any) -> Tensor:
        return self._overwrite("logical_xor_", lambda old: old.logical_xor(other))

    def logical_not_(self) -> Tensor:
        return self._overwrite("logical_not_", Tensor.logical_not)

    # the matrix products in place
    def addmm_(self, mat1: Tensor, mat2: Tensor, *, beta: Any = 1, alpha: Any = 1) -> Tensor:
        return self._overwrite("addmm_", lambda old: old.addmm(mat1, mat2, beta=beta,
                                                               alpha=alpha))

    def addmv_(self, mat: Tensor, vec: Tensor, *, beta: Any = 1, alpha: Any = 1) -> Tensor:
        return self._overwrite("addmv_", lambda old: old.addmv(mat, vec, beta=beta,
                                                               alpha=alpha))

    def addr_(self, vec1: Tensor, vec2: Tensor, *, beta: Any = 1, alpha: Any = 1) -> Tensor:
        return self._overwrite("addr_", lambda old: old.addr(vec1, vec2, beta=beta,
                                                             alpha=alpha))

    def baddbmm_(self, batch1: Tensor, batch2: Tensor, *, beta: Any = 1, alpha: Any = 1
                 ) -> Tensor:
        return self._overwrite("baddbmm_", lambda old: old.baddbmm(batch1, batch2, beta=beta,
                                                                   alpha=alpha))

    def addbmm(self, batch1: Tensor, batch2: Tensor, *, beta: Any = 1, alpha: Any = 1
               ) -> Tensor:
        """beta self + alpha Σ_b batch1[b] @ batch2[b], as ``torch.addbmm``: two batches of
        matrices (B, n, k) and (B, k, m), summed over the batch; self broadcasts to (n, m)."""
        if getattr(batch1, "ndim", None) != 3 or getattr(batch2, "ndim", None) != 3:
            raise ValueError(f"addbmm: batch1 and batch2 must be 3-D, got shapes "
                             f"{getattr(batch1, 'shape', None)} and "
                             f"{getattr(batch2, 'shape', None)}")
        return self._add_product("addbmm", batch1.bmm(batch2).sum(0), beta, alpha)

    def addbmm_(self, batch1: Tensor, batch2: Tensor, *, beta: Any = 1, alpha: Any = 1
                ) -> Tensor:
        return self._overwrite("addbmm_", lambda old: old.addbmm(batch1, batch2, beta=beta,
                                                                 alpha=alpha))

    def ger(self, vec2: Tensor) -> Tensor:
        """``outer``, PyTorch's older name."""
        return self.outer(vec2)

    def adjoint(self) -> Tensor:
        """The conjugate transpose of the last two axes (``mT`` for real tensors)."""
        return self.mH

    @property
    def mH(self) -> Tensor:  # noqa: N802 (PyTorch's name)
        """The conjugate transpose of the last two axes (``mT`` for real tensors)."""
        return self.mT.conj()

    @property
    def H(self) -> Tensor:  # noqa: N802 (PyTorch's name)
        """The conjugate transpose of a matrix (0-D or 2-D, as PyTorch's)."""
        if self.ndim not in (0, 2):
            raise ValueError(f"H: the tensor must be a matrix or a scalar, got shape "
                             f"{self.shape}; use mH for a batch of matrices")
        return self.mH if self.ndim == 2 else self.conj()

    # the axes swapped in place (``_reshape_``'s rules: recorded, views kept in step)
    @torch_names
    def transpose_(self, dim0: int, dim1: int) -> Tensor:
        """Axes ``dim0`` and ``dim1`` swapped, in place, as PyTorch's ``transpose_``."""
        n = self.ndim
        if not (-max(n, 1) <= dim0 < max(n, 1) and -max(n, 1) <= dim1 < max(n, 1)):
            raise ValueError(f"transpose_: axes ({dim0}, {dim1}) out of range for a {n}-D "
                             f"tensor (shape {self.shape})")
        if n == 0:
            return self
        perm = list(range(n))
        perm[dim0], perm[dim1] = perm[dim1], perm[dim0]
        return self._reshape_("transpose_", tuple(self.shape[p] for p in perm), tuple(perm))

    swapdims_ = transpose_
    swapaxes_ = torch_names(transpose_, axis0="dim0", axis1="dim1")

    def t_(self) -> Tensor:
        """``t``, in place: a matrix transposed (a vector or a scalar unchanged)."""
        if self.ndim > 2:
            raise ValueError(f"t_: expects a tensor of at most 2 dims, got shape {self.shape}")
        return self.transpose_(0, 1) if self.ndim == 2 else self

    # ---- about the tensor: PyTorch's queries --------------------------------------------------
    def is_signed(self) -> bool:
        """Whether the dtype holds negative numbers (False for bool and uint8)."""
        return self.dtype.kind not in "bu"

    def is_nonzero(self) -> bool:
        """Whether the one element is nonzero, as PyTorch's (refused for 0 or several
        elements)."""
        if self.size != 1:
            raise RuntimeError(
                "Boolean value of Tensor with no values is ambiguous" if self.size == 0 else
                "Boolean value of Tensor with more than one value is ambiguous")
        return bool(self.item())

    def is_same_size(self, other: Tensor) -> bool:
        """Whether ``other`` has this tensor's shape."""
        return self.shape == tuple(other.shape)

    @property
    def itemsize(self) -> int:
        """Bytes per element (``element_size()``)."""
        return self.dtype.itemsize

    @property
    def nbytes(self) -> int:
        """Bytes the elements take (numel · itemsize)."""
        return self.numel() * self.dtype.itemsize

    @torch_names
    def split_with_sizes(self, split_sizes: Sequence[int], axis: int = 0) -> list[Tensor]:
        """Pieces of the sizes given (which must add up to the axis's length), as
        ``torch.split_with_sizes``."""
        sizes = [int(s) for s in split_sizes]
        (a,) = normalize_axis(axis, self.ndim)
        if any(s < 0 for s in sizes) or sum(sizes) != self.shape[a]:
            raise ValueError(f"split_with_sizes: sizes {sizes} must be >= 0 and add up to "
                             f"{self.shape[a]}, the length of axis {axis}")
        return list(self.split(sizes, a))

    def histogram(self, bins: Any = 100, *, range: Sequence[float] | None = None,  # noqa: A002
                  weight: Tensor | None = None, density: bool = False) -> Any:
        """(hist, bin_edges), as ``torch.histogram`` (see ``tr.histogram``)."""
        from .ops.elementwise2 import histogram

        return histogram(self, bins, range=range, weight=weight, density=density)

    @torch_names
    def index_reduce(self, axis: int, index: Tensor, source: Tensor, reduce: str, *,
                     include_self: bool = True) -> Tensor:
        """``source`` reduced into this tensor at positions ``index`` along ``axis``, as
        ``torch.index_reduce`` (see ``tr.index_reduce``)."""
        from .ops.elementwise2 import index_reduce

        return index_reduce(self, axis, index, source, reduce, include_self=include_self)

    @torch_names
    def index_reduce_(self, axis: int, index: Tensor, source: Tensor, reduce: str, *,
                      include_self: bool = True) -> Tensor:
        return self._overwrite("index_reduce_", lambda old: old.index_reduce(
            axis, index, source, reduce, include_self=include_self))

    @dense_factory
    def new_empty_strided(self, size: Sequence[int], stride: Sequence[int], *,
                          dtype: DTypeLike = None, requires_grad: bool = False,
                          device: Any = None) -> Tensor:
        """A new zero-filled C-contiguous tensor of ``size`` on this device (this dtype
        unless ``dtype``): strides are not modelled, so ``stride`` is checked for length
        only, as ``tr.empty_strided``."""
        if len(tuple(stride)) != len(tuple(size)):
            raise ValueError(f"new_empty_strided: {len(tuple(size))} sizes but "
                             f"{len(tuple(stride))} strides")
        return self.new_empty(tuple(size), dtype=dtype, requires_grad=requires_grad,
                              device=device)

    @torch_names(size="sizes")
    def resize_(self, *sizes: Any) -> Tensor:
        """This tensor given the shape ``sizes``, in place, as PyTorch's ``resize_``: the
        elements kept in C order, cut off where it shrinks, zeros added where it grows
        (PyTorch leaves them uninitialised). Not recorded: refused on a tensor that requires
        grad, under ``no_grad`` too (as in PyTorch; resize ``x.detach().clone()``), and on a
        view or a tensor with views (whose storage this design does not share)."""
        shape = _sizes(sizes)
        if any(n < 0 for n in shape):
            raise ValueError(f"resize_: sizes must be >= 0, got {shape}")
        if self.requires_grad:
            raise RuntimeError("resize_: cannot resize a tensor that requires grad (as in "
                               "PyTorch, under no_grad too); resize a copy, x.detach().clone()")
        if self._base is not None or getattr(self, "_views", None):
            raise RuntimeError("resize_: this tensor is a view or has views, which share no "
                               "storage here; resize a clone instead")
        if shape == self.shape:
            return self
        xp, n = self._dev.xp, math.prod(shape)
        flat = self._data.reshape(-1)[:n]
        if flat.size < n:
            flat = xp.concatenate([flat, xp.zeros(n - flat.size, dtype=self.dtype)])
        self._data = xp.ascontiguousarray(flat.reshape(shape))
        return self

    def resize_as_(self, the_template: Tensor) -> Tensor:
        """``resize_`` to ``the_template``'s shape."""
        return self.resize_(the_template.shape)

    # ---- linear algebra under PyTorch's older names --------------------------------------------
    def lu(self, pivot: bool = True, get_infos: bool = False) -> Any:
        """(LU, pivots) or (LU, pivots, infos), as ``torch.lu`` (``tr.linalg.lu_factor``)."""
        from . import linalg

        return linalg.lu_legacy(self, pivot, get_infos)

    def qr(self, some: bool = True) -> Any:
        """(Q, R), as ``torch.qr`` (``tr.linalg.qr`` with mode "reduced", or "complete" when
        not ``some``)."""
        from . import linalg

        return linalg.qr(self, "reduced" if some else "complete")

    def geqrf(self) -> Any:
        """(a, tau), LAPACK's compact QR, as ``torch.geqrf`` (``tr.geqrf``)."""
        from . import linalg

        return linalg.geqrf(self)

    def orgqr(self, input2: Tensor) -> Tensor:
        """Q from ``geqrf``'s (self, tau = ``input2``), as ``torch.orgqr``
        (``tr.linalg.householder_product``)."""
        from . import linalg

        return linalg.householder_product(self, input2)

    def ormqr(self, input2: Tensor, input3: Tensor, left: bool = True,
              transpose: bool = False) -> Tensor:
        """Q ``input3`` (or Qᵀ, or on the right) for Q from ``geqrf``'s (self, tau =
        ``input2``), as ``torch.ormqr`` (``tr.ormqr``)."""
        from . import linalg

        return linalg.ormqr(self, input2, input3, left, transpose)

    def triangular_solve(self, A: Tensor, upper: bool = True, transpose: bool = False,  # noqa: N803
                         unitriangular: bool = False) -> Any:
        """(solution, cloned_coefficient) of A X = self, as ``torch.triangular_solve``."""
        from . import linalg

        return linalg.triangular_solve(self, A, upper, transpose, unitriangular)

    def cholesky_solve(self, input2: Tensor, upper: bool = False) -> Tensor:
        """X with A X = self, A = L Lᵀ from its Cholesky factor ``input2``, as
        ``torch.cholesky_solve``."""
        from . import linalg

        return linalg.cholesky_solve(self, input2, upper)

    def cholesky_inverse(self, upper: bool = False) -> Tensor:
        """A⁻¹ from A's Cholesky factor (this tensor), as ``torch.cholesky_inverse``."""
        from . import linalg

        return linalg.cholesky_inverse(self, upper)

    def solve(self, *args: Any, **kwargs: Any) -> Any:
        """Removed from PyTorch: raises, pointing to ``tr.linalg.solve``."""
        from . import linalg

        return linalg.solve_removed(self, *args, **kwargs)

    def eig(self, *args: Any, **kwargs: Any) -> Any:
        """Removed from PyTorch: raises, pointing to ``tr.linalg.eig``."""
        from . import linalg

        return linalg.eig_removed(self, *args, **kwargs)

    def lstsq(self, *args: Any, **kwargs: Any) -> Any:
        """Removed from PyTorch: raises, pointing to ``tr.linalg.lstsq``."""
        from . import linalg

        return linalg.lstsq_removed(self, *args, **kwargs)

    def __dlpack__(self, *args: Any, **kwargs: Any) -> Any:
        """The DLPack capsule of this tensor's array (shared), so that ``numpy.from_dlpack``,
        ``cupy.from_dlpack`` and ``torch.from_dlpack`` take it."""
        return self._data.__dlpack__(*args, **kwargs)

    def __dlpack_device__(self) -> tuple[int, int]:
        return self._data.__dlpack_device__()

    def lu_solve(self, LU_data: Tensor, LU_pivots: Tensor) -> Tensor:  # noqa: N803
        """X with A X = self from A's LU factorisation, as ``torch.lu_solve``."""
        from . import linalg

        return linalg.lu_solve(LU_data, LU_pivots, self)


class RemovableHandle:
    """What ``register_hook`` returns: ``remove()`` takes the hook off (once; again is a
    no-op), as PyTorch's handle."""

    def __init__(self, hooks: list[Any], hook: Any) -> None:
        self._hooks, self._hook = hooks, hook

    def remove(self) -> None:
        for i, h in enumerate(self._hooks):
            if h is self._hook:
                del self._hooks[i]
                return

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()


class _ViewOf:
    """How a view was taken from its base: ``kind`` ("index": ``base[arg]`` by basic
    indexing, a piece of split, chunk or unbind; "reshape" to shape ``arg``; "transpose" by
    axes ``arg``; "expand" to shape ``arg``; "unfold" with (dimension, size, step) ``arg``;
    "diagonal" with (index, axis) ``arg``: ``base[index]``, that axis moved last;
    "as_strided" with the flat positions ``arg``; "detach"; the complex views "real", "imag",
    "conj", "as_real" and "as_complex", whose three methods are ``ops/complex.py``'s
    ``view_values``, ``view_take``, ``view_put``). Arrays here are never written in place
    (copy on write), so a view does not share its base's changes by sharing memory, as in
    PyTorch: the engine passes them on.

    - A write into the view writes through (``Tensor._overwrite``): the base becomes
      ``put(base, new view)`` (``base[index] = new``, or the inverse reshape or transpose),
      and so on up the chain of bases, recorded by autograd as PyTorch records it.
    - A write into the base reaches its views: their arrays are taken again when next read
      (``dirty``: a view is a ``_View``, whose ``_data`` checks it), their place in the graph
      when an op that needs a gradient next uses them (``stale``). A dirty view moves to its
      base's list of dirty views, which later writes pass by, until it is read again, so a
      loop that writes a buffer whose earlier views only its graph holds (a decoder reading
      ``outputs[t - 1]``) pays for each view once, not once per write.

    ``recorded``: made while autograd recorded, so a refresh records too (never for
    "detach", which ``x.data`` also makes: its writes change the base's values only)."""

    __slots__ = ("base", "kind", "arg", "recorded", "stale", "dirty")

    def __init__(self, base: Tensor, kind: str, arg: Any, recorded: bool) -> None:
        self.base, self.kind, self.arg = base, kind, arg
        self.recorded, self.stale, self.dirty = recorded, False, False

    def values(self) -> Any:
        """The view's array, taken again from the base's (no op, no graph)."""
        b, kind, arg = self.base._data, self.kind, self.arg
        xp = self.base._dev.xp
        if kind == "index":
            a = b[arg]
            return a if isinstance(a, self.base._dev.array_type) else xp.asarray(a)
        if kind == "reshape":
            return b.reshape(arg)
        if kind == "transpose":
            return b.transpose(arg)
        if kind == "expand":
            return xp.broadcast_to(b, arg)
        if kind == "detach":
            return b.view()
        if kind == "diagonal":
            index, at = arg
            return xp.moveaxis(b[index], at, -1)
        if kind in _COMPLEX_VIEWS:
            return _complex_ops.view_values(kind, b)
        return self.take()._data  # unfold: a copy (GetItem on windows), as unfold makes

    def take(self) -> Tensor:
        """The view taken again from the base, as the op that first made it."""
        b, kind, arg = self.base, self.kind, self.arg
        if kind == "index":
            return GetItem.apply(b, index=arg)
        if kind == "reshape":
            return Reshape.apply(b, shape=arg)
        if kind == "transpose":
            return Transpose.apply(b, axes=arg)
        if kind == "expand":
            return BroadcastTo.apply(b, shape=arg)
        if kind == "detach":
            return Tensor._wrap(b._data.view(), b._dev, False)
        if kind == "diagonal":
            from .ops.movement import take_diagonal

            return take_diagonal(b, *arg)
        if kind in _COMPLEX_VIEWS:
            return _complex_ops.view_take(kind, b)
        if kind == "as_strided":
            from .ops.strided import strided_take

            return strided_take(b, arg)
        from .ops.movement import unfold

        return unfold(b, *arg)

    def put(self, old: Tensor, new: Tensor) -> Tensor:
        """The base's new value, where ``old`` stands for its current one, once the view
        holds ``new``."""
        kind, arg = self.kind, self.arg
        if kind == "index":
            return SetItem.apply(old, new, index=arg)
        if kind == "reshape" or kind == "expand":  # an expand that repeats nothing
            return Reshape.apply(new, shape=old.shape)
        if kind == "transpose":
            back = None if arg is None else tuple(int(a) for a in np.argsort(arg))
            return Transpose.apply(new, axes=back)
        if kind == "detach":
            return new
        if kind == "diagonal":  # the diagonal's axis back where indexing puts it, then written
            index, at = arg
            if at != new.ndim - 1:
                back = (*range(at), new.ndim - 1, *range(at, new.ndim - 1))
                new = Transpose.apply(new, axes=back)
            return SetItem.apply(old, new, index=index)
        if kind in _COMPLEX_VIEWS:
            return _complex_ops.view_put(kind, old, new)
        if kind == "as_strided":  # (windows that overlap are refused before)
            from .ops.strided import strided_put

            return strided_put(old, new, arg)
        raise AssertionError(kind)  # expand and unfold are refused before (_check_writable)


_COMPLEX_VIEWS = ("real", "imag", "conj", "as_real", "as_complex")


def _tangent_of(src: Tensor, dst: Tensor) -> Tensor:
    """``dst``, given ``src``'s forward-mode tangent (or none), while a dual level is active
    (``autograd_forward``): an in-place op's result carries the tangent of the values."""
    if autograd._DUAL.level is not None:
        dst._fw = getattr(src, "_fw", None)
    return dst


def _view(base: Tensor, out: Tensor, kind: str, arg: Any) -> Tensor:
    """Mark ``out`` as a view of ``base`` (``_ViewOf``) and return it."""
    out._base = _ViewOf(base, kind, arg, kind != "detach" and autograd._GradMode.enabled)
    if type(out) is Tensor:
        out.__class__ = _View
    _register(base, out)
    return out


def _register(base: Tensor, view: Tensor) -> None:
    """Put ``view`` in ``base``'s list of views (weak references), which a write into the
    base goes through (``_pass_on``)."""
    views = getattr(base, "_views", None)
    if views is None:
        base._views = [weakref.ref(view)]
    else:
        views.append(weakref.ref(view))
        if len(views) >= 64 and not len(views) & (len(views) - 1):  # 64, 128, ...: prune
            views[:] = [r for r in views if r() is not None]


def _views_of(t: Tensor) -> list[Tensor]:
    """The live views taken from ``t`` (not their views), dirty or not; the dead are
    forgotten."""
    found: dict[int, Tensor] = {}
    for refs in (getattr(t, "_views", None), getattr(t, "_dirty_views", None)):
        for r in refs or ():
            v = r()
            if v is not None and v._base is not None and v._base.base is t:
                found[id(v)] = v
    t._views = [weakref.ref(v) for v in found.values() if not v._base.dirty] or None
    t._dirty_views = [weakref.ref(v) for v in found.values() if v._base.dirty] or None
    return list(found.values())


def _forget_views(t: Tensor) -> None:
    """``t`` takes an array that is not its values changed (``x.data = other``, a module
    moved to another device or dtype): the views taken from it stop being its views and
    keep the values they have, as PyTorch's keep the old storage. (Call it before ``t``
    takes the new array: a dirty view first takes its values from the old one.)"""
    views = _views_of(t)
    if views:  # they keep sharing the old values among themselves, as the old storage
        old = Tensor._wrap(t._data, t._dev)
        for v in views:
            if v._base.dirty:
                _take_values(v)
            v._base.base = old
            _register(old, v)
    t._views = t._dirty_views = None


def _counter(t: Tensor) -> Tensor:
    """The tensor that holds ``t``'s version counter: the tensor its chain of views starts
    from, or the nearest ``x.data`` on the way (which has one of its own, as PyTorch's)."""
    while t._base is not None and not (t._base.kind == "detach" and t._base.arg == "data"):
        t = t._base.base
    return t


def _bump(root: Tensor) -> None:
    """One more in-place write into ``root`` (or a view of it): ``Tensor._version``."""
    root._ver = getattr(root, "_ver", 0) + 1


def _set_values(t: Tensor, array: Any, what: str) -> None:
    """``t`` takes the values ``array`` (its shape and dtype), outside autograd, as an
    in-place write: through to its base if it is a view, on to its own views."""
    if t._base is None:
        t._data = array
        _bump(t)
        if getattr(t, "_views", None):
            _pass_on(t, {id(t)})
        return
    with autograd.no_grad():
        t._overwrite(what, lambda old: Tensor._wrap(array, t._dev), casting="unsafe")


def _placeholder(t: Tensor) -> Any:
    """An array of ``t``'s shape and dtype that holds no memory of its own (one element,
    broadcast), for a tensor whose values nothing reads again."""
    xp, a = t._dev.xp, _DATA.__get__(t)  # (the slot itself: a view's is not read again)
    return xp.broadcast_to(xp.zeros((), dtype=a.dtype), a.shape)


def _check_writable(t: Tensor, what: str, recording: bool) -> None:
    """Refuse, before anything changes, an in-place write into ``t`` that PyTorch refuses: a
    recorded write into a leaf that requires grad, or into a view of one, and a write into
    the result of expand or unfold, whose elements are not each one of the base's."""
    records, first = recording, t
    while True:
        if records and t.requires_grad and t._ctx is None:
            raise RuntimeError(
                f"{what} on a leaf tensor that requires grad (a parameter)"
                f"{'' if t is first else ', through a view of it,'} cannot be recorded, as in "
                "PyTorch: compute a new tensor instead (y = x + 1, not x += 1), or, to change "
                "a parameter by hand, do it under tr.no_grad() (or write into p.data)")
        link = t._base
        if link is None:
            return
        if link.kind == "unfold" or link.kind == "as_strided" and _repeats(link) or \
                link.kind == "expand" and math.prod(link.arg) != math.prod(link.base.shape):
            raise RuntimeError(
                f"{what} into the result of {link.kind} is refused: its elements may repeat "
                f"elements of the tensor of shape {link.base.shape} it was taken from, so "
                "which write wins would depend on the order of the writes; make it your own "
                "with .clone() first")
        records = records and link.kind != "detach"
        t = link.base


def _repeats(link: _ViewOf) -> bool:
    """Whether an as_strided view's flat positions name an element twice (windows that
    overlap): found when a write is tried, not each time a view is made."""
    at = link.arg
    return at.size > 1 and int(link.base._dev.xp.unique(at).size) != at.size


def _pass_on(t: Tensor, written: set[int]) -> None:
    """``t`` has new values: its views, and theirs, are marked ``dirty`` (their arrays are
    taken again when read) and ``stale`` (their graph, when used), and move to their base's
    list of dirty views, which the next write passes by; the tensors in ``written`` (ids),
    which the write changed itself, stay."""
    todo = [t]
    while todo:
        u = todo.pop()
        views = getattr(u, "_views", None)
        if not views:
            continue
        keep = []
        for r in views:
            v = r()
            if v is None or v._base is None or v._base.base is not u:
                continue
            link = v._base
            if id(v) in written or link.dirty:
                keep.append(r)
                continue
            link.dirty = True
            _DATA.__set__(v, _placeholder(v))  # read again when needed: hold no old array
            if link.kind != "detach":
                link.stale = True
                if link.recorded and u.requires_grad:
                    v.requires_grad = True  # so the op that uses it next takes it again
            dirty = getattr(u, "_dirty_views", None)
            if dirty is None:
                u._dirty_views = dirty = []
            dirty.append(r)
            if len(dirty) >= 64 and not len(dirty) & (len(dirty) - 1):  # 64, 128, ...
                dirty[:] = [d for d in dirty if (w := d()) is not None and w._base is not None
                            and w._base.base is u and w._base.dirty]
            todo.append(v)
        u._views = keep or None


def _take_values(view: Tensor) -> None:
    """A dirty view (and the dirty views above it) takes its array again from its base's,
    the topmost first, and goes back into its base's list of views."""
    chain = []
    t = view
    while t._base is not None and t._base.dirty:
        chain.append(t)
        t = t._base.base
    for u in reversed(chain):
        link = u._base
        link.dirty = False
        _DATA.__set__(u, link.values())
        _register(link.base, u)


def _layout_like(old: Any, new: Any) -> Any:
    """``new`` in ``old``'s memory order where ``old`` was C- or F-contiguous and ``new`` is
    not (an in-place write keeps a tensor's layout, as PyTorch's keeps its strides)."""
    if old.flags.c_contiguous and not new.flags.c_contiguous:
        return new.copy(order="C")
    if old.flags.f_contiguous and not old.flags.c_contiguous and not new.flags.f_contiguous:
        return new.copy(order="F")
    return new


def _reshaped(base: Tensor, out: Tensor) -> Tensor:
    """A reshape's result, a view of ``base`` where their arrays share memory (a reshape
    that had to copy is a copy, as in PyTorch)."""
    if base._dev.xp.may_share_memory(out._data, base._data):
        return _view(base, out, "reshape", out.shape)
    return out


def _caster(name: str, dtype: Any) -> Callable[..., Tensor]:
    def cast(self: Tensor, memory_format: memory_format = preserve_format) -> Tensor:
        if memory_format is preserve_format:
            return self.to(dtype=dtype)
        return self.to(dtype=dtype, memory_format=memory_format)

    cast.__name__ = cast.__qualname__ = name
    cast.__doc__ = (f"This tensor as {np.dtype(dtype)} (``x.to({np.dtype(dtype).name!r})``), "
                    "laid out as ``memory_format`` asks (``tr.channels_last``), as PyTorch's.")
    return cast


for _name, _dtype in (("float", np.float32), ("double", np.float64), ("half", np.float16),
                      ("long", np.int64), ("int", np.int32), ("bool", np.bool_),
                      ("byte", np.uint8), ("char", np.int8), ("short", np.int16),
                      ("cfloat", np.complex64), ("cdouble", np.complex128)):
    setattr(Tensor, _name, _caster(_name, _dtype))



def _never(name: str) -> property:
    return property(lambda self: False, doc=f"False, as PyTorch's ``{name}`` for a dense "
                    "tensor on the CPU or a CUDA GPU, which every Tensor is.")


# PyTorch's queries for the layouts, kinds and devices a Tensor never has (sparse: sparse.py's
# SparseTensor, a class of its own; quantized, nested, meta, MKL-DNN; Apple, Intel, XLA and
# other accelerators)
for _name in ("is_sparse", "is_sparse_csr", "is_quantized", "is_nested", "is_meta",
              "is_mkldnn", "is_mps", "is_xpu", "is_xla", "is_ipu", "is_mtia", "is_maia",
              "is_vulkan"):
    setattr(Tensor, _name, _never(_name))


_DATA = Tensor.__dict__["_data"]  # the slot that holds a tensor's array
_REQUIRES_GRAD = Tensor.__dict__["requires_grad"]


class _View(Tensor):
    """A tensor that is a view of another (``_base``, a ``_ViewOf``): reading its array
    after a write into its base takes it again from the base's first (``dirty``). Only
    views pay for the check; every other tensor's ``_data`` is a plain slot. It is named
    ``Tensor`` (``type(v).__name__``), so messages about a view say what the user holds."""

    __slots__ = ()

    @property  # type: ignore[override]
    def _data(self) -> Any:
        link = self._base
        if link is not None and link.dirty:
            _take_values(self)
        return _DATA.__get__(self)

    @_data.setter
    def _data(self, value: Any) -> None:
        _DATA.__set__(self, value)

    @property  # type: ignore[override]
    def requires_grad(self) -> bool:
        link = self._base
        if link is not None and link.stale:  # its base may need a gradient now
            self._refresh()
        return _REQUIRES_GRAD.__get__(self)

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        _REQUIRES_GRAD.__set__(self, value)


_View.__name__ = _View.__qualname__ = "Tensor"


def _rebuild(cls: type, data: Any, dev: Device | str, requires_grad: bool) -> Tensor:
    """A leaf of class ``cls`` (Tensor or a subclass such as Parameter) around ``data``, moved
    to ``dev``: what a copy and an unpickled tensor are made from."""
    dev = dev if isinstance(dev, Device) else get_device(dev)
    t = cls.__new__(cls)
    t._data = data if isinstance(data, dev.array_type) else dev.to_device(data)
    t._dev, t.requires_grad, t.grad, t._ctx, t._out = dev, requires_grad, None, None, 0
    t._base = t._views = None
    return t


def host_array(v: Any) -> np.ndarray:
    """``v`` as a host NumPy array: a Tensor's values, a PyTorch tensor's (detached and
    copied to the CPU first, so a parameter that requires grad, or one on a GPU, works), or
    whatever ``numpy.asarray`` takes."""
    if isinstance(v, Tensor):
        return v.numpy()
    if all(hasattr(v, a) for a in ("detach", "cpu", "numpy")):  # a torch.Tensor, untyped here
        return v.detach().cpu().numpy()
    return np.asarray(v)


def describe_type(v: Any) -> str:
    """The name of ``v``'s type for an error message, saying so where it is PyTorch's (whose
    tensors and packed sequences share our names)."""
    t = type(v)
    if t.__module__.split(".")[0] == "torch":
        return f"{t.__module__}.{t.__qualname__} (PyTorch's; convert it to ours first)"
    return t.__name__


_KIND = {"b": "bool", "i": "integer", "u": "integer", "f": "float", "c": "complex"}
# PyTorch's legacy names of the tensor types (x.type(), tr.FloatTensor), by dtype name
_TYPE_NAMES = {"float32": "Float", "float64": "Double", "float16": "Half", "int64": "Long",
               "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte",
               "bool": "Bool"}


def _both(where: str, ours: str, theirs: str) -> Any:
    raise TypeError(f"{where}() got both {ours} and {theirs}= (the same argument)")


def _address(a: Any, where: str) -> int:
    """The address of array ``a``'s first element (NumPy's or CuPy's array interface)."""
    face = getattr(a, "__cuda_array_interface__", None) or getattr(a, "__array_interface__",
                                                                    None)
    if face is None:
        raise RuntimeError(f"data_ptr: the arrays of device {where!r} expose no address")
    return int(face["data"][0])


def _sizes(sizes: tuple[Any, ...]) -> tuple[int, ...]:
    """Sizes given as f(2, 3) or f((2, 3)), as PyTorch takes them."""
    return tuple(sizes[0]) if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)) \
        else tuple(sizes)


_BASIC = {int, slice, type(None), type(Ellipsis)}  # exactly these types (a bool is not one)


def _normalize_index(index: Index, dev: Device, ndim: int) -> Index:
    """Tensors, lists (and tuples inside the index) and host arrays become arrays on the
    tensor's device. Where ints (or 0-d booleans) meet arrays, the index becomes an
    ``IntsFirst``: the ints are taken first, as PyTorch does (NumPy would move the picked axes
    to the front); so is a ``...`` that stands for no axis, which NumPy counts as a gap
    between arrays and PyTorch does not."""

    if type(index) in _BASIC or type(index) is tuple and all(type(p) in _BASIC for p in index):
        return index  # ints, slices, None and ...: nothing to do (the common case, fast)

    def one(i: Any) -> Any:
        if isinstance(i, Tensor) and i.dtype not in (np.int64, np.int32, np.bool_) and not (
                i.ndim == 0 and i.dtype.kind in "iu" and i.dtype != np.uint8):  # (an int)
            if i.dtype != np.uint8:
                raise OpIndexError(f"tensors used as indices must be long, int, byte or bool "
                                   f"tensors, got {i.dtype}")
            warnings.warn("indexing with dtype uint8 is deprecated, please use a dtype bool "
                          "instead (a uint8 index is a mask, as PyTorch's)", UserWarning,
                          stacklevel=4)
            i = i.to(dtype=np.bool_)
        if isinstance(i, Tensor) and i.ndim == 0 and i.dtype.kind in "iu":
            return int(i.item())  # an int, as in PyTorch (so x[t] is a view)
        if isinstance(i, Tensor):  # an index from another device moves, as in PyTorch
            return i._data if i._dev is dev else dev.to_device(i._dev.to_host(i._data))
        if isinstance(i, (list, tuple, np.ndarray)) and not isinstance(i, dev.array_type):
            a = np.asarray(i)
            return dev.to_device(a if a.size else a.astype(np.intp))  # [] picks nothing
        return i

    parts = tuple(one(i) for i in index) if isinstance(index, tuple) else (one(index),)
    kinds = [_index_kind(p) for p in parts]
    if "array" in kinds and any(p is Ellipsis for p in parts):
        covered = [p.ndim if k == "array" and p.dtype.kind == "b" else
                   0 if p is None or p is Ellipsis or k == "bool" else 1
                   for p, k in zip(parts, kinds)]
        if sum(covered) == ndim:  # the ... stands for no axis: drop it
            at = next(i for i, p in enumerate(parts) if p is Ellipsis)
            parts, kinds = parts[:at] + parts[at + 1:], kinds[:at] + kinds[at + 1:]
    if "bool" not in kinds and not ("int" in kinds and "array" in kinds):
        return parts if isinstance(index, tuple) else parts[0]  # NumPy's rule is PyTorch's
    first: list[Any] = []
    then: list[Any] = []
    for p, kind in zip(parts, kinds):
        if kind == "int":
            first.append(int(p))
        elif kind == "bool":  # a new axis, of length 1 (True) or 0 (False), picked by an array
            first.append(None)
            then.append(dev.to_device(np.arange(int(bool(p)), dtype=np.intp)))
        elif kind == "array":  # a mask covers as many axes as it has
            first.extend([slice(None)] * (p.ndim if p.dtype.kind == "b" else 1))
            then.append(p)
        else:
            first.append(p)
            then.append(p if p is Ellipsis else slice(None))
    return IntsFirst(tuple(first), tuple(then), repr(index))


def _refuse_negative_steps(index: Index) -> None:
    """A slice with a negative step, which NumPy walks backwards, is refused, as PyTorch
    refuses it (``flip()`` reverses). Checked once the index has fit x, so that an index that
    does not fit is an IndexError first, as there."""
    for p in index if type(index) is tuple else (index,):
        if type(p) is slice and isinstance(p.step, int) and p.step < 0:
            raise ValueError(f"index {index!r}: step must be greater than zero, got {p.step} "
                             "(use flip() to reverse)")


def _index_kind(p: Any) -> str:
    """"int", "bool" (0-d), "array" (a list or array of one or more axes), or "basic"."""
    if p is None or p is Ellipsis or isinstance(p, slice):
        return "basic"
    if isinstance(p, (bool, np.bool_)):
        return "bool"
    if isinstance(p, (int, np.integer)):
        return "int"
    ndim, dtype = getattr(p, "ndim", None), getattr(p, "dtype", None)
    if ndim == 0 and dtype is not None and dtype.kind in "biu":
        return "bool" if dtype.kind == "b" else "int"
    return "array" if ndim else "basic"  # anything else: NumPy's error, as written


def _array_device(data: Any) -> Device | None:
    """The device of an array (NumPy, CuPy, ...); None for Python numbers and lists."""
    if isinstance(data, (list, tuple, int, float, bool)) and not isinstance(data, np.generic):
        return None
    try:
        return device_of(data)
    except TypeError:
        return None


def _holds_float64(data: Any, dtype: Any = np.float64) -> bool:
    """Whether nested lists or tuples hold a NumPy float64 (or ``dtype``) scalar or array, or
    a tensor of it (PyTorch then makes a tensor of that dtype, as from such an array)."""
    if isinstance(data, (np.generic, np.ndarray, Tensor)) and data.dtype == dtype:
        return True
    if isinstance(data, (list, tuple)):
        return any(_holds_float64(d, dtype) for d in data)
    return False


def tensor(
    data: Any, dtype: DTypeLike = None, device: str | None = None, requires_grad: bool = False
) -> Tensor:
    """A new tensor holding a copy of ``data`` (numbers, nested lists, NumPy or CuPy arrays).

    Python floats become float32 (the default); NumPy arrays and scalars keep their dtype (a
    list holding a NumPy float64, or a float64 tensor, gives float64, as in PyTorch); integers
    become int64.
    ``dtype`` overrides. Only floating-point tensors can require grad.
    """
    if isinstance(data, Tensor):
        src, arr = data._dev, data._data
    else:
        src, arr = _array_device(data), data
    dev = get_device(device) if device is not None else (src or get_device("cpu"))
    if src is None:  # numbers and nested lists
        host = np.asarray(arr)
        if dtype is not None:
            dt = resolve_dtype(dtype)
        else:  # Python floats take the default float dtype; NumPy float64 scalars keep theirs
            dt = default_dtype() if host.dtype == np.float64 and not _holds_float64(arr) \
                else _default_complex() if host.dtype == np.complex128 and not _holds_float64(
                    arr, np.complex128) else host.dtype  # (and complex numbers likewise)
        out = dev.to_device(np.array(host, dtype=dt))
    else:
        if src is not dev:
            arr = dev.to_device(src.to_host(arr))
        dt = resolve_dtype(dtype) if dtype is not None else arr.dtype
        out = dev.xp.array(arr, dtype=dt, copy=True)
    if out.dtype.kind not in "biufc":
        raise DTypeError(f"tensor(): cannot make a tensor of dtype {out.dtype}")
    if requires_grad:
        _check_requires_grad(out.dtype)
    return Tensor._wrap(out, dev, requires_grad)


# The ops live in ops/; they subclass Function, so they are imported after it is defined.
from .ops import complex as _complex_ops  # noqa: E402
from .ops.elementwise import (  # noqa: E402
    Abs,
    Acos,
    Add,
    Asin,
    AsType,
    Atan,
    Atan2,
    Clip,
    Cos,
    Div,
    Exp,
    FloorDivide,
    Fmod,
    Log,
    Log2,
    Log10,
    Logit,
    Maximum,
    Minimum,
    Mul,
    Neg,
    Pow,
    PowScalar,
    Relu,
    Remainder,
    Sigmoid,
    Sin,
    Sqrt,
    Sub,
    Tan,
    Tanh,
    ToDevice,
    ceil,
    digamma,
    erf,
    erfc,
    erfinv,
    expm1,
    floor,
    lgamma,
    log1p,
    logaddexp,
    logaddexp2,
    nan_to_num,
    round_,
    sign,
    trunc,
    where,
)
from .ops.linalg import matmul  # noqa: E402
from .ops.movement import (  # noqa: E402
    BroadcastTo,
    GetItem,
    IntsFirst,
    Reshape,
    SetItem,
    Transpose,
    ValuesIndices,
    argsort,
    cat,
    check_index,
    gather,
    index_select,
    masked_select,
    max_along,
    sort,
    split,
    squeeze,
    topk,
    unbind,
    unsqueeze,
)
from .ops.reduce import (  # noqa: E402
    Max,
    Sum,
    _correction,
    count_nonzero,
    cumsum,
    logcumsumexp,
    logsumexp,
    mean,
    nanquantile,
    normalize_axis,
    quantile,
    var,
)
from .ops.tensor_xp import TensorXP  # noqa: E402
