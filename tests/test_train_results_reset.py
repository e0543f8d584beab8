"""``on_train_results_reset``: the router calls it where Lightning resets the train results, so logged Metrics are
reset when Lightning resets them (after every ``on_train_epoch_end`` hook), in migrated code too."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from shim import PutMixin
from shim.testing import FileModuleFactory, record_run
from tests.lightning_package import PACKAGE, pl

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "metrics" / "step_only_logged_late"


def _readers(seen: list[tuple[str, int, int]]):
    """A plain callback (runs before the module's on_train_epoch_end) and a Checkpoint one (Lightning runs it after,
    as it runs ModelCheckpoint and EarlyStopping), each reading the Metrics' states."""

    def read(who, module):
        seen.append((who, int(module.train_mse.total), int(module.paired_mse.total)))

    class Reader(pl.Callback):
        def on_train_epoch_end(self, trainer, pl_module):
            read("callback", pl_module)

    class MonitoringReader(pl.callbacks.Checkpoint):
        def on_train_epoch_end(self, trainer, pl_module):
            read("monitoring", pl_module)

    return lambda: [Reader(), MonitoringReader()]


@pytest.mark.skipif(PACKAGE != "lightning.pytorch", reason="the fixture imports lightning.pytorch")
def test_callbacks_reading_a_logged_train_metric_in_on_train_epoch_end_see_the_epochs_state():
    kwargs = {"max_epochs": 3, "enable_progress_bar": False}
    original: list[tuple[str, int, int]] = []
    migrated: list[tuple[str, int, int]] = []
    record_run(FileModuleFactory(f"{FIXTURE}.in.py", "Model"), trainer_kwargs=kwargs, callbacks=_readers(original))
    record_run(FileModuleFactory(f"{FIXTURE}.out.py", "Model"), trainer_kwargs=kwargs, callbacks=_readers(migrated))
    # train_mse is first logged in epoch 1, so Lightning keeps epoch 0's samples until the reset after epoch 1.
    assert original == [("callback", 8, 8), ("monitoring", 8, 8), ("callback", 16, 8), ("monitoring", 16, 8),
                        ("callback", 8, 8), ("monitoring", 8, 8)]
    assert migrated == original


class _Counting(PutMixin, pl.LightningModule):
    def __init__(self, events):
        super().__init__()
        self.layer = torch.nn.Linear(1, 1)
        self.events = events

    def training_step(self, batch, batch_idx):
        loss = self.layer(batch[0]).sum()
        self.put("loss", loss)
        return loss

    def validation_step(self, batch, batch_idx):
        self.put("val", self.layer(batch[0]).sum())

    def on_train_epoch_end(self):
        self.events.append("module on_train_epoch_end")

    def on_train_results_reset(self):
        self.events.append("module reset")

    def train_dataloader(self):
        return torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.ones(4, 1)), batch_size=2)

    val_dataloader = train_dataloader

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.1)


class _CountingCallback(PutMixin, pl.Callback):
    def __init__(self, events):
        self.events = events

    def on_train_results_reset(self, trainer, pl_module):
        assert isinstance(trainer, pl.Trainer) and isinstance(pl_module, _Counting)
        self.events.append("callback reset")


class _Monitoring(pl.callbacks.Checkpoint):
    def __init__(self, events):
        self.events = events

    def on_train_epoch_end(self, trainer, pl_module):
        self.events.append("monitoring on_train_epoch_end")


def _trainer(tmp_path, events, **kwargs):
    return pl.Trainer(default_root_dir=tmp_path, max_epochs=2, enable_progress_bar=False, logger=False,
                      enable_model_summary=False, callbacks=[_CountingCallback(events), _Monitoring(events)], **kwargs)


def test_the_router_calls_the_hooks_once_per_train_epoch_after_every_on_train_epoch_end(tmp_path):
    events: list[str] = []
    trainer = _trainer(tmp_path, events)
    module = _Counting(events)
    trainer.fit(module)  # also resets the train results before the first epoch and the sanity check's results
    once = ["module on_train_epoch_end", "monitoring on_train_epoch_end", "callback reset", "module reset"]
    assert events == once * 2
    events.clear()
    trainer.validate(module)  # eval results only
    assert events == []


def test_no_hook_under_barebones_where_lightning_logs_no_metric(tmp_path):
    events: list[str] = []
    trainer = pl.Trainer(default_root_dir=tmp_path, max_epochs=2, barebones=True, callbacks=[_CountingCallback(events)])
    trainer.fit(_Counting(events))
    assert events == ["module on_train_epoch_end"] * 2


_LOGGED_IN_THE_FIRST_EPOCH_ONLY = '''
import lightning.pytorch as pl
import torch
import torchmetrics
from torch.utils.data import DataLoader, TensorDataset


class Model(pl.LightningModule):
    def __init__(self):
        super().__init__()
        self.layer = torch.nn.Linear(2, 1)
        self.mse = torchmetrics.MeanSquaredError()

    def training_step(self, batch, batch_idx):
        x, y = batch
        out = self.layer(x)
        self.mse.update(out, y)
        if self.current_epoch == 0:
            self.log("mse", self.mse, on_step=False, on_epoch=True)
        return torch.nn.functional.mse_loss(out, y)

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.1)

    def train_dataloader(self):
        g = torch.Generator().manual_seed(0)
        return DataLoader(TensorDataset(torch.randn(8, 2, generator=g), torch.randn(8, 1, generator=g)), batch_size=4)
'''


