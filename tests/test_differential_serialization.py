"""Differential test of checkpoint files against PyTorch: Hypothesis draws an object (nested
dicts, ``OrderedDict``s, lists and tuples of tensors of every dtype both frameworks have, 0-d,
empty, transposed and strided views, views sharing a storage, parameters, numbers, strings,
None, a module's and an optimizer's ``state_dict()``), builds it in torch and here from the
same arrays, and moves it through a file each way: ``tr.save`` -> ``torch.load`` (with
``weights_only`` True and False), ``torch.save`` -> ``tr.load``, and ``tr.save`` ->
``tr.load`` in both formats; through a path, an open file or ``io.BytesIO``, with a drawn
``map_location`` and ``mmap``.

Compared, node by node: container types and keys in order, and for each tensor its dtype,
shape, stride (where the saving side keeps it), values bit for bit (NaN payloads aside),
``requires_grad``, whether it is a parameter, and which tensors share memory (a write into one
reaches the other exactly when it does in torch). Then small models (Linear, Conv, the
recurrent layers with layers, directions and ``proj_size``, BatchNorm with its buffers,
Embedding) move their weights from torch to here and back, and must compute the same outputs.
Last, bad files (truncated, another magic, a pickle naming a global outside the allowlist)
must be refused by both, ours with a ``ValueError`` that says why.

The documented differences (docs/pytorch.md) are expected, not compared: bfloat16 loads as
float32 (NumPy has no bfloat16), PyTorch's format before 1.6 is refused (``tr.save`` takes
``_use_new_zipfile_serialization=False`` and writes the ZIP format), ``weights_only=False``
loads as safely as ``True`` (so an object outside the allowlist is refused here where torch
unpickles it), a tensor that requires grad loads as a leaf of its own (sharing no storage),
and this framework's own format keeps neither strides nor parameters. Where torch plainly
errs (its safe loader refuses ``b''``), the case is left out, saying why. Run deeper with
``HYPOTHESIS_PROFILE=thorough``.
"""

from __future__ import annotations

import collections
import io
import os
import pickle
import warnings
from collections import Counter
from typing import Any

import numpy as np
import pytest
from hypothesis import event, given, note
from hypothesis import strategies as st

import tinygrad_rnn as tr

torch = pytest.importorskip("torch")

pytestmark = pytest.mark.torch

RAN: Counter = Counter()

DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64",
          "complex64", "complex128"]
# layouts a tensor is drawn in: how it is cut out of the array it is made from
LAYOUTS = ["plain", "t", "step", "tail", "expand"]


# ---- building one object in both frameworks -------------------------------------------------


def _values(rng: np.random.Generator, dtype: str, shape: tuple[int, ...]) -> np.ndarray:
    """An array of ``dtype``, with the awkward values of its kind: NaN, infinities and -0.0
    for floats, the extremes for ints."""
    if dtype == "bool":
        return rng.integers(0, 2, shape).astype(bool)
    if dtype in ("uint8", "int8", "int16", "int32", "int64"):
        info = np.iinfo(dtype)
        a = rng.integers(info.min, info.max, shape, dtype=dtype, endpoint=True)
        return a
    real = dtype if not dtype.startswith("complex") else {"complex64": "float32",
                                                           "complex128": "float64"}[dtype]
    a = rng.standard_normal(shape).astype(real)
    special = np.array([np.nan, np.inf, -np.inf, -0.0, 0.0], dtype=real)
    mask = rng.random(shape) < 0.2
    a[mask] = rng.choice(special, int(mask.sum()))
    if dtype.startswith("complex"):
        b = rng.standard_normal(shape).astype(real)
        return np.asarray(a + 1j * b).astype(dtype)  # (0-d: an array, not a scalar)
    return a


