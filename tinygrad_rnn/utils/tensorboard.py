"""TensorBoard logs without TensorBoard: ``SummaryWriter``, as ``torch.utils.tensorboard``'s, and
``read_events`` to read them back. Nothing here needs the ``tensorboard`` or ``protobuf``
packages; this file writes the bytes itself.

    from tinygrad_rnn.utils.tensorboard import SummaryWriter
    with SummaryWriter("runs/lstm") as writer:
        writer.add_scalar("loss", loss, step)        # then: tensorboard --logdir runs

What is in an event file, from the outside in:

1. **Records** (TFRecord framing). Each record is ``length`` (uint64, little-endian), the masked
   CRC32C of those 8 bytes (uint32), ``data`` (``length`` bytes), the masked CRC32C of the data
   (uint32). CRC32C is the CRC with the Castagnoli polynomial; masking rotates it right by 15
   bits and adds 0xA282EAD8 (mod 2^32), so that a CRC of bytes holding CRCs looks random.
2. **Events.** Each record's data is one ``Event`` protocol-buffer message. The first says
   ``file_version: "brain.Event:2"``; the others hold a ``Summary`` with the values logged at one
   ``step``, at ``wall_time`` (seconds since the epoch).
3. **Protocol buffers.** A message is a run of fields, each a key ``field_number << 3 | wire
   type`` (a varint) and a value: a varint (wire type 0: 7 bits a byte, low bits first, the top
   bit set on all bytes but the last; negative integers as their 64-bit two's complement), 8
   little-endian bytes (type 1: a double), a length and that many bytes (type 2: a string, a
   nested message, or a "packed" run of numbers), or 4 bytes (type 5: a float). Proto3 leaves
   out a field at its default (0, "", empty), unless it is part of a ``oneof`` or a message.

The messages and the field numbers used here (from TensorBoard's ``event.proto``,
``summary.proto``, ``tensor.proto``, and the hparams and text plugins' protos)::

    Event           wall_time 1 double, step 2 int64, file_version 3 string, summary 5,
                    session_log 7 (status 1 enum: START = 1), source_metadata 10 (writer 1)
    Summary         value 1 (repeated Value)
    Summary.Value   tag 1, simple_value 2 float, image 4, histo 5, tensor 8, metadata 9
    Summary.Image   height 1, width 2, colorspace 3 int32, encoded_image_string 4 bytes
    HistogramProto  min 1, max 2, num 3, sum 4, sum_squares 5 double;
                    bucket_limit 6, bucket 7 packed repeated double
    SummaryMetadata plugin_data 1 (PluginData: plugin_name 1 string, content 2 bytes)
    TensorProto     dtype 1 enum (DT_FLOAT 1, DT_DOUBLE 2, DT_STRING 7), tensor_shape 2
                    (TensorShapeProto: dim 2, each Dim: size 1), float_val 5 packed float,
                    double_val 6 packed double, string_val 8 repeated bytes
    HParamsPluginData  version 1, experiment 2, session_start_info 3, session_end_info 4
    Experiment      hparam_infos 4 (HParamInfo: name 1, type 4 enum, domain_discrete 5),
                    metric_infos 5 (MetricInfo: name 1, a MetricName: group 1, tag 2)
    SessionStartInfo   hparams 1: map<string, google.protobuf.Value>, each entry key 1, value 2
                    (Value: number_value 2 double, string_value 3, bool_value 4, a oneof;
                    ListValue: values 1)
    SessionEndInfo  status 1 enum (STATUS_SUCCESS = 1)

The writer makes the same messages as PyTorch's (field for field, the same histogram buckets),
so ``read_events`` reads PyTorch's files too, and TensorBoard reads ours.
"""

from __future__ import annotations

import itertools
import os
import socket
import struct
import time
import weakref
import zlib
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from typing import Any, BinaryIO, NamedTuple

import numpy as np

__all__ = ["SummaryWriter", "read_events", "read_records", "parse_event", "crc32c",
           "masked_crc32c", "CorruptRecordError", "Event", "Histogram", "Image", "encode_png"]

# ----------------------------------------------------------------------------------------------
# CRC32C (Castagnoli), table-driven: one table lookup per byte


def _crc32c_table() -> list[int]:
    poly = 0x82F63B78  # 0x1EDC6F41 with its bits reversed: the CRC runs low bit first
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ poly if crc & 1 else crc >> 1
        table.append(crc)
    return table


_CRC32C_TABLE = _crc32c_table()


def crc32c(data: bytes, crc: int = 0) -> int:
    """The CRC32C of ``data`` (continuing from ``crc``): ``crc32c(b"123456789") == 0xE3069283``."""
    table = _CRC32C_TABLE
    crc ^= 0xFFFFFFFF
    for byte in data:
        crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def masked_crc32c(data: bytes) -> int:
    """The CRC32C of ``data`` rotated right by 15 bits, plus 0xA282EAD8 (mod 2^32)."""
    crc = crc32c(data)
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def _record(data: bytes) -> bytes:
    """One TFRecord: length, its masked CRC, the data, its masked CRC."""
    header = struct.pack("<Q", len(data))
    return (header + struct.pack("<I", masked_crc32c(header)) + data
            + struct.pack("<I", masked_crc32c(data)))


