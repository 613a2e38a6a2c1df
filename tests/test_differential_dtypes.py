"""Differential test of dtype semantics against PyTorch: Hypothesis draws one *case* (an op
from a broad table, operands of every dtype we have, 0-d or with axes, or Python numbers on
either side, and the default dtype, float32, float64 or now and then float16) and runs it
through one interpreter in torch and in tinygrad_rnn. The result's dtype must be torch's
exactly, its shape too, and its values: exactly for bools and integers (overflow wraps as
there), to a tolerance scaled to the dtype for floats and complex numbers, NaN where NaN. An
op that raises in torch must raise here, and only then. A NumPy warning leaking out of ours
(an overflow, a division by zero) is a failure too: torch warns of none of them.

Covered: type promotion of every binary elementwise op, its reflected and in-place forms
(arithmetic, division and its rounding modes, remainder, fmod, pow, atan2, bitwise and shifts,
comparisons, logical ops, maximum/minimum/fmax/fmin, where, clamp with tensor or number bounds,
lerp, addcmul/addcdiv); unary ops on every dtype; reductions and their ``dtype=``; casts
(``.to``, ``.type``, ``.float()`` and the rest); ``result_type``, ``promote_types``,
``can_cast``; the creation functions under each default dtype. Then, outside the interpreter,
``requires_grad`` on integer tensors and gradients through casts and in float16.

Not drawn: bfloat16 (NumPy has no such dtype, so neither has this package) and ``out=``
arguments (ours take none). The cases left out on purpose say why where they are left out.
Run deeper with ``HYPOTHESIS_PROFILE=thorough`` or ``DTYPE_FUZZ_SCALE=20``.
"""

from __future__ import annotations

import math
import operator
import os
import warnings
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
from hypothesis import event, given, note, settings
from hypothesis import strategies as st

import tinygrad_rnn as tr

torch = pytest.importorskip("torch")

pytestmark = pytest.mark.torch

DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64",
          "complex64", "complex128"]
TORCH_DTYPE = {name: getattr(torch, name) for name in DTYPES}
NP_DTYPE = {TORCH_DTYPE[name]: np.dtype(name) for name in DTYPES}
INTEGER = ["uint8", "int8", "int16", "int32", "int64"]
FLOAT = ["float16", "float32", "float64"]
SHAPES = [(), (3,), (2, 3)]  # mutually broadcastable; () is the 0-d case
RAN: Counter = Counter()  # ops that ran in both, over the session


def _edges(name: str) -> list[int]:
    info = np.iinfo(name)
    return [int(info.min), int(info.max)]


# values drawn for each kind: small ones, edges, and (floats) non-finite ones
VALUES: dict[str, list[Any]] = {
    "bool": [False, True],
    **{name: sorted(v for v in {*_edges(name), -7, -3, -2, -1, 0, 1, 2, 3, 5, 100}
                    if _edges(name)[0] <= v <= _edges(name)[1]) for name in INTEGER},
    "float": [0.0, -0.0, 0.5, -0.5, 1.0, -1.5, 2.0, 3.25, -7.0, 100.0, 1e4, math.inf,
              -math.inf, math.nan],
}
SCALARS = [True, False, 0, 1, 2, -3, 7, 0.0, 0.5, -1.5, 2.0, math.inf, 1j, 0.5 - 2j, 0j]


class Skip(Exception):
    """The case is left out on purpose (its reason is the message)."""


@dataclass(frozen=True)
class T:
    """A tensor operand: its values, as a NumPy array of its dtype."""

    a: np.ndarray

    def make(self, m: Any) -> Any:
        return m.tensor(self.a.copy())

    def __repr__(self) -> str:
        return f"T(np.array({self.a.tolist()!r}, dtype={self.a.dtype.name!r}))"


def operand(m: Any, v: Any) -> Any:
    return v.make(m) if isinstance(v, T) else v


# ---- the op table ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Op:
    name: str
    kinds: str  # one letter per operand: "t" a tensor, "s" a tensor or a number, "b" a bool mask
    run: Callable[..., Any]  # (m, *operands, *args) -> result
    args: Callable[[Any], tuple] = lambda draw: ()


OPS: dict[str, Op] = {}


def op(name: str, kinds: str, run: Callable[..., Any], args=None) -> None:
    OPS[name] = Op(name, kinds, run, args or (lambda draw: ()))


def _dtype_arg(draw) -> str:
    return draw(st.sampled_from(DTYPES))


# Python's operators: a number on either side (its reflected form), never both
OPERATORS = {
    "+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b,
    "/": lambda a, b: a / b, "//": lambda a, b: a // b, "%": lambda a, b: a % b,
    "**": lambda a, b: a ** b, "&": lambda a, b: a & b, "|": lambda a, b: a | b,
    "^": lambda a, b: a ^ b, "<<": lambda a, b: a << b, ">>": lambda a, b: a >> b,
    "==": lambda a, b: a == b, "!=": lambda a, b: a != b, "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b, ">": lambda a, b: a > b, ">=": lambda a, b: a >= b,
}
for _s, _f in OPERATORS.items():
    op(f"a {_s} b", "ss", lambda m, a, b, _f=_f: _f(a, b))


AUGMENTED = {"+": operator.iadd, "-": operator.isub, "*": operator.imul,
             "/": operator.itruediv, "//": operator.ifloordiv, "%": operator.imod,
             "**": operator.ipow, "&": operator.iand, "|": operator.ior, "^": operator.ixor,
             "<<": operator.ilshift, ">>": operator.irshift}


def _augmented(f: Callable[..., Any]) -> Callable[..., Any]:
    def run(m, a, b):
        x = a.clone()
        y = f(x, b)
        assert y is x, "an augmented assignment keeps the tensor"
        return y

    return run


for _s, _f in AUGMENTED.items():
    op(f"a {_s}= b", "ts", _augmented(_f))

