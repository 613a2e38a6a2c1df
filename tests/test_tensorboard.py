"""tr.utils.tensorboard: the bytes by hand (CRC32C test vectors, varints, one event record written
out field by field, histogram buckets, PNG), our reader round-trips everything the writer
writes and catches corruption; and, where the ``tensorboard`` package is installed, the same
calls through PyTorch's SummaryWriter give the same records, bit for bit, and TensorBoard's
own EventAccumulator reads our files."""

from __future__ import annotations

import glob
import io
import os
import re
import socket
import struct
import subprocess
import sys
import zlib

import numpy as np
import pytest

import tinygrad_rnn as tr
from tinygrad_rnn.utils import tensorboard as tb
from tinygrad_rnn.utils.tensorboard import (
    CorruptRecordError,
    Histogram,
    SummaryWriter,
    crc32c,
    masked_crc32c,
    parse_event,
    read_events,
    read_records,
)


def _event_file(log_dir) -> str:
    (path,) = glob.glob(os.path.join(log_dir, "events.out.tfevents.*"))
    return path


def _decode_png(png: bytes) -> np.ndarray:
    """Our PNGs back to pixels: chunks checked, IDAT inflated, each row's filter byte 0."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    i, chunks = 8, {}
    while i < len(png):
        (n,) = struct.unpack(">I", png[i:i + 4])
        kind, data = png[i + 4:i + 8], png[i + 8:i + 8 + n]
        assert struct.unpack(">I", png[i + 8 + n:i + 12 + n])[0] == zlib.crc32(kind + data)
        chunks[kind], i = data, i + 12 + n
    width, height, depth, color_type = struct.unpack(">IIBB", chunks[b"IHDR"][:10])
    assert depth == 8 and b"IEND" in chunks
    channels = {0: 1, 2: 3, 6: 4}[color_type]
    rows = np.frombuffer(zlib.decompress(chunks[b"IDAT"]), np.uint8).reshape(height, -1)
    assert (rows[:, 0] == 0).all()
    return rows[:, 1:].reshape(height, width, channels)


# --- the bytes, by hand -----------------------------------------------------------------------


def test_crc32c_matches_known_vectors():
    assert crc32c(b"123456789") == 0xE3069283
    assert crc32c(b"") == 0
    # RFC 3720 (iSCSI), appendix B.4
    assert crc32c(bytes(32)) == 0x8A9136AA
    assert crc32c(b"\xff" * 32) == 0x62A8AB43
    assert crc32c(bytes(range(32))) == 0x46DD794E
    assert crc32c(b"56789", crc32c(b"1234")) == 0xE3069283  # it continues


def test_masked_crc32c_rotates_and_adds():
    c = 0xE3069283  # rotated right by 15: 0x2507C60D; plus 0xA282EAD8 (mod 2^32)
    assert ((c >> 15) | (c << 17)) & 0xFFFFFFFF == 0x2507C60D
    assert masked_crc32c(b"123456789") == 0xC78AB0E5 == (0x2507C60D + 0xA282EAD8) % 2**32


def test_varint_encoding():
    assert tb._varint(0) == b"\x00"
    assert tb._varint(1) == b"\x01"
    assert tb._varint(300) == b"\xac\x02"  # the protobuf documentation's example
    assert tb._varint(-1) == b"\xff" * 9 + b"\x01"  # int64: two's complement, 10 bytes


def test_scalar_record_written_field_by_field(tmp_path):
    with SummaryWriter(tmp_path) as w:
        w.add_scalar("loss", 0.5, global_step=3, walltime=2.0)
    with open(_event_file(tmp_path), "rb") as f:
        raw = f.read()
    # the record after the header: (length, masked CRC of the length, data, masked CRC of data)
    (n0,) = struct.unpack("<Q", raw[:8])
    raw = raw[8 + 4 + n0 + 4:]
    value = b"\x0a\x04loss" + b"\x15" + struct.pack("<f", 0.5)  # tag 1, simple_value 2 (float)
    summary = b"\x0a" + bytes([len(value)]) + value  # Summary.value 1
    event = (b"\x09" + struct.pack("<d", 2.0)  # wall_time 1 (double)
             + b"\x10\x03"  # step 2 (varint)
             + b"\x2a" + bytes([len(summary)]) + summary)  # summary 5 (message)
    header = struct.pack("<Q", len(event))
    assert raw == (header + struct.pack("<I", masked_crc32c(header)) + event
                   + struct.pack("<I", masked_crc32c(event)))


def test_zero_values_are_written(tmp_path):
    """simple_value is in a oneof: 0.0 is written, so a reader sees a scalar, not nothing."""
    with SummaryWriter(tmp_path) as w:
        w.add_scalar("zero", 0.0, 0, walltime=1.0)
    record = list(read_records(_event_file(tmp_path)))[1]
    assert record.endswith(b"\x15" + bytes(4))
    assert parse_event(record) == {"wall_time": 1.0,
                                   "summary": {"value": [{"tag": "zero", "simple_value": 0.0}]}}


def test_first_event_and_file_name(tmp_path):
    with SummaryWriter(tmp_path, filename_suffix=".v1") as w:
        path = w.file_writer.path
    name = os.path.basename(path)
    pattern = (rf"events\.out\.tfevents\.\d{{10}}\.{re.escape(socket.gethostname())}"
               rf"\.{os.getpid()}\.\d+\.v1")
    assert re.fullmatch(pattern, name)
    first = parse_event(next(read_records(path)))
    assert first["file_version"] == "brain.Event:2"
    assert first["source_metadata"] == {"writer": "tinygrad_rnn.utils.tensorboard"}
    assert "step" not in first and first["wall_time"] > 1e9


def test_default_log_dir_as_torch(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with SummaryWriter(comment="_lr0.1") as w:
        log_dir = w.get_logdir()
    host = re.escape(socket.gethostname())
    assert re.fullmatch(rf"runs/[A-Z][a-z]{{2}}\d\d_\d\d-\d\d-\d\d_{host}_lr0\.1", log_dir)
    assert len(glob.glob(os.path.join(log_dir, "events.out.tfevents.*"))) == 1


def _histogram(values, bins="tensorflow", max_bins=None, tmp=None):
    with SummaryWriter(tmp) as w:
        w.add_histogram("h", values, 1, bins=bins, max_bins=max_bins, walltime=1.0)
    (event,) = read_events(tmp)
    return event.value


def test_histogram_buckets_by_hand(tmp_path):
    h = _histogram(np.array([0.5, 1.5, 1.5, 3.0]), bins=[0, 1, 2, 3, 4], tmp=tmp_path / "a")
    # the first bucket is occupied, so an empty one goes before it: TensorBoard reads only
    # each bucket's right edge
    assert h == Histogram(0.5, 3.0, 4.0, 6.5, 13.75, [0.0, 1.0, 2.0, 3.0, 4.0],
                          [0.0, 1.0, 2.0, 0.0, 1.0])
    h = _histogram(np.array([2.5]), bins=[0, 1, 2, 3, 4], tmp=tmp_path / "b")
    # empty buckets at both ends dropped, but for the one left of the first occupied one
    assert (h.bucket_limit, h.bucket) == ([2.0, 3.0], [0.0, 1.0])
    h = _histogram(np.array([0.5, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5]), bins=np.arange(8.0),
                   max_bins=3, tmp=tmp_path / "c")
    # 7 buckets, at most 3: pairs merged (7 // 3 = 2), the last alone
    assert (h.bucket_limit, h.bucket) == ([0.0, 2.0, 4.0, 6.0, 7.0], [0.0, 2.0, 2.0, 2.0, 1.0])


def test_histogram_tensorflow_bins(tmp_path):
    with SummaryWriter(tmp_path / "w") as w:
        edges = w.default_bins
    assert edges[len(edges) // 2] == 0.0 and edges[:3] == [-e for e in edges[-1:-4:-1]]
    assert edges[-1] < 1e20 <= edges[-1] * 1.1 and edges[len(edges) // 2 + 1] == 1e-12
    h = _histogram(tr.tensor([1.0, 1.0, -2.0]), tmp=tmp_path / "h")
    assert (h.min, h.max, h.num, h.sum, h.sum_squares) == (-2.0, 1.0, 3.0, 0.0, 6.0)
    # numpy.histogram's bucket k is [edges[k], edges[k + 1]); the limits run from the left edge
    # of -2's bucket (the right edge of the empty bucket kept before it) to 1's right edge
    i = int(np.searchsorted(edges, -2.0, side="right")) - 1
    j = int(np.searchsorted(edges, 1.0, side="right")) - 1
    assert edges[i] <= -2.0 < edges[i + 1] and edges[j] <= 1.0 < edges[j + 1]
    assert h.bucket_limit == edges[i:j + 2]
    assert h.bucket[1] == 1.0 and h.bucket[-1] == 2.0 and sum(h.bucket) == 3.0


def test_histogram_numpy_bin_specs(tmp_path):
    values = np.random.default_rng(0).standard_normal(500)
    for i, bins in enumerate(["auto", "fd", 7, np.linspace(-4, 4, 9)]):
        h = _histogram(values, bins=bins, tmp=tmp_path / str(i))
        counts, limits = np.histogram(values, bins=bins)
        nz = np.flatnonzero(counts)
        assert h.bucket_limit == limits[nz[0]:nz[-1] + 2].tolist()
        assert sum(h.bucket) == 500 and h.bucket[1:] == counts[nz[0]:nz[-1] + 1].tolist()


def test_png_encoder(tmp_path):
    rng = np.random.default_rng(0)
    for channels in (1, 3, 4):
        pixels = rng.integers(0, 256, (5, 7, channels), dtype=np.uint8)
        assert np.array_equal(_decode_png(tb.encode_png(pixels)), pixels)


def test_png_decodes_with_pillow():
    pil = pytest.importorskip("PIL.Image")  # an independent decoder, where Pillow is installed
    pixels = np.random.default_rng(0).integers(0, 256, (4, 6, 3), dtype=np.uint8)
    assert np.array_equal(np.asarray(pil.open(io.BytesIO(tb.encode_png(pixels)))), pixels)


def test_needs_neither_tensorboard_nor_protobuf(tmp_path):
    code = ("import sys, tinygrad_rnn as tr; w = tr.utils.tensorboard.SummaryWriter(sys.argv[1]); "
            "w.add_histogram('h', tr.randn(10)); w.close(); "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('tensorboard', 'google')))")
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True,
                         text=True, check=True).stdout
    assert out.strip() == "[]"


# --- the reader round-trips what the writer writes --------------------------------------------


def test_read_events_round_trips_everything(tmp_path):
    rng = np.random.default_rng(1)
    values = rng.standard_normal(200)
    image = rng.random((3, 4, 5)).astype(np.float32)
    with SummaryWriter(tmp_path) as w:
        w.add_scalar("s/python", 0.25, 0, walltime=10.0)
        w.add_scalar("s/numpy", np.float64(-1.5), 1, walltime=11.0)
        w.add_scalar("s/tensor", tr.tensor([[2.0]], requires_grad=True) * 3, 2, walltime=12.0)
        w.add_scalar("s/int", 7, 2**40, walltime=13.0)
        w.add_scalar("s/new", 0.1, 4, walltime=14.0, new_style=True)
        w.add_scalar("s/double", 0.1, 5, walltime=15.0, new_style=True, double_precision=True)
        w.add_histogram("h", tr.tensor(values), 6, walltime=16.0)
        w.add_text("note", "T = 20, *lr* = 1e-2 ✓", 7, walltime=17.0)
        w.add_image("img", image, 8, walltime=18.0)
        w.add_images("imgs", np.zeros((3, 1, 2, 2), np.uint8) + 9, 9, walltime=19.0)
        w.add_histogram_raw("raw", 0, 3, 4, 6, 14, [1.0, 2.0, 3.0], [1, 2, 1], 10, walltime=20.0)
    events = list(read_events(tmp_path))
    assert [(e.wall_time, e.step, e.tag) for e in events] == [
        (10.0, 0, "s/python"), (11.0, 1, "s/numpy"), (12.0, 2, "s/tensor"), (13.0, 2**40, "s/int"),
        (14.0, 4, "s/new"), (15.0, 5, "s/double"), (16.0, 6, "h"), (17.0, 7, "note/text_summary"),
        (18.0, 8, "img"), (19.0, 9, "imgs"), (20.0, 10, "raw")]
    assert [e.value for e in events[:6]] == [0.25, -1.5, 6.0, 7.0, float(np.float32(0.1)), 0.1]
    h = events[6].value
    assert (h.min, h.max, h.num) == (values.min(), values.max(), 200.0)
    assert h.sum == values.sum() and h.sum_squares == values.dot(values)
    assert events[7].value == "T = 20, *lr* = 1e-2 ✓"
    img = events[8].value
    assert (img.height, img.width, img.colorspace) == (4, 5, 3)
    expected = (image.transpose(1, 2, 0) * 255).clip(0, 255).astype(np.uint8)
    assert np.array_equal(_decode_png(img.encoded_image_string), expected)
    grid = events[9].value  # three 2x2 gray images side by side, as RGB
    assert (grid.height, grid.width, grid.colorspace) == (2, 6, 3)
    assert (_decode_png(grid.encoded_image_string) == 9).all()
    assert events[10].value == Histogram(0.0, 3.0, 4.0, 6.0, 14.0, [1.0, 2.0, 3.0],
                                         [1.0, 2.0, 1.0])


def test_add_scalars_writes_sub_directories(tmp_path):
    with SummaryWriter(tmp_path) as w:
        for step in range(3):
            w.add_scalars("loss/all", {"train": step, "test": -step}, step)
    assert sorted(os.listdir(tmp_path))[1:] == ["loss_all_test", "loss_all_train"]
    for sub, sign in (("loss_all_train", 1), ("loss_all_test", -1)):
        events = list(read_events(tmp_path / sub))
        assert [(e.step, e.tag, e.value) for e in events] == [
            (s, "loss/all", sign * s + 0.0) for s in range(3)]
    assert list(read_events(tmp_path)) == []  # the main file has only its header


def test_add_hparams_round_trips(tmp_path):
    with SummaryWriter(tmp_path) as w:
        w.add_hparams({"lr": 0.01, "cell": "lstm", "layers": 2, "none": None},
                      {"hparam/mse": 0.02}, {"cell": ["lstm", "gru"]}, run_name="run1")
    events = list(read_events(tmp_path / "run1"))
    assert [e.tag for e in events] == ["_hparams_/experiment", "_hparams_/session_start_info",
                                       "_hparams_/session_end_info", "hparam/mse"]
    assert events[0].value == {"experiment": {
        "hparam_infos": [
            {"name": "lr", "type": 3},
            {"name": "cell", "type": 1, "domain_discrete": {
                "values": [{"string_value": "lstm"}, {"string_value": "gru"}]}},
            {"name": "layers", "type": 3}],
        "metric_infos": [{"name": {"tag": "hparam/mse"}}]}}
    assert events[1].value == {"session_start_info": {"hparams": [
        {"key": "lr", "value": {"number_value": 0.01}},
        {"key": "cell", "value": {"string_value": "lstm"}},
        {"key": "layers", "value": {"number_value": 2.0}}]}}
    assert events[2].value == {"session_end_info": {"status": 1}}
    assert events[3].value == float(np.float32(0.02))
    with pytest.raises(TypeError):
        SummaryWriter(tmp_path).add_hparams([("lr", 1)], {})


def test_purge_step(tmp_path):
    with SummaryWriter(tmp_path, purge_step=5) as w:
        w.add_scalar("x", 1.0, 5)
    records = [parse_event(r) for r in read_records(_event_file(tmp_path))]
    assert records[1]["step"] == 5 and records[1]["file_version"] == "brain.Event:2"
    assert records[2]["step"] == 5 and records[2]["session_log"] == {"status": 1}  # START
    assert [(e.step, e.value) for e in read_events(tmp_path)] == [(5, 1.0)]


def test_corruption_is_detected(tmp_path):
    with SummaryWriter(tmp_path) as w:
        w.add_scalar("x", 1.0, 1)
    path = _event_file(tmp_path)
    with open(path, "rb") as f:
        good = f.read()
    (n0,) = struct.unpack("<Q", good[:8])
    second = 16 + n0  # where the second record starts
    cases = {"its length": second + 1, "the length's CRC": second + 9,
             "its data": second + 14, "the data's CRC": len(good) - 1}
    for where, i in cases.items():
        bad = bytearray(good)
        bad[i] ^= 0x01
        with open(path, "wb") as f:
            f.write(bytes(bad))
        with pytest.raises(CorruptRecordError, match="CRC"):
            list(read_events(path))
            pytest.fail(f"a flipped bit in {where} went unnoticed")
    with open(path, "wb") as f:
        f.write(good[:-3])
    with pytest.raises(CorruptRecordError, match="truncated"):
        list(read_events(path))


def test_events_wait_for_flush_and_close_reopens(tmp_path):
    w = SummaryWriter(tmp_path, max_queue=3)
    w.add_scalar("x", 1.0, 1)
    w.add_scalar("x", 2.0, 2)
    assert list(read_events(tmp_path)) == []  # two records waiting
    w.flush()
    assert [e.value for e in read_events(tmp_path)] == [1.0, 2.0]
    for step in range(3, 6):
        w.add_scalar("x", float(step), step)
    assert len(list(read_events(tmp_path))) == 5  # the queue of 3 filled and was written
    w.close()
    w.add_scalar("x", 6.0, 6)  # after close: a new file, as PyTorch's writer does
    w.close()
    assert len(glob.glob(str(tmp_path / "events.out.tfevents.*"))) == 2
    assert [e.step for e in read_events(tmp_path)] == [1, 2, 3, 4, 5, 6]


def test_flush_secs(tmp_path, monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr(tb.time, "time", lambda: clock[0])
    w = SummaryWriter(tmp_path, flush_secs=10)
    w.add_scalar("x", 1.0, 1)
    assert list(read_events(tmp_path)) == []
    clock[0] += 11
    w.add_scalar("x", 2.0, 2)  # the first record after flush_secs writes everything waiting
    assert [e.step for e in read_events(tmp_path)] == [1, 2]
    w.close()


def test_bad_values_are_refused(tmp_path):
    with SummaryWriter(tmp_path) as w:
        with pytest.raises(ValueError, match="one value"):
            w.add_scalar("x", np.ones(3))
        with pytest.raises(ValueError, match="empty"):
            w.add_histogram("h", np.array([]))
        with pytest.raises(ValueError, match="dataformats"):
            w.add_image("i", np.zeros((2, 2)), dataformats="CHW")


# --- against PyTorch's writer and TensorBoard's reader ----------------------------------------


def _log(writer_cls, log_dir, make):
    """The same calls, through either writer; ``make`` turns a NumPy array into its tensors."""
    rng = np.random.default_rng(0)
    values = rng.standard_normal(1000)
    with writer_cls(log_dir) as w:
        w.add_scalar("loss", make(np.float32(0.125)), 0, walltime=1.5)
        w.add_scalar("loss", 0.0, 1, walltime=2.5)
        w.add_scalar("loss", -0.0, -3, walltime=2.5)
        w.add_scalar("big", 1e300, 2, walltime=3.0)
        w.add_scalar("int", np.int64(7), 2**40, walltime=3.0)
        w.add_scalar("nan", float("nan"), 3, walltime=3.0)
        w.add_scalar("new", 2.0, 7, walltime=3.0, new_style=True)
        w.add_scalar("new", 0.0, 7, walltime=3.0, new_style=True, double_precision=True)
        w.add_histogram("h", make(values), 3, walltime=4.0)
        w.add_histogram("h/f32", make(values.astype(np.float32)), 3, walltime=4.0)
        w.add_histogram("h/abs", make(np.abs(values)), 3, walltime=4.0)
        w.add_histogram("h/one", make(np.array([0.0])), 3, walltime=4.0)
        w.add_histogram("h/auto", values, 3, bins="auto", walltime=4.0)
        w.add_histogram("h/fd", values, 3, bins="fd", walltime=4.0)
        w.add_histogram("h/10", values, 3, bins=10, walltime=4.0, max_bins=3)
        w.add_histogram("h/edges", values, 3, bins=[-1, 0, 0.5, 2], walltime=4.0)
        w.add_histogram("h/max", values, 3, walltime=4.0, max_bins=7)
        w.add_histogram_raw("raw", 0, 3, 4, 6, 14, [1.0, 2, 3], [1, 2, 1], 5, walltime=6.0)
        w.add_text("text", "héllo *world*", 4, walltime=5.0)
        w.add_text("text", "", 4, walltime=5.0)
        w.add_scalars("m/x", {"a": 1.0, "b": make(np.float32(2.0))}, 4, walltime=4.0)


@pytest.mark.torch
def test_records_equal_torchs_bit_for_bit(tmp_path):
    torch = pytest.importorskip("torch")
    pytest.importorskip("tensorboard")
    from torch.utils.tensorboard import SummaryWriter as TorchWriter

    _log(TorchWriter, tmp_path / "torch", torch.tensor)
    _log(SummaryWriter, tmp_path / "ours", tr.tensor)
    for sub in ("", "m_x_a", "m_x_b"):
        theirs = list(read_records(_event_file(tmp_path / "torch" / sub)))
        ours = list(read_records(_event_file(tmp_path / "ours" / sub)))
        assert len(ours) == len(theirs) > 1
        header_t, header_o = parse_event(theirs[0]), parse_event(ours[0])
        assert header_t["file_version"] == header_o["file_version"] == "brain.Event:2"
        for i, (t, o) in enumerate(zip(theirs[1:], ours[1:])):
            assert o == t, f"{sub} record {i + 1}: {parse_event(o)} != {parse_event(t)}"
    assert {n for n in os.listdir(tmp_path / "ours") if not n.startswith("events")} \
        == {n for n in os.listdir(tmp_path / "torch") if not n.startswith("events")}


@pytest.mark.torch
def test_records_parse_with_protobuf(tmp_path):
    """The official protobuf parser reads our records as the same messages as torch's."""
    torch = pytest.importorskip("torch")
    pytest.importorskip("tensorboard")
    from tensorboard.compat.proto.event_pb2 import Event
    from torch.utils.tensorboard import SummaryWriter as TorchWriter

    _log(TorchWriter, tmp_path / "torch", torch.tensor)
    _log(SummaryWriter, tmp_path / "ours", tr.tensor)
    theirs = [Event.FromString(r) for r in read_records(_event_file(tmp_path / "torch"))]
    ours = [Event.FromString(r) for r in read_records(_event_file(tmp_path / "ours"))]
    assert ours[0].source_metadata.writer == "tinygrad_rnn.utils.tensorboard"
    assert ours[1:] == theirs[1:]
    # and our reader gives the same from either file
    assert [repr(e) for e in read_events(tmp_path / "ours")] \
        == [repr(e) for e in read_events(tmp_path / "torch")]  # repr: NaN is one of the values


