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
  A sparse COO tensor is ``torch._utils._rebuild_sparse_tensor(layout, (indices, values,
  torch.Size(size), is_coalesced))``, the layout ``torch.serialization._get_layout(
  "torch.sparse_coo")``.
- ``<name>/data/<key>``: that storage's elements, raw, in the byte order of
  ``<name>/byteorder`` (``little`` when absent).
- ``<name>/version`` and other small members.

Reading never runs code from the file: the unpickler builds only what ``torch.load(...,
weights_only=True)`` builds of a checkpoint of weights (dicts, ``OrderedDict``, ``Counter``,
lists, tuples, sets, numbers (complex too), strings, bytes, None, ``torch.Size``,
``torch.device``, dtypes, tensors, sparse COO tensors), refuses any other global by name,
and reads each storage through bounds checks, its size checked before it is read.
Tensors come back as ``Tensor`` (a parameter as a ``Parameter``) with their strides, their
arrays read-only views of their storage's (an expanded tensor takes no more memory than in
PyTorch). Tensors read from one storage are views (kind "as_strided") of one tensor of the
whole storage, so a write into one reaches the others, as in PyTorch (not parameters and
tensors that require grad, which are leaves of their own). Writing, a tensor and its views
are written as one storage, each with its offset and strides, as ``torch.save`` writes them.
bfloat16 tensors load as float32 (NumPy has no bfloat16), exactly; PyTorch's lazy conjugate
and negative bits are applied; dtypes NumPy lacks (float8) are refused by name.
"""

from __future__ import annotations

import collections
import io
import pickle
import struct
import zipfile
from typing import Any, NamedTuple

import numpy as np

from .backend import device as device_type
from .tensor import DTypeError, Size, Tensor, tensor

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

# torch.<dtype> globals (what _rebuild_tensor_v3 names), for the dtypes NumPy has
_DTYPES = {"float32": np.float32, "float64": np.float64, "float16": np.float16,
           "int64": np.int64, "int32": np.int32, "int16": np.int16, "int8": np.int8,
           "uint8": np.uint8, "uint16": np.uint16, "uint32": np.uint32, "uint64": np.uint64,
           "bool": np.bool_, "complex64": np.complex64, "complex128": np.complex128,
           "bfloat16": "bfloat16"}


class _StorageKind:
    def __init__(self, name: str) -> None:
        self.name = name


class _DType:
    def __init__(self, name: str) -> None:
        self.name = name


class _Storage:
    """One storage of the file: its elements as a 1-D array (bfloat16 already as float32;
    an untyped storage as bytes, viewed as its tensor's dtype when rebuilt)."""

    def __init__(self, array: np.ndarray, untyped: bool) -> None:
        self.array, self.untyped = array, untyped
        self.users = 0  # how many tensors are read from it


class _Loaded:
    """A tensor read from the file, made a ``Tensor`` on the device once the whole object is
    read (``_finish``)."""

    def __init__(self, array: np.ndarray, requires_grad: bool, param: bool = False,
                 storage: _Storage | None = None, layout: tuple = ()) -> None:
        self.array, self.requires_grad, self.param = array, requires_grad, param
        # where it lies in its storage (offset, size, stride), where it shows its elements
        # as they are stored (a typed storage, no lazy conjugate or negative)
        self.storage, self.layout = storage, layout


def _bfloat16(bits: np.ndarray) -> np.ndarray:
    """bfloat16 bits (uint16) as float32: the upper half of a float32's bits, so exact."""
    return (bits.astype(np.uint32) << 16).view(np.float32)


def _rebuild(storage: Any, offset: Any, size: Any, stride: Any, requires_grad: Any,
             metadata: Any, dtype: Any = None) -> _Loaded:
    """A tensor of ``size`` and ``stride`` (in elements) at ``offset`` of ``storage``, its
    bounds checked. The array is a view of the storage, not a copy (an expanded tensor
    stays one array of its storage's size); arrays are never written in place here.
    ``metadata``: PyTorch's lazy conjugate and negative bits, applied now."""
    if not isinstance(storage, _Storage):
        raise TorchFileError("a tensor without a storage")
    a = storage.array
    if storage.untyped:  # _rebuild_tensor_v3: bytes, of the dtype given
        if not isinstance(dtype, _DType) or dtype.name not in _DTYPES:
            name = dtype.name if isinstance(dtype, _DType) else repr(dtype)
            raise TorchFileError(f"a tensor of dtype torch.{name}, which NumPy does not have")
        dt = _DTYPES[dtype.name]
        whole = len(a) // (2 if dt == "bfloat16" else np.dtype(dt).itemsize)
        a = a[:whole * (2 if dt == "bfloat16" else np.dtype(dt).itemsize)]
        a = _bfloat16(a.view(np.uint16)) if dt == "bfloat16" else a.view(dt)
    try:
        size, stride = tuple(size), tuple(stride)
    except TypeError:
        raise TorchFileError("a tensor of bad layout") from None
    if not (type(offset) is int and offset >= 0 and len(size) == len(stride)
            and all(type(n) is int and n >= 0 for n in size + stride)):
        raise TorchFileError(f"a tensor of bad layout (offset {offset!r}, size {size}, "
                             f"stride {stride})")
    if all(size):
        if offset + sum((n - 1) * s for n, s in zip(size, stride)) >= len(a):
            raise TorchFileError(f"a tensor of size {size} at offset {offset} runs past its "
                                 f"storage of {len(a)} elements")
        out = np.lib.stride_tricks.as_strided(a[offset:], size,
                                              tuple(s * a.itemsize for s in stride),
                                              writeable=False)
    else:
        out = np.zeros(size, a.dtype)
    flags = {} if metadata is None else metadata
    if not isinstance(flags, dict) or not set(flags) <= {"conj", "neg"} or not all(
            type(v) is bool for v in flags.values()):
        raise TorchFileError(f"a tensor with metadata {flags!r}, which this reader does not "
                             "apply")
    if flags.get("conj"):
        out = np.conj(out)
    if flags.get("neg"):
        out = -out
    if storage.untyped or flags.get("conj") or flags.get("neg"):
        return _Loaded(out, bool(requires_grad))
    storage.users += 1
    return _Loaded(out, bool(requires_grad), False, storage, (offset, size, stride))


def _rebuild_tensor_v2(storage: Any, offset: Any, size: Any, stride: Any,
                       requires_grad: Any = False, hooks: Any = None, metadata: Any = None
                       ) -> _Loaded:
    return _rebuild(storage, offset, size, stride, requires_grad, metadata)


def _rebuild_tensor_v3(storage: Any, offset: Any, size: Any, stride: Any,
                       requires_grad: Any, hooks: Any, dtype: Any, metadata: Any = None
                       ) -> _Loaded:
    return _rebuild(storage, offset, size, stride, requires_grad, metadata, dtype)


def _rebuild_parameter(data: Any, requires_grad: Any, hooks: Any = None,
                       state: Any = None) -> _Loaded:
    if not isinstance(data, _Loaded):
        raise TorchFileError("a parameter without a tensor")
    return _Loaded(data.array, bool(requires_grad), True)


class _LoadedSparse(NamedTuple):
    """A sparse COO tensor as read (``walk`` builds it): its parts."""

    indices: Any
    values: Any
    size: Any
    coalesced: Any


def _rebuild_sparse_tensor(layout: Any, data: Any) -> _LoadedSparse:
    if layout != "torch.sparse_coo" or type(data) is not tuple or len(data) not in (3, 4):
        raise TorchFileError(f"a sparse tensor of layout {layout!r}, which this reader does "
                             "not build (it reads sparse_coo)")
    return _LoadedSparse(*data, *(() if len(data) == 4 else (False,)))


def _encode(text: Any, encoding: Any = "utf-8") -> bytes:
    """``_codecs.encode``, which pickle (protocol 2) names for ``bytes``: latin-1 only."""
    if type(text) is not str or encoding not in ("latin1", "latin-1"):
        raise TorchFileError(f"_codecs.encode of {type(text).__name__} as {encoding!r}, which "
                             "is not how pickle writes bytes")
    return text.encode("latin1")


def _bytes(*args: Any) -> bytes:
    """``bytes()`` or ``bytes(b)``: how pickle writes ``b''`` (and no bytes of a size)."""
    if args and type(args[0]) is not bytes or len(args) > 1:
        raise TorchFileError("bytes() of something other than bytes")
    return bytes(*args)


def _bytearray(*args: Any) -> bytearray:
    if args and type(args[0]) not in (bytes, str) or len(args) > 2:
        raise TorchFileError("bytearray() of something other than bytes")
    return bytearray(*args)


def _set(items: Any = ()) -> set:
    if type(items) is not list:
        raise TorchFileError("set() of something other than a list")
    return set(items)


def _complex(real: Any = 0.0, imag: Any = 0.0) -> complex:
    if type(real) not in (int, float) or type(imag) not in (int, float):
        raise TorchFileError("complex() of something other than two numbers")
    return complex(real, imag)


def _counter(items: Any = None) -> collections.Counter:
    if items is not None and type(items) is not dict:
        raise TorchFileError("Counter() of something other than a dict")
    return collections.Counter(items or {})


class _LoadedSize(tuple):
    """A ``torch.Size`` as read (``_finish`` makes it a ``tr.Size``)."""


def _size(dims: Any = ()) -> _LoadedSize:
    if type(dims) not in (list, tuple) or not all(type(n) is int for n in dims):
        raise TorchFileError("torch.Size() of something other than ints")
    return _LoadedSize(dims)


class _LoadedDevice(NamedTuple):
    name: str


def _torch_device(type: Any, index: Any = None) -> _LoadedDevice:  # noqa: A002
    if not isinstance(type, str) or index is not None and not isinstance(index, int):
        raise TorchFileError(f"torch.device({type!r}, {index!r})")
    return _LoadedDevice(type if index is None else f"{type}:{index}")


_GLOBALS: dict[tuple[str, str], Any] = {
    ("_codecs", "encode"): _encode,  # bytes, as pickle (protocol 2) writes them
    ("__builtin__", "bytes"): _bytes, ("builtins", "bytes"): _bytes,
    ("__builtin__", "bytearray"): _bytearray, ("builtins", "bytearray"): _bytearray,
    ("__builtin__", "set"): _set, ("builtins", "set"): _set,
    ("__builtin__", "complex"): _complex, ("builtins", "complex"): _complex,
    ("collections", "Counter"): _counter,
    ("torch", "device"): _torch_device,
    ("torch._utils", "_rebuild_sparse_tensor"): _rebuild_sparse_tensor,
    ("torch.serialization", "_get_layout"): str,
    ("collections", "OrderedDict"): collections.OrderedDict,
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor_v2,
    ("torch._utils", "_rebuild_tensor_v3"): _rebuild_tensor_v3,
    ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
    ("torch._utils", "_rebuild_parameter_with_state"): _rebuild_parameter,
    ("torch", "Size"): _size,
}


class _Unpickler(pickle._Unpickler):  # the Python one, whose opcodes can be restricted
    """Builds only what ``_GLOBALS`` allows (and storage kinds and dtypes, as markers). As
    ``torch.load(weights_only=True)``: ``BUILD`` only sets a state dict's ``_metadata`` on
    an ``OrderedDict``, and the extension-registry opcodes are refused."""

    dispatch = dict(pickle._Unpickler.dispatch)

    def __init__(self, data: bytes, zf: zipfile.ZipFile, prefix: str, byteorder: str) -> None:
        super().__init__(io.BytesIO(data))
        self.zf, self.prefix, self.byteorder = zf, prefix, byteorder
        self.storages: dict[str, _Storage] = {}

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in _GLOBALS:
            return _GLOBALS[(module, name)]
        if module == "torch" and name in _STORAGES:
            return _StorageKind(name)
        if module == "torch.storage" and name == "UntypedStorage":
            return _StorageKind(name)
        if module == "torch" and name in _DTYPES or module == "torch" and name.startswith(
                ("float8", "complex32", "qint", "quint")):
            return _DType(name)
        hint = ("; save a state_dict() rather than a model" if module.startswith("torch.nn")
                or module == "__main__" else "")
        raise TorchFileError(
            f"it holds {module}.{name}, which this reader does not build: it reads what "
            "torch.load(weights_only=True) reads of a checkpoint of weights (dicts, lists, "
            f"tuples, numbers, strings, tensors){hint}")

    def load_build(self) -> None:
        state = self.stack.pop()
        inst = self.stack[-1]
        if not (type(inst) is collections.OrderedDict and type(state) is dict
                and set(state) <= {"_metadata"}):
            raise TorchFileError(f"it sets the state of a {type(inst).__name__}, which this "
                                 "reader does not do")
        inst.__dict__.update(state)

    def load_ext(self) -> None:
        raise TorchFileError("it uses the pickle extension registry, which this reader "
                             "refuses")

    dispatch[pickle.BUILD[0]] = load_build
    dispatch[pickle.EXT1[0]] = dispatch[pickle.EXT2[0]] = dispatch[pickle.EXT4[0]] = load_ext

    def persistent_load(self, pid: Any) -> _Storage:
        if not (type(pid) is tuple and len(pid) == 5 and pid[0] == "storage"
                and isinstance(pid[1], _StorageKind) and type(pid[2]) is str
                and type(pid[4]) is int and pid[4] >= 0):
            raise TorchFileError(f"a bad storage reference {pid!r}")
        kind, key, numel = pid[1].name, pid[2], pid[4]
        if key not in self.storages:
            untyped = kind == "UntypedStorage"
            dtype = np.uint8 if untyped else _STORAGES[kind]
            bf16 = dtype == "bfloat16"
            dt = np.dtype(np.uint16 if bf16 else dtype)
            dt = dt.newbyteorder("<" if self.byteorder == "little" else ">")
            member = f"{self.prefix}/data/{key}"
            try:
                info = self.zf.getinfo(member)
            except KeyError:
                raise TorchFileError(f"storage {key!r} is missing") from None
            if info.file_size != numel * dt.itemsize:  # checked before reading
                raise TorchFileError(f"storage {key!r} has {info.file_size} bytes, expected "
                                     f"{numel * dt.itemsize}")
            a = np.frombuffer(self.zf.read(member), dt, count=numel)
            a = a.astype(dt.newbyteorder("="), copy=not a.dtype.isnative)
            self.storages[key] = _Storage(_bfloat16(a) if bf16 else a, untyped)
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
    except RecursionError:
        raise TorchFileError("its data.pkl is nested too deeply") from None
    except (pickle.UnpicklingError, EOFError, TypeError, ValueError, AttributeError,
            IndexError, KeyError, struct.error) as e:
        raise TorchFileError(f"its data.pkl is corrupted ({type(e).__name__}: {e})") from None
    return _finish(obj, device)


_PLAIN = (bool, int, float, str, complex, bytes)


def _finish(obj: Any, device: str) -> Any:
    """``obj`` with every tensor read made a ``Tensor`` on ``device``; containers rebuilt, of
    the same types, once each (an object the pickle names twice is one object here too); a
    state dict's ``_metadata`` and the keys checked like everything else. A ``torch.Size``
    becomes a ``tr.Size``, a ``torch.device`` a ``tr.device``, a dtype this framework's."""
    done: dict[int, Any] = {}
    open_: set[int] = set()

    def key(k: Any) -> Any:
        """A dict key or set member: a plain value, or a tuple of them (hashable)."""
        if k is None or type(k) in _PLAIN:
            return k
        if type(k) in (tuple, _LoadedSize):
            return walk(k)
        raise TorchFileError(f"a dict key or set member of type {type(k).__name__}, which "
                             "this reader does not build")

    bases: dict[int, Tensor] = {}

    def shared(x: _Loaded) -> Tensor:
        """A tensor of a storage other tensors are read from too: a view (kind
        "as_strided") of one tensor of the whole storage, so that a write into one reaches
        the others, as in PyTorch."""
        from .tensor import _view

        st = x.storage
        assert st is not None
        base = bases.get(id(st))
        if base is None:
            base = bases[id(st)] = (Tensor._wrap(st.array, "cpu") if device == "cpu"
                                    else tensor(st.array, device=device))
        offset, size, stride = x.layout
        at = np.full(size, offset, dtype=np.int64)
        for k, (n, step) in enumerate(zip(size, stride)):
            at += (np.arange(n, dtype=np.int64) * step).reshape((n,) + (1,) * (
                len(size) - k - 1))
        data = x.array if device == "cpu" else base._dev.to_device(x.array)
        return _view(base, Tensor._wrap(data, base._dev), "as_strided",
                     base._dev.to_device(at))

    def walk(x: Any) -> Any:
        if x is None or type(x) in _PLAIN:
            return x
        if id(x) in done:
            return done[id(x)]
        if isinstance(x, _Loaded):
            a = x.array
            rg = x.requires_grad and a.dtype.kind in "fc"
            if x.storage is not None and x.storage.users > 1 and not rg and a.size:
                out = shared(x)
            else:
                out = (Tensor._wrap(a, "cpu", rg) if device == "cpu"
                       else tensor(a, device=device, requires_grad=rg))
            if x.param:
                from .nn.module import Parameter

                out = Parameter(out, requires_grad=rg)
        elif type(x) is _LoadedSparse:
            from .sparse import sparse_coo_tensor

            idx, vals = walk(x.indices), walk(x.values)
            if not (isinstance(idx, Tensor) and isinstance(vals, Tensor)) or not isinstance(
                    x.size, tuple) or type(x.coalesced) is not bool:
                raise TorchFileError("a sparse tensor whose parts are not tensors, a size "
                                     "and a flag")
            try:
                out = sparse_coo_tensor(idx, vals, tuple(x.size), is_coalesced=x.coalesced)
            except (ValueError, TypeError) as e:
                raise TorchFileError(f"a malformed sparse tensor: {e}") from None
        elif type(x) is _LoadedSize:
            out = Size(x)
        elif type(x) is _LoadedDevice:
            out = device_type(x.name)
        elif type(x) is _DType:
            dt = _DTYPES.get(x.name)
            if dt is None or dt == "bfloat16":
                raise TorchFileError(f"the dtype torch.{x.name}, which NumPy does not have")
            out = np.dtype(dt)
        elif type(x) is bytearray:
            out = bytearray(x)
        elif type(x) is set:
            out = {key(v) for v in x}
        elif type(x) in (dict, collections.OrderedDict, collections.Counter, list, tuple):
            if id(x) in open_:
                raise TorchFileError("a container that holds itself")
            open_.add(id(x))
            try:
                if type(x) is list:
                    out = [walk(v) for v in x]
                elif type(x) is tuple:
                    out = tuple(walk(v) for v in x)
                else:
                    out = type(x)()
                    for k, v in x.items():
                        out[key(k)] = walk(v)
                    meta = x.__dict__.get("_metadata") if type(x) is not dict else None
                    if meta is not None:  # a state_dict's, kept as torch keeps it
                        out._metadata = walk(meta)  # type: ignore[union-attr]
            finally:
                open_.discard(id(x))
        elif isinstance(x, (_Storage, _StorageKind, _DType)):
            raise TorchFileError("a bare storage (not a tensor) is not read here")
        else:
            raise TorchFileError(f"it holds a {type(x).__name__}, which this reader does not "
                                 "build")
        done[id(x)] = out
        return out

    return walk(obj)


# ---- writing --------------------------------------------------------------------------------


class _Pickler:
    """Writes protocol-2 pickle opcodes for the few kinds of object a checkpoint of weights
    holds, a tensor as PyTorch pickles one, so that ``torch.load(weights_only=True)`` reads
    it. (Python's own pickler would look the ``torch`` functions up, and needs PyTorch.)"""

    def __init__(self) -> None:
        self.out = io.BytesIO()
        self._where = ""
        self.storages: list[tuple[str, np.ndarray]] = []  # (key, C-order host array)
        self._open: set[int] = set()
        # the arrays written whole as storages, by the ids of the array and of the tensor
        # viewed (or NumPy array saved): (key, the array's memory, flat)
        self._roots: dict[tuple[int, int], tuple[str, np.ndarray]] = {}

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
            if len(b) > 255:
                raise ValueError(f"save(format='torch'): an int of {n.bit_length()} bits at "
                                 f"obj{self._where}: torch.load reads ints of at most 2040")
            self._w(pickle.LONG1 + bytes([len(b)]) + b)

    def dump(self, obj: Any, where: str) -> bytes:
        self._w(pickle.PROTO + b"\x02")
        self._save(obj, where)
        self._w(pickle.STOP)
        return self.out.getvalue()

    def _save(self, x: Any, where: str) -> None:
        t = type(x)
        self._where = where
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
        elif t is complex:  # as pickle writes them: complex(re, im)
            self._call("__builtin__", "complex", x.real, x.imag)
        elif t is bytes:  # as pickle (protocol 2) writes them: _codecs.encode(text, "latin1")
            self._call("_codecs", "encode", x.decode("latin1"), "latin1")
        elif t is Size:
            self._call("torch", "Size", tuple(x))
        elif t is device_type:
            self._call("torch", "device", str(x))
        elif isinstance(x, np.dtype) and _KIND_OF.get(x.newbyteorder("=")) is not None:
            self._global("torch", x.name)
        elif isinstance(x, Tensor) or t is np.ndarray:
            self._tensor(x, where)
        elif t is set:
            if not all(plain_key(v) for v in x):
                raise TypeError(f"save(format='torch'): set members must be str, int, float, "
                                f"bool, None or tuples of them (at obj{where})")
            self._call("__builtin__", "set", sorted(x, key=_order))
        elif t in (dict, collections.OrderedDict, collections.Counter, list, tuple):
            if id(x) in self._open:
                raise ValueError(f"save: circular reference at obj{where}")
            self._open.add(id(x))
            try:
                self._container(x, where)
            finally:
                self._open.discard(id(x))
        elif getattr(x, "is_sparse", False):
            self._sparse(x, where)
        else:
            raise TypeError(
                f"save(format='torch'): cannot save an object of type {type(x).__name__} at "
                f"obj{where}; supported: dict, OrderedDict, list, tuple, None, bool, int, "
                "float, str, Tensor and NumPy arrays")

    def _call(self, module: str, name: str, *args: Any) -> None:
        """``module.name(*args)``, as pickle writes a call (REDUCE)."""
        self._global(module, name)
        self._w(pickle.MARK)
        for a in args:
            self._save(a, "")
        self._w(pickle.TUPLE + pickle.REDUCE)

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
        if type(x) is collections.Counter:  # as pickle writes one: Counter(dict)
            self._call("collections", "Counter", dict(x))
            return
        if type(x) is dict:
            self._w(pickle.EMPTY_DICT)
        else:
            self._global("collections", "OrderedDict")
            self._w(pickle.EMPTY_TUPLE + pickle.REDUCE)
        self._w(pickle.MARK)
        for k, v in x.items():
            if not plain_key(k):
                raise TypeError(f"save(format='torch'): dict keys must be str, int, float, "
                                f"bool, None or tuples of them, got {type(k).__name__} in "
                                f"obj{where}")
            self._save(k, "")
            self._save(v, f"{where}[{k!r}]")
        self._w(pickle.SETITEMS)
        meta = getattr(x, "_metadata", None) if type(x) is not dict else None
        if meta is not None:  # a state_dict's, as torch pickles it
            self._w(pickle.EMPTY_DICT)
            self._str("_metadata")
            self._save(meta, f"{where}._metadata")
            self._w(pickle.SETITEM + pickle.BUILD)

    def _sparse(self, x: Any, where: str) -> None:
        """A sparse COO tensor as torch pickles one: ``_rebuild_sparse_tensor(layout,
        (indices, values, torch.Size(size), is_coalesced))``."""
        self._global("torch._utils", "_rebuild_sparse_tensor")
        self._global("torch.serialization", "_get_layout")
        self._str("torch.sparse_coo")
        self._w(pickle.TUPLE1 + pickle.REDUCE + pickle.MARK)
        self._tensor(x._indices(), f"{where}._indices()")
        self._tensor(x._values().detach(), f"{where}._values()")
        self._global("torch", "Size")
        self._save(tuple(x.shape), "")
        self._w(pickle.TUPLE1 + pickle.REDUCE)
        self._save(bool(x.is_coalesced()), "")
        self._w(pickle.TUPLE + pickle.TUPLE2 + pickle.REDUCE)

    def _layout(self, x: Tensor | np.ndarray, where: str
                ) -> tuple[str, np.ndarray, int, tuple, tuple]:
        """Where ``x``'s elements are written: (storage key, its array, offset, size,
        stride). A tensor and its views (slices, transposes, ``detach()``) get the memory of
        the array of the tensor they view as one storage, each its offset and strides in it,
        as ``torch.save`` writes tensors of one storage; tensors that are no views of one
        another get storages of their own (arrays are copied on write here, so two such
        tensors never share a write, though their arrays may share memory). Any other array
        is written as it is laid out (a transposed one keeps its strides)."""
        a = x._data if isinstance(x, Tensor) and type(x._data) is np.ndarray else (
            np.asarray(x.numpy() if isinstance(x, Tensor) else x))
        kind = _KIND_OF.get(a.dtype.newbyteorder("="))
        if kind is None:
            raise DTypeError(f"save(format='torch'): PyTorch has no storage of dtype "
                             f"{a.dtype} (at obj{where})")
        n = a.itemsize
        owner = x
        while isinstance(owner, Tensor) and owner._base is not None:  # the tensor it views
            owner = owner._base.base
        root = a  # a NumPy array's memory: the array that owns it (through as_strided's)
        while isinstance(root.base, np.ndarray) or isinstance(
                getattr(root.base, "base", None), np.ndarray):
            root = root.base if isinstance(root.base, np.ndarray) else root.base.base
        mem = owner._data if isinstance(owner, Tensor) and type(owner._data) is np.ndarray \
            else root
        flat = _memory(mem)
        if flat is None and mem is not root:  # (the viewed tensor's array is itself a slice)
            mem, flat = root, _memory(root)
        off = a.__array_interface__["data"][0] - mem.__array_interface__["data"][0]
        end = off + sum((k - 1) * st for k, st in zip(a.shape, a.strides)) + n
        place = None
        if (a.size and flat is not None and mem.dtype == a.dtype and a.dtype.isnative
                and off >= 0 and off % n == 0 and end <= flat.nbytes
                and all(st >= 0 and st % n == 0 for st in a.strides)):
            place = off // n, tuple(st // n for st in a.strides)
        elif a.size and flat is not None and mem is not root and mem.dtype == a.dtype and \
                a.dtype.isnative and x is not owner:  # a view whose array is a copy
            place = _traced(x, owner, mem)
        if place is not None:
            mine = (id(mem), id(owner) if isinstance(owner, Tensor) else id(root))
            if mine not in self._roots:
                self._roots[mine] = (str(len(self.storages)), flat)
                self.storages.append(self._roots[mine])
            key, flat = self._roots[mine]
            return key, flat, place[0], a.shape, place[1]
        # a copy in the order of its strides (a transposed array stays transposed)
        order = sorted(range(a.ndim), key=lambda i: -abs(a.strides[i]))
        dense = np.ascontiguousarray(a.transpose(order)).astype(a.dtype.newbyteorder("<"),
                                                                 copy=False)
        stride = [0] * a.ndim
        for i, axis in enumerate(order):
            stride[axis] = dense.strides[i] // n
        key = str(len(self.storages))
        self.storages.append((key, dense.reshape(-1)))
        return key, dense, 0, a.shape, tuple(stride)

    def _tensor(self, x: Tensor | np.ndarray, where: str) -> None:
        """A tensor as torch pickles one (a parameter as ``_rebuild_parameter`` of it)."""
        from .nn.module import Parameter

        key, storage, offset, size, stride = self._layout(x, where)
        rg = bool(isinstance(x, Tensor) and x.requires_grad)
        param = isinstance(x, Parameter)
        if param:
            self._global("torch._utils", "_rebuild_parameter")
            self._w(pickle.MARK)
        self._global("torch._utils", "_rebuild_tensor_v2")
        self._w(pickle.MARK + pickle.MARK)
        self._str("storage")
        self._global("torch", _KIND_OF[storage.dtype.newbyteorder("=")])
        self._str(key)
        self._str("cpu")
        self._int(storage.size)
        self._w(pickle.TUPLE + pickle.BINPERSID)
        self._int(offset)
        self._save(tuple(size), "")
        self._save(stride, "")
        self._save(rg and not param, "")
        self._global("collections", "OrderedDict")
        self._w(pickle.EMPTY_TUPLE + pickle.REDUCE + pickle.TUPLE + pickle.REDUCE)
        if param:
            self._save(rg, "")
            self._global("collections", "OrderedDict")
            self._w(pickle.EMPTY_TUPLE + pickle.REDUCE + pickle.TUPLE + pickle.REDUCE)


def _memory(a: np.ndarray) -> np.ndarray | None:
    """The memory of an array that owns it, as a 1-D view in address order starting at the
    array's first element, where the array fills it without gaps (C order, or C order of
    its axes permuted: a transposed result); else None."""
    if any(st < 0 for st in a.strides):
        return None
    dense = a.transpose(sorted(range(a.ndim), key=lambda i: -a.strides[i]))
    return dense.reshape(-1) if dense.flags.c_contiguous else None


def _traced(x: Tensor, owner: Tensor, mem: np.ndarray) -> tuple[int, tuple] | None:
    """Where the view ``x`` of ``owner`` lies in the memory of ``owner``'s array ``mem``
    (offset, strides, in elements), found by taking the chain of views from ``owner`` to
    ``x`` of the positions of ``mem``'s elements: for a view whose array is a copy (as the
    engine makes after a write, or for ``as_strided``). None where the chain has a view
    that is no strided window (unfold, a complex part) or the positions are no window."""
    pos = sum(np.arange(k).reshape((k,) + (1,) * (mem.ndim - i - 1)) * (st // mem.itemsize)
              for i, (k, st) in enumerate(zip(mem.shape, mem.strides)))
    pos = np.broadcast_to(np.asarray(pos, dtype=np.int64), mem.shape)
    chain = []
    t = x
    while t is not owner:
        chain.append(t._base)
        t = t._base.base
    for link in reversed(chain):
        kind, arg = link.kind, link.arg
        if kind == "index":
            pos = pos[arg]
        elif kind == "reshape":
            pos = pos.reshape(arg)
        elif kind == "transpose":
            pos = pos.transpose(arg)
        elif kind == "expand":
            pos = np.broadcast_to(pos, arg)
        elif kind == "diagonal":
            pos = np.moveaxis(pos[arg[0]], arg[1], -1)
        elif kind == "as_strided" and type(arg) is np.ndarray:
            pos = pos.reshape(-1)[arg]
        elif kind != "detach":
            return None
    pos = np.asarray(pos)
    if pos.shape != x.shape or not pos.size:
        return None
    start = int(pos.flat[0])
    steps = tuple(int(pos[(0,) * i + (1,)].flat[0]) - start if k > 1 else 0
                  for i, k in enumerate(pos.shape))
    want = start + sum(np.arange(k).reshape((k,) + (1,) * (pos.ndim - i - 1)) * st
                       for i, (k, st) in enumerate(zip(pos.shape, steps)))
    if any(st < 0 for st in steps) or not np.array_equal(pos, np.broadcast_to(want,
                                                                             pos.shape)):
        return None
    return start, steps


def plain_key(k: Any) -> bool:
    """Whether ``k`` is a dict key or set member both formats keep: a str, int, float, bool,
    None, or a tuple of them."""
    if k is None or type(k) in (str, int, float, bool):
        return True
    return type(k) is tuple and all(plain_key(e) for e in k)


def _order(v: Any) -> tuple[str, str]:
    """A set's members in one order (equal sets give equal files)."""
    return (type(v).__name__, repr(v))


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
        host = host.astype(host.dtype.newbyteorder("<"), copy=False)  # as torch writes
        zf.writestr(zipinfo(f"{prefix}/data/{key}"), host.tobytes())
    zf.writestr(zipinfo(f"{prefix}/version"), b"3\n")
