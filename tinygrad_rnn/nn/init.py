"""Weight initialisation, as ``torch.nn.init``.

Each function fills its tensor in place and returns it. As PyTorch's (which run under
``no_grad``), the fill is not recorded by autograd: the tensor gets a new array of its own dtype,
on its own device, and a graph that saved the old one keeps it. Random values come from this
package's generator (``tr.manual_seed``; or ``generator=``, a ``tr.Generator`` or a
``numpy.random.Generator``), drawn on the host in float64, so a CPU and a GPU tensor get the
same values; the streams differ from PyTorch's.

    model.apply(lambda m: nn.init.xavier_uniform_(m.weight) if isinstance(m, nn.Linear) else None)
"""

from __future__ import annotations

import functools
import math
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from .. import random as _random
from ..autograd import no_grad
from ..tensor import DTypeError, Tensor


def _fill(tensor: Tensor, host: Any) -> Tensor:
    """Give ``tensor`` the host values ``host`` (its shape), cast to its dtype, on its device."""
    values = Tensor._wrap(tensor._dev.to_device(np.asarray(host).astype(tensor.dtype)),
                          tensor._dev)
    with no_grad():  # into a view (p[0], p.data), the values go through to its base
        return tensor._overwrite("nn.init", lambda old: values)


def _takes_a_tensor(fn: Callable[..., Tensor]) -> Callable[..., Tensor]:
    """Refuse anything but a Tensor as ``fn``'s first argument, naming ``fn``."""

    @functools.wraps(fn)
    def checked(tensor: Any, *args: Any, **kwargs: Any) -> Tensor:
        if not isinstance(tensor, Tensor):
            hint = (f": pass the tensor itself, nn.init.{fn.__name__}(p) or "
                    f"nn.init.{fn.__name__}(p.data), not its array") if hasattr(
                tensor, "__array_interface__") or hasattr(tensor, "__cuda_array_interface__") \
                else ""
            raise TypeError(f"nn.init.{fn.__name__}: expected a Tensor, got "
                            f"{type(tensor).__name__}{hint}")
        return fn(tensor, *args, **kwargs)

    return checked


