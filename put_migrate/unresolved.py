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

import ast

import libcst as cst

from put_migrate import resolve
from put_migrate.hooks import HOOKS
from put_migrate.lightning_classes import ImportMap, dotted_name, local_classes, readable_tree, top_level_classes
from put_migrate.rules import CLASS_NOT_RECOGNISED
from put_migrate.walk import visit

CODE = CLASS_NOT_RECOGNISED.code


def written_bases(statement: cst.ClassDef) -> list[str | None]:
    """The positional bases of a class as written (``pl.LightningModule``); None for what is not a dotted name."""
    return [dotted_name(b.value) if b.keyword is None and not b.star else None for b in statement.bases]


def unresolved_base(
    statement: cst.ClassDef, imports: ImportMap, index, local: dict[str, list[str | None]],
    relative: dict[str, str] | None = None,
) -> str | None:
    """The first base of ``statement`` (as written) that cannot be resolved, else None. ``local``: the written
    bases of the module's top-level classes, by name."""
    return resolve.unresolved_base(
        written_bases(statement), imports.names, relative, index, local, {statement.name.value}
    )


class _HookLogCalls(cst.CSTVisitor):
    def __init__(self) -> None:
        self.calls: list[tuple[cst.Call, str]] = []
        self.hook: str | None = None
        self.depth = 0

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool | None:
        if self.depth == 0 and node.name.value in HOOKS:
            self.hook = node.name.value
        self.depth += 1
        return None

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self.depth -= 1
        if self.depth == 0:
            self.hook = None

    def visit_ClassDef(self, node: cst.ClassDef) -> bool | None:
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


def unresolved_classes(
    module: cst.Module, imports: ImportMap, index, module_key: str, migrated: set[str], is_package: bool = False,
    tree: ast.Module | None = None,
):
    """``(class, unresolved base, [(call, hook), ...])`` for the classes of ``module`` (top-level ones, then those
    of function bodies) that are not migrated, log in a hook, and have a base that cannot be resolved."""
    local = {s.name.value: s for s in module.body if isinstance(s, cst.ClassDef)}
    resolving: list = []  # (relative imports, the written bases of the top-level classes), read when first needed

    def base_of(statement: cst.ClassDef, scope_imports: ImportMap) -> str | None:
        if not resolving:
            readable = tree if tree is not None else readable_tree(module)[0]
            resolving.append(resolve.relative_imports(readable, module_key, is_package))
            resolving.append({name: written_bases(node) for name, node in local.items()})
        return unresolved_base(statement, scope_imports, index, resolving[1], resolving[0])

    found = []
    top = top_level_classes(module, imports, index, module_key)
    migrated = {c.name for c in top}  # ``migrated`` also names classes of function bodies: not the same classes
    for name, statement in local.items():
        if name in migrated or not statement.bases:
            continue
        calls = hook_log_calls(statement)
        if not calls:
            continue
        base = base_of(statement, imports)
        if base is not None:
            found.append((statement, base, calls))
    for cls, (statement, scope_imports, scope_classes) in local_classes(module, imports, index, module_key, top):
        if cls is not None or not statement.bases:
            continue
        calls = hook_log_calls(statement)
        if not calls:
            continue
        base = _local_base(statement, scope_classes) or base_of(statement, scope_imports)
        if base is not None:
            found.append((statement, base, calls))
    return found


def _local_base(statement: cst.ClassDef, scope_classes: frozenset[str]) -> str | None:
    """The first base of a class of a function body that names another class of a function body (not indexed:
    put-migrate does not follow such chains; the class is reported, never passed over)."""
    for base in statement.bases:
        if base.keyword is not None or base.star:
            continue
        written = dotted_name(base.value)
        if written is not None and written.split(".")[0] in scope_classes:
            return written
    return None
