"""Which files to look at, and which of them are worth parsing.

Discovery (``discover_files``), with ruff's exclusion options:

- A folder is searched for ``*.py`` files and Jupyter notebooks (``*.ipynb``, see ``notebook.py``). Inside a git
  work tree the list comes from ``git ls-files --cached --others --exclude-standard``: git decides what is ignored
  (``.gitignore``), and a tracked file is never skipped by the built-in list. Outside one, or when git is missing,
  or when the folder itself is git-ignored (the user named it, so they mean it), from a walk.
- The built-in list (``SKIPPED_DIRS``, and any folder holding a ``pyvenv.cfg``: tool caches, virtualenvs, build
  output) applies to folders below a named folder outside git, and to untracked files inside git.
- ``excludes`` (``--exclude GLOB``) replaces the built-in list; ``extend_excludes`` (``--extend-exclude``) adds to
  it. Their globs (``fnmatch``; ``*`` also matches ``/``) apply to tracked files too, and drop a path when they
  match its name, its path relative to the current folder, or the name or relative path of a folder it sits in
  below the named folder (``--exclude src/legacy`` drops everything below it).
- A path named on the command line is taken as it is (a file whatever its suffix, a folder even when it is one of
  the built-in list: ``put-migrate .venv/lib``), unless ``force_exclude`` (``--force-exclude``): then the
  exclusions apply to it and to the folders it sits in (pre-commit names every file it hands over), the built-in
  list only outside git.
- A symbolic link is never written: one to a file of the run gives way to that file; others are kept, for the run
  to report.

Pre-filter (``may_contain_log_call``): a file is parsed only when its text contains ``X.log(`` or
``X.log_dict(`` where ``X`` is not a well-known maths module (``torch.log(x)``, ``np.log(x)``, ...), and the word
``lightning``, or the name of a Lightning class of the project found by the repository index (``index.py``):
a subclass of a project base class defined in another file need not mention ``lightning``; or a method named like a
Lightning hook (``def training_step(``): its class may derive from a base that cannot be resolved (PM222).
"""

from __future__ import annotations

import fnmatch
import operator
import os
import re
import stat
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
MATHS_RECEIVERS = frozenset(
    {"torch", "math", "cmath", "np", "numpy", "jnp", "jax", "sympy", "sp", "mpmath", "tf", "F", "scipy", "special"}
)


# A fast search: a pattern that starts with a literal (``re`` skips ahead to it), and the rest checked in Python
# where a match is found (``_log_call_receivers``). A leading ``\w*`` makes ``re`` try every position of the text:
# tens of milliseconds for a large file.
_LOG_CALL_TAIL = re.compile(_LOG_CALL.pattern[len(r"(\w*)\s*"):])
_RECEIVER = re.compile(r"(\w*)\s*\Z")  # what `(\w*)\s*` matches just before the dot of a `.log(`
_CLASS_WITH_BASES = re.compile(r"class[ \t]+\w+[ \t]*\(")
_NO_ARGUMENTS = re.compile(r"\s*\)")  # what follows the ``(`` of a call given nothing


