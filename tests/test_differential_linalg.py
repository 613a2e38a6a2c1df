"""Differential test of ``tr.linalg``, ``tr.fft``, ``tr.special`` and the matrix products
(``matmul``, ``bmm``, ``mm``, ``mv``, ``dot``, ``vdot``, ``inner``, ``outer``, ``tensordot``,
``kron``, ``cross``, ``trace``, ``tril``/``triu``, ``diag``, ``diagonal``, ``diag_embed``,
``cdist``) against PyTorch: Hypothesis draws one call with random but meaningful arguments
(batch dimensions that broadcast, empty batches and 0x0 matrices, singular, ill-conditioned
and indefinite matrices, and now and then a wrong shape or argument), and runs it in torch and
here, in float64 mostly, float32 and complex128 now and then.

Compared: whether each raises (exception types may differ: a ``LinAlgError`` is a
``ValueError`` here), every output's shape, dtype, ``requires_grad`` and values (the ``info``
of the ``*_ex`` functions and the pivots exactly), then, after one backward of a random
weighted sum of the outputs, the gradient of every input. Where a result is not unique the
call compares what is: the signs and phases of eigenvectors and singular vectors are the
array library's LAPACK's, so ``eigh``, ``eig`` and ``svd`` are compared through their values,
the moduli of the vectors and products that do not depend on them; a gradient is compared only
where it is defined (no singular matrix, no repeated eigenvalue, distinct singular values).

Each case's arrays come from a NumPy generator seeded by a drawn integer; the structure of the
call (which function, which arguments, which shapes) is what Hypothesis draws and shrinks. Run
deeper with ``HYPOTHESIS_PROFILE=thorough``; ``LINALG_FUZZ_SCALE`` multiplies the number of
cases.
"""

from __future__ import annotations

import math
import os
import warnings
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pytest
from hypothesis import event, given, note, settings
from hypothesis import strategies as st

import tinygrad_rnn as tr

from ._differential import close, one_in, registry

torch = pytest.importorskip("torch")

pytestmark = pytest.mark.torch

RAN: Counter = Counter()


@dataclass
class Case:
    """One call: ``call(m, *tensors)`` with ``m`` either ``torch`` or ``tr``."""

    name: str
    arrays: list[np.ndarray]  # float and complex arrays become leaves that require grad
    call: Callable[..., Any]
    grad: bool = True  # whether the gradient is defined there (and so compared)
    loose: bool = False  # an ill-conditioned input: a looser tolerance


GENS, gen = registry()  # the case generators, by family


def bad(draw) -> bool:
    return one_in(draw, 15)


def _ok_only(m, result):
    """(result, info) of an ``*_ex`` form, with the result kept where info is 0 only: a failed
    matrix holds NaN here, LAPACK's partial result in torch (documented)."""
    x, info = result
    ok = (info == 0).reshape(tuple(info.shape) + (1,) * (x.ndim - info.ndim))
    return [m.where(ok, x, m.zeros((), dtype=x.dtype)), info]


class Arrays:
    def __init__(self, rng: np.random.Generator, dt):
        self.rng, self.dt = rng, np.dtype(dt)

    def normal(self, shape) -> np.ndarray:
        a = self.rng.standard_normal(shape)
        if self.dt.kind == "c":
            a = a + 1j * self.rng.standard_normal(shape)
        return a.astype(self.dt)

    def uniform(self, shape, lo, hi) -> np.ndarray:
        return self.rng.uniform(lo, hi, shape).astype(self.dt)

    def matrix(self, shape, kind: str = "normal") -> np.ndarray:
        """A batch of matrices of ``shape`` (..., m, n) of a kind: "normal", "spd" (Hermitian
        positive-definite), "sym" (Hermitian, indefinite), "singular" (a zero column, so every
        elimination meets an exact zero), "ill" (condition number ~1e6), "tri" (triangular
        with a diagonal away from 0)."""
        a = self.normal(shape)
        m, n = shape[-2], shape[-1]
        if kind in ("spd", "sym"):
            a = a @ np.conj(np.swapaxes(a, -1, -2)) / max(n, 1)
            if kind == "spd":
                return (a + np.eye(m, dtype=self.dt)).astype(self.dt)
            return (a - 2 * np.eye(m, dtype=self.dt)).astype(self.dt)
        if kind == "singular" and n:
            a[..., self.rng.integers(n)] = 0
        if kind == "ill" and m and n:
            k = min(m, n)
            u, _, vh = np.linalg.svd(a, full_matrices=False)
            s = np.logspace(0, -6, k)
            a = (u * s[..., None, :]) @ vh
        if kind == "tri":
            a = a + np.eye(m, n, dtype=self.dt) * 3 * np.sign(a.real + 0.1)
        return a.astype(self.dt)


def batch(draw, lo: int = 0) -> tuple[int, ...]:
    """A batch shape: none, or one or two small dims (now and then an empty one)."""
    nb = draw(st.integers(0, 2))
    return tuple(draw(st.integers(lo, 2)) if bad(draw) else draw(st.integers(1, 2))
                 for _ in range(nb))


def bcast_pair(draw, b: tuple[int, ...]) -> tuple[int, ...]:
    """Another batch shape that broadcasts with ``b`` (or, now and then, does not)."""
    out = tuple(1 if draw(st.booleans()) else s for s in b)
    if draw(st.booleans()):
        out = out[draw(st.integers(0, len(out))):]
    if bad(draw):
        out = (3,) + out
    return out


def side(draw, lo: int = 1, hi: int = 4) -> int:
    return 0 if bad(draw) else draw(st.integers(lo, hi))


def float_dt(draw, complex_ok: bool = True):
    choices = [np.float64] * 4 + [np.float32] + ([np.complex128] if complex_ok else [])
    return draw(st.sampled_from(choices))


# ---- matrix products and structure ---------------------------------------------------------


