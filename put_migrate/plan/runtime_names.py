"""Names known only at run time (``self.log(f"{stage}_{key}", v)``): the put takes the name's expression, and
epoch values update a ``Keyed`` aggregator under it (decision 17's machinery, applied to ``self.log``)."""

from __future__ import annotations

import re

import libcst as cst

from put_migrate.analyze import LogCall, _code
from put_migrate.analyze.literals import format_parts
from put_migrate.plan.names import identifier
from put_migrate.plan.statements import dest_code, put_call

_BARE = (cst.Name, cst.Attribute, cst.Call, cst.Subscript, cst.FormattedString, cst.SimpleString)


def pattern(name: cst.BaseExpression, env: dict[str, str]) -> str:
    """A regular expression every value of the name matches: its literal parts and the names bound to literals
    in this variant (``env``), anything for the rest."""
    if isinstance(name, cst.Name) and name.value in env:
        return re.escape(env[name.value])
    if isinstance(name, cst.FormattedString) and "b" not in name.prefix.lower():
        return "".join(
            re.escape(p.value.replace("{{", "{").replace("}}", "}")) if isinstance(p, cst.FormattedStringText)
            else pattern(p.expression, env) if p.format_spec is None and p.conversion is None
            else ".*"
            for p in name.parts
        )
    if isinstance(name, cst.SimpleString) and isinstance(name.evaluated_value, str):
        return re.escape(name.evaluated_value)
    formatted = format_parts(name, env)
    if formatted is not None:
        return "".join(".*" if part is None else re.escape(part) for part in formatted)
    if isinstance(name, (cst.BinaryOperation, cst.ConcatenatedString)) and (
        isinstance(name, cst.ConcatenatedString) or isinstance(name.operator, cst.Add)
    ):
        return pattern(name.left, env) + pattern(name.right, env)
    return ".*"


def runtime_conflicts(calls: list[LogCall]) -> dict[int, str]:
    """id(call) -> why an epoch value under a run-time name cannot have its own aggregators. Lightning keeps one
    mean per (hook, name): run-time names of one hook share one ``Keyed`` (so names that coincide are averaged
    together, as Lightning does); they must come from one hook of the stage, and no literal name of the stage may be
    one of their values (keys of mappings of run-time keys: ``mapping_collisions``). (Calls with different options
    get one ``Keyed`` each: where their names coincide, Lightning raises.)"""
    runtime: dict[str, list[LogCall]] = {}
    literal: dict[str, list[tuple[str, LogCall]]] = {}
    for call in calls:
        if call.problem is not None or call.spec is None or not call.on_epoch:
            continue
        for item in call.items:
            if item.name_expression is not None:
                runtime.setdefault(call.spec.stage, []).append(call)
            elif not item.dynamic:  # mappings of run-time keys: plan/mapping_collisions.py
                literal.setdefault(call.spec.stage, []).append((item.name, call))
    bad: dict[int, str] = {}
    for stage, members in runtime.items():
        # A literal name put through its hook's shared Keyed keeps its string as its expression: it counts as the
        # literal it is against the other hooks' names (name_collisions, mapping_collisions).
        computed = [c for c in members if _string(_expression(c)) is None]
        hooks = sorted({c.hook for c in computed})
        for call in members:
            expression = _expression(call)
            string = _string(expression)
            if string is None and len(hooks) > 1:
                bad[id(call)] = f"names computed at run time are logged on_epoch from {', '.join(hooks)}"
            if string is not None:
                for other in computed:
                    if other.hook != call.hook and re.fullmatch(
                        pattern(_expression(other), dict(other.bindings)), string, re.DOTALL
                    ):
                        why = f"{_code(_expression(other))} may be {string!r}, also logged on_epoch in this stage"
                        bad.setdefault(id(call), why)
                        bad.setdefault(id(other), why)
            for name, other in literal.get(stage, ()):
                if name in call.name_collisions:  # it raises for that name, as Lightning does (name_collisions)
                    continue
                if re.fullmatch(pattern(expression, dict(call.bindings)), name, re.DOTALL):
                    why = f"{_code(expression)} may be {name!r}, also logged on_epoch in this stage"
                    bad.setdefault(id(call), why)
                    bad.setdefault(id(other), why)
    return bad


def _expression(call: LogCall) -> cst.BaseExpression:
    expression = next(i.name_expression for i in call.items if i.name_expression is not None)
    assert expression is not None
    return expression


def _string(expression: cst.BaseExpression) -> str | None:
    if isinstance(expression, cst.SimpleString) and isinstance(expression.evaluated_value, str):
        return expression.evaluated_value
    return None


def shared_slot(call: LogCall) -> str:
    """The aggregator slot of the epoch values under run-time names of one hook and set of options (one ``Keyed``)."""
    options = (call.on_step, call.reduce, call.sync, call.prog_bar, call.logger, call.add_dataloader_idx)
    return f"<names computed in {call.hook} {options}>"


def name_base(name: cst.BaseExpression) -> str:
    """A name for the aggregator of a run-time name: its literal parts (``f"{n}spks_sdr_val"`` -> ``spks_sdr_val``),
    else the last attribute or variable it reads."""
    parts: list[str] = []

    def collect(node: cst.BaseExpression) -> None:
        if isinstance(node, cst.FormattedString):
            parts.extend(p.value for p in node.parts if isinstance(p, cst.FormattedStringText))
        elif isinstance(node, cst.SimpleString) and isinstance(node.evaluated_value, str):
            parts.append(node.evaluated_value)
        elif isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.Add):
            collect(node.left)
            collect(node.right)
        elif isinstance(node, cst.ConcatenatedString):
            collect(node.left)
            collect(node.right)
        elif isinstance(node, cst.Attribute):
            parts.append(node.attr.value)
        elif isinstance(node, cst.Name):
            parts.append(node.value)

    collect(name)
    text = identifier("_".join(p.strip("_") for p in parts if p.strip("_")))
    return text if text != "metric" else "metrics"


def name_code(name: cst.BaseExpression) -> str:
    """The name's expression as it can stand in an argument list or on the left of ``+``."""
    code = _code(name)
    if "\n" in code or not isinstance(name, (*_BARE, cst.BinaryOperation)):
        return f"({code})"
    return code


def with_suffix(name: str, suffix: str | None) -> str:
    """``name`` (an expression) followed by an eval step name's dataloader suffix (an expression), if any."""
    return name if suffix is None else f"{name} + {suffix}"


def runtime_step_puts(name: str, value: str, forked: bool, stage: str, destinations: tuple[str, ...],
                      suffix: str | None = None) -> list[str]:
    """The step part of a value under the run-time name ``name`` (an expression; a local when it is used more
    than once): as ``step_puts``, with ``name + "_step"`` for a forked name."""
    if not forked:
        return [f"self.put({with_suffix(name, suffix)}, {value}, {dest_code(destinations)})"]
    step_name = with_suffix(f'{name} + "_step"', suffix)
    return [put_call(step_name, value, destinations, callback_alias=name if stage == "train" else None)]
