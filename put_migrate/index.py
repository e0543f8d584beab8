"""The repository index: the LightningModule and Callback classes of a run's files, across files and modules.

It records per class: its bases (resolved through the file's imports, relative imports included, to dotted
names), the methods it defines, the attributes it assigns a torchmetrics ``Metric`` (anywhere in the class:
``__init__``, ``setup()``, ``configure_metrics()``, inside ``ModuleDict``/``ModuleList``), whether it already has
``PutMixin`` and whether it logs. A class is a Lightning class when a chain of indexed project classes leads to a
Lightning base (``lightning_names.BASES``). The transform then migrates subclasses of project base classes too.

``build_index(files)`` reads nothing up front: a module is read (with Python's ``ast``, several times faster than
libcst; nothing is rewritten here) the first time a query names it, so a run reads the modules that define the
bases of the classes it rewrites, and the packages that re-export them, and no others. The texts are those of the
start of the run (a worker that rewrites one file never sees another's new text). A module no file of the run
defines is read from disk where the run's imports would find it (``search_path.py``): a run given only some files
(pre-commit's staged ones) still sees the bases of their classes. A dotted module name is taken from the file's
path; an import matches a module when its dotted name ends with the module's (so ``src/pkg/base.py`` answers
``pkg.base.Base`` and ``base.Base``).
"""

from __future__ import annotations

import ast
import os
import re
import textwrap
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from put_migrate import resolve
from put_migrate.callback_entries import callback_hooks
from put_migrate.constants import ModuleConstants, read_constants
from put_migrate.hooks import RESERVED_ATTRIBUTES
from put_migrate.init_signature import InitSignature, read_init
from put_migrate.lightning_names import BASES, KNOWN_ROOTS, Kind
from put_migrate.search_path import SearchPath
from put_migrate.source_segments import SourceSegments
from put_migrate.value_properties import value_properties

_METRIC_CONTAINERS = {"ModuleDict", "ModuleList"}
_CALL = re.compile(r"\.\s*([A-Za-z_]\w*)\s*\(")  # a method called on anything
_SELF_ATTRIBUTE = re.compile(r"\bself\s*\.\s*([A-Za-z_]\w*)")


@dataclass(frozen=True)
class IndexedClass:
    key: str  # dotted module + "." + class name
    bases: tuple[str, ...]  # dotted names of the bases (Lightning's or project classes), unresolved ones dropped
    methods: frozenset[str]
    metrics: tuple[tuple[str, bool], ...]  # (attribute, is a MetricCollection)
    metric_containers: frozenset[str]  # attributes holding a ModuleDict/ModuleList (whose items may be Metrics)
    assigned: frozenset[str]  # every self.<attr> assigned in the class
    has_put_mixin: bool
    logs: bool
    # (method, name) of each ``self.log("name", ...)`` / ``self.log_dict({"name": ...})`` with a literal name, and
    # ("*", name) of each ``self.put("name", ...)``.
    logged: tuple[tuple[str, str], ...] = ()
    # Methods named as an attribute of anything but ``self`` (``super().m``, ``Base.m``): they may run although a
    # subclass overrides them.
    reached_otherwise: frozenset[str] = frozenset()
    # (method, attribute) of each ``self.<attribute>`` a method names (attributes the class assigns left out), and
    # (method, its source, dedented) of each method that names one: a subclass's helper may be called there.
    self_uses: tuple[tuple[str, str], ...] = ()
    method_sources: tuple[tuple[str, str], ...] = ()
    value_properties: frozenset[str] = frozenset()  # properties that return a computed value, never a Metric
    init: InitSignature | None = None  # the signature of the ``__init__`` the class defines
    # (method, attribute) of each ``self.<attribute>`` a method names where the class assigns the attribute a
    # torchmetrics Metric (``self_uses`` leaves those out): a subclass that logs the Metric shares its updates.
    metric_uses: tuple[tuple[str, str], ...] = ()


