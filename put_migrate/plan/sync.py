"""Synced step values: one ``reduce_step_values`` collective for neighbouring values with the same op and group."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Union

import libcst as cst

from put_migrate.analyze import LogCall, _code
from put_migrate.plan.state import BuildState
from put_migrate.plan.statements import Statement, is_simple
from put_migrate.plan.syntax import statement_positions


@dataclass(frozen=True)
class StepReduction:
    """One ``reduce_step_values`` call: the values of one or more synced step values with the same op and group."""

    trainer: str
    reduce_op: str
    group: str | None
    locals: tuple[str, ...]
    values: tuple[str, ...]
    simple: tuple[bool, ...]  # per value: a name, attribute or number (evaluating it again, later, is harmless)

    @property
    def key(self) -> tuple:
        return (self.trainer, self.reduce_op, self.group)

    def code(self) -> str:
        group = f", group={self.group}" if self.group is not None else ""
        targets = ", ".join(self.locals) if len(self.locals) > 1 else f"({self.locals[0]},)"
        values = ", ".join(self.values)
        return f'{targets} = reduce_step_values({self.trainer}, {values}, reduce_op="{self.reduce_op}"{group})'


@dataclass(frozen=True)
class SyncedItem:
    """The code of synced values: bindings, one packed reduction, then puts and updates of the reduced locals
    (which evaluate nothing of the user's, so later values may be evaluated before them)."""

    pre: tuple[Statement, ...]
    reduction: StepReduction
    post: tuple[Statement, ...]

    def merged(self, other: SyncedItem) -> SyncedItem:
        reduction = replace(
            self.reduction,
            locals=self.reduction.locals + other.reduction.locals,
            values=self.reduction.values + other.reduction.values,
            simple=self.reduction.simple + other.reduction.simple,
        )
        return SyncedItem(self.pre + other.pre, reduction, self.post + other.post)

    def lines(self) -> list[Statement]:
        return [*self.pre, self.reduction.code(), *self.post]


Entry = Union[Statement, SyncedItem]


def flatten(entries: list[Entry]) -> list[Statement]:
    return [line for e in entries for line in (e.lines() if isinstance(e, SyncedItem) else [e])]


def step_reduction(state: BuildState, call: LogCall, local: str, value: cst.BaseExpression) -> StepReduction:
    """A value with sync_dist reduced across ranks as Lightning's ``strategy.reduce`` of a clone does (RES:225,
    §5), through ``shim.reduce_step_values`` (numbers too; several values packed into one collective)."""
    state.imports.add(("shim", "reduce_step_values"))
    group = _code(call.sync_group) if call.sync_group is not None else None
    return StepReduction(call.trainer, call.reduce, group, (local,), (_code(value),), (is_simple(value),))


def pack(state: BuildState, entries: list[Entry], function: cst.FunctionDef) -> list[Entry]:
    """Consecutive synced items with the same trainer, op and group share one reduction."""
    packed: list[Entry] = []
    for entry in entries:
        previous = packed[-1] if packed else None
        if (
            isinstance(entry, SyncedItem)
            and isinstance(previous, SyncedItem)
            and previous.reduction.key == entry.reduction.key
        ):
            packed[-1] = merge(state, previous, entry, function)
        else:
            packed.append(entry)
    return packed


def merge(state: BuildState, first: SyncedItem, second: SyncedItem, function: cst.FunctionDef) -> SyncedItem:
    """``first`` and ``second`` reduced together. The values keep their order of evaluation: when ``second``
    binds its value first (it is used again), ``first``'s expressions are bound before it."""
    if second.pre and not all(first.reduction.simple):
        pre = list(first.pre)
        values = list(first.reduction.values)
        for index, (value, simple) in enumerate(zip(first.reduction.values, first.reduction.simple)):
            if not simple:
                local = state.names.local_in(function, first.reduction.locals[index])
                pre.append(f"{local} = {value if chr(10) not in value else f'({value})'}")
                values[index] = local
        reduction = replace(first.reduction, values=tuple(values), simple=tuple(True for _ in values))
        first = SyncedItem(tuple(pre), reduction, first.post)
    return first.merged(second)


def pack_statements(state: BuildState) -> None:
    """Neighbouring statements that only log synced values with the same op and group share one reduction
    (``a, b = reduce_step_values(self.trainer, x, y)``): one collective where Lightning runs one per value.
    The first statement evaluates every value, as the originals would in turn; the others keep their puts."""
    by_function: dict[int, list[int]] = {}
    functions: dict[int, cst.FunctionDef] = {}
    for key, (function, _) in state.packables.items():
        by_function.setdefault(id(function), []).append(key)
        functions[id(function)] = function
    for function_id, keys in by_function.items():
        if len(keys) < 2:
            continue
        positions = statement_positions(functions[function_id])
        ordered = sorted((positions[k], k) for k in keys if k in positions)
        runs: list[list[int]] = []
        for (block, index), key in ordered:
            if runs:
                (last_block, last_index), last_key = positions[runs[-1][-1]], runs[-1][-1]
                if (
                    last_block == block
                    and last_index == index - 1
                    and state.packables[last_key][1].reduction.key == state.packables[key][1].reduction.key
                ):
                    runs[-1].append(key)
                    continue
            runs.append([key])
        for run in runs:
            if len(run) < 2:
                continue
            items = [state.packables[key][1] for key in run]
            merged = items[0]
            for item in items[1:]:
                merged = merge(state, merged, item, functions[function_id])
            state.replacements[run[0]] = [*merged.pre, merged.reduction.code(), *items[0].post]
            for key, item in zip(run[1:], items[1:]):
                state.replacements[key] = list(item.post)
