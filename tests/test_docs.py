"""Every Python code block in the README and docs/ runs, and every example script runs, so no
example rots."""

from __future__ import annotations

import re
import runpy
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BLOCK = re.compile(r"```python\n(.*?)```", re.S)


@pytest.mark.parametrize("path", DOCS, ids=lambda p: p.name)
def test_docs_code_blocks_run_in_order(path, monkeypatch, tmp_path):
    """The blocks of one page run top to bottom in one namespace, as a reader would."""
    monkeypatch.chdir(tmp_path)  # anything a block writes lands here
    namespace = {"__name__": "__doc__"}
    for i, code in enumerate(BLOCK.findall(path.read_text())):
        exec(compile(code, f"{path.name}, python block {i}", "exec"), namespace)


@pytest.mark.parametrize("script", sorted((ROOT / "examples").glob("*.py")), ids=lambda p: p.name)
def test_example_script_runs(script, capsys, monkeypatch):
    monkeypatch.setenv("TINYGRAD_RNN_EXAMPLE_SMOKE", "1")  # examples shrink to a smoke run
    runpy.run_path(str(script), run_name="__main__")
    assert capsys.readouterr().out  # each example reports what it did
