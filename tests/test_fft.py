"""tr.fft: every transform's values, dtypes and gradients against torch.fft (Hypothesis draws the
shape, ``n``/``s``, ``dim`` and ``norm``), gradcheck on each (the real-to-complex and
complex-to-real ones: Hermitian symmetry, doubled bins, padding and trimming), the frequency
helpers and shifts, and torch's errors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_rnn as tr
from tinygrad_rnn.testing import gradcheck, gradgradcheck

NORMS = st.sampled_from([None, "backward", "ortho", "forward"])
ONE_D = ["fft", "ifft", "rfft", "irfft", "hfft", "ihfft"]
N_D = ["fft2", "ifft2", "rfft2", "irfft2", "fftn", "ifftn", "rfftn", "irfftn", "hfft2", "ihfft2",
       "hfftn", "ihfftn"]
REAL_INPUT = {"rfft", "ihfft", "rfft2", "rfftn", "ihfft2", "ihfftn"}  # (the others: complex)


def _input(rng: np.random.Generator, shape: tuple[int, ...], name: str) -> np.ndarray:
    a = rng.standard_normal(shape)
    return a if name in REAL_INPUT else a + 1j * rng.standard_normal(shape)


def _against_torch(f, ft, a, seed=0):
    torch = pytest.importorskip("torch")
    x, xt = tr.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    y, yt = f(x), ft(xt)
    assert y.shape == tuple(yt.shape)
    assert str(y.dtype) == str(yt.dtype).removeprefix("torch.")
    np.testing.assert_allclose(y.numpy(), yt.detach().resolve_conj().numpy(), rtol=1e-9,
                               atol=1e-9)
    rng = np.random.default_rng(seed)
    g = rng.standard_normal(yt.shape)
    if yt.is_complex():
        g = g + 1j * rng.standard_normal(yt.shape)
    y.backward(tr.tensor(g))
    yt.backward(torch.tensor(g))
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.resolve_conj().numpy(), rtol=1e-9,
                               atol=1e-9)


@st.composite
def one_d_cases(draw):
    ndim = draw(st.integers(1, 3))
    shape = tuple(draw(st.lists(st.integers(1, 5), min_size=ndim, max_size=ndim)))
    dim = draw(st.integers(-ndim, ndim - 1))
    n = draw(st.none() | st.integers(1, 8))
    return shape, n, dim, draw(NORMS), draw(st.integers(0, 2**16))


@pytest.mark.torch
@pytest.mark.parametrize("name", ONE_D)
@given(case=one_d_cases())
def test_one_dimensional_transforms_match_torch(name, case):
    torch = pytest.importorskip("torch")
    shape, n, dim, norm, seed = case
    if name in ("irfft", "hfft") and n is None and shape[dim] == 1:
        n = 2  # (the default n = 2 (m - 1) is 0 there: an error, tested below)
    a = _input(np.random.default_rng(seed), shape, name)
    _against_torch(lambda x: getattr(tr.fft, name)(x, n, dim, norm),
                   lambda x: getattr(torch.fft, name)(x, n, dim, norm), a, seed)


@st.composite
def n_d_cases(draw, name):
    ndim = draw(st.integers(2, 3))
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=ndim, max_size=ndim)))
    k = 2 if name.endswith("2") else draw(st.integers(1, ndim))
    dim = tuple(draw(st.permutations(range(-ndim, 0)))[:k]) if name[-1] == "n" and draw(
        st.booleans()) else None
    s = draw(st.none() | st.lists(st.integers(1, 6) | st.just(-1), min_size=k, max_size=k))
    if dim is None and name[-1] == "n" and s is None:
        k = ndim
    if (s is None or s[-1] == -1) and name.startswith(("irfft", "hfft")):  # 2 (m - 1) > 0
        last = (dim[-1] if dim else -1)
        shape = tuple(max(m, 2) if i == last % ndim else m for i, m in enumerate(shape))
    return shape, s, dim, draw(NORMS), draw(st.integers(0, 2**16))


@pytest.mark.torch
@pytest.mark.parametrize("name", N_D)
@given(data=st.data())
def test_multi_dimensional_transforms_match_torch(name, data):
    torch = pytest.importorskip("torch")
    shape, s, dim, norm, seed = data.draw(n_d_cases(name))
    a = _input(np.random.default_rng(seed), shape, name)
    kw = {} if dim is None else {"dim": dim}
    _against_torch(lambda x: getattr(tr.fft, name)(x, s, norm=norm, **kw),
                   lambda x: getattr(torch.fft, name)(x, s, norm=norm, **kw), a, seed)


@pytest.mark.parametrize("name", ONE_D + N_D)
@pytest.mark.parametrize("norm", ["backward", "ortho", "forward"])
@pytest.mark.parametrize("n", [None, 3, 6])
def test_every_transform_passes_gradcheck(name, norm, n):
    """Padding (n > 4) and trimming (n < 4), odd and even lengths, the doubled bins of the
    complex-to-real transforms, against central differences on real and imaginary parts."""
    a = _input(np.random.default_rng(0), (3, 4), name)
    x = tr.tensor(a, requires_grad=True)
    f = getattr(tr.fft, name)
    arg = n if name in ONE_D or n is None else (2, n)
    assert gradcheck(lambda x: f(x, arg, norm=norm), (x,))


def test_transforms_compose_with_other_ops_to_second_derivatives():
    rng = np.random.default_rng(1)
    x = tr.tensor(rng.standard_normal(6), requires_grad=True)
    assert gradgradcheck(lambda x: tr.fft.irfft(tr.fft.rfft(x) ** 2, 6).exp(), (x,))
    assert gradcheck(lambda x: tr.fft.fft(x).abs().sum(), (x,))


@pytest.mark.torch
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64, np.bool_, np.complex64])
def test_dtypes_follow_torch(dtype):
    torch = pytest.importorskip("torch")
    a = (np.arange(6) % 3).astype(dtype)
    for name in ("fft", "ifft", "irfft", "hfft", "fftn") + (
            ("rfft", "ihfft", "rfftn") if dtype != np.complex64 else ()):
        y, yt = getattr(tr.fft, name)(tr.tensor(a)), getattr(torch.fft, name)(torch.tensor(a))
        assert str(y.dtype) == str(yt.dtype).removeprefix("torch."), name
        np.testing.assert_allclose(y.numpy(), yt.resolve_conj().numpy(), rtol=1e-5, atol=1e-5)


@pytest.mark.torch
@pytest.mark.parametrize("n", [1, 4, 5])
@pytest.mark.parametrize("d", [1.0, 0.25])
def test_frequencies_and_shifts_match_torch(n, d):
    torch = pytest.importorskip("torch")
    for name in ("fftfreq", "rfftfreq"):
        y, yt = getattr(tr.fft, name)(n, d), getattr(torch.fft, name)(n, d)
        assert y.dtype == np.float32
        np.testing.assert_allclose(y.numpy(), yt.numpy(), rtol=1e-6)
    assert tr.fft.fftfreq(n, dtype=tr.float64).dtype == np.float64
    a = np.arange(n * 3).reshape(3, n)
    for name in ("fftshift", "ifftshift"):
        for dim in (None, 1, (0, 1), -2):
            y = getattr(tr.fft, name)(tr.tensor(a), dim)
            np.testing.assert_array_equal(y.numpy(), getattr(torch.fft, name)(
                torch.tensor(a), dim).numpy())
    _against_torch(lambda x: tr.fft.ifftshift(tr.fft.fftshift(x) * 2, 0),
                   lambda x: torch.fft.ifftshift(torch.fft.fftshift(x) * 2, 0),
                   np.arange(3 * n) + 1j)


def test_errors_are_torch_s():
    x = tr.tensor([1.0, 2.0, 3.0, 4.0])
    with pytest.raises(RuntimeError, match='Invalid normalization mode: "foo"'):
        tr.fft.fft(x, norm="foo")
    with pytest.raises(IndexError, match="Dimension out of range"):
        tr.fft.fft(x, dim=1)
    with pytest.raises(IndexError, match="tensor has no dimensions"):
        tr.fft.fft(tr.tensor(1.0))
    with pytest.raises(RuntimeError, match=r"Invalid number of data points \(0\)"):
        tr.fft.fft(x, n=0)
    with pytest.raises(RuntimeError, match=r"Invalid number of data points \(0\)"):
        tr.fft.irfft(tr.tensor(np.array([1j])))
    with pytest.raises(RuntimeError, match="same length"):
        tr.fft.fftn(tr.zeros(2, 3), s=(2,), dim=(0, 1))
    with pytest.raises(RuntimeError, match="shape with 3 values but input tensor only has 2"):
        tr.fft.fftn(tr.zeros(2, 3), s=(2, 2, 2))
    with pytest.raises(RuntimeError, match="unique"):
        tr.fft.fftn(tr.zeros(2, 3), dim=(0, 0))
    with pytest.raises(RuntimeError, match="rfft.* expects a real input"):
        tr.fft.rfft(x.to(tr.complex64))
    with pytest.raises(RuntimeError, match="ihfft expects a real input"):
        tr.fft.ihfft(x.to(tr.complex64))
    with pytest.raises(RuntimeError, match="unsupported dtype float16"):
        tr.fft.fft(x.half())
    with pytest.raises(RuntimeError, match="at least one axis"):
        tr.fft.rfftn(tr.zeros(2, 3), dim=())
    assert tr.fft.fftn(x, dim=()).dtype == np.complex64


def _against_torch_many(f, arrays, seed=0):
    """f(module, *tensors) here and in torch: values, dtypes and every input's gradient."""
    torch = pytest.importorskip("torch")
    xs = [tr.tensor(a, requires_grad=True) for a in arrays]
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    y, yt = f(tr, *xs), f(torch, *ts)
    assert y.shape == tuple(yt.shape) and str(y.dtype) == str(yt.dtype).removeprefix("torch.")
    np.testing.assert_allclose(y.numpy(), yt.detach().resolve_conj().numpy(), atol=1e-9)
    rng = np.random.default_rng(seed)
    g = rng.standard_normal(yt.shape)
    g = g + 1j * rng.standard_normal(yt.shape) if yt.is_complex() else g
    y.backward(tr.tensor(g))
    yt.backward(torch.tensor(g))
    for x, t in zip(xs, ts):
        np.testing.assert_allclose(x.grad.numpy(), t.grad.resolve_conj().numpy(), atol=1e-9)


