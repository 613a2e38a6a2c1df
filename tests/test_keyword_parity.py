"""Keyword-argument parity with PyTorch: every public function of ``tr`` (and of
``tr.nn.functional``, ``tr.linalg``, ``tr.fft``, ``tr.special``) and every Tensor method that
torch also has takes each of torch's parameter names as a keyword, directly or through the
names ``torch_names`` maps (``dim`` -> ``axis``, ``input`` -> a first argument named otherwise,
...). Torch's names come from ``inspect.signature`` where torch gives one, else from the ATen
schemas of its builtins, else from the first line of their docstrings. ``ALLOWED`` lists the
deliberate exceptions, each with its reason, so any new gap fails. Then the keywords added
for parity are held to torch by value."""

from __future__ import annotations

import inspect
import re

import numpy as np
import pytest

import tinygrad_rnn as tr

pytestmark = pytest.mark.torch
torch = pytest.importorskip("torch")

# ours -> torch's namespaces, and the prefix of their ATen operators
SPACES = [
    ("tr", tr, torch, ""),
    ("F", tr.nn.functional, torch.nn.functional, ""),
    ("linalg", tr.linalg, torch.linalg, "linalg_"),
    ("fft", tr.fft, torch.fft, "fft_"),
    ("special", tr.special, torch.special, "special_"),
    ("Tensor", tr.Tensor, torch.Tensor, ""),
]

# keywords refused everywhere, with the reason
ALLOWED_EVERYWHERE = {
    "out": "results are always new tensors here (no preallocated outputs)",
    "layout": "taken by every dense factory (tr.strided only); sparse_coo_tensor and "
              "to_sparse make the COO layout alone",
    "pin_memory": "taken by the dense factories (False only: host memory is NumPy's, never "
                  "page-locked), not by sparse_coo_tensor",
    "memory_format": "taken where a layout other than C order is meaningful (clone, *_like, "
                     "contiguous, to, float, ...); tr.empty makes C-ordered tensors and "
                     "resize_ keeps C order",
    "size_average": "deprecated since PyTorch 0.4; reduction= says it",
    "reduce": "deprecated since PyTorch 0.4, with size_average",
    "out_dtype": "a CUDA-only option of PyTorch's matrix products (fp16/bf16 accumulation)",
}

# (namespace, function, keyword): reason
_REFUSED_THERE = "a name in PyTorch's docstring or schema that its own binding refuses too"
_NO_KEYWORD = "PyTorch takes it by position only"
ALLOWED: dict[tuple[str, str, str], str] = {
    ("Tensor", "arctanh_", "other"): _REFUSED_THERE,
    ("Tensor", "atanh_", "other"): _REFUSED_THERE,
    ("Tensor", "frexp", "input"): _REFUSED_THERE,
    ("Tensor", "random_", "from"): _REFUSED_THERE,
    ("Tensor", "to", "other"): _REFUSED_THERE,
    ("tr", "as_tensor", "t"): _REFUSED_THERE + " (a TorchScript overload's)",
    ("tr", "tensor", "t"): _REFUSED_THERE + " (a TorchScript overload's)",
    ("tr", "from_numpy", "ndarray"): _NO_KEYWORD,
    ("tr", "einsum", "equation"): _REFUSED_THERE + " (its binding takes *args)",
    ("tr", "trace", "input"): "tr.trace is the debugger's trace() (debug.py); the matrix "
                              "trace is x.trace()",
    ("Tensor", "view", "dtype"): "reading the bits as another dtype is not supported",
    ("tr", "view_copy", "dtype"): "reading the bits as another dtype is not supported",
    ("Tensor", "stft", "align_to_window"): "the frame alignment of PyTorch 2.6 for "
                                           "center=False is not implemented",
    ("tr", "stft", "align_to_window"): "the frame alignment of PyTorch 2.6 for center=False "
                                       "is not implemented",
    ("tr", "from_dlpack", "device"): "DLPack's device and copy requests are not implemented",
    ("tr", "from_dlpack", "copy"): "DLPack's device and copy requests are not implemented",
    ("Tensor", "pin_memory", "device"): "no page-locked memory here (pin_memory= above)",
    ("Tensor", "to_dense", "masked_grad"): "the gradient semantics of masked tensors, which "
                                           "do not exist here",
    ("Tensor", "to_sparse", "blocksize"): "only the COO layout exists (no BSR/BSC blocks)",
    ("Tensor", "to_sparse", "dense_dim"): "only the COO layout exists, without dense axes",
    ("F", "elu_", "scale"): "private scaling arguments of ATen's elu_ (F.elu_ documents "
                            "alpha only)",
    ("F", "elu_", "input_scale"): "private scaling arguments of ATen's elu_",
    ("F", "rrelu_", "generator"): "slopes come from tr.manual_seed's generator (F.rrelu "
                                  "takes no generator either)",
    ("tr", "rrelu_", "generator"): "slopes come from tr.manual_seed's generator",
}


