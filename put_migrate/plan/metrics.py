"""Logged Metric objects and MetricCollection members (§3.4): the forward's step value, compute hooks, resets."""

from __future__ import annotations

from typing import Optional

import libcst as cst

from put_migrate.analyze import LogCall, LogItem, MetricInfo, _code
from put_migrate.plan.aggregators import guarded_compute
from put_migrate.plan.names import identifier
from put_migrate.plan.state import BuildState, Leave
from put_migrate.hooks import COMPUTE_HOOKS
from put_migrate.plan.statements import epoch_names, put, quote, step_names, step_puts
from put_migrate.plan.sync import Entry
from put_migrate.plan.syntax import block_path, calls_of, forward_statement
from put_migrate.rules import METRIC_STEP_VALUE_UNKNOWN


def metric_item(state: BuildState, call: LogCall, item: LogItem, out: list[Entry], step_dests: tuple[str, ...],
                epoch_dests: tuple[str, ...]) -> None:
    spec = call.spec
    stage = spec.stage
    attr = item.metric.attr
    target = f"self.{attr}"
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
            statements = guarded_compute(state, target, item.name, call.forked, epoch_dests, reset=False,
                                         local_base=attr)
            if (stage, item.name) not in state.computed:
                state.computed.add((stage, item.name))
                state.add_compute(stage, statements)
    state.add_reset(stage, attr)


def collection_item(state: BuildState, call: LogCall, item: LogItem, out: list[Entry], step_dests: tuple[str, ...],
                    epoch_dests: tuple[str, ...], forward_local: Optional[str]) -> Optional[str]:
    """A member of a logged MetricCollection; ``forward_local`` holds the collection's forward result, once known."""
    spec = call.spec
    stage = spec.stage
    info: MetricInfo = item.metric
    member = f"self.{info.attr}[{quote(item.collection_key)}]"
    if call.on_step:
        if forward_local is None:
            forward_local = forward_value(state, call, info.attr) or ""
        if forward_local:
            step_value = f"{forward_local}[{quote(item.name)}]"
            out += step_puts(item.name, step_value, call.forked, stage, step_dests)
            state.record(call, item, step_names(item.name, call.forked, stage, step_dests), call.hook)
    if call.on_epoch:
        if spec.kind == "epoch":
            out.append(put(item.name, f"{member}.compute()", epoch_dests))
            state.record(call, item, [(item.name, epoch_dests, False)], call.hook, "Metric", member)
        else:
            state.record(call, item, epoch_names(item.name, call.forked, epoch_dests), COMPUTE_HOOKS[stage],
                         "Metric", member)
        if spec.kind != "epoch" and (stage, item.name) not in state.computed:
            state.computed.add((stage, item.name))
            statements = guarded_compute(state, member, item.name, call.forked, epoch_dests, reset=False,
                                         local_base=identifier(item.name))
            state.add_compute(stage, statements)
    state.add_reset(stage, info.attr)
    return forward_local


def forward_value(state: BuildState, call: LogCall, attr: str) -> Optional[str]:
    """The local holding the last ``self.<attr>(...)`` result before the call, or None if only update()."""
    function = call.function
    forwards = calls_of(function, attr)
    path = block_path(list(function.body.body), call.statement)
    candidates: list[cst.SimpleStatementLine] = []
    for body, index in path or []:
        for statement in body[:index]:
            if forward_statement(statement, attr):
                candidates.append(statement)
    if not forwards:
        if calls_of(function, f"{attr}.update"):
            return None  # Lightning has no step value when only update() ran (§3.4)
        raise Leave(METRIC_STEP_VALUE_UNKNOWN, f"no self.{attr}(...) or self.{attr}.update(...) in `{call.hook}`")
    if len(candidates) != len(forwards):
        raise Leave(
            METRIC_STEP_VALUE_UNKNOWN,
            f"a self.{attr}(...) call in `{call.hook}` is not a statement before the log call",
        )
    last = candidates[-1]
    small = last.body[0]
    if isinstance(small, cst.Assign):
        target = small.targets[0].target
        assert isinstance(target, cst.Name)
        return target.value
    key = id(last)
    if key in state.forward_locals:  # already rewritten for another log call
        return state.forward_locals[key]
    local = state.names.local_in(function, attr)
    code = _code(last.body[0])
    state.replacements[key] = [f"{local} = {code.strip()}"]
    state.forward_locals[key] = local
    return local