@pytest.mark.torch
@given(shape=st.sampled_from([(20,), (2, 17)]), n_fft=st.sampled_from([4, 8]),
       hop=st.sampled_from([None, 3]), win_length=st.sampled_from([None, 3]),
       center=st.booleans(), normalized=st.booleans(),
       pad_mode=st.sampled_from(["reflect", "constant"]), complex_input=st.booleans(),
       seed=st.integers(0, 2**16))
def test_stft_matches_torch_with_gradients_for_signal_and_window(
        shape, n_fft, hop, win_length, center, normalized, pad_mode, complex_input, seed):
    rng = np.random.default_rng(seed)
    a = rng.standard_normal(shape) + (1j * rng.standard_normal(shape) if complex_input else 0)
    w = rng.standard_normal(win_length or n_fft) + 1.5
    _against_torch_many(lambda m, x, w: m.stft(x, n_fft, hop, win_length, w, center, pad_mode,
                                               normalized, return_complex=True), [a, w], seed)


@pytest.mark.torch
@pytest.mark.filterwarnings("ignore:The length of signal is shorter")
@given(shape=st.sampled_from([(20,), (2, 17)]), n_fft=st.sampled_from([4, 8]),
       hop=st.sampled_from([None, 2]), center=st.booleans(), normalized=st.booleans(),
       length=st.sampled_from([None, 7, 30]), seed=st.integers(0, 2**16))