# functions of torch's namespace, a tensor first (a number second where torch takes one)
FUNCTIONS = {
    "add": "ts", "sub": "ts", "mul": "ts", "div": "ts", "true_divide": "ts",
    "floor_divide": "ts", "remainder": "ts", "fmod": "ts", "pow": "ss", "atan2": "tt",
    "bitwise_and": "ts", "bitwise_or": "ts", "bitwise_xor": "ts", "bitwise_left_shift": "ts",
    "bitwise_right_shift": "ts", "logical_and": "tt", "logical_or": "tt", "logical_xor": "tt",
    "maximum": "tt", "minimum": "tt", "fmax": "tt", "fmin": "tt", "eq": "ts", "ne": "ts",
    "lt": "ts", "le": "ts", "gt": "ts", "ge": "ts",
}
for _n, _k in FUNCTIONS.items():
    op(f"{_n}(a, b)", _k, lambda m, a, b, _n=_n: getattr(m, _n)(a, b))
    if _k[0] == "t" and _n not in ("eq", "ne", "lt", "le", "gt", "ge"):
        op(f"a.{_n}_(b)", _k, lambda m, a, b, _n=_n: getattr(a.clone(), f"{_n}_")(b))
op("add(a, b, alpha)", "ts", lambda m, a, b, al: m.add(a, b, alpha=al),
   lambda draw: (draw(st.sampled_from([2, -1, 0.5, True])),))
op("div(a, b, rounding_mode)", "ts", lambda m, a, b, r: m.div(a, b, rounding_mode=r),
   lambda draw: (draw(st.sampled_from(["trunc", "floor", None])),))
op("where(c, a, b)", "bss", lambda m, c, a, b: m.where(c, a, b))
op("clamp(a, min)", "ts", lambda m, a, b: m.clamp(a, min=b))
op("clamp(a, max)", "ts", lambda m, a, b: a.clamp(max=b))
op("clamp(a, min, max)", "tss", lambda m, a, lo, hi: m.clamp(a, lo, hi))
op("a.clamp_(min, max)", "tss", lambda m, a, lo, hi: a.clone().clamp_(lo, hi))
op("lerp(a, b, w)", "tts", lambda m, a, b, w: m.lerp(a, b, w))
op("a.lerp_(b, w)", "tts", lambda m, a, b, w: a.clone().lerp_(b, w))
op("addcmul(a, b, c, value)", "ttt", lambda m, a, b, c, v: m.addcmul(a, b, c, value=v),
   lambda draw: (draw(st.sampled_from([1, 2, 0.5, -1.5, True])),))
op("addcdiv(a, b, c, value)", "ttt", lambda m, a, b, c, v: m.addcdiv(a, b, c, value=v),
   lambda draw: (draw(st.sampled_from([1, 2, 0.5, -1.5])),))
op("a.addcmul_(b, c)", "ttt", lambda m, a, b, c: a.clone().addcmul_(b, c))

# more binary ops of torch's namespace (a tensor first, a tensor or number second)
for _n in ["copysign", "hypot", "float_power", "xlogy", "nextafter", "logaddexp", "ldexp",
           "heaviside", "gcd"]:
    op(f"{_n}(a, b)", "tt" if _n in ("hypot", "nextafter", "heaviside", "gcd", "ldexp")
       else "ts", lambda m, a, b, _n=_n: getattr(m, _n)(a, b))
op("cat([a, b])", "tt", lambda m, a, b: m.cat([a.reshape(-1), b.reshape(-1)]))
op("stack([a, b])", "tt", lambda m, a, b: m.stack([a, b]) if a.shape == b.shape
   else m.stack([a, a.to(b.dtype)]))
op("a.masked_fill(mask, b)", "ts", lambda m, a, b: a.masked_fill(a != 0, b))
op("a.fill_(b)", "ts", lambda m, a, b: a.clone().fill_(b))
op("a.copy_(b)", "tt", lambda m, a, b: a.clone().copy_(b.expand_as(a) if b.ndim <= a.ndim
                                                          else b))
op("a[...] = b", "ts", lambda m, a, b: _setitem(a, b))
op("a.where(c, b)", "tbs", lambda m, a, c, b: a.where(c, b))


def _setitem(a: Any, b: Any) -> Any:
    x = a.clone()
    x[...] = b
    return x


UNARY = ["neg", "abs", "sign", "sgn", "sqrt", "exp", "sin", "log", "tanh", "sigmoid", "round",
         "floor", "ceil", "trunc", "frac", "bitwise_not", "logical_not", "square", "reciprocal",
         "positive", "isnan", "isinf", "isfinite", "signbit", "rsqrt", "exp2", "log1p",
         "isposinf", "nan_to_num", "fix", "absolute", "negative"]
for _n in UNARY:
    op(f"a.{_n}()", "t", lambda m, a, _n=_n: getattr(a, _n)())
for _n in ["neg", "abs", "sign", "sqrt", "exp", "round", "floor", "ceil", "trunc",
           "bitwise_not", "logical_not", "square", "reciprocal", "frac", "sigmoid"]:
    op(f"a.{_n}_()", "t", lambda m, a, _n=_n: getattr(a.clone(), f"{_n}_")())
op("-a", "t", lambda m, a: -a)
op("~a", "t", lambda m, a: ~a)
op("abs(a)", "t", lambda m, a: abs(a))
op("a.round(decimals)", "t", lambda m, a, d: a.round(decimals=d),
   lambda draw: (draw(st.sampled_from([0, 1, -1])),))

# reductions: over everything, or over axis 0 (a 0-d tensor takes dim 0, as torch's)
for _n in ["sum", "prod", "mean", "nansum", "argmax", "argmin", "amax", "amin", "any", "all",
           "max", "min", "std", "var", "logsumexp", "count_nonzero", "median"]:
    op(f"a.{_n}()", "t", lambda m, a, _n=_n: getattr(a, _n)() if _n != "logsumexp"
       else a.logsumexp(0))
for _n in ["sum", "prod", "mean", "argmax", "any", "all", "cumsum", "cumprod", "amax"]:
    op(f"a.{_n}(0)", "t", lambda m, a, _n=_n: getattr(a, _n)(0))
