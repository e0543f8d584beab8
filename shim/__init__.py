"""Runtime for migrated code: ``PutMixin.put`` hands finished values to the trainer, which only routes them.

Imports neither ``lightning.pytorch`` nor ``pytorch_lightning``: the router attaches to whichever one the
trainer comes from. Aggregators live in ``shim.metrics`` (needs torchmetrics); the side-by-side equivalence
harness in ``shim.testing``. Importing it checks that an installed Lightning is a supported release
(``shim.versions``).
"""

try:
    import torch  # noqa: F401 - the runtime extra; the CLI alone does not install it
except ModuleNotFoundError as exc:
    if exc.name != "torch":
        raise
    raise ImportError("shim needs torch, which is not installed: pip install 'put-migrate[runtime]'") from exc

from shim.versions import check_installed

check_installed()

from shim.in_flight import (  # noqa: E402
    batch_size_in_flight,
    check_name_without_dataloader_idx,
    dataloader_idx_in_flight,
)
from shim.logged_metrics import mark_logged, reset_logged, was_logged  # noqa: E402
from shim.put import DESTINATIONS, PutData, PutMixin, dataloader_suffix  # noqa: E402
from shim.reductions import reduction_of  # noqa: E402
from shim.routing import running_hook  # noqa: E402
from shim.sync import reduce_step_values  # noqa: E402

__all__ = [
    "DESTINATIONS",
    "PutData",
    "PutMixin",
    "batch_size_in_flight",
    "check_name_without_dataloader_idx",
    "dataloader_idx_in_flight",
    "dataloader_suffix",
    "mark_logged",
    "reduce_step_values",
    "reduction_of",
    "reset_logged",
    "running_hook",
    "was_logged",
]
