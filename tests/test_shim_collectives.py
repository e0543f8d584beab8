"""DDP (2 CPU processes, gloo): migrated code trains the same and costs no more collectives than self.log."""

from __future__ import annotations

import functools
import json
import socket
from pathlib import Path

import pytest
import torch.multiprocessing as mp

from shim import testing
from shim.testing import differences, record_run
from tests.pairs import modules as m

DDP = {"strategy": "ddp_spawn", "devices": 2, "max_epochs": 2, "log_every_n_steps": 1, "enable_progress_bar": False}


def _counter_callbacks(out_dir):
    return [m.CollectiveCounter(out_dir)]


def _run(module_class, tmp_path, stages=("fit",)):
    out = tmp_path / module_class.__name__
    out.mkdir()
    records = record_run(module_class, trainer_kwargs=DDP, stages=stages,
                         callbacks=functools.partial(_counter_callbacks, str(out)))
    counts = [json.loads(Path(out, f"rank{r}.json").read_text()) for r in range(2)]
    return records, counts


def _assert_same(original, migrated):
    problems = [f"rank {r}: {p}" for r, (a, b) in enumerate(zip(original, migrated)) for p in differences(a, b)]
    assert not problems, "\n".join(problems)


def test_sync_dist_on_and_off_same_training_same_collectives(tmp_path):
    lightning, lightning_counts = _run(m.LogDDP, tmp_path, stages=("fit", "validate"))
    migrated, migrated_counts = _run(m.PutDDP, tmp_path, stages=("fit", "validate"))
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
    lightning, lightning_counts = _run(m.LogTwoSynced, tmp_path)
    packed, packed_counts = _run(m.PutTwoSyncedPacked, tmp_path)
    _assert_same(lightning, packed)
    for rank in range(2):
        assert set(lightning_counts[rank]["per_step"]) == {4}  # barrier + all_reduce per synced value
        assert set(packed_counts[rank]["per_step"]) == {2}  # one barrier + one all_reduce for both


def test_first_epoch_after_spawn_same_values(tmp_path):
    """The module reaches the ranks pickled, its aggregator states in shared memory: one epoch (no reset yet)
    without a sanity check, so every aggregator's first updates land in the states spawn delivered."""
    kwargs = {**DDP, "max_epochs": 1, "num_sanity_val_steps": 0}
    lightning = record_run(m.LogDDPSums, trainer_kwargs=kwargs, workdir=tmp_path / "a")
    migrated = record_run(m.PutDDPSums, trainer_kwargs=kwargs, workdir=tmp_path / "b")
    _assert_same(lightning, migrated)
    assert {"s_sum", "ns_sum", "val_s_sum"} <= migrated[0].final_callback_metrics.keys()


def _held(sock, port):
    """Listen on ``port`` with ``sock`` as another process would; a port already taken is held all the same."""
    try:
        sock.bind(("127.0.0.1", port))
        sock.listen()
    except OSError:
        pass
    return sock


def test_rendezvous_port_taken_is_chosen_again(tmp_path, monkeypatch):
    """No port setting needed: the old fixed default 29517 and the first port drawn are both taken by someone
    else (as by a concurrent run, or an outgoing connection), and the run still trains on a port drawn again."""
    monkeypatch.delenv("PUT_MIGRATE_PORT", raising=False)
    kwargs = {**DDP, "max_epochs": 1, "num_sanity_val_steps": 0}
    with _held(socket.socket(), 29517), _held(socket.socket(), 0) as taken:
        draws = [taken.getsockname()[1]]
        draw = testing._free_port
        monkeypatch.setattr(testing, "_free_port", lambda: draws.pop() if draws else draw())
        records = record_run(m.LogDDPSums, trainer_kwargs=kwargs, workdir=tmp_path)
    assert not draws
    assert [bool(r.logger_calls) for r in records] == [True, True]


def test_port_the_user_chose_is_used_as_is(tmp_path, monkeypatch):
    """``PUT_MIGRATE_PORT`` is honoured, not replaced: when it is taken, the run fails and says so."""
    kwargs = {**DDP, "max_epochs": 1, "num_sanity_val_steps": 0}
    with _held(socket.socket(), 0) as taken:
        monkeypatch.setenv("PUT_MIGRATE_PORT", str(taken.getsockname()[1]))
        with pytest.raises(mp.ProcessRaisedException, match="EADDRINUSE"):
            record_run(m.LogDDPSums, trainer_kwargs=kwargs, workdir=tmp_path)


def test_free_port_is_free_and_below_the_ephemeral_range():
    low, _ = testing._ephemeral_range()
    for _ in range(20):
        port = testing._free_port()
        assert 10000 <= port < max(low, 10001)
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", port))
