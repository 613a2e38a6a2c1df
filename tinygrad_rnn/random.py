"""The random number generator behind ``randn``, ``rand``, ``randperm``, ``dropout`` and weight
init.

One seeded ``numpy.random.Generator`` on the host: ``tr.manual_seed(s)`` makes every draw after
it reproducible, and a CPU run and a GPU run draw identical numbers (they are made on the host
and then moved to the device).
"""

from __future__ import annotations

import operator
from typing import Any

import numpy as np

from .tensor import (
    DTypeError,
    DTypeLike,
    Tensor,
    _laid_out,
    default_dtype,
    preserve_format,
    resolve_dtype,
    tensor,
)

_SEED = [int(np.random.SeedSequence().entropy % 2**63)]  # the last seed (initial_seed)
_rng = np.random.default_rng(_SEED[0])


def manual_seed(seed: int) -> Generator:
    """Reseed the global generator (a negative seed wraps around, as PyTorch's); returns it
    as a ``tr.Generator`` (``default_generator``), as ``torch.manual_seed`` does."""
    global _rng
    try:
        seed = operator.index(seed)
    except TypeError:
        raise TypeError(f"manual_seed: the seed must be an int, got {type(seed).__name__}") \
            from None
    _SEED[0] = seed
    _rng = np.random.default_rng(seed % 2**64)
    return default_generator


def initial_seed() -> int:
    """The global generator's last seed (``manual_seed``'s, or the one drawn at import), as
    ``torch.initial_seed``."""
    return _SEED[0]


def generator() -> np.random.Generator:
    """The global generator (draw from it to stay reproducible under ``manual_seed``)."""
    return _rng


def get_rng_state() -> dict[str, Any]:
    """The generator's state, to save in a checkpoint: NumPy's dict of it (``tr.save`` keeps
    it). ``tr.get_rng_state()`` gives the same state as a uint8 tensor, as PyTorch's."""
    return _rng.bit_generator.state


def set_rng_state(new_state: Any) -> None:
    """Restore a state from ``get_rng_state`` (the dict) or ``tr.get_rng_state`` (the uint8
    tensor): the draws that follow are those that followed it."""
    state = new_state
    if isinstance(state, Tensor):
        state = _state_from_bytes(state)
    if not isinstance(state, dict):
        raise TypeError(f"set_rng_state takes the dict of tr.random.get_rng_state() or the "
                        f"uint8 tensor of tr.get_rng_state(), got {type(state).__name__}")
    _rng.bit_generator.state = state


_STATE_BYTES = 37  # PCG64: 128-bit state, 128-bit increment, has_uint32, a 32-bit uinteger


def get_rng_state_tensor() -> Tensor:
    """The global generator's state as a 1-D uint8 tensor, as ``torch.get_rng_state()``
    (other bytes than PyTorch's: NumPy's PCG64 state, increment and cached half-word, 37
    bytes little-endian); ``set_rng_state`` takes it back. This is ``tr.get_rng_state``."""
    st = _rng.bit_generator.state
    if st["bit_generator"] != "PCG64":  # default_rng's; anything else is a bug here
        raise RuntimeError(f"get_rng_state: a {st['bit_generator']} generator has no byte form")
    raw = (st["state"]["state"].to_bytes(16, "little") + st["state"]["inc"].to_bytes(16, "little")
           + bytes([st["has_uint32"]]) + st["uinteger"].to_bytes(4, "little"))
    return tensor(np.frombuffer(raw, dtype=np.uint8).copy())


def _state_from_bytes(t: Tensor) -> dict[str, Any]:
    if t.dtype != np.uint8 or t.shape != (_STATE_BYTES,):
        raise ValueError(f"set_rng_state: a state tensor is {_STATE_BYTES} uint8 values "
                         f"(tr.get_rng_state()), got shape {t.shape} of {t.dtype}")
    raw = t.numpy().tobytes()
    return {"bit_generator": "PCG64",
            "state": {"state": int.from_bytes(raw[:16], "little"),
                      "inc": int.from_bytes(raw[16:32], "little")},
            "has_uint32": raw[32], "uinteger": int.from_bytes(raw[33:], "little")}


