"""Option literals of a log call: the boolean flags, on_step/on_epoch as the hook resolves them, and reduce_fx."""

from __future__ import annotations

import builtins

import libcst as cst

from put_migrate.analyze.arguments import Arguments
from put_migrate.analyze.literals import code_of, is_none, literal_bool, literal_name, literal_str
from put_migrate.hooks import HookSpec
from put_migrate.lightning_classes import ImportMap, dotted_name
from put_migrate.rules import (
    OPTION_NOT_LITERAL,
    STEP_EPOCH_AT_RUN_TIME,
    STEP_EPOCH_REJECTED,
    UNKNOWN_REDUCTION,
    Problem,
)

FLAGS = ("prog_bar", "logger", "on_step", "on_epoch", "sync_dist", "add_dataloader_idx", "rank_zero_only")
_NONE_IS_DEFAULT = ("logger", "on_step", "on_epoch")  # flags for which a literal None means "not given"
_DROPPED = ("enable_graph", "metric_attribute")  # no-ops (§0); only a literal keeps the drop obviously safe

_REDUCE_STRINGS = {"mean": "mean", "avg": "mean", "sum": "sum", "max": "max", "min": "min"}
_REDUCE_CALLABLES = {
    "torch.mean": "mean",
    "torch.sum": "sum",
    "torch.max": "max",
    "torch.min": "min",
}
_REDUCE_BUILTINS = {"sum": "sum", "max": "max", "min": "min"}


# Flags whose expression the rewrite can test where the call was (on_step/on_epoch: names or attribute chains).
RUNTIME_FLAGS = ("prog_bar", "logger", "on_step", "on_epoch", "add_dataloader_idx", "sync_dist")


def runtime_flags(args: Arguments) -> list[tuple[str, cst.BaseExpression]]:
    """The flags among ``RUNTIME_FLAGS`` given as expressions (Lightning reads them as truth values)."""
    found = []
    for option in RUNTIME_FLAGS:
        node = args.get(option)
        if node is None or literal_bool(node) is not None or is_none(node) or literal_str(node) is not None:
            continue
        if option in ("on_step", "on_epoch") and not cheap(node):
            continue
        found.append((option, node))
    return found


def cheap(node: cst.BaseExpression) -> bool:
    """A name or attribute chain, or an item of a name by a literal key (``kwargs["on_step"]``), possibly
    negated: evaluating it again changes nothing."""
    if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Not):
        node = node.expression
    if (
        isinstance(node, cst.Subscript)
        and isinstance(node.value, cst.Name)
        and len(node.slice) == 1
        and isinstance(node.slice[0].slice, cst.Index)
        and literal_str(node.slice[0].slice.value) is not None
    ):
        return True
    return dotted_name(node) is not None


def known_flags(args: Arguments, truths: tuple[tuple[str, bool], ...]) -> dict[str, bool]:
    """The flags given as a name the caller bound to a literal True/False (``on_step=train``), or its ``not``."""
    if not truths:
        return {}
    values = dict(truths)
    known: dict[str, bool] = {}
    for option in FLAGS:
        node = args.get(option)
        negated = isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Not)
        inner = node.expression if negated and isinstance(node, cst.UnaryOperation) else node
        if isinstance(inner, cst.Name) and inner.value in values:
            known[option] = values[inner.value] != negated
    return known


def flags(args: Arguments, assumed: dict[str, bool] | None = None) -> dict[str, bool] | Problem:
    """The flags given as literal ``True``/``False`` (or whose value a variant assumes, ``assumed``); or why one
    is not a literal (PM203, PM202)."""
    options: dict[str, bool] = {}
    for option in FLAGS:
        node = args.get(option)
        if assumed and option in assumed:
            options[option] = assumed[option]
            continue
        if node is None or (is_none(node) and option in _NONE_IS_DEFAULT):
            continue
        value = literal_bool(node)
        if value is None:
            rule = STEP_EPOCH_AT_RUN_TIME if option in ("on_step", "on_epoch") else OPTION_NOT_LITERAL
            return rule.problem(f"{option}={code_of(node)}")
        options[option] = value
    for option in _DROPPED:
        node = args.get(option)
        if node is not None and literal_bool(node) is None and literal_str(node) is None and not is_none(node):
            return OPTION_NOT_LITERAL.problem(f"{option}={code_of(node)}")
    return options


def step_and_epoch(options: dict[str, bool], spec: HookSpec, hook: str) -> tuple[bool, bool] | Problem:
    """(on_step, on_epoch) with the hook's defaults; or why Lightning rejects the combination (PM213)."""
    on_step = options.get("on_step", spec.default_on_step)
    on_epoch = options.get("on_epoch", spec.default_on_epoch)
    if not on_step and not on_epoch:
        return STEP_EPOCH_REJECTED.problem("on_step=False and on_epoch=False")
    if spec.epoch_only and (on_step or not on_epoch):
        return STEP_EPOCH_REJECTED.problem(f"`{hook}` only accepts on_step=False, on_epoch=True")
    return on_step, on_epoch


REDUCTIONS = ("mean", "sum", "max", "min")
# Lightning's message for a reduce_fx it does not accept; the value it found follows (RES _parse_reduce_fx).
REDUCE_FX_REJECTED = (
    "Only `self.log(..., reduce_fx={min,max,mean,sum})` are supported."
    " If you need a custom reduction, please log a `torchmetrics.Metric` instance instead."
    " Found: {}"
)


def epoch_only_rejection(options: dict[str, bool], hook: str) -> tuple[str, str] | None:
    """In a hook that logs only on_epoch: Lightning's message for the on_step/on_epoch values a variant assumes,
    with ``{}`` where it names the value, and the option it names (on_step is checked first); None if accepted."""
    if options.get("on_step", False):
        return f"You can't `self.log(on_step={{}})` inside `{hook}`, must be one of (False,).", "on_step"
    if not options.get("on_epoch", True):
        return f"You can't `self.log(on_epoch={{}})` inside `{hook}`, must be one of (True,).", "on_epoch"
    return None


def runtime_reduction(args: Arguments, env: dict[str, str], imports: ImportMap) -> cst.BaseExpression | None:
    """reduce_fx held in a variable or attribute (a name bound by no import, ``self.x``): Lightning reads its value
    at run time. A literal, an imported function or a builtin is known here (a reduction, or PM209)."""
    node = args.get("reduce_fx")
    if node is None or not isinstance(reduction(args, env, imports), Problem) or dotted_name(node) is None:
        return None
    if imports.qualify(node) is not None:
        return None
    if isinstance(node, cst.Name) and (node.value in env or hasattr(builtins, node.value)):
        return None
    return node


def reduction(args: Arguments, env: dict[str, str], imports: ImportMap) -> str | Problem:
    """reduce_fx as one of "mean", "sum", "max", "min"; or why it is none of Lightning's reductions (PM209)."""
    if "reduce_fx" not in args:
        return "mean"
    node = args["reduce_fx"]
    text = literal_name(node, env)
    qualified = imports.qualify(node)
    if text is not None and text.lower() in _REDUCE_STRINGS:
        return _REDUCE_STRINGS[text.lower()]
    if qualified in _REDUCE_CALLABLES:
        return _REDUCE_CALLABLES[qualified]
    if isinstance(node, cst.Name) and node.value in _REDUCE_BUILTINS and qualified is None:
        return _REDUCE_BUILTINS[node.value]
    return UNKNOWN_REDUCTION.problem(f"reduce_fx={code_of(node)}")