for _n in ["max", "min"]:
    op(f"a.{_n}(0)", "t", lambda m, a, _n=_n: tuple(getattr(a, _n)(0)))
for _n in ["sum", "prod", "mean", "cumsum", "cumprod", "nansum"]:
    op(f"a.{_n}(dtype=)", "t", lambda m, a, d, _n=_n: getattr(a, _n)(
        **({"dim": 0} if _n.startswith("cum") else {}), dtype=getattr(m, d)),
       lambda draw: (_dtype_arg(draw),))

# casts
op("a.to(dtype)", "t", lambda m, a, d: a.to(getattr(m, d)), lambda draw: (_dtype_arg(draw),))
op("a.type(dtype)", "t", lambda m, a, d: a.type(getattr(m, d)), lambda draw: (_dtype_arg(draw),))
CAST_METHODS = {"float": "float32", "double": "float64", "half": "float16", "long": "int64",
                "int": "int32", "short": "int16", "char": "int8", "byte": "uint8",
                "bool": "bool", "cfloat": "complex64", "cdouble": "complex128"}
for _n in CAST_METHODS:
    op(f"a.{_n}()", "t", lambda m, a, _n=_n: getattr(a, _n)())
op("a.type_as(b)", "tt", lambda m, a, b: a.type_as(b))
op("a.to(b)", "tt", lambda m, a, b: a.to(b))

# what the type functions answer
op("result_type(a, b)", "ss", lambda m, a, b: m.result_type(a, b))
op("promote_types(a, b)", "", lambda m, a, b: m.promote_types(getattr(m, a), getattr(m, b)),
   lambda draw: (_dtype_arg(draw), _dtype_arg(draw)))
op("can_cast(a, b)", "", lambda m, a, b: m.can_cast(getattr(m, a), getattr(m, b)),
   lambda draw: (_dtype_arg(draw), _dtype_arg(draw)))
op("a.is_floating_point()", "t", lambda m, a: (a.is_floating_point(), a.is_complex()))

# creation from Python numbers, under the default dtype
NUMBER = st.sampled_from([0, 1, -2, 3, 0.5, -1.25, 2.0, True, False, 1j, 1.5 + 0.5j])
op("tensor(number)", "", lambda m, v: m.tensor(v), lambda draw: (draw(NUMBER),))
op("tensor(list)", "", lambda m, v: m.tensor(v),
   lambda draw: (draw(st.lists(NUMBER, min_size=0, max_size=3)),))
op("tensor(nested list)", "", lambda m, v: m.tensor(v),
   lambda draw: (draw(st.lists(st.lists(NUMBER, min_size=2, max_size=2), min_size=1,
                               max_size=2)),))
op("tensor(list, dtype)", "", lambda m, v, d: m.tensor(v, dtype=getattr(m, d)),
   lambda draw: (draw(st.lists(st.sampled_from([0, 1, 3, True, False]), max_size=3)),
                 _dtype_arg(draw)))
op("full(shape, fill)", "", lambda m, v: m.full((2,), v), lambda draw: (draw(NUMBER),))
op("full(shape, fill, dtype)", "", lambda m, v, d: m.full((2,), v, dtype=getattr(m, d)),
   lambda draw: (draw(st.sampled_from([0, 1, 3, True, 2.5, -1.0])), _dtype_arg(draw)))
op("full_like(a, fill)", "t", lambda m, a, v: m.full_like(a, v),
   lambda draw: (draw(st.sampled_from([0, 1, 3, True, 2.5, -1.0])),))
op("zeros/ones", "", lambda m: (m.zeros(2), m.ones(2, 1), m.empty(0), m.eye(2), m.rand(2).dtype,
                                 m.randn(1).dtype, m.randint(0, 3, (2,)).dtype))
op("linspace", "", lambda m, a, b: m.linspace(a, b, 5),
   lambda draw: (draw(st.sampled_from([0, -2, 1.5])), draw(st.sampled_from([4, 2.0, 10]))))
op("zeros_like/ones_like", "t", lambda m, a: (m.zeros_like(a), m.ones_like(a)))
op("get_default_dtype", "", lambda m: (m.get_default_dtype(), m.tensor(2.5).dtype,
                                       (m.tensor([1, 2]) / 2).dtype))


def _gen_arange(draw):
    start = draw(st.sampled_from([0, 1, -3, 0.5, 2.0, True]))
    end = draw(st.sampled_from([5, 7, 3.5, 10.0]))
    step = draw(st.sampled_from([1, 2, 0.5, 1.0, 3]))
    return start, end, step


op("arange(start, end, step)", "", lambda m, a, b, s: m.arange(a, b, s), _gen_arange)
op("arange(end)", "", lambda m, e: m.arange(e),
   lambda draw: (draw(st.sampled_from([4, 3.5, 2.0, True])),))
op("arange(..., dtype)", "", lambda m, e, d: m.arange(0, e, dtype=getattr(m, d)),
   lambda draw: (draw(st.sampled_from([4, 3.5, 6])), _dtype_arg(draw)))

FAMILIES = {
    "binary": [n for n, o in OPS.items() if len(o.kinds) == 2 and "_(" not in n
               and "=" not in n and o.kinds != ""],
    "inplace": [n for n in OPS if "_(" in n or "= b" in n],
    "other": [n for n, o in OPS.items() if len(o.kinds) != 2 and "_(" not in n
              and "= b" not in n],
}


# ---- drawing a case --------------------------------------------------------------------------


def a_tensor(draw, dtype: str | None = None, shape: tuple[int, ...] | None = None) -> T:
    dtype = dtype or draw(st.sampled_from(DTYPES))
    shape = draw(st.sampled_from(SHAPES)) if shape is None else shape
    n = math.prod(shape)
    kind = np.dtype(dtype).kind
    if kind == "c":
        pool = VALUES["float"]
        vals = [complex(draw(st.sampled_from(pool)), draw(st.sampled_from(pool[:10])))
                for _ in range(n)]
    else:
        vals = draw(st.lists(st.sampled_from(VALUES["float" if kind == "f" else dtype]),
                             min_size=n, max_size=n))
    return T(np.array(vals, dtype=dtype).reshape(shape))


