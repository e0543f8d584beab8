"""DDP (2 CPU processes, gloo): migrated code trains the same and costs no more collectives than self.log."""

from __future__ import annotations

import functools
import json
import os
from pathlib import Path

from shim.testing import differences, record_run
from tests.pairs import modules as m

DDP = {"strategy": "ddp_spawn", "devices": 2, "max_epochs": 2, "log_every_n_steps": 1, "enable_progress_bar": False}


def _counter_callbacks(out_dir):
    return [m.CollectiveCounter(out_dir)]


def _run(module_class, tmp_path, port, stages=("fit",)):
    out = tmp_path / module_class.__name__
    out.mkdir()
    os.environ["PUT_MIGRATE_PORT"] = str(port)
    records = record_run(module_class, trainer_kwargs=DDP, stages=stages,
                         callbacks=functools.partial(_counter_callbacks, str(out)))
    counts = [json.loads(Path(out, f"rank{r}.json").read_text()) for r in range(2)]
    return records, counts


def _assert_same(original, migrated):
    problems = [f"rank {r}: {p}" for r, (a, b) in enumerate(zip(original, migrated)) for p in differences(a, b)]
    assert not problems, "\n".join(problems)


def test_sync_dist_on_and_off_same_training_same_collectives(tmp_path):
    base = 30500 + os.getpid() % 400
    lightning, lightning_counts = _run(m.LogDDP, tmp_path, base, stages=("fit", "validate"))
    migrated, migrated_counts = _run(m.PutDDP, tmp_path, base + 401, stages=("fit", "validate"))
    _assert_same(lightning, migrated)
    # One barrier + one all_reduce per synced step value (s_both), in both; no more in total.
    assert migrated_counts == lightning_counts, (lightning_counts, migrated_counts)

    # The ranks really differ where sync_dist is off and agree where it is on.
    def train_epoch_values(record):
        return next(metrics for _, metrics in record.logger_calls if "s_both_epoch" in metrics)

    rank0, rank1 = (train_epoch_values(r) for r in migrated)
    assert rank0["s_both_epoch"] == rank1["s_both_epoch"] and rank0["s_max"] == rank1["s_max"]
    assert rank0["ns_both_epoch"] != rank1["ns_both_epoch"] and rank0["rz_epoch"] != rank1["rz_epoch"]


def test_packed_step_reduction_same_values_half_the_collectives(tmp_path):
    base = 32500 + os.getpid() % 400
    lightning, lightning_counts = _run(m.LogTwoSynced, tmp_path, base)
    packed, packed_counts = _run(m.PutTwoSyncedPacked, tmp_path, base + 401)
    _assert_same(lightning, packed)
    for rank in range(2):
        assert set(lightning_counts[rank]["per_step"]) == {4}  # barrier + all_reduce per synced value
        assert set(packed_counts[rank]["per_step"]) == {2}  # one barrier + one all_reduce for both


def test_first_epoch_after_spawn_same_values(tmp_path, monkeypatch):
    """The module reaches the ranks pickled, its aggregator states in shared memory: one epoch (no reset yet)
    without a sanity check, so every aggregator's first updates land in the states spawn delivered."""
    kwargs = {**DDP, "max_epochs": 1, "num_sanity_val_steps": 0}
    base = 34500 + os.getpid() % 400
    monkeypatch.setenv("PUT_MIGRATE_PORT", str(base))
    lightning = record_run(m.LogDDPSums, trainer_kwargs=kwargs, workdir=tmp_path / "a")
    monkeypatch.setenv("PUT_MIGRATE_PORT", str(base + 401))
    migrated = record_run(m.PutDDPSums, trainer_kwargs=kwargs, workdir=tmp_path / "b")
    _assert_same(lightning, migrated)
    assert {"s_sum", "ns_sum", "val_s_sum"} <= migrated[0].final_callback_metrics.keys()
