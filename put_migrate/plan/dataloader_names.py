"""``add_dataloader_idx=False`` where several dataloaders may log one name: Lightning files such a value under the
hook and name alone, and raises at the call that logs the name from a second dataloader (in that run or a later
run of the same loop). The rewrite checks each name where Lightning would, with the shim's
``check_name_without_dataloader_idx``, which raises Lightning's own exception with Lightning's message."""

from __future__ import annotations

from put_migrate.analyze import LogCall
from put_migrate.plan.state import BuildState, Leave
from put_migrate.plan.statements import is_simple, quote
from put_migrate.rules import SAME_NAME_FROM_DATALOADERS


def name_check(state: BuildState, call: LogCall, name: str) -> str:
    """The check of the name ``name`` (an expression evaluated once) before the call's value is filed."""
    state.imports.add(("shim", "check_name_without_dataloader_idx"))
    return f"check_name_without_dataloader_idx({call.trainer}, {quote(call.hook)}, {name})"


def check_supported(call: LogCall) -> None:
    """Leave a call whose names would need checking where the rewrite has no place for the check: a Metric object
    (computed and put elsewhere), a synced value (Lightning raises before the reduction the rewrite packs), a dict
    display whose values are computed (the rewrite would compute them between the checks)."""
    if not call.names_shared_by_dataloaders:
        return
    detail = f"{', '.join(repr(i.name) for i in call.items)} from every dataloader of `{call.hook}`"
    if any(item.metric is not None for item in call.items):
        raise Leave(SAME_NAME_FROM_DATALOADERS, f"{detail} (a Metric object)")
    if call.sync:
        raise Leave(SAME_NAME_FROM_DATALOADERS, f"{detail} (with sync_dist=True)")
    if call.method == "log_dict" and any(not i.dynamic and not is_simple(i.value) for i in call.items):
        # Lightning evaluates the whole dict before it files (and checks) the first name.
        raise Leave(SAME_NAME_FROM_DATALOADERS, f"{detail} (a value of the dict is computed in the call)")