@gen("products")
def _products(draw, a: Arrays):
    name = draw(st.sampled_from([
        "matmul", "mm", "bmm", "mv", "dot", "vdot", "inner", "outer", "tensordot", "kron",
        "cross", "linalg_cross", "trace", "tril", "triu", "diag", "diagonal", "linalg_diagonal",
        "diag_embed", "cdist", "multi_dot", "vecdot", "matrix_power", "matrix_exp", "vander"]))
    n, k, p = side(draw), side(draw), side(draw)
    if name == "matmul":
        nd1, nd2 = draw(st.integers(1, 4)), draw(st.integers(1, 4))
        b1 = batch(draw)[:max(nd1 - 2, 0)]
        b2 = bcast_pair(draw, b1)[:max(nd2 - 2, 0)]
        s1 = (n, k)[2 - min(nd1, 2):]
        s2 = (k + (1 if bad(draw) else 0), p)[:min(nd2, 2)]
        func = draw(st.booleans())
        return Case(name, [a.normal(b1 + s1), a.normal(b2 + s2)],
                    lambda m, x, y: m.matmul(x, y) if func else x @ y)
    if name in ("mm", "bmm", "mv"):
        bb = (side(draw),) if name == "bmm" else ()
        x = a.normal(bb + (n, k))
        k2 = k + 1 if bad(draw) else k
        y = a.normal(bb + ((k2, p) if name != "mv" else (k2,)))
        method = draw(st.booleans())
        return Case(name, [x, y], lambda m, x, y: getattr(x, name)(y) if method
                    else getattr(m, name)(x, y))
    if name in ("dot", "vdot", "inner", "outer"):
        s1 = (n,) if name != "inner" else draw(st.sampled_from([(n,), (p, n), (2, p, n), ()]))
        s2 = (n + (1 if bad(draw) else 0),) if name != "inner" else \
            draw(st.sampled_from([(n,), (k, n), ()]))
        if name == "outer":
            s2 = (k,)
        return Case(name, [a.normal(s1), a.normal(s2)], lambda m, x, y: getattr(m, name)(x, y))
    if name == "tensordot":
        nd = draw(st.integers(0, 2))
        shared = tuple(side(draw) for _ in range(nd))
        lead, trail = (n,), (p,)
        x, y = a.normal(lead + shared), a.normal(shared + trail)
        form = draw(st.sampled_from(["int", "lists"]))
        if form == "int":
            dims: Any = nd + (1 if bad(draw) else 0)
        else:
            dims = ([1 + i for i in range(nd)], list(range(nd)))
        return Case(name, [x, y], lambda m, x, y: m.tensordot(x, y, dims=dims))
    if name == "kron":
        s1 = tuple(side(draw) for _ in range(draw(st.integers(0, 3))))
        s2 = tuple(side(draw) for _ in range(draw(st.integers(0, 3))))
        return Case(name, [a.normal(s1), a.normal(s2)], lambda m, x, y: m.kron(x, y))
    if name in ("cross", "linalg_cross"):
        b1 = batch(draw)
        d = draw(st.integers(0, len(b1)))
        s1 = b1[:d] + (3 if not bad(draw) else 2,) + b1[d:]
        b2 = list(s1)
        if draw(st.booleans()) and len(b2) > 1:  # broadcasting
            j = draw(st.sampled_from([i for i in range(len(b2)) if i != d]))
            b2[j] = 1
        dim = d - len(s1) if draw(st.booleans()) else d
        if name == "cross":
            return Case(name, [a.normal(s1), a.normal(tuple(b2))],
                        lambda m, x, y: m.cross(x, y, dim=dim))
        return Case(name, [a.normal(s1), a.normal(tuple(b2))],
                    lambda m, x, y: m.linalg.cross(x, y, dim=dim))
    if name == "trace":
        s = draw(st.sampled_from([(n, k), (n, n), (n,)]))
        # (the method: tr.trace is the debug tracer, documented)
        return Case(name, [a.normal(s)], lambda m, x: x.trace())
    if name in ("tril", "triu"):
        s = batch(draw) + (n, k)
        off = draw(st.integers(-3, 3))
        return Case(name, [a.normal(s)], lambda m, x: getattr(m, name)(x, off))
    if name == "diag":
        s = draw(st.sampled_from([(n,), (n, k), (), (n, k, p)]))
        off = draw(st.integers(-3, 3))
        return Case(name, [a.normal(s)], lambda m, x: m.diag(x, off))
    if name in ("diagonal", "linalg_diagonal", "diag_embed"):
        s = batch(draw) + (n, k)
        nd = len(s) + (1 if name == "diag_embed" else 0)
        d1, d2 = draw(st.integers(-nd, nd - 1)), draw(st.integers(-nd, nd - 1))
        if d1 % nd == d2 % nd and not bad(draw):
            d2 = (d1 + 1) % nd
        off = draw(st.integers(-3, 3))
        if name == "linalg_diagonal":
            return Case(name, [a.normal(s)], lambda m, x: m.linalg.diagonal(
                x, offset=off, dim1=d1, dim2=d2))
        return Case(name, [a.normal(s)], lambda m, x: getattr(m, name)(x, off, d1, d2))
    if name == "cdist":
        b1 = batch(draw)
        x = a.normal(b1 + (n, k))
        y = a.normal(bcast_pair(draw, b1) + (p, k + (1 if bad(draw) else 0)))
        pp = draw(st.sampled_from([2.0, 1.0, 0.0, 3.0, math.inf, 0.5]))
        mode = draw(st.sampled_from(["use_mm_for_euclid_dist_if_necessary",
                                     "donot_use_mm_for_euclid_dist"]))
        # p < 1 and p = 0 have no gradient at a zero coordinate difference, none here
        return Case(name, [x, y], lambda m, x, y: m.cdist(x, y, p=pp, compute_mode=mode))
    if name == "multi_dot":
        nmat = draw(st.integers(1, 4))
        sides = [side(draw) for _ in range(nmat + 1)]
        shapes = [(sides[i], sides[i + 1]) for i in range(nmat)]
        if nmat > 1 and draw(st.booleans()):
            shapes[0] = shapes[0][1:]  # a vector first
        if nmat > 1 and draw(st.booleans()):
            shapes[-1] = shapes[-1][:1]  # and last
        if bad(draw):
            shapes[0] = (sides[0], sides[1] + 1)
        return Case(name, [a.normal(s) for s in shapes],
                    lambda m, *xs: m.linalg.multi_dot(list(xs)))
    if name == "vecdot":
        b1 = batch(draw) + (n,)
        b2 = bcast_pair(draw, b1[:-1]) + (n,)
        return Case(name, [a.normal(b1), a.normal(b2)],
                    lambda m, x, y: m.linalg.vecdot(x, y, dim=-1))
    if name == "matrix_power":
        e = draw(st.integers(-3, 4))
        s = batch(draw) + (n, n + (1 if bad(draw) else 0))
        return Case(name, [a.matrix(s, "tri" if e < 0 else "normal") * 0.7],
                    lambda m, x: m.linalg.matrix_power(x, e))
    if name == "matrix_exp":
        s = batch(draw) + (n, n + (1 if bad(draw) else 0))
        scale = draw(st.sampled_from([0.1, 1.0, 3.0]))
        return Case(name, [a.normal(s) * scale], lambda m, x: m.linalg.matrix_exp(x))
    # vander
    N = draw(st.one_of(st.none(), st.integers(0 if not bad(draw) else -1, 4)))
    return Case(name, [a.normal(batch(draw) + (n,))], lambda m, x: m.linalg.vander(x, N=N))


# ---- norms ----------------------------------------------------------------------------------


