"""What the differential tests against PyTorch share: a registry of case generators by family,
the "now and then invalid" draw, and the comparison of one result with torch's."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from hypothesis import strategies as st


def registry() -> tuple[dict[str, Callable[..., Any]], Callable[[str], Callable[..., Any]]]:
    """A dict of case generators by family and the decorator that fills it:
    ``GENS, gen = registry()``, then ``@gen("conv")`` on a generator."""
    gens: dict[str, Callable[..., Any]] = {}

    def gen(family: str) -> Callable[..., Any]:
        def deco(f: Callable[..., Any]) -> Callable[..., Any]:
            gens[family] = f
            return f
        return deco

    return gens, gen


def one_in(draw: Any, n: int) -> bool:
    """True once in ``n`` draws: an argument out of range now and then, to compare the
    refusals (it shrinks to the valid case)."""
    return draw(st.integers(0, n - 1)) == n - 1


def close(name: str, ours: np.ndarray, theirs: np.ndarray, rtol: float,
          ref: np.ndarray | None = None) -> None:
    """ours against torch's (real or complex), to ``rtol`` relative to the result's scale; with
    ``ref`` (torch's result in float64) also to four times torch's own rounding error, so a
    float32 result is held to torch's accuracy where the problem is ill-conditioned. Integers
    and bools exactly; NaN where torch has NaN."""
    assert ours.shape == theirs.shape, f"{name}: shape {ours.shape} vs torch {theirs.shape}"
    if theirs.dtype.kind not in "fc":
        np.testing.assert_array_equal(ours, theirs, err_msg=name)
        return
    o, t = ours.astype(np.complex128), theirs.astype(np.complex128)
    scale = 1 + float(np.max(np.abs(t[np.isfinite(t)]), initial=0))
    with np.errstate(all="ignore"):  # (an inf against a finite reference)
        bound = rtol * scale + rtol * np.abs(t)
        if ref is not None and ref.shape == t.shape:
            bound = bound + 4 * np.nan_to_num(np.abs(t - ref), nan=0.0)
        ok = (np.abs(o - t) <= bound) | (o == t) | (np.isnan(o) & np.isnan(t))
    if not ok.all():
        np.testing.assert_allclose(o[~ok], t[~ok], rtol=rtol, atol=rtol * scale,
                                   equal_nan=True, err_msg=f"{name} (where they differ)")
