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


def _blocks():
    for path in DOCS:
        for i, code in enumerate(BLOCK.findall(path.read_text())):
            yield pytest.param(code, id=f"{path.name}-{i}")


@pytest.mark.parametrize("code", list(_blocks()))
def test_docs_code_block_runs(code):
    exec(compile(code, "<doc block>", "exec"), {"__name__": "__doc_block__"})


@pytest.mark.parametrize("script", sorted((ROOT / "examples").glob("*.py")), ids=lambda p: p.name)
def test_example_script_runs(script, capsys, monkeypatch):
    monkeypatch.setenv("TINYGRAD_RNN_EXAMPLE_SMOKE", "1")  # examples shrink to a smoke run
    runpy.run_path(str(script), run_name="__main__")
    assert capsys.readouterr().out  # each example reports what it did