def an_operand(draw, kind: str) -> Any:
    if kind == "b":
        return a_tensor(draw, "bool")
    if kind == "s" and draw(st.integers(0, 2)) == 0:
        return draw(st.sampled_from(SCALARS))
    return a_tensor(draw)


def a_case(draw, family: str) -> tuple[str, str, list[Any], tuple]:
    default = draw(st.sampled_from(["float32"] * 3 + ["float64"] * 2 + ["float16"]))
    name = draw(st.sampled_from(FAMILIES[family]))
    o = OPS[name]
    operands = [an_operand(draw, k) for k in o.kinds]
    if operands and not any(isinstance(v, T) for v in operands[:2]) and o.kinds[0] != "b":
        operands[0] = a_tensor(draw)  # two numbers: not a tensor op
    return default, name, operands, o.args(draw)


# ---- cases left out on purpose -------------------------------------------------------------

DIVIDING = ("/", "//", "%", "div", "divide", "remainder", "fmod", "floor_divide")


def _left_out(default: str, name: str, operands: list[Any], args: tuple) -> None:
    """Raise Skip for a case whose torch result is not defined behaviour or is torch's bug."""
    arrays = [np.asarray(v.a if isinstance(v, T) else v) for v in operands]
    if any(s in name for s in DIVIDING):
        # the most negative integer divided by -1 overflows: C's undefined behaviour, which
        # stops the process with SIGFPE in torch's int32 and int64 kernels
        ints = [a for a in arrays if a.dtype.kind in "iu"]
        lows = [np.iinfo(np.int64).min, np.iinfo(np.int32).min]
        if any(np.isin(a, lows).any() for a in ints) and any((a == -1).any() for a in ints):
            raise Skip("the most negative integer / -1: undefined in C")
    if name in ("a.to(dtype)", "a.type(dtype)") or name.split("(")[0][2:] in CAST_METHODS:
        target = args[0] if args else CAST_METHODS[name[2:-2]]
        _check_cast(arrays[0], target)
    if name in ("a.type_as(b)", "a.to(b)"):
        _check_cast(arrays[0], arrays[1].dtype.name)
    if "(dtype=)" in name:
        _check_cast(arrays[0], args[0])
        if np.dtype(args[0]).kind in "fc" and np.abs(arrays[0]).max(initial=0) > 2**11:
            # a sum of large integers rounded to float16 or float32 depends on the order
            # of the additions: each library has its own
            raise Skip("rounded sums of large numbers: the order of the additions")
    adds = ("+", "-", "add", "sub")
    if any(s in name for s in adds) and any(a.dtype.kind == "c" for a in arrays) and \
            not all(np.isfinite(a).all() for a in arrays if a.dtype.kind in "fc"):
        # torch's add and sub multiply the second operand by alpha (1 + 0j) when one of the
        # operands is converted to complex: inf * 0j makes a NaN imaginary part where
        # inf + 0j has none (torch's own bug)
        raise Skip("torch's complex add of inf: inf * 0j")
    if any(s in name for s in ("**", "pow")) and any(a.dtype.kind == "c" for a in arrays) \
            and any((a == 0).any() for a in arrays[:1]):
        # torch's complex pow of a zero base: 0j ** 0 is NaN there (it is 1)
        raise Skip("torch's complex pow of 0")
    if any(s in name for s in ("**", "pow", "lerp")) and not all(
            np.isfinite(a).all() for a in arrays if a.dtype.kind in "fc") and (
            "lerp" in name or any(a.dtype.kind == "c" for a in arrays)):
        # at inf, torch's complex pow is C++'s (inf ** (-7 + 0j) is 0 there, NaN in NumPy),
        # and its lerp switches formula at |weight| = 0.5 (NaN where ours gives inf)
        raise Skip("torch's complex pow or lerp at inf")
    if any(s in name for s in ("**", "pow")) and isinstance(operands[1], bool) and \
            arrays[0].dtype == np.bool_:
        # docs/pytorch.md: x ** True with x bool raises here, as bool ** bool does in torch
        raise Skip("documented: bool tensor ** bool")
    if name.split("(")[0] in ("a.any", "a.all") and arrays[0].dtype == np.uint8:
        raise Skip("documented: any/all of uint8 give bool here")
    complex_result = arrays and (arrays[0].dtype.kind == "c" or "complex" in str(args))
    if "prod" in name and complex_result and not np.isfinite(arrays[0]).all():
        # torch's complex product starts from 1 + 0j: inf * 0j makes NaN parts that the
        # product of the elements alone has not (its cumprod of [inf + 0.5j] is inf + nanj)
        raise Skip("torch's complex product of inf")
    if "addcdiv" in name and any(a.dtype.kind == "c" for a in arrays) and \
            (arrays[2] == 0).any():
        # complex division by zero: NumPy's is NaN + NaNj, torch's inf (C99 Annex G)
        raise Skip("complex division by 0: NumPy's convention")
    if "clamp" in name and len(operands) == 3 and isinstance(operands[1], T) != isinstance(
            operands[2], T):
        # a number and a tensor bound: torch converts the number to the tensor's dtype first,
        # refusing one that does not fit (its own rule for this mix)
        raise Skip("torch's clamp by a number and a tensor")
    if "clamp" in name and arrays[0].dtype.kind != "c" and any(
            a.dtype.kind == "c" for a in arrays[1:]):
        # torch refuses to clamp a complex tensor (no order) but clamps a real one by a 0-d
        # complex bound now and then: ours refuses complex bounds too
        raise Skip("torch's clamp by a complex bound")
    if "logaddexp" in name and all(a.dtype.kind in "biu" for a in arrays):
        raise Skip("documented: logaddexp of integer tensors is float32 here")
    if "logaddexp" in name and any(a.dtype.kind == "c" for a in arrays):
        # torch's complex64 logaddexp is NaN where exp(a - b) underflows (0.5j and 100 give
        # NaN, in complex128 100 + 1.8e-44j)
        raise Skip("torch's complex logaddexp underflows to NaN")
    if name.startswith("gcd") and any(np.isin(a, _edges(a.dtype.name)[:1]).any()
                                      for a in arrays if a.dtype.kind == "i"):
        raise Skip("documented: gcd of the most negative integer is NumPy's")
    if name.startswith("ldexp") and arrays[0].dtype.kind == "c" and \
            np.abs(arrays[1]).max(initial=0) > 100:
        # a complex number times 2^huge: inf times each part, where C++'s complex product
        # and NumPy's part ways (inf - infj against NaN + NaNj)
        raise Skip("ldexp of complex past the float range")
    if name.startswith("ldexp") and (any(a.dtype == np.float16 for a in arrays) or (
            arrays[1].dtype.kind in "fc" and arrays[0].dtype.kind in "fc" and
            np.finfo(arrays[1].dtype).resolution > np.finfo(arrays[0].dtype).resolution)):
        # torch rounds 2 ** e to the exponent's own precision (float16, complex64) before it
        # multiplies, where ours does not
        raise Skip("torch's ldexp by a narrower exponent")
    if name.startswith("ldexp") and np.abs(arrays[1].astype(complex)).max(initial=0) >= 2**31:
        # torch's ldexp by an exponent past int32 gives x itself (0.5 * 2^-2^63 is 0.5)
        raise Skip("torch's ldexp by an exponent past int32")
    if name.startswith("ldexp") and arrays[0].dtype.kind in "biu" and \
            (arrays[0] == 0).any() and (arrays[1].astype(complex).real > 100).any():
        # torch multiplies an integer or bool x by 2 ** e computed in float: past the float
        # range that is inf, and 0 * inf NaN, where ours (and torch for a float x) gives 0
        raise Skip("torch's ldexp of an integer by an exponent past the float range")
    if name.startswith("ldexp") and any(a.dtype.kind == "c" for a in arrays):
        # torch's complex ldexp takes 2 ** e from its complex pow, a few ulps from the power
        # of two (0.5 * 2^100 in complex64 is 6.338267e29 there, 2^99 = 6.338253e29)
        raise Skip("torch's complex ldexp")
    half = default == "float16" or any(a.dtype == np.float16 for a in arrays)
    if half and name.split("(")[0] not in ("eq", "ne", "lt", "le", "gt", "ge") and any(
            np.abs(a.astype(float)).max(initial=0) > 6e4  # (in float: abs of int32's least
            for a in arrays if a.dtype.kind in "iu"):     # value wraps)
        # integers past float16's range meeting float16: torch computes in float32 and
        # rounds once, ours converts each operand first (inf / inf is NaN)
        raise Skip("large integers into float16")
    if "prod" in name and half and any(np.abs(a).max(initial=0) >= 1e4 for a in arrays):
        # float16 products past float16's range: where the running product overflows
        # (inf * 0 is NaN) depends on each library's order and precision
        raise Skip("float16 products past its range")
    if "lerp" in name and isinstance(operands[-1], complex) and arrays[0].dtype.kind != "c":
        # torch converts a complex number weight to a real tensor's dtype (0j is 0)
        raise Skip("torch's lerp by a complex number")
    if "lerp" in name and arrays[0].dtype == np.bool_:
        # torch lerps two bool tensors with a float tensor weight (a float result) but
        # refuses bools with a number weight and integer tensors with any: ours refuses both
        raise Skip("torch's lerp of bool tensors")


