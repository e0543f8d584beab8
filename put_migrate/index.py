"""The repository pass: every LightningModule and Callback class of the given files, across files and modules.

``build_index(files)`` reads the files serially, before the parallel rewrite, and records per class: its bases
(resolved through the file's imports, relative imports included, to dotted names), the methods it defines, the
attributes it assigns a torchmetrics ``Metric`` (anywhere in the class: ``__init__``, ``setup()``,
``configure_metrics()``, inside ``ModuleDict``/``ModuleList``), whether it already has ``PutMixin`` and whether it
logs. A class is a Lightning class when a chain of indexed project classes leads to a Lightning base
(``lightning_classes.BASES``). The transform then migrates subclasses of project base classes too.

It uses Python's ``ast`` (several times faster than libcst; nothing is rewritten here) on the files that can
matter only: those that name a Lightning base (``LightningModule``, ``Callback``, ``BoringModel``, ``DemoModel``),
then, until nothing new turns up, those whose class statements name a Lightning class found so far. A package's
``__init__.py`` is read when a name is first looked up through it. A dotted module name is taken from the file's path; an import matches an indexed class when
its dotted name ends with the class's (so ``src/pkg/base.py`` answers ``pkg.base.Base`` and ``base.Base``).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Optional

from put_migrate.lightning_classes import BASES, Kind

_METRIC_CONTAINERS = {"ModuleDict", "ModuleList"}
_BASE_NAMES = frozenset(dotted.rpartition(".")[2] for dotted in BASES)  # LightningModule, Callback


@dataclass(frozen=True)
class IndexedClass:
    key: str  # dotted module + "." + class name
    bases: tuple[str, ...]  # dotted names of the bases (Lightning's or project classes), unresolved ones dropped
    methods: frozenset[str]
    metrics: tuple[tuple[str, bool], ...]  # (attribute, is a MetricCollection)
    metric_containers: frozenset[str]  # attributes holding a ModuleDict/ModuleList of metrics
    assigned: frozenset[str]  # every self.<attr> assigned in the class
    has_put_mixin: bool
    logs: bool


@dataclass
class RepositoryIndex:
    classes: dict[str, IndexedClass] = field(default_factory=dict)
    _by_suffix: dict[str, list[str]] = field(default_factory=dict)
    # Re-exports: module key -> {name bound by an import in that module: the dotted name it refers to}; star
    # imports: module key -> the dotted modules it imports ``*`` from; ``__all__`` where it is a literal list.
    exports: dict[str, dict[str, str]] = field(default_factory=dict)
    star_imports: dict[str, tuple[str, ...]] = field(default_factory=dict)
    all_names: dict[str, frozenset[str]] = field(default_factory=dict)
    # Every module of the run -> the names of its top-level classes (a regex; for the PM222 safety net).
    module_classes: dict[str, frozenset[str]] = field(default_factory=dict)
    # Package ``__init__.py`` files whose imports are read only when a name is looked up through them (most
    # packages of a large tree never are): module key -> (path, text).
    pending_exports: dict[str, tuple[Path, str]] = field(default_factory=dict)

    def add(self, cls: IndexedClass) -> None:
        self.classes[cls.key] = cls
        parts = cls.key.split(".")
        for start in range(len(parts) - 1):
            self._by_suffix.setdefault(".".join(parts[start:]), []).append(cls.key)

    def overlay(self) -> "RepositoryIndex":
        """A copy that can take more classes without changing this index (one file's view of the run)."""
        return RepositoryIndex(
            classes=dict(self.classes),
            _by_suffix={k: list(v) for k, v in self._by_suffix.items()},
            exports=dict(self.exports),
            star_imports=dict(self.star_imports),
            all_names=dict(self.all_names),
            module_classes=dict(self.module_classes),
            pending_exports=dict(self.pending_exports),
        )

    def find(self, dotted: str) -> Optional[IndexedClass]:
        """The one indexed class a dotted name refers to (None when unknown or ambiguous)."""
        if dotted in self.classes:
            return self.classes[dotted]
        keys = self._by_suffix.get(dotted, [])
        if len(set(keys)) == 1:
            return self.classes[keys[0]]
        module, _, name = dotted.rpartition(".")
        key = self._module_key(module) if module else None
        if key is not None and name in self.module_classes.get(key, ()):
            # A file of the run defines it: the class is indexed there, or the pass had no reason to read it (its
            # header names no Lightning class). Another module's class with the same tail is not it.
            return self.classes.get(f"{key}.{name}")
        # ``import pkg.base`` written from a root above the one the key was taken from: match the longest tail.
        parts = dotted.split(".")
        for start in range(1, len(parts) - 1):
            keys = self._by_suffix.get(".".join(parts[start:]), [])
            if len(set(keys)) == 1:
                return self.classes[keys[0]]
        target = self.reexported(dotted)
        return self.find(target) if target is not None else None

    def reexported(self, dotted: str, _depth: int = 0) -> Optional[str]:
        """What ``pkg.Base`` refers to when module ``pkg`` (its ``__init__.py``, or any indexed module) binds
        ``Base`` by an import (``from pkg.base_module import Base``, ``from .base_module import Base``, or ``from
        .base_module import *`` honouring that module's ``__all__``): the dotted name of the definition, followed
        through chains of re-exports. None when ``dotted`` is not a re-export the index knows."""
        if _depth > 16 or "." not in dotted:
            return None
        module, _, name = dotted.rpartition(".")
        key = self._module_key(module)
        if key is None:
            return None
        self._read_pending(key)
        target = self.exports.get(key, {}).get(name)
        if target is not None and target != dotted:
            if self._defined(target):
                return target
            return self.reexported(target, _depth + 1) or target
        for source in self.star_imports.get(key, ()):
            source_key = self._module_key(source) or source
            self._read_pending(source_key)
            allowed = self.all_names.get(source_key)
            if allowed is not None and name not in allowed:
                continue
            if allowed is None and name.startswith("_"):
                continue
            candidate = f"{source}.{name}"
            if self._defined(candidate):
                return candidate
            deeper = self.reexported(candidate, _depth + 1)
            if deeper is not None:
                return deeper
        return None

    def _read_pending(self, key: str) -> None:
        if key in self.pending_exports:
            path, text = self.pending_exports.pop(key)
            index_exports(self, text, path)

    def _defined(self, dotted: str) -> bool:
        if dotted in self.classes or len(set(self._by_suffix.get(dotted, []))) == 1:
            return True
        module, _, name = dotted.rpartition(".")
        key = self._module_key(module)
        return key is not None and name in self.module_classes.get(key, frozenset())

    def _module_key(self, module: str) -> Optional[str]:
        """The module key (as taken from a path) that a dotted module name refers to: equal, or the one key
        ending with it (``pkg`` -> ``src.pkg``), or the longest tail of it that is a key."""
        known, tails = self._known_keys()
        if module in known:
            return module
        matches = tails.get(module, ())  # the keys ending with "." + module
        if len(matches) == 1:
            return matches[0]
        parts = module.split(".")
        for start in range(1, len(parts)):
            tail = ".".join(parts[start:])
            if tail in known:
                return tail
        return None

    def _known_keys(self) -> tuple[set[str], dict[str, list[str]]]:
        """The module keys (of ``exports`` and ``module_classes``) and, per dotted tail, the keys ending with
        ``"." + tail``. Kept up to date incrementally: both dicts only ever gain keys, in insertion order."""
        state = getattr(self, "_keys_state", None)
        exports, classes = self.exports, self.module_classes
        if state is None or state[0] is not exports or state[2] is not classes:
            state = self._keys_state = [exports, 0, classes, 0, set(), {}]
        known, tails = state[4], state[5]
        if state[1] != len(exports) or state[3] != len(classes):
            if state[1] > len(exports) or state[3] > len(classes):  # a key was removed: start again
                state = self._keys_state = [exports, 0, classes, 0, set(), {}]
                known, tails = state[4], state[5]
            new = [*list(exports)[state[1]:], *list(classes)[state[3]:]]
            for key in new:
                if key in known:
                    continue
                known.add(key)
                position = key.find(".")
                while position != -1:
                    tails.setdefault(key[position + 1:], []).append(key)
                    position = key.find(".", position + 1)
            state[1], state[3] = len(exports), len(classes)
        return known, tails

    def knows_class(self, dotted: str) -> bool:
        """Whether ``dotted`` names a class defined in one of the run's files (directly or re-exported)."""
        if self._defined(dotted):
            return True
        target = self.reexported(dotted)
        return target is not None and self._defined(target)

    def ancestors(self, cls: IndexedClass) -> list[IndexedClass]:
        """Project classes above ``cls`` (nearest first), each once."""
        seen: set[str] = set()
        order: list[IndexedClass] = []
        todo = list(cls.bases)
        while todo:
            base = self.find(todo.pop(0))
            if base is None or base.key in seen or base.key == cls.key:
                continue
            seen.add(base.key)
            order.append(base)
            todo.extend(base.bases)
        return order

    def lightning_kind(self, cls: IndexedClass) -> Optional[tuple[Kind, str]]:
        for candidate in [cls, *self.ancestors(cls)]:
            for base in candidate.bases:
                if base in BASES:
                    return BASES[base]
        return None

    def name_pattern(self) -> "Optional[BaseNameMatcher]":
        """Finds a class whose bases name an indexed Lightning class (for the text pre-filter); None when there is
        none."""
        if not hasattr(self, "_pattern"):
            names = self.lightning_names()
            self._pattern = BaseNameMatcher(names) if names else None
        return self._pattern

    def lightning_names(self) -> set[str]:
        """Short names of the indexed Lightning classes (what the text pre-filter looks for)."""
        return {key.rsplit(".", 1)[1] for key, cls in self.classes.items() if self.lightning_kind(cls)}


# The bases of a class statement: everything between `class Name(` and the `):` that ends the header.
_CLASS_BASES = re.compile(r"^[ \t]*class[ \t]+\w+[ \t]*\(([^:]*)\)[ \t]*:", re.MULTILINE)
_WORD = re.compile(r"\w+")


def _indented_matches(pattern: "re.Pattern[str]", text: str) -> Iterable["re.Match[str]"]:
    """The matches of ``^[ \\t]*`` + ``pattern`` (``re.MULTILINE``), as ``finditer`` gives them, found by searching
    for ``pattern`` alone (it starts with a literal word, which ``re`` finds fast) and keeping the matches preceded
    by nothing but spaces and tabs on their line: several times faster than trying the pattern at every line."""
    position = 0
    search = pattern.search
    while True:
        match = search(text, position)
        if match is None:
            return
        start = match.start()
        if not text[text.rfind("\n", 0, start) + 1:start].strip(" \t"):
            yield match
            position = match.end() if match.end() > start else start + 1
        else:
            position = start + 1


_CLASS_HEADER = re.compile(r"class[ \t]+\w+[ \t]*\(([^:]*)\)[ \t]*:")  # _CLASS_BASES without the indentation


_LAST_WORD = re.compile(r"(\w+)[ \t]*\Z")
_AS_TARGET = re.compile(r" as[ \t]+(\w+)")  # ``import X as Y``: Y


class BaseNameMatcher:
    """``search(text)``: whether a class statement of ``text`` names one of ``names``, or a name the file imports
    one of them as (``import X as Y``), among its bases.

    A set lookup per word of the class headers: a regex alternation of hundreds of names (a large tree indexes
    that many Lightning classes) costs milliseconds per file."""

    def __init__(self, names: Iterable[str]) -> None:
        self.names = frozenset(names)

    def search(self, text: str) -> bool:
        if "class" not in text:
            return False
        words: set[str] = set()
        for match in _indented_matches(_CLASS_HEADER, text):
            header = _WORD.findall(match.group(1))
            if not self.names.isdisjoint(header):
                return True
            words.update(header)
        if not words or " as " not in text:
            return False
        for word in words.intersection(_AS_TARGET.findall(text)):  # another name for one of ``names``?
            for match in re.finditer(r"[ \t]as[ \t]+" + word + r"\b", text):
                before = _LAST_WORD.search(text, max(0, match.start() - 200), match.start())
                if before is not None and before.group(1) in self.names:
                    return True
        return False


_BASE_NAME = re.compile("|".join(sorted(_BASE_NAMES)))
_ASSIGNED_NAME = re.compile(r"[ \t]*(\w+)[ \t]*=[ \t]*[\w.]*[ \t]*")  # ``LM = pl.LightningModule``, a whole line


def _names_lightning_base(text: str) -> bool:
    """Whether a class statement of ``text`` names a Lightning base, or another name for one (``import ... as``,
    ``LM = pl.LightningModule``), among its bases."""
    if not any(name in text for name in _BASE_NAMES):
        return False
    aliases = set()
    for match in _BASE_NAME.finditer(text):
        start = text.rfind("\n", 0, match.start()) + 1
        end = text.find("\n", match.end())
        assigned = _ASSIGNED_NAME.fullmatch(text, start, len(text) if end < 0 else end)
        if assigned is not None:
            aliases.add(assigned.group(1))
    return BaseNameMatcher(_BASE_NAMES | aliases).search(text)


@lru_cache(maxsize=16384)
def module_name(path: Path) -> str:
    """``src/pkg/base.py`` -> ``src.pkg.base``; ``pkg/__init__.py`` -> ``pkg`` (relative paths stay relative)."""
    parts = list(path.with_suffix("").parts)
    if parts and parts[-1] == "__init__":
        parts.pop()
    parts = [p for p in parts if p not in ("", ".", "/") and not p.endswith(":\\")]
    while parts and parts[0] == "..":
        parts.pop(0)
    return ".".join(p for p in parts if p.isidentifier()) or path.stem


BLOCK_FIELDS = ("body", "handlers", "orelse", "finalbody", "cases")  # in ``_fields`` order wherever they occur
_BLOCK_TYPES = (ast.stmt, ast.excepthandler, ast.match_case)


def statements(tree: ast.AST) -> Iterable[ast.AST]:
    """The statements of ``tree`` at any depth (function and class bodies, ``if``/``try``/``with`` blocks, ``except``
    handlers, ``match`` cases), in the order ``ast.walk`` yields them: breadth first, children in field order.
    Expressions are not entered: none holds a statement. Much cheaper than ``ast.walk`` over every node."""
    from collections import deque

    todo = deque([tree])
    while todo:
        node = todo.popleft()
        yield node
        for name in BLOCK_FIELDS:
            children = getattr(node, name, None)
            if children:
                todo.extend(child for child in children if isinstance(child, _BLOCK_TYPES))


# ``.log``/``.log_dict`` as an attribute: after a dot, or at the start of a line that continues ``x.\``.
_LOG_ATTRIBUTE = re.compile(r"\.\s*log(?:_dict)?\b|^\s*log(?:_dict)?\s*\(")


class _ClassReader:
    def __init__(self, tree: ast.Module, module: str, is_package: bool, text: Optional[str] = None) -> None:
        self.module = module
        # The source lines, where they number as ``ast`` numbers them (no "\r") and an attribute ``log`` can only
        # be written ``log`` (ASCII: no NFKC-equivalent spelling): lets ``read`` skip the walk for a log call.
        self.lines = text.split("\n") if text is not None and "\r" not in text and text.isascii() else None
        self.is_package = is_package
        self.imports: dict[str, str] = {}
        self.star_imports: list[str] = []
        self.all_names: Optional[frozenset[str]] = None
        for node in tree.body:
            if isinstance(node, ast.Assign) and [getattr(t, "id", None) for t in node.targets] == ["__all__"]:
                if isinstance(node.value, (ast.List, ast.Tuple)) and all(
                    isinstance(e, ast.Constant) and isinstance(e.value, str) for e in node.value.elts
                ):
                    self.all_names = frozenset(e.value for e in node.value.elts)
        for node in statements(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.asname:
                        self.imports[alias.asname] = alias.name
                    else:
                        head = alias.name.split(".")[0]
                        self.imports[head] = head
            elif isinstance(node, ast.ImportFrom):
                base = self._from_module(node)
                if base is None:
                    continue
                for alias in node.names:
                    if alias.name != "*":
                        self.imports[alias.asname or alias.name] = f"{base}.{alias.name}" if base else alias.name
                    elif base:
                        self.star_imports.append(base)
        self.local_classes = {n.name for n in tree.body if isinstance(n, ast.ClassDef)}

    def _from_module(self, node: ast.ImportFrom) -> Optional[str]:
        if not node.level:
            return node.module
        package = self.module.split(".") if self.is_package else self.module.split(".")[:-1]
        if node.level - 1 > len(package):
            return None
        package = package[: len(package) - (node.level - 1)]
        return ".".join([*package, *([node.module] if node.module else [])])

    def qualify(self, node: ast.expr) -> Optional[str]:
        if isinstance(node, ast.Name):
            if node.id in self.imports:
                return self.imports[node.id]
            if node.id in self.local_classes:
                return f"{self.module}.{node.id}"
            return None
        if isinstance(node, ast.Attribute):
            head = self.qualify(node.value)
            return None if head is None else f"{head}.{node.attr}"
        return None

    def is_torchmetrics(self, node: ast.expr) -> Optional[str]:
        qualified = self.qualify(node.func) if isinstance(node, ast.Call) else None
        if qualified and (qualified == "torchmetrics" or qualified.startswith("torchmetrics.")):
            return qualified
        return None

    def _may_log(self, node: ast.ClassDef) -> bool:
        """False when no line of the class (decorators included) names an attribute ``log`` or ``log_dict``: then
        it has no ``.log(`` call."""
        if self.lines is None or node.end_lineno is None:
            return True
        start = min([node.lineno, *(d.lineno for d in node.decorator_list)])
        return any("log" in line and _LOG_ATTRIBUTE.search(line) for line in self.lines[start - 1:node.end_lineno])

    def read(self, node: ast.ClassDef) -> IndexedClass:
        bases = tuple(q for q in (self.qualify(b) for b in node.bases) if q is not None)
        methods = frozenset(n.name for n in node.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)))
        metrics: dict[str, bool] = {}
        containers: set[str] = set()
        assigned: set[str] = set()
        logs = False
        for inner in statements(node):
            if isinstance(inner, (ast.Assign, ast.AnnAssign)):
                targets = inner.targets if isinstance(inner, ast.Assign) else [inner.target]
                for target in targets:
                    if not (isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name)
                            and target.value.id == "self"):
                        continue
                    assigned.add(target.attr)
                    value = inner.value
                    qualified = self.is_torchmetrics(value) if value is not None else None
                    if qualified:
                        metrics[target.attr] = qualified.endswith("MetricCollection")
                    elif isinstance(value, ast.Call) and (self.qualify(value.func) or "").split(".")[-1] in _METRIC_CONTAINERS:
                        if any(self.is_torchmetrics(n) for n in ast.walk(value) if isinstance(n, ast.Call)):
                            containers.add(target.attr)
        if self._may_log(node):
            logs = any(
                isinstance(inner, ast.Call) and isinstance(inner.func, ast.Attribute)
                and inner.func.attr in ("log", "log_dict")
                for inner in ast.walk(node)
            )
        has_mixin = any(isinstance(b, ast.Name) and b.id == "PutMixin" for b in node.bases)
        return IndexedClass(
            f"{self.module}.{node.name}", bases, methods, tuple(sorted(metrics.items())), frozenset(containers),
            frozenset(assigned), has_mixin, logs,
        )