@gen("norms")
def _norms(draw, a: Arrays):
    name = draw(st.sampled_from(["vector_norm", "matrix_norm", "norm", "cond"]))
    keepdim = draw(st.booleans())
    if name == "vector_norm":
        s = batch(draw) + (side(draw),)
        nd = len(s)
        ordv = draw(st.sampled_from([2, 1, math.inf, -math.inf, 0, 3, 0.5, -1, 1.5]))
        form = draw(st.sampled_from(["none", "int", "tuple"]))
        dim: Any = None if form == "none" else draw(st.integers(-nd, nd - 1)) if \
            form == "int" else tuple(draw(st.lists(st.integers(0, nd - 1), min_size=1,
                                                   unique=True)))
        # a gradient through a negative or fractional order at a zero: torch's 0 * inf
        return Case(name, [a.normal(s)], lambda m, x: m.linalg.vector_norm(
            x, ord=ordv, dim=dim, keepdim=keepdim))
    if name == "matrix_norm":
        b = batch(draw)
        s = (side(draw), side(draw))
        d = draw(st.integers(0, len(b)))
        shape = b[:d] + s + b[d:]
        nd = len(shape)
        dim = (d, d + 1) if not draw(st.booleans()) else (d + 1 - nd, d)
        ordv = draw(st.sampled_from(["fro", "nuc", 2, -2, 1, -1, math.inf, -math.inf]))
        if bad(draw):
            ordv = 3
        return Case(name, [a.normal(shape)], lambda m, x: m.linalg.matrix_norm(
            x, ord=ordv, dim=dim, keepdim=keepdim))
    if name == "norm":
        s = batch(draw) + (side(draw), side(draw))
        nd = len(s)
        form = draw(st.sampled_from(["none", "one", "two"]))
        if form == "none":
            dim = None
            ordv = draw(st.sampled_from([None, "fro", "nuc", 2, 1, math.inf]))
            if nd != 2 and ordv is not None and not bad(draw):
                s = s[-2:] if ordv != 2 or draw(st.booleans()) else s[-1:]
                nd = len(s)
        elif form == "one":
            dim = draw(st.integers(-nd, nd - 1))
            ordv = draw(st.sampled_from([None, 2, 1, math.inf, -math.inf, 0, 3]))
        else:
            dim = (nd - 2, nd - 1) if draw(st.booleans()) else (-1, -2)
            ordv = draw(st.sampled_from([None, "fro", "nuc", 2, -2, 1, -1, math.inf]))
        return Case(name, [a.normal(s)], lambda m, x: m.linalg.norm(
            x, ord=ordv, dim=dim, keepdim=keepdim))
    pv = draw(st.sampled_from([None, 2, -2, "fro", "nuc", 1, -1, math.inf, -math.inf]))
    n = side(draw)
    kind = draw(st.sampled_from(["normal", "normal", "singular"]))
    if pv == "nuc" and n == 1:  # torch's "nuc" cond of [[0.]] is 0 * inf = NaN, its "fro" inf
        kind = "normal"
    if n > 1 and kind == "singular":
        # LAPACK's blocked elimination can leave 1e-17 for the exact zero pivot ours finds, so
        # torch gives 1e16 where ours gives inf (documented): a 1 x 1 zero alone
        kind = "normal"
    s = batch(draw) + (n, n if pv in (None, 2, -2) and draw(st.booleans()) else n)
    # torch's backward of cond in "fro", 1, -1, inf, -inf fails: "one of the variables needed
    # for gradient computation has been modified by an inplace operation" (its inv_ex)
    return Case(name, [a.matrix(s, kind)], lambda m, x: m.linalg.cond(x, pv),
                grad=kind == "normal" and pv in (None, 2, -2, "nuc"))


# ---- decompositions -------------------------------------------------------------------------


def _sign_free_svd(m, U, S, Vh, full):
    """S, U diag(S) Vh, |U| and |Vh| over the singular vectors (their sign or phase is the
    LAPACK's own), and the shapes of U and Vh."""
    k = S.shape[-1]
    u, vh = U[..., :, :k], Vh[..., :k, :]
    return [S, (u * S.unsqueeze(-2).to(u.dtype)) @ vh, u.abs(), vh.abs(),
            m.tensor(list(U.shape) + list(Vh.shape))]


@gen("decompositions")
def _decompositions(draw, a: Arrays):
    name = draw(st.sampled_from([
        "det", "slogdet", "logdet", "inv", "inv_ex", "cholesky", "cholesky_ex", "qr", "eigh",
        "eigvalsh", "eig", "eigvals", "svd", "svdvals", "pinv", "matrix_rank", "lu",
        "lu_factor", "lu_factor_ex", "householder_product", "ldl_factor"]))
    b = batch(draw)
    n = side(draw)
    square = b + (n, n + (1 if bad(draw) else 0))
    if name in ("det", "slogdet", "logdet", "inv", "inv_ex"):
        kind = draw(st.sampled_from(["normal", "normal", "singular", "ill", "spd"]))
        if name == "logdet" and a.dt.kind == "c" and kind == "singular":
            kind = "normal"  # torch's complex logdet of [[0]] is -inf + NaN i, ours -inf + 0i
        A = a.matrix(square, kind)
        if name == "inv_ex":
            check = draw(st.booleans())
            return Case(name, [A], lambda m, x: _ok_only(m, m.linalg.inv_ex(x, check_errors=check)),
                        grad=kind != "singular", loose=kind == "ill")
        f: Callable[..., Any] = {
            "det": lambda m, x: m.linalg.det(x),
            "slogdet": lambda m, x: list(m.linalg.slogdet(x)),
            "logdet": lambda m, x: m.logdet(x),
            "inv": lambda m, x: m.linalg.inv(x)}[name]
        return Case(name, [A], f, grad=kind != "singular", loose=kind == "ill")
    if name in ("cholesky", "cholesky_ex"):
        kind = draw(st.sampled_from(["spd", "spd", "sym", "singular"]))
        A = a.matrix(square, kind)
        upper = draw(st.booleans())
        if name == "cholesky":
            return Case(name, [A], lambda m, x: m.linalg.cholesky(x, upper=upper))
        check = draw(st.booleans())
        return Case(name, [A], lambda m, x: _ok_only(m, m.linalg.cholesky_ex(
            x, upper=upper, check_errors=check)), grad=kind == "spd")
    if name in ("eigh", "eigvalsh"):
        A = a.normal(square)
        uplo = draw(st.sampled_from(["L", "U"]))
        if bad(draw):
            uplo = "X"
        if name == "eigvalsh":
            return Case(name, [A], lambda m, x: m.linalg.eigvalsh(x, UPLO=uplo))

        def _eigh(m, x):
            w, v = m.linalg.eigh(x, UPLO=uplo)
            return [w, v.abs()]
        return Case(name, [A], _eigh)
    if name in ("eig", "eigvals"):
        A = a.normal(square)
        if name == "eigvals":
            return Case(name, [A], lambda m, x: m.linalg.eigvals(x))

        def _eig(m, x):
            w, v = m.linalg.eig(x)
            return [w, v.abs()]
        return Case(name, [A], _eig)
    rect = b + (side(draw), side(draw))
    if name == "qr":
        mode = draw(st.sampled_from(["reduced", "complete", "r"] + (["full"] if bad(draw)
                                                                     else [])))
        A = a.normal(rect)
        # the gradient needs full rank, and torch's is defined for complete only where m <= n
        grad = mode == "reduced" or (mode == "complete" and rect[-2] <= rect[-1])
        return Case(name, [A], lambda m, x: list(m.linalg.qr(x, mode=mode)),
                    grad=grad and mode != "r")
    if name in ("svd", "svdvals"):
        A = a.matrix(rect, draw(st.sampled_from(["normal", "normal", "ill"])))
        if name == "svdvals":
            return Case(name, [A], lambda m, x: m.linalg.svdvals(x))
        full = draw(st.booleans())
        return Case(name, [A], lambda m, x: _sign_free_svd(m, *m.linalg.svd(
            x, full_matrices=full), full))
    if name == "pinv":
        herm = draw(st.booleans())
        kind = draw(st.sampled_from(["normal", "singular"]))
        A = a.matrix(square if herm else rect, "sym" if herm else kind)
        tol = draw(st.sampled_from(["none", "atol", "rtol", "both"]))
        kw = {"atol": {"none": None, "atol": 0.3, "rtol": None, "both": 0.1}[tol],
              "rtol": {"none": None, "atol": None, "rtol": 0.2, "both": 0.05}[tol]}
        # a cut singular value near the tolerance, or a zero one, makes the gradient jump
        return Case(name, [A], lambda m, x: m.linalg.pinv(x, hermitian=herm, **kw),
                    grad=tol == "none" and (kind == "normal" or herm))
    if name == "matrix_rank":
        kind = draw(st.sampled_from(["normal", "singular", "ill"]))
        A = a.matrix(rect, kind)
        tol = draw(st.sampled_from(["none", "atol", "rtol"]))
        herm = draw(st.booleans()) and rect[-1] == rect[-2]
        if herm:
            A = A + np.conj(np.swapaxes(A, -1, -2))
        kw = {} if tol == "none" else {tol: 0.5}
        return Case(name, [A], lambda m, x: m.linalg.matrix_rank(x, hermitian=herm, **kw))
    if name in ("lu", "lu_factor", "lu_factor_ex"):
        kind = draw(st.sampled_from(["normal", "normal", "singular"]))
        A = a.matrix(rect if name == "lu" else square, kind)
        if name == "lu":
            return Case(name, [A], lambda m, x: list(m.linalg.lu(x)),
                        grad=kind == "normal")
        if name == "lu_factor":
            return Case(name, [A], lambda m, x: list(m.linalg.lu_factor(x)),
                        grad=kind == "normal")
        return Case(name, [A], lambda m, x: list(m.linalg.lu_factor_ex(x)),
                    grad=kind == "normal")
    if name == "householder_product":
        mm, nn = sorted((side(draw), side(draw)), reverse=True)
        if bad(draw):
            mm, nn = nn, mm
        k = draw(st.integers(0, nn)) + (1 if bad(draw) else 0)
        A = a.normal(b + (mm, nn))
        tau = a.normal(b + (k,))
        # torch's backward of an empty A fails ("must have a last dimension with stride 1")
        return Case(name, [A, tau], lambda m, x, t: m.linalg.householder_product(x, t),
                    grad=A.size > 0)
    # ldl_factor
    herm = draw(st.booleans())
    # real matrices only: ours refuses a complex one (documented)
    A = a.matrix(square, draw(st.sampled_from(["sym", "spd"]))).real.copy()
    return Case(name, [A], lambda m, x: list(m.linalg.ldl_factor(x, hermitian=herm)),
                grad=False)  # ldl_factor has no derivative in either


