"""Check analytic gradients against central differences, in float64.

``gradcheck(fn, inputs)`` runs ``fn`` on float64 copies of ``inputs`` and compares, for every
input that requires grad, the gradient the engine computes with the numerical one::

    d<v, fn(x)>/dx_j  ≈  (<v, fn(x + eps e_j)> - <v, fn(x - eps e_j)>) / (2 eps)

In full mode (small inputs) it builds the whole Jacobian both ways (one backward per output
element, two forwards per input element) and names the first input and element, and output and
element, that differ. In fast mode (big inputs) it compares ``<vJ, u>`` for a random upstream
gradient ``v`` and random directions ``u``, one input at a time.

Before comparing, it checks what would make the comparison meaningless or hide a bug:

- ``fn`` is deterministic: two calls on the same inputs give the same outputs, and two
  backward passes the same gradients (up to ``nondet_tol``);
- every op ``fn`` runs leaves alone, in its backward, the upstream gradient it gets (the engine
  may hand one array to several ops), its inputs and what it saved; and an op with several
  outputs takes None for the gradient of an output no gradient reached, as zeros
  (``check_undefined_grad``);
- ``fn`` and its backward mutate neither the inputs nor the upstream gradient, and a zero
  upstream gradient gives zero gradients (not NaN);
- since float64 hides dtype slips, every op run on the inputs' own dtypes (float32, say) keeps
  its inputs' dtype, forward and backward (``check_dtype``).

Complex inputs and outputs are checked as PyTorch's gradcheck does, as pairs of real numbers:
an input's real and imaginary parts are perturbed apart, and a complex output o with upstream
gradient v stands for the real value Re(Σ conj(v) o), whose gradient (PyTorch's convention) is
dL/dRe x + i dL/dIm x.

``gradgradcheck`` does the same for the gradient itself, after checking that the gradient
recorded with ``create_graph=True`` equals the one the backward gives on arrays.

PyTorch's keywords are accepted where they mean something here (``nondet_tol``,
``check_undefined_grad``, ``fast_mode``, ``raise_exception``) or ask for what is done anyway
(``check_grad_dtypes``, ``check_batched_grad=False``, ...); ``check_forward_ad=True`` also
checks forward mode (``autograd_forward``); one that asks for something this framework does
not have (``check_batched_grad=True``, ``check_fwd_over_rev=True``) is a ValueError that says
why.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..autograd import _gradients, _Packed, grad
from ..debug import Listener, listen
from ..ops.elementwise import AsType
from ..tensor import Function, Tensor, tensor

FULL_MODE_LIMIT = 4096  # full mode while (input elements) * (output elements) is at most this

# PyTorch's keywords with no switch of their own here: (values accepted, why others are not)
_NO_VMAP = "there is no vectorised vmap here to batch gradients with (tr.func.vmap loops)"
_NO_FORWARD_AD = "forward over reverse is not checked here (gradcheck's check_forward_ad checks " \
    "forward mode)"
_TORCH_FLAGS: dict[str, tuple[tuple[Any, ...], str]] = {
    "check_grad_dtypes": ((False, True), ""),  # always checked (and check_dtype does more)
    "check_batched_grad": ((False,), _NO_VMAP),
    "masked": ((None, False), "the gradients of sparse or masked inputs are not checked as "
               "such here (check a function of the dense values instead)"),
}
_GRADCHECK_FLAGS = {
    **_TORCH_FLAGS,
    "check_batched_forward_grad": ((False,), _NO_VMAP),
}
_GRADGRADCHECK_FLAGS = {
    **_TORCH_FLAGS,
    "check_fwd_over_rev": ((False,), _NO_FORWARD_AD),
    "check_rev_over_rev": ((True,), "reverse over reverse is the only one there is to check"),
    "gen_non_contig_grad_outputs": ((False,), "tensors here are always made contiguous"),
}


class GradcheckError(AssertionError, RuntimeError):
    """A gradient, or a side effect, that does not match what it should be: an
    ``AssertionError`` (a failed check, for pytest) and a ``RuntimeError``, as PyTorch's
    ``torch.autograd.gradcheck.GradcheckError`` (``except RuntimeError`` catches it)."""


def _torch_flags(name: str, flags: dict[str, Any], table: dict[str, Any]) -> None:
    """Refuse a PyTorch keyword this checker cannot honour, saying why (and an unknown one as
    Python would)."""
    for k, v in flags.items():
        if k not in table:
            raise TypeError(f"{name}() got an unexpected keyword argument {k!r}")
        accepted, why = table[k]
        if v not in accepted:
            raise ValueError(f"{name}: {k}={v!r} is not supported: {why} (only "
                             f"{' or '.join(map(repr, accepted))} is accepted, as PyTorch's "
                             "value that asks for nothing more)")


def _inputs(name: str, inputs: Any) -> list[Any]:
    """``inputs`` as a list: a single Tensor stands for ``(tensor,)``, as in PyTorch."""
    if isinstance(inputs, Tensor):
        return [inputs]
    try:
        return list(inputs)
    except TypeError:
        raise TypeError(f"{name}: inputs must be a Tensor or a sequence of arguments to fn, "
                        f"not {type(inputs).__name__}") from None


def _as_tuple(out: Any) -> tuple[Tensor, ...]:
    outs = out if isinstance(out, (tuple, list)) else (out,)
    for o in outs:
        if not isinstance(o, Tensor):
            raise TypeError(f"gradcheck: fn must return Tensors, got {type(o).__name__}")
    return tuple(outs)


def _copy(x: Any, dtype: Any = None) -> Any:
    """A floating or complex tensor copied (to ``dtype`` if given, complex128 for a complex
    one when that is float64); anything else as it is."""
    if isinstance(x, Tensor) and x.dtype.kind in "fc":
        if x.dtype.kind == "c" and dtype is not None:
            dtype = np.complex128
        return tensor(x.numpy().astype(dtype or x.dtype), device=x.device,
                      requires_grad=x.requires_grad)
    return x


def _random(rng: np.random.Generator, shape: Any, dtype: np.dtype) -> np.ndarray:
    """Standard normal numbers of ``shape`` (complex ones for a complex dtype)."""
    a = rng.standard_normal(shape)
    return a + 1j * rng.standard_normal(shape) if dtype.kind == "c" else a


def _parts(dtype: np.dtype) -> tuple[Any, ...]:
    """The unit directions of one element: 1, and also i for a complex dtype."""
    return (1.0, 1j) if dtype.kind == "c" else (1.0,)


def _host(x: Any) -> np.ndarray:
    return x.numpy() if isinstance(x, Tensor) else np.asarray(x)


def _worst(a: np.ndarray, b: np.ndarray) -> tuple[float, tuple[int, ...]]:
    """The largest |a - b| (NaN against a number counts as inf; NaN against NaN as 0) and the
    element where it is."""
    a, b = np.asarray(a), np.asarray(b)
    dt = np.complex128 if np.iscomplexobj(a) or np.iscomplexobj(b) else np.float64
    a, b = np.broadcast_arrays(a.astype(dt), b.astype(dt))
    with np.errstate(invalid="ignore"):
        d = np.abs(a - b)
    d = np.where(np.isnan(a) & np.isnan(b), 0.0, np.where(np.isnan(d), np.inf, d))
    d = np.where(a == b, 0.0, d)  # inf against inf
    if d.size == 0:
        return 0.0, ()
    j = np.unravel_index(int(np.argmax(d)), d.shape)
    return float(d[j]), tuple(int(n) for n in j)


class _Checker:
    def __init__(self, fn: Callable[..., Any], inputs: Sequence[Any], seed: int,
                 nondet_tol: float) -> None:
        self.fn = fn
        self.xs = [_copy(x, np.float64) for x in inputs]
        self.diff = [i for i, x in enumerate(self.xs) if isinstance(x, Tensor) and x.requires_grad]
        if not self.diff:
            raise ValueError("gradcheck: no input requires grad")
        self.rng = np.random.default_rng(seed)
        # fn runs with grad mode on even for numerical values: it may itself differentiate
        snapshot = [_host(x) for x in self.xs]
        first = _as_tuple(fn(*self.xs))
        for i, (x, a) in enumerate(zip(self.xs, snapshot)):
            if not np.array_equal(_host(x), a, equal_nan=True):
                raise GradcheckError(f"fn mutated input {i}")
        self.first = [o.numpy() for o in first]
        self.out_shapes = [o.shape for o in first]
        self.out_dtypes = [o.dtype for o in first]
        self.out_live = [o.requires_grad for o in first]
        self.nondet_tol = nondet_tol

    def same_outputs(self, second: tuple[Tensor, ...]) -> None:
        """Those of a second call of fn must be the first's, up to ``nondet_tol``."""
        if self.out_shapes != [o.shape for o in second]:
            raise GradcheckError(f"fn is not deterministic: two calls on the same inputs give "
                                 f"outputs of shapes {self.out_shapes} and "
                                 f"{[o.shape for o in second]}")
        for k, (a, b) in enumerate(zip(self.first, second)):
            d, j = _worst(a, b.numpy())
            if d > self.nondet_tol:
                raise GradcheckError(
                    f"fn is not deterministic: two calls on the same inputs give output {k} "
                    f"values that differ by {d:.3g} at element {j} (nondet_tol="
                    f"{self.nondet_tol}); central differences need the same function on every "
                    "call: seed any random draw inside fn (tr.manual_seed), or raise nondet_tol")

    def hint(self, outputs: Sequence[int]) -> str:
        """Why the analytic and numerical gradients of these outputs may differ, if it shows:
        an output that needs no gradient or lost precision, or an input that is not finite."""
        notes = []
        for i in self.diff:
            a = self.xs[i].numpy()
            if not np.isfinite(a).all():
                at = tuple(int(n) for n in np.argwhere(~np.isfinite(a))[0])
                notes.append(f"input {i} is {a[at]} at element {at}: central differences "
                             "near it are meaningless, unless fn maps it to a constant")
                break
        for m in outputs:
            if not self.out_live[m]:
                notes.append(f"output {m} does not require grad (fn detached it, or computed it "
                             "under no_grad or from inputs that need no gradient), so its "
                             "analytic gradient is 0")
            elif self.out_dtypes[m] != np.float64 and self.out_dtypes[m].kind == "f":
                notes.append(f"output {m} is {self.out_dtypes[m]}, not float64: fn lowers the "
                             "precision, and central differences in it are noise")
        return "".join(f"; {n}" for n in notes)

    def outputs(self, i: int, host: np.ndarray) -> tuple[Tensor, ...]:
        """fn's outputs with input ``i`` replaced by ``host`` (still requiring grad: fn may
        differentiate inside, as gradgradcheck's does)."""
        xs = list(self.xs)
        xs[i] = tensor(host, dtype=self.xs[i].dtype, device=self.xs[i].device,
                       requires_grad=True)
        return _as_tuple(self.fn(*xs))

    def value(self, i: int, host: np.ndarray, vs: list[np.ndarray]) -> float:
        """<v, fn(x)> = Re Σ conj(v) fn(x) with input ``i`` replaced by ``host``, in float64."""
        outs = self.outputs(i, host)
        return float(sum(np.sum((np.conj(v) * o.numpy()).real) for o, v in zip(outs, vs)))

    def analytic(self, vs: list[np.ndarray]) -> list[np.ndarray]:
        """vJ for every differentiable input, through the engine."""
        snapshot = [_host(x) for x in self.xs]
        outs = _as_tuple(self.fn(*self.xs))
        gos = [tensor(v, dtype=o.dtype, device=o.device) for o, v in zip(outs, vs)]
        go_copies = [g.numpy() for g in gos]
        live = [k for k, o in enumerate(outs) if o.requires_grad]
        if live:
            gs = grad([outs[k] for k in live], [self.xs[i] for i in self.diff],
                      [gos[k] for k in live], allow_unused=True)
        else:
            gs = (None,) * len(self.diff)
        for k, (g, c) in enumerate(zip(gos, go_copies)):
            if not np.array_equal(g.numpy(), c):
                raise GradcheckError(f"backward mutated the upstream gradient of output {k}")
        for i, (x, s) in enumerate(zip(self.xs, snapshot)):
            if not np.array_equal(_host(x), s, equal_nan=True):
                raise GradcheckError(f"fn or its backward mutated input {i}")
        result = []
        for i, g in zip(self.diff, gs):
            x = self.xs[i]
            if g is None:
                result.append(np.zeros(x.shape))
                continue
            if g.shape != x.shape or g.dtype != x.dtype or g.device != x.device:
                raise GradcheckError(
                    f"input {i}: gradient has shape {g.shape}, dtype {g.dtype}, device "
                    f"{g.device!r}; the input has {x.shape}, {x.dtype}, {x.device!r}"
                )
            result.append(g.numpy())
        return result


