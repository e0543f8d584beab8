"""``shim.reduction_of`` reads a ``reduce_fx`` as Lightning's ``_Metadata`` does; and the migrated code of a
``reduce_fx`` held in an attribute raises Lightning's own error for a value Lightning rejects."""

from __future__ import annotations

import builtins

import lightning.pytorch as pl
import numpy as np
import pytest
import torch
from lightning.pytorch.trainer.connectors.logger_connector.result import _Metadata
from lightning.pytorch.utilities.exceptions import MisconfigurationException
from torch.utils.data import DataLoader, TensorDataset

from put_migrate.transform import migrate_source
from shim import reduction_of

VALUES = [
    "mean", "MEAN", "avg", "Avg", "sum", "SUM", "max", "Max", "min", "median", "",
    torch.mean, torch.sum, torch.max, torch.min, builtins.sum, builtins.max, builtins.min,
    torch.argmax, np.mean, len, None,
]


def _lightning(reduce_fx) -> str | None:
    try:
        meta = _Metadata("training_step", "x", reduce_fx=reduce_fx)
    except MisconfigurationException:
        return None
    for name in ("mean", "sum", "max", "min"):
        if getattr(meta, f"is_{name}_reduction"):
            return name
    raise AssertionError(reduce_fx)


def _id(value) -> str:
    return repr(value) if isinstance(value, str) or value is None else f"{value.__module__}.{value.__name__}"


@pytest.mark.parametrize("reduce_fx", VALUES, ids=_id)
def test_reduction_of_reads_reduce_fx_as_lightning(reduce_fx):
    assert reduction_of(reduce_fx) == _lightning(reduce_fx)


SOURCE = '''
import lightning.pytorch as pl
import torch


class Model(pl.LightningModule):
    def __init__(self, fx):
        super().__init__()
        self.layer = torch.nn.Linear(4, 1)
        self.fx = fx

    def training_step(self, batch, batch_idx):
        loss = self.layer(batch[0]).sum()
        self.log("loss", loss, on_epoch=True, reduce_fx=self.fx)
        return loss

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.1)
'''


def _error(cls, fx, tmp_path) -> str:
    trainer = pl.Trainer(max_epochs=1, limit_train_batches=1, logger=False, enable_checkpointing=False,
                         enable_progress_bar=False, enable_model_summary=False, default_root_dir=tmp_path)
    data = DataLoader(TensorDataset(torch.randn(4, 4)), batch_size=2)
    with pytest.raises(MisconfigurationException) as raised:
        trainer.fit(cls(fx), data)
    return str(raised.value)


@pytest.mark.parametrize("fx", [torch.argmax, "median"], ids=_id)
def test_rejected_reduce_fx_raises_lightnings_error(fx, tmp_path):
    migrated = migrate_source(SOURCE, "model.py")
    assert migrated.changed and "reduction_of(self.fx)" in migrated.source
    original_ns: dict = {}
    exec(compile(SOURCE, "original.py", "exec"), original_ns)
    migrated_ns: dict = {}
    exec(compile(migrated.source, "migrated.py", "exec"), migrated_ns)
    assert _error(migrated_ns["Model"], fx, tmp_path) == _error(original_ns["Model"], fx, tmp_path)