def _tensor(m: Any, spec: tuple) -> Any:
    """The tensor ``spec`` names, in ``m`` (torch or tr): cut from a fresh array by its
    layout, then made to require grad or a parameter."""
    dtype, shape, layout, seed, grad, param = spec
    rng = np.random.default_rng(seed)
    big = tuple(n * 2 if layout == "step" else n + 1 if layout == "tail" else n
                for n in shape)
    if layout == "t":
        big = big[::-1]
    if layout == "expand":
        big = (1,) + shape[1:]
    a = _values(rng, dtype, big)
    x = m.tensor(a) if m is tr else torch.from_numpy(a.copy())
    if layout == "t":
        x = x.permute(*reversed(range(x.ndim)))
    elif layout == "step":
        x = x[tuple(slice(None, None, 2) for _ in shape)]
    elif layout == "tail":
        x = x[tuple(slice(1, None) for _ in shape)]
    elif layout == "expand":
        x = x.expand(*shape)
    if param:
        x = m.nn.Parameter(x.detach(), requires_grad=grad)
    elif grad:
        x = x.detach().requires_grad_()
    return x


@st.composite
def tensor_specs(draw, dtypes=DTYPES):
    dtype = draw(st.sampled_from(dtypes))
    shape = tuple(draw(st.lists(st.integers(0, 3), max_size=3)))
    layout = draw(st.sampled_from(LAYOUTS)) if shape else "plain"
    if layout == "expand" and not shape:
        layout = "plain"
    floating = dtype.startswith(("float", "complex"))
    grad = floating and layout != "expand" and draw(st.booleans())
    param = floating and layout != "expand" and draw(st.integers(0, 3)) == 0
    return ("tensor", (dtype, shape, layout, draw(st.integers(0, 2**32 - 1)), grad, param))


def test_mmap_needs_a_path_as_in_torch():
    buf = io.BytesIO()
    torch.save([torch.ones(2)], buf)
    for load in (torch.load, tr.load):
        buf.seek(0)
        with pytest.raises(ValueError, match="file path"):
            load(buf, mmap=True)


def _shared(m: Any, spec: tuple) -> list:
    """A tensor and a view of it (a row, a column, a strided slice): they share a storage."""
    base = _tensor(m, spec[0])
    view = {"row": lambda b: b[1], "col": lambda b: b[:, 1], "step": lambda b: b[::2],
            "same": lambda b: b.view(b.shape), "t": lambda b: b.t(),
            "detach": lambda b: b.detach(),
            # a parameter made of a tensor: it shares the tensor's storage in torch, not here
            # (arrays are copied on write)
            "param": lambda b: m.nn.Parameter(b, requires_grad=False)}[spec[1]](base)
    return [base, view]


@st.composite
def shared_specs(draw):
    dtype = draw(st.sampled_from(DTYPES))
    shape = (draw(st.integers(2, 3)), draw(st.integers(2, 3)))
    seed = draw(st.integers(0, 2**32 - 1))
    return ("shared", ((dtype, shape, "plain", seed, False, False),
                       draw(st.sampled_from(["row", "col", "step", "same", "t", "detach",
                                             "param"]))))


@st.composite
def module_state(draw):
    """("module", kind, seed): a small module's ``state_dict()``, with ``_metadata`` in torch."""
    return ("module", draw(st.sampled_from(["linear", "bn", "lstm", "seq"])),
            draw(st.integers(0, 2**16)))


@st.composite
def optim_state(draw):
    return ("optim", draw(st.sampled_from(["SGD", "Adam"])), draw(st.integers(0, 2**16)))


def _module(m: Any, kind: str) -> Any:
    nn = m.nn
    if kind == "linear":
        return nn.Linear(3, 2)
    if kind == "bn":
        return nn.BatchNorm1d(3)
    if kind == "lstm":
        return nn.LSTM(2, 3, num_layers=2)
    return nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.BatchNorm1d(3))


def _module_state(m: Any, kind: str, seed: int) -> Any:
    """The state dict of a module built in torch, its values copied into ours (ours as a
    state_dict of the same module, so its keys and order are ours to check)."""
    torch.manual_seed(seed)
    theirs = _module(torch, kind)
    if kind in ("bn", "seq"):
        theirs.train()
        theirs(torch.randn(4, *((2,) if kind == "seq" else (3,))))
    sd = theirs.state_dict()
    if m is torch:
        return sd
    ours = _module(tr, kind)
    ours.load_state_dict({k: v.numpy() for k, v in sd.items()})
    return ours.state_dict()