def _docstring_names(f):
    """Parameter names from the first line of a builtin's docstring: ``name(a, b=1) -> T``."""
    first = (f.__doc__ or "").strip().split("\n")[0]
    m = re.match(r"^\s*\w+\((.*)\)\s*->", first)
    if not m:
        return None
    names = []
    for part in m.group(1).split(","):
        part = part.strip()
        name = part.split("=")[0].split(":")[0].strip().lstrip("*")
        if part == "/":  # the names so far are positional only
            names = []
        elif not part.startswith("*") and name.isidentifier():
            names.append(name)
    return names


def _schema_names(op, method):
    """Argument names of the Python-visible overloads of ATen's ``op`` (``self`` is
    ``input`` in the function, absent in the method); outputs written in place are left
    out, as are TorchScript's overloads on numbers and lists and the named-tensor ones."""
    names = []
    for s in torch._C._jit_get_schemas_for_operator(op):
        text = str(s)
        if s.overload_name.endswith("out") or "Dimname" in text or \
                "Tensor" not in text.split("->")[-1]:
            continue
        for a in s.arguments:
            if a.name == "out" or (a.alias_info is not None and a.alias_info.is_write
                                   and a.kwarg_only):
                continue
            if a.name == "self" and method:
                continue
            name = "input" if a.name == "self" else a.name
            if name not in names:
                names.append(name)
        if "pin_memory" in names and "requires_grad" not in names:
            names.append("requires_grad")  # the Python bindings add it to every factory
    return names or None


def torch_params(f, prefix, name, method):
    try:
        ps = inspect.signature(f).parameters
    except (ValueError, TypeError):  # a builtin
        return _schema_names(f"aten::{prefix}{name}", method) or _docstring_names(f)
    named = [p for p, v in ps.items()
             if v.kind in (v.POSITIONAL_OR_KEYWORD, v.KEYWORD_ONLY) and p != "self"]
    # a bare ``*args, **kwargs`` dispatcher (F.max_pool2d): its docstring names them
    return named if named or not ps else _docstring_names(f)


def _keywords(f):
    """The keywords ``torch_names`` maps, along f's chain of wrappers."""
    out = {}
    while f is not None:
        out |= getattr(f, "torch_keywords", {})
        f = getattr(f, "__wrapped__", None)
    return out


def accepts(f, name):
    """Whether ``f`` takes keyword ``name`` (None: it takes ``**kwargs`` we cannot see into)."""
    try:
        sig = inspect.signature(f).parameters
    except (ValueError, TypeError):
        return None

    def named(ps):
        return {p for p, v in ps.items() if v.kind not in (v.VAR_POSITIONAL, v.POSITIONAL_ONLY)}

    own = set()  # the names each wrapper in the chain takes itself (``_legacy_args``' ...)
    g = f
    while g is not None:
        own |= named(inspect.signature(g, follow_wrapped=False).parameters)
        g = getattr(g, "__wrapped__", None)
    aliases = {"dim": "axis", "keepdim": "keepdims", "start_dim": "start_axis",
               "end_dim": "end_axis"}
    if name in own or name in _keywords(f) or aliases.get(name) in named(sig):
        return True
    if any(v.kind is v.VAR_KEYWORD for v in sig.values()):
        return None
    return False


def audit():
    """All (namespace, function, keyword) triples checked, and those refused."""
    checked, gaps = [], []
    for space, ours, theirs, prefix in SPACES:
        method = space == "Tensor"
        for n in sorted(dir(theirs)):
            if n.startswith("_") or not hasattr(ours, n):
                continue
            tf, of = getattr(theirs, n), getattr(ours, n)
            if not callable(tf) or isinstance(tf, type) or not callable(of) or \
                    isinstance(of, type):
                continue
            for p in torch_params(tf, prefix, n, method) or ():
                ok = accepts(of, p)
                if ok is None:
                    continue
                checked.append((space, n, p))
                if not ok:
                    gaps.append((space, n, p))
    return checked, gaps


def test_keyword_parity_every_torch_keyword_taken():
    checked, gaps = audit()
    assert len(checked) > 2500
    new = [g for g in gaps if g[2] not in ALLOWED_EVERYWHERE and g not in ALLOWED]
    assert not new, f"{len(new)} keywords of torch refused here: {new}"