# ----------------------------------------------------------------------------------------------
# Protocol-buffer encoding: each function returns the bytes of one field, or b"" for a proto3
# field at its default value, which is left out

_VARINT, _FIXED64, _LENGTH, _FIXED32 = 0, 1, 2, 5


def _varint(n: int) -> bytes:
    n &= (1 << 64) - 1  # a negative int64 goes as its two's complement: 10 bytes
    out = bytearray()
    while n >= 0x80:
        out.append(n & 0x7F | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def _key(field: int, wire_type: int) -> bytes:
    return _varint(field << 3 | wire_type)


def _int(field: int, n: int) -> bytes:
    """An int32, int64 or enum field."""
    return _key(field, _VARINT) + _varint(int(n)) if n else b""


def _double(field: int, x: float, keep_zero: bool = False) -> bytes:
    data = struct.pack("<d", float(x))
    if data == bytes(8) and not keep_zero:  # +0.0 is the default; -0.0 is not
        return b""
    return _key(field, _FIXED64) + data


def _float32(x: float) -> float:
    """``x`` rounded to float32, as protobuf stores it (past float32's range: infinity)."""
    with np.errstate(over="ignore"):
        return float(np.float32(x))


def _float(field: int, x: float, keep_zero: bool = False) -> bytes:
    data = struct.pack("<f", _float32(x))
    return b"" if data == bytes(4) and not keep_zero else _key(field, _FIXED32) + data


def _bytes(field: int, data: bytes, keep_empty: bool = False) -> bytes:
    if not data and not keep_empty:
        return b""
    return _key(field, _LENGTH) + _varint(len(data)) + data


def _string(field: int, s: str, keep_empty: bool = False) -> bytes:
    return _bytes(field, s.encode("utf-8"), keep_empty)


def _message(field: int, body: bytes) -> bytes:
    """A nested message: present even when empty, as a message field that was set."""
    return _bytes(field, body, keep_empty=True)


def _packed_doubles(field: int, xs: Iterable[float]) -> bytes:
    xs = [float(x) for x in xs]
    return _bytes(field, struct.pack(f"<{len(xs)}d", *xs))


def _packed_floats(field: int, xs: Iterable[float]) -> bytes:
    xs = [_float32(x) for x in xs]
    return _bytes(field, struct.pack(f"<{len(xs)}f", *xs))


# The messages this writer makes

_DT_FLOAT, _DT_DOUBLE, _DT_STRING = 1, 2, 7
_SESSION_START = 1
_STATUS_SUCCESS = 1
_DATA_TYPE_STRING, _DATA_TYPE_FLOAT64 = 1, 3  # (bools are logged as numbers, as PyTorch does)
_WRITER_NAME = "tinygrad_rnn.utils.tensorboard"


def _event(wall_time: float, step: int | None = None, *, file_version: str = "",
           summary: bytes | None = None, session_log_status: int = 0,
           source_writer: str = "") -> bytes:
    return b"".join([
        _double(1, wall_time),
        _int(2, step or 0),
        _string(3, file_version),
        b"" if summary is None else _message(5, summary),
        _message(7, _int(1, session_log_status)) if session_log_status else b"",
        _message(10, _string(1, source_writer)) if source_writer else b"",
    ])


def _summary(*values: bytes) -> bytes:
    return b"".join(_message(1, v) for v in values)


def _value(tag: str, *, simple_value: float | None = None, image: bytes | None = None,
           histo: bytes | None = None, tensor: bytes | None = None,
           metadata: bytes | None = None) -> bytes:
    """A ``Summary.Value``; an argument left at None is a field left out."""
    parts = [_string(1, tag)]
    if simple_value is not None:  # a member of a oneof: written even when 0
        parts.append(_float(2, simple_value, keep_zero=True))
    for field, body in ((4, image), (5, histo), (8, tensor), (9, metadata)):
        if body is not None:
            parts.append(_message(field, body))
    return b"".join(parts)


def _plugin_metadata(plugin_name: str, content: bytes = b"") -> bytes:
    """A ``SummaryMetadata`` naming the TensorBoard plugin that shows the value."""
    return _message(1, _string(1, plugin_name) + _bytes(2, content))


def _tensor_proto(dtype: int, *, float_val: Iterable[float] = (),
                  double_val: Iterable[float] = (), string_val: Iterable[bytes] = (),
                  shape: tuple[int, ...] | None = None) -> bytes:
    parts = [_int(1, dtype)]
    if shape is not None:
        parts.append(_message(2, b"".join(_message(2, _int(1, n)) for n in shape)))
    parts += [_packed_floats(5, float_val), _packed_doubles(6, double_val)]
    parts += [_bytes(8, s, keep_empty=True) for s in string_val]
    return b"".join(parts)


def _histogram_proto(min: float, max: float, num: float, sum: float, sum_squares: float,
                     bucket_limit: Iterable[float], bucket: Iterable[float]) -> bytes:
    return b"".join([_double(1, min), _double(2, max), _double(3, num), _double(4, sum),
                     _double(5, sum_squares), _packed_doubles(6, bucket_limit),
                     _packed_doubles(7, bucket)])


def _image_proto(height: int, width: int, colorspace: int, png: bytes) -> bytes:
    return _int(1, height) + _int(2, width) + _int(3, colorspace) + _bytes(4, png)


# ----------------------------------------------------------------------------------------------
# Protocol-buffer decoding, for the reader: a schema maps field numbers to (name, kind[, schema])

_DOUBLE, _FLOAT, _INT, _STR, _BYTES, _MSG = "double", "float", "int", "str", "bytes", "msg"

_PLUGIN_DATA = {1: ("plugin_name", _STR), 2: ("content", _BYTES)}
_METADATA = {1: ("plugin_data", _MSG, _PLUGIN_DATA), 2: ("display_name", _STR),
             3: ("summary_description", _STR), 4: ("data_class", _INT)}
_HISTOGRAM = {1: ("min", _DOUBLE), 2: ("max", _DOUBLE), 3: ("num", _DOUBLE), 4: ("sum", _DOUBLE),
              5: ("sum_squares", _DOUBLE), 6: ("bucket_limit", [_DOUBLE]),
              7: ("bucket", [_DOUBLE])}
_IMAGE = {1: ("height", _INT), 2: ("width", _INT), 3: ("colorspace", _INT),
          4: ("encoded_image_string", _BYTES)}
_SHAPE = {2: ("dim", [_MSG], {1: ("size", _INT), 2: ("name", _STR)})}
_TENSOR = {1: ("dtype", _INT), 2: ("tensor_shape", _MSG, _SHAPE), 4: ("tensor_content", _BYTES),
           5: ("float_val", [_FLOAT]), 6: ("double_val", [_DOUBLE]), 7: ("int_val", [_INT]),
           8: ("string_val", [_BYTES]), 10: ("int64_val", [_INT]), 11: ("bool_val", [_INT])}
_VALUE = {1: ("tag", _STR), 2: ("simple_value", _FLOAT), 4: ("image", _MSG, _IMAGE),
          5: ("histo", _MSG, _HISTOGRAM), 7: ("node_name", _STR), 8: ("tensor", _MSG, _TENSOR),
          9: ("metadata", _MSG, _METADATA)}
_EVENT = {1: ("wall_time", _DOUBLE), 2: ("step", _INT), 3: ("file_version", _STR),
          5: ("summary", _MSG, {1: ("value", [_MSG], _VALUE)}),
          7: ("session_log", _MSG, {1: ("status", _INT), 2: ("checkpoint_path", _STR),
                                    3: ("msg", _STR)}),
          10: ("source_metadata", _MSG, {1: ("writer", _STR)})}

_STRUCT_VALUE: dict[int, tuple[Any, ...]] = {2: ("number_value", _DOUBLE),
                                             3: ("string_value", _STR), 4: ("bool_value", _INT)}
_LIST_VALUE = {1: ("values", [_MSG], _STRUCT_VALUE)}
_STRUCT_VALUE[6] = ("list_value", _MSG, _LIST_VALUE)
_HPARAMS = {
    1: ("version", _INT),
    2: ("experiment", _MSG, {
        6: ("name", _STR), 1: ("description", _STR), 2: ("user", _STR),
        3: ("time_created_secs", _DOUBLE),
        4: ("hparam_infos", [_MSG], {1: ("name", _STR), 2: ("display_name", _STR),
                                     3: ("description", _STR), 4: ("type", _INT),
                                     5: ("domain_discrete", _MSG, _LIST_VALUE)}),
        5: ("metric_infos", [_MSG], {1: ("name", _MSG, {1: ("group", _STR), 2: ("tag", _STR)}),
                                     3: ("display_name", _STR), 4: ("description", _STR),
                                     5: ("dataset_type", _INT)})}),
    3: ("session_start_info", _MSG, {
        1: ("hparams", [_MSG], {1: ("key", _STR), 2: ("value", _MSG, _STRUCT_VALUE)}),
        2: ("model_uri", _STR), 3: ("monitor_url", _STR), 4: ("group_name", _STR),
        5: ("start_time_secs", _DOUBLE)}),
    4: ("session_end_info", _MSG, {1: ("status", _INT), 2: ("end_time_secs", _DOUBLE)}),
}


def _read_varint(data: bytes, i: int) -> tuple[int, int]:
    n = shift = 0
    while True:
        if i >= len(data):
            raise CorruptRecordError("a varint runs past the end of its message")
        byte = data[i]
        n |= (byte & 0x7F) << shift
        i, shift = i + 1, shift + 7
        if byte < 0x80:
            return n, i


def _fields(data: bytes) -> Iterator[tuple[int, int, Any]]:
    """(field number, wire type, raw value) for each field of a message, in order."""
    i = 0
    while i < len(data):
        key, i = _read_varint(data, i)
        field, wire_type = key >> 3, key & 7
        if wire_type == _VARINT:
            value, i = _read_varint(data, i)
        elif wire_type == _FIXED64:
            value, i = data[i:i + 8], i + 8
        elif wire_type == _FIXED32:
            value, i = data[i:i + 4], i + 4
        elif wire_type == _LENGTH:
            n, i = _read_varint(data, i)
            value, i = data[i:i + n], i + n
        else:
            raise CorruptRecordError(f"unknown protobuf wire type {wire_type}")
        if i > len(data):
            raise CorruptRecordError("a field runs past the end of its message")
        yield field, wire_type, value


def _scalar(kind: str, wire_type: int, raw: Any) -> list[Any]:
    """The values of one field occurrence: one, or several for a packed run."""
    if kind == _DOUBLE:
        return list(struct.unpack(f"<{len(raw) // 8}d", raw)) if wire_type == _LENGTH \
            else [struct.unpack("<d", raw)[0]]
    if kind == _FLOAT:
        return list(struct.unpack(f"<{len(raw) // 4}f", raw)) if wire_type == _LENGTH \
            else [struct.unpack("<f", raw)[0]]
    if kind == _INT:
        if wire_type == _LENGTH:  # packed varints
            out, i = [], 0
            while i < len(raw):
                n, i = _read_varint(raw, i)
                out.append(n - (1 << 64) if n >> 63 else n)
            return out
        return [raw - (1 << 64) if raw >> 63 else raw]
    if kind == _STR:
        return [raw.decode("utf-8")]
    return [bytes(raw)]


def _parse(data: bytes, schema: Mapping[int, tuple[Any, ...]]) -> dict[str, Any]:
    """A message as a dict of the fields it holds (repeated fields as lists); unknown fields
    are skipped, as protobuf does."""
    out: dict[str, Any] = {}
    for field, wire_type, raw in _fields(data):
        if field not in schema:
            continue
        name, kind, *sub = schema[field]
        repeated = isinstance(kind, list)
        kind = kind[0] if repeated else kind
        values = [_parse(raw, sub[0])] if kind == _MSG else _scalar(kind, wire_type, raw)
        if repeated:
            out.setdefault(name, []).extend(values)
        else:
            out[name] = values[-1]  # the last occurrence wins
    return out


def parse_event(data: bytes) -> dict[str, Any]:
    """One record's ``Event`` as nested dicts: ``{"wall_time": ..., "step": ..., "summary":
    {"value": [{"tag": ..., "simple_value": ...}]}}``; fields at their default are absent."""
    return _parse(data, _EVENT)


# ----------------------------------------------------------------------------------------------
# Reading


class CorruptRecordError(ValueError):
    """An event file whose bytes do not check out: a CRC mismatch or a truncated record."""


class Histogram(NamedTuple):
    min: float
    max: float
    num: float
    sum: float
    sum_squares: float
    bucket_limit: list[float]
    bucket: list[float]


class Image(NamedTuple):
    height: int
    width: int
    colorspace: int
    encoded_image_string: bytes  # PNG


class Event(NamedTuple):
    """One value of one summary. ``value`` is a float for a scalar, a ``Histogram``, a str for
    ``add_text``, an ``Image``, the decoded plugin data (a dict) for ``add_hparams``' records,
    and the ``TensorProto`` as a dict for any other tensor."""

    wall_time: float
    step: int
    tag: str
    value: Any


def read_records(path: str | os.PathLike[str]) -> Iterator[bytes]:
    """The data of each record of one event file, its two CRCs checked
    (``CorruptRecordError`` on a mismatch or a truncated record)."""
    with open(path, "rb") as f:
        while header := f.read(12):
            if len(header) < 12:
                raise CorruptRecordError(f"{path}: truncated record header")
            length_bytes, length_crc = header[:8], struct.unpack("<I", header[8:])[0]
            if masked_crc32c(length_bytes) != length_crc:
                raise CorruptRecordError(f"{path}: the CRC of a record's length does not match")
            (length,) = struct.unpack("<Q", length_bytes)
            data, footer = f.read(length), f.read(4)
            if len(data) < length or len(footer) < 4:
                raise CorruptRecordError(f"{path}: truncated record")
            if masked_crc32c(data) != struct.unpack("<I", footer)[0]:
                raise CorruptRecordError(f"{path}: the CRC of a record's data does not match")
            yield data


def _event_files(path: str | os.PathLike[str]) -> list[str]:
    path = os.fspath(path)
    if not os.path.isdir(path):
        return [path]
    return sorted(os.path.join(path, name) for name in os.listdir(path)
                  if name.startswith("events.out.tfevents.")
                  and os.path.isfile(os.path.join(path, name)))


def _decode_value(value: dict[str, Any]) -> Any:
    if "histo" in value:
        h = value["histo"]
        return Histogram(h.get("min", 0.0), h.get("max", 0.0), h.get("num", 0.0),
                         h.get("sum", 0.0), h.get("sum_squares", 0.0),
                         h.get("bucket_limit", []), h.get("bucket", []))
    if "image" in value:
        im = value["image"]
        return Image(im.get("height", 0), im.get("width", 0), im.get("colorspace", 0),
                     im.get("encoded_image_string", b""))
    plugin = value.get("metadata", {}).get("plugin_data", {})
    if plugin.get("plugin_name") == "hparams":
        return _parse(plugin.get("content", b""), _HPARAMS)
    if "tensor" in value:
        t = value["tensor"]
        if plugin.get("plugin_name") == "text" or t.get("dtype") == _DT_STRING:
            strings = [s.decode("utf-8") for s in t.get("string_val", [])]
            return strings[0] if len(strings) == 1 else strings
        numbers = t.get("float_val") or t.get("double_val")
        if plugin.get("plugin_name") == "scalars" and numbers:
            return numbers[0]
        return t
    return value.get("simple_value", 0.0)


def read_events(path: str | os.PathLike[str]) -> Iterator[Event]:
    """Every value logged in an event file, or in the event files directly inside a directory
    (in name order: their names start with the time they were made; a sub-writer's directory,
    as ``add_scalars`` makes, is read on its own): ``Event(wall_time, step, tag, value)``. Every
    record's CRCs are checked. Events without a summary (the file-version header, a session
    log) are skipped; ``parse_event(record)`` over ``read_records(file)`` shows everything."""
    for file in _event_files(path):
        for data in read_records(file):
            event = parse_event(data)
            for value in event.get("summary", {}).get("value", []):
                yield Event(event.get("wall_time", 0.0), event.get("step", 0),
                            value.get("tag", ""), _decode_value(value))


# ----------------------------------------------------------------------------------------------
# Values: histograms as PyTorch bins them, images as PNG


def _as_numpy(x: Any) -> np.ndarray:
    """A tinygrad_rnn tensor (any device), a PyTorch tensor, a NumPy array or a number."""
    if hasattr(x, "detach"):  # a tensor of ours or of PyTorch's: its values, off the graph
        x = x.detach()
        x = x.cpu() if hasattr(x, "cpu") else x
        return np.asarray(x.numpy())
    return np.asarray(x)


def _scalar_value(x: Any) -> float:
    a = _as_numpy(x).squeeze()
    if a.ndim != 0:
        raise ValueError(f"a scalar must hold one value; this one has shape {a.shape}")
    return float(a)


def _tensorflow_bins() -> list[float]:
    """TensorBoard's default bucket edges: ±1e-12 · 1.1^k up to 1e20, and 0."""
    v, edges = 1e-12, []
    while v < 1e20:
        edges.append(v)
        v *= 1.1
    return [-e for e in reversed(edges)] + [0.0] + edges


def _histogram(values: np.ndarray, bins: Any, max_bins: int | None = None) -> bytes:
    """A ``HistogramProto`` of ``values``, bucketed by ``numpy.histogram(values, bins)``.

    As PyTorch's: with more than ``max_bins`` buckets, runs of ``len // max_bins`` neighbours
    are merged; then the empty buckets at both ends are dropped, but for one empty bucket
    kept to the left, since TensorBoard reads only each bucket's right edge."""
    values = values.astype(float).reshape(-1)
    if values.size == 0:
        raise ValueError("add_histogram: the values are empty")
    counts, limits = np.histogram(values, bins=bins)
    n = len(counts)
    if max_bins is not None and n > max_bins:
        k = n // max_bins
        if n % k:
            counts = np.pad(counts, [(0, k - n % k)])
        counts = counts.reshape(-1, k).sum(axis=-1)
        limits = np.concatenate([limits[:-1:k], limits[-1:]])
    nonzero = np.flatnonzero(counts)
    if nonzero.size == 0:
        raise ValueError("add_histogram: no value falls in any bucket")
    start, end = int(nonzero[0]), int(nonzero[-1]) + 1
    counts = counts[start - 1:end] if start > 0 else np.concatenate([[0], counts[:end]])
    limits = limits[start:end + 1]
    return _histogram_proto(values.min(), values.max(), len(values), values.sum(),
                            values.dot(values), limits.tolist(), counts.tolist())


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return (struct.pack(">I", len(data)) + kind + data
            + struct.pack(">I", zlib.crc32(kind + data)))


def encode_png(pixels: np.ndarray) -> bytes:
    """A PNG of an (H, W, C) uint8 image, C = 1 (gray), 3 (RGB) or 4 (RGBA): the signature,
    an IHDR chunk (size, 8 bits per sample, colour type), one IDAT chunk (the zlib-compressed
    rows, each after a 0 byte: filter "none") and IEND."""
    height, width, channels = pixels.shape
    color_type = {1: 0, 3: 2, 4: 6}[channels]
    rows = np.concatenate([np.zeros((height, 1), np.uint8),
                           np.ascontiguousarray(pixels, np.uint8).reshape(height, -1)], axis=1)
    return (b"\x89PNG\r\n\x1a\n"
            + _png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, color_type, 0, 0, 0))
            + _png_chunk(b"IDAT", zlib.compress(rows.tobytes(), 6))
            + _png_chunk(b"IEND", b""))


