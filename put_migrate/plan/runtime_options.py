"""Options given as expressions (``prog_bar=n.endswith("_loss")``, ``sync_dist=sync_metrics``): the call is
rewritten once per value of the expressions, and an ``if`` on them, where the call was, chooses at run time."""

from __future__ import annotations

from dataclasses import replace

from put_migrate.analyze import LogCall
from put_migrate.plan.state import BuildState, Leave
from put_migrate.plan.statements import Block, IfChain, Statement, braces, quote
from put_migrate.rules import OPTION_NOT_LITERAL


def option_runs(members: list[LogCall]) -> list[list[LogCall]]:
    """The variants of a statement grouped by way it runs: those that differ only in the assumed option values."""
    runs: dict[tuple, list[LogCall]] = {}
    for call in members:
        key = (call.hook, call.bindings, call.via, call.in_loop)
        runs.setdefault(key, []).append(call)
    return list(runs.values())


def option_chain(variants: list[LogCall], codes: list[list[Statement]]) -> list[Statement]:
    """One branch per combination of option values (most options true first; all false is the ``else``), or the
    code itself when every combination gives the same code. Lightning reads each option as a truth value, and
    ``None`` for on_step/on_epoch as the hook's default; a reduce_fx given as an expression chooses first."""
    if variants[0].reduce_expression is not None:
        return _reduction_chain(variants, codes)
    by_values: dict[tuple[bool, ...], list[Statement]] = {}
    expressions: tuple[str, ...] = ()
    for index, (call, code) in enumerate(zip(variants, codes)):
        read = tuple(_truth(call, option, expression) for option, expression, _ in call.conditions)
        if index and read != expressions:  # callers that give a helper different options (``**kwargs``)
            raise Leave(OPTION_NOT_LITERAL, f"`{call.caller}` runs it in several ways with different options")
        expressions = read
        values = tuple(value for _, _, value in call.conditions)
        if by_values.setdefault(values, code) != code:
            raise Leave(OPTION_NOT_LITERAL, f"`{call.caller}` runs it in several ways with the same option values")
    return _chain(expressions, by_values)


def _reduction_chain(variants: list[LogCall], codes: list[list[Statement]]) -> list[Statement]:
    """One branch per reduction that gives its own code (``reduction_of`` reads reduce_fx as Lightning does), each
    with the chain of the other options' values inside; any other value is the ``else`` (Lightning raises)."""
    by_reduction: dict[str, tuple[list[LogCall], list[list[Statement]]]] = {}
    for call, code in zip(variants, codes):
        calls, their_codes = by_reduction.setdefault(call.reduce, ([], []))
        calls.append(call)
        their_codes.append(code)
    inner = {
        reduce: option_chain_of_flags(calls, their_codes) for reduce, (calls, their_codes) in by_reduction.items()
    }
    rejected = inner.pop("")
    read = f"reduction_of({variants[0].reduce_expression})"
    groups: list[tuple[list[str], list[Statement]]] = []
    for reduce, code in inner.items():
        same = next((g for g in groups if g[1] == code), None)
        if same is None:
            groups.append(([reduce], code))
        else:
            same[0].append(reduce)
    if len(groups) == 1:
        return [IfChain(((f"{read} is None", tuple(rejected)),)), *groups[0][1]]
    branches = [
        (f"{read} == {quote(reduces[0])}" if len(reduces) == 1 else f"{read} in ({', '.join(map(quote, reduces))})",
         tuple(code))
        for reduces, code in groups
    ]
    return [IfChain((*branches, (None, tuple(rejected))))]


def option_chain_of_flags(variants: list[LogCall], codes: list[list[Statement]]) -> list[Statement]:
    """The chain over the flags given as expressions alone (variants of one reduction)."""
    if len(variants) == 1:
        return codes[0]
    return option_chain([replace(c, reduce_expression=None) for c in variants], codes)


def _chain(expressions: tuple[str, ...], by_values: dict[tuple[bool, ...], list[Statement]]) -> list[Statement]:
    """The ``if`` chain over the value combinations; the last expression (sync_dist, when given, is last: it
    only chooses how the same values are reduced) becomes an inner ``if`` of each branch, and an inner choice
    that makes no difference disappears (the rejected combination raises whatever the rest is)."""
    if len({repr(code) for code in by_values.values()}) == 1:
        return next(iter(by_values.values()))
    if len(expressions) > 1:
        outer: dict[tuple[bool, ...], dict[tuple[bool, ...], list[Statement]]] = {}
        for values, code in by_values.items():
            outer.setdefault(values[:-1], {})[values[-1:]] = code
        by_values = {values: _chain(expressions[-1:], inner) for values, inner in outer.items()}
        expressions = expressions[:-1]
    branches = []
    for values in sorted(by_values, key=lambda v: -sum(v)):
        true = [e for e, v in zip(expressions, values) if v]
        true = [f"({e})" if len(true) > 1 and " or " in e else e for e in true]
        branches.append((" and ".join(true) or None, tuple(by_values[values])))
    return [IfChain(tuple(branches))]


def _truth(call: LogCall, option: str, expression: str) -> str:
    """The expression's truth as Lightning reads the option: ``None`` means the hook's default for on_step/on_epoch
    (a default of False needs nothing: ``None`` is false)."""
    assert call.spec is not None
    default = {"on_step": call.spec.default_on_step, "on_epoch": call.spec.default_on_epoch}.get(option, False)
    return f"{expression} is None or {expression}" if default else expression


def raise_statement(state: BuildState, call: LogCall) -> list[Statement]:
    """The variant for option values Lightning rejects: Lightning's own exception and message."""
    state.imports.add((f"{state.analysis.cls.package}.utilities.exceptions", "MisconfigurationException"))
    statement = f"raise MisconfigurationException({quote(call.raises or '')})"
    if call.raises_value is not None:  # Lightning's message names the value it rejects
        before, after = (braces(part) for part in (call.raises or "").split("{}", 1))
        statement = f'raise MisconfigurationException(f"{before}{{{call.raises_value}}}{after}")'
    if call.spec is not None and call.spec.stage == "predict":  # Lightning's log returns first under barebones
        return [Block(f"if not {call.trainer}.barebones:", (statement,))]
    return [statement]
