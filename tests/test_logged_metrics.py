"""A Metric object logged on epoch where its updates do not tell whether it was logged (plan/logged_metrics.py,
shim/logged_metrics.py): Lightning computes it under each name logged in the epoch, updated or not (torchmetrics
warns and computes the default state), and not where it was only updated. fixtures/corpus/
metric_logged_apart_from_updates.py trains such a module side by side; here: a Metric passed in and never updated,
the marks themselves, and where ``update_called`` still tells."""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import pytest
import torch

from put_migrate.transform import migrate_source
from shim.testing import load_file

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def _validate(module) -> tuple[dict[str, float], list[str]]:
    import lightning.pytorch as pl

    trainer = pl.Trainer(limit_val_batches=2, logger=False, enable_checkpointing=False, enable_progress_bar=False,
                         enable_model_summary=False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        trainer.validate(module, verbose=False)
    metrics = {name: float(value) for name, value in trainer.callback_metrics.items()}
    return metrics, sorted({str(w.message) for w in caught if "``compute`` method" in str(w.message)})


def test_a_metric_passed_in_and_never_updated_is_logged_as_lightning_logs_it():
    from torchmetrics import MeanSquaredError

    found = []
    for suffix in ("in", "out"):
        cls = load_file(FIXTURES / "metrics" / f"passed_in_sync_dist.{suffix}.py").LoggingSyncDistModel
        torch.manual_seed(0)
        found.append(_validate(cls(MeanSquaredError())))
    (original, original_warnings), (migrated, migrated_warnings) = found
    assert sorted(original) == sorted(migrated) == ["bar", "bar_2", "bar_3", "bar_end"]
    assert all(math.isnan(original[n]) and math.isnan(migrated[n]) for n in ("bar", "bar_2", "bar_end"))
    assert original["bar_3"] == migrated["bar_3"]
    assert original_warnings == migrated_warnings != []  # torchmetrics: compute before update


def test_marks_are_per_name_and_reset_clears_them_once_logged():
    from torchmetrics import MeanSquaredError

    from shim import mark_logged, reset_logged, was_logged

    metric = MeanSquaredError()
    metric.update(torch.ones(2), torch.zeros(2))
    reset_logged(metric, "a")  # never logged: Lightning has not registered it, its states stay
    assert metric.update_called and not was_logged(metric, "a")
    mark_logged(metric, "a")
    assert was_logged(metric, "a") and not was_logged(metric, "b")
    assert "_put_migrate_logged" not in metric.state_dict()
    reset_logged(metric, "a", "b")
    assert not metric.update_called and not was_logged(metric, "a")
    metric.update(torch.ones(2), torch.zeros(2))
    reset_logged(metric, "a")  # logged before: reset as Lightning resets what its loop has logged
    assert not metric.update_called


_MODULE = '''
import lightning.pytorch as pl
import torchmetrics


class Model(pl.LightningModule):
    def __init__(self):
        super().__init__()
        self.mse = torchmetrics.MeanSquaredError()

{body}
'''


@pytest.mark.parametrize(
    "body",
    [
        # updated and logged together, at the body's level or in one block
        "    def validation_step(self, batch, batch_idx):\n        self.mse(batch, batch)\n"
        "        self.log('v', self.mse)",
        "    def validation_step(self, batch, batch_idx):\n        if batch_idx:\n"
        "            self.log('v', self.mse)\n            self.mse.update(batch, batch)",
        # a reset where no value of the stage waits (the lightning-hydra-template's on_train_start)
        "    def on_train_start(self):\n        self.mse.reset()\n\n"
        "    def validation_step(self, batch, batch_idx):\n        self.mse(batch, batch)\n"
        "        self.log('v', self.mse)\n        self.log('w', self.mse.compute())",
    ],
)
def test_update_called_tells_where_updates_sit_with_the_log_call(body):
    result = migrate_source(_MODULE.format(body=body), "m.py")
    assert "self.mse.update_called" in result.source and "mark_logged" not in result.source


@pytest.mark.parametrize(
    "body",
    [
        "    def validation_step(self, batch, batch_idx):\n        self.mse(batch, batch)\n"
        "        if batch_idx:\n            self.log('v', self.mse)",
        "    def validation_step(self, batch, batch_idx):\n        self.mse(batch, batch)\n"
        "        if batch_idx:\n            return\n        self.log('v', self.mse)",
        "    def on_validation_batch_end(self, outputs, batch, batch_idx):\n        self.mse(batch, batch)\n\n"
        "    def validation_step(self, batch, batch_idx):\n        self.log('v', self.mse)",
        "    def validation_step(self, batch, batch_idx):\n        self.mse(batch, batch)\n"
        "        self.log('v', self.mse)\n\n    def on_validation_epoch_end(self):\n        self.mse.reset()",
        "    def validation_step(self, batch, batch_idx):\n        self.mse(batch, batch)\n"
        "        self.log('v', self.mse)\n\n    def training_step(self, batch, batch_idx):\n"
        "        self.mse(batch, batch)\n        return batch",
    ],
)
def test_a_log_call_its_updates_do_not_tell_marks_the_name(body):
    result = migrate_source(_MODULE.format(body=body), "m.py")
    assert "mark_logged(self.mse, \"v\")" in result.source
    assert "was_logged(self.mse, \"v\")" in result.source and "reset_logged(self.mse, \"v\")" in result.source
