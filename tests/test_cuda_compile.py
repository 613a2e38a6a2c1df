"""Every CUDA kernel of the fused ops, compiled by NVRTC, as CuPy compiles them, without a GPU.

tests/test_kernel_calls.py and tests/test_pointer_steps.py run the kernel bodies compiled as
C++; that says the arithmetic is right, not that CUDA takes the code. NVRTC, NVIDIA's runtime
compiler (the one CuPy calls), needs no GPU and no host compiler: it comes from PyPI in the
``kernel-check`` extra (``nvidia-cuda-nvrtc``), which CI installs. This file compiles, for the
cards the benchmarks run on (sm_90: H100, H200) and the one before (sm_80: A100):

- the pointer kernels (``pointer_steps.kernel_source``, exactly what ``cupy.RawKernel``
  compiles), and each ``ElementwiseKernel`` body inside a loop laid out as CuPy lays it out (an
  elementwise parameter ``x`` a reference to ``_raw_x[i]``, inputs const; a ``raw`` one the
  array itself), with CuPy's option ``--device-as-default-execution-space``;
- in float32 and float64, with no warning allowed;

and checks what the generated code does, which no C++ compiler shows: a float32 kernel
computes in float32 only (no ``.f64`` instruction: a stray double constant or call would run at
a fraction of the speed), and no kernel spills registers or uses local memory (ptxas's report,
which NVRTC passes on). Skipped where NVRTC cannot be loaded.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import glob
import importlib.util
import os
import re

import pytest

from tinygrad_rnn.ops import fused, pointer_steps

CTYPES = ("float", "double")
ARCHS = ("sm_80", "sm_90")
CUPY_OPTIONS = ("--device-as-default-execution-space",)


def _load_nvrtc() -> ctypes.CDLL | None:
    """libnvrtc from the ``nvidia-cuda-nvrtc`` wheel, or the system's; None if neither loads."""
    candidates = []
    spec = importlib.util.find_spec("nvidia")
    for d in (spec.submodule_search_locations or []) if spec else []:
        candidates += sorted(glob.glob(os.path.join(d, "**", "libnvrtc.so*"), recursive=True),
                             reverse=True)
    found = ctypes.util.find_library("nvrtc")
    candidates += [found] if found else []
    for path in candidates:
        try:
            return ctypes.CDLL(path)
        except OSError:
            continue
    return None


NVRTC = _load_nvrtc()
pytestmark = pytest.mark.skipif(
    NVRTC is None, reason='needs NVRTC: pip install ".[kernel-check]" (nvidia-cuda-nvrtc)')


def _compile(source: str, options: list[str]) -> tuple[bytes, bytes, str]:
    """(PTX, CUBIN, log) of ``source``; fails the test with NVRTC's log on an error. The PTX
    is empty for a real architecture (sm_*), the CUBIN for a virtual one (compute_*)."""
    prog = ctypes.c_void_p()
    check = _checker(prog)
    check(NVRTC.nvrtcCreateProgram(ctypes.byref(prog), source.encode(), b"kernels.cu", 0, None,
                                   None), "nvrtcCreateProgram")
    try:
        opts = (ctypes.c_char_p * len(options))(*(o.encode() for o in options))
        status = NVRTC.nvrtcCompileProgram(prog, len(options), opts)
        size = ctypes.c_size_t()
        check(NVRTC.nvrtcGetProgramLogSize(prog, ctypes.byref(size)), "nvrtcGetProgramLogSize")
        log = ctypes.create_string_buffer(size.value)
        check(NVRTC.nvrtcGetProgramLog(prog, log), "nvrtcGetProgramLog")
        text = log.value.decode(errors="replace")
        if status != 0:
            pytest.fail(f"NVRTC cannot compile the kernels ({' '.join(options)}):\n{text}")
        outs = []
        for kind in ("PTX", "CUBIN"):
            getter = getattr(NVRTC, f"nvrtcGet{kind}Size")
            if getter(prog, ctypes.byref(size)) != 0:  # no such output for this target
                outs.append(b"")
                continue
            buf = ctypes.create_string_buffer(size.value)
            check(getattr(NVRTC, f"nvrtcGet{kind}")(prog, buf), f"nvrtcGet{kind}")
            outs.append(buf.raw)
        return outs[0], outs[1], text
    finally:
        NVRTC.nvrtcDestroyProgram(ctypes.byref(prog))


