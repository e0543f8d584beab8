"""``visit(node, visitor)``: run a read-only ``libcst.CSTVisitor`` over a tree, several times faster than
``node.visit(visitor)``.

libcst's own traversal is shared with transformers: at every node it rebuilds the node from its visited children
and validates it, which costs more than parsing the file did. A visitor that only reads needs none of that. This
driver calls the same ``visit_<Node>``/``leave_<Node>`` methods (returning ``False`` skips the children, as in
libcst) on the same nodes in the same order, except trivia: whitespace, comments, brackets, commas, colons, dots
and operators are not visited (no visitor of put-migrate reads them; the fields are named in ``TRIVIA_FIELDS``).
The order of each node type's fields is the one its ``_visit_and_replace_children`` visits them in, read once per
type from libcst itself. Attribute hooks (``visit_<Node>_<field>``) are not called.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import libcst as cst

TRIVIA_FIELDS = frozenset(
    {
        "lpar", "rpar", "lbracket", "rbracket", "lbrace", "rbrace", "comma", "semicolon", "colon", "dot", "equal",
        "operator", "asynchronous", "leading_lines", "lines_after_decorators", "trailing_whitespace", "newline",
        "comment", "header", "footer",
    }
)

_FIELD_ORDER: dict[type, tuple[str, ...]] = {}
_Hooks = tuple[Callable | None, Callable | None]
_HOOKS: dict[tuple[type, type], _Hooks] = {}


class _FieldRecorder(cst.CSTVisitor):
    """Records the fields libcst visits on one node, without entering them."""

    def __init__(self) -> None:
        self.fields: list[str] = []

    def on_visit(self, node: cst.CSTNode) -> bool:
        return False

    def on_visit_attribute(self, node: cst.CSTNode, attribute: str) -> None:
        if attribute not in self.fields:
            self.fields.append(attribute)


def _field_order(node: cst.CSTNode) -> tuple[str, ...]:
    recorder = _FieldRecorder()
    node._visit_and_replace_children(recorder)  # every field is announced, empty or not
    # A field libcst visits only when it is set (FormattedStringExpression.format_spec) goes last, as libcst visits it.
    announced = set(recorder.fields)
    fields = [*recorder.fields, *(f.name for f in dataclasses.fields(node) if f.name not in announced)]
    order = tuple(f for f in fields if f not in TRIVIA_FIELDS and not f.startswith("whitespace"))
    _FIELD_ORDER[type(node)] = order
    return order


def _hooks(visitor: cst.CSTVisitor, node: cst.CSTNode) -> _Hooks:
    """The visitor's unbound visit_/leave_ functions for this node type (None where it has none); a visitor that
    overrides ``on_visit``/``on_leave`` gets those."""
    kind = type(visitor)
    name = type(node).__name__
    if kind.on_visit is not cst.CSTVisitor.on_visit or kind.on_leave is not cst.CSTVisitor.on_leave:
        hooks: _Hooks = (kind.on_visit, kind.on_leave)
    else:
        hooks = (getattr(kind, f"visit_{name}", None), getattr(kind, f"leave_{name}", None))
    _HOOKS[(kind, type(node))] = hooks
    return hooks


def visit(node: cst.CSTNode, visitor: cst.CSTVisitor) -> None:
    """``node.visit(visitor)`` for a visitor that does not change the tree and reads no trivia."""
    kind = type(node)
    hooks = _HOOKS.get((type(visitor), kind))
    if hooks is None:
        hooks = _hooks(visitor, node)
    enter, leave = hooks
    if enter is None or enter(visitor, node) is not False:
        order = _FIELD_ORDER.get(kind)
        if order is None:
            order = _field_order(node)
        for name in order:
            value = getattr(node, name)
            if isinstance(value, cst.CSTNode):
                visit(value, visitor)
            elif isinstance(value, (tuple, list)):
                for child in value:
                    if isinstance(child, cst.CSTNode):
                        visit(child, visitor)
    if leave is not None:
        leave(visitor, node)


def find_all(node: cst.CSTNode, predicate: Callable[[cst.CSTNode], bool]) -> list[cst.CSTNode]:
    """The nodes of ``node``'s tree (itself included, trivia excepted) for which ``predicate`` holds, in visiting
    order: ``libcst.matchers.findall`` without importing libcst.matchers (which takes longer than libcst itself)."""
    found: list[cst.CSTNode] = []

    class _Finder(cst.CSTVisitor):
        def on_visit(self, inner: cst.CSTNode) -> bool:
            if predicate(inner):
                found.append(inner)
            return True

    visit(node, _Finder())
    return found


def contains(node: cst.CSTNode, target: cst.CSTNode | None) -> bool:
    """``target`` (the same object) is ``node`` or one of its descendants."""
    found = False

    class _Finder(cst.CSTVisitor):
        def on_visit(self, inner: cst.CSTNode) -> bool:
            nonlocal found
            found = found or inner is target
            return not found

    visit(node, _Finder())
    return found
