"""Checkpoints: ``save(obj, path)`` and ``load(path, device=None)``, without pickle.

``obj`` is a nested structure of ``dict``, ``OrderedDict`` and ``Counter`` (keys: strings,
numbers, bools, None or tuples of them), ``list``, ``tuple``, ``set``, ``None``, ``bool``,
``int`` (any size), ``float`` (nan and inf included), ``complex``, ``str``, ``bytes``,
``argparse.Namespace``, ``tr.Size``, dtypes, NumPy arrays of a numeric or bool dtype (any
shape, 0-d and empty included), NumPy scalars of such a dtype, and ``Tensor`` objects.
A model's ``state_dict()``, an optimizer's ``state_dict()`` and
``tinygrad_rnn.random.get_rng_state()`` all fit. It loads back equal in every detail: container
types (tuple is not list, ``True`` is not ``1``, dict order), dtypes (byte order included), shapes
and values bit for bit (nan payloads and ``-0.0`` included).

Loading never runs code: arrays are read with ``allow_pickle=False``, and the structure is
plain JSON checked node by node. (A PyTorch checkpoint, which ``load`` reads too, is a pickle:
``torchfile`` reads it through an allowlist that builds only containers, numbers, strings and
tensors, as ``torch.load(weights_only=True)``.) A file that is
missing, truncated, corrupted, of another format, or of a newer format version raises
``FileNotFoundError`` or ``ValueError`` naming the path and the problem. Saving is atomic: the
file is written under a temporary name in the target's directory, flushed, fsynced, and then
renamed over the target with ``os.replace``, so a crash mid-write leaves the previous file as it
was. Equal objects give byte-identical files.

Format (``tinygrad_rnn.checkpoint``, versions 1 and 2)
------------------------------------------------------
A ZIP archive, members stored uncompressed (ZIP64 where needed):

- ``manifest.json`` (the first member): UTF-8 JSON ::

      {"format": "tinygrad_rnn.checkpoint", "version": 1, "root": NODE}

  (version 2 when the object needs a node marked "version 2" below: a file that needs
  none is written as version 1, which older readers read)

- ``arrays/<i>.npy`` for i = 0, 1, ...: one array each, in the standard ``.npy`` format
  (https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html), never object dtype.
  So ``numpy.load(path)`` opens a checkpoint as an ``.npz`` too.

A NODE is a JSON object whose ``"type"`` says what it holds:

==================  ========================================================================
``"none"``          ``None``
``"bool"``          ``"value"``: ``true`` / ``false``
``"int"``           ``"value"``: the integer as a hexadecimal string, e.g. ``"0x1f"``,
                    ``"-0x2a"`` (exact at any size, in any JSON reader)
``"float"``         ``"bits"``: the IEEE-754 binary64 bits as 16 hex digits, most significant
                    first (``"3ff0000000000000"`` is 1.0), so nan payloads and -0.0 survive
``"str"``           ``"value"``: the string
``"list"``          ``"items"``: a list of NODEs
``"tuple"``         ``"items"``: a list of NODEs
``"dict"``          ``"items"``: a list of ``[key, NODE]`` pairs, in order; keys are strings,
                    or, with ``"keyed": true`` (version 2), each key is a NODE (an int, float,
                    bool, None, str or a tuple of them: an optimizer's state, a vocabulary)
``"ordered_dict"``  as ``"dict"`` (version 2); loads as a ``collections.OrderedDict``
``"set"``           ``"items"``: its members' NODEs (version 2); ``"frozenset"`` likewise
``"bytes"``         ``"value"``: the bytes as hex digits (version 2)
``"complex"``       ``"bits"``: the real and imaginary parts' bits, as ``"float"``'s, 32 hex
                    digits (version 2)
``"size"``          ``"items"``: ints' NODEs (version 2); loads as a ``tr.Size``
``"counter"``       as ``"dict"`` (version 2); loads as a ``collections.Counter``
``"dtype"``         ``"value"``: NumPy's dtype string (version 2); loads as the dtype
``"namespace"``     ``"items"``: ``[name, NODE]`` pairs (version 2); loads as an
                    ``argparse.Namespace`` (a script's arguments, as checkpoints keep them)
``"ndarray"``       ``"member"`` (the ``.npy`` member's name), ``"dtype"`` (NumPy's dtype
                    string, e.g. ``"<f4"``), ``"shape"`` (a list of ints)
``"numpy_scalar"``  as ``"ndarray"`` with shape ``[]``; loads as a NumPy scalar (``arr[()]``)
``"tensor"``        as ``"ndarray"``, plus ``"device"`` (where it was saved from, informative
                    only) and ``"requires_grad"`` (bool); loads as a ``Tensor``
``"sparse_coo"``    ``"indices"`` and ``"values"`` (``"tensor"`` NODEs), ``"size"`` (a list of
                    ints), ``"coalesced"`` (bool) (version 2); loads as a sparse COO tensor
==================  ========================================================================

Readers must refuse a ``"format"`` they do not know and a ``"version"`` newer than theirs.

Not saved: a tensor's ``.grad`` and its graph; a ``Parameter`` loads as a plain ``Tensor`` (give
it to ``Module.load_state_dict``, which accepts Tensors). An object referenced twice is saved
twice and loads as two independent copies.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import stat
import struct
import zipfile
from collections import Counter, OrderedDict
from typing import Any, BinaryIO

import numpy as np

from . import torchfile
from .backend import device, get_device
from .tensor import DTypeError, Size, Tensor, _Size, tensor

__all__ = ["FORMAT_NAME", "FORMAT_VERSION", "load", "save"]

FORMAT_NAME = "tinygrad_rnn.checkpoint"
FORMAT_VERSION = 2  # the newest this code reads; a file needing nothing of 2 is written as 1
MANIFEST = "manifest.json"

_ARRAY_KINDS = "biufc"  # bool, signed, unsigned, float, complex
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)  # fixed, so equal objects give identical files
_ZIP64_THRESHOLD = zipfile.ZIP64_LIMIT - (1 << 20)


# ---- saving --------------------------------------------------------------------------------


def _path_str(path: str) -> str:
    return "obj" + path


def _describe(x: Any) -> str:
    t = type(x)
    return t.__name__ if t.__module__ == "builtins" else f"{t.__module__}.{t.__qualname__}"


class _Encoder:
    """Walks ``obj`` into a JSON manifest, collecting the arrays to write (not yet converted)."""

    def __init__(self) -> None:
        self.arrays: list[tuple[str, Any]] = []  # (member name, ndarray | np.generic | Tensor)
        self._open: set[int] = set()  # containers on the current path, to catch cycles
        self.version = 1  # raised to 2 by the first node that version 1 lacks

    def _member(self, value: Any) -> str:
        name = f"arrays/{len(self.arrays)}.npy"
        self.arrays.append((name, value))
        return name

    def _check_dtype(self, dtype: np.dtype, where: str, what: str) -> None:
        if dtype.kind not in _ARRAY_KINDS or dtype.fields is not None:
            raise DTypeError(
                f"save: cannot save {what} of dtype {dtype} at {_path_str(where)}: only "
                "numeric and bool dtypes can be saved (no object, string, void or datetime)"
            )

    def encode(self, x: Any, where: str) -> dict[str, Any]:
        t = type(x)
        if t is _Size:
            x, t = int(x), int  # x.size: saved as the number it is
        if t is device:
            x, t = str(x), str  # tr.device (x.device): saved as the name it is
        if x is None:
            return {"type": "none"}
        if t is bool:
            return {"type": "bool", "value": x}
        if t is int:
            return {"type": "int", "value": hex(x)}
        if t is float:
            return {"type": "float", "bits": struct.pack(">d", x).hex()}
        if t is str:
            return {"type": "str", "value": x}
        if isinstance(x, Tensor):
            dt = np.dtype(x.dtype)
            self._check_dtype(dt, where, "a Tensor")
            return {"type": "tensor", "member": self._member(x), "dtype": dt.str,
                    "shape": list(x.shape), "device": str(x.device),
                    "requires_grad": bool(x.requires_grad)}
        if t is np.ndarray:
            self._check_dtype(x.dtype, where, "an array")
            return {"type": "ndarray", "member": self._member(x), "dtype": x.dtype.str,
                    "shape": list(x.shape)}
        if isinstance(x, np.generic):
            self._check_dtype(x.dtype, where, "a NumPy scalar")
            return {"type": "numpy_scalar", "member": self._member(x), "dtype": x.dtype.str,
                    "shape": []}
        if t is bytes:
            self.version = 2
            return {"type": "bytes", "value": x.hex()}
        if t is complex:
            self.version = 2
            return {"type": "complex", "bits": struct.pack(">dd", x.real, x.imag).hex()}
        if isinstance(x, np.dtype):
            self._check_dtype(x, where, "a dtype")
            self.version = 2
            return {"type": "dtype", "value": x.str}
        if t is Size:
            self.version = 2
            return {"type": "size", "items": [self.encode(int(n), f"{where}[{i}]")
                                              for i, n in enumerate(x)]}
        if t in (dict, list, tuple, OrderedDict, Counter, set, frozenset, argparse.Namespace):
            if id(x) in self._open:
                raise ValueError(f"save: circular reference at {_path_str(where)}")
            self._open.add(id(x))
            try:
                if t is argparse.Namespace:  # a script's arguments, as checkpoints keep them
                    self.version = 2
                    return {"type": "namespace", "items": [
                        [k, self.encode(v, f"{where}.{k}")] for k, v in vars(x).items()]}
                if t in (dict, OrderedDict, Counter):
                    return self._mapping(x, where)
                if t in (set, frozenset):
                    self.version = 2
                    members = sorted((self.encode(v, f"{where}{{{v!r}}}") for v in x),
                                     key=lambda n: json.dumps(n, sort_keys=True))
                    return {"type": t.__name__, "items": members}
                return {"type": t.__name__,
                        "items": [self.encode(v, f"{where}[{i}]") for i, v in enumerate(x)]}
            finally:
                self._open.discard(id(x))
        if getattr(x, "is_sparse", False):  # a sparse COO tensor: its parts
            self.version = 2
            return {"type": "sparse_coo", "indices": self.encode(x._indices(), f"{where}.indices"),
                    "values": self.encode(x._values().detach().requires_grad_(
                        x.requires_grad), f"{where}.values"),
                    "size": list(x.shape), "coalesced": x.is_coalesced()}
        hint = ""
        if isinstance(x, (dict, list, tuple, int, float, str, np.ndarray)):
            hint = " (a subclass of a supported type: convert it to the plain type first)"
        raise TypeError(
            f"save: cannot save an object of type {_describe(x)} at {_path_str(where)}{hint}; "
            "supported: dict and OrderedDict (keys: str, int, float, bool, None or tuples of "
            "them) and Counter, list, tuple, set, None, bool, int, float, complex, str, bytes, "
            "numeric NumPy arrays, scalars and dtypes, Tensor, tr.Size, sparse COO tensors, "
            "argparse.Namespace"
        )

    def _mapping(self, x: Any, where: str) -> dict[str, Any]:
        """A dict or OrderedDict: string keys as version 1 writes them, other keys (ints, as
        an optimizer's state or a vocabulary has) each as a node of their own (version 2)."""
        ordered = type(x) is OrderedDict
        keyed = not all(type(k) is str for k in x)
        if ordered or keyed or type(x) is Counter:
            self.version = 2
        items: list[Any] = []
        for k, v in x.items():
            if keyed:
                _check_key(k, where)
                key: Any = self.encode(k, f"{where} (a key)")
            else:
                key = k
            items.append([key, self.encode(v, f"{where}[{k!r}]")])
        node = {"type": "ordered_dict" if ordered else "counter" if type(x) is Counter
                else "dict", "items": items}
        if keyed:
            node["keyed"] = True
        return node


def _check_key(k: Any, where: str) -> None:
    """A dict key this format writes: str, int, float, bool, None, or a tuple of them."""
    if type(k) in (str, int, float, bool) or k is None:
        return
    if type(k) is tuple:
        for e in k:
            _check_key(e, where)
        return
    raise TypeError(f"save: dict keys must be str, int, float, bool, None or tuples of them, "
                    f"got {_describe(k)} key {k!r} in {_path_str(where)}")


def _zipinfo(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=_ZIP_DATE)
    info.compress_type = zipfile.ZIP_STORED
    info.external_attr = 0o644 << 16
    return info


def _host_array(value: Any) -> np.ndarray:
    if isinstance(value, Tensor):
        return value.numpy()
    return np.asarray(value)


def _write_array(zf: zipfile.ZipFile, name: str, value: Any) -> None:
    """Write one array as a ``.npy`` member (a Tensor is copied to the host only now)."""
    arr = _host_array(value)
    with zf.open(_zipinfo(name), "w", force_zip64=arr.nbytes > _ZIP64_THRESHOLD) as f:
        np.lib.format.write_array(f, arr, allow_pickle=False)


def _fsync_dir(directory: str) -> None:
    """Make the rename itself durable (POSIX); a no-op where directories cannot be opened."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


TORCH_SUFFIXES = (".pt", ".pth")


def save(obj: Any, f: str | os.PathLike[str] | BinaryIO,
         format: str | None = None, **torch_options: Any) -> None:  # noqa: A002
    """Write ``obj`` to ``path`` as a checkpoint, atomically (see the module docstring). A
    file object (``io.BytesIO``, a file opened ``"wb"``) is written in place, from where it
    stands, as ``torch.save`` writes one (no atomic rename there).

    ``format="torch"``: as PyTorch's ``torch.save`` writes it, for ``torch.load`` to read
    (``torchfile``); it takes dicts (str or int keys), ``OrderedDict``, lists, tuples, None,
    bool, int, float, str, Tensors and NumPy arrays (as tensors). ``format`` left out: that
    for a path ending in ``.pt`` or ``.pth`` (PyTorch's names: ``torch.load`` reads what
    ``tr.save(sd, "model.pt")`` writes) when ``obj`` fits it, else this framework's own
    (``tinygrad_rnn.checkpoint``, which also keeps sets, bytes, NumPy scalars and tuples
    apart from lists exactly); the same for a file object without a name (``io.BytesIO``)
    as for a ``.pt`` path, and for an open file by its name. ``load`` reads both.

    The whole structure is checked first: an unsupported object raises ``TypeError`` naming
    where it is (e.g. ``obj['optim']['state'][0]``) and nothing is written. The directory must
    exist. On any failure while writing, the previous file at ``path`` (if any) is untouched
    and the temporary file is removed. A symbolic link at ``path`` stays, and the file it points
    to gets the checkpoint (as ``torch.save``).
    """
    path = f
    _torch_options("save", torch_options, ("pickle_module", "pickle_protocol",
                                             "_use_new_zipfile_serialization"))
    if format not in (None, FORMAT_NAME, "torch"):
        raise ValueError(f"save: format must be {FORMAT_NAME!r} (None: by the file name) or "
                         f"'torch', not {format!r}")
    if format is None:
        format = _format_for(obj, path)  # noqa: A001
    if hasattr(path, "write"):  # a file object (io.BytesIO, an open file): written in place
        members = _members(obj, format, "archive")
        with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED,  # type: ignore[arg-type]
                             allowZip64=True) as zf:
            members(zf)
        return
    path = os.fspath(path)
    if not os.path.basename(path):  # "" or "folder/": no file named
        raise ValueError(f"save: {path!r} names no file: give a file name, e.g. 'model.trn'")
    if os.path.islink(path):  # write where it points, in that file's directory
        path = os.path.realpath(path)
    members = _members(obj, format, os.path.splitext(os.path.basename(path))[0])
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        if os.path.exists(directory):
            raise NotADirectoryError(f"save: cannot write {path!r}: {directory!r} is not a "
                                     "directory")
        raise FileNotFoundError(f"save: cannot write {path!r}: directory {directory!r} does "
                                "not exist (create it first)")
    if os.path.isdir(path):
        raise IsADirectoryError(f"save: cannot write {path!r}: it is a directory")

    base = os.path.basename(path)
    tmp = os.path.join(directory, f".{base}.{secrets.token_hex(6)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        with os.fdopen(fd, "wb") as f:
            with zipfile.ZipFile(f, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
                members(zf)
            f.flush()
            os.fsync(f.fileno())
        with contextlib.suppress(OSError):  # a file written over keeps its permissions
            os.chmod(tmp, stat.S_IMODE(os.stat(path).st_mode))
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(tmp)
        raise
    _fsync_dir(directory)


def _format_for(obj: Any, path: Any) -> str:
    """``save``'s format when none is given: PyTorch's for a ``.pt``/``.pth`` path, or for a
    file object without a file name (``io.BytesIO``: what ``torch.load`` of the buffer
    expects), whose object loads back the same from it (``_torch_exact``), else this
    framework's. An open file goes by its name."""
    if hasattr(path, "write"):
        path = getattr(path, "name", None)
        if not isinstance(path, (str, bytes, os.PathLike)):
            return "torch" if _torch_exact(obj) else FORMAT_NAME
    if not str(os.fspath(path)).lower().endswith(TORCH_SUFFIXES):
        return FORMAT_NAME
    return "torch" if _torch_exact(obj) else FORMAT_NAME


def _torch_exact(obj: Any) -> bool:
    """Whether ``obj`` is only tensors, str, int, float, complex, bool, bytes, None, shapes
    (``tr.Size``), devices and dtypes in dicts (``Counter`` too; keys: str, int, float, bool,
    None or tuples of them), lists, tuples and sets (of such keys): what PyTorch's format
    gives back as it was (a NumPy array would come back a Tensor, a frozenset not at all)."""
    stack = [obj]
    while stack:
        x = stack.pop()
        if isinstance(x, Tensor) or x is None or type(x) in (
                str, int, float, complex, bool, bytes, Size, device):
            continue
        if isinstance(x, np.dtype) and x.isnative and x.kind in _ARRAY_KINDS:
            continue
        if type(x) in (dict, OrderedDict, Counter):
            if not all(torchfile.plain_key(k) for k in x):
                return False
            stack.extend(x.values())
        elif type(x) in (list, tuple):
            stack.extend(x)
        elif type(x) is set:
            if not all(torchfile.plain_key(k) for k in x):
                return False
        else:
            return False
    return True


def _torch_options(what: str, given: dict[str, Any], known: tuple[str, ...]) -> None:
    """PyTorch's pickling options: taken (``mmap``, the protocol, the zip switch) and changing
    nothing, since no pickle module runs here; anything else is a TypeError, as Python's."""
    for k in given:
        if k not in known:
            raise TypeError(f"{what}() got an unexpected keyword argument {k!r}")


def _members(obj: Any, format: str, stem: str) -> Any:  # noqa: A002
    """A function that writes ``obj``'s archive members into an open ZIP file, everything
    checked and encoded first (an unsupported object raises before anything is written)."""
    if format == "torch":
        data, storages = torchfile.encode_torch(obj)
        prefix = stem if stem.isidentifier() else "archive"

        def members(zf: zipfile.ZipFile) -> None:
            torchfile.write_torch(zf, prefix, data, storages, _zipinfo)

        return members
    enc = _Encoder()
    try:
        root = enc.encode(obj, "")
    except RecursionError:
        raise ValueError("save: the object is nested too deeply to save") from None
    manifest = json.dumps({"format": FORMAT_NAME, "version": enc.version, "root": root},
                          ensure_ascii=True, allow_nan=False, separators=(",", ":"))

    def members(zf: zipfile.ZipFile) -> None:
        zf.writestr(_zipinfo(MANIFEST), manifest.encode("ascii"))
        for name, value in enc.arrays:
            _write_array(zf, name, value)

    return members


# ---- loading -------------------------------------------------------------------------------


class _Corrupt(Exception):
    """A problem found while decoding; ``load`` turns it into a ValueError naming the file."""


class _Unsupported(Exception):
    """Another format, or a newer version of this one."""


def _expect(cond: bool, msg: str) -> None:
    if not cond:
        raise _Corrupt(msg)


def _read_npy(zf: zipfile.ZipFile, member: str, dtype: np.dtype,
              shape: tuple[int, ...]) -> np.ndarray:
    """Read one ``.npy`` member, checking its header against the manifest before allocating."""
    try:
        info = zf.getinfo(member)
    except KeyError:
        raise _Corrupt(f"array member {member!r} is missing") from None
    with zf.open(info) as f:
        version = np.lib.format.read_magic(f)
        if version == (1, 0):
            hdr = np.lib.format.read_array_header_1_0(f)
        elif version == (2, 0):
            hdr = np.lib.format.read_array_header_2_0(f)
        else:
            raise _Corrupt(f"array member {member!r} has unsupported .npy version {version}")
        got_shape, _, got_dtype = hdr
        _expect(got_dtype == dtype and tuple(got_shape) == shape,
                f"array member {member!r} holds {got_dtype} {tuple(got_shape)}, but the "
                f"manifest says {dtype} {shape}")
        nbytes = int(np.prod(shape, dtype=object)) * dtype.itemsize
        _expect(f.tell() + nbytes == info.file_size,
                f"array member {member!r} has {info.file_size - f.tell()} bytes of data, "
                f"expected {nbytes}")
        f.seek(0)
        arr = np.lib.format.read_array(f, allow_pickle=False)
        _expect(f.read(1) == b"", f"array member {member!r} has trailing data")  # checks CRC
    return arr


class _Decoder:
    def __init__(self, zf: zipfile.ZipFile, device: str) -> None:
        self.zf, self.device = zf, device
        self.seen: set[str] = set()

    def _array(self, node: dict[str, Any], where: str) -> np.ndarray:
        member, dstr, shape = node.get("member"), node.get("dtype"), node.get("shape")
        _expect(type(member) is str and member not in self.seen,
                f"bad or repeated array member at {_path_str(where)}")
        self.seen.add(member)
        _expect(type(dstr) is str, f"bad dtype at {_path_str(where)}")
        try:
            dtype = np.dtype(dstr)
        except TypeError:
            raise _Corrupt(f"bad dtype {dstr!r} at {_path_str(where)}") from None
        _expect(dtype.kind in _ARRAY_KINDS and dtype.fields is None,
                f"unsupported dtype {dstr!r} at {_path_str(where)}")
        _expect(type(shape) is list and all(type(n) is int and n >= 0 for n in shape),
                f"bad shape at {_path_str(where)}")
        return _read_npy(self.zf, member, dtype, tuple(shape))

    def decode(self, node: Any, where: str) -> Any:
        _expect(type(node) is dict and type(node.get("type")) is str,
                f"malformed node at {_path_str(where)}")
        kind = node["type"]
        if kind == "none":
            return None
        if kind == "bool":
            _expect(type(node.get("value")) is bool, f"bad bool at {_path_str(where)}")
            return node["value"]
        if kind == "int":
            v = node.get("value")
            _expect(type(v) is str and v.lstrip("-").startswith("0x"),
                    f"bad int at {_path_str(where)}")
            try:
                return int(v, 16)
            except ValueError:
                raise _Corrupt(f"bad int {v!r} at {_path_str(where)}") from None
        if kind == "float":
            bits = node.get("bits")
            _expect(type(bits) is str and len(bits) == 16, f"bad float at {_path_str(where)}")
            try:
                return struct.unpack(">d", bytes.fromhex(bits))[0]
            except ValueError:
                raise _Corrupt(f"bad float bits {bits!r} at {_path_str(where)}") from None
        if kind == "str":
            _expect(type(node.get("value")) is str, f"bad str at {_path_str(where)}")
            return node["value"]
        if kind == "bytes":
            v = node.get("value")
            _expect(type(v) is str, f"bad bytes at {_path_str(where)}")
            try:
                return bytes.fromhex(v)
            except ValueError:
                raise _Corrupt(f"bad bytes at {_path_str(where)}") from None
        if kind == "complex":
            bits = node.get("bits")
            _expect(type(bits) is str and len(bits) == 32, f"bad complex at {_path_str(where)}")
            try:
                return complex(*struct.unpack(">dd", bytes.fromhex(bits)))
            except ValueError:
                raise _Corrupt(f"bad complex bits {bits!r} at {_path_str(where)}") from None
        if kind == "dtype":
            v = node.get("value")
            try:
                dt = np.dtype(v) if type(v) is str else None
            except TypeError:
                dt = None
            _expect(dt is not None and dt.kind in _ARRAY_KINDS and dt.fields is None,
                    f"bad dtype at {_path_str(where)}")
            return dt
        if kind in ("list", "tuple", "dict", "ordered_dict", "counter", "set", "frozenset",
                    "namespace", "size"):
            items = node.get("items")
            _expect(type(items) is list, f"bad {kind} at {_path_str(where)}")
            if kind in ("dict", "ordered_dict", "counter", "namespace"):
                keyed = node.get("keyed", False) is True and kind != "namespace"
                out: dict[Any, Any] = {"ordered_dict": OrderedDict, "counter": Counter}.get(
                    kind, dict)()
                for pair in items:
                    _expect(type(pair) is list and len(pair) == 2, f"bad entry in "
                            f"{_path_str(where)}")
                    key = self.decode(pair[0], f"{where} (a key)") if keyed else pair[0]
                    _expect((keyed or type(key) is str) and _hashable(key) and key not in out,
                            f"bad or repeated key in {_path_str(where)}")
                    out[key] = self.decode(pair[1], f"{where}[{key!r}]")
                return argparse.Namespace(**out) if kind == "namespace" else out
            seq = [self.decode(v, f"{where}[{i}]") for i, v in enumerate(items)]
            if kind == "size":
                _expect(all(type(n) is int for n in seq), f"bad size at {_path_str(where)}")
                return Size(seq)
            if kind in ("set", "frozenset"):
                _expect(all(_hashable(v) for v in seq), f"bad {kind} at {_path_str(where)}")
                return set(seq) if kind == "set" else frozenset(seq)
            return seq if kind == "list" else tuple(seq)
        if kind == "ndarray":
            return self._array(node, where)
        if kind == "numpy_scalar":
            _expect(node.get("shape") == [], f"bad numpy scalar at {_path_str(where)}")
            return self._array(node, where)[()]
        if kind == "tensor":
            rg = node.get("requires_grad")
            _expect(type(rg) is bool, f"bad tensor at {_path_str(where)}")
            arr = self._array(node, where)
            _expect(not rg or arr.dtype.kind in "fc",
                    f"integer tensor marked requires_grad at {_path_str(where)}")
            return tensor(arr, device=self.device, requires_grad=rg)
        if kind == "sparse_coo":
            from .sparse import sparse_coo_tensor

            idx = self.decode(node.get("indices"), f"{where}.indices")
            vals = self.decode(node.get("values"), f"{where}.values")
            size, coalesced = node.get("size"), node.get("coalesced")
            _expect(isinstance(idx, Tensor) and isinstance(vals, Tensor) and type(size) is list
                    and all(type(n) is int for n in size) and type(coalesced) is bool,
                    f"bad sparse tensor at {_path_str(where)}")
            try:
                return sparse_coo_tensor(idx, vals, size, is_coalesced=coalesced)
            except (ValueError, TypeError) as e:
                raise _Corrupt(f"bad sparse tensor at {_path_str(where)}: {e}") from None
        raise _Corrupt(f"unknown node type {kind!r} at {_path_str(where)}")


def _hashable(v: Any) -> bool:
    try:
        hash(v)
    except TypeError:
        return False
    return True


def _not_a_zip(fh: Any, start: int | None) -> str:
    """Why a file that ``zipfile`` refuses is not a checkpoint, for the error message: its
    first bytes, read from ``start`` (None: where it cannot be read again)."""
    try:
        fh.seek(start)
        head = fh.read(8)
    except (OSError, TypeError, ValueError, AttributeError):
        head = b"?"
    if not head:
        return "the file is empty"
    if head.startswith(b"PK"):
        return "a truncated or corrupted ZIP archive"
    if head[:1] == b"\x80" or head[:2] in (b"(d", b"(l", b"}q", b"]q"):
        return ("not a ZIP archive; it looks like a pickle (PyTorch's format before 1.6?), "
                "which this loader never unpickles: save it again with a current torch.save")
    if head.startswith(b"\x93NUMPY"):
        return "not a ZIP archive but a plain .npy file"
    return "not a ZIP archive"


def load(f: str | os.PathLike[str] | BinaryIO, device: str | None = None,
         map_location: Any = None, weights_only: bool = True, **torch_options: Any) -> Any:
    """Read a checkpoint written by ``save``, or a PyTorch checkpoint written by
    ``torch.save`` (its ZIP format, PyTorch 1.6 and later; ``torchfile``), from a path or a
    binary file object.

    Tensors are made on ``device`` (default ``"cpu"``, so a checkpoint saved from a GPU loads
    on any machine). ``map_location``, PyTorch's name, is the same, in PyTorch's forms: a
    device name, a ``torch.device``, a dict of saved location to device, or a function such as
    ``lambda storage, loc: storage`` (the CPU); everything loads on one device. NumPy arrays
    and scalars stay on the host. Loading is always PyTorch's safe ``weights_only=True``: it
    never runs code. ``weights_only=False``, which ported code passes since PyTorch 2.6, is
    taken and loads the same way (a pickled object outside the allowlist is still refused,
    naming it). Raises ``FileNotFoundError`` for
    a missing file and ``ValueError`` for anything that is not an intact checkpoint of a format
    version this code reads, naming the path and the problem.
    """
    path = f
    _torch_options("load", torch_options, ("pickle_module", "mmap", "encoding"))
    if weights_only not in (True, False, None):
        raise TypeError(f"load: weights_only must be True or False, got {weights_only!r}")
    if map_location is not None:
        if device is not None:
            raise TypeError("load: give device= or map_location=, not both")
        device = _mapped_device(map_location)
    dev = get_device(device if device is not None else "cpu").name
    if hasattr(path, "read"):  # a file object (io.BytesIO, an open file)
        if torch_options.get("mmap"):
            raise ValueError("load: f must be a file path in order to use the mmap argument "
                             "(as torch.load)")
        return _load_from(path, repr(path), dev)
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"load: no such file: {path!r}")
    if os.path.isdir(path):
        raise ValueError(f"load: {path!r} is a directory, not a checkpoint file")
    with open(path, "rb") as fh:
        return _load_from(fh, repr(path), dev)


