"""``tr.linalg``, as ``torch.linalg``: norms, determinants, inverses, linear solves and the
Cholesky and symmetric eigen decompositions of (batches of) matrices, all differentiable.

Matrices are the last two axes; any axes before them are a batch (they broadcast where two
operands meet, as in ``solve``). The ops with a backward of their own (``Inv``, ``Solve``,
``Det``, ``Slogdet``, ``Cholesky``, ``Eigh``, ``Svd``, ``Svdvals``, ``Pinv``, ``QR``) live in
``ops/linalg.py``; the rest here are compositions of tensor ops. All are differentiable
twice (``create_graph=True``; ``det`` there for an invertible matrix).

    L = tr.linalg.cholesky(cov)                       # cov = L Lᵀ
    x = tr.linalg.solve_triangular(L, b, upper=False)  # L x = b
    logdet = 2 * L.diagonal(dim1=-2, dim2=-1).log().sum(-1)

Not here: ``eig`` and ``eigvals`` (non-symmetric: complex results, which this framework has
no dtype for) and the ``*_ex`` variants.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np

from .ops.linalg import (
    QR,
    Cholesky,
    Det,
    Eigh,
    Inv,
    MatrixExp,
    Pinv,
    Slogdet,
    Solve,
    Svd,
    Svdvals,
    matmul,
)
from .tensor import Tensor

__all__ = ["cholesky", "cross", "det", "diagonal", "eigh", "eigvalsh", "householder_product",
           "inv", "logdet", "lstsq", "matmul", "matrix_exp", "matrix_norm", "matrix_power",
           "matrix_rank", "multi_dot", "norm", "pinv", "qr", "slogdet", "solve",
           "solve_triangular", "svd", "svdvals", "vecdot", "vector_norm"]


class SlogdetResult(NamedTuple):
    sign: Tensor
    logabsdet: Tensor


class QRResult(NamedTuple):
    Q: Tensor
    R: Tensor


class LstsqResult(NamedTuple):
    solution: Tensor
    residuals: Tensor
    rank: Tensor
    singular_values: Tensor


class SVDResult(NamedTuple):
    U: Tensor
    S: Tensor
    Vh: Tensor


class SVDVResult(NamedTuple):
    """``torch.svd``'s result (``Tensor.svd``): V where ``linalg.svd`` gives Vh = Vᵀ."""

    U: Tensor
    S: Tensor
    V: Tensor


class EighResult(NamedTuple):
    eigenvalues: Tensor
    eigenvectors: Tensor


def _matrices(name: str, A: Any, square: bool = True) -> Tensor:
    """``A``, checked: a floating-point Tensor of at least two axes, square if asked."""
    if not isinstance(A, Tensor):
        raise TypeError(f"linalg.{name}: expected a Tensor, got {type(A).__name__}")
    if A.ndim < 2 or (square and A.shape[-1] != A.shape[-2]):
        raise ValueError(f"linalg.{name}: expected a {'square ' if square else ''}matrix or a "
                         f"batch of them, (..., n, n), got shape {A.shape}")
    if A.dtype.kind != "f":
        raise TypeError(f"linalg.{name}: expected a floating-point tensor, got dtype {A.dtype}; "
                        "convert it first, e.g. A.double()")
    return A


def _run(name: str, op: Any, *inputs: Tensor) -> Any:
    """``op.apply(*inputs)``, with NumPy's ``LinAlgError`` made into a message that says which
    function, on what shape, and why. (CuPy raises nothing: it gives NaN or inf there.)"""
    try:
        return op.apply(*inputs)
    except ValueError as e:  # numpy.linalg.LinAlgError is a ValueError
        if "LinAlgError" not in type(e.__cause__).__name__:
            raise
        why = ("is not positive-definite, so it has no Cholesky factor" if op is Cholesky
               else "is singular, so it has no inverse")
        raise ValueError(f"linalg.{name}: A (shape {inputs[0].shape}) {why}") from None


