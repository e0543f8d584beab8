"""shim.testing.differences: what a user reads when the side-by-side run finds the migrated training different."""

from __future__ import annotations

from shim.testing import RunRecord, differences


def record(losses: list[float], accs: list[float]) -> RunRecord:
    calls = [(step, {"loss": loss, "acc": acc}) for step, (loss, acc) in enumerate(zip(losses, accs))]
    snapshots = [(f"on_train_batch_end {step}", {"loss": loss}, {"acc": acc})
                 for step, (loss, acc) in enumerate(zip(losses, accs))]
    return RunRecord(logger_calls=calls, snapshots=snapshots)


def test_the_first_difference_is_described_and_later_ones_counted_with_every_name_that_differs():
    original = record([1.0, 2.0, 3.0, 4.0], [0.5, 0.5, 0.5, 0.5])
    migrated = record([1.0, 2.5, 3.0, 4.5], [0.5, 0.5, 0.5, 0.75])
    assert differences(original, migrated) == [
        "logger call #1 (step 1) differs: 'loss': original 2.0, migrated 2.5",
        "1 more of the 4 logger calls differ; names that differ in any of them: ['acc', 'loss']",
        "callback_metrics at on_train_batch_end 1 differ: 'loss': original 2.0, migrated 2.5",
        "1 more hook snapshots of callback_metrics differ; names that differ in any of them: ['loss']",
        "progress_bar_metrics at on_train_batch_end 3 differ: 'acc': original 0.5, migrated 0.75",
    ]


def test_a_different_hook_sequence_ends_the_snapshot_comparison():
    original, migrated = record([1.0, 2.0, 3.0], [0.5] * 3), record([1.0, 9.0, 9.0], [0.5] * 3)
    migrated.snapshots[1] = ("on_validation_end", *migrated.snapshots[1][1:])
    problems = differences(original, migrated)
    assert "hook sequence differs: 'on_train_batch_end 1' vs 'on_validation_end'" in problems
    assert not any(p.startswith("callback_metrics") for p in problems)  # those after it compare other hooks


def test_equal_runs_have_no_differences():
    assert differences(record([1.0, float("nan")], [0.5, 0.5]), record([1.0, float("nan")], [0.5, 0.5])) == []
