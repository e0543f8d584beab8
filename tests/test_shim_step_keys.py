"""Step values are kept per (hook, name), as Lightning keeps them: the hook that first logs a name later wins."""

from __future__ import annotations

import lightning.pytorch as pl
import torch
from torch.utils.data import DataLoader, TensorDataset

from shim import PutMixin
from shim.testing import assert_same_training


class _Logged(pl.LightningModule):
    def __init__(self):
        super().__init__()
        self.layer = torch.nn.Linear(2, 1)

    def record(self, value):
        self.log("value", value, prog_bar=True)

    def training_step(self, batch, batch_idx):
        loss = self.layer(batch[0]).pow(2).mean()
        if not (self.current_epoch == 1 and batch_idx == 0):
            self.record(loss.detach())
        return loss

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.1)

    def train_dataloader(self):
        generator = torch.Generator().manual_seed(0)
        return DataLoader(TensorDataset(torch.randn(14, 2, generator=generator)), batch_size=2)


class _Put(PutMixin, _Logged):
    def record(self, value):
        self.put("value", value, ["callbacks", "loggers", "progress_bar"])


class _EveryThirdStep(pl.Callback):
    """Records through the module every third step, and in the first batch of epoch 1, where training_step does
    not: its value is older than training_step's on the steps between, and it is first to log in epoch 1 (Lightning
    still keeps training_step's key first, from epoch 0)."""

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        if trainer.global_step % 3 == 0 or (trainer.current_epoch == 1 and batch_idx == 0):
            pl_module.record(torch.tensor(100.0 + trainer.global_step))


def test_a_callback_hook_value_wins_over_training_step_until_the_epoch_ends():
    assert_same_training(
        _Logged, _Put, callbacks=lambda: [_EveryThirdStep()],
        trainer_kwargs={"max_epochs": 2, "log_every_n_steps": 1, "enable_checkpointing": False},
    )
