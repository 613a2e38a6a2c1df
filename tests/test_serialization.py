"""Checkpoints (``tinygrad_rnn.serialization``): exact round trips, no pickle, atomic writes,
and clear errors for anything that is not an intact checkpoint."""

from __future__ import annotations

import io
import json
import os
import pickle
import struct
import subprocess
import sys
import zipfile
from collections import OrderedDict, defaultdict
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tinygrad_rnn as tr
from tinygrad_rnn import serialization as S
from tinygrad_rnn.random import get_rng_state, set_rng_state

# ---- helpers -------------------------------------------------------------------------------


def assert_same(a: Any, b: Any, where: str = "obj", device: str = "cpu") -> None:
    """Equal in every detail: types, dict order, dtypes, shapes, and bits (a view, such as a
    state dict's values, loads as a plain Tensor)."""
    if isinstance(a, tr.Tensor):
        assert type(b) is tr.Tensor, f"{where}: {type(b).__name__} is not a Tensor"
    else:
        assert type(a) is type(b), f"{where}: {type(a).__name__} != {type(b).__name__}"
    if isinstance(a, tr.Tensor):
        assert b.device == device, where
        assert a.requires_grad == b.requires_grad, where
        assert b.is_leaf and b.grad is None, where
        assert_same(a.numpy(), b.numpy(), where)
    elif isinstance(a, (np.ndarray, np.generic)):
        assert a.dtype == b.dtype and a.shape == b.shape, f"{where}: {a.dtype}{a.shape}"
        assert np.ascontiguousarray(a).tobytes() == np.ascontiguousarray(b).tobytes(), where
    elif type(a) is float:
        assert struct.pack(">d", a) == struct.pack(">d", b), f"{where}: {a!r} != {b!r}"
    elif type(a) is dict:
        assert list(a) == list(b), where
        for k in a:
            assert_same(a[k], b[k], f"{where}[{k!r}]", device)
    elif type(a) in (list, tuple):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            assert_same(x, y, f"{where}[{i}]", device)
    else:
        assert a == b, where


def roundtrip(obj: Any, path: Path, device: str | None = None) -> Any:
    S.save(obj, path)
    return S.load(path, device=device)


def rewrite(path: Path, manifest: Any = None, members: dict[str, bytes] | None = None) -> None:
    """Rewrite a checkpoint with a changed manifest and/or members (to forge bad files)."""
    with zipfile.ZipFile(path) as zf:
        contents = {n: zf.read(n) for n in zf.namelist()}
    if manifest is not None:
        contents["manifest.json"] = json.dumps(manifest).encode()
    contents.update(members or {})
    with zipfile.ZipFile(path, "w") as zf:
        for n, data in contents.items():
            zf.writestr(n, data)


def manifest_of(path: Path) -> Any:
    with zipfile.ZipFile(path) as zf:
        return json.loads(zf.read("manifest.json"))


def npy_bytes(arr: np.ndarray, allow_pickle: bool = False) -> bytes:
    buf = io.BytesIO()
    np.save(buf, arr, allow_pickle=allow_pickle)
    return buf.getvalue()


# a pickle payload that records whether it ever ran
RAN: list[str] = []


def _side_effect() -> None:
    RAN.append("unpickled!")


class _Evil:
    def __reduce__(self) -> Any:
        return (_side_effect, ())


@pytest.fixture(scope="module")
def ckpt_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("ckpt")


# ---- Hypothesis: nested structures round trip exactly ---------------------------------------

_dtypes = st.one_of(
    hnp.boolean_dtypes(),
    hnp.integer_dtypes(endianness="?"),
    hnp.unsigned_integer_dtypes(endianness="?"),
    hnp.floating_dtypes(endianness="?"),
    hnp.complex_number_dtypes(endianness="?"),
)
_shapes = hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=3)
_arrays = hnp.arrays(_dtypes, _shapes)
_np_leaves = st.one_of(
    _arrays,
    _arrays.map(lambda a: a.T),  # Fortran order
    hnp.arrays(_dtypes, hnp.array_shapes(min_dims=1, max_dims=3, min_side=0, max_side=3))
    .map(lambda a: a[::-1]),  # a strided view
    hnp.arrays(_dtypes, ()).map(lambda a: a[()]),  # NumPy scalars
)
_tensors = st.one_of(
    hnp.arrays(st.sampled_from([np.float32, np.float64, np.int64, np.bool_]), _shapes)
    .map(tr.tensor),
    hnp.arrays(st.sampled_from([np.float32, np.float64]), _shapes)
    .map(lambda a: tr.tensor(a, requires_grad=True)),
)
_leaves = st.one_of(
    st.none(), st.booleans(), st.integers(), st.integers(min_value=2**62, max_value=2**200),
    st.floats(), st.text(), _np_leaves, _tensors,
)
structures = st.recursive(
    _leaves,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.lists(children, max_size=4).map(tuple),
        st.dictionaries(st.text(max_size=5), children, max_size=4),
    ),
    max_leaves=12,
)


