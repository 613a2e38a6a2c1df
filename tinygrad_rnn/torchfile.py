"""PyTorch's checkpoint files (``torch.save``'s ZIP format), read and written without PyTorch,
so weights move between the two frameworks as files: ``tr.load("model.pt")`` reads what
``torch.save(model.state_dict(), "model.pt")`` wrote, and ``tr.save(sd, "model.pt",
format="torch")`` writes what ``torch.load`` reads (its default ``weights_only=True`` too).

The format, as PyTorch writes it (version 3): a ZIP archive, members stored, all under one
folder (``<name>/``):

- ``<name>/data.pkl``: the object, pickled (protocol 2). A tensor is pickled as a call of
  ``torch._utils._rebuild_tensor_v2(storage, offset, size, stride, requires_grad,
  OrderedDict())`` (a parameter wraps that in ``_rebuild_parameter``), where ``storage`` is a
  *persistent id*: the tuple ``("storage", torch.<Kind>Storage, key, location, numel)``.
- ``<name>/data/<key>``: that storage's elements, raw, in the byte order of
  ``<name>/byteorder`` (``little`` when absent).
- ``<name>/version`` and other small members.

Reading never runs code from the file: the unpickler builds only what ``torch.load(...,
weights_only=True)`` builds of a checkpoint of weights (dicts, ``OrderedDict``, lists,
tuples, numbers, strings, None, tensors), refuses any other global by name, and reads each
storage through bounds checks. Tensors come back as ``Tensor`` (a parameter as one that
requires grad), each with its own array: two tensors that shared a storage in PyTorch no
longer share it. bfloat16 tensors load as float32 (NumPy has no bfloat16), exactly.
"""

from __future__ import annotations

import collections
import io
import pickle
import struct
import zipfile
from typing import Any

import numpy as np

from .tensor import Tensor, tensor

# PyTorch's storage kinds and their dtypes (bfloat16: read as its bits, see _rebuild)
_STORAGES = {
    "FloatStorage": np.float32, "DoubleStorage": np.float64, "HalfStorage": np.float16,
    "BFloat16Storage": "bfloat16", "LongStorage": np.int64, "IntStorage": np.int32,
    "ShortStorage": np.int16, "CharStorage": np.int8, "ByteStorage": np.uint8,
    "BoolStorage": np.bool_, "ComplexFloatStorage": np.complex64,
    "ComplexDoubleStorage": np.complex128,
}
_KIND_OF = {np.dtype(t): k for k, t in _STORAGES.items() if t != "bfloat16"}


class TorchFileError(ValueError):
    """A PyTorch file this reader cannot read; ``serialization.load`` names the file."""


# ---- reading --------------------------------------------------------------------------------


class _StorageKind:
    def __init__(self, name: str) -> None:
        self.name = name


class _Storage:
    """One storage of the file: its elements as a 1-D array (bfloat16: the uint16 bits)."""

    def __init__(self, array: np.ndarray, bfloat16: bool) -> None:
        self.array, self.bfloat16 = array, bfloat16


def _rebuild_tensor(storage: Any, offset: Any, size: Any, stride: Any,
                    requires_grad: Any = False, hooks: Any = None, metadata: Any = None
                    ) -> _Loaded:
    """``_rebuild_tensor_v2``'s arguments to a host array of the tensor's own (a copy), and
    whether it requires grad; the bounds checked against the storage."""
    if not isinstance(storage, _Storage):
        raise TorchFileError("a tensor without a storage")
    size, stride = tuple(size), tuple(stride)
    if not (type(offset) is int and offset >= 0 and len(size) == len(stride)
            and all(type(n) is int and n >= 0 for n in size + stride)):
        raise TorchFileError(f"a tensor of bad layout (offset {offset!r}, size {size}, "
                             f"stride {stride})")
    a = storage.array
    if all(size):
        if offset + sum((n - 1) * s for n, s in zip(size, stride)) >= len(a):
            raise TorchFileError(f"a tensor of size {size} at offset {offset} runs past its "
                                 f"storage of {len(a)} elements")
        out = np.lib.stride_tricks.as_strided(a[offset:], size,
                                              tuple(s * a.itemsize for s in stride)).copy()
    else:
        out = np.zeros(size, a.dtype)
    if storage.bfloat16:  # the upper half of a float32's bits: exact as float32
        out = (out.astype(np.uint32) << 16).view(np.float32)
    return _Loaded(out, bool(requires_grad))