# ---- tensor methods and the top-level forms -------------------------------------------------


@gen("methods")
def _methods(draw, a: Arrays):
    name = draw(st.sampled_from([
        "det", "inverse", "cholesky", "matrix_exp", "matrix_power", "logdet", "slogdet",
        "pinverse", "svd", "qr", "cholesky_inverse", "addmm", "addmv", "addr", "baddbmm",
        "addbmm", "chain_matmul", "nuclear_norm", "frobenius_norm", "norm", "dist", "ger"]))
    b = batch(draw)
    n, k, p = side(draw), side(draw), side(draw)
    beta, alpha = draw(st.sampled_from([1.0, 0.0, 0.5])), draw(st.sampled_from([1.0, -2.0]))
    if name in ("det", "inverse", "matrix_exp", "logdet", "slogdet"):
        A = a.matrix(b + (n, n + (1 if bad(draw) else 0)), "spd" if name == "logdet" else
                     "normal")
        return Case(name, [A], lambda m, x: list(_flat(getattr(x, name)())))
    if name in ("cholesky", "cholesky_inverse"):
        upper = draw(st.booleans())
        A = a.matrix(b + (n, n), "spd")
        if name == "cholesky":
            return Case(name, [A], lambda m, x: x.cholesky(upper=upper))
        return Case(name, [A], lambda m, x: m.linalg.cholesky(x, upper=upper).cholesky_inverse(
            upper=upper))
    if name == "matrix_power":
        e = draw(st.integers(0, 3))
        return Case(name, [a.normal(b + (n, n))], lambda m, x: x.matrix_power(e))
    if name == "pinverse":
        return Case(name, [a.normal(b + (n, k))], lambda m, x: x.pinverse())
    if name == "svd":
        some = draw(st.booleans())

        def _svd(m, x):
            U, S, V = x.svd(some=some)
            return _sign_free_svd(m, U, S, V.mH, not some)
        return Case(name, [a.normal(b + (n, k))], _svd)
    if name == "qr":
        some = draw(st.booleans())
        rows, cols = max(n, k), min(n, k)  # (a tall matrix, some=False: not differentiable)
        return Case(name, [a.normal(b + (rows, cols))], lambda m, x: list(m.qr(x, some=some)),
                    grad=some or rows == cols)
    if name in ("addmm", "addmv", "addr"):
        x1 = a.normal((n, k) if name != "addr" else (n,))
        x2 = a.normal((k, p) if name == "addmm" else (k,))
        out = (n, p) if name == "addmm" else (n,) if name == "addmv" else (n, k)
        # (no 0-d input with an empty matrix: torch's addmv gives shape () there, not (n,))
        inp = a.normal(out[draw(st.integers(0, len(out) - (1 if 0 in out + x1.shape else 0))):])
        # torch's backward of addmv with an empty matrix fails ("outer: Expected 1-D argument
        # self")
        return Case(name, [inp, x1, x2], lambda m, i, x, y: getattr(i, name)(
            x, y, beta=beta, alpha=alpha), grad=0 not in out + x1.shape)
    if name in ("baddbmm", "addbmm"):
        bb = side(draw)
        x1, x2 = a.normal((bb, n, k)), a.normal((bb, k + (1 if bad(draw) else 0), p))
        inp = a.normal(((bb,) if name == "baddbmm" else ()) + (n, p))
        return Case(name, [inp, x1, x2], lambda m, i, x, y: getattr(i, name)(
            x, y, beta=beta, alpha=alpha))
    if name == "chain_matmul":
        sides = [side(draw) for _ in range(draw(st.integers(2, 4)))]
        return Case(name, [a.normal(s) for s in zip(sides, sides[1:])],
                    lambda m, *xs: m.chain_matmul(*xs))
    if name in ("nuclear_norm", "frobenius_norm"):
        keep = draw(st.booleans())
        s = b + (n, k)
        dims = (len(s) - 2, len(s) - 1) if draw(st.booleans()) else (-1, -2)
        return Case(name, [a.normal(s)], lambda m, x: getattr(m, name)(x, dim=dims,
                                                                        keepdim=keep))
    if name == "norm":
        s = b + (n, k)
        pv = draw(st.sampled_from([None, 2, 1, math.inf, "fro", "nuc", 3, -1, -math.inf]))
        dim = None if pv != "nuc" and draw(st.booleans()) else (-2, -1)
        if pv not in ("fro", "nuc") and dim is not None and draw(st.booleans()):
            dim = -1
        keep = draw(st.booleans())
        return Case(name, [a.normal(s)], lambda m, x: x.norm(p=pv, dim=dim, keepdim=keep))
    if name == "dist":
        pv = draw(st.sampled_from([2, 1, 0, math.inf, 3, 0.5]))
        s1 = b + (n,)
        # torch's backward of dist(p=0) fails ("Expected a proper Tensor but got None")
        return Case(name, [a.normal(s1), a.normal(bcast_pair(draw, s1))],
                    lambda m, x, y: x.dist(y, pv), grad=pv != 0)
    return Case(name, [a.normal((n,)), a.normal((k,))], lambda m, x, y: m.ger(x, y))


