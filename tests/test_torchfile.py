"""PyTorch's checkpoint files, read and written without PyTorch (``tinygrad_rnn/torchfile.py``):
``tr.load`` reads what ``torch.save`` wrote, ``tr.save(..., format="torch")`` writes what
``torch.load(weights_only=True)`` reads, bit for bit, and a file that would run code is
refused."""

from __future__ import annotations

import collections
import os
import pickle
import zipfile

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tinygrad_rnn as tr
from tinygrad_rnn import nn

DTYPES = [np.float32, np.float64, np.float16, np.int64, np.int32, np.int16, np.int8, np.uint8,
          np.bool_, np.complex64, np.complex128]


def _same(a, b):
    """Equal in type, dtype, shape and bits, through containers."""
    if isinstance(a, tr.Tensor) or hasattr(a, "detach"):
        a = a.detach().numpy() if not isinstance(a, tr.Tensor) else a.numpy()
        b = b.numpy() if isinstance(b, tr.Tensor) else b.detach().numpy()
        assert a.dtype == b.dtype and a.shape == b.shape
        assert a.tobytes() == b.tobytes()
        return
    if isinstance(a, dict):
        assert list(a) == list(b)
        for k in a:
            _same(a[k], b[k])
        return
    if isinstance(a, (list, tuple)):
        assert type(a) is type(b) and len(a) == len(b)
        for x, y in zip(a, b):
            _same(x, y)
        return
    assert type(a) is type(b) and (a == b or a != a and b != b)


arrays = st.sampled_from(DTYPES).flatmap(lambda dt: hnp.arrays(
    dt, hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4)))
leaves = st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**70),
                   st.floats(allow_nan=False), st.text(max_size=5), arrays.map(tr.tensor))
objects = st.recursive(leaves, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.lists(inner, max_size=3).map(tuple),
    st.dictionaries(st.one_of(st.text(max_size=4), st.integers(0, 9)), inner, max_size=3)),
    max_leaves=8)


@given(obj=objects)
def test_the_torch_format_reads_back_what_it_wrote(obj, tmp_path_factory):
    path = tmp_path_factory.mktemp("pt") / "x.pt"
    tr.save(obj, path, format="torch")
    _same(tr.load(path), obj)


@pytest.mark.torch
@given(obj=objects)
def test_torch_reads_what_we_write_and_we_read_what_torch_writes(obj, tmp_path_factory):
    torch = pytest.importorskip("torch")
    d = tmp_path_factory.mktemp("pt")
    tr.save(obj, d / "ours.pt", format="torch")
    theirs = torch.load(d / "ours.pt")  # weights_only=True: torch's default
    _same(obj, theirs)
    torch.save(theirs, d / "theirs.pt")
    _same(tr.load(d / "theirs.pt"), obj)


@pytest.mark.torch
def test_torch_state_dicts_load_into_our_layers_and_back(tmp_path):
    """A torch LSTM's and optimizer's files load here without torch's help; ours load into
    torch. Views, non-contiguous tensors, parameters, bfloat16 (as float32, exactly) and a
    state dict's ``_metadata`` come through."""
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    theirs = torch.nn.LSTM(3, 4, num_layers=2, bidirectional=True)
    torch.save(theirs.state_dict(), tmp_path / "lstm.pt")
    sd = tr.load(tmp_path / "lstm.pt")
    assert type(sd) is collections.OrderedDict and sd._metadata == theirs.state_dict()._metadata
    ours = nn.LSTM(3, 4, num_layers=2, bidirectional=True)
    ours.load_state_dict(sd)
    x = np.random.default_rng(0).standard_normal((5, 2, 3)).astype(np.float32)
    np.testing.assert_allclose(ours(tr.tensor(x))[0].numpy(),
                               theirs(torch.tensor(x))[0].detach().numpy(), rtol=1e-5,
                               atol=1e-6)
    tr.save(ours.state_dict(), tmp_path / "ours.pt", format="torch")
    back = torch.nn.LSTM(3, 4, num_layers=2, bidirectional=True)
    back.load_state_dict(torch.load(tmp_path / "ours.pt"))
    for k, v in back.state_dict().items():
        assert torch.equal(v, theirs.state_dict()[k])
    opt = torch.optim.Adam(theirs.parameters())
    theirs(torch.tensor(x))[0].sum().backward()
    opt.step()
    base = torch.arange(12.0).reshape(3, 4)
    torch.save({"opt": opt.state_dict(), "view": base[1:, ::2], "t": base.T,
                "p": torch.nn.Parameter(torch.ones(2)), "bf": torch.tensor([1.5, -2.25],
                                                                           dtype=torch.bfloat16),
                "empty": torch.zeros(0, 3), "scalar": torch.tensor(7)}, tmp_path / "mix.pt")
    mix = tr.load(tmp_path / "mix.pt")
    assert mix["view"].numpy().tolist() == [[4.0, 6.0], [8.0, 10.0]]
    assert mix["t"].numpy().tolist() == base.T.tolist()
    assert mix["p"].requires_grad and mix["bf"].dtype == np.float32
    assert mix["bf"].numpy().tolist() == [1.5, -2.25] and mix["empty"].shape == (0, 3)
    assert mix["scalar"].shape == () and mix["scalar"].item() == 7
    state = mix["opt"]["state"]
    assert sorted(state) == list(range(len(list(theirs.parameters()))))
    np.testing.assert_array_equal(state[0]["exp_avg"].numpy(),
                                  opt.state_dict()["state"][0]["exp_avg"].numpy())


