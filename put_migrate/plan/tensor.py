"""A logged value (tensor or number): step puts, an epoch-level put, or an aggregator update; synced if asked."""

from __future__ import annotations

from dataclasses import replace

import libcst as cst

from put_migrate.analyze import LogCall, LogItem, _code
from put_migrate.plan.aggregators import epoch_update
from put_migrate.plan.dataloader_names import name_check
from put_migrate.plan.name_collisions import collision_raises
from put_migrate.plan.runtime_names import name_base, name_code, runtime_step_puts, shared_slot
from put_migrate.plan.state import BuildState
from put_migrate.plan.statements import Statement, is_simple, plain, put, quote, step_names, step_puts
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
    label = item.name  # what generated locals and attributes are named after
    name = None  # a run-time name's expression (or the local bound to it)
    checked = call.names_shared_by_dataloaders  # Lightning may raise inside ``self.log``, after the arguments
    # A literal name put through its hook's shared Keyed (name_collisions, mapping_collisions): literal puts, and
    # the Keyed updated under its string.
    string = (
        item.name
        if isinstance(item.name_expression, cst.SimpleString) and item.name_expression.evaluated_value == item.name
        and not call.name_collisions
        else None
    )
    if item.name_expression is not None and string is None:
        label = name_base(item.name_expression)
        name = name_code(item.name_expression)
        if (uses > 1 or call.name_collisions or (call.sync and call.on_step) or checked) and not is_simple(
            item.name_expression
        ):
            # Evaluated once, and before the value, as ``self.log`` evaluates its arguments.
            local = state.names.local_in(call.function, "name")
            pre.append(f"{local} = {plain(item.name_expression)}")
            name = local
    collides = item.name_expression is not None and bool(call.name_collisions)
    if (uses > 1 or collides or checked) and not is_simple(value):
        local = state.names.local_in(call.function, label)
        pre.append(f"{local} = {plain(value)}")
        value = cst.Name(local)
    if collides and name is not None:
        # After both arguments are evaluated, as Lightning raises inside ``self.log``.
        pre += collision_raises(state, call, name)
    if checked:
        pre.append(name_check(state, call, quote(item.name) if name is None else name))
    value_code = _code(value) if "\n" not in _code(value) else plain(value)
    reduction: StepReduction | None = None
    lines: list[Statement] = []

    if call.on_step:
        step_value = value_code
        if call.sync:
            local = state.names.local_in(call.function, f"{label}_step" if call.forked else label)
            reduction = step_reduction(state, call, local, value)
            step_value = local
        suffix = state.step_suffix(call)
        if name is None:
            lines += step_puts(item.name, step_value, call.forked, stage, step_dests, suffix)
        else:
            lines += runtime_step_puts(name, step_value, call.forked, stage, step_dests, suffix)
        # A run-time name is recorded as its code (``<expression>``).
        state.record(call, item, step_names(item.name, call.forked, stage, step_dests, suffix is not None), call.hook)
    if call.on_epoch and direct_epoch:
        # A mean over one value with weight 1 is the value itself (contract: epoch-level hooks).
        epoch_value = value_code
        if call.sync:
            epoch_value = state.names.local_in(call.function, item.name)
            reduction = step_reduction(state, call, epoch_value, value)
        lines.append(put(item.name, epoch_value, epoch_dests))
        state.record(call, item, [(item.name, epoch_dests, False)], call.hook)
    elif call.on_epoch and (name is not None or string is not None):
        # One Keyed per hook for all its run-time names: names that coincide are averaged together (Lightning).
        shared = replace(item, name=shared_slot(call))
        epoch_update(state, call, shared, value_code, lines, epoch_dests, key=name or quote(item.name),
                     base=f"{call.hook}_metrics", recorded=item)
    elif call.on_epoch:
        epoch_update(state, call, item, value_code, lines, epoch_dests)
    if reduction is None:
        out.extend(pre + lines)
    else:
        out.append(SyncedItem(tuple(pre), reduction, tuple(lines)))
