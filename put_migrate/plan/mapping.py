"""``log_dict`` of a mapping with names known only at run time: ``put_dict``, or a loop with ``Keyed`` aggregators."""

from __future__ import annotations

from dataclasses import replace

from put_migrate.analyze import LogCall, LogItem, _code
from put_migrate.plan.aggregators import epoch_update
from put_migrate.plan.dataloader_names import name_check
from put_migrate.plan.runtime_names import shared_slot
from put_migrate.plan.state import BuildState, Leave
from put_migrate.plan.statements import (
    Block,
    Named,
    Statement,
    dest_code,
    is_simple,
    plain,
    put_call,
    quote,
    step_names,
)
from put_migrate.plan.sync import Entry
from put_migrate.plan.syntax import mapping_base
from put_migrate.rules import MAPPING_UNKNOWN


def mapping_item(state: BuildState, call: LogCall, item: LogItem, out: list[Entry], step_dests: tuple[str, ...],
                 epoch_dests: tuple[str, ...]) -> None:
    """``put_dict`` for step-only and epoch-level values, else a loop over ``d.items()`` with the step puts and
    per-name aggregators (``shim.metrics.Keyed``)."""
    spec = call.spec
    mapping = item.value
    direct = not call.on_epoch or spec.kind == "epoch"
    # Eval step names of a hook with a dataloader_idx end with "/dataloader_idx_N" when Lightning adds it (§2).
    suffix = state.step_suffix(call) if call.on_step else None
    if call.metric_values:
        metric_mapping(state, call, item, out, step_dests, epoch_dests, direct or suffix is not None)
        return
    checked = call.names_shared_by_dataloaders  # checked per name, in the loop, as Lightning's log_dict logs them
    if direct and not call.sync and suffix is None and not checked:
        dests = step_dests if not call.on_epoch else epoch_dests
        out.append(f"self.put_dict({_code(mapping)}, {dest_code(dests)})")
        state.record(call, item, [(item.name, dests, False)], call.hook)
        return
    if not is_simple(mapping):
        local = state.names.local_in(call.function, mapping_base(mapping))
        out.append(f"{local} = {plain(mapping)}")
        mapping_code = local
    else:
        mapping_code = _code(mapping)
    name, value = state.names.loop_variables(call.function)
    if call.sync and (direct or call.on_step):
        # Lightning reduces each synced step value (and an epoch-level hook's value) as it is logged: one
        # packed reduction of the mapping's values, zipped back with its keys (decisions 2-4, 17).
        state.imports.add(("shim", "reduce_step_values"))
        group = f", group={_code(call.sync_group)}" if call.sync_group is not None else ""
        reduced = (
            f"zip({mapping_code}, reduce_step_values({call.trainer}, *{mapping_code}.values(), "
            f"reduce_op={quote(call.reduce)}{group}))"
        )
        if direct and suffix is None:
            dests = step_dests if not call.on_epoch else epoch_dests
            puts = [f"self.put({name}, {value}, {dest_code(dests)})"]
            state.record(call, item, [(item.name, dests, False)], call.hook)
        else:
            puts = mapping_step_puts(call, name, value, step_dests, suffix)
            state.record(call, item, _step_names(call, item.name, step_dests, suffix), call.hook)
        out.append(Block(f"for {name}, {value} in {reduced}:", tuple(puts)))
        if direct:
            return
    body: list[Statement] = [name_check(state, call, name)] if checked else []
    if call.on_step and not call.sync:
        body += mapping_step_puts(call, name, value, step_dests, suffix)
        state.record(call, item, _step_names(call, item.name, step_dests, suffix), call.hook)
    if not direct and item.shared_keyed:
        # Calls of the hook may log one of its keys: one Keyed for them all (plan/mapping_collisions.py).
        epoch_update(state, call, replace(item, name=shared_slot(call)), value, body, epoch_dests, key=name,
                     base=f"{call.hook}_metrics", recorded=item)
    elif not direct:
        epoch_update(state, call, item, value, body, epoch_dests, key=name, base=mapping_base(mapping))
    out.append(Block(f"for {name}, {value} in {mapping_code}.items():", tuple(body)))


def mapping_step_puts(call: LogCall, name: str, value: str, step_dests: tuple[str, ...],
                      suffix: str | None = None) -> list[Statement]:
    """The step puts of one run-time name (loop variables ``name``, ``value``); forked names as in §2.1;
    ``suffix`` (an expression) ends eval step names of a hook with a dataloader_idx."""
    tail = "" if suffix is None else "{" + suffix + "}"
    if not call.forked:
        target = name if suffix is None else f"f\"{{{name}}}{tail}\""
        return [f"self.put({target}, {value}, {dest_code(step_dests)})"]
    alias = name if call.spec.stage == "train" else None  # the plain name is for train callbacks only (§2.1)
    return [put_call(f"f\"{{{name}}}_step{tail}\"", value, step_dests, callback_alias=alias)]


def _step_names(call: LogCall, name: str, step_dests: tuple[str, ...], suffix: str | None) -> list[Named]:
    return step_names(name, call.forked, call.spec.stage, step_dests, suffix is not None)


def metric_mapping(state: BuildState, call: LogCall, item: LogItem, out: list[Entry], step_dests: tuple[str, ...],
                   epoch_dests: tuple[str, ...], unsupported: bool) -> None:
    """A run-time mapping whose values may be Metric objects: ``KeyedMetrics`` aggregates each value and keeps
    each Metric, and hands back the step value Lightning logs for it (a Metric's last forward result, or None)."""
    if unsupported or call.sync or (call.dataloader_idx_param is not None and call.add_dataloader_idx):
        where = "in an epoch-level hook" if call.spec.kind == "epoch" else "with these options"
        raise Leave(MAPPING_UNKNOWN, f"`{_code(item.value)}` may hold Metric objects (the class tests isinstance(...,"
                    f" Metric)), which are migrated only as epoch values of a batch hook without sync_dist or a"
                    f" dataloader_idx, not {where}: log each Metric with its own self.log call")
    mapping = item.value
    if not is_simple(mapping):
        local = state.names.local_in(call.function, mapping_base(mapping))
        out.append(f"{local} = {plain(mapping)}")
        mapping_code = local
    else:
        mapping_code = _code(mapping)
    name, value = state.names.loop_variables(call.function)
    body: list[Statement] = []
    epoch_update(state, call, item, value, body, epoch_dests, key=name, base=mapping_base(mapping),
                 metric_values=True)
    if call.on_step:
        body.append(Block(f"if {value} is not None:", tuple(mapping_step_puts(call, name, value, step_dests))))
        state.record(call, item, _step_names(call, item.name, step_dests, None), call.hook)
    out.append(Block(f"for {name}, {value} in {mapping_code}.items():", tuple(body)))
