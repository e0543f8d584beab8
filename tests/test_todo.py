"""``--add-todo``: golden fixtures (``fixtures/todo/<case>.before.py`` -> ``.todo.py`` with markers written,
``.plain.py`` without), idempotence, removal once a call is migrated, the CLI flag and its config key."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from put_migrate import cli, todo
from put_migrate.api import migrate_text

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "todo"
CASES = sorted(FIXTURES.glob("*.before.py"))
MODES = {".todo.py": True, ".plain.py": False}


def _expected(case: Path, suffix: str) -> Path:
    return case.with_name(case.name.replace(".before.py", suffix))


@pytest.mark.parametrize("suffix", MODES)
@pytest.mark.parametrize("case", CASES, ids=lambda p: p.name.removesuffix(".before.py"))
def test_golden(case: Path, suffix: str) -> None:
    new, _ = migrate_text(case.read_text(), str(case), add_todo=MODES[suffix])
    assert new == _expected(case, suffix).read_text()


@pytest.mark.parametrize("add_todo", [True, False])
@pytest.mark.parametrize("case", CASES, ids=lambda p: p.name.removesuffix(".before.py"))
def test_a_second_run_changes_nothing(case: Path, add_todo: bool) -> None:
    once = _expected(case, ".todo.py").read_text()
    again, findings = migrate_text(once, str(case), add_todo=add_todo)
    assert again == once
    assert again.count(todo.MARKER) == sum(1 for f in findings if todo.wants_marker(f))


def test_findings_give_the_lines_of_the_text_given() -> None:
    case = FIXTURES / "stale_markers.before.py"
    _, findings = migrate_text(case.read_text(), str(case), add_todo=True)
    lines = case.read_text().splitlines()
    for finding in findings:
        assert ".log(" in lines[finding.line - 1], finding


def test_a_call_migrated_later_loses_its_marker() -> None:
    marked = _expected(FIXTURES / "left_calls.before.py", ".todo.py").read_text()
    fixed = marked.replace('self.log("odd", loss, **self.options)', 'self.log("odd", loss)')
    new, _ = migrate_text(fixed, "m.py")
    assert "PM201" not in new and 'self.put("odd"' in new
    assert new.count(todo.MARKER) == 1  # the PM204 call is still left, its marker kept


def test_marker_stands_above_the_whole_statement(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)  # ruff's default line length: the advice wraps
    source = (
        "import lightning.pytorch as pl\n\n\nclass M(pl.LightningModule):\n"
        "    def training_step(self, batch, batch_idx):\n"
        "        total = (1 +\n                 self.log(self.name, batch))\n"
    )
    new, findings = migrate_text(source, "m.py", add_todo=True)
    lines = new.splitlines()
    start = lines.index("        total = (1 +")
    above = start - 1
    while lines[above].startswith("        " + todo.CONTINUATION):
        above -= 1
    assert lines[above].startswith(f"        {todo.MARKER} PM210") and above < start - 1
    assert compile(new, "m.py", "exec")


def test_crlf_markers_keep_the_line_ending() -> None:
    source = _expected(FIXTURES / "left_calls.before.py", ".plain.py").read_text().replace("\n", "\r\n")
    new, _ = migrate_text(source, "m.py", add_todo=True)
    assert new.count(todo.MARKER) == 2 and "\n" not in new.replace("\r\n", "")


def test_marker_lines_wrap_at_the_line_length() -> None:
    lines = todo.marker_lines("PM205", "        ", 79)
    assert lines[0].startswith("        # TODO(put-migrate): PM205 Lightning")
    assert all(len(line) <= 79 for line in lines) and len(lines) > 2
    assert all(line.startswith("        " + todo.CONTINUATION) for line in lines[1:])


def _cli(tmp_path: Path, monkeypatch, *args: str):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "m.py").write_text((FIXTURES / "left_calls.before.py").read_text())
    return CliRunner().invoke(cli.main, ["--allow-dirty", *args, "m.py"])


def test_cli_flag(tmp_path: Path, monkeypatch) -> None:
    result = _cli(tmp_path, monkeypatch, "--add-todo")
    assert result.exit_code == 1, result.output
    assert (tmp_path / "m.py").read_text().count(todo.MARKER) == 2


def test_config_key_and_its_negation(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.put-migrate]\nadd-todo = true\n")
    _cli(tmp_path, monkeypatch)
    assert (tmp_path / "m.py").read_text().count(todo.MARKER) == 2
    _cli(tmp_path, monkeypatch, "--no-add-todo")
    assert todo.MARKER not in (tmp_path / "m.py").read_text()


def test_config_key_must_be_a_boolean(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.put-migrate]\nadd-todo = "yes"\n')
    result = _cli(tmp_path, monkeypatch)
    assert result.exit_code == 2 and "`add-todo` must be true or false" in result.output


def test_a_string_that_looks_like_a_marker_is_kept() -> None:
    source = _expected(FIXTURES / "left_calls.before.py", ".plain.py").read_text() + (
        '\n\nHELP = """\n# TODO(put-migrate): PM201 not a comment\n"""\n'
    )
    new, _ = migrate_text(source, "m.py")
    assert new == source