@pytest.mark.torch
def test_a_pickled_model_is_refused_by_name(tmp_path):
    torch = pytest.importorskip("torch")
    torch.save(torch.nn.Linear(2, 2), tmp_path / "model.pt")  # the whole module, pickled
    with pytest.raises(ValueError, match=r"cannot read the PyTorch checkpoint .*model.pt.*: it "
                                         r"holds torch.nn.modules.linear.Linear.*state_dict"):
        tr.load(tmp_path / "model.pt")
    torch.save({"w": torch.ones(2)}, tmp_path / "old.pt", _use_new_zipfile_serialization=False)
    with pytest.raises(ValueError, match=r"PyTorch's format before 1.6"):
        tr.load(tmp_path / "old.pt")


def _zip(path, members):
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)


def test_a_file_that_would_run_code_is_refused_without_running_it(tmp_path):
    class Evil:
        def __reduce__(self):
            return (os.system, ("touch " + str(tmp_path / "pwned"),))

    _zip(tmp_path / "evil.pt", {"evil/data.pkl": pickle.dumps({"w": Evil()}, protocol=2)})
    with pytest.raises(ValueError, match=r"it holds (posix|nt|os)\.system, which this reader "
                                         r"does not build"):
        tr.load(tmp_path / "evil.pt")
    assert not (tmp_path / "pwned").exists()


def test_bad_storages_are_named(tmp_path):
    tr.save({"w": tr.ones(4)}, tmp_path / "w.pt", format="torch")
    with zipfile.ZipFile(tmp_path / "w.pt") as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    short = dict(members, **{"w/data/0": members["w/data/0"][:8]})
    _zip(tmp_path / "short.pt", short)
    with pytest.raises(ValueError, match=r"storage '0' has 8 bytes, expected 16"):
        tr.load(tmp_path / "short.pt")
    missing = {k: v for k, v in members.items() if k != "w/data/0"}
    _zip(tmp_path / "missing.pt", missing)
    with pytest.raises(ValueError, match=r"storage '0' is missing"):
        tr.load(tmp_path / "missing.pt")
    cut = dict(members, **{"w/data.pkl": members["w/data.pkl"][:-5]})
    _zip(tmp_path / "cut.pt", cut)
    with pytest.raises(ValueError, match=r"data.pkl is corrupted"):
        tr.load(tmp_path / "cut.pt")


def test_what_torch_cannot_hold_is_refused_before_anything_is_written(tmp_path):
    path = tmp_path / "x.pt"
    tr.save({"a": 1}, path, format="torch")
    before = path.read_bytes()
    with pytest.raises(TypeError, match=r"no storage of dtype uint16 \(at obj\['b'\]\)"):
        tr.save({"a": 2, "b": np.zeros(2, np.uint16)}, path, format="torch")
    with pytest.raises(TypeError, match=r"type frozenset at obj\['c'\]"):
        tr.save({"c": frozenset({1})}, path, format="torch")
    with pytest.raises(TypeError, match=r"dict keys must be str, int, float, bool, None or "
                                        r"tuples of them, got frozenset"):
        tr.save({frozenset(): 1}, path, format="torch")
    with pytest.raises(TypeError, match=r"set members must be"):
        tr.save({"s": {frozenset()}}, path, format="torch")
    with pytest.raises(ValueError, match=r"format must be 'tinygrad_rnn.checkpoint' .* or "
                                         r"'torch', not 'pt'"):
        tr.save({}, path, format="pt")
    assert path.read_bytes() == before