@dataclass(frozen=True)
class FileEntry:
    """What the repository pass learns from one file (plain data: worker processes send it back)."""

    module: str
    imports: dict[str, str]
    star_imports: tuple[str, ...]
    all_names: Optional[frozenset[str]]
    local_classes: frozenset[str]
    classes: tuple[IndexedClass, ...]


def read_source(text: str, path: Path) -> Optional[FileEntry]:
    """The classes, imports and re-exports of one file; None when Python cannot parse it (the rewrite pass
    reports it)."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):  # CPython refuses deep nesting with the last two
        return None
    reader = _ClassReader(tree, module_name(path), path.name == "__init__.py", text)
    classes = tuple(reader.read(node) for node in tree.body if isinstance(node, ast.ClassDef))
    return FileEntry(
        reader.module, dict(reader.imports), tuple(reader.star_imports), reader.all_names,
        frozenset(reader.local_classes), classes,
    )


def record(index: RepositoryIndex, entry: Optional[FileEntry]) -> None:
    if entry is None:
        return
    _record_exports(index, entry.module, entry.imports, entry.star_imports, entry.all_names)
    index.module_classes[entry.module] = entry.local_classes
    for cls in entry.classes:
        index.add(cls)


def index_source(index: RepositoryIndex, text: str, path: Path) -> None:
    record(index, read_source(text, path))


def _record_exports(
    index: RepositoryIndex, module: str, imports: dict[str, str], star_imports, all_names: Optional[frozenset[str]]
) -> None:
    index.pending_exports.pop(module, None)
    index.exports[module] = dict(imports)
    if star_imports:
        index.star_imports[module] = tuple(star_imports)
    if all_names is not None:
        index.all_names[module] = all_names


def index_exports(index: RepositoryIndex, text: str, path: Path) -> None:
    """Record only what a module re-exports (a package ``__init__.py``, a module a base name points into)."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return
    reader = _ClassReader(tree, module_name(path), path.name == "__init__.py")
    _record_exports(index, reader.module, reader.imports, reader.star_imports, reader.all_names)
    index.module_classes[reader.module] = frozenset(reader.local_classes)