class _Where:
    """What a ``map_location`` function is called with: it records where the function sends
    a storage (``lambda storage, loc: storage`` keeps it on the CPU; ``storage.cuda()`` moves
    it)."""

    def __init__(self) -> None:
        self.device = "cpu"

    def cuda(self, *args: Any, **kwargs: Any) -> _Where:
        self.device = "cuda"
        return self

    def cpu(self) -> _Where:
        self.device = "cpu"
        return self

    def to(self, device: Any = None, *args: Any, **kwargs: Any) -> _Where:
        self.device = str(device).split(":")[0]
        return self


def _mapped_device(map_location: Any) -> str:
    """The one device ``map_location`` sends tensors to, in PyTorch's forms: a device name or
    ``torch.device``; a dict from saved locations to devices (all of one kind: everything loads
    on one device here); a function of (storage, location)."""
    if isinstance(map_location, str) or type(map_location).__name__ == "device":
        return str(map_location).split(":")[0]  # str() of a torch.device is a name too
    if isinstance(map_location, dict):
        kinds = {str(v).split(":")[0] for v in map_location.values()}
        if len(kinds) != 1:
            raise ValueError(f"load: map_location {map_location!r} sends tensors to several "
                             "kinds of device; everything loads on one device here")
        return kinds.pop()
    if callable(map_location):
        probe = _Where()
        if map_location(probe, "cpu") is not probe:
            raise TypeError("load: a map_location function must return the storage it is "
                            "given (moved with .cpu(), .cuda() or .to(device))")
        return probe.device
    raise TypeError("load: map_location must be a device name ('cpu', 'cuda'), a "
                    f"torch.device, a dict or a function, not {type(map_location).__name__}")