@given(structures)
def test_nested_structures_round_trip_exactly(ckpt_dir: Path, obj: Any) -> None:
    assert_same(obj, roundtrip(obj, ckpt_dir / "hyp.ckpt"))


@given(structures)
def test_equal_objects_give_identical_files(ckpt_dir: Path, obj: Any) -> None:
    S.save(obj, ckpt_dir / "a.ckpt")
    S.save(obj, ckpt_dir / "b.ckpt")
    assert (ckpt_dir / "a.ckpt").read_bytes() == (ckpt_dir / "b.ckpt").read_bytes()


# ---- explicit round trips ------------------------------------------------------------------

_SPECIAL_FLOAT_BITS = [
    "7ff8000000000000", "fff8000000000000", "7ff0000000000001", "7ff8deadbeef0001",  # nans
    "7ff0000000000000", "fff0000000000000", "8000000000000000", "0000000000000001",
    "7fefffffffffffff", "3fb999999999999a",
]


def test_scalars_keep_their_types_and_bits(tmp_path: Path) -> None:
    floats = [struct.unpack(">d", bytes.fromhex(b))[0] for b in _SPECIAL_FLOAT_BITS]
    ints = [0, -1, 1, 2**53 + 1, 2**63, -(2**63) - 1, 2**128 - 1, -(10**5000)]
    obj = {
        "floats": floats, "ints": ints,
        "bool_int_float": [True, 1, 1.0, False, 0, 0.0, None],
        "strings": ["", "ünïcödé ✓ 🎉", "\x00\n\t\"\\", "\ud800 lone surrogate", "0x1f"],
    }
    assert_same(obj, roundtrip(obj, tmp_path / "s.ckpt"))


def test_nested_empties_and_tuple_vs_list(tmp_path: Path) -> None:
    obj = {"": [], "t": (), "d": {}, "n": [[], ((),), {"x": {}}, ([],)], "1": (1,), "l": [1]}
    out = roundtrip(obj, tmp_path / "e.ckpt")
    assert_same(obj, out)
    assert out["t"] == () and out["n"][1] == ((),) and out["1"] == (1,)


def test_dict_order_kept(tmp_path: Path) -> None:
    obj = {k: i for i, k in enumerate(["z", "a", "m", "b"])}
    assert list(roundtrip(obj, tmp_path / "o.ckpt")) == ["z", "a", "m", "b"]


@pytest.mark.parametrize("dtype", [
    np.bool_, np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32, np.uint64,
    np.float16, np.float32, np.float64, np.complex64, np.complex128, ">i4", ">f8", "<c8",
])
def test_arrays_of_every_numeric_dtype_and_shape(tmp_path: Path, dtype: Any) -> None:
    rng = np.random.default_rng(0)
    arrays = []
    for shape in [(), (0,), (2, 0, 3), (3, 4), (2, 3, 4)]:
        raw = rng.integers(0, 256, size=int(np.prod(shape)) * np.dtype(dtype).itemsize,
                           dtype=np.uint8)
        a = (raw % 2 == 1) if np.dtype(dtype) == np.bool_ else raw.view(dtype)
        a = a.reshape(shape)
        arrays += [a, np.asfortranarray(a)] + ([a[::-1]] if a.ndim else [])
    out = roundtrip(arrays, tmp_path / "a.ckpt")
    assert_same(arrays, out)  # bitwise: random bytes hold nans, subnormals, -0.0 ...
    for a in out:
        assert a.flags.writeable


def test_numpy_scalars_load_as_numpy_scalars(tmp_path: Path) -> None:
    obj = [np.float32(1.5), np.float64("nan"), np.int64(-7), np.bool_(True), np.uint8(255),
           np.complex64(1 - 2j)]
    out = roundtrip(obj, tmp_path / "n.ckpt")
    assert_same(obj, out)
    assert all(isinstance(x, np.generic) for x in out)


def test_same_object_twice_loads_as_two_copies(tmp_path: Path) -> None:
    a = np.zeros(3)
    shared = [1, 2]
    out = roundtrip({"x": a, "y": a, "s": [shared, shared]}, tmp_path / "d.ckpt")
    out["x"][0] = 5
    assert out["y"][0] == 0 and out["s"] == [[1, 2], [1, 2]]


