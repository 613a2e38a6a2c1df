"""einsum: values against NumPy, values and gradients against PyTorch, gradients and second
derivatives against central differences on every device, for matrix products, batched and
broadcast (ellipsis) ones, reductions, outer products, three operands, implicit outputs and a
letter that only one operand has; and the errors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_rnn as tr
from tinygrad_rnn.ops.linalg import einsum
from tinygrad_rnn.testing import gradcheck, gradgradcheck

from .conftest import DEVICES

# (spec, operand shapes)
CASES = [
    ("ij,jk->ik", [(2, 3), (3, 4)]),
    ("bij,bjk->bik", [(2, 3, 4), (2, 4, 1)]),
    ("...ij,...jk->...ik", [(2, 1, 3, 4), (5, 4, 2)]),  # batch axes broadcast
    ("ij,jk", [(2, 3), (3, 4)]),  # implicit output: "ik"
    ("ba,ca", [(2, 3), (4, 3)]),  # implicit output, alphabetical: "bc"
    ("i,j->ij", [(3,), (4,)]),
    ("ij->", [(2, 3)]),
    ("ij->ji", [(2, 3)]),
    ("bij->j", [(2, 3, 4)]),
    ("ij,k->ik", [(2, 3), (4,)]),  # j and k summed away, each in one operand only
    ("bqd,bkd->bqk", [(2, 3, 4), (2, 5, 4)]),  # attention scores
    ("bqk,bkd->bqd", [(2, 3, 5), (2, 5, 4)]),  # attention-weighted values
    ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 2)]),
    ("...i,...i->...", [(3, 4), (4,)]),
    ("b...,b->...", [(2, 3, 1), (2,)]),
]


def _operands(shapes, device, rng):
    return [tr.tensor(rng.standard_normal(s), device=device, requires_grad=True)
            for s in shapes]


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize(("spec", "shapes"), CASES, ids=[c[0] for c in CASES])
@given(seed=st.integers(0, 2**16))
def test_einsum_values_gradients_and_second_derivatives(spec, shapes, device, seed):
    ops = _operands(shapes, device, np.random.default_rng(seed))
    np.testing.assert_allclose(einsum(spec, *ops).numpy(),
                               np.einsum(spec, *(t.numpy() for t in ops)), rtol=1e-12,
                               atol=1e-14)
    f = lambda *t: einsum(spec, *t)  # noqa: E731
    assert gradcheck(f, ops) and gradgradcheck(f, ops)


@pytest.mark.torch
@pytest.mark.parametrize(("spec", "shapes"), CASES, ids=[c[0] for c in CASES])
def test_einsum_matches_torch(spec, shapes):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    arrays = [rng.standard_normal(s) for s in shapes]
    ours = [tr.tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    y, z = tr.einsum(spec, *ours), torch.einsum(spec, *theirs)
    np.testing.assert_allclose(y.numpy(), z.detach().numpy(), rtol=1e-12, atol=1e-14)
    gy = rng.standard_normal(y.shape)
    y.backward(tr.tensor(gy))
    z.backward(torch.tensor(gy))
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-12, atol=1e-14)
    assert tr.einsum(spec, ours).shape == y.shape  # the operands as one list


def test_einsum_keeps_float32_and_errors():
    a, b = tr.ones(2, 3), tr.ones(3, 4)
    assert tr.einsum("ij,jk->ik", a, b).dtype == np.float32
    errors = [
        (lambda: tr.einsum("ij,jk->ik", a), r"names 2 operands, 1 given"),
        (lambda: tr.einsum("ij,jk->ik", a, b.double()), "dtypes differ"),
        (lambda: tr.einsum("ij,kl->ik", a, a), None),  # fine: nothing shared
        (lambda: tr.einsum("ii->i", tr.ones(3, 3)), "repeated within one operand"),
        (lambda: tr.einsum("ij,jk->ik", a, tr.ones(2, 4)), "letter 'j' is size 3 in one "
                                                            "operand and 2 in another"),
        (lambda: tr.einsum("ijk->i", a), r"names 3 axes for a tensor of shape \(2, 3\)"),
        (lambda: tr.einsum("ij->iz", a), "each output letter once, and from the operands"),
        (lambda: tr.einsum("i1->i", a), "letters and at most one '...'"),
        (lambda: tr.einsum("...i,...i->...", tr.ones(2, 3), tr.ones(4, 3)), "do not "
                                                                            "broadcast"),
        (lambda: tr.einsum("ij", np.ones((2, 3))), "a string, then Tensors"),
    ]
    for call, message in errors:
        if message is None:
            assert call().shape == (2, 2)
            continue
        with pytest.raises((ValueError, TypeError), match=message):
            call()
