"""Migrated files pass ``ruff check --select I`` under the project's own import configuration.

Every fixture input is copied into a small project with a configuration, given a first-party import, sorted by ruff
under that configuration, migrated, and checked by ruff again: the imports the migration adds must be where ruff puts
them. The isort case has put-migrate read ``[tool.isort]`` while ruff runs with the same rules spelled for ruff.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from put_migrate.transform import migrate_source

pytest.importorskip("ruff")

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
INPUTS = sorted([*FIXTURES.rglob("*.in.py"), *(FIXTURES / "corpus").glob("*.py")])

DEFAULT = '[project]\nname = "demo"\n'
CUSTOM = """\
[tool.ruff]
line-length = 100

[tool.ruff.lint.isort]
known-first-party = ["shim"]
force-sort-within-sections = true
"""
SINGLE_LINE = """\
[tool.ruff.lint.isort]
force-single-line = true
known-third-party = ["mypkg"]
"""
ISORT_GOOGLE = '[tool.isort]\nprofile = "google"\n'
RUFF_GOOGLE = """\
line-length = 1000

[lint.isort]
force-single-line = true
force-sort-within-sections = true
single-line-exclusions = ["typing"]
order-by-type = false
"""
CONFIGS = {
    "default": (DEFAULT, None),
    "custom": (CUSTOM, None),
    "single-line": (SINGLE_LINE, None),
    "isort-google": (ISORT_GOOGLE, RUFF_GOOGLE),
}


def _ruff(project: Path, *args: str, config: Path | None = None) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "ruff", "check", "--no-cache", "--select", "I", *args]
    if config is not None:
        command += ["--config", str(config)]
    return subprocess.run([*command, "."], cwd=project, capture_output=True, text=True)


def _with_first_party_import(text: str) -> str:
    """The text with ``import mypkg`` above its first import line (ruff moves it to its section)."""
    match = re.search(r"^(import |from )", text, re.MULTILINE)
    assert match is not None
    return text[: match.start()] + "import mypkg\n" + text[match.start() :]


@pytest.mark.parametrize("name", CONFIGS)
def test_migrated_fixtures_pass_ruff_isort(tmp_path: Path, name: str) -> None:
    pyproject, ruff_config = CONFIGS[name]
    project = tmp_path / "project"
    (project / "mypkg").mkdir(parents=True)
    (project / "mypkg" / "__init__.py").write_text("")
    (project / "pyproject.toml").write_text(pyproject)
    config = None
    if ruff_config is not None:
        config = tmp_path / "ruff.toml"
        config.write_text(ruff_config)
    sources = project / "src"
    sources.mkdir()
    for path in INPUTS:
        target = sources / f"{path.parent.name}__{path.name.removesuffix('.in.py').removesuffix('.py')}.py"
        target.write_text(_with_first_party_import(path.read_text()))
    fixed = _ruff(project, "--fix", "--quiet", config=config)
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr

    changed = 0
    for target in sorted(sources.glob("*.py")):
        result = migrate_source(target.read_text(), str(target))
        changed += result.changed
        target.write_text(result.source)
    assert changed >= 60

    checked = _ruff(project, "--output-format", "concise", config=config)
    assert checked.returncode == 0, checked.stdout + checked.stderr