def _optim_state(m: Any, kind: str, seed: int) -> Any:
    rng = np.random.default_rng(seed)
    w = rng.standard_normal((2, 3)).astype(np.float32)
    g = rng.standard_normal((2, 3)).astype(np.float32)
    p = m.nn.Parameter(m.tensor(w))
    opt = getattr(m.optim, kind)([p], lr=0.1, **({"momentum": 0.9} if kind == "SGD" else {}))
    p.grad = m.tensor(g)
    opt.step()
    return opt.state_dict()


KEYS = st.one_of(st.text(max_size=3), st.integers(-3, 9))
# keys torch's weights_only unpickler takes but this format did not always: floats, bools,
# None and tuples of them
ODD_KEYS = st.one_of(st.floats(allow_nan=False), st.booleans(), st.none(),
                     st.tuples(st.integers(0, 3), st.text(max_size=2)))


def leaves(odd: bool) -> st.SearchStrategy:
    """Leaf specs: ("leaf", value), ("tensor", ...), ("shared", ...), and with ``odd`` what
    torch.load(weights_only=True) also reads: complex numbers, bytes, sets."""
    plain = st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**70), st.floats(),
                      st.text(max_size=4))
    if odd:  # (and shapes, devices and dtypes, made in each framework by build)
        plain = st.one_of(plain, st.complex_numbers(allow_nan=False))
    out = [plain.map(lambda v: ("leaf", v)), tensor_specs(), shared_specs(), module_state(),
           optim_state()]
    if odd:
        out += [st.binary(max_size=4).map(lambda b: ("bytes", b)),
                st.frozensets(st.integers(0, 9), max_size=3).map(lambda s: ("set", s)),
                st.lists(st.integers(0, 5), max_size=3).map(lambda v: ("size", tuple(v))),
                st.sampled_from(["cpu", "cuda:1"]).map(lambda v: ("device", v)),
                st.sampled_from(DTYPES).map(lambda v: ("dtype", v))]
    return st.one_of(*out)


def objects(odd: bool = False) -> st.SearchStrategy:
    keys = st.one_of(KEYS, ODD_KEYS) if odd else KEYS
    return st.recursive(leaves(odd), lambda kids: st.one_of(
        st.lists(kids, max_size=3).map(lambda v: ("list", v)),
        st.lists(kids, max_size=3).map(lambda v: ("tuple", v)),
        st.lists(st.tuples(keys, kids), max_size=3).map(lambda v: ("dict", v)),
        st.lists(st.tuples(keys, kids), max_size=3).map(lambda v: ("odict", v))),
        max_leaves=8)


def build(m: Any, spec: Any) -> Any:
    """The object ``spec`` describes, in ``m``; tensors that are one in the spec are one."""
    kind, v = spec[0], spec[1] if len(spec) == 2 else spec[1:]
    if kind == "leaf":
        return v
    if kind == "bytes":
        return v
    if kind == "set":
        return set(v)
    if kind == "size":
        return m.Size(v)
    if kind == "device":
        return m.device(v)
    if kind == "dtype":
        return getattr(m, v)
    if kind == "tensor":
        return _tensor(m, v)
    if kind == "shared":
        return _shared(m, v)
    if kind == "module":
        return _module_state(m, spec[1], spec[2])
    if kind == "optim":
        return _optim_state(m, spec[1], spec[2])
    if kind == "list":
        return [build(m, s) for s in v]
    if kind == "tuple":
        return tuple(build(m, s) for s in v)
    out: dict = {} if kind == "dict" else collections.OrderedDict()
    for k, s in v:
        out[k] = build(m, s)
    return out


# ---- comparing ------------------------------------------------------------------------------


