"""The CuPy kernels of the fused ops and the calls to them, checked on the CPU.

CI has no GPU, so the code that calls the CUDA kernels would otherwise run only where one is
lent. Two checks stand in:

- Each kernel's CUDA C body is compiled with the host's C++ compiler, in a loop laid out as
  CuPy lays out an ``ElementwiseKernel`` (one iteration per element ``i``; an elementwise
  parameter is a reference to its element, inputs const; a ``raw`` one is the whole array),
  and run against the NumPy step it mirrors, in float32 and float64, with its outputs written
  over its inputs as the fused loops do. Skipped where there is no compiler.
- Each kernel is replaced by a stand-in that checks every call the fused layers make as CuPy
  would take it: as many arguments as the kernel declares, ``raw`` arrays C-contiguous and
  shaped to the kernel's indexing, every ``T`` array of one dtype, the elementwise arrays of
  one shape, and no input that shares memory with an output unless it is the same array
  object (CuPy copies such an input before the launch: correct, but a copy and a launch more
  per step). The stand-in then runs the compiled kernel (or the NumPy step without a
  compiler), and the layers must give the same values and gradients as the NumPy path.
"""

from __future__ import annotations

import ctypes
import shutil
import subprocess

import numpy as np
import pytest

import tinygrad_rnn as tr
from tinygrad_rnn import nn
from tinygrad_rnn.ops import fused

# each kernel's arguments, in the kernel's order, handed to the NumPy step function
NUMPY_STEP = {
    "lstm_fwd": lambda xw, hw, c_prev, H, c, h, acts:
        fused.lstm_step(np, xw, hw, c_prev, acts, c, h),
    "lstm_bwd": lambda acts, c_prev, c, dh_next, gy, dc, H, dgates, dc_prev:
        fused.lstm_step_backward(np, acts, c_prev, c, dh_next, gy, dc, dgates, dc_prev),
    "gru_fwd": lambda gi, gh, b_hh, h_prev, H, h, ghn, rzn:
        fused.gru_step(np, gi, gh, b_hh, h_prev, rzn, h, ghn),
    "gru_bwd": lambda rzn, ghn, h_prev, dh_mm, dh_dir, gy, H, dgi, dgh, dghn, dh_prev:
        fused.gru_step_backward(np, rzn, ghn, h_prev, dh_mm, dh_dir, gy, dgi, dgh, dghn,
                                dh_prev),
    "rnn_fwd": lambda xw, hw, relu, h: fused.rnn_step(np, xw, hw, bool(relu), h),
    "rnn_bwd": lambda dh_next, gy, y, relu, dpre:
        fused.rnn_step_backward(np, dh_next, gy, y, bool(relu), dpre),
}



def _params(name: str) -> list[tuple[bool, str, str]]:
    """(raw, type, name) of each parameter of kernel ``name``, inputs then outputs."""
    ins, outs, _ = fused._CUDA_SOURCES[name]
    params = []
    for p in (ins + ", " + outs).split(","):
        *raw, typ, pname = p.split()
        params.append((bool(raw), typ, pname))
    return params


def _cpp_source() -> str:
    """Every kernel as a C++ loop over the elements, with a float and a double entry point."""
    lines = ["#include <cmath>", "using std::tanh;"]
    for name, (ins, _, body) in fused._CUDA_SOURCES.items():
        n_in = len(ins.split(","))
        args, refs, names = [], [], []
        for idx, (raw, typ, pname) in enumerate(_params(name)):
            names.append(pname if typ == "int32" or raw else "p_" + pname)
            if typ == "int32":
                args.append(f"int {pname}")
            elif raw:
                args.append(f"T* {pname}")
            else:
                args.append(f"T* p_{pname}")
                const = "const " if idx < n_in else ""
                refs.append(f"{const}T& {pname} = p_{pname}[i];")
        sig = ", ".join(args)
        lines.append(f"template <typename T> static void {name}(long n, {sig}) {{\n"
                     f"  for (long i = 0; i < n; ++i) {{ {' '.join(refs)}\n{body}\n  }}\n}}")
        for suffix, ctype in (("f32", "float"), ("f64", "double")):
            csig = sig.replace("T*", ctype + "*")
            lines.append(f'extern "C" void {name}_{suffix}(long n, {csig}) '
                         f"{{ {name}<{ctype}>(n, {', '.join(names)}); }}")
    return "\n".join(lines) + "\n"