def inv(A: Tensor) -> Tensor:
    """A⁻¹ of a square matrix or a batch of them; a singular one raises ValueError."""
    return _run("inv", Inv, _matrices("inv", A))


def det(A: Tensor) -> Tensor:
    """det A, of shape A.shape[:-2]. Its gradient is adj(A)ᵀ, defined for a singular A too."""
    return Det.apply(_matrices("det", A))


def slogdet(A: Tensor) -> SlogdetResult:
    """(sign, logabsdet) with det A = sign · exp(logabsdet): the log of a determinant that
    would overflow or underflow (sign 0 and logabsdet -inf for a singular A)."""
    sign, logabsdet = Slogdet.apply(_matrices("slogdet", A))
    return SlogdetResult(sign, logabsdet)


def logdet(A: Tensor) -> Tensor:
    """log det A: NaN (of gradient 0) where det A < 0, -inf where it is 0, as
    ``torch.logdet``."""
    from .ops.elementwise import where

    sign, logabsdet = slogdet(A)
    return where(sign < 0, math.nan, logabsdet)


def _is_vector_rhs(A: Tensor, B: Tensor) -> bool:
    """Whether B is a (batch of) vector(s) for A, by PyTorch's rule: 1-D, or A's shape less
    its last axis."""
    return B.ndim == 1 or (B.ndim == A.ndim - 1 and B.shape == A.shape[:-1])


def solve(A: Tensor, B: Tensor, *, left: bool = True) -> Tensor:
    """X with A X = B (X A = B for ``left=False``), without forming A⁻¹: B is a batch of
    matrices (..., n, k) or of vectors (..., n) (1-D, or A's shape less its last axis).
    The batch axes broadcast."""
    A = _matrices("solve", A)
    if not isinstance(B, Tensor):
        raise TypeError(f"linalg.solve: B must be a Tensor, got {type(B).__name__}")
    if B.dtype != A.dtype:
        raise TypeError(f"linalg.solve: A and B have different dtypes ({A.dtype} and "
                        f"{B.dtype}); convert one to the other's")
    n = A.shape[-1]
    vector = _is_vector_rhs(A, B)
    if not left:
        if vector or B.ndim < 2 or B.shape[-1] != n:
            raise ValueError(f"linalg.solve: with left=False, A of shape {A.shape} needs B of "
                             f"shape (..., k, {n}), got {B.shape}")
        return solve(A.mT, B.mT).mT
    if vector:
        B = B.unsqueeze(-1)
    if B.ndim < 2 or B.shape[-2] != n:
        raise ValueError(f"linalg.solve: A of shape {A.shape} needs B of shape (..., {n}) or "
                         f"(..., {n}, k), got {B.shape if not vector else B.shape[:-1]}")
    batch = tuple(_broadcast(A.shape[:-2], B.shape[:-2], "solve"))
    A = A if A.shape[:-2] == batch else A.broadcast_to(batch + A.shape[-2:])
    B = B if B.shape[:-2] == batch else B.broadcast_to(batch + B.shape[-2:])
    X = _run("solve", Solve, A, B)
    return X.squeeze(-1) if vector else X


def _broadcast(a: tuple[int, ...], b: tuple[int, ...], name: str) -> tuple[int, ...]:
    from .ops.movement import broadcast_shapes

    try:
        return tuple(broadcast_shapes(a, b))
    except ValueError:
        raise ValueError(f"linalg.{name}: the batch shapes {a} and {b} do not broadcast") \
            from None


