"""A literal name that a run-time name of the same hook may turn out to be (``self.log("val_loss", ...)`` and
``self.log(f"{prefix}_{metric.__class__.__name__}", ...)`` in one validation step).

Lightning keeps one value per (hook, name). Where the two calls have the same options, a run-time name equal to
the literal one is averaged into it: the literal call then updates the hook's shared ``Keyed`` too, under its
name, so both land in one aggregator as in Lightning. Where the options differ, Lightning raises at the second call;
when the literal call certainly runs first in every call of the hook (a statement of the hook's body, before
anything that reaches the run-time call), that second call is the run-time one, which then raises Lightning's error
for that name. Anything else stays a conflict (PM214, ``runtime_names.runtime_conflicts``).
"""

from __future__ import annotations

import re
from dataclasses import replace

import libcst as cst

from put_migrate.analyze import ClassAnalysis, LogCall
from put_migrate.lightning_classes import dotted_name
from put_migrate.plan.runtime_names import pattern, shared_slot
from put_migrate.plan.state import BuildState
from put_migrate.plan.statements import Block, Statement, quote
from put_migrate.walk import contains, visit

_ANY = "<any method>"


def resolve_collisions(analysis: ClassAnalysis, calls: list[LogCall]) -> list[LogCall]:
    """``calls`` with each literal epoch value that a run-time name of its hook may equal put through the hook's
    shared ``Keyed`` (same options), or the run-time call raising for that name (other options, literal first)."""
    runtime = [c for c in calls if _plain_epoch(c) and any(i.name_expression is not None for i in c.items)]
    if not runtime:
        return calls
    literal = [c for c in calls if _plain_epoch(c) and all(i.name_expression is None for i in c.items)]
    shared: set[tuple[int, str]] = set()
    collisions: dict[int, set[str]] = {}
    for name in sorted({i.name for c in literal for i in c.items}):
        named = [c for c in literal if any(i.name == name for i in c.items)]
        stages = {_stage(c) for c in named}
        matching = [
            c for c in runtime
            if _stage(c) in stages
            and re.fullmatch(pattern(_expression(c), dict(c.bindings)), name, re.DOTALL)
        ]
        if not matching:
            continue
        plan = _resolution(analysis, name, named, matching)
        if plan is None:
            continue  # left to runtime_conflicts
        share, raising = plan
        shared |= {(id(c), name) for c in share}
        for c in raising:
            collisions.setdefault(id(c), set()).add(name)
    if not shared and not collisions:
        return calls
    out = []
    for call in calls:
        if any((id(call), item.name) in shared for item in call.items):
            call = replace(call, items=tuple(
                replace(item, name_expression=cst.SimpleString(quote(item.name)))
                if (id(call), item.name) in shared else item
                for item in call.items
            ))
        if id(call) in collisions:
            call = replace(call, name_collisions=tuple(sorted(collisions[id(call)])))
        out.append(call)
    return out


def collision_raises(state: BuildState, call: LogCall, name: str) -> list[Statement]:
    """Lightning's error where the run-time name ``name`` (an expression evaluated once) is one of the literal
    names its hook logged before with other options."""
    state.imports.add((f"{state.analysis.cls.package}.utilities.exceptions", "MisconfigurationException"))
    return [
        Block(f"if {name} == {quote(literal)}:", (
            f"raise MisconfigurationException({quote(_twice(literal, call.hook))})",
        ))
        for literal in call.name_collisions
    ]


def _twice(name: str, hook: str) -> str:
    return f"You called `self.log({name}, ...)` twice in `{hook}` with different arguments. This is not allowed"


def _plain_epoch(call: LogCall) -> bool:
    """A tensor value logged on_epoch in a batch hook, options literal, one dataloader key (no suffix)."""
    return (
        call.problem is None
        and call.spec is not None
        and call.spec.kind != "epoch"
        and call.on_epoch
        and call.raises is None
        and not call.conditions
        and call.dataloader_idx_param is None
        and call.sync_group is None
        and len(call.items) == 1
        and call.items[0].metric is None
        and not call.items[0].dynamic
    )


