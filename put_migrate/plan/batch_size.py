"""One ``batch_size = extract_batch_size(batch)`` per function whose updates are weighed by it more than once."""

from __future__ import annotations

import libcst as cst

from put_migrate.analyze import LogCall
from put_migrate.plan.state import BuildState
from put_migrate.plan.statements import batch_size_updates
from put_migrate.plan.syntax import block_path


def hoist_batch_size(state: BuildState, calls: list[LogCall]) -> None:
    """Lightning infers the batch size once per batch: a function with two or more updates weighted by
    ``extract_batch_size(batch)`` gets one ``batch_size = extract_batch_size(batch)`` before the first of them."""
    by_function: dict[int, list[LogCall]] = {}
    for call in calls:
        if call.problem is None and call.batch_param is not None and id(call.statement) in state.replacements:
            by_function.setdefault(id(call.function), []).append(call)
    for members in by_function.values():
        function = members[0].function
        params = {c.batch_param for c in members}
        if len(params) != 1 or not isinstance(function.body, cst.IndentedBlock):
            continue
        param = params.pop()
        keys = list(dict.fromkeys(id(c.statement) for c in members))
        if sum(batch_size_updates(s, param) for k in keys for s in state.replacements[k]) < 2:
            continue
        first = min(members, key=lambda c: (c.line, c.column))
        path = block_path(list(function.body.body), first.statement)
        if not path:
            continue
        top_body, top_index = path[0]
        local = state.names.local_in(function, "batch_size")
        for key in keys:
            state.batch_size_locals[key] = local
        state.insertions.setdefault(id(top_body[top_index]), []).append(f"{local} = extract_batch_size({param})")