def solve_triangular(A: Tensor, B: Tensor, *, upper: bool, left: bool = True,
                     unitriangular: bool = False) -> Tensor:
    """X with A X = B (X A = B for ``left=False``) for a triangular A: only A's upper
    (``upper=True``) or lower triangle is read, and its diagonal taken as ones if
    ``unitriangular``; the gradient reaches that triangle only. B is a batch of matrices."""
    A = _matrices("solve_triangular", A)
    if not isinstance(B, Tensor) or B.ndim < 2:
        raise ValueError("linalg.solve_triangular: B must be a matrix or a batch of them, got "
                         f"{getattr(B, 'shape', type(B).__name__)}")
    if unitriangular:
        T = A.triu(1) if upper else A.tril(-1)
        T = T + Tensor._wrap(T._dev.xp.eye(A.shape[-1], dtype=A.dtype), T._dev)
    else:
        T = A.triu() if upper else A.tril()
    return solve(T, B, left=left)


def cholesky(A: Tensor, *, upper: bool = False) -> Tensor:
    """L, lower-triangular with a positive diagonal, with A = L Lᵀ for a symmetric positive-
    definite A (only its lower triangle is read); with ``upper``, U = Lᵀ (A = Uᵀ U, only the
    upper triangle read), as PyTorch's. A matrix that is not positive-definite raises
    ValueError."""
    A = _matrices("cholesky", A)
    if upper:  # A's upper triangle is Aᵀ's lower one
        return _run("cholesky", Cholesky, A.mT).mT
    return _run("cholesky", Cholesky, A)


def qr(A: Tensor, mode: str = "reduced") -> QRResult:
    """(Q, R) with A = Q R, Q's columns orthonormal and R upper-triangular (signs as LAPACK's,
    as PyTorch's on the CPU), of a matrix (m, n) or a batch: ``"reduced"`` (Q (m, k), R (k,
    n), k = min(m, n)), ``"complete"`` (the same where m <= n), ``"r"`` (R alone, Q empty).
    Differentiable where A has full rank; a wide A is split as [X | Y] with X = Q U square,
    so R = [U | Qᵀ Y]."""
    A = _matrices("qr", A, square=False)
    if mode not in ("reduced", "complete", "r"):
        raise ValueError(f"linalg.qr: mode must be 'reduced', 'complete' or 'r', got {mode!r}")
    m, n = A.shape[-2:]
    if mode == "complete" and m > n:
        raise ValueError(f"linalg.qr: mode='complete' of a tall matrix (shape {A.shape}) is not "
                         "supported here; 'reduced' gives its first n columns of Q")
    if m >= n:
        Q, R = QR.apply(A)
    else:
        from .ops.movement import cat

        Q, U = QR.apply(A[..., :m])
        R = cat([U, Q.mT @ A[..., m:]], -1)
    if mode == "r":
        return QRResult(Tensor._wrap(A._dev.xp.zeros((0,), dtype=A.dtype), A._dev), R)
    return QRResult(Q, R)


def _tolerances(A: Tensor, atol: Any, rtol: Any) -> tuple[Any, Any]:
    """PyTorch's rank tolerance, as arrays of shape (..., 1) (or numbers): a singular value
    counts if above max(atol, rtol · σ_max). Unset, atol is 0 and rtol is eps · max(m, n)
    (eps of A's dtype); an atol above 0 alone makes rtol 0. Either may be a tensor, one value
    per matrix of the batch."""

    def array(v: Any) -> Any:
        return v._data[..., None] if isinstance(v, Tensor) else v

    if rtol is None:
        rtol = float(np.finfo(A.dtype).eps) * max(A.shape[-2:])
        if atol is not None:  # (each matrix's own, for a tensor of them)
            rtol = A._dev.xp.where(A._dev.xp.asarray(array(atol)) > 0, 0.0, rtol)
    return (0.0 if atol is None else array(atol)), array(rtol)