class Generator:
    """A random number generator of its own, as ``torch.Generator``: ``g =
    tr.Generator().manual_seed(0)``, then ``generator=g`` to ``randn``, ``rand``, ``randint``,
    ``randperm``, ``multinomial``, ``DataLoader``, ``random_split`` or ``nn.init``, draws from g
    instead of the global generator. NumPy's default bit generator (PCG64) on the host, as the
    global one: other numbers than PyTorch's for one seed. ``device`` is taken for PyTorch's
    sake; every draw happens on the host."""

    def __init__(self, device: str = "cpu") -> None:
        self.device = device
        self._seed = int(np.random.SeedSequence().entropy % 2**63)
        self.rng = np.random.default_rng(self._seed)

    def manual_seed(self, seed: int) -> Generator:
        """Reseed; returns this generator (``tr.Generator().manual_seed(0)``)."""
        self._seed = operator.index(seed)
        self.rng = np.random.default_rng(self._seed % 2**64)  # negative: wraps, as PyTorch's
        return self

    def seed(self) -> int:
        """Reseed from fresh entropy; returns the new seed."""
        self.manual_seed(int(np.random.SeedSequence().entropy % 2**63))
        return self._seed

    def initial_seed(self) -> int:
        return self._seed

    def get_state(self) -> dict[str, Any]:
        """The generator's state (a dict, where PyTorch gives a byte tensor)."""
        return self.rng.bit_generator.state

    def set_state(self, state: dict[str, Any]) -> Generator:
        self.rng.bit_generator.state = state
        return self


class _DefaultGenerator(Generator):
    """The global generator as a ``tr.Generator`` (``tr.default_generator``, what
    ``tr.manual_seed`` returns, as ``torch.default_generator``): seeding it, drawing from it
    (``generator=``), or reading or setting its state is doing so to the global one."""

    def __init__(self) -> None:  # no generator of its own
        self.device = "cpu"

    @property
    def rng(self) -> np.random.Generator:  # type: ignore[override]
        return _rng

    @property
    def _seed(self) -> int:  # type: ignore[override]
        return _SEED[0]

    def manual_seed(self, seed: int) -> Generator:
        return manual_seed(seed)


default_generator = _DefaultGenerator()


def rng_of(generator: Any, where: str) -> np.random.Generator:
    """The NumPy generator to draw from: ``generator``'s (a ``tr.Generator`` or a
    ``numpy.random.Generator``), or, for None, the global one."""
    if generator is None:
        return _rng
    if isinstance(generator, Generator):
        return generator.rng
    if isinstance(generator, np.random.Generator):
        return generator
    raise TypeError(f"{where}: generator must be a tr.Generator or a numpy.random.Generator, "
                    f"got {type(generator).__name__}")


def _shape(shape: tuple[Any, ...]) -> tuple[int, ...]:
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        return tuple(shape[0])
    return tuple(shape)


def randn(*shape: Any, dtype: DTypeLike = None, device: str = "cpu",
          requires_grad: bool = False, generator: Any = None) -> Tensor:
    """Standard normal samples (of the default dtype, float32, unless ``dtype``)."""
    dt = resolve_dtype(dtype) if dtype is not None else default_dtype()
    rng = rng_of(generator, "randn")
    return tensor(rng.standard_normal(_shape(shape)).astype(dt), device=device,
                  requires_grad=requires_grad)


def rand(*shape: Any, dtype: DTypeLike = None, device: str = "cpu",
         requires_grad: bool = False, generator: Any = None) -> Tensor:
    """Uniform samples in [0, 1) (of the default dtype unless ``dtype``)."""
    dt = resolve_dtype(dtype) if dtype is not None else default_dtype()
    return tensor(rng_of(generator, "rand").random(_shape(shape)).astype(dt), device=device,
                  requires_grad=requires_grad)


def randn_like(x: Tensor, *, dtype: DTypeLike = None, device: str | None = None,
               requires_grad: bool = False, generator: Any = None, layout: Any = None,
               memory_format: Any = preserve_format) -> Tensor:
    """``randn`` of x's shape, dtype and device (or ``dtype``, ``device``), laid out as x (or
    as ``memory_format`` asks), as ``torch.randn_like``; a TypeError for an integer or bool
    dtype, as PyTorch refuses."""
    dt = _float_like("randn_like", x, dtype)
    out = randn(*x.shape, dtype=dt, device=device or x.device, requires_grad=requires_grad,
                generator=generator)
    return _laid_out("randn_like", out, x, memory_format, layout)


