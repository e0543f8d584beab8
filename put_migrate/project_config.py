"""The user's project configuration: the import style (ruff or isort settings) and ``[tool.put-migrate]``.

Both are found upward from a folder, nearest first, and cached per folder. For the import style, in each folder:
``.ruff.toml``, ``ruff.toml``, ``pyproject.toml`` (``[tool.ruff]``, then ``[tool.isort]``), ``.isort.cfg``,
``setup.cfg`` (``[isort]``); the first one found decides. Without any, ruff's defaults apply. First-party modules are
the configured ones, the folders and modules found in ``src`` (default: the project root and its ``src`` folder, the
project root being the folder of the configuration, else of the nearest ``pyproject.toml``), and the top package of
the file itself (ruff's ``detect-same-package``). ``line-length`` in ``[tool.put-migrate]`` wins over the ruff or
isort one.
"""

from __future__ import annotations

import functools
import os
import re
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # the same parser, before it joined the standard library
    import tomli as tomllib

# Modules the migrated code imports at run time: third-party for the user's project unless configured otherwise
# (a folder of the same name in the user's tree is not the runtime library).
RUNTIME_MODULES = frozenset({"shim", "torchmetrics"})

SECTIONS = ("future", "standard-library", "third-party", "first-party", "local-folder")

# isort profiles, as far as placing and wrapping an import goes (isort/profiles.py).
_ISORT_PROFILES: dict[str, dict[str, Any]] = {
    "black": {"line_length": 88},
    "django": {"line_length": 79},
    "pycharm": {},
    "google": {
        "force_single_line": True,
        "force_sort_within_sections": True,
        "single_line_exclusions": ["typing"],
        "order_by_type": False,
        "line_length": 1000,
    },
    "open_stack": {"force_single_line": True, "force_sort_within_sections": True},
    "plone": {"force_single_line": True, "force_alphabetical_sort": True, "line_length": 200},
    "attrs": {"force_sort_within_sections": True, "line_length": 79},
    "hug": {"line_length": 100},
    "wemake": {"line_length": 80},
    "appnexus": {"line_length": 88},
}


class ConfigError(ValueError):
    """A configuration file that cannot be read; the message names the file."""


@dataclass(frozen=True)
class ImportStyle:
    """How the project sorts imports: ruff's ``lint.isort`` settings (isort's, translated), and its line length."""

    line_length: int = 88
    known_first_party: frozenset[str] = frozenset()
    known_third_party: frozenset[str] = frozenset()
    known_local_folder: frozenset[str] = frozenset()
    extra_standard_library: frozenset[str] = frozenset()
    force_single_line: bool = False
    single_line_exclusions: frozenset[str] = frozenset()
    force_sort_within_sections: bool = False
    order_by_type: bool = True
    case_sensitive: bool = False
    from_first: bool = False
    lines_between_types: int = 0  # blank lines between the ``import x`` and the ``from x import`` lines of a section
    src: tuple[Path, ...] = ()  # folders whose modules are first-party
    same_package: str | None = None  # the top package of the file being migrated
    source: Path | None = field(default=None, compare=False)  # the file the style was read from

    def section(self, module: str, level: int = 0) -> str:
        """The isort section of an import of ``module`` (``level``: the dots of a relative import)."""
        if level:
            return "local-folder"
        top = module.split(".")[0]
        if top == "__future__":
            return "future"
        for known, section in (
            (self.known_local_folder, "local-folder"),
            (self.known_first_party, "first-party"),
            (self.known_third_party, "third-party"),
            (self.extra_standard_library, "standard-library"),
        ):
            if _matches(module, known):
                return section
        if top in sys.stdlib_module_names:
            return "standard-library"
        if top in RUNTIME_MODULES:
            return "third-party"
        if top == self.same_package or _in_src(self.src, top):
            return "first-party"
        return "third-party"


def _matches(module: str, known: frozenset[str]) -> bool:
    parts = module.split(".")
    return any(".".join(parts[:n]) in known for n in range(1, len(parts) + 1))


@functools.lru_cache(maxsize=4096)
def _in_src(src: tuple[Path, ...], top: str) -> bool:
    return any((folder / top).is_dir() or (folder / f"{top}.py").is_file() for folder in src)


# --- discovery --------------------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=256)
def _read_toml(path: Path) -> dict[str, Any]:
    """The parsed file (cached: treat it as read-only)."""
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read: {exc.strerror or exc}") from None