def pinv(A: Tensor, *, atol: Any = None, rtol: Any = None, hermitian: bool = False
         ) -> Tensor:
    """The Moore-Penrose pseudo-inverse A⁺ (n, m) of A (..., m, n), as ``torch.linalg.pinv``:
    V diag(1/s) Uᵀ from the SVD, with the singular values at or below max(atol, rtol · σ_max)
    taken as 0 (``_tolerances``), so a rank-deficient A is fine. ``hermitian=True`` reads the
    lower triangle of a symmetric A and uses its eigendecomposition. Differentiable twice,
    where small changes of A keep its rank (``Pinv``)."""
    A = _matrices("pinv", A, square=hermitian)
    atol, rtol = _tolerances(A, atol, rtol)
    return Pinv.apply(A, atol=atol, rtol=rtol, hermitian=hermitian)


_LSTSQ_DRIVERS = ("gels", "gelsy", "gelsd", "gelss")


def lstsq(A: Tensor, B: Tensor, rcond: float | None = None, *,
          driver: str | None = None) -> LstsqResult:
    """The X that minimises ‖A X - B‖, the one of least norm where several do (A wide or
    rank-deficient), for A (..., m, n) and B (..., m, k), batches broadcast: X = A⁺ B with A's
    singular values at or below rcond · σ_max dropped (``pinv``; rcond defaults to eps ·
    max(m, n)). Differentiable in A and B, with PyTorch's gradient (that of A⁺ B).

    The other fields follow PyTorch's CPU drivers: ``rank`` for all but "gels";
    ``singular_values`` for "gelsd" and "gelss"; ``residuals``, the squared error per column
    of B, for all but "gelsy" (the default) where m > n and every A has full rank. Empty
    tensors where not given. (Where PyTorch's "gels" assumes full rank and gives a meaningless
    X otherwise, this gives the least-norm one.)"""
    A = _matrices("lstsq", A, square=False)
    if not isinstance(B, Tensor) or B.ndim < 2 or B.shape[-2] != A.shape[-2]:
        raise ValueError(f"linalg.lstsq: A of shape {A.shape} needs B of shape "
                         f"(..., {A.shape[-2]}, k), got {getattr(B, 'shape', type(B).__name__)}")
    if B.dtype != A.dtype:
        raise TypeError(f"linalg.lstsq: A and B have different dtypes, {A.dtype} and {B.dtype}")
    _broadcast(A.shape[:-2], B.shape[:-2], "lstsq")
    driver = "gelsy" if driver is None else driver
    if driver not in _LSTSQ_DRIVERS:
        raise ValueError(f"linalg.lstsq: driver must be one of {_LSTSQ_DRIVERS} (or None), got "
                         f"{driver!r}")
    X = pinv(A, rtol=rcond) @ B
    xp, dev = A._dev.xp, A._dev
    m, n = A.shape[-2:]
    empty = Tensor._wrap(xp.zeros((0,), dtype=A.dtype), dev)
    rank = matrix_rank(A, rtol=rcond)
    s = svdvals(A.detach()) if driver in ("gelsd", "gelss") else empty
    residuals = empty
    if driver != "gelsy" and m > n and bool((rank == n).all()):
        residuals = ((A @ X - B) ** 2).sum(-2)
    if driver == "gels":
        rank = Tensor._wrap(xp.zeros((0,), dtype=np.int64), dev)
    return LstsqResult(X, residuals, rank, s)


def eigh(A: Tensor, UPLO: str = "L") -> EighResult:  # noqa: N803 (PyTorch's name)
    """(eigenvalues ascending, eigenvectors as columns) of a symmetric A, of which only the
    lower (``UPLO="L"``) or upper (``"U"``) triangle is read. The eigenvectors' signs are
    LAPACK's (as PyTorch's on the CPU); their gradient needs distinct eigenvalues."""
    A = _matrices("eigh", A)
    if UPLO not in ("L", "U"):
        raise ValueError(f"linalg.eigh: UPLO must be 'L' or 'U', got {UPLO!r}")
    w, v = Eigh.apply(A if UPLO == "L" else A.mT)  # U's upper triangle is Uᵀ's lower one
    return EighResult(w, v)


