"""Logged Metric objects and MetricCollection members (§3.4): the forward's step value, compute hooks, resets."""

from __future__ import annotations

import libcst as cst

from put_migrate.analyze import LogCall, LogItem, MetricInfo, _code
from put_migrate.analyze.scope import declares, rebinds
from put_migrate.hooks import COMPUTE_HOOKS
from put_migrate.plan.aggregators import guarded_compute
from put_migrate.plan.logged_metrics import updates_tell_logged
from put_migrate.plan.mapping import mapping_step_puts
from put_migrate.plan.state import BuildState, Leave
from put_migrate.plan.statements import (
    Block,
    Statement,
    dest_code,
    epoch_names,
    put,
    put_call,
    quote,
    step_names,
    step_puts,
)
from put_migrate.plan.sync import Entry
from put_migrate.plan.syntax import block_path, calls_of, forward_statement, run_between
from put_migrate.rules import METRIC_STEP_VALUE_UNKNOWN


def metric_item(state: BuildState, call: LogCall, item: LogItem, out: list[Entry], step_dests: tuple[str, ...],
                epoch_dests: tuple[str, ...]) -> None:
    spec = call.spec
    stage = spec.stage
    attr = item.metric.attr
    target = f"self.{attr}"
    marked = not updates_tell_logged(state, call, attr)
    if marked:  # its updates do not tell where it was logged (plan/logged_metrics.py)
        state.imports.add(("shim", "mark_logged"))
        out.append(f"mark_logged({target}, {quote(item.name)})")
    if call.on_step:
        step_value = forward_value(state, call, attr)
        if step_value is not None:
            out += step_puts(item.name, step_value, call.forked, stage, step_dests)
            state.record(call, item, step_names(item.name, call.forked, stage, step_dests), call.hook)
    if call.on_epoch:
        if spec.kind == "epoch":
            out.append(put(item.name, f"{target}.compute()", epoch_dests))
            state.record(call, item, [(item.name, epoch_dests, False)], call.hook, "Metric", target)
        else:
            state.record(call, item, epoch_names(item.name, call.forked, epoch_dests), COMPUTE_HOOKS[stage], "Metric",
                         target)
            guard = None
            if marked:
                state.imports.add(("shim", "was_logged"))
                guard = f"was_logged({target}, {quote(item.name)})"
            statements = guarded_compute(target, item.name, call.forked, epoch_dests, reset=False, guard=guard)
            if (stage, item.name) not in state.computed:
                state.computed.add((stage, item.name))
                state.add_compute(stage, statements)
    state.add_reset(stage, attr, item.name if marked else None)


def collection_item(state: BuildState, call: LogCall, item: LogItem, out: list[Entry], step_dests: tuple[str, ...],
                    epoch_dests: tuple[str, ...], done: set[str]) -> None:
    """A logged MetricCollection, once per call (``done`` holds the collections already written): its members are
    put under the names the collection gives them at run time (prefix/postfix applied), so a member added to the
    collection later is logged too. Step values are the forward result's; epoch values each member's ``compute()``
    in the compute hook, for the members Lightning logs (``items(keep_base=False, copy_state=False)``, §3.4)."""
    info: MetricInfo = item.metric
    if info.attr in done:
        return
    done.add(info.attr)
    spec = call.spec
    stage = spec.stage
    collection = f"self.{info.attr}"
    if call.on_step:
        alias = item.value.value if isinstance(item.value, cst.Name) else None
        forward_local = forward_value(state, call, info.attr, alias)
        if forward_local:
            name, value = state.names.loop_variables(call.function)
            puts = mapping_step_puts(call, name, value, step_dests, state.step_suffix(call))
            if not call.forked and state.step_suffix(call) is None:
                out.append(f"self.put_dict({forward_local}, {dest_code(step_dests)})")
            else:
                out.append(Block(f"for {name}, {value} in {forward_local}.items():", tuple(puts)))
    if call.on_epoch:
        if spec.kind == "epoch":
            out.append(f"self.put_dict({collection}.compute(), {dest_code(epoch_dests)})")
        elif (stage, f"<{info.attr}>") not in state.computed:
            state.computed.add((stage, f"<{info.attr}>"))
            state.add_compute(stage, _collection_compute(state, call, collection, epoch_dests))
    state.add_reset(stage, info.attr)


