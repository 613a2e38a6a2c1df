"""tinygrad_rnn: a small autograd engine on NumPy/CuPy, with RNN, LSTM and GRU built from it.

    import tinygrad_rnn as tr
    x = tr.tensor([1.0, 2.0, 3.0], requires_grad=True)
    (x * x).sum().backward()
    x.grad   # tensor([2., 4., 6.])
"""

from __future__ import annotations

import numpy as np

from . import cuda, debug, diagnostics, functional, nn, optim, random, viz
from .autograd import enable_grad, grad, is_grad_enabled, no_grad
from .backend import cuda_available
from .creation import arange, eye, full, full_like, ones, ones_like, zeros, zeros_like
from .debug import detect_anomaly, trace
from .ops.elementwise import (
    abs_ as abs,
)
from .ops.elementwise import (
    clip,
    exp,
    log,
    maximum,
    minimum,
    relu,
    sigmoid,
    sqrt,
    tanh,
    where,
)
from .ops.linalg import matmul
from .ops.movement import (
    broadcast_to,
    cat,
    reshape,
    split,
    squeeze,
    stack,
    transpose,
    unbind,
    unsqueeze,
)
from .ops.reduce import logsumexp, mean, var
from .ops.reduce import max_ as max
from .ops.reduce import min_ as min
from .ops.reduce import sum_ as sum
from .random import manual_seed, rand, randint, randn
from .serialization import load, save
from .tensor import Function, Tensor, tensor

float32 = np.float32
float64 = np.float64
int64 = np.int64
int32 = np.int32
bool_ = np.bool_

__version__ = "0.1.0"

__all__ = [
    "Function", "Tensor", "abs", "arange", "bool_", "broadcast_to", "cat", "clip", "cuda",
    "cuda_available", "debug", "detect_anomaly", "diagnostics", "enable_grad", "exp", "eye",
    "float32", "float64", "full", "full_like", "functional", "grad", "int32", "int64",
    "is_grad_enabled", "load", "log", "logsumexp", "manual_seed", "matmul", "max", "maximum",
    "mean", "min", "minimum", "nn", "no_grad", "ones", "ones_like", "optim", "rand", "randint",
    "randn", "random", "relu", "reshape", "save", "sigmoid", "split", "sqrt", "squeeze", "stack",
    "sum", "tanh", "tensor", "trace", "transpose", "unbind", "unsqueeze", "var", "viz", "where",
    "zeros", "zeros_like",
]
