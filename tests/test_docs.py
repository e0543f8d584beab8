"""Docs that claim to run do run; before/after examples match the real codemod.

Markers, on the line before a fenced block:
- ``<!-- doc-test: run -->``: the Python block is executed (in a subprocess, in a temporary directory);
- ``<!-- doc-test: migrate -->``: the Python block is a "before"; the next Python block must be exactly what
  ``migrate_source`` makes of it.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from put_migrate.transform import migrate_source

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
_BLOCK = re.compile(r"```python\n(.*?)```", re.DOTALL)


def _marked(marker: str):
    for doc in DOCS:
        text = doc.read_text()
        for match in re.finditer(re.escape(f"<!-- doc-test: {marker} -->") + r"\n```python\n(.*?)```", text, re.DOTALL):
            line = text.count("\n", 0, match.start()) + 1
            yield pytest.param(doc, match, text, id=f"{doc.relative_to(ROOT)}:{line}")


@pytest.mark.parametrize(("doc", "match", "text"), list(_marked("run")))
def test_runnable_block_runs(doc, match, text, tmp_path):
    script = tmp_path / "block.py"
    script.write_text(match.group(1))
    out = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, f"{doc.name}: block failed\n{out.stdout[-2000:]}\n{out.stderr[-4000:]}"


@pytest.mark.parametrize(("doc", "match", "text"), list(_marked("migrate")))
def test_before_after_example_matches_the_codemod(doc, match, text):
    after = _BLOCK.search(text, match.end())
    assert after, f"{doc.name}: a migrate example needs an 'after' block"
    assert migrate_source(match.group(1)).source == after.group(1)


def test_docs_have_checked_examples():
    assert list(_marked("migrate")), "README's before/after example must be checked"