class _Ops(Listener):
    """Remembers every op run, with its outputs' dtypes."""

    def __init__(self) -> None:
        self.ops: list[tuple[Function, list[np.dtype]]] = []

    def forward(self, fn: Function, inputs: tuple[Tensor, ...], out: Any) -> None:
        self.ops.append((fn, [o.dtype for o in (out if isinstance(out, tuple) else (out,))]))


def _call_backward(op: Function, gys: list[Any]) -> tuple[Any, ...]:
    gxs = op.backward(*gys) if op.n_out > 1 else op.backward(gys[0])
    return _gradients(op, gxs, op.parents or ())


def _check_ops(c: _Checker, check_undefined_grad: bool) -> None:
    """Call the backward of every op ``fn`` runs, on arrays, as the engine does, with a random
    upstream gradient: it must change neither that gradient (the engine may hand one array to
    several ops: ``Add`` passes its own on to both inputs), nor the arrays it holds. With
    ``check_undefined_grad``, an op with several floating outputs must also take None for the
    gradient of each output but one (what the engine passes for an output no gradient reached)
    and treat it as zeros."""
    with listen(_Ops()) as seen:
        outs = _as_tuple(c.fn(*c.xs))  # (kept alive while the ops are called)
    c.same_outputs(outs)  # fn's second call: is it deterministic?
    for op, dtypes in seen.ops:
        if not op.parents:  # ran without recording, or its graph was freed inside fn
            continue
        dev, name = op.parents[0]._dev, type(op).__name__
        floats = [k for k, dt in enumerate(dtypes) if dt.kind in "fc"]
        if not floats:  # integer outputs only: the engine never calls its backward
            continue
        gys = [dev.to_device(_random(c.rng, op.shapes[k], dt).astype(dt))
               if dt.kind in "fc" else None for k, dt in enumerate(dtypes)]
        before = [None if g is None else dev.to_host(g).copy() for g in gys]
        if type(op.saved) is _Packed:  # under saved_tensors_hooks: the arrays back, for good
            op.saved.unpacked(op)
        # what it saved, its inputs, and any array it keeps in an attribute of its own
        own = [v for v in getattr(op, "__dict__", {}).values()]
        held = [a for a in (*op.saved, *(p._data for p in op.parents), *own)
                if isinstance(a, dev.array_type)]
        held_before = [dev.to_host(a).copy() for a in held]
        op.final = False  # so that it keeps its buffers: the engine may call it again
        first = _call_backward(op, gys)
        for k, (g, b) in enumerate(zip(gys, before)):
            if g is not None and not np.array_equal(dev.to_host(g), b, equal_nan=True):
                raise GradcheckError(
                    f"backward mutated the upstream gradient of output {k} of {name}: "
                    f"{name}.backward changes its gy in place, and the engine may hand that "
                    "array to other ops too; compute a new one (gy = gy * 2, not gy *= 2)")
        for a, b in zip(held, held_before):
            if not np.array_equal(dev.to_host(a), b, equal_nan=True):
                raise GradcheckError(
                    f"{name}.backward mutated an array it saved or one of its inputs: a second "
                    "backward (retain_graph=True) or another op reading it would see the change")
        again = _call_backward(op, gys)  # reentrant: a second backward gives the same
        for k, (g1, g2) in enumerate(zip(first, again)):
            if (g1 is None) != (g2 is None):
                raise GradcheckError(f"{name}.backward is not reentrant: called twice, it gives "
                                     f"a gradient for input {k} once and None once")
            d, j = (0.0, ()) if g1 is None else _worst(dev.to_host(g1), dev.to_host(g2))
            if d > c.nondet_tol:
                raise GradcheckError(
                    f"{name}.backward is not deterministic or not reentrant: called twice with "
                    f"the same upstream gradient, it gives input {k} gradients that differ by "
                    f"{d:.3g} at element {j} (nondet_tol={c.nondet_tol}); it changes state it "
                    "reads (an attribute, a saved value), so a second backward "
                    "(retain_graph=True) would be wrong, or it draws random numbers")
        if not check_undefined_grad or len(floats) < 2:
            continue
        for k in floats:
            zeros = [None if g is None else g * 0 if j != k else g for j, g in enumerate(gys)]
            nones = [g if j == k else None for j, g in enumerate(gys)]
            others = ", ".join(str(j) for j in floats if j != k)
            try:
                got = _call_backward(op, nones)
            except Exception as e:
                raise GradcheckError(
                    f"{name}.backward fails when only output {k} gets a gradient: the engine "
                    f"passes None for output(s) {others}, which no gradient reached; treat None "
                    f"as zeros ({type(e).__name__}: {e})") from e
            want = _call_backward(op, zeros)
            for i, (a, b) in enumerate(zip(got, want)):
                a = 0.0 if a is None else dev.to_host(a) if isinstance(a, dev.array_type) else a
                b = 0.0 if b is None else dev.to_host(b) if isinstance(b, dev.array_type) else b
                d, j = _worst(a, b)
                if d > 1e-12 * max(1.0, float(np.max(np.abs(b), initial=0.0))):
                    raise GradcheckError(
                        f"{name}.backward gives input {i} another gradient when output(s) "
                        f"{others} get None than when they get zeros (difference {d:.3g} at "
                        f"element {j}): None means no gradient reached them, that is zeros")
    del outs


