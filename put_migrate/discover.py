"""Which files to look at, and which of them are worth parsing.

Discovery (``discover_files``):

- A file named on the command line is taken as it is (whatever its suffix), unless an ``--exclude`` glob matches.
- A folder is searched for ``*.py`` files and Jupyter notebooks (``*.ipynb``, see ``notebook.py``). Inside a git
  work tree the list comes from
  ``git ls-files --cached --others --exclude-standard`` (so ``.gitignore`` is honoured); outside one, or when git is
  missing, or when the folder itself is git-ignored (the user named it, so they mean it), from a walk.
- Below a named folder, folders named like tool or environment caches are never entered (``SKIPPED_DIRS``, and
  any folder holding a ``pyvenv.cfg``). The named folder itself may be one of them (``put-migrate .venv/lib``).
- ``--exclude GLOB`` (``fnmatch``; ``*`` also matches ``/``) drops a path when it matches the path relative to the
  current folder, its file name, the name of any folder it sits in, or the relative path of such a folder
  (``--exclude src/legacy`` drops everything below it).

Pre-filter (``may_contain_log_call``): a file is parsed only when its text contains ``X.log(`` or
``X.log_dict(`` where ``X`` is not a well-known maths module (``torch.log(x)``, ``np.log(x)``, ...), and the word
``lightning``, or the name of a Lightning class of the project found by the repository index (``index.py``):
a subclass of a project base class defined in another file need not mention ``lightning``; or a method named like a
Lightning hook (``def training_step(``): its class may derive from a base that cannot be resolved (PM222).
"""

from __future__ import annotations

import fnmatch
import os
import re
import subprocess
from collections.abc import Iterable, Sequence
from pathlib import Path

SKIPPED_DIRS = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        "__pycache__",
        "node_modules",
        "site-packages",
        "build",
        ".venv",
        "venv",
        ".tox",
        ".nox",
        ".eggs",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
        ".ipynb_checkpoints",
    }
)

SKIP_FILE_MARKER = "# put-migrate: skip-file"
SKIP_FILE_LINES = 10  # the marker counts only within the first lines of a file

# `<receiver>.log(` / `<receiver>.log_dict(`; the receiver is empty for `foo().log(` and `x[0].log(`.
_LOG_CALL = re.compile(r"(\w*)\s*\.\s*log(?:_dict)?\s*\(")
# Receivers whose `.log(` is a logarithm, never Lightning's logger.
_MATHS_RECEIVERS = frozenset(
    {"torch", "math", "cmath", "np", "numpy", "jnp", "jax", "sympy", "sp", "mpmath", "tf", "F", "scipy", "special"}
)


# A fast search: a pattern that starts with a literal (``re`` skips ahead to it), and the rest checked in Python
# where a match is found (``_log_call_receivers``). A leading ``\w*`` makes ``re`` try every position of the text:
# tens of milliseconds for a large file.
_LOG_CALL_TAIL = re.compile(_LOG_CALL.pattern[len(r"(\w*)\s*"):])
_RECEIVER = re.compile(r"(\w*)\s*\Z")  # what `(\w*)\s*` matches just before the dot of a `.log(`
_CLASS_WITH_BASES = re.compile(r"class[ \t]+\w+[ \t]*\(")


def _log_call_receivers(text: str):
    """``match.group(1) for match in _LOG_CALL.finditer(text)``, but None for an attribute (``self.logger.log(``:
    no receiver the syntax screen looks at). Each match of ``_LOG_CALL`` starts right at the ``\w*\s*`` before the
    dot of a match of its tail, and ends where that tail ends (with ``(``)."""
    position = 0
    while True:
        match = _LOG_CALL_TAIL.search(text, position)
        if match is None:
            return
        # The positions where `(\w*)\s*\Z` matches form one run just before the dot: look at the last 200
        # characters first, and further back only when the run reaches their start.
        dot = match.start()
        window = max(position, dot - 200)
        receiver = _RECEIVER.search(text, window, dot)
        if receiver.start() == window and window > position:
            receiver = _RECEIVER.search(text, position, dot)
        word = receiver.group(1)
        yield None if word and text[receiver.start() - 1:receiver.start()] == "." else word
        position = match.end()


def may_contain_log_call(text: str) -> bool:
    """Cheap test: can this text contain a Lightning ``.log(``/``.log_dict(`` call? False means certainly not.

    A class derived from a project class need not mention ``lightning``: there, a class with bases and a call on a
    receiver the syntax screen (``screen.py``) looks at, ``self``, ``pl_module`` or a method's third parameter,
    pass (``probs.log()`` in a torch module does not)."""
    if ".log" not in text:
        return False
    receivers = (r for r in _log_call_receivers(text) if r is not None and r not in _MATHS_RECEIVERS)
    if "lightning" in text:
        return next(receivers, None) is not None  # the first one decides: no need to scan the rest
    if not _CLASS_WITH_BASES.search(text):
        return False
    names = set(receivers)  # each name's parameter search once, however often it logs
    return not names.isdisjoint(("self", "pl_module")) or any(name and _third_parameter(text, name) for name in names)


def _third_parameter(text: str, name: str) -> bool:
    """Whether ``name`` is the third parameter of a ``def`` of ``text`` (``def hook(self, trainer, name``)."""
    pattern = r"def[ \t]+\w+[ \t]*\(\s*\w+[^,()]*,\s*\w+[^,()]*,\s*" + re.escape(name) + r"\b"
    return re.search(pattern, text) is not None


