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
    Function,
    Size,
    Tensor,
    _default_complex,
    default_dtype,
    resolve_dtype,
    set_default_dtype,
    set_printoptions,
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
# PyTorch's other names for them (tr.long, tr.float, ...): attributes only, not in __all__,
# so that `from tinygrad_rnn import *` never hides Python's float, int and bool
half, float, double, long, int, bool = float16, float32, float64, int64, int32, bool_  # noqa: A001

__version__ = "0.1.0"


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
            src = None if isinstance(obj, (np.generic, builtins.int, builtins.float, complex,
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
        raise TypeError(f"logspace: dtype must be an integer or floating-point one, got {dt}")
    lo, hi = (builtins.float(start), builtins.float(end)) if dt.kind == "f" else \
        (builtins.float(builtins.int(start)), builtins.float(builtins.int(end)))
    k = np.arange(steps)
    step = (hi - lo) / (steps - 1) if steps > 1 else 0.0
    e = np.where(k < builtins.max(steps // 2, 1), lo + step * k, hi - step * (steps - 1 - k))
    with np.errstate(over="ignore"):
        values = np.power(builtins.float(base), e)
    return tensor(values.astype(dt), device=device, requires_grad=requires_grad)


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


def can_cast(from_: Any, to: Any) -> builtins.bool:
    """Whether a value of dtype ``from_`` may be cast to ``to`` by PyTorch's rule for
    in-place ops: never to a lower category (complex to float, float to integer, anything
    but bool to bool), as ``torch.can_cast``."""
    a, b = resolve_dtype(from_), resolve_dtype(to)
    return _CATEGORY[a.kind] <= _CATEGORY[b.kind] and (b.kind != "b" or a.kind == "b")


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
        elif isinstance(v, (complex, np.complexfloating)):
            groups[2].append(_default_complex())
        else:
            raise TypeError(f"result_type takes tensors and numbers, got {type(v).__name__}")

    def promoted(dtypes: list[np.dtype]) -> np.dtype | None:
        out = None
        for d in dtypes:
            out = d if out is None else promote_types(out, d)
        return out

    def combine(higher: np.dtype | None, lower: np.dtype | None) -> np.dtype | None:
        if higher is None or lower is None:
            return lower if higher is None else higher
        if higher.kind == "c":
            return higher
        if lower.kind == "c":  # a float keeps its width, made complex
            return np.dtype({4: np.complex64, 8: np.complex128}.get(
                higher.itemsize, np.complex64)) if higher.kind == "f" else lower
        if higher.kind == "f":
            return higher
        if higher.kind == "b" or lower.kind == "f":
            return promote_types(higher, lower)
        return higher

    dims, zero, numbers = (promoted(g) for g in groups)
    return combine(dims, combine(zero, numbers))


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