def _collection_compute(state: BuildState, call: LogCall, collection: str,
                        destinations: tuple[str, ...]) -> list[Statement]:
    """Compute-hook statements: each updated member's value under its run-time name; with a ``dataloader_idx``,
    suffixed for the eval dataloader that just ended (the compute hook runs once per dataloader, and Lightning
    computes the one shared collection for each, without a reset in between)."""
    tail = ""
    statements: list[Statement] = []
    if call.dataloader_idx_param is not None and call.add_dataloader_idx:
        state.imports.update({("shim", "dataloader_suffix"), ("shim", "dataloader_idx_in_flight")})
        trainer = state.hook_trainer
        statements.append(f"suffix = dataloader_suffix({trainer}, dataloader_idx_in_flight({trainer}))")
        tail = "{suffix}"
    plain_name = f'f"{{name}}{tail}"' if tail else "name"
    if call.forked:
        body = (put_call(f'f"{{name}}_epoch{tail}"', "metric.compute()", destinations, callback_alias=plain_name),)
    else:
        body = (put_call(plain_name, "metric.compute()", destinations),)
    statements.append(Block(f"for name, metric in {collection}.items(keep_base=False, copy_state=False):",
                            (Block("if metric.update_called:", body),)))
    return statements


def forward_value(state: BuildState, call: LogCall, attr: str, alias: str | None = None) -> str | None:
    """The local holding the last ``self.<attr>(...)`` result before the call, or None if only update().
    ``alias``: a local bound to ``self.<attr>`` (``getattr(self, ...)``), whose calls are the metric's too.
    ``x = self.<attr>(...)`` gives ``x`` where nothing between it and the call may bind ``x`` again; else (and
    for a bare ``self.<attr>(...)``) the statement also binds a fresh local, the same object as the Metric's
    ``_forward_cache`` (what Lightning logs: it sees in-place changes such as ``x += ...`` on a tensor too)."""
    function = call.function
    forwards = calls_of(function, attr) + (calls_of(function, alias, owner="") if alias else [])
    path = block_path(list(function.body.body), call.statement)
    candidates: list[tuple[cst.SimpleStatementLine, int, int]] = []  # (statement, level in path, index there)
    for level, (body, index) in enumerate(path or []):
        for at, statement in enumerate(body[:index]):
            if forward_statement(statement, attr) or (alias and forward_statement(statement, alias, owner="")):
                candidates.append((statement, level, at))
    if not forwards:
        if calls_of(function, f"{attr}.update") or (alias and calls_of(function, f"{alias}.update", owner="")):
            return None  # Lightning has no step value when only update() ran (§3.4)
        raise Leave(METRIC_STEP_VALUE_UNKNOWN, f"no self.{attr}(...) or self.{attr}.update(...) in `{call.hook}`")
    if len(candidates) != len(forwards):
        raise Leave(
            METRIC_STEP_VALUE_UNKNOWN,
            f"a self.{attr}(...) call in `{call.hook}` is not a statement before the log call",
        )
    last, level, at = candidates[-1]
    assert path is not None
    small = last.body[0]
    target = small.targets[0].target if isinstance(small, cst.Assign) else None
    if isinstance(target, cst.Name) and _still_holds(function, path, level, at, target.value):
        return target.value
    key = id(last)
    if key in state.forward_locals:  # already rewritten for another log call
        return state.forward_locals[key]
    local = state.names.local_in(function, f"{alias}_values" if alias else attr)
    if isinstance(small, cst.Assign) and isinstance(target, cst.Name):
        state.replacements[key] = [f"{target.value} = {local} = {_code(small.value).strip()}"]
    else:
        state.replacements[key] = [f"{local} = {_code(small).strip()}"]
    state.forward_locals[key] = local
    return local


def _still_holds(function: cst.FunctionDef, path: list[tuple[list, int]], level: int, at: int, name: str) -> bool:
    """``name``, bound by statement ``at`` of ``path[level]``'s block, is bound to nothing else on any way from
    there to the statement ``path`` leads to (a nested function that declares it ``nonlocal`` may rebind it)."""
    between = run_between(path, level, at)
    return between is not None and not declares(function.body, name) and not any(rebinds(n, name) for n in between)
