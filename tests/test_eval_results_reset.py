"""``on_validation_results_reset`` / ``on_test_results_reset``: the router calls them where Lightning resets the eval
results (after every ``on_validation_end`` / ``on_test_end`` hook), so the Metrics logged in an eval loop are reset
when Lightning resets them, in migrated code too, whatever a subclass's ``on_validation_end`` does."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from shim import PutMixin
from shim.testing import FileModuleFactory, assert_same_training, record_run
from tests.lightning_package import PACKAGE, pl


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



_BASE_AND_SUBCLASS = '''
import lightning.pytorch as pl
import torch
import torchmetrics
from torch.utils.data import DataLoader, TensorDataset


def _loader(n, seed):
    g = torch.Generator().manual_seed(seed)
    return DataLoader(TensorDataset(torch.randn(n, 2, generator=g), torch.randn(n, 1, generator=g)), batch_size=4)


class Base(pl.LightningModule):
    def __init__(self):
        super().__init__()
        self.layer = torch.nn.Linear(2, 1)
        self.val_mse = torchmetrics.MeanSquaredError()
        self.test_mse = torchmetrics.MeanSquaredError()

    def training_step(self, batch, batch_idx):
        x, y = batch
        return torch.nn.functional.mse_loss(self.layer(x), y)

    def validation_step(self, batch, batch_idx):
        x, y = batch
        self.val_mse.update(self.layer(x), y)
        self.log("val_mse", self.val_mse, on_step=False, on_epoch=True)

    def test_step(self, batch, batch_idx):
        x, y = batch
        self.test_mse.update(self.layer(x), y)
        self.log("test_mse", self.test_mse, on_step=False, on_epoch=True)

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.1)

    def train_dataloader(self):
        return _loader(8, 0)

    def val_dataloader(self):
        return _loader(8, 1)

    def test_dataloader(self):
        return _loader(8, 2)


class Model(Base):
    """Overrides the eval end hooks without super(): Lightning still resets the logged Metrics after them."""

    def on_validation_end(self):
        self.ends = getattr(self, "ends", 0) + 1

    def on_test_end(self):
        self.ends = getattr(self, "ends", 0) + 1
'''


def _migrated(tmp_path: Path, source: str) -> tuple[Path, Path]:
    from put_migrate.transform import migrate_source

    original = tmp_path / "original.py"
    original.write_text(source)
    migrated = tmp_path / "migrated.py"
    migrated.write_text(migrate_source(source, str(original)).source)
    assert "self.log(" not in migrated.read_text()
    return original, migrated


def _samples(seen: list[tuple[str, int]]):
    """A callback reading the eval Metrics' sample counts as each eval loop starts (after the previous reset)."""

    class Reader(pl.Callback):
        def on_validation_start(self, trainer, pl_module):
            seen.append(("validation", int(pl_module.val_mse.total)))

        def on_test_start(self, trainer, pl_module):
            seen.append(("test", int(pl_module.test_mse.total)))

    return lambda: [Reader()]


@pytest.mark.skipif(PACKAGE != "lightning.pytorch", reason="the module imports lightning.pytorch")
def test_a_subclass_overriding_the_eval_end_hooks_without_super_still_gets_the_resets(tmp_path):
    original, migrated = _migrated(tmp_path, _BASE_AND_SUBCLASS)
    kwargs = {"max_epochs": 3, "enable_progress_bar": False, "enable_checkpointing": False}
    stages = ("fit", "validate", "validate", "test", "test")
    seen: dict[str, list[tuple[str, int]]] = {"original": [], "migrated": []}
    for side, path in (("original", original), ("migrated", migrated)):
        record_run(FileModuleFactory(str(path), "Model"), trainer_kwargs=kwargs, stages=stages,
                   callbacks=_samples(seen[side]), workdir=tmp_path / side)
    # The sanity check, three validation epochs, two validate() and two test() runs, each from a reset Metric.
    assert seen["original"] == [("validation", 0)] * 6 + [("test", 0)] * 2
    assert seen["migrated"] == seen["original"]
    assert_same_training(FileModuleFactory(str(original), "Model"), FileModuleFactory(str(migrated), "Model"),
                         trainer_kwargs=kwargs, stages=stages)


@pytest.mark.skipif(PACKAGE != "lightning.pytorch", reason="the module imports lightning.pytorch")
def test_under_barebones_the_logged_eval_metrics_are_never_reset_as_with_lightning(tmp_path):
    """``Trainer(barebones=True)`` drops ``self.log``, so Lightning never resets the Metric: it accumulates."""
    from shim.testing import load_file

    original, migrated = _migrated(tmp_path, _BASE_AND_SUBCLASS)

    def run(path):
        torch.manual_seed(0)
        seen: list[tuple[str, int]] = []
        trainer = pl.Trainer(default_root_dir=tmp_path, max_epochs=2, barebones=True, callbacks=_samples(seen)())
        model = load_file(path).Base()
        trainer.fit(model)
        trainer.validate(model)
        trainer.test(model)
        trainer.test(model)
        return seen

    seen = run(original)
    assert seen == [("validation", 0), ("validation", 8), ("validation", 16), ("test", 0), ("test", 8)]
    assert run(migrated) == seen


@pytest.mark.skipif(PACKAGE != "lightning.pytorch", reason="the module imports lightning.pytorch")
def test_an_eval_metric_logged_on_step_after_an_update_only_is_reset_though_nothing_is_put(tmp_path):
    """Logged on step after ``update()`` (no forward): nothing to put, the eval loops put nothing at all, and the
    hooks still run where Lightning resets the Metrics it keeps the keys of."""
    source = _BASE_AND_SUBCLASS.replace("on_step=False, on_epoch=True", "on_step=True, on_epoch=False")
    original, migrated = _migrated(tmp_path, source)
    assert "self.put(" not in migrated.read_text()
    kwargs = {"max_epochs": 2, "enable_progress_bar": False, "enable_checkpointing": False}
    seen: dict[str, list[tuple[str, int]]] = {"original": [], "migrated": []}
    for side, path in (("original", original), ("migrated", migrated)):
        record_run(FileModuleFactory(str(path), "Model"), trainer_kwargs=kwargs, stages=("fit", "validate", "test"),
                   callbacks=_samples(seen[side]), workdir=tmp_path / side)
    assert seen["original"] == [("validation", 0)] * 4 + [("test", 0)]
    assert seen["migrated"] == seen["original"]
