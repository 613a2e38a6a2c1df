"""Every Python code block in the README and docs/ runs, and every example script runs, so no
example rots. A comment ``# → text`` in a block states a line the block prints: the test checks
it (``text ...`` states the line's beginning); anything after three spaces and "(" is a remark."""

from __future__ import annotations

import contextlib
import io
import re
import runpy
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BLOCK = re.compile(r"```python\n(.*?)```", re.S)
STATED = re.compile(r"# → (.*)$", re.M)


@pytest.mark.parametrize("path", DOCS, ids=lambda p: p.name)
def test_docs_code_blocks_run_in_order(path, monkeypatch, tmp_path):
    """The blocks of one page run top to bottom in one namespace, as a reader would, and print
    what their ``# →`` comments say."""
    monkeypatch.chdir(tmp_path)  # anything a block writes lands here
    namespace = {"__name__": "__doc__"}
    for i, code in enumerate(BLOCK.findall(path.read_text())):
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            exec(compile(code, f"{path.name}, python block {i}", "exec"), namespace)
        printed = [line.rstrip() for line in out.getvalue().splitlines()]
        for stated in STATED.findall(code):
            stated = re.split(r" {3,}\(", stated)[0].rstrip()
            if stated.endswith("..."):
                found = any(line.startswith(stated[:-3].rstrip()) for line in printed)
            else:
                found = stated in printed
            assert found, f"{path.name}, python block {i} states {stated!r}; it printed {printed}"


@pytest.mark.parametrize("script", sorted((ROOT / "examples").glob("*.py")), ids=lambda p: p.name)
def test_example_script_runs(script, capsys, monkeypatch):
    monkeypatch.setenv("TINYGRAD_RNN_EXAMPLE_SMOKE", "1")  # examples shrink to a smoke run
    monkeypatch.setattr(sys, "argv", [str(script)])  # as run from the shell, no arguments
    runpy.run_path(str(script), run_name="__main__")
    assert capsys.readouterr().out  # each example reports what it did