def rand_like(x: Tensor, *, dtype: DTypeLike = None, device: str | None = None,
              requires_grad: bool = False, generator: Any = None, layout: Any = None,
              memory_format: Any = preserve_format) -> Tensor:
    """``rand`` of x's shape, dtype and device, as ``torch.rand_like`` (see ``randn_like``)."""
    dt = _float_like("rand_like", x, dtype)
    out = rand(*x.shape, dtype=dt, device=device or x.device, requires_grad=requires_grad,
               generator=generator)
    return _laid_out("rand_like", out, x, memory_format, layout)


def _float_like(what: str, x: Tensor, dtype: DTypeLike) -> np.dtype:
    dt = resolve_dtype(dtype) if dtype is not None else x.dtype
    if dt.kind != "f":
        raise DTypeError(f"{what}: draws floating-point numbers, not {dt} (pass a float dtype=)")
    return dt


def randperm(n: int, *, dtype: DTypeLike = None, device: str = "cpu",
             requires_grad: bool = False, generator: Any = None) -> Tensor:
    """A random permutation of 0, ..., n - 1 (int64 unless ``dtype``), drawn from the global
    generator (so ``manual_seed`` makes it reproducible), as ``torch.randperm``."""
    try:
        n = operator.index(n)
    except TypeError:
        raise TypeError(f"randperm: n must be an int, got {type(n).__name__}") from None
    if n < 0:
        raise ValueError(f"randperm: n must be >= 0, got {n}")
    dt = resolve_dtype(dtype) if dtype is not None else np.dtype(np.int64)
    return tensor(rng_of(generator, "randperm").permutation(n).astype(dt), device=device,
                  requires_grad=requires_grad)


def randint(*args: Any, low: int | None = None, high: int | None = None, size: Any = None,
            shape: Any = None, dtype: DTypeLike = None, device: str = "cpu",
            generator: Any = None, requires_grad: bool = False) -> Tensor:
    """``randint(high, size)`` or ``randint(low, high, size)``, as PyTorch's (each may be a
    keyword; ``shape=`` is ``size=``): integers uniform in [low, high), low 0 unless given;
    int64 unless ``dtype`` (a floating one may require grad)."""
    size = shape if size is None else size
    if size is None:
        if len(args) < 2 and low is None and high is None or not args:
            raise TypeError("randint needs a size: randint(high, size) or "
                            "randint(low, high, size)")
        *args, size = args
    given = [*args, *([] if high is None else [high])]
    if low is not None:
        given = [low, *given]
    if len(given) not in (1, 2):
        raise TypeError(f"randint takes (high, size) or (low, high, size), got "
                        f"{len(given)} bounds")
    try:
        lo, hi = (0, operator.index(given[0])) if len(given) == 1 else map(operator.index, given)
    except TypeError:
        raise TypeError(f"randint: low and high must be integers, got {given}") from None
    if not hi > lo:
        raise ValueError(f"randint: high ({hi}) must be greater than low ({lo})")
    dt = resolve_dtype(dtype) if dtype is not None else np.dtype(np.int64)
    shape = (size,) if isinstance(size, (int, np.integer)) else tuple(size)
    rng = rng_of(generator, "randint")
    return tensor(rng.integers(lo, hi, size=shape, dtype=np.int64).astype(dt), device=device,
                  requires_grad=requires_grad)


