"""A logged value (tensor or number): step puts, an epoch-level put, or an aggregator update; synced if asked."""

from __future__ import annotations

from typing import Optional

import libcst as cst

from put_migrate.analyze import LogCall, LogItem, _code
from put_migrate.plan.aggregators import epoch_update
from put_migrate.plan.state import BuildState
from put_migrate.plan.statements import Statement, is_simple, plain, put, step_names, step_puts
from put_migrate.plan.sync import Entry, StepReduction, SyncedItem, step_reduction


def tensor_item(state: BuildState, call: LogCall, item: LogItem, out: list[Entry], step_dests: tuple[str, ...],
                epoch_dests: tuple[str, ...]) -> None:
    spec = call.spec
    stage = spec.stage
    value = item.value
    direct_epoch = call.on_epoch and spec.kind == "epoch"
    uses = 0
    if call.on_step:
        uses += 2 if (call.forked and stage == "train") else 1
    if call.on_epoch:
        uses += 1
    pre: list[Statement] = []
    if uses > 1 and not is_simple(value):
        local = state.names.local_in(call.function, item.name)
        pre.append(f"{local} = {plain(value)}")
        value = cst.Name(local)
    value_code = _code(value) if "\n" not in _code(value) else plain(value)
    reduction: Optional[StepReduction] = None
    lines: list[Statement] = []

    if call.on_step:
        step_value = value_code
        if call.sync:
            local = state.names.local_in(call.function, f"{item.name}_step" if call.forked else item.name)
            reduction = step_reduction(state, call, local, value)
            step_value = local
        suffix = state.step_suffix(call)
        lines += step_puts(item.name, step_value, call.forked, stage, step_dests, suffix)
        state.record(call, item, step_names(item.name, call.forked, stage, step_dests, suffix is not None), call.hook)
    if call.on_epoch and direct_epoch:
        # A mean over one value with weight 1 is the value itself (contract: epoch-level hooks).
        epoch_value = value_code
        if call.sync:
            epoch_value = state.names.local_in(call.function, item.name)
            reduction = step_reduction(state, call, epoch_value, value)
        lines.append(put(item.name, epoch_value, epoch_dests))
        state.record(call, item, [(item.name, epoch_dests, False)], call.hook)
    elif call.on_epoch:
        epoch_update(state, call, item, value_code, lines, epoch_dests)
    if reduction is None:
        out.extend(pre + lines)
    else:
        out.append(SyncedItem(tuple(pre), reduction, tuple(lines)))