def _checker(prog):
    def check(status: int, what: str) -> None:
        if status != 0:
            NVRTC.nvrtcGetErrorString.restype = ctypes.c_char_p
            pytest.fail(f"{what}: {NVRTC.nvrtcGetErrorString(status).decode()}")
    return check


def _elementwise_source(name: str) -> str:
    """``ElementwiseKernel`` ``name`` as CuPy lays it out: a grid-stride loop over the
    elements, elementwise parameters bound by reference (inputs const), raw ones whole."""
    args, binds = [], []
    for is_in, raw, typ, pname in pointer_steps._parsed(name):
        if typ == "int32":
            args.append(f"const int {pname}")
        elif raw:
            args.append(f"T* {pname}")
        else:
            args.append(f"T* _raw_{pname}")
            binds.append(f"{'const ' if is_in else ''}T& {pname} = _raw_{pname}[i];")
    body = fused._CUDA_SOURCES[name][2]
    return (f'extern "C" __global__ void ew_{name}({", ".join(args)}, const long long _n) {{\n'
            "  for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < _n;\n"
            "       i += (long long)blockDim.x * gridDim.x) {\n"
            f"    {' '.join(binds)}\n{body}\n  }}\n}}\n")


def _translation_unit(ctype: str) -> str:
    """Every kernel for element type ``ctype``, each in a namespace of its own (each source
    declares its own ``T``)."""
    parts = [f"namespace ew_{n} {{\ntypedef {ctype} T;\n{_elementwise_source(n)}}}\n"
             for n in fused._CUDA_SOURCES]
    parts += [f"namespace ptr_{n} {{\n{pointer_steps.kernel_source(n, ctype)}}}\n"
              for n in pointer_steps.kernel_names()]
    return "\n".join(parts)


def _kernel_names() -> list[str]:
    return ([f"ew_{n}" for n in fused._CUDA_SOURCES]
            + [f"tinygrad_rnn_{n}" for n in pointer_steps.kernel_names()])


@pytest.fixture(scope="module", params=CTYPES)
def ptx(request):
    """(ctype, the PTX of every kernel for that element type)."""
    ctype = request.param
    code, _, log = _compile(_translation_unit(ctype), ["-arch=compute_80", *CUPY_OPTIONS])
    assert "warning" not in log.lower(), log
    return ctype, code.decode()


def test_every_kernel_is_in_the_ptx(ptx):
    _, text = ptx
    assert sorted(re.findall(r"\.entry\s+(\w+)", text)) == sorted(_kernel_names())


def test_float32_kernels_compute_in_float32(ptx):
    ctype, text = ptx
    if ctype == "float":
        assert ".f64" not in text, "a float32 kernel has a double-precision instruction"
    else:  # the check would pass vacuously if the PTX had no floating point at all
        assert ".f64" in text


@pytest.mark.parametrize("ctype", CTYPES)
@pytest.mark.parametrize("arch", ARCHS)
def test_kernels_build_for_the_gpus_without_spills_or_local_memory(ctype, arch):
    _, cubin, log = _compile(_translation_unit(ctype), [
        f"-arch={arch}", *CUPY_OPTIONS, "--ptxas-options=-v",
        "--ptxas-options=--warn-on-spills", "--ptxas-options=--warn-on-local-memory-usage"])
    assert cubin, "NVRTC made no CUBIN"
    assert not re.search(r"warning.*(spill|local memory)|(spill|local memory).*warning", log,
                         re.IGNORECASE), log
    # ptxas's report, one block per function: what each kernel keeps in registers and memory
    registers = [int(r) for r in re.findall(r"Used (\d+) registers", log)]
    assert len(registers) >= len(_kernel_names()), log
    # each kernel launches pointer_steps.BLOCK threads a block: its registers must allow that
    assert max(registers) * pointer_steps.BLOCK <= 65536, log
    frames = re.findall(r"(\d+) bytes stack frame, (\d+) bytes spill stores, (\d+) bytes spill "
                        r"loads", log)
    assert len(frames) >= len(_kernel_names()), log
    assert all(f == ("0", "0", "0") for f in frames), log