def _bits(a: np.ndarray) -> np.ndarray:
    """The array as comparable bits: NaNs (of any payload) as one NaN."""
    a = np.ascontiguousarray(a)
    if a.dtype.kind in "fc":
        a = a.copy()
        if a.dtype.kind == "c":
            re, im = a.real.copy(), a.imag.copy()
            re[np.isnan(re)], im[np.isnan(im)] = np.nan, np.nan
            a = re + 1j * im if a.size else a
            a = a.astype(np.result_type(re.dtype, np.complex64))
        else:
            a[np.isnan(a)] = np.nan
    return a.view(np.uint8)


def _torch_array(t: Any) -> np.ndarray:
    t = t.detach()
    if t.dtype == torch.bfloat16:  # documented: loads as float32 here, exactly
        t = t.float()
    return t.resolve_conj().resolve_neg().numpy()


def same(got: Any, want: Any, path: str = "obj", strides: bool = True,
         params: bool = True) -> None:
    """``got`` (in one framework) is ``want`` (in either): types, keys in order, tensors in
    every detail (``strides``, ``params``: their strides, whether they are parameters; both
    False: through this framework's own format, which keeps neither, and saves a device as
    its name: documented)."""
    g_t, w_t = isinstance(got, (tr.Tensor, torch.Tensor)), isinstance(want, (tr.Tensor,
                                                                             torch.Tensor))
    assert g_t == w_t, f"{path}: {type(got).__name__} for {type(want).__name__}"
    if g_t:
        ga = got.numpy() if isinstance(got, tr.Tensor) else _torch_array(got)
        wa = want.numpy() if isinstance(want, tr.Tensor) else _torch_array(want)
        assert ga.dtype == wa.dtype, f"{path}: dtype {ga.dtype} for {wa.dtype}"
        assert ga.shape == wa.shape, f"{path}: shape {ga.shape} for {wa.shape}"
        assert np.array_equal(_bits(ga), _bits(wa)), f"{path}: values {ga} for {wa}"
        assert got.requires_grad == want.requires_grad, f"{path}: requires_grad"
        g_p = isinstance(got, (tr.nn.Parameter, torch.nn.Parameter))
        w_p = isinstance(want, (tr.nn.Parameter, torch.nn.Parameter))
        assert g_p == w_p or not params, f"{path}: a parameter? {g_p} for {w_p}"
        if strides and 0 not in ga.shape:  # (an axis of length 1 has no meaningful stride)
            g_s = [st for st, k in zip(got.stride(), ga.shape) if k != 1]
            w_s = [st for st, k in zip(want.stride(), ga.shape) if k != 1]
            assert g_s == w_s, f"{path}: stride {got.stride()} for {want.stride()}"
        return
    tg, tw = type(got), type(want)
    if not params and tw is type(tr.device("cpu")):
        assert got == want, f"{path}: {got!r} for {want!r}"
        return
    if tg is not tw:  # a shape is a Size in each framework
        tg, tw = (tr.Size if t is torch.Size else t for t in (tg, tw))
    if tg is tw and tw in (torch.device, torch.dtype):
        assert got == want, f"{path}: {got!r} for {want!r}"
        return
    if torch.device in (tg, tw):
        assert {tg, tw} == {torch.device, type(tr.device("cpu"))} and str(got) == str(want), \
            f"{path}: {got!r} for {want!r}"
        return
    if tw is torch.dtype:
        assert got == getattr(tr, str(want).split(".")[1]), f"{path}: {got!r} for {want!r}"
        return
    if tg is torch.dtype:
        assert want == getattr(tr, str(got).split(".")[1]), f"{path}: {got!r} for {want!r}"
        return
    assert tg is tw, f"{path}: {tg.__name__} for {tw.__name__}"
    if isinstance(want, dict):
        assert list(got) == list(want), f"{path}: keys {list(got)} for {list(want)}"
        for k in want:
            same(got[k], want[k], f"{path}[{k!r}]", strides, params)
        gm, wm = getattr(got, "_metadata", None), getattr(want, "_metadata", None)
        assert gm == wm, f"{path}._metadata {gm} for {wm}"
        return
    if isinstance(want, (list, tuple)):
        assert len(got) == len(want), f"{path}: length {len(got)} for {len(want)}"
        for i, (a, b) in enumerate(zip(got, want)):
            same(a, b, f"{path}[{i}]", strides, params)
        return
    if isinstance(want, float) and want != want:
        assert got != got, f"{path}: {got!r} for nan"
        return
    assert got == want, f"{path}: {got!r} for {want!r}"