# ---- solvers --------------------------------------------------------------------------------


@gen("solvers")
def _solvers(draw, a: Arrays):
    name = draw(st.sampled_from(["solve", "solve_ex", "solve_triangular", "lstsq", "lu_solve",
                                 "tensorinv", "tensorsolve", "cholesky_solve"]))
    b = batch(draw)
    n = side(draw)
    k = side(draw)
    left = draw(st.booleans())
    if name in ("solve", "solve_ex", "lu_solve", "cholesky_solve"):
        kind = draw(st.sampled_from(["normal", "normal", "singular", "ill"]))
        if name == "cholesky_solve":
            kind = "spd"
        A = a.matrix(b + (n, n + (1 if bad(draw) else 0)), kind)
        bshape = bcast_pair(draw, b)
        vec = name == "solve" and left and draw(st.booleans())
        B = a.normal(bshape + ((n,) if vec else (n, k) if left else (k, n)))
        grad = kind != "singular"
        if name == "solve":
            return Case(name, [A, B], lambda m, x, y: m.linalg.solve(x, y, left=left),
                        grad=grad, loose=kind == "ill")
        if name == "solve_ex":
            return Case(name, [A, B], lambda m, x, y: _ok_only(
                m, m.linalg.solve_ex(x, y, left=left)),
                        grad=grad, loose=kind == "ill")
        if name == "cholesky_solve":
            upper = draw(st.booleans())
            B = a.normal(bshape + (n, k))

            def _cs(m, x, y):
                L = m.linalg.cholesky(x, upper=upper)
                return m.cholesky_solve(y, L, upper=upper)
            return Case(name, [A, B], _cs)
        adjoint = draw(st.booleans())

        def _lus(m, x, y):
            LU, piv = m.linalg.lu_factor(x)
            return m.linalg.lu_solve(LU, piv, y, left=left, adjoint=adjoint)
        return Case(name, [A, B], _lus, grad=grad, loose=kind == "ill")
    if name == "solve_triangular":
        A = a.matrix(b + (n, n), "tri")
        upper, uni = draw(st.booleans()), draw(st.booleans())
        bshape = bcast_pair(draw, b)
        B = a.normal(bshape + ((n, k) if left else (k, n)))
        return Case(name, [A, B], lambda m, x, y: m.linalg.solve_triangular(
            x, y, upper=upper, left=left, unitriangular=uni))
    if name == "lstsq":
        rows, cols = side(draw), side(draw)
        driver = draw(st.sampled_from([None, "gels", "gelsy", "gelsd", "gelss"]))
        kind = draw(st.sampled_from(["normal", "normal", "singular"]))
        if driver in (None, "gels", "gelsy") and kind == "singular":
            kind = "normal"  # a rank-deficient "gels" is the least-norm solution here (doc.)
        if driver in (None, "gels") and rows < cols:
            rows, cols = cols, rows  # "gels" of a wide matrix: torch's residuals are empty
        if k == 0:
            # torch's "gelss" of a B without columns crashes the process, "gelsd" asserts, and
            # the others give rank 0 whatever A's
            k = 1
        if driver == "gels" and cols == 0:
            cols = 1  # torch's "gels" residuals of an empty solution are 0, not |B|²
        A = a.matrix(b + (rows, cols), kind)
        form = draw(st.sampled_from(["matrix", "broadcast", "vector"]))
        bb = bcast_pair(draw, b)
        if form == "broadcast":  # as many dims as A: fewer make B a batch of vectors
            bb = (1,) * (len(b) - len(bb)) + bb
        B = a.normal(b + (rows,) if form == "vector" else (b if form == "matrix" else bb)
                     + (rows, k))
        if B.ndim == A.ndim - 1 and B.shape[-1] == 1 != rows:
            # torch broadcasts a batch of vectors of length 1 to A's m (A (1, 2, 1), B (1, 1)
            # gives B = [b, b]); ours refuses it (documented)
            B = a.normal(B.shape[:-1] + (rows,))

        def _lstsq(m, x, y):
            r = m.linalg.lstsq(x, y, driver=driver)
            # rank and singular_values are filled only by some drivers, as there
            return [r.solution, r.residuals, r.rank, r.singular_values]
        return Case(name, [A, B], _lstsq, grad=kind == "normal")
    if name == "tensorinv":
        ind = draw(st.integers(1, 2))
        lead = (2, 3)[:ind] if ind == 2 else (6,)
        trail = (3, 2) if draw(st.booleans()) else (6,)
        A = a.matrix((6, 6), "normal").reshape(lead + trail)
        if bad(draw):
            ind += 1  # the first ind dims no longer hold as many elements as the rest
        return Case(name, [A], lambda m, x: m.linalg.tensorinv(x, ind=ind))
    if name == "tensorsolve":
        A = a.matrix((6, 6), "normal").reshape((2, 3, 6))
        B = a.normal((2, 3))
        dims = draw(st.sampled_from([None, (0,)]))
        if dims is not None:  # x's dim 0 moved to A's end: A is (6, 2, 3) read as (2, 3, 6)
            A = np.ascontiguousarray(np.moveaxis(A, 2, 0))
        return Case(name, [A, B], lambda m, x, y: m.linalg.tensorsolve(x, y, dims=dims))


# ---- fft ------------------------------------------------------------------------------------


@gen("fft")
def _fft(draw, a: Arrays):
    name = draw(st.sampled_from([
        "fft", "ifft", "rfft", "irfft", "hfft", "ihfft", "fft2", "ifft2", "rfft2", "irfft2",
        "hfft2", "ihfft2", "fftn", "ifftn", "rfftn", "irfftn", "hfftn", "ihfftn", "fftshift",
        "ifftshift", "fftfreq", "rfftfreq"]))
    if name in ("fftfreq", "rfftfreq"):
        # (torch's rfftfreq(-1) is [-0.]: not compared)
        n = draw(st.integers(0 if not bad(draw) or name == "rfftfreq" else -1, 7))
        d = draw(st.sampled_from([1.0, 0.5, 2.0, 0.1]))
        return Case(name, [], lambda m: getattr(m.fft, name)(n, d, dtype=m.float64))
    nd = draw(st.integers(1, 3))
    shape = tuple(draw(st.integers(1, 5)) for _ in range(nd))
    real_in = name in ("rfft", "ihfft", "rfft2", "ihfft2", "rfftn", "ihfftn")
    if real_in or draw(st.integers(0, 3)) == 0:
        x = a.normal(shape).real.copy()
    else:
        x = (a.normal(shape) + 1j * a.normal(shape).real).astype(
            np.complex64 if a.dt == np.float32 else np.complex128)
    if name in ("fftshift", "ifftshift"):
        dim = draw(st.one_of(st.none(), st.integers(-nd, nd - 1),
                             st.lists(st.integers(0, nd - 1), min_size=1, unique=True)
                             .map(tuple)))
        return Case(name, [x], lambda m, x: getattr(m.fft, name)(x, dim=dim))
    norm = draw(st.sampled_from([None, "backward", "ortho", "forward"]))
    if bad(draw):
        norm = "bad"
    if name in ("fft", "ifft", "rfft", "irfft", "hfft", "ihfft"):
        nn = draw(st.one_of(st.none(), st.integers(1, 7)))
        if bad(draw):
            nn = 0
        dim = draw(st.integers(-nd, nd - 1))
        if bad(draw):
            dim = nd
        return Case(name, [x], lambda m, x: getattr(m.fft, name)(x, n=nn, dim=dim, norm=norm))
    k = 2 if name.endswith("2") else draw(st.integers(1, nd))
    dims = draw(st.lists(st.integers(-nd, nd - 1), min_size=k, max_size=k, unique_by=lambda
                         d: d % nd)) if k <= nd else list(range(k))
    use = draw(st.sampled_from(["dim", "s", "both", "neither"]))
    s = [draw(st.integers(1, 6)) for _ in dims]
    kw: dict[str, Any] = {"norm": norm}
    if use in ("dim", "both"):
        kw["dim"] = dims
    if use in ("s", "both"):
        kw["s"] = s
    return Case(name, [x], lambda m, x: getattr(m.fft, name)(x, **kw))


