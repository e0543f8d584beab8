"""String constants a module defines once and never changes, read with Python's ``ast`` for the index.

Two shapes hold names that log calls use (``self.log(f"{mode}_{KEYS.ACCURACY}", ...)``):

- a module-level instance of a ``NamedTuple`` class of the module, built with no arguments, whose fields have
  string defaults (``KEYS = _Keys()``): a named tuple's fields cannot be assigned, so only the module's name could
  be rebound, and it is bound once;
- a plain class (no bases, decorators or keywords) whose body assigns string class attributes once each
  (``class Keys: ACCURACY = "accuracy"``), none of them assigned anywhere else in the module.

``rebound`` names the module's names bound more than once by its module-level statements, or declared ``global``
somewhere: an imported name that is rebound may hold something else where it is used.
"""

from __future__ import annotations

import ast
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from put_migrate import resolve

_DECLARATION = re.compile(r"^[ \t]*(?:global|nonlocal)\b", re.MULTILINE)
_BLOCK_FIELDS = ("body", "handlers", "orelse", "finalbody", "cases")
_NAMED_TUPLE = frozenset({"typing.NamedTuple", "typing_extensions.NamedTuple"})


@dataclass(frozen=True)
class ModuleConstants:
    """``values``: (name, ((field, string), ...)) per constant; ``rebound``: names bound more than once."""

    values: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = ()
    rebound: frozenset[str] = frozenset()
    source: str = ""  # the file read
    ambiguous: bool = False  # several files of the run have the module's key: none of their names is known

    def merged(self, other: ModuleConstants) -> ModuleConstants:
        """What the index knows of a module key recorded from this file and then from ``other``: the newer text
        of one file, or nothing (two files)."""
        return other if other.source == self.source and not self.ambiguous else ModuleConstants(ambiguous=True)

    def field(self, name: str, field: str) -> str | None:
        """The string ``name.field`` holds, where ``name`` is one of the module's constants."""
        for constant, fields in self.values:
            if constant == name:
                return dict(fields).get(field)
        return None


def read_constants(tree: ast.Module, text: str, imports: Mapping[str, str], source: str = "") -> ModuleConstants:
    """The string constants of module ``tree`` (see the module's docstring), whose source is ``text``; ``imports``:
    the names its imports bind, qualified. Only the module-level statements are read (a function's assignment
    binds a local), and each ``global`` declaration's names count as rebound; the text tells whether a class
    attribute may be assigned elsewhere (cheaper than walking every expression)."""
    bindings: Counter[str] = Counter()
    for node in _module_level(tree.body):
        for name in _bound_names(node):
            bindings[name] += 1
    rebound = {name for name, count in bindings.items() if count > 1}
    if ("global " in text or "nonlocal " in text) and _DECLARATION.search(text):
        rebound.update(_declared(tree.body))
    named_tuples: dict[str, dict[str, str]] = {}
    values: list[tuple[str, tuple[tuple[str, str], ...]]] = []
    for top in tree.body:
        if not isinstance(top, ast.ClassDef) or top.name in rebound or top.decorator_list or top.keywords:
            continue
        if len(top.bases) == 1 and resolve.qualify(imports, _dotted(top.bases[0])) in _NAMED_TUPLE:
            named_tuples[top.name] = _string_fields(top, annotated_only=True)
        elif not top.bases and "setattr" not in text:
            fields = {name: value for name, value in _string_fields(top, annotated_only=False).items()
                      if not _assigned_in_text(name, text)}
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
    return ModuleConstants(tuple(values), frozenset(rebound), source)


def _module_level(body: list[ast.stmt]) -> Iterable[ast.stmt]:
    """The statements that run in the module's namespace: ``if``/``try``/``with``/``for``/``match`` blocks entered,
    function and class bodies not."""
    for node in body:
        yield node
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        for field in _BLOCK_FIELDS:
            for child in getattr(node, field, None) or ():
                if isinstance(child, (ast.ExceptHandler, ast.match_case)):
                    yield from _module_level(child.body)
                elif isinstance(child, ast.stmt):
                    yield from _module_level([child])


def _assigned_in_text(attribute: str, text: str) -> bool:
    """``<anything>.<attribute> = ...`` (or an augmented assignment, or a ``del``) somewhere in the text."""
    return re.search(rf"\.\s*{attribute}\s*(?:[-+*/%&|^@]|//|\*\*|<<|>>)?=(?!=)|\bdel\b[^\n]*\.\s*{attribute}\b",
                     text) is not None


def _string_fields(node: ast.ClassDef, annotated_only: bool) -> dict[str, str]:
    """The class attributes (named tuple fields) of ``node`` given a string once in its body; a named tuple with a
    field of no default is ``{}`` (``C()`` raises)."""
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
        if isinstance(value, ast.Constant) and isinstance(value.value, str):
            fields[name] = value.value
    return {name: value for name, value in fields.items() if seen[name] == 1}


def _bound_names(node: ast.AST) -> list[str]:
    """The plain names a statement binds (its targets, an import's names, a definition's name)."""
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return [node.name]
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return [(alias.asname or alias.name).split(".")[0] for alias in node.names]
    if isinstance(node, (ast.Assign, ast.Delete)):
        targets = node.targets
    elif isinstance(node, (ast.AnnAssign, ast.AugAssign, ast.For, ast.AsyncFor)):
        targets = [node.target]
    elif isinstance(node, (ast.With, ast.AsyncWith)):
        targets = [item.optional_vars for item in node.items if item.optional_vars is not None]
    else:
        return []
    names = []
    for target in targets:
        if isinstance(target, ast.Name):
            names.append(target.id)
        elif not isinstance(target, ast.Attribute):  # a tuple or list of targets, a starred one
            names += [inner.id for inner in ast.walk(target) if isinstance(inner, ast.Name)]
    return names


def _declared(body: list[ast.stmt]) -> Iterable[str]:
    """The names of the ``global``/``nonlocal`` statements at any depth (function and class bodies entered)."""
    for node in body:
        if isinstance(node, (ast.Global, ast.Nonlocal)):
            yield from node.names
        for field in _BLOCK_FIELDS:
            for child in getattr(node, field, None) or ():
                if isinstance(child, (ast.ExceptHandler, ast.match_case)):
                    yield from _declared(child.body)
                elif isinstance(child, ast.stmt):
                    yield from _declared([child])


def _dotted(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        head = _dotted(node.value)
        return None if head is None else f"{head}.{node.attr}"
    return None