@pytest.mark.torch
def test_images_equal_torchs(tmp_path):
    """PNG bytes differ (Pillow compresses otherwise), the pixels and sizes do not."""
    pytest.importorskip("torch")
    pytest.importorskip("tensorboard")
    pil = pytest.importorskip("PIL.Image")
    from torch.utils.tensorboard import SummaryWriter as TorchWriter

    rng = np.random.default_rng(0)
    images = [(rng.random((3, 5, 7)).astype(np.float32), "CHW"),
              (rng.integers(0, 256, (4, 6, 4), dtype=np.uint8), "HWC"),
              (rng.random((4, 3)), "HW"), (rng.random((1, 4, 4)) * 1.5 - 0.2, "CHW")]
    batch = rng.random((10, 1, 3, 2)).astype(np.float32)
    for cls, sub in ((TorchWriter, "torch"), (SummaryWriter, "ours")):
        with cls(tmp_path / sub) as w:
            for i, (image, fmt) in enumerate(images):
                w.add_image(f"img{i}", image, i, walltime=1.0, dataformats=fmt)
            w.add_images("batch", batch, 9, walltime=2.0)
    theirs, ours = list(read_events(tmp_path / "torch")), list(read_events(tmp_path / "ours"))
    assert len(ours) == len(theirs) == 5
    for t, o in zip(theirs, ours):
        assert (t.wall_time, t.step, t.tag) == (o.wall_time, o.step, o.tag)
        assert (t.value.height, t.value.width, t.value.colorspace) \
            == (o.value.height, o.value.width, o.value.colorspace)
        pixels = np.asarray(pil.open(io.BytesIO(t.value.encoded_image_string)))
        assert np.array_equal(_decode_png(o.value.encoded_image_string), pixels)


