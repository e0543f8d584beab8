"""``[tool.put-migrate]`` as option defaults, NO_COLOR, and SARIF paths from a subfolder (fake transform)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from put_migrate import api, cli
from tests.test_cli import LOGGING, run
from tests.test_cli_support import fake_transform, init_repo  # noqa: F401

pytestmark = pytest.mark.usefixtures("fake_transform")


@pytest.fixture
def project(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for name in ("a.py", "legacy/old.py", "gen/x_pb2.py", "sub/pkg/m.py"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(LOGGING)
    return tmp_path


def _would_rewrite(result) -> set[str]:
    return {line.split()[-1] for line in result.stderr.splitlines() if line.startswith("would rewrite ")}


def test_exclude_and_extend_exclude_from_pyproject(project):
    (project / "pyproject.toml").write_text(
        '[project]\nname = "demo"\n\n[tool.put-migrate]\nexclude = ["legacy"]\nextend-exclude = ["*_pb2.py"]\n'
    )
    assert _would_rewrite(run("--check", ".")) == {"a.py", "sub/pkg/m.py"}
    # --exclude on the command line replaces `exclude`; `extend-exclude` still applies
    assert _would_rewrite(run("--check", "--exclude", "sub", ".")) == {"a.py", "legacy/old.py"}


def test_configuration_found_from_a_subfolder(project, monkeypatch):
    (project / "pyproject.toml").write_text('[tool.put-migrate]\nexclude = ["pkg"]\n')
    monkeypatch.chdir(project / "sub")
    assert run("--check", ".").exit_code == 0  # the only file is excluded


def test_jobs_from_pyproject(project, monkeypatch):
    (project / "pyproject.toml").write_text("[tool.put-migrate]\njobs = 3\nline-length = 100\n")
    seen = []
    real = api.plan_tasks
    monkeypatch.setattr(
        api, "plan_tasks", lambda paths, options, *rest: seen.append(options.jobs) or real(paths, options, *rest)
    )
    run("--check", ".")
    run("--check", "-j", "1", ".")
    assert seen == [3, 1]


def test_explicit_config_file(project):
    (project / "other.toml").write_text('[tool.put-migrate]\nexclude = ["a.py", "legacy", "gen", "sub"]\n')
    assert run("--check", "--config", "other.toml", ".").exit_code == 0


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ("jbos = 2", "unknown key `jbos`"),
        ("jobs = 0", "`jobs` must be an integer >= 1"),
        ('exclude = "legacy"', "`exclude` must be a list of glob strings"),
    ],
)
def test_bad_configuration_is_a_usage_error_naming_the_file(project, table, message):
    (project / "pyproject.toml").write_text(f"[tool.put-migrate]\n{table}\n")
    result = run("--check", ".")
    assert result.exit_code == 2
    assert str(project / "pyproject.toml") in result.stderr and message in result.stderr


@pytest.mark.parametrize(("no_color", "coloured"), [(None, True), ("", True), ("1", False)])
def test_no_color(project, monkeypatch, no_color, coloured):
    monkeypatch.setattr(cli, "_is_tty", lambda stream: True)
    if no_color is None:
        monkeypatch.delenv("NO_COLOR", raising=False)
    else:
        monkeypatch.setenv("NO_COLOR", no_color)
    assert (b"\x1b[" in run("--diff", "a.py").stdout_bytes) is coloured
    assert b"\x1b[" in run("--diff", "--color", "a.py").stdout_bytes  # the flag wins


def test_sarif_paths_from_a_subfolder(project, monkeypatch):
    init_repo(project)
    monkeypatch.chdir(project / "sub")
    run("--check", "--report", "r.sarif", ".")
    run_ = json.loads((project / "sub" / "r.sarif").read_text())["runs"][0]
    assert run_["originalUriBaseIds"]["%SRCROOT%"]["uri"] == Path(project).resolve().as_uri() + "/"
    locations = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in run_["results"]}
    assert locations == {"sub/pkg/m.py"}


def test_documented_table_is_valid(tmp_path):
    import re

    from put_migrate.project_config import read_tool_config

    text = (Path(__file__).resolve().parent.parent / "docs" / "cli.md").read_text()
    section = text[text.index("## Configuration"):]
    table = re.search(r"```toml\n(.*?)```", section, re.DOTALL).group(1)
    (tmp_path / "pyproject.toml").write_text(table)
    assert read_tool_config(tmp_path / "pyproject.toml").settings["jobs"] == 4