def has_skip_file_marker(text: str) -> bool:
    """``# put-migrate: skip-file`` on one of the first SKIP_FILE_LINES lines opts the whole file out."""
    head = text.split("\n", SKIP_FILE_LINES)[:SKIP_FILE_LINES]
    return any(SKIP_FILE_MARKER in line for line in head)


def is_excluded(path: Path, excludes: Sequence[str], cwd: Path | None = None) -> bool:
    """True when an --exclude glob matches the path relative to cwd, its name, or one of its folders' names."""
    if not excludes:
        return False
    rel = _display_path(path, cwd)
    parts = Path(rel).parts
    folders = ["/".join(parts[: i + 1]) for i in range(len(parts) - 1)]
    candidates = [rel, path.name, *parts[:-1], *folders]
    return any(fnmatch.fnmatchcase(c, pattern.rstrip("/")) for pattern in excludes for c in candidates)


def _display_path(path: Path, cwd: Path | None = None) -> str:
    cwd = cwd or Path.cwd()
    text = os.fspath(path)
    if os.sep == "/" and not _NOT_NORMAL.search(text):  # what ``relpath`` gives, without its two ``abspath`` calls
        if not text.startswith("/"):
            return text
        base = os.fspath(cwd)
        if text.startswith(base + "/") and base != "/":
            return text[len(base) + 1:]
    try:
        relative = os.path.relpath(path, cwd)  # normalised: as ``Path(...).as_posix()`` once the separators are
    except ValueError:  # another drive on Windows
        return Path(path).as_posix()
    return relative if os.sep == "/" else relative.replace(os.sep, "/")


display_path = _display_path  # how a path is shown to the user (relative to the current folder when below it)

_NOT_NORMAL = re.compile(r"(?:^|/)\.\.?(?:/|$)|//|/$")  # a "." or ".." segment, an empty one, a trailing "/"


def _skipped_below(root: Path, path: Path) -> bool:
    """True when a folder between root (excluded) and path is one we never enter."""
    try:
        parts = path.relative_to(root).parts[:-1]
    except ValueError:
        return False
    return any(part in SKIPPED_DIRS for part in parts)


PYTHON_SUFFIXES = (".py", ".ipynb")


def _git_list(folder: Path, suffixes: tuple[str, ...] = PYTHON_SUFFIXES) -> list[Path] | None:
    """Files with these suffixes under folder as git sees them (tracked + untracked, minus ignored), or None
    outside git."""
    try:
        inside = subprocess.run(
            ["git", "rev-parse", "--is-inside-work-tree"], cwd=folder, capture_output=True, check=False
        )
        if inside.returncode != 0 or inside.stdout.strip() != b"true":
            return None
        ignored = subprocess.run(
            ["git", "check-ignore", "-q", "--no-index", "."], cwd=folder, capture_output=True, check=False
        )
        if ignored.returncode == 0:  # the folder itself is ignored: the user named it, walk it
            return None
        listed = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard", "--", "."],
            cwd=folder,
            capture_output=True,
            check=False,
        )
    except OSError:  # git is not installed
        return None
    if listed.returncode != 0:
        return None
    files = []
    for raw in listed.stdout.split(b"\0"):
        if raw.endswith(tuple(os.fsencode(s) for s in suffixes)):
            path = folder / os.fsdecode(raw)
            if path.is_file():  # --cached lists files deleted from the work tree; submodules are folders
                files.append(path)
    return files


def _walk(folder: Path, suffixes: tuple[str, ...] = PYTHON_SUFFIXES) -> list[Path]:
    files = []
    for dirpath, dirnames, filenames in os.walk(folder):
        here = Path(dirpath)
        dirnames[:] = sorted(
            d for d in dirnames if d not in SKIPPED_DIRS and not (here / d / "pyvenv.cfg").exists()
        )
        files.extend(here / f for f in sorted(filenames) if f.endswith(suffixes))
    return files


def _in_virtualenv(root: Path, path: Path) -> bool:
    """A folder between root and path (both excluded) holds a pyvenv.cfg."""
    parent = path.parent
    while parent != root and root in parent.parents:
        if (parent / "pyvenv.cfg").exists():
            return True
        parent = parent.parent
    return False


def _identity(path: Path) -> object:
    """The file a path names (a link and its target are one file): one ``stat``, where ``resolve`` costs one per
    folder of the path."""
    try:
        info = os.stat(path)
    except OSError:
        return path.resolve()
    return (info.st_dev, info.st_ino)


def discover_files(
    paths: Iterable[str | Path], excludes: Sequence[str] = (), suffixes: tuple[str, ...] = PYTHON_SUFFIXES
) -> list[Path]:
    """The files to process for the given command-line paths, each once, in a stable order (below folders, those
    whose names end with ``suffixes``).

    Raises FileNotFoundError for a path that does not exist.
    """
    seen: set[object] = set()
    found: list[Path] = []

    def add(path: Path) -> None:
        key = _identity(path)
        if key not in seen and not is_excluded(path, excludes):
            seen.add(key)
            found.append(path)

    for raw in paths:
        path = Path(raw)
        if path.is_file():
            add(path)
        elif path.is_dir():
            listed = _git_list(path, suffixes)
            if listed is None:
                candidates = _walk(path, suffixes)
            else:
                candidates = [
                    p for p in sorted(listed) if not _skipped_below(path, p) and not _in_virtualenv(path, p)
                ]
            for candidate in candidates:
                add(candidate)
        else:
            raise FileNotFoundError(str(raw))
    return found