@dataclass
class RepositoryIndex:
    classes: dict[str, IndexedClass] = field(default_factory=dict)
    _by_suffix: dict[str, list[str]] = field(default_factory=dict)
    # Re-exports: module key -> {name bound by an import in that module: the dotted name it refers to}; star
    # imports: module key -> the dotted modules it imports ``*`` from; ``__all__`` where it is a literal list.
    exports: dict[str, dict[str, str]] = field(default_factory=dict)
    star_imports: dict[str, tuple[str, ...]] = field(default_factory=dict)
    all_names: dict[str, frozenset[str]] = field(default_factory=dict)
    # Every module read -> the names of its top-level classes (for the PM222 safety net).
    module_classes: dict[str, frozenset[str]] = field(default_factory=dict)
    # Every module read -> its string constants (``constants.py``).
    module_constants: dict[str, ModuleConstants] = field(default_factory=dict)
    # The run's files not read yet (most never are): module key -> [(path, its text or where to read it)], read
    # when a query names the module (``load``).
    unread: dict[str, list[tuple[Path | str, str | Path | None]]] = field(default_factory=dict)
    modules: frozenset[str] = frozenset()  # the module keys of all the run's files
    search: SearchPath | None = None  # where modules no file of the run defines are read from
    # Every file of the run as (path, its text or where to read it), and the answers of ``callback_hooks`` so far
    # (shared by the overlays: one file's view of the run asks what another's already did).
    files: tuple[tuple[Path | str, str | Path | None], ...] = ()
    entry_hooks: dict[str, tuple[str, ...] | str] = field(default_factory=dict)
    # Method name -> the files (indices in ``files``) that call ``<something>.<name>(...)``, built
    # at the first ``callback_hooks`` query by one pass over the run's texts (shared by the overlays too).
    call_sites: dict[str, list[int]] = field(default_factory=dict)
    # Attribute name -> the files (indices in ``files``) that name ``self.<name>``, built at the first
    # ``self_naming_modules`` query by one pass over the run's texts (shared by the overlays too).
    attribute_sites: dict[str, list[int]] = field(default_factory=dict)

    def add(self, cls: IndexedClass) -> None:
        self.classes[cls.key] = cls
        parts = cls.key.split(".")
        for start in range(len(parts) - 1):
            self._by_suffix.setdefault(".".join(parts[start:]), []).append(cls.key)

    def overlay(self) -> RepositoryIndex:
        """A copy that can take more classes without changing this index (one file's view of the run)."""
        return RepositoryIndex(
            classes=dict(self.classes),
            _by_suffix={k: list(v) for k, v in self._by_suffix.items()},
            exports=dict(self.exports),
            star_imports=dict(self.star_imports),
            all_names=dict(self.all_names),
            module_classes=dict(self.module_classes),
            module_constants=dict(self.module_constants),
            unread={key: list(files) for key, files in self.unread.items()},
            modules=self.modules,
            search=self.search,
            files=self.files,
            entry_hooks=self.entry_hooks,
            call_sites=self.call_sites,
            attribute_sites=self.attribute_sites,
        )

    def callback_hooks(self, method: str) -> tuple[str, ...] | str:
        """The Callback hooks of the run's files that call module method ``method`` on their module, which are
        then all the ways it runs; or why they cannot all be known (``callback_entries``)."""
        if method in RESERVED_ATTRIBUTES:
            return ""  # Lightning or torch call it themselves
        if method not in self.entry_hooks:
            texts = ((os.fspath(self.files[i][0]), module_name(self.files[i][0]), text)
                     for i, text in self._texts(self._calling(method)))
            self.entry_hooks[method] = callback_hooks(texts, method, self._is_callback)
        return self.entry_hooks[method]

    def self_calling_modules(self, method: str) -> list[str]:
        """The module keys of the run's files whose text calls ``self.<method>(...)``, each read into the index
        (their classes can then be looked up)."""
        calls = re.compile(rf"\bself\s*\.\s*{re.escape(method)}\s*\(")
        return self._loaded(i for i, text in self._texts(self._calling(method)) if calls.search(text))

    def self_naming_modules(self, attribute: str) -> list[str]:
        """The module keys of the run's files whose text names ``self.<attribute>``, each read into the index."""
        return self._loaded(self._sites(self.attribute_sites, _SELF_ATTRIBUTE).get(attribute, []))

    def _loaded(self, indices: Iterable[int]) -> list[str]:
        """The module keys of the files at ``indices`` (in ``files``), in order, each read into the index."""
        keys = list(dict.fromkeys(module_name(self.files[i][0]) for i in indices))
        for key in keys:
            self.load(key)
        return keys

    def _calling(self, method: str) -> list[int]:
        """The files (indices in ``files``) whose text calls ``.<method>(``."""
        return self._sites(self.call_sites, _CALL).get(method, [])

    def _sites(self, sites: dict[str, list[int]], pattern: re.Pattern[str]) -> dict[str, list[int]]:
        """``sites`` (name -> the files whose text has ``pattern`` capture that name), built by one pass over the
        run's texts at its first query."""
        if not sites and self.files:
            for i, text in self._texts(range(len(self.files))):
                for name in set(pattern.findall(text)):
                    sites.setdefault(name, []).append(i)
            sites.setdefault("", [])  # built, whatever the files hold
        return sites

    def _texts(self, indices: Iterable[int]) -> Iterable[tuple[int, str]]:
        for i in indices:
            text = _text(*self.files[i])
            if text is not None:
                yield i, text

    def _is_callback(self, key: str, name: str) -> bool:
        self._module_key(key)  # reads that module's files, if not yet
        indexed = self.classes.get(f"{key}.{name}")
        kind = self.lightning_kind(indexed) if indexed is not None else None
        return kind is not None and kind[0] == "callback"

    def find(self, dotted: str) -> IndexedClass | None:
        """The one indexed class a dotted name refers to (None when unknown or ambiguous)."""
        module, _, name = dotted.rpartition(".")
        key = self._module_key(module) if module else None  # reads that module, if the run has it
        if dotted in self.classes:
            return self.classes[dotted]
        keys = self._by_suffix.get(dotted, [])
        if len(set(keys)) == 1:
            return self.classes[keys[0]]
        if key is not None and name in self.module_classes.get(key, ()):
            # A file of the run defines it (and was read above). Another module's class with the same tail is not it.
            return self.classes.get(f"{key}.{name}")
        # ``import pkg.base`` written from a root above the one the key was taken from: match the longest tail.
        parts = dotted.split(".")
        for start in range(1, len(parts) - 1):
            keys = self._by_suffix.get(".".join(parts[start:]), [])
            if len(set(keys)) == 1:
                return self.classes[keys[0]]
        target = self.reexported(dotted)
        return self.find(target) if target is not None else None

    def constant(self, dotted: str, field: str) -> str | None:
        """The string ``<dotted>.<field>`` holds, where ``dotted`` names a module's string constant
        (``constants.py``), directly or re-exported."""
        module, _, name = dotted.rpartition(".")
        key = self._module_key(module) if module else None
        found = self.module_constants.get(key) if key is not None else None
        if found is not None and found.field(name, field) is not None:
            return found.field(name, field)
        target = self.reexported(dotted)
        if target is None or target == dotted:
            return None
        module, _, name = target.rpartition(".")
        key = self._module_key(module) if module else None
        found = self.module_constants.get(key) if key is not None else None
        return found.field(name, field) if found is not None else None

    def reexported(self, dotted: str, _depth: int = 0) -> str | None:
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
        target = self.exports.get(key, {}).get(name)
        if target is not None and target != dotted:
            if self._defined(target):
                return target
            return self.reexported(target, _depth + 1) or target
        for source in self.star_imports.get(key, ()):
            source_key = self._module_key(source) or source
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

    def load(self, key: str, parsed: tuple[str, ast.Module] | None = None) -> None:
        """Read the run's files of module ``key`` (once): their classes, imports and re-exports. ``parsed``: a text
        and its ``ast`` tree, used where a file's text is that one (no second parse)."""
        for path, where in self.unread.pop(key, ()):
            source = _text(path, where)
            if source is None:
                continue
            tree = parsed[1] if parsed is not None and parsed[0] == source else None
            record(self, read_source(source, Path(path), tree))
            self.module_classes.setdefault(key, frozenset())  # a file Python cannot parse defines nothing

    def _defined(self, dotted: str) -> bool:
        module, _, name = dotted.rpartition(".")
        key = self._module_key(module)
        if dotted in self.classes or len(set(self._by_suffix.get(dotted, []))) == 1:
            return True
        return key is not None and name in self.module_classes.get(key, frozenset())

    def _module_key(self, module: str) -> str | None:
        """The module key (as taken from a path) that a dotted module name refers to: equal, or the one key
        ending with it (``pkg`` -> ``src.pkg``), or the longest tail of it that is a key."""
        key = self._find_key(module)
        if key is None and self.search is not None and self._read_from_disk(module):
            key = self._find_key(module)
        if key is not None and key in self.unread:
            self.load(key)
        return key

    def _read_from_disk(self, module: str) -> bool:
        """Read the file that defines ``module`` where the run's imports would find it; False when there is none,
        or when its module key is one the index already has (that file is the run's, or was read)."""
        path = self.search.locate(module)
        if path is None:
            return False
        from put_migrate.discover import display_path

        shown = display_path(Path(path))
        key = module_name(shown)
        if key in self._known_keys()[0] or key in self.unread:
            return False
        self.unread[key] = [(shown, Path(path))]
        self.search.add(shown)
        self.load(key)
        return True

    def _find_key(self, module: str) -> str | None:
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
        """The module keys (of the run's files, read or not: ``modules``; and of ``exports`` and ``module_classes``)
        and, per dotted tail, the keys ending with ``"." + tail``. Kept up to date incrementally: the two dicts only
        ever gain keys, in insertion order."""
        # [exports, how many of them are known, module_classes, how many of them are known, known, tails]
        state: list[Any] | None = getattr(self, "_keys_state", None)
        exports, classes = self.exports, self.module_classes
        if state is None or state[0] is not exports or state[2] is not classes:
            self._keys_state = state = [exports, 0, classes, 0, set(), {}]
            new = list(self.modules)
        else:
            new = []
        known, tails = state[4], state[5]
        if new or state[1] != len(exports) or state[3] != len(classes):
            if state[1] > len(exports) or state[3] > len(classes):  # a key was removed: start again
                self._keys_state = state = [exports, 0, classes, 0, set(), {}]
                known, tails = state[4], state[5]
                new = list(self.modules)
            new += [*list(exports)[state[1]:], *list(classes)[state[3]:]]
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

    def lightning_kind(self, cls: IndexedClass) -> tuple[Kind, str] | None:
        """The kind and package of the nearest Lightning base of ``cls`` or of a project class above it (in the
        order of ``ancestors``); None where there is none. The walk stops at the first, and does not climb into a
        package that holds no Lightning class (``torch.nn.Module``): no module is read that cannot change the
        answer."""
        seen = {cls.key}
        todo = deque([cls])
        while todo:
            candidate = todo.popleft()
            for base in candidate.bases:
                if base in BASES:
                    return BASES[base]
            for base in candidate.bases:
                if base.partition(".")[0] in KNOWN_ROOTS:
                    continue
                found = self.find(base)
                if found is not None and found.key not in seen:
                    seen.add(found.key)
                    todo.append(found)
        return None


