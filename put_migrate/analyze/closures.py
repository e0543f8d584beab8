"""Closures a hook runs itself: a function defined in the hook, only called there or handed to ``closure=``."""

from __future__ import annotations

import libcst as cst

from put_migrate.analyze.calls import Found
from put_migrate.analyze.context import Context
from put_migrate.walk import visit


def closure_problem(found: Found, function: cst.FunctionDef, context: Context) -> str | None:
    """Why a call in a nested function does not run as part of ``function``'s hook, or None when it does.

    It does when the nested function is a plain ``def`` directly in ``function`` that ``function`` only calls
    (``closure()``) or hands to an optimizer step (``opt.step(closure=closure)``, which runs it before returning):
    Lightning runs it inside the hook, so the hook's defaults, name and batch apply. Eval hooks with a
    ``dataloader_idx`` are not followed.
    """
    closure = found.closure
    where = f"inside `{function.name.value}`"
    if closure is None or closure.asynchronous is not None:
        returned = _returned_functions(function)
        if returned:
            return (f"{where}, in a function it returns (`{returned[0]}`), which runs wherever the caller runs it: "
                    "have it return the values it logs, and log them in the hook that runs it")
        return where
    if context.dataloader_idx_name is not None or context.dataloader_idx_missing:
        return f"{where} (a closure of an eval hook with a dataloader_idx)"
    name = closure.name.value
    uses = _uses(function, closure)
    if uses is None:
        return f"{where}: `{name}` is defined more than once, or used other than called or passed as closure="
    if uses == 0:
        return f"{where}: `{name}` is never run by `{function.name.value}`"
    return None


def _uses(function: cst.FunctionDef, closure: cst.FunctionDef) -> int | None:
    """How many times ``function`` runs ``closure`` (a call, or a ``closure=`` argument); None when the name is used
    in any other way, rebound, or used from another nested scope."""
    name = closure.name.value

    class Visitor(cst.CSTVisitor):
        def __init__(self) -> None:
            self.runs = 0
            self.allowed: set[int] = set()
            self.bad = False
            self.depth = 0

        def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
            if node is closure:
                return False  # its body runs inside the hook; its own name node is the definition
            if node.name.value == name:
                self.bad = True
            self.depth += 1
            return True

        def leave_FunctionDef(self, node: cst.FunctionDef) -> None:
            if node is not closure:
                self.depth -= 1

        def visit_Lambda(self, node: cst.Lambda) -> None:
            self.depth += 1

        def leave_Lambda(self, node: cst.Lambda) -> None:
            self.depth -= 1

        def visit_ClassDef(self, node: cst.ClassDef) -> None:
            self.depth += 1

        def leave_ClassDef(self, node: cst.ClassDef) -> None:
            self.depth -= 1

        def visit_Call(self, node: cst.Call) -> None:
            if self.depth:
                return
            if isinstance(node.func, cst.Name) and node.func.value == name and not node.args:
                self.allowed.add(id(node.func))
                self.runs += 1
            elif isinstance(node.func, cst.Attribute) and node.func.attr.value == "step":
                for arg in node.args:  # ``optimizer.step(closure=name)`` runs it before returning
                    if arg.keyword is not None and arg.keyword.value == "closure" and _is_name(arg.value, name):
                        self.allowed.add(id(arg.value))
                        self.runs += 1

        def visit_Name(self, node: cst.Name) -> None:
            if node.value == name and id(node) not in self.allowed:
                self.bad = True

    visitor = Visitor()
    visit(function.body, visitor)
    return None if visitor.bad else visitor.runs


def _is_name(node: cst.BaseExpression, name: str) -> bool:
    return isinstance(node, cst.Name) and node.value == name


def _returned_functions(function: cst.FunctionDef) -> list[str]:
    """The functions defined directly in ``function`` that it returns by name (``return fwd_output_and_loss_func``)."""
    body = function.body
    statements = body.body if isinstance(body, cst.IndentedBlock) else ()
    defined = {s.name.value for s in statements if isinstance(s, cst.FunctionDef)}
    returned: list[str] = []

    class Returns(cst.CSTVisitor):
        def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
            return node is function

        def visit_Return(self, node: cst.Return) -> None:
            if isinstance(node.value, cst.Name) and node.value.value in defined:
                returned.append(node.value.value)

    visit(function, Returns())
    return returned