def _stage(call: LogCall) -> str:
    assert call.spec is not None  # _plain_epoch
    return call.spec.stage


def _expression(call: LogCall) -> cst.BaseExpression:
    expression = call.items[0].name_expression
    assert expression is not None
    return expression


def _resolution(
    analysis: ClassAnalysis, name: str, named: list[LogCall], matching: list[LogCall]
) -> tuple[list[LogCall], list[LogCall]] | None:
    """The literal calls to share the run-time calls' ``Keyed`` and the run-time calls that raise for ``name``; None
    where some pair cannot be reproduced."""
    hooks = {c.hook for c in named} | {c.hook for c in matching}
    metas = {_meta(c) for c in named}
    if len(hooks) != 1 or len(metas) != 1:
        return None
    meta = next(iter(metas))
    raising = [c for c in matching if _meta(c) != meta]
    if not all(any(_logged_first(analysis, literal, c) for literal in named) for c in raising):
        return None
    share = named if len(raising) < len(matching) else []
    return share, raising


def _meta(call: LogCall) -> tuple:
    """What Lightning compares between two calls of one name (its ``_Metadata``, sync included): equal, they share
    one value; different, the second call raises. (It decides the shared ``Keyed`` too: ``shared_slot``.)"""
    return (shared_slot(call), call.sync_dist, call.rank_zero_only)


def _logged_first(analysis: ClassAnalysis, literal: LogCall, later: LogCall) -> bool:
    """``literal`` is a statement of its hook's own body (no branch, loop or helper around it), and nothing before it
    in that body can reach ``later``'s statement."""
    function = literal.function
    if literal.via is not None or literal.in_loop or not isinstance(function.body, cst.IndentedBlock):
        return False
    body = list(function.body.body)
    index = next((k for k, s in enumerate(body) if s is literal.statement), None)
    if index is None:
        return False
    target = later.function
    reaching = _methods_reaching(analysis, target)
    if reaching is None:
        return False
    for statement in body[:index]:
        if contains(statement, later.statement) or _calls_any(statement, reaching):
            return False
    return True


def _methods_reaching(analysis: ClassAnalysis, target: cst.FunctionDef) -> set[str] | None:
    """The class's methods from which ``target`` may run (itself included), through ``self.<method>(...)`` and
    ``self(...)``; None where ``target`` is not a method of the class."""
    by_name = {name: function for name, function in analysis.methods.items()}
    own = next((name for name, function in by_name.items() if function is target), None)
    if own is None:
        return None
    calls = {name: _self_calls(function) for name, function in by_name.items()}
    reaching = {own}
    grown = True
    while grown:
        grown = False
        for name, called in calls.items():
            if name not in reaching and (called & reaching or _ANY in called):
                reaching.add(name)
                grown = True
    return reaching


def _self_calls(node: cst.CSTNode) -> set[str]:
    """The methods ``node`` names as ``self.<name>`` (called or not), and ``forward`` for ``self(...)``."""
    found: set[str] = set()

    class Visitor(cst.CSTVisitor):
        def visit_Attribute(self, attribute: cst.Attribute) -> None:
            if dotted_name(attribute.value) == "self":
                found.add(attribute.attr.value)

        def visit_Call(self, call: cst.Call) -> None:
            func = call.func
            if isinstance(func, cst.Name) and func.value == "self":
                found.add("forward")
            if (isinstance(func, cst.Attribute) and isinstance(func.value, cst.Call)
                    and dotted_name(func.value.func) == "super"):
                found.add(_ANY)  # an ancestor's method may call any of ours
            if any(dotted_name(arg.value) == "self" for arg in call.args):
                found.add(_ANY)  # so may code given the module

    visit(node, Visitor())
    return found


def _calls_any(node: cst.CSTNode, methods: set[str]) -> bool:
    called = _self_calls(node)
    return _ANY in called or bool(called & methods)