def multinomial(input: Tensor, num_samples: int, replacement: bool = False, *,  # noqa: A002
                generator: Any = None) -> Tensor:
    """For each row of ``input`` (1-D: one row; weights >= 0, not necessarily summing to 1),
    ``num_samples`` class indices drawn with those weights (without ``replacement``, each at
    most once), int64 on the input's device, as ``torch.multinomial``. Without replacement,
    once a row's classes of weight > 0 are drawn, its classes of weight 0 follow in random
    order, as PyTorch's CPU kernel gives them. Drawn on the host from ``tr.manual_seed``'s
    generator."""
    probs = input
    if probs.dtype.kind != "f":
        raise DTypeError(f"multinomial: probs must be floating-point, got {probs.dtype}")
    w = probs.numpy().astype(np.float64)
    rows = w.reshape(1, -1) if w.ndim == 1 else w
    if w.ndim not in (1, 2) or not np.all(np.isfinite(rows)) or np.any(rows < 0) or \
            np.any(rows.sum(axis=1) <= 0):
        raise ValueError("multinomial: probs must be 1-D or 2-D, finite, >= 0, with a "
                         "positive sum in every row")
    if not replacement and num_samples > rows.shape[-1]:
        raise ValueError(f"multinomial: {num_samples} samples without replacement from "
                         f"{rows.shape[-1]} classes")
    rng = rng_of(generator, "multinomial")

    def draw(r: np.ndarray) -> np.ndarray:
        if replacement:
            return rng.choice(len(r), num_samples, replace=True, p=r / r.sum())
        positive = np.flatnonzero(r > 0)
        first = rng.choice(positive, min(num_samples, len(positive)), replace=False,
                           p=r[positive] / r[positive].sum())
        rest = rng.permutation(np.flatnonzero(r == 0))[:num_samples - len(first)]
        return np.concatenate([first, rest])

    out = np.stack([draw(r) for r in rows]) if len(rows) else np.zeros((0, num_samples))
    return tensor(out.reshape(w.shape[:-1] + (num_samples,)).astype(np.int64),
                  device=probs.device)


def _bernoulli_values(what: str, shape: tuple[int, ...], p: Any, dtype: Any,
                      generator: Any) -> np.ndarray:
    """Host draws of ``shape``: 1 with probability ``p`` (a number, or a tensor that
    broadcasts to ``shape``), else 0, of ``dtype``; p checked to lie in [0, 1]."""
    probs = p.numpy() if isinstance(p, Tensor) else np.asarray(p)
    if probs.dtype.kind not in "biuf" or probs.dtype.kind == "f" and not np.all(
            np.isfinite(probs)) or np.any(probs < 0) or np.any(probs > 1):
        raise ValueError(f"{what}: p must be probabilities in [0, 1], got "
                         f"{p if not isinstance(p, Tensor) else 'a tensor outside it'}")
    try:
        probs = np.broadcast_to(probs, shape)
    except ValueError:
        raise ValueError(f"{what}: p of shape {probs.shape} does not broadcast to "
                         f"{shape}") from None
    return (rng_of(generator, what).random(shape) < probs).astype(dtype)


def bernoulli(input: Tensor, p: float | None = None, *,  # noqa: A002
              generator: Any = None) -> Tensor:
    """1 with probability ``input`` (elementwise probabilities in [0, 1]), else 0, of
    ``input``'s dtype and device, as ``torch.bernoulli``; with ``p``, that one probability
    for every element instead. Drawn on the host from ``tr.manual_seed``'s generator (or
    ``generator``): U < p for U uniform in [0, 1). Never differentiable (PyTorch's result
    requires grad with gradient 0; this one is a constant)."""
    if not isinstance(input, Tensor):
        raise TypeError(f"bernoulli: input must be a Tensor, got {type(input).__name__}")
    if input.dtype.kind != "f":
        raise DTypeError(f"bernoulli: input must be floating-point, got {input.dtype} (as in "
                         "PyTorch)")
    values = _bernoulli_values("bernoulli", input.shape, input if p is None else p,
                               input.dtype, generator)
    return tensor(values, device=input.device)