def _check_cast(a: np.ndarray, target: str) -> None:
    """A float (or complex) value out of the integer target's range, NaN and inf included, has
    no defined integer: C leaves the conversion undefined, and torch's result is whatever
    the CPU gives."""
    if a.dtype.kind not in "fc" or np.dtype(target).kind not in "iu":
        return
    v = np.real(a).astype(np.float64)
    info = np.iinfo(target)
    if not np.all(np.isfinite(v)) or np.any(np.trunc(v) < info.min) or \
            np.any(np.trunc(v) > info.max):
        raise Skip("float to integer out of range: undefined in C")


# ---- running and comparing ---------------------------------------------------------------


def _call(m: Any, default: str, o: Op, operands: list[Any], args: tuple):
    """(result, exception, warnings) of the op in module m under the default dtype."""
    m.set_default_dtype(getattr(m, default))
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                built = [operand(m, v) for v in operands]
                return o.run(m, *built, *args), None, caught
            except Exception as e:  # noqa: BLE001
                return None, e, caught
    finally:
        m.set_default_dtype(m.float32)


class Tensorish(tuple):
    """A tensor in common terms: (dtype, shape, values as a NumPy array)."""

    def __new__(cls, dtype: np.dtype, shape: tuple[int, ...], values: np.ndarray) -> Tensorish:
        return super().__new__(cls, (dtype, shape, values))


def _normal(r: Any) -> Any:
    """A result in common terms: a Tensorish for a tensor, a NumPy dtype for a
    dtype, tuples of those, plain Python values as they are."""
    if isinstance(r, (tuple, list)) and not isinstance(r, str):
        return tuple(_normal(v) for v in r)
    if isinstance(r, torch.Tensor):
        if r.dtype == torch.complex32:
            # docs/pytorch.md: float16 with complex is complex64 here (NumPy has no complex32)
            raise Skip("documented: complex32 is complex64 here")
        return Tensorish(NP_DTYPE[r.dtype], tuple(r.shape), r.detach().numpy())
    if isinstance(r, tr.Tensor):
        return Tensorish(r.dtype, tuple(r.shape), r.detach().numpy())
    if isinstance(r, torch.dtype):
        if r == torch.complex32:
            raise Skip("documented: complex32 is complex64 here")
        return NP_DTYPE[r]
    return r


TOL = {"float16": 2e-3, "float32": 2e-6, "float64": 1e-12, "complex64": 2e-6,
       "complex128": 1e-12}


