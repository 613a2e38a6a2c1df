"""Check analytic gradients against central differences, in float64.

``gradcheck(fn, inputs)`` runs ``fn`` on float64 copies of ``inputs`` and compares, for every
input that requires grad, the gradient the engine computes with the numerical one::

    d<v, fn(x)>/dx_j  ≈  (<v, fn(x + eps e_j)> - <v, fn(x - eps e_j)>) / (2 eps)

In full mode (small inputs) it builds the whole Jacobian both ways (one backward per output
element, two forwards per input element) and names the first input and element, and output and
element, that differ. In fast mode (big inputs) it compares ``<vJ, u>`` for a random upstream
gradient ``v`` and random directions ``u``, one input at a time. It also checks that ``fn`` and
its backward mutate neither the inputs nor the upstream gradient, that a zero upstream gradient
gives zero gradients (not NaN), and, since float64 hides dtype slips, that every op run on the
inputs' own dtypes (float32, say) keeps its inputs' dtype, forward and backward.
``gradgradcheck`` does the same for the gradient itself, after checking that the gradient
recorded with ``create_graph=True`` equals the one the backward gives on arrays.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..autograd import grad
from ..debug import Listener, listen
from ..ops.elementwise import AsType
from ..tensor import Function, Tensor, tensor

FULL_MODE_LIMIT = 4096  # full mode while (input elements) * (output elements) is at most this


class GradcheckError(AssertionError):
    """A gradient, or a side effect, that does not match what it should be."""


def _as_tuple(out: Any) -> tuple[Tensor, ...]:
    outs = out if isinstance(out, (tuple, list)) else (out,)
    for o in outs:
        if not isinstance(o, Tensor):
            raise TypeError(f"gradcheck: fn must return Tensors, got {type(o).__name__}")
    return tuple(outs)


def _copy(x: Any, dtype: Any = None) -> Any:
    """A floating tensor copied (to ``dtype`` if given); anything else as it is."""
    if isinstance(x, Tensor) and x.dtype.kind == "f":
        return tensor(x.numpy().astype(dtype or x.dtype), device=x.device,
                      requires_grad=x.requires_grad)
    return x


def _host(x: Any) -> np.ndarray:
    return x.numpy() if isinstance(x, Tensor) else np.asarray(x)


class _Checker:
    def __init__(self, fn: Callable[..., Any], inputs: Sequence[Any], seed: int) -> None:
        self.fn = fn
        self.xs = [_copy(x, np.float64) for x in inputs]
        self.diff = [i for i, x in enumerate(self.xs) if isinstance(x, Tensor) and x.requires_grad]
        if not self.diff:
            raise ValueError("gradcheck: no input requires grad")
        self.rng = np.random.default_rng(seed)
        # fn runs with grad mode on even for numerical values: it may itself differentiate
        self.out_shapes = [o.shape for o in _as_tuple(fn(*self.xs))]

    def outputs(self, i: int, host: np.ndarray) -> tuple[Tensor, ...]:
        """fn's outputs with input ``i`` replaced by ``host`` (still requiring grad: fn may
        differentiate inside, as gradgradcheck's does)."""
        xs = list(self.xs)
        xs[i] = tensor(host, dtype=np.float64, device=self.xs[i].device, requires_grad=True)
        return _as_tuple(self.fn(*xs))

    def value(self, i: int, host: np.ndarray, vs: list[np.ndarray]) -> float:
        """<v, fn(x)> with input ``i`` replaced by ``host``, in float64."""
        outs = self.outputs(i, host)
        return float(sum(np.sum(o.numpy().astype(np.float64) * v) for o, v in zip(outs, vs)))

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
            if dt is not None and p.dtype == dt and g_dt is not None and g_dt != dt:
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
    inputs: Sequence[Any],
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    fast_mode: bool | None = None,
    n_directions: int = 2,
    seed: int = 0,
    raise_exception: bool = True,
    check_dtype: bool = True,
) -> bool:
    """True if ``fn``'s gradients match central differences for every input requiring grad.

    ``inputs`` may mix tensors and other arguments; floating-point tensors are copied to
    float64 first. An element passes if ``|analytic - numeric| <= atol + rtol * |numeric|``.
    ``fast_mode=None`` picks full mode for small problems and fast mode otherwise. With
    ``check_dtype``, ``fn`` also runs once (forward and backward) on the inputs' own dtypes,
    and each op must keep its inputs' floating dtype (float32, say) in its outputs and in its
    gradients; ``astype`` may change it (an ``fn`` that raises on those dtypes fails). On
    failure it raises
    ``GradcheckError`` (or returns False with ``raise_exception=False``).
    """
    try:
        _gradcheck(fn, inputs, eps, atol, rtol, fast_mode, n_directions, seed)
        if check_dtype:
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
    fast_mode: bool | None, n_directions: int, seed: int,
) -> None:
    c = _Checker(fn, inputs, seed)
    n_in = sum(c.xs[i].size for i in c.diff)
    n_out = sum(int(np.prod(s)) for s in c.out_shapes)
    if fast_mode is None:
        fast_mode = n_in * n_out > FULL_MODE_LIMIT

    zeros = [np.zeros(s) for s in c.out_shapes]
    for i, g in zip(c.diff, c.analytic(zeros)):
        bad = np.argwhere(g != 0)  # NaN included
        if len(bad):
            j = tuple(int(n) for n in bad[0])
            if np.isnan(g[j]):
                raise GradcheckError(f"input {i}: a zero upstream gradient gave NaN at element "
                                     f"{j} (is there a 0 * inf in backward?)")
            raise GradcheckError(f"input {i}: a zero upstream gradient gave a nonzero gradient, "
                                 f"{g[j]:.10g} at element {j}")

    if fast_mode:
        vs = [c.rng.standard_normal(s) for s in c.out_shapes]
        grads = c.analytic(vs)
        for i, g in zip(c.diff, grads):
            x = c.xs[i].numpy()
            for d in range(n_directions):
                u = c.rng.standard_normal(x.shape)
                num = (c.value(i, x + eps * u, vs) - c.value(i, x - eps * u, vs)) / (2 * eps)
                ana = float(np.sum(g * u))
                if not _close(ana, num, atol * max(1.0, np.sqrt(x.size)), rtol):
                    raise GradcheckError(
                        f"input {i} (shape {x.shape}): along random direction {d}, analytic "
                        f"{ana:.10g} vs numerical {num:.10g} (difference {abs(ana - num):.3g}); "
                        "run with fast_mode=False on a smaller input to find the element"
                    )
        return

    # full mode: the Jacobian row by row (analytic) and column by column (numerical)
    cells = [(m, e) for m, s in enumerate(c.out_shapes) for e in np.ndindex(*s)]  # C order
    rows: list[list[np.ndarray]] = []
    for m, e in cells:
        vs = [np.zeros(s) for s in c.out_shapes]
        vs[m][e] = 1.0
        rows.append(c.analytic(vs))
    for col, i in enumerate(c.diff):
        x = c.xs[i].numpy()
        for j in np.ndindex(*x.shape):
            xp_, xm = x.copy(), x.copy()
            xp_[j] += eps
            xm[j] -= eps
            op, om = c.outputs(i, xp_), c.outputs(i, xm)
            num = np.concatenate([((a.numpy() - b.numpy()) / (2 * eps)).reshape(-1)
                                  for a, b in zip(op, om)])
            for k, (m, e) in enumerate(cells):
                ana = float(rows[k][col][j])
                if not _close(ana, float(num[k]), atol, rtol):
                    raise GradcheckError(
                        f"input {i} (shape {x.shape}), element {j}, output {m} (shape "
                        f"{c.out_shapes[m]}), element {e}: analytic {ana:.10g} vs numerical "
                        f"{num[k]:.10g} (difference {abs(ana - num[k]):.3g})"
                    )


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
    return tensor(a.astype(dtype), device=device, requires_grad=True)


