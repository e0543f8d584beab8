"""What a call needs from its hook's arguments: the Trainer, the batch (batch weight), the dataloader_idx."""

from __future__ import annotations

import libcst as cst

from put_migrate.analyze.calls import Found
from put_migrate.analyze.context import Context
from put_migrate.analyze.model import LogItem
from put_migrate.analyze.scope import assigns_name, contains, positional_params
from put_migrate.hooks import HookSpec
from put_migrate.lightning_classes import LightningClass
from put_migrate.rules import BATCH_SIZE_UNKNOWN, DATALOADER_IDX_UNSUPPORTED, Problem
from put_migrate.walk import find_all


def trainer_expression(hook_function: cst.FunctionDef, cls: LightningClass) -> str:
    """How to reach the Trainer in the hook: ``self.trainer`` in a module, the trainer parameter in a Callback."""
    hook_params = positional_params(hook_function)
    trainer = "self.trainer" if cls.kind == "module" else (hook_params[1] if len(hook_params) > 1 else "trainer")
    star = hook_function.params.star_arg
    if cls.kind != "module" and len(hook_params) <= 1 and isinstance(star, cst.Param):
        trainer = f"{star.name.value}[0]"  # ``def on_..._batch_end(self, *args)``: the trainer comes first
    return trainer


class InFlight:
    """The weight is the size of the batch the loop is running, read at run time (``shim.batch_size_in_flight``):
    the call cannot name the hook's batch, which is where Lightning takes it from anyway (§3.3)."""

    def __repr__(self) -> str:
        return "IN_FLIGHT"


IN_FLIGHT = InFlight()


def batch_param(
    found: Found,
    function: cst.FunctionDef,
    context: Context,
    spec: HookSpec,
    needs_weight: bool,
    cls: LightningClass,
) -> str | None | InFlight | Problem:
    """The name of the hook's batch where the call is, when the epoch mean must be weighted by its size (§3.3);
    ``IN_FLIGHT`` where the batch is not at hand there (Lightning weights by the batch in flight all the same); or
    why the weight cannot be had (PM211: Lightning raises without ``batch_size=`` under ``dataloader_iter``)."""
    if not needs_weight or spec.kind == "epoch":
        return None
    hook = context.hook
    if _takes_dataloader_iter(context.hook_function) or (
        spec.stage == "train" and _takes_dataloader_iter(_method(cls, "training_step"))
    ):
        return BATCH_SIZE_UNKNOWN.problem(f"`{hook}` runs under a `dataloader_iter` step (Lightning needs batch_size=)")
    if found.nested or spec.kind == "step_other" or context.batch_name is None or context.batch_problem is not None:
        return IN_FLIGHT
    if context.via is not None and not _unbound_until(function, context.batch_name, found):
        return IN_FLIGHT  # rebound in the helper before the call: not the batch any more
    return context.batch_name


def _method(cls: LightningClass, name: str) -> cst.FunctionDef | None:
    """The class's own method ``name`` (its body, not its bases)."""
    for statement in cls.node.body.body:
        if isinstance(statement, cst.FunctionDef) and statement.name.value == name:
            return statement
    return None


def _takes_dataloader_iter(function: cst.FunctionDef | None) -> bool:
    return function is not None and "dataloader_iter" in positional_params(function)


def needs_weight(on_epoch: bool, reduce: str, batch_size: cst.BaseExpression | None, items: list[LogItem]) -> bool:
    """A mean over the epoch of some non-Metric value, without ``batch_size=``: weighted by the batch's size."""
    return on_epoch and reduce == "mean" and batch_size is None and any(i.metric is None for i in items)


def dataloader_idx_problem(context: Context, add_dataloader_idx: bool) -> Problem | None:
    """Why the hook's dataloader_idx cannot be reached where the call is (PM217), or None. A helper the hook does
    not pass it to reads the running one instead (``dataloader_idx_in_flight``)."""
    if not context.dataloader_idx_missing or not add_dataloader_idx or context.via is not None:
        return None
    return DATALOADER_IDX_UNSUPPORTED.problem(f"`{context.hook}` reassigns the `*args` that holds its dataloader_idx")


def may_share_names(found: Found, function: cst.FunctionDef, context: Context) -> bool:
    """Whether an ``add_dataloader_idx=False`` call may log one name from several dataloaders: Lightning raises at
    the call that logs a name without the suffix from a second dataloader, which the rewrite then checks at run time
    (``shim.check_name_without_dataloader_idx``). Not so in a hook without dataloader_idx (one dataloader), nor for a
    call only under ``if <dataloader_idx> == <int>:``."""
    if context.dataloader_idx_name is None and not context.dataloader_idx_missing:
        return False
    index = context.dataloader_idx_name.split("[", 1)[0] if context.dataloader_idx_name else None
    return index is None or not _only_under_one_dataloader(function, found.statement or found.call, index)


def _only_under_one_dataloader(function: cst.FunctionDef, node: cst.CSTNode, index: str) -> bool:
    """``node`` is in the body of an ``if <index> == <int>:`` of ``function``."""

    def one_dataloader(test: cst.BaseExpression) -> bool:
        if not isinstance(test, cst.Comparison) or len(test.comparisons) != 1:
            return False
        (target,) = test.comparisons
        sides = (test.left, target.comparator)
        return (
            isinstance(target.operator, cst.Equal)
            and any(isinstance(s, cst.Name) and s.value == index for s in sides)
            and any(isinstance(s, cst.Integer) for s in sides)
        )

    return any(
        isinstance(branch, cst.If) and one_dataloader(branch.test) and contains(branch.body, node)
        for branch in find_all(function, lambda n: isinstance(n, cst.If))
    )


def dataloader_idx_expression(context: Context, trainer: str) -> str | None:
    """How the call names its hook's dataloader_idx: the helper's or hook's own name for it, or, in a helper the
    hook does not pass it to, the index of the dataloader the loop is running."""
    if context.dataloader_idx_missing and context.via is not None:
        return f"{DATALOADER_IDX_IN_FLIGHT}({trainer})"
    return context.dataloader_idx_name


DATALOADER_IDX_IN_FLIGHT = "dataloader_idx_in_flight"


def _unbound_until(function: cst.FunctionDef, name: str, found: Found) -> bool:
    """``name`` keeps its value from the call of ``function`` until the log call: no statement of the body up to the
    one holding the call (that one included) assigns it, and the call is in no loop of ``function``."""
    if not assigns_name(function, name):
        return True
    if found.in_loop or not isinstance(function.body, cst.IndentedBlock) or found.statement is None:
        return False
    for statement in function.body.body:
        if assigns_name(statement, name):
            return False
        if statement is found.statement or contains(statement, found.statement):
            return True
    return False