def _pickle_file(path, body):
    """A PyTorch-style ZIP whose data.pkl is ``body`` (protocol-2 opcodes) and STOP."""
    _zip(path, {"x/data.pkl": pickle.PROTO + b"\x02" + body + pickle.STOP,
                "x/version": b"3\n"})
    return path


def _global(module, name):
    return pickle.GLOBAL + f"{module}\n{name}\n".encode()


def _str(s):
    return pickle.BINUNICODE + len(s.encode()).to_bytes(4, "little") + s.encode()


def test_crafted_pickles_change_nothing_and_are_refused(tmp_path):
    """BUILD on anything but a state dict's OrderedDict, the extension registry, and objects
    of the reader's own smuggled out as keys or metadata are refused; a tiny pickle of shared
    lists (a DAG, 2**40 paths) loads at once, each list built once."""
    from tinygrad_rnn import torchfile

    before = torchfile._rebuild_tensor_v2.__defaults__
    build = (_global("torch._utils", "_rebuild_tensor_v2") + pickle.EMPTY_DICT
             + _str("__defaults__") + pickle.NONE + pickle.SETITEM + pickle.BUILD)
    with pytest.raises(ValueError, match="it sets the state of a function"):
        tr.load(_pickle_file(tmp_path / "build.pt", build))
    assert torchfile._rebuild_tensor_v2.__defaults__ == before
    with pytest.raises(ValueError, match="extension registry"):
        tr.load(_pickle_file(tmp_path / "ext.pt", pickle.EXT1 + b"\x01"))
    key = pickle.EMPTY_DICT + _global("collections", "OrderedDict") + pickle.NONE + pickle.SETITEM
    with pytest.raises(ValueError, match="a dict key or set member of type type"):
        tr.load(_pickle_file(tmp_path / "key.pt", key))
    dag = pickle.EMPTY_LIST + pickle.BININT1 + b"\x01" + pickle.APPEND + pickle.BINPUT + b"\x00"
    for i in range(1, 41):
        dag += (pickle.EMPTY_LIST + pickle.MARK + pickle.BINGET + bytes([i - 1])
                + pickle.BINGET + bytes([i - 1]) + pickle.APPENDS + pickle.BINPUT + bytes([i]))
    deep = tr.load(_pickle_file(tmp_path / "dag.pt", dag))
    assert deep[0] is deep[1] and len(deep) == 2


def test_a_storage_is_sized_before_it_is_read_and_a_huge_int_is_refused_by_place(tmp_path):
    tr.save({"w": tr.ones(2)}, tmp_path / "w.pt", format="torch")
    with zipfile.ZipFile(tmp_path / "w.pt") as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    with zipfile.ZipFile(tmp_path / "bomb.pt", "w", zipfile.ZIP_DEFLATED) as zf:
        for n, data in members.items():
            zf.writestr(n, bytes(10**7) if n == "w/data/0" else data)
    with pytest.raises(ValueError, match=r"storage '0' has 10000000 bytes, expected 8"):
        tr.load(tmp_path / "bomb.pt")
    with pytest.raises(ValueError, match=r"an int of 3001 bits at obj\['n'\]"):
        tr.save({"n": 2**3000}, tmp_path / "n.pt", format="torch")
    with pytest.raises(TypeError, match="MaskedArray"):
        tr.save({"m": np.ma.masked_array([1.0], mask=[True])}, tmp_path / "m.pt", format="torch")


@pytest.mark.torch
def test_lazy_conjugates_negatives_unsigned_dtypes_and_metadata_as_torch(tmp_path):
    torch = pytest.importorskip("torch")
    z = torch.tensor([1 + 2j, -3j])
    saved = {"conj": z.conj(), "neg": torch.tensor([1.0, -2.0])._neg_view(),
             "u16": torch.tensor([1, 65535], dtype=torch.uint16),
             "u64": torch.tensor([2**63], dtype=torch.uint64),
             "expanded": torch.ones(1).expand(1000)}
    torch.save(saved, tmp_path / "t.pt")
    got = tr.load(tmp_path / "t.pt")
    for k, v in saved.items():
        np.testing.assert_array_equal(got[k].numpy(), v.resolve_conj().resolve_neg().numpy())
        assert got[k].dtype == v.resolve_conj().resolve_neg().numpy().dtype
    torch.save({"f8": torch.zeros(2, dtype=torch.float8_e4m3fn)}, tmp_path / "f8.pt")
    with pytest.raises(ValueError, match="dtype torch.float8_e4m3fn, which NumPy does not have"):
        tr.load(tmp_path / "f8.pt")
    sd = torch.nn.LSTM(2, 2).state_dict()
    torch.save(sd, tmp_path / "sd.pt")
    tr.save(tr.load(tmp_path / "sd.pt"), tmp_path / "again.pt", format="torch")
    assert torch.load(tmp_path / "again.pt")._metadata == sd._metadata


