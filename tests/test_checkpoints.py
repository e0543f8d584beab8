"""Checkpoints: old checkpoints load strictly into migrated modules and back; resuming trains the same."""

from __future__ import annotations

import lightning.pytorch as pl
import pytest
import torch

from shim.testing import differences, record_run
from tests.pairs import modules as m

PAIRS = [(m.LogBasic, m.PutBasic), (m.LogEvalAndHooks, m.PutEvalAndHooks), (m.LogTwoLoaders, m.PutTwoLoaders)]


def _fit_and_save(module_class, path):
    pl.seed_everything(0, verbose=False)
    trainer = pl.Trainer(max_epochs=1, logger=False, enable_progress_bar=False, enable_model_summary=False,
                         default_root_dir=path.parent)
    module = module_class()
    trainer.fit(module)
    trainer.save_checkpoint(path)
    return module


@pytest.mark.parametrize(("original", "migrated"), PAIRS, ids=lambda c: c.__name__)
def test_checkpoints_load_strictly_both_ways(original, migrated, tmp_path):
    for source, target in ((original, migrated), (migrated, original)):
        path = tmp_path / f"{source.__name__}.ckpt"
        trained = _fit_and_save(source, path)
        loaded = target.load_from_checkpoint(path, strict=True)
        assert loaded.state_dict().keys() == trained.state_dict().keys()
        for key, value in trained.state_dict().items():
            assert torch.equal(loaded.state_dict()[key], value)


def test_resuming_from_an_original_checkpoint_trains_the_same(tmp_path):
    path = tmp_path / "epoch1.ckpt"
    _fit_and_save(m.LogBasic, path)
    settings = {"trainer_kwargs": {"max_epochs": 3, "log_every_n_steps": 1}, "stages": ("fit",),
                "ckpt_path": str(path)}
    a = record_run(m.LogBasic, workdir=tmp_path / "a", **settings)
    b = record_run(m.PutBasic, workdir=tmp_path / "b", **settings)
    assert differences(a, b) == []
    assert a.logger_calls and a.logger_calls[0][1]["epoch"] == 1  # it did resume