def eigvalsh(A: Tensor, UPLO: str = "L") -> Tensor:
    """The eigenvalues of a symmetric A, ascending (``eigh``'s first half)."""
    return eigh(A, UPLO).eigenvalues


def svdvals(A: Tensor) -> Tensor:
    """The singular values of a (batch of) (m, n) matrices, descending: min(m, n) of them."""
    return Svdvals.apply(_matrices("svdvals", A, square=False))


def svd(A: Tensor, full_matrices: bool = True, *, driver: str | None = None) -> SVDResult:
    """(U, S, Vh) with A = U diag(S) Vh, as ``torch.linalg.svd``: S descending, of min(m, n)
    values; U (..., m, m) and Vh (..., n, n) with ``full_matrices``, else the reduced
    (..., m, k) and (..., k, n). Signs as LAPACK's (PyTorch's on the CPU). Differentiable
    twice (``Svd``): through U and Vh where the singular values are distinct (nonzero where
    m ≠ n); the columns that only complete U or Vh get no gradient. ``driver`` names one of
    cuSOLVER's methods in PyTorch; here it is checked and the array library's SVD is used."""
    A = _matrices("svd", A, square=False)
    if driver not in (None, "gesvd", "gesvdj", "gesvda"):
        raise ValueError(f"linalg.svd: driver must be None, 'gesvd', 'gesvdj' or 'gesvda', got "
                         f"{driver!r}")
    return SVDResult(*Svd.apply(A, full_matrices=full_matrices))


def matrix_rank(A: Tensor, tol: Any = None, hermitian: bool = False, *,
                atol: Any = None, rtol: Any = None) -> Tensor:
    """The number of singular values above the tolerance max(atol, rtol · σ_max), int64, one
    per matrix (``_tolerances``: by default atol = 0 and rtol = eps · max(m, n), as PyTorch's;
    ``tol`` is the older name for atol). ``hermitian=True`` counts the eigenvalues of a
    symmetric A (its lower triangle) by their absolute value instead."""
    A = _matrices("matrix_rank", A, square=hermitian)
    if tol is not None:
        atol = tol
    atol, rtol = _tolerances(A, atol, rtol)
    xp = A._dev.xp
    s = xp.abs(xp.linalg.eigvalsh(A._data)) if hermitian else svdvals(A.detach())._data
    top = s.max(-1, keepdims=True) if s.shape[-1] else s
    count = (s > xp.maximum(atol, rtol * top)).sum(-1)
    return Tensor._wrap(xp.asarray(count, dtype=np.int64), A._dev)


def _dims(x: Tensor, dim: int | Sequence[int] | None) -> tuple[int, ...] | None:
    if dim is None:
        return None
    return (dim,) if isinstance(dim, int) else tuple(dim)


def vector_norm(x: Tensor, ord: float = 2, dim: int | Sequence[int] | None = None,
                keepdim: bool = False, *, dtype: Any = None) -> Tensor:
    """(Σ |x|^ord)^(1/ord) over ``dim`` (every element by default: x taken as one vector);
    max |x| for ord = inf, min |x| for -inf, the count of nonzeros for 0. The gradient at
    x = 0 is 0, as PyTorch's."""
    if not isinstance(x, Tensor):
        raise TypeError(f"linalg.vector_norm: expected a Tensor, got {type(x).__name__}")
    if dtype is not None:
        x = x.to(dtype)
    axes = _dims(x, dim)
    if isinstance(ord, (int, float)) and 0 > ord > -math.inf:  # Tensor.norm takes ord >= 0
        from .ops.elementwise import where

        # a zero entry makes Σ |x|^ord infinite and the norm 0, of gradient 0 (as PyTorch's):
        # it is kept out of the power, so no inf (nor NaN gradient) enters the graph
        zero = x == 0
        norm = where(zero, 1, x.abs()).pow(ord).sum(axes, keepdim).pow(1 / ord)
        return where(zero.any(axes, keepdim), 0, norm)
    return x.norm(ord, axes, keepdim)


