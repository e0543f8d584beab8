"""One name logged on_epoch from an eval step hook and from the stage's ``on_*_batch_end`` (stable-diffusion's
``write_logs``, run by ``validation_step`` and, through ``log_images``, by a Callback's ``on_validation_batch_end``).

Lightning keeps one result per (hook, name) and builds its dicts in the order the keys were first logged, so the
later key wins where both were updated in the epoch: ``on_*_batch_end``'s mean when it logged in the epoch, else the
step hook's. The migrated code keeps one aggregator per hook and puts the step hook's mean first in the compute
hook, then the other's if it was updated. That order is Lightning's as long as the step hook's call was logged
first: one of the step hook's calls must run in every batch (``two_hooks.batch_calls_in_every_batch``, or through a
chain of helpers each reached by an unconditional call, ``chained_every_batch``). Forked names, several dataloaders,
options given as expressions and Metric objects are left as they were.
"""

from __future__ import annotations

from collections.abc import Sequence

import libcst as cst

from put_migrate.analyze import ClassAnalysis, LogCall
from put_migrate.analyze.context import helper_callers
from put_migrate.plan.two_hooks import _unconditional


def _hooks(stage: str) -> tuple[str, str]:
    return f"{stage}_step", f"on_{stage}_batch_end"


def batch_end_pair(members: Sequence[LogCall], runs_every_batch: set[int]) -> bool:
    """Whether the on_epoch calls of one (stage, name) are this pair: each hook's value is then kept apart."""
    if not members or members[0].spec is None:
        return False
    stage = members[0].spec.stage
    if stage not in ("validation", "test"):
        return False
    step, batch_end = _hooks(stage)
    if {c.hook for c in members} != {step, batch_end}:
        return False
    return any(c.hook == step and id(c) in runs_every_batch for c in members) and all(
        not c.forked and c.dataloader_idx_param is None and not c.conditions and c.reduce_expression is None
        and c.reduce == "mean" and all(item.metric is None and not item.dynamic for item in c.items)
        for c in members
    )


def chained_every_batch(analysis: ClassAnalysis, calls: Sequence[LogCall]) -> set[int]:
    """id(call) of the batch-hook calls reached through a chain of helpers (``hook -> a -> b``) where the statement
    and, in each function on the way, one call of the next are unconditional top-level statements."""
    found: set[int] = set()
    callers = None
    for call in calls:
        if (call.spec is None or call.spec.kind != "batch" or call.statement is None or call.via is None
                or call.caller_class is not None  # a subclass's hook calls the helper: not read here
                or " -> " not in call.via or call.hook not in analysis.methods
                or not _unconditional(call.function, call.statement)):
            continue
        if callers is None:
            callers = helper_callers(analysis.cls, analysis.methods)
        chain = call.via.split(" -> ")
        functions: list[cst.FunctionDef | None] = [analysis.methods.get(call.hook)]
        functions += [analysis.methods.get(name) for name in chain[:-1]]
        if all(
            caller is not None and any(
                c.call is not None and c.hook_function is caller
                and _unconditional(caller, c.call)
                for c in callers.get(callee, [])
            )
            for caller, callee in zip(functions, chain)
        ):
            found.add(id(call))
    return found


def later_hook(call: LogCall) -> bool:
    """The call's hook is the pair's ``on_*_batch_end``, whose value is put after the step hook's."""
    assert call.spec is not None
    return call.hook == _hooks(call.spec.stage)[1]
