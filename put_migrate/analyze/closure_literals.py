"""Literals a class defined in a function closes over (``log_key = "test_log"`` then ``class M(BoringModel): ...
self.log(log_key, v)``): read as if the literal were written at the call.

A name counts when an enclosing function binds it exactly once, by ``name = <literal>`` as a statement of its own
body that runs before the class statement, and nothing else in that function (the class, its methods, nested
functions included) binds it in any way: every method then reads that one value. A string is immutable; a dict
literal with literal keys is read as its items only where every other mention of the name is the mapping given to a
``log_dict`` call (directly, or as an arm of a conditional expression), so nothing can change it in between.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import libcst as cst

from put_migrate.analyze.literals import literal_str
from put_migrate.analyze.local_kwargs import literal_dict_items
from put_migrate.analyze.unreached import _binds as binds
from put_migrate.walk import contains, visit

Items = tuple[tuple[str, cst.BaseExpression], ...]


@dataclass(frozen=True)
class ClosureLiterals:
    """The names a class's methods read from enclosing functions, bound to literals."""

    strings: tuple[tuple[str, str], ...] = ()
    mappings: dict[str, Items] = field(default_factory=dict, compare=False, repr=False)

    def mapping(self, node: cst.BaseExpression | None) -> cst.Dict | None:
        """The dict literal ``node`` (a name bound to one) stands for, rebuilt from its items."""
        if not isinstance(node, cst.Name) or node.value not in self.mappings:
            return None
        return cst.Dict([cst.DictElement(_string(k), v) for k, v in self.mappings[node.value]])

    def keys(self, node: cst.BaseExpression) -> tuple[str, ...] | None:
        """Every key a mapping expression can have, when each of its arms is a known dict (``a if c else b``)."""
        if isinstance(node, cst.IfExp):
            body, orelse = self.keys(node.body), self.keys(node.orelse)
            return None if body is None or orelse is None else tuple(dict.fromkeys(body + orelse))
        if isinstance(node, cst.Name) and node.value in self.mappings:
            return tuple(k for k, _ in self.mappings[node.value])
        if isinstance(node, cst.Dict):
            keys = [literal_str(e.key) if isinstance(e, cst.DictElement) else None for e in node.elements]
            return tuple(k for k in keys if k is not None) if all(k is not None for k in keys) else None
        return None


NONE = ClosureLiterals()


def closure_literals(cls_node: cst.ClassDef, enclosing: tuple[cst.FunctionDef, ...]) -> ClosureLiterals:
    """The literals ``cls_node``'s methods close over, from the functions ``enclosing`` it (outermost first)."""
    if not enclosing:
        return NONE
    # Only names some enclosing function assigns a literal by a statement of its body are worth the full check.
    assigned = {name for function in enclosing for name in _literal_assignments(function)}
    candidates = assigned & _read_names(cls_node) if assigned else set()
    strings: dict[str, str] = {}
    mappings: dict[str, Items] = {}
    for name in sorted(candidates):
        for function in reversed(enclosing):  # the innermost function that binds the name decides
            found = _single_literal(function, name, cls_node)
            if found is _UNBOUND:
                continue
            if isinstance(found, str):
                strings[name] = found
            elif isinstance(found, cst.Dict) and _read_only_by_log_dict(function, name):
                mappings[name] = literal_dict_items(name, found)
            break
    return ClosureLiterals(tuple(sorted(strings.items())), mappings) if strings or mappings else NONE


_UNBOUND = object()


def _literal_assignments(function: cst.FunctionDef) -> set[str]:
    """The names statements of ``function``'s own body assign a string or a dict display (``name = ...``)."""
    names: set[str] = set()
    for statement in function.body.body if isinstance(function.body, cst.IndentedBlock) else ():
        if isinstance(statement, cst.SimpleStatementLine):
            for small in statement.body:
                if (
                    isinstance(small, cst.Assign)
                    and len(small.targets) == 1
                    and isinstance(small.targets[0].target, cst.Name)
                    and (isinstance(small.value, cst.Dict) or literal_str(small.value) is not None)
                ):
                    names.add(small.targets[0].target.value)
    return names


