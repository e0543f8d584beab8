"""The code of one log statement: each call's items by kind, and an ``if`` chain between variants that differ."""

from __future__ import annotations

from put_migrate.analyze import LogCall
from put_migrate.plan.dataloader_names import check_supported
from put_migrate.plan.hook_scope import scoped_value_code
from put_migrate.plan.hook_values import hook_value_code
from put_migrate.plan.mapping import mapping_item
from put_migrate.plan.metrics import collection_item, metric_item
from put_migrate.plan.passed_in import passed_in_check, passed_in_item
from put_migrate.plan.runtime_options import option_chain, option_runs, raise_statement
from put_migrate.plan.state import BuildState, Leave
from put_migrate.plan.statements import IfChain, Statement, destinations, quote
from put_migrate.plan.sync import Entry, SyncedItem, flatten, pack
from put_migrate.plan.tensor import tensor_item
from put_migrate.rules import DATALOADER_IDX_UNSUPPORTED, EPOCH_VALUE_IN_LOOP, NOT_A_HOOK

_STAGE_ORDER = ("train", "test", "predict", "validation")


def rewrite_statement(state: BuildState, members: list[LogCall]) -> list[Statement]:
    """The code for one log statement. A statement that runs in several ways (a helper reached from several
    hooks or with several literal arguments, a loop over literal names) gets one branch per distinct rewrite,
    chosen by the literal argument that tells them apart, else by the trainer's running stage."""
    function = members[0].function
    before = state.names.snapshot(function)
    taken: set[str] = set()
    runs = option_runs(members)  # the variants of one run differ only in options given as expressions
    members = [variants[0] for variants in runs]
    codes: list[list[Statement]] = []
    packables: list[SyncedItem | None] = []
    for variants in runs:
        variant_codes = []
        for call in variants:
            state.names.restore(function, before)  # branches may reuse a local name
            code, packable = rewrite_call(state, call)
            variant_codes.append(code)
            taken |= state.names.taken_in(function)
        if len(variants) > 1:
            code, packable = option_chain(variants, variant_codes), None
        codes.append(code)
        packables.append(packable)
    state.names.take(function, taken)
    groups: list[tuple[list[LogCall], list[Statement]]] = []
    for call, code in zip(members, codes):
        for group_calls, group_code in groups:
            if group_code == code:
                group_calls.append(call)
                break
        else:
            groups.append(([call], code))
    if len(groups) == 1:
        if packables[0] is not None:
            state.packables[id(members[0].statement)] = (function, packables[0])
        return groups[0][1]
    state.dispatches.add(id(members[0].statement))
    return [_without_trailing_empty(_dispatch(groups, state))]


def _without_trailing_empty(chain: IfChain) -> IfChain:
    """The chain without its last branches that do nothing (variants where the call has no code left, such as a
    Metric logged on_epoch only, whose work is in the compute hook): no ``elif ...: pass``."""
    branches = list(chain.branches)
    while len(branches) > 1 and not branches[-1][1]:
        branches.pop()
    return IfChain(tuple(branches))


def _dispatch(groups: list[tuple[list[LogCall], list[Statement]]], state: BuildState) -> IfChain:
    members = [call for group_calls, _ in groups for call in group_calls]
    variables = set.intersection(*(set(dict(c.bindings)) for c in members))
    chain = _binding_chain(groups, frozenset(variables))
    if chain is not None:
        return chain
    stages = [{c.spec.stage for c in group_calls} for group_calls, _ in groups]
    if all(len(s) == 1 for s in stages) and len({next(iter(s)) for s in stages}) == len(groups):
        # The hook that runs decides the stage; Trainer.training/testing tell it (validation: also sanity check).
        trainer = members[0].trainer
        conditions = {"train": f"{trainer}.training", "test": f"{trainer}.testing",
                      "predict": f"{trainer}.predicting", "validation": None}
        order = sorted(range(len(groups)), key=lambda i: _STAGE_ORDER.index(next(iter(stages[i]))))
        last = len(order) - 1
        return IfChain(tuple(
            (conditions[next(iter(stages[i]))] if index < last else None, tuple(groups[i][1]))
            for index, i in enumerate(order)
        ))
    chain = _hook_dispatch(groups, stages, state)
    if chain is not None:
        return chain
    hooks = sorted({c.caller for c in members})
    raise Leave(
        NOT_A_HOOK,
        f"`{members[0].via}` logs differently for {', '.join(hooks)}, and no literal argument tells the callers "
        "apart",
    )


