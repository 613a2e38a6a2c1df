"""``tr.linalg``, as ``torch.linalg``: norms, determinants, inverses, linear solves and the
Cholesky and symmetric eigen decompositions of (batches of) matrices, all differentiable.

Matrices are the last two axes; any axes before them are a batch (they broadcast where two
operands meet, as in ``solve``). The ops with a backward of their own (``Inv``, ``Solve``,
``Det``, ``Slogdet``, ``Cholesky``, ``Eigh``, ``Eig``, ``Svd``, ``Svdvals``, ``Pinv``, ``QR``,
``LU``) live in ``ops/linalg.py``; the rest here are compositions of tensor ops. All are
differentiable twice (``create_graph=True``; ``det`` there for an invertible matrix).

    L = tr.linalg.cholesky(cov)                       # cov = L Lᵀ
    x = tr.linalg.solve_triangular(L, b, upper=False)  # L x = b
    logdet = 2 * L.diagonal(dim1=-2, dim2=-1).log().sum(-1)

The ``*_ex`` forms (``inv_ex``, ``solve_ex``, ``cholesky_ex``, ``lu_factor_ex``,
``ldl_factor_ex``) report a failed matrix in ``info`` instead of raising ``LinAlgError``.
Complex matrices (Hermitian where the real ones must be symmetric) go through ``inv``, ``det``,
``slogdet``, ``logdet``, ``solve``, ``solve_triangular``, ``cholesky`` (and its solves),
``qr``, ``eigh``, ``svd``, ``svdvals``, ``pinv``, ``lstsq``, ``matrix_exp``, ``matrix_power``,
``cond``, ``lu`` and its solve, the ``*_ex`` forms and the norms with PyTorch's complex
gradients. ``eig`` and ``eigvals`` of a general matrix give complex tensors, differentiable
too; ``geqrf``, ``ldl_factor`` and ``ldl_solve`` have no derivative, as in PyTorch.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np

from .ops.linalg import (
    LU,
    QR,
    Cholesky,
    Det,
    Eig,
    Eigh,
    Geqrf,
    Inv,
    LdlFactor,
    LdlSolve,
    MatrixExp,
    Pinv,
    QRComplete,
    Slogdet,
    Solve,
    Svd,
    Svdvals,
    lu_arrays,
    matmul,
    permutation_of,
)
from .tensor import DTypeError, Tensor, torch_args, torch_names

__all__ = ["LinAlgError", "cholesky", "cholesky_ex", "cond", "cross", "det", "diagonal",
           "eig", "eigh", "eigvals", "eigvalsh", "householder_product", "inv", "inv_ex",
           "ldl_factor", "ldl_factor_ex", "ldl_solve", "logdet", "lstsq", "lu",
           "lu_factor", "lu_factor_ex", "lu_solve", "matmul", "matrix_exp", "matrix_norm",
           "matrix_power", "matrix_rank", "multi_dot", "norm", "pinv", "qr", "slogdet", "solve",
           "solve_ex", "solve_triangular", "svd", "svdvals", "tensorinv", "tensorsolve",
           "vander", "vecdot", "vector_norm"]


class LinAlgError(ValueError):
    """A matrix the function cannot take (singular, not positive-definite), as
    ``torch.linalg.LinAlgError``; a ValueError here (PyTorch's is a RuntimeError), like every
    error about a bad input in this framework."""


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


class LUResult(NamedTuple):
    P: Tensor
    L: Tensor
    U: Tensor


class LUFactorResult(NamedTuple):
    LU: Tensor
    pivots: Tensor


class LUFactorExResult(NamedTuple):
    LU: Tensor
    pivots: Tensor
    info: Tensor


class InvExResult(NamedTuple):
    inverse: Tensor
    info: Tensor


class CholeskyExResult(NamedTuple):
    L: Tensor
    info: Tensor


class SolveExResult(NamedTuple):
    result: Tensor
    info: Tensor


class EighResult(NamedTuple):
    eigenvalues: Tensor
    eigenvectors: Tensor


class EigResult(NamedTuple):
    eigenvalues: Tensor
    eigenvectors: Tensor


class GeqrfResult(NamedTuple):
    a: Tensor
    tau: Tensor


class LDLFactorResult(NamedTuple):
    LD: Tensor
    pivots: Tensor


class LDLFactorExResult(NamedTuple):
    LD: Tensor
    pivots: Tensor
    info: Tensor


def _matrices(name: str, A: Any, square: bool = True, complex_ok: bool = False) -> Tensor:
    """``A``, checked: a floating-point (or, if ``complex_ok``, complex) Tensor of at least
    two axes, square if asked."""
    if not isinstance(A, Tensor):
        raise TypeError(f"linalg.{name}: expected a Tensor, got {type(A).__name__}")
    if A.ndim < 2 or (square and A.shape[-1] != A.shape[-2]):
        raise ValueError(f"linalg.{name}: expected a {'square ' if square else ''}matrix or a "
                         f"batch of them, (..., n, n), got shape {A.shape}")
    if A.dtype.kind != "f" and not (complex_ok and A.dtype.kind == "c"):
        raise DTypeError(f"linalg.{name}: expected a floating-point tensor, got dtype {A.dtype}; "
                         "convert it first, e.g. A.double()")
    return A


def _run(name: str, op: Any, *inputs: Tensor, **kwargs: Any) -> Any:
    """``op.apply(*inputs, **kwargs)``, with NumPy's ``LinAlgError`` made into a message that
    says which function, on what shape, and why. (CuPy raises nothing: it gives NaN or inf
    there.)"""
    try:
        return op.apply(*inputs, **kwargs)
    except ValueError as e:  # numpy.linalg.LinAlgError is a ValueError
        if "LinAlgError" not in type(e.__cause__).__name__:
            raise
        why = ("is not positive-definite, so it has no Cholesky factor" if op is Cholesky
               else "is singular, so it has no inverse")
        raise LinAlgError(f"linalg.{name}: A (shape {inputs[0].shape}) {why}") from None


def inv(A: Tensor) -> Tensor:
    """A⁻¹ of a square matrix or a batch of them; a singular one raises ValueError."""
    return _run("inv", Inv, _matrices("inv", A, complex_ok=True))


def det(A: Tensor) -> Tensor:
    """det A, of shape A.shape[:-2]. Its gradient is adj(A)ᵀ, defined for a singular A too."""
    return Det.apply(_matrices("det", A, complex_ok=True))


def slogdet(A: Tensor) -> SlogdetResult:
    """(sign, logabsdet) with det A = sign · exp(logabsdet): the log of a determinant that
    would overflow or underflow (sign 0 and logabsdet -inf for a singular A)."""
    sign, logabsdet = Slogdet.apply(_matrices("slogdet", A, complex_ok=True))
    return SlogdetResult(sign, logabsdet)


def logdet(A: Tensor) -> Tensor:
    """log det A: NaN (of gradient 0) where det A < 0, -inf where it is 0, as
    ``torch.logdet``; for a complex A the principal log, logabsdet + i arg(det A)."""
    from .ops.elementwise import where

    sign, logabsdet = slogdet(A)
    if sign.dtype.kind == "c":
        return logabsdet + sign.angle() * 1j
    return where(sign < 0, math.nan, logabsdet)


def _is_vector_rhs(A: Tensor, B: Tensor) -> bool:
    """Whether B is a (batch of) vector(s) for A, by PyTorch's rule: 1-D, or A's shape less
    its last axis."""
    return B.ndim == 1 or (B.ndim == A.ndim - 1 and B.shape == A.shape[:-1])


def solve(A: Tensor, B: Tensor, *, left: bool = True) -> Tensor:
    """X with A X = B (X A = B for ``left=False``), without forming A⁻¹: B is a batch of
    matrices (..., n, k) or of vectors (..., n) (1-D, or A's shape less its last axis).
    The batch axes broadcast."""
    A = _matrices("solve", A, complex_ok=True)
    if not isinstance(B, Tensor):
        raise TypeError(f"linalg.solve: B must be a Tensor, got {type(B).__name__}")
    if B.dtype != A.dtype:
        raise DTypeError(f"linalg.solve: A and B have different dtypes ({A.dtype} and "
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
    A = _matrices("solve_triangular", A, complex_ok=True)
    if not isinstance(B, Tensor) or B.ndim < 2:
        raise ValueError("linalg.solve_triangular: B must be a matrix or a batch of them, got "
                         f"{getattr(B, 'shape', type(B).__name__)}")
    if unitriangular:
        T = A.triu(1) if upper else A.tril(-1)
        T = T + Tensor._wrap(T._dev.xp.eye(A.shape[-1], dtype=A.dtype), T._dev)
    else:
        T = A.triu() if upper else A.tril()
    # B is matrices here, never solve's batch of vectors: both brought to one batch shape
    batch = _broadcast(T.shape[:-2], B.shape[:-2], "solve_triangular")
    return solve(T.expand(*batch, *T.shape[-2:]), B.expand(*batch, *B.shape[-2:]), left=left)


def cholesky(A: Tensor, *, upper: bool = False) -> Tensor:
    """L, lower-triangular with a positive diagonal, with A = L Lᵀ for a symmetric positive-
    definite A (only its lower triangle is read); with ``upper``, U = Lᵀ (A = Uᵀ U, only the
    upper triangle read), as PyTorch's. A matrix that is not positive-definite raises
    ValueError."""
    A = _matrices("cholesky", A, complex_ok=True)
    return _run("cholesky", Cholesky, A, upper=upper)


def qr(A: Tensor, mode: str = "reduced") -> QRResult:
    """(Q, R) with A = Q R, Q's columns orthonormal and R upper-triangular (signs as LAPACK's,
    as PyTorch's on the CPU), of a matrix (m, n) or a batch: ``"reduced"`` (Q (m, k), R (k,
    n), k = min(m, n)), ``"complete"`` (the same where m <= n; for a tall A, Q (m, m) and R (m,
    n), not differentiable, as PyTorch's), ``"r"`` (R alone, Q empty).
    Differentiable where A has full rank; a wide A is split as [X | Y] with X = Q U square,
    so R = [U | Qᵀ Y]."""
    A = _matrices("qr", A, square=False, complex_ok=True)
    if mode not in ("reduced", "complete", "r"):
        raise ValueError(f"linalg.qr: mode must be 'reduced', 'complete' or 'r', got {mode!r}")
    m, n = A.shape[-2:]
    if mode == "complete" and m > n:  # Q completed to (m, m): no derivative, as PyTorch's
        return QRResult(*QRComplete.apply(A))
    if m >= n:
        Q, R = QR.apply(A)
    else:
        from .ops.movement import cat

        Q, U = QR.apply(A[..., :m])
        R = cat([U, Q.mH @ A[..., m:]], -1)
    if mode == "r":  # Q empty, but of A's graph (it requires grad where A does), as PyTorch's
        return QRResult(A.reshape(-1)[:0], R)
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
    A = _matrices("pinv", A, square=hermitian, complex_ok=True)
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
    A = _matrices("lstsq", A, square=False, complex_ok=True)
    if isinstance(B, Tensor) and not 0 <= A.ndim - B.ndim <= 1:
        raise ValueError(f"linalg.lstsq: B must have as many dims as A (matrices) or one fewer "
                         f"(vectors), got A of shape {A.shape} and B of shape {B.shape}")
    # B a vector (or a batch of them): a column. PyTorch's rule here is the dims alone (not
    # solve's, which also compares the shapes)
    if isinstance(B, Tensor) and B.ndim == A.ndim - 1:
        if B.shape[-1] != A.shape[-2]:
            raise ValueError(f"linalg.lstsq: A of shape {A.shape} needs a vector B of "
                             f"length {A.shape[-2]}, got shape {B.shape}")
        r = lstsq(A, B.unsqueeze(-1), rcond, driver=driver)
        return LstsqResult(r.solution.squeeze(-1), r.residuals, r.rank, r.singular_values)
    if not isinstance(B, Tensor) or B.ndim < 2 or B.shape[-2] != A.shape[-2]:
        raise ValueError(f"linalg.lstsq: A of shape {A.shape} needs B of shape "
                         f"(..., {A.shape[-2]}, k), got {getattr(B, 'shape', type(B).__name__)}")
    if B.dtype != A.dtype:
        raise DTypeError(f"linalg.lstsq: A and B have different dtypes, {A.dtype} and {B.dtype}")
    _broadcast(A.shape[:-2], B.shape[:-2], "lstsq")
    driver = "gelsy" if driver is None else driver
    if driver not in _LSTSQ_DRIVERS:
        raise ValueError(f"linalg.lstsq: driver must be one of {_LSTSQ_DRIVERS} (or None), got "
                         f"{driver!r}")
    X = pinv(A, rtol=rcond) @ B
    xp, dev = A._dev.xp, A._dev
    m, n = A.shape[-2:]
    real = np.zeros(0, dtype=A.dtype).real.dtype
    rank = matrix_rank(A, rtol=rcond)
    s = svdvals(A.detach()) if driver in ("gelsd", "gelss") else Tensor._wrap(
        xp.zeros((0,), dtype=real), dev)
    # none given: empty, but of X's graph (it requires grad where X does), as PyTorch's
    residuals = X.reshape(-1)[:0]
    residuals = residuals.real if residuals.dtype.kind == "c" else residuals
    if driver != "gelsy" and m > n and bool((rank == n).all()):
        r = A @ X - B  # (|r|² for complex numbers: the residuals are real)
        residuals = (r.abs() ** 2 if r.dtype.kind == "c" else r**2).sum(-2)
    if driver == "gels":
        rank = Tensor._wrap(xp.zeros((0,), dtype=np.int64), dev)
    return LstsqResult(X, residuals, rank, s)


def eigh(A: Tensor, UPLO: str = "L") -> EighResult:  # noqa: N803 (PyTorch's name)
    """(eigenvalues ascending, eigenvectors as columns) of a symmetric A, of which only the
    lower (``UPLO="L"``) or upper (``"U"``) triangle is read. The eigenvectors' signs are
    LAPACK's (as PyTorch's on the CPU); their gradient needs distinct eigenvalues."""
    A = _matrices("eigh", A, complex_ok=True)
    if UPLO not in ("L", "U"):
        raise ValueError(f"linalg.eigh: UPLO must be 'L' or 'U', got {UPLO!r}")
    w, v = Eigh.apply(A if UPLO == "L" else A.mH)  # U's upper triangle is Uᵀ's lower one
    return EighResult(w, v)


def eigvalsh(A: Tensor, UPLO: str = "L") -> Tensor:
    """The eigenvalues of a symmetric A, ascending (``eigh``'s first half)."""
    return eigh(A, UPLO).eigenvalues


def svdvals(A: Tensor, *, driver: str | None = None) -> Tensor:
    """The singular values of a (batch of) (m, n) matrices, descending: min(m, n) of them.
    ``driver`` (PyTorch's choice of cuSOLVER routine, on CUDA only) changes nothing."""
    return Svdvals.apply(_matrices("svdvals", A, square=False, complex_ok=True))


def svd(A: Tensor, full_matrices: bool = True, *, driver: str | None = None) -> SVDResult:
    """(U, S, Vh) with A = U diag(S) Vh, as ``torch.linalg.svd``: S descending, of min(m, n)
    values; U (..., m, m) and Vh (..., n, n) with ``full_matrices``, else the reduced
    (..., m, k) and (..., k, n). The signs of each pair of singular vectors are the array
    library's LAPACK's, which can differ from PyTorch's (the products agree). Differentiable
    twice (``Svd``): through U and Vh where the singular values are distinct (nonzero where
    m ≠ n); the columns that only complete U or Vh get no gradient. ``driver`` names one of
    cuSOLVER's methods in PyTorch; here it is checked and the array library's SVD is used."""
    A = _matrices("svd", A, square=False, complex_ok=True)
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
    A = _matrices("matrix_rank", A, square=hermitian, complex_ok=True)
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
    if isinstance(ord, (int, float)) and (ord < 0 or ord == math.inf):
        # max, min and Σ |x|^ord with ord < 0 have no value over no elements (no identity)
        empty = [d for d in (range(x.ndim) if axes is None else axes) if x.shape[d] == 0]
        if empty or (axes is None and x.numel() == 0):
            where_ = "an empty tensor" if axes is None else f"the empty dimension {empty[0]}"
            raise ValueError(f"linalg.vector_norm: cannot compute the {ord} norm over {where_} "
                             f"(shape {x.shape}): the operation has no identity")
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
    A = _matrices("matrix_norm", A, square=False, complex_ok=True)
    if dtype is not None:
        A = A.to(dtype)
    d = tuple(dim)
    if len(d) != 2 or d[0] % A.ndim == d[1] % A.ndim:
        raise ValueError(f"linalg.matrix_norm: dim must name two different axes, got {dim}")
    rows, cols = (a % A.ndim for a in d)
    over = {2: rows, -2: rows, 1: cols, -1: cols, math.inf: rows, -math.inf: rows}.get(ord)
    if over is not None and A.shape[over] * (A.shape[rows + cols - over] if ord in (2, -2)
                                             else 1) == 0:
        # the largest or smallest of no singular values, column sums or row sums: 0 for the
        # largest (a constant), none for the smallest, as PyTorch's
        if ord < 0:
            raise ValueError(f"linalg.matrix_norm: the {ord} norm of an empty matrix (shape "
                             f"{A.shape}, dim {dim}) is the minimum of no values")
        shape = [1 if a in (rows, cols) else s for a, s in enumerate(A.shape) if keepdim or
                 a not in (rows, cols)]
        return Tensor._wrap(A._dev.xp.zeros(shape, dtype=A.real.dtype), A._dev)
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
    """The first n columns of H_1 H_2 ... H_k, H_i = I - tau_i v_i v_iᴴ, where v_i is column i
    of A (m, n) below the diagonal with a 1 on it (zeros above), for tau of length k <= n <= m:
    how LAPACK's QR (``numpy.linalg.qr(mode="raw")``) stores Q. A composition (one rank-1
    update per reflector, applied to the identity's columns last first), so differentiable in
    A and tau."""
    A = _matrices("householder_product", A, square=False, complex_ok=True)
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
        Q = Q - tau[..., i, None, None] * (v @ (v.mH @ Q))
    return Q


def orgqr(A: Tensor, tau: Tensor) -> Tensor:
    """``householder_product(A, tau)`` under LAPACK's name, as ``torch.orgqr``: Q from
    ``geqrf``'s (a, tau)."""
    return householder_product(A, tau)


def geqrf(A: Tensor) -> GeqrfResult:
    """(a, tau), LAPACK's compact QR of A (..., m, n), as ``torch.geqrf``: R on and above a's
    diagonal, below it the Householder vectors v_i (column i, its 1 on the diagonal implied)
    with A = H_1 ... H_k R, H_i = I - tau_i v_i v_iᵀ, k = min(m, n). ``householder_product``
    (``orgqr``) forms Q from them, ``ormqr`` multiplies by Q without forming it. No derivative,
    as in PyTorch (``linalg.qr`` has one)."""
    A = _matrices("geqrf", A, square=False)
    return GeqrfResult(*Geqrf.apply(A))


def ormqr(A: Tensor, tau: Tensor, other: Tensor, left: bool = True,  # noqa: N803
          transpose: bool = False) -> Tensor:
    """Q C, Qᵀ C (``transpose``), C Q or C Qᵀ (``left=False``) for C = ``other`` (..., m, n)
    and Q = H_1 ... H_k (mn × mn, mn = m if ``left`` else n) given by ``geqrf``'s (A, tau), as
    ``torch.ormqr``, without forming Q: each reflector H_i = I - tau_i v_i v_iᵀ applied in
    turn as a rank-1 update, so differentiable in A, tau and C. A is (..., mn, k'), tau
    (..., k) with k = min(mn, k'); the batch axes of the three must match.

    One step from the left, C' = C - τ v (vᵀ C), has the VJP gC = gC' - τ v (vᵀ gC'),
    gv = -τ (gC' Cᵀ v + C gC'ᵀ v), gτ = -vᵀ gC' Cᵀ v (the engine chains the steps; gv
    reaches A below its diagonal only)."""
    A = _matrices("ormqr", A, square=False)
    if not isinstance(tau, Tensor) or not isinstance(other, Tensor):
        raise TypeError("ormqr: tau and other must be Tensors")
    if other.ndim != A.ndim or tau.ndim != A.ndim - 1:
        raise ValueError(f"ormqr: A (..., mn, k), tau (..., k) and other (..., m, n) need the "
                         f"same batch axes, got shapes {A.shape}, {tau.shape}, {other.shape}")
    if tau.dtype != A.dtype or other.dtype != A.dtype:
        raise DTypeError(f"ormqr: A, tau and other must have one dtype, got {A.dtype}, "
                         f"{tau.dtype}, {other.dtype}")
    if not A.shape[:-2] == tau.shape[:-1] == other.shape[:-2]:
        raise ValueError(f"ormqr: the batch axes differ: A {A.shape}, tau {tau.shape}, other "
                         f"{other.shape}")
    mn = A.shape[-2]
    side = -2 if left else -1
    if other.shape[side] != mn:
        raise ValueError(f"ormqr: other.shape[{side}] must equal A.shape[-2] = {mn} (left="
                         f"{left}), got other of shape {other.shape}")
    k = tau.shape[-1]
    if k != min(mn, A.shape[-1]):
        raise ValueError(f"ormqr: tau.shape[-1] must equal min(A.shape[-2], A.shape[-1]) = "
                         f"{min(mn, A.shape[-1])}, got tau of shape {tau.shape}")
    eye = Tensor._wrap(A._dev.xp.eye(mn, k, dtype=A.dtype), A._dev)
    V = A[..., :, :k].tril(-1) + eye
    C = other
    # Q C = H_1 (H_2 (... H_k C)): the last reflector first; Qᵀ C and C Q the first first
    for i in (range(k) if left == transpose else reversed(range(k))):
        v, t = V[..., :, i:i + 1], tau[..., i, None, None]
        C = C - t * (v @ (v.mT @ C)) if left else C - t * ((C @ v) @ v.mT)
    return C


def _eig(name: str, A: Any) -> tuple[Tensor, Tensor]:
    """The eigenvalues and unit eigenvectors of a general square A, as complex tensors
    (``Eig``), differentiable (complex gradients)."""
    A = _matrices(name, A, complex_ok=True)
    if not bool(A._dev.xp.isfinite(A._data).all()):
        raise ValueError(f"linalg.{name}: A (shape {A.shape}) must not contain inf or NaN")
    return Eig.apply(A)


def eig(A: Tensor) -> EigResult:
    """(eigenvalues, eigenvectors as columns) of a square, not necessarily symmetric, A (or a
    batch), as ``torch.linalg.eig``: A V = V diag(w), complex (complex64 for float32 A,
    complex128 for float64), each eigenvector of norm 1 with its largest entry real (LAPACK's
    convention; any unit multiple e^{iφ} v is an eigenvector too, so compare by A V = V
    diag(w)). In no particular order. Differentiable, with PyTorch's gradient (``Eig``):
    through V for distinct eigenvalues and a loss that does not depend on the eigenvectors'
    phases (``eigh`` takes a symmetric A)."""
    return EigResult(*_eig("eig", A))


def eigvals(A: Tensor) -> Tensor:
    """The eigenvalues of a square A (or a batch), complex, as ``torch.linalg.eigvals``
    (``eig``'s first half, the same order)."""
    return _eig("eigvals", A)[0]


def ldl_factor_ex(A: Tensor, *, hermitian: bool = False, check_errors: bool = False
                  ) -> LDLFactorExResult:
    """(LD, pivots, info) with A = L D Lᵀ for a symmetric A (its lower triangle read), as
    ``torch.linalg.ldl_factor_ex``: LAPACK's sytrf, Bunch-Kaufman pivoting (``ldl_arrays``,
    the same pivots and factors as PyTorch's). LD holds D's 1×1 and 2×2 blocks on the
    diagonal (and first subdiagonal) and L's multipliers below it; pivots (int32, 1-based):
    k' where rows k and k' were swapped for a 1×1 block, -k' at both rows of a 2×2 block.
    info is the first zero 1×1 block (1-based; D singular), else 0. ``hermitian`` is
    the same factorisation for a real A. No derivative, as in PyTorch."""
    A = _matrices("ldl_factor_ex", A)
    box: dict[str, Any] = {}
    LD = LdlFactor.apply(A, box=box)
    if check_errors and bool((box["info"] != 0).any()):
        _raise_failed("ldl_factor_ex", box["info"], "D[{j},{j}] is zero: A is singular")
    return LDLFactorExResult(LD, Tensor._wrap(box["pivots"], A._dev),
                             Tensor._wrap(box["info"], A._dev))


def ldl_factor(A: Tensor, *, hermitian: bool = False) -> LDLFactorResult:
    """(LD, pivots), as ``torch.linalg.ldl_factor`` (``ldl_factor_ex``'s first two); a
    singular A (a zero block of D, which ``ldl_solve`` would divide by) raises LinAlgError
    (``ldl_factor_ex`` reports it in info instead)."""
    LD, pivots, info = ldl_factor_ex(A, hermitian=hermitian)
    if bool((info._data != 0).any()):
        _raise_failed("ldl_factor", info._data, "D[{j},{j}] is zero: A is singular "
                      "(linalg.ldl_factor_ex reports it in info instead)")
    return LDLFactorResult(LD, pivots)


def ldl_solve(LD: Tensor, pivots: Tensor, B: Tensor, *, hermitian: bool = False  # noqa: N803
              ) -> Tensor:
    """X with A X = B from A's ``ldl_factor`` (LD, pivots), as ``torch.linalg.ldl_solve``:
    LAPACK's sytrs, the swaps and block eliminations of L D, then Lᵀ in reverse. B is
    (..., n, k); the batch axes of LD and B broadcast. No derivative, as in PyTorch."""
    LD = _matrices("ldl_solve", LD)
    n = LD.shape[-1]
    if not isinstance(pivots, Tensor) or pivots.dtype.kind not in "iu" or \
            pivots.shape != LD.shape[:-1]:
        raise ValueError(f"linalg.ldl_solve: pivots must be an integer tensor of shape "
                         f"{LD.shape[:-1]} for LD of shape {LD.shape}, got "
                         f"{getattr(pivots, 'shape', type(pivots).__name__)}")
    if not isinstance(B, Tensor) or B.ndim < 2 or B.shape[-2] != n:
        raise ValueError(f"linalg.ldl_solve: LD of shape {LD.shape} needs B of shape (..., {n}, "
                         f"k), got {getattr(B, 'shape', type(B).__name__)}")
    if B.dtype != LD.dtype:
        raise DTypeError(f"linalg.ldl_solve: LD and B have different dtypes ({LD.dtype} and "
                         f"{B.dtype})")
    piv = pivots._data
    if piv.size and (bool((piv == 0).any()) or bool((abs(piv) > n).any())):
        raise ValueError(f"linalg.ldl_solve: the pivots must lie in [-{n}, -1] or [1, {n}]")
    batch = _broadcast(LD.shape[:-2], B.shape[:-2], "ldl_solve")
    xp = LD._dev.xp
    LD = LD if LD.shape[:-2] == batch else LD.broadcast_to(batch + LD.shape[-2:])
    B = B if B.shape[:-2] == batch else B.broadcast_to(batch + B.shape[-2:])
    piv = xp.broadcast_to(piv, batch + (n,))
    return LdlSolve.apply(LD, B, piv=piv)


def matrix_exp(A: Tensor) -> Tensor:
    """exp(A) = Σ_k A^k / k! of a square matrix or a batch of them (exp of a skew-symmetric
    matrix is orthogonal: ``nn.utils.parametrizations.orthogonal`` uses that)."""
    return MatrixExp.apply(_matrices("matrix_exp", A, complex_ok=True))


def matrix_power(A: Tensor, n: int) -> Tensor:
    """A^n for an integer n by repeated squaring (about 2 log2 |n| matmuls): the identity for
    n = 0, inv(A)^|n| for n < 0."""
    A = _matrices("matrix_power", A, complex_ok=True)
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
    """Σ conj(x) y along ``dim``, the other axes broadcast (x conjugated, as PyTorch's)."""
    return (x.conj() * y).sum(dim)


def diagonal(A: Tensor, *, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
    """The ``offset``-th diagonals of the matrices in ``dim1``, ``dim2`` (a view)."""
    return A.diagonal(offset, dim1, dim2)


# ---- LU, and the forms that report failures instead of raising (*_ex) ----------------------


def lu(A: Tensor, *, pivot: bool = True) -> LUResult:
    """(P, L, U) with A = P L U, as ``torch.linalg.lu``: partial pivoting as LAPACK's getrf
    (the same P, L and U as PyTorch's), L (m, k) unit lower-trapezoidal, U (k, n), k = min(m,
    n); ``pivot=False`` eliminates without row swaps (PyTorch does that on CUDA only).
    Differentiable twice in A (``LU``: the square blocks of L and U must be invertible)."""
    A = _matrices("lu", A, square=False, complex_ok=True)
    P, L, U = LU.apply(A, pivot=pivot)
    return LUResult(P.detach(), L, U)  # P is a constant of A: no gradient, as PyTorch's


def _pack(L: Tensor, U: Tensor) -> Tensor:
    """LAPACK's packed LU: U on and above the diagonal, L's part below it."""
    from .ops.movement import cat

    m, n = L.shape[-2], U.shape[-1]
    k = min(m, n)
    xp, dev = L._dev.xp, L._dev
    strict = L - Tensor._wrap(xp.eye(m, k, dtype=L.dtype), dev)
    if m > n:
        zeros = Tensor._wrap(xp.zeros(U.shape[:-2] + (m - n, n), dtype=U.dtype), dev)
        return strict + cat([U, zeros], -2)
    if m < n:
        zeros = Tensor._wrap(xp.zeros(L.shape[:-2] + (m, n - m), dtype=L.dtype), dev)
        return cat([strict, zeros], -1) + U
    return strict + U


def _lu_info(U: Any, xp: Any) -> Any:
    """getrf's info: the first j (1-based) with U[j, j] = 0, else 0, as int32 (...,)."""
    d = xp.diagonal(U, axis1=-2, axis2=-1)
    zero = d == 0
    first = xp.argmax(zero, -1) + 1 if d.shape[-1] else xp.zeros(d.shape[:-1], dtype=np.int64)
    return xp.where(zero.any(-1), first, 0).astype(np.int32) if d.shape[-1] else \
        first.astype(np.int32)


def lu_factor_ex(A: Tensor, *, pivot: bool = True, check_errors: bool = False
                 ) -> LUFactorExResult:
    """(LU, pivots, info), as ``torch.linalg.lu_factor_ex``: ``lu``'s L and U packed in one
    matrix, getrf's row swaps (int32, 1-based) and ``info`` (0, or the first zero pivot,
    1-based, for a singular matrix: it still factors)."""
    A = _matrices("lu_factor", A, square=False, complex_ok=True)
    box: dict[str, Any] = {}
    _, L, U = LU.apply(A, pivot=pivot, pivots=box)
    xp = A._dev.xp
    info = _lu_info(U._data, xp)
    if check_errors and bool((info > 0).any()):
        _raise_failed("lu_factor_ex", info, "U's diagonal element {j} is zero: A is singular")
    pivots = Tensor._wrap((box["piv"] + 1).astype(np.int32), A._dev)
    return LUFactorExResult(_pack(L, U), pivots, Tensor._wrap(info, A._dev))


def lu_factor(A: Tensor, *, pivot: bool = True) -> LUFactorResult:
    """(LU, pivots), as ``torch.linalg.lu_factor`` (``lu_factor_ex``'s first two). A
    singular A (a zero on U's diagonal, which ``lu_solve`` would divide by) is refused with
    PyTorch's error; ``lu_factor_ex`` or ``lu`` factor it."""
    LU_, pivots, info = lu_factor_ex(A, pivot=pivot)
    if bool((info._data != 0).any()):
        _raise_failed("lu_factor", info._data, "U[{j},{j}] is zero and using it on lu_solve "
                      "would result in a division by zero. If you still want to perform the "
                      "factorization, consider calling linalg.lu(A, pivot) or "
                      "linalg.lu_factor_ex(A, pivot)")
    return LUFactorResult(LU_, pivots)


def lu_unpack(LU_data: Tensor, LU_pivots: Tensor, unpack_data: bool = True,  # noqa: N803
              unpack_pivots: bool = True) -> LUResult:
    """(P, L, U) from ``lu_factor``'s packed LU and pivots, as ``torch.lu_unpack``;
    differentiable in LU_data. An empty tensor for what is not unpacked."""
    LU_data = _matrices("lu_unpack", LU_data, square=False, complex_ok=True)
    m, n = LU_data.shape[-2:]
    k = min(m, n)
    if not isinstance(LU_pivots, Tensor) or LU_pivots.shape != LU_data.shape[:-2] + (k,):
        raise ValueError(f"lu_unpack: LU_pivots must have shape {LU_data.shape[:-2] + (k,)} "
                         f"for LU_data of shape {LU_data.shape}, got "
                         f"{getattr(LU_pivots, 'shape', type(LU_pivots).__name__)}")
    xp, dev = LU_data._dev.xp, LU_data._dev
    empty = Tensor._wrap(xp.zeros((0,), dtype=LU_data.dtype), dev)
    L = U = P = empty
    if unpack_data:
        L = LU_data[..., :, :k].tril(-1) + Tensor._wrap(xp.eye(m, k, dtype=LU_data.dtype), dev)
        U = LU_data[..., :k, :].triu()
    if unpack_pivots:
        piv = LU_pivots._data.astype(np.int64) - 1
        if piv.size and (bool((piv < 0).any()) or bool((piv >= m).any())):
            raise ValueError(f"lu_unpack: the pivots must lie in [1, {m}], got values from "
                             f"{int(piv.min()) + 1} to {int(piv.max()) + 1}")
        P = Tensor._wrap(permutation_of(xp, piv, m).astype(LU_data.dtype), dev)
    return LUResult(P, L, U)


def lu_solve(LU: Tensor, pivots: Tensor, B: Tensor, *, left: bool = True,  # noqa: N803
             adjoint: bool = False) -> Tensor:
    """X with A X = B (X A = B for ``left=False``; Aᴴ in place of A with ``adjoint``), A
    given by ``lu_factor``, as ``torch.linalg.lu_solve``: two triangular solves and the
    permutation. Differentiable in LU and B."""
    P, L, U = lu_unpack(LU, pivots)
    if LU.shape[-1] != LU.shape[-2]:
        raise ValueError(f"linalg.lu_solve: LU must be square, got shape {LU.shape}")
    if not isinstance(B, Tensor) or B.ndim < 2 or \
            B.shape[-2 if left else -1] != LU.shape[-1]:
        raise ValueError(f"linalg.lu_solve: LU of shape {LU.shape} needs B of shape "
                         f"(..., {LU.shape[-1]}, k)" + ("" if left else " (k, n) for left=False")
                         + f", got {getattr(B, 'shape', type(B).__name__)}")
    if left and not adjoint:  # P L U X = B
        return solve_triangular(U, solve_triangular(L, P.mT @ B, upper=False,
                                                    unitriangular=True), upper=True)
    if left:  # Uᴴ Lᴴ Pᵀ X = B
        Y = solve_triangular(L.mH, solve_triangular(U.mH, B, upper=False), upper=True,
                             unitriangular=True)
        return P @ Y
    if not adjoint:  # X P L U = B
        Y = solve_triangular(L, solve_triangular(U, B, upper=True, left=False), upper=False,
                             left=False, unitriangular=True)
        return Y @ P.mT
    # X Uᴴ Lᴴ Pᵀ = B
    return solve_triangular(U.mH, solve_triangular(L.mH, B @ P, upper=True, left=False,
                                                   unitriangular=True), upper=False,
                            left=False)


def _raise_failed(name: str, info: Any, why: str) -> None:
    """PyTorch's error for the first failing matrix of a batch: its index and ``why``."""
    flat = np.asarray(info.get() if hasattr(info, "get") else info).reshape(-1)
    at = int(np.flatnonzero(flat)[0])
    where = f"(Batch element {at}): " if np.ndim(info) else ""
    raise LinAlgError(f"linalg.{name}: {where}" + why.format(j=int(flat[at])))


def _square_info(A: Tensor) -> Any:
    """getrf's info for each matrix of A (0 where it is invertible), no graph: the array
    library's determinant (LAPACK's LU) finds the singular matrices, and only those go
    through ``lu_arrays`` (a Python loop over the columns) for the index of the zero
    pivot."""
    xp = A._dev.xp
    sign, _ = xp.linalg.slogdet(A._data)
    singular = sign == 0
    info = xp.zeros(A.shape[:-2], dtype=np.int32)
    if bool(singular.any()):
        _, _, U = lu_arrays(xp, A._data[singular])
        info[singular] = _lu_info(U, xp)
    return info


def _where_ok(info: Any, good: Tensor, like: Tensor, core: int = 2) -> Tensor:
    """``good`` where info is 0; NaN in the results (of ``core`` axes) that failed (PyTorch
    leaves LAPACK's partial result there: unspecified)."""
    from .ops.elementwise import where

    failed = info != 0
    if not bool(failed.any()):
        return good
    mask = Tensor._wrap(failed.reshape(failed.shape + (1,) * core), like._dev)
    return where(mask, math.nan, good)


def _safe(A: Tensor, info: Any) -> Tensor:
    """A with each failed matrix replaced by the identity, so that the batch computes."""
    from .ops.elementwise import where

    if not bool((info != 0).any()):
        return A
    xp = A._dev.xp
    mask = Tensor._wrap((info != 0)[..., None, None], A._dev)
    return where(mask, Tensor._wrap(xp.eye(A.shape[-1], dtype=A.dtype), A._dev), A)


def inv_ex(A: Tensor, *, check_errors: bool = False) -> InvExResult:
    """(A⁻¹, info), as ``torch.linalg.inv_ex``: info 0 where A is invertible, else the first
    zero pivot of its LU (1-based), and then NaN in its inverse instead of an error
    (``check_errors=True`` raises, naming the batch element)."""
    A = _matrices("inv_ex", A, complex_ok=True)
    info = _square_info(A)
    if check_errors and bool((info != 0).any()):
        _raise_failed("inv_ex", info, "The diagonal element {j} is zero, the inversion could "
                      "not be completed because the input matrix is singular.")
    return InvExResult(_where_ok(info, inv(_safe(A, info)), A),
                       Tensor._wrap(info, A._dev))


def solve_ex(A: Tensor, B: Tensor, *, left: bool = True, check_errors: bool = False
             ) -> SolveExResult:
    """(X, info) with A X = B, as ``torch.linalg.solve_ex``: ``inv_ex``'s info, and NaN in
    the solutions of singular systems instead of an error."""
    A = _matrices("solve_ex", A, complex_ok=True)
    info = _square_info(A)
    if check_errors and bool((info != 0).any()):
        _raise_failed("solve_ex", info, "The solver failed because the input matrix is "
                      "singular.")
    X = solve(_safe(A, info), B, left=left)
    core = 1 if _is_vector_rhs(A, B) else 2
    return SolveExResult(_where_ok(info, X, A, core), Tensor._wrap(info, A._dev))


def cholesky_ex(A: Tensor, *, upper: bool = False, check_errors: bool = False
                ) -> CholeskyExResult:
    """(L, info), as ``torch.linalg.cholesky_ex``: info 0 where A is positive-definite, else
    the order of its first leading minor that is not, and then NaN in L instead of an
    error."""
    A = _matrices("cholesky_ex", A, complex_ok=True)
    xp = A._dev.xp
    flat = A._data.reshape(math.prod(A.shape[:-2]), *A.shape[-2:])  # (-1 fails for 0 x 0)
    if upper:
        flat = flat.swapaxes(-1, -2)
    info = np.zeros(flat.shape[0], dtype=np.int32)
    if not _is_pd(flat, xp):  # one of them is not (else one call did all): which, and where
        for b in range(flat.shape[0]):
            m = flat[b]
            if not _is_pd(m, xp):  # the first leading minor that is not
                info[b] = next(k for k in range(1, m.shape[-1] + 1)
                               if not _is_pd(m[:k, :k], xp))
    info = xp.asarray(info.reshape(A.shape[:-2]))
    if check_errors and bool((info != 0).any()):
        _raise_failed("cholesky_ex", info, "The factorization could not be completed because "
                      "the input is not positive-definite (the leading minor of order {j} is "
                      "not positive-definite).")
    eye = Tensor._wrap(xp.eye(A.shape[-1], dtype=A.dtype), A._dev)
    from .ops.elementwise import where

    safe = A if not bool((info != 0).any()) else where(
        Tensor._wrap((info != 0)[..., None, None], A._dev), eye, A)
    return CholeskyExResult(_where_ok(info, cholesky(safe, upper=upper), A),
                            Tensor._wrap(info, A._dev))


def _is_pd(m: Any, xp: Any = np) -> bool:
    """Whether the Cholesky factorisation of m (its lower triangle; of every matrix of a
    batch) succeeds."""
    try:
        c = xp.linalg.cholesky(m)
    except np.linalg.LinAlgError:
        return False
    return bool(xp.isfinite(c).all())  # (CuPy gives NaN instead of raising)


def cond(A: Tensor, p: Any = None) -> Tensor:
    """The condition number of A in the norm ``p``, as ``torch.linalg.cond``: σ_max / σ_min
    for p None or 2 (any shape), σ_min / σ_max for -2; for "fro", "nuc", ±1 and ±inf (square
    A) ‖A‖ ‖A⁻¹‖, inf where A is singular. Differentiable."""
    A = _matrices("cond", A, square=p not in (None, 2, -2), complex_ok=True)
    if A.numel() == 0:  # empty matrices, or none: 0, a constant, as PyTorch's
        return Tensor._wrap(A._dev.xp.zeros(A.shape[:-2], dtype=A.real.dtype), A._dev)
    if p in (None, 2, -2):
        s = svdvals(A)
        big, small = s[..., 0], s[..., -1]
        return big / small if p != -2 else small / big
    if p not in ("fro", "nuc", 1, -1, math.inf, -math.inf):
        raise ValueError(f"linalg.cond: p must be None, 2, -2, 'fro', 'nuc', 1, -1, inf or -inf, "
                         f"got {p!r}")
    from .ops.elementwise import where

    inverse, info = inv_ex(A)
    value = matrix_norm(A, p) * matrix_norm(_safe_inverse(inverse, info), p)
    if not bool((info._data != 0).any()):
        return value
    return where(Tensor._wrap(info._data != 0, A._dev), math.inf, value)


def _safe_inverse(inverse: Tensor, info: Tensor) -> Tensor:
    """inv_ex's inverse with its NaN matrices made zeros (their cond is inf, set after)."""
    from .ops.elementwise import where

    if not bool((info._data != 0).any()):
        return inverse
    return where(Tensor._wrap((info._data != 0)[..., None, None], inverse._dev), 0.0, inverse)


def tensorinv(A: Tensor, ind: int = 2) -> Tensor:
    """The inverse of A for ``tensordot(A, ·, ind)``, as ``torch.linalg.tensorinv``: A of
    shape out + in with prod(out) = prod(in), out = A.shape[:ind]; the result has shape in +
    out. Differentiable."""
    if not isinstance(A, Tensor) or not isinstance(ind, int) or ind <= 0:
        raise ValueError(f"linalg.tensorinv: ind must be a positive int, got {ind!r}")
    out, rest = A.shape[:ind], A.shape[ind:]
    if math.prod(out) != math.prod(rest):
        raise ValueError(f"linalg.tensorinv: A of shape {A.shape} with ind={ind} is not "
                         f"invertible: prod{tuple(out)} = {math.prod(out)} differs from "
                         f"prod{tuple(rest)} = {math.prod(rest)}")
    n = math.prod(out)
    return inv(A.reshape(n, n)).reshape(*rest, *out)


def tensorsolve(A: Tensor, B: Tensor, dims: Sequence[int] | None = None) -> Tensor:
    """X with ``tensordot(A, X, X.ndim) = B``, as ``torch.linalg.tensorsolve``: X has shape
    A.shape[B.ndim:]; ``dims`` first moves those axes of A to its end. Differentiable."""
    if not isinstance(A, Tensor) or not isinstance(B, Tensor):
        raise TypeError("linalg.tensorsolve: A and B must be Tensors")
    if dims is not None:
        dims = [d % A.ndim for d in dims]
        A = A.permute(*[d for d in range(A.ndim) if d not in dims], *dims)
    if A.shape[:B.ndim] != B.shape:
        raise ValueError(f"linalg.tensorsolve: A's leading axes {A.shape[:B.ndim]} must equal "
                         f"B's shape {B.shape}")
    rest = A.shape[B.ndim:]
    n = B.numel()
    if math.prod(rest) != n:
        raise ValueError(f"linalg.tensorsolve: A of shape {A.shape} is not square for B of "
                         f"shape {B.shape}: prod{tuple(rest)} = {math.prod(rest)} differs "
                         f"from {n}")
    return solve(A.reshape(n, n), B.reshape(n)).reshape(*rest)


def vander(x: Tensor, *, N: int | None = None) -> Tensor:  # noqa: N803 (PyTorch's name)
    """The Vandermonde matrix of x (..., n): (..., n, N) with entries x_i^j, j = 0 … N - 1
    (increasing powers, as ``torch.linalg.vander``; ``tr.vander`` is NumPy's, decreasing),
    N = n by default. A running product, so x = 0 has its exact gradient."""
    from .ops.movement import cat

    if not isinstance(x, Tensor) or x.ndim < 1:
        raise ValueError("linalg.vander: x must be a tensor of at least one axis, got "
                         f"{getattr(x, 'shape', type(x).__name__)}")
    N = x.shape[-1] if N is None else N
    if not isinstance(N, int) or N < 2:
        raise ValueError(f"linalg.vander: N must be an int greater than 1, got {N!r} (as "
                         "PyTorch's)")
    ones = Tensor._wrap(x._dev.xp.ones(x.shape + (1,), dtype=x.dtype), x._dev)
    return cat([ones, x.unsqueeze(-1).expand(*x.shape, N - 1)], -1).cumprod(-1)


# ---- PyTorch's older top-level names (torch.lu, torch.triangular_solve, ...) ------------------


class TriangularSolveResult(NamedTuple):
    solution: Tensor
    cloned_coefficient: Tensor


def lu_legacy(A: Tensor, pivot: bool = True, get_infos: bool = False) -> tuple[Tensor, ...]:
    """(LU, pivots), or (LU, pivots, infos) with ``get_infos``, as ``torch.lu``: a singular
    matrix raises unless ``get_infos`` (then its info is nonzero), as there."""
    LU_, pivots, info = lu_factor_ex(A, pivot=pivot)
    if get_infos:
        return LU_, pivots, info
    if bool((info._data != 0).any()):
        _raise_failed("lu", info._data, "U[{j},{j}] is zero: the matrix is singular "
                      "(torch.lu(A, get_infos=True) reports it instead)")
    return LU_, pivots


def triangular_solve(b: Tensor, A: Tensor, upper: bool = True, transpose: bool = False,  # noqa: N803
                     unitriangular: bool = False) -> TriangularSolveResult:
    """(X, A's copy) with A X = b (Aᵀ X = b with ``transpose``) for a triangular A (its
    ``upper`` or lower triangle read), as ``torch.triangular_solve`` (note b comes first):
    ``solve_triangular`` on broadcast batches; differentiable in both."""
    A = _matrices("triangular_solve", A)
    if not isinstance(b, Tensor) or b.ndim < 2:
        raise ValueError("triangular_solve: b must be a matrix or a batch of them, got "
                         f"{getattr(b, 'shape', type(b).__name__)}")
    T = A.mT if transpose else A
    X = solve_triangular(T, b, upper=upper != transpose, unitriangular=unitriangular)
    return TriangularSolveResult(X, A.clone())


def cholesky_solve(B: Tensor, L: Tensor, upper: bool = False) -> Tensor:  # noqa: N803
    """X with A X = B, A = L Lᴴ (Uᴴ U with ``upper``; ᴴ is ᵀ for real L) given by its
    Cholesky factor, as
    ``torch.cholesky_solve`` (B first): two triangular solves, differentiable in both."""
    L = _matrices("cholesky_solve", L, complex_ok=True)
    if not isinstance(B, Tensor) or B.ndim < 2:
        raise ValueError("cholesky_solve: B must be a matrix or a batch of them, got "
                         f"{getattr(B, 'shape', type(B).__name__)}")
    lower = L.mH if upper else L
    return solve_triangular(lower.mH, solve_triangular(lower, B, upper=False), upper=True)


def cholesky_inverse(L: Tensor, upper: bool = False) -> Tensor:  # noqa: N803
    """A⁻¹ for A = L Lᴴ (Uᴴ U with ``upper``) from its Cholesky factor, as
    ``torch.cholesky_inverse``."""
    L = _matrices("cholesky_inverse", L, complex_ok=True)
    eye = Tensor._wrap(L._dev.xp.broadcast_to(L._dev.xp.eye(L.shape[-1], dtype=L.dtype),
                                              L.shape).copy(), L._dev)
    return cholesky_solve(eye, L, upper)


def _removed(name: str, instead: str) -> Any:
    def removed(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError(f"{name} was deprecated since version 1.9 and is now removed (as in "
                           f"PyTorch): use {instead} instead")

    removed.__name__ = removed.__qualname__ = name.rsplit(".", 1)[-1]
    removed.__doc__ = f"Removed, as in PyTorch: raises, pointing to ``{instead}``."
    return removed


# the functions PyTorch has removed but still names: calling one raises, pointing onwards
matrix_rank_removed = _removed("torch.matrix_rank", "tr.linalg.matrix_rank")
solve_removed = _removed("torch.solve", "tr.linalg.solve")
lstsq_removed = _removed("torch.lstsq", "tr.linalg.lstsq")
symeig_removed = _removed("torch.symeig", "tr.linalg.eigh")
eig_removed = _removed("torch.eig", "tr.linalg.eig (complex eigenvalues and eigenvectors) or "
                       "tr.linalg.eigvals")


def svd_lowrank(A: Tensor, q: int | None = 6, niter: int = 2, M: Tensor | None = None,  # noqa: N803
                ) -> tuple[Tensor, Tensor, Tensor]:
    """(U, S, V) of rank ``q`` approximating A - M (a matrix or a batch), A ≈ U diag(S) Vᵀ,
    as ``torch.svd_lowrank``: Halko et al.'s (2009) randomized range finder with ``niter``
    power iterations (QR between them), then an exact SVD of the small projected matrix.
    The random matrix comes from ``tr.manual_seed``'s generator (so the numbers differ from
    PyTorch's, not the subspace found). Differentiable (QR and SVD are)."""
    from .random import randn

    A = _matrices("svd_lowrank", A, square=False)
    if M is not None:
        A = A - M
    m, n = A.shape[-2:]
    q = 6 if q is None else q
    if isinstance(q, bool) or not isinstance(q, (int, np.integer)) or not 0 < q <= min(m, n):
        raise ValueError(f"svd_lowrank: q must be an int in [1, min(m, n) = {min(m, n)}], got "
                         f"{q!r}")
    if isinstance(niter, bool) or not isinstance(niter, (int, np.integer)) or niter < 0:
        raise ValueError(f"svd_lowrank: niter must be an int >= 0, got {niter!r}")
    omega = randn(*A.shape[:-2], n, int(q), dtype=A.dtype, device=A.device)
    Q = qr(A @ omega).Q
    for _ in range(int(niter)):
        Q = qr(A.mT @ Q).Q
        Q = qr(A @ Q).Q
    U, S, Vh = svd(Q.mT @ A, full_matrices=False)
    return Q @ U, S, Vh.mT


def pca_lowrank(A: Tensor, q: int | None = None, center: bool = True, niter: int = 2  # noqa: N803
                ) -> tuple[Tensor, Tensor, Tensor]:
    """(U, S, V) of ``svd_lowrank`` on A with each column's mean taken off (``center``), as
    ``torch.pca_lowrank``: V's columns are the principal directions; q defaults to
    min(6, m, n)."""
    A = _matrices("pca_lowrank", A, square=False)
    m, n = A.shape[-2:]
    q = min(6, m, n) if q is None else q
    if center:
        A = A - A.mean(-2, keepdim=True)
    return svd_lowrank(A, q, niter)


# PyTorch's keywords for the leading arguments, where ours are named otherwise (``torch_args``)
torch_args(globals(), {
    "cross": "input other", "lstsq": "input b", "matmul": "input other",
    "tensorsolve": "input other",
    **dict.fromkeys((
        "cholesky", "cholesky_ex", "cond", "eig", "eigh", "eigvals", "eigvalsh",
        "householder_product", "ldl_factor", "ldl_factor_ex", "matrix_exp", "matrix_norm",
        "matrix_power", "matrix_rank", "norm", "solve_triangular", "tensorinv",
        "vector_norm"), "input"),
})
pinv = torch_names(pinv, input="A", rcond="rtol")  # rcond: PyTorch's older name of rtol
