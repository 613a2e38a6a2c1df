"""PyTorch idioms that a porting trial of typical recurrent-net programs met: each runs here
as it does there (legacy names, checkpoint and module options, helpers scripts call)."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_rnn as tr
from tinygrad_rnn import nn


def test_variable_is_a_detached_tensor_that_may_require_grad():
    a = tr.ones(2, requires_grad=True) * 2
    v = tr.autograd.Variable(a)
    assert isinstance(v, tr.Tensor) and not v.requires_grad and v.is_leaf
    w = tr.autograd.Variable(tr.ones(2), requires_grad=True)
    (w * 3).sum().backward()
    assert w.grad.tolist() == [3.0, 3.0]
    from tinygrad_rnn.autograd import Variable  # as tutorials import it

    assert Variable([1.0, 2.0]).tolist() == [1.0, 2.0]


def test_set_detect_anomaly_as_a_call_and_as_a_context():
    x = tr.tensor([0.0], requires_grad=True)
    nan = tr.tensor([np.nan])
    assert not tr.autograd.is_anomaly_enabled()
    tr.autograd.set_detect_anomaly(True)
    try:
        assert tr.autograd.is_anomaly_enabled()
        with pytest.raises(RuntimeError, match="detect_anomaly"):
            (x * nan).sum().backward()
    finally:
        tr.autograd.set_detect_anomaly(False)
    assert not tr.autograd.is_anomaly_enabled()
    (x * nan).sum()  # off again: a NaN passes
    with tr.autograd.set_detect_anomaly(True):
        assert tr.autograd.is_anomaly_enabled()
    assert not tr.autograd.is_anomaly_enabled()
    with tr.autograd.detect_anomaly(), pytest.raises(RuntimeError, match="NaN"):
        x * nan
    with tr.autograd.detect_anomaly(check_nan=False):
        x * nan


def test_cuda_helpers_answer_without_a_gpu():
    if tr.cuda.is_available():
        pytest.skip("a GPU is here: these are the answers without one")
    tr.cuda.synchronize()
    tr.cuda.empty_cache()
    assert tr.cuda.memory_allocated() == 0
    with pytest.raises(RuntimeError, match="no CUDA GPU"):
        tr.cuda.current_device()
    with pytest.raises(RuntimeError, match="no CUDA GPU"):
        tr.cuda.get_device_name(0)


def test_state_dict_keep_vars_and_destination():
    m = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3))
    kept = m.state_dict(keep_vars=True)
    assert kept["0.weight"] is m[0].weight and kept["1.running_mean"] is m[1].running_mean
    dest: dict = {}
    out = m.state_dict(destination=dest, prefix="model.")
    assert out is dest and isinstance(dest["model.0.bias"], tr.Tensor)
    assert not dest["model.0.bias"].requires_grad


@pytest.mark.torch
@pytest.mark.parametrize("norm_type", [2.0, 1.0, float("inf")])
def test_embedding_max_norm_renormalises_the_rows_it_looks_up_as_torch(norm_type):
    torch = pytest.importorskip("torch")
    w = np.random.default_rng(0).standard_normal((6, 4)) * 2
    theirs = torch.nn.Embedding.from_pretrained(torch.tensor(w), freeze=False, max_norm=1.5,
                                                norm_type=norm_type)
    ours = nn.Embedding.from_pretrained(w, freeze=False, max_norm=1.5, norm_type=norm_type)
    idx = [[0, 2, 2], [5, 0, 1]]
    yt, yo = theirs(torch.tensor(idx)), ours(tr.tensor(idx))
    (yt ** 2).sum().backward()
    (yo ** 2).sum().backward()
    np.testing.assert_allclose(yo.numpy(), yt.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(ours.weight.numpy(), theirs.weight.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(ours.weight.grad.numpy(), theirs.weight.grad.numpy(),
                               rtol=1e-12)
    assert "max_norm=1.5" in repr(ours)
    nn.Embedding(3, 2, sparse=True)  # accepted: the same gradient, held dense
    with pytest.raises(ValueError, match="scale_grad_by_freq=True is not implemented"):
        nn.Embedding(3, 2, scale_grad_by_freq=True)


@pytest.mark.torch
def test_functional_embedding_takes_max_norm_as_torch():
    torch = pytest.importorskip("torch")
    w = np.random.default_rng(1).standard_normal((5, 3)) * 2
    idx = np.array([[0, 3], [3, 4]])
    got = []
    for m in (tr, torch):
        leaf = m.tensor(w, requires_grad=True)
        table = leaf * 1  # renormalised in place, outside autograd
        y = m.nn.functional.embedding(m.tensor(idx), table, max_norm=1.0, norm_type=3.0)
        (y ** 2).sum().backward()
        got.append([y.detach().numpy(), table.detach().numpy(), leaf.grad.numpy()])
    for a, b in zip(*got):
        np.testing.assert_allclose(a, b, rtol=1e-12)
    with pytest.raises(ValueError, match="scale_grad_by_freq=True is not implemented"):
        tr.nn.functional.embedding(tr.tensor([0]), tr.zeros(2, 2), scale_grad_by_freq=True)


@pytest.mark.torch
def test_parameters_to_vector_and_back_as_torch():
    torch = pytest.importorskip("torch")
    m = nn.Linear(3, 2, dtype=np.float64)
    vec = nn.utils.parameters_to_vector(m.parameters())
    expected = torch.nn.utils.parameters_to_vector(
        [torch.tensor(p.numpy()) for p in m.parameters()])
    np.testing.assert_array_equal(vec.numpy(), expected.numpy())
    (vec * tr.arange(8, dtype="float64")).sum().backward()  # differentiable
    assert m.bias.grad.tolist() == [6.0, 7.0]
    nn.utils.vector_to_parameters(tr.arange(8, dtype="float64"), m.parameters())
    assert m.weight.tolist() == [[0, 1, 2], [3, 4, 5]] and m.bias.tolist() == [6, 7]
    with pytest.raises(ValueError, match="the vector has 7 elements, the parameters 8"):
        nn.utils.vector_to_parameters(tr.zeros(7, dtype="float64"), m.parameters())
    assert m.bias.tolist() == [6, 7]  # nothing written


def test_half_makes_a_float16_module_that_trains():
    m = nn.LSTM(3, 4).half()
    assert all(p.dtype == np.float16 for p in m.parameters())
    y, _ = m(tr.randn(5, 2, 3).half())
    y.sum().backward()
    assert y.dtype == np.float16 and m.weight_ih_l0.grad.dtype == np.float16
    bn = nn.BatchNorm1d(3).half()
    assert bn.running_mean.dtype == np.float16 and bn.num_batches_tracked.dtype == np.int64


def test_dtypes_are_dtype_objects_and_views_are_named_tensor():
    x = tr.ones(2)
    assert x.dtype is tr.float32 and x.dtype in {tr.float32} and {tr.float32: 1}[x.dtype] == 1
    assert tr.tensor([1, 2]).dtype is tr.long and x.to(tr.double).dtype is tr.float64
    assert x.is_floating_point() and tr.is_floating_point(x)
    assert not tr.tensor([1]).is_floating_point() and not x.is_complex()
    view = x.detach()
    assert type(view).__name__ == "Tensor"
    with pytest.raises(AttributeError, match="'Tensor' object has no attribute"):
        view.no_such_method()


def test_embedding_takes_torchs_positional_arguments_and_checks_indices_first():
    import inspect

    names = list(inspect.signature(nn.Embedding).parameters)
    assert names[:7] == ["num_embeddings", "embedding_dim", "padding_idx", "max_norm",
                         "norm_type", "scale_grad_by_freq", "sparse"]
    e = nn.Embedding(5, 3, None, 0.5)
    assert e.max_norm == 0.5
    before = e.weight.numpy().copy()
    for bad in ([7], [-1]):
        with pytest.raises(ValueError, match="indices must lie in"):
            e(bad)
    np.testing.assert_array_equal(e.weight.numpy(), before)  # nothing renormalised
    frozen = nn.Embedding(3, 2, _weight=np.ones((3, 2)), _freeze=True)
    assert not frozen.weight.requires_grad


def test_cuda_helpers_take_a_device_argument():
    if tr.cuda.is_available():
        pytest.skip("a GPU is here")
    tr.cuda.synchronize(0)
    assert tr.cuda.memory_allocated(0) == 0


@pytest.mark.torch
def test_var_and_std_take_torchs_positional_unbiased_and_transpose_two_dims():
    torch = pytest.importorskip("torch")
    a = np.random.default_rng(0).standard_normal((2, 4))
    for args, kw in [((1, False), {}), ((False,), {}), ((1, False, True), {}), ((), {}),
                     ((0,), dict(correction=0, keepdim=True)), ((1,), dict(unbiased=False))]:
        for f in ("var", "std"):
            for ours, theirs in ((getattr(tr.tensor(a), f)(*args, **kw),
                                  getattr(torch.tensor(a), f)(*args, **kw)),
                                 (getattr(tr, f)(tr.tensor(a), *args, **kw),
                                  getattr(torch, f)(torch.tensor(a), *args, **kw))):
                assert ours.shape == tuple(theirs.shape), (f, args, kw)
                np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12)
    assert tr.transpose(tr.ones(2, 3), 0, 1).shape == (3, 2)
    assert tr.transpose(tr.ones(2, 3, 4), (2, 0, 1)).shape == (4, 2, 3)  # NumPy's form too


def test_to_cuda_and_backward_take_torchs_extra_arguments():
    x = tr.ones(2)
    assert x.to("cpu", non_blocking=True) is x and x.to(tr.float64, True).dtype == tr.float64
    assert x.to(tr.zeros(1, dtype="float64")).dtype == tr.float64 and x.to(x) is x
    y = x.to("cpu", copy=True)
    assert y is not x and y.tolist() == x.tolist() and x.pin_memory() is x
    m = nn.Linear(2, 2).to("cpu", non_blocking=True).to(tr.zeros(1, dtype="float64"))
    assert m.weight.dtype == tr.float64
    assert repr(nn.Dropout(0.2, inplace=True)) == "Dropout(p=0.2, inplace=True)"
    w, b = tr.ones(2, requires_grad=True), tr.ones(2, requires_grad=True)
    h = w * 3
    (h * b).sum().backward(inputs=[w])  # only w's .grad
    assert w.grad.tolist() == [3.0, 3.0] and b.grad is None
    (w * 2).sum().backward(inputs=w)
    assert w.grad.tolist() == [5.0, 5.0]


def test_nan_and_inf_arrive_without_numpy_warnings_as_in_torch():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        x = tr.tensor([0.0, -1.0, 1000.0], requires_grad=True)
        y = (x / x).sum() + x.log().sum() + x.sqrt().sum() + x.exp().sum() + x.log1p().sum()
        y.backward()
        assert np.isnan(y.item()) and np.isnan(x.grad.numpy()[0])
        assert tr.tensor([-np.inf] * 3).logsumexp(0).item() == -np.inf


@pytest.mark.torch
@pytest.mark.parametrize("dim", [0, 1, None, -1])
def test_weight_norm_on_a_conv_and_an_lstm_as_torch(dim):
    """The temporal-convolution recipe (weight_norm over Conv1d) and a recurrent weight:
    torch's state dict keys, outputs and the gradients of g and v."""
    import warnings

    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    pairs = [(torch.nn.Conv1d(3, 4, 3, dtype=torch.float64),
              nn.Conv1d(3, 4, 3, dtype=np.float64), "weight", (2, 3, 7)),
             (torch.nn.LSTM(3, 4, dtype=torch.float64), nn.LSTM(3, 4, dtype=np.float64),
              "weight_hh_l0", (5, 2, 3))]
    for theirs, ours, name, shape in pairs:
        ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
        with warnings.catch_warnings():  # torch's deprecation of this form
            warnings.simplefilter("ignore")
            torch.nn.utils.weight_norm(theirs, name, dim=dim)
        nn.utils.weight_norm(ours, name, dim=dim)
        assert list(ours.state_dict()) == list(theirs.state_dict())
        with torch.no_grad():
            getattr(theirs, name + "_g").mul_(1.5)
        ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
        x = rng.standard_normal(shape)
        yt, yo = theirs(torch.tensor(x)), ours(tr.tensor(x))
        yt, yo = (yt[0], yo[0]) if isinstance(yt, tuple) else (yt, yo)
        (yt ** 2).sum().backward()
        (yo ** 2).sum().backward()
        np.testing.assert_allclose(yo.numpy(), yt.detach().numpy(), rtol=1e-10, atol=1e-12)
        for part in ("_g", "_v"):
            np.testing.assert_allclose(getattr(ours, name + part).grad.numpy(),
                                       getattr(theirs, name + part).grad.numpy(),
                                       rtol=1e-9, atol=1e-12)
        nn.utils.remove_weight_norm(ours, name)
        assert name in ours.state_dict() and name + "_g" not in ours.state_dict()
    with pytest.raises(ValueError, match="has no parameter 'nope'"):
        nn.utils.weight_norm(nn.Linear(2, 2), "nope")