def test_str_and_pathlike_paths(tmp_path: Path) -> None:
    S.save({"a": 1}, str(tmp_path / "s.ckpt"))
    assert S.load(tmp_path / "s.ckpt") == {"a": 1}
    S.save([2], tmp_path / "p.ckpt")
    assert S.load(str(tmp_path / "p.ckpt")) == [2]


def test_relative_path_in_current_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                            ) -> None:
    monkeypatch.chdir(tmp_path)
    S.save({"a": 1}, "rel.ckpt")
    assert S.load("rel.ckpt") == {"a": 1}
    assert sorted(os.listdir(tmp_path)) == ["rel.ckpt"]


# ---- the things a training script checkpoints ------------------------------------------------


def test_module_state_dict_round_trip_and_load(tmp_path: Path) -> None:
    tr.manual_seed(0)
    m = tr.nn.LSTM(3, 4)
    big = tr.nn.LSTM(3, 4, num_layers=2, bidirectional=True)
    sd = m.state_dict()
    ckpt = {"model": sd, "big": big.state_dict(), "epoch": 7, "lr": 1e-3}
    out = roundtrip(ckpt, tmp_path / "m.ckpt")
    assert_same(ckpt, out)
    assert list(out["model"]) == list(sd)

    tr.manual_seed(1)
    m2 = tr.nn.LSTM(3, 4)
    assert not np.array_equal(m2.state_dict()["weight_ih_l0"], sd["weight_ih_l0"])
    m2.load_state_dict(out["model"])
    x = tr.randn(5, 2, 3)
    with tr.no_grad():
        y1, (h1, c1) = m(x)
        y2, (h2, c2) = m2(x)
    np.testing.assert_array_equal(y1.numpy(), y2.numpy())
    np.testing.assert_array_equal(c1.numpy(), c2.numpy())


def test_parameters_and_tensors_load_as_tensors(tmp_path: Path) -> None:
    m = tr.nn.Linear(2, 3)
    obj = dict(m.named_parameters())
    out = roundtrip(obj, tmp_path / "p.ckpt")
    for k, p in obj.items():
        assert type(out[k]) is tr.Tensor and out[k].requires_grad
        np.testing.assert_array_equal(out[k].numpy(), p.numpy())
    m.load_state_dict(out)  # Tensors are accepted by load_state_dict


def test_rng_state_round_trip_reproduces_draws(tmp_path: Path) -> None:
    tr.manual_seed(123)
    tr.randn(7)  # advance a little
    state = get_rng_state()
    assert any(v > 2**64 for v in state["state"].values())  # 128-bit ints
    S.save({"rng": state}, tmp_path / "rng.ckpt")
    first = tr.randn(5).numpy()
    tr.rand(3)  # wander off
    loaded = S.load(tmp_path / "rng.ckpt")["rng"]
    assert loaded == state
    set_rng_state(loaded)
    np.testing.assert_array_equal(tr.randn(5).numpy(), first)


def test_tensors_on_strict_device(tmp_path: Path) -> None:
    w = tr.tensor(np.arange(6.0).reshape(2, 3), device="strict", requires_grad=True)
    idx = tr.tensor([3, 1, 2], device="strict")
    obj = {"w": w, "idx": idx, "nested": [(w,)]}
    S.save(obj, tmp_path / "t.ckpt")
    on_strict = S.load(tmp_path / "t.ckpt", device="strict")
    assert_same(obj, on_strict, device="strict")
    assert on_strict["idx"].dtype == np.int64 and not on_strict["idx"].requires_grad
    (on_strict["w"] * 2).sum().backward()  # a usable leaf on its device
    np.testing.assert_array_equal(on_strict["w"].grad.numpy(), np.full((2, 3), 2.0))
    on_cpu = S.load(tmp_path / "t.ckpt")  # default: host
    assert_same(obj, on_cpu, device="cpu")
    assert manifest_of(tmp_path / "t.ckpt")["root"]["items"][0][1]["device"] == "strict"


def test_grad_and_graph_are_not_saved(tmp_path: Path) -> None:
    x = tr.tensor([1.0, 2.0], requires_grad=True)
    y = x * 3
    (y.sum()).backward()
    out = roundtrip({"x": x, "y": y}, tmp_path / "g.ckpt")
    assert out["x"].grad is None and out["y"].is_leaf and out["y"].requires_grad


