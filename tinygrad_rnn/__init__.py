"""tinygrad_rnn: a small autograd engine on NumPy/CuPy, with RNN, LSTM and GRU built from it.

    import tinygrad_rnn as tr
    x = tr.tensor([1.0, 2.0, 3.0], requires_grad=True)
    (x * x).sum().backward()
    x.grad   # tensor([2., 4., 6.])
"""

from __future__ import annotations

import numpy as np

from . import cuda, debug, diagnostics, functional, nn, optim, random, utils, viz
from .autograd import enable_grad, grad, is_grad_enabled, no_grad
from .backend import cuda_available
from .creation import (
    arange,
    eye,
    from_numpy,
    full,
    full_like,
    linspace,
    ones,
    ones_like,
    zeros,
    zeros_like,
)
from .debug import detect_anomaly, trace
from .functional import log_softmax, softmax
from .ops.elementwise import (
    abs_ as abs,
)
from .ops.elementwise import (
    allclose,
    clip,
    cos,
    exp,
    isfinite,
    isinf,
    isnan,
    log,
    maximum,
    minimum,
    relu,
    sigmoid,
    sin,
    sqrt,
    tanh,
    where,
)
from .ops.linalg import matmul
from .ops.movement import (
    argsort,
    broadcast_to,
    cat,
    chunk,
    reshape,
    sort,
    split,
    squeeze,
    stack,
    topk,
    transpose,
    unbind,
    unsqueeze,
)
from .ops.reduce import amax, amin, argmax, argmin, logsumexp, mean, var
from .ops.reduce import max_ as max
from .ops.reduce import min_ as min
from .ops.reduce import sum_ as sum
from .random import manual_seed, multinomial, rand, randint, randn
from .serialization import load, save
from .tensor import Function, Tensor, tensor

float16 = np.float16
float32 = np.float32
float64 = np.float64
int64 = np.int64
int32 = np.int32
int16 = np.int16
int8 = np.int8
uint8 = np.uint8
bool_ = np.bool_
# PyTorch's other names for them (tr.long, tr.float, ...): attributes only, not in __all__,
# so that `from tinygrad_rnn import *` never hides Python's float, int and bool
half, float, double, long, int, bool = float16, float32, float64, int64, int32, bool_  # noqa: A001

__version__ = "0.1.0"

__all__ = [
    "Function", "Tensor", "abs", "allclose", "amax", "amin", "arange", "argmax", "argmin",
    "argsort", "bool_", "broadcast_to", "cat", "chunk", "clip", "cos", "cuda", "cuda_available",
    "debug",
    "detect_anomaly", "diagnostics", "enable_grad", "exp", "eye", "float16", "float32", "float64",
    "from_numpy", "full", "full_like", "functional", "grad", "int8", "int16", "int32", "int64",
    "is_grad_enabled", "isfinite", "isinf", "isnan", "linspace", "load", "log", "log_softmax",
    "logsumexp", "manual_seed", "matmul", "max", "maximum", "mean", "min", "minimum", "multinomial",
    "nn", "no_grad", "ones", "ones_like", "optim", "rand", "randint", "randn", "random", "relu",
    "reshape", "save", "sigmoid", "sin", "softmax", "sort", "split", "sqrt", "squeeze", "stack",
    "sum", "tanh", "tensor", "topk", "trace", "transpose", "uint8", "unbind", "unsqueeze",
    "utils", "var", "viz", "where", "zeros", "zeros_like",
]
