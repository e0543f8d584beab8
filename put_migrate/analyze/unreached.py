"""Calls of a helper that cannot reach one of its statements: the helper returns first on the arguments given.

lightning-bolts' YOLO ``forward(images, targets=None)`` returns the detections ``if targets is None`` and logs
after that; ``predict_step`` runs ``self(images)``. Lightning would reject the log there, but it never runs: that
caller decides nothing about the call, and the hooks that pass ``targets`` are the ways it runs.
"""

from __future__ import annotations

import libcst as cst

from put_migrate.walk import visit


def returns_before(helper: cst.FunctionDef, statement: cst.CSTNode, call: cst.Call) -> bool:
    """Whether ``helper``, called as ``call``, returns before ``statement``: a top-level ``if <param> is None:``
    that only returns, ahead of the top-level statement holding ``statement``, where ``call`` leaves the parameter
    None (not given, with a ``None`` default, or given as ``None``) and the helper never rebinds it."""
    body = helper.body
    if not isinstance(body, cst.IndentedBlock):
        return False
    none_params = _none_parameters(helper, call)
    for index, top in enumerate(body.body):
        if _contains(top, statement):
            return False
        param = _returning_none_check(top)
        if param is not None and param in none_params and not any(_binds(s, param) for s in body.body[:index]):
            return True
    return False


def _none_parameters(helper: cst.FunctionDef, call: cst.Call) -> set[str]:
    """The parameters (after ``self``) that ``call`` leaves None; none where it passes ``*``/``**`` arguments."""
    if any(arg.star for arg in call.args):
        return set()
    positional = [*helper.params.posonly_params, *helper.params.params]
    if not positional or positional[0].name.value != "self":
        return set()
    params = {p.name.value: p for p in [*positional[1:], *helper.params.kwonly_params]}
    given: dict[str, cst.BaseExpression] = {}
    for index, arg in enumerate(call.args):
        if arg.keyword is not None:
            given[arg.keyword.value] = arg.value
        elif index < len(positional) - 1:
            given[positional[index + 1].name.value] = arg.value
        else:
            return set()  # more positional arguments than parameters (``*args``): not followed
    return {
        name
        for name, param in params.items()
        if (_is_none(given[name]) if name in given else param.default is not None and _is_none(param.default))
    }


def _returning_none_check(statement: cst.BaseStatement) -> str | None:
    """``p`` for ``if p is None: <simple statements ending in return>`` (no ``elif``/``else``)."""
    if not isinstance(statement, cst.If) or statement.orelse is not None:
        return None
    test = statement.test
    if not (
        isinstance(test, cst.Comparison)
        and isinstance(test.left, cst.Name)
        and len(test.comparisons) == 1
        and isinstance(test.comparisons[0].operator, cst.Is)
        and _is_none(test.comparisons[0].comparator)
    ):
        return None
    block = statement.body
    if not isinstance(block, cst.IndentedBlock) or not block.body:
        return None
    if not all(isinstance(s, cst.SimpleStatementLine) for s in block.body):
        return None
    last = block.body[-1]
    assert isinstance(last, cst.SimpleStatementLine)
    if not isinstance(last.body[-1], cst.Return):
        return None
    return test.left.value


def _binds(tree: cst.CSTNode, name: str) -> bool:
    """Whether anything under ``tree`` may rebind the local ``name``: an assignment, ``for``, ``with ... as``,
    ``:=``, ``del``, ``except ... as``, ``import ... as`` or a ``global``/``nonlocal`` of it (a nested function's)."""
    targets: list[cst.CSTNode] = []

    class Stores(cst.CSTVisitor):
        def visit_AssignTarget(self, node: cst.AssignTarget) -> None:
            targets.append(node.target)

        def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
            targets.append(node.target)

        def visit_AugAssign(self, node: cst.AugAssign) -> None:
            targets.append(node.target)

        def visit_For(self, node: cst.For) -> None:
            targets.append(node.target)

        def visit_AsName(self, node: cst.AsName) -> None:
            targets.append(node.name)

        def visit_NamedExpr(self, node: cst.NamedExpr) -> None:
            targets.append(node.target)

        def visit_Del(self, node: cst.Del) -> None:
            targets.append(node.target)

        def visit_Global(self, node: cst.Global) -> None:
            targets.extend(item.name for item in node.names)

        def visit_Nonlocal(self, node: cst.Nonlocal) -> None:
            targets.extend(item.name for item in node.names)

        def visit_ImportAlias(self, node: cst.ImportAlias) -> None:
            if node.asname is None:  # ``import a.b`` binds ``a``
                head: cst.BaseExpression = node.name
                while isinstance(head, cst.Attribute):
                    head = head.value
                targets.append(head)

    visit(tree, Stores())
    return any(_names(target, name) for target in targets)


def _names(tree: cst.CSTNode, name: str) -> bool:
    """``name`` appears as a plain name in ``tree`` (an attribute's or subscript's base does not bind it)."""
    if isinstance(tree, cst.Name):
        return tree.value == name
    if isinstance(tree, (cst.Attribute, cst.Subscript)):
        return False
    return any(_names(child, name) for child in tree.children)


def _is_none(expression: cst.BaseExpression) -> bool:
    return isinstance(expression, cst.Name) and expression.value == "None"


def _contains(tree: cst.CSTNode, node: cst.CSTNode) -> bool:
    if tree is node:
        return True
    return any(_contains(child, node) for child in tree.children)