class _DtypeWatch(Listener):
    """Hears every op. One whose floating inputs share a dtype must give floating outputs of
    it (``AsType`` aside: casting is its job), and one that keeps a dtype from its inputs to its
    outputs must keep it in the gradients its backward returns too (the engine would silently
    cast a float64 gradient back to float32, hiding a slow, wrong-precision backward)."""

    def __init__(self) -> None:
        self.kept: dict[int, np.dtype | None] = {}

    def forward(self, fn: Function, inputs: tuple[Tensor, ...], out: Any) -> None:
        outs = out if isinstance(out, tuple) else (out,)
        ins = {t.dtype for t in inputs if t.dtype.kind == "f"}
        dts = ins | {t.dtype for t in outs if t.dtype.kind == "f"}
        if len(ins) == 1 and len(dts) > 1 and not isinstance(fn, AsType):
            (dt,) = ins
            raise GradcheckError(f"{type(fn).__name__} turned {dt} inputs into "
                                 f"{' and '.join(sorted(str(d) for d in dts - ins))} outputs")
        self.kept[id(fn)] = dts.pop() if len(dts) == 1 else None

    def backward(self, fn: Function, gys: Sequence[Any], gxs: tuple[Any, ...],
                 parents: tuple[Tensor, ...]) -> None:
        dt = self.kept.get(id(fn))
        for k, (p, g) in enumerate(zip(parents, gxs)):
            g_dt = getattr(g, "dtype", None)  # None for a Python number
            # (a complex gradient for a real input is fine: the engine keeps its real part)
            if dt is not None and p.dtype == dt and g_dt is not None and g_dt != dt and \
                    g_dt.kind != "c":
                raise GradcheckError(
                    f"{type(fn).__name__}.backward returned a {g_dt} gradient for its {dt} "
                    f"input {k}"
                )


