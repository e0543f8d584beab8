"""Names a call left as ``self.log`` shares with a call that would be migrated.

Lightning keeps the values of one stage's hooks in one result collection: two calls of one name in one hook are one
value (averaged on epoch, the last one on step, or an error where their options differ), and in two hooks the one
registered last wins the name in every dict. A put record of the name overrides Lightning's own entry instead, and
keeps its values apart from the left call's. So a call that shares a name with a call of its stage left for review
is left too (PM214), and so on until no left call shares a name with a migrated one. A name known only at run time
is matched by its literal parts; one without any (``self.log(name, ...)``) is not matched.
"""

from __future__ import annotations

import re
from dataclasses import replace

import libcst as cst

from put_migrate.analyze import LogCall, LogItem
from put_migrate.plan.runtime_names import pattern
from put_migrate.rules import NAME_AGGREGATED_TWICE

_ARGUMENT = {"log": "name", "log_dict": "dictionary"}
# A name with no literal part may be any name: like a left call of an unknown name (PM204), not matched.
_ANYTHING = ".*"


def leave_names_shared_with_left(calls: list[LogCall]) -> list[LogCall]:
    """``calls`` with each call that may log a name a left call of its stage logs left as well, repeated until
    nothing more is left (a call left here may share a name with another)."""
    while True:
        left = [(c, patterns) for c in calls if c.problem is not None and c.spec is not None
                for patterns in [_left_patterns(c)] if patterns]
        shared: dict[int, str] = {}
        for call in calls:
            if call.problem is not None or call.spec is None:
                continue
            for other, patterns in left:
                if other.spec is not None and other.spec.stage == call.spec.stage:
                    item = _shared_item(call, patterns)
                    if item is not None:
                        literal = _literal(item)
                        shown = repr(literal) if literal is not None else f"the name `{item.name[1:-1]}`"
                        shared[id(call)] = (
                            f"{shown} may be logged by the call at line {other.line} too, which stays"
                            f" `self.{other.method}` (Lightning keeps one value of a name for the hooks of a stage;"
                            " a put would override it)"
                        )
                        break
        if not shared:
            return calls
        calls = [replace(c, problem=NAME_AGGREGATED_TWICE.problem(shared[id(c)])) if id(c) in shared else c
                 for c in calls]


def _left_patterns(call: LogCall) -> list[tuple[str, str | None]]:
    """The names a left call logs, each as a regular expression its values match and the literal name where it is
    one (read from its arguments where its analysis stopped before its items); empty where they cannot be read."""
    if call.items:
        names: list[tuple[str, str | None]] = []
        for item in call.items:
            literal = _literal(item)
            if literal is not None:
                names.append((re.escape(literal), literal))
            elif item.name_expression is not None and not item.dynamic:
                regex = pattern(item.name_expression, dict(call.bindings))
                if regex != _ANYTHING:
                    names.append((regex, None))
        return names
    argument = _argument(call.call, _ARGUMENT.get(call.method, ""))
    if argument is None:
        return []
    if call.method == "log":
        if isinstance(argument, cst.SimpleString) and isinstance(argument.evaluated_value, str):
            return [(re.escape(argument.evaluated_value), argument.evaluated_value)]
        regex = pattern(argument, {})
        return [(regex, None)] if regex != _ANYTHING else []
    if isinstance(argument, cst.Dict):
        return [(re.escape(e.key.evaluated_value), e.key.evaluated_value) for e in argument.elements
                if isinstance(e, cst.DictElement) and isinstance(e.key, cst.SimpleString)
                and isinstance(e.key.evaluated_value, str)]
    return []


def _argument(call: cst.Call, keyword: str) -> cst.BaseExpression | None:
    """The first argument of ``self.log``/``self.log_dict``, given by position or by keyword."""
    for arg in call.args:
        if arg.star:
            return None  # ``*args`` first: the name is not in the source
        if arg.keyword is None or arg.keyword.value == keyword:
            return arg.value
    return None


def _shared_item(call: LogCall, names: list[tuple[str, str | None]]) -> LogItem | None:
    """The item of ``call`` whose name one of the left call's ``names`` may be, or None: a literal either matches
    the other's pattern; two run-time names only where their patterns are the same."""
    for item in call.items:
        if item.dynamic:
            continue
        literal = _literal(item)
        if literal is not None:
            if any(re.fullmatch(regex, literal, re.DOTALL) for regex, _ in names):
                return item
            continue
        assert item.name_expression is not None
        own = pattern(item.name_expression, dict(call.bindings))
        if own != _ANYTHING and any(regex == own or (other is not None and re.fullmatch(own, other, re.DOTALL))
                                    for regex, other in names):
            return item
    return None


def _literal(item: LogItem) -> str | None:
    """The item's name where it is one string (a literal put through a hook's shared ``Keyed`` keeps its string as
    its expression)."""
    if item.name_expression is None:
        return None if item.dynamic else item.name
    expression = item.name_expression
    if isinstance(expression, cst.SimpleString) and isinstance(expression.evaluated_value, str):
        return expression.evaluated_value
    return None