# ---- special --------------------------------------------------------------------------------

# the functions of one tensor; the edges of their domains are drawn as values
SPECIAL_UNARY = [
    "expit", "logit", "erf", "erfc", "erfinv", "log1p", "expm1", "exp2", "ndtr", "ndtri",
    "digamma", "psi", "gammaln", "i0", "i0e", "i1", "i1e", "modified_bessel_i0",
    "modified_bessel_i1", "modified_bessel_k0", "modified_bessel_k1",
    "scaled_modified_bessel_k0", "scaled_modified_bessel_k1", "bessel_j0", "bessel_j1",
    "bessel_y0", "bessel_y1", "spherical_bessel_j0", "airy_ai", "erfcx", "log_ndtr", "entr",
    "sinc", "round"]
# torch cannot differentiate these (ours can: documented), and J, Y, Ai are Cephes' exactly
# here, where torch's are off by up to 3e-4 relative for 2 < |x| < 25 (documented)
NO_TORCH_GRAD = {"modified_bessel_i0", "modified_bessel_i1", "modified_bessel_k0",
                 "modified_bessel_k1", "scaled_modified_bessel_k0", "scaled_modified_bessel_k1",
                 "bessel_j0", "bessel_j1", "bessel_y0", "bessel_y1", "spherical_bessel_j0",
                 "airy_ai", "round"}
TORCH_OFF = {"bessel_j0", "bessel_j1", "bessel_y0", "bessel_y1", "airy_ai"}
SPECIAL_BINARY = ["xlogy", "xlog1py", "zeta", "gammainc", "gammaincc"]
POLYNOMIALS = ["chebyshev_polynomial_t", "chebyshev_polynomial_u", "chebyshev_polynomial_v",
               "chebyshev_polynomial_w", "shifted_chebyshev_polynomial_t",
               "shifted_chebyshev_polynomial_u", "shifted_chebyshev_polynomial_v",
               "shifted_chebyshev_polynomial_w", "hermite_polynomial_h",
               "hermite_polynomial_he", "laguerre_polynomial_l", "legendre_polynomial_p"]
EDGES = [0.0, 1.0, -1.0, 0.5, -0.5, 2.0, 1e-300, -1e-300, 1e-8, 30.0, -30.0, 700.0, -700.0,
         math.inf, -math.inf, math.nan, 0.999999, -0.999999, 1e300, -3.0, -2.5, 0.9, 0.1]


def special_values(draw, a: Arrays, shape, lo=-5.0, hi=5.0, edges=True) -> np.ndarray:
    x = a.uniform(shape, lo, hi)
    if edges and draw(st.booleans()):
        picks = draw(st.lists(st.sampled_from(EDGES), min_size=1, max_size=3))
        flat = x.reshape(-1)
        with np.errstate(over="ignore"):  # (1e300 is inf in float32)
            for j, v in enumerate(picks[:flat.size]):
                flat[j] = v
    return x


@gen("special")
def _special(draw, a: Arrays):
    name = draw(st.sampled_from(SPECIAL_UNARY + SPECIAL_BINARY + POLYNOMIALS + [
        "polygamma", "multigammaln", "logsumexp", "softmax", "log_softmax"]))
    shape = tuple(draw(st.integers(1, 4)) for _ in range(draw(st.integers(0, 2))))
    edges = draw(st.booleans())
    if name in SPECIAL_UNARY:
        lo, hi = {"logit": (0.0, 1.0), "erfinv": (-1.0, 1.0), "ndtri": (0.0, 1.0),
                  "entr": (0.0, 3.0)}.get(name, (-8.0, 8.0))
        if name in TORCH_OFF:
            lo, hi = -2.0, 2.0
        x = special_values(draw, a, shape, lo, hi, edges and name not in TORCH_OFF)
        if name == "logit":
            eps = draw(st.sampled_from([None, 1e-6, 0.1]))
            return Case(name, [x], lambda m, x: m.special.logit(x, eps=eps))
        if name in NO_TORCH_GRAD:  # compared in value only
            return Case(name, [x], lambda m, x: getattr(m.special, name)(x.detach()))
        return Case(name, [x], lambda m, x: getattr(m.special, name)(x), grad=not edges)
    if name in SPECIAL_BINARY:
        lo = 0.0 if name in ("gammainc", "gammaincc") else -3.0
        x = special_values(draw, a, shape, lo, 5.0, edges)
        other_shape = shape[draw(st.integers(0, len(shape))):]
        y = special_values(draw, a, other_shape, 0.0 if name != "xlogy" else -1.0, 5.0, edges)
        if name == "zeta":
            x = np.abs(x) + 1.0
        # torch differentiates gammainc and zeta in neither or one argument (ours in both:
        # documented): only the other argument needs a gradient
        return Case(name, [x, y], lambda m, x, y: getattr(m.special, name)(
            x.detach() if name in ("gammainc", "gammaincc", "zeta") else x, y),
            grad=not edges)
    if name in POLYNOMIALS:
        x = special_values(draw, a, shape, -1.5, 1.5, edges)
        x[np.isnan(x)] = 0.5  # torch's polynomial at NaN is an uninitialised value (doc.)
        form = draw(st.sampled_from(["int", "tensor"]))
        if form == "int":
            deg = draw(st.integers(-1, 7))
            return Case(name, [x], lambda m, x: getattr(m.special, name)(x.detach(), deg),
                        grad=False)
        n = np.asarray(a.rng.integers(-1, 8, shape[-1:] if shape else ()))

        def _poly(m, x):
            return getattr(m.special, name)(x.detach(), m.tensor(n))
        return Case(name, [x], _poly, grad=False)
    if name == "polygamma":
        k = draw(st.integers(0, 3))
        x = special_values(draw, a, shape, 0.05, 6.0, edges)
        return Case(name, [x], lambda m, x: m.special.polygamma(k, x), grad=not edges)
    if name == "multigammaln":
        p = draw(st.integers(1, 3))
        x = special_values(draw, a, shape, (p - 1) / 2 + 0.01, 6.0, False)
        if bad(draw):
            x = x - 5
        return Case(name, [x], lambda m, x: m.special.multigammaln(x, p))
    x = special_values(draw, a, shape or (3,), -5, 5, edges and name != "logsumexp")
    nd = x.ndim
    d = draw(st.integers(-nd, nd - 1))
    if name == "logsumexp":
        keep = draw(st.booleans())
        return Case(name, [x], lambda m, x: m.special.logsumexp(x, d, keepdim=keep))
    return Case(name, [x], lambda m, x: getattr(m.special, name)(x, d), grad=not edges)