def _log_call_receivers(text: str, with_arguments: bool = False):
    r"""``match.group(1) for match in _LOG_CALL.finditer(text)``, but None for an attribute (``self.logger.log(``:
    no receiver the syntax screen looks at). Each match of ``_LOG_CALL`` starts right at the ``\w*\s*`` before the
    dot of a match of its tail, and ends where that tail ends (with ``(``). ``with_arguments``: only the calls
    given something (``x.log()`` is a tensor's logarithm: Lightning's ``log`` needs a name and a value)."""
    position = 0
    while True:
        match = _LOG_CALL_TAIL.search(text, position)
        if match is None:
            return
        if with_arguments and _NO_ARGUMENTS.match(text, match.end()):
            position = match.end()
            continue
        # The positions where `(\w*)\s*\Z` matches form one run just before the dot: look at the last 200
        # characters first, and further back only when the run reaches their start.
        dot = match.start()
        window = max(position, dot - 200)
        receiver = _RECEIVER.search(text, window, dot)
        assert receiver is not None  # the pattern matches any text, if only with an empty word
        if receiver.start() == window and window > position:
            receiver = _RECEIVER.search(text, position, dot)
            assert receiver is not None
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
    receivers = (r for r in _log_call_receivers(text) if r is not None and r not in MATHS_RECEIVERS)
    if "lightning" in text:
        return next(receivers, None) is not None  # the first one decides: no need to scan the rest
    if not _CLASS_WITH_BASES.search(text):
        return False
    names = set(receivers)  # each name's parameter search once, however often it logs
    if not names.isdisjoint(("self", "pl_module")):
        return True
    # Any other name counts as a Callback hook's module parameter only where a call on it is given arguments: a
    # tensor parameter's ``i.log()`` (hundreds in torch's own tests) would send the file to the syntax screen.
    names = {r for r in _log_call_receivers(text, with_arguments=True) if r is not None and r not in MATHS_RECEIVERS}
    return any(name and _third_parameter(text, name) for name in names)


def calls_log_off_maths(text: str) -> bool:
    """``.log(``/``.log_dict(`` called on something other than a maths library (``torch.log(x)`` is not): anyone's
    ``log``, Lightning's among them (``self.log``, ``self.lightning_module.log``, ``model.log``)."""
    return ".log" in text and any(r is None or r not in MATHS_RECEIVERS for r in _log_call_receivers(text))


def file_may_contain_log_call(path: Path) -> bool:
    """``may_contain_log_call`` for a file on disk (a notebook's JSON text will do); True when it cannot be read
    (the run reports it)."""
    try:
        data = Path(path).read_bytes()
    except OSError:
        return True
    return may_contain_log_call(data.decode("utf-8", errors="replace"))


def _third_parameter(text: str, name: str) -> bool:
    """Whether ``name`` is the third parameter of a ``def`` of ``text`` (``def hook(self, trainer, name``)."""
    pattern = r"def[ \t]+\w+[ \t]*\(\s*\w+[^,()]*,\s*\w+[^,()]*,\s*" + re.escape(name) + r"\b"
    return re.search(pattern, text) is not None


def has_skip_file_marker(text: str) -> bool:
    """``# put-migrate: skip-file`` on one of the first SKIP_FILE_LINES lines opts the whole file out."""
    head = text.split("\n", SKIP_FILE_LINES)[:SKIP_FILE_LINES]
    return any(SKIP_FILE_MARKER in line for line in head)


class _Exclusions:
    """A run's exclusion list: the user's globs (``--exclude`` and ``--extend-exclude``), and the built-in list
    unless ``--exclude`` replaced it. Folder answers are cached: a tree has far fewer folders than files."""

    def __init__(self, excludes: Sequence[str], extend_excludes: Sequence[str], cwd: Path) -> None:
        self.globs = tuple(g.rstrip("/") for g in (*excludes, *extend_excludes))
        self.built_in = not excludes
        self.cwd = cwd
        self._folders: dict[tuple[Path, bool], bool] = {}
        self._in_git: dict[Path, bool] = {}

    def glob_matches(self, path: Path) -> bool:
        if not self.globs:
            return False
        name, rel = path.name, _display_path(path, self.cwd)
        return any(fnmatch.fnmatchcase(name, g) or fnmatch.fnmatchcase(rel, g) for g in self.globs)

    def folder(self, folder: Path, built_in: bool) -> bool:
        """The folder is excluded: by a glob, or (``built_in``, where the built-in list applies) by that list."""
        key = (folder, built_in)
        answer = self._folders.get(key)
        if answer is None:
            answer = self.glob_matches(folder) or (
                built_in and self.built_in and (folder.name in SKIPPED_DIRS or (folder / "pyvenv.cfg").exists())
            )
            self._folders[key] = answer
        return answer

    def below(self, root: Path, path: Path, built_in: bool) -> bool:
        """A file found below the named folder root is excluded: by its own name or path, or by a folder between
        root and it."""
        if not self.globs and not (built_in and self.built_in):
            return False
        if self.glob_matches(path):
            return True
        try:
            parts = path.relative_to(root).parts[:-1]
        except ValueError:
            return False
        folder = root
        for part in parts:
            folder = folder / part
            if self.folder(folder, built_in):
                return True
        return False

    def named(self, path: Path) -> bool:
        """--force-exclude: a path named on the command line is excluded, by itself or a folder it sits in (the
        built-in list only outside git, where git does not decide)."""
        built_in = self.built_in and not self._inside_git(path.absolute().parent)
        if self.glob_matches(path) or (path.is_dir() and self.folder(path, built_in)):
            return True
        rel = Path(_display_path(path, self.cwd))
        folders = [Path(*rel.parts[: i + 1]) for i in range(len(rel.parts) - 1) if rel.parts[i] != ".."]
        return any(self.folder(folder, built_in) for folder in folders)

    def _inside_git(self, folder: Path) -> bool:
        answer = self._in_git.get(folder)
        if answer is None:
            answer = (folder / ".git").exists() or (folder.parent != folder and self._inside_git(folder.parent))
            self._in_git[folder] = answer
        return answer


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


