"""Calls of a class whose ``log`` forwards to Lightning's only under a condition (analyze/log_guard.py): the code
of each statement runs under that condition, as the original call did."""

from __future__ import annotations

from put_migrate.plan.state import BuildState
from put_migrate.plan.statements import Block, Statement


def under_guard(state: BuildState, key: int, code: list[Statement]) -> list[Statement]:
    """``code`` under ``if <guard>:`` where the class has a guard. The guard reads attributes of ``self`` only, so
    neighbouring guarded statements may share one ``if`` (they are marked as dispatches, which render merges);
    a sync reduction is not packed with a neighbour's (each is under its own evaluation of the guard)."""
    guard = state.analysis.log_guard
    if guard is None or not code:
        return code
    state.packables.pop(key, None)
    state.dispatches.add(key)
    return [Block(f"if {guard}:", tuple(code))]
