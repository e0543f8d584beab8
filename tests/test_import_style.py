"""Migrated files pass ``ruff check --select I,E501`` under the project's own configuration.

Every fixture input is copied into a small project with a configuration, given a first-party import, sorted by ruff
under that configuration, migrated, and checked by ruff again: the imports the migration adds must be where ruff puts
them, and no line the migration wrote may be longer than the project's line length (the user's own long lines are
left as they are, so they do not count). The isort case has put-migrate read ``[tool.isort]`` while ruff runs with
the same rules spelled for ruff.
"""

from __future__ import annotations

import ast
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
NARROW = "[tool.ruff]\nline-length = 72\n"
LINES_BETWEEN_TYPES = "[tool.ruff.lint.isort]\nlines-between-types = 1\n"  # rl4co: blank line after `import x`
ISORT_LINES_BETWEEN_TYPES = '[tool.isort]\nprofile = "black"\nlines_between_types = 1\n'
RUFF_LINES_BETWEEN_TYPES = "[lint.isort]\nlines-between-types = 1\n"
CONFIGS = {
    "default": (DEFAULT, None),
    "narrow": (NARROW, None),
    "custom": (CUSTOM, None),
    "single-line": (SINGLE_LINE, None),
    "isort-google": (ISORT_GOOGLE, RUFF_GOOGLE),
    "lines-between-types": (LINES_BETWEEN_TYPES, None),
    "isort-lines-between-types": (ISORT_LINES_BETWEEN_TYPES, RUFF_LINES_BETWEEN_TYPES),
}


def _ruff(project: Path, *args: str, config: Path | None = None, select: str = "I") -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "ruff", "check", "--no-cache", "--select", select, *args]
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
    user_lines: dict[str, set[str]] = {}
    for target in sorted(sources.glob("*.py")):
        text = target.read_text()
        user_lines[target.name] = {line.strip() for line in text.splitlines()}
        result = migrate_source(text, str(target))
        changed += result.changed
        target.write_text(result.source)
    assert changed >= 60

    checked = _ruff(project, "--output-format", "concise", config=config, select="I,E501")
    findings = checked.stdout.strip().splitlines()[:-1] if checked.returncode else []  # the last line counts them
    generated = [f for f in findings if not _left_long(project, f, user_lines)]
    assert not generated, "\n".join(generated) + checked.stderr


def _left_long(project: Path, finding: str, user_lines: dict[str, set[str]]) -> bool:
    """An E501 finding on a line the input already had (the codemod never rewraps the user's code), on the user's
    own comment, or on a string alone on its line, which no formatter splits (``f"val{dataloader_suffix(...)}",``)."""
    match = re.match(r"(.+?):(\d+):\d+: E501 ", finding)
    if match is None:
        return False
    path = project / match.group(1)
    line = path.read_text().splitlines()[int(match.group(2)) - 1].strip()
    if line in user_lines[path.name]:
        return True
    code, hash_, comment = line.partition("  #")
    if hash_ and any(user.endswith(hash_ + comment) for user in user_lines[path.name]):
        return True  # the user's comment, after the last line of a wrapped statement (as black leaves it)
    try:
        node = ast.parse(line.removesuffix(","), mode="eval").body
    except SyntaxError:
        return False
    return isinstance(node, (ast.Constant, ast.JoinedStr))
