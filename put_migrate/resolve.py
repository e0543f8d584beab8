"""Imports and base classes resolved to dotted names, on ``ast``: one resolver for the index, screens and transform."""

# ``import a.b as c`` binds ``c`` to ``a.b``, ``import a.b`` binds ``a``, ``from m import x as y`` binds ``y`` to
# ``m.x``; a relative import is made dotted from the module's key (taken from its path). A base is unresolved when it
# names an import that neither Lightning, a known package nor the run's files define, directly or through the bases
# of a class of the same file. The transform's side (libcst) reads through the ``ast`` tree of the same text.

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Mapping, Sequence

from put_migrate.lightning_names import BASES, known_non_lightning

_LINE_END = re.compile(r"\r\n|\r|\n")  # the line ends ``ast`` counts


def dotted(node: ast.expr) -> str | None:
    """``a.b.c`` for a Name/Attribute chain, else None (``Generic[T]``, a call, ``*bases``)."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        head = dotted(node.value)
        return None if head is None else f"{head}.{node.attr}"
    return None


def qualify(names: Mapping[str, str] | None, written: str | None) -> str | None:
    """The dotted name ``written`` (``pl.LightningModule``) refers to through ``names``; None if its head is unbound."""
    if written is None or not names:
        return None
    head, _, rest = written.partition(".")
    return names[head] + (f".{rest}" if rest else "") if head in names else None


def bind_import(names: dict[str, str], node: ast.Import) -> None:
    for alias in node.names:
        if alias.asname:
            names[alias.asname] = alias.name
        else:  # ``import a.b`` binds ``a``
            head = alias.name.split(".")[0]
            names[head] = head


def from_module(node: ast.ImportFrom, module_key: str, is_package: bool) -> str | None:
    """The dotted module of ``from ... import``, a relative one made dotted from the module key ("" for ``from .
    import x`` at the top of the key); None when it climbs above the key."""
    if not node.level:
        return node.module
    package = module_key.split(".") if is_package else module_key.split(".")[:-1]
    if node.level - 1 > len(package):
        return None
    package = package[: len(package) - (node.level - 1)]
    return ".".join([*package, *([node.module] if node.module else [])])


def import_map(body: Sequence[ast.stmt], text: str, names: dict[str, str] | None = None) -> dict[str, str]:
    """Names bound by the absolute imports of a block (a module's or a function's body), in its ``try``/``if``
    blocks too, but not in one-line suites (``if x: import y``); added to a copy of ``names``."""
    found = dict(names or {})
    lines: list[str] = []

    def indented(block: Sequence[ast.stmt]) -> bool:
        """Whether a block stands on lines of its own (only blanks before its first statement)."""
        if not lines:
            lines.extend(_LINE_END.split(text))
        first = block[0]
        return not lines[first.lineno - 1].encode("utf-8", "surrogatepass")[: first.col_offset].strip()

    def add(block: Sequence[ast.stmt]) -> None:
        for node in block:
            if isinstance(node, ast.Import):
                bind_import(found, node)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                if any(alias.name == "*" for alias in node.names):
                    continue
                for alias in node.names:
                    found[alias.asname or alias.name] = f"{node.module}.{alias.name}"
            elif isinstance(node, (ast.Try, ast.If)):  # ``try: import lightning.pytorch as pl`` ...
                if isinstance(node, ast.If):
                    blocks = [node.body, node.orelse]
                else:
                    blocks = [node.body, *(h.body for h in node.handlers), node.orelse, node.finalbody]
                for block in blocks:
                    if block and (_is_elif(block, node) or indented(block)):
                        add(block)

    add(body)
    return found


def _is_elif(block: Sequence[ast.stmt], node: ast.stmt) -> bool:
    """An ``elif`` (or an ``else`` block holding one ``if``): its own blocks are judged when it is added."""
    return isinstance(node, ast.If) and block is node.orelse and len(block) == 1 and isinstance(block[0], ast.If)


def relative_imports(tree: ast.Module, module_key: str, is_package: bool) -> dict[str, str]:
    """Names bound by top-level relative imports (``from .base import Base``), made dotted from the module key."""
    found: dict[str, str] = {}
    for node in tree.body:
        if not isinstance(node, ast.ImportFrom) or not node.level or any(a.name == "*" for a in node.names):
            continue
        prefix = from_module(node, module_key, is_package)
        if prefix is None:
            continue
        for alias in node.names:
            found[alias.asname or alias.name] = f"{prefix}.{alias.name}" if prefix else alias.name
    return found


def unresolved_base(
    bases: Iterable[str | None], imports: Mapping[str, str], relative: Mapping[str, str] | None, index,
    local: Mapping[str, Sequence[str | None]], seen: set[str],
) -> str | None:
    """The first of ``bases`` (as written; None for what is not a dotted name) that cannot be resolved, else None.
    ``local``: the written bases of the file's top-level classes, by name; ``seen``: the classes already followed."""
    for written in bases:
        if written is None:
            continue
        qualified = qualify(imports, written) or qualify(relative, written)
        if qualified is None:
            head = written.split(".")[0]
            if head in local and head not in seen:  # a class of this file: its own bases decide
                seen.add(head)
                if unresolved_base(local[head], imports, relative, index, local, seen) is not None:
                    return written
            continue  # a builtin or a name bound otherwise: not an imported name
        if qualified in BASES or known_non_lightning(qualified):
            continue
        if index is not None:
            found = index.find(qualified)
            if found is not None:
                if index.lightning_kind(found) is None and indexed_unresolved(index, found):
                    return written
                continue
            if index.knows_class(qualified):
                continue
        return written
    return None


def indexed_unresolved(index, cls, depth: int = 0) -> bool:
    """An indexed (non-Lightning) class with an imported base the index cannot resolve either."""
    if depth > 16:
        return False
    for base in cls.bases:
        if base in BASES or known_non_lightning(base):
            continue
        found = index.find(base)
        if found is not None:
            if found.key != cls.key and indexed_unresolved(index, found, depth + 1):
                return True
            continue
        if not index.knows_class(base) and base.rpartition(".")[0] != cls.key.rpartition(".")[0]:
            return True
    return False
