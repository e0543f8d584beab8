"""A run-time name equal to a literal name of its hook (``put_migrate/plan/name_collisions.py``): with other options
Lightning raises at the second call, and so does the migrated module; the same-options case trains equal in
fixtures/corpus/runtime_name_meets_literal.py."""

from __future__ import annotations

from put_migrate.transform import migrate_source
from shim.testing import load_file

_SOURCE = '''
import lightning.pytorch as pl
import torch
from torch.utils.data import DataLoader, TensorDataset


class loss(torch.nn.Module):
    def forward(self, prediction, target):
        return (prediction - target).abs().max()


class Colliding(pl.LightningModule):
    def __init__(self, metrics):
        super().__init__()
        self.layer = torch.nn.Linear(2, 1)
        self.logging_metrics = torch.nn.ModuleList(metrics)

    def training_step(self, batch, batch_idx):
        x, y = batch
        y_hat = self.layer(x)
        value = torch.nn.functional.mse_loss(y_hat, y)
        self.log("train_loss", value, on_step=True, on_epoch=True)
        self.log_metrics(y_hat, y, prefix="train")
        return value

    def log_metrics(self, y_hat, y, prefix):
        for metric in self.logging_metrics:
            self.log(f"{prefix}_{metric.__class__.__name__}", metric(y_hat, y), on_step=False, on_epoch=True)

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.1)

    def train_dataloader(self):
        return DataLoader(TensorDataset(torch.randn(4, 2), torch.randn(4, 1)), batch_size=2)
'''


def _fit(path, colliding: bool):
    import lightning.pytorch as pl
    import torch

    module = load_file(path)
    metrics = [torch.nn.L1Loss(), module.loss()] if colliding else [torch.nn.L1Loss()]
    trainer = pl.Trainer(logger=False, enable_progress_bar=False, enable_checkpointing=False,
                         enable_model_summary=False, max_epochs=1, accelerator="cpu")
    try:
        trainer.fit(module.Colliding(metrics))
    except Exception as error:  # noqa: BLE001 - the exception itself is compared
        return type(error), str(error)
    return sorted(trainer.callback_metrics)


def test_a_run_time_name_equal_to_an_earlier_literal_with_other_options_raises_as_lightning_does(tmp_path):
    original = tmp_path / "original.py"
    original.write_text(_SOURCE)
    result = migrate_source(_SOURCE, str(original))
    assert "self.log(f" not in result.source and 'self.log("train_loss"' not in result.source
    migrated = tmp_path / "migrated.py"
    migrated.write_text(result.source)
    for colliding in (True, False):
        assert _fit(migrated, colliding) == _fit(original, colliding)
    assert isinstance(_fit(original, True), tuple)  # the case is exercised: Lightning raises there
