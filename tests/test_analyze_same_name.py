"""PM223: which ``add_dataloader_idx=False`` calls may log one name from several dataloaders."""

from __future__ import annotations

import pytest

from put_migrate.rules import Severity
from put_migrate.transform import migrate_source

_MODULE = '''
import lightning.pytorch as pl


class Model(pl.LightningModule):
    def validation_step(self, batch, batch_idx{params}):
        name = f"v_{{dataloader_idx}}" if batch_idx else "v"
{body}
'''


def _manual(body: str, params: str = ", dataloader_idx=0") -> list[str]:
    result = migrate_source(_MODULE.format(params=params, body=body), "m.py")
    return [f.code for f in result.findings if f.severity is Severity.MANUAL]


@pytest.mark.parametrize(
    "body",
    [
        '        self.log("v", 1.0, add_dataloader_idx=False)',
        '        if dataloader_idx != 0:\n            self.log("v", 1.0, add_dataloader_idx=False)',
        '        if dataloader_idx == 0:\n            pass\n        else:\n            self.log("v", 1.0, add_dataloader_idx=False)',
        '        self.log_dict({"a": 1.0}, add_dataloader_idx=False)',
        '        self.log(batch, 1.0, add_dataloader_idx=False)',
    ],
)
def test_one_name_from_every_dataloader_is_left(body):
    assert _manual(body) == ["PM223"]


@pytest.mark.parametrize(
    ("body", "params"),
    [
        ('        self.log("v", 1.0, add_dataloader_idx=False)', ""),  # no dataloader_idx: one dataloader
        ('        if dataloader_idx == 1:\n            self.log("v", 1.0, add_dataloader_idx=False)', None),
        ('        if 0 == dataloader_idx:\n            self.log("v", 1.0, add_dataloader_idx=False)', None),
        ('        if batch_idx:\n            pass\n        elif dataloader_idx == 0:\n'
         '            self.log("v", 1.0, add_dataloader_idx=False)', None),
        ('        self.log(f"v_{dataloader_idx}", 1.0, add_dataloader_idx=False)', None),
        ("        self.log(name, 1.0, add_dataloader_idx=False)", None),
        ('        self.log_dict({"a": 1.0} if dataloader_idx else {"b": 1.0}, add_dataloader_idx=False)', None),
        ('        self.log("v", 1.0)', None),
    ],
)
def test_one_dataloader_per_name_is_migrated(body, params):
    assert _manual(body, ", dataloader_idx=0" if params is None else params) == []
