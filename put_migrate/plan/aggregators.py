"""Epoch values: the aggregator each one updates, and the compute-hook statements that put its value."""

from __future__ import annotations

from put_migrate.analyze import LogCall, LogItem, _code
from put_migrate.hooks import COMPUTE_HOOKS
from put_migrate.plan.batch_end_pair import later_hook
from put_migrate.plan.model import Aggregator
from put_migrate.plan.state import BuildState, Leave
from put_migrate.plan.statements import Block, Statement, Update, epoch_names, named_put, put_call
from put_migrate.rules import NAME_AGGREGATED_TWICE, OPTION_NOT_LITERAL

_AGGREGATORS = {"mean": "Mean", "sum": "Sum", "max": "Max", "min": "Min"}


def epoch_update(state: BuildState, call: LogCall, item: LogItem, value_code: str, out: list[Statement],
                 epoch_dests: tuple[str, ...], key: str | None = None, base: str | None = None,
                 recorded: LogItem | None = None, metric_values: bool = False) -> None:
    """The aggregator update of an epoch value; ``key`` (an expression) selects a ``Keyed`` aggregator's name
    (``recorded``: the item the reports name, when ``item`` is the ``Keyed``'s shared slot). ``metric_values``:
    the values may be Metric objects, kept by a ``KeyedMetrics``; ``value_code`` (a local) is rebound to the
    step value it returns."""
    stage = call.spec.stage
    if call.sync_group is not None and call.sync:
        # The aggregator is built in __init__, where the group expression of a hook may not exist yet.
        raise Leave(OPTION_NOT_LITERAL, f"sync_dist_group={_code(call.sync_group)} for an epoch value")
    per_dataloader = call.dataloader_idx_param is not None and call.add_dataloader_idx
    slot: tuple = (stage, item.name)
    kind = _AGGREGATORS[call.reduce]
    group = _code(call.sync_group) if call.sync_group is not None and call.sync else None
    wanted = Aggregator(
        "", stage, item.name, kind, call.sync, group, per_dataloader, call.forked, epoch_dests, call.hook,
        keyed=key is not None, metric_values=metric_values,
    )
    if (stage, item.name) in state.per_hook:
        slot = (stage, item.name, call.hook)  # Lightning keeps each hook's result (plan/batch_end_pair.py)
    if call.conditions or call.reduce_expression is not None:
        # Each combination of option values gets its own aggregator; only the one updated this epoch is put.
        slot = (stage, item.name, wanted.signature())
    aggregator = state.aggregators.get(slot)
    if aggregator is None:
        late = (stage, item.name) in state.per_hook and later_hook(call)
        base = f"{base or item.name}_{call.hook}" if late else base
        wanted.attr = state.names.new_attr(_variant_name(call, base or item.name, wanted), call.reduce)
        aggregator = state.aggregators[slot] = wanted
        if late:  # put after the step hook's value, which it replaces where updated, as in Lightning
            state.late_compute.setdefault(stage, []).extend(aggregator_compute(state, aggregator))
        else:
            state.add_compute(stage, aggregator_compute(state, aggregator))
        _add_imports(state, wanted)
    elif aggregator.signature() != wanted.signature():
        raise Leave(NAME_AGGREGATED_TWICE, f"{item.name!r} is logged with different options")
    shown = recorded if recorded is not None else item
    state.record(
        call, shown, epoch_names(shown.name, aggregator.forked, aggregator.destinations, per_dataloader),
        COMPUTE_HOOKS[stage], f"Keyed({kind})" if aggregator.keyed else kind, f"self.{aggregator.attr}",
    )
    target = f"self.{aggregator.attr}"
    if per_dataloader:
        target += f"[{state.dataloader_idx(call)}]"
    if key is not None:
        target += f"[{key}]"
    if metric_values:
        assert key is not None and not per_dataloader
        weight = "" if kind != "Mean" else f", weight={_weight_code(state, call)}"
        update = f"self.{aggregator.attr}.update({key}, {value_code}{weight})"
        out.append(f"{value_code} = {update}" if call.on_step else update)
        state.add_reset(stage, aggregator.attr)
    elif kind != "Mean":
        out.append(Update(target, value_code))
    elif call.batch_size is not None and call.batch_size_optional:
        out.append(Update(target, value_code, weight=_weight_code(state, call)))
    elif call.batch_size is not None:
        out.append(Update(target, value_code, weight=_code(call.batch_size)))
    elif call.batch_param is not None:
        out.append(Update(target, value_code, batch_param=call.batch_param))
        state.imports.add((f"{state.analysis.cls.package}.utilities.data", "extract_batch_size"))
    elif call.weight_in_flight:
        out.append(Update(target, value_code, weight=f"batch_size_in_flight({call.trainer})"))
        state.imports.add(("shim", "batch_size_in_flight"))
    else:
        out.append(Update(target, value_code))