class _Loaded:
    """A tensor read from the file, made a ``Tensor`` on the device once the whole object is
    read (``_finish``)."""

    def __init__(self, array: np.ndarray, requires_grad: bool) -> None:
        self.array, self.requires_grad = array, requires_grad


def _rebuild_parameter(data: Any, requires_grad: Any, hooks: Any = None,
                       state: Any = None) -> _Loaded:
    if not isinstance(data, _Loaded):
        raise TorchFileError("a parameter without a tensor")
    return _Loaded(data.array, bool(requires_grad))


_GLOBALS: dict[tuple[str, str], Any] = {
    ("collections", "OrderedDict"): collections.OrderedDict,
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor,
    ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
    ("torch._utils", "_rebuild_parameter_with_state"): _rebuild_parameter,
    ("torch", "Size"): tuple,
}


class _Unpickler(pickle.Unpickler):
    def __init__(self, data: bytes, zf: zipfile.ZipFile, prefix: str, byteorder: str) -> None:
        super().__init__(io.BytesIO(data))
        self.zf, self.prefix, self.byteorder = zf, prefix, byteorder
        self.storages: dict[str, _Storage] = {}

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in _GLOBALS:
            return _GLOBALS[(module, name)]
        if module == "torch" and name in _STORAGES:
            return _StorageKind(name)
        raise TorchFileError(
            f"it holds {module}.{name}, which this reader does not build: it reads what "
            "torch.load(weights_only=True) reads of a checkpoint of weights (dicts, lists, "
            "tuples, numbers, strings, tensors); save a state_dict() rather than a model")

    def persistent_load(self, pid: Any) -> _Storage:
        if not (type(pid) is tuple and len(pid) == 5 and pid[0] == "storage"
                and isinstance(pid[1], _StorageKind) and type(pid[2]) is str
                and type(pid[4]) is int and pid[4] >= 0):
            raise TorchFileError(f"a bad storage reference {pid!r}")
        kind, key, numel = pid[1].name, pid[2], pid[4]
        if key not in self.storages:
            dtype = _STORAGES[kind]
            bf16 = dtype == "bfloat16"
            dt = np.dtype(np.uint16 if bf16 else dtype)
            dt = dt.newbyteorder("<" if self.byteorder == "little" else ">")
            try:
                raw = self.zf.read(f"{self.prefix}/data/{key}")
            except KeyError:
                raise TorchFileError(f"storage {key!r} is missing") from None
            if len(raw) < numel * dt.itemsize:
                raise TorchFileError(f"storage {key!r} has {len(raw)} bytes, expected "
                                     f"{numel * dt.itemsize}")
            a = np.frombuffer(raw, dt, count=numel).astype(dt.newbyteorder("="))
            self.storages[key] = _Storage(a, bf16)
        return self.storages[key]


def torch_prefix(zf: zipfile.ZipFile) -> str | None:
    """The folder of a PyTorch checkpoint's members (``"archive"``), or None if ``zf`` is
    not one."""
    pkl = [n for n in zf.namelist() if n.endswith("/data.pkl") and n.count("/") == 1]
    return pkl[0][: -len("/data.pkl")] if len(pkl) == 1 else None


def load_torch(zf: zipfile.ZipFile, prefix: str, device: str) -> Any:
    """The object of the PyTorch checkpoint in ``zf`` (see the module docstring), its
    tensors made on ``device``."""
    names = set(zf.namelist())
    byteorder = "little"
    if f"{prefix}/byteorder" in names:
        byteorder = zf.read(f"{prefix}/byteorder").decode("ascii", "replace").strip()
        if byteorder not in ("little", "big"):
            raise TorchFileError(f"unknown byte order {byteorder!r}")
    try:
        obj = _Unpickler(zf.read(f"{prefix}/data.pkl"), zf, prefix, byteorder).load()
    except TorchFileError:
        raise
    except (pickle.UnpicklingError, EOFError, TypeError, ValueError, AttributeError,
            IndexError, KeyError) as e:
        raise TorchFileError(f"its data.pkl is corrupted ({type(e).__name__}: {e})") from None
    return _finish(obj, device)