def _compare(what: str, ours: Any, theirs: Any) -> None:
    if isinstance(theirs, Tensorish):
        assert isinstance(ours, Tensorish), f"{what}: ours gave {ours!r}, torch a tensor"
        (od, os_, oa), (td, ts, ta) = ours, theirs
        assert od == td, f"{what}: dtype {od}, torch's {td}"
        assert os_ == ts, f"{what}: shape {os_}, torch's {ts}"
        if td.kind in "fc":
            tol = TOL[td.name]
            np.testing.assert_allclose(oa, ta, rtol=tol, atol=tol, equal_nan=True,
                                       err_msg=what)
        else:
            np.testing.assert_array_equal(oa, ta, err_msg=what)
        return
    if isinstance(theirs, tuple):
        assert isinstance(ours, tuple) and len(ours) == len(theirs), f"{what}: {ours!r}"
        for k, (a, b) in enumerate(zip(ours, theirs)):
            _compare(f"{what}[{k}]", a, b)
        return
    assert ours == theirs and type(ours) is type(theirs), \
        f"{what}: ours {ours!r}, torch's {theirs!r}"


# torch refuses these arguments, ours takes them (argument parsing, not dtype semantics):
# a number where torch's signature wants a tensor
TORCH_SIGNATURE = ("must be Tensor, not", "received an invalid combination of arguments",
                   "incompatible function arguments")


# torch's CPU has no kernel for these, where ours computes the plain answer (docs/pytorch.md)
TORCH_MISSING = ['"cumsum_out_cpu" not implemented for \'Bool\'',
                 '"cumprod_out_cpu" not implemented for \'Bool\'',
                 '"nansum_cpu" not implemented for \'Complex',
                 '"arange_cpu" not implemented for', '"round_cpu" not implemented for',
                 '"round_vml_cpu" not implemented for \'Short\'',
                 '"round_vml_cpu" not implemented for \'Int\'',
                 '"round_vml_cpu" not implemented for \'Long\'',
                 '"round_vml_cpu" not implemented for \'Char\'',
                 '"round_vml_cpu" not implemented for \'Byte\'',
                 "nansum on CPU does not support complex inputs",
                 '"xlogy_cpu" not implemented for',
                 '"ldexp_cpu_exp" not implemented for \'Bool\'']


def run_case(default: str, name: str, operands: list[Any], args: tuple) -> str:
    """Run one case in both; raise AssertionError on a difference, Skip if left out.
    Returns how it ended ("ran", "both raised")."""
    o = OPS[name]
    _left_out(default, name, operands, args)
    t_out, t_err, t_warn = _call(torch, default, o, operands, args)
    o_out, o_err, o_warn = _call(tr, default, o, operands, args)
    leaks = [str(w.message) for w in o_warn if issubclass(w.category, RuntimeWarning)]
    if leaks and not t_warn:
        # NumPy's floating-point warnings from arithmetic (inf * 0, 0 ** -1) are left to
        # NumPy's error state: silencing them in every op would cost each op a few
        # microseconds. A conversion (dtype promotion, a cast) must not warn
        assert not any("cast" in w for w in leaks), f"{name}: ours warned {leaks}"
        event(f"NumPy warned in ours: {leaks[0]}")
    if t_err is not None and o_err is None and any(s in str(t_err) for s in TORCH_SIGNATURE):
        raise Skip("torch's signature refuses a number there")
    if t_err is not None and o_err is None and "ComplexHalf" in str(t_err):
        raise Skip("documented: complex32 is complex64 here")
    if t_err is not None and o_err is None and any(s in str(t_err) for s in TORCH_MISSING):
        raise Skip("a kernel torch lacks: " + str(t_err))
    if t_err is not None:
        assert o_err is not None, f"{name}{args}: torch raised {t_err!r}, ours gave " \
            f"{_normal(o_out)!r}"
        return "both raised"
    assert o_err is None, f"{name}{args}: ours raised {o_err!r}, torch gave {_normal(t_out)!r}"
    _compare(name, _normal(o_out), _normal(t_out))
    return "ran"


def _scale() -> int:
    return int(os.environ.get("DTYPE_FUZZ_SCALE", "1"))


@pytest.mark.parametrize("family", sorted(FAMILIES))
@settings(max_examples=settings.default.max_examples * 16 * _scale())
@given(data=st.data())
def test_dtype_case_matches_torch(family, data):
    default, name, operands, args = a_case(data.draw, family)
    note(f"default dtype {default}: {name} of {operands!r}, args {args!r}")
    try:
        how = run_case(default, name, operands, args)
    except Skip as s:
        event(f"left out: {s}")
        return
    RAN[name] += 1
    event(how)


# ---- the cases the fuzzer found, kept -------------------------------------------------------

def _t(values, dtype):
    return T(np.array(values, dtype=dtype))