def gradgradcheck(
    fn: Callable[..., Any],
    inputs: Sequence[Any],
    grad_outputs: Sequence[Any] | None = None,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    fast_mode: bool | None = None,
    seed: int = 0,
    raise_exception: bool = True,
    check_dtype: bool = True,
) -> bool:
    """gradcheck of the gradient: checks second derivatives (``create_graph=True``).

    The function checked is (x, v) -> vJ(x), differentiated with respect to the inputs that
    require grad and to the upstream gradients ``v``: random, or ``grad_outputs``, one per
    output of ``fn`` (Tensors, arrays, or numbers that fill the output's shape). ``v`` takes
    the inputs' floating dtype where they share one, so ``check_dtype`` runs the backward in it.
    """
    xs = list(inputs)
    diff = [i for i, x in enumerate(xs) if isinstance(x, Tensor) and x.requires_grad]
    if not diff:
        raise ValueError("gradgradcheck: no input requires grad")
    outs = _as_tuple(fn(*[_copy(x, np.float64) for x in xs]))
    floats = {x.dtype for x in xs if isinstance(x, Tensor) and x.dtype.kind == "f"}
    dt = floats.pop() if len(floats) == 1 else np.dtype(np.float64)
    if grad_outputs is None:
        rng = np.random.default_rng(seed + 1)
        vs = [tensor(rng.standard_normal(o.shape), dtype=dt, device=o.device,
                     requires_grad=True) for o in outs]
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
                     seed=seed, raise_exception=raise_exception, check_dtype=check_dtype)