def _tensors(obj: Any, out: list) -> list:
    """The tensors in ``obj``, in order (a tensor met twice, twice)."""
    if isinstance(obj, (tr.Tensor, torch.Tensor)):
        out.append(obj)
    elif isinstance(obj, dict):
        for v in obj.values():
            _tensors(v, out)
    elif isinstance(obj, (list, tuple)):
        for v in obj:
            _tensors(v, out)
    return out


def _sharing(obj: Any) -> list[tuple[int, int, bool]]:
    """For each pair of tensors in ``obj``: whether they are one object, and whether a write
    into the first reaches the second (the memory they share), found by writing. Pairs with
    a tensor that requires grad are left out: torch's share their storage, ours load as
    leaves of their own (documented), and a parameter made of a tensor (``Parameter(x)``)
    shares x's storage in torch but not here."""
    ts = _tensors(obj, [])
    out = []
    for i, a in enumerate(ts):
        for j, b in enumerate(ts):
            if i >= j or a.numel() == 0 or b.numel() == 0 or a.requires_grad or \
                    b.requires_grad or isinstance(a, (tr.nn.Parameter, torch.nn.Parameter)) or \
                    isinstance(b, (tr.nn.Parameter, torch.nn.Parameter)):
                continue
            if a.dtype in (torch.bool, np.bool_) or b.dtype in (torch.bool, np.bool_):
                continue  # (writing a marker into a bool tensor tells too little)
            if 0 in a.stride() and a.numel() > 1:
                continue  # an expanded tensor cannot be written into (in either)
            if isinstance(a, torch.Tensor):
                if a.dtype != b.dtype:
                    continue
                before = b.detach().clone()
                with torch.no_grad():
                    saved = a.detach().clone()
                    a.detach().add_(1)
                    reached = not torch.equal(b.detach(), before) or bool(
                        torch.isnan(before).any())
                    a.detach().copy_(saved)
                out.append((i, j, a is b, reached))
            else:
                if a.dtype != b.dtype:
                    continue
                before = b.detach().numpy().copy()
                with tr.no_grad():
                    saved = a.detach().clone()
                    a.detach().add_(1)
                    after = b.detach().numpy()
                    reached = not np.array_equal(after, before) or bool(
                        np.isnan(before).any())
                    a.detach().copy_(saved)
                out.append((i, j, a is b, reached))
    return out


# ---- moving through files -------------------------------------------------------------------

MAP_LOCATIONS = [None, "cpu", "torch.device", "dict", "function"]


def _map_location(kind: str | None) -> Any:
    return {None: None, "cpu": "cpu", "torch.device": torch.device("cpu"),
            "dict": {"cpu": "cpu"}, "function": lambda storage, loc: storage}[kind]


def _save(fw: str, obj: Any, how: str, d: str, **kw: Any) -> Any:
    """``obj`` saved by ``fw`` ("tr" or "torch") through ``how``: what loading reads from."""
    save = tr.save if fw == "tr" else torch.save
    if how == "bytesio":
        buf = io.BytesIO()
        save(obj, buf, **kw)
        buf.seek(0)
        return buf
    path = os.path.join(d, "ckpt.pt")
    if how == "file":
        with open(path, "wb") as f:
            save(obj, f, **kw)
    else:
        save(obj, path, **kw)
    return path


def _load(fw: str, src: Any, how: str, **kw: Any) -> Any:
    load = tr.load if fw == "tr" else torch.load
    if how == "file":
        with open(src, "rb") as f:
            return load(f, **kw)
    return load(src, **kw)


