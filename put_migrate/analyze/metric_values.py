"""Whether a class handles torchmetrics ``Metric`` objects as values: it tests ``isinstance(v, ...Metric)``.

Such a class may put Metric objects into the mappings it logs (lightning-flash's ``Task.step`` keeps a Metric
itself, and a tensor otherwise); Lightning logs those as Metric objects (§3.4), not as values to average."""

from __future__ import annotations

import libcst as cst

from put_migrate.walk import find_all


def tests_metric_objects(node: cst.ClassDef) -> bool:
    """``isinstance(x, Metric)`` (any name or attribute chain ending in ``Metric``, alone or in a tuple) in the
    class's body."""
    for call in find_all(node, _isinstance_call):
        assert isinstance(call, cst.Call)
        if len(call.args) != 2:
            continue
        kinds = call.args[1].value
        elements = [e.value for e in kinds.elements] if isinstance(kinds, cst.Tuple) else [kinds]
        if any(_last_name(e) == "Metric" for e in elements):
            return True
    return False


def _isinstance_call(node: cst.CSTNode) -> bool:
    return isinstance(node, cst.Call) and isinstance(node.func, cst.Name) and node.func.value == "isinstance"


def _last_name(node: cst.BaseExpression) -> str | None:
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        return node.attr.value
    return None