@pytest.mark.skipif(PACKAGE != "lightning.pytorch", reason="the module imports lightning.pytorch")
def test_a_metric_logged_once_is_reset_at_every_later_train_results_reset(tmp_path):
    """Logged (on epoch only) in epoch 0 and never again, nothing else logged: Lightning's collection keeps its key,
    so every later reset resets it, in epochs where nothing is logged or put at all."""
    from put_migrate.transform import migrate_source

    original = tmp_path / "original.py"
    original.write_text(_LOGGED_IN_THE_FIRST_EPOCH_ONLY)
    migrated = tmp_path / "migrated.py"
    migrated.write_text(migrate_source(_LOGGED_IN_THE_FIRST_EPOCH_ONLY, str(original)).source)
    assert "self.log(" not in migrated.read_text()

    def readers(seen):
        class Reader(pl.Callback):
            def on_train_epoch_start(self, trainer, pl_module):
                seen.append(int(pl_module.mse.total))

        return lambda: [Reader()]

    kwargs = {"max_epochs": 4, "enable_progress_bar": False}
    seen: dict[str, list[int]] = {"original": [], "migrated": []}
    for side, path in (("original", original), ("migrated", migrated)):
        record_run(FileModuleFactory(str(path), "Model"), trainer_kwargs=kwargs, callbacks=readers(seen[side]))
    assert seen["original"] == [0, 0, 0, 0]  # reset after every epoch, the first log call having run in epoch 0
    assert seen["migrated"] == seen["original"]


@pytest.mark.skipif(PACKAGE != "lightning.pytorch", reason="the fixture imports lightning.pytorch")
def test_a_second_fit_on_the_same_trainer_resets_as_lightning_does():
    """``trainer.fit`` again on the same trainer (the fit loop keeps its result collection, so Lightning's first
    reset of the new run finds the Metrics logged in the old one): the Metrics' states and ``callback_metrics`` at
    every train epoch boundary are the same."""
    from shim.testing import load_file

    def run(path):
        torch.manual_seed(0)
        model = load_file(path).Model()
        seen = []

        class Reader(pl.Callback):
            def on_train_epoch_start(self, trainer, pl_module):
                self.read("start", trainer, pl_module)

            def on_train_epoch_end(self, trainer, pl_module):
                self.read("end", trainer, pl_module)

            def read(self, when, trainer, pl_module):
                metrics = {k: repr(round(float(v), 6)) for k, v in sorted(trainer.callback_metrics.items())}
                seen.append((when, trainer.current_epoch, int(pl_module.train_mse.total), metrics))

        trainer = pl.Trainer(max_epochs=1, logger=False, enable_progress_bar=False, enable_checkpointing=False,
                             enable_model_summary=False, callbacks=[Reader()])
        trainer.fit(model)
        trainer.fit_loop.max_epochs = 3
        trainer.fit(model)
        return seen

    original, migrated = run(Path(f"{FIXTURE}.in.py")), run(Path(f"{FIXTURE}.out.py"))
    assert len(original) == 6 and migrated == original


_LOGGED_ON_STEP_AFTER_AN_UPDATE = '''
import lightning.pytorch as pl
import torch
import torchmetrics
from torch.utils.data import DataLoader, TensorDataset


class Model(pl.LightningModule):
    def __init__(self):
        super().__init__()
        self.layer = torch.nn.Linear(2, 1)
        self.mae = torchmetrics.MeanAbsoluteError()

    def training_step(self, batch, batch_idx):
        x, y = batch
        out = self.layer(x)
        self.mae.update(out, y)
        self.log("mae", self.mae, on_step=True, on_epoch=False)
        return torch.nn.functional.mse_loss(out, y)

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.1)

    def train_dataloader(self):
        g = torch.Generator().manual_seed(0)
        return DataLoader(TensorDataset(torch.randn(8, 2, generator=g), torch.randn(8, 1, generator=g)), batch_size=4)
'''


@pytest.mark.skipif(PACKAGE != "lightning.pytorch", reason="the module imports lightning.pytorch")
def test_a_metric_logged_on_step_after_an_update_only_is_reset_though_nothing_is_put(tmp_path):
    """Logged on step after ``update()`` (no forward): Lightning logs no value but keeps the key, so it resets the
    Metric after every epoch; the migrated code puts nothing at all, and the hook runs all the same."""
    from put_migrate.transform import migrate_source

    original = tmp_path / "original.py"
    original.write_text(_LOGGED_ON_STEP_AFTER_AN_UPDATE)
    migrated = tmp_path / "migrated.py"
    migrated.write_text(migrate_source(_LOGGED_ON_STEP_AFTER_AN_UPDATE, str(original)).source)
    assert "self.log(" not in migrated.read_text() and "self.put(" not in migrated.read_text()

    def readers(seen):
        class Reader(pl.Callback):
            def on_train_epoch_start(self, trainer, pl_module):
                seen.append(int(pl_module.mae.total))

        return lambda: [Reader()]

    kwargs = {"max_epochs": 3, "enable_progress_bar": False}
    seen: dict[str, list[int]] = {"original": [], "migrated": []}
    for side, path in (("original", original), ("migrated", migrated)):
        record_run(FileModuleFactory(str(path), "Model"), trainer_kwargs=kwargs, callbacks=readers(seen[side]),
                   workdir=tmp_path / side)
    assert seen["original"] == [0, 0, 0]
    assert seen["migrated"] == seen["original"]
