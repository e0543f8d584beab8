"""Options given as expressions: where their values make Lightning raise, the migrated code raises Lightning's own
exception with Lightning's message (naming the value)."""

from __future__ import annotations

import lightning.pytorch as pl
import pytest
import torch
from lightning.pytorch.utilities.exceptions import MisconfigurationException
from torch.utils.data import DataLoader, TensorDataset

from put_migrate.transform import migrate_source

SOURCE = '''
import lightning.pytorch as pl
import torch


class Model(pl.LightningModule):
    def __init__(self, on_step, on_epoch):
        super().__init__()
        self.layer = torch.nn.Linear(4, 1)
        self.on_step = on_step
        self.on_epoch = on_epoch

    def training_step(self, batch, batch_idx):
        return self.layer(batch[0]).sum()

    def on_train_epoch_end(self):
        self.log("norm", self.layer.weight.norm(), on_step=self.on_step, on_epoch=self.on_epoch)

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.1)
'''


def _error(cls, tmp_path, **options) -> str:
    trainer = pl.Trainer(max_epochs=1, limit_train_batches=1, logger=False, enable_checkpointing=False,
                         enable_progress_bar=False, enable_model_summary=False, default_root_dir=tmp_path)
    data = DataLoader(TensorDataset(torch.randn(4, 4)), batch_size=2)
    with pytest.raises(MisconfigurationException) as raised:
        trainer.fit(cls(**options), data)
    return str(raised.value)


@pytest.mark.parametrize(("on_step", "on_epoch"), [(True, True), (1, None), (False, False), (None, 0)])
def test_epoch_hook_rejects_values_as_lightning(on_step, on_epoch, tmp_path):
    migrated = migrate_source(SOURCE, "model.py")
    assert migrated.changed and "self.log(\"norm\"" not in migrated.source
    namespaces: list[dict] = [{}, {}]
    for namespace, source in zip(namespaces, (SOURCE, migrated.source)):
        exec(compile(source, "model.py", "exec"), namespace)
    original, rewritten = (_error(ns["Model"], tmp_path, on_step=on_step, on_epoch=on_epoch) for ns in namespaces)
    assert rewritten == original
