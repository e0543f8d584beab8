"""``shim.in_flight``: the batch size and dataloader index Lightning reads from the loop, where a hook lacks them."""

from __future__ import annotations

import lightning.pytorch as pl
import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

from shim import batch_size_in_flight, dataloader_idx_in_flight


def _loader(n: int, batch_size: int) -> DataLoader:
    return DataLoader(TensorDataset(torch.randn(n, 4), torch.randn(n, 1)), batch_size=batch_size)


class _Probe(pl.LightningModule):
    """Records what the functions return in hooks with and without a batch."""

    def __init__(self) -> None:
        super().__init__()
        self.layer = torch.nn.Linear(4, 1)
        self.seen: list[tuple[str, int]] = []

    def training_step(self, batch, batch_idx):
        return torch.nn.functional.mse_loss(self.layer(batch[0]), batch[1])

    def on_after_backward(self):
        self.seen.append(("on_after_backward", batch_size_in_flight(self.trainer)))

    def on_train_epoch_end(self):
        self.seen.append(("on_train_epoch_end", batch_size_in_flight(self.trainer)))

    def validation_step(self, batch, batch_idx, dataloader_idx=0):
        self.seen.append((f"dataloader {dataloader_idx}", dataloader_idx_in_flight(self.trainer)))

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.1)


def _fit(module: pl.LightningModule, val_loaders) -> None:
    trainer = pl.Trainer(max_epochs=1, logger=False, enable_checkpointing=False, enable_progress_bar=False,
                         enable_model_summary=False, num_sanity_val_steps=0)
    trainer.fit(module, _loader(10, 4), val_loaders)


def test_batch_size_of_the_batch_in_flight_and_1_in_epoch_hooks():
    probe = _Probe()
    _fit(probe, [])
    assert [s for s in probe.seen if s[0] != "on_train_epoch_end"] == [("on_after_backward", n) for n in (4, 4, 2)]
    assert ("on_train_epoch_end", 1) in probe.seen


def test_dataloader_idx_of_the_running_eval_dataloader():
    probe = _Probe()
    _fit(probe, [_loader(2, 2), _loader(2, 2)])
    assert {s for s in probe.seen if s[0].startswith("dataloader")} == {("dataloader 0", 0), ("dataloader 1", 1)}
    single = _Probe()
    _fit(single, _loader(2, 2))
    assert {s for s in single.seen if s[0].startswith("dataloader")} == {("dataloader 0", 0)}


def test_the_inferred_size_is_cached_for_the_batch_as_lightning_does():
    class Results:
        batch = (torch.zeros(3, 2),)
        batch_size = None

    class Trainer:
        _results = Results()

    Trainer.__module__ = "lightning.pytorch.trainer.trainer"
    trainer = Trainer()
    assert batch_size_in_flight(trainer) == 3
    assert trainer._results.batch_size == 3
    trainer._results.batch = (torch.zeros(5, 2),)  # Lightning keeps the first inference until the batch ends
    assert batch_size_in_flight(trainer) == 3


@pytest.mark.parametrize("trainer", [None, object()])
def test_no_loop_running_weighs_1(trainer):
    assert batch_size_in_flight(trainer) == 1
    assert dataloader_idx_in_flight(trainer) == 0