def _single_literal(function: cst.FunctionDef, name: str, cls_node: cst.ClassDef) -> object:
    """The literal (a string, or a dict display with literal keys) ``function`` binds ``name`` to once, before the
    statement holding the class; ``_UNBOUND`` when ``function`` does not bind it; None when it binds it otherwise."""
    params = function.params
    all_params = [*params.posonly_params, *params.params, *params.kwonly_params]
    all_params += [p for p in (params.star_arg, params.star_kwarg) if isinstance(p, cst.Param)]
    if any(p.name.value == name for p in all_params):
        return None
    if not isinstance(function.body, cst.IndentedBlock):
        return _UNBOUND
    statements = list(function.body.body)
    binding = [i for i, s in enumerate(statements) if binds(s, name) or _binds_otherwise(s, name)]
    if not binding:
        return _UNBOUND
    holder = next((i for i, s in enumerate(statements) if contains(s, cls_node)), None)
    if len(binding) != 1 or holder is None or binding[0] >= holder:
        return None
    statement = statements[binding[0]]
    if not (isinstance(statement, cst.SimpleStatementLine) and len(statement.body) == 1):
        return None
    assign = statement.body[0]
    if not (
        isinstance(assign, cst.Assign)
        and len(assign.targets) == 1
        and isinstance(assign.targets[0].target, cst.Name)
        and assign.targets[0].target.value == name
        and name not in _read_names(assign.value)
    ):
        return None
    text = literal_str(assign.value)
    if text is not None:
        return text
    value = assign.value
    if not isinstance(value, cst.Dict) or not value.elements:
        return None
    keys = [literal_str(e.key) if isinstance(e, cst.DictElement) else None for e in value.elements]
    return value if None not in keys and len(set(keys)) == len(keys) else None


def _binds_otherwise(tree: cst.CSTNode, name: str) -> bool:
    """What ``unreached``'s check of assignments leaves out: a ``def``/``class`` of the name, a parameter of a nested
    function or lambda, a comprehension or ``match`` target (each shadows the name where the method may read it)."""

    class Binders(cst.CSTVisitor):
        found = False

        def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
            self.found |= node.name.value == name

        def visit_ClassDef(self, node: cst.ClassDef) -> None:
            self.found |= node.name.value == name

        def visit_Param(self, node: cst.Param) -> None:
            self.found |= node.name.value == name

        def visit_CompFor(self, node: cst.CompFor) -> None:
            self.found |= name in _read_names(node.target)

        def visit_MatchAs(self, node: cst.MatchAs) -> None:
            self.found |= node.name is not None and node.name.value == name

        def visit_MatchStar(self, node: cst.MatchStar) -> None:
            self.found |= node.name is not None and node.name.value == name

        def visit_MatchMapping(self, node: cst.MatchMapping) -> None:
            self.found |= node.rest is not None and node.rest.value == name

    visitor = Binders()
    visit(tree, visitor)
    return visitor.found


def _read_names(tree: cst.CSTNode) -> set[str]:
    """The plain names under ``tree`` (``a.b`` names ``a``; keywords ``k=`` name nothing)."""
    names: set[str] = set()

    class Names(cst.CSTVisitor):
        def visit_Name(self, node: cst.Name) -> None:
            names.add(node.value)

        def visit_Attribute(self, node: cst.Attribute) -> bool:
            visit(node.value, self)
            return False

        def visit_Arg(self, node: cst.Arg) -> bool:
            visit(node.value, self)
            return False

    visit(tree, Names())
    return names


def _read_only_by_log_dict(function: cst.FunctionDef, name: str) -> bool:
    """Every mention of ``name`` in ``function`` but its assignment is the mapping a ``log_dict`` call is given, or
    an arm of a conditional expression that is (Lightning reads the dict and never changes it)."""
    allowed: set[int] = set()
    mentions: list[cst.Name] = []

    def arms(node: cst.BaseExpression) -> None:
        if isinstance(node, cst.IfExp):
            arms(node.body)
            arms(node.orelse)
        elif isinstance(node, cst.Name):
            allowed.add(id(node))

    class Mentions(cst.CSTVisitor):
        def visit_Call(self, node: cst.Call) -> None:
            if (  # ``self.log_dict`` or a Callback's ``pl_module.log_dict``, not another object's method
                isinstance(node.func, cst.Attribute)
                and isinstance(node.func.value, cst.Name)
                and node.func.attr.value == "log_dict"
                and node.args
            ):
                first = node.args[0]
                dictionary = next((a for a in node.args if a.keyword is not None and a.keyword.value == "dictionary"),
                                  first if first.keyword is None and not first.star else None)
                if dictionary is not None:
                    arms(dictionary.value)

        def visit_AssignTarget(self, node: cst.AssignTarget) -> None:
            if isinstance(node.target, cst.Name):
                allowed.add(id(node.target))  # its one binding (any other one was refused before)

        def visit_Attribute(self, node: cst.Attribute) -> bool:
            visit(node.value, self)
            return False

        def visit_Arg(self, node: cst.Arg) -> bool:
            visit(node.value, self)
            return False

        def visit_Name(self, node: cst.Name) -> None:
            if node.value == name:
                mentions.append(node)

    visit(function.body, Mentions())
    return all(id(m) in allowed for m in mentions)


def _string(text: str) -> cst.SimpleString:
    return cst.SimpleString(f'"{text}"' if '"' not in text and "\\" not in text else repr(text))
