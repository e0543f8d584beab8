"""Every golden fixture that defines a trainable module: train its input and its expected output side by side.

The expected outputs are exactly what the codemod writes (tests/test_codemod_fixtures.py), so this proves the
codemod's rewrites train and log like the originals. A fixture may set ``TRAINER_KWARGS`` (passed to Trainer),
``CALLBACKS`` (callback classes to attach) and ``DDP = True`` (also run as 2 processes on gloo).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from shim.testing import FileModuleFactory, load_file, trainable_class_name

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def _pairs():
    for before in sorted(FIXTURES.rglob("*.in.py")):
        after = before.with_name(before.name.replace(".in.py", ".out.py"))
        if after.exists():
            yield pytest.param(before, after, id=str(before.relative_to(FIXTURES)).removesuffix(".in.py"))


def _run_settings(module, class_name):
    cls = getattr(module, class_name)
    stages = ["fit"]
    own = {n for k in cls.__mro__ if k.__module__.split(".")[0] not in ("lightning", "pytorch_lightning") for n in vars(k)}
    for stage, hooks in (("validate", {"validation_step", "val_dataloader"}), ("test", {"test_step", "test_dataloader"})):
        if hooks <= own:
            stages.append(stage)
    callbacks = getattr(module, "CALLBACKS", None)
    kwargs = {"max_epochs": 2, "log_every_n_steps": 1, **getattr(module, "TRAINER_KWARGS", {})}
    return kwargs, tuple(stages), callbacks


@pytest.mark.parametrize(("before", "after"), list(_pairs()))
def test_fixture_trains_the_same(before, after):
    original, migrated = load_file(before), load_file(after)
    name = trainable_class_name(original)
    if name is None:
        pytest.skip("defines no trainable LightningModule")
    kwargs, stages, callbacks = _run_settings(original, name)
    _, _, migrated_callbacks = _run_settings(migrated, name)
    for_original = (lambda: [c() for c in callbacks]) if callbacks else None
    for_migrated = (lambda: [c() for c in migrated_callbacks]) if migrated_callbacks else None
    _assert_pair(before, after, name, kwargs, stages, for_original, for_migrated)
    if getattr(original, "DDP", False):
        ddp = {**kwargs, "strategy": "ddp_spawn", "devices": 2, "enable_progress_bar": False}
        _assert_pair(before, after, name, ddp, stages, None, None)


def _assert_pair(before, after, name, kwargs, stages, callbacks_a, callbacks_b):
    from shim.testing import differences, record_run

    a = record_run(FileModuleFactory(str(before), name), trainer_kwargs=kwargs, stages=stages, callbacks=callbacks_a)
    b = record_run(FileModuleFactory(str(after), name), trainer_kwargs=kwargs, stages=stages, callbacks=callbacks_b)
    pairs = list(zip(a, b)) if isinstance(a, list) else [(a, b)]
    problems = [f"rank {r}: {p}" for r, (x, y) in enumerate(pairs) for p in differences(x, y)]
    assert not problems, f"{after.name} trains differently from {before.name}:\n  " + "\n  ".join(problems)