def _check_dtypes(fn: Callable[..., Any], inputs: Sequence[Any]) -> None:
    """Run ``fn`` and a backward on copies of ``inputs`` in their own dtypes, watching every op
    (see ``_DtypeWatch``): the float64 check hides ops that change dtype. An ``fn`` that
    fails on those dtypes (mixing float64 constants into a matmul of float32 inputs, say) fails
    the check, saying so."""
    xs = [_copy(x) for x in inputs]
    with listen(_DtypeWatch()):
        try:
            outs = [o for o in _as_tuple(fn(*xs)) if o.requires_grad]
        except GradcheckError:
            raise
        except Exception as e:  # the float64 check ran it: it is the dtype that fn refuses
            dtypes = sorted({str(x.dtype) for x in xs if isinstance(x, Tensor)})
            raise GradcheckError(
                f"fn passed in float64 but fails on its inputs' own dtypes ({', '.join(dtypes)})"
                f": {type(e).__name__}: {e}. Give it float64 inputs if it is meant for float64 "
                "only, or pass check_dtype=False") from e
        wrt = [x for x in xs if isinstance(x, Tensor) and x.requires_grad]
        if outs:
            ones = [tensor(np.ones(o.shape), dtype=o.dtype, device=o.device) for o in outs]
            grad(outs, wrt, ones, allow_unused=True)