def build_with_host_compiler(d, source: str, what: str):
    """``source`` built in directory ``d`` as a shared library with the host's C++ compiler
    and loaded; None where there is no working compiler. A compile error in ``source``
    itself, where a trivial file compiles, fails the test with the compiler's message."""
    cxx = shutil.which("c++") or shutil.which("g++") or shutil.which("clang++")
    if cxx is None:
        return None

    def build(name: str, text: str) -> subprocess.CompletedProcess:
        (d / f"{name}.cpp").write_text(text)
        return subprocess.run([cxx, "-O1", "-shared", "-fPIC", "-o", str(d / f"{name}.so"),
                               str(d / f"{name}.cpp")], capture_output=True, text=True)

    run = build("kernels", source)
    if run.returncode != 0:
        if build("trivial", "#include <cmath>\nextern \"C\" double f(double x) "
                            "{ return std::tanh(x); }\n").returncode != 0:
            return None  # the toolchain itself does not work here
        pytest.fail(f"{what} do not compile as C++:\n{run.stderr}")
    return ctypes.CDLL(str(d / "kernels.so"))


@pytest.fixture(scope="module")
def compiled(tmp_path_factory):
    """The kernels built as a shared library with the host's C++ compiler, or None."""
    return build_with_host_compiler(tmp_path_factory.mktemp("kernels"), _cpp_source(),
                                    "the kernel bodies")


def _launch(lib, name: str, args: tuple) -> None:
    """Runs kernel ``name`` from ``lib`` on NumPy arrays, as CuPy would on CuPy arrays."""
    params = _params(name)
    elementwise = [a for (raw, typ, _), a in zip(params, args) if typ == "T" and not raw]
    n = elementwise[0].size
    c_args: list = [ctypes.c_long(n)]
    write_back = []  # a strided elementwise array runs on a contiguous copy (CuPy takes strides)
    for (raw, typ, pname), a in zip(params, args):
        if typ == "int32":
            c_args.append(ctypes.c_int(a))
            continue
        if not a.flags.c_contiguous:
            assert not raw, f"{name}: raw {pname} is not C-contiguous"
            a, orig = np.ascontiguousarray(a), a
            write_back.append((orig, a))
        c_args.append(ctypes.c_void_p(a.ctypes.data))
    suffix = "f32" if elementwise[0].dtype == np.float32 else "f64"
    getattr(lib, f"{name}_{suffix}")(*c_args)
    for orig, copy in write_back:
        if orig.flags.writeable:
            orig[...] = copy


def _step_args(name: str, rng, dtype, B: int = 3, H: int = 4) -> tuple:
    """Arguments for one call of kernel ``name``, in its order, drawn at random."""
    G = {"lstm": 4, "gru": 3, "rnn": 1}[name.split("_")[0]]
    args = []
    for raw, typ, pname in _params(name):
        if typ == "int32":
            args.append(int(rng.integers(0, 2)) if pname == "relu" else H)
        elif raw:
            shape = (G * H,) if pname == "b_hh" else (B, G * H)
            args.append(rng.uniform(0.05, 0.95, shape).astype(dtype) if pname in ("acts", "rzn")
                        else rng.standard_normal(shape).astype(dtype))
        else:
            args.append(rng.uniform(0.05, 0.95, (B, H)).astype(dtype) if pname == "y"
                        else rng.standard_normal((B, H)).astype(dtype))
    return tuple(args)


# outputs that the fused loops write over an input of the same call: (output, input)
IN_PLACE = {"lstm_fwd": [("acts", "xw")], "lstm_bwd": [("dgates", "acts"), ("dc_prev", "dc")],
            "gru_fwd": [("rzn", "gi")], "gru_bwd": [("dgi", "rzn"), ("dghn", "ghn"),
                                                    ("dh_prev", "dh_dir")],
            "rnn_fwd": [("h", "xw")], "rnn_bwd": []}


