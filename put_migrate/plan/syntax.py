"""Questions the planner asks of the source tree: where a statement sits, which ``self`` calls and attributes occur."""

from __future__ import annotations

import libcst as cst

from put_migrate.lightning_classes import dotted_name, sub_blocks
from put_migrate.plan.names import identifier
from put_migrate.walk import visit


def mapping_base(mapping: cst.BaseExpression) -> str:
    """A name for what a mapping holds: ``metrics`` for ``metrics`` or ``self.compute_metrics(x)``."""
    node = mapping.func if isinstance(mapping, cst.Call) else mapping
    dotted = dotted_name(node) if isinstance(node, (cst.Name, cst.Attribute)) else None
    return identifier(dotted.split(".")[-1]) if dotted else "metrics"


def statement_positions(function: cst.FunctionDef) -> dict[int, tuple[int, int]]:
    """id(statement) -> (id(the block holding it), index in that block), for every block of the function."""
    positions: dict[int, tuple[int, int]] = {}

    class Visitor(cst.CSTVisitor):
        def visit_IndentedBlock(self, node: cst.IndentedBlock) -> None:
            for index, statement in enumerate(node.body):
                positions[id(statement)] = (id(node), index)

    visit(function, Visitor())
    return positions


def calls_of(function: cst.FunctionDef, dotted: str, owner: str = "self") -> list[cst.Call]:
    """Calls of ``<owner>.<dotted>(...)`` in the function (``owner=""``: of ``<dotted>(...)``)."""
    found: list[cst.Call] = []
    wanted = f"{owner}.{dotted}" if owner else dotted

    class Visitor(cst.CSTVisitor):
        def visit_Call(self, node: cst.Call) -> None:
            if dotted_name(node.func) == wanted:
                found.append(node)

    visit(function.body, Visitor())
    return found


def forward_statement(statement: cst.BaseStatement, attr: str, owner: str = "self") -> bool:
    """``self.<attr>(...)`` or ``x = self.<attr>(...)`` alone on its line (``owner=""``: of ``<attr>(...)``)."""
    if not isinstance(statement, cst.SimpleStatementLine) or len(statement.body) != 1:
        return False
    small = statement.body[0]
    if isinstance(small, cst.Expr):
        value = small.value
    elif isinstance(small, cst.Assign) and len(small.targets) == 1 and isinstance(small.targets[0].target, cst.Name):
        value = small.value
    else:
        return False
    return isinstance(value, cst.Call) and dotted_name(value.func) == (f"{owner}.{attr}" if owner else attr)


def block_path(body: list[cst.BaseStatement], target: cst.CSTNode) -> list[tuple[list, int]] | None:
    """[(block body, index), ...] from the function body down to the block that holds ``target``."""
    for index, statement in enumerate(body):
        if statement is target:
            return [(body, index)]
        if isinstance(statement, cst.BaseCompoundStatement):
            for block in sub_blocks(statement):
                inner = block_path(list(block.body), target)
                if inner is not None:
                    return [(body, index)] + inner
    return None


def run_between(path: list[tuple[list, int]], level: int, index: int) -> list[cst.CSTNode] | None:
    """What may run after statement ``index`` of ``path[level]``'s block and before the statement ``path`` leads
    to is done (that statement included): the statements between them, the headers of the ``if``/``with``
    statements on the way, and the whole of a loop, or of a ``try`` entered past its body, on the way (their
    statements may run before it again, or before it for the first time). None where the way enters a nested
    scope (``def``, ``class``)."""
    body, at = path[level]
    nodes: list[cst.CSTNode] = list(body[index + 1 : at])
    for (outer, outer_at), (inner, inner_at) in zip(path[level:], path[level + 1 :]):
        compound, statement = outer[outer_at], inner[inner_at]
        if isinstance(compound, (cst.FunctionDef, cst.ClassDef)):
            return None
        if isinstance(compound, cst.If):
            branch: cst.BaseSuite | cst.If | cst.Else | None = compound
            while isinstance(branch, cst.If):
                nodes.append(branch.test)
                branch = None if _holds(branch.body, statement) else branch.orelse
        elif isinstance(compound, cst.With):
            nodes.extend(compound.items)
        elif not (isinstance(compound, (cst.Try, cst.TryStar)) and _holds(compound.body, statement)):
            nodes.append(compound)  # a loop, a try entered past its body, a match: all of it
    nodes.append(path[-1][0][path[-1][1]])
    return nodes


def _holds(block: cst.BaseSuite, statement: cst.BaseStatement) -> bool:
    return isinstance(block, cst.IndentedBlock) and any(s is statement for s in block.body)


def super_init_index(init: cst.FunctionDef) -> int | None:
    """Index of the ``super().__init__(...)`` statement in ``__init__``'s body."""
    if isinstance(init.body, cst.IndentedBlock):
        body = [s.body[0] if isinstance(s, cst.SimpleStatementLine) and len(s.body) == 1 else None
                for s in init.body.body]
    else:  # ``def __init__(self): super().__init__()`` (render.py splits the line first)
        body = list(init.body.body)
    for index, small in enumerate(body):
        if not (isinstance(small, cst.Expr) and isinstance(small.value, cst.Call)):
            continue
        func = small.value.func
        if (
            isinstance(func, cst.Attribute)
            and func.attr.value == "__init__"
            and isinstance(func.value, cst.Call)
            and dotted_name(func.value.func) == "super"
        ):
            return index
    return None
