"""Values averaged over one call of the running epoch-level hook, wherever in the module they are logged.

``self.log`` in ``on_validation_epoch_end`` (and in every method that hook runs: an override a base class's hook
dispatches to, once per dataloader, say) keeps one mean per name over the whole call, weighted by ``batch_size``
(1 when not given), and computes it where Lightning next extracts its metrics: after the hook returns, or when a
reader asks for ``trainer.callback_metrics`` inside it (semantics §2, §3.3). ``hook_value(self, name, value,
destinations)`` adds one value to that mean. The router keeps the running hook's values with the put records of
its result collection, so they start afresh exactly where Lightning's do (the collection's reset), and computes and
stores them at each extraction, before merging the put records. A ``HookValues`` local does the same for values
that one function logs; this is for values that several functions of one hook call log, in one class or several.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from shim import routing
from shim.metrics import HookValues
from shim.put import to_put_tensor


class RunningHookValues(HookValues):
    """The values of one epoch-level hook's calls since its result collection was reset; computed (and synced,
    where asked) only for the names updated since the last extraction."""

    def __init__(self, owner: Any) -> None:
        super().__init__(owner)
        self._changed: set[str] = set()

    def update(self, name: str, value: Any, destinations: Iterable[str], **options: Any) -> None:
        super().update(name, value, destinations, **options)
        self._changed.add(name)

    def flush(self, records: Any, results: Any) -> None:
        """Store the current value of each name updated since the last call, in first-logged order."""
        if not self._changed:
            return
        for name, options in self._options.items():
            if name in self._changed:
                value = to_put_tensor(name, self._keyed[options][name].compute(), self.owner)
                routing.store_epoch_value(records, results, name, value, frozenset(options[0]))
        self._changed.clear()


def hook_value(
    module: Any,
    name: str,
    value: Any,
    destinations: Iterable[str],
    *,
    reduce: str = "mean",
    sync: bool = False,
    group: Any = None,
    weight: Any = 1,
) -> None:
    """Add ``value`` to the mean (or ``reduce``) of ``name`` over the running epoch-level hook's call, as
    ``self.log(name, value, ...)`` there does; ``weight`` is ``batch_size``. Where no trainer runs a hook the value
    is put as it is."""
    records = routing.running_hook_records(module)
    if records is None:
        module.put(name, value, destinations)
        return
    fx = module._current_fx_name
    running = records.hooks.get(fx)
    if running is None:
        running = records.hooks[fx] = RunningHookValues(module)
    running.update(name, value, destinations, reduce=reduce, sync=sync, group=group, weight=weight)
