"""What a call needs from its hook's arguments: the Trainer, the batch (batch weight), the dataloader_idx."""

from __future__ import annotations

import ast
import textwrap
from dataclasses import replace

import libcst as cst

from put_migrate.analyze.calls import Found
from put_migrate.analyze.context import Context
from put_migrate.analyze.literals import code_of
from put_migrate.analyze.model import LogCall, LogItem
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
    if context.dataloader_idx_rebound:
        return None  # the running dataloader's (``dataloader_idx_expression``)
    return DATALOADER_IDX_UNSUPPORTED.problem(f"`{context.hook}` reassigns the `*args` that holds its dataloader_idx")


def may_share_names(found: Found, function: cst.FunctionDef, context: Context) -> bool:
    """Whether an ``add_dataloader_idx=False`` call may log one name from several dataloaders: Lightning raises at
    the call that logs a name without the suffix from a second dataloader, in that run or a later run of the same
    loop, which the rewrite then checks at run time (``shim.check_name_without_dataloader_idx``). Not so in a hook
    without dataloader_idx (one dataloader), nor for a call of the hook's own body only under
    ``if <dataloader_idx> == <int>:``, where the hook never rebinds its dataloader_idx and the int is not its default
    (a run of one dataloader passes none: the default would log the name with no dataloader index). Another call of
    the hook logging the same name is settled with the whole class (``names_shared_across_calls``)."""
    if context.dataloader_idx_name is None and not context.dataloader_idx_missing:
        return False
    if context.via is not None or context.dataloader_idx_name is None or "[" in context.dataloader_idx_name:
        return True
    index = context.dataloader_idx_name
    default = _default_of(function, index)
    return _rebinds(function, index) or not _only_under_one_dataloader(
        function, found.statement or found.call, index, default
    )


def _default_of(function: cst.FunctionDef, name: str) -> cst.BaseExpression | None:
    params = [*function.params.posonly_params, *function.params.params]
    return next((p.default for p in params if p.name.value == name), None)


def _rebinds(function: cst.FunctionDef, name: str) -> bool:
    """Something in ``function`` (an assignment, a ``for`` or ``with`` target, ``:=``, ``del``...) binds ``name``."""
    parsed = ast.parse(textwrap.dedent(code_of(function)))
    return any(
        isinstance(node, ast.Name) and node.id == name and not isinstance(node.ctx, ast.Load)
        or isinstance(node, (ast.Global, ast.Nonlocal)) and name in node.names
        for node in ast.walk(parsed)
    )


def _only_under_one_dataloader(
    function: cst.FunctionDef, node: cst.CSTNode, index: str, default: cst.BaseExpression | None
) -> bool:
    """``node`` is in the body of an ``if <index> == <int>:`` of ``function``, with an int other than ``default``."""

    def one_dataloader(test: cst.BaseExpression) -> bool:
        if not isinstance(test, cst.Comparison) or len(test.comparisons) != 1:
            return False
        (target,) = test.comparisons
        sides = (test.left, target.comparator)
        number = next((s for s in sides if isinstance(s, cst.Integer)), None)
        return (
            isinstance(target.operator, cst.Equal)
            and any(isinstance(s, cst.Name) and s.value == index for s in sides)
            and number is not None
            and (default is None or _differs(default, number))
        )

    return any(
        isinstance(branch, cst.If) and one_dataloader(branch.test) and contains(branch.body, node)
        for branch in find_all(function, lambda n: isinstance(n, cst.If))
    )


def _differs(default: cst.BaseExpression, number: cst.Integer) -> bool:
    return isinstance(default, cst.Integer) and default.evaluated_value != number.evaluated_value


def names_shared_across_calls(calls: list[LogCall]) -> list[LogCall]:
    """``calls`` with each ``add_dataloader_idx=False`` call left unchecked by ``may_share_names`` checked where
    another call of its hook (under another dataloader, or unguarded) may log one of its names without the suffix:
    Lightning files both under one key and raises at the one that logs it from a second dataloader."""
    unsuffixed = [c for c in calls if not c.add_dataloader_idx and c.dataloader_idx_param is not None]
    shared: set[int] = set()
    for call in unsuffixed:
        if call.names_shared_by_dataloaders:
            continue
        if any(
            other.hook == call.hook and other.call is not call.call and _may_log_one_name(call, other)
            for other in unsuffixed
        ):
            shared.add(id(call))
    return [replace(c, names_shared_by_dataloaders=True) if id(c) in shared else c for c in calls]


def _may_log_one_name(first: LogCall, second: LogCall) -> bool:
    def names(call: LogCall) -> set[str] | None:  # None: only known at run time
        if any(i.name_expression is not None or i.dynamic or i.runtime_name for i in call.items):
            return None
        return {i.name for i in call.items}

    one, other = names(first), names(second)
    return one is None or other is None or bool(one & other)


def dataloader_idx_expression(context: Context, trainer: str) -> str | None:
    """How the call names its hook's dataloader_idx: the helper's or hook's own name for it, or, in a helper the
    hook does not pass it to or a hook that rebinds it, the index of the dataloader the loop is running."""
    if context.dataloader_idx_missing and (context.via is not None or context.dataloader_idx_rebound):
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