def _binding_chain(groups: list[tuple[list[LogCall], list[Statement]]], variables: frozenset[str]) -> IfChain | None:
    """Branches told apart by the literal arguments: by one variable whose values partition the groups, else by
    one variable first and the others within each of its values (``mode`` then ``key`` of a helper logging
    ``f"{mode}_{key}"``); None when the literal arguments do not tell every group apart."""
    for variable in sorted(variables):
        values = [{dict(c.bindings)[variable] for c in group_calls} for group_calls, _ in groups]
        if sum(len(v) for v in values) == len(set().union(*values)):
            branches = []
            for value_set, (_, code) in zip(values, groups):
                ordered = sorted(value_set)
                if len(ordered) == 1:
                    condition = f"{variable} == {quote(ordered[0])}"
                else:
                    condition = f"{variable} in ({', '.join(quote(v) for v in ordered)})"
                branches.append((condition, tuple(code)))
            return IfChain(tuple(branches))
    members = [call for group_calls, _ in groups for call in group_calls]
    by_count = sorted(variables, key=lambda v: (len({dict(c.bindings)[v] for c in members}), v))
    for variable in by_count:
        values = sorted({dict(c.bindings)[variable] for c in members})
        if len(values) < 2:
            continue
        branches = []
        for value in values:
            within = [([c for c in group_calls if dict(c.bindings)[variable] == value], code)
                      for group_calls, code in groups]
            within = [(group_calls, code) for group_calls, code in within if group_calls]
            inner = (within[0][1] if len(within) == 1
                     else _binding_chain(within, variables - {variable}))
            if inner is None:
                break
            body = tuple(inner) if isinstance(inner, list) else (inner,)
            branches.append((f"{variable} == {quote(value)}", body))
        else:
            return IfChain(tuple(branches))
    return None


def rewrite_call(state: BuildState, call: LogCall) -> tuple[list[Statement], SyncedItem | None]:
    """The code of one call, and its one packed reduction when that is all it is (it may share a neighbour's)."""
    spec = call.spec
    assert spec is not None and call.statement is not None
    for item in call.items:
        if item.passed_in:
            passed_in_check(state, call, item)  # before the paths below, which take it for a value
    if call.reduce_expression is not None:
        state.imports.add(("shim", "reduction_of"))
    if call.raises is not None:
        return raise_statement(state, call), None
    stage = spec.stage
    out: list[Entry] = []
    step_dests = destinations(callbacks=stage == "train", loggers=call.logger, progress_bar=call.prog_bar)
    epoch_dests = destinations(callbacks=True, loggers=call.logger, progress_bar=call.prog_bar)
    per_dataloader = call.dataloader_idx_param is not None and call.add_dataloader_idx
    if per_dataloader and any(item.metric is not None and not item.metric.collection for item in call.items):
        # One Metric object for every dataloader: Lightning computes it per dataloader key as it goes (§2).
        raise Leave(
            DATALOADER_IDX_UNSUPPORTED, f"a Metric object logged in `{call.hook}`, which takes a dataloader_idx"
        )
    check_supported(call)
    if spec.kind == "epoch" and id(call.function) in state.hook_scoped:
        return scoped_value_code(state, call), None
    if id(call.function) in state.hook_values:
        return hook_value_code(state, call), None
    if spec.kind == "epoch" and call.in_loop:
        raise Leave(EPOCH_VALUE_IN_LOOP, f"in a loop in `{call.hook}`")
    collections: set[str] = set()
    for item in call.items:
        if item.metric is not None and item.metric.collection:
            collection_item(state, call, item, out, step_dests, epoch_dests, collections)
        elif item.metric is not None:
            metric_item(state, call, item, out, step_dests, epoch_dests)
        elif item.passed_in:
            passed_in_item(state, call, item, out, step_dests, epoch_dests)
        elif item.dynamic:
            mapping_item(state, call, item, out, step_dests, epoch_dests)
        else:
            tensor_item(state, call, item, out, step_dests, epoch_dests)
    packed = pack(state, out, call.function)
    packable = packed[0] if len(packed) == 1 and isinstance(packed[0], SyncedItem) else None
    return flatten(packed), packable


def _hook_dispatch(groups: list[tuple[list[LogCall], list[Statement]]], stages: list[set[str]], state: BuildState
                   ) -> IfChain | None:
    """Variants of a module's statement that one stage's hooks run differently (``validation_step`` and
    ``on_validation_batch_end``, plan/batch_end_pair.py): within a stage, the running hook tells them apart."""
    if state.callback or not all(len(s) == 1 for s in stages):
        return None
    hooks = [{c.hook for c in group_calls} for group_calls, _ in groups]
    if any(a & b for i, a in enumerate(hooks) for b in hooks[i + 1:]):
        return None
    trainer = groups[0][0][0].trainer
    conditions = {"train": f"{trainer}.training", "test": f"{trainer}.testing",
                  "predict": f"{trainer}.predicting", "validation": None}
    stage_of = [next(iter(s)) for s in stages]
    order = sorted(range(len(groups)), key=lambda i: (_STAGE_ORDER.index(stage_of[i]), sorted(hooks[i])))
    branches = []
    for index, i in enumerate(order):
        last_of_stage = all(stage_of[j] != stage_of[i] for j in order[index + 1:])
        if index == len(order) - 1:
            condition = None
        elif last_of_stage:
            condition = conditions[stage_of[i]]
            if condition is None:
                return None  # validation, told by no flag, can only be the last branch
        else:
            state.imports.add(("shim", "running_hook"))
            names = sorted(hooks[i])
            condition = (f"running_hook(self) == {quote(names[0])}" if len(names) == 1
                         else f"running_hook(self) in ({', '.join(quote(n) for n in names)})")
        branches.append((condition, tuple(groups[i][1])))
    return IfChain(tuple(branches))
