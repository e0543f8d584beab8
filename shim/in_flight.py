"""What Lightning reads from the loop for a ``self.log`` call: the batch in flight and its dataloader.

``self.log`` weights an epoch mean by the size of the batch the loop is running, in every hook and helper, whether
or not it receives that batch (semantics §3.3); and it suffixes names by the running dataloader. These functions
give migrated code the same two facts where the batch or the ``dataloader_idx`` is not at hand, and raise where
Lightning raises for a name logged without the dataloader suffix from a second dataloader.

Private Lightning attributes read here (the same in Lightning 2.0 to 2.6): ``trainer._results`` (the active
``_ResultCollection``) and its ``batch``, ``batch_size`` and ``dataloader_idx``, which the loop sets in
``_LoggerConnector.on_batch_start`` and clears in ``on_batch_end``.
"""

from __future__ import annotations

import importlib
import weakref
from collections.abc import Callable
from typing import Any

_EXTRACTORS: dict[str, Callable[[Any], int]] = {}


def _extract_batch_size(trainer: Any) -> Callable[[Any], int]:
    """``extract_batch_size`` of the Lightning package the trainer comes from (``lightning.pytorch`` or
    ``pytorch_lightning``): the inference ``self.log`` uses."""
    package = type(trainer).__module__.split(".trainer", 1)[0]
    extract = _EXTRACTORS.get(package)
    if extract is None:
        extract = _EXTRACTORS[package] = importlib.import_module(f"{package}.utilities.data").extract_batch_size
    return extract


def batch_size_in_flight(trainer: Any) -> int:
    """The weight ``self.log`` gives an epoch mean here when no ``batch_size=`` is passed.

    As ``_ResultCollection._extract_batch_size``: the size already inferred for this batch, else
    ``extract_batch_size`` of the batch the loop is running (cached for the rest of the batch, as Lightning caches
    it), else 1 where no batch is in flight (epoch-level hooks, or no trainer running).
    """
    results = getattr(trainer, "_results", None)
    if results is None:
        return 1
    if results.batch_size is not None:
        return results.batch_size
    if results.batch is None:
        return 1
    size = results.batch_size = _extract_batch_size(trainer)(results.batch)
    return size


def dataloader_idx_in_flight(trainer: Any) -> int:
    """The index of the eval dataloader the loop is running: the ``dataloader_idx`` Lightning passes to eval
    batch hooks, 0 where it passes none (one dataloader, or the training loop)."""
    results = getattr(trainer, "_results", None)
    index = None if results is None else results.dataloader_idx
    return 0 if index is None else index


# Per active ``_ResultCollection`` (one per loop, kept for the trainer's life, as Lightning's keys are): the
# dataloader that first filed each (hook, name) logged with ``add_dataloader_idx=False``.
_FIRST_DATALOADER: dict[int, dict[tuple[str, str], int | None]] = {}


def check_name_without_dataloader_idx(trainer: Any, hook: str, name: str) -> None:
    """Raise Lightning's error where ``self.log(name, ..., add_dataloader_idx=False)`` in ``hook`` would.

    Lightning files such a value under ``"<hook>.<name>"`` whatever dataloader runs, keeping the metadata of the first
    call, the running ``dataloader_idx`` included; a call from another dataloader has other metadata and raises
    ``MisconfigurationException`` (``_ResultCollection.log``), in that run or any later run of the same loop.
    """
    results = getattr(trainer, "_results", None)
    if results is None:
        return
    seen = _FIRST_DATALOADER.get(id(results))
    if seen is None:
        seen = _FIRST_DATALOADER[id(results)] = {}
        weakref.finalize(results, _FIRST_DATALOADER.pop, id(results), None)
    first = seen.setdefault((hook, name), results.dataloader_idx)
    if first != results.dataloader_idx:
        package = type(trainer).__module__.split(".trainer", 1)[0]
        error = importlib.import_module(f"{package}.utilities.exceptions").MisconfigurationException
        raise error(
            f"You called `self.log({name}, ...)` twice in `{hook}` with different arguments. This is not allowed"
        )