REGRESSIONS = [  # (default dtype, op, operands, args): each differed from torch once (or
    # guards a fix against reaching too far: bool clamp to an int, logsumexp of bool)
    # a 0-d operand of a wider integer dtype went through the narrower one before the float
    ("float32", "atan2(a, b)", [_t([-128, 2], "int8"), _t(2147483647, "int32")], ()),
    ("float32", "a / b", [_t([-128, 2], "int8"), _t(2147483647, "int32")], ()),
    # float32 with a 0-d complex128 tensor is complex64
    ("float32", "a * b", [_t([1.5, 2.0], "float32"), _t(1 + 2j, "complex128")], ()),
    # subtraction with a bool is refused
    ("float32", "a - b", [2, _t([True, False], "bool")], ()),
    ("float32", "a -= b", [_t(2, "int16"), False], ()),
    ("float32", "a.sub_(b)", [_t([1.0, 2.0], "float32"), True], ()),
    # complex numbers have no order
    ("float32", "ge(a, b)", [_t([1.0, 2.0], "float64"), _t([1j, 2.0], "complex64")], ()),
    ("float32", "maximum(a, b)", [_t([1j], "complex64"), _t(0.5, "float16")], ()),
    ("float32", "fmin(a, b)", [_t([1j], "complex128"), _t([2j], "complex128")], ()),
    ("float32", "clamp(a, min)", [_t([1j], "complex64"), _t(0, "uint8")], ()),
    ("float32", "a.max()", [_t([1j, 2.0], "complex128")], ()),
    ("float32", "a.min(0)", [_t([1j, 2.0], "complex128")], ()),
    ("float32", "a.amin()", [_t([1j, 2.0], "complex64")], ()),
    ("float32", "a.argmax(0)", [_t([1j, 2.0], "complex64")], ()),
    ("float32", "a.signbit()", [_t(1j, "complex64")], ()),
    ("float32", "a.round()", [_t([1.5j], "complex64")], ()),
    ("float32", "a.abs_()", [_t([3 + 4j], "complex64")], ()),
    # bools: argmax refused, fmax taken, clamp to a bool refused, addcmul refused
    ("float32", "a.argmax()", [_t([False, True], "bool")], ()),
    ("float32", "fmax(a, b)", [_t(True, "bool"), _t(True, "bool")], ()),
    ("float32", "clamp(a, max)", [_t(False, "bool"), True], ()),
    ("float32", "clamp(a, max)", [_t([False, True], "bool"), 2], ()),
    ("float32", "a.addcmul_(b, c)", [_t([False], "bool"), _t(False, "bool"), _t(False, "bool")],
     ()),
    # a negative Python int with a uint8 tensor wraps; int16 into uint8 in place is allowed
    ("float32", "a ^= b", [_t(3, "uint8"), -3], ()),
    ("float32", "mul(a, b)", [_t([100, 255], "uint8"), -3], ()),
    ("float32", "a ^= b", [_t(100, "uint8"), _t(-3, "int16")], ()),
    # negative integer exponents in a tensor: 1 / x rounded toward 0
    ("float32", "a ** b", [_t([5, -1, 1, 2], "int64"), _t(-7, "int16")], ()),
    ("float32", "a **= b", [_t(2147483647, "int32"), _t(-1, "int32")], ()),
    ("float32", "a ** b", [False, _t(-2147483648, "int32")], ()),
    # alpha takes no part in the dtype
    ("float64", "add(a, b, alpha)", [_t([False, True], "bool"), _t([False, True], "bool")], (2,)),
    ("float64", "add(a, b, alpha)", [_t(-7, "int16"), 1], (0.5,)),
    ("float32", "add(a, b, alpha)", [_t(-3, "int16"), False], (True,)),
    # lerp does not promote
    ("float32", "lerp(a, b, w)", [_t(1.0, "complex128"), _t(255, "uint8"), 7], ()),
    ("float32", "a.lerp_(b, w)", [_t([0.5], "float64"), _t([-7], "int8"), _t([1], "uint8")], ()),
    # casts: complex to bool looks at both parts; float16 overflows to inf without a warning
    ("float64", "a.to(b)", [_t([-0.5j, 0j], "complex64"), _t(False, "bool")], ()),
    ("float32", "a.half()", [_t([1e6, -1e6], "float64")], ()),
    ("float32", "lt(a, b)", [_t(math.nan, "float16"), _t(-2**63, "int64")], ()),
    # integer division toward zero is exact, whatever the default dtype
    ("float16", "div(a, b, rounding_mode)", [_t([32767, 0, -32768], "int16"), _t(3, "int8")],
     ("trunc",)),
    # addcmul and addcdiv compute in the dtype of all three
    ("float64", "a.addcmul_(b, c)", [_t([100.0], "float32"), _t([-32768], "int16"),
                                     _t([5], "uint8")], ()),
    ("float32", "addcmul(a, b, c, value)", [_t([0, 5], "int32"), _t(True, "bool"),
                                            _t(3, "uint8")], (0.5,)),
    # creation: a complex fill, an int fill that does not fit, arange's count
    ("float16", "full(shape, fill)", [], (1j,)),
    ("float32", "full(shape, fill, dtype)", [], (-1.0, "uint8")),
    ("float16", "arange(..., dtype)", [], (3.5, "int64")),
    # unary: Python's abs(); rsqrt(-0.0) is -inf; logsumexp of bool and complex
    ("float32", "abs(a)", [_t(-1, "int16")], ()),
    ("float64", "a.rsqrt()", [_t([-0.0, 4.0], "float32")], ()),
    ("float64", "a.logsumexp()", [_t(False, "bool")], ()),
    ("float32", "a.isposinf()", [_t([1 + 0.5j], "complex64")], ()),
    ("float32", "heaviside(a, b)", [_t(-7j, "complex128"), _t([1j, 2.0], "complex128")], ()),
    ("float32", "ldexp(a, b)", [_t([-2, 5], "int64"), _t([-2**20, 2], "int64")], ()),
    ("float32", "ldexp(a, b)", [_t([0.0, -0.0], "float32"), _t([32767, 300], "int16")], ()),
    ("float32", "addcmul(a, b, c, value)", [_t(True, "bool"), _t([False], "bool"),
                                            _t([5, 255], "uint8")], (-1.5,)),
    ("float64", "a.cumsum(0)", [_t([60000.0, 60000.0], "float16")], ()),
    # writing a number that does not fit (or a tensor with axes into fill_) is refused
    ("float16", "a.fill_(b)", [_t([1j, 2.0], "complex128"), _t([2j, 1.0], "complex128")], ()),
    ("float16", "a.fill_(b)", [_t(1, "int16"), math.inf], ()),
    ("float64", "a.fill_(b)", [_t([0, 3], "int64"), 0.5 - 2j], ()),
    ("float32", "a[...] = b", [_t([255, 1], "uint8"), -1.5], ()),
    ("float32", "a.masked_fill(mask, b)", [_t(0, "uint8"), -1.5], ()),
    ("float32", "a.masked_fill(mask, b)", [_t([100, 1], "uint8"), -3], ()),  # wraps, as torch
    ("float32", "clamp(a, max)", [_t(True, "bool"), _t([False, True], "bool")], ()),
    ("float32", "clamp(a, min, max)", [_t([True, False], "bool"), _t(False, "bool"),
                                       _t([True], "bool")], ()),  # refused, as torch
    ("float64", "div(a, b)", [_t([100, 2], "uint8"), -3], ()),  # -3 is not wrapped here
    ("float16", "a >> b", [_t(2, "uint8"), -3], ()),  # but is here: uint8, as torch
    ("float32", "where(c, a, b)", [_t(False, "bool"), 0j, 1j], ()),  # the default complex
    ("float32", "a.nan_to_num()", [_t([complex(math.nan, 0.5), complex(math.inf, -7)],
                                      "complex64")], ()),  # each part on its own
    ("float32", "a.masked_fill(mask, b)", [_t([-128, 3], "int8"), _t(10000 - 0j, "complex128")],
     ()),
    ("float16", "a.masked_fill(mask, b)", [_t(True, "bool"), _t(-0.5 - 1.5j, "complex128")], ()),
    # xlogy converts each integer straight to float: -1 does not wrap to 255 through uint8
    ("float64", "xlogy(a, b)", [_t([3, 5], "uint8"), _t(-1, "int64")], ()),
    # float16's variance sums its squares in float32, as torch's
    ("float16", "a.std()", [_t([10000.0, 0.5, -1.5], "float16")], ()),
    ("float16", "a.var()", [_t([300.0, 0.5, -1.5], "float16")], ()),
    # a clamp bound out of an integer dtype's range wraps, as torch's
    ("float64", "a.clamp_(min, max)", [_t(255, "uint8"), 7, -3], ()),
    ("float32", "a.logsumexp()", [_t([-7j, 10000 + 3.25j, 1 + 1j], "complex128")], ()),
]