def test_load_rejects_unknown_device_before_reading(tmp_path: Path) -> None:
    S.save([1], tmp_path / "d.ckpt")
    with pytest.raises(ValueError, match="unknown device"):
        S.load(tmp_path / "d.ckpt", device="tpu")


# ---- the format is readable by other tools ---------------------------------------------------


def test_format_is_a_zip_of_json_manifest_and_npy_members(tmp_path: Path) -> None:
    p = tmp_path / "f.ckpt"
    a = np.arange(12, dtype=np.int32).reshape(3, 4)
    S.save({"a": a, "t": tr.tensor([1.0, 2.0]), "n": 2**100, "x": 0.5}, p)
    with zipfile.ZipFile(p) as zf:
        names = zf.namelist()
        assert names[0] == "manifest.json"
        assert all(i.compress_type == zipfile.ZIP_STORED for i in zf.infolist())
        m = json.loads(zf.read("manifest.json"))
        # version 1: nothing here needs version 2, so older readers read it
        assert (m["format"], m["version"]) == (S.FORMAT_NAME, 1) == (
            "tinygrad_rnn.checkpoint", 1)
        items = dict(m["root"]["items"])
        assert items["a"] == {"type": "ndarray", "member": "arrays/0.npy", "dtype": "<i4",
                              "shape": [3, 4]}
        assert items["t"]["type"] == "tensor" and items["t"]["requires_grad"] is False
        assert int(items["n"]["value"], 16) == 2**100
        assert items["x"] == {"type": "float", "bits": "3fe0000000000000"}
        with zf.open(items["a"]["member"]) as f:
            np.testing.assert_array_equal(np.load(f, allow_pickle=False), a)
    with np.load(p, allow_pickle=False) as npz:  # it is also a valid .npz
        np.testing.assert_array_equal(npz["arrays/0"], a)
    for word in ("manifest.json", "tinygrad_rnn.checkpoint", '"bits"', '"tensor"'):
        assert word in S.__doc__


# ---- unsupported objects: TypeError naming where, nothing written ----------------------------


@pytest.mark.parametrize("obj, where, what", [
    ({"a": [1, {"b": {1, range(2)}}]}, "obj['a'][1]['b']", "range"),  # in a set
    ({"model": object()}, "obj['model']", "object"),
    ([1, (2, bytearray(b"x"))], "obj[1][1]", "bytearray"),
    ({"z": slice(1)}, "obj['z']", "slice"),
    ({"m": tr.nn.Linear(2, 2)}, "obj['m']", "Linear"),
    ({"o": defaultdict(int)}, "obj['o']", "subclass"),
    ({"s": np.array(["x", "y"])}, "obj['s']", "dtype <U1"),
    ({"o": np.array([None], dtype=object)}, "obj['o']", "dtype object"),
    ({"d": np.array(["2020-01-01"], dtype="datetime64[D]")}, "obj['d']", "datetime64"),
    ({"r": np.zeros(2, dtype=[("a", "<f4")])}, "obj['r']", "dtype"),
    ({"m": np.ma.masked_array([1, 2])}, "obj['m']", "MaskedArray"),
    ({"g": np.str_("x")}, "obj['g']", "NumPy scalar"),
    ({"k": {"inner": {frozenset([3]): "x"}}}, "obj['k']['inner']", "dict keys must be str, int"),
])
def test_unsupported_objects_raise_type_error_before_writing(
        tmp_path: Path, obj: Any, where: str, what: str) -> None:
    p = tmp_path / "c.ckpt"
    S.save({"old": 1}, p)
    old = p.read_bytes()
    with pytest.raises(TypeError) as e:
        S.save(obj, p)
    assert where in str(e.value) and what in str(e.value)
    assert p.read_bytes() == old
    assert os.listdir(tmp_path) == ["c.ckpt"]


def test_circular_reference_is_an_error(tmp_path: Path) -> None:
    a: list[Any] = [1]
    a.append({"self": a})
    with pytest.raises(ValueError, match=r"circular reference at obj\[1\]\['self'\]"):
        S.save(a, tmp_path / "c.ckpt")
    assert os.listdir(tmp_path) == []


def test_missing_parent_directory(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="does not exist"):
        S.save([1], tmp_path / "nope" / "c.ckpt")
    (tmp_path / "file").write_text("x")
    with pytest.raises(NotADirectoryError, match="not a directory"):
        S.save([1], tmp_path / "file" / "c.ckpt")
    with pytest.raises(IsADirectoryError, match="is a directory"):
        S.save([1], tmp_path)
    for no_file in ("", f"{tmp_path}{os.sep}"):  # refused before any temporary file is made
        with pytest.raises(ValueError, match="names no file"):
            S.save([1], no_file)
    assert sorted(q.name for q in tmp_path.iterdir()) == ["file"]