def test_istft_inverts_stft_and_matches_torch(shape, n_fft, hop, center, normalized, length,
                                              seed):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(seed)
    a, win = rng.standard_normal(shape), np.hanning(n_fft + 1)[:-1] + 0.1
    spec = torch.stft(torch.tensor(a), n_fft, hop, None, torch.tensor(win), center,
                      normalized=normalized, return_complex=True).numpy()
    _against_torch_many(lambda m, s, w: m.istft(s, n_fft, hop, None, w, center, normalized,
                                                length=length), [spec, win], seed)
    if center and length is None:  # the round trip gives the signal back
        back = tr.istft(tr.stft(tr.tensor(a), n_fft, hop, window=tr.tensor(win),
                                return_complex=True), n_fft, hop, window=tr.tensor(win),
                        length=shape[-1])
        np.testing.assert_allclose(back.numpy(), a, atol=1e-10)


def test_stft_errors_are_torch_s():
    x = tr.randn(16)
    with pytest.raises(RuntimeError, match="requires the return_complex parameter"):
        tr.stft(x, 4)
    with pytest.raises(RuntimeError, match="expected 0 < n_fft"):
        x.stft(32, center=False, return_complex=True)
    with pytest.raises(RuntimeError, match="window tensor of size equal to win_length=4"):
        x.stft(4, window=tr.ones(3), return_complex=True)
    with pytest.raises(RuntimeError, match="1D or 2D"):
        tr.stft(tr.zeros(1, 1, 8), 4, return_complex=True)
    with pytest.raises(RuntimeError, match="complex-valued input"):
        tr.istft(tr.zeros(3, 5), 4)
    with pytest.raises(RuntimeError, match="window overlap add min"):
        tr.istft(x.stft(4, return_complex=True), 4, window=tr.zeros(4))
    assert tr.view_as_complex(x.stft(4, return_complex=False)).shape == (3, 17)


