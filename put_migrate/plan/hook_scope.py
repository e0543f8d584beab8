"""Epoch-level hooks whose values are logged by several functions of one call (``shim.hook_scope.hook_value``).

Lightning keeps one mean per (hook, name) over one call of an epoch-level hook, whichever method logs the value: a
subclass's ``multi_validation_epoch_end`` that a base class's ``on_validation_epoch_end`` runs once per dataloader
logs into the base hook's call, together with the base hook's own ``log_dict``. A ``HookValues`` local cannot span
that call (the hook is in another class, often another file, and runs the helper in a loop), so each of these
values becomes ``hook_value(self, name, value, destinations, ...)``: the router averages the values of the running
hook's call per name and computes them where Lightning extracts its metrics.

Chosen per epoch-level hook (``scoped_functions``): in this class, every function that logs epoch values in a call
of the hook, when a helper there logs in a loop, under a run-time name, one name twice, or runs more than once per
call; and a hook that dispatches to methods of the class (``self.m(...)``, which a subclass may override and log
in) while logging names computed at run time, which a subclass's values may share.
"""

from __future__ import annotations

import re

import libcst as cst

from put_migrate.analyze import ClassAnalysis, LogCall, LogItem, _code
from put_migrate.analyze.hierarchy import method_resolution
from put_migrate.analyze.literals import format_parts
from put_migrate.hooks import HOOKS, HookSpec
from put_migrate.lightning_classes import dotted_name
from put_migrate.plan.hook_values import _name_twice, item_statements
from put_migrate.plan.runtime_names import pattern
from put_migrate.plan.state import BuildState
from put_migrate.plan.statements import Statement, dest_code, destinations, is_simple, plain, quote
from put_migrate.plan.two_hooks import epoch_end_wins
from put_migrate.walk import visit

_LOGGING = frozenset({"log", "log_dict", "put", "put_dict"})


def scoped_functions(
    analysis: ClassAnalysis, collecting: set[int], unscoped: frozenset[str] | set[str] = frozenset()
) -> set[int]:
    """The functions (ids) whose epoch-level values go through ``hook_value`` (none for the ``unscoped`` hooks)."""
    if analysis.cls.kind != "module":
        return set()
    by_hook: dict[str, list[LogCall]] = {}
    for call in analysis.calls:
        if call.problem is None and call.spec is not None and call.spec.kind == "epoch":
            by_hook.setdefault(call.hook, []).append(call)
    chosen: set[int] = set()
    for hook, members in by_hook.items():
        if hook not in unscoped and (
            _helpers_need_scope(members, collecting) or _dispatching_runtime_names(members, analysis)
        ):
            chosen.update(id(call.function) for call in members)
    return chosen


def _helpers_need_scope(members: list[LogCall], collecting: set[int]) -> bool:
    """A helper of the hook's call logs values that a per-function rewrite cannot average: in a loop, under a
    run-time name, one name from two statements, or one statement more than once per call of the hook."""
    helpers = [c for c in members if c.via is not None and id(c.function) not in collecting]
    if not helpers:
        return False
    if any(c.in_loop for c in helpers) or any(i.runtime_name for c in helpers for i in c.items):
        return True
    runs: dict[tuple[int, tuple[tuple[str, str], ...]], int] = {}
    for call in members:  # one statement reached twice in a call of the hook (literal loop values are other names)
        if call.statement is not None and all(value for _, _, value in call.conditions) and (
            call.reduce_expression is None or call.reduce == "mean"
        ):
            key = (id(call.statement), call.bindings)
            runs[key] = runs.get(key, 0) + 1
    return any(count > 1 for count in runs.values()) or _name_twice(members)


def _dispatching_runtime_names(members: list[LogCall], analysis: ClassAnalysis) -> bool:
    """The hook itself logs names computed at run time and calls a method the class defines (no Lightning hook):
    a subclass's override of that method may log one of those names in the same call of the hook."""
    own = [c for c in members if c.via is None]
    if not any(i.runtime_name or i.dynamic for c in own for i in c.items):
        return False
    return dispatches(own[0].function, set(analysis.methods))


