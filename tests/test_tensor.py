"""Tensor creation, attributes, conversion, devices, and the clear errors for bad input."""

from __future__ import annotations

import copy
import pickle
import sys
import types

import numpy as np
import pytest

import tinygrad_rnn as tr
from tinygrad_rnn import backend

from .conftest import DEVICES, needs_cuda


def test_tensor_default_dtypes():
    assert tr.tensor([1.0, 2.0]).dtype == np.float32
    assert tr.tensor(1.5).dtype == np.float32
    assert tr.tensor([1, 2]).dtype == np.int64
    assert tr.tensor([True]).dtype == np.bool_
    assert tr.tensor(np.zeros(2)).dtype == np.float64  # NumPy arrays keep their dtype
    assert tr.tensor(np.float64(2.0)).dtype == np.float64
    assert tr.tensor([1, 2], dtype="float64").dtype == np.float64
    assert tr.zeros(2, 3).dtype == np.float32
    assert tr.ones((2,), dtype=tr.float64).dtype == np.float64


def test_tensor_copies_its_data():
    a = np.ones(3)
    t = tr.tensor(a)
    a[0] = 5
    assert t.numpy()[0] == 1
    n = t.numpy()
    n[1] = 7
    assert t.numpy()[1] == 1


def test_tensor_attributes_and_conversions():
    t = tr.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    assert t.shape == (2, 3) and t.ndim == 2 and t.size == 6 and t.device == "cpu"
    assert t.is_leaf and not t.requires_grad and t.grad is None
    assert t.tolist() == [[1, 2, 3], [4, 5, 6]] and t[1, 2].item() == 6.0
    assert len(t) == 2 and [r.shape for r in t] == [(3,), (3,)]
    assert "tensor(" in repr(t) and "requires_grad" in repr(t.requires_grad_())
    with pytest.raises(ValueError, match="6 elements"):
        t.item()


def test_creation_helpers():
    assert tr.full((2, 2), 3.0).tolist() == [[3, 3], [3, 3]]
    assert tr.arange(4).tolist() == [0, 1, 2, 3] and tr.arange(4).dtype == np.int64
    assert tr.arange(0.0, 1.0, 0.5).dtype == np.float32
    assert tr.eye(2).tolist() == [[1, 0], [0, 1]]
    x = tr.ones(2, 3, dtype="float64")
    assert tr.zeros_like(x).dtype == np.float64 and tr.ones_like(x).tolist() == x.tolist()
    with pytest.raises(ValueError, match="shape"):
        tr.zeros(-1)


def test_manual_seed_makes_random_tensors_reproducible():
    tr.manual_seed(7)
    a, b = tr.randn(3, 4), tr.rand(2)
    tr.manual_seed(7)
    assert np.array_equal(a.numpy(), tr.randn(3, 4).numpy())
    assert np.array_equal(b.numpy(), tr.rand(2).numpy())
    assert a.dtype == np.float32 and tr.randn(2, dtype="float64").dtype == np.float64
    r = tr.randint(0, 5, (100,))
    assert r.dtype == np.int64 and 0 <= r.numpy().min() and r.numpy().max() < 5


def test_integer_tensor_cannot_require_grad():
    with pytest.raises(TypeError, match="floating point and complex"):
        tr.tensor([1, 2], requires_grad=True)
    t = tr.tensor([1, 2])
    with pytest.raises(TypeError, match="floating point and complex"):
        t.requires_grad_()
    assert not t.requires_grad


def test_unknown_device_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown device 'tpu'"):
        tr.zeros(2, device="tpu")
    with pytest.raises(TypeError, match="device must be a string"):
        tr.zeros(2, device=3)


def _fresh_cupy_load(monkeypatch, module):
    """backend as before its first look for CuPy, with ``module`` as what ``import cupy``
    finds (None: not installed)."""
    monkeypatch.setitem(sys.modules, "cupy", module)
    monkeypatch.setattr(backend, "_cupy", None)
    monkeypatch.setattr(backend, "_cupy_error", None)
    monkeypatch.setattr(backend, "_cupy_hint", backend.CUPY_INSTALL_HINT)
    monkeypatch.delitem(backend._DEVICES, "cuda", raising=False)


def test_missing_cupy_says_how_to_install(monkeypatch):
    _fresh_cupy_load(monkeypatch, None)
    assert not tr.cuda.is_available()
    with pytest.raises(RuntimeError, match=r"Error: .*pip install .*tinygrad-rnn\[cuda12\]"):
        tr.zeros(2, device="cuda")
    with pytest.raises(RuntimeError, match="cuda"):
        tr.ones(2).to("cuda")