# ---- the runner -----------------------------------------------------------------------------


def _flat(out) -> list:
    if out is None:
        return []
    if isinstance(out, (tuple, list)):
        return [t for o in out for t in _flat(o)]
    return [out]


def _np(t) -> np.ndarray:
    return np.array(t.detach().resolve_conj().numpy())


def _kind(t) -> str:
    return np.dtype(str(t.dtype).removeprefix("torch.")).kind


@dataclass
class Result:
    error: BaseException | None = None
    stage: str = ""
    outs: list | None = None  # (array, dtype name, requires_grad)
    grads: dict | None = None


def _execute(case: Case, m, wseed: int) -> Result:
    r = Result(outs=[], grads={})
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        try:
            r.stage = "forward"
            leaves = [m.tensor(x.copy(), requires_grad=x.dtype.kind in "fc")
                      for x in case.arrays]
            outs = _flat(case.call(m, *leaves))
            r.outs = [(_np(o), str(o.dtype).removeprefix("torch."), bool(o.requires_grad))
                      for o in outs]
            if not case.grad:
                return r
            r.stage = "backward"
            g = np.random.default_rng(wseed)
            terms = []
            for o in outs:
                if not o.requires_grad or _kind(o) not in "fc" or o.numel() == 0:
                    continue
                if _kind(o) == "c":
                    o = m.view_as_real(o.resolve_conj())
                w = g.standard_normal(tuple(o.shape)).astype(_np(o).dtype)
                terms.append((o * m.tensor(w)).sum())
            if terms:
                sum(terms).backward()
            for k, x in enumerate(leaves):
                r.grads[f"input {k}"] = None if x.grad is None else _np(x.grad)
        except Exception as e:  # noqa: BLE001
            r.error = e
    return r


def _close(name, ours, theirs, dt, loose, ref=None):
    """``close`` to a tolerance of the dtype (single or double precision; 1e4 times looser
    where the case says so)."""
    single = np.dtype(dt) in (np.float32, np.complex64)
    close(name, ours, theirs, (2e-4 if single else 1e-8) * (1e4 if loose else 1), ref)


def _run_case(data, families):
    draw = data.draw
    fam = draw(st.sampled_from(sorted(families)))
    dt = float_dt(draw, complex_ok=fam in ("products", "decompositions", "solvers", "norms"))
    seed = draw(st.integers(0, 2**32 - 1))
    case = GENS[fam](draw, Arrays(np.random.default_rng(seed), dt))
    note(f"{case.name} {np.dtype(dt).name}: inputs {[x.shape for x in case.arrays]}")
    for k, x in enumerate(case.arrays):
        note(f"input {k} = np.array({x.tolist()!r})")
    t = _execute(case, torch, seed)
    o = _execute(case, tr, seed)
    ref = Result(error=ValueError())  # torch in double precision, for single-precision cases
    single = any(x.dtype in (np.float32, np.complex64) for x in case.arrays)
    if single and t.error is None and o.error is None:
        wide = {np.dtype(np.float32): np.float64, np.dtype(np.complex64): np.complex128}
        ref = _execute(replace(case, arrays=[x.astype(wide.get(x.dtype, x.dtype))
                                             for x in case.arrays]), torch, seed)
    refs = {} if ref.error is not None else {
        **{f"output {k}": v for k, (v, _, _) in enumerate(ref.outs)},
        **{f"grad of {n}": v for n, v in ref.grads.items()}}
    label = f"{case.name} ({np.dtype(dt).name})"
    if t.error is not None or o.error is not None:
        event(f"raised: {case.name} torch={type(t.error).__name__} ours={type(o.error).__name__}")
    if t.error is not None:
        assert o.error is not None, f"{label}: torch raised at {t.stage}: {t.error!r}; ours " \
            "did not"
        return
    assert o.error is None, f"{label}: ours raised at {o.stage}: {o.error!r}; torch did not"
    RAN[case.name] += 1
    event(f"ran: {case.name}")
    dt = np.float32 if single else np.float64
    assert len(o.outs) == len(t.outs), f"{label}: {len(o.outs)} outputs vs {len(t.outs)}"
    for k, ((ov, od, og), (tv, td, tg)) in enumerate(zip(o.outs, t.outs)):
        assert od == td, f"{label}: output {k} dtype {od} vs torch {td}"
        assert og == tg, f"{label}: output {k} requires_grad {og} vs torch {tg}"
        _close(f"{label}: output {k}", ov, tv, dt, case.loose, refs.get(f"output {k}"))
    for name in t.grads:
        tg, og = t.grads[name], o.grads.get(name, "missing")
        assert not isinstance(og, str), f"{label}: ours has no {name}"
        if tg is None or og is None:
            other = og if tg is None else tg
            assert other is None or not np.any(other), f"{label}: grad of {name}: torch " \
                f"{'None' if tg is None else tg}, ours {'None' if og is None else og}"
            continue
        _close(f"{label}: grad of {name}", og, tg, dt, case.loose, refs.get(f"grad of {name}"))


FAMILIES = sorted(GENS)


def _scaled(factor: int):
    scale = int(os.environ.get("LINALG_FUZZ_SCALE", "1"))
    return settings(max_examples=settings.default.max_examples * factor * scale)


@pytest.mark.parametrize("family", FAMILIES)
@_scaled(4)
@given(data=st.data())
def test_linalg_call_matches_torch(family, data):
    _run_case(data, {family})


# ---- regressions: what the differential test found ------------------------------------------


def _both(f, *arrays):
    """f(m, *leaves) in torch and here: (torch's, ours), each a result or the exception."""
    out = []
    for m in (torch, tr):
        leaves = [m.tensor(a, requires_grad=True) for a in arrays]
        try:
            out.append(f(m, *leaves))
        except Exception as e:  # noqa: BLE001
            out.append(e)
    return out


def test_cholesky_ex_of_empty_matrices():
    for shape in [(0, 0), (1, 0, 0), (0, 2, 2)]:
        t, o = _both(lambda m, x: m.linalg.cholesky_ex(x), np.zeros(shape))
        assert tuple(o.L.shape) == tuple(t.L.shape) and tuple(o.info.shape) == \
            tuple(t.info.shape)


def test_fftfreq_of_zero_samples():
    assert tr.fft.fftfreq(0).shape == (0,)
    assert np.isnan(tr.fft.rfftfreq(0, dtype=tr.float64).numpy()).all()
    np.testing.assert_array_equal(tr.fft.fftfreq(5, 0.5, dtype=tr.float64).numpy(),
                                  torch.fft.fftfreq(5, 0.5, dtype=torch.float64).numpy())
    with pytest.raises(ValueError, match="non-negative"):
        tr.fft.fftfreq(-1)


