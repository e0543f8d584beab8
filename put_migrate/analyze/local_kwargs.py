"""``**name`` arguments whose dict is built in the same function: ``kw = {"batch_size": n}`` then
``self.log_dict(d, **kw)``. Each key becomes a keyword argument: a literal value as written, anything else as
``kw["key"]``, read again from the dict the user's statement built (evaluated once, where it was)."""

from __future__ import annotations

import libcst as cst

from put_migrate.analyze.arguments import Expansions
from put_migrate.analyze.literals import literal_str
from put_migrate.walk import contains, find_all


def local_expansions(call: cst.Call, statement: cst.CSTNode | None, function: cst.FunctionDef) -> Expansions:
    """The ``**name`` arguments of ``call`` that a dict literal with literal keys, assigned once in ``function``
    before ``statement`` in an enclosing block, fills; names used in any other way are not expanded."""
    expansions: Expansions = {}
    for arg in call.args:
        if arg.star != "**" or not isinstance(arg.value, cst.Name):
            continue
        name = arg.value.value
        built = _single_dict(function, name)
        if built is None or statement is None or not _precedes(function, built[0], statement):
            continue
        expansions[name] = literal_dict_items(name, built[1])
    return expansions


def literal_dict_items(name: str, built: cst.Dict) -> tuple[tuple[str, cst.BaseExpression], ...]:
    """The (key, value) items of the dict literal ``built`` (literal keys) that the variable ``name`` holds: a
    literal value as written, anything else as ``name["key"]`` (read again from the dict, evaluated once)."""
    items: list[tuple[str, cst.BaseExpression]] = []
    for element in built.elements:
        assert isinstance(element, cst.DictElement)
        key = literal_str(element.key)
        assert key is not None
        value = element.value if _constant(element.value) else item_of(name, key)
        items.append((key, value))
    return tuple(items)


def item_of(name: str, key: str) -> cst.Subscript:
    """``name["key"]``: a keyword's value read again from the dict that holds it."""
    return cst.Subscript(value=cst.Name(name), slice=[cst.SubscriptElement(cst.Index(cst.SimpleString(_quoted(key))))])


def only_spread(function: cst.FunctionDef, name: str) -> bool:
    """Every mention of ``name`` in ``function``'s body is a ``**name`` argument: the dict is read, never changed
    nor rebound, so its items hold what was put in it when the function was called."""
    return variable_uses(function.body, name) == len(find_all(function.body, lambda node: _double_star(node, name)))


def optional_keywords(expansions: Expansions) -> frozenset[str]:
    """Keywords read from a local dict (``kw["batch_size"]``): their value may be ``None`` at run time."""
    return frozenset(key for items in expansions.values() for key, value in items if isinstance(value, cst.Subscript))


def _constant(node: cst.BaseExpression) -> bool:
    if isinstance(node, cst.Name):
        return node.value in ("True", "False", "None")
    return isinstance(node, (cst.Integer, cst.Float, cst.SimpleString)) or literal_str(node) is not None


def _single_dict(function: cst.FunctionDef, name: str) -> tuple[cst.SimpleStatementLine, cst.Dict] | None:
    """The statement ``name = {"literal": ..., ...}`` when it is the only binding of ``name`` in ``function`` and
    every other use of ``name`` is a ``**name`` argument (nothing can change the dict in between)."""
    assigns = find_all(function, lambda node: _assigns_only(node, name))
    uses = variable_uses(function, name)
    stars = find_all(function, lambda node: _double_star(node, name))
    if len(assigns) != 1 or uses != 1 + len(stars):
        return None
    line = assigns[0]
    assert isinstance(line, cst.SimpleStatementLine)
    assign = line.body[0]
    assert isinstance(assign, cst.Assign)
    value = assign.value
    if not isinstance(value, cst.Dict) or not value.elements:
        return None
    for element in value.elements:
        if not isinstance(element, cst.DictElement) or literal_str(element.key) is None:
            return None
    return line, value


def _assigns_only(node: cst.CSTNode, name: str) -> bool:
    """``name = ...`` alone on its line, with one target."""
    if not isinstance(node, cst.SimpleStatementLine) or len(node.body) != 1:
        return False
    assign = node.body[0]
    return isinstance(assign, cst.Assign) and len(assign.targets) == 1 and _is_name(assign.targets[0].target, name)


def _double_star(node: cst.CSTNode, name: str) -> bool:
    return isinstance(node, cst.Arg) and node.star == "**" and _is_name(node.value, name)


def _is_name(node: cst.CSTNode, name: str) -> bool:
    return isinstance(node, cst.Name) and node.value == name


def _precedes(function: cst.FunctionDef, assign: cst.CSTNode, statement: cst.CSTNode) -> bool:
    """``assign`` is a statement of a block that holds ``statement`` (directly or in a nested block), before it."""
    found = False

    class _Visitor(cst.CSTVisitor):
        def on_visit(self, node: cst.CSTNode) -> bool:
            nonlocal found
            body = getattr(node, "body", None)
            if isinstance(body, (list, tuple)) and assign in body:
                index = list(body).index(assign)
                for later in body[index + 1:]:
                    if contains(later, statement):
                        found = True
                        return False
            return not found

    function.visit(_Visitor())
    return found


def _quoted(key: str) -> str:
    return f'"{key}"' if '"' not in key and "\\" not in key else repr(key)


def variable_uses(tree: cst.CSTNode, name: str) -> int:
    """How many times ``name`` appears as a variable under ``tree`` (not as ``x.name`` nor as a keyword ``name=``)."""
    count = 0

    class _Visitor(cst.CSTVisitor):
        def visit_Attribute(self, node: cst.Attribute) -> bool:
            node.value.visit(self)
            return False

        def visit_Arg(self, node: cst.Arg) -> bool:
            node.value.visit(self)
            return False

        def visit_Name(self, node: cst.Name) -> None:
            nonlocal count
            count += node.value == name

    tree.visit(_Visitor())
    return count