@given(spec=objects(), how=st.sampled_from(["bytesio", "path", "file"]),
       loc=st.sampled_from(MAP_LOCATIONS), mmap=st.booleans(), wo=st.booleans(),
       legacy=st.booleans())
def test_torch_reads_what_we_save_and_we_read_what_torch_saves(spec, how, loc, mmap, wo,
                                                               legacy, tmp_path_factory):
    d = str(tmp_path_factory.mktemp("ckpt"))
    note(f"spec={spec!r}")
    ours, theirs = build(tr, spec), build(torch, spec)
    mm = {"mmap": True} if mmap and how == "path" else {}

    # torch -> tr
    src = _save("torch", theirs, how, d)
    got = _load("tr", src, how, map_location=_map_location(loc), weights_only=wo, **mm)
    same(got, theirs)
    assert _sharing(got) == _sharing(theirs), "torch -> tr: memory shared otherwise"
    # torch -> tr -> torch: what was loaded saves back as it came (_metadata, views, strides)
    buf = io.BytesIO()
    tr.save(got, buf, format="torch")
    buf.seek(0)
    again = torch.load(buf, weights_only=True)
    same(again, theirs)
    assert _sharing(again) == _sharing(theirs), "torch -> tr -> torch: memory shared otherwise"

    # tr -> torch (the legacy switch is taken, and the ZIP format written: documented)
    src = _save("tr", ours, how, d, **({"_use_new_zipfile_serialization": False}
                                        if legacy else {}))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch's own about mmap with a file object
        back = _load("torch", src, how, weights_only=wo, map_location=_map_location(loc),
                     **mm)
    same(back, ours)
    assert _sharing(back) == _sharing(ours), "tr -> torch: memory shared otherwise"

    # tr -> tr, in both formats (ours keeps neither strides nor parameters: documented)
    for fmt in ("torch", "tinygrad_rnn.checkpoint"):
        src = _save("tr", ours, how, d, format=fmt)
        again = _load("tr", src, how)
        same(again, ours, strides=fmt == "torch", params=fmt == "torch")
        if fmt == "torch":
            assert _sharing(again) == _sharing(ours), "tr -> tr: memory shared otherwise"
    RAN["objects"] += 1
    event(f"io: {how}, map_location: {loc}, mmap: {bool(mm)}")


@given(spec=objects(odd=True), wo=st.booleans())
def test_what_torchs_safe_loader_reads_beyond_weights(spec, wo):
    """Complex numbers, bytes, sets, and dict keys that are floats, bools, None or tuples:
    torch.load(weights_only=True) reads them, so they move both ways too."""
    note(f"spec={spec!r}")
    ours, theirs = build(tr, spec), build(torch, spec)
    buf = io.BytesIO()
    torch.save(theirs, buf)
    buf.seek(0)
    same(tr.load(buf, weights_only=wo), theirs)
    # torch plainly errs on b'': pickle writes it as bytes(), which torch's safe loader
    # refuses (it takes _codecs.encode, pickle's form of every other bytes); not compared
    if "b''" not in repr(spec):
        buf.seek(0)
        same(torch.load(buf, weights_only=True), theirs)
    buf = io.BytesIO()
    tr.save(ours, buf, format="torch")
    buf.seek(0)
    same(torch.load(buf, weights_only=wo), ours)
    buf = io.BytesIO()  # and this framework's own format keeps them too
    tr.save(ours, buf, format="tinygrad_rnn.checkpoint")
    buf.seek(0)
    same(tr.load(buf), ours, strides=False, params=False)
    RAN["odd objects"] += 1


# ---- models ---------------------------------------------------------------------------------


@st.composite
def models(draw):
    kind = draw(st.sampled_from(["linear", "conv1d", "conv2d", "lstm", "gru", "rnn", "bn",
                                 "embedding"]))
    cfg: dict[str, Any] = {"kind": kind, "seed": draw(st.integers(0, 2**16))}
    if kind in ("lstm", "gru", "rnn"):
        cfg.update(layers=draw(st.integers(1, 2)), bi=draw(st.booleans()),
                   bias=draw(st.booleans()), batch_first=draw(st.booleans()),
                   proj=draw(st.integers(0, 2)) if kind == "lstm" else 0)
    elif kind in ("linear", "conv1d", "conv2d"):
        cfg.update(bias=draw(st.booleans()))
    elif kind == "bn":
        cfg.update(affine=draw(st.booleans()), track=draw(st.booleans()))
    cfg["train"] = draw(st.booleans())
    return cfg