def _text(path: Path | str, source: str | Path | None) -> str | None:
    """A run's file as the index reads it: its text where it was given, else read from ``source`` (a path), or
    from ``path`` itself where ``source`` is None; None where it cannot be read."""
    if isinstance(source, str):
        return source
    try:
        return Path(path if source is None else source).read_bytes().decode("utf-8", errors="replace")
    except OSError:
        return None


@lru_cache(maxsize=16384)
def module_name(path: Path | str) -> str:
    """``src/pkg/base.py`` -> ``src.pkg.base``; ``pkg/__init__.py`` -> ``pkg`` (relative paths stay relative).

    A part that is no identifier (``lightning-bolts``, the ``x.in`` of ``x.in.py``) cannot be imported; it is kept,
    escaped (``%`` -> ``%25``, ``.`` -> ``%2E``), so that it stays one part of the key and is never an identifier:
    distinct files get distinct keys, and no import names one of them. A file that is not ``.py`` (a notebook) ends
    its key with its whole name, escaped, and a bare ``%``, which no escaped part has.
    """
    text = os.fspath(path)
    if os.sep != "/" or os.altsep:
        text = text.replace(os.sep, "/").replace(os.altsep or os.sep, "/")
    stem, suffix = os.path.splitext(text)  # as ``Path.with_suffix("")``
    marked = suffix != ".py"
    parts = [p for p in (text if marked else stem).split("/") if p not in ("", ".") and not p.endswith(":")]
    if parts and parts[-1] == "__init__" and not marked:
        parts.pop()
    while parts and parts[0] == "..":
        parts.pop(0)
    key = [key_part(p) for p in parts]
    if marked and key:
        key[-1] = _escaped(parts[-1]) + "%"
    return ".".join(key) or os.path.basename(stem)