def dispatches(function: cst.FunctionDef, defined: set[str]) -> bool:
    """Whether the hook calls ``self.m(...)`` for a method ``m`` its class defines that is no Lightning hook."""
    return bool((dispatched_methods(function) & defined) - set(HOOKS))


def dispatched_methods(function: cst.FunctionDef) -> set[str]:
    """The methods ``function`` calls on ``self`` (``self.m(...)``), logging calls aside."""
    found: set[str] = set()

    class Calls(cst.CSTVisitor):
        def visit_Call(self, node: cst.Call) -> None:
            func = node.func
            if isinstance(func, cst.Attribute) and dotted_name(func.value) == "self":
                if func.attr.value not in _LOGGING:
                    found.add(func.attr.value)

    visit(function, Calls())
    return found


def blocked_hooks(calls: list[LogCall], scoped: set[int]) -> set[str]:
    """The scoped hooks where a call left as ``self.log`` may log a name one of their scoped calls logs."""
    blocked: set[str] = set()
    for left in calls:
        if left.problem is None or left.spec is None or left.spec.kind != "epoch":
            continue
        for call in calls:
            if (call.problem is None and call.hook == left.hook and id(call.function) in scoped
                    and (not left.items or _may_share(call, left, literal_too=True) is not None)):
                blocked.add(left.hook)
                break
    return blocked


def scope_conflicts(calls: list[LogCall], scoped: set[int], every_batch: set[int]) -> dict[int, str]:
    """id(call) -> why: an epoch value of a scoped call and one of another hook of the stage (or one not scoped)
    that may have the same name, when one of the names is only known at run time. Lightning averages them (one
    hook) or lets the key logged last win in its dicts (two hooks), which the migrated code reproduces only for an
    eval batch hook's call logged in every batch against the epoch-end hook (``two_hooks``)."""
    scoped_calls = [c for c in _epoch_calls(calls) if id(c.function) in scoped and _spec(c).kind == "epoch"]
    others = [c for c in _epoch_calls(calls) if not (id(c.function) in scoped and _spec(c).kind == "epoch")]
    bad: dict[int, str] = {}
    for call in scoped_calls:
        for other in others:
            if _spec(other).stage != _spec(call).stage or epoch_end_wins([call, other], every_batch):
                continue
            shared = _may_share(call, other)
            if shared is not None:
                why = f"{shared} may be logged on_epoch by {call.hook} and {other.hook}"
                bad.setdefault(id(call), why)
                bad.setdefault(id(other), why)
    return bad


def ancestor_conflicts(analysis: ClassAnalysis, calls: list[LogCall], scoped: set[int]) -> dict[int, str]:
    """id(call) -> why, for scoped calls of a hook an ancestor defines (the hook that runs on this class), where
    that hook logs a name of the same call that is not averaged with this class's values: a name computed at run
    time, when the ancestor's own rule does not scope it (``dispatches``), or a literal name this class's name
    computed at run time may be (literal names on both sides are left by the analysis already)."""
    order = method_resolution(analysis.cls) if analysis.cls.inherited is not None else None
    if not order:
        return {}
    bad: dict[int, str] = {}
    for call in _epoch_calls(calls):
        if id(call.function) not in scoped or _spec(call).kind != "epoch" or call.hook in analysis.methods:
            continue
        ancestor = next((klass for klass in order if call.hook in klass.methods), None)
        if ancestor is None:
            continue
        where = f"{ancestor.key.rsplit('.', 1)[1]}.{call.hook}"
        source = dict(ancestor.method_sources).get(call.hook)
        hook = _parsed(source) if source is not None else None
        if hook is None:
            bad[id(call)] = f"the values of {where}, whose source is not known, are not averaged with this one"
            continue
        literal, runtime = _logged_names(hook)
        if runtime and not dispatches(hook, set(ancestor.methods)):
            bad[id(call)] = f"{where} logs names computed at run time, which may be this one"
            continue
        for item in call.items:
            expression = _expression(item)
            if expression is None:
                continue
            for name in literal:
                if re.fullmatch(pattern(expression, dict(call.bindings)), name, re.DOTALL):
                    bad.setdefault(id(call), f"{_code(expression)} may be {name!r}, also logged by {where}")
    return bad


