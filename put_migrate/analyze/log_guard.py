"""A ``log`` override that only forwards to Lightning's ``log`` under a condition (``if not self.predicting:
super().log(*args, **kwargs)``): the class's calls are Lightning's wherever the condition holds, so they migrate
under the same condition. Any other override of ``log`` or ``log_dict`` leaves the class (PM207)."""

from __future__ import annotations

import libcst as cst

from put_migrate.analyze.hierarchy import _parsed, method_resolution
from put_migrate.analyze.literals import code_of
from put_migrate.analyze.options import cheap
from put_migrate.lightning_classes import LightningClass

OVERRIDDEN = object()  # the class overrides log or log_dict in a way that is not a guard


def class_log_guard(cls: LightningClass, methods: dict[str, cst.FunctionDef]) -> str | None | object:
    """The guard's condition (code) of the ``log`` that runs on a module ``cls``; None where Lightning's own runs;
    ``OVERRIDDEN`` where ``log_dict`` is overridden, ``log`` otherwise than as one guard that forwards to Lightning's
    (no other class of the resolution order defines ``log``), or a Callback defines either."""
    ancestors = [] if cls.inherited is None else [a for a in cls.inherited.chain if {"log", "log_dict"} & a.methods]
    if not ancestors and "log" not in methods and "log_dict" not in methods:
        return None
    if cls.kind != "module" or "log_dict" in methods or any("log_dict" in a.methods for a in ancestors):
        return OVERRIDDEN
    if "log" in methods:
        return OVERRIDDEN if ancestors else _guard_or_overridden(methods["log"])
    if len(ancestors) != 1 or method_resolution(cls) is None:
        return OVERRIDDEN
    source = dict(ancestors[0].method_sources).get("log")
    function = _parsed(source) if source is not None else None
    return OVERRIDDEN if function is None else _guard_or_overridden(function)


def _guard_or_overridden(function: cst.FunctionDef) -> str | object:
    guard = log_guard(function)
    return OVERRIDDEN if guard is None else guard


def log_guard(function: cst.FunctionDef) -> str | None:
    """The condition of ``def log(self, *args, **kwargs): if <condition>: super().log(*args, **kwargs)`` (a
    docstring allowed), where the condition reads attributes of ``self`` only (possibly negated): evaluated once
    per migrated call instead of once per ``log`` call, it gives the same value. None for any other ``log``."""
    params = function.params
    if (
        function.asynchronous is not None
        or function.decorators
        or len(params.params) != 1
        or params.posonly_params
        or params.kwonly_params
        or not isinstance(params.star_arg, cst.Param)
        or params.star_kwarg is None
        or params.params[0].name.value != "self"
    ):
        return None
    args, kwargs = params.star_arg.name.value, params.star_kwarg.name.value
    body = list(function.body.body) if isinstance(function.body, cst.IndentedBlock) else []
    if body and isinstance(_only_expression(body[0]), cst.SimpleString):
        body = body[1:]
    if len(body) != 1 or not isinstance(body[0], cst.If) or body[0].orelse is not None:
        return None
    test = body[0].test
    block = body[0].body
    if not isinstance(block, cst.IndentedBlock) or len(block.body) != 1 or not _forwards(block.body[0], args, kwargs):
        return None
    inner = test.expression if isinstance(test, cst.UnaryOperation) else test
    if not cheap(test) or not code_of(inner).startswith("self."):
        return None
    return code_of(test)


def _only_expression(statement: cst.BaseStatement) -> cst.BaseExpression | None:
    """The expression of a line that holds one expression statement and nothing else."""
    if isinstance(statement, cst.SimpleStatementLine) and len(statement.body) == 1:
        expression = statement.body[0]
        if isinstance(expression, cst.Expr):
            return expression.value
    return None


def _forwards(statement: cst.BaseStatement, args: str, kwargs: str) -> bool:
    """The line is ``super().log(*args, **kwargs)``."""
    call = _only_expression(statement)
    if not isinstance(call, cst.Call) or not isinstance(call.func, cst.Attribute) or call.func.attr.value != "log":
        return False
    owner = call.func.value
    if not (isinstance(owner, cst.Call) and isinstance(owner.func, cst.Name) and owner.func.value == "super"
            and not owner.args):
        return False
    return [(a.star, a.value.value if isinstance(a.value, cst.Name) else None, a.keyword) for a in call.args] == [
        ("*", args, None), ("**", kwargs, None)]