def gradcheck(
    fn: Callable[..., Any],
    inputs: Tensor | Sequence[Any],
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    fast_mode: bool | None = None,
    n_directions: int = 2,
    seed: int = 0,
    raise_exception: bool = True,
    check_dtype: bool = True,
    *,
    nondet_tol: float = 0.0,
    check_undefined_grad: bool = True,
    check_forward_ad: bool = False,
    check_backward_ad: bool = True,
    **torch_flags: Any,
) -> bool:
    """True if ``fn``'s gradients match central differences for every input requiring grad.

    ``inputs`` is fn's positional arguments (a single Tensor stands for ``(tensor,)``); they
    may mix tensors and other values, and only tensors that require grad are checked.
    Floating-point tensors are copied to float64 first (complex ones to complex128, their real
    and imaginary parts perturbed apart, as PyTorch's), so float32 inputs are checked in
    float64 (and, with ``check_dtype``, run once more in float32: each op must keep its inputs'
    floating dtype in its outputs and in its gradients; ``astype`` may change it; an ``fn``
    that raises on those dtypes fails). An element passes if
    ``|analytic - numeric| <= atol + rtol * |numeric|``, the numerical derivative being
    ``(f(x + eps) - f(x - eps)) / (2 eps)``. ``fast_mode=None`` picks full mode (every element
    of the Jacobian) for small problems and fast mode (``n_directions`` random directions per
    input, drawn from ``seed``) otherwise.

    Two calls of ``fn`` (and two backward passes) must agree to within ``nondet_tol``. Each
    op's backward must leave its upstream gradient and what it holds unchanged, and, with
    ``check_undefined_grad``, an op with several outputs must take None for an output's
    gradient as zeros. With ``check_forward_ad=True``, forward mode too, as PyTorch's: the
    Jacobian's columns J·u computed in forward mode (``tr.autograd.forward_ad``) against
    central differences, u each unit vector (full mode) or ``n_directions`` random directions
    per input (fast mode); ``check_backward_ad=False`` then checks forward mode only.
    PyTorch's other keywords are accepted where they ask for nothing more
    (``check_batched_grad=False``, ``check_grad_dtypes``: always checked, ``masked=None``)
    and refused with a ValueError otherwise. On failure it raises ``GradcheckError``, whose
    message names the input and element, the output and element, both values and their
    difference (or returns False with ``raise_exception=False``); a misuse (no input requiring
    grad, ``eps <= 0``) is a ValueError either way. Inputs may hold NaN or infinities (central
    differences there are meaningful only where ``fn`` maps them to constants, as
    ``nan_to_num`` does; a failure there says so).
    """
    _torch_flags("gradcheck", torch_flags, _GRADCHECK_FLAGS)
    inputs = _inputs("gradcheck", inputs)
    if not (eps > 0 and math.isfinite(eps)):
        raise ValueError(f"gradcheck: eps must be a positive number, not {eps!r}")
    if n_directions < 1:
        raise ValueError(f"gradcheck: n_directions must be at least 1, not {n_directions!r}")
    if not nondet_tol >= 0:
        raise ValueError(f"gradcheck: nondet_tol must be 0 or more, not {nondet_tol!r}")
    if not (check_forward_ad or check_backward_ad):
        raise ValueError("gradcheck: check_forward_ad and check_backward_ad are both False: "
                         "nothing to check")
    try:
        if check_backward_ad:
            _gradcheck(fn, inputs, eps, atol, rtol, fast_mode, n_directions, seed, nondet_tol,
                       check_undefined_grad)
        if check_forward_ad:
            _check_forward_ad(_Checker(fn, inputs, seed + 2, nondet_tol), eps, atol, rtol,
                              fast_mode, n_directions)
        if check_dtype and check_backward_ad:
            _check_dtypes(fn, inputs)
    except GradcheckError:
        if raise_exception:
            raise
        return False
    return True


