"""A ``log_dict`` mapping whose keys are known only at run time, next to another epoch value of its stage that may
have one of its names: another such mapping (sgm's ``inner_training_step``: the autoencoder's and the
discriminator's dicts, in two arms of one ``training_step``, both hold ``"train/loss/total"``), a name computed at
run time, or a literal name (``self.log("val/loss/rec", ...)`` next to ``self.log_dict(loss_dict)``).

Lightning keeps one value per (hook, name): with the same options the calls' values of a name are averaged into one
mean; with other options the second call raises. A mapping alone gets a ``Keyed`` of its own (``mapping_item``);
where calls of the same batch hook with the same options may log one of its keys, the mapping and those calls
update the hook's shared ``Keyed`` instead (``runtime_names.shared_slot``, where names computed at run time go), a
literal name under its string (as ``name_collisions`` does for run-time names). Where anything else may coincide
with a key by the known parts of both names (a call of another hook of the stage, other options, a Metric object,
options given as expressions), the mapping and every call that may log one of its keys are left (PM214). A mapping
whose keys have no known part counts as holding a name only for the shared ``Keyed`` (as left names count only by
their literal parts): with other options Lightning would raise if a key were the name, so a module that trains
never logs one.
"""

from __future__ import annotations

from dataclasses import replace

import libcst as cst

from put_migrate.analyze import LogCall, LogItem, _code
from put_migrate.analyze.branches import mutually_exclusive
from put_migrate.plan.hook_scope import _disjoint, _parts
from put_migrate.plan.mapping_keys import comprehension_key
from put_migrate.plan.name_collisions import _meta
from put_migrate.plan.statements import quote
from put_migrate.plan.two_hooks import epoch_end_wins
from put_migrate.rules import NAME_AGGREGATED_TWICE

_Parts = list[str | None]


def share_mappings(calls: list[LogCall], collected: set[int], every_batch: set[int]) -> list[LogCall]:
    """``calls`` with each run-time-keyed mapping that may share a name with another epoch value of its stage put
    through its hook's shared ``Keyed`` together with the values that may share it, or left with them (PM214).
    Nothing more is needed for calls of an epoch-level hook whose values are ``collected`` (``HookValues``,
    ``hook_value``: averaged per name), or that sit in exclusive arms of one ``if`` chain (one value per call of the
    hook), nor for an eval batch hook's call logged in every batch and the stage's ``on_*_epoch_end``
    (``every_batch``, ``two_hooks``: the epoch hook's value wins in Lightning's dicts, as in the migrated code)."""
    mappings = [c for c in calls if _epoch(c) and any(i.dynamic for i in c.items)]
    if not mappings:
        return calls
    # id(call) -> the calls it may share a name with through a mapping, and the items concerned.
    partners: dict[int, list[LogCall]] = {}
    items: dict[int, set[int]] = {}  # id(call) -> ids of its items that may be a key of a mapping
    bad: dict[int, str] = {}
    for mapping in mappings:
        for other in calls:
            if other is mapping or not _epoch(other) or _stage(other) != _stage(mapping):
                continue
            if other.statement is not None and other.statement is mapping.statement:
                continue  # variants of one statement: one aggregator slot
            shared = shared_items(mapping, other)
            if not shared or _collected_together(mapping, other, collected) or epoch_end_wins(
                [mapping, other], every_batch
            ) or (_meta(mapping) == _meta(other) and one_per_invocation(mapping, other)):
                continue
            why = _unshareable(mapping, other, [item for item, _, _ in shared])
            if why is not None and not any(strong for _, _, strong in shared):
                continue  # the names coincide only if a key with no known part does (as for left names)
            partners.setdefault(id(mapping), []).append(other)
            partners.setdefault(id(other), []).append(mapping)
            if why is None:
                items.setdefault(id(other), set()).update(id(i) for i, _, _ in shared)
                items.setdefault(id(mapping), set()).update(id(i) for i in mapping.items if i.dynamic)
            else:
                text = f"a key of {_mapping_code(mapping)} may be {shared[0][1]}, also logged on_epoch {why}"
                bad.setdefault(id(mapping), text)
                bad.setdefault(id(other), text)
    if not partners:
        return calls
    # A call left as self.log(_dict) keeps its values in Lightning's results, where a put of a name it may share
    # would not land: whatever may share a name with it through a mapping is left too.
    grown = True
    while grown:
        grown = False
        for key in list(bad):
            for other in partners.get(key, ()):
                if id(other) not in bad:
                    bad[id(other)] = f"it may log a key of a mapping logged with a call left here ({bad[key]})"
                    grown = True
    out = []
    for call in calls:
        if id(call) in bad:
            call = replace(call, problem=NAME_AGGREGATED_TWICE.problem(bad[id(call)]))
        elif id(call) in items:
            call = replace(call, items=tuple(
                _through_shared(item) if id(item) in items[id(call)] else item for item in call.items
            ))
        out.append(call)
    return out