def _finish(obj: Any, device: str) -> Any:
    """``obj`` with every tensor read made a ``Tensor`` on ``device`` (containers rebuilt, of
    the same types; a loop, which no checkpoint of weights has, is refused)."""
    stack: set[int] = set()

    def walk(x: Any) -> Any:
        if isinstance(x, _Loaded):
            return tensor(x.array, device=device,
                          requires_grad=x.requires_grad and x.array.dtype.kind in "fc")
        if isinstance(x, _Storage):
            raise TorchFileError("a bare storage (not a tensor) is not read here")
        if type(x) in (dict, collections.OrderedDict, list, tuple):
            if id(x) in stack:
                raise TorchFileError("a container that holds itself")
            stack.add(id(x))
            try:
                if type(x) is list:
                    return [walk(v) for v in x]
                if type(x) is tuple:
                    return tuple(walk(v) for v in x)
                out = type(x)((k, walk(v)) for k, v in x.items())
                meta = getattr(x, "_metadata", None)  # a state_dict's: kept, as torch keeps it
                if meta is not None:
                    out._metadata = meta  # type: ignore[attr-defined]
                return out
            finally:
                stack.discard(id(x))
        if x is None or type(x) in (bool, int, float, str, complex, bytes):
            return x
        raise TorchFileError(f"it holds a {type(x).__name__}, which this reader does not build")

    return walk(obj)


# ---- writing --------------------------------------------------------------------------------


