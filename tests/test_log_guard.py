"""A ``log`` override that forwards to Lightning's under a condition (``put_migrate/analyze/log_guard.py``): which
overrides are guards, and the migrated helper reached from ``predict_step`` raises there as Lightning does."""

from __future__ import annotations

import libcst as cst
import pytest

from put_migrate.analyze.log_guard import log_guard
from put_migrate.transform import migrate_source
from shim.testing import load_file


def _guard(source: str) -> str | None:
    function = cst.parse_module(source).body[0]
    assert isinstance(function, cst.FunctionDef)
    return log_guard(function)


@pytest.mark.parametrize(
    "source, expected",
    [
        ("def log(self, *args, **kwargs):\n    '''Doc.'''\n    if not self.predicting:\n"
         "        super().log(*args, **kwargs)\n", "not self.predicting"),
        ("def log(self, *a, **k):\n    if self.trainer.training:\n        super().log(*a, **k)\n",
         "self.trainer.training"),
        ("def log(self, *a, **k):\n    if self.ok():\n        super().log(*a, **k)\n", None),
        ("def log(self, *a, **k):\n    if flag:\n        super().log(*a, **k)\n", None),
        ("def log(self, *a, **k):\n    if self.ok:\n        super().log(*a, **k)\n    print(a)\n", None),
        ("def log(self, *a, **k):\n    if self.ok:\n        super().log(*k, **a)\n", None),
        ("def log(self, name, value, **k):\n    if self.ok:\n        super().log(name, value, **k)\n", None),
        ("def log(self, *a, **k):\n    if self.ok:\n        return super().log(*a, **k)\n", None),
    ],
)
def test_only_a_condition_on_self_around_the_forwarded_call_is_a_guard(source, expected):
    assert _guard(source) == expected


_RAISING = '''
import lightning.pytorch as pl
import torch
from torch.utils.data import DataLoader, TensorDataset


class Guarded(pl.LightningModule):
    def __init__(self):
        super().__init__()
        self.layer = torch.nn.Linear(2, 1)
        self.allowed = True

    def log(self, *args, **kwargs):
        if self.allowed:
            super().log(*args, **kwargs)

    def step(self, batch):
        out = self.layer(batch[0])
        self.log("out", out.mean())
        return out

    def training_step(self, batch, batch_idx):
        return self.step(batch).mean()

    def predict_step(self, batch, batch_idx):
        return self.step(batch)
'''


def _predict(path, allowed: bool, barebones: bool = False):
    import lightning.pytorch as pl
    from torch.utils.data import DataLoader, TensorDataset
    import torch

    module = load_file(path).Guarded()
    module.allowed = allowed
    loader = DataLoader(TensorDataset(torch.randn(4, 2)), batch_size=2)
    trainer = pl.Trainer(logger=False, enable_progress_bar=False, enable_checkpointing=False,
                         enable_model_summary=False, barebones=barebones, accelerator="cpu")
    try:
        trainer.predict(module, loader)
    except Exception as error:  # noqa: BLE001 - the exception itself is compared
        return type(error), str(error)
    return None


def test_predict_step_raises_where_the_guard_holds_as_lightning_does(tmp_path):
    """Where the guard lets the call through, Lightning raises in predict_step (no result collection), unless
    the Trainer is barebones; the migrated helper does the same, and nothing where the guard does not hold."""
    original = tmp_path / "original.py"
    original.write_text(_RAISING)
    result = migrate_source(_RAISING, str(original))
    assert result.changed and "self.log(\"out\"" not in result.source
    migrated = tmp_path / "migrated.py"
    migrated.write_text(result.source)
    for allowed, barebones in ((True, False), (False, False), (True, True)):
        expected = _predict(original, allowed, barebones)
        assert _predict(migrated, allowed, barebones) == expected
    assert _predict(original, True) is not None  # the case is exercised: Lightning raises there