def test_cupy_without_a_usable_gpu_says_so_not_how_to_install(monkeypatch):
    def no_driver():
        raise RuntimeError("cudaErrorInsufficientDriver: CUDA driver version is insufficient")

    runtime = types.SimpleNamespace(getDeviceCount=no_driver)
    fake = types.SimpleNamespace(__version__="14.2.0", cuda=types.SimpleNamespace(runtime=runtime))
    _fresh_cupy_load(monkeypatch, fake)
    assert not tr.cuda.is_available()
    with pytest.raises(RuntimeError, match=r"cudaErrorInsufficientDriver.*CuPy 14\.2\.0 is "
                                           r"installed but cannot use a GPU.*nvidia-smi") as e:
        tr.zeros(2, device="cuda")
    assert "pip install" not in str(e.value)
    assert "cuda" not in backend.known_devices()


def test_a_cupy_that_fails_to_import_is_not_called_missing(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def broken(name, *args, **kwargs):
        if name == "cupy":
            raise ImportError("libnvrtc.so.13: cannot open shared object file")
        return real_import(name, *args, **kwargs)

    _fresh_cupy_load(monkeypatch, None)
    monkeypatch.delitem(sys.modules, "cupy")
    monkeypatch.setattr(builtins, "__import__", broken)
    with pytest.raises(RuntimeError, match=r"libnvrtc.*CuPy is installed but does not import: "
                                           r"reinstall") as e:
        tr.zeros(2, device="cuda")
    assert "pip install" not in str(e.value)


def test_device_mix_is_a_clear_error_naming_both_devices():
    a = tr.ones(2, requires_grad=True)
    b = tr.ones(2, device="strict")
    with pytest.raises(ValueError, match="'cpu' and 'strict'"):
        a + b
    assert a.grad is None


@pytest.mark.parametrize("device", DEVICES)
def test_to_moves_between_devices_with_gradients(device):
    x = tr.tensor([1.0, 2.0], requires_grad=True)
    y = x.to(device)
    assert y.device == device
    (y * y).sum().backward()
    assert x.grad.device == "cpu"
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 4.0])
    assert tr.tensor(y).device == device  # tensor() of a tensor keeps its device


def test_host_array_with_device_tensor_is_refused():
    x = tr.ones(2, device="strict")
    with pytest.raises(TypeError, match="tr.tensor"):
        x + np.ones(2)


def test_ndarray_on_the_left_reaches_the_tensor_operator():
    x = tr.tensor([1.0, 2.0], requires_grad=True)
    y = np.float32(2.0) * x
    z = 3.0 - x
    assert isinstance(y, tr.Tensor) and isinstance(z, tr.Tensor)
    np.testing.assert_allclose((np.ones(2, dtype=np.float32) * x).numpy(), [1.0, 2.0])


def test_comparisons_give_boolean_tensors_without_grad():
    x = tr.tensor([1.0, 2.0, 3.0], requires_grad=True)
    m = x > 1.5
    assert m.dtype == np.bool_ and not m.requires_grad
    assert (x == 2.0).tolist() == [False, True, False]
    assert x.argmax().item() == 2 and x.argmin().item() == 0


def test_requires_grad_false_on_non_leaf_suggests_detach():
    x = tr.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="detach"):
        (x * 2).requires_grad_(False)


@needs_cuda
@pytest.mark.gpu
def test_cuda_tensors_match_cpu():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((3, 4))
    x = tr.tensor(a, device="cuda", requires_grad=True)
    y = (x.tanh() @ x.T).logsumexp(axis=1).sum()
    y.backward()
    xc = tr.tensor(a, requires_grad=True)
    yc = (xc.tanh() @ xc.T).logsumexp(axis=1).sum()
    yc.backward()
    np.testing.assert_allclose(y.item(), yc.item(), rtol=1e-12)
    np.testing.assert_allclose(x.grad.numpy(), xc.grad.numpy(), rtol=1e-10)