@pytest.mark.parametrize("case", REGRESSIONS, ids=[c[1] for c in REGRESSIONS])
def test_dtype_regression_matches_torch(case):
    default, name, operands, args = case
    run_case(default, name, list(operands), args)


def test_ldexp_of_complex_scales_both_parts_exactly():
    """NumPy's ldexp refuses complex numbers; ours scales both parts by 2^e exactly (torch's
    is a few ulps off, so the fuzzer leaves it out)."""
    y = tr.ldexp(tr.tensor(np.array([3.25, 0.5 - 7j])), tr.tensor(np.array([100, 5], np.uint8)))
    assert y.dtype == np.complex128
    np.testing.assert_array_equal(y.numpy(), [3.25 * 2.0**100, 16 - 224j])


# ---- autograd and dtypes ------------------------------------------------------------------


@pytest.mark.parametrize("dtype", ["bool", *INTEGER])
def test_requires_grad_of_integer_tensors_refused_as_torch(dtype):
    words = "only Tensors of floating point"
    makers = [lambda m: m.tensor([1, 0], dtype=getattr(m, dtype), requires_grad=True),
              lambda m: m.zeros(2, dtype=getattr(m, dtype)).requires_grad_(),
              lambda m: m.ones(2, dtype=getattr(m, dtype), requires_grad=True)]
    for make in makers:
        with pytest.raises(RuntimeError, match=f"(?i){words}"):
            make(torch)
        with pytest.raises(RuntimeError, match=f"(?i){words}"):
            make(tr)


@settings(max_examples=settings.default.max_examples * 4 * _scale())
@given(chain=st.lists(st.sampled_from(FLOAT + ["complex64", "complex128"]), min_size=1,
                      max_size=4),
       start=st.sampled_from(FLOAT), other=st.sampled_from(DTYPES),
       values=st.lists(st.sampled_from([-1.5, 0.5, 2.0, 3.25]), min_size=3, max_size=3))
def test_gradients_through_casts_match_torch(chain, start, other, values):
    """A leaf cast through a chain of float and complex dtypes, times a tensor of any dtype,
    then back to a real number: the result's and every gradient's dtype and values match."""
    note(f"{start} -> {chain}, times {other}")
    grads = {}
    for m in (torch, tr):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # complex to real: both warn
            x = m.tensor(np.array(values, dtype=start), requires_grad=True)
            y = x
            for d in chain:
                y = y.to(getattr(m, d))
            z = y * m.tensor(np.array([1, 0, 2], dtype=other))
            (z.real if z.is_complex() else z).float().sum().backward()
        grads[m] = (_normal(z.detach()), _normal(x.grad))
    _compare("result", grads[tr][0], grads[torch][0])
    _compare("x.grad", grads[tr][1], grads[torch][1])


@pytest.mark.parametrize("dtype", FLOAT)
def test_gradients_keep_each_leafs_dtype_as_torch(dtype):
    """Leaves of two float dtypes in one op: each gets its gradient in its own dtype."""
    out = {}
    for m in (torch, tr):
        a = m.tensor([1.5, -2.0], dtype=getattr(m, dtype), requires_grad=True)
        b = m.tensor([0.5, 3.0], dtype=m.float64, requires_grad=True)
        c = m.tensor(2.0, dtype=m.float32, requires_grad=True)  # 0-d: takes a's dtype
        r = a * b + a * c
        r.sum().backward()
        out[m] = [_normal(v) for v in (r.detach(), a.grad, b.grad, c.grad)]
    for k, (o, t) in enumerate(zip(out[tr], out[torch])):
        _compare(f"tensor {k}", o, t)


@pytest.mark.parametrize("name", ["a // b", "a % b", "fmod", "remainder", "floor_divide",
                                  "atan2", "copysign"])
def test_ops_without_complex_numbers_say_so(name):
    """torch refuses these for complex operands ("not implemented for 'ComplexFloat'"); ours
    refuse them by name, not with NumPy's "ufunc not supported"."""
    def run(m):
        z, x = m.tensor([1 + 2j]), m.tensor([1.0])
        if name == "a // b":
            return z // x
        if name == "a % b":
            return x % z
        return getattr(m, name)(x, z)

    with pytest.raises(NotImplementedError):
        run(torch)
    with pytest.raises(tr.DTypeError, match="not defined for complex tensors"):
        run(tr)