class _Pickler:
    """Writes protocol-2 pickle opcodes for the few kinds of object a checkpoint of weights
    holds, a tensor as PyTorch pickles one, so that ``torch.load(weights_only=True)`` reads
    it. (Python's own pickler would look the ``torch`` functions up, and needs PyTorch.)"""

    def __init__(self) -> None:
        self.out = io.BytesIO()
        self.storages: list[tuple[str, np.ndarray]] = []  # (key, C-order host array)
        self._open: set[int] = set()

    def _w(self, b: bytes) -> None:
        self.out.write(b)

    def _global(self, module: str, name: str) -> None:
        self._w(pickle.GLOBAL + f"{module}\n{name}\n".encode("ascii"))

    def _str(self, s: str) -> None:
        b = s.encode("utf-8", "surrogatepass")  # as pickle writes a str
        self._w(pickle.BINUNICODE + struct.pack("<I", len(b)) + b)

    def _int(self, n: int) -> None:
        if 0 <= n < 256:
            self._w(pickle.BININT1 + bytes([n]))
        elif 0 <= n < 65536:
            self._w(pickle.BININT2 + struct.pack("<H", n))
        elif -(2 ** 31) <= n < 2 ** 31:
            self._w(pickle.BININT + struct.pack("<i", n))
        else:
            b = n.to_bytes((n.bit_length() + 8) // 8, "little", signed=True)
            self._w(pickle.LONG1 + bytes([len(b)]) + b)

    def dump(self, obj: Any, where: str) -> bytes:
        self._w(pickle.PROTO + b"\x02")
        self._save(obj, where)
        self._w(pickle.STOP)
        return self.out.getvalue()

    def _save(self, x: Any, where: str) -> None:
        t = type(x)
        if x is None:
            self._w(pickle.NONE)
        elif t is bool:
            self._w(pickle.NEWTRUE if x else pickle.NEWFALSE)
        elif t is int:
            self._int(x)
        elif t is float:
            self._w(pickle.BINFLOAT + struct.pack(">d", x))
        elif t is str:
            self._str(x)
        elif isinstance(x, (Tensor, np.ndarray)):
            self._tensor(x, where)
        elif t in (dict, collections.OrderedDict, list, tuple):
            if id(x) in self._open:
                raise ValueError(f"save: circular reference at obj{where}")
            self._open.add(id(x))
            try:
                self._container(x, where)
            finally:
                self._open.discard(id(x))
        else:
            raise TypeError(
                f"save(format='torch'): cannot save an object of type {type(x).__name__} at "
                f"obj{where}; supported: dict, OrderedDict, list, tuple, None, bool, int, "
                "float, str, Tensor and NumPy arrays")

    def _container(self, x: Any, where: str) -> None:
        if type(x) is tuple:
            self._w(pickle.MARK)
            for i, v in enumerate(x):
                self._save(v, f"{where}[{i}]")
            self._w(pickle.TUPLE)
            return
        if type(x) is list:
            self._w(pickle.EMPTY_LIST + pickle.MARK)
            for i, v in enumerate(x):
                self._save(v, f"{where}[{i}]")
            self._w(pickle.APPENDS)
            return
        if type(x) is dict:
            self._w(pickle.EMPTY_DICT)
        else:
            self._global("collections", "OrderedDict")
            self._w(pickle.EMPTY_TUPLE + pickle.REDUCE)
        self._w(pickle.MARK)
        for k, v in x.items():
            if type(k) not in (str, int):
                raise TypeError(f"save(format='torch'): dict keys must be str or int, got "
                                f"{type(k).__name__} in obj{where}")
            self._save(k, "")
            self._save(v, f"{where}[{k!r}]")
        self._w(pickle.SETITEMS)

    def _tensor(self, x: Tensor | np.ndarray, where: str) -> None:
        host = np.asarray(x.numpy() if isinstance(x, Tensor) else x)
        if not host.flags.c_contiguous:
            host = host.copy(order="C")
        kind = _KIND_OF.get(host.dtype.newbyteorder("="))
        if kind is None:
            raise TypeError(f"save(format='torch'): PyTorch has no storage of dtype "
                            f"{host.dtype} (at obj{where})")
        host = host.astype(host.dtype.newbyteorder("<"), copy=False)
        key = str(len(self.storages))
        self.storages.append((key, host))
        strides, step = [], 1
        for n in reversed(host.shape):
            strides.append(step)
            step *= n
        self._global("torch._utils", "_rebuild_tensor_v2")
        self._w(pickle.MARK + pickle.MARK)
        self._str("storage")
        self._global("torch", kind)
        self._str(key)
        self._str("cpu")
        self._int(host.size)
        self._w(pickle.TUPLE + pickle.BINPERSID)
        self._int(0)
        self._save(tuple(host.shape), "")
        self._save(tuple(reversed(strides)), "")
        self._save(bool(isinstance(x, Tensor) and x.requires_grad), "")
        self._global("collections", "OrderedDict")
        self._w(pickle.EMPTY_TUPLE + pickle.REDUCE + pickle.TUPLE + pickle.REDUCE)


def encode_torch(obj: Any) -> tuple[bytes, list[tuple[str, np.ndarray]]]:
    """``obj`` pickled as PyTorch pickles it, and the storages to write with it (key, host
    array). Every object is checked here, before anything is written: an unsupported one
    raises TypeError naming where it is."""
    p = _Pickler()
    try:
        return p.dump(obj, ""), p.storages
    except RecursionError:
        raise ValueError("save: the object is nested too deeply to save") from None


def write_torch(zf: zipfile.ZipFile, prefix: str, data: bytes,
                storages: list[tuple[str, np.ndarray]], zipinfo: Any) -> None:
    """Write ``encode_torch``'s result into ``zf`` as a PyTorch checkpoint under the folder
    ``prefix`` (``zipinfo(name)``: a member's ZipInfo)."""
    zf.writestr(zipinfo(f"{prefix}/data.pkl"), data)
    zf.writestr(zipinfo(f"{prefix}/byteorder"), b"little")
    for key, host in storages:
        zf.writestr(zipinfo(f"{prefix}/data/{key}"), host.tobytes())
    zf.writestr(zipinfo(f"{prefix}/version"), b"3\n")
