"""One name logged on_epoch from an eval batch hook and from the stage's ``on_*_epoch_end`` (NeMo: ``val_loss`` from
``validation_step`` and from ``multi_validation_epoch_end``).

Lightning keeps the two apart (its key is the hook and the name) and builds its dicts in the order the keys were
first logged, so the later key wins wherever both have a value: after the epoch hook, ``callback_metrics``, the
epoch logger call and ``validate()``/``test()`` results hold the epoch hook's value; before it (a callback's
``on_validation_epoch_end``) the batch hook's mean. The migrated code puts the batch hook's mean in the compute
hook (before any epoch-end hook) and the epoch hook's value after it, so the last put is the same one, as long as
the batch hook's call was logged first: it must run in every batch (no ``if``, loop or early ``return`` around it,
nor around the helper call that reaches it). Forked names, ``add_dataloader_idx=False`` and hooks that another
hook of their stage, or a helper, also calls are left as they were; a hook re-entered from another stage's hook
(``test_step`` -> ``self.validation_step(...)``) still runs in every batch of its own.
"""

from __future__ import annotations

from collections.abc import Sequence

import libcst as cst

from put_migrate.analyze import ClassAnalysis, LogCall
from put_migrate.analyze.context import HelperCall, helper_callers
from put_migrate.hooks import HOOKS
from put_migrate.walk import visit


def epoch_end_wins(members: Sequence[LogCall], runs_every_batch: set[int]) -> bool:
    """Whether the calls of one (stage, name) are eval batch-hook calls logged in every batch and calls of the
    stage's ``on_*_epoch_end``: the epoch hook's value is then the one Lightning keeps, as the migrated code does."""
    if not members or members[0].spec is None:
        return False
    stage = members[0].spec.stage
    end = f"on_{stage}_epoch_end"
    if stage not in ("validation", "test") or end not in {c.hook for c in members}:
        return False
    batch = [c for c in members if c.hook != end]
    return bool(batch) and all(
        c.spec is not None and c.spec.kind == "batch" and not c.forked and c.add_dataloader_idx
        and id(c) in runs_every_batch
        for c in batch
    )


def batch_calls_in_every_batch(analysis: ClassAnalysis, calls: Sequence[LogCall]) -> set[int]:
    """id(call) of the batch-hook calls that run in every call of their hook: the statement, and each helper call
    on the way from the hook, is a top-level statement of its function with no ``return``/``raise`` before it."""
    found: set[int] = set()
    callers: dict[str, list[HelperCall]] | None = None
    for call in calls:
        if call.spec is None or call.spec.kind != "batch" or call.statement is None:
            continue
        if call.caller_class is not None:
            continue  # a subclass's hook calls the helper: its calls are not read here (not known to run every batch)
        if not _unconditional(call.function, call.statement):
            continue
        if callers is None:
            callers = helper_callers(analysis.cls, analysis.methods)
        if call.via is None and not _reentered_from_other_stages(call, callers.get(call.function.name.value, [])):
            continue  # a hook another hook of its stage (or a helper) calls too: its every-batch run is not its own
        if call.via is not None:
            if " -> " in call.via:
                continue  # a chain of helpers: not followed
            reaching = [c for c in callers.get(call.via, []) if c.hook == call.hook]
            if not reaching or not all(
                c.call is not None and _unconditional(c.hook_function, c.call) for c in reaching
            ):
                continue
        found.add(id(call))
    return found


def _reentered_from_other_stages(call: LogCall, reaching: list[HelperCall]) -> bool:
    """Lightning's own run of a hook that other methods also call (``test_step`` -> ``self.validation_step(...)``)
    still logs in every batch of its stage, as long as each caller is a hook of another stage: its runs there are
    the call's variants of that stage, checked on their own."""
    assert call.spec is not None
    return all(
        caller.hook in HOOKS and HOOKS[caller.hook].stage != call.spec.stage
        for caller in reaching
    )


def _unconditional(function: cst.FunctionDef, node: cst.CSTNode) -> bool:
    """``node`` is in a top-level statement of ``function`` and no earlier top-level statement may leave it."""
    body = function.body
    if not isinstance(body, cst.IndentedBlock):
        return False
    for statement in body.body:
        if _contains(statement, node):
            return isinstance(statement, cst.SimpleStatementLine)
        if _may_leave(statement):
            return False
    return False


def _contains(tree: cst.CSTNode, node: cst.CSTNode) -> bool:
    found = False

    class Finder(cst.CSTVisitor):
        def on_visit(self, candidate: cst.CSTNode) -> bool:
            nonlocal found
            if candidate is node:
                found = True
            return not found

    tree.visit(Finder())
    return found


def _may_leave(statement: cst.BaseStatement) -> bool:
    """Whether the statement holds a ``return`` or ``raise`` of the function itself."""
    found = False

    class Exits(cst.CSTVisitor):
        def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
            return False

        def visit_Lambda(self, node: cst.Lambda) -> bool:
            return False

        def visit_ClassDef(self, node: cst.ClassDef) -> bool:
            return False

        def visit_Return(self, node: cst.Return) -> None:
            nonlocal found
            found = True

        def visit_Raise(self, node: cst.Raise) -> None:
            nonlocal found
            found = True

    visit(statement, Exits())
    return found