def test_keyword_parity_allow_list_is_current():
    """An entry of ALLOWED that is taken by now is removed from the list."""
    _, gaps = audit()
    stale = [k for k in ALLOWED if k not in gaps]
    assert not stale, f"taken by now, remove from ALLOWED: {stale}"


# ---- the keywords at work, by value against torch ------------------------------------------
_X = np.arange(1.0, 7.0).reshape(2, 3) * np.array([1.0, -0.5, 2.0])
_Y = np.linspace(-2.0, 3.0, 6).reshape(2, 3)
_SQ = np.array([[2.0, 1.0], [0.5, 3.0]])
_BATCH = np.arange(12.0).reshape(2, 2, 3) / 7


def _t(lib, a, **kw):
    return lib.tensor(a, dtype=lib.float64, **kw)


# each case runs as it is with lib = tr and lib = torch
CASES = {
    "zeros(size=)": lambda lib: lib.zeros(size=(2, 3)),
    "ones(size=, dtype=)": lambda lib: lib.ones(size=(2,), dtype=lib.int64),
    "empty(size=).shape": lambda lib: lib.empty(size=(2, 3)).shape,
    "full(size=, fill_value=)": lambda lib: lib.full(size=(2, 2), fill_value=7.0),
    "rand(size=).shape": lambda lib: lib.rand(size=(3, 1)).shape,
    "randn(size=).shape": lambda lib: lib.randn(size=(3, 1)).shape,
    "arange(end=)": lambda lib: lib.arange(end=5),
    "arange(start=, end=, step=)": lambda lib: lib.arange(start=1, end=10, step=3),
    "arange(requires_grad=)": lambda lib: lib.arange(0.0, 3.0, requires_grad=True)
    .requires_grad,
    "eye(requires_grad=)": lambda lib: lib.eye(3, requires_grad=True).requires_grad,
    "linspace(requires_grad=)": lambda lib: lib.linspace(0, 1, 5, requires_grad=True)
    .requires_grad,
    "randint(requires_grad=) float": lambda lib: lib.randint(
        0, 5, (3,), dtype=lib.float32, requires_grad=True).requires_grad,
    "zeros(layout=, pin_memory=)": lambda lib: lib.zeros(2, layout=lib.strided,
                                                          pin_memory=False),
    "arange(layout=None)": lambda lib: lib.arange(3, layout=None),
    "x.new_ones(layout=)": lambda lib: _t(lib, _X).new_ones(2, layout=lib.strided),
    "fft.fftfreq(layout=)": lambda lib: lib.fft.fftfreq(4, layout=lib.strided),
    "numpy(force=)": lambda lib: _t(lib, _X, requires_grad=True).numpy(force=True),
    "div_(rounding_mode=floor)": lambda lib: _t(lib, _X).div_(_t(lib, _Y) + 3,
                                                              rounding_mode="floor"),
    "div_(rounding_mode=trunc)": lambda lib: _t(lib, _X).div_(0.7, rounding_mode="trunc"),
    "div_(rounding_mode=) int": lambda lib: lib.tensor([7, -7, 5]).div_(
        2, rounding_mode="floor"),
    "new_zeros(size=, dtype=, device=)": lambda lib: _t(lib, _X).new_zeros(
        size=(2,), dtype=lib.int32, device="cpu"),
    "new_ones(size=, requires_grad=)": lambda lib: _t(lib, _X).new_ones(
        size=(1, 2), requires_grad=True),
    "new_full(device=)": lambda lib: _t(lib, _X).new_full((2,), 3.0, device="cpu"),
    "new_empty(size=).shape": lambda lib: _t(lib, _X).new_empty(size=(4,)).shape,
    "new_tensor(device=)": lambda lib: _t(lib, _X).new_tensor([1.0, 2.0], device="cpu"),
    "copy_(non_blocking=)": lambda lib: _t(lib, _X).copy_(_t(lib, _Y), non_blocking=True),
    "copy_(other=)": lambda lib: _t(lib, _X).copy_(other=_t(lib, _Y)),
    "norm(dtype=)": lambda lib: lib.tensor(_X, dtype=lib.float32).norm(dtype=lib.float64),
    "tr.norm(dtype=)": lambda lib: lib.norm(lib.tensor(_X, dtype=lib.float32), p=1,
                                            dtype=lib.float64),
    "where(condition=, input=, other=)": lambda lib: lib.where(
        condition=_t(lib, _X) > 0, input=_t(lib, _X), other=_t(lib, _Y)),
    "matmul(other=)": lambda lib: lib.matmul(_t(lib, _X), other=_t(lib, _Y).T),
    "mm(input=, mat2=)": lambda lib: lib.mm(input=_t(lib, _SQ), mat2=_t(lib, _SQ)),
    "x.mm(mat2=)": lambda lib: _t(lib, _SQ).mm(mat2=_t(lib, _SQ)),
    "x.bmm(mat2=)": lambda lib: _t(lib, _BATCH).bmm(mat2=_t(lib, _BATCH).transpose(1, 2)),
    "mv(vec=)": lambda lib: lib.mv(_t(lib, _SQ), vec=_t(lib, _SQ[0])),
    "x.dot(tensor=)": lambda lib: _t(lib, _X[0]).dot(tensor=_t(lib, _Y[0])),
    "outer(vec2=)": lambda lib: lib.outer(_t(lib, _X[0]), vec2=_t(lib, _Y[1])),
    "repeat_interleave(output_size=)": lambda lib: _t(lib, _X).repeat_interleave(
        2, dim=0, output_size=4),
    "x.swapaxes(axis0=, axis1=)": lambda lib: _t(lib, _X).swapaxes(axis0=0, axis1=1),
    "swapaxes(input=, axis0=, axis1=)": lambda lib: lib.swapaxes(
        input=_t(lib, _BATCH), axis0=0, axis1=2),
    "gather(sparse_grad=False)": lambda lib: lib.gather(
        _t(lib, _X), 1, lib.tensor([[0, 0], [2, 1]]), sparse_grad=False),
    "float_power(exponent=)": lambda lib: lib.float_power(_t(lib, _X), exponent=2),
    "x.expand(size=)": lambda lib: _t(lib, _X[:1]).expand(size=(3, 3)),
    "x.repeat(repeats=)": lambda lib: _t(lib, _X).repeat(repeats=(2, 1)),
    "x.reshape(shape=)": lambda lib: _t(lib, _X).reshape(shape=(3, 2)),
    "x.view(size=)": lambda lib: _t(lib, _X).view(size=(6,)),
    "x.tile(dims=)": lambda lib: _t(lib, _X).tile(dims=(1, 2)),
    "broadcast_to(input=, size=)": lambda lib: lib.broadcast_to(input=_t(lib, _X[0]),
                                                                size=(2, 3)),
    "exp(input=)": lambda lib: lib.exp(input=_t(lib, _X)),
    "sum(input=, dim=, keepdim=)": lambda lib: lib.sum(input=_t(lib, _X), dim=1,
                                                      keepdim=True),
    "max(input=, other=)": lambda lib: lib.max(input=_t(lib, _X), other=_t(lib, _Y)),
    "x.min(other=)": lambda lib: _t(lib, _X).min(other=_t(lib, _Y)),
    "F.softmax(input=, dim=)": lambda lib: lib.nn.functional.softmax(input=_t(lib, _X),
                                                                    dim=0),
    "F.log_softmax(_stacklevel=)": lambda lib: lib.nn.functional.log_softmax(
        _t(lib, _X), dim=1, _stacklevel=5),
    "F.one_hot(input=)": lambda lib: lib.nn.functional.one_hot(input=lib.tensor([0, 2])),
    "linalg.matrix_norm(input=)": lambda lib: lib.linalg.matrix_norm(input=_t(lib, _SQ)),
    "linalg.pinv(rcond=)": lambda lib: lib.linalg.pinv(_t(lib, _SQ), rcond=0.3),
    "linalg.svdvals(driver=None)": lambda lib: lib.linalg.svdvals(_t(lib, _SQ), driver=None),
    "linalg.cross(input=, other=)": lambda lib: lib.linalg.cross(
        input=_t(lib, _X), other=_t(lib, _Y)),
    "special.erf(input=)": lambda lib: lib.special.erf(input=_t(lib, _X)),
    "special.chebyshev_polynomial_t(x=, n=)": lambda lib: lib.special.chebyshev_polynomial_t(
        x=_t(lib, _Y) / 3, n=3),
    "tensor_split(sections=)": lambda lib: lib.tensor_split(_t(lib, _X), sections=3, dim=1),
    "tensor_split(indices=)": lambda lib: lib.tensor_split(_t(lib, _X), indices=[1], dim=1),
    "x.hsplit(sections=)": lambda lib: _t(lib, _X[0]).hsplit(sections=3),
    "split(tensor=)": lambda lib: lib.split(tensor=_t(lib, _X), split_size_or_sections=1),
    "x.split(split_size=)": lambda lib: _t(lib, _X).split(split_size=1, dim=1),
    "isin(test_element=)": lambda lib: lib.isin(lib.tensor([1, 2, 3]), test_element=2),
    "type(non_blocking=)": lambda lib: _t(lib, _X).type(lib.float32, non_blocking=True),
    "polygamma(n=, input=)": lambda lib: lib.polygamma(n=1, input=_t(lib, _Y) + 3),
}