@pytest.mark.torch
def test_a_pt_path_gets_torchs_format_by_default(tmp_path):
    """tr.save(sd, "model.pt") is what torch.load reads, as a PyTorch user expects; what
    would not load back the same from that format (a frozenset, a NumPy array or scalar) goes to
    this framework's own, which tr.load reads; other names get this framework's own."""
    torch = pytest.importorskip("torch")
    sd = tr.nn.LSTM(3, 4).state_dict()
    for name in ("m.pt", "m.PTH"):
        tr.save(sd, tmp_path / name)
        theirs = torch.load(tmp_path / name, weights_only=True)
        assert list(theirs) == list(sd)
        for k, v in sd.items():
            np.testing.assert_array_equal(theirs[k].numpy(), v.numpy())
    for odd in ({"s": frozenset({1, 2})}, {"rng": np.arange(3)}, {"n": np.float32(1.5)}):
        tr.save(odd, tmp_path / "odd.pt")  # would not load back the same from torch's
        back = tr.load(tmp_path / "odd.pt")
        assert list(back) == list(odd) and type(next(iter(back.values()))) is type(
            next(iter(odd.values())))
        with zipfile.ZipFile(tmp_path / "odd.pt") as zf:
            assert zf.namelist()[0] == "manifest.json"
    tr.save(sd, tmp_path / "m.trn")
    with zipfile.ZipFile(tmp_path / "m.trn") as zf:
        assert zf.namelist()[0] == "manifest.json"


@pytest.mark.torch
def test_parameters_strides_and_shared_storages_move_both_ways_as_in_torch():
    """Found by tests/test_differential_serialization.py: a parameter came back a plain
    tensor, a transposed or strided tensor contiguous, and a tensor and its slice as two
    tensors of their own, in both directions."""
    torch = pytest.importorskip("torch")
    import io

    def through(save, load, obj):
        buf = io.BytesIO()
        save(obj, buf)
        buf.seek(0)
        return load(buf)

    base = torch.arange(12.0).reshape(3, 4)
    theirs = {"p": torch.nn.Parameter(torch.ones(2)), "base": base, "row": base[1],
              "t": torch.ones(2, 3).t(), "step": torch.ones(4, 4)[::2, 1:]}
    ours = through(torch.save, tr.load, theirs)
    assert type(ours["p"]) is nn.Parameter and ours["p"].requires_grad
    assert ours["t"].stride() == (1, 3) and ours["step"].stride() == (8, 1)
    ours["base"].add_(1)  # a write into one reaches the other, as in torch
    assert ours["row"].tolist() == [5.0, 6.0, 7.0, 8.0]

    x = tr.arange(12.0).reshape(3, 4)
    back = through(lambda o, f: tr.save(o, f, format="torch"), torch.load,
                   {"p": nn.Parameter(tr.ones(2)), "x": x, "col": x[:, 1], "t": x.t()})
    assert type(back["p"]) is torch.nn.Parameter
    assert back["t"].stride() == (1, 4) and back["col"].stride() == (4,)
    back["x"].add_(1)
    assert back["col"].tolist() == [2.0, 6.0, 10.0] and back["t"][1, 0].item() == 2.0
    # after a write through a transposed view, the base's array is a transposed one's part
    t = x.t()
    t.add_(1)
    back = through(lambda o, f: tr.save(o, f, format="torch"), torch.load, [x, t])
    back[0].add_(1)
    assert back[1].tolist() == (x.t() + 1).tolist()
    # a tensor whose array is a slice of a larger one (as an op may give) is written alone
    big = np.zeros(100_000, np.float32)
    buf = io.BytesIO()
    tr.save(tr.Tensor._wrap(big[:10], "cpu"), buf, format="torch")
    assert len(buf.getvalue()) < 2000
    # a parameter made of x shares no memory with it here (copy on write), nor in the file
    y = tr.ones(3)
    a, b = through(lambda o, f: tr.save(o, f, format="torch"), torch.load,
                   [y, nn.Parameter(y, requires_grad=False)])
    assert a.untyped_storage().data_ptr() != b.untyped_storage().data_ptr()


