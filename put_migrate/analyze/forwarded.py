"""Attributes that hold what a caller passed in: ``self.m = m`` of a method's parameter ``m``.

Such an attribute is assigned in the class, but its type is the caller's choice: a torchmetrics ``Metric`` passed
to ``__init__`` is logged by Lightning as a Metric object (step value, ``compute()`` at epoch end, its own reset),
which a plain ``put`` cannot reproduce (PM220). A parameter whose default is a number, string or bool, or whose
annotation names a plain value type, holds a value."""

from __future__ import annotations

import libcst as cst

from put_migrate.lightning_classes import dotted_name
from put_migrate.walk import find_all

_VALUE_ANNOTATIONS = frozenset({"int", "float", "bool", "str", "Tensor", "torch.Tensor"})


def forwarded_attributes(class_node: cst.ClassDef) -> set[str]:
    """``x`` for each ``self.x = p`` or ``self.x = p.clone()`` (a lone target) in a method of the class whose
    parameter ``p`` may hold a Metric (see the module's docstring)."""
    names: set[str] = set()
    for function in find_all(class_node, lambda node: isinstance(node, cst.FunctionDef)):
        assert isinstance(function, cst.FunctionDef)
        params = {p.name.value: p for p in _params(function) if _may_be_a_metric(p)}
        if not params:
            continue
        for assign in find_all(function.body, lambda node: isinstance(node, (cst.Assign, cst.AnnAssign))):
            assert isinstance(assign, (cst.Assign, cst.AnnAssign))
            value = _clone(assign.value) or assign.value
            if not (isinstance(value, cst.Name) and value.value in params):
                continue
            targets = [t.target for t in assign.targets] if isinstance(assign, cst.Assign) else [assign.target]
            for target in targets:
                if isinstance(target, cst.Attribute) and dotted_name(target.value) == "self":
                    names.add(target.attr.value)
    return names


def _clone(value: cst.BaseExpression | None) -> cst.BaseExpression | None:
    """``p`` of ``p.clone()``: a copy of what the caller passed (a Metric's clone is a Metric)."""
    if isinstance(value, cst.Call) and isinstance(value.func, cst.Attribute) and value.func.attr.value == "clone":
        return value.func.value
    return None


def _params(function: cst.FunctionDef) -> list[cst.Param]:
    p = function.params
    return [*p.posonly_params, *p.params, *p.kwonly_params]


def _may_be_a_metric(param: cst.Param) -> bool:
    if param.default is not None and isinstance(
        param.default, (cst.Integer, cst.Float, cst.SimpleString, cst.ConcatenatedString, cst.FormattedString)
    ):
        return False
    if param.default is not None and isinstance(param.default, cst.Name) and param.default.value in ("True", "False"):
        return False
    if param.default is not None and isinstance(param.default, cst.UnaryOperation):
        return not isinstance(param.default.expression, (cst.Integer, cst.Float))
    annotation = param.annotation.annotation if param.annotation is not None else None
    return annotation is None or dotted_name(annotation) not in _VALUE_ANNOTATIONS
