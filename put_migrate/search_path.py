"""Where a module that no file of the run defines lives on disk: the index reads it from there, through the imports.

A run may be given some files only (pre-commit passes the staged ones): the module that defines a base of their
classes is then found as Python would find it from the project's folders. ``a.b`` is ``<folder>/a/b.py`` or
``<folder>/a/b/__init__.py``, where ``<folder>`` is, first, the folder of a package the module's name starts with
(a package of a file of the run or of one read from disk: the index makes a relative import dotted from the
importing file's module key, ``pkg.child`` -> ``pkg.base``), then each folder of the run's files and each folder
above it up to its repository root (the git top level, else the nearest folder with a ``pyproject.toml``:
``project_config.repository_root``), then ``<root>/src``; nearest first, the first found wins. Nothing is looked
at before a query misses: a run given a whole tree finds its modules among its own files and never lists a folder.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path


class SearchPath:
    """The folders a run's files import from, found (and each listed) the first time a module is looked for."""

    def __init__(self, files: Iterable[Path | str]) -> None:
        self._files = tuple(os.fspath(f) for f in files)
        self._folders: tuple[str, ...] | None = None
        self._packages: dict[str, str] | None = None  # dotted package -> its folder
        self._entries: dict[str, frozenset[str]] = {}
        self._found: dict[str, str | None] = {}

    def __getstate__(self) -> dict:  # a worker process looks the folders up again, if it ever needs them
        return {**self.__dict__, "_packages": None, "_entries": {}, "_found": {}}

    def locate(self, module: str) -> str | None:
        """The path of the file that defines dotted ``module`` (a module, or a package's ``__init__.py``), else
        None."""
        if module in self._found:
            return self._found[module]
        parts = module.split(".")
        found = self._in_package(parts)  # a module key may name folders no import can (``lightning-bolts``)
        if found is None and all(part.isidentifier() for part in parts):
            for folder in self.folders():
                found = self._in(folder, parts)
                if found is not None:
                    break
        self._found[module] = found
        return found

    def add(self, path: str) -> None:
        """A file read from disk: its packages are searched too (its own relative imports)."""
        if self._packages is not None:
            _add_packages(self._packages, path)
        self._found = {module: found for module, found in self._found.items() if found is not None}

    def _in_package(self, parts: list[str]) -> str | None:
        if self._packages is None:
            self._packages = {}
            for file in self._files:
                _add_packages(self._packages, file)
        for end in range(len(parts) - 1, 0, -1):  # the longest package first
            folder = self._packages.get(".".join(parts[:end]))
            if folder is not None and all(part.isidentifier() for part in parts[end:]):
                found = self._in(folder, parts[end:])
                if found is not None:
                    return found
        return None

    def folders(self) -> tuple[str, ...]:
        if self._folders is None:
            self._folders = _folders_of(self._files)
        return self._folders

    def _in(self, folder: str, parts: list[str]) -> str | None:
        head = parts[0]
        entries = self._listing(folder)
        if head not in entries and f"{head}.py" not in entries:  # most folders: one set look-up
            return None
        stem = os.path.join(folder, *parts)
        for candidate in (stem + ".py", os.path.join(stem, "__init__.py")):
            if os.path.isfile(candidate):
                return candidate
        return None

    def _listing(self, folder: str) -> frozenset[str]:
        entries = self._entries.get(folder)
        if entries is None:
            try:
                entries = frozenset(os.listdir(folder))
            except OSError:
                entries = frozenset()
            self._entries[folder] = entries
        return entries


def _add_packages(packages: dict[str, str], file: str) -> None:
    """The packages of ``file``'s module key (``index.module_name``), each with the folder that holds it: the
    folders above the file, as long as their names are the key's."""
    from put_migrate.index import key_part, module_name

    parts = module_name(file).split(".")
    if os.path.basename(file) != "__init__.py":
        parts.pop()
    folder = os.path.dirname(os.path.abspath(file))
    while parts and key_part(os.path.basename(folder)) == parts[-1]:
        packages.setdefault(".".join(parts), folder)
        parts.pop()
        folder = os.path.dirname(folder)


def _folders_of(files: tuple[str, ...]) -> tuple[str, ...]:
    """Each file's folder and the folders above it up to its repository root, nearest first; then each root's
    ``src``. One repository root look-up (a ``git`` process) per root, not per folder."""
    from put_migrate.project_config import repository_root

    roots: list[str] = []
    order: dict[str, None] = {}
    for file in files:
        folder = os.path.dirname(os.path.abspath(file))
        root = next((r for r in roots if folder == r or folder.startswith(r.rstrip(os.sep) + os.sep)), None)
        if root is None:
            root = _as_seen_from(folder, os.fspath(repository_root(Path(folder)).absolute()))
            roots.append(root)
        while True:
            order.setdefault(folder)
            if folder == root:
                break
            parent = os.path.dirname(folder)
            if parent == folder:
                break
            folder = parent
    for root in roots:
        order.setdefault(os.path.join(root, "src"))
    return tuple(order)


def _as_seen_from(folder: str, root: str) -> str:
    """``root`` (git gives it with links resolved) as the ancestor of ``folder`` it is; ``folder`` itself when it
    is none of them."""
    if folder == root or folder.startswith(root.rstrip(os.sep) + os.sep):
        return root
    relative = os.path.relpath(os.path.realpath(folder), os.path.realpath(root))
    if relative == os.curdir or relative.startswith(os.pardir):
        return folder
    above = folder
    for _ in relative.split(os.sep):
        above = os.path.dirname(above)
    return above if os.path.realpath(above) == os.path.realpath(root) else folder
