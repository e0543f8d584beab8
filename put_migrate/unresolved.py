"""PM222, the safety net: log calls in a hook of a class that is not known to be a Lightning class, because one
of its bases could not be resolved.

A class is migrated only when its bases lead to ``LightningModule`` or ``Callback`` (``lightning_classes``, the
repository index). When a base is an imported name that neither the file nor the run's other files define (a base
class in a folder that was not given, an installed package's class), the class may well be a LightningModule: a
``self.log``/``self.log_dict`` call in one of its methods named like a Lightning hook (``hooks.HOOKS``) is then
reported, never passed over in silence. Bases that resolve to known non-Lightning classes (the standard library,
torch, numpy, torchmetrics, classes the run's files define that do not lead to Lightning) give no finding.
"""

from __future__ import annotations

from typing import Optional

import libcst as cst

from put_migrate.hooks import HOOKS
from put_migrate.lightning_classes import BASES, ImportMap, _top_level, dotted_name, local_classes
from put_migrate.walk import visit
from put_migrate.index import indexed_unresolved as _indexed_unresolved
from put_migrate.lightning_names import known_non_lightning as _known_non_lightning
from put_migrate.rules import CLASS_NOT_RECOGNISED

CODE = CLASS_NOT_RECOGNISED.code

def unresolved_base(
    statement: cst.ClassDef, imports: ImportMap, index, module_key: str, local: dict[str, cst.ClassDef],
    relative: Optional[dict[str, str]] = None, _seen: Optional[set[str]] = None,
) -> Optional[str]:
    """The first base of ``statement`` (as written) that cannot be resolved, else None."""
    seen = _seen if _seen is not None else {statement.name.value}
    for base in statement.bases:
        if base.keyword is not None or base.star:
            continue
        written = dotted_name(base.value)
        if written is None:  # Generic[T], a call: not an imported class name
            continue
        qualified = imports.qualify(base.value) or _qualify_relative(written, relative)
        if qualified is None:
            head = written.split(".")[0]
            if head in local and head not in seen:  # a class of this file: its own bases decide
                seen.add(head)
                if unresolved_base(local[head], imports, index, module_key, local, relative, seen) is not None:
                    return written
            continue  # a builtin or a name bound otherwise: not an imported name
        if qualified in BASES or _known_non_lightning(qualified):
            continue
        if index is not None:
            indexed = index.find(qualified)
            if indexed is not None:
                if index.lightning_kind(indexed) is None and _indexed_unresolved(index, indexed):
                    return written
                continue
            if index.knows_class(qualified):
                continue
        return written
    return None


class _HookLogCalls(cst.CSTVisitor):
    def __init__(self) -> None:
        self.calls: list[tuple[cst.Call, str]] = []
        self.hook: Optional[str] = None
        self.depth = 0

    def visit_FunctionDef(self, node: cst.FunctionDef) -> Optional[bool]:
        if self.depth == 0 and node.name.value in HOOKS:
            self.hook = node.name.value
        self.depth += 1
        return None

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self.depth -= 1
        if self.depth == 0:
            self.hook = None

    def visit_ClassDef(self, node: cst.ClassDef) -> Optional[bool]:
        return False  # nested classes are not this class's hooks

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if (
            self.hook is not None
            and isinstance(func, cst.Attribute)
            and func.attr.value in ("log", "log_dict")
            and isinstance(func.value, cst.Name)
            and func.value.value == "self"
        ):
            self.calls.append((node, self.hook))


def hook_log_calls(statement: cst.ClassDef) -> list[tuple[cst.Call, str]]:
    visitor = _HookLogCalls()
    for inner in statement.body.body:
        if isinstance(inner, cst.FunctionDef):
            visit(inner, visitor)
    return visitor.calls


def _qualify_relative(written: str, relative: Optional[dict[str, str]]) -> Optional[str]:
    if not relative:
        return None
    head, _, rest = written.partition(".")
    if head not in relative:
        return None
    return relative[head] + (f".{rest}" if rest else "")


def relative_imports(module: cst.Module, module_key: str, is_package: bool) -> dict[str, str]:
    """Names bound by top-level relative imports (``from .base import Base``), made dotted from the module key."""
    found: dict[str, str] = {}
    for statement in module.body:
        if not isinstance(statement, cst.SimpleStatementLine):
            continue
        for small in statement.body:
            if not (isinstance(small, cst.ImportFrom) and small.relative) or isinstance(small.names, cst.ImportStar):
                continue
            level = len(small.relative)
            package = module_key.split(".") if is_package else module_key.split(".")[:-1]
            if level - 1 > len(package):
                continue
            package = package[: len(package) - (level - 1)]
            source = dotted_name(small.module) if small.module is not None else None
            prefix = ".".join([*package, *([source] if source else [])])
            for alias in small.names:
                imported = dotted_name(alias.name)
                if imported is None:
                    continue
                local = alias.asname.name.value if alias.asname and isinstance(alias.asname.name, cst.Name) else imported
                found[local] = f"{prefix}.{imported}" if prefix else imported
    return found


def unresolved_classes(
    module: cst.Module, imports: ImportMap, index, module_key: str, migrated: set[str], is_package: bool = False
):
    """``(class, unresolved base, [(call, hook), ...])`` for the classes of ``module`` (top-level ones, then those
    of function bodies) that are not migrated, log in a hook, and have a base that cannot be resolved."""
    local = {s.name.value: s for s in module.body if isinstance(s, cst.ClassDef)}
    relative: Optional[dict[str, str]] = None
    found = []
    top = _top_level(module, imports, index, module_key)
    migrated = {c.name for c in top}  # ``migrated`` also names classes of function bodies: not the same classes
    for name, statement in local.items():
        if name in migrated or not statement.bases:
            continue
        calls = hook_log_calls(statement)
        if not calls:
            continue
        if relative is None:
            relative = relative_imports(module, module_key, is_package)
        base = unresolved_base(statement, imports, index, module_key, local, relative)
        if base is not None:
            found.append((statement, base, calls))
    for cls, (statement, scope_imports, scope_classes) in local_classes(module, imports, index, module_key, top):
        if cls is not None or not statement.bases:
            continue
        calls = hook_log_calls(statement)
        if not calls:
            continue
        base = _local_base(statement, scope_classes)
        if base is None:
            if relative is None:
                relative = relative_imports(module, module_key, is_package)
            base = unresolved_base(statement, scope_imports, index, module_key, local, relative)
        if base is not None:
            found.append((statement, base, calls))
    return found


def _local_base(statement: cst.ClassDef, scope_classes: frozenset[str]) -> Optional[str]:
    """The first base of a class of a function body that names another class of a function body (not indexed:
    put-migrate does not follow such chains; the class is reported, never passed over)."""
    for base in statement.bases:
        if base.keyword is not None or base.star:
            continue
        written = dotted_name(base.value)
        if written is not None and written.split(".")[0] in scope_classes:
            return written
    return None
