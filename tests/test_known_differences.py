"""Where migrated code deliberately differs from Lightning (docs/known-differences.md)."""

from __future__ import annotations

import pytest

from shim.testing import record_run
from tests.pairs import modules as m


def _epoch_value(records, key):
    return [next(metrics[key] for _, metrics in r.logger_calls if key in metrics) for r in records]


def test_gloo_count_truncation_lightning_8_625_vs_exact_7_667():
    kwargs = {"strategy": "ddp_spawn", "devices": 2, "max_epochs": 1, "enable_progress_bar": False,
              "use_distributed_sampler": False, "limit_val_batches": 0}
    lightning = _epoch_value(record_run(m.LogUnevenRanks, trainer_kwargs=kwargs), "s_bs")
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