@pytest.mark.parametrize("name", list(fused._CUDA_SOURCES))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("in_place", [False, True])
def test_cuda_kernel_bodies_compute_the_numpy_steps(compiled, name, dtype, in_place):
    if compiled is None:
        pytest.skip("no C++ compiler to build the kernel bodies with")
    rng = np.random.default_rng(0)
    args = _step_args(name, rng, dtype)
    names = [p for _, _, p in _params(name)]
    if in_place:  # the output is the input's array itself, as the loops pass it
        args = list(args)
        for out, inp in IN_PLACE[name]:
            args[names.index(out)] = args[names.index(inp)]
        args = tuple(args)
    want = tuple(a.copy() if isinstance(a, np.ndarray) else a for a in args)
    if in_place:
        for out, inp in IN_PLACE[name]:
            want = want[:names.index(out)] + (want[names.index(inp)],) + want[names.index(out) + 1:]
    NUMPY_STEP[name](*want)
    _launch(compiled, name, args)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    for pname, a, b in zip(names, args, want):
        if isinstance(a, np.ndarray):
            np.testing.assert_allclose(a, b, rtol=tol, atol=tol, err_msg=f"{name}: {pname}")

@pytest.mark.parametrize("name", ["lstm_fwd", "gru_fwd"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_saturated_gates_are_accurate(compiled, name, dtype):
    """σ of a very negative gate, to a few units in the last place relative (the NumPy step and
    the CUDA body alike): no cancellation, whatever the gate's size."""
    from .test_elementwise import sigmoid_reference

    rng = np.random.default_rng(0)
    args = list(_step_args(name, rng, dtype))
    names = [p for _, _, p in _params(name)]
    low = -87.0 if dtype == np.float32 else -708.0
    first = names.index("xw" if name == "lstm_fwd" else "gi")
    x = args[first]
    x[...] = rng.uniform(low, 20.0, x.shape).astype(dtype)
    H = args[names.index("H")]
    other = args[names.index("hw" if name == "lstm_fwd" else "gh")]
    other[...] = 0
    if name == "gru_fwd":
        args[names.index("b_hh")][...] = 0
    sig = [slice(0, H), slice(H, 2 * H), slice(3 * H, 4 * H)] if name == "lstm_fwd" \
        else [slice(0, 2 * H)]
    want = sigmoid_reference(x.copy())
    runs = [("numpy", tuple(a.copy() if isinstance(a, np.ndarray) else a for a in args))]
    if compiled is not None:
        runs.append(("cuda body", tuple(a.copy() if isinstance(a, np.ndarray) else a
                                        for a in args)))
    for what, run in runs:
        if what == "numpy":
            NUMPY_STEP[name](*run)
        else:
            _launch(compiled, name, run)
        acts = run[names.index("acts" if name == "lstm_fwd" else "rzn")]
        for cols in sig:
            np.testing.assert_allclose(acts[:, cols], want[:, cols], atol=0,
                                       rtol=4 * np.finfo(dtype).eps, err_msg=what)


class StandIn:
    """One kernel's stand-in: checks a call, counts it, and runs the NumPy step."""

    calls: dict[str, int] = {}
    copies: list[str] = []
    running = False  # True while the NumPy step runs: its own _kernel lookups get None
    lib = None  # the compiled kernels, where there is a compiler

    def __init__(self, name: str) -> None:
        ins, outs, _ = fused._CUDA_SOURCES[name]
        self.name = name
        self.params = [p.split() for p in (ins + ", " + outs).split(",")]
        self.n_in = len(ins.split(","))

    def __call__(self, *args):
        name = self.name
        assert len(args) == len(self.params), f"{name}: {len(args)} arguments"
        arrays = [(p, a) for p, a in zip(self.params, args) if p[-2] == "T"]
        for p, a in zip(self.params, args):
            if p[-2] == "int32":
                assert isinstance(a, int), f"{name}: {p[-1]} is not an int"
        assert all(isinstance(a, np.ndarray) for _, a in arrays), name
        assert len({a.dtype for _, a in arrays}) == 1, f"{name}: mixed dtypes"
        elementwise = [a for p, a in arrays if p[0] != "raw"]
        shape = elementwise[0].shape
        assert all(a.shape == shape for a in elementwise), f"{name}: elementwise shapes differ"
        for p, a in arrays:
            if p[0] == "raw":
                assert a.flags.c_contiguous, f"{name}: raw {p[-1]} is not C-contiguous"
                lead_ok = a.ndim == 1 or a.shape[:-1] == shape[:-1]
                assert lead_ok and a.shape[-1] % shape[-1] == 0, f"{name}: raw {p[-1]} shape"
        ins, outs = args[:self.n_in], args[self.n_in:]
        for (p, a) in zip(self.params, ins):
            if isinstance(a, np.ndarray) and any(
                    a is not o and np.may_share_memory(a, o) for o in outs):
                self.copies.append(f"{name}: {p[-1]}")
        self.calls[name] = self.calls.get(name, 0) + 1
        if self.lib is not None:
            _launch(self.lib, name, args)
            return
        StandIn.running = True
        try:
            NUMPY_STEP[name](*args)
        finally:
            StandIn.running = False


@pytest.fixture
def stand_ins(monkeypatch, compiled):
    StandIn.calls, StandIn.copies, StandIn.lib = {}, [], compiled
    kernels = {}

    def kernel(xp, name):
        if StandIn.running:
            return None
        return kernels.setdefault(name, StandIn(name))

    monkeypatch.setattr(fused, "_kernel", kernel)
    return StandIn


def _run(layer, x, lengths, retain):
    x.grad = None
    layer.zero_grad()
    out, state = layer(x, lengths=lengths)
    states = list(state) if isinstance(state, tuple) else [state]
    loss = (out * out).sum() + sum((s * s).sum() for s in states)
    loss.backward(retain_graph=retain)
    if retain:
        loss.backward()  # the second (last) backward may write over the saved buffers
    return [out.numpy(), x.grad.numpy()] + [p.grad.numpy() for p in layer.parameters()]


@pytest.mark.parametrize("mode,kw", [("LSTM", {}), ("LSTM", {"proj_size": 2}), ("GRU", {}),
                                     ("RNN", {}), ("RNN", {"nonlinearity": "relu"})])
@pytest.mark.parametrize("lengths", [None, [5, 2]])
@pytest.mark.parametrize("retain", [False, True])
def test_kernel_calls_match_their_declarations_and_copy_nothing(stand_ins, mode, kw, lengths,
                                                                retain):
    tr.manual_seed(0)
    layer = getattr(nn, mode)(3, 4, num_layers=2, bidirectional=True, dtype="float64", **kw)
    x = tr.randn(5, 2, 3, dtype="float64", requires_grad=True)
    fused._Sequence.chunk_steps = 2  # several chunks where the backward uses a buffer
    try:
        got = _run(layer, x, lengths, retain)
        assert sum(stand_ins.calls.values()) > 0
        assert stand_ins.copies == [], "inputs CuPy would copy: " + ", ".join(stand_ins.copies)
        stand_ins.running = True  # the plain NumPy path
        want = _run(layer, x, lengths, retain)
    finally:
        fused._Sequence.chunk_steps = None
        stand_ins.running = False
    for a, b in zip(got, want):  # the compiled kernels round differently from NumPy
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("cell", [nn.LSTMCell, nn.GRUCell])
def test_fused_cell_kernel_calls(stand_ins, cell):
    layer = cell(3, 4, dtype="float64")
    x = tr.randn(2, 3, dtype="float64", requires_grad=True)
    out = layer(x)
    (out[0] if isinstance(out, tuple) else out).sum().backward()
    assert sum(stand_ins.calls.values()) == 2  # one forward, one backward
    assert stand_ins.copies == []


def test_one_kernel_launch_per_step_each_way(stand_ins):
    """What keeps the fused loop fast on a GPU: one pointwise kernel per step forward and one
    backward (plus the recurrent matmul), for every cell."""
    T = 6
    for mode in ("LSTM", "GRU", "RNN"):
        stand_ins.calls.clear()
        layer = getattr(nn, mode)(3, 4)
        layer(tr.randn(T, 2, 3))[0].sum().backward()
        name = mode.lower()
        assert stand_ins.calls == {f"{name}_fwd": T, f"{name}_bwd": T}