def _rng(tensor: Any, generator: np.random.Generator | None, where: str
         ) -> np.random.Generator:
    """The generator to draw from, once ``tensor`` is checked to be a floating-point Tensor."""
    if not isinstance(tensor, Tensor):
        raise TypeError(f"{where}: expected a Tensor, got {type(tensor).__name__}")
    if tensor.dtype.kind != "f":
        raise DTypeError(f"{where}: random values fill floating-point tensors, not {tensor.dtype}")
    return _random.rng_of(generator, where)


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The gain recommended for a nonlinearity, to scale an initialisation's std by:

    linear, conv*, sigmoid: 1    tanh: 5/3    relu: √2    selu: 3/4
    leaky_relu: √(2 / (1 + slope²)), slope = ``param`` (0.01 if None)
    """
    linear_fns = ["linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d",
                  "conv_transpose2d", "conv_transpose3d"]
    if nonlinearity in linear_fns or nonlinearity == "sigmoid":
        return 1
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, (int, float)) and not isinstance(param, bool):
            slope = param
        else:
            raise ValueError(f"negative_slope {param} not a valid number")
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"Unsupported nonlinearity {nonlinearity}")


def _calculate_fan_in_and_fan_out(tensor: Tensor) -> tuple[int, int]:
    """(fan_in, fan_out) of a weight of shape (out, in, *kernel): in · k and out · k, k the
    product of the kernel axes (1 for a (out, in) matrix), as PyTorch."""
    if tensor.ndim < 2:
        raise ValueError("Fan in and fan out can not be computed for tensor with fewer than 2 "
                         "dimensions")
    receptive_field = math.prod(tensor.shape[2:])
    return tensor.shape[1] * receptive_field, tensor.shape[0] * receptive_field


def _calculate_correct_fan(tensor: Tensor, mode: str) -> int:
    mode = mode.lower()
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"Mode {mode} not supported, please use one of ['fan_in', 'fan_out']")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


@_takes_a_tensor
def uniform_(tensor: Tensor, a: float = 0.0, b: float = 1.0,
             generator: Any = None) -> Tensor:
    """Fill with values drawn from U(a, b)."""
    rng = _rng(tensor, generator, "uniform_")
    if not a <= b:
        raise ValueError(f"uniform_ expects a [from, to) range, but found from={a} > to={b}")
    return _fill(tensor, rng.uniform(a, b, tensor.shape))


@_takes_a_tensor
def normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0,
            generator: Any = None) -> Tensor:
    """Fill with values drawn from N(mean, std²)."""
    rng = _rng(tensor, generator, "normal_")
    if not std >= 0:
        raise ValueError(f"normal_ expects std >= 0.0, but found std {std}")
    return _fill(tensor, rng.normal(mean, std, tensor.shape))


@_takes_a_tensor
def constant_(tensor: Tensor, val: float) -> Tensor:
    """Fill with ``val`` (cast to the tensor's dtype)."""
    return _fill(tensor, np.full(tensor.shape, val))


@_takes_a_tensor
def zeros_(tensor: Tensor) -> Tensor:
    """Fill with 0."""
    return constant_(tensor, 0)


@_takes_a_tensor
def ones_(tensor: Tensor) -> Tensor:
    """Fill with 1."""
    return constant_(tensor, 1)


@_takes_a_tensor
def xavier_uniform_(tensor: Tensor, gain: float = 1.0,
                    generator: Any = None) -> Tensor:
    """Glorot & Bengio (2010): U(-a, a), a = gain · √(6 / (fan_in + fan_out)) (so the std is
    gain · √(2 / (fan_in + fan_out)))."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    a = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(tensor, -a, a, generator)


@_takes_a_tensor
def xavier_normal_(tensor: Tensor, gain: float = 1.0,
                   generator: Any = None) -> Tensor:
    """Glorot & Bengio (2010): N(0, std²), std = gain · √(2 / (fan_in + fan_out))."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)), generator)


def _kaiming_std(tensor: Tensor, a: float, mode: str, nonlinearity: str) -> float | None:
    """gain / √fan, gain = calculate_gain(nonlinearity, a); None (with PyTorch's warning)
    for a tensor with no elements, which is left as it is."""
    if 0 in tensor.shape:
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=3)
        return None
    return calculate_gain(nonlinearity, a) / math.sqrt(_calculate_correct_fan(tensor, mode))


@_takes_a_tensor
def kaiming_uniform_(tensor: Tensor, a: float = 0, mode: str = "fan_in",
                     nonlinearity: str = "leaky_relu",
                     generator: Any = None) -> Tensor:
    """He et al. (2015): U(-bound, bound), bound = √3 · std, std = gain / √fan, the fan of
    ``mode`` ("fan_in" keeps the forward pass's variance, "fan_out" the backward's) and the
    gain of ``nonlinearity`` with negative slope ``a``. (The default, leaky_relu with a = 0, is
    relu's √2.)"""
    std = _kaiming_std(tensor, a, mode, nonlinearity)
    if std is None:
        return tensor
    return uniform_(tensor, -math.sqrt(3.0) * std, math.sqrt(3.0) * std, generator)


@_takes_a_tensor
def kaiming_normal_(tensor: Tensor, a: float = 0, mode: str = "fan_in",
                    nonlinearity: str = "leaky_relu",
                    generator: Any = None) -> Tensor:
    """He et al. (2015): N(0, std²), std = gain / √fan (as ``kaiming_uniform_``)."""
    std = _kaiming_std(tensor, a, mode, nonlinearity)
    return tensor if std is None else normal_(tensor, 0.0, std, generator)


