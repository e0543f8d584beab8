"""``on_validation_results_reset`` / ``on_test_results_reset``: the router calls them where Lightning resets the eval
results (after every ``on_validation_end`` / ``on_test_end`` hook), so the Metrics logged in an eval loop are reset
when Lightning resets them, in migrated code too, whatever a subclass's ``on_validation_end`` does."""

from __future__ import annotations

import pytest
import torch

from shim import PutMixin
from tests.lightning_package import pl


def _loader():
    return torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.ones(4, 1)), batch_size=2)


class _Counting(PutMixin, pl.LightningModule):
    def __init__(self, events, dataloaders=1):
        super().__init__()
        self.layer = torch.nn.Linear(1, 1)
        self.events = events
        self.dataloaders = dataloaders

    def training_step(self, batch, batch_idx):
        return self.layer(batch[0]).sum()

    def validation_step(self, batch, batch_idx, dataloader_idx=0):
        self.put(f"val_{dataloader_idx}", self.layer(batch[0]).sum())

    def test_step(self, batch, batch_idx, dataloader_idx=0):
        self.put(f"test_{dataloader_idx}", self.layer(batch[0]).sum())

    def on_validation_end(self):
        self.events.append("module on_validation_end")

    def on_test_end(self):
        self.events.append("module on_test_end")

    def on_validation_results_reset(self):
        self.events.append("module validation reset")

    def on_test_results_reset(self):
        self.events.append("module test reset")

    def on_train_results_reset(self):
        self.events.append("module train reset")

    def train_dataloader(self):
        return _loader()

    def val_dataloader(self):
        return [_loader() for _ in range(self.dataloaders)]

    def test_dataloader(self):
        return [_loader() for _ in range(self.dataloaders)]

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.1)


class _CountingCallback(PutMixin, pl.Callback):
    def __init__(self, events):
        self.events = events

    def on_validation_results_reset(self, trainer, pl_module):
        assert isinstance(trainer, pl.Trainer) and isinstance(pl_module, _Counting)
        self.events.append("callback validation reset")

    def on_test_results_reset(self, trainer, pl_module):
        assert isinstance(trainer, pl.Trainer) and isinstance(pl_module, _Counting)
        self.events.append("callback test reset")


class _Ending(pl.Callback):
    """A plain callback: Lightning runs its eval end hooks before the module's, both before the reset."""

    def __init__(self, events):
        self.events = events

    def on_validation_end(self, trainer, pl_module):
        self.events.append("callback on_validation_end")

    def on_test_end(self, trainer, pl_module):
        self.events.append("callback on_test_end")

    def on_sanity_check_end(self, trainer, pl_module):
        self.events.append("sanity check end")


def _trainer(tmp_path, events, **kwargs):
    return pl.Trainer(default_root_dir=tmp_path, enable_progress_bar=False, logger=False, enable_model_summary=False,
                      enable_checkpointing=False, callbacks=[_CountingCallback(events), _Ending(events)], **kwargs)


_VALIDATION_END = ["callback on_validation_end", "module on_validation_end", "callback validation reset",
                   "module validation reset"]
_TEST_END = ["callback on_test_end", "module on_test_end", "callback test reset", "module test reset"]
_VALIDATION_RESET = ["callback validation reset", "module validation reset"]
_TEST_RESET = ["callback test reset", "module test reset"]


@pytest.mark.parametrize("dataloaders", [1, 2])
def test_the_router_calls_the_eval_hooks_where_lightning_resets_the_eval_results(tmp_path, dataloaders):
    events: list[str] = []
    trainer = _trainer(tmp_path, events, max_epochs=2)
    module = _Counting(events, dataloaders)
    trainer.fit(module)
    # The sanity check's results are reset after its on_validation_end hooks and again after on_sanity_check_end;
    # each validation epoch's after its on_validation_end hooks, once for all dataloaders. The first reset of a
    # run finds nothing put yet (no hook).
    epoch = [*_VALIDATION_END, "module train reset"]
    assert events == [*_VALIDATION_END, "sanity check end", *_VALIDATION_RESET, *epoch, *epoch]
    for run, end, reset in (("validate", _VALIDATION_END, _VALIDATION_RESET), ("test", _TEST_END, _TEST_RESET)):
        events.clear()
        getattr(trainer, run)(module, verbose=False)
        assert events == end  # a loop of its own, with a collection of its own: the first reset finds nothing
        events.clear()
        getattr(trainer, run)(module, verbose=False)
        assert events == [*reset, *end]  # Lightning resets a run's collection as the run starts, then at its end


def test_no_eval_hook_under_barebones_where_lightning_logs_no_metric(tmp_path):
    events: list[str] = []
    trainer = pl.Trainer(default_root_dir=tmp_path, max_epochs=1, barebones=True,
                         callbacks=[_CountingCallback(events), _Ending(events)])
    module = _Counting(events)
    trainer.fit(module)
    trainer.validate(module)
    trainer.test(module)
    # Barebones runs no sanity check; fit's validation epoch, validate() and test() end without a reset hook.
    assert events == ["callback on_validation_end", "module on_validation_end"] * 2 + [
        "callback on_test_end", "module on_test_end"]
