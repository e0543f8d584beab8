"""Epoch-level hooks whose values must be averaged per name over one call of the hook (``shim.metrics.HookValues``).

Lightning keeps one mean per (hook, name) over the calls of one hook invocation (weight ``batch_size``, 1 when not
given) and computes it when the hook returns. A single literal call per invocation is put directly (the mean of
one value); a hook that logs in a loop, logs a name computed at run time (which may equal another name of the
invocation), or logs one name twice, collects its values in a local ``HookValues`` created at the top of the hook
and put where it returns: the names Lightning produces, averaged exactly as Lightning averages them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

import libcst as cst

from put_migrate.analyze import ClassAnalysis, LogCall, _code
from put_migrate.analyze.context import HelperCall, helper_callers
from put_migrate.hooks import HOOKS
from put_migrate.lightning_classes import dotted_name
from put_migrate.plan.model import MigrationPlan
from put_migrate.plan.state import BuildState, Leave
from put_migrate.plan.statements import (
    Block,
    Statement,
    dest_code,
    destinations,
    is_simple,
    plain,
    quote,
)
from put_migrate.rules import EPOCH_VALUE_IN_LOOP, MAPPING_UNKNOWN, NAME_NOT_LITERAL
from put_migrate.walk import visit


def collecting_functions(analysis: ClassAnalysis) -> set[int]:
    """The functions (ids) whose epoch-level values are collected in a ``HookValues``: epoch-level hooks, and
    helpers that each calling epoch-level hook calls once, outside loops, with nothing else of that hook logging,
    so that one call of the function is one call of the hook. Only those that log in a loop, under a run-time
    name, or one name from two statements, and that return only where a put can go before the ``return``."""
    if analysis.cls.kind != "module":
        # A Callback's hook and the module's hook of the same name share Lightning's results (one mean per name
        # over both): a Callback's own HookValues could not average with the module's.
        return set()
    by_function: dict[int, list[LogCall]] = {}
    for call in analysis.calls:
        if call.spec is not None and call.spec.kind == "epoch":
            by_function.setdefault(id(call.function), []).append(call)
    callers: dict[str, list[HelperCall]] | None = None
    chosen: set[int] = set()
    for key, members in by_function.items():
        usable = [call for call in members if call.problem is None]
        needed = (
            any(call.in_loop for call in usable)
            or any(item.runtime_name for call in usable for item in call.items)
            or _name_twice(usable)
            or _mapping_shares(usable)
        )
        if not needed or _returns(members[0].function) is None:
            continue
        if any(call.caller_class is not None for call in members):
            continue  # a subclass's hook runs it too: how often per call of that hook is not read here
        if callers is None:
            callers = helper_callers(analysis.cls, analysis.methods)
        # A helper, or a hook that other hooks also call (``self.on_train_epoch_start()``): one call of it must be
        # one call of the hook that runs.
        function = members[0].function
        method = members[0].via or function.name.value
        if (members[0].via is not None or callers.get(method)) and not _once_per_hook_call(
            analysis, method, function, callers
        ):
            continue
        chosen.add(key)
    return chosen


def _mapping_shares(calls: list[LogCall]) -> bool:
    """Whether a mapping of run-time keys may hold a name another log statement of the function logs with the same
    options (Lightning averages the two values of the name), or one its known parts tell it may hold."""
    # mapping_collisions imports hook_scope, which imports this module.
    from put_migrate.plan.mapping_collisions import one_per_invocation, same_meta, shared_items

    return any(
        mapping is not other and mapping.statement is not other.statement
        and not one_per_invocation(mapping, other)
        and any(strong or same_meta(mapping, other) for _, _, strong in shared_items(mapping, other))
        for mapping in calls if any(i.dynamic for i in mapping.items)
        for other in calls
    )


def _name_twice(calls: list[LogCall]) -> bool:
    """Whether two log statements can log one name in one call of a hook (not in exclusive ``if``/``else``
    arms: one call of the hook runs only one of them). Variants of one statement (one per calling hook, per
    literal loop value) are one statement."""
    statements: dict[tuple[str, str], list[cst.SimpleStatementLine]] = {}
    for call in calls:
        for item in call.items:
            seen = statements.setdefault((call.hook, item.name), [])
            if call.statement is not None and all(s is not call.statement for s in seen):
                seen.append(call.statement)
    repeated = [seen for seen in statements.values() if len(seen) > 1]
    if not repeated:
        return False
    arms = _if_arms(calls[0].function)
    for seen in repeated:
        for index, first in enumerate(seen):
            for second in seen[index + 1:]:
                if not _exclusive(arms.get(id(first), ()), arms.get(id(second), ())):
                    return True
    return False


def _if_arms(function: cst.FunctionDef) -> dict[int, tuple[tuple[int, int], ...]]:
    """For each simple statement of the function, the ``if`` arms it is in, outermost first: (id(If), arm)."""
    arms: dict[int, tuple[tuple[int, int], ...]] = {}

    def walk(statements: Sequence[cst.BaseStatement], path: tuple[tuple[int, int], ...]) -> None:
        for statement in statements:
            if isinstance(statement, cst.SimpleStatementLine):
                arms[id(statement)] = path
            elif isinstance(statement, cst.If):
                chain, arm, node = id(statement), 0, statement
                while True:
                    walk(_block(node.body), path + ((chain, arm),))
                    arm += 1
                    if isinstance(node.orelse, cst.If):
                        node = node.orelse
                    else:
                        if node.orelse is not None:
                            walk(_block(node.orelse.body), path + ((chain, arm),))
                        break
            elif isinstance(statement, cst.BaseCompoundStatement) and not isinstance(
                statement, (cst.FunctionDef, cst.ClassDef)
            ):
                for field in ("body", "orelse", "finalbody"):
                    part = getattr(statement, field, None)
                    if isinstance(part, (cst.Else, cst.Finally)):
                        part = part.body
                    if isinstance(part, cst.BaseSuite):
                        walk(_block(part), path)
                for handler in getattr(statement, "handlers", ()):
                    walk(_block(handler.body), path)

    walk(_block(function.body), ())
    return arms


def _block(suite: cst.BaseSuite) -> Sequence[cst.BaseStatement]:
    return suite.body if isinstance(suite, cst.IndentedBlock) else ()


def _exclusive(first: tuple[tuple[int, int], ...], second: tuple[tuple[int, int], ...]) -> bool:
    """Whether two statements are in different arms of one ``if``/``elif``/``else`` chain."""
    arm_of = dict(first)
    return any(chain in arm_of and arm_of[chain] != arm for chain, arm in second)


def _once_per_hook_call(
    analysis: ClassAnalysis, helper: str, function: cst.FunctionDef, callers: dict[str, list[HelperCall]]
) -> bool:
    """Whether every hook that runs ``helper`` is an epoch-level hook that calls it once, outside loops, and logs
    nothing else (itself or through other methods)."""
    reached = callers.get(helper, [])
    hooks = [caller.hook for caller in reached]
    if not reached or len(set(hooks)) != len(hooks):
        return False
    for caller in reached:
        spec = HOOKS.get(caller.hook)
        if caller.problem is not None or caller.in_loop or spec is None or spec.kind != "epoch":
            return False
        if _puts(caller.hook_function):  # already migrated values of that hook call (a second run)
            return False
    return all(
        call.function is function or call.hook not in hooks
        for call in analysis.calls
    )


def leave_uncollected(calls: list[LogCall], collecting: set[int]) -> list[LogCall]:
    """Calls with a run-time name that no ``HookValues`` collects (helpers, hooks with unusual returns) are left,
    as before (PM204)."""
    return [
        replace(call, problem=NAME_NOT_LITERAL.problem(next(i.name for i in call.items if i.runtime_name)))
        if call.problem is None
        and any(item.runtime_name for item in call.items)
        and id(call.function) not in collecting
        else call
        for call in calls
    ]


def hook_value_code(state: BuildState, call: LogCall) -> list[Statement]:
    """``values.update(name, value, destinations, ...)`` for each item of a call in a collecting hook."""
    local = state.hook_values[id(call.function)][0]
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
            # Evaluated once per call, as Lightning reads batch_size once, not once per item of the mapping.
            weight_local = state.names.local_in(call.function, "batch_size")
            out.append(f"{weight_local} = {plain(weight)}")
            weight = cst.Name(weight_local)
        given = _code(weight)
        # Read from a dict the function built: None there means not given, weight 1 (no batch in flight here).
        optional = f" if {given} is not None else 1" if call.batch_size_optional else ""
        options += f", weight={given}{optional}"
    if call.metric_values:
        raise Leave(MAPPING_UNKNOWN, "the mapping may hold Metric objects (the class tests isinstance(..., Metric)),"
                    f" which `{call.hook}` cannot average per name: log each Metric with its own self.log call")
    return out + item_statements(state, call, lambda name, value: f"{local}.update({name}, {value}, {dests}{options})")


def item_statements(state: BuildState, call: LogCall, add: Callable[[str, str], str]) -> list[Statement]:
    """One statement per item of an epoch-level call, ``add(name_code, value_code)`` (a loop over a mapping whose
    keys are known only at run time); Leave for a Metric object, an iteration over an attribute that may hold
    Metric objects, or a name written over several lines."""
    out: list[Statement] = []
    for item in call.items:
        if item.metric is not None:
            raise Leave(
                EPOCH_VALUE_IN_LOOP,
                f"a Metric object logged in `{call.hook}`, whose values are averaged per name over the call",
            )
        if item.dynamic:
            name, value = state.names.loop_variables(call.function)
            out.append(Block(f"for {name}, {value} in {plain(item.value)}.items():", (add(name, value),)))
            continue
        holder = _iterated_attribute(call.function, item.value, call.receiver)
        if holder is not None:
            rule = NAME_NOT_LITERAL if item.runtime_name else EPOCH_VALUE_IN_LOOP
            raise Leave(rule, f"`{_code(item.value)}` iterates over `{holder}`, which may hold Metric objects")
        name_code = item.name if item.runtime_name else quote(item.name)
        if "\n" in name_code:
            raise Leave(NAME_NOT_LITERAL, "a name written over several lines")
        out.append(add(name_code, _code(item.value) if "\n" not in _code(item.value) else plain(item.value)))
    return out


def start_collecting(state: BuildState, functions: dict[int, cst.FunctionDef]) -> None:
    """Choose the local of each collecting hook (before any statement of it is planned)."""
    for key, function in functions.items():
        state.hook_values[key] = (state.names.local_in(function, "hook_values"), function)


def add_collection(state: BuildState, plan: MigrationPlan, rewritten: set[int]) -> None:
    """``values = HookValues(self)`` at the top of each collecting hook with a rewritten call, ``values.put()``
    before each ``return`` and at its end."""
    for key, (local, function) in state.hook_values.items():
        if key not in rewritten:
            continue
        state.imports.add(("shim.metrics", "HookValues"))
        body = function.body
        assert isinstance(body, cst.IndentedBlock)
        statements = list(body.body)
        first = statements[1] if len(statements) > 1 and _is_docstring(statements[0]) else statements[0]
        state.insertions.setdefault(id(first), []).insert(0, f"{local} = HookValues(self)")
        returns = _returns(function)
        assert returns is not None
        for statement in returns:
            state.insertions.setdefault(id(statement), []).append(f"{local}.put()")
        last = statements[-1]
        if not (isinstance(last, cst.SimpleStatementLine) and isinstance(last.body[0], cst.Return)):
            name = function.name.value
            plan.hook_additions[name] = [f"{local}.put()", *plan.hook_additions.get(name, [])]


def _puts(function: cst.FunctionDef) -> bool:
    """Whether the function calls ``self.put``/``self.put_dict`` (values of the hook call, migrated already)."""
    found = False

    class Puts(cst.CSTVisitor):
        def visit_Call(self, node: cst.Call) -> None:
            nonlocal found
            if isinstance(node.func, cst.Attribute) and node.func.attr.value in ("put", "put_dict"):
                found = found or dotted_name(node.func.value) == "self"

    visit(function, Puts())
    return found


def _iterated_attribute(function: cst.FunctionDef, value: cst.BaseExpression, receiver: str) -> str | None:
    """The attribute a ``for`` loop of the function takes ``value`` (a plain name) from, when it iterates over an
    attribute of ``self`` or the receiver (``for metric in self.val_metrics``, ``for k, m in self.metrics.items()``):
    its items may be Metric objects, which Lightning computes and resets instead of averaging."""
    if not isinstance(value, cst.Name):
        return None
    found: list[str] = []
    variable = value.value

    class Loops(cst.CSTVisitor):
        def visit_For(self, node: cst.For) -> None:
            if isinstance(node.target, (cst.Tuple, cst.List)):
                targets = [element.value for element in node.target.elements]
            else:
                targets = [node.target]
            if not any(isinstance(t, cst.Name) and t.value == variable for t in targets):
                return
            source = node.iter
            if isinstance(source, cst.Call) and isinstance(source.func, cst.Attribute) and not source.args:
                source = source.func.value  # .items() / .values()
            dotted = dotted_name(source)
            if dotted is not None and dotted.split(".")[0] in ("self", receiver) and "." in dotted:
                found.append(dotted)

    visit(function, Loops())
    return found[0] if found else None


def _is_docstring(statement: cst.BaseStatement) -> bool:
    return (
        isinstance(statement, cst.SimpleStatementLine)
        and isinstance(statement.body[0], cst.Expr)
        and isinstance(statement.body[0].value, (cst.SimpleString, cst.ConcatenatedString))
    )


def _returns(function: cst.FunctionDef) -> list[cst.SimpleStatementLine] | None:
    """The statements that hold the function's own ``return``s, or None when one cannot take a statement before
    it (``if x: return`` on one line, a ``return`` after other statements on its line)."""
    found: list[cst.SimpleStatementLine] = []
    unusual = False

    class Returns(cst.CSTVisitor):
        def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
            return node is function

        def visit_Lambda(self, node: cst.Lambda) -> bool:
            return False

        def visit_ClassDef(self, node: cst.ClassDef) -> bool:
            return False

        def visit_SimpleStatementLine(self, node: cst.SimpleStatementLine) -> bool:
            nonlocal unusual
            if any(isinstance(s, cst.Return) for s in node.body):
                if isinstance(node.body[0], cst.Return):
                    found.append(node)
                else:
                    unusual = True
            return False

        def visit_SimpleStatementSuite(self, node: cst.SimpleStatementSuite) -> bool:
            nonlocal unusual
            if any(isinstance(s, cst.Return) for s in node.body):
                unusual = True
            return False

    visit(function, Returns())
    return None if unusual or not isinstance(function.body, cst.IndentedBlock) else found