def matrix_norm(A: Tensor, ord: float | str = "fro", dim: Sequence[int] = (-2, -1),
                keepdim: bool = False, *, dtype: Any = None) -> Tensor:
    """A matrix norm over the two axes ``dim``: ``"fro"`` (√Σ a²), ``"nuc"`` (Σ σ), 2 / -2
    (largest / smallest singular value), inf / -inf (max / min row sum of |a|), 1 / -1 (max /
    min column sum of |a|)."""
    A = _matrices("matrix_norm", A, square=False)
    if dtype is not None:
        A = A.to(dtype)
    d = tuple(dim)
    if len(d) != 2 or d[0] % A.ndim == d[1] % A.ndim:
        raise ValueError(f"linalg.matrix_norm: dim must name two different axes, got {dim}")
    rows, cols = (a % A.ndim for a in d)
    if ord == "fro":
        return A.norm(2, (rows, cols), keepdim)
    if ord in ("nuc", 2, -2):
        s = svdvals(A.movedim((rows, cols), (-2, -1)))
        out = s.sum(-1) if ord == "nuc" else s.amax(-1) if ord == 2 else s.amin(-1)
    elif ord in (math.inf, -math.inf, 1, -1):
        along, over = (cols, rows) if ord in (math.inf, -math.inf) else (rows, cols)
        sums = A.abs().sum(along, keepdim=True)
        out = sums.amax(over, keepdim=True) if ord > 0 else sums.amin(over, keepdim=True)
        return out if keepdim else out.squeeze((rows, cols))
    else:
        raise ValueError(f"linalg.matrix_norm: ord must be 'fro', 'nuc', 2, -2, 1, -1, inf or "
                         f"-inf, got {ord!r}")
    if keepdim:
        out = out.unsqueeze(min(rows, cols)).unsqueeze(max(rows, cols))
    return out


def norm(A: Tensor, ord: float | str | None = None, dim: int | Sequence[int] | None = None,
         keepdim: bool = False, *, dtype: Any = None) -> Tensor:
    """``vector_norm`` or ``matrix_norm``, as ``torch.linalg.norm`` chooses: an int ``dim``
    (or a 1-D A) means a vector norm, two axes (or a 2-D A with ``ord`` given) a matrix norm;
    without ``ord`` and ``dim`` it is the 2-norm of all elements."""
    if not isinstance(A, Tensor):
        raise TypeError(f"linalg.norm: expected a Tensor, got {type(A).__name__}")
    axes = _dims(A, dim)
    if axes is None and ord is not None:
        if A.ndim not in (1, 2):
            raise ValueError(f"linalg.norm: with ord={ord!r} and no dim, A must be 1-D or 2-D, "
                             f"got shape {A.shape}")
        axes = tuple(range(A.ndim))
    if axes is not None and len(axes) == 2:
        return matrix_norm(A, "fro" if ord is None else ord, axes, keepdim, dtype=dtype)
    if isinstance(ord, str):
        raise ValueError(f"linalg.norm: ord={ord!r} is a matrix norm; give two axes in dim")
    return vector_norm(A, 2 if ord is None else ord, axes, keepdim, dtype=dtype)


