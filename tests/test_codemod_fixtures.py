"""Golden fixtures: ``fixtures/<topic>/<case>.in.py`` -> ``<case>.out.py``; no-op cases stay byte-identical.

A fixture declares the calls it expects to be left for a human, either at the end of the line where the call
starts, or in a comment line at its top::

    self.log(name, loss)  # expect: PM204
    # expect: PM205 line 14

Every MANUAL finding must be declared and every declaration must be found. ``PUT_MIGRATE_REGEN=1`` rewrites the
``.out.py`` files from the current codemod (review the diff by eye before committing it).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import libcst as cst
import pytest

from put_migrate.rules import Severity
from put_migrate.transform import migrate_source

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
REGEN = os.environ.get("PUT_MIGRATE_REGEN") == "1"
_EXPECT_HEADER = re.compile(r"^# expect: (PM\d{3}) line (\d+)\s*$", re.MULTILINE)
_EXPECT_INLINE = re.compile(r"\S.*# expect: (PM\d{3})\s*$")


def expected_findings(source: str) -> list[tuple[str, int]]:
    expected = [(code, int(line)) for code, line in _EXPECT_HEADER.findall(source)]
    for number, line in enumerate(source.splitlines(), start=1):
        match = _EXPECT_INLINE.search(line)
        if match:
            expected.append((match.group(1), number))
    return sorted(expected)


def _out_path(path: Path) -> Path:
    return path.with_name(path.name[: -len(".in.py")] + ".out.py")


def _cases() -> tuple[list[Path], list[Path]]:
    transformed, noop = [], []
    for path in sorted(FIXTURES.rglob("*.py")):
        if path.name.endswith(".out.py"):
            continue
        if path.name.endswith(".in.py") and path.with_name(path.name[: -len(".in.py")] + ".out.py").exists():
            transformed.append(path)
        elif REGEN and path.name.endswith(".in.py") and migrate_source(path.read_text(), str(path)).changed:
            _out_path(path).write_text(migrate_source(path.read_text(), str(path)).source)  # a new case
            transformed.append(path)
        elif path.name.endswith(".in.py") or path.parent.name == "noop":
            noop.append(path)
    return transformed, noop


TRANSFORMED, NOOP = _cases()


def _id(path: Path) -> str:
    return str(path.relative_to(FIXTURES)).removesuffix(".py").removesuffix(".in")


def _check_expectations(source: str, result) -> None:
    expected = expected_findings(source)
    manual = sorted((f.code, f.line) for f in result.findings if f.severity is Severity.MANUAL)
    assert manual == expected, "\n".join(f.format() for f in result.findings)


@pytest.mark.parametrize("path", TRANSFORMED, ids=_id)
def test_transform(path: Path) -> None:
    source = path.read_text()
    out = _out_path(path)
    result = migrate_source(source, str(path))
    if REGEN:
        out.write_text(result.source)
    expected = out.read_text()
    cst.parse_module(expected)  # a golden file is always valid Python
    assert result.source == expected
    assert result.changed
    _check_expectations(source, result)


@pytest.mark.parametrize("path", TRANSFORMED, ids=_id)
def test_idempotent(path: Path) -> None:
    out = _out_path(path).read_text()
    again = migrate_source(out, str(path))
    assert again.source == out
    assert not any(f.severity is Severity.REWRITTEN for f in again.findings)


@pytest.mark.parametrize("path", NOOP, ids=_id)
def test_noop(path: Path) -> None:
    source = path.read_text()
    result = migrate_source(source, str(path))
    assert result.source == source
    assert not result.changed
    _check_expectations(source, result)


def test_fixtures_found() -> None:
    assert TRANSFORMED and NOOP