def key_part(name: str) -> str:
    """A folder's (or a ``.py`` file's stem's) part of a module key: the name, escaped where it is no identifier."""
    return name if name.isidentifier() else _escaped(name)


def _escaped(part: str) -> str:
    """``part`` with no ``.`` (``%2E``), one to one (``%`` -> ``%25``)."""
    return part.replace("%", "%25").replace(".", "%2E")


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
    def __init__(self, tree: ast.Module, module: str, is_package: bool, text: str | None = None) -> None:
        self.module = module
        # The source lines, where they number as ``ast`` numbers them (no "\r") and an attribute ``log`` can only
        # be written ``log`` (ASCII: no NFKC-equivalent spelling): lets ``read`` skip the walk for a log call.
        self.lines = text.split("\n") if text is not None and "\r" not in text and text.isascii() else None
        self.text = text
        self.segments = SourceSegments(text) if text is not None else None
        self.is_package = is_package
        self.imports: dict[str, str] = {}
        self.star_imports: list[str] = []
        self.all_names: frozenset[str] | None = None
        for top in tree.body:
            if isinstance(top, ast.Assign) and [getattr(t, "id", None) for t in top.targets] == ["__all__"]:
                if isinstance(top.value, (ast.List, ast.Tuple)) and all(
                    isinstance(e, ast.Constant) and isinstance(e.value, str) for e in top.value.elts
                ):
                    self.all_names = frozenset(  # the filter only tells mypy what all() checked
                        e.value for e in top.value.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)
                    )
        for node in statements(tree):
            if isinstance(node, ast.Import):
                resolve.bind_import(self.imports, node)
            elif isinstance(node, ast.ImportFrom):
                base = resolve.from_module(node, module, is_package)
                if base is None:
                    continue
                for alias in node.names:
                    if alias.name != "*":
                        self.imports[alias.asname or alias.name] = f"{base}.{alias.name}" if base else alias.name
                    elif base:
                        self.star_imports.append(base)
        self.local_classes = {n.name for n in tree.body if isinstance(n, ast.ClassDef)}

    def qualify(self, node: ast.expr) -> str | None:
        """The dotted name of a base or callee, through the file's imports or as a class of this module."""
        written = resolve.dotted(node)
        qualified = resolve.qualify(self.imports, written)
        if qualified is None and written is not None and written.split(".")[0] in self.local_classes:
            return f"{self.module}.{written}"
        return qualified

    def is_torchmetrics(self, node: ast.expr) -> str | None:
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
                        # Its items may be Metrics built anywhere (``ModuleList([*metrics, loss.clone()])``).
                        containers.add(target.attr)
        walked = _ClassWalk(node, methods, assigned, may_log=self._may_log(node), metrics=set(metrics))
        logs, logged = walked.logs, walked.logged
        reached_otherwise = frozenset(walked.reached)
        self_uses = tuple(sorted(walked.uses))
        method_sources = self._method_sources(node, walked.naming_self)
        has_mixin = any(isinstance(b, ast.Name) and b.id == "PutMixin" for b in node.bases)
        return IndexedClass(
            f"{self.module}.{node.name}", bases, methods, tuple(sorted(metrics.items())), frozenset(containers),
            frozenset(assigned), has_mixin, logs, tuple(sorted(logged)), reached_otherwise, self_uses, method_sources,
            value_properties(node),
            read_init(node, self.segments, self.imports),
            tuple(sorted(walked.metric_uses)),
        )

    def _method_sources(self, node: ast.ClassDef, naming_self: set[int]) -> tuple[tuple[str, str], ...]:
        """(method, its source, dedented) of each method that names a ``self`` attribute: a subclass's helper may
        be called there; and of each override that reaches its own name otherwise (``super().m``), to tell whether
        it hands its arguments on unchanged (``subclass_callers``)."""
        sources: list[tuple[str, str]] = []
        for method in node.body:
            if isinstance(method, ast.FunctionDef) and id(method) in naming_self and self.segments is not None:
                segment = self.segments.segment(method, padded=True)
                if segment is not None:
                    sources.append((method.name, textwrap.dedent(segment)))
        return tuple(sources)