def _make_model(m: Any, cfg: dict) -> Any:
    nn, k = m.nn, cfg["kind"]
    if k == "linear":
        return nn.Linear(4, 3, bias=cfg["bias"])
    if k == "conv1d":
        return nn.Conv1d(2, 3, 3, padding=1, bias=cfg["bias"])
    if k == "conv2d":
        return nn.Conv2d(2, 3, 2, stride=2, bias=cfg["bias"])
    if k == "bn":
        return nn.BatchNorm1d(3, affine=cfg["affine"], track_running_stats=cfg["track"])
    if k == "embedding":
        return nn.Embedding(7, 3)
    cls = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}[k]
    kw = {"proj_size": cfg["proj"]} if k == "lstm" else {}
    return cls(3, 4, num_layers=cfg["layers"], bidirectional=cfg["bi"], bias=cfg["bias"],
               batch_first=cfg["batch_first"], **kw)


def _model_input(cfg: dict) -> np.ndarray:
    rng = np.random.default_rng(cfg["seed"])
    k = cfg["kind"]
    if k == "embedding":
        return rng.integers(0, 7, (2, 3))
    shape = {"linear": (2, 4), "conv1d": (2, 2, 5), "conv2d": (2, 2, 4, 4), "bn": (4, 3)}.get(
        k, (3, 2, 3))
    return rng.standard_normal(shape).astype(np.float32)


def _outputs(model: Any, m: Any, x: np.ndarray, train: bool) -> list[np.ndarray]:
    model.train(train)
    inp = m.tensor(x) if m is tr else torch.from_numpy(x)
    with (tr.no_grad() if m is tr else torch.no_grad()), warnings.catch_warnings():
        warnings.filterwarnings("ignore", "LSTM with projections")  # torch's, about oneDNN
        out = model(inp)
    flat = []
    for o in (out if isinstance(out, tuple) else (out,)):
        for t in (o if isinstance(o, tuple) else (o,)):
            flat.append(t.numpy() if m is tr else t.numpy())
    return flat


def _after(model: Any, m: Any) -> dict[str, np.ndarray]:
    return {k: (v.numpy() if m is tr else v.detach().numpy())
            for k, v in model.state_dict().items()}


@given(cfg=models(), how=st.sampled_from(["bytesio", "path"]))
def test_model_weights_move_both_ways_and_compute_the_same(cfg, how, tmp_path_factory):
    d = str(tmp_path_factory.mktemp("model"))
    x = _model_input(cfg)
    # torch -> tr
    torch.manual_seed(cfg["seed"])
    theirs = _make_model(torch, cfg)
    with torch.no_grad():
        for b in theirs.buffers():  # running statistics other than their start
            if b.dtype.is_floating_point:
                b.add_(torch.rand_like(b))
    ours = _make_model(tr, cfg)
    src = _save("torch", theirs.state_dict(), how, d)
    ours.load_state_dict(_load("tr", src, how))
    for a, b in zip(_outputs(ours, tr, x, cfg["train"]), _outputs(theirs, torch, x,
                                                                  cfg["train"])):
        np.testing.assert_allclose(a, b, rtol=2e-5, atol=2e-6)
    for k, v in _after(theirs, torch).items():  # BatchNorm's statistics after the step
        np.testing.assert_allclose(_after(ours, tr)[k], v, rtol=2e-5, atol=2e-6, err_msg=k)

    # tr -> torch: our own initial weights
    tr.manual_seed(cfg["seed"])
    ours = _make_model(tr, cfg)
    back = _make_model(torch, cfg)
    src = _save("tr", ours.state_dict(), how, d)
    back.load_state_dict(_load("torch", src, how))
    for a, b in zip(_outputs(ours, tr, x, cfg["train"]), _outputs(back, torch, x,
                                                                  cfg["train"])):
        np.testing.assert_allclose(a, b, rtol=2e-5, atol=2e-6)
    RAN[f"model {cfg['kind']}"] += 1


