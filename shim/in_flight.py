"""What Lightning reads from the loop for a ``self.log`` call: the batch in flight and its dataloader.

``self.log`` weights an epoch mean by the size of the batch the loop is running, in every hook and helper, whether
or not it receives that batch (semantics §3.3); and it suffixes names by the running dataloader. These functions
give migrated code the same two facts where the batch or the ``dataloader_idx`` is not at hand.

Private Lightning attributes read here (the same in Lightning 2.0 to 2.6): ``trainer._results`` (the active
``_ResultCollection``) and its ``batch``, ``batch_size`` and ``dataloader_idx``, which the loop sets in
``_LoggerConnector.on_batch_start`` and clears in ``on_batch_end``.
"""

from __future__ import annotations

import importlib
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