def _values(r):
    if isinstance(r, (tuple, list)) and r and not isinstance(r[0], int):
        return [_values(v) for v in r]
    if hasattr(r, "detach"):
        r = r.detach()
    return np.asarray(r.numpy()) if hasattr(r, "numpy") else r


@pytest.mark.parametrize("case", sorted(CASES))
def test_keyword_parity_same_values_as_torch(case):
    ours, theirs = _values(CASES[case](tr)), _values(CASES[case](torch))
    if isinstance(theirs, np.ndarray):
        assert ours.dtype == theirs.dtype, (ours.dtype, theirs.dtype)
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-12)
    elif isinstance(theirs, list):
        for a, b in zip(ours, theirs, strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-12)
    else:
        assert tuple(ours) == tuple(theirs) if isinstance(theirs, tuple) else ours == theirs


def test_keyword_parity_norm_dtype_gradient_as_torch():
    """norm(dtype=) casts first, so the gradient flows back through the cast to x's dtype."""
    ours = tr.tensor(_X, dtype=tr.float32, requires_grad=True)
    theirs = torch.tensor(_X, dtype=torch.float32, requires_grad=True)
    ours.norm(p=3, dim=1, dtype=tr.float64).sum().backward()
    theirs.norm(p=3, dim=1, dtype=torch.float64).sum().backward()
    assert ours.grad.dtype == tr.float32
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-6)