PYTHON_SUFFIXES = (".py", ".ipynb")


def _git_list(
    folder: Path, suffixes: tuple[str, ...] = PYTHON_SUFFIXES
) -> list[tuple[Path, bool, os.stat_result]] | None:
    """Files with these suffixes under folder as git sees them (tracked + untracked, minus ignored), each with whether git
    tracks it and its ``lstat``; None outside git."""
    if not _may_be_in_git(folder):
        return None
    try:
        # One process answers both questions: 0, the folder is ignored (the user named it: walk it); 1, it is not;
        # 128, git finds no work tree here (outside a repository, inside a .git folder).
        ignored = subprocess.run(
            ["git", "check-ignore", "-q", "--no-index", "."], cwd=folder, capture_output=True, check=False
        )
        if ignored.returncode != 1:
            return None
        listed = subprocess.run(
            ["git", "ls-files", "-z", "-t", "--cached", "--others", "--exclude-standard", "--", "."],
            cwd=folder,
            capture_output=True,
            check=False,
        )
    except OSError:  # git is not installed
        return None
    if listed.returncode != 0:
        return None
    files = []
    for entry in listed.stdout.split(b"\0"):
        tag, raw = entry[:2], entry[2:]  # "H " (tracked; other letters for special states) or "? " (untracked)
        if raw.endswith(tuple(os.fsencode(s) for s in suffixes)):
            path = folder / os.fsdecode(raw)
            try:
                info = os.lstat(path)
            except OSError:  # --cached lists files deleted from the work tree
                continue
            # Submodules are folders; a link that leads nowhere is kept for the run to report.
            if stat.S_ISREG(info.st_mode) or (stat.S_ISLNK(info.st_mode) and not path.is_dir()):
                files.append((path, tag != b"? ", info))
    return files


def _may_be_in_git(folder: Path) -> bool:
    """False only where git would find no work tree: no ``.git`` (folder or file) in the folder or above it, and
    no ``GIT_DIR``/``GIT_WORK_TREE`` in the environment. Spares a ``git`` process per folder outside git."""
    if os.environ.get("GIT_DIR") or os.environ.get("GIT_WORK_TREE"):
        return True
    current = os.path.realpath(folder)  # git searches up from the physical folder
    while True:
        if os.path.lexists(os.path.join(current, ".git")):
            return True
        parent = os.path.dirname(current)
        if parent == current:
            return False
        current = parent


_NAME = operator.attrgetter("name")