def _logged_names(function: cst.FunctionDef) -> tuple[list[str], bool]:
    """The literal names the hook logs or puts (``self.log``/``log_dict``, once migrated ``self.put``/``put_dict``
    or a ``HookValues`` local's ``update``), and whether one is computed at run time (or is a key of a mapping
    that is not a dict literal with literal keys). ``hook_value`` calls are averaged with this class's own."""
    literal: list[str] = []
    runtime = False
    collectors = _hook_values_locals(function)

    class Logs(cst.CSTVisitor):
        def visit_Call(self, node: cst.Call) -> None:
            nonlocal runtime
            func = node.func
            if not isinstance(func, cst.Attribute):
                return
            receiver, method = dotted_name(func.value), func.attr.value
            if receiver == "self" and method in ("log", "put"):
                kind = "name"
            elif receiver == "self" and method in ("log_dict", "put_dict"):
                kind = "mapping"
            elif receiver in collectors and method == "update":
                kind = "name"
            else:
                return
            first = node.args[0].value if node.args and node.args[0].keyword is None else next(
                (a.value for a in node.args if a.keyword is not None and a.keyword.value in ("name", "dictionary")),
                None)
            if kind == "name" and isinstance(first, cst.SimpleString) and isinstance(first.evaluated_value, str):
                literal.append(first.evaluated_value)
            elif kind == "mapping" and isinstance(first, cst.Dict):
                keys = [e.key.evaluated_value if isinstance(e, cst.DictElement) and isinstance(e.key, cst.SimpleString)
                        else None for e in first.elements]
                literal.extend(k for k in keys if isinstance(k, str))
                runtime = runtime or not all(isinstance(k, str) for k in keys)
            else:
                runtime = True

    visit(function, Logs())
    return literal, runtime


def _hook_values_locals(function: cst.FunctionDef) -> set[str]:
    """Names the function binds to ``HookValues(...)`` (decision 18's local, in an ancestor migrated already)."""
    found: set[str] = set()

    class Assigns(cst.CSTVisitor):
        def visit_Assign(self, node: cst.Assign) -> None:
            value = node.value
            if isinstance(value, cst.Call) and (dotted_name(value.func) or "").rsplit(".", 1)[-1] == "HookValues":
                found.update(t.target.value for t in node.targets if isinstance(t.target, cst.Name))

    visit(function, Assigns())
    return found


def _parsed(source: str) -> cst.FunctionDef | None:
    try:
        module = cst.parse_module(source)
    except Exception:  # noqa: BLE001 - the index read it with Python's ast; libcst may refuse newer syntax
        return None
    function = module.body[0] if module.body else None
    return function if isinstance(function, cst.FunctionDef) else None


def _spec(call: LogCall) -> HookSpec:
    assert call.spec is not None  # _epoch_calls keeps calls with a spec only
    return call.spec


def _epoch_calls(calls: list[LogCall]) -> list[LogCall]:
    return [c for c in calls if c.problem is None and c.spec is not None and c.on_epoch]


