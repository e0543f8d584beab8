"""The real TensorBoardLogger and WandbLogger (offline) receive the same records from self.log and put."""

from __future__ import annotations

import lightning.pytorch as pl
import pytest

from tests.pairs import modules as m


def _tensorboard_scalars(log_dir: str) -> list[tuple[str, int, float]]:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(log_dir)
    events.Reload()
    return sorted((tag, e.step, e.value) for tag in events.Tags()["scalars"] for e in events.Scalars(tag))


def _train(module_class, tmp_path, monkeypatch):
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_DIR", str(tmp_path))
    monkeypatch.setenv("WANDB_SILENT", "true")
    pl.seed_everything(0, verbose=False)
    tensorboard = pl.loggers.TensorBoardLogger(tmp_path, name="tb", version=0)
    wandb_logger = pl.loggers.WandbLogger(save_dir=str(tmp_path), offline=True, project="put-migrate-test")
    wandb_calls = []
    run = wandb_logger.experiment
    original_log = run.log

    def recording_log(data, *args, **kwargs):
        wandb_calls.append((dict(sorted(data.items())), kwargs.get("step")))
        return original_log(data, *args, **kwargs)

    monkeypatch.setattr(run, "log", recording_log)
    trainer = pl.Trainer(
        max_epochs=2, log_every_n_steps=1, logger=[tensorboard, wandb_logger], default_root_dir=tmp_path,
        enable_progress_bar=False, enable_model_summary=False,
    )
    trainer.fit(module_class())
    trainer.test(module_class())
    run.finish()
    return _tensorboard_scalars(tensorboard.log_dir), wandb_calls


def test_tensorboard_and_wandb_offline_receive_the_same_records(tmp_path, monkeypatch):
    pytest.importorskip("wandb")
    tb_log, wandb_log = _train(m.LogBasic, tmp_path / "log", monkeypatch)
    tb_put, wandb_put = _train(m.PutBasic, tmp_path / "put", monkeypatch)
    assert tb_log and wandb_log
    assert tb_put == tb_log
    assert wandb_put == wandb_log
