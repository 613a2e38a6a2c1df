"""gradcheck, gradgradcheck and the strategies as someone testing their own op uses them: the
bugs such an op has are each named in the message, PyTorch's calling conventions work (or are
refused, saying why), and the strategies draw values a gradient check can trust."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_rnn as tr
from tinygrad_rnn.testing import GradcheckError, gradcheck, gradgradcheck
from tinygrad_rnn.testing import strategies as tst

from .conftest import DEVICES

X = np.array([[0.5, -1.2, 2.0], [1.5, 0.7, -0.3]])


def t(a: Any, device: str = "cpu", requires_grad: bool = True) -> tr.Tensor:
    return tr.tensor(np.asarray(a, dtype=np.float64), device=device, requires_grad=requires_grad)


class Cube(tr.Function):
    """y = x³.  VJP: gx = 3 gy x² (correct)."""

    def forward(self, x: Any) -> Any:
        self.saved = (x,)
        return x * x * x

    def backward(self, gy: Any) -> Any:
        (x,) = self.saved
        return 3 * gy * x * x


class CubeScalingGyInPlace(Cube):
    """Right in value, but scales its upstream gradient in place."""

    def backward(self, gy: Any) -> Any:
        (x,) = self.saved
        gy *= 3
        return gy * x * x


class CubeScalingSavedInPlace(Cube):
    """Right in value, but squares the saved input in place (a second backward sees x²)."""

    def backward(self, gy: Any) -> Any:
        (x,) = self.saved
        x *= x
        return 3 * gy * x


class SinCos(tr.Function):
    """(sin x, cos x), a backward that takes None for an output no gradient reached."""

    def forward(self, x: Any) -> Any:
        self.saved = (x,)
        return self.xp.sin(x), self.xp.cos(x)

    def backward(self, g_sin: Any, g_cos: Any) -> Any:
        (x,) = self.saved
        gx = 0
        if g_sin is not None:
            gx = gx + g_sin * self.xp.cos(x)
        if g_cos is not None:
            gx = gx - g_cos * self.xp.sin(x)
        return gx


class SinCosNeedingBoth(SinCos):
    """Right when both gradients arrive; fails on None."""

    def backward(self, g_sin: Any, g_cos: Any) -> Any:
        (x,) = self.saved
        return g_sin * self.xp.cos(x) - g_cos * self.xp.sin(x)


class SinCosNoneIsNotZero(SinCos):
    """Takes None, but then returns something other than what zeros give."""

    def backward(self, g_sin: Any, g_cos: Any) -> Any:
        (x,) = self.saved
        if g_cos is None:
            return g_sin * self.xp.cos(x) + 1
        return super().backward(g_sin, g_cos)


class NoisyDouble(tr.Function):
    """y = 2x plus noise of size ``scale`` drawn afresh on every call."""

    scale = 1e-12  # seen by the check, too small to upset central differences
    rng = np.random.default_rng(0)

    def forward(self, x: Any) -> Any:
        return x * 2 + self.xp.asarray(self.scale * self.rng.standard_normal(x.shape))

    def backward(self, gy: Any) -> Any:
        return 2 * gy


class NoisyBackward(tr.Function):
    """y = 2x, whose gradient has noise drawn afresh on every backward."""

    rng = np.random.default_rng(0)

    def forward(self, x: Any) -> Any:
        return x * 2

    def backward(self, gy: Any) -> Any:
        return 2 * gy * self.xp.asarray(1 + 1e-12 * self.rng.standard_normal(gy.shape))


class TorchStyleCube(tr.autograd.Function):
    @staticmethod
    def forward(ctx: Any, x: tr.Tensor) -> tr.Tensor:
        ctx.save_for_backward(x)
        return x * x * x

    @staticmethod
    def backward(ctx: Any, gy: tr.Tensor) -> tr.Tensor:
        (x,) = ctx.saved_tensors
        return 3 * gy * x * x


# ---- PyTorch's calling conventions -----------------------------------------------------------


def test_gradcheck_takes_a_single_tensor_as_inputs():
    x = t(X)
    assert gradcheck(Cube.apply, x) is True
    assert gradgradcheck(Cube.apply, x) is True
    assert gradgradcheck(Cube.apply, x, grad_outputs=t(np.ones((2, 3)), requires_grad=False))
    assert gradcheck(Cube.apply, iter([x])) is True  # any iterable, read once
    with pytest.raises(TypeError, match="inputs must be a Tensor or a sequence"):
        gradcheck(Cube.apply, 3.0)


def test_gradcheck_takes_pytorchs_keywords():
    x = t(X)
    assert gradcheck(Cube.apply, (x,), eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=False,
                     fast_mode=True, nondet_tol=0.0, check_undefined_grad=True,
                     check_grad_dtypes=True, check_batched_grad=False, check_forward_ad=False,
                     check_backward_ad=True, check_batched_forward_grad=False, masked=None)
    assert gradgradcheck(Cube.apply, (x,), None, eps=1e-6, atol=1e-5, rtol=1e-3,
                         gen_non_contig_grad_outputs=False, raise_exception=True,
                         nondet_tol=0.0, check_undefined_grad=True, check_grad_dtypes=False,
                         check_batched_grad=False, check_fwd_over_rev=False,
                         check_rev_over_rev=True, fast_mode=False, masked=False)


@pytest.mark.parametrize("check, flag, value, why", [
    (gradcheck, "check_batched_grad", True, "no vectorised vmap"),
    (gradcheck, "masked", True, "sparse or masked inputs are not checked"),
    (gradgradcheck, "check_fwd_over_rev", True, "forward over reverse is not checked"),
    (gradgradcheck, "gen_non_contig_grad_outputs", True, "contiguous"),
])
def test_gradcheck_refuses_pytorch_checks_it_cannot_make(check, flag, value, why):
    with pytest.raises(ValueError, match=f"{flag}={value} is not supported: .*{why}"):
        check(Cube.apply, [t(X)], **{flag: value})
    with pytest.raises(ValueError, match=flag):  # a refusal is not a failed check
        check(Cube.apply, [t(X)], raise_exception=False, **{flag: value})


def test_gradcheck_unknown_keyword_is_a_type_error():
    with pytest.raises(TypeError, match="gradcheck\\(\\) got an unexpected keyword argument "
                                        "'check_everything'"):
        gradcheck(Cube.apply, [t(X)], check_everything=True)
    with pytest.raises(TypeError, match="gradgradcheck\\(\\) got an unexpected keyword"):
        gradgradcheck(Cube.apply, [t(X)], check_forward_ad=False)  # gradcheck's only


@pytest.mark.parametrize("kwargs, message", [
    ({"eps": 0.0}, "eps must be a positive number, not 0.0"),
    ({"eps": float("nan")}, "eps must be a positive number"),
    ({"n_directions": 0}, "n_directions must be at least 1"),
    ({"nondet_tol": -1.0}, "nondet_tol must be 0 or more"),
])
def test_gradcheck_refuses_meaningless_settings(kwargs, message):
    with pytest.raises(ValueError, match=message):
        gradcheck(Cube.apply, [t(X)], **kwargs)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_gradcheck_points_at_a_non_finite_input(bad):
    x = X.copy()
    x[1, 2] = bad
    with pytest.raises(GradcheckError, match=rf"input 0 is {bad} at element \(1, 2\): central "
                                             "differences near it are meaningless"), \
            np.errstate(invalid="ignore"):
        gradcheck(lambda a: a * 2, [t(x)], fast_mode=False)
    with pytest.raises(GradcheckError, match=rf"input 1 is {bad} at element \(1, 2\)"), \
            np.errstate(invalid="ignore"):
        gradcheck(lambda a, b: a * b, [t(X), t(x)])
    # meaningful where fn maps it to a constant
    assert gradcheck(lambda a: a.nan_to_num(posinf=5.0), [t(x)])


def test_gradcheck_and_gradgradcheck_check_a_torch_style_function():
    """Its backward, written with Tensor ops, is differentiable again, as in PyTorch; a wrong
    second derivative (a backward that leaves the graph) is caught."""
    assert gradcheck(TorchStyleCube.apply, [t(X)])
    assert gradgradcheck(TorchStyleCube.apply, [t(X)])

    class Detached(TorchStyleCube):
        @staticmethod
        def backward(ctx: Any, gy: tr.Tensor) -> tr.Tensor:
            (x,) = ctx.saved_tensors
            return 3 * gy * (x * x).detach()  # the second derivative loses 6·x·gy

    assert gradcheck(Detached.apply, [t(X)])
    with pytest.raises(GradcheckError):
        gradgradcheck(Detached.apply, [t(X)])


def test_strategies_are_an_attribute_of_testing():
    assert tr.testing.strategies is tst
    assert tr.testing.strict.StrictArray is not None
    with pytest.raises(AttributeError, match="no attribute 'nonesuch'"):
        tr.testing.nonesuch  # noqa: B018


# ---- each op's backward, called as the engine calls it ---------------------------------------


@pytest.mark.parametrize("device", DEVICES)
def test_gradcheck_names_an_inner_op_that_scales_gy_in_place(device):
    # not at the output, the op gets the engine's array: the value comes out right, but Add
    # hands one array to both of its inputs' ops, so the other one would see the change
    x = t(X, device)
    with pytest.raises(GradcheckError, match="backward mutated the upstream gradient of output 0 "
                                             "of CubeScalingGyInPlace: CubeScalingGyInPlace"
                                             r"\.backward changes its gy in place"):
        gradcheck(lambda a: CubeScalingGyInPlace.apply(a.tanh()).sin(), [x])
    assert gradcheck(lambda a: Cube.apply(a.tanh()).sin(), [x])


@pytest.mark.parametrize("device", DEVICES)
def test_gradcheck_names_an_op_whose_backward_changes_what_it_saved(device):
    with pytest.raises(GradcheckError, match=r"CubeScalingSavedInPlace\.backward mutated an "
                                             "array it saved or one of its inputs"):
        gradcheck(lambda a: CubeScalingSavedInPlace.apply(a * 1.5), [t(X, device)])


@pytest.mark.parametrize("device", DEVICES)
def test_gradcheck_checks_that_several_outputs_take_none(device):
    x = t(X, device)
    assert gradcheck(SinCos.apply, [x])
    assert gradcheck(lambda a: SinCos.apply(a)[1], [x])
    with pytest.raises(GradcheckError, match=r"SinCosNeedingBoth\.backward fails when only "
                                             "output 0 gets a gradient: the engine passes None "
                                             r"for output\(s\) 1.*TypeError"):
        gradcheck(lambda a: sum(SinCosNeedingBoth.apply(a), 0), [x])  # both reach it here
    assert gradcheck(lambda a: sum(SinCosNeedingBoth.apply(a), 0), [x],
                     check_undefined_grad=False)
    with pytest.raises(GradcheckError, match=r"SinCosNoneIsNotZero\.backward gives input 0 "
                                             r"another gradient when output\(s\) 1 get None"):
        gradcheck(lambda a: sum(SinCosNoneIsNotZero.apply(a), 0), [x])
    assert gradgradcheck(SinCos.apply, [x])


# ---- determinism -----------------------------------------------------------------------------


@pytest.mark.parametrize("fast_mode", [False, True])
def test_gradcheck_says_a_forward_is_not_deterministic(fast_mode):
    with pytest.raises(GradcheckError, match=r"fn is not deterministic: two calls on the same "
                                             r"inputs give output 0 values that differ by .* at "
                                             r"element \(\d, \d\) \(nondet_tol=0.0\)"):
        gradcheck(NoisyDouble.apply, [t(X)], fast_mode=fast_mode)
    assert gradcheck(NoisyDouble.apply, [t(X)], fast_mode=fast_mode, nondet_tol=1e-9)
    assert gradcheck(NoisyDouble.apply, [t(X)], raise_exception=False) is False


def test_gradcheck_says_a_backward_is_not_deterministic():
    with pytest.raises(GradcheckError, match=r"NoisyBackward.backward is not deterministic or "
                                             r"not reentrant: called twice with the same "
                                             r"upstream gradient, it gives input 0 gradients "
                                             r"that differ by"):
        gradcheck(NoisyBackward.apply, [t(X)])
    assert gradcheck(NoisyBackward.apply, [t(X)], nondet_tol=1e-9)
    assert gradgradcheck(lambda a: a.tanh(), [t(X)], nondet_tol=1e-7)


# ---- hints where a mismatch has a plain cause ------------------------------------------------


@pytest.mark.parametrize("fast_mode", [False, True])
def test_gradcheck_says_when_an_output_needs_no_grad(fast_mode):
    with pytest.raises(GradcheckError, match="analytic 0 vs numerical 2 .*output 1 does not "
                                             "require grad" if not fast_mode else
                                             "output 1 does not require grad"):
        gradcheck(lambda a: (a.tanh(), a.detach() * 2), [t(X)], fast_mode=fast_mode)


def test_gradcheck_says_when_an_output_lost_precision():
    with pytest.raises(GradcheckError, match="output 0 is float32, not float64: fn lowers the "
                                             "precision"):
        gradcheck(lambda a: a.astype(np.float32).tanh(), [t(X)])


# ---- strategies: values a gradient check can trust -------------------------------------------


@settings(max_examples=30)
@given(data=st.data(), dtype=st.sampled_from([np.float64, np.float32]),
       away=st.lists(st.floats(-2, 2), max_size=3), gap=st.sampled_from([1e-3, 0.1]))
def test_arrays_keep_away_from_the_points_given(data, dtype, away, gap):
    a = data.draw(tst.arrays(tst.shapes(min_side=0), dtype, away_from=away, gap=gap))
    assert a.dtype == dtype
    assert np.all((-3 <= a) & (a <= 3))
    for p in away:
        assert np.all(np.abs(a.astype(np.float64) - p) >= gap)


@settings(max_examples=30)
@given(data=st.data(), dtype=st.sampled_from([np.float64, np.float32]),
       gap=st.sampled_from([1e-3, 0.05]))
def test_arrays_distinct_are_gap_apart(data, dtype, gap):
    a = data.draw(tst.arrays(tst.shapes(min_side=0), dtype, min_value=-1, max_value=2,
                             distinct=True, away_from=[0.0], gap=gap))
    v = np.sort(a.astype(np.float64).ravel())
    assert np.all(np.diff(v) >= gap * (1 - 1e-6))  # float32 rounds the multiples of gap
    assert np.all(np.abs(v) >= gap * (1 - 1e-6)) and np.all((-1 <= v) & (v <= 2))


@settings(max_examples=15)
@given(x=tst.tensors(st.just((3,)), requires_grad=True, away_from=[0.0]),
       y=tst.tensors(tst.shapes(min_dims=1), requires_grad=True, distinct=True),
       xs=tst.broadcastable_tensors(2, requires_grad=True, away_from=[-1.0, 1.0]))
def test_values_away_from_kinks_make_gradchecks_pass(x, y, xs):
    assert gradcheck(lambda a: a.abs(), [x])
    assert gradcheck(lambda a: a.max(), [y])
    assert gradcheck(lambda a, b: a.clip(-1, 1) * b.clip(-1, 1), xs)


@pytest.mark.parametrize("kwargs, message", [
    ({"dtype": np.int64, "away_from": [0]}, "away_from and distinct are for floating dtypes"),
    ({"dtype": bool, "distinct": True}, "away_from and distinct are for floating dtypes"),
    ({"gap": 0.0}, "gap must be positive"),
    ({"min_value": -0.01, "max_value": 0.01, "away_from": [0.0], "gap": 0.1},
     r"no float64 value lies in \[-0.01, 0.01\] at least 0.1 away from \[0.0\]"),
    ({"shape": (20,), "min_value": 0, "max_value": 0.01, "distinct": True},
     r"an array of shape \(20,\) needs 20 values 0.001 apart, and only 10 fit"),
])
def test_arrays_refuse_impossible_requests_at_once(kwargs, message):
    with pytest.raises(ValueError, match=message):
        tst.arrays(**{"shape": (2,), **kwargs})
    if "away_from" in kwargs:  # the operands of a binary op too, before any is drawn
        with pytest.raises(ValueError, match=message):
            tst.broadcastable_tensors(2, **kwargs)


class CubeCountingCalls(Cube):
    """Right the first time, but changes an attribute it reads: not reentrant."""

    def forward(self, x: Any) -> Any:
        self.k = 3.0
        return super().forward(x)

    def backward(self, gy: Any) -> Any:
        (x,) = self.saved
        out = self.k * gy * x * x
        self.k *= 2
        return out


class CubeFlippingItsMask(Cube):
    """Keeps an array in an attribute of its own (not in ``saved``) and changes it."""

    def forward(self, x: Any) -> Any:
        self.scale = x * 0 + 3
        return super().forward(x)

    def backward(self, gy: Any) -> Any:
        (x,) = self.saved
        out = self.scale * gy * x * x
        self.scale *= 2
        return out


@pytest.mark.parametrize("device", DEVICES)
def test_state_changed_in_backward_is_caught(device):
    x = t(X, device)
    with pytest.raises(GradcheckError, match="CubeCountingCalls.backward is not deterministic "
                                             "or not reentrant"):
        gradcheck(CubeCountingCalls.apply, [x])
    with pytest.raises(GradcheckError, match="CubeFlippingItsMask.backward mutated an array"):
        gradcheck(CubeFlippingItsMask.apply, [x])


def test_strategy_bounds_hold_in_float64_arithmetic():
    """p + gap can round to a hair inside the gap (2.0 + 0.001 is 2.001, and 2.001 - 2.0 is
    0.00099999...): the ends are moved out until the distance, as a test computes it, is gap;
    and distinct float32 values, rounded, stay gap apart."""
    from tinygrad_rnn.testing.strategies import _allowed, _grid_step

    for dt in (np.dtype(np.float64), np.dtype(np.float32)):
        (_, below), (above, _) = _allowed(dt, -3.0, 3.0, [2.0], 1e-3)
        assert 2.0 - below >= 1e-3 and above - 2.0 >= 1e-3
        step = _grid_step(dt, -3.0, 3.0, 1e-3)
        grid = np.arange(-2999, 3000) * step
        values = grid.astype(dt).astype(np.float64)
        assert np.diff(values).min() >= 1e-3


@pytest.mark.torch
@pytest.mark.parametrize("dtype", ["float32", "float64", "complex64", "int64", "int8", "uint8",
                                   "bool"])
@pytest.mark.parametrize("bounds", [(None, None), (-2, 3), (0.5, 0.75), (-300, 300)])
def test_make_tensor_draws_as_torchs(dtype, bounds):
    """Shape, dtype, the range of the values (PyTorch's defaults, clamped to the dtype,
    integer bounds rounded up) and the refusals equal torch.testing.make_tensor's."""
    torch = pytest.importorskip("torch")
    from tinygrad_rnn.testing import make_tensor

    low, high = bounds
    kw = {"low": low, "high": high}
    try:
        theirs = torch.testing.make_tensor(200, 3, dtype=getattr(torch, dtype), device="cpu",
                                           **kw)
    except Exception as e:  # noqa: BLE001 - whatever torch raises, ours raises too
        with pytest.raises(type(e)):
            make_tensor(200, 3, dtype=dtype, **kw)
        return
    ours = make_tensor((200, 3), dtype=dtype, **kw)
    assert ours.shape == tuple(theirs.shape) and str(ours.dtype) == dtype
    a, b = ours.numpy(), theirs.numpy()
    parts = [a.real, a.imag] if dtype.startswith("complex") else [a]
    if dtype == "bool":
        assert set(np.unique(a)) == {False, True}
        return
    lo = b.real.min() if dtype.startswith("complex") else b.min()
    hi = b.real.max() if dtype.startswith("complex") else b.max()
    for part in parts:  # within torch's range, give or take one draw's spacing
        span = float(hi) - float(lo)
        assert part.min() >= float(lo) - 0.1 * span - 1e-9
        assert part.max() <= float(hi) + 0.1 * span + 1e-9