def normal(mean: Any = 0.0, std: Any = 1.0, size: Any = None, *, generator: Any = None,
           dtype: DTypeLike = None, device: str | None = None,
           requires_grad: bool = False) -> Tensor:
    """Draws from N(mean, std²), as ``torch.normal``, in its four forms: ``mean`` and ``std``
    tensors (broadcast together; the result has their shape, dtype and device), one of them
    a tensor and the other a number, or two numbers and a ``size`` (of the default dtype
    unless ``dtype``). Drawn on the host from ``tr.manual_seed``'s generator (or
    ``generator``) as mean + std · z, z standard normal, so other numbers than PyTorch's for
    one seed. Never differentiable: PyTorch's result from a tensor mean requires grad, but
    its gradient is 0 (the draw is not reparameterised); this one is a constant."""
    rng = rng_of(generator, "normal")
    tensors = [t for t in (mean, std) if isinstance(t, Tensor)]
    for name, v in (("mean", mean), ("std", std)):
        if not isinstance(v, Tensor) and (isinstance(v, bool) or not isinstance(
                v, (int, float, np.integer, np.floating))):
            raise TypeError(f"normal: {name} must be a Tensor or a number, got "
                            f"{type(v).__name__}")
    if not tensors:
        if size is None:
            raise TypeError("normal: with a number mean and std, give size= (the shape to "
                            "draw)")
        shape = (size,) if isinstance(size, (int, np.integer)) else tuple(size)
        if not std >= 0:
            raise ValueError(f"normal: std must be >= 0, got {std}")
        dt = resolve_dtype(dtype) if dtype is not None else default_dtype()
        values = mean + std * rng.standard_normal(shape)
        return tensor(values.astype(dt), device=device or "cpu", requires_grad=requires_grad)
    if size is not None:
        raise TypeError("normal: size= goes with a number mean and std; with a tensor the "
                        "result has its shape")
    ref = tensors[0]
    for t in tensors:
        if t.dtype.kind != "f":
            raise DTypeError(f"normal: mean and std tensors must be floating-point, got "
                             f"{t.dtype}")
        if t._dev is not ref._dev:
            raise ValueError(f"normal: mean on {ref.device!r}, std on {t.device!r}")
    m = mean.numpy() if isinstance(mean, Tensor) else np.asarray(mean)
    s = std.numpy() if isinstance(std, Tensor) else np.asarray(std)
    if np.any(s < 0):
        raise ValueError("normal: every std must be >= 0")
    try:
        shape = np.broadcast_shapes(m.shape, s.shape)
    except ValueError:
        raise ValueError(f"normal: mean of shape {m.shape} and std of shape {s.shape} do not "
                         "broadcast together") from None
    dt = np.result_type(*[t.dtype for t in tensors])
    values = (m + s * rng.standard_normal(shape)).astype(dt)
    return tensor(values, device=device or ref.device, requires_grad=requires_grad)


def randint_like(x: Tensor, low: int = 0, high: int | None = None, *,
                 dtype: DTypeLike = None, device: str | None = None,
                 generator: Any = None, layout: Any = None,
                 memory_format: Any = preserve_format, requires_grad: bool = False) -> Tensor:
    """``randint`` of x's shape, dtype and device (or ``dtype``, ``device``), as
    ``torch.randint_like(x, high)`` or ``(x, low, high)``: integers uniform in [low, high),
    of x's dtype even where it is floating, as PyTorch's."""
    if not isinstance(x, Tensor):
        raise TypeError(f"randint_like: x must be a Tensor, got {type(x).__name__}")
    if high is None:
        low, high = 0, low
    out = randint(low, high, x.shape, dtype=x.dtype if dtype is None else dtype,
                  device=device or x.device, generator=generator)
    out = _laid_out("randint_like", out, x, memory_format, layout)
    return out.requires_grad_() if requires_grad else out


def poisson(input: Tensor, generator: Any = None) -> Tensor:  # noqa: A002
    """A count drawn from the Poisson distribution of each element's rate (>= 0), of
    ``input``'s dtype and device, as ``torch.poisson``. Drawn on the host from
    ``tr.manual_seed``'s generator (or ``generator``), so other numbers than PyTorch's for one
    seed; never differentiable (PyTorch's gradient is 0)."""
    if not isinstance(input, Tensor):
        raise TypeError(f"poisson: input must be a Tensor, got {type(input).__name__}")
    if input.dtype.kind != "f":
        raise DTypeError(f"poisson: the rates must be floating-point, got {input.dtype} (as in "
                         "PyTorch)")
    rates = input.numpy().astype(np.float64)
    if not np.all(rates >= 0):  # (NaN included)
        raise ValueError("poisson: every rate must be >= 0 (and not NaN)")
    counts = rng_of(generator, "poisson").poisson(rates)
    return tensor(counts.astype(input.dtype), device=input.device)