def _close(a: float, n: float, atol: float, rtol: float) -> bool:
    return bool(abs(a - n) <= atol + rtol * abs(n)) or (np.isnan(a) and np.isnan(n))


def _gradcheck(
    fn: Callable[..., Any], inputs: Sequence[Any], eps: float, atol: float, rtol: float,
    fast_mode: bool | None, n_directions: int, seed: int, nondet_tol: float,
    check_undefined_grad: bool,
) -> None:
    c = _Checker(fn, inputs, seed, nondet_tol)
    n_in = sum(c.xs[i].size for i in c.diff)
    n_out = sum(int(np.prod(s)) for s in c.out_shapes)
    if fast_mode is None:
        fast_mode = n_in * n_out > FULL_MODE_LIMIT
    _check_ops(c, check_undefined_grad)

    zeros = [np.zeros(s) for s in c.out_shapes]
    for i, g in zip(c.diff, c.analytic(zeros)):
        bad = np.argwhere(g != 0)  # NaN included
        if len(bad):
            j = tuple(int(n) for n in bad[0])
            if np.isnan(g[j]):
                raise GradcheckError(f"input {i}: a zero upstream gradient gave NaN at element "
                                     f"{j} (is there a 0 * inf in backward?)"
                                     + c.hint([]))
            raise GradcheckError(f"input {i}: a zero upstream gradient gave a nonzero gradient, "
                                 f"{g[j]:.10g} at element {j}")

    def same_gradients(vs: list[np.ndarray], grads: list[np.ndarray]) -> None:
        """A second backward pass with ``vs`` must give ``grads``, up to ``nondet_tol``."""
        for i, g, h in zip(c.diff, grads, c.analytic(vs)):
            d, j = _worst(g, h)
            if d > nondet_tol:
                raise GradcheckError(
                    f"backward is not deterministic: two backward passes with the same upstream "
                    f"gradient give input {i} gradients that differ by {d:.3g} at element {j} "
                    f"(nondet_tol={nondet_tol})")

    if fast_mode:
        vs = [_random(c.rng, s, dt) for s, dt in zip(c.out_shapes, c.out_dtypes)]
        grads = c.analytic(vs)
        same_gradients(vs, grads)
        for i, g in zip(c.diff, grads):
            x = c.xs[i].numpy()
            for d in range(n_directions):
                u = _random(c.rng, x.shape, x.dtype)
                num = (c.value(i, x + eps * u, vs) - c.value(i, x - eps * u, vs)) / (2 * eps)
                ana = float(np.sum((np.conj(g) * u).real))
                if not _close(ana, num, atol * max(1.0, np.sqrt(x.size)), rtol):
                    raise GradcheckError(
                        f"input {i} (shape {x.shape}): along random direction {d}, analytic "
                        f"{ana:.10g} vs numerical {num:.10g} (difference {abs(ana - num):.3g}); "
                        "run with fast_mode=False on a smaller input to find the element"
                        + c.hint(range(len(c.out_shapes)))
                    )
        return

    # full mode: the Jacobian row by row (analytic) and column by column (numerical), a
    # complex element counting as two real ones (its real and imaginary parts, w and u)
    cells = [(m, e, w) for m, s in enumerate(c.out_shapes) for e in np.ndindex(*s)
             for w in _parts(c.out_dtypes[m])]  # C order
    rows: list[list[np.ndarray]] = []
    for m, e, w in cells:
        vs = [np.zeros(s, dtype=np.result_type(dt, np.float64))
              for s, dt in zip(c.out_shapes, c.out_dtypes)]
        vs[m][e] = w
        rows.append(c.analytic(vs))
        if len(rows) == 1:
            same_gradients(vs, rows[0])
    for col, i in enumerate(c.diff):
        x = c.xs[i].numpy()
        for j in np.ndindex(*x.shape):
            for u in _parts(x.dtype):
                xp_, xm = x.copy(), x.copy()
                xp_[j] += eps * u
                xm[j] -= eps * u
                op, om = c.outputs(i, xp_), c.outputs(i, xm)
                num = [(a.numpy() - b.numpy()) / (2 * eps) for a, b in zip(op, om)]
                for k, (m, e, w) in enumerate(cells):
                    ana = float((np.conj(u) * rows[k][col][j]).real)
                    n = float((np.conj(w) * num[m][e]).real)
                    if not _close(ana, n, atol, rtol):
                        part = "" if x.dtype.kind != "c" else " (real part)" if u == 1 \
                            else " (imaginary part)"
                        out = "" if c.out_dtypes[m].kind != "c" else " (real part)" if w == 1 \
                            else " (imaginary part)"
                        raise GradcheckError(
                            f"input {i} (shape {x.shape}), element {j}{part}, output {m} (shape "
                            f"{c.out_shapes[m]}), element {e}{out}: analytic {ana:.10g} vs "
                            f"numerical {n:.10g} (difference {abs(ana - n):.3g})"
                            + c.hint([m])
                        )