def _walk(
    folder: Path, exclusions: _Exclusions, suffixes: tuple[str, ...] = PYTHON_SUFFIXES
) -> list[tuple[Path, os.stat_result | None]]:
    """The files below folder, each with its ``lstat`` (None where it cannot be had), in ``os.walk``'s order with
    each folder's names sorted; links to folders are not followed. A folder that cannot be listed is skipped."""
    files: list[tuple[Path, os.stat_result | None]] = []

    def visit(here: Path) -> None:
        try:
            with os.scandir(here) as listing:
                entries = sorted(listing, key=_NAME)
        except OSError:
            return
        folders = []
        for entry in entries:
            try:
                is_folder = entry.is_dir()
            except OSError:
                is_folder = False
            if is_folder:
                folders.append(entry)
            elif entry.name.endswith(suffixes):
                path = here / entry.name
                # The folders on the way down are checked already: only the file's own name and path are left.
                if not exclusions.glob_matches(path):
                    try:
                        info: os.stat_result | None = entry.stat(follow_symlinks=False)
                    except OSError:
                        info = None
                    files.append((path, info))
        for entry in folders:
            path = here / entry.name
            if not exclusions.folder(path, built_in=True) and not entry.is_symlink():
                visit(path)

    visit(folder)
    return files


def _identity(path: Path) -> object:
    """The file a path names (a link and its target are one file): one ``stat``, where ``resolve`` costs one per
    folder of the path. A link that leads nowhere (a loop, a missing target) is its own identity."""
    try:
        info = os.stat(path)
    except OSError:
        return os.path.abspath(path)
    return (info.st_dev, info.st_ino)


def _is_link(path: Path) -> bool:
    try:
        return stat.S_ISLNK(os.lstat(path).st_mode)
    except OSError:
        return False


def discover_files(
    paths: Iterable[str | Path],
    excludes: Sequence[str] = (),
    *,
    extend_excludes: Sequence[str] = (),
    force_exclude: bool = False,
    suffixes: tuple[str, ...] = PYTHON_SUFFIXES,
) -> list[Path]:
    """The files to process for the given command-line paths, each once, in a stable order (below a folder, those
    whose names end with ``suffixes``).

    ``excludes`` replaces the built-in list, ``extend_excludes`` adds to it, ``force_exclude`` applies them to the
    paths named too (ruff's ``--exclude``, ``--extend-exclude``, ``--force-exclude``; see the module docstring).
    A symbolic link is never what the run writes: a link to a file the run processes anyway is dropped (the
    target is migrated once, under its own name); any other link (to a file outside the run, a loop, a missing
    target) is kept, after the other files, for the run to report (``safety.atomic_write`` never replaces one).
    Raises FileNotFoundError for a path that does not exist.
    """
    exclusions = _Exclusions(excludes, extend_excludes, Path.cwd())
    seen: set[object] = set()
    found: list[Path] = []
    links: list[Path] = []

    def add(path: Path, info: os.stat_result | None = None) -> None:
        """``info``: the path's ``lstat``, where the caller has it (a file's identity, unless it is a link)."""
        if info is None:
            try:
                info = os.lstat(path)
            except OSError:
                info = None
        if info is not None and stat.S_ISLNK(info.st_mode):
            links.append(path)
            return
        key = (info.st_dev, info.st_ino) if info is not None else _identity(path)
        if key not in seen:
            seen.add(key)
            found.append(path)

    for raw in paths:
        path = Path(raw)
        is_file = path.is_file() or (_is_link(path) and not path.is_dir())
        if not is_file and not path.is_dir():
            raise FileNotFoundError(str(raw))
        if force_exclude and exclusions.named(path):
            continue
        if is_file:
            add(path)
            continue
        listed = _git_list(path, suffixes)
        if listed is None:
            candidates = _walk(path, exclusions, suffixes)
        else:
            candidates = [
                (p, info) for p, tracked, info in sorted(listed, key=lambda entry: entry[0])
                if not exclusions.below(path, p, built_in=not tracked)
            ]
        for candidate, info in candidates:
            add(candidate, info)
    for link in links:
        key = _identity(link)
        if key not in seen:
            seen.add(key)
            found.append(link)
    return found