@_takes_a_tensor
def orthogonal_(tensor: Tensor, gain: float = 1,
                generator: Any = None) -> Tensor:
    """Saxe et al. (2013): a (semi-)orthogonal matrix times ``gain``. The tensor is seen as a
    (rows, cols) matrix, rows = its first axis; its rows (rows <= cols) or its columns are
    orthonormal. Made as PyTorch: the Q of a Gaussian matrix's QR, each column times the sign
    of R's diagonal entry, which makes Q uniform over orthogonal matrices (Mezzadri, 2007)."""
    rng = _rng(tensor, generator, "orthogonal_")
    if tensor.ndim < 2:
        raise ValueError("Only tensors with 2 or more dimensions are supported")
    if tensor.numel() == 0:
        return tensor
    rows = tensor.shape[0]
    cols = tensor.numel() // rows
    flat = rng.standard_normal((rows, cols))
    if rows < cols:  # QR of the tall transpose: orthonormal columns there are rows here
        flat = flat.T
    q, r = np.linalg.qr(flat)
    q *= np.sign(np.diag(r))
    if rows < cols:
        q = q.T
    return _fill(tensor, gain * q.reshape(tensor.shape))


def _truncated_standard_normal(rng: np.random.Generator, lo: float, hi: float, n: int
                               ) -> np.ndarray:
    """``n`` exact draws from the standard normal truncated to [lo, hi] (lo < hi), by
    rejection: from the normal itself where [lo, hi] holds a fair share of its mass, else
    Robert's (1995) samplers (an interval below 0 mirrored above it): uniform on [lo, hi]
    kept with probability exp((c² - z²)/2), c the point of it nearest 0, for a narrow
    interval; for a wide one in the upper tail (lo > 0), lo + Exp(λ) kept with probability
    exp(-(z - λ)²/2), λ = (lo + √(lo² + 4))/2."""
    if hi <= 0:  # the lower tail: the upper one mirrored
        return -_truncated_standard_normal(rng, -hi, -lo, n)
    out = np.empty(0)
    mass = 0.5 * (math.erf(hi / math.sqrt(2)) - math.erf(lo / math.sqrt(2)))
    while out.size < n:
        want = n - out.size
        m = 2 * want + 16
        lam = (max(lo, 0) + math.sqrt(max(lo, 0) ** 2 + 4)) / 2
        if mass > 0.3:
            z = rng.standard_normal(int(want / mass) + 16)
            z = z[(z >= lo) & (z <= hi)]
        elif lo <= 0 or lam * (hi - lo) < 1:  # narrow: uniform proposals
            c = max(lo, 0)  # the point of [lo, hi] nearest 0, where the density is largest
            z = rng.uniform(lo, hi, m)
            z = z[rng.random(m) <= np.exp((c * c - z * z) / 2)]
        else:  # a wide interval in the upper tail: exponential proposals
            z = lo + rng.exponential(1 / lam, m)
            z = z[(z <= hi) & (rng.random(m) <= np.exp(-((z - lam) ** 2) / 2))]
        out = np.concatenate([out, z[:want]])
    return out


@_takes_a_tensor
def trunc_normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0, a: float = -2.0,
                  b: float = 2.0, generator: Any = None) -> Tensor:
    """Fill with values drawn from N(mean, std²) truncated to [a, b] (absolute bounds, not
    in stds), as PyTorch's. Exact draws by rejection (``_truncated_standard_normal``), where
    PyTorch maps uniforms through an inverse CDF and clamps; so other numbers for one seed,
    from the same distribution, in its far tails too (PyTorch warns there that its values
    may be wrong; this one does not)."""
    rng = _rng(tensor, generator, "trunc_normal_")
    if not std > 0:
        raise ValueError(f"trunc_normal_: std must be > 0, got {std}")
    if not a < b:
        raise ValueError(f"trunc_normal_: needs a < b, got a={a}, b={b}")
    lo, hi = (a - mean) / std, (b - mean) / std
    z = _truncated_standard_normal(rng, lo, hi, tensor.numel())
    return _fill(tensor, np.clip(mean + std * z, a, b).reshape(tensor.shape))