@pytest.mark.torch
def test_hparams_equal_torchs(tmp_path):
    """The same messages; only the wall times and the order of the hparams map (protobuf's
    map order is its hash order) may differ."""
    pytest.importorskip("torch")
    pytest.importorskip("tensorboard")
    from torch.utils.tensorboard import SummaryWriter as TorchWriter

    for cls, sub in ((TorchWriter, "torch"), (SummaryWriter, "ours")):
        with cls(tmp_path / sub) as w:
            w.add_hparams({"lr": 0.1, "n": 3, "flag": True, "opt": "adam", "z": 0.0, "s": "",
                           "none": None}, {"hparam/loss": 0.5, "hparam/acc": 0.9},
                          {"opt": ["adam", "sgd"], "n": [1, 3]}, run_name="hp", global_step=3)
    theirs = [parse_event(r) for r in read_records(_event_file(tmp_path / "torch" / "hp"))]
    ours = [parse_event(r) for r in read_records(_event_file(tmp_path / "ours" / "hp"))]
    assert len(ours) == len(theirs) == 6
    for t, o in zip(theirs[1:], ours[1:]):
        t.pop("wall_time"), o.pop("wall_time")
        (tv,), (ov,) = t["summary"]["value"], o["summary"]["value"]
        if tv["tag"] == "_hparams_/session_start_info":
            tv, ov = (tb._decode_value(tv)["session_start_info"]["hparams"],
                      tb._decode_value(ov)["session_start_info"]["hparams"])
            assert sorted(tv, key=str) == sorted(ov, key=str)
        else:
            assert o == t