def _through_shared(item: LogItem) -> LogItem:
    if item.dynamic:
        return replace(item, shared_keyed=True)
    if item.name_expression is None:  # a literal name: under its string, in the shared Keyed
        return replace(item, name_expression=cst.SimpleString(quote(item.name)))
    return item


def _epoch(call: LogCall) -> bool:
    return call.problem is None and call.spec is not None and call.on_epoch


def _stage(call: LogCall) -> str:
    assert call.spec is not None
    return call.spec.stage


def _mapping_code(call: LogCall) -> str:
    code = _code(next(i for i in call.items if i.dynamic).value)
    return f"`{code}`" if "\n" not in code else "a mapping"


def shared_items(mapping: LogCall, other: LogCall) -> list[tuple[LogItem, str, bool]]:
    """The items of ``other`` whose names may be keys of ``mapping``, each with that name as text and whether the
    known parts of both tell so (a mapping whose keys have no known part may hold any name: only sharing one
    ``Keyed`` reads it so; a name computed at run time is always told, as ``runtime_conflicts`` did)."""
    keys = _key_parts(mapping)
    found: list[tuple[LogItem, str, bool]] = []
    for item in other.items:
        if item.dynamic:
            theirs = _key_parts(other)
            if keys is None or theirs is None or any(not _disjoint(a, b) for a in keys for b in theirs):
                found.append((item, f"a key of {_mapping_code(other)}", keys is not None and theirs is not None))
        elif item.name_expression is not None or item.runtime_name:
            expression = item.name_expression if item.name_expression is not None else cst.parse_expression(item.name)
            parts = _parts(expression, dict(other.bindings))
            if keys is None or any(not _disjoint(a, parts) for a in keys):
                # A literal name put through a shared Keyed (name_collisions) is still the literal it is.
                literal = isinstance(expression, cst.SimpleString)
                found.append((item, _code(expression), keys is not None or not literal))
        elif item.metric is not None and item.metric.collection and item.metric.keys is None:
            if keys is None or any(not _disjoint(a, [None]) for a in keys):
                found.append((item, f"a name of `self.{item.metric.attr}`", keys is not None))
        elif keys is None or any(not _disjoint(a, [item.name]) for a in keys):
            found.append((item, repr(item.name), keys is not None))
    return found


def _key_parts(call: LogCall) -> list[_Parts] | None:
    """The keys the call's mapping may have, each as literal texts and None for any text; None for any key."""
    item = next(i for i in call.items if i.dynamic)
    if item.known_keys is not None:
        return [[key] for key in item.known_keys]
    key = comprehension_key(call.function, call.statement, item.value)
    return None if key is None else [_parts(key, {})]


def same_meta(first: LogCall, second: LogCall) -> bool:
    return _meta(first) == _meta(second)


def one_per_invocation(mapping: LogCall, other: LogCall) -> bool:
    """Two calls of an epoch-level hook's own function in exclusive arms of one ``if`` chain, outside loops: one call
    of the hook runs one of them (``planner._one_per_invocation``)."""
    return (
        mapping.spec is not None and mapping.spec.kind == "epoch" and other.function is mapping.function
        and not mapping.in_loop and not other.in_loop and mapping.statement is not None and other.statement is not None
        and mutually_exclusive(mapping.function, [mapping.statement, other.statement])
    )


def _collected_together(mapping: LogCall, other: LogCall, collected: set[int]) -> bool:
    """Two calls of one epoch-level hook whose values a ``HookValues`` averages per name (and checks as Lightning
    does)."""
    return (
        mapping.hook == other.hook and mapping.spec is not None and mapping.spec.kind == "epoch"
        and id(mapping.function) in collected and id(other.function) in collected
    )


def _unshareable(mapping: LogCall, other: LogCall, shared: list[LogItem]) -> str | None:
    """Why the two calls' values of the names they may share cannot update one ``Keyed`` of their hook, or None:
    it takes the same batch hook and options (Lightning's metadata), literal options, and tensor values."""
    if other.hook != mapping.hook:
        return f"in {other.hook}"
    if _meta(other) != _meta(mapping):
        return "with other options"
    for call in (mapping, other):
        if call.spec is None or call.spec.kind == "epoch":
            return f"in {call.hook}, an epoch-level hook"
        if call.raises is not None or call.conditions or call.reduce_expression is not None:
            return "with options given as expressions"
        if call.sync_group is not None or call.metric_values:
            return "where the values cannot share one aggregator"
    if any(item.metric is not None or item.passed_in for item in shared):
        return "as a Metric object"
    return None