def _weight_code(state: BuildState, call: LogCall) -> str:
    """The weight of a mean: ``batch_size``; inferred as Lightning infers it where none is given, or where the
    given one (read from a dict the function built) is None at run time."""
    inferred = None
    if call.batch_param is not None:
        inferred = f"extract_batch_size({call.batch_param})"
        state.imports.add((f"{state.analysis.cls.package}.utilities.data", "extract_batch_size"))
    elif call.weight_in_flight:
        inferred = f"batch_size_in_flight({call.trainer})"
        state.imports.add(("shim", "batch_size_in_flight"))
    if call.batch_size is None:
        return inferred or "1"
    given = _code(call.batch_size)
    if not call.batch_size_optional or inferred is None:
        return given
    return f"{given} if {given} is not None else {inferred}"


def _variant_name(call: LogCall, base: str, aggregator: Aggregator) -> str:
    """An aggregator of one combination of option values given as expressions is named after that combination."""
    given = {option for option, _, _ in call.conditions}
    parts = [base]
    if given & {"on_step", "on_epoch"} and aggregator.forked:
        parts.append("forked")
    if "sync_dist" in given and aggregator.sync:
        parts.append("synced")
    if "prog_bar" in given and "progress_bar" in aggregator.destinations:
        parts.append("prog_bar")
    if "logger" in given and "loggers" not in aggregator.destinations:
        parts.append("no_logger")
    return "_".join(parts)


def _add_imports(state: BuildState, aggregator: Aggregator) -> None:
    state.imports.add(("shim.metrics", aggregator.kind))
    if aggregator.keyed:
        state.imports.add(("shim.metrics", "KeyedMetrics" if aggregator.metric_values else "Keyed"))
        if aggregator.sync or aggregator.per_dataloader:
            state.imports.add(("functools", ""))  # ``import functools``
    if aggregator.per_dataloader:
        state.imports.add(("shim.metrics", "PerDataloader"))
        if aggregator.sync:
            state.imports.add(("functools", ""))  # a partial pickles (ddp_spawn), a lambda would not


def aggregator_compute(state: BuildState, agg: Aggregator) -> list[Statement]:
    """The compute-hook statements of an aggregator: put its value (once updated) and reset it."""
    if agg.keyed:
        tail = "{suffix}" if agg.per_dataloader else ""
        plain = f'f"{{name}}{tail}"' if tail else "name"
        body: tuple[Statement, ...] = (
            put_call(f'f"{{name}}_epoch{tail}"', "aggregator.compute()", agg.destinations, callback_alias=plain)
            if agg.forked else put_call(plain, "aggregator.compute()", agg.destinations),
        )

        def loop(container: str) -> Block:
            if agg.metric_values:  # reset where Lightning resets logged Metrics (a Reset of the container)
                return Block(f"for name, aggregator in {container}.items():",
                             (Block("if aggregator.update_called:", tuple(body)),))
            return Block(
                f"for name, aggregator in {container}.items():",
                (Block("if aggregator.update_called:", body), "aggregator.reset()"),
            )

        if not agg.per_dataloader:
            return [loop(f"self.{agg.attr}")]
        # One Keyed container per dataloader; PerDataloader gives the suffix Lightning adds (§2).
        return [Block(f"for suffix, aggregators in self.{agg.attr}.items({state.hook_trainer}):",
                      (loop("aggregators"),))]
    if agg.per_dataloader:
        # Lightning adds "/dataloader_idx_N" only with several eval dataloaders (§2); PerDataloader knows.
        names = epoch_names(agg.name, agg.forked, agg.destinations, suffixed=True)
        return [Block(
            f"for suffix, aggregator in self.{agg.attr}.items({state.hook_trainer}):",
            (Block("if aggregator.update_called:", (named_put(names, "aggregator.compute()", "suffix"),)),
             "aggregator.reset()"),
        )]
    return guarded_compute(f"self.{agg.attr}", agg.name, agg.forked, agg.destinations, reset=True)


def guarded_compute(target: str, name: str, forked: bool, destinations: tuple[str, ...], *, reset: bool,
                    guard: str | None = None) -> list[Statement]:
    """Put ``target.compute()`` as ``name`` (forked: ``name_epoch``, and ``name`` for callbacks) if it was updated
    (or ``guard`` holds)."""
    put = named_put(epoch_names(name, forked, destinations), f"{target}.compute()")
    statements: list[Statement] = [Block(f"if {guard or f'{target}.update_called'}:", (put,))]
    if reset:
        statements.append(f"{target}.reset()")
    return statements