def _grid(images: np.ndarray, ncols: int = 8) -> np.ndarray:
    """(N, C, H, W) images, C = 1 or 3, tiled rows-first into one (3, H·rows, W·cols)."""
    if images.shape[1] == 1:
        images = np.concatenate([images] * 3, axis=1)
    if images.ndim != 4 or images.shape[1] != 3:
        raise ValueError("add_images: images need 1 or 3 channels")
    n, _, h, w = images.shape
    ncols = min(n, ncols)
    nrows = -(-n // ncols)
    canvas = np.zeros((3, h * nrows, w * ncols), dtype=images.dtype)
    for i, image in enumerate(images):
        y, x = divmod(i, ncols)
        canvas[:, y * h:(y + 1) * h, x * w:(x + 1) * w] = image
    return canvas


def _to_hwc(a: np.ndarray, dataformats: str) -> np.ndarray:
    """An image as (H, W, 3 or 4): a batch tiled into a grid, gray made RGB, as PyTorch's."""
    fmt = dataformats.upper()
    if len(set(fmt)) != len(fmt) or a.ndim != len(fmt):
        raise ValueError(f"dataformats {dataformats!r} does not fit an array of shape {a.shape}")
    if len(fmt) == 4:
        return _grid(a.transpose([fmt.find(c) for c in "NCHW"])).transpose(1, 2, 0)
    if len(fmt) == 3:
        a = a.transpose([fmt.find(c) for c in "HWC"])
        return np.concatenate([a] * 3, axis=2) if a.shape[2] == 1 else a
    if len(fmt) == 2:
        return np.stack([a.transpose([fmt.find(c) for c in "HW"])] * 3, axis=2)
    raise ValueError(f"dataformats {dataformats!r}: need 2, 3 or 4 of N, C, H, W")


def _image(img: Any, dataformats: str) -> bytes:
    a = _to_hwc(_as_numpy(img), dataformats)
    scale = 1 if a.dtype == np.uint8 else 255  # floats are in [0, 1]
    a = (a.astype(np.float32) * scale).clip(0, 255).astype(np.uint8)
    height, width, channels = a.shape
    return _image_proto(height, width, channels, encode_png(a))


# ----------------------------------------------------------------------------------------------
# Writing

_file_counter = itertools.count()  # the last part of an event file's name, as TensorBoard's


def _write_out(file: BinaryIO, pending: list[bytes], close: bool = False) -> None:
    if not file.closed:
        file.write(b"".join(pending))
        file.flush()
        if close:
            file.close()
    pending.clear()


class _EventFile:
    """One event file: ``events.out.tfevents.<time>.<host>.<pid>.<n><suffix>`` in ``log_dir``.

    No background thread: records wait in memory and reach the file when ``max_queue`` of
    them wait, at the first record after ``flush_secs``, at ``flush()``/``close()``, or when
    the writer is garbage-collected or the interpreter exits."""

    def __init__(self, log_dir: str, max_queue: int = 10, flush_secs: float = 120,
                 filename_suffix: str = "") -> None:
        self.log_dir = log_dir
        os.makedirs(log_dir, exist_ok=True)
        name = (f"events.out.tfevents.{int(time.time()):010d}.{socket.gethostname()}."
                f"{os.getpid()}.{next(_file_counter)}")
        self.path = os.path.join(log_dir, name) + filename_suffix
        self.max_queue, self.flush_secs = max_queue, flush_secs
        self._file = open(self.path, "wb")  # closed by close() or, failing that, the finalizer
        self._pending: list[bytes] = []
        self._closer = weakref.finalize(self, _write_out, self._file, self._pending, True)
        self._last_flush = time.time()
        self.add_event(_event(time.time(), file_version="brain.Event:2",
                              source_writer=_WRITER_NAME))
        self.flush()

    def get_logdir(self) -> str:
        return self.log_dir

    def add_event(self, event: bytes) -> None:
        """Queue one serialized ``Event``."""
        if self._file.closed:
            raise ValueError(f"{self.path} is closed")
        self._pending.append(_record(event))
        if len(self._pending) >= self.max_queue or time.time() - self._last_flush > self.flush_secs:
            self.flush()

    def add_summary(self, summary: bytes, global_step: int | None = None,
                    walltime: float | None = None) -> None:
        """Queue a serialized ``Summary`` as an event at ``global_step``."""
        wall_time = time.time() if walltime is None else walltime
        step = None if global_step is None else int(global_step)
        self.add_event(_event(wall_time, step, summary=summary))

    def flush(self) -> None:
        _write_out(self._file, self._pending)
        self._last_flush = time.time()

    def close(self) -> None:
        self._closer()


class SummaryWriter:
    """Logs scalars, histograms, text, images and hyper-parameters for TensorBoard, as
    ``torch.utils.tensorboard.SummaryWriter``: the same files, the same methods.

    ``log_dir`` defaults to ``runs/<Mon><DD>_<HH>-<MM>-<SS>_<hostname><comment>``. With
    ``purge_step``, the file starts with a session restart at that step, so TensorBoard hides
    the events at and after it from earlier files of a crashed run. Values may be tensors of
    ours (on any device) or of PyTorch's, NumPy arrays, or Python numbers. After ``close()``,
    logging again starts a new file, as PyTorch's writer does."""

    def __init__(self, log_dir: str | os.PathLike[str] | None = None, comment: str = "",
                 purge_step: int | None = None, max_queue: int = 10, flush_secs: float = 120,
                 filename_suffix: str = "") -> None:
        if not log_dir:
            stamp = datetime.now().strftime("%b%d_%H-%M-%S")
            log_dir = os.path.join("runs", f"{stamp}_{socket.gethostname()}{comment}")
        self.log_dir = log_dir
        self.purge_step = purge_step
        self.max_queue, self.flush_secs, self.filename_suffix = max_queue, flush_secs, \
            filename_suffix
        self.default_bins = _tensorflow_bins()
        self.file_writer: _EventFile | None = None
        self.all_writers: dict[str, _EventFile] | None = None
        self._get_file_writer()

    def _get_file_writer(self) -> _EventFile:
        if self.file_writer is None or self.all_writers is None:
            self.file_writer = _EventFile(os.fspath(self.log_dir), self.max_queue,
                                          self.flush_secs, self.filename_suffix)
            self.all_writers = {self.file_writer.get_logdir(): self.file_writer}
            if self.purge_step is not None:
                step, self.purge_step = self.purge_step, None
                self.file_writer.add_event(_event(time.time(), step,
                                                  file_version="brain.Event:2"))
                self.file_writer.add_event(_event(time.time(), step,
                                                  session_log_status=_SESSION_START))
        return self.file_writer

    def get_logdir(self) -> str | os.PathLike[str]:
        """The directory the event files go to."""
        return self.log_dir

    def add_scalar(self, tag: str, scalar_value: Any, global_step: int | None = None,
                   walltime: float | None = None, new_style: bool = False,
                   double_precision: bool = False) -> None:
        """One number (stored as a float32 ``simple_value``; with ``new_style``, as a one-element
        tensor for the scalars plugin, a float64 one with ``double_precision``)."""
        value = _scalar_value(scalar_value)
        if not new_style:
            summary = _summary(_value(tag, simple_value=value))
        else:
            tensor = (_tensor_proto(_DT_DOUBLE, double_val=[value]) if double_precision
                      else _tensor_proto(_DT_FLOAT, float_val=[value]))
            summary = _summary(_value(tag, tensor=tensor, metadata=_plugin_metadata("scalars")))
        self._get_file_writer().add_summary(summary, global_step, walltime)

    def add_scalars(self, main_tag: str, tag_scalar_dict: Mapping[str, Any],
                    global_step: int | None = None, walltime: float | None = None) -> None:
        """Several numbers on one chart: each goes, under the tag ``main_tag``, to its own file
        in the sub-directory ``<log_dir>/<main_tag with "/" as "_">_<key>``."""
        walltime = time.time() if walltime is None else walltime
        log_dir = self._get_file_writer().get_logdir()
        assert self.all_writers is not None
        for tag, value in tag_scalar_dict.items():
            sub_dir = log_dir + "/" + main_tag.replace("/", "_") + "_" + tag
            if sub_dir not in self.all_writers:
                self.all_writers[sub_dir] = _EventFile(sub_dir, self.max_queue, self.flush_secs,
                                                       self.filename_suffix)
            summary = _summary(_value(main_tag, simple_value=_scalar_value(value)))
            self.all_writers[sub_dir].add_summary(summary, global_step, walltime)

    def add_histogram(self, tag: str, values: Any, global_step: int | None = None,
                      bins: Any = "tensorflow", walltime: float | None = None,
                      max_bins: int | None = None) -> None:
        """A histogram of ``values``. ``bins="tensorflow"`` is TensorBoard's exponential
        buckets (``self.default_bins``); anything else goes to ``numpy.histogram`` ("auto",
        "fd", a count, or the edges)."""
        if isinstance(bins, str) and bins == "tensorflow":
            bins = self.default_bins
        histo = _histogram(_as_numpy(values), bins, max_bins)
        self._get_file_writer().add_summary(_summary(_value(tag, histo=histo)), global_step,
                                            walltime)

    def add_histogram_raw(self, tag: str, min: float, max: float, num: int, sum: float,
                          sum_squares: float, bucket_limits: Any, bucket_counts: Any,
                          global_step: int | None = None, walltime: float | None = None) -> None:
        """A histogram already counted: ``bucket_counts[i]`` values up to ``bucket_limits[i]``."""
        limits = _as_numpy(bucket_limits).reshape(-1)
        counts = _as_numpy(bucket_counts).reshape(-1)
        if len(limits) != len(counts):
            raise ValueError("add_histogram_raw: bucket_limits and bucket_counts differ in length")
        histo = _histogram_proto(min, max, num, sum, sum_squares, limits.tolist(),
                                 counts.tolist())
        self._get_file_writer().add_summary(_summary(_value(tag, histo=histo)), global_step,
                                            walltime)

    def add_text(self, tag: str, text_string: str, global_step: int | None = None,
                 walltime: float | None = None) -> None:
        """Text (Markdown) for the text plugin, under the tag ``<tag>/text_summary``."""
        tensor = _tensor_proto(_DT_STRING, string_val=[text_string.encode("utf-8")], shape=(1,))
        summary = _summary(_value(tag + "/text_summary", tensor=tensor,
                                  metadata=_plugin_metadata("text")))
        self._get_file_writer().add_summary(summary, global_step, walltime)

    def add_image(self, tag: str, img_tensor: Any, global_step: int | None = None,
                  walltime: float | None = None, dataformats: str = "CHW") -> None:
        """An image as a PNG: (C, H, W) by default (``dataformats`` "HWC", "HW" too), C = 1, 3
        or 4; floats in [0, 1], uint8 in [0, 255]."""
        summary = _summary(_value(tag, image=_image(img_tensor, dataformats)))
        self._get_file_writer().add_summary(summary, global_step, walltime)

    def add_images(self, tag: str, img_tensor: Any, global_step: int | None = None,
                   walltime: float | None = None, dataformats: str = "NCHW") -> None:
        """A batch of images, tiled 8 to a row into one PNG."""
        summary = _summary(_value(tag, image=_image(img_tensor, dataformats)))
        self._get_file_writer().add_summary(summary, global_step, walltime)

    def add_hparams(self, hparam_dict: dict[str, Any], metric_dict: dict[str, Any],
                    hparam_domain_discrete: dict[str, list[Any]] | None = None,
                    run_name: str | None = None, global_step: int | None = None) -> None:
        """A run's hyper-parameters and its final metrics, for the HParams dashboard. As
        PyTorch's, it writes to a new run ``<log_dir>/<run_name>`` (default: the time now):
        the experiment, the session start (the values) and end, then each metric as a scalar.
        Values may be numbers (bools count as numbers, as in PyTorch), strings, None (left out)
        or one-element tensors."""
        if type(hparam_dict) is not dict or type(metric_dict) is not dict:
            raise TypeError("hparam_dict and metric_dict should be dictionaries")
        experiment, start, end = _hparams(hparam_dict, metric_dict, hparam_domain_discrete)
        run_dir = os.path.join(self._get_file_writer().get_logdir(), run_name or str(time.time()))
        with SummaryWriter(log_dir=run_dir) as run:
            for summary in (experiment, start, end):
                run._get_file_writer().add_summary(summary, global_step)
            for k, v in metric_dict.items():
                run.add_scalar(k, v, global_step)

    def flush(self) -> None:
        """Write every waiting event to disk."""
        for writer in (self.all_writers or {}).values():
            writer.flush()

    def close(self) -> None:
        """Write every waiting event and close the files."""
        for writer in (self.all_writers or {}).values():
            writer.close()
        self.file_writer = self.all_writers = None

    def __enter__(self) -> SummaryWriter:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def _struct_value(v: Any) -> bytes:
    """A ``google.protobuf.Value``: ``string_value`` (3) for a str, else ``number_value`` (2).
    Both are members of a oneof, so they are written even when "" or 0."""
    return _string(3, v, keep_empty=True) if isinstance(v, str) else _double(2, v, keep_zero=True)


def _hparams(hparam_dict: dict[str, Any], metric_dict: dict[str, Any],
             domains: dict[str, list[Any]] | None) -> tuple[bytes, bytes, bytes]:
    """The three summaries of ``add_hparams``: experiment, session start, session end, each a
    value tagged ``_hparams_/...`` whose plugin data is an ``HParamsPluginData`` (version 0)."""
    domains = domains or {}
    if not isinstance(domains, dict):
        raise TypeError("hparam_domain_discrete should be a dictionary")
    for k, v in domains.items():
        if k not in hparam_dict or not isinstance(v, list) \
                or not all(isinstance(d, type(hparam_dict[k])) for d in v):
            raise TypeError(f"hparam_domain_discrete[{k!r}] should be a list of values of the "
                            f"type of hparam_dict[{k!r}]")

    infos, entries = [], []
    for k, v in hparam_dict.items():
        if v is None:
            continue
        if not isinstance(v, (str, int, float, np.integer, np.floating, np.bool_)):
            if not hasattr(v, "detach") and not isinstance(v, np.ndarray):
                raise ValueError("hparam values should be int, float, str, bool or a tensor")
            v = float(_as_numpy(v).reshape(-1)[0])
        entry = _string(1, k, keep_empty=True) + _message(2, _struct_value(v))
        entries.append(_message(1, entry))
        data_type = _DATA_TYPE_STRING if isinstance(v, str) else _DATA_TYPE_FLOAT64
        info = _string(1, k) + _int(4, data_type)
        if k in domains:
            info += _message(5, b"".join(_message(1, _struct_value(d)) for d in domains[k]))
        infos.append(info)

    metrics = [_message(1, _string(2, k)) for k in metric_dict]
    experiment = b"".join(_message(4, i) for i in infos) + b"".join(_message(5, m)
                                                                   for m in metrics)

    def summary(tag: str, plugin_data: bytes) -> bytes:
        return _summary(_value(tag, metadata=_plugin_metadata("hparams", plugin_data)))

    return (summary("_hparams_/experiment", _message(2, experiment)),
            summary("_hparams_/session_start_info", _message(3, b"".join(entries))),
            summary("_hparams_/session_end_info", _message(4, _int(1, _STATUS_SUCCESS))))
