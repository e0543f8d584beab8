"""add_dataloader_idx=False in a hook with a dataloader_idx: where several dataloaders may log one name, the rewrite
checks the name at run time as Lightning does (``check_name_without_dataloader_idx``), or leaves the call (PM223)
where it has no place for the check."""

from __future__ import annotations

import pytest

from put_migrate.rules import Severity
from put_migrate.transform import migrate_source

_MODULE = '''
import lightning.pytorch as pl
import torchmetrics


class Model(pl.LightningModule):
    def __init__(self):
        super().__init__()
        self.mse = torchmetrics.MeanSquaredError()

    def validation_step(self, batch, batch_idx{params}):
        name = f"v_{{dataloader_idx}}" if batch_idx else "v"
{body}
'''


def _migrate(body: str, params: str = ", dataloader_idx=0"):
    return migrate_source(_MODULE.format(params=params, body=body), "m.py")


def _manual(body: str, params: str = ", dataloader_idx=0") -> list[str]:
    return [f.code for f in _migrate(body, params).findings if f.severity is Severity.MANUAL]


@pytest.mark.parametrize(
    "body",
    [
        '        self.log("v", 1.0, add_dataloader_idx=False)',
        '        if dataloader_idx != 0:\n            self.log("v", 1.0, add_dataloader_idx=False)',
        '        if dataloader_idx == 0:\n            pass\n        else:\n'
        '            self.log("v", 1.0, add_dataloader_idx=False)',
        '        self.log_dict({"a": 1.0}, add_dataloader_idx=False)',
        '        self.log(batch, 1.0, add_dataloader_idx=False)',
        '        self.log(f"v_{dataloader_idx}", 1.0, add_dataloader_idx=False)',
        "        self.log(name, 1.0, add_dataloader_idx=False)",
        '        self.log_dict({"a": 1.0} if dataloader_idx else {"b": 1.0}, add_dataloader_idx=False)',
        # The default dataloader_idx: a run of one dataloader (no dataloader index) passes the guard too, and
        # Lightning raises where an earlier or later run of the loop logged the name from dataloader 0.
        '        if 0 == dataloader_idx:\n            self.log("v", 1.0, add_dataloader_idx=False)',
        '        if batch_idx:\n            pass\n        elif dataloader_idx == 0:\n'
        '            self.log("v", 1.0, add_dataloader_idx=False)',
        # One name under two guards (or a guard and none): one key in Lightning, whatever the dataloader.
        '        if dataloader_idx == 1:\n            self.log("v", 1.0, add_dataloader_idx=False)\n'
        '        if dataloader_idx == 2:\n            self.log("v", 2.0, add_dataloader_idx=False)',
        '        if dataloader_idx == 1:\n            self.log("v", 1.0, add_dataloader_idx=False)\n'
        '        self.log_dict({"v": 2.0}, add_dataloader_idx=False)',
        # A rebound dataloader_idx: the guard no longer tells the dataloader.
        '        dataloader_idx = 1\n'
        '        if dataloader_idx == 1:\n            self.log("v", 1.0, add_dataloader_idx=False)',
        '        for dataloader_idx in (1,):\n            if dataloader_idx == 1:\n'
        '                self.log("v", 1.0, add_dataloader_idx=False)',
    ],
)
def test_a_name_several_dataloaders_may_log_is_checked(body):
    result = _migrate(body)
    assert _manual(body) == []
    checks = result.source.count("check_name_without_dataloader_idx(self.trainer, \"validation_step\"")
    assert checks == body.count("self.log")  # every call checks its name


@pytest.mark.parametrize(
    ("body", "params"),
    [
        ('        self.log("v", 1.0, add_dataloader_idx=False)', ""),  # no dataloader_idx: one dataloader
        ('        if dataloader_idx == 1:\n            self.log("v", 1.0, add_dataloader_idx=False)', None),
        ('        if 1 == dataloader_idx:\n            self.log("v", 1.0, add_dataloader_idx=False)', None),
        ('        if batch_idx:\n            pass\n        elif dataloader_idx == 2:\n'
         '            self.log("v", 1.0, add_dataloader_idx=False)', None),
        ('        if dataloader_idx == 0:\n            self.log("v", 1.0, add_dataloader_idx=False)',
         ", dataloader_idx"),  # no default: a run of one dataloader never gets here
        ('        if dataloader_idx == 1:\n            self.log("v", 1.0, add_dataloader_idx=False)\n'
         '        if dataloader_idx == 2:\n            self.log("w", 1.0, add_dataloader_idx=False)', None),
        ('        self.log("v", 1.0)', None),
    ],
)
def test_one_dataloader_per_name_needs_no_check(body, params):
    result = _migrate(body, ", dataloader_idx=0" if params is None else params)
    assert _manual(body, ", dataloader_idx=0" if params is None else params) == []
    assert result.changed and "check_name_without_dataloader_idx" not in result.source


@pytest.mark.parametrize(
    "body",
    [
        '        self.log("v", self.mse, add_dataloader_idx=False)',
        '        self.log("v", 1.0, add_dataloader_idx=False, sync_dist=True)',
        '        self.log_dict({"a": batch.sum()}, add_dataloader_idx=False)',
    ],
)
def test_a_check_without_a_place_is_left(body):
    assert _manual(body) == ["PM223"]