# ---- bad files ------------------------------------------------------------------------------

Pair = collections.namedtuple("Pair", "a b")


class Custom:
    def __init__(self) -> None:
        self.w = torch.ones(2)


def _outcome(f: Any) -> BaseException | None:
    try:
        f()
    except Exception as e:  # noqa: BLE001 (the raising is what is compared)
        return e
    return None


@given(spec=objects(), cut=st.floats(0, 1), flip=st.integers(0, 3),
       bad=st.sampled_from(["truncate", "magic", "namedtuple", "custom", "empty", "byte"]))
def test_bad_files_are_refused_by_both_and_here_with_the_reason(spec, cut, flip, bad):
    note(f"spec={spec!r}")
    theirs = build(torch, spec)
    if bad == "namedtuple":
        theirs = Pair(theirs, 1)
    elif bad == "custom":
        theirs = [theirs, Custom()]
    buf = io.BytesIO()
    torch.save(theirs, buf)
    data = buf.getvalue()
    if bad == "truncate":
        data = data[: int(len(data) * cut * 0.999)]
    elif bad == "magic":
        data = bytes([data[flip] ^ 0x55]) + data[1:] if flip == 0 else \
            data[:flip] + bytes([data[flip] ^ 0x55]) + data[flip + 1:]
    elif bad == "empty":
        data = b""
    elif bad == "byte":  # one byte anywhere changed
        at = int(cut * (len(data) - 1))
        data = data[:at] + bytes([data[at] ^ (1 << flip)]) + data[at + 1:]
    t = _outcome(lambda: torch.load(io.BytesIO(data), weights_only=True))
    o = _outcome(lambda: tr.load(io.BytesIO(data)))
    if bad == "byte" and t is None and o is not None:
        # a changed byte in a stored member's data: torch reads it without checking the
        # member's CRC, this reader checks it (and says so)
        assert "CRC" in str(o) or "corrupt" in str(o), repr(o)
        event("bad: byte, refused here only")
        return
    if bad == "byte" and o is None:
        # a byte no reader needs (in a local header's name, a disk number of the ZIP's end
        # record, which torch's reader checks and refuses): what loads is what was saved
        same(tr.load(io.BytesIO(data)), theirs)
        event(f"bad: byte, loaded here, {'refused' if t else 'loaded'} by torch")
        return
    assert (t is None) == (o is None), f"torch: {t!r}, ours: {o!r}"
    if o is not None:
        assert type(o) is ValueError, repr(o)
        msg = str(o)
        if bad in ("namedtuple", "custom"):
            assert ("Pair" if bad == "namedtuple" else "Custom") in msg, msg
        elif bad == "empty":
            assert "empty" in msg, msg
    event(f"bad: {bad}, refused: {o is not None}")
    RAN[f"bad {bad}"] += 1


def test_the_legacy_format_is_refused_naming_it():
    """Documented: PyTorch's format before 1.6 (a bare pickle) is refused, from a path and
    from a file object, with the reason."""
    buf = io.BytesIO()
    torch.save({"w": torch.ones(2)}, buf, _use_new_zipfile_serialization=False)
    with pytest.raises(ValueError, match="pickle"):
        tr.load(io.BytesIO(buf.getvalue()))


def test_a_weights_only_false_pickle_is_refused_without_running_it(tmp_path):
    """weights_only=False loads as safely as True here (documented): a global outside the
    allowlist is named, never imported or called."""
    class Boom:
        def __reduce__(self):
            return (os.system, ("echo ran",))

    buf = io.BytesIO()
    torch.save({"x": Boom()}, buf, pickle_module=pickle)
    with pytest.raises(ValueError, match="system"):
        tr.load(io.BytesIO(buf.getvalue()), weights_only=False)