def _check_forward_ad(c: _Checker, eps: float, atol: float, rtol: float,
                      fast_mode: bool | None, n_directions: int) -> None:
    """Forward mode's J·u against central differences (f(x + eps u) - f(x - eps u)) / 2 eps,
    for each input that requires grad: u each unit vector, or random directions."""
    from ..autograd_forward import dual_level, make_dual, unpack_dual

    n_out = sum(int(np.prod(s)) for s in c.out_shapes)
    if fast_mode is None:
        fast_mode = sum(c.xs[i].size for i in c.diff) * n_out > FULL_MODE_LIMIT
    for i in c.diff:
        x = c.xs[i].numpy()
        if x.dtype.kind == "c":
            raise ValueError(f"gradcheck: check_forward_ad=True: input {i} is complex, which "
                             "forward-mode AD does not support here")
        if fast_mode:
            directions = [(f"random direction {d}", _random(c.rng, x.shape, x.dtype))
                          for d in range(n_directions)]
        else:
            directions = []
            for j in np.ndindex(*x.shape):
                u = np.zeros(x.shape)
                u[j] = 1
                directions.append((f"element {j}", u))
        for where, u in directions:
            xs = list(c.xs)
            with dual_level():
                xs[i] = make_dual(xs[i], tensor(u, device=xs[i].device))
                tangents = [unpack_dual(o).tangent for o in _as_tuple(c.fn(*xs))]
            up, down = c.outputs(i, x + eps * u), c.outputs(i, x - eps * u)
            for m, (t, a, b) in enumerate(zip(tangents, up, down)):
                num = (a.numpy() - b.numpy()) / (2 * eps)
                fwd = np.zeros(num.shape) if t is None else t.numpy()
                tol = atol * (max(1.0, np.sqrt(x.size)) if fast_mode else 1.0)
                bad = np.argwhere(~(np.abs(fwd - num) <= tol + rtol * np.abs(num))
                                  & ~(np.isnan(fwd) & np.isnan(num)))
                if len(bad):
                    e = tuple(int(n) for n in bad[0])
                    raise GradcheckError(
                        f"forward mode: input {i} (shape {x.shape}), {where}, output {m} "
                        f"(shape {num.shape}), element {e}: forward-mode tangent "
                        f"{fwd[e]:.10g} vs numerical {num[e]:.10g} (difference "
                        f"{abs(fwd[e] - num[e]):.3g})" + c.hint([]))


def _upstream(v: Any, out: Tensor, k: int, dtype: np.dtype) -> Tensor:
    """``grad_outputs[k]`` as a new tensor requiring grad: a Tensor or array of output k's
    shape, or a number that fills it."""
    if isinstance(v, Tensor):
        a, device = v.numpy(), v.device
    else:
        try:
            a, device = np.asarray(v, dtype=np.float64), out.device
        except (TypeError, ValueError) as e:
            raise TypeError(f"gradgradcheck: grad_outputs[{k}] must be a Tensor, an array or a "
                            f"number, not {type(v).__name__}") from e
        if a.ndim == 0:
            a = np.full(out.shape, a)
    if a.shape != out.shape:
        raise ValueError(f"gradgradcheck: grad_outputs[{k}] has shape {a.shape}, but output {k} "
                         f"has shape {out.shape}")
    return tensor(a.astype(out.dtype if out.dtype.kind == "c" else dtype), device=device,
                  requires_grad=True)