_TOP_CLASS = re.compile(r"^class[ \t]+(\w+)", re.MULTILINE)
_TOP_CLASS_AFTER_NEWLINE = re.compile(r"\nclass[ \t]+(\w+)")  # on "\n" + text: the same matches, found faster


def _top_classes(text: str) -> list[str]:
    """``_TOP_CLASS.findall(text)``."""
    return _TOP_CLASS_AFTER_NEWLINE.findall("\n" + text) if "class" in text else []


def build_index(
    files: Iterable[Path],
    sources: Optional[Mapping[Path, str]] = None,
    read_many: Optional[Callable[[list[Path]], Iterable[Optional[FileEntry]]]] = None,
) -> RepositoryIndex:
    """Index the classes of ``files`` that are, or may lead to, Lightning classes (cheap pre-filters first).

    ``sources``: the text of files already read (``bytes.decode("utf-8", errors="replace")``); the others are
    read here. ``read_many``: ``read_source`` of many files at once, in order (a process pool); by default they
    are read one after the other here."""
    index = RepositoryIndex()
    texts: dict[Path, str] = {}
    for path in files:
        path = Path(path)
        if sources is not None and path in sources:
            texts[path] = sources[path]
            continue
        try:
            texts[path] = path.read_bytes().decode("utf-8", errors="replace")
        except OSError:
            continue
    for path, text in texts.items():  # cheap: the top-level class names of every file (PM222's safety net)
        index.module_classes.setdefault(module_name(path), frozenset(_top_classes(text)))
    for path, text in texts.items():  # packages re-export their classes (``from .base import Base``): read lazily
        if path.name == "__init__.py" and "import" in text:
            index.pending_exports[module_name(path)] = (path, text)
    pending = {p: t for p, t in texts.items() if "class " in t}
    # A class derives from a Lightning base directly only if its header names the base or an alias of it: the
    # other files matter only if their class headers name a Lightning class found so far.
    wanted = [p for p, t in pending.items() if _names_lightning_base(t)]
    while wanted:
        texts_now = {path: pending.pop(path) for path in wanted}
        entries = (
            read_many(wanted) if read_many is not None and len(wanted) > 1
            else (read_source(text, path) for path, text in texts_now.items())
        )
        for entry in entries:
            record(index, entry)
        names = index.lightning_names()
        if not names or not pending:
            break
        pattern = BaseNameMatcher(names)
        wanted = [p for p, t in pending.items() if pattern.search(t)]
    _index_reexporting_modules(index, texts)
    names = index.lightning_names()
    if names:  # modules that import a Lightning class of the project may re-export it (``from pkg.models import``)
        for path, text in texts.items():
            key = module_name(path)
            if key in index.exports or "import" not in text:
                continue
            if any(not names.isdisjoint(_WORD.findall(m.group(1))) for m in _indented_matches(_IMPORT_FROM, text)):
                index_exports(index, text, path)
    return index


_IMPORT_LINE = re.compile(r"^[ \t]*from[ \t]+[\w.]+[ \t]+import[ \t]+([^\n]*)", re.MULTILINE)
_IMPORT_FROM = re.compile(r"from[ \t]+[\w.]+[ \t]+import[ \t]+([^\n]*)")  # _IMPORT_LINE without the indentation


def _index_exports_of(index: RepositoryIndex, texts: dict[Path, str], by_module: dict[str, Path], module: str) -> bool:
    key = index._module_key(module)
    if key is None or key in index.exports or key not in by_module:
        return False
    index_exports(index, texts[by_module[key]], by_module[key])
    return True


def _index_reexporting_modules(index: RepositoryIndex, texts: dict[Path, str]) -> None:
    """Bases that name a module which is not a package but re-exports a class (``from pkg.models import Base``
    where ``models.py`` imports it): read those modules' imports too, until nothing new turns up."""
    by_module = {module_name(p): p for p in texts}
    for _ in range(8):
        grew = False
        for cls in list(index.classes.values()):
            for base in cls.bases:
                if base in BASES or index.find(base) is not None or "." not in base:
                    continue
                grew |= _index_exports_of(index, texts, by_module, base.rpartition(".")[0])
        if not grew:
            return
