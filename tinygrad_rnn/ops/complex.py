"""Complex numbers' own ops: their parts, conjugate, angle, and the real views of them.

``real``, ``imag``, ``conj``, ``view_as_real`` and ``view_as_complex`` give views, as
PyTorch's: a write into one reaches the tensor it was taken from, and a write into that tensor
reaches the view (the engine's ``_ViewOf`` machinery, with the three methods at the end of this
file: the view's values, the op that takes it again, and the base's new value once the view
holds new values).

Gradients follow PyTorch's convention: a complex z = x + iy gets gz = dL/dx + i dL/dy for a
real loss L (twice the conjugate Wirtinger derivative dL/dz*). So a real-valued op of z (its
real part, |z|, its angle) gets gz = gy * (dy/dx + i dy/dy'), and a real input of a complex
result keeps the real part of its gradient (the engine takes it).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..backend import get_array_module
from ..tensor import Function, Tensor, _view

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
    """y[..., 0] = Re z, y[..., 1] = Im z (a new last axis of size 2).
    VJP: gz = gy[..., 0] + i gy[..., 1].  Saves nothing."""

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
        return _complex_array(self.xp, x0, x1)

    def backward(self, gz: Any) -> Any:
        return gz.real, gz.imag


def _complex_array(xp: Any, x0: Any, x1: Any) -> Any:
    shape = np.broadcast_shapes(x0.shape, x1.shape)
    z = xp.empty(shape, dtype=_COMPLEX_OF[x0.dtype])
    z.real, z.imag = x0, x1
    return z


def _half(x: Tensor, k: int) -> Tensor:
    """x[..., k], by the op alone (no view of x of its own: the complex result is the view)."""
    from .movement import GetItem

    return GetItem.apply(x, index=(Ellipsis, k))


def _complex_input(name: str, z: Tensor) -> None:
    if not isinstance(z, Tensor):
        raise TypeError(f"{name}: expected a Tensor, got {type(z).__name__}")


def real(z: Tensor) -> Tensor:
    """The real part, a view (``torch.real``; a real tensor is returned as it is)."""
    _complex_input("real", z)
    return _view(z, Real.apply(z), "real", None) if z.dtype.kind == "c" else z


def imag(z: Tensor) -> Tensor:
    """The imaginary part of a complex tensor, a view (``torch.imag``)."""
    _complex_input("imag", z)
    if z.dtype.kind != "c":
        raise RuntimeError("imag is not implemented for tensors with non-complex dtypes "
                           f"(this one is {z.dtype})")
    return _view(z, Imag.apply(z), "imag", None)


def conj(z: Tensor) -> Tensor:
    """The complex conjugate, a view (``torch.conj``, whose lazy flag ``is_conj`` reports; a
    real tensor is returned as it is)."""
    _complex_input("conj", z)
    return _view(z, Conj.apply(z), "conj", None) if z.dtype.kind == "c" else z


def conj_physical(z: Tensor) -> Tensor:
    """The complex conjugate, a new tensor (``torch.conj_physical``; a real one is returned
    as it is)."""
    _complex_input("conj_physical", z)
    return Conj.apply(z) if z.dtype.kind == "c" else z


def angle(z: Tensor) -> Tensor:
    """The angle of each element in radians (``torch.angle``): float for complex input; 0 or
    π for real input (integers give the default float dtype)."""
    _complex_input("angle", z)
    if z.dtype.kind in "biu":
        from ..tensor import default_dtype
        z = z.to(dtype=default_dtype())
    return Angle.apply(z)


def view_as_real(z: Tensor) -> Tensor:
    """A complex tensor as a real one with a last axis of size 2 (real, imaginary), a view, as
    ``torch.view_as_real``."""
    _complex_input("view_as_real", z)
    if z.dtype.kind != "c":
        raise RuntimeError(f"view_as_real is only supported for complex tensors, got {z.dtype}")
    return _view(z, ViewAsReal.apply(z), "as_real", None)


def view_as_complex(x: Tensor) -> Tensor:
    """A real tensor whose last axis has size 2 (real, imaginary) as a complex one, as
    ``torch.view_as_complex`` (float32 gives complex64, float64 complex128), a view."""
    _complex_input("view_as_complex", x)
    if x.dtype not in _COMPLEX_OF:
        raise RuntimeError("view_as_complex is only supported for float and double tensors, "
                           f"but got a tensor of scalar type: {x.dtype}")
    if x.ndim == 0 or x.shape[-1] != 2:
        raise RuntimeError(f"view_as_complex: the tensor must have a last dimension of size 2, "
                           f"got shape {x.shape}")
    return _view(x, Complex.apply(_half(x, 0), _half(x, 1)), "as_complex", None)


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


# ---- the complex views' three methods (``tensor._ViewOf``) -----------------------------------


def view_values(kind: str, b: Any) -> Any:
    """The view's array, from its base's array ``b``."""
    if kind == "real":
        return b.real
    if kind == "imag":
        return b.imag
    if kind == "conj":
        return b.conj()
    if kind == "as_real":
        return get_array_module(b).stack([b.real, b.imag], axis=-1)
    return _complex_array(get_array_module(b), b[..., 0], b[..., 1])  # as_complex


def view_take(kind: str, b: Tensor) -> Tensor:
    """The view taken again from its base ``b``, by the op that first made it."""
    if kind == "as_complex":
        return Complex.apply(_half(b, 0), _half(b, 1))
    op = {"real": Real, "imag": Imag, "conj": Conj, "as_real": ViewAsReal}[kind]
    return op.apply(b)


def view_put(kind: str, old: Tensor, new: Tensor) -> Tensor:
    """The base's new value, where ``old`` stands for its current one, once the view holds
    ``new``: the other part kept, or the inverse of the view."""
    if kind == "real":
        return Complex.apply(new, Imag.apply(old))
    if kind == "imag":
        return Complex.apply(Real.apply(old), new)
    if kind == "conj":
        return Conj.apply(new)
    if kind == "as_real":
        return Complex.apply(_half(new, 0), _half(new, 1))
    return ViewAsReal.apply(new)  # as_complex
