"""Discrete Fourier transforms, as ``torch.fft``: the same functions, arguments (``n``/``s``,
``dim``, ``norm``), dtypes and gradients.

Three ops do the work; the rest are compositions of them.

- ``FFT``: complex to complex over some axes. The DFT is linear, y = s·W x (W the DFT matrix,
  s the ``norm`` scale), so its VJP is gx = s·Wᴴ gy: the inverse transform with the dual
  ``norm`` ("backward" and "forward" swap; "ortho" is its own).
- ``RFFT``: real to complex, keeping the n//2 + 1 non-negative frequencies of the last axis
  (the rest are their conjugates). y = P W x (P drops the others), so gx = Re(Wᴴ Pᵀ gy):
  gy zero-padded to the full length, transformed back with the dual norm, its real part.
- ``IRFFT``: complex to real, the inverse of ``RFFT``: a Hermitian spectrum of n//2 + 1 bins
  stands for n. Each bin k other than 0 (and n/2 for even n) stands for itself and its mirror
  n - k, so it enters twice: gx = RFFT(gy) with the dual norm, those bins doubled; the imaginary
  parts of bins 0 and n/2, which the transform ignores, get 0.

``n``/``s`` pad with zeros or trim each transformed axis first; the gradient is trimmed or
padded back (``_resize``). Real input is made complex (float32 -> complex64, float64 ->
complex128, integers and bools -> the default dtype's); float16 is refused, as PyTorch's CPU.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from .ops import complex as _complex_ops
from .tensor import Function, Tensor, _default_complex, default_dtype, dense_factory, tensor

__all__ = ["fft", "ifft", "rfft", "irfft", "hfft", "ihfft", "fft2", "ifft2", "rfft2", "irfft2",
           "fftn", "ifftn", "rfftn", "irfftn", "hfft2", "ihfft2", "hfftn", "ihfftn", "fftfreq",
           "rfftfreq", "fftshift", "ifftshift"]

_DUAL = {"backward": "forward", "forward": "backward", "ortho": "ortho"}
_COMPLEX = {np.dtype(np.float32): np.dtype(np.complex64),
            np.dtype(np.float64): np.dtype(np.complex128)}
_REAL = {c: f for f, c in _COMPLEX.items()}


def _resize(xp: Any, a: Any, axes: Sequence[int], shape: Sequence[int]) -> Any:
    """``a`` trimmed or zero-padded along ``axes`` to the sizes of ``shape`` there."""
    for ax in axes:
        n, m = a.shape[ax], shape[ax]
        if n > m:
            a = a[(slice(None),) * ax + (slice(0, m),)]
        elif n < m:
            pad = list(a.shape)
            pad[ax] = m - n
            a = xp.concatenate([a, xp.zeros(tuple(pad), dtype=a.dtype)], axis=ax)
    return a


def _sizes(a: Any, axes: Sequence[int]) -> tuple[int, ...]:
    return tuple(a.shape[ax] for ax in axes)


# the transforms of a gradient: arrays, or (under create_graph) Tensors through the ops
def _c2c(xp: Any, a: Any, axes: tuple[int, ...], norm: str, inverse: bool) -> Any:
    if isinstance(a, Tensor):
        return FFT.apply(a, s=_sizes(a, axes), axes=axes, norm=norm, inverse=inverse)
    f = xp.fft.ifftn if inverse else xp.fft.fftn
    return f(a, axes=axes, norm=norm).astype(a.dtype, copy=False)


def _r2c(xp: Any, a: Any, axes: tuple[int, ...], norm: str) -> Any:
    if isinstance(a, Tensor):
        return RFFT.apply(a, s=_sizes(a, axes), axes=axes, norm=norm)
    return xp.fft.rfftn(a, axes=axes, norm=norm).astype(_COMPLEX[a.dtype], copy=False)


class FFT(Function):
    """y = fftn(x, s, axes, norm) (``inverse``: ifftn), x complex.

    VJP: gx = the other direction's transform of gy with the dual norm (s·Wᴴ), trimmed or
    padded back to x's shape.  Saves x's shape.
    """

    complex_ok = True

    def forward(self, x: Any, s: tuple[int, ...], axes: tuple[int, ...], norm: str,
                inverse: bool) -> Any:
        self.shape, self.axes, self.norm, self.inverse = x.shape, axes, norm, inverse
        f = self.xp.fft.ifftn if inverse else self.xp.fft.fftn
        return f(x, s=s, axes=axes, norm=norm).astype(x.dtype, copy=False)

    def backward(self, gy: Any) -> Any:
        gx = _c2c(self.xp, gy, self.axes, _DUAL[self.norm], not self.inverse)
        return _resize(self.xp, gx, self.axes, self.shape)


class RFFT(Function):
    """y = rfftn(x, s, axes, norm), x real: the last axis keeps n//2 + 1 frequencies.

    VJP: gx = Re(ifftn(gy zero-padded to n along the last axis, dual norm)), trimmed or
    padded back to x's shape.  Saves x's shape and the full lengths s.
    """

    complex_ok = True

    def forward(self, x: Any, s: tuple[int, ...], axes: tuple[int, ...], norm: str) -> Any:
        self.shape, self.s, self.axes, self.norm = x.shape, s, axes, norm
        return self.xp.fft.rfftn(x, s=s, axes=axes, norm=norm).astype(_COMPLEX[x.dtype],
                                                                       copy=False)

    def backward(self, gy: Any) -> Any:
        full = list(gy.shape)
        full[self.axes[-1]] = self.s[-1]
        g = _resize(self.xp, gy, self.axes[-1:], full)  # the dropped frequencies: no gradient
        gx = _c2c(self.xp, g, self.axes, _DUAL[self.norm], True).real
        return _resize(self.xp, gx, self.axes, self.shape)


class IRFFT(Function):
    """y = irfftn(x, s, axes, norm), x complex: the last axis's n//2 + 1 bins give n reals.

    VJP: gx = rfftn(gy, dual norm) with bins 1 .. n - (n//2 + 1) of the last axis doubled
    (each stands for its mirror too), trimmed or padded back to x's shape.  Saves x's shape
    and those weights (1 or 2 per bin).
    """

    complex_ok = True

    def forward(self, x: Any, s: tuple[int, ...], axes: tuple[int, ...], norm: str) -> Any:
        self.shape, self.axes, self.norm = x.shape, axes, norm
        y = self.xp.fft.irfftn(x, s=s, axes=axes, norm=norm).astype(_REAL[x.dtype], copy=False)
        bins, last = s[-1] // 2 + 1, axes[-1]
        w = np.ones(bins, dtype=y.dtype)
        w[1:s[-1] - bins + 1] = 2  # bins 1 .. n - (n//2 + 1) stand for two
        self.weights = self.xp.asarray(w.reshape((bins,) + (1,) * (y.ndim - 1 - last)))
        return y

    def backward(self, gy: Any) -> Any:
        gx = _r2c(self.xp, gy, self.axes, _DUAL[self.norm]) * self.weights
        return _resize(self.xp, gx, self.axes, self.shape)


# ---- arguments, checked as PyTorch checks them ---------------------------------------------


def _norm(norm: str | None) -> str:
    if norm is None:
        return "backward"
    if norm not in _DUAL:
        raise RuntimeError(f'Invalid normalization mode: "{norm}"')
    return norm


def _floating(name: str, x: Tensor, real_only: bool = False) -> Tensor:
    """``x`` as a float or complex tensor: integers and bools take the default dtype."""
    if not isinstance(x, Tensor):
        raise TypeError(f"{name}: expected a Tensor, got {type(x).__name__}")
    if x.dtype.kind in "biu":
        return x.to(dtype=default_dtype())
    if x.dtype.kind == "c" and real_only:
        raise RuntimeError(f"{name} expects a real input tensor, but got {x.dtype}")
    if x.dtype not in _COMPLEX and x.dtype not in _REAL:
        raise RuntimeError(f"{name}: unsupported dtype {x.dtype} (float32, float64, complex64 "
                           "and complex128 are)")
    return x


def _as_complex(x: Tensor) -> Tensor:
    return x if x.dtype.kind == "c" else x.to(dtype=_COMPLEX.get(x.dtype, _default_complex()))


def _dims(x: Tensor, s: Sequence[int] | None, dim: int | Sequence[int] | None
          ) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """The axes to transform (nonnegative) and their lengths, from PyTorch's ``s`` and ``dim``
    (``dim`` None: the last len(s) axes, or all; -1 in ``s``: that axis's own length)."""
    if isinstance(dim, int):
        dim = (dim,)
    if dim is None:
        if s is not None and len(s) > x.ndim:
            raise RuntimeError(f"Got shape with {len(s)} values but input tensor only has "
                               f"{x.ndim} dimensions.")
        dim = tuple(range(x.ndim - len(s), x.ndim)) if s is not None else tuple(range(x.ndim))
    elif s is not None and len(s) != len(dim):
        raise RuntimeError("When given, dim and shape arguments must have the same length")
    axes = []
    for d in dim:
        if x.ndim == 0:
            raise IndexError(f"Dimension specified as {d} but tensor has no dimensions")
        if not -x.ndim <= d < x.ndim:
            raise IndexError(f"Dimension out of range (expected to be in range of "
                             f"[{-x.ndim}, {x.ndim - 1}], but got {d})")
        axes.append(d % x.ndim)
    if len(set(axes)) != len(axes):
        raise RuntimeError("FFT dims must be unique")
    if s is None:
        sizes = tuple(x.shape[a] for a in axes)
    else:
        sizes = tuple(x.shape[a] if n == -1 else int(n) for a, n in zip(axes, s))
    for n in sizes:
        if n < 1:
            raise RuntimeError(f"Invalid number of data points ({n}) specified")
    return tuple(axes), sizes


def _one(n: int | None, dim: int) -> tuple[list[int] | None, tuple[int]]:
    return (None if n is None else [n]), (dim,)


# ---- complex to complex --------------------------------------------------------------------


def fftn(input: Tensor, s: Sequence[int] | None = None,  # noqa: A002 (PyTorch's names)
         dim: int | Sequence[int] | None = None, norm: str | None = None) -> Tensor:
    """The n-dimensional DFT over ``dim`` (all axes by default), each padded or trimmed to
    ``s``: ``y[k] = Σ_t x[t] exp(-2πi k·t / n)``, scaled by ``norm`` ("backward": 1,
    "ortho": 1/√n, "forward": 1/n)."""
    x = _as_complex(_floating("fftn", input))
    axes, sizes = _dims(x, s, dim)
    if not axes:
        return x.clone()
    return FFT.apply(x, s=sizes, axes=axes, norm=_norm(norm), inverse=False)


def ifftn(input: Tensor, s: Sequence[int] | None = None,  # noqa: A002
          dim: int | Sequence[int] | None = None, norm: str | None = None) -> Tensor:
    """The inverse of ``fftn``: ``x[t] = Σ_k y[k] exp(2πi k·t / n)`` scaled by ``norm``
    ("backward": 1/n, "ortho": 1/√n, "forward": 1)."""
    x = _as_complex(_floating("ifftn", input))
    axes, sizes = _dims(x, s, dim)
    if not axes:
        return x.clone()
    return FFT.apply(x, s=sizes, axes=axes, norm=_norm(norm), inverse=True)


def fft(input: Tensor, n: int | None = None, dim: int = -1,  # noqa: A002
        norm: str | None = None) -> Tensor:
    """The one-dimensional DFT along ``dim`` (``fftn`` over one axis)."""
    return fftn(input, *_one(n, dim), norm=norm)


def ifft(input: Tensor, n: int | None = None, dim: int = -1,  # noqa: A002
         norm: str | None = None) -> Tensor:
    """The one-dimensional inverse DFT along ``dim``."""
    return ifftn(input, *_one(n, dim), norm=norm)


def fft2(input: Tensor, s: Sequence[int] | None = None,  # noqa: A002
         dim: Sequence[int] = (-2, -1), norm: str | None = None) -> Tensor:
    """The two-dimensional DFT over ``dim``."""
    return fftn(input, s, dim, norm)


def ifft2(input: Tensor, s: Sequence[int] | None = None,  # noqa: A002
          dim: Sequence[int] = (-2, -1), norm: str | None = None) -> Tensor:
    """The two-dimensional inverse DFT over ``dim``."""
    return ifftn(input, s, dim, norm)


# ---- real to complex and back --------------------------------------------------------------


def rfftn(input: Tensor, s: Sequence[int] | None = None,  # noqa: A002
          dim: int | Sequence[int] | None = None, norm: str | None = None) -> Tensor:
    """``fftn`` of a real tensor, keeping the n//2 + 1 non-negative frequencies of the last
    axis of ``dim`` (the others are their complex conjugates)."""
    x = _floating("rfftn", input, real_only=True)
    axes, sizes = _dims(x, s, dim)
    if not axes:
        raise RuntimeError("rfftn must transform at least one axis")
    return RFFT.apply(x, s=sizes, axes=axes, norm=_norm(norm))


def irfftn(input: Tensor, s: Sequence[int] | None = None,  # noqa: A002
           dim: int | Sequence[int] | None = None, norm: str | None = None) -> Tensor:
    """The inverse of ``rfftn``: a real tensor from the non-negative frequencies. The last
    axis of ``dim`` gives ``s[-1]`` values (default 2 (m - 1) for m bins); the imaginary
    parts of its bins 0 and n/2 are ignored."""
    x = _as_complex(_floating("irfftn", input))
    axes, sizes = _dims(x, s, dim)
    if not axes:
        raise RuntimeError("irfftn must transform at least one axis")
    if s is None or s[-1] == -1:
        sizes = (*sizes[:-1], 2 * (x.shape[axes[-1]] - 1))
        if sizes[-1] < 1:
            raise RuntimeError(f"Invalid number of data points ({sizes[-1]}) specified")
    return IRFFT.apply(x, s=sizes, axes=axes, norm=_norm(norm))


def rfft(input: Tensor, n: int | None = None, dim: int = -1,  # noqa: A002
         norm: str | None = None) -> Tensor:
    """The DFT of a real tensor along ``dim``: its n//2 + 1 non-negative frequencies."""
    return rfftn(input, *_one(n, dim), norm=norm)


def irfft(input: Tensor, n: int | None = None, dim: int = -1,  # noqa: A002
          norm: str | None = None) -> Tensor:
    """The inverse of ``rfft``: ``n`` real values (default 2 (m - 1)) along ``dim``."""
    return irfftn(input, *_one(n, dim), norm=norm)


def rfft2(input: Tensor, s: Sequence[int] | None = None,  # noqa: A002
          dim: Sequence[int] = (-2, -1), norm: str | None = None) -> Tensor:
    """``rfftn`` over two axes."""
    return rfftn(input, s, dim, norm)


def irfft2(input: Tensor, s: Sequence[int] | None = None,  # noqa: A002
           dim: Sequence[int] = (-2, -1), norm: str | None = None) -> Tensor:
    """``irfftn`` over two axes."""
    return irfftn(input, s, dim, norm)


def hfft(input: Tensor, n: int | None = None, dim: int = -1,  # noqa: A002
         norm: str | None = None) -> Tensor:
    """The DFT of a Hermitian-symmetric signal given by its first half: a real tensor,
    ``irfft(conj(x), n)`` with the dual norm (so "backward" leaves it unscaled)."""
    x = _as_complex(_floating("hfft", input))
    return irfft(x.conj(), n, dim, _DUAL[_norm(norm)])


def ihfft(input: Tensor, n: int | None = None, dim: int = -1,  # noqa: A002
          norm: str | None = None) -> Tensor:
    """The inverse of ``hfft``: ``conj(rfft(x, n))`` of a real tensor, with the dual norm
    (so "backward" scales by 1/n)."""
    x = _floating("ihfft", input, real_only=True)
    return rfft(x, n, dim, _DUAL[_norm(norm)]).conj()


def hfftn(input: Tensor, s: Sequence[int] | None = None,  # noqa: A002
          dim: int | Sequence[int] | None = None, norm: str | None = None) -> Tensor:
    """``hfft`` over several axes: the DFT of an n-D signal Hermitian-symmetric about its last
    axis of ``dim``, given by its first half there (``s[-1]`` real values, default 2 (m - 1)).
    The DFT along the other axes keeps that symmetry row by row, so it runs first, then
    ``hfft`` along the last."""
    x = _as_complex(_floating("hfftn", input))
    axes, sizes = _dims(x, s, dim)
    if not axes:
        raise RuntimeError("hfftn must transform at least one axis")
    if len(axes) > 1:
        x = fftn(x, sizes[:-1], axes[:-1], norm)
    return hfft(x, None if s is None or s[-1] == -1 else sizes[-1], axes[-1], norm)


def ihfftn(input: Tensor, s: Sequence[int] | None = None,  # noqa: A002
           dim: int | Sequence[int] | None = None, norm: str | None = None) -> Tensor:
    """The inverse of ``hfftn``: ``ihfft`` along the last axis of ``dim``, then the inverse
    DFT along the others."""
    x = _floating("ihfftn", input, real_only=True)
    axes, sizes = _dims(x, s, dim)
    if not axes:
        raise RuntimeError("ihfftn must transform at least one axis")
    y = ihfft(x, sizes[-1], axes[-1], norm)
    return ifftn(y, sizes[:-1], axes[:-1], norm) if len(axes) > 1 else y


def hfft2(input: Tensor, s: Sequence[int] | None = None,  # noqa: A002
          dim: Sequence[int] = (-2, -1), norm: str | None = None) -> Tensor:
    """``hfftn`` over two axes."""
    return hfftn(input, s, dim, norm)


def ihfft2(input: Tensor, s: Sequence[int] | None = None,  # noqa: A002
           dim: Sequence[int] = (-2, -1), norm: str | None = None) -> Tensor:
    """``ihfftn`` over two axes."""
    return ihfftn(input, s, dim, norm)


# ---- frequencies and shifts ----------------------------------------------------------------


@dense_factory
def fftfreq(n: int, d: float = 1.0, *, dtype: Any = None, device: Any = "cpu",
            requires_grad: bool = False) -> Tensor:
    """The frequencies of ``fft``'s bins for n samples spaced ``d`` apart:
    ``[0, 1, ..., ⌈n/2⌉ - 1, -⌊n/2⌋, ..., -1] / (d n)``, in the default float dtype."""
    if n < 0:
        raise ValueError(f"fft.fftfreq: n must be non-negative, got {n}")
    k = np.concatenate([np.arange((n + 1) // 2), np.arange(-(n // 2), 0)])
    return tensor(k / (d * n) if n else k * 1.0, dtype=dtype or default_dtype(), device=device,
                  requires_grad=requires_grad)


@dense_factory
def rfftfreq(n: int, d: float = 1.0, *, dtype: Any = None, device: Any = "cpu",
             requires_grad: bool = False) -> Tensor:
    """The frequencies of ``rfft``'s bins: ``[0, 1, ..., n//2] / (d n)``."""
    if n < 0:
        raise ValueError(f"fft.rfftfreq: n must be non-negative, got {n}")
    with np.errstate(divide="ignore", invalid="ignore"):  # n = 0: [0 / 0] = [NaN], as PyTorch's
        f = np.arange(n // 2 + 1) / (d * n)
    return tensor(f, dtype=dtype or default_dtype(), device=device, requires_grad=requires_grad)


def _shift(x: Tensor, dim: int | Sequence[int] | None, inverse: bool) -> Tensor:
    axes = tuple(range(x.ndim)) if dim is None else (dim,) if isinstance(dim, int) else dim
    shifts = [(x.shape[a] + 1) // 2 if inverse else x.shape[a] // 2 for a in axes]
    return x.roll(shifts, tuple(axes)) if axes else x.clone()


def fftshift(input: Tensor, dim: int | Sequence[int] | None = None) -> Tensor:  # noqa: A002
    """The zero frequency moved to the middle: a roll by n//2 along each of ``dim`` (all axes
    by default)."""
    return _shift(input, dim, False)


def ifftshift(input: Tensor, dim: int | Sequence[int] | None = None) -> Tensor:  # noqa: A002
    """The inverse of ``fftshift``: a roll by -(n//2), that is ⌈n/2⌉."""
    return _shift(input, dim, True)


# ---- short-time Fourier transforms (tr.stft, tr.istft; not in torch.fft) ------------------


def _window(name: str, window: Tensor | None, win_length: int | None, n_fft: int,
            like: Tensor) -> Tensor:
    """The window (ones by default) centred in ``n_fft`` samples, zeros either side."""
    from .functional import pad

    win_length = n_fft if win_length is None else win_length
    if not 0 < win_length <= n_fft:
        raise RuntimeError(f"{name}: expected 0 < win_length <= n_fft, but got "
                           f"win_length={win_length}")
    if window is None:
        window = _ones(win_length, like)
    elif window.ndim != 1 or window.shape[0] != win_length:
        raise RuntimeError(f"{name}: expected a 1D window tensor of size equal to "
                           f"win_length={win_length}, but got window with size "
                           f"{list(window.shape)}")
    left = (n_fft - win_length) // 2
    return pad(window, (left, n_fft - win_length - left)) if win_length < n_fft else window


def _ones(n: int, like: Tensor) -> Tensor:
    """n ones of ``like``'s real dtype, on its device."""
    dtype = _REAL.get(like.dtype, like.dtype)
    return Tensor._wrap(like._dev.xp.ones(n, dtype=dtype), like._dev)


def stft(input: Tensor, n_fft: int, hop_length: int | None = None,  # noqa: A002
         win_length: int | None = None, window: Tensor | None = None, center: bool = True,
         pad_mode: str = "reflect", normalized: bool = False, onesided: bool | None = None,
         return_complex: bool | None = None) -> Tensor:
    """The short-time Fourier transform, as ``torch.stft``: frames of ``n_fft`` samples every
    ``hop_length`` (n_fft // 4), each times ``window`` and transformed,
    ``X[ω, m] = Σ_k window[k] x[m·hop + k] exp(-2πi ω k / n_fft)``; shape (freq, frames),
    (batch, freq, frames) for a 2-D input. ``center`` pads n_fft // 2 either side
    (``pad_mode``); ``onesided`` (default for real input and window) keeps n_fft // 2 + 1
    frequencies; ``normalized`` scales by 1/√n_fft. ``return_complex=True`` is required for
    real input (False gives ``view_as_real`` of the result), as PyTorch's."""
    from .functional import pad

    if not isinstance(input, Tensor):
        raise TypeError(f"stft: expected a Tensor, got {type(input).__name__}")
    if input.ndim not in (1, 2):
        raise RuntimeError(f"stft: expected a 1D or 2D tensor, but got {input.ndim}D")
    x = _floating("stft", input)
    is_complex = x.dtype.kind == "c" or (window is not None and window.dtype.kind == "c")
    if return_complex is None:
        if not is_complex:
            raise RuntimeError("stft requires the return_complex parameter be given for real "
                               "inputs, and will further require that return_complex=True in "
                               "a future PyTorch release.")
        return_complex = True
    hop = n_fft // 4 if hop_length is None else hop_length
    if hop <= 0:
        raise RuntimeError(f"stft: expected hop_length > 0, but got hop_length={hop}")
    batch = x if x.ndim == 2 else x.unsqueeze(0)
    if center:
        batch = pad(batch.unsqueeze(1), (n_fft // 2, n_fft // 2), pad_mode).squeeze(1)
    if not 0 < n_fft <= batch.shape[-1]:
        raise RuntimeError(f"stft: expected 0 < n_fft < {batch.shape[-1]}, but got "
                           f"n_fft={n_fft}")
    frames = batch.unfold(-1, n_fft, hop) * _window("stft", window, win_length, n_fft, x)
    onesided = not is_complex if onesided is None else onesided
    if onesided and is_complex:
        raise RuntimeError("Cannot have onesided output if window or input is complex")
    norm = "ortho" if normalized else "backward"
    spec = (rfft if onesided else fft)(frames, dim=-1, norm=norm).transpose(-1, -2)
    spec = spec if x.ndim == 2 else spec.squeeze(0)
    return spec if return_complex else _complex_ops.view_as_real(spec)


def istft(input: Tensor, n_fft: int, hop_length: int | None = None,  # noqa: A002
          win_length: int | None = None, window: Tensor | None = None, center: bool = True,
          normalized: bool = False, onesided: bool | None = None, length: int | None = None,
          return_complex: bool = False) -> Tensor:
    """The inverse of ``stft``, as ``torch.istft``: each frame transformed back, times the
    window, added where it overlaps the others, divided by the sum of the squared windows
    there (which must not vanish: NOLA); ``center`` trims n_fft // 2 either side and
    ``length`` trims or zero-pads the end."""
    if not isinstance(input, Tensor) or input.dtype.kind != "c":
        raise RuntimeError("istft requires a complex-valued input tensor")
    if input.ndim not in (2, 3):
        raise RuntimeError(f"istft: expected a tensor with 2 or 3 dimensions of complex, but "
                           f"got {input.ndim}")
    spec = input if input.ndim == 3 else input.unsqueeze(0)
    n_freq, n_frames = spec.shape[-2:]
    hop = n_fft // 4 if hop_length is None else hop_length
    if not 0 < hop <= n_fft:
        raise RuntimeError(f"istft: expected 0 < hop_length <= n_fft, but got "
                           f"hop_length={hop}")
    onesided = n_freq != n_fft if onesided is None else onesided
    want = n_fft // 2 + 1 if onesided else n_fft
    if n_freq != want:
        raise RuntimeError(f"istft: expected the frequency dimension (3rd to the last) of the "
                           f"input tensor to match {want} when onesided={onesided}, but got "
                           f"{n_freq}")
    w = _window("istft", window, win_length, n_fft, spec)
    if onesided and (return_complex or w.dtype.kind == "c"):
        raise RuntimeError("cannot have onesided output if window or input is complex")
    norm = "ortho" if normalized else "backward"
    spec = spec.transpose(-1, -2)  # (batch, frames, freq)
    frames = irfft(spec, n_fft, norm=norm) if onesided else ifft(spec, n_fft, norm=norm)
    if not onesided and not return_complex:
        frames = frames.real
    frames = frames * w
    # overlap-add: sample m·hop + k of the signal gets frame m's k-th value
    total = n_fft + hop * (n_frames - 1)
    xp, dev = spec._dev.xp, spec._dev
    at = (xp.arange(n_frames)[:, None] * hop + xp.arange(n_fft)).reshape(-1)
    at = Tensor._wrap(at.astype(np.int64), dev)
    y = Tensor._wrap(xp.zeros((frames.shape[0], total), dtype=frames.dtype), dev).index_add(
        1, at, frames.reshape(frames.shape[0], -1))
    envelope = Tensor._wrap(xp.zeros(total, dtype=_REAL.get(w.dtype, w.dtype)), dev)
    envelope = envelope.index_add(0, at, (w * w).expand(n_frames, n_fft).reshape(-1))
    start = n_fft // 2 if center else 0
    end = start + length if length is not None else total - n_fft // 2 if center else total
    y, envelope = y[:, start:min(end, total)], envelope[start:min(end, total)]
    if float(envelope.abs().min().item()) < 1e-11:
        raise RuntimeError("istft: window overlap add min: the squared windows add up to "
                           "(nearly) 0 somewhere (the NOLA condition fails)")
    y = y / envelope
    if end > total:
        from .functional import pad

        warnings.warn("The length of signal is shorter than the length parameter. Result is "
                      "being padded with zeros in the tail. Please check your center and "
                      "hop_length settings.", UserWarning, stacklevel=2)
        y = pad(y, (0, end - total))
    return y if input.ndim == 3 else y.squeeze(0)
