"""Finding the project's import style: which file decides, what it says, and the sections it gives modules."""

from __future__ import annotations

from pathlib import Path

import pytest

from put_migrate.project_config import ConfigError, ImportStyle, import_style


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_defaults_without_configuration(tmp_path):
    style = import_style(_write(tmp_path / "a" / "m.py", ""))
    assert style.line_length == 88 and not style.force_single_line and style.source is None
    assert style.section("torch") == "third-party"
    assert style.section("os.path") == "standard-library"
    assert style.section("__future__") == "future"
    assert style.section("x", level=1) == "local-folder"


def test_ruff_settings_of_pyproject(tmp_path):
    _write(
        tmp_path / "pyproject.toml",
        '[tool.ruff]\nline-length = 100\n[tool.ruff.lint.isort]\nknown-first-party = ["shim"]\n'
        "force-sort-within-sections = true\n",
    )
    style = import_style(_write(tmp_path / "src" / "m.py", ""))
    assert style.line_length == 100 and style.force_sort_within_sections
    assert style.section("shim.metrics") == "first-party"
    assert style.source == tmp_path / "pyproject.toml"


def test_nearest_configuration_decides(tmp_path):
    _write(tmp_path / "pyproject.toml", "[tool.ruff]\nline-length = 100\n")
    _write(tmp_path / "sub" / "ruff.toml", "line-length = 70\n[lint.isort]\nforce-single-line = true\n")
    assert import_style(_write(tmp_path / "sub" / "deep" / "m.py", "")).line_length == 70
    assert import_style(_write(tmp_path / "other" / "m.py", "")).line_length == 100


def test_isort_profiles_and_ini_files(tmp_path):
    _write(tmp_path / "g" / "pyproject.toml", '[tool.isort]\nprofile = "google"\n')
    google = import_style(_write(tmp_path / "g" / "m.py", ""))
    assert google.force_single_line and google.force_sort_within_sections and not google.order_by_type
    assert google.single_line_exclusions == {"typing"}
    _write(tmp_path / "s" / "setup.cfg", "[isort]\nprofile = black\nknown_first_party = a, b\n")
    black = import_style(_write(tmp_path / "s" / "m.py", ""))
    assert black.line_length == 88 and black.section("b.c") == "first-party"
    _write(tmp_path / "i" / ".isort.cfg", "[settings]\nline_length = 99\nforce_single_line = true\n")
    ini = import_style(_write(tmp_path / "i" / "m.py", ""))
    assert ini.line_length == 99 and ini.force_single_line


def test_lines_between_types(tmp_path):
    assert import_style(_write(tmp_path / "d" / "m.py", "")).lines_between_types == 0
    _write(tmp_path / "r" / "pyproject.toml", "[tool.ruff.lint.isort]\nlines-between-types = 1\n")
    assert import_style(_write(tmp_path / "r" / "m.py", "")).lines_between_types == 1
    _write(tmp_path / "i" / "setup.cfg", "[isort]\nlines_between_types = 2\n")
    assert import_style(_write(tmp_path / "i" / "m.py", "")).lines_between_types == 2


def test_first_party_detected_from_src_and_own_package(tmp_path):
    _write(tmp_path / "pyproject.toml", '[project]\nname = "demo"\n')
    _write(tmp_path / "src" / "mylib" / "__init__.py", "")
    _write(tmp_path / "src" / "lightning" / "__init__.py", "")  # Lightning's own repository
    _write(tmp_path / "shim" / "__init__.py", "")  # a folder named like the runtime library is not it
    _write(tmp_path / "app" / "inner" / "__init__.py", "")
    _write(tmp_path / "app" / "__init__.py", "")
    style = import_style(_write(tmp_path / "app" / "inner" / "m.py", ""))
    assert style.section("mylib.x") == "first-party"
    assert style.section("lightning.pytorch") == "first-party"
    assert style.section("app.y") == "first-party"
    assert style.section("shim") == "third-party"
    assert style.section("numpy") == "third-party"


def test_known_third_party_wins_over_detection(tmp_path):
    _write(tmp_path / "ruff.toml", '[lint.isort]\nknown-third-party = ["mylib"]\n')
    _write(tmp_path / "mylib.py", "")
    assert import_style(_write(tmp_path / "m.py", "")).section("mylib") == "third-party"


def test_bad_configuration_names_the_file(tmp_path):
    bad = _write(tmp_path / "ruff.toml", "line-length = [\n")
    with pytest.raises(ConfigError, match=str(bad)):
        import_style(_write(tmp_path / "m.py", ""))


def test_text_without_a_path_uses_defaults():
    assert import_style("<string>") == ImportStyle()


def test_put_migrate_line_length_wins(tmp_path):
    _write(tmp_path / "pyproject.toml", "[tool.ruff]\nline-length = 100\n\n[tool.put-migrate]\nline-length = 120\n")
    assert import_style(_write(tmp_path / "m.py", "")).line_length == 120


def test_ruff_extend_inherits_settings(tmp_path):
    base = '[tool.ruff]\nline-length = 110\n[tool.ruff.lint.isort]\nknown-first-party = ["core"]\n'
    _write(tmp_path / "pyproject.toml", base)
    _write(tmp_path / "pkg" / "ruff.toml", 'extend = "../pyproject.toml"\n[lint.isort]\nforce-single-line = true\n')
    style = import_style(_write(tmp_path / "pkg" / "m.py", ""))
    assert style.line_length == 110 and style.force_single_line and style.section("core.x") == "first-party"


def test_a_relative_path_through_dotdot_reads_the_real_folders_above(tmp_path, monkeypatch):
    """`../other/m.py` from a project with a ruff configuration: the folders above are `other`'s, not the cwd's."""
    _write(tmp_path / "tool" / "pyproject.toml", "[tool.ruff]\nline-length = 120\n")
    _write(tmp_path / "other" / "m.py", "")
    monkeypatch.chdir(tmp_path / "tool")
    style = import_style("../other/m.py")
    assert style.line_length == 88 and style.source is None
