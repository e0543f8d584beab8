"""Argument binding: a log call's arguments by ``LightningModule.log``/``log_dict`` parameter name."""

from __future__ import annotations

from collections.abc import Sequence

import libcst as cst

from put_migrate.analyze.calls import Found
from put_migrate.analyze.literals import is_none
from put_migrate.rules import STAR_ARGUMENTS, Problem

LOG_PARAMS = (
    "name",
    "value",
    "prog_bar",
    "logger",
    "on_step",
    "on_epoch",
    "reduce_fx",
    "enable_graph",
    "sync_dist",
    "sync_dist_group",
    "add_dataloader_idx",
    "batch_size",
    "metric_attribute",
    "rank_zero_only",
)
LOG_DICT_PARAMS = ("dictionary",) + LOG_PARAMS[2:12] + ("rank_zero_only",)

Arguments = dict[str, cst.BaseExpression]


# A ``**name`` argument whose content is known: name -> its (keyword, value) items.
Expansions = dict[str, tuple[tuple[str, cst.BaseExpression], ...]]


def bind_args(call: cst.Call, names: Sequence[str], expansions: Expansions | None = None) -> Arguments | Problem:
    """The call's arguments by parameter name, or why they cannot be bound (PM201). ``**name`` is bound item
    by item where ``expansions`` knows its content."""
    bound: Arguments = {}
    for index, arg in enumerate(call.args):
        if arg.star == "**" and isinstance(arg.value, cst.Name) and expansions and arg.value.value in expansions:
            for keyword, value in expansions[arg.value.value]:
                if keyword not in names or keyword in bound:
                    return STAR_ARGUMENTS.problem(f"`**{arg.value.value}` holds `{keyword}`")
                bound[keyword] = value
            continue
        if arg.star:
            return STAR_ARGUMENTS.problem(f"`{arg.star}` argument")
        if arg.keyword is None:
            if index >= len(names):
                return STAR_ARGUMENTS.problem("too many positional arguments")
            bound[names[index]] = arg.value
        else:
            if arg.keyword.value not in names:
                return STAR_ARGUMENTS.problem(f"unknown argument `{arg.keyword.value}`")
            bound[arg.keyword.value] = arg.value
    return bound


def bind_found(found: Found, expansions: Expansions | None = None) -> Arguments | Problem:
    """The arguments of a found ``log`` or ``log_dict`` call."""
    return bind_args(found.call, LOG_PARAMS if found.method == "log" else LOG_DICT_PARAMS, expansions)


def name_argument(found: Found) -> cst.BaseExpression | None:
    """The expression naming what is logged (``name`` of log); None for log_dict or when it cannot be bound."""
    if found.method != "log":
        return None
    args = bind_args(found.call, LOG_PARAMS)
    return None if isinstance(args, Problem) else args.get("name")


def optional_argument(args: Arguments, name: str) -> cst.BaseExpression | None:
    """The argument ``name``; None when it is not given or is a literal ``None``."""
    node = args.get(name)
    return None if node is None or is_none(node) else node