def test_keyword_parity_cast_memory_format_strides_as_torch():
    a = np.arange(24.0).reshape(1, 2, 3, 4)
    ours = tr.tensor(a).double(memory_format=tr.channels_last)
    theirs = torch.tensor(a).double(memory_format=torch.channels_last)
    assert ours.stride() == theirs.stride()
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    assert tr.tensor(a).half(memory_format=tr.preserve_format).stride() == \
        torch.tensor(a).half(memory_format=torch.preserve_format).stride()


def test_keyword_parity_uniform_from_to():
    x = tr.zeros(1000).uniform_(**{"from": 2.0, "to": 3.0})
    assert 2.0 <= float(x.min()) and float(x.max()) < 3.0


def test_keyword_parity_set_rng_state_new_state():
    state = tr.get_rng_state()
    a = tr.rand(3)
    tr.set_rng_state(new_state=state)
    assert np.array_equal(tr.rand(3).numpy(), a.numpy())


# refused as torch refuses them (each: a call on lib, PyTorch's exception type)
REFUSALS = {
    "a keyword and the same argument by position": (
        lambda lib: lib.exp(_t(lib, _X), input=_t(lib, _X)), TypeError),
    "size= beside sizes given by position": (
        lambda lib: lib.zeros(2, size=(3,)), TypeError),
    "output_size that is not the result's": (
        lambda lib: _t(lib, _X).repeat_interleave(2, dim=0, output_size=5), RuntimeError),
    "requires_grad= for integers": (
        lambda lib: lib.tril_indices(3, 3, requires_grad=True), RuntimeError),
    "div_ of an int tensor without rounding": (
        lambda lib: lib.tensor([7, 5]).div_(2), RuntimeError),
}


@pytest.mark.parametrize("case", sorted(REFUSALS))
def test_keyword_parity_refused_as_in_torch(case):
    call, error = REFUSALS[case]
    with pytest.raises(error):
        call(torch)
    with pytest.raises(error):
        call(tr)


def test_keyword_parity_both_names_refused():
    with pytest.raises(TypeError, match="both axis= and dim="):
        tr.ones(2, 3).sum(dim=0, axis=0)
    with pytest.raises(TypeError, match="both other= and mat2="):
        tr.ones(2, 2).mm(other=tr.ones(2, 2), mat2=tr.ones(2, 2))


def test_keyword_parity_other_layouts_and_pinned_memory_refused():
    with pytest.raises(ValueError, match="layout must be tr.strided"):
        tr.ones(2, layout=tr.sparse_coo)
    with pytest.raises(ValueError, match="pin_memory=True"):
        tr.ones(2).new_zeros(3, pin_memory=True)


def test_keyword_parity_sparse_grad_true_refused():
    with pytest.raises(ValueError, match="sparse_grad=True"):
        tr.ones(2, 3).gather(1, tr.tensor([[0], [1]]), sparse_grad=True)
