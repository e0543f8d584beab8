"""Where migrated code deliberately differs from Lightning (docs/known-differences.md)."""

from __future__ import annotations

import os

import pytest

from shim.testing import record_run
from tests.pairs import modules as m


def _epoch_value(records, key):
    return [next(metrics[key] for _, metrics in r.logger_calls if key in metrics) for r in records]


def test_gloo_count_truncation_lightning_8_625_vs_exact_7_667(monkeypatch):
    kwargs = {"strategy": "ddp_spawn", "devices": 2, "max_epochs": 1, "enable_progress_bar": False,
              "use_distributed_sampler": False, "limit_val_batches": 0}
    monkeypatch.setenv("PUT_MIGRATE_PORT", str(29400 + os.getpid() % 500))
    lightning = _epoch_value(record_run(m.LogUnevenRanks, trainer_kwargs=kwargs), "s_bs")
    monkeypatch.setenv("PUT_MIGRATE_PORT", str(29950 + os.getpid() % 500))
    migrated = _epoch_value(record_run(m.PutUnevenRanks, trainer_kwargs=kwargs), "s_bs")
    assert lightning == [8.625, 8.625]  # 34.5 / trunc(4.5): Lightning's integer division on gloo
    assert migrated == [pytest.approx(69 / 9), pytest.approx(69 / 9)]  # the true weighted mean


def test_interleaved_hooks_in_an_epochs_first_batch_lightning_drops_the_first_value():
    kwargs = {"max_epochs": 1, "enable_progress_bar": False, "limit_val_batches": 0}
    lightning = record_run(m.LogInterleavedHooks, trainer_kwargs=kwargs)
    migrated = record_run(m.PutInterleavedHooks, trainer_kwargs=kwargs)
    (_, logged), = [c for c in lightning.logger_calls if "first" in c[1]]
    (_, put), = [c for c in migrated.logger_calls if "first" in c[1]]
    assert logged["second"] == pytest.approx(put["second"])  # logged after the hook switched back: kept
    assert logged["backward"] == pytest.approx(put["backward"])
    assert logged["first"] != pytest.approx(put["first"])  # Lightning dropped batch 0's value


def test_a_callback_reading_a_train_metric_in_on_train_epoch_end_sees_it_reset():
    from pathlib import Path

    from shim.testing import FileModuleFactory

    pl = pytest.importorskip("lightning.pytorch", reason="the fixture imports lightning.pytorch")

    fixture = Path(__file__).resolve().parent.parent / "fixtures" / "metrics" / "step_only_logged_late"
    seen: dict[str, list[int]] = {"original": [], "migrated": []}

    def reader(side):
        class Reader(pl.Callback):
            def on_train_epoch_end(self, trainer, pl_module):
                seen[side].append(int(pl_module.paired_mse.total))

        return lambda: [Reader()]

    kwargs = {"max_epochs": 2, "enable_progress_bar": False}
    record_run(FileModuleFactory(f"{fixture}.in.py", "Model"), trainer_kwargs=kwargs, callbacks=reader("original"))
    record_run(FileModuleFactory(f"{fixture}.out.py", "Model"), trainer_kwargs=kwargs, callbacks=reader("migrated"))
    assert seen["original"] == [8, 8]  # Lightning resets after the epoch's logger call
    assert seen["migrated"] == [0, 0]  # reset in on_train_epoch_compute, before any on_train_epoch_end