def gradgradcheck(
    fn: Callable[..., Any],
    inputs: Tensor | Sequence[Any],
    grad_outputs: Tensor | Sequence[Any] | None = None,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    fast_mode: bool | None = None,
    seed: int = 0,
    raise_exception: bool = True,
    check_dtype: bool = True,
    *,
    nondet_tol: float = 0.0,
    check_undefined_grad: bool = True,
    **torch_flags: Any,
) -> bool:
    """gradcheck of the gradient: checks second derivatives (``create_graph=True``).

    The function checked is (x, v) -> vJ(x), differentiated with respect to the inputs that
    require grad and to the upstream gradients ``v``: random, or ``grad_outputs``, one per
    output of ``fn`` (Tensors, arrays, or numbers that fill the output's shape; a single
    Tensor for a single output). ``v`` takes the inputs' floating dtype where they share one,
    so ``check_dtype`` runs the backward in it. The other keywords are ``gradcheck``'s, and
    PyTorch's ``check_rev_over_rev=True``, ``check_fwd_over_rev=False`` and
    ``gen_non_contig_grad_outputs=False`` are accepted too. Every op in ``fn`` must have a
    differentiable backward: a ``tr.autograd.Function`` has none (``create_graph=True``
    through it is a RuntimeError); write it as a ``tr.Function`` (docs/adding_an_op.md).
    """
    _torch_flags("gradgradcheck", torch_flags, _GRADGRADCHECK_FLAGS)
    xs = _inputs("gradgradcheck", inputs)
    if isinstance(grad_outputs, Tensor):
        grad_outputs = [grad_outputs]
    diff = [i for i, x in enumerate(xs) if isinstance(x, Tensor) and x.requires_grad]
    if not diff:
        raise ValueError("gradgradcheck: no input requires grad")
    outs = _as_tuple(fn(*[_copy(x, np.float64) for x in xs]))
    floats = {x.dtype for x in xs if isinstance(x, Tensor) and x.dtype.kind == "f"}
    dt = floats.pop() if len(floats) == 1 else np.dtype(np.float64)
    if grad_outputs is None:
        rng = np.random.default_rng(seed + 1)
        vs = [tensor(_random(rng, o.shape, o.dtype), device=o.device, requires_grad=True,
                     dtype=o.dtype if o.dtype.kind == "c" else dt) for o in outs]
    elif len(grad_outputs) != len(outs):
        raise ValueError(f"gradgradcheck: {len(grad_outputs)} grad_outputs for {len(outs)} "
                         "outputs")
    else:
        vs = [_upstream(v, o, k, dt) for k, (v, o) in enumerate(zip(grad_outputs, outs))]
    n = len(xs)

    def first_grad(*args: Any) -> tuple[Tensor, ...]:
        x_args, v_args = list(args[:n]), list(args[n:])
        o = _as_tuple(fn(*x_args))
        live = [k for k, t in enumerate(o) if t.requires_grad]
        gs = grad([o[k] for k in live], [x_args[i] for i in diff], [v_args[k] for k in live],
                  create_graph=True, allow_unused=True) if live else (None,) * len(diff)
        return tuple(g if g is not None else (x_args[i] * 0) for i, g in zip(diff, gs))

    # the gradient recorded with create_graph must be the one backward gives without it: a
    # backward that computes another formula on Tensors would pass the check below alone
    x64, v64 = [_copy(x, np.float64) for x in xs], [_copy(v, np.float64) for v in vs]
    o = _as_tuple(fn(*x64))
    live = [k for k, t in enumerate(o) if t.requires_grad]
    plain = grad([o[k] for k in live], [x64[i] for i in diff], [v64[k] for k in live],
                 allow_unused=True) if live else (None,) * len(diff)
    for i, g, h in zip(diff, first_grad(*x64, *v64), plain):
        want = np.zeros(x64[i].shape) if h is None else h.numpy()
        if not np.allclose(g.numpy(), want, atol=atol, rtol=rtol, equal_nan=True):
            if not raise_exception:
                return False
            raise GradcheckError(
                f"input {i}: the gradient recorded with create_graph=True differs from the one "
                f"backward gives without it (max difference "
                f"{np.max(np.abs(g.numpy() - want)):.3g}): backward must compute the same "
                "formula on Tensors as on arrays")

    return gradcheck(first_grad, [*xs, *vs], eps=eps, atol=atol, rtol=rtol, fast_mode=fast_mode,
                     seed=seed, raise_exception=raise_exception, check_dtype=check_dtype,
                     nondet_tol=nondet_tol, check_undefined_grad=check_undefined_grad)