@_takes_a_tensor
def eye_(tensor: Tensor) -> Tensor:
    """Fill a 2-D tensor with the identity (ones on the main diagonal, zeros elsewhere), as
    PyTorch's (a Linear layer that passes its input on, where the sizes allow)."""
    if tensor.ndim != 2:
        raise ValueError(f"eye_: only 2-D tensors are supported, got shape {tensor.shape}")
    return _fill(tensor, np.eye(*tensor.shape))


@_takes_a_tensor
def dirac_(tensor: Tensor, groups: int = 1) -> Tensor:
    """Fill a 3-, 4- or 5-D convolution weight (out, in, *kernel) with the Dirac delta, as
    PyTorch's: w[g·out_g + d, d, centre] = 1 for d < min(out_g, in) in each of ``groups``
    groups (out_g = out / groups), zeros elsewhere, so the convolution passes as many input
    channels on as it can."""
    if tensor.ndim not in (3, 4, 5):
        raise ValueError(f"dirac_: only tensors with 3, 4, or 5 dimensions are supported, got "
                         f"shape {tensor.shape}")
    if isinstance(groups, bool) or not isinstance(groups, (int, np.integer)) or groups < 1 \
            or tensor.shape[0] % groups:
        raise ValueError(f"dirac_: dim 0 ({tensor.shape[0]}) must be divisible by groups, got "
                         f"groups={groups!r}")
    out_g = tensor.shape[0] // groups
    host = np.zeros(tensor.shape)
    centre = tuple(n // 2 for n in tensor.shape[2:])
    for g in range(groups):
        for d in range(min(out_g, tensor.shape[1])):
            host[(g * out_g + d, d) + centre] = 1
    return _fill(tensor, host)


@_takes_a_tensor
def sparse_(tensor: Tensor, sparsity: float, std: float = 0.01, generator: Any = None
            ) -> Tensor:
    """Fill a 2-D tensor with N(0, std²) values, then zero ceil(sparsity · rows) of them in
    each column, at rows drawn at random, as PyTorch's (a dense tensor: the name is its)."""
    if tensor.ndim != 2:
        raise ValueError(f"sparse_: only tensors with 2 dimensions are supported, got shape "
                         f"{tensor.shape}")
    rng = _rng(tensor, generator, "sparse_")
    rows, cols = tensor.shape
    host = rng.normal(0.0, std, (rows, cols))
    zeros = math.ceil(sparsity * rows)
    for c in range(cols):
        host[rng.permutation(rows)[:zeros], c] = 0.0
    return _fill(tensor, host)


def _deprecated(new: Callable[..., Tensor]) -> Callable[..., Tensor]:
    """PyTorch's old name of ``new``, without the underscore (``nn.init.uniform``): ``new``,
    after the ``FutureWarning`` PyTorch gives."""
    old = new.__name__[:-1]

    @functools.wraps(new)
    def deprecated_init(*args: Any, **kwargs: Any) -> Tensor:
        warnings.warn(f"`nn.init.{old}` is now deprecated in favor of `nn.init.{new.__name__}`.",
                      FutureWarning, stacklevel=2)
        return new(*args, **kwargs)

    deprecated_init.__name__ = deprecated_init.__qualname__ = old
    return deprecated_init


uniform, normal, constant = _deprecated(uniform_), _deprecated(normal_), _deprecated(constant_)
xavier_uniform, xavier_normal = _deprecated(xavier_uniform_), _deprecated(xavier_normal_)
kaiming_uniform, kaiming_normal = _deprecated(kaiming_uniform_), _deprecated(kaiming_normal_)
orthogonal, sparse = _deprecated(orthogonal_), _deprecated(sparse_)