@pytest.mark.torch
def test_make_tensor_options_as_torchs():
    torch = pytest.importorskip("torch")
    from tinygrad_rnn.testing import make_tensor

    for bad in [dict(dtype="int64", requires_grad=True), dict(dtype="float32", low=2, high=1),
                dict(dtype="float32", low=float("nan")), dict(dtype="int32", low=3, high=3)]:
        with pytest.raises(ValueError):
            torch.testing.make_tensor(3, device="cpu",
                                      **{**bad, "dtype": getattr(torch, bad["dtype"])})
        with pytest.raises(ValueError):
            make_tensor(3, **bad)
    with pytest.warns(FutureWarning, match="low==high"):  # as torch's, for floats
        torch.testing.make_tensor(3, dtype=torch.float32, device="cpu", low=1, high=1)
    with pytest.warns(FutureWarning, match="low==high"):
        same = make_tensor(3, dtype="float32", low=1, high=1)
    assert (same.numpy() == 1).all()
    z = make_tensor(1000, dtype="int64", low=-1, high=1, exclude_zero=True)
    assert set(np.unique(z.numpy())) <= {-1, 1}
    f = make_tensor(1000, dtype="float32", low=0, high=1e-30, exclude_zero=True)
    assert (f.numpy() != 0).all()
    x = make_tensor(4, 5, dtype="float64", noncontiguous=True, requires_grad=True)
    assert not x.is_contiguous() and x.requires_grad and x.is_leaf
    assert make_tensor(1, dtype="float64", noncontiguous=True).is_contiguous()  # one element
    tr.manual_seed(3)
    first = make_tensor(5, dtype="float32")
    tr.manual_seed(3)
    np.testing.assert_array_equal(make_tensor(5, dtype="float32").numpy(), first.numpy())


