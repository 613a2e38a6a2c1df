"""torch._foreach_*: each function equals its method applied to every tensor of the list, in
values and in place, against PyTorch; the Polyak/EMA update written with them; the errors."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_rnn as tr
from tinygrad_rnn.foreach import FUNCTIONS

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.torch

SHAPES = [(3,), (2, 2), ()]


def _lists(seed, positive=False):
    rng = np.random.default_rng(seed)
    arrays = [rng.standard_normal(s) for s in SHAPES]
    if positive:
        arrays = [np.abs(a) + 0.5 for a in arrays]
    return [tr.tensor(a) for a in arrays], [torch.tensor(a) for a in arrays]


def _same(ours, theirs):
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-13, atol=1e-15)


def test_every_name_is_torchs():
    assert all(hasattr(torch, name) for name in FUNCTIONS)
    assert all(getattr(tr, name) is f for name, f in FUNCTIONS.items())
    assert len(FUNCTIONS) >= 85


@pytest.mark.parametrize("name", sorted(n for n in FUNCTIONS if n.rstrip("_").split(
    "_foreach_")[1] in ("abs", "sqrt", "exp", "neg", "sigmoid", "tanh", "log", "reciprocal",
                        "sign", "round", "frac", "erfc", "lgamma", "rsqrt")))
def test_unary(name):
    ours, theirs = _lists(1, positive=True)
    out, t_out = getattr(tr, name)(ours), getattr(torch, name)(theirs)
    if name.endswith("_"):  # the given tensors, changed in place, as torch 2.13's
        assert all(o is t for o, t in zip(out, ours))
        _same(ours, theirs)
    else:
        _same(out, t_out)


@pytest.mark.parametrize("name", ["add", "sub", "mul", "div", "maximum", "minimum",
                                  "clamp_max", "clamp_min", "pow"])
@pytest.mark.parametrize("in_place", [False, True])
@pytest.mark.parametrize("form", ["number", "numbers", "tensors", "tensor"])
def test_binary(name, in_place, form):
    fn = f"_foreach_{name}{'_' if in_place else ''}"
    if not hasattr(tr, fn):
        pytest.skip(f"{fn}: no Tensor method of that name")
    ours, theirs = _lists(2, positive=name == "pow")
    o2, t2 = _lists(3, positive=True)
    other = {"number": (1.5, 1.5), "numbers": ([0.5, 2.0, 1.5],) * 2,
             "tensors": (o2, t2), "tensor": (o2[2], t2[2])}[form]
    if form == "tensor" and name not in ("add", "mul", "div"):
        pytest.skip("torch takes one tensor for all only in add, mul and div")
    kw = {"alpha": 0.5} if name in ("add", "sub") and form in ("tensors", "tensor") else {}
    out = getattr(tr, fn)(ours, other[0], **kw)
    t_out = getattr(torch, fn)(theirs, other[1], **kw)
    _same(ours if in_place else out, theirs if in_place else t_out)


def test_addcmul_addcdiv_lerp_norm_max_zero_copy_clone_mm():
    (a, ta), (b, tb), (c, tc) = _lists(4), _lists(5, positive=True), _lists(6, positive=True)
    for name, args, t_args in [("addcmul", (b, c), (tb, tc)), ("addcdiv", (b, c), (tb, tc))]:
        _same(getattr(tr, f"_foreach_{name}")(a, *args, value=0.3),
              getattr(torch, f"_foreach_{name}")(ta, *t_args, value=0.3))
        _same(getattr(tr, f"_foreach_{name}")(a, *args, [0.1, 0.2, 0.3]),
              getattr(torch, f"_foreach_{name}")(ta, *t_args, [0.1, 0.2, 0.3]))
    _same(tr._foreach_lerp(a, b, 0.25), torch._foreach_lerp(ta, tb, 0.25))
    _same(tr._foreach_lerp(a, b, c), torch._foreach_lerp(ta, tb, tc))
    _same(tr._foreach_norm(a), torch._foreach_norm(ta))
    _same(tr._foreach_norm(a, 1), torch._foreach_norm(ta, 1))
    _same(tr._foreach_max(a), torch._foreach_max(ta))
    m, tm = [tr.ones(2, 3)], [torch.ones(2, 3, dtype=torch.float64)]
    k, tk = [tr.ones(3, 4)], [torch.ones(3, 4, dtype=torch.float64)]
    _same([x.to(tr.float64) for x in tr._foreach_mm(m, k)], torch._foreach_mm(tm, tk))
    clones = tr._foreach_clone(a)
    tr._foreach_copy_(a, b)
    torch._foreach_copy_(ta, tb)
    _same(a, ta)
    assert not np.array_equal(clones[0].numpy(), a[0].numpy())
    tr._foreach_zero_(a)
    assert all((x.numpy() == 0).all() for x in a)


def test_a_polyak_update_of_target_networks_as_torch():
    """target ← τ·online + (1 - τ)·target, the SAC/DQN update, with _foreach_mul_ and
    _foreach_add_ (and the EMA form with _foreach_lerp_), under no_grad."""
    nets = []
    for lib in (tr, torch):
        lib.manual_seed(0)
        online, target = lib.nn.Linear(3, 2), lib.nn.Linear(3, 2)
        nets.append((lib, online, target))
    t_online, t_target = nets[1][1], nets[1][2]
    for _, online, target in nets[:1]:
        online.load_state_dict({k: v.numpy() for k, v in t_online.state_dict().items()})
        target.load_state_dict({k: v.numpy() for k, v in t_target.state_dict().items()})
    for lib, online, target in nets:
        with lib.no_grad():
            for _ in range(3):
                lib._foreach_mul_(list(target.parameters()), 0.9)
                lib._foreach_add_(list(target.parameters()), list(online.parameters()),
                                  alpha=0.1)
                lib._foreach_lerp_(list(target.parameters()), list(online.parameters()), 0.05)
    for p, tp in zip(nets[0][2].parameters(), nets[1][2].parameters()):
        np.testing.assert_allclose(p.numpy(), tp.detach().numpy(), rtol=1e-6)


def test_errors():
    a, _ = _lists(7)
    with pytest.raises(RuntimeError, match="same number of tensors, got 3 and 2"):
        tr._foreach_add(a, [1.0, 2.0])
    with pytest.raises(TypeError, match="expects a list of Tensors, got a float"):
        tr._foreach_exp([1.0])
    p = tr.nn.Parameter(tr.ones(2))
    with pytest.raises(RuntimeError, match="leaf tensor that requires grad"):
        tr._foreach_add_([p], 1.0)  # outside no_grad, as torch's
