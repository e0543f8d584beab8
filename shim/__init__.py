"""Runtime for migrated code: ``PutMixin.put`` hands finished values to the trainer, which only routes them.

Imports neither ``lightning.pytorch`` nor ``pytorch_lightning``: the router attaches to whichever one the
trainer comes from. Aggregators live in ``shim.metrics`` (needs torchmetrics); the side-by-side equivalence
harness in ``shim.testing``.
"""

try:
    import torch  # noqa: F401 - the runtime extra; the CLI alone does not install it
except ModuleNotFoundError as exc:
    if exc.name != "torch":
        raise
    raise ImportError("shim needs torch, which is not installed: pip install 'put-migrate[runtime]'") from exc

from shim.in_flight import batch_size_in_flight, dataloader_idx_in_flight
from shim.put import DESTINATIONS, PutData, PutMixin, dataloader_suffix
from shim.sync import reduce_step_values

__all__ = [
    "DESTINATIONS",
    "PutData",
    "PutMixin",
    "batch_size_in_flight",
    "dataloader_idx_in_flight",
    "dataloader_suffix",
    "reduce_step_values",
]
