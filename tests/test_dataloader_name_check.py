"""add_dataloader_idx=False from several dataloaders: the migrated code raises where Lightning raises (the same
exception, the same message), in the run that logs a name from a second dataloader or in a later run of the same
loop, and returns the same results where it does not."""

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


def build():
    first = {"first_only": 1.0}
    rest = {"rest_only": 2.0}

    class Model(pl.LightningModule):
        def __init__(self, dicts, which):
            super().__init__()
            self.layer = torch.nn.Linear(4, 1)
            self.dicts = dicts
            self.which = which

        def validation_step(self, batch, batch_idx, dataloader_idx=0):
            loss = self.layer(batch[0]).sum()
            if self.dicts:
                self.log_dict(first if dataloader_idx == 0 else rest, add_dataloader_idx=False)
            if dataloader_idx == self.which:
                self.log("picked", loss, add_dataloader_idx=False)

    return Model


Model = build()
'''


GUARDED = '''
import lightning.pytorch as pl
import torch


class Model(pl.LightningModule):
    def __init__(self, again):
        super().__init__()
        self.layer = torch.nn.Linear(4, 1)
        self.again = again

    def validation_step(self, batch, batch_idx, dataloader_idx=0):
        loss = self.layer(batch[0]).sum()
        if dataloader_idx == 0:
            self.log("acc", loss, add_dataloader_idx=False)
        if dataloader_idx == 1 and self.again:
            self.log("acc", loss * 2, add_dataloader_idx=False)
'''


def _classes(source=SOURCE):
    migrated = migrate_source(source, "model.py")
    assert "check_name_without_dataloader_idx" in migrated.source and "self.log" not in migrated.source
    found = []
    for text in (source, migrated.source):
        namespace: dict = {}
        exec(compile(text, "model.py", "exec"), namespace)
        found.append(namespace["Model"])
    return found


def _trainer(tmp_path):
    return pl.Trainer(logger=False, enable_checkpointing=False, enable_progress_bar=False,
                      enable_model_summary=False, default_root_dir=tmp_path)


def _loaders(count):
    return [DataLoader(TensorDataset(torch.randn(4, 4)), batch_size=2) for _ in range(count)]


def _error(trainer, model, count) -> str:
    with pytest.raises(MisconfigurationException) as raised:
        trainer.validate(model, _loaders(count), verbose=False)
    return str(raised.value)


def test_third_dataloader_raises_as_lightning(tmp_path):
    errors = [_error(_trainer(tmp_path), cls(True, -1), 3) for cls in _classes()]
    assert errors[0] == errors[1] == (
        "You called `self.log(rest_only, ...)` twice in `validation_step` with different arguments. This is not allowed"
    )


def test_two_dataloaders_give_the_same_results(tmp_path):
    results = []
    for cls in _classes():
        torch.manual_seed(0)
        results.append(_trainer(tmp_path).validate(cls(True, 1), _loaders(2), verbose=False))
    original, migrated = results
    assert original == migrated == [{"first_only": 1.0}, {"rest_only": 2.0, "picked": migrated[1]["picked"]}]


def test_a_later_run_of_the_same_loop_raises_as_lightning(tmp_path):
    errors = []
    for cls in _classes():
        trainer, model = _trainer(tmp_path), cls(False, 0)
        trainer.validate(model, _loaders(2), verbose=False)  # dataloader 0 files "picked"
        model.which = 1
        errors.append(_error(trainer, model, 2))
    assert errors[0] == errors[1] == (
        "You called `self.log(picked, ...)` twice in `validation_step` with different arguments. This is not allowed"
    )


def test_one_name_under_two_dataloader_guards_raises_as_lightning(tmp_path):
    errors = [_error(_trainer(tmp_path), cls(True), 2) for cls in _classes(GUARDED)]
    assert errors[0] == errors[1] == (
        "You called `self.log(acc, ...)` twice in `validation_step` with different arguments. This is not allowed"
    )


@pytest.mark.parametrize("counts", [(2, 1), (1, 2)])
def test_the_default_dataloader_of_another_run_raises_as_lightning(tmp_path, counts):
    """``if dataloader_idx == 0:`` runs with dataloader 0 of several and with a single dataloader (no index):
    Lightning raises in the second run of the loop that logs the name the other way."""
    first, second = counts
    errors, results = [], []
    for cls in _classes(GUARDED):
        torch.manual_seed(0)
        trainer, model = _trainer(tmp_path), cls(False)
        results.append(trainer.validate(model, _loaders(first), verbose=False))
        errors.append(_error(trainer, model, second))
    assert results[0] == results[1]
    assert errors[0] == errors[1] == (
        "You called `self.log(acc, ...)` twice in `validation_step` with different arguments. This is not allowed"
    )


class _Results(dict):
    """Stands for a loop's ``_ResultCollection``: the running dataloader_idx."""

    dataloader_idx = None


def test_the_check_keeps_the_first_dataloader_per_hook_and_name_of_one_collection(monkeypatch):
    from shim import check_name_without_dataloader_idx

    check_name_without_dataloader_idx(object(), "validation_step", "x")  # no trainer: nothing to check
    running = {"results": _Results()}
    monkeypatch.setattr(pl.Trainer, "_results", property(lambda self: running["results"]))
    trainer = pl.Trainer(logger=False, enable_checkpointing=False, enable_progress_bar=False)
    running["results"].dataloader_idx = 0
    check_name_without_dataloader_idx(trainer, "validation_step", "x")
    check_name_without_dataloader_idx(trainer, "validation_step", "x")
    running["results"].dataloader_idx = 1
    check_name_without_dataloader_idx(trainer, "validation_step", "y")
    check_name_without_dataloader_idx(trainer, "on_validation_batch_end", "x")  # another hook: another key
    with pytest.raises(MisconfigurationException, match=r"self.log\(x, ...\)` twice in `validation_step`"):
        check_name_without_dataloader_idx(trainer, "validation_step", "x")
    running["results"] = _Results()  # another loop's collection starts afresh
    running["results"].dataloader_idx = 1
    check_name_without_dataloader_idx(trainer, "validation_step", "x")