@pytest.mark.torch
def test_everyday_pytorch_idioms():
    torch = pytest.importorskip("torch")
    a = np.array([[1.5, -2.0, 3.0], [4.0, 5.0, 6.25]], np.float32)
    ours, theirs = tr.tensor(a), torch.tensor(a)
    assert ours.size() == tuple(theirs.size()) and ours.size(1) == theirs.size(1) == 3
    assert ours.size == a.size == ours.numel() == theirs.numel()  # NumPy's size is kept
    one, tone = tr.tensor(2.5), torch.tensor(2.5)
    assert float(one) == float(tone) and int(tr.tensor([3.7])) == int(torch.tensor([3.7]))
    assert f"{one:.3f}" == f"{tone:.3f}" == "2.500"
    assert [10, 20, 30][tr.tensor(1)] == [10, 20, 30][torch.tensor(1)] == 20
    for bad in (lambda t: float(t), lambda t: int(t)):
        with pytest.raises(ValueError):
            bad(theirs)
        with pytest.raises(ValueError, match="one element"):
            bad(ours)
    with pytest.raises(TypeError, match="integer or bool tensors"):
        [1, 2][tr.tensor(1.0)]
    assert [1, 2][tr.tensor(True)] == [1, 2][torch.tensor(True)] == 2
    with pytest.raises(TypeError, match="one element"):
        [1, 2][tr.tensor([0, 1])]
    # x.size copies, pickles and saves as the plain int it is
    assert type(copy.copy(ours.size)) is int and pickle.loads(pickle.dumps(ours.size)) == 6
    # Tensor(data), or Tensor(*sizes) as torch's (zero-filled here), Tensor(x.size()) too
    for args in [(3,), (2, 3), (), (np.int64(2), 1)]:
        assert tr.Tensor(*args).shape == tuple(torch.Tensor(*args).shape)
        assert tr.Tensor(*args).dtype == np.float32 and not tr.Tensor(*args).numpy().any()
    assert tr.Tensor(ours.size()).shape == ours.shape and ours.size() == ours.shape
    assert isinstance(ours.size(), tr.Size) and ours.size().numel() == 6
    assert tr.Tensor((2, 3)).numpy().tolist() == [2.0, 3.0]  # a plain tuple is data, as torch
    with pytest.raises(TypeError):
        torch.Tensor(3.0)
    for number in (3.0, True):  # a number: refused, with the way to make one
        with pytest.raises(TypeError, match=r"sequence.*tr.tensor"):
            tr.Tensor(number)
    with pytest.raises(TypeError, match="give the dtype and device as dtype="):
        tr.Tensor([1.0], "float64")
    kept = torch.Tensor(torch.tensor([1, 2])).dtype  # a Tensor keeps its dtype
    assert str(tr.Tensor(tr.tensor([1, 2])).dtype) == str(kept).removeprefix("torch.") == "int64"
    with pytest.raises((RuntimeError, ValueError), match="cuda"):  # x.to(0): a GPU, as torch
        ours.to(0) if not backend.cuda_available() else ours.to(7)
    np.testing.assert_array_equal(np.asarray(ours), np.asarray(theirs))
    assert np.array(ours, dtype=np.float64).dtype == np.float64
    for dtype in ("float64", np.float64):
        assert ours.to(dtype).dtype == np.float64
    assert ours.to("cpu").dtype == np.float32 and ours.to(device="cpu", dtype="float16").dtype \
        == np.float16
    m = tr.nn.Linear(2, 3).to(np.float64)
    assert m.weight.dtype == np.float64
    x = tr.tensor(a, requires_grad=True)
    assert repr(x * 2).endswith("grad_fn=<MulBackward0>)")
    assert repr(x).endswith("requires_grad=True)")
    assert repr(x).splitlines()[1].startswith("        [")  # rows aligned under the first


@pytest.mark.torch
@pytest.mark.filterwarnings("ignore:Creating a tensor from a list of numpy.ndarrays")
def test_tensor_from_lists_of_numpy_scalars_takes_torchs_dtype():
    """Python floats give the default float32; a NumPy scalar in a list keeps its dtype
    (float64 included), as PyTorch's inference."""
    torch = pytest.importorskip("torch")
    for data in ([np.float64(1.0)], [1.0, np.float64(2)], [[np.float64(1)], [2.0]],
                 (np.float64(1), 2.0), [np.float32(1.0)], [np.float16(1)], [np.int32(1)],
                 [np.int64(1), 2], [np.bool_(True)], [1.0, 2.0], 3.0, np.float64(1.0),
                 [np.array([1.0, 2.0])], [np.array([1.0], dtype=np.float32)]):
        assert str(tr.tensor(data).dtype) == str(torch.tensor(data).dtype).split(".")[1]
