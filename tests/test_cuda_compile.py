"""Every CUDA kernel of the fused ops, compiled by NVIDIA's own compiler, without a GPU.

tests/test_kernel_calls.py and tests/test_pointer_steps.py run the kernel bodies compiled as
C++; that says the arithmetic is right, not that CUDA takes the code. Where ``nvcc`` is
installed (no GPU needed), this file compiles each kernel as the GPU would get it, for the
cards the benchmarks run on (sm_90: H100, H200) and the one before (sm_80: A100):

- the pointer kernels (``pointer_steps.kernel_source``, exactly what ``cupy.RawKernel``
  compiles), and each ``ElementwiseKernel`` body inside a loop laid out as CuPy's (an
  elementwise parameter a reference to its element, inputs const; a ``raw`` one the array);
- with every warning an error, in float32 and float64;
- and checks what the generated code does, which no C++ compiler shows: a float32 kernel
  computes in float32 only (no ``.f64`` instruction: a stray double constant or call would
  run at a fraction of the speed), and no kernel spills registers or uses local memory.

Skipped where nvcc is not installed; the GPU itself compiles these through NVRTC, which has
the same front end, when ``gpu_check.sh`` runs.
"""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from tinygrad_rnn.ops import fused, pointer_steps

NVCC, PTXAS = shutil.which("nvcc"), shutil.which("ptxas")
pytestmark = pytest.mark.skipif(NVCC is None or PTXAS is None,
                                reason="needs nvcc and ptxas (the CUDA toolkit)")

CTYPES = ("float", "double")
ARCHS = ("sm_80", "sm_90")


def _elementwise_source(name: str) -> str:
    """``ElementwiseKernel`` ``name`` as CuPy lays it out: a grid-stride loop over the
    elements, elementwise parameters bound by reference (inputs const), raw ones whole."""
    ins, outs, body = fused._CUDA_SOURCES[name]
    n_in = len(ins.split(","))
    args, binds = [], []
    for idx, decl in enumerate((ins + ", " + outs).split(",")):
        *raw, typ, pname = decl.split()
        if typ == "int32":
            args.append(f"const int {pname}")
        elif raw:
            args.append(f"T* {pname}")
        else:
            args.append(f"T* p_{pname}")
            binds.append(f"{'const ' if idx < n_in else ''}T& {pname} = p_{pname}[i];")
    return (f'extern "C" __global__ void ew_{name}({", ".join(args)}, const long long n) {{\n'
            "  for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n;\n"
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


def _kernel_count() -> int:
    return len(fused._CUDA_SOURCES) + len(pointer_steps.kernel_names())


def _run(cmd: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module", params=CTYPES)
def ptx(request, tmp_path_factory):
    """(ctype, path of the PTX of every kernel for that element type)."""
    ctype = request.param
    d = tmp_path_factory.mktemp(f"cuda_{ctype}")
    (d / "kernels.cu").write_text(_translation_unit(ctype))
    out = _run([NVCC, "-ptx", "-arch=compute_80", "-Werror", "all-warnings",
                "-o", str(d / "kernels.ptx"), str(d / "kernels.cu")])
    if out.returncode != 0:
        pytest.fail(f"the {ctype} kernels do not compile with nvcc:\n{out.stderr}")
    return ctype, d / "kernels.ptx"


def test_every_kernel_is_in_the_ptx(ptx):
    ctype, path = ptx
    entries = re.findall(r"\.entry\s+(\w+)", path.read_text())
    assert len(entries) == _kernel_count()
    for name in pointer_steps.kernel_names():
        assert f"tinygrad_rnn_{name}" in entries
    for name in fused._CUDA_SOURCES:
        assert f"ew_{name}" in entries


def test_float32_kernels_compute_in_float32(ptx):
    ctype, path = ptx
    text = path.read_text()
    if ctype == "float":
        assert ".f64" not in text, "a float32 kernel has a double-precision instruction"
    else:  # the check would pass vacuously if the PTX had no floating point at all
        assert ".f64" in text


@pytest.mark.parametrize("arch", ARCHS)
def test_kernels_assemble_without_spills_or_local_memory(ptx, arch, tmp_path):
    ctype, path = ptx
    out = _run([PTXAS, f"-arch={arch}", "-v", "--warn-on-spills", "--warn-on-local-memory-usage",
                "-o", str(tmp_path / "kernels.cubin"), str(path)])
    assert out.returncode == 0, out.stderr
    log = out.stdout + out.stderr
    assert "warning" not in log.lower(), log
    registers = [int(r) for r in re.findall(r"Used (\d+) registers", log)]
    assert len(registers) == _kernel_count(), log
    # each kernel launches pointer_steps.BLOCK threads a block: its registers must allow that
    assert max(registers) * pointer_steps.BLOCK <= 65536, log
    frames = re.findall(r"(\d+) bytes stack frame, (\d+) bytes spill stores, (\d+) bytes spill "
                        r"loads", log)
    assert len(frames) == _kernel_count() and all(f == ("0", "0", "0") for f in frames), log
