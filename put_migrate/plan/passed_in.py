"""A logged ``self.m`` that holds what a caller passed in (``self.m = m`` in ``__init__``): a Metric or a value.

Lightning decides per call: a torchmetrics ``Metric`` is logged as a Metric object (its forward value on step,
``compute()`` at epoch end, its own reset; ``reduce_fx``, ``batch_size`` and ``sync_dist`` unused), anything else as
a value (aggregated, synced). The rewrite makes the same decision at run time with ``isinstance(self.m, Metric)``:
the Metric arm is what a Metric attribute gets (plan/metrics.py), the value arm what a value gets (plan/tensor.py),
and the compute-hook puts and the reset of the Metric arm run only where the attribute holds a Metric.
"""

from __future__ import annotations

from dataclasses import replace

import libcst as cst

from put_migrate.analyze import LogCall, LogItem, MetricInfo
from put_migrate.lightning_classes import dotted_name
from put_migrate.plan.metrics import metric_item
from put_migrate.plan.state import BuildState, Leave
from put_migrate.plan.statements import Block, IfChain, Statement, Update
from put_migrate.plan.sync import Entry, flatten
from put_migrate.plan.tensor import tensor_item
from put_migrate.rules import ATTRIBUTE_OF_UNKNOWN_TYPE, METRIC_STEP_VALUE_UNKNOWN
from put_migrate.walk import find_all

_TORCHMETRICS_METRIC = ("torchmetrics.Metric", "torchmetrics.metric.Metric")


def passed_in_item(state: BuildState, call: LogCall, item: LogItem, out: list[Entry], step_dests: tuple[str, ...],
                   epoch_dests: tuple[str, ...]) -> None:
    """The code of one passed-in value: ``if isinstance(self.m, Metric):`` the Metric's code, ``else:`` the value's."""
    assert isinstance(item.value, cst.Attribute) and call.spec is not None
    attr = item.value.attr.value
    stage = call.spec.stage
    test = f"isinstance(self.{attr}, {_metric_name(state, attr)})"
    computed = len(state.compute.get(stage, []))
    metric_code: list[Entry] = []
    try:
        metric_item(state, call, replace(item, metric=MetricInfo(attr), passed_in=False), metric_code, step_dests,
                    epoch_dests)
    except Leave as leave:
        if leave.problem.code != METRIC_STEP_VALUE_UNKNOWN.code:
            raise
        raise Leave(ATTRIBUTE_OF_UNKNOWN_TYPE, f"self.{attr} (assigned a parameter: a Metric or a value) logged on "
                    f"step in `{call.hook}`, where no self.{attr}(...) call before it gives a Metric's step value"
                    ) from None
    if computed < len(state.compute.get(stage, [])):  # the Metric's epoch puts: only where it is one
        added = state.compute[stage][computed:]
        state.compute[stage][computed:] = [_guarded(test, s) for s in added]
    resets = [replace(r, when=test) if r.attr == attr else r for r in state.resets.get(stage, [])]
    state.resets[stage] = list(dict.fromkeys(resets))  # one reset, however many calls log the attribute
    value_code: list[Entry] = []
    tensor_item(state, call, replace(item, passed_in=False), value_code, step_dests, epoch_dests)
    metric_arm, value_arm = tuple(flatten(metric_code)), tuple(_unhoisted(s) for s in flatten(value_code))
    if metric_arm and value_arm:
        out.append(IfChain(((test, metric_arm), (None, value_arm))))
    elif value_arm:
        out.append(Block(f"if not {test}:", value_arm))
    elif metric_arm:
        out.append(Block(f"if {test}:", metric_arm))


def passed_in_check(state: BuildState, call: LogCall, item: LogItem) -> None:
    """Leave (PM220) the calls whose two arms this module cannot write exactly."""
    assert isinstance(item.value, cst.Attribute) and call.spec is not None
    attr = f"self.{item.value.attr.value}"
    spec = call.spec
    reason = None
    if item.name_expression is not None:
        reason = "under a name computed at run time"
    elif call.conditions or call.reduce_expression is not None or call.raises is not None:
        reason = "with options given as expressions"
    elif call.dataloader_idx_param is not None and call.add_dataloader_idx:
        reason = f"in `{call.hook}`, which takes a dataloader_idx"
    elif (id(call.function) in state.hook_values or id(call.function) in state.hook_scoped or call.in_loop
          or _collects_already(call)):
        reason = f"among the values `{call.hook}` collects"
    elif (spec.stage, item.name) in state.per_hook or any(
        other.statement is not call.statement and other.problem is None and other.spec is not None
        and other.spec.stage == spec.stage and any(i.name == item.name for i in other.items)
        for other in state.analysis.calls
    ):
        reason = f"under a name {item.name!r} also logged by another call"
    if reason is not None:
        raise Leave(ATTRIBUTE_OF_UNKNOWN_TYPE, f"{attr} (assigned a parameter: a Metric or a value) logged {reason}")


def _collects_already(call: LogCall) -> bool:
    """The function holds a ``HookValues`` the codemod wrote: its other calls were collected in an earlier run,
    where this call was left (a second run leaves it too)."""
    calls = find_all(call.function, lambda node: isinstance(node, cst.Call))
    return any(isinstance(node, cst.Call) and dotted_name(node.func) == "HookValues" for node in calls)


def _metric_name(state: BuildState, attr: str) -> str:
    """The name torchmetrics' ``Metric`` has in the module: its import, or ``Metric`` imported for the test."""
    imports = state.analysis.imports
    bound = imports.names.get("Metric") if imports is not None else None
    if bound in _TORCHMETRICS_METRIC:
        return "Metric"
    if bound is None:
        state.imports.add(("torchmetrics", "Metric"))
        return "Metric"
    raise Leave(ATTRIBUTE_OF_UNKNOWN_TYPE,
                f"self.{attr} (assigned a parameter: a Metric or a value), where `Metric` names {bound}, not "
                "torchmetrics' Metric")


def _guarded(test: str, statement: Statement) -> Statement:
    """``statement`` run only where ``test`` holds; an ``if`` gets it joined to its condition."""
    if isinstance(statement, Block) and statement.header.startswith("if "):
        return Block(f"if {test} and {statement.header[3:]}", statement.body)
    return Block(f"if {test}:", (statement,))


def _unhoisted(statement: Statement) -> Statement:
    """A mean's update weighed by ``extract_batch_size(batch)`` in place: Lightning infers no batch size for a
    Metric, so the inference stays in the value's arm (plan/batch_size.py hoists only updates it can see)."""
    if isinstance(statement, Update) and statement.batch_param is not None:
        return Update(statement.target, statement.value, weight=f"extract_batch_size({statement.batch_param})")
    if isinstance(statement, Block):
        return Block(statement.header, tuple(_unhoisted(s) for s in statement.body))
    return statement