def random_values(what: str, shape: tuple[int, ...], dtype: np.dtype, low: int,
                  high: int | None, generator: Any) -> np.ndarray:
    """Host integers of ``shape`` uniform in [low, high), as ``x.random_(low, high)`` draws
    them, of ``dtype``; ``high`` None: up to the largest integer ``dtype`` holds exactly
    (2^mantissa for a float dtype, 2^24 for float32; its maximum for an integer one; 1 for
    bool), that one included, as PyTorch's ``random_()``. The bounds are checked to fit."""
    for name, v in (("from", low), ("to", high)):
        if v is not None and (isinstance(v, bool) or not isinstance(v, (int, np.integer))):
            raise TypeError(f"{what}: {name} must be an int, got {v!r}")
    if dtype.kind == "f":
        top = 2 ** (np.finfo(dtype).nmant + 1)
        floor, ceiling = -top, top  # the range of integers it holds exactly
    elif dtype.kind == "b":
        floor, ceiling = 0, 1
    else:
        floor, ceiling = int(np.iinfo(dtype).min), int(np.iinfo(dtype).max)
    last = ceiling if high is None else int(high) - 1  # the largest value drawn
    if not floor <= low <= last <= ceiling:
        raise ValueError(f"{what}: [{low}, {'its maximum' if high is None else high}) is "
                         f"empty or does not fit a {dtype} tensor (whose integers lie in "
                         f"[{floor}, {ceiling}])")
    rng = rng_of(generator, what)
    return rng.integers(low, last, size=shape, endpoint=True,
                        dtype=np.int64 if last < 2**63 else np.uint64).astype(dtype)


def cauchy_values(what: str, shape: tuple[int, ...], median: float, sigma: float,
                  generator: Any) -> np.ndarray:
    """Host draws of ``shape`` from the Cauchy distribution, median + sigma · C with C
    standard Cauchy (density 1 / (π (1 + c²))), as ``x.cauchy_(median, sigma)``."""
    if not sigma > 0:
        raise ValueError(f"{what}: sigma must be > 0, got {sigma!r}")
    return median + sigma * rng_of(generator, what).standard_cauchy(shape)


def binomial(count: Tensor, prob: Tensor, generator: Any = None) -> Tensor:
    """The number of successes in ``count`` trials of probability ``prob`` each, elementwise
    (count and prob broadcast), of count's dtype and device, as ``torch.binomial``. count and
    prob are floating-point tensors of one dtype, as there; counts must be whole numbers >= 0
    and probabilities lie in [0, 1] (PyTorch returns garbage for others; here they are
    refused). Drawn on the host from ``tr.manual_seed``'s generator (or ``generator``), so
    other numbers than PyTorch's for one seed; never differentiable."""
    for name, t in (("count", count), ("prob", prob)):
        if not isinstance(t, Tensor):
            raise TypeError(f"binomial: {name} must be a Tensor, got {type(t).__name__}")
        if t.dtype.kind != "f":
            raise DTypeError(f"binomial: {name} must be floating-point, got {t.dtype} (as in "
                             "PyTorch)")
    if prob.dtype != count.dtype:
        raise DTypeError(f"binomial: prob is {prob.dtype} but count is {count.dtype} (they must "
                         "match, as in PyTorch)")
    if prob.device != count.device:
        raise ValueError(f"binomial: count on {count.device!r}, prob on {prob.device!r}")
    n, p = count.numpy().astype(np.float64), prob.numpy().astype(np.float64)
    shape = np.broadcast_shapes(n.shape, p.shape)  # (raises, naming both, if they do not)
    if not np.all((n >= 0) & (n == np.floor(n)) & np.isfinite(n)):
        raise ValueError("binomial: every count must be a whole number >= 0")
    if not np.all((p >= 0) & (p <= 1)):  # (NaN included)
        raise ValueError("binomial: every probability must lie in [0, 1] (and not be NaN)")
    draws = rng_of(generator, "binomial").binomial(np.broadcast_to(n, shape).astype(np.int64),
                                                   np.broadcast_to(p, shape))
    return tensor(draws.astype(count.dtype), device=count.device)