def test_a_file_written_over_keeps_its_permissions(tmp_path: Path) -> None:
    path = tmp_path / "private.trn"
    S.save([1], path)
    path.chmod(0o600)
    S.save([2], path)
    assert S.load(path) == [2] and path.stat().st_mode & 0o777 == 0o600


# ---- atomic writes ---------------------------------------------------------------------------


@pytest.mark.parametrize("exc", [OSError("disk full (simulated)"), KeyboardInterrupt()])
def test_failure_mid_write_leaves_old_file_and_no_temp(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, exc: BaseException) -> None:
    p = tmp_path / "ck.tr"
    S.save({"v": 1}, p)
    old = p.read_bytes()
    written: list[str] = []
    real = S._write_array

    def fail_on_second(zf: zipfile.ZipFile, name: str, value: Any) -> None:
        if written:
            tmp = [n for n in os.listdir(tmp_path) if n.endswith(".tmp")]
            assert len(tmp) == 1 and tmp[0].startswith(".ck.tr.")  # writing to a sibling
            raise exc
        written.append(name)
        real(zf, name, value)

    monkeypatch.setattr(S, "_write_array", fail_on_second)
    with pytest.raises(type(exc)):
        S.save({"a": np.zeros(10_000), "b": np.ones(3)}, p)
    assert written == ["arrays/0.npy"]
    assert p.read_bytes() == old
    assert os.listdir(tmp_path) == ["ck.tr"]
    assert S.load(p) == {"v": 1}


def test_failed_rename_leaves_old_file_and_no_temp(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    p = tmp_path / "ck.tr"
    S.save([1], p)

    def bad_replace(src: str, dst: str) -> None:
        raise OSError("rename failed (simulated)")

    monkeypatch.setattr(S.os, "replace", bad_replace)
    with pytest.raises(OSError, match="simulated"):
        S.save([2], p)
    monkeypatch.undo()
    assert S.load(p) == [1]
    assert os.listdir(tmp_path) == ["ck.tr"]


def test_fsync_before_replace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    events: list[str] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd: int) -> None:
        events.append("fsync")
        real_fsync(fd)

    def replace(src: str, dst: str) -> None:
        assert os.path.dirname(src) == os.path.dirname(dst)
        events.append("replace")
        real_replace(src, dst)

    monkeypatch.setattr(S.os, "fsync", fsync)
    monkeypatch.setattr(S.os, "replace", replace)
    S.save({"a": np.ones(2)}, tmp_path / "x.ckpt")
    assert events[:2] == ["fsync", "replace"]


