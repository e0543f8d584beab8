"""Options given as expressions (``prog_bar=n.endswith("_loss")``, ``sync_dist=sync_metrics``): the call is
rewritten once per value of the expressions, and an ``if`` on them, where the call was, chooses at run time."""

from __future__ import annotations

from put_migrate.analyze import LogCall
from put_migrate.plan.statements import IfChain, Statement


def option_runs(members: list[LogCall]) -> list[list[LogCall]]:
    """The variants of a statement grouped by way it runs: those that differ only in the assumed option values."""
    runs: dict[tuple, list[LogCall]] = {}
    for call in members:
        key = (call.hook, call.bindings, call.via, call.in_loop, call.batch_param, call.dataloader_idx_param)
        runs.setdefault(key, []).append(call)
    return list(runs.values())


def option_chain(variants: list[LogCall], codes: list[list[Statement]]) -> list[Statement]:
    """One branch per combination of option values (most options true first; all false is the ``else``), or the
    code itself when every combination gives the same code. Lightning reads each option as a truth value."""
    by_values: dict[tuple[bool, ...], list[Statement]] = {}
    expressions: tuple[str, ...] = ()
    for call, code in zip(variants, codes):
        expressions = tuple(expression for _, expression, _ in call.conditions)
        by_values.setdefault(tuple(value for _, _, value in call.conditions), code)
    if len({tuple(map(repr, code)) for code in by_values.values()}) == 1:
        return next(iter(by_values.values()))
    branches = []
    for values in sorted(by_values, key=lambda v: -sum(v)):
        # Several expressions are names or attribute chains, possibly negated (analysis): no parentheses needed.
        true = [e for e, v in zip(expressions, values) if v]
        branches.append((" and ".join(true) or None, tuple(by_values[values])))
    return [IfChain(tuple(branches))]
