"""Matrix ops: ``MatMul`` with NumPy's rules (1-D operands are promoted to a row or column and
the added axis is removed afterwards; leading (batch) axes broadcast), ``Einsum``, and the ops
behind ``tr.linalg``: inverse, solve, determinants, Cholesky, eigen- and singular-value
decompositions, pseudo-inverse, LU, QR, the matrix exponential, and the LAPACK-style
factorisations without a derivative (``geqrf``, LDL)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..tensor import DTypeError, Function, Tensor, conj_


class MatMul(Function):
    """y = x0 @ x1 for operands with at least two axes (batch axes broadcast).

    VJP: g0 = gy @ x1ᴴ, g1 = x0ᴴ @ gy (ᴴ swaps the last two axes and conjugates; the engine
    sums broadcast batch axes back).  JVP: ty = t0 @ x1 + x0 @ t1.  Saves both inputs.

    A matrix operand that is a transposed view (``linear``'s Wᵀ) gets its gradient as the
    transposed view of (gy @ ...)ᵀ, the same product in the layout of the operand: its
    transpose, the weight's gradient, is then contiguous, and adding it into ``.grad`` at
    every step of a sequence is a contiguous add, 4x faster than a strided one.
    """

    complex_ok = True

    def forward(self, x0: Any, x1: Any) -> Any:
        self.saved = (x0, x1)
        if x0.ndim > 2 and x1.ndim == 2:  # (..., K) @ (K, N): one matrix product, not one
            # per leading index (NumPy's batched loop runs many small, slow ones)
            return (_rows(x0) @ x1).reshape(*x0.shape[:-1], x1.shape[-1])
        return x0 @ x1

    def backward(self, gy: Any) -> Any:
        x0, x1 = self.saved
        if gy.ndim > 2 and x1.ndim == 2:  # as forward: the leading axes as rows, and
            # g1 summed over them by the product itself
            g0, g1 = self._matrix_grads(_rows(gy), _rows(x0), x1)
            return g0.reshape(x0.shape), g1
        if gy.ndim == 2:
            return self._matrix_grads(gy, x0, x1)
        return gy @ conj_(x1).swapaxes(-1, -2), conj_(x0).swapaxes(-1, -2) @ gy

    @staticmethod
    def _matrix_grads(gy: Any, x0: Any, x1: Any) -> tuple[Any, Any]:
        """The VJP of one matrix product, each gradient in its operand's layout."""
        g0 = (conj_(x1) @ gy.T).T if _transposed(x0) else gy @ conj_(x1).T
        g1 = (gy.T @ conj_(x0)).T if _transposed(x1) else conj_(x0).T @ gy
        return g0, g1

    def jvp(self, t0: Any, t1: Any) -> Any:
        x0, x1 = self.saved
        return t0 @ x1 + x0 @ t1


def _rows(a: Any) -> Any:
    """``a`` (..., K) as a matrix (rows, K): its leading axes as rows."""
    return a.reshape(math.prod(a.shape[:-1]), a.shape[-1])


def _transposed(a: Any) -> bool:
    """Whether ``a`` is a matrix stored transposed (column-major, not row-major); False for
    a Tensor (a backward under ``create_graph`` runs on tensors)."""
    flags = getattr(a, "flags", None)
    return flags is not None and a.ndim == 2 and flags.f_contiguous and not flags.c_contiguous


def matmul(a: Tensor, b: Tensor) -> Tensor:
    """``a @ b`` with NumPy's 1-D and batched rules. The dtypes must match, as in PyTorch (a
    float64 result from float32 weights would be silent and slow)."""
    if a.dtype != b.dtype:
        raise DTypeError(f"matmul: the operands' dtypes differ ({a.dtype} and {b.dtype}); "
                         "convert one to the other's dtype (a Tensor with .to(dtype), a NumPy "
                         "array with .astype(dtype))")
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(f"matmul: operands must not be scalars (shapes {a.shape} and {b.shape})")
    if a.ndim == 1 and b.ndim == 1:
        if a.shape != b.shape:
            raise ValueError(f"matmul: vector shapes {a.shape} and {b.shape} differ")
        return (a * b).sum()
    if a.ndim == 1:
        return MatMul.apply(a.reshape(1, -1), b).squeeze(-2)
    if b.ndim == 1:
        return MatMul.apply(a, b.reshape(-1, 1)).squeeze(-1)
    return MatMul.apply(a, b)


class Einsum(Function):
    """y = einsum(spec, x0, x1, ...) for an explicit ``spec`` ("ij,jk->ik") whose operands
    each name an axis once and agree on every letter's size (``einsum`` below makes any spec
    so: ellipses become letters, broadcast first).

    VJP: the gradient of operand k sums the product of gy and the other operands over every
    letter operand k lacks: g_k = einsum("out,others->sub_k", gy, others...). A letter of
    operand k found nowhere else was summed away by the forward, so every element along it
    gets the same gradient: g_k is computed without it, then broadcast along it. Complex
    operands: the others conjugated (the product is holomorphic in each).  Saves the operands.
    """

    complex_ok = True

    def forward(self, *xs: Any, spec: str) -> Any:
        self.saved, self.spec = xs, spec
        return self.xp.einsum(spec, *xs, optimize=_optimize(xs))

    def backward(self, gy: Any) -> tuple[Any, ...]:
        xs, xp = self.saved, self.xp
        ins, out = self.spec.split("->")
        subs = ins.split(",")
        grads = []
        for k, (sub, x) in enumerate(zip(subs, xs)):
            others = [s for j, s in enumerate(subs) if j != k]
            present = set(out).union(*others)
            kept = "".join(c for c in sub if c in present)
            g = xp.einsum(",".join([out, *others]) + "->" + kept, gy,
                          *(conj_(a) for j, a in enumerate(xs) if j != k),
                          optimize=_optimize(xs))
            if kept != sub:  # letters summed away in the forward: broadcast back along them
                g = xp.broadcast_to(g.reshape([n if c in present else 1
                                               for c, n in zip(sub, x.shape)]), x.shape)
            grads.append(g)
        return tuple(grads)


def _optimize(xs: tuple[Any, ...]) -> bool:
    """Whether einsum should plan its contraction (pairwise, through BLAS: 6x faster on a
    batched matrix product of 64 x 100 x 64) rather than run one loop; planning costs about
    20 us, so not for a few small operands."""
    return len(xs) > 2 or sum(x.size for x in xs) > 10_000


_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def einsum(spec: str, *operands: Any) -> Tensor:
    """Sums of products over named axes, as ``torch.einsum`` (and NumPy's): "ij,jk->ik" is a
    matrix product, "bij,bjk->bik" a batched one, "i,j->ij" an outer product, "ij->j" a column
    sum, "...ij,...jk->...ik" a matrix product broadcast over any leading axes. Without "->",
    the output is the letters that appear once, in alphabetical order (after the ellipsis).
    The operands may also come as one list. Each letter names one axis per operand; a letter
    repeated within one operand (a diagonal, "ii->i") is not supported."""
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    if not isinstance(spec, str) or not all(isinstance(t, Tensor) for t in operands):
        raise TypeError("einsum(spec, *tensors): a string, then Tensors")
    spec = spec.replace(" ", "")
    ins, arrow, out = spec.partition("->")
    subs = ins.split(",")
    if len(subs) != len(operands):
        raise ValueError(f"einsum: {spec!r} names {len(subs)} operands, {len(operands)} given")
    if len({t.dtype for t in operands}) > 1:
        raise DTypeError(f"einsum: the operands' dtypes differ "
                         f"({', '.join(str(t.dtype) for t in operands)}); convert them to one")
    for s in [*subs, out]:
        bad = set(s.replace("...", "")) - set(_LETTERS)
        if bad or s.count("...") > 1:
            raise ValueError(f"einsum: {spec!r}: each operand is letters and at most one '...'")
    spare = iter(c for c in _LETTERS if c not in spec)
    # the ellipsis: as many new letters as the most axes it stands for, the operands
    # broadcast to one shape there (right-aligned, as NumPy's broadcasting)
    ell_shapes = []
    for s, t in zip(subs, operands):
        n = t.ndim - len(s.replace("...", ""))
        if n < 0 or (n > 0 and "..." not in s):
            raise ValueError(f"einsum: operand {s!r} names {len(s.replace('...', ''))} axes "
                             f"for a tensor of shape {t.shape}")
        i = s.find("...")
        ell_shapes.append(t.shape[i:i + n] if i >= 0 else ())
    try:
        ell = np.broadcast_shapes(*ell_shapes)
    except ValueError:
        raise ValueError(f"einsum: {spec!r}: the axes under '...' do not broadcast together: "
                         f"{', '.join(map(str, ell_shapes))}") from None
    ell_letters = "".join(next(spare) for _ in ell)
    ops = []
    for k, (s, t) in enumerate(zip(subs, operands)):
        if "..." in s:
            i, n = s.find("..."), len(ell_shapes[k])
            shape = t.shape[:i] + (1,) * (len(ell) - n) + t.shape[i:]
            t = t.reshape(shape).broadcast_to(t.shape[:i] + ell + t.shape[i + n:])
            subs[k] = s.replace("...", ell_letters)
        ops.append(t)
    counts = {c: "".join(subs).count(c) for c in set("".join(subs))}
    if arrow:
        out = out.replace("...", ell_letters)
    else:
        out = ell_letters + "".join(sorted(c for c, n in counts.items()
                                           if n == 1 and c not in ell_letters))
    sizes: dict[str, int] = {}  # each letter's size: where one operand has 1, the others'
    for s, t in zip(subs, ops):
        if len(set(s)) != len(s):
            raise ValueError(f"einsum: {spec!r}: a letter repeated within one operand (a "
                             "diagonal) is not supported")
        for c, n in zip(s, t.shape):
            if sizes.get(c, 1) == 1:
                sizes[c] = n
            elif n not in (1, sizes[c]):
                raise ValueError(f"einsum: {spec!r}: letter {c!r} is size {sizes[c]} in one "
                                 f"operand and {n} in another")
    # an axis of size 1 broadcasts to its letter's size, as in PyTorch (its gradient sums)
    ops = [t if t.shape == tuple(sizes[c] for c in s) else t.broadcast_to(
        tuple(sizes[c] for c in s)) for s, t in zip(subs, ops)]
    if len(set(out)) != len(out) or not set(out) <= set(sizes):
        raise ValueError(f"einsum: {spec!r}: each output letter once, and from the operands")
    return Einsum.apply(*ops, spec=",".join(subs) + "->" + out)


def tensordot(a: Tensor, b: Tensor, dims: Any = 2) -> Tensor:
    """Σ over paired axes of a and b of their product, as ``torch.tensordot``: ``dims`` an int
    d pairs a's last d axes with b's first d; a pair of sequences (or a 2-row tensor) names
    the axes of a and of b to pair, in order (an axis of size 1 broadcasts against its pair).
    The result has a's other axes, then b's. A composition: both permuted and reshaped into
    matrices, one ``matmul``, reshaped back."""
    if not isinstance(a, Tensor) or not isinstance(b, Tensor):
        raise TypeError(f"tensordot takes two Tensors, got {type(a).__name__} and "
                        f"{type(b).__name__}")
    if isinstance(dims, Tensor):
        dims = dims.tolist()
    if isinstance(dims, (int, np.integer)) and not isinstance(dims, bool):
        if not 0 <= dims <= min(a.ndim, b.ndim):
            raise ValueError(f"tensordot: dims={dims} must lie in [0, {min(a.ndim, b.ndim)}] "
                             f"for shapes {a.shape} and {b.shape}")
        axes_a, axes_b = list(range(a.ndim - dims, a.ndim)), list(range(int(dims)))
    else:
        try:
            axes_a, axes_b = ([d] if isinstance(d, (int, np.integer)) else list(d)
                              for d in dims)
        except (TypeError, ValueError):
            raise TypeError(f"tensordot: dims must be an int or a pair of sequences of axes, "
                            f"got {dims!r}") from None
        if len(axes_a) != len(axes_b):
            raise ValueError(f"tensordot: {len(axes_a)} axes of a paired with {len(axes_b)} "
                             "of b; give as many of each")

        def normal(axes: list[Any], ndim: int, name: str) -> list[int]:
            out = []
            for d in axes:
                if isinstance(d, bool) or not isinstance(d, (int, np.integer)) or \
                        not -ndim <= d < max(ndim, 1) or not ndim:
                    raise ValueError(f"tensordot: axis {d!r} out of range for {name}, of "
                                     f"{ndim} axes")
                out.append(int(d) % ndim)
            if len(set(out)) != len(out):
                raise ValueError(f"tensordot: the axes {axes} of {name} repeat one")
            return out

        axes_a, axes_b = normal(axes_a, a.ndim, "a"), normal(axes_b, b.ndim, "b")
    for i, j in zip(axes_a, axes_b):
        if a.shape[i] != b.shape[j] and 1 not in (a.shape[i], b.shape[j]):
            raise ValueError(f"tensordot: axis {i} of a (size {a.shape[i]}) is paired with "
                             f"axis {j} of b (size {b.shape[j]}); the sizes must match")
        # an axis of size 1 pairs with any size, broadcast, as PyTorch's
        if a.shape[i] == 1 != b.shape[j]:
            a = a.expand(*(b.shape[j] if d == i else s for d, s in enumerate(a.shape)))
        elif b.shape[j] == 1 != a.shape[i]:
            b = b.expand(*(a.shape[i] if d == j else s for d, s in enumerate(b.shape)))
    free_a = [i for i in range(a.ndim) if i not in axes_a]
    free_b = [j for j in range(b.ndim) if j not in axes_b]
    k = math.prod(a.shape[i] for i in axes_a)
    left = a.permute(free_a + axes_a).reshape(math.prod(a.shape[i] for i in free_a), k)
    right = b.permute(axes_b + free_b).reshape(k, math.prod(b.shape[j] for j in free_b))
    out = matmul(left, right)
    return out.reshape(*(a.shape[i] for i in free_a), *(b.shape[j] for j in free_b))


# ---- matrix functions (``tr.linalg``): the ops whose backward needs more than matmul --------
# Each works on a batch of square matrices (..., n, n). Their backwards are written with ``@``,
# ``swapaxes`` and ``xp.linalg``: under ``create_graph=True`` xp is a TensorXP, whose ``linalg``
# records these same ops, so the ones that say so are differentiable again.
#
# Complex matrices (PyTorch's convention, gz = dL/dx + i dL/dy): the ops marked ``complex_ok``
# take them, with the real formulas' transposes made conjugate transposes (``_mH``, which is
# the transpose for real arrays), plus the terms the docstrings name.


def _mT(a: Any) -> Any:  # noqa: N802 (the transpose of a batch of matrices)
    return a.swapaxes(-1, -2)


def _mH(a: Any) -> Any:  # noqa: N802 (the conjugate transpose; the transpose if a is real)
    return conj_(a).swapaxes(-1, -2)


class Inv(Function):
    """y = x⁻¹.  VJP: gx = -yᴴ gy yᴴ (from d(x⁻¹) = -x⁻¹ dx x⁻¹; ᴴ is ᵀ for real x).  Saves
    y."""

    complex_ok = True

    def forward(self, x: Any) -> Any:
        y = self.xp.linalg.inv(x)
        self.saved = (y,)
        self.y = y
        return y

    def backward(self, gy: Any) -> Any:
        (y,) = self.saved
        return -(_mH(y) @ gy @ _mH(y))


class Solve(Function):
    """y = x0⁻¹ x1, the solution of x0 y = x1 (x1 a batch of (n, k) matrices; ``linalg.solve``
    makes vectors columns and broadcasts the batch axes first).

    VJP: g1 = x0⁻ᴴ gy (one more solve, with the conjugate transpose), g0 = -g1 yᴴ.  Saves x0
    and y."""

    complex_ok = True

    def forward(self, x0: Any, x1: Any) -> Any:
        y = self.xp.linalg.solve(x0, x1)
        self.saved = (x0, y)
        self.y = y
        return y

    def backward(self, gy: Any) -> Any:
        x0, y = self.saved
        g1 = self.xp.linalg.solve(_mH(x0), gy)
        return -(g1 @ _mH(y)), g1


def _adjugate_h(xp: Any, x: Any) -> Any:
    """adj(x)ᴴ, the conjugate of the cofactor matrix (= conj(det x) x⁻ᴴ where x is
    invertible), from the SVD x = U diag(s) Vh: adj(x)ᴴ = conj(det(U) det(Vh)) U diag(p) Vh
    with p_i = Π_{j≠i} s_j, the products taken from running products on both sides (no
    division), so a singular x is fine."""
    u, s, vh = xp.linalg.svd(x)
    ones = xp.ones(s.shape[:-1] + (1,), dtype=s.dtype)
    left = xp.cumprod(xp.concatenate([ones, s[..., :-1]], axis=-1), axis=-1)
    right = xp.flip(xp.cumprod(xp.flip(xp.concatenate([s[..., 1:], ones], axis=-1), -1),
                               axis=-1), -1)
    sign = conj_(xp.linalg.det(u) * xp.linalg.det(vh))
    return sign[..., None, None] * ((u * (left * right)[..., None, :]) @ vh)


class Det(Function):
    """y = det x.  VJP: gx = gy adj(x)ᴴ, which is gy conj(y) x⁻ᴴ where x is invertible (ᴴ
    is ᵀ for real x; det is holomorphic, so the complex VJP conjugates its derivative
    adj(x)ᵀ); the adjugate comes from the SVD (``_adjugate_h``), so a singular x gets its
    exact gradient too (PyTorch's CPU kernel gives zeros for an exactly singular x). Under
    ``create_graph=True`` the backward is gy conj(y) x⁻ᴴ, of ops that record, so there x must
    be invertible.  Saves x and y."""

    complex_ok = True

    def forward(self, x: Any) -> Any:
        y = self.xp.linalg.det(x)
        self.saved = (x, y)
        self.y = y
        return y

    def backward(self, gy: Any) -> Any:
        x, y = self.saved
        if isinstance(x, Tensor):  # create_graph: the formula for invertible x, recorded
            try:
                inv = self.xp.linalg.inv(x)
            except ValueError:  # numpy.linalg.LinAlgError
                raise ValueError("det: create_graph=True through det needs an invertible "
                                 "matrix (its backward is then det(x) x⁻ᵀ, which records); "
                                 f"this one (shape {x.shape}) is singular") from None
            return (gy * conj_(y))[..., None, None] * _mH(inv)
        return gy[..., None, None] * _adjugate_h(self.xp, x)


def _inv_h(xp: Any, x: Any) -> Any:
    """x⁻ᴴ; for a singular x (NumPy refuses it), U diag(1/s) Vh from the SVD, with inf where
    s = 0, as CuPy's inverse gives without a word."""
    try:
        return _mH(xp.linalg.inv(x))
    except np.linalg.LinAlgError:
        u, s, vh = xp.linalg.svd(x)
        with np.errstate(divide="ignore", invalid="ignore"):
            return (u / s[..., None, :]) @ vh


class Slogdet(Function):
    """(sign, logabsdet) of x: det x = sign · exp(logabsdet), the log without the overflow of
    a determinant of many factors; logabsdet is real, sign is ±1 (or 0), or for a complex x
    the complex number det x / |det x| of modulus 1.

    VJP: gx = c x⁻ᴴ; inf and NaN for a singular x (``_inv_h``). For a real x, c = g_logabsdet
    (sign is piecewise constant: its gradient is 0). For a complex x, log det x = logabsdet +
    iθ with sign = e^(iθ) and d(log det x) = tr(x⁻¹ dx), so c = g_logabsdet - i Im(conj(g_sign)
    sign), as PyTorch's.  Saves x and sign."""

    complex_ok = True

    def forward(self, x: Any) -> tuple[Any, Any]:
        sign, logabsdet = self.xp.linalg.slogdet(x)
        self.saved = (x, sign)
        return sign.astype(x.dtype, copy=False), logabsdet.astype(x.real.dtype, copy=False)

    def backward(self, gsign: Any, glogabsdet: Any) -> Any:
        x, sign = self.saved
        c = glogabsdet
        if x.dtype.kind == "c" and gsign is not None:
            if isinstance(x, Tensor):  # create_graph: sign recorded, as a function of x
                sign = Slogdet.apply(x)[0]
            turn = (conj_(gsign) * sign).imag * -1j
            c = turn if c is None else c + turn
        if c is None:
            return None
        if isinstance(x, Tensor):
            return c[..., None, None] * _mH(self.xp.linalg.inv(x))
        return c[..., None, None] * _inv_h(self.xp, x)


class Cholesky(Function):
    """y = L, the lower-triangular factor with positive (real) diagonal of a symmetric (or
    Hermitian) positive-definite x = L Lᴴ (only x's lower triangle is read); with ``upper``,
    y = U = Lᴴ, x = Uᴴ U, from x's upper triangle (L is then that of xᴴ).

    VJP (L⁻¹ from one more op, so it is differentiable again; ᴴ is ᵀ for real x): with M =
    Lᴴ gL (gL = gUᴴ for ``upper``), gx = L⁻ᴴ (tril(M) + tril(M, -1)ᴴ) L⁻¹ / 2, as PyTorch's:
    symmetric for real x; for complex x its Hermitian part is the gradient along Hermitian
    changes of x, and the rest (from M's imaginary diagonal) is PyTorch's too.  Saves y and
    the two triangles' masks."""

    complex_ok = True

    def forward(self, x: Any, upper: bool = False) -> Any:
        xp = self.xp
        y = xp.linalg.cholesky(_mH(x) if upper else x)
        y = _mH(y) if upper else y
        n = x.shape[-1]
        lower = xp.tril(xp.ones((n, n), dtype=x.real.dtype))
        self.saved, self.upper = (y, lower, lower - xp.eye(n, dtype=lower.dtype)), upper
        self.y = y
        return y

    def backward(self, gy: Any) -> Any:
        y, lower, strict = self.saved
        if self.upper:
            y, gy = _mH(y), _mH(gy)
        inv = self.xp.linalg.inv(y)
        m = _mH(y) @ gy
        return _mH(inv) @ ((m * lower + _mH(m * strict)) * 0.5) @ inv


def _off_diagonal(xp: Any, n: int, dtype: Any) -> Any:
    """1 off the diagonal of an (n, n) matrix, 0 on it (a constant, for arrays and tensors)."""
    return xp.ones((n, n), dtype=dtype) - xp.eye(n, dtype=dtype)


def _gaps(xp: Any, w: Any) -> Any:
    """F with F_ij = 1 / (w_j - w_i) off the diagonal and 0 on it (inf where two w are equal,
    as PyTorch's): the spectral ops' backwards divide by these gaps."""
    off = _off_diagonal(xp, w.shape[-1], w.dtype)
    with np.errstate(divide="ignore", invalid="ignore"):
        return off / (w[..., None, :] - w[..., :, None] + (1 - off))


def _redo(op: type[Function], x: Any, **kwargs: Any) -> Any:
    """The spectral ops' backwards read their own outputs: under ``create_graph=True`` (x, the
    saved input, is then a Tensor) they are computed again by the op itself, so that the
    recorded backward depends on x through them and is differentiable again."""
    return op.apply(x, **kwargs)


class Eigh(Function):
    """(w, V): the eigenvalues (ascending, real) and orthonormal eigenvectors of a symmetric
    (or Hermitian) x (its lower triangle is read), x = V diag(w) Vᴴ (ᴴ is ᵀ for real x).

    VJP: gx = V (diag(gw) + F ∘ skew(Vᴴ gV)) Vᴴ with skew(m) = (m - mᴴ) / 2 (V stays
    orthonormal, so only that part of Vᴴ gV moves it) and F_ij = 1 / (w_j - w_i) off the
    diagonal, 0 on it: the gradient through V needs distinct eigenvalues (repeated ones give
    inf, as PyTorch's); with gw alone it is V diag(gw) Vᴴ. Complex eigenvectors are defined up
    to a phase each: a loss must not depend on it (Im diag(Vᴴ gV) = 0; PyTorch raises where it
    does, which is not checked here: the gradient is then that of some choice of phases).
    Under ``create_graph=True`` w and V are computed again by this op (``_redo``), so it is
    differentiable again.  Saves x, w, V."""

    complex_ok = True

    def forward(self, x: Any) -> tuple[Any, Any]:
        w, v = self.xp.linalg.eigh(x)
        self.saved = (x, w, v)
        return w, v

    def backward(self, gw: Any, gv: Any) -> Any:
        xp = self.xp
        x, w, v = self.saved
        if isinstance(x, Tensor):
            w, v = _redo(Eigh, x)
        n = w.shape[-1]
        inner = xp.zeros(v.shape, dtype=v.dtype)
        if gv is not None:
            m = _mH(v) @ gv
            with np.errstate(invalid="ignore"):  # (inf · 0 where values repeat: NaN)
                inner = _gaps(xp, w) * ((m - _mH(m)) * 0.5)  # only its skew part moves V
        if gw is not None:
            inner = inner + gw[..., None, :] * xp.eye(n, dtype=w.dtype)
        return v @ inner @ _mH(v)


class Eig(Function):
    """(w, V): the eigenvalues and unit eigenvectors (columns) of a general square x, x V = V
    diag(w), complex (complex64 for float32 and complex64 x, complex128 otherwise), from
    LAPACK's geev: each column of norm 1 with its largest entry real (NumPy's on the host
    where the array module has no ``linalg.eig``: CuPy).

    VJP (PyTorch's), with F_ij = 1 / conj(w_j - w_i) off the diagonal and 0 on it, M = Vᴴ gV::

        gx = V⁻ᴴ (diag(gw) + F ∘ (M - Vᴴ V diag(Re diag(M)))) Vᴴ

    (the middle term keeps each column's norm 1); the real part for a real x. Through V it
    needs distinct eigenvalues, and a loss that does not depend on each eigenvector's phase
    e^(iφ) (Im diag(M) = 0; PyTorch raises where it does, not checked here). Under
    ``create_graph=True`` w and V are computed again by this op (``_redo``), so it is
    differentiable again.  Saves x, w and V."""

    complex_ok = True

    def forward(self, x: Any) -> tuple[Any, Any]:
        xp = self.xp
        out = np.dtype(np.complex64 if x.dtype in (np.float32, np.complex64) else np.complex128)
        if hasattr(xp.linalg, "eig"):
            w, v = xp.linalg.eig(x)
        else:
            w, v = (xp.asarray(a) for a in np.linalg.eig(xp.asnumpy(x)))
        w, v = w.astype(out, copy=False), v.astype(out, copy=False)
        self.saved = (x, w, v)
        return w, v

    def backward(self, gw: Any, gv: Any) -> Any:
        xp = self.xp
        x, w, v = self.saved
        if isinstance(x, Tensor):
            w, v = _redo(Eig, x)
        n = w.shape[-1]
        eye = xp.eye(n, dtype=x.real.dtype)
        inner = xp.zeros(v.shape, dtype=v.dtype)
        if gv is not None:
            m = _mH(v) @ gv
            m = m - _mH(v) @ (v * (m * eye).sum(-1).real[..., None, :])
            with np.errstate(invalid="ignore"):  # (inf · 0 where values repeat: NaN)
                inner = _gaps(xp, conj_(w)) * m
        if gw is not None:
            inner = inner + gw[..., None, :] * eye
        g = xp.linalg.solve(_mH(v), inner @ _mH(v))  # V⁻ᴴ inner Vᴴ
        return g if x.dtype.kind == "c" else g.real


class Svdvals(Function):
    """s: the singular values of x (..., m, n), descending.  VJP: gx = U diag(gs) Vh from the
    reduced SVD x = U diag(s) Vh (exact where the singular values are distinct and, for m ≠ n,
    nonzero).  Under ``create_graph=True`` U and Vh come from ``Svd`` again (``_redo``), so it
    is differentiable again.  Saves x, U and Vh."""

    complex_ok = True

    def forward(self, x: Any) -> Any:
        u, s, vh = self.xp.linalg.svd(x, full_matrices=False)
        self.saved = (x, u, vh)
        return s

    def backward(self, gy: Any) -> Any:
        x, u, vh = self.saved
        if isinstance(x, Tensor):
            u, _, vh = _redo(Svd, x)
        return (u * gy[..., None, :]) @ vh


class Svd(Function):
    """(U, s, Vh) with x = U diag(s) Vh for x (..., m, n): s descending, the k = min(m, n)
    columns of U and rows of Vh orthonormal (signs as LAPACK's). ``full_matrices=True`` adds
    the columns (rows) that complete U (Vh) to square orthogonal matrices; as PyTorch's, they
    get no gradient (any orthonormal completion would do).

    VJP, with V = Vhᴴ, J = Uᴴ gU, K = Vᴴ gV (gV = gVhᴴ), skew(m) = m - mᴴ, and the gaps
    F_ij = 1 / (s_j² - s_i²) off the diagonal, 0 on it (ᴴ is ᵀ for real x)::

        M  = diag(gs) + F ∘ (skew(J) diag(s) + diag(s) skew(K))        (k, k)
             + i diag(Im diag(J) / s)                                  (complex x only)
        gx = (U M + (I - U Uᴴ) gU diag(1/s)) Vh                          m > n
        gx = U (M Vh + diag(1/s) gVᴴ (I - V Vᴴ))                         m < n
        gx = U M Vh                                                      m = n

    (the middle terms move the columns of U or V that leave the span of the others). For
    complex x each pair u_k, v_k is defined up to one phase e^(iφ): a loss must not depend on
    it (PyTorch raises where it does; not checked here), so Im diag(K) = -Im diag(J), and the
    phase term reads J alone. Through
    U or V it needs distinct singular values (repeated ones give inf or NaN, as PyTorch's),
    and nonzero ones where m ≠ n; through s alone it is U diag(gs) Vh.  Under
    ``create_graph=True`` U, s, Vh are computed again by this op (``_redo``), so it is
    differentiable again.  Saves x, U, s and Vh."""

    complex_ok = True

    def forward(self, x: Any, full_matrices: bool = False) -> tuple[Any, Any, Any]:
        u, s, vh = self.xp.linalg.svd(x, full_matrices=full_matrices)
        self.saved = (x, u, s, vh)
        return u, s, vh

    def backward(self, gu: Any, gs: Any, gvh: Any) -> Any:
        xp = self.xp
        x, u, s, vh = self.saved
        m, n = x.shape[-2:]
        k = min(m, n)
        if isinstance(x, Tensor):
            u, s, vh = _redo(Svd, x)
        u, vh = u[..., :k], vh[..., :k, :]  # (full_matrices: the completion moves nothing)
        gu = None if gu is None else gu[..., :k]
        gv = None if gvh is None else _mH(gvh[..., :k, :])
        inner = xp.zeros(s.shape + (k,), dtype=u.dtype)
        if gu is not None or gv is not None:
            both = inner
            if gu is not None:
                j = _mH(u) @ gu
                both = both + (j - _mH(j)) * s[..., None, :]
            if gv is not None:
                kk = vh @ gv
                both = both + s[..., :, None] * (kk - _mH(kk))
            with np.errstate(invalid="ignore"):  # (inf · 0 where values repeat: NaN)
                inner = _gaps(xp, s * s) * both
            if gu is not None and u.dtype.kind == "c":  # U's phases: i Im diag(J) / s
                eye = xp.eye(k, dtype=s.dtype)
                with np.errstate(divide="ignore", invalid="ignore"):
                    phase = (j * eye).sum(-1).imag / s
                inner = inner + eye * (phase * 1j)[..., None, :]
        if gs is not None:
            inner = inner + gs[..., None, :] * xp.eye(k, dtype=s.dtype)
        with np.errstate(divide="ignore", invalid="ignore"):
            if m > n and gu is not None:
                gus = gu / s[..., None, :]
                return (u @ inner + gus - u @ (_mH(u) @ gus)) @ vh
            if m < n and gv is not None:
                sgv = _mH(gv) / s[..., :, None]
                return u @ (inner @ vh + sgv - (sgv @ _mH(vh)) @ vh)
        return u @ inner @ vh


class Pinv(Function):
    """y = x⁺, the Moore-Penrose pseudo-inverse of x (..., m, n): V diag(1/s) Uᵀ from the SVD
    keeping the singular values above max(atol, rtol · s_max) (atol and rtol numbers, or arrays
    of shape (..., 1) for a tolerance per matrix); with ``hermitian`` from ``eigh`` (only x's
    lower triangle read), V diag(1/w) Vᵀ over the |w| above it.

    VJP, for a rank that small changes keep (Golub and Pereyra's derivative of x⁺)::

        gx = -yᵀ gy yᵀ + (I - x y) gyᵀ (y yᵀ) + (yᵀ y) gyᵀ (I - y x)

    written with products only (no m×m identity), so it is differentiable again, as
    PyTorch's.  Saves x and y."""

    complex_ok = True

    def forward(self, x: Any, atol: Any, rtol: Any, hermitian: bool = False) -> Any:
        xp = self.xp
        if hermitian:
            s, v = xp.linalg.eigh(x)
            u, vt = v, v
            top = xp.abs(s).max(-1, keepdims=True) if s.shape[-1] else s
        else:
            u, s, vh = xp.linalg.svd(x, full_matrices=False)
            vt, top = _mH(vh), s[..., :1]
        keep = xp.abs(s) > xp.maximum(atol, rtol * top)
        y = (vt * xp.where(keep, 1 / xp.where(keep, s, 1), 0)[..., None, :]) @ _mH(u)
        y = y.astype(x.dtype, copy=False)
        self.saved = (x, y)
        self.y = y
        return y

    def backward(self, gy: Any) -> Any:
        x, y = self.saved
        gyt = _mH(gy)
        left = gyt @ (y @ _mH(y))  # (I - x y) gyᴴ y yᴴ
        right = (_mH(y) @ y) @ gyt  # yᴴ y gyᴴ (I - y x)
        return -(_mH(y) @ gy @ _mH(y)) + (left - x @ (y @ left)) + (right - (right @ y) @ x)


def lu_arrays(xp: Any, a: Any, pivot: bool = True) -> tuple[Any, Any, Any]:
    """(perm, L, U, ...) of a batch of (m, n) arrays by Gaussian elimination with partial
    pivoting, as LAPACK's getrf: at step j the row at or below j of largest |entry| in column
    j (|Re| + |Im| for complex numbers, as LAPACK's; the first of equals) is swapped into row
    j. Returns (piv, L, U): piv (..., k) the row
    swapped with row j at each step (0-based), L (m, k) unit lower-trapezoidal, U (k, n)
    upper-trapezoidal, k = min(m, n). One vectorised step per column."""
    m, n = a.shape[-2:]
    k = min(m, n)
    w = a.copy()
    piv = xp.zeros(a.shape[:-2] + (k,), dtype=np.int64)
    rows = xp.arange(m)
    for j in range(k):
        if pivot:
            col = w[..., j:, j]  # (LAPACK's size of a complex number: |Re| + |Im|)
            size = xp.abs(col.real) + xp.abs(col.imag) if col.dtype.kind == "c" else xp.abs(col)
            p = (size.argmax(-1) + j)[..., None]  # (..., 1)
            piv[..., j] = p[..., 0]
            swap = xp.where(rows == j, p, xp.where(rows == p, j, rows))  # rows j and p swapped
            w = xp.take_along_axis(w, swap[..., :, None], -2)
        else:
            piv[..., j] = j
        d = w[..., j, j][..., None]
        # a zero pivot (a column of zeros from j down, with pivoting) scales nothing, as
        # getrf: its factors stay as they are (zeros), so no 0/0 spreads NaN
        with np.errstate(divide="ignore", invalid="ignore"):
            factors = xp.where(d != 0, w[..., j + 1:, j] / xp.where(d != 0, d, 1),
                               w[..., j + 1:, j])
        w[..., j + 1:, j] = factors
        w[..., j + 1:, j + 1:] -= factors[..., :, None] * w[..., j, None, j + 1:]
    eye = xp.eye(m, k, dtype=a.dtype)
    lower = xp.tril(w[..., :, :k], -1) + eye
    upper = xp.triu(w[..., :k, :])
    return piv, lower, upper


def permutation_of(xp: Any, piv: Any, m: int) -> Any:
    """P (..., m, m) with A = P L U from getrf's swaps ``piv`` (0-based): the swaps applied in
    order to the rows of the identity give Pᵀ."""
    rows = xp.arange(m)
    order = xp.broadcast_to(rows, piv.shape[:-1] + (m,))
    for j in range(piv.shape[-1]):
        p = piv[..., j:j + 1]
        swap = xp.where(rows == j, p, xp.where(rows == p, j, rows))
        order = xp.take_along_axis(order, swap, -1)
    # row i of P^T A is row order[i] of A: P^T = I[order], P = its transpose
    return _mT(xp.eye(m, dtype=np.float64)[order])


class LU(Function):
    """(P, L, U) with x = P L U for x (..., m, n): P a permutation matrix (a constant), L (m,
    k) unit lower-trapezoidal, U (k, n) upper-trapezoidal, k = min(m, n) (``lu_arrays``).

    VJP, with B = Pᵀ gx split as x is (the first k rows or columns, and the rest), triu and
    tril(·, -1) the upper and strictly lower parts, and L₁, U₁ the square k×k blocks::

        square: gB = L⁻ᵀ (tril(Lᵀ gL, -1) + triu(gU Uᵀ)) U⁻ᵀ
        tall:   gB = [L₁⁻ᵀ (tril(L₁ᵀ gL₁, -1) + triu(gU Uᵀ - L₂ᵀ gL₂)) U⁻ᵀ ; gL₂ U⁻ᵀ]
        wide:   gB = [L⁻ᵀ (tril(Lᵀ gL - gU₂ U₂ᵀ, -1) + triu(gU₁ U₁ᵀ)) U₁⁻ᵀ , L⁻ᵀ gU₂]

    (from dL = L tril(X, -1), dU = triu(X) U, X = L⁻¹ Pᵀ dx U⁻¹ on the square blocks). Needs
    the square blocks invertible. Under ``create_graph=True`` L and U are computed again by
    this op (``_redo``), so it is differentiable again.  Saves x, P, L, U, the masks."""

    complex_ok = True

    def forward(self, x: Any, pivot: bool = True, pivots: dict[str, Any] | None = None
                ) -> tuple[Any, Any, Any]:
        xp = self.xp
        m, n = x.shape[-2:]
        k = min(m, n)
        piv, lower, upper = lu_arrays(xp, x, pivot)
        if pivots is not None:  # (where the caller wants getrf's swaps too: lu_factor)
            pivots["piv"] = piv
        perm = permutation_of(xp, piv, m).astype(x.dtype)
        strict = xp.tril(xp.ones((k, k), dtype=x.dtype), -1)
        self.saved = (x, perm, lower, upper, strict, 1 - strict)
        self.pivot = pivot
        return perm, lower, upper

    def backward(self, gp: Any, gl: Any, gu: Any) -> Any:
        xp = self.xp
        x, perm, lower, upper, strict, up = self.saved
        if isinstance(x, Tensor):
            _, lower, upper = _redo(LU, x, pivot=self.pivot)
        m, n = x.shape[-2:]
        k = min(m, n)
        gl = xp.zeros(lower.shape, dtype=lower.dtype) if gl is None else gl
        gu = xp.zeros(upper.shape, dtype=upper.dtype) if gu is None else gu
        l1, u1 = lower[..., :k, :], upper[..., :, :k]
        mid = (_mH(l1) @ gl[..., :k, :]) * strict + (gu[..., :, :k] @ _mH(u1)) * up
        if m > n:
            mid = mid - (_mH(lower[..., k:, :]) @ gl[..., k:, :]) * up
        if m < n:
            mid = mid - (gu[..., :, k:] @ _mH(upper[..., :, k:])) * strict
        inv_l, inv_u = _mH(xp.linalg.inv(l1)), _mH(xp.linalg.inv(u1))  # L₁⁻ᴴ, U₁⁻ᴴ
        gb = inv_l @ mid @ inv_u
        if m > n:
            gb = xp.concatenate([gb, gl[..., k:, :] @ inv_u], -2)
        elif m < n:
            gb = xp.concatenate([gb, inv_l @ gu[..., :, k:]], -1)
        return perm @ gb


def _expm(xp: Any, a: Any) -> Any:
    """exp(a) of a batch of square arrays by scaling and squaring: with 2^s above the largest
    1-norm in the batch, exp(a) = exp(a / 2^s)^(2^s), and exp(b) for ‖b‖₁ ≤ 1/2 is its
    Taylor series to degree 18 (remainder below 0.5^19 / 19! ≈ 2e-23, under float64's
    rounding), summed by Horner's rule."""
    n = a.shape[-1]
    norm = float(xp.abs(a).sum(-2).max()) if a.size else 0.0
    s = max(0, math.ceil(math.log2(norm)) + 1) if norm > 0.5 else 0
    b = a / (2.0**s)
    eye = xp.eye(n, dtype=a.dtype)
    y = eye + b / 18
    for k in range(17, 0, -1):
        y = eye + (b @ y) / k
    for _ in range(s):
        y = y @ y
    return y


class MatrixExp(Function):
    """y = exp(x) = Σ_k x^k / k! of a batch of square matrices (``_expm``).

    VJP: gx = L(xᵀ, gy), the Fréchet derivative of exp at xᵀ in the direction gy, read off
    the top-right block of exp([[xᵀ, gy/c], [0, xᵀ]]) times c = max |gy| (Mathias, 1996; L is
    linear in gy, and the scaling keeps the block's norm, so its accuracy, that of xᵀ). Under
    ``create_graph=True`` that block exponential is this op again, so it is differentiable
    again.  Saves x."""

    complex_ok = True

    def forward(self, x: Any) -> Any:
        self.saved = (x,)
        return _expm(self.xp, x)

    def backward(self, gy: Any) -> Any:
        (x,) = self.saved
        xp, n = self.xp, x.shape[-1]
        # L is linear in gy: scaled to at most 1 here (and back after), a large gy does not
        # make _expm square xᵀ more often than xᵀ itself needs
        g = gy._data if isinstance(gy, Tensor) else gy  # (c a constant: L is linear anyway)
        c = float(abs(g).max()) if g.size else 0.0
        c = c if 0 < c < math.inf else 1.0
        xt = _mH(x)
        zeros = xp.zeros(xt.shape, dtype=xt.dtype)
        big = xp.concatenate([xp.concatenate([xt, gy / c], -1),
                              xp.concatenate([zeros, xt], -1)], -2)
        block = MatrixExp.apply(big) if isinstance(big, Tensor) else _expm(xp, big)
        return block[..., :n, n:] * c


def qr_arrays(xp: Any, a: Any, mode: str = "reduced") -> tuple[Any, Any]:
    """``xp.linalg.qr`` of a batch of matrices, in a's dtype: one matrix at a time where the
    array module takes one (CuPy, whose raw mode also computes in float64)."""
    if a.ndim == 2 or a.size == 0 or xp is np:
        q, r = xp.linalg.qr(a, mode=mode)
    else:
        parts = [xp.linalg.qr(m, mode=mode) for m in a.reshape(-1, *a.shape[-2:])]
        q = xp.stack([p[0] for p in parts]).reshape(*a.shape[:-2], *parts[0][0].shape)
        r = xp.stack([p[1] for p in parts]).reshape(*a.shape[:-2], *parts[0][1].shape)
    return q.astype(a.dtype, copy=False), r.astype(a.dtype, copy=False)


class QR(Function):
    """(Q, R) with x = Q R, Q (m, k) with orthonormal columns and R (k, n) upper-triangular,
    k = min(m, n) (the reduced factorisation; signs as LAPACK's), for m >= n.

    VJP (m >= n): with M = R gRᴴ - gQᴴ Q and copyltu(M) = tril(M, -1) + tril(M, -1)ᴴ + Re
    diag(M) (its lower triangle copied onto the upper one; ᴴ is ᵀ for real x), gx = (gQ + Q
    copyltu(M)) R⁻ᴴ (R⁻ᴴ by a solve). For complex x, Re diag(M) because Qᴴ dQ is
    skew-Hermitian and R's diagonal real. Needs R invertible (x of full column rank).
    Under ``create_graph=True`` Q and R are computed again by this op (``_redo``), so it is
    differentiable again.  Saves x, Q, R and copyltu's masks."""

    complex_ok = True

    def forward(self, x: Any) -> tuple[Any, Any]:
        xp = self.xp
        q, r = qr_arrays(xp, x)
        n = r.shape[-1]
        lower = xp.tril(xp.ones((n, n), dtype=r.dtype))
        self.saved = (x, q, r, lower, lower - xp.eye(n, dtype=r.dtype))
        return q, r

    def backward(self, gq: Any, gr: Any) -> Any:
        xp = self.xp
        x, q, r, lower, strict = self.saved
        if isinstance(x, Tensor):
            q, r = _redo(QR, x)
        gq = xp.zeros(q.shape, dtype=q.dtype) if gq is None else gq
        gr = xp.zeros(r.shape, dtype=r.dtype) if gr is None else gr
        m = r @ _mH(gr) - _mH(gq) @ q
        below = m * strict
        copied = below + _mH(below) + m.real * (lower - strict)
        b = gq + q @ copied  # gx Rᴴ = b, so gx = solve(R, bᴴ)ᴴ
        return _mH(xp.linalg.solve(r, _mH(b)))


# ---- factorisations PyTorch gives no derivative for: geqrf, ldl_factor, ldl_solve ----------


class _NoDerivative(Function):
    """An op whose backward PyTorch does not implement either: recorded as usual, and a
    backward through it raises, naming it (``name``), as PyTorch's does."""

    name = ""

    def backward(self, *gys: Any) -> Any:
        raise NotImplementedError(f"the derivative for '{self.name}' is not implemented (as in "
                                  "PyTorch); detach() its inputs, or build what you need from "
                                  "differentiable ops")


class QRComplete(_NoDerivative):
    """(Q, R) of a tall x (..., m, n), m > n, complete: Q (m, m) orthogonal, R (m, n) (its
    rows past n zero), as LAPACK's (``xp.linalg.qr(mode="complete")``). Not differentiable:
    Q's last m - n columns are any completion of the first n, as in PyTorch."""

    name = "linalg_qr with mode='complete' of a tall matrix (use mode='reduced')"
    complex_ok = True

    def forward(self, x: Any) -> tuple[Any, Any]:
        xp = self.xp
        m, n = x.shape[-2:]
        if x.size == 0:
            q = xp.broadcast_to(xp.eye(m, dtype=x.dtype), x.shape[:-2] + (m, m)).copy()
            return q, xp.zeros(x.shape, dtype=x.dtype)
        q, r = xp.linalg.qr(x, mode="complete")
        return q.astype(x.dtype, copy=False), r.astype(x.dtype, copy=False)


class Geqrf(_NoDerivative):
    """(a, tau): LAPACK's geqrf QR of x (..., m, n), Householder reflectors H_i = I - tau_i v_i
    v_iᵀ with x = H_1 ... H_k R, k = min(m, n): R on and above a's diagonal, v_i below it in
    column i (its 1 on the diagonal implied). ``xp.linalg.qr(mode="raw")`` (one matrix at a
    time where the array module takes one), which stores a transposed."""

    name = "geqrf"

    def forward(self, x: Any) -> tuple[Any, Any]:
        xp = self.xp
        m, n = x.shape[-2:]
        if x.size == 0:
            return x.copy(), xp.zeros(x.shape[:-2] + (min(m, n),), dtype=x.dtype)
        if x.ndim == 2 or xp is np:
            h, tau = xp.linalg.qr(x, mode="raw")
        else:
            parts = [xp.linalg.qr(a, mode="raw") for a in x.reshape(-1, m, n)]
            h = xp.stack([p[0] for p in parts]).reshape(*x.shape[:-2], n, m)
            tau = xp.stack([p[1] for p in parts]).reshape(*x.shape[:-2], min(m, n))
        return (xp.ascontiguousarray(_mT(h)).astype(x.dtype, copy=False),
                tau.astype(x.dtype, copy=False))


_BUNCH_KAUFMAN = (1 + math.sqrt(17)) / 8  # the pivot threshold that bounds the growth


def ldl_arrays(xp: Any, a: Any) -> tuple[Any, Any, Any]:
    """(LD, pivots, info) of one symmetric (n, n) array (its lower triangle read) by LAPACK's
    sytf2 (Bunch-Kaufman diagonal pivoting), as PyTorch's ``ldl_factor_ex``: A = L D Lᵀ with
    L = P_1 L_1 P_2 L_2 ..., D block-diagonal of 1×1 and symmetric 2×2 blocks. At step k a
    1×1 pivot a_kk is kept where |a_kk| >= α max_i |a_ik| (α = (1 + √17) / 8); else row and
    column k (or k + 1, for a 2×2 block of rows k, k + 1) are swapped with those of the
    largest off-diagonal entry. pivots (1-based, int32): k' at k for a 1×1 step that swapped
    k and k', -k' at k and k + 1 for a 2×2 step that swapped k + 1 and k'. LD holds D on its
    diagonal (and first subdiagonal, for 2×2 blocks) and L's multipliers below, zeros above.
    info is the first (1-based) zero 1×1 pivot, 0 if none (D singular, the rest factored).

    The trailing matrix is kept whole and symmetric (each update mirrored from its lower
    triangle), so a swap of rows and columns is one symmetric permutation."""
    n = a.shape[-1]
    w = xp.tril(a) + _mT(xp.tril(a, -1))
    piv = xp.zeros(n, dtype=np.int32)
    info = 0
    k = 0
    while k < n:
        step, col = 1, xp.abs(w[k + 1:, k])
        akk = abs(float(w[k, k]))
        imax = k + 1 + int(col.argmax()) if k < n - 1 else k
        colmax = float(col[imax - k - 1]) if k < n - 1 else 0.0
        zero = max(akk, colmax) == 0 or math.isnan(akk)  # (a zero column: nothing to do)
        if zero:
            info = info or k + 1
            kp = k
        elif akk >= _BUNCH_KAUFMAN * colmax:
            kp = k
        else:  # the largest off-diagonal entry of row (and column) imax
            row = xp.abs(w[imax, k:])
            row[imax - k] = 0  # (the diagonal: w is symmetric, so this row is LAPACK's row
            rowmax = float(row.max())  # and column of imax together)
            if akk >= _BUNCH_KAUFMAN * colmax * (colmax / rowmax):
                kp = k
            elif abs(float(w[imax, imax])) >= _BUNCH_KAUFMAN * rowmax:
                kp = imax
            else:
                kp, step = imax, 2
        kk = k + step - 1
        if kp != kk:  # swap rows and columns kk and kp of the trailing matrix
            order = xp.arange(n - k)
            i, j = kk - k, kp - k
            order = xp.where(order == i, j, xp.where(order == j, i, order))
            w[k:, k:] = w[k:, k:][order][:, order]
        if step == 1 and k < n - 1 and not zero:
            x, d11 = w[k + 1:, k], 1 / w[k, k]
            upd = w[k + 1:, k + 1:] + x[:, None] * (-d11 * x)[None, :]
            w[k + 1:, k + 1:] = xp.tril(upd) + _mT(xp.tril(upd, -1))
            w[k + 1:, k] = x * d11
        elif step == 2 and k < n - 2:
            d21 = w[k + 1, k]
            d11, d22 = w[k + 1, k + 1] / d21, w[k, k] / d21
            t = 1 / (d11 * d22 - 1)
            d21 = t / d21
            c0, c1 = w[k + 2:, k], w[k + 2:, k + 1]
            wk, wk1 = d21 * (d11 * c0 - c1), d21 * (d22 * c1 - c0)
            upd = w[k + 2:, k + 2:] - c0[:, None] * wk[None, :] - c1[:, None] * wk1[None, :]
            w[k + 2:, k + 2:] = xp.tril(upd) + _mT(xp.tril(upd, -1))
            w[k + 2:, k], w[k + 2:, k + 1] = wk, wk1
        if step == 1:
            piv[k] = kp + 1
        else:
            piv[k] = piv[k + 1] = -(kp + 1)
        k += step
    return xp.tril(w), piv, info


def ldl_solve_arrays(xp: Any, ld: Any, piv: Any, b: Any) -> Any:
    """X with A X = B from one ``ldl_arrays`` factorisation (ld (n, n), piv (n,) on the host)
    and B (n, r), by LAPACK's sytrs: first L D Y = B, the swaps and block eliminations in
    their order (k up), then Lᵀ X = Y in reverse (k down)."""
    n = ld.shape[-1]
    x = b.copy()

    def swap(i: int, j: int) -> None:
        if i != j:
            x[[i, j]] = x[[j, i]]

    k = 0
    while k < n:
        if piv[k] > 0:
            swap(k, int(piv[k]) - 1)
            x[k + 1:] -= ld[k + 1:, k, None] * x[k][None, :]
            x[k] = x[k] / ld[k, k]
            k += 1
        else:
            swap(k + 1, -int(piv[k]) - 1)
            x[k + 2:] -= ld[k + 2:, k, None] * x[k][None, :]
            x[k + 2:] -= ld[k + 2:, k + 1, None] * x[k + 1][None, :]
            d21 = ld[k + 1, k]
            d11, d22 = ld[k, k] / d21, ld[k + 1, k + 1] / d21
            denom = d11 * d22 - 1
            b0, b1 = x[k] / d21, x[k + 1] / d21
            x[k], x[k + 1] = (d22 * b0 - b1) / denom, (d11 * b1 - b0) / denom
            k += 2
    k = n - 1
    while k >= 0:
        if piv[k] > 0:
            if k < n - 1:
                x[k] -= (_mT(ld[k + 1:, k, None]) @ x[k + 1:])[0]
            swap(k, int(piv[k]) - 1)
            k -= 1
        else:
            if k < n - 1:
                x[k] -= (_mT(ld[k + 1:, k, None]) @ x[k + 1:])[0]
                x[k - 1] -= (_mT(ld[k + 1:, k - 1, None]) @ x[k + 1:])[0]
            swap(k, -int(piv[k]) - 1)
            k -= 2
    return x


class LdlFactor(_NoDerivative):
    """LD of a batch of symmetric matrices (``ldl_arrays``, one matrix at a time); the pivots
    and info (integers, no gradient) go into ``box``."""

    name = "linalg_ldl_factor_ex"

    def forward(self, x: Any, box: dict[str, Any]) -> Any:
        xp = self.xp
        n, count = x.shape[-1], math.prod(x.shape[:-2])
        flat = x.reshape(count, n, n)
        parts = [ldl_arrays(xp, m) for m in flat]
        ld = xp.stack([p[0] for p in parts]) if parts else flat.copy()
        piv = xp.stack([p[1] for p in parts]) if parts else xp.zeros((0, n), dtype=np.int32)
        info = xp.zeros(len(parts), dtype=np.int32)
        for i, p in enumerate(parts):
            info[i] = p[2]
        box["pivots"], box["info"] = piv.reshape(x.shape[:-1]), info.reshape(x.shape[:-2])
        return ld.reshape(x.shape)


class LdlSolve(_NoDerivative):
    """X with A X = B from A's ``LdlFactor`` (LD and pivots, batch axes already broadcast
    with B's) (``ldl_solve_arrays``, one matrix at a time)."""

    name = "linalg_ldl_solve"

    def forward(self, ld: Any, b: Any, piv: Any = None) -> Any:
        xp = self.xp
        n, count = ld.shape[-1], math.prod(ld.shape[:-2])
        host = np.asarray(piv.get() if hasattr(piv, "get") else piv).reshape(count, n)
        lds, bs = ld.reshape(count, n, n), b.reshape(count, *b.shape[-2:])
        out = [ldl_solve_arrays(xp, m, p, r) for m, p, r in zip(lds, host, bs)]
        return xp.stack(out).reshape(b.shape) if out else b.copy()