def _load_from(fh: Any, name: str, dev: str) -> Any:
    """Load from an open binary file ``fh`` (``name`` for messages)."""
    what = f"load: {name} is not a tinygrad_rnn checkpoint"
    try:
        start = fh.tell() if fh.seekable() else None
    except (AttributeError, OSError):
        start = None
    try:
        zf = zipfile.ZipFile(fh, "r")
    except Exception:  # BadZipFile, and whatever a mangled central directory causes
        why = _not_a_zip(fh, start) if start is not None else "not a ZIP archive"
        raise ValueError(f"{what}: {why}") from None
    with zf:
        prefix = torchfile.torch_prefix(zf) if MANIFEST not in zf.namelist() else None
        if prefix is not None:
            try:
                return torchfile.load_torch(zf, prefix, dev)
            except torchfile.TorchFileError as e:
                raise ValueError(f"load: cannot read the PyTorch checkpoint {name}: "
                                 f"{e}") from None
            except MemoryError:
                raise
            except Exception as e:  # zipfile, zlib: a bad file
                raise ValueError(f"load: {name} is truncated or corrupted "
                                 f"({type(e).__name__}: {e})") from None
        if MANIFEST not in zf.namelist():
            raise ValueError(f"{what}: the ZIP archive has no {MANIFEST} (a plain .npz "
                             "or another program's archive?)") from None
        try:
            return _load_archive(zf, dev)
        except _Corrupt as e:
            raise ValueError(f"load: {name} is corrupted: {e}") from None
        except _Unsupported as e:
            raise ValueError(f"load: {name}: {e}") from None
        except MemoryError:
            raise
        except RecursionError:
            raise ValueError(f"load: {name} is corrupted: nested too deeply") from None
        except Exception as e:  # zipfile, zlib, numpy header errors: all mean a bad file
            raise ValueError(f"load: {name} is truncated or corrupted "
                             f"({type(e).__name__}: {e})") from None


def _load_archive(zf: zipfile.ZipFile, device: str) -> Any:
    raw = zf.read(MANIFEST)
    try:
        manifest = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise _Corrupt(f"{MANIFEST} is not valid JSON") from None
    _expect(type(manifest) is dict, f"{MANIFEST} is not a JSON object")
    fmt, version = manifest.get("format"), manifest.get("version")
    if fmt != FORMAT_NAME:
        raise _Unsupported(f"format {fmt!r} is not {FORMAT_NAME!r}; not a tinygrad_rnn "
                           "checkpoint")
    _expect(type(version) is int, f"{MANIFEST} has no integer format version")
    if version > FORMAT_VERSION or version < 1:
        raise _Unsupported(
            f"unsupported checkpoint format version {version}: this tinygrad_rnn reads "
            f"versions 1 to {FORMAT_VERSION}"
            + (" (upgrade tinygrad_rnn to read it)" if version > FORMAT_VERSION else "")
        )
    _expect("root" in manifest, f"{MANIFEST} has no root")
    return _Decoder(zf, device).decode(manifest["root"], "")