STRICT_CASES = {
    "fft": lambda x: tr.fft.fft(x.to(tr.complex128) * (1 + 1j), 5),
    "rfft": lambda x: tr.fft.rfft(x, 7, norm="ortho"),
    "irfft2": lambda x: tr.fft.irfft2(tr.fft.rfft2(x) * 1j, (3, 5)),
    "hfft": lambda x: tr.fft.hfft(tr.complex(x, x * 2), 6),
    "ihfft_ifftn": lambda x: tr.fft.ifftn(tr.fft.ihfft(x), norm="forward"),
    "shift": lambda x: tr.fft.fftshift(tr.polar(x.abs(), x)),
    "parts": lambda x: tr.view_as_real(tr.view_as_complex(tr.stack([x, -x], -1)).exp()).angle(),
    "stft": lambda x: tr.stft(x.reshape(-1), 4, window=tr.ones(4, dtype=x.dtype, device=x.device),
                              return_complex=True),
    "istft": lambda x: tr.istft(tr.stft(x.reshape(-1), 4, return_complex=True), 4),
    "ops": lambda x: (lambda z: ((z @ z.mH).sqrt().log() / z[:, :3].tanh().sigmoid()) ** 1.5
                      + z[:, 1:].conj().real.cos() * z[:, :3] ** z[:, 1:])(x * (1 - 0.5j) + 3),
}


@pytest.mark.parametrize("device", ["strict"])
def test_transforms_and_complex_parts_compute_through_xp_on_the_strict_device(device):
    """The strict device refuses NumPy called on its arrays, as CuPy would: the same values and
    gradients (of Σ|y|²) there as on the CPU."""
    a = np.random.default_rng(2).standard_normal((3, 4))
    for name, f in STRICT_CASES.items():
        x, ref = tr.tensor(a, device=device, requires_grad=True), tr.tensor(a, requires_grad=True)
        y, r = f(x), f(ref)
        (y.abs() ** 2).sum().backward()
        (r.abs() ** 2).sum().backward()
        assert y.device == x.grad.device == device, name
        np.testing.assert_allclose(y.numpy(), r.numpy(), rtol=1e-12, atol=1e-12, err_msg=name)
        np.testing.assert_allclose(x.grad.numpy(), ref.grad.numpy(), rtol=1e-10, atol=1e-12,
                                   err_msg=name)
