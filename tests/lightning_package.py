"""The Lightning package the runtime tests train with: ``PUT_MIGRATE_LIGHTNING`` when set (the compatibility
stage sets it), else ``lightning.pytorch``, else ``pytorch_lightning`` where only that one is installed."""

from __future__ import annotations

import importlib
import importlib.util
import os


def _chosen() -> str:
    if os.environ.get("PUT_MIGRATE_LIGHTNING"):
        return os.environ["PUT_MIGRATE_LIGHTNING"]
    return "lightning.pytorch" if importlib.util.find_spec("lightning") else "pytorch_lightning"


PACKAGE = _chosen()
pl = importlib.import_module(PACKAGE)
extract_batch_size = importlib.import_module(f"{PACKAGE}.utilities.data").extract_batch_size