class _ClassWalk:
    """One walk of a class's nodes, each method's with the method it sits in, for what ``_ClassReader.read``
    records of calls and attributes: the literal names logged per method and the names put, whether the class
    calls ``log``/``log_dict`` at all, the methods named on something other than ``self``, and the ``self``
    attributes each method names (the attributes the class assigns left out, but for its Metrics, kept apart;
    ``self(...)`` names ``forward``)."""

    def __init__(self, node: ast.ClassDef, methods: frozenset[str], assigned: set[str], may_log: bool,
                 metrics: set[str]) -> None:
        self.methods, self.assigned, self.may_log, self.metrics = methods, assigned, may_log, metrics
        self.metric_uses: set[tuple[str, str]] = set()
        self.logged: set[tuple[str, str]] = set()
        self.calls_log = False
        self.reached: set[str] = set()
        self.uses: set[tuple[str, str]] = set()
        self.naming_self: set[int] = set()  # the methods (``id``; not async) that name a self attribute
        functions = [n for n in node.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
        skipped = {id(n) for n in functions}
        pending: deque[ast.AST] = deque([node])
        while pending:  # ``ast.walk`` of the class, without its methods
            inner = pending.popleft()
            if id(inner) not in skipped:
                self._see(inner, None)
                pending.extend(ast.iter_child_nodes(inner))
        for function in functions:
            for inner in ast.walk(function):
                self._see(inner, function)
        if not self.may_log:
            self.logged = {entry for entry in self.logged if entry[0] == "*"}
        self.logs = may_log and (any(entry[0] != "*" for entry in self.logged) or self.calls_log)

    def _see(self, inner: ast.AST, function: ast.FunctionDef | ast.AsyncFunctionDef | None) -> None:
        if isinstance(inner, ast.Attribute):
            on_self = isinstance(inner.value, ast.Name) and inner.value.id == "self"
            if not on_self and inner.attr in self.methods:
                self.reached.add(inner.attr)
                if isinstance(function, ast.FunctionDef) and function.name == inner.attr:
                    self.naming_self.add(id(function))  # an override handing on (``super().m``): its source is kept
            elif on_self and function is not None and inner.attr not in self.assigned:
                self._names(function, inner.attr)
            elif on_self and function is not None and inner.attr in self.metrics and not isinstance(inner.ctx, ast.Store):
                self.metric_uses.add((function.name, inner.attr))  # its assignment makes it, does not use it
            return
        if not isinstance(inner, ast.Call):
            return
        func = inner.func
        if isinstance(func, ast.Name):
            if func.id == "self" and function is not None:
                self._names(function, "forward")  # ``self(...)`` runs ``forward``
            return
        if not isinstance(func, ast.Attribute):
            return
        if func.attr == "put":
            # A migrated class: which method feeds its value is not known. A forked value's plain name is its
            # callback_alias.
            names = inner.args[:1] + [k.value for k in inner.keywords if k.arg == "callback_alias"]
            self.logged.update(("*", n.value) for n in names if isinstance(n, ast.Constant) and isinstance(n.value, str))
        elif func.attr in ("log", "log_dict"):
            self.calls_log = True
            if function is not None and isinstance(func.value, ast.Name) and func.value.id == "self":
                self.logged.update((function.name, name) for name in _literal_log_names(inner))

    def _names(self, function: ast.FunctionDef | ast.AsyncFunctionDef, attribute: str) -> None:
        self.uses.add((function.name, attribute))
        if isinstance(function, ast.FunctionDef):
            self.naming_self.add(id(function))


def _literal_log_names(call: ast.Call) -> Iterable[str]:
    """The literal names a ``self.log``/``self.log_dict`` call logs."""
    first = call.args[0] if call.args else next(
        (k.value for k in call.keywords if k.arg in ("name", "dictionary")), None)
    assert isinstance(call.func, ast.Attribute)
    if call.func.attr == "log" and isinstance(first, ast.Constant) and isinstance(first.value, str):
        yield first.value
    elif call.func.attr == "log_dict" and isinstance(first, ast.Dict):
        yield from (k.value for k in first.keys if isinstance(k, ast.Constant) and isinstance(k.value, str))


@dataclass(frozen=True)
class FileEntry:
    """What the index learns from one file (plain data)."""

    module: str
    imports: dict[str, str]
    star_imports: tuple[str, ...]
    all_names: frozenset[str] | None
    local_classes: frozenset[str]
    classes: tuple[IndexedClass, ...]
    constants: ModuleConstants = ModuleConstants()


def read_source(text: str, path: Path, tree: ast.Module | None = None) -> FileEntry | None:
    """The classes, imports and re-exports of one file; None when Python cannot parse it (the rewrite pass
    reports it). ``tree``: ``ast.parse(text)``, where the caller has it."""
    if tree is None:
        try:
            tree = ast.parse(text)
        except (SyntaxError, ValueError, RecursionError, MemoryError):  # CPython refuses deep nesting with the last two
            return None
    reader = _ClassReader(tree, module_name(path), path.name == "__init__.py", text)
    classes = tuple(reader.read(node) for node in tree.body if isinstance(node, ast.ClassDef))
    return FileEntry(
        reader.module, dict(reader.imports), tuple(reader.star_imports), reader.all_names,
        frozenset(reader.local_classes), classes, read_constants(tree, text, reader.imports, os.fspath(path)),
    )


def record(index: RepositoryIndex, entry: FileEntry | None) -> None:
    if entry is None:
        return
    _record_exports(index, entry.module, entry.imports, entry.star_imports, entry.all_names)
    index.module_classes[entry.module] = index.module_classes.get(entry.module, frozenset()) | entry.local_classes
    known = index.module_constants.get(entry.module)
    index.module_constants[entry.module] = entry.constants if known is None else known.merged(entry.constants)
    for cls in entry.classes:
        index.add(cls)


def index_source(index: RepositoryIndex, text: str, path: Path) -> None:
    record(index, read_source(text, path))


def _record_exports(
    index: RepositoryIndex, module: str, imports: dict[str, str], star_imports, all_names: frozenset[str] | None
) -> None:
    index.exports.setdefault(module, {}).update(imports)  # files of the same module key: all their names
    if star_imports:
        index.star_imports[module] = tuple(star_imports)
    if all_names is not None:
        index.all_names[module] = all_names


def build_index(
    files: Iterable[Path | str], sources: Mapping[Path | str, str | Path] | None = None, *,
    search_disk: bool = True,
) -> RepositoryIndex:
    """The index of ``files``, read as queries need them. ``sources``, keyed as in ``files``: a file's text as the
    run started (``bytes.decode("utf-8", errors="replace")``), or the path to read it from when its module is first
    needed (where nothing writes files while the index is in use); a file without one is read from its own path.
    ``search_disk``: a module no file defines is read from disk where their imports find it (``search_path.py``);
    the paths of ``files`` are then paths of files (relative to the current folder, or absolute)."""
    unread: dict[str, list[tuple[Path | str, str | Path | None]]] = {}
    for path in files:
        source = sources.get(path) if sources is not None else None  # None: read from the path itself
        unread.setdefault(module_name(path), []).append((path, source))
    paths = [path for entries in unread.values() for path, _ in entries]
    return RepositoryIndex(unread=unread, modules=frozenset(unread), search=SearchPath(paths) if search_disk else None,
                           files=tuple(entry for entries in unread.values() for entry in entries))
