"""tinygrad_rnn: a small autograd engine on NumPy/CuPy, with RNN, LSTM and GRU built from it.

    import tinygrad_rnn as tr
    x = tr.tensor([1.0, 2.0, 3.0], requires_grad=True)
    (x * x).sum().backward()
    x.grad   # tensor([2., 4., 6.])
"""

from __future__ import annotations

import builtins
import functools
import os
from typing import Any

import numpy as np

from . import (
    amp,
    backends,
    cuda,
    debug,
    diagnostics,
    distributions,
    func,
    functional,
    jit,
    linalg,
    nn,
    optim,
    random,
    special,
    testing,
    utils,
    viz,
)
from .amp import _cpu as cpu  # noqa: F401  (tr.cpu.amp, as torch.cpu.amp; not in __all__)
from .amp import autocast
from .autograd import (
    enable_grad,
    grad,
    inference_mode,
    is_grad_enabled,
    is_inference_mode_enabled,
    no_grad,
    set_grad_enabled,
)
from .backend import cuda_available, device
from .backend import device_of as _device_of
from .backend import get_device as _get_device
from .creation import (
    BoolTensor,
    ByteTensor,
    DoubleTensor,
    FloatTensor,
    HalfTensor,
    IntTensor,
    LongTensor,
    arange,
    empty,
    empty_like,
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
from .functional import cdist, log_softmax, softmax
from .jit import compile  # noqa: F401  (an attribute only, not in __all__: import * keeps Python's)
from .ops.elementwise import (
    abs_ as abs,
)
from .ops.elementwise import (
    acos,
    allclose,
    asin,
    atan,
    atan2,
    ceil,
    clip,
    cos,
    digamma,
    erf,
    erfc,
    erfinv,
    exp,
    expm1,
    float_power,
    floor,
    isfinite,
    isinf,
    isnan,
    lgamma,
    log,
    log1p,
    log2,
    log10,
    logaddexp,
    logaddexp2,
    maximum,
    minimum,
    nan_to_num,
    relu,
    sigmoid,
    sign,
    sin,
    sqrt,
    tan,
    tanh,
    trunc,
    where,
)
from .ops.elementwise import (
    clip as clamp,
)
from .ops.elementwise import round_ as round  # noqa: F401  (an attribute only, as all and any)
from .ops.linalg import einsum, matmul, tensordot
from .ops.movement import (
    argsort,
    atleast_1d,
    atleast_2d,
    atleast_3d,
    bincount,
    block_diag,
    bmm,
    broadcast_shapes,
    broadcast_tensors,
    broadcast_to,
    bucketize,
    cartesian_prod,
    cat,
    chain_matmul,
    chunk,
    column_stack,
    combinations,
    diag,
    diagonal,
    diff,
    dstack,
    flip,
    gather,
    hstack,
    index_add,
    index_fill,
    index_put,
    index_select,
    isin,
    masked_scatter,
    masked_select,
    meshgrid,
    mm,
    reshape,
    scatter_reduce,
    searchsorted,
    sort,
    split,
    squeeze,
    stack,
    take_along_dim,
    tile,
    topk,
    transpose,
    tril_indices,
    triu_indices,
    unbind,
    unique,
    unsqueeze,
    vstack,
)
from .ops.reduce import all_ as all  # noqa: F401  (an attribute only, not in __all__)
from .ops.reduce import (
    amax,
    amin,
    argmax,
    argmin,
    count_nonzero,
    cumprod,
    cumsum,
    cumulative_trapezoid,
    logcumsumexp,
    logsumexp,
    mean,
    median,
    nanquantile,
    quantile,
    std_mean,
    trapezoid,
    vander,
    var_mean,
)
from .ops.reduce import any_ as any  # noqa: F401  (as all)
from .ops.reduce import max_ as max
from .ops.reduce import min_ as min
from .ops.reduce import sum_ as sum
from .random import (
    Generator,
    bernoulli,
    default_generator,
    initial_seed,
    manual_seed,
    multinomial,
    normal,
    poisson,
    rand,
    rand_like,
    randint,
    randint_like,
    randn,
    randn_like,
    randperm,
    set_rng_state,
)
from .random import get_rng_state_tensor as get_rng_state
from .serialization import load, save
from .special import multigammaln as mvlgamma
from .tensor import (
    DTypeError,
    Function,
    Size,
    Tensor,
    _default_complex,
    can_cast,
    channels_last,
    channels_last_3d,
    combine_categories,
    contiguous_format,
    default_dtype,
    layout,
    memory_format,
    preserve_format,
    promote_types,
    resolve_dtype,
    set_default_dtype,
    set_printoptions,
    strided,
    tensor,
)

# dtypes are NumPy's dtype objects, as ``x.dtype`` is: ``x.dtype is tr.float32``,
# ``x.dtype == tr.float32``, ``{tr.float32: ...}[x.dtype]`` all hold, as with torch's
float16 = np.dtype("float16")
float32 = np.dtype("float32")
float64 = np.dtype("float64")
int64 = np.dtype("int64")
int32 = np.dtype("int32")
int16 = np.dtype("int16")
int8 = np.dtype("int8")
uint8 = np.dtype("uint8")
bool_ = np.dtype("bool")
# complex values flow through the ops; gradients through those with ``complex_ok`` (see
# tensor._NO_COMPLEX_GRAD)
complex64, complex128 = np.dtype("complex64"), np.dtype("complex128")
cfloat, cdouble = complex64, complex128
# PyTorch's other names for them (tr.long, tr.float, ...): attributes only, not in __all__,
# so that `from tinygrad_rnn import *` never hides Python's float, int and bool
half, float, double, long, int, bool = float16, float32, float64, int64, int32, bool_  # noqa: A001

__version__ = "0.1.0"

# torch._foreach_add_ and the rest: one op over each tensor of a list (see foreach.py)
from .foreach import FUNCTIONS as _FOREACH  # noqa: E402

globals().update(_FOREACH)


def is_tensor(obj: object) -> bool:
    """Whether ``obj`` is a tinygrad_rnn Tensor, as ``torch.is_tensor``."""
    return isinstance(obj, Tensor)


def is_floating_point(x: Tensor) -> builtins.bool:
    """Whether ``x``'s dtype is a floating-point one, as ``torch.is_floating_point``."""
    return x.is_floating_point()


def get_default_dtype() -> np.dtype:
    """The default floating-point dtype (float32 unless ``tr.set_default_dtype`` changed it):
    of ``tr.ones``, ``tr.randn``, new parameters, and tensors made from Python floats, as
    PyTorch's."""
    return default_dtype()


def _function_of(name: str) -> Any:
    """``tr.<name>(x, ...)``: the Tensor method ``x.<name>(...)``, as PyTorch has both."""
    method = getattr(Tensor, name)

    @functools.wraps(method)
    def function(input: Tensor, *args: Any, **kwargs: Any) -> Any:  # noqa: A002
        if name in _NUMBER_FIRST and not isinstance(input, Tensor) and args and \
                isinstance(args[0], Tensor):  # tr.pow(2, x): the number as a constant tensor
            input = args[0]._lift(input)
        if getattr(input, "is_sparse", False):  # the sparse tensor's own, or its refusal
            return getattr(input, name)(*args, **kwargs)
        if not isinstance(input, Tensor):
            raise TypeError(f"tr.{name}: the first argument must be a Tensor, got "
                            f"{type(input).__name__}")
        return getattr(input, name)(*args, **kwargs)

    function.__qualname__ = function.__name__ = name
    return function


# as in PyTorch, a number may come first
_NUMBER_FIRST = {"add", "sub", "mul", "div", "pow", "remainder", "floor_divide", "true_divide",
                 "xlogy", "bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_left_shift",
                 "bitwise_right_shift"}
_METHODS_AS_FUNCTIONS = (
    "eq", "ne", "lt", "gt", "le", "ge", "square", "reciprocal", "rsqrt", "tril", "triu",
    "nonzero", "argwhere", "roll", "movedim", "moveaxis", "unflatten", "select", "narrow",
    "flatten", "permute", "swapaxes", "std", "var", "masked_fill", "numel", "add", "sub", "mul",
    "div", "pow", "neg", "negative", "lerp", "addmm", "baddbmm", "norm", "prod", "scatter",
    "scatter_add", "repeat_interleave", "logical_and", "logical_or", "logical_xor",
    "logical_not", "isclose", "remainder", "fmod", "floor_divide", "true_divide", "addcmul",
    "addcdiv", "logit", "clone", "t", "clamp_min", "clamp_max", "inverse", "det", "logdet",
    "slogdet", "cholesky", "matrix_exp", "matrix_power", "cross", "svd", "pinverse",
    "cov", "corrcoef", "kron", "diag_embed", "diagflat", "cummax", "cummin", "kthvalue", "mode",
    "nanmedian", "aminmax", "hypot", "xlogy", "sinc", "copysign", "heaviside", "signbit", "i0",
    "rot90", "histc", "renorm", "gcd", "lcm", "bitwise_and", "bitwise_or", "bitwise_xor",
    "bitwise_not", "bitwise_left_shift", "bitwise_right_shift", "frexp", "ldexp",
    "dist", "nansum", "nanmean", "tensor_split", "swapdims", "ravel", "take", "put", "fliplr",
    "flipud", "addmv", "addr", "inner", "vdot", "msort", "unique_consecutive", "sgn", "frac",
    "fix", "deg2rad", "rad2deg", "isneginf", "isposinf", "isreal", "diagonal_scatter",
    "select_scatter", "slice_scatter", "positive", "absolute", "narrow_copy", "index_copy",
    "is_inference", "hsplit", "vsplit", "dsplit",
)
for _name in _METHODS_AS_FUNCTIONS:
    globals()[_name] = _function_of(_name)
concat = concatenate = cat
row_stack = vstack
arcsin, arccos, arctan, arctan2 = asin, acos, atan, atan2  # PyTorch's aliases


def equal(a: Tensor, b: Tensor) -> bool:
    """Whether ``a`` and ``b`` have one shape and equal elements, as ``torch.equal``."""
    return a.shape == b.shape and builtins.bool((a == b).all())


def finfo(dtype: Any = None) -> np.finfo:
    """The limits of a floating-point dtype (float32 by default), as ``torch.finfo``: ``.min``,
    ``.max``, ``.eps``, ``.tiny``, ``.bits``, ``.resolution`` (NumPy's ``finfo``)."""
    return np.finfo(resolve_dtype(dtype) if dtype is not None else np.float32)


def iinfo(dtype: Any) -> np.iinfo:
    """The limits of an integer dtype, as ``torch.iinfo``: ``.min``, ``.max``, ``.bits``."""
    return np.iinfo(resolve_dtype(dtype))


def dot(a: Tensor, b: Tensor) -> Tensor:
    """The inner product of two 1-D tensors of one length (a 0-d tensor)."""
    if a.ndim != 1 or b.ndim != 1 or a.shape != b.shape:
        raise ValueError(f"dot: two 1-D tensors of one length, got shapes {a.shape} and "
                         f"{b.shape}")
    return matmul(a, b)


def outer(a: Tensor, b: Tensor) -> Tensor:
    """The outer product of two 1-D tensors: ``a[i] * b[j]``."""
    return a.outer(b)


ger = outer  # PyTorch's older name


def mv(m: Tensor, v: Tensor) -> Tensor:
    """A matrix (n, k) times a vector (k,): a vector (n,)."""
    if m.ndim != 2 or v.ndim != 1 or m.shape[1] != v.shape[0]:
        raise ValueError(f"mv: a matrix (n, k) and a vector (k,), got shapes {m.shape} and "
                         f"{v.shape}")
    return matmul(m, v)


_DETERMINISTIC = {"mode": False, "warn_only": False}
_NUM_THREADS = [os.cpu_count() or 1]


def use_deterministic_algorithms(mode: builtins.bool, *, warn_only: builtins.bool = False
                                 ) -> None:
    """Record PyTorch's deterministic-algorithms flag, as scripts set it at the top; it is
    kept for ``are_deterministic_algorithms_enabled()`` and changes nothing. On the CPU every
    op gives the same bits for the same inputs. On the GPU the scatter-adds (the backward of
    an embedding or of indexing that picks an element twice, ``index_add``, weighted
    ``bincount``) use CuPy's atomic adds, whose float sums may differ in the last bits from
    run to run, as PyTorch's nondeterministic kernels do; this flag does not replace them."""
    # (builtins': this module's bool and int are PyTorch's dtype names)
    flag = (builtins.bool, np.bool_)
    if not isinstance(mode, flag) or not isinstance(warn_only, flag):
        raise TypeError(f"use_deterministic_algorithms: mode and warn_only must be bools, got "
                        f"{mode!r} and {warn_only!r}")
    _DETERMINISTIC.update(mode=builtins.bool(mode), warn_only=builtins.bool(warn_only))


def are_deterministic_algorithms_enabled() -> builtins.bool:
    """The flag ``use_deterministic_algorithms`` recorded (False until then)."""
    return _DETERMINISTIC["mode"]


def is_deterministic_algorithms_warn_only_enabled() -> builtins.bool:
    """The ``warn_only`` that ``use_deterministic_algorithms`` recorded."""
    return _DETERMINISTIC["warn_only"]


def set_num_threads(n: builtins.int) -> None:
    """The number of threads NumPy's BLAS uses from now on, as ``torch.set_num_threads``
    (through threadpoolctl, a dependency; where it finds no BLAS to limit, the number is only
    recorded, and ``OMP_NUM_THREADS`` or ``OPENBLAS_NUM_THREADS`` set before Python starts
    does it). The recurrent nets here multiply small matrices, for which one thread is
    fastest, and many times faster on a machine busy with other work: the ``tinygrad-rnn``
    command uses one unless told (``--threads``). ``get_num_threads()`` returns it."""
    if isinstance(n, (builtins.bool, np.bool_)) or not isinstance(n, (builtins.int, np.integer)) \
            or n < 1:
        raise ValueError(f"set_num_threads: n must be an int >= 1, got {n!r}")
    _NUM_THREADS[0] = builtins.int(n)
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # recorded only
        return
    threadpool_limits(limits=builtins.int(n), user_api="blas")


def get_num_threads() -> builtins.int:
    """The number of threads NumPy's BLAS uses (as threadpoolctl finds it), else the number
    ``set_num_threads`` set (the number of CPUs until then)."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return _NUM_THREADS[0]
    found = [i["num_threads"] for i in threadpool_info() if i.get("user_api") == "blas"]
    return builtins.int(builtins.max(found)) if found else _NUM_THREADS[0]


def as_tensor(data: Any, dtype: Any = None, device: str | None = None) -> Tensor:
    """``data`` as a tensor: a tensor of that dtype and device is returned as it is, anything
    else converted (copied), as ``torch.as_tensor``."""
    if isinstance(data, Tensor):
        return data.to(device=device, dtype=dtype)
    return tensor(data, dtype=dtype, device=device)

def seed() -> builtins.int:
    """Reseed the global generator from fresh entropy and return the seed, as ``torch.seed``
    (``tr.initial_seed()`` gives it again)."""
    return default_generator.seed()


def asarray(obj: Any, *, dtype: Any = None, device: Any = None,
            copy: builtins.bool | None = None, requires_grad: builtins.bool | None = None
            ) -> Tensor:
    """``obj`` as a tensor, as ``torch.asarray``: an array (NumPy's, or CuPy's on the GPU)
    of the dtype and device asked for is shared, not copied (``copy=True`` copies; where a
    copy is needed, for another dtype or device or for Python numbers and lists, ``copy=False``
    refuses); a tensor is returned as it is, or converted (differentiably). ``requires_grad``
    None keeps a tensor's, False detaches it, True makes the result a leaf that requires
    grad (a floating-point one).

    Shared reads only: a NumPy write into the array shows in the tensor (backward then sees
    the new values, where PyTorch's version counter would refuse), but the tensor's own
    in-place ops give it a new array (copy on write, as every tensor here), so they do not
    reach the array; where that matters, keep writing through NumPy, or copy."""
    if copy is not None and not isinstance(copy, (builtins.bool, np.bool_)):
        raise TypeError(f"asarray: copy must be True, False or None, got {copy!r}")
    dt = resolve_dtype(dtype) if dtype is not None else None
    if isinstance(obj, Tensor):
        target = _get_device(device) if device is not None else obj._dev
        same = (dt is None or dt == obj.dtype) and target is obj._dev
        if copy is False and not same:
            raise ValueError(f"asarray: copy=False, but a {obj.dtype} tensor on "
                             f"{obj.device!r} becomes {dt or obj.dtype} on {target.name!r} "
                             "only by a copy")
        out = obj.clone() if copy else obj
        if not same:
            out = out.to(device=target.name, dtype=dt)
    else:
        try:
            src = None if isinstance(obj, (np.generic, builtins.int, builtins.float,
                                           builtins.complex,
                                           list, tuple)) else _device_of(obj)
        except TypeError:
            src = None
        target = _get_device(device) if device is not None else src
        if src is not None and not copy and target is src and (dt is None or dt == obj.dtype) \
                and obj.dtype.kind in "biufc":
            out = Tensor._wrap(obj, src)
        elif copy is False:
            why = "has no memory to share" if src is None else \
                f"becomes {dt or obj.dtype} on {target.name!r} only by a copy"
            raise ValueError(f"asarray: copy=False, but this {type(obj).__name__} {why}")
        else:
            out = tensor(obj, dtype=dt, device=None if target is None else target.name)
    if requires_grad is not None and builtins.bool(requires_grad) != out.requires_grad:
        out = out.detach()
        if requires_grad:
            out.requires_grad_()
    return out


def logspace(start: Any, end: Any, steps: builtins.int, base: builtins.float = 10.0, *,
             dtype: Any = None, device: str = "cpu", requires_grad: builtins.bool = False
             ) -> Tensor:
    """``steps`` values base ** e, the exponents e evenly spaced from ``start`` to ``end``
    (both included), of the default float dtype unless ``dtype``, as ``torch.logspace``.
    Computed in float64 (the first half of the exponents counted from start, the second back
    from end, as PyTorch counts them), then cast: within a unit in the last place of
    PyTorch's values (whose float32 ones come from float32 exponents and its own pow). An
    integer dtype truncates start and end first, and the values, as there."""
    if isinstance(steps, builtins.bool) or not isinstance(steps, (builtins.int, np.integer)) \
            or steps < 0:
        raise ValueError(f"logspace: steps must be an int >= 0, got {steps!r}")
    dt = resolve_dtype(dtype) if dtype is not None else default_dtype()
    if dt.kind not in "iuf":
        raise DTypeError(f"logspace: dtype must be an integer or floating-point one, got {dt}")
    lo, hi = (builtins.float(start), builtins.float(end)) if dt.kind == "f" else \
        (builtins.float(builtins.int(start)), builtins.float(builtins.int(end)))
    k = np.arange(steps)
    step = (hi - lo) / (steps - 1) if steps > 1 else 0.0
    e = np.where(k < builtins.max(steps // 2, 1), lo + step * k, hi - step * (steps - 1 - k))
    with np.errstate(over="ignore"):
        values = np.power(builtins.float(base), e)
    return tensor(values.astype(dt), device=device, requires_grad=requires_grad)


def result_type(tensor1: Any, tensor2: Any) -> np.dtype:
    """The dtype of an arithmetic op on ``tensor1`` and ``tensor2`` (tensors or Python
    numbers), as ``torch.result_type``: tensors with axes decide; a 0-d tensor, then a
    number, counts only where it is of a higher category (a float number makes integers the
    default float dtype; float32 with a 0-d float64 tensor stays float32)."""
    groups: list[list[np.dtype]] = [[], [], []]  # with axes, 0-d, Python numbers
    for v in (tensor1, tensor2):
        if isinstance(v, Tensor):
            groups[0 if v.ndim else 1].append(v.dtype)
        elif isinstance(v, (builtins.bool, np.bool_)):
            groups[2].append(np.dtype(np.bool_))
        elif isinstance(v, (builtins.int, np.integer)):
            groups[2].append(np.dtype(np.int64))
        elif isinstance(v, (builtins.float, np.floating)):
            groups[2].append(default_dtype())
        elif isinstance(v, (builtins.complex, np.complexfloating)):
            groups[2].append(_default_complex())
        else:
            raise TypeError(f"result_type takes tensors and numbers, got {type(v).__name__}")

    def promoted(dtypes: list[np.dtype]) -> np.dtype | None:
        out = None
        for d in dtypes:
            out = d if out is None else promote_types(out, d)
        return out

    dims, zero, numbers = (promoted(g) for g in groups)
    return combine_categories(dims, combine_categories(zero, numbers))


# tr.all, tr.any and tr.round are attributes only, not in __all__: `from tinygrad_rnn import *`
# must not hide Python's all() and any(), which take any iterable, nor round(), on numbers
__all__ = [
    "Function", "Tensor", "abs", "allclose", "amax", "amin", "arange", "argmax", "argmin",
    "argsort", "backends", "bmm", "bool_", "broadcast_to", "cat", "chunk", "clamp", "clip",
    "cos", "cuda", "cuda_available", "cumsum", "debug", "detect_anomaly", "device",
    "diagnostics", "empty", "enable_grad", "exp", "eye", "flip", "float16", "float32",
    "float64", "from_numpy", "full", "full_like", "functional", "gather", "get_default_dtype",
    "grad", "index_select", "inference_mode", "int16", "int32", "int64", "int8",
    "is_grad_enabled", "is_tensor", "isfinite", "isinf", "isnan", "linspace", "load", "log",
    "log_softmax", "logsumexp", "manual_seed", "masked_select", "matmul", "max", "maximum",
    "mean", "min", "minimum", "mm", "multinomial", "nn", "no_grad", "ones", "ones_like",
    "optim", "rand", "rand_like", "randint", "randn", "randn_like", "random", "randperm",
    "relu", "reshape", "save", "set_grad_enabled", "sigmoid", "sin", "softmax", "sort", "split",
    "sqrt", "squeeze", "stack", "sum", "tanh", "tensor", "topk", "trace", "transpose", "uint8",
    "unbind", "unsqueeze", "utils", "var", "viz", "where", "zeros", "zeros_like",
    *_METHODS_AS_FUNCTIONS, "Generator", "Size", "as_tensor", "ceil", "concat", "concatenate",
    "distributions", "dot", "einsum", "equal", "erf", "expm1", "finfo", "floor", "iinfo",
    "log1p", "mv", "outer", "set_default_dtype", "sign", "testing", "trunc",
    "BoolTensor", "ByteTensor", "DoubleTensor", "FloatTensor", "HalfTensor", "IntTensor",
    "LongTensor", "acos", "arccos", "arcsin", "arctan", "arctan2",
    "are_deterministic_algorithms_enabled", "asin", "atan", "atan2", "bernoulli", "bincount",
    "cumprod", "default_generator", "diag",
    "diagonal", "get_num_threads", "get_rng_state", "index_add", "index_fill",
    "initial_seed", "is_deterministic_algorithms_warn_only_enabled", "log10", "log2",
    "median", "set_num_threads", "set_printoptions", "set_rng_state", "std_mean", "tan",
    "tensordot", "unique", "use_deterministic_algorithms", "var_mean", "is_floating_point",
    "atleast_1d", "atleast_2d", "atleast_3d", "broadcast_shapes", "broadcast_tensors", "cdist",
    "column_stack", "count_nonzero", "diff", "digamma", "dstack", "empty_like", "erfc", "erfinv",
    "hstack", "index_put", "isin", "logaddexp", "logaddexp2", "logcumsumexp", "masked_scatter",
    "meshgrid", "nan_to_num", "nanquantile", "normal", "quantile", "randint_like", "row_stack",
    "scatter_reduce", "special", "take_along_dim", "tile", "vstack", "lgamma", "mvlgamma",
    "amp", "autocast", "jit", "func", "linalg",
    "block_diag", "bucketize", "cartesian_prod", "chain_matmul", "combinations",
    "cumulative_trapezoid", "searchsorted", "trapezoid", "tril_indices", "triu_indices", "vander",
    "asarray", "can_cast", "float_power", "is_inference_mode_enabled", "logspace", "poisson",
    "promote_types", "result_type", "seed", "lu_unpack",
]
lu_unpack = linalg.lu_unpack  # PyTorch's top-level name (there is no linalg.lu_unpack there)


# ---- the fourth batch of PyTorch's top-level names -------------------------------------------
# (elementwise ops of ops/elementwise2.py; aliases; functional ops under torch's top-level
# signatures; in-place functions; queries, windows and legacy linear algebra)
from .creation import (  # noqa: E402
    bartlett_window,
    blackman_window,
    empty_strided,
    frombuffer,
    hamming_window,
    hann_window,
    kaiser_window,
    scalar_tensor,
)
from .linalg import (  # noqa: E402
    cholesky_inverse,
    cholesky_solve,
    geqrf,
    orgqr,
    ormqr,
    pca_lowrank,
    svd_lowrank,
    triangular_solve,
)
from .linalg import eig_removed as eig  # noqa: E402
from .linalg import lstsq_removed as lstsq  # noqa: E402
from .linalg import lu_legacy as lu  # noqa: E402
from .linalg import matrix_rank_removed as matrix_rank  # noqa: E402
from .linalg import solve_removed as solve  # noqa: E402
from .linalg import symeig_removed as symeig  # noqa: E402
from .ops.elementwise2 import (  # noqa: E402
    acosh,
    asinh,
    atanh,
    cosh,
    exp2,
    fmax,
    fmin,
    gradient,
    histogram,
    histogramdd,
    index_reduce,
    nextafter,
    polygamma,
    rsub,
    sinh,
    unravel_index,
)
from .special import gammainc as igamma  # noqa: E402
from .special import gammaincc as igammac  # noqa: E402

arcsinh, arccosh, arctanh = asinh, acosh, atanh
trapz = trapezoid  # PyTorch's older name

_MORE_METHODS_AS_FUNCTIONS = (
    "multiply", "divide", "subtract", "greater", "greater_equal", "less", "less_equal",
    "not_equal", "is_signed", "is_nonzero", "is_same_size", "is_complex", "split_with_sizes",
    "qr", "adjoint", "addbmm", "resize_as_",
    # the in-place functions PyTorch has at the top level too (``_overwrite``'s rules)
    "abs_", "acos_", "acosh_", "arccos_", "arccosh_", "arcsin_", "arcsinh_", "arctan_",
    "arctanh_", "asin_", "asinh_", "atan_", "atanh_", "ceil_", "clamp_", "clamp_max_",
    "clamp_min_", "clip_", "cos_", "cosh_", "deg2rad_", "detach_", "erf_", "erfc_", "exp2_",
    "exp_", "expm1_", "fill_", "fix_", "floor_", "frac_", "gcd_", "i0_", "index_put_", "lcm_",
    "ldexp_", "log10_", "log1p_", "log2_", "log_", "logit_", "nan_to_num_", "neg_",
    "negative_", "rad2deg_", "reciprocal_", "relu_", "round_", "rsqrt_", "sigmoid_", "sin_",
    "sinc_", "sinh_", "sqrt_", "square_", "tan_", "tanh_", "trunc_", "xlogy_", "zero_",
)
for _name in _MORE_METHODS_AS_FUNCTIONS:
    globals()[_name] = _function_of(_name)
_NUMBER_FIRST |= {"multiply", "divide", "subtract"}


def is_complex(input: Tensor) -> builtins.bool:  # noqa: A002
    """Whether ``input`` holds complex numbers, as ``torch.is_complex``."""
    if not isinstance(input, Tensor):
        raise TypeError(f"is_complex: expected a Tensor, got {type(input).__name__}")
    return input.is_complex()


def fill(input: Tensor, value: Any) -> Tensor:  # noqa: A002
    """A new tensor of input's shape, dtype and device filled with ``value``, as
    ``torch.fill`` (out of place; recorded, with a zero gradient to input, as there)."""
    if not isinstance(input, Tensor):
        raise TypeError(f"fill: input must be a Tensor, got {type(input).__name__}")
    return input.clone().fill_(value)


def nuclear_norm(input: Tensor, dim: Any = None, keepdim: builtins.bool = False  # noqa: A002
                 ) -> Tensor:
    """The sum of the singular values of the matrices in the two axes ``dim`` (the last two
    by default), as ``torch.nuclear_norm`` (``tr.linalg.matrix_norm(A, "nuc")``)."""
    if isinstance(dim, (builtins.bool, np.bool_)):  # torch.nuclear_norm(A, keepdim)
        dim, keepdim = None, dim
    if dim is None and getattr(input, "ndim", 2) != 2:
        raise ValueError(f"nuclear_norm: expected a 2-D tensor (or give dim), got shape "
                         f"{getattr(input, 'shape', None)}")
    return linalg.matrix_norm(input, "nuc", (-2, -1) if dim is None else tuple(dim), keepdim)


def frobenius_norm(input: Tensor, dim: Any, keepdim: builtins.bool = False  # noqa: A002
                   ) -> Tensor:
    """√(Σ x²) over the one or two axes ``dim``, as ``torch.frobenius_norm``."""
    axes = (dim,) if isinstance(dim, (builtins.int, np.integer)) else tuple(dim)
    if not 1 <= len(axes) <= 2:
        raise ValueError(f"frobenius_norm: dim must be one or two axes, got {dim!r}")
    return input.norm(2, axes, keepdim)


_MATMUL_PRECISION = ["highest"]


def set_float32_matmul_precision(precision: str) -> None:
    """Record PyTorch's float32 matmul precision ("highest", "high" or "medium"), as
    ``torch.set_float32_matmul_precision``: kept for ``get_float32_matmul_precision`` and
    changing nothing, as NumPy's and CuPy's matmuls always run at full float32 precision
    (no TF32). Another value warns and is ignored, as there."""
    if precision not in ("highest", "high", "medium"):
        import warnings

        warnings.warn(f"{precision} is not one of 'highest', 'high', or 'medium'; the "
                      "set_float32_matmul_precision call has no effect.", UserWarning,
                      stacklevel=2)
        return
    _MATMUL_PRECISION[0] = precision


def get_float32_matmul_precision() -> str:
    """The precision ``set_float32_matmul_precision`` recorded ("highest" until then)."""
    return _MATMUL_PRECISION[0]


def get_default_device() -> device:
    """The device factory functions use when given none: always the CPU here (see
    ``set_default_device``)."""
    return device("cpu")


def set_default_device(device: Any) -> None:  # noqa: A002
    """``torch.set_default_device``, for the CPU only: every factory function here takes
    ``device=`` and defaults to "cpu" (values are made on the host and moved, so that a CPU
    run and a GPU run start from the same numbers), so another default device is refused,
    not silently ignored: pass ``device=`` or move the tensors with ``.to(device)``."""
    name = getattr(device, "type", device)
    if name not in (None, "cpu"):
        raise NotImplementedError(f"set_default_device({device!r}): only 'cpu' (or None) can be "
                                  "the default device here; pass device= to the factory "
                                  "functions, or move tensors with .to(device)")


def from_dlpack(ext_tensor: Any) -> Tensor:
    """A tensor sharing the memory of an object that implements DLPack (a NumPy or CuPy
    array, a PyTorch tensor, another framework's), or of a DLPack capsule, as
    ``torch.from_dlpack``: a CPU object becomes a "cpu" tensor (``numpy.from_dlpack``), a
    CUDA one a "cuda" tensor (``cupy.from_dlpack``). Shared for reading: the tensor's own
    in-place ops give it a new array (copy on write), so they do not reach the source."""
    if isinstance(ext_tensor, Tensor):
        return ext_tensor
    kind = ext_tensor.__dlpack_device__()[0] if hasattr(ext_tensor, "__dlpack_device__") \
        else None
    if kind in (2, 3, 13):  # kDLCUDA, kDLCUDAHost, kDLCUDAManaged
        dev = _get_device("cuda")
    elif kind in (1, None):
        dev = _get_device("cpu")
    else:
        raise ValueError(f"from_dlpack: DLPack device type {kind} is neither the CPU nor CUDA")
    if kind is None:
        capsule = ext_tensor

        class _Capsule:  # NumPy takes objects with __dlpack__, not bare capsules
            def __dlpack__(self, stream: Any = None) -> Any:  # (an unversioned capsule)
                return capsule

            def __dlpack_device__(self) -> tuple[builtins.int, builtins.int]:
                return (1, 0)

        ext_tensor = _Capsule()
    a = dev.xp.from_dlpack(ext_tensor)
    if a.dtype.kind not in "biufc":
        raise DTypeError(f"from_dlpack: cannot make a tensor of dtype {a.dtype}")
    return Tensor._wrap(a, dev)


def to_dlpack(tensor: Tensor) -> Any:
    """A DLPack capsule of the tensor's array (shared memory), as ``torch.to_dlpack``."""
    if not isinstance(tensor, Tensor):
        raise TypeError(f"to_dlpack: expected a Tensor, got {type(tensor).__name__}")
    return tensor._data.__dlpack__()


# ---- functional ops at the top level, under torch's own signatures (torch.conv1d, ...) -------
conv1d, conv2d, conv3d = functional.conv1d, functional.conv2d, functional.conv3d
conv_transpose1d = functional.conv_transpose1d
conv_transpose2d = functional.conv_transpose2d
conv_transpose3d = functional.conv_transpose3d
pixel_shuffle, pixel_unshuffle = functional.pixel_shuffle, functional.pixel_unshuffle
channel_shuffle, bilinear, rms_norm = (functional.channel_shuffle, functional.bilinear,
                                       functional.rms_norm)
pdist, cosine_similarity = functional.pdist, functional.cosine_similarity
pairwise_distance = functional.pairwise_distance
adaptive_avg_pool1d = functional.adaptive_avg_pool1d
max_pool1d_with_indices = functional.max_pool1d_with_indices
celu, selu, prelu, hardshrink = (functional.celu, functional.selu, functional.prelu,
                                 functional.hardshrink)
celu_, selu_, threshold_, rrelu_ = (functional.celu_, functional.selu_, functional.threshold_,
                                    functional.rrelu_)

# torch's top-level losses take the reduction as an int (0 none, 1 mean, 2 sum), as ATen does
_REDUCTIONS = {0: "none", 1: "mean", 2: "sum"}


def _reduction(where_: str, reduction: Any) -> str:
    if isinstance(reduction, (builtins.bool, np.bool_)) or reduction not in _REDUCTIONS:
        raise TypeError(f"{where_}: reduction must be an int, 0 (none), 1 (mean) or 2 (sum), "
                        f"at the top level as in PyTorch (torch.nn.functional takes the "
                        f"strings), got {reduction!r}")
    return _REDUCTIONS[reduction]


def threshold(input: Tensor, threshold: Any, value: Any) -> Tensor:  # noqa: A002
    """x where x > threshold, else value (``F.threshold``)."""
    return functional.threshold(input, threshold, value)


def rrelu(input: Tensor, lower: Any = 1.0 / 8, upper: Any = 1.0 / 3,  # noqa: A002
          training: builtins.bool = False, generator: Any = None) -> Tensor:
    """``F.rrelu`` under torch's top-level signature; slopes drawn in training from
    ``tr.manual_seed``'s generator (another ``generator`` is refused)."""
    if generator is not None:
        raise NotImplementedError("rrelu: generator= is not supported; seed the draws with "
                                  "tr.manual_seed")
    return functional.rrelu(input, lower, upper, training)


def layer_norm(input: Tensor, normalized_shape: Any, weight: Tensor | None = None,  # noqa: A002
               bias: Tensor | None = None, eps: builtins.float = 1e-5,
               cudnn_enable: builtins.bool = True) -> Tensor:
    """``F.layer_norm`` (``cudnn_enable`` taken and ignored)."""
    return functional.layer_norm(input, normalized_shape, weight, bias, eps)


def group_norm(input: Tensor, num_groups: builtins.int,  # noqa: A002
               weight: Tensor | None = None, bias: Tensor | None = None,
               eps: builtins.float = 1e-5, cudnn_enabled: builtins.bool = True) -> Tensor:
    """``F.group_norm`` (``cudnn_enabled`` taken and ignored)."""
    return functional.group_norm(input, num_groups, weight, bias, eps)


def batch_norm(input: Tensor, weight: Tensor | None, bias: Tensor | None,  # noqa: A002
               running_mean: Tensor | None, running_var: Tensor | None,
               training: builtins.bool, momentum: builtins.float, eps: builtins.float,
               cudnn_enabled: builtins.bool) -> Tensor:
    """``F.batch_norm`` with torch's top-level argument order (weight and bias first, every
    argument required)."""
    return functional.batch_norm(input, running_mean, running_var, weight, bias, training,
                                 momentum, eps)


def instance_norm(input: Tensor, weight: Tensor | None, bias: Tensor | None,  # noqa: A002
                  running_mean: Tensor | None, running_var: Tensor | None,
                  use_input_stats: builtins.bool, momentum: builtins.float,
                  eps: builtins.float, cudnn_enabled: builtins.bool) -> Tensor:
    """``F.instance_norm`` with torch's top-level argument order."""
    return functional.instance_norm(input, running_mean, running_var, weight, bias,
                                    use_input_stats, momentum, eps)


def embedding(weight: Tensor, indices: Any, padding_idx: builtins.int = -1,
              scale_grad_by_freq: builtins.bool = False, sparse: builtins.bool = False
              ) -> Tensor:
    """``F.embedding`` with torch's top-level order (weight first; padding_idx -1, or any
    negative one, for none, as ATen's)."""
    if scale_grad_by_freq:
        raise NotImplementedError("embedding: scale_grad_by_freq is not supported")
    return functional.embedding(indices, weight, None if padding_idx < 0 else padding_idx,
                                sparse=sparse)


def dropout(input: Tensor, p: builtins.float, train: builtins.bool) -> Tensor:  # noqa: A002
    """``F.dropout(input, p, train)`` (every argument required, as torch.dropout)."""
    return functional.dropout(input, p, train)


def alpha_dropout(input: Tensor, p: builtins.float, train: builtins.bool) -> Tensor:  # noqa: A002
    """``F.alpha_dropout(input, p, train)``."""
    return functional.alpha_dropout(input, p, train)


def feature_alpha_dropout(input: Tensor, p: builtins.float,  # noqa: A002
                          train: builtins.bool) -> Tensor:
    """``F.feature_alpha_dropout(input, p, train)``."""
    return functional.feature_alpha_dropout(input, p, train)


def dropout_(input: Tensor, p: builtins.float, train: builtins.bool) -> Tensor:  # noqa: A002
    """``dropout`` written into input (``_overwrite``'s rules)."""
    return input._overwrite("dropout_", lambda old: functional.dropout(old, p, train))


def alpha_dropout_(input: Tensor, p: builtins.float, train: builtins.bool) -> Tensor:  # noqa: A002
    """``alpha_dropout`` written into input."""
    return input._overwrite("alpha_dropout_",
                            lambda old: functional.alpha_dropout(old, p, train))


def feature_alpha_dropout_(input: Tensor, p: builtins.float,  # noqa: A002
                           train: builtins.bool) -> Tensor:
    """``feature_alpha_dropout`` written into input."""
    return input._overwrite("feature_alpha_dropout_",
                            lambda old: functional.feature_alpha_dropout(old, p, train))


def kl_div(input: Tensor, target: Tensor, reduction: Any = 1, *,  # noqa: A002
           log_target: builtins.bool = False) -> Tensor:
    """``F.kl_div`` with an int reduction (1, mean, is over every element)."""
    return functional.kl_div(input, target, _reduction("kl_div", reduction), log_target)


def binary_cross_entropy_with_logits(input: Tensor, target: Tensor,  # noqa: A002
                                     weight: Tensor | None = None,
                                     pos_weight: Tensor | None = None, reduction: Any = 1
                                     ) -> Tensor:
    """``F.binary_cross_entropy_with_logits`` with torch's top-level order and int
    reduction."""
    return functional.binary_cross_entropy_with_logits(
        input, target, weight, _reduction("binary_cross_entropy_with_logits", reduction),
        pos_weight)


def cosine_embedding_loss(input1: Tensor, input2: Tensor, target: Any,
                          margin: builtins.float = 0.0, reduction: Any = 1) -> Tensor:
    """``F.cosine_embedding_loss`` with an int reduction."""
    return functional.cosine_embedding_loss(input1, input2, target, margin,
                                            _reduction("cosine_embedding_loss", reduction))


def hinge_embedding_loss(input: Tensor, target: Any, margin: builtins.float = 1.0,  # noqa: A002
                         reduction: Any = 1) -> Tensor:
    """``F.hinge_embedding_loss`` with an int reduction."""
    return functional.hinge_embedding_loss(input, target, margin,
                                           _reduction("hinge_embedding_loss", reduction))


def margin_ranking_loss(input1: Tensor, input2: Tensor, target: Any,
                        margin: builtins.float = 0.0, reduction: Any = 1) -> Tensor:
    """``F.margin_ranking_loss`` with an int reduction."""
    return functional.margin_ranking_loss(input1, input2, target, margin,
                                          _reduction("margin_ranking_loss", reduction))


def triplet_margin_loss(anchor: Tensor, positive: Tensor, negative: Tensor,
                        margin: builtins.float = 1.0, p: builtins.float = 2.0,
                        eps: builtins.float = 1e-6, swap: builtins.bool = False,
                        reduction: Any = 1) -> Tensor:
    """``F.triplet_margin_loss`` with an int reduction."""
    return functional.triplet_margin_loss(anchor, positive, negative, margin, p, eps, swap,
                                          _reduction("triplet_margin_loss", reduction))


def poisson_nll_loss(input: Tensor, target: Tensor, log_input: builtins.bool,  # noqa: A002
                     full: builtins.bool, eps: builtins.float, reduction: Any) -> Tensor:
    """``F.poisson_nll_loss`` with every argument required and an int reduction."""
    return functional.poisson_nll_loss(input, target, log_input, full, eps,
                                       _reduction("poisson_nll_loss", reduction))


def ctc_loss(log_probs: Tensor, targets: Any, input_lengths: Any, target_lengths: Any,
             blank: builtins.int = 0, reduction: Any = 1,
             zero_infinity: builtins.bool = False) -> Tensor:
    """``F.ctc_loss`` with an int reduction."""
    return functional.ctc_loss(log_probs, targets, input_lengths, target_lengths, blank,
                               _reduction("ctc_loss", reduction), zero_infinity)


def _stride(stride: Any) -> Any:
    """ATen's empty stride (``[]``, the default) means the kernel size."""
    return None if isinstance(stride, (list, tuple)) and not stride else stride


def max_pool1d(input: Tensor, kernel_size: Any, stride: Any = (), padding: Any = 0,  # noqa: A002
               dilation: Any = 1, ceil_mode: builtins.bool = False) -> Tensor:
    """``F.max_pool1d`` under torch's top-level signature (no return_indices)."""
    return functional.max_pool1d(input, kernel_size, _stride(stride), padding, dilation,
                                 ceil_mode)


def max_pool2d(input: Tensor, kernel_size: Any, stride: Any = (), padding: Any = 0,  # noqa: A002
               dilation: Any = 1, ceil_mode: builtins.bool = False) -> Tensor:
    """``F.max_pool2d`` under torch's top-level signature."""
    return functional.max_pool2d(input, kernel_size, _stride(stride), padding, dilation,
                                 ceil_mode)


def max_pool3d(input: Tensor, kernel_size: Any, stride: Any = (), padding: Any = 0,  # noqa: A002
               dilation: Any = 1, ceil_mode: builtins.bool = False) -> Tensor:
    """``F.max_pool3d`` under torch's top-level signature."""
    return functional.max_pool3d(input, kernel_size, _stride(stride), padding, dilation,
                                 ceil_mode)


def avg_pool1d(input: Tensor, kernel_size: Any, stride: Any = (), padding: Any = 0,  # noqa: A002
               ceil_mode: builtins.bool = False, count_include_pad: builtins.bool = True
               ) -> Tensor:
    """``F.avg_pool1d`` under torch's top-level signature."""
    return functional.avg_pool1d(input, kernel_size, _stride(stride), padding, ceil_mode,
                                 count_include_pad)


def adaptive_max_pool1d(input: Tensor, output_size: Any) -> tuple[Tensor, Tensor]:  # noqa: A002
    """(values, indices), as ``torch.adaptive_max_pool1d`` (always both)."""
    return functional.adaptive_max_pool1d(input, output_size, True)


def constant_pad_nd(input: Tensor, pad: Any, value: Any = 0) -> Tensor:  # noqa: A002
    """``F.pad(input, pad, "constant", value)`` (negative pads crop), as
    ``torch.constant_pad_nd``."""
    return functional.pad(input, pad, "constant", value)


__all__ += [  # noqa: PLE0604
    "acosh", "arccosh", "arcsinh", "arctanh", "asinh", "atanh", "cosh", "exp2", "fmax", "fmin",
    "nextafter", "polygamma", "rsub", "sinh", "igamma", "igammac", "trapz", "gradient",
    "histogram", "histogramdd", "index_reduce", "unravel_index", "scalar_tensor",
    "empty_strided", "frombuffer", "hann_window", "hamming_window", "blackman_window",
    "bartlett_window", "kaiser_window", "cholesky_inverse", "cholesky_solve", "pca_lowrank",
    "svd_lowrank", "triangular_solve", "lu", "matrix_rank", "solve", "lstsq", "eig", "symeig",
    "geqrf", "orgqr", "ormqr", *_MORE_METHODS_AS_FUNCTIONS, "fill", "nuclear_norm",
    "frobenius_norm",
    "set_float32_matmul_precision", "get_float32_matmul_precision", "get_default_device",
    "set_default_device", "from_dlpack", "to_dlpack", "conv1d", "conv2d", "conv3d",
    "conv_transpose1d", "conv_transpose2d", "conv_transpose3d", "pixel_shuffle",
    "pixel_unshuffle", "channel_shuffle", "bilinear", "rms_norm", "pdist", "cosine_similarity",
    "pairwise_distance", "adaptive_avg_pool1d", "max_pool1d_with_indices", "celu", "selu",
    "prelu", "hardshrink", "celu_", "selu_", "threshold_", "rrelu_", "threshold", "rrelu",
    "layer_norm", "group_norm", "batch_norm", "instance_norm", "embedding", "dropout",
    "alpha_dropout", "feature_alpha_dropout", "dropout_", "alpha_dropout_",
    "feature_alpha_dropout_", "kl_div", "binary_cross_entropy_with_logits",
    "cosine_embedding_loss", "hinge_embedding_loss", "margin_ranking_loss",
    "triplet_margin_loss", "poisson_nll_loss", "ctc_loss", "max_pool1d", "max_pool2d",
    "max_pool3d", "avg_pool1d", "adaptive_max_pool1d", "constant_pad_nd",
]

from . import fft, sparse  # noqa: E402
from .fft import istft, stft  # noqa: E402

# tr.complex is an attribute only, not in __all__: `from tinygrad_rnn import *` keeps Python's
from .ops.complex import (  # noqa: E402
    angle,
    complex,  # noqa: A004, F401
    conj,
    conj_physical,
    imag,
    polar,
    real,
    view_as_complex,
    view_as_real,
)
from .sparse import sparse_coo, sparse_coo_tensor  # noqa: E402

__all__ += ["sparse", "sparse_coo", "sparse_coo_tensor", "strided"]  # noqa: PLE0604
__all__ += ["fft", "stft", "istft", "angle", "conj", "conj_physical", "imag", "polar", "real",  # noqa: PLE0604
            "view_as_complex", "view_as_real"]

# torch.lstm, torch.gru, torch.rnn_tanh, torch.rnn_relu and their cells: the recurrent layers
# as functions of PyTorch's flat parameter lists
from .nn.rnn import (  # noqa: E402
    gru,
    gru_cell,
    lstm,
    lstm_cell,
    rnn_relu,
    rnn_relu_cell,
    rnn_tanh,
    rnn_tanh_cell,
)

__all__ += ["lstm", "gru", "rnn_tanh", "rnn_relu", "lstm_cell", "gru_cell",  # noqa: PLE0604
            "rnn_tanh_cell", "rnn_relu_cell"]

# ---- as_strided and PyTorch's *_copy functions (ops/strided.py) ------------------------------
from .ops import strided as _strided  # noqa: E402
from .ops.strided import as_strided, as_strided_scatter  # noqa: E402

globals().update({_name: getattr(_strided, _name) for _name in _strided.COPIES})
__all__ += ["as_strided", "as_strided_scatter", *_strided.COPIES]  # noqa: PLE0604

# ---- more of PyTorch's top-level names: constants, queries, control flow ---------------------
import math as _math  # noqa: E402

from .control_flow import cond, while_loop  # noqa: E402
from .debug import (  # noqa: E402
    is_anomaly_check_nan_enabled,
    is_anomaly_enabled,
    set_anomaly_enabled,
)
from .ops.reduce import segment_reduce  # noqa: E402
from .random import binomial  # noqa: E402

pi, e, inf, nan = _math.pi, _math.e, _math.inf, _math.nan
newaxis = None  # x[:, tr.newaxis], as NumPy's and PyTorch's

_FIFTH = ("detach", "get_device", "is_conj", "is_neg", "resolve_conj", "resolve_neg",
          "unsafe_split", "unsafe_chunk", "unsafe_split_with_sizes")
for _name in _FIFTH:
    globals()[_name] = _function_of(_name)


def nonzero_static(input: Tensor, *, size: builtins.int,  # noqa: A002
                   fill_value: builtins.int = -1) -> Tensor:
    """``input.nonzero()`` with exactly ``size`` rows, padded with ``fill_value``, as
    ``torch.nonzero_static``."""
    if not isinstance(input, Tensor):
        raise TypeError(f"nonzero_static: input must be a Tensor, got {type(input).__name__}")
    return input.nonzero_static(size=size, fill_value=fill_value)


def typename(obj: Any, /) -> str:
    """The qualified name of ``obj``'s type, as ``torch.typename``: a tensor's legacy type
    name (``"tinygrad_rnn.FloatTensor"``, ``x.type()``), else the module and qualified name
    of a class or function, or of the object's class (builtins' without a module)."""
    if isinstance(obj, Tensor):
        return obj.type()
    module = getattr(obj, "__module__", "") or ""
    qualname = getattr(obj, "__qualname__", None) or getattr(obj, "__name__", None)
    if qualname is None:
        module, qualname = obj.__class__.__module__ or "", obj.__class__.__qualname__
    return qualname if module in ("", "builtins") else f"{module}.{qualname}"


__all__ += ["cond", "while_loop", "is_anomaly_check_nan_enabled",  # noqa: PLE0604
            "is_anomaly_enabled", "set_anomaly_enabled", "segment_reduce", "binomial", "pi",
            "e", "inf", "nan", "newaxis", *_FIFTH, "nonzero_static", "typename",
            "memory_format", "contiguous_format", "preserve_format", "channels_last",
            "channels_last_3d", "layout", "strided"]


# ---- settings, aliases and small functions ported code calls ---------------------------------
vmap = func.vmap  # torch.vmap is torch.func.vmap
short = int16  # (an attribute only, as float and long)
dtype = np.dtype  # isinstance(x.dtype, tr.dtype), as torch.dtype (an attribute only)
_SIXTH = ("lu_solve", "addmv_", "conj_physical_")
for _name in _SIXTH:
    globals()[_name] = _function_of(_name)
_WARN_ALWAYS = [False]
_INTEROP_THREADS = [1]


def set_warn_always(b: builtins.bool) -> None:
    """Record PyTorch's flag that makes its warn-once warnings warn every time
    (``torch.set_warn_always``); Python's ``warnings`` filters decide here, so it is kept for
    ``is_warn_always_enabled`` only."""
    _WARN_ALWAYS[0] = builtins.bool(b)


def is_warn_always_enabled() -> builtins.bool:
    """The flag ``set_warn_always`` recorded (False until then)."""
    return _WARN_ALWAYS[0]


def set_num_interop_threads(n: builtins.int) -> None:
    """Record the number of threads for running ops side by side, as
    ``torch.set_num_interop_threads``: ops here run one after another, so it changes nothing
    (``set_num_threads`` sets BLAS's threads)."""
    if isinstance(n, builtins.bool) or not isinstance(n, (builtins.int, np.integer)) or n < 1:
        raise ValueError(f"set_num_interop_threads: n must be an int >= 1, got {n!r}")
    _INTEROP_THREADS[0] = builtins.int(n)


def get_num_interop_threads() -> builtins.int:
    """The number ``set_num_interop_threads`` recorded (1: ops run one after another)."""
    return _INTEROP_THREADS[0]


def set_flush_denormal(mode: builtins.bool) -> builtins.bool:
    """False: NumPy and CuPy give no switch to flush subnormal floats to zero, and PyTorch's
    ``set_flush_denormal`` returns False where it cannot either."""
    return False


_DEBUG_MODES = {"default": 0, "warn": 1, "error": 2}


def set_deterministic_debug_mode(debug_mode: str | builtins.int) -> None:
    """``use_deterministic_algorithms`` by PyTorch's other switch: "default" (0) off, "warn"
    (1) on with ``warn_only``, "error" (2) on."""
    mode = _DEBUG_MODES.get(debug_mode, debug_mode) if isinstance(debug_mode, str) else debug_mode
    if isinstance(mode, builtins.bool) or mode not in (0, 1, 2):
        raise ValueError(f"set_deterministic_debug_mode: invalid value of debug_mode, expected "
                         f"one of `default`, `warn`, `error` (or 0, 1, 2), but got "
                         f"{debug_mode!r}")
    use_deterministic_algorithms(mode > 0, warn_only=mode == 1)


def get_deterministic_debug_mode() -> builtins.int:
    """0, 1 or 2, as ``set_deterministic_debug_mode`` (or ``use_deterministic_algorithms``)
    set it."""
    return 0 if not _DETERMINISTIC["mode"] else 1 if _DETERMINISTIC["warn_only"] else 2


def empty_permuted(size: Any, physical_layout: Any, *, dtype: Any = None,
                   device: str = "cpu", requires_grad: builtins.bool = False) -> Tensor:
    """A zero-filled tensor of ``size`` whose axes lie in memory in the order
    ``physical_layout`` gives (outermost first), as ``torch.empty_permuted`` (PyTorch's is
    uninitialised): ``empty_permuted((N, C, H, W), (0, 2, 3, 1))`` is channels-last."""
    shape, order = tuple(size), tuple(physical_layout)
    if sorted(order) != list(builtins.range(len(shape))):
        raise ValueError(f"empty_permuted: physical_layout must be a permutation of the "
                         f"{len(shape)} dims of size {shape}, got {order}")
    stored = zeros(*(shape[i] for i in order), dtype=dtype, device=device)
    out = Tensor._wrap(stored._data.transpose(tuple(builtins.int(i) for i in np.argsort(order))),
                       stored._dev)
    return out.requires_grad_() if requires_grad else out


def norm_except_dim(v: Tensor, pow: builtins.float = 2, dim: builtins.int = 0  # noqa: A002
                    ) -> Tensor:
    """The ``pow``-norm of v over every dim but ``dim``, that one kept (the others of size 1),
    as ``torch.norm_except_dim`` (weight norm's); ``dim=-1``: of all of v, 0-d."""
    if dim == -1:
        return v.norm(pow)
    axes = tuple(a for a in builtins.range(v.ndim) if a != dim)
    return v.norm(pow, axes, keepdims=True)


def convolution(input: Tensor, weight: Tensor, bias: Tensor | None,  # noqa: A002
                stride: Any, padding: Any, dilation: Any, transposed: builtins.bool,
                output_padding: Any, groups: builtins.int) -> Tensor:
    """The convolution ATen's ``torch.convolution`` names: ``conv1d/2d/3d`` (by weight's
    dims), or with ``transposed`` ``conv_transpose1d/2d/3d``."""
    n = weight.ndim - 2
    if n not in (1, 2, 3):
        raise ValueError(f"convolution: weight must have 3, 4 or 5 dims, got shape "
                         f"{weight.shape}")
    if transposed:
        f = (functional.conv_transpose1d, functional.conv_transpose2d,
             functional.conv_transpose3d)[n - 1]
        return f(input, weight, bias, stride, padding, output_padding, groups, dilation)
    return (functional.conv1d, functional.conv2d, functional.conv3d)[n - 1](
        input, weight, bias, stride, padding, dilation, groups)


__all__ += ["vmap", *_SIXTH, "set_warn_always", "is_warn_always_enabled",  # noqa: PLE0604
            "set_num_interop_threads", "get_num_interop_threads", "set_flush_denormal",
            "set_deterministic_debug_mode", "get_deterministic_debug_mode", "empty_permuted",
            "norm_except_dim", "convolution"]


# ---- tr.profiler, as torch.profiler; tr.autograd.profiler, PyTorch's older home of it --------
import sys as _sys  # noqa: E402
import types as _types  # noqa: E402

from . import autograd as _autograd  # noqa: E402
from . import profiler  # noqa: E402

_legacy = _types.ModuleType(__name__ + ".autograd.profiler",
                            "The profiler under PyTorch's older name, ``torch.autograd.profiler``.")
_legacy.profile = profiler._LegacyProfile  # type: ignore[attr-defined]
for _name in ("record_function", "EventList", "FunctionEvent", "FunctionEventAvg"):
    setattr(_legacy, _name, getattr(profiler, _name))
_autograd.profiler = _legacy  # type: ignore[attr-defined]
_sys.modules[_legacy.__name__] = _legacy
__all__ += ["profiler"]  # noqa: PLE0604

# ---- PyTorch's keywords for the leading arguments, where ours are named otherwise -------------
# (``tr.exp(input=x)``, ``tr.matmul(x, other=y)``, ``tr.zeros(size=(2, 3))``): torch's names in
# order, each a keyword for our argument in its place (``torch_args``); a call without keywords
# goes straight through
from .tensor import torch_args as _torch_args  # noqa: E402
from .tensor import torch_names as _torch_names  # noqa: E402

_TORCH_ARGS = {
    "bmm": "input mat2", "mm": "input mat2", "matmul": "input other", "mv": "input vec",
    "dot": "input tensor", "outer": "input vec2", "ger": "input vec2",
    "where": "condition input other", "allclose": "input other", "equal": "input other",
    "atan2": "input other", "arctan2": "input other", "float_power": "input exponent",
    "fmax": "input other", "fmin": "input other", "maximum": "input other",
    "minimum": "input other", "logaddexp": "input other", "logaddexp2": "input other",
    "nextafter": "input other", "broadcast_to": "input size", "polygamma": "n input",
    "cholesky_solve": "input input2", "orgqr": "input input2", "ormqr": "input input2 input3",
    "max": "input other", "min": "input other",  # other: the elementwise maximum/minimum
    "split": "tensor", "zeros": "size", "ones": "size", "empty": "size", "rand": "size",
    "randn": "size", "full": "size",
    **dict.fromkeys((
        "abs", "acos", "acosh", "all", "amax", "amin", "angle", "any", "arccos", "arccosh",
        "arcsin", "arcsinh", "arctan", "arctanh", "argmax", "argmin", "argsort", "as_strided",
        "as_strided_copy", "as_strided_scatter", "asin", "asinh", "atan", "atanh", "bincount",
        "ceil", "cholesky_inverse", "chunk", "clamp", "clip", "combinations", "conj",
        "conj_physical", "cos", "cosh", "count_nonzero", "cumprod", "cumsum", "diag",
        "diagonal", "diff", "digamma", "empty_like", "erf", "erfc", "erfinv", "exp", "exp2",
        "expm1", "flip", "floor", "full_like", "gather", "geqrf", "imag", "index_add",
        "index_fill", "index_put", "index_reduce", "index_select", "is_floating_point",
        "isfinite", "isinf", "isnan", "lgamma", "log", "log10", "log1p", "log2", "log_softmax",
        "logcumsumexp", "logsumexp", "masked_scatter", "masked_select", "mean", "median",
        "nan_to_num", "nanquantile", "ones_like", "quantile", "rand_like", "randint_like",
        "randn_like", "real", "relu", "reshape", "round", "scatter_reduce", "sigmoid", "sign",
        "sin", "sinh", "softmax", "sort", "sqrt", "squeeze", "std_mean", "sum", "take_along_dim",
        "tan", "tanh", "tile", "topk", "transpose", "triangular_solve", "trunc", "unbind", "unique",
        "unsqueeze", "var_mean", "view_as_complex", "view_as_real", "zeros_like"), "input"),
}
_torch_args(globals(), _TORCH_ARGS)
# the names of PyTorch's overloads for a number on one side
isin = _torch_names(isin, element="elements", test_element="test_elements")

# PyTorch's layout= (tr.strided) and pin_memory= (False) for the factories (``dense_factory``)
from .tensor import dense_factory as _dense_factory  # noqa: E402

for _name in ("arange", "bartlett_window", "blackman_window", "empty", "empty_like",
              "empty_permuted", "empty_strided", "eye", "full", "full_like", "hamming_window",
              "hann_window", "kaiser_window", "linspace", "logspace", "normal", "ones",
              "ones_like", "rand", "rand_like", "randint", "randint_like", "randn", "randn_like",
              "randperm", "scalar_tensor", "tril_indices", "triu_indices", "zeros",
              "zeros_like"):
    globals()[_name] = _dense_factory(globals()[_name])