def test_hard_crash_mid_write_leaves_old_file(tmp_path: Path) -> None:
    """A process killed while writing (no cleanup runs) still leaves the old file intact."""
    p = tmp_path / "ck.tr"
    S.save({"epoch": 1}, p)
    old = p.read_bytes()
    script = (
        "import os, sys, numpy as np\n"
        "from tinygrad_rnn import serialization as S\n"
        "real = S._write_array\n"
        "def crash(zf, name, value):\n"
        "    real(zf, name, value)\n"
        "    os._exit(17)\n"
        "S._write_array = crash\n"
        "S.save({'epoch': 2, 'w': np.zeros(1000)}, sys.argv[1])\n"
    )
    root = str(Path(__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": root + os.pathsep + os.environ.get("PYTHONPATH", "")}
    r = subprocess.run([sys.executable, "-c", script, str(p)], env=env, timeout=60)
    assert r.returncode == 17
    assert p.read_bytes() == old
    assert S.load(p) == {"epoch": 1}


# ---- load: clear errors for anything that is not an intact checkpoint -------------------------


def test_load_missing_file(tmp_path: Path) -> None:
    p = tmp_path / "missing.ckpt"
    with pytest.raises(FileNotFoundError, match="no such file") as e:
        S.load(p)
    assert str(p) in str(e.value)


def _write_text(p: Path) -> None:
    p.write_text("epoch,loss\n1,0.5\n")


def _write_empty(p: Path) -> None:
    p.write_bytes(b"")


def _write_pickle(p: Path) -> None:
    p.write_bytes(pickle.dumps({"a": _Evil()}))


def _write_npy(p: Path) -> None:
    p.write_bytes(npy_bytes(np.ones(3)))


def _write_npz(p: Path) -> None:
    with open(p, "wb") as f:
        np.savez(f, a=np.ones(3))


def _write_other_zip(p: Path) -> None:
    with zipfile.ZipFile(p, "w") as zf:
        zf.writestr("manifest.json", json.dumps({"format": "something.else", "version": 1}))


def _write_bad_json(p: Path) -> None:
    with zipfile.ZipFile(p, "w") as zf:
        zf.writestr("manifest.json", b"{not json")


def _write_future_version(p: Path) -> None:
    S.save([1], p)
    rewrite(p, {**manifest_of(p), "version": S.FORMAT_VERSION + 1})


@pytest.mark.parametrize("make, message", [
    (_write_text, "not a ZIP archive"),
    (_write_empty, "empty"),
    (_write_pickle, "pickle"),
    (_write_npy, ".npy"),
    (_write_npz, "no manifest.json"),
    (_write_other_zip, "format 'something.else'"),
    (_write_bad_json, "not valid JSON"),
    (_write_future_version, "unsupported checkpoint format version 3"),
])
def test_load_other_files_raise_value_error(tmp_path: Path, make: Any, message: str) -> None:
    p = tmp_path / "f.ckpt"
    make(p)
    with pytest.raises(ValueError) as e:
        S.load(p)
    assert str(p) in str(e.value) and message in str(e.value), str(e.value)
    assert e.value.__cause__ is None and e.value.__suppress_context__
    assert RAN == []


def test_load_directory(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="is a directory"):
        S.load(tmp_path)


def _tamper_cases() -> list[tuple[str, Any, str]]:
    def set_item(key: str, **kw: Any) -> Any:
        def f(m: Any) -> dict[str, Any]:
            for pair in m["root"]["items"]:
                if pair[0] == key:
                    pair[1].update(kw)
            return {}
        return f

    evil = npy_bytes(np.array([_Evil()], dtype=object), allow_pickle=True)
    return [
        ("dtype mismatch", set_item("a", dtype="<f8"), "manifest says"),
        ("shape mismatch", set_item("a", shape=[4, 1]), "manifest says"),
        ("huge shape", set_item("a", shape=[10**12, 10**6]), "manifest says"),
        ("missing member", set_item("a", member="arrays/9.npy"), "missing"),
        ("repeated member", set_item("b", member="arrays/0.npy"), "repeated"),
        ("object dtype", set_item("a", dtype="|O"), "unsupported dtype"),
        ("bad node", set_item("i", type="lambda"), "unknown node type 'lambda'"),
        ("bad int", set_item("i", value="12; import os"), "bad int"),
        ("bad float", set_item("f", bits="zz"), "bad float"),
        ("pickled member", lambda m: {"arrays/0.npy": evil}, "manifest says"),
        ("pickled member as object", lambda m: (set_item("a", dtype="|O", shape=[1])(m),
                                                {"arrays/0.npy": evil})[1], "unsupported"),
        ("no root", lambda m: m.pop("root") and {}, "no root"),
    ]


@pytest.mark.parametrize("name, tamper, message", _tamper_cases(), ids=lambda v: str(v)[:20])
def test_load_tampered_manifest_or_members(tmp_path: Path, name: str, tamper: Any,
                                           message: str) -> None:
    p = tmp_path / "t.ckpt"
    S.save({"a": np.ones((2, 2), dtype=np.float32), "b": np.zeros(1), "i": 3, "f": 1.0}, p)
    m = manifest_of(p)
    members = tamper(m)
    rewrite(p, m, members)
    with pytest.raises(ValueError) as e:
        S.load(p)
    assert str(p) in str(e.value) and message in str(e.value), str(e.value)
    assert RAN == []


@pytest.fixture(scope="module")
def small_ckpt(ckpt_dir: Path) -> tuple[Any, bytes]:
    obj = {"w": np.arange(6, dtype=np.float32).reshape(2, 3), "step": 3, "t": tr.tensor([1, 2])}
    p = ckpt_dir / "small.ckpt"
    S.save(obj, p)
    return obj, p.read_bytes()


def test_every_truncation_is_a_clear_error(tmp_path: Path, small_ckpt: tuple[Any, bytes]
                                           ) -> None:
    _, data = small_ckpt
    p = tmp_path / "cut.ckpt"
    for n in range(len(data)):
        p.write_bytes(data[:n])
        with pytest.raises(ValueError, match="t.ckpt"):
            S.load(p)


def test_every_flipped_byte_is_an_error_or_harmless(tmp_path: Path,
                                                    small_ckpt: tuple[Any, bytes]) -> None:
    """A corrupted byte never gives a raw traceback nor silently different data."""
    obj, data = small_ckpt
    p = tmp_path / "flip.ckpt"
    errors = 0
    for i in range(len(data)):
        p.write_bytes(data[:i] + bytes([data[i] ^ 0xFF]) + data[i + 1:])
        try:
            out = S.load(p)
        except ValueError as e:
            assert str(p) in str(e)
            errors += 1
        else:
            assert_same(obj, out)
    assert errors > len(data) // 2


def test_saving_over_a_symlink_writes_where_it_points(tmp_path: Path) -> None:
    """As torch.save: the link stays a link, and its target gets the checkpoint."""
    target = tmp_path / "real.trn"
    tr.save({"a": 1}, target)
    link = tmp_path / "latest.trn"
    link.symlink_to(target)
    tr.save({"a": 2}, link)
    assert link.is_symlink() and tr.load(target)["a"] == 2 and tr.load(link)["a"] == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["latest.trn", "real.trn"]


# ---- copy.deepcopy and pickle (for code that copies a model: early stopping, EMA) -----------


@pytest.mark.parametrize("device", ["cpu", "strict"])
def test_deepcopy_of_a_module_copies_parameters_gradients_and_ties(device: str) -> None:
    import copy

    from tinygrad_rnn.testing import strict

    strict.register()
    lstm = tr.nn.LSTM(2, 3, device=device)
    lstm(tr.randn(4, 1, 2, device=device))[0].sum().backward()
    lstm.tied = lstm.weight_hh_l0  # one parameter under two names
    twin = copy.deepcopy(lstm)
    for (name, p), q in zip(lstm.named_parameters(), twin.parameters()):
        assert type(q) is type(p) and q is not p and q.device == device, name
        np.testing.assert_array_equal(q.numpy(), p.numpy())
        np.testing.assert_array_equal(q.grad.numpy(), p.grad.numpy())
    assert twin.tied is twin.weight_hh_l0
    twin.weight_hh_l0.data += 1  # the copy owns its arrays
    assert not np.array_equal(twin.weight_hh_l0.numpy(), lstm.weight_hh_l0.numpy())
    y = tr.ones(2, requires_grad=True) * 2
    with pytest.raises(RuntimeError, match="leaf tensors only"):  # as torch
        copy.deepcopy(y)


def test_pickle_keeps_values_device_class_and_requires_grad_not_grad() -> None:
    lstm = tr.nn.GRU(2, 3)
    lstm(tr.randn(4, 1, 2))[0].sum().backward()
    back = pickle.loads(pickle.dumps(lstm))
    for p, q in zip(lstm.parameters(), back.parameters()):
        assert type(q) is type(p) and q.requires_grad and q.grad is None  # as torch
        np.testing.assert_array_equal(q.numpy(), p.numpy())
    x = tr.tensor([1.0, 2.0], requires_grad=True) * 3  # a result: its values, as torch
    y = pickle.loads(pickle.dumps(x))
    assert y.is_leaf and y.requires_grad and y.device == "cpu" and y.tolist() == [3.0, 6.0]


@pytest.mark.parametrize("fmt", ["tinygrad_rnn.checkpoint", "torch"])
def test_save_and_load_through_file_objects(fmt, tmp_path):
    obj = {"w": tr.arange(6, dtype="float64").reshape(2, 3), "step": 7}
    buf = io.BytesIO()
    tr.save(obj, buf, format=fmt)
    buf.seek(0)
    back = tr.load(buf)
    np.testing.assert_array_equal(back["w"].numpy(), obj["w"].numpy())
    assert back["step"] == 7
    with open(tmp_path / "f.pt", "wb") as f:  # an open file, as torch.save takes one
        tr.save(obj, f, format=fmt)
    with open(tmp_path / "f.pt", "rb") as f:
        assert tr.load(f)["step"] == 7
    with pytest.raises(ValueError, match="not a ZIP archive"):
        tr.load(io.BytesIO(b"not a checkpoint"))

@pytest.mark.torch
def test_a_buffer_gets_pytorchs_format_where_the_object_fits_it(tmp_path):
    """``tr.save(obj, io.BytesIO())`` without ``format``: what ``torch.load`` of the buffer
    reads, as ``torch.save`` wrote it, when obj fits PyTorch's format; else ours. An open file
    goes by its name, as a path."""
    torch = pytest.importorskip("torch")
    sd = {"w": tr.arange(6, dtype="float64").reshape(2, 3), "step": 7}
    buf = io.BytesIO()
    tr.save(sd, buf)
    buf.seek(0)
    back = torch.load(buf)
    assert back["step"] == 7 and back["w"].tolist() == sd["w"].tolist()
    buf.seek(0)
    assert tr.load(buf)["w"].tolist() == sd["w"].tolist()
    odd = io.BytesIO()
    tr.save({"ids": {1, 2}}, odd)  # a set: only ours keeps it
    odd.seek(0)
    assert tr.load(odd) == {"ids": {1, 2}}
    with open(tmp_path / "f.trn", "wb") as f:
        tr.save(sd, f)
    with zipfile.ZipFile(tmp_path / "f.trn") as zf:
        assert "manifest.json" in zf.namelist()


@pytest.mark.torch
def test_load_takes_torchs_map_location_forms():
    torch = pytest.importorskip("torch")
    buf = io.BytesIO()
    torch.save({"x": torch.arange(3.0)}, buf)
    for where in ("cpu", torch.device("cpu"), {"cuda:0": "cpu"}, lambda storage, loc: storage,
                  lambda storage, loc: storage.cpu()):
        buf.seek(0)
        x = tr.load(buf, map_location=where)["x"]
        assert x.device == "cpu" and x.tolist() == [0.0, 1.0, 2.0]
    buf.seek(0)
    with pytest.raises(TypeError, match="must return the storage it is given"):
        tr.load(buf, map_location=lambda storage, loc: None)
    with pytest.raises(ValueError, match="several kinds of device"):
        tr.load(buf, map_location={"cuda:0": "cpu", "cpu": "cuda:0"})
    with pytest.raises(TypeError, match="map_location must be"):
        tr.load(buf, map_location=3)


def test_version_2_keeps_int_keys_ordered_dicts_sets_bytes_and_namespaces(tmp_path: Path) -> None:
    """What training scripts checkpoint besides arrays: a vocabulary keyed by ints, a state
    dict with its prefix stripped into an OrderedDict, the script's argparse arguments."""
    import argparse

    obj = {"itos": {0: "<pad>", 1: "a", -5: "b"}, "pairs": {(1, "x"): 2.5, None: True, 1.5: 0},
           "sd": OrderedDict([("w", tr.ones(2)), ("b", np.zeros(1))]),
           "args": argparse.Namespace(lr=0.1, layers=2, name="lstm"),
           "seen": {3, 1, 2}, "frozen": frozenset({"a"}), "raw": b"\x00\xff"}
    out = roundtrip(obj, tmp_path / "v2.ckpt")
    assert out["itos"] == obj["itos"] and list(out["itos"]) == [0, 1, -5]
    assert out["pairs"] == obj["pairs"] and type(out["sd"]) is OrderedDict
    assert list(out["sd"]) == ["w", "b"] and out["sd"]["w"].tolist() == [1.0, 1.0]
    assert out["args"] == obj["args"] and out["seen"] == {1, 2, 3}
    assert out["frozen"] == frozenset({"a"}) and out["raw"] == b"\x00\xff"
    assert manifest_of(tmp_path / "v2.ckpt")["version"] == 2
    S.save(obj, tmp_path / "again.ckpt")  # equal objects, identical files
    assert (tmp_path / "again.ckpt").read_bytes() == (tmp_path / "v2.ckpt").read_bytes()


def test_save_and_load_take_torchs_keyword_names_and_options(tmp_path: Path) -> None:
    p = tmp_path / "k.pt"
    tr.save({"a": 1}, f=p, pickle_protocol=2)
    assert tr.load(f=p, mmap=True, weights_only=True) == {"a": 1}
    with pytest.raises(TypeError, match="unexpected keyword argument 'compress'"):
        tr.save({"a": 1}, p, compress=True)


def test_complex_numbers_sizes_counters_and_dtypes_load_back_as_they_were(tmp_path):
    """What a PyTorch checkpoint may hold (found by tests/test_differential_serialization.py:
    they were refused by this format), saved as version 2 nodes of their own."""
    import collections

    obj = {"c": complex(float("nan"), -0.0), "s": tr.Size([2, 3]), "d": tr.float16,
           "n": collections.Counter(a=2, b=1)}
    tr.save(obj, tmp_path / "x.trn")
    back = tr.load(tmp_path / "x.trn")
    assert [type(v) for v in back.values()] == [type(v) for v in obj.values()]
    assert repr(back["c"]) == "(nan-0j)" and back["s"] == (2, 3)
    assert back["d"] == np.float16 and back["n"] == obj["n"]