def _may_share(first: LogCall, second: LogCall, literal_too: bool = False) -> str | None:
    """A name both calls may log, as text, when one of them is computed at run time (literal pairs are checked
    by the planner's own conflict check, unless ``literal_too``)."""
    for one in first.items:
        for two in second.items:
            if one.dynamic or two.dynamic:
                return "a key of a mapping"
            first_name, second_name = _expression(one), _expression(two)
            if first_name is None and second_name is None:
                if literal_too and one.name == two.name:
                    return repr(one.name)
                continue
            if first_name is not None and second_name is not None:
                if _disjoint(_parts(first_name, dict(first.bindings)), _parts(second_name, dict(second.bindings))):
                    continue
                return _code(first_name)
            expression, call, literal = (
                (first_name, first, two) if first_name is not None else (second_name, second, one)
            )
            assert expression is not None
            if re.fullmatch(pattern(expression, dict(call.bindings)), literal.name, re.DOTALL):
                return repr(literal.name)
    return None


def _parts(name: cst.BaseExpression, env: dict[str, str]) -> list[str | None]:
    """The name as literal texts and ``None`` for any text (as ``runtime_names.pattern`` reads it)."""
    if isinstance(name, cst.Name) and name.value in env:
        return [env[name.value]]
    if isinstance(name, cst.FormattedString) and "b" not in name.prefix.lower():
        parts: list[str | None] = []
        for part in name.parts:
            if isinstance(part, cst.FormattedStringText):
                parts.append(part.value.replace("{{", "{").replace("}}", "}"))
            elif isinstance(part, cst.FormattedStringExpression) and not (part.format_spec or part.conversion):
                parts.extend(_parts(part.expression, env))
            else:
                parts.append(None)
        return parts
    if isinstance(name, cst.SimpleString) and isinstance(name.evaluated_value, str):
        return [name.evaluated_value]
    formatted = format_parts(name, env)
    if formatted is not None:
        return formatted
    if isinstance(name, cst.BinaryOperation) and isinstance(name.operator, cst.Add):
        return _parts(name.left, env) + _parts(name.right, env)
    if isinstance(name, cst.ConcatenatedString):
        return _parts(name.left, env) + _parts(name.right, env)
    return [None]


def _disjoint(first: list[str | None], second: list[str | None]) -> bool:
    """Whether two names cannot be equal: their literal beginnings, or their literal endings, differ."""

    def ends(parts: list[str | None]) -> tuple[str, str]:
        head = tail = ""
        for part in parts:
            if part is None:
                break
            head += part
        for part in reversed(parts):
            if part is None:
                break
            tail = part + tail
        return head, tail

    (head1, tail1), (head2, tail2) = ends(first), ends(second)
    return not (head1.startswith(head2) or head2.startswith(head1)) or not (
        tail1.endswith(tail2) or tail2.endswith(tail1)
    )


def _expression(item: LogItem) -> cst.BaseExpression | None:
    """The expression of a name known only at run time (in an epoch-level hook, its code is the item's name)."""
    if item.name_expression is not None:
        return item.name_expression
    return cst.parse_expression(item.name) if item.runtime_name else None


def scoped_value_code(state: BuildState, call: LogCall) -> list[Statement]:
    """``hook_value(self, name, value, destinations, ...)`` for each item of an epoch-level call."""
    state.imports.add(("shim.hook_scope", "hook_value"))
    dests = dest_code(destinations(callbacks=True, loggers=call.logger, progress_bar=call.prog_bar))
    options = ""
    if call.reduce != "mean":
        options += f", reduce={quote(call.reduce)}"
    if call.sync:
        options += ", sync=True"
        if call.sync_group is not None:
            options += f", group={_code(call.sync_group)}"
    out: list[Statement] = []
    if call.batch_size is not None and call.reduce == "mean":
        weight = call.batch_size
        if not is_simple(weight) and any(item.dynamic for item in call.items):
            weight_local = state.names.local_in(call.function, "batch_size")
            out.append(f"{weight_local} = {plain(weight)}")
            weight = cst.Name(weight_local)
        options += f", weight={_code(weight)}"
    return out + item_statements(
        state, call, lambda name, value: f"hook_value(self, {name}, {value}, {dests}{options})"
    )
