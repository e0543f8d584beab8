"""docs/argument-mapping.md and the golden fixtures cannot drift apart.

Every keyword of Lightning's ``LightningModule.log`` has a row; every row's argument is exercised by a golden
fixture's input; every generated construct the table names appears in a golden fixture's output.
"""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import lightning.pytorch as pl
import pytest

ROOT = Path(__file__).resolve().parent.parent
DOC = (ROOT / "docs" / "argument-mapping.md").read_text()
TABLE = DOC[DOC.index("## Arguments") : DOC.index("## Where the code goes")]
ROWS = [line for line in TABLE.splitlines() if line.startswith("| `")]
GOLDEN_INPUTS = [p for p in (ROOT / "fixtures").rglob("*.in.py") if p.with_name(p.name.replace(".in.py", ".out.py")).exists()]
INPUTS = "\n".join(p.read_text() for p in GOLDEN_INPUTS)
OUTPUTS = "\n".join(p.with_name(p.name.replace(".in.py", ".out.py")).read_text() for p in GOLDEN_INPUTS)
KEYWORDS = [n for n in inspect.signature(pl.LightningModule.log).parameters if n not in ("self", "name", "value")]
CONSTRUCTS = ["Mean(", "Sum(", "Max(", "Min(", "PerDataloader(", "extract_batch_size(", "reduce_step_values(",
              "sync_on_compute=True", "update_called", ".compute()", ".reset()"]


def _row_arguments(row: str) -> set[str]:
    first_cell = row.split("|")[1]
    return set(re.findall(r"`([a-z_]+)", first_cell))


def test_every_log_keyword_has_a_row():
    documented = set().union(*(_row_arguments(row) for row in ROWS))
    assert set(KEYWORDS) <= documented, sorted(set(KEYWORDS) - documented)


@pytest.mark.parametrize("keyword", KEYWORDS)
def test_every_keyword_is_exercised_by_a_golden_fixture(keyword):
    assert re.search(rf"\.log(_dict)?\([^#\n]*\b{keyword}=", INPUTS), f"no golden fixture passes {keyword}="


@pytest.mark.parametrize("construct", CONSTRUCTS)
def test_named_constructs_appear_in_golden_outputs(construct):
    assert construct in TABLE or construct.rstrip("(") in DOC, f"{construct} is not in the mapping doc"
    assert construct in OUTPUTS, f"the mapping doc names {construct} but no golden output contains it"
