"""Call finding: the ``self.log``/``self.log_dict`` (or ``pl_module.log``) calls in a method body."""

from __future__ import annotations

from dataclasses import dataclass

import libcst as cst


@dataclass
class Found:
    """A ``<receiver>.log(...)``/``.log_dict(...)`` call, where it sits, and the loops around it."""

    call: cst.Call
    method: str
    receiver: str
    statement: cst.SimpleStatementLine | None
    in_loop: bool
    nested: bool
    loops: tuple[cst.CSTNode, ...] = ()
    closure: cst.FunctionDef | None = None  # the function defined in the method that holds the call (one level)


class CallFinder(cst.CSTVisitor):
    """``<receiver>.log(...)``/``.log_dict(...)`` calls, with the statement that is only that call."""

    def __init__(self, receivers: set[str]) -> None:
        self.receivers = receivers
        self.found: list[Found] = []
        self.loops: list[cst.CSTNode] = []
        self.nested = 0
        self.scopes: list[cst.CSTNode] = []  # the nested functions, lambdas and classes around the call
        self.lines: list[cst.SimpleStatementLine] = []

    def visit_For(self, node: cst.For) -> None:
        self.loops.append(node)

    def leave_For(self, node: cst.For) -> None:
        self.loops.pop()

    def visit_While(self, node: cst.While) -> None:
        self.loops.append(node)

    def leave_While(self, node: cst.While) -> None:
        self.loops.pop()

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.nested += 1
        self.scopes.append(node)

    def leave_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.nested -= 1
        self.scopes.pop()

    def visit_Lambda(self, node: cst.Lambda) -> None:
        self.nested += 1
        self.scopes.append(node)

    def leave_Lambda(self, node: cst.Lambda) -> None:
        self.nested -= 1
        self.scopes.pop()

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self.nested += 1
        self.scopes.append(node)

    def leave_ClassDef(self, node: cst.ClassDef) -> None:
        self.nested -= 1
        self.scopes.pop()

    def visit_SimpleStatementLine(self, node: cst.SimpleStatementLine) -> None:
        self.lines.append(node)

    def leave_SimpleStatementLine(self, node: cst.SimpleStatementLine) -> None:
        self.lines.pop()

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if not (isinstance(func, cst.Attribute) and func.attr.value in ("log", "log_dict")):
            return
        if not (isinstance(func.value, cst.Name) and func.value.value in self.receivers):
            return
        statement = None
        if self.lines:
            line = self.lines[-1]
            if len(line.body) == 1 and isinstance(line.body[0], cst.Expr) and line.body[0].value is node:
                statement = line
        closure = self.scopes[0] if len(self.scopes) == 1 and isinstance(self.scopes[0], cst.FunctionDef) else None
        self.found.append(
            Found(
                node, func.attr.value, func.value.value, statement, bool(self.loops), self.nested > 0,
                tuple(self.loops), closure,
            )
        )