def householder_product(A: Tensor, tau: Tensor) -> Tensor:
    """The first n columns of H_1 H_2 ... H_k, H_i = I - tau_i v_i v_iᵀ, where v_i is column i
    of A (m, n) below the diagonal with a 1 on it (zeros above), for tau of length k <= n <= m:
    how LAPACK's QR (``numpy.linalg.qr(mode="raw")``) stores Q. A composition (one rank-1
    update per reflector, applied to the identity's columns last first), so differentiable in
    A and tau."""
    A = _matrices("householder_product", A, square=False)
    m, n = A.shape[-2:]
    if not (isinstance(tau, Tensor) and tau.ndim >= 1 and tau.shape[-1] <= n <= m
            and tau.shape[:-1] == A.shape[:-2]):
        raise ValueError(f"linalg.householder_product: A of shape {A.shape} (m >= n) needs tau "
                         f"of shape {A.shape[:-2]} + (k,) with k <= {n}, got "
                         f"{getattr(tau, 'shape', type(tau).__name__)}")
    xp = A._dev.xp
    eye = Tensor._wrap(xp.eye(m, n, dtype=A.dtype), A._dev)
    V = A.tril(-1) + eye
    Q = A * 0 + eye + (tau.sum(-1) * 0)[..., None, None]  # (joined to both graphs)
    for i in reversed(range(tau.shape[-1])):
        v = V[..., :, i:i + 1]
        Q = Q - tau[..., i, None, None] * (v @ (v.mT @ Q))
    return Q


def matrix_exp(A: Tensor) -> Tensor:
    """exp(A) = Σ_k A^k / k! of a square matrix or a batch of them (exp of a skew-symmetric
    matrix is orthogonal: ``nn.utils.parametrizations.orthogonal`` uses that)."""
    return MatrixExp.apply(_matrices("matrix_exp", A))


def matrix_power(A: Tensor, n: int) -> Tensor:
    """A^n for an integer n by repeated squaring (about 2 log2 |n| matmuls): the identity for
    n = 0, inv(A)^|n| for n < 0."""
    A = _matrices("matrix_power", A)
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"linalg.matrix_power: n must be an int, got {n!r}")
    if n == 0:  # I, joined to A's graph (with a zero gradient), as PyTorch's
        return A * 0 + Tensor._wrap(A._dev.xp.eye(A.shape[-1], dtype=A.dtype), A._dev)
    base, n = (_run("matrix_power", Inv, A), -n) if n < 0 else (A, n)
    out = None
    while n:
        if n & 1:
            out = base if out is None else matmul(out, base)
        n >>= 1
        if n:
            base = matmul(base, base)
    return out


def multi_dot(tensors: Sequence[Tensor]) -> Tensor:
    """The product of a chain of matrices, left to right; the first may be 1-D (a row) and the
    last 1-D (a column), as ``torch.linalg.multi_dot``."""
    ts = list(tensors)
    if len(ts) < 2:
        raise ValueError(f"linalg.multi_dot: expected at least 2 tensors, got {len(ts)}")
    for k, t in enumerate(ts):
        if t.ndim != 2 and not (t.ndim == 1 and k in (0, len(ts) - 1)):
            raise ValueError(f"linalg.multi_dot: tensor {k} has shape {t.shape}; all must be "
                             "2-D, except the first and last, which may be 1-D")
    out = ts[0]
    for t in ts[1:]:
        out = matmul(out, t)
    return out


def cross(a: Tensor, b: Tensor, *, dim: int = -1) -> Tensor:
    """a × b along ``dim`` (size 3), the other axes broadcast: (a1 b2 - a2 b1, a2 b0 - a0 b2,
    a0 b1 - a1 b0)."""
    if a.ndim == 0 or b.ndim == 0 or a.shape[dim] != 3 or b.shape[dim] != 3:
        raise ValueError(f"linalg.cross: dim {dim} must have size 3 in both, got shapes "
                         f"{a.shape} and {b.shape}")
    a0, a1, a2 = a.unbind(dim)
    b0, b1, b2 = b.unbind(dim)
    from .ops.movement import stack

    return stack([a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, a0 * b1 - a1 * b0], dim)


def vecdot(x: Tensor, y: Tensor, *, dim: int = -1) -> Tensor:
    """Σ x y along ``dim``, the other axes broadcast."""
    return (x * y).sum(dim)


def diagonal(A: Tensor, *, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
    """The ``offset``-th diagonals of the matrices in ``dim1``, ``dim2`` (a view)."""
    return A.diagonal(offset, dim1, dim2)