@pytest.mark.torch
def test_what_torchs_safe_loader_reads_moves_both_ways():
    """Found by tests/test_differential_serialization.py: sets, complex numbers, bytes,
    Counter, torch.Size, torch.device, dtypes and keys other than str and int, which
    torch.load(weights_only=True) reads, were refused both ways."""
    torch = pytest.importorskip("torch")
    import io

    obj = {"s": {1, 2}, "c": 1 + 2j, "b": b"", "b2": b"\xff", 1.5: None, (1, "a"): True,
           None: 0, True: 1, "n": collections.Counter(a=2)}
    buf = io.BytesIO()
    tr.save(obj, buf)  # a file object without a name: torch's format, which keeps it all
    buf.seek(0)
    assert torch.load(buf, weights_only=True) == obj  # b"" too, as _codecs.encode
    buf.seek(0)
    assert tr.load(buf) == obj
    buf = io.BytesIO()
    torch.save({"size": torch.Size([2, 3]), "dev": torch.device("cuda", 1),
                "dt": torch.float16, **obj}, buf)
    buf.seek(0)
    got = tr.load(buf)
    assert type(got["size"]) is tr.Size and got["size"] == (2, 3)
    assert got["dev"] == tr.device("cuda:1") and got["dt"] == tr.float16
    assert {k: v for k, v in got.items() if k not in ("size", "dev", "dt")} == obj


@pytest.mark.torch
def test_a_file_object_that_is_no_zip_is_named_and_mmap_needs_a_path(tmp_path):
    """Found by tests/test_differential_serialization.py: an empty buffer or a legacy pickle
    in a file object was only "not a ZIP archive"; mmap=True with one was taken, where torch
    raises."""
    torch = pytest.importorskip("torch")
    import io

    with pytest.raises(ValueError, match="the file is empty"):
        tr.load(io.BytesIO())
    buf = io.BytesIO()
    torch.save([torch.ones(2)], buf, _use_new_zipfile_serialization=False)
    with pytest.raises(ValueError, match="looks like a pickle"):
        tr.load(io.BytesIO(buf.getvalue()))
    torch.save([torch.ones(2)], tmp_path / "x.pt")
    assert tr.load(tmp_path / "x.pt", mmap=True)[0].tolist() == [1.0, 1.0]
    with open(tmp_path / "x.pt", "rb") as f, pytest.raises(ValueError, match="file path"):
        tr.load(f, mmap=True)


@pytest.mark.torch
def test_loaded_views_written_into_save_back_as_views():
    """Found by tests/test_differential_serialization.py: after a write, a view's array here
    is a copy, and saving it again gave it a storage of its own (no sharing, other strides);
    its place in its base's memory is now found through the chain of views."""
    torch = pytest.importorskip("torch")
    import io

    x = torch.arange(6.0).reshape(2, 3)
    buf = io.BytesIO()
    torch.save([x, x[:, 1], x.t()[1:]], buf)
    buf.seek(0)
    ours = tr.load(buf)
    ours[0].add_(1)
    ours[1].add_(1)
    buf = io.BytesIO()
    tr.save(ours, buf, format="torch")
    buf.seek(0)
    back = torch.load(buf)
    assert [t.stride() for t in back] == [(3, 1), (3,), (1, 3)]
    assert [t.tolist() for t in back] == [t.tolist() for t in ours]
    back[0].add_(100)
    assert back[1].tolist() == [103.0, 106.0] and back[2].tolist() == [[103.0, 106.0]] * 2
    # a strided tensor read alone (its array a window of its storage's) saves back as it was
    x = torch.arange(24.0).reshape(3, 4, 2)[1:, 1:, 1:].requires_grad_()
    buf = io.BytesIO()
    torch.save([x], buf)
    buf.seek(0)
    ours = tr.load(buf)
    buf = io.BytesIO()
    tr.save(ours, buf, format="torch")
    buf.seek(0)
    (back,) = torch.load(buf)
    assert back.stride() == (8, 2, 1) and back.storage_offset() == 11 and torch.equal(back, x)