@pytest.mark.parametrize("p", [None, 2, -2, "fro", "nuc", 1, -1, math.inf, -math.inf])
def test_cond_of_empty_matrix_is_a_zero_constant(p):
    for shape in [(0, 0), (2, 0, 0), (0, 1, 1)]:
        t, o = _both(lambda m, x: m.linalg.cond(x, p), np.zeros(shape))
        assert tuple(o.shape) == tuple(t.shape) and not o.requires_grad
        np.testing.assert_array_equal(o.numpy(), t.numpy())


@pytest.mark.parametrize("ord", [-1, -0.5, math.inf, -math.inf, 0.5, 2, 0])
@pytest.mark.parametrize("shape,dim", [((0,), None), ((0, 3), 0), ((0, 3), 1),
                                       ((3, 0), (0,)), ((3, 0), 1)])
def test_vector_norm_refuses_an_empty_minimum_or_maximum(ord, shape, dim):
    t, o = _both(lambda m, x: m.linalg.vector_norm(x, ord, dim), np.zeros(shape))
    assert isinstance(o, Exception) == isinstance(t, Exception), (t, o)
    if isinstance(o, Exception):
        assert "no identity" in str(o)
    else:
        np.testing.assert_array_equal(o.detach().numpy(), t.detach().numpy())


@pytest.mark.parametrize("ord", ["fro", "nuc", 2, -2, 1, -1, math.inf, -math.inf])
@pytest.mark.parametrize("shape", [(1, 0), (0, 1), (0, 0), (2, 0, 3)])
def test_matrix_norm_of_an_empty_matrix(ord, shape):
    for keepdim in (False, True):
        t, o = _both(lambda m, x, kd=keepdim: m.linalg.matrix_norm(x, ord, keepdim=kd),
                     np.zeros(shape))
        assert isinstance(o, Exception) == isinstance(t, Exception), (t, o)
        if not isinstance(o, Exception):
            assert tuple(o.shape) == tuple(t.shape) and o.requires_grad == t.requires_grad


def test_qr_mode_r_gives_an_empty_q_of_the_graph():
    t, o = _both(lambda m, x: m.linalg.qr(x, mode="r"), np.ones((2, 3, 1)))
    assert tuple(o.Q.shape) == tuple(t.Q.shape) == (0,)
    assert o.Q.requires_grad and t.Q.requires_grad


def test_lu_permutation_needs_no_grad():
    t, o = _both(lambda m, x: m.linalg.lu(x), np.array([[1.0, 2.0], [3.0, 4.0]]))
    assert not o.P.requires_grad and not t.P.requires_grad
    assert o.L.requires_grad and o.U.requires_grad


def test_lstsq_fields_and_refusals_as_torch():
    rng = np.random.default_rng(0)
    A, B = rng.standard_normal((3, 2)), rng.standard_normal((3, 2))
    t, o = _both(lambda m, a, b: m.linalg.lstsq(a, b), A, B)
    assert o.residuals.requires_grad and t.residuals.requires_grad  # empty, of the graph
    t, o = _both(lambda m, a, b: m.linalg.lstsq(a, b, driver="gelsd"), A + 0j, B + 0j)
    assert o.residuals.dtype == np.float64 and o.singular_values.dtype == np.float64
    t, o = _both(lambda m, a, b: m.linalg.lstsq(a, b), A[:1, :0], B[None, :1, :1])
    assert isinstance(t, Exception) and isinstance(o, ValueError)  # B with more dims than A
    # one dim fewer: a batch of vectors, whatever the shapes (not solve's rule)
    t, o = _both(lambda m, a, b: m.linalg.lstsq(a, b), np.stack([A, A]), B.T)
    assert tuple(o.solution.shape) == tuple(t.solution.shape) == (2, 2)


def test_logit_eps_keeps_a_nan_gradient():
    for m in (torch, tr):
        x = m.tensor([math.nan, 1e-9, 0.5], dtype=m.float64, requires_grad=True)
        m.special.logit(x, eps=1e-6).sum().backward()
        g = x.grad.numpy()
        assert np.isnan(g[0]) and g[1] == 0 and g[2] == 4


def test_tensordot_broadcasts_an_axis_of_size_one():
    rng = np.random.default_rng(1)
    for sa, sb, dims in [((1, 2), (2, 1), 2), ((1, 2), (3, 2), ([0], [0])),
                         ((3, 1, 2), (2, 4, 5), ([1, 2], [1, 0]))]:
        a, b = rng.standard_normal(sa), rng.standard_normal(sb)
        res = []
        for m in (torch, tr):
            x, y = m.tensor(a, requires_grad=True), m.tensor(b, requires_grad=True)
            out = m.tensordot(x, y, dims=dims)
            (out * out).sum().backward()
            res.append([out.detach().numpy(), x.grad.numpy(), y.grad.numpy()])
        for o, t in zip(res[1], res[0]):
            np.testing.assert_allclose(o, t, rtol=1e-12)
    with pytest.raises(ValueError, match="sizes must match"):
        tr.tensordot(tr.ones(2, 3), tr.ones(2, 3), dims=([1], [0]))


def test_qr_complete_of_a_tall_matrix():
    a = np.random.default_rng(2).standard_normal((2, 4, 2))
    t, o = _both(lambda m, x: m.linalg.qr(x, mode="complete"), a)
    for ours, theirs in zip(o, t):
        np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), atol=1e-12)
    assert o.Q.requires_grad
    with pytest.raises(NotImplementedError, match="mode='complete'"):
        o.Q.sum().backward()


def test_householder_product_of_complex_reflectors():
    rng = np.random.default_rng(3)
    a = rng.standard_normal((2, 4, 3)) + 1j * rng.standard_normal((2, 4, 3))
    tau = rng.standard_normal((2, 2)) + 1j * rng.standard_normal((2, 2))
    w = rng.standard_normal((2, 4, 3, 2))
    res = []
    for m in (torch, tr):
        x, t = m.tensor(a, requires_grad=True), m.tensor(tau, requires_grad=True)
        q = m.linalg.householder_product(x, t)
        (m.view_as_real(q) * m.tensor(w)).sum().backward()
        res.append([q.detach().numpy(), x.grad.numpy(), t.grad.numpy()])
    for o, t in zip(res[1], res[0]):
        np.testing.assert_allclose(o, t, rtol=1e-10, atol=1e-12)


def test_solve_triangular_takes_b_as_matrices():
    """B (1, 1) against A (1, 1, 1) is one 1 x 1 matrix (solve would read a vector)."""
    rng = np.random.default_rng(4)
    for left in (True, False):
        A, B = rng.standard_normal((1, 1, 1)) + 2, rng.standard_normal((1, 1))
        t, o = _both(lambda m, a, b, lf=left: m.linalg.solve_triangular(a, b, upper=True,
                                                                         left=lf), A, B)
        assert tuple(o.shape) == tuple(t.shape) == (1, 1, 1)
        np.testing.assert_allclose(o.detach().numpy(), t.detach().numpy(), rtol=1e-12)
