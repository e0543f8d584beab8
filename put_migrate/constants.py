"""String constants a module defines once and never changes, read with Python's ``ast`` for the index.

Two shapes hold names that log calls use (``self.log(f"{mode}_{KEYS.ACCURACY}", ...)``):

- a module-level instance of a ``NamedTuple`` class of the module, built with no arguments, whose fields have
  string defaults (``KEYS = _Keys()``): a named tuple's fields cannot be assigned, so only the module's name could
  be rebound, and it is bound once;
- a plain class (no bases, decorators or keywords) whose body assigns string class attributes once each
  (``class Keys: ACCURACY = "accuracy"``), none of them assigned anywhere else in the module.

``rebound`` names the module's names bound more than once by its statements (at any depth): an imported name that
is rebound may hold something else where it is used.
"""

from __future__ import annotations

import ast
from collections import Counter
from collections.abc import Iterable
from collections.abc import Mapping
from dataclasses import dataclass

from put_migrate import resolve

_NAMED_TUPLE = frozenset({"typing.NamedTuple", "typing_extensions.NamedTuple"})


@dataclass(frozen=True)
class ModuleConstants:
    """``values``: (name, ((field, string), ...)) per constant; ``rebound``: names bound more than once."""

    values: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = ()
    rebound: frozenset[str] = frozenset()

    def field(self, name: str, field: str) -> str | None:
        """The string ``name.field`` holds, where ``name`` is one of the module's constants."""
        for constant, fields in self.values:
            if constant == name:
                return dict(fields).get(field)
        return None


def read_constants(tree: ast.Module, statements: Iterable[ast.AST], imports: Mapping[str, str]) -> ModuleConstants:
    """The string constants of module ``tree`` (see the module's docstring); ``statements``: all its statements;
    ``imports``: the names its imports bind, qualified."""
    bindings: Counter[str] = Counter()
    attribute_stores: set[str] = set()
    for node in statements:
        for name in _bound_names(node):
            bindings[name] += 1
        for target in _targets(node):
            for inner in ast.walk(target):
                if isinstance(inner, ast.Attribute) and isinstance(inner.ctx, (ast.Store, ast.Del)):
                    attribute_stores.add(inner.attr)
    rebound = frozenset(name for name, count in bindings.items() if count > 1)
    named_tuples: dict[str, dict[str, str]] = {}
    values: list[tuple[str, tuple[tuple[str, str], ...]]] = []
    for top in tree.body:
        if not isinstance(top, ast.ClassDef) or top.name in rebound or top.decorator_list or top.keywords:
            continue
        if len(top.bases) == 1 and resolve.qualify(imports, _dotted(top.bases[0])) in _NAMED_TUPLE:
            named_tuples[top.name] = _string_fields(top, attribute_stores, annotated_only=True)
        elif not top.bases:
            fields = _string_fields(top, attribute_stores, annotated_only=False)
            if fields:
                values.append((top.name, tuple(sorted(fields.items()))))
    for top in tree.body:
        if not (isinstance(top, ast.Assign) and len(top.targets) == 1 and isinstance(top.targets[0], ast.Name)):
            continue
        name, call = top.targets[0].id, top.value
        if (name not in rebound and isinstance(call, ast.Call) and isinstance(call.func, ast.Name)
                and call.func.id in named_tuples and not call.args and not call.keywords
                and named_tuples[call.func.id]):
            values.append((name, tuple(sorted(named_tuples[call.func.id].items()))))
    return ModuleConstants(tuple(values), rebound)


def _string_fields(node: ast.ClassDef, attribute_stores: set[str], annotated_only: bool) -> dict[str, str]:
    """The class attributes (named tuple fields) of ``node`` given a string once in its body and assigned nowhere
    else in the module; a named tuple with a field of no default is ``{}`` (``C()`` raises)."""
    fields: dict[str, str] = {}
    seen: Counter[str] = Counter()
    for statement in node.body:
        if isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name):
            name, value = statement.target.id, statement.value
            if value is None and annotated_only:
                return {}
        elif isinstance(statement, ast.Assign) and not annotated_only and len(statement.targets) == 1 and isinstance(
            statement.targets[0], ast.Name
        ):
            name, value = statement.targets[0].id, statement.value
        else:
            for bound in _bound_names(statement):
                seen[bound] += 1
            continue
        seen[name] += 1
        if isinstance(value, ast.Constant) and isinstance(value.value, str) and name not in attribute_stores:
            fields[name] = value.value
    return {name: value for name, value in fields.items() if seen[name] == 1}


def _targets(node: ast.AST) -> list[ast.expr]:
    if isinstance(node, ast.Assign):
        return list(node.targets)
    if isinstance(node, (ast.AnnAssign, ast.AugAssign, ast.For, ast.AsyncFor)):
        return [node.target]
    if isinstance(node, ast.Delete):
        return list(node.targets)
    if isinstance(node, (ast.With, ast.AsyncWith)):
        return [item.optional_vars for item in node.items if item.optional_vars is not None]
    return []


def _bound_names(node: ast.AST) -> Iterable[str]:
    """The plain names a statement binds (its targets, an import's names, a definition's name, a ``global``)."""
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        yield node.name
    elif isinstance(node, (ast.Import, ast.ImportFrom)):
        for alias in node.names:
            yield (alias.asname or alias.name).split(".")[0]
    elif isinstance(node, (ast.Global, ast.Nonlocal)):
        yield from node.names
    for target in _targets(node):
        for inner in ast.walk(target):
            if isinstance(inner, ast.Name):
                yield inner.id


def _dotted(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        head = _dotted(node.value)
        return None if head is None else f"{head}.{node.attr}"
    return None