@pytest.mark.torch
def test_purge_step_equals_torchs(tmp_path):
    pytest.importorskip("torch")
    pytest.importorskip("tensorboard")
    from torch.utils.tensorboard import SummaryWriter as TorchWriter

    for cls, sub in ((TorchWriter, "torch"), (SummaryWriter, "ours")):
        with cls(tmp_path / sub, purge_step=4) as w:
            w.add_scalar("x", 1.0, 4, walltime=1.0)
    theirs = [parse_event(r) for r in read_records(_event_file(tmp_path / "torch"))]
    ours = [parse_event(r) for r in read_records(_event_file(tmp_path / "ours"))]
    for e in theirs + ours:
        e.pop("wall_time")
    assert ours[1:] == theirs[1:]


def test_tensorboard_reads_our_files(tmp_path):
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    values = np.random.default_rng(0).standard_normal(300)
    with SummaryWriter(tmp_path) as w:
        for step in range(5):
            w.add_scalar("loss", 1.0 / (step + 1), step, walltime=100.0 + step)
        w.add_histogram("weights", values, 4, walltime=105.0)
        w.add_text("note", "hello", 4)
        w.add_image("img", np.full((3, 2, 2), 0.5, np.float32), 4)
    acc = EventAccumulator(str(tmp_path), size_guidance={"scalars": 0, "histograms": 0})
    acc.Reload()
    tags = acc.Tags()
    assert tags["scalars"] == ["loss"] and tags["histograms"] == ["weights"]
    assert tags["images"] == ["img"] and tags["tensors"] == ["note/text_summary"]
    assert [(s.wall_time, s.step, s.value) for s in acc.Scalars("loss")] == [
        (100.0 + s, s, float(np.float32(1.0 / (s + 1)))) for s in range(5)]
    (h,) = acc.Histograms("weights")
    ours = next(e.value for e in read_events(tmp_path) if e.tag == "weights")
    hv = h.histogram_value
    assert h.step == 4 and (hv.min, hv.max, hv.num, hv.sum, hv.sum_squares) == ours[:5]
    assert list(hv.bucket_limit) == ours.bucket_limit and list(hv.bucket) == ours.bucket
    assert acc.Tensors("note/text_summary")[0].tensor_proto.string_val == [b"hello"]
    (img,) = acc.Images("img")
    assert (img.width, img.height) == (2, 2)
    assert (_decode_png(img.encoded_image_string) == 127).all()