@pytest.mark.torch
def test_make_tensor_memory_format_as_torchs():
    """``memory_format`` lays the values out as PyTorch's (a leaf with its strides); with
    ``noncontiguous`` it is refused, and channels-last of a 2-D shape too, as there."""
    torch = pytest.importorskip("torch")
    from tinygrad_rnn.testing import make_tensor

    theirs = torch.testing.make_tensor(2, 3, 4, 5, dtype=torch.float32, device="cpu",
                                       memory_format=torch.channels_last, requires_grad=True)
    ours = make_tensor(2, 3, 4, 5, dtype="float32", memory_format=tr.channels_last,
                       requires_grad=True)
    assert ours.stride() == theirs.stride() and ours.is_leaf and ours.requires_grad
    assert ours.is_contiguous(memory_format=tr.channels_last)
    for kw, tkw in [(dict(noncontiguous=True, memory_format=tr.channels_last),
                     dict(noncontiguous=True, memory_format=torch.channels_last)),
                    (dict(memory_format=tr.channels_last_3d),
                     dict(memory_format=torch.channels_last_3d))]:
        with pytest.raises((ValueError, RuntimeError)):
            torch.testing.make_tensor(2, 3, 4, 5, dtype=torch.float32, device="cpu", **tkw)
        with pytest.raises((ValueError, RuntimeError), match="noncontiguous|rank 5"):
            make_tensor(2, 3, 4, 5, dtype="float32", **kw)
