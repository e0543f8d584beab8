"""The keys a ``log_dict`` mapping built by a dict comprehension can have (lightning-bolts YOLO:
``map_scores = {"val/" + k: v for k, v in map_scores.items()}`` then ``self.log_dict(map_scores)``): every key is a
value of the comprehension's key expression, so a run-time name whose literal parts differ from it is never one."""

from __future__ import annotations

import libcst as cst

from put_migrate.analyze.local_kwargs import variable_uses
from put_migrate.plan.syntax import block_path


def comprehension_key(function: cst.FunctionDef, statement: cst.CSTNode | None,
                      mapping: cst.BaseExpression) -> cst.BaseExpression | None:
    """The key expression of ``name = {key: value for ...}`` when that is the nearest earlier statement, in the
    block of ``statement``, that mentions the variable ``mapping`` (so nothing rebinds or changes the dict in
    between); None otherwise."""
    if not isinstance(mapping, cst.Name) or statement is None or not isinstance(function.body, cst.IndentedBlock):
        return None
    path = block_path(list(function.body.body), statement)
    if not path:
        return None
    body, index = path[-1]
    for earlier in reversed(body[:index]):
        if not variable_uses(earlier, mapping.value):
            continue
        if not (isinstance(earlier, cst.SimpleStatementLine) and len(earlier.body) == 1):
            return None
        small = earlier.body[0]
        if (
            isinstance(small, cst.Assign)
            and len(small.targets) == 1
            and isinstance(small.targets[0].target, cst.Name)
            and small.targets[0].target.value == mapping.value
            and isinstance(small.value, cst.DictComp)
        ):
            return small.value.key
        return None
    return None