def _read_ini(path: Path, sections: tuple[str, ...]) -> dict[str, str] | None:
    import configparser  # here: most projects configure isort in pyproject.toml, or nowhere

    parser = configparser.ConfigParser()
    try:
        parser.read(path, encoding="utf-8")
    except (configparser.Error, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot be parsed: {exc}") from None
    for name in sections:
        if parser.has_section(name):
            return dict(parser.items(name))
    return None


@functools.lru_cache(maxsize=1024)
def _import_settings_in(folder: Path) -> tuple[str, dict[str, Any], Path] | None:
    """("ruff" | "isort", settings, file) of the folder's own configuration, None when it has none."""
    for name in (".ruff.toml", "ruff.toml"):
        if (folder / name).is_file():
            return "ruff", _extended(_read_toml(folder / name), folder / name), folder / name
    pyproject = folder / "pyproject.toml"
    if pyproject.is_file():
        tool = _read_toml(pyproject).get("tool", {})
        if "ruff" in tool:
            return "ruff", _extended(tool["ruff"], pyproject), pyproject
        if "isort" in tool:
            return "isort", tool["isort"], pyproject
    if (folder / ".isort.cfg").is_file():
        settings = _read_ini(folder / ".isort.cfg", ("settings", "isort"))
        if settings is not None:
            return "isort", settings, folder / ".isort.cfg"
    if (folder / "setup.cfg").is_file():
        settings = _read_ini(folder / "setup.cfg", ("isort", "tool:isort"))
        if settings is not None:
            return "isort", settings, folder / "setup.cfg"
    return None


def _extended(settings: dict[str, Any], source: Path, seen: frozenset[Path] = frozenset()) -> dict[str, Any]:
    """Ruff settings with those of the file named by ``extend`` underneath (ruff's inheritance)."""
    if "extend" not in settings:
        return settings
    base_path = (source.parent / str(settings["extend"])).expanduser().resolve()
    if base_path in seen or not base_path.is_file():
        problem = "a cycle" if base_path in seen else "not a file"
        raise ConfigError(f"{source}: `extend` names {base_path}, which is {problem}")
    document = _read_toml(base_path)
    base = document.get("tool", {}).get("ruff", {}) if base_path.name == "pyproject.toml" else document
    base = _extended(base, base_path, seen | {base_path})
    merged = {**base, **settings}
    for table in ("lint", "isort"):
        if isinstance(base.get(table), dict) and isinstance(settings.get(table), dict):
            merged[table] = {**base[table], **settings[table]}
    if isinstance(base.get("lint", {}).get("isort"), dict) and isinstance(settings.get("lint", {}).get("isort"), dict):
        merged["lint"]["isort"] = {**base["lint"]["isort"], **settings["lint"]["isort"]}
    if "src" not in settings and "src" in base:  # ruff resolves paths relative to the file that sets them
        merged["src"] = [str(base_path.parent / s) for s in base["src"]]
    return merged


@functools.lru_cache(maxsize=1024)
def _folder_style(folder: Path) -> ImportStyle:
    for candidate in (folder, *folder.parents):
        found = _import_settings_in(candidate)
        if found is not None:
            kind, settings, source = found
            read = _ruff_style if kind == "ruff" else _isort_style
            return read(settings, source)
    root = next((f for f in (folder, *folder.parents) if (f / "pyproject.toml").is_file()), folder)
    return ImportStyle(src=(root, root / "src"))


def import_style(path: str | Path | None) -> ImportStyle:
    """The import style for the file at ``path`` (``None`` or ``"<string>"``: ruff's defaults, nothing detected).
    ``line-length`` of ``[tool.put-migrate]`` wins over the ruff or isort line length."""
    if path is None or str(path) in ("<string>", "-", ""):
        return ImportStyle()
    folder = Path(os.path.abspath(path)).parent  # `..` resolved: the parents are the real folders above
    while not folder.is_dir() and folder != folder.parent:  # a name given for stdin text
        folder = folder.parent
    style = _folder_style(folder)
    changes: dict[str, Any] = {}
    package = _top_package(folder)
    if package is not None:
        changes["same_package"] = package
    line_length = _tool_line_length(folder)
    if line_length is not None:
        changes["line_length"] = line_length
    return replace(style, **changes) if changes else style


@functools.lru_cache(maxsize=1024)
def _top_package(folder: Path) -> str | None:
    top = None
    while (folder / "__init__.py").is_file() and folder != folder.parent:
        top, folder = folder.name, folder.parent
    return top


# --- settings ---------------------------------------------------------------------------------------------------


def _names(value: Any) -> frozenset[str]:
    if isinstance(value, str):  # isort's ini form: comma or newline separated
        return frozenset(v.strip() for v in re.split(r"[,\n]", value) if v.strip())
    return frozenset(str(v) for v in value or ())


def _flag(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


def _int(value: Any, key: str, source: Path) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{source}: `{key}` must be an integer, got {value!r}") from None


def _ruff_style(settings: dict[str, Any], source: Path) -> ImportStyle:
    lint = settings.get("lint", {})
    isort = {**settings.get("isort", {}), **lint.get("isort", {})}  # `[tool.ruff.isort]`: the older spelling
    root = source.parent
    src = tuple(root / s for s in settings.get("src", [".", "src"]))
    return ImportStyle(
        line_length=_int(settings.get("line-length", 88), "line-length", source),
        known_first_party=_names(isort.get("known-first-party")),
        known_third_party=_names(isort.get("known-third-party")),
        known_local_folder=_names(isort.get("known-local-folder")),
        extra_standard_library=_names(isort.get("extra-standard-library")),
        force_single_line=_flag(isort.get("force-single-line", False)),
        single_line_exclusions=_names(isort.get("single-line-exclusions")),
        force_sort_within_sections=_flag(isort.get("force-sort-within-sections", False)),
        order_by_type=_flag(isort.get("order-by-type", True)),
        case_sensitive=_flag(isort.get("case-sensitive", False)),
        from_first=_flag(isort.get("from-first", False)),
        lines_between_types=_int(isort.get("lines-between-types", 0), "lines-between-types", source),
        src=tuple(dict.fromkeys(src)),
        source=source,
    )


def _isort_style(settings: dict[str, Any], source: Path) -> ImportStyle:
    given = {key.replace("-", "_"): value for key, value in settings.items()}
    profile = str(given.get("profile", "")).strip()
    merged = {"line_length": 79, **_ISORT_PROFILES.get(profile, {}), **given}
    root = source.parent
    src = tuple(root / s for s in _names(merged["src_paths"])) if "src_paths" in merged else (root, root / "src")
    return ImportStyle(
        line_length=_int(merged["line_length"], "line_length", source),
        known_first_party=_names(merged.get("known_first_party")),
        known_third_party=_names(merged.get("known_third_party")),
        known_local_folder=_names(merged.get("known_local_folder")),
        extra_standard_library=(
            _names(merged.get("extra_standard_library")) | _names(merged.get("known_standard_library"))
        ),
        force_single_line=_flag(merged.get("force_single_line", False)),
        single_line_exclusions=_names(merged.get("single_line_exclusions")),
        force_sort_within_sections=_flag(merged.get("force_sort_within_sections", False)),
        order_by_type=_flag(merged.get("order_by_type", True)) and not _flag(merged.get("force_alphabetical_sort")),
        case_sensitive=_flag(merged.get("case_sensitive", False)),
        from_first=_flag(merged.get("from_first", False)),
        lines_between_types=_int(merged.get("lines_between_types", 0), "lines_between_types", source),
        src=src,
        source=source,
    )


# --- [tool.put-migrate] ---------------------------------------------------------------------------------------

TOOL_TABLE = "tool.put-migrate"


def _glob_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _boolean(value: Any) -> bool:
    return isinstance(value, bool)


def _positive_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


# key -> (check, what it must be)
TOOL_KEYS: dict[str, tuple[Any, str]] = {
    "exclude": (_glob_list, "a list of glob strings"),
    "extend-exclude": (_glob_list, "a list of glob strings"),
    "jobs": (_positive_int, "an integer >= 1"),
    "line-length": (_positive_int, "an integer >= 1"),
    "add-todo": (_boolean, "true or false"),
}


@dataclass(frozen=True)
class ToolConfig:
    """The ``[tool.put-migrate]`` table of a pyproject.toml, checked: known keys, values of the right type."""

    path: Path | None = None
    settings: dict[str, Any] = field(default_factory=dict)


def _tool_table(document: dict[str, Any]) -> dict[str, Any] | None:
    table = document.get("tool", {}).get("put-migrate")
    return table if isinstance(table, dict) else None


def read_tool_config(path: Path) -> ToolConfig:
    """The ``[tool.put-migrate]`` table of ``path`` (empty when it has none). Raises ``ConfigError`` naming the
    file, the key and what it must be, for an unknown key or a value of the wrong type."""
    table = _tool_table(_read_toml(path)) or {}
    for key, value in table.items():
        if key not in TOOL_KEYS:
            known = ", ".join(sorted(TOOL_KEYS))
            raise ConfigError(f"{path}: [{TOOL_TABLE}] has an unknown key `{key}` (known keys: {known})")
        check, expected = TOOL_KEYS[key]
        if not check(value):
            raise ConfigError(f"{path}: [{TOOL_TABLE}] `{key}` must be {expected}, got {value!r}")
    return ToolConfig(path, dict(table))


def find_tool_config(start: Path) -> ToolConfig:
    """The nearest pyproject.toml at or above ``start`` that has a ``[tool.put-migrate]`` table, read."""
    start = Path(os.path.abspath(start))
    for folder in (start, *start.parents):
        candidate = folder / "pyproject.toml"
        if candidate.is_file() and _tool_table(_read_toml(candidate)) is not None:
            return read_tool_config(candidate)
    return ToolConfig()


@functools.lru_cache(maxsize=1024)
def _tool_line_length(folder: Path) -> int | None:
    found = find_tool_config(folder)
    return found.settings.get("line-length")


# --- the repository root ----------------------------------------------------------------------------------------


def repository_root(start: Path) -> Path:
    """Where report paths are anchored: the git top level, else the nearest folder with a pyproject.toml, else
    ``start``."""
    import subprocess

    start = Path(os.path.abspath(start))
    try:
        proc = subprocess.run(
            ["git", "rev-parse", "--show-toplevel"], cwd=start, capture_output=True, text=True, check=False
        )
    except OSError:  # no git
        proc = None
    if proc is not None and proc.returncode == 0 and proc.stdout.strip():
        return Path(proc.stdout.strip())
    return next((f for f in (start, *start.parents) if (f / "pyproject.toml").is_file()), start)
