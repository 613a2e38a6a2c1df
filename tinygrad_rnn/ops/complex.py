"""Complex numbers' own ops: their parts, conjugate, angle, and the real views of them.

Gradients follow PyTorch's convention: a complex z = x + iy gets gz = dL/dx + i dL/dy for a
real loss L (twice the conjugate Wirtinger derivative dL/dz*). So a real-valued op of z (its
real part, |z|, its angle) gets gz = gy * (dy/dx + i dy/dy'), and a real input of a complex
result keeps the real part of its gradient (the engine takes it).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..tensor import Function, Tensor

_COMPLEX_OF = {np.dtype(np.float32): np.dtype(np.complex64),
               np.dtype(np.float64): np.dtype(np.complex128)}


class Real(Function):
    """y = Re z.  VJP: gz = gy (+ 0i).  Saves nothing."""

    complex_ok = True

    def forward(self, z: Any) -> Any:
        return z.real

    def backward(self, gy: Any) -> Any:
        return gy


class Imag(Function):
    """y = Im z.  VJP: gz = i gy (dL/dx = 0, dL/dy = gy).  Saves nothing."""

    complex_ok = True

    def forward(self, z: Any) -> Any:
        return z.imag

    def backward(self, gy: Any) -> Any:
        return gy * 1j


class Conj(Function):
    """y = conj(z) = x - iy.  VJP: gz = conj(gy).  Saves nothing."""

    complex_ok = True

    def forward(self, z: Any) -> Any:
        return z.conj()

    def backward(self, gy: Any) -> Any:
        return gy.conj()


class Angle(Function):
    """y = arg z = atan2(y, x), in [-π, π] (0 or π for a real z).

    VJP: gz = gy (-y + ix) / |z|² = gy · i z / |z|², 0 at z = 0 (as PyTorch); a real z gets
    0 (a step function).  Saves z.
    """

    complex_ok = True

    def forward(self, z: Any) -> Any:
        self.saved = (z,)
        if z.dtype.kind != "c":  # PyTorch's angle of a real number: π where it is negative
            xp = self.xp
            return xp.where(xp.isnan(z), z, xp.where(z < 0, np.pi, 0)).astype(z.dtype)
        return self.xp.angle(z)

    def backward(self, gy: Any) -> Any:
        (z,) = self.saved
        if z.dtype.kind != "c":
            return gy * 0
        r2 = z.real * z.real + z.imag * z.imag
        with np.errstate(divide="ignore", invalid="ignore"):
            return self.xp.where(r2 == 0, 0, gy * (z * 1j) / r2)


class ViewAsReal(Function):
    """y[..., 0] = Re z, y[..., 1] = Im z (a new last axis of size 2; a copy here, a view in
    PyTorch).  VJP: gz = gy[..., 0] + i gy[..., 1].  Saves nothing."""

    complex_ok = True

    def forward(self, z: Any) -> Any:
        return self.xp.stack([z.real, z.imag], axis=-1)

    def backward(self, gy: Any) -> Any:
        return gy[..., 0] + gy[..., 1] * 1j


class Complex(Function):
    """z = x0 + i x1 (real inputs of one float dtype, broadcast).

    VJP: g0 = Re gz, g1 = Im gz.  Saves nothing.
    """

    complex_ok = True

    def forward(self, x0: Any, x1: Any) -> Any:
        shape = np.broadcast_shapes(x0.shape, x1.shape)
        z = self.xp.empty(shape, dtype=_COMPLEX_OF[x0.dtype])
        z.real, z.imag = x0, x1
        return z

    def backward(self, gz: Any) -> Any:
        return gz.real, gz.imag


def _complex_input(name: str, z: Tensor) -> None:
    if not isinstance(z, Tensor):
        raise TypeError(f"{name}: expected a Tensor, got {type(z).__name__}")


def real(z: Tensor) -> Tensor:
    """The real part (``torch.real``; a real tensor is returned as it is)."""
    _complex_input("real", z)
    return Real.apply(z) if z.dtype.kind == "c" else z


def imag(z: Tensor) -> Tensor:
    """The imaginary part of a complex tensor (``torch.imag``)."""
    _complex_input("imag", z)
    if z.dtype.kind != "c":
        raise RuntimeError("imag is not implemented for tensors with non-complex dtypes "
                           f"(this one is {z.dtype})")
    return Imag.apply(z)


def conj(z: Tensor) -> Tensor:
    """The complex conjugate (``torch.conj``: a real tensor is returned as it is; a copy here,
    where PyTorch sets a lazy flag)."""
    _complex_input("conj", z)
    return Conj.apply(z) if z.dtype.kind == "c" else z


def conj_physical(z: Tensor) -> Tensor:
    """The complex conjugate, computed (``torch.conj_physical``)."""
    return conj(z)


def angle(z: Tensor) -> Tensor:
    """The angle of each element in radians (``torch.angle``): float for complex input; 0 or
    π for real input (integers give the default float dtype)."""
    _complex_input("angle", z)
    if z.dtype.kind in "biu":
        from ..tensor import default_dtype
        z = z.to(dtype=default_dtype())
    return Angle.apply(z)


def view_as_real(z: Tensor) -> Tensor:
    """A complex tensor as a real one with a last axis of size 2 (real, imaginary), as
    ``torch.view_as_real`` (a copy here: writes into it do not reach ``z``)."""
    _complex_input("view_as_real", z)
    if z.dtype.kind != "c":
        raise RuntimeError(f"view_as_real is only supported for complex tensors, got {z.dtype}")
    return ViewAsReal.apply(z)


def view_as_complex(x: Tensor) -> Tensor:
    """A real tensor whose last axis has size 2 (real, imaginary) as a complex one, as
    ``torch.view_as_complex`` (float32 gives complex64, float64 complex128; a copy here)."""
    _complex_input("view_as_complex", x)
    if x.dtype not in _COMPLEX_OF:
        raise RuntimeError("view_as_complex is only supported for float and double tensors, "
                           f"but got a tensor of scalar type: {x.dtype}")
    if x.ndim == 0 or x.shape[-1] != 2:
        raise RuntimeError(f"view_as_complex: the tensor must have a last dimension of size 2, "
                           f"got shape {x.shape}")
    return Complex.apply(x[..., 0], x[..., 1])


def complex(real: Tensor, imag: Tensor) -> Tensor:  # noqa: A001 (PyTorch's name)
    """``real + i imag`` from two real tensors of one float dtype (broadcast), as
    ``torch.complex``: float32 gives complex64, float64 complex128."""
    _complex_input("complex", real)
    _complex_input("complex", imag)
    if real.dtype not in _COMPLEX_OF or imag.dtype not in _COMPLEX_OF:
        raise RuntimeError(f"complex: expected both inputs to be float or double tensors, got "
                           f"{real.dtype} and {imag.dtype}")
    if real.dtype != imag.dtype:
        raise RuntimeError(f"complex: expected real and imag to have the same dtype, but got "
                           f"{real.dtype} and {imag.dtype}")
    return Complex.apply(real, imag)


def polar(abs: Tensor, angle: Tensor) -> Tensor:  # noqa: A002 (PyTorch's names)
    """``abs * (cos(angle) + i sin(angle))``, as ``torch.polar`` (composed: its gradient is
    that of ``complex``, ``cos``, ``sin`` and ``*``)."""
    _complex_input("polar", abs)
    _complex_input("polar", angle)
    if abs.dtype != angle.dtype or abs.dtype not in _COMPLEX_OF:
        raise RuntimeError(f"polar: expected abs and angle to be float or double tensors of "
                           f"one dtype, got {abs.dtype} and {angle.dtype}")
    return complex(abs * angle.cos(), abs * angle.sin())
